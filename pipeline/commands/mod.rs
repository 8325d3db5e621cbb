//! One file per subcommand; each turns parsed arguments into a library call
//! and a short report on stdout.

mod compute;
pub mod demo;
mod generate;
mod ingest;
mod publish;
mod schedule;
mod status;
mod run;
mod sql;

use crate::Error;
use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> Result<(), Error> {
    // Commands that write the warehouse stop at a safe point on SIGTERM or
    // SIGINT; the others (sql, generate, status) keep the default: stop now.
    if matches!(
        cli.command,
        Command::Ingest(_) | Command::Compute(_) | Command::Run(_) | Command::Publish(_) | Command::Demo(_) | Command::Schedule(_)
    ) {
        crate::nightly::stop::listen();
    }
    match cli.command {
        Command::Ingest(args) => ingest::run(args, cli.quiet).await,
        Command::Compute(args) => compute::run(args, cli.quiet).await,
        Command::Run(args) => run::run(args, cli.quiet).await,
        Command::Publish(args) => publish::run(args, cli.quiet).await,
        Command::Schedule(args) => schedule::run(args, cli.quiet).await,
        Command::Status(args) => status::run(args).await,
        Command::Sql(args) => sql::run(args).await,
        Command::Generate(args) => generate::run(args, cli.quiet).await,
        Command::Demo(args) => demo::run(args, cli.quiet).await,
    }
}

/// The warehouse's lock, held for the whole command: one run at a time.
async fn lock(warehouse: &str) -> Result<crate::nightly::WarehouseLock, Error> {
    let location = crate::warehouse::Location::open(warehouse, crate::warehouse::Missing::Create)?;
    Ok(crate::nightly::WarehouseLock::acquire(&location).await?)
}

/// Stops between phases when SIGTERM or SIGINT asked for it.
fn checkpoint() -> Result<(), Error> {
    if crate::nightly::stop::requested() {
        return Err(crate::nightly::NightlyError::Interrupted.into());
    }
    Ok(())
}
