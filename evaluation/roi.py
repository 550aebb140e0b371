"""Return on public money and cost per job, from estimated (counterfactual) effects.

The totals are linear combinations of group-time effects in levels, so their standard
errors follow from the same influence functions as the effects themselves:

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

import numpy as np
import pandas as pd

from evaluation.did import GroupTimeATT

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


def _total(gt: GroupTimeATT, mask: np.ndarray) -> Total:
    cells = gt.cells
    keep = mask & cells["att"].notna().to_numpy()
    weights = cells.loc[keep, "n_treated"].to_numpy(dtype=float)
    estimate = float(cells.loc[keep, "att"].to_numpy() @ weights)
    influence = gt.influence[:, keep] @ weights
    std_error = float(np.sqrt(np.sum(influence**2)) / gt.n_units)
    cohorts = set(cells.loc[keep, "group"])
    beneficiaries = int(np.isin(gt.unit_cohort, list(cohorts)).sum())
    return Total(estimate, std_error, beneficiaries)


def incremental_total(gt: GroupTimeATT) -> Total:
    """Program effect on a level outcome (USD) summed over beneficiaries and post-entry years."""
    cells = gt.cells
    return _total(gt, (cells["time"] >= cells["group"]).to_numpy())


def jobs_in_last_year(gt: GroupTimeATT) -> Total:
    """Jobs created or retained: the employment effect in the panel's last year, summed."""
    cells = gt.cells
    last = cells["time"].max()
    return _total(gt, ((cells["time"] == last) & (cells["time"] >= cells["group"])).to_numpy())


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
