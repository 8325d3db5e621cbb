//! reestr's integration tests, in one binary: each module links the whole
//! engine (DataFusion included), so one binary instead of one per file saves
//! minutes of linking on every CI run.

mod common;

mod briefing;
mod bundles;
mod cli;
mod decree_calibration;
mod exports;
mod flows_pages;
mod fuzz_ingest;
mod gate;
mod generate_roundtrip;
mod ingest_counts;
mod ingest_encoding;
mod ingest_formats;
mod ingest_hostile_files;
mod ingest_limits;
mod ingest_rejects;
mod ingest_safety;
mod layers;
mod marts_files;
mod marts_flows;
mod marts_history;
mod marts_national;
mod marts_profcards;
mod marts_quality;
mod marts_regions;
mod monitoring;
mod nightly;
mod notify;
mod reference;
mod s3;
mod site;
