#!/usr/bin/env bash
# Ingest benchmark: reestr vs DuckDB on the same generated snapshot.
#
#   bench/ingest.sh [scale] [plain|messy]     (default: 1 = 3.1 million members, plain)
#
# reestr: `reestr ingest` (decode, validate, reject, write typed zstd Parquet).
# DuckDB: CSV → zstd Parquet for the same files with read_csv's auto-detection,
# i.e. the conversion alone, without contract validation — the floor to compare
# to. DuckDB cannot read windows-1251 without a downloaded extension, so for the
# messy (office) form its run includes transcoding the files to UTF-8 first.
# Needs: a release build (cargo build --release), python3 with duckdb
# (pip install duckdb), GNU time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-1}"
form="${2:-plain}"
bin="${CARGO_TARGET_DIR:-target}/release/reestr"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
snap="$work/snapshots/2023-11-21"

messy=""
[ "$form" = "messy" ] && messy="--messy"
"$bin" --quiet generate --out "$snap" --as-of 2023-11-21 --scale "$scale" $messy
du -sh "$snap"

measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
  read -r secs kb < "$work/time"
  echo "$label $secs $kb"
}

r=$(measure reestr "$bin" --quiet ingest --snapshot "$snap" --warehouse "$work/wh")
d=$(measure duckdb python3 - "$snap" "$work/duck" "$form" <<'PY'
import sys, os, duckdb
snap, out, form = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
con.execute("SET threads TO 2")
for f in sorted(os.listdir(snap)):
    t = f.removesuffix(".csv")
    src = f"{snap}/{f}"
    if form == "messy":
        src = f"{out}/{f}"
        with open(f"{snap}/{f}", encoding="cp1251", newline="") as i, open(src, "w", encoding="utf-8", newline="") as o:
            while chunk := i.read(1 << 20):
                o.write(chunk)
    con.execute(f"COPY (SELECT * FROM read_csv('{src}')) TO '{out}/{t}.parquet' (FORMAT parquet, COMPRESSION zstd)")
PY
)
members=$(python3 -c "import json,sys; print(json.load(open('$work/wh/runs/2023-11-21/manifest.json'))['tables']['members']['rows_read'])")
echo
echo "snapshot: scale $scale ($form), members rows: $members"
printf "%-8s %10s %14s %12s\n" engine seconds "peak RSS MB" "rows/s"
for line in "$r" "$d"; do
  set -- $line
  printf "%-8s %10s %14d %12d\n" "$1" "$2" $(( $3 / 1024 )) "$(python3 -c "print(int($members/$2))")"
done
set -- $r; rs=$2; rm_=$3
set -- $d; ds=$2; dm=$3
python3 -c "print(f'reestr/duckdb: time x{$rs/$ds:.2f}, peak memory x{$rm_/$dm:.2f}')"
