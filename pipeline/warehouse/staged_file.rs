//! A file written synchronously (from a blocking thread) to any object store:
//! the bytes go through `object_store`'s buffered multipart writer, so a large
//! table is streamed, never held whole in memory.

use std::io::{self, Write};

use object_store::buffered::BufWriter;
use tokio_util::io::SyncIoBridge;

use super::Location;

/// Write buffer; beyond it the upload goes multipart.
const CAPACITY: usize = 8 * 1024 * 1024;

pub struct StagedFile {
    inner: SyncIoBridge<BufWriter>,
}

impl StagedFile {
    /// Must be called from a thread inside the Tokio runtime (a blocking task).
    pub fn create(location: &Location, relative: &str) -> StagedFile {
        let writer = BufWriter::with_capacity(location.store().clone(), location.path(relative), CAPACITY);
        StagedFile { inner: SyncIoBridge::new(writer) }
    }

    /// Completes the upload; only now does the file exist.
    pub fn finish(mut self) -> io::Result<()> {
        self.inner.shutdown()
    }

    /// Abandons the upload, leaving nothing behind.
    pub fn abort(self) {
        let mut writer = self.inner.into_inner();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let _ = handle.block_on(writer.abort());
        }
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
