"""The run log: every evaluation run, its parameters, outcome and reason for failure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, flow: str, parameters: dict[str, Any]
) -> None:
    """Record that a run started."""
    con.execute(
        "insert into meta.runs (run_id, flow, started_at, status, parameters) values (?, ?, ?, 'running', ?)",
        [run_id, flow, _now(), json.dumps(parameters, default=str)],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str | None = None
) -> None:
    """Record how a run ended: completed, or failed with the reason."""
    con.execute(
        "update meta.runs set finished_at = ?, status = ?, message = ? where run_id = ?",
        [_now(), status, message, run_id],
    )
