"""Robustness to violations of parallel trends (evaluation.sensitivity): what a run stores
in results.sensitivity equals a direct call of evaluation.honest on the same event study,
a unit that cannot support it says why, and program pages say it in one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation import honest, sensitivity
from evaluation.did import att_gt
from evaluation.impact import EvaluationSpec, estimate_impacts
from evaluation.reasons import REASONS
from reports.i18n import Translator
from reports.site import build_site
from warehouse.results import save_run_results

from .test_impact import program_panel

SPEC = EvaluationSpec(
    outcomes=("log_sales", "log_employment"), estimators=("callaway_santanna",), subgroups=()
)


def _stored(con: duckdb.DuckDBPyConnection, panel: pd.DataFrame, run_id: str) -> pd.DataFrame:
    impact = estimate_impacts(panel, SPEC)
    save_run_results(
        con,
        run_id,
        data_version="v1",
        impact=impact,
        input_versions={"P": "i1"},
        reused={},
    )
    return con.execute("select * from results.sensitivity where run_id = ?", [run_id]).df()


def test_stored_values_equal_a_direct_call_of_honest(fresh_db: duckdb.DuckDBPyConnection) -> None:
    panel = program_panel(seed=3, n=1200)
    stored = _stored(fresh_db, panel, "r1")
    assert set(stored["outcome"]) == {"log_sales", "log_employment"}
    assert (stored["run_id"] == "r1").all() and (stored["data_version"] == "v1").all()
    assert stored["specification"].notna().all() and (stored["input_version"] == "i1").all()
    for outcome, rows in stored.groupby("outcome"):
        gt = att_gt(
            panel,
            unit="firm_id",
            time="year",
            cohort="cohort",
            outcome=str(outcome),
            base_period="universal",
        )
        es = honest.event_study_with_covariance(
            gt, min_e=sensitivity.WINDOW[0], max_e=sensitivity.WINDOW[1]
        )
        assert (es.num_pre, es.num_post) == (3, 4)
        lv = np.full(es.num_post, 1 / es.num_post)
        args = (es.betahat, es.sigma, es.num_pre, es.num_post)

        def one(
            method: str,
            quantity: str = "interval",
            m: float | None = None,
            rows: pd.DataFrame = rows,
        ) -> pd.Series:
            pick = rows[(rows["method"] == method) & (rows["quantity"] == quantity)]
            if m is not None:
                pick = pick[np.isclose(pick["m"], m, rtol=0, atol=1e-12)]
            assert len(pick) == 1, (method, quantity, m)
            return pick.iloc[0]

        original = honest.original_ci(*args, l_vec=lv)
        row = one("original")
        assert row["lower"] == pytest.approx(original.lb, abs=1e-10)
        assert row["upper"] == pytest.approx(original.ub, abs=1e-10)
        assert row["estimate"] == pytest.approx(float(lv @ es.betahat[3:]), abs=1e-10)

        rm = {}
        for mbar in sensitivity.MBAR_GRID:
            lo, hi = sensitivity.theta_grid(es, mbar)
            ci = honest.conditional_cs_rm(
                *args, mbar=mbar, l_vec=lv, grid_points=200, grid_lb=lo, grid_ub=hi
            )
            rm[mbar] = ci
            row = one("relative_magnitudes", m=mbar)
            assert row["lower"] == pytest.approx(ci.lb, abs=1e-10), (outcome, mbar)
            assert row["upper"] == pytest.approx(ci.ub, abs=1e-10), (outcome, mbar)
        reference = honest.upper_bound_m_pre(es.betahat, es.sigma, es.num_pre)
        m_grid = [k * reference for k in sensitivity.M_MULTIPLES]
        for m in m_grid:
            flci = honest.flci_sd(*args, m=m, l_vec=lv)
            row = one("smoothness", m=m)
            assert row["lower"] == pytest.approx(flci.lb, abs=1e-10)
            assert row["upper"] == pytest.approx(flci.ub, abs=1e-10)

        # the breakdown values: the largest bound of each grid whose set excludes 0
        assert original.excludes(0.0)  # planted effects: +10% sales, +5% employment
        expected_rm = honest.breakdown_value(
            lambda v, rm=rm: rm[v].excludes(0.0), sensitivity.MBAR_GRID
        )
        expected_sd = honest.breakdown_sd(*args, m_grid=m_grid, l_vec=lv)
        for method, expected in (("relative_magnitudes", expected_rm), ("smoothness", expected_sd)):
            row = one(method, "breakdown")
            assert row["status"] == "estimated", row["note"]
            assert row["m"] == pytest.approx(expected, abs=1e-10), (outcome, method)


def test_a_unit_with_too_few_leads_gets_its_reason(fresh_db: duckdb.DuckDBPyConnection) -> None:
    """One cohort entering in 2017 of a panel starting in 2015: event time -2 is the only
    lead besides the reference year."""
    panel = program_panel(seed=4, n=900)
    panel = panel[panel["cohort"].isin([0, 2017]) & (panel["year"] >= 2015)]
    stored = _stored(fresh_db, panel, "r2")
    assert len(stored) == 2 * 3  # per outcome: original, and each method's breakdown
    assert set(stored["reason"]) == {"sensitivity_too_few_leads"}
    assert set(stored["status"]) == {REASONS["sensitivity_too_few_leads"].status}
    assert stored["lower"].isna().all() and stored["m"].isna().all()
    params = json.loads(stored["reason_params"].iloc[0])
    assert params == {"leads": 1, "min": sensitivity.MIN_LEADS}
    assert "1 pre-entry years with an estimate" in stored["note"].iloc[0]


def test_an_effect_that_is_not_significant_has_no_breakdown() -> None:
    es = honest.EventStudy(
        betahat=np.array([0.01, -0.01, 0.0, 0.01, 0.0, 0.01]),
        sigma=np.eye(6) * 0.01**2,
        event_times=np.array([-4, -3, -2, 0, 1, 2]),
        num_pre=3,
        num_post=3,
        influence=np.zeros((1, 6)),
    )
    rows = sensitivity.sensitivity_rows(es, "log_sales")
    breakdown = [r for r in rows if r["quantity"] == "breakdown"]
    assert {r["reason"] for r in breakdown} == {"sensitivity_not_significant"}
    # the sets are still stored (the chart shows them)
    assert sum(r["quantity"] == "interval" for r in rows) == 1 + 5 + 5
    singular = honest.EventStudy(
        betahat=es.betahat,
        sigma=np.zeros((6, 6)),
        event_times=es.event_times,
        num_pre=3,
        num_post=3,
        influence=es.influence,
    )
    with pytest.raises(sensitivity.NotEstimated, match="singular"):
        sensitivity.sensitivity_rows(singular, "log_sales")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .test_disclosure import build_planted_warehouse

    return build_planted_warehouse(tmp_path_factory.mktemp("planted"), seed=11)


def test_program_pages_state_the_breakdown_value_or_why_not(planted: Path, tmp_path: Path) -> None:
    from .test_disclosure import RUN_ID

    with duckdb.connect(str(planted), read_only=True) as con:
        stored = con.execute("select * from results.sensitivity where run_id = ?", [RUN_ID]).df()
        site = build_site(con, tmp_path, period="2024", lang="en", run_id=RUN_ID, images=False)
        programs = con.sql("select program_id from staging.stg_programs").df()["program_id"]
    assert len(stored)
    t = Translator("en")
    shown = 0
    for pid in programs:
        page = next(p for p in site.pages if p.name == f"program-{pid.lower()}.html")
        html = page.read_text(encoding="utf-8")
        assert 'id="robustness"' in html, pid
        mine = stored[
            (stored["program_id"] == pid)
            & (stored["outcome"] == "log_sales")
            & (stored["method"] == "relative_magnitudes")
            & (stored["quantity"] == "breakdown")
        ]
        assert len(mine) == 1, pid
        row = mine.iloc[0]
        item = html.split('data-outcome="log_sales"', 1)[1].split("</li>", 1)[0]
        if row["status"] == "estimated" and not row["at_least"]:
            m = float(row["m"])
            value = t.num(m, 0 if m.is_integer() else 1)
            assert (
                f"stays significant unless post-entry violations of parallel trends exceed {value} times"
                in item
            )
            shown += 1
        elif row["status"] == "estimated":
            assert "stays significant even if" in item
            shown += 1
        elif "suppressed" not in item:
            assert REASONS[row["reason"]].text.split("{")[0][:30] in item.replace("&#39;", "'")
    assert shown, "no program page shows a breakdown value"
    method = (site.path / "methodology.html").read_text(encoding="utf-8")
    assert "breakdown value" in method and 'id="breakdown"' in method
