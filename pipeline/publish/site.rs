//! The static site: what each page shows, put together from the marts, and the
//! pages rendered into a folder. Layout and words are the templates'; this
//! module decides which rows go where and in what order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::{Output, PublishError};
use super::charts::{self, BarInput, TileInput};
use super::marts::{District, Marts, National, QualityRow, Region, WorklistRow};
use super::russian::Russian;
use super::templates::{self, ASSETS};
use crate::contract::{QualityCheck, RegionReference};
use crate::warehouse::layout;

/// The decree's coverage bands, highest first: mart code, words, CSS class.
pub const BANDS: [(&str, &str, &str); 5] = [
    ("100+", "100 % и более", "band-100"),
    ("90-100", "от 90 до 100 %", "band-90"),
    ("70-90", "от 70 до 90 %", "band-70"),
    ("50-70", "от 50 до 70 %", "band-50"),
    ("<50", "менее 50 %", "band-0"),
];

/// Online joining above this share of members is named, as in the decree.
pub const ONLINE_THRESHOLD_PCT: f64 = 3.0;
/// Organizations listed on a region page; the worklist file has them all.
const REGION_PAGE_ORGS: usize = 50;

fn band_class(code: Option<&str>) -> &'static str {
    BANDS.iter().find(|b| Some(b.0) == code).map_or("band-none", |b| b.2)
}

/// What every page shows in its header and footer.
#[derive(Debug, Clone, Serialize)]
struct Common {
    as_of: NaiveDate,
    period: NaiveDate,
    baseline: Option<NaiveDate>,
    compared_to: Option<NaiveDate>,
    version: &'static str,
    checksum: Option<String>,
    built_at: String,
    districts: Vec<NavItem>,
}

#[derive(Debug, Clone, Serialize)]
struct NavItem {
    code: String,
    short_name: String,
    name: String,
}

/// A region with what pages show beside its mart row.
#[derive(Debug, Clone, Serialize)]
struct RegionView<'a> {
    #[serde(flatten)]
    row: &'a Region,
    short_name: &'a str,
    district_short: &'a str,
    band_class: &'static str,
    band_label: Option<&'static str>,
    /// Organizations in the worklist (with at least one check failed).
    orgs_to_fix: usize,
    worklist: Option<String>,
    prev_coverage_pct: Option<f64>,
}

/// One check with its Russian words and the national share for comparison.
#[derive(Debug, Clone, Serialize)]
struct CheckView<'a> {
    #[serde(flatten)]
    row: &'a QualityRow,
    title: &'a str,
    action: &'a str,
    national_pct: Option<f64>,
}

/// An organization of a region's worklist with all the checks it fails.
#[derive(Debug, Clone, Serialize)]
struct OrgToFix<'a> {
    org_id: &'a str,
    name: Option<&'a str>,
    level: &'a str,
    parent_name: Option<&'a str>,
    members: Option<i64>,
    checks: Vec<&'a str>,
}

/// Renders every page of the site for the marts into `dir`.
pub struct Site<'a> {
    marts: &'a Marts,
    reference: &'static RegionReference,
    env: Environment<'static>,
    common: Common,
    /// Formats the numbers the Rust side writes (chart labels).
    ru: Russian,
}

impl<'a> Site<'a> {
    pub fn new(marts: &'a Marts, built_at: DateTime<Utc>) -> Site<'a> {
        let reference = RegionReference::embedded();
        let mut districts: Vec<_> = reference.districts.iter().collect();
        districts.sort_by_key(|d| d.sort_order);
        let n = &marts.national;
        let common = Common {
            as_of: n.as_of,
            period: n.report_period,
            baseline: n.baseline_as_of,
            compared_to: n.compared_to,
            version: env!("CARGO_PKG_VERSION"),
            checksum: marts.manifest.as_ref().map(|m| m.snapshot_checksum()),
            built_at: moscow_time(built_at),
            districts: districts
                .iter()
                .map(|d| NavItem { code: d.district_code.clone(), short_name: d.short_name.clone(), name: d.name.clone() })
                .collect(),
        };
        Site { marts, reference, env: templates::environment(), common, ru: Russian::new() }
    }

    /// Every page and asset, written under `dir`. Returns the files written,
    /// relative to `dir`.
    pub fn render_into(&self, dir: &Path) -> Result<Vec<String>, PublishError> {
        let mut out = Output::new(dir);
        for (name, text) in ASSETS {
            out.put(*name, text)?;
        }
        // What the site shows, for the scheduler and for operators.
        let build = serde_json::json!({
            "as_of": self.common.as_of,
            "engine_version": self.common.version,
            "snapshot_sha256": self.common.checksum,
            "built": self.common.built_at,
        });
        out.put("build.json", serde_json::to_string_pretty(&build).unwrap_or_default())?;
        let regions = self.region_views();
        out.put("index.html", self.render("index.html", "", self.overview())?)?;
        out.put("coverage.html", self.render("coverage.html", "", self.coverage(&regions))?)?;
        out.put("reports.html", self.render("reports.html", "", self.reports(&regions))?)?;
        out.put("profcards.html", self.render("profcards.html", "", self.profcards(&regions))?)?;
        out.put("online.html", self.render("online.html", "", self.online(&regions))?)?;
        out.put("quality.html", self.render("quality.html", "", self.quality(&regions))?)?;
        for district in &self.marts.districts {
            let page = format!("districts/{}.html", district.federal_district);
            out.put(page, self.render("district.html", "../", self.district(district, &regions))?)?;
        }
        for region in &regions {
            let page = format!("regions/{}.html", region.row.region_code);
            out.put(page, self.render("region.html", "../", self.region(region, &regions))?)?;
        }
        Ok(out.finish())
    }

    fn render(&self, template: &str, root: &str, page: Value) -> Result<String, PublishError> {
        let tmpl = self.env.get_template(template).map_err(|e| PublishError::template(template, e))?;
        tmpl.render(context! { common => Value::from_serialize(&self.common), root => root, ..page })
            .map_err(|e| PublishError::template(template, e))
    }

    fn region_views(&self) -> Vec<RegionView<'a>> {
        let mut orgs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for w in &self.marts.worklist {
            orgs.entry(&w.region_code).or_default().insert(&w.org_id);
        }
        let prev: BTreeMap<&str, Option<f64>> =
            self.marts.regions_prev.iter().map(|r| (r.region_code.as_str(), r.coverage_pct)).collect();
        let as_of = self.marts.national.as_of;
        self.marts
            .regions
            .iter()
            .map(|row| {
                let reference = self.reference.region(&row.region_code);
                let district = self.reference.districts.iter().find(|d| d.district_code == row.federal_district);
                let orgs_to_fix = orgs.get(row.region_code.as_str()).map_or(0, BTreeSet::len);
                RegionView {
                    row,
                    short_name: reference.map_or(row.region_name.as_str(), |r| r.short_name.as_str()),
                    district_short: district.map_or("", |d| d.short_name.as_str()),
                    band_class: band_class(row.coverage_band.as_deref()),
                    band_label: BANDS.iter().find(|b| Some(b.0) == row.coverage_band.as_deref()).map(|b| b.1),
                    orgs_to_fix,
                    // Where the exports write the region's worklist (relative to the site folder).
                    worklist: (orgs_to_fix > 0).then(|| layout::worklist_from_site(as_of, &row.region_code)),
                    prev_coverage_pct: prev.get(row.region_code.as_str()).copied().flatten(),
                }
            })
            .collect()
    }

    fn overview(&self) -> Value {
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
                    class: band_class(coverage_band(d.coverage_pct)).into(),
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
            trend => trend,
            district_chart => district_chart,
            districts => districts,
        }
    }

    fn coverage(&self, regions: &[RegionView<'a>]) -> Value {
        let ru = &self.ru;
        let bands: Vec<Value> = BANDS
            .iter()
            .map(|(code, label, class)| {
                let mut members: Vec<&RegionView> =
                    regions.iter().filter(|r| r.row.coverage_band.as_deref() == Some(*code)).collect();
                members.sort_by(|a, b| desc(a.row.coverage_pct, b.row.coverage_pct));
                context! { code => code, label => label, class => class, regions => members }
            })
            .collect();
        let no_baseline: Vec<&RegionView> = regions.iter().filter(|r| r.row.coverage_band.is_none()).collect();
        let tiles = charts::tile_map(
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
        );
        let mut ranked: Vec<&RegionView> = regions.iter().collect();
        ranked.sort_by(|a, b| desc(a.row.coverage_pct, b.row.coverage_pct));
        let same = unchanged_coverage(self.marts);
        let unchanged: Vec<&RegionView> = regions.iter().filter(|r| same.contains(r.row.region_code.as_str())).collect();
        context! {
            n => &self.marts.national,
            bands => bands,
            legend => BANDS.iter().map(|b| context! { label => b.1, class => b.2 }).collect::<Vec<_>>(),
            no_baseline => no_baseline,
            tiles => tiles,
            ranked => ranked,
            unchanged => unchanged,
            has_prev => !self.marts.regions_prev.is_empty(),
        }
    }

    fn reports(&self, regions: &[RegionView<'a>]) -> Value {
        let mut ranked: Vec<&RegionView> = regions.iter().collect();
        ranked.sort_by(|a, b| {
            desc(a.row.primary_auto_reports_pct, b.row.primary_auto_reports_pct).then(b.row.primary_orgs.cmp(&a.row.primary_orgs))
        });
        let all_reported: Vec<&RegionView> = regions.iter().filter(|r| r.row.all_reported).collect();
        let mut districts: Vec<&District> = self.marts.districts.iter().collect();
        districts.sort_by(|a, b| desc(a.primary_auto_reports_pct, b.primary_auto_reports_pct));
        context! { n => &self.marts.national, ranked => ranked, all_reported => all_reported, districts => districts }
    }

    fn profcards(&self, regions: &[RegionView<'a>]) -> Value {
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
        ranked.sort_by(|a, b| desc(a.row.profcards_pct, b.row.profcards_pct));
        let last_months: Vec<_> = months.iter().rev().take(24).collect();
        context! {
            n => &self.marts.national,
            prev => self.marts.national_prev,
            chart => chart,
            months => last_months,
            years => years,
            ytd => ytd,
            ranked => ranked,
        }
    }

    fn online(&self, regions: &[RegionView<'a>]) -> Value {
        let mut by_online: Vec<&RegionView> = regions.iter().collect();
        by_online.sort_by(|a, b| desc(a.row.joined_online_pct, b.row.joined_online_pct));
        let above: Vec<&RegionView> =
            by_online.iter().copied().filter(|r| r.row.joined_online_pct.is_some_and(|p| p > ONLINE_THRESHOLD_PCT)).collect();
        let mut by_cards: Vec<&RegionView> = regions.iter().collect();
        by_cards.sort_by(|a, b| desc(a.row.cards_issued_pct, b.row.cards_issued_pct));
        context! {
            n => &self.marts.national,
            prev => self.marts.national_prev,
            by_online => by_online,
            above => above,
            threshold => ONLINE_THRESHOLD_PCT,
            by_cards => by_cards,
        }
    }

    fn quality(&self, regions: &[RegionView<'a>]) -> Value {
        let national = self.checks(None);
        let mut worst: Vec<Value> = regions
            .iter()
            .map(|r| {
                let orgs = r.row.primary_orgs + r.row.territorial_orgs;
                let share = (orgs > 0).then(|| 100.0 * r.orgs_to_fix as f64 / orgs as f64);
                let counts: BTreeMap<&str, Option<i64>> = self
                    .region_checks(&r.row.region_code)
                    .map(|q| (q.check.as_str(), q.affected))
                    .collect();
                context! { region => r, orgs => orgs, share => share, counts => counts }
            })
            .collect();
        worst.sort_by(|a, b| {
            let share = |v: &Value| v.get_attr("share").ok().and_then(|s| f64::try_from(s).ok());
            desc(share(a), share(b))
        });
        let clean: Vec<&RegionView> = regions.iter().filter(|r| r.orgs_to_fix == 0).collect();
        context! { national => national, regions => worst, clean => clean }
    }

    fn district(&self, district: &'a District, regions: &[RegionView<'a>]) -> Value {
        let ru = &self.ru;
        let mut own: Vec<&RegionView> = regions.iter().filter(|r| r.row.federal_district == district.federal_district).collect();
        own.sort_by(|a, b| desc(a.row.coverage_pct, b.row.coverage_pct));
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
        context! { d => district, n => &self.marts.national, regions => own, chart => chart }
    }

    fn region(&self, region: &RegionView<'a>, regions: &[RegionView<'a>]) -> Value {
        let district = self.marts.districts.iter().find(|d| d.federal_district == region.row.federal_district);
        let rank = |key: fn(&Region) -> Option<f64>| -> Option<usize> {
            let own = key(region.row)?;
            Some(1 + regions.iter().filter(|r| key(r.row).is_some_and(|v| v > own)).count())
        };
        let checks = self.checks(Some(&region.row.region_code));
        let ru = &self.ru;
        let code = region.row.region_code.as_str();
        let points: Vec<(String, f64, String)> = self
            .marts
            .region_history
            .iter()
            .filter_map(|(date, members)| members.get(code).map(|m| (short_date(*date), *m as f64, ru.integer(*m))))
            .collect();
        let trend = (points.len() > 1).then(|| charts::trend("Члены Профсоюза в реестре по датам снимков", points, |v| ru.integer(v as i64)));
        let orgs = self.orgs_to_fix(&self.marts.worklist, &region.row.region_code);
        context! {
            r => region,
            d => district,
            n => &self.marts.national,
            checks => checks,
            orgs => orgs.iter().take(REGION_PAGE_ORGS).collect::<Vec<_>>(),
            orgs_total => orgs.len(),
            regions_total => regions.len(),
            coverage_rank => rank(|r| r.coverage_pct),
            trend => trend,
            reports_rank => rank(|r| r.primary_auto_reports_pct),
        }
    }

    fn region_checks(&self, code: &'a str) -> impl Iterator<Item = &'a QualityRow> {
        self.marts.quality.iter().filter(move |q| q.scope == "region" && q.region_code.as_deref() == Some(code))
    }

    /// The checks of one scope (national, or a region's) in the reference order.
    fn checks(&self, region: Option<&str>) -> Vec<CheckView<'a>> {
        let national: BTreeMap<&str, &QualityRow> =
            self.marts.quality.iter().filter(|q| q.scope == "national").map(|q| (q.check.as_str(), q)).collect();
        let rows: Vec<&QualityRow> = match region {
            None => national.values().copied().collect(),
            Some(code) => self.marts.quality.iter().filter(|q| q.scope == "region" && q.region_code.as_deref() == Some(code)).collect(),
        };
        let position = |check: &str| QualityCheck::all().iter().position(|c| c.check == check).unwrap_or(usize::MAX);
        let mut views: Vec<CheckView> = rows
            .into_iter()
            .map(|row| {
                let words = QualityCheck::find(&row.check);
                CheckView {
                    row,
                    title: words.map_or(row.check.as_str(), |w| w.title.as_str()),
                    action: words.map_or("", |w| w.action.as_str()),
                    national_pct: national.get(row.check.as_str()).and_then(|q| q.affected_pct),
                }
            })
            .collect();
        views.sort_by_key(|v| position(&v.row.check));
        views
    }

    /// A region's failing organizations, each once with all its checks, in
    /// the worklist's order.
    fn orgs_to_fix(&self, worklist: &'a [WorklistRow], code: &str) -> Vec<OrgToFix<'a>> {
        let mut orgs: Vec<OrgToFix> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for w in worklist.iter().filter(|w| w.region_code == code) {
            let title = QualityCheck::find(&w.check).map_or(w.check.as_str(), |c| c.title.as_str());
            match index.get(w.org_id.as_str()) {
                Some(&i) => orgs[i].checks.push(title),
                None => {
                    index.insert(&w.org_id, orgs.len());
                    orgs.push(OrgToFix {
                        org_id: &w.org_id,
                        name: w.name.as_deref(),
                        level: &w.level,
                        parent_name: w.parent_name.as_deref(),
                        members: w.members,
                        checks: vec![title],
                    });
                }
            }
        }
        orgs
    }
}

/// Codes of the regions whose coverage is the same as at C to the tenth of a
/// percent, as the decree counts "did not change".
pub fn unchanged_coverage(marts: &Marts) -> BTreeSet<&str> {
    let before: BTreeMap<&str, f64> =
        marts.regions_prev.iter().filter_map(|r| Some((r.region_code.as_str(), r.coverage_pct?))).collect();
    let tenths = |x: f64| (x * 10.0).round();
    marts
        .regions
        .iter()
        .filter(|r| r.coverage_pct.zip(before.get(r.region_code.as_str())).is_some_and(|(now, b)| tenths(now) == tenths(*b)))
        .map(|r| r.region_code.as_str())
        .collect()
}

/// Descending order with missing values last.
pub fn desc(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// The band of a percentage, as the regions mart assigns it (for districts,
/// which the mart does not band).
fn coverage_band(pct: Option<f64>) -> Option<&'static str> {
    let p = pct?;
    Some(match p {
        p if p >= 100.0 => "100+",
        p if p >= 90.0 => "90-100",
        p if p >= 70.0 => "70-90",
        p if p >= 50.0 => "50-70",
        _ => "<50",
    })
}

const MONTHS_SHORT: [&str; 12] = ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"];

fn month_label(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {}", MONTHS_SHORT[d.month0() as usize], d.year())
}

fn short_date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// `27 ноября 2026 г., 07:35 (МСК)`: the union works on Moscow time.
pub fn moscow_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&chrono_tz::Europe::Moscow);
    format!("{}, {} (МСК)", Russian::new().date(local.date_naive()), local.format("%H:%M"))
}
