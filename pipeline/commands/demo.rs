//! `reestr demo`: generates the snapshots of 2022-11-21 and 2023-11-21 and runs
//! the nightly job on each, oldest first, so the newer one has its year-before.

use std::time::Instant;

use tracing::info;

use super::Env;
use crate::Error;
use crate::cli::DemoArgs;
use crate::generate::{GenerateRequest, decree_dates, generate};
use crate::nightly::{DateChoices, PublishAfter, SnapshotJob, held_error};
use crate::warehouse::layout;

/// The decree's number, No 19-8.
const DEMO_SEED: u64 = 198;

pub async fn run(args: DemoArgs, env: Env) -> Result<(), Error> {
    let started = Instant::now();
    let warehouse = args.out.join("warehouse");
    let job = env.begin(&warehouse.to_string_lossy()).await?;
    // Both snapshots are generated at once, on their own threads, so the
    // newer one is being written while the older is ingested.
    let mut generating = Vec::new();
    // The decree's dates, oldest first.
    let (d, c) = decree_dates();
    for (n, as_of) in [c, d].into_iter().enumerate() {
        let folder = args.out.join("snapshots").join(as_of.to_string());
        info!("demo: generating the snapshot of {as_of} at scale {} (a few seconds)", args.scale);
        // The newer snapshot is an office export, as the registry delivers it.
        // One world (one seed), seen on two dates.
        let request = GenerateRequest { out: folder.clone(), as_of, scale: args.scale, seed: DEMO_SEED, messy: n == 1 };
        generating.push((as_of, folder, tokio::task::spawn_blocking(move || generate(&request))));
    }
    let mut site = None;
    for (as_of, folder, task) in generating {
        task.await.map_err(|e| Error::Runtime(e.to_string()))??;
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
