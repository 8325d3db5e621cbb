//! `reestr compute`: the marts of one snapshot date.

use super::Env;
use crate::Error;
use crate::cli::ComputeArgs;
use crate::compute::ComputeSummary;
use crate::warehouse::layout;

pub async fn run(args: ComputeArgs, env: Env) -> Result<(), Error> {
    let job = env.begin(&args.warehouse).await?;
    let summary = job.compute(args.as_of, args.dates.into()).await?;
    if !env.quiet {
        report(&args.warehouse, &summary);
    }
    Ok(())
}

pub fn report(warehouse: &str, summary: &ComputeSummary) {
    let d = summary.dates;
    let opt = |x: Option<chrono::NaiveDate>| x.map_or_else(|| "none".to_string(), |x| x.to_string());
    println!("Marts of {} (period {}, baseline {}, compared to {}):", d.d, d.p, opt(d.b), opt(d.c));
    for q in &summary.queries {
        let rows = q.rows.map_or_else(String::new, |r| format!("{r} rows"));
        println!("  {:<30} {:>12} {:>7} ms", q.name, rows, q.duration_ms);
    }
    println!("Written under {warehouse}/{}/", layout::MARTS_DIR);
}
