"""Callaway & Sant'Anna (2021) group-time ATTs computed inside DuckDB, out of core.

The same unconditional estimator as :mod:`evaluation.did` (and hence as R did 2.x /
moderndid 0.2.0 with analytic standard errors): ATT(g,t) cells, their analytic SEs
(influence functions clustered by unit) and the simple/group/dynamic/calendar
aggregations with the weight-estimation (wif) term, for both control groups, varying or
universal base period, anticipation and unbalanced panels (per cell, the units observed
in both t and the base period, exactly as did.py). Every step that touches unit-level
data runs as SQL over a panel table or view in a DuckDB connection, so panels larger
than memory work (DuckDB spills to its ``temp_directory``); only small results come
back to Python.

How: without covariates every cell is a difference of mean first differences, so all
cells and every second moment of their influence functions (the cell x cell Gram
matrix ``sum_i IF_c(i) IF_c'(i)``) are functions of per (cohort, observation pattern)
cross-products ``sum_i y_it y_is`` of the outcomes. The panel is scanned twice (by
period, then by unit, building one row per unit with its outcomes as a dense list);
one more pass over the units computes those moments. Everything after that - cells,
SEs, the aggregation weights and their wif terms, the aggregate SEs
``sqrt(W'MW + wif terms) / n`` - is SQL over tables with a few thousand rows. The unit x
cell influence functions are never stored; :func:`influence_view` exposes them as a
view and :func:`uniform_band_sql` materializes the per-unit event-study ones.

The SQL lives in ``evaluation/sql/did_*.sql`` as named statements (``-- name: x``):
``did_prepare.sql`` (validation, did's preprocessing, units, moments),
``did_att_gt.sql`` (cell plan, cells, Gram matrix) and ``did_aggregate.sql`` (the
aggregations). ``{{x}}`` placeholders are identifiers, substituted only through
:func:`quote_ident`; values are bound as ``$x`` parameters. Outcomes are centred by
period and by unit before the cross-products are summed, which changes no first
difference but keeps the sums well conditioned (SQL and numpy agree to ~1e-13).
Limits: at most 126 distinct periods (observation patterns are 126-bit masks).

Simultaneous (uniform) bands for the event study come from a seeded multiplier
bootstrap with Mammen weights, as did's ``mboot``: :func:`uniform_band_sql` (SQL path;
per-unit influence functions fetched in uid chunks, so memory stays flat in n) and
:func:`uniform_band` (pandas path, from an :class:`~evaluation.did.AggregateATT` with
``table_influence``). Both share one bootstrap routine and the same unit order, so for
the same seed they give the same critical value.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import math
import re
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from evaluation.did import _SE_FLOOR, _Z_95, AggregateATT

__all__ = [
    "GroupTimeSQL",
    "UniformBand",
    "aggregate_sql",
    "att_gt_sql",
    "influence_view",
    "overall_influence_sql",
    "quote_ident",
    "uniform_band",
    "uniform_band_sql",
]

_CONTROL_GROUPS = ("nevertreated", "notyettreated")
_BASE_PERIODS = ("varying", "universal")
_AGG_KINDS = ("simple", "group", "dynamic", "calendar")

# Mammen (1993) two-point weights, as did's mboot: k1 with probability p, else k2
# (mean 0, variance 1, third moment 1).
_SQRT5 = math.sqrt(5.0)
_MAMMEN_K1 = 0.5 * (1.0 - _SQRT5)
_MAMMEN_K2 = 0.5 * (1.0 + _SQRT5)
_MAMMEN_P = 0.5 * (1.0 + _SQRT5) / _SQRT5
_MAMMEN_THRESHOLD = np.uint32(round(_MAMMEN_P * 2.0**32))
# Units per random-number stream in the bootstrap: block j of uids always gets
# default_rng([seed, j]), so results do not depend on how the data were chunked.
_BOOT_BLOCK = 8192
_IQR_TO_SD = 1.3489795  # did's robust SE: IQR / (2 * qnorm(0.75))

# Observation patterns are HUGEINT bitmasks over the periods.
_MAX_PERIODS = 126  # keeps clear of the sign bit
_VIEWS = frozenset({"raw", "inf", "part"})  # placeholders the SQL files create as views
# Temp tables an estimate keeps (GroupTimeSQL.tables) and scratch ones dropped at once.
_GT_TABLES = (
    *("units", "cohorts", "fperiods", "coef", "gram", "cif", "cells", "uids", "inf"),
    *("coef_ss", "gram_ss", "cif_ss"),  # the small-sample corrected ones (if asked for)
)
_CORRECTED = {"coef": "coef_ss", "gram": "gram_ss", "cif": "cif_ss"}
_GT_SCRATCH = (
    *("raw", "tstats", "periods", "mom", "patmom"),
    *("plan", "members", "mstat", "stats"),
)
# the tables of unit-level rows: an estimate from partitions (evaluation.did_partitioned)
# has none, only the moments
_UNIT_TABLES = ("units", "uids", "inf")
_AGG_TABLES = ("agg_cells", "agg_keys", "agg_w", "agg_wif", "band_terms")  # per aggregation
_NAME_RE = re.compile(r"^-- name: (\w+)[ \t]*$", re.MULTILINE)
_PLACEHOLDER_RE = re.compile(r"\{\{(\w+)\}\}")
_COMMENT_RE = re.compile(r"--[^\n]*")
_PARAM_RE = re.compile(r"\$([A-Za-z_]\w*)")


# ---------------------------------------------------------------------------- SQL glue


@functools.cache
def _queries(filename: str) -> dict[str, str]:
    """Named statements of an SQL file in the package's ``sql`` folder."""
    text = (importlib.resources.files("evaluation") / "sql" / filename).read_text(encoding="utf-8")
    parts = _NAME_RE.split(text)  # [header, name1, body1, name2, body2, ...]
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def quote_ident(name: str) -> str:
    """Quote one SQL identifier for DuckDB (double quotes, embedded quotes doubled)."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"not a valid SQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _quote_relation(name: str) -> str:
    """Quote a table/view name; dots separate catalog, schema and table."""
    return ".".join(quote_ident(part) for part in name.split("."))


class _Sql:
    """Runs named statements with quoted identifiers and bound parameters."""

    def __init__(self, con: duckdb.DuckDBPyConnection, idents: Mapping[str, str]) -> None:
        self.con = con
        self.idents = dict(idents)  # placeholder -> already quoted identifier

    def _prepare(self, file: str, name: str, params: Mapping[str, Any]) -> tuple[str, dict]:
        def sub(m: re.Match[str]) -> str:
            return self.idents[m.group(1)]  # KeyError = a bug: unknown placeholder

        sql = _PLACEHOLDER_RE.sub(sub, _queries(file)[name])
        # Bind exactly the parameters the statement uses (DuckDB rejects extras).
        used = set(_PARAM_RE.findall(_COMMENT_RE.sub("", sql)))
        return sql, {k: params[k] for k in used}

    def run(self, file: str, name: str, **params: Any) -> list[tuple[Any, ...]]:
        sql, bound = self._prepare(file, name, params)
        # fetchall() always: an unfinished result would block the connection.
        return self.con.execute(sql, bound).fetchall()

    def frame(self, file: str, name: str, **params: Any) -> pd.DataFrame:
        sql, bound = self._prepare(file, name, params)
        return self.con.execute(sql, bound).df()

    def one(self, file: str, name: str, **params: Any) -> dict[str, Any]:
        sql, bound = self._prepare(file, name, params)
        cur = self.con.execute(sql, bound)
        names = [d[0] for d in cur.description or []]
        rows = cur.fetchall()
        return dict(zip(names, rows[0], strict=True))

    def arrow(self, file: str, name: str, **params: Any) -> pa.Table:
        sql, bound = self._prepare(file, name, params)
        return self.con.sql(sql, params=bound).to_arrow_table()

    def drop(self, *placeholders: str) -> None:
        for ph in placeholders:
            ident = self.idents.get(ph)
            if ident is not None:
                what = "VIEW" if ph in _VIEWS else "TABLE"
                self.con.execute(f"DROP {what} IF EXISTS {ident}").fetchall()


def _temp_names(prefix: str, *names: str) -> dict[str, str]:
    """Unique temp-table identifiers, so several estimates can share a connection."""
    token = uuid.uuid4().hex[:10]
    return {n: quote_ident(f"_{prefix}_{token}_{n}") for n in names}


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GroupTimeSQL:
    """Group-time ATTs estimated in DuckDB; the unit-level data stay there.

    ``cells`` has the same columns as :class:`evaluation.did.GroupTimeATT` (group, time,
    event_time, att, se, n_treated, n_control, base_period). ``cohort_sizes`` has one row
    per cohort (0 = never treated) with its number of units. ``tables`` maps logical
    names to the quoted temp tables in the connection: ``units`` (one row per unit with
    its centred outcomes), ``cells``, ``gram`` (c1, c2, m: the Gram matrix of the cell
    influence functions), ``coef`` (how to rebuild IF_c(i) from a unit's row) and a few
    small helpers. See :func:`influence_view` for the influence functions themselves.
    Call :meth:`drop` to free the tables.
    """

    cells: pd.DataFrame
    n_units: int
    control_group: str
    base_period: str
    anticipation: int
    cohort_sizes: pd.DataFrame
    tables: Mapping[str, str]
    # False for an estimate combined from partitions' moments: no unit-level rows here,
    # so no influence functions per unit (influence_view, uniform_band_sql)
    unit_rows: bool = True
    # the small-sample corrected influence functions were computed (att_gt_sql's
    # small_sample); `corrected`: this is that variant
    small_sample: bool = False
    corrected: bool = False

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop this estimate's temp tables from ``con`` (a corrected variant's too: they
        share them)."""
        _Sql(con, self.tables).drop(*self.tables)

    def small_sample_corrected(self) -> GroupTimeSQL:
        """This estimate with each cell's influence functions scaled by sqrt(n / (n - 1))
        on each side of the cell, as :func:`evaluation.diagnostics.small_sample_corrected`
        (same cells; aggregations, covariances and influence functions from it are the
        corrected ones). Needs ``att_gt_sql(..., small_sample=True)``.

        Raises:
            ValueError: not computed, or already the corrected variant.
        """
        if not self.small_sample or self.corrected:
            what = "already corrected" if self.corrected else "estimate with small_sample=True"
            raise ValueError(f"no small-sample corrected variant here: {what}")
        tables = dict(self.tables)
        for plain, corrected in _CORRECTED.items():  # swapped: drop() still drops both
            tables[plain], tables[corrected] = self.tables[corrected], self.tables[plain]
        return replace(self, tables=tables, corrected=True)


@dataclass(frozen=True)
class UniformBand:
    """Simultaneous confidence band for an aggregation's per-key effects.

    ``table`` has columns key, att, se (analytic), boot_se, band_low, band_high, with
    band = att +/- crit_value * boot_se as did reports it (did studentizes the
    bootstrap draws by the bootstrap SE). Keys with an undefined estimate are left out.
    """

    kind: str
    crit_value: float
    table: pd.DataFrame
    pointwise_crit: float
    bonferroni_crit: float
    biters: int
    alpha: float
    seed: int


# ---------------------------------------------------------------------------- att_gt


def _check_options(control_group: str, base_period: str, anticipation: int) -> int:
    if control_group not in _CONTROL_GROUPS:
        raise ValueError(f"control_group must be one of {_CONTROL_GROUPS}, got {control_group!r}")
    if base_period not in _BASE_PERIODS:
        raise ValueError(f"base_period must be one of {_BASE_PERIODS}, got {base_period!r}")
    if int(anticipation) != anticipation or anticipation < 0:
        raise ValueError(f"anticipation must be a non-negative integer, got {anticipation!r}")
    return int(anticipation)


def _prepare_units(
    sql: _Sql, *, unit: str, time: str, cohort: str, outcome: str, control_group: str, ant: int
) -> tuple[int, int]:
    """Validate the panel and build the units and moments tables (did_prepare.sql).

    Two scans of the panel (by period, then by unit); returns (n_units, n_periods).
    """
    f = "did_prepare.sql"
    sql.run(f, "raw_view")
    sql.run(f, "period_scan")
    s = sql.one(f, "scan_summary")
    names = {"unit": unit, "time": time, "cohort": cohort, "outcome": outcome}
    _check_scan(s, lambda: sql.one(f, "input_errors"), **names)
    params, has_never = _units_params(sql, s, control_group, ant)
    sql.run(f, "units", **params)
    n = _check_units(sql.one(f, "units_summary"), has_never=has_never, **names)
    sql.run(f, "cohorts")
    _check_cohorts(sql)
    sql.run(f, "moments", n_periods=params["n_periods"])
    _pattern_moments(sql, params["n_periods"])
    return n, params["n_periods"]


def _check_scan(
    s: Mapping[str, Any],
    errors: Callable[[], Mapping[str, Any]],
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
) -> None:
    """did's input checks, from the period scan's summary (`errors`: which checks fail,
    looked up only when some row fails one)."""
    if s["n_bad"]:
        bad = errors()
        if bad["null_units"]:
            raise ValueError(f"column {unit!r} has missing unit ids")
        if bad["null_times"]:
            raise ValueError(f"column {time!r} has missing periods")
        if bad["bad_times"]:
            raise ValueError(f"column {time!r} must hold integer periods")
        if bad["bad_cohorts"]:
            raise ValueError(f"column {cohort!r} must hold integer periods")
        raise ValueError(f"column {outcome!r} must be numeric")
    if not s["n_outcomes"]:
        raise ValueError(f"column {outcome!r} has no non-missing values")


def _units_params(
    sql: _Sql, s: Mapping[str, Any], control_group: str, ant: int
) -> tuple[dict[str, Any], bool]:
    """The periods table, and the parameters of the "units" statement (did's
    preprocessing: which periods and units stay); whether never-treated units exist."""
    f = "did_prepare.sql"
    sql.run(f, "periods")
    n_periods = int(
        sql.con.execute(f"SELECT count(*) FROM {sql.idents['periods']}").fetchall()[0][0]
    )
    if n_periods > _MAX_PERIODS:
        raise ValueError(
            f"the SQL path supports at most {_MAX_PERIODS} distinct periods (got {n_periods}); "
            "use evaluation.did.att_gt"
        )

    tmin, tmax = float(s["tmin"]), float(s["tmax"])
    per = sql.frame(f, "periods_list")
    periods, mus = per["t"].to_numpy(dtype=float), per["mu"].to_numpy(dtype=float)
    g_max = math.nan if s["g_max"] is None else float(s["g_max"])
    # Never treated: cohort 0, or first treated after the last period (did recodes those).
    has_never = bool(s["any_zero"]) or g_max > tmax
    t_cut = math.inf
    if not has_never:
        if control_group == "nevertreated":
            raise ValueError(
                "no never-treated units (cohort 0/NaN) in the panel; "
                "use control_group='notyettreated' to compare with later-treated cohorts"
            )
        if g_max <= tmin + ant:
            raise ValueError(
                "no treated cohorts left (all units are never treated or treated early)"
            )
        # As did: once the last cohort is treated nobody is left to compare against.
        t_cut = g_max - ant
    params = {
        "tmin": tmin,
        "tmax": tmax,
        "anticipation": ant,
        "tcut": t_cut,
        "kcut": int(np.searchsorted(periods, t_cut, side="left")),
        "n_periods": n_periods,
        "periods": periods.tolist(),
        "mus": mus.tolist(),
    }
    return params, has_never


def _check_units(
    u: Mapping[str, Any], *, unit: str, time: str, cohort: str, outcome: str, has_never: bool
) -> int:
    """did's checks of the units (from "units_summary"); the number of units kept."""
    if u["n_varying_cohort"]:
        raise ValueError(f"column {cohort!r} must be constant within each {unit!r}")
    if u["n_early"]:
        warnings.warn(
            f"dropped {u['n_early']} units already treated in the first period", stacklevel=4
        )
    if not u["n_units"]:
        if not has_never:
            raise ValueError("no periods left before the last cohort is treated")
        raise ValueError("no treated cohorts left (all units are never treated or treated early)")
    if u["n_duplicated"]:
        raise ValueError(f"duplicate ({unit!r}, {time!r}) rows with non-missing {outcome!r}")
    return int(u["n_units"])


def _check_cohorts(sql: _Sql) -> None:
    n_cohorts = sql.con.execute(
        f"SELECT count(*) FROM {sql.idents['cohorts']} WHERE isfinite(g)"
    ).fetchall()[0][0]
    if not n_cohorts:
        raise ValueError("no treated cohorts left (all units are never treated or treated early)")


def _pattern_moments(sql: _Sql, n_periods: int) -> None:
    """From the moments table: each pattern's moment matrix and the periods observed."""
    f = "did_prepare.sql"
    sql.run(f, "pattern_moments", n_periods=n_periods)
    sql.run(f, "macro_moment")
    sql.run(f, "macro_has_period")
    sql.run(f, "observed_periods")


def att_gt_sql(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    control_group: str = "nevertreated",
    base_period: str = "varying",
    anticipation: int = 0,
    small_sample: bool = False,
) -> GroupTimeSQL:
    """Estimate Callaway & Sant'Anna group-time ATTs inside DuckDB.

    Same estimator, options and preprocessing as :func:`evaluation.did.att_gt`. The panel
    is scanned twice; what is kept in ``con`` (temp tables) is one row per unit and the
    per (cohort, observation pattern) moments from which every cell, the Gram matrix of
    the cell influence functions and hence all analytic SEs follow.

    Args:
        con: DuckDB connection holding the panel.
        relation: name of a table or view in ``con`` (dots separate schema and table),
            one row per (unit, time); e.g. a view over ``read_parquet(...)``.
        unit, time, cohort, outcome: column names. ``cohort`` is the first treatment
            period (0 or NULL = never treated); rows with a missing outcome are ignored.
        control_group: "nevertreated" or "notyettreated".
        base_period: "varying" or "universal".
        anticipation: number of periods before treatment in which effects may appear.
        small_sample: also compute the small-sample corrected influence functions'
            moments (:meth:`GroupTimeSQL.small_sample_corrected`; one more Gram matrix).

    Returns:
        GroupTimeSQL with the cells (as ``GroupTimeATT.cells``) and the temp tables.

    Raises:
        ValueError: as :func:`evaluation.did.att_gt` (bad options, non-integer periods,
            duplicate rows, a time-varying cohort, no treated cohort, no never-treated
            units with ``control_group="nevertreated"``).
    """
    ant = _check_options(control_group, base_period, anticipation)
    _check_columns(con, relation, (unit, time, cohort, outcome))
    tables = _temp_names("did", *_GT_TABLES, *_GT_SCRATCH)
    sql = _Sql(con, {**tables, **_panel_idents(relation, unit, time, cohort, outcome)})
    try:
        n, n_periods = _prepare_units(
            sql,
            unit=unit,
            time=time,
            cohort=cohort,
            outcome=outcome,
            control_group=control_group,
            ant=ant,
        )
    except BaseException:
        sql.drop(*tables)
        raise
    return _group_time(
        sql, tables, n, n_periods, control_group, base_period, ant, small_sample=small_sample
    )


def _check_columns(con: duckdb.DuckDBPyConnection, relation: str, columns: Iterable[str]) -> None:
    present = {
        c.lower() for c in con.sql(f"SELECT * FROM {_quote_relation(relation)} LIMIT 0").columns
    }
    missing = [c for c in columns if c.lower() not in present]
    if missing:
        raise ValueError(f"panel is missing required column(s): {', '.join(map(repr, missing))}")


def _panel_idents(relation: str, unit: str, time: str, cohort: str, outcome: str) -> dict[str, str]:
    return {
        "panel": _quote_relation(relation),
        "unit": quote_ident(unit),
        "time": quote_ident(time),
        "cohort": quote_ident(cohort),
        "outcome": quote_ident(outcome),
    }


def _group_time(
    sql: _Sql,
    tables: dict[str, str],
    n: int,
    n_periods: int,
    control_group: str,
    base_period: str,
    ant: int,
    *,
    unit_rows: bool = True,
    small_sample: bool = False,
) -> GroupTimeSQL:
    """The cells, their Gram matrix and the per-cohort influence sums (did_att_gt.sql),
    from the cohorts, observed periods and pattern moments in `sql`'s tables; with
    `small_sample`, also those of the small-sample corrected influence functions."""
    con = sql.con
    try:
        f = "did_att_gt.sql"
        for (g,) in sql.run(f, "cohorts_without_pre", anticipation=ant):
            warnings.warn(f"no pre-treatment period for cohort {g:g}; dropped", stacklevel=3)
        flags = {
            "universal": base_period == "universal",
            "notyet": control_group == "notyettreated",
        }
        dims = {"w": n_periods + 1, "T": n_periods}  # width of a moment matrix, constant index
        sql.run(f, "plan", anticipation=ant, **flags)
        sql.run(f, "members", anticipation=ant, **flags)
        sql.run(f, "member_moments", **dims)
        sql.run(f, "cell_stats")
        sql.run(f, "coefficients", n=n)
        sql.run(f, "gram", **dims)
        sql.run(f, "cohort_if_sums")
        if small_sample:  # the same statements over the corrected coefficients
            sql.run(f, "coefficients_small_sample")
            corrected = _Sql(con, {**sql.idents, **{k: tables[v] for k, v in _CORRECTED.items()}})
            corrected.run(f, "gram", **dims)
            corrected.run(f, "cohort_if_sums")
        sql.run(f, "cells", se_floor=_SE_FLOOR, **flags)
        cells = sql.frame(f, "cells_frame")
        sizes = con.execute(f"SELECT g, n_g FROM {tables['cohorts']} ORDER BY g").df()
    except BaseException:
        sql.drop(*tables)
        raise
    # Scratch tables are not needed once the cells and the Gram matrix exist.
    sql.drop(*_GT_SCRATCH)

    cells = cells.astype(
        {
            "group": "int64",
            "time": "int64",
            "event_time": "int64",
            "att": "float64",
            "se": "float64",
            "n_treated": "int64",
            "n_control": "int64",
            "base_period": "int64",
        }
    )
    g = sizes["g"].to_numpy(dtype=float)
    cohort_sizes = pd.DataFrame(
        {
            "cohort": np.where(np.isinf(g), 0, g).astype(np.int64),
            "n_units": sizes["n_g"].to_numpy(dtype=np.int64),
        }
    )
    kept = [k for k in _GT_TABLES if unit_rows or k not in _UNIT_TABLES]
    return GroupTimeSQL(
        cells=cells,
        n_units=n,
        control_group=control_group,
        base_period=base_period,
        anticipation=ant,
        cohort_sizes=cohort_sizes,
        tables={k: v for k, v in tables.items() if k in kept},
        unit_rows=unit_rows,
        small_sample=small_sample,
    )


def influence_view(con: duckdb.DuckDBPyConnection, gt: GroupTimeSQL) -> str:
    """Create (if needed) and return the name of a temp view of the influence functions.

    The view has columns cell_id (row of ``gt.cells``), uid (row of
    ``GroupTimeATT.influence``: units by cohort, then id), unit_id and inf, one row per
    unit and cell it enters (the influence function is zero elsewhere). It is computed
    on the fly from the units table, so nothing unit x cell is stored.
    """
    _check_unit_rows(gt, "influence functions per unit")
    sql = _Sql(con, gt.tables)
    sql.run("did_att_gt.sql", "uids")
    sql.run("did_att_gt.sql", "influence_view")
    return gt.tables["inf"]


def _check_unit_rows(gt: GroupTimeSQL, what: str) -> None:
    if not gt.unit_rows:
        raise ValueError(
            f"{what} need the units' rows; an estimate combined from partitions' moments "
            "has only the moments (estimate with att_gt_sql on the whole panel for them)"
        )


# ---------------------------------------------------------------------------- aggregate


def _build_aggregation(sql: _Sql, gt: GroupTimeSQL, kind: str, min_e: float, max_e: float) -> None:
    """Create the agg_cells/agg_keys/agg_w/agg_wif tables for ``kind``."""
    f = "did_aggregate.sql"
    sql.run(f, "agg_cells", n=gt.n_units, max_e=float(max_e), is_group=kind == "group")
    if kind == "simple":
        sql.run(f, "keys_simple")
        sql.run(f, "w_simple")
        sql.run(f, "wif_pg")
    elif kind == "group":
        sql.run(f, "keys_group")
        sql.run(f, "w_group")
        sql.run(f, "wif_none")
        sql.run(f, "overall_group_w")
        sql.run(f, "overall_group_wif")
        sql.run(f, "overall_key")
    else:
        if kind == "dynamic":
            sql.run(f, "keys_dynamic", min_e=float(min_e), max_e=float(max_e))
        else:
            sql.run(f, "keys_calendar")
        sql.run(f, f"w_{kind}")
        sql.run(f, "wif_pg")
        # dynamic: mean over e >= 0; calendar: mean over the years with an estimate
        min_key = 0.0 if kind == "dynamic" else -math.inf
        sql.run(f, "overall_mean_w", min_key=min_key)
        sql.run(f, "overall_mean_wif", min_key=min_key)
        sql.run(f, "overall_key")


def _agg_sql(con: duckdb.DuckDBPyConnection, gt: GroupTimeSQL) -> _Sql:
    names = _temp_names("agg", *_AGG_TABLES)
    return _Sql(con, {**gt.tables, **names})


@contextlib.contextmanager
def _aggregation(
    con: duckdb.DuckDBPyConnection, gt: GroupTimeSQL, kind: str, min_e: float, max_e: float
) -> Iterator[_Sql]:
    """The aggregation's tables (weights, wif terms) for the block, dropped after it."""
    _check_agg(gt, kind)
    sql = _agg_sql(con, gt)
    try:
        _build_aggregation(sql, gt, kind, min_e, max_e)
        yield sql
    finally:
        sql.drop(*_AGG_TABLES)


def _check_agg(gt: GroupTimeSQL, kind: str) -> None:
    if kind not in _AGG_KINDS:
        raise ValueError(f"kind must be one of {_AGG_KINDS}, got {kind!r}")
    if not gt.cells["att"].notna().any():
        raise ValueError("all ATT(g,t) are undefined; nothing to aggregate")


def _vcov(sql: _Sql, gt: GroupTimeSQL, key_ids: np.ndarray) -> np.ndarray:
    """The covariance matrix of the table's estimates, rows and columns in table order."""
    pairs = sql.frame("did_aggregate.sql", "vcov", n=gt.n_units)
    position = {int(k): i for i, k in enumerate(key_ids)}
    vcov = np.zeros((len(key_ids), len(key_ids)))
    for k, other, v in pairs.itertuples(index=False):
        vcov[position[int(k)], position[int(other)]] = v
    return vcov


def _results(sql: _Sql, gt: GroupTimeSQL, kind: str, *, vcov: bool = False) -> AggregateATT:
    res = sql.frame("did_aggregate.sql", "results", n=gt.n_units, se_floor=_SE_FLOOR, z=_Z_95)
    res = res.astype({"att": "float64", "se": "float64", "ci_low": "float64", "ci_high": "float64"})
    overall = res[res["key_id"] == -1].iloc[0]
    rows = res[res["key_id"] >= 0]
    table = pd.DataFrame(
        {
            "key": rows["key"].to_numpy(dtype=float).astype(np.int64),
            "att": rows["att"].to_numpy(dtype=float),
            "se": rows["se"].to_numpy(dtype=float),
            "ci_low": rows["ci_low"].to_numpy(dtype=float),
            "ci_high": rows["ci_high"].to_numpy(dtype=float),
        }
    )
    return AggregateATT(
        kind=kind,
        overall_att=float(overall["att"]),
        overall_se=float(overall["se"]),
        table=table,
        ci_low=float(overall["ci_low"]),
        ci_high=float(overall["ci_high"]),
        vcov=_vcov(sql, gt, rows["key_id"].to_numpy()) if vcov else None,
    )


def aggregate_sql(
    con: duckdb.DuckDBPyConnection,
    gt: GroupTimeSQL,
    kind: str = "simple",
    *,
    min_e: float = -math.inf,
    max_e: float = math.inf,
    vcov: bool = False,
) -> AggregateATT:
    """Aggregate group-time ATTs in DuckDB exactly as did's ``aggte`` (analytic SEs).

    Same semantics as :func:`evaluation.did.aggregate` (including the weight-estimation
    term in the SEs); the unit-level influence functions are not materialized, so the
    result has ``influence=None`` and ``table_influence=None``. With ``vcov`` it carries
    instead the covariance matrix of the table's estimates (``AggregateATT.vcov``: what
    Wald tests, HonestDiD and combinations of keys need), from the same cell Gram matrix.

    Args:
        con: the connection ``gt`` was estimated in.
        gt: result of :func:`att_gt_sql`.
        kind: "simple", "group", "dynamic" or "calendar".
        min_e, max_e: event-time window (``max_e`` also bounds post cells for "simple"
            and "group"; ``min_e`` only applies to "dynamic"), as in did.

    Returns:
        AggregateATT with the overall estimate, SE, 95% interval and per-key table.
    """
    with _aggregation(con, gt, kind, min_e, max_e) as sql:
        return _results(sql, gt, kind, vcov=vcov)


def overall_influence_sql(
    con: duckdb.DuckDBPyConnection,
    gt: GroupTimeSQL,
    kind: str = "simple",
    *,
    min_e: float = -math.inf,
    max_e: float = math.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """The per-unit influence function of an aggregation's overall estimate, as
    ``(unit_ids, influence)`` in the order and scale of :func:`evaluation.did.aggregate`'s
    ``influence`` with ``GroupTimeATT.unit_ids`` (what a family-wise bootstrap across
    outcomes needs, `evaluation.multiple`). One float per unit: no unit x cell matrix.

    Raises:
        ValueError: as :func:`aggregate_sql`, or an estimate without the units' rows.
    """
    _check_unit_rows(gt, "influence functions per unit")
    with _aggregation(con, gt, kind, min_e, max_e) as sql:
        sql.run("did_att_gt.sql", "uids")
        part = sql.arrow("did_aggregate.sql", "overall_influence")
    uid = part.column("uid").to_numpy()
    if not (uid == np.arange(len(uid))).all():
        raise RuntimeError("overall_influence returned units out of order")  # a bug
    return part.column("unit_id").to_numpy(zero_copy_only=False), part.column("inf").to_numpy()


# ---------------------------------------------------------------------------- bootstrap


def _reblock(chunks: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Re-cut consecutive row chunks into blocks of exactly ``size`` rows (last: rest)."""
    buf: list[np.ndarray] = []
    have = 0
    for chunk in chunks:
        while len(chunk):
            take = min(size - have, len(chunk))
            buf.append(chunk[:take])
            have += take
            chunk = chunk[take:]
            if have == size:
                yield buf[0] if len(buf) == 1 else np.concatenate(buf)
                buf, have = [], 0
    if have:
        yield np.concatenate(buf)


def _multiplier_bootstrap(
    chunks: Iterable[np.ndarray], n_cols: int, biters: int, seed: int
) -> tuple[np.ndarray, int]:
    """Sum over units of Mammen-weighted influence functions, per bootstrap draw.

    ``chunks`` yields consecutive blocks of rows (units, in a fixed order) of the
    n x k influence-function matrix. Returns (biters x k sums, n). Memory is
    O(biters x block) whatever n: this is what lets the band scale to millions of units.
    """
    sums = np.zeros((biters, n_cols))
    n = 0
    for j, block in enumerate(_reblock(chunks, _BOOT_BLOCK)):
        m = len(block)
        bit_gen = np.random.default_rng([seed, j]).bit_generator
        # Raw 32-bit draws: v_ib = k1 iff u_ib < p * 2^32 (p exact to 2^-32). Writing
        # v = k2 + (k1 - k2) * 1{u < p*2^32} turns the draw into a 0/1 float32 matrix
        # product, several times faster than float64 weights; float32 rounding (~1e-7
        # relative) is far below the bootstrap's own Monte Carlo error.
        raw = bit_gen.random_raw((biters * m + 1) // 2).view(np.uint32)[: biters * m]
        hits = (raw.reshape(biters, m) < _MAMMEN_THRESHOLD).astype(np.float32)
        sums += _MAMMEN_K2 * block.sum(axis=0) + (_MAMMEN_K1 - _MAMMEN_K2) * (
            hits @ block.astype(np.float32)
        )
        n += m
    return sums, n


def _sup_t(
    chunks: Iterable[np.ndarray], n_cols: int, *, biters: int, alpha: float, seed: int
) -> tuple[float, np.ndarray]:
    """did's mboot critical value: quantile of max_k |bootstrap t| (Mammen weights).

    As did: draws bres = sqrt(n) * mean_i(v_i IF_i), studentized by the bootstrap SE
    (IQR / 1.349), columns with degenerate draws ignored. Returns (crit, boot SE per col).
    """
    sums, n = _multiplier_bootstrap(chunks, n_cols, biters, seed)
    bres = sums / math.sqrt(n)  # sqrt(n) * sums / n
    boot_se = np.full(n_cols, np.nan)
    ok = np.sum(bres**2, axis=0) > _SE_FLOOR
    if not ok.any():
        return math.nan, boot_se
    q75 = np.percentile(bres[:, ok], 75, axis=0, method="inverted_cdf")
    q25 = np.percentile(bres[:, ok], 25, axis=0, method="inverted_cdf")
    sd = (q75 - q25) / _IQR_TO_SD
    boot_se[ok] = sd / math.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_max = np.max(np.abs(bres[:, ok] / sd), axis=1)
    t_max = t_max[np.isfinite(t_max)]
    if not len(t_max):
        return math.nan, boot_se
    crit = float(np.percentile(t_max, 100 * (1 - alpha), method="inverted_cdf"))
    return crit, boot_se


def _band(
    kind: str,
    table: pd.DataFrame,
    chunks: Iterable[np.ndarray],
    n_cols: int,
    *,
    biters: int,
    alpha: float,
    seed: int,
) -> UniformBand:
    crit, boot_se = _sup_t(chunks, n_cols, biters=biters, alpha=alpha, seed=seed)
    out = table[["key", "att", "se"]].reset_index(drop=True).copy()
    out["boot_se"] = boot_se
    out["band_low"] = out["att"] - crit * out["boot_se"]
    out["band_high"] = out["att"] + crit * out["boot_se"]
    norm = NormalDist()
    return UniformBand(
        kind=kind,
        crit_value=crit,
        table=out,
        pointwise_crit=norm.inv_cdf(1 - alpha / 2),
        bonferroni_crit=norm.inv_cdf(1 - alpha / (2 * max(n_cols, 1))),
        biters=biters,
        alpha=alpha,
        seed=seed,
    )


def _check_band_args(biters: int, alpha: float, seed: int) -> None:
    if int(biters) != biters or biters < 2:
        raise ValueError(f"biters must be an integer >= 2, got {biters!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def uniform_band(
    agg: AggregateATT, *, biters: int = 1000, alpha: float = 0.05, seed: int = 0
) -> UniformBand:
    """Simultaneous band for ``agg.table`` (pandas path: :func:`evaluation.did.aggregate`).

    Uses ``agg.table_influence`` (units in did's order: by cohort, then id), so for the
    same seed it gives the same critical value as :func:`uniform_band_sql` on the same
    panel. Intended for ``kind="dynamic"`` (event study) but valid for any table.

    Args:
        agg: an aggregation with ``table_influence`` (not "simple").
        biters: bootstrap draws (did's default is 1000).
        alpha: 1 - coverage of the band.
        seed: seed of the Mammen weights; same seed, same band.

    Returns:
        UniformBand with the critical value and the per-key band.

    Raises:
        ValueError: bad arguments, or ``agg`` has no ``table_influence``.
    """
    _check_band_args(biters, alpha, seed)
    if agg.table_influence is None or agg.table.empty:
        raise ValueError("the aggregation has no per-key influence functions (table_influence)")
    valid = agg.table["att"].notna().to_numpy()
    inf = np.ascontiguousarray(agg.table_influence[:, valid])
    step = 16 * _BOOT_BLOCK
    chunks = (inf[i : i + step] for i in range(0, len(inf), step))
    return _band(
        agg.kind, agg.table.loc[valid], chunks, inf.shape[1], biters=biters, alpha=alpha, seed=seed
    )


def uniform_band_sql(
    con: duckdb.DuckDBPyConnection,
    gt: GroupTimeSQL,
    kind: str = "dynamic",
    *,
    min_e: float = -math.inf,
    max_e: float = math.inf,
    biters: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    chunk_units: int = 32 * _BOOT_BLOCK,
) -> UniformBand:
    """Simultaneous (uniform) band for the event study, from a seeded multiplier bootstrap.

    The per-unit influence functions of the per-key estimates (wif term included) are
    computed in DuckDB from each unit's row, ``chunk_units`` units (by uid) per query,
    and never stored; each block of 8192 units gets its own Mammen weights from
    ``default_rng([seed, block])`` and only the biters x k running sums stay in memory,
    so 1M units x 1000 draws needs ~100 MB of Python memory. did's sup-t critical value
    then follows (bootstrap draws studentized by their IQR-based SE, 1 - alpha quantile
    of the max over keys).

    Args:
        con, gt: as for :func:`aggregate_sql`.
        kind: aggregation whose table gets the band; "dynamic" (event study) by default.
        min_e, max_e: event-time window, as for :func:`aggregate_sql`.
        biters: bootstrap draws (did's default is 1000).
        alpha: 1 - coverage of the band.
        seed: seed of the Mammen weights; same seed, same band.
        chunk_units: units fetched from DuckDB per query (memory vs round trips).

    Returns:
        UniformBand with the critical value and the per-key band.
    """
    _check_band_args(biters, alpha, seed)
    _check_agg(gt, kind)
    _check_unit_rows(gt, "a bootstrap band's draws")
    if kind == "simple":
        raise ValueError("a band needs per-key effects; kind='simple' has none")
    sql = _agg_sql(con, gt)
    try:
        _build_aggregation(sql, gt, kind, min_e, max_e)
        agg = _results(sql, gt, kind)
        valid = agg.table["att"].notna().to_numpy()
        k = int(valid.sum())
        sql.run("did_att_gt.sql", "uids")
        sql.run("did_aggregate.sql", "band_terms")
        step = max(_BOOT_BLOCK, chunk_units // _BOOT_BLOCK * _BOOT_BLOCK)

        def chunks() -> Iterator[np.ndarray]:
            for lo in range(0, gt.n_units, step):
                hi = min(lo + step, gt.n_units)
                part = sql.arrow("did_aggregate.sql", "band_chunk", lo=lo, hi=hi)
                uid = part.column("uid").to_numpy()
                if len(uid) != hi - lo or not (uid == np.arange(lo, hi)).all():
                    raise RuntimeError("band_chunk returned units out of order")  # a bug
                values = part.column("v").combine_chunks().flatten().to_numpy()
                yield values.reshape(hi - lo, k)

        return _band(kind, agg.table.loc[valid], chunks(), k, biters=biters, alpha=alpha, seed=seed)
    finally:
        sql.drop(*_AGG_TABLES)
