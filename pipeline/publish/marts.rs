//! The marts of one date, read back from the warehouse as typed rows: what
//! the site, the exports and the briefing are made from. Publishing computes
//! nothing new — every figure people see is a mart's.
//!
//! A mart's Parquet file is turned into JSON rows by arrow and those into the
//! structs below by serde, so a column is matched by its contract name.

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::PublishError;
use crate::warehouse::{Manifest, Warehouse, decode_parquet, layout};

/// The national mart: the shared KPIs plus what only the union as a whole
/// has. Columns added after the contract's are optional, so that the marts
/// of older dates (the trend) still read.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct National {
    pub as_of: NaiveDate,
    pub report_period: NaiveDate,
    pub baseline_as_of: Option<NaiveDate>,
    pub compared_to: Option<NaiveDate>,
    pub working_official: Option<i64>,
    pub students_official: Option<i64>,
    pub pensioners_official: Option<i64>,
    pub primary_orgs_official: Option<i64>,
    pub territorial_orgs_official: Option<i64>,
    pub reports_3sp: i64,
    pub reports_4sp: i64,
    pub reports_5sp: i64,
    pub profcards_app: i64,
    pub cards_refused: i64,
    pub joined_online_threshold_pct: Option<f64>,
    /// The bars of item 3's lists: more joined online than this, and more
    /// of the members on the registry than this share.
    pub joined_online_active_members: Option<i64>,
    pub coverage_threshold_pct: Option<f64>,
    pub profcards_app_pct: Option<f64>,
    pub working_share_pct: Option<f64>,
    pub students_share_pct: Option<f64>,
    pub pensioners_share_pct: Option<f64>,
    pub category_missing_share_pct: Option<f64>,
    pub working_coverage_pct: Option<f64>,
    pub students_coverage_pct: Option<f64>,
    pub pensioners_coverage_pct: Option<f64>,
    pub primary_orgs_coverage_pct: Option<f64>,
    pub territorial_orgs_coverage_pct: Option<f64>,
    pub working_prev: Option<i64>,
    pub working_change: Option<i64>,
    pub working_change_pct: Option<f64>,
    pub students_prev: Option<i64>,
    pub students_change: Option<i64>,
    pub students_change_pct: Option<f64>,
    pub pensioners_prev: Option<i64>,
    pub pensioners_change: Option<i64>,
    pub pensioners_change_pct: Option<f64>,
    pub category_missing_prev: Option<i64>,
    pub category_missing_change: Option<i64>,
    pub category_missing_change_pct: Option<f64>,
    #[serde(flatten)]
    pub kpis: Kpis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Region {
    pub region_code: String,
    pub region_name: String,
    pub federal_district: String,
    pub coverage_band: Option<String>,
    pub reports_3sp: i64,
    pub reports_4sp: i64,
    pub reports_5sp: i64,
    pub all_reported: bool,
    pub profcards_app: i64,
    pub cards_refused: i64,
    /// Coverage at C, and whether it is the same to the tenth (null without C).
    pub coverage_pct_prev: Option<f64>,
    pub coverage_unchanged: Option<bool>,
    pub joined_online_above_threshold: bool,
    /// Item 3's lists: more than 1 000 joined online; more than 95 % on the registry.
    pub joined_online_active: bool,
    pub coverage_above_threshold: bool,
    /// Places among the regions (1 = highest; ties share one), null without
    /// the percentage.
    pub coverage_rank: Option<i64>,
    pub auto_reports_rank: Option<i64>,
    pub joined_online_rank: Option<i64>,
    pub profcards_rank: Option<i64>,
    pub cards_issued_rank: Option<i64>,
    /// The same places among the regions of its federal district.
    pub coverage_district_rank: Option<i64>,
    pub auto_reports_district_rank: Option<i64>,
    pub joined_online_district_rank: Option<i64>,
    pub profcards_district_rank: Option<i64>,
    pub cards_issued_district_rank: Option<i64>,
    /// How many regional organizations its district has.
    pub district_regions: i64,
    #[serde(flatten)]
    pub kpis: Kpis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct District {
    pub federal_district: String,
    pub district_name: String,
    pub district_short_name: String,
    pub regions: i64,
    pub regions_all_reported: i64,
    pub coverage_band: Option<String>,
    #[serde(flatten)]
    pub kpis: Kpis,
}

/// The columns the national, regions and federal_districts marts share,
/// defined alike.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Kpis {
    pub members: i64,
    pub members_official: Option<i64>,
    pub coverage_pct: Option<f64>,
    pub working: i64,
    pub students: i64,
    pub pensioners: i64,
    pub category_missing: i64,
    pub primary_orgs: i64,
    pub primary_auto_reports: i64,
    pub primary_auto_reports_pct: Option<f64>,
    pub territorial_orgs: i64,
    pub territorial_reports: i64,
    pub territorial_reports_pct: Option<f64>,
    pub joined_online: i64,
    pub joined_online_pct: Option<f64>,
    pub profcards: i64,
    pub profcards_pct: Option<f64>,
    pub cards_issued: i64,
    pub cards_issued_pct: Option<f64>,
    pub members_prev: Option<i64>,
    pub members_change: Option<i64>,
    pub members_change_pct: Option<f64>,
}

impl std::ops::Deref for National {
    type Target = Kpis;
    fn deref(&self) -> &Kpis {
        &self.kpis
    }
}

impl std::ops::Deref for Region {
    type Target = Kpis;
    fn deref(&self) -> &Kpis {
        &self.kpis
    }
}

impl std::ops::Deref for District {
    type Target = Kpis;
    fn deref(&self) -> &Kpis {
        &self.kpis
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QualityRow {
    pub check: String,
    pub scope: String,
    pub federal_district: Option<String>,
    pub region_code: Option<String>,
    /// `organizations`, `members` or `gap` (a difference from the official report).
    pub unit: String,
    /// Null for a gap check without an official figure.
    pub affected: Option<i64>,
    pub population: Option<i64>,
    pub affected_pct: Option<f64>,
    pub registry_value: Option<i64>,
    pub official_value: Option<i64>,
    /// How many organizations the check touches; null for a gap check.
    pub orgs_affected: Option<i64>,
}

/// A row of quarterly_kpis: one scope at one quarter end.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QuarterKpis {
    pub quarter_end: NaiveDate,
    pub quarter_year: i64,
    pub quarter: i64,
    /// The snapshot that represents the quarter (D for D's quarter).
    pub snapshot_as_of: NaiveDate,
    pub complete: bool,
    pub scope: String,
    pub federal_district: Option<String>,
    pub region_code: Option<String>,
    pub members: Option<i64>,
    pub members_change_quarter: Option<i64>,
    pub members_change_year: Option<i64>,
    pub coverage_pct: Option<f64>,
    pub coverage_pct_change_quarter: Option<f64>,
    pub coverage_pct_change_year: Option<f64>,
    pub primary_auto_reports_pct: Option<f64>,
    pub primary_auto_reports_pct_change_quarter: Option<f64>,
    pub primary_auto_reports_pct_change_year: Option<f64>,
}

/// A row of member_flows: where one scope's change in members since an
/// earlier snapshot came from. The flows are null without that snapshot.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MemberFlow {
    /// `year` (against C) or `quarter` (against the quarter before D's).
    pub compared_period: String,
    pub compared_to: Option<NaiveDate>,
    pub scope: String,
    pub federal_district: Option<String>,
    pub region_code: Option<String>,
    pub members_prev: Option<i64>,
    pub members: i64,
    pub net_change: Option<i64>,
    pub joined: Option<i64>,
    pub registered_late: Option<i64>,
    pub left_record: Option<i64>,
    pub gone_from_export: Option<i64>,
    pub moved_in: Option<i64>,
    pub moved_out: Option<i64>,
    pub moved_within: Option<i64>,
    pub category_changed: Option<i64>,
}

/// A row of member_flow_groups: the regions of the union or of a district
/// whose members grew, fell or stayed the same, with their flows summed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MemberFlowGroup {
    pub compared_period: String,
    pub compared_to: NaiveDate,
    pub scope: String,
    pub federal_district: Option<String>,
    /// `grew`, `fell` or `unchanged`.
    pub change_group: String,
    pub regions: i64,
    pub members_prev: i64,
    pub members: i64,
    pub net_change: i64,
    pub joined: i64,
    pub registered_late: i64,
    pub left_record: i64,
    pub gone_from_export: i64,
    pub moved_in: i64,
    pub moved_out: i64,
}

/// A row of quarterly_quality: one check of one scope at one quarter end.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QuarterCheck {
    pub quarter_end: NaiveDate,
    pub quarter_year: i64,
    pub quarter: i64,
    /// The snapshot that represents the quarter (D for D's quarter).
    pub snapshot_as_of: NaiveDate,
    pub complete: bool,
    pub check: String,
    pub scope: String,
    pub federal_district: Option<String>,
    pub region_code: Option<String>,
    pub unit: String,
    pub affected: Option<i64>,
    pub population: Option<i64>,
    pub affected_pct: Option<f64>,
    pub affected_prev_quarter: Option<i64>,
    pub affected_change_quarter: Option<i64>,
    pub affected_pct_change_quarter: Option<f64>,
    pub affected_change_year: Option<i64>,
    pub affected_pct_change_year: Option<f64>,
    pub trend_quarter: Option<String>,
    pub trend_year: Option<String>,
}

/// A row of monitoring_regions.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MonitoringRegion {
    pub region_code: String,
    pub federal_district: String,
    pub checks_compared_quarter: i64,
    pub checks_improved_quarter: i64,
    pub checks_worsened_quarter: i64,
    pub balance_quarter: i64,
    pub balance_quarter_rank: i64,
    pub checks_compared_year: i64,
    pub checks_improved_year: i64,
    pub checks_worsened_year: i64,
    pub balance_year: i64,
    pub balance_year_rank: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorklistRow {
    pub region_code: String,
    pub check: String,
    pub org_id: String,
    pub name: Option<String>,
    pub level: String,
    pub parent_id: Option<String>,
    pub parent_name: Option<String>,
    pub members: Option<i64>,
}

/// The columns profcards_monthly and profcards_yearly share.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Purchases {
    pub purchases: i64,
    pub buyers: i64,
    #[serde(deserialize_with = "number")]
    pub amount: f64,
    #[serde(deserialize_with = "number")]
    pub cashback: f64,
    pub cashback_pct: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ProfcardsMonth {
    pub month: NaiveDate,
    #[serde(flatten)]
    pub totals: Purchases,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ProfcardsYear {
    pub year: i64,
    pub ytd: bool,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[serde(flatten)]
    pub totals: Purchases,
}

/// One of the decree's coverage bands (coverage_bands mart), highest first.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CoverageBand {
    pub band: String,
    pub sort_order: i64,
    pub lower_pct: Option<f64>,
    pub upper_pct: Option<f64>,
    pub regions: i64,
    pub regions_pct: Option<f64>,
    /// A band below 70 %: its regions need attention.
    pub needs_attention: bool,
}

/// A headline indicator at D and at C, and its change (national_changes),
/// in the overview's order.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NationalChange {
    pub as_of: NaiveDate,
    /// The indicator's code, a column of the national mart (`members` …).
    pub indicator: String,
    pub sort_order: i64,
    pub value: i64,
    /// At C as C's national mart has it; null without it.
    pub value_prev: Option<i64>,
    pub change: Option<i64>,
    /// Growth over the earlier value; null also when that is 0.
    pub change_pct: Option<f64>,
}

/// How many regional organizations each named list holds (regions_summary).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RegionsSummary {
    pub regions: i64,
    pub regions_with_baseline: i64,
    pub regions_without_baseline: i64,
    pub regions_all_reported: i64,
    pub regions_coverage_unchanged: Option<i64>,
    pub regions_joined_online_above_threshold: i64,
    pub regions_joined_online_active: i64,
    pub regions_coverage_above_threshold: i64,
    pub regions_without_worklist: i64,
}

/// A region's worklist in numbers (worklist_regions).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorklistRegion {
    pub region_code: String,
    /// Its active primary and territorial organizations.
    pub orgs: i64,
    /// Organizations its worklist lists, and their share of `orgs`.
    pub orgs_to_fix: i64,
    pub orgs_to_fix_pct: Option<f64>,
}

/// A span of PROFCARDS purchases the briefing sums (profcards_summary).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ProfcardsSpan {
    /// `year_to_period`, `year_to_period_prev` or `all`.
    pub span: String,
    pub year: Option<i64>,
    pub months: Option<i64>,
    pub purchases_change: Option<i64>,
    pub purchases_change_pct: Option<f64>,
    #[serde(flatten)]
    pub totals: Purchases,
}

impl std::ops::Deref for ProfcardsSpan {
    type Target = Purchases;
    fn deref(&self) -> &Purchases {
        &self.totals
    }
}

impl std::ops::Deref for ProfcardsMonth {
    type Target = Purchases;
    fn deref(&self) -> &Purchases {
        &self.totals
    }
}

impl std::ops::Deref for ProfcardsYear {
    type Target = Purchases;
    fn deref(&self) -> &Purchases {
        &self.totals
    }
}

/// Every mart of one date, plus what publishing shows beside them: the
/// national row of the comparison date and of every date in the warehouse
/// (for trends), and the run's manifest (for provenance).
#[derive(Debug, Clone)]
pub struct Marts {
    pub national: National,
    pub regions: Vec<Region>,
    pub districts: Vec<District>,
    pub quality: Vec<QualityRow>,
    pub worklist: Vec<WorklistRow>,
    pub worklist_regions: Vec<WorklistRegion>,
    pub profcards_monthly: Vec<ProfcardsMonth>,
    pub profcards_yearly: Vec<ProfcardsYear>,
    pub profcards_summary: Vec<ProfcardsSpan>,
    pub coverage_bands: Vec<CoverageBand>,
    pub regions_summary: RegionsSummary,
    pub national_changes: Vec<NationalChange>,
    pub quarterly_kpis: Vec<QuarterKpis>,
    pub quarterly_quality: Vec<QuarterCheck>,
    pub monitoring_regions: Vec<MonitoringRegion>,
    pub member_flows: Vec<MemberFlow>,
    pub member_flow_groups: Vec<MemberFlowGroup>,
    /// The national mart of C, when the warehouse has it.
    pub national_prev: Option<National>,
    /// The national mart of every date computed so far, oldest first.
    pub history: Vec<National>,
    /// Members on record per region at every date computed so far, oldest
    /// first: (date, region code → members).
    pub region_history: Vec<(NaiveDate, std::collections::BTreeMap<String, i64>)>,
    pub manifest: Option<Manifest>,
}

impl Marts {
    /// member_flows' row of `period` (`year`, `quarter`) for a scope: the
    /// union (`None, None`), a district (`None, Some(code)`) or a region
    /// (`Some(code), _`).
    pub fn member_flow(&self, period: &str, region: Option<&str>, district: Option<&str>) -> Option<&MemberFlow> {
        self.member_flows.iter().find(|f| {
            f.compared_period == period
                && match (region, district) {
                    (Some(r), _) => f.region_code.as_deref() == Some(r),
                    (None, Some(d)) => f.scope == "district" && f.federal_district.as_deref() == Some(d),
                    (None, None) => f.scope == "national",
                }
        })
    }

    /// The typed rows of `raw` (the marts of `as_of`, read once by
    /// `load_raw`), and of earlier dates what the pages compare with.
    pub async fn load(warehouse: &Warehouse, as_of: NaiveDate, raw: &[RawMart]) -> Result<Marts, PublishError> {
        fn typed<T: DeserializeOwned>(raw: &[RawMart], mart: &str, as_of: NaiveDate) -> Result<Vec<T>, PublishError> {
            let batches = raw.iter().find(|m| m.name == mart).map_or(&[][..], |m| &m.batches[..]);
            rows_from_batches(batches).map_err(|detail| PublishError::BadMart { mart: mart.into(), as_of, detail })
        }
        let national: National = one(typed(raw, "national", as_of)?, "national", as_of)?;
        let regions: Vec<Region> = typed(raw, "regions", as_of)?;
        // The trend is a picture of the past: a date whose mart cannot be
        // read (an older engine's) is left out of it, not fatal. The marts of
        // `as_of` itself are those just read.
        let mut history = Vec::new();
        let mut region_history = Vec::new();
        for date in mart_dates(warehouse, "national").await?.into_iter().filter(|d| *d < as_of) {
            match read::<National>(warehouse, "national", date).await {
                Ok(rows) => history.extend(rows),
                Err(e) => tracing::warn!("the trend leaves out {date}: {e}"),
            }
            match read::<RegionMembers>(warehouse, "regions", date).await {
                Ok(rows) => region_history.push((date, rows.into_iter().map(|r| (r.region_code, r.members)).collect())),
                Err(e) => tracing::warn!("the regions' trends leave out {date}: {e}"),
            }
        }
        history.push(national.clone());
        region_history.push((as_of, regions.iter().map(|r| (r.region_code.clone(), r.members)).collect()));
        let national_prev = national.compared_to.and_then(|c| history.iter().find(|h| h.as_of == c).cloned());
        Ok(Marts {
            national,
            regions,
            districts: typed(raw, "federal_districts", as_of)?,
            quality: typed(raw, "data_quality", as_of)?,
            worklist: typed(raw, "worklist", as_of)?,
            worklist_regions: typed(raw, "worklist_regions", as_of)?,
            profcards_monthly: typed(raw, "profcards_monthly", as_of)?,
            profcards_yearly: typed(raw, "profcards_yearly", as_of)?,
            profcards_summary: typed(raw, "profcards_summary", as_of)?,
            coverage_bands: typed(raw, "coverage_bands", as_of)?,
            regions_summary: one(typed(raw, "regions_summary", as_of)?, "regions_summary", as_of)?,
            national_changes: typed(raw, "national_changes", as_of)?,
            quarterly_kpis: typed(raw, "quarterly_kpis", as_of)?,
            quarterly_quality: typed(raw, "quarterly_quality", as_of)?,
            monitoring_regions: typed(raw, "monitoring_regions", as_of)?,
            member_flows: typed(raw, "member_flows", as_of)?,
            member_flow_groups: typed(raw, "member_flow_groups", as_of)?,
            national_prev,
            history,
            region_history,
            manifest: warehouse.read_manifest(as_of).await?,
        })
    }

    /// The marts as a part of the union may hold them: the rows that `keep`
    /// keeps, given each row's region and district (both null for the
    /// union's rows; a district's total has no region), in `raw`'s form and
    /// typed, with the regions' trends of the regions kept. Every mart with
    /// rows of a region or district is cut (the struct literal below makes
    /// a new one be thought about); the union's own marts stay whole.
    pub fn part(
        &self,
        raw: &[RawMart],
        keep: &dyn Fn(Option<&str>, Option<&str>) -> bool,
    ) -> Result<(Vec<RawMart>, Marts), PublishError> {
        fn cut<T: Clone>(rows: &[T], keep: impl Fn(&T) -> bool) -> Vec<T> {
            rows.iter().filter(|r| keep(r)).cloned().collect()
        }
        let as_of = self.national.as_of;
        let raw = raw.iter().map(|m| m.only(keep, as_of)).collect::<Result<Vec<_>, _>>()?;
        let marts = Marts {
            national: self.national.clone(),
            regions: cut(&self.regions, |r| keep(Some(&r.region_code), Some(&r.federal_district))),
            districts: cut(&self.districts, |d| keep(None, Some(&d.federal_district))),
            quality: cut(&self.quality, |q| keep(q.region_code.as_deref(), q.federal_district.as_deref())),
            worklist: cut(&self.worklist, |w| keep(Some(&w.region_code), None)),
            worklist_regions: cut(&self.worklist_regions, |w| keep(Some(&w.region_code), None)),
            profcards_monthly: self.profcards_monthly.clone(),
            profcards_yearly: self.profcards_yearly.clone(),
            profcards_summary: self.profcards_summary.clone(),
            coverage_bands: self.coverage_bands.clone(),
            regions_summary: self.regions_summary.clone(),
            national_changes: self.national_changes.clone(),
            quarterly_kpis: cut(&self.quarterly_kpis, |q| {
                keep(q.region_code.as_deref(), q.federal_district.as_deref())
            }),
            quarterly_quality: cut(&self.quarterly_quality, |q| {
                keep(q.region_code.as_deref(), q.federal_district.as_deref())
            }),
            monitoring_regions: cut(&self.monitoring_regions, |m| {
                keep(Some(&m.region_code), Some(&m.federal_district))
            }),
            member_flows: cut(&self.member_flows, |f| keep(f.region_code.as_deref(), f.federal_district.as_deref())),
            member_flow_groups: cut(&self.member_flow_groups, |g| keep(None, g.federal_district.as_deref())),
            national_prev: self.national_prev.clone(),
            history: self.history.clone(),
            region_history: self
                .region_history
                .iter()
                .map(|(date, members)| {
                    let kept = members.iter().filter(|(code, _)| keep(Some(code), None));
                    (*date, kept.map(|(c, m)| (c.clone(), *m)).collect())
                })
                .collect(),
            manifest: self.manifest.clone(),
        };
        Ok((raw, marts))
    }
}

/// The two columns of a regions mart a trend needs.
#[derive(Debug, Deserialize)]
struct RegionMembers {
    region_code: String,
    members: i64,
}

/// A mart's files as compute wrote them, and its rows: what the machine
/// exports copy and the people's files are made from.
#[derive(Debug, Clone)]
pub struct RawMart {
    pub name: &'static str,
    pub parquet: bytes::Bytes,
    pub csv: bytes::Bytes,
    /// The mart's columns (also when it has no rows).
    pub schema: arrow::datatypes::SchemaRef,
    pub batches: Vec<arrow::array::RecordBatch>,
}

impl RawMart {
    /// The rows `keep` keeps, given each row's `region_code` and
    /// `federal_district` (null, or no such column, for the union's rows),
    /// with their files made again.
    pub fn only(
        &self,
        keep: &dyn Fn(Option<&str>, Option<&str>) -> bool,
        as_of: NaiveDate,
    ) -> Result<RawMart, PublishError> {
        let bad = |detail: String| PublishError::BadMart { mart: self.name.to_string(), as_of, detail };
        let placed = ["region_code", "federal_district"].iter().any(|c| self.schema.column_with_name(c).is_some());
        if !placed {
            // The union's own rows: all kept, the files as they are.
            return Ok(self.clone());
        }
        let mut batches = Vec::with_capacity(self.batches.len());
        for batch in &self.batches {
            let column = |name: &str| -> Result<Option<arrow::array::ArrayRef>, String> {
                match batch.column_by_name(name) {
                    Some(c) => {
                        arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).map(Some).map_err(|e| e.to_string())
                    }
                    None => Ok(None),
                }
            };
            let (region, district) = (column("region_code").map_err(bad)?, column("federal_district").map_err(bad)?);
            fn text(c: &Option<arrow::array::ArrayRef>, i: usize) -> Option<&str> {
                let c = c.as_ref()?.as_any().downcast_ref::<arrow::array::StringArray>()?;
                (!arrow::array::Array::is_null(c, i)).then(|| c.value(i))
            }
            let mask: arrow::array::BooleanArray =
                (0..batch.num_rows()).map(|i| Some(keep(text(&region, i), text(&district, i)))).collect();
            batches.push(arrow::compute::filter_record_batch(batch, &mask).map_err(|e| bad(e.to_string()))?);
        }
        // Uncompressed: the part travels in a zip.
        let (parquet, csv) = crate::compute::mart_files(&self.schema, &batches, false).map_err(bad)?;
        Ok(RawMart { name: self.name, parquet: parquet.into(), csv: csv.into(), schema: self.schema.clone(), batches })
    }
}

/// Every mart of `as_of`, in the order compute writes them.
pub async fn load_raw(warehouse: &Warehouse, as_of: NaiveDate) -> Result<Vec<RawMart>, PublishError> {
    let mut marts = Vec::new();
    for (name, _) in crate::compute::MARTS {
        let file = |ext: &str| layout::mart_file(name, as_of, ext);
        let missing = || PublishError::MissingMart { mart: name.to_string(), as_of };
        let parquet = warehouse.location().read(&file("parquet")).await?.ok_or_else(missing)?;
        let csv = warehouse.location().read(&file("csv")).await?.ok_or_else(missing)?;
        let (schema, batches) = decode(parquet.clone()).map_err(|detail| PublishError::BadMart {
            mart: name.to_string(),
            as_of,
            detail,
        })?;
        marts.push(RawMart { name, parquet, csv, schema, batches });
    }
    Ok(marts)
}

/// Dates for which `mart` has been computed, oldest first.
pub async fn mart_dates(warehouse: &Warehouse, mart: &str) -> Result<Vec<NaiveDate>, PublishError> {
    Ok(warehouse.partition_dates(&layout::mart_dir(mart)).await?)
}

fn one<T>(rows: Vec<T>, mart: &str, as_of: NaiveDate) -> Result<T, PublishError> {
    rows.into_iter().next().ok_or_else(|| PublishError::BadMart {
        mart: mart.into(),
        as_of,
        detail: "it has no row".into(),
    })
}

async fn read<T: DeserializeOwned>(
    warehouse: &Warehouse,
    mart: &str,
    as_of: NaiveDate,
) -> Result<Vec<T>, PublishError> {
    let path = layout::mart_file(mart, as_of, "parquet");
    let bytes =
        warehouse.location().read(&path).await?.ok_or(PublishError::MissingMart { mart: mart.into(), as_of })?;
    rows(bytes).map_err(|detail| PublishError::BadMart { mart: mart.into(), as_of, detail })
}

fn rows<T: DeserializeOwned>(bytes: bytes::Bytes) -> Result<Vec<T>, String> {
    rows_from_batches(&decode(bytes)?.1)
}

/// A mart's Parquet file as its schema and record batches.
fn decode(bytes: bytes::Bytes) -> Result<(arrow::datatypes::SchemaRef, Vec<arrow::array::RecordBatch>), String> {
    decode_parquet(bytes).map_err(|e| e.to_string())
}

fn rows_from_batches<T: DeserializeOwned>(batches: &[arrow::array::RecordBatch]) -> Result<Vec<T>, String> {
    let mut json = arrow::json::ArrayWriter::new(Vec::new());
    for batch in batches {
        json.write(batch).map_err(|e| e.to_string())?;
    }
    json.finish().map_err(|e| e.to_string())?;
    let text = json.into_inner();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&text).map_err(|e| e.to_string())
}

/// A decimal column (money) arrives as a JSON number or a string.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        F(f64),
        S(String),
    }
    match Num::deserialize(d)? {
        Num::F(x) => Ok(x),
        Num::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}
