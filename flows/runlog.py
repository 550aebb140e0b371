"""The run log: how every run is recorded in meta.runs, inside a Prefect flow or not.

The Prefect flows of `flows.pipeline` and the CLI's flow-less commands (`mes-eval report`,
`mes-eval audit`) record their runs through the same `logged_run`, so the run history
reads the same whichever started them. Nothing here imports Prefect: a command that needs
no flow does not pay for Prefect's start-up.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flows.config import RunConfig
from flows.notify import notify_failure
from warehouse.db import open_warehouse
from warehouse.lock import writer_lock
from warehouse.models import CheckResult
from warehouse.runs import close_interrupted_runs, finish_run, start_run


class DataCheckError(RuntimeError):
    """A warehouse data check failed: the numbers would not be trustworthy."""


def require_passing(checks: list[CheckResult]) -> list[CheckResult]:
    """The data checks, if every one passed; else a DataCheckError naming each failure."""
    failed = [c for c in checks if not c.passed]
    if failed:
        raise DataCheckError(
            "; ".join(
                f"data check {c.name} failed on {c.failing_rows} rows, e.g. {c.sample[0]}"
                for c in failed
            )
        )
    return checks


@dataclass
class RunRecord:
    """What a running flow reports to the run log when it ends."""

    run_id: str
    row_counts: list[dict[str, Any]] | None = None
    cached: bool | None = None


@contextlib.contextmanager
def logged_run(config: RunConfig, flow_name: str, run_id: str | None) -> Iterator[RunRecord]:
    """Hold the writer lock and record the run in meta.runs: running, then completed or
    failed with the reason (and call the notification hook on failure)."""
    run = RunRecord(run_id or uuid.uuid4().hex[:12])
    with writer_lock(config.warehouse, wait_seconds=config.lock_wait_seconds):
        with open_warehouse(config.warehouse) as con:
            # under the lock no other run is live: a `running` one was killed
            close_interrupted_runs(con)
            start_run(con, run.run_id, flow_name, config.model_dump(mode="json"))
        try:
            yield run
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"
            with open_warehouse(config.warehouse) as con:
                finish_run(con, run.run_id, "failed", message, row_counts=run.row_counts)
            notify_failure(config, run.run_id, flow_name, message)
            raise
        with open_warehouse(config.warehouse) as con:
            finish_run(con, run.run_id, "completed", row_counts=run.row_counts, cached=run.cached)
