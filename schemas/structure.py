"""Structural checks of a delimited text file, line by line, before its rows are read.

A CSV reader follows quotes across line breaks: one stray quote (`"Maule,3312,2008` on one
line, `Valparaíso",1071,1993` on the next) folds the lines up to the next quote into one
record, so a firm vanishes and its neighbour's text, raw tax number included, lands in a
text column; an unclosed quote folds up to the end of the file. Agencies' registers do
not hold line breaks inside cells, so this module judges each *physical line* on its own
and sets aside, with a reason, every line that:

- has an odd number of quote characters (`unbalanced_quote`): a stray or unclosed quote,
  or a record that spans lines; each of its lines is set aside on its own, never merged
  into a neighbour;
- has a quote inside a value rather than around it (`malformed_quote`: text after a
  closing quote, spaces between a quote and its delimiter), which readers resolve
  differently;
- parsed alone, has more values than the header has columns (`too_many_fields`; empty
  trailing cells, as spreadsheets write them, are allowed) or fewer (`too_few_fields`):
  a missing or extra delimiter would shift every value after it into the wrong column;
- is longer than `MAX_LINE_CHARS` (`oversized_line`).

Every other line is one record; the readers (`schemas.readers`, `warehouse.bulk`) then
read a copy of the text with the set-aside lines blanked, so a record's number stays its
physical line (the header is row 1, as a spreadsheet shows a file whose records are each
one line). The set-aside lines are quarantined by the load with their line number, and
count among the rows in: the counts reconcile with the physical records of the file.

The value quarantined with a broken line is the line parsed alone, with the cells under an
identifier column (the firm's tax number) pseudonymized and the text cut to
`MAX_VALUE_CHARS`: the quarantine never stores a raw identifier.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

MAX_LINE_CHARS = 100_000  # no register line is this long; a runaway field is
MAX_VALUE_CHARS = 200  # of a quarantined value: enough to find it, never a whole file
BROKEN_LINES = "broken_lines"  # frame.attrs key: the file's `BrokenLines`
IDENTIFIER_COLUMNS = ("firm_id",)
MIN_ID_CHARS = 4  # shorter texts are not tax numbers: not searched for inside a cell
# what ends a line in a CSV file (str.splitlines also splits at \x0b, \x85, \u2028...)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # pseudonymized at ingest: never stored raw

RULES = {
    "unbalanced_quote": "unbalanced quote: a stray or unclosed quote, or a record that spans "
    "lines; the line is set aside on its own",
    "malformed_quote": "a quote inside a value rather than around it (text after a closing "
    "quote, or spaces between a quote and its delimiter); the line is set aside on its own",
    "too_many_fields": "{found} values on the line, the header has {width} columns (a "
    "delimiter inside an unquoted value?)",
    "too_few_fields": "{found} values on the line, the header has {width} columns (a missing "
    "delimiter or value?)",
    "oversized_line": "line of {found} characters, longer than the {limit} allowed",
}


@dataclass(frozen=True)
class BrokenLine:
    """One physical line set aside: its row (as a spreadsheet numbers lines), its cells
    parsed alone, the rule it breaks and the reason in words."""

    row: int
    cells: tuple[str, ...]
    rule: str
    reason: str


@dataclass(frozen=True)
class BrokenLines:
    """The lines of a file set aside, with the header they are read against."""

    header: tuple[str, ...]
    delimiter: str
    lines: tuple[BrokenLine, ...] = field(default=())

    def renamed(self, names: dict[str, str]) -> BrokenLines:
        """The same lines under renamed header columns (a mapping's renames)."""
        header = tuple(names.get(h, h) for h in self.header)
        return BrokenLines(header, self.delimiter, self.lines)


def split_line(line: str, delimiter: str) -> list[str]:
    """The cells of one physical line, parsed alone as CSV."""
    cells = next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])
    return list(cells)


def check_line(
    line: str, delimiter: str, width: int, named: int
) -> tuple[str, str, list[str]] | None:
    """(rule, reason, cells) when a physical line (without its line break) is broken, else
    None. `width`: the header's cells; `named`: up to its last non-empty one (a header may
    end in empty cells that rows leave out)."""
    if len(line) > MAX_LINE_CHARS:
        reason = RULES["oversized_line"].format(found=f"{len(line):,}", limit=f"{MAX_LINE_CHARS:,}")
        return "oversized_line", reason, [line[:MAX_VALUE_CHARS]]
    quotes = line.count('"')
    if quotes % 2:
        return "unbalanced_quote", RULES["unbalanced_quote"], split_line(line, delimiter)
    if not quotes:  # the common case, without the csv module
        found = line.count(delimiter) + 1
        if named <= found <= width:
            return None
        cells = line.split(delimiter)
    else:
        cells = split_line(line, delimiter)
        found = len(cells)
        if _malformed_quotes(line, delimiter):
            return "malformed_quote", RULES["malformed_quote"], cells
    if not any(c.strip() for c in cells):
        return None  # a blank line, or only delimiters: no record, nothing to lose
    if found > width and any(c.strip() for c in cells[width:]):
        return "too_many_fields", RULES["too_many_fields"].format(found=found, width=width), cells
    if found < named:
        return "too_few_fields", RULES["too_few_fields"].format(found=found, width=named), cells
    return None


def _malformed_quotes(line: str, delimiter: str) -> bool:
    """Quotes that readers resolve differently: text after a closing quote (`"b"c`) or
    white space between a quote and its delimiter (`, "b"`): Python's csv module keeps
    one reading, DuckDB's another, or refuses the file."""
    try:
        next(csv.reader([line], delimiter=delimiter, quotechar='"', strict=True), None)
    except csv.Error:
        return True
    d = re.escape(delimiter)
    return re.search(rf'(?:^|{d})[ \t]+"|"[ \t]+(?:{d}|$)', line) is not None


def header_widths(cells: Sequence[str]) -> tuple[int, int]:
    """(width, named) of a header's cells, as `check_line` takes them."""
    named = max((i + 1 for i, c in enumerate(cells) if c.strip()), default=0)
    return len(cells), named


def physical_lines(text: str) -> list[str]:
    """The lines of a text as a CSV file has them: split at \\n, \\r\\n or a lone \\r,
    without their terminators."""
    return _LINE_BREAK.split(text) if "\r" in text else text.split("\n")


def find_broken_lines(
    lines: Iterable[str], delimiter: str, header: Sequence[str], *, first_row: int
) -> list[BrokenLine]:
    """The broken lines among `lines` (the physical lines after the header, line breaks
    stripped), numbered from `first_row`."""
    width, named = header_widths(header)
    broken = []
    for number, line in enumerate(lines, start=first_row):
        found = check_line(line, delimiter, width, named)
        if found is not None:
            rule, reason, cells = found
            broken.append(BrokenLine(number, tuple(cells), rule, reason))
    return broken


def nothing_readable(name: str, broken: BrokenLines) -> str:
    """The one-line error for a file whose every data line is broken (a wrong delimiter or
    quote is likelier than a file of broken rows): it is refused, not quarantined."""
    first = broken.lines[0]
    return (
        f"{name}: no row of the file can be read; row {first.row}: {first.reason} "
        "(check the delimiter and the quotes)"
    )


def blank_lines(lines: Sequence[str], rows: set[int], *, first_row: int) -> list[str]:
    """`lines` with the ones numbered in `rows` emptied: later records keep their numbers."""
    return ["" if i in rows else line for i, line in enumerate(lines, start=first_row)]


def quarantine_records(broken: BrokenLines, pseudonymize: object | None = None) -> pd.DataFrame:
    """Quarantine records (row_number, column_name, rule, value, reason) of the broken
    lines. `pseudonymize(series) -> series` replaces identifiers (None: a placeholder).

    Under an identifier column the cell is pseudonymized wherever it appears in the line.
    A broken line's cells may be shifted (a stray quote swallows delimiters, a missing or
    extra one moves the cells after it), so the cells are taken both as the csv module
    parses the line and as a plain split at the delimiter gives them, and every cell as
    many positions right (left) of the identifier column as the line has cells too many
    (too few) is pseudonymized too (a neighbour may be hidden with it: the row number finds the line
    in the agency's file). The text is then cut to MAX_VALUE_CHARS.
    """
    columns = ["row_number", "column_name", "rule", "value", "reason"]
    if not broken.lines:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    ids = [i for i, h in enumerate(broken.header) if h in IDENTIFIER_COLUMNS]
    values = []
    for line in broken.lines:
        plain = broken.delimiter.join(line.cells).split(broken.delimiter)
        found = set()
        for cells in (line.cells, plain):
            # a missing delimiter before the identifier moves it left by as many cells as
            # the line lacks, an extra one right by as many as it has too many
            shift = len(cells) - len(broken.header)
            for i in ids:
                low, high = (i + shift, i) if shift < 0 else (i, i + shift)
                for k in range(max(low, 0), min(high + 1, len(cells))):
                    found.add(cells[k].strip().strip('"').strip())
        found.discard("")
        hidden = {raw: _pseudonym(raw, pseudonymize) for raw in found}
        cells = []
        for cell in line.cells:
            key = cell.strip().strip('"').strip()
            if key in hidden:
                cell = hidden[key]
            else:  # a cell that swallowed its neighbours (a stray quote) may hold one
                for raw in sorted(hidden, key=len, reverse=True):
                    if len(raw) >= MIN_ID_CHARS:
                        cell = cell.replace(raw, hidden[raw])
            cells.append(cell)
        values.append(shorten(broken.delimiter.join(cells)))
    return pd.DataFrame(
        {
            "row_number": [line.row for line in broken.lines],
            "column_name": "(line)",
            "rule": [line.rule for line in broken.lines],
            "value": values,
            "reason": [line.reason for line in broken.lines],
        }
    )


def _pseudonym(cell: str, pseudonymize: object | None) -> str:
    if pseudonymize is None:
        return "(identifier)"
    out = pseudonymize(pd.Series([cell]))  # type: ignore[operator]
    return str(out.iloc[0])


def shorten(value: object) -> object:
    """A quarantined value cut to MAX_VALUE_CHARS (with an ellipsis); others unchanged."""
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[: MAX_VALUE_CHARS - 1] + "…"
    return value
