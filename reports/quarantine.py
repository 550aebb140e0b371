"""The quarantine as an analyst works through it (`mes-eval quarantine`).

Every rejected input row is in `meta.quarantine` with the load it came from; this module
lists them as stored (firm identifiers are pseudonymized at ingest; values are the
agency's own), newest load first, with the file, the load's sequence and time, the row
number (as a spreadsheet shows it), the column, the rule and the reason.

Current and superseded: a later load of the same entity supersedes an earlier load's
quarantine when it read the same file name (a re-submission, taken as the whole file
again) or the same content (a file re-validated once the firms or programs it refers to
arrived: `warehouse.load.references_changed`). Those rows were validated again by the
later load, whose own quarantine is what stands now. Loads of other files (next
quarter's outcomes) supersede nothing. By default only the current loads' records are
listed; `all_loads` lists the history too, each record with the load that superseded it.
The report's quarantine counts (`queries/quarantine.sql`) use the same definition.

Exports (CSV, XLSX) go through `reports.cells`: a value such as `=1+2` or `-5` is text
with a leading `'`, never a formula.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from reports import cells

QUERY = resources.files("reports") / "queries" / "quarantine_rows.sql"
EXPORTS = (".csv", ".xlsx")
# the columns of a listing and an export, in order (`superseded_by` with all loads only)
COLUMNS = {
    "entity": "entity",
    "source_file": "source_file",
    "load_sequence": "load_sequence",
    "loaded_at": "loaded_at",
    "row_number": "row_number",
    "column_name": "column",
    "rule": "rule",
    "value": "value",
    "reason": "reason",
}
SUPERSEDED = "superseded_by_load"


class ExportError(ValueError):
    """An export file the command cannot write (its type): one line for the user."""


@dataclass(frozen=True)
class Listing:
    """The records asked for (columns of `COLUMNS`' values, plus `SUPERSEDED` with all
    loads), and what the default listing leaves out: records and loads superseded."""

    records: pd.DataFrame
    hidden_records: int
    hidden_loads: int
    all_loads: bool


def quarantine_records(
    con: duckdb.DuckDBPyConnection,
    *,
    entity: str | None = None,
    rule: str | None = None,
    source_file: str | None = None,
) -> pd.DataFrame:
    """Every quarantine record of every load matching the filters (None: any), newest load
    first, with `superseded_by` (the sequence of the superseding load, or missing)."""
    sql = QUERY.read_text(encoding="utf-8")
    params = {"entity": entity, "rule": rule, "source_file": source_file}
    frame = con.execute(sql, params).df()
    # nullable integers: a missing `superseded_by` must not turn the sequences into floats
    return frame.astype({"load_sequence": "Int64", "row_number": "Int64", "superseded_by": "Int64"})


def listing(
    con: duckdb.DuckDBPyConnection,
    *,
    entity: str | None = None,
    rule: str | None = None,
    source_file: str | None = None,
    all_loads: bool = False,
) -> Listing:
    """The records to show: the current loads' (default) or every load's (`all_loads`),
    renamed to the export's columns."""
    found = quarantine_records(con, entity=entity, rule=rule, source_file=source_file)
    superseded = found["superseded_by"].notna()
    shown = found if all_loads else found[~superseded]
    records = shown.rename(columns={**COLUMNS, "superseded_by": SUPERSEDED})
    keep = [*COLUMNS.values(), *([SUPERSEDED] if all_loads else [])]
    return Listing(
        records=records[keep].reset_index(drop=True),
        hidden_records=0 if all_loads else int(superseded.sum()),
        hidden_loads=0 if all_loads else found.loc[superseded, "load_sequence"].nunique(),
        all_loads=all_loads,
    )


DECISIONS = resources.files("reports") / "queries" / "decisions.sql"


def decision_log(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The changelog of the agency's decisions standing now (`queries/decisions.sql`):
    each with the file and row, the action and values, who, when, why, and its status
    (`unmatched`: the file no longer has what the decision was taken on). Empty for a
    warehouse from before decisions."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'meta' "
        "and table_name = 'decisions'"
    ).fetchall()[0][0]
    if not exists:
        return pd.DataFrame()
    frame = con.execute(DECISIONS.read_text(encoding="utf-8")).df()
    return frame.astype({"row_number": "Int64", "year": "Int64"})


def summary(records: pd.DataFrame) -> pd.DataFrame:
    """Rows by entity and rule, and each entity's total (entity, rule, rows, is_total).
    A row is one input row of one load; it can break several rules, so an entity's
    total counts distinct rows, as the report's `queries/quarantine.sql` does."""
    columns = ["entity", "rule", "rows", "is_total"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    row = records[["entity", "rule", "load_sequence", "row_number"]].drop_duplicates()
    by_rule = row.groupby(["entity", "rule"]).size().rename("rows").reset_index()
    totals = (
        row.drop_duplicates(["entity", "load_sequence", "row_number"])
        .groupby("entity")
        .size()
        .rename("rows")
        .reset_index()
        .assign(rule="total")
    )
    out = pd.concat(
        [by_rule.assign(is_total=False), totals.assign(is_total=True)], ignore_index=True
    )
    return out.sort_values(["entity", "is_total", "rule"], ignore_index=True)[columns]


def known_rules(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The rules the warehouse's quarantine holds (every load): what `--rule` accepts.
    Rules are named by several checks (contract, line structure, references, SQL rules),
    so the warehouse is the one list of those that can match a record."""
    found = con.execute("select distinct rule from meta.quarantine order by rule").fetchall()
    return [r[0] for r in found]


def known_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The names of the files loaded so far (every load): what `--file` accepts."""
    found = con.execute("select distinct source_file from meta.loads order by 1").fetchall()
    return [r[0] for r in found]


def check_export(path: Path) -> None:
    """Refuse an export file of another type than CSV or XLSX (ExportError, one line)."""
    if path.suffix.lower() not in EXPORTS:
        suffix = path.suffix or "no extension"
        raise ExportError(
            f"--out {path.name}: unsupported file type ({suffix}); use {' or '.join(EXPORTS)}"
        )


def write_export(records: pd.DataFrame, path: Path) -> Path:
    """The whole listing as CSV or XLSX (by the extension), formula-safe (`reports.cells`);
    the folder is created if needed."""
    check_export(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        return cells.write_xlsx(records, path, sheet="quarantine")
    return cells.write_csv(records, path)


def printable(value: object) -> str:
    """A value as the terminal shows it: control characters (an escape sequence in an
    agency's cell could restyle or clear the terminal) shown as U+FFFD, missing as ''."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" else ch for ch in str(value))
