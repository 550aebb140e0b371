"""ROI and cost per job: totals from level effects, intervals, and self-reported figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation import roi
from evaluation.did import att_gt


def level_panel(seed: int = 3, n: int = 3000) -> tuple[pd.DataFrame, float, float]:
    """Balanced firm panel 2010-2019, cohorts 2014/2016/2018, additive planted effects.

    Value added rises by 50,000 USD x (years since entry + 1) after entry; employment by
    2 jobs from entry on. Returns the panel, the true incremental value added summed over
    beneficiaries and post-entry years, and the true jobs in the last year.
    """
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2020)
    cohort = rng.choice([0, 2014, 2016, 2018], size=n, p=[0.7, 0.1, 0.1, 0.1])
    firm_effect = rng.lognormal(13, 0.5, n)
    rows = []
    for t in years:
        e = t - cohort
        treated = (cohort > 0) & (e >= 0)
        va = (
            firm_effect * (1 + 0.02 * (t - 2010))
            + rng.normal(0, 20_000, n)
            + np.where(treated, 50_000 * (e + 1), 0)
        )
        jobs = 20 + 0.5 * (t - 2010) + rng.normal(0, 1.5, n) + np.where(treated, 2.0, 0)
        rows.append(
            pd.DataFrame(
                {"firm_id": np.arange(n), "year": t, "cohort": cohort, "va": va, "jobs": jobs}
            )
        )
    panel = pd.concat(rows, ignore_index=True)
    post = panel[(panel["cohort"] > 0) & (panel["year"] >= panel["cohort"])]
    true_va = float((50_000 * (post["year"] - post["cohort"] + 1)).sum())
    true_jobs = 2.0 * float((cohort > 0).sum())
    return panel, true_va, true_jobs


def test_incremental_total_recovers_the_planted_sum() -> None:
    panel, true_va, _ = level_panel()
    gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome="va")
    total = roi.incremental_total(gt)
    # the total is a cell-size-weighted sum of ATT(g,t): check the arithmetic directly ...
    post = gt.cells[gt.cells["time"] >= gt.cells["group"]]
    assert total.estimate == pytest.approx(
        float((post["att"] * post["n_treated"]).sum()), rel=1e-12
    )
    # ... and that it recovers the truth within 4 SE (seeded data; SE is ~1% of the total)
    assert abs(total.estimate - true_va) <= 4 * total.std_error
    assert total.std_error < 0.05 * true_va
    assert total.beneficiaries == int((panel.drop_duplicates("firm_id")["cohort"] > 0).sum())


def test_jobs_and_cost_per_job_with_an_inverted_interval() -> None:
    panel, _, true_jobs = level_panel()
    gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome="jobs")
    jobs = roi.jobs_in_last_year(gt)
    assert abs(jobs.estimate - true_jobs) <= 4 * jobs.std_error
    ratio = roi.cost_per_job(jobs, 10_000_000.0)
    low, high = jobs.ci
    assert ratio.estimate == pytest.approx(10_000_000.0 / jobs.estimate)
    assert (ratio.ci_low, ratio.ci_high) == pytest.approx((10_000_000.0 / high, 10_000_000.0 / low))
    assert ratio.ci_low < ratio.estimate < ratio.ci_high


def test_cost_per_job_is_unbounded_when_jobs_may_be_zero() -> None:
    jobs = roi.Total(estimate=5.0, std_error=10.0, beneficiaries=10)
    ratio = roi.cost_per_job(jobs, 1000.0)
    assert ratio.ci_high == math.inf and ratio.ci_low == pytest.approx(1000.0 / jobs.ci[1])


def test_return_per_dollar_and_displacement() -> None:
    total = roi.Total(estimate=6_000_000.0, std_error=500_000.0, beneficiaries=100)
    gross = roi.return_per_dollar(total, 1_000_000.0, metric="value_added_per_dollar")
    assert gross.estimate == pytest.approx(6.0)
    assert gross.ci_low == pytest.approx(6.0 - roi.Z_95 * 0.5)
    net = roi.return_per_dollar(
        total, 1_000_000.0, metric="value_added_per_dollar", displacement=0.25
    )
    assert net.estimate == pytest.approx(4.5) and net.ci_high == pytest.approx(0.75 * gross.ci_high)
    with pytest.raises(ValueError, match="displacement"):
        roi.return_per_dollar(total, 1.0, metric="x", displacement=1.0)


def test_self_reported_figures_apply_deadweight() -> None:
    survey = pd.Series(
        {
            "new_sales_usd": 800.0,
            "retained_sales_usd": 200.0,
            "jobs_created": 3.0,
            "jobs_retained": 1.0,
            "respondents_public_cost_usd": 100.0,
        }
    )
    sales, jobs = roi.self_reported(survey, deadweight=0.5)
    assert (sales.metric, sales.basis, sales.estimate) == ("sales_per_dollar", "self_reported", 5.0)
    assert jobs.estimate == pytest.approx(100.0 / 2.0)
