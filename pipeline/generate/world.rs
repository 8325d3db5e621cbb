//! The rows of the demo's world, written as a snapshot of one date.
//!
//! The world is one registry history (organizations registered and excluded,
//! members joining and leaving, reports, purchases) drawn from the plan with a
//! seed; a snapshot of date X is what the registry knew on X: rows entered by
//! X, with exclusion and leaving dates only where they had happened. So the
//! snapshots of 2022-11-21 and 2023-11-21 are two views of the same members,
//! and every count the plan fixes comes out exact in the marts of each.

use chrono::{Days, NaiveDate};

use super::apportion::{Deal, Split, apportion, apportion_bounded};
use super::plan::{CATEGORIES, Plan, RegionPlan, decree_date, year_before};
use super::rng::Rng;
use super::sink::{Form, Sink};
use super::{GenerateError, Generated};

/// The open files of a snapshot and what is known on its date.
pub struct Snapshot {
    pub as_of: NaiveDate,
    pub form: Form,
    pub orgs: Sink,
    pub members: Sink,
    pub reports: Sink,
    pub official: Sink,
    pub purchases: Sink,
    pub stats: Generated,
}

/// Long-standing members taking part in PROFCARDS: the buyers (their numbers).
#[derive(Default)]
pub struct Buyers(Vec<u64>);

const BREAK_EVERY: u64 = 10_000;
/// Of the members who leave between C and D, about one in this many is
/// missing from every export from the day they leave instead of being
/// marked as left (member_flows' gone_from_export); of those who join, about
/// one in this many is entered with a registration date a year earlier than
/// the day they joined, so C's export lacks them though the date is before C
/// (registered_late). Chosen by a hash of the member's number, so the
/// world's random draws stay as they were.
const GONE_EVERY: u64 = 40;
const LATE_EVERY: u64 = 90;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// A day in `from..=to`.
fn between(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0) as u64;
    from.checked_add_days(Days::new(rng.below(span + 1))).expect("date in range")
}

/// Per-region generator: its own seed, so regions do not depend on each other's draws.
fn region_rng(seed: u64, code: &str) -> Rng {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in code.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    Rng::new(seed ^ h)
}

/// How the active primary orgs of a region share its members on record at D.
struct Layout {
    empty: u64,
    under_3: u64,
    /// Members of the orgs with 1–2 members, in all.
    under_3_members: u64,
    /// Sizes of the orgs with 3 or more members.
    big: Vec<u64>,
}

fn layout(rng: &mut Rng, r: &RegionPlan) -> Layout {
    let members = r.groups.at_d().saturating_sub(r.members_in_excluded);
    let primary = r.primary;
    // Registered in 2023, an org has no members yet.
    let empty_at_least = r.primary_empty.max(r.primary_2023).min(primary);
    let under_3 = r.primary_under_3.min(primary - empty_at_least);
    // Each larger org has at least 3 members: as many as the members allow
    // (a scaled plan may ask for more than its members can fill).
    let mut big_count = (primary - empty_at_least - under_3).min(members.saturating_sub(under_3) / 3);
    if big_count == 0 && members > 2 * under_3 && primary > empty_at_least + under_3 {
        big_count = 1;
    }
    let empty = primary - under_3 - big_count;
    let under_3_members_max = (2 * under_3).min(members.saturating_sub(3 * big_count));
    let under_3_members = (under_3 * 3 / 2).clamp(under_3.min(under_3_members_max), under_3_members_max);
    let big_total = members - under_3_members.min(members);
    let weights: Vec<f64> = (0..big_count).map(|_| (rng.unit() * 2.2).exp()).collect();
    let big = if big_count == 0 {
        Vec::new()
    } else if big_total >= 3 * big_count {
        apportion(big_total - 3 * big_count, &weights).into_iter().map(|s| s + 3).collect()
    } else {
        apportion(big_total, &weights)
    };
    Layout { empty, under_3, under_3_members, big }
}

/// The member draws of a region: exact counts by group, category and flag.
struct MemberDeals {
    group: Split,
    category: [Split; 3],
    online: [Deal; 3],
    profcards: [Deal; 3],
    app: Deal,
    card_app: Split,
    card_other: Split,
}

impl MemberDeals {
    fn new(r: &RegionPlan) -> MemberDeals {
        let g = &r.groups;
        let (stay, join, leave) = (g.stayers(), g.joiners(), g.leavers());
        let at_d = stay + join;
        let profcards_d = r.profcards.stay + r.profcards.join;
        let app = r.app.min(profcards_d);
        let refused_app = r.refused_with_app.min(app);
        let issued_app = r.issued_with_app.min(app - refused_app);
        // Members without the app; a scaled plan's rounding may leave fewer
        // of them than issued + refused cards.
        let other = at_d - app;
        let issued_other = r.cards_issued.saturating_sub(issued_app).min(other);
        let refused_other = r.cards_refused.saturating_sub(refused_app).min(other - issued_other);
        MemberDeals {
            group: Split::new(&[stay, join]),
            category: [Split::new(&g.stay), Split::new(&g.join), Split::new(&g.leave)],
            online: [Deal::new(r.online.stay, stay), Deal::new(r.online.join, join), Deal::new(r.online.leave, leave)],
            profcards: [
                Deal::new(r.profcards.stay, stay),
                Deal::new(r.profcards.join, join),
                Deal::new(r.profcards.leave, leave),
            ],
            app: Deal::new(app, profcards_d),
            card_app: Split::new(&[issued_app, refused_app, app - issued_app - refused_app]),
            card_other: Split::new(&[issued_other, refused_other, other - issued_other - refused_other]),
        }
    }
}

/// Where a member is in the world's history.
#[derive(Clone, Copy, PartialEq)]
enum Group {
    Stay,
    Join,
    Leave,
    Past,
}

/// One organization as registered.
struct OrgRow<'a> {
    id: &'a str,
    parent: &'a str,
    level: &'a str,
    name: &'a str,
    registered: NaiveDate,
    excluded: Option<NaiveDate>,
    legal_entity: bool,
    territorial_rights: bool,
    inn: String,
    chair_filled: bool,
    chair_term: Option<NaiveDate>,
    chair_access: bool,
    chair_email: bool,
}

impl Snapshot {
    fn org(&mut self, code: &str, o: OrgRow<'_>, rng: &mut Rng) -> Result<(), GenerateError> {
        // Drawn whether or not the row is written, so every snapshot sees the same world.
        let phone =
            format!("+7 9{:02} {:03}-{:02}-{:02}", rng.below(100), rng.below(1000), rng.below(100), rng.below(100));
        if o.registered > self.as_of {
            return Ok(());
        }
        let f = &self.form;
        let mut row = vec![
            o.id.to_string(),
            o.parent.to_string(),
            o.level.to_string(),
            code.to_string(),
            o.name.to_string(),
            f.date(o.registered),
            f.opt_date(o.excluded.filter(|e| *e <= self.as_of)),
            f.bool(o.legal_entity).to_string(),
            f.bool(o.territorial_rights).to_string(),
            o.inn,
            f.bool(o.chair_filled).to_string(),
            f.opt_date(o.chair_term),
            f.bool(o.chair_access).to_string(),
            f.bool(o.chair_email).to_string(),
        ];
        if f.messy {
            row.push(phone);
        }
        self.orgs.write(&row)?;
        self.stats.organizations += 1;
        Ok(())
    }

    fn report(
        &mut self,
        org: &str,
        form: u8,
        period: NaiveDate,
        auto: bool,
        rng: &mut Rng,
    ) -> Result<(), GenerateError> {
        let submitted = period.checked_add_days(Days::new(rng.below(40))).expect("date");
        if submitted > self.as_of {
            return Ok(());
        }
        let f = &self.form;
        self.reports.write(&[
            org,
            &f.form(form),
            &f.date(period),
            if auto { "auto" } else { "manual" },
            &f.date(submitted),
        ])?;
        self.stats.stat_reports += 1;
        Ok(())
    }
}

/// Writes region `r`'s organizations, members and reports into the snapshot.
pub fn write_region(
    snap: &mut Snapshot,
    r: &RegionPlan,
    seed: u64,
    next_member: &mut u64,
    buyers: &mut Buyers,
) -> Result<(), GenerateError> {
    let mut region = RegionWriter {
        snap,
        r,
        code: r.code.as_str(),
        rng: region_rng(seed, &r.code),
        regional_id: format!("R{}", r.code),
        deals: MemberDeals::new(r),
        next_member,
        buyers,
    };
    region.regional_org()?;
    let territorials = region.territorial_orgs()?;
    let layout = layout(&mut region.rng, r);
    region.primary_orgs(&layout, &territorials)?;
    region.excluded_orgs()?;
    region.left_over_members(&layout)?;
    if region.snap.form.messy {
        region.broken_org()?;
    }
    Ok(())
}

/// One region being written: its plan, its own generator, and its members'
/// exact draws. The steps draw in the order `write_region` calls them.
struct RegionWriter<'a> {
    snap: &'a mut Snapshot,
    r: &'a RegionPlan,
    code: &'a str,
    rng: Rng,
    regional_id: String,
    deals: MemberDeals,
    /// The last member number given, across regions.
    next_member: &'a mut u64,
    buyers: &'a mut Buyers,
}

/// When a primary org was registered: long before (it reports and has
/// members), in 2022 (it reports from 2023), or in 2023 (nothing yet).
#[derive(Clone, Copy, PartialEq)]
enum Cohort {
    LongStanding,
    Of2022,
    Of2023,
}

/// Whether a primary org lacks a chair, a term, access or a valid INN, is a
/// legal entity and has territorial rights: exact counts over a region's orgs.
struct PrimaryFlagDeals {
    no_chair: Deal,
    no_term: Deal,
    no_access: Deal,
    no_inn: Deal,
    legal: Deal,
    rights: Deal,
}

impl PrimaryFlagDeals {
    fn new(r: &RegionPlan) -> PrimaryFlagDeals {
        let p = r.primary;
        PrimaryFlagDeals {
            no_chair: Deal::new(r.primary_no_chair, p),
            no_term: Deal::new(r.primary_no_term, p - r.primary_no_chair.min(p)),
            no_access: Deal::new(r.primary_no_access, p),
            no_inn: Deal::new(r.primary_no_inn, p),
            legal: Deal::new(r.primary_legal, p),
            rights: Deal::new(r.primary_rights, p),
        }
    }
}

/// How many members each primary org with members gets: none, 1–2, or one
/// of the layout's larger sizes with its share of the leavers.
struct OrgSizeDeals<'a> {
    size_class: Split,
    two_members: Deal,
    big_sizes: std::slice::Iter<'a, u64>,
    leave_per_org: Vec<u64>,
    past_per_org: Vec<u64>,
    big_index: usize,
}

impl<'a> OrgSizeDeals<'a> {
    fn new(r: &RegionPlan, layout: &'a Layout, registered_2023: u64) -> OrgSizeDeals<'a> {
        // Leavers and earlier leavers are spread over the orgs with members.
        let leave_total: u64 = r.groups.leave.iter().sum();
        let big_weights: Vec<f64> = layout.big.iter().map(|&s| s as f64).collect();
        let leave_per_org = if layout.big.is_empty() { Vec::new() } else { apportion(leave_total, &big_weights) };
        let past_per_org = if layout.big.is_empty() { Vec::new() } else { apportion(r.past_leavers, &big_weights) };
        OrgSizeDeals {
            size_class: Split::new(&[
                layout.empty.saturating_sub(registered_2023),
                layout.under_3,
                layout.big.len() as u64,
            ]),
            two_members: Deal::new(layout.under_3_members.saturating_sub(layout.under_3), layout.under_3),
            big_sizes: layout.big.iter(),
            leave_per_org,
            past_per_org,
            big_index: 0,
        }
    }

    /// The next org's members on record at D, leavers, and earlier leavers.
    fn draw(&mut self, rng: &mut Rng) -> (u64, u64, u64) {
        match self.size_class.draw(rng) {
            0 => (0, 0, 0),
            1 => (1 + u64::from(self.two_members.draw(rng)), 0, 0),
            _ => {
                let size = self.big_sizes.next().copied().unwrap_or(3);
                let index = self.big_index;
                self.big_index += 1;
                (
                    size,
                    self.leave_per_org.get(index).copied().unwrap_or(0),
                    self.past_per_org.get(index).copied().unwrap_or(0),
                )
            }
        }
    }
}

/// Per period, which primary orgs report: exact counts of auto reports on
/// 3-SP, 4-SP, 5-SP, manual reports and none, over the orgs that may report.
fn primary_report_deals(r: &RegionPlan, long_standing: u64, registered_2022: u64) -> Vec<Split> {
    r.periods
        .iter()
        .map(|plan| {
            let eligible = if plan.period >= day(2023, 1, 1) { long_standing + registered_2022 } else { long_standing };
            let mut counts = vec![plan.auto[0], plan.auto[1], plan.auto[2], plan.manual];
            let mut sum: u64 = counts.iter().sum();
            // A scaled plan may round above the orgs there are.
            while sum > eligible {
                let i = (0..4).rev().find(|&i| counts[i] > 0).expect("some count");
                counts[i] -= 1;
                sum -= 1;
            }
            counts.push(eligible - sum);
            Split::new(&counts)
        })
        .collect()
}

impl RegionWriter<'_> {
    fn regional_org(&mut self) -> Result<(), GenerateError> {
        let org = OrgRow {
            id: &self.regional_id,
            parent: "",
            level: "regional",
            name: &self.r.name,
            registered: between(&mut self.rng, day(2010, 1, 1), day(2012, 12, 31)),
            excluded: None,
            legal_entity: true,
            territorial_rights: false,
            inn: inn(&mut self.rng),
            chair_filled: true,
            chair_term: Some(between(&mut self.rng, day(2024, 1, 1), day(2029, 12, 31))),
            chair_access: true,
            chair_email: true,
        };
        self.snap.org(self.code, org, &mut self.rng)
    }

    /// Territorial organizations, all active, and their 2-SP reports. Returns their ids.
    fn territorial_orgs(&mut self) -> Result<Vec<String>, GenerateError> {
        let (r, code) = (self.r, self.code);
        // Reports of each period, dealt over the orgs that may make them.
        let mut report_deals: Vec<(Deal, Deal)> = r
            .periods
            .iter()
            .map(|p| (Deal::new(p.territorial, r.territorial), Deal::new(p.territorial_auto, p.territorial)))
            .collect();
        let mut no_chair = Deal::new(r.territorial_no_chair, r.territorial);
        let mut no_term = Deal::new(r.territorial_no_term, r.territorial - r.territorial_no_chair.min(r.territorial));
        let mut no_access = Deal::new(r.territorial_no_access, r.territorial);
        let mut legal = Deal::new(r.territorial_legal, r.territorial);
        let rng = &mut self.rng;
        let mut territorials = Vec::with_capacity(r.territorial as usize);
        for t in 0..r.territorial {
            let id = format!("T{code}-{t}");
            let name = format!("Территориальная организация Профсоюза № {} ({})", t + 1, r.short_name);
            let chair_filled = !no_chair.draw(rng);
            let without_term = chair_filled && no_term.draw(rng);
            let org = OrgRow {
                id: &id,
                parent: &self.regional_id,
                level: "territorial",
                name: &name,
                registered: between(rng, day(2011, 1, 1), day(2016, 12, 31)),
                excluded: None,
                legal_entity: legal.draw(rng),
                territorial_rights: false,
                inn: inn(rng),
                chair_filled,
                chair_term: (chair_filled && !without_term).then(|| between(rng, day(2023, 3, 1), day(2028, 12, 31))),
                chair_access: !no_access.draw(rng),
                chair_email: rng.chance(0.9),
            };
            self.snap.org(code, org, rng)?;
            for (k, p) in r.periods.iter().enumerate() {
                let (reported, auto) = &mut report_deals[k];
                if reported.draw(rng) {
                    let is_auto = auto.draw(rng);
                    self.snap.report(&id, 2, p.period, is_auto, rng)?;
                }
            }
            territorials.push(id);
        }
        Ok(territorials)
    }

    /// Primary organizations active at D: the long-standing ones, those
    /// registered in 2022, those registered in 2023 (no members yet, no
    /// reports); their reports and members.
    fn primary_orgs(&mut self, layout: &Layout, territorials: &[String]) -> Result<(), GenerateError> {
        let (r, code) = (self.r, self.code);
        let (c, d) = (year_before(), decree_date());
        let p = r.primary;
        let registered_2022 = r.primary_2022.min(p);
        let registered_2023 = r.primary_2023.min(p - registered_2022);
        let long_standing = p - registered_2022 - registered_2023;
        let mut sizes = OrgSizeDeals::new(r, layout, registered_2023);
        let mut report_deals = primary_report_deals(r, long_standing, registered_2022);
        let mut flags = PrimaryFlagDeals::new(r);
        for k in 0..p {
            let id = format!("P{code}-{k}");
            let (registered, cohort) = if k < long_standing {
                (between(&mut self.rng, day(2012, 1, 1), day(2021, 12, 31)), Cohort::LongStanding)
            } else if k < long_standing + registered_2022 {
                (between(&mut self.rng, day(2022, 1, 1), c), Cohort::Of2022)
            } else {
                (between(&mut self.rng, day(2023, 1, 1), d), Cohort::Of2023)
            };
            self.primary_org(&id, k, registered, territorials, &mut flags)?;
            self.primary_reports(&id, cohort, &mut report_deals)?;
            let (size, leavers, past) = if cohort == Cohort::Of2023 { (0, 0, 0) } else { sizes.draw(&mut self.rng) };
            self.primary_members(&id, k, registered, size, leavers, past)?;
        }
        Ok(())
    }

    /// The row of active primary org number `k`.
    fn primary_org(
        &mut self,
        id: &str,
        k: u64,
        registered: NaiveDate,
        territorials: &[String],
        flags: &mut PrimaryFlagDeals,
    ) -> Result<(), GenerateError> {
        let rng = &mut self.rng;
        let parent = if territorials.is_empty() || rng.chance(0.1) {
            self.regional_id.clone()
        } else {
            territorials[rng.below(territorials.len() as u64) as usize].clone()
        };
        let name = primary_name(rng, k, self.snap.form.messy);
        let chair_filled = !flags.no_chair.draw(rng);
        let without_term = chair_filled && flags.no_term.draw(rng);
        let no_inn = flags.no_inn.draw(rng);
        let org = OrgRow {
            id,
            parent: &parent,
            level: "primary",
            name: &name,
            registered,
            excluded: None,
            legal_entity: flags.legal.draw(rng),
            territorial_rights: flags.rights.draw(rng),
            inn: if no_inn { bad_inn(rng) } else { inn(rng) },
            chair_filled,
            chair_term: (chair_filled && !without_term).then(|| between(rng, day(2023, 3, 1), day(2028, 12, 31))),
            chair_access: !flags.no_access.draw(rng),
            chair_email: rng.chance(0.85),
        };
        self.snap.org(self.code, org, rng)
    }

    /// A primary org's reports of the periods it existed for.
    fn primary_reports(&mut self, id: &str, cohort: Cohort, report_deals: &mut [Split]) -> Result<(), GenerateError> {
        let rng = &mut self.rng;
        for (i, period_plan) in self.r.periods.iter().enumerate() {
            let eligible =
                cohort == Cohort::LongStanding || (cohort == Cohort::Of2022 && period_plan.period >= day(2023, 1, 1));
            if !eligible {
                continue;
            }
            match report_deals[i].draw(rng) {
                form @ 0..=2 => self.snap.report(id, 3 + form as u8, period_plan.period, true, rng)?,
                3 => {
                    let form = [5u8, 5, 5, 5, 3, 4][rng.below(6) as usize];
                    self.snap.report(id, form, period_plan.period, false, rng)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A primary org's members: `size` on record at D, `leavers` who left
    /// between C and D, `past` who left before C.
    fn primary_members(
        &mut self,
        id: &str,
        k: u64,
        registered: NaiveDate,
        size: u64,
        leavers: u64,
        past: u64,
    ) -> Result<(), GenerateError> {
        // A larger org may have a subdivision holding some of its members.
        let subdivision = (size >= 10 && self.rng.chance(0.1)).then(|| format!("S{}-{k}", self.code));
        if let Some(sub) = &subdivision {
            let org = OrgRow {
                id: sub,
                parent: id,
                level: "subdivision",
                name: "Профсоюзная организация структурного подразделения",
                registered,
                excluded: None,
                legal_entity: false,
                territorial_rights: false,
                inn: String::new(),
                chair_filled: self.rng.chance(0.8),
                chair_term: None,
                chair_access: self.rng.chance(0.05),
                chair_email: false,
            };
            self.snap.org(self.code, org, &mut self.rng)?;
        }
        let home = |rng: &mut Rng| match &subdivision {
            Some(sub) if rng.chance(0.3) => sub.clone(),
            _ => id.to_string(),
        };
        for _ in 0..size {
            let group = self.stay_or_join();
            let org = home(&mut self.rng);
            self.member(group, &org, registered)?;
        }
        for _ in 0..leavers {
            let org = home(&mut self.rng);
            self.member(Group::Leave, &org, registered)?;
        }
        for _ in 0..past {
            let org = home(&mut self.rng);
            self.member(Group::Past, &org, registered)?;
        }
        Ok(())
    }

    /// Primary orgs excluded before D (half before C), some still holding members.
    fn excluded_orgs(&mut self) -> Result<(), GenerateError> {
        let (c, d) = (year_before(), decree_date());
        let p = self.r.primary;
        let mut in_excluded = self.r.members_in_excluded;
        for k in 0..self.r.primary_excluded {
            let id = format!("P{}-{}", self.code, p + k);
            let rng = &mut self.rng;
            let registered = between(rng, day(2012, 1, 1), day(2016, 12, 31));
            let excluded = if k % 2 == 0 {
                between(rng, day(2018, 1, 1), day(2022, 6, 30))
            } else {
                between(rng, c + Days::new(1), d - Days::new(1))
            };
            let name = primary_name(rng, p + k, self.snap.form.messy);
            let org = OrgRow {
                id: &id,
                parent: &self.regional_id,
                level: "primary",
                name: &name,
                registered,
                excluded: Some(excluded),
                legal_entity: false,
                territorial_rights: false,
                inn: inn(rng),
                chair_filled: rng.chance(0.5),
                chair_term: None,
                chair_access: false,
                chair_email: false,
            };
            self.snap.org(self.code, org, rng)?;
            let holding = in_excluded.min(15);
            in_excluded -= holding;
            for _ in 0..holding {
                let group = self.stay_or_join();
                self.member(group, &id, registered)?;
            }
        }
        Ok(())
    }

    /// Members left over (a scaled plan's rounding, or a region without larger
    /// orgs for its leavers) join the first primary org.
    fn left_over_members(&mut self, layout: &Layout) -> Result<(), GenerateError> {
        let first = format!("P{}-0", self.code);
        for _ in 0..self.deals.group.remaining() {
            let group = self.stay_or_join();
            self.member(group, &first, day(2012, 1, 1))?;
        }
        if layout.big.is_empty() && self.r.primary > 0 {
            let leave_total: u64 = self.r.groups.leave.iter().sum();
            for _ in 0..leave_total {
                self.member(Group::Leave, &first, day(2012, 1, 1))?;
            }
        }
        Ok(())
    }

    /// A broken organization row: a date that does not exist.
    fn broken_org(&mut self) -> Result<(), GenerateError> {
        let (snap, code) = (&mut *self.snap, self.code);
        let id = format!("X{code}");
        let f = &snap.form;
        let row = [
            id.as_str(),
            &self.regional_id,
            "primary",
            code,
            "ППО с ошибкой в дате",
            "31.02.2020",
            "",
            f.bool(false),
            f.bool(false),
            "",
            f.bool(true),
            "",
            f.bool(true),
            f.bool(true),
            "",
        ];
        snap.orgs.write(&row)?;
        snap.stats.organizations += 1;
        snap.stats.broken += 1;
        Ok(())
    }

    /// A member on record at D: one who stayed since C or joined after it.
    fn stay_or_join(&mut self) -> Group {
        if self.deals.group.draw(&mut self.rng) == 0 { Group::Stay } else { Group::Join }
    }

    /// Draws and writes one member of `group` in `org` (registered on `org_registered`).
    fn member(&mut self, group: Group, org: &str, org_registered: NaiveDate) -> Result<(), GenerateError> {
        *self.next_member += 1;
        let number = *self.next_member;
        let member = Member::draw(&mut self.rng, &mut self.deals, group, org_registered);
        if member.profcards && member.registered < day(2018, 12, 1) {
            self.buyers.0.push(number);
        }
        self.snap.member(number, org, &member)
    }
}

/// One member of the world, drawn whether or not the snapshot's date knows them.
struct Member {
    category: &'static str,
    registered: NaiveDate,
    left: Option<NaiveDate>,
    online: bool,
    profcards: bool,
    app: bool,
    card: &'static str,
    card_ordered: Option<NaiveDate>,
    pd_consent: bool,
    account: bool,
    /// Name, phone (four parts), card number and e-mail, as numbers.
    personal: [u64; 7],
    birth: NaiveDate,
}

impl Member {
    fn draw(rng: &mut Rng, deals: &mut MemberDeals, group: Group, org_registered: NaiveDate) -> Member {
        let (c, d) = (year_before(), decree_date());
        let since = org_registered.max(day(2012, 1, 1));
        let (category, registered, left, online, profcards) = match group {
            Group::Stay | Group::Join | Group::Leave => {
                let index = match group {
                    Group::Stay => 0,
                    Group::Join => 1,
                    _ => 2,
                };
                let category = CATEGORIES[deals.category[index].draw(rng)];
                let registered =
                    if group == Group::Join { between(rng, c + Days::new(1), d) } else { between(rng, since, c) };
                let left = (group == Group::Leave).then(|| between(rng, c + Days::new(1), d));
                (category, registered, left, deals.online[index].draw(rng), deals.profcards[index].draw(rng))
            }
            Group::Past => {
                let category = CATEGORIES[rng.below(4) as usize];
                let registered = between(rng, since, day(2021, 12, 31));
                let left = between(rng, registered, c);
                (category, registered, Some(left), rng.chance(0.01), rng.chance(0.1))
            }
        };
        let on_record_at_d = matches!(group, Group::Stay | Group::Join);
        let app = on_record_at_d && profcards && deals.app.draw(rng);
        let card = if on_record_at_d {
            let split = if app { &mut deals.card_app } else { &mut deals.card_other };
            match split.draw(rng) {
                0 => "issued",
                1 => "refused",
                _ => {
                    if rng.chance(0.2) {
                        "ordered"
                    } else {
                        "none"
                    }
                }
            }
        } else {
            ["issued", "none", "refused"][rng.below(3) as usize]
        };
        let card_ordered = (card != "none").then(|| between(rng, registered.max(day(2019, 1, 1)), d.max(registered)));
        let pd_consent = rng.chance(0.95);
        let account = rng.chance(0.3);
        // Personal data, drawn in both forms (the same world) but written only in
        // the office one.
        let personal: [u64; 7] = [
            rng.below(4),
            rng.below(100),
            rng.below(1000),
            rng.below(100),
            rng.below(100),
            rng.below(1_000_000_000_000),
            rng.below(1_000_000),
        ];
        let birth = between(rng, day(1955, 1, 1), day(2004, 12, 31));
        Member {
            category,
            registered,
            left,
            online,
            profcards,
            app,
            card,
            card_ordered,
            pd_consent,
            account,
            personal,
            birth,
        }
    }
}

impl Snapshot {
    /// Writes member `number` of `org` as known on the snapshot's date.
    fn member(&mut self, number: u64, org: &str, m: &Member) -> Result<(), GenerateError> {
        if m.registered > self.as_of {
            return Ok(());
        }
        let c = year_before();
        let spread = xxhash_rust::xxh3::xxh3_64(&number.to_le_bytes());
        let left_since_c = m.left.filter(|l| *l > c && *l <= self.as_of);
        // Never a PROFCARDS buyer: their purchases must find them.
        if left_since_c.is_some() && spread.is_multiple_of(GONE_EVERY) && !m.profcards {
            return Ok(());
        }
        let registered =
            if m.registered > c && spread % LATE_EVERY == 1 { m.registered - Days::new(365) } else { m.registered };
        let known_card = if m.card_ordered.is_some_and(|o| o > self.as_of) { "none" } else { m.card };
        let f = &self.form;
        let mut row = vec![
            format!("M{number:08}"),
            org.to_string(),
            m.category.to_string(),
            f.date(registered),
            f.opt_date(m.left.filter(|l| *l <= self.as_of)),
            f.bool(m.online).to_string(),
            known_card.to_string(),
            f.opt_date(m.card_ordered.filter(|o| *o <= self.as_of)),
            f.bool(m.profcards).to_string(),
            f.bool(m.app).to_string(),
            f.bool(m.pd_consent).to_string(),
            f.bool(m.account).to_string(),
        ];
        if f.messy {
            const NAMES: [&str; 4] = [
                "Иванова Мария Петровна",
                "Петров Сергей Иванович",
                "Сидорова Анна Викторовна",
                "Кузнецов Олег Павлович",
            ];
            let [name, a, b, c, d, card, mail] = m.personal;
            row.push(NAMES[name as usize].to_string());
            row.push(format!("+7 9{a:02} {b:03}-{c:02}-{d:02}"));
            row.push(format!("2200{card:012}"));
            row.push(format!("user{mail}@example.ru"));
            row.push(f.date(m.birth));
        }
        self.members.write(&row)?;
        self.stats.members += 1;
        if f.messy && number.is_multiple_of(BREAK_EVERY) {
            // An extra row that breaks the contract: a date that does not exist.
            row[0] = format!("E{number:08}");
            row[3] = "2023-13-45".into();
            self.members.write(&row)?;
            self.stats.members += 1;
            self.stats.broken += 1;
        }
        Ok(())
    }
}

/// The official reports of a region known on the snapshot's date.
pub fn write_official(snap: &mut Snapshot, r: &RegionPlan) -> Result<(), GenerateError> {
    for o in &r.official {
        if o.as_of > snap.as_of {
            continue;
        }
        let f = &snap.form;
        snap.official.write(&[
            r.code.clone(),
            f.date(o.as_of),
            o.members.to_string(),
            o.categories[0].to_string(),
            o.categories[1].to_string(),
            o.categories[2].to_string(),
            o.primary.to_string(),
            o.territorial.to_string(),
            o.primary_created.to_string(),
            o.legal_primary.to_string(),
            o.legal_territorial.to_string(),
            o.rights.to_string(),
        ])?;
    }
    Ok(())
}

/// PROFCARDS purchases of the plan's windows up to the snapshot's date, by
/// long-standing members taking part in the program.
pub fn write_purchases(snap: &mut Snapshot, plan: &Plan, seed: u64, buyers: &Buyers) -> Result<(), GenerateError> {
    let mut rng = Rng::new(seed ^ 0xB0_0B1E5);
    let mut next = 0u64;
    for w in &plan.purchases {
        let n = w.purchases as usize;
        if n == 0 || buyers.0.is_empty() {
            continue;
        }
        let to = w.to.min(decree_date());
        let mut dates: Vec<NaiveDate> = (0..n).map(|_| between(&mut rng, w.from, to)).collect();
        dates.sort();
        // Amounts: each at least 1 ruble, summing to the window's total.
        let weights: Vec<f64> = (0..n).map(|_| (rng.unit() * 2.5).exp()).collect();
        let floor = 100u64.min(w.amount / n as u64);
        let amounts: Vec<u64> =
            apportion(w.amount - floor * n as u64, &weights).into_iter().map(|a| a + floor).collect();
        let cashback = apportion_bounded(
            w.cashback.min(w.amount),
            &amounts.iter().map(|&a| a as f64).collect::<Vec<_>>(),
            &vec![0; n],
            &amounts,
        );
        for i in 0..n {
            next += 1;
            let buyer = buyers.0[rng.below(buyers.0.len() as u64) as usize];
            if dates[i] > snap.as_of {
                continue;
            }
            let f = &snap.form;
            snap.purchases.write(&[
                format!("B{next:08}"),
                format!("M{buyer:08}"),
                f.date(dates[i]),
                f.money(amounts[i]),
                f.money(cashback[i]),
            ])?;
            snap.stats.purchases += 1;
        }
    }
    Ok(())
}

fn inn(rng: &mut Rng) -> String {
    format!("{:010}", 1_000_000_000 + rng.below(8_999_999_999))
}

/// An INN the data-quality check fails: empty, or of the wrong length.
fn bad_inn(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("{:09}", rng.below(1_000_000_000)),
        1 => format!("{:012}", rng.below(1_000_000_000_000)),
        _ => String::new(),
    }
}

fn primary_name(rng: &mut Rng, n: u64, messy: bool) -> String {
    const KINDS: [&str; 5] =
        ["средней общеобразовательной школы", "детского сада", "гимназии", "колледжа", "университета"];
    let kind = KINDS[rng.below(KINDS.len() as u64) as usize];
    if messy && n % 97 == 3 {
        // The untrusted text the outputs must escape and neutralise.
        return format!("=ППО {kind} № {n} «Ромашка» <b>\"Солнышко\"</b>;\nкорпус 2");
    }
    format!("Первичная профсоюзная организация {kind} № {}", n + 1)
}
