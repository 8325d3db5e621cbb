//! reestr: the analytics engine of the registry of the All-Russian Education
//! Trade Union. The flow, one module per step:
//!
//! ```text
//! snapshot ─ ingest ─► warehouse/registry ─ compute ─► warehouse/marts ─ publish ─► site, exports, briefings
//! ```
//!
//! `contract` holds the input contract as data, `warehouse` the storage layout
//! and atomic commits; `nightly` the job that sequences the steps, the
//! scheduler, the lock and the run log; `commands` wires one subcommand each;
//! `error` is the one place that turns any failure into a message for a
//! person and an exit code. Imports point down that list: no step imports
//! `nightly` or `commands`. A command hands its steps a `clock::Clock` and a
//! `stop::StopToken` rather than have them read the system's.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod compute;
pub mod contract;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod logging;
pub mod nightly;
pub mod publish;
pub mod stop;
pub mod warehouse;

pub use error::Error;

/// The engine's version, written into every manifest and output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
