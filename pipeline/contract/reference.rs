//! Reference data shipped with reestr: the union's regional organizations and the
//! federal districts, and the data-quality checks and headline indicators as
//! people read them (`schemas/reference/*.csv`, embedded in the binary).

use std::sync::LazyLock;

use serde::Deserialize;

const REGIONS_CSV: &str = include_str!("../../schemas/reference/regions.csv");
const DISTRICTS_CSV: &str = include_str!("../../schemas/reference/federal_districts.csv");
const CHECKS_CSV: &str = include_str!("../../schemas/reference/quality_checks.csv");
const INDICATORS_CSV: &str = include_str!("../../schemas/reference/headline_indicators.csv");

/// A check of the data_quality mart in Russian: what it finds and what a
/// region should do about it. Listed in the order pages show them.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct QualityCheck {
    pub check: String,
    pub title: String,
    /// A worksheet name (at most 31 characters).
    pub sheet: String,
    pub action: String,
    /// One of the few checks the monitoring's region table and workbook
    /// sheet follow quarter by quarter (decree item 4.2: completeness,
    /// currency, quality — one each).
    pub monitored: bool,
}

static CHECKS: LazyLock<Vec<QualityCheck>> =
    LazyLock::new(|| read_csv(CHECKS_CSV).unwrap_or_else(|e| panic!("quality_checks.csv is invalid: {e}")));

impl QualityCheck {
    pub fn all() -> &'static [QualityCheck] {
        &CHECKS
    }

    pub fn find(check: &str) -> Option<&'static QualityCheck> {
        CHECKS.iter().find(|c| c.check == check)
    }
}

/// An indicator of the national_changes mart in Russian, as the overview's
/// table and the exports name it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct HeadlineIndicator {
    pub indicator: String,
    pub title: String,
    /// A part of the indicator above it (a category of members, say): indented.
    pub part_of_above: bool,
}

static INDICATORS: LazyLock<Vec<HeadlineIndicator>> =
    LazyLock::new(|| read_csv(INDICATORS_CSV).unwrap_or_else(|e| panic!("headline_indicators.csv is invalid: {e}")));

impl HeadlineIndicator {
    pub fn all() -> &'static [HeadlineIndicator] {
        &INDICATORS
    }

    pub fn find(indicator: &str) -> Option<&'static HeadlineIndicator> {
        INDICATORS.iter().find(|i| i.indicator == indicator)
    }
}

/// One regional (interregional, okrug) organization of the union.
#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    pub region_code: String,
    /// Full name as the Executive Committee's decrees write it.
    pub name: String,
    /// Genitive (= dative = prepositional) singular of `name`.
    pub name_genitive: String,
    /// The subject of the federation as people say it.
    pub short_name: String,
    pub kind: String,
    pub district_code: String,
    pub tile_row: u16,
    pub tile_col: u16,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FederalDistrict {
    pub district_code: String,
    pub name: String,
    pub short_name: String,
    pub sort_order: u16,
}

#[derive(Debug)]
pub struct RegionReference {
    pub regions: Vec<Region>,
    pub districts: Vec<FederalDistrict>,
}

static REFERENCE: LazyLock<RegionReference> = LazyLock::new(|| {
    RegionReference::parse(REGIONS_CSV, DISTRICTS_CSV)
        .unwrap_or_else(|e| panic!("embedded reference data is invalid: {e}"))
});

impl RegionReference {
    pub fn embedded() -> &'static RegionReference {
        &REFERENCE
    }

    pub fn parse(regions_csv: &str, districts_csv: &str) -> Result<RegionReference, String> {
        let regions: Vec<Region> = read_csv(regions_csv).map_err(|e| format!("regions.csv: {e}"))?;
        let districts: Vec<FederalDistrict> =
            read_csv(districts_csv).map_err(|e| format!("federal_districts.csv: {e}"))?;
        for r in &regions {
            if !districts.iter().any(|d| d.district_code == r.district_code) {
                return Err(format!("region {} names unknown district {}", r.region_code, r.district_code));
            }
        }
        Ok(RegionReference { regions, districts })
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.region_code == code)
    }
}

fn read_csv<T: for<'de> Deserialize<'de>>(text: &str) -> Result<Vec<T>, csv::Error> {
    csv::Reader::from_reader(text.as_bytes()).deserialize().collect()
}
