//! One run at a time per warehouse. On local disk: an exclusive lock on
//! `<wh>/_lock` held by the operating system, so a killed run's lock goes with
//! it and the next run takes over at once. On an object store: a lease object,
//! `_lock.json`, created only if absent; one older than its expiry (a killed
//! run) is taken over.

use std::fs::File;
use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tracing::warn;

use super::NightlyError;
use crate::warehouse::Location;

const LOCK_FILE: &str = "_lock";
const LEASE_OBJECT: &str = "_lock.json";
/// A lease outlives any run; a run killed without releasing it blocks the
/// warehouse this long at most.
const LEASE: Duration = Duration::hours(2);

#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    host: String,
    since: DateTime<Utc>,
    expires: DateTime<Utc>,
}

impl Holder {
    fn me() -> Holder {
        let now = Utc::now();
        Holder {
            pid: std::process::id(),
            host: std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default(),
            since: now,
            expires: now + LEASE,
        }
    }
}

/// Held while a run works on the warehouse; released when dropped.
pub struct WarehouseLock {
    inner: Inner,
}

enum Inner {
    Local(File),
    /// The lease, and the holder written into it (released only if unchanged).
    Lease(Location, Holder),
}

impl WarehouseLock {
    pub async fn acquire(warehouse: &Location) -> Result<WarehouseLock, NightlyError> {
        match warehouse.local_root() {
            Some(root) => {
                std::fs::create_dir_all(root).map_err(|e| NightlyError::Lock(format!("{}: {e}", root.display())))?;
                let path = root.join(LOCK_FILE);
                let mut file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(|e| NightlyError::Lock(format!("{}: {e}", path.display())))?;
                match file.try_lock() {
                    Ok(()) => {
                        let _ = file.set_len(0);
                        let _ = file.write_all(serde_json::to_string(&Holder::me()).unwrap_or_default().as_bytes());
                        Ok(WarehouseLock { inner: Inner::Local(file) })
                    }
                    Err(std::fs::TryLockError::WouldBlock) => {
                        let holder = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str::<Holder>(&t).ok());
                        Err(busy(warehouse, holder))
                    }
                    Err(std::fs::TryLockError::Error(e)) => Err(NightlyError::Lock(format!("{}: {e}", path.display()))),
                }
            }
            None => lease(warehouse).await,
        }
    }
}

fn busy(warehouse: &Location, holder: Option<Holder>) -> NightlyError {
    NightlyError::Busy {
        warehouse: warehouse.to_string(),
        holder: holder.map_or_else(
            || "another reestr process".into(),
            |h| format!("reestr process {} on {} since {}", h.pid, if h.host.is_empty() { "this machine" } else { &h.host }, h.since.format("%Y-%m-%d %H:%M UTC")),
        ),
    }
}

async fn lease(warehouse: &Location) -> Result<WarehouseLock, NightlyError> {
    let store = warehouse.store();
    let path = warehouse.path(LEASE_OBJECT);
    let me = Holder::me();
    let body = || PutPayload::from(serde_json::to_vec(&me).unwrap_or_default());
    let fail = |e: object_store::Error| NightlyError::Lock(format!("{path}: {e}"));
    let create = PutOptions { mode: PutMode::Create, ..Default::default() };
    for _ in 0..3 {
        match store.put_opts(&path, body(), create.clone()).await {
            Ok(_) => return Ok(WarehouseLock { inner: Inner::Lease(warehouse.clone(), me) }),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {}
            Err(e) => return Err(fail(e)),
        }
        // Held: by whom, and until when? Only a lease that is gone is free;
        // one that cannot be read is someone's.
        let held = match store.get(&path).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(fail(e)),
        };
        let version = UpdateVersion { e_tag: held.meta.e_tag.clone(), version: held.meta.version.clone() };
        let holder = held.bytes().await.ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok());
        match holder {
            Some(h) if h.expires <= Utc::now() => {
                warn!("taking over the expired lease {path} of a run that did not finish");
                // Replaced only if it is still that lease: of two runs taking
                // it over at once, one wins.
                let update = PutOptions { mode: PutMode::Update(version), ..Default::default() };
                match store.put_opts(&path, body(), update).await {
                    Ok(_) => return Ok(WarehouseLock { inner: Inner::Lease(warehouse.clone(), me) }),
                    Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => continue,
                    Err(object_store::Error::NotImplemented { .. }) => {
                        let _ = store.delete(&path).await;
                        continue;
                    }
                    Err(e) => return Err(fail(e)),
                }
            }
            other => return Err(busy(warehouse, other)),
        }
    }
    Err(NightlyError::Lock(format!("{path}: could not take the lease")))
}

impl Drop for WarehouseLock {
    fn drop(&mut self) {
        match &self.inner {
            Inner::Local(file) => {
                let _ = file.unlock();
            }
            Inner::Lease(location, me) => {
                // Dropped outside async code: released on a thread of its own,
                // and only if the lease is still ours.
                let location = location.clone();
                let (pid, since) = (me.pid, me.since);
                let _ = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        rt.block_on(async {
                            let path = location.path(LEASE_OBJECT);
                            let Ok(r) = location.store().get(&path).await else { return };
                            let ours = r.bytes().await.ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok())
                                .is_some_and(|h| h.pid == pid && h.since == since);
                            if ours {
                                let _ = location.store().delete(&path).await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::Missing;

    #[tokio::test]
    async fn a_second_lock_is_refused_until_the_first_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let wh = Location::open(dir.path().to_str().unwrap(), Missing::Create).unwrap();
        let first = WarehouseLock::acquire(&wh).await.unwrap();
        let err = WarehouseLock::acquire(&wh).await.err().expect("refused");
        let text = err.to_string();
        assert!(text.contains(&std::process::id().to_string()) && text.contains("another run"), "{text}");
        drop(first);
        WarehouseLock::acquire(&wh).await.expect("free again");
    }
}
