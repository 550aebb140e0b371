"""A second modern estimator and family-wise p-values in every run (issue 12): what a run
stores for the imputation estimator equals a direct call of evaluation.imputation on the
same rows, the stored Romano-Wolf p-values equal a direct call of romano_wolf on the same
influence functions, and program pages show both estimators side by side."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation.diagnostics import twfe_att
from evaluation.did import aggregate, att_gt
from evaluation.impact import EvaluationSpec, estimate_impacts
from evaluation.imputation import imputation
from evaluation.multiple import aligned_influence, bootstrap_deviations, romano_wolf
from reports.site import build_site
from warehouse.results import save_run_results

from .test_impact import program_panel

OUTCOMES = ("log_sales", "log_employment", "log_wage_per_worker")
SPEC = EvaluationSpec(
    outcomes=OUTCOMES,
    estimators=("callaway_santanna", "imputation"),
    subgroups=(),
    band_draws=299,
)
# planted in program_panel: log sales +0.10, log employment +0.05, wages 0
PLANTED = {"log_sales": 0.10, "log_employment": 0.05, "log_wage_per_worker": 0.0}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return program_panel(seed=8, n=900)


@pytest.fixture
def stored(fresh_db: duckdb.DuckDBPyConnection, panel: pd.DataFrame) -> pd.DataFrame:
    impact = estimate_impacts(panel, SPEC)
    save_run_results(
        fresh_db, "r1", data_version="v1", impact=impact, input_versions={"P": "i1"}, reused={}
    )
    return fresh_db.execute("select * from results.estimates where run_id = 'r1'").df()


def _simple(stored: pd.DataFrame, estimator: str) -> pd.DataFrame:
    rows = stored[
        (stored["estimator"] == estimator)
        & (stored["aggregation"] == "simple")
        & (stored["subgroup"] == "all")
        & stored["key"].isna()
    ]
    return rows.set_index("outcome").loc[list(OUTCOMES)]


def test_stored_imputation_effects_equal_a_direct_call(
    stored: pd.DataFrame, panel: pd.DataFrame
) -> None:
    mine = _simple(stored, "imputation")
    assert (mine["status"] == "estimated").all()
    assert (mine["comparison_group"] == "notyettreated").all()
    assert mine["pvalue_rw"].isna().all() and mine["qvalue"].isna().all()
    for outcome, row in mine.iterrows():
        direct = imputation(
            panel, unit="firm_id", time="year", cohort="cohort", outcome=str(outcome)
        )
        overall = direct.overall.iloc[0]
        assert row["estimate"] == pytest.approx(overall["att"], abs=1e-10)
        assert row["std_error"] == pytest.approx(overall["se"], abs=1e-10)
        assert abs(row["estimate"] - PLANTED[str(outcome)]) < 4 * row["std_error"], outcome
        events = stored[
            (stored["estimator"] == "imputation")
            & (stored["outcome"] == outcome)
            & (stored["aggregation"] == "dynamic")
        ].sort_values("key")
        np.testing.assert_allclose(events["key"], direct.event_time["e"])
        np.testing.assert_allclose(events["estimate"], direct.event_time["att"], atol=1e-10)
    # the design of record is unchanged beside it
    cs = _simple(stored, "callaway_santanna_2021")
    assert (cs["status"] == "estimated").all()
    # and the legacy TWFE is stored as the labelled comparison, equal to a direct fit
    legacy = _simple(stored, "twfe_legacy")
    for outcome, row in legacy.iterrows():
        fit = twfe_att(panel, unit="firm_id", time="year", cohort="cohort", outcome=str(outcome))
        assert row["estimate"] == pytest.approx(fit.att, abs=1e-10)
        assert row["std_error"] == pytest.approx(fit.se, abs=1e-10)


def test_stored_romano_wolf_pvalues_equal_a_direct_call(
    stored: pd.DataFrame, panel: pd.DataFrame
) -> None:
    cs = _simple(stored, "callaway_santanna_2021")
    pieces = []
    for outcome in OUTCOMES:
        gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome=outcome)
        agg = aggregate(gt, "simple")
        assert agg.overall_att == pytest.approx(cs.at[outcome, "estimate"], abs=1e-12)
        pieces.append((gt.unit_ids, agg.influence))
    _, psi = aligned_influence(pieces)
    est, se = cs["estimate"].to_numpy(), cs["std_error"].to_numpy()
    direct = romano_wolf(est, psi, std_errors=se, draws=SPEC.band_draws, seed=SPEC.bootstrap_seed)
    np.testing.assert_allclose(cs["pvalue_rw"].to_numpy(), direct, rtol=0, atol=1e-12)
    # each at least the outcome's own (unadjusted) bootstrap p-value
    t_star = np.abs(bootstrap_deviations(psi, draws=SPEC.band_draws, seed=SPEC.bootstrap_seed) / se)
    own = (np.sum(t_star >= np.abs(est / se), axis=0) + 1.0) / (SPEC.band_draws + 1.0)
    assert (cs["pvalue_rw"].to_numpy() >= own - 1e-12).all()
    # a true null stays insignificant, and only the family's rows carry the value
    assert cs.at["log_wage_per_worker", "pvalue_rw"] > 0.01
    assert stored["pvalue_rw"].notna().sum() == len(OUTCOMES)


def test_a_cached_program_keeps_its_romano_wolf_pvalues(
    fresh_db: duckdb.DuckDBPyConnection, stored: pd.DataFrame
) -> None:
    save_run_results(
        fresh_db, "r2", data_version="v1", impact=None, input_versions={}, reused={"P": "r1"}
    )
    again = fresh_db.execute("select * from results.estimates where run_id = 'r2'").df()
    pd.testing.assert_series_equal(
        _simple(again, "callaway_santanna_2021")["pvalue_rw"],
        _simple(stored, "callaway_santanna_2021")["pvalue_rw"],
    )
    assert (again["estimator"] == "imputation").sum() == (stored["estimator"] == "imputation").sum()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .test_disclosure import build_planted_warehouse

    return build_planted_warehouse(tmp_path_factory.mktemp("planted"), seed=11)


def test_program_pages_show_both_estimators_side_by_side(planted: Path, tmp_path: Path) -> None:
    from .test_disclosure import RUN_ID

    with duckdb.connect(str(planted), read_only=True) as con:
        stored = con.execute("select * from results.estimates where run_id = ?", [RUN_ID]).df()
        site = build_site(con, tmp_path, period="2024", lang="en", run_id=RUN_ID, images=False)
        programs = con.sql("select program_id from staging.stg_programs").df()["program_id"]
    assert (stored["estimator"] == "imputation").any()
    shown = 0
    for pid in programs:
        page = next(p for p in site.pages if p.name == f"program-{pid.lower()}.html")
        html = page.read_text(encoding="utf-8")
        assert "p (Romano-Wolf)" in html, pid
        assert "Do two modern estimators agree?" in html, pid
        table = html.split('data-table="estimator_agreement"', 1)[1].split("</table>", 1)[0]
        for row in re.findall(r"<tr data-outcome=.*?</tr>", table, flags=re.S):
            cs = re.search(r'data-col="callaway_santanna" class="([^"]*)"[^>]*>([^<]*)<', row)
            imp = re.search(r'data-col="imputation" class="([^"]*)"[^>]*>([^<]*)<', row)
            twfe = re.search(r'data-col="twfe_legacy" class="([^"]*)"[^>]*>([^<]*)<', row)
            assert cs and imp and twfe, row
            if "sup" in cs.group(1).split():  # hidden wherever the CS effect is
                assert "sup" in imp.group(1).split() and "sup" in twfe.group(1).split(), row
            elif " to " in cs.group(2) and " to " in imp.group(2):  # +1.2 (+0.3 to +2.1)
                shown += 1
    assert shown, "no program page shows both estimators' effects with their intervals"
    method = (site.path / "methodology.html").read_text(encoding="utf-8")
    assert 'id="imputation"' in method and 'id="romano-wolf"' in method
