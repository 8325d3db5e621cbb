//! The quarterly monitoring (decree items 4.2, 6): the «Мониторинг качества
//! данных» page, and the quarterly series of each district and region page.
//! Every figure is a row of quarterly_kpis, quarterly_quality or
//! monitoring_regions; this module only lines the quarters up and orders rows.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use minijinja::{Value, context};
use serde::Serialize;

use super::super::charts::{self, Sparkline};
use super::super::marts::{MonitoringRegion, QuarterCheck, QuarterKpis};
use super::{RegionView, Site, short_date};
use crate::contract::QualityCheck;

/// Quarters a page shows: the last two years and the quarter running.
const QUARTERS_SHOWN: usize = 9;
/// Regions in each of the page's «most improved» and «most worsened» lists.
const LEADERS: usize = 10;

/// A quarter column: `III кв. 2023`, and the snapshot that stands for it.
#[derive(Debug, Clone, Serialize)]
pub struct QuarterColumn {
    pub quarter_end: NaiveDate,
    pub label: String,
    /// The snapshot that represents the quarter, as a short date.
    pub snapshot_as_of: String,
    pub complete: bool,
}

/// One indicator of one scope over the quarters, as a table row.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesRow {
    pub title: String,
    pub href: Option<String>,
    /// `int` (counts), `pct` (shares, changes in points).
    pub format: &'static str,
    /// One per quarter column; null where the quarter has no value.
    pub values: Vec<Option<f64>>,
    pub change_quarter: Option<f64>,
    pub change_year: Option<f64>,
    pub trend_quarter: Option<String>,
    pub trend_year: Option<String>,
    pub spark: Option<Sparkline>,
    /// The values as text, read after the row's title by a screen reader
    /// («I кв. 2023: 12,5 %; …»), which skips the sparkline.
    pub spoken: String,
}

/// The quarterly figures of one scope: the union (`national`, no code), a
/// federal district or a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'s> {
    National,
    District(&'s str),
    Region(&'s str),
}

impl Scope<'_> {
    fn holds_kpis(&self, r: &QuarterKpis) -> bool {
        self.holds(&r.scope, r.federal_district.as_deref(), r.region_code.as_deref())
    }

    fn holds_check(&self, r: &QuarterCheck) -> bool {
        self.holds(&r.scope, r.federal_district.as_deref(), r.region_code.as_deref())
    }

    fn holds(&self, scope: &str, district: Option<&str>, region: Option<&str>) -> bool {
        match self {
            Scope::National => scope == "national",
            Scope::District(code) => scope == "district" && district == Some(code),
            Scope::Region(code) => scope == "region" && region == Some(code),
        }
    }
}

impl<'a> Site<'a> {
    /// The quarters the pages show, oldest first: those of the union's rows
    /// in either quarterly mart (a warehouse computed before history_kpis
    /// existed has the checks' history without the KPIs').
    pub(super) fn quarter_columns(&self) -> Vec<QuarterColumn> {
        let mut rows: BTreeMap<NaiveDate, (i64, i64, NaiveDate, bool)> = BTreeMap::new();
        for r in self.marts.quarterly_kpis.iter().filter(|r| Scope::National.holds_kpis(r)) {
            rows.insert(r.quarter_end, (r.quarter, r.quarter_year, r.snapshot_as_of, r.complete));
        }
        for r in self.marts.quarterly_quality.iter().filter(|r| Scope::National.holds_check(r)) {
            rows.entry(r.quarter_end).or_insert((r.quarter, r.quarter_year, r.snapshot_as_of, r.complete));
        }
        let rows: Vec<_> = rows.into_iter().collect();
        rows[rows.len().saturating_sub(QUARTERS_SHOWN)..]
            .iter()
            .map(|(quarter_end, (quarter, year, snapshot, complete))| QuarterColumn {
                quarter_end: *quarter_end,
                label: format!("{}{}", self.ru.quarter(*quarter, *year), if *complete { "" } else { "*" }),
                snapshot_as_of: short_date(*snapshot),
                complete: *complete,
            })
            .collect()
    }

    /// Members, coverage and auto reports of a scope, quarter by quarter.
    pub(super) fn kpi_series(&self, scope: Scope, quarters: &[QuarterColumn]) -> Vec<SeriesRow> {
        let rows: BTreeMap<NaiveDate, &QuarterKpis> =
            self.marts.quarterly_kpis.iter().filter(|r| scope.holds_kpis(r)).map(|r| (r.quarter_end, r)).collect();
        let last = quarters.last().and_then(|q| rows.get(&q.quarter_end));
        type Pick = fn(&QuarterKpis) -> (Option<f64>, Option<f64>, Option<f64>);
        let kpis: [(&str, &'static str, Pick); 3] = [
            ("Члены Профсоюза в реестре", "int", |r| {
                (
                    r.members.map(|m| m as f64),
                    r.members_change_quarter.map(|c| c as f64),
                    r.members_change_year.map(|c| c as f64),
                )
            }),
            ("Охват реестром", "pct", |r| {
                (r.coverage_pct, r.coverage_pct_change_quarter, r.coverage_pct_change_year)
            }),
            ("Автоматические отчёты первичных организаций", "pct", |r| {
                (
                    r.primary_auto_reports_pct,
                    r.primary_auto_reports_pct_change_quarter,
                    r.primary_auto_reports_pct_change_year,
                )
            }),
        ];
        kpis.iter()
            .map(|&(title, format, pick)| {
                let values: Vec<Option<f64>> =
                    quarters.iter().map(|q| rows.get(&q.quarter_end).and_then(|r| pick(r).0)).collect();
                let (_, change_quarter, change_year) = last.map_or((None, None, None), |r| pick(r));
                self.series_row(title, None, format, values, quarters, (change_quarter, change_year), (None, None))
            })
            .collect()
    }

    /// One check of a scope, quarter by quarter: the share for counted
    /// checks, the gap itself for gap checks.
    pub(super) fn check_series(
        &self,
        scope: Scope,
        check: &QualityCheck,
        title: &str,
        href: Option<String>,
        quarters: &[QuarterColumn],
    ) -> SeriesRow {
        let rows: BTreeMap<NaiveDate, &QuarterCheck> = self
            .marts
            .quarterly_quality
            .iter()
            .filter(|r| r.check == check.check && scope.holds_check(r))
            .map(|r| (r.quarter_end, r))
            .collect();
        let gap = rows.values().any(|r| r.unit == "gap");
        let value = |r: &QuarterCheck| if gap { r.affected.map(|a| a as f64) } else { r.affected_pct };
        let values: Vec<Option<f64>> =
            quarters.iter().map(|q| rows.get(&q.quarter_end).and_then(|r| value(r))).collect();
        let last = quarters.last().and_then(|q| rows.get(&q.quarter_end));
        let changes = last.map_or((None, None), |r| {
            if gap {
                (r.affected_change_quarter.map(|c| c as f64), r.affected_change_year.map(|c| c as f64))
            } else {
                (r.affected_pct_change_quarter, r.affected_pct_change_year)
            }
        });
        let trends = last.map_or((None, None), |r| (r.trend_quarter.clone(), r.trend_year.clone()));
        self.series_row(title, href, if gap { "int" } else { "pct" }, values, quarters, changes, trends)
    }

    #[allow(clippy::too_many_arguments)]
    fn series_row(
        &self,
        title: &str,
        href: Option<String>,
        format: &'static str,
        values: Vec<Option<f64>>,
        quarters: &[QuarterColumn],
        (change_quarter, change_year): (Option<f64>, Option<f64>),
        (trend_quarter, trend_year): (Option<String>, Option<String>),
    ) -> SeriesRow {
        let ru = &self.ru;
        let shown = |v: Option<f64>| match (v, format) {
            (None, _) => "нет данных".to_string(),
            (Some(v), "int") => ru.integer(v.round() as i64).replace('-', "\u{2212}"),
            (Some(v), _) => ru.percent(v, 1),
        };
        let spoken = quarters
            .iter()
            .zip(&values)
            .map(|(q, v)| format!("{}: {}", q.label.trim_end_matches('*'), shown(*v)))
            .collect::<Vec<_>>()
            .join("; ");
        SeriesRow {
            title: title.to_string(),
            href,
            format,
            spark: charts::sparkline(&values),
            values,
            change_quarter,
            change_year,
            trend_quarter,
            trend_year,
            spoken,
        }
    }

    /// A district's or region's page section: its KPIs and checks by quarter.
    pub(super) fn quarterly_section(&self, scope: Scope) -> Value {
        let quarters = self.quarter_columns();
        let mut rows = self.kpi_series(scope, &quarters);
        for check in QualityCheck::all() {
            rows.push(self.check_series(scope, check, &check.title, None, &quarters));
        }
        context! { quarters => quarters, rows => rows }
    }

    pub(super) fn monitoring(&self, regions: &[RegionView<'a>]) -> Value {
        let quarters = self.quarter_columns();
        let mut districts: Vec<_> = self.reference.districts.iter().collect();
        districts.sort_by_key(|d| d.sort_order);
        let scopes: Vec<(Scope, String, Option<String>)> =
            std::iter::once((Scope::National, "Профсоюз".to_string(), None))
                .chain(districts.iter().map(|d| {
                    (
                        Scope::District(d.district_code.as_str()),
                        d.short_name.clone(),
                        Some(format!("districts/{}.html", d.district_code)),
                    )
                }))
                .collect();
        // Per headline KPI and per check: the union and the districts.
        let mut kpis: Vec<(String, Vec<SeriesRow>)> = Vec::new();
        for (scope, name, href) in &scopes {
            for (i, mut row) in self.kpi_series(*scope, &quarters).into_iter().enumerate() {
                if kpis.len() <= i {
                    kpis.push((row.title.clone(), Vec::new()));
                }
                row.title = name.clone();
                row.href = href.clone();
                kpis[i].1.push(row);
            }
        }
        let checks: Vec<Value> = QualityCheck::all()
            .iter()
            .map(|check| {
                let rows: Vec<SeriesRow> = scopes
                    .iter()
                    .map(|(scope, name, href)| self.check_series(*scope, check, name, href.clone(), &quarters))
                    .collect();
                context! { check => check.check, title => check.title, action => check.action, rows => rows }
            })
            .collect();
        // The regions, most improved first, with the monitored checks.
        let monitored: Vec<&QualityCheck> = QualityCheck::all().iter().filter(|c| c.monitored).collect();
        let by_code: BTreeMap<&str, &RegionView> = regions.iter().map(|r| (r.row.region_code.as_str(), r)).collect();
        let mut ranked: Vec<&MonitoringRegion> = self.marts.monitoring_regions.iter().collect();
        ranked.sort_by_key(|m| (m.balance_quarter_rank, std::cmp::Reverse(m.checks_compared_quarter)));
        let last_quarter = quarters.last().map(|q| q.quarter_end);
        let region_rows: Vec<(&MonitoringRegion, Value)> = ranked
            .iter()
            .filter_map(|m| {
                let region = by_code.get(m.region_code.as_str())?;
                let cells: Vec<Option<&QuarterCheck>> = monitored
                    .iter()
                    .map(|check| {
                        self.marts.quarterly_quality.iter().find(|q| {
                            q.check == check.check
                                && Scope::Region(&m.region_code).holds_check(q)
                                && Some(q.quarter_end) == last_quarter
                        })
                    })
                    .collect();
                Some((*m, context! { region => region, m => m, cells => cells }))
            })
            .collect();
        let improved: Vec<&Value> =
            region_rows.iter().filter(|(m, _)| m.balance_quarter > 0).map(|(_, v)| v).take(LEADERS).collect();
        let worsened: Vec<&Value> =
            region_rows.iter().rev().filter(|(m, _)| m.balance_quarter < 0).map(|(_, v)| v).take(LEADERS).collect();
        let region_rows: Vec<&Value> = region_rows.iter().map(|(_, v)| v).collect();
        context! {
            quarters => quarters,
            kpis => kpis.into_iter().map(|(title, rows)| context! { title => title, rows => rows }).collect::<Vec<_>>(),
            checks => checks,
            monitored => monitored,
            regions => region_rows,
            improved => improved,
            worsened => worsened,
        }
    }
}
