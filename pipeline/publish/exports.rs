//! The KPI exports of one date, `<wh>/exports/<D>/`:
//!
//! ```text
//! kpi-<D>.xlsx           one sheet per mart a person reads, Russian headers, number formats
//! excel/<mart>.csv       for double-clicking: UTF-8 with BOM, `;`, decimal comma, Russian headers
//! csv|parquet|json/<mart>.*   for other systems: the marts as computed, contract column names
//! worklists/<region>.xlsx|.csv   each region's organizations to fix
//! ```
//!
//! The workbook ends with «Мониторинг»: the regions by quarter for the
//! monitored checks (quarterly_quality), and «Движение членов»: where each
//! scope's change in members came from (member_flows, both comparisons).
//! Each worklist's summary says how its counts moved since the previous
//! quarter.
//!
//! People's files (XLSX and the Excel CSVs) neutralise text that a
//! spreadsheet would take for a formula; machine files keep values exact.

use std::collections::{BTreeMap, HashMap};

use rust_xlsxwriter::{Color, ExcelDateTime, Format as XlsxFormat, FormatAlign, Workbook, Worksheet, XlsxError};

use super::marts::{Marts, MemberFlow, QuarterCheck, QuarterKpis, RawMart, WorklistRow};
use super::russian::Russian;
use super::tables::{Cell, ColumnTitle, Format, Table, column_title, level_in_words, neutralise};
use super::{Output, PublishError};
use crate::contract::{QualityCheck, RegionReference};
use crate::warehouse::{Manifest, layout};

/// The marts a person reads in the workbook, with the sheet names.
const WORKBOOK: &[(&str, &str)] = &[
    ("national", "Профсоюз"),
    ("regions", "Регионы"),
    ("federal_districts", "Федеральные округа"),
    ("data_quality", "Качество данных"),
    ("profcards_monthly", "ПРОФКАРДС по месяцам"),
    ("profcards_yearly", "ПРОФКАРДС по годам"),
    ("profcards_summary", "ПРОФКАРДС итоги"),
    ("coverage_bands", "Группы по охвату"),
    ("regions_summary", "Итоги по регионам"),
    ("worklist_regions", "Замечания по регионам"),
];

/// The marts the workbook has no sheet of, as people call them.
const OTHER_MARTS: &[(&str, &str)] = &[
    ("national_changes", "Изменения за год"),
    ("history_kpis", "Показатели на дату снимка"),
    ("quarterly_kpis", "Показатели по кварталам"),
    ("quarterly_quality", "Качество данных по кварталам"),
    ("monitoring_regions", "Мониторинг по регионам"),
    ("member_flows", "Движение членов"),
    ("member_category_flows", "Смена категорий учёта членов"),
    ("member_flow_groups", "Движение членов по группам регионов"),
    ("worklist", "Рабочий список"),
];

/// A mart's name in Russian: its workbook sheet's, or how people call it.
pub fn mart_title(mart: &str) -> Option<&'static str> {
    WORKBOOK.iter().chain(OTHER_MARTS).find(|(m, _)| *m == mart).map(|(_, title)| *title)
}

/// Writes every export of the marts into `out` (a fresh folder).
pub fn write_exports(
    out: &mut Output,
    as_of: chrono::NaiveDate,
    marts: &[RawMart],
    typed: &Marts,
) -> Result<(), PublishError> {
    let (worklist, manifest) = (&typed.worklist, typed.manifest.as_ref());
    let xlsx = |e: XlsxError| PublishError::Export { what: "XLSX".into(), detail: e.to_string() };

    // Machine files: the marts exactly as computed.
    for mart in marts {
        out.put(format!("parquet/{}.parquet", mart.name), &mart.parquet)?;
        out.put(format!("csv/{}.csv", mart.name), &mart.csv)?;
        out.put(format!("json/{}.json", mart.name), &json(mart)?)?;
    }
    // People's files.
    let tables: BTreeMap<&str, Table> =
        marts.iter().map(|m| (m.name, Table::from_batches(m.name, &m.schema, &m.batches))).collect();
    for (name, table) in &tables {
        out.put(format!("excel/{name}.csv"), people_csv(table))?;
    }
    let mut book = Workbook::new();
    for (mart, sheet_name) in WORKBOOK {
        let Some(table) = tables.get(mart) else { continue };
        let sheet = book.add_worksheet();
        sheet.set_name(*sheet_name).map_err(xlsx)?;
        // One-row marts read better as «Показатель — Значение».
        if matches!(*mart, "national" | "regions_summary") {
            write_transposed(sheet, table).map_err(xlsx)?;
        } else {
            write_sheet(sheet, table).map_err(xlsx)?;
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("Мониторинг").map_err(xlsx)?;
    write_monitoring(sheet, &typed.quarterly_kpis, &typed.quarterly_quality).map_err(xlsx)?;
    let sheet = book.add_worksheet();
    sheet.set_name(FLOWS_SHEET).map_err(xlsx)?;
    write_flows(sheet, as_of, &typed.member_flows).map_err(xlsx)?;
    if let Some(m) = manifest {
        let sheet = book.add_worksheet();
        sheet.set_name("Источник").map_err(xlsx)?;
        write_provenance(sheet, as_of, m).map_err(xlsx)?;
    }
    out.put(format!("kpi-{as_of}.xlsx"), &book.save_to_buffer().map_err(xlsx)?)?;

    // Worklists: one file per region with anything to fix.
    let mut by_region: BTreeMap<&str, Vec<&WorklistRow>> = BTreeMap::new();
    for row in worklist {
        by_region.entry(&row.region_code).or_default().push(row);
    }
    for (region, rows) in by_region {
        let movement: Vec<&QuarterCheck> = typed
            .quarterly_quality
            .iter()
            .filter(|q| q.scope == "region" && q.region_code.as_deref() == Some(region) && q.snapshot_as_of == as_of)
            .collect();
        out.put(layout::worklist_in_exports(region), &worklist_xlsx(region, &rows, &movement).map_err(xlsx)?)?;
        out.put(format!("worklists/{region}.csv"), worklist_csv(&rows))?;
    }
    Ok(())
}

fn json(mart: &RawMart) -> Result<Vec<u8>, PublishError> {
    let err = |e: arrow::error::ArrowError| PublishError::Export {
        what: format!("{}.json", mart.name),
        detail: e.to_string(),
    };
    let mut writer = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::JsonArray>(Vec::new());
    for batch in &mart.batches {
        writer.write(batch).map_err(err)?;
    }
    writer.finish().map_err(err)?;
    let mut bytes = writer.into_inner();
    if bytes.is_empty() {
        bytes.extend_from_slice(b"[]");
    }
    Ok(bytes)
}

/// UTF-8 with BOM, `;`, decimal comma, dates `DD.MM.YYYY`: what Russian Excel
/// opens by double-click with numbers as numbers.
fn people_csv(table: &Table) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut w = csv::WriterBuilder::new().delimiter(b';').terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let _ = w.write_record(table.columns.iter().map(|c| c.title.as_str()));
    for row in &table.rows {
        let fields: Vec<String> = row.iter().zip(&table.columns).map(|(cell, column)| csv_text(cell, column)).collect();
        let _ = w.write_record(&fields);
    }
    out.extend(w.into_inner().unwrap_or_default());
    out
}

fn csv_text(cell: &Cell, column: &ColumnTitle) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(t) => neutralise(t).into_owned(),
        Cell::Int(n) => n.to_string(),
        Cell::Float(x) => {
            let decimals = match column.format {
                Format::Money => 2,
                Format::Pct => 2,
                _ => 4,
            };
            format!("{x:.decimals$}").replace('.', ",")
        }
        Cell::Date(d) => d.format("%d.%m.%Y").to_string(),
        Cell::Bool(b) => if *b { "да" } else { "нет" }.to_string(),
    }
}

struct Formats {
    header: XlsxFormat,
    int: XlsxFormat,
    pct: XlsxFormat,
    money: XlsxFormat,
    date: XlsxFormat,
    year: XlsxFormat,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: XlsxFormat::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_background_color(Color::RGB(0xF3F5F8)),
            int: XlsxFormat::new().set_num_format("#,##0"),
            pct: XlsxFormat::new().set_num_format("0.0\" %\""),
            money: XlsxFormat::new().set_num_format("#,##0.00"),
            date: XlsxFormat::new().set_num_format("dd.mm.yyyy"),
            year: XlsxFormat::new().set_num_format("0"),
        }
    }

    fn of(&self, format: Format) -> Option<&XlsxFormat> {
        match format {
            Format::Int => Some(&self.int),
            Format::Pct => Some(&self.pct),
            Format::Money => Some(&self.money),
            Format::Date => Some(&self.date),
            Format::Year => Some(&self.year),
            Format::Bool | Format::Text => None,
        }
    }
}

/// Excel's limit of characters in a cell.
const XLSX_CELL_CHARS: usize = 32_767;

/// Text for a string cell: neutralised, and cut with a mark (…) to what a
/// cell holds (ingest keeps text far shorter; a longer one must not fail the
/// whole workbook).
fn xlsx_text(text: &str) -> std::borrow::Cow<'_, str> {
    let text = neutralise(text);
    // Excel counts UTF-16 units; a character is at most two of them.
    if text.len() <= XLSX_CELL_CHARS || text.encode_utf16().count() <= XLSX_CELL_CHARS {
        return text;
    }
    let mut cut = String::with_capacity(XLSX_CELL_CHARS * 2);
    let mut units = 0;
    for c in text.chars() {
        units += c.len_utf16();
        if units > XLSX_CELL_CHARS - 1 {
            break;
        }
        cut.push(c);
    }
    cut.push('…');
    std::borrow::Cow::Owned(cut)
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    format: Format,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match (cell, formats.of(format)) {
        (Cell::Empty, _) => {}
        // Text is always a string cell (never a formula), and neutralised as
        // in every people's file.
        (Cell::Text(t), _) => {
            sheet.write_string(row, col, xlsx_text(t))?;
        }
        (Cell::Int(n), Some(f)) => {
            sheet.write_number_with_format(row, col, *n as f64, f)?;
        }
        (Cell::Int(n), None) => {
            sheet.write_number(row, col, *n as f64)?;
        }
        (Cell::Float(x), Some(f)) => {
            sheet.write_number_with_format(row, col, *x, f)?;
        }
        (Cell::Float(x), None) => {
            sheet.write_number(row, col, *x)?;
        }
        (Cell::Date(d), _) => {
            use chrono::Datelike;
            // Ingest keeps dates within 1900–2100; a date Excel cannot hold
            // (before 1900) is still shown, as text.
            match u16::try_from(d.year()).map(|y| ExcelDateTime::from_ymd(y, d.month() as u8, d.day() as u8)) {
                Ok(Ok(date)) => sheet.write_datetime_with_format(row, col, &date, &formats.date)?,
                _ => sheet.write_string(row, col, d.format("%d.%m.%Y").to_string())?,
            };
        }
        (Cell::Bool(b), _) => {
            sheet.write_string(row, col, if *b { "да" } else { "нет" })?;
        }
    }
    Ok(())
}

/// A table as a sheet: bold wrapped header, frozen, filtered, fitted widths.
fn write_sheet(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxError> {
    let formats = Formats::new();
    for (c, column) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, &column.title, &formats.header)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        for (c, (cell, column)) in row.iter().zip(&table.columns).enumerate() {
            write_cell(sheet, r as u32 + 1, c as u16, cell, column.format, &formats)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if !table.columns.is_empty() {
        sheet.autofilter(0, 0, table.rows.len() as u32, table.columns.len() as u16 - 1)?;
    }
    sheet.autofit();
    // Headers wrap; a column need not be wider than its widest value or 40.
    for (c, column) in table.columns.iter().enumerate() {
        let widest = table.rows.iter().map(|r| display_width(&r[c])).max().unwrap_or(0).max(10);
        let title = column.title.chars().count().div_ceil(2).max(8);
        sheet.set_column_width(c as u16, (widest.max(title) + 2).min(40) as f64)?;
    }
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_repeat_rows(0, 0)?;
    sheet.set_print_fit_to_pages(1, 0);
    Ok(())
}

fn display_width(cell: &Cell) -> usize {
    match cell {
        Cell::Empty => 0,
        Cell::Text(t) => t.chars().count(),
        Cell::Int(n) => n.to_string().len() + n.to_string().len() / 3,
        Cell::Float(_) => 10,
        Cell::Date(_) => 10,
        Cell::Bool(_) => 3,
    }
}

/// A one-row mart (national, regions_summary) as «Показатель — Значение».
fn write_transposed(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxError> {
    let formats = Formats::new();
    sheet.write_string_with_format(0, 0, "Показатель", &formats.header)?;
    sheet.write_string_with_format(0, 1, "Значение", &formats.header)?;
    if let Some(row) = table.rows.first() {
        for (i, (cell, column)) in row.iter().zip(&table.columns).enumerate() {
            let r = i as u32 + 1;
            sheet.write_string(r, 0, &column.title)?;
            write_cell(sheet, r, 1, cell, column.format, &formats)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_column_width(0, 48)?;
    sheet.set_column_width(1, 16)?;
    sheet.set_paper_size(9);
    Ok(())
}

fn write_provenance(sheet: &mut Worksheet, as_of: chrono::NaiveDate, manifest: &Manifest) -> Result<(), XlsxError> {
    let formats = Formats::new();
    let rows: Vec<(&str, String)> = vec![
        ("Дата снимка реестра", as_of.format("%d.%m.%Y").to_string()),
        ("Версия reestr", manifest.engine_version.clone()),
        ("SHA-256 файлов снимка", manifest.snapshot_checksum()),
    ];
    for (i, (label, value)) in rows.iter().enumerate() {
        sheet.write_string_with_format(i as u32, 0, *label, &formats.header)?;
        sheet.write_string(i as u32, 1, value)?;
    }
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 70)?;
    Ok(())
}

/// «Мониторинг»: the union, the districts and the regions (rows) by quarter
/// (columns) for coverage and each monitored check, as numbers.
fn write_monitoring(sheet: &mut Worksheet, kpis: &[QuarterKpis], quality: &[QuarterCheck]) -> Result<(), XlsxError> {
    let formats = Formats::new();
    let ru = Russian::new();
    let mut quarters: Vec<(chrono::NaiveDate, String)> = kpis
        .iter()
        .filter(|k| k.scope == "national")
        .map(|k| {
            let running =
                if k.complete { String::new() } else { format!(" (на {})", k.snapshot_as_of.format("%d.%m.%Y")) };
            (k.quarter_end, format!("{}{running}", ru.quarter(k.quarter, k.quarter_year)))
        })
        .collect();
    quarters.dedup();
    let coverage: HashMap<(String, chrono::NaiveDate), f64> = kpis
        .iter()
        .filter_map(|k| {
            let v = k.coverage_pct?;
            Some(((scope_key(&k.scope, k.federal_district.as_deref(), k.region_code.as_deref()), k.quarter_end), v))
        })
        .collect();
    // Rows: the union, the districts in their order, the regions by code.
    let scopes = scopes_present(
        &kpis.iter().map(|k| scope_key(&k.scope, k.federal_district.as_deref(), k.region_code.as_deref())).collect(),
    );
    let checks: HashMap<(&str, String, chrono::NaiveDate), f64> = quality
        .iter()
        .filter_map(|k| {
            let v = k.affected_pct?;
            Some((
                (
                    k.check.as_str(),
                    scope_key(&k.scope, k.federal_district.as_deref(), k.region_code.as_deref()),
                    k.quarter_end,
                ),
                v,
            ))
        })
        .collect();
    let monitored: Vec<&QualityCheck> = QualityCheck::all().iter().filter(|c| c.monitored).collect();
    let mut blocks: Vec<(String, Option<&str>)> = vec![("Охват реестром, %".into(), None)];
    blocks.extend(monitored.iter().map(|c| (format!("{}, %", c.title), Some(c.check.as_str()))));
    let value = |check: Option<&str>, row_key: &str, q: chrono::NaiveDate| match check {
        None => coverage.get(&(row_key.to_string(), q)).copied(),
        Some(check) => checks.get(&(check, row_key.to_string(), q)).copied(),
    };
    sheet.write_string_with_format(0, 0, "Организация", &formats.header)?;
    sheet.write_string_with_format(1, 0, "", &formats.header)?;
    let width = quarters.len().max(1) as u16;
    for (b, (title, _)) in blocks.iter().enumerate() {
        let first = 1 + b as u16 * width;
        if width > 1 {
            sheet.merge_range(0, first, 0, first + width - 1, title, &formats.header)?;
        } else {
            sheet.write_string_with_format(0, first, title, &formats.header)?;
        }
        for (i, (_, label)) in quarters.iter().enumerate() {
            sheet.write_string_with_format(1, first + i as u16, label, &formats.header)?;
        }
    }
    for (r, scope) in scopes.iter().enumerate() {
        let row = r as u32 + 2;
        sheet.write_string(row, 0, xlsx_text(&scope.0))?;
        for (b, (_, check)) in blocks.iter().enumerate() {
            for (i, (quarter, _)) in quarters.iter().enumerate() {
                if let Some(v) = value(*check, &scope.1, *quarter) {
                    sheet.write_number_with_format(row, 1 + (b * quarters.len() + i) as u16, v, &formats.pct)?;
                }
            }
        }
    }
    wide_sheet(sheet, blocks.len() as u16 * width, 12, (0, 45))
}

/// The layout of a sheet of scopes by blocks of columns (Мониторинг,
/// Движение членов): names in a wide first column, `columns` figures of
/// `width`, the two header rows (one of them `tall`: row and height) frozen
/// and repeated, landscape A4, one page wide.
fn wide_sheet(sheet: &mut Worksheet, columns: u16, width: u16, tall: (u32, u16)) -> Result<(), XlsxError> {
    sheet.set_column_width(0, 48)?;
    for c in 1..=columns {
        sheet.set_column_width(c, width)?;
    }
    sheet.set_row_height(tall.0, tall.1)?;
    sheet.set_freeze_panes(2, 1)?;
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_repeat_rows(0, 1)?;
    sheet.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// The sheet of member_flows.
pub const FLOWS_SHEET: &str = "Движение членов";

/// member_flows' columns on «Движение членов», for each comparison, in the
/// identity's order and then the moves that leave the count as it is.
const FLOW_COLUMNS: [&str; 11] = [
    "members_prev",
    "joined",
    "registered_late",
    "left_record",
    "gone_from_export",
    "moved_in",
    "moved_out",
    "members",
    "net_change",
    "moved_within",
    "category_changed",
];

/// A column of FLOW_COLUMNS of a member_flows row.
fn flow_value(f: &MemberFlow, column: &str) -> Option<i64> {
    match column {
        "members_prev" => f.members_prev,
        "joined" => f.joined,
        "registered_late" => f.registered_late,
        "left_record" => f.left_record,
        "gone_from_export" => f.gone_from_export,
        "moved_in" => f.moved_in,
        "moved_out" => f.moved_out,
        "members" => Some(f.members),
        "net_change" => f.net_change,
        "moved_within" => f.moved_within,
        "category_changed" => f.category_changed,
        _ => None,
    }
}

/// A row's key for the scope lists of the people's sheets: its scope and
/// code, as the marts' rows give them.
fn scope_key(scope: &str, district: Option<&str>, region: Option<&str>) -> String {
    match scope {
        "national" => "national".into(),
        "district" => format!("district:{}", district.unwrap_or("")),
        _ => format!("region:{}", region.unwrap_or("")),
    }
}

/// The union, the districts in their order and the regions by code, as
/// (name, key), of those `present` holds (a bundle's marts have its own).
fn scopes_present(present: &std::collections::HashSet<String>) -> Vec<(String, String)> {
    let reference = RegionReference::embedded();
    let mut districts: Vec<_> = reference.districts.iter().collect();
    districts.sort_by_key(|d| d.sort_order);
    let mut scopes: Vec<(String, String)> = vec![("Профсоюз".into(), "national".into())];
    scopes.extend(districts.iter().map(|d| (d.name.clone(), format!("district:{}", d.district_code))));
    scopes.extend(reference.regions.iter().map(|r| (r.name.clone(), format!("region:{}", r.region_code))));
    scopes.retain(|(_, k)| present.contains(k));
    scopes
}

/// «Движение членов»: the union, the districts and the regions (rows), and
/// for each comparison (year, quarter) a block of member_flows' columns,
/// titled from the mart's schema, as numbers. A comparison without its
/// earlier snapshot says so in its block's title; its flows stay empty.
fn write_flows(sheet: &mut Worksheet, as_of: chrono::NaiveDate, flows: &[MemberFlow]) -> Result<(), XlsxError> {
    let formats = Formats::new();
    let key = |f: &MemberFlow| scope_key(&f.scope, f.federal_district.as_deref(), f.region_code.as_deref());
    let rows: HashMap<(String, &str), &MemberFlow> =
        flows.iter().map(|f| ((key(f), f.compared_period.as_str()), f)).collect();
    let scopes = scopes_present(&flows.iter().map(key).collect());
    let periods: Vec<(&str, &str)> = [("year", "За год"), ("quarter", "За квартал")]
        .into_iter()
        .filter(|(p, _)| flows.iter().any(|f| f.compared_period == *p))
        .collect();
    let titles: Vec<String> = FLOW_COLUMNS
        .iter()
        .map(|c| column_title("member_flows", c).map_or_else(|| c.to_string(), |t| t.title))
        .collect();
    let width = FLOW_COLUMNS.len() as u16;
    sheet.write_string_with_format(0, 0, "Организация", &formats.header)?;
    sheet.write_string_with_format(1, 0, "", &formats.header)?;
    for (b, (period, words)) in periods.iter().enumerate() {
        let first = 1 + b as u16 * width;
        // Every row of a comparison has the same earlier snapshot.
        let since = flows.iter().find(|f| f.compared_period == *period).and_then(|f| f.compared_to);
        let title = match since {
            Some(d) => format!("{words}: с {} по {}", d.format("%d.%m.%Y"), as_of.format("%d.%m.%Y")),
            None => format!("{words}: снимка для сравнения нет"),
        };
        sheet.merge_range(0, first, 0, first + width - 1, &title, &formats.header)?;
        for (i, t) in titles.iter().enumerate() {
            sheet.write_string_with_format(1, first + i as u16, t, &formats.header)?;
        }
    }
    for (r, (name, scope)) in scopes.iter().enumerate() {
        let row = r as u32 + 2;
        sheet.write_string(row, 0, xlsx_text(name))?;
        for (b, (period, _)) in periods.iter().enumerate() {
            let Some(f) = rows.get(&(scope.clone(), *period)) else { continue };
            for (i, column) in FLOW_COLUMNS.iter().enumerate() {
                if let Some(v) = flow_value(f, column) {
                    sheet.write_number_with_format(row, 1 + b as u16 * width + i as u16, v as f64, &formats.int)?;
                }
            }
        }
    }
    wide_sheet(sheet, periods.len() as u16 * width, 13, (1, 60))
}

/// Member checks the worklist lists organizations for (the organization
/// checks all are): worklist.sql's source, org_check_failures, has them.
const MEMBER_CHECKS_LISTED: [&str; 3] = ["members_in_inactive_org", "members_gone_from_export", "member_ids_recycled"];

/// The worklist columns people see, in order.
const WORKLIST_HEADER: [&str; 7] = [
    "Код организации",
    "Наименование",
    "Уровень",
    "Код вышестоящей",
    "Вышестоящая организация",
    "Членов в реестре",
    "Что сделать",
];

fn worklist_cells(row: &WorklistRow, action: &str) -> [Cell; 7] {
    let text = |s: Option<&str>| s.map_or(Cell::Empty, |s| Cell::Text(s.to_string()));
    [
        Cell::Text(row.org_id.clone()),
        text(row.name.as_deref()),
        Cell::Text(level_in_words(&row.level).unwrap_or(&row.level).to_string()),
        text(row.parent_id.as_deref()),
        text(row.parent_name.as_deref()),
        row.members.map_or(Cell::Empty, Cell::Int),
        Cell::Text(action.to_string()),
    ]
}

/// Checks in the reference order, each with its rows.
fn grouped<'a>(rows: &[&'a WorklistRow]) -> Vec<(Option<&'static QualityCheck>, String, Vec<&'a WorklistRow>)> {
    let mut groups: BTreeMap<usize, (Option<&'static QualityCheck>, String, Vec<&WorklistRow>)> = BTreeMap::new();
    for row in rows {
        let position = QualityCheck::all().iter().position(|c| c.check == row.check).unwrap_or(usize::MAX);
        groups
            .entry(position)
            .or_insert_with(|| (QualityCheck::find(&row.check), row.check.clone(), Vec::new()))
            .2
            .push(row);
    }
    groups.into_values().collect()
}

/// A region's worklist: a summary sheet, then one sheet per failing check.
/// The summary has every check the region fails, with how many its
/// monitoring counted now and at the quarter before (`movement`: its rows
/// of quarterly_quality for D's quarter), and the checks it no longer fails.
fn worklist_xlsx(region: &str, rows: &[&WorklistRow], movement: &[&QuarterCheck]) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut book = Workbook::new();
    let groups = grouped(rows);
    let summary = book.add_worksheet();
    summary.set_name("Сводка")?;
    let header = [
        "Проверка",
        "Организаций в перечне",
        "Выявлено",
        "Кварталом ранее",
        "Изменение за квартал",
        "Что сделать",
        "Лист",
    ];
    for (c, title) in header.iter().enumerate() {
        summary.write_string_with_format(0, c as u16, *title, &formats.header)?;
    }
    let moved = |check: &str| movement.iter().find(|q| q.check == check);
    // Fixed since the quarter before: a check the worklist lists organizations
    // for (the organization checks and MEMBER_CHECKS_LISTED), none found now,
    // some then.
    let listed = |q: &QuarterCheck| q.unit == "organizations" || MEMBER_CHECKS_LISTED.contains(&q.check.as_str());
    let fixed: Vec<&&QuarterCheck> = movement
        .iter()
        .filter(|q| {
            listed(q)
                && q.affected == Some(0)
                && q.affected_prev_quarter.is_some_and(|a| a > 0)
                && !groups.iter().any(|g| g.1 == q.check)
        })
        .collect();
    let mut r = 0;
    let number = |sheet: &mut Worksheet, r: u32, c: u16, v: Option<i64>| match v {
        Some(v) => sheet.write_number_with_format(r, c, v as f64, &formats.int).map(|_| ()),
        None => Ok(()),
    };
    for (check, code, list) in &groups {
        r += 1;
        summary.write_string(r, 0, check.map_or(code.as_str(), |c| c.title.as_str()))?;
        summary.write_number_with_format(r, 1, list.len() as f64, &formats.int)?;
        let q = moved(code);
        number(summary, r, 2, q.and_then(|q| q.affected))?;
        number(summary, r, 3, q.and_then(|q| q.affected_prev_quarter))?;
        number(summary, r, 4, q.and_then(|q| q.affected_change_quarter))?;
        summary.write_string(r, 5, check.map_or("", |c| c.action.as_str()))?;
        summary.write_string(r, 6, check.map_or(code.as_str(), |c| c.sheet.as_str()))?;
    }
    for q in fixed {
        r += 1;
        let check = QualityCheck::find(&q.check);
        summary.write_string(r, 0, check.map_or(q.check.as_str(), |c| c.title.as_str()))?;
        summary.write_number_with_format(r, 1, 0.0, &formats.int)?;
        number(summary, r, 2, q.affected)?;
        number(summary, r, 3, q.affected_prev_quarter)?;
        number(summary, r, 4, q.affected_change_quarter)?;
        summary.write_string(r, 5, "Замечаний больше нет")?;
    }
    let total = r + 1;
    summary.write_string_with_format(
        total,
        0,
        format!("Региональная организация {region}: всего замечаний"),
        &formats.header,
    )?;
    summary.write_number_with_format(total, 1, rows.len() as f64, &formats.int)?;
    summary.write_string(
        total + 2,
        0,
        "«Выявлено» и «Кварталом ранее» — по мониторингу качества данных: организации или члены Профсоюза, \
         для расхождений с отчётом — расхождение; квартал представлен последним снимком не позднее его окончания.",
    )?;
    for (c, width) in [60, 14, 12, 12, 14, 60, 32].into_iter().enumerate() {
        summary.set_column_width(c as u16, width)?;
    }
    summary.set_freeze_panes(1, 0)?;

    for (check, code, list) in &groups {
        let sheet = book.add_worksheet();
        sheet.set_name(check.map_or(code.as_str(), |c| c.sheet.as_str()))?;
        let action = check.map_or("", |c| c.action.as_str());
        let table = Table {
            columns: WORKLIST_HEADER
                .iter()
                .enumerate()
                .map(|(i, t)| ColumnTitle {
                    column: t.to_string(),
                    title: t.to_string(),
                    format: if i == 5 { Format::Int } else { Format::Text },
                })
                .collect(),
            rows: list.iter().map(|r| worklist_cells(r, action).to_vec()).collect(),
        };
        write_sheet(sheet, &table)?;
    }
    book.save_to_buffer()
}

/// The same rows as one Excel CSV, the check first.
fn worklist_csv(rows: &[&WorklistRow]) -> Vec<u8> {
    let mut columns =
        vec![ColumnTitle { column: "check".into(), title: "Проверка".into(), format: Format::Text }];
    columns.extend(WORKLIST_HEADER.iter().enumerate().map(|(i, t)| ColumnTitle {
        column: t.to_string(),
        title: t.to_string(),
        format: if i == 5 { Format::Int } else { Format::Text },
    }));
    let mut table_rows = Vec::new();
    for (check, code, list) in grouped(rows) {
        let title = check.map_or(code.as_str(), |c| c.title.as_str()).to_string();
        let action = check.map_or("", |c| c.action.as_str());
        for row in list {
            let mut cells = vec![Cell::Text(title.clone())];
            cells.extend(worklist_cells(row, action));
            table_rows.push(cells);
        }
    }
    people_csv(&Table { columns, rows: table_rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_longer_than_a_cell_is_cut_with_a_mark() {
        assert_eq!(xlsx_text("Школа № 1"), "Школа № 1");
        assert_eq!(xlsx_text("=1+1"), "'=1+1");
        let fits = "я".repeat(XLSX_CELL_CHARS);
        assert_eq!(xlsx_text(&fits), fits);
        let long = "Ш".repeat(40_000);
        let cut = xlsx_text(&long);
        assert_eq!(cut.chars().count(), XLSX_CELL_CHARS);
        assert!(cut.ends_with("Ш…"));
        // Excel counts UTF-16 units: a character outside the BMP is two.
        let wide = "😀".repeat(20_000);
        let cut = xlsx_text(&wide);
        assert!(cut.encode_utf16().count() <= XLSX_CELL_CHARS && cut.ends_with('…'));

        // Both go into a workbook that saves, as does a date Excel cannot hold.
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let formats = Formats::new();
        assert!(sheet.write_string(0, 0, &long).is_err(), "the limit this guards against");
        write_cell(sheet, 1, 0, &Cell::Text(long), Format::Text, &formats).unwrap();
        write_cell(sheet, 1, 1, &Cell::Text(wide), Format::Text, &formats).unwrap();
        let old = chrono::NaiveDate::from_ymd_opt(1899, 12, 1).unwrap();
        write_cell(sheet, 1, 2, &Cell::Date(old), Format::Date, &formats).unwrap();
        workbook.save_to_buffer().unwrap();
    }
}
