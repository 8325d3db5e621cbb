"""What the benchmark scripts share: reestr's query order and its reference
tables, registered in DuckDB as reestr registers them."""
import re


def query_order(root):
    """(kind, name) of queries/views and queries/marts in the order reestr runs
    them: its own list in pipeline/compute/mod.rs."""
    return re.findall(r'include_str!\("\.\./\.\./queries/(views|marts)/(\w+)\.sql"\)',
                      open(f"{root}/pipeline/compute/mod.rs").read())


def duckdb_reference(con, root):
    """The `regions` and `federal_districts` tables from schemas/reference/."""
    con.execute(f"""CREATE TABLE regions AS SELECT region_code, name AS region_name, name_genitive AS region_name_genitive,
        short_name, kind, district_code AS federal_district, tile_row, tile_col
        FROM read_csv('{root}/schemas/reference/regions.csv', all_varchar=true)""")
    con.execute(f"""CREATE TABLE federal_districts AS SELECT district_code AS federal_district, name AS district_name,
        short_name AS district_short_name, CAST(sort_order AS USMALLINT) AS sort_order
        FROM read_csv('{root}/schemas/reference/federal_districts.csv', all_varchar=true)""")
