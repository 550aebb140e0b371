"""A run publishes what it can: each unit of estimation (program x outcome x subgroup x
estimator, each return figure) is estimated or stored with the reason it is not, and one
unit's failure never stops the others (evaluation.impact, evaluation.reasons)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation import engine as engine_module
from evaluation import impact as impact_module
from evaluation.impact import (
    ESTIMATOR,
    TWFE_ESTIMATOR,
    EvaluationSpec,
    estimate_impacts,
    screen_covariates,
)
from evaluation.outcomes import BUILTIN, OutcomeDefinition, outcome_values
from evaluation.reasons import REASONS, NotEstimated, Reason, describe

from .test_impact import program_panel

CS = "callaway_santanna_2021"


def spec(**kw: object) -> EvaluationSpec:
    """A quick specification: no subgroups, few band draws, unless asked."""
    return EvaluationSpec(**{"subgroups": (), "band_draws": 20, **kw})  # type: ignore[arg-type]


def simple(est: pd.DataFrame, outcome: str, estimator: str = CS) -> pd.Series:
    rows = est[
        (est["outcome"] == outcome)
        & (est["aggregation"] == "simple")
        & (est["estimator"] == estimator)
        & (est["subgroup"] == "all")
    ]
    assert len(rows) == 1, (outcome, estimator, len(rows))
    return rows.iloc[0]


def assert_reason(row: pd.Series, code: str) -> None:
    assert row["reason"] == code, (row.get("reason"), row.get("note"))
    assert row["status"] == REASONS[code].status
    assert pd.isna(row["estimate"])
    assert row["note"] == Reason(code, json.loads(row["reason_params"])).note


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return program_panel(n=900)


def test_every_reason_has_a_status_and_fills_its_placeholders() -> None:
    for code, kind in REASONS.items():
        assert kind.status in ("not_estimated", "not_estimable", "not_run"), code
        text = describe(code, {"n": 3, "min": 30, "column": "sales", "error": "x"})
        assert "{" not in text and text, code
    with pytest.raises(KeyError):
        Reason("no_such_reason")


def test_a_constant_outcome_is_not_estimable_and_the_others_go_on(panel: pd.DataFrame) -> None:
    """Before: a constant outcome was published as 0.0 [0.0, 0.0]."""
    flat = panel.assign(exporter=panel.groupby("firm_id")["exporter"].transform("first"))
    est = estimate_impacts(flat, spec()).estimates
    assert_reason(simple(est, "exporter"), "outcome_constant")
    # one row per whole-sample estimator (the legacy TWFE too), no aggregations of a non-estimate
    rows = est[est["outcome"] == "exporter"]
    assert sorted(rows["estimator"]) == sorted([ESTIMATOR, "imputation", TWFE_ESTIMATOR])
    sales = simple(est, "log_sales")
    assert sales["status"] == "estimated" and abs(sales["estimate"] - 0.10) < 4 * sales["std_error"]


def test_only_sales_and_employment_publishes_everything_it_can(panel: pd.DataFrame) -> None:
    """A register with sales and employment only: no value added, wages, exports or R&D.
    Before: estimation stopped on log_va_per_worker; with it dropped, matching failed on
    its covariate, and with matching off, ROI failed on value added."""
    bare = panel.assign(
        log_wage_per_worker=np.nan,
        log_va_per_worker=np.nan,
        exporter=np.nan,
        rd_intensity=np.nan,
        value_added_usd=np.nan,
    )
    result = estimate_impacts(bare, spec())
    est = result.estimates
    for outcome in ("log_wage_per_worker", "log_va_per_worker", "exporter", "rd_intensity"):
        assert_reason(simple(est, outcome), "outcome_not_submitted")
    for outcome in ("log_sales", "log_employment", "employment"):
        assert simple(est, outcome)["status"] == "estimated"
    # matching goes on without the covariate that has no data, and says so
    matched = simple(est, "log_sales", "matching_did")
    assert matched["status"] == "estimated"
    assert abs(matched["estimate"] - 0.10) < 4 * matched["std_error"]
    balance = result.balance.set_index("covariate")
    assert balance.loc["log_va_per_worker", "dropped"] == "no_data"
    assert balance["dropped"].drop("log_va_per_worker").isna().all()
    # value added per dollar says why; sales per dollar and cost per job are estimated
    roi = result.roi[(result.roi["basis"] == "counterfactual") & result.roi["shown"]]
    roi = roi.set_index("metric")
    assert roi.loc["value_added_per_dollar", "reason"] == "outcome_not_submitted"
    assert pd.isna(roi.loc["value_added_per_dollar", "estimate"])
    assert (roi.loc[["sales_per_dollar", "cost_per_job"], "status"] == "estimated").all()


def test_value_added_as_a_fixed_share_of_sales_drops_the_collinear_covariate(
    panel: pd.DataFrame,
) -> None:
    """Value added imputed as 30% of sales: VA per worker = ln 0.3 + ln sales - ln
    employment exactly. Before: the logit was singular and the run stopped, blaming
    'no overlap'."""
    imputed = panel.assign(
        log_va_per_worker=np.log(0.3) + panel["log_sales"] - panel["log_employment"]
    )
    result = estimate_impacts(imputed, spec())
    balance = result.balance.set_index("covariate")
    assert balance.loc["log_va_per_worker", "dropped"] == "collinear"
    assert simple(result.estimates, "log_sales", "matching_did")["status"] == "estimated"


def test_screen_covariates_names_each_drop() -> None:
    rng = np.random.default_rng(1)
    n = 200
    a, b = rng.normal(size=n), rng.normal(size=n)
    firms = pd.DataFrame(
        {
            "treated": (rng.random(n) < 0.3).astype(int),
            "a": a,
            "b": b,
            "a_plus_b": 2 * a - b + 1,
            "flat": 5.0,
            "empty": np.nan,
        }
    )
    kept, dropped = screen_covariates(firms, ("a", "b", "a_plus_b", "flat", "empty", "missing"))
    assert kept == ("a", "b")
    assert dropped == {
        "a_plus_b": "collinear",
        "flat": "constant",
        "empty": "no_data",
        "missing": "no_data",
    }


def test_not_yet_treated_with_one_cohort_and_no_never_treated(panel: pd.DataFrame) -> None:
    """Every beneficiary enters in 2017 and there are no never-treated firms: nothing to
    compare with. Before: `aggregate` raised and nothing was stored for any program."""
    treated = panel[panel["cohort"] > 0].assign(cohort=2017)
    # a second program keeps its comparison firms and must be estimated as usual
    both = pd.concat([treated, panel.assign(program_id="Q")], ignore_index=True)
    result = estimate_impacts(both, spec(control_group="notyettreated"))
    est = result.estimates
    p = est[est["program_id"] == "P"]
    assert_reason(simple(p, "log_sales"), "no_comparison_cells")
    q = est[est["program_id"] == "Q"]
    assert simple(q, "log_sales")["status"] == "estimated"
    roi = result.roi[(result.roi["program_id"] == "P") & (result.roi["basis"] == "counterfactual")]
    assert set(roi["reason"]) == {"no_comparison_cells"}


def test_a_region_without_comparison_firms_is_one_reason_not_a_crash(panel: pd.DataFrame) -> None:
    """All comparison firms of region 'Isla' moved to 'Norte': Isla's beneficiaries have
    no comparison firms there."""
    moved = panel.copy()
    isla = moved["region"] == "Isla"
    moved.loc[isla & (moved["cohort"] == 0), "region"] = "Norte"
    extra = panel[panel["cohort"] > 0].assign(region="Isla")  # enough beneficiaries
    extra["firm_id"] = "x" + extra["firm_id"]
    moved = pd.concat([moved, extra], ignore_index=True)
    est = estimate_impacts(moved, spec(subgroups=("region",))).estimates
    rows = est[(est["subgroup"] == "region") & (est["subgroup_value"] == "Isla")]
    assert len(rows) == 2 and set(rows["reason"]) == {"no_comparison_firms"}
    norte = est[(est["subgroup"] == "region") & (est["subgroup_value"] == "Norte")]
    assert (norte["status"] == "estimated").all()


def test_entry_in_the_first_year_of_data_has_no_pre_entry_year(panel: pd.DataFrame) -> None:
    first = panel.assign(cohort=np.where(panel["cohort"] > 0, panel["year"].min(), 0))
    est = estimate_impacts(first, spec(estimators=("callaway_santanna",))).estimates
    assert_reason(simple(est, "log_sales"), "no_pre_entry_year")


def test_a_program_of_eight_firms_is_estimated_without_a_pre_trend_test(
    panel: pd.DataFrame,
) -> None:
    ids = panel.loc[panel["cohort"] > 0, "firm_id"].drop_duplicates().head(8)
    small = panel[(panel["cohort"] == 0) | panel["firm_id"].isin(ids)]
    est = estimate_impacts(small, spec(estimators=("callaway_santanna",))).estimates
    row = simple(est, "log_sales")
    assert row["status"] == "estimated" and np.isfinite(row["estimate"])
    assert pd.isna(row["pretrend_passes"]) and row["pretrend_reason"] == "pretrend_too_few_firms"
    params = json.loads(row["pretrend_reason_params"])
    assert params["min"] == 50 and 0 < params["n"] <= 8


def test_an_estimator_bug_in_one_unit_is_that_units_reason(
    panel: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error inside one outcome's estimator stores that outcome as
    'estimation_failed' with the error; the other outcomes are estimated."""
    real = engine_module.att_gt

    def flaky(frame: pd.DataFrame, **kw: object) -> object:
        if kw["outcome"] == "log_employment":
            raise ZeroDivisionError("boom")
        return real(frame, **kw)

    monkeypatch.setattr(engine_module, "att_gt", flaky)
    est = estimate_impacts(panel, spec(estimators=("callaway_santanna",))).estimates
    row = simple(est, "log_employment")
    assert_reason(row, "estimation_failed")
    assert "ZeroDivisionError: boom" in row["note"]
    assert simple(est, "log_sales")["status"] == "estimated"


def test_each_program_can_have_its_own_specification(panel: pd.DataFrame) -> None:
    two = pd.concat([panel, panel.assign(program_id="Q")], ignore_index=True)
    specs = {
        "P": spec(outcomes=("log_sales",), estimators=("callaway_santanna",)),
        "Q": spec(
            outcomes=("log_employment",),
            estimators=("callaway_santanna",),
            control_group="notyettreated",
        ),
    }
    result = estimate_impacts(two, specs)
    est = result.estimates
    assert set(est.loc[est["program_id"] == "P", "outcome"]) == {"log_sales"}
    assert set(est.loc[est["program_id"] == "Q", "outcome"]) == {"log_employment"}
    q = est[est["program_id"] == "Q"]
    assert set(q["comparison_group"]) == {"notyettreated"}
    assert json.loads(q["specification"].iloc[0])["control_group"] == "notyettreated"


def test_an_outcome_the_agency_defines(panel: pd.DataFrame) -> None:
    """Earnings in levels (constant USD) and log sales per worker, from the panel's
    columns; the unit of each is stored for the reports."""
    data = panel.assign(wage_bill_usd=np.exp(panel["log_wage_per_worker"]) * panel["employment"])
    earnings = OutcomeDefinition("earnings", "wage_bill", "level", label="wage bill", money=True)
    productivity = OutcomeDefinition("log_sales_per_worker", "sales", "log", per="employment")
    result = estimate_impacts(
        data,
        spec(
            outcomes=("earnings", "log_sales_per_worker"),
            outcome_definitions=(earnings, productivity),
            estimators=("callaway_santanna",),
        ),
    )
    est = result.estimates
    assert simple(est, "earnings")["unit"] == "usd"
    row = simple(est, "log_sales_per_worker")
    assert row["unit"] == "pct"
    # sales per worker = +0.10 sales - 0.05 employment, planted
    assert abs(row["estimate"] - 0.05) < 4 * row["std_error"]
    stored = json.loads(row["specification"])["outcome_definitions"]
    assert [d["name"] for d in stored] == ["earnings", "log_sales_per_worker"]
    assert stored[0]["unit"] == "usd" and stored[0]["label"] == "wage bill"


def test_outcome_transforms_and_their_rule_for_zeros_and_negatives() -> None:
    frame = pd.DataFrame(
        {
            "sales_usd": [0.0, 100.0, -5.0, np.nan, 50.0],
            "employment": [2.0, 0.0, 4.0, 1.0, 5.0],
            "exports_usd": [0.0, 3.0, np.nan, 1.0, 0.0],
        }
    )

    def values(**kw: object) -> list[float]:
        d = OutcomeDefinition("y", **kw)  # type: ignore[arg-type]
        return outcome_values(frame, d).round(6).tolist()

    nan = np.nan
    assert values(column="sales", transform="log") == pytest.approx(
        [nan, np.log(100), nan, nan, np.log(50)], nan_ok=True
    )
    assert values(column="sales", transform="log", zeros="log1p") == pytest.approx(
        [0.0, round(np.log1p(100), 6), nan, nan, round(np.log1p(50), 6)], nan_ok=True
    )
    assert values(column="sales", transform="share", per="employment") == pytest.approx(
        [0.0, nan, -1.25, nan, 10.0], nan_ok=True
    )
    assert values(column="exports", transform="indicator") == pytest.approx(
        [0.0, 1.0, nan, 1.0, 0.0], nan_ok=True
    )
    assert values(column="value_added", transform="level") == pytest.approx([nan] * 5, nan_ok=True)
    assert OutcomeDefinition("y", "sales", "level", money=True).unit == "usd"
    assert OutcomeDefinition("y", "employment", "level").unit == "jobs"
    assert OutcomeDefinition("y", "exports", "indicator").unit == "pp"
    with pytest.raises(ValueError, match="needs `per`"):
        OutcomeDefinition("y", "rd_spend", "share")


def test_builtin_definitions_reproduce_the_mart(tmp_path) -> None:
    """The seven built-in outcomes, computed from the mart's level columns by
    evaluation.outcomes, equal the mart's own columns (same rules for zeros, negatives
    and missing denominators)."""
    import duckdb

    from .test_disclosure import build_planted_warehouse

    path = build_planted_warehouse(tmp_path, seed=5)
    with duckdb.connect(str(path), read_only=True) as con:
        mart = con.sql("select * from marts.mart_evaluation_panel").df()
    assert len(mart) > 1000
    for name, definition in BUILTIN.items():
        # (employment in levels is its own source column)
        source = mart if name == definition.column else mart.drop(columns=[name])
        computed = outcome_values(source, definition)
        pd.testing.assert_series_equal(
            computed, mart[name].astype(float), check_names=False, rtol=1e-12
        )


def test_the_readme_documents_every_reason() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [code for code in REASONS if f"| `{code}` |" not in readme]
    assert not missing, f"README's table of reasons lacks {missing}"


def test_free_services_and_no_jobs_are_reasons_not_crashes(panel: pd.DataFrame) -> None:
    """Services at no public cost (in kind) and a survey of them; a program whose
    employment effect is nil: reasons, where before a ZeroDivisionError stopped the run."""
    survey = pd.Series(
        {
            "respondents": 40,
            "respondents_public_cost_usd": 0.0,
            "new_sales_usd": 1e6,
            "retained_sales_usd": 0.0,
            "jobs_created": 0.0,
            "jobs_retained": 0.0,
        }
    )
    free = panel.assign(public_cost_usd=0.0)
    result = impact_module.evaluate_program(free, spec(estimators=("callaway_santanna",)), survey)
    roi = result.roi
    assert set(roi["reason"]) == {"no_public_cost"} and roi["estimate"].isna().all()
    # a program that cuts jobs (-5% from entry): jobs are estimated, cost per job is not
    post = ((panel["cohort"] > 0) & (panel["year"] >= panel["cohort"])).to_numpy()
    cut = panel.assign(employment=panel["employment"] * np.exp(-0.10 * post))
    cut = cut.assign(log_employment=np.log(cut["employment"]))
    result = impact_module.evaluate_program(cut, spec(estimators=("callaway_santanna",)))
    jobs = result.roi[result.roi["metric"] == "cost_per_job"]
    assert (jobs["numerator"] < 0).all() and len(jobs) == 2  # both scales
    assert (jobs["reason"] == "no_jobs_created").all() and jobs["estimate"].isna().all()
    assert jobs["shown"].sum() == 1 and (jobs["status"] == "not_estimable").all()


def test_matching_without_comparison_firms_says_so(panel: pd.DataFrame) -> None:
    only = panel[panel["cohort"] > 0]
    est = estimate_impacts(only, spec(control_group="notyettreated")).estimates
    assert_reason(simple(est, "log_sales", "matching_did"), "no_comparison_firms")


def test_baselines_come_from_one_year_and_rounded_imputations_are_collinear(
    panel: pd.DataFrame,
) -> None:
    """A firm's baseline is its first observed year, whole (a missing value there is not
    filled from a later year, which could be after entry); value added imputed as 30% of
    sales and rounded to currency units is still collinear."""
    holes = panel.copy()
    first = holes.groupby("firm_id")["year"].transform("min") == holes["year"]
    holes.loc[first & (holes["firm_id"] == "f1"), "log_sales"] = np.nan
    base = impact_module.baseline_firms(holes, ())
    assert np.isnan(base.set_index("firm_id").loc["f1", "log_sales"])
    sales = np.round(np.exp(panel["log_sales"]))
    rounded = panel.assign(log_va_per_worker=np.log(np.round(0.3 * sales) / panel["employment"]))
    balance = estimate_impacts(rounded, spec()).balance.set_index("covariate")
    assert balance.loc["log_va_per_worker", "dropped"] == "collinear"


def test_a_covariate_constant_within_a_subgroup_is_left_out_there(panel: pd.DataFrame) -> None:
    est = estimate_impacts(
        panel,
        spec(
            outcomes=("log_sales",),
            estimators=("callaway_santanna",),
            covariates=("size_class",),
            subgroups=("size_class",),
            min_subgroup_beneficiaries=10,
        ),
    ).estimates
    groups = est[est["subgroup"] == "size_class"]
    assert len(groups) == 2 and (groups["status"] == "estimated").all()


def test_one_firm_that_changes_makes_an_outcome_estimable(panel: pd.DataFrame) -> None:
    """The constant-outcome check reads every firm: flat everywhere but in one firm-year
    is not constant; flat everywhere is; one value in all rows is 'no variation'."""
    flat = panel.groupby("firm_id")["exporter"].transform("first")
    check = impact_module.check_design
    with pytest.raises(NotEstimated) as constant:
        check(panel.assign(exporter=flat), "exporter", spec())
    assert constant.value.reason.code == "outcome_constant"
    moved = flat.copy()
    moved.iloc[len(moved) // 2] += 1.0  # a single change, anywhere, is variation
    check(panel.assign(exporter=moved), "exporter", spec())
    with pytest.raises(NotEstimated) as single:
        check(panel.assign(exporter=2.0), "exporter", spec())
    assert single.value.reason.code == "outcome_no_variation"
