"""Disclosure control proven by an attacker: a linear-programming audit of suppression.

The rules of `reports.disclosure` decide which cells are sensitive (primary suppression)
and hide one more cell of each total that would otherwise give a hidden cell away. That is
not enough: hiding the smallest other cell of a total lets anyone bound the hidden one
within that small cell's size. This module asks what an attacker can actually learn.

An attacker knows every published cell, the edition's additive structure (which published
figures are sums of which: a program's total over its years, over its regions, the
portfolio's total over its programs, quarantined rows over their rules) and that counts
and money are not negative. For each suppressed cell, two linear programs (SciPy's HiGHS)
give the smallest and the largest value consistent with all of that: its feasible
interval. A primary cell is protected when its interval reaches its required protection:

- a count under the threshold: the interval must reach `min_firms` (so it cannot be told
  from a publishable count) and `protection` (default 10%) below its value;
- a sum dominated by its largest firms: the interval must reach the total at which the
  dominance rule would no longer apply (largest contributions / `dominance_share`) and
  `protection` below;
- any other primary cell: `protection` of its value on either side.

When a cell falls short, `secure` finds the cells to hide with a second linear program
(the classical "protection path" of Kelly, Golden and Assad / Fischetti and Salazar):
the cheapest change of the table, consistent with every relation and nonnegativity, that
moves the cell to its required bound; every published cell that change has to move is
suppressed. The change is then feasible for the attacker, so the interval reaches the
bound. The cost of moving a cell is its value times the number of places it is published,
so large cells that can absorb the change are preferred to small ones (which cannot) and
shared totals are hidden last.

A zero is structural (no firm to protect, and often implied by another zero: no firms
entering, no cost): it is treated as known to the attacker and never used as a complement.

Tables are described declaratively by `Layout`s (`LAYOUTS`): which rows are components,
which row is their total, and under which name the same figure appears in other tables
(a program's total is one figure in the portfolio, in its reach by year and in each of its
reach-by-group dimensions). Effects and means (`estimate` measures) are weighted averages
with unpublished weights, not sums: the audit covers counts and money.

Pure functions throughout: tables in, cells to hide and the audit's findings out.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from reports.disclosure import (
    DERIVED,
    DOMINANCE,
    LOG_COLUMNS,
    MIN_FIRMS,
    SECONDARY,
    DisclosureRules,
    Protected,
    row_keys,
)

Key = Hashable
TOLERANCE = 1e-6  # relative: a ratio of 0.999999 passes (LP round-off)


@dataclass(frozen=True)
class Relation:
    """`total` is the sum of `parts` (exact), or, when the parts may overlap (a row breaking
    two rules is counted under both), each part is at most the total and the total at most
    their sum."""

    total: Key
    parts: tuple[Key, ...]
    exact: bool = True


@dataclass(frozen=True)
class Cell:
    """One published figure (possibly shown in several places) and what the rules ask of it.

    need_lower, need_upper: the feasible interval must reach down to need_lower and up to
    need_upper (None: no requirement; secondary cells have none).
    """

    value: float
    hidden: bool
    need_lower: float | None = None
    need_upper: float | None = None
    weight: float = 1.0  # how costly hiding it is (places it is published)


@dataclass(frozen=True)
class Interval:
    """What the attacker can learn about one primary cell."""

    key: Key
    value: float
    lower: float
    upper: float
    need_lower: float | None
    need_upper: float | None

    @property
    def ratio_lower(self) -> float:
        """Distance to the interval's lower end over the required one (>= 1 passes)."""
        return _ratio(self.value - self.lower, self.value, self.need_lower, -1)

    @property
    def ratio_upper(self) -> float:
        """Distance to the interval's upper end over the required one (>= 1 passes)."""
        return _ratio(self.upper - self.value, self.value, self.need_upper, 1)

    @property
    def ratio(self) -> float:
        """The smaller of the two ratios: the cell's protection over its requirement."""
        return min(self.ratio_lower, self.ratio_upper)

    @property
    def passes(self) -> bool:
        return bool(self.ratio >= 1 - TOLERANCE)


def _ratio(reach: float, value: float, need: float | None, sign: int) -> float:
    if need is None:
        return math.inf
    required = sign * (need - value)
    if required <= 0:
        return math.inf
    return reach / required


def requirement(
    value: float, rule: str, rules: DisclosureRules, *, kind: str, top: float | None = None
) -> tuple[float, float]:
    """(need_lower, need_upper) of a primary cell: `protection` of its value on either side;
    a count under the threshold must look like it could be `min_firms`, a dominated sum like
    one the rule would not hit (top contributions / dominance_share)."""
    p = rules.protection
    lower, upper = value * (1 - p), value * (1 + p)
    if rule == MIN_FIRMS and kind == "count":
        upper = max(upper, float(rules.min_firms))
    if rule == DOMINANCE and top is not None and math.isfinite(top):
        upper = max(upper, top / rules.dominance_share)
    return max(lower, 0.0), upper


# --- the linear programs -------------------------------------------------------------------


def _known(cell: Cell) -> bool:
    """Whether the attacker knows the cell: published, or a structural zero."""
    return not cell.hidden or cell.value == 0


def _rows(relation: Relation) -> list[tuple[dict[Key, float], str]]:
    """The relation as linear rows over its cells: (coefficients, "eq" | "ub"), each
    meaning sum(coef * x) (= | <=) 0."""
    if relation.exact:
        coef: dict[Key, float] = defaultdict(float)
        coef[relation.total] -= 1.0
        for p in relation.parts:
            coef[p] += 1.0
        return [(dict(coef), "eq")]
    rows: list[tuple[dict[Key, float], str]] = [
        ({p: 1.0, relation.total: -1.0}, "ub") for p in relation.parts
    ]
    over: dict[Key, float] = defaultdict(float)
    over[relation.total] += 1.0
    for p in relation.parts:
        over[p] -= 1.0
    rows.append((dict(over), "ub"))
    return rows


def _components(
    cells: Mapping[Key, Cell], relations: Sequence[Relation], linked: set[Key]
) -> dict[Key, int]:
    """Connected groups of the `linked` cells, two cells linked when a relation has both."""
    parent = {k: k for k in linked}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for r in relations:
        members = [k for k in (r.total, *r.parts) if k in linked]
        for a, b in itertools.pairwise(members):
            parent[find(a)] = find(b)
    roots: dict[Key, int] = {}
    return {k: roots.setdefault(find(k), len(roots)) for k in linked}


def _solve(c: np.ndarray, a_ub, b_ub, a_eq, b_eq, bounds) -> np.ndarray | None:  # type: ignore[no-untyped-def]
    # imported here: most editions link no suppressed cell and solve nothing, and scipy's
    # optimizer costs a quarter of a second to import on every publish
    from scipy.optimize import linprog

    result = linprog(
        c,
        A_ub=a_ub if a_ub is not None and len(a_ub) else None,
        b_ub=b_ub if b_ub is not None and len(b_ub) else None,
        A_eq=a_eq if a_eq is not None and len(a_eq) else None,
        b_eq=b_eq if b_eq is not None and len(b_eq) else None,
        bounds=bounds,
        method="highs",
    )
    if result.status == 3:  # unbounded: the attacker learns nothing on that side
        return None
    if result.status != 0:
        raise RuntimeError(f"disclosure audit: linear program failed: {result.message}")
    return np.asarray(result.x, dtype=float)


def audit(cells: Mapping[Key, Cell], relations: Sequence[Relation]) -> list[Interval]:
    """The feasible interval of every cell with a requirement (hidden or not: a published
    primary cell has a zero-width interval and fails), from the published cells, the
    relations and nonnegativity."""
    unknown = {k for k, c in cells.items() if not _known(c)}
    group = _components(cells, relations, unknown)
    members: dict[int, list[Key]] = defaultdict(list)
    for k, g in group.items():
        members[g].append(k)
    out: list[Interval] = []
    for key, cell in cells.items():
        if cell.need_lower is None and cell.need_upper is None:
            continue
        if key not in unknown:
            out.append(
                Interval(key, cell.value, cell.value, cell.value, cell.need_lower, cell.need_upper)
            )
            continue
        variables = members[group[key]]
        lower, upper = _interval(key, variables, cells, relations)
        out.append(Interval(key, cell.value, lower, upper, cell.need_lower, cell.need_upper))
    return out


def _interval(
    key: Key, variables: list[Key], cells: Mapping[Key, Cell], relations: Sequence[Relation]
) -> tuple[float, float]:
    """min and max of one hidden cell over the attacker's feasible set (variables: the
    hidden cells linked to it; everything else is a known constant)."""
    index = {k: i for i, k in enumerate(variables)}
    scale = max([abs(cells[k].value) for k in variables] + [1.0])  # HiGHS prefers O(1)
    a_eq: list[np.ndarray] = []
    a_ub: list[np.ndarray] = []
    b_eq: list[float] = []
    b_ub: list[float] = []
    for r in relations:
        if not any(k in index for k in (r.total, *r.parts)):
            continue
        for coef, sense in _rows(r):
            row = np.zeros(len(variables))
            rhs = 0.0
            for k, a in coef.items():
                if k in index:
                    row[index[k]] += a
                else:
                    rhs -= a * cells[k].value / scale
            (a_eq if sense == "eq" else a_ub).append(row)
            (b_eq if sense == "eq" else b_ub).append(rhs)
    bounds = [(0.0, None)] * len(variables)
    objective = np.zeros(len(variables))
    objective[index[key]] = 1.0
    ends = []
    for sign in (1.0, -1.0):
        x = _solve(
            sign * objective,
            np.array(a_ub) if a_ub else None,
            np.array(b_ub) if b_ub else None,
            np.array(a_eq) if a_eq else None,
            np.array(b_eq) if b_eq else None,
            bounds,
        )
        ends.append(math.inf if x is None else float(x[index[key]]) * scale)
    return ends[0], ends[1]


def _path(
    key: Key,
    shift: float,
    cells: Mapping[Key, Cell],
    relations: Sequence[Relation],
    pool: list[Key],
) -> set[Key]:
    """The published cells the cheapest consistent change of the table moving `key` by
    `shift` (signed) has to move: the complement that protects it on that side."""
    index = {k: i for i, k in enumerate(pool)}
    n = len(pool)
    scale = max([abs(cells[k].value) for k in pool] + [abs(shift), 1.0])
    # variables: y+ (n), y- (n); y = y+ - y-, the change of each cell
    a_eq: list[np.ndarray] = []
    a_ub: list[np.ndarray] = []
    b_eq: list[float] = []
    b_ub: list[float] = []
    for r in relations:
        if not any(k in index for k in (r.total, *r.parts)):
            continue
        for coef, sense in _rows(r):
            row = np.zeros(2 * n)
            slack = 0.0  # of the true values: sum(coef * v) (<= 0 for ub rows)
            for k, a in coef.items():
                slack += a * cells[k].value / scale
                if k in index:
                    row[index[k]] += a
                    row[n + index[k]] -= a
            if sense == "eq":
                a_eq.append(row)
                b_eq.append(0.0)
            else:
                a_ub.append(row)
                b_ub.append(-slack)
    target = np.zeros(2 * n)
    i = index[key]
    target[i], target[n + i] = (-1.0, 1.0) if shift > 0 else (1.0, -1.0)
    a_ub.append(target)
    b_ub.append(-abs(shift) / scale)
    bounds: list[tuple[float, float | None]] = []
    cost = np.zeros(2 * n)
    for side in (0, 1):
        for k in pool:
            cell = cells[k]
            fixed = cell.value == 0 and k != key  # structural zeros never move
            up = 0.0 if fixed else None
            down = 0.0 if fixed else cell.value / scale  # y- <= v: stays nonnegative
            bounds.append((0.0, up if side == 0 else down))
    for j, k in enumerate(pool):
        cell = cells[k]
        # hidden cells move for (almost) free; published ones cost value x places shown
        w = 1e-6 if not _known(cell) else max(abs(cell.value) / scale, 1e-3) * cell.weight
        cost[j] = cost[n + j] = w
    y = _solve(
        cost,
        np.array(a_ub),
        np.array(b_ub),
        np.array(a_eq) if a_eq else None,
        np.array(b_eq) if b_eq else None,
        bounds,
    )
    if y is None:
        return set()
    moved = np.abs(y[:n] - y[n:]) > 1e-9
    return {pool[j] for j in np.flatnonzero(moved) if _known(cells[pool[j]]) and pool[j] != key}


def secure(
    cells: Mapping[Key, Cell], relations: Sequence[Relation], *, max_rounds: int = 20
) -> tuple[set[Key], list[Interval]]:
    """Cells to hide (beyond those hidden) so that every primary cell's feasible interval
    meets its requirement, and the final audit. Rounds of: audit, then, for each short
    side of each failing cell, the protection path's cells; until the audit passes."""
    current = dict(cells)
    added: set[Key] = set()
    everything = _components(current, relations, set(current))
    pools: dict[int, list[Key]] = defaultdict(list)
    for k, g in everything.items():
        pools[g].append(k)
    for _ in range(max_rounds):
        intervals = audit(current, relations)
        failing = [iv for iv in intervals if not iv.passes]
        if not failing:
            return added, intervals
        new: set[Key] = set()
        for iv in failing:
            pool = pools[everything[iv.key]]
            if iv.need_upper is not None and iv.ratio_upper < 1 - TOLERANCE:
                new |= _path(iv.key, iv.need_upper - iv.value, current, relations, pool)
            if iv.need_lower is not None and iv.ratio_lower < 1 - TOLERANCE:
                new |= _path(iv.key, iv.need_lower - iv.value, current, relations, pool)
            if not current[iv.key].hidden:
                new.add(iv.key)  # a primary cell someone published: hide it first
        new = {k for k in new if not current[k].hidden}
        if not new:  # nothing left to hide that would help
            return added, intervals
        for k in new:
            current[k] = replace(current[k], hidden=True)
        added |= new
    return added, audit(current, relations)


# --- the edition's tables, declaratively ------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """A table's additive structure, as the attacker reads it.

    quantities: measure column -> quantity ("firms", "cost", "rows"); cells of different
    quantities are never summed together. Component rows are named `(quantity, scope,
    *component keys)`; each row with `total` True is the sum of the component rows sharing
    its `group` keys and is named `(quantity, total_scope, *total keys)`, so that the same
    figure published by two tables (a program's total cost in the portfolio and in its
    reach by year) is one cell.
    """

    table_id: str
    quantities: Mapping[str, str]
    scope: str
    component: tuple[str, ...]
    group: tuple[str, ...]
    total_scope: str
    total_keys: tuple[str, ...]
    total: str = "is_total"
    exact: bool = True


LAYOUTS: tuple[Layout, ...] = (
    # the portfolio's total is the sum of its programs
    Layout(
        "portfolio",
        {"firms_served": "firms", "public_cost_usd": "cost"},
        scope="program",
        component=("program_id",),
        group=(),
        total_scope="portfolio",
        total_keys=(),
    ),
    # a program's firms (each counted in its first year) and cost are the sums of its years
    Layout(
        "reach_by_year",
        {"firms_entering": "firms", "public_cost_usd": "cost"},
        scope="year",
        component=("program_id", "year"),
        group=("program_id",),
        total_scope="program",
        total_keys=("program_id",),
    ),
    # ...and of its size classes, sectors and regions (each dimension on its own)
    Layout(
        "reach_by_group",
        {"firms_served": "firms", "public_cost_usd": "cost"},
        scope="group",
        component=("program_id", "dimension", "value"),
        group=("program_id", "dimension"),
        total_scope="program",
        total_keys=("program_id",),
    ),
    # a row may break several rules: each rule's count <= the entity's <= their sum
    Layout(
        "quarantine",
        {"rows": "rows"},
        scope="rule",
        component=("entity", "rule"),
        group=("entity",),
        total_scope="entity",
        total_keys=("entity",),
        exact=False,
    ),
)


def _plain(v: object) -> object:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass
class Model:
    """The edition's audited cells, their relations, and where each cell is published."""

    cells: dict[Key, Cell]
    relations: list[Relation]
    places: dict[Key, list[tuple[str, int, str]]] = field(default_factory=dict)
    rules: dict[Key, str] = field(default_factory=dict)


def edition_model(
    protected: Mapping[str, Protected],
    rules: DisclosureRules,
    layouts: Iterable[Layout] = LAYOUTS,
) -> Model:
    """The attacker's view of the edition: one cell per distinct figure of the layouts'
    tables, hidden when every place it is published hides it, with the requirement of its
    primary rule; one relation per total row."""
    values: dict[Key, float] = {}
    hidden: dict[Key, bool] = {}
    places: dict[Key, list[tuple[str, int, str]]] = defaultdict(list)
    needs: dict[Key, tuple[float, float]] = {}
    primary: dict[Key, str] = {}
    relations: list[Relation] = []
    for layout in layouts:
        done = protected.get(layout.table_id)
        if done is None or done.values.empty:
            continue
        frame = done.values
        is_total = frame[layout.total].fillna(False).to_numpy(dtype=bool)
        measures = {m.column: m for m in done.spec.measures}
        for column, quantity in layout.quantities.items():
            if column not in frame or column not in done.suppressed:
                continue
            numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            mask = done.suppressed[column].to_numpy(dtype=bool)
            measure = measures[column]
            top = (
                pd.to_numeric(frame[measure.top], errors="coerce").to_numpy(dtype=float)
                if measure.top and measure.top in frame
                else np.full(len(frame), np.nan)
            )
            names: list[Key] = []
            for i in range(len(frame)):
                if is_total[i]:
                    name = (
                        quantity,
                        layout.total_scope,
                        *(_plain(frame[k].iat[i]) for k in layout.total_keys),
                    )
                else:
                    name = (
                        quantity,
                        layout.scope,
                        *(_plain(frame[k].iat[i]) for k in layout.component),
                    )
                names.append(name)
                value = numbers[i]
                # the tables fill empty counts and sums with 0 (nothing there)
                values.setdefault(name, 0.0 if math.isnan(value) else float(value))
                shown = not mask[i] and not math.isnan(value)
                hidden[name] = hidden.get(name, True) and not shown
                places[name].append((layout.table_id, i, column))
                rule = done.reasons.get((i, column))
                if rule in (MIN_FIRMS, DOMINANCE) and not math.isnan(value):
                    need = requirement(value, rule, rules, kind=measure.kind, top=top[i])
                    old = needs.get(name)
                    needs[name] = (
                        need if old is None else (min(old[0], need[0]), max(old[1], need[1]))
                    )
                    primary.setdefault(name, rule)
            groups = (
                frame.groupby(list(layout.group), sort=False, dropna=False).indices.values()
                if layout.group
                else [np.arange(len(frame))]
            )
            for rows in groups:
                rows = np.asarray(rows, dtype=int)
                totals = [names[i] for i in rows if is_total[i]]
                parts = tuple(names[i] for i in rows if not is_total[i])
                if totals and parts:
                    relations.append(Relation(totals[0], parts, layout.exact))
    cells = {
        k: Cell(
            values[k],
            hidden[k],
            needs[k][0] if k in needs else None,
            needs[k][1] if k in needs else None,
            weight=float(len(places[k])),
        )
        for k in values
    }
    return Model(cells, relations, dict(places), primary)


# --- applying it to an edition ------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One audited primary cell of the edition, by where it is published."""

    table: str
    row: str
    column: str
    rule: str
    passes: bool
    ratio_lower: float  # reach below the value over the required reach (>= 1 passes)
    ratio_upper: float


@dataclass(frozen=True)
class Certificate:
    """The audit's result for an edition."""

    tables: tuple[str, ...]  # the tables audited
    suppressed: int  # cells of those tables hidden in the end (each place counted)
    primary: int
    added: int  # cells the audit hid beyond the rules' own secondary suppression
    findings: tuple[Finding, ...]
    protection: float
    min_firms: int
    dominance_share: float

    @property
    def passes(self) -> bool:
        return all(f.passes for f in self.findings)  # plain bools: the JSON needs them

    def as_json(self, *, public: bool) -> dict[str, object]:
        """The certificate as published. A public edition states that each cell meets its
        requirement but never the ratio itself: the attacker can compute the interval's
        ends, and with the ratio to a requirement proportional to the value, the value."""
        findings: list[dict[str, object]] = []
        for f in self.findings:
            entry: dict[str, object] = {
                "table": f.table,
                "row": f.row,
                "column": f.column,
                "rule": f.rule,
                "passes": f.passes,
            }
            if public:
                entry["relative_protection"] = ">= 1" if f.passes else "< 1"
            else:
                entry["ratio_lower"] = _finite(f.ratio_lower)
                entry["ratio_upper"] = _finite(f.ratio_upper)
            findings.append(entry)
        return {
            "method": "linear programming (HiGHS): feasible interval of every primary cell "
            "from the published cells, the tables' sums and nonnegativity",
            "tables": list(self.tables),
            "requirements": {
                "protection": self.protection,
                "min_firms": self.min_firms,
                "dominance_share": self.dominance_share,
            },
            "suppressed_cells": self.suppressed,
            "primary_cells": self.primary,
            "added_by_audit": self.added,
            "audited_cells": len(self.findings),
            "passing_cells": int(sum(f.passes for f in self.findings)),
            "passes": self.passes,
            "cells": findings,
        }


def _finite(x: float) -> float | str:
    return "unbounded" if math.isinf(x) else round(x, 4)


def protect_edition(
    protected: Mapping[str, Protected],
    rules: DisclosureRules,
    layouts: Sequence[Layout] = LAYOUTS,
) -> tuple[dict[str, Protected], Certificate]:
    """The layouts' tables with the audit's extra suppressions (logged as secondary, and
    their derived figures with them), and the certificate of the final audit."""
    model = edition_model(protected, rules, layouts)
    added, intervals = secure(model.cells, model.relations)
    masks = {
        t: {c: p.suppressed[c].to_numpy(dtype=bool).copy() for c in p.suppressed}
        for t, p in protected.items()
    }
    reasons = {t: dict(p.reasons) for t, p in protected.items()}
    for key in added:
        for table, i, column in model.places[key]:
            if not masks[table][column][i]:
                masks[table][column][i] = True
                reasons[table][(i, column)] = SECONDARY
    out: dict[str, Protected] = {}
    for table, done in protected.items():
        new = {k: v for k, v in reasons[table].items() if k not in done.reasons}
        if not new:
            out[table] = done
            continue
        m = masks[table]
        for measure in done.spec.measures:  # a ratio of a newly hidden figure goes with it
            if measure.kind == "derived" and measure.column in m:
                hit = np.logical_or.reduce([m[d] for d in measure.depends if d in m])
                for j in np.flatnonzero(hit & ~m[measure.column]):
                    m[measure.column][j] = True
                    reasons[table][(int(j), measure.column)] = DERIVED
                    new[(int(j), measure.column)] = DERIVED
        keys = row_keys(done.values, done.spec.keys)
        extra = pd.DataFrame(
            [
                {
                    "table": done.spec.table_id,
                    "row": keys[i],
                    "column": c,
                    "rule": r,
                    "applied": done.applied,
                }
                for (i, c), r in sorted(new.items())
            ],
            columns=LOG_COLUMNS,
        )
        log = pd.concat([done.log, extra], ignore_index=True) if len(done.log) else extra
        out[table] = replace(
            done,
            suppressed=pd.DataFrame(m, index=done.suppressed.index),
            log=log,
            reasons=reasons[table],
        )
    findings = []
    for iv in sorted(intervals, key=lambda v: str(v.key)):
        table, i, column = model.places[iv.key][0]
        done = protected[table]
        findings.append(
            Finding(
                table,
                row_keys(done.values.iloc[[i]], done.spec.keys)[0],
                column,
                model.rules.get(iv.key, ""),
                iv.passes,
                float(iv.ratio_lower),
                float(iv.ratio_upper),
            )
        )
    audited = [lay.table_id for lay in layouts if lay.table_id in protected]
    suppressed = sum(
        int(out[t].suppressed[c].sum())
        for lay in layouts
        if lay.table_id in out
        for t in [lay.table_id]
        for c in lay.quantities
        if c in out[t].suppressed
    )
    certificate = Certificate(
        tables=tuple(audited),
        suppressed=suppressed,
        primary=len(model.rules),
        added=len(added),
        findings=tuple(findings),
        protection=rules.protection,
        min_firms=rules.min_firms,
        dominance_share=rules.dominance_share,
    )
    return out, certificate
