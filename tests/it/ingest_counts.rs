//! Nothing is lost: rows read = rows loaded + rows rejected, on files of
//! thousands of rows with randomly broken rows (a property checked over several
//! seeds; the seed is in the failure message to replay a case).

use crate::common::*;
use reestr::generate::rng::Rng;

/// Ways to break a member row, each a reject the contract names.
#[derive(Debug, Clone, Copy)]
enum Break {
    None,
    MissingId,
    BadDate,
    BadBool,
    BadCategory,
    UnknownOrg,
    Duplicate,
    Short,
}

const BREAKS: [(Break, f64); 8] = [
    (Break::None, 0.75),
    (Break::MissingId, 0.035),
    (Break::BadDate, 0.035),
    (Break::BadBool, 0.035),
    (Break::BadCategory, 0.035),
    (Break::UnknownOrg, 0.035),
    (Break::Duplicate, 0.04),
    (Break::Short, 0.035),
];

#[test]
fn rows_read_equals_loaded_plus_rejected() {
    for seed in 1..=6u64 {
        let mut rng = Rng::new(seed);
        let plan: Vec<Break> = (0..2000 + rng.below(4000)).map(|_| rng.pick(&BREAKS)).collect();
        check_counts(seed, &plan, seed % 2 == 0);
    }
}

fn check_counts(seed: u64, plan: &[Break], office: bool) {
    {
        let tmp = tempfile::tempdir().unwrap();
        let mut t = valid_snapshot();
        let members = t.get_mut("members").unwrap();
        let template = members.rows[0].clone();
        members.rows.clear();
        let mut expected_loaded = 0u64;
        // A duplicate repeats the id of the latest clean row (loaded, so it
        // certainly claimed its id); before any clean row it is a clean row.
        let mut last_clean: Option<String> = None;
        for (i, b) in plan.iter().enumerate() {
            let mut row = template.clone();
            row[0] = format!("M{i}");
            match (b, &last_clean) {
                (Break::None, _) | (Break::Duplicate, None) => {
                    expected_loaded += 1;
                    last_clean = Some(row[0].clone());
                }
                (Break::Duplicate, Some(id)) => row[0] = id.clone(),
                (Break::MissingId, _) => row[0] = String::new(),
                (Break::BadDate, _) => row[3] = "2023-02-30".into(),
                (Break::BadBool, _) => row[5] = "maybe".into(),
                (Break::BadCategory, _) => row[2] = "teacher".into(),
                (Break::UnknownOrg, _) => row[1] = "P404".into(),
                (Break::Short, _) => row.truncate(4),
            }
            if office && matches!(b, Break::None) {
                // Cyrillic, so the office file really is windows-1251.
                row[2] = "работающий".into();
            }
            members.rows.push(row);
        }
        let form = if office { OFFICE } else { PLAIN };
        let snap = write_snapshot(tmp.path(), AS_OF, &t, form);
        let wh = tmp.path().join("wh");
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let manifest = rt.block_on(run_ingest(&snap, &wh)).unwrap();
        let c = &manifest.tables["members"];
        let encoding = manifest.files.iter().find(|f| f.table == "members").unwrap().encoding.clone();
        assert_eq!(encoding.as_deref(), Some(if office { "windows-1251" } else { "utf-8" }), "seed {seed}");
        assert_eq!(c.rows_read, plan.len() as u64, "seed {seed}");
        assert_eq!(c.rows_read, c.rows_loaded + c.rows_rejected, "seed {seed}");
        assert_eq!(c.rows_loaded, expected_loaded, "seed {seed}");
        assert_eq!(read_table(&wh, "members", AS_OF).num_rows() as u64, c.rows_loaded, "seed {seed}");
        assert_eq!(read_rejects(&wh, "members", AS_OF).len() as u64, c.rows_rejected, "seed {seed}");
        assert_eq!(c.rejects_by_reason.values().sum::<u64>(), c.rows_rejected, "seed {seed}");
        assert!(c.rows_rejected > 0, "seed {seed}: the plan broke no row");
    }
}
