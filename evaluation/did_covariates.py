"""Covariate-adjusted Callaway & Sant'Anna (2021) group-time ATTs, computed by moderndid.

When is covariate adjustment needed? The unconditional estimator (:mod:`evaluation.did`,
and its SQL twin :mod:`evaluation.did_duckdb`) assumes that, absent the programme,
participating and comparison firms would have followed the same average outcome trend.
That fails when trends differ by observable firm characteristics that also drive
participation: e.g. larger firms or firms in some sectors both enrol more often and grow
differently. *Conditional* parallel trends only requires equal trends among firms with
the same covariates X; the ``dr`` (doubly robust: outcome regression + logit propensity
score, consistent if either model is right), ``reg`` (outcome regression) and ``ipw``
(inverse probability weighting) estimators of Sant'Anna & Zhao (2020) then identify
ATT(g, t). Use it when pre-trend tests of the unconditional estimator fail along such
characteristics or when enrolment is known to be selected on them.

Scale: the unconditional estimator is closed-form (means of differences) and runs at
warehouse scale in numpy or SQL. This module fits a logit and/or a regression for every
(g, t) cell through ``moderndid`` 0.2.0 (the Python port of R ``did``) and is meant for
moderate samples (thousands to tens of thousands of firms).

The result is our :class:`evaluation.did.GroupTimeATT` (a subclass adding bookkeeping),
filled from ``moderndid.att_gt``: cells (ATT, analytic SE), and ``influence`` = moderndid's
unit-level influence-function matrix (``MPResult.influence_func``, rescaled as did does),
so ``evaluation.did.aggregate`` reproduces ``moderndid.aggte`` and the rest of the
pipeline (horizons, pre-trend tests, ROI) works unchanged on covariate-adjusted results.

Data handling (and what moderndid/did itself does):

* Covariates must be time-invariant within a unit; a column that varies raises a
  ``ValueError`` naming it. Reason: on a balanced panel did/moderndid silently use, in
  every 2x2 comparison, the covariate value of the *earlier* of the two periods (the
  pre-treatment base period for post-treatment cells), so a time-varying covariate is
  conditioned on at a cell-specific date, and post-treatment values could themselves be
  affected by the programme ("bad controls"). Pass a baseline (pre-entry) value instead.
* Non-numeric covariates (string, category; e.g. sector) are dummy-coded with the first
  level (sorted) dropped, since moderndid's panel path reads raw numeric columns and does
  not expand factors. Booleans become 0/1.
* Rows with a missing outcome or covariate are dropped (counted in
  ``n_rows_dropped_missing``, and a warning).
* Unbalanced panels: did/moderndid by default *balance* the panel, i.e. drop every unit
  not observed (with complete data) in every period. R did's
  ``allow_unbalanced_panel=TRUE`` switches to repeated-cross-section estimators with
  covariates taken from each period; in moderndid 0.2.0 that option fails on a truly
  unbalanced panel (``TypeError: 'NoneType' object is not subscriptable``, no outcome
  tensor is built). We therefore balance, as did's default, so covariates are the units'
  own baseline values and the estimator is the panel DR-DiD; the units dropped are
  counted in ``n_units_dropped_unbalanced`` (and a warning). Note the deviation from
  :mod:`evaluation.did`, which uses all available (t, base) pairs instead: on unbalanced
  panels the two paths use different samples.
* moderndid accepts any Arrow-capable frame (polars, pandas >= 2, pyarrow) and converts
  it to polars internally; we hand it a pandas frame with formula-safe internal column
  names (``id_``, ``t_``, ``g_``, ``y_``, ``x0``...), so any caller column names work.
* Cohort 0 or missing = never treated; a cohort after the last period is never treated;
  units treated by the first period (+ anticipation) are dropped (as did, counted in
  ``n_units_dropped_early``). With ``control_group="nevertreated"`` and no never-treated
  units we raise (did would silently relabel the last cohort as never treated); with
  ``"notyettreated"`` periods from the last cohort's treatment on are dropped, as did.
* Unit ids may be strings or any hashable: they are mapped to integer codes (sorted
  order) for moderndid and ``unit_ids`` holds the original ids in ``influence`` row order
  (units sorted by cohort, never treated last, then id - the same order as
  :func:`evaluation.did.att_gt`).
* Cells moderndid cannot estimate (overlap violation, singular regression, too few
  units) are dropped with moderndid's warning (``base_period="varying"``) or kept as NaN
  (``"universal"``), as did does; ``aggregate`` skips NaN cells.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.did import GroupTimeATT

__all__ = ["CovariateGroupTimeATT", "att_gt_covariates"]

_EST_METHODS = ("dr", "reg", "ipw")
_CONTROL_GROUPS = ("nevertreated", "notyettreated")
_BASE_PERIODS = ("varying", "universal")
# Internal column names handed to moderndid: formula-safe whatever the caller's names.
_Y, _T, _ID, _G = "y_", "t_", "id_", "g_"
# moderndid messages about drops we count and report ourselves (avoid double warnings).
_OWN_DROP_MESSAGES = (
    r"Dropped \d+ rows from original data",
    r"Dropped \d+ units that were already treated",
    r"Dropped \d+ units while converting to balanced panel",
    r"\d+ units were already treated in the first period",
    r"\d+ units have unbalanced observations",
)


@dataclass(frozen=True)
class CovariateGroupTimeATT(GroupTimeATT):
    """A :class:`~evaluation.did.GroupTimeATT` from a covariate-adjusted estimator.

    Usable wherever a ``GroupTimeATT`` is (``aggregate``, diagnostics, ROI). Extra fields:
    ``est_method`` ("dr", "reg", "ipw"); ``covariates`` as passed; ``design_columns`` the
    regressors actually used (dummies for categorical covariates, intercept implied);
    ``n_units_input`` distinct units in the input; ``n_rows_dropped_missing`` rows dropped
    for a missing outcome or covariate; ``n_units_dropped_early`` units treated by the
    first period; ``n_units_dropped_unbalanced`` units dropped to balance the panel.
    """

    est_method: str = "dr"
    covariates: tuple[str, ...] = ()
    design_columns: tuple[str, ...] = ()
    n_units_input: int = 0
    n_rows_dropped_missing: int = 0
    n_units_dropped_early: int = 0
    n_units_dropped_unbalanced: int = 0


@dataclass(frozen=True)
class _Prepared:
    """Long frame for moderndid plus what we need to label its output."""

    frame: pd.DataFrame  # columns _ID, _T, _G, _Y, x0..xk; complete rows, not yet balanced
    design_columns: tuple[str, ...]
    unit_cohort: np.ndarray  # cohort per kept unit in moderndid order, inf = never treated
    unit_ids: np.ndarray  # original ids, same order
    periods: np.ndarray  # periods moderndid estimates on (after the last-cohort window)
    n_units_input: int
    n_rows_dropped_missing: int
    n_units_dropped_early: int
    n_units_dropped_unbalanced: int


def _check_options(est_method: str, control_group: str, base_period: str, anticipation: int) -> int:
    if est_method not in _EST_METHODS:
        raise ValueError(f"est_method must be one of {_EST_METHODS}, got {est_method!r}")
    if control_group not in _CONTROL_GROUPS:
        raise ValueError(f"control_group must be one of {_CONTROL_GROUPS}, got {control_group!r}")
    if base_period not in _BASE_PERIODS:
        raise ValueError(f"base_period must be one of {_BASE_PERIODS}, got {base_period!r}")
    if isinstance(anticipation, bool) or int(anticipation) != anticipation or anticipation < 0:
        raise ValueError(f"anticipation must be a non-negative integer, got {anticipation!r}")
    return int(anticipation)


def _check_columns(
    panel: pd.DataFrame, unit: str, time: str, cohort: str, outcome: str, covariates: list[str]
) -> list[str]:
    if not isinstance(panel, pd.DataFrame):
        raise ValueError(f"panel must be a pandas DataFrame, got {type(panel).__name__}")
    if isinstance(covariates, str) or not all(isinstance(c, str) for c in covariates):
        raise ValueError(f"covariates must be a list of column names, got {covariates!r}")
    covs = list(covariates)
    if len(set(covs)) != len(covs):
        raise ValueError(f"covariates has duplicate names: {covs!r}")
    design = {unit, time, cohort, outcome}
    clash = [c for c in covs if c in design]
    if clash:
        raise ValueError(
            f"covariate(s) {', '.join(map(repr, clash))} are the unit, time, cohort or "
            "outcome column; covariates must be other firm characteristics"
        )
    missing = [c for c in (unit, time, cohort, outcome) if c not in panel.columns]
    if missing:
        raise ValueError(f"panel is missing required column(s): {', '.join(map(repr, missing))}")
    missing_cov = [c for c in covs if c not in panel.columns]
    if missing_cov:
        raise ValueError(
            f"panel is missing covariate column(s): {', '.join(map(repr, missing_cov))}"
        )
    return covs


def _integral(values: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        raise ValueError(f"column {name!r} must hold integer periods")
    return values.astype(np.int64)


def _numeric(panel: pd.DataFrame, name: str) -> np.ndarray:
    try:
        return pd.to_numeric(panel[name]).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {name!r} must be numeric") from exc


def _encode_covariates(raw: pd.DataFrame, covs: list[str], sample: np.ndarray) -> pd.DataFrame:
    """Numeric regressors (no intercept), one named column each; levels from ``sample`` rows.

    ``sample`` marks the rows moderndid will estimate on: factor levels and the
    constant-column check are based on them so no all-zero/constant regressor is passed.
    """
    parts: list[pd.DataFrame] = []
    for c in covs:
        col = raw[c]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            part = col.astype(float).to_frame(c)
        else:
            # Factor (e.g. sector): k-1 dummies, the first sorted level is the reference.
            text = col.astype(str)
            levels = sorted(text[sample].unique())
            part = pd.DataFrame(
                {f"{c}[{lvl}]": (text == lvl).astype(float) for lvl in levels[1:]},
                index=raw.index,
            )
        if part.shape[1] == 0 or (part[sample].nunique() <= 1).any():
            raise ValueError(
                f"covariate {c!r} is constant in the estimation sample; it carries no "
                "information (and is collinear with the intercept)"
            )
        parts.append(part)
    if not parts:
        return pd.DataFrame(index=raw.index)
    return pd.concat(parts, axis=1)


def _prepare(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covs: list[str],
    control_group: str,
    anticipation: int,
) -> _Prepared:
    """Validate and reproduce did's preprocessing so drops can be counted and labelled."""
    if panel[unit].isna().any():
        raise ValueError(f"column {unit!r} has missing unit ids")
    if panel[time].isna().any():
        raise ValueError(f"column {time!r} has missing periods")
    t_all = _integral(_numeric(panel, time), time)
    g_all = _numeric(panel, cohort)
    g_all = np.where(np.isnan(g_all), 0.0, g_all)  # missing cohort = never treated
    _integral(g_all, cohort)
    y_all = _numeric(panel, outcome)
    codes_all, uniq_ids = pd.factorize(panel[unit], sort=True)  # codes keep the id order
    n_units_input = len(uniq_ids)

    by_unit = pd.DataFrame({"u": codes_all, "g": g_all}).groupby("u")["g"]
    if (by_unit.min() != by_unit.max()).any():
        raise ValueError(f"column {cohort!r} must be constant within each {unit!r}")

    raw = panel[covs].reset_index(drop=True)
    for c in covs:
        col = raw[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            raw[c] = pd.to_numeric(col).astype(float)
    missing_row = np.isnan(y_all) | raw.isna().any(axis=1).to_numpy()
    n_rows_dropped_missing = int(missing_row.sum())
    if n_rows_dropped_missing:
        warnings.warn(
            f"dropped {n_rows_dropped_missing} rows with a missing {outcome!r} or covariate",
            stacklevel=3,
        )
    keep = ~missing_row
    if not keep.any():
        raise ValueError("no rows left after dropping missing outcomes/covariates")
    t, g, y, codes = t_all[keep], g_all[keep], y_all[keep], codes_all[keep]
    g_keep = g.copy()  # as given (0 = never treated), for moderndid
    raw = raw.loc[keep].reset_index(drop=True)

    # Time-invariant covariates (did conditions on baseline characteristics; see module doc).
    for c in covs:
        varying = raw[c].groupby(codes).nunique(dropna=True) > 1
        if varying.any():
            example = uniq_ids[int(varying.index[varying.to_numpy()][0])]
            raise ValueError(
                f"covariate {c!r} varies over time within {int(varying.sum())} unit(s) "
                f"(e.g. {unit}={example!r}); pass a time-invariant baseline value "
                "(e.g. the value in the year before entry)"
            )

    stacked = pd.DataFrame({"u": codes, "t": t})
    if stacked.duplicated().any():
        raise ValueError(f"duplicate ({unit!r}, {time!r}) rows")

    # did: cohorts after the last period are never treated (inf); units treated by the
    # first period (+ anticipation) have no untreated baseline and are dropped.
    g = np.where((g == 0) | (g > t.max()), np.inf, g)
    early = g <= t.min() + anticipation
    n_units_dropped_early = len(np.unique(codes[early]))
    if n_units_dropped_early:
        warnings.warn(
            f"dropped {n_units_dropped_early} units already treated in the first period",
            stacklevel=3,
        )
    if not np.isfinite(g[~early]).any():
        raise ValueError("no treated cohorts left (all units are never treated or treated early)")

    window = ~early
    if not np.isinf(g[~early]).any():
        if control_group == "nevertreated":
            raise ValueError(
                "no never-treated units (cohort 0/NaN) in the panel; "
                "use control_group='notyettreated' to compare with later-treated cohorts"
            )
        # As did: once the last cohort is treated nobody is left to compare against.
        window &= t < g[~early].max() - anticipation
        if not window.any():
            raise ValueError("no periods left before the last cohort is treated")

    # did balances the panel: a unit must have a complete row in every remaining period.
    periods = np.unique(t[window])
    obs_per_unit = np.bincount(codes[window], minlength=n_units_input)
    complete = obs_per_unit == len(periods)
    # Everything dropped that was not treated early: units missing (a complete row in)
    # some period, including units whose rows all had missing data.
    n_units_dropped_unbalanced = n_units_input - n_units_dropped_early - int(complete.sum())
    if n_units_dropped_unbalanced:
        warnings.warn(
            f"dropped {n_units_dropped_unbalanced} units not observed (with complete data) "
            "in every period, to balance the panel as did does",
            stacklevel=3,
        )
    if not complete.any():
        raise ValueError("no unit is observed in every period; cannot balance the panel")

    unit_g = np.full(n_units_input, np.nan)
    unit_g[codes] = g
    kept_units = np.flatnonzero(complete)
    # moderndid sorts by (time, cohort, id): influence rows follow (cohort, id code).
    order = kept_units[np.lexsort((kept_units, unit_g[kept_units]))]

    sample = window & complete[codes]
    x = _encode_covariates(raw, covs, sample)
    design_columns = tuple(str(c) for c in x.columns)
    # moderndid gets every complete row (original cohort coding) and re-runs did's
    # recoding, early-unit filter, last-cohort window and balancing itself; we mirrored
    # those steps above only to count the drops and to label its output.
    frame = pd.DataFrame({_ID: codes.astype(np.int64), _T: t, _G: g_keep, _Y: y})
    for j, c in enumerate(design_columns):
        frame[f"x{j}"] = x[c].to_numpy(dtype=float)
    return _Prepared(
        frame=frame,
        design_columns=design_columns,
        unit_cohort=unit_g[order],
        unit_ids=np.asarray(uniq_ids)[order],
        periods=periods,
        n_units_input=n_units_input,
        n_rows_dropped_missing=n_rows_dropped_missing,
        n_units_dropped_early=n_units_dropped_early,
        n_units_dropped_unbalanced=n_units_dropped_unbalanced,
    )


def _base_periods(
    groups: np.ndarray, times: np.ndarray, periods: np.ndarray, base_period: str, anticipation: int
) -> np.ndarray:
    """Base period b of each cell, as did: last pre-treatment period, or t-1 before entry."""
    out = np.empty(len(groups), dtype=np.int64)
    for i, (g, t) in enumerate(zip(groups, times, strict=True)):
        last_pre = periods[periods < g - anticipation].max()
        if base_period == "universal" or g <= t:
            out[i] = last_pre
        else:
            out[i] = periods[periods < t].max()
    return out


def _cell_counts(
    groups: np.ndarray,
    times: np.ndarray,
    bases: np.ndarray,
    unit_cohort: np.ndarray,
    control_group: str,
    anticipation: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Treated and comparison units per cell (did's control-group rule)."""
    never = np.isinf(unit_cohort)
    n1 = np.zeros(len(groups), dtype=np.int64)
    n0 = np.zeros(len(groups), dtype=np.int64)
    for i, (g, t, b) in enumerate(zip(groups, times, bases, strict=True)):
        if t == b:  # universal-base reference cell: no comparison made (as evaluation.did)
            continue
        treated = unit_cohort == g
        if control_group == "nevertreated":
            control = never
        else:
            control = never | ((unit_cohort > max(t, b) + anticipation) & ~treated)
        n1[i], n0[i] = int(treated.sum()), int(control.sum())
    return n1, n0


def att_gt_covariates(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: list[str],
    est_method: str = "dr",
    control_group: str = "nevertreated",
    base_period: str = "varying",
    anticipation: int = 0,
) -> CovariateGroupTimeATT:
    """Covariate-adjusted Callaway & Sant'Anna ATT(g, t) via ``moderndid.att_gt``.

    Args:
        panel: long firm panel, one row per (unit, time).
        unit, time, cohort, outcome: column names. ``cohort`` is the first treatment
            period (0 or NaN = never treated); unit ids may be strings.
        covariates: time-invariant firm characteristics X for conditional parallel
            trends (numeric, boolean or categorical; categoricals are dummy-coded). An
            empty list gives the unconditional estimator (equal to
            :func:`evaluation.did.att_gt` on a balanced panel).
        est_method: "dr" (doubly robust, default), "reg" (outcome regression) or "ipw"
            (normalised inverse probability weighting).
        control_group: "nevertreated" or "notyettreated".
        base_period: "varying" or "universal" (the reference cell is reported as 0).
        anticipation: periods before treatment in which effects may appear.

    Returns:
        CovariateGroupTimeATT (a GroupTimeATT): ``cells`` with group, time, event_time,
        att, se, n_treated, n_control, base_period in moderndid's order (by cohort, then
        time); ``influence`` = moderndid's n_units x n_cells influence functions, so
        :func:`evaluation.did.aggregate` equals ``moderndid.aggte``; plus counts of the
        rows/units dropped (missing data, early treated, balancing).

    Raises:
        ValueError: bad options, missing columns (naming them), a covariate that varies
            within a unit (naming it), non-integer periods, duplicate (unit, time) rows, a
            time-varying cohort, no treated cohort, no never-treated units with
            ``control_group="nevertreated"``, or nothing left after balancing.
    """
    anticipation = _check_options(est_method, control_group, base_period, anticipation)
    covs = _check_columns(panel, unit, time, cohort, outcome, covariates)
    prep = _prepare(
        panel,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covs=covs,
        control_group=control_group,
        anticipation=anticipation,
    )

    import moderndid  # heavy import (polars, statsmodels); only needed on this path

    xformla = " + ".join(f"x{j}" for j in range(len(prep.design_columns))) or "1"
    with warnings.catch_warnings():
        for message in _OWN_DROP_MESSAGES:
            warnings.filterwarnings("ignore", message=message)
        res = moderndid.att_gt(
            prep.frame,
            yname=_Y,
            tname=_T,
            idname=_ID,
            gname=_G,
            xformla=f"~ {xformla}",
            est_method=est_method,
            control_group=control_group,
            base_period=base_period,
            anticipation=anticipation,
            boot=False,
            cband=False,
            panel=True,
            allow_unbalanced_panel=False,
        )

    # Our reconstruction of moderndid's unit order must match its own cohort column.
    md_cohort = np.asarray(res.G.to_numpy(), dtype=float) if res.G is not None else None
    if (
        md_cohort is None
        or int(res.n_units) != len(prep.unit_cohort)
        or not np.array_equal(md_cohort, prep.unit_cohort)
    ):
        raise RuntimeError("moderndid's unit order differs from the reconstructed one")

    groups = np.asarray(res.groups, dtype=float).astype(np.int64)
    times = np.asarray(res.times, dtype=float).astype(np.int64)
    bases = _base_periods(groups, times, prep.periods, base_period, anticipation)
    n1, n0 = _cell_counts(groups, times, bases, prep.unit_cohort, control_group, anticipation)
    cells = pd.DataFrame(
        {
            "group": groups,
            "time": times,
            "event_time": times - groups,
            "att": np.asarray(res.att_gt, dtype=float),
            "se": np.asarray(res.se_gt, dtype=float),
            "n_treated": n1,
            "n_control": n0,
            "base_period": bases,
        }
    )
    influence = np.asarray(res.influence_func, dtype=float).reshape(len(prep.unit_cohort), -1)
    unit_cohort = np.where(np.isinf(prep.unit_cohort), 0, prep.unit_cohort).astype(np.int64)
    return CovariateGroupTimeATT(
        cells=cells,
        influence=influence,
        unit_cohort=unit_cohort,
        n_units=int(res.n_units),
        control_group=control_group,
        unit_ids=prep.unit_ids,
        est_method=est_method,
        covariates=tuple(covs),
        design_columns=prep.design_columns,
        n_units_input=prep.n_units_input,
        n_rows_dropped_missing=prep.n_rows_dropped_missing,
        n_units_dropped_early=prep.n_units_dropped_early,
        n_units_dropped_unbalanced=prep.n_units_dropped_unbalanced,
    )
