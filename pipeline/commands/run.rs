//! `reestr run`: the nightly job for one snapshot — ingest, compute, gate,
//! publish. No configuration file: the gate's limits are the defaults.

use super::{Env, compute, ingest, publish};
use crate::Error;
use crate::cli::RunArgs;
use crate::nightly::{PublishAfter, SnapshotJob, held_error};

pub async fn run(args: RunArgs, env: Env) -> Result<(), Error> {
    let job = env.begin(&args.input.warehouse).await?;
    let snapshot = SnapshotJob {
        snapshot: args.input.snapshot,
        as_of: args.input.as_of,
        dates: args.dates.into(),
        publish: if args.no_publish { PublishAfter::Nothing } else { PublishAfter::Newest },
    };
    let done = job.process_snapshot(&snapshot).await?;
    if !env.quiet {
        ingest::report(&args.input.warehouse, &done.manifest);
        compute::report(&args.input.warehouse, &done.marts);
        if let Some(site) = &done.published {
            publish::report(site);
        }
    }
    if done.gate.is_held() {
        return Err(held_error(job.warehouse(), done.marts.dates.d, done.gate.summary, 0).into());
    }
    Ok(())
}
