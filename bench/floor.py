"""The floor, side by side: reestr's whole validated run (`reestr run
--no-publish`) against DuckDB and polars doing only what any pipeline must —
the snapshot's CSV files into typed zstd Parquet, then five core KPIs from
that Parquet — the mark of issue 19.

    python3 bench/floor.py [scale] [rounds]                 (default: 1, 3)
    python3 bench/floor.py peer duckdb|polars <snapshot> <work> <D>

The first form generates a plain snapshot of that scale (once, under
bench-data/), runs the three in turn `rounds` times, alternating, prints each
run to stderr and then median wall time and peak RSS (GNU time) and the ratio
of reestr to the faster floor peer. Then it checks that the last round's
KPIs agree: the two peers' with each other and with reestr's marts; any
disagreement exits 1. The binary is $REESTR_BIN, else
$CARGO_TARGET_DIR/release/reestr (else target/release/reestr).

The second form is one peer's run. Every column of every contract table is
parsed with its contract type (dates as dates, booleans, integers, money as
decimals; schemas/snapshot/*.toml); no validation, no rejects. The KPIs are
defined as reestr's SQL defines them (queries/views, queries/marts):
- members: members on record at D (registered_on <= D, left_on null or
  after D) per region of their organization (org_members, member_counts);
- auto_reports: active primary organizations at D with an auto report on
  3-, 4- or 5-SP for P, the quarter start on or before D, per region
  (regions.primary_auto_reports);
- primary_without_members: active primary organizations with no member on
  record in themselves or in their active subdivisions, per region
  (org_flags.without_members, data_quality's regional rows);
- cards_issued, joined_online: members on record with an issued e-card, and
  who joined online, national (national.cards_issued, national.joined_online).
The peer writes them to <work>/kpis.json.
"""
import datetime
import json
import os
import shutil
import statistics
import sys
import time

from shared import contract, duckdb_to_parquet, ensure_snapshot, polars_to_parquet, report_period, timed

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
REGIONAL = ["members", "auto_reports", "primary_without_members"]
NATIONAL = ["cards_issued", "joined_online"]


def peer(engine, snapshot, work, d):
    os.makedirs(work, exist_ok=True)
    D = datetime.date.fromisoformat(d)
    P = report_period(D)
    tables = contract(root)
    started = time.perf_counter()
    marks = {}
    kpis = {}

    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads TO 2")
        duckdb_to_parquet(con, tables, snapshot, work)
        marks["csv → parquet"] = time.perf_counter() - started
        con.execute(f"""CREATE TABLE active AS SELECT org_id, parent_id, level, region_code FROM organizations
            WHERE registered_on <= DATE '{D}' AND (excluded_on IS NULL OR excluded_on > DATE '{D}')""")
        # The one pass over the members: on record at D, counted per organization.
        con.execute(f"""CREATE TABLE org_members AS
            SELECT m.org_id, o.region_code, m.members, m.cards_issued, m.joined_online FROM (
                SELECT org_id, count(*) AS members,
                    count(*) FILTER (WHERE card_status = 'issued') AS cards_issued,
                    count(*) FILTER (WHERE joined_online) AS joined_online
                FROM members
                WHERE registered_on <= DATE '{D}' AND (left_on IS NULL OR left_on > DATE '{D}')
                GROUP BY org_id) m
            JOIN organizations o ON o.org_id = m.org_id""")
        regional = {
            "members": "SELECT region_code, sum(members) FROM org_members GROUP BY region_code",
            "auto_reports": f"""SELECT a.region_code, count(*) FROM active a
                WHERE a.level = 'primary' AND a.org_id IN (SELECT org_id FROM stat_reports
                    WHERE period = DATE '{P}' AND mode = 'auto' AND form IN ('3-SP', '4-SP', '5-SP'))
                GROUP BY a.region_code""",
            "primary_without_members": """WITH primary_members AS (
                    SELECT CASE WHEN a.level = 'subdivision' THEN a.parent_id ELSE a.org_id END AS org_id,
                        sum(om.members) AS members
                    FROM org_members om JOIN active a ON a.org_id = om.org_id
                    WHERE a.level IN ('primary', 'subdivision')
                    GROUP BY 1)
                SELECT a.region_code, count(*) FROM active a LEFT JOIN primary_members pm ON pm.org_id = a.org_id
                WHERE a.level = 'primary' AND coalesce(pm.members, 0) = 0
                GROUP BY a.region_code""",
        }
        for k, sql in regional.items():
            kpis[k] = {r: int(n) for r, n in con.execute(sql).fetchall()}
        cards, online = con.execute("SELECT sum(cards_issued), sum(joined_online) FROM org_members").fetchone()
        kpis["cards_issued"], kpis["joined_online"] = int(cards or 0), int(online or 0)

    elif engine == "polars":
        import polars as pl

        scans = polars_to_parquet(tables, snapshot, work)
        marks["csv → parquet"] = time.perf_counter() - started
        scan = scans.__getitem__
        c = pl.col
        orgs = scan("organizations").select("org_id", "parent_id", "level", "region_code", "registered_on",
                                            "excluded_on").collect()
        active = orgs.filter((c("registered_on") <= D) & (c("excluded_on").is_null() | (c("excluded_on") > D)))
        org_members = (
            scan("members")
            .filter((c("registered_on") <= D) & (c("left_on").is_null() | (c("left_on") > D)))
            .group_by("org_id")
            .agg(members=pl.len(), cards_issued=(c("card_status") == "issued").sum(),
                 joined_online=c("joined_online").sum())
            .join(orgs.lazy().select("org_id", "region_code"), on="org_id")
            .collect()
        )
        primary = active.filter(c("level") == "primary")
        reports = (scan("stat_reports")
                   .filter((c("period") == P) & (c("mode") == "auto") & c("form").is_in(["3-SP", "4-SP", "5-SP"]))
                   .select("org_id").unique().collect())
        primary_members = (
            org_members.join(active.filter(c("level").is_in(["primary", "subdivision"])), on="org_id")
            .group_by(pl.when(c("level") == "subdivision").then(c("parent_id")).otherwise(c("org_id")).alias("org_id"))
            .agg(c("members").sum())
        )
        regional = {
            "members": org_members.group_by("region_code").agg(c("members").sum()),
            "auto_reports": primary.join(reports, on="org_id", how="semi").group_by("region_code").len(),
            "primary_without_members": primary.join(primary_members, on="org_id", how="left")
                .filter(c("members").fill_null(0) == 0).group_by("region_code").len(),
        }
        for k, frame in regional.items():
            kpis[k] = {r: int(n) for r, n in frame.iter_rows()}
        kpis["cards_issued"] = int(org_members["cards_issued"].sum())
        kpis["joined_online"] = int(org_members["joined_online"].sum())
    else:
        sys.exit(f"unknown engine {engine}")

    marks["kpis"] = time.perf_counter() - started - marks["csv → parquet"]
    json.dump(kpis, open(f"{work}/kpis.json", "w"), indent=1, sort_keys=True)
    print(", ".join(f"{k} {v:.2f} s" for k, v in marks.items()))


def reestr_kpis(warehouse, d):
    """The same five figures as reestr's marts have them."""
    import duckdb

    con = duckdb.connect()
    mart = lambda name: f"read_parquet('{warehouse}/marts/{name}/as_of={d}/{name}.parquet')"  # noqa: E731
    regions = con.execute(f"SELECT region_code, members, primary_auto_reports FROM {mart('regions')}").fetchall()
    without = con.execute(f"""SELECT region_code, affected FROM {mart('data_quality')}
        WHERE scope = 'region' AND "check" = 'primary_without_members'""").fetchall()
    cards, online = con.execute(f"SELECT cards_issued, joined_online FROM {mart('national')}").fetchone()
    return {
        "members": {r: int(n) for r, n, _ in regions},
        "auto_reports": {r: int(n) for r, _, n in regions},
        "primary_without_members": {r: int(n) for r, n in without},
        "cards_issued": int(cards),
        "joined_online": int(online),
    }


def compare(results):
    """One line per KPI: the national total each engine has and whether all
    agree (per region for the regional ones; a region one engine lacks counts
    0, as reestr's marts list every region of the reference)."""
    names = list(results)
    print("| KPI | " + " | ".join(names) + " | agree |")
    print("|---|" + "---|" * len(names) + "---|")
    ok = True
    for k in REGIONAL + NATIONAL:
        if k in REGIONAL:
            regions = sorted(set().union(*(results[n][k] for n in names)))
            rows = {n: [results[n][k].get(r, 0) for r in regions] for n in names}
            totals = {n: sum(v) for n, v in rows.items()}
            differing = [r for i, r in enumerate(regions) if len({rows[n][i] for n in names}) > 1]
            same = not differing
            note = f"{len(regions)} regions" if same else f"differ in {len(differing)} region(s): {', '.join(differing[:5])}"
        else:
            totals = {n: results[n][k] for n in names}
            same = len(set(totals.values())) == 1
            note = "national"
        ok &= same
        print(f"| {k} ({'per region' if k in REGIONAL else 'national'}) | "
              + " | ".join(f"{totals[n]:,}" for n in names) + f" | {'yes' if same else 'NO'} ({note}) |")
    return ok


def main():
    scale = sys.argv[1] if len(sys.argv) > 1 else "1"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    d = "2023-11-21"
    binary = os.environ.get("REESTR_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release", "reestr")
    snapshot = ensure_snapshot(root, binary, scale, d)
    data = os.path.dirname(snapshot)

    runs = {"reestr": [], "duckdb": [], "polars": []}
    work = {n: os.path.join(data, f"floor-{n}") for n in runs}
    for r in range(rounds):
        for name in runs:
            shutil.rmtree(work[name], ignore_errors=True)
            if name == "reestr":
                command = [binary, "-q", "run", "--no-publish", "--snapshot", snapshot, "--warehouse", work[name],
                           "--as-of", d]
            else:
                command = ["python3", os.path.abspath(__file__), "peer", name, snapshot, work[name], d]
            seconds, mb, said = timed(name, command)
            runs[name].append((seconds, mb))
            split = f" ({said})" if name != "reestr" and said else ""
            print(f"round {r + 1}: {name} {seconds:.2f} s, {mb:.0f} MB{split}", file=sys.stderr)

    median = {n: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v)) for n, v in runs.items()}
    faster = min(("duckdb", "polars"), key=lambda n: median[n][0])
    members = sum(1 for _ in open(os.path.join(snapshot, "members.csv"), "rb")) - 1
    print(f"floor, scale {scale}: {members:,} member rows; median of {rounds} alternating runs")
    print("| engine | time | peak RSS | time / reestr's |")
    print("|---|---|---|---|")
    for n, (t, m) in median.items():
        print(f"| {n} | {t:.1f} s | {m:.0f} MB | {t / median['reestr'][0]:.2f} |")
    print(f"reestr / {faster} (the faster floor peer): time ×{median['reestr'][0] / median[faster][0]:.2f}, "
          f"memory ×{median['reestr'][1] / median[faster][1]:.2f}")
    print()
    results = {"reestr": reestr_kpis(work["reestr"], d)}
    for n in ("duckdb", "polars"):
        results[n] = json.load(open(os.path.join(work[n], "kpis.json")))
    if not compare(results):
        sys.exit("the floor peers' KPIs disagree with reestr's marts or with each other")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "peer":
        peer(*sys.argv[2:6])
    else:
        main()
