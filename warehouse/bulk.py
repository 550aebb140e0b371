r"""Bulk CSV loads executed inside DuckDB, with the semantics of `warehouse.load.load_file`.

`load_file` reads a file into pandas and validates it with pandera: right for the files
agencies usually send, but a 15-million-row outcomes panel does not fit that path's
memory. `bulk_load_csv` loads a CSV with the same result (same raw rows, same quarantine
records with their rules, reasons and row numbers, same pseudonyms, reference checks,
cross-entity rules, supersession, skip of an already loaded content hash, one transaction,
reconciling counts) while the rows never leave DuckDB, which spills to disk beyond
`memory_limit`. Steps:

1. Hash the file (SHA-256, as `load_file`) in a low-priority thread: on a machine
   without SHA instructions it costs more than a scan, and it fills idle cycles. When a
   file of the same name was loaded before (a scheduled run re-reading its sources), the
   hash is awaited first, so an unchanged file is skipped without scanning its rows.
2. Scan: one parallel `read_csv` (every column as text) into a temporary staging table,
   numbers cast where SQL reads them as Python does.
3. Distinct firm ids and date texts from the staging table: Python pseudonymizes the
   ids (`schemas.pseudonym`) and parses the dates. Then the hash is checked: a content
   already loaded is skipped.
4. The typed table: staging rows with pseudonyms and dates joined, each row's
   `_row_number`, blankness and whether it may break the contract.
5. Odd numbers (see Types) through pandera in Python; the rows that may fail checked in
   detail; duplicates, references and the cross-entity rules; quarantined rows flagged.
6. One transaction: insert the valid rows, supersede, quarantine records, meta.loads.

How the pandas path is reproduced
---------------------------------
* Reading. The delimiter is sniffed and the header read by the code of
  `schemas.readers` (`sniff_delimiter`, Excel's `sep=` line, the first non-empty record
  is the header, `column_<n>` for an empty header, duplicate headers rejected); DuckDB
  reads with explicit columns, no type sniffing. A file that is not UTF-8 is transcoded
  to a temporary UTF-8 copy with the reader's rules (UTF-8 / Windows-1252 / Latin-1,
  UTF-16 by its BOM). Cells are stripped as `str.strip()` does, an empty cell is
  missing, a row without any value is dropped (its number skipped).
* Row numbers. The staging table is written by `CREATE TABLE AS SELECT ... FROM
  read_csv(...)` with projections only and `preserve_insertion_order = true`: DuckDB
  reads the file in parallel and appends the rows in file order, so a row's `rowid` is
  its record's ordinal minus one (checked on 15M rows, and by a test that reads a file in
  many small parallel buffers). `row_number() over ()` would number them too, but forces
  the scan onto one thread. When the file has as many lines as header plus records (no
  blank line, no line break inside quotes), the spreadsheet row is the header's row plus
  the ordinal; otherwise one pass of Python's `csv` module numbers the records as
  `schemas.readers` does, and the numbers are joined on the ordinal (the two counts must
  agree or the load stops).
* Types. A number is cast in SQL when DuckDB's cast reads it as Python does: a DOUBLE
  cast giving a finite value of a text without "+-" (checked exhaustively on short
  texts), a BIGINT whose text is its canonical form. Every other distinct text ("n/d",
  "1_000", "+5", "nan", "١٢"...) is coerced in Python by the column's pandera dtype
  (`coerce_value`), every distinct date text by the validator's
  `pd.to_datetime(format="ISO8601")`, and the results are joined back.
* Checks. The SQL is compiled from the pandera schema (`ENTITIES[entity].schema`,
  extended with the load's declared extra columns by `schemas.extras.contract_schema`):
  dtype, nullable, ge/gt/le/lt/eq/ne/in_range, isin/notin, str_matches (Python's `\d`
  becomes `\p{Nd}`), str_length, str_startswith/endswith/contains, unique columns and
  `Config.unique`, and the contract's dataframe checks by name (`ROW_CHECKS`). A check
  the compiler does not know raises `BulkUnsupported`: the contract stays the single
  source of truth and nothing is skipped silently. Rules and reasons come from
  `schemas.validate.describe_rule`.
* pandera's passes. `validate_rows` re-validates after dropping failing rows: in the
  first pass a numeric column holding a text that does not parse (or a missing integer)
  stays text, so its checks wait and, in a key, it compares as text; the second pass is
  typed, over the rows left. That decides which rows are duplicates (a row dropped in
  the first pass cannot make another a duplicate in the second) and which records a row
  with several problems gets; both are reproduced. Also as there: a row whose date does
  not parse is only not_a_date and takes no part in the duplicate check; a missing value
  in an int64 column is both not_a_number and missing_value; "nan" in a float column is
  a missing value; a key whose parts are all missing is not reported as a duplicate.
  References (unknown_firm, unknown_program, in the entity's order) are checked on the
  rows that passed, then the rules of `warehouse/rules/<entity>__<rule>.sql` run over a
  view named `incoming` of the rows still valid, with `_row_number` and the pandas
  path's types.

Known differences (the set of quarantined rows is the same):
* an integer out of range is written "1899" where the pandas path may write "1899.0"
  (pandas upcasts a column of failure cases that are all numbers).
Dates are read by the pandas path's own function (`schemas.validate.parse_iso_dates`): a
time zone is dropped (the date and time as written), a date outside 1677-2262 is
not_a_date, in both engines.

Broken lines are set aside as `schemas.structure` says, as by the pandas path (a stray
quote, a wrong number of values, an oversized line): when the file holds a quote, its
line and record counts differ, or DuckDB cannot read it, one Python pass checks every
line, and a copy with the broken lines emptied (so every other record keeps its line
number) is read instead. A file DuckDB cannot read with no broken line raises
`BulkUnsupported`.
`BulkUnsupported` (use `load_file`): a check the compiler does not know.

Memory: DuckDB's `memory_limit` (3 GB by default here) bounds its buffers; the
temporary tables spill to `temp_directory`. Python holds the distinct firm ids and
their pseudonyms (about 150 bytes per firm) and the odd texts, never the rows.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from pandera.engines import pandas_engine

from schemas.contract import ENTITIES
from schemas.extras import contract_schema
from schemas.pseudonym import PREFIX, canonical_id, pseudonym
from schemas.readers import (
    MOJIBAKE,
    MOJIBAKE_UTF8,
    SNIFF_CHARS,
    SourceFormat,
    cell_text,
    check_regular_file,
    check_unique_headers,
    check_width,
    decode,
    sniff_delimiter,
)
from schemas.structure import (
    MAX_LINE_CHARS,
    MAX_VALUE_CHARS,
    MIN_ID_CHARS,
    BrokenLine,
    BrokenLines,
    check_line,
    header_widths,
    nothing_readable,
    quarantine_records,
    split_line,
)
from schemas.validate import (
    ROW_RULE_COLUMNS,
    ContractError,
    check_columns,
    describe_rule,
    parse_iso_dates,
)
from warehouse.db import quote_ident, transaction
from warehouse.extras import add_declared
from warehouse.keys import check_key, record_key
from warehouse.load import (
    REFERENCE_RULES,
    LoadReport,
    already_loaded,
    entity_rules,
    identifiers_hidden,
    known_keys,
    record_load,
    source_extras,
    supersede,
)

log = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT = "3GB"
PSEUDONYMIZED = "firm_id"  # the column warehouse.load pseudonymizes
NOT_A_DATE = "not a date (expected yyyy-mm-dd)"  # schemas.validate._parse_dates' text
# characters Python's str.strip() removes, as an RE2 class
_WS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_WS += "\u2028\u2029\u202f\u205f\u3000"  # = every c with c.isspace(); a test checks
WS_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WS) + "]"
# no whitespace character lies between these code points: a cell whose first and last
# characters do (nearly all) cannot need stripping, and skips the regular expression
WS_GAP = (0x20, 0x85)
assert all(ord(c) <= WS_GAP[0] or ord(c) >= WS_GAP[1] for c in _WS)
CHUNK = 4 << 20
VALID = "not _blank and not _excluded"  # the rows of the typed table still to be loaded
MAX_LINE_BYTES = 16 << 20  # one CSV record may be this long
CSV_BUFFER_SIZE: int | None = None  # DuckDB's read buffer; None: its default
BITSTRING_RANGE = 256  # integers per group a duplicate check by bitstring may span


class BulkUnsupported(ValueError):
    """The file or contract needs something the bulk path does not do; use `load_file`."""


# --- the contract, compiled to SQL ------------------------------------------------------


class Params:
    """Named query parameters: `add` returns the placeholder for a value."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def used(self, sql: str) -> dict[str, Any]:
        """The values `sql` refers to (DuckDB rejects unused named parameters)."""
        names = set(re.findall(r"\$(p\d+)\b", sql))
        return {k: v for k, v in self.values.items() if k in names}


@dataclass(frozen=True)
class ValueCheck:
    """One pandera column check: `fails` is SQL, TRUE when the value `{v}` breaks it."""

    column: str
    rule: str
    reason: str
    fails: str
    args: tuple[Any, ...]  # bound in order into the {a0}, {a1}... slots of `fails`

    def sql(self, value: str, params: Params) -> str:
        slots = {f"a{i}": params.add(a) for i, a in enumerate(self.args)}
        return self.fails.format(v=value, **slots)


@dataclass(frozen=True)
class ColumnPlan:
    """How one contract column is parsed and checked."""

    name: str
    kind: str  # str | int (numpy int64: missing fails the coercion) | Int | float | date
    sql_type: str
    nullable: bool
    required: bool
    dtype: Any  # pandera engine dtype, whose coerce_value decides odd texts
    checks: tuple[ValueCheck, ...]
    parse_rule: tuple[str, str]  # (rule, reason) when the text does not parse

    @property
    def pseudonymized(self) -> bool:
        return self.name == PSEUDONYMIZED

    @property
    def numeric(self) -> bool:
        return self.kind in {"int", "Int", "float"}


@dataclass(frozen=True)
class RowCheck:
    """A dataframe-wide check of the contract, as SQL over the typed columns."""

    rule: str
    reason: str
    columns: tuple[str, ...]
    fails: str  # TRUE when the row breaks it; columns are referenced quoted


@dataclass(frozen=True)
class UniqueCheck:
    columns: tuple[str, ...]
    nulls_equal: bool  # pandas' duplicated() on several columns; a unique column skips NA
    rule: str
    reason: str


@dataclass(frozen=True)
class Failure:
    """One way a row fails the contract: `when` on the typed row; `first`, when it differs,
    is how pandera's first pass sees it (see `_BulkLoad._quarantine`)."""

    when: str
    column: str
    rule: str
    value: str
    reason: str
    first_pass: str | None = None

    @property
    def first(self) -> str:
        return self.first_pass or self.when


@dataclass(frozen=True)
class ContractPlan:
    entity: str
    columns: tuple[ColumnPlan, ...]
    row_checks: tuple[RowCheck, ...]
    unique: tuple[UniqueCheck, ...]
    extras: tuple[tuple[str, str], ...] = ()  # declared extra columns (name, kind)

    def column(self, name: str) -> ColumnPlan:
        return next(c for c in self.columns if c.name == name)


def _end_after_start() -> str:
    end, start = quote_ident("end_date"), quote_ident("start_date")
    # pandas: end.isna() | (end >= start); a missing start fails when end is given
    return f"({end} is not null and ({start} is null or {end} < {start}))"


# dataframe checks of the contract (functions in Python) and their SQL translation
ROW_CHECKS: dict[str, Callable[[], str]] = {"end_after_start": _end_after_start}

_VALUE_CHECKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "greater_than_or_equal_to": ("{v} < {a0}", ("min_value",)),
    "greater_than": ("{v} <= {a0}", ("min_value",)),
    "less_than_or_equal_to": ("{v} > {a0}", ("max_value",)),
    "less_than": ("{v} >= {a0}", ("max_value",)),
    "equal_to": ("{v} <> {a0}", ("value",)),
    "not_equal_to": ("{v} = {a0}", ("value",)),
    "isin": ("not list_contains({a0}, {v})", ("allowed_values",)),
    "notin": ("list_contains({a0}, {v})", ("forbidden_values",)),
    "str_matches": ("not regexp_matches({v}, {a0})", ("pattern",)),
    "str_startswith": ("not starts_with({v}, {a0})", ("string",)),
    "str_endswith": ("not suffix({v}, {a0})", ("string",)),
    "str_contains": ("not contains({v}, {a0})", ("pattern",)),
}


def _python_regex_as_re2(pattern: str) -> str:
    """`re.match` semantics in RE2: anchored at the start, `\\d` any Unicode digit."""
    if re.search(r"\\[wWsSbB]|\(\?[=!<]|\\[1-9]", pattern):
        raise BulkUnsupported(
            f"pattern {pattern!r} uses a class or lookaround RE2 reads differently"
        )
    translated = re.sub(r"(?<!\\)((?:\\\\)*)\\d", r"\1\\p{Nd}", pattern)
    translated = re.sub(r"(?<!\\)((?:\\\\)*)\\D", r"\1\\P{Nd}", translated)
    return f"^(?:{translated})"


def _value_check(column: str, check: Any, entity: str) -> ValueCheck:
    rule, reason = describe_rule(str(check.error), entity)
    reason = f"{column}: {reason}"
    stats = dict(check.statistics or {})
    if check.name == "str_length":
        low, high, exact = stats.get("min_value"), stats.get("max_value"), stats.get("exact_value")
        parts: list[str] = []
        args: list[Any] = []
        if exact is not None:
            parts.append(f"length({{v}}) <> {{a{len(args)}}}")
            args.append(exact)
        if low is not None:
            parts.append(f"length({{v}}) < {{a{len(args)}}}")
            args.append(low)
        if high is not None:
            parts.append(f"length({{v}}) > {{a{len(args)}}}")
            args.append(high)
        return ValueCheck(
            column, rule, reason, "(" + " or ".join(parts or ["false"]) + ")", tuple(args)
        )
    if check.name == "in_range":
        low_op = "<" if stats.get("include_min", True) else "<="
        high_op = ">" if stats.get("include_max", True) else ">="
        fails = f"({{v}} {low_op} {{a0}} or {{v}} {high_op} {{a1}})"
        return ValueCheck(column, rule, reason, fails, (stats["min_value"], stats["max_value"]))
    if check.name not in _VALUE_CHECKS:
        raise BulkUnsupported(f"{entity}.{column}: check {check.error!r} is not compiled to SQL")
    fails, names = _VALUE_CHECKS[check.name]
    args = [stats[n] for n in names]
    if check.name == "str_matches":
        args = [_python_regex_as_re2(str(args[0]))]
    if check.name in {"isin", "notin"}:
        args = [list(args[0])]
    return ValueCheck(column, rule, reason, fails, tuple(args))


def compile_contract(entity: str, extras: Mapping[str, str] | None = None) -> ContractPlan:
    """Translate the entity's pandera schema (with its declared extra columns, if any)
    into the plan the bulk SQL is built from."""
    schema = contract_schema(entity, extras)
    columns = []
    for name, column in schema.columns.items():
        dtype = pandas_engine.Engine.dtype(column.dtype)
        numpy_type = dtype.type
        kind_letter = getattr(numpy_type, "kind", "")
        if kind_letter == "O" or str(column.dtype).startswith("str"):
            kind, sql_type = "str", "VARCHAR"
        elif kind_letter in "iu":
            kind = "int" if isinstance(numpy_type, np.dtype) else "Int"
            sql_type = "BIGINT"
        elif kind_letter == "f":
            kind, sql_type = "float", "DOUBLE"
        elif kind_letter == "M":
            kind, sql_type = "date", "TIMESTAMP_NS"
        else:
            raise BulkUnsupported(f"{entity}.{name}: dtype {column.dtype} is not compiled to SQL")
        checks = tuple(_value_check(name, c, entity) for c in column.checks)
        parse_rule = describe_rule(f"coerce_dtype('{column.dtype}')", entity)
        columns.append(
            ColumnPlan(
                name,
                kind,
                sql_type,
                bool(column.nullable),
                bool(column.required),
                dtype,
                checks,
                (parse_rule[0], f"{name}: {parse_rule[1]}"),
            )
        )
    row_checks = []
    for check in schema.checks:
        if check.name not in ROW_CHECKS:
            raise BulkUnsupported(
                f"{entity}: dataframe check {check.name!r} is not compiled to SQL"
            )
        rule, reason = describe_rule(check.name, entity)
        row_checks.append(RowCheck(rule, reason, ROW_RULE_COLUMNS[rule], ROW_CHECKS[check.name]()))
    unique = []
    for name, column in schema.columns.items():
        if column.unique:
            rule, reason = describe_rule("field_uniqueness", entity)
            unique.append(UniqueCheck((name,), False, rule, reason))
    if schema.unique:
        rule, reason = describe_rule("multiple_fields_uniqueness", entity)
        unique.append(UniqueCheck(tuple(schema.unique), True, rule, reason))
    return ContractPlan(
        entity, tuple(columns), tuple(row_checks), tuple(unique), tuple((extras or {}).items())
    )


# --- the file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileScan:
    """One pass over the bytes: content hash and line count (for the row numbers)."""

    sha256: str
    lines: int  # physical lines, a last line without a line break included
    trailing_blank: int  # empty lines at the very end (they number no record)
    quotes: int = 0  # quote characters: any may be a stray one (schemas.structure)
    longest_line: int = 0  # bytes of the longest line, its line break excluded
    garbled: bool = False  # UTF-8 that may have been encoded twice (`decode` decides)


def scan_file(path: Path) -> FileScan:
    """Hash the file (same digest as `warehouse.load.file_sha256`) and count its lines."""
    digest = hashlib.sha256()
    newlines, size, tail, quotes = 0, 0, b"", 0
    longest, carry = 0, 0  # the longest line so far; the open line's bytes
    garbled = False
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            quotes += chunk.count(b'"')
            garbled = garbled or MOJIBAKE_UTF8.search(tail[-8:] + chunk) is not None
            breaks = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if breaks.size:
                inner = int(np.diff(breaks).max()) - 1 if breaks.size > 1 else 0
                longest = max(longest, carry + int(breaks[0]), inner)
                carry = len(chunk) - int(breaks[-1]) - 1
            else:
                carry += len(chunk)
            size += len(chunk)
            tail = (tail + chunk)[-4096:]
    ends_in_newline = tail.endswith(b"\n")
    stripped = tail.rstrip(b"\r\n")
    terminators = tail[len(stripped) :].count(b"\n")
    blank = max(terminators - 1, 0) if stripped or len(tail) < 4096 else 0
    lines = newlines + (0 if ends_in_newline or size == 0 else 1)
    return FileScan(digest.hexdigest(), lines, blank, quotes, max(longest, carry), garbled)


@dataclass(frozen=True)
class CsvLayout:
    """What DuckDB needs to read the file as `schemas.readers` does."""

    path: Path  # UTF-8 (the original, or a transcoded copy)
    delimiter: str
    skip: int  # physical lines before the header (Excel's sep= line, blank lines)
    header_row: int  # the header's spreadsheet row (the sep= line is not counted)
    names: tuple[str, ...]  # header texts, as schemas.readers names the columns
    header_lines: int  # physical lines of the header record
    has_hint: bool


def _decode_head(raw: bytes, name: str) -> str:
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(raw, final=False)
    except UnicodeDecodeError:
        raise _NotUtf8(name) from None


class _NotUtf8(Exception):
    pass


def read_layout(path: Path, delimiter: str | None, name: str) -> CsvLayout:
    """Header, delimiter and leading lines of a UTF-8 CSV, as `schemas.readers` reads them."""
    with open(path, "rb") as handle:
        raw = handle.read(max(SNIFF_CHARS * 4, 1 << 20))
        more = bool(handle.read(1))
    text = _decode_head(raw, name).lstrip("\ufeff")
    if more and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # whole lines only
    hint = re.match(r"sep=([,;\t|])\r?\n", text)
    body = text[hint.end() :] if hint else text
    delimiter = delimiter or (hint[1] if hint else None) or sniff_delimiter(body)
    reader = csv.reader(body.splitlines(keepends=True), delimiter=delimiter, quotechar='"')
    lines_before = 0
    for number, cells in enumerate(reader, start=1):
        if any(cell_text(c) is not None for c in cells):
            header_row, header_lines = number, reader.line_num - lines_before
            break
        lines_before = reader.line_num
    else:
        raise ContractError(f"{name}: the file is empty")
    check_width(cells, name)  # as schemas.readers: before any row is read
    names = [cell_text(c) or f"column_{i + 1}" for i, c in enumerate(cells)]
    check_unique_headers(names, name)
    return CsvLayout(
        path,
        delimiter,
        lines_before + (1 if hint else 0),
        header_row,
        tuple(names),
        header_lines,
        hint is not None,
    )


def transcode(path: Path, encoding: str | None, name: str, out_dir: Path) -> Path:
    """A UTF-8 copy of a file in another encoding, decoded as `schemas.readers.decode` does."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    if encoding is not None:
        candidates = [encoding]
    elif head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "cp1252", "latin-1"]  # schemas.readers.ENCODINGS
    out = out_dir / "source-utf8.csv"
    for candidate in candidates:
        codec = "utf-8-sig" if codecs.lookup(candidate).name == "utf-8" else candidate
        decoder = codecs.getincrementaldecoder(codec)()
        position = 0
        suspect, last = False, ""
        try:
            with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    text = decoder.decode(chunk)
                    suspect = suspect or MOJIBAKE.search(last + text) is not None
                    last = text[-4:]
                    dst.write(text)
                    position += len(chunk)
                dst.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            if len(candidates) == 1:
                raise ContractError(
                    f"{name}: cannot decode the file as {candidate}: at byte {position + exc.start}"
                ) from None
            continue
        if suspect:  # garbled text ('Ã³' for 'ó'): refused with the reader's own words
            decode(path.read_bytes(), encoding, name)
        return out
    raise AssertionError("unreachable: latin-1 decodes any byte")  # pragma: no cover


def broken_lines(layout: CsvLayout) -> tuple[BrokenLines, frozenset[int]]:
    """The lines of the file that `schemas.structure` sets aside, numbered as
    `schemas.readers` numbers them (Excel's sep= line not counted), and the lines without
    a value (white space, delimiters, empty quotes): no record, but DuckDB's reader, which
    counts their cells, may refuse them."""
    found, blank = [], set()
    with open(layout.path, encoding="utf-8-sig", newline="") as handle:
        if layout.has_hint:
            handle.readline()
        lines = (line.rstrip("\r\n") for line in handle)
        header: list[str] = []
        for number, line in enumerate(lines, start=1):
            if number == layout.header_row:
                if layout.header_lines != 1 or line.count('"') % 2:
                    raise ContractError(
                        f"{layout.path.name}: the header (row {number}) has an unbalanced "
                        "quote; a header must be one line"
                    )
                header = split_line(line, layout.delimiter)
                break
        width, named = header_widths(header)
        for number, line in enumerate(lines, start=layout.header_row + 1):
            broken = check_line(line, layout.delimiter, width, named)
            if broken is not None:
                rule, reason, cells = broken
                found.append(BrokenLine(number, tuple(cells), rule, reason))
            elif line and not any(c.strip() for c in split_line(line, layout.delimiter)):
                blank.add(number)
    return BrokenLines(layout.names, layout.delimiter, tuple(found)), frozenset(blank)


def without_lines(
    layout: CsvLayout, broken: BrokenLines, out_dir: Path, blank: frozenset[int] = frozenset()
) -> Path:
    """A UTF-8 copy of the file with the broken lines (and the `blank` ones) emptied: every
    other record keeps its line, so its number. Line breaks become \n: DuckDB refuses a
    file that mixes them, and a lone \r inside a broken line is a line break to Python's
    csv module."""
    rows = {line.row for line in broken.lines} | blank
    out = out_dir / "source-without-broken-lines.csv"
    with (
        open(layout.path, encoding="utf-8-sig", newline="") as src,
        open(out, "w", encoding="utf-8", newline="") as dst,
    ):
        if layout.has_hint:
            dst.write(src.readline().rstrip("\r\n") + "\n")
        for number, line in enumerate(src, start=1):
            dst.write("\n" if number in rows else line.rstrip("\r\n") + "\n")
    return out


def record_numbers(layout: CsvLayout) -> array[int]:
    """Spreadsheet row of every record DuckDB returns, by one pass of Python's csv module
    (only used when blank lines or quoted line breaks make line and record counts differ)."""
    numbers: array[int] = array("q")
    with open(layout.path, encoding="utf-8-sig", newline="") as handle:
        if layout.has_hint:
            handle.readline()
        reader = csv.reader(handle, delimiter=layout.delimiter, quotechar='"')
        for number, cells in enumerate(reader, start=1):
            if number > layout.header_row and cells:  # DuckDB skips empty lines too
                numbers.append(number)
    return numbers


# --- the load ---------------------------------------------------------------------------


def bulk_load_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    entity: str,
    *,
    key: bytes,
    run_id: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    temp_directory: Path | str | None = None,
    threads: int | None = None,
    extra_columns: Mapping[str, str] | None = None,
) -> LoadReport:
    """Load one agency CSV for `entity` inside DuckDB, as `load_file` would; see the module
    docstring. `delimiter` and `encoding` are detected when None (as `schemas.readers`);
    `memory_limit`, `temp_directory` and `threads` apply to DuckDB during the load and are
    restored afterwards (None leaves the connection's setting). `extra_columns` are the
    source's declared extra columns (`schemas.extras`), loaded as `load_file` loads them."""
    path = Path(path)
    if entity not in ENTITIES:
        raise ContractError(f"{path.name}: unknown entity '{entity}'")
    check_key(con, key, where=path.name, entity=entity)  # another key: refused
    extras = source_extras(con, path, entity, extra_columns, None)
    plan = compile_contract(entity, extras)
    fmt = SourceFormat(delimiter=delimiter, encoding=encoding)
    check_regular_file(path)  # a FIFO or /dev/zero would hang the hash below
    # the content hash (as slow as a scan: ~150 MB/s without SHA instructions) runs in a
    # thread while DuckDB pre-scans the file and Python computes pseudonyms
    hashing = _Background(scan_file, path)
    clock = _Clock(path.name)
    # a file of this name was loaded before (a scheduled run re-reading its sources): wait
    # for the hash first, so an unchanged file is skipped without a scan of its rows
    if con.execute(
        "select 1 from meta.loads where entity = ? and source_file = ? limit 1", [entity, path.name]
    ).fetchall():
        seen = already_loaded(con, entity, path.name, hashing.result().sha256, extras)
        clock.lap("hash")
        if seen is not None:
            return seen
    settings = {"memory_limit": memory_limit, "threads": threads, "enable_progress_bar": False}
    try:
        with (
            tempfile.TemporaryDirectory(
                prefix="mes-bulk-", dir=str(temp_directory) if temp_directory else None
            ) as work,
            _duckdb_settings(con, settings, temp_directory),
            _Workspace(con) as ws,
        ):
            report = _BulkLoad(con, ws, plan, path, key, clock).run(
                fmt, Path(work), run_id, hashing
            )
    finally:
        hashing.wait()
    clock.lap("cleanup")
    return report


class _Background:
    """A function run in a thread; `result()` waits for it and re-raises its error."""

    def __init__(self, function: Callable[[Path], FileScan], path: Path) -> None:
        self._value: FileScan | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(function, path), daemon=True)
        self._thread.start()

    def _run(self, function: Callable[[Path], FileScan], path: Path) -> None:
        # a low priority: DuckDB's threads first, the hash takes the idle cycles (Linux
        # applies a thread id's niceness to that thread only)
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            self._value = function(path)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> FileScan:
        self.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


class _Clock:
    """Step timings, logged at DEBUG (the benchmark prints them)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        log.debug("bulk %s: %s %.2fs", self.name, step, now - self.last)
        self.last = now


class _Workspace(contextlib.AbstractContextManager["_Workspace"]):
    """This load's temporary tables, views and registered frames, dropped on exit."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.prefix = f"_bulk_{uuid.uuid4().hex[:8]}_"
        self.tables: list[str] = []
        self.views: list[str] = []
        self.registered: list[str] = []

    def table(self, name: str) -> str:
        full = quote_ident(f"{self.prefix}{name}_{len(self.tables)}")
        self.tables.append(full)
        return full

    def view(self, name: str) -> str:
        full = quote_ident(name)
        self.views.append(full)
        return full

    def register(self, name: str, data: pa.Table) -> str:
        full = f"{self.prefix}arrow_{name}_{len(self.registered)}"
        self.con.register(full, data)
        self.registered.append(full)
        return quote_ident(full)

    def __exit__(self, *exc: object) -> None:
        for view in self.views:
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"drop view if exists {view}")
        for table in reversed(self.tables):
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"drop table if exists {table}")
        for name in self.registered:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister(name)


@contextlib.contextmanager
def _duckdb_settings(
    con: duckdb.DuckDBPyConnection, wanted: dict[str, Any], temp_directory: Path | str | None
) -> Iterator[None]:
    """Apply DuckDB settings for the load and restore the previous values afterwards (a
    setting at its default is RESET: DuckDB prints sizes rounded, e.g. '18.8 GiB')."""
    wanted = {**wanted, "preserve_insertion_order": True}  # the row numbers need file order
    if temp_directory is not None:
        wanted["temp_directory"] = str(temp_directory)
    saved: dict[str, tuple[Any, bool]] = {}
    try:
        for name, value in wanted.items():
            if value is None:
                continue
            current = _current_setting(con, name)
            try:
                con.execute(f"reset {name}")
                default = _current_setting(con, name) == current
                con.execute(f"set {name} = {_setting_literal(value)}")
            except duckdb.Error:
                # DuckDB refuses to move a temp directory it already uses: keep that one
                if name != "temp_directory":
                    raise
                continue
            saved[name] = (current, default)
        yield
    finally:
        for name, (value, default) in saved.items():
            with contextlib.suppress(duckdb.Error):
                con.execute(
                    f"reset {name}" if default else f"set {name} = {_setting_literal(value)}"
                )


def _current_setting(con: duckdb.DuckDBPyConnection, name: str) -> Any:
    return con.execute("select current_setting(?)", [name]).fetchall()[0][0]


@contextlib.contextmanager
def _optimizers_off(con: duckdb.DuckDBPyConnection, *names: str) -> Iterator[None]:
    """Disable some DuckDB optimizers for the statements in the block."""
    current = con.execute("select current_setting('disabled_optimizers')").fetchall()[0][0]
    wanted = ",".join(sorted({*filter(None, str(current or "").split(",")), *names}))
    con.execute(f"set disabled_optimizers = {_setting_literal(wanted)}")
    try:
        yield
    finally:
        con.execute(f"set disabled_optimizers = {_setting_literal(current or '')}")


def _setting_literal(value: Any) -> str:
    """SET takes no parameters: the value as a literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _c(name: str) -> str:
    return quote_ident(name)


class _DuckUnicode(Exception):
    """DuckDB found bytes that are not UTF-8."""


class _NotParallel(Exception):
    """DuckDB's parallel reader cannot read this file (line breaks inside quotes)."""


class _BulkLoad:
    """One bulk load: pre-scan, lookups, the typed table, quarantine, commit.

    The typed table holds one row per CSV record: `_row_number`, the contract columns
    typed, `<column>__known` (the firm exists), for dates `__state`/`__raw` (lookup state
    and cell text), `_odd` (the row's number cells, when one of them is not read by SQL),
    `_blank` (no value: dropped), `_fails` (may break the contract: checked in detail) and
    `_excluded` (quarantined)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        ws: _Workspace,
        plan: ContractPlan,
        path: Path,
        key: bytes,
        clock: _Clock,
    ) -> None:
        self.con, self.ws, self.plan, self.path = con, ws, plan, path
        self.key, self.clock = key, clock
        self.name = path.name
        self.entity = plan.entity
        self.extras = dict(plan.extras)
        self.parallel = True
        self.broken = BrokenLines((), ",")  # lines set aside by the structural check

    # ---- orchestration

    def run(
        self, fmt: SourceFormat, work: Path, run_id: str | None, hashing: _Background
    ) -> LoadReport:
        source = self.path
        if fmt.encoding is not None and codecs.lookup(fmt.encoding).name != "utf-8":
            source = transcode(self.path, fmt.encoding, self.name, work)
        try:
            layout = self._layout(source, fmt)
            stage, records, unreadable = self._stage_or_error(layout)
        except (_NotUtf8, _DuckUnicode):
            if source != self.path:  # pragma: no cover - the copy is written as UTF-8
                raise ContractError(f"{self.name}: cannot read the transcoded copy") from None
            source = transcode(self.path, None, self.name, work)
            self.clock.lap("transcode")
            layout = self._layout(source, fmt)
            stage, records, unreadable = self._stage_or_error(layout)
        self.clock.lap("scan to staging table")
        present = [c for c in self.plan.columns if c.name in layout.names]
        lookups = self._lookups(stage, present) if unreadable is None else {}
        scan = hashing.result()
        self.clock.lap("hash (rest)")
        seen = already_loaded(self.con, self.entity, self.name, scan.sha256, self.extras)
        if seen is not None:
            return seen
        if scan.garbled and source == self.path:  # UTF-8 text encoded twice, perhaps
            decode(self.path.read_bytes(), fmt.encoding, self.name)
        data_lines = scan.lines - scan.trailing_blank - layout.skip - layout.header_lines
        suspect = scan.quotes or scan.longest_line > MAX_LINE_CHARS or records != data_lines
        if unreadable is not None or suspect:
            # a quote may be stray, a record may span lines, a line may be oversized:
            # every line on its own
            self.broken, blank = broken_lines(layout)
            self.clock.lap("structural check by line")
            if self.broken.lines or (unreadable is not None and blank):
                source = without_lines(layout, self.broken, work, blank)
                layout = self._layout(source, fmt)
                if stage:
                    self.con.execute(f"drop table {stage}")
                stage, records = self._stage_any(layout)
                if not records and self.broken.lines:
                    raise ContractError(nothing_readable(self.name, self.broken))
                lookups = self._lookups(stage, present)
                self.clock.lap("scan without the broken lines")
            elif unreadable is not None:  # no broken line: the pandas path may read it
                raise BulkUnsupported(str(unreadable))
        rows = self._row_numbers(layout, records, scan)
        typed = self._typed(stage, present, lookups, rows)
        self.con.execute(f"drop table {stage}")
        self.clock.lap("typed table")
        odd = self._odd_values(typed, present)
        self.clock.lap("odd values")
        quarantine = self._quarantine(typed, odd, present)
        return self._commit(typed, present, quarantine, scan.sha256, run_id)

    def _layout(self, source: Path, fmt: SourceFormat) -> CsvLayout:
        layout = read_layout(source, fmt.delimiter, self.name)
        check_columns(pd.DataFrame(columns=list(layout.names)), self.entity, self.name, self.extras)
        return layout

    def _read_csv(self, layout: CsvLayout, params: Params) -> str:
        """read_csv with every column as text."""
        columns = params.add({f"c{i}": "VARCHAR" for i in range(len(layout.names))})
        sizes = f"max_line_size = {MAX_LINE_BYTES}"
        if not self.parallel:  # quoted line breaks: DuckDB's parallel reader cannot pad rows
            sizes += ", parallel = false"
        if CSV_BUFFER_SIZE is not None:  # smaller buffers: more, parallel pieces (tests)
            size = min(MAX_LINE_BYTES, CSV_BUFFER_SIZE)
            sizes = f"buffer_size = {CSV_BUFFER_SIZE}, max_line_size = {size}"
        return (
            f"read_csv({params.add(str(layout.path))}, header = true, auto_detect = false, "
            f"delim = {params.add(layout.delimiter)}, quote = '\"', escape = '\"', "
            f"skip = {params.add(layout.skip)}, null_padding = false, columns = {columns}, {sizes})"
        )

    def _read_error(self, exc: duckdb.Error) -> Exception:
        message = str(exc)
        if "unicode" in message.lower():
            return _DuckUnicode()
        if "parallel scanner does not support null_padding" in message:
            return _NotParallel()
        if isinstance(exc, duckdb.InvalidInputException | duckdb.ConversionException):
            return ContractError(f"{self.name}: cannot read the file: {_one_line(message)}")
        return exc

    # ---- 1. one scan of the CSV into a staging table

    def _stage_or_error(self, layout: CsvLayout) -> tuple[str, int, ContractError | None]:
        """`_stage_any`, or the error DuckDB's reader gave: perhaps a broken line, which
        the structural check (after the hash) sets aside before reading again."""
        try:
            stage, records = self._stage_any(layout)
        except ContractError as exc:
            return "", 0, exc
        return stage, records, None

    def _stage_any(self, layout: CsvLayout) -> tuple[str, int]:
        try:
            return self._stage(layout)
        except _NotParallel:
            self.parallel = False
            return self._stage(layout)

    def _stage(self, layout: CsvLayout) -> tuple[str, int]:
        """Every record of the CSV, in file order: its `rowid` is its ordinal minus one.

        The scan runs in parallel and DuckDB, with `preserve_insertion_order`, appends the
        rows in file order (projections only: no join or aggregate on the way). Numbers
        are cast where SQL reads them as Python does; a row with any other number cell
        keeps its number cells as text in `_odd`. Firm ids and dates stay text (`__text`)
        for the Python lookups; text cells are stripped as `str.strip()` does."""
        params = Params()
        cells = {n: f"c{i}" for i, n in enumerate(layout.names)}
        inner = [*cells.values()]
        selected: list[str] = []
        fast_or_missing, odd_cells = [], []
        for column in self.plan.columns:
            if column.name not in cells:
                continue
            cell, out = cells[column.name], _c(column.name)
            if column.pseudonymized or column.kind == "date":
                selected.append(f"{cell} as {_c(column.name + '__text')}")
            elif column.kind == "str":
                edge = params.add(f"^{WS_CLASS}|{WS_CLASS}$")
                strip = params.add(f"^{WS_CLASS}+|{WS_CLASS}+$")
                # ord('') is -1: an empty text takes the full test, as before
                maybe = " or ".join(
                    f"{e} <= {WS_GAP[0]} or {e} >= {WS_GAP[1]}"
                    for e in (f"ord({cell})", f"ord(right({cell}, 1))")
                )
                selected.append(
                    f"case when ({maybe}) and regexp_matches({cell}, {edge}) "
                    f"then nullif(regexp_replace({cell}, {strip}, '', 'g'), '') else {cell} end as {out}"
                )
            else:
                cast = _c(column.name + "__cast")
                if column.kind == "float":
                    # DuckDB and Python agree on every finite cast of text without "+-"
                    inner.append(f"try_cast({cell} as double) as {cast}")
                    fast = f"(not contains({cell}, '+-') and isfinite({cast}))"
                else:  # an integer in its canonical form; "+5", "05", "1_000" go to Python
                    inner.append(f"try_cast({cell} as bigint) as {cast}")
                    fast = f"({cast}::varchar = {cell})"
                selected.append(f"case when {fast} then {cast} end as {out}")
                fast_or_missing.append(f"({cell} is null or {fast})")
                odd_cells.append(cell)
        if odd_cells:
            odd = f"[{', '.join(odd_cells)}]::varchar[]"
            selected.append(
                f"case when {' and '.join(fast_or_missing)} then null else {odd} end as _odd"
            )
        else:
            selected.append("null::varchar[] as _odd")
        contract = {c.name for c in self.plan.columns}
        extras = [cells[n] for n in layout.names if n not in contract]
        if extras:
            ws_only = params.add(f"{WS_CLASS}*")
            checks = ", ".join(
                f"case when {e} is null or regexp_full_match({e}, {ws_only}) then null else true end"
                for e in extras
            )
            selected.append(f"coalesce({checks}, false) as _extra")
        else:
            selected.append("false as _extra")
        read = self._read_csv(layout, params)
        stage = self.ws.table("stage")
        # the reader's try_casts are pushed into the reader by DuckDB's optimizer in some
        # plans, which then fails on text instead of giving NULL: that rewrite is off
        with _optimizers_off(self.con, "type_pushdown"):
            sql = (
                f"create temp table {stage} as select {', '.join(selected)} "
                f"from (select {', '.join(inner)} from {read})"
            )
            try:
                self.con.execute(sql, params.used(sql)).fetchall()
            except duckdb.Error as exc:
                raise self._read_error(exc) from None
        records = self.con.execute(f"select count(*) from {stage}").fetchall()[0][0]
        return stage, int(records)

    # ---- 2. lookups: pseudonyms and dates, from the distinct texts

    def _lookups(self, stage: str, present: list[ColumnPlan]) -> dict[str, str]:
        lookups: dict[str, str] = {}
        for column in present:
            if not (column.pseudonymized or column.kind == "date"):
                continue
            text = _c(column.name + "__text")
            found = self.con.sql(
                f"select {text} as v from {stage} where {text} is not null group by all"
            ).arrow()
            if isinstance(found, pa.RecordBatchReader):
                found = found.read_all()
            values = [str(v) for v in found.column("v").to_pylist()]
            if column.pseudonymized:
                self.clock.lap("distinct ids")
                lookups[column.name] = self._firm_lookup(values, column)
            elif values:
                lookups[column.name] = self._store(column.name, _date_lookup(values, column))
        return lookups

    def _firm_lookup(self, raw: list[str], column: ColumnPlan) -> str:
        pseudo = pseudonyms(raw, self.key)
        self.clock.lap("pseudonyms")
        table = pa.table(
            {"raw": pa.array(raw, pa.string()), "pseudo": pa.array(pseudo, pa.string())}
        )
        registered = self.ws.register("ids", table)
        lookup = self.ws.table(f"lk_{column.name}")
        target = dict(ENTITIES[self.entity].references).get(column.name)
        known = "null::boolean"
        if target is not None:
            key_column = _c(ENTITIES[target].key[0])
            known = (
                f"ids.pseudo in (select {key_column} from raw.{_c(target)} "
                "where _superseded_by is null)"
            )
        self.con.execute(
            f"create temp table {lookup} as select ids.raw, ids.pseudo, {known} as known "
            f"from {registered} as ids"
        )
        return lookup

    def _store(self, name: str, table: pa.Table) -> str:
        registered = self.ws.register(f"lk_{name}", table)
        lookup = self.ws.table(f"lk_{name}")
        self.con.execute(f"create temp table {lookup} as select * from {registered}")
        return lookup

    # ---- 3. row numbers

    def _row_numbers(self, layout: CsvLayout, records: int, scan: FileScan) -> RowNumbers:
        """The header's row plus the ordinal (the staging rowid + 1) when every record is
        one line, else the numbers Python's csv module gives, joined on the ordinal."""
        data_lines = scan.lines - scan.trailing_blank - layout.skip - layout.header_lines
        if records == data_lines and layout.header_lines == 1:
            return RowNumbers(f"s.rowid + {1 + int(layout.header_row)}", None)
        numbers = record_numbers(layout)
        self.clock.lap("row numbers by the csv module")
        if len(numbers) != records:
            raise ContractError(
                f"{self.name}: cannot align row numbers ({len(numbers)} records by Python's csv "
                f"module, {records} by DuckDB); load it with load_file"
            )
        table = pa.table(
            {
                "_rowid": pa.array(np.arange(len(numbers), dtype=np.int64)),
                "_row": pa.array(np.frombuffer(numbers, dtype=np.int64)),
            }
        )
        mapping = self._store("rows", table)
        return RowNumbers("m._row", f"join {mapping} as m on m._rowid = s.rowid")

    # ---- 4. the typed table: staging rows with pseudonyms, dates and flags

    def _typed(
        self, stage: str, present: list[ColumnPlan], lookups: dict[str, str], rows: RowNumbers
    ) -> str:
        params = Params()
        selected = [f"{rows.expr} as _row_number"]
        joins = [] if rows.join is None else [rows.join]
        for column in present:
            out, text = _c(column.name), _c(column.name + "__text")
            alias = _c("lk_" + column.name)
            if column.name in lookups:
                joins.append(
                    f"left join {lookups[column.name]} as {alias} on s.{text} = {alias}.raw"
                )
            if column.pseudonymized:
                selected += [
                    f"{alias}.pseudo as {out}",
                    f"{alias}.known as {_c(column.name + '__known')}",
                ]
            elif column.kind == "date":
                if column.name in lookups:
                    selected += [f"{alias}.{f} as {_c(column.name + s)}" for f, s in DATE_FIELDS]
                else:  # no date in the file at all
                    selected += [f"null::{t} as {_c(column.name + s)}" for t, s in DATE_NULLS]
            else:
                selected.append(f"s.{out}")
        selected += ["s._odd", "s._extra"]
        blank = " and ".join([*(_empty(c) for c in present), "_odd is null", "not _extra"])
        fails = " or ".join(self._may_fail(present, params))
        typed = self.ws.table("typed")
        # rows carry their _row_number from here on: order no longer matters, and DuckDB
        # works in parallel with less memory without it (restored after the load). The
        # optimizer could build the joins' hash tables on the staging table instead of on
        # the lookups: that choice is off.
        self.con.execute("set preserve_insertion_order = false")
        with _optimizers_off(self.con, "build_side_probe_side", "join_order"):
            sql = (
                f"create temp table {typed} as select *, {blank} as _blank, {fails} as _fails, "
                f"false as _excluded from (select {', '.join(selected)} from {stage} as s "
                f"{' '.join(joins)})"
            )
            self.con.execute(sql, params.used(sql))
        return typed

    def _may_fail(self, present: list[ColumnPlan], params: Params) -> list[str]:
        """Predicates whose OR flags every row that breaks the compiled contract (the
        rows with odd numbers included: they are checked once their values are known).
        Unguarded: a missing value makes a check NULL, which an OR ignores."""
        found = ["_odd is not null", *(_bad(c) for c in present if c.kind == "date")]
        for column in present:
            out = _c(column.name)
            if not column.nullable or column.kind == "int":
                found.append(f"{out} is null")
            found += [f"({check.sql(out, params)})" for check in column.checks]
        names = {c.name for c in present}
        found += [r.fails for r in self.plan.row_checks if set(r.columns) <= names]
        return list(dict.fromkeys(found))

    # ---- 5. number cells SQL does not read: through pandera's coercion, in Python

    def _odd_values(self, typed: str, present: list[ColumnPlan]) -> str:
        """A table of the rows with odd number cells: per numeric column the coerced value,
        the lookup state (ok, bad, nan, empty) and the stripped text; the typed table gets
        the values that parse and the rows' blankness."""
        numeric = [c for c in present if c.numeric]
        # the few rows concerned, in one pass over the typed table
        rows = self.ws.table("odd_rows")
        columns = ", ".join(["_row_number", "_odd", "_extra", *(_c(c.name) for c in present)])
        extra = "".join(
            f", {_c(c.name + s)}" for c in present if c.kind == "date" for s in ("__state",)
        )
        self.con.execute(
            f"create temp table {rows} as select {columns}{extra} from {typed} where _odd is not null"
        )
        odd = self.ws.table("odd")
        selected, joins = ["t._row_number"], []
        empties = []
        for position, column in enumerate(numeric, start=1):
            out = _c(column.name)
            cell = f"t._odd[{position}]"
            values = [
                r[0]
                for r in self.con.execute(
                    f"select distinct {cell} from {rows} as t "
                    f"where t.{out} is null and {cell} is not null"
                ).fetchall()
            ]
            value, state, raw = (_c(column.name + s) for s in ("__value", "__state", "__raw"))
            if values:
                lookup = self._store(column.name, _number_lookup(values, column))
                alias = _c("lk_" + column.name)
                joins.append(
                    f"left join {lookup} as {alias} on {cell} = {alias}.raw and t.{out} is null"
                )
                selected += [
                    f"{alias}.value as {value}",
                    f"{alias}.state as {state}",
                    f"{alias}.text as {raw}",
                ]
                empties.append(f"(t.{out} is null and ({cell} is null or {alias}.state = 'empty'))")
            else:
                selected += [
                    f"null::{column.sql_type} as {value}",
                    f"null::varchar as {state}",
                    f"null::varchar as {raw}",
                ]
                empties.append(f"t.{out} is null")
        others = [_empty(c, "t.") for c in present if not c.numeric]
        blank = " and ".join([*empties, *others, "not t._extra"])
        self.con.execute(
            f"create temp table {odd} as select {', '.join(selected)}, {blank} as _blank "
            f"from {rows} as t {' '.join(joins)}"
        )
        if numeric and self.con.execute(f"select count(*) from {odd}").fetchall()[0][0]:
            updates = ", ".join(
                f"{_c(c.name)} = coalesce({typed}.{_c(c.name)}, o.{_c(c.name + '__value')})"
                for c in numeric
            )
            self.con.execute(
                f"update {typed} set {updates}, _blank = o._blank from {odd} as o "
                f"where {typed}._row_number = o._row_number"
            )
        return odd

    # ---- 6. quarantine: contract, duplicates, references, cross-entity rules

    def _quarantine(self, typed: str, odd: str, present: list[ColumnPlan]) -> str:
        """Quarantine records of the contract checks, duplicates, references and rules; the
        quarantined rows are marked `_excluded` in the typed table.

        pandera validates in passes (`schemas.validate.validate_rows`): in the first, a
        numeric column with a value that does not parse (or a missing integer) is left as
        text, so its checks wait and its key compares as text; the rows failing the first
        pass are dropped and the rest validated again, typed. A row's records are those of
        the pass that drops it, which is reproduced here: `Failure.first` is the first
        pass's view, and duplicates are found for both passes."""
        params = Params()
        dates = [c for c in present if c.kind == "date"]
        date_bad = " or ".join(_bad(c) for c in dates) or "false"
        pass1 = f"not _blank and not ({date_bad})"  # the rows pandera sees
        states = [_c(c.name + s) for c in present if c.numeric for s in ("__state", "__raw")]
        candidates = self.ws.table("failing_rows")
        self.con.execute(
            f"create temp table {candidates} as select t.*{''.join(', o.' + s for s in states)} "
            f"from {typed} as t left join {odd} as o using (_row_number) where t._fails and not t._blank"
        )
        hidden = self._hidden_columns(candidates, present, pass1)
        failures = self._failures(present, hidden, params)
        any_first = " or ".join(f"({f.first})" for f in failures) or "false"
        failing = self.ws.table("failing")
        self.con.execute(
            f"create temp table {failing} as select *, ({any_first}) as _pass1 from {candidates}",
            params.used(any_first),
        )
        self.clock.lap("failing rows")
        records = self.ws.table("quarantine")
        self.con.execute(
            f"create temp table {records} (row_number bigint, column_name varchar, rule varchar, "
            "value varchar, reason varchar)"
        )
        first_dups = self.ws.table("first_dups")
        self.con.execute(f"create temp table {first_dups} (_row_number bigint)")
        names = {c.name for c in present}
        uniques = [u for u in self.plan.unique if set(u.columns) <= names]
        found = [self._duplicate_candidates(typed, odd, failing, u, pass1, hidden) for u in uniques]
        for unique, table in zip(uniques, found, strict=True):
            self._first_pass_duplicates(unique, table, records, first_dups)
        for unique, table in zip(uniques, found, strict=True):
            self._second_pass_duplicates(unique, table, records, first_dups)
        self.clock.lap("duplicates")
        # a row dropped in the first pass has the first pass's records, the others the second's
        selects = [
            f"select _row_number, {_lit(c.name)}, 'not_a_date', {_c(c.name + '__raw')}, "
            f"{_lit(c.name + ': ' + NOT_A_DATE)} from {failing} where {_bad(c)}"
            for c in dates
        ]
        selects += [
            f"select _row_number, {_lit(f.column)}, {_lit(f.rule)}, ({f.value})::varchar, "
            f"{_lit(f.reason)} from {failing} where {pass1} and case when _pass1 or "
            f"_row_number in (select _row_number from {first_dups}) then ({f.first}) "
            f"else ({f.when}) end"
            for f in failures
        ]
        if selects:
            sql = f"insert into {records} " + " union all ".join(selects)
            self.con.execute(sql, params.used(sql))
        self._exclude(typed, records)
        self.clock.lap("contract checks")
        self._references(typed, present, records)
        self.clock.lap("references")
        self._rules(typed, present, records)
        self.clock.lap("rules")
        return records

    def _failures(
        self, present: list[ColumnPlan], hidden: set[str], params: Params
    ) -> list[Failure]:
        """Every way a row can fail the compiled contract, typed and as pandera's first pass
        sees it (over the failing rows, which carry the lookup states of odd numbers)."""
        failures: list[Failure] = []
        names = {c.name for c in present}
        for column in present:
            out = _c(column.name)
            if column.numeric:
                rule, reason = column.parse_rule
                failures.append(
                    Failure(_bad(column), column.name, rule, _c(column.name + "__raw"), reason)
                )
                if column.kind == "int":  # pandera cannot coerce a missing value to int64
                    missing = f"{out} is null and not {_bad(column)}"
                    failures.append(Failure(missing, column.name, rule, "null", reason))
            if not column.nullable:
                rule, reason = describe_rule("not_nullable", self.entity)
                when = f"{out} is null" + (
                    f" and not {_bad(column)}" if column.kind != "str" else ""
                )
                first = when
                if column.name in hidden and column.kind == "float":  # "nan" is still text
                    first += f" and {_c(column.name + '__state')} is distinct from 'nan'"
                failures.append(
                    Failure(when, column.name, rule, "null", f"{column.name}: {reason}", first)
                )
            for check in column.checks:
                when = f"{out} is not null and {check.sql(out, params)}"
                value = _value_text(out, column.kind)
                # pandera skips the checks of a column that failed to coerce in that pass
                first = "false" if column.name in hidden else when
                failures.append(Failure(when, column.name, check.rule, value, check.reason, first))
        for row_check in self.plan.row_checks:
            if set(row_check.columns) <= names:
                value = _folded_value(row_check.columns, self.plan, set())
                columns = ", ".join(row_check.columns)
                failures.append(
                    Failure(row_check.fails, columns, row_check.rule, value, row_check.reason)
                )
        return failures

    def _hidden_columns(self, failing: str, present: list[ColumnPlan], rows: str) -> set[str]:
        """Numeric columns pandera fails to coerce in its first pass (a value that does not
        parse, or a missing integer): their checks wait, their keys compare as text. Such
        rows all fail, so the failing rows are enough to tell."""
        numeric = [c for c in present if c.numeric]
        if not numeric:
            return set()
        flags = ", ".join(
            f"coalesce(bool_or({_bad(c)}"
            + (f" or {_c(c.name)} is null" if c.kind == "int" else "")
            + "), false)"
            for c in numeric
        )
        found = self.con.execute(f"select {flags} from {failing} where {rows}").fetchall()[0]
        return {c.name for c, flag in zip(numeric, found, strict=True) if flag}

    def _duplicate_candidates(
        self, typed: str, odd: str, failing: str, unique: UniqueCheck, pass1: str, hidden: set[str]
    ) -> str:
        """The rows that can be duplicates in either pass: a duplicated typed key (found by
        one group-by on a 64-bit hash of the key, collisions only add candidates), or a key
        part missing or unparsed. The passes then run on these few rows."""
        columns = [self.plan.column(n) for n in unique.columns]
        keys = ", ".join(_c(c.name) for c in columns)
        parsed = " and ".join(f"{_c(c.name)} is not null" for c in columns)
        suspects = self._duplicated_groups(typed, columns, f"{pass1} and {parsed}")
        self.clock.lap("duplicated keys")
        rows = self.ws.table("dup_rows")
        self.con.execute(
            f"create temp table {rows} as select _row_number, {keys}"
            + "".join(f", {_c(c.name + '__raw')}" for c in columns if c.kind == "date")
            + f" from {typed} where {pass1} and (not ({parsed}) or {suspects})"
        )
        texts = "".join(f", o.{_c(c.name + '__raw')}" for c in columns if c.numeric)
        # first pass: a column that failed to coerce compares as the cell's text
        first_keys = ", ".join(
            (
                f"coalesce({_c(c.name + '__raw')}, {_c(c.name)}::varchar)"
                if c.name in hidden
                else _c(c.name)
            )
            + f" as k1_{i}"
            for i, c in enumerate(columns)
        )
        found = self.ws.table("dup_candidates")
        self.con.execute(
            f"create temp table {found} as select _row_number, {keys}, {first_keys}, "
            f"{_folded_value(unique.columns, self.plan, hidden)} as _value1, "
            f"{_folded_value(unique.columns, self.plan, set())} as _value2, "
            f"coalesce(f._pass1, false) as _failed1, {parsed} as _parsed "
            f"from (select r.*{texts} from {rows} as r left join {odd} as o using (_row_number)) "
            f"left join (select _row_number, _pass1 from {failing}) as f using (_row_number)"
        )
        return found

    def _duplicated_groups(self, typed: str, columns: list[ColumnPlan], rows: str) -> str:
        """SQL condition true for every row whose typed key may be duplicated (a superset).

        A key of other columns and one integer of a small range (firm and year) is checked
        per group of the other columns, comparing the row count with the number of distinct
        integers (a bitstring): a group-by over firms is several times cheaper than one over
        every firm-year. Any other key: a group-by on a 64-bit hash of the key."""
        ints = [c for c in columns if c.kind in {"int", "Int"}]
        if len(ints) == 1 and len(columns) > 1:
            number = _c(ints[0].name)
            low, high = self.con.execute(
                f"select min({number}), max({number}) from {typed} where {rows}"
            ).fetchall()[0]
            if low is not None and high - low < BITSTRING_RANGE:
                groups = ", ".join(_c(c.name) for c in columns if c is not ints[0])
                found = self.ws.table("dup_groups")
                self.con.execute(
                    f"create temp table {found} as select {groups} from {typed} where {rows} "
                    f"group by all having count(*) > bit_count(bitstring_agg({number}, $low, $high))",
                    {"low": int(low), "high": int(high)},
                )
                return f"({groups}) in (select ({groups}) from {found})"
        keys = ", ".join(_c(c.name) for c in columns)
        found = self.ws.table("dup_hashes")
        self.con.execute(
            f"create temp table {found} as select hash({keys}) as h from {typed} "
            f"where {rows} group by h having count(*) > 1"
        )
        return f"hash({keys}) in (select h from {found})"

    def _first_pass_duplicates(
        self, unique: UniqueCheck, candidates: str, records: str, first_dups: str
    ) -> None:
        k1 = [f"k1_{i}" for i in range(len(unique.columns))]
        # pandera drops missing failure cases: a key with every part missing is not reported
        # (and one unique column skips missing values anyway)
        dup = f"not ({' and '.join(f'{k} is null' for k in k1)}) and count(*) over (partition by {', '.join(k1)}) > 1"
        found = self.ws.table("dups1")
        self.con.execute(
            f"create temp table {found} as select _row_number, _value1 from "
            f"(select *, {dup} as _dup from {candidates}) where _dup"
        )
        self.con.execute(f"insert into {first_dups} select _row_number from {found}")
        self.con.execute(
            f"insert into {records} select _row_number, {_lit(', '.join(unique.columns))}, "
            f"{_lit(unique.rule)}, _value1, {_lit(unique.reason)} from {found}"
        )

    def _second_pass_duplicates(
        self, unique: UniqueCheck, candidates: str, records: str, first_dups: str
    ) -> None:
        keys = ", ".join(_c(c) for c in unique.columns)
        all_missing = " and ".join(f"{_c(c)} is null" for c in unique.columns)
        self.con.execute(
            f"insert into {records} select _row_number, {_lit(', '.join(unique.columns))}, "
            f"{_lit(unique.rule)}, _value2, {_lit(unique.reason)} from (select *, "
            f"count(*) over (partition by {keys}) as _n from {candidates} where _parsed and "
            f"not _failed1 and _row_number not in (select _row_number from {first_dups})) "
            f"where _n > 1 and not ({all_missing})"
        )

    def _exclude(self, typed: str, records: str) -> None:
        """Mark quarantined rows in the typed table (few updates, cheaper than anti joins)."""
        self.con.execute(
            f"update {typed} set _excluded = true where not _excluded and _row_number in "
            f"(select row_number from {records})"
        )

    def _references(self, typed: str, present: list[ColumnPlan], records: str) -> None:
        """unknown_firm / unknown_program, in the entity's order, on the rows still valid."""
        names = {c.name for c in present}
        for column, target in ENTITIES[self.entity].references:
            if column not in names:
                continue
            rule, reason = REFERENCE_RULES[target], f"{column}: not found in {target}"
            head = (
                f"insert into {records} select _row_number, {_lit(column)}, {_lit(rule)}, "
                f"{_c(column)}, {_lit(reason)} from {typed} where {VALID} and "
            )
            if self.plan.column(column).pseudonymized:
                self.con.execute(head + f"not {_c(column + '__known')}")
            else:
                key = _c(ENTITIES[target].key[0])
                self.con.execute(
                    head + f"{_c(column)} not in (select {key} from raw.{_c(target)} "
                    "where _superseded_by is null)"
                )
            self._exclude(typed, records)

    def _rules(self, typed: str, present: list[ColumnPlan], records: str) -> None:
        """The cross-entity rule files, over a view named `incoming` of the valid rows."""
        rules = entity_rules(self.entity)
        valid = self.con.execute(f"select count(*) from {typed} where {VALID}").fetchall()[0][0]
        if not rules or not valid:
            return
        # an optional column absent from the file is empty, as the rules see it
        names = {c.name for c in present}
        absent = [
            f"null::{c.sql_type} as {_c(c.name)}" for c in self.plan.columns if c.name not in names
        ]
        columns = ", ".join(["_row_number", *(_c(c.name) for c in present), *absent])
        incoming = self.ws.view("incoming")
        self.con.execute(
            f"create or replace temp view {incoming} as select {columns} from {typed} where {VALID}"
        )
        for rule, reason, sql in rules:
            body = sql.strip().rstrip(";")
            self.con.execute(
                f"insert into {records} select row_number, column_name, ?, value::varchar, ? "
                f"from ({body}\n)",
                [rule, reason],
            )
        self.con.execute(f"drop view {incoming}")
        self.ws.views.remove(incoming)
        self._exclude(typed, records)

    # ---- 7. one transaction

    def _hide_identifiers(self, typed: str, present: list[ColumnPlan], records: str) -> None:
        """Quarantined values that are a firm's identifier pseudonymized, as
        `warehouse.load.identifiers_hidden` does for the pandas path."""
        values = [
            str(r[0])
            for r in self.con.execute(
                f"select distinct value from {records} where length(trim(value)) >= ?",
                [MIN_ID_CHARS],
            ).fetchall()
        ]
        if not values:
            return
        known = known_keys(self.con, "firms")
        if any(c.pseudonymized for c in present):
            known |= {
                r[0]
                for r in self.con.execute(
                    f"select distinct firm_id from {typed} where firm_id is not null"
                ).fetchall()
            }
        hidden = identifiers_hidden(values, known, self.key)
        if hidden:
            table = pa.table({"raw": list(hidden), "pseudo": list(hidden.values())})
            mapping = self.ws.register("hidden", table)
            self.con.execute(
                f"update {records} set value = m.pseudo from {mapping} as m where value = m.raw"
            ).fetchall()

    def _records(self, typed: str, present: list[ColumnPlan], records: str) -> str:
        """Each quarantined row's record as submitted, as `schemas.validate.with_records`
        writes it for the pandas path: a table (row_number, record JSON).

        Cells are the typed table's texts: stripped text, the pseudonym of a firm id, a date's
        text, a number's text when the row has an odd number cell (`_odd` holds them all),
        otherwise the parsed number written back (an integral float without ".0": `1.50` is
        written `1.5`, the one way a record may differ from the pandas path's). Cells that
        are a firm's identifier are pseudonymized as `_hide_identifiers` does for values.
        A line set aside by the structural check is not in the typed table: no record."""
        params = Params()
        numeric = [c for c in present if c.numeric]
        strip = params.add(f"^{WS_CLASS}+|{WS_CLASS}+$")
        texts = []
        for column in present:  # the contract's columns and the declared extras
            out = _c(column.name)
            if column.kind == "date":
                text = _c(column.name + "__raw")
            elif column.numeric:
                cell = f"_odd[{numeric.index(column) + 1}]"
                odd = f"nullif(regexp_replace({cell}, {strip}, '', 'g'), '')"
                number = f"{out}::varchar"
                if column.kind == "float":
                    number = (
                        f"case when {out} = trunc({out}) and abs({out}) < 1e15 "
                        f"then {out}::bigint::varchar else {number} end"
                    )
                text = f"case when _odd is null then {number} else {odd} end"
            else:
                text = out
            texts.append((column, f"{text} as {out}"))
        found = self.ws.table("records")
        sql = (
            f"create temp table {found} as select _row_number as row_number"
            + "".join(f", {t}" for _, t in texts)
            + f" from {typed} where not _blank and _row_number in (select row_number from {records})"
        )
        self.con.execute(sql, params.used(sql))
        plain = [_c(c.name) for c, _ in texts if not c.pseudonymized]
        if plain:
            values = [
                str(r[0])
                for r in self.con.execute(
                    f"select distinct v from (select unnest([{', '.join(plain)}]) as v from "
                    f"{found}) where length(trim(v)) >= ?",
                    [MIN_ID_CHARS],
                ).fetchall()
            ]
            known = known_keys(self.con, "firms") if values else set[str]()
            if values and any(c.pseudonymized for c in present):
                known |= {
                    r[0]
                    for r in self.con.execute(
                        f"select distinct firm_id from {typed} where firm_id is not null"
                    ).fetchall()
                }
            hidden = identifiers_hidden(values, known, self.key) if values else {}
            if hidden:
                table = pa.table({"raw": list(hidden), "pseudo": list(hidden.values())})
                mapping = self.ws.register("hidden_cells", table)
                for name in plain:
                    self.con.execute(
                        f"update {found} set {name} = m.pseudo from {mapping} as m "
                        f"where {name} = m.raw"
                    ).fetchall()
        pairs = ", ".join(f"{_lit(c.name)}, {_shortened(_c(c.name))}" for c, _ in texts)
        recorded = self.ws.table("recorded")
        self.con.execute(
            f"create temp table {recorded} as select row_number, json_object({pairs}) as record "
            f"from {found}"
        )
        return recorded

    def _commit(
        self, typed: str, present: list[ColumnPlan], records: str, sha256: str, run_id: str | None
    ) -> LoadReport:
        counts = self.con.execute(
            f"select count(*) filter (where not _blank), count(*) filter (where {VALID}) from {typed}"
        ).fetchall()[0]
        if self.broken.lines:  # set aside before the scan: each its own row, quarantined
            lines = quarantine_records(
                self.broken, lambda ids: pd.Series(pseudonyms(list(ids.astype(str)), self.key))
            )
            lines["row_number"] = lines["row_number"].astype("int64")
            broken = self.ws.register("broken", pa.Table.from_pandas(lines, preserve_index=False))
            self.con.execute(
                f"insert into {records} select row_number, column_name, rule, value, reason "
                f"from {broken}"
            ).fetchall()
        self._hide_identifiers(typed, present, records)
        recorded = self._records(typed, present, records)  # each row as submitted
        rows_in, rows_loaded = int(counts[0]) + len(self.broken.lines), int(counts[1])
        rows_quarantined = int(
            self.con.execute(f"select count(distinct row_number) from {records}").fetchall()[0][0]
        )
        load_id = uuid.uuid4().hex
        table = f"raw.{_c(self.entity)}"
        columns = ", ".join(_c(c.name) for c in present)
        with transaction(self.con):
            add_declared(self.con, self.entity, self.extras, load_id)  # before the rows
            self.con.execute(
                f"insert into {table} ({columns}, _load_id, _row_number) "
                f"select {columns}, ?, _row_number from {typed} where {VALID}",
                [load_id],
            ).fetchall()
            self.clock.lap("insert")
            superseded = supersede(self.con, table, ENTITIES[self.entity].key, load_id)
            self.con.execute(
                "insert into meta.quarantine (load_id, entity, source_file, row_number, "
                "column_name, rule, value, reason, record) select ?, ?, ?, row_number, "
                f"column_name, rule, {_shortened('value')}, reason, r.record from {records} "
                f"left join {recorded} as r using (row_number)",
                [load_id, self.entity, self.name],
            ).fetchall()
            report = LoadReport(
                entity=self.entity,
                source_file=self.name,
                content_sha256=sha256,
                rows_in=rows_in,
                rows_loaded=rows_loaded,
                rows_quarantined=rows_quarantined,
                load_id=load_id,
                rows_superseded=superseded,
            )
            record_load(self.con, report, run_id, self.extras)
            record_key(self.con, load_id, self.entity, self.key)
        self.clock.lap("commit")
        return report


@dataclass(frozen=True)
class RowNumbers:
    """SQL for `_row_number` over the scan aliased `s`, and the join it needs, if any."""

    expr: str
    join: str | None


DATE_FIELDS = (("value", ""), ("state", "__state"), ("text", "__raw"))
DATE_NULLS = (("timestamp_ns", ""), ("varchar", "__state"), ("varchar", "__raw"))


def _empty(column: ColumnPlan, prefix: str = "") -> str:
    """SQL: the typed table's cell is empty (for the blank-row rule)."""
    if column.kind == "date":
        state = f"{prefix}{_c(column.name + '__state')}"
        return f"({state} is null or {state} = 'empty')"
    return f"{prefix}{_c(column.name)} is null"


# --- Python-side lookups ------------------------------------------------------------------


def pseudonyms(raw: Sequence[str], key: bytes) -> list[str | None]:
    """`schemas.pseudonym.pseudonym` of each stripped id (None when empty), computed with
    the HMAC pads hashed once; checked against `pseudonym` on a sample."""
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
    out: list[str | None] = []
    for value in raw:
        text = value.strip()
        if not text:
            out.append(None)
            continue
        h = inner.copy()
        h.update(canonical_id(text).encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        out.append(PREFIX + o.hexdigest()[:20])
    for value, got in list(zip(raw, out, strict=True))[:64]:  # same function, provably
        if got is not None and got != pseudonym(value.strip(), key):
            raise AssertionError("bulk pseudonyms differ from schemas.pseudonym")
    return out


def _number_lookup(values: list[str], column: ColumnPlan) -> pa.Table:
    """State of each odd number text, coerced as pandera does (`coerce_value`)."""
    states: list[str] = []
    numbers: list[float | int | None] = []
    texts: list[str | None] = []
    for raw in values:
        text = raw.strip()
        texts.append(text or None)
        if not text:
            states.append("empty")
            numbers.append(None)
            continue
        try:
            number = column.dtype.coerce_value(text)
        except Exception:  # any failure is pandera's coercion failure: not_a_number
            states.append("bad")
            numbers.append(None)
            continue
        if column.kind == "float":
            number = float(number)
            missing = bool(np.isnan(number))
            states.append("nan" if missing else "ok")
            numbers.append(None if missing else number)
        else:
            states.append("ok")
            numbers.append(int(number))
    value_type = pa.float64() if column.kind == "float" else pa.int64()
    return pa.table(
        {
            "raw": pa.array(values, pa.string()),
            "value": pa.array(numbers, value_type),
            "state": pa.array(states, pa.string()),
            "text": pa.array(texts, pa.string()),
        }
    )


def _date_lookup(values: list[str], column: ColumnPlan) -> pa.Table:
    """Each distinct date text parsed as `schemas.validate._parse_dates` does."""
    texts = [v.strip() for v in values]
    cells = pd.Series([t or None for t in texts], dtype=object)
    # the same function as the pandas path: offsets dropped, out of 1677-2262 not_a_date
    parsed = parse_iso_dates(cells)
    states = np.where(cells.isna(), "empty", np.where(parsed.isna(), "bad", "ok"))
    return pa.table(
        {
            "raw": pa.array(values, pa.string()),
            "value": pa.array(parsed.to_numpy(), pa.timestamp("ns")),
            "state": pa.array(states.tolist(), pa.string()),
            "text": pa.array([t or None for t in texts], pa.string()),
        }
    )


# --- SQL text helpers ---------------------------------------------------------------------


def _shortened(column: str) -> str:
    """SQL of `schemas.structure.shorten`: a value cut to MAX_VALUE_CHARS, with an ellipsis."""
    cut = MAX_VALUE_CHARS - 1
    return (
        f"case when length({column}) > {MAX_VALUE_CHARS} "
        f"then left({column}, {cut}) || '…' else {column} end"
    )


def _lit(text: str) -> str:
    """A string constant of the contract (column names, rule texts) as an SQL literal."""
    return "'" + text.replace("'", "''") + "'"


def _value_text(expr: str, kind: str) -> str:
    """A typed value as pandas writes it in a failure case (str() of the value)."""
    if kind == "date":
        return _timestamp_text(expr)
    return f"{expr}::varchar"


def _timestamp_text(expr: str) -> str:
    """str(pd.Timestamp): seconds, then 6 or 9 decimals when there is a fraction."""
    frac = f"(epoch_ns({expr}) % 1000000000 + 1000000000) % 1000000000"
    return (
        f"strftime({expr}::timestamp, '%Y-%m-%d %H:%M:%S') || case when {frac} = 0 then '' "
        f"when {frac} % 1000 = 0 then '.' || lpad(({frac} // 1000)::varchar, 6, '0') "
        f"else '.' || lpad(({frac})::varchar, 9, '0') end"
    )


def _folded_value(columns: Sequence[str], plan: ContractPlan, as_text: set[str]) -> str:
    """`k1=v1, k2=v2` as schemas.validate folds a multi-column failure ("None" if missing);
    columns in `as_text` (and values that did not parse) show the cell's text."""
    parts = []
    for name in columns:
        column = plan.column(name)
        text = _value_text(_c(name), column.kind)
        if column.kind != "str":
            raw = _c(name + "__raw")
            text = f"coalesce({raw}, {text})" if name in as_text else f"coalesce({text}, {raw})"
        parts.append(f"{_lit(name + '=')} || coalesce({text}, 'None')")
    return " || ', ' || ".join(parts)


def _bad(column: ColumnPlan) -> str:
    """SQL: the column's text did not parse (a str column always does)."""
    if column.kind == "str":
        return "false"
    return f"coalesce({_c(column.name + '__state')} = 'bad', false)"


def _one_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else "error"
