//! `reestr demo`: generates the snapshots of 2022-11-21, of the last day of
//! each quarter since, and of 2023-11-21, and runs the nightly job on each,
//! oldest first, so the newest has its year-before and a year of quarters.

use std::time::Instant;

use chrono::NaiveDate;

use tracing::info;

use super::Env;
use crate::Error;
use crate::cli::DemoArgs;
use crate::generate::{GenerateRequest, demo_dates, generate};
use crate::nightly::{DateChoices, PublishAfter, SnapshotJob, held_error};
use crate::warehouse::layout;

/// The decree's number, No 19-8.
const DEMO_SEED: u64 = 198;

pub async fn run(args: DemoArgs, env: Env) -> Result<(), Error> {
    let started = Instant::now();
    let warehouse = args.out.join("warehouse");
    let job = env.begin(&warehouse.to_string_lossy()).await?;
    // Oldest first, each snapshot generated on its own thread while the one
    // before it is ingested: one ahead, so memory holds two at most.
    let dates = demo_dates();
    let d = *dates.last().expect("the demo has dates");
    let start_generating = |as_of: NaiveDate| {
        let folder = args.out.join("snapshots").join(as_of.to_string());
        info!("demo: generating the snapshot of {as_of} at scale {} (a few seconds)", args.scale);
        // One world (one seed), seen on every date; the newest is an office
        // export, as the registry delivers it.
        let request =
            GenerateRequest { out: folder.clone(), as_of, scale: args.scale, seed: DEMO_SEED, messy: as_of == d };
        (as_of, folder, tokio::task::spawn_blocking(move || generate(&request)))
    };
    let mut next = Some(start_generating(dates[0]));
    let mut site = None;
    for (i, _) in dates.iter().enumerate() {
        let (as_of, folder, task) = next.take().expect("a snapshot is being generated");
        task.await.map_err(|e| Error::Runtime(e.to_string()))??;
        next = dates.get(i + 1).map(|&later| start_generating(later));
        let snapshot = SnapshotJob {
            snapshot: folder.to_string_lossy().into_owned(),
            as_of: Some(as_of),
            dates: DateChoices::default(),
            // The site shows D, the decree's date.
            publish: if as_of == d { PublishAfter::ThisDate } else { PublishAfter::Nothing },
        };
        let done = job.process_snapshot(&snapshot).await?;
        if done.gate.is_held() {
            return Err(held_error(job.warehouse(), as_of, done.gate.summary, 0).into());
        }
        site = done.published.or(site);
    }
    if !env.quiet {
        println!("Demo finished in {:.0} s.", started.elapsed().as_secs_f64());
        if let Some(site) = &site {
            println!("Dashboards: {}", site.index.display());
            println!("Exports:    {}", site.exports.display());
            println!("Briefing:   {}", site.briefing.display());
        }
        println!("Snapshots:  {}", args.out.join("snapshots").display());
        println!("Warehouse:  {}", warehouse.display());
        println!("Manifest:   {}", warehouse.join(layout::manifest_file(d)).display());
        println!("Marts:      {}", warehouse.join(layout::MARTS_DIR).display());
        println!("Rejects:    {}", warehouse.join(layout::rejects_dir(d)).display());
    }
    Ok(())
}
