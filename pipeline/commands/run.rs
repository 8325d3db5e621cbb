//! `reestr run`: the nightly job for one snapshot — ingest, compute, publish.

use crate::Error;
use crate::cli::RunArgs;
use crate::compute::compute;
use crate::ingest::{IngestRequest, ingest};
use crate::publish::{PublishRequest, publish};

use super::{compute as compute_cmd, ingest as ingest_cmd, publish as publish_cmd};

pub async fn run(args: RunArgs, quiet: bool) -> Result<(), Error> {
    let input = args.input;
    let _lock = super::lock(&input.warehouse).await?;
    let request = IngestRequest { snapshot: input.snapshot, warehouse: input.warehouse, as_of: input.as_of };
    let manifest = ingest(&request).await?;
    if !quiet {
        ingest_cmd::report(&request, &manifest);
    }
    super::checkpoint()?;
    let request = compute_cmd::request(request.warehouse, manifest.as_of, args.dates);
    let summary = compute(&request).await?;
    if !quiet {
        compute_cmd::report(&request, &summary);
    }
    if args.no_publish {
        return Ok(());
    }
    super::checkpoint()?;
    // The newest computed date: rerunning an old snapshot does not take the
    // site back in time.
    let summary = publish(&PublishRequest { warehouse: request.warehouse, as_of: None }).await?;
    if !quiet {
        publish_cmd::report(&summary);
    }
    Ok(())
}
