"""What the benchmark scripts share: reestr's query order and its reference
tables, registered in DuckDB as reestr registers them."""
import re
import sys


def _identifiers(sql):
    """The identifiers of a SQL text, lower-cased, none from a comment or a
    string literal; a quoted identifier as written."""
    sql = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)
    words = []
    for quoted, literal, word in re.findall(r'"([^"]*)"|(\'[^\']*\')|([A-Za-z_\x80-\uffff][\w$\x80-\uffff]*|\d[\w$]*)', sql):
        if quoted:
            words.append(quoted)
        elif word and not word[0].isdigit():
            words.append(word.lower())
    return words


def query_order(root):
    """(kind, name) of queries/views and queries/marts in the order reestr runs
    them (pipeline/compute/definitions.rs): every view after the views it names,
    every mart after the marts it reads as mart_<name>, ties by file name."""
    import os

    def files(kind):
        folder = f"{root}/queries/{kind}"
        return {f[:-4]: open(f"{folder}/{f}").read() for f in sorted(os.listdir(folder)) if f.endswith(".sql")}

    order = []
    for kind, queries in (("views", files("views")), ("marts", files("marts"))):
        deps = {}
        for name, sql in queries.items():
            words = _identifiers(sql)
            if kind == "views":
                deps[name] = {w for w in words if w in queries and w != name}
            else:
                deps[name] = {w[5:] for w in words if w.startswith("mart_") and w[5:] in queries and w[5:] != name}
        done = []

        def visit(name, path):
            if name in done:
                return
            if name in path:
                sys.exit(f"a cycle in queries/{kind}: {' → '.join(path + [name])}")
            for d in sorted(deps[name]):
                visit(d, path + [name])
            done.append(name)

        for name in sorted(queries):
            visit(name, [])
        order.extend((kind, name) for name in done)
    return order


def duckdb_reference(con, root):
    """The `regions` and `federal_districts` tables from schemas/reference/."""
    con.execute(f"""CREATE TABLE regions AS SELECT region_code, name AS region_name, name_genitive AS region_name_genitive,
        short_name, kind, district_code AS federal_district, tile_row, tile_col
        FROM read_csv('{root}/schemas/reference/regions.csv', all_varchar=true)""")
    con.execute(f"""CREATE TABLE federal_districts AS SELECT district_code AS federal_district, name AS district_name,
        short_name AS district_short_name, CAST(sort_order AS USMALLINT) AS sort_order
        FROM read_csv('{root}/schemas/reference/federal_districts.csv', all_varchar=true)""")


def mart_columns(root, mart):
    """(name, Arrow type) of a mart, from schemas/marts/<mart>.toml."""
    import tomllib

    schema = tomllib.load(open(f"{root}/schemas/marts/{mart}.toml", "rb"))
    return [(c["name"], c["type"]) for c in schema["columns"]]


# The marts of earlier dates compute reads, as the tables it registers them
# as: with one snapshot and no history they are empty.
PAST_MARTS = {"prev_national": "national", "past_history_kpis": "history_kpis", "past_data_quality": "data_quality"}
