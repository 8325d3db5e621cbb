//! profcards_monthly and profcards_yearly on hand-made purchases; expected
//! sums worked out by hand.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;

use crate::common::*;

/// valid_snapshot() (members M1, M2, M4 on record) with these purchases
/// around D = 2023-11-21:
///
/// | id | member | date | amount | cashback | |
/// |---|---|---|---|---|---|
/// | B10 | M4 | 2021-11-30 | 5.00 | 0.50 | after 21 Nov: not in 2021's ytd |
/// | B1 | M1 | 2022-03-15 | 100.00 | 3.00 | |
/// | B2 | M1 | 2022-11-21 | 200.00 | 6.00 | on 21 Nov: in 2022's ytd |
/// | B3 | M2 | 2022-11-22 | 50.00 | 1.50 | the day after: not |
/// | B4 | M4 | 2022-12-31 | 1 000.00 | 0.00 | |
/// | B5 | M1 | 2023-01-01 | 10.10 | 0.31 | |
/// | B6 | M2 | 2023-03-02 | 20.20 | 0.61 | |
/// | B7 | M2 | 2023-03-30 | 30.30 | 0.91 | same buyer, same month |
/// | B8 | M1 | 2023-11-21 | 40.40 | 1.21 | on D: counts |
/// | B9 | M1 | 2023-11-22 | 999.99 | 9.99 | after D: left out |
fn purchases_snapshot(purchases: &[&[&str]]) -> BTreeMap<&'static str, Rows> {
    let mut t = valid_snapshot();
    t.insert(
        "profcards_purchases",
        Rows::new(&["purchase_id", "member_id", "purchased_on", "amount", "cashback"], purchases),
    );
    t
}

#[rustfmt::skip]
const PURCHASES: &[&[&str]] = &[
    &["B10", "M4", "2021-11-30", "5.00", "0.50"],
    &["B1", "M1", "2022-03-15", "100.00", "3.00"],
    &["B2", "M1", "2022-11-21", "200.00", "6.00"],
    &["B3", "M2", "2022-11-22", "50.00", "1.50"],
    &["B4", "M4", "2022-12-31", "1000.00", "0"],
    &["B5", "M1", "2023-01-01", "10.10", "0.31"],
    &["B6", "M2", "2023-03-02", "20.20", "0.61"],
    &["B7", "M2", "2023-03-30", "30.30", "0.91"],
    &["B8", "M1", "2023-11-21", "40.40", "1.21"],
    &["B9", "M1", "2023-11-22", "999.99", "9.99"],
];

async fn mart(dir: &std::path::Path, d: &str, purchases: &[&[&str]], name: &str) -> RecordBatch {
    let wh = dir.join("wh");
    let snap = write_snapshot(dir, d, &purchases_snapshot(purchases), PLAIN);
    run_ingest(&snap, &wh).await.unwrap();
    compute_mart(&wh, d, name).await
}

/// The listed columns of every row, as text.
fn rows(b: &RecordBatch, columns: &[&str]) -> Vec<Vec<String>> {
    let texts: Vec<Vec<String>> = columns.iter().map(|c| column_text(b, c)).collect();
    (0..b.num_rows()).map(|i| texts.iter().map(|t| t[i].clone()).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profcards_monthly_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let m = mart(tmp.path(), D, PURCHASES, "profcards_monthly").await;
    assert_eq!(
        rows(&m, &["as_of", "month", "purchases", "buyers", "amount", "cashback"]),
        [
            [D, "2021-11-01", "1", "1", "5.00", "0.50"],
            [D, "2022-03-01", "1", "1", "100.00", "3.00"],
            [D, "2022-11-01", "2", "2", "250.00", "7.50"],
            [D, "2022-12-01", "1", "1", "1000.00", "0.00"],
            [D, "2023-01-01", "1", "1", "10.10", "0.31"],
            [D, "2023-03-01", "2", "1", "50.50", "1.52"],
            [D, "2023-11-01", "1", "1", "40.40", "1.21"],
        ]
    );
    let expected = [10.0, 3.0, 3.0, 0.0, 100.0 * 0.31 / 10.10, 100.0 * 1.52 / 50.50, 100.0 * 1.21 / 40.40];
    for (i, share) in expected.into_iter().enumerate() {
        assert!(close(pct(&m, "cashback_pct", i), share), "row {i}: {:?}", pct(&m, "cashback_pct", i));
    }
    let schema = m.schema();
    assert_eq!(schema.field_with_name("amount").unwrap().data_type(), &arrow::datatypes::DataType::Decimal128(18, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profcards_yearly_compares_the_same_days_of_each_year() {
    let tmp = tempfile::tempdir().unwrap();
    let y = mart(tmp.path(), D, PURCHASES, "profcards_yearly").await;
    assert_eq!(
        rows(&y, &["year", "ytd", "period_start", "period_end", "purchases", "buyers", "amount", "cashback"]),
        [
            ["2021", "false", "2021-01-01", "2021-12-31", "1", "1", "5.00", "0.50"],
            ["2021", "true", "2021-01-01", "2021-11-21", "0", "0", "0.00", "0.00"],
            ["2022", "false", "2022-01-01", "2022-12-31", "4", "3", "1350.00", "10.50"],
            ["2022", "true", "2022-01-01", "2022-11-21", "2", "1", "300.00", "9.00"],
            ["2023", "false", "2023-01-01", "2023-11-21", "4", "2", "101.00", "3.04"],
            ["2023", "true", "2023-01-01", "2023-11-21", "4", "2", "101.00", "3.04"],
        ]
    );
    let expected = [
        Some(10.0),
        None,
        Some(100.0 * 10.5 / 1350.0),
        Some(3.0),
        Some(100.0 * 3.04 / 101.0),
        Some(100.0 * 3.04 / 101.0),
    ];
    for (i, share) in expected.into_iter().enumerate() {
        match share {
            Some(share) => assert!(close(pct(&y, "cashback_pct", i), share), "row {i}"),
            None => assert_eq!(pct(&y, "cashback_pct", i), None, "row {i}: no amount, no percentage"),
        }
    }
}

/// D on 29 February: other years' ytd rows end on 28 February.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profcards_ytd_from_a_leap_day() {
    let tmp = tempfile::tempdir().unwrap();
    #[rustfmt::skip]
    let purchases: &[&[&str]] = &[
        &["B1", "M1", "2023-02-28", "10", "1"],
        &["B2", "M1", "2023-03-01", "20", "2"],
        &["B3", "M2", "2024-02-29", "30", "3"],
    ];
    let y = mart(tmp.path(), "2024-02-29", purchases, "profcards_yearly").await;
    assert_eq!(
        rows(&y, &["year", "ytd", "period_end", "purchases", "amount"]),
        [
            ["2023", "false", "2023-12-31", "2", "30.00"],
            ["2023", "true", "2023-02-28", "1", "10.00"],
            ["2024", "false", "2024-02-29", "1", "30.00"],
            ["2024", "true", "2024-02-29", "1", "30.00"],
        ]
    );
}

/// No purchases at all: both marts exist, with their columns and no rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_purchases_gives_empty_marts_with_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let m = mart(tmp.path(), D, &[], "profcards_monthly").await;
    assert_eq!(m.num_rows(), 0);
    assert!(m.schema().field_with_name("cashback_pct").is_ok());
    let wh = tmp.path().join("wh");
    for name in ["profcards_monthly", "profcards_yearly", "profcards_summary"] {
        let csv = std::fs::read_to_string(wh.join(format!("marts/{name}/as_of={D}/{name}.csv"))).unwrap();
        assert_eq!(csv.lines().count(), 1, "{name}: header only");
        assert!(csv.starts_with("as_of,"), "{name}: {csv}");
    }
}

/// profcards_summary on PURCHASES at D = 2023-11-21, so P = 2023-10-01 and
/// the months before P in its year are January to September (9):
/// - year_to_period, 2023: B5 (M1, 10.10 / 0.31), B6 and B7 (M2, 20.20 /
///   0.61 and 30.30 / 0.91) — B8 is in November: 3 purchases, 2 buyers,
///   60.60 / 1.83;
/// - year_to_period_prev, 2022: B1 (M1, 100.00 / 3.00) — B2, B3, B4 are in
///   November and December: 1 purchase, 1 buyer; change +2 purchases, +200 %;
/// - all: every purchase up to D (B9 is after it): 9 purchases by M1, M2,
///   M4; 5.00 + 1 350.00 + 101.00 = 1 456.00 / 0.50 + 10.50 + 3.04 = 14.04 —
///   the sum of profcards_yearly's whole years.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profcards_summary_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let s = mart(tmp.path(), D, PURCHASES, "profcards_summary").await;
    assert_eq!(
        rows(&s, &["span", "year", "months", "purchases", "buyers", "amount", "cashback", "purchases_change"]),
        [
            ["year_to_period", "2023", "9", "3", "2", "60.60", "1.83", "2"],
            ["year_to_period_prev", "2022", "9", "1", "1", "100.00", "3.00", "∅"],
            ["all", "∅", "∅", "9", "3", "1456.00", "14.04", "∅"],
        ]
    );
    let expected = [100.0 * 1.83 / 60.60, 3.0, 100.0 * 14.04 / 1456.0];
    for (i, share) in expected.into_iter().enumerate() {
        assert!(close(pct(&s, "cashback_pct", i), share), "row {i}: {:?}", pct(&s, "cashback_pct", i));
    }
    assert!(close(pct(&s, "purchases_change_pct", 0), 200.0));
    assert_eq!(pct(&s, "purchases_change_pct", 1), None);
    assert_eq!(
        s.schema().field_with_name("amount").unwrap().data_type(),
        &arrow::datatypes::DataType::Decimal128(18, 2)
    );
}

/// At P = 1 January no month of the year lies before P: only the row of all
/// purchases (all ten are on or before D = 2024-01-15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profcards_summary_in_january_has_only_all_time() {
    let tmp = tempfile::tempdir().unwrap();
    let s = mart(tmp.path(), "2024-01-15", PURCHASES, "profcards_summary").await;
    assert_eq!(rows(&s, &["span", "purchases"]), [["all", "10"]]);
}
