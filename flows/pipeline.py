"""The evaluation run as Prefect flows: ingest, build the warehouse, estimate, publish.

Thin by design: each task is one call into `flows.steps`. Every run is logged in the
warehouse (`meta.runs`) with its parameters, and a failure records its reason.
`evaluation_run` is the whole chain; `estimate_run` re-estimates on what is loaded.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task

from flows import steps
from flows.config import RunConfig
from schemas.mapping import Mapping
from warehouse.db import open_warehouse
from warehouse.load import LoadReport
from warehouse.models import CheckResult
from warehouse.runs import finish_run, start_run


class DataCheckError(RuntimeError):
    """A warehouse data check failed: the numbers would not be trustworthy."""


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for the CLI to print."""

    run_id: str
    loads: list[LoadReport]
    checks: list[CheckResult]
    estimates: steps.EstimateSummary
    report: Path | None
    warehouse: Path


@task(name="ingest")
def ingest(config: RunConfig, run_id: str) -> list[LoadReport]:
    return steps.ingest_sources(config, run_id)


@task(name="build-warehouse")
def build_warehouse(config: RunConfig) -> list[CheckResult]:
    return steps.build_warehouse(config)


@task(name="estimate")
def estimate(config: RunConfig, run_id: str) -> steps.EstimateSummary:
    return steps.estimate(config, run_id)


@task(name="publish")
def publish(config: RunConfig, run_id: str) -> Path:
    return steps.publish(config, run_id)


@contextlib.contextmanager
def logged_run(config: RunConfig, flow_name: str, run_id: str | None) -> Iterator[str]:
    """Record the run in meta.runs: running, then completed or failed with the reason."""
    run_id = run_id or uuid.uuid4().hex[:12]
    with open_warehouse(config.warehouse) as con:
        start_run(con, run_id, flow_name, config.model_dump(mode="json"))
    try:
        yield run_id
    except Exception as exc:
        with open_warehouse(config.warehouse) as con:
            finish_run(con, run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    with open_warehouse(config.warehouse) as con:
        finish_run(con, run_id, "completed")


def checked(checks: list[CheckResult]) -> list[CheckResult]:
    """Stop the run if a data check failed."""
    failed = [c for c in checks if not c.passed]
    if failed:
        raise DataCheckError(
            "; ".join(
                f"data check {c.name} failed on {c.failing_rows} rows, e.g. {c.sample[0]}"
                for c in failed
            )
        )
    return checks


@flow(name="evaluation-run")
def evaluation_run(config: RunConfig, run_id: str | None = None) -> RunSummary:
    """Run the whole chain on the files named in `config`."""
    logger = get_run_logger()
    with logged_run(config, "evaluation-run", run_id) as run_id:
        loads = ingest(config, run_id)
        for load in loads:
            logger.info(
                "%s: %d rows in, %d loaded, %d quarantined%s",
                load.source_file,
                load.rows_in,
                load.rows_loaded,
                load.rows_quarantined,
                " (already loaded)" if load.skipped else "",
            )
        checks = checked(build_warehouse(config))
        summary = estimate(config, run_id)
        page = publish(config, run_id)
    return RunSummary(run_id, loads, checks, summary, page, config.warehouse)


@flow(name="ingest-file")
def ingest_file(
    path: Path,
    entity: str,
    warehouse: Path,
    *,
    key: bytes,
    sheet: str | None = None,
    mapping: Mapping | None = None,
) -> LoadReport:
    """Validate and load one agency file into the warehouse."""
    return steps.ingest_file(path, entity, warehouse, key=key, sheet=sheet, mapping=mapping)


@flow(name="estimate-run")
def estimate_run(config: RunConfig, run_id: str | None = None) -> RunSummary:
    """Rebuild the marts and re-estimate every program on the data already loaded."""
    with logged_run(config, "estimate-run", run_id) as run_id:
        checks = checked(build_warehouse(config))
        summary = estimate(config, run_id)
    return RunSummary(run_id, [], checks, summary, None, config.warehouse)
