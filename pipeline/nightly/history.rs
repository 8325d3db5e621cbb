//! The run log: one small JSON object per attempt at a snapshot,
//! `runs/log/<started>-<D>.json` (separate objects, so it works the same on
//! local disk and on object stores, which cannot append). `status` and the
//! catch-up read it back.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::NightlyError;
use crate::warehouse::Location;

const LOG_DIR: &str = "runs/log";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    Interrupted,
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
}

pub async fn record(warehouse: &Location, attempt: &Attempt) -> Result<(), NightlyError> {
    let name = format!("{LOG_DIR}/{}-{}.json", attempt.started.format("%Y%m%dT%H%M%S%.3fZ"), attempt.as_of);
    let body = serde_json::to_vec_pretty(attempt).map_err(|e| NightlyError::Lock(e.to_string()))?;
    warehouse.write(&name, body).await?;
    Ok(())
}

/// Every attempt, oldest first.
pub async fn attempts(warehouse: &Location) -> Result<Vec<Attempt>, NightlyError> {
    let mut all = Vec::new();
    for meta in warehouse.list_files(LOG_DIR).await? {
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
