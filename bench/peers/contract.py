"""What both peers share: the input columns they read and the report they write.

Only the *format* lives here (header matching, boolean words, the report's
columns, formula neutralisation, CSV quoting). Each peer computes effective
access on its own, so a bug in one expansion cannot hide in the other.
"""

import csv
import pathlib
import sys

# Columns the report is built from, keyed by a short name. Headers are matched
# case-insensitively after trimming (reference/balkanid-custom-app-csv.md shows
# them in mixed case and in more than one order). The other columns of the
# 19-column format (project, e-mail, timestamps, ...) do not affect the report.
INPUT_COLUMNS = {
    "subject_name": "entity name",
    "subject_type": "entity type",
    "subject_id": "entity source id",
    "target_name": "entity - has access to name",
    "target_id": "entity - has access to source id",
    "target_type": "entity - has access to entity type",
    "permission": "entity - has access to permission name",
    "value": "entity - has access to permission value",
}
# A file must at least say who the rows are about; the has-access-to and
# permission columns may be missing (an entities-only export) and then read as
# empty cells.
REQUIRED = ("subject_name", "subject_type", "subject_id")

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
# Tokens (booleans, entity types) are compared after trimming these; IDs,
# names and permission names are taken verbatim.
BLANKS = " \t\r\n"

REPORT_COLUMNS = (
    "source",
    "identity_id",
    "identity_name",
    "target_id",
    "target_name",
    "target_type",
    "permission",
    "provider_id",
    "provider_name",
)
REPORT_HEADER = ",".join(REPORT_COLUMNS)

# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Cells starting with one of these get a leading quote: formulas, and a quote
# itself, so the quote added is never confused with one in the data and
# removing one leading quote gives back every value exactly.
QUOTED_STARTS = FORMULA_STARTS + ("'",)


class InputError(Exception):
    """The file cannot be read as a BalkanID entitlements CSV."""


def source_of(path):
    """The import's source name: the file's stem (`acme.csv` -> `acme`)."""
    return pathlib.Path(path).stem


def column_positions(path):
    """Map each INPUT_COLUMNS key to its 0-based position in `path`'s header.

    Missing optional columns map to None. Raises InputError on an unreadable
    header, a missing required column or a column named twice.
    """
    # utf-8-sig: spreadsheet exports often start with a byte-order mark,
    # which would otherwise stick to the first header name.
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), None)
    if not header:
        raise InputError(f"{path}: empty file, expected a header row")
    seen = {}
    for pos, name in enumerate(header):
        norm = name.strip(BLANKS).lower()
        # The reference spells this column both with and without "Entity ".
        if norm == "lastpasswordchangedtime":
            norm = "entity lastpasswordchangedtime"
        if norm in seen:
            raise InputError(f"{path}: column {name.strip()!r} appears twice")
        seen[norm] = pos
    positions = {key: seen.get(name) for key, name in INPUT_COLUMNS.items()}
    missing = [INPUT_COLUMNS[k] for k in REQUIRED if positions[k] is None]
    if missing:
        raise InputError(f"{path}: missing column(s): {', '.join(missing)}")
    return positions, len(header)


def neutralise(cell):
    """Prefix a cell that a spreadsheet would run as a formula, or that starts
    with a quote, with a quote (reversible: drop one leading quote)."""
    return "'" + cell if cell.startswith(QUOTED_STARTS) else cell


def csv_cell(cell):
    """Quote a cell the way DuckDB's COPY does: only when it has to.

    Python's csv module with a "\\n" terminator leaves a bare CR unquoted, which
    other readers take as a line break, so quoting is done by hand.
    """
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def die(message, code=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
