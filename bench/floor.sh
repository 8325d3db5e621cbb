#!/usr/bin/env bash
# The floor benchmark: `reestr run` (its whole validated run) vs DuckDB and
# polars doing only CSV → typed zstd Parquet and five core KPIs; alternating
# runs, median time and peak RSS, and a check that the KPIs agree (see
# bench/floor.py).
#
#   bench/floor.sh [scale] [rounds]        (default: 1 3)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import duckdb, polars" 2>/dev/null || python3 -m pip install --quiet duckdb==2.0.1 polars==2.1.0
exec python3 bench/floor.py "$@"
