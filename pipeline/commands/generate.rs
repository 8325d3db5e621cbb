//! `reestr generate`: one synthetic snapshot folder.

use crate::Error;
use crate::cli::GenerateArgs;
use crate::generate::{GenerateRequest, generate};

pub async fn run(args: GenerateArgs, quiet: bool) -> Result<(), Error> {
    let request =
        GenerateRequest { out: args.out, as_of: args.as_of, scale: args.scale, seed: args.seed, messy: args.messy };
    let out = request.out.clone();
    let stats =
        tokio::task::spawn_blocking(move || generate(&request)).await.map_err(|e| Error::Runtime(e.to_string()))??;
    if !quiet {
        println!(
            "Wrote {}: {} organizations, {} members, {} reports, {} purchases ({} rows broken on purpose)",
            out.display(),
            stats.organizations,
            stats.members,
            stats.stat_reports,
            stats.purchases,
            stats.broken
        );
    }
    Ok(())
}
