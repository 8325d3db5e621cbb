"""The nightly job done by a peer engine, for bench/run.sh: read a plain
snapshot's CSV files into typed Parquet, then run reestr's own KPI queries
(queries/views/*.sql, queries/marts/*.sql, unchanged) over that Parquet.

    python3 bench/peers.py duckdb|polars <snapshot folder> <work folder> <D> [--check <reestr warehouse>]

Types come from the contract (schemas/snapshot/*.toml). No validation, no
rejects, no personal-data filtering: the floor a peer needs for the same
marts. C's national mart (`prev_national`, for national_changes) is an empty
table of the national mart's columns: a single date has no C, as in reestr
without one. With --check, each mart is compared with the one reestr wrote: numbers as
numbers (the engines differ in integer and decimal types), percentages to 4
decimals (polars reads `100.0 *` as a decimal of limited scale).
"""
import datetime
import os
import re
import sys
import time

from shared import (PAST_MARTS, TABLES, contract, duckdb_reference, duckdb_to_parquet, mart_columns,
                    polars_to_parquet, query_order, report_period)

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
engine, snapshot, work, d = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
check = sys.argv[sys.argv.index("--check") + 1] if "--check" in sys.argv else None
os.makedirs(work, exist_ok=True)
D = datetime.date.fromisoformat(d)
P = report_period(D)
tables = contract(root)
order = query_order(root)
# The columns of queries/pairs/member_pairs.sql's result.
PAIRS = [("compared_period", "Utf8"), ("then_date", "Date32"), ("region_then", "Utf8"), ("region_now", "Utf8"),
         ("district_then", "Utf8"), ("district_now", "Utf8"), ("flow", "Utf8"), ("category_then", "Utf8"),
         ("category_now", "Utf8"), ("recycled", "Boolean"), ("org_then", "Utf8"), ("org_now", "Utf8"), ("n", "Int64")]


def query_text(kind, name):
    sql = open(f"{root}/queries/{kind}/{name}.sql").read()
    return sql


started = time.perf_counter()
marks = {}

if engine == "duckdb":
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    duckdb_to_parquet(con, tables, snapshot, work)
    for t in TABLES:
        con.execute(f"CREATE VIEW {t}_prev AS SELECT * FROM {t} WHERE false")
    marks["csv → parquet"] = time.perf_counter() - started
    duckdb_reference(con, root)
    duck_mart_type = {"Int64": "BIGINT", "Float64": "DOUBLE", "Utf8": "VARCHAR", "Date32": "DATE", "Boolean": "BOOLEAN"}
    con.execute(f"""CREATE TABLE params AS SELECT DATE '{D}' AS d, DATE '{P}' AS p,
        (SELECT max(stats_as_of) FROM official_stats WHERE stats_as_of <= DATE '{D}') AS b, CAST(NULL AS DATE) AS c,
        CAST(NULL AS DATE) AS q""")
    # One snapshot, no earlier one to pair members with: reestr's member_pairs
    # (queries/pairs/, run by compute per comparison) is empty too.
    con.execute("CREATE TABLE member_pairs (" + ", ".join(f'"{c}" {duck_mart_type[t]}' for c, t in PAIRS) + ")")
    for table, mart in PAST_MARTS.items():
        con.execute(f"CREATE TABLE {table} (" + ", ".join(f'"{c}" {duck_mart_type[t]}' for c, t in mart_columns(root, mart)) + ")")
    for kind, name in order:
        sql = query_text(kind, name).rstrip().rstrip(";")
        if kind == "views":
            con.execute(sql)
        else:
            con.execute(f"CREATE TABLE mart_{name} AS {sql}")
            con.execute(f"COPY mart_{name} TO '{work}/{name}.parquet' (FORMAT parquet)")
    marks["queries"] = time.perf_counter() - started - marks["csv → parquet"]

elif engine == "polars":
    import polars as pl

    ctx = pl.SQLContext()
    for t, frame in polars_to_parquet(tables, snapshot, work).items():
        ctx.register(t, frame)
        ctx.register(f"{t}_prev", frame.head(0))
    marks["csv → parquet"] = time.perf_counter() - started
    regions = pl.read_csv(f"{root}/schemas/reference/regions.csv", infer_schema=False).rename(
        {"name": "region_name", "name_genitive": "region_name_genitive", "district_code": "federal_district"})
    ctx.register("regions", regions.lazy())
    districts = pl.read_csv(f"{root}/schemas/reference/federal_districts.csv", infer_schema=False).rename(
        {"district_code": "federal_district", "name": "district_name", "short_name": "district_short_name"}
    ).with_columns(pl.col("sort_order").cast(pl.Int64))
    ctx.register("federal_districts", districts.lazy())
    b = pl.scan_parquet(f"{work}/official_stats.parquet").filter(pl.col("stats_as_of") <= D).select(pl.col("stats_as_of").max()).collect().item()
    ctx.register("params", pl.DataFrame({"d": [D], "p": [P], "b": [b], "c": [None], "q": [None]}, schema={"d": pl.Date, "p": pl.Date, "b": pl.Date, "c": pl.Date, "q": pl.Date}).lazy())
    pl_mart_type = {"Int64": pl.Int64, "Float64": pl.Float64, "Utf8": pl.String, "Date32": pl.Date, "Boolean": pl.Boolean}
    ctx.register("member_pairs", pl.DataFrame(schema={c: pl_mart_type[t] for c, t in PAIRS}).lazy())
    for table, mart in PAST_MARTS.items():
        ctx.register(table, pl.DataFrame(schema={c: pl_mart_type[t] for c, t in mart_columns(root, mart)}).lazy())
    for kind, name in order:
        sql = re.sub(r"--.*", "", query_text(kind, name))
        made = re.match(r"\s*CREATE (VIEW|TABLE) (\w+) AS", sql)
        body = sql[made.end():] if made else sql
        body = body.strip().rstrip(";")
        frame = ctx.execute(body)
        if kind == "views":
            # A view stays lazy; a table (reused by several marts) is computed once.
            ctx.register(name, frame.collect().lazy() if made.group(1) == "TABLE" else frame)
        else:
            result = frame.collect()
            result.write_parquet(f"{work}/{name}.parquet")
            ctx.register(f"mart_{name}", result.lazy())
    marks["queries"] = time.perf_counter() - started - marks["csv → parquet"]
else:
    sys.exit(f"unknown engine {engine}")

total = time.perf_counter() - started
print(f"{engine}: {total:.2f} s (" + ", ".join(f"{k} {v:.2f} s" for k, v in marks.items()) + ")")

if check:
    import duckdb

    con = duckdb.connect()
    for kind, name in order:
        if kind != "marts":
            continue
        ours = f"read_parquet('{check}/marts/{name}/as_of={d}/{name}.parquet')"
        theirs = f"read_parquet('{work}/{name}.parquet')"
        cols = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {ours})").fetchall()
        key = ", ".join(f'round(CAST("{c}" AS DOUBLE), 4)' if t in ("DOUBLE", "BIGINT") or t.startswith("DECIMAL") else f'CAST("{c}" AS VARCHAR)' for c, t in cols)
        diff = con.execute(f"""SELECT count(*) FROM (
            (SELECT {key} FROM {ours} EXCEPT ALL SELECT {key} FROM {theirs})
            UNION ALL (SELECT {key} FROM {theirs} EXCEPT ALL SELECT {key} FROM {ours}))""").fetchone()[0]
        print(f"  {name}: {'same as reestr' if diff == 0 else f'{diff} rows differ from reestr'}")
