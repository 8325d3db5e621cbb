//! SIGTERM and SIGINT ask the current run to stop at its next safe point
//! (between snapshots, between phases, every few thousand rows of ingest);
//! nothing it published is half-written, since every output is swapped in
//! whole, and the run exits non-zero.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Listens for SIGTERM and SIGINT for the rest of the process.
pub fn listen() {
    tokio::spawn(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                return;
            };
            loop {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                if requested() {
                    // A second signal: the person means it. Outputs are
                    // still whole (every one is swapped in or committed).
                    tracing::warn!("second stop request: exiting now");
                    std::process::exit(130);
                }
                tracing::warn!("stop requested: finishing at the next safe point (signal again to exit now)");
                request();
            }
        }
    });
}
