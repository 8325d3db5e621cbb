//! `reestr ingest`: one snapshot into the warehouse.

use crate::Error;
use crate::cli::IngestArgs;
use crate::ingest::{IngestRequest, ingest};
use crate::warehouse::{Manifest, layout};

pub async fn run(args: IngestArgs, quiet: bool) -> Result<(), Error> {
    let _lock = super::lock(&args.warehouse).await?;
    let request = IngestRequest { snapshot: args.snapshot, warehouse: args.warehouse, as_of: args.as_of };
    let manifest = ingest(&request).await?;
    if !quiet {
        report(&request, &manifest);
    }
    Ok(())
}

pub fn report(request: &IngestRequest, manifest: &Manifest) {
    println!("Ingested snapshot of {} into {}", manifest.as_of, request.warehouse);
    println!("{:<22} {:>12} {:>12} {:>10}", "table", "read", "loaded", "rejected");
    for (name, t) in &manifest.tables {
        println!("{name:<22} {:>12} {:>12} {:>10}", t.rows_read, t.rows_loaded, t.rows_rejected);
    }
    let rejected: u64 = manifest.tables.values().map(|t| t.rows_rejected).sum();
    if rejected > 0 {
        println!("Rejected rows and why: {}/{}/", request.warehouse, layout::rejects_dir(manifest.as_of));
    }
    println!("Manifest: {}/{}", request.warehouse, layout::manifest_file(manifest.as_of));
}
