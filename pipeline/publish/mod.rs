//! Publish: what people read, made from the marts of one date — the static
//! site (`<wh>/site/`), the exports (`<wh>/exports/<D>/`) and the executive
//! briefing (`<wh>/briefings/<D>/`). Every figure shown is read from a mart; publishing
//! computes nothing new. `russian` is the one place numbers, percentages,
//! dates and plural forms are written the way the union's staff read them.

mod briefing;
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

use chrono::{NaiveDate, Utc};
use thiserror::Error;
use tracing::info;

use crate::warehouse::{Warehouse, WarehouseError};
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
    #[error("the site can only be published into a warehouse on local disk for now ({warehouse})")]
    NotLocal { warehouse: String },
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
            PublishError::MissingMart { .. } | PublishError::NothingComputed | PublishError::NotLocal { .. } => true,
            PublishError::Warehouse(e) => e.is_user_error(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub warehouse: String,
    /// The date to publish; the latest computed one when absent.
    pub as_of: Option<NaiveDate>,
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
    pub seconds: f64,
}

/// Renders the site of one date and swaps it in whole.
pub async fn publish(request: &PublishRequest) -> Result<PublishSummary, PublishError> {
    let started = Instant::now();
    let warehouse = Warehouse::open(&request.warehouse).await?;
    let root = warehouse
        .location()
        .local_root()
        .ok_or_else(|| PublishError::NotLocal { warehouse: request.warehouse.clone() })?
        .to_path_buf();
    let as_of = match request.as_of {
        Some(d) => d,
        None => *marts::mart_dates(&warehouse, "national").await?.last().ok_or(PublishError::NothingComputed)?,
    };
    let marts = Marts::load(&warehouse, as_of).await?;
    let raw = marts::load_raw(&warehouse, as_of).await?;
    let run_id = format!("{}-{}", Utc::now().format("%Y%m%dT%H%M%S%.3f"), std::process::id());

    // Each output folder is built aside and swapped in whole; the exports
    // first, so the site never links to worklists that are not there yet.
    let exports_dir = root.join("exports").join(as_of.to_string());
    let export_files = build_and_swap(&exports_dir, &run_id, |dir| {
        exports::write_exports(dir, as_of, &raw, &marts.worklist, marts.manifest.as_ref())
    })?;
    let site_dir = root.join("site");
    let files = build_and_swap(&site_dir, &run_id, |dir| site::Site::new(&marts, Utc::now()).render_into(dir))?;
    let bytes = files.iter().filter_map(|f| std::fs::metadata(site_dir.join(f)).ok()).map(|m| m.len()).sum();
    let briefing_dir = root.join("briefings").join(as_of.to_string());
    build_and_swap(&briefing_dir, &run_id, |dir| briefing::write_briefing(dir, &marts, Utc::now()))?;
    let summary = PublishSummary {
        as_of,
        index: site_dir.join("index.html"),
        pages: files.iter().filter(|f| f.ends_with(".html")).count(),
        bytes,
        exports: exports_dir,
        briefing: briefing_dir.join("briefing.html"),
        export_files: export_files.len(),
        seconds: started.elapsed().as_secs_f64(),
    };
    info!("site of {as_of} published: {} pages, {} KB in {:.2} s", summary.pages, summary.bytes / 1024, summary.seconds);
    Ok(summary)
}

/// Builds a folder's new version aside with `build` and swaps it in; on
/// failure the half-built folder is removed and the old one stays.
fn build_and_swap(
    target: &Path,
    run_id: &str,
    build: impl FnOnce(&Path) -> Result<Vec<String>, PublishError>,
) -> Result<Vec<String>, PublishError> {
    let staging = swap::staging_dir(target, run_id).map_err(|e| PublishError::io(target, e))?;
    match build(&staging) {
        Ok(files) => {
            swap::replace_dir(&staging, target).map_err(|e| PublishError::io(target, e))?;
            Ok(files)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}
