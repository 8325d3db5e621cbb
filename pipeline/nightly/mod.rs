//! Unattended operation: the scheduler's catch-up of every new snapshot in
//! the inbox, oldest first, then the newest published; the warehouse lock; the
//! run log; pruning of old registry partitions; stopping at safe points.

pub mod config;
pub mod history;
pub mod lock;
pub mod stop;

use chrono::{Duration, NaiveDate, Utc};
use thiserror::Error;
use tracing::{error, info, warn};

use crate::compute::{ComputeRequest, compute, snapshot_dates};
use crate::contract::Contract;
use crate::contract::values::parse_iso_date;
use crate::ingest::{IngestRequest, ingest};
use crate::publish::{PublishRequest, PublishSummary, publish};
use crate::warehouse::{Location, Missing, Warehouse, WarehouseError, layout};
pub use config::Config;
use history::{Attempt, Status};
pub use lock::WarehouseLock;

#[derive(Debug, Error)]
pub enum NightlyError {
    #[error("configuration{}: {detail}", file.as_ref().map(|f| format!(" {f}")).unwrap_or_default())]
    Config { file: Option<String>, detail: String },
    #[error("the warehouse {warehouse} is in use by {holder}; another run is working on it — wait for it to finish (a killed run's lock is taken over automatically)")]
    Busy { warehouse: String, holder: String },
    #[error("cannot lock the warehouse: {0}")]
    Lock(String),
    #[error("stopped on request at a safe point; published outputs are whole; run again to finish")]
    Interrupted,
    #[error("{failed} of {attempted} snapshots failed (first: {first}); see `reestr status` and the run log under runs/log/")]
    SnapshotsFailed { failed: usize, attempted: usize, first: String },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

impl NightlyError {
    pub fn is_user_error(&self) -> bool {
        matches!(self, NightlyError::Config { .. } | NightlyError::Busy { .. } | NightlyError::SnapshotsFailed { .. })
    }
}

/// What one catch-up did.
#[derive(Debug, Default)]
pub struct CatchUp {
    pub processed: Vec<NaiveDate>,
    pub failed: Vec<(NaiveDate, String)>,
    pub published: Option<PublishSummary>,
    pub pruned: Vec<NaiveDate>,
}

/// Snapshot dates in the inbox (folders named `YYYY-MM-DD`), oldest first.
pub async fn inbox_dates(inbox: &Location) -> Result<Vec<NaiveDate>, NightlyError> {
    let mut dates: Vec<NaiveDate> = inbox.list_folders("").await?.iter().filter_map(|f| parse_iso_date(f)).collect();
    dates.sort();
    Ok(dates)
}

/// Dates whose latest attempt succeeded.
pub fn processed(attempts: &[Attempt]) -> Vec<NaiveDate> {
    let mut ok: Vec<NaiveDate> = attempts.iter().filter(|a| a.status == Status::Ok).map(|a| a.as_of).collect();
    ok.sort();
    ok.dedup();
    ok
}

/// Processes every snapshot of the inbox not yet processed, oldest first,
/// then publishes the newest processed one. A failed snapshot is logged and
/// does not stop the later ones; the result is an error if any failed.
pub async fn catch_up(config: &Config) -> Result<CatchUp, crate::Error> {
    let warehouse = Warehouse::open(&config.warehouse).await?;
    let _lock = WarehouseLock::acquire(warehouse.location()).await?;
    let inbox = Location::open(&config.inbox, Missing::Fail)?;
    let done = processed(&history::attempts(warehouse.location()).await?);
    let pending: Vec<NaiveDate> = inbox_dates(&inbox).await?.into_iter().filter(|d| !done.contains(d)).collect();
    info!("catch-up: {} snapshots pending{}", pending.len(), if pending.is_empty() { String::new() } else { format!(" ({} … {})", pending[0], pending[pending.len() - 1]) });

    let mut outcome = CatchUp::default();
    for date in &pending {
        if stop::requested() {
            return Err(NightlyError::Interrupted.into());
        }
        let snapshot = format!("{}/{date}", config.inbox.trim_end_matches('/'));
        let started = Utc::now();
        let result = process(&snapshot, &config.warehouse, *date).await;
        let (status, error) = match &result {
            Ok(()) => (Status::Ok, None),
            Err(e) if stop::requested() => (Status::Interrupted, Some(e.to_string())),
            Err(e) => (Status::Failed, Some(e.to_string())),
        };
        history::record(
            warehouse.location(),
            &Attempt { as_of: *date, snapshot, started, finished: Utc::now(), status, error: error.clone(), engine_version: crate::VERSION.into() },
        )
        .await?;
        match status {
            Status::Ok => outcome.processed.push(*date),
            Status::Interrupted => return Err(NightlyError::Interrupted.into()),
            Status::Failed => {
                let e = error.unwrap_or_default();
                error!("snapshot {date} failed: {e}");
                outcome.failed.push((*date, e));
            }
        }
    }

    // The newest computed date (a manual `run` counts too) is published
    // whenever the site shows another: also after a publish that failed or
    // was stopped last time.
    let newest = crate::publish::marts::mart_dates(&warehouse, "national").await.map_err(crate::Error::from)?.last().copied();
    if let Some(newest) = newest
        && crate::publish::published_date(&warehouse).await != Some(newest)
    {
        if stop::requested() {
            return Err(NightlyError::Interrupted.into());
        }
        outcome.published = Some(publish(&PublishRequest { warehouse: config.warehouse.clone(), as_of: Some(newest) }).await?);
    }
    if let Some(newest) = newest {
        outcome.pruned = prune(&warehouse, newest, config.keep_days).await?;
    }
    if let Some((date, e)) = outcome.failed.first() {
        return Err(NightlyError::SnapshotsFailed { failed: outcome.failed.len(), attempted: pending.len(), first: format!("{date}: {e}") }.into());
    }
    Ok(outcome)
}

/// The nightly job for one snapshot: ingest, then the marts.
async fn process(snapshot: &str, warehouse: &str, date: NaiveDate) -> Result<(), crate::Error> {
    info!("processing snapshot {date} from {snapshot}");
    ingest(&IngestRequest { snapshot: snapshot.to_string(), warehouse: warehouse.to_string(), as_of: Some(date) }).await?;
    if stop::requested() {
        return Err(NightlyError::Interrupted.into());
    }
    compute(&ComputeRequest { warehouse: warehouse.to_string(), as_of: date, period: None, baseline: None, compare_to: None }).await?;
    Ok(())
}

/// Removes registry and rejects partitions older than `keep_days` before
/// `newest`. Marts, manifests and the run log stay: history is kept.
pub async fn prune(warehouse: &Warehouse, newest: NaiveDate, keep_days: u32) -> Result<Vec<NaiveDate>, crate::Error> {
    let Some(cutoff) = newest.checked_sub_signed(Duration::days(i64::from(keep_days))) else { return Ok(Vec::new()) };
    let old: Vec<NaiveDate> = snapshot_dates(warehouse).await?.into_iter().filter(|d| *d < cutoff).collect();
    for date in &old {
        for table in Contract::embedded().tables() {
            let dir = layout::registry_dir(&table.name, *date);
            warehouse.location().delete_all(&dir).await?;
            warehouse.location().remove_empty_folder(&dir);
        }
        let rejects = layout::rejects_dir(*date);
        warehouse.location().delete_all(&rejects).await?;
        warehouse.location().remove_empty_folder(&rejects);
        info!("pruned the registry partitions of {date} (older than {keep_days} days); its marts stay");
    }
    Ok(old)
}

/// Fires on the schedule until stopped; each firing catches up. Failures are
/// logged (and in the run log) and the scheduler goes on.
pub async fn run_forever(config: &Config) -> Result<(), crate::Error> {
    loop {
        let Some(next) = config.next_run(Utc::now()) else {
            return Err(NightlyError::Config { file: None, detail: format!("schedule \"{}\" never fires", config.schedule_text) }.into());
        };
        info!("next run at {} ({})", next.format("%Y-%m-%d %H:%M %Z"), config.timezone);
        while Utc::now() < next.with_timezone(&Utc) {
            if stop::requested() {
                return Err(NightlyError::Interrupted.into());
            }
            let left = (next.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(left.min(std::time::Duration::from_secs(1))).await;
        }
        match catch_up(config).await {
            Ok(c) => info!("run finished: {} processed, {} published", c.processed.len(), c.published.map_or(0, |_| 1)),
            Err(crate::Error::Nightly(NightlyError::Interrupted)) => return Err(NightlyError::Interrupted.into()),
            Err(e) => warn!("run failed: {e}"),
        }
    }
}
