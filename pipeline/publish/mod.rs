//! Publish: what people read, made from the marts of one date — the static
//! site (`<wh>/site/`), the exports (`<wh>/exports/<D>/`) and the executive
//! briefing (`<wh>/briefings/<D>/`), and the bundles sent to each district and
//! region (`<wh>/bundles/<D>/`). Every figure shown is read from a mart; publishing
//! computes nothing new. `russian` is the one place numbers, percentages,
//! dates and plural forms are written the way the union's staff read them.

mod briefing;
mod bundles;
mod charts;
mod exports;
pub mod marts;
pub mod russian;
mod site;
mod swap;
pub mod tables;
mod templates;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use thiserror::Error;
use tracing::info;

use crate::clock::Clock;
use crate::warehouse::{Warehouse, WarehouseError, layout};
pub use marts::Marts;
/// The briefing's nouns and their plural forms (tests check every phrase).
pub use templates::nouns;

#[derive(Debug, Error)]
pub enum PublishError {
    #[error("the warehouse has no {mart} mart for {as_of}; run `reestr compute --as-of {as_of}` first")]
    MissingMart { mart: String, as_of: NaiveDate },
    #[error("the {mart} mart of {as_of} cannot be read ({detail}); recompute it with `reestr compute --as-of {as_of}`")]
    BadMart { mart: String, as_of: NaiveDate, detail: String },
    #[error("the warehouse has no computed marts yet; run `reestr run` or `reestr compute` first")]
    NothingComputed,
    #[error("cannot write the {what} export: {detail}")]
    Export { what: String, detail: String },
    #[error("template {template}: {detail}")]
    Template { template: String, detail: String },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

impl PublishError {
    fn io(path: &Path, source: std::io::Error) -> PublishError {
        PublishError::Io { path: path.to_path_buf(), source }
    }

    fn template(template: &str, e: minijinja::Error) -> PublishError {
        PublishError::Template { template: template.to_string(), detail: format!("{e:#}") }
    }

    pub fn is_user_error(&self) -> bool {
        match self {
            PublishError::MissingMart { .. } | PublishError::NothingComputed => true,
            PublishError::Warehouse(e) => e.is_user_error(),
            _ => false,
        }
    }
}

/// What to publish (from the warehouse the caller opened and locked).
#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    /// The date to publish; the latest computed one when absent.
    pub as_of: Option<NaiveDate>,
    /// The date is published on purpose although the gate held it: said on
    /// every page's provenance line.
    pub release: Option<ManualRelease>,
    /// Leave out the bundles (`--no-bundles`): the site lists none, and any
    /// of D's from an earlier publish are removed (they would not match).
    pub no_bundles: bool,
}

/// A held date published deliberately: why, by whom and when. The reason
/// is the operator's text, escaped like any other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManualRelease {
    pub reason: String,
    pub user: String,
    pub host: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct PublishSummary {
    pub as_of: NaiveDate,
    /// The site's entry page.
    pub index: PathBuf,
    pub pages: usize,
    pub bytes: u64,
    /// The folder of the date's exports.
    pub exports: PathBuf,
    pub export_files: usize,
    pub briefing: PathBuf,
    /// The bundles' folder, how many and their size (none with `--no-bundles`).
    pub bundles: Option<PathBuf>,
    pub bundle_files: usize,
    pub bundle_bytes: u64,
    pub seconds: f64,
}

/// The snapshot date the published site shows, if there is a site.
pub async fn published_date(warehouse: &Warehouse) -> Option<NaiveDate> {
    let bytes = warehouse.location().read(layout::SITE_BUILD).await.ok()??;
    let build: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    crate::contract::values::parse_iso_date(build["as_of"].as_str()?)
}

/// Renders the site of one date and swaps it in whole.
pub async fn publish(
    warehouse: &Warehouse,
    request: &PublishRequest,
    clock: &dyn Clock,
) -> Result<PublishSummary, PublishError> {
    let started = Instant::now();
    let as_of = match request.as_of {
        Some(d) => d,
        None => *marts::mart_dates(warehouse, "national").await?.last().ok_or(PublishError::NothingComputed)?,
    };
    info!("publishing the marts of {as_of}: site, exports, briefing");
    let raw = marts::load_raw(warehouse, as_of).await?;
    let marts = Marts::load(warehouse, as_of, &raw).await?;
    let built_at = clock.now();
    let run_id = layout::run_id(built_at, "publish", Some(as_of));
    let target = Target::new(warehouse, &run_id);

    // Each output folder is built aside and swapped in whole; the exports
    // first, so the site never links to worklists that are not there yet.
    let exports_rel = layout::exports_dir(as_of);
    let export_files = target
        .publish(&exports_rel, |dir| {
            let mut out = Output::new(dir);
            exports::write_exports(&mut out, as_of, &raw, &marts)?;
            Ok(out.finish())
        })
        .await?;
    // Then the bundles, which the site lists with their checksums.
    let mut bundles = Vec::new();
    let bundles_rel = layout::bundles_dir(as_of);
    if !request.no_bundles {
        let bundles_started = Instant::now();
        target
            .publish(&bundles_rel, |dir| {
                bundles::write_bundles(dir, &raw, &marts, built_at, request.release.as_ref(), &mut bundles)
            })
            .await?;
        info!(
            "bundles of {as_of}: {} zips, {} KB in {:.2} s",
            bundles.len(),
            bundles.iter().map(|b| b.bytes).sum::<u64>() / 1024,
            bundles_started.elapsed().as_secs_f64()
        );
    }
    if request.no_bundles {
        // Bundles of an earlier publish of D would no longer match its marts.
        warehouse.location().delete_all(&bundles_rel).await?;
        warehouse.location().remove_empty_folder(&bundles_rel);
    }
    let bundle_files = bundles.len();
    let bundle_bytes = bundles.iter().map(|b| b.bytes).sum();
    let site_files = target
        .publish(layout::SITE_DIR, |dir| {
            let mut out = Output::new(dir);
            site::Site::new(&marts, built_at, request.release.as_ref()).with_bundles(bundles).render_into(&mut out)?;
            Ok(out.finish())
        })
        .await?;
    let briefing_rel = layout::briefings_dir(as_of);
    let briefing_started = Instant::now();
    let briefing_files = target
        .publish(&briefing_rel, |dir| {
            let mut out = Output::new(dir);
            briefing::write_briefing(&mut out, &marts, built_at)?;
            Ok(out.finish())
        })
        .await?;
    info!(
        "briefings of {as_of}: {} files (national, districts, regions) in {:.2} s",
        briefing_files.len(),
        briefing_started.elapsed().as_secs_f64()
    );
    let files = site_files.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>();
    let bytes = site_files.iter().map(|(_, size)| size).sum();
    let shown = |rel: &str| PathBuf::from(format!("{}/{rel}", warehouse.name().trim_end_matches('/')));
    let summary = PublishSummary {
        as_of,
        index: shown(layout::SITE_INDEX),
        pages: files.iter().filter(|f| f.ends_with(".html")).count(),
        bytes,
        exports: shown(&exports_rel),
        briefing: shown(&layout::briefing_html(as_of)),
        export_files: export_files.len(),
        bundles: (!request.no_bundles).then(|| shown(&bundles_rel)),
        bundle_files,
        bundle_bytes,
        seconds: started.elapsed().as_secs_f64(),
    };
    info!(
        "site of {as_of} published: {} pages, {} KB in {:.2} s",
        summary.pages,
        summary.bytes / 1024,
        summary.seconds
    );
    Ok(summary)
}

/// The files of one output being made: written into a folder as they are
/// made, or kept in memory (a bundle, zipped whole).
struct Output<'a> {
    dir: Option<&'a Path>,
    /// Prepended to every name put (`exports/` in a bundle).
    prefix: String,
    written: Vec<String>,
    kept: Vec<Vec<u8>>,
}

impl<'a> Output<'a> {
    fn new(dir: &'a Path) -> Output<'a> {
        Output { dir: Some(dir), prefix: String::new(), written: Vec::new(), kept: Vec::new() }
    }

    fn in_memory() -> Output<'static> {
        Output { dir: None, prefix: String::new(), written: Vec::new(), kept: Vec::new() }
    }

    /// Puts the next files under `prefix` (`""` for the top).
    fn under(&mut self, prefix: &str) {
        self.prefix = prefix.to_string();
    }

    /// Writes `name` (a `/`-separated path under the folder).
    fn put(&mut self, name: impl AsRef<str>, bytes: impl AsRef<[u8]>) -> Result<(), PublishError> {
        let name = format!("{}{}", self.prefix, name.as_ref());
        match self.dir {
            Some(dir) => {
                let path = dir.join(&name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| PublishError::io(parent, e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| PublishError::io(&path, e))?;
            }
            None => self.kept.push(bytes.as_ref().to_vec()),
        }
        self.written.push(name);
        Ok(())
    }

    /// Whether `name` (the whole name, prefix included) was put.
    fn has(&self, name: &str) -> bool {
        self.written.iter().any(|w| w == name)
    }

    /// The files written, relative to the folder.
    fn finish(self) -> Vec<String> {
        self.written
    }

    /// The files kept in memory, by name.
    fn into_files(self) -> Vec<(String, Vec<u8>)> {
        self.written.into_iter().zip(self.kept).collect()
    }
}

/// Where published folders go. On local disk each is built beside its old
/// version and exchanged with it in one step. On an object store, which has
/// no folders to swap, it is built in a local scratch folder, uploaded object
/// by object (each object whole), and objects of the old version that the new
/// one lacks are deleted last.
struct Target<'a> {
    warehouse: &'a Warehouse,
    run_id: &'a str,
    scratch: PathBuf,
}

impl<'a> Target<'a> {
    fn new(warehouse: &'a Warehouse, run_id: &'a str) -> Target<'a> {
        Target { warehouse, run_id, scratch: std::env::temp_dir().join(format!("reestr-publish-{run_id}")) }
    }

    /// Builds `relative` with `build` and publishes it; returns its files
    /// with their sizes.
    async fn publish(
        &self,
        relative: &str,
        build: impl FnOnce(&Path) -> Result<Vec<String>, PublishError>,
    ) -> Result<Vec<(String, u64)>, PublishError> {
        let sized = |dir: &Path, files: Vec<String>| -> Vec<(String, u64)> {
            files
                .into_iter()
                .map(|f| {
                    let size = std::fs::metadata(dir.join(&f)).map_or(0, |m| m.len());
                    (f, size)
                })
                .collect()
        };
        if let Some(root) = self.warehouse.location().local_root() {
            let target = root.join(relative);
            let staging = swap::staging_dir(&target, self.run_id).map_err(|e| PublishError::io(&target, e))?;
            return match build(&staging) {
                Ok(files) => {
                    let files = sized(&staging, files);
                    swap::replace_dir(&staging, &target).map_err(|e| PublishError::io(&target, e))?;
                    Ok(files)
                }
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&staging);
                    Err(e)
                }
            };
        }
        let dir = self.scratch.join(relative);
        std::fs::create_dir_all(&dir).map_err(|e| PublishError::io(&dir, e))?;
        let files = sized(&dir, build(&dir)?);
        let location = self.warehouse.location();
        for (file, _) in &files {
            let bytes = std::fs::read(dir.join(file)).map_err(|e| PublishError::io(&dir.join(file), e))?;
            location.write(&format!("{relative}/{file}"), bytes).await?;
        }
        let fresh: std::collections::BTreeSet<String> = files.iter().map(|(f, _)| format!("{relative}/{f}")).collect();
        for old in location.list_all(relative).await? {
            let name = location.relative(&old.location);
            if !fresh.contains(&name) {
                location.delete(&name).await?;
            }
        }
        Ok(files)
    }
}

impl Drop for Target<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}
