//! Object storage, for real: an S3-compatible server on loopback (moto,
//! started by `.ci/run`, whose endpoint comes in `REESTR_TEST_S3_ENDPOINT`;
//! without it the test starts `moto_server` itself). `run` reads a snapshot
//! from one bucket and writes the warehouse into another; the marts read back
//! from the bucket equal those of the same run on local disk.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::common::*;

/// The endpoint, and the server when this test started it.
fn server() -> (String, Option<Child>) {
    if let Ok(endpoint) = std::env::var("REESTR_TEST_S3_ENDPOINT") {
        return (endpoint, None);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("no S3 server: set REESTR_TEST_S3_ENDPOINT or install moto_server (pip install 'moto[server]'): {e}")
        });
    let endpoint = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (endpoint, Some(child));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("moto_server did not start on {endpoint}");
}

/// `PUT /<bucket>`: moto accepts unsigned requests.
fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    write!(stream, "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "creating bucket {bucket}: {reply}");
}

fn bucket(endpoint: &str, name: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_bucket_name(name)
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap(),
    )
}

fn aws_env(command: &mut Command, endpoint: &str) {
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_reads_a_bucket_and_writes_the_warehouse_to_another() {
    let (endpoint, mut started) = server();
    let tmp = tempfile::tempdir().unwrap();
    let run_id = std::process::id();
    let (inbox, warehouse) = (format!("inbox-{run_id}"), format!("warehouse-{run_id}"));
    create_bucket(&endpoint, &inbox);
    create_bucket(&endpoint, &warehouse);

    let local = write_snapshot(tmp.path(), D, &marts_snapshot(), OFFICE);
    let snapshots = bucket(&endpoint, &inbox);
    for entry in std::fs::read_dir(&local).unwrap().flatten() {
        let key = ObjectPath::from(format!("daily/{D}/{}", entry.file_name().to_string_lossy()));
        snapshots.put(&key, std::fs::read(entry.path()).unwrap().into()).await.unwrap();
    }

    // A lease left by a run killed long ago is taken over.
    let store = bucket(&endpoint, &warehouse);
    let lease = |expires: &str| {
        format!("{{\"pid\":1,\"host\":\"old\",\"since\":\"2020-01-01T00:00:00Z\",\"expires\":\"{expires}\"}}")
            .into_bytes()
    };
    store.put(&ObjectPath::from("wh/_lock.json"), lease("2020-01-01T02:00:00Z").into()).await.unwrap();
    let remote_run = || {
        let mut remote = Command::new(env!("CARGO_BIN_EXE_reestr"));
        remote.args([
            "-q",
            "run",
            "--snapshot",
            &format!("s3://{inbox}/daily/{D}"),
            "--warehouse",
            &format!("s3://{warehouse}/wh"),
        ]);
        aws_env(&mut remote, &endpoint);
        remote.output().unwrap()
    };
    let out = remote_run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("test"), "no credential in the output");

    let on_disk = tmp.path().join("wh");
    let out = Command::new(env!("CARGO_BIN_EXE_reestr"))
        .args(["-q", "run", "--snapshot"])
        .arg(&local)
        .arg("--warehouse")
        .arg(&on_disk)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    for (mart, _) in reestr::compute::MARTS {
        let key = ObjectPath::from(format!("wh/marts/{mart}/as_of={D}/{mart}.csv"));
        let remote = store.get(&key).await.unwrap_or_else(|e| panic!("{key}: {e}")).bytes().await.unwrap();
        let local = std::fs::read(on_disk.join(format!("marts/{mart}/as_of={D}/{mart}.csv"))).unwrap();
        assert_eq!(remote.as_ref(), local.as_slice(), "{mart}: the same marts from the bucket as from disk");
    }
    for published in
        ["wh/site/index.html", &format!("wh/exports/{D}/kpi-{D}.xlsx"), &format!("wh/briefings/{D}/briefing.docx")]
    {
        store.head(&ObjectPath::from(published)).await.unwrap_or_else(|e| panic!("{published}: {e}"));
    }
    // The bundles are uploaded too, each as build.json lists it.
    let build = store.get(&ObjectPath::from("wh/site/build.json")).await.unwrap().bytes().await.unwrap();
    let build: serde_json::Value = serde_json::from_slice(&build).unwrap();
    let bundles = build["bundles"].as_array().unwrap();
    assert_eq!(bundles.len(), 8 + 85);
    for bundle in bundles.iter().step_by(10) {
        let key = ObjectPath::from(format!("wh/{}", bundle["file"].as_str().unwrap()));
        let zip = store.get(&key).await.unwrap_or_else(|e| panic!("{key}: {e}")).bytes().await.unwrap();
        assert_eq!(zip.len() as u64, bundle["bytes"].as_u64().unwrap(), "{key}");
        let sha = <sha2::Sha256 as sha2::Digest>::digest(&zip);
        assert_eq!(hex::encode(sha), bundle["sha256"].as_str().unwrap(), "{key}");
    }
    assert!(store.head(&ObjectPath::from("wh/_lock.json")).await.is_err(), "the lease is released");
    assert_no_staging(&store).await;

    // A live lease (another host's run) refuses this one.
    store.put(&ObjectPath::from("wh/_lock.json"), lease("2999-01-01T00:00:00Z").into()).await.unwrap();
    let out = remote_run();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by reestr process 1 on old"));
    store.head(&ObjectPath::from("wh/_lock.json")).await.expect("another's lease is left alone");
    if let Some(child) = started.as_mut() {
        let _ = child.kill();
    }
}

async fn assert_no_staging(store: &Arc<dyn ObjectStore>) {
    use futures::TryStreamExt;
    let keys: Vec<String> = store
        .list(Some(&ObjectPath::from("wh/_staging")))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    assert!(keys.is_empty(), "staging left behind: {keys:?}");
}
