//! Stopping on request. A command is handed a `StopToken`; SIGTERM or SIGINT
//! trips it, and each step checks it at its safe points (between snapshots,
//! between steps, every few thousand rows of ingest). Nothing published is
//! half-written, since every output is swapped in whole; the command then exits
//! with `EXIT_STOPPED`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a command stopped on request, by a first signal at a
/// safe point or a second one at once: 130, as shells report an interrupted
/// command.
pub const EXIT_STOPPED: u8 = 130;

/// Shared by everything one command runs; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct StopToken {
    requested: Arc<AtomicBool>,
}

impl StopToken {
    pub fn new() -> StopToken {
        StopToken::default()
    }

    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    pub fn request(&self) {
        self.requested.store(true, Ordering::Relaxed);
    }

    /// `Err(Stopped)` once a stop was asked for: the check at a safe point.
    pub fn check(&self) -> Result<(), Stopped> {
        if self.requested() { Err(Stopped) } else { Ok(()) }
    }

    /// Trips this token on SIGTERM or SIGINT for the rest of the process. A
    /// second signal exits at once: the person means it, and outputs are
    /// still whole (every one is swapped in or committed).
    pub fn trip_on_signals(&self) {
        let token = self.clone();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            // Registered here, before returning, not in the task: a task runs
            // when a worker gets to it, and a signal before that (the command
            // already under way) would kill the process outright.
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                return;
            };
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                    if token.requested() {
                        tracing::warn!("second stop request: exiting now");
                        std::process::exit(i32::from(EXIT_STOPPED));
                    }
                    tracing::warn!("stop requested: finishing at the next safe point (signal again to exit now)");
                    token.request();
                }
            });
        }
        #[cfg(not(unix))]
        let _ = token;
    }
}

/// A step ended early because a stop was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped on request (SIGTERM or SIGINT) at a safe point; published outputs are whole; run again to finish")]
pub struct Stopped;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_seen_by_every_clone() {
        let token = StopToken::new();
        let step = token.clone();
        assert_eq!(step.check(), Ok(()));
        token.request();
        assert!(step.requested());
        assert_eq!(step.check(), Err(Stopped));
    }
}
