"""Diagnostics for the DID estimates: pre-trend Wald tests and legacy TWFE comparisons.

* :func:`pretrend_test` - joint Wald test that the pre-entry event-time effects of a
  Callaway-Sant'Anna event study (``evaluation.did.aggregate(gt, "dynamic")``) are zero,
  with the covariance from the unit-level influence functions.
* :func:`pretrend_test_cells` - the same on the pre-treatment ATT(g,t) cells; this is the
  "P-value for pre-test of parallel trends assumption" that R ``did`` (and ``moderndid``)
  print under ``att_gt``.
* :func:`twfe_att` / :func:`twfe_event_study` - LEGACY two-way fixed effects estimates
  (``pyfixest.feols``), kept only as a comparison: under staggered entry with effects that
  vary across cohorts or with time since entry they are biased (Goodman-Bacon 2021; Sun
  and Abraham 2021), because already-treated firms serve as controls.

A passing pre-trend test is not proof of parallel trends: the test has low power against
smooth violations and conditioning on it distorts later inference (Roth 2022).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.did import AggregateATT, GroupTimeATT, has_covariance, table_covariance

__all__ = [
    "PretrendResult",
    "TwfeResult",
    "pretrend_test",
    "pretrend_test_cells",
    "small_sample_corrected",
    "supported_leads",
    "twfe_att",
    "twfe_event_study",
]


@dataclass(frozen=True)
class PretrendResult:
    """Joint Wald test that the pre-entry effects are zero.

    ``statistic`` W = theta' V^-1 theta with V = IF'IF / n^2, chi-square with ``dof``
    degrees of freedom (k, or rank(V) if V is singular, then ``singular`` is True and a
    pseudo-inverse was used). ``passes`` is ``pvalue >= level``, or None when there is
    nothing to test (no pre-entry estimate); then ``statistic``/``pvalue`` are NaN and
    ``note`` says why. ``estimates`` lists the tested effects (``key`` = event time, or
    ``group``/``time`` for cells) with their SEs sqrt(diag V); ``vcov`` is V.
    """

    statistic: float
    dof: int
    pvalue: float
    passes: bool | None
    level: float
    estimates: pd.DataFrame
    vcov: np.ndarray
    singular: bool
    note: str


def _wald(
    theta: np.ndarray, vcov: np.ndarray, level: float, labels: pd.DataFrame
) -> PretrendResult:
    k = len(theta)
    estimates = labels.assign(att=theta, se=np.sqrt(np.diag(vcov)))
    if k == 0 or not np.any(vcov):
        why = "no pre-entry estimates to test" if k == 0 else "pre-entry estimates have no variance"
        return PretrendResult(
            math.nan, 0, math.nan, None, level, estimates, vcov, False, f"not tested: {why}"
        )
    rank = int(np.linalg.matrix_rank(vcov))
    singular = rank < k
    if singular:
        # e.g. a varying base with few units: some pre effects are linear combinations.
        stat = float(theta @ np.linalg.pinv(vcov, hermitian=True) @ theta)
        note = (
            f"covariance of the {k} pre-entry estimates is singular (rank {rank}); "
            f"used a pseudo-inverse and {rank} degrees of freedom"
        )
    else:
        stat = float(theta @ np.linalg.solve(vcov, theta))
        note = ""
    pvalue = float(stats.chi2.sf(stat, rank))
    return PretrendResult(
        stat, rank, pvalue, bool(pvalue >= level), level, estimates, vcov, singular, note
    )


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def pretrend_test(
    agg: AggregateATT, n_units: int, *, min_e: float | None = None, level: float = 0.05
) -> PretrendResult:
    """Wald test that all pre-entry event-time effects are jointly zero.

    Args:
        agg: a ``kind="dynamic"`` aggregation from :func:`evaluation.did.aggregate`
            (it carries the unit-level influence function of every event time) or from
            ``evaluation.did_duckdb.aggregate_sql(..., vcov=True)`` (their covariance).
        n_units: number of units of the underlying ``GroupTimeATT`` (``gt.n_units``).
        min_e: only test event times e >= min_e (e.g. to skip thinly supported leads).
        level: significance level; ``passes`` is True when the p-value is >= level.

    Returns:
        PretrendResult on the event times e < 0 (and >= ``min_e``). Event times whose
        effect or SE is undefined are left out: with ``base_period="universal"`` the
        reference period e = -1-anticipation is 0 by construction with a zero influence
        function, so it carries no information.

    Raises:
        ValueError: ``agg`` is not a dynamic aggregation, ``n_units`` is not positive,
            or ``level`` is outside (0, 1).
    """
    if agg.kind != "dynamic":
        raise ValueError(f"pretrend_test needs a 'dynamic' aggregation, got {agg.kind!r}")
    if n_units <= 0:
        raise ValueError(f"n_units must be positive, got {n_units!r}")
    _check_level(level)
    keys = agg.table["key"].to_numpy()
    att = agg.table["att"].to_numpy(dtype=float)
    se = agg.table["se"].to_numpy(dtype=float)
    mask = (keys < 0) & ~np.isnan(att) & ~np.isnan(se)
    if min_e is not None:
        mask &= keys >= min_e
    labels = pd.DataFrame({"key": keys[mask]})
    if not has_covariance(agg):
        # aggregate() returns no influence functions when there is no post-entry period.
        return _wald(np.array([]), np.zeros((0, 0)), level, labels.iloc[:0])
    return _wald(att[mask], table_covariance(agg, n_units, mask), level, labels)


class _WithCells(Protocol):
    @property
    def cells(self) -> pd.DataFrame: ...


def supported_leads(gt: _WithCells, min_firms: int) -> float:
    """`min_e` for :func:`pretrend_test`: the earliest pre-entry event time e such that
    every event time from e to -1 rests on at least `min_firms` beneficiaries (summed over
    the cohorts observed then). Long leads rest on the few earliest-observed cohorts, and
    with a handful of firms behind them the influence-function covariance understates
    their variance: with 9 beneficiaries per cohort the all-leads test rejected 23.5% of
    panels where parallel trends hold, 10% with this rule at 50 firms
    (benchmarks/pretrend_size.py). Returns 0 (nothing to test) when even e = -1 is thinner.
    """
    cells = gt.cells[gt.cells["event_time"] < 0]
    support = cells.groupby("event_time")["n_treated"].sum()
    e = -1
    while e in support.index and support[e] >= min_firms:
        e -= 1
    return float(e + 1)


def small_sample_corrected(gt: GroupTimeATT) -> GroupTimeATT:
    """`gt` with each cell's influence functions scaled by sqrt(n / (n - 1)), separately
    for its beneficiaries and its comparison firms: the analytic variance of a difference
    of means divides by n, the unbiased one by n - 1. The ATT(g,t) are unchanged (and equal
    R did's); the pre-entry test and the intervals of the ROI totals use this, the
    effects' own standard errors stay R did's. With ~10 beneficiaries per cohort the
    uncorrected Wald test on the leads rejected 8.1% (log sales) and 7.7% (log employment)
    of true-null panels at 5%; corrected, 5.1% and 5.3% (1,000 seeded demo draws,
    benchmarks/pretrend_size_raw.py)."""
    cells = gt.cells
    n_cells = len(cells)
    # per cell, the factor of its beneficiaries' rows and of every other row (1: none)
    own, other = np.ones(n_cells), np.ones(n_cells)
    for j, (n1, n0) in enumerate(zip(cells["n_treated"], cells["n_control"], strict=True)):
        if n1 > 1:
            own[j] = math.sqrt(n1 / (n1 - 1))
        if n0 > 1:
            other[j] = math.sqrt(n0 / (n0 - 1))
    groups = cells["group"].to_numpy()
    influence = np.empty(gt.influence.shape)  # C order, as the copy it replaces
    # by blocks of rows: the factor matrix of a national register's panel stays small
    step = max(1, 2**22 // max(n_cells, 1))
    for start in range(0, len(influence), step):
        rows = slice(start, start + step)
        treated = gt.unit_cohort[rows, None] == groups[None, :]
        np.multiply(gt.influence[rows], np.where(treated, own, other), out=influence[rows])
    return replace(gt, influence=influence)


def pretrend_test_cells(gt: GroupTimeATT, *, level: float = 0.05) -> PretrendResult:
    """Wald pre-test on the pre-treatment ATT(g,t) cells (t < g), as R ``did`` reports.

    Same statistic as ``did::att_gt``'s "P-value for pre-test of parallel trends
    assumption" (moderndid's ``wald_stat``/``wald_pvalue``): cells with an undefined
    effect or SE (the universal-base reference cell) are left out. Unlike did, a singular
    covariance is handled with a pseudo-inverse rather than by returning nothing.

    Raises:
        ValueError: ``level`` is outside (0, 1).
    """
    _check_level(level)
    cells = gt.cells
    att = cells["att"].to_numpy(dtype=float)
    mask = (
        (cells["group"] > cells["time"]).to_numpy()
        & ~np.isnan(att)
        & cells["se"].notna().to_numpy()
    )
    labels = cells.loc[mask, ["group", "time"]].reset_index(drop=True)
    influence = gt.influence[:, mask]
    return _wald(att[mask], influence.T @ influence / gt.n_units**2, level, labels)


# ----------------------------------------------------------------------------- TWFE


@dataclass(frozen=True)
class TwfeResult:
    """A legacy two-way fixed effects estimate (unit and period fixed effects).

    ``kind`` is "static" (one coefficient on the post-entry indicator: ``att``, ``se``,
    ``ci_low``, ``ci_high``) or "event_study" (``att`` etc. NaN; see ``table``).
    ``table`` has columns term, event_time (NaN for static), estimate, se, ci_low,
    ci_high, pvalue; SEs are clustered by unit (CRV1 with fixest's small-sample
    correction) and intervals use t with G-1 degrees of freedom. ``dropped`` lists
    event-time terms pyfixest removed as collinear.
    """

    kind: str
    att: float
    se: float
    ci_low: float
    ci_high: float
    table: pd.DataFrame
    n_obs: int
    n_units: int
    reference: int | None
    dropped: tuple[str, ...]


def _twfe_frame(
    panel: pd.DataFrame, unit: str, time: str, cohort: str, outcome: str
) -> pd.DataFrame:
    missing = [c for c in (unit, time, cohort, outcome) if c not in panel.columns]
    if missing:
        raise ValueError(f"panel is missing required column(s): {', '.join(map(repr, missing))}")
    t = pd.to_numeric(panel[time], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(t).all() or not np.all(t == np.round(t)):
        raise ValueError(f"column {time!r} must hold integer periods")
    g = pd.to_numeric(panel[cohort], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    g = np.nan_to_num(g, nan=0.0)
    g = np.where(g > t.max(), 0.0, g)  # entry after the panel ends = never treated (as did)
    frame = pd.DataFrame(
        {
            "y_": pd.to_numeric(panel[outcome], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            ),
            "u_": pd.factorize(panel[unit])[0],
            "t_": t.astype(np.int64),
            "g_": g.astype(np.int64),
        }
    )
    frame = frame[frame["y_"].notna()].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"column {outcome!r} has no non-missing values")
    if not (frame["g_"] > 0).any():
        raise ValueError("no treated units (all cohorts are 0/NaN or after the last period)")
    return frame


def _feols(formula: str, frame: pd.DataFrame) -> Any:
    import pyfixest as pf  # heavy import (~5 s): only when a TWFE is requested

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # collinearity notices are reported via `dropped`
        # the frame is ours and read once: neither copied nor kept in the fit (about 40%
        # of the call on a million rows; the same estimates and SEs)
        return pf.feols(formula, data=frame, vcov={"CRV1": "u_"}, copy_data=False, store_data=False)


def _tidy(fit: Any, terms: list[str], event: list[float]) -> pd.DataFrame:
    tidy = fit.tidy()
    kept = [i for i, name in enumerate(terms) if name in tidy.index]
    rows = tidy.loc[[terms[i] for i in kept]]
    return pd.DataFrame(
        {
            "term": [terms[i] for i in kept],
            "event_time": np.array([event[i] for i in kept], dtype=float),
            "estimate": rows["Estimate"].to_numpy(dtype=float),
            "se": rows["Std. Error"].to_numpy(dtype=float),
            "ci_low": rows["2.5%"].to_numpy(dtype=float),
            "ci_high": rows["97.5%"].to_numpy(dtype=float),
            "pvalue": rows["Pr(>|t|)"].to_numpy(dtype=float),
        }
    )


def twfe_att(panel: pd.DataFrame, *, unit: str, time: str, cohort: str, outcome: str) -> TwfeResult:
    """LEGACY static TWFE: ``y ~ post | unit + time``, SEs clustered by unit.

    Biased under staggered entry when effects differ across cohorts or grow with time
    since entry (Goodman-Bacon 2021: it averages all 2x2 DIDs, including "forbidden"
    comparisons that use already-treated units as controls, with weights that can be
    negative). Reported only to compare with the Callaway-Sant'Anna estimates of
    :mod:`evaluation.did`, which are the estimates of record.

    Args:
        panel: long panel, one row per (unit, time); rows with a missing outcome dropped.
        unit, time, cohort, outcome: column names; ``cohort`` is the entry period
            (0/NaN, or later than the last period = never treated).

    Returns:
        TwfeResult of kind "static".

    Raises:
        ValueError: missing columns, non-integer periods or no treated unit.
    """
    frame = _twfe_frame(panel, unit, time, cohort, outcome)
    frame["post_"] = ((frame["g_"] > 0) & (frame["t_"] >= frame["g_"])).astype(float)
    fit = _feols("y_ ~ post_ | u_ + t_", frame)
    table = _tidy(fit, ["post_"], [math.nan])
    if table.empty:
        raise ValueError("the post-entry indicator is collinear with the fixed effects")
    row = table.iloc[0]
    return TwfeResult(
        kind="static",
        att=float(row["estimate"]),
        se=float(row["se"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        table=table.assign(term="post"),
        n_obs=int(fit._N),
        n_units=int(frame["u_"].nunique()),
        reference=None,
        dropped=(),
    )


def twfe_event_study(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    reference: int = -1,
    min_e: int | None = None,
    max_e: int | None = None,
) -> TwfeResult:
    """LEGACY TWFE event study: ``y ~ sum_e 1{t - g = e} | unit + time``, unit-clustered.

    One dummy per event time of treated units except ``reference``; never-treated units
    have none. With heterogeneous effects across cohorts each coefficient is contaminated
    by effects at other event times (Sun and Abraham 2021), so this is a comparison only,
    not an estimate of record (use :func:`evaluation.did.aggregate` with ``"dynamic"``).

    Args:
        panel, unit, time, cohort, outcome: as in :func:`twfe_att`.
        reference: omitted event time (default -1, the year before entry).
        min_e, max_e: bin the endpoints: event times below ``min_e`` (above ``max_e``)
            share the ``min_e`` (``max_e``) dummy. Without never-treated units the fully
            dynamic model is not identified; pyfixest then drops a collinear dummy, which
            is listed in ``dropped``.

    Returns:
        TwfeResult of kind "event_study" with one table row per estimated event time.

    Raises:
        ValueError: missing columns, non-integer periods, no treated unit, or a
            ``reference`` outside the binned event-time range.
    """
    frame = _twfe_frame(panel, unit, time, cohort, outcome)
    treated = (frame["g_"] > 0).to_numpy()
    e = (frame["t_"] - frame["g_"]).to_numpy().astype(float)
    lo = -math.inf if min_e is None else min_e
    hi = math.inf if max_e is None else max_e
    e = np.clip(e, lo, hi)
    support = np.unique(e[treated]).astype(np.int64)
    if reference not in support:
        raise ValueError(
            f"reference event time {reference} is not among the treated units' event "
            f"times ({support.min()}..{support.max()} after binning)"
        )
    terms, events = [], []
    for val in support:
        if val == reference:
            continue
        name = f"e_m{-val}" if val < 0 else f"e_{val}"
        frame[name] = (treated & (e == val)).astype(float)
        terms.append(name)
        events.append(float(val))
    fit = _feols(f"y_ ~ {' + '.join(terms)} | u_ + t_", frame)
    table = _tidy(fit, terms, events)
    dropped = tuple(t for t in terms if t not in set(table["term"]))
    return TwfeResult(
        kind="event_study",
        att=math.nan,
        se=math.nan,
        ci_low=math.nan,
        ci_high=math.nan,
        table=table,
        n_obs=int(fit._N),
        n_units=int(frame["u_"].nunique()),
        reference=int(reference),
        dropped=dropped,
    )
