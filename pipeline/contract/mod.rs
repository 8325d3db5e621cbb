//! The snapshot contract as data: reads `schemas/snapshot/*.toml` (embedded in
//! the binary) into typed table definitions, and owns the parsing of the value
//! forms the contract allows (dates, booleans, money, enums, region codes).
//!
//! This module knows nothing of files or KPIs; it must never hard-code a column
//! that the schema files define.

mod reference;
mod schema;
pub mod values;

pub use reference::{HeadlineIndicator, QualityCheck, Region, RegionReference};
pub use schema::{
    Column, ColumnType, Contract, Limits, MONEY_PRECISION, MONEY_SCALE, Reference, RequiredUnless, Table,
};
