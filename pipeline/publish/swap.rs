//! Replaces a published folder (the site) as one step. The new folder is built
//! beside the old one; then the two are exchanged with `renameat2(…,
//! RENAME_EXCHANGE)`, so at every moment the folder's path names a whole site —
//! the old one or the new one — and a reader or a crash never sees a mix or a
//! gap. Where the file system cannot exchange (not Linux, some network
//! mounts), the old folder is renamed away and the new one into place: a gap of
//! one rename, which is logged.

use std::io;
use std::path::{Path, PathBuf};

use tracing::warn;

/// Folders of interrupted publishes are named with this prefix beside the
/// target and removed by the next publish.
const LEFTOVER: &str = ".publish-";

/// A fresh, empty folder beside `target` to build the new version in. Removes
/// what earlier interrupted publishes left there.
pub fn staging_dir(target: &Path, run_id: &str) -> io::Result<PathBuf> {
    let parent = target.parent().ok_or_else(|| io::Error::other("the target folder has no parent"))?;
    std::fs::create_dir_all(parent)?;
    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    for entry in std::fs::read_dir(parent)?.flatten() {
        let leftover = entry.file_name().to_str().is_some_and(|n| n.starts_with(&format!("{LEFTOVER}{name}-")));
        if leftover {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let staging = parent.join(format!("{LEFTOVER}{name}-{run_id}"));
    std::fs::create_dir_all(&staging)?;
    Ok(staging)
}

/// Puts `staging` at `target`, replacing what was there, and removes the old
/// version.
pub fn replace_dir(staging: &Path, target: &Path) -> io::Result<()> {
    if !target.exists() {
        return std::fs::rename(staging, target);
    }
    match exchange(staging, target) {
        Ok(()) => {}
        Err(e) => {
            warn!("{} cannot be replaced in one step ({e}); replacing it in two", target.display());
            let old = staging.with_extension("old");
            std::fs::rename(target, &old)?;
            std::fs::rename(staging, target)?;
            let _ = std::fs::remove_dir_all(&old);
            return Ok(());
        }
    }
    // `staging` now holds the old version; the new one is live whatever
    // happens to the old (the next publish removes leftovers).
    if let Err(e) = std::fs::remove_dir_all(staging) {
        warn!("the old version at {} stays until the next publish: {e}", staging.display());
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no atomic exchange on this system"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_replaced_whole_and_leftovers_go() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("site");
        std::fs::create_dir_all(root.path().join(".publish-site-crashed")).unwrap();

        let first = staging_dir(&target, "1").unwrap();
        assert!(!root.path().join(".publish-site-crashed").exists());
        std::fs::write(first.join("index.html"), "old").unwrap();
        std::fs::write(first.join("only-old.html"), "old").unwrap();
        replace_dir(&first, &target).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("index.html")).unwrap(), "old");

        let second = staging_dir(&target, "2").unwrap();
        std::fs::write(second.join("index.html"), "new").unwrap();
        replace_dir(&second, &target).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("index.html")).unwrap(), "new");
        assert!(!target.join("only-old.html").exists(), "nothing of the old version stays");
        let names: Vec<_> = std::fs::read_dir(root.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("site")]);
    }
}
