//! Log lines for people watching a run: progress and results on stderr.
//! Never logs a value read from a snapshot, only names and counts.

use tracing_subscriber::EnvFilter;

/// `quiet`: warnings and errors only; `verbose` 1: debug; 2+: trace.
/// `RUST_LOG` overrides both.
pub fn init(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("reestr={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .compact()
        .try_init();
}
