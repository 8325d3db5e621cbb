//! The warehouse: where everything reestr produces lives, and how it gets there.
//!
//! Every path is in `layout`.
//!
//! A run writes only under `_staging/<run>/`; `Stage::commit` then moves its files
//! into place. Every move replaces one whole file, and a journal written before
//! the first move lets the next run finish an interrupted commit. So each file
//! is always whole, a failed run changes nothing, and a run killed while
//! committing (a window of a few renames) is completed by the next run. Two
//! runs must not work on one warehouse at once: the scheduler's lock sees to it.

pub mod layout;
mod location;
mod manifest;
mod parquet_reader;
mod stage;
mod staged_file;

use chrono::NaiveDate;
use thiserror::Error;

pub use location::{Location, Missing, TopLevel};
pub use manifest::{Manifest, QueryRun, SourceFile, TableCounts};
pub use parquet_reader::{ObjectParquetReader, decode_parquet};
pub use stage::Stage;
pub use staged_file::StagedFile;

#[derive(Debug, Error)]
pub enum WarehouseError {
    #[error("cannot open {location}: {detail}")]
    BadLocation { location: String, detail: String },
    #[error("{location} is not a folder; give the path of an existing folder")]
    NotAFolder { location: String },
    #[error("{location} does not exist; give the path of an existing folder")]
    NoSuchFolder { location: String },
    #[error("storage error at {path}: {source}")]
    Storage { path: String, source: object_store::Error },
    #[error("{path} disappeared before the commit (another run on the same warehouse?); nothing was moved, run again")]
    StagingLost { path: String },
    #[error("{path} is not a valid reestr manifest: {source}")]
    BadManifest { path: String, source: serde_json::Error },
}

impl WarehouseError {
    /// A location the user named that cannot be opened is theirs to fix; a
    /// failing read or write underneath is an environment problem.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            WarehouseError::BadLocation { .. }
                | WarehouseError::NotAFolder { .. }
                | WarehouseError::NoSuchFolder { .. }
        )
    }
}

/// The warehouse location with the operations a run needs.
#[derive(Debug, Clone)]
pub struct Warehouse {
    location: Location,
}

impl Warehouse {
    /// Opens the warehouse (creating a local folder if needed). Reading is
    /// safe at once; a command that writes takes the lock first and then
    /// calls `recover`.
    pub fn open(spec: &str) -> Result<Warehouse, WarehouseError> {
        Ok(Warehouse { location: Location::open(spec, Missing::Create)? })
    }

    /// Opens a warehouse that must exist already (to read it).
    pub fn open_existing(spec: &str) -> Result<Warehouse, WarehouseError> {
        Ok(Warehouse { location: Location::open(spec, Missing::Fail)? })
    }

    /// The dates of the `as_of=<D>` partitions directly under `dir`, oldest
    /// first.
    pub async fn partition_dates(&self, dir: &str) -> Result<Vec<NaiveDate>, WarehouseError> {
        let mut dates: Vec<NaiveDate> =
            self.location.list_folders(dir).await?.iter().filter_map(|f| layout::partition_date(f)).collect();
        dates.sort();
        Ok(dates)
    }

    /// Finishes or discards what an interrupted earlier run left in staging.
    /// Only under the warehouse's lock: a running run's staging is not a
    /// leftover.
    pub async fn recover(&self) -> Result<(), WarehouseError> {
        stage::recover(&self.location).await
    }

    /// What the warehouse is called in messages and reports (the path or URL
    /// the user gave).
    pub fn name(&self) -> String {
        self.location.to_string()
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// A new staging area for one run.
    pub fn begin(&self, run_id: &str) -> Stage {
        Stage::new(self.location.clone(), run_id)
    }

    pub async fn read_manifest(&self, as_of: NaiveDate) -> Result<Option<Manifest>, WarehouseError> {
        let path = layout::manifest_file(as_of);
        match self.location.read(&path).await? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes).map(Some).map_err(|source| WarehouseError::BadManifest { path, source })
            }
        }
    }
}
