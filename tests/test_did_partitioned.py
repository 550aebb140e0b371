"""Callaway-Sant'Anna from partitions (evaluation.did_partitioned) equals one scan.

The panel sits in a DuckDB file (as a warehouse holds it) or in Parquet files; it is
estimated once by att_gt_sql on the whole panel and once partition by partition, for
several numbers of partitions (1; a few; more partitions than some cohorts have units,
so that some partitions lack a cohort or hold no unit at all). Cells, SEs, counts and
every aggregation (simple, group, dynamic, calendar; with and without an event window)
must agree to 1e-10: the sums are the same, added in another order (observed ~1e-14).
did's checks give the same errors and warnings. On a Dask cluster: tests/test_dask.py.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation.did_duckdb import aggregate_sql, att_gt_sql, influence_view, uniform_band_sql
from evaluation.did_partitioned import PanelSource, att_gt_partitioned
from tests.test_did import SYNTH, make_panel

TOL = 1e-10
KINDS = ("simple", "group", "dynamic", "calendar")


def _stored(tmp_path: Path, df: pd.DataFrame, name: str = "panel.duckdb") -> PanelSource:
    path = tmp_path / name
    with duckdb.connect(str(path)) as con:
        con.register("df", df)
        con.execute("CREATE TABLE panel AS SELECT * FROM df")
    return PanelSource(**SYNTH, relation="panel", database=path)


def _assert_same(df: pd.DataFrame, source: PanelSource, partitions: int, **options: object) -> None:
    whole = duckdb.connect()
    whole.register("panel", df)
    ref = att_gt_sql(whole, "panel", **SYNTH, **options)  # type: ignore[arg-type]
    con = duckdb.connect()
    gt = att_gt_partitioned(con, source, partitions=partitions, **options)  # type: ignore[arg-type]
    assert gt.n_units == ref.n_units and not gt.unit_rows
    pd.testing.assert_frame_equal(gt.cells, ref.cells, check_exact=False, rtol=0, atol=TOL)
    pd.testing.assert_frame_equal(gt.cohort_sizes, ref.cohort_sizes)
    for kind, window in itertools.product(KINDS, ({}, {"min_e": -2, "max_e": 1})):
        ours, want = (
            aggregate_sql(con, gt, kind, **window),
            aggregate_sql(whole, ref, kind, **window),
        )
        got = [ours.overall_att, ours.overall_se, ours.ci_low, ours.ci_high]
        np.testing.assert_allclose(
            got, [want.overall_att, want.overall_se, want.ci_low, want.ci_high], rtol=0, atol=TOL
        )
        pd.testing.assert_frame_equal(ours.table, want.table, check_exact=False, rtol=0, atol=TOL)
    gt.drop(con)
    left = con.sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[0][0]
    assert left == 0  # nothing of the partitions' passes or the estimate stays behind


@pytest.mark.parametrize("partitions", [1, 3, 16])
def test_a_balanced_panel_from_partitions_equals_one_scan(tmp_path: Path, partitions: int) -> None:
    df = make_panel(n_units=600, seed=3)
    _assert_same(df, _stored(tmp_path, df), partitions)


@pytest.mark.parametrize(
    ("control_group", "base_period", "anticipation"),
    [("nevertreated", "universal", 0), ("notyettreated", "varying", 1)],
)
def test_an_unbalanced_panel_with_gaps_from_partitions_equals_one_scan(
    tmp_path: Path, control_group: str, base_period: str, anticipation: int
) -> None:
    df = make_panel(n_units=500, seed=8)
    df = df.sample(frac=0.7, random_state=2).copy()  # entry, exit and gaps
    df.loc[df.sample(frac=0.03, random_state=3).index, "y"] = np.nan
    df.loc[df["firm"] % 7 == 0, "first_year"] = 2030  # treated after the panel: never
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cohorts without a pre-period, as in one scan
        _assert_same(
            df,
            _stored(tmp_path, df),
            5,
            control_group=control_group,
            base_period=base_period,
            anticipation=anticipation,
        )


def test_parquet_partitions_and_text_unit_ids(tmp_path: Path) -> None:
    df = make_panel(n_units=300, seed=4)
    df["firm"] = "F-" + df["firm"].astype(str)
    df.to_parquet(tmp_path / "panel.parquet")
    source = PanelSource(**SYNTH, parquet=str(tmp_path / "*.parquet"))
    _assert_same(df, source, 4)


def test_did_checks_give_the_same_errors_and_warnings(tmp_path: Path) -> None:
    df = make_panel(n_units=200, seed=5)

    def partitioned(frame: pd.DataFrame, **options: object) -> None:
        source = _stored(tmp_path, frame, f"p{len(list(tmp_path.iterdir()))}.duckdb")
        att_gt_partitioned(duckdb.connect(), source, partitions=3, **options)  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="first_year"):
        partitioned(df.drop(columns="first_year"))
    with pytest.raises(ValueError, match="control_group"):
        partitioned(df, control_group="everyone")
    with pytest.raises(ValueError, match="partitions must be a positive integer"):
        att_gt_partitioned(duckdb.connect(), _stored(tmp_path, df), partitions=0)
    with pytest.raises(ValueError, match="no never-treated units"):
        partitioned(make_panel(n_units=200, with_never=False))
    bad = df.copy()
    bad.loc[bad.index[0], "first_year"] = 2011
    with pytest.raises(ValueError, match="'first_year' must be constant within each 'firm'"):
        partitioned(bad)
    with pytest.raises(ValueError, match=r"duplicate \('firm', 'year'\) rows with non-missing 'y'"):
        partitioned(pd.concat([df, df.head(1)]))
    bad = df.copy()
    bad["year"] = bad["year"] + 0.5
    with pytest.raises(ValueError, match="'year' must hold integer periods"):
        partitioned(bad)
    bad = df.astype({"firm": "float64"})
    bad.loc[bad.index[:3], "firm"] = np.nan
    with pytest.raises(ValueError, match="'firm' has missing unit ids"):
        partitioned(bad)
    early = df.copy()
    early.loc[early["firm"] % 11 == 0, "first_year"] = 2010
    with pytest.warns(UserWarning, match="already treated in the first period"):
        partitioned(early)


def test_unit_level_output_is_refused_with_the_reason(tmp_path: Path) -> None:
    con = duckdb.connect()
    gt = att_gt_partitioned(con, _stored(tmp_path, make_panel(n_units=200)), partitions=2)
    with pytest.raises(ValueError, match="combined from partitions"):
        influence_view(con, gt)
    with pytest.raises(ValueError, match="combined from partitions"):
        uniform_band_sql(con, gt)
