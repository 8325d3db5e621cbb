//! Synthetic registry snapshots for the demo, tests at size and benchmarks,
//! calibrated to the Executive Committee decree of 6 December 2023 No 19-8.
//!
//! `plan` decides how many of everything each region has so that the marts
//! of 2023-11-21 and 2022-11-21 reproduce the decree exactly (at `scale` 1);
//! `world` draws one registry history from the plan and a seed and writes
//! what the registry knew on the snapshot's date. Deterministic for a seed;
//! streamed to disk row by row, so `--scale 10` needs little more memory than
//! `--scale 0.01`. `messy` writes what office exports look like:
//! windows-1251 with `;`, `DD.MM.YYYY`, `да/нет`, Cyrillic form names, comma
//! decimals, personal-data columns and a few hundred rows broken on purpose.

pub mod apportion;
pub mod plan;
pub mod rng;
mod sink;
mod world;

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use thiserror::Error;
use tracing::debug;

use crate::contract::Contract;
use plan::Plan;
use sink::{Form, Sink};
use world::{Buyers, Snapshot};

#[derive(Debug, Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("--scale must be between 0.0001 and 100, not {0}")]
    BadScale(f64),
}

#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub out: PathBuf,
    pub as_of: NaiveDate,
    /// 1.0 = the union's full size.
    pub scale: f64,
    pub seed: u64,
    pub messy: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Generated {
    pub organizations: u64,
    pub members: u64,
    pub stat_reports: u64,
    pub purchases: u64,
    /// Rows written to break the contract on purpose (messy only).
    pub broken: u64,
}

/// Writes one snapshot folder `<out>/`: the world of `seed` as known on
/// `as_of`, and returns what it holds.
pub fn generate(request: &GenerateRequest) -> Result<Generated, GenerateError> {
    if !(0.0001..=100.0).contains(&request.scale) {
        return Err(GenerateError::BadScale(request.scale));
    }
    let dir = &request.out;
    std::fs::create_dir_all(dir).map_err(|source| GenerateError::Write { path: dir.display().to_string(), source })?;
    let contract = Contract::embedded();
    let header = |table: &str| -> Vec<&'static str> {
        contract.table(table).expect("contract table").columns.iter().map(|c| c.name.as_str()).collect()
    };
    let messy = request.messy;
    let mut org_header = header("organizations");
    let mut member_header = header("members");
    if messy {
        org_header.push("chair_phone");
        member_header.extend(["full_name", "phone", "card_number", "email", "birth_date"]);
    }
    let plan = Plan::build(request.scale, request.seed);
    let mut snap = Snapshot {
        as_of: request.as_of,
        form: Form { messy },
        orgs: Sink::create(dir, "organizations", &org_header, messy)?,
        members: Sink::create(dir, "members", &member_header, messy)?,
        reports: Sink::create(dir, "stat_reports", &header("stat_reports"), messy)?,
        official: Sink::create(dir, "official_stats", &header("official_stats"), messy)?,
        purchases: Sink::create(dir, "profcards_purchases", &header("profcards_purchases"), messy)?,
        stats: Generated::default(),
    };
    let mut next_member = 0u64;
    let mut buyers = Buyers::default();
    for region in &plan.regions {
        world::write_region(&mut snap, region, request.seed, &mut next_member, &mut buyers)?;
        world::write_official(&mut snap, region)?;
        debug!("generated region {}: {} members so far", region.code, snap.stats.members);
    }
    world::write_purchases(&mut snap, &plan, request.seed, &buyers)?;
    let Snapshot { orgs, members, reports, official, purchases, stats, .. } = snap;
    for sink in [orgs, members, reports, official, purchases] {
        sink.finish()?;
    }
    Ok(stats)
}

/// The date the demo's calibration is made for, and its year before.
pub fn decree_dates() -> (NaiveDate, NaiveDate) {
    (plan::decree_date(), plan::year_before())
}

/// The demo's snapshot dates, oldest first: the year before, the last day of
/// each quarter between (so the quarterly monitoring has a year of quarters
/// to show), and the decree's date.
pub fn demo_dates() -> Vec<NaiveDate> {
    let (d, c) = decree_dates();
    let mut dates = vec![c];
    // The first quarter end after C, then every three months up to D.
    let mut quarter = NaiveDate::from_ymd_opt(c.year(), c.month0() / 3 * 3 + 1, 1).expect("a quarter start");
    while let Some(next) = quarter.checked_add_months(chrono::Months::new(3)) {
        quarter = next;
        let last_day = next.pred_opt().expect("a day before");
        if last_day >= d {
            break;
        }
        if last_day > c {
            dates.push(last_day);
        }
    }
    dates.push(d);
    dates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_the_year_before_each_quarter_s_last_day_and_the_decree_s_date() {
        let days: Vec<String> = demo_dates().iter().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2022-11-21", "2022-12-31", "2023-03-31", "2023-06-30", "2023-09-30", "2023-11-21"]);
    }
}
