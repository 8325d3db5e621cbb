"""Compute benchmark: the marts' SQL run by DuckDB over the same warehouse
Parquet files reestr reads, for a side-by-side time ratio.

    python3 bench/compute.py <warehouse> <D> [C]

Runs queries/views/*.sql and queries/marts/*.sql unchanged (params, regions and
federal_districts are set up as reestr registers them) and prints DuckDB's
time; compare with `reestr compute`'s (see bench/compute.sh).
"""
import os
import sys
import time

import duckdb

root = os.path.join(os.path.dirname(__file__), "..")
wh, d = sys.argv[1], sys.argv[2]
c = sys.argv[3] if len(sys.argv) > 3 else None
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
con.execute(f"""CREATE TABLE regions AS SELECT region_code, name AS region_name, name_genitive AS region_name_genitive,
    short_name, kind, district_code AS federal_district, tile_row, tile_col
    FROM read_csv('{root}/schemas/reference/regions.csv', all_varchar=true)""")
con.execute(f"""CREATE TABLE federal_districts AS SELECT district_code AS federal_district, name AS district_name,
    short_name AS district_short_name, CAST(sort_order AS USMALLINT) AS sort_order
    FROM read_csv('{root}/schemas/reference/federal_districts.csv', all_varchar=true)""")
quarter = f"make_date(year(DATE '{d}'), (month(DATE '{d}') - 1) // 3 * 3 + 1, 1)"
con.execute(f"""CREATE TABLE params AS SELECT DATE '{d}' AS d, {quarter} AS p,
    (SELECT max(stats_as_of) FROM official_stats WHERE stats_as_of <= DATE '{d}') AS b,
    {f"DATE '{c}'" if c else "CAST(NULL AS DATE)"} AS c""")
for view in ["active_orgs", "members_on_record", "member_counts", "members_prev_on_record", "reports_for_period", "baseline_stats"]:
    con.execute(open(f"{root}/queries/views/{view}.sql").read())
rows = {}
for mart in ["national", "regions", "federal_districts"]:
    sql = open(f"{root}/queries/marts/{mart}.sql").read().rstrip().rstrip(";")
    con.execute(f"CREATE TABLE mart_{mart} AS {sql}")
    rows[mart] = con.execute(f"SELECT count(*) FROM mart_{mart}").fetchone()[0]
elapsed = time.perf_counter() - started
print(f"duckdb {elapsed:.2f} s; rows {rows}")
print("national:", con.execute("SELECT members, coverage_pct, primary_auto_reports, members_prev FROM mart_national").fetchone())
