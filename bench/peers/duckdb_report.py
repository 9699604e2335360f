#!/usr/bin/env python3
"""Effective-access report computed the way a DuckDB user would: SQL.

    duckdb_report.py FILES... -o OUT.csv [--break]

Loads BalkanID entitlements CSVs with DuckDB's own CSV reader, expands group
nesting with a recursive CTE and writes the report contract (see
bench/README.md) with COPY. It is a peer of `whocan report access` in the
benchmark harness and an independent check of its results.

--break deliberately computes the wrong thing (it also follows edges whose
Permission Value is false) so the harness's agreement check can be shown to
fail.
"""

import argparse
import os
import sys

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contract import (  # noqa: E402
    BLANKS,
    FALSE_WORDS,
    QUOTED_STARTS,
    TRUE_WORDS,
    InputError,
    column_positions,
    die,
    source_of,
)


def sql_str(text):
    return "'" + text.replace("'", "''") + "'"


def sql_list(words):
    return ", ".join(sql_str(w) for w in words)


def load(con, paths):
    """Append every file's rows to table `raw`, in command-line then file order.

    With preserve_insertion_order (DuckDB's default) a table's rowid follows
    insertion order, so rowid orders rows exactly as the files list them; the
    "first row that names an entity" rule depends on that.
    """
    con.execute(
        """CREATE TABLE raw (src VARCHAR, subject_id VARCHAR, subject_name VARCHAR,
           subject_type VARCHAR, target_id VARCHAR, target_name VARCHAR,
           target_type VARCHAR, permission VARCHAR, value VARCHAR)"""
    )
    for path in paths:
        try:
            positions, width = column_positions(path)
        except (InputError, OSError, UnicodeDecodeError) as e:
            die(str(e))
        # Name the columns by position and skip the header row ourselves:
        # the sniffer could otherwise guess another delimiter or header on
        # odd files, and all_varchar keeps IDs like "007" intact.
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"

        def col(key):
            pos = positions[key]
            # DuckDB reads an empty cell as NULL; the semantics treat it as "".
            return f"coalesce(c{pos}, '')" if pos is not None else "''"

        con.execute(
            f"""INSERT INTO raw SELECT {sql_str(source_of(path))},
                {col('subject_id')}, {col('subject_name')}, {col('subject_type')},
                {col('target_id')}, {col('target_name')}, {col('target_type')},
                {col('permission')}, {col('value')}
              FROM read_csv({sql_str(path)}, header = true, auto_detect = false,
                            delim = ',', quote = '"', escape = '"',
                            columns = {columns})"""
        )


def build(con, follow_false_edges):
    blanks = sql_str(BLANKS)
    # Entity types are tokens: compare them trimmed and lower-cased.
    con.execute(
        f"""CREATE TABLE rows AS
            SELECT rowid AS ord, src, subject_id, subject_name,
                   lower(trim(subject_type, {blanks})) AS subject_type,
                   target_id, target_name,
                   lower(trim(target_type, {blanks})) AS target_type,
                   permission, lower(trim(value, {blanks})) AS value
            FROM raw"""
    )
    # A row without a subject ID or with a Permission Value that is not a
    # boolean is one the importer rejects; it names no entity and grants
    # nothing.
    ok = (
        f"subject_id <> '' AND value IN ('', {sql_list(TRUE_WORDS)}, {sql_list(FALSE_WORDS)})"
    )
    rejected = con.execute(f"SELECT count(*) FROM rows WHERE NOT ({ok})").fetchone()[0]
    if rejected:
        print(f"duckdb_report: skipped {rejected} rejected row(s)", file=sys.stderr)

    # An entity's name and type come from the first row naming it, as
    # subject or as target; within a row the subject comes first.
    con.execute(
        f"""CREATE TABLE entity AS
            WITH mention AS (
                SELECT src, subject_id AS id, subject_name AS name, subject_type AS type,
                       ord * 2 AS ord FROM rows WHERE {ok}
                UNION ALL
                SELECT src, target_id, target_name, target_type, ord * 2 + 1
                FROM rows WHERE {ok} AND target_id <> ''
            )
            SELECT row_number() OVER () AS n, src, id,
                   arg_min(name, ord) AS name, arg_min(type, ord) AS type
            FROM mention GROUP BY src, id"""
    )
    # One edge per (from, to, permission); it is active if any of its rows
    # says true. reference: empty Permission Name is member into a
    # connection, access otherwise; empty Permission Value is true.
    con.execute(
        f"""CREATE TABLE edge AS
            SELECT s.n AS f, t.n AS t,
                   CASE WHEN r.permission <> '' THEN r.permission
                        WHEN r.target_type = 'connection' THEN 'member'
                        ELSE 'access' END AS permission,
                   bool_or(r.value NOT IN ({sql_list(FALSE_WORDS)})) AS active
            FROM rows r
            JOIN entity s ON s.src = r.src AND s.id = r.subject_id
            JOIN entity t ON t.src = r.src AND t.id = r.target_id
            WHERE {ok} AND r.target_id <> ''
            GROUP BY ALL"""
    )
    traversed = "TRUE" if follow_false_edges else "active"
    con.execute(f"CREATE TABLE live AS SELECT f, t, permission FROM edge WHERE {traversed}")

    # reach(i, c): identity i reaches connection c through connections only.
    # UNION (not UNION ALL) discards pairs already found, which is what makes
    # the recursion stop on cyclic nesting.
    con.execute(
        """CREATE TABLE grant_ AS
        WITH RECURSIVE reach(i, c) AS (
            SELECT e.f, e.t FROM live e
            JOIN entity a ON a.n = e.f AND a.type = 'identity'
            JOIN entity b ON b.n = e.t AND b.type = 'connection'
          UNION
            SELECT r.i, e.t FROM reach r
            JOIN live e ON e.f = r.c
            JOIN entity b ON b.n = e.t AND b.type = 'connection'
        )
        -- Direct grants (no provider), then grants held by a reached connection.
        -- Both halves are already distinct: edges are unique per (f, t, permission)
        -- and reach pairs are unique.
        SELECT e.f AS i, e.t AS t, e.permission, NULL::BIGINT AS p FROM live e
        JOIN entity a ON a.n = e.f AND a.type = 'identity'
        UNION ALL
        SELECT r.i, e.t, e.permission, r.c FROM reach r JOIN live e ON e.f = r.c"""
    )


def write(con, out):
    starts = ", ".join(sql_str(c) for c in QUOTED_STARTS)

    def cell(expr):
        # NULLIF: DuckDB writes '' as "" (to tell it from NULL); the contract
        # wants a bare empty cell.
        return (
            f"NULLIF(CASE WHEN left({expr}, 1) IN ({starts}) THEN '''' || {expr} "
            f"ELSE {expr} END, '')"
        )

    # Sorting uses the raw values (before neutralisation); VARCHAR comparison
    # in DuckDB is bytewise by default.
    con.execute(
        f"""COPY (
            SELECT {cell('a.src')} AS source, {cell('a.id')} AS identity_id,
                   {cell('a.name')} AS identity_name, {cell('t.id')} AS target_id,
                   {cell('t.name')} AS target_name, {cell('t.type')} AS target_type,
                   {cell('g.permission')} AS permission, {cell('p.id')} AS provider_id,
                   {cell('p.name')} AS provider_name
            FROM grant_ g
            JOIN entity a ON a.n = g.i
            JOIN entity t ON t.n = g.t
            LEFT JOIN entity p ON p.n = g.p
            ORDER BY a.id, t.id, g.permission, coalesce(p.id, ''),
                     a.src, a.name, t.name, t.type, coalesce(p.name, '')
        ) TO {sql_str(out)} (FORMAT csv, HEADER, DELIMITER ',')"""
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.csv")
    parser.add_argument(
        "--break",
        dest="broken",
        action="store_true",
        help="also follow false edges (a deliberately wrong answer, to test the checks)",
    )
    args = parser.parse_args()

    con = duckdb.connect()
    try:
        load(con, args.files)
        build(con, follow_false_edges=args.broken)
        write(con, args.output)
    except duckdb.Error as e:
        die(f"duckdb: {e}")


if __name__ == "__main__":
    main()
