//! Test fixtures made by code: small snapshots in every form the contract
//! allows, and helpers to read the warehouse back.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use encoding_rs::WINDOWS_1251;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use reestr::contract::values::parse_date;
use reestr::ingest::{IngestError, IngestRequest};
use reestr::nightly::{Job, JobError};
use reestr::warehouse::Manifest;

pub const AS_OF: &str = "2023-11-21";
/// The marts tests' snapshot date D and its comparison snapshot C.
pub const D: &str = "2023-11-21";
pub const C: &str = "2022-11-21";

/// How a CSV file is written.
#[derive(Debug, Clone, Copy)]
pub struct CsvForm {
    pub separator: u8,
    pub encoding: Enc,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Enc {
    Utf8,
    Utf8Bom,
    Cp1251,
}

pub const PLAIN: CsvForm = CsvForm { separator: b',', encoding: Enc::Utf8 };
pub const OFFICE: CsvForm = CsvForm { separator: b';', encoding: Enc::Cp1251 };

/// A table as header + rows of text.
#[derive(Debug, Clone)]
pub struct Rows {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Rows {
    pub fn new(header: &[&str], rows: &[&[&str]]) -> Rows {
        Rows {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect(),
        }
    }

    pub fn push(&mut self, row: &[&str]) {
        self.rows.push(row.iter().map(|s| s.to_string()).collect());
    }

    /// Sets one column of every row (by header name).
    pub fn set(&mut self, row: usize, column: &str, value: &str) {
        let i = self.header.iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
        self.rows[row][i] = value.to_string();
    }

    pub fn add_column(&mut self, name: &str, values: &[&str]) {
        self.header.push(name.to_string());
        for (row, v) in self.rows.iter_mut().zip(values.iter().cycle()) {
            row.push(v.to_string());
        }
    }

    pub fn to_csv(&self, form: CsvForm) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new().delimiter(form.separator).flexible(true).from_writer(Vec::new());
        w.write_record(&self.header).unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        encode(&text, form.encoding)
    }
}

pub fn encode(text: &str, enc: Enc) -> Vec<u8> {
    match enc {
        Enc::Utf8 => text.as_bytes().to_vec(),
        Enc::Utf8Bom => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        Enc::Cp1251 => {
            let (bytes, _, unmappable) = WINDOWS_1251.encode(text);
            assert!(!unmappable, "fixture text not representable in windows-1251");
            bytes.into_owned()
        }
    }
}

/// A small, valid snapshot: one region (23) with a territorial, two primary
/// organizations and a subdivision; members, reports, official stats, purchases.
/// The organizations columns of a snapshot, in the contract's order.
pub const ORG_HEADER: &[&str] = &[
    "org_id",
    "parent_id",
    "level",
    "region_code",
    "name",
    "registered_on",
    "excluded_on",
    "legal_entity",
    "territorial_rights",
    "inn",
    "chair_filled",
    "chair_term_until",
    "chair_access",
    "chair_email",
];
/// The members columns of a snapshot, in the contract's order.
pub const MEMBER_HEADER: &[&str] = &[
    "member_id",
    "org_id",
    "category",
    "registered_on",
    "left_on",
    "joined_online",
    "card_status",
    "card_ordered_on",
    "profcards",
    "profcards_app",
    "pd_consent",
    "personal_account",
];

pub fn valid_snapshot() -> BTreeMap<&'static str, Rows> {
    let mut t = BTreeMap::new();
    t.insert(
        "organizations",
        Rows::new(
            ORG_HEADER,
            &[
                &[
                    "R23",
                    "",
                    "regional",
                    "23",
                    "Краснодарская краевая организация Профсоюза",
                    "2010-01-01",
                    "",
                    "true",
                    "false",
                    "2310000000",
                    "true",
                    "2026-01-01",
                    "true",
                    "true",
                ],
                &[
                    "T1",
                    "R23",
                    "territorial",
                    "23",
                    "Территориальная организация г. Сочи",
                    "2011-02-01",
                    "",
                    "true",
                    "false",
                    "2310000001",
                    "true",
                    "",
                    "true",
                    "true",
                ],
                &[
                    "P1",
                    "T1",
                    "primary",
                    "23",
                    "ППО школы № 1 «Ромашка»",
                    "2012-03-01",
                    "",
                    "false",
                    "false",
                    "2310000002",
                    "true",
                    "2025-05-01",
                    "true",
                    "false",
                ],
                &[
                    "P2",
                    "T1",
                    "primary",
                    "23",
                    "ППО гимназии № 2",
                    "2012-03-02",
                    "2020-01-01",
                    "false",
                    "true",
                    "",
                    "false",
                    "",
                    "false",
                    "false",
                ],
                &[
                    "S1",
                    "P1",
                    "subdivision",
                    "23",
                    "Профгруппа начальных классов",
                    "2013-01-01",
                    "",
                    "false",
                    "false",
                    "",
                    "false",
                    "",
                    "false",
                    "false",
                ],
            ],
        ),
    );
    t.insert(
        "members",
        Rows::new(
            MEMBER_HEADER,
            &[
                &[
                    "M1",
                    "P1",
                    "working",
                    "2019-01-10",
                    "",
                    "false",
                    "issued",
                    "2019-02-01",
                    "true",
                    "true",
                    "true",
                    "true",
                ],
                &[
                    "M2",
                    "P1",
                    "student",
                    "2020-09-01",
                    "",
                    "true",
                    "ordered",
                    "2023-10-01",
                    "false",
                    "false",
                    "true",
                    "false",
                ],
                &["M3", "S1", "", "2021-05-05", "2023-01-01", "false", "none", "", "false", "false", "false", "false"],
                &["M4", "P2", "pensioner", "2018-01-01", "", "false", "refused", "", "true", "false", "true", "true"],
            ],
        ),
    );
    t.insert(
        "stat_reports",
        Rows::new(
            &["org_id", "form", "period", "mode", "submitted_on"],
            &[&["P1", "5-SP", "2023-10-01", "auto", "2023-10-05"], &["T1", "2-SP", "2023-10-01", "manual", ""]],
        ),
    );
    t.insert(
        "official_stats",
        Rows::new(
            &[
                "region_code",
                "as_of",
                "members",
                "working",
                "students",
                "pensioners",
                "primary_orgs",
                "territorial_orgs",
                "primary_created",
                "legal_entities_primary",
                "legal_entities_territorial",
                "primary_with_territorial_rights",
            ],
            &[&["23", "2023-01-01", "5", "3", "1", "1", "2", "1", "0", "0", "1", "1"]],
        ),
    );
    t.insert(
        "profcards_purchases",
        Rows::new(
            &["purchase_id", "member_id", "purchased_on", "amount", "cashback"],
            &[&["B1", "M1", "2023-03-15", "12789.50", "383.69"], &["B2", "M4", "2023-04-01", "100", "0"]],
        ),
    );
    t
}

/// Writes a snapshot folder `<root>/<date>/` with every table as CSV in `form`.
pub fn write_snapshot(root: &Path, date: &str, tables: &BTreeMap<&'static str, Rows>, form: CsvForm) -> PathBuf {
    let dir = root.join(date);
    fs::create_dir_all(&dir).unwrap();
    for (name, rows) in tables {
        fs::write(dir.join(format!("{name}.csv")), rows.to_csv(form)).unwrap();
    }
    dir
}

/// The warehouse at `path` opened, locked and recovered, as a command holds it.
pub async fn job(warehouse: &Path) -> Job {
    Job::begin(&warehouse.to_string_lossy(), reestr::clock::system(), reestr::stop::StopToken::new()).await.unwrap()
}

pub async fn run_ingest(snapshot: &Path, warehouse: &Path) -> Result<Manifest, IngestError> {
    let request = IngestRequest { snapshot: snapshot.to_string_lossy().into_owned(), as_of: None };
    match job(warehouse).await.ingest(&request).await {
        Ok(manifest) => Ok(manifest),
        Err(JobError::Ingest(e)) => Err(e),
        Err(e) => panic!("ingest failed outside ingest: {e}"),
    }
}

pub fn registry_file(warehouse: &Path, table: &str, date: &str) -> PathBuf {
    warehouse.join(format!("registry/{table}/as_of={date}/{table}.parquet"))
}

/// All rows of a warehouse table partition as one batch.
pub fn read_table(warehouse: &Path, table: &str, date: &str) -> RecordBatch {
    let file = fs::File::open(registry_file(warehouse, table, date)).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| {
        let file = fs::File::open(registry_file(warehouse, table, date)).unwrap();
        ParquetRecordBatchReaderBuilder::try_new(file).unwrap().schema().clone()
    });
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

/// A column of a batch as display strings (nulls as "∅").
pub fn column_text(batch: &RecordBatch, name: &str) -> Vec<String> {
    let column = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    let options = arrow::util::display::FormatOptions::default().with_null("∅");
    let formatter = arrow::util::display::ArrayFormatter::try_new(column.as_ref(), &options).unwrap();
    (0..batch.num_rows()).map(|i| formatter.value(i).to_string()).collect()
}

/// The rejects file of a table as records keyed by column name.
pub fn read_rejects(warehouse: &Path, table: &str, date: &str) -> Vec<HashMap<String, String>> {
    let path = warehouse.join(format!("rejects/as_of={date}/{table}.csv"));
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| header.iter().map(str::to_string).zip(r.unwrap().iter().map(str::to_string)).collect())
        .collect()
}

/// Every file under a folder, relative path → bytes; the warehouse's lock
/// file (who holds it, since when) is not content and is left out.
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if rel != reestr::warehouse::layout::LOCK_FILE {
                    out.insert(rel, fs::read(&path).unwrap());
                }
            }
        }
    }
    out
}

/// valid_snapshot() plus the edge cases of the marts contract:
/// - P3 excluded exactly on D (inactive), P4 registered exactly on D (active);
/// - P5 with auto 3-SP and auto 5-SP for P, P6 with a manual 5-SP for P and an
///   auto 4-SP for another period, P3 (excluded) with an auto 5-SP, P4 with a
///   Cyrillic auto 4-СП;
/// - M5 registered on D (on record), M6 left on D (off), M7 registered after D.
pub fn marts_snapshot() -> std::collections::BTreeMap<&'static str, Rows> {
    let mut t = valid_snapshot();
    let orgs = t.get_mut("organizations").unwrap();
    let p1 = orgs.rows[2].clone();
    for (id, registered, excluded) in [
        ("P3", "2015-01-01", "2023-11-21"),
        ("P4", "2023-11-21", ""),
        ("P5", "2015-01-01", ""),
        ("P6", "2015-01-01", ""),
    ] {
        let mut row = p1.clone();
        row[0] = id.into();
        row[5] = registered.into();
        row[6] = excluded.into();
        orgs.rows.push(row);
    }
    let members = t.get_mut("members").unwrap();
    members.push(&["M5", "P4", "working", "2023-11-21", "", "false", "none", "", "false", "false", "true", "false"]);
    members.push(&[
        "M6",
        "P1",
        "working",
        "2020-01-01",
        "2023-11-21",
        "false",
        "issued",
        "",
        "true",
        "false",
        "true",
        "false",
    ]);
    members.push(&["M7", "P1", "student", "2023-11-22", "", "true", "issued", "", "true", "true", "true", "false"]);
    let reports = t.get_mut("stat_reports").unwrap();
    reports.push(&["P5", "3-SP", "2023-10-01", "auto", ""]);
    reports.push(&["P5", "5-SP", "2023-10-01", "auto", ""]);
    reports.push(&["P6", "5-SP", "2023-10-01", "manual", ""]);
    reports.push(&["P6", "4-SP", "2023-07-01", "auto", ""]);
    reports.push(&["P3", "5-SP", "2023-10-01", "auto", ""]);
    reports.push(&["P4", "4-СП", "2023-10-01", "auto", ""]);
    t
}

/// Computes the marts of `d` and reads one back.
pub async fn compute_mart(wh: &std::path::Path, d: &str, mart: &str) -> RecordBatch {
    let as_of = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    job(wh).await.compute(as_of, Default::default()).await.unwrap();
    let path = wh.join(format!("marts/{mart}/as_of={d}/{mart}.parquet"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

pub fn int(b: &RecordBatch, name: &str, row: usize) -> Option<i64> {
    let a = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    let a =
        a.as_any().downcast_ref::<Int64Array>().unwrap_or_else(|| panic!("{name} is not Int64: {:?}", a.data_type()));
    a.is_valid(row).then(|| a.value(row))
}

pub fn pct(b: &RecordBatch, name: &str, row: usize) -> Option<f64> {
    let a = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    let a = a
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap_or_else(|| panic!("{name} is not Float64: {:?}", a.data_type()));
    a.is_valid(row).then(|| a.value(row))
}

pub fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// Ingests `marts_snapshot()` as the snapshots of C and D into `<dir>/wh`.
pub async fn ingest_c_and_d(dir: &Path) -> PathBuf {
    let wh = dir.join("wh");
    for date in [C, D] {
        let snap = write_snapshot(dir, date, &marts_snapshot(), PLAIN);
        run_ingest(&snap, &wh).await.unwrap();
    }
    wh
}

/// A mart of `d` as one batch, read back from the warehouse.
pub fn read_mart(wh: &Path, mart: &str, d: &str) -> RecordBatch {
    let path = wh.join(format!("marts/{mart}/as_of={d}/{mart}.parquet"));
    let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

/// `marts_snapshot()`, changed by `edit`, ingested and computed for each of
/// `dates` in order, then published (site, exports, briefing of the newest).
pub async fn published(dir: &Path, dates: &[&str], edit: impl Fn(&mut BTreeMap<&'static str, Rows>)) -> PathBuf {
    let mut tables = marts_snapshot();
    edit(&mut tables);
    let snapshots: Vec<(&str, BTreeMap<&'static str, Rows>)> = dates.iter().map(|d| (*d, tables.clone())).collect();
    published_snapshots(dir, &snapshots).await
}

/// Each snapshot ingested and computed in order, then published (site,
/// exports, briefing of the newest): the warehouse.
pub async fn published_snapshots(dir: &Path, snapshots: &[(&str, BTreeMap<&'static str, Rows>)]) -> PathBuf {
    let wh = dir.join("wh");
    for (date, tables) in snapshots {
        let snap = write_snapshot(dir, date, tables, PLAIN);
        run_ingest(&snap, &wh).await.unwrap();
        compute_mart(&wh, date, "national").await;
    }
    job(&wh).await.publish(None).await.unwrap();
    wh
}

/// The member_flows row of a comparison ("year" or "quarter") and scope:
/// `("national", None)`, `("district", Some("SFD"))`, `("region", Some("23"))`.
pub fn flow_row(b: &RecordBatch, period: &str, scope: &str, code: Option<&str>) -> usize {
    let periods = column_text(b, "compared_period");
    let scopes = column_text(b, "scope");
    let districts = column_text(b, "federal_district");
    let regions = column_text(b, "region_code");
    (0..b.num_rows())
        .find(|&i| {
            periods[i] == period
                && scopes[i] == scope
                && match scope {
                    "national" => true,
                    "district" => Some(districts[i].as_str()) == code && regions[i] == "∅",
                    _ => Some(regions[i].as_str()) == code,
                }
        })
        .unwrap_or_else(|| panic!("no row {period} {scope} {code:?}"))
}

/// The snapshot of the quarter before D's in `flow_snapshots()`.
pub const Q: &str = "2023-09-30";

/// C is the marts' snapshot; D differs from it by one member of each flow.
/// On record at C (2022-11-21), region 23: M1, M2, M3, M4, M6, M9 (M5
/// registers on D, M7 after it). At D:
/// - M5 registered on D: joined;
/// - M8 added at D, registered 2022-06-01 (before C), absent at C: registered late;
/// - M3 (left 2023-01-01) and M6 (left on D): left the record;
/// - M2 (of P7, an organization D's export lacks too) missing from D's
///   export: gone from the export;
/// - M4 moves from P2 (region 23) to P61 (region 61, the same district SFD);
/// - M1 moves from P1 to P5 (both region 23) and from working to student;
/// - M9 (P6, pensioner, registered 2015) is at D registered 2023-03-01,
///   after C though on record at C: a recycled id, staying where it is.
///
/// Region 23: 6 + 1 + 1 − 2 − 1 + 0 − 1 = 4 (M1, M5, M8, M9); region 61:
/// 0 + 1 (M4 moved in) = 1; SFD and the union: 6 + 1 + 1 − 2 − 1 = 5, the
/// move to Rostov being inside them (moved within: M1 and M4).
///
/// The quarter before D's is represented by Q (2023-09-30), whose snapshot
/// is D's but for: M1 at P5 still working, M4 still at P2, M2 present, M5
/// and M8 absent. On record at Q: M1, M2, M4, M6 (leaves on D), M9
/// (registered 2023-03-01); M3 left 2023-01-01. From Q to D, region 23:
/// 5 + 1 (M5) + 1 (M8, registered before Q) − 1 (M6) − 1 (M2) − 1 (M4 out)
/// = 4, M1's category changing; M9 is no recycled id against Q.
pub fn flow_snapshots() -> Vec<(&'static str, BTreeMap<&'static str, Rows>)> {
    let mut c = marts_snapshot();
    add_region(&mut c, "61", "Ростовская областная организация Профсоюза");
    {
        let members = c.get_mut("members").unwrap();
        let m4 = members.rows.iter().position(|r| r[0] == "M4").unwrap();
        let mut m9 = members.rows[m4].clone();
        m9[0] = "M9".into();
        m9[1] = "P6".into();
        m9[3] = "2015-01-01".into();
        members.rows.push(m9);
        // M2 is in P7, an organization D's export lacks altogether.
        let m2 = members.rows.iter().position(|r| r[0] == "M2").unwrap();
        members.set(m2, "org_id", "P7");
        let orgs = c.get_mut("organizations").unwrap();
        let p5 = orgs.rows.iter().position(|r| r[0] == "P5").unwrap();
        let mut p7 = orgs.rows[p5].clone();
        p7[0] = "P7".into();
        p7[4] = "ППО школы № 7".into();
        orgs.rows.push(p7);
    }
    let at = |members: &Rows, id: &str| members.rows.iter().position(|r| r[0] == id).unwrap();
    let mut q = c.clone();
    {
        let members = q.get_mut("members").unwrap();
        let m1 = at(members, "M1");
        members.set(m1, "org_id", "P5");
        let m9 = at(members, "M9");
        members.set(m9, "registered_on", "2023-03-01");
        let m5 = at(members, "M5");
        members.rows.remove(m5);
    }
    let mut d = c.clone();
    {
        let members = d.get_mut("members").unwrap();
        let m1 = at(members, "M1");
        members.set(m1, "org_id", "P5");
        members.set(m1, "category", "student");
        let m4 = at(members, "M4");
        members.set(m4, "org_id", "P61");
        let m9 = at(members, "M9");
        members.set(m9, "registered_on", "2023-03-01");
        let mut late = members.rows[m1].clone();
        late[0] = "M8".into();
        late[1] = "P1".into();
        late[3] = "2022-06-01".into();
        members.rows.push(late);
        let m2 = at(members, "M2");
        members.rows.remove(m2);
        let orgs = d.get_mut("organizations").unwrap();
        orgs.rows.retain(|r| r[0] != "P7");
    }
    vec![(C, c), (Q, q), (D, d)]
}

/// Renames organization `org_id` of a snapshot.
pub fn rename_org(tables: &mut BTreeMap<&'static str, Rows>, org_id: &str, name: &str) {
    let orgs = tables.get_mut("organizations").unwrap();
    let row = orgs.rows.iter().position(|r| r[0] == org_id).unwrap();
    orgs.set(row, "name", name);
}

/// Adds a regional organization `R<code>` of region `code` named `name`
/// and a primary organization `P<code>` under it, both copied from the
/// snapshot's first regional and primary organizations.
pub fn add_region(tables: &mut BTreeMap<&'static str, Rows>, code: &str, name: &str) {
    let orgs = tables.get_mut("organizations").unwrap();
    let mut regional = orgs.rows[0].clone();
    regional[0] = format!("R{code}");
    regional[3] = code.into();
    regional[4] = name.into();
    let mut primary = orgs.rows[2].clone();
    primary[0] = format!("P{code}");
    primary[1] = format!("R{code}");
    primary[3] = code.into();
    orgs.rows.push(regional);
    orgs.rows.push(primary);
}

/// The entities the escapers write (minijinja, the XLSX and DOCX writers), decoded.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// The text a reader sees: tags dropped, entities of the escaper decoded,
/// blank runs collapsed.
pub fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A table as a typed Parquet export: dates as Date32, flags as Boolean, the
/// rest as text; `ids` replaces member_id with binary values.
pub fn typed_parquet(rows: &Rows, ids: Option<Vec<&[u8]>>) -> Vec<u8> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, name) in rows.header.iter().enumerate() {
        let values: Vec<&str> = rows.rows.iter().map(|r| r[i].as_str()).collect();
        let (dt, array): (DataType, ArrayRef) = if name == "member_id"
            && let Some(ids) = &ids
        {
            (DataType::Binary, Arc::new(BinaryArray::from(ids.clone())))
        } else if name.ends_with("_on") {
            let dates = values.iter().map(|v| (!v.is_empty()).then(|| parse_date(v).unwrap()));
            (DataType::Date32, Arc::new(Date32Array::from(dates.collect::<Vec<_>>())))
        } else if values.iter().all(|v| *v == "true" || *v == "false") {
            (DataType::Boolean, Arc::new(BooleanArray::from(values.iter().map(|v| *v == "true").collect::<Vec<_>>())))
        } else {
            let text: Vec<Option<&str>> = values.iter().map(|v| (!v.is_empty()).then_some(*v)).collect();
            (DataType::Utf8, Arc::new(StringArray::from(text)))
        };
        fields.push(Field::new(name, dt, true));
        arrays.push(array);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

/// The binary with none of the environment's `REESTR_*` settings: each test
/// sets its own.
pub fn reestr() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reestr"));
    for (key, _) in std::env::vars() {
        if key.starts_with("REESTR_") {
            command.env_remove(key);
        }
    }
    command
}

/// The full-scale demo's warehouse (`reestr demo --scale 1`: six snapshots,
/// the newest published), made once for every test of the binary that needs
/// the union's size. It lives in cargo's scratch folder for integration
/// tests, replaced by the next run: a `TempDir` in a static is never
/// dropped, and every run would leave a full-size demo behind in the
/// system's temp folder.
pub async fn full_demo() -> &'static Path {
    use clap::Parser;
    static DEMO: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    DEMO.get_or_init(|| async {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("full-demo");
        let _ = std::fs::remove_dir_all(&out);
        let cli =
            reestr::cli::Cli::parse_from(["reestr", "-q", "demo", "--scale", "1", "--out", out.to_str().unwrap()]);
        reestr::commands::run(cli).await.unwrap();
        out.join("warehouse")
    })
    .await
}

/// A test that recomputes the full demo's marts of D takes this for writing;
/// the others read under it.
pub static FULL_DEMO_MARTS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Values of `href="…"` and `src="…"` attributes.
pub fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            // Attribute values are escaped like text (`/` as `&#x2f;`).
            out.push(rest[..end].replace("&#x2f;", "/").replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    out
}
