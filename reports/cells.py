"""Spreadsheet-safe cells: text that cannot run as a formula when a user opens a CSV or XLSX.

Names of programs and regions, service labels, file names and every other free text come
from the agency's input files and flow into the published tables. A spreadsheet treats a
cell beginning with `=`, `+`, `-` or `@` (and, in some, a tab or carriage return before
them) as a formula: `=HYPERLINK("http://...","x")` in a program name would become a live
link, and worse (DDE) in older spreadsheets. Following OWASP's CSV-injection guidance,
every text cell that starts with one of those characters is written with a single quote
`'` in front, and every text cell of a CSV is quoted; numbers stay numbers, so a negative
effect is still a number a spreadsheet can sum.

Only the type decides: a Python or numpy number is a number; a string is text, even one
that reads like a number ("-5%", "+0.03 [-0.01, 0.07]": display texts are text). JSON
exports are data for programs, not spreadsheets: they keep the text as it is.

Every writer of a CSV or XLSX meant for users (`reports.export`, `reports.site`,
`schemas.dictionary`, `reports.quarantine`) goes through `safe_cell` (and `write_csv` for
CSV files, `write_xlsx` for a one-sheet workbook).
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

# what makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# what a neutralized cell starts with: the spreadsheet's own "this is text" prefix
TEXT_PREFIX = "'"
# the control characters an XLSX cell cannot hold: openpyxl's ILLEGAL_CHARACTERS_RE (the
# same pattern; tests/test_exports_safe.py checks it), here so that a report that writes its
# workbook with XlsxWriter does not import openpyxl (a fifth of a second)
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def safe_cell(value: object) -> object:
    """The value as a spreadsheet cell that cannot execute: a string starting with a
    formula character gets a leading `'`; anything else (numbers, booleans, None, other
    strings) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return TEXT_PREFIX + value
    return value


def _numeric(column: pd.Series) -> bool:
    # numbers, booleans and dates are typed values, never text: left as they are
    return bool(
        pd.api.types.is_numeric_dtype(column)
        or pd.api.types.is_bool_dtype(column)
        or pd.api.types.is_datetime64_any_dtype(column)
    )


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame with every text cell (and column name) passed through
    `safe_cell`; numeric, boolean and date columns are not touched."""
    out = frame.copy()
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if not _numeric(column):
            # by position: a column name may repeat; object columns mix numbers and text
            # built as object: `map` would infer a type, and counts beside None turn float
            safe = pd.Series([safe_cell(v) for v in column], index=column.index, dtype=object)
            out.isetitem(position, safe)
    out.columns = [safe_cell(c) for c in frame.columns]
    return out


def _no_infinity(frame: pd.DataFrame, path: Path) -> None:
    """Refuse an infinite number: spreadsheets read `inf` as text or a name, not as a
    figure. Tables say "unbounded" their own way (`reports.export.bounded`)."""
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]  # by position: a column name may repeat
        if pd.api.types.is_float_dtype(column):
            infinite = bool(np.isinf(column.to_numpy(dtype=float, na_value=np.nan)).any())
        else:
            infinite = column.dtype == object and any(
                isinstance(v, float) and math.isinf(v) for v in column
            )
        if infinite:
            raise ValueError(f"{path.name}: column {name!r} holds an infinite number")


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """The frame as a UTF-8 CSV a spreadsheet opens safely: text neutralized and quoted
    (`csv.QUOTE_NONNUMERIC`: numbers bare, so they stay numbers), missing values empty."""
    _no_infinity(frame, path)
    safe_frame(frame).to_csv(path, index=False, encoding="utf-8", quoting=csv.QUOTE_NONNUMERIC)
    return path


def _xlsx_value(value: object) -> object:
    """A cell value openpyxl writes as itself: None for missing, Python numbers and dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return _xlsx_value(value.item())
    return value


def write_xlsx(frame: pd.DataFrame, path: Path, sheet: str = "data") -> Path:
    """The frame as a one-sheet workbook a spreadsheet opens safely: text neutralized
    (`safe_cell`) and typed as text, since openpyxl would make a formula of any string
    starting with `=`; control characters XLSX cannot hold shown as U+FFFD; numbers and
    dates typed as such; missing values empty."""
    from openpyxl import Workbook  # only the writers of a workbook pay for the import
    from openpyxl.cell import WriteOnlyCell

    _no_infinity(frame, path)
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])

    def row(values: list[object]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            value = safe_cell(_xlsx_value(value))
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        return cells

    ws.append(row([str(c) for c in frame.columns]))
    for values in frame.itertuples(index=False):
        ws.append(row(list(values)))
    book.save(path)
    return path
