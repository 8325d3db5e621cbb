//! Generated snapshots, plain and office-style, load with exactly the rows
//! broken on purpose rejected, and none of their personal data kept.

use crate::common::*;
use reestr::generate::{GenerateRequest, generate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_snapshots_load_with_only_the_planted_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    for messy in [false, true] {
        let snap = tmp.path().join(format!("{messy}")).join(AS_OF);
        let request = GenerateRequest {
            out: snap.clone(),
            as_of: chrono::NaiveDate::from_ymd_opt(2023, 11, 21).unwrap(),
            scale: 0.01,
            seed: 7,
            messy,
        };
        let stats = generate(&request).unwrap();
        assert!(stats.members > 20_000, "{stats:?}");
        assert_eq!(stats.broken > 0, messy);
        // Deterministic for a seed.
        let again = tmp.path().join(format!("{messy}-again")).join(AS_OF);
        generate(&GenerateRequest { out: again.clone(), ..request.clone() }).unwrap();
        assert_eq!(tree(&snap), tree(&again));

        let wh = tmp.path().join(format!("{messy}-wh"));
        let manifest = run_ingest(&snap, &wh).await.unwrap();
        let rejected: u64 = manifest.tables.values().map(|t| t.rows_rejected).sum();
        assert_eq!(rejected, stats.broken, "{:#?}", manifest.tables);
        assert_eq!(manifest.tables["members"].rows_read, stats.members);
        if messy {
            assert_eq!(manifest.files[0].encoding.as_deref(), Some("windows-1251"));
            assert_eq!(
                manifest.tables["members"].dropped_columns,
                ["full_name", "phone", "card_number", "email", "birth_date"]
            );
            let files = tree(&wh);
            for needle in ["Иванова Мария", "@example.ru", "+7 9"] {
                assert!(
                    files.iter().all(|(_, b)| !b.windows(needle.len()).any(|w| w == needle.as_bytes())),
                    "{needle} leaked"
                );
            }
        }
    }
}
