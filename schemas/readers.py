"""Read the files an agency sends into text frames, one row per input line.

Everything is read as text: types are the contract's business, so that a value that does
not parse becomes a quarantined row with its reason instead of a failed read. Each frame
carries `_row_number`, the row as a spreadsheet shows it (the header is row 1).

Supported sources and how they are read:

* CSV / TXT / TSV: the delimiter is sniffed among `,` `;` tab `|` and the encoding is
  detected (UTF-8 with or without BOM, else Windows-1252, else Latin-1; a UTF-16 BOM is
  honoured); both can be set in a `SourceFormat`. Quoted fields may hold the delimiter or
  line breaks; a record spanning several lines is still one spreadsheet row. A declared
  encoding that does not fit the bytes is refused, naming the likely one: a UTF-8 file
  declared cp1252 (it would read 'RegiÃ³n' for 'Región'), bytes invalid in the declared
  encoding, a Windows-1252 file declared Latin-1 (its quotes and dashes would be control
  characters); so is text that is already garbled ('Ã³' for 'ó': UTF-8 encoded twice, or
  mixed with another encoding). See `decode`.
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

`read_sample` reads the header and the first rows only (the first MB of a CSV), the same
way: what the CLI's checks before a run use (`flows.preflight`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import encodings
import importlib
import io
import itertools
import math
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from schemas.structure import (
    BROKEN_LINES,
    BrokenLines,
    blank_lines,
    find_broken_lines,
    nothing_readable,
    physical_lines,
    split_line,
)
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
SAMPLE_BYTES = 1024 * 1024  # what `read_sample` reads of a CSV
SAMPLE_ROWS = 1000  # what `read_sample` reads of a spreadsheet, Parquet or Stata file
TYPED_CELLS = "typed_cells"  # frame.attrs key, see the module docstring
SOURCE_FILE = "source_file"  # frame.attrs key: the file name, for messages downstream
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits: 0.1 + 0.2 is shown as 0.3
# The widest contract entity has 14 columns; agencies add a few attributes. A header of
# thousands of columns is not a register (a transposed sheet, the wrong file) and every
# per-column step would take minutes on it: refused in one line before rows are read.
MAX_COLUMNS = 1000

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
    path: Path | str,
    *,
    sheet: str | int | None = None,
    fmt: SourceFormat | None = None,
    fix_in: str | None = None,
) -> pd.DataFrame:
    """Read an agency file (CSV/TXT, XLSX, Parquet or Stata) as text, with `_row_number`.

    `sheet` overrides `fmt.sheet`. Raises ContractError (one line naming the file) when the
    file is missing, unreadable, empty, of an unknown type, lacks the chosen sheet, or is
    not in its declared encoding (`fix_in` names where to fix that, e.g. the mapping file).
    """
    return _read(Path(path), sheet, fmt or SourceFormat(), fix_in, sample=False)


def read_sample(
    path: Path | str,
    *,
    sheet: str | int | None = None,
    fmt: SourceFormat | None = None,
    fix_in: str | None = None,
    limit: int = SAMPLE_BYTES,
) -> pd.DataFrame:
    """The header and first rows of an agency file, read exactly as `read_source` reads it.

    Reads at most `limit` bytes of a CSV (the last, possibly cut, record is dropped) and
    `SAMPLE_ROWS` rows of other files, so that a check of a large file stays fast. Raises
    the errors `read_source` raises for what it reads.
    """
    return _read(Path(path), sheet, fmt or SourceFormat(), fix_in, sample=True, limit=limit)


def check_path(path: Path) -> str:
    """The reader of a file (csv, excel, parquet, stata); ContractError if it cannot be one."""
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
    check_regular_file(path)
    return kind


def check_regular_file(path: Path) -> None:
    """ContractError (one line) unless `path` is a regular file (a symlink to one is).

    Checked with `stat.S_ISREG`, not by reading: a FIFO, a device such as
    /dev/zero or a socket must be refused before anything reads or hashes it: reading a
    FIFO waits for a writer forever, /dev/zero never ends, and a run would hold the
    warehouse's writer lock all the while."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ContractError(f"{path}: file not found") from None
    except OSError as exc:
        raise ContractError(f"{path.name}: cannot read the file: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise ContractError(f"{path.name}: not a file (a folder)")
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a special file"
        )
        raise ContractError(f"{path.name}: not a regular file ({kind}); give the file itself")


def _read(
    path: Path,
    sheet: str | int | None,
    fmt: SourceFormat,
    fix_in: str | None,
    *,
    sample: bool,
    limit: int = SAMPLE_BYTES,
) -> pd.DataFrame:
    kind = check_path(path)
    rows = SAMPLE_ROWS if sample else None
    try:
        if kind == "csv":
            frame = _read_csv(path, fmt, fix_in, limit if sample else None)
        elif kind == "excel":
            frame = _read_excel(path, sheet if sheet is not None else fmt.sheet, rows)
        elif kind == "parquet":
            frame = _from_typed(path.name, _parquet(path, rows))
        else:
            frame = _from_typed(path.name, _stata(path, fmt.value_labels, rows))
    except ContractError:
        raise
    except PermissionError:
        raise ContractError(f"{path.name}: cannot read the file: permission denied") from None
    except Exception as exc:  # any library's failure is the user's unreadable file
        raise ContractError(f"{path.name}: cannot read the file: {_one_line(exc)}") from None
    frame.attrs[SOURCE_FILE] = path.name
    return frame


# --- CSV ------------------------------------------------------------------------------


UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (cp1252)",
    "latin-1": "Latin-1",
}
# Windows-1252 text read from UTF-8 bytes: 'Ã³' for 'ó', 'Ã“' for 'Ó', 'â€™' for '’'.
# Each candidate is confirmed by re-encoding it (see `_garbled`): genuine text such as
# "SÃO" or "“AÇÃO”" does not match, or does not give valid UTF-8 back.
_CP1252_HIGH = (
    "\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122"
)
_MOJIBAKE = re.compile(
    rf"[\u00c2\u00c3][\u00a0-\u00bf]"  # Ã³ (ó), Ã± (ñ), Â° (°)
    rf"|\u00c3[{_CP1252_HIGH}](?=\w)"  # ADMINISTRACIÃ“N (Ó) inside a word
    rf"|\u00e2\u20ac[\u00a0-\u00bf{_CP1252_HIGH}]"  # â€™ (’), â€“ (–)
)
_C1 = re.compile("[\u0080-\u009f]")
MOJIBAKE = _MOJIBAKE  # for readers of the decoded text in pieces (warehouse.bulk)
# the same, in UTF-8 bytes: a file of valid UTF-8 whose text was encoded twice
MOJIBAKE_UTF8 = re.compile(
    rb"\xc3[\x82\x83](?:\xc2[\xa0-\xbf]|\xc5[\x92\x93\xa0\xa1\xb8\xbd\xbe]|\xc6\x92"
    rb"|\xcb[\x86\x9c]|\xe2\x80[\x93-\xba]|\xe2\x82\xac|\xe2\x84\xa2)|\xc3\xa2\xe2\x82\xac"
)  # control characters: never text, but cp1252 letters


def decode(
    raw: bytes,
    encoding: str | None,
    name: str,
    *,
    final: bool = True,
    fix_in: str | None = None,
) -> str:
    """Decode a file's bytes with its declared encoding, or detect it (UTF-8 with or
    without BOM, else Windows-1252, else Latin-1; a UTF-16 BOM is honoured).

    A declared encoding must fit: ContractError (one line naming the likely encoding and
    where to set it, `fix_in`, e.g. the mapping file) when a single-byte encoding such as
    cp1252 is declared for UTF-8 bytes, when bytes are invalid in the declared encoding,
    or when Latin-1 is declared for Windows-1252 text. Text that is garbled whatever the
    encoding ('Ã³' for 'ó': UTF-8 encoded twice, or mixed with another encoding) is
    refused too. Pure ASCII reads the same under any of them and always passes.
    `final=False` decodes the start of a file: a character cut at the end is left out.
    """
    if encoding is None:
        text, one_byte = _detect(raw, name, final)
    else:
        text, one_byte = _decode_declared(raw, encoding, name, final, fix_in)
    garbled = _garbled(text)
    if garbled is not None:
        line, seen, meant = garbled
        if one_byte:
            declared = f"declared encoding {encoding}, but " if encoding else ""
            raise ContractError(
                f"{name}: {declared}line {line} reads '{seen}' where UTF-8 would read "
                f"'{meant}': the file mixes UTF-8 with another encoding; save it again in "
                "one encoding (UTF-8)"
            )
        raise ContractError(
            f"{name}: line {line} reads '{seen}', which is '{meant}' encoded twice (text "
            "already in UTF-8 was converted to UTF-8 again); export the file again from "
            "its source"
        )
    return text


def likely_encoding(raw: bytes, *, final: bool = True) -> str:
    """The encoding the bytes most likely are in: utf-16 (BOM), utf-8, cp1252 or latin-1."""
    if raw.startswith(UTF16_BOMS):
        return "utf-16"
    for candidate in ("utf-8", "cp1252"):
        if _decodes(raw, candidate, final):
            return candidate
    return "latin-1"


def _decode_with(raw: bytes, codec: str, final: bool) -> str:
    return codecs.getincrementaldecoder(codec)("strict").decode(raw, final)


def _decodes(raw: bytes, codec: str, final: bool) -> bool:
    try:
        _decode_with(raw, codec, final)
    except UnicodeDecodeError:
        return False
    return True


def _detect(raw: bytes, name: str, final: bool) -> tuple[str, bool]:
    if raw.startswith(UTF16_BOMS):  # Excel's "Unicode text" export
        return _decode_declared(raw, "utf-16", name, final, None)
    for candidate in ENCODINGS:
        try:
            return _decode_with(raw, candidate, final), candidate != "utf-8-sig"
        except UnicodeDecodeError:
            continue
    raise AssertionError("unreachable: latin-1 decodes any byte string")  # pragma: no cover


def single_byte(encoding: str) -> bool:
    """Whether an encoding maps each byte to one character (cp1252, Latin-1, ISO-8859-x,
    cp850...): such an encoding reads any bytes, so only plausibility can refuse it."""
    canonical = codecs.lookup(encoding).name
    module = encodings.normalize_encoding(canonical).replace("-", "_")
    try:
        return hasattr(importlib.import_module(f"encodings.{module}"), "decoding_table")
    except ImportError:
        return False


def _decode_declared(
    raw: bytes, encoding: str, name: str, final: bool, fix_in: str | None
) -> tuple[str, bool]:
    canonical = codecs.lookup(encoding).name
    where = f"in {fix_in}" if fix_in else "in the source's mapping (format: encoding)"

    def refuse(finding: str, likely: str) -> ContractError:
        return ContractError(
            f"{name}: declared encoding {encoding}, but {finding}; set encoding: {likely} {where}"
        )

    if raw.startswith(UTF16_BOMS) and not canonical.startswith(("utf-16", "utf-32")):
        raise refuse("the file is UTF-16 (it starts with a UTF-16 byte-order mark)", "utf-16")
    one_byte = single_byte(canonical)
    if one_byte and not raw.isascii() and _decodes(raw, "utf-8", final):
        raise refuse(f"the file is UTF-8 ({_utf8_example(raw, encoding)})", "utf-8")
    codec = "utf-8-sig" if canonical == "utf-8" else encoding  # a BOM is not part of a header
    try:
        text = _decode_with(raw, codec, final)
    except UnicodeDecodeError as exc:
        likely = likely_encoding(raw, final=final)
        line = raw.count(b"\n", 0, exc.start) + 1
        raise refuse(
            f"byte {raw[exc.start]:#04x} on line {line} is not valid in it; the file looks "
            f"like {ENCODING_LABELS[likely]}",
            likely,
        ) from None
    control = _C1.search(text) if one_byte else None
    if control is not None and _decodes(raw, "cp1252", final):
        # ISO-8859 encodings read cp1252's quotes, dashes and € as invisible control codes
        start, stop = _word_around(text, control.start())
        seen = text[start:stop]
        meant = seen.encode(encoding).decode("cp1252")
        raise refuse(
            f"the file is Windows-1252 ('{_shown(seen)}' would be read for '{meant}')",
            "cp1252",
        )
    return text, one_byte


def _utf8_example(raw: bytes, encoding: str) -> str:
    """ "'RegiÃ³n' would be read for 'Región'": the first non-ASCII word, both ways."""
    text = raw.decode("utf-8", errors="ignore")
    body = text.lstrip("\ufeff")
    position = next((i for i, c in enumerate(body) if not c.isascii()), None)
    if position is None:  # only the byte-order mark
        return "it starts with a UTF-8 byte-order mark"
    start, stop = _word_around(body, position)
    word = body[start:stop]
    seen = word.encode("utf-8").decode(encoding, errors="replace")
    return f"'{_shown(seen)}' would be read for '{word}'"


def _word_around(text: str, position: int, most: int = 30) -> tuple[int, int]:
    start = position
    while start > 0 and position - start < most and not text[start - 1].isspace():
        start -= 1
    stop = position + 1
    while stop < len(text) and stop - position < most and not text[stop].isspace():
        stop += 1
    # a CSV line's neighbours are cells, not words: stop at the usual delimiters
    left = max(text.rfind(d, start, position) for d in ',;\t|"')
    right = [i for i in (text.find(d, position + 1, stop) for d in ',;\t|"') if i >= 0]
    return (left + 1 if left >= start else start), min(right, default=stop)


def _shown(text: str) -> str:
    """Text for a message: invisible characters (control codes, soft hyphens) escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _garbled(text: str) -> tuple[int, str, str] | None:
    """(line, garbled word, what it meant) of the first UTF-8 text read as Windows-1252."""
    for checked, match in enumerate(_MOJIBAKE.finditer(text)):
        if checked >= 100:
            return None
        piece = match.group()
        try:
            piece.encode("cp1252").decode("utf-8")
        except UnicodeError:
            try:
                piece.encode("latin-1").decode("utf-8")
            except UnicodeError:
                continue
        start, stop = _word_around(text, match.start())
        seen = text[start:stop]
        try:
            meant = seen.encode("cp1252").decode("utf-8")
        except UnicodeError:
            meant = seen.replace(piece, piece.encode("cp1252", "ignore").decode("utf-8", "ignore"))
        return text.count("\n", 0, match.start()) + 1, _shown(seen), meant
    return None


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


def _read_csv(path: Path, fmt: SourceFormat, fix_in: str | None, limit: int | None) -> pd.DataFrame:
    if limit is None:
        raw, cut = path.read_bytes(), False
    else:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
        raw, cut = raw[:limit], len(raw) > limit
    text = decode(raw, fmt.encoding, path.name, final=not cut, fix_in=fix_in).lstrip("\ufeff")
    hint = re.match(r"sep=([,;\t|])\r?\n", text)
    if hint:  # Excel's "sep=;" first line: Excel hides it, so the header stays row 1
        text = text[hint.end() :]
    if cut and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # a sample ends with a whole line
    delimiter = fmt.delimiter or (hint[1] if hint else None) or sniff_delimiter(text)
    text, broken = _set_aside_broken_lines(text, delimiter, path.name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    records: Iterable[tuple[int, Sequence[object]]] = enumerate(reader, start=1)
    if cut:  # the last record of a sample may be cut
        records = _all_but_last(records)
    # every record left is one line: its number is its line's (schemas.structure)
    frame = _build(path.name, records, strict_width=True)
    if broken.lines and frame.empty:
        raise ContractError(nothing_readable(path.name, broken))
    frame.attrs[BROKEN_LINES] = broken
    return frame


def _set_aside_broken_lines(text: str, delimiter: str, name: str) -> tuple[str, BrokenLines]:
    """The text with its structurally broken lines blanked, and those lines
    (`schemas.structure`). The header is the first line with a value."""
    lines = physical_lines(text)
    start = next((i for i, line in enumerate(lines) if line.strip(f"{delimiter} \t")), None)
    if start is None:
        return text, BrokenLines((), delimiter)
    if lines[start].count('"') % 2:
        raise ContractError(
            f"{name}: the header (row {start + 1}) has an unbalanced quote; a header must be "
            "one line"
        )
    header = split_line(lines[start], delimiter)
    check_width(header, name)  # before any line is checked
    found = find_broken_lines(lines[start + 1 :], delimiter, header, first_row=start + 2)
    names = tuple(_header_text(c, i) for i, c in enumerate(header))
    if not found:
        return text, BrokenLines(names, delimiter)
    rows = {line.row for line in found}
    kept = blank_lines(lines, rows, first_row=1)
    return "\n".join(kept), BrokenLines(names, delimiter, tuple(found))


def _all_but_last(
    records: Iterable[tuple[int, Sequence[object]]],
) -> Iterator[tuple[int, Sequence[object]]]:
    previous = None
    for record in records:
        if previous is not None:
            yield previous
        previous = record
    if previous is not None and previous[0] == 1:
        yield previous  # a header alone is kept: there is nothing else to check


# --- XLSX -----------------------------------------------------------------------------


def _read_excel(path: Path, sheet: str | int | None, rows: int | None = None) -> pd.DataFrame:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = _pick_sheet(book.worksheets, sheet, path.name)
        worksheet.reset_dimensions()  # some writers store no or wrong sheet dimensions
        records: Iterable[tuple[int, Sequence[object]]] = enumerate(
            worksheet.iter_rows(min_row=1, values_only=True), start=1
        )
        if rows is not None:
            records = itertools.islice(records, rows + 1)
        return _build(path.name, records, strict_width=False)
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


def _parquet(path: Path, rows: int | None) -> pd.DataFrame:
    if rows is None:
        return pd.read_parquet(path)
    import pyarrow as pa
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    batch = next(handle.iter_batches(batch_size=rows), None)
    schema = handle.schema_arrow
    table = schema.empty_table() if batch is None else pa.Table.from_batches([batch], schema)
    return table.to_pandas()  # the schema's pandas metadata restores a stored index


def _stata(path: Path, value_labels: bool, rows: int | None) -> pd.DataFrame:
    if rows is None:
        return pd.read_stata(path, convert_categoricals=value_labels)
    with pd.read_stata(path, convert_categoricals=value_labels, iterator=True) as reader:
        return reader.read(rows)


def _from_typed(name: str, typed: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(typed.index, pd.RangeIndex) or typed.index.name is not None:
        typed = typed.reset_index()  # a stored index is data (e.g. firm_id)
    if typed.shape[1] == 0:
        raise ContractError(f"{name}: the file is empty (no columns)")
    check_width([str(c) for c in typed.columns], name)
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


def check_width(cells: Sequence[object], name: str) -> None:
    """Refuse a header of more than MAX_COLUMNS columns (empty trailing cells, from
    trailing delimiters or formatted empty cells, do not count)."""
    width = len(cells)
    while width and cell_text(cells[width - 1]) is None:
        width -= 1
    if width > MAX_COLUMNS:
        raise ContractError(
            f"{name}: the header has {width:,} columns, more than the {MAX_COLUMNS:,} a "
            "file may have (a transposed sheet or the wrong file?)"
        )


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
    check_width(header_cells, name)  # before the rows are read
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
