#!/usr/bin/env bash
# Full-scale `reestr run` vs DuckDB and polars on the same snapshot, alternating
# runs, median time and peak RSS (see bench/run.py).
#
#   bench/run.sh [scale] [rounds]        (default: 1 3; try 10 for the stress size)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import duckdb, polars" 2>/dev/null || python3 -m pip install --quiet duckdb==2.0.1 polars==2.1.0
exec python3 bench/run.py "$@"
