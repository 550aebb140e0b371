"""Tests for evaluation.did: parity with moderndid 0.2.0 (R did port) and recovery checks.

Tolerances: point estimates must agree to 1e-6 because both sides do the same arithmetic
(means of first differences, pg-weighted averages) and differ only by float rounding
(observed ~1e-15). Standard errors are compared at 1e-4: they are also the same formula,
but a looser bound keeps the test about the estimator rather than summation order.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.did import AggregateATT, GroupTimeATT, aggregate, att_gt

moderndid = pytest.importorskip("moderndid")  # dev dependency; import takes a few seconds

ATT_TOL = 1e-6  # same arithmetic, float rounding only
SE_TOL = 1e-4  # same analytic formula; looser so only real formula differences fail
KINDS = ("simple", "group", "dynamic", "calendar")
MPDTA = {"unit": "countyreal", "time": "year", "cohort": "first.treat", "outcome": "lemp"}
SYNTH = {"unit": "firm", "time": "year", "cohort": "first_year", "outcome": "y"}


def _effect(e: np.ndarray) -> np.ndarray:
    """Planted effect: grows with event time, zero before treatment."""
    return np.where(e >= 0, 0.05 * (e + 1), 0.0)


def make_panel(n_units: int = 2000, seed: int = 7, with_never: bool = True) -> pd.DataFrame:
    """Balanced firm panel 2010-2019: unit FE, year FE, noise, staggered planted effect."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2020)
    cohorts = [2013, 2015, 2017] + ([0] if with_never else [])
    g = rng.choice(cohorts, size=n_units)
    unit_fe = rng.normal(0.0, 1.0, n_units)
    year_fe = rng.normal(0.0, 0.3, len(years))
    u = np.repeat(np.arange(n_units), len(years))
    yr_idx = np.tile(np.arange(len(years)), n_units)
    t = years[yr_idx]
    gg = g[u]
    effect = np.where(gg > 0, _effect(t - gg), 0.0)
    y = unit_fe[u] + year_fe[yr_idx] + effect + rng.normal(0.0, 0.5, len(u))
    return pd.DataFrame({"firm": 1000 + u, "year": t, "first_year": gg, "y": y})


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return moderndid.load_mpdta().to_pandas()


@pytest.fixture(scope="module")
def synth() -> pd.DataFrame:
    return make_panel()


def _reference(df: pd.DataFrame, cols: dict[str, str], **kw):
    # Without covariates reg/ipw/dr coincide; "reg" is the cheapest.
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


def _assert_matches_moderndid(
    df: pd.DataFrame, cols: dict[str, str], *, check_se: bool = True, **kw
) -> GroupTimeATT:
    ref = _reference(df, cols, **kw)
    gt = att_gt(df, **cols, **kw)
    cells = gt.cells
    np.testing.assert_array_equal(cells["group"], ref.groups)
    np.testing.assert_array_equal(cells["time"], ref.times)
    np.testing.assert_allclose(cells["att"], ref.att_gt, rtol=0, atol=ATT_TOL)
    assert gt.n_units == ref.n_units
    if check_se:
        # NaN where did reports NA (universal-base reference cell).
        np.testing.assert_allclose(cells["se"], ref.se_gt, rtol=0, atol=SE_TOL)
        np.testing.assert_allclose(gt.influence, ref.influence_func, rtol=0, atol=ATT_TOL)

    for kind in KINDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = moderndid.aggte(ref, type=kind, boot=False, cband=False)
        ours = aggregate(gt, kind)
        assert ours.kind == kind
        assert ours.overall_att == pytest.approx(r.overall_att, abs=ATT_TOL), kind
        if check_se:
            assert ours.overall_se == pytest.approx(r.overall_se, abs=SE_TOL), kind
        if kind == "simple":
            assert ours.table.empty
            continue
        np.testing.assert_array_equal(ours.table["key"], r.event_times)
        np.testing.assert_allclose(ours.table["att"], r.att_by_event, rtol=0, atol=ATT_TOL)
        if check_se:
            np.testing.assert_allclose(ours.table["se"], r.se_by_event, rtol=0, atol=SE_TOL)
    return gt


# ---------------------------------------------------------------- parity with moderndid


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_mpdta_matches_moderndid(mpdta: pd.DataFrame, control_group: str) -> None:
    gt = _assert_matches_moderndid(mpdta, MPDTA, control_group=control_group)
    assert gt.control_group == control_group
    assert list(gt.cells.columns) == [
        "group",
        "time",
        "event_time",
        "att",
        "se",
        "n_treated",
        "n_control",
        "base_period",
    ]
    assert gt.influence.shape == (500, len(gt.cells))
    assert (gt.cells["event_time"] == gt.cells["time"] - gt.cells["group"]).all()


def test_mpdta_known_values(mpdta: pd.DataFrame) -> None:
    # Published R did output for mpdta (nevertreated): ATT(2004,2004) and the simple ATT.
    gt = att_gt(mpdta, **MPDTA)
    first = gt.cells.iloc[0]
    assert (first["group"], first["time"]) == (2004, 2004)
    assert first["att"] == pytest.approx(-0.0105, abs=5e-5)
    assert aggregate(gt, "simple").overall_att == pytest.approx(-0.0400, abs=5e-5)


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_mpdta_universal_base_matches_moderndid(mpdta: pd.DataFrame, control_group: str) -> None:
    gt = _assert_matches_moderndid(
        mpdta, MPDTA, control_group=control_group, base_period="universal"
    )
    ref_cells = gt.cells[gt.cells["time"] == gt.cells["base_period"]]
    assert len(ref_cells) == 3  # one reference cell per cohort, reported as 0
    assert (ref_cells["att"] == 0).all() and ref_cells["se"].isna().all()


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_synthetic_matches_moderndid(synth: pd.DataFrame, control_group: str) -> None:
    _assert_matches_moderndid(synth, SYNTH, control_group=control_group)


def test_synthetic_anticipation_matches_moderndid(synth: pd.DataFrame) -> None:
    _assert_matches_moderndid(synth, SYNTH, control_group="notyettreated", anticipation=1)


def test_notyettreated_without_never_treated_matches_moderndid() -> None:
    df = make_panel(n_units=600, seed=3, with_never=False)
    _assert_matches_moderndid(df, SYNTH, control_group="notyettreated")


def test_event_window_matches_moderndid(synth: pd.DataFrame) -> None:
    ref = _reference(synth, SYNTH)
    gt = att_gt(synth, **SYNTH)
    for kind in KINDS:
        r = moderndid.aggte(ref, type=kind, boot=False, cband=False, min_e=-2, max_e=1)
        ours = aggregate(gt, kind, min_e=-2, max_e=1)
        assert ours.overall_att == pytest.approx(r.overall_att, abs=ATT_TOL), kind
        assert ours.overall_se == pytest.approx(r.overall_se, abs=SE_TOL), kind


# ---------------------------------------------------------------- planted-effect recovery


def _true_simple_att(gt: GroupTimeATT) -> float:
    """Planted effect averaged over post cells with did's simple weights (cohort shares)."""
    post = gt.cells[gt.cells["time"] >= gt.cells["group"]]
    pg = post["group"].map(pd.Series(gt.unit_cohort).value_counts() / gt.n_units)
    return float((pg * _effect(post["event_time"].to_numpy())).sum() / pg.sum())


def test_simple_att_recovers_planted_effect(synth: pd.DataFrame) -> None:
    gt = att_gt(synth, **SYNTH)
    simple = aggregate(gt, "simple")
    truth = _true_simple_att(gt)
    assert abs(simple.overall_att - truth) < 4 * simple.overall_se
    assert simple.ci_low < simple.overall_att < simple.ci_high
    assert simple.ci_high - simple.ci_low == pytest.approx(2 * 1.959964 * simple.overall_se)


def test_dynamic_recovers_planted_effect_and_flat_pretrends(synth: pd.DataFrame) -> None:
    dyn = aggregate(att_gt(synth, **SYNTH), "dynamic")
    table = dyn.table
    assert (table["key"] < 0).any() and (table["key"] >= 0).any()
    truth = _effect(table["key"].to_numpy())  # zero for pre-periods
    assert (np.abs(table["att"] - truth) < 4 * table["se"]).all(), table


def test_unbalanced_panel_recovers_planted_effect(synth: pd.DataFrame) -> None:
    unbalanced = synth.sample(frac=0.8, random_state=11)  # firms entering/exiting
    gt = att_gt(unbalanced, **SYNTH)
    assert gt.n_units == unbalanced["firm"].nunique()
    simple = aggregate(gt, "simple")
    assert abs(simple.overall_att - _true_simple_att(gt)) < 4 * simple.overall_se
    for kind in ("group", "dynamic", "calendar"):
        assert np.isfinite(aggregate(gt, kind).overall_se)


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_unbalanced_cells_use_all_available_pairs(synth: pd.DataFrame, control_group: str) -> None:
    # Brute force each cell from (unit, t) / (unit, b) pairs; guards the per-cell masks.
    unbalanced = synth.sample(frac=0.8, random_state=5)
    gt = att_gt(unbalanced, **SYNTH, control_group=control_group)
    wide = unbalanced.pivot(index="firm", columns="year", values="y")
    cohort = unbalanced.groupby("firm")["first_year"].first()
    for row in gt.cells.itertuples():
        dy = (wide[row.time] - wide[row.base_period]).dropna()
        g = cohort.loc[dy.index]
        later = (g == 0) | ((g > max(row.time, row.base_period)) & (g != row.group))
        if control_group == "nevertreated":
            later = g == 0
        assert row.n_treated == (g == row.group).sum()
        assert row.n_control == later.sum()
        expected = dy[g == row.group].mean() - dy[later].mean()
        assert row.att == pytest.approx(expected, abs=1e-12)


def test_missing_outcome_rows_are_ignored(synth: pd.DataFrame) -> None:
    df = synth.copy()
    df.loc[df.sample(frac=0.05, random_state=2).index, "y"] = np.nan
    dropped = df.dropna(subset=["y"])
    a, b = att_gt(df, **SYNTH), att_gt(dropped, **SYNTH)
    pd.testing.assert_frame_equal(a.cells, b.cells)


# ---------------------------------------------------------------- input validation


def test_missing_column_is_named(synth: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="first_year"):
        att_gt(synth.drop(columns="first_year"), **SYNTH)


def test_no_never_treated_raises_for_nevertreated() -> None:
    df = make_panel(n_units=300, with_never=False)
    with pytest.raises(ValueError, match="no never-treated units"):
        att_gt(df, **SYNTH, control_group="nevertreated")


def test_bad_options_raise(synth: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="control_group"):
        att_gt(synth, **SYNTH, control_group="everyone")
    with pytest.raises(ValueError, match="base_period"):
        att_gt(synth, **SYNTH, base_period="fixed")
    gt = att_gt(synth, **SYNTH)
    with pytest.raises(ValueError, match="kind"):
        aggregate(gt, "overall")


def test_time_varying_cohort_and_duplicates_raise(synth: pd.DataFrame) -> None:
    bad = synth.copy()
    bad.loc[bad.index[0], "first_year"] = 2011
    with pytest.raises(ValueError, match="constant within"):
        att_gt(bad, **SYNTH)
    with pytest.raises(ValueError, match="duplicate"):
        att_gt(pd.concat([synth, synth.head(1)]), **SYNTH)


def test_result_types_are_frozen(synth: pd.DataFrame) -> None:
    gt = att_gt(synth, **SYNTH)
    agg = aggregate(gt, "group")
    assert isinstance(agg, AggregateATT)
    with pytest.raises(AttributeError):
        gt.n_units = 1  # type: ignore[misc]
    assert math.isfinite(agg.overall_att)
    assert list(agg.table.columns) == ["key", "att", "se", "ci_low", "ci_high"]
