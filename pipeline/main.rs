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

fn main() -> ExitCode {
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
