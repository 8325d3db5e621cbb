//! What compute runs, found from the files: every `queries/views/*.sql` and
//! `queries/marts/*.sql` (listed by build.rs, compiled in), put in the order
//! their names require, and each mart's declared columns from
//! `schemas/marts/<mart>.toml` (see `schema.rs`).
//!
//! A view runs after every view whose name it mentions; a mart after every
//! mart it reads as `mart_<name>` (views all run before the marts). Names are
//! matched as whole SQL identifiers outside comments and string literals. Ties
//! go by file name, so the order is stable. Refused, with the file to fix: a
//! cycle, a view that reads a mart, `mart_<name>` of no mart, a view file that
//! does not create the view of its name, a view no mart reads, a mart without
//! a schema file (or the reverse), and a `.sql` file that nothing runs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use super::ComputeError;
use super::schema::MartSchema;

// VIEW_FILES, MART_FILES, SCHEMA_FILES: (stem, text) by stem; STRAY_FILES:
// other `.sql` files under queries/.
include!(concat!(env!("OUT_DIR"), "/definitions.rs"));

/// One query file: its name (the file's stem) and its SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query<'a> {
    pub name: &'a str,
    pub sql: &'a str,
}

/// The views and the marts in the order compute runs them, and the marts'
/// schemas.
#[derive(Debug)]
pub struct Definitions {
    pub views: Vec<Query<'static>>,
    pub marts: Vec<Query<'static>>,
    pub schemas: Vec<MartSchema>,
}

static EMBEDDED: LazyLock<Result<Definitions, String>> =
    LazyLock::new(|| Definitions::from_sources(VIEW_FILES, MART_FILES, SCHEMA_FILES, STRAY_FILES));

impl Definitions {
    /// The definitions compiled into this binary (the test suite checks that
    /// they are valid, so the error can only come from a build that was not
    /// tested).
    pub fn embedded() -> Result<&'static Definitions, ComputeError> {
        EMBEDDED.as_ref().map_err(|e| ComputeError::Definitions(e.clone()))
    }

    pub fn from_sources(
        views: &[(&'static str, &'static str)],
        marts: &[(&'static str, &'static str)],
        schemas: &[(&str, &str)],
        stray: &[&str],
    ) -> Result<Definitions, String> {
        if let Some(file) = stray.first() {
            return Err(format!(
                "{file} is never run: compute runs queries/views/*.sql, queries/marts/*.sql, queries/dates/baseline.sql and \
                 the gate's queries/gate/gate.sql only; move it there or delete it"
            ));
        }
        let query = |&(name, sql): &(&'static str, &'static str)| Query { name, sql };
        let (views, marts) =
            order(&views.iter().map(query).collect::<Vec<_>>(), &marts.iter().map(query).collect::<Vec<_>>())?;
        let mut parsed = Vec::new();
        for (file, text) in schemas {
            parsed.push(MartSchema::parse(file, text)?);
        }
        for mart in &marts {
            if !parsed.iter().any(|s| s.name == mart.name) {
                return Err(format!(
                    "queries/marts/{0}.sql has no schema: add schemas/marts/{0}.toml declaring its columns (see README, Marts)",
                    mart.name
                ));
            }
        }
        for schema in &parsed {
            if !marts.iter().any(|m| m.name == schema.name) {
                return Err(format!(
                    "schemas/marts/{0}.toml declares a mart with no query: add queries/marts/{0}.sql or delete it",
                    schema.name
                ));
            }
        }
        Ok(Definitions { views, marts, schemas: parsed })
    }

    pub fn schema(&self, mart: &str) -> Option<&MartSchema> {
        self.schemas.iter().find(|s| s.name == mart)
    }

    /// The schema of a mart compute is about to use, which must exist.
    pub fn required_schema(&self, mart: &str) -> Result<&MartSchema, ComputeError> {
        self.schema(mart).ok_or_else(|| ComputeError::Definitions(format!("no schema for mart {mart}")))
    }
}

/// Views and marts in the order their dependencies require.
pub fn order<'a>(views: &[Query<'a>], marts: &[Query<'a>]) -> Result<(Vec<Query<'a>>, Vec<Query<'a>>), String> {
    let view_names: BTreeSet<&str> = views.iter().map(|v| v.name).collect();
    let mart_names: BTreeSet<&str> = marts.iter().map(|m| m.name).collect();
    let mut view_deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut mart_deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut read_by_a_mart: BTreeSet<&str> = BTreeSet::new();

    for v in views {
        let file = format!("queries/views/{}.sql", v.name);
        let words = identifiers(v.sql);
        if created_name(&words).as_deref() != Some(v.name) {
            return Err(format!(
                "{file} must create the view it is named after: CREATE VIEW {0} AS … or CREATE TABLE {0} AS …",
                v.name
            ));
        }
        if let Some(mart) = words.iter().find_map(|w| w.strip_prefix("mart_")) {
            return Err(format!(
                "{file} reads mart_{mart}, but views run before the marts: make it a mart, or read what the mart reads"
            ));
        }
        let deps = words.iter().filter_map(|w| view_names.get(w.as_str()).copied()).filter(|d| *d != v.name);
        view_deps.insert(v.name, deps.collect::<BTreeSet<_>>().into_iter().collect());
    }
    for m in marts {
        let file = format!("queries/marts/{}.sql", m.name);
        let words = identifiers(m.sql);
        let mut deps = BTreeSet::new();
        for word in &words {
            if let Some(other) = word.strip_prefix("mart_") {
                match mart_names.get(other) {
                    Some(other) if *other != m.name => {
                        deps.insert(*other);
                    }
                    Some(_) => return Err(format!("{file} reads mart_{other}, itself")),
                    None => {
                        return Err(format!("{file} reads mart_{other}, but there is no queries/marts/{other}.sql"));
                    }
                }
            }
            if let Some(v) = view_names.get(word.as_str()) {
                read_by_a_mart.insert(*v);
            }
        }
        mart_deps.insert(m.name, deps.into_iter().collect());
    }
    // A view counts as read when a mart reads it or a view a mart reads.
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut pending: Vec<&str> = read_by_a_mart.into_iter().collect();
    while let Some(v) = pending.pop() {
        if used.insert(v) {
            pending.extend(view_deps[v].iter().copied());
        }
    }
    if let Some(v) = views.iter().find(|v| !used.contains(v.name)) {
        return Err(format!("queries/views/{}.sql is read by no mart: delete it, or use it in queries/marts/", v.name));
    }
    let view_order = topological(views, &view_deps, "views")?;
    let mart_order = topological(marts, &mart_deps, "marts")?;
    Ok((view_order, mart_order))
}

/// Depth first, in name order: each query right after what it needs.
fn topological<'a>(
    queries: &[Query<'a>],
    deps: &BTreeMap<&str, Vec<&str>>,
    kind: &str,
) -> Result<Vec<Query<'a>>, String> {
    fn visit<'q>(
        name: &'q str,
        deps: &BTreeMap<&str, Vec<&'q str>>,
        path: &mut Vec<&'q str>,
        done: &mut Vec<&'q str>,
        kind: &str,
    ) -> Result<(), String> {
        if done.contains(&name) {
            return Ok(());
        }
        if let Some(start) = path.iter().position(|p| *p == name) {
            let cycle: Vec<String> =
                path[start..].iter().chain([&name]).map(|n| format!("queries/{kind}/{n}.sql")).collect();
            return Err(format!("a cycle: {} (each reads the next)", cycle.join(" → ")));
        }
        path.push(name);
        for d in &deps[name] {
            visit(d, deps, path, done, kind)?;
        }
        path.pop();
        done.push(name);
        Ok(())
    }
    let mut sorted: Vec<&Query<'a>> = queries.iter().collect();
    sorted.sort_by_key(|q| q.name);
    let mut done = Vec::new();
    for q in &sorted {
        visit(q.name, deps, &mut Vec::new(), &mut done, kind)?;
    }
    Ok(done.iter().map(|n| *queries.iter().find(|q| q.name == *n).expect("a known query")).collect())
}

/// The name a `CREATE [OR REPLACE] [TEMPORARY] TABLE|VIEW [IF NOT EXISTS] <name>` creates.
fn created_name(words: &[String]) -> Option<String> {
    if words.first().map(String::as_str) != Some("create") {
        return None;
    }
    let filler =
        ["or", "replace", "temporary", "temp", "external", "unbounded", "table", "view", "if", "not", "exists"];
    words[1..].iter().find(|w| !filler.contains(&w.as_str())).cloned()
}

/// The identifiers of a SQL text, lower-cased, in order: keywords and names
/// alike, none from a comment or a string literal. A quoted identifier is
/// one word as written.
fn identifiers(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'-' && bytes.get(i + 1) == Some(&b'-') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i += 2;
        } else if b == b'\'' || b == b'"' {
            // '' inside a literal ends it and starts the next: same result.
            let start = i + 1;
            i = start;
            while i < bytes.len() && bytes[i] != b {
                i += 1;
            }
            if b == b'"' {
                words.push(sql[start..i.min(bytes.len())].to_string());
            }
            i += 1;
        } else if word_byte(b) {
            let start = i;
            while i < bytes.len() && word_byte(bytes[i]) {
                i += 1;
            }
            // Numbers (100, 1e6) are not names.
            if !b.is_ascii_digit() {
                words.push(sql[start..i].to_ascii_lowercase());
            }
        } else {
            i += 1;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q<'a>(name: &'a str, sql: &'a str) -> Query<'a> {
        Query { name, sql }
    }

    fn names<'a>(queries: &[Query<'a>]) -> Vec<&'a str> {
        queries.iter().map(|q| q.name).collect()
    }

    #[test]
    fn the_embedded_queries_and_schemas_are_valid() {
        let d = Definitions::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.views.len(), VIEW_FILES.len(), "every view file runs");
        assert_eq!(d.marts.len(), MART_FILES.len(), "every mart file runs");
        assert!(!d.marts.is_empty() && d.schemas.len() == d.marts.len());
        let at =
            |list: &[Query], n: &str| list.iter().position(|q| q.name == n).unwrap_or_else(|| panic!("{n} is not run"));
        assert!(at(&d.marts, "regions") < at(&d.marts, "federal_districts"), "federal_districts sums mart_regions");
        assert!(at(&d.views, "members_on_record") < at(&d.views, "org_members"));
        assert!(at(&d.views, "org_members") < at(&d.views, "member_counts"));
        assert!(at(&d.views, "org_flags") < at(&d.views, "org_check_failures"));
        assert!(at(&d.views, "active_orgs") < at(&d.views, "org_flags"));
    }

    #[test]
    fn dependencies_come_first_and_ties_go_by_name() {
        let views = [
            q("c_view", "CREATE VIEW c_view AS SELECT * FROM a_view JOIN members USING (x)"),
            q(
                "a_view",
                "-- reads c_view? No: comments do not count.\nCREATE TABLE a_view AS SELECT 'b_view' AS t FROM b_view",
            ),
            q("b_view", "CREATE VIEW b_view AS SELECT 1 AS b_view_count FROM organizations"),
        ];
        let marts = [
            q("sums", "SELECT * FROM mart_base JOIN \"c_view\" ON true"),
            q("base", "SELECT * FROM c_view"),
            q("alone", "SELECT * FROM a_view"),
        ];
        let (v, m) = order(&views, &marts).unwrap();
        assert_eq!(names(&v), ["b_view", "a_view", "c_view"]);
        assert_eq!(names(&m), ["alone", "base", "sums"]);
    }

    #[test]
    fn a_cycle_is_refused_with_its_files() {
        let views = [q("a", "CREATE VIEW a AS SELECT * FROM b"), q("b", "CREATE VIEW b AS SELECT * FROM a")];
        let e = order(&views, &[q("m", "SELECT * FROM a")]).unwrap_err();
        assert!(e.contains("queries/views/a.sql → queries/views/b.sql → queries/views/a.sql"), "{e}");
        let marts = [q("x", "SELECT * FROM mart_y"), q("y", "SELECT * FROM mart_x")];
        let e = order(&[], &marts).unwrap_err();
        assert!(e.contains("cycle") && e.contains("queries/marts/x.sql"), "{e}");
    }

    #[test]
    fn unknown_marts_views_reading_marts_and_unused_views_are_refused() {
        let e = order(&[], &[q("x", "SELECT * FROM mart_nope")]).unwrap_err();
        assert!(e.contains("queries/marts/x.sql reads mart_nope") && e.contains("no queries/marts/nope.sql"), "{e}");
        let e = order(&[q("v", "CREATE VIEW v AS SELECT * FROM mart_x")], &[q("x", "SELECT * FROM v")]).unwrap_err();
        assert!(e.contains("queries/views/v.sql reads mart_x"), "{e}");
        let e = order(&[q("v", "CREATE VIEW v AS SELECT 1")], &[q("x", "SELECT 'v' AS v_name")]).unwrap_err();
        assert!(e.contains("queries/views/v.sql is read by no mart"), "{e}");
        let e = order(&[q("v", "CREATE VIEW w AS SELECT 1")], &[q("x", "SELECT * FROM v")]).unwrap_err();
        assert!(e.contains("queries/views/v.sql must create"), "{e}");
    }

    #[test]
    fn a_sql_file_nothing_runs_and_a_mart_without_schema_are_refused() {
        let schema = "name = \"x\"\ndescription = \"x\"\n[[columns]]\nname = \"a\"\ntype = \"Int64\"\nnullable = false\nrequired = true\nformat = \"int\"\ntitle = \"А\"\n";
        assert!(Definitions::from_sources(&[], &[("x", "SELECT 1 AS a")], &[("x", schema)], &[]).is_ok());
        let e = Definitions::from_sources(&[], &[("x", "SELECT 1 AS a")], &[("x", schema)], &["queries/old/x.sql"])
            .unwrap_err();
        assert!(e.contains("queries/old/x.sql is never run"), "{e}");
        let e =
            Definitions::from_sources(&[], &[("x", "SELECT 1 AS a"), ("y", "SELECT 1 AS a")], &[("x", schema)], &[])
                .unwrap_err();
        assert!(e.contains("queries/marts/y.sql has no schema"), "{e}");
        let e = Definitions::from_sources(&[], &[], &[("x", schema)], &[]).unwrap_err();
        assert!(e.contains("schemas/marts/x.toml declares a mart with no query"), "{e}");
    }

    #[test]
    fn identifiers_skip_comments_and_literals() {
        let sql = "SELECT a.x AS \"Check\", 'org_members' /* active_orgs */ FROM Org_Members -- member_counts\n WHERE y = 1e6";
        assert_eq!(identifiers(sql), ["select", "a", "x", "as", "Check", "from", "org_members", "where", "y"]);
    }
}
