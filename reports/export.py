"""Write an edition's tables as CSV, XLSX and JSON, with the suppression of the pages.

A suppressed cell is written as the symbol "x" in CSV and XLSX, and as null with the
column listed under `_suppressed` in JSON; an empty cell means not available. Column
names are the language-neutral codes of the tables; each JSON file carries its table's
title (in the edition's language) and the meaning of the symbols.

A figure that was not estimated is empty, with its `status` and `reason` (the code) and a
`reason_text` in the edition's language beside it (`<prefix>status`... for the portfolio's
effect columns and the pre-entry test): not estimated is not suppressed. A return figure
carries its `scale` and `scale_choice` (codes) with `scale_text` and `scale_choice_text`,
and its pre-entry test on that scale (`pretrend_pvalue`, `pretrend_passes`,
`pretrend_reason`) with `pretrend_text` ("passes (p = 0.412)", "not run: ...").

Unbounded figures (`bounded`): a cost per job whose jobs interval includes zero has no
upper end, stored as +infinity. No export writes `inf` (a spreadsheet reads it as text or
a name, and JSON has no such number): the figure's cell is empty and a boolean column
`<column>_unbounded` beside it is true (the pages show ∞). The columns that can be
unbounded always carry their marker, so a table's columns do not depend on the data.

Safe cells (`reports.cells`): every CSV and XLSX text cell starting with `=`, `+`, `-`,
`@`, a tab or a carriage return is written with a leading `'` (OWASP's CSV-injection
guidance), and CSV text is quoted; numbers, negative ones included, stay numbers. Names
of programs, regions and services come from the agency's files, so they are not trusted.
JSON keeps text as it is: it is data for programs, which do not evaluate formulas, and a
JSON reader should get the agency's names unaltered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reports import cells
from reports.cells import ILLEGAL_CHARACTERS_RE, safe_cell
from reports.disclosure import Published
from reports.editions import _jsonable
from reports.i18n import Translator
from reports.reasons import with_reason_texts
from reports.scales import with_scale_texts

SUPPRESSED = "x"
UNBOUNDED = "_unbounded"  # suffix of the marker column beside a figure that can be infinite
# the figures that can be infinite: cost per job and its interval when the jobs estimate
# or its interval reaches zero (evaluation.roi.cost_per_job, self_reported), on both scales
# in internal editions; the gross-to-net ratio's upper end (evaluation.claims.gross_to_net)
UNBOUNDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "roi": ("estimate", "ci_low", "ci_high", "other_estimate", "other_ci_low", "other_ci_high"),
    "claims": ("ratio_ci_high",),
}


def _infinite(column: pd.Series) -> np.ndarray:
    """Where the column holds an infinite number (float or object columns)."""
    if pd.api.types.is_float_dtype(column):
        return np.isinf(column.to_numpy(dtype=float, na_value=np.nan))
    if column.dtype == object:
        return np.array([isinstance(v, float) and math.isinf(v) for v in column], dtype=bool)
    return np.zeros(len(column), dtype=bool)


def bounded(table: Published) -> Published:
    """The table with every infinite figure emptied and flagged in `<column>_unbounded`
    (inserted after it): for the columns of `UNBOUNDED_COLUMNS`, always, and for any other
    column that holds an infinite number. The marker is suppressed with its figure (that a
    hidden figure is unbounded says something about it). Idempotent."""
    values, suppressed = table.values, table.suppressed
    declared = set(UNBOUNDED_COLUMNS.get(table.table_id, ()))
    flags = {c: _infinite(values[c]) for c in values.columns}
    marked = [
        c
        for c in values.columns
        if (c in declared or flags[c].any()) and f"{c}{UNBOUNDED}" not in values.columns
    ]
    if not marked:
        return table
    out: dict[str, pd.Series] = {}
    hidden = suppressed.copy()
    for column in values.columns:
        series = values[column]
        if column in marked:
            infinite = flags[column]
            out[column] = series.mask(infinite) if infinite.any() else series
            marker = f"{column}{UNBOUNDED}"
            out[marker] = pd.Series(pd.array(infinite, dtype="boolean"), index=values.index)
            if column in suppressed.columns:
                hidden[marker] = suppressed[column]
        else:
            out[column] = series
    return Published(table.table_id, pd.DataFrame(out, index=values.index), hidden, table.applied)


def published_frame(table: Published, t: Translator | None = None) -> pd.DataFrame:
    """The table as published, with the reasons of figures not estimated in words
    (`<prefix>reason_text`) and, for the returns, each figure's scale, why and its
    pre-entry test in words (`reports.scales.with_scale_texts`) when a translator is given;
    infinite figures empty and flagged (`bounded`)."""
    frame = bounded(table).frame()
    return with_scale_texts(with_reason_texts(frame, t), t) if t is not None else frame


def marked(table: Published, t: Translator | None = None) -> pd.DataFrame:
    """The table as published, suppressed cells replaced by the symbol (public editions)."""
    table = bounded(table)
    return _marked(table, published_frame(table, t))


def _marked(table: Published, frame: pd.DataFrame) -> pd.DataFrame:
    """`marked` from the bounded table and its published frame."""
    if not table.applied:
        return frame
    out = frame.astype(object).where(frame.notna(), None)
    for column in table.suppressed.columns:
        hidden = table.suppressed[column].to_numpy(dtype=bool)
        out.loc[hidden, column] = SUPPRESSED
    return out


def write_csv(table: Published, path: Path, t: Translator | None = None) -> Path:
    """One table as UTF-8 CSV, safe to open in a spreadsheet (`reports.cells.write_csv`)."""
    return cells.write_csv(marked(table, t), path)


def json_rows(table: Published, t: Translator | None = None) -> list[dict[str, Any]]:
    """The table's rows as JSON-ready records; suppressed cells null and listed."""
    table = bounded(table)
    return _json_rows(table, published_frame(table, t))


def _json_rows(table: Published, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """`json_rows` from the bounded table and its published frame."""
    columns = {c: [_jsonable(v) for v in frame[c].tolist()] for c in frame.columns}
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    if table.applied:
        for column in table.suppressed.columns:
            for i in np.flatnonzero(table.suppressed[column].to_numpy(dtype=bool)):
                rows[i][column] = None
                rows[i].setdefault("_suppressed", []).append(column)
    return rows


def dump_json(document: object, path: Path) -> Path:
    """Write JSON that any parser reads: `allow_nan=False` refuses NaN and Infinity, which
    are not JSON (callers turn them into null or words first)."""
    text = json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False, default=_scalar)
    path.write_text(text, "utf-8")
    return path


def _scalar(value: object) -> object:
    """numpy's integers, floats and booleans as Python's (a count computed with numpy is
    still a count); anything else is refused as json would."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def write_json(table: Published, path: Path, t: Translator) -> Path:
    """One table as JSON: title, symbols, columns and rows (suppressed cells null)."""
    table = bounded(table)
    return _write_json(table, published_frame(table, t), path, t)


def _write_json(table: Published, frame: pd.DataFrame, path: Path, t: Translator) -> Path:
    """`write_json` from the bounded table and its published frame."""
    columns = list(frame.columns)
    symbols = {"_suppressed": t("note.suppressed")}
    if any(c.endswith(UNBOUNDED) for c in columns):
        symbols[UNBOUNDED] = t("note.unbounded_column")
    document = {
        "table": table.table_id,
        "title": t(f"table.{table.table_id}"),
        "disclosure_control": table.applied,
        "symbols": symbols,
        "columns": columns,
        "rows": _json_rows(table, frame),
    }
    return dump_json(document, path)


def _row(values: Iterable[object]) -> list[object]:
    """Cells of one sheet row: numbers and booleans as Python's (no NaN, no numpy types),
    text neutralized (`safe_cell`) and without the control characters XLSX cannot hold
    (shown as �); `_write_book` writes text as text, so no cell is ever a formula."""
    row: list[object] = []
    for value in values:
        value = safe_cell(_jsonable(value))
        row.append(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value)
    return row


def write_workbook(tables: dict[str, Published], path: Path, t: Translator) -> Path:
    """All tables in one workbook, one sheet per table (names cut to Excel's 31 chars),
    and a `_tables` sheet with their titles."""
    return _write_book([(k, _sheet(marked(v, t))) for k, v in tables.items()], path, t)


Sheet = list[list[object]]


def _sheet(frame: pd.DataFrame) -> Sheet:
    """A table's worksheet (`marked` frame): its column names, then its rows."""
    return [_row(r) for r in chain([frame.columns], frame.itertuples(index=False, name=None))]


def _write_book(sheets: list[tuple[str, Sheet]], path: Path, t: Translator) -> Path:
    """The workbook of these worksheets (table id, rows) and of their titles, through
    XlsxWriter (several times faster than openpyxl's write-only mode on an edition's
    tables). Text is written as text whatever it starts with, never as a formula, a number
    or a link."""
    import xlsxwriter

    titles: Sheet = [["table", "title"], *([k, t(f"table.{k}")] for k, _ in sheets)]  # type: ignore[list-item]
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(str(path), options) as book:
        # a fixed creation stamp (XlsxWriter's default is now): the same cells, the same file
        book.set_properties({"created": datetime(2000, 1, 1, tzinfo=UTC)})
        for name, rows in [*sheets, ("_tables", titles)]:
            sheet = book.add_worksheet(name[:31])
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value is None or value == "":  # empty cells are left out
                        continue
                    if isinstance(value, str):
                        sheet.write_string(r, c, value)
                    elif isinstance(value, bool):
                        sheet.write_boolean(r, c, value)
                    else:
                        sheet.write_number(r, c, value)  # type: ignore[arg-type]
    return path


def write_log(
    frame: pd.DataFrame, csv_path: Path, json_path: Path, key: str | None = None, **fields: Any
) -> None:
    """A log (suppressions, restatements) as a safe CSV and as JSON: its rows as records, a
    bare list, or under `key` beside `fields`."""
    records = [
        {str(c): _jsonable(v) for c, v in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False)
    ]
    cells.write_csv(pd.DataFrame(records, columns=[str(c) for c in frame.columns]), csv_path)
    dump_json({**fields, key: records} if key else records, json_path)


@dataclass(frozen=True)
class Written:
    """A table's CSV file and worksheet, as every edition of another language writes them
    when the table has no words in the edition's language."""

    csv: bytes
    sheet: Sheet  # its worksheet's rows


def write_tables(
    tables: dict[str, Published],
    folder: Path,
    t: Translator,
    shared: dict[str, Written] | None = None,
) -> dict[str, dict[str, str]]:
    """Write every table as CSV and JSON into folder, plus the workbook; return
    table id -> {"csv": name, "json": name} (relative to the edition) and "_workbook".
    shared: the tables written by an edition of the same tables in another language (a
    dict the caller keeps between them): one without words in a language (no reason or
    scale in words) is not written out again."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    sheets: list[tuple[str, Sheet]] = []
    for table_id, table in tables.items():
        # the table in words once, for its CSV, JSON and sheet
        table = bounded(table)
        frame = published_frame(table, t)
        csv = folder / f"{table_id}.csv"
        neutral = shared is not None and frame.columns.equals(table.values.columns)
        done = shared.get(table_id) if shared is not None and neutral else None
        if done is None:
            sheet = _marked(table, frame)
            done = Written(cells.write_csv(sheet, csv).read_bytes(), _sheet(sheet))
            if shared is not None and neutral:
                shared[table_id] = done
        else:
            csv.write_bytes(done.csv)
        sheets.append((table_id, done.sheet))
        js = _write_json(table, frame, folder / f"{table_id}.json", t)
        files[table_id] = {"csv": f"{folder.name}/{csv.name}", "json": f"{folder.name}/{js.name}"}
    book = _write_book(sheets, folder / "tables.xlsx", t)
    files["_workbook"] = {"xlsx": f"{folder.name}/{book.name}"}
    return files
