//! Every path of the warehouse, relative to its location, in one place:
//! the registry, rejects, manifests, marts, the run log, the lock, staging,
//! and the published site, exports and briefings.
//!
//! ```text
//! registry/<table>/as_of=<D>/<table>.parquet   loaded rows, one file per table and date
//! rejects/as_of=<D>/<table>.csv                rows not loaded, with the reason
//! runs/<D>/manifest.json                       what the run read, loaded and wrote
//! runs/log/<started>-<D>.json                  one attempt at a snapshot (the run log)
//! marts/<mart>/as_of=<D>/<mart>.parquet|.csv   the KPI marts
//! site/ (site/build.json)                      the published dashboards, and what they show
//! exports/<D>/, briefings/<D>/, bundles/<D>/  the published files of a date
//! _staging/<run>/…                             a run in progress (never read by users)
//! _lock, _lock.json                            the lock (local disk) or lease (object store)
//! ```

use chrono::{DateTime, NaiveDate, Utc};

use crate::contract::values::parse_iso_date;

pub const STAGING: &str = "_staging";
/// The lock file on local disk (held by the operating system).
pub const LOCK_FILE: &str = "_lock";
/// The lease object on an object store.
pub const LEASE_OBJECT: &str = "_lock.json";
/// The run log's folder: one JSON object per attempt.
pub const RUN_LOG_DIR: &str = "runs/log";
/// The published site, and the record of which date it shows.
pub const SITE_DIR: &str = "site";
pub const SITE_BUILD: &str = "site/build.json";
pub const SITE_INDEX: &str = "site/index.html";
pub const MARTS_DIR: &str = "marts";

/// `as_of=<D>`: a date's partition folder.
pub fn partition(as_of: NaiveDate) -> String {
    format!("as_of={}", as_of.format("%Y-%m-%d"))
}

/// The date of a partition folder's name, if it is one.
pub fn partition_date(folder: &str) -> Option<NaiveDate> {
    folder.strip_prefix("as_of=").and_then(parse_iso_date)
}

pub fn registry_table_dir(table: &str) -> String {
    format!("registry/{table}")
}

pub fn registry_dir(table: &str, as_of: NaiveDate) -> String {
    format!("{}/{}", registry_table_dir(table), partition(as_of))
}

pub fn registry_file(table: &str, as_of: NaiveDate) -> String {
    format!("{}/{table}.parquet", registry_dir(table, as_of))
}

pub fn rejects_dir(as_of: NaiveDate) -> String {
    format!("rejects/{}", partition(as_of))
}

pub fn rejects_file(table: &str, as_of: NaiveDate) -> String {
    format!("{}/{table}.csv", rejects_dir(as_of))
}

pub fn manifest_file(as_of: NaiveDate) -> String {
    format!("runs/{}/manifest.json", as_of.format("%Y-%m-%d"))
}

/// One attempt's entry in the run log, named so that names sort by start.
pub fn run_log_file(started: DateTime<Utc>, as_of: NaiveDate) -> String {
    format!("{RUN_LOG_DIR}/{}-{as_of}.json", started.format("%Y%m%dT%H%M%S%.3fZ"))
}

/// A mart's folder over every date.
pub fn mart_dir(mart: &str) -> String {
    format!("{MARTS_DIR}/{mart}")
}

/// A mart's folder of one date.
pub fn mart_partition(mart: &str, as_of: NaiveDate) -> String {
    format!("{}/{}", mart_dir(mart), partition(as_of))
}

/// A mart's file of one date; `ext` is `parquet` or `csv`.
pub fn mart_file(mart: &str, as_of: NaiveDate, ext: &str) -> String {
    format!("{}/{mart}.{ext}", mart_partition(mart, as_of))
}

pub fn exports_dir(as_of: NaiveDate) -> String {
    format!("exports/{as_of}")
}

/// A region's worklist, relative to the exports folder of its date.
pub fn worklist_in_exports(region_code: &str) -> String {
    format!("worklists/{region_code}.xlsx")
}

pub fn briefings_dir(as_of: NaiveDate) -> String {
    format!("briefings/{as_of}")
}

/// The bundles of a date: one zip per federal district and regional organization.
pub fn bundles_dir(as_of: NaiveDate) -> String {
    format!("bundles/{as_of}")
}

/// A bundle's file name, `<kind>-<code>.zip`, `kind` being `district` or `region`.
pub fn bundle_name(kind: &str, code: &str) -> String {
    format!("{kind}-{code}.zip")
}

/// `bundles/<D>/<kind>-<code>.zip`.
pub fn bundle_file(as_of: NaiveDate, kind: &str, code: &str) -> String {
    format!("{}/{}", bundles_dir(as_of), bundle_name(kind, code))
}

pub fn briefing_html(as_of: NaiveDate) -> String {
    format!("{}/briefing.html", briefings_dir(as_of))
}

/// A run's id, one format for every step: when it started (sortable), the
/// step, the snapshot date if it has one, and the process (two processes
/// started in the same millisecond differ).
pub fn run_id(started: DateTime<Utc>, step: &str, as_of: Option<NaiveDate>) -> String {
    let date = as_of.map(|d| format!("-{d}")).unwrap_or_default();
    format!("{}-{step}{date}-{}", started.format("%Y%m%dT%H%M%S%.3fZ"), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_a_date() {
        let d = parse_iso_date("2023-11-21").unwrap();
        assert_eq!(registry_file("members", d), "registry/members/as_of=2023-11-21/members.parquet");
        assert_eq!(mart_file("regions", d, "csv"), "marts/regions/as_of=2023-11-21/regions.csv");
        assert_eq!(bundle_file(d, "district", "CFD"), "bundles/2023-11-21/district-CFD.zip");
        assert_eq!(partition_date("as_of=2023-11-21"), Some(d));
        assert_eq!(partition_date("2023-11-21"), None);
        let started = DateTime::parse_from_rfc3339("2026-12-03T01:02:03.456Z").unwrap().with_timezone(&Utc);
        let id = run_id(started, "ingest", Some(d));
        assert!(id.starts_with("20261203T010203.456Z-ingest-2023-11-21-"), "{id}");
        assert_eq!(run_log_file(started, d), "runs/log/20261203T010203.456Z-2023-11-21.json");
    }
}
