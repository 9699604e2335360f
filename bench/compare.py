#!/usr/bin/env python3
"""Check that two effective-access reports hold the same rows.

    compare.py A.csv B.csv

Both files must carry the report contract's header. The rows are compared as
multisets of all nine cells (a duplicated row is a difference too); row order
and CSV quoting style do not matter, cell text does.

Exit 0 when the reports agree, 1 when they differ (up to 10 differing rows
of each side are printed), 2 when a file is missing or is not a report.

Two stages, both exact:
1. Byte-identical files agree. The contract fixes the row order, so
   conforming tools usually write the same bytes, and a byte comparison of two
   50M-row reports takes seconds.
2. Otherwise DuckDB counts every distinct row in each file in one GROUP BY
   over both and keeps the rows whose counts differ: the rows of A EXCEPT ALL
   B and B EXCEPT ALL A, with their multiplicities. It is the same multiset
   difference as EXCEPT ALL both ways, written this way because DuckDB
   evaluates EXCEPT ALL by numbering duplicates with a window, which measured
   about 3x slower (11M-row reports: ~100 s per direction after loading, vs
   ~100 s for the whole GROUP BY on 2 cores).
"""

import argparse
import csv
import os
import sys
import tempfile

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from contract import REPORT_COLUMNS, REPORT_HEADER, csv_cell, die  # noqa: E402

SHOWN = 10
CHUNK = 1 << 22


def check_header(path):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError) as e:
        die(f"{path}: {e}")
    if header != list(REPORT_COLUMNS):
        die(f"{path}: not a report: header is {header!r}, expected {REPORT_HEADER!r}")


def identical(a, b):
    """Return the line count if the files are byte-identical, else None."""
    if os.path.getsize(a) != os.path.getsize(b):
        return None
    lines = 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            chunk = fa.read(CHUNK)
            if chunk != fb.read(CHUNK):
                return None
            if not chunk:
                return lines
            lines += chunk.count(b"\n")


def scan(path, side):
    """SQL reading one report as nine strings plus a +1/-1 side marker."""
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in REPORT_COLUMNS) + "}"
    # An empty cell reads as NULL; a quoted "" and a bare empty cell must
    # compare equal, so both become ''.
    cells = ", ".join(f"coalesce({c}, '') AS {c}" for c in REPORT_COLUMNS)
    quoted = path.replace("'", "''")
    # Columns are given, not sniffed: a report of one odd row must not be
    # guessed into another shape.
    return f"""SELECT {cells}, {side} AS side
        FROM read_csv('{quoted}', header = true, auto_detect = false,
                      delim = ',', quote = '"', escape = '"', columns = {columns})"""


def show(con, label, sign, count):
    more = f", first {SHOWN}" if count > SHOWN else ""
    print(f"{count} row(s) only in {label}{more}:")
    print("  " + REPORT_HEADER)
    cols = ", ".join(REPORT_COLUMNS)
    for *row, extra in con.execute(
        f"SELECT {cols}, abs(d) FROM diff WHERE sign(d) = {sign} ORDER BY ALL LIMIT {SHOWN}"
    ).fetchall():
        times = f"   (x{extra})" if extra > 1 else ""
        print("  " + ",".join(csv_cell(c) for c in row) + times)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Exit 0: same rows; 1: they differ; 2: a file is missing or not a report.",
    )
    parser.add_argument("a", metavar="A.csv")
    parser.add_argument("b", metavar="B.csv")
    args = parser.parse_args()
    for path in (args.a, args.b):
        check_header(path)

    lines = identical(args.a, args.b)
    if lines is not None:
        print(f"{args.a}, {args.b}: byte-identical, {lines} lines each")
        print("agree: same rows")
        return 0

    cols = ", ".join(REPORT_COLUMNS)
    # An on-disk scratch database lets DuckDB spill when the hash table of two
    # 50M-row reports outgrows memory.
    with tempfile.TemporaryDirectory(prefix="compare-") as scratch:
        con = duckdb.connect(os.path.join(scratch, "compare.duckdb"))
        try:
            con.execute(
                f"""CREATE TABLE counted AS
                    SELECT count(*) FILTER (side = 1) AS rows_a,
                           count(*) FILTER (side = -1) AS rows_b
                    FROM ({scan(args.a, 1)} UNION ALL {scan(args.b, -1)})"""
            )
            rows_a, rows_b = con.execute("SELECT * FROM counted").fetchone()
            print(f"{args.a}: {rows_a} rows")
            print(f"{args.b}: {rows_b} rows")
            # d > 0: the row is in A d more times than in B; d < 0: the reverse.
            con.execute(
                f"""CREATE TABLE diff AS
                    SELECT {cols}, sum(side) AS d
                    FROM ({scan(args.a, 1)} UNION ALL {scan(args.b, -1)})
                    GROUP BY {cols} HAVING sum(side) <> 0"""
            )
            only_a, only_b = con.execute(
                "SELECT coalesce(sum(d) FILTER (d > 0), 0), coalesce(-sum(d) FILTER (d < 0), 0) "
                "FROM diff"
            ).fetchone()
            if only_a == 0 and only_b == 0:
                print("agree: same rows")
                return 0
            print("DISAGREE")
            if only_a:
                show(con, args.a, 1, only_a)
            if only_b:
                show(con, args.b, -1, only_b)
            return 1
        except duckdb.Error as e:
            die(f"duckdb: {e}")
        finally:
            con.close()


if __name__ == "__main__":
    sys.exit(main())
