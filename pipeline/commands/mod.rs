//! One file per subcommand; each turns parsed arguments into a library call
//! and a short report on stdout.

mod compute;
pub mod demo;
mod generate;
mod ingest;
mod publish;
mod run;
mod sql;

use crate::Error;
use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Ingest(args) => ingest::run(args, cli.quiet).await,
        Command::Compute(args) => compute::run(args, cli.quiet).await,
        Command::Run(args) => run::run(args, cli.quiet).await,
        Command::Publish(args) => publish::run(args, cli.quiet).await,
        Command::Sql(args) => sql::run(args).await,
        Command::Generate(args) => generate::run(args, cli.quiet).await,
        Command::Demo(args) => demo::run(args, cli.quiet).await,
    }
}
