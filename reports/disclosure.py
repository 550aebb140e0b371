"""Statistical disclosure control: no firm may be identifiable in a public edition.

Every table the site publishes is described by a `TableSpec`: its key columns, its
measures (what kind of figure each column holds and which columns say how many firms
stand behind it) and, for additive tables, which rows form a total. `protect` applies the
rules of `DisclosureRules` (part of the run configuration) cell by cell:

1. threshold rule (`min_firms`): a figure that aggregates fewer than k firms (beneficiaries,
   or comparison firms behind an estimate) is suppressed; a count of firms under k too;
2. dominance rule (`dominance_top`, `dominance_share`): a sum of money or jobs of which the
   n largest firms hold more than the given share is suppressed, because each of those
   firms could estimate the other's figure from it;
3. secondary (complementary) suppression: in every additive relation (components and their
   total), a single hidden cell could be recovered by subtraction, so one more cell is
   suppressed: the smallest component not published elsewhere, else the total;
4. derived figures (ratios, intervals) of a suppressed figure are suppressed with it;
5. the reason a figure was not estimated can name a number of firms ("3 beneficiaries,
   fewer than the 30 required"): a count under k in it is published as "fewer than k"
   (`protect_reasons`; counts are the parameters named `n` or `n_*`).

Each suppressed cell is logged with its table, row, column and rule, never with its value.
Internal editions run the same rules but publish everything (`apply=False`): the log then
says which cells a public edition would hide.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["count", "sum", "estimate", "derived", "info"]
MIN_FIRMS = "min_firms"
DOMINANCE = "dominance"
SECONDARY = "secondary"
DERIVED = "derived"
RULES = (MIN_FIRMS, DOMINANCE, SECONDARY, DERIVED)
LOG_COLUMNS = ["table", "row", "column", "rule", "applied"]


class DisclosureRules(BaseModel):
    """Thresholds of the disclosure rules (a section of the run configuration)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min_firms: int = Field(5, ge=1, description="Smallest number of firms a figure may rest on.")
    dominance_top: int = Field(
        2, ge=1, description="How many of the largest firms the dominance rule adds up."
    )
    dominance_share: float = Field(
        0.85,
        gt=0.0,
        le=1.0,
        description="Largest share of a sum those firms may hold before it is suppressed.",
    )
    protection: float = Field(
        0.10,
        ge=0.0,
        lt=1.0,
        description=(
            "Share of a suppressed cell's value by which its feasible interval, as an "
            "attacker can compute it from the published tables, must extend on either side "
            "(reports.audit)."
        ),
    )


@dataclass(frozen=True)
class Measure:
    """One published column and what the rules need to know about it.

    kind: count (a number of firms or records: the threshold rule applies to the value
    itself), sum (money or jobs added over firms), estimate (a mean or model estimate over
    firms), derived (computed from other measures: suppressed with them), info (not a firm
    statistic: never suppressed). Counts of input records that describe the agency's data
    handling rather than any firm, such as the rows quarantined by each rule, are info: a
    row rejected as `not_a_number` says how a file was filled in, not what a firm earns or
    employs, and the aggregates built from the rows kept stay under the rules.
    """

    column: str
    kind: Kind
    firms: str | None = None  # column: firms behind the figure
    control: str | None = None  # column: comparison firms behind an estimate
    top: str | None = None  # column: sum of the largest `dominance_top` contributions
    total: str | None = None  # column: the sum `top` is compared with (default: the value)
    depends: tuple[str, ...] = ()  # derived: the measures it is computed from
    additive: bool = False  # takes part in the table's component/total relations


@dataclass(frozen=True)
class TableSpec:
    """A table's structure: keys, measures and its additive relations."""

    table_id: str
    keys: tuple[str, ...]
    measures: tuple[Measure, ...]
    group: tuple[str, ...] = ()  # rows sharing these keys form one relation...
    total: str | None = None  # ...whose total row has True in this column
    same: str | None = None  # rows with equal values here show the same figure
    pinned: str | None = None  # True: the figure is also published elsewhere
    internal: tuple[str, ...] = ()  # helper columns, never published

    @property
    def measure_columns(self) -> list[str]:
        """The columns of the table's measures."""
        return [m.column for m in self.measures]


@dataclass(frozen=True)
class Published:
    """A table as an edition publishes it: values, which cells are suppressed, and whether
    the suppression is applied (public) or only flagged (internal)."""

    table_id: str
    values: pd.DataFrame  # true values; `frame()` is what reaches any output
    suppressed: pd.DataFrame  # bool, same index; one column per protected measure
    applied: bool

    def frame(self) -> pd.DataFrame:
        """The table as published: suppressed cells emptied when the rules apply."""
        out = self.values.copy()
        if self.applied:
            for column in self.suppressed.columns:
                hidden = self.suppressed[column].to_numpy(dtype=bool)
                if hidden.any():
                    if pd.api.types.is_integer_dtype(out[column]):
                        out[column] = out[column].astype("Int64")  # keep counts whole
                    out[column] = out[column].mask(hidden)
        return out

    def is_suppressed(self, index: object, column: str) -> bool:
        """Whether the rules hide (or, internally, would hide) this cell."""
        if column not in self.suppressed.columns:
            return False
        return bool(self._masks[column][self.values.index.get_loc(index)])

    @cached_property
    def _masks(self) -> dict[str, np.ndarray]:
        # a numpy lookup: pages and exports ask about every cell
        return {c: self.suppressed[c].to_numpy(dtype=bool) for c in self.suppressed.columns}

    def rows(self, selector: pd.Series | np.ndarray, table_id: str | None = None) -> Published:
        """The rows where `selector` is True, as a table of its own."""
        keep = np.asarray(selector, dtype=bool)
        return Published(
            table_id or self.table_id,
            self.values[keep].reset_index(drop=True),
            self.suppressed[keep].reset_index(drop=True),
            self.applied,
        )

    def columns(self, columns: Sequence[str]) -> Published:
        """Only these columns (in this order)."""
        kept = [c for c in self.suppressed.columns if c in columns]
        return replace(self, values=self.values[list(columns)], suppressed=self.suppressed[kept])

    @staticmethod
    def concat(parts: Sequence[Published], table_id: str) -> Published:
        """Stack tables of the same edition into one."""
        values = pd.concat([p.values for p in parts], ignore_index=True)
        columns = list(dict.fromkeys(c for p in parts for c in p.suppressed.columns))
        suppressed = pd.concat(
            [p.suppressed.reindex(columns=columns, fill_value=False) for p in parts],
            ignore_index=True,
        ).astype(bool)
        return Published(table_id, values, suppressed, parts[0].applied)


@dataclass
class Protected:
    """The result of `protect`: the table, its suppression mask and the log."""

    spec: TableSpec
    values: pd.DataFrame
    suppressed: pd.DataFrame
    applied: bool
    log: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LOG_COLUMNS))
    # (row position, column) -> rule of every suppressed cell (what the audit protects)
    reasons: dict[tuple[int, str], str] = field(default_factory=dict)

    def published(self, table_id: str | None = None) -> Published:
        """The table without its helper columns."""
        columns = [c for c in self.values.columns if c not in self.spec.internal]
        protected = [c for c in self.suppressed.columns if c in columns]
        return Published(
            table_id or self.spec.table_id,
            self.values[columns],
            self.suppressed[protected],
            self.applied,
        )


def contributions(
    frame: pd.DataFrame, by: list[str], value: str, *, top: int, firm: str = "firm_id"
) -> pd.DataFrame:
    """Sum of `value` per group of `by`, with the firms that contribute to it and the sum
    of the `top` largest firm contributions (what the dominance rule compares)."""
    columns = [*by, "total", "firms", "top"]
    rows = frame.dropna(subset=[value]) if value in frame else frame.iloc[0:0]
    if rows.empty:
        # typed, so that assigning or mapping its columns keeps float and int columns so
        # (an optional entity's empty table, e.g. no client survey)
        return pd.DataFrame(
            {
                **{b: pd.Series([], dtype=frame[b].dtype if b in frame else object) for b in by},
                "total": pd.Series([], dtype=float),
                "firms": pd.Series([], dtype="int64"),
                "top": pd.Series([], dtype=float),
            }
        )[columns]
    per_firm = rows.groupby([*by, firm], dropna=False, sort=False)[value].sum().reset_index()
    rank = per_firm.groupby(by, dropna=False, sort=False)[value].rank(
        method="first", ascending=False
    )
    grouped = per_firm.groupby(by, dropna=False, sort=False)[value]
    out = pd.DataFrame({"total": grouped.sum(), "firms": grouped.size()})
    out["top"] = per_firm[rank <= top].groupby(by, dropna=False, sort=False)[value].sum()
    return out.reset_index()[columns]


def _primary(
    frame: pd.DataFrame, measure: Measure, rules: DisclosureRules
) -> list[tuple[str, pd.Series]]:
    """(rule, cells it hits) for one measure."""
    k = rules.min_firms
    value = pd.to_numeric(frame[measure.column], errors="coerce")
    hits: list[tuple[str, pd.Series]] = []
    few = pd.Series(False, index=frame.index)
    if measure.kind == "count":
        few |= (value > 0) & (value < k)
    for column in (measure.firms, measure.control):
        if column is not None:
            n = pd.to_numeric(frame[column], errors="coerce")
            few |= (n > 0) & (n < k)
    hits.append((MIN_FIRMS, few))
    if measure.top is not None:
        top = pd.to_numeric(frame[measure.top], errors="coerce")
        total = pd.to_numeric(frame[measure.total or measure.column], errors="coerce")
        with np.errstate(divide="ignore", invalid="ignore"):
            share = top / total
        hits.append((DOMINANCE, (total > 0) & (share > rules.dominance_share)))
    return hits


def _complement(
    rows: np.ndarray,
    hidden: np.ndarray,
    value: np.ndarray,
    size: np.ndarray,
    is_total: np.ndarray,
    pinned: np.ndarray,
    *,
    zero_is_known: bool,
) -> int | None:
    """The cell to suppress so that a relation keeps at least two unknowns: the smallest
    component not published elsewhere, else the total, else anything left. All arrays are
    the relation's rows; returns a row position of the table. A zero count or sum is
    structural (nobody to hide), so it protects nothing as a complement."""
    open_ = ~hidden & ~np.isnan(value)
    nonzero = value != 0 if zero_is_known else np.ones(len(value), dtype=bool)
    tiers = (
        open_ & ~is_total & ~pinned & nonzero,
        open_ & is_total & ~pinned,
        open_ & ~is_total & pinned & nonzero,
        open_ & is_total,
        open_,
    )
    for tier in tiers:
        if tier.any():
            candidates = np.flatnonzero(tier)
            sizes = np.where(np.isnan(size[candidates]), np.inf, size[candidates])
            return int(rows[candidates[np.argmin(sizes)]])
    return None


def _numeric(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _flags(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].fillna(False).to_numpy(dtype=bool)


def protect(
    frame: pd.DataFrame, spec: TableSpec, rules: DisclosureRules, *, apply: bool
) -> Protected:
    """Apply the disclosure rules to one table (see the module docstring)."""
    df = frame.reset_index(drop=True)
    protected = [m for m in spec.measures if m.kind != "info"]
    # numpy arrays throughout: relations are checked row group by row group, many times
    values = {m.column: _numeric(df, m.column) for m in protected}
    present = {c: ~np.isnan(v) for c, v in values.items()}
    masks = {m.column: np.zeros(len(df), dtype=bool) for m in protected}
    reasons: dict[tuple[int, str], str] = {}

    def hide(cells: Iterable[int], column: str, rule: str) -> bool:
        changed = False
        for i in cells:
            if not masks[column][i] and present[column][i]:
                masks[column][i] = True
                reasons[(int(i), column)] = rule
                changed = True
        return changed

    for m in protected:
        if m.kind == "derived":
            continue
        for rule, hit in _primary(df, m, rules):
            hide(np.flatnonzero(hit.fillna(False).to_numpy(dtype=bool)), m.column, rule)

    additive = [m for m in protected if m.additive]
    if spec.total and additive:
        is_total = _flags(df, spec.total)
        pinned = _flags(df, spec.pinned)
        groups = [
            np.asarray(rows, dtype=int)
            for rows in (
                df.groupby(list(spec.group), sort=False, dropna=False).indices.values()
                if spec.group
                else [np.arange(len(df))]
            )
        ]
        groups = [g for g in groups if is_total[g].any()]  # a relation needs a total
        same = df[spec.same].astype(str).to_numpy() if spec.same else None
        changed = True
        while changed:  # until every relation has zero or at least two unknowns
            changed = False
            for m in additive:
                mask, value = masks[m.column], values[m.column]
                size = _numeric(df, m.firms) if m.kind == "estimate" and m.firms else np.abs(value)
                for rows in groups:
                    if not mask[rows].any():
                        continue
                    hidden = mask[rows] | np.isnan(value[rows])
                    if int(hidden.sum()) != 1:
                        continue
                    cell = _complement(
                        rows,
                        hidden,
                        value[rows],
                        size[rows],
                        is_total[rows],
                        pinned[rows],
                        zero_is_known=m.kind in ("count", "sum"),
                    )
                    if cell is not None:
                        changed |= hide([cell], m.column, SECONDARY)
                if same is not None and mask.any():
                    # the same figure shown in several rows is hidden everywhere or nowhere
                    hit = np.isin(same, same[mask])
                    changed |= hide(np.flatnonzero(hit), m.column, SECONDARY)

    for m in protected:
        if m.kind == "derived":
            hit = np.logical_or.reduce([masks[d] for d in m.depends])
            hide(np.flatnonzero(hit), m.column, DERIVED)

    keys = row_keys(df, spec.keys) if reasons else []
    log = pd.DataFrame(
        [
            {
                "table": spec.table_id,
                "row": keys[i],
                "column": column,
                "rule": rule,
                "applied": apply,
            }
            for (i, column), rule in sorted(reasons.items())
        ],
        columns=LOG_COLUMNS,
    )
    df, reason_log = protect_reasons(df, spec.keys, spec.table_id, rules, apply=apply)
    if len(reason_log):
        log = pd.concat([log, reason_log], ignore_index=True) if len(log) else reason_log
    mask_frame = pd.DataFrame(masks, index=df.index)
    return Protected(spec, df, mask_frame, apply, log, reasons)


# --- shares of counts ---------------------------------------------------------------------

SHARE_DIGITS = 2  # a share is published to whole percent


def protect_shares(
    table: Published,
    keys: Sequence[str],
    rules: DisclosureRules,
    *,
    apply: bool,
    value: str = "value",
    numerator: str = "numerator",
    denominator: str = "denominator",
    unit: str = "unit",
) -> tuple[Published, pd.DataFrame]:
    """Shares (`unit` "share") published to whole percent, and withheld where even that
    pins a count under the threshold.

    A share printed to 16 digits is an exact fraction: anyone who knows or guesses its
    denominator reads its numerator, however small. Rounded to whole percent, the share
    only says that the numerator lies in an interval of about denominator / 100 counts.
    The numerator and its complement (denominator - numerator: the rows missing, failing,
    not answering) are the counts a share can reveal; where one of them is under
    `min_firms` and every numerator consistent with the rounded share keeps it under
    `min_firms`, the share is suppressed (rule min_firms) like the count itself. Internal
    editions flag such shares (the log, applied false) and keep every digit.
    """
    frame = table.values
    if frame.empty or value not in frame or numerator not in frame or denominator not in frame:
        return table, pd.DataFrame(columns=LOG_COLUMNS)
    k = rules.min_firms
    share = (frame[unit] == "share").to_numpy() if unit in frame else np.ones(len(frame), bool)
    v = _numeric(frame, value)
    n = _numeric(frame, numerator)
    d = _numeric(frame, denominator)
    rounded = np.round(v, SHARE_DIGITS)
    half = 0.5 * 10.0**-SHARE_DIGITS
    with np.errstate(invalid="ignore"):
        # counts consistent with the rounded share, assuming the denominator known
        most_numerator = np.floor(d * (rounded + half) + 1e-9)
        most_complement = np.floor(d * (1 - rounded + half) + 1e-9)
        small_numerator = (n > 0) & (n < k) & (most_numerator < k)
        small_complement = (d - n > 0) & (d - n < k) & (most_complement < k)
    hide = share & ~np.isnan(v) & (small_numerator | small_complement)
    out = frame.copy()
    if apply:
        out[value] = np.where(share & ~np.isnan(v), rounded, v)
    suppressed = table.suppressed.copy()
    suppressed[value] = hide
    ids = row_keys(frame, keys) if hide.any() else []
    log = pd.DataFrame(
        [
            {
                "table": table.table_id,
                "row": ids[i],
                "column": value,
                "rule": MIN_FIRMS,
                "applied": apply,
            }
            for i in np.flatnonzero(hide)
        ],
        columns=LOG_COLUMNS,
    )
    return Published(table.table_id, out, suppressed, table.applied), log


# --- counts inside the reasons of figures not estimated ----------------------------------


def is_count_param(name: str) -> bool:
    """Whether a reason parameter is a number of firms: `n` and `n_*` by convention of
    `evaluation.reasons` ("{n} beneficiaries, fewer than the {min} required")."""
    return name == "n" or name.startswith("n_")


def protect_params(params: object, min_firms: int) -> tuple[object, bool]:
    """A reason's parameters (JSON text or dict) with every count of firms under
    `min_firms` replaced by `{"fewer_than": min_firms}`, and whether one was. A zero is
    kept: nobody to protect. Thresholds (`min`) are settings, not counts, and stay."""
    if isinstance(params, str):
        try:
            parsed = json.loads(params)
        except ValueError:
            return params, False
    elif isinstance(params, dict):
        parsed = params
    else:
        return params, False
    if not isinstance(parsed, dict):
        return params, False
    out, changed = dict(parsed), False
    for name, value in parsed.items():
        if (
            is_count_param(name)
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and 0 < value < min_firms
        ):
            out[name] = {"fewer_than": min_firms}
            changed = True
    if not changed:
        return params, False
    return json.dumps(out, sort_keys=True), True


def protect_reasons(
    frame: pd.DataFrame,
    keys: Sequence[str],
    table_id: str,
    rules: DisclosureRules,
    *,
    apply: bool,
    columns: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The threshold rule on the counts inside reasons: every `*reason_params` column of
    the table (or those named) has its counts of firms under `min_firms` replaced (public
    editions), and each such cell is logged with rule min_firms, as any suppression
    (internal editions log it unapplied and keep the count)."""
    if columns is None:
        columns = [c for c in frame.columns if str(c).endswith("reason_params")]
    if not columns or frame.empty:
        return frame, pd.DataFrame(columns=LOG_COLUMNS)
    out = frame.copy() if apply else frame
    hits: list[tuple[int, str]] = []
    for column in columns:
        values = frame[column].tolist()
        protected = [protect_params(v, rules.min_firms) for v in values]
        changed = [i for i, (_, hit) in enumerate(protected) if hit]
        if changed and apply:
            out[column] = pd.Series([v for v, _ in protected], index=frame.index, dtype=object)
        hits += [(i, column) for i in changed]
    if not hits:
        return out, pd.DataFrame(columns=LOG_COLUMNS)
    ids = row_keys(frame, keys)
    log = pd.DataFrame(
        [
            {
                "table": table_id,
                "row": ids[i],
                "column": column,
                "rule": MIN_FIRMS,
                "applied": apply,
            }
            for i, column in sorted(hits)
        ],
        columns=LOG_COLUMNS,
    )
    return out, log


def _key_value(v: object) -> object:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer | int):
        return int(v)
    if isinstance(v, np.floating | float):
        return int(v) if float(v).is_integer() else float(v)
    return str(v)


def row_key(row: pd.Series, keys: Sequence[str]) -> str:
    """A row's key as compact JSON (language-neutral codes), the same in every edition."""
    return json.dumps(
        {k: _key_value(row[k]) for k in keys}, ensure_ascii=False, separators=(",", ":")
    )


def row_keys(frame: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """`row_key` of every row (column-wise, much faster than iterating rows)."""
    columns = [frame[k].tolist() for k in keys]
    return (
        [
            json.dumps(
                {k: _key_value(v) for k, v in zip(keys, values, strict=True)},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            for values in zip(*columns, strict=True)
        ]
        if keys
        else [json.dumps({})] * len(frame)
    )
