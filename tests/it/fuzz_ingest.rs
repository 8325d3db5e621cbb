//! Seeded fuzzing of ingest: a small valid snapshot, in each input form
//! (plain UTF-8 CSV, a windows-1251 office export with `;`, Parquet), has one
//! of its files mutated — bits flipped, bytes inserted, deleted, duplicated,
//! cut, quotes, separators, newlines and high bytes put in, Parquet footer
//! bytes overwritten — and is ingested. Every case must end in one of two
//! ways: loaded with balanced counts (rows read = loaded + rejected), or
//! refused as a problem of the input naming the file, with the warehouse
//! unchanged. Never a panic, a hang or a leftover staging area. Some of the
//! loaded cases also run the marts and publishing: no accepted row may make a
//! later step fail.
//!
//! `REESTR_FUZZ_CASES` (default 2 000, under a minute) and `REESTR_FUZZ_SEED`
//! run it longer or again: `REESTR_FUZZ_CASES=20000 cargo test --release
//! --test it fuzz_ingest -- --nocapture`. A failing case prints its seed and
//! number, and `REESTR_FUZZ_ONLY=<case>` replays just that one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use reestr::ingest::IngestRequest;
use reestr::nightly::{DateChoices, JobError};

use crate::common::*;

/// A case that takes longer than this is a hang.
const CASE_LIMIT: Duration = Duration::from_secs(120);
/// One loaded case in this many goes on through the marts and publishing.
const FULL_RUN_EVERY: u64 = 12;

/// xorshift64*: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

#[derive(Debug, Clone, Copy)]
enum Form {
    Plain,
    Office,
    Parquet,
}

const FORMS: [Form; 3] = [Form::Plain, Form::Office, Form::Parquet];

/// The snapshot's files in one form: name → bytes.
fn snapshot_files(form: Form) -> BTreeMap<String, Vec<u8>> {
    let mut tables = marts_snapshot();
    // Personal columns the contract drops, as a real export has them.
    let members = tables.get_mut("members").unwrap();
    let n = members.rows.len();
    members.add_column("full_name", &vec!["Иванова Мария Петровна"; n]);
    tables
        .iter()
        .map(|(name, rows)| match form {
            Form::Plain => (format!("{name}.csv"), rows.to_csv(PLAIN)),
            Form::Office => (format!("{name}.csv"), rows.to_csv(OFFICE)),
            Form::Parquet => (format!("{name}.parquet"), typed_parquet(rows, None)),
        })
        .collect()
}

/// One to three mutations of `bytes`, described for the failure message.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, form: Form) -> Vec<String> {
    let mut done = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let len = bytes.len();
        let at = rng.below(len + 1);
        let what = match rng.below(if matches!(form, Form::Parquet) { 11 } else { 10 }) {
            0 if len > 0 => {
                let at = at.min(len - 1);
                bytes[at] ^= 1 << rng.below(8);
                format!("flip a bit at {at}")
            }
            1 => {
                let inserted: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.byte()).collect();
                bytes.splice(at..at, inserted.iter().copied());
                format!("insert {inserted:02X?} at {at}")
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(len);
                bytes.drain(at.min(end)..end);
                format!("delete {at}..{end}")
            }
            3 if len > 0 => {
                let from = rng.below(len);
                let end = (from + 1 + rng.below(200)).min(len);
                let copy = bytes[from..end].to_vec();
                bytes.splice(at..at, copy);
                format!("duplicate {from}..{end} at {at}")
            }
            4 => {
                bytes.truncate(at);
                format!("truncate at {at}")
            }
            5 => {
                bytes.insert(at, b'"');
                format!("quote at {at}")
            }
            6 => {
                let sep = [b',', b';', b'\t'][rng.below(3)];
                bytes.insert(at, sep);
                format!("separator {sep:02X} at {at}")
            }
            7 => {
                let newline: &[u8] = [b"\n".as_slice(), b"\r", b"\r\n", b"\n\n"][rng.below(4)];
                bytes.splice(at..at, newline.iter().copied());
                format!("newline {newline:02X?} at {at}")
            }
            8 => {
                // The bytes that decide encodings: BOMs, UTF-16 marks, NUL,
                // windows-1251's undefined 0x98, lone lead and continuation
                // bytes, and a Cyrillic letter in either encoding.
                let high: &[&[u8]] = &[
                    b"\xFF\xFE",
                    b"\xFE\xFF",
                    b"\xEF\xBB\xBF",
                    b"\x00",
                    b"\x98",
                    b"\xD0",
                    b"\x96",
                    b"\xFF",
                    b"\xC0\xE1",
                    b"\xD0\x96",
                    b"\xF0\x9F\x98",
                    b"\xE0",
                ];
                let chosen = high[rng.below(high.len())];
                bytes.splice(at..at, chosen.iter().copied());
                format!("high bytes {chosen:02X?} at {at}")
            }
            9 if len > 0 => {
                // A long field: a value far beyond what any column holds.
                let at = at.min(len - 1);
                let run = vec![bytes[at]; 1 + rng.below(50_000)];
                let n = run.len();
                bytes.splice(at..at, run);
                format!("repeat byte {at} {n} times")
            }
            10 if len > 8 => {
                // The footer: metadata length, Thrift fields, the magic.
                let footer = len.saturating_sub(600);
                let at = footer + rng.below(len - footer);
                let value = rng.byte();
                bytes[at] = value;
                format!("footer byte {at} = {value:02X}")
            }
            _ => continue,
        };
        done.push(what);
    }
    done
}

/// What one case ended with.
enum Outcome {
    Loaded { balanced: Result<(), String>, full_run: Option<Result<(), String>> },
    Refused { user_error: bool, message: String },
}

#[test]
fn fuzz_ingest() {
    let cases: u64 = std::env::var("REESTR_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let seed: u64 = std::env::var("REESTR_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_2026);
    let only: Option<u64> = std::env::var("REESTR_FUZZ_ONLY").ok().and_then(|v| v.parse().ok());
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let runtime = Arc::new(runtime);

    // A warehouse with C already loaded, so "unchanged" has something to keep.
    let wh = tmp.path().join("wh");
    let c = write_snapshot(&tmp.path().join("c"), C, &marts_snapshot(), PLAIN);
    runtime.block_on(run_ingest(&c, &wh)).expect("the base snapshot loads");
    let originals: Vec<BTreeMap<String, Vec<u8>>> = FORMS.iter().map(|f| snapshot_files(*f)).collect();

    let (mut loaded, mut refused, mut full_runs) = (0u64, 0u64, 0u64);
    // Why files were refused, by form and the start of the message.
    let mut refusals: BTreeMap<String, u64> = BTreeMap::new();
    for case in 0..cases {
        let mut rng = Rng(seed ^ (case + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        let form_index = rng.below(FORMS.len());
        let form = FORMS[form_index];
        let files = &originals[form_index];
        let target = files.keys().nth(rng.below(files.len())).unwrap().clone();
        let mut bytes = files[&target].clone();
        let mutations = mutate(&mut rng, &mut bytes, form);
        if only.is_some_and(|o| o != case) {
            continue;
        }
        let label = format!("case {case} (seed {seed}): {form:?}, {target}: {mutations:?}");

        let snapshot = tmp.path().join(format!("case{case}")).join(D);
        std::fs::create_dir_all(&snapshot).unwrap();
        for (name, original) in files {
            std::fs::write(snapshot.join(name), if *name == target { &bytes } else { original }).unwrap();
        }
        let before = tree(&wh);
        let full = case % FULL_RUN_EVERY == 0;
        let outcome = run_case(&runtime, &snapshot, &wh, full, &label);
        match outcome {
            Outcome::Loaded { balanced, full_run } => {
                loaded += 1;
                if let Err(e) = balanced {
                    panic!("{label}: counts do not balance: {e}");
                }
                if let Some(result) = full_run {
                    full_runs += 1;
                    if let Err(e) = result {
                        panic!("{label}: ingest accepted the snapshot but a later step failed: {e}");
                    }
                }
            }
            Outcome::Refused { user_error, message } => {
                refused += 1;
                // The first words of the reason, column names left out.
                let reason = message.split_once(": ").map_or(message.as_str(), |(_, m)| m);
                let mut words: Vec<&str> = reason.split_whitespace().take(6).collect();
                for i in 1..words.len() {
                    if words[i - 1] == "column" {
                        words[i] = "…";
                    }
                }
                let kind = words.join(" ");
                *refusals.entry(format!("{form:?}: {kind}")).or_default() += 1;
                assert!(user_error, "{label}: refused as if it were not the input's fault: {message}");
                assert!(message.contains(&target), "{label}: the refusal does not name {target}: {message}");
                assert_eq!(tree(&wh), before, "{label}: a refused snapshot changed the warehouse");
            }
        }
        let staging = wh.join(reestr::warehouse::layout::STAGING);
        let left: Vec<_> = std::fs::read_dir(&staging).map(|d| d.flatten().collect()).unwrap_or_default();
        assert!(
            left.is_empty(),
            "{label}: staging left behind: {:?}",
            left.iter().map(|e| e.path()).collect::<Vec<_>>()
        );
        std::fs::remove_dir_all(snapshot.parent().unwrap()).unwrap();
    }
    eprintln!("fuzz_ingest: {cases} cases, {loaded} loaded ({full_runs} run through publishing), {refused} refused");
    for (kind, n) in &refusals {
        eprintln!("  {n:>6}  {kind}");
    }
    assert!(only.is_some() || (loaded > 0 && refused > 0), "the mutations reach both outcomes");
}

/// Ingests (and, when `full`, computes and publishes) on a thread of its own,
/// so a panic is caught and a hang is seen.
fn run_case(runtime: &Arc<tokio::runtime::Runtime>, snapshot: &Path, wh: &Path, full: bool, label: &str) -> Outcome {
    let (send, receive) = mpsc::channel();
    let (runtime, snapshot, wh): (_, PathBuf, PathBuf) = (runtime.clone(), snapshot.into(), wh.into());
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async {
                let job = job(&wh).await;
                let request = IngestRequest { snapshot: snapshot.to_string_lossy().into_owned(), as_of: None };
                match job.ingest(&request).await {
                    Ok(manifest) => {
                        let balanced = manifest.tables.iter().try_for_each(|(table, t)| {
                            if t.rows_read == t.rows_loaded + t.rows_rejected {
                                Ok(())
                            } else {
                                Err(format!(
                                    "{table}: {} read, {} loaded, {} rejected",
                                    t.rows_read, t.rows_loaded, t.rows_rejected
                                ))
                            }
                        });
                        let full_run = if full {
                            let date = manifest.as_of;
                            let steps = async {
                                job.compute(date, DateChoices::default()).await?;
                                job.publish(Some(date)).await?;
                                Ok::<(), JobError>(())
                            };
                            Some(steps.await.map_err(|e| e.to_string()))
                        } else {
                            None
                        };
                        Outcome::Loaded { balanced, full_run }
                    }
                    Err(JobError::Ingest(e)) => {
                        Outcome::Refused { user_error: e.is_user_error(), message: e.to_string() }
                    }
                    Err(e) => Outcome::Refused { user_error: false, message: e.to_string() },
                }
            })
        }));
        let _ = send.send(result.map_err(|panic| {
            panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        }));
    });
    match receive.recv_timeout(CASE_LIMIT) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => panic!("{label}: panicked: {}", panic.unwrap_or_default()),
        Err(_) => panic!("{label}: no result within {} s (a hang)", CASE_LIMIT.as_secs()),
    }
}
