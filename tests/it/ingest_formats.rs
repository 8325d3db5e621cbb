//! Every input form the snapshot contract allows loads to the same typed rows.

use std::sync::Arc;

use crate::common::*;
use arrow::array::{ArrayRef, BooleanArray, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use reestr::contract::values::parse_date;
use reestr::ingest::IngestError;

const TABLES: [&str; 5] = ["members", "official_stats", "organizations", "profcards_purchases", "stat_reports"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_utf8_csv_loads_typed_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), PLAIN);
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();

    let counts: Vec<(u64, u64, u64)> =
        TABLES.iter().map(|t| &manifest.tables[*t]).map(|c| (c.rows_read, c.rows_loaded, c.rows_rejected)).collect();
    assert_eq!(counts, vec![(4, 4, 0), (1, 1, 0), (5, 5, 0), (2, 2, 0), (2, 2, 0)]);

    let orgs = read_table(&wh, "organizations", AS_OF);
    let schema = orgs.schema();
    assert_eq!(schema.field_with_name("registered_on").unwrap().data_type(), &DataType::Date32);
    assert_eq!(schema.field_with_name("legal_entity").unwrap().data_type(), &DataType::Boolean);
    assert_eq!(schema.field_with_name("org_id").unwrap().data_type(), &DataType::Utf8);
    assert!(!schema.field_with_name("org_id").unwrap().is_nullable());
    assert!(schema.field_with_name("parent_id").unwrap().is_nullable());
    assert_eq!(column_text(&orgs, "parent_id"), ["∅", "R23", "T1", "T1", "P1"]);
    assert_eq!(column_text(&orgs, "excluded_on")[3], "2020-01-01");
    assert_eq!(column_text(&orgs, "name")[2], "ППО школы № 1 «Ромашка»");

    let stats = read_table(&wh, "official_stats", AS_OF);
    assert_eq!(stats.schema().field_with_name("members").unwrap().data_type(), &DataType::Int64);
    // The report's own date is stored as stats_as_of: `as_of` is the partition.
    assert_eq!(column_text(&stats, "stats_as_of"), ["2023-01-01"]);
    assert!(stats.schema().field_with_name("as_of").is_err());

    let buys = read_table(&wh, "profcards_purchases", AS_OF);
    assert_eq!(buys.schema().field_with_name("amount").unwrap().data_type(), &DataType::Decimal128(18, 2));
    assert_eq!(column_text(&buys, "amount"), ["12789.50", "100.00"]);
    assert_eq!(column_text(&buys, "cashback"), ["383.69", "0.00"]);

    // Manifest: checksums of the source files and exactly the documented keys.
    assert_eq!(manifest.files.len(), 5);
    let orgs_file = manifest.files.iter().find(|f| f.table == "organizations").unwrap();
    let bytes = std::fs::read(snap.join("organizations.csv")).unwrap();
    assert_eq!(orgs_file.size, bytes.len() as u64);
    assert_eq!(orgs_file.sha256, sha256_hex(&bytes));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wh.join("runs/2023-11-21/manifest.json")).unwrap()).unwrap();
    for key in ["rows_read", "rows_loaded", "rows_rejected", "dropped_columns"] {
        assert!(json["tables"]["members"].get(key).is_some(), "manifest lacks {key}");
    }
    assert_eq!(json["engine_version"], env!("CARGO_PKG_VERSION"));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The same snapshot as an office export: windows-1251, `;`, DD.MM.YYYY dates,
/// да/нет, comma decimals with spaces, Cyrillic forms, odd case, columns in
/// another order — loads to exactly the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_export_loads_the_same_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = valid_snapshot();
    let mut messy = plain.clone();
    for rows in messy.values_mut() {
        for row in &mut rows.rows {
            for cell in row.iter_mut() {
                *cell = messy_value(cell);
            }
        }
        // Reverse the column order.
        rows.header.reverse();
        for row in &mut rows.rows {
            row.reverse();
        }
    }
    messy.get_mut("profcards_purchases").unwrap().set(0, "amount", "12 789,50");
    messy.get_mut("stat_reports").unwrap().set(0, "form", "5-сп");
    messy.get_mut("organizations").unwrap().set(1, "level", "  Territorial ");

    let a = write_snapshot(&tmp.path().join("a"), AS_OF, &plain, PLAIN);
    let b = write_snapshot(&tmp.path().join("b"), AS_OF, &messy, OFFICE);
    run_ingest(&a, &tmp.path().join("wa")).await.unwrap();
    let manifest = run_ingest(&b, &tmp.path().join("wb")).await.unwrap();
    let file = manifest.files.iter().find(|f| f.table == "members").unwrap();
    assert_eq!(file.encoding.as_deref(), Some("windows-1251"));
    assert_eq!(file.separator.as_deref(), Some(";"));
    for table in TABLES {
        assert_eq!(manifest.tables[table].rows_rejected, 0, "{table}");
        assert_eq!(
            read_table(&tmp.path().join("wa"), table, AS_OF),
            read_table(&tmp.path().join("wb"), table, AS_OF),
            "{table} differs"
        );
    }
}

/// ISO date → DD.MM.YYYY, true/false → да/НЕТ, 5-SP → 5-СП.
fn messy_value(v: &str) -> String {
    if parse_date(v).is_some() && v.len() == 10 && v.as_bytes()[4] == b'-' {
        return format!("{}.{}.{}", &v[8..10], &v[5..7], &v[0..4]);
    }
    match v {
        "true" => "да".into(),
        "false" => "НЕТ".into(),
        "5-SP" => "5-СП".into(),
        "2-SP" => "2-СП".into(),
        "auto" => "AUTO".into(),
        other => other.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_bom_and_every_boolean_spelling() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    let members = t.get_mut("members").unwrap();
    for (row, (a, b)) in [("yes", "No"), ("1", "0"), ("TRUE", "false"), ("Да", "нет")].iter().enumerate() {
        members.set(row, "joined_online", a);
        members.set(row, "pd_consent", b);
    }
    let snap = write_snapshot(tmp.path(), AS_OF, &t, CsvForm { separator: b';', encoding: Enc::Utf8Bom });
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    assert_eq!(manifest.tables["members"].rows_loaded, 4);
    let m = read_table(&wh, "members", AS_OF);
    let bools = |name: &str| {
        let a = m.column_by_name(name).unwrap().as_any().downcast_ref::<BooleanArray>().unwrap().clone();
        a.iter().map(|v| v.unwrap()).collect::<Vec<bool>>()
    };
    assert_eq!(bools("joined_online"), [true, true, true, true]);
    assert_eq!(bools("pd_consent"), [false, false, false, false]);
    // The BOM is not part of the first column's name.
    assert_eq!(column_text(&m, "member_id"), ["M1", "M2", "M3", "M4"]);
    assert_eq!(manifest.files[0].encoding.as_deref(), Some("utf-8 (BOM)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoted_fields_keep_separators_quotes_and_newlines() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    let tricky = "ППО «Школа; №1», \"Ромашка\"\nвторая строка <b>=1+1</b>";
    t.get_mut("organizations").unwrap().set(2, "name", tricky);
    for form in [PLAIN, OFFICE] {
        let dir = tmp.path().join(format!("{}", form.separator));
        let snap = write_snapshot(&dir, AS_OF, &t, form);
        let wh = dir.join("wh");
        run_ingest(&snap, &wh).await.unwrap();
        let orgs = read_table(&wh, "organizations", AS_OF);
        assert_eq!(column_text(&orgs, "name")[2], tricky);
        assert_eq!(column_text(&orgs, "org_id"), ["R23", "T1", "P1", "P2", "S1"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normalises_codes_enums_and_whitespace() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    let stats = t.get_mut("official_stats").unwrap();
    stats.set(0, "region_code", "1");
    stats.set(0, "members", "3 098 599");
    let orgs = t.get_mut("organizations").unwrap();
    orgs.set(0, "level", "REGIONAL");
    orgs.set(2, "name", "  ППО школы  ");
    orgs.set(2, "org_id", " P1 ");
    let snap = write_snapshot(tmp.path(), AS_OF, &t, PLAIN);
    let wh = tmp.path().join("wh");
    run_ingest(&snap, &wh).await.unwrap();
    let stats = read_table(&wh, "official_stats", AS_OF);
    assert_eq!(column_text(&stats, "region_code"), ["01"]);
    assert_eq!(column_text(&stats, "members"), ["3098599"]);
    let orgs = read_table(&wh, "organizations", AS_OF);
    assert_eq!(column_text(&orgs, "level")[0], "regional");
    assert_eq!(column_text(&orgs, "name")[2], "ППО школы");
    assert_eq!(column_text(&orgs, "org_id")[2], "P1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_tables_load_like_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let t = valid_snapshot();
    let a = write_snapshot(&tmp.path().join("a"), AS_OF, &t, PLAIN);
    let b = write_snapshot(&tmp.path().join("b"), AS_OF, &t, PLAIN);
    // organizations as a typed Parquet export with an extra personal column.
    std::fs::remove_file(b.join("organizations.csv")).unwrap();
    write_parquet_organizations(&t["organizations"], &b.join("organizations.parquet"));
    run_ingest(&a, &tmp.path().join("wa")).await.unwrap();
    let manifest = run_ingest(&b, &tmp.path().join("wb")).await.unwrap();
    assert_eq!(manifest.tables["organizations"].dropped_columns, ["chair_phone"]);
    assert_eq!(manifest.files.iter().find(|f| f.table == "organizations").unwrap().format, "parquet");
    assert_eq!(
        read_table(&tmp.path().join("wa"), "organizations", AS_OF),
        read_table(&tmp.path().join("wb"), "organizations", AS_OF)
    );
}

/// Dates as Date32 and flags as Boolean, as a typed exporter would write them.
fn write_parquet_organizations(rows: &Rows, path: &std::path::Path) {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, name) in rows.header.iter().enumerate() {
        let values: Vec<&str> = rows.rows.iter().map(|r| r[i].as_str()).collect();
        let (dt, array): (DataType, ArrayRef) = if name.ends_with("_on") || name.ends_with("_until") {
            (DataType::Date32, Arc::new(Date32Array::from(values.iter().map(|v| parse_date(v)).collect::<Vec<_>>())))
        } else if ["legal_entity", "territorial_rights", "chair_filled", "chair_access", "chair_email"]
            .contains(&name.as_str())
        {
            (
                DataType::Boolean,
                Arc::new(BooleanArray::from(values.iter().map(|v| Some(*v == "true")).collect::<Vec<_>>())),
            )
        } else {
            let opt: Vec<Option<&str>> = values.iter().map(|v| (!v.is_empty()).then_some(*v)).collect();
            (DataType::Utf8, Arc::new(StringArray::from(opt)))
        };
        fields.push(Field::new(name, dt, true));
        arrays.push(array);
    }
    fields.push(Field::new("chair_phone", DataType::Utf8, true));
    arrays.push(Arc::new(StringArray::from(vec!["+7 900 000-00-00"; rows.rows.len()])));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_purchases_table_may_be_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    t.remove("profcards_purchases");
    let snap = write_snapshot(tmp.path(), AS_OF, &t, PLAIN);
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    assert_eq!(manifest.tables["profcards_purchases"].rows_read, 0);
    assert_eq!(manifest.tables["profcards_purchases"].source, None);
    let buys = read_table(&wh, "profcards_purchases", AS_OF);
    assert_eq!(buys.num_rows(), 0);
    assert_eq!(buys.schema().field_with_name("amount").unwrap().data_type(), &DataType::Decimal128(18, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_file_problems_fail_the_run_naming_file_and_column() {
    let tmp = tempfile::tempdir().unwrap();

    let mut t = valid_snapshot();
    let members = t.get_mut("members").unwrap();
    let i = members.header.iter().position(|h| h == "card_status").unwrap();
    members.header.remove(i);
    for r in &mut members.rows {
        r.remove(i);
    }
    let snap = write_snapshot(&tmp.path().join("a"), AS_OF, &t, PLAIN);
    let err = run_ingest(&snap, &tmp.path().join("wa")).await.unwrap_err();
    assert!(
        matches!(&err, IngestError::MissingColumn { file, column } if file == "members.csv" && column == "card_status"),
        "{err}"
    );
    assert!(err.is_user_error());
    assert!(err.to_string().contains("members.csv") && err.to_string().contains("card_status"));

    let mut t = valid_snapshot();
    t.remove("stat_reports");
    let snap = write_snapshot(&tmp.path().join("b"), AS_OF, &t, PLAIN);
    let err = run_ingest(&snap, &tmp.path().join("wb")).await.unwrap_err();
    assert!(err.to_string().contains("stat_reports"), "{err}");
    assert!(!tmp.path().join("wb").join("registry").exists(), "nothing written before the check");

    let t = valid_snapshot();
    let snap = write_snapshot(&tmp.path().join("c"), AS_OF, &t, PLAIN);
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain("org_id,form".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    std::fs::write(snap.join("stat_reports.csv"), utf16).unwrap();
    let err = run_ingest(&snap, &tmp.path().join("wc")).await.unwrap_err();
    assert!(matches!(&err, IngestError::UnknownEncoding { file, .. } if file == "stat_reports.csv"), "{err}");

    let snap = write_snapshot(&tmp.path().join("d"), AS_OF, &valid_snapshot(), PLAIN);
    std::fs::write(snap.join("official_stats.parquet"), b"not parquet").unwrap();
    let err = run_ingest(&snap, &tmp.path().join("wd")).await.unwrap_err();
    assert!(matches!(&err, IngestError::AmbiguousFile { table, .. } if table == "official_stats"), "{err}");
    std::fs::remove_file(snap.join("official_stats.csv")).unwrap();
    let err = run_ingest(&snap, &tmp.path().join("wd")).await.unwrap_err();
    assert!(matches!(&err, IngestError::BadParquet { file, .. } if file == "official_stats.parquet"), "{err}");
    assert!(err.is_user_error());

    let snap = write_snapshot(&tmp.path().join("e"), AS_OF, &valid_snapshot(), PLAIN);
    std::fs::write(snap.join("members.csv"), "member_id,org_id,member_id\n").unwrap();
    let err = run_ingest(&snap, &tmp.path().join("we")).await.unwrap_err();
    assert!(
        matches!(&err, IngestError::DuplicateColumn { column, first: 1, second: 3, .. } if column == "member_id"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_date_comes_from_the_folder_or_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), "latest", &valid_snapshot(), PLAIN);
    let err = run_ingest(&snap, &tmp.path().join("wh")).await.unwrap_err();
    assert!(matches!(err, IngestError::AsOfRequired { .. }), "{err}");
    assert!(err.to_string().contains("--as-of"));

    let request = reestr::ingest::IngestRequest {
        snapshot: snap.to_string_lossy().into_owned(),
        as_of: Some(chrono::NaiveDate::from_ymd_opt(2022, 11, 21).unwrap()),
    };
    let manifest = job(&tmp.path().join("wh")).await.ingest(&request).await.unwrap();
    assert_eq!(manifest.as_of.to_string(), "2022-11-21");
    assert!(registry_file(&tmp.path().join("wh"), "members", "2022-11-21").exists());
}

/// A windows-1251 export whose first few hundred kilobytes are plain ASCII is
/// still read as windows-1251, not failed at its first Cyrillic letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_cyrillic_decides_the_encoding() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    let members = t.get_mut("members").unwrap();
    let template = members.rows[0].clone();
    for i in 0..8000 {
        let mut row = template.clone();
        row[0] = format!("X{i}");
        members.rows.push(row);
    }
    let last = members.rows.len() - 1;
    members.set(last, "category", "пенсионер");
    let snap = write_snapshot(tmp.path(), AS_OF, &t, OFFICE);
    assert!(std::fs::metadata(snap.join("members.csv")).unwrap().len() > 300_000);
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    let file = manifest.files.iter().find(|f| f.table == "members").unwrap();
    assert_eq!(file.encoding.as_deref(), Some("windows-1251"));
    assert_eq!(manifest.tables["members"].rows_rejected, 0);
    let categories = column_text(&read_table(&wh, "members", AS_OF), "category");
    assert_eq!(categories.last().map(String::as_str), Some("pensioner"));

    // Bytes far down that are no text (NUL among them) cost their row, as
    // they would at the start of the file; the rest loads.
    let path = snap.join("members.csv");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 40;
    bytes.splice(at..at, [0xFFu8, 0xFE, 0x00, 0x41].iter().copied().cycle().take(400));
    std::fs::write(&path, bytes).unwrap();
    let wh = tmp.path().join("wh-bad");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    let counts = &manifest.tables["members"];
    assert_eq!((counts.rows_rejected, counts.rows_loaded), (1, counts.rows_read - 1));
    assert_eq!(counts.rejects_by_reason.get("bad_encoding"), Some(&1));
}
