"""The pipeline's steps as plain functions: what each Prefect task calls.

Each step opens the warehouse, does one thing and closes it, because DuckDB allows one
writer process at a time. None of them knows about Prefect.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.impact import ESTIMATOR, estimate_impacts
from flows.config import RunConfig
from reports.site import build_report, read_inputs
from schemas.contract import ENTITIES
from schemas.mapping import Mapping
from schemas.validate import ContractError
from warehouse.db import open_warehouse
from warehouse.load import LoadReport, data_version, load_file
from warehouse.models import CheckResult, build_models, run_checks
from warehouse.quality import compute_scorecard, run_expectations
from warehouse.results import (
    copy_results,
    find_cached_run,
    read_evaluation_panel,
    read_run_results,
    read_self_reported,
    store_estimates,
)


@dataclass(frozen=True)
class EstimateSummary:
    """What a run estimated (or reused), and on which data version."""

    estimates: pd.DataFrame  # every stored estimate of the run
    roi: pd.DataFrame
    data_version: str
    cached_from: str | None  # the identical earlier run whose results were reused

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


def ingest_source(config: RunConfig, entity: str, run_id: str) -> LoadReport:
    """Validate and load the configured file of one entity."""
    source = config.sources[entity]
    if not source.path.exists():
        raise ContractError(f"{source.path}: file not found")
    age = time.time() - source.path.stat().st_mtime
    if age < SETTLE_SECONDS:
        raise SourceNotReady(
            f"{source.path.name} changed {age:.1f} s ago; it may still be being written"
        )
    with open_warehouse(config.warehouse) as con:
        return load_file(
            con,
            source.path,
            entity,
            key=config.pseudonym_key(),
            run_id=run_id,
            sheet=source.sheet,
            mapping=source.load_mapping(),
        )


def ingest_sources(config: RunConfig, run_id: str) -> list[LoadReport]:
    """Validate and load every configured file, in the contract's load order."""
    return [ingest_source(config, entity, run_id) for entity in entities_in_load_order(config)]


def ingest_file(
    path: Path,
    entity: str,
    warehouse: Path,
    *,
    key: bytes,
    sheet: str | None = None,
    mapping: Mapping | None = None,
) -> LoadReport:
    """Validate and load one file into the warehouse (the `mes-eval ingest` command)."""
    with open_warehouse(warehouse) as con:
        return load_file(con, path, entity, key=key, sheet=sheet, mapping=mapping)


def build_warehouse(config: RunConfig) -> list[CheckResult]:
    """Rebuild the staging views and marts, then run the data checks."""
    with open_warehouse(config.warehouse) as con:
        build_models(
            con, {"price_base_year": config.price_base_year, "outlier_z": config.outlier_z}
        )
        return run_checks(con)


@dataclass(frozen=True)
class AuditSummary:
    """The data-quality scorecard and Great Expectations results of a run."""

    scorecard: pd.DataFrame
    expectations: pd.DataFrame
    data_docs: Path

    @property
    def failed_expectations(self) -> pd.DataFrame:
        return self.expectations[~self.expectations["success"].astype(bool)]


def audit(config: RunConfig, run_id: str) -> AuditSummary:
    """Scorecard and expectation suites over the loaded tables; Data Docs beside the warehouse."""
    out_dir = config.warehouse.parent
    with open_warehouse(config.warehouse) as con:
        scorecard = compute_scorecard(con, run_id)
        expectations = run_expectations(con, run_id, out_dir)
    return AuditSummary(scorecard, expectations, out_dir / "data_docs" / "index.html")


def estimate(config: RunConfig, run_id: str) -> EstimateSummary:
    """Estimate each program's impact and store the results with the data version.

    Caching keyed on input content: when an earlier run used the same data version and
    specification, its results are reused instead of re-estimated.
    """
    spec = dataclasses.replace(config.evaluation.to_spec(), price_base_year=config.price_base_year)
    with open_warehouse(config.warehouse) as con:
        version = data_version(con)
        cached = find_cached_run(con, version, spec.to_json())
        if cached:
            copy_results(con, cached, run_id)
        else:
            impact = estimate_impacts(read_evaluation_panel(con), spec, read_self_reported(con))
            store_estimates(con, impact, run_id=run_id, data_version=version)
        estimates, roi = read_run_results(con, run_id)
    return EstimateSummary(estimates, roi, version, cached)


def publish(config: RunConfig, run_id: str) -> Path:
    """Build the HTML report of this run."""
    truth = effects = None
    if config.truth_dir is not None:
        truth = pd.read_csv(config.truth_dir / "true_att_simple.csv")
        effects = pd.read_csv(config.truth_dir / "true_effects.csv")
    with open_warehouse(config.warehouse) as con:
        inputs = read_inputs(con, run_id)
        version = data_version(con)
    return build_report(
        inputs,
        config.out_dir,
        title=config.title,
        run_id=run_id,
        data_version=version,
        price_base_year=config.price_base_year,
        synthetic=config.synthetic,
        true_att=truth,
        true_effects=effects,
    )
