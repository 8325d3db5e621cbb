//! The marts as files other tools open: exactly one Parquet and one CSV per
//! mart and date, every column marts.md requires, only types that polars,
//! pandas, DuckDB and Excel read as written, and recomputing replaces rather
//! than adds.

use std::collections::BTreeSet;

use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::common::*;

/// Every mart with its columns and those marts.md requires of it (more are
/// allowed), as its schema (`schemas/marts/<mart>.toml`) declares them.
fn contract() -> Vec<(String, Vec<String>, Vec<String>)> {
    let definitions = reestr::compute::Definitions::embedded().unwrap();
    let names = |it: &mut dyn Iterator<Item = &str>| it.map(String::from).collect::<Vec<_>>();
    definitions
        .schemas
        .iter()
        .map(|s| (s.name.clone(), names(&mut s.columns.iter().map(|c| c.name.as_str())), names(&mut s.required())))
        .collect()
}

fn mart_files(wh: &std::path::Path) -> BTreeSet<String> {
    tree(&wh.join("marts")).into_keys().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mart_is_one_parquet_and_one_csv_in_portable_types() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    compute_mart(&wh, D, "national").await;

    let contract = contract();
    // The marts marts.md defines each have required columns; reestr's own
    // (the figures publishing shows beyond the contract) may have none.
    for mart in [
        "national",
        "regions",
        "federal_districts",
        "data_quality",
        "worklist",
        "profcards_monthly",
        "profcards_yearly",
    ] {
        let required = contract.iter().find(|(m, _, _)| m == mart).map(|(_, _, r)| r.len());
        assert!(required.is_some_and(|n| n > 0), "marts.md requires columns of {mart}");
    }
    let expected: BTreeSet<String> = contract
        .iter()
        .flat_map(|(m, _, _)| ["parquet", "csv"].map(|ext| format!("{m}/as_of={D}/{m}.{ext}")))
        .collect();
    assert_eq!(mart_files(&wh), expected);

    for (mart, declared, required) in &contract {
        let path = wh.join(format!("marts/{mart}/as_of={D}/{mart}.parquet"));
        let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
        let schema = builder.schema().clone();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        for column in required {
            assert!(names.contains(&column.as_str()), "{mart} lacks {column}");
        }
        assert_eq!(&names, declared, "{mart}: the file's columns are its schema's");
        for field in schema.fields() {
            let portable = matches!(
                field.data_type(),
                DataType::Int64 | DataType::Float64 | DataType::Utf8 | DataType::Boolean | DataType::Date32
            ) || field.data_type() == &DataType::Decimal128(18, 2);
            assert!(
                portable,
                "{mart}.{}: {:?} is not one of the marts' portable types",
                field.name(),
                field.data_type()
            );
        }
        // The CSV has the same columns, in the same order.
        let csv = std::fs::read_to_string(path.with_extension("csv")).unwrap();
        assert_eq!(csv.lines().next().unwrap(), names.join(","), "{mart}.csv header");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recomputing_a_date_replaces_its_marts() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    compute_mart(&wh, D, "national").await;
    let first = tree(&wh.join("marts"));
    compute_mart(&wh, D, "national").await;
    let second = tree(&wh.join("marts"));
    let names = |t: &std::collections::BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&first), names(&second), "no file added or lost");
    for (path, bytes) in &first {
        if path.ends_with(".csv") {
            assert_eq!(bytes, &second[path], "{path} changed between two computations of the same data");
        }
    }
    // Nothing left behind in staging.
    assert!(!wh.join("_staging").exists() || std::fs::read_dir(wh.join("_staging")).unwrap().next().is_none());
}
