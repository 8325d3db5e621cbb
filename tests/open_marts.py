"""Every mart opens in DuckDB, polars and pandas as written (marts.md), run by
.ci/run on a small demo warehouse:

    python3 tests/open_marts.py <warehouse> <D>

Each mart's Parquet and CSV must open in all three with the same columns and
row count, text as text, dates as dates, money as decimals.
"""
import sys

import duckdb
import pandas as pd
import polars as pl

MARTS = ["national", "regions", "federal_districts", "data_quality", "worklist",
         "profcards_monthly", "profcards_yearly", "coverage_bands", "regions_summary",
         "profcards_summary", "worklist_regions"]

wh, d = sys.argv[1], sys.argv[2]
failures = []
for mart in MARTS:
    base = f"{wh}/marts/{mart}/as_of={d}/{mart}"
    duck = duckdb.sql(f"SELECT * FROM read_parquet('{base}.parquet')")
    duck_rows = len(duck.fetchall())
    columns = duck.columns
    types = dict(zip(columns, [str(t) for t in duck.types]))
    frames = {
        "polars parquet": pl.read_parquet(f"{base}.parquet"),
        "polars csv": pl.read_csv(f"{base}.csv", infer_schema_length=None),
        "pandas parquet": pd.read_parquet(f"{base}.parquet"),
        "pandas csv": pd.read_csv(f"{base}.csv", dtype=str),
        "duckdb csv": duckdb.read_csv(f"{base}.csv").df(),
    }
    for how, frame in frames.items():
        if list(frame.columns) != columns:
            failures.append(f"{mart}: {how} columns {list(frame.columns)} != {columns}")
        if len(frame) != duck_rows:
            failures.append(f"{mart}: {how} has {len(frame)} rows, DuckDB {duck_rows}")
    if "as_of" in types and types["as_of"] != "DATE":
        failures.append(f"{mart}: as_of is {types['as_of']}, not DATE")
    for money in ("amount", "cashback"):
        if money in types and not types[money].startswith("DECIMAL"):
            failures.append(f"{mart}: {money} is {types[money]}, not DECIMAL")
    polars_types = frames["polars parquet"].schema
    for name, dtype in polars_types.items():
        if dtype == pl.Object:
            failures.append(f"{mart}.{name}: polars reads an object column")
    print(f"{mart}: {duck_rows} rows, {len(columns)} columns: DuckDB, polars, pandas")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
