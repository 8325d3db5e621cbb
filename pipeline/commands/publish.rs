//! `reestr publish`: the site, exports and briefing of one date; with
//! `--accept`, of a date the gate held.

use super::Env;
use crate::Error;
use crate::cli::PublishArgs;
use crate::publish::PublishSummary;

pub async fn run(args: PublishArgs, env: Env) -> Result<(), Error> {
    let job = env.begin(&args.warehouse).await?.without_bundles(args.no_bundles);
    let summary = match (&args.accept, args.as_of) {
        (Some(reason), Some(as_of)) => job.accept(as_of, reason).await?,
        _ => job.publish(args.as_of).await?,
    };
    if !env.quiet {
        report(&summary);
    }
    Ok(())
}

pub fn report(summary: &PublishSummary) {
    println!(
        "Site of {}: {} pages, {:.1} MB, built in {:.1} s",
        summary.as_of,
        summary.pages,
        summary.bytes as f64 / 1e6,
        summary.seconds
    );
    println!("Open {}", summary.index.display());
    println!("Exports: {} files in {}", summary.export_files, summary.exports.display());
    println!("Briefing: {} (and .docx)", summary.briefing.display());
    if let Some(bundles) = &summary.bundles {
        println!(
            "Bundles: {} zips, {:.1} MB in {} (one per federal district and regional organization)",
            summary.bundle_files,
            summary.bundle_bytes as f64 / 1e6,
            bundles.display()
        );
    }
}
