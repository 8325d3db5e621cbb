//! `reestr status`: recent attempts, pending snapshots, failures, next run.

use crate::Error;
use crate::cli::StatusArgs;
use crate::clock::SharedClock;
use crate::nightly::history::{RunLog, Status};
use crate::nightly::{Config, inbox_dates};
use crate::warehouse::{Location, Missing, Warehouse, WarehouseError};

pub async fn run(args: StatusArgs, clock: SharedClock) -> Result<(), Error> {
    let config = Config::load(args.config.as_deref())?;
    // Reads only: no lock, so status works while a run is going on, and a
    // warehouse not created yet has no runs (and is not created here).
    let log = match Warehouse::open_existing(&config.warehouse) {
        Ok(warehouse) => RunLog::read(warehouse.location()).await?,
        Err(WarehouseError::NoSuchFolder { .. }) => RunLog::default(),
        Err(e) => return Err(e.into()),
    };
    let done = log.processed();
    let inbox = Location::open(&config.inbox, Missing::Fail)?;
    let pending = log.pending(&inbox_dates(&inbox).await?);

    println!("Warehouse: {}", config.warehouse);
    println!("Inbox:     {}", config.inbox);
    match config.next_run(clock.now()) {
        Some(next) => println!(
            "Next run:  {} ({}, \"{}\")",
            next.format("%Y-%m-%d %H:%M %Z"),
            config.timezone,
            config.schedule_text
        ),
        None => println!("Next run:  never (\"{}\")", config.schedule_text),
    }
    println!("Processed: {} snapshots{}", done.len(), done.last().map(|d| format!(", newest {d}")).unwrap_or_default());
    let pending_text = pending.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
    println!("Pending:   {}", if pending.is_empty() { "none" } else { &pending_text });
    let failing = log.failing();
    if !failing.is_empty() {
        println!("Failing:");
        for a in &failing {
            println!("  {}  {}", a.as_of, a.error.as_deref().unwrap_or_default());
        }
    }
    println!("Last attempts:");
    for a in log.attempts.iter().rev().take(args.last) {
        let seconds = (a.finished - a.started).num_milliseconds() as f64 / 1000.0;
        let status = match a.status {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Interrupted => "interrupted",
        };
        println!(
            "  {}  {:<11} {}  {:>7.1} s  {}",
            a.as_of,
            status,
            a.started.format("%Y-%m-%d %H:%M:%S UTC"),
            seconds,
            a.error.as_deref().unwrap_or("")
        );
    }
    match log.failure() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
