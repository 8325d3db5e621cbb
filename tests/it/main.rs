//! reestr's integration tests, in one binary: each module links the whole
//! engine (DataFusion included), so one binary instead of one per file saves
//! minutes of linking on every CI run.

mod common;

mod cli;
mod layers;
mod generate_roundtrip;
mod ingest_counts;
mod ingest_formats;
mod ingest_rejects;
mod ingest_safety;
mod marts_national;
mod marts_regions;
mod reference;
mod marts_quality;
mod marts_profcards;
mod marts_files;
mod decree_calibration;
mod site;
mod exports;
mod briefing;
mod nightly;
mod s3;
