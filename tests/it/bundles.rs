//! Bundles (`bundles/<D>/district-<code>.zip`, `region-<code>.zip`): each
//! holds its own pages, documents, workbook, worklists and rows of the marts;
//! it opens offline (every link resolves inside it); and it holds no name,
//! no identifier and no row of an organization of a region outside it. The
//! union's and the district's totals are allowed, as context.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use aho_corasick::{AhoCorasick, MatchKind};
use arrow::array::{Array, StringArray};
use sha2::{Digest, Sha256};

use crate::common::*;

/// A zip's files by name.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().unwrap().to_string(), content);
    }
    files
}

/// Checks that an XML part is well-formed (tags balanced, names matched).
fn well_formed(xml: &str, name: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{name}: {e}")) {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "{name}: unbalanced");
}

/// The text of every file a person or a program reads, by name: HTML, CSV
/// and JSON as written; each XML part of an XLSX or DOCX, well-formed,
/// unescaped. Parquet files are checked by their rows instead.
fn texts(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, bytes) in files {
        if name.ends_with(".xlsx") || name.ends_with(".docx") {
            for (part, xml) in unzip(bytes) {
                if part.ends_with(".xml") || part.ends_with(".rels") {
                    let xml = String::from_utf8(xml).unwrap();
                    well_formed(&xml, &format!("{name}/{part}"));
                    out.push((format!("{name}/{part}"), unescape(&xml)));
                }
            }
        } else if !name.ends_with(".parquet") {
            let text = String::from_utf8(bytes.clone()).unwrap_or_else(|_| panic!("{name} is not UTF-8"));
            out.push((name.clone(), if name.ends_with(".html") { unescape(&text) } else { text }));
        }
    }
    out
}

/// Every organization's name and id on the registry of `date`, with its region.
fn organizations(wh: &Path, date: &str) -> Vec<(String, String, String)> {
    let orgs = read_table(wh, "organizations", date);
    let ids = column_text(&orgs, "org_id");
    let names = column_text(&orgs, "name");
    let regions = column_text(&orgs, "region_code");
    ids.into_iter().zip(names).zip(regions).map(|((id, name), region)| (id, name, region)).collect()
}

/// Finds, in any text, the names and ids of organizations outside a scope.
struct Scanner {
    automaton: AhoCorasick,
    /// Per pattern: the regions whose organizations have that name or id.
    regions: Vec<BTreeSet<String>>,
    patterns: Vec<String>,
}

impl Scanner {
    fn new(orgs: &[(String, String, String)]) -> Scanner {
        let mut by_pattern: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (id, name, region) in orgs {
            for pattern in [id, name] {
                // Short names could be any text's words.
                if pattern.chars().count() >= 5 {
                    by_pattern.entry(pattern.as_str()).or_default().insert(region.clone());
                }
            }
        }
        let patterns: Vec<String> = by_pattern.keys().map(|p| p.to_string()).collect();
        // Leftmost-longest: «… № 123» of the scope is not read as «… № 12» of another.
        let automaton = AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&patterns).unwrap();
        Scanner { automaton, regions: by_pattern.into_values().collect(), patterns }
    }

    /// Names and ids in `text` that only organizations of regions outside
    /// `scope` have (a name shared with one of the scope's is its own).
    fn outside(&self, text: &str, scope: &BTreeSet<String>) -> Vec<String> {
        let mut found = Vec::new();
        for m in self.automaton.find_iter(text) {
            // «P02-12» is not «P02-123»: a match ends where a number does.
            if text[m.end()..].chars().next().is_some_and(|c| c.is_ascii_digit()) {
                continue;
            }
            let regions = &self.regions[m.pattern().as_usize()];
            if regions.is_disjoint(scope) {
                found.push(self.patterns[m.pattern().as_usize()].clone());
            }
        }
        found
    }

    /// How many names or ids of the scope's own organizations `text` holds.
    fn inside(&self, text: &str, scope: &BTreeSet<String>) -> usize {
        self.automaton.find_iter(text).filter(|m| !self.regions[m.pattern().as_usize()].is_disjoint(scope)).count()
    }
}

/// `a/b/../c.html` → `a/c.html`; `None` if it climbs out of the root.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Every local link of every page of a bundle resolves to one of its files.
fn assert_links_resolve(bundle: &str, files: &BTreeMap<String, Vec<u8>>) -> usize {
    let mut checked = 0;
    for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".html")) {
        let html = String::from_utf8(bytes.clone()).unwrap();
        let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
        for link in links(&html) {
            assert!(!link.contains("://") && !link.starts_with("//"), "{bundle} {name}: {link} needs the network");
            let path = link.split('#').next().unwrap();
            if path.is_empty() {
                continue;
            }
            let target = normalise(&format!("{dir}/{path}"));
            assert!(
                target.as_ref().is_some_and(|t| files.contains_key(t)),
                "{bundle} {name}: link {link} resolves to nothing in the bundle"
            );
            checked += 1;
        }
    }
    checked
}

/// Region codes of every Parquet mart file of a bundle: all in `scope`.
fn assert_rows_in_scope(bundle: &str, files: &BTreeMap<String, Vec<u8>>, scope: &BTreeSet<String>) -> usize {
    let mut rows = 0;
    for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".parquet")) {
        let (_, batches) = reestr::warehouse::decode_parquet(bytes::Bytes::from(bytes.clone())).unwrap();
        for batch in batches {
            let Some(column) = batch.column_by_name("region_code") else { continue };
            let column = arrow::compute::cast(column, &arrow::datatypes::DataType::Utf8).unwrap();
            let codes = column.as_any().downcast_ref::<StringArray>().unwrap();
            for i in (0..codes.len()).filter(|i| !codes.is_null(*i)) {
                assert!(scope.contains(codes.value(i)), "{bundle} {name}: a row of region {}", codes.value(i));
                rows += 1;
            }
        }
    }
    rows
}

/// The regions of each district bundle and of a sample of region bundles.
fn scopes() -> Vec<(String, BTreeSet<String>)> {
    let reference = reestr::contract::RegionReference::embedded();
    let mut scopes = Vec::new();
    for d in &reference.districts {
        let regions: BTreeSet<String> = reference
            .regions
            .iter()
            .filter(|r| r.district_code == d.district_code)
            .map(|r| r.region_code.clone())
            .collect();
        // The first region of each district, as a sample of the region bundles.
        let first = regions.iter().next().unwrap().clone();
        scopes.push((format!("district-{}", d.district_code), regions));
        scopes.push((format!("region-{first}"), BTreeSet::from([first])));
    }
    scopes
}

/// At the union's full size: every district bundle and one region bundle per
/// district is unzipped; its links resolve inside it, its Parquet rows are
/// its regions', and no file (HTML, CSV, JSON, every XML part of its XLSX and
/// DOCX) holds a name or id of an organization of a region outside it. The
/// same scanner finds those of other regions on the union's own pages, and
/// its own in the bundle, so it can find what it looks for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundle_holds_its_own_part_and_nothing_outside() {
    let wh = full_demo().await;
    let _reading = FULL_DEMO_MARTS.read().await;
    let scanner = Scanner::new(&organizations(wh, D));
    let build: serde_json::Value = serde_json::from_slice(&std::fs::read(wh.join("site/build.json")).unwrap()).unwrap();
    let listed: HashMap<String, (u64, String)> = build["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let file = b["file"].as_str().unwrap().to_string();
            (file, (b["bytes"].as_u64().unwrap(), b["sha256"].as_str().unwrap().to_string()))
        })
        .collect();
    assert_eq!(listed.len(), 8 + 85, "build.json lists a bundle per district and region");

    for (bundle, scope) in scopes() {
        let file = format!("bundles/{D}/{bundle}.zip");
        let bytes = std::fs::read(wh.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(listed.get(&file), Some(&(bytes.len() as u64, hex::encode(Sha256::digest(&bytes)))), "{file}");
        let files = unzip(&bytes);
        for must in ["index.html", "assets/style.css", &format!("exports/kpi-{D}.xlsx")] {
            assert!(files.contains_key(must), "{bundle}: {must} missing");
        }
        for region in &scope {
            assert!(files.contains_key(&format!("regions/{region}.html")), "{bundle}: page of {region}");
            assert!(files.contains_key(&format!("briefings/regions/{region}.docx")), "{bundle}: summary of {region}");
        }
        let pages = files.keys().filter(|f| f.starts_with("regions/") && f.ends_with(".html")).count();
        assert_eq!(pages, scope.len(), "{bundle}: the pages of its regions, no other");
        if let Some(code) = bundle.strip_prefix("district-") {
            assert!(files.contains_key(&format!("districts/{code}.html")), "{bundle}: its district page");
            assert!(files.contains_key(&format!("briefings/districts/{code}.docx")), "{bundle}: its briefing");
            assert!(files.keys().filter(|f| f.starts_with("districts/")).count() == 1, "{bundle}: one district");
        } else {
            assert!(!files.keys().any(|f| f.starts_with("districts/")), "{bundle}: no district page");
        }
        assert!(assert_links_resolve(&bundle, &files) > 20, "{bundle}: links checked");
        assert!(assert_rows_in_scope(&bundle, &files, &scope) > 0, "{bundle}: rows of its regions");
        let mut own = 0;
        for (name, text) in texts(&files) {
            let found = scanner.outside(&text, &scope);
            assert!(
                found.is_empty(),
                "{bundle} {name} names organizations outside it: {:?}",
                &found[..found.len().min(5)]
            );
            own += scanner.inside(&text, &scope);
        }
        assert!(own > 0, "{bundle}: its own organizations are named in it");
    }

    // The scanner finds other regions' organizations where they are: on the
    // union's quality page, the worst regions' territorial organizations, and
    // in a district bundle scanned as if it were another district's.
    let union = std::fs::read_to_string(wh.join("exports").join(D).join("csv/worklist.csv")).unwrap();
    assert!(!scanner.outside(&union, &BTreeSet::from(["77".to_string()])).is_empty());
    let cfd = unzip(&std::fs::read(wh.join(format!("bundles/{D}/district-CFD.zip"))).unwrap());
    let worklist = String::from_utf8(cfd[&"exports/csv/worklist.csv".to_string()].clone()).unwrap();
    assert!(!scanner.outside(&worklist, &BTreeSet::from(["02".to_string()])).is_empty());
}

/// The workbook of a district's bundle has the district's regions and no
/// other, opens in a reader library, and its region page's worklist link
/// points at the bundle's own worklist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_bundle_s_workbook_has_only_its_regions() {
    use calamine::{Reader, Xlsx};
    let tmp = tempfile::tempdir().unwrap();
    let wh = published(tmp.path(), &[C, D], |_| {}).await;
    let regions = read_mart(&wh, "regions", D);
    let codes = column_text(&regions, "region_code");
    let districts = column_text(&regions, "federal_district");
    let district = districts[codes.iter().position(|c| c == "23").unwrap()].clone();
    let own: BTreeSet<&String> =
        codes.iter().zip(&districts).filter(|(_, d)| **d == district).map(|(c, _)| c).collect();
    assert!(own.len() > 1 && own.len() < codes.len(), "a district of some regions, not all");

    let files = unzip(&std::fs::read(wh.join(format!("bundles/{D}/district-{district}.zip"))).unwrap());
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(files[&format!("exports/kpi-{D}.xlsx")].clone())).unwrap();
    let sheet = book.worksheet_range("Регионы").unwrap();
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    let code_column = header.iter().position(|h| h.contains("Код")).unwrap_or_else(|| panic!("{header:?}"));
    let in_book: BTreeSet<String> = sheet.rows().skip(1).map(|r| r[code_column].to_string()).collect();
    assert_eq!(in_book, own.iter().map(|c| c.to_string()).collect::<BTreeSet<_>>(), "the district's regions only");
    let union = book.worksheet_range("Профсоюз").unwrap();
    assert!(union.rows().count() > 10, "the union's figures stay, as context");

    let index = visible_text(&String::from_utf8(files["index.html"].clone()).unwrap());
    assert!(index.contains("Материалы для секретаря Центрального Совета Профсоюза в федеральном округе по данным"));
    assert!(!index.contains("г..") && !index.contains("  "), "{index}");
    let page = String::from_utf8(files["regions/23.html"].clone()).unwrap();
    let worklist = links(&page).into_iter().find(|l| l.contains("worklists/")).expect("a worklist link");
    assert_eq!(worklist, "../exports/worklists/23.xlsx");
    assert!(files.contains_key("exports/worklists/23.xlsx"));
    // The site's own page of the region links to the bundle beside it.
    let site_page = std::fs::read_to_string(wh.join("site/regions/23.html")).unwrap();
    assert!(links(&site_page).contains(&format!("../../bundles/{D}/region-23.zip")));
}

/// `--no-bundles` publishes everything else; the site lists no bundle, and
/// the date's bundles of an earlier publish, which would no longer match its
/// marts, are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_bundles_leaves_them_out() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = published(tmp.path(), &[D], |_| {}).await;
    let folder = wh.join("bundles").join(D);
    let zips = std::fs::read_dir(&folder).unwrap().count();
    assert_eq!(zips, 8 + 85, "a bundle per district and region, nothing else in the folder");

    let out = reestr().args(["-q", "publish", "--no-bundles", "--warehouse"]).arg(&wh).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let build: serde_json::Value = serde_json::from_slice(&std::fs::read(wh.join("site/build.json")).unwrap()).unwrap();
    assert_eq!(build["bundles"].as_array().map(Vec::len), Some(0), "no bundle listed");
    let page = std::fs::read_to_string(wh.join("site/regions/23.html")).unwrap();
    assert!(!page.contains("bundles/"), "no link to a bundle");
    assert!(!folder.exists(), "the earlier bundles of {D} are removed");
    assert!(wh.join(format!("exports/{D}/kpi-{D}.xlsx")).exists());
}
