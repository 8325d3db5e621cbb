//! `reestr compute`: the marts of one snapshot date.

use crate::Error;
use crate::cli::{ComputeArgs, DateOverrides};
use crate::compute::{ComputeRequest, ComputeSummary, compute};

pub async fn run(args: ComputeArgs, quiet: bool) -> Result<(), Error> {
    let _lock = super::lock(&args.warehouse).await?;
    let request = request(args.warehouse, args.as_of, args.dates);
    let summary = compute(&request).await?;
    if !quiet {
        report(&request, &summary);
    }
    Ok(())
}

pub fn request(warehouse: String, as_of: chrono::NaiveDate, dates: DateOverrides) -> ComputeRequest {
    ComputeRequest { warehouse, as_of, period: dates.period, baseline: dates.baseline, compare_to: dates.compare_to }
}

pub fn report(request: &ComputeRequest, summary: &ComputeSummary) {
    let d = summary.dates;
    let opt = |x: Option<chrono::NaiveDate>| x.map_or_else(|| "none".to_string(), |x| x.to_string());
    println!("Marts of {} (period {}, baseline {}, compared to {}):", d.d, d.p, opt(d.b), opt(d.c));
    for q in &summary.queries {
        let rows = q.rows.map_or_else(String::new, |r| format!("{r} rows"));
        println!("  {:<30} {:>12} {:>7} ms", q.name, rows, q.duration_ms);
    }
    println!("Written under {}/marts/", request.warehouse);
}
