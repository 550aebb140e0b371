"""Tests for evaluation.diagnostics: pre-trend Wald tests and the legacy TWFE comparison.

Panels are balanced, 2010-2019, cohorts entering in 2012, 2015 and 2018 plus never-treated
firms, with firm and year effects and N(0, 0.5) noise. Tolerances:

* pre-trend test under parallel trends: on one seed the test passes and W is below the
  chi2(k) 99.9% quantile; across 20 seeds at least 15 pass (expected 19) and the mean W
  is within 50% of k (the chi2 mean). With a planted pre-entry drift (0.06 per year) the
  test must reject at p < 0.01 (observed p ~ 6e-17; at most 4e-10 over 20 seeds).
* parity with moderndid on mpdta: the Wald statistic to 1e-6 (same arithmetic; observed
  ~1e-14); moderndid rounds its p-value to 5 decimals, so p-values to 5e-6.
* TWFE vs CS: with effects growing with time since entry the static TWFE must miss the
  true ATT by more than 4 of its SEs and by 3x the CS error, while CS is within 4 SEs;
  with one constant effect TWFE is within 4 SEs of the truth.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.diagnostics import (
    PretrendResult,
    pretrend_test,
    pretrend_test_cells,
    twfe_att,
    twfe_event_study,
)
from evaluation.did import AggregateATT, aggregate, att_gt

COLS: dict[str, Any] = {"unit": "firm", "time": "year", "cohort": "g", "outcome": "y"}
YEARS = np.arange(2010, 2020)
MPDTA: dict[str, Any] = {
    "unit": "countyreal",
    "time": "year",
    "cohort": "first.treat",
    "outcome": "lemp",
}


def make_panel(
    n: int = 1500,
    seed: int = 1,
    effect: Callable[[np.ndarray], np.ndarray] = lambda e: np.full(e.shape, 0.1),
    pre_drift: float = 0.0,
    cohorts: tuple[int, ...] = (2012, 2015, 2018, 0),
) -> tuple[pd.DataFrame, np.ndarray]:
    """Balanced panel and the planted effect per row (0 before entry / never treated).

    ``pre_drift`` adds ``pre_drift * e`` to treated firms before entry (e < 0): their
    outcomes drift towards entry, a violation of parallel trends.
    """
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, size=n)
    unit_fe = rng.normal(0, 1, n)
    year_fe = rng.normal(0, 0.3, len(YEARS))
    u = np.repeat(np.arange(n), len(YEARS))
    yi = np.tile(np.arange(len(YEARS)), n)
    t, gg = YEARS[yi], g[u]
    e = t - gg
    planted = np.where((gg > 0) & (e >= 0), effect(e), 0.0)
    drift = np.where((gg > 0) & (e < 0), pre_drift * e, 0.0)
    y = unit_fe[u] + year_fe[yi] + planted + drift + rng.normal(0, 0.5, len(u))
    return pd.DataFrame({"firm": 1000 + u, "year": t, "g": gg, "y": y}), planted


def _dynamic(panel: pd.DataFrame, **kw) -> tuple[AggregateATT, int]:
    gt = att_gt(panel, **COLS, **kw)
    return aggregate(gt, "dynamic"), gt.n_units


def _test(panel: pd.DataFrame, **kw) -> PretrendResult:
    return pretrend_test(*_dynamic(panel, **kw))


# ----------------------------------------------------------------------- pre-trend test


def test_parallel_trends_pass_with_chi2_sized_statistic() -> None:
    res = _test(make_panel(seed=1)[0])
    assert res.passes is True and res.pvalue >= 0.05
    assert res.dof == 7  # e = -7..-1 (cohort 2018 has 7 pre-entry short differences)
    assert list(res.estimates["key"]) == list(range(-7, 0))
    assert 0 < res.statistic < stats.chi2.ppf(0.999, res.dof)
    assert not res.singular and res.note == ""

    stats_, passes = [], []
    for seed in range(20):
        r = _test(make_panel(seed=seed)[0])
        stats_.append(r.statistic)
        passes.append(r.passes)
    assert sum(bool(p) for p in passes) >= 15
    assert 0.5 * 7 < np.mean(stats_) < 1.5 * 7


def test_planted_pretrend_fails() -> None:
    res = _test(make_panel(seed=1, pre_drift=0.06)[0])
    assert res.passes is False
    assert res.pvalue < 0.01
    # the short differences before entry estimate the drift itself
    assert np.allclose(res.estimates["att"], 0.06, atol=4 * res.estimates["se"].max())


def test_vcov_diagonal_reproduces_table_ses() -> None:
    agg, n = _dynamic(make_panel(seed=2)[0])
    res = pretrend_test(agg, n)
    table = agg.table.set_index("key").loc[res.estimates["key"]]
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)), table["se"], rtol=1e-12)
    np.testing.assert_allclose(res.estimates["se"], table["se"], rtol=1e-12)
    np.testing.assert_allclose(res.estimates["att"], table["att"], rtol=0, atol=0)
    # statistic by hand
    theta = table["att"].to_numpy()
    assert res.statistic == pytest.approx(theta @ np.linalg.inv(res.vcov) @ theta, rel=1e-10)
    assert res.pvalue == pytest.approx(stats.chi2.sf(res.statistic, res.dof))


def test_universal_base_skips_reference_and_min_e_window() -> None:
    panel = make_panel(seed=3)[0]
    res = _test(panel, base_period="universal")
    assert -1 not in set(res.estimates["key"])  # reference: 0 by construction
    assert list(res.estimates["key"]) == list(range(-8, -1))
    assert res.dof == 7 and np.isfinite(res.statistic)
    short = pretrend_test(*_dynamic(panel), min_e=-3)
    assert list(short.estimates["key"]) == [-3, -2, -1] and short.dof == 3
    strict = pretrend_test(*_dynamic(panel), level=0.999)
    assert strict.passes is False  # p < 0.999 almost surely: level is honoured


def test_nothing_to_test_and_bad_input() -> None:
    agg, n = _dynamic(make_panel(seed=1)[0])
    res = pretrend_test(agg, n, min_e=0)
    assert res.passes is None and np.isnan(res.pvalue) and res.dof == 0
    assert "not tested" in res.note
    with pytest.raises(ValueError, match="'dynamic' aggregation"):
        pretrend_test(aggregate(att_gt(make_panel(seed=1)[0], **COLS), "group"), n)
    with pytest.raises(ValueError, match="level"):
        pretrend_test(agg, n, level=1.5)


def test_singular_covariance_uses_pseudo_inverse() -> None:
    # 6 firms, 7 pre-entry event times: V (7x7) has rank <= 6
    rng = np.random.default_rng(0)
    firms = np.repeat(np.arange(6), len(YEARS))
    g = np.repeat([2018, 2018, 2018, 0, 0, 0], len(YEARS))
    panel = pd.DataFrame(
        {"firm": firms, "year": np.tile(YEARS, 6), "g": g, "y": rng.normal(size=len(firms))}
    )
    res = _test(panel)
    assert res.singular
    assert res.dof == np.linalg.matrix_rank(res.vcov) < len(res.estimates)
    assert "pseudo-inverse" in res.note
    assert np.isfinite(res.statistic) and 0 <= res.pvalue <= 1


# ----------------------------------------------------------------------- parity (mpdta)


@pytest.fixture(scope="module")
def moderndid() -> Any:
    return pytest.importorskip("moderndid")


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_cells_pretest_matches_moderndid_on_mpdta(
    moderndid: Any, control_group: str, base_period: str
) -> None:
    mpdta = moderndid.load_mpdta().to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = moderndid.att_gt(
            mpdta,
            yname="lemp",
            tname="year",
            gname="first.treat",
            idname="countyreal",
            xformla=None,
            est_method="reg",
            boot=False,
            cband=False,
            control_group=control_group,
            base_period=base_period,
        )
    gt = att_gt(mpdta, **MPDTA, control_group=control_group, base_period=base_period)
    res = pretrend_test_cells(gt)
    assert res.statistic == pytest.approx(float(ref.wald_stat), abs=1e-6)
    assert abs(res.pvalue - ref.wald_pvalue) <= 5e-6  # moderndid rounds to 5 decimals
    assert res.dof == 5  # pre-treatment cells: 2004/2005 of cohort 2006, 2004-2006 of 2007
    if control_group == "nevertreated" and base_period == "varying":
        assert ref.wald_pvalue == pytest.approx(0.16812)  # R did's printed pre-test p-value


# ----------------------------------------------------------------------- TWFE (legacy)


def _growing(e: np.ndarray) -> np.ndarray:
    return 0.1 * (e + 1)


def test_static_twfe_biased_under_growing_effects_cs_is_not() -> None:
    panel, planted = make_panel(n=2000, seed=4, effect=_growing)
    post = (panel["g"] > 0) & (panel["year"] >= panel["g"])
    # CS "simple" weights each post (g, t) cell by its cohort size: the mean over rows
    truth = planted[post.to_numpy()].mean()
    cs = aggregate(att_gt(panel, **COLS), "simple")
    tw = twfe_att(panel, **COLS)
    cs_err, tw_err = abs(cs.overall_att - truth), abs(tw.att - truth)
    assert cs_err < 4 * cs.overall_se
    assert tw_err > 4 * tw.se
    assert tw_err > 3 * cs_err
    assert tw.att < truth  # already-treated controls absorb part of the growing effect
    assert tw.kind == "static" and tw.n_obs == len(panel) and tw.n_units == 2000


def test_static_twfe_fine_with_constant_effect() -> None:
    panel, _ = make_panel(n=2000, seed=4, effect=lambda e: np.full(e.shape, 0.3))
    tw = twfe_att(panel, **COLS)
    assert abs(tw.att - 0.3) < 4 * tw.se
    assert tw.ci_low < tw.att < tw.ci_high
    # the coefficient is the within (double-demeaned) slope on a balanced panel
    d = ((panel["g"] > 0) & (panel["year"] >= panel["g"])).astype(float)

    def demean(v: pd.Series) -> pd.Series:
        v = v - v.groupby(panel["firm"]).transform("mean")
        return v - v.groupby(panel["year"]).transform("mean")

    dd, yy = demean(d), demean(panel["y"])
    assert tw.att == pytest.approx(float((dd * yy).sum() / (dd**2).sum()), rel=1e-8)


def test_twfe_event_study() -> None:
    panel, _ = make_panel(n=2000, seed=5, effect=lambda e: np.full(e.shape, 0.3))
    es = twfe_event_study(panel, **COLS)
    tab = es.table.set_index("event_time")
    assert es.kind == "event_study" and es.reference == -1 and es.dropped == ()
    assert -1 not in tab.index and set(tab.index) == set(range(-8, 8)) - {-1}
    post, pre = tab.loc[0:], tab.loc[:-2]
    assert ((post["estimate"] - 0.3).abs() < 4 * post["se"]).all()
    assert (pre["estimate"].abs() < 4 * pre["se"]).all()
    binned = twfe_event_study(panel, **COLS, min_e=-3, max_e=3)
    assert list(binned.table["event_time"]) == [-3, -2, 0, 1, 2, 3]


def test_twfe_input_errors() -> None:
    panel, _ = make_panel(n=200, seed=1)
    with pytest.raises(ValueError, match=r"missing required column\(s\): 'y'"):
        twfe_att(panel.drop(columns="y"), **COLS)
    with pytest.raises(ValueError, match="no treated units"):
        twfe_att(panel.assign(g=0), **COLS)
    with pytest.raises(ValueError, match="reference event time"):
        twfe_event_study(panel, **COLS, reference=-20)


def test_the_pre_entry_test_keeps_the_leads_backed_by_enough_firms() -> None:
    from evaluation.diagnostics import supported_leads

    rng = np.random.default_rng(3)
    cohorts = np.repeat([2014, 2020, 0], [60, 20, 100])
    panel = pd.DataFrame(
        [(i, t, g, rng.normal()) for i, g in enumerate(cohorts) for t in range(2010, 2023)],
        columns=["firm_id", "year", "cohort", "y"],
    )
    gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome="y")
    # e = -1..-3 rest on both cohorts (80 firms); from e = -4 on only the 2020 one (20)
    assert supported_leads(gt, 50) == -3
    assert supported_leads(gt, 20) == -9  # 2020 - 9 = 2011, the earliest year with a base
    assert supported_leads(gt, 81) == 0  # nothing to test
    dynamic = aggregate(gt, "dynamic")
    assert list(pretrend_test(dynamic, gt.n_units, min_e=-3).estimates["key"]) == [-3, -2, -1]


def test_small_sample_correction_gives_the_unbiased_variance_of_a_difference_of_means() -> None:
    """One cohort, two periods: ATT = mean change of the treated minus that of the
    controls. Analytic (R did) variance: s^2 / n with ddof 0 per group; corrected: ddof 1.
    The estimates are untouched."""
    import dataclasses

    from evaluation.diagnostics import small_sample_corrected
    from evaluation.did import aggregate, att_gt

    rng = np.random.default_rng(3)
    n_t, n_c = 7, 12
    cohort = np.r_[np.full(n_t, 2021), np.zeros(n_c, dtype=int)]
    y0, y1 = rng.normal(size=n_t + n_c), rng.normal(size=n_t + n_c)
    panel = pd.DataFrame(
        {
            "firm_id": np.tile(np.arange(n_t + n_c), 2),
            "year": np.repeat([2020, 2021], n_t + n_c),
            "cohort": np.tile(cohort, 2),
            "y": np.r_[y0, y1],
        }
    )
    gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome="y")
    fixed = small_sample_corrected(gt)
    change = y1 - y0
    dt, dc = change[:n_t], change[n_t:]
    analytic = np.sqrt(dt.var(ddof=0) / n_t + dc.var(ddof=0) / n_c)
    unbiased = np.sqrt(dt.var(ddof=1) / n_t + dc.var(ddof=1) / n_c)
    assert aggregate(gt, "simple").overall_se == pytest.approx(analytic, rel=1e-10)
    assert aggregate(fixed, "simple").overall_se == pytest.approx(unbiased, rel=1e-10)
    assert dataclasses.replace(fixed, influence=gt.influence).cells.equals(gt.cells)
    assert aggregate(fixed, "simple").overall_att == aggregate(gt, "simple").overall_att


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_small_sample_correction_scales_each_cells_own_groups(control_group: str) -> None:
    """Per cell, the beneficiaries' rows by sqrt(n1 / (n1 - 1)) and every other row by
    sqrt(n0 / (n0 - 1)), nothing scaled for a group of one firm: the definition, cell by
    cell, on an unbalanced panel with several cohorts."""
    import math

    from evaluation.diagnostics import small_sample_corrected

    panel, _ = make_panel(n=400, seed=5)
    rng = np.random.default_rng(5)
    panel = panel[rng.random(len(panel)) > 0.2]  # unbalanced: cells of different sizes
    gt = att_gt(panel, **COLS, control_group=control_group)
    expected = gt.influence.copy()
    for j, cell in enumerate(gt.cells.itertuples()):
        treated = gt.unit_cohort == cell.group
        if cell.n_treated > 1:
            expected[treated, j] *= math.sqrt(cell.n_treated / (cell.n_treated - 1))
        if cell.n_control > 1:
            expected[~treated, j] *= math.sqrt(cell.n_control / (cell.n_control - 1))
    fixed = small_sample_corrected(gt)
    assert np.array_equal(fixed.influence, expected)
    assert not np.array_equal(fixed.influence, gt.influence)
