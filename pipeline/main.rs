//! The `reestr` binary: parse arguments, run one command, map the outcome to
//! an exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use reestr::cli::Cli;

/// mimalloc: ingest hands buffers from thread to thread (records, batches),
/// where the system allocator's frees and returns to the kernel cost a tenth
/// of the run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's C API (linked in with the allocator): its options by number,
// as `mimalloc.h` declares them (v2 and v3 alike).
unsafe extern "C" {
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
/// Its defaults in milliseconds, v2's and v3's (the crate builds v3).
const MI_PURGE_DELAY_DEFAULTS: [std::ffi::c_long; 2] = [10, 1000];

/// mimalloc keeps freed pages a second before returning them; a nightly run
/// goes from step to step faster than that, so one step's freed pages sat
/// under the next one's peak. Purging at once lowers the six-snapshot demo's
/// peak (see README, Libraries). Set only when the option reads as one of
/// its defaults — an operator's MIMALLOC_PURGE_DELAY, or a mimalloc that
/// numbers its options otherwise, is left alone.
fn purge_freed_memory_at_once() {
    // SAFETY: plain C calls on an integer option, no pointers.
    unsafe {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
            && MI_PURGE_DELAY_DEFAULTS.contains(&mi_option_get(MI_OPTION_PURGE_DELAY))
        {
            mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        }
    }
}

fn main() -> ExitCode {
    purge_freed_memory_at_once();
    let cli = Cli::parse();
    reestr::logging::init(cli.quiet, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(reestr::error::EXIT_INTERNAL);
        }
    };
    match runtime.block_on(reestr::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.render());
            ExitCode::from(e.exit_code())
        }
    }
}
