//! The nightly job, written once: a command opens the warehouse, takes its
//! lock and finishes what an interrupted run left (`Job::begin`); then
//! `process_snapshot` runs ingest → marts → publish with a stop check between
//! steps and writes the attempt to the run log. `reestr run`, `reestr demo`
//! and the scheduler's catch-up all call it; the single-step commands
//! (`ingest`, `compute`, `publish`) call its steps.

use chrono::NaiveDate;
use thiserror::Error;
use tracing::info;

use super::NightlyError;
use super::history::{self, Attempt, Status};
use super::lock::WarehouseLock;
use super::notify::Notifier;
use crate::clock::SharedClock;
use crate::compute::{ComputeError, ComputeRequest, ComputeSummary, DateChoices, compute};
use crate::ingest::{IngestError, IngestRequest, ingest};
use crate::publish::{PublishError, PublishRequest, PublishSummary, publish};
use crate::stop::{StopToken, Stopped};
use crate::warehouse::{Location, Manifest, Missing, Warehouse, layout};

/// A failed step of the job.
#[derive(Debug, Error)]
pub enum JobError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Compute(#[from] ComputeError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Stopped(#[from] Stopped),
}

impl JobError {
    pub fn is_user_error(&self) -> bool {
        match self {
            JobError::Ingest(e) => e.is_user_error(),
            JobError::Compute(e) => e.is_user_error(),
            JobError::Publish(e) => e.is_user_error(),
            JobError::Stopped(_) => false,
        }
    }

    /// Whether the job ended because a stop was asked for (in whichever step).
    pub fn is_stop(&self) -> bool {
        matches!(self, JobError::Stopped(_) | JobError::Ingest(IngestError::Stopped))
    }
}

/// What to publish once a snapshot's marts are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishAfter {
    /// Nothing (catching up older snapshots; benchmarks of the data work).
    Nothing,
    /// The newest computed date: rerunning an old snapshot does not take the
    /// site back in time.
    Newest,
    /// This snapshot's date.
    ThisDate,
}

/// One snapshot to process.
#[derive(Debug, Clone)]
pub struct SnapshotJob {
    /// A local folder or object-store URL holding the snapshot's files.
    pub snapshot: String,
    /// The snapshot date; the folder's name when it is a date.
    pub as_of: Option<NaiveDate>,
    pub dates: DateChoices,
    pub publish: PublishAfter,
}

/// What processing one snapshot did.
#[derive(Debug)]
pub struct Processed {
    pub manifest: Manifest,
    pub marts: ComputeSummary,
    pub published: Option<PublishSummary>,
}

/// A command's hold on one warehouse: opened once, locked, recovered, and
/// handed to every step with the command's clock and stop token.
pub struct Job {
    warehouse: Warehouse,
    clock: SharedClock,
    stop: StopToken,
    /// Told of every attempt logged (the scheduler's and `run`'s, not the demo's).
    notifier: Option<Notifier>,
    _lock: WarehouseLock,
}

impl Job {
    /// Opens the warehouse, takes its lock (renewed while held) and finishes
    /// or discards what an interrupted earlier run left in staging.
    pub async fn begin(warehouse: &str, clock: SharedClock, stop: StopToken) -> Result<Job, NightlyError> {
        let warehouse = Warehouse::open(warehouse)?;
        let lock = WarehouseLock::acquire(warehouse.location(), clock.clone()).await?;
        warehouse.recover().await?;
        Ok(Job { warehouse, clock, stop, notifier: None, _lock: lock })
    }

    /// Sends notifications of a change of state through `notifier`.
    pub fn notify_with(mut self, notifier: Option<Notifier>) -> Job {
        self.notifier = notifier;
        self
    }

    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    pub fn stop(&self) -> &StopToken {
        &self.stop
    }

    /// Ingest → marts → publish, each step only if no stop was asked for,
    /// and the attempt in the run log. The attempt is logged once the marts
    /// are committed: a publish that fails later leaves the snapshot
    /// processed, and the next catch-up publishes it.
    pub async fn process_snapshot(&self, job: &SnapshotJob) -> Result<Processed, JobError> {
        let started = self.clock.now();
        // The date the run log files the attempt under; when it cannot be
        // known, ingest says why and nothing is logged.
        let as_of = snapshot_date(&job.snapshot, job.as_of);
        info!("processing snapshot {} from {}", as_of.map_or("(date unknown)".into(), |d| d.to_string()), job.snapshot);
        if let Some(notifier) = &self.notifier {
            // Before this attempt is in it: the notifier tells what it follows.
            notifier.read_log(self.warehouse.location()).await;
        }
        let data = self.ingest_and_compute(job).await;
        if let Some(as_of) = as_of {
            let (status, error) = match &data {
                Ok(_) => (Status::Ok, None),
                Err(e) if e.is_stop() => (Status::Interrupted, Some(e.to_string())),
                Err(e) => (Status::Failed, Some(e.to_string())),
            };
            let attempt = Attempt {
                as_of,
                snapshot: job.snapshot.clone(),
                started,
                finished: self.clock.now(),
                status,
                error,
                engine_version: crate::VERSION.into(),
            };
            if let Err(e) = history::record(self.warehouse.location(), &attempt).await {
                // The run log is a record, not the data: a failure to write it
                // does not undo a committed snapshot.
                tracing::error!("cannot write the run log entry of {as_of}: {e}");
            }
            if let Some(notifier) = &self.notifier {
                notifier.attempt_logged(&attempt).await;
            }
        }
        let (manifest, marts) = data?;
        let published = match job.publish {
            PublishAfter::Nothing => None,
            PublishAfter::Newest => Some(self.publish(None).await?),
            PublishAfter::ThisDate => Some(self.publish(Some(marts.dates.d)).await?),
        };
        Ok(Processed { manifest, marts, published })
    }

    async fn ingest_and_compute(&self, job: &SnapshotJob) -> Result<(Manifest, ComputeSummary), JobError> {
        let manifest = self.ingest(&IngestRequest { snapshot: job.snapshot.clone(), as_of: job.as_of }).await?;
        let marts = self.compute(manifest.as_of, job.dates).await?;
        Ok((manifest, marts))
    }

    /// Loads one snapshot into the warehouse.
    pub async fn ingest(&self, request: &IngestRequest) -> Result<Manifest, JobError> {
        self.stop.check()?;
        Ok(ingest(&self.warehouse, request, self.clock.as_ref(), &self.stop).await?)
    }

    /// Computes and commits the marts of one date.
    pub async fn compute(&self, as_of: NaiveDate, dates: DateChoices) -> Result<ComputeSummary, JobError> {
        self.stop.check()?;
        Ok(compute(&self.warehouse, &ComputeRequest { as_of, dates }, self.clock.as_ref()).await?)
    }

    /// Publishes the marts of `as_of` (the newest computed date when `None`).
    pub async fn publish(&self, as_of: Option<NaiveDate>) -> Result<PublishSummary, JobError> {
        self.stop.check()?;
        Ok(publish(&self.warehouse, &PublishRequest { as_of }, self.clock.as_ref()).await?)
    }
}

impl Drop for Job {
    /// A warehouse folder this command created and left holding no data (its
    /// first run failed before writing, or there was nothing to process) is
    /// removed: such a command leaves no folder behind.
    fn drop(&mut self) {
        let Some(root) = self.warehouse.location().created_folder() else { return };
        if holds_no_data(root) {
            match std::fs::remove_dir_all(root) {
                Ok(()) => info!("removed {}: this command created it and loaded nothing", root.display()),
                Err(e) => tracing::warn!("cannot remove the empty warehouse {}: {e}", root.display()),
            }
        }
    }
}

/// Whether a warehouse folder holds only the lock and empty folders (a run
/// log of a failed attempt is something: `reestr status` reports it).
fn holds_no_data(root: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(root) else { return false };
    entries.into_iter().all(|entry| {
        let Ok(entry) = entry else { return false };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match name.as_ref() {
            layout::LOCK_FILE => true,
            _ => is_empty_tree(&entry.path()),
        }
    })
}

fn is_empty_tree(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .into_iter()
            .all(|e| e.is_ok_and(|e| e.file_type().is_ok_and(|t| t.is_dir()) && is_empty_tree(&e.path())))
    })
}

/// The date ingest will file the snapshot under, if it can be known (ingest
/// itself says why when it cannot, and warns of a flag that differs).
fn snapshot_date(snapshot: &str, flag: Option<NaiveDate>) -> Option<NaiveDate> {
    crate::ingest::snapshot_date(&Location::open(snapshot, Missing::Fail).ok()?, flag)
}
