//! The static site: what each page shows, put together from the marts, and the
//! pages rendered into a folder. Layout and words are the templates'; this
//! module decides which rows go where and in what order.

mod flows;
mod monitoring;
mod pages;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::marts::{CoverageBand, Marts, QualityRow, Region, WorklistRegion, WorklistRow};
use super::russian::Russian;
use super::templates::{self, ASSETS};
use super::{ManualRelease, Output, PublishError};
use crate::contract::{QualityCheck, RegionReference};
use crate::warehouse::layout;

/// The CSS class of each coverage band of the marts (by band code). The
/// bands' limits are the mart's; this is only their colour.
const BAND_CLASSES: [(&str, &str); 5] =
    [("100+", "band-100"), ("90-100", "band-90"), ("70-90", "band-70"), ("50-70", "band-50"), ("<50", "band-0")];

/// Organizations listed on a region page; the worklist file has them all.
const REGION_PAGE_ORGS: usize = 50;

fn band_class(code: Option<&str>) -> &'static str {
    BAND_CLASSES.iter().find(|b| Some(b.0) == code).map_or("band-none", |b| b.1)
}

/// A coverage band of the coverage_bands mart with its words and colour.
#[derive(Debug, Clone, Serialize)]
pub struct BandView<'a> {
    #[serde(flatten)]
    pub row: &'a CoverageBand,
    /// `от 90 до 100 %`, worded from the mart's limits.
    pub label: String,
    pub class: &'static str,
}

/// The bands of the marts, highest first, worded.
pub fn band_views(marts: &Marts) -> Vec<BandView<'_>> {
    let ru = Russian::new();
    // A limit as written in the decree: `90`, or `92,5` if it had a fraction.
    let limit = |x: f64| ru.decimal(x, if x.fract() == 0.0 { 0 } else { 1 });
    marts
        .coverage_bands
        .iter()
        .map(|row| {
            let label = match (row.lower_pct, row.upper_pct) {
                (Some(lower), None) => format!("{} % и более", limit(lower)),
                (None, Some(upper)) => format!("менее {} %", limit(upper)),
                (Some(lower), Some(upper)) => format!("от {} до {} %", limit(lower), limit(upper)),
                (None, None) => "любой".to_string(),
            };
            BandView { row, label, class: band_class(Some(&row.band)) }
        })
        .collect()
}

/// Regions in the order of one of the mart's rank columns: highest first,
/// those without a rank last, ties in the mart's (code) order.
pub fn by_rank<T>(rows: &mut [T], rank: impl Fn(&T) -> Option<i64>) {
    rows.sort_by_key(|r| {
        let rank = rank(r);
        (rank.is_none(), rank)
    });
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
    /// Published on purpose although the gate held the date.
    release: Option<ReleaseView>,
    /// In a bundle: its title and the pages it holds (links to any other
    /// page are left out, so every link resolves inside the bundle).
    bundle: Option<BundleNav>,
}

/// What a bundle's pages link to: its contents page and its own pages.
#[derive(Debug, Clone, Serialize)]
pub struct BundleNav {
    /// «Центральный федеральный округ», «Башкирская республиканская организация».
    pub title: String,
    /// Its pages, relative to its root (`districts/CFD.html`, `regions/02.html`).
    pub pages: Vec<String>,
}

/// A bundle as the site lists it (`build.json`) and links to it.
#[derive(Debug, Clone, Serialize)]
pub struct BundleFile {
    /// Relative to the warehouse: `bundles/<D>/district-CFD.zip`.
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A deliberate release as the provenance line words it.
#[derive(Debug, Clone, Serialize)]
struct ReleaseView {
    reason: String,
    by: String,
    at: String,
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
    band_label: Option<String>,
    /// Its worklist in numbers: `orgs_to_fix`, `orgs_to_fix_pct`.
    fix: Option<&'a WorklistRegion>,
    orgs_to_fix: i64,
    /// Where the exports write its worklist, when it has one.
    worklist: Option<String>,
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

/// Renders every page of the site for the marts into `dir`. The pages
/// themselves are put together in `site/pages.rs`.
pub struct Site<'a> {
    marts: &'a Marts,
    reference: &'static RegionReference,
    env: Environment<'static>,
    common: Common,
    bands: Vec<BandView<'a>>,
    /// Formats the numbers the Rust side writes (chart labels).
    ru: Russian,
    /// The exports folder of the date, relative to the site's root.
    exports: String,
    /// The bundles published beside the site.
    bundles: Vec<BundleFile>,
}

impl<'a> Site<'a> {
    pub fn new(marts: &'a Marts, built_at: DateTime<Utc>, release: Option<&ManualRelease>) -> Site<'a> {
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
                .map(|d| NavItem {
                    code: d.district_code.clone(),
                    short_name: d.short_name.clone(),
                    name: d.name.clone(),
                })
                .collect(),
            release: release.map(|r| ReleaseView {
                reason: r.reason.clone(),
                by: format!("{}@{}", r.user, r.host),
                at: moscow_time(r.at),
            }),
            bundle: None,
        };
        Site {
            marts,
            reference,
            env: templates::environment(),
            common,
            bands: band_views(marts),
            ru: Russian::new(),
            // The site sits beside the exports in the warehouse.
            exports: format!("../{}/", layout::exports_dir(n.as_of)),
            bundles: Vec::new(),
        }
    }

    /// The site listing the bundles published beside it.
    pub fn with_bundles(mut self, bundles: Vec<BundleFile>) -> Site<'a> {
        self.bundles = bundles;
        self
    }

    /// The pages of a bundle: `marts` are the bundle's part of the marts,
    /// `nav` its pages, and its exports are in its folder `exports/`.
    pub fn for_bundle(
        marts: &'a Marts,
        built_at: DateTime<Utc>,
        release: Option<&ManualRelease>,
        nav: BundleNav,
    ) -> Site<'a> {
        let mut site = Site::new(marts, built_at, release);
        site.common.bundle = Some(nav);
        site.exports = "exports/".into();
        site
    }

    /// A bundle's pages and assets; `index` is what its contents page
    /// (`index.html`) lists.
    pub fn render_bundle_into(&self, out: &mut Output, index: Value) -> Result<(), PublishError> {
        for (name, text) in ASSETS {
            out.put(*name, text)?;
        }
        out.put("index.html", self.render("bundle.html", "", index)?)?;
        self.render_places(out, &self.region_views())
    }

    /// The district and region pages: all of them, or in a bundle those
    /// its nav lists.
    fn render_places(&self, out: &mut Output, regions: &[RegionView<'a>]) -> Result<(), PublishError> {
        let wanted = |page: &String| self.common.bundle.as_ref().is_none_or(|nav| nav.pages.contains(page));
        for district in &self.marts.districts {
            let page = format!("districts/{}.html", district.federal_district);
            if wanted(&page) {
                out.put(page, self.render("district.html", "../", self.district(district, regions))?)?;
            }
        }
        for region in regions {
            let page = format!("regions/{}.html", region.row.region_code);
            if wanted(&page) {
                out.put(page, self.render("region.html", "../", self.region(region))?)?;
            }
        }
        Ok(())
    }

    /// The bundle of a district or region, relative to a page one folder
    /// below the site's root; none in a bundle.
    fn bundle_link(&self, kind: &str, code: &str) -> Option<String> {
        let file = layout::bundle_file(self.common.as_of, kind, code);
        self.bundles.iter().any(|b| b.file == file).then(|| format!("../../{file}"))
    }

    /// Every page and asset of the site.
    pub fn render_into(&self, out: &mut Output) -> Result<(), PublishError> {
        for (name, text) in ASSETS {
            out.put(*name, text)?;
        }
        out.put("build.json", self.build_json())?;
        let regions = self.region_views();
        out.put("index.html", self.render("index.html", "", self.overview())?)?;
        out.put("coverage.html", self.render("coverage.html", "", self.coverage(&regions))?)?;
        out.put("reports.html", self.render("reports.html", "", self.reports(&regions))?)?;
        out.put("profcards.html", self.render("profcards.html", "", self.profcards(&regions))?)?;
        out.put("online.html", self.render("online.html", "", self.online(&regions))?)?;
        out.put("quality.html", self.render("quality.html", "", self.quality(&regions))?)?;
        out.put("monitoring.html", self.render("monitoring.html", "", self.monitoring(&regions))?)?;
        self.render_places(out, &regions)
    }

    /// What the site shows, for the scheduler and for operators.
    fn build_json(&self) -> String {
        let build = serde_json::json!({
            "as_of": self.common.as_of,
            "engine_version": self.common.version,
            "snapshot_sha256": self.common.checksum,
            "built": self.common.built_at,
            "accepted": self.common.release,
            "bundles": self.bundles,
        });
        serde_json::to_string_pretty(&build).unwrap_or_default()
    }

    fn render(&self, template: &str, root: &str, page: Value) -> Result<String, PublishError> {
        let tmpl = self.env.get_template(template).map_err(|e| PublishError::template(template, e))?;
        tmpl.render(context! { common => Value::from_serialize(&self.common), root => root, ..page })
            .map_err(|e| PublishError::template(template, e))
    }

    fn region_views(&self) -> Vec<RegionView<'a>> {
        self.marts
            .regions
            .iter()
            .map(|row| {
                let reference = self.reference.region(&row.region_code);
                let district = self.reference.districts.iter().find(|d| d.district_code == row.federal_district);
                let fix = self.marts.worklist_regions.iter().find(|w| w.region_code == row.region_code);
                let orgs_to_fix = fix.map_or(0, |w| w.orgs_to_fix);
                let band = self.bands.iter().find(|b| Some(&b.row.band) == row.coverage_band.as_ref());
                RegionView {
                    row,
                    short_name: reference.map_or(row.region_name.as_str(), |r| r.short_name.as_str()),
                    district_short: district.map_or("", |d| d.short_name.as_str()),
                    band_class: band_class(row.coverage_band.as_deref()),
                    band_label: band.map(|b| b.label.clone()),
                    fix,
                    orgs_to_fix,
                    // Relative to the site's root.
                    worklist: (orgs_to_fix > 0)
                        .then(|| format!("{}{}", self.exports, layout::worklist_in_exports(&row.region_code))),
                }
            })
            .collect()
    }

    /// The checks of one scope (national, or a region's) in the reference order.
    fn checks(&self, region: Option<&str>) -> Vec<CheckView<'a>> {
        let national: BTreeMap<&str, &QualityRow> =
            self.marts.quality.iter().filter(|q| q.scope == "national").map(|q| (q.check.as_str(), q)).collect();
        let rows: Vec<&QualityRow> = match region {
            None => national.values().copied().collect(),
            Some(code) => self
                .marts
                .quality
                .iter()
                .filter(|q| q.scope == "region" && q.region_code.as_deref() == Some(code))
                .collect(),
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

    fn region_checks(&self, code: &'a str) -> impl Iterator<Item = &'a QualityRow> {
        self.marts.quality.iter().filter(move |q| q.scope == "region" && q.region_code.as_deref() == Some(code))
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

/// Descending order with missing values last.
pub fn desc(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
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
