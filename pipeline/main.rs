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

/// mimalloc keeps freed pages a second before returning them; a nightly run
/// goes from step to step faster than that, so one step's freed pages sat
/// under the next one's peak (the six-snapshot demo: 650–710 MiB peak, 390
/// MiB with immediate purging, for two seconds more in 22). mimalloc reads the
/// setting from its environment when it starts, before `main`, so a process
/// started without it runs itself again with it (`exec`: same process id,
/// same arguments and streams). An operator's own setting is kept.
fn with_immediate_purge() {
    const VARIABLE: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(VARIABLE).is_some() {
        return;
    }
    if let Ok(exe) = std::env::current_exe() {
        use std::os::unix::process::CommandExt;
        let error = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env(VARIABLE, "0").exec();
        // exec returns only when it failed: go on as this process.
        eprintln!("warning: cannot restart with {VARIABLE}=0 ({error}); memory is returned to the system later");
    }
}

fn main() -> ExitCode {
    with_immediate_purge();
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
