"""Callaway & Sant'Anna (2021) staggered difference-in-differences for firm panels.

Unconditional (no covariates) group-time ATTs, ``ATT(g, t)``, and their aggregations,
written as pure functions over pandas/numpy. The reference implementation is R ``did``
2.x as ported by ``moderndid`` 0.2.0 (``att_gt`` with ``panel=True``, analytic standard
errors, ``bstrap=FALSE``, clustering at the unit level, and ``aggte``); on a balanced
panel every ATT(g,t), standard error and aggregation here equals theirs up to float
rounding. Without covariates the ``reg``, ``ipw`` and ``dr`` estimators all reduce to the
same difference of mean changes, so there is no estimation method to choose.

Preprocessing mirrors did/moderndid:

* cohort 0 or missing = never treated; a cohort later than the last observed period is
  also treated as never treated;
* units treated in the first period (cohort <= first period + anticipation) are dropped;
* with ``control_group="notyettreated"`` and no never-treated units, periods from the
  last cohort's (anticipation-adjusted) treatment onwards are dropped, as did does.
  With ``"nevertreated"`` and no never-treated units did silently re-labels the last
  cohort as "never treated"; we raise a ``ValueError`` instead.

Deliberate deviation for unbalanced panels (firms entering and exiting): R did would
balance the panel, i.e. drop every unit not observed in every period. We instead use,
for each (g, t) cell, all units whose outcome is observed in both ``t`` and the base
period ``b``. This equals did exactly on balanced panels and uses all available pairs
otherwise. ``n`` (used to rescale influence functions and in the cohort shares ``pg``)
is the number of distinct units in the (filtered) panel.

``aggregate`` drops cells whose ATT is undefined (only possible with
``base_period="universal"``) like did's ``aggte(..., na.rm=TRUE)`` rather than erroring.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "AggregateATT",
    "GroupTimeATT",
    "aggregate",
    "att_gt",
    "has_covariance",
    "table_covariance",
]

_CONTROL_GROUPS = ("nevertreated", "notyettreated")
_BASE_PERIODS = ("varying", "universal")
_AGG_KINDS = ("simple", "group", "dynamic", "calendar")
# did/moderndid report an SE this small as NA (e.g. the universal-base reference cell).
_SE_FLOOR = math.sqrt(np.finfo(float).eps) * 10
_Z_95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class GroupTimeATT:
    """Group-time ATTs with their unit-level influence functions.

    ``cells`` has columns group, time, event_time, att, se, n_treated, n_control,
    base_period. ``influence`` is n_units x n_cells, rescaled as R did does
    (``n / n_gt`` times the cell influence function), columns in ``cells`` order.
    ``unit_cohort`` (0 = never treated) and ``unit_ids`` are in ``influence`` row order.
    """

    cells: pd.DataFrame
    influence: np.ndarray
    unit_cohort: np.ndarray
    n_units: int
    control_group: str
    unit_ids: np.ndarray | None = None


@dataclass(frozen=True)
class AggregateATT:
    """An aggregation of group-time ATTs (did's ``aggte``).

    ``table`` has columns key, att, se, ci_low, ci_high (key = cohort, event time or
    year); it is empty for ``kind="simple"``. Intervals are 95% pointwise normal.
    """

    kind: str
    overall_att: float
    overall_se: float
    table: pd.DataFrame
    ci_low: float
    ci_high: float
    # unit-level influence functions (rows as in GroupTimeATT.influence): of the overall
    # estimate, and of each key of ``table`` (columns in table order); they let callers
    # combine estimates (horizons, ROI, Wald tests) with correct standard errors
    influence: np.ndarray | None = None
    table_influence: np.ndarray | None = None
    # the covariance matrix of ``table``'s estimates (rows and columns in table order),
    # when it was computed from moments instead (the SQL path, evaluation.did_duckdb)
    vcov: np.ndarray | None = None


@dataclass(frozen=True)
class _Wide:
    """Panel reshaped to units x periods; units sorted by (cohort, id) like moderndid."""

    y: np.ndarray  # n_units x n_periods, NaN = not observed
    periods: np.ndarray
    cohort: np.ndarray  # float, inf = never treated
    unit_ids: np.ndarray


def _integral(values: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        raise ValueError(f"column {name!r} must hold integer periods")
    return values.astype(np.int64)


def _to_wide(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    control_group: str,
    anticipation: int,
) -> _Wide:
    missing = [c for c in (unit, time, cohort, outcome) if c not in panel.columns]
    if missing:
        raise ValueError(f"panel is missing required column(s): {', '.join(map(repr, missing))}")
    if panel[unit].isna().any():
        raise ValueError(f"column {unit!r} has missing unit ids")
    if panel[time].isna().any():
        raise ValueError(f"column {time!r} has missing periods")

    t_all = _integral(pd.to_numeric(panel[time]).to_numpy(dtype=float, na_value=np.nan), time)
    g_all = pd.to_numeric(panel[cohort]).to_numpy(dtype=float, na_value=np.nan)
    g_all = np.where(np.isnan(g_all), 0.0, g_all)
    _integral(g_all, cohort)
    y_all = pd.to_numeric(panel[outcome]).to_numpy(dtype=float, na_value=np.nan)
    codes_all, uniques_all = pd.factorize(panel[unit])

    # The cohort is a unit attribute: a unit with two cohorts is a data error (some row
    # then differs from the value its unit was given last).
    cohort_of = np.empty(len(uniques_all))
    cohort_of[codes_all] = g_all
    if (cohort_of[codes_all] != g_all).any():
        raise ValueError(f"column {cohort!r} must be constant within each {unit!r}")

    keep = ~np.isnan(y_all)  # rows with missing outcome are ignored
    if not keep.any():
        raise ValueError(f"column {outcome!r} has no non-missing values")
    t, g, y = t_all[keep], g_all[keep], y_all[keep]
    ids = codes_all[keep]  # unit codes: ids are looked up once per unit, at the end

    # did recodes cohorts treated after the last period as never treated (inf).
    g = np.where((g == 0) | (g > t.max()), np.inf, g)
    # Units treated by the first period have no untreated baseline: did drops them.
    not_early = g > t.min() + anticipation
    if not not_early.all():
        n_early = len(np.unique(ids[~not_early]))
        warnings.warn(f"dropped {n_early} units already treated in the first period", stacklevel=3)
        t, g, y, ids = t[not_early], g[not_early], y[not_early], ids[not_early]
    if not np.isfinite(g).any():
        raise ValueError("no treated cohorts left (all units are never treated or treated early)")

    if not np.isinf(g).any():
        if control_group == "nevertreated":
            raise ValueError(
                "no never-treated units (cohort 0/NaN) in the panel; "
                "use control_group='notyettreated' to compare with later-treated cohorts"
            )
        # As did: once the last cohort is treated nobody is left to compare against.
        in_window = t < g.max() - anticipation
        t, g, y, ids = t[in_window], g[in_window], y[in_window], ids[in_window]
        if len(t) == 0:
            raise ValueError("no periods left before the last cohort is treated")

    # pd.factorize of the rows' ids with sort=True, sorting each unit's id once
    counts = np.bincount(ids, minlength=len(uniques_all))
    present = np.flatnonzero(counts)
    row_unit = (np.cumsum(counts > 0) - 1)[ids]  # position of each row's unit in present
    row_of = np.empty(len(uniques_all), dtype=np.intp)
    row_of[codes_all] = np.arange(len(codes_all))  # a row of each unit (any: same id)
    id_rank, uniq_ids = pd.factorize(panel[unit].iloc[row_of[present]].to_numpy(), sort=True)
    codes = id_rank[row_unit]
    periods, t_idx = np.unique(t, return_inverse=True)
    n, n_t = len(uniq_ids), len(periods)

    unit_g = np.empty(n)
    unit_g[codes] = g
    order = np.lexsort((np.arange(n), unit_g))  # by cohort (never last), then id
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    row = rank[codes]

    if np.bincount(row * n_t + t_idx, minlength=n * n_t).max() > 1:
        raise ValueError(f"duplicate ({unit!r}, {time!r}) rows with non-missing {outcome!r}")
    wide = np.full((n, n_t), np.nan)
    wide[row, t_idx] = y
    return _Wide(
        y=wide, periods=periods, cohort=unit_g[order], unit_ids=np.asarray(uniq_ids)[order]
    )


def _cell_plan(
    cohorts: np.ndarray, periods: np.ndarray, base_period: str, anticipation: int
) -> list[tuple[float, int, int]]:
    """(g, index of t, index of base period b) for every cell did estimates, in did order."""
    plan: list[tuple[float, int, int]] = []
    for g in cohorts:
        pre = np.flatnonzero(periods < g - anticipation)
        if len(pre) == 0:  # never observed before treatment: did drops the cohort
            warnings.warn(f"no pre-treatment period for cohort {g:g}; dropped", stacklevel=3)
            continue
        last_pre = int(pre[-1])
        if base_period == "universal":
            plan.extend((g, k, last_pre) for k in range(len(periods)))
        else:
            # did's "post" test is g <= t (not g - anticipation <= t): anticipation
            # periods still use the short t-1 difference.
            plan.extend(
                (g, k, last_pre if g <= periods[k] else k - 1) for k in range(1, len(periods))
            )
    return plan


def _observed_changes(
    y: np.ndarray, k: int, b: int, start: int, stop: int
) -> tuple[np.ndarray | None, np.ndarray]:
    """Rows start..stop-1: which have the outcome in both period k and base b (None: all),
    and their changes y_k - y_b, in row order (unbalanced panels: units seen in both)."""
    dy = y[start:stop, k] - y[start:stop, b]
    observed = ~np.isnan(dy)
    if observed.all():
        return None, dy
    return observed, dy[observed]


def _set_rows(
    influence: np.ndarray,
    j: int,
    start: int,
    rows: tuple[np.ndarray | None, np.ndarray],
    values: np.ndarray,
) -> None:
    """Write a run's influence values into column j (the observed rows of the run)."""
    observed, changes = rows
    column = influence[start : start + len(observed if observed is not None else changes), j]
    if observed is None:
        column[:] = values
    else:
        column[observed] = values


def _se(influence: np.ndarray, n: int) -> np.ndarray:
    """Analytic SE per column: sqrt(mean(IF^2) / n); tiny values -> NaN as in did."""
    se = np.sqrt(np.mean(influence**2, axis=0) / n)
    return np.where(se <= _SE_FLOOR, np.nan, se)


def att_gt(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    control_group: str = "nevertreated",
    base_period: str = "varying",
    anticipation: int = 0,
) -> GroupTimeATT:
    """Estimate Callaway & Sant'Anna group-time ATTs without covariates.

    Args:
        panel: long firm panel, one row per (unit, time).
        unit, time, cohort, outcome: column names. ``cohort`` is the first treatment
            period (0 or NaN = never treated); rows with a missing outcome are ignored.
        control_group: "nevertreated" or "notyettreated" (never treated plus units
            with cohort > max(t, b) + anticipation, excluding the cohort itself).
        base_period: "varying" (b = t-1 before treatment) or "universal"
            (b = g-1-anticipation always; that reference cell is reported as 0).
        anticipation: number of periods before treatment in which effects may appear.

    Returns:
        GroupTimeATT with one row per estimated (g, t) cell and the n_units x n_cells
        influence-function matrix used for analytic inference and aggregation.

    Raises:
        ValueError: missing columns, bad options, non-integer periods, duplicate rows,
            a time-varying cohort, no treated cohort, or no never-treated units when
            ``control_group="nevertreated"``.
    """
    if control_group not in _CONTROL_GROUPS:
        raise ValueError(f"control_group must be one of {_CONTROL_GROUPS}, got {control_group!r}")
    if base_period not in _BASE_PERIODS:
        raise ValueError(f"base_period must be one of {_BASE_PERIODS}, got {base_period!r}")
    if int(anticipation) != anticipation or anticipation < 0:
        raise ValueError(f"anticipation must be a non-negative integer, got {anticipation!r}")
    anticipation = int(anticipation)

    wide = _to_wide(
        panel,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        control_group=control_group,
        anticipation=anticipation,
    )
    y, periods, unit_g = wide.y, wide.periods, wide.cohort
    n = len(unit_g)
    never = np.isinf(unit_g)
    cohorts = np.unique(unit_g[~never])
    plan = _cell_plan(cohorts, periods, base_period, anticipation)

    influence = np.zeros((n, len(plan)), order="F")
    rows: list[tuple[int, int, float, int, int, int]] = []
    kept: list[int] = []
    # Units are sorted by cohort (never treated last), so a cohort, the never treated and
    # the not yet treated are runs of rows: each cell reads its rows as slices, in the
    # order (hence with the sums) of the boolean masks they stand for.
    y_cols = np.asfortranarray(y)
    first_never = int(np.searchsorted(unit_g, np.inf, side="left"))
    comparisons: dict[
        tuple[int, int, tuple[tuple[int, int], ...]],
        tuple[list[Any], int, float, list[np.ndarray]],
    ] = {}
    for j, (g, k, b) in enumerate(plan):
        t_val, b_val = int(periods[k]), int(periods[b])
        if k == b:
            # Universal base: the reference period itself; did reports ATT 0, IF 0.
            rows.append((int(g), t_val, 0.0, 0, 0, b_val))
            kept.append(j)
            continue
        lo = int(np.searchsorted(unit_g, g, side="left"))
        hi = int(np.searchsorted(unit_g, g, side="right"))
        if control_group == "nevertreated":
            runs = [(first_never, n)]
        else:  # cohorts later than max(t, b) + anticipation and the never treated
            start = int(np.searchsorted(unit_g, max(t_val, b_val) + anticipation, side="right"))
            runs = [(start, max(start, lo)), (max(start, hi), n)]
        treated = _observed_changes(y_cols, k, b, lo, hi)
        # the comparison rows of a (k, b) pair serve every cohort compared over it (with
        # the never treated, all of them): their changes, mean and IF values once
        pair = (k, b, tuple(runs))
        shared = comparisons.get(pair)
        if shared is None:
            control = [_observed_changes(y_cols, k, b, r0, r1) for r0, r1 in runs]
            n0 = sum(len(c[1]) for c in control)
            m0 = (
                (
                    control[0][1] if len(control) == 1 else np.concatenate([c[1] for c in control])
                ).mean()
                if n0
                else np.nan
            )
            values = [-(n / n0) * (part[1] - m0) for part in control] if n0 else []
            shared = comparisons[pair] = (control, n0, m0, values)
        control, n0, m0, values = shared
        n1 = len(treated[1])
        if n1 == 0 or n0 == 0:
            if base_period == "universal":
                # did keeps the cell as NA under a universal base, drops it otherwise.
                rows.append((int(g), t_val, np.nan, n1, n0, b_val))
                influence[:, j] = np.nan
                kept.append(j)
            continue
        m1 = treated[1].mean()
        # Cell IF (dY - mean)/p with p = n1/n_gt (resp. n0/n_gt), rescaled by n/n_gt as
        # did does, simplifies to n/n1 * (dY - mean) for treated (minus, n/n0, controls).
        _set_rows(influence, j, lo, treated, (n / n1) * (treated[1] - m1))
        for (r0, _), part, part_values in zip(runs, control, values, strict=True):
            _set_rows(influence, j, r0, part, part_values)
        rows.append((int(g), t_val, float(m1 - m0), n1, n0, b_val))
        kept.append(j)

    influence = np.ascontiguousarray(influence[:, kept]) if len(kept) < len(plan) else influence
    cells = pd.DataFrame(
        rows, columns=["group", "time", "att", "n_treated", "n_control", "base_period"]
    ).astype({"group": "int64", "time": "int64", "att": "float64", "base_period": "int64"})
    cells.insert(2, "event_time", cells["time"] - cells["group"])
    cells.insert(4, "se", _se(influence, n) if len(cells) else np.array([], dtype=float))
    unit_cohort = np.where(never, 0, unit_g).astype(np.int64)
    return GroupTimeATT(
        cells=cells,
        influence=influence,
        unit_cohort=unit_cohort,
        n_units=n,
        control_group=control_group,
        unit_ids=wide.unit_ids,
    )


def _weight_if_times_att(
    unit_gidx: np.ndarray, pg_by_group: np.ndarray, keep_gidx: np.ndarray, att: np.ndarray
) -> np.ndarray:
    """did's ``wif(keepers, pg, ...) %*% att``: IF term from estimating the weights pg.

    wif[i, k] = (1{G_i = g_k} - pg_k) / S - pg_k * sum_l (1{G_i = g_l} - pg_l) / S^2,
    S = sum_k pg_k. We return wif @ att without forming the n x k matrix: per unit only
    the keepers of its own cohort contribute to the indicator sums.
    """
    pg = pg_by_group[keep_gidx]
    s = pg.sum()
    n_groups = len(pg_by_group)
    # Sums over keepers by cohort; slot n_groups collects units outside every cohort.
    att_by_g = np.bincount(keep_gidx, weights=att, minlength=n_groups + 1)
    cnt_by_g = np.bincount(keep_gidx, minlength=n_groups + 1).astype(float)
    term1 = (att_by_g[unit_gidx] - pg @ att) / s
    term2 = (cnt_by_g[unit_gidx] - s) / s**2 * (pg @ att)
    return term1 - term2


def _table(keys: np.ndarray, att: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": keys,
            "att": att,
            "se": se,
            "ci_low": att - _Z_95 * se,
            "ci_high": att + _Z_95 * se,
        }
    )


def _weighted_cells(
    mask: np.ndarray,
    att: np.ndarray,
    influence: np.ndarray,
    cell_pg: np.ndarray,
    cell_gidx: np.ndarray,
    unit_gidx: np.ndarray,
    pg_by_group: np.ndarray,
) -> tuple[float, np.ndarray]:
    """pg-weighted average of the cells in ``mask`` and its IF (incl. the wif term)."""
    w = cell_pg[mask] / cell_pg[mask].sum()
    est = float(att[mask] @ w)
    inf = influence[:, mask] @ w + _weight_if_times_att(
        unit_gidx, pg_by_group, cell_gidx[mask], att[mask]
    )
    return est, inf


def aggregate(
    gt: GroupTimeATT, kind: str = "simple", *, min_e: float = -math.inf, max_e: float = math.inf
) -> AggregateATT:
    """Aggregate group-time ATTs exactly as did's ``aggte`` (analytic SEs).

    Args:
        gt: result of :func:`att_gt`.
        kind: "simple" (pg-weighted mean of post cells, t >= g), "group" (per cohort mean
            over its post cells; overall weighted by pg), "dynamic" (event study by
            e = t - g, pg weights within e; overall = mean over e >= 0) or "calendar"
            (per year over treated cohorts; overall = mean over years).
        min_e, max_e: event-time window; ``max_e`` also bounds post cells for "simple"
            and "group", ``min_e`` only applies to "dynamic" (as in did).

    Returns:
        AggregateATT with the overall estimate, its SE and 95% pointwise interval, and
        the per-key table (empty for "simple").
    """
    if kind not in _AGG_KINDS:
        raise ValueError(f"kind must be one of {_AGG_KINDS}, got {kind!r}")
    n = gt.n_units
    ok = gt.cells["att"].notna().to_numpy(copy=True)  # did's na.rm=TRUE
    if not ok.any():
        raise ValueError("all ATT(g,t) are undefined; nothing to aggregate")
    if not ok.all() and kind == "group":
        # did's na.rm path also drops cohorts left without any post-treatment cell.
        c = gt.cells
        has_post = (c["time"] >= c["group"]) & ok
        ok &= c["group"].isin(c.loc[has_post, "group"]).to_numpy()
    cells = gt.cells.loc[ok]
    # no copy when every cell is kept: columns are only read through boolean masks below,
    # whose copies are the same (Fortran-ordered) arrays from either
    influence = gt.influence if ok.all() else gt.influence[:, ok]
    att = cells["att"].to_numpy(dtype=float)
    groups = cells["group"].to_numpy()
    times = cells["time"].to_numpy()

    # did recodes periods and cohorts to consecutive integers before testing
    # t <= g + max_e; this only matters with gaps between periods.
    support = np.unique(np.concatenate([groups, times]))
    g_r, t_r = np.searchsorted(support, groups), np.searchsorted(support, times)

    uniq_groups = np.unique(groups)
    cell_gidx = np.searchsorted(uniq_groups, groups)
    pos = np.minimum(np.searchsorted(uniq_groups, gt.unit_cohort), len(uniq_groups) - 1)
    in_group = uniq_groups[pos] == gt.unit_cohort
    unit_gidx = np.where(in_group, pos, len(uniq_groups))
    # pg: share of ALL units (never treated included) in each cohort.
    pg_by_group = np.bincount(unit_gidx, minlength=len(uniq_groups) + 1)[:-1] / n
    cell_pg = pg_by_group[cell_gidx]
    post = (g_r <= t_r) & (t_r <= g_r + max_e)

    def weighted(mask: np.ndarray) -> tuple[float, np.ndarray]:
        return _weighted_cells(mask, att, influence, cell_pg, cell_gidx, unit_gidx, pg_by_group)

    empty = _table(np.array([], dtype=np.int64), np.array([]), np.array([]))
    if kind == "simple":
        if not post.any():
            return AggregateATT(kind, math.nan, math.nan, empty, math.nan, math.nan)
        est, inf = weighted(post)
        return _finish(kind, est, inf, n, empty, None)

    if kind == "group":
        k = len(uniq_groups)
        g_att, g_inf = np.full(k, np.nan), np.zeros((n, k))
        for i in range(k):
            mask = post & (cell_gidx == i)
            if mask.any():  # per-cohort average: equal weights, no wif (as in did)
                g_att[i] = att[mask].mean()
                g_inf[:, i] = influence[:, mask].mean(axis=1)
        valid = ~np.isnan(g_att)
        table = _table(uniq_groups, g_att, _masked_se(g_inf, g_att, n))
        if not valid.any():
            return AggregateATT(kind, math.nan, math.nan, table, math.nan, math.nan)
        w = pg_by_group[valid] / pg_by_group[valid].sum()
        est = float(g_att[valid] @ w)
        inf = g_inf[:, valid] @ w + _weight_if_times_att(
            unit_gidx, pg_by_group, np.flatnonzero(valid), g_att[valid]
        )
        return _finish(kind, est, inf, n, table, g_inf)

    if kind == "dynamic":
        event = times - groups  # event time on the original scale, as did
        keys = np.unique(event)
        keys = keys[(keys >= min_e) & (keys <= max_e)]
        est_k, inf_k = _by_key(keys, lambda e: event == e, weighted, n)
        table = _table(keys, est_k, _masked_se(inf_k, est_k, n))
        overall = keys >= 0
    else:  # calendar
        keys = np.unique(times)
        keys = keys[keys >= groups.min()]
        est_k, inf_k = _by_key(keys, lambda yr: (times == yr) & (groups <= yr), weighted, n)
        table = _table(keys, est_k, _masked_se(inf_k, est_k, n))
        overall = ~np.isnan(est_k)
    if not overall.any():
        return AggregateATT(kind, math.nan, math.nan, table, math.nan, math.nan)
    # Overall = simple mean of the per-key effects; their IFs already carry wif.
    est = float(np.mean(est_k[overall]))
    inf = inf_k[:, overall].mean(axis=1)
    return _finish(kind, est, inf, n, table, inf_k)


def has_covariance(agg: AggregateATT) -> bool:
    """Whether `table_covariance` can answer: per-key influence functions or a vcov."""
    return agg.vcov is not None or agg.table_influence is not None


def table_covariance(agg: AggregateATT, n_units: int, keep: np.ndarray | None = None) -> np.ndarray:
    """The covariance matrix of ``agg.table``'s estimates (table order; only the rows
    `keep` selects, when given): the one computed from moments (``agg.vcov``, the SQL
    path) or else from the influence functions (``IF' IF / n^2``, whose diagonal is the
    squared analytic SEs). Consumers that read it (the pre-entry test, horizons) work on
    either path.

    Raises:
        ValueError: neither is present (an aggregation without per-key effects).
    """
    if agg.vcov is not None:
        return agg.vcov if keep is None else agg.vcov[np.ix_(keep, keep)]
    if agg.table_influence is None:
        raise ValueError(f"no covariance for the {agg.kind} aggregation: no per-key effects")
    influence = agg.table_influence if keep is None else agg.table_influence[:, keep]
    return influence.T @ influence / n_units**2


def _by_key(
    keys: np.ndarray,
    mask_for: Callable[[Any], np.ndarray],
    weighted: Callable[[np.ndarray], tuple[float, np.ndarray]],
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-key pg-weighted averages (dynamic: event time, calendar: year) and their IFs."""
    est, inf = np.full(len(keys), np.nan), np.zeros((n, len(keys)))
    for i, key in enumerate(keys):
        mask = mask_for(key)
        if mask.any():
            est[i], inf[:, i] = weighted(mask)
    return est, inf


def _masked_se(inf: np.ndarray, est: np.ndarray, n: int) -> np.ndarray:
    se = _se(inf, n) if inf.shape[1] else np.array([], dtype=float)
    return np.where(np.isnan(est), np.nan, se)


def _finish(
    kind: str,
    est: float,
    inf: np.ndarray,
    n: int,
    table: pd.DataFrame,
    table_inf: np.ndarray | None,
) -> AggregateATT:
    se = float(_se(inf[:, None], n)[0])
    return AggregateATT(kind, est, se, table, est - _Z_95 * se, est + _Z_95 * se, inf, table_inf)
