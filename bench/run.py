"""Full-scale nightly job, side by side: `reestr run` (ingest with validation
+ all marts) vs DuckDB and polars doing the same work (bench/peers.py: the
same CSV files into typed Parquet, then reestr's own KPI queries).

    python3 bench/run.py [scale] [rounds]      (default: 1, 3)

Generates a plain snapshot of that scale (once, under bench-data/), then runs
the three in turn, `rounds` times, alternating; prints median wall time and
peak RSS (GNU time) and the ratios. Needs a release build, python3 with
duckdb and polars, and /usr/bin/time.
"""
import os
import shutil
import statistics
import sys

from shared import ensure_snapshot, timed

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
scale = sys.argv[1] if len(sys.argv) > 1 else "1"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
d = "2023-11-21"
binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release", "reestr")
snapshot = ensure_snapshot(root, binary, scale, d)
data = os.path.dirname(snapshot)

runs = {"reestr": [], "duckdb": [], "polars": []}
for r in range(rounds):
    for name in runs:
        work = os.path.join(data, name)
        shutil.rmtree(work, ignore_errors=True)
        if name == "reestr":
            command = [binary, "-q", "run", "--no-publish", "--snapshot", snapshot, "--warehouse", work, "--as-of", d]
        else:
            command = ["python3", os.path.join(root, "bench", "peers.py"), name, snapshot, work, d]
        runs[name].append(timed(name, command)[:2])
        print(f"round {r + 1}: {name} {runs[name][-1][0]:.2f} s, {runs[name][-1][1]:.0f} MB", file=sys.stderr)

median = {n: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v)) for n, v in runs.items()}
faster = min(("duckdb", "polars"), key=lambda n: median[n][0])
members = sum(1 for _ in open(os.path.join(snapshot, "members.csv"), "rb")) - 1
print(f"scale {scale}: {members:,} member rows; median of {rounds} alternating runs")
print("| engine | time | peak RSS | time / reestr's |")
print("|---|---|---|---|")
for n, (t, m) in median.items():
    print(f"| {n} | {t:.1f} s | {m:.0f} MB | {t / median['reestr'][0]:.2f} |")
print(f"reestr / {faster} (the faster peer): time ×{median['reestr'][0] / median[faster][0]:.2f}, "
      f"memory ×{median['reestr'][1] / median[faster][1]:.2f}")
