"""Read the files an agency sends into text frames, one row per input line.

Everything is read as text: types are the contract's business, so that a value that does
not parse becomes a quarantined row with its reason instead of a failed read. Each frame
carries `_row_number`, the row as a spreadsheet shows it (the header is row 1).

Supported sources and how they are read:

* CSV / TXT / TSV: the delimiter is sniffed among `,` `;` tab `|` and the encoding is
  detected (UTF-8 with or without BOM, else Windows-1252, else Latin-1; a UTF-16 BOM is
  honoured); both can be set in a `SourceFormat`. Quoted fields may hold the delimiter or
  line breaks; a record spanning several lines is still one spreadsheet row.
* XLSX / XLSM (openpyxl): the first sheet unless one is chosen by name or 0-based index;
  formulas give their cached values.
* Parquet, and Stata `.dta`: Stata value labels are NOT applied by default (the codes are
  kept, losslessly: an ISIC code labelled with its description must stay a code); set
  `SourceFormat(value_labels=True)` to get the labels instead.

Cells stored as numbers or dates come out as canonical text: `2015` (not `2015.0`),
`1234567.89`, dates as `yyyy-mm-dd` (`yyyy-mm-dd HH:MM:SS` if there is a time of day).
Which cells were stored that way is recorded in `frame.attrs[TYPED_CELLS]`, so that
`schemas.mapping.apply_mapping` does not re-read an Excel number `12.345` as twelve
thousand under a "thousands = ." source format. Empty cells are None; rows with no
value at all are dropped (their row numbers are simply skipped). Every failure is a
`ContractError` with one line naming the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from schemas.validate import ROW, ContractError

READERS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".dta": "stata",
}
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # tried in order, strictly
SNIFF_CHARS = 64 * 1024
TYPED_CELLS = "typed_cells"  # frame.attrs key, see the module docstring
SOURCE_FILE = "source_file"  # frame.attrs key: the file name, for messages downstream
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits: 0.1 + 0.2 is shown as 0.3

TypedCells = dict[str, Literal[True] | frozenset[int]]


class SourceFormat(BaseModel):
    """How a source writes its data; anything left unset is detected or takes the default.

    `delimiter`, `encoding`, `sheet` and `value_labels` are used by `read_source`;
    `decimal`, `thousands` and `date_format` by `schemas.mapping.apply_mapping`, which
    applies them to text cells of the contract's numeric and date columns only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    delimiter: str | None = None  # one of , ; tab | ("tab" is accepted for a tab)
    encoding: str | None = None  # any Python codec name, e.g. cp1252, latin-1, utf-8
    decimal: Literal[".", ","] = "."
    thousands: Literal[".", ",", " "] | None = None  # " " also covers no-break spaces
    date_format: str | None = None  # strptime format, e.g. %d/%m/%Y; ISO is always accepted
    sheet: str | int | None = None  # XLSX sheet name or 0-based index
    value_labels: bool = False  # Stata: apply value labels instead of keeping the codes

    @field_validator("delimiter", mode="before")
    @classmethod
    def _delimiter(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in DELIMITERS:
            named = DELIMITER_NAMES.get(value.strip().lower())
            if named is None:
                raise ValueError(f"must be one of , ; tab | (got {value!r})")
            return named
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("thousands", mode="before")
    @classmethod
    def _thousands(cls, value: Any) -> Any:
        # YAML is read as plain text: "none", "null", "~" or nothing all mean no separator
        if value == " ":
            return value
        if isinstance(value, str) and value.strip().lower() in {"", "none", "null", "~"}:
            return None
        return value

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        if value is not None:
            sample = dt.datetime(2001, 2, 13)
            try:
                parsed = dt.datetime.strptime(sample.strftime(value), value)
            except ValueError:
                parsed = None
            if parsed is None or parsed.date() != sample.date():
                raise ValueError(f"{value!r} does not describe a full date (e.g. %d/%m/%Y)")
        return value

    @model_validator(mode="after")
    def _separators_differ(self) -> SourceFormat:
        if self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        return self


def read_source(
    path: Path | str, *, sheet: str | int | None = None, fmt: SourceFormat | None = None
) -> pd.DataFrame:
    """Read an agency file (CSV/TXT, XLSX, Parquet or Stata) as text, with `_row_number`.

    `sheet` overrides `fmt.sheet`. Raises ContractError (one line naming the file) when the
    file is missing, unreadable, empty, of an unknown type, or lacks the chosen sheet.
    """
    path = Path(path)
    fmt = fmt or SourceFormat()
    suffix = path.suffix.lower()
    kind = READERS.get(suffix)
    if suffix == ".xls":
        raise ContractError(
            f"{path.name}: old Excel .xls files are not supported (save it as .xlsx or CSV)"
        )
    if kind is None:
        raise ContractError(
            f"{path.name}: unsupported file type '{path.suffix}' "
            "(use CSV, TXT, XLSX, Parquet or Stata .dta)"
        )
    if not path.exists():
        raise ContractError(f"{path}: file not found")
    if not path.is_file():
        raise ContractError(f"{path.name}: not a file")
    try:
        if kind == "csv":
            frame = _read_csv(path, fmt)
        elif kind == "excel":
            frame = _read_excel(path, sheet if sheet is not None else fmt.sheet)
        elif kind == "parquet":
            frame = _from_typed(path.name, pd.read_parquet(path))
        else:
            frame = _from_typed(
                path.name,
                pd.read_stata(path, convert_categoricals=fmt.value_labels),
            )
    except ContractError:
        raise
    except Exception as exc:  # any library's failure is the user's unreadable file
        raise ContractError(f"{path.name}: cannot read the file: {_one_line(exc)}") from None
    frame.attrs[SOURCE_FILE] = path.name
    return frame


# --- CSV ------------------------------------------------------------------------------


def decode(raw: bytes, encoding: str | None, name: str) -> str:
    """Decode bytes with the given encoding, or detect UTF-8 / Windows-1252 / Latin-1."""
    if encoding is None:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"  # Excel's "Unicode text" export
        else:
            for candidate in ENCODINGS:
                try:
                    return raw.decode(candidate)
                except UnicodeDecodeError:
                    continue
    assert encoding is not None  # unreachable otherwise: latin-1 decodes any byte string
    # a BOM is not part of the first header
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ContractError(
            f"{name}: cannot decode the file as {encoding}: byte {raw[exc.start]:#04x} "
            f"at position {exc.start}"
        ) from None


def sniff_delimiter(text: str) -> str:
    """Guess the delimiter among , ; tab | from the start of the text (default ',')."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # never sniff a half line
    # the header line, with quoted parts removed: quoted headers may hold any delimiter
    header = re.sub(r'"[^"]*"', "", sample.lstrip("\r\n").split("\n", 1)[0])
    try:
        guess = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
        if guess in header:  # the sniffer can be fooled by decimal commas in the data
            return guess
    except csv.Error:
        pass
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, fmt: SourceFormat) -> pd.DataFrame:
    text = decode(path.read_bytes(), fmt.encoding, path.name).lstrip("\ufeff")
    hint = re.match(r"sep=([,;\t|])\r?\n", text)
    if hint:  # Excel's "sep=;" first line: Excel hides it, so the header stays row 1
        text = text[hint.end() :]
    delimiter = fmt.delimiter or (hint[1] if hint else None) or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    # a record spanning lines (quoted line breaks) is one spreadsheet row
    return _build(path.name, enumerate(reader, start=1), strict_width=True)


# --- XLSX -----------------------------------------------------------------------------


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = _pick_sheet(book.worksheets, sheet, path.name)
        worksheet.reset_dimensions()  # some writers store no or wrong sheet dimensions
        rows = worksheet.iter_rows(min_row=1, values_only=True)
        return _build(path.name, enumerate(rows, start=1), strict_width=False)
    finally:
        book.close()


def _pick_sheet(sheets: Sequence[Any], sheet: str | int | None, name: str) -> Any:
    titles = [s.title for s in sheets]
    listing = ", ".join(f"'{t}'" for t in titles)
    if not sheets:
        raise ContractError(f"{name}: the workbook has no worksheet")
    if sheet is None:
        return sheets[0]
    if isinstance(sheet, str):
        exact = [s for s in sheets if s.title == sheet]
        loose = [s for s in sheets if s.title.strip().casefold() == sheet.strip().casefold()]
        if exact or len(loose) == 1:  # "Participaciones " finds "participaciones"
            return (exact or loose)[0]
        if not sheet.strip().isdigit():
            raise ContractError(f"{name}: no sheet '{sheet}' (sheets: {listing})")
        sheet = int(sheet)  # from a mapping file every value is text: "0" is an index
    if 0 <= sheet < len(sheets):
        return sheets[sheet]
    raise ContractError(
        f"{name}: no sheet number {sheet} (0-based; {len(sheets)} sheets: {listing})"
    )


# --- Parquet, Stata ---------------------------------------------------------------------


def _from_typed(name: str, typed: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(typed.index, pd.RangeIndex) or typed.index.name is not None:
        typed = typed.reset_index()  # a stored index is data (e.g. firm_id)
    if typed.shape[1] == 0:
        raise ContractError(f"{name}: the file is empty (no columns)")
    columns = {}
    masks = {}
    for position, column in enumerate(typed.columns):
        header = _header_text(column, position)
        columns[header], masks[header] = column_text(typed[column])
    if len(columns) < typed.shape[1]:
        raise ContractError(f"{name}: duplicate column headers")
    frame = pd.DataFrame(columns, dtype=object)
    frame[ROW] = np.arange(2, len(frame) + 2, dtype="int64")
    return _finish(frame, masks)


def column_text(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A typed column as canonical text (None for missing) and a mask of typed cells."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    present = series.notna().to_numpy(copy=True)  # pandas 3 views are read-only
    out = np.full(len(series), None, dtype=object)
    kind = getattr(series.dtype, "kind", "O")
    if kind in "iu":
        out[present] = series[present].astype("int64").astype(str).to_numpy()
        return pd.Series(out, index=series.index), present
    if kind == "f":
        single = series.dtype == np.float32  # print float32 as float32: 1234.56, not ...6005
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        present &= ~np.isnan(values)
        for position in np.flatnonzero(present):
            out[position] = float_text(float(values[position]), single=single)
        return pd.Series(out, index=series.index), present
    values = series.astype(object).to_numpy()
    typed = np.zeros(len(series), dtype=bool)
    for i, value in enumerate(values):
        out[i] = cell_text(value)
        typed[i] = out[i] is not None and not isinstance(value, str)
    return pd.Series(out, index=series.index), typed


# --- cells and frames -------------------------------------------------------------------


def float_text(value: float, *, digits: int | None = None, single: bool = False) -> str:
    """Canonical text of a float: integral values without '.0', else the shortest repr."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if single:
        return str(np.float32(value))
    if digits is not None:
        return float_text(float(f"{value:.{digits}g}"))
    return repr(value)


def cell_text(value: object, *, digits: int | None = None) -> str | None:
    """Canonical text of one cell value; None for an empty or missing cell."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float_text(float(value), digits=digits)
    if isinstance(value, Decimal):
        return None if value.is_nan() else format(value, "f")
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return cell_text(decode(value, None, "cell"))
    return str(value).strip() or None


def check_unique_headers(names: list[str], name: str) -> None:
    """Refuse a file whose header names a column twice (which value would count?)."""
    seen: dict[str, int] = {}
    for i, header in enumerate(names):
        if header in seen:
            raise ContractError(
                f"{name}: duplicate column header '{header}' (columns {seen[header] + 1} "
                f"and {i + 1})"
            )
        seen[header] = i


def _header_text(value: object, position: int) -> str:
    text = cell_text(value)
    return text if text is not None else f"column_{position + 1}"


def _build(
    name: str, records: Iterable[tuple[int, Sequence[object]]], *, strict_width: bool
) -> pd.DataFrame:
    """Frame from (row number, cells) records: the first non-empty record is the header."""
    stream: Iterator[tuple[int, Sequence[object]]] = iter(records)
    for _, header_cells in stream:
        if any(cell_text(c) is not None for c in header_cells):
            break
    else:
        raise ContractError(f"{name}: the file is empty")
    headers: list[object] = list(header_cells)
    numbers: list[int] = []
    rows: list[list[str | None]] = []
    typed: list[list[bool]] = []
    for number, cells in stream:
        texts = [cell_text(c, digits=EXCEL_DIGITS) for c in cells]
        if all(t is None for t in texts):
            continue  # blank line or row: no data to lose
        if len(texts) > len(headers):
            if strict_width and any(t is not None for t in texts[len(headers) :]):
                raise ContractError(
                    f"{name}: row {number} has {len(texts)} values but the header has "
                    f"{len(headers)} columns (wrong delimiter or an unquoted value?)"
                )
            headers += [None] * (len(texts) - len(headers))
        numbers.append(number)
        rows.append(texts)
        typed.append(
            [t is not None and not isinstance(c, str) for c, t in zip(cells, texts, strict=True)]
        )
    width = len(headers)
    names = [_header_text(h, i) for i, h in enumerate(headers)]
    check_unique_headers(names, name)
    padded = [row + [None] * (width - len(row)) for row in rows]
    frame = pd.DataFrame(padded, columns=names, dtype=object)
    if not padded:
        frame = pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    # columns without a header nor any value are trailing delimiters or formatting
    unnamed = [n for i, n in enumerate(names) if cell_text(headers[i]) is None]
    frame = frame.drop(columns=[n for n in unnamed if frame[n].isna().all()])
    frame[ROW] = np.asarray(numbers, dtype="int64")
    masks = {
        n: np.array([bool(t[i]) if i < len(t) else False for t in typed], dtype=bool)
        for i, n in enumerate(names)
        if n in frame.columns
    }
    return _finish(frame, masks)


def _finish(frame: pd.DataFrame, masks: dict[str, np.ndarray]) -> pd.DataFrame:
    """Drop rows without any value, use None for empty cells, record the typed cells."""
    data = [c for c in frame.columns if c != ROW]
    keep = frame[data].notna().any(axis=1).to_numpy() if data else np.ones(len(frame), bool)
    frame = frame[keep].reset_index(drop=True)
    frame[data] = frame[data].astype(object).where(frame[data].notna(), None)
    typed_cells: TypedCells = {}
    for column, mask in masks.items():
        mask = mask[keep]
        present = frame[column].notna().to_numpy()
        if mask.any():
            # compact: True when every value of the column was typed (Parquet, Stata)
            typed_cells[column] = (
                True if mask[present].all() else frozenset(int(n) for n in frame.loc[mask, ROW])
            )
    frame.attrs[TYPED_CELLS] = typed_cells
    return frame


def typed_mask(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Which cells of `column` the reader got as numbers or dates rather than as text."""
    marked = frame.attrs.get(TYPED_CELLS, {}).get(column)
    if marked is None:
        return np.zeros(len(frame), dtype=bool)
    if marked is True:
        return frame[column].notna().to_numpy()
    return frame[ROW].isin(marked).to_numpy()


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
