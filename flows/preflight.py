"""Checks of a command's input before anything heavy starts: one line, exit code 2.

Prefect's start-up alone takes 20 s or so, and a run then reads every file in full before
it finds a typo. What can be checked cheaply is checked here, in the CLI, before Prefect
is imported: the config; for the commands that load (`run`, `serve`), the pseudonym key
(`key_source`: readable, long enough, and the one the warehouse's pseudonyms were made
with, `warehouse.keys`); for each source, that the file exists, is
readable and of a supported type, that its sheet exists, that its mapping loads and maps
this entity, that its header has the contract's required columns (through the mapping)
and that its declared encoding fits the bytes (on the first MB: `read_sample`); that a
period is written as one and, where the data are known, lies within them; that a command
that works on loaded data has a warehouse with data. Every problem raises the error the
run itself would raise (ConfigError, ContractError, PeriodError), with the same one line.

`dry_run` goes further for `mes-eval run --dry-run`: it loads every source, in load order,
into a temporary copy of the warehouse (later entities are checked against the earlier
ones of the same submission), reports what would load and what would be quarantined and
why, and deletes the copy. Nothing here imports Prefect.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
from pydantic import ValidationError

from flows.config import ConfigError, RunConfig, Source, load_config
from reports.period import Period, PeriodError, check_in_data
from schemas.contract import ENTITIES
from schemas.mapping import apply_mapping
from schemas.pseudonym import PseudonymKeyError, key_source
from schemas.readers import SourceFormat, check_path, read_sample
from schemas.validate import ContractError, check_columns
from warehouse.db import WarehouseError, connect, open_warehouse
from warehouse.keys import check_warehouse_key

Command = Literal["run", "evaluate", "audit", "report", "serve"]
FIRST_QUARANTINED = 10  # quarantined rows a dry run shows per file


@dataclass(frozen=True)
class Checked:
    """A command's validated configuration, and what it should say but not stop for."""

    config: RunConfig
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. which key source, of several set


def preflight(
    command: Command,
    config_path: Path,
    overrides: dict[str, Any] | None = None,
    *,
    key_file: Path | None = None,
) -> Checked:
    """Every cheap check of `command`'s input; raises ConfigError, ContractError or
    PeriodError (one line) on the first problem.

    `overrides` are the command line's settings (period, languages, audience,
    allow_period_outside_data), validated with the config; `key_file` is `--key-file`,
    which wins over the config's key file (the config returned names it). `run` and
    `serve` check the key and the sources (`serve` only warns about a file not there yet:
    it may arrive before the schedule fires); `evaluate`, `audit` and `report` load
    nothing, so need no key, but a warehouse with data, and `report` a completed run with
    estimates and a period within the data.
    """
    config = load_config(config_path)
    if overrides:
        config = with_overrides(config, overrides)
    warnings: list[str] = []
    notes: list[str] = []
    if command in ("run", "serve"):
        config, note = check_key(config, key_file)
        notes += [note] if note else []
        check_outputs(config)
    if command == "run":
        check_sources(config)
        config.read_corrections()  # a malformed decision: one line, before any load
    elif command == "serve":
        if not config.schedules:
            raise ConfigError(
                f"{config_path}: no `schedules` to serve (e.g. quarterly: "
                "{cron: '0 6 15 1,4,7,10 *'})"
            )
        warnings = check_sources(config, missing_ok=True)
    else:
        check_warehouse(config)
    if command == "report":
        if config.period and not config.allow_period_outside_data:
            years = warehouse_years(config.warehouse)
            if years != "busy":  # a run holds the warehouse: the flow checks after the wait
                check_in_data(Period.parse(config.period), years)
        check_warehouse(config, estimates=True)
    return Checked(config, warnings, notes)


def check_key(config: RunConfig, key_file: Path | None = None) -> tuple[RunConfig, str | None]:
    """The key of a run that loads: there is one, it reads, and it is the warehouse's
    (`warehouse.keys`). Returns the config with `key_file` (`--key-file`) in place of its
    own, and the line that names the source used when several are set."""
    try:
        source = key_source(key_file, config.pseudonym_key_file, synthetic=config.synthetic)
        key = source.read()
    except PseudonymKeyError as exc:
        raise ConfigError(str(exc)) from None
    if key_file is not None:  # the run's tasks read the key from the config
        config = config.model_copy(update={"pseudonym_key_file": key_file.expanduser().resolve()})
    check_warehouse_key(
        config.warehouse, key, source=source.describe(), where=shown(config.warehouse)
    )
    return config, source.note()


def with_overrides(config: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    """The config with the command line's settings on top, validated again."""
    try:
        return RunConfig.model_validate({**config.model_dump(exclude_unset=True), **overrides})
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{place + ': ' if place else ''}{message}") from None


# --- sources ----------------------------------------------------------------------------


def check_sources(config: RunConfig, *, missing_ok: bool = False) -> list[str]:
    """Check every configured source, in load order; with `missing_ok`, a file that does
    not exist yet is a warning (returned) instead of an error."""
    warnings = []
    for entity in (name for name in ENTITIES if name in config.sources):
        source = config.sources[entity]
        if missing_ok and not source.path.exists():
            warnings.append(f"{shown(source.path)} ({entity}) does not exist yet")
            continue
        check_source(entity, source)
    return warnings


def check_source(entity: str, source: Source) -> None:
    """Check one source without reading it all: the file, its sheet, its mapping, its
    header against the contract (through the mapping), its encoding (on a sample)."""
    path = source.path
    check_path(path)  # missing, a folder, an unsupported type
    if not os.access(path, os.R_OK):
        raise ContractError(f"{path.name}: cannot read the file: permission denied")
    mapping = source.load_mapping()  # ConfigError naming the mapping file and key
    if mapping is not None and mapping.entity != entity:
        assert source.mapping is not None
        raise ConfigError(
            f"sources.{entity}: mapping {shown(source.mapping)} maps {mapping.entity}, not {entity}"
        )
    fmt = mapping.format if mapping is not None else SourceFormat()
    sheet = source.sheet if source.sheet is not None else fmt.sheet
    fix_in = shown(source.mapping) if source.mapping is not None else None
    frame = read_sample(path, sheet=sheet, fmt=fmt, fix_in=fix_in)
    if mapping is not None:
        frame = apply_mapping(frame, mapping, entity, source=path.name)
    check_columns(frame, entity, path.name, source.declared_extra_columns() or None)


def shown(path: Path) -> str:
    """A path as a user wrote it: relative to the working folder when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_outputs(config: RunConfig) -> None:
    """The warehouse is a file (or not there yet) and the report folder a folder."""
    if config.warehouse.exists() and not config.warehouse.is_file():
        raise ConfigError(f"warehouse: {shown(config.warehouse)} is a folder, not a DuckDB file")
    if config.out_dir.exists() and not config.out_dir.is_dir():
        raise ConfigError(f"out_dir: {shown(config.out_dir)} is a file, not a folder")


# --- the warehouse: data years, loaded data -------------------------------------------


def data_years(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """(first, last) year of the data: outcome years and participation start dates (current
    rows); None when neither holds a row. What an edition's period must fall within."""
    first, last = con.execute(
        "select min(y), max(y) from ("
        " select year as y from raw.outcomes where _superseded_by is null"
        " union all"
        " select year(start_date) from raw.participations where _superseded_by is null)"
    ).fetchall()[0]
    return None if first is None else (int(first), int(last))


def warehouse_years(warehouse: Path) -> tuple[int, int] | Literal["busy"] | None:
    """`data_years` of a warehouse file, read-only; "busy" when a run has it open."""
    try:
        con = connect(warehouse, read_only=True)
    except WarehouseError as exc:
        if isinstance(exc.__cause__, duckdb.IOException):
            return "busy"
        raise
    try:
        return data_years(con)
    finally:
        con.close()


def check_warehouse(config: RunConfig, *, estimates: bool = False) -> None:
    """A command on loaded data needs a warehouse with loads (and, for `estimates`, a
    completed run that stored estimates); a warehouse in use is left to the run's wait."""
    hint = "run `mes-eval run` first"
    if not config.warehouse.exists():
        raise ContractError(f"{shown(config.warehouse)}: no warehouse here yet; {hint}")
    try:
        con = connect(config.warehouse, read_only=True)
    except WarehouseError as exc:
        if isinstance(exc.__cause__, duckdb.IOException):
            return
        raise
    try:
        loads = con.execute("select count(*) from meta.loads").fetchall()[0][0]
        if not loads:
            raise ContractError(f"{shown(config.warehouse)}: nothing loaded yet; {hint}")
        if estimates:
            done = con.execute(
                "select count(*) from meta.runs where status = 'completed' and run_id in "
                "(select distinct run_id from results.estimates)"
            ).fetchall()[0][0]
            if not done:
                raise ContractError(
                    f"{shown(config.warehouse)}: no completed run with estimates yet; {hint}"
                )
    except duckdb.CatalogException:  # not a warehouse of this project
        raise ContractError(
            f"{shown(config.warehouse)}: not a mes-eval warehouse (no meta.loads)"
        ) from None
    finally:
        con.close()


# --- dry run --------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRunLoad:
    """What loading one source would do."""

    entity: str
    file: str
    rows_in: int
    would_load: int
    would_quarantine: int
    already_loaded: bool  # the same content was loaded before: a run skips it
    by_rule: dict[str, int]  # rows per quarantine rule
    first_quarantined: pd.DataFrame  # row_number, column_name, rule, value, reason


@dataclass(frozen=True)
class DryRun:
    """What `mes-eval run` would load, and the problem that would stop it, if any."""

    loads: list[DryRunLoad]
    error: str | None  # a file-level problem (one line): the run would stop there
    years: tuple[int, int] | None  # data years after these loads


def dry_run(config: RunConfig) -> DryRun:
    """Load every source, in load order, into a temporary copy of the warehouse (a new
    one if there is none), report, and delete the copy; the warehouse is only read.

    The copy is taken under the writer lock, so a run in progress is waited for (up to
    `lock_wait_seconds`) rather than copied half-written. Temporary files go beside the
    warehouse (same disk) and are removed, whatever happens.
    """
    from flows import steps  # the loads exactly as a run does them (no Prefect)
    from warehouse.lock import lock_path, writer_lock

    warehouse = config.warehouse
    place = warehouse.parent if warehouse.parent.is_dir() else None
    loads: list[DryRunLoad] = []
    error = None
    with tempfile.TemporaryDirectory(prefix=".mes-eval-dry-run-", dir=place) as tmp:
        copy = Path(tmp) / warehouse.name
        if warehouse.exists():
            # a run in progress holds the lock file (it is never deleted once made); without
            # one there is no run to wait for, and no lock file is made for a dry run
            held = (
                writer_lock(warehouse, wait_seconds=config.lock_wait_seconds)
                if lock_path(warehouse).exists()
                else contextlib.nullcontext()
            )
            with held:
                shutil.copyfile(warehouse, copy)
                wal = warehouse.with_name(warehouse.name + ".wal")
                if wal.exists():
                    shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        trial = config.model_copy(update={"warehouse": copy})
        for entity in steps.entities_in_load_order(trial):
            try:
                try:
                    report = steps.ingest_source(trial, entity, "dry-run")
                except steps.SourceNotReady:  # a run retries it: wait once as well
                    time.sleep(steps.SETTLE_SECONDS)
                    report = steps.ingest_source(trial, entity, "dry-run")
            except (ContractError, ConfigError, steps.SourceNotReady) as exc:
                error = str(exc)
                break
            loads.append(_describe(copy, report))
        with open_warehouse(copy, read_only=True) as con:
            years = data_years(con)
    if error is None and config.period and not config.allow_period_outside_data:
        try:
            check_in_data(Period.parse(config.period), years)
        except PeriodError as exc:
            error = str(exc)
    return DryRun(loads, error, years)


def _describe(warehouse: Path, report: Any) -> DryRunLoad:
    """A load into the copy, with its quarantine by rule and its first quarantined rows."""
    by_rule: dict[str, int] = {}
    first = pd.DataFrame(columns=["row_number", "column_name", "rule", "value", "reason"])
    if report.load_id is not None and report.rows_quarantined:
        con = connect(warehouse, read_only=True)
        try:
            rules = con.execute(
                "select rule, count(distinct row_number) from meta.quarantine "
                "where load_id = ? group by rule order by 2 desc, 1",
                [report.load_id],
            ).fetchall()
            by_rule = {str(rule): int(n) for rule, n in rules}
            first = con.execute(
                "select row_number, column_name, rule, value, reason from meta.quarantine "
                "where load_id = ? order by row_number, column_name limit ?",
                [report.load_id, FIRST_QUARANTINED],
            ).df()
        finally:
            con.close()
    return DryRunLoad(
        entity=report.entity,
        file=report.source_file,
        rows_in=report.rows_in,
        would_load=report.rows_loaded,
        would_quarantine=report.rows_quarantined,
        already_loaded=report.skipped,
        by_rule=by_rule,
        first_quarantined=first,
    )
