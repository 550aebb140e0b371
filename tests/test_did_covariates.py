"""Tests for evaluation.did_covariates: covariate-adjusted CS-DiD through moderndid 0.2.0.

Tolerances. Cells: our ATT(g,t) and SEs are moderndid's own numbers copied over, so they
must agree to 1e-10 / 1e-8 (any larger gap means cells were mislabelled or reordered).
Aggregations: ``evaluation.did.aggregate`` re-does ``moderndid.aggte``'s arithmetic on
moderndid's influence functions; ATT to 1e-6 and SE to 1e-4 as in tests/test_did.py
(observed ~1e-17). Published values are printed with 6 (or 4) decimals, so they are
compared to half a unit in the last printed digit.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evaluation.diagnostics import pretrend_test_cells
from evaluation.did import aggregate, att_gt
from evaluation.did_covariates import CovariateGroupTimeATT, att_gt_covariates

moderndid = pytest.importorskip("moderndid")  # dev dependency

CELL_ATT_TOL = 1e-10
CELL_SE_TOL = 1e-8
ATT_TOL = 1e-6
SE_TOL = 1e-4
KINDS = ("simple", "group", "dynamic", "calendar")
MPDTA: dict[str, Any] = {
    "unit": "countyreal",
    "time": "year",
    "cohort": "first.treat",
    "outcome": "lemp",
}
SYNTH: dict[str, Any] = {"unit": "firm", "time": "year", "cohort": "entry", "outcome": "y"}


@pytest.fixture(scope="module")
def mpdta_pl():
    return moderndid.load_mpdta()


@pytest.fixture(scope="module")
def mpdta(mpdta_pl) -> pd.DataFrame:
    return mpdta_pl.to_pandas()


def _moderndid(data, est_method: str, control_group: str, base_period: str = "varying"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return moderndid.att_gt(
            data,
            yname="lemp",
            tname="year",
            idname="countyreal",
            gname="first.treat",
            xformla="~ lpop",
            est_method=est_method,
            control_group=control_group,
            base_period=base_period,
            boot=False,
            cband=False,
        )


def _ours(panel: pd.DataFrame, **kw) -> CovariateGroupTimeATT:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return att_gt_covariates(panel, **{**MPDTA, "covariates": ["lpop"], **kw})


# ----------------------------------------------------------------------------- parity


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
@pytest.mark.parametrize("est_method", ["dr", "reg", "ipw"])
def test_mpdta_matches_moderndid(mpdta, mpdta_pl, est_method, control_group):
    ref = _moderndid(mpdta_pl, est_method, control_group)
    gt = _ours(mpdta, est_method=est_method, control_group=control_group)

    cells = gt.cells
    assert list(cells.columns) == [
        "group",
        "time",
        "event_time",
        "att",
        "se",
        "n_treated",
        "n_control",
        "base_period",
    ]
    np.testing.assert_array_equal(cells["group"], ref.groups)
    np.testing.assert_array_equal(cells["time"], ref.times)
    np.testing.assert_allclose(cells["att"], ref.att_gt, rtol=0, atol=CELL_ATT_TOL)
    np.testing.assert_allclose(cells["se"], ref.se_gt, rtol=0, atol=CELL_SE_TOL)
    assert gt.influence.shape == (ref.n_units, len(cells)) and gt.n_units == 500
    assert gt.est_method == est_method and gt.covariates == ("lpop",)

    for kind in KINDS:
        ours = aggregate(gt, kind)
        theirs = moderndid.aggte(ref, type=kind, boot=False, cband=False)
        assert ours.overall_att == pytest.approx(theirs.overall_att, abs=ATT_TOL), kind
        assert ours.overall_se == pytest.approx(theirs.overall_se, abs=SE_TOL), kind
        if kind != "simple":
            np.testing.assert_array_equal(ours.table["key"], theirs.event_times)
            np.testing.assert_allclose(ours.table["att"], theirs.att_by_event, atol=ATT_TOL)
            np.testing.assert_allclose(ours.table["se"], theirs.se_by_event, atol=SE_TOL)

    # Downstream diagnostics work unchanged: the cell pre-test is did's Wald pre-test.
    pre = pretrend_test_cells(gt)
    assert pre.statistic == pytest.approx(ref.wald_stat, rel=1e-8)


def test_mpdta_universal_base_matches_moderndid(mpdta, mpdta_pl):
    ref = _moderndid(mpdta_pl, "dr", "nevertreated", base_period="universal")
    gt = _ours(mpdta, base_period="universal")
    np.testing.assert_allclose(gt.cells["att"], ref.att_gt, atol=CELL_ATT_TOL)
    ref_cell = gt.cells["time"] == gt.cells["base_period"]
    assert (gt.cells.loc[ref_cell, "att"] == 0).all()  # did's normalised reference cell
    for kind in KINDS:
        ours = aggregate(gt, kind)
        theirs = moderndid.aggte(ref, type=kind, boot=False, cband=False)
        assert ours.overall_att == pytest.approx(theirs.overall_att, abs=ATT_TOL), kind
        assert ours.overall_se == pytest.approx(theirs.overall_se, abs=SE_TOL), kind


# Published ATT(g,t) / SE for mpdta, est_method="reg", covariate lpop, never-treated
# controls, analytic SEs: the `differences` package's basic-usage page
# (bernardodionisi.github.io/differences), which replicates R did 2.x. moderndid's own
# R validation tests (tests/did/test_r_validation.py) run R live and store no numbers.
PUBLISHED_REG = pd.DataFrame(
    [
        (2004, 2004, -0.014911, 0.022056),
        (2004, 2005, -0.076996, 0.028360),
        (2004, 2006, -0.141080, 0.034836),
        (2004, 2007, -0.107544, 0.032738),
        (2006, 2004, -0.002066, 0.022122),
        (2006, 2005, -0.006968, 0.018346),
        (2006, 2006, 0.000766, 0.019196),
        (2006, 2007, -0.041536, 0.019717),
        (2007, 2004, 0.026366, 0.014019),
        (2007, 2005, -0.004760, 0.015670),
        (2007, 2006, -0.028502, 0.018132),
        (2007, 2007, -0.028789, 0.016168),
    ],
    columns=["group", "time", "att", "se"],
)
PUBLISHED_REG_GROUP = {2004: (-0.085133, 0.024251), 2006: (-0.020385, 0.017403)}
PUBLISHED_REG_DYNAMIC = {-1: (-0.023465, 0.014442), 0: (-0.021147, 0.011481)}
PUBLISHED_REG_CALENDAR = {2006: (-0.046516, 0.020998), 2007: (-0.039705, 0.012866)}
PRINTED_6 = 5e-7  # half a unit in the 6th decimal


def test_mpdta_matches_published_values(mpdta):
    reg = _ours(mpdta, est_method="reg")
    merged = reg.cells.merge(PUBLISHED_REG, on=["group", "time"], suffixes=("", "_pub"))
    assert len(merged) == len(PUBLISHED_REG) == len(reg.cells)
    np.testing.assert_allclose(merged["att"], merged["att_pub"], atol=PRINTED_6)
    np.testing.assert_allclose(merged["se"], merged["se_pub"], atol=PRINTED_6)
    for kind, published in [
        ("group", PUBLISHED_REG_GROUP),
        ("dynamic", PUBLISHED_REG_DYNAMIC),
        ("calendar", PUBLISHED_REG_CALENDAR),
    ]:
        table = aggregate(reg, kind).table.set_index("key")
        for key, (att, se) in published.items():
            assert table.loc[key, "att"] == pytest.approx(att, abs=PRINTED_6), (kind, key)
            assert table.loc[key, "se"] == pytest.approx(se, abs=PRINTED_6), (kind, key)
    # dr, simple aggregation: the commonly quoted R did result, -0.0418 (4 decimals).
    dr_simple = aggregate(_ours(mpdta, est_method="dr"), "simple")
    assert dr_simple.overall_att == pytest.approx(-0.0418, abs=5e-5)


def test_no_covariates_equals_unconditional_estimator(mpdta):
    """With X = {} the path reduces to evaluation.did.att_gt (same cells and IFs)."""
    for control_group in ("nevertreated", "notyettreated"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = att_gt_covariates(mpdta, **MPDTA, covariates=[], control_group=control_group)
        ref = att_gt(mpdta, **MPDTA, control_group=control_group)
        pd.testing.assert_frame_equal(ours.cells, ref.cells, check_exact=False, atol=1e-12)
        np.testing.assert_allclose(ours.influence, ref.influence, atol=1e-12)
        np.testing.assert_array_equal(ours.unit_ids, ref.unit_ids)
        np.testing.assert_array_equal(ours.unit_cohort, ref.unit_cohort)


# ----------------------------------------------------------------- conditional trends


def _conditional_trends_panel(n_units: int = 3000, seed: int = 1) -> pd.DataFrame:
    """Firm panel 2010-2017 where parallel trends hold only conditional on firm size.

    log_size X ~ N(0, 1) raises the odds of enrolling (logit(p) = -0.3 + X; enrolled
    firms start in 2013 or 2015) AND the untreated growth path (+0.15 X per year). So
    enrolled firms would have grown faster anyway: the unconditional comparison is
    biased upward, while changes are parallel among firms of equal size. Planted effect
    0.5 + 0.1 e for e = t - g >= 0, the same for every firm. Both dr models are correctly
    specified (dY(0) is linear in X; the cohort-vs-never propensity is logit-linear).
    """
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2018)
    x = rng.normal(0.0, 1.0, n_units)
    enrols = rng.random(n_units) < 1.0 / (1.0 + np.exp(-(-0.3 + x)))
    g = np.where(enrols, rng.choice([2013, 2015], n_units), 0)
    firm_fe = rng.normal(0.0, 1.0, n_units) + 0.5 * x  # levels differ too (harmless)
    year_fe = rng.normal(0.0, 0.3, len(years))
    u = np.repeat(np.arange(n_units), len(years))
    k = np.tile(np.arange(len(years)), n_units)
    t, gu = years[k], g[u]
    effect = np.where((gu > 0) & (t >= gu), 0.5 + 0.1 * (t - gu), 0.0)
    trend = 0.15 * x[u] * (t - years[0])
    y = firm_fe[u] + year_fe[k] + trend + effect + rng.normal(0.0, 0.5, len(u))
    return pd.DataFrame({"firm": u, "year": t, "entry": gu, "log_size": x[u], "y": y})


def _planted_simple_att(gt) -> float:
    """did's simple aggregation of the planted effects: pg-weighted over post cells."""
    c = gt.cells
    post = (c["time"] >= c["group"]).to_numpy()
    pg = np.array([np.mean(gt.unit_cohort == g) for g in c.loc[post, "group"]])
    return float(pg @ (0.5 + 0.1 * c.loc[post, "event_time"].to_numpy()) / pg.sum())


def test_dr_recovers_effect_under_conditional_parallel_trends():
    # 4 SE: with a correct model the estimation error is ~N(0, SE^2), so a 4-SE band is
    # exceeded with probability ~6e-5 (the seed fixes the draw, this only guards against
    # a lucky/unlucky seed); the planted confounding is ~13 SE, far outside it.
    z_tol = 4.0
    panel = _conditional_trends_panel()
    unconditional = aggregate(att_gt(panel, **SYNTH), "simple")
    gt = att_gt_covariates(panel, **SYNTH, covariates=["log_size"], est_method="dr")
    adjusted = aggregate(gt, "simple")
    truth = _planted_simple_att(gt)

    assert unconditional.overall_att - truth > z_tol * unconditional.overall_se
    assert abs(adjusted.overall_att - truth) < z_tol * adjusted.overall_se
    # Downstream pre-test: rejects the unconditional design, not the adjusted one.
    assert pretrend_test_cells(att_gt(panel, **SYNTH)).pvalue < 1e-6
    assert pretrend_test_cells(gt).pvalue > 0.05


# ------------------------------------------------------------------- data handling


def test_string_unit_ids_round_trip(mpdta):
    ints = _ours(mpdta)
    named = mpdta.assign(countyreal="county-" + mpdta["countyreal"].astype(str))
    strs = _ours(named)
    pd.testing.assert_frame_equal(strs.cells, ints.cells)
    assert strs.unit_ids is not None and ints.unit_ids is not None
    assert strs.unit_ids.dtype == object
    assert set(strs.unit_ids) == set(named["countyreal"])
    # Same unit, same influence row, whatever the id type and sort order.
    row_of = {uid: i for i, uid in enumerate(strs.unit_ids)}
    rows = [row_of[f"county-{uid}"] for uid in ints.unit_ids]
    np.testing.assert_allclose(strs.influence[rows], ints.influence, atol=1e-12)
    np.testing.assert_array_equal(strs.unit_cohort[rows], ints.unit_cohort)


def test_unbalanced_and_missing_rows_are_dropped_and_counted(mpdta):
    panel = mpdta.copy()
    first_ids = panel["countyreal"].drop_duplicates().to_numpy()[:5]
    panel.loc[panel["countyreal"] == first_ids[0], "lemp"] = np.nan  # all rows missing
    panel.loc[(panel["countyreal"] == first_ids[1]) & (panel["year"] == 2005), "lpop"] = np.nan
    panel = panel.drop(panel.index[(panel["countyreal"] == first_ids[2]) & (panel["year"] == 2007)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gt = att_gt_covariates(panel, **MPDTA, covariates=["lpop"])
    messages = " | ".join(str(w.message) for w in caught)
    assert "dropped 6 rows with a missing 'lemp' or covariate" in messages
    assert "dropped 3 units not observed" in messages and "balance the panel" in messages
    assert gt.n_units_input == 500
    assert gt.n_rows_dropped_missing == 5 + 1
    assert gt.n_units_dropped_unbalanced == 3
    assert gt.n_units == 497 == gt.influence.shape[0]
    assert gt.unit_ids is not None and not set(first_ids[:3]) & set(gt.unit_ids)
    # Same as handing moderndid the balanced panel directly.
    balanced = mpdta[~mpdta["countyreal"].isin(first_ids[:3])]
    ref = _moderndid(balanced, "dr", "nevertreated")
    np.testing.assert_allclose(gt.cells["att"], ref.att_gt, atol=CELL_ATT_TOL)


def test_categorical_covariate_is_dummy_coded(mpdta):
    panel = mpdta.assign(size=np.where(mpdta["lpop"] > mpdta["lpop"].median(), "big", "small"))
    gt = _ours(panel, covariates=["lpop", "size"])
    assert gt.design_columns == ("lpop", "size[small]")
    ref = moderndid.att_gt(
        panel.assign(small=(panel["size"] == "small").astype(float)),
        yname="lemp",
        tname="year",
        idname="countyreal",
        gname="first.treat",
        xformla="~ lpop + small",
        boot=False,
        cband=False,
    )
    np.testing.assert_allclose(gt.cells["att"], ref.att_gt, atol=CELL_ATT_TOL)


def test_clear_errors(mpdta):
    with pytest.raises(ValueError, match=r"missing covariate column.*'employees'"):
        att_gt_covariates(mpdta, **MPDTA, covariates=["lpop", "employees"])
    with pytest.raises(ValueError, match=r"missing required column.*'lemp'"):
        att_gt_covariates(mpdta.drop(columns="lemp"), **MPDTA, covariates=["lpop"])
    varying = mpdta.assign(lpop=mpdta["lpop"] + 0.01 * (mpdta["year"] - 2003))
    with pytest.raises(ValueError, match="covariate 'lpop' varies over time"):
        att_gt_covariates(varying, **MPDTA, covariates=["lpop"])
    with pytest.raises(ValueError, match="'lpop' is constant"):
        att_gt_covariates(mpdta.assign(lpop=1.0), **MPDTA, covariates=["lpop"])
    with pytest.raises(ValueError, match="list of column names"):
        att_gt_covariates(mpdta, **MPDTA, covariates="lpop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="est_method"):
        att_gt_covariates(mpdta, **MPDTA, covariates=["lpop"], est_method="ols")
    with pytest.raises(ValueError, match="no never-treated"):
        att_gt_covariates(mpdta[mpdta["first.treat"] > 0], **MPDTA, covariates=["lpop"])
    with pytest.raises(ValueError, match="duplicate"):
        att_gt_covariates(pd.concat([mpdta, mpdta.head(1)]), **MPDTA, covariates=["lpop"])
