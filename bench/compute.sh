#!/usr/bin/env bash
# Compute benchmark: `reestr compute` vs DuckDB running the same queries/*.sql
# over the same warehouse. Run `reestr demo` first (or give a warehouse).
#
#   bench/compute.sh [warehouse] [D] [C]     (default: reestr-demo/warehouse 2023-11-21 2022-11-21)
# Needs: a release build, python3 with duckdb, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
wh="${1:-reestr-demo/warehouse}"
d="${2:-2023-11-21}"
c="${3:-2022-11-21}"
bin="${CARGO_TARGET_DIR:-target}/release/reestr"
/usr/bin/time -f "reestr %e s, peak %M KB" "$bin" -q compute --warehouse "$wh" --as-of "$d" --compare-to "$c"
/usr/bin/time -f "duckdb (process) %e s, peak %M KB" python3 bench/compute.py "$wh" "$d" "$c"
# Untimed: each mart DuckDB computes compared with the one reestr wrote.
python3 bench/compute.py "$wh" "$d" "$c" --check | tail -n +2
