//! The run manifest, `runs/<D>/manifest.json`: what a run read, loaded,
//! rejected and wrote. Later stages (compute, publish) add their own sections.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub engine: String,
    pub engine_version: String,
    pub as_of: NaiveDate,
    pub snapshot: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub files: Vec<SourceFile>,
    pub tables: BTreeMap<String, TableCounts>,
    /// Warehouse paths this run wrote.
    pub outputs: Vec<String>,
    /// The mart queries compute ran, with their durations.
    #[serde(default)]
    pub queries: Vec<QueryRun>,
}

impl Manifest {
    /// One checksum for the whole snapshot: SHA-256 over its files' names and
    /// SHA-256s in name order, so it changes when any file does. Shown on
    /// every published page.
    pub fn snapshot_checksum(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut files: Vec<&SourceFile> = self.files.iter().collect();
        files.sort_by(|a, b| a.file.cmp(&b.file));
        let mut hasher = Sha256::new();
        for f in files {
            hasher.update(format!("{}  {}\n", f.sha256, f.file));
        }
        hex::encode(hasher.finalize())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueryRun {
    /// The query file under `queries/`, without `.sql`: `views/org_members`, `marts/national`.
    pub name: String,
    pub duration_ms: u64,
    /// Rows of a mart; none for a building block (a view or an in-memory table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceFile {
    pub table: String,
    pub file: String,
    pub format: String,
    /// `utf-8`, `utf-8 (BOM)` or `windows-1251` for CSV.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub separator: Option<String>,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableCounts {
    pub source: Option<String>,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    /// Names of source columns not in the contract; their values are never read.
    pub dropped_columns: Vec<String>,
    pub rejects_by_reason: BTreeMap<String, u64>,
}
