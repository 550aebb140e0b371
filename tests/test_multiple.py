"""Sharpened q-values over a program's family of outcomes (evaluation/multiple.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.impact import ESTIMATOR, EvaluationSpec, estimate_impacts
from evaluation.multiple import normal_pvalues, sharpened_qvalues
from tests.test_impact import program_panel


def anderson_reference(pvalues: list[float]) -> list[float]:
    """A line-by-line transcription of Anderson's Stata loop (fdr_sharpened_qvalues.do),
    in plain Python, written independently of `sharpened_qvalues`: sort, rank, q from
    1.000 down to 0.001, two stages, overwrite the q-value of every rejected rank."""
    totalpvals = len(pvalues)
    order = sorted(range(totalpvals), key=lambda i: pvalues[i])
    pval = [pvalues[i] for i in order]
    rank = list(range(1, totalpvals + 1))
    bky06_qval = [1.0] * totalpvals
    for step in range(1000, 0, -1):  # qval = 1, .999, ..., .001
        qval = step / 1000
        qval_adj = qval / (1 + qval)
        fdr_temp1 = [qval_adj * r / totalpvals for r in rank]
        reject_rank1 = [r if f >= p else 0 for r, f, p in zip(rank, fdr_temp1, pval, strict=True)]
        total_rejected1 = max(reject_rank1)
        if totalpvals - total_rejected1 == 0:  # Stata: missing, and missing >= p is true
            qval_2st = float("inf")
        else:
            qval_2st = qval_adj * (totalpvals / (totalpvals - total_rejected1))
        fdr_temp2 = [qval_2st * r / totalpvals for r in rank]
        reject_rank2 = [r if f >= p else 0 for r, f, p in zip(rank, fdr_temp2, pval, strict=True)]
        total_rejected2 = max(reject_rank2)
        bky06_qval = [
            qval if r <= total_rejected2 else q for r, q in zip(rank, bky06_qval, strict=True)
        ]
    out = [0.0] * totalpvals
    for position, i in enumerate(order):
        out[i] = bky06_qval[position]
    return out


def test_one_hypothesis_by_hand() -> None:
    # rejected at q when p <= q / (1 + q): q >= 0.04 / 0.96 = 0.041667 -> 0.042 on the grid
    assert sharpened_qvalues([0.04]).tolist() == pytest.approx([0.042])
    assert sharpened_qvalues([0.5]).tolist() == pytest.approx([1.0])  # 0.5 / 0.5 = 1
    assert sharpened_qvalues([0.6]).tolist() == pytest.approx([1.0])  # never rejected


def test_two_hypotheses_by_hand() -> None:
    """p = (0.001, 0.3). p_(1) is rejected once q' / 2 >= 0.001, q >= 0.002004 -> 0.003.
    Then r = 1 and the second stage's level is q' * 2 / (2 - 1) = 2 q': p_(2) = 0.3 is
    rejected once 2 q' * 2 / 2 >= 0.3, q' >= 0.15, q >= 0.15 / 0.85 = 0.17647 -> 0.177
    (below its p-value: the first stage says few hypotheses are true nulls)."""
    q = sharpened_qvalues([0.3, 0.001])
    assert q.tolist() == pytest.approx([0.177, 0.003])
    assert q[0] < 0.3  # q-values are not always above p-values


def test_against_the_stata_loop_on_a_worked_example() -> None:
    pvalues = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216, 0.5, 0.9]
    ours = sharpened_qvalues(pvalues)
    np.testing.assert_allclose(ours, anderson_reference(pvalues), rtol=0, atol=1e-12)
    rng = np.random.default_rng(7)
    for _ in range(25):  # and on random families, mixtures of nulls and real effects
        n = int(rng.integers(1, 15))
        p = np.where(rng.random(n) < 0.5, rng.uniform(0, 0.05, n), rng.uniform(0, 1, n))
        np.testing.assert_allclose(
            sharpened_qvalues(p), anderson_reference(p.tolist()), rtol=0, atol=1e-12
        )


def test_properties() -> None:
    rng = np.random.default_rng(11)
    for _ in range(50):
        n = int(rng.integers(1, 20))
        p = np.where(rng.random(n) < 0.3, rng.uniform(0, 0.01, n), rng.uniform(0, 1, n))
        q = sharpened_qvalues(p)
        assert ((q > 0) & (q <= 1)).all()
        assert np.allclose(q * 1000, np.round(q * 1000))  # on the 0.001 grid
        order = np.argsort(p, kind="stable")
        assert (np.diff(q[order]) >= 0).all()  # never decreases with p
        assert (p <= n * q / (1 + q) + 1e-12).all()  # the bound that always holds
        # the smallest p-value is rejected in the first stage at its q: q >= p for it
        assert q[order[0]] >= p[order[0]]


def test_q_at_least_p_when_few_are_rejected() -> None:
    """With a single real effect among many nulls, the first stage rejects at most one
    hypothesis, so q* stays near q and every q-value is at least its p-value."""
    rng = np.random.default_rng(3)
    p = np.concatenate([[0.0004], rng.uniform(0.05, 1, 9)])
    q = sharpened_qvalues(p)
    assert (q >= p).all()


def test_all_null_families_have_q_near_one() -> None:
    """Seven true-null outcomes (uniform p-values), 2,000 families: most q-values are 1,
    and a family shows any q <= 0.05 about as often as the FDR allows (under the global
    null, FDR = the chance of any discovery; measured 4.3% with this seed)."""
    rng = np.random.default_rng(2024)
    families = [sharpened_qvalues(rng.uniform(0, 1, 7)) for _ in range(2000)]
    qs = np.concatenate(families)
    assert np.median(qs) == 1.0
    assert np.mean(qs >= 0.5) > 0.85
    any_discovery = np.mean([f.min() <= 0.05 for f in families])
    assert any_discovery <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 2000)


def test_missing_pvalues_are_left_out_and_ties_share_a_qvalue() -> None:
    q = sharpened_qvalues([0.04, np.nan])
    assert q[0] == pytest.approx(0.042) and np.isnan(q[1])  # a family of one
    assert np.isnan(sharpened_qvalues([np.nan])).all()
    assert len(sharpened_qvalues([])) == 0
    tied = sharpened_qvalues([0.02, 0.02, 0.7])
    assert tied[0] == tied[1]
    with pytest.raises(ValueError):
        sharpened_qvalues([1.2])


def test_normal_pvalues() -> None:
    p = normal_pvalues([1.959963985, -2.575829304, 0.0, 1.0, 1.0], [1, 1, 1, 0, np.nan])
    np.testing.assert_allclose(p[:3], [0.05, 0.01, 1.0], atol=1e-8)
    assert np.isnan(p[3:]).all()


def test_a_run_carries_qvalues_for_its_family_of_outcomes() -> None:
    """Two programs, each estimated on the built-in outcomes: each program's whole-sample
    simple effects carry p (from estimate / SE) and q-values computed within that
    program's family only; no other row has them."""
    one = program_panel(seed=5, n=900)
    other = program_panel(seed=6, n=900).assign(program_id="Q")
    spec = EvaluationSpec(subgroups=("region",), estimators=("callaway_santanna", "matching_did"))
    est = estimate_impacts(pd.concat([one, other], ignore_index=True), spec).estimates
    family = (
        (est["estimator"] == ESTIMATOR)
        & (est["aggregation"] == "simple")
        & (est["subgroup"] == "all")
        & (est["status"] == "estimated")
    )
    assert set(est.loc[family, "program_id"]) == {"P", "Q"}
    assert est.loc[~family, ["pvalue", "qvalue"]].isna().all().all()
    for program_id in ("P", "Q"):
        rows = est[family & (est["program_id"] == program_id)].set_index("outcome")
        assert len(rows) == len(spec.outcomes)  # one per outcome
        expected_p = normal_pvalues(rows["estimate"], rows["std_error"])
        np.testing.assert_allclose(rows["pvalue"], expected_p, rtol=0, atol=0)
        np.testing.assert_allclose(
            rows["qvalue"], anderson_reference(rows["pvalue"].tolist()), rtol=0, atol=1e-12
        )
        # the planted sales and employment effects are found; placebo outcomes are not
        assert rows.loc["log_sales", "qvalue"] <= 0.01
        assert rows.loc["log_employment", "qvalue"] <= 0.01
        assert rows.loc["log_wage_per_worker", "qvalue"] > 0.05
        # traceable like every other estimate: same specification as the program's rows
        assert rows["specification"].nunique() == 1


def test_units_not_estimated_have_no_qvalue() -> None:
    panel = program_panel(seed=5, n=600)
    panel["rd_intensity"] = 0.01  # the same everywhere: not estimable
    spec = EvaluationSpec(subgroups=(), estimators=("callaway_santanna",))
    est = estimate_impacts(panel, spec).estimates
    simple = est[(est["aggregation"] == "simple") & (est["subgroup"] == "all")]
    simple = simple[simple["key"].isna()].set_index("outcome")
    assert simple.loc["rd_intensity", "status"] != "estimated"
    assert np.isnan(simple.loc["rd_intensity", "qvalue"])
    assert np.isnan(simple.loc["rd_intensity", "pvalue"])
    estimated = simple[simple["status"] == "estimated"]
    # the family is the six estimated outcomes: computed without the missing one
    np.testing.assert_allclose(
        estimated["qvalue"], anderson_reference(estimated["pvalue"].tolist()), atol=1e-12
    )
