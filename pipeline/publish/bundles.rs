//! Bundles, `<wh>/bundles/<D>/`: what is sent to a federal district's
//! secretary of the Central Council (`district-<code>.zip`, decree item 7)
//! and to a regional organization's chair (`region-<code>.zip`, items 4–6).
//! Each holds its own part of the outputs and nothing of any region outside
//! it; the union's and its district's totals stay, as context.
//!
//! ```text
//! index.html                          contents: every file below, linked
//! districts/<code>.html, regions/<code>.html, assets/   its pages
//! briefings/…                         its district briefing and regional summaries
//! exports/kpi-<D>.xlsx, exports/worklists/…, exports/{csv,excel,parquet,json}/…
//! ```
//!
//! The pages and exports are made by the site's and the exports' own code
//! from the marts cut to the bundle's rows (`Marts::part`), so a figure of
//! another region cannot slip in through a page that forgot to filter: it is
//! not in the marts they are given. The documents are the briefings
//! published beside, made from the whole marts (they only name the
//! district's or the region's own rows; the tests scan every bundle for
//! names of organizations outside it). Links point only at files inside the
//! bundle, so it opens offline from the unzipped folder.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use minijinja::{Value, context};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::exports::{self, mart_title};
use super::marts::{Marts, RawMart};
use super::site::{BundleFile, BundleNav, Site};
use super::{ManualRelease, Output, PublishError, briefing};
use crate::contract::RegionReference;
use crate::warehouse::layout;

/// Whom a bundle is for.
#[derive(Debug, Clone)]
enum Recipient {
    /// A federal district: its regions, by code.
    District { code: String, regions: Vec<String> },
    /// A regional organization of a district.
    Region { code: String, district: String },
}

impl Recipient {
    /// Its kind and code: `("district", "CFD")`, `("region", "02")`.
    fn kind_code(&self) -> (&'static str, &str) {
        match self {
            Recipient::District { code, .. } => ("district", code),
            Recipient::Region { code, .. } => ("region", code),
        }
    }

    /// Whether a mart's row, by its region and district (null for the
    /// union's rows, and a district's total has no region), is the bundle's.
    fn keeps(&self, region: Option<&str>, district: Option<&str>) -> bool {
        match self {
            Recipient::District { code, regions } => {
                region.is_none_or(|r| regions.iter().any(|x| x == r)) && district.is_none_or(|d| d == code)
            }
            Recipient::Region { code, district: own } => {
                region.is_none_or(|r| r == code) && district.is_none_or(|d| d == own)
            }
        }
    }
}

/// A link in a bundle's contents.
#[derive(Debug, Clone, Serialize)]
struct Link {
    title: String,
    href: String,
}

/// A document of a bundle in both forms.
#[derive(Debug, Clone, Serialize)]
struct Document {
    title: String,
    html: String,
    docx: String,
}

/// A region's worklist in a bundle.
#[derive(Debug, Clone, Serialize)]
struct Worklist {
    title: String,
    xlsx: String,
    csv: String,
}

/// A mart's rows in a bundle, in every form the exports write.
#[derive(Debug, Clone, Serialize)]
struct MartFiles {
    name: &'static str,
    title: Option<&'static str>,
    rows: usize,
    files: Vec<Link>,
}

/// Writes the bundle of every federal district and regional organization
/// of the marts into `dir`; returns the files written and, through
/// `listed`, each zip with its size and checksum (for `build.json`).
pub fn write_bundles(
    dir: &Path,
    raw: &[RawMart],
    marts: &Marts,
    built_at: DateTime<Utc>,
    release: Option<&ManualRelease>,
    listed: &mut Vec<BundleFile>,
) -> Result<Vec<String>, PublishError> {
    let mut recipients = Vec::new();
    for district in &marts.districts {
        let regions = marts
            .regions
            .iter()
            .filter(|r| r.federal_district == district.federal_district)
            .map(|r| r.region_code.clone())
            .collect();
        recipients.push(Recipient::District { code: district.federal_district.clone(), regions });
    }
    for region in &marts.regions {
        recipients
            .push(Recipient::Region { code: region.region_code.clone(), district: region.federal_district.clone() });
    }
    // Bundles are independent: built on every core, listed in order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(recipients.len().max(1));
    let built: Vec<Result<Vec<(usize, BundleFile)>, PublishError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let recipients = &recipients;
                scope.spawn(move || {
                    let mut done = Vec::new();
                    for (i, recipient) in recipients.iter().enumerate().skip(t).step_by(threads) {
                        done.push((i, zip_bundle(dir, recipient, raw, marts, built_at, release)?));
                    }
                    Ok(done)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut bundles = Vec::new();
    for result in built {
        bundles.extend(result?);
    }
    bundles.sort_by_key(|(i, _)| *i);
    let written = recipients.iter().map(|r| layout::bundle_name(r.kind_code().0, r.kind_code().1)).collect();
    listed.extend(bundles.into_iter().map(|(_, b)| b));
    Ok(written)
}

/// Builds one bundle in memory and writes it, zipped, into `dir`.
fn zip_bundle(
    dir: &Path,
    recipient: &Recipient,
    raw: &[RawMart],
    marts: &Marts,
    built_at: DateTime<Utc>,
    release: Option<&ManualRelease>,
) -> Result<BundleFile, PublishError> {
    let (kind, code) = recipient.kind_code();
    let name = layout::bundle_name(kind, code);
    let mut out = Output::in_memory();
    write_bundle(&mut out, recipient, raw, marts, built_at, release)?;
    let bytes =
        zip_files(out.into_files()).map_err(|e| PublishError::Export { what: name.clone(), detail: e.to_string() })?;
    let path = dir.join(&name);
    std::fs::write(&path, &bytes).map_err(|e| PublishError::io(&path, e))?;
    Ok(BundleFile {
        file: layout::bundle_file(marts.national.as_of, kind, code),
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

/// One bundle's files, put into `out`.
fn write_bundle(
    out: &mut Output,
    recipient: &Recipient,
    raw: &[RawMart],
    marts: &Marts,
    built_at: DateTime<Utc>,
    release: Option<&ManualRelease>,
) -> Result<(), PublishError> {
    let as_of = marts.national.as_of;
    let reference = RegionReference::embedded();
    let (part_raw, part) = marts.part(raw, &|region, district| recipient.keeps(region, district))?;
    let short = |code: &str| reference.region(code).map_or(code.to_string(), |r| r.short_name.clone());

    // Exports first: the pages link to the worklists.
    out.under("exports/");
    exports::write_exports(out, as_of, &part_raw, &part)?;

    let (title, mut pages, mut documents) = match recipient {
        Recipient::District { code, .. } => {
            let district = part.districts.iter().find(|d| &d.federal_district == code);
            let title = district.map_or(code.clone(), |d| d.district_name.clone());
            (title.clone(), vec![Link { title, href: format!("districts/{code}.html") }], Vec::new())
        }
        Recipient::Region { code, .. } => {
            let name = part.regions.first().map_or(code.clone(), |r| r.region_name.clone());
            (name, Vec::new(), Vec::new())
        }
    };
    for region in &part.regions {
        pages.push(Link { title: short(&region.region_code), href: format!("regions/{}.html", region.region_code) });
    }
    let (district, regions): (Option<&str>, Vec<&str>) = match recipient {
        Recipient::District { code, regions } => (Some(code), regions.iter().map(String::as_str).collect()),
        Recipient::Region { code, .. } => (None, vec![code.as_str()]),
    };
    out.under("briefings/");
    briefing::write_documents(out, marts, built_at, district, &regions)?;
    out.under("");
    if let Some(code) = district {
        let name = part.districts.first().map_or(code.to_string(), |d| d.district_short_name.clone());
        documents.push(Document {
            title: format!("Информация о ходе работы в АИС: {name}"),
            html: format!("briefings/districts/{code}.html"),
            docx: format!("briefings/districts/{code}.docx"),
        });
    }
    for code in &regions {
        documents.push(Document {
            title: format!("Справка: {}", short(code)),
            html: format!("briefings/regions/{code}.html"),
            docx: format!("briefings/regions/{code}.docx"),
        });
    }
    let worklists: Vec<Worklist> = regions
        .iter()
        .filter(|code| out.has(&format!("exports/{}", layout::worklist_in_exports(code))))
        .map(|code| Worklist {
            title: short(code),
            xlsx: format!("exports/{}", layout::worklist_in_exports(code)),
            csv: format!("exports/worklists/{code}.csv"),
        })
        .collect();
    let data: Vec<MartFiles> = part_raw
        .iter()
        .map(|m| MartFiles {
            name: m.name,
            title: mart_title(m.name),
            rows: m.batches.iter().map(|b| b.num_rows()).sum(),
            files: [
                ("CSV для Excel", "excel", "csv"),
                ("CSV", "csv", "csv"),
                ("Parquet", "parquet", "parquet"),
                ("JSON", "json", "json"),
            ]
            .into_iter()
            .map(|(title, folder, ext)| Link {
                title: title.into(),
                href: format!("exports/{folder}/{}.{ext}", m.name),
            })
            .filter(|l| out.has(&l.href))
            .collect(),
        })
        .collect();
    let workbook_file = format!("kpi-{as_of}.xlsx");
    let workbook = Link { href: format!("exports/{workbook_file}"), title: workbook_file };
    let index: Value = context! {
        kind => if district.is_some() { "district" } else { "region" },
        title => &title,
        pages => &pages,
        documents => &documents,
        workbook => out.has(&workbook.href).then_some(&workbook),
        worklists => &worklists,
        data => &data,
        d => part.districts.iter().find(|d| district.is_none_or(|code| d.federal_district == code)),
        n => &part.national,
    };
    let nav = BundleNav { title, pages: pages.iter().map(|p| p.href.clone()).collect() };
    Site::for_bundle(&part, built_at, release, nav).render_bundle_into(out, index)
}

/// The files in one zip, by name, each stamped with the same time so that
/// equal contents zip alike.
fn zip_files(mut files: Vec<(String, Vec<u8>)>) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, bytes) in files {
        // XLSX and DOCX are zips already.
        let packed = [".xlsx", ".docx"].iter().any(|ext| name.ends_with(ext));
        let method = if packed { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        zip.start_file(name, options.compression_method(method))?;
        zip.write_all(&bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}
