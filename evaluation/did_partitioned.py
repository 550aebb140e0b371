"""Callaway & Sant'Anna ATT(g,t) from a panel split by a hash of the unit id: each
partition's sums computed where it is read (a Dask worker, or here one after the other)
and added up, for panels that no single process should hold.

Without covariates every cell, its analytic SE and every aggregation's SE are functions of
sums over units (:mod:`evaluation.did_duckdb`): per-period sums of the outcome (to centre
it) and, per (cohort, observation pattern), cross-products of the units' centred outcomes.
A sum over disjoint sets of units is the sum of their sums, so a panel split into P
partitions by ``hash(unit) % P`` gives, partition by partition, the sums of the whole
panel. Two passes over each partition:

1. the period scan (rows, outcome sums and the cohort facts did's preprocessing needs);
   added up, they give the periods, their means and did's input checks;
2. with those, the units' rows and their moments, and the counts of did's unit checks.

The combined moments then go through the same SQL as :func:`att_gt_sql`, in the
connection given (``con``), and :func:`aggregate_sql` works on the result as on
``att_gt_sql``'s. Only the order of additions differs from one scan of the whole panel:
cells, SEs and aggregations agree to 1e-10 (tests/test_did_partitioned.py; on a Dask
``LocalCluster`` in tests/test_dask.py).

Each partition's work is a plain function of picklable arguments (:class:`PanelSource`,
the partition, the number of partitions, the parameters of pass 2), so any ``map`` runs
it: the builtin one (the default: one partition after the other, in this process, memory
bounded by a partition) or :func:`dask_map` (one task per partition on a Dask cluster's
workers, each opening the panel read-only). Unit-level output - per-unit influence
functions, the bootstrap band - needs the units' rows, which stay with the partitions:
the estimate says so (``GroupTimeSQL.unit_rows`` is False) and those functions refuse it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from evaluation.did_duckdb import (
    _GT_SCRATCH,
    _GT_TABLES,
    GroupTimeSQL,
    _check_cohorts,
    _check_options,
    _check_scan,
    _check_units,
    _group_time,
    _pattern_moments,
    _quote_relation,
    _Sql,
    _temp_names,
    _units_params,
    quote_ident,
)

__all__ = [
    "PanelSource",
    "att_gt_partitioned",
    "dask_map",
    "partition_input_errors",
    "partition_moments",
    "partition_period_scan",
]

Mapper = Callable[..., Iterable[Any]]
_PREPARE = "did_prepare.sql"
_UNIT_COUNTS = ("n_varying_cohort", "n_early", "n_units", "n_duplicated")
_ERROR_COUNTS = ("null_units", "null_times", "bad_times", "bad_cohorts", "bad_outcomes")


@dataclass(frozen=True)
class PanelSource:
    """Where each partition's rows are read, by whichever process computes it: a table or
    view of a DuckDB file (opened read-only, so that any number of workers read it while
    the warehouse's one writer stores nothing meanwhile), or Parquet files (``parquet``: a
    path or glob every worker can read). One row per (unit, time), as for att_gt_sql."""

    unit: str
    time: str
    cohort: str
    outcome: str
    relation: str | None = None  # a table or view of `database`
    database: Path | None = None  # the DuckDB file holding `relation` (needed with it)
    parquet: str | None = None

    def __post_init__(self) -> None:
        if (self.relation is None) == (self.parquet is None):
            raise ValueError("a panel source is a relation (of a database) or Parquet files")

    def connect(self) -> tuple[duckdb.DuckDBPyConnection, str]:
        """A connection of this process's own and the panel's relation in it (quoted)."""
        if self.parquet is not None:
            literal = "'" + self.parquet.replace("'", "''") + "'"
            return duckdb.connect(), f"read_parquet({literal})"
        assert self.relation is not None
        if self.database is None:
            raise ValueError("a relation source needs the database file its workers open")
        con = duckdb.connect(str(self.database), read_only=True)
        return con, _quote_relation(self.relation)


def _partition_sql(source: PanelSource, part: int, parts: int) -> _Sql:
    """The partition's rows as did_prepare.sql's panel, in a connection of its own (its
    temp tables go with it when it is closed)."""
    con, relation = source.connect()
    unit = quote_ident(source.unit)
    idents = {
        # the partition: a hash of the unit id, the same in every process (DuckDB's hash)
        "panel": f"(SELECT * FROM {relation} WHERE hash({unit}) % {int(parts)} = {int(part)})",
        "unit": unit,
        "time": quote_ident(source.time),
        "cohort": quote_ident(source.cohort),
        "outcome": quote_ident(source.outcome),
    }
    scratch = _temp_names("didp", "raw", "tstats", "periods", "units", "cohorts", "mom")
    return _Sql(con, {**idents, **scratch})


def partition_period_scan(source: PanelSource, part: int, parts: int) -> pa.Table:
    """Pass 1 of one partition: did_prepare.sql's period scan of its rows."""
    sql = _partition_sql(source, part, parts)
    try:
        sql.run(_PREPARE, "raw_view")
        sql.run(_PREPARE, "period_scan")
        return sql.con.sql(f"SELECT * FROM {sql.idents['tstats']}").to_arrow_table()
    finally:
        sql.con.close()


def partition_input_errors(source: PanelSource, part: int, parts: int) -> dict[str, int]:
    """Which of did's input checks the partition's rows fail (only asked when some do)."""
    sql = _partition_sql(source, part, parts)
    try:
        sql.run(_PREPARE, "raw_view")
        found = sql.one(_PREPARE, "input_errors")
        return {k: int(found[k] or 0) for k in _ERROR_COUNTS}
    finally:
        sql.con.close()


def partition_moments(
    source: PanelSource, part: int, parts: int, params: Mapping[str, Any]
) -> tuple[dict[str, int], pa.Table, pa.Table]:
    """Pass 2 of one partition: its units (did's preprocessing with the whole panel's
    periods and means, `params`), their counts, cohort sizes and moments."""
    sql = _partition_sql(source, part, parts)
    try:
        sql.run(_PREPARE, "raw_view")
        sql.run(_PREPARE, "units", **params)
        summary = sql.one(_PREPARE, "units_summary")
        sql.run(_PREPARE, "cohorts")
        sql.run(_PREPARE, "moments", n_periods=params["n_periods"])
        cohorts = sql.con.sql(f"SELECT g, n_g FROM {sql.idents['cohorts']}").to_arrow_table()
        mom = sql.con.sql(f"SELECT g, pk, a, b, s FROM {sql.idents['mom']}").to_arrow_table()
        return {k: int(summary[k] or 0) for k in _UNIT_COUNTS}, cohorts, mom
    finally:
        sql.con.close()


def dask_map(client: Any) -> Mapper:
    """A `map` that runs each partition as a task on `client`'s Dask cluster (a
    ``distributed.Client``) and returns the results in partition order."""

    def run(function: Callable[..., Any], *arguments: Iterable[Any]) -> list[Any]:
        futures = client.map(function, *arguments, pure=False)
        return list(client.gather(futures))

    return run


def _combined(
    con: duckdb.DuckDBPyConnection, target: str, parts: list[pa.Table], select: str
) -> None:
    """`target` (a temp table) from the partitions' tables, through `select` over them
    (named `parts` in it)."""
    name = f"_didp_parts_{uuid.uuid4().hex[:10]}"
    con.register(name, pa.concat_tables(parts, promote_options="default"))
    try:
        con.execute(f"CREATE TEMP TABLE {target} AS {select.format(parts=quote_ident(name))}")
    finally:
        con.unregister(name)


def att_gt_partitioned(
    con: duckdb.DuckDBPyConnection,
    source: PanelSource,
    *,
    partitions: int,
    control_group: str = "nevertreated",
    base_period: str = "varying",
    anticipation: int = 0,
    map: Mapper = map,
) -> GroupTimeSQL:
    """:func:`att_gt_sql` of the panel `source` computed partition by partition: each of
    `partitions` slices of the units (by hash) is scanned by the `map` given (in this
    process by default; :func:`dask_map` for a Dask cluster), and their sums are combined
    in `con`, which then holds the estimate's tables (for :func:`aggregate_sql`).

    Same options, checks, warnings and errors as att_gt_sql; the cells and SEs equal
    its to rounding. The result has no unit-level rows (``unit_rows`` False)."""
    if int(partitions) != partitions or partitions < 1:
        raise ValueError(f"partitions must be a positive integer, got {partitions!r}")
    parts = int(partitions)
    ant = _check_options(control_group, base_period, anticipation)
    names = {"unit": source.unit, "time": source.time, "cohort": source.cohort}
    names["outcome"] = source.outcome
    first, relation = source.connect()  # found, and with its columns, before any pass
    try:
        present = {c.lower() for c in first.sql(f"SELECT * FROM {relation} LIMIT 0").columns}
    finally:
        first.close()
    missing = [repr(c) for c in names.values() if c.lower() not in present]
    if missing:
        raise ValueError(f"panel is missing required column(s): {', '.join(missing)}")

    each = [source] * parts, range(parts), [parts] * parts
    tables = _temp_names("did", *_GT_TABLES, *_GT_SCRATCH)
    sql = _Sql(con, tables)
    try:
        # pass 1: the periods, their means and did's input checks, from every partition
        _combined(
            con,
            tables["tstats"],
            list(map(partition_period_scan, *each)),
            "SELECT t, sum(n_bad)::BIGINT AS n_bad, sum(n_ok)::BIGINT AS n_ok, "
            "sum(sum_y) / nullif(sum(n_ok), 0) AS mu, bool_or(any_zero) AS any_zero, "
            "max(g_max) AS g_max, sum(sum_y) AS sum_y FROM {parts} GROUP BY t",
        )
        s = sql.one(_PREPARE, "scan_summary")

        def errors() -> dict[str, int]:
            found = list(map(partition_input_errors, *each))
            return {k: sum(f[k] for f in found) for k in _ERROR_COUNTS}

        _check_scan(s, errors, **names)
        params, has_never = _units_params(sql, s, control_group, ant)
        # pass 2: the units' moments, cohort sizes and checks, from every partition
        done = list(map(partition_moments, *each, [params] * parts))
        counts = {k: sum(d[0][k] for d in done) for k in _UNIT_COUNTS}
        n = _check_units(counts, has_never=has_never, **names)
        _combined(
            con,
            tables["cohorts"],
            [d[1] for d in done],
            "SELECT g, sum(n_g)::BIGINT AS n_g FROM {parts} GROUP BY g ORDER BY g",
        )
        _check_cohorts(sql)
        _combined(
            con,
            tables["mom"],
            [d[2] for d in done],
            "SELECT g, pk::HUGEINT AS pk, a::INTEGER AS a, b::INTEGER AS b, sum(s) AS s "
            "FROM {parts} GROUP BY g, pk, a, b",
        )
        _pattern_moments(sql, params["n_periods"])
    except BaseException:
        sql.drop(*tables)
        raise
    return _group_time(
        sql, tables, n, params["n_periods"], control_group, base_period, ant, unit_rows=False
    )
