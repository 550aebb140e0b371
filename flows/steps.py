"""The pipeline's steps as plain functions: what each Prefect task calls.

Each step opens the warehouse, does one thing and closes it, because DuckDB allows one
writer process at a time. None of them knows about Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.impact import ESTIMATOR, ProgramImpact, estimate_impacts
from flows.config import RunConfig
from reports.site import build_report, read_inputs
from schemas.contract import ENTITIES
from schemas.mapping import Mapping
from warehouse.db import open_warehouse
from warehouse.load import LoadReport, data_version, load_file
from warehouse.models import CheckResult, build_models, run_checks
from warehouse.results import read_evaluation_panel, read_self_reported, store_estimates


@dataclass(frozen=True)
class EstimateSummary:
    """How many estimates a run stored, and on which data version."""

    estimates: int
    data_version: str
    simple: pd.DataFrame  # the simple ATT per program and outcome
    impact: ProgramImpact  # everything estimated, for printing


def ingest_sources(config: RunConfig, run_id: str) -> list[LoadReport]:
    """Validate and load every configured file, in the contract's load order."""
    key = config.pseudonym_key()
    mappings = {name: source.load_mapping() for name, source in config.sources.items()}
    with open_warehouse(config.warehouse) as con:
        return [
            load_file(
                con,
                config.sources[name].path,
                name,
                key=key,
                run_id=run_id,
                sheet=config.sources[name].sheet,
                mapping=mappings[name],
            )
            for name in ENTITIES
            if name in config.sources
        ]


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


def estimate(config: RunConfig, run_id: str) -> EstimateSummary:
    """Estimate each program's impact and store the results with the data version."""
    with open_warehouse(config.warehouse) as con:
        impact = estimate_impacts(
            read_evaluation_panel(con), config.evaluation.to_spec(), read_self_reported(con)
        )
        version = data_version(con)
        count = store_estimates(con, impact, run_id=run_id, data_version=version)
    est = impact.estimates
    headline = est[
        (est["aggregation"] == "simple")
        & (est["subgroup"] == "all")
        & (est["estimator"] == ESTIMATOR)
    ]
    return EstimateSummary(count, version, headline.reset_index(drop=True), impact)


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
