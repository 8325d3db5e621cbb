//! Unattended operation and the job every command runs: `job` sequences one
//! snapshot (ingest → marts → gate → publish); `gate` holds a suspicious
//! date back; the scheduler's catch-up processes every new snapshot of the
//! inbox, oldest first, then publishes the newest the gate did not hold;
//! `lock` keeps to one run per warehouse; `history` is the run log; pruning
//! drops old registry partitions; `notify` tells someone when a night's
//! state changes.

pub mod config;
pub mod gate;
pub mod history;
pub mod job;
pub mod lock;
pub mod notify;

use chrono::{Duration, NaiveDate};
use thiserror::Error;
use tracing::{error, info, warn};

use crate::clock::SharedClock;
pub use crate::compute::DateChoices;
use crate::compute::{ComputeError, snapshot_dates};
use crate::contract::Contract;
use crate::contract::values::parse_iso_date;
use crate::publish::{PublishError, PublishSummary};
use crate::stop::{StopToken, Stopped};
use crate::warehouse::{Location, Missing, Warehouse, WarehouseError, layout};
pub use config::Config;
pub use gate::{GateConfig, Outcome, Verdict};
use history::RunLog;
pub use job::{Job, JobError, Processed, PublishAfter, SnapshotJob, held_error};
pub use lock::WarehouseLock;
pub use notify::{Notifier, NotifySettings};

#[derive(Debug, Error)]
pub enum NightlyError {
    #[error("configuration{}: {detail}", file.as_ref().map(|f| format!(" {f}")).unwrap_or_default())]
    Config { file: Option<String>, detail: String },
    #[error("the warehouse {warehouse} is in use by {holder}; wait for that run to finish. {hint}")]
    Busy { warehouse: String, holder: String, hint: String },
    #[error("cannot lock the warehouse: {0}")]
    Lock(String),
    #[error("cannot write the run log: {0}")]
    RunLog(String),
    #[error(
        "{failed} of {attempted} snapshots failed (first: {first}); see `reestr status` and the run log under runs/log/"
    )]
    SnapshotsFailed { failed: usize, attempted: usize, first: String },
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

impl NightlyError {
    pub fn is_user_error(&self) -> bool {
        match self {
            NightlyError::Config { .. } | NightlyError::Busy { .. } | NightlyError::SnapshotsFailed { .. } => true,
            NightlyError::Lock(_) | NightlyError::RunLog(_) => false,
            NightlyError::Job(e) => e.is_user_error(),
            NightlyError::Warehouse(e) => e.is_user_error(),
        }
    }

    /// Whether the command ended because a stop was asked for.
    pub fn is_stop(&self) -> bool {
        matches!(self, NightlyError::Job(e) if e.is_stop())
    }

    /// Whether the command ended with a date held by the gate.
    pub fn is_held(&self) -> bool {
        matches!(self, NightlyError::Job(e) if e.is_held())
    }
}

impl From<Stopped> for NightlyError {
    fn from(stopped: Stopped) -> NightlyError {
        NightlyError::Job(JobError::Stopped(stopped))
    }
}

impl From<PublishError> for NightlyError {
    fn from(e: PublishError) -> NightlyError {
        NightlyError::Job(JobError::Publish(e))
    }
}

impl From<ComputeError> for NightlyError {
    fn from(e: ComputeError) -> NightlyError {
        NightlyError::Job(JobError::Compute(e))
    }
}

/// What one catch-up did.
#[derive(Debug, Default)]
pub struct CatchUp {
    /// Processed and passed by the gate.
    pub processed: Vec<NaiveDate>,
    /// Processed and held by the gate, with the verdict's summary.
    pub held: Vec<(NaiveDate, String)>,
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

/// Processes every snapshot of the inbox not yet processed, oldest first,
/// then publishes the newest one the gate did not hold. A failed or held
/// snapshot is logged and does not stop the later ones; the result is an
/// error if any failed or was held (held: `JobError::Held`, exit code 3).
pub async fn catch_up(config: &Config, clock: SharedClock, stop: StopToken) -> Result<CatchUp, NightlyError> {
    let job = Job::begin(&config.warehouse, clock, stop)
        .await?
        .with_gate(config.gate)
        .without_bundles(!config.bundles)
        .notify_with(Notifier::new(config.notify.clone(), &config.warehouse));
    let inbox = Location::open(&config.inbox, Missing::Fail)?;
    let log = RunLog::read(job.warehouse().location()).await?;
    let pending = log.pending(&inbox_dates(&inbox).await?);
    info!(
        "catch-up: {} snapshots pending{}",
        pending.len(),
        match (pending.first(), pending.last()) {
            (Some(first), Some(last)) => format!(" ({first} … {last})"),
            _ => String::new(),
        }
    );

    let mut outcome = CatchUp::default();
    for date in &pending {
        job.stop().check()?;
        let snapshot = SnapshotJob {
            snapshot: format!("{}/{date}", config.inbox.trim_end_matches('/')),
            as_of: Some(*date),
            dates: DateChoices::default(),
            publish: PublishAfter::Nothing,
        };
        match job.process_snapshot(&snapshot).await {
            Ok(done) if done.gate.is_held() => outcome.held.push((*date, done.gate.summary)),
            Ok(_) => outcome.processed.push(*date),
            Err(e) if e.is_stop() => return Err(e.into()),
            Err(e) => {
                error!("snapshot {date} failed: {e}");
                outcome.failed.push((*date, e.to_string()));
            }
        }
    }

    // The newest computed date the gate does not hold (a manual `run`
    // counts too) is published whenever the site shows another: also after
    // a publish that failed or was stopped last time.
    let log = RunLog::read(job.warehouse().location()).await?;
    if let Some(good) = job.newest_publishable(&log).await?
        && crate::publish::published_date(job.warehouse()).await != Some(good)
    {
        outcome.published = Some(job.publish(Some(good)).await?);
    }
    let newest = crate::publish::marts::mart_dates(job.warehouse(), "national").await?.last().copied();
    if let Some(newest) = newest {
        outcome.pruned = prune(job.warehouse(), newest, config.keep_days).await?;
    }
    if let Some((date, e)) = outcome.failed.first() {
        return Err(NightlyError::SnapshotsFailed {
            failed: outcome.failed.len(),
            attempted: pending.len(),
            first: format!("{date}: {e}"),
        });
    }
    if let Some((date, summary)) = outcome.held.first() {
        return Err(held_error(job.warehouse(), *date, summary.clone(), outcome.held.len() - 1).into());
    }
    Ok(outcome)
}

/// Removes registry and rejects partitions older than `keep_days` before
/// `newest`. Marts, manifests and the run log stay: history is kept.
pub async fn prune(warehouse: &Warehouse, newest: NaiveDate, keep_days: u32) -> Result<Vec<NaiveDate>, NightlyError> {
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
/// logged (and in the run log) and the scheduler goes on. The clock says when
/// a firing is due, so a test can move it instead of waiting.
pub async fn run_forever(config: &Config, clock: SharedClock, stop: StopToken) -> Result<(), NightlyError> {
    loop {
        let Some(next) = config.next_run(clock.now()) else {
            return Err(NightlyError::Config {
                file: None,
                detail: format!("schedule \"{}\" never fires", config.schedule_text),
            });
        };
        info!("next run at {} ({})", next.format("%Y-%m-%d %H:%M %Z"), config.timezone);
        let due = next.to_utc();
        while clock.now() < due {
            stop.check()?;
            let left = (due - clock.now()).to_std().unwrap_or_default();
            tokio::time::sleep(left.min(std::time::Duration::from_millis(250))).await;
        }
        match catch_up(config, clock.clone(), stop.clone()).await {
            Ok(c) => info!("run finished: {} processed, {} published", c.processed.len(), c.published.map_or(0, |_| 1)),
            Err(e) if e.is_stop() => return Err(e),
            Err(e) => warn!("run failed: {e}"),
        }
    }
}
