//! `reestr publish`: the static site of one date.

use crate::Error;
use crate::cli::PublishArgs;
use crate::publish::{PublishRequest, PublishSummary, publish};

pub async fn run(args: PublishArgs, quiet: bool) -> Result<(), Error> {
    let _lock = super::lock(&args.warehouse).await?;
    let summary = publish(&PublishRequest { warehouse: args.warehouse, as_of: args.as_of }).await?;
    if !quiet {
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
}
