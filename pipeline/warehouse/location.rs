//! A folder or object-store prefix, opened through `object_store`. Every file
//! reestr reads or writes goes through a `Location`, so moving a snapshot or the
//! warehouse to S3-compatible storage is a matter of the URL given.

use std::fmt;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ListResult, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};

use super::WarehouseError;

#[derive(Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    root: Path,
    /// What the user gave, for messages and the manifest (never credentials).
    display: String,
    /// The folder, when the location is on local disk (where, unlike in an
    /// object store, emptied folders stay behind).
    local_root: Option<std::path::PathBuf>,
    /// Whether opening created the local folder.
    created: bool,
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// A local folder's entries by name, each with what following it gives.
type LocalEntries = Vec<(String, std::io::Result<std::fs::Metadata>)>;

/// Whether opening a local folder that does not exist creates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Create,
    Fail,
}

impl Location {
    /// Opens a local folder or a `scheme://` URL.
    pub fn open(spec: &str, missing: Missing) -> Result<Location, WarehouseError> {
        if spec.contains("://") && !spec.starts_with("file://") {
            let url = url::Url::parse(spec)
                .map_err(|e| WarehouseError::BadLocation { location: spec.to_string(), detail: e.to_string() })?;
            // Credentials, region, endpoint: only from the standard AWS_*
            // variables, never from a file or the command line.
            let aws = std::env::vars().filter(|(k, _)| k.starts_with("AWS_"));
            let (store, root) = object_store::parse_url_opts(&url, aws)
                .map_err(|e| WarehouseError::BadLocation { location: spec.to_string(), detail: e.to_string() })?;
            return Ok(Location {
                store: Arc::from(store),
                root,
                display: spec.to_string(),
                local_root: None,
                created: false,
            });
        }
        let folder = std::path::PathBuf::from(spec.strip_prefix("file://").unwrap_or(spec));
        let created = !folder.is_dir();
        if created {
            if folder.exists() {
                return Err(WarehouseError::NotAFolder { location: spec.to_string() });
            }
            if missing == Missing::Fail {
                return Err(WarehouseError::NoSuchFolder { location: spec.to_string() });
            }
            std::fs::create_dir_all(&folder)
                .map_err(|e| WarehouseError::BadLocation { location: spec.to_string(), detail: e.to_string() })?;
        }
        let store = LocalFileSystem::new_with_prefix(&folder)
            .map_err(|e| WarehouseError::BadLocation { location: spec.to_string(), detail: e.to_string() })?;
        Ok(Location {
            store: Arc::new(store),
            root: Path::default(),
            display: spec.to_string(),
            local_root: Some(folder),
            created,
        })
    }

    /// The folder on local disk, when the location is one.
    pub fn local_root(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref()
    }

    /// The local folder, when opening it created it.
    pub fn created_folder(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref().filter(|_| self.created)
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The last segment of the location (a snapshot folder's date).
    pub fn leaf_name(&self) -> Option<String> {
        let trimmed = self.display.trim_end_matches('/');
        trimmed.rsplit(['/', '\\']).next().map(str::to_string)
    }

    /// Absolute object path of a `/`-separated path relative to this location.
    pub fn path(&self, relative: &str) -> Path {
        relative.split('/').filter(|s| !s.is_empty()).fold(self.root.clone(), |p, part| p.join(part))
    }

    /// The path relative to this location, `/`-separated.
    pub fn relative(&self, path: &Path) -> String {
        match path.prefix_match(&self.root) {
            Some(parts) => parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>().join("/"),
            None => path.to_string(),
        }
    }

    /// Files directly inside a folder (not recursing).
    pub async fn list_files(&self, relative: &str) -> Result<Vec<ObjectMeta>, WarehouseError> {
        Ok(self.listing(relative).await?.objects)
    }

    /// What is directly inside a folder, entry by entry: its files, and the
    /// entries that cannot be opened, each with why (a symlink to itself or
    /// to nothing, a device). Unlike `list_files` on a local disk, nothing
    /// below the folder is walked, so a symlink loop there is never followed
    /// and one bad entry does not hide the others.
    pub async fn list_top_level(&self, relative: &str) -> Result<TopLevel, WarehouseError> {
        let Some(entries) = self.local_entries(relative) else {
            // Object stores have no links: their listing is the answer.
            return Ok(TopLevel { files: self.list_files(relative).await?, unreadable: Vec::new() });
        };
        let mut listing = TopLevel { files: Vec::new(), unreadable: Vec::new() };
        for (name, meta) in entries.map_err(|e| self.local_error(relative, e))? {
            match meta {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) if meta.is_file() => listing.files.push(ObjectMeta {
                    location: self.path(&format!("{relative}/{name}")),
                    last_modified: meta.modified().map(Into::into).unwrap_or_default(),
                    size: meta.len(),
                    e_tag: None,
                    version: None,
                }),
                Ok(_) => listing.unreadable.push((name, "not a regular file".to_string())),
                Err(e) => {
                    let detail = match e.kind() {
                        std::io::ErrorKind::NotFound => "a symbolic link to a file that does not exist".to_string(),
                        _ if e.raw_os_error() == Some(libc::ELOOP) => {
                            "a symbolic link that leads back to itself".to_string()
                        }
                        _ => e.to_string(),
                    };
                    listing.unreadable.push((name, detail));
                }
            }
        }
        Ok(listing)
    }

    /// On a local disk (`None` elsewhere): the entries directly inside a
    /// folder, each with what following it gives — read entry by entry, so
    /// nothing below is walked and one bad link does not hide the others. A
    /// handful of entries: read in place rather than on a blocking thread.
    fn local_entries(&self, relative: &str) -> Option<std::io::Result<LocalEntries>> {
        let root = self.local_root.as_ref()?;
        let dir = relative.split('/').filter(|s| !s.is_empty()).fold(root.clone(), |p, s| p.join(s));
        let read = || {
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                // A name that is not UTF-8 is no table's or date's name.
                let Ok(name) = entry.file_name().into_string() else { continue };
                entries.push((name, std::fs::metadata(entry.path())));
            }
            Ok(entries)
        };
        Some(read())
    }

    fn local_error(&self, relative: &str, e: std::io::Error) -> WarehouseError {
        self.storage_error(relative, object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(e) })
    }

    /// Sub-folder names directly inside a folder. On a local disk, entry by
    /// entry: a symlink loop or a dangling link among them (an inbox is
    /// written by other systems) is skipped and logged, and fails nothing.
    pub async fn list_folders(&self, relative: &str) -> Result<Vec<String>, WarehouseError> {
        let entries = match self.local_entries(relative) {
            None => {
                let listing = self.listing(relative).await?;
                return Ok(listing.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect());
            }
            Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Some(entries) => entries.map_err(|e| self.local_error(relative, e))?,
        };
        let mut folders = Vec::new();
        for (name, meta) in entries {
            match meta {
                Ok(meta) if meta.is_dir() => folders.push(name),
                Ok(_) => {}
                Err(e) => tracing::warn!("{self}/{relative}: skipped {name}, which cannot be opened ({e})"),
            }
        }
        Ok(folders)
    }

    async fn listing(&self, relative: &str) -> Result<ListResult, WarehouseError> {
        let prefix = self.path(relative);
        self.store.list_with_delimiter(Some(&prefix)).await.map_err(|e| self.storage_error(relative, e))
    }

    /// Every file under a folder, recursively.
    pub async fn list_all(&self, relative: &str) -> Result<Vec<ObjectMeta>, WarehouseError> {
        let prefix = self.path(relative);
        self.store.list(Some(&prefix)).try_collect().await.map_err(|e| self.storage_error(relative, e))
    }

    pub async fn read(&self, relative: &str) -> Result<Option<bytes::Bytes>, WarehouseError> {
        match self.store.get(&self.path(relative)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| self.storage_error(relative, e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.storage_error(relative, e)),
        }
    }

    /// Writes a whole object at once; atomic on every object store.
    pub async fn write(&self, relative: &str, data: impl Into<PutPayload>) -> Result<(), WarehouseError> {
        self.store.put(&self.path(relative), data.into()).await.map_err(|e| self.storage_error(relative, e))?;
        Ok(())
    }

    /// Moves a file, replacing the target as one step (a rename on a local
    /// disk, copy-then-delete on an object store where the copy is atomic).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), WarehouseError> {
        self.store.rename(&self.path(from), &self.path(to)).await.map_err(|e| self.storage_error(from, e))
    }

    pub async fn delete(&self, relative: &str) -> Result<(), WarehouseError> {
        match self.store.delete(&self.path(relative)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.storage_error(relative, e)),
        }
    }

    pub async fn delete_all(&self, relative: &str) -> Result<(), WarehouseError> {
        for meta in self.list_all(relative).await? {
            match self.store.delete(&meta.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.storage_error(relative, e)),
            }
        }
        Ok(())
    }

    /// Removes the empty folders under and including `relative`, never a file
    /// (a no-op on object stores, which have no folders).
    pub fn remove_empty_folder(&self, relative: &str) {
        if let Some(root) = &self.local_root {
            let dir = relative.split('/').filter(|s| !s.is_empty()).fold(root.clone(), |p, s| p.join(s));
            remove_empty_dirs(&dir);
        }
    }

    pub fn storage_error(&self, relative: &str, source: object_store::Error) -> WarehouseError {
        WarehouseError::Storage { path: format!("{}/{}", self.display.trim_end_matches('/'), relative), source }
    }
}

/// The entries directly inside a folder (see `Location::list_top_level`).
#[derive(Debug, Default)]
pub struct TopLevel {
    pub files: Vec<ObjectMeta>,
    /// `(name, why)` of each entry that cannot be opened.
    pub unreadable: Vec<(String, String)>,
}

/// Bottom-up `remove_dir`, which refuses a folder that still holds anything.
fn remove_empty_dirs(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
