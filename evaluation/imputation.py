"""Imputation estimator of Borusyak, Jaravel & Spiess (2024), computed inside DuckDB.

Stage 1 fits ``y_it = alpha_i + lambda_t`` (weighted least squares if a weight column is
given) on the untreated observations only: never-treated units and the rows of treated
units before ``cohort - anticipation``. Stage 2 imputes ``tau_it = y_it - alpha_i -
lambda_t`` for every treated observation and averages it with BJS's default weights
(equal weight per treated observation, times its weight if any): per (cohort g, period t)
cell, per event time ``e = t - g`` and overall. The point estimates equal those of
Gardner's two-stage DID (did2s) with treated-only dummies in the second stage.

Which observations are used:

* a unit never observed untreated (e.g. a cohort treated in the first period) has no
  unit effect: it is dropped, and the counts of units and treated rows are reported
  (``dropped_units``, ``dropped_unit_obs``);
* a period with no untreated observation (without never-treated units: every period from
  the last cohort's ``g - anticipation`` on) has no period effect: its treated rows are
  dropped and counted (``dropped_period_obs``), as BJS's ``autosample`` option does;
* cohort 0, NULL or NaN is never treated; a cohort after the last period never enters
  treatment in the panel, so all its rows are untreated. Rows with a missing outcome are
  ignored. The untreated observations must connect all the periods kept (through units
  observed untreated in several of them), otherwise a ``ValueError`` is raised.

How stage 1 is solved: exactly, not by alternating projections. Eliminating the unit
effects from the normal equations leaves a periods x periods system ``S lambda = r`` with
``S = diag(W_t) - sum_i w_i w_i' / W_i`` (W = untreated weights). ``S`` and ``r`` are
sums over units computed in one SQL pass (pairs of one unit's untreated periods); the
small system is solved in numpy with ``lambda`` of the first period set to 0, and the
unit effects follow in SQL. There is hence no iteration count or convergence tolerance:
the fixed effects are exact up to rounding (``stage1_method = "exact"``). Cost is linear
in units and quadratic in periods per unit.

Standard errors: Gardner's GMM-corrected two-stage variance clustered by unit, exactly as
``pyfixest.did2s`` (a translation of R did2s) computes it, with no small-sample factor:
``V = D^-1 [sum_i psi_i psi_i'] D^-1`` with ``D = diag(total weight of each coefficient)``
and, per unit i and coefficient k, ``psi_ik = sum_{treated t in k} w_it (tau_it - beta_k)
- sum_{untreated t} w_it u_it z_k,it``, where u are the first-stage residuals and
``z_k = X_1 (X_0'W X_0)^-1 X'W x_k`` the first stage's influence on coefficient k. This
is computed for each level separately (cells, event times and the overall average are
three second-stage regressions, each centring on its own beta_k), so each level's SEs
equal those of did2s with that level's dummies. Because first-stage residuals sum to zero
within each unit, the unit part of ``z_k`` drops out and only its period part (``T x K``,
from the same Schur system) is needed; ``sum_i psi_i psi_i'`` is then expanded into the
moment matrices ``G = sum a a'``, ``F = sum a e'`` and ``E = sum e e'`` (coefficients
x coefficients, coefficients x periods, periods x periods; a = second-stage scores,
e = weighted first-stage residuals), summed in SQL. ``G`` is only summed over the blocks
reported (the full event-time block, the diagonal for cells and the overall average), so
covariances across levels and between cells are not available. Only those small
matrices reach numpy; nothing units x observations or units x coefficients is
materialised.

This is not BJS's Theorem 3 variance: BJS's conservative estimator replaces each treated
residual with ``tau_it`` minus an auxiliary average of tau (by cohort x event time by
default, with leave-out corrections), which makes it conservative under effect
heterogeneity; did2s centres each residual on the coefficient it estimates. The two
coincide only when effects are homogeneous within each coefficient. BJS's variance is
not computed here.

The SQL lives in ``evaluation/sql/imputation_prepare.sql`` (validation, samples, stage 1)
and ``evaluation/sql/imputation_effects.sql`` (effects, averages, variance moments), with
the named-statement conventions of :mod:`evaluation.did_duckdb`.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from evaluation.did_duckdb import _quote_relation, _Sql, _temp_names, quote_ident

__all__ = ["ImputationResult", "imputation", "imputation_sql"]

_PREP = "imputation_prepare.sql"
_EFF = "imputation_effects.sql"
_TABLES = (
    *("raw", "obs", "units", "periods", "fit", "lam", "alpha"),
    *("res", "tr", "coefs", "ui"),
)
# Smallest eigenvalue of the reduced Schur matrix, relative to the largest, below which
# the untreated observations are taken not to connect all periods.
_RCOND = 1e-12


@dataclass(frozen=True)
class ImputationResult:
    """Imputation-estimator effects with did2s (Gardner GMM, unit-clustered) SEs.

    ``group_time`` has columns g, t, e, att, se, n (treated rows averaged);
    ``event_time`` has e, att, se, n; ``overall`` one row with att, se, n.
    ``vcov_event`` is the covariance matrix of ``event_time.att`` (same order).
    ``n_units`` counts the units kept (observed untreated at least once), ``n_untreated``
    and ``n_treated`` the rows of stage 1 and stage 2; the ``dropped_*`` counts say what
    could not be imputed (see the module docstring).
    """

    group_time: pd.DataFrame
    event_time: pd.DataFrame
    overall: pd.DataFrame
    vcov_event: np.ndarray
    n_units: int
    n_untreated: int
    n_treated: int
    dropped_units: int
    dropped_unit_obs: int
    dropped_period_obs: int
    anticipation: int
    stage1_method: str = "exact"


def _check_inputs(
    sql: _Sql, *, unit: str, time: str, cohort: str, outcome: str, weight: str | None
) -> None:
    bad = sql.one(_PREP, "input_errors")
    if bad["null_units"]:
        raise ValueError(f"column {unit!r} has missing unit ids")
    if bad["null_times"]:
        raise ValueError(f"column {time!r} has missing periods")
    if bad["bad_times"]:
        raise ValueError(f"column {time!r} must hold integer periods")
    if bad["bad_cohorts"]:
        raise ValueError(f"column {cohort!r} must hold non-negative integer periods (0 = never)")
    if bad["bad_outcomes"]:
        raise ValueError(f"column {outcome!r} must be numeric and finite")
    if bad["bad_weights"]:
        raise ValueError(f"column {weight!r} must hold positive finite weights")
    if not bad["n_outcomes"]:
        raise ValueError(f"column {outcome!r} has no non-missing values")


def _square(rows: list[tuple], n: int) -> np.ndarray:
    """Symmetric n x n matrix from (i, j, value) rows of its upper triangle."""
    m = np.zeros((n, n))
    if rows:
        i, j, v = (np.asarray(c) for c in zip(*rows, strict=True))
        m[i.astype(int), j.astype(int)] = v.astype(float)
        m[j.astype(int), i.astype(int)] = v.astype(float)
    return m


def _dense(rows: list[tuple], shape: tuple[int, int]) -> np.ndarray:
    """Dense matrix from (i, j, value) rows (missing entries are 0)."""
    m = np.zeros(shape)
    if rows:
        i, j, v = (np.asarray(c) for c in zip(*rows, strict=True))
        np.add.at(m, (i.astype(int), j.astype(int)), v.astype(float))
    return m


def _schur_solver(sql: _Sql, n_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """The reduced Schur matrix (first period's effect fixed at 0) and the first stage's
    right-hand side; raises if the untreated rows do not connect all periods."""
    w0 = np.array(
        [
            r[0]
            for r in sql.con.execute(
                f"SELECT w0 FROM {sql.idents['periods']} ORDER BY k"
            ).fetchall()
        ],
        dtype=float,
    )
    s = np.diag(w0) - _square(sql.run(_PREP, "schur_pairs"), n_periods)
    r = np.zeros(n_periods)
    for k, v in sql.run(_PREP, "schur_rhs"):
        r[int(k)] = float(v)
    s_red = s[1:, 1:]
    if n_periods > 1:
        eig = np.linalg.eigvalsh(s_red)
        if eig[0] <= _RCOND * max(eig[-1], 0.0):
            raise ValueError(
                "the untreated observations do not connect all periods (some period or "
                "group of periods shares no unit with the others); the fixed effects "
                "are not identified"
            )
    return s_red, r


def _solve_red(s_red: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve S x = rhs with x[0] = 0 (rhs: periods x columns or a vector)."""
    out = np.zeros_like(rhs, dtype=float)
    if len(s_red):
        out[1:] = np.linalg.solve(s_red, rhs[1:])
    return out


def imputation_sql(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    weight: str | None = None,
    anticipation: int = 0,
) -> ImputationResult:
    """Estimate BJS imputation effects (cells, event times, overall) inside DuckDB.

    The unit-level work (validation, stage 1 sums, imputation, per-unit scores and their
    moment matrices) runs as SQL over ``relation``; only periods x periods and
    coefficients x (coefficients + periods) matrices come back to Python. Temp tables are
    dropped before returning.

    Args:
        con: DuckDB connection holding the panel.
        relation: table or view in ``con`` (dots separate schema and table), one row per
            (unit, period); e.g. a view over ``read_parquet(...)``.
        unit, time, cohort, outcome: column names. ``cohort`` is the first treated
            period (0 or NULL = never treated); ``time`` and ``cohort`` hold integers.
        weight: optional column of positive observation weights (WLS in both stages, as
            did2s's ``weights``).
        anticipation: rows from ``cohort - anticipation`` on count as treated; event
            times then start at ``-anticipation``.

    Returns:
        ImputationResult (see its docstring).

    Raises:
        ValueError: missing columns, bad values, duplicate (unit, period) rows, a cohort
            varying within a unit, no untreated or no imputable treated rows, or
            untreated rows that do not connect all periods.
    """
    if int(anticipation) != anticipation or anticipation < 0:
        raise ValueError(f"anticipation must be a non-negative integer, got {anticipation!r}")
    ant = int(anticipation)
    cols = [unit, time, cohort, outcome, *([weight] if weight is not None else [])]
    present = {
        c.lower() for c in con.sql(f"SELECT * FROM {_quote_relation(relation)} LIMIT 0").columns
    }
    missing = [c for c in cols if c.lower() not in present]
    if missing:
        raise ValueError(f"panel is missing required column(s): {', '.join(map(repr, missing))}")

    tables = _temp_names("imp", *_TABLES)
    sql = _Sql(
        con,
        {
            **tables,
            "panel": _quote_relation(relation),
            "unit": quote_ident(unit),
            "time": quote_ident(time),
            "cohort": quote_ident(cohort),
            "outcome": quote_ident(outcome),
            # no weight column: every row weighs 1 (a constant, never user text)
            "weight": quote_ident(weight) if weight is not None else "1.0",
        },
    )
    try:
        return _estimate(
            sql, unit=unit, time=time, cohort=cohort, outcome=outcome, weight=weight, ant=ant
        )
    finally:
        sql.drop(*_TABLES)


def _estimate(
    sql: _Sql, *, unit: str, time: str, cohort: str, outcome: str, weight: str | None, ant: int
) -> ImputationResult:
    sql.run(_PREP, "raw_view")
    _check_inputs(sql, unit=unit, time=time, cohort=cohort, outcome=outcome, weight=weight)
    sql.run(_PREP, "obs", anticipation=ant)
    sql.run(_PREP, "units")
    chk = sql.one(_PREP, "unit_checks")
    if chk["n_duplicated"]:
        raise ValueError(f"duplicate ({unit!r}, {time!r}) rows with non-missing {outcome!r}")
    if chk["n_varying_cohort"]:
        raise ValueError(f"column {cohort!r} must be constant within each {unit!r}")
    sql.run(_PREP, "periods")
    smp = sql.one(_PREP, "sample_summary")
    if not smp["n_untreated"]:
        raise ValueError("no untreated observations: the fixed effects cannot be estimated")
    if smp["n_units_dropped"]:
        warnings.warn(
            f"dropped {smp['n_units_dropped']} units never observed untreated "
            f"({smp['n_obs_dropped_unit']} treated rows cannot be imputed)",
            stacklevel=3,
        )
    if smp["n_obs_dropped_period"]:
        warnings.warn(
            f"dropped {smp['n_obs_dropped_period']} treated rows in periods without any "
            "untreated observation (no period effect to impute them with)",
            stacklevel=3,
        )
    n_periods = int(smp["n_periods"])

    # Stage 1: exact fixed effects through the periods x periods Schur system.
    sql.run(_PREP, "fit")
    s_red, r = _schur_solver(sql, n_periods)
    lam = _solve_red(s_red, r)
    sql.run(_PREP, "lambda", ks=list(range(n_periods)), lams=lam.tolist())
    sql.run(_PREP, "alpha")

    # Stage 2: imputed effects and their averages.
    sql.run(_EFF, "residuals")
    sql.run(_EFF, "treated")
    sql.run(_EFF, "coefs")
    coefs = sql.frame(_EFF, "coefs_frame")
    if coefs.empty:
        raise ValueError("no treated observation can be imputed")
    n_coef = len(coefs)
    sql.run(_EFF, "unit_coefs")

    # Period part of each coefficient's first-stage influence: S b_k = d_k - sum h c_k.
    rhs = _dense(sql.run(_EFF, "period_coefs"), (n_periods, n_coef))
    rhs -= _dense(sql.run(_EFF, "unit_rhs"), (n_periods, n_coef))
    b = _solve_red(s_red, rhs)

    # sum_i psi_i psi_i' with psi_i = a_i - b' e_i, from SQL moment matrices. gram_aa
    # fills only the blocks read below (event x event, the diagonal elsewhere).
    g_aa = _square(sql.run(_EFF, "gram_aa"), n_coef)
    f_ae = _dense(sql.run(_EFF, "gram_ae"), (n_coef, n_periods))
    e_ee = _square(sql.run(_EFF, "gram_ee"), n_periods)
    fb = f_ae @ b
    meat = g_aa - fb - fb.T + b.T @ e_ee @ b
    sw = coefs["sw"].to_numpy(dtype=float)
    vcov = meat / np.outer(sw, sw)
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))

    lvl = coefs["lvl"].to_numpy()
    att = coefs["beta"].to_numpy(dtype=float)
    n = coefs["n"].to_numpy(dtype=np.int64)
    cell, ev, tot = lvl == 0, lvl == 1, lvl == 2
    group_time = pd.DataFrame(
        {
            "g": coefs.loc[cell, "g"].to_numpy(dtype=float).astype(np.int64),
            "t": coefs.loc[cell, "t"].to_numpy(dtype=float).astype(np.int64),
            "e": coefs.loc[cell, "e"].to_numpy(dtype=float).astype(np.int64),
            "att": att[cell],
            "se": se[cell],
            "n": n[cell],
        }
    )
    event_time = pd.DataFrame(
        {
            "e": coefs.loc[ev, "e"].to_numpy(dtype=float).astype(np.int64),
            "att": att[ev],
            "se": se[ev],
            "n": n[ev],
        }
    )
    overall = pd.DataFrame({"att": att[tot], "se": se[tot], "n": n[tot]})
    return ImputationResult(
        group_time=group_time,
        event_time=event_time,
        overall=overall,
        vcov_event=vcov[np.ix_(ev, ev)],
        n_units=int(smp["n_units_all"]) - int(smp["n_units_dropped"]),
        n_untreated=int(smp["n_untreated"]),
        n_treated=int(n[tot][0]),
        dropped_units=int(smp["n_units_dropped"]),
        dropped_unit_obs=int(smp["n_obs_dropped_unit"]),
        dropped_period_obs=int(smp["n_obs_dropped_period"]),
        anticipation=ant,
    )


def imputation(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    weight: str | None = None,
    anticipation: int = 0,
    duckdb_config: Mapping[str, Any] | None = None,
) -> ImputationResult:
    """Pandas convenience wrapper: :func:`imputation_sql` on an in-memory DuckDB.

    Same arguments as :func:`imputation_sql`, with ``data`` a long panel DataFrame;
    ``duckdb_config``: the connection's settings (memory_limit, threads).
    """
    con = duckdb.connect(config=dict(duckdb_config or {}))
    caught: list[warnings.WarningMessage] = []
    try:
        # Re-issue stage warnings (dropped rows) at the caller's line, not this wrapper's.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            name = f"_imp_panel_{uuid.uuid4().hex[:10]}"
            con.register(name, data)
            return imputation_sql(
                con,
                name,
                unit=unit,
                time=time,
                cohort=cohort,
                outcome=outcome,
                weight=weight,
                anticipation=anticipation,
            )
    finally:
        con.close()
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=2)
