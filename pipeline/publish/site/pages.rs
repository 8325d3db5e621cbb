//! What each page of the site shows: the rows of the marts it lists, in the
//! order it lists them, and its charts. Every figure is a mart's column; the
//! order of rows follows the marts' rank columns (or a column's value, for
//! the districts), and the lists (bands, unchanged coverage, online joining
//! above the threshold, all reported) are the marts' flags.

use std::collections::BTreeMap;

use minijinja::{Value, context};

use super::super::charts::{self, BarInput, TileInput};
use super::super::marts::{District, National};
use super::monitoring::Scope;
use super::{REGION_PAGE_ORGS, RegionView, Site, band_class, by_rank, desc, month_label, short_date};
use crate::contract::HeadlineIndicator;

impl<'a> Site<'a> {
    pub(super) fn overview(&self) -> Value {
        let n = &self.marts.national;
        let ru = &self.ru;
        let history: Vec<&National> = self.marts.history.iter().collect();
        let trend = (history.len() > 1).then(|| {
            charts::trend(
                "Члены Профсоюза в реестре по датам снимков",
                history.iter().map(|h| (short_date(h.as_of), h.members as f64, ru.integer(h.members))).collect(),
                |v| ru.integer(v as i64),
            )
        });
        let mut districts: Vec<&District> = self.marts.districts.iter().collect();
        districts.sort_by(|a, b| desc(a.coverage_pct, b.coverage_pct));
        let district_chart = charts::bars(
            "Охват по федеральным округам",
            districts
                .iter()
                .map(|d| BarInput {
                    label: d.district_name.clone(),
                    value: d.coverage_pct.unwrap_or(0.0),
                    shown: d.coverage_pct.map_or("—".into(), |p| ru.percent(p, 1)),
                    class: band_class(d.coverage_band.as_deref()).into(),
                    href: Some(format!("districts/{}.html", d.federal_district)),
                })
                .collect(),
            Some(100.0),
            25.0,
            |v| ru.percent(v, 0),
            n.coverage_pct.map(|p| (p, format!("Профсоюз: {}", ru.percent(p, 1)))),
        );
        context! {
            n => n,
            prev => self.marts.national_prev,
            changes => self.marts.national_changes,
            indicators => HeadlineIndicator::all().iter().map(|i| (i.indicator.as_str(), i)).collect::<std::collections::BTreeMap<_, _>>(),
            trend => trend,
            district_chart => district_chart,
            districts => districts,
        }
    }

    pub(super) fn coverage(&self, regions: &[RegionView<'a>]) -> Value {
        let bands: Vec<Value> = self
            .bands
            .iter()
            .map(|band| {
                let mut members: Vec<&RegionView> =
                    regions.iter().filter(|r| r.row.coverage_band.as_ref() == Some(&band.row.band)).collect();
                by_rank(&mut members, |r| r.row.coverage_rank);
                context! { code => band.row.band, label => band.label, class => band.class, count => band.row.regions, regions => members }
            })
            .collect();
        let no_baseline: Vec<&RegionView> = regions.iter().filter(|r| r.row.coverage_band.is_none()).collect();
        let no_baseline_count = self.marts.regions_summary.regions_without_baseline;
        let mut ranked: Vec<&RegionView> = regions.iter().collect();
        by_rank(&mut ranked, |r| r.row.coverage_rank);
        let unchanged: Vec<&RegionView> = regions.iter().filter(|r| r.row.coverage_unchanged == Some(true)).collect();
        context! {
            n => &self.marts.national,
            bands => bands,
            legend => self.bands.iter().map(|b| context! { label => b.label, class => b.class }).collect::<Vec<_>>(),
            no_baseline => no_baseline,
            no_baseline_count => no_baseline_count,
            tiles => self.tile_map(regions),
            ranked => ranked,
            unchanged => unchanged,
            unchanged_count => self.marts.regions_summary.regions_coverage_unchanged,
            has_prev => self.marts.national.compared_to.is_some(),
        }
    }

    /// The tile map of the regions' coverage.
    fn tile_map(&self, regions: &[RegionView<'a>]) -> charts::TileMap {
        let ru = &self.ru;
        charts::tile_map(
            "Охват реестром по региональным организациям",
            regions
                .iter()
                .filter_map(|r| {
                    let reference = self.reference.region(&r.row.region_code)?;
                    Some(TileInput {
                        row: reference.tile_row,
                        col: reference.tile_col,
                        code: r.row.region_code.clone(),
                        value: r.row.coverage_pct.map_or("—".into(), |p| ru.decimal(p, 0)),
                        class: r.band_class.into(),
                        title: format!(
                            "{}: {}",
                            reference.short_name,
                            r.row.coverage_pct.map_or("нет данных отчёта".into(), |p| ru.percent(p, 1))
                        ),
                        href: format!("regions/{}.html", r.row.region_code),
                    })
                })
                .collect(),
        )
    }

    pub(super) fn reports(&self, regions: &[RegionView<'a>]) -> Value {
        let mut ranked: Vec<&RegionView> = regions.iter().collect();
        // The decree's appendix: by share, then the larger region first.
        ranked.sort_by_key(|r| std::cmp::Reverse(r.row.primary_orgs));
        by_rank(&mut ranked, |r| r.row.auto_reports_rank);
        let all_reported: Vec<&RegionView> = regions.iter().filter(|r| r.row.all_reported).collect();
        let mut districts: Vec<&District> = self.marts.districts.iter().collect();
        districts.sort_by(|a, b| desc(a.primary_auto_reports_pct, b.primary_auto_reports_pct));
        context! {
            n => &self.marts.national,
            ranked => ranked,
            all_reported => all_reported,
            all_reported_count => self.marts.regions_summary.regions_all_reported,
            districts => districts,
        }
    }

    pub(super) fn profcards(&self, regions: &[RegionView<'a>]) -> Value {
        let ru = &self.ru;
        let months = &self.marts.profcards_monthly;
        let recent = &months[months.len().saturating_sub(36)..];
        let chart = (!recent.is_empty()).then(|| {
            charts::columns(
                "Покупки по программе ПРОФКАРДС по месяцам",
                recent.iter().map(|m| (month_label(m.month), m.purchases as f64, ru.integer(m.purchases))).collect(),
                |v| ru.integer(v as i64),
            )
        });
        let years: Vec<_> = self.marts.profcards_yearly.iter().filter(|y| !y.ytd).collect();
        let ytd: Vec<_> = self.marts.profcards_yearly.iter().filter(|y| y.ytd).collect();
        let mut ranked: Vec<&RegionView> = regions.iter().collect();
        by_rank(&mut ranked, |r| r.row.profcards_rank);
        let last_months: Vec<_> = months.iter().rev().take(24).collect();
        context! {
            n => &self.marts.national,
            prev => self.marts.national_prev,
            profcards_change => self.marts.national_changes.iter().find(|c| c.indicator == "profcards"),
            chart => chart,
            months => last_months,
            years => years,
            ytd => ytd,
            ranked => ranked,
        }
    }

    pub(super) fn online(&self, regions: &[RegionView<'a>]) -> Value {
        let mut by_online: Vec<&RegionView> = regions.iter().collect();
        by_rank(&mut by_online, |r| r.row.joined_online_rank);
        let above: Vec<&RegionView> =
            by_online.iter().copied().filter(|r| r.row.joined_online_above_threshold).collect();
        let mut by_cards: Vec<&RegionView> = regions.iter().collect();
        by_rank(&mut by_cards, |r| r.row.cards_issued_rank);
        context! {
            n => &self.marts.national,
            prev => self.marts.national_prev,
            by_online => by_online,
            above => above,
            above_count => self.marts.regions_summary.regions_joined_online_above_threshold,
            by_cards => by_cards,
        }
    }

    pub(super) fn quality(&self, regions: &[RegionView<'a>]) -> Value {
        let national = self.checks(None);
        let rows: Vec<Value> = regions
            .iter()
            .map(|r| {
                let counts: BTreeMap<&str, Option<i64>> = self
                    .region_checks(&r.row.region_code)
                    .map(|q| (q.check.as_str(), q.affected))
                    .collect();
                context! { region => r, orgs => r.fix.map(|f| f.orgs), share => r.fix.and_then(|f| f.orgs_to_fix_pct), counts => counts }
            })
            .collect();
        // Worst first: by the share of organizations to fix.
        let mut worst: Vec<(Option<f64>, Value)> =
            regions.iter().map(|r| r.fix.and_then(|f| f.orgs_to_fix_pct)).zip(rows).collect();
        worst.sort_by(|a, b| desc(a.0, b.0));
        let clean: Vec<&RegionView> = regions.iter().filter(|r| r.orgs_to_fix == 0).collect();
        context! {
            national => national,
            regions => worst.into_iter().map(|(_, row)| row).collect::<Vec<_>>(),
            clean => clean,
            clean_count => self.marts.regions_summary.regions_without_worklist,
        }
    }

    pub(super) fn district(&self, district: &'a District, regions: &[RegionView<'a>]) -> Value {
        let ru = &self.ru;
        let mut own: Vec<&RegionView> =
            regions.iter().filter(|r| r.row.federal_district == district.federal_district).collect();
        by_rank(&mut own, |r| r.row.coverage_rank);
        let chart = charts::bars(
            "Охват реестром по региональным организациям округа",
            own.iter()
                .map(|r| BarInput {
                    label: r.short_name.to_string(),
                    value: r.row.coverage_pct.unwrap_or(0.0),
                    shown: r.row.coverage_pct.map_or("—".into(), |p| ru.percent(p, 1)),
                    class: r.band_class.into(),
                    href: Some(format!("../regions/{}.html", r.row.region_code)),
                })
                .collect(),
            Some(100.0),
            25.0,
            |v| ru.percent(v, 0),
            district.coverage_pct.map(|p| (p, format!("Округ: {}", ru.percent(p, 1)))),
        );
        let quarterly = self.quarterly_section(Scope::District(&district.federal_district));
        let flows = self.flows_section(None, Some(&district.federal_district), &own);
        context! {
            d => district,
            n => &self.marts.national,
            flows => flows,
            regions => own,
            chart => chart,
            quarterly => quarterly,
            bundle_zip => self.bundle_link("district", &district.federal_district),
        }
    }

    pub(super) fn region(&self, region: &RegionView<'a>) -> Value {
        let district = self.marts.districts.iter().find(|d| d.federal_district == region.row.federal_district);
        let checks = self.checks(Some(&region.row.region_code));
        let ru = &self.ru;
        let code = region.row.region_code.as_str();
        let points: Vec<(String, f64, String)> = self
            .marts
            .region_history
            .iter()
            .filter_map(|(date, members)| members.get(code).map(|m| (short_date(*date), *m as f64, ru.integer(*m))))
            .collect();
        let trend = (points.len() > 1)
            .then(|| charts::trend("Члены Профсоюза в реестре по датам снимков", points, |v| ru.integer(v as i64)));
        let orgs = self.orgs_to_fix(&self.marts.worklist, &region.row.region_code);
        context! {
            r => region,
            d => district,
            n => &self.marts.national,
            checks => checks,
            orgs => orgs.iter().take(REGION_PAGE_ORGS).collect::<Vec<_>>(),
            orgs_total => region.orgs_to_fix,
            regions_total => self.marts.regions_summary.regions,
            coverage_rank => region.row.coverage_rank,
            trend => trend,
            reports_rank => region.row.auto_reports_rank,
            quarterly => self.quarterly_section(Scope::Region(code)),
            flows => self.flows_section(Some(code), None, &[]),
            bundle_zip => self.bundle_link("region", code),
        }
    }
}
