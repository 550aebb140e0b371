"""Published tables as the HTML tables of a page: translated headers, formatted cells and
the suppression symbol, ready for the `table` macro of the templates.

Cells are formatted from `Published.frame()` (suppressed values already removed in public
editions), never from the true values, so a page cannot show what its table hides. A
figure that was not estimated shows its status and reason instead (`reports.reasons`),
never the suppression symbol: the two mean different things.
Each `<td>` names its column (`data-col`) and each `<tr>` its row key (`data-key`), which
lets tests and auditors match page cells with the exported tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from reports.disclosure import Published, row_key
from reports.i18n import Translator
from reports.reasons import row_text

Formatter = Callable[[object, pd.Series], str]


@dataclass(frozen=True)
class Col:
    """One column of a page table: the table column it shows, its header and format."""

    name: str
    label: str
    fmt: Formatter
    numeric: bool = True
    protects: tuple[str, ...] = ()  # other columns whose suppression also hides this cell
    identifier: bool = False  # a code or name not to translate (column names, file names)
    # the row's status columns this cell's figure belongs to (prefix: "" for `status`,
    # "log_sales_" for `log_sales_status`...): a figure not estimated shows its reason...
    reason: str | None = None
    quiet: bool = False  # ...or, for a companion figure (an interval), nothing


@dataclass(frozen=True)
class Cell:
    """One formatted cell of a page table."""

    text: str
    column: str
    classes: str = ""
    title: str = ""
    identifier: bool = False


@dataclass(frozen=True)
class Row:
    """One row of a page table, with its key (JSON of the table's key columns)."""

    key: str
    cells: list[Cell]
    classes: str = ""


@dataclass(frozen=True)
class TableView:
    """What the `table` macro renders."""

    table_id: str
    headers: list[tuple[str, bool]]  # (label, numeric)
    rows: list[Row] = field(default_factory=list)
    caption: str = ""


class Formats:
    """Cell formatters of one language."""

    def __init__(self, t: Translator) -> None:
        self.t = t

    def number(self, decimals: int = 0) -> Formatter:
        """A number with this many decimals."""
        return lambda v, _row: self.t.num(v, decimals)

    def significant(self, digits: int = 2) -> Formatter:
        """A number with this many significant digits, for figures far below 1 (a budget's
        share of GDP: 0.0029, not 0.00294 or 0.00000)."""

        def text(v: object, _row: pd.Series) -> str:
            number = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
            if pd.isna(number) or not math.isfinite(number) or number == 0:
                return self.t.num(v, 0)
            decimals = digits - 1 - math.floor(math.log10(abs(float(number))))
            return self.t.num(number, min(max(decimals, 0), 12))

        return text

    def signed(self, decimals: int = 1) -> Formatter:
        """A number with its sign."""
        return lambda v, _row: self.t.signed(v, decimals)

    def code(self, domain: str) -> Formatter:
        """A data code of `domain` in words."""
        return lambda v, _row: self.t("sym.missing") if missing(v) else self.t.code(domain, v)

    def text(self) -> Formatter:
        """The value as it is."""
        return lambda v, _row: self.t("sym.missing") if missing(v) else str(v)

    def effect(self, low: str = "ci_low", high: str = "ci_high", decimals: int = 1) -> Formatter:
        """An estimate with its 95% interval, in the locale's words: +5.1 (+2.4 to +7.8)."""

        def fmt(v: object, row: pd.Series) -> str:
            if missing(v):
                return self.t("sym.missing")
            text = self.t.signed(v, decimals)
            if missing(row.get(low)) or missing(row.get(high)):
                return text
            return self.t.estimate_interval(
                text, self.t.signed(row[low], decimals), self.t.signed(row[high], decimals)
            )

        return fmt

    def interval(self, low: str = "ci_low", high: str = "ci_high", decimals: int = 1) -> Formatter:
        """The 95% interval of the row, in the locale's words: 2.4 to 7.8."""

        def fmt(_v: object, row: pd.Series) -> str:
            if missing(row.get(low)) or missing(row.get(high)):
                return self.t("sym.missing")
            return self.t.interval(self.t.num(row[low], decimals), self.t.num(row[high], decimals))

        return fmt


def missing(v: object) -> bool:
    """Whether a cell value is empty (None, NA or NaN)."""
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def table_view(
    table: Published,
    columns: list[Col],
    t: Translator,
    *,
    keys: tuple[str, ...] = (),
    rows: pd.Series | None = None,
    total_label: Callable[[pd.Series], bool] | None = None,
    caption: str = "",
) -> TableView:
    """Format the chosen rows and columns of a published table."""
    frame = table.frame()
    selected = frame.index if rows is None else frame.index[rows.to_numpy(dtype=bool)]
    out: list[Row] = []
    for i in selected:
        row = frame.loc[i]
        cells = []
        for col in columns:
            why = row_text(row, t, col.reason) if col.reason is not None else None
            if why is not None:  # not estimated: not a suppression, the reason in its place
                text = "" if col.quiet else why
                cells.append(Cell(text, col.name, "na" if text else "", ""))
                continue
            guarded = [c for c in (col.name, *col.protects) if c in table.suppressed.columns]
            hidden = any(table.is_suppressed(i, c) for c in guarded)
            classes = "num" if col.numeric else ""
            if hidden and table.applied:
                cells.append(
                    Cell(t("sym.suppressed"), col.name, classes + " sup", t("note.suppressed"))
                )
                continue
            text = col.fmt(row.get(col.name), row)
            if hidden:  # internal edition: shown, and flagged
                cells.append(
                    Cell(
                        text, col.name, classes + " flag", t("note.would_suppress"), col.identifier
                    )
                )
            else:
                cells.append(Cell(text, col.name, classes, "", col.identifier))
        is_total = bool(total_label(row)) if total_label else False
        out.append(Row(row_key(row, keys) if keys else str(i), cells, "total" if is_total else ""))
    return TableView(table.table_id, [(c.label, c.numeric) for c in columns], out, caption)
