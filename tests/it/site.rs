//! The published site: every page there, Russian number formats, links that
//! resolve inside the site, nothing from the network, hostile names shown as
//! text, atomic replacement, and a real browser opening it from file://.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use reestr::contract::RegionReference;

use crate::common::*;

const HOSTILE: &str = "<script>alert(\"x\")</script>";

/// The marts snapshot of C and D, with a hostile name on an organization that
/// fails a check (P5 has no members) and an official count large enough to
/// be grouped; marts of both dates computed, the site of D published.
async fn small_site(dir: &Path) -> PathBuf {
    published(dir, &[C, D], |tables| {
        rename_org(tables, "P5", HOSTILE);
        tables.get_mut("official_stats").unwrap().set(0, "members", "12345");
    })
    .await
}

fn pages(site: &Path) -> BTreeMap<String, String> {
    tree(site)
        .into_iter()
        .filter(|(name, _)| name.ends_with(".html"))
        .map(|(name, bytes)| (name, String::from_utf8(bytes).unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_has_every_page_in_russian_with_links_that_resolve() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = small_site(tmp.path()).await;
    let site = wh.join("site");
    let pages = pages(&site);

    let reference = RegionReference::embedded();
    for page in [
        "index.html",
        "coverage.html",
        "reports.html",
        "profcards.html",
        "online.html",
        "quality.html",
        "monitoring.html",
    ] {
        assert!(pages.contains_key(page), "{page} missing");
    }
    for d in &reference.districts {
        assert!(pages.contains_key(&format!("districts/{}.html", d.district_code)), "district {}", d.district_code);
    }
    for r in &reference.regions {
        assert!(pages.contains_key(&format!("regions/{}.html", r.region_code)), "region {}", r.region_code);
    }
    assert_eq!(pages.len(), 7 + reference.districts.len() + reference.regions.len());

    // Russian formats: a grouped official count, a comma percentage, a date in words.
    let index = &pages["index.html"];
    assert!(index.contains("12\u{a0}345"), "official members grouped with a no-break space");
    assert!(index.contains("21 ноября 2023\u{a0}г."), "date in words");
    // 4 members on record at D of 12 345 official.
    assert!(
        index.contains("0,0\u{a0}%") || index.contains("0,1\u{a0}%"),
        "coverage with a decimal comma and a spaced sign"
    );

    for (name, html) in &pages {
        assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
        assert!(html.contains("lang=\"ru\""), "{name}");
        // Provenance on every page.
        assert!(html.contains("Снимок реестра на 21 ноября 2023"), "{name}: provenance");
        assert!(html.contains("SHA-256 файлов снимка"), "{name}: checksum");
        let dir = site.join(name).parent().unwrap().to_path_buf();
        for link in links(html) {
            assert!(!link.contains("://") && !link.starts_with("//"), "{name} refers to the network: {link}");
            let path = link.split('#').next().unwrap();
            if path.is_empty() {
                continue;
            }
            let target = dir.join(path);
            assert!(target.exists(), "{name}: link {link} resolves to nothing");
            let resolved = target.canonicalize().unwrap();
            if path.contains("exports/") {
                // A region's worklist, written beside the site by the exports.
                assert!(path.contains(&format!("exports/{D}/worklists/")), "{name}: {link}");
            } else if path.contains("bundles/") {
                // A district's or region's bundle, published beside the site.
                assert!(path.contains(&format!("bundles/{D}/")) && path.ends_with(".zip"), "{name}: {link}");
            } else {
                assert!(resolved.starts_with(site.canonicalize().unwrap()), "{name}: {link} leaves the site");
            }
        }
    }
    let css = std::fs::read_to_string(site.join("assets/style.css")).unwrap();
    assert!(!css.contains("@import") && !css.contains("url("), "the stylesheet loads nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_organization_name_is_shown_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = small_site(tmp.path()).await;
    let region = std::fs::read_to_string(wh.join("site/regions/23.html")).unwrap();
    assert!(
        region.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2f;script&gt;"),
        "the name is on the page, escaped"
    );
    assert!(!region.contains(HOSTILE));
    assert!(visible_text(&region).contains(HOSTILE), "a reader sees the name as written");
    for (name, html) in pages(&wh.join("site")) {
        assert!(!html.contains("<script>alert"), "{name}");
        // The only script is the site's own.
        assert_eq!(html.matches("<script").count(), 1, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_publish_leaves_the_last_site_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = small_site(tmp.path()).await;
    let before = tree(&wh.join("site"));

    std::fs::remove_file(wh.join(format!("marts/regions/as_of={D}/regions.parquet"))).unwrap();
    let err = job(&wh).await.publish(None).await.unwrap_err();
    assert!(err.to_string().contains("regions"), "{err}");
    assert_eq!(tree(&wh.join("site")), before, "the old site is untouched");
    let leftovers: Vec<_> = std::fs::read_dir(&wh).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(leftovers.iter().all(|n| !n.to_string_lossy().starts_with(".publish-")), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_of_a_region_page_is_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = small_site(tmp.path()).await;
    let html = std::fs::read_to_string(wh.join("site/regions/23.html")).unwrap();
    // The footer holds the build time; the page's content is what is compared.
    let main = &html[html.find("<main>").unwrap()..html.find("</main>").unwrap()];
    insta::assert_snapshot!(visible_text(main));
}

/// Chromium, headless, opens the index, a region page and the coverage page
/// from file://: no console message (a script error or a missing file would
/// log one), the site's script made every sortable table sortable (the pages
/// that have one must have one), a click on a header sorts the rows, and a
/// screenshot is saved for a person to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_opens_in_a_browser_without_errors() {
    let Some(browser) = browser() else {
        assert!(
            std::env::var_os("REESTR_SKIP_BROWSER").is_some(),
            "no Chromium found: install it (apt install chromium) or set REESTR_SKIP_BROWSER=1 to skip this test"
        );
        eprintln!("SKIPPED: no Chromium (REESTR_SKIP_BROWSER is set)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let wh = small_site(tmp.path()).await;
    let site = wh.join("site");
    let shots = std::env::temp_dir().join("reestr-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tmp.path().join("profile");
    let chromium = |page: &Path, extra: &[String]| {
        let out = Command::new(&browser)
            .args([
                "--headless=new".to_string(),
                "--no-sandbox".into(),
                "--disable-gpu".into(),
                "--no-first-run".into(),
                "--enable-logging=stderr".into(),
                "--v=0".into(),
                format!("--user-data-dir={}", profile.display()),
            ])
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{}: chromium failed: {log}", page.display());
        (String::from_utf8_lossy(&out.stdout).into_owned(), log)
    };
    // (page, how many sortable tables it has at least)
    for (page, sortable) in [("index.html", 1), ("regions/23.html", 0), ("coverage.html", 1), ("monitoring.html", 1)] {
        let (dom, log) = chromium(&site.join(page), &["--dump-dom".into()]);
        let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
        assert!(console.is_empty(), "{page}: console messages: {console:#?}");
        let tables = dom.matches("class=\"data sortable").count();
        if sortable == 0 {
            assert_eq!(tables, 0, "{page}: a sortable table appeared; count it here");
        } else {
            assert!(tables >= sortable, "{page}: no sortable table found");
        }
        assert_eq!(
            dom.matches("data-sortable=\"ready\"").count(),
            tables,
            "{page}: sort.js did not prepare every sortable table"
        );
        let shot = shots.join(page.replace('/', "-").replace(".html", ".png"));
        chromium(&site.join(page), &["--window-size=1280,1800".into(), format!("--screenshot={}", shot.display())]);
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{page}: screenshot is empty");
        eprintln!("screenshot of {page}: {}", shot.display());
    }

    // A click on the first header (№) of the coverage page's table sorts its
    // rows descending: the last of the 85 regions comes first. The click is
    // made by a copy of the page with one more script after the site's own.
    let coverage = std::fs::read_to_string(site.join("coverage.html")).unwrap();
    let click = "<script>document.querySelector(\"table.sortable\").tHead.rows[0].cells[0].click();</script></body>";
    let copy = site.join("coverage-click.html");
    std::fs::write(&copy, coverage.replace("</body>", click)).unwrap();
    let (dom, log) = chromium(&copy, &["--dump-dom".into()]);
    assert!(!log.lines().any(|l| l.contains("CONSOLE")), "the click logged: {log}");
    let table = &dom[dom.find("class=\"data sortable").expect("the coverage page has a sortable table")..];
    assert!(
        table[..table.find("</thead>").unwrap()].contains("aria-sort=\"descending\""),
        "the header is marked sorted"
    );
    let body = &table[table.find("<tbody>").unwrap()..];
    let first = &body[body.find("data-v=\"").unwrap() + "data-v=\"".len()..];
    assert_eq!(&first[..first.find('"').unwrap()], "85", "the rows were not sorted by the click");
}

fn browser() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome", "chrome"].iter().find_map(|name| {
        std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(name)).find(|p| p.is_file())
    })
}
