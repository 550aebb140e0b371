"""The evaluation run as composable Prefect flows under one parent flow.

    evaluation_run (parent: lock, run log, artifacts, notification on failure)
      ├── ingest_flow      one task per source file: read, validate, quarantine, load
      ├── warehouse_flow   build the SQL models, run the data checks
      ├── audit_flow       data-quality scorecard, expectation suites, Data Docs
      ├── evaluate_flow    estimate the programs whose inputs changed; reuse the others'
      │                    results (annual editions only: quarterly ones carry no impact);
      │                    with the config's `dask`, one task per program on a Dask cluster
      └── publish_flow     build the report

Thin by design: each task is one call into `flows.steps`. A run holds the warehouse's
writer lock from start to end, so two runs never interleave their writes. Transient
failures (a source file still being written) are retried; data errors never are.

No flow or task takes the pseudonymization key: Prefect stores parameters (and task
inputs, results and logs) in its database, which anyone who can read it could use to
reverse pseudonyms by hashing candidate tax numbers. They take what names the key (the
config, a key file's path) and the steps read the key where they make pseudonyms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import estimation, progress, steps
from flows.config import DaskSettings, RunConfig, load_config
from flows.estimation import ProgramResult, ProgramUnit
from flows.runlog import DataCheckError as DataCheckError  # the run log is Prefect-free
from flows.runlog import logged_run as logged_run
from flows.runlog import require_passing
from reports.period import Period
from reports.site import SiteResult
from schemas.mapping import Mapping
from warehouse.load import LoadReport
from warehouse.lock import writer_lock
from warehouse.models import CheckResult
from warehouse.runs import code_version


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for the CLI to print."""

    run_id: str
    loads: list[LoadReport]
    checks: list[CheckResult]
    estimates: steps.EstimateSummary | None  # None: a quarterly (monitoring) edition
    report: Path | None
    warehouse: Path
    quality: steps.AuditSummary | None = None
    editions: list[SiteResult] | None = None


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a task only when it failed for a reason that may pass (never for data errors)."""
    try:
        state.result()
    except steps.SourceNotReady:
        return True
    except Exception:
        return False
    return False


@task(name="load-source", retries=3, retry_delay_seconds=5, retry_condition_fn=only_transient)
def load_source(config: RunConfig, entity: str, run_id: str) -> LoadReport:
    return steps.ingest_source(config, entity, run_id)


@task(name="build-warehouse")
def build_warehouse(config: RunConfig) -> list[CheckResult]:
    return steps.build_warehouse(config)


@task(name="audit")
def audit(config: RunConfig, run_id: str) -> steps.AuditSummary:
    return steps.audit(config, run_id)


@task(name="estimate")
def estimate(config: RunConfig, run_id: str) -> steps.EstimateSummary:
    return steps.estimate(config, run_id)


@task(name="publish")
def publish(config: RunConfig, run_id: str, period: str | None = None) -> list[SiteResult]:
    return steps.publish(config, run_id, period)


@flow(name="ingest")
def ingest_flow(config: RunConfig, run_id: str) -> list[LoadReport]:
    """Validate and load every configured file, in the contract's load order."""
    logger = get_run_logger()
    steps.check_pseudonym_key(config)  # another key than the warehouse's: nothing loads
    loads = []
    with progress.stage("Ingest") as step:
        for entity in steps.entities_in_load_order(config):
            load = load_source(config, entity, run_id)
            logger.info(
                "%s: %d rows in, %d loaded, %d quarantined%s",
                load.source_file,
                load.rows_in,
                load.rows_loaded,
                load.rows_quarantined,
                " (already loaded)" if load.skipped else "",
            )
            for line in load.decisions_unmatched:  # never silently ignored
                logger.warning("%s: decision not applied: %s", load.source_file, line)
            loads.append(load)
        reviews = steps.record_reviews(config, run_id)
        if reviews:
            logger.info("%d outlier review(s) recorded from the corrections file", reviews)
        step.summary = steps.ingest_summary(loads)
    return loads


@flow(name="build-warehouse")
def warehouse_flow(config: RunConfig) -> list[CheckResult]:
    """Rebuild the marts and stop if a data check fails."""
    return require_passing(build_warehouse(config))


@flow(name="audit")
def audit_flow(config: RunConfig, run_id: str) -> steps.AuditSummary:
    """Data-quality scorecard and Great Expectations suites, with Data Docs."""
    result = audit(config, run_id)
    failed = result.failed_expectations
    create_markdown_artifact(
        key="expectations",
        markdown=f"## Expectations\n\n{len(result.expectations) - len(failed)} of "
        f"{len(result.expectations)} passed. Data Docs: {result.data_docs.resolve().as_uri()}\n",
        description="Great Expectations results",
    )
    return result


@flow(name="evaluate")
def evaluate_flow(config: RunConfig, run_id: str) -> steps.EstimateSummary:
    """Estimate every program's impact: in this process, or (the config's `dask`) as one
    task per program on a Dask cluster."""
    if config.dask is None:
        return estimate(config, run_id)
    runner = dask_task_runner(config.dask)
    return dask_evaluate_flow.with_options(task_runner=runner)(config, run_id)


@task(name="estimate-program", cache_policy=NO_CACHE)
def estimate_program(unit: ProgramUnit) -> ProgramResult:
    return estimation.estimate_program(unit)


@flow(name="evaluate-on-dask")
def dask_evaluate_flow(config: RunConfig, run_id: str) -> steps.EstimateSummary:
    """The units as tasks on the flow's Dask task runner; planning and storing the results
    stay in this process, the warehouse's single writer (workers only read it)."""

    def on_workers(units: Sequence[ProgramUnit]) -> list[ProgramResult]:
        futures = estimate_program.map(list(units))
        results = []
        for i, future in enumerate(futures):
            progress.doing(f"Estimation on Dask: {i} of {len(units)} programs done")
            results.append(future.result())
        return results

    return steps.estimate(config, run_id, on_workers)


def dask_task_runner(settings: DaskSettings) -> Any:
    """Prefect's Dask task runner for the config's cluster: a running one by address, or a
    local cluster of single-threaded worker processes (numpy and DuckDB use their own
    threads; one task per worker keeps a worker's memory to one program's panel)."""
    from prefect_dask import DaskTaskRunner

    if settings.address is not None:
        return DaskTaskRunner(address=settings.address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": settings.local_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        },
    )


@flow(name="publish")
def publish_flow(config: RunConfig, run_id: str, period: str | None = None) -> list[SiteResult]:
    """Build this run's editions of the site."""
    return publish(config, run_id, period)


def _artifacts(
    run_id: str,
    loads: list[LoadReport],
    summary: steps.EstimateSummary | None,
    page: Path | None,
) -> None:
    """What a reader of the Prefect UI sees on the run: its versions, data quality,
    estimates, the report. The code version is the one string meta.runs, the results and
    every edition's footer carry (`warehouse.runs.code_version`)."""
    create_markdown_artifact(
        key="run-version",
        markdown=f"Run `{run_id}`, code version `{code_version()}`",
        description="The run and its code version, as meta.runs and the report footer show it",
    )
    lines = ["| file | entity | rows in | loaded | quarantined |", "|---|---|---|---|---|"]
    lines += [
        f"| {x.source_file} | {x.entity} | {x.rows_in:,} | {x.rows_loaded:,} | {x.rows_quarantined:,} |"
        for x in loads
    ]
    create_markdown_artifact(
        key="data-quality",
        markdown="## Loads\n\nEvery input row is loaded or quarantined.\n\n" + "\n".join(lines),
        description="Rows loaded and quarantined per file",
    )
    if summary is not None:
        columns = ["program_id", "outcome", "estimate", "ci_low", "ci_high", "n_treated", "note"]
        simple = summary.simple.reindex(columns=columns).round(4)
        create_table_artifact(
            key="estimates",
            # JSON has no NaN: a unit that was not estimated shows its note instead
            table=simple.astype(object).where(simple.notna(), None).to_dict("records"),
            description="Simple ATT per program and outcome (Callaway-Sant'Anna 2021)",
        )
    if page is not None:
        create_link_artifact(key="report", link=page.resolve().as_uri(), description="The report")


@flow(name="evaluation-run")
def evaluation_run(config: RunConfig, run_id: str | None = None) -> RunSummary:
    """Run the whole chain on the files named in `config`."""
    with logged_run(config, "evaluation-run", run_id) as run:
        loads = ingest_flow(config, run.run_id)
        run.row_counts = [asdict(x) for x in loads]
        checks = warehouse_flow(config)
        quality = audit_flow(config, run.run_id)
        period = steps.default_period(config)
        summary = None
        if Period.parse(period).annual:  # a quarterly edition shows no impact: none estimated
            summary = evaluate_flow(config, run.run_id)
            run.cached = summary.cached_from is not None
        editions = publish_flow(config, run.run_id, period)
        _artifacts(run.run_id, loads, summary, editions[0].index if editions else None)
    return RunSummary(
        run.run_id,
        loads,
        checks,
        summary,
        editions[0].index if editions else None,
        config.warehouse,
        quality,
        editions,
    )


@flow(name="estimate-run")
def estimate_run(config: RunConfig, run_id: str | None = None) -> RunSummary:
    """Rebuild the marts and re-estimate every program on the data already loaded."""
    with logged_run(config, "estimate-run", run_id) as run:
        checks = warehouse_flow(config)
        summary = evaluate_flow(config, run.run_id)
        run.cached = summary.cached_from is not None
    return RunSummary(run.run_id, [], checks, summary, None, config.warehouse)


@flow(name="audit-run")
def audit_run(config: RunConfig, run_id: str | None = None) -> steps.AuditSummary:
    """Rebuild the marts and audit the data already loaded (the `mes-eval audit` command)."""
    with logged_run(config, "audit-run", run_id) as run:
        warehouse_flow(config)
        return audit_flow(config, run.run_id)


@flow(name="publish-run")
def publish_run(config: RunConfig, run_id: str | None = None) -> list[SiteResult]:
    """Build editions from the latest completed run's results (the `mes-eval report` command)."""
    with logged_run(config, "publish-run", run_id):
        return publish_flow(config, steps.latest_estimated_run(config))


@flow(name="scheduled-run")
def scheduled_run(config_path: str, edition: str = "annual", key_file: str | None = None) -> str:
    """A scheduled edition: reads the config file at run time, so edits take effect.

    A quarterly edition reports the last quarter ended before the run (unless the config
    fixes the period); an annual one the configured period, else the last year of data.
    `key_file` is `serve --key-file`: a path, which wins over the config's key file."""
    config = load_config(Path(config_path))
    if key_file is not None:
        config = config.model_copy(update={"pseudonym_key_file": Path(key_file)})
    schedule = config.schedules.get(edition)
    quarterly = schedule is not None and schedule.edition_period(edition) == "quarter"
    if schedule is not None and quarterly and config.period is None:
        today = datetime.now(ZoneInfo(schedule.timezone)).date()
        # the calendar's quarter, not a user's choice: it is not held to the data's years
        quarter = Period.last_quarter_before(today).label
        config = config.model_copy(update={"period": quarter, "allow_period_outside_data": True})
    summary = evaluation_run(config)
    get_run_logger().info("%s edition: run %s", edition, summary.run_id)
    return summary.run_id


@flow(name="ingest-file")
def ingest_file(
    path: Path,
    entity: str,
    warehouse: Path,
    *,
    key_file: Path | None = None,
    sheet: str | None = None,
    mapping: Mapping | None = None,
    lock_wait_seconds: float = 0.0,
    engine: str = "auto",
) -> LoadReport:
    """Validate and load one agency file into the warehouse. The key is read inside, from
    `key_file` or else the environment: the file's path is a parameter, the key is not."""
    with writer_lock(warehouse, wait_seconds=lock_wait_seconds):
        return steps.ingest_file(
            path, entity, warehouse, key_file=key_file, sheet=sheet, mapping=mapping, engine=engine
        )


def deployments(config: RunConfig, config_path: Path, key_file: Path | None = None) -> list[Any]:
    """One Prefect deployment per scheduled edition of the config, at most one run at a time.

    Its parameters name the config and the key file (`serve --key-file`), never the key."""
    from prefect.schedules import Cron

    parameters: dict[str, Any] = {"config_path": str(config_path.resolve())}
    if key_file is not None:
        parameters["key_file"] = str(key_file.expanduser().resolve())
    return [
        scheduled_run.to_deployment(
            name=f"{edition}-edition",
            schedule=Cron(schedule.cron, timezone=schedule.timezone),
            parameters={**parameters, "edition": edition},
            concurrency_limit=1,
            description=f"The {edition} edition of {config.title}",
            tags=["mes-eval", edition],
        )
        for edition, schedule in config.schedules.items()
    ]
