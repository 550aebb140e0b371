"""Store impact estimates, each tagged with the run and input data version behind it."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pandas as pd

from evaluation.impact import ProgramImpact


def read_evaluation_panel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The evaluation panel mart, one row per program, firm and year."""
    return con.sql(
        "select * from marts.mart_evaluation_panel order by program_id, firm_id, year"
    ).df()


def read_self_reported(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Gross self-reported results per program (empty when no client survey was loaded)."""
    return con.sql("select * from marts.mart_self_reported").df()


def store_estimates(
    con: duckdb.DuckDBPyConnection, impact: ProgramImpact, *, run_id: str, data_version: str
) -> int:
    """Append a run's estimates, group-time effects and ROI; returns the number of estimates."""
    stamp = {
        "run_id": run_id,
        "data_version": data_version,
        "created_at": datetime.now(UTC).replace(tzinfo=None),
    }
    estimates = impact.estimates.assign(**stamp)
    cells = impact.att_gt.assign(run_id=run_id)
    ratios = impact.roi.assign(**stamp)
    con.execute("begin transaction")
    try:
        con.register("new_estimates", estimates)
        con.execute("insert into results.estimates by name select * from new_estimates")
        con.register("new_cells", cells)
        con.execute("insert into results.att_gt by name select * from new_cells")
        con.register("new_roi", ratios)
        con.execute("insert into results.roi by name select * from new_roi")
        if len(impact.balance):
            con.register("new_balance", impact.balance.assign(run_id=run_id))
            con.execute("insert into results.balance by name select * from new_balance")
            con.unregister("new_balance")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("new_estimates")
        con.unregister("new_cells")
        con.unregister("new_roi")
    return len(estimates)


RESULT_TABLES = ("results.estimates", "results.att_gt", "results.roi", "results.balance")


def find_cached_run(
    con: duckdb.DuckDBPyConnection, data_version: str, specification: str
) -> str | None:
    """The latest run whose estimates rest on the same data and specification, if any."""
    rows = con.execute(
        "select run_id from results.estimates where data_version = ? and specification = ? "
        "order by created_at desc limit 1",
        [data_version, specification],
    ).fetchall()
    return rows[0][0] if rows else None


def copy_results(con: duckdb.DuckDBPyConnection, from_run: str, to_run: str) -> int:
    """Reuse an identical run's results under a new run id; returns the number of estimates."""
    con.execute("begin transaction")
    try:
        for table in RESULT_TABLES:
            con.execute(
                f"insert into {table} by name select * exclude (run_id), ? as run_id "
                f"from {table} where run_id = ?",
                [to_run, from_run],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return int(
        con.execute("select count(*) from results.estimates where run_id = ?", [to_run]).fetchall()[
            0
        ][0]
    )


def read_run_results(
    con: duckdb.DuckDBPyConnection, run_id: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's estimates and ROI, as stored."""
    estimates = con.execute("select * from results.estimates where run_id = ?", [run_id]).df()
    roi = con.execute("select * from results.roi where run_id = ?", [run_id]).df()
    return estimates, roi
