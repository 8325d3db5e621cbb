//! `reestr status`: recent attempts, pending snapshots, failures, next run.

use chrono::Utc;

use crate::Error;
use crate::cli::StatusArgs;
use crate::nightly::history::{Status, attempts};
use crate::nightly::{Config, inbox_dates, processed};
use crate::warehouse::{Location, Missing};

pub async fn run(args: StatusArgs) -> Result<(), Error> {
    let config = Config::load(args.config.as_deref())?;
    let warehouse = Location::open(&config.warehouse, Missing::Create)?;
    let log = attempts(&warehouse).await?;
    let done = processed(&log);
    let inbox = Location::open(&config.inbox, Missing::Fail)?;
    let pending: Vec<_> = inbox_dates(&inbox).await?.into_iter().filter(|d| !done.contains(d)).collect();

    println!("Warehouse: {}", config.warehouse);
    println!("Inbox:     {}", config.inbox);
    match config.next_run(Utc::now()) {
        Some(next) => println!("Next run:  {} ({}, \"{}\")", next.format("%Y-%m-%d %H:%M %Z"), config.timezone, config.schedule_text),
        None => println!("Next run:  never (\"{}\")", config.schedule_text),
    }
    println!("Processed: {} snapshots{}", done.len(), done.last().map(|d| format!(", newest {d}")).unwrap_or_default());
    println!("Pending:   {}", if pending.is_empty() { "none".to_string() } else { pending.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ") });
    // A date fails while its latest attempt failed (a stopped attempt is not
    // a failure; the next run picks the date up).
    let mut latest: std::collections::BTreeMap<chrono::NaiveDate, &crate::nightly::history::Attempt> = Default::default();
    for a in &log {
        latest.insert(a.as_of, a);
    }
    let failing: Vec<_> = latest
        .values()
        .filter(|a| a.status == Status::Failed && !done.contains(&a.as_of))
        .map(|a| (a.as_of, a.error.clone().unwrap_or_default()))
        .collect();
    if !failing.is_empty() {
        println!("Failing:");
        for (date, error) in &failing {
            println!("  {date}  {error}");
        }
    }
    println!("Last attempts:");
    for a in log.iter().rev().take(args.last) {
        let seconds = (a.finished - a.started).num_milliseconds() as f64 / 1000.0;
        let status = match a.status {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Interrupted => "interrupted",
        };
        println!("  {}  {:<11} {}  {:>7.1} s  {}", a.as_of, status, a.started.format("%Y-%m-%d %H:%M:%S UTC"), seconds, a.error.as_deref().unwrap_or(""));
    }
    if !failing.is_empty() {
        return Err(crate::nightly::NightlyError::SnapshotsFailed {
            failed: failing.len(),
            attempted: latest.len(),
            first: format!("{}: {}", failing[0].0, failing[0].1),
        }
        .into());
    }
    Ok(())
}
