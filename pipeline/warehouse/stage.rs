//! Staging and commit: a run's files are written under `_staging/<run>/` and only
//! moved into the warehouse when the whole run has succeeded.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::{Location, WarehouseError, layout};

const JOURNAL: &str = "_COMMIT.json";

/// What a commit will move, written before the first move so that a commit
/// killed half-way is finished by the next run instead of leaving a mix.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// Final relative paths, in the order they are moved (manifest last).
    files: Vec<String>,
    /// Folders whose other files are removed once the new ones are in place,
    /// so a date's partition holds exactly the files of this run.
    replace_dirs: Vec<String>,
}

#[derive(Debug)]
pub struct Stage {
    location: Location,
    prefix: String,
    files: Vec<String>,
    replace_dirs: BTreeSet<String>,
}

impl Stage {
    pub(super) fn new(location: Location, run_id: &str) -> Stage {
        Stage {
            location,
            prefix: format!("{}/{run_id}", layout::STAGING),
            files: Vec::new(),
            replace_dirs: BTreeSet::new(),
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The staging path to write for a file whose final place is `final_path`;
    /// it is moved there on commit, in the order files were added.
    pub fn file(&mut self, final_path: &str) -> String {
        if !self.files.iter().any(|f| f == final_path) {
            self.files.push(final_path.to_string());
        }
        format!("{}/{final_path}", self.prefix)
    }

    /// As `file`, for the one file of a partition: on commit the partition's
    /// other files are removed, so it holds exactly this run's file.
    pub fn partition_file(&mut self, final_path: &str) -> String {
        if let Some((dir, _)) = final_path.rsplit_once('/') {
            self.replace_dirs.insert(dir.to_string());
        }
        self.file(final_path)
    }

    /// Moves every staged file into place. Returns the final paths.
    pub async fn commit(self) -> Result<Vec<String>, WarehouseError> {
        // Every file must be staged before the journal promises to move it: a
        // missing one would later pass for "already moved".
        let staged: BTreeSet<String> =
            self.location.list_all(&self.prefix).await?.iter().map(|m| self.location.relative(&m.location)).collect();
        if let Some(missing) = self.files.iter().find(|f| !staged.contains(&format!("{}/{f}", self.prefix))) {
            return Err(WarehouseError::StagingLost { path: format!("{}/{missing}", self.prefix) });
        }
        let journal = Journal { files: self.files, replace_dirs: self.replace_dirs.into_iter().collect() };
        let text = serde_json::to_vec_pretty(&journal).expect("journal serializes");
        self.location.write(&format!("{}/{JOURNAL}", self.prefix), text).await?;
        roll_forward(&self.location, &self.prefix, &journal).await?;
        Ok(journal.files)
    }

    /// Discards everything staged; the warehouse is as it was.
    pub async fn abort(self) {
        if let Err(e) = self.location.delete_all(&self.prefix).await {
            warn!("could not remove the staging area {}: {e}", self.prefix);
        }
        self.location.remove_empty_folder(layout::STAGING);
    }
}

async fn roll_forward(location: &Location, prefix: &str, journal: &Journal) -> Result<(), WarehouseError> {
    let staged: BTreeSet<String> =
        location.list_all(prefix).await?.iter().map(|m| location.relative(&m.location)).collect();
    for file in &journal.files {
        let from = format!("{prefix}/{file}");
        // Absent means an earlier, interrupted commit already moved it.
        if staged.contains(&from) {
            location.rename(&from, file).await?;
        }
    }
    let keep: BTreeSet<&str> = journal.files.iter().map(String::as_str).collect();
    for dir in &journal.replace_dirs {
        for meta in location.list_files(dir).await? {
            let path = location.relative(&meta.location);
            if !keep.contains(path.as_str()) {
                location.delete(&path).await?;
            }
        }
    }
    // The journal goes last: until it is gone, a rerun repeats the steps above.
    for meta in location.list_all(prefix).await? {
        let path = location.relative(&meta.location);
        if !path.ends_with(JOURNAL) {
            location.delete(&path).await?;
        }
    }
    location.delete(&format!("{prefix}/{JOURNAL}")).await?;
    location.remove_empty_folder(layout::STAGING);
    Ok(())
}

/// Finishes interrupted commits and removes abandoned staging areas.
pub(super) async fn recover(location: &Location) -> Result<(), WarehouseError> {
    for run in location.list_folders(layout::STAGING).await? {
        let prefix = format!("{}/{run}", layout::STAGING);
        match location.read(&format!("{prefix}/{JOURNAL}")).await? {
            Some(bytes) => {
                let journal: Journal = serde_json::from_slice(&bytes)
                    .map_err(|source| WarehouseError::BadManifest { path: format!("{prefix}/{JOURNAL}"), source })?;
                info!("finishing the interrupted commit of run {run}");
                roll_forward(location, &prefix, &journal).await?;
            }
            None => {
                if !location.list_all(&prefix).await?.is_empty() {
                    info!("removing the staging area of unfinished run {run}");
                }
                location.delete_all(&prefix).await?;
            }
        }
    }
    location.remove_empty_folder(layout::STAGING);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::Missing;

    async fn text(location: &Location, path: &str) -> Option<String> {
        location.read(path).await.unwrap().map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    /// A commit killed after its first move is finished by the next `recover`.
    #[tokio::test]
    async fn an_interrupted_commit_is_rolled_forward() {
        let tmp = tempfile::tempdir().unwrap();
        let location = Location::open(tmp.path().to_str().unwrap(), Missing::Fail).unwrap();
        location.write("registry/t/as_of=2023-11-21/t.parquet", "old").await.unwrap();
        location.write("registry/t/as_of=2023-11-21/stray.parquet", "stray").await.unwrap();
        location.write("runs/2023-11-21/manifest.json", "old manifest").await.unwrap();

        let mut stage = Stage::new(location.clone(), "run1");
        let data = stage.partition_file("registry/t/as_of=2023-11-21/t.parquet");
        let manifest = stage.file("runs/2023-11-21/manifest.json");
        location.write(&data, "new").await.unwrap();
        location.write(&manifest, "new manifest").await.unwrap();
        // Do what commit does up to its first move, then "crash".
        let journal =
            Journal { files: stage.files.clone(), replace_dirs: stage.replace_dirs.iter().cloned().collect() };
        location.write(&format!("{}/{JOURNAL}", stage.prefix), serde_json::to_vec(&journal).unwrap()).await.unwrap();
        location.rename(&data, "registry/t/as_of=2023-11-21/t.parquet").await.unwrap();
        assert_eq!(text(&location, "runs/2023-11-21/manifest.json").await.as_deref(), Some("old manifest"));

        recover(&location).await.unwrap();
        assert_eq!(text(&location, "registry/t/as_of=2023-11-21/t.parquet").await.as_deref(), Some("new"));
        assert_eq!(text(&location, "runs/2023-11-21/manifest.json").await.as_deref(), Some("new manifest"));
        assert_eq!(text(&location, "registry/t/as_of=2023-11-21/stray.parquet").await, None);
        assert!(location.list_all(layout::STAGING).await.unwrap().is_empty());
    }

    /// A staging area removed under a running run (by another run's recovery)
    /// makes the commit fail before anything is moved.
    #[tokio::test]
    async fn a_commit_with_a_lost_staged_file_moves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let location = Location::open(tmp.path().to_str().unwrap(), Missing::Fail).unwrap();
        location.write("registry/t/as_of=2023-11-21/t.parquet", "old").await.unwrap();
        let mut stage = Stage::new(location.clone(), "run3");
        let data = stage.partition_file("registry/t/as_of=2023-11-21/t.parquet");
        let rejects = stage.partition_file("rejects/as_of=2023-11-21/t.csv");
        location.write(&data, "new").await.unwrap();
        location.write(&rejects, "new").await.unwrap();
        location.delete(&rejects).await.unwrap();
        let err = stage.commit().await.unwrap_err();
        assert!(matches!(err, WarehouseError::StagingLost { .. }), "{err}");
        assert_eq!(text(&location, "registry/t/as_of=2023-11-21/t.parquet").await.as_deref(), Some("old"));
    }

    /// A run that died before committing leaves only its staging area, which
    /// `recover` removes without touching anything else.
    #[tokio::test]
    async fn an_unfinished_run_is_discarded() {
        let tmp = tempfile::tempdir().unwrap();
        let location = Location::open(tmp.path().to_str().unwrap(), Missing::Fail).unwrap();
        location.write("registry/t/as_of=2023-11-21/t.parquet", "old").await.unwrap();
        let mut stage = Stage::new(location.clone(), "run2");
        let data = stage.partition_file("registry/t/as_of=2023-11-21/t.parquet");
        location.write(&data, "half").await.unwrap();
        recover(&location).await.unwrap();
        assert_eq!(text(&location, "registry/t/as_of=2023-11-21/t.parquet").await.as_deref(), Some("old"));
        assert!(location.list_all(layout::STAGING).await.unwrap().is_empty());
    }
}
