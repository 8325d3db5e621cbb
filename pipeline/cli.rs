//! Command-line definitions only: no behaviour lives here.

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::contract::values::parse_iso_date;

#[derive(Debug, Parser)]
#[command(
    name = "reestr",
    version,
    about = "Analytics engine for the registry of the All-Russian Education Trade Union"
)]
pub struct Cli {
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a registry snapshot and load it into the warehouse.
    Ingest(IngestArgs),
    /// Compute the KPI marts of a snapshot date from the warehouse.
    Compute(ComputeArgs),
    /// The nightly job: ingest a snapshot, compute its marts, publish them.
    Run(RunArgs),
    /// Render the marts of a date into the site, exports and briefing.
    Publish(PublishArgs),
    /// Run unattended: on the cron schedule, process every new snapshot of the inbox.
    Schedule(ScheduleArgs),
    /// Last runs, pending snapshots and failures.
    Status(StatusArgs),
    /// Ask the warehouse a question in SQL (registry tables and marts by name).
    Sql(SqlArgs),
    /// Break the lease of a run that died on an object-store warehouse (logged).
    Unlock(UnlockArgs),
    /// Write a synthetic registry snapshot (deterministic for a seed).
    Generate(GenerateArgs),
    /// Generate the demo snapshots and run the nightly job on each.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct ComputeArgs {
    /// Warehouse folder (or object-store URL).
    #[arg(long, value_name = "FOLDER")]
    pub warehouse: String,
    /// Snapshot date D.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub as_of: NaiveDate,
    #[command(flatten)]
    pub dates: DateOverrides,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The configuration file (settings may also come from REESTR_* variables).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Catch up now, then exit (non-zero if a snapshot failed, 3 if one was held by the gate): for cron or systemd timers.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// How many recent attempts to list.
    #[arg(long, default_value_t = 10)]
    pub last: usize,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Warehouse folder.
    #[arg(long, value_name = "FOLDER")]
    pub warehouse: String,
    /// Snapshot date D to publish; the latest computed one the gate does not hold when absent.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub as_of: Option<NaiveDate>,
    /// Publish D although the gate held it, for this reason (recorded in the
    /// run log with your user and host, and shown on the pages).
    #[arg(long, value_name = "REASON", requires = "as_of", value_parser = reason_arg)]
    pub accept: Option<String>,
    /// Leave out the bundles of each federal district and regional
    /// organization (bundles/<D>/*.zip).
    #[arg(long)]
    pub no_bundles: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: IngestArgs,
    #[command(flatten)]
    pub dates: DateOverrides,
    /// Stop after the marts: no site, exports or briefing (e.g. when catching
    /// up older snapshots, or benchmarking the data work alone).
    #[arg(long)]
    pub no_publish: bool,
    /// Publish without the bundles of each federal district and regional
    /// organization (bundles/<D>/*.zip).
    #[arg(long)]
    pub no_bundles: bool,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Warehouse folder (or object-store URL).
    #[arg(long, value_name = "FOLDER")]
    pub warehouse: String,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// Warehouse folder (or object-store URL).
    #[arg(long, value_name = "FOLDER")]
    pub warehouse: String,
    /// Only this snapshot date (otherwise every date, in the column `as_of`).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub as_of: Option<NaiveDate>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
    pub format: SqlFormat,
    /// The query, e.g. "SELECT region_code, coverage_pct FROM regions ORDER BY 2".
    pub query: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlFormat {
    /// A table for people.
    Table,
    /// CSV with a header, for scripts.
    Csv,
    /// A JSON array of objects, for scripts.
    Json,
}

/// The dates marts are computed with, when not the defaults.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct DateOverrides {
    /// Reporting period P (default: the latest quarter start on or before D).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub period: Option<NaiveDate>,
    /// Baseline B (default: the latest official report on or before D).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub baseline: Option<NaiveDate>,
    /// Comparison snapshot C (default: the latest snapshot on or before D − 1 year).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub compare_to: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Folder to write the snapshot's files into.
    #[arg(long, value_name = "FOLDER")]
    pub out: std::path::PathBuf,
    /// Snapshot date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub as_of: NaiveDate,
    /// Size relative to the union (1 = 3.1 million members).
    #[arg(long, default_value_t = 0.01)]
    pub scale: f64,
    #[arg(long, default_value_t = 2023)]
    pub seed: u64,
    /// Write an office export: windows-1251, `;`, personal-data columns, broken rows.
    #[arg(long)]
    pub messy: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo's snapshots and warehouse go.
    #[arg(long, value_name = "FOLDER", default_value = "reestr-demo")]
    pub out: std::path::PathBuf,
    /// Size relative to the union (1 = 3.1 million members).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Folder (or object-store URL) holding the snapshot's files.
    #[arg(long, value_name = "FOLDER")]
    pub snapshot: String,
    /// Warehouse folder (or object-store URL); created if missing.
    #[arg(long, value_name = "FOLDER")]
    pub warehouse: String,
    /// Snapshot date; defaults to the snapshot folder's name when it is a date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date_arg)]
    pub as_of: Option<NaiveDate>,
}

/// A reason people will read on every page: one line of words, not too long.
fn reason_arg(s: &str) -> Result<String, String> {
    let reason = s.trim();
    if reason.is_empty() {
        return Err("say why the held snapshot is right, e.g. --accept \"two regions merged\"".into());
    }
    if reason.chars().any(char::is_control) {
        return Err("the reason must be one line of text".into());
    }
    if reason.chars().count() > 500 {
        return Err("the reason is over 500 characters; keep it to a sentence".into());
    }
    Ok(reason.to_string())
}

fn date_arg(s: &str) -> Result<NaiveDate, String> {
    parse_iso_date(s).ok_or_else(|| format!("{s:?} is not a date in the form YYYY-MM-DD"))
}
