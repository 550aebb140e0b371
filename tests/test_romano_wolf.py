"""Romano-Wolf family-wise adjusted p-values from the multiplier bootstrap
(evaluation/multiple.py: romano_wolf, bootstrap_deviations, aligned_influence).

No published example has inputs this bootstrap can reproduce: Stata's ``rwolf`` and R's
``wildrwolf`` resample with their own random number generators (wildrwolf's own test
against rwolf agrees only to 0.1), so the checks are (a) equality with a slow textbook
step-down on the same draws, (b) the procedure's properties (family-wise error rate
under all-true nulls, the single-test limit, monotonicity, adjusted >= unadjusted) and
(c) the SE / influence-function scaling against `evaluation.did`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.did import aggregate, att_gt
from evaluation.multiple import aligned_influence, bootstrap_deviations, romano_wolf

SQRT5 = math.sqrt(5.0)
MAMMEN = (0.5 * (1 - SQRT5), 0.5 * (1 + SQRT5))


def textbook_romano_wolf(t_abs: list[float], t_star_abs: list[list[float]]) -> list[float]:
    """Step-down by hand: at each step take the largest |t| still in play, count the
    draws whose max |t*| over the hypotheses still in play reaches it, p = (count + 1) /
    (B + 1), never below the previous step's p; then drop that hypothesis."""
    n_draws = len(t_star_abs)
    remaining = list(range(len(t_abs)))
    adjusted = [math.nan] * len(t_abs)
    previous = 0.0
    while remaining:
        top = remaining[0]
        for k in remaining:
            if t_abs[k] > t_abs[top]:
                top = k
        count = 0
        for row in t_star_abs:
            if max(row[j] for j in remaining) >= t_abs[top]:
                count += 1
        previous = max(previous, (count + 1) / (n_draws + 1))
        adjusted[top] = previous
        remaining.remove(top)
    return adjusted


def textbook_from_influence(
    est: np.ndarray, psi: np.ndarray, draws: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted and single-test bootstrap p-values with the same draws as romano_wolf."""
    n = psi.shape[0]
    se = [math.sqrt(sum(x * x for x in psi[:, k])) / n for k in range(psi.shape[1])]
    dev = bootstrap_deviations(psi, draws=draws, seed=seed)
    t_abs = [abs(e / s) for e, s in zip(est, se, strict=True)]
    t_star = [[abs(d / s) for d, s in zip(row, se, strict=True)] for row in dev]
    single = [
        (sum(row[k] >= t_abs[k] for row in t_star) + 1) / (draws + 1) for k in range(len(est))
    ]
    return np.array(textbook_romano_wolf(t_abs, t_star)), np.array(single)


def correlated_design(
    seed: int, n: int = 300, k: int = 7, effects: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates (means) and their influence functions (did convention: deviation = mean
    of psi) for k correlated outcomes, some with an effect."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n, 1))
    y = 0.6 * common + 0.8 * rng.standard_normal((n, k))
    if effects is None:
        effects = np.linspace(0.0, 0.3, k)
    y = y + effects
    return y.mean(axis=0), y - y.mean(axis=0)


# ---------------------------------------------------------------------------- weights


@pytest.mark.parametrize(("weights", "values"), [("mammen", MAMMEN), ("rademacher", (-1.0, 1.0))])
def test_one_weight_per_unit_and_draw_shared_by_every_outcome(
    weights: str, values: tuple[float, float]
) -> None:
    n, draws = 60, 4000
    # column j = n * (indicator of unit j): its deviation is unit j's weight itself
    v = bootstrap_deviations(n * np.eye(n), draws=draws, seed=3, weights=weights)  # type: ignore[arg-type]
    on_support = np.isclose(v, values[0], atol=1e-12) | np.isclose(v, values[1], atol=1e-12)
    assert on_support.all()
    # mean 0, variance 1 (Monte Carlo SE of the mean ~ 1 / sqrt(240000) = 0.002)
    assert abs(v.mean()) < 0.01
    assert abs(v.var() - 1) < 0.02
    # any influence matrix: deviations = the same weights applied to every column
    psi = np.random.default_rng(0).standard_normal((n, 5))
    dev = bootstrap_deviations(psi, draws=draws, seed=3, weights=weights)  # type: ignore[arg-type]
    np.testing.assert_allclose(dev, v @ psi / n, rtol=0, atol=1e-6)  # float32 products
    assert np.array_equal(dev, bootstrap_deviations(psi, draws=draws, seed=3, weights=weights))  # type: ignore[arg-type]
    assert not np.allclose(dev, bootstrap_deviations(psi, draws=draws, seed=4, weights=weights))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- (a) textbook


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weights", ["mammen", "rademacher"])
def test_equals_textbook_stepdown(seed: int, weights: str) -> None:
    est, psi = correlated_design(seed)
    draws = 499
    got = romano_wolf(est, psi, draws=draws, seed=seed, weights=weights)  # type: ignore[arg-type]
    n = psi.shape[0]
    se = [math.sqrt(sum(x * x for x in psi[:, k])) / n for k in range(psi.shape[1])]
    dev = bootstrap_deviations(psi, draws=draws, seed=seed, weights=weights)  # type: ignore[arg-type]
    t_abs = [abs(e / s) for e, s in zip(est, se, strict=True)]
    t_star = [[abs(d / s) for d, s in zip(row, se, strict=True)] for row in dev]
    want = np.array(textbook_romano_wolf(t_abs, t_star))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert 0 < got.min() < got.max() <= 1  # a non-trivial family: some effects, some not


def test_equals_textbook_with_given_std_errors_and_ties() -> None:
    est, psi = correlated_design(7, k=5)
    psi = np.column_stack([psi, psi[:, 2]])  # a duplicated outcome: tied |t|
    est = np.append(est, est[2])
    se = np.sqrt(np.sum(psi**2, axis=0)) / len(psi) * np.array([1.0, 1.1, 0.9, 1.3, 1.0, 0.9])
    draws, seed = 299, 11
    got = romano_wolf(est, psi, std_errors=se, draws=draws, seed=seed)
    dev = bootstrap_deviations(psi, draws=draws, seed=seed)
    t_abs = [abs(e / s) for e, s in zip(est, se, strict=True)]
    t_star = [[abs(d / s) for d, s in zip(row, se, strict=True)] for row in dev]
    np.testing.assert_allclose(got, textbook_romano_wolf(t_abs, t_star), rtol=0, atol=1e-12)
    assert got[2] == got[5]


# ---------------------------------------------------------------------------- (b) properties


def test_familywise_error_rate_all_nulls_true() -> None:
    """7 independent outcomes, every effect zero, 2000 simulated datasets of 150 units:
    the share with any adjusted p < 0.05 should be 5% (with (count + 1) / (B + 1) and
    B = 499, p < 0.05 means count <= 23: level 24 / 500 = 4.8% at most, by the draws'
    discreteness). The Monte Carlo SE of a rate near 0.05 over 2000 datasets is
    sqrt(0.05 * 0.95 / 2000) = 0.0049, so the band is +-3 SE: [0.035, 0.065]. Fixed
    seeds, so the test is deterministic (the realized rate is the same every run)."""
    n, k, datasets = 150, 7, 2000
    rng = np.random.default_rng(2024)
    any_rejected = 0
    unadjusted_rejections = 0
    for d in range(datasets):
        y = rng.standard_normal((n, k))
        est, psi = y.mean(axis=0), y - y.mean(axis=0)
        p = romano_wolf(est, psi, draws=499, seed=d)
        any_rejected += bool((p < 0.05).any())
        unadjusted_rejections += int(np.sum(np.abs(est) / (psi.std(axis=0) / math.sqrt(n)) > 1.96))
    rate = any_rejected / datasets
    assert 0.035 <= rate <= 0.065, rate
    # each test alone rejects 5% of the time (SE 0.0018 over 14000 tests: band ~3 SE), so
    # without adjustment 1 - 0.95^7 = 30% of datasets would show a "significant" effect
    assert unadjusted_rejections / (datasets * k) == pytest.approx(0.05, abs=0.006)


def test_perfectly_dependent_outcomes_get_the_single_test_pvalue() -> None:
    est, psi = correlated_design(5, k=3, effects=np.array([0.1, 0.0, 0.0]))
    single = romano_wolf(est[:1], psi[:, :1], draws=2999, seed=8)
    _, textbook_single = textbook_from_influence(est[:1], psi[:, :1], 2999, 8)
    assert single[0] == pytest.approx(textbook_single[0], abs=1e-12)
    # the same outcome three times: the family is really one test
    triple = romano_wolf(
        np.repeat(est[:1], 3), np.repeat(psi[:, :1], 3, axis=1), draws=2999, seed=8
    )
    np.testing.assert_allclose(triple, np.repeat(single, 3), rtol=0, atol=1e-12)
    assert 0.001 < single[0] < 1


@pytest.mark.parametrize("seed", range(5))
def test_adjusted_at_least_unadjusted_and_monotone_in_t(seed: int) -> None:
    est, psi = correlated_design(100 + seed, k=7)
    draws = 999
    adjusted = romano_wolf(est, psi, draws=draws, seed=seed)
    want, single = textbook_from_influence(est, psi, draws, seed)
    np.testing.assert_allclose(adjusted, want, rtol=0, atol=1e-12)
    assert np.all(adjusted >= single - 1e-12)
    t = np.abs(est / (np.sqrt(np.sum(psi**2, axis=0)) / len(psi)))
    by_t = adjusted[np.argsort(-t)]
    assert np.all(np.diff(by_t) >= 0)  # larger |t|, never a larger adjusted p
    # the largest |t| is adjusted for the whole family: at most a Bonferroni-like bound
    top = int(np.argmax(t))
    assert adjusted[top] <= min(1.0, float(np.sum(single)))


def test_missing_outcome_left_out_of_the_family() -> None:
    est, psi = correlated_design(9, k=5)
    full = romano_wolf(np.delete(est, 1), np.delete(psi, 1, axis=1), draws=999, seed=2)
    for bad_est, bad_psi, bad_se in (
        (np.nan, psi[:, 1], None),  # missing estimate
        (est[1], np.full(len(psi), np.nan), None),  # missing influence function
        (est[1], np.zeros(len(psi)), None),  # zero SE
    ):
        e, p = est.copy(), psi.copy()
        e[1], p[:, 1] = bad_est, bad_psi
        got = romano_wolf(e, p, std_errors=bad_se, draws=999, seed=2)
        assert np.isnan(got[1])
        np.testing.assert_allclose(np.delete(got, 1), full, rtol=0, atol=1e-12)
    se = np.sqrt(np.sum(psi**2, axis=0)) / len(psi)
    se[1] = np.nan  # missing SE given by the caller
    got = romano_wolf(est, psi, std_errors=se, draws=999, seed=2)
    assert np.isnan(got[1])
    np.testing.assert_allclose(np.delete(got, 1), full, rtol=0, atol=1e-12)
    assert np.isnan(romano_wolf([np.nan], np.zeros((10, 1)), seed=0)).all()


def test_argument_errors() -> None:
    est, psi = correlated_design(1, n=20, k=2)
    with pytest.raises(ValueError, match="n_units x 2"):
        romano_wolf(est, psi[:, :1], seed=0)
    with pytest.raises(ValueError, match="std_errors"):
        romano_wolf(est, psi, std_errors=[1.0], seed=0)
    with pytest.raises(ValueError, match="draws"):
        romano_wolf(est, psi, draws=0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        romano_wolf(est, psi, seed=-1)
    with pytest.raises(ValueError, match="weights"):
        romano_wolf(est, psi, seed=0, weights="normal")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- (c) scaling


def two_outcome_panel(seed: int = 4, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 2016, 2018], size=n, p=[0.6, 0.2, 0.2])
    level = rng.normal(0, 1, n)
    rows = []
    for t in range(2013, 2021):
        post = (cohort > 0) & (t >= cohort)
        rows.append(
            pd.DataFrame(
                {
                    "firm_id": [f"f{i:03d}" for i in range(n)],
                    "year": t,
                    "cohort": cohort,
                    "y1": level + 0.02 * (t - 2013) + rng.normal(0, 0.1, n) + 0.05 * post,
                    "y2": level + rng.normal(0, 0.2, n),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_aligned_influence_keeps_did_standard_errors() -> None:
    """Outcome y2 is observed for two thirds of the firms only: after alignment on the
    union of firms, the default SE is each outcome's did SE and units outside an outcome
    contribute zero."""
    panel = two_outcome_panel()
    subset = panel[panel["firm_id"] < "f400"]
    fits = []
    for frame, outcome in ((panel, "y1"), (subset, "y2")):
        gt = att_gt(frame, unit="firm_id", time="year", cohort="cohort", outcome=outcome)
        fits.append((gt, aggregate(gt, "simple")))
    ids, psi = aligned_influence([(gt.unit_ids, agg.influence) for gt, agg in fits] + [None])
    assert len(ids) == 600 and list(ids) == sorted(ids)
    assert psi.shape == (600, 3) and np.isnan(psi[:, 2]).all()
    assert np.all(psi[np.asarray(ids) >= "f400", 1] == 0)
    se = np.sqrt(np.sum(psi[:, :2] ** 2, axis=0)) / len(ids)
    np.testing.assert_allclose(se, [agg.overall_se for _, agg in fits], rtol=1e-12)
    # each column's bootstrap deviation is its own mean of weighted influence functions
    v = bootstrap_deviations(600 * np.eye(600), draws=50, seed=1)
    dev = bootstrap_deviations(psi[:, :2], draws=50, seed=1)
    gt2, agg2 = fits[1]
    assert gt2.unit_ids is not None and agg2.influence is not None
    own = v[:, np.asarray(ids) < "f400"] @ agg2.influence[np.argsort(gt2.unit_ids)]
    np.testing.assert_allclose(dev[:, 1], own / 400, rtol=0, atol=1e-6)
    est = [agg.overall_att for _, agg in fits] + [math.nan]
    p = romano_wolf(est, psi, draws=999, seed=1)
    assert np.isnan(p[2]) and p[0] <= 0.01 < p[1]  # the planted effect survives the family


def test_aligned_influence_errors() -> None:
    with pytest.raises(ValueError, match="duplicated"):
        aligned_influence([(["a", "a"], [1.0, 2.0])])
    with pytest.raises(ValueError, match="2 unit ids but 3"):
        aligned_influence([(["a", "b"], [1.0, 2.0, 3.0])])
    ids, psi = aligned_influence([(["b", "a"], [1.0, -1.0]), (["c"], [2.0])])
    assert list(ids) == ["a", "b", "c"]
    np.testing.assert_allclose(psi, [[-1.5, 0.0], [1.5, 0.0], [0.0, 6.0]])
