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

/// The decree's per-region rows: table → [(region code, primary orgs, value, pct)].
struct RegionFigures(HashMap<String, Vec<(String, Option<u64>, Option<u64>, Option<f64>)>>);

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

    fn table(&self, name: &str) -> &[(String, Option<u64>, Option<u64>, Option<f64>)] {
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

    fn full_size(seed: u64) -> Plan {
        let reference = RegionReference::embedded();
        let fig = Figures::load();
        let rf = RegionFigures::load(&reference);
        let mut rng = Rng::new(seed ^ 0xDEC2_EE19);
        let n = reference.regions.len();
        let codes: Vec<String> = reference.regions.iter().map(|r| r.region_code.clone()).collect();
        let at = |code: &str| codes.iter().position(|c| c == code).unwrap_or_else(|| panic!("region {code}"));
        let population: Vec<f64> = {
            let mut p = vec![0.0; n];
            let mut reader = csv::Reader::from_reader(POPULATION.as_bytes());
            for record in reader.records() {
                let record = record.expect("population.csv");
                p[at(record.get(0).expect("code"))] = record.get(1).expect("population").parse().expect("number");
            }
            p
        };
        let has_official: Vec<bool> = codes.iter().map(|c| !NO_OFFICIAL.contains(&c.as_str())).collect();
        let mut regions: Vec<RegionPlan> = reference
            .regions
            .iter()
            .map(|r| RegionPlan { code: r.region_code.clone(), name: r.name.clone(), short_name: r.short_name.clone(), ..Default::default() })
            .collect();

        // --- Primary and territorial organizations active at D.
        let auto_table = rf.table("auto_reports_2023-10-01");
        let mut known_primary = vec![None; n];
        let mut known_auto = vec![None; n];
        for (code, primary, auto, _) in auto_table {
            known_primary[at(code)] = *primary;
            known_auto[at(code)] = *auto;
        }
        let primary_total = fig.get("primary_orgs");
        let free: Vec<f64> = (0..n).map(|i| if known_primary[i].is_some() { 0.0 } else { population[i] }).collect();
        let lo: Vec<u64> = (0..n).map(|i| known_primary[i].unwrap_or(20)).collect();
        let hi: Vec<u64> = (0..n).map(|i| known_primary[i].unwrap_or(u64::MAX / 1024)).collect();
        let primary = apportion_bounded(primary_total, &jitter(&mut rng, &free, 0.2), &lo, &hi);
        debug_assert_eq!(primary.iter().zip(&known_primary).filter(|(p, k)| k.is_some_and(|k| k != **p)).count(), 0);
        let mut primary = primary;
        // A printed percentage of a region's primary orgs must be reachable:
        // 42.8 % of 412 is not (176 is 42.7 %, 177 is 43.0 %). Where the
        // decree does not fix a region's count, move it by a few orgs, taken
        // from the largest region without a printed count.
        let period_pcts: Vec<(String, f64)> = ["auto_reports_2023-04-01", "auto_reports_2023-07-01"]
            .iter()
            .flat_map(|t| rf.pct(t).into_iter())
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
        let territorial = apportion_bounded(
            fig.get("territorial_orgs"),
            &jitter(&mut rng, &primary.iter().map(|&p| p as f64).collect::<Vec<_>>(), 0.3),
            &vec![1; n],
            &primary,
        );

        // Which regions the decree singles out for reports.
        let all_reported = rf.codes("all_reported_2023-10-01");
        let no_auto = rf.codes("no_auto_reports_2023-10-01");
        let april = rf.pct("auto_reports_2023-04-01");
        let july = rf.pct("auto_reports_2023-07-01");
        let special: Vec<bool> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                known_auto[i].is_some() || all_reported.contains(c) || april.contains_key(c) || july.contains_key(c)
            })
            .collect();

        // Registered in 2022 (the registry's «created» primary orgs) and in 2023.
        let weights: Vec<f64> = primary.iter().map(|&p| p as f64).collect();
        let primary_2022 = apportion(fig.get("primary_created"), &jitter(&mut rng, &weights, 0.5));
        let w2023: Vec<f64> = (0..n).map(|i| if special[i] { 0.0 } else { weights[i] }).collect();
        let primary_2023 = apportion_bounded(PRIMARY_2023, &w2023, &vec![0; n], &primary.iter().map(|p| p / 20).collect::<Vec<_>>());
        let excluded: Vec<u64> = primary.iter().map(|p| (p * 15).div_ceil(1000)).collect();

        // --- Official report at B and members on record at D (coverage).
        let official_members_total = official_total(&fig);
        let mut coverage: Vec<Option<f64>> = vec![None; n];
        for table in ["coverage_over_90", "coverage_over_70", "coverage_over_50", "coverage_under_50", "coverage_unchanged"] {
            for (code, _, _, pct) in rf.table(table) {
                coverage[at(code)] = *pct;
            }
        }
        coverage[at(UNNAMED_COVERAGE.0)] = Some(UNNAMED_COVERAGE.1);
        let hundred_plus: Vec<usize> = rf.codes("coverage_100_plus").iter().map(|c| at(c)).collect();
        let members_total = fig.get("members");
        // The 12 regions at 100 % and more, and the two without a report, take
        // what the printed percentages leave: the two about 40 members per
        // primary org, the 12 in proportion to their official count, none below
        // 100 %. For that to come out near 103 %, regions with a low coverage
        // get a larger official count (as the big ones, Moscow oblast and
        // St Petersburg, have): `tilt` is found by bisection.
        let newcomers: Vec<usize> = NO_OFFICIAL.iter().map(|c| at(c)).collect();
        let newcomer_members: u64 = newcomers.iter().map(|&i| primary[i] * 40).sum();
        // At least 40 members at D wherever a percentage is printed, so that one
        // member joining online is not above 3 % (Magadan: 0.5 % coverage).
        let size: Vec<f64> = (0..n)
            .map(|i| {
                let s = if has_official[i] { primary[i] as f64 * (40.0 + 25.0 * rng.unit()) } else { 0.0 };
                coverage[i].map_or(s, |c| s.max(40.0 * 100.0 / c))
            })
            .collect();
        let fit = |tilt: f64| {
            let w: Vec<f64> = (0..n)
                .map(|i| size[i] * (-tilt * (coverage[i].unwrap_or(100.0) - 82.5) / 100.0).exp())
                .collect();
            let official = apportion(official_members_total, &w);
            let fixed: u64 = (0..n).filter_map(|i| coverage[i].map(|c| (official[i] as f64 * c / 100.0).round() as u64)).sum();
            let hp: u64 = hundred_plus.iter().map(|&i| official[i]).sum();
            let rest = members_total as f64 - fixed as f64 - newcomer_members as f64;
            (official, rest / hp as f64)
        };
        let (mut low, mut high) = (0.0, 10.0);
        for _ in 0..60 {
            let mid = (low + high) / 2.0;
            if fit(mid).1 < 1.03 { low = mid } else { high = mid }
        }
        let (official_members, _) = fit(high);
        let fixed: u64 = (0..n)
            .filter_map(|i| coverage[i].map(|c| (official_members[i] as f64 * c / 100.0).round() as u64))
            .sum();
        let rest = members_total - fixed - newcomer_members;
        let hp_official: Vec<u64> = hundred_plus.iter().map(|&i| official_members[i]).collect();
        let hp_sum: u64 = hp_official.iter().sum();
        assert!(rest >= hp_sum, "the 100 %+ regions would fall below 100 %: {rest} < {hp_sum}");
        let hp_members = apportion_bounded(rest, &jitter(&mut rng, &hp_official.iter().map(|&o| o as f64).collect::<Vec<_>>(), 0.05), &hp_official, &vec![u64::MAX / 64; hp_official.len()]);
        let mut members_d = vec![0u64; n];
        for i in 0..n {
            if let Some(c) = coverage[i] {
                members_d[i] = (official_members[i] as f64 * c / 100.0).round() as u64;
            }
        }
        for (k, &i) in hundred_plus.iter().enumerate() {
            members_d[i] = hp_members[k];
        }
        let nw: Vec<f64> = newcomers.iter().map(|&i| primary[i] as f64).collect();
        for (k, m) in apportion(newcomer_members, &nw).into_iter().enumerate() {
            members_d[newcomers[k]] = m;
        }
        debug_assert_eq!(members_d.iter().sum::<u64>(), members_total);

        // --- Members at C; the three regions whose count did not change.
        let unchanged: Vec<usize> = rf.codes("coverage_unchanged").iter().map(|c| at(c)).collect();
        let members_c_total = fig.get("members_prev");
        let unchanged_sum: u64 = unchanged.iter().map(|&i| members_d[i]).sum();
        let growth: Vec<f64> = (0..n).map(|i| if unchanged.contains(&i) { 0.0 } else { members_d[i] as f64 * (0.8 + 0.15 * rng.unit()) }).collect();
        let mut members_c = apportion(members_c_total - unchanged_sum, &growth);
        for &i in &unchanged {
            members_c[i] = members_d[i];
        }

        // --- Categories at D and at C (national parts exact; the missing
        // category takes each region's remainder).
        let cat_d = split_categories(
            &mut rng,
            &members_d,
            [fig.get("working"), fig.get("students"), fig.get("pensioners")]
        );
        let mut cat_c_members = members_c.clone();
        for &i in &unchanged {
            cat_c_members[i] = 0;
        }
        let totals_c = [fig.get("working_prev"), fig.get("students_prev"), fig.get("pensioners_prev")];
        let unchanged_parts: [u64; 3] = std::array::from_fn(|k| unchanged.iter().map(|&i| cat_d[i][k]).sum());
        let mut cat_c = split_categories(&mut rng, &cat_c_members, std::array::from_fn(|k| totals_c[k] - unchanged_parts[k]));
        for &i in &unchanged {
            cat_c[i] = cat_d[i];
        }
        for i in 0..n {
            let mut g = Groups::default();
            for k in 0..4 {
                let (d, c) = (cat_d[i][k], cat_c[i][k]);
                let both = d.min(c);
                let stay = if unchanged.contains(&i) { both } else { both - (both as f64 * TURNOVER).round() as u64 };
                g.stay[k] = stay;
                g.join[k] = d - stay;
                g.leave[k] = c - stay;
            }
            regions[i].groups = g;
            regions[i].past_leavers = members_c[i] * 4 / 100;
        }

        // --- Online joining: seven regions above 3 % as printed, Kamchatka
        // none, every other region at least one and at most 3 %.
        let online_pct = rf.pct("joined_online_over_3");
        let no_online = rf.codes("no_online_joining");
        let mut online_d = vec![0u64; n];
        let mut lo = vec![0u64; n];
        let mut hi = vec![0u64; n];
        for i in 0..n {
            if let Some(p) = online_pct.get(&codes[i]) {
                online_d[i] = (members_d[i] as f64 * p / 100.0).round() as u64;
                lo[i] = online_d[i];
                hi[i] = online_d[i];
            } else if !no_online.contains(&codes[i]) && members_d[i] > 0 {
                lo[i] = 1;
                hi[i] = members_d[i] * 3 / 100;
            }
        }
        let online_d = apportion_bounded(fig.get("joined_online"), &jitter(&mut rng, &members_d.iter().map(|&m| m as f64 * 0.01).collect::<Vec<_>>(), 0.5), &lo, &hi);
        let online = three_way(&mut rng, &regions, &online_d, fig.get("joined_online_prev"));
        // --- PROFCARDS at D and C, the app, cards.
        let mw: Vec<f64> = members_d.iter().map(|&m| m as f64).collect();
        let profcards_d = apportion_bounded(fig.get("profcards"), &jitter(&mut rng, &mw, 0.4), &vec![0; n], &members_d);
        let profcards = three_way(&mut rng, &regions, &profcards_d, fig.get("profcards_prev"));
        let app = apportion_bounded(fig.get("profcards_app"), &jitter(&mut rng, &profcards_d.iter().map(|&p| p as f64).collect::<Vec<_>>(), 0.3), &vec![0; n], &profcards_d);
        let issued = apportion_bounded(fig.get("cards_issued"), &jitter(&mut rng, &mw, 0.15), &vec![0; n], &members_d);
        let room: Vec<u64> = (0..n).map(|i| members_d[i] - issued[i]).collect();
        let refused = apportion_bounded(fig.get("cards_refused"), &jitter(&mut rng, &mw, 0.3), &vec![0; n], &room);
        let refused_app_hi: Vec<u64> = (0..n).map(|i| app[i].min(refused[i])).collect();
        let refused_with_app = apportion_bounded(fig.get("cards_refused_with_app"), &app.iter().map(|&a| a as f64).collect::<Vec<_>>(), &vec![0; n], &refused_app_hi);

        // --- Organizations by how many members they have.
        let excluded_members = apportion_bounded(MEMBERS_IN_EXCLUDED, &mw, &vec![0; n], &members_d.iter().map(|m| m / 50).collect::<Vec<_>>());
        let mostly_empty = rf.codes("primary_without_members_mostly");
        let mostly_small = rf.codes("primary_under_3_members_mostly");
        let empty_lo: Vec<u64> = (0..n)
            .map(|i| {
                let active = members_d[i] - excluded_members[i];
                primary_2023[i].max(primary[i].saturating_sub(active / 3))
            })
            .collect();
        let empty_hi: Vec<u64> = (0..n).map(|i| if members_d[i] > 0 { primary[i] - 1 } else { primary[i] }.max(empty_lo[i])).collect();
        let ew: Vec<f64> = (0..n).map(|i| primary[i] as f64 * if mostly_empty.contains(&codes[i]) { 8.0 } else { 1.0 }).collect();
        let empty = apportion_bounded(fig.get("primary_without_members"), &ew, &empty_lo, &empty_hi);
        let small_hi: Vec<u64> = (0..n)
            .map(|i| (primary[i] - empty[i]).saturating_sub(1).min((members_d[i] - excluded_members[i]) / 2))
            .collect();
        let sw: Vec<f64> = (0..n).map(|i| primary[i] as f64 * if mostly_small.contains(&codes[i]) { 8.0 } else { 1.0 }).collect();
        let small = apportion_bounded(fig.get("primary_under_3_members"), &sw, &vec![0; n], &small_hi);

        // --- Flags of active organizations.
        let pw = jitter(&mut rng, &weights, 0.3);
        let tw: Vec<f64> = territorial.iter().map(|&t| t as f64).collect();
        let zeros = vec![0; n];
        let p_no_chair = apportion_bounded(fig.get("primary_no_chair"), &pw, &zeros, &primary);
        let p_room: Vec<u64> = (0..n).map(|i| primary[i] - p_no_chair[i]).collect();
        let p_no_term = apportion_bounded(fig.get("primary_no_chair_term"), &jitter(&mut rng, &weights, 0.3), &zeros, &p_room);
        let p_no_access = apportion_bounded(fig.get("primary_no_access"), &jitter(&mut rng, &weights, 0.3), &zeros, &primary);
        let p_no_inn = apportion_bounded(fig.get("primary_no_inn"), &jitter(&mut rng, &weights, 0.5), &zeros, &primary);
        let p_legal = apportion_bounded(fig.get("primary_legal_entity"), &jitter(&mut rng, &weights, 0.5), &zeros, &primary);
        let p_rights = apportion_bounded(fig.get("primary_with_territorial_rights"), &jitter(&mut rng, &weights, 0.5), &zeros, &primary);
        let t_no_chair = apportion_bounded(fig.get("territorial_no_chair"), &tw, &zeros, &territorial);
        let t_room: Vec<u64> = (0..n).map(|i| territorial[i] - t_no_chair[i]).collect();
        let t_no_term = apportion_bounded(fig.get("territorial_no_chair_term"), &jitter(&mut rng, &tw, 0.3), &zeros, &t_room);
        // The decree gives 45 and, by subtraction (2 291 − 2 251), 40: the latter.
        let t_no_access = apportion_bounded(fig.get("territorial_orgs") - fig.get("territorial_chair_access"), &jitter(&mut rng, &tw, 0.3), &zeros, &territorial);
        let t_legal = apportion_bounded(fig.get("territorial_legal_entity"), &jitter(&mut rng, &tw, 0.2), &zeros, &territorial);

        // --- Official reports: at B (2023-01-01) and a year earlier.
        let ow: Vec<f64> = (0..n).map(|i| if has_official[i] { weights[i] } else { 0.0 }).collect();
        let registry_official_primary: u64 = (0..n).filter(|&i| has_official[i]).map(|i| primary[i]).sum();
        let extra = apportion(fig.get("primary_orgs_official") - registry_official_primary, &ow);
        // Official territorial orgs: the registry's count, adjusted by a few to
        // the report's national total.
        let registry_official_territorial: u64 = (0..n).filter(|&i| has_official[i]).map(|i| territorial[i]).sum();
        let official_territorial_total = fig.get("territorial_orgs_official");
        let official_territorial: Vec<u64> = if official_territorial_total >= registry_official_territorial {
            let otw: Vec<f64> = (0..n).map(|i| if has_official[i] { tw[i] } else { 0.0 }).collect();
            let extra_t = apportion(official_territorial_total - registry_official_territorial, &otw);
            (0..n).map(|i| if has_official[i] { territorial[i] + extra_t[i] } else { 0 }).collect()
        } else {
            let lo: Vec<u64> = (0..n).map(|i| if has_official[i] { territorial[i].min(1) } else { 0 }).collect();
            let hi: Vec<u64> = (0..n).map(|i| if has_official[i] { territorial[i] } else { 0 }).collect();
            apportion_bounded(official_territorial_total, &tw, &lo, &hi)
        };
        let created_off = apportion(fig.get("primary_created_official"), &ow);
        let legal_p_off = apportion(fig.get("legal_entities_primary_official"), &ow);
        let legal_t_off = apportion(fig.get("legal_entities_territorial_official"), &(0..n).map(|i| if has_official[i] { tw[i] } else { 0.0 }).collect::<Vec<_>>());
        let rights_off = apportion(fig.get("primary_with_territorial_rights_official"), &ow);
        let off_cat = split_categories(
            &mut rng,
            &official_members,
            [official_working(&fig), official_students(&fig), official_pensioners(&fig)]
        );

        // --- Reports per period.
        let periods = report_periods(&fig);
        let mut per_period: Vec<Vec<PeriodPlan>> = vec![Vec::new(); n];
        for (period, auto_total, terr_total, forms) in periods {
            let is_oct = period == date("2023-10-01");
            let in_2023 = period >= date("2023-01-01");
            let eligible: Vec<u64> = (0..n)
                .map(|i| if in_2023 { primary[i] - primary_2023[i] } else { primary[i] - primary_2023[i] - primary_2022[i] })
                .collect();
            let mut lo = vec![0u64; n];
            let mut hi = eligible.clone();
            let overrides = if period == date("2023-04-01") { Some(&april) } else if period == date("2023-07-01") { Some(&july) } else { None };
            for i in 0..n {
                if is_oct {
                    if let Some(a) = known_auto[i] {
                        (lo[i], hi[i]) = (a, a);
                    } else if no_auto.contains(&codes[i]) {
                        hi[i] = 0;
                    } else if !all_reported.contains(&codes[i]) {
                        // Someone must stay silent outside the all-reported regions.
                        hi[i] = eligible[i].saturating_sub(1);
                    }
                }
                if let Some(p) = overrides.and_then(|o| o.get(&codes[i])) {
                    let a = count_for(primary[i], *p).expect("reachable: see the primary counts");
                    (lo[i], hi[i]) = (a, a);
                }
            }
            let aw: Vec<f64> = (0..n)
                .map(|i| {
                    let boost = if is_oct && all_reported.contains(&codes[i]) { 6.0 } else { 1.0 };
                    let quiet = if overrides.is_some() { 0.3 } else { 1.0 };
                    eligible[i] as f64 * boost * quiet * (0.5 + rng.unit())
                })
                .collect();
            let auto = apportion_bounded(auto_total, &aw, &lo, &hi);
            let form3 = apportion_bounded(forms[0], &auto.iter().map(|&a| a as f64).collect::<Vec<_>>(), &zeros, &auto);
            let room4: Vec<u64> = (0..n).map(|i| auto[i] - form3[i]).collect();
            let form4 = apportion_bounded(forms[1], &auto.iter().map(|&a| a as f64).collect::<Vec<_>>(), &zeros, &room4);
            // Territorial 2-SP: every territorial org in the all-reported regions.
            let mut tlo = vec![0u64; n];
            if is_oct {
                for i in 0..n {
                    if all_reported.contains(&codes[i]) {
                        tlo[i] = territorial[i];
                    }
                }
            }
            let terr = apportion_bounded(terr_total, &jitter(&mut rng, &tw, 0.3), &tlo, &territorial);
            for i in 0..n {
                let silent_room = eligible[i] - auto[i];
                let manual = if is_oct && all_reported.contains(&codes[i]) {
                    primary[i] - auto[i]
                } else if period.month() == 1 || is_oct {
                    // Manual reports are the annual (1 January) habit; some in October.
                    (silent_room as f64 * 0.3) as u64
                } else {
                    0
                };
                let manual = if is_oct && !all_reported.contains(&codes[i]) { manual.min(silent_room.saturating_sub(1)) } else { manual };
                let territorial_auto = if overrides.is_some() { terr[i] } else { terr[i] / 10 };
                per_period[i].push(PeriodPlan {
                    period,
                    auto: [form3[i], form4[i], auto[i] - form3[i] - form4[i]],
                    manual,
                    territorial: terr[i],
                    territorial_auto,
                });
            }
        }

        for i in 0..n {
            let r = &mut regions[i];
            r.primary = primary[i];
            r.primary_2022 = primary_2022[i];
            r.primary_2023 = primary_2023[i];
            r.territorial = territorial[i];
            r.primary_excluded = excluded[i];
            r.members_in_excluded = excluded_members[i];
            r.online = online[i];
            r.profcards = profcards[i];
            r.app = app[i];
            r.cards_issued = issued[i];
            r.cards_refused = refused[i];
            r.refused_with_app = refused_with_app[i];
            r.issued_with_app = ((app[i] - refused_with_app[i]) * 8 / 10).min(issued[i]);
            r.primary_empty = empty[i];
            r.primary_under_3 = small[i];
            r.primary_no_chair = p_no_chair[i];
            r.primary_no_term = p_no_term[i];
            r.primary_no_access = p_no_access[i];
            r.primary_no_inn = p_no_inn[i];
            r.primary_legal = p_legal[i];
            r.primary_rights = p_rights[i];
            r.territorial_no_chair = t_no_chair[i];
            r.territorial_no_term = t_no_term[i];
            r.territorial_no_access = t_no_access[i];
            r.territorial_legal = t_legal[i];
            r.periods = std::mem::take(&mut per_period[i]);
            if has_official[i] {
                let b = Official {
                    as_of: date("2023-01-01"),
                    members: official_members[i],
                    categories: off_cat[i][..3].try_into().expect("three"),
                    primary: primary[i] + extra[i],
                    territorial: official_territorial[i],
                    primary_created: created_off[i],
                    legal_primary: legal_p_off[i],
                    legal_territorial: legal_t_off[i],
                    rights: rights_off[i],
                };
                // The year before: a little smaller, the same where nothing changed.
                let factor = if unchanged.contains(&i) { 1.0 } else { 0.97 + 0.02 * rng.unit() };
                let f = |v: u64| (v as f64 * factor).round() as u64;
                let before = Official {
                    as_of: date("2022-01-01"),
                    members: b.categories.iter().map(|&c| f(c)).sum(),
                    categories: b.categories.map(f),
                    primary: f(b.primary),
                    territorial: b.territorial,
                    primary_created: f(b.primary_created),
                    legal_primary: b.legal_primary,
                    legal_territorial: b.legal_territorial,
                    rights: b.rights,
                };
                r.official = vec![before, b];
            }
        }
        Plan { regions, purchases: purchase_windows(&fig) }
    }

    /// Every count ×`scale` (rounded, so parts stay within their wholes).
    fn scaled(mut self, scale: f64) -> Plan {
        let s = |v: &mut u64| *v = scaled(*v, scale);
        for r in &mut self.regions {
            for v in [
                &mut r.primary, &mut r.primary_2022, &mut r.primary_2023, &mut r.territorial, &mut r.primary_excluded,
                &mut r.members_in_excluded, &mut r.past_leavers, &mut r.app, &mut r.cards_issued, &mut r.cards_refused,
                &mut r.refused_with_app, &mut r.issued_with_app, &mut r.primary_empty, &mut r.primary_under_3,
                &mut r.primary_no_chair, &mut r.primary_no_term, &mut r.primary_no_access, &mut r.primary_no_inn,
                &mut r.primary_legal, &mut r.primary_rights, &mut r.territorial_no_chair, &mut r.territorial_no_term,
                &mut r.territorial_no_access, &mut r.territorial_legal,
            ] {
                s(v);
            }
            r.primary = r.primary.max(1);
            r.territorial = r.territorial.max(1);
            for k in 0..4 {
                s(&mut r.groups.stay[k]);
                s(&mut r.groups.join[k]);
                s(&mut r.groups.leave[k]);
            }
            for f in [&mut r.online, &mut r.profcards] {
                s(&mut f.stay);
                s(&mut f.join);
                s(&mut f.leave);
            }
            for p in &mut r.periods {
                for a in &mut p.auto {
                    s(a);
                }
                s(&mut p.manual);
                s(&mut p.territorial);
                s(&mut p.territorial_auto);
            }
            for o in &mut r.official {
                s(&mut o.members);
                for c in &mut o.categories {
                    s(c);
                }
                o.members = o.categories.iter().sum::<u64>().max(o.members);
                for v in [&mut o.primary, &mut o.territorial, &mut o.primary_created, &mut o.legal_primary, &mut o.legal_territorial, &mut o.rights] {
                    s(v);
                }
            }
        }
        for w in &mut self.purchases {
            s(&mut w.purchases);
            s(&mut w.amount);
            s(&mut w.cashback);
        }
        self
    }
}

/// The count of `whole` nearest to `pct` % that is `pct` % when rounded to
/// the decree's one decimal (100 % is all of them).
fn count_for(whole: u64, pct: f64) -> Option<u64> {
    let exact = whole as f64 * pct / 100.0;
    let guess = exact.round() as i64;
    let mut candidates: Vec<u64> = (guess - 2..=guess + 2).filter(|&k| k >= 0 && k as u64 <= whole).map(|k| k as u64).collect();
    candidates.sort_by(|a, b| (*a as f64 - exact).abs().total_cmp(&(*b as f64 - exact).abs()));
    candidates
        .into_iter()
        .find(|&k| whole > 0 && ((1000.0 * k as f64 / whole as f64).round() / 10.0 - pct).abs() < 1e-9)
}

fn official_total(fig: &Figures) -> u64 {
    official_working(fig) + official_students(fig) + official_pensioners(fig)
}

// The decree gives the registry's categories as shares of the official ones
// (83.5 %, 70.2 %, 60.7 %); these official counts give those shares and, in
// sum, the 82.5 % coverage of the total.
fn official_working(fig: &Figures) -> u64 {
    (fig.get("working") as f64 / 0.835).round() as u64
}
fn official_students(fig: &Figures) -> u64 {
    (fig.get("students") as f64 / 0.702).round() as u64
}
fn official_pensioners(fig: &Figures) -> u64 {
    (fig.get("pensioners") as f64 / 0.607).round() as u64
}

/// Per region: working, students, pensioners split from national totals in
/// proportion to each region's members (±), the missing category the rest.
fn split_categories(rng: &mut Rng, members: &[u64], totals: [u64; 3]) -> Vec<[u64; 4]> {
    let n = members.len();
    let mw: Vec<f64> = members.iter().map(|&m| m as f64).collect();
    let pensioners = apportion_bounded(totals[2], &jitter(rng, &mw, 0.3), &vec![0; n], members);
    let room: Vec<u64> = (0..n).map(|i| members[i] - pensioners[i]).collect();
    let students = apportion_bounded(totals[1], &jitter(rng, &mw, 0.3), &vec![0; n], &room);
    let room: Vec<u64> = (0..n).map(|i| members[i] - pensioners[i] - students[i]).collect();
    let working = apportion_bounded(totals[0], &jitter(rng, &mw, 0.05), &vec![0; n], &room);
    (0..n).map(|i| [working[i], students[i], pensioners[i], members[i] - working[i] - students[i] - pensioners[i]]).collect()
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
fn report_periods(fig: &Figures) -> Vec<(NaiveDate, u64, u64, [u64; 2])> {
    let mut periods = vec![
        (date("2022-01-01"), fig.get("primary_auto_reports_2022-01-01"), fig.get("territorial_reports_2022-01-01")),
        (date("2022-10-01"), fig.get("primary_auto_reports_2022-10-01"), fig.get("territorial_reports_2022-10-01")),
        (date("2023-01-01"), fig.get("primary_auto_reports_2023-01-01"), fig.get("territorial_reports_2023-01-01")),
        (date("2023-04-01"), fig.get("primary_auto_reports_2023-04-01"), fig.get("territorial_auto_reports_2023-04-01")),
        (date("2023-07-01"), fig.get("primary_auto_reports_2023-07-01"), TERRITORIAL_2023_07),
        (date("2023-10-01"), fig.get("primary_auto_reports_2023-10-01"), fig.get("territorial_reports_2023-10-01")),
    ];
    for (p, a, t) in QUIET_QUARTERS {
        periods.push((date(p), a, t));
    }
    periods.sort_by_key(|p| p.0);
    periods
        .into_iter()
        .map(|(p, a, t)| {
            let forms = if p == date("2023-10-01") {
                [fig.get("reports_3sp_2023-10-01"), fig.get("reports_4sp_2023-10-01")]
            } else {
                [a * 2 / 100, a / 400]
            };
            (p, a, t, forms)
        })
        .collect()
}

/// PROFCARDS purchases: the decree's windows (9 months of 2023, the whole of
/// 2021, five years in all) and, for the rest of the five years, chosen counts.
fn purchase_windows(fig: &Figures) -> Vec<PurchaseWindow> {
    let rub = |r: u64| r * 100;
    let total = (fig.get("purchases_5y"), rub(fig.get("amount_5y")), rub(fig.get("cashback_5y")));
    let y2021 = (fig.get("purchases_2021"), 0, rub(fig.get("cashback_2021")));
    // 2021's amount is not given: its cashback at the five-year average rate.
    let y2021 = (y2021.0, (y2021.2 as f64 / 0.033).round() as u64 / 100 * 100, y2021.2);
    let m2023 = (fig.get("purchases_2023_9m"), rub(fig.get("amount_2023_9m")), rub(fig.get("cashback_2023_9m")));
    let rest = (total.0 - y2021.0 - m2023.0, total.1 - y2021.1 - m2023.1, total.2 - y2021.2 - m2023.2);
    // The rest over December 2018–2020, 2022 and October–November 2023, by these shares.
    let other = [("2018-12-01", "2019-12-31", 26.0), ("2020-01-01", "2020-12-31", 37.0), ("2022-01-01", "2022-12-31", 33.0), ("2023-10-01", "2023-11-21", 4.0)];
    let shares: Vec<f64> = other.iter().map(|o| o.2).collect();
    let counts = apportion(rest.0, &shares);
    let amounts = apportion(rest.1, &shares);
    let cashbacks = apportion(rest.2, &shares);
    let mut windows = vec![
        PurchaseWindow { from: date("2021-01-01"), to: date("2021-12-31"), purchases: y2021.0, amount: y2021.1, cashback: y2021.2 },
        PurchaseWindow { from: date("2023-01-01"), to: date("2023-09-30"), purchases: m2023.0, amount: m2023.1, cashback: m2023.2 },
    ];
    for (k, (from, to, _)) in other.iter().enumerate() {
        windows.push(PurchaseWindow { from: date(from), to: date(to), purchases: counts[k], amount: amounts[k], cashback: cashbacks[k] });
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
