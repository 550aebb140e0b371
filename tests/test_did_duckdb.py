"""Tests for evaluation.did_duckdb: the SQL path equals moderndid 0.2.0 and evaluation.did.

Tolerances: against moderndid (R did port) point estimates must agree to 1e-6 and
analytic SEs to 1e-4, as in tests/test_did.py. Against evaluation.did, which computes the
same formulas in numpy, everything (ATT, SE, CI, counts) must agree to 1e-9: the SQL path
sums cross-products of centred outcomes instead of squared deviations, so only float
rounding differs (observed ~1e-13). moderndid balances unbalanced panels while both of
our paths use all available pairs, so unbalanced panels are checked against did.py only.
"""

from __future__ import annotations

import importlib.resources
import itertools
import math
import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation.diagnostics import pretrend_test, small_sample_corrected
from evaluation.did import AggregateATT, aggregate, att_gt, table_covariance
from evaluation.did_duckdb import (
    GroupTimeSQL,
    aggregate_sql,
    att_gt_sql,
    influence_view,
    overall_influence_sql,
    quote_ident,
    uniform_band,
    uniform_band_sql,
)
from tests.test_did import MPDTA, SYNTH, make_panel

moderndid = pytest.importorskip("moderndid")  # dev dependency; import takes a few seconds

ATT_TOL = 1e-6  # vs moderndid: same arithmetic, float rounding only
SE_TOL = 1e-4  # vs moderndid: same analytic formula
EXACT_TOL = 1e-9  # vs evaluation.did: same formulas, different summation order
KINDS = ("simple", "group", "dynamic", "calendar")


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return moderndid.load_mpdta().to_pandas()


@pytest.fixture(scope="module")
def synth() -> pd.DataFrame:
    return make_panel()


def _sql_gt(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, cols: dict[str, str], **kw):
    con.register("panel", df)
    return att_gt_sql(con, "panel", **cols, **kw)


def _moderndid_gt(df: pd.DataFrame, cols: dict[str, str], **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return moderndid.att_gt(
            df,
            yname=cols["outcome"],
            tname=cols["time"],
            gname=cols["cohort"],
            idname=cols["unit"],
            xformla=None,
            est_method="reg",
            boot=False,
            cband=False,
            **kw,
        )


def _assert_agg_equal(ours: AggregateATT, ref: AggregateATT, tol: float) -> None:
    """Two AggregateATT (SQL vs pandas path) agree field by field."""
    assert ours.kind == ref.kind
    got = [ours.overall_att, ours.overall_se, ours.ci_low, ours.ci_high]
    want = [ref.overall_att, ref.overall_se, ref.ci_low, ref.ci_high]
    np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=ours.kind)
    pd.testing.assert_frame_equal(ours.table, ref.table, check_exact=False, rtol=0, atol=tol)


def _assert_matches_pandas(
    con: duckdb.DuckDBPyConnection,
    df: pd.DataFrame,
    cols: dict[str, str],
    windows: tuple[dict[str, float], ...] = ({},),
    **kw,
) -> GroupTimeSQL:
    # with the corrected moments too: the plain results must not depend on that
    gt = _sql_gt(con, df, cols, small_sample=True, **kw)
    ref = att_gt(df, **cols, **kw)
    assert gt.n_units == ref.n_units
    pd.testing.assert_frame_equal(gt.cells, ref.cells, check_exact=False, rtol=0, atol=EXACT_TOL)
    corrected, ref_corrected = gt.small_sample_corrected(), small_sample_corrected(ref)
    pd.testing.assert_frame_equal(corrected.cells, gt.cells)
    for kind, window in itertools.product(KINDS, windows):
        ours = aggregate_sql(con, gt, kind, **window)
        assert ours.influence is None and ours.table_influence is None and ours.vcov is None
        reference = aggregate(ref, kind, **window)
        _assert_agg_equal(ours, reference, EXACT_TOL)
        if len(reference.table) and reference.table_influence is not None:
            _assert_vcov_equal(aggregate_sql(con, gt, kind, vcov=True, **window), reference, ref)
        # the n - 1 corrected variant (the pre-entry test's and the ROI totals')
        ours = aggregate_sql(con, corrected, kind, vcov=True, **window)
        reference = aggregate(ref_corrected, kind, **window)
        _assert_agg_equal(ours, reference, EXACT_TOL)
        if len(reference.table) and reference.table_influence is not None:
            _assert_vcov_equal(ours, reference, ref)
    return gt


def _assert_vcov_equal(ours: AggregateATT, reference: AggregateATT, ref_gt) -> None:
    """The SQL path's covariance of the keys (from the Gram matrix) is the pandas path's
    IF'IF / n^2, every pair; its diagonal gives the keys' SEs."""
    n = ref_gt.n_units
    got, want = table_covariance(ours, n), table_covariance(reference, n)
    assert got.shape == want.shape == (len(reference.table),) * 2
    # relative to the largest variance: the entries span orders of magnitude
    scale = max(float(np.abs(want).max()), 1e-300)
    np.testing.assert_allclose(got / scale, want / scale, rtol=0, atol=EXACT_TOL)
    defined = ours.table["se"].notna().to_numpy()
    np.testing.assert_allclose(
        np.sqrt(np.diag(got))[defined], ours.table["se"].to_numpy()[defined], rtol=1e-9
    )


def _assert_matches_moderndid(
    con: duckdb.DuckDBPyConnection, df: pd.DataFrame, cols: dict[str, str], **kw
) -> GroupTimeSQL:
    gt = _assert_matches_pandas(con, df, cols, **kw)
    ref = _moderndid_gt(df, cols, **kw)
    cells = gt.cells
    np.testing.assert_array_equal(cells["group"], ref.groups)
    np.testing.assert_array_equal(cells["time"], ref.times)
    np.testing.assert_allclose(cells["att"], ref.att_gt, rtol=0, atol=ATT_TOL)
    np.testing.assert_allclose(cells["se"], ref.se_gt, rtol=0, atol=SE_TOL)  # NaN = NA
    assert gt.n_units == ref.n_units
    for kind in KINDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = moderndid.aggte(ref, type=kind, boot=False, cband=False)
        ours = aggregate_sql(con, gt, kind)
        assert ours.overall_att == pytest.approx(r.overall_att, abs=ATT_TOL), kind
        assert ours.overall_se == pytest.approx(r.overall_se, abs=SE_TOL), kind
        if kind == "simple":
            assert ours.table.empty
            continue
        np.testing.assert_array_equal(ours.table["key"], r.event_times)
        np.testing.assert_allclose(ours.table["att"], r.att_by_event, rtol=0, atol=ATT_TOL)
        np.testing.assert_allclose(ours.table["se"], r.se_by_event, rtol=0, atol=SE_TOL)
    return gt


# ---------------------------------------------------------------- parity with moderndid


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_mpdta_matches_moderndid(con, mpdta: pd.DataFrame, control_group: str) -> None:
    gt = _assert_matches_moderndid(con, mpdta, MPDTA, control_group=control_group)
    assert gt.control_group == control_group
    assert list(gt.cells.columns) == list(att_gt(mpdta, **MPDTA).cells.columns)
    assert gt.cohort_sizes["n_units"].sum() == gt.n_units == 500


def test_mpdta_universal_base_matches_moderndid(con, mpdta: pd.DataFrame) -> None:
    gt = _assert_matches_moderndid(
        con, mpdta, MPDTA, control_group="notyettreated", base_period="universal"
    )
    ref_cells = gt.cells[gt.cells["time"] == gt.cells["base_period"]]
    assert len(ref_cells) == 3 and (ref_cells["att"] == 0).all() and ref_cells["se"].isna().all()


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_synthetic_matches_moderndid(con, synth: pd.DataFrame, control_group: str) -> None:
    _assert_matches_moderndid(con, synth, SYNTH, control_group=control_group)


def test_synthetic_anticipation_universal_matches_moderndid(con, synth: pd.DataFrame) -> None:
    _assert_matches_moderndid(
        con, synth, SYNTH, control_group="nevertreated", base_period="universal", anticipation=1
    )
    _assert_matches_moderndid(con, synth, SYNTH, control_group="notyettreated", anticipation=1)


def test_notyettreated_without_never_treated_matches_moderndid(con) -> None:
    df = make_panel(n_units=600, seed=3, with_never=False)
    _assert_matches_moderndid(con, df, SYNTH, control_group="notyettreated")


def test_event_window_matches_moderndid(con, synth: pd.DataFrame) -> None:
    gt = _sql_gt(con, synth, SYNTH)
    ref = _moderndid_gt(synth, SYNTH)
    for kind in KINDS:
        r = moderndid.aggte(ref, type=kind, boot=False, cband=False, min_e=-2, max_e=1)
        ours = aggregate_sql(con, gt, kind, min_e=-2, max_e=1)
        assert ours.overall_att == pytest.approx(r.overall_att, abs=ATT_TOL), kind
        assert ours.overall_se == pytest.approx(r.overall_se, abs=SE_TOL), kind


# ---------------------------------------------------------------- parity with did.py


def _unbalanced(df: pd.DataFrame, frac: float, seed: int) -> pd.DataFrame:
    """Drop rows at random (entry/exit, gaps) and blank a few outcomes."""
    out = df.sample(frac=frac, random_state=seed).copy()
    out.loc[out.sample(frac=0.03, random_state=seed + 1).index, "y"] = np.nan
    return out


@pytest.mark.parametrize(
    ("control_group", "base_period"),
    list(itertools.product(["nevertreated", "notyettreated"], ["varying", "universal"])),
)
def test_unbalanced_panel_matches_did_py(con, synth: pd.DataFrame, control_group, base_period):
    df = _unbalanced(synth, 0.8, 11)
    windows = ({}, {"min_e": -2, "max_e": 1})
    _assert_matches_pandas(
        con, df, SYNTH, windows, control_group=control_group, base_period=base_period
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_unbalanced_panels_match_did_py(con, seed: int) -> None:
    # 30% of rows kept: many observation patterns, empty cells (NA under universal base).
    df = _unbalanced(make_panel(n_units=300, seed=seed, with_never=seed == 1), 0.3, seed)
    combos = [("notyettreated", "varying", 0), ("notyettreated", "universal", 2)]
    if seed == 1:  # the seed-2 panel has no never-treated units
        combos += [("nevertreated", "universal", 0), ("nevertreated", "varying", 2)]
    for control_group, base_period, anticipation in combos:
        _assert_matches_pandas(
            con,
            df,
            SYNTH,
            ({}, {"max_e": -1}),
            control_group=control_group,
            base_period=base_period,
            anticipation=anticipation,
        )


def test_gaps_late_and_early_cohorts_match_did_py(con) -> None:
    df = make_panel(n_units=400, seed=5)
    df = df[df["year"] % 2 == 0].copy()  # every other year: gaps between periods
    df.loc[df["firm"] % 7 == 0, "first_year"] = 2030  # treated after the panel: never
    df.loc[df["firm"] % 11 == 0, "first_year"] = 2010  # treated in the first period
    for control_group in ("nevertreated", "notyettreated"):
        with pytest.warns(UserWarning, match="already treated in the first period"):
            gt = _assert_matches_pandas(con, df, SYNTH, control_group=control_group)
            assert gt.n_units == att_gt(df, **SYNTH).n_units


def test_influence_view_equals_did_py_influence(con, synth: pd.DataFrame) -> None:
    df = _unbalanced(synth, 0.9, 4)
    gt = _sql_gt(con, df, SYNTH, control_group="notyettreated", small_sample=True)
    ref = att_gt(df, **SYNTH, control_group="notyettreated")
    for ours, want in ((gt, ref), (gt.small_sample_corrected(), small_sample_corrected(ref))):
        view = influence_view(con, ours)
        long = con.sql(f"SELECT cell_id, uid, unit_id, inf FROM {view}").df()
        dense = np.zeros_like(want.influence)
        dense[long["uid"].to_numpy(), long["cell_id"].to_numpy()] = long["inf"].to_numpy()
        np.testing.assert_allclose(dense, want.influence, rtol=0, atol=EXACT_TOL)
        ids = long.drop_duplicates("uid").sort_values("uid")
        np.testing.assert_array_equal(ids["unit_id"], want.unit_ids[ids["uid"].to_numpy()])


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_overall_influence_equals_did_py(con, synth: pd.DataFrame, control_group: str) -> None:
    df = _unbalanced(synth, 0.85, 6)
    gt = _sql_gt(con, df, SYNTH, control_group=control_group)
    ref = att_gt(df, **SYNTH, control_group=control_group)
    for kind in KINDS:
        ids, influence = overall_influence_sql(con, gt, kind)
        want = aggregate(ref, kind).influence
        np.testing.assert_array_equal(ids, ref.unit_ids)
        np.testing.assert_allclose(influence, want, rtol=0, atol=EXACT_TOL * np.abs(want).max())
        # its mean square is the overall SE the aggregation reports
        se = aggregate_sql(con, gt, kind).overall_se
        assert math.sqrt(np.sum(influence**2)) / gt.n_units == pytest.approx(se, rel=1e-9)


@pytest.mark.parametrize("corrected", [False, True])
def test_the_pretrend_test_and_horizons_read_either_path(
    con, synth: pd.DataFrame, corrected: bool
) -> None:
    """The pipeline's consumers of an event study work on the SQL path's covariance as on
    the numpy path's influence functions (plain, and with the n - 1 correction the
    pre-entry test uses)."""
    from evaluation.impact import horizon_effects

    df = _unbalanced(synth, 0.85, 8)
    gt, ref = _sql_gt(con, df, SYNTH, small_sample=True), att_gt(df, **SYNTH)
    if corrected:
        gt, ref = gt.small_sample_corrected(), small_sample_corrected(ref)
    ours = aggregate_sql(con, gt, "dynamic", vcov=True)
    want = aggregate(ref, "dynamic")
    assert ours.table_influence is None and want.vcov is None  # each path its own way
    for min_e in (None, -2):
        got, expected = (pretrend_test(a, ref.n_units, min_e=min_e) for a in (ours, want))
        assert got.dof == expected.dof > 0 and got.passes == expected.passes
        assert got.statistic == pytest.approx(expected.statistic, rel=1e-9)
        assert got.pvalue == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)
    horizons = horizon_effects(ours, ref.n_units)
    assert len(horizons) == len(horizon_effects(want, ref.n_units)) > 0
    for (name, att, se), (name_np, att_np, se_np) in zip(
        horizons, horizon_effects(want, ref.n_units), strict=True
    ):
        assert name == name_np
        assert att == pytest.approx(att_np, abs=EXACT_TOL)
        assert se == pytest.approx(se_np, rel=1e-9)


def test_the_corrected_variant_needs_its_moments_and_is_corrected_once(
    con, synth: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="small_sample=True"):
        _sql_gt(con, synth, SYNTH).small_sample_corrected()
    corrected = _sql_gt(con, synth, SYNTH, small_sample=True).small_sample_corrected()
    with pytest.raises(ValueError, match="already corrected"):
        corrected.small_sample_corrected()
    corrected.drop(con)  # the plain tables too: the variant shares them
    left = {name.strip('"') for name in corrected.tables.values()}
    tables = {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()}
    assert not left & tables


# ---------------------------------------------------------------- uniform band


def test_uniform_band_is_deterministic_and_between_pointwise_and_bonferroni(
    con, synth: pd.DataFrame
) -> None:
    gt = _sql_gt(con, synth, SYNTH)
    band = uniform_band_sql(con, gt, seed=7)
    assert band.kind == "dynamic" and band.biters == 1000
    assert band.pointwise_crit == pytest.approx(1.959964, abs=1e-6)
    # 13 event times: a simultaneous band is wider than pointwise intervals but, as the
    # estimates are correlated, narrower than Bonferroni's.
    assert 1.96 < band.crit_value < band.bonferroni_crit
    assert len(band.table) == len(aggregate_sql(con, gt, "dynamic").table) == 13
    t = band.table
    np.testing.assert_allclose(t["band_high"] - t["att"], band.crit_value * t["boot_se"])
    assert ((t["boot_se"] / t["se"]).between(0.85, 1.15)).all()  # bootstrap ~ analytic SE
    # Same seed, other fetch chunks: same draws. (Only float rounding may differ: DuckDB's
    # parallel sums are not bit-reproducible, and the draws are summed in float32.)
    again = uniform_band_sql(con, gt, seed=7, chunk_units=10_000)
    assert again.crit_value == pytest.approx(band.crit_value, rel=1e-9)
    pd.testing.assert_frame_equal(again.table, band.table, check_exact=False, rtol=1e-9)
    assert uniform_band_sql(con, gt, seed=8).crit_value != band.crit_value


def test_uniform_band_sql_equals_pandas_path(con, synth: pd.DataFrame) -> None:
    # Same units order (cohort, id) and one bootstrap routine: same draws, same band.
    df = _unbalanced(synth, 0.85, 3)
    gt = _sql_gt(con, df, SYNTH, control_group="notyettreated")
    agg = aggregate(att_gt(df, **SYNTH, control_group="notyettreated"), "dynamic")
    for seed in (0, 1):
        a, b = uniform_band_sql(con, gt, seed=seed), uniform_band(agg, seed=seed)
        assert a.crit_value == pytest.approx(b.crit_value, rel=1e-6)
        pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-5)
    cal = uniform_band_sql(con, gt, "calendar", seed=0)
    assert cal.crit_value == pytest.approx(
        uniform_band(
            aggregate(att_gt(df, **SYNTH, control_group="notyettreated"), "calendar"), seed=0
        ).crit_value,
        rel=1e-6,
    )


def test_uniform_band_close_to_moderndid(con, mpdta: pd.DataFrame) -> None:
    # moderndid draws its own Mammen weights, so the critical values are two Monte Carlo
    # estimates of the same quantile: with B = 1000 each has an SD of ~0.05 (~2%) on
    # mpdta (measured over seeds), so 10% of moderndid's seed-average (5 seeds) is a
    # > 4 SD margin that still catches a wrong studentization or weight distribution.
    gt = _sql_gt(con, mpdta, MPDTA)
    ref = _moderndid_gt(mpdta, MPDTA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [
            moderndid.aggte(
                ref, type="dynamic", boot=True, cband=True, biters=1000, random_state=s
            ).critical_values[0]
            for s in range(5)
        ]
    ours = uniform_band_sql(con, gt, seed=0)
    assert ours.crit_value > 1.96
    assert ours.crit_value == pytest.approx(np.mean(theirs), rel=0.10)


def test_uniform_band_requires_table_influence(con, synth: pd.DataFrame) -> None:
    gt = _sql_gt(con, synth, SYNTH)
    with pytest.raises(ValueError, match="table_influence"):
        uniform_band(aggregate_sql(con, gt, "dynamic"))
    with pytest.raises(ValueError, match="simple"):
        uniform_band_sql(con, gt, "simple")
    with pytest.raises(ValueError, match="seed"):
        uniform_band_sql(con, gt, seed=-1)


# ---------------------------------------------------------------- input handling


def test_errors_and_warnings_match_did_py(con, synth: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="first_year"):
        _sql_gt(con, synth.drop(columns="first_year"), SYNTH)
    with pytest.raises(ValueError, match="control_group"):
        _sql_gt(con, synth, SYNTH, control_group="everyone")
    with pytest.raises(ValueError, match="base_period"):
        _sql_gt(con, synth, SYNTH, base_period="fixed")
    with pytest.raises(ValueError, match="no never-treated units"):
        _sql_gt(con, make_panel(n_units=300, with_never=False), SYNTH)
    bad = synth.copy()
    bad.loc[bad.index[0], "first_year"] = 2011
    with pytest.raises(ValueError, match="constant within"):
        _sql_gt(con, bad, SYNTH)
    with pytest.raises(ValueError, match="duplicate"):
        _sql_gt(con, pd.concat([synth, synth.head(1)]), SYNTH)
    bad = synth.copy()
    bad["year"] = bad["year"] + 0.5
    with pytest.raises(ValueError, match="integer periods"):
        _sql_gt(con, bad, SYNTH)
    gt = _sql_gt(con, synth, SYNTH)
    with pytest.raises(ValueError, match="kind"):
        aggregate_sql(con, gt, "overall")
    weekly = make_panel(n_units=50).assign(year=lambda d: (d["firm"] % 20) * 10 + d["year"])
    with pytest.raises(ValueError, match="at most 126 distinct periods"):
        _sql_gt(con, weekly, SYNTH)


def test_temp_tables_are_cleaned_up(synth: pd.DataFrame) -> None:
    con = duckdb.connect()

    def tables() -> set[str]:
        rows = con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        views = con.sql("SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()
        return {r[0] for r in rows + views} - baseline

    con.register("panel", synth)
    baseline: set[str] = set()
    baseline = tables()
    gt = att_gt_sql(con, "panel", **SYNTH)
    after_gt = tables()
    for kind in KINDS:
        aggregate_sql(con, gt, kind)
    uniform_band_sql(con, gt, biters=50)
    influence_view(con, gt)
    assert tables() - after_gt <= {t.strip('"') for t in gt.tables.values()}
    gt.drop(con)
    assert tables() == set()
    con.register("panel", pd.concat([synth, synth.head(1)]))
    with pytest.raises(ValueError):  # a failed estimate leaves nothing behind either
        att_gt_sql(con, "panel", **SYNTH)
    assert tables() == set()


def test_quoted_identifiers(synth: pd.DataFrame) -> None:
    con = duckdb.connect()
    odd = synth.rename(columns={"firm": 'firm "id"', "year": "select", "y": "y.value"})
    con.execute("CREATE SCHEMA s")
    con.register("tmp_view", odd)
    con.execute('CREATE TABLE s."my panel" AS SELECT * FROM tmp_view')
    cols = {"unit": 'firm "id"', "time": "select", "cohort": "first_year", "outcome": "y.value"}
    gt = att_gt_sql(con, "s.my panel", **cols)
    pd.testing.assert_frame_equal(
        gt.cells, att_gt(synth, **SYNTH).cells, check_exact=False, rtol=0, atol=EXACT_TOL
    )
    assert quote_ident('a"b') == '"a""b"'
    with pytest.raises(ValueError):
        quote_ident("")


def test_sql_files_are_package_resources() -> None:
    sql_dir = importlib.resources.files("evaluation") / "sql"
    names = {p.name for p in sql_dir.iterdir()}
    assert {"did_prepare.sql", "did_att_gt.sql", "did_aggregate.sql"} <= names


def test_parquet_view_and_string_ids(tmp_path, synth: pd.DataFrame) -> None:
    # The intended large-panel use: a view over parquet files, non-integer unit ids.
    df = synth.assign(firm="f" + synth["firm"].astype(str))
    path = tmp_path / "panel.parquet"
    df.to_parquet(path)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW pq AS SELECT * FROM read_parquet({str(path)!r})")
    gt = att_gt_sql(con, "pq", **SYNTH)
    ref = att_gt(df, **SYNTH)
    pd.testing.assert_frame_equal(gt.cells, ref.cells, check_exact=False, rtol=0, atol=EXACT_TOL)
    agg = aggregate_sql(con, gt, "dynamic")
    assert math.isfinite(agg.overall_se)
    band, band_pd = (
        uniform_band_sql(con, gt, seed=3),
        uniform_band(aggregate(ref, "dynamic"), seed=3),
    )
    assert band.crit_value == pytest.approx(band_pd.crit_value, rel=1e-6)


def test_the_covariance_of_a_panel_past_46341_units_does_not_overflow() -> None:
    """n^2 passes INT32 at 46,341 units: the vcov statement once multiplied the bound n as
    an INT32 and failed on every national-register program (found by
    benchmarks/bench_engine.py). 60,000 units, the numpy path's IF'IF / n^2."""
    con = duckdb.connect()
    panel = make_panel(n_units=60_000, seed=21)
    gt = _sql_gt(con, panel, SYNTH)
    ref = att_gt(panel, **SYNTH)
    assert gt.n_units == 60_000
    for kind in ("dynamic", "calendar"):
        _assert_vcov_equal(aggregate_sql(con, gt, kind, vcov=True), aggregate(ref, kind), ref)
