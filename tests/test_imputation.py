"""Tests for evaluation.imputation: BJS imputation effects equal pyfixest's did2s.

Reference: ``pyfixest.did2s`` (Gardner's two-stage DID; its GMM variance clustered by
unit) with a second stage of treated-only dummies (per event time, per (g, t) cell, or one
treatment dummy), whose coefficients are the imputation estimator's averages. Stock
did2s recovers the first-stage fixed effects with ``lsqr(atol=btol=1e-6)`` and drops
singleton units from the first stage (which then breaks its variance step on unbalanced
panels), so stock estimates are only ~1e-5 accurate (lsqr's tolerance is relative to
the norms of the FE design and solution, here ~10). The reference here runs the same
did2s code with those two numerical settings changed (``fixef_rm="none"``, FE tolerances
1e-14); it then agrees with our exact solution to ~1e-13 on point estimates and ~1e-14
relative on SEs. We assert 1e-8 absolute on estimates and 1e-6 relative on SEs: both are
the brief's targets, far above the float rounding of two exact computations, and far
below any modelling difference (a different variance, e.g. BJS's, differs by percents).
One test runs stock did2s on a balanced panel: estimates to 1e-4 absolute and SEs to 1e-5
relative (observed 1.6e-5 and 2.6e-7).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation.imputation import ImputationResult, imputation, imputation_sql
from tests.test_did import SYNTH, make_panel

pf = pytest.importorskip("pyfixest")
_did2s_mod = importlib.import_module("pyfixest.did.did2s")
from pyfixest.estimation.models.feols_ import Feols  # noqa: E402

ATT_TOL = 1e-8  # absolute, vs did2s with tight FE tolerances (observed ~1e-13)
SE_RTOL = 1e-6  # relative, same (observed ~1e-14)
STOCK_TOL = 1e-4  # vs stock did2s: its fixed effects come from lsqr(atol=btol=1e-6)
STOCK_SE_RTOL = 1e-5
COLS = {"unit": "id", "time": "t", "cohort": "g", "outcome": "y"}
REF = -1000  # second-stage reference level = every untreated row


def _planted(g: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Heterogeneous effect by cohort and event time (zero before treatment)."""
    return np.where((g > 0) & (e >= 0), 1.0 + 0.2 * e + 0.1 * g, 0.0)


def make_staggered(
    seed: int,
    n_units: int = 300,
    n_periods: int = 10,
    cohorts: tuple[int, ...] = (0, 4, 6, 8),
    drop_share: float = 0.05,
) -> pd.DataFrame:
    """Staggered panel: unit + period FE, planted effects, some rows missing at random."""
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(cohorts), n_units)
    unit_fe = rng.normal(0.0, 2.0, n_units)
    period_fe = rng.normal(0.0, 1.0, n_periods) + 0.3 * np.arange(n_periods)
    u = np.repeat(np.arange(n_units), n_periods)
    k = np.tile(np.arange(n_periods), n_units)
    t, gg = k + 1, g[u]
    effect = _planted(gg, t - gg)
    y = 5.0 + unit_fe[u] + period_fe[k] + effect + rng.normal(0.0, 1.0, len(u))
    df = pd.DataFrame({"id": u, "t": t, "g": gg, "y": y, "effect": effect})
    df["wt"] = rng.uniform(0.5, 2.0, len(df))
    return df[rng.random(len(df)) >= drop_share].reset_index(drop=True)


@contextmanager
def _tight_did2s() -> Iterator[None]:
    """did2s with exact-enough fixed effects and no singleton removal (see module doc)."""
    fixef = Feols.fixef

    def tight_fixef(self: Feols, atol: float = 1e-6, btol: float = 1e-6) -> object:
        return fixef(self, atol=1e-14, btol=1e-14)

    feols = functools.partial(_did2s_mod.feols, fixef_rm="none", fixef_tol=1e-14)
    with (
        mock.patch.object(_did2s_mod, "feols", feols),
        mock.patch.object(Feols, "fixef", tight_fixef),
    ):
        yield


def did2s_ref(
    df: pd.DataFrame,
    level: str,
    *,
    cols: dict[str, str] = COLS,
    weight: str | None = None,
    anticipation: int = 0,
    tight: bool = True,
) -> pd.DataFrame:
    """did2s estimates and SEs for one level ("event", "cell" or "overall").

    Rows that cannot be imputed (units never untreated, periods without untreated rows)
    are removed first, as imputation() does: did2s would otherwise return NaN.
    """
    unit, time, cohort, outcome = (cols[c] for c in ("unit", "time", "cohort", "outcome"))
    d = pd.DataFrame({"id": df[unit], "t": df[time], "g": df[cohort].fillna(0), "y": df[outcome]})
    if weight is not None:
        d["wt"] = df[weight]
    d = d[d["y"].notna()]
    treated = (d["g"] > 0) & (d["t"] >= d["g"] - anticipation)
    d["treat"] = treated.astype(int)
    ok = d["id"].isin(d.loc[~treated, "id"]) & d["t"].isin(d.loc[~treated, "t"])
    d, treated = d[ok].copy(), treated[ok]
    if level == "event":
        d["k"] = np.where(treated, d["t"] - d["g"], REF)
    elif level == "cell":
        d["k"] = np.where(treated, d["g"] * 10_000 + d["t"], REF)  # sorts as (g, t)
    else:
        d["k"] = np.where(treated, 1, REF)
    args = {
        "yname": "y",
        "first_stage": "~ 0 | id + t",
        "second_stage": f"~ i(k, ref={REF})",
        "treatment": "treat",
        "cluster": "id",
        "weights": weight and "wt",
    }
    if tight:
        with _tight_did2s():
            fit = pf.did2s(d, **args)
    else:
        fit = pf.did2s(d, **args)
    tidy = fit.tidy()
    return pd.DataFrame({"att": tidy["Estimate"].to_numpy(), "se": tidy["Std. Error"].to_numpy()})


def _assert_matches(
    res: ImputationResult, df: pd.DataFrame, *, tol: float = ATT_TOL, se_rtol: float = SE_RTOL, **kw
) -> None:
    tight = tol <= ATT_TOL
    for level, ours in (
        ("event", res.event_time),
        ("cell", res.group_time),
        ("overall", res.overall),
    ):
        ref = did2s_ref(df, level, tight=tight, **kw)
        assert len(ref) == len(ours), level
        np.testing.assert_allclose(ours["att"], ref["att"], rtol=0, atol=tol, err_msg=level)
        np.testing.assert_allclose(ours["se"], ref["se"], rtol=se_rtol, atol=0, err_msg=level)


# ------------------------------------------------------------------ agreement with did2s


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seeded_panels_match_did2s(seed: int) -> None:
    df = make_staggered(seed)
    res = imputation(df, **COLS)
    _assert_matches(res, df)
    assert res.dropped_units == res.dropped_unit_obs == res.dropped_period_obs == 0
    assert res.n_treated == int(res.event_time["n"].sum()) == int(res.group_time["n"].sum())
    assert res.n_untreated + res.n_treated == len(df)
    assert res.stage1_method == "exact"


def test_weights_match_did2s() -> None:
    df = make_staggered(4, drop_share=0.1)
    _assert_matches(imputation(df, **COLS, weight="wt"), df, weight="wt")


def test_anticipation_matches_did2s() -> None:
    df = make_staggered(5)
    res = imputation(df, **COLS, anticipation=1)
    assert res.event_time["e"].min() == -1
    _assert_matches(res, df, anticipation=1)


def test_demo_like_panel_matches_did2s() -> None:
    # firm x year 2010-2019, cohorts 2013/2015/2017 and never-treated, as tests/test_did.py
    df = make_panel(n_units=400, seed=11)
    res = imputation(df, **SYNTH)
    assert res.event_time["e"].tolist() == list(range(7))
    _assert_matches(res, df, cols=SYNTH)


def test_stock_did2s_agrees_to_its_tolerance() -> None:
    # balanced and at least 3 pre-periods per unit: no singletons for stock did2s to drop
    df = make_staggered(6, drop_share=0.0)
    _assert_matches(imputation(df, **COLS), df, tol=STOCK_TOL, se_rtol=STOCK_SE_RTOL)


@pytest.mark.filterwarnings("ignore:dropped 1 units")
def test_sql_entry_point_on_a_table() -> None:
    df = make_staggered(7)  # one unit lost all its untreated rows: dropped
    con = duckdb.connect()
    con.execute("CREATE SCHEMA s")
    con.execute("CREATE TABLE s.panel AS SELECT * FROM df")
    before = set(con.execute("SELECT table_name FROM duckdb_tables()").df()["table_name"])
    res = imputation_sql(con, "s.panel", **COLS)
    after = set(con.execute("SELECT table_name FROM duckdb_tables()").df()["table_name"])
    assert before == after  # temp tables dropped
    assert not con.execute("SELECT * FROM duckdb_views() WHERE NOT internal").fetchall()
    ref = imputation(df, **COLS)
    pd.testing.assert_frame_equal(res.event_time, ref.event_time, rtol=1e-12)
    pd.testing.assert_frame_equal(res.group_time, ref.group_time, rtol=1e-12)


# ------------------------------------------------------------------ planted effects


def test_planted_effects_within_four_se() -> None:
    df = make_staggered(8, n_units=2000)
    res = imputation(df, **COLS)
    # the estimand: the mean planted effect over the treated rows each average covers
    tr = df[(df["g"] > 0) & (df["t"] >= df["g"])].assign(e=lambda d: d["t"] - d["g"])
    truth_e = tr.groupby("e")["effect"].mean()
    truth_gt = tr.groupby(["g", "t"])["effect"].mean()
    ev = res.event_time.set_index("e")
    z_e = (ev["att"] - truth_e) / ev["se"]
    gt = res.group_time.set_index(["g", "t"])
    z_gt = (gt["att"] - truth_gt) / gt["se"]
    z_all = (res.overall["att"].iloc[0] - tr["effect"].mean()) / res.overall["se"].iloc[0]
    assert z_e.notna().all() and z_gt.notna().all()
    assert np.abs(z_e).max() < 4 and np.abs(z_gt).max() < 4 and abs(z_all) < 4
    assert (ev["se"] > 0).all() and (ev["se"] < 0.2).all()


# ------------------------------------------------------------------ edge cases


def test_no_never_treated_drops_periods_after_last_cohort() -> None:
    # Cohorts 4, 6, 8 only: from period 8 on every unit is treated, so there is no period
    # effect to impute with; those treated rows are dropped (counted, with a warning).
    df = make_staggered(9, cohorts=(4, 6, 8))
    with pytest.warns(UserWarning, match="periods without any untreated"):
        res = imputation(df, **COLS)
    assert res.dropped_period_obs == int((df["t"] >= 8).sum())
    assert res.dropped_units == 0
    assert res.group_time["t"].max() == 7
    assert res.event_time["e"].tolist() == [0, 1, 2, 3]
    _assert_matches(res, df)


def test_cohort_treated_in_first_period_is_dropped() -> None:
    df = make_staggered(10, cohorts=(0, 1, 4, 7))
    first = df["g"] == 1
    with pytest.warns(UserWarning, match="never observed untreated"):
        res = imputation(df, **COLS)
    assert res.dropped_units == df.loc[first, "id"].nunique()
    assert res.dropped_unit_obs == int(first.sum())
    assert 1 not in set(res.group_time["g"])
    # same as never having had those units
    ref = imputation(df[~first], **COLS)
    pd.testing.assert_frame_equal(res.event_time, ref.event_time, rtol=1e-10)
    _assert_matches(res, df)


def test_single_cohort() -> None:
    df = make_staggered(11, cohorts=(0, 5))
    res = imputation(df, **COLS)
    assert res.group_time["g"].unique().tolist() == [5]
    np.testing.assert_allclose(res.group_time["att"], res.event_time["att"], rtol=1e-12)
    np.testing.assert_allclose(res.group_time["se"], res.event_time["se"], rtol=1e-12)
    _assert_matches(res, df)


def test_single_cohort_without_never_treated_has_nothing_to_impute() -> None:
    df = make_staggered(12, cohorts=(5,))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="no treated observation"):
        imputation(df, **COLS)


def test_null_cohort_and_cohort_after_panel_are_untreated() -> None:
    df = make_staggered(13)
    res = imputation(df, **COLS)
    alt = df.astype({"g": "float64"})
    never = alt["g"] == 0
    alt.loc[never & (alt["id"] % 2 == 0), "g"] = np.nan
    alt.loc[never & (alt["id"] % 2 == 1), "g"] = 99.0
    pd.testing.assert_frame_equal(imputation(alt, **COLS).event_time, res.event_time, rtol=1e-10)


def test_disconnected_untreated_rows_raise() -> None:
    # periods 1-2 and 3-4 share no unit observed untreated in both
    df = pd.DataFrame(
        {
            "id": [1, 1, 2, 2, 3, 3, 3, 3],
            "t": [1, 2, 3, 4, 1, 2, 3, 4],
            "g": [0, 0, 0, 0, 3, 3, 3, 3],
            "y": [1.0, 2.0, 3.0, 4.0, 1.0, 2.5, 4.0, 5.0],
        }
    )
    df = df[~((df["id"] == 3) & (df["t"] == 2))]  # ...and unit 3 only before, in period 1
    with pytest.raises(ValueError, match="do not connect"):
        imputation(df, **COLS)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: pd.concat([d, d.head(1)]), "duplicate"),
        (lambda d: d.assign(g=np.where(d.index == 0, 99, d["g"])), "constant within"),
        (lambda d: d.assign(t=d["t"] + 0.5), "integer periods"),
        (lambda d: d.assign(wt=-1.0), "positive finite weights"),
        (lambda d: d.drop(columns="y"), "missing required"),
    ],
)
def test_bad_inputs_raise(change, match: str) -> None:
    df = change(make_staggered(14, n_units=40))
    with pytest.raises(ValueError, match=match):
        imputation(df, **COLS, weight="wt")
