"""Both engines of Callaway-Sant'Anna store the same results (evaluation.engine).

The numpy engine holds each outcome's unit x cell influence functions in memory; the
DuckDB engine keeps moments in a connection and never builds them. A whole program's
evaluation (effects and their aggregations, horizons, pre-entry tests, the event study's
band, subgroups, Romano-Wolf p-values, ROI on both scales, HonestDiD sensitivity) must
come out the same on either. Tolerance: 1e-9 relative to each column's scale. The two
compute the same sums in a different order (SQL aggregates moments of centred outcomes,
numpy sums influence functions), which agree to ~1e-12 on these panels
(tests/test_did_duckdb.py); the bootstrap band and Romano-Wolf share one seeded routine
and the same unit order, so they agree to the same rounding."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import engine
from evaluation.did import att_gt
from evaluation.engine import GroupTimeDuckDB, choose, combination_se, dense_bytes
from evaluation.impact import EvaluationSpec, ProgramImpact, evaluate_program

from .test_impact import program_panel

TOL = 1e-9
KEYS = {
    "estimates": [
        "outcome",
        "estimator",
        "aggregation",
        "key",
        "label",
        "subgroup",
        "subgroup_value",
    ],
    "att_gt": ["outcome", "cohort", "year"],
    "roi": ["metric", "basis", "scale"],
    "sensitivity": None,  # compared in row order (the same loops on either engine)
}


def _spec(**kw: object) -> EvaluationSpec:
    settings = {
        "estimators": ("callaway_santanna",),
        "subgroups": ("size_class",),
        "min_subgroup_beneficiaries": 20,
        "band_draws": 200,
        **kw,
    }
    return EvaluationSpec(**settings)  # type: ignore[arg-type]


def _survey() -> pd.Series:
    return pd.Series(
        {
            "respondents": 40,
            "respondents_public_cost_usd": 800_000.0,
            "new_sales_usd": 1_500_000.0,
            "retained_sales_usd": 500_000.0,
            "jobs_created": 8.0,
            "jobs_retained": 4.0,
        }
    )


def _sorted(frame: pd.DataFrame, keys: list[str] | None) -> pd.DataFrame:
    if keys is None:
        return frame.reset_index(drop=True)
    present = [k for k in keys if k in frame]
    return frame.sort_values(present, na_position="first", kind="stable").reset_index(drop=True)


def assert_same_impact(a: ProgramImpact, b: ProgramImpact) -> None:
    """Every table equal: labels exactly, numbers to TOL of the column's scale."""
    for table, keys in KEYS.items():
        left, right = _sorted(getattr(a, table), keys), _sorted(getattr(b, table), keys)
        assert list(left.columns) == list(right.columns), table
        assert len(left) == len(right), table
        for column in left.columns:
            x, y = left[column], right[column]
            if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
                xv, yv = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
                assert (np.isnan(xv) == np.isnan(yv)).all(), (table, column)
                finite = np.isfinite(xv)
                assert (xv[~finite] == yv[~finite]).all() or np.isnan(xv[~finite]).all()
                scale = max(1.0, float(np.abs(xv[finite]).max(initial=0.0)))
                np.testing.assert_allclose(
                    xv[finite], yv[finite], rtol=0, atol=TOL * scale, err_msg=f"{table}.{column}"
                )
            else:
                assert (
                    x.astype(object).where(x.notna(), None).tolist()
                    == y.astype(object).where(y.notna(), None).tolist()
                ), (table, column)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return program_panel(n=700)


@pytest.mark.parametrize(
    "design",
    [
        {},
        {"control_group": "notyettreated", "anticipation": 1},
        {"base_period": "universal"},
        # conditional parallel trends run through moderndid on either engine: mixed
        # estimates in one program must still agree
        {"covariates": ("sector",), "outcomes": ("log_sales", "log_employment")},
    ],
    ids=["default", "notyet-anticipation", "universal", "covariates"],
)
def test_a_program_is_evaluated_the_same_on_both_engines(
    panel: pd.DataFrame, design: dict[str, object]
) -> None:
    spec = _spec(**design)
    numpy_run = evaluate_program(panel, spec, _survey(), engine="numpy")
    duckdb_run = evaluate_program(panel, spec, _survey(), engine="duckdb")
    assert_same_impact(numpy_run, duckdb_run)
    est = duckdb_run.estimates
    # the run is a real one: effects, a band, a family-wise p-value, ROI figures, HonestDiD
    assert (est["status"] == "estimated").sum() > 40
    assert est["band_low"].notna().any() and est["pvalue_rw"].notna().any()
    assert (duckdb_run.roi["status"] == "estimated").sum() >= 4
    assert len(duckdb_run.sensitivity) > 0


def test_an_unbalanced_panel_with_thin_subgroups_and_reasons_is_the_same(
    panel: pd.DataFrame,
) -> None:
    """Rows missing at random, an outcome never observed after entry, a subgroup too thin
    to estimate: the estimates and the reasons of what is not estimated agree."""
    rng = np.random.default_rng(11)
    holes = panel[rng.random(len(panel)) > 0.15].copy()
    holes.loc[holes["cohort"].gt(0) & holes["year"].ge(holes["cohort"]), "rd_intensity"] = np.nan
    spec = _spec(subgroups=("region",), min_subgroup_beneficiaries=25)
    numpy_run = evaluate_program(holes, spec, engine="numpy")
    duckdb_run = evaluate_program(holes, spec, engine="duckdb")
    assert_same_impact(numpy_run, duckdb_run)
    reasons = set(duckdb_run.estimates["reason"].dropna())
    assert reasons, "the panel was meant to leave some units not estimated"


def test_the_roi_totals_standard_error_comes_from_the_gram_matrix(panel: pd.DataFrame) -> None:
    """combination_se on DuckDB (w' M w from the cells' Gram matrix) equals the numpy
    engine's (the weighted influence functions' norm) for any weights."""
    dense = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome="sales_usd")
    with engine.program_engine(panel, "duckdb") as duck:
        gt = duck.group_time(
            panel, "sales_usd", control_group="nevertreated", base_period="varying", anticipation=0
        )
        assert isinstance(gt, GroupTimeDuckDB)
        pd.testing.assert_frame_equal(gt.cells, dense.cells, rtol=1e-10, atol=1e-6)
        rng = np.random.default_rng(3)
        for _ in range(3):
            keep = rng.random(len(dense.cells)) < 0.6
            weights = rng.normal(size=int(keep.sum()))
            want = combination_se(dense, keep, weights)
            assert combination_se(gt, keep, weights) == pytest.approx(want, rel=1e-9)
        assert sorted(gt.unit_ids) == sorted(dense.unit_ids)
        assert sorted(gt.unit_cohort) == sorted(dense.unit_cohort)
        engine.release(gt)


def test_auto_picks_duckdb_only_when_the_influence_matrix_would_not_fit(
    panel: pd.DataFrame,
) -> None:
    size = dense_bytes(panel)
    # 700 firms, 3 cohorts, 11 years: 700 x 30 cells x 8 bytes
    assert size == 700 * 3 * 10 * 8
    assert choose("auto", panel) == "numpy"
    assert choose("auto", panel, limit=size - 1) == "duckdb"
    assert choose("numpy", panel, limit=0) == "numpy"
    with pytest.raises(ValueError, match="engine must be one of"):
        choose("spark", panel)
    with engine.program_engine(panel, "auto", limit=size - 1) as chosen:
        assert chosen.name == "duckdb"
    assert chosen.con is not None
    with pytest.raises(Exception, match="closed"):  # the connection is closed on exit
        chosen.con.execute("select 1")


def test_an_empty_program_needs_no_engine() -> None:
    assert dense_bytes(program_panel(n=50).iloc[0:0]) == 0
    assert choose("auto", program_panel(n=50).iloc[0:0]) == "numpy"


@pytest.mark.timeout(900)
def test_a_run_with_the_duckdb_engine_stores_the_numpy_runs_results(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The config's `estimation_engine` reaches every program's unit: the estimate step
    (real warehouse, real Prefect-free step as the flow calls it) stores the same rows."""
    from flows import steps

    from .test_dask import TABLES, _copy, _loaded, _stored

    loaded = _loaded(tmp_path / "loaded")
    on_numpy = _copy(loaded, tmp_path / "numpy").model_copy(update={"estimation_engine": "numpy"})
    on_duckdb = _copy(loaded, tmp_path / "duckdb").model_copy(
        update={"estimation_engine": "duckdb"}
    )
    assert not steps.estimate(on_numpy, "numpy").reused
    with caplog.at_level(logging.INFO, logger="evaluation.impact"):
        ran = steps.estimate(on_duckdb, "duckdb")
    assert ran.estimated and not ran.reused
    used = [r for r in caplog.records if "DuckDB engine" in r.getMessage()]
    assert len(used) == len(ran.estimated)  # every program, on DuckDB
    for table in TABLES:
        a, b = _stored(on_numpy, "numpy", table), _stored(on_duckdb, "duckdb", table)
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0, table
        numbers = list(a.select_dtypes("number").columns)
        labels = [c for c in a.columns if c not in numbers]
        pd.testing.assert_frame_equal(a[labels], b[labels], check_dtype=False)
        # the legacy TWFE's SEs (pyfixest, numba-parallel) move by ~1e-8 between runs
        legacy = (a["estimator"] == "twfe_legacy").to_numpy() if "estimator" in a else False
        for column in numbers:
            x, y = a[column].to_numpy(float), b[column].to_numpy(float)
            assert (np.isnan(x) == np.isnan(y)).all(), (table, column)
            ok = np.isfinite(x) & ~legacy
            scale = max(1.0, float(np.abs(x[ok]).max(initial=0.0)))
            np.testing.assert_allclose(
                x[ok], y[ok], rtol=0, atol=TOL * scale, err_msg=f"{table}.{column}"
            )


# Submission shapes (tests/shapes.py) whose panels stress what differs between the
# engines: one cohort, no never-treated firms, gaps and every other year, firms leaving,
# entry in the first year, a tiny program, three years, zeros, a constant outcome.
ODD_SHAPES = (
    "one_cohort",
    "not_yet_treated_only",
    "gaps_in_years",
    "biennial_outcomes",
    "firms_exit",
    "entry_first_year",
    "program_of_8",
    "three_years",
    "zeros_in_sales",
    "constant_outcome",
)


@pytest.mark.timeout(900)
def test_submission_shapes_evaluate_the_same_on_both_engines(tmp_path: Path) -> None:
    """Each shape loaded for real (ingest, marts), then each program's panel as the estimate
    step reads it, evaluated with its configured specification (Callaway-Sant'Anna only)
    on both engines: the same estimates, and the same reasons where none."""
    import dataclasses

    from flows import steps
    from flows.config import load_config
    from warehouse.db import open_warehouse
    from warehouse.results import read_evaluation_panel
    from warehouse.runs import start_run

    from .shapes import build

    compared = 0
    for name in ODD_SHAPES:
        config = load_config(build(name, tmp_path))
        settled = time.time() - 60  # the loader waits for files written moments ago
        for path in config.warehouse.parent.rglob("*"):
            os.utime(path, (settled, settled))
        with open_warehouse(config.warehouse) as con:
            start_run(con, "shape", "test", {"synthetic": True, "price_base_year": 2020})
        steps.ingest_sources(config, "shape")
        steps.build_warehouse(config)
        with open_warehouse(config.warehouse, read_only=True) as con:
            panel = read_evaluation_panel(con)
        for program_id, program in panel.groupby("program_id"):
            spec = dataclasses.replace(
                config.evaluation_spec(str(program_id)),
                estimators=("callaway_santanna",),
                band_draws=100,
            )
            runs = [evaluate_program(program, spec, engine=e) for e in ("numpy", "duckdb")]
            try:
                assert_same_impact(*runs)
            except AssertionError as exc:
                raise AssertionError(f"shape {name}, program {program_id}: {exc}") from exc
            compared += 1
    assert compared >= len(ODD_SHAPES)


def test_the_runs_duckdb_settings_reach_the_imputation_and_running_out_stops_the_run(
    panel: pd.DataFrame,
) -> None:
    """The imputation estimator's own DuckDB connection takes the run's settings (a run's
    memory cap holds there too), and memory exhaustion in DuckDB stops the run like
    Python's MemoryError rather than publishing the unit as failed."""
    import duckdb

    spec = _spec(estimators=("imputation",), outcomes=("log_sales",), subgroups=())
    small = panel[panel["firm_id"].isin(panel["firm_id"].unique()[:300])]
    fine = evaluate_program(small, spec, duckdb_config={"memory_limit": "1GB"}).estimates
    assert (fine["status"] == "estimated").all()
    with pytest.raises(duckdb.OutOfMemoryException):
        evaluate_program(small, spec, duckdb_config={"memory_limit": "1MB"})
