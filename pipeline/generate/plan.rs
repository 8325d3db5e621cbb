//! The demo's calibration: how many of everything each regional organization
//! has, so that the marts computed from the generated rows reproduce the
//! Executive Committee decree of 6 December 2023 No 19-8 exactly.
//!
//! The targets are the decree's own figures (`schemas/reference/decree/`);
//! where the decree is silent, the choices below fill in plausible values that
//! keep its totals (see docs/decree-notes.md). The plan is a set of counts per
//! region at full size; `world` turns it into rows, and the marts count them.
//! Nothing here is written into a mart: the engine recomputes every figure.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::apportion::{apportion, apportion_bounded, scaled};
use super::rng::Rng;
use crate::contract::RegionReference;

const FIGURES: &str = include_str!("../../schemas/reference/decree/decree-figures.csv");
const REGION_FIGURES: &str = include_str!("../../schemas/reference/decree/decree-regions.csv");
const POPULATION: &str = include_str!("../../schemas/reference/demo/population.csv");

/// The decree's snapshot date D and the year before, C.
pub fn decree_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 11, 21).expect("date")
}
pub fn year_before() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 11, 21).expect("date")
}

/// Categories in the order the plan keeps them.
pub const CATEGORIES: [&str; 4] = ["working", "student", "pensioner", ""];

/// Members on record at D and at C, by category: those on record at both
/// (`stay`), who joined between (`join`), who left between (`leave`).
#[derive(Debug, Clone, Default)]
pub struct Groups {
    pub stay: [u64; 4],
    pub join: [u64; 4],
    pub leave: [u64; 4],
}

impl Groups {
    pub fn at_d(&self) -> u64 {
        self.stay.iter().sum::<u64>() + self.join.iter().sum::<u64>()
    }
    pub fn at_c(&self) -> u64 {
        self.stay.iter().sum::<u64>() + self.leave.iter().sum::<u64>()
    }
    pub fn stayers(&self) -> u64 {
        self.stay.iter().sum()
    }
    pub fn joiners(&self) -> u64 {
        self.join.iter().sum()
    }
    pub fn leavers(&self) -> u64 {
        self.leave.iter().sum()
    }
}

/// A flag held by members in each group: D = stay + join, C = stay + leave.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flag3 {
    pub stay: u64,
    pub join: u64,
    pub leave: u64,
}

/// Reports of one period in a region.
#[derive(Debug, Clone, Default)]
pub struct PeriodPlan {
    pub period: NaiveDate,
    /// Primary orgs with an auto report on 3-SP, 4-SP, 5-SP.
    pub auto: [u64; 3],
    /// Primary orgs with a manual 3/4/5-SP report.
    pub manual: u64,
    /// Territorial orgs with a 2-SP report, and how many of those are auto.
    pub territorial: u64,
    pub territorial_auto: u64,
}

/// One official report row of a region.
#[derive(Debug, Clone, Default)]
pub struct Official {
    pub as_of: NaiveDate,
    pub members: u64,
    pub categories: [u64; 3],
    pub primary: u64,
    pub territorial: u64,
    pub primary_created: u64,
    pub legal_primary: u64,
    pub legal_territorial: u64,
    pub rights: u64,
}

/// Everything the world of one regional organization holds.
#[derive(Debug, Clone, Default)]
pub struct RegionPlan {
    pub code: String,
    pub name: String,
    pub short_name: String,
    /// Active at D: primary orgs (of which registered in 2022 and in 2023),
    /// territorial orgs.
    pub primary: u64,
    pub primary_2022: u64,
    pub primary_2023: u64,
    pub territorial: u64,
    /// Primary orgs excluded before D (half before C), and how many of their
    /// members are still on record at D.
    pub primary_excluded: u64,
    pub members_in_excluded: u64,
    pub groups: Groups,
    /// Members who left before C (history rows only).
    pub past_leavers: u64,
    pub online: Flag3,
    pub profcards: Flag3,
    /// Among members on record at D taking part in PROFCARDS: using the app.
    pub app: u64,
    /// Among members on record at D: card issued, refused; refused with the app; issued with the app.
    pub cards_issued: u64,
    pub cards_refused: u64,
    pub refused_with_app: u64,
    pub issued_with_app: u64,
    /// Active primary orgs with no member on record at D, with 1 or 2.
    pub primary_empty: u64,
    pub primary_under_3: u64,
    /// Flags of the active organizations at D.
    pub primary_no_chair: u64,
    pub primary_no_term: u64,
    pub primary_no_access: u64,
    pub primary_no_inn: u64,
    pub primary_legal: u64,
    pub primary_rights: u64,
    pub territorial_no_chair: u64,
    pub territorial_no_term: u64,
    pub territorial_no_access: u64,
    pub territorial_legal: u64,
    pub periods: Vec<PeriodPlan>,
    pub official: Vec<Official>,
}

/// PROFCARDS purchases in one window of dates.
#[derive(Debug, Clone)]
pub struct PurchaseWindow {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub purchases: u64,
    /// Kopecks.
    pub amount: u64,
    pub cashback: u64,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub regions: Vec<RegionPlan>,
    pub purchases: Vec<PurchaseWindow>,
}

/// The decree's figures by indicator name.
struct Figures(HashMap<String, u64>);

impl Figures {
    fn load() -> Figures {
        let mut map = HashMap::new();
        let mut reader = csv::Reader::from_reader(FIGURES.as_bytes());
        for record in reader.records() {
            let record = record.expect("decree-figures.csv is well formed");
            if record.get(2) == Some("national") {
                let value = record.get(3).and_then(|v| v.parse().ok()).expect("a whole number");
                map.insert(record.get(1).expect("indicator").to_string(), value);
            }
        }
        Figures(map)
    }

    fn get(&self, name: &str) -> u64 {
        *self.0.get(name).unwrap_or_else(|| panic!("decree-figures.csv has no {name}"))
    }
}

/// One of the decree's per-region rows: (region code, primary orgs, value, pct).
type RegionRow = (String, Option<u64>, Option<u64>, Option<f64>);

/// The decree's per-region rows by table.
struct RegionFigures(HashMap<String, Vec<RegionRow>>);

impl RegionFigures {
    fn load(reference: &RegionReference) -> RegionFigures {
        let mut map: HashMap<String, Vec<_>> = HashMap::new();
        let mut reader = csv::Reader::from_reader(REGION_FIGURES.as_bytes());
        for record in reader.records() {
            let record = record.expect("decree-regions.csv is well formed");
            let name = record.get(1).expect("region").trim();
            let code = reference
                .regions
                .iter()
                .find(|r| r.name == name)
                .unwrap_or_else(|| panic!("decree region {name} is not in the reference"))
                .region_code
                .clone();
            let number = |i: usize| record.get(i).filter(|v| !v.is_empty()).map(|v| v.parse::<u64>().expect("count"));
            let pct = record.get(4).filter(|v| !v.is_empty()).map(|v| v.parse::<f64>().expect("pct"));
            map.entry(record.get(0).expect("table").to_string()).or_default().push((code, number(2), number(3), pct));
        }
        RegionFigures(map)
    }

    fn table(&self, name: &str) -> &[RegionRow] {
        self.0.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    fn codes(&self, name: &str) -> Vec<String> {
        self.table(name).iter().map(|r| r.0.clone()).collect()
    }

    fn pct(&self, name: &str) -> HashMap<String, f64> {
        self.table(name).iter().filter_map(|r| r.3.map(|p| (r.0.clone(), p))).collect()
    }
}

/// Regions without an official report at B (joined the union's statistics later).
const NO_OFFICIAL: [&str; 2] = ["93", "94"];
/// The one regional organization the decree does not name among those with a
/// report: its coverage, chosen.
const UNNAMED_COVERAGE: (&str, f64) = ("87", 58.3);
/// Quarters between the decree's periods have no national figure: chosen.
const QUIET_QUARTERS: [(&str, u64, u64); 2] = [("2022-04-01", 4_100, 95), ("2022-07-01", 4_300, 101)];
/// Territorial 2-SP reports for 2023-07-01 (the decree gives primary orgs only): chosen.
const TERRITORIAL_2023_07: u64 = 142;
/// Primary orgs registered in 2023 before D, in regions the decree gives no
/// report percentage for: chosen.
const PRIMARY_2023: u64 = 250;
/// Members on record in organizations excluded from the registry: chosen.
const MEMBERS_IN_EXCLUDED: u64 = 1_200;
/// Share of members on record at both dates who are not: turnover, chosen.
const TURNOVER: f64 = 0.04;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Weights around `base`, each ×(1 ± spread).
fn jitter(rng: &mut Rng, base: &[f64], spread: f64) -> Vec<f64> {
    base.iter().map(|b| b * (1.0 - spread + 2.0 * spread * rng.unit())).collect()
}

impl Plan {
    /// The full-size plan, then scaled.
    pub fn build(scale: f64, seed: u64) -> Plan {
        let plan = Plan::full_size(seed);
        if (scale - 1.0).abs() < f64::EPSILON { plan } else { plan.scaled(scale) }
    }

    /// The plan at the union's size, step by step. The steps draw from one
    /// generator in this order, so a seed gives one plan.
    fn full_size(seed: u64) -> Plan {
        let reference = RegionReference::embedded();
        let mut calibration = Calibration::new(reference, seed);
        let mut regions: Vec<RegionPlan> = reference
            .regions
            .iter()
            .map(|r| RegionPlan {
                code: r.region_code.clone(),
                name: r.name.clone(),
                short_name: r.short_name.clone(),
                ..Default::default()
            })
            .collect();

        let printed = calibration.printed_reports();
        let orgs = calibration.active_orgs(&printed);
        let excluded: Vec<u64> = orgs.primary.iter().map(|p| (p * 15).div_ceil(1000)).collect();
        let (official_members, members_d) = calibration.members_at_d(&orgs.primary);
        let unchanged = calibration.unchanged_regions();
        let members_c = calibration.members_at_c(&members_d, &unchanged);
        let groups = calibration.member_groups(&members_d, &members_c, &unchanged);
        for (i, (region, groups)) in regions.iter_mut().zip(groups).enumerate() {
            region.groups = groups;
            region.past_leavers = members_c[i] * 4 / 100;
        }
        let online = calibration.online_joining(&regions, &members_d);
        let cards = calibration.profcards_and_cards(&regions, &members_d);
        let sizes = calibration.org_sizes(&orgs, &members_d);
        let flags = calibration.org_flags(&orgs);
        let official = calibration.official_counts(&orgs, official_members);
        let mut periods = calibration.report_plans(&orgs, &printed);

        for (i, r) in regions.iter_mut().enumerate() {
            r.primary = orgs.primary[i];
            r.primary_2022 = orgs.primary_2022[i];
            r.primary_2023 = orgs.primary_2023[i];
            r.territorial = orgs.territorial[i];
            r.primary_excluded = excluded[i];
            r.members_in_excluded = sizes.members_in_excluded[i];
            r.online = online[i];
            r.profcards = cards.profcards[i];
            r.app = cards.app[i];
            r.cards_issued = cards.issued[i];
            r.cards_refused = cards.refused[i];
            r.refused_with_app = cards.refused_with_app[i];
            r.issued_with_app = ((cards.app[i] - cards.refused_with_app[i]) * 8 / 10).min(cards.issued[i]);
            r.primary_empty = sizes.empty[i];
            r.primary_under_3 = sizes.under_3[i];
            r.primary_no_chair = flags.primary_no_chair[i];
            r.primary_no_term = flags.primary_no_term[i];
            r.primary_no_access = flags.primary_no_access[i];
            r.primary_no_inn = flags.primary_no_inn[i];
            r.primary_legal = flags.primary_legal[i];
            r.primary_rights = flags.primary_rights[i];
            r.territorial_no_chair = flags.territorial_no_chair[i];
            r.territorial_no_term = flags.territorial_no_term[i];
            r.territorial_no_access = flags.territorial_no_access[i];
            r.territorial_legal = flags.territorial_legal[i];
            r.periods = std::mem::take(&mut periods[i]);
            if calibration.has_official[i] {
                r.official = calibration.official_reports(i, &orgs, &official, &unchanged);
            }
        }
        Plan { regions, purchases: purchase_windows(&calibration.figures) }
    }

    /// Every count ×`scale` (rounded, so parts stay within their wholes).
    fn scaled(mut self, scale: f64) -> Plan {
        let rescale = |v: &mut u64| *v = scaled(*v, scale);
        for r in &mut self.regions {
            for v in [
                &mut r.primary,
                &mut r.primary_2022,
                &mut r.primary_2023,
                &mut r.territorial,
                &mut r.primary_excluded,
                &mut r.members_in_excluded,
                &mut r.past_leavers,
                &mut r.app,
                &mut r.cards_issued,
                &mut r.cards_refused,
                &mut r.refused_with_app,
                &mut r.issued_with_app,
                &mut r.primary_empty,
                &mut r.primary_under_3,
                &mut r.primary_no_chair,
                &mut r.primary_no_term,
                &mut r.primary_no_access,
                &mut r.primary_no_inn,
                &mut r.primary_legal,
                &mut r.primary_rights,
                &mut r.territorial_no_chair,
                &mut r.territorial_no_term,
                &mut r.territorial_no_access,
                &mut r.territorial_legal,
            ] {
                rescale(v);
            }
            r.primary = r.primary.max(1);
            r.territorial = r.territorial.max(1);
            for k in 0..4 {
                rescale(&mut r.groups.stay[k]);
                rescale(&mut r.groups.join[k]);
                rescale(&mut r.groups.leave[k]);
            }
            for f in [&mut r.online, &mut r.profcards] {
                rescale(&mut f.stay);
                rescale(&mut f.join);
                rescale(&mut f.leave);
            }
            for p in &mut r.periods {
                for a in &mut p.auto {
                    rescale(a);
                }
                rescale(&mut p.manual);
                rescale(&mut p.territorial);
                rescale(&mut p.territorial_auto);
            }
            for o in &mut r.official {
                rescale(&mut o.members);
                for c in &mut o.categories {
                    rescale(c);
                }
                o.members = o.categories.iter().sum::<u64>().max(o.members);
                for v in [
                    &mut o.primary,
                    &mut o.territorial,
                    &mut o.primary_created,
                    &mut o.legal_primary,
                    &mut o.legal_territorial,
                    &mut o.rights,
                ] {
                    rescale(v);
                }
            }
        }
        for w in &mut self.purchases {
            rescale(&mut w.purchases);
            rescale(&mut w.amount);
            rescale(&mut w.cashback);
        }
        self
    }
}

/// What the decree prints about the regions' reports: its table of auto
/// reports at 2023-10-01 (primary orgs and auto reports, by region index),
/// the regions where every organization reported and those with no auto
/// report, and the percentages of April and July 2023.
struct PrintedReports {
    primary: Vec<Option<u64>>,
    auto: Vec<Option<u64>>,
    all_reported: Vec<String>,
    no_auto: Vec<String>,
    april: HashMap<String, f64>,
    july: HashMap<String, f64>,
}

/// Organizations active at D by region: primary (of which registered in 2022
/// and in 2023) and territorial.
struct ActiveOrgs {
    primary: Vec<u64>,
    primary_2022: Vec<u64>,
    primary_2023: Vec<u64>,
    territorial: Vec<u64>,
}

/// PROFCARDS at D and C, the app, and e-cards, by region.
struct Cards {
    profcards: Vec<Flag3>,
    app: Vec<u64>,
    issued: Vec<u64>,
    refused: Vec<u64>,
    refused_with_app: Vec<u64>,
}

/// Organizations by how many members they have, by region.
struct OrgSizes {
    /// Members on record in excluded primary orgs.
    members_in_excluded: Vec<u64>,
    /// Active primary orgs with no member on record at D, with 1 or 2.
    empty: Vec<u64>,
    under_3: Vec<u64>,
}

/// Flags of the active organizations, by region.
struct OrgFlags {
    primary_no_chair: Vec<u64>,
    primary_no_term: Vec<u64>,
    primary_no_access: Vec<u64>,
    primary_no_inn: Vec<u64>,
    primary_legal: Vec<u64>,
    primary_rights: Vec<u64>,
    territorial_no_chair: Vec<u64>,
    territorial_no_term: Vec<u64>,
    territorial_no_access: Vec<u64>,
    territorial_legal: Vec<u64>,
}

/// The official report at B by region (regions without one get zeros).
struct OfficialCounts {
    members: Vec<u64>,
    categories: Vec<[u64; 4]>,
    /// Primary orgs in the report beyond the registry's.
    primary_extra: Vec<u64>,
    territorial: Vec<u64>,
    primary_created: Vec<u64>,
    legal_primary: Vec<u64>,
    legal_territorial: Vec<u64>,
    rights: Vec<u64>,
}

/// What the steps of the full-size plan share: the decree's figures, the
/// regions (a region is its index in the reference's order) and the one
/// generator every step draws from.
struct Calibration {
    figures: Figures,
    region_figures: RegionFigures,
    rng: Rng,
    codes: Vec<String>,
    has_official: Vec<bool>,
}

impl Calibration {
    fn new(reference: &RegionReference, seed: u64) -> Calibration {
        let codes: Vec<String> = reference.regions.iter().map(|r| r.region_code.clone()).collect();
        let has_official = codes.iter().map(|c| !NO_OFFICIAL.contains(&c.as_str())).collect();
        Calibration {
            figures: Figures::load(),
            region_figures: RegionFigures::load(reference),
            rng: Rng::new(seed ^ 0xDEC2_EE19),
            codes,
            has_official,
        }
    }

    fn regions(&self) -> usize {
        self.codes.len()
    }

    fn index(&self, code: &str) -> usize {
        self.codes.iter().position(|c| c == code).unwrap_or_else(|| panic!("region {code}"))
    }

    /// Population by region: the weights where the decree gives nothing.
    fn population(&self) -> Vec<f64> {
        let mut population = vec![0.0; self.regions()];
        let mut reader = csv::Reader::from_reader(POPULATION.as_bytes());
        for record in reader.records() {
            let record = record.expect("population.csv");
            population[self.index(record.get(0).expect("code"))] =
                record.get(1).expect("population").parse().expect("number");
        }
        population
    }

    fn printed_reports(&self) -> PrintedReports {
        let n = self.regions();
        let mut primary = vec![None; n];
        let mut auto = vec![None; n];
        for (code, primary_orgs, auto_reports, _) in self.region_figures.table("auto_reports_2023-10-01") {
            primary[self.index(code)] = *primary_orgs;
            auto[self.index(code)] = *auto_reports;
        }
        PrintedReports {
            primary,
            auto,
            all_reported: self.region_figures.codes("all_reported_2023-10-01"),
            no_auto: self.region_figures.codes("no_auto_reports_2023-10-01"),
            april: self.region_figures.pct("auto_reports_2023-04-01"),
            july: self.region_figures.pct("auto_reports_2023-07-01"),
        }
    }

    fn active_orgs(&mut self, printed: &PrintedReports) -> ActiveOrgs {
        let primary = self.primary_orgs(&printed.primary);
        let territorial = self.territorial_orgs(&primary);
        let (primary_2022, primary_2023) = self.registered_recently(&primary, printed);
        ActiveOrgs { primary, primary_2022, primary_2023, territorial }
    }

    /// Primary orgs active at D: the decree's count where it prints one, the
    /// rest of the national total by population.
    fn primary_orgs(&mut self, known_primary: &[Option<u64>]) -> Vec<u64> {
        let n = self.regions();
        let population = self.population();
        let primary_total = self.figures.get("primary_orgs");
        let free: Vec<f64> = (0..n).map(|i| if known_primary[i].is_some() { 0.0 } else { population[i] }).collect();
        let lo: Vec<u64> = (0..n).map(|i| known_primary[i].unwrap_or(20)).collect();
        let hi: Vec<u64> = (0..n).map(|i| known_primary[i].unwrap_or(u64::MAX / 1024)).collect();
        let mut primary = apportion_bounded(primary_total, &jitter(&mut self.rng, &free, 0.2), &lo, &hi);
        debug_assert_eq!(primary.iter().zip(known_primary).filter(|(p, k)| k.is_some_and(|k| k != **p)).count(), 0);
        self.make_percentages_reachable(&mut primary, known_primary);
        primary
    }

    /// A printed percentage of a region's primary orgs must be reachable:
    /// 42.8 % of 412 is not (176 is 42.7 %, 177 is 43.0 %). Where the decree
    /// does not fix a region's count, it is moved by a few orgs, taken from
    /// the largest region without a printed count.
    fn make_percentages_reachable(&self, primary: &mut [u64], known_primary: &[Option<u64>]) {
        let n = self.regions();
        let codes = &self.codes;
        let period_pcts: Vec<(String, f64)> = ["auto_reports_2023-04-01", "auto_reports_2023-07-01"]
            .iter()
            .flat_map(|t| self.region_figures.pct(t).into_iter())
            .collect();
        let donor = (0..n)
            .filter(|&i| known_primary[i].is_none() && !period_pcts.iter().any(|(c, _)| *c == codes[i]))
            .max_by_key(|&i| primary[i])
            .expect("a region to take from");
        for i in 0..n {
            let pcts: Vec<f64> = period_pcts.iter().filter(|(c, _)| *c == codes[i]).map(|(_, p)| *p).collect();
            if pcts.is_empty() || known_primary[i].is_some() {
                continue;
            }
            let step = (0..40i64)
                .map(|k| if k % 2 == 0 { k / 2 } else { -(k / 2) - 1 })
                .find(|&d| pcts.iter().all(|&p| count_for((primary[i] as i64 + d) as u64, p).is_some()))
                .expect("a reachable count nearby");
            primary[i] = (primary[i] as i64 + step) as u64;
            primary[donor] = (primary[donor] as i64 - step) as u64;
        }
    }

    /// Territorial orgs: at least one per region, at most one per primary org.
    fn territorial_orgs(&mut self, primary: &[u64]) -> Vec<u64> {
        let n = self.regions();
        apportion_bounded(
            self.figures.get("territorial_orgs"),
            &jitter(&mut self.rng, &primary.iter().map(|&p| p as f64).collect::<Vec<_>>(), 0.3),
            &vec![1; n],
            primary,
        )
    }

    /// Primary orgs registered in 2022 (the registry's «created» ones) and in
    /// 2023; the latter not in the regions the decree singles out for reports.
    fn registered_recently(&mut self, primary: &[u64], printed: &PrintedReports) -> (Vec<u64>, Vec<u64>) {
        let n = self.regions();
        let special: Vec<bool> = self
            .codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                printed.auto[i].is_some()
                    || printed.all_reported.contains(c)
                    || printed.april.contains_key(c)
                    || printed.july.contains_key(c)
            })
            .collect();
        let weights: Vec<f64> = primary.iter().map(|&p| p as f64).collect();
        let primary_2022 = apportion(self.figures.get("primary_created"), &jitter(&mut self.rng, &weights, 0.5));
        let weights_2023: Vec<f64> = (0..n).map(|i| if special[i] { 0.0 } else { weights[i] }).collect();
        let primary_2023 = apportion_bounded(
            PRIMARY_2023,
            &weights_2023,
            &vec![0; n],
            &primary.iter().map(|p| p / 20).collect::<Vec<_>>(),
        );
        (primary_2022, primary_2023)
    }

    /// The coverage the decree prints by region (one of them chosen).
    fn printed_coverage(&self) -> Vec<Option<f64>> {
        let mut coverage: Vec<Option<f64>> = vec![None; self.regions()];
        for table in
            ["coverage_over_90", "coverage_over_70", "coverage_over_50", "coverage_under_50", "coverage_unchanged"]
        {
            for (code, _, _, pct) in self.region_figures.table(table) {
                coverage[self.index(code)] = *pct;
            }
        }
        coverage[self.index(UNNAMED_COVERAGE.0)] = Some(UNNAMED_COVERAGE.1);
        coverage
    }

    /// The official count of members at B and the members on record at D, by
    /// region. The 12 regions at 100 % and more, and the two without a
    /// report, take what the printed percentages leave: the two about 40
    /// members per primary org, the 12 in proportion to their official count,
    /// none below 100 %.
    fn members_at_d(&mut self, primary: &[u64]) -> (Vec<u64>, Vec<u64>) {
        let n = self.regions();
        let coverage = self.printed_coverage();
        let hundred_plus: Vec<usize> =
            self.region_figures.codes("coverage_100_plus").iter().map(|c| self.index(c)).collect();
        let members_total = self.figures.get("members");
        let newcomers: Vec<usize> = NO_OFFICIAL.iter().map(|c| self.index(c)).collect();
        let newcomer_members: u64 = newcomers.iter().map(|&i| primary[i] * 40).sum();
        let official_members = self.official_members(primary, &coverage, &hundred_plus, newcomer_members);
        let fixed: u64 =
            (0..n).filter_map(|i| coverage[i].map(|c| (official_members[i] as f64 * c / 100.0).round() as u64)).sum();
        let rest = members_total - fixed - newcomer_members;
        let hundred_plus_official: Vec<u64> = hundred_plus.iter().map(|&i| official_members[i]).collect();
        let hundred_plus_official_sum: u64 = hundred_plus_official.iter().sum();
        assert!(
            rest >= hundred_plus_official_sum,
            "the 100 %+ regions would fall below 100 %: {rest} < {hundred_plus_official_sum}"
        );
        let hundred_plus_members = apportion_bounded(
            rest,
            &jitter(&mut self.rng, &hundred_plus_official.iter().map(|&o| o as f64).collect::<Vec<_>>(), 0.05),
            &hundred_plus_official,
            &vec![u64::MAX / 64; hundred_plus_official.len()],
        );
        let mut members_d = vec![0u64; n];
        for i in 0..n {
            if let Some(c) = coverage[i] {
                members_d[i] = (official_members[i] as f64 * c / 100.0).round() as u64;
            }
        }
        for (k, &i) in hundred_plus.iter().enumerate() {
            members_d[i] = hundred_plus_members[k];
        }
        let newcomer_weights: Vec<f64> = newcomers.iter().map(|&i| primary[i] as f64).collect();
        for (k, m) in apportion(newcomer_members, &newcomer_weights).into_iter().enumerate() {
            members_d[newcomers[k]] = m;
        }
        debug_assert_eq!(members_d.iter().sum::<u64>(), members_total);
        (official_members, members_d)
    }

    /// The official count of members at B by region. For the 100 %+ regions
    /// to come out near 103 %, regions with a low coverage get a larger
    /// official count (as the big ones, Moscow oblast and St Petersburg,
    /// have): `tilt` is found by bisection.
    fn official_members(
        &mut self,
        primary: &[u64],
        coverage: &[Option<f64>],
        hundred_plus: &[usize],
        newcomer_members: u64,
    ) -> Vec<u64> {
        let n = self.regions();
        let official_members_total = official_total(&self.figures);
        let members_total = self.figures.get("members");
        // At least 40 members at D wherever a percentage is printed, so that one
        // member joining online is not above 3 % (Magadan: 0.5 % coverage).
        let size: Vec<f64> = (0..n)
            .map(|i| {
                let s = if self.has_official[i] { primary[i] as f64 * (40.0 + 25.0 * self.rng.unit()) } else { 0.0 };
                coverage[i].map_or(s, |c| s.max(40.0 * 100.0 / c))
            })
            .collect();
        let fit = |tilt: f64| {
            let w: Vec<f64> =
                (0..n).map(|i| size[i] * (-tilt * (coverage[i].unwrap_or(100.0) - 82.5) / 100.0).exp()).collect();
            let official = apportion(official_members_total, &w);
            let fixed: u64 =
                (0..n).filter_map(|i| coverage[i].map(|c| (official[i] as f64 * c / 100.0).round() as u64)).sum();
            let hundred_plus_official: u64 = hundred_plus.iter().map(|&i| official[i]).sum();
            let rest = members_total as f64 - fixed as f64 - newcomer_members as f64;
            (official, rest / hundred_plus_official as f64)
        };
        let (mut low, mut high) = (0.0, 10.0);
        for _ in 0..60 {
            let mid = (low + high) / 2.0;
            if fit(mid).1 < 1.03 { low = mid } else { high = mid }
        }
        fit(high).0
    }

    /// The three regions whose count did not change between C and D.
    fn unchanged_regions(&self) -> Vec<usize> {
        self.region_figures.codes("coverage_unchanged").iter().map(|c| self.index(c)).collect()
    }

    /// Members on record at C by region.
    fn members_at_c(&mut self, members_d: &[u64], unchanged: &[usize]) -> Vec<u64> {
        let n = self.regions();
        let members_c_total = self.figures.get("members_prev");
        let unchanged_sum: u64 = unchanged.iter().map(|&i| members_d[i]).sum();
        let growth: Vec<f64> = (0..n)
            .map(|i| if unchanged.contains(&i) { 0.0 } else { members_d[i] as f64 * (0.8 + 0.15 * self.rng.unit()) })
            .collect();
        let mut members_c = apportion(members_c_total - unchanged_sum, &growth);
        for &i in unchanged {
            members_c[i] = members_d[i];
        }
        members_c
    }

    /// Categories at D and at C (national parts exact; the missing category
    /// takes each region's remainder), and so who stays, joins and leaves.
    fn member_groups(&mut self, members_d: &[u64], members_c: &[u64], unchanged: &[usize]) -> Vec<Groups> {
        let n = self.regions();
        let figures = &self.figures;
        let categories_d = split_categories(
            &mut self.rng,
            members_d,
            [figures.get("working"), figures.get("students"), figures.get("pensioners")],
        );
        let mut categories_c_members = members_c.to_vec();
        for &i in unchanged {
            categories_c_members[i] = 0;
        }
        let totals_c = [figures.get("working_prev"), figures.get("students_prev"), figures.get("pensioners_prev")];
        let unchanged_parts: [u64; 3] = std::array::from_fn(|k| unchanged.iter().map(|&i| categories_d[i][k]).sum());
        let mut categories_c = split_categories(
            &mut self.rng,
            &categories_c_members,
            std::array::from_fn(|k| totals_c[k] - unchanged_parts[k]),
        );
        for &i in unchanged {
            categories_c[i] = categories_d[i];
        }
        (0..n)
            .map(|i| {
                let mut groups = Groups::default();
                for k in 0..4 {
                    let (d, c) = (categories_d[i][k], categories_c[i][k]);
                    let both = d.min(c);
                    // The decree's "unchanged" regions too: the same count
                    // at both dates, but members still join and leave.
                    let stay = both - (both as f64 * TURNOVER).round() as u64;
                    groups.stay[k] = stay;
                    groups.join[k] = d - stay;
                    groups.leave[k] = c - stay;
                }
                groups
            })
            .collect()
    }

    /// Online joining: seven regions above 3 % as printed, Kamchatka none,
    /// every other region at least one and at most 3 %. Item 3's regions «по
    /// активному использованию» get more than 1 000 joiners, every other
    /// region at most 1 000 — except two of the seven above 3 %, whose printed
    /// share of their members is more than 1 000 (docs/decree-notes.md).
    fn online_joining(&mut self, regions: &[RegionPlan], members_d: &[u64]) -> Vec<Flag3> {
        const ACTIVE: u64 = 1_000;
        let n = self.regions();
        let online_pct = self.region_figures.pct("joined_online_over_3");
        let no_online = self.region_figures.codes("no_online_joining");
        let active = self.region_figures.codes("joined_online_active");
        let mut lo = vec![0u64; n];
        let mut hi = vec![0u64; n];
        for i in 0..n {
            if let Some(p) = online_pct.get(&self.codes[i]) {
                let printed = (members_d[i] as f64 * p / 100.0).round() as u64;
                lo[i] = printed;
                hi[i] = printed;
            } else if !no_online.contains(&self.codes[i]) && members_d[i] > 0 {
                let within_3_pct = members_d[i] * 3 / 100;
                if active.contains(&self.codes[i]) {
                    lo[i] = (ACTIVE + 1).min(within_3_pct);
                    hi[i] = within_3_pct;
                } else {
                    lo[i] = 1;
                    hi[i] = within_3_pct.min(ACTIVE);
                }
            }
        }
        let weights: Vec<f64> = members_d.iter().map(|&m| m as f64 * 0.01).collect();
        let online_d =
            apportion_bounded(self.figures.get("joined_online"), &jitter(&mut self.rng, &weights, 0.5), &lo, &hi);
        three_way(&mut self.rng, regions, &online_d, self.figures.get("joined_online_prev"))
    }

    fn profcards_and_cards(&mut self, regions: &[RegionPlan], members_d: &[u64]) -> Cards {
        let n = self.regions();
        let figures = &self.figures;
        let rng = &mut self.rng;
        let member_weights: Vec<f64> = members_d.iter().map(|&m| m as f64).collect();
        let profcards_d =
            apportion_bounded(figures.get("profcards"), &jitter(rng, &member_weights, 0.4), &vec![0; n], members_d);
        let profcards = three_way(rng, regions, &profcards_d, figures.get("profcards_prev"));
        let profcards_weights: Vec<f64> = profcards_d.iter().map(|&p| p as f64).collect();
        let app = apportion_bounded(
            figures.get("profcards_app"),
            &jitter(rng, &profcards_weights, 0.3),
            &vec![0; n],
            &profcards_d,
        );
        let issued =
            apportion_bounded(figures.get("cards_issued"), &jitter(rng, &member_weights, 0.15), &vec![0; n], members_d);
        let room: Vec<u64> = (0..n).map(|i| members_d[i] - issued[i]).collect();
        let refused =
            apportion_bounded(figures.get("cards_refused"), &jitter(rng, &member_weights, 0.3), &vec![0; n], &room);
        let refused_app_hi: Vec<u64> = (0..n).map(|i| app[i].min(refused[i])).collect();
        let app_weights: Vec<f64> = app.iter().map(|&a| a as f64).collect();
        let refused_with_app =
            apportion_bounded(figures.get("cards_refused_with_app"), &app_weights, &vec![0; n], &refused_app_hi);
        Cards { profcards, app, issued, refused, refused_with_app }
    }

    fn org_sizes(&self, orgs: &ActiveOrgs, members_d: &[u64]) -> OrgSizes {
        let n = self.regions();
        let (primary, codes) = (&orgs.primary, &self.codes);
        let member_weights: Vec<f64> = members_d.iter().map(|&m| m as f64).collect();
        let excluded_hi: Vec<u64> = members_d.iter().map(|m| m / 50).collect();
        let members_in_excluded = apportion_bounded(MEMBERS_IN_EXCLUDED, &member_weights, &vec![0; n], &excluded_hi);
        let mostly_empty = self.region_figures.codes("primary_without_members_mostly");
        let mostly_small = self.region_figures.codes("primary_under_3_members_mostly");
        let empty_lo: Vec<u64> = (0..n)
            .map(|i| {
                let active = members_d[i] - members_in_excluded[i];
                orgs.primary_2023[i].max(primary[i].saturating_sub(active / 3))
            })
            .collect();
        let empty_hi: Vec<u64> =
            (0..n).map(|i| if members_d[i] > 0 { primary[i] - 1 } else { primary[i] }.max(empty_lo[i])).collect();
        let empty_weights: Vec<f64> =
            (0..n).map(|i| primary[i] as f64 * if mostly_empty.contains(&codes[i]) { 8.0 } else { 1.0 }).collect();
        let empty =
            apportion_bounded(self.figures.get("primary_without_members"), &empty_weights, &empty_lo, &empty_hi);
        let under_3_hi: Vec<u64> = (0..n)
            .map(|i| (primary[i] - empty[i]).saturating_sub(1).min((members_d[i] - members_in_excluded[i]) / 2))
            .collect();
        let under_3_weights: Vec<f64> =
            (0..n).map(|i| primary[i] as f64 * if mostly_small.contains(&codes[i]) { 8.0 } else { 1.0 }).collect();
        let under_3 =
            apportion_bounded(self.figures.get("primary_under_3_members"), &under_3_weights, &vec![0; n], &under_3_hi);
        OrgSizes { members_in_excluded, empty, under_3 }
    }

    fn org_flags(&mut self, orgs: &ActiveOrgs) -> OrgFlags {
        let n = self.regions();
        let (figures, rng) = (&self.figures, &mut self.rng);
        let (primary, territorial) = (&orgs.primary, &orgs.territorial);
        let primary_weights: Vec<f64> = primary.iter().map(|&p| p as f64).collect();
        let no_chair_weights = jitter(rng, &primary_weights, 0.3);
        let territorial_weights: Vec<f64> = territorial.iter().map(|&t| t as f64).collect();
        let zeros = vec![0; n];
        let primary_no_chair = apportion_bounded(figures.get("primary_no_chair"), &no_chair_weights, &zeros, primary);
        let primary_room: Vec<u64> = (0..n).map(|i| primary[i] - primary_no_chair[i]).collect();
        let primary_no_term = apportion_bounded(
            figures.get("primary_no_chair_term"),
            &jitter(rng, &primary_weights, 0.3),
            &zeros,
            &primary_room,
        );
        let primary_no_access =
            apportion_bounded(figures.get("primary_no_access"), &jitter(rng, &primary_weights, 0.3), &zeros, primary);
        let primary_no_inn =
            apportion_bounded(figures.get("primary_no_inn"), &jitter(rng, &primary_weights, 0.5), &zeros, primary);
        let primary_legal = apportion_bounded(
            figures.get("primary_legal_entity"),
            &jitter(rng, &primary_weights, 0.5),
            &zeros,
            primary,
        );
        let primary_rights = apportion_bounded(
            figures.get("primary_with_territorial_rights"),
            &jitter(rng, &primary_weights, 0.5),
            &zeros,
            primary,
        );
        let territorial_no_chair =
            apportion_bounded(figures.get("territorial_no_chair"), &territorial_weights, &zeros, territorial);
        let territorial_room: Vec<u64> = (0..n).map(|i| territorial[i] - territorial_no_chair[i]).collect();
        let territorial_no_term = apportion_bounded(
            figures.get("territorial_no_chair_term"),
            &jitter(rng, &territorial_weights, 0.3),
            &zeros,
            &territorial_room,
        );
        // The decree gives 45 and, by subtraction (2 291 − 2 251), 40: the latter.
        let territorial_no_access = apportion_bounded(
            figures.get("territorial_orgs") - figures.get("territorial_chair_access"),
            &jitter(rng, &territorial_weights, 0.3),
            &zeros,
            territorial,
        );
        let territorial_legal = apportion_bounded(
            figures.get("territorial_legal_entity"),
            &jitter(rng, &territorial_weights, 0.2),
            &zeros,
            territorial,
        );
        OrgFlags {
            primary_no_chair,
            primary_no_term,
            primary_no_access,
            primary_no_inn,
            primary_legal,
            primary_rights,
            territorial_no_chair,
            territorial_no_term,
            territorial_no_access,
            territorial_legal,
        }
    }

    /// The official report at B (2023-01-01).
    fn official_counts(&mut self, orgs: &ActiveOrgs, official_members: Vec<u64>) -> OfficialCounts {
        let n = self.regions();
        let (figures, has_official) = (&self.figures, &self.has_official);
        let (primary, territorial) = (&orgs.primary, &orgs.territorial);
        let territorial_weights: Vec<f64> = territorial.iter().map(|&t| t as f64).collect();
        let official_weights: Vec<f64> =
            (0..n).map(|i| if has_official[i] { primary[i] as f64 } else { 0.0 }).collect();
        let official_territorial_weights: Vec<f64> =
            (0..n).map(|i| if has_official[i] { territorial_weights[i] } else { 0.0 }).collect();
        let registry_official_primary: u64 = (0..n).filter(|&i| has_official[i]).map(|i| primary[i]).sum();
        let primary_extra =
            apportion(figures.get("primary_orgs_official") - registry_official_primary, &official_weights);
        // Official territorial orgs: the registry's count, adjusted by a few to
        // the report's national total.
        let registry_official_territorial: u64 = (0..n).filter(|&i| has_official[i]).map(|i| territorial[i]).sum();
        let official_territorial_total = figures.get("territorial_orgs_official");
        let official_territorial: Vec<u64> = if official_territorial_total >= registry_official_territorial {
            let extra =
                apportion(official_territorial_total - registry_official_territorial, &official_territorial_weights);
            (0..n).map(|i| if has_official[i] { territorial[i] + extra[i] } else { 0 }).collect()
        } else {
            let lo: Vec<u64> = (0..n).map(|i| if has_official[i] { territorial[i].min(1) } else { 0 }).collect();
            let hi: Vec<u64> = (0..n).map(|i| if has_official[i] { territorial[i] } else { 0 }).collect();
            apportion_bounded(official_territorial_total, &territorial_weights, &lo, &hi)
        };
        let primary_created = apportion(figures.get("primary_created_official"), &official_weights);
        let legal_primary = apportion(figures.get("legal_entities_primary_official"), &official_weights);
        let legal_territorial =
            apportion(figures.get("legal_entities_territorial_official"), &official_territorial_weights);
        let rights = apportion(figures.get("primary_with_territorial_rights_official"), &official_weights);
        let categories = split_categories(
            &mut self.rng,
            &official_members,
            [official_working(figures), official_students(figures), official_pensioners(figures)],
        );
        OfficialCounts {
            members: official_members,
            categories,
            primary_extra,
            territorial: official_territorial,
            primary_created,
            legal_primary,
            legal_territorial,
            rights,
        }
    }

    /// Region `i`'s official rows: at B, and a year earlier a little smaller
    /// (the same where nothing changed).
    fn official_reports(
        &mut self,
        i: usize,
        orgs: &ActiveOrgs,
        official: &OfficialCounts,
        unchanged: &[usize],
    ) -> Vec<Official> {
        let at_b = Official {
            as_of: date("2023-01-01"),
            members: official.members[i],
            categories: official.categories[i][..3].try_into().expect("three"),
            primary: orgs.primary[i] + official.primary_extra[i],
            territorial: official.territorial[i],
            primary_created: official.primary_created[i],
            legal_primary: official.legal_primary[i],
            legal_territorial: official.legal_territorial[i],
            rights: official.rights[i],
        };
        let factor = if unchanged.contains(&i) { 1.0 } else { 0.97 + 0.02 * self.rng.unit() };
        let earlier = |v: u64| (v as f64 * factor).round() as u64;
        let before = Official {
            as_of: date("2022-01-01"),
            members: at_b.categories.iter().map(|&c| earlier(c)).sum(),
            categories: at_b.categories.map(earlier),
            primary: earlier(at_b.primary),
            territorial: at_b.territorial,
            primary_created: earlier(at_b.primary_created),
            legal_primary: at_b.legal_primary,
            legal_territorial: at_b.legal_territorial,
            rights: at_b.rights,
        };
        vec![before, at_b]
    }

    /// The reports of every period, by region.
    fn report_plans(&mut self, orgs: &ActiveOrgs, printed: &PrintedReports) -> Vec<Vec<PeriodPlan>> {
        let mut per_region: Vec<Vec<PeriodPlan>> = vec![Vec::new(); self.regions()];
        for period in report_periods(&self.figures) {
            for (i, plan) in self.period_plan(period, orgs, printed).into_iter().enumerate() {
                per_region[i].push(plan);
            }
        }
        per_region
    }

    /// One period's reports in each region: auto reports by form, manual
    /// ones, territorial 2-SP.
    fn period_plan(
        &mut self,
        (period, auto_total, territorial_total, forms): (NaiveDate, u64, u64, [u64; 2]),
        orgs: &ActiveOrgs,
        printed: &PrintedReports,
    ) -> Vec<PeriodPlan> {
        let n = self.regions();
        let (primary, territorial) = (&orgs.primary, &orgs.territorial);
        let is_oct = period == date("2023-10-01");
        let in_2023 = period >= date("2023-01-01");
        let eligible: Vec<u64> = (0..n)
            .map(|i| {
                if in_2023 {
                    primary[i] - orgs.primary_2023[i]
                } else {
                    primary[i] - orgs.primary_2023[i] - orgs.primary_2022[i]
                }
            })
            .collect();
        let overrides = if period == date("2023-04-01") {
            Some(&printed.april)
        } else if period == date("2023-07-01") {
            Some(&printed.july)
        } else {
            None
        };
        let (lo, hi) = self.auto_report_bounds(is_oct, &eligible, overrides, primary, printed);
        let codes = &self.codes;
        let all_reported = |i: usize| printed.all_reported.contains(&codes[i]);
        let auto_weights: Vec<f64> = (0..n)
            .map(|i| {
                let boost = if is_oct && all_reported(i) { 6.0 } else { 1.0 };
                let quiet = if overrides.is_some() { 0.3 } else { 1.0 };
                eligible[i] as f64 * boost * quiet * (0.5 + self.rng.unit())
            })
            .collect();
        let zeros = vec![0; n];
        let auto = apportion_bounded(auto_total, &auto_weights, &lo, &hi);
        let form_weights: Vec<f64> = auto.iter().map(|&a| a as f64).collect();
        let form3 = apportion_bounded(forms[0], &form_weights, &zeros, &auto);
        let room4: Vec<u64> = (0..n).map(|i| auto[i] - form3[i]).collect();
        let form4 = apportion_bounded(forms[1], &form_weights, &zeros, &room4);
        // Territorial 2-SP: every territorial org in the all-reported regions.
        let mut territorial_lo = vec![0u64; n];
        if is_oct {
            for i in 0..n {
                if all_reported(i) {
                    territorial_lo[i] = territorial[i];
                }
            }
        }
        let territorial_weights: Vec<f64> = territorial.iter().map(|&t| t as f64).collect();
        let territorial_reports = apportion_bounded(
            territorial_total,
            &jitter(&mut self.rng, &territorial_weights, 0.3),
            &territorial_lo,
            territorial,
        );
        (0..n)
            .map(|i| {
                let silent_room = eligible[i] - auto[i];
                let manual = if is_oct && all_reported(i) {
                    primary[i] - auto[i]
                } else if period.month() == 1 || is_oct {
                    // Manual reports are the annual (1 January) habit; some in October.
                    (silent_room as f64 * 0.3) as u64
                } else {
                    0
                };
                let manual =
                    if is_oct && !all_reported(i) { manual.min(silent_room.saturating_sub(1)) } else { manual };
                let territorial_auto =
                    if overrides.is_some() { territorial_reports[i] } else { territorial_reports[i] / 10 };
                PeriodPlan {
                    period,
                    auto: [form3[i], form4[i], auto[i] - form3[i] - form4[i]],
                    manual,
                    territorial: territorial_reports[i],
                    territorial_auto,
                }
            })
            .collect()
    }

    /// How many auto reports each region may have in a period: exactly the
    /// printed count or percentage where there is one; in October none where
    /// the decree says none, and someone silent outside the all-reported regions.
    fn auto_report_bounds(
        &self,
        is_oct: bool,
        eligible: &[u64],
        overrides: Option<&HashMap<String, f64>>,
        primary: &[u64],
        printed: &PrintedReports,
    ) -> (Vec<u64>, Vec<u64>) {
        let codes = &self.codes;
        let mut lo = vec![0u64; self.regions()];
        let mut hi = eligible.to_vec();
        for i in 0..self.regions() {
            if is_oct {
                if let Some(a) = printed.auto[i] {
                    (lo[i], hi[i]) = (a, a);
                } else if printed.no_auto.contains(&codes[i]) {
                    hi[i] = 0;
                } else if !printed.all_reported.contains(&codes[i]) {
                    hi[i] = eligible[i].saturating_sub(1);
                }
            }
            if let Some(p) = overrides.and_then(|o| o.get(&codes[i])) {
                let a = count_for(primary[i], *p).expect("reachable: see the primary counts");
                (lo[i], hi[i]) = (a, a);
            }
        }
        (lo, hi)
    }
}

/// The count of `whole` nearest to `pct` % that is `pct` % when rounded to
/// the decree's one decimal (100 % is all of them).
fn count_for(whole: u64, pct: f64) -> Option<u64> {
    let exact = whole as f64 * pct / 100.0;
    let guess = exact.round() as i64;
    let mut candidates: Vec<u64> =
        (guess - 2..=guess + 2).filter(|&k| k >= 0 && k as u64 <= whole).map(|k| k as u64).collect();
    candidates.sort_by(|a, b| (*a as f64 - exact).abs().total_cmp(&(*b as f64 - exact).abs()));
    candidates
        .into_iter()
        .find(|&k| whole > 0 && ((1000.0 * k as f64 / whole as f64).round() / 10.0 - pct).abs() < 1e-9)
}

fn official_total(figures: &Figures) -> u64 {
    official_working(figures) + official_students(figures) + official_pensioners(figures)
}

// The decree gives the registry's categories as shares of the official ones
// (83.5 %, 70.2 %, 60.7 %); these official counts give those shares and, in
// sum, the 82.5 % coverage of the total.
fn official_working(figures: &Figures) -> u64 {
    (figures.get("working") as f64 / 0.835).round() as u64
}
fn official_students(figures: &Figures) -> u64 {
    (figures.get("students") as f64 / 0.702).round() as u64
}
fn official_pensioners(figures: &Figures) -> u64 {
    (figures.get("pensioners") as f64 / 0.607).round() as u64
}

/// Per region: working, students, pensioners split from national totals in
/// proportion to each region's members (±), the missing category the rest.
fn split_categories(rng: &mut Rng, members: &[u64], totals: [u64; 3]) -> Vec<[u64; 4]> {
    let n = members.len();
    let member_weights: Vec<f64> = members.iter().map(|&m| m as f64).collect();
    let pensioners = apportion_bounded(totals[2], &jitter(rng, &member_weights, 0.3), &vec![0; n], members);
    let room: Vec<u64> = (0..n).map(|i| members[i] - pensioners[i]).collect();
    let students = apportion_bounded(totals[1], &jitter(rng, &member_weights, 0.3), &vec![0; n], &room);
    let room: Vec<u64> = (0..n).map(|i| members[i] - pensioners[i] - students[i]).collect();
    let working = apportion_bounded(totals[0], &jitter(rng, &member_weights, 0.05), &vec![0; n], &room);
    (0..n)
        .map(|i| [working[i], students[i], pensioners[i], members[i] - working[i] - students[i] - pensioners[i]])
        .collect()
}

/// Splits a flag held by `at_d[i]` members at D and `total_c` nationally at C
/// into the stay / join / leave groups of each region.
fn three_way(rng: &mut Rng, regions: &[RegionPlan], at_d: &[u64], total_c: u64) -> Vec<Flag3> {
    let n = regions.len();
    // What C can be in each region, given D and the groups' sizes.
    let lo: Vec<u64> = (0..n).map(|i| at_d[i].saturating_sub(regions[i].groups.joiners())).collect();
    let hi: Vec<u64> = (0..n).map(|i| at_d[i].min(regions[i].groups.stayers()) + regions[i].groups.leavers()).collect();
    let weights = jitter(rng, &at_d.iter().map(|&d| d as f64).collect::<Vec<_>>(), 0.2);
    let at_c = apportion_bounded(total_c, &weights, &lo, &hi);
    (0..n)
        .map(|i| {
            let stay = at_d[i].min(at_c[i]).min(regions[i].groups.stayers());
            Flag3 { stay, join: at_d[i] - stay, leave: at_c[i] - stay }
        })
        .collect()
}

/// (period, primary auto reports, territorial 2-SP, [3-SP, 4-SP] of the auto ones).
fn report_periods(figures: &Figures) -> Vec<(NaiveDate, u64, u64, [u64; 2])> {
    let mut periods = vec![
        (
            date("2022-01-01"),
            figures.get("primary_auto_reports_2022-01-01"),
            figures.get("territorial_reports_2022-01-01"),
        ),
        (
            date("2022-10-01"),
            figures.get("primary_auto_reports_2022-10-01"),
            figures.get("territorial_reports_2022-10-01"),
        ),
        (
            date("2023-01-01"),
            figures.get("primary_auto_reports_2023-01-01"),
            figures.get("territorial_reports_2023-01-01"),
        ),
        (
            date("2023-04-01"),
            figures.get("primary_auto_reports_2023-04-01"),
            figures.get("territorial_auto_reports_2023-04-01"),
        ),
        (date("2023-07-01"), figures.get("primary_auto_reports_2023-07-01"), TERRITORIAL_2023_07),
        (
            date("2023-10-01"),
            figures.get("primary_auto_reports_2023-10-01"),
            figures.get("territorial_reports_2023-10-01"),
        ),
    ];
    for (p, a, t) in QUIET_QUARTERS {
        periods.push((date(p), a, t));
    }
    periods.sort_by_key(|p| p.0);
    periods
        .into_iter()
        .map(|(p, a, t)| {
            let forms = if p == date("2023-10-01") {
                [figures.get("reports_3sp_2023-10-01"), figures.get("reports_4sp_2023-10-01")]
            } else {
                [a * 2 / 100, a / 400]
            };
            (p, a, t, forms)
        })
        .collect()
}

/// PROFCARDS purchases: the decree's windows (9 months of 2023, the whole of
/// 2021, five years in all) and, for the rest of the five years, chosen counts.
fn purchase_windows(figures: &Figures) -> Vec<PurchaseWindow> {
    let kopecks = |rubles: u64| rubles * 100;
    let total = (figures.get("purchases_5y"), kopecks(figures.get("amount_5y")), kopecks(figures.get("cashback_5y")));
    let y2021 = (figures.get("purchases_2021"), 0, kopecks(figures.get("cashback_2021")));
    // 2021's amount is not given: its cashback at the five-year average rate.
    let y2021 = (y2021.0, (y2021.2 as f64 / 0.033).round() as u64 / 100 * 100, y2021.2);
    let m2023 = (
        figures.get("purchases_2023_9m"),
        kopecks(figures.get("amount_2023_9m")),
        kopecks(figures.get("cashback_2023_9m")),
    );
    let rest = (total.0 - y2021.0 - m2023.0, total.1 - y2021.1 - m2023.1, total.2 - y2021.2 - m2023.2);
    // The rest over December 2018–2020, 2022 and October–November 2023, by these shares.
    let other = [
        ("2018-12-01", "2019-12-31", 26.0),
        ("2020-01-01", "2020-12-31", 37.0),
        ("2022-01-01", "2022-12-31", 33.0),
        ("2023-10-01", "2023-11-21", 4.0),
    ];
    let shares: Vec<f64> = other.iter().map(|o| o.2).collect();
    let counts = apportion(rest.0, &shares);
    let amounts = apportion(rest.1, &shares);
    let cashbacks = apportion(rest.2, &shares);
    let mut windows = vec![
        PurchaseWindow {
            from: date("2021-01-01"),
            to: date("2021-12-31"),
            purchases: y2021.0,
            amount: y2021.1,
            cashback: y2021.2,
        },
        PurchaseWindow {
            from: date("2023-01-01"),
            to: date("2023-09-30"),
            purchases: m2023.0,
            amount: m2023.1,
            cashback: m2023.2,
        },
    ];
    for (k, (from, to, _)) in other.iter().enumerate() {
        windows.push(PurchaseWindow {
            from: date(from),
            to: date(to),
            purchases: counts[k],
            amount: amounts[k],
            cashback: cashbacks[k],
        });
    }
    windows.sort_by_key(|w| w.from);
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_percentage_is_reached_by_some_count_or_none() {
        assert_eq!(count_for(412, 42.8), None);
        assert_eq!(count_for(416, 42.8), Some(178));
        assert_eq!(count_for(3299, 100.0), Some(3299));
        assert_eq!(count_for(1098, 33.0), Some(362));
    }

    #[test]
    fn the_full_size_plan_keeps_the_decree_s_totals() {
        let plan = Plan::build(1.0, 198);
        let sum = |f: &dyn Fn(&RegionPlan) -> u64| plan.regions.iter().map(f).sum::<u64>();
        assert_eq!(sum(&|r| r.groups.at_d()), 3_098_599);
        assert_eq!(sum(&|r| r.groups.at_c()), 2_730_095);
        assert_eq!(sum(&|r| r.primary), 71_724);
        assert_eq!(sum(&|r| r.territorial), 2_291);
        let official = |f: &dyn Fn(&Official) -> u64| -> u64 {
            plan.regions.iter().flat_map(|r| r.official.iter().filter(|o| o.as_of == date("2023-01-01"))).map(f).sum()
        };
        assert_eq!(official(&|o| o.primary), 72_078);
        assert_eq!(official(&|o| o.territorial), 2_288);
        // A smaller world keeps its proportions.
        let small = Plan::build(0.01, 198);
        let members: u64 = small.regions.iter().map(|r| r.groups.at_d()).sum();
        assert!((30_000..32_000).contains(&members), "{members}");
    }
}
