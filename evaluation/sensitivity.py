"""How robust each program's effects are to violations of parallel trends (HonestDiD).

For every program x outcome whole-sample Callaway-Sant'Anna effect, the event study is
re-estimated with a universal base period (event time -1 is the reference of every
coefficient, as Rambachan & Roth (2023) require) over a fixed window, and
`evaluation.honest` gives, for the target theta = the average effect over the post-entry
years of the window:

* ``original``: the usual 95% CI under exact parallel trends;
* ``relative_magnitudes``: C-LF confidence sets under Delta^RM(Mbar), for a grid of Mbar
  (no post-entry year-to-year change of the trend exceeds Mbar times the largest
  pre-entry one);
* ``smoothness``: fixed-length CIs under Delta^SD(M), M (the change in the trend's slope
  per year, in the outcome's units) a grid of multiples of the pre-entry bound
  `honest.upper_bound_m_pre`;
* per method, the breakdown value: the largest bound of the grid at which the set still
  excludes 0.

Each unit (program x outcome) that cannot be computed is stored with a status and a reason
(`evaluation.reasons`), per method where only one method fails, and the others go on.

Run time: the C-LF simulation (1000 draws per location of the largest pre-entry change)
dominates, so the theta grid is coarse (200 points, R's default is 1000) and centred on
the estimate rather than on 0, the window is short (3 leads, 4 lags), and outcomes other
than the headline ones skip the grids when their effect is not significant anyway.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaluation import honest
from evaluation.engine import NUMPY, Engine, release
from evaluation.reasons import ESTIMATED, NotEstimated, Reason

if TYPE_CHECKING:
    from evaluation.spec import EvaluationSpec

# event times used: leads -4..-2 (-1 is the reference), lags 0..3 (the report's short and
# medium horizons); more lags make the ARP programme's vertex enumeration explode
WINDOW = (-4, 3)
MIN_LEADS = 2  # the smoothness bound needs two pre-entry changes of slope
MIN_LAGS_RM = 2  # evaluation.honest has no one-post-period Delta^RM test
MBAR_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
# smoothness M as multiples of the pre-entry bound on changes of slope: M has the
# outcome's units, so a fixed grid would mean different things for sales and jobs. The
# bound carries 1.645 standard errors: the sets lose 0 well below it, hence the fractions
M_MULTIPLES = (0.0, 0.125, 0.25, 0.5, 1.0)
THETA_GRID_POINTS = 200
ALPHA = 0.05
SEED = 0
TARGET = "average_post"

METHODS = ("original", "relative_magnitudes", "smoothness")

COLUMNS = [
    "program_id",
    "outcome",
    "unit",
    "estimator",
    "subgroup",
    "subgroup_value",
    "target",
    "method",
    "quantity",
    "m",
    "m_reference",
    "lower",
    "upper",
    "open_at_endpoint",
    "at_least",
    "estimate",
    "std_error",
    "num_pre",
    "num_post",
    "first_event_time",
    "last_event_time",
    "status",
    "reason",
    "reason_params",
    "note",
]


def target_weights(es: honest.EventStudy) -> np.ndarray:
    """l: equal weights on the post-entry coefficients (the average post-entry effect)."""
    return np.full(es.num_post, 1.0 / es.num_post)


def theta_grid(es: honest.EventStudy, mbar: float) -> tuple[float, float]:
    """The theta grid of the C-LF set at `mbar`: centred on the estimate (R centres it on
    0, which truncates sets of effects far from 0), +/- 20 sd plus room for the largest
    bias Delta^RM(mbar) allows with the pre-entry changes at their 3-sd upper bound."""
    lv = target_weights(es)
    post = slice(es.num_pre, None)
    est = float(lv @ es.betahat[post])
    sd = math.sqrt(float(lv @ es.sigma[post, post] @ lv))
    k = es.num_pre
    # first differences of the pre-entry path with the reference (0) at its end
    d = np.eye(k, k=1) - np.eye(k)
    diffs = d @ es.betahat[:k]
    se = np.sqrt(np.clip(np.diag(d @ es.sigma[:k, :k] @ d.T), 0.0, None))
    largest = float(np.max(np.abs(diffs) + 3 * se))
    # with the year-to-year change bounded by mbar * largest, lag t can drift (t + 1) times
    # it: the average over the lags by (num_post + 1) / 2 times; twice that for room
    half = 20 * sd + mbar * largest * (es.num_post + 1)
    return est - half, est + half


def _check(es: honest.EventStudy, outcome: str) -> None:
    if es.num_post < 1:
        raise NotEstimated("no_post_entry_effect", outcome=outcome)
    if es.num_pre < MIN_LEADS:
        raise NotEstimated("sensitivity_too_few_leads", leads=es.num_pre, min=MIN_LEADS)
    s = es.sigma
    if not np.all(np.isfinite(s)) or not np.all(np.isfinite(es.betahat)):
        raise NotEstimated("sensitivity_singular")
    eig = np.linalg.eigvalsh((s + s.T) / 2)
    if eig.min() <= 1e-12 * max(float(eig.max()), 0.0):
        raise NotEstimated("sensitivity_singular")


def _interval(method: str, m: float | None, lb: float, ub: float, **more: Any) -> dict[str, Any]:
    return {
        "method": method,
        "quantity": "interval",
        "m": m,
        "lower": lb,
        "upper": ub,
        "status": ESTIMATED,
        **more,
    }


def _reason_row(method: str, reason: Reason, quantity: str = "breakdown") -> dict[str, Any]:
    return {"method": method, "quantity": quantity, **reason.columns()}


def _breakdown_row(
    method: str,
    sets: dict[float, tuple[float, float]],
    grid: tuple[float, ...],
    significant: bool,
    **more: Any,
) -> dict[str, Any]:
    """The breakdown value of one method: the largest bound of the grid whose set excludes
    0 (`honest.breakdown_value` over the sets already computed), or why there is none."""
    if not significant:
        return _reason_row(method, Reason("sensitivity_not_significant"))

    def excludes(m: float) -> bool:
        lb, ub = sets[m]
        # an empty set (nan) excludes every value, as honest.breakdown_rm reads it
        return not (lb <= 0.0 <= ub) if math.isfinite(lb) else True

    value = honest.breakdown_value(excludes, grid)
    if math.isnan(value):
        return _reason_row(method, Reason("sensitivity_includes_zero", {"m": grid[0]}))
    lb, ub = sets[value]
    return {
        "method": method,
        "quantity": "breakdown",
        "m": value,
        "lower": lb,
        "upper": ub,
        "at_least": value == grid[-1],
        "status": ESTIMATED,
        **more,
    }


def sensitivity_rows(
    es: honest.EventStudy, outcome: str, *, always: bool = True
) -> list[dict[str, Any]]:
    """Every sensitivity row of one event study (see the module docstring): the original
    CI, the sets over the grids and one breakdown row per method. Raises `NotEstimated`
    when the event study cannot support any of it; a method it cannot support gets its
    breakdown row with the reason. With `always=False` an effect not significant under
    exact parallel trends gets its original CI only (it has no breakdown value, and the
    grids are most of the run time)."""
    _check(es, outcome)
    lv = target_weights(es)
    args = (es.betahat, es.sigma, es.num_pre, es.num_post)
    original = honest.original_ci(*args, l_vec=lv, alpha=ALPHA)
    post = slice(es.num_pre, None)
    common = {
        "estimate": float(lv @ es.betahat[post]),
        "std_error": math.sqrt(float(lv @ es.sigma[post, post] @ lv)),
        "num_pre": es.num_pre,
        "num_post": es.num_post,
        "first_event_time": int(es.event_times.min()),
        "last_event_time": int(es.event_times.max()),
    }
    significant = original.excludes(0.0)
    rows = [_interval("original", None, original.lb, original.ub)]
    if not (significant or always):
        rows += [
            _reason_row(method, Reason("sensitivity_not_significant")) for method in METHODS[1:]
        ]
        return [{**common, **row} if row["status"] == ESTIMATED else row for row in rows]

    if es.num_post < MIN_LAGS_RM:
        reason = Reason("sensitivity_too_few_lags", {"lags": es.num_post, "min": MIN_LAGS_RM})
        rows.append(_reason_row("relative_magnitudes", reason))
    else:
        rm: dict[float, tuple[float, float]] = {}
        for mbar in MBAR_GRID:
            lo, hi = theta_grid(es, mbar)
            ci = honest.conditional_cs_rm(
                *args,
                mbar=mbar,
                l_vec=lv,
                alpha=ALPHA,
                grid_points=THETA_GRID_POINTS,
                grid_lb=lo,
                grid_ub=hi,
                seed=SEED,
            )
            rm[mbar] = (ci.lb, ci.ub)
            rows.append(
                _interval(
                    "relative_magnitudes", mbar, ci.lb, ci.ub, open_at_endpoint=ci.open_at_endpoint
                )
            )
        rows.append(_breakdown_row("relative_magnitudes", rm, MBAR_GRID, significant))

    reference = honest.upper_bound_m_pre(es.betahat, es.sigma, es.num_pre, alpha=ALPHA)
    m_grid = tuple(k * reference for k in M_MULTIPLES)
    sd: dict[float, tuple[float, float]] = {}
    for m in m_grid:
        flci = honest.flci_sd(*args, m=m, l_vec=lv, alpha=ALPHA, seed=SEED)
        sd[m] = (flci.lb, flci.ub)
        rows.append(_interval("smoothness", m, flci.lb, flci.ub, m_reference=reference))
    rows.append(_breakdown_row("smoothness", sd, m_grid, significant, m_reference=reference))
    return [{**common, **row} if row["status"] == ESTIMATED else row for row in rows]


def _unit_failed(reason: Reason) -> list[dict[str, Any]]:
    """A unit not computed at all: its reason on the original CI and on each method's
    breakdown (what a page looks for), with no numbers."""
    return [
        _reason_row("original", reason, quantity="interval"),
        _reason_row("relative_magnitudes", reason),
        _reason_row("smoothness", reason),
    ]


def program_sensitivity(
    panel: pd.DataFrame, spec: EvaluationSpec, engine: Engine = NUMPY
) -> pd.DataFrame:
    """The sensitivity rows of every evaluated outcome of one program (whole sample,
    Callaway-Sant'Anna): the estimator of `spec` with a universal base period. The
    evaluation's own design check, estimator and guard are used, so a unit fails for the
    same reasons as its effect, and one unit's failure never stops the others. `panel`
    has the outcomes and baselines (`evaluation.impact.evaluate_program` adds them)."""
    # evaluation.impact imports this module: its helpers are imported when first used
    from evaluation.impact import _group_time, check_design, guarded

    universal = dataclasses.replace(spec, base_period="universal")
    rows: list[dict[str, Any]] = []
    for definition in spec.evaluated:
        labels = {"outcome": definition.name, "unit": definition.unit}

        def compute(name: str = definition.name, column: str = definition.column) -> list[Any]:
            check_design(panel, name, spec, column=column)
            gt = _group_time(panel, name, universal, engine)
            try:
                es = honest.event_study_with_covariance(gt, min_e=WINDOW[0], max_e=WINDOW[1])
            except ValueError as exc:
                if "no event time" in str(exc) or "all ATT" in str(exc):
                    raise NotEstimated("no_post_entry_effect", outcome=name) from exc
                raise
            finally:
                release(gt)
            # the grids of the charted (headline) outcomes even when not significant
            return sensitivity_rows(es, name, always=name in spec.headline)

        found = guarded(labels, compute)
        if len(found) == 1 and found[0].get("status") != ESTIMATED:
            reason = Reason(found[0]["reason"], json.loads(found[0]["reason_params"] or "{}"))
            found = _unit_failed(reason)
        rows += [{**row, **labels} for row in found]
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=[c for c in COLUMNS if c != "program_id"])
