"""Which implementation of Callaway and Sant'Anna estimates a program's ATT(g,t).

Two engines compute the same estimator (equal to R did to rounding, and to each other to
~1e-13 on a national register's program: tests/test_estimation_engine.py,
benchmarks/bench_engine.py):

* ``numpy`` (`evaluation.did`): the unit x cell influence functions as a dense matrix in
  memory. Several times faster on small programs (the DuckDB engine pays ~0.2 s of SQL
  statements per estimate) and as fast on a national register's largest (400k firms),
  but each outcome holds units x cells x 8 bytes (0.5 GB there), and several such
  matrices at once.
* ``duckdb`` (`evaluation.did_duckdb`): per (cohort, observation pattern) moments in a
  DuckDB connection; cells, aggregations, their covariances, the ROI totals' variances,
  the event study's band and the family-wise test's influence functions all follow from
  them, and nothing unit x cell is ever held in Python (DuckDB spills to disk beyond its
  memory limit).

``auto`` (the default) picks numpy unless one outcome's influence matrix would exceed
`DENSE_LIMIT_BYTES` (1 GiB: about 800k firms with 12 cohorts over 15 years). Everything
downstream (`evaluation.impact`, `evaluation.roi`, `evaluation.sensitivity`) reads an
estimate through the functions here, so it works on either: `aggregate`,
`small_sample_corrected`, `combination_se`, `overall_influence`, `event_study_band`.
The covariate-adjusted estimator (moderndid) always runs in numpy.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from evaluation import diagnostics
from evaluation.did import AggregateATT, GroupTimeATT, att_gt
from evaluation.did import aggregate as aggregate_numpy
from evaluation.did_duckdb import (
    GroupTimeSQL,
    UniformBand,
    aggregate_sql,
    att_gt_sql,
    overall_influence_sql,
    uniform_band,
    uniform_band_sql,
)

ENGINES: tuple[str, ...] = ("auto", "numpy", "duckdb")
# auto: DuckDB once one outcome's dense influence matrix would pass this (1 GiB).
# Measured (benchmarks/README.md): on the 1M register's largest program (400k firms,
# 0.54 GB a matrix) the Callaway-Sant'Anna evaluation took 110 s / 4.9 GB on numpy and
# 99 s / 3.2 GB on DuckDB, but the whole estimate stage of that register (every
# estimator, three programs) 557 s / 6.2 GB against 577 s / 6.7 GB: its peak is elsewhere
# and numpy is as fast. Three times that program (1.6 GB a matrix): 253 s / 13.3 GB on
# numpy, 236 s / 8.6 GB on DuckDB. A demo program: 2.4 s against 14 s.
DENSE_LIMIT_BYTES = 2**30


@dataclass(frozen=True)
class GroupTimeDuckDB:
    """Group-time ATTs estimated by the DuckDB engine: the cells and one entry per unit
    (ids and cohorts, as `GroupTimeATT`'s) here, the moments in `con`.
    `small_sample_corrected` gives the variant with the n - 1 correction."""

    con: duckdb.DuckDBPyConnection
    estimate: GroupTimeSQL
    unit_ids: np.ndarray
    unit_cohort: np.ndarray  # 0 = never treated
    cell_ids: np.ndarray  # the cells' ids in the connection's tables, in `cells` order

    @property
    def cells(self) -> pd.DataFrame:
        return self.estimate.cells

    @property
    def n_units(self) -> int:
        return self.estimate.n_units

    @property
    def control_group(self) -> str:
        return self.estimate.control_group

    def drop(self) -> None:
        """Free the estimate's tables in the connection."""
        self.estimate.drop(self.con)


GroupTime = GroupTimeATT | GroupTimeDuckDB


def dense_bytes(panel: pd.DataFrame) -> int:
    """The size of one outcome's dense influence matrix on `panel` (firm_id, year,
    cohort; cohort 0 = comparison firm): units x cells x 8 bytes, cells counted as every
    treated cohort's years but one (the most a varying base period estimates)."""
    if panel.empty:
        return 0
    units = int(panel["firm_id"].nunique())
    cohorts = int(panel.loc[panel["cohort"] > 0, "cohort"].nunique())
    years = int(panel["year"].nunique())
    return units * cohorts * max(years - 1, 0) * 8


def choose(engine: str, panel: pd.DataFrame, limit: int = DENSE_LIMIT_BYTES) -> str:
    """The engine that estimates `panel`: `engine` itself unless it is "auto"."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "auto":
        return engine
    return "duckdb" if dense_bytes(panel) > limit else "numpy"


class Engine:
    """Estimates ATT(g,t) of one program's panels with one engine: the DuckDB engine with
    an in-memory connection (`program_engine` opens it, spilling to a temporary folder, and
    closes it), numpy without one."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | None = None,
        duckdb_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.con = con
        # the run's DuckDB settings, for the other estimators' own connections too
        self.duckdb_config = dict(duckdb_config or {})

    @property
    def name(self) -> str:
        return "numpy" if self.con is None else "duckdb"

    def group_time(
        self,
        panel: pd.DataFrame,
        outcome: str,
        *,
        control_group: str,
        base_period: str,
        anticipation: int,
    ) -> GroupTime:
        """Unconditional ATT(g,t) of `outcome` on `panel` (firm_id, year, cohort), as
        `evaluation.did.att_gt`; it raises the same errors on either engine."""
        options: dict[str, Any] = {
            "control_group": control_group,
            "base_period": base_period,
            "anticipation": anticipation,
        }
        if self.con is None:
            return att_gt(
                panel, unit="firm_id", time="year", cohort="cohort", outcome=outcome, **options
            )
        return _group_time_duckdb(self.con, panel, outcome, options)


NUMPY = Engine()


@contextlib.contextmanager
def program_engine(
    panel: pd.DataFrame,
    engine: str = "auto",
    *,
    duckdb_config: Mapping[str, Any] | None = None,
    limit: int = DENSE_LIMIT_BYTES,
) -> Iterator[Engine]:
    """The engine for one program's panel (see `choose`); a DuckDB one is closed, and its
    spill folder removed, on exit. `duckdb_config`: DuckDB settings (memory_limit,
    threads) for its connection."""
    if choose(engine, panel, limit) == "numpy":
        yield Engine(duckdb_config=duckdb_config)
        return
    spill = tempfile.mkdtemp(prefix="mes-eval-did-")
    con = duckdb.connect(config={**(duckdb_config or {}), "temp_directory": spill})
    try:
        yield Engine(con, duckdb_config)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _group_time_duckdb(
    con: duckdb.DuckDBPyConnection, panel: pd.DataFrame, outcome: str, options: dict[str, Any]
) -> GroupTimeDuckDB:
    # the firms as integer codes (a join key DuckDB groups fast), mapped back to the ids
    codes, firms = pd.factorize(panel["firm_id"], sort=True)
    frame = pd.DataFrame(
        {
            "unit": codes,
            "time": panel["year"].to_numpy(),
            "cohort": panel["cohort"].to_numpy(),
            "y": panel[outcome].to_numpy(dtype=float, na_value=np.nan),
        }
    )
    name = f"_panel_{uuid.uuid4().hex}"
    con.register(name, frame)
    try:
        estimate = att_gt_sql(
            con,
            name,
            unit="unit",
            time="time",
            cohort="cohort",
            outcome="y",
            small_sample=True,
            **options,
        )
    finally:
        con.unregister(name)
    units = con.execute(
        f"SELECT unit_id, g FROM {estimate.tables['units']} WHERE keep ORDER BY g, unit_id"
    ).fetchnumpy()
    cohort = np.asarray(units["g"], dtype=float)
    cell_ids = con.execute(
        f"SELECT cell_id FROM {estimate.tables['cells']} ORDER BY cell_id"
    ).fetchnumpy()
    return GroupTimeDuckDB(
        con=con,
        estimate=estimate,
        unit_ids=np.asarray(firms)[np.asarray(units["unit_id"], dtype=np.int64)],
        unit_cohort=np.where(np.isinf(cohort), 0, cohort).astype(np.int64),
        cell_ids=np.asarray(cell_ids["cell_id"], dtype=np.int64),
    )


# --- what the evaluation reads from an estimate, on either engine ---------------------


def aggregate(
    gt: GroupTime, kind: str, *, min_e: float = -math.inf, max_e: float = math.inf
) -> AggregateATT:
    """did's aggregation of `gt` (`evaluation.did.aggregate`). On the DuckDB engine it
    carries the covariance of its table (`AggregateATT.vcov`) instead of influence
    functions: `did.table_covariance` reads either."""
    if isinstance(gt, GroupTimeDuckDB):
        return aggregate_sql(gt.con, gt.estimate, kind, min_e=min_e, max_e=max_e, vcov=True)
    return aggregate_numpy(gt, kind, min_e=min_e, max_e=max_e)


def small_sample_corrected(gt: GroupTime) -> GroupTime:
    """`gt` with the n - 1 correction of each cell's variance
    (`evaluation.diagnostics.small_sample_corrected`)."""
    if isinstance(gt, GroupTimeDuckDB):
        return replace(gt, estimate=gt.estimate.small_sample_corrected())
    return diagnostics.small_sample_corrected(gt)


def combination_se(gt: GroupTime, keep: np.ndarray, weights: np.ndarray) -> float:
    """The standard error of sum_c weights_c ATT_c over the cells `keep` selects (a
    boolean mask over `gt.cells`): sqrt(w' M w) / n with M the cells' Gram matrix of
    influence functions (what the ROI totals need)."""
    if isinstance(gt, GroupTimeDuckDB):
        ids = gt.cell_ids[keep]
        position = pd.Series(np.arange(len(ids)), index=ids)
        gram = gt.con.execute(
            f"SELECT c1, c2, m FROM {gt.estimate.tables['gram']} "
            "WHERE c1 IN (SELECT unnest($ids)) AND c2 IN (SELECT unnest($ids))",
            {"ids": ids.tolist()},
        ).fetchnumpy()
        matrix = np.zeros((len(ids), len(ids)))
        matrix[position[gram["c1"]].to_numpy(), position[gram["c2"]].to_numpy()] = gram["m"]
        variance = float(weights @ matrix @ weights)
        return math.sqrt(max(variance, 0.0)) / gt.n_units
    influence = gt.influence[:, keep] @ weights
    return float(np.sqrt(np.sum(influence**2)) / gt.n_units)


def overall_influence(gt: GroupTime, agg: AggregateATT) -> tuple[np.ndarray, np.ndarray] | None:
    """(unit ids, per-unit influence function) of `agg`'s overall estimate, an aggregation
    of `gt`, for the family-wise test (`evaluation.multiple`); None without unit ids."""
    if isinstance(gt, GroupTimeDuckDB):
        return overall_influence_sql(gt.con, gt.estimate, agg.kind)
    if gt.unit_ids is None or agg.influence is None:
        return None
    return gt.unit_ids, agg.influence


def event_study_band(
    gt: GroupTime, dynamic: AggregateATT, *, biters: int, alpha: float, seed: int
) -> UniformBand:
    """The simultaneous band of the event study `dynamic` (of `gt`): the same seeded
    multiplier bootstrap, and so the same band, on either engine."""
    if isinstance(gt, GroupTimeDuckDB):
        return uniform_band_sql(
            gt.con, gt.estimate, "dynamic", biters=biters, alpha=alpha, seed=seed
        )
    return uniform_band(dynamic, biters=biters, alpha=alpha, seed=seed)


def release(gt: GroupTime) -> None:
    """Free what an estimate holds outside Python (the DuckDB engine's tables)."""
    if isinstance(gt, GroupTimeDuckDB):
        gt.drop()
