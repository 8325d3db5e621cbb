//! The gate: before a computed date is published, its marts and run manifest
//! are compared with those of the last good date — the latest earlier date
//! with marts whose last attempt passed the gate or was accepted (or that
//! the run log does not know: computed by hand, or before the gate existed). A date a rule fires for is held: its partitions
//! and marts stay (for `reestr sql`), but nothing is published from it until
//! someone accepts it (`reestr publish --as-of D --accept "reason"`).
//!
//! The comparison is `queries/gate/gate.sql` (run by `compute::gate`); here
//! are the settings, the verdict the run log keeps, and the words.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::history::RunLog;
use crate::compute::ComputeError;
use crate::compute::gate::{FiredRule, GateLimits, compare};
use crate::publish::russian::Russian;
use crate::warehouse::{Warehouse, layout};

/// `[gate]` of `reestr.toml`. The defaults here are the documented ones;
/// `reestr run` and `reestr demo`, which read no configuration, use them.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// `false` publishes every date unchecked.
    pub enabled: bool,
    /// The union's members on record may fall by at most this share (%).
    pub members_drop_pct: f64,
    /// A region's members may fall by at most this share (%), and not to zero.
    pub region_members_drop_pct: f64,
    /// A table's loaded rows may fall by at most this share (%).
    pub table_rows_drop_pct: f64,
    /// The snapshot may reject at most this share (%) of the rows it read.
    pub rejected_rows_pct: f64,
}

impl Default for GateConfig {
    fn default() -> GateConfig {
        GateConfig {
            enabled: true,
            members_drop_pct: 10.0,
            region_members_drop_pct: 30.0,
            table_rows_drop_pct: 20.0,
            rejected_rows_pct: 5.0,
        }
    }
}

impl GateConfig {
    /// A limit that is not a percentage between 0 and 100 is a mistake in
    /// the file: named rather than a gate that never (or always) fires.
    pub fn check(&self) -> Result<(), String> {
        for (key, value) in [
            ("members_drop_pct", self.members_drop_pct),
            ("region_members_drop_pct", self.region_members_drop_pct),
            ("table_rows_drop_pct", self.table_rows_drop_pct),
            ("rejected_rows_pct", self.rejected_rows_pct),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(format!("[gate] {key} = {value} is not a percentage from 0 to 100"));
            }
        }
        Ok(())
    }

    fn limits(&self) -> GateLimits {
        GateLimits {
            members_drop_pct: self.members_drop_pct,
            region_members_drop_pct: self.region_members_drop_pct,
            table_rows_drop_pct: self.table_rows_drop_pct,
            rejected_rows_pct: self.rejected_rows_pct,
        }
    }
}

/// What the gate decided for one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Nothing suspicious (or nothing to compare with): publishable.
    Passed,
    /// A rule fired: not published until accepted.
    Held,
    /// `[gate] enabled = false`: not checked.
    Off,
}

/// The gate's verdict on a date, as the run log keeps it and the job reports
/// it (the notifier reads `outcome`, `summary` and `rules`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// The last good date it was compared with; none for the first snapshot.
    #[serde(default)]
    pub compared_with: Option<NaiveDate>,
    /// One line: why it passed, or the worst rule that fired (and how many
    /// more did).
    pub summary: String,
    /// Every rule that fired, worst first.
    #[serde(default)]
    pub rules: Vec<Fired>,
}

/// A rule that fired: the query's figures and their words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fired {
    #[serde(flatten)]
    pub figures: FiredRule,
    pub message: String,
}

impl Verdict {
    pub fn is_held(&self) -> bool {
        self.outcome == Outcome::Held
    }

    fn passed(compared_with: Option<NaiveDate>, summary: String) -> Verdict {
        Verdict { outcome: Outcome::Passed, compared_with, summary, rules: Vec::new() }
    }
}

/// The gate's verdict on `as_of`, whose marts were just computed.
pub async fn check(
    warehouse: &Warehouse,
    log: &RunLog,
    as_of: NaiveDate,
    config: &GateConfig,
) -> Result<Verdict, ComputeError> {
    if !config.enabled {
        return Ok(Verdict {
            outcome: Outcome::Off,
            compared_with: None,
            summary: "not checked: the gate is off ([gate] enabled = false)".into(),
            rules: Vec::new(),
        });
    }
    let computed = warehouse.partition_dates(&layout::mart_dir("national")).await?;
    let Some(before) = last_good_before(&computed, log, as_of) else {
        return Ok(Verdict::passed(
            None,
            "passed: the first snapshot of the warehouse, nothing to compare with".into(),
        ));
    };
    let Some(fired) = compare(warehouse, as_of, before, &config.limits()).await? else {
        return Ok(Verdict::passed(Some(before), format!("passed: {before} has no marts to compare with")));
    };
    if fired.is_empty() {
        return Ok(Verdict::passed(Some(before), format!("passed: no rule fired against {before}")));
    }
    let ru = Russian::new();
    let rules: Vec<Fired> = fired.into_iter().map(|f| Fired { message: describe(&f, &ru), figures: f }).collect();
    let more = match rules.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more rule)".into(),
        n => format!(" (and {n} more rules)"),
    };
    let summary = format!("{}{more}, against {before}", rules[0].message);
    Ok(Verdict { outcome: Outcome::Held, compared_with: Some(before), summary, rules })
}

/// The last good date before `as_of`: the latest with marts that may be
/// published (`RunLog::is_good`: not held, not left half-done).
pub fn last_good_before(computed: &[NaiveDate], log: &RunLog, as_of: NaiveDate) -> Option<NaiveDate> {
    computed.iter().copied().filter(|d| *d < as_of && log.is_good(*d)).max()
}

/// A fired rule in words, its figures in Russian number formats:
/// «members fell from 3 098 599 to 1 512 004, −51,2 % (limit −10 %)».
pub fn describe(rule: &FiredRule, ru: &Russian) -> String {
    let int = |n: Option<i64>| n.map_or_else(|| "none".to_string(), |n| ru.integer(n));
    let change = rule.change_pct.map(|c| ru.signed_percent(c, 1)).unwrap_or_default();
    let limit = |sign: &str| {
        rule.limit_pct.map_or_else(String::new, |l| {
            let decimals = if l.fract() == 0.0 { 0 } else { 1 };
            format!(" (limit {sign}{})", ru.percent(l, decimals))
        })
    };
    let region = || match &rule.scope_name {
        Some(name) => format!("region {} ({name})", rule.scope),
        None => format!("region {}", rule.scope),
    };
    let report =
        rule.report_date.map_or_else(|| "the official report".to_string(), |d| format!("the official report of {d}"));
    match rule.rule.as_str() {
        "members_drop" => {
            format!("members fell from {} to {}, {change}{}", int(rule.before), int(rule.after), limit("\u{2212}"))
        }
        "region_members_drop" if rule.after == Some(0) => {
            format!("members of {} fell from {} to 0", region(), int(rule.before))
        }
        "region_members_drop" => format!(
            "members of {} fell from {} to {}, {change}{}",
            region(),
            int(rule.before),
            int(rule.after),
            limit("\u{2212}")
        ),
        "table_rows_drop" => format!(
            "rows loaded into {} fell from {} to {}, {change}{}",
            rule.scope,
            int(rule.before),
            int(rule.after),
            limit("\u{2212}")
        ),
        "rejected_rows" => format!(
            "the snapshot rejected {} of {} rows read, {}{}",
            int(rule.after),
            int(rule.total),
            rule.change_pct.map(|c| ru.percent(c, 1)).unwrap_or_default(),
            limit("")
        ),
        "official_report_vanished" if rule.scope == "national" => {
            format!("{report} ({} members) is missing from the snapshot", int(rule.before))
        }
        "official_report_vanished" => {
            format!("{} is missing from {report} (it had {} members)", region(), int(rule.before))
        }
        // A rule of a newer engine, read back from the run log.
        other => format!("{other} fired for {}", rule.scope),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, scope: &str, before: Option<i64>, after: Option<i64>, change: Option<f64>) -> FiredRule {
        FiredRule {
            rule: name.into(),
            scope: scope.into(),
            scope_name: (scope != "national").then(|| "Москва".into()),
            before,
            after,
            total: None,
            change_pct: change,
            limit_pct: Some(10.0),
            report_date: None,
        }
    }

    #[test]
    fn rules_are_worded_with_russian_numbers() {
        let ru = Russian::new();
        let members = rule("members_drop", "national", Some(3_098_599), Some(1_512_004), Some(-51.204));
        assert_eq!(
            describe(&members, &ru),
            "members fell from 3\u{a0}098\u{a0}599 to 1\u{a0}512\u{a0}004, \u{2212}51,2\u{a0}% (limit \u{2212}10\u{a0}%)"
        );
        let zero = rule("region_members_drop", "77", Some(12), Some(0), Some(-100.0));
        assert_eq!(describe(&zero, &ru), "members of region 77 (Москва) fell from 12 to 0");
        let mut rejects = rule("rejected_rows", "snapshot", None, Some(600), Some(6.0));
        rejects.total = Some(10_000);
        rejects.limit_pct = Some(5.5);
        assert_eq!(
            describe(&rejects, &ru),
            "the snapshot rejected 600 of 10\u{a0}000 rows read, 6,0\u{a0}% (limit 5,5\u{a0}%)"
        );
        let mut gone = rule("official_report_vanished", "national", Some(5), None, None);
        gone.report_date = NaiveDate::from_ymd_opt(2023, 1, 1);
        assert_eq!(describe(&gone, &ru), "the official report of 2023-01-01 (5 members) is missing from the snapshot");
    }

    #[test]
    fn the_last_good_date_skips_held_dates_and_later_ones() {
        use super::super::history::{Attempt, Status};
        use chrono::{TimeZone, Utc};
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let at = |d: u32, minute: u32, status| Attempt {
            as_of: day(d),
            snapshot: String::new(),
            started: Utc.with_ymd_and_hms(2026, 12, 1, 2, minute, 0).unwrap(),
            finished: Utc.with_ymd_and_hms(2026, 12, 1, 2, minute, 0).unwrap(),
            status,
            error: None,
            engine_version: "test".into(),
            gate: None,
            accepted: None,
        };
        // 1 computed by hand (no log), 2 passed, 3 held, 4 held then accepted.
        let log = RunLog {
            attempts: vec![
                at(2, 0, Status::Ok),
                at(3, 1, Status::Held),
                at(4, 2, Status::Held),
                at(4, 3, Status::Accepted),
            ],
        };
        let computed = [day(1), day(2), day(3), day(4)];
        assert_eq!(last_good_before(&computed, &log, day(4)), Some(day(2)), "3 is held");
        assert_eq!(last_good_before(&computed, &log, day(5)), Some(day(4)), "4 was accepted");
        assert_eq!(last_good_before(&computed, &log, day(2)), Some(day(1)), "a date computed by hand counts");
        assert_eq!(last_good_before(&computed, &log, day(1)), None, "the first has nothing before it");
    }

    #[test]
    fn limits_outside_0_to_100_are_refused() {
        assert!(GateConfig::default().check().is_ok());
        let bad = GateConfig { rejected_rows_pct: 150.0, ..GateConfig::default() };
        assert!(bad.check().unwrap_err().contains("rejected_rows_pct = 150"));
    }
}
