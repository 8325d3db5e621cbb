"""What the benchmark scripts share: the snapshot they run on and how a run
is timed, the typed CSV → Parquet conversion every peer does first,
reestr's query order and its reference tables, registered in DuckDB as
reestr registers them."""
import datetime
import os
import re
import subprocess
import sys
import tomllib

TABLES = ["organizations", "members", "stat_reports", "official_stats", "profcards_purchases"]


def report_period(D):
    """P: the latest quarter start on or before D."""
    return datetime.date(D.year, (D.month - 1) // 3 * 3 + 1, 1)


def ensure_snapshot(root, binary, scale, d):
    """The plain snapshot of `scale` under bench-data/ (generated once)."""
    snapshot = os.path.join(root, "bench-data", f"scale-{scale}", "snapshot")
    if not os.path.exists(os.path.join(snapshot, "members.csv")):
        subprocess.run([binary, "-q", "generate", "--out", snapshot, "--as-of", d, "--scale", scale], check=True)
    return snapshot


def timed(name, command):
    """Wall seconds, peak RSS in MB (GNU time) and stdout of a command; exits on failure."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{name} failed:\n{out.stdout}\n{out.stderr}")
    seconds, kb = out.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kb) / 1024, out.stdout.strip()


def contract(root):
    """The snapshot tables' contracts (schemas/snapshot/*.toml), by table."""
    return {t: tomllib.load(open(f"{root}/schemas/snapshot/{t}.toml", "rb")) for t in TABLES}


def stored(col):
    """A contract column's name in the warehouse."""
    return col.get("stored_as", col["name"])


def duckdb_to_parquet(con, tables, snapshot, work):
    """Every table's CSV into zstd Parquet under `work`, each column parsed
    with its contract type, and a view of each over its Parquet."""
    duck_type = {"text": "VARCHAR", "enum": "VARCHAR", "region_code": "VARCHAR", "date": "DATE",
                 "bool": "BOOLEAN", "int": "BIGINT", "money": "DECIMAL(18,2)"}
    for t in TABLES:
        cols = tables[t]["columns"]
        types = ", ".join(f"'{c['name']}': '{duck_type[c['type']]}'" for c in cols)
        select = ", ".join(f'"{c["name"]}" AS "{stored(c)}"' for c in cols)
        out = f"{work}/{t}.parquet"
        con.execute(f"""COPY (SELECT {select} FROM read_csv('{snapshot}/{t}.csv', header=true, delim=',',
                            quote='"', dateformat='%Y-%m-%d', columns={{{types}}}))
                        TO '{out}' (FORMAT parquet, COMPRESSION zstd)""")
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{out}')")


def polars_to_parquet(tables, snapshot, work):
    """The same in polars (lazy scan_csv → sink_parquet); returns the lazy
    scans of the Parquet files, by table."""
    import polars as pl

    pl_type = {"text": pl.String, "enum": pl.String, "region_code": pl.String, "date": pl.Date,
               "bool": pl.Boolean, "int": pl.Int64, "money": pl.Decimal(18, 2)}
    scans = {}
    for t in TABLES:
        cols = tables[t]["columns"]
        (pl.scan_csv(f"{snapshot}/{t}.csv", schema={c["name"]: pl_type[c["type"]] for c in cols},
                     separator=",", quote_char='"', encoding="utf8")
           .rename({c["name"]: stored(c) for c in cols})
           .sink_parquet(f"{work}/{t}.parquet", compression="zstd"))
        scans[t] = pl.scan_parquet(f"{work}/{t}.parquet")
    return scans


def _identifiers(sql):
    """The identifiers of a SQL text, lower-cased, none from a comment or a
    string literal; a quoted identifier as written."""
    sql = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)
    words = []
    for quoted, literal, word in re.findall(r'"([^"]*)"|(\'[^\']*\')|([A-Za-z_\x80-\uffff][\w$\x80-\uffff]*|\d[\w$]*)', sql):
        if quoted:
            words.append(quoted)
        elif word and not word[0].isdigit():
            words.append(word.lower())
    return words


def query_order(root):
    """(kind, name) of queries/views and queries/marts in the order reestr runs
    them (pipeline/compute/definitions.rs): every view after the views it names,
    every mart after the marts it reads as mart_<name>, ties by file name."""
    import os

    def files(kind):
        folder = f"{root}/queries/{kind}"
        return {f[:-4]: open(f"{folder}/{f}").read() for f in sorted(os.listdir(folder)) if f.endswith(".sql")}

    order = []
    for kind, queries in (("views", files("views")), ("marts", files("marts"))):
        deps = {}
        for name, sql in queries.items():
            words = _identifiers(sql)
            if kind == "views":
                deps[name] = {w for w in words if w in queries and w != name}
            else:
                deps[name] = {w[5:] for w in words if w.startswith("mart_") and w[5:] in queries and w[5:] != name}
        done = []

        def visit(name, path):
            if name in done:
                return
            if name in path:
                sys.exit(f"a cycle in queries/{kind}: {' → '.join(path + [name])}")
            for d in sorted(deps[name]):
                visit(d, path + [name])
            done.append(name)

        for name in sorted(queries):
            visit(name, [])
        order.extend((kind, name) for name in done)
    return order


def duckdb_reference(con, root):
    """The `regions` and `federal_districts` tables from schemas/reference/."""
    con.execute(f"""CREATE TABLE regions AS SELECT region_code, name AS region_name, name_genitive AS region_name_genitive,
        short_name, kind, district_code AS federal_district, tile_row, tile_col
        FROM read_csv('{root}/schemas/reference/regions.csv', all_varchar=true)""")
    con.execute(f"""CREATE TABLE federal_districts AS SELECT district_code AS federal_district, name AS district_name,
        short_name AS district_short_name, CAST(sort_order AS USMALLINT) AS sort_order
        FROM read_csv('{root}/schemas/reference/federal_districts.csv', all_varchar=true)""")


def mart_columns(root, mart):
    """(name, Arrow type) of a mart, from schemas/marts/<mart>.toml."""
    import tomllib

    schema = tomllib.load(open(f"{root}/schemas/marts/{mart}.toml", "rb"))
    return [(c["name"], c["type"]) for c in schema["columns"]]


# The marts of earlier dates compute reads, as the tables it registers them
# as: with one snapshot and no history they are empty.
PAST_MARTS = {"prev_national": "national", "past_history_kpis": "history_kpis", "past_data_quality": "data_quality"}
