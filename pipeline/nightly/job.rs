//! The nightly job, written once: a command opens the warehouse, takes its
//! lock and finishes what an interrupted run left (`Job::begin`); then
//! `process_snapshot` runs ingest → marts → gate → publish with a stop check
//! between steps and writes the attempt, with the gate's verdict, to the run
//! log. A date the gate holds is not published (see `gate.rs`). `reestr
//! run`, `reestr demo` and the scheduler's catch-up all call it; the
//! single-step commands (`ingest`, `compute`, `publish`) call its steps.

use chrono::NaiveDate;
use thiserror::Error;
use tracing::{info, warn};

use super::NightlyError;
use super::gate::{self, GateConfig, Verdict};
use super::history::{self, Acceptance, Attempt, RunLog, Status};
use super::lock::{WarehouseLock, host_name};
use super::notify::Notifier;
use crate::clock::SharedClock;
use crate::compute::{ComputeError, ComputeRequest, ComputeSummary, DateChoices, compute};
use crate::ingest::{IngestError, IngestRequest, ingest};
use crate::publish::{ManualRelease, PublishError, PublishRequest, PublishSummary, publish};
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
    /// A date the gate held: not published (exit code 3).
    #[error(
        "the snapshot of {as_of} is held by the gate: {summary}{}. Nothing was published from it; look at it with \
         `reestr sql --warehouse {warehouse} --as-of {as_of} \"SELECT * FROM national\"`, and if it is right publish \
         it with `reestr publish --warehouse {warehouse} --as-of {as_of} --accept \"<reason>\"`",
        match others { 0 => String::new(), n => format!(" (and {n} more held snapshots: see `reestr status`)") }
    )]
    Held { as_of: NaiveDate, summary: String, warehouse: String, others: usize },
    #[error(
        "the snapshot of {as_of} is not held by the gate, so there is nothing to accept; publish it with \
         `reestr publish --as-of {as_of}`"
    )]
    NotHeld { as_of: NaiveDate },
    #[error("cannot read or write the run log: {0}")]
    RunLog(String),
}

impl JobError {
    pub fn is_user_error(&self) -> bool {
        match self {
            JobError::Ingest(e) => e.is_user_error(),
            JobError::Compute(e) => e.is_user_error(),
            JobError::Publish(e) => e.is_user_error(),
            JobError::NotHeld { .. } => true,
            JobError::Stopped(_) | JobError::Held { .. } | JobError::RunLog(_) => false,
        }
    }

    /// Whether the job ended with a date held by the gate.
    pub fn is_held(&self) -> bool {
        matches!(self, JobError::Held { .. })
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
    /// The gate's verdict: a held date was not published.
    pub gate: Verdict,
    pub published: Option<PublishSummary>,
}

/// A command's hold on one warehouse: opened once, locked, recovered, and
/// handed to every step with the command's clock and stop token.
pub struct Job {
    warehouse: Warehouse,
    clock: SharedClock,
    stop: StopToken,
    gate: GateConfig,
    /// Told of every attempt logged (the scheduler's and `run`'s, not the demo's).
    notifier: Option<Notifier>,
    /// Publish without the bundles (`--no-bundles`, `bundles = false`).
    no_bundles: bool,
    _lock: WarehouseLock,
}

impl Job {
    /// Opens the warehouse, takes its lock (renewed while held) and finishes
    /// or discards what an interrupted earlier run left in staging.
    pub async fn begin(warehouse: &str, clock: SharedClock, stop: StopToken) -> Result<Job, NightlyError> {
        let warehouse = Warehouse::open(warehouse)?;
        let lock = WarehouseLock::acquire(warehouse.location(), clock.clone()).await?;
        warehouse.recover().await?;
        Ok(Job { warehouse, clock, stop, gate: GateConfig::default(), notifier: None, no_bundles: false, _lock: lock })
    }

    /// The gate's limits (`[gate]` of reestr.toml); the defaults otherwise.
    pub fn with_gate(mut self, gate: GateConfig) -> Job {
        self.gate = gate;
        self
    }

    /// Sends notifications of a change of state through `notifier`.
    /// Publishes without the bundles when `no` (their time and space).
    pub fn without_bundles(mut self, no: bool) -> Job {
        self.no_bundles = no;
        self
    }

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

    /// Ingest → marts → gate → publish, each step only if no stop was asked
    /// for, and the attempt in the run log. The attempt is logged once the
    /// marts are committed and judged: a publish that fails later leaves the
    /// snapshot processed, and the next catch-up publishes it. A date the
    /// gate holds is logged as held and not published; the result says so
    /// (`Processed::gate`), and the caller decides what that means for it.
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
        let data = self.ingest_compute_and_judge(job).await;
        if let Some(as_of) = as_of {
            let (status, error) = match &data {
                Ok((_, _, verdict)) if verdict.is_held() => (Status::Held, None),
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
                gate: data.as_ref().ok().map(|(_, _, verdict)| verdict.clone()),
                accepted: None,
            };
            if let Err(e) = history::record(self.warehouse.location(), &attempt).await {
                // The run log is a record, not the data: a failure to write it
                // does not undo a committed snapshot.
                tracing::error!("cannot write the run log entry of {as_of}: {e}");
                if status == Status::Held {
                    // The run log is what keeps a held date off the site.
                    tracing::error!("the hold of {as_of} is not recorded: a later publish may show it; rerun it");
                }
            }
            if let Some(notifier) = &self.notifier {
                notifier.attempt_logged(&attempt).await;
            }
        }
        let (manifest, marts, gate) = data?;
        let published = if gate.is_held() {
            warn!("gate: {} held, not published: {}", marts.dates.d, gate.summary);
            None
        } else {
            info!("gate: {} {}", marts.dates.d, gate.summary);
            match job.publish {
                PublishAfter::Nothing => None,
                PublishAfter::Newest => Some(self.publish(None).await?),
                PublishAfter::ThisDate => Some(self.publish(Some(marts.dates.d)).await?),
            }
        };
        Ok(Processed { manifest, marts, gate, published })
    }

    async fn ingest_compute_and_judge(
        &self,
        job: &SnapshotJob,
    ) -> Result<(Manifest, ComputeSummary, Verdict), JobError> {
        let manifest = self.ingest(&IngestRequest { snapshot: job.snapshot.clone(), as_of: job.as_of }).await?;
        let marts = self.compute(manifest.as_of, job.dates).await?;
        self.stop.check()?;
        let log = self.run_log().await?;
        let verdict = gate::check(&self.warehouse, &log, manifest.as_of, &self.gate).await?;
        Ok((manifest, marts, verdict))
    }

    async fn run_log(&self) -> Result<RunLog, JobError> {
        RunLog::read(self.warehouse.location()).await.map_err(|e| JobError::RunLog(e.to_string()))
    }

    /// Loads one snapshot into the warehouse.
    pub async fn ingest(&self, request: &IngestRequest) -> Result<Manifest, JobError> {
        self.stop.check()?;
        Ok(ingest(&self.warehouse, request, self.clock.as_ref(), &self.stop).await?)
    }

    /// Computes and commits the marts of one date. The quarterly marts leave
    /// out the dates the gate holds: a truncated export is not a quarter.
    pub async fn compute(&self, as_of: NaiveDate, dates: DateChoices) -> Result<ComputeSummary, JobError> {
        self.stop.check()?;
        let leave_out: Vec<NaiveDate> =
            self.run_log().await?.held().iter().map(|a| a.as_of).filter(|d| *d != as_of).collect();
        Ok(compute(&self.warehouse, &ComputeRequest { as_of, dates, leave_out }, self.clock.as_ref()).await?)
    }

    /// Publishes the marts of `as_of`; when `None`, of the newest computed
    /// date that is good (not held, not left half-done by a failed run). A held date is refused (saying how to
    /// accept it); an accepted one says so on its pages.
    pub async fn publish(&self, as_of: Option<NaiveDate>) -> Result<PublishSummary, JobError> {
        self.stop.check()?;
        let log = self.run_log().await?;
        let as_of = match as_of {
            Some(d) => d,
            None => match self.newest_publishable(&log).await? {
                Some(d) => d,
                // Every computed date is held: say which, not "nothing computed".
                None => match log.held().last() {
                    Some(held) => return Err(self.held(held.as_of, &log, 0)),
                    None => return Err(PublishError::NothingComputed.into()),
                },
            },
        };
        if log.is_held(as_of) {
            return Err(self.held(as_of, &log, 0));
        }
        let release = log.acceptance(as_of).and_then(|a| {
            let accepted = a.accepted.as_ref()?;
            Some(ManualRelease {
                reason: accepted.reason.clone(),
                user: accepted.user.clone(),
                host: accepted.host.clone(),
                at: a.started,
            })
        });
        Ok(publish(
            &self.warehouse,
            &PublishRequest { as_of: Some(as_of), release, no_bundles: self.no_bundles },
            self.clock.as_ref(),
        )
        .await?)
    }

    /// Publishes a date the gate held, on purpose: the acceptance (reason,
    /// user, host, time) goes into the run log first, so it stands even if
    /// publishing fails (the next catch-up publishes it), and onto the pages.
    pub async fn accept(&self, as_of: NaiveDate, reason: &str) -> Result<PublishSummary, JobError> {
        self.stop.check()?;
        let log = self.run_log().await?;
        let Some(held) = log.held().into_iter().find(|a| a.as_of == as_of) else {
            return Err(JobError::NotHeld { as_of });
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let accepted = Acceptance {
            reason: reason.to_string(),
            user: env("USER").or_else(|| env("LOGNAME")).unwrap_or_else(|| "unknown".into()),
            host: Some(host_name()).filter(|h| !h.is_empty()).unwrap_or_else(|| "unknown".into()),
        };
        let now = self.clock.now();
        let attempt = Attempt {
            as_of,
            snapshot: held.snapshot.clone(),
            started: now,
            finished: now,
            status: Status::Accepted,
            error: None,
            engine_version: crate::VERSION.into(),
            gate: held.gate.clone(),
            accepted: Some(accepted.clone()),
        };
        history::record(self.warehouse.location(), &attempt).await.map_err(|e| JobError::RunLog(e.to_string()))?;
        warn!(
            "{as_of} was held by the gate and is accepted by {}@{}: {}",
            accepted.user, accepted.host, accepted.reason
        );
        self.publish(Some(as_of)).await
    }

    /// The newest date with marts that may be published (`RunLog::is_good`).
    pub async fn newest_publishable(&self, log: &RunLog) -> Result<Option<NaiveDate>, JobError> {
        let computed = crate::publish::marts::mart_dates(&self.warehouse, "national").await?;
        Ok(computed.into_iter().rev().find(|d| log.is_good(*d)))
    }

    /// The error of a held date, from its standing in the run log.
    fn held(&self, as_of: NaiveDate, log: &RunLog, others: usize) -> JobError {
        let summary = log
            .held()
            .into_iter()
            .find(|a| a.as_of == as_of)
            .and_then(|a| a.gate.as_ref().map(|g| g.summary.clone()))
            .unwrap_or_else(|| "see the run log".into());
        held_error(&self.warehouse, as_of, summary, others)
    }
}

/// The error for a date the gate held (with `others` more held alongside).
pub fn held_error(warehouse: &Warehouse, as_of: NaiveDate, summary: String, others: usize) -> JobError {
    JobError::Held { as_of, summary, warehouse: warehouse.name(), others }
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
