//! `reestr schedule`: the scheduler, forever or once.

use super::Env;
use crate::Error;
use crate::cli::ScheduleArgs;
use crate::nightly::{Config, catch_up, run_forever};

pub async fn run(args: ScheduleArgs, env: Env) -> Result<(), Error> {
    let config = Config::load(args.config.as_deref())?;
    if !args.once {
        return Ok(run_forever(&config, env.clock, env.stop).await?);
    }
    let outcome = catch_up(&config, env.clock, env.stop).await?;
    if !env.quiet {
        if outcome.processed.is_empty() {
            println!("Nothing new in {}.", config.inbox);
        }
        for date in &outcome.processed {
            println!("Processed {date}");
        }
        if let Some(site) = &outcome.published {
            super::publish::report(site);
        }
        for date in &outcome.pruned {
            println!("Pruned the registry partitions of {date}");
        }
    }
    Ok(())
}
