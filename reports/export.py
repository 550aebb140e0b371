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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook

from reports.disclosure import Published
from reports.editions import _jsonable
from reports.i18n import Translator
from reports.reasons import with_reason_texts
from reports.scales import with_scale_texts

SUPPRESSED = "x"


def published_frame(table: Published, t: Translator | None = None) -> pd.DataFrame:
    """The table as published, with the reasons of figures not estimated in words
    (`<prefix>reason_text`) and, for the returns, each figure's scale, why and its
    pre-entry test in words (`reports.scales.with_scale_texts`) when a translator is given."""
    frame = table.frame()
    return with_scale_texts(with_reason_texts(frame, t), t) if t is not None else frame


def marked(table: Published, t: Translator | None = None) -> pd.DataFrame:
    """The table as published, suppressed cells replaced by the symbol (public editions)."""
    frame = published_frame(table, t)
    if not table.applied:
        return frame
    out = frame.astype(object).where(frame.notna(), None)
    for column in table.suppressed.columns:
        hidden = table.suppressed[column].to_numpy(dtype=bool)
        out.loc[hidden, column] = SUPPRESSED
    return out


def write_csv(table: Published, path: Path, t: Translator | None = None) -> Path:
    """One table as UTF-8 CSV."""
    marked(table, t).to_csv(path, index=False, encoding="utf-8")
    return path


def json_rows(table: Published, t: Translator | None = None) -> list[dict[str, Any]]:
    """The table's rows as JSON-ready records; suppressed cells null and listed."""
    frame = published_frame(table, t)
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


def write_json(table: Published, path: Path, t: Translator) -> Path:
    """One table as JSON: title, symbols, columns and rows (suppressed cells null)."""
    document = {
        "table": table.table_id,
        "title": t(f"table.{table.table_id}"),
        "disclosure_control": table.applied,
        "symbols": {"_suppressed": t("note.suppressed")},
        "columns": list(published_frame(table, t).columns),
        "rows": json_rows(table, t),
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_workbook(tables: dict[str, Published], path: Path, t: Translator) -> Path:
    """All tables in one workbook, one sheet per table (names cut to Excel's 31 chars),
    and a `_tables` sheet with their titles. Write-only mode: fast for large tables."""
    book = Workbook(write_only=True)
    for table_id, table in tables.items():
        frame = marked(table, t)
        sheet = book.create_sheet(table_id[:31])
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([_jsonable(v) for v in row])  # no NaN, no numpy types
    titles = book.create_sheet("_tables")
    titles.append(["table", "title"])
    for table_id in tables:
        titles.append([table_id, t(f"table.{table_id}")])
    book.save(path)
    return path


def write_tables(
    tables: dict[str, Published], folder: Path, t: Translator
) -> dict[str, dict[str, str]]:
    """Write every table as CSV and JSON into folder, plus the workbook; return
    table id -> {"csv": name, "json": name} (relative to the edition) and "_workbook"."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    for table_id, table in tables.items():
        csv = write_csv(table, folder / f"{table_id}.csv", t)
        js = write_json(table, folder / f"{table_id}.json", t)
        files[table_id] = {"csv": f"{folder.name}/{csv.name}", "json": f"{folder.name}/{js.name}"}
    book = write_workbook(tables, folder / "tables.xlsx", t)
    files["_workbook"] = {"xlsx": f"{folder.name}/{book.name}"}
    return files
