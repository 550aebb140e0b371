"""The pipeline's steps as plain functions: what each Prefect task calls.

Each step opens the warehouse, does one thing and closes it, because DuckDB allows one
writer process at a time. None of them knows about Prefect.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evaluation.spec import ESTIMATOR
from flows import progress
from flows.config import RunConfig
from reports.site import SiteResult, build_sites
from schemas.contract import ENTITIES
from schemas.mapping import Mapping
from schemas.pseudonym import resolve_key
from schemas.validate import ContractError
from warehouse.db import open_warehouse
from warehouse.decisions import record_outlier_reviews
from warehouse.keys import check_key
from warehouse.load import LoadReport, load_file
from warehouse.models import CheckResult, build_models, run_checks
from warehouse.quality import (
    compute_scorecard,
    read_audit,
    record_audit,
    reusable_audit,
    run_expectations,
)

if TYPE_CHECKING:
    from flows.estimation import UnitRunner


@dataclass(frozen=True)
class EstimateSummary:
    """What a run estimated (or reused), and on which data version."""

    estimates: pd.DataFrame  # every stored estimate of the run
    roi: pd.DataFrame
    data_version: str
    estimated: list[str]  # programs estimated by this run
    reused: dict[str, str]  # program -> the earlier run whose results were reused

    @property
    def cached_from(self) -> str | None:
        """The earlier run(s) served from cache, when no program needed estimating again."""
        if self.estimated or not self.reused:
            return None
        return ", ".join(sorted(set(self.reused.values())))

    @property
    def simple(self) -> pd.DataFrame:
        """The headline: simple ATT per program and outcome, whole sample."""
        est = self.estimates
        keep = (
            (est["aggregation"] == "simple")
            & (est["subgroup"] == "all")
            & (est["estimator"] == ESTIMATOR)
        )
        return est[keep].sort_values(["program_id", "outcome"]).reset_index(drop=True)


class SourceNotReady(RuntimeError):
    """A source file changed moments ago: it may still be being written (worth a retry)."""


# a file modified this recently may still be being copied or exported
SETTLE_SECONDS = 2.0


def ensure_settled(path: Path) -> None:
    """Raise SourceNotReady if a freshly modified file is still changing."""
    before = path.stat()
    if time.time() - before.st_mtime >= SETTLE_SECONDS:
        return
    time.sleep(0.5)
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise SourceNotReady(f"{path.name} is still changing; it may still be being written")


def entities_in_load_order(config: RunConfig) -> list[str]:
    """The configured entities, in the contract's load order (references first)."""
    return [name for name in ENTITIES if name in config.sources]


def check_pseudonym_key(config: RunConfig) -> None:
    """Refuse a key other than the one the warehouse's pseudonyms were made with, before
    the first file loads (a scheduled run has no checks before it; see warehouse.keys)."""
    source = config.key_source()
    with open_warehouse(config.warehouse) as con:
        check_key(
            con,
            source.read(),
            where=str(config.warehouse),
            source=source.describe(),
        )


def ingest_source(config: RunConfig, entity: str, run_id: str) -> LoadReport:
    """Validate and load the configured file of one entity (the key is read here, in the
    task, from the config's key source: it is never a task's parameter)."""
    source = config.sources[entity]
    if not source.path.exists():
        raise ContractError(f"{source.path}: file not found")
    age = time.time() - source.path.stat().st_mtime
    if age < SETTLE_SECONDS:
        raise SourceNotReady(
            f"{source.path.name} changed {age:.1f} s ago; it may still be being written"
        )
    progress.doing(f"Loading {source.path.name} ({entity})")
    with open_warehouse(config.warehouse) as con:
        return load_file(
            con,
            source.path,
            entity,
            key=config.pseudonym_key(),
            run_id=run_id,
            sheet=source.sheet,
            mapping=source.load_mapping(),
            extra_columns=source.extra_columns,
            corrections=config.read_corrections(),
        )


def ingest_sources(config: RunConfig, run_id: str) -> list[LoadReport]:
    """Validate and load every configured file, in the contract's load order."""
    with progress.stage("Ingest") as step:
        loads = [ingest_source(config, e, run_id) for e in entities_in_load_order(config)]
        record_reviews(config, run_id)
        step.summary = ingest_summary(loads)
    return loads


def ingest_summary(loads: list[LoadReport]) -> str:
    """One line for the progress of a run: files, rows loaded and quarantined."""
    unchanged = sum(x.skipped for x in loads)
    loaded = sum(x.rows_loaded for x in loads if not x.skipped)
    quarantined = sum(x.rows_quarantined for x in loads if not x.skipped)
    return (
        f"Ingest: {progress.count(len(loads), 'file')} ({unchanged} unchanged), "
        f"{loaded:,} rows loaded, {quarantined:,} quarantined"
    )


def record_reviews(config: RunConfig, run_id: str) -> int:
    """Record the corrections file's outlier reviews not recorded yet (`meta.outlier_reviews`
    keeps each review once, with the run that first saw it). Returns how many are new."""
    corrections = config.read_corrections()
    if corrections is None or not corrections.outliers:
        return 0
    with open_warehouse(config.warehouse) as con:
        return record_outlier_reviews(con, corrections.outliers, run_id)


def ingest_file(
    path: Path,
    entity: str,
    warehouse: Path,
    *,
    key_file: Path | None = None,
    sheet: str | None = None,
    mapping: Mapping | None = None,
    engine: str = "auto",
) -> LoadReport:
    """Validate and load one file into the warehouse (the `mes-eval ingest` command).

    The key is read here from `key_file`, else the environment (`resolve_key`), so only
    the file's path ever is a parameter of the flow that calls this."""
    key = resolve_key(key_file)
    with open_warehouse(warehouse) as con:
        return load_file(con, path, entity, key=key, sheet=sheet, mapping=mapping, engine=engine)


def build_warehouse(config: RunConfig) -> list[CheckResult]:
    """Rebuild the staging views and marts (unless nothing they are made from changed since
    their last build: `warehouse.models.build_models`), then run the data checks."""
    with progress.stage("Marts and data checks") as step, open_warehouse(config.warehouse) as con:
        built = build_models(
            con, {"price_base_year": config.price_base_year, "outlier_z": config.outlier_z}
        )
        checks = run_checks(con)
        failed = sum(not c.passed for c in checks)
        marts = "Marts built" if built else "Marts unchanged (data and code as at their last build)"
        step.summary = f"{marts}, data checks: {len(checks) - failed} of {len(checks)} passed"
        return checks


@dataclass(frozen=True)
class AuditSummary:
    """The data-quality scorecard and Great Expectations results of a run."""

    scorecard: pd.DataFrame
    expectations: pd.DataFrame
    data_docs: Path
    cached_from: str | None = None  # the earlier run whose audit was reused
    # batches whose suite results were reused (their entities' loads had not changed)
    batches_reused: tuple[str, ...] = ()

    @property
    def failed_expectations(self) -> pd.DataFrame:
        return self.expectations[~self.expectations["success"].astype(bool)]


def audit(config: RunConfig, run_id: str) -> AuditSummary:
    """Scorecard and expectation suites over the loaded tables; Data Docs beside the warehouse.

    Cached on content: when the data and code are those of an earlier audit whose Data
    Docs are still in place, its results are copied to this run instead of recomputed;
    else only the entities whose loads changed are validated again (the others' suite
    results are reused, `warehouse.quality.WarehouseBatches`)."""
    out_dir = config.warehouse.parent
    batches: tuple[str, ...] = ()
    with progress.stage("Audit") as step, open_warehouse(config.warehouse) as con:
        reused = reusable_audit(con, out_dir)
        if reused is None:
            progress.doing("Audit: scorecard")
            compute_scorecard(con, run_id)
            progress.doing("Audit: expectation suites and Data Docs")
            batches = tuple(run_expectations(con, run_id, out_dir).reused)
        record_audit(con, run_id, out_dir, reused_from=reused)
        scorecard, expectations = read_audit(con, run_id)
        passed = int(expectations["success"].astype(bool).sum())
        step.summary = f"Audit: {passed} of {len(expectations)} expectations met" + (
            f" (reused from run {reused})" if reused else ""
        )
    docs = out_dir / "data_docs" / "index.html"
    return AuditSummary(scorecard, expectations, docs, reused, batches)


def estimate(
    config: RunConfig, run_id: str, run_units: UnitRunner | None = None
) -> EstimateSummary:
    """Estimate each program's impact and store the results with the data version.

    Each program is a unit (`flows.estimation`): evaluated with its own specification
    (the evaluation settings with its overrides) on its own rows of the evaluation panel,
    one program in memory at a time, or served from the cache when its inputs hash as in
    an earlier run. `run_units` runs the units (default: one after the other here; the
    evaluate flow passes a Dask task runner's when the config names a cluster). Claims
    against records (`evaluation.claims`) are part of a program's results.
    """
    # imported here: the estimators' stack is not needed to ingest, audit or publish
    from flows.estimation import plan_units, run_here, store_results

    with progress.stage("Estimation") as step:
        units = plan_units(config)
        results = (run_units or run_here)(units)
        progress.doing("Estimation: storing the results")
        estimates, roi, version, estimated, reused = store_results(config, run_id, units, results)
        step.summary = (
            f"Estimation: {progress.count(len(units), 'program')} "
            f"({len(estimated)} estimated, {len(reused)} from an earlier run)"
        )
    return EstimateSummary(estimates, roi, version, estimated, reused)


def latest_estimated_run(config: RunConfig) -> str:
    """The latest completed run that stored estimates: what a report edition shows."""
    with open_warehouse(config.warehouse, read_only=True) as con:
        rows = con.sql(
            "select run_id from meta.runs where status = 'completed' and run_id in "
            "(select distinct run_id from results.estimates) order by started_at desc limit 1"
        ).fetchall()
    if not rows:
        raise ContractError(
            f"{config.warehouse}: no completed run with estimates yet; run `mes-eval run` first"
        )
    return str(rows[0][0])


def default_period(config: RunConfig) -> str:
    """The edition's period: the configured one, else the last year in the outcomes (the
    last participation's, when there are no outcome rows).

    A configured period outside the years of the data (after this run's loads) is refused
    with a PeriodError unless `allow_period_outside_data`: it would publish zeros."""
    from flows.preflight import data_years
    from reports.period import Period, PeriodError, check_in_data

    if config.period:
        period = Period.parse(config.period)
        if not config.allow_period_outside_data:
            with open_warehouse(config.warehouse, read_only=True) as con:
                check_in_data(period, data_years(con))
        return period.label
    with open_warehouse(config.warehouse, read_only=True) as con:
        last = con.sql("select max(year) from staging.stg_outcomes").fetchall()[0][0]
        years = data_years(con)
    if last is None and years is not None:
        # no outcome rows (all quarantined, or none sent): the year of the last
        # participation still has reach and spending to publish, and reasons for the rest
        last = years[1]
    if last is None:
        raise PeriodError(
            "no outcome rows and no participations in the warehouse (were they all "
            "quarantined?): no year to report; see the quarantine, or set `period` in the config"
        )
    return str(last)


def publish(config: RunConfig, run_id: str, period: str | None = None) -> list[SiteResult]:
    """Build this run's editions (one per configured language) into the report folder."""
    effects = None
    if config.truth_dir is not None:
        effects = pd.read_csv(config.truth_dir / "true_effects.csv")
    period = period or default_period(config)
    # the agency's title on every page; a config without one keeps the site's title in
    # each edition's language (not the English default of RunConfig)
    title = config.title if "title" in config.model_fields_set else None
    with (
        progress.stage("Publishing") as step,
        open_warehouse(config.warehouse, read_only=True) as con,
    ):
        # one read of the warehouse for every language, built two at a time
        editions = build_sites(
            con,
            config.out_dir,
            period=period,
            langs=config.languages,
            audience=config.audience,
            run_id=run_id,
            title=title,
            synthetic=config.synthetic,
            price_base_year=config.price_base_year,
            disclosure=config.disclosure,
            data_docs=config.warehouse.parent / "data_docs",
            true_effects=effects,
            # slide-deck PNGs once per run (first language): each chromium export costs seconds
            images=config.chart_images,
            image_cache=config.warehouse.parent / "cache" / "png",
            locales_dir=config.locales_dir,
        )
        step.summary = f"Publishing: {progress.count(len(editions), 'edition')} of {period}"
        return editions
