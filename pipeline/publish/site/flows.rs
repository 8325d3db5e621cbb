//! «Движение членов Профсоюза» on the district and region pages: where the
//! change in members since an earlier snapshot came from. Every figure is a
//! row of member_flows; this module picks the page's rows, lays out the
//! waterfall of one comparison and, for a district, lines up its regions.

use serde::Serialize;

use super::super::charts::{self, Waterfall, WaterfallStep};
use super::super::marts::MemberFlow;
use super::{RegionView, Site};
use crate::contract::QualityCheck;

/// The comparisons of member_flows, in the order the table shows them.
const PERIODS: [&str; 2] = ["year", "quarter"];

/// The data-quality check that counts the members gone from the export,
/// which the section's note points to.
const GONE_CHECK: &str = "members_gone_from_export";

/// A comparison with its earlier snapshot: a column of the section's table.
#[derive(Debug, Clone, Serialize)]
pub struct FlowColumn<'a> {
    /// `year` or `quarter`: the template words it.
    pub period: &'static str,
    pub row: &'a MemberFlow,
}

/// A region of a district with its flows over the year.
#[derive(Debug, Clone, Serialize)]
pub struct RegionFlow<'r, 'a> {
    pub region: &'r RegionView<'a>,
    pub flow: &'a MemberFlow,
}

/// What the section shows for one place.
#[derive(Debug, Clone, Serialize)]
pub struct FlowsSection<'r, 'a> {
    /// The comparisons whose earlier snapshot the warehouse has.
    pub columns: Vec<FlowColumn<'a>>,
    /// Those it lacks (`year`, `quarter`): the page says so instead of
    /// showing zeros.
    pub missing: Vec<&'static str>,
    /// The waterfall of the first comparison shown (the year's when there
    /// is one), and which that is.
    pub chart: Option<Waterfall>,
    pub chart_period: Option<&'static str>,
    /// A district's regions (its page's order), over the year.
    pub regions: Vec<RegionFlow<'r, 'a>>,
    /// The title of the check that counts members gone from the export.
    pub gone_check: &'a str,
}

impl<'a> Site<'a> {
    /// The section of a region (`Some(code)`) or a district's (`None,
    /// Some(code)`); `regions` are a district's regions in its page's order.
    pub(super) fn flows_section<'r>(
        &self,
        region: Option<&str>,
        district: Option<&str>,
        regions: &[&'r RegionView<'a>],
    ) -> FlowsSection<'r, 'a> {
        let marts = self.marts;
        let mut columns = Vec::new();
        let mut missing = Vec::new();
        for period in PERIODS {
            match marts.member_flow(period, region, district) {
                Some(row) if row.compared_to.is_some() => columns.push(FlowColumn { period, row }),
                _ => missing.push(period),
            }
        }
        let chart = columns.first().map(|c| waterfall(c.row));
        let chart_period = columns.first().map(|c| c.period);
        let regions = if columns.iter().any(|c| c.period == "year") {
            regions
                .iter()
                .filter_map(|r| {
                    marts.member_flow("year", Some(&r.row.region_code), None).map(|flow| RegionFlow { region: r, flow })
                })
                .collect()
        } else {
            Vec::new()
        };
        let gone_check = QualityCheck::find(GONE_CHECK).map_or(GONE_CHECK, |c| c.title.as_str());
        FlowsSection { columns, missing, chart, chart_period, regions, gone_check }
    }
}

/// From the members at the earlier snapshot to those at D, in the
/// identity's order: in, then out; gone from the export drawn apart from
/// those who left (a data-quality signal, not a resignation).
fn waterfall(f: &MemberFlow) -> Waterfall {
    let v = |x: Option<i64>| x.unwrap_or(0);
    let steps = vec![
        WaterfallStep { key: "joined", class: "wf-in", change: v(f.joined) },
        WaterfallStep { key: "registered_late", class: "wf-in", change: v(f.registered_late) },
        WaterfallStep { key: "left_record", class: "wf-out", change: -v(f.left_record) },
        WaterfallStep { key: "gone_from_export", class: "wf-gone", change: -v(f.gone_from_export) },
        WaterfallStep { key: "moved_in", class: "wf-in", change: v(f.moved_in) },
        WaterfallStep { key: "moved_out", class: "wf-out", change: -v(f.moved_out) },
    ];
    charts::waterfall(("members_prev", v(f.members_prev)), steps, ("members", f.members))
}
