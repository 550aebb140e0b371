"""Tests for evaluation.honest against R HonestDiD 0.2.8 on its BCdata example.

Reference: tests/reference/honestdid_bcdata.json (R outputs for l = first post
period). Tolerances:

* original CI, Mpre upper bound: 1e-12, same closed form.
* FLCI: 1e-6. The half-length matches R to ~1e-11 at every M because R's simulated
  folded-normal quantile is replayed with R's own random numbers. For M > 0 the
  endpoints agree to ~1e-9 (R's ECOS solver tolerance). At M = 0 the centre differs by
  8.3e-7: the optimum is the minimum-variance estimator, where R asks ECOS for the
  minimum-bias estimator over a feasible set that is a single point, and ECOS returns a
  point near it; ours is that point exactly (see the module docstring).
* Delta^RM (C-LF): within one step of R's theta grid (40 sd / 999); observed: the same
  grid points.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import honest
from evaluation.did import aggregate, att_gt

# R HonestDiD's BCdata example and its outputs, copied from the project's shared reference
# data (it ships with no package): see tests/reference/README.md
REF_PATH = Path(__file__).parent / "reference" / "honestdid_bcdata.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    assert REF_PATH is not None
    return json.loads(REF_PATH.read_text())


@pytest.fixture(scope="module")
def bc(ref: dict) -> tuple[np.ndarray, np.ndarray, int, int]:
    return (
        np.array(ref["betahat"]),
        np.array(ref["sigma"]),
        ref["numPrePeriods"],
        ref["numPostPeriods"],
    )


@pytest.fixture(scope="module")
def grid_step(bc: tuple[np.ndarray, np.ndarray, int, int]) -> float:
    _, s, k, _ = bc
    return 40 * math.sqrt(s[k, k]) / 999  # R's default grid: +/- 20 sd, 1000 points


def test_r_random_numbers_replayed() -> None:
    # R 4.x: set.seed(0); rnorm(5), as printed (7 significant digits)
    r = [1.2629543, -0.3262334, 1.3297993, 1.2724293, 0.4146414]
    np.testing.assert_allclose(honest._r_rnorm(5, 0), r, rtol=0, atol=5e-8)


def test_original_ci(bc, ref) -> None:
    ci = honest.original_ci(*bc)
    r = ref["r_outputs_l_vec_e1"]["originalCS"]
    assert ci.lb == pytest.approx(r["lb"], abs=1e-12)
    assert ci.ub == pytest.approx(r["ub"], abs=1e-12)


def test_flci_m0(bc, ref) -> None:
    r = ref["r_outputs_l_vec_e1"]["flci_M0"]
    f = honest.flci_sd(*bc, m=0.0)
    assert f.half_length == pytest.approx(r["optimalHalfLength"], abs=1e-10)
    assert f.lb == pytest.approx(r["FLCI"][0], abs=1e-6)
    assert f.ub == pytest.approx(r["FLCI"][1], abs=1e-6)
    # at M = 0 the FLCI is built on the minimum-variance affine estimator: weights on the
    # post period are l, and no other weights with the same constraint have lower variance
    _, s, _, _ = bc
    assert f.optimal_vec[4:] == pytest.approx([1, 0, 0, 0])
    var = float(f.optimal_vec @ s @ f.optimal_vec)
    assert math.sqrt(var) == pytest.approx(f.h, rel=1e-12)


@pytest.mark.parametrize("i", range(4))
def test_flci_sd_rows(bc, ref, i: int) -> None:
    rows = ref["r_outputs_l_vec_e1"]["deltaSD_FLCI"]
    f = honest.flci_sd(*bc, m=rows["M"][i])
    assert f.lb == pytest.approx(rows["lb"][i], abs=1e-6)
    assert f.ub == pytest.approx(rows["ub"][i], abs=1e-6)


def test_flci_is_optimal_over_h(bc) -> None:
    """The chosen h beats a grid of other h (the half-length is convex in h)."""
    b, s, k, t = bc
    lv = np.eye(t)[0]
    prob = honest._flci_problem(s, k, lv)
    m = 0.02
    f = honest.flci_sd(b, s, k, t, m=m)
    for h in np.linspace(prob.h_min, prob.h0, 25):
        bias, _ = honest._worst_case_bias(prob, h)
        assert honest._qfoldednormal(0.95, m * bias / h) * h >= f.half_length - 1e-12


def test_min_l1_on_ellipsoid_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        a = rng.normal(size=(3, 3))
        h = a @ a.T + 0.1 * np.eye(3)
        x0 = rng.normal(size=3)
        r2 = float(rng.uniform(0.05, 2.0))
        val, x = honest._min_l1_on_ellipsoid(x0, h, r2)
        assert float((x - x0) @ h @ (x - x0)) <= r2 * (1 + 1e-9)
        assert np.abs(x).sum() == pytest.approx(val)
        # random feasible points never do better
        u = rng.normal(size=(20000, 3))
        u /= np.sqrt(np.einsum("ni,ij,nj->n", u, h, u))[:, None]
        pts = x0 + u * math.sqrt(r2) * rng.uniform(0, 1, size=(20000, 1)) ** (1 / 3)
        assert np.abs(pts).sum(axis=1).min() >= val - 1e-9


def test_upper_bound_m_pre(bc, ref) -> None:
    b, s, k, _ = bc
    r = ref["r_outputs_l_vec_e1"]["DeltaSD_upperBound_Mpre"]
    assert honest.upper_bound_m_pre(b, s, k) == pytest.approx(r, abs=1e-12)


@pytest.mark.parametrize("i", range(4))
def test_rm_rows_within_grid_step(bc, ref, grid_step: float, i: int) -> None:
    rows = ref["r_outputs_l_vec_e1"]["deltaRM_CLF"]
    ci = honest.conditional_cs_rm(*bc, mbar=rows["Mbar"][i])
    assert abs(ci.lb - rows["lb"][i]) <= grid_step
    assert abs(ci.ub - rows["ub"][i]) <= grid_step


def test_rm_sets_nested_and_contain_original(bc) -> None:
    orig = honest.original_ci(*bc)
    prev = None
    for mbar in (0.0, 0.5, 1.0):
        ci = honest.conditional_cs_rm(*bc, mbar=mbar)
        if prev is not None:
            assert ci.lb <= prev.lb and ci.ub >= prev.ub
        prev = ci
    # Mbar = 0 forces the post trend to zero: close to the original CI (hybrid test,
    # so not equal), and never far from it
    ci0 = honest.conditional_cs_rm(*bc, mbar=0.0)
    assert abs(ci0.lb - orig.lb) < 0.02 and abs(ci0.ub - orig.ub) < 0.02


def test_breakdown_rm_consistent_with_rows(bc, ref) -> None:
    rows = ref["r_outputs_l_vec_e1"]["deltaRM_CLF"]
    excl = [not (lb <= 0 <= ub) for lb, ub in zip(rows["lb"], rows["ub"], strict=True)]
    expected = rows["Mbar"][excl.index(False) - 1]  # R: excludes 0 up to 1.5, not at 2
    assert expected == 1.5
    assert honest.breakdown_rm(*bc, mbar_grid=rows["Mbar"]) == expected
    refined = honest.breakdown_rm(*bc, mbar_grid=rows["Mbar"], refine_tol=0.02)
    assert 1.5 <= refined < 2.0
    assert honest.conditional_cs_rm(*bc, mbar=refined).excludes(0.0)
    assert not honest.conditional_cs_rm(*bc, mbar=refined + 0.02).excludes(0.0)


def test_breakdown_sd_consistent_with_rows(bc, ref) -> None:
    rows = ref["r_outputs_l_vec_e1"]["deltaSD_FLCI"]
    assert all(lb > 0 for lb in rows["lb"])  # R: every row excludes 0
    assert honest.breakdown_sd(*bc, m_grid=rows["M"]) == rows["M"][-1]
    # beyond R's grid the FLCI widens until it covers 0 (for large M it is the
    # minimum-bias estimator beta_1 + beta_-1 +/- (M + 1.645 sd)); the breakdown is there
    m_bd = honest.breakdown_sd(*bc, m_grid=np.linspace(0.0, 0.5, 11), refine_tol=1e-3)
    assert 0.2 < m_bd < 0.25
    assert honest.flci_sd(*bc, m=m_bd).lb > 0
    assert honest.flci_sd(*bc, m=m_bd + 1e-3).lb <= 0


def test_breakdown_value_edges() -> None:
    assert math.isnan(honest.breakdown_value(lambda m: False, [0, 1]))
    assert honest.breakdown_value(lambda m: True, [0, 1, 2]) == 2
    assert honest.breakdown_value(lambda m: m < 0.73, [0, 1, 2], refine_tol=1e-6) == (
        pytest.approx(0.73, abs=1e-6)
    )


# ---------------------------------------------------------------------------------------
# Event study from influence functions


def _panel(n_units: int = 1500, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2020)
    g = rng.choice([2013, 2015, 2017, 0], size=n_units)
    u = np.repeat(np.arange(n_units), len(years))
    yi = np.tile(np.arange(len(years)), n_units)
    t = years[yi]
    gg = g[u]
    effect = np.where((gg > 0) & (t >= gg), 0.1 * (t - gg + 1), 0.0)
    y = rng.normal(size=n_units)[u] + rng.normal(0, 0.3, len(years))[yi] + effect
    y = y + rng.normal(0, 0.5, len(u))
    return pd.DataFrame({"firm": u, "year": t, "first_year": gg, "y": y})


def test_event_study_with_covariance() -> None:
    gt = att_gt(
        _panel(), unit="firm", time="year", cohort="first_year", outcome="y",
        base_period="universal",
    )  # fmt: skip
    es = honest.event_study_with_covariance(gt)
    agg = aggregate(gt, "dynamic")
    table = agg.table.set_index("key")
    assert -1 not in es.event_times
    assert es.num_pre == int(np.sum(es.event_times < -1))
    assert es.num_post == int(np.sum(es.event_times >= 0))
    assert es.num_pre + es.num_post == len(es.betahat) == es.sigma.shape[0]
    np.testing.assert_allclose(es.betahat, table.loc[es.event_times, "att"], rtol=0, atol=1e-12)
    n = gt.n_units
    # influence functions have mean zero, so the empirical covariance / n is the same
    assert np.abs(es.influence.mean(axis=0)).max() < 1e-10
    emp = np.cov(es.influence, rowvar=False, bias=True) / n
    np.testing.assert_allclose(es.sigma, emp, rtol=1e-10, atol=0)
    np.testing.assert_allclose(es.sigma, es.influence.T @ es.influence / n**2, rtol=1e-12)
    np.testing.assert_allclose(
        np.sqrt(np.diag(es.sigma)), table.loc[es.event_times, "se"], rtol=1e-10
    )
    assert np.all(np.linalg.eigvalsh(es.sigma) > 0)
    # planted: no pre-trend, effects 0.1 * (e + 1); the sensitivity tools run on it
    assert np.all(np.abs(es.betahat[: es.num_pre]) < 4 * np.sqrt(np.diag(es.sigma))[: es.num_pre])
    ci = honest.flci_sd(es.betahat, es.sigma, es.num_pre, es.num_post, m=0.0)
    assert ci.lb < 0.1 < ci.ub or abs(0.5 * (ci.lb + ci.ub) - 0.1) < 0.05


def test_event_study_needs_universal_base() -> None:
    gt = att_gt(_panel(300), unit="firm", time="year", cohort="first_year", outcome="y")
    with pytest.raises(ValueError, match="universal"):
        honest.event_study_with_covariance(gt)


@pytest.mark.parametrize("num_sims", [1, 2, 9, 10**6])
def test_folded_normal_quantile_is_the_type7_quantile_of_the_draws(num_sims: int) -> None:
    """The order-statistic search gives numpy's type-7 quantile of |Z + mu| over R's draws
    to the last bit: at mu = 0, either sign of a large shift, and any p."""
    mus = [0.0, 1e-300, -1e-300, 0.3, -0.3, 1.96, -4.0, 37.5, -1e6]
    for p in (0.0, 0.05, 0.5, 0.9, 0.95, 0.999999, 1.0):
        for mu in mus:
            draws = np.abs(honest._r_rnorm(num_sims, 0) + mu)
            expected = float(np.quantile(draws, p))
            assert honest._qfoldednormal(p, mu, 0, num_sims) == expected, (p, mu)
    assert math.isnan(honest._qfoldednormal(0.95, math.nan, 0, num_sims))
