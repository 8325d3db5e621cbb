//! `reestr run`: the nightly job for one snapshot — ingest, compute, gate,
//! publish. It has no configuration file: the gate's limits are the
//! defaults, and it notifies only when the `REESTR_NOTIFY_*` variables say
//! where (a cron line running `run` gets the scheduler's notifications that
//! way).

use super::{Env, compute, ingest, publish};
use crate::Error;
use crate::cli::RunArgs;
use crate::nightly::{NightlyError, Notifier, NotifySettings, PublishAfter, SnapshotJob, held_error};

pub async fn run(args: RunArgs, env: Env) -> Result<(), Error> {
    let notify = NotifySettings::load(None).map_err(|detail| NightlyError::Config { file: None, detail })?;
    let job = env
        .begin(&args.input.warehouse)
        .await?
        .notify_with(Notifier::new(notify, &args.input.warehouse))
        .without_bundles(args.no_bundles);
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
