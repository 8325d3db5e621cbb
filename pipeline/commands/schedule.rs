//! `reestr schedule`: the scheduler, forever or once.

use crate::Error;
use crate::cli::ScheduleArgs;
use crate::nightly::{Config, catch_up, run_forever};

pub async fn run(args: ScheduleArgs, quiet: bool) -> Result<(), Error> {
    let config = Config::load(args.config.as_deref())?;
    if !args.once {
        return run_forever(&config).await;
    }
    let outcome = catch_up(&config).await?;
    if !quiet {
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
