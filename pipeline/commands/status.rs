//! `reestr status`: recent attempts, pending snapshots, failures, dates the
//! gate holds and why, next run.

use crate::Error;
use crate::cli::StatusArgs;
use crate::clock::SharedClock;
use crate::nightly::history::{RunLog, Status};
use crate::nightly::{Config, held_error, inbox_dates};
use crate::warehouse::{Location, Missing, Warehouse, WarehouseError};

pub async fn run(args: StatusArgs, clock: SharedClock) -> Result<(), Error> {
    let config = Config::load(args.config.as_deref())?;
    // Reads only: no lock, so status works while a run is going on, and a
    // warehouse not created yet has no runs (and is not created here).
    let (warehouse, log) = match Warehouse::open_existing(&config.warehouse) {
        Ok(warehouse) => {
            let log = RunLog::read(warehouse.location()).await?;
            (Some(warehouse), log)
        }
        Err(WarehouseError::NoSuchFolder { .. }) => (None, RunLog::default()),
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
    let held = log.held();
    if !held.is_empty() {
        println!("Held by the gate (not published):");
        for a in &held {
            let Some(gate) = &a.gate else { continue };
            let against = gate.compared_with.map(|d| format!(" against {d}")).unwrap_or_default();
            println!("  {}{against}; to publish it anyway:", a.as_of);
            println!("    reestr publish --warehouse {} --as-of {} --accept \"<reason>\"", config.warehouse, a.as_of);
            // Each rule once, with its worst case: 85 regions are one line.
            let mut rules: Vec<(&str, &str, usize)> = Vec::new();
            for fired in &gate.rules {
                match rules.iter_mut().find(|(rule, _, _)| *rule == fired.figures.rule) {
                    Some((_, _, more)) => *more += 1,
                    None => rules.push((&fired.figures.rule, &fired.message, 0)),
                }
            }
            for (rule, message, more) in rules {
                let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
                println!("    {rule}: {message}{more}");
            }
        }
    }
    println!("Last attempts:");
    for a in log.attempts.iter().rev().take(args.last) {
        let seconds = (a.finished - a.started).num_milliseconds() as f64 / 1000.0;
        let status = match a.status {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Interrupted => "interrupted",
            Status::Held => "HELD",
            Status::Accepted => "accepted",
        };
        let note = match (&a.accepted, &a.gate, &a.error) {
            (Some(by), _, _) => format!("accepted by {}@{}: {}", by.user, by.host, by.reason),
            (None, Some(gate), None) => format!("gate: {}", gate.summary),
            (None, _, error) => error.clone().unwrap_or_default(),
        };
        println!(
            "  {}  {:<11} {}  {:>7.1} s  {}",
            a.as_of,
            status,
            a.started.format("%Y-%m-%d %H:%M:%S UTC"),
            seconds,
            note
        );
    }
    if let Some(e) = log.failure() {
        return Err(e.into());
    }
    // The newest processed date is held: the site is behind the data.
    if let (Some(warehouse), Some(newest)) = (&warehouse, held.last())
        && done.last() == Some(&newest.as_of)
    {
        let summary = newest.gate.as_ref().map(|g| g.summary.clone()).unwrap_or_default();
        return Err(held_error(warehouse, newest.as_of, summary, held.len() - 1).into());
    }
    Ok(())
}
