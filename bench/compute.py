"""Compute benchmark: the marts' SQL run by DuckDB over the same warehouse
Parquet files reestr reads, for a side-by-side time ratio.

    python3 bench/compute.py <warehouse> <D> [C] [--check]

Runs queries/views/*.sql and queries/marts/*.sql unchanged (params, regions and
federal_districts are set up as reestr registers them) and prints DuckDB's
time; compare with `reestr compute`'s (see bench/compute.sh).
"""
import os
import sys
import time

import duckdb
from shared import duckdb_reference, query_order

root = os.path.join(os.path.dirname(__file__), "..")
check = "--check" in sys.argv
args = [a for a in sys.argv[1:] if a != "--check"]
wh, d = args[0], args[1]
c = args[2] if len(args) > 2 else None
con = duckdb.connect()
con.execute("SET threads TO 2")
started = time.perf_counter()
tables = ["organizations", "members", "stat_reports", "official_stats", "profcards_purchases"]
for t in tables:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{wh}/registry/{t}/as_of={d}/*.parquet')")
    if c:
        con.execute(f"CREATE VIEW {t}_prev AS SELECT * FROM read_parquet('{wh}/registry/{t}/as_of={c}/*.parquet')")
    else:
        con.execute(f"CREATE VIEW {t}_prev AS SELECT * FROM {t} WHERE false")
duckdb_reference(con, root)
quarter = f"make_date(year(DATE '{d}'), (month(DATE '{d}') - 1) // 3 * 3 + 1, 1)"
con.execute(f"""CREATE TABLE params AS SELECT DATE '{d}' AS d, {quarter} AS p,
    (SELECT max(stats_as_of) FROM official_stats WHERE stats_as_of <= DATE '{d}') AS b,
    {f"DATE '{c}'" if c else "CAST(NULL AS DATE)"} AS c""")
order = query_order(root)
for view in [name for kind, name in order if kind == "views"]:
    con.execute(open(f"{root}/queries/views/{view}.sql").read())
rows = {}
for mart in [name for kind, name in order if kind == "marts"]:
    sql = open(f"{root}/queries/marts/{mart}.sql").read().rstrip().rstrip(";")
    con.execute(f"CREATE TABLE mart_{mart} AS {sql}")
    rows[mart] = con.execute(f"SELECT count(*) FROM mart_{mart}").fetchone()[0]
elapsed = time.perf_counter() - started
print(f"duckdb {elapsed:.2f} s; rows {rows}")
if not check:
    sys.exit(0)
# Same answers? Each mart DuckDB computed against the file reestr wrote
# (percentages compared to 1e-9: the two engines may sum in another order).
for mart in rows:
    theirs = f"read_parquet('{wh}/marts/{mart}/as_of={d}/{mart}.parquet')"
    key = ", ".join(f"round({c}, 9)" if t == "DOUBLE" else f'"{c}"'
                    for c, t in con.execute(f"SELECT column_name, column_type FROM (DESCRIBE mart_{mart})").fetchall())
    diff = con.execute(f"""SELECT count(*) FROM (
        (SELECT {key} FROM mart_{mart} EXCEPT ALL SELECT {key} FROM {theirs})
        UNION ALL
        (SELECT {key} FROM {theirs} EXCEPT ALL SELECT {key} FROM mart_{mart}))""").fetchone()[0]
    print(f"{mart}: {rows[mart]} rows, {'same as reestr' if diff == 0 else f'{diff} rows differ from reestr'}")
