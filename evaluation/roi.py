"""Return on public money and cost per job, from estimated (counterfactual) effects.

Two scales, each with its own parallel-trends assumption (evaluation.impact picks the one
whose pre-entry test passes). On the log scale, the totals apply the effects on log
outcomes to the beneficiaries' observed levels (`incremental_total_log`,
`jobs_in_last_year_log`; standard errors by the delta method). On the level scale, the
totals are linear combinations of group-time effects in levels, so their standard
errors follow from the same influence functions as the effects themselves (their Gram
matrix on the DuckDB engine, `evaluation.engine.combination_se`):

* incremental value added (or sales) = sum over post-entry cells (g, t) of
  ATT(g, t) x the cohort-g beneficiaries observed in both t and the base year: the
  program's effect summed over the beneficiaries and years it can be measured for;
* jobs created or retained = sum over cohorts of ATT(g, T) x the cohort-g beneficiaries
  observed in T, the last year of the panel: the jobs that exist then because of the
  program.

Public cost (constant USD) is an accounting fact, not an estimate, so a ratio's interval
is its numerator's interval divided by it. Cost per job inverts the jobs interval; when
that interval includes zero the upper end is unbounded (reported as infinity).

Displacement (share of beneficiaries' gains taken from other domestic firms) scales
every figure. Deadweight (what would have happened without the program) is already
netted out of a counterfactual estimate, so it applies to self-reported figures only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # the reports import this module for its names: not the estimators
    from evaluation.engine import GroupTime

Z_95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class Total:
    """An estimated total (USD or jobs) with its standard error and 95% interval."""

    estimate: float
    std_error: float
    beneficiaries: int  # beneficiaries whose effects the total sums

    @property
    def ci(self) -> tuple[float, float]:
        return (self.estimate - Z_95 * self.std_error, self.estimate + Z_95 * self.std_error)


@dataclass(frozen=True)
class Ratio:
    """A ratio with its 95% interval (return per dollar, or cost per job)."""

    metric: str
    basis: str  # counterfactual | self_reported
    estimate: float
    ci_low: float
    ci_high: float
    numerator: float
    public_cost_usd: float


def _total(gt: GroupTime, mask: np.ndarray) -> Total:
    cells = gt.cells
    keep = mask & cells["att"].notna().to_numpy()
    weights = cells.loc[keep, "n_treated"].to_numpy(dtype=float)
    estimate = float(cells.loc[keep, "att"].to_numpy() @ weights)
    from evaluation.engine import combination_se

    std_error = combination_se(gt, keep, weights)
    cohorts = set(cells.loc[keep, "group"])
    beneficiaries = int(np.isin(gt.unit_cohort, list(cohorts)).sum())
    return Total(estimate, std_error, beneficiaries)


def incremental_total(gt: GroupTime) -> Total:
    """Program effect on a level outcome (USD) summed over beneficiaries and post-entry years."""
    cells = gt.cells
    return _total(gt, (cells["time"] >= cells["group"]).to_numpy())


def jobs_in_last_year(gt: GroupTime) -> Total:
    """Jobs created or retained: the employment effect in the panel's last year, summed."""
    cells = gt.cells
    last = cells["time"].max()
    return _total(gt, ((cells["time"] == last) & (cells["time"] >= cells["group"])).to_numpy())


def _log_total(gt: GroupTime, levels: pd.DataFrame, mask: np.ndarray) -> Total:
    """Sum over the cells in `mask` of S_gt (1 - e^-ATT(g,t)), with S_gt the observed
    level summed over cohort g's beneficiaries in year t; SE by the delta method."""
    cells = gt.cells
    observed = levels.groupby(["cohort", "year"])["level"].sum()
    keys = pd.MultiIndex.from_arrays([cells["group"], cells["time"]])
    s = observed.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    theta = cells["att"].to_numpy(dtype=float)
    keep = mask & np.isfinite(theta)
    estimate = float(np.sum(s[keep] * -np.expm1(-theta[keep])))
    # d/dθ S (1 - e^-θ) = S e^-θ: the total's influence function is that combination of the
    # cells' influence functions (the observed levels are the beneficiaries' own: fixed)
    gradient = s[keep] * np.exp(-theta[keep])
    from evaluation.engine import combination_se

    std_error = combination_se(gt, keep, gradient)
    cohorts = set(cells.loc[keep, "group"])
    beneficiaries = int(np.isin(gt.unit_cohort, list(cohorts)).sum())
    return Total(estimate, std_error, beneficiaries)


def incremental_total_log(gt: GroupTime, levels: pd.DataFrame) -> Total:
    """Program effect summed over beneficiaries and post-entry years, from effects on the
    log scale: sum over post-entry cells (g, t) of Y_gt (1 - e^(-ATT(g,t))), where ATT(g,t)
    is the effect on ln Y and Y_gt the observed level of cohort g's beneficiaries in year t
    (the part of what they produced that they would not have produced without the
    program). `levels`: one row per beneficiary and year observed, columns cohort, year,
    level. Parallel trends in logs (growth rates) is the usual assumption for firms of
    different sizes; in levels, larger beneficiaries drift apart even without a program."""
    cells = gt.cells
    return _log_total(gt, levels, (cells["time"] >= cells["group"]).to_numpy())


def jobs_in_last_year_log(gt: GroupTime, levels: pd.DataFrame) -> Total:
    """Jobs created or retained in the panel's last year, from the effects on log
    employment applied to the beneficiaries' employment that year."""
    cells = gt.cells
    last = cells["time"].max()
    mask = ((cells["time"] == last) & (cells["time"] >= cells["group"])).to_numpy()
    return _log_total(gt, levels, mask)


SCALES = ("log", "level")
# the log scale's pre-entry p-value below which the level figure replaces it (choose_scale)
SWITCH_LEVEL = 0.01
# why the figure shown is on its scale (results.roi.scale_choice); the reports translate them
SCALE_CHOICES: dict[str, str] = {
    "log_passes": "the pre-entry test on the log scale passes (parallel trends in growth rates)",
    "level_passes": (
        "the pre-entry test on the log scale fails clearly (p < 0.01) and the one on the "
        "level scale passes"
    ),
    "log_fails_narrowly": (
        "the pre-entry test on the log scale fails, but narrowly (p >= 0.01, which one test in "
        "twenty does by chance): the log scale is kept; read the figure with caution"
    ),
    "log_not_tested": (
        "the pre-entry test could not be run on the log scale (the level one passes): the "
        "log scale, the design of record, by default"
    ),
    "neither_passes": "neither scale's pre-entry test passes: read the figure with caution",
    "not_tested": (
        "no pre-entry test passes and at least one could not be run: the log scale, by default"
    ),
    "only_log": "only the log-scale figure could be estimated",
    "only_level": "only the level-scale figure could be estimated",
}


def choose_scale(log_row: dict[str, object], level_row: dict[str, object]) -> tuple[str, str]:
    """Which scale's figure to show, and why (a code of `SCALE_CHOICES`).

    The log scale is the design of record (firms of different sizes grow at comparable
    rates; in levels, larger beneficiaries drift apart from smaller comparison firms even
    without a program), so it is shown unless its pre-entry test fails clearly (p below
    `SWITCH_LEVEL`) where the level scale's passes. A narrow failure keeps the log figure,
    with a warning: a 5% test fails one time in twenty by chance, and at the demo's scale
    each such switch put a level figure biased by about twice its standard error in its
    place (shown figures covered the truth 89-95% with the plain rule;
    benchmarks/README.md, roi_coverage). When neither passes, the log figure is shown with
    that warning."""
    # a figure exists when its numerator (the estimated total) does, even if the ratio
    # itself has no value (no jobs created: no cost per job)
    estimated = {
        scale: _finite(row.get("numerator"))
        for scale, row in (("log", log_row), ("level", level_row))
    }
    if not estimated["level"]:
        return "log", "only_log"
    if not estimated["log"]:
        return "level", "only_level"
    log_passes, level_passes = log_row.get("pretrend_passes"), level_row.get("pretrend_passes")
    if log_passes is True:
        return "log", "log_passes"
    if level_passes is True and log_passes is None:
        return "log", "log_not_tested"
    if level_passes is True:
        p = log_row.get("pretrend_pvalue")
        clearly = log_passes is False and _finite(p) and float(p) < SWITCH_LEVEL  # type: ignore[arg-type]
        return ("level", "level_passes") if clearly else ("log", "log_fails_narrowly")
    if log_passes is False and level_passes is False:
        return "log", "neither_passes"
    return "log", "not_tested"


def mark_shown(pair: list[dict[str, object]]) -> list[dict[str, object]]:
    """The log- and level-scale rows of one figure, with `shown` on the chosen one and the
    reason for the choice on both. When neither is estimated, the log row is shown with
    its reason."""
    log_row, level_row = pair
    if not _finite(log_row.get("numerator")) and not _finite(level_row.get("numerator")):
        return [{**log_row, "shown": True}, {**level_row, "shown": False}]
    scale, why = choose_scale(log_row, level_row)
    return [{**row, "shown": row["scale"] == scale, "scale_choice": why} for row in pair]


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def return_per_dollar(
    total: Total, public_cost_usd: float, *, metric: str, displacement: float = 0.0
) -> Ratio:
    """Incremental value added (or sales) per dollar of public cost, with its interval."""
    _check_share("displacement", displacement)
    net = 1.0 - displacement
    low, high = total.ci
    return Ratio(
        metric=metric,
        basis="counterfactual",
        estimate=net * total.estimate / public_cost_usd,
        ci_low=net * low / public_cost_usd,
        ci_high=net * high / public_cost_usd,
        numerator=net * total.estimate,
        public_cost_usd=public_cost_usd,
    )


def cost_per_job(jobs: Total, public_cost_usd: float, *, displacement: float = 0.0) -> Ratio:
    """Public cost per job created or retained; the interval inverts the jobs interval."""
    _check_share("displacement", displacement)
    net = 1.0 - displacement
    estimate_jobs = net * jobs.estimate
    low, high = (net * v for v in jobs.ci)
    return Ratio(
        metric="cost_per_job",
        basis="counterfactual",
        estimate=public_cost_usd / estimate_jobs if estimate_jobs > 0 else math.inf,
        ci_low=public_cost_usd / high if high > 0 else math.inf,
        ci_high=public_cost_usd / low if low > 0 else math.inf,
        numerator=estimate_jobs,
        public_cost_usd=public_cost_usd,
    )


def self_reported(
    survey: pd.Series, *, deadweight: float = 0.0, displacement: float = 0.0
) -> list[Ratio]:
    """Gross (MEP-style) return per dollar and cost per job from a program's client survey.

    `survey` is a row of the self-reported mart: new and retained sales (USD), jobs created
    and retained, and the public cost of the respondents.
    """
    _check_share("deadweight", deadweight)
    _check_share("displacement", displacement)
    net = (1.0 - deadweight) * (1.0 - displacement)
    cost = float(survey["respondents_public_cost_usd"])
    sales = net * float(survey["new_sales_usd"] + survey["retained_sales_usd"])
    jobs = net * float(survey["jobs_created"] + survey["jobs_retained"])
    nan = math.nan  # a census of answers, not a sample estimate: no sampling interval
    return [
        Ratio("sales_per_dollar", "self_reported", sales / cost, nan, nan, sales, cost),
        Ratio(
            "cost_per_job",
            "self_reported",
            cost / jobs if jobs > 0 else math.inf,
            nan,
            nan,
            jobs,
            cost,
        ),
    ]


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a share in [0, 1), got {value}")
