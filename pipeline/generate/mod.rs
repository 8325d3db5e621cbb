//! Synthetic registry snapshots for the demo, tests at size and benchmarks.
//!
//! Deterministic for a seed; streamed to disk row by row, so `--scale 10`
//! needs no more memory than `--scale 0.01`. `messy` writes what office exports
//! look like: windows-1251 with `;`, `DD.MM.YYYY`, `да/нет`, Cyrillic form
//! names, comma decimals, personal-data columns and a few hundred broken rows.
//! The proportions are the union's (3.1 million members in ~72,000 primary
//! organizations); calibration to the decree's exact figures is not here yet.

pub mod rng;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use encoding_rs::WINDOWS_1251;
use thiserror::Error;
use tracing::debug;

use crate::contract::{Contract, RegionReference};
use rng::Rng;

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

/// Full-size figures the proportions come from.
const PRIMARY_ORGS: f64 = 72_000.0;
const TERRITORIAL_ORGS: f64 = 2_300.0;
const MEMBERS_PER_PRIMARY: u64 = 86; // uniform 0..86 → ~43 on average

/// One CSV file being written, in the plain or the office form.
struct Sink {
    out: BufWriter<File>,
    path: String,
    messy: bool,
    row: Vec<u8>,
}

impl Sink {
    fn create(dir: &Path, name: &str, header: &[&str], messy: bool) -> Result<Sink, GenerateError> {
        let path = dir.join(format!("{name}.csv"));
        let file = File::create(&path).map_err(|source| GenerateError::Write { path: path.display().to_string(), source })?;
        let mut sink = Sink { out: BufWriter::with_capacity(1 << 20, file), path: path.display().to_string(), messy, row: Vec::new() };
        sink.write(header)?;
        Ok(sink)
    }

    fn write<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), GenerateError> {
        self.row.clear();
        {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if self.messy { b';' } else { b',' })
                .from_writer(&mut self.row);
            w.write_record(fields.iter().map(|f| f.as_ref()))
                .and_then(|_| w.flush().map_err(csv::Error::from))
                .map_err(|e| GenerateError::Write { path: self.path.clone(), source: e.into() })?;
        }
        let result = if self.messy {
            let text = std::str::from_utf8(&self.row).expect("csv writes UTF-8");
            let (bytes, _, _) = WINDOWS_1251.encode(text);
            self.out.write_all(&bytes)
        } else {
            self.out.write_all(&self.row)
        };
        result.map_err(|source| GenerateError::Write { path: self.path.clone(), source })
    }

    fn finish(mut self) -> Result<(), GenerateError> {
        self.out.flush().map_err(|source| GenerateError::Write { path: self.path.clone(), source })
    }
}

/// Value spellings of the plain or the office form.
struct Form {
    messy: bool,
}

impl Form {
    fn date(&self, d: NaiveDate) -> String {
        if self.messy { d.format("%d.%m.%Y").to_string() } else { d.format("%Y-%m-%d").to_string() }
    }

    fn opt_date(&self, d: Option<NaiveDate>) -> String {
        d.map(|d| self.date(d)).unwrap_or_default()
    }

    fn bool(&self, b: bool) -> &'static str {
        match (self.messy, b) {
            (false, true) => "true",
            (false, false) => "false",
            (true, true) => "да",
            (true, false) => "нет",
        }
    }

    fn form(&self, n: u8) -> String {
        if self.messy { format!("{n}-СП") } else { format!("{n}-SP") }
    }

    fn money(&self, kopecks: u64) -> String {
        let text = format!("{}.{:02}", kopecks / 100, kopecks % 100);
        if self.messy { text.replace('.', ",") } else { text }
    }
}

/// Writes one snapshot folder `<out>/` and returns what it holds.
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
    let form = Form { messy };
    let mut rng = Rng::new(request.seed);
    let as_of = request.as_of;
    let mut stats = Generated::default();
    let regions = &RegionReference::embedded().regions;

    let mut org_header = header("organizations");
    let mut member_header = header("members");
    if messy {
        org_header.push("chair_phone");
        member_header.extend(["full_name", "phone", "card_number", "email", "birth_date"]);
    }
    let mut orgs = Sink::create(dir, "organizations", &org_header, messy)?;
    let mut members = Sink::create(dir, "members", &member_header, messy)?;
    let mut reports = Sink::create(dir, "stat_reports", &header("stat_reports"), messy)?;
    let mut official = Sink::create(dir, "official_stats", &header("official_stats"), messy)?;
    let mut purchases = Sink::create(dir, "profcards_purchases", &header("profcards_purchases"), messy)?;

    let period = report_period(as_of);
    let baseline = NaiveDate::from_ymd_opt(as_of.year(), 1, 1).expect("1 January");
    let primary_per_region = (PRIMARY_ORGS * request.scale / regions.len() as f64).max(1.0);
    let territorial_per_region = (TERRITORIAL_ORGS * request.scale / regions.len() as f64).max(1.0);
    let mut next_member: u64 = 0;
    let mut next_purchase: u64 = 0;
    // About one row in 10,000 is broken on purpose, at least a few hundred at full size.
    let break_every: u64 = 10_000;

    for region in regions {
        let code = &region.region_code;
        let regional_id = format!("R{code}");
        let registered = form.date(date_between(&mut rng, 2012, 2014));
        let org = Org { id: &regional_id, parent: "", level: "regional", code, name: &region.name, registered, excluded: None, legal_entity: true, territorial_rights: false };
        org_row(&mut orgs, &form, &mut rng, org)?;
        stats.organizations += 1;
        let n_territorial = rng.around(territorial_per_region);
        let n_primary = rng.around(primary_per_region);
        let (mut region_members, mut region_primary) = (0u64, 0u64);
        let mut territorials = Vec::new();
        for t in 0..n_territorial {
            let id = format!("T{code}-{t}");
            let name = format!("Территориальная организация Профсоюза № {t} ({})", region.short_name);
            let registered = form.date(date_between(&mut rng, 2013, 2016));
            let legal_entity = rng.chance(0.7);
            let org = Org { id: &id, parent: &regional_id, level: "territorial", code, name: &name, registered, excluded: None, legal_entity, territorial_rights: false };
            org_row(&mut orgs, &form, &mut rng, org)?;
            stats.organizations += 1;
            territorials.push(id.clone());
            if rng.chance(0.75) {
                reports.write(&[id.as_str(), &form.form(2), &form.date(period), if rng.chance(0.1) { "auto" } else { "manual" }, &form.date(period)])?;
                stats.stat_reports += 1;
            }
        }
        for p in 0..n_primary {
            let id = format!("P{code}-{p}");
            let parent = if territorials.is_empty() || rng.chance(0.1) { regional_id.clone() } else { territorials[rng.below(territorials.len() as u64) as usize].clone() };
            let name = primary_name(&mut rng, p, messy);
            let registered = date_between(&mut rng, 2014, as_of.year());
            let registered = registered.min(as_of);
            let excluded = rng.chance(0.02).then(|| date_between(&mut rng, 2018, as_of.year()).max(registered));
            let (legal_entity, territorial_rights) = (rng.chance(0.02), rng.chance(0.014));
            let org = Org { id: &id, parent: &parent, level: "primary", code, name: &name, registered: form.date(registered), excluded, legal_entity, territorial_rights };
            org_row(&mut orgs, &form, &mut rng, org)?;
            stats.organizations += 1;
            region_primary += 1;
            if rng.chance(0.6) {
                let f = [5u8, 5, 5, 5, 5, 5, 5, 5, 3, 4][rng.below(10) as usize];
                reports.write(&[id.as_str(), &form.form(f), &form.date(period), "auto", &form.date(period)])?;
                stats.stat_reports += 1;
            }
            let subdivision = rng.chance(0.1).then(|| format!("S{code}-{p}"));
            if let Some(sub) = &subdivision {
                let org = Org { id: sub, parent: &id, level: "subdivision", code, name: "Профгруппа структурного подразделения", registered: form.date(registered), excluded: None, legal_entity: false, territorial_rights: false };
                org_row(&mut orgs, &form, &mut rng, org)?;
                stats.organizations += 1;
            }
            for _ in 0..rng.below(MEMBERS_PER_PRIMARY + 1) {
                next_member += 1;
                let member_id = format!("M{next_member:08}");
                let org = match &subdivision {
                    Some(sub) if rng.chance(0.3) => sub.as_str(),
                    _ => id.as_str(),
                };
                let broken = messy && next_member.is_multiple_of(break_every);
                let on_record = member_row(&mut members, &form, &mut rng, &member_id, org, as_of, broken)?;
                stats.members += 1;
                stats.broken += u64::from(broken);
                region_members += u64::from(on_record);
                if on_record && rng.chance(0.017) {
                    for _ in 0..=rng.below(3) {
                        next_purchase += 1;
                        let amount = 50_000 + rng.below(1_000_000);
                        let day = date_between(&mut rng, as_of.year() - 4, as_of.year()).min(as_of);
                        purchases.write(&[format!("B{next_purchase:08}"), member_id.clone(), form.date(day), form.money(amount), form.money(amount * 3 / 100)])?;
                        stats.purchases += 1;
                    }
                }
            }
        }
        // The official report counts somewhat more members than the registry holds.
        let official_members = region_members * (100 + rng.below(40)) / 100;
        let w = official_members * 675 / 1000;
        let s = official_members * 266 / 1000;
        let pn = official_members * 15 / 1000;
        official.write(&[
            code.clone(),
            form.date(baseline),
            official_members.to_string(),
            w.to_string(),
            s.to_string(),
            pn.to_string(),
            (region_primary + rng.below(5)).to_string(),
            n_territorial.to_string(),
            (region_primary / 100).to_string(),
            (region_primary / 100).to_string(),
            (n_territorial * 7 / 10).to_string(),
            (region_primary / 150).to_string(),
        ])?;
        if messy {
            // A broken organization row: a date that does not exist.
            let id = format!("X{code}");
            let org = Org { id: &id, parent: &regional_id, level: "primary", code, name: "ППО с ошибкой в дате", registered: "31.02.2020".into(), excluded: None, legal_entity: false, territorial_rights: false };
            org_row(&mut orgs, &form, &mut rng, org)?;
            stats.organizations += 1;
            stats.broken += 1;
        }
        debug!("generated region {code}: {region_primary} primary organizations, {} members so far", stats.members);
    }
    for sink in [orgs, members, reports, official, purchases] {
        sink.finish()?;
    }
    Ok(stats)
}

/// The latest quarter start on or before `d`.
fn report_period(d: NaiveDate) -> NaiveDate {
    let month = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), month, 1).expect("quarter start")
}

fn date_between(rng: &mut Rng, from_year: i32, to_year: i32) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(from_year, 1, 1).expect("date");
    let days = (to_year - from_year + 1).max(1) as u64 * 365;
    start.checked_add_days(Days::new(rng.below(days))).expect("date in range")
}

fn primary_name(rng: &mut Rng, n: u64, messy: bool) -> String {
    const KINDS: [&str; 5] = ["средней общеобразовательной школы", "детского сада", "гимназии", "колледжа", "университета"];
    let kind = KINDS[rng.below(KINDS.len() as u64) as usize];
    if messy && n % 97 == 3 {
        // The untrusted text the outputs must escape and neutralise.
        return format!("=ППО {kind} № {n} «Ромашка» <b>\"Солнышко\"</b>;\nкорпус 2");
    }
    format!("Первичная профсоюзная организация {kind} № {n}")
}

/// An organization row's own facts; the chair's details are drawn when written.
struct Org<'a> {
    id: &'a str,
    parent: &'a str,
    level: &'a str,
    code: &'a str,
    name: &'a str,
    /// Already in the output form (a broken row may hold a date that does not exist).
    registered: String,
    excluded: Option<NaiveDate>,
    legal_entity: bool,
    territorial_rights: bool,
}

fn org_row(sink: &mut Sink, form: &Form, rng: &mut Rng, org: Org<'_>) -> Result<(), GenerateError> {
    let Org { id, parent, level, code, name, registered, excluded, legal_entity, territorial_rights } = org;
    let (chair_filled, chair_access, chair_email) = (rng.chance(0.95), rng.chance(0.9), rng.chance(0.8));
    let inn = if rng.chance(0.998) { format!("{:010}", rng.below(10_000_000_000)) } else { String::new() };
    let term = (chair_filled && rng.chance(0.96)).then(|| date_between(rng, 2022, 2028));
    let mut row = vec![
        id.to_string(),
        parent.to_string(),
        level.to_string(),
        code.to_string(),
        name.to_string(),
        registered,
        form.opt_date(excluded),
        form.bool(legal_entity).to_string(),
        form.bool(territorial_rights).to_string(),
        inn,
        form.bool(chair_filled).to_string(),
        form.opt_date(term),
        form.bool(chair_access).to_string(),
        form.bool(chair_email).to_string(),
    ];
    if form.messy {
        row.push(format!("+7 9{:02} {:03}-{:02}-{:02}", rng.below(100), rng.below(1000), rng.below(100), rng.below(100)));
    }
    sink.write(&row)
}

/// Writes a member; returns whether the member is on record at `as_of`.
fn member_row(sink: &mut Sink, form: &Form, rng: &mut Rng, id: &str, org: &str, as_of: NaiveDate, broken: bool) -> Result<bool, GenerateError> {
    const CATEGORIES: [(&str, f64); 4] = [("working", 0.675), ("student", 0.266), ("pensioner", 0.015), ("", 0.044)];
    let category = rng.pick(&CATEGORIES);
    let registered = date_between(rng, 2016, as_of.year()).min(as_of);
    let left = rng.chance(0.1).then(|| date_between(rng, 2017, as_of.year() + 1).max(registered));
    let card = rng.pick(&[("issued", 0.683), ("ordered", 0.05), ("refused", 0.048), ("none", 0.219)]);
    let ordered_on = (card != "none").then(|| date_between(rng, 2019, as_of.year()).min(as_of));
    let profcards = rng.chance(0.101);
    let mut row = vec![
        id.to_string(),
        org.to_string(),
        category.to_string(),
        if broken { "2023-13-45".to_string() } else { form.date(registered) },
        form.opt_date(left),
        form.bool(rng.chance(0.012)).to_string(),
        card.to_string(),
        form.opt_date(ordered_on),
        form.bool(profcards).to_string(),
        form.bool(profcards && rng.chance(0.23)).to_string(),
        form.bool(rng.chance(0.95)).to_string(),
        form.bool(rng.chance(0.3)).to_string(),
    ];
    if form.messy {
        const NAMES: [&str; 4] = ["Иванова Мария Петровна", "Петров Сергей Иванович", "Сидорова Анна Викторовна", "Кузнецов Олег Павлович"];
        row.push(NAMES[rng.below(4) as usize].to_string());
        row.push(format!("+7 9{:02} {:03}-{:02}-{:02}", rng.below(100), rng.below(1000), rng.below(100), rng.below(100)));
        row.push(format!("2200{:012}", rng.below(1_000_000_000_000)));
        row.push(format!("user{}@example.ru", rng.below(1_000_000)));
        row.push(form.date(date_between(rng, 1955, 2004)));
    }
    sink.write(&row)?;
    Ok(!broken && left.is_none_or(|l| l > as_of) && registered <= as_of)
}
