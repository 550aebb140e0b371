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
