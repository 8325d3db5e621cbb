//! One file per subcommand; each turns parsed arguments into a library call
//! (the nightly job or one of its steps) and a short report on stdout.

mod compute;
mod demo;
mod generate;
mod ingest;
mod publish;
mod run;
mod schedule;
mod sql;
mod status;
mod unlock;

use crate::Error;
use crate::cli::{Cli, Command, DateOverrides};
use crate::clock::SharedClock;
use crate::nightly::{DateChoices, Job};
use crate::stop::StopToken;

pub async fn run(cli: Cli) -> Result<(), Error> {
    let stop = StopToken::new();
    // Commands that write the warehouse stop at a safe point on SIGTERM or
    // SIGINT; the others (sql, generate, status) keep the default: stop now.
    if matches!(
        cli.command,
        Command::Ingest(_)
            | Command::Compute(_)
            | Command::Run(_)
            | Command::Publish(_)
            | Command::Demo(_)
            | Command::Schedule(_)
    ) {
        stop.trip_on_signals();
    }
    let clock = crate::clock::system();
    let quiet = cli.quiet;
    match cli.command {
        Command::Ingest(args) => ingest::run(args, Env { clock, stop, quiet }).await,
        Command::Compute(args) => compute::run(args, Env { clock, stop, quiet }).await,
        Command::Run(args) => run::run(args, Env { clock, stop, quiet }).await,
        Command::Publish(args) => publish::run(args, Env { clock, stop, quiet }).await,
        Command::Schedule(args) => schedule::run(args, Env { clock, stop, quiet }).await,
        Command::Status(args) => status::run(args, clock).await,
        Command::Sql(args) => sql::run(args).await,
        Command::Unlock(args) => unlock::run(args).await,
        Command::Generate(args) => generate::run(args, quiet).await,
        Command::Demo(args) => demo::run(args, Env { clock, stop, quiet }).await,
    }
}

/// What every command that writes the warehouse is handed.
struct Env {
    clock: SharedClock,
    stop: StopToken,
    quiet: bool,
}

impl Env {
    /// The warehouse opened, locked and recovered, for this command's steps.
    async fn begin(&self, warehouse: &str) -> Result<Job, Error> {
        Ok(Job::begin(warehouse, self.clock.clone(), self.stop.clone()).await?)
    }
}

impl From<DateOverrides> for DateChoices {
    fn from(d: DateOverrides) -> DateChoices {
        DateChoices { period: d.period, baseline: d.baseline, compare_to: d.compare_to }
    }
}
