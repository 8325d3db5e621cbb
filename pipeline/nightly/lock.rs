//! One run at a time per warehouse. On local disk: an exclusive lock on
//! `<wh>/_lock` held by the operating system, so a killed run's lock goes with
//! it and the next run takes over at once. On an object store: a lease object,
//! `_lock.json`, created only if absent and renewed while the run works (a
//! catch-up may hold it for hours); one past its expiry (a killed run) is
//! taken over.

use std::fs::File;

use chrono::{DateTime, Duration, Utc};
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tracing::{debug, error, warn};

use super::NightlyError;
use crate::clock::SharedClock;
use crate::warehouse::Location;
use crate::warehouse::layout::{LEASE_OBJECT, LOCK_FILE};

/// How long a lease lasts and how often its holder renews it. A run killed
/// without releasing its lease blocks the warehouse for `duration` at most.
#[derive(Debug, Clone, Copy)]
pub struct LeaseTerms {
    pub duration: Duration,
    pub renew_every: std::time::Duration,
}

impl Default for LeaseTerms {
    fn default() -> LeaseTerms {
        LeaseTerms { duration: Duration::minutes(15), renew_every: std::time::Duration::from_secs(60) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    host: String,
    since: DateTime<Utc>,
    expires: DateTime<Utc>,
}

impl Holder {
    fn me(now: DateTime<Utc>, terms: LeaseTerms) -> Holder {
        Holder { pid: std::process::id(), host: host_name(), since: now, expires: now + terms.duration }
    }

    fn is_same_lease(&self, other: &Holder) -> bool {
        self.pid == other.pid && self.since == other.since && self.host == other.host
    }
}

/// This machine's name, as leases and acceptances record it (empty when
/// unknown).
pub(super) fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

/// Held while a run works on the warehouse; released when dropped.
pub struct WarehouseLock {
    inner: Inner,
}

enum Inner {
    Local(File),
    Lease(Lease),
}

/// A lease we hold: where, the holder written into it (released only if
/// unchanged), and the task renewing it.
struct Lease {
    location: Location,
    me: Holder,
    renewal: tokio::task::JoinHandle<()>,
}

impl WarehouseLock {
    pub async fn acquire(warehouse: &Location, clock: SharedClock) -> Result<WarehouseLock, NightlyError> {
        WarehouseLock::acquire_with(warehouse, clock, LeaseTerms::default()).await
    }

    /// `acquire` with lease terms of one's own (tests shorten them).
    pub async fn acquire_with(
        warehouse: &Location,
        clock: SharedClock,
        terms: LeaseTerms,
    ) -> Result<WarehouseLock, NightlyError> {
        match warehouse.local_root() {
            Some(root) => {
                // The file is created once and never written: who holds it is
                // the operating system's record, so a failed run leaves the
                // warehouse byte for byte as it was.
                let path = root.join(LOCK_FILE);
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(|e| NightlyError::Lock(format!("{}: {e}", path.display())))?;
                try_lock_local(warehouse, &file, &path)?;
                Ok(WarehouseLock { inner: Inner::Local(file) })
            }
            None => {
                let (me, version) = take_lease(warehouse, clock.now(), terms).await?;
                let renewal = tokio::spawn(renew_lease(warehouse.clone(), me.clone(), version, clock, terms));
                Ok(WarehouseLock { inner: Inner::Lease(Lease { location: warehouse.clone(), me, renewal }) })
            }
        }
    }
}

/// Takes the OS lock on the warehouse's lock file, or says who holds it.
fn try_lock_local(warehouse: &Location, file: &File, path: &std::path::Path) -> Result<(), NightlyError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(busy_local(warehouse, file)),
        Err(std::fs::TryLockError::Error(e)) => Err(NightlyError::Lock(format!("{}: {e}", path.display()))),
    }
}

/// The warehouse's local lock is held: by which process (from the kernel's
/// table of locks, where Linux keeps one), and that it goes with it.
fn busy_local(warehouse: &Location, file: &File) -> NightlyError {
    let holder = lock_holder_pid(file).map_or_else(
        || "another reestr process on this machine".to_string(),
        |pid| format!("reestr process {pid} on this machine"),
    );
    NightlyError::Busy {
        warehouse: warehouse.to_string(),
        holder,
        hint: "A killed run's lock goes with its process, so the next run can start at once.".to_string(),
    }
}

/// The process holding an `flock` on `file`, from `/proc/locks` (Linux).
fn lock_holder_pid(file: &File) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let inode = file.metadata().ok()?.ino();
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        locks.lines().find_map(|line| {
            // `1: FLOCK  ADVISORY  WRITE 4621 fe:00:1040627 0 EOF`
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (kind, pid, id) = (fields.get(1)?, fields.get(4)?, fields.get(5)?);
            (*kind == "FLOCK" && id.rsplit(':').next()?.parse::<u64>().ok()? == inode).then(|| pid.parse().ok())?
        })
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

/// The lease is held: by whom, until when, and how to break it.
fn busy_lease(warehouse: &Location, holder: Option<Holder>) -> NightlyError {
    let unlock = format!("`reestr unlock --warehouse {warehouse}`");
    let (holder, hint) = match holder {
        Some(h) => (
            format!(
                "reestr process {} on {} since {}",
                h.pid,
                if h.host.is_empty() { "an unnamed host" } else { &h.host },
                h.since.format("%Y-%m-%d %H:%M UTC")
            ),
            format!(
                "Its lease is renewed while it works and expires at {} if that run is dead; to break it sooner, \
                 once you are sure no run is working on the warehouse: {unlock}.",
                h.expires.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        ),
        None => (
            "an unreadable lease".to_string(),
            format!("If you are sure no run is working on the warehouse, break it: {unlock}."),
        ),
    };
    NightlyError::Busy { warehouse: warehouse.to_string(), holder, hint }
}

/// Breaks the warehouse's lock for `reestr unlock`: a lease is deleted (and
/// who held it logged); a local lock cannot be broken while its process
/// lives, so that process is named. Returns what was broken, if anything.
pub async fn break_lock(warehouse: &Location) -> Result<Option<String>, NightlyError> {
    match warehouse.local_root() {
        Some(root) => {
            let path = root.join(LOCK_FILE);
            let Ok(file) = std::fs::OpenOptions::new().read(true).write(true).open(&path) else { return Ok(None) };
            // Free if we can take it (released again as `file` closes).
            try_lock_local(warehouse, &file, &path)?;
            Ok(None)
        }
        None => {
            let Some(bytes) = warehouse.read(LEASE_OBJECT).await.map_err(|e| NightlyError::Lock(e.to_string()))? else {
                return Ok(None);
            };
            let holder = serde_json::from_slice::<Holder>(&bytes).ok().map_or_else(
                || "an unreadable lease".to_string(),
                |h| {
                    format!(
                        "the lease of reestr process {} on {} since {}, expiring {}",
                        h.pid,
                        h.host,
                        h.since.format("%Y-%m-%d %H:%M:%S UTC"),
                        h.expires.format("%Y-%m-%d %H:%M:%S UTC")
                    )
                },
            );
            warn!("breaking {holder} on {warehouse} at the user's request (reestr unlock)");
            warehouse.delete(LEASE_OBJECT).await.map_err(|e| NightlyError::Lock(e.to_string()))?;
            Ok(Some(holder))
        }
    }
}

/// Takes the lease: returns what we wrote into it and its version.
async fn take_lease(
    warehouse: &Location,
    now: DateTime<Utc>,
    terms: LeaseTerms,
) -> Result<(Holder, UpdateVersion), NightlyError> {
    let store = warehouse.store();
    let path = warehouse.path(LEASE_OBJECT);
    let me = Holder::me(now, terms);
    let body = || PutPayload::from(serde_json::to_vec(&me).unwrap_or_default());
    let written = |r: object_store::PutResult| UpdateVersion { e_tag: r.e_tag, version: r.version };
    let fail = |e: object_store::Error| NightlyError::Lock(format!("{path}: {e}"));
    let create = PutOptions { mode: PutMode::Create, ..Default::default() };
    for _ in 0..3 {
        match store.put_opts(&path, body(), create.clone()).await {
            Ok(r) => return Ok((me, written(r))),
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
            Some(h) if h.expires <= now => {
                warn!("taking over the expired lease {path} of a run that did not finish");
                // Replaced only if it is still that lease: of two runs taking
                // it over at once, one wins.
                let update = PutOptions { mode: PutMode::Update(version), ..Default::default() };
                match store.put_opts(&path, body(), update).await {
                    Ok(r) => return Ok((me, written(r))),
                    Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => {
                        continue;
                    }
                    Err(object_store::Error::NotImplemented { .. }) => {
                        let _ = store.delete(&path).await;
                        continue;
                    }
                    Err(e) => return Err(fail(e)),
                }
            }
            other => return Err(busy_lease(warehouse, other)),
        }
    }
    Err(NightlyError::Lock(format!("{path}: could not take the lease")))
}

/// Extends the lease every `renew_every` while the run holds it, replacing it
/// only if it is still the version we wrote. A lease found changed was taken
/// over (we were thought dead): said loudly, and renewal ends.
async fn renew_lease(
    location: Location,
    mut me: Holder,
    mut version: UpdateVersion,
    clock: SharedClock,
    terms: LeaseTerms,
) {
    let path = location.path(LEASE_OBJECT);
    loop {
        tokio::time::sleep(terms.renew_every).await;
        me.expires = clock.now() + terms.duration;
        let body = PutPayload::from(serde_json::to_vec(&me).unwrap_or_default());
        let update = PutOptions { mode: PutMode::Update(version.clone()), ..Default::default() };
        let renewed = match location.store().put_opts(&path, body.clone(), update).await {
            // A store without conditional writes: overwrite, if it is still ours.
            Err(object_store::Error::NotImplemented { .. }) => match still_ours(&location, &me).await {
                true => location.store().put(&path, body).await,
                false => Err(object_store::Error::Precondition {
                    path: path.to_string(),
                    source: "the lease changed".into(),
                }),
            },
            other => other,
        };
        match renewed {
            Ok(r) => {
                debug!("lease {path} renewed until {}", me.expires);
                version = UpdateVersion { e_tag: r.e_tag, version: r.version };
            }
            Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                error!("the lease {path} was taken over by another run; this run no longer holds the warehouse");
                return;
            }
            // A storage hiccup: try again at the next renewal, well before expiry.
            Err(e) => warn!("cannot renew the lease {path}: {e}"),
        }
    }
}

/// Whether the lease object still names this holder.
async fn still_ours(location: &Location, me: &Holder) -> bool {
    let Ok(r) = location.store().get(&location.path(LEASE_OBJECT)).await else { return false };
    r.bytes().await.ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok()).is_some_and(|h| h.is_same_lease(me))
}

impl Drop for WarehouseLock {
    fn drop(&mut self) {
        match &self.inner {
            Inner::Local(file) => {
                let _ = file.unlock();
            }
            Inner::Lease(lease) => {
                lease.renewal.abort();
                // Dropped outside async code: released on a thread of its own,
                // and only if the lease is still ours.
                let location = lease.location.clone();
                let me = lease.me.clone();
                let _ = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        rt.block_on(async {
                            if still_ours(&location, &me).await {
                                let _ = location.store().delete(&location.path(LEASE_OBJECT)).await;
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

    use crate::clock::{Clock, ManualClock, system};
    use chrono::TimeZone;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_second_lock_is_refused_until_the_first_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let wh = Location::open(dir.path().to_str().unwrap(), Missing::Create).unwrap();
        let first = WarehouseLock::acquire(&wh, system()).await.unwrap();
        let err = WarehouseLock::acquire(&wh, system()).await.err().expect("refused");
        let text = err.to_string();
        assert!(text.contains(&std::process::id().to_string()) && text.contains("wait for that run"), "{text}");
        // The lock file is never written: a refused or failed run leaves the
        // warehouse as it was.
        assert_eq!(std::fs::metadata(dir.path().join(LOCK_FILE)).unwrap().len(), 0);
        drop(first);
        WarehouseLock::acquire(&wh, system()).await.expect("free again");
    }

    fn terms() -> LeaseTerms {
        LeaseTerms { duration: Duration::minutes(10), renew_every: std::time::Duration::from_millis(20) }
    }

    async fn lease_expiry(wh: &Location) -> DateTime<Utc> {
        let bytes = wh.read(LEASE_OBJECT).await.unwrap().expect("a lease");
        serde_json::from_slice::<Holder>(&bytes).unwrap().expires
    }

    /// A run that works for longer than the lease lasts keeps it: the clock
    /// moves an hour on while the lease (10 minutes) is renewed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_run_keeps_its_lease_by_renewing_it() {
        let wh = Location::open("memory://", Missing::Create).unwrap();
        let clock = ManualClock::at(Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());
        let held = WarehouseLock::acquire_with(&wh, Arc::new(clock.clone()), terms()).await.unwrap();
        for _ in 0..12 {
            clock.advance(Duration::minutes(5));
            // Wait for a renewal to see the new time.
            let wanted = clock.now() + Duration::minutes(10);
            for _ in 0..200 {
                if lease_expiry(&wh).await == wanted {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert_eq!(lease_expiry(&wh).await, wanted, "renewed from the clock's time");
            let other = WarehouseLock::acquire_with(&wh, Arc::new(clock.clone()), terms()).await;
            assert!(matches!(other, Err(NightlyError::Busy { .. })), "still held an hour on");
        }
        drop(held);
        assert!(wh.read(LEASE_OBJECT).await.unwrap().is_none(), "released when dropped");
    }

    /// `reestr unlock` breaks a lease (a dead run's), and the message of a
    /// refused run says when the lease expires and how to break it.
    #[tokio::test]
    async fn a_lease_can_be_broken_and_the_refusal_says_how() {
        let wh = Location::open("memory://", Missing::Create).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        let dead = Holder { pid: 7, host: "node1".into(), since: start, expires: start + Duration::minutes(15) };
        wh.write(LEASE_OBJECT, serde_json::to_vec(&dead).unwrap()).await.unwrap();
        let clock = ManualClock::at(start + Duration::minutes(1));
        let refused = WarehouseLock::acquire(&wh, Arc::new(clock.clone())).await.err().expect("held");
        let text = refused.to_string();
        assert!(text.contains("node1") && text.contains("2026-12-01 02:15:00 UTC"), "{text}");
        assert!(text.contains("reestr unlock --warehouse memory://"), "{text}");
        let broken = break_lock(&wh).await.unwrap().expect("a lease was broken");
        assert!(broken.contains("process 7 on node1"), "{broken}");
        assert!(break_lock(&wh).await.unwrap().is_none(), "nothing left to break");
        WarehouseLock::acquire(&wh, Arc::new(clock)).await.expect("free once broken");
    }

    /// A lease whose holder stopped renewing (a killed run) is taken over
    /// once it expires, not before.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_lease_is_taken_over_when_it_expires() {
        let wh = Location::open("memory://", Missing::Create).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        let abandoned =
            Holder { pid: 1, host: "elsewhere".into(), since: start, expires: start + Duration::minutes(10) };
        wh.write(LEASE_OBJECT, serde_json::to_vec(&abandoned).unwrap()).await.unwrap();
        let clock = ManualClock::at(start + Duration::minutes(9));
        let early = WarehouseLock::acquire_with(&wh, Arc::new(clock.clone()), terms()).await;
        match early {
            Err(NightlyError::Busy { holder, .. }) => assert!(holder.contains("elsewhere"), "{holder}"),
            other => panic!("taken before expiry: {:?}", other.err()),
        }
        clock.advance(Duration::minutes(1));
        let taken =
            WarehouseLock::acquire_with(&wh, Arc::new(clock.clone()), terms()).await.expect("expired: taken over");
        assert_eq!(lease_expiry(&wh).await, clock.now() + Duration::minutes(10));
        drop(taken);
    }
}
