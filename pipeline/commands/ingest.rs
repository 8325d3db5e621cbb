//! `reestr ingest`: one snapshot into the warehouse.

use super::Env;
use crate::Error;
use crate::cli::IngestArgs;
use crate::ingest::IngestRequest;
use crate::warehouse::{Manifest, layout};

pub async fn run(args: IngestArgs, env: Env) -> Result<(), Error> {
    let job = env.begin(&args.warehouse).await?;
    let manifest = job.ingest(&IngestRequest { snapshot: args.snapshot, as_of: args.as_of }).await?;
    if !env.quiet {
        report(&args.warehouse, &manifest);
    }
    Ok(())
}

pub fn report(warehouse: &str, manifest: &Manifest) {
    println!("Ingested snapshot of {} into {warehouse}", manifest.as_of);
    println!("{:<22} {:>12} {:>12} {:>10}", "table", "read", "loaded", "rejected");
    for (name, t) in &manifest.tables {
        println!("{name:<22} {:>12} {:>12} {:>10}", t.rows_read, t.rows_loaded, t.rows_rejected);
    }
    let rejected: u64 = manifest.tables.values().map(|t| t.rows_rejected).sum();
    if rejected > 0 {
        println!("Rejected rows and why: {warehouse}/{}/", layout::rejects_dir(manifest.as_of));
    }
    println!("Manifest: {warehouse}/{}", layout::manifest_file(manifest.as_of));
}
