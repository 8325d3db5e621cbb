//! Notifications through the real binary: a loopback HTTP server records
//! what the webhook receives and a shell command appends what it gets on
//! stdin, while `schedule --once` goes through nights that are good, fail
//! and are good again. Only a change of state is told; an undeliverable
//! notification is logged and the run still succeeds.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

/// One request the loopback server received.
#[derive(Debug, Clone)]
struct Request {
    line: String,
    /// Header names in lower case.
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A webhook on loopback: every request is recorded and answered 200.
struct Hook {
    url: String,
    received: Arc<Mutex<Vec<Request>>>,
}

impl Hook {
    fn start() -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        // Lives as long as the test binary: it only ever waits on accept.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if let Some(request) = read_request(&mut stream) {
                    log.lock().unwrap().push(request);
                }
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        Hook { url, received }
    }

    fn requests(&self) -> Vec<Request> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { line: line.trim_end().to_string(), headers, body })
}

/// What a night's snapshot is like.
#[derive(Debug, Clone, Copy)]
enum Night {
    Ok,
    /// The members file's header is wrong: the snapshot fails.
    Failed,
    /// Half the members are missing from the export: the gate holds it.
    Held,
}

fn write_night(inbox: &Path, date: &str, night: Night) {
    let mut tables = marts_snapshot();
    match night {
        Night::Ok => {}
        Night::Failed => tables.get_mut("members").unwrap().header[0] = "member_code".into(),
        Night::Held => {
            let members = &mut tables.get_mut("members").unwrap().rows;
            members.truncate(members.len() / 2);
        }
    }
    write_snapshot(inbox, date, &tables, PLAIN);
}

const SITE: &str = "https://reestr.example.org/";
const TOKEN: &str = "test-token-hunter2";

/// A notification as (as_of, status, previous_status).
fn summary(v: &serde_json::Value) -> (String, String, String) {
    let text = |k: &str| v[k].as_str().unwrap_or("null").to_string();
    (text("as_of"), text("status"), text("previous_status"))
}

/// One `schedule --once`: the nights added to the inbox before it, whether
/// it succeeds, and the notifications it sends as (as_of, status, previous).
struct Step {
    nights: &'static [(&'static str, Night)],
    succeeds: bool,
    told: &'static [(&'static str, &'static str, &'static str)],
}

#[test]
fn only_a_change_of_state_is_told_to_the_webhook_and_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    let got = tmp.path().join("command.jsonl");
    let hook = Hook::start();
    let config = tmp.path().join("reestr.toml");
    std::fs::write(
        &config,
        format!(
            "inbox = \"{}\"\nwarehouse = \"{}\"\n\n[notify]\nwebhook = \"{}\"\ncommand = [\"sh\", \"-c\", \"cat >> '{}'; echo >> '{}'\"]\nsite_url = \"{SITE}\"\ntimeout_seconds = 20\n",
            inbox.display(),
            wh.display(),
            hook.url,
            got.display(),
            got.display(),
        ),
    )
    .unwrap();

    let steps = [
        // A first good night and a good one after it: nothing to tell.
        Step { nights: &[("2023-11-19", Night::Ok), ("2023-11-20", Night::Ok)], succeeds: true, told: &[] },
        // ok → failed → ok: two.
        Step {
            nights: &[("2023-11-21", Night::Failed), ("2023-11-22", Night::Ok)],
            succeeds: false,
            told: &[("2023-11-21", "failed", "ok"), ("2023-11-22", "ok", "failed")],
        },
        // The failing date retried (failed → failed) and a good night after a good one: nothing.
        Step { nights: &[("2023-11-23", Night::Ok)], succeeds: false, told: &[] },
        // ok → held → ok: two (the held night is compared with the last good one).
        Step {
            nights: &[("2023-11-24", Night::Held), ("2023-11-25", Night::Ok)],
            succeeds: false,
            told: &[("2023-11-24", "held", "ok"), ("2023-11-25", "ok", "held")],
        },
    ];
    let mut told = 0;
    for Step { nights, succeeds, told: expected } in steps {
        for (date, night) in nights {
            write_night(&inbox, date, *night);
        }
        let out = reestr()
            .args(["schedule", "--once", "--config"])
            .arg(&config)
            .env("REESTR_NOTIFY_TOKEN", TOKEN)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.success(), succeeds, "{nights:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "the token is never logged: {stderr}");

        let requests = hook.requests();
        let new = &requests[told..];
        let bodies: Vec<serde_json::Value> = new.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
        let expected: Vec<(String, String, String)> =
            expected.iter().map(|(d, s, p)| (d.to_string(), s.to_string(), p.to_string())).collect();
        assert_eq!(bodies.iter().map(summary).collect::<Vec<_>>(), expected, "{nights:?}: {stderr}");
        told = requests.len();

        for (request, body) in new.iter().zip(&bodies) {
            assert_eq!(request.line, "POST /hook HTTP/1.1");
            assert_eq!(request.headers["content-type"], "application/json");
            assert_eq!(request.headers["authorization"], format!("Bearer {TOKEN}"), "the token from the environment");
            if body["status"] == "held" {
                assert_eq!(body["rule"], "members_drop", "the worst rule that fired: {body}");
                assert!(body["message"].as_str().unwrap().contains("members fell from"), "{body}");
            } else {
                assert!(body["rule"].is_null(), "a rule only when held: {body}");
            }
            assert_eq!(body["link"], SITE);
            assert_eq!(body["warehouse"], wh.to_str().unwrap());
            assert_eq!(body["engine_version"], reestr::VERSION);
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(body["as_of"].as_str().unwrap()), "{message}");
            if body["status"] == "failed" {
                assert!(message.contains("member"), "the error names what is wrong: {message}");
            }
            let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                ["as_of", "engine_version", "link", "message", "previous_status", "rule", "status", "warehouse"],
                "only these fields, no personal data"
            );
        }
    }
    assert_eq!(told, 4, "four notifications in all");

    // The command got the very JSON the webhook got, one per line.
    let lines: Vec<Vec<u8>> =
        std::fs::read(&got).unwrap().split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
    assert_eq!(lines, hook.requests().into_iter().map(|r| r.body).collect::<Vec<_>>());
}

/// `run` notifies when the environment says where. A webhook on a closed
/// port and a command that hangs are logged and given up at the timeout; the
/// run succeeds all the same.
#[test]
fn an_undeliverable_notification_is_logged_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    write_night(&inbox, "2023-11-20", Night::Failed);
    write_night(&inbox, "2023-11-21", Night::Ok);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let run = |date: &str| -> Output {
        reestr()
            .args(["run", "--snapshot"])
            .arg(inbox.join(date))
            .arg("--warehouse")
            .arg(&wh)
            .env("REESTR_NOTIFY_WEBHOOK", format!("http://{closed}/hook?key=hunter2"))
            .env("REESTR_NOTIFY_TOKEN", TOKEN)
            .env("REESTR_NOTIFY_COMMAND", "sleep 60")
            .env("REESTR_NOTIFY_TIMEOUT_SECONDS", "1")
            .output()
            .unwrap()
    };

    let out = run("2023-11-20");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "the snapshot's own failure: {stderr}");
    assert!(stderr.contains("cannot deliver the failed notification of 2023-11-20"), "{stderr}");

    let started = Instant::now();
    let out = run("2023-11-21");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "an undelivered notification does not fail the run: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(50), "the hanging command was stopped at its timeout");
    assert!(
        stderr.contains(&format!("cannot deliver the ok notification of 2023-11-21 to the webhook at http://{closed}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot deliver the ok notification of 2023-11-21 to sh: it did not finish within 1 s"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "neither the URL's key nor the token is logged: {stderr}");
    assert!(wh.join("site/index.html").exists(), "published all the same");
}
