//! Publish: what people read, made from the marts — the site, the exports and
//! the briefing (to come). `russian` is the one place numbers, percentages,
//! dates and plural forms are written the way the union's staff read them.

pub mod russian;
