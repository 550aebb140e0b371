"""The estimate step, one program at a time.

A run's estimation is a list of units, one per program (`plan_units`), each estimated by
`estimate_program` and stored together by `store_results`. A unit reads only its own
program's rows of the evaluation panel, from the warehouse opened read-only, and returns
small tables: memory holds one program's panel at a time (the whole panel, replicated
once per program, does not fit at the scale of a national register), and units are
independent, so they can run in this process or as tasks on the workers of a Dask
cluster (`flows.pipeline.evaluate_flow`). Only `store_results` writes: the warehouse's
single writer is the process that runs the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.claims import FIRM_COLUMNS, PROGRAM_COLUMNS, Claims, estimate_claims
from evaluation.impact import EvaluationSpec, ProgramImpact, combine_impacts, program_impact
from flows import progress
from flows.config import RunConfig
from schemas.validate import ContractError
from warehouse.db import duckdb_settings, open_warehouse
from warehouse.load import data_version
from warehouse.results import (
    find_cached_program,
    program_input_versions,
    read_clients,
    read_evaluation_panel,
    read_run_results,
    read_self_reported,
    save_run_results,
)
from warehouse.runs import code_version


@dataclass(frozen=True)
class ProgramUnit:
    """One program's estimation, everything a worker needs to run it (picklable)."""

    warehouse: Path
    program_id: str
    spec: EvaluationSpec
    # the specification and the run's code version: a fixed estimator must not serve stale
    # results. Set once by the planner, so every worker of a run keys its cache the same.
    cache_key: str
    # which implementation of Callaway-Sant'Anna (evaluation.engine); not in the cache key:
    # both give the same results
    engine: str = "auto"


@dataclass(frozen=True)
class ProgramResult:
    """What a unit returns: new results, or the earlier run whose results are reused."""

    program_id: str
    input_version: str | None  # None: the program has no row in the panel
    reused_from: str | None
    impact: ProgramImpact | None  # None when reused
    claims: Claims


# how a flow runs the units: in this process by default, or as tasks on a task runner
UnitRunner = Callable[[Sequence[ProgramUnit]], list[ProgramResult]]


def plan_units(config: RunConfig) -> list[ProgramUnit]:
    """Every program of the registry or the panel, in program order, with its
    specification. A program the config's evaluation settings name that the registry does
    not know is a one-line error, before any estimation starts."""
    with open_warehouse(config.warehouse) as con:  # writable: applies pending migrations
        registry = {r[0] for r in con.sql("select program_id from staging.stg_programs").fetchall()}
        panel = {
            r[0]
            for r in con.sql(
                "select distinct program_id from marts.mart_evaluation_panel"
            ).fetchall()
        }
    unknown = sorted(set(config.evaluation.programs) - registry)
    if unknown:
        raise ContractError(
            f"evaluation.programs: unknown program {unknown[0]!r}; programs in the "
            f"registry: {', '.join(sorted(registry)) or 'none'}"
        )
    return [
        ProgramUnit(
            config.warehouse,
            str(p),
            spec,
            spec.to_json() + code_version(),
            engine=config.estimation_engine,
        )
        for p in sorted(registry | panel, key=str)
        for spec in [config.evaluation_spec(str(p))]
    ]


def estimate_program(unit: ProgramUnit) -> ProgramResult:
    """Estimate one program, or find the earlier run that estimated it on the same inputs.

    Caching keyed on content: its rows of the evaluation panel, its self-reported results
    and survey answers, the specification and the code version (a fixed estimator must
    not serve stale results) hash to its input version. Claims against records are
    computed here too, from the new ATT(g,t), or for a reused run that stored none (from
    before claims were checked) from that run's."""
    program_id = unit.program_id
    with open_warehouse(unit.warehouse, read_only=True) as con:
        panel = read_evaluation_panel(con, program_id)
        surveys = read_self_reported(con, program_id)
        clients = read_clients(con, program_id)
        if panel.empty:  # registered, but no row: every unit says why it has no estimate
            impact = program_impact(program_id, panel, unit.spec, engine=unit.engine)
            return ProgramResult(program_id, None, None, impact, _no_claims())
        keys = {program_id: unit.cache_key}
        version = program_input_versions(panel, surveys, keys, clients)[program_id]
        reused = find_cached_program(con, program_id, version)
        if reused is not None:
            stored = con.execute(
                "select count(*) from results.claims where run_id = ? and program_id = ?",
                [reused, program_id],
            ).fetchall()[0][0]
            cells = pd.DataFrame()
            if not stored:
                cells = con.execute(
                    "select * from results.att_gt where run_id = ? and program_id = ?",
                    [reused, program_id],
                ).df()
    if reused is not None:
        claims = _no_claims() if stored else estimate_claims(clients, panel, cells, [program_id])
        return ProgramResult(program_id, version, reused, None, claims)
    survey = surveys.set_index("program_id").loc[program_id] if len(surveys) else None
    # the DuckDB engine's connection obeys the warehouse's memory and thread settings
    impact = program_impact(
        program_id, panel, unit.spec, survey, engine=unit.engine, duckdb_config=duckdb_settings()
    )
    claims = estimate_claims(clients, panel, impact.att_gt, [program_id])
    return ProgramResult(program_id, version, None, impact, claims)


def run_here(units: Sequence[ProgramUnit]) -> list[ProgramResult]:
    """The units one after the other in this process (the default runner)."""
    results = []
    for i, unit in enumerate(units, start=1):
        progress.doing(f"Estimating {unit.program_id} ({i} of {len(units)} programs)")
        results.append(estimate_program(unit))
    return results


def store_results(
    config: RunConfig,
    run_id: str,
    units: Sequence[ProgramUnit],
    results: Sequence[ProgramResult],
) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str], dict[str, str]]:
    """Store the units' results as the run's, in one transaction (the single writer).
    Returns the run's stored estimates and ROI, the data version, the programs estimated
    and the reused ones (program -> earlier run)."""
    results = sorted(results, key=lambda r: r.program_id)
    specs = {u.program_id: u.spec for u in units}
    new = [r.impact for r in results if r.impact is not None]
    reused = {r.program_id: r.reused_from for r in results if r.reused_from is not None}
    inputs = {r.program_id: r.input_version for r in results if r.input_version is not None}
    with open_warehouse(config.warehouse) as con:
        version = data_version(con)
        save_run_results(
            con,
            run_id,
            data_version=version,
            impact=combine_impacts(new, specs) if new else None,
            input_versions=inputs,
            reused=reused,
            claims=_joined([r.claims for r in results]),
        )
        estimates, roi = read_run_results(con, run_id)
    # programs without a panel row are 'not estimated' rows, not estimated programs
    estimated = [r.program_id for r in results if r.impact is not None and r.input_version]
    return estimates, roi, version, estimated, reused


def _no_claims() -> Claims:
    return Claims(pd.DataFrame(columns=PROGRAM_COLUMNS), pd.DataFrame(columns=FIRM_COLUMNS))


def _joined(parts: Sequence[Claims]) -> Claims:
    """One Claims from the programs' (empty tables keep their columns)."""
    programs = [p.programs for p in parts if len(p.programs)]
    firms = [p.firms for p in parts if len(p.firms)]
    return Claims(
        pd.concat(programs, ignore_index=True)
        if programs
        else pd.DataFrame(columns=PROGRAM_COLUMNS),
        pd.concat(firms, ignore_index=True) if firms else pd.DataFrame(columns=FIRM_COLUMNS),
    )
