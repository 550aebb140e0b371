"""The evaluation design per program: horizons, subgroups, matching, ROI, traceability."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.did import aggregate, att_gt
from evaluation.impact import EvaluationSpec, estimate_impacts, horizon_effects


def program_panel(seed: int = 5, n: int = 1500) -> pd.DataFrame:
    """A program's evaluation panel with every column the mart provides.

    Planted: log sales +0.10 from entry on, log employment +0.05; levels follow.
    """
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 2015, 2017, 2019], size=n, p=[0.7, 0.1, 0.1, 0.1])
    size = rng.normal(3, 0.8, n) + 0.3 * (cohort > 0)
    sector = rng.choice(["food, beverages, tobacco", "metals and metal products"], size=n)
    region = rng.choice(["Norte", "Sur", "Isla"], size=n, p=[0.48, 0.48, 0.04])
    frames = []
    for t in range(2012, 2023):
        post = (cohort > 0) & (t >= cohort)
        log_emp = size + 0.01 * (t - 2012) + rng.normal(0, 0.05, n) + 0.05 * post
        log_sales = size + 10 + 0.02 * (t - 2012) + rng.normal(0, 0.05, n) + 0.10 * post
        emp, sales = np.exp(log_emp), np.exp(log_sales)
        frames.append(
            pd.DataFrame(
                {
                    "program_id": "P",
                    "firm_id": [f"f{i}" for i in range(n)],
                    "year": t,
                    "cohort": cohort,
                    "public_cost_usd": np.where(cohort > 0, 20_000.0, 0.0),
                    "log_sales": log_sales,
                    "log_employment": log_emp,
                    "log_wage_per_worker": 9 + rng.normal(0, 0.05, n),
                    "log_va_per_worker": log_sales - log_emp - 1 + rng.normal(0, 0.05, n),
                    "exporter": (rng.random(n) < 0.3).astype(float),
                    "rd_intensity": rng.uniform(0, 0.02, n),
                    "employment": emp,
                    "sales_usd": sales,
                    "value_added_usd": 0.35 * sales,
                    "size_class": np.where(size > 3, "small (10-49)", "micro (<10)"),
                    "sector": sector,
                    "region": region,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def impact():
    return estimate_impacts(program_panel(), EvaluationSpec())


def test_every_outcome_has_all_aggregations_and_horizons(impact) -> None:
    est = impact.estimates
    cs = est[(est["estimator"] == "callaway_santanna_2021") & (est["subgroup"] == "all")]
    for outcome in EvaluationSpec().outcomes:
        kinds = set(cs.loc[cs["outcome"] == outcome, "aggregation"])
        assert kinds == {"simple", "group", "dynamic", "calendar", "horizon"}, outcome
        labels = set(cs.loc[(cs["outcome"] == outcome) & (cs["aggregation"] == "horizon"), "label"])
        assert labels == {"short", "medium", "long"}
    simple = cs[(cs["aggregation"] == "simple")].set_index("outcome")
    # planted effects recovered within 4 SE (seeded data)
    assert (
        abs(simple.loc["log_sales", "estimate"] - 0.10) <= 4 * simple.loc["log_sales", "std_error"]
    )
    assert (
        abs(simple.loc["log_employment", "estimate"] - 0.05)
        <= 4 * simple.loc["log_employment", "std_error"]
    )
    # every row is traceable to its specification
    spec = json.loads(est["specification"].iloc[0])
    assert spec["control_group"] == "nevertreated" and spec["base_period"] == "varying"
    assert simple["pretrend_passes"].notna().all()


def test_horizons_are_means_of_event_time_effects_with_if_based_errors() -> None:
    panel = program_panel()
    gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome="log_sales")
    dynamic = aggregate(gt, "dynamic")
    horizons = {name: (est, se) for name, est, se in horizon_effects(dynamic, gt.n_units)}
    table = dynamic.table.set_index("key")
    assert horizons["short"][0] == pytest.approx(table.loc[[0, 1], "att"].mean())
    assert horizons["long"][0] == pytest.approx(table.loc[table.index >= 4, "att"].mean())
    # the SE of a mean of correlated estimates is not the mean of their SEs
    assert horizons["medium"][1] != pytest.approx(table.loc[[2, 3], "se"].mean(), rel=1e-3)
    assert 0 < horizons["medium"][1] < table.loc[[2, 3], "se"].max()


def test_subgroups_are_estimated_or_say_why_not(impact) -> None:
    sub = impact.estimates[impact.estimates["subgroup"] == "region"]
    isla = sub[sub["subgroup_value"] == "Isla"]
    # Isla has too few beneficiaries: stored with its reason, not dropped
    assert isla["estimate"].isna().all() and len(isla) == 2
    assert (isla["status"] == "not_estimated").all()
    assert (isla["reason"] == "too_few_beneficiaries").all()
    assert json.loads(isla["reason_params"].iloc[0])["min"] == 30
    assert isla["note"].str.startswith("not estimated: ").all()
    norte = sub[(sub["subgroup_value"] == "Norte") & (sub["outcome"] == "log_sales")].iloc[0]
    assert abs(norte["estimate"] - 0.10) <= 4 * norte["std_error"]


def test_matching_did_and_balance(impact) -> None:
    matched = impact.estimates[impact.estimates["estimator"] == "matching_did"]
    overall = matched[(matched["aggregation"] == "simple")].set_index("outcome")
    assert (
        abs(overall.loc["log_sales", "estimate"] - 0.10)
        <= 4 * overall.loc["log_sales", "std_error"]
    )
    assert set(matched["comparison_group"]) == {"matched_nevertreated"}
    balance = impact.balance.set_index("covariate")
    assert (balance["smd_before"].abs() > 0.2).any()  # beneficiaries are bigger ...
    assert (balance["smd_after"].abs() < 0.1).all()  # ... and matching balances them


def test_roi_rows_for_every_metric(impact) -> None:
    both = impact.roi
    assert set(both["scale"]) == {"log", "level"} and (both.groupby("metric").size() == 2).all()
    roi = both[both["shown"].astype(bool)].set_index("metric")
    assert set(roi.index) == {"value_added_per_dollar", "sales_per_dollar", "cost_per_job"}
    assert (roi["basis"] == "counterfactual").all()
    # the test panel has parallel trends in logs: the log scale passes its pre-entry test
    assert (roi["scale"] == "log").all() and (roi["scale_choice"] == "log_passes").all()
    assert (roi["ci_low"] < roi["estimate"]).all() and (roi["estimate"] < roi["ci_high"]).all()
    # public cost: 20,000 per beneficiary in cohorts with post-entry effects
    assert roi.loc["sales_per_dollar", "public_cost_usd"] == pytest.approx(
        20_000 * roi.loc["sales_per_dollar", "beneficiaries"]
    )


def test_covariate_adjusted_estimates_flow_through_the_same_design() -> None:
    spec = EvaluationSpec(
        outcomes=("log_sales",),
        subgroups=(),
        estimators=("callaway_santanna",),
        covariates=("size_class",),
    )
    impact = estimate_impacts(program_panel(), spec)
    est = impact.estimates
    simple = est[(est["aggregation"] == "simple") & (est["outcome"] == "log_sales")].iloc[0]
    assert abs(simple["estimate"] - 0.10) <= 4 * simple["std_error"]
    assert json.loads(simple["specification"])["covariates"] == ["size_class"]
    assert set(est.loc[est["aggregation"] == "horizon", "label"]) == {"short", "medium", "long"}


def test_the_event_study_carries_its_simultaneous_band(impact) -> None:
    """Headline outcomes get the uniform band of did's multiplier bootstrap, per event
    time; it equals the band computed directly and is wider than the pointwise interval
    on the whole. (Its coverage, 94.2% over 500 seeded panels, is measured by
    benchmarks/monte_carlo_coverage.py: one seed cannot test a 95% property.)"""
    from evaluation.did_duckdb import uniform_band

    est = impact.estimates
    cs = est[(est["estimator"] == "callaway_santanna_2021") & (est["subgroup"] == "all")]
    dynamic = cs[(cs["aggregation"] == "dynamic") & cs["key"].notna()]
    for outcome in EvaluationSpec().outcomes:
        rows = dynamic[dynamic["outcome"] == outcome].set_index("key").sort_index()
        if outcome not in ("log_sales", "log_employment"):
            assert rows["band_low"].isna().all()  # only the charted outcomes
            continue
        spec = EvaluationSpec()
        gt = att_gt(program_panel(), unit="firm_id", time="year", cohort="cohort", outcome=outcome)
        direct = uniform_band(aggregate(gt, "dynamic"), seed=spec.bootstrap_seed).table
        direct = direct.set_index("key").sort_index()
        np.testing.assert_allclose(rows["band_low"], direct["band_low"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(rows["band_high"], direct["band_high"], rtol=0, atol=1e-12)
        assert (
            (rows["band_high"] - rows["band_low"]) > (rows["ci_high"] - rows["ci_low"])
        ).mean() > 0.8
