//! The run log: one small JSON object per attempt at a snapshot,
//! `runs/log/<started>-<D>.json` (separate objects, so it works the same on
//! local disk and on object stores, which cannot append). The catch-up and
//! `status` read it back: which dates are processed, pending, failing or
//! held by the gate, and who accepted a held date.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::NightlyError;
use super::gate::Verdict;
use crate::warehouse::{Location, layout};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Ingested, computed and passed by the gate (or the gate was off).
    Ok,
    Failed,
    Interrupted,
    /// Ingested and computed, but held by the gate: not published.
    Held,
    /// A held date published on purpose (`reestr publish --accept`); not an
    /// attempt at the snapshot, a record of the decision.
    Accepted,
}

impl Status {
    /// Whether the attempt ended with the date's marts computed and judged.
    fn is_verdict(self) -> bool {
        matches!(self, Status::Ok | Status::Held | Status::Accepted)
    }
}

/// Who published a held date, and why (the reason is the operator's own
/// text: shown escaped, never interpreted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub reason: String,
    pub user: String,
    pub host: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub as_of: NaiveDate,
    pub snapshot: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub status: Status,
    /// The error as the user saw it (never personal data: errors name files,
    /// lines and columns, not values of personal columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub engine_version: String,
    /// The gate's verdict, once the marts were computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<Verdict>,
    /// For `Accepted`: who accepted the held date and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Acceptance>,
}

pub async fn record(warehouse: &Location, attempt: &Attempt) -> Result<(), NightlyError> {
    let name = layout::run_log_file(attempt.started, attempt.as_of);
    let body = serde_json::to_vec_pretty(attempt).map_err(|e| NightlyError::RunLog(e.to_string()))?;
    warehouse.write(&name, body).await?;
    Ok(())
}

/// Every attempt, oldest first. An entry that cannot be read (written by a
/// newer engine, or damaged) is left out.
pub async fn attempts(warehouse: &Location) -> Result<Vec<Attempt>, NightlyError> {
    let mut all = Vec::new();
    for meta in warehouse.list_files(layout::RUN_LOG_DIR).await? {
        let relative = warehouse.relative(&meta.location);
        if let Some(bytes) = warehouse.read(&relative).await?
            && let Ok(a) = serde_json::from_slice::<Attempt>(&bytes)
        {
            all.push(a);
        }
    }
    all.sort_by_key(|a| a.started);
    Ok(all)
}

/// What the run log says of the snapshot dates, read once.
#[derive(Debug, Clone, Default)]
pub struct RunLog {
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
}

impl RunLog {
    pub async fn read(warehouse: &Location) -> Result<RunLog, NightlyError> {
        Ok(RunLog { attempts: attempts(warehouse).await? })
    }

    /// Dates with an attempt that succeeded, oldest first: a held date is
    /// processed too (the catch-up does not retry it every night).
    pub fn processed(&self) -> Vec<NaiveDate> {
        let mut ok: Vec<NaiveDate> = self.attempts.iter().filter(|a| a.status.is_verdict()).map(|a| a.as_of).collect();
        ok.sort();
        ok.dedup();
        ok
    }

    /// The dates of `available` (an inbox's) not processed yet, in order.
    pub fn pending(&self, available: &[NaiveDate]) -> Vec<NaiveDate> {
        let done = self.processed();
        available.iter().copied().filter(|d| !done.contains(d)).collect()
    }

    /// The latest attempt of each date, by date.
    pub fn latest(&self) -> BTreeMap<NaiveDate, &Attempt> {
        self.attempts.iter().map(|a| (a.as_of, a)).collect()
    }

    /// Each date's standing with the gate: its latest attempt that ended
    /// ok, held or accepted (a later failed rerun does not change it).
    pub fn standing(&self) -> BTreeMap<NaiveDate, &Attempt> {
        self.attempts.iter().filter(|a| a.status.is_verdict()).map(|a| (a.as_of, a)).collect()
    }

    /// Dates the gate holds now (held and not accepted since), oldest first.
    pub fn held(&self) -> Vec<&Attempt> {
        self.standing().into_values().filter(|a| a.status == Status::Held).collect()
    }

    pub fn is_held(&self, date: NaiveDate) -> bool {
        self.standing().get(&date).is_some_and(|a| a.status == Status::Held)
    }

    /// Whether `date`'s marts may be published and compared with: its latest
    /// attempt passed the gate or was accepted, or the run log has none (the
    /// marts were computed by hand, or before the gate). Not a held date,
    /// nor one whose last attempt failed or was stopped after its marts may
    /// have been rewritten and before the gate judged them.
    pub fn is_good(&self, date: NaiveDate) -> bool {
        self.latest().get(&date).is_none_or(|a| matches!(a.status, Status::Ok | Status::Accepted))
    }

    /// The acceptance of `date`, when it stands: a held date published on
    /// purpose (the record, with its time).
    pub fn acceptance(&self, date: NaiveDate) -> Option<&Attempt> {
        self.standing().get(&date).copied().filter(|a| a.status == Status::Accepted && a.accepted.is_some())
    }

    /// Dates failing now: the latest attempt failed and none succeeded. A
    /// stopped attempt is not a failure (the next run picks the date up).
    pub fn failing(&self) -> Vec<&Attempt> {
        let done = self.processed();
        self.latest().into_values().filter(|a| a.status == Status::Failed && !done.contains(&a.as_of)).collect()
    }

    /// An error when any date is failing, for a command's exit code.
    pub fn failure(&self) -> Option<NightlyError> {
        let failing = self.failing();
        let first = failing.first()?;
        Some(NightlyError::SnapshotsFailed {
            failed: failing.len(),
            attempted: self.latest().len(),
            first: format!("{}: {}", first.as_of, first.error.as_deref().unwrap_or_default()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn attempt(day: u32, minute: u32, status: Status) -> Attempt {
        Attempt {
            as_of: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            snapshot: format!("inbox/2026-11-{day:02}"),
            started: Utc.with_ymd_and_hms(2026, 12, 1, 2, minute, 0).unwrap(),
            finished: Utc.with_ymd_and_hms(2026, 12, 1, 2, minute, 30).unwrap(),
            status,
            error: (status == Status::Failed).then(|| format!("bad file on day {day}")),
            engine_version: "test".into(),
            gate: None,
            accepted: None,
        }
    }

    #[test]
    fn processed_pending_and_failing_dates() {
        let log = RunLog {
            attempts: vec![
                attempt(1, 0, Status::Failed),
                attempt(1, 5, Status::Ok), // fixed later: processed, not failing
                attempt(2, 1, Status::Ok),
                attempt(2, 6, Status::Failed), // a rerun failed: still processed
                attempt(3, 2, Status::Failed),
                attempt(4, 3, Status::Interrupted), // stopped: pending, not failing
            ],
        };
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(log.processed(), [day(1), day(2)]);
        assert_eq!(log.pending(&[day(1), day(2), day(3), day(4), day(5)]), [day(3), day(4), day(5)]);
        let failing: Vec<NaiveDate> = log.failing().iter().map(|a| a.as_of).collect();
        assert_eq!(failing, [day(3)]);
        let error = log.failure().expect("a date is failing").to_string();
        assert!(error.starts_with("1 of 4 snapshots failed (first: 2026-11-03: bad file on day 3)"), "{error}");
        assert!(RunLog::default().failure().is_none());
    }

    #[test]
    fn a_held_date_is_processed_but_held_until_accepted() {
        let mut log = RunLog {
            attempts: vec![
                attempt(1, 0, Status::Ok),
                attempt(2, 1, Status::Held),
                attempt(3, 2, Status::Held),
                attempt(3, 3, Status::Failed), // a failed rerun leaves the hold standing
            ],
        };
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(log.processed(), [day(1), day(2), day(3)], "held dates are not retried");
        assert!(log.failing().is_empty());
        assert_eq!(log.held().iter().map(|a| a.as_of).collect::<Vec<_>>(), [day(2), day(3)]);
        let mut accepted = attempt(2, 4, Status::Accepted);
        accepted.accepted = Some(Acceptance { reason: "merger".into(), user: "ops".into(), host: "node1".into() });
        log.attempts.push(accepted);
        assert!(!log.is_held(day(2)) && log.is_held(day(3)));
        assert_eq!(log.acceptance(day(2)).and_then(|a| a.accepted.as_ref()).map(|a| a.reason.as_str()), Some("merger"));
        assert!(log.is_good(day(1)) && log.is_good(day(2)) && !log.is_good(day(3)));
        assert!(log.is_good(day(9)), "marts computed by hand, never in the log");
        // Rerun and held again: the new verdict stands, the old acceptance does not.
        log.attempts.push(attempt(2, 5, Status::Held));
        assert!(log.is_held(day(2)) && log.acceptance(day(2)).is_none() && !log.is_good(day(2)));
        // A rerun that failed after its marts may have changed: not good.
        log.attempts.push(attempt(1, 6, Status::Failed));
        assert!(!log.is_good(day(1)) && !log.is_held(day(1)));
    }
}
