"""The `mes-eval` command line.

Exit codes: 0 done; 2 the input or the command is wrong (config, paths, sheets, mappings,
encodings, columns, periods: one line `error: ...`, found before Prefect starts where it
can be); 1 the run failed for another reason (the warehouse is busy or broken, a data
check failed, or an internal error, whose traceback goes to a log file under
`$MES_EVAL_HOME/logs/`). No traceback is printed.

Prefect: `run`, `demo`, `evaluate` and `serve` run Prefect flows. The commands that are
one step (`report`, `audit`, `ingest`) run it in this process without Prefect, `report`
and `audit` recorded in meta.runs as their flows are; `--in-prefect` (or
MES_EVAL_PREFECT=1) runs the flow instead. Read-only commands and dry runs never import
Prefect.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import pandas as pd
import typer
import yaml
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from flows import prefect_env
from flows.summary import cache_note, print_evaluation, print_headline, print_loads

if TYPE_CHECKING:
    from flows.config import RunConfig
    from flows.pipeline import RunSummary
    from flows.preflight import DryRun
    from flows.steps import AuditSummary
    from reports.site import SiteResult
    from schemas.mapping import Mapping

prefect_env.configure()  # before anything imports prefect
STARTED = time.perf_counter()  # fallback of `_elapsed` where /proc is not there

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # errors are one line (see `_guarded`), never a traceback
    help="Monitoring and evaluation of manufacturing extension services (MES) programs.",
)
# a log file or a CI job is no terminal: give tables room instead of rich's 80 columns
console = Console(width=None if sys.stdout.isatty() else 120)
FLOW_STEPS = {
    "publish_run": "Publishing: site, tables, disclosure control",
    "audit_run": "Audit: build marts, scorecard, expectation suites, Data Docs",
    "evaluation_run": "Evaluation run: ingest, validate, load, build marts, estimate, publish",
    "estimate_run": "Estimate run: build marts, estimate every program",
}
err = Console(stderr=True)
INPUT_ERROR, RUN_FAILED = 2, 1  # exit codes; see the module docstring
# (module, class) of the errors that mean the input is wrong, and of those that mean the
# run failed without a bug; looked up in sys.modules, so checking costs no import
INPUT_ERRORS = (
    ("flows.config", "ConfigError"),
    ("schemas.validate", "ContractError"),
    ("reports.period", "PeriodError"),
    ("schemas.pseudonym", "PseudonymKeyError"),
)
RUN_FAILURES = (
    ("warehouse.db", "WarehouseError"),  # busy (lock timeout), unreadable, wrong version
    ("flows.runlog", "DataCheckError"),
    ("flows.steps", "SourceNotReady"),
)
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int = INPUT_ERROR) -> typer.Exit:
    """Print `error: message` on one line; the Exit to raise."""
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def _loaded(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    found = [getattr(sys.modules.get(module), name, None) for module, name in names]
    return tuple(c for c in found if isinstance(c, type) and issubclass(c, BaseException))


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) if len(lines) <= 1 else f"{lines[0]} ..."


def error_log(exc: BaseException) -> Path:
    """Write the traceback of an unexpected error to a new file under the project's home
    (`$MES_EVAL_HOME/logs/`, else the temporary folder) and return its path."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = f"mes-eval {' '.join(sys.argv[1:])}\n{datetime.now().isoformat()}\n\n" + "".join(
        traceback.format_exception(exc)
    )
    for folder in (prefect_env.home() / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"error-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(no log: no writable folder)")


def exit_for(exc: Exception) -> typer.Exit:
    """Print the one line an error deserves and return the Exit with its code."""
    if isinstance(exc, _loaded(INPUT_ERRORS)):
        return _fail(_one_line(exc), INPUT_ERROR)
    if isinstance(exc, _loaded(RUN_FAILURES)):
        return _fail(_one_line(exc), RUN_FAILED)
    log = error_log(exc)
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryException":
        return _fail(
            f"out of memory: {_one_line(exc)}; details in {log}. Cap DuckDB's memory with "
            "MES_EVAL_DUCKDB_MEMORY (e.g. 4GB; it spills to disk beyond it), and for a "
            "program too large for memory set estimation_engine: duckdb",
            RUN_FAILED,
        )
    if isinstance(exc, OSError):  # a disk, a permission: not a bug, but worth the details
        return _fail(f"{_one_line(exc)}; details in {log}", RUN_FAILED)
    return _fail(
        f"internal error: {type(exc).__name__}: {_one_line(exc)}; details in {log}", RUN_FAILED
    )


def _guarded(func: F) -> F:
    """A command whose errors end as one line and an exit code, never a traceback."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except Exception as exc:
            raise exit_for(exc) from None

    return guarded  # type: ignore[return-value]


def command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """`app.command`, guarded (see `_guarded`)."""

    def register(func: F) -> F:
        app.command(*args, **kwargs)(_guarded(func))
        return func

    return register


def _progress() -> Progress:
    # transient: the spinner shows what is running now; what finished is printed above it
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


# the precedence is schemas.pseudonym's (key_source); written out here so that --help
# needs no import
KEY_FILE = typer.Option(
    None,
    "--key-file",
    help="File with the pseudonymization key (outside the repository). The key comes from, "
    "first found: --key-file, the config's pseudonym_key_file, MES_EVAL_PSEUDONYM_KEY_FILE, "
    "MES_EVAL_PSEUDONYM_KEY; synthetic data (synthetic: true) without a key file use the "
    "public demo key. When several are set, the run names the one used (never the key).",
)
INGEST_KEY_FILE = typer.Option(
    None,
    "--key-file",
    help="File with the pseudonymization key (outside the repository). The key comes from, "
    "first found: --key-file, MES_EVAL_PSEUDONYM_KEY_FILE, MES_EVAL_PSEUDONYM_KEY. When "
    "several are set, the one used is named (never the key). It must be the key of the "
    "warehouse's earlier loads: another is refused.",
)

# Prefect's temporary server costs some 20 s per process: a one-step command starts it
# only when asked
IN_PREFECT = typer.Option(
    False,
    "--in-prefect",
    envvar="MES_EVAL_PREFECT",
    help="Run as a Prefect flow, so Prefect's database and UI show the run too (it is in "
    "meta.runs either way). Starts Prefect's temporary server (about 20 s) unless "
    "PREFECT_API_URL names a running one.",
)
ALLOW_OUTSIDE = typer.Option(
    False,
    "--allow-period-outside-data",
    help="Build the edition even if its period lies outside the years of the data "
    "(it would show zeros as if measured).",
)


def _print_batches_reused(result: AuditSummary) -> None:
    """Which suites an audit did not run again, their entities' loads being unchanged."""
    if result.batches_reused:
        entities = sorted({b.removesuffix("_latest_submission") for b in result.batches_reused})
        console.print(
            "Expectation results reused for the entities whose loads did not change: "
            + ", ".join(entities),
            soft_wrap=True,
        )


@command()
def demo(
    out: Path = typer.Option(
        Path("out/demo"), "--out", help="Folder for the demo's data, warehouse and report."
    ),
    seed: int = typer.Option(
        2024, "--seed", help="Seed of the synthetic data (same seed, same data)."
    ),
    firms: int = typer.Option(20_000, "--firms", min=500, help="Number of synthetic firms."),
) -> None:
    """Generate synthetic agency files and run the whole evaluation chain on them."""
    from evaluation.synthetic import generate_demo
    from flows.demo_files import demo_config, write_demo_files

    started = time.perf_counter()
    out = out.resolve()
    with _progress() as progress:
        step = progress.add_task(f"Generating {firms:,} synthetic firms (seed {seed})", total=None)
        data = generate_demo(seed=seed, n_firms=firms)
        progress.update(step, description="Writing agency-style files")
        paths = write_demo_files(data, out / "data")
        progress.remove_task(step)
    console.print(
        f"Synthetic agency files in [bold]{out / 'data'}[/] ({time.perf_counter() - started:.1f} s)"
    )
    warehouse = out / "warehouse.duckdb"
    # the demo owns its warehouse: start from an empty one so a new seed is not mixed with an old one
    warehouse.unlink(missing_ok=True)
    config = demo_config(out, paths)
    config_path = out / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    _run(_checked("run", config_path), started)


@command()
def run(
    config: Path = typer.Option(
        ..., "--config", "-c", help="YAML file describing the agency's files."
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Check every source in load order: what would load, what would be quarantined "
        "and why. Writes nothing to the warehouse; no Prefect.",
    ),
    allow_period_outside_data: bool = ALLOW_OUTSIDE,
    key_file: Path | None = KEY_FILE,
) -> None:
    """Run the evaluation chain on an agency's own files described by a config file."""
    started = time.perf_counter()
    overrides = {"allow_period_outside_data": True} if allow_period_outside_data else None
    checked = _checked("run", config, overrides, key_file=key_file)
    if dry_run:
        from flows.preflight import dry_run as check_loads

        result = check_loads(checked)
        _print_dry_run(result)
        if result.error is not None:
            raise _fail(result.error)
        return
    _run(checked, started)


@command()
def evaluate(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file of the run (as for `run`)."),
) -> None:
    """Re-estimate every program on the data already loaded, and print the evaluation."""
    started = time.perf_counter()
    summary = _flow(_checked("evaluate", config), "estimate_run")
    assert summary.estimates is not None  # an estimate run always estimates
    print_evaluation(console, summary.estimates.estimates, summary.estimates.roi)
    note = cache_note(summary.estimates.estimated, summary.estimates.reused)
    if note:
        console.print(note)
    console.print(f"Run {summary.run_id} finished in {time.perf_counter() - started:.1f} s")


@command()
def ingest(
    file: Path = typer.Argument(
        ..., help="The agency's file (CSV, XLSX, Parquet).", exists=True, dir_okay=False
    ),
    entity: str = typer.Option(
        ..., "--entity", "-e", help="Contract entity the file holds (e.g. outcomes)."
    ),
    warehouse: Path = typer.Option(
        Path("warehouse.duckdb"), "--warehouse", "-w", help="The warehouse file."
    ),
    sheet: str | None = typer.Option(None, "--sheet", help="Sheet to read from a spreadsheet."),
    mapping: Path | None = typer.Option(
        None, "--mapping", "-m", help="YAML mapping of the agency's headers and codes.", exists=True
    ),
    key_file: Path | None = INGEST_KEY_FILE,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would load and be quarantined; write nothing."
    ),
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="auto, pandas or duckdb: duckdb loads a CSV inside DuckDB, with the same result; "
        "auto picks it for large CSVs without a mapping.",
    ),
    in_prefect: bool = IN_PREFECT,
) -> None:
    """Validate and load one file, or with --dry-run report what would happen."""
    from schemas.contract import ENTITIES
    from schemas.mapping import load_mapping
    from schemas.pseudonym import key_source
    from schemas.readers import check_path
    from warehouse.keys import check_warehouse_key
    from warehouse.load import ENGINES, choose_engine

    if entity not in ENTITIES:
        raise _fail(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
    if engine not in ENGINES:
        raise _fail(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    # before the key, Prefect and the writer lock: a FIFO or /dev/zero would hang the load
    check_path(file)
    source = key_source(key_file)
    key = source.read()  # stays in this process: the flow gets the file's path only
    if source.note():
        console.print(source.note(), soft_wrap=True, highlight=False)
    # before Prefect starts: a key other than the warehouse's is refused at once
    check_warehouse_key(warehouse, key, source=source.describe(), entity=entity)
    source_mapping = load_mapping(mapping) if mapping else None
    if dry_run:
        _dry_run(file, entity, warehouse, sheet, key, source_mapping)
        return
    chosen = choose_engine(file, engine, mapping=source_mapping)
    with _progress() as progress:
        progress.add_task(f"Loading {file.name} as {entity} ({chosen})", total=None)
        options: dict[str, Any] = {
            "key_file": key_file,
            "sheet": sheet,
            "mapping": source_mapping,
            "engine": engine,
        }
        if in_prefect:
            from flows.pipeline import ingest_file

            report = ingest_file(file, entity, warehouse, **options)
        else:  # the `ingest-file` flow's one step, under the same writer lock
            from flows import steps
            from warehouse.lock import writer_lock

            with writer_lock(warehouse):
                report = steps.ingest_file(file, entity, warehouse, **options)
    print_loads(console, [report])
    if report.rows_superseded:
        console.print(
            f"{report.rows_superseded:,} earlier rows of the same keys superseded (kept in history)."
        )


def _dry_run(
    file: Path, entity: str, warehouse: Path, sheet: str | None, key: bytes, mapping: Mapping | None
) -> None:
    import contextlib

    import duckdb

    from warehouse.db import migrate, open_warehouse
    from warehouse.load import prepare_load

    with contextlib.ExitStack() as stack:
        if warehouse.exists():
            con = stack.enter_context(open_warehouse(warehouse, read_only=True))
        else:  # nothing loaded yet: check against an empty warehouse in memory
            con = stack.enter_context(contextlib.closing(duckdb.connect()))
            migrate(con)
            console.print(
                f"{warehouse} does not exist yet: references are checked against nothing."
            )
        checked = prepare_load(con, file, entity, key=key, sheet=sheet, mapping=mapping)
    console.print(
        f"Dry run of {file.name} as {entity}: {checked.rows_in:,} rows in, {len(checked.valid):,} would load, "
        f"{checked.rows_quarantined:,} would be quarantined. Nothing was written."
    )
    if len(checked.quarantine):
        _print_quarantine(checked.quarantine.head(20), "Would be quarantined (first 20)")
        counts = checked.quarantine.groupby("rule")["row_number"].nunique()
        console.print("Rows by rule: " + ", ".join(f"{rule} {n:,}" for rule, n in counts.items()))


def _print_quarantine(rows: pd.DataFrame, title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("row", "column", "rule", "value", "reason"):
        table.add_column(column)
    for q in rows.itertuples():
        table.add_row(
            *(Text(str(v)) for v in (q.row_number, q.column_name, q.rule, q.value, q.reason))
        )
    console.print(table)


def _print_dry_run(result: DryRun) -> None:
    table = Table(
        title="Dry run: what `mes-eval run` would load (nothing was written)",
        title_justify="left",
    )
    for column in ("entity", "file", "rows in", "would load", "would be quarantined"):
        table.add_column(column, justify="left" if column in ("entity", "file") else "right")
    for load in result.loads:
        note = " (already loaded: skipped)" if load.already_loaded else ""
        table.add_row(
            load.entity,
            Text(load.file + note),
            f"{load.rows_in:,}",
            f"{load.would_load:,}",
            f"{load.would_quarantine:,}",
        )
    console.print(table)
    for load in result.loads:
        if not load.by_rule:
            continue
        rules = ", ".join(f"{rule} {n:,}" for rule, n in load.by_rule.items())
        console.print(
            Text(f"{load.file}: {load.would_quarantine:,} rows would be quarantined: {rules}"),
            soft_wrap=True,
        )
        shown = len(load.first_quarantined)
        _print_quarantine(load.first_quarantined, f"{load.file}: the first {shown} records")
    if result.years is not None:
        console.print(
            f"Data years after these loads: {result.years[0]}-{result.years[1]} "
            "(outcome years and participation start dates)."
        )


@command()
def audit(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file of the run (as for `run`)."),
    in_prefect: bool = IN_PREFECT,
) -> None:
    """Data-quality scorecard and expectation suites over the loaded data, with Data Docs."""
    from warehouse.quality import format_scorecard

    result: AuditSummary = _flow(_checked("audit", config), "audit_run", in_prefect=in_prefect)
    console.print(format_scorecard(result.scorecard))
    failed = result.failed_expectations
    console.print(
        f"Expectations: {len(result.expectations) - len(failed)} of {len(result.expectations)} passed"
    )
    for r in failed.head(20).itertuples():
        console.print(
            f"  [red]failed[/] {r.entity}: {r.expectation} {r.column_name or ''} (observed {r.observed_value})",
            soft_wrap=True,
            highlight=False,
        )
    console.print(f"Data Docs: [bold]{result.data_docs}[/]", soft_wrap=True)
    if result.cached_from:
        console.print(f"Data and code unchanged: audit reused from run {result.cached_from}.")
    _print_batches_reused(result)


@command()
def report(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file of the run (as for `run`)."),
    period: str | None = typer.Option(
        None,
        "--period",
        "-p",
        help="2024 (annual impact edition) or 2024Q3 (quarterly; 2024-Q3 and Q3 2024 too).",
    ),
    lang: list[str] | None = typer.Option(
        None,
        "--lang",
        help="A language with a catalog (en, es, pt) or a locale of one (es_CL, pt_BR); "
        "repeat for several editions.",
    ),
    audience: str | None = typer.Option(
        None, "--audience", help="public (disclosure control) or internal."
    ),
    allow_period_outside_data: bool = ALLOW_OUTSIDE,
    in_prefect: bool = IN_PREFECT,
) -> None:
    """Publish a new edition of the site from the latest completed run's results."""
    overrides: dict[str, object] = {}
    if period:
        overrides["period"] = period
    if lang:
        overrides["languages"] = lang
    if audience:
        overrides["audience"] = audience
    if allow_period_outside_data:
        overrides["allow_period_outside_data"] = True
    checked = _checked("report", config, overrides)
    _print_editions(_flow(checked, "publish_run", in_prefect=in_prefect))


@command()
def runs(
    warehouse: Path = typer.Option(
        Path("warehouse.duckdb"), "--warehouse", "-w", help="The warehouse file."
    ),
    limit: int = typer.Option(20, "--limit", "-n", help="How many of the latest runs to list."),
) -> None:
    """List the run history: status, duration, whether results were reused, and why runs failed."""
    from warehouse.db import open_warehouse
    from warehouse.runs import run_history

    if not warehouse.exists():
        raise _fail(f"{warehouse}: no warehouse here; give its path with --warehouse")
    with open_warehouse(warehouse, read_only=True) as con:
        history = run_history(con, limit)
    table = Table(title=f"Runs on {warehouse}", title_justify="left")
    # seconds: the command as its user waited for it (start-up included), then the flow's part
    columns = ("run", "flow", "status", "started (UTC)", "seconds", "in flow", "cached", "code")
    for column in columns:
        table.add_column(column, no_wrap=True)
    for r in history.itertuples():
        style = {"failed": "red", "running": "yellow"}.get(r.status, "")
        seconds = "" if pd.isna(r.duration_seconds) else f"{r.duration_seconds:.1f}"
        wall = "" if pd.isna(r.wall_seconds) else f"{r.wall_seconds:.1f}"
        table.add_row(
            r.run_id,
            r.flow,
            f"[{style}]{r.status}[/]" if style else r.status,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            wall,
            seconds,
            "yes" if not pd.isna(r.cached) and bool(r.cached) else "",
            str(r.code_version or ""),
        )
    console.print(table)
    for r in history[history["status"] == "failed"].itertuples():
        console.print(f"run {r.run_id} failed: {r.message}", soft_wrap=True, highlight=False)


# the commands that only read a warehouse: named by the run's config or by its path
CONFIG_WAREHOUSE = typer.Option(
    None, "--config", "-c", help="YAML file of the run: the warehouse it names."
)
WAREHOUSE_FILE = typer.Option(
    None,
    "--warehouse",
    "-w",
    help="The warehouse file, instead of --config (default warehouse.duckdb).",
)


def _warehouse_to_read(config: Path | None, warehouse: Path | None) -> Path:
    """The warehouse a read-only command reads: the config's (only its path is read),
    the one given, or warehouse.duckdb here; one line if both are given or it is missing."""
    if config is not None and warehouse is not None:
        raise _fail("give --config or --warehouse, not both")
    if config is not None:
        from flows.config import load_config

        warehouse = load_config(config).warehouse
    warehouse = warehouse or Path("warehouse.duckdb")
    if not warehouse.is_file():
        raise _fail(f"{warehouse}: no warehouse here; give its path with --warehouse or --config")
    return warehouse


@command()
def quarantine(
    config: Path | None = CONFIG_WAREHOUSE,
    warehouse: Path | None = WAREHOUSE_FILE,
    entity: str | None = typer.Option(None, "--entity", "-e", help="Only this entity's rows."),
    rule: str | None = typer.Option(
        None, "--rule", "-r", help="Only this rule's rows (e.g. not_a_number)."
    ),
    file: str | None = typer.Option(
        None, "--file", help="Only this source file's rows, by name (e.g. outcomes.csv)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the whole list to a .csv or .xlsx file (formula-safe)."
    ),
    all_loads: bool = typer.Option(
        False,
        "--all-loads",
        help="Also the rows of superseded loads (a file or content loaded again later), "
        "each with the load that superseded it.",
    ),
    limit: int = typer.Option(
        20, "--limit", "-n", min=0, help="How many records to show in the terminal."
    ),
    decisions: bool = typer.Option(
        False,
        "--decisions",
        help="Instead, the changelog of the corrections file's decisions (keep, drop, "
        "correct: who, when, why; unmatched ones say what the file has now).",
    ),
) -> None:
    """List the quarantined rows and their reasons, newest load first; no Prefect."""
    import duckdb

    from flows.quarantine import print_decisions, print_listing
    from reports.quarantine import (
        ExportError,
        check_export,
        decision_log,
        known_files,
        known_rules,
        listing,
        write_export,
    )
    from schemas.contract import ENTITIES
    from warehouse.db import open_warehouse

    if out is not None:
        try:
            check_export(out)  # before the warehouse is read: a wrong name costs nothing
        except ExportError as exc:
            raise _fail(str(exc)) from None
    if entity is not None and entity not in ENTITIES:
        raise _fail(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
    warehouse = _warehouse_to_read(config, warehouse)
    with open_warehouse(warehouse, read_only=True) as con:
        try:
            rules, files = known_rules(con), known_files(con)
        except duckdb.CatalogException:
            raise _fail(f"{warehouse}: not a mes-eval warehouse (no meta.quarantine)") from None
        if rule is not None and rule not in rules:
            held = ", ".join(rules) if rules else "none: no row was quarantined"
            raise _fail(f"unknown rule {rule!r}; rules in this warehouse's quarantine: {held}")
        if file is not None and file not in files:
            shown = ", ".join(files[:20]) + (f" (and {len(files) - 20} more)" * (len(files) > 20))
            raise _fail(f"no load of a file named {file!r}; files loaded: {shown or 'none'}")
        if decisions:
            log = decision_log(con)
        else:
            found = listing(con, entity=entity, rule=rule, source_file=file, all_loads=all_loads)
    if decisions:
        print_decisions(console, log, str(warehouse))
        if out is not None:
            write_export(log, out)
            console.print(f"wrote {len(log):,} decisions to [bold]{out}[/]", soft_wrap=True)
        return
    print_listing(console, found, limit, str(warehouse))
    if out is not None:
        write_export(found.records, out)
        console.print(f"wrote {len(found.records):,} records to [bold]{out}[/]", soft_wrap=True)


@command()
def plan(
    config: Path | None = CONFIG_WAREHOUSE,
    warehouse: Path | None = WAREHOUSE_FILE,
    program: str | None = typer.Option(
        None, "--program", "-p", help="Only this program (default: every program)."
    ),
    outcome: str = typer.Option(
        "log_sales", "--outcome", help="Outcome column of the evaluation panel."
    ),
    effect: float | None = typer.Option(
        None,
        "--effect",
        help="A true effect to plan for (outcome units; 0.05 = 5% for a log outcome): its "
        "power, and the beneficiaries and comparison firms needed for 80%.",
    ),
    years: int = typer.Option(3, "--years", min=1, help="Post-entry years observed per cohort."),
    pre_years: int = typer.Option(
        1,
        "--pre-years",
        min=1,
        help="Pre-entry years averaged per cohort (1: the year before entry, as the "
        "pipeline's Callaway-Sant'Anna estimate uses).",
    ),
    treated: int | None = typer.Option(
        None, "--treated", min=1, help="Planned beneficiaries (default: the panel's)."
    ),
    controls: int | None = typer.Option(
        None, "--controls", min=1, help="Planned comparison firms (default: the panel's)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the power-curve chart to this .html file."
    ),
) -> None:
    """Power and minimum detectable effect of the next evaluation, from the panel; no Prefect."""
    from evaluation.power import PowerError, plan_program
    from flows.plan import PlanError, print_plans, read_panel, write_figure
    from warehouse.db import open_warehouse

    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise _fail(f"{out}: the chart is written as HTML; name it .html")
    warehouse = _warehouse_to_read(config, warehouse)
    with open_warehouse(warehouse, read_only=True) as con:
        try:
            panel = read_panel(con, outcome, program)
        except PlanError as exc:
            raise _fail(str(exc)) from None
    plans, skipped = [], {}
    for program_id, rows in panel.groupby("program_id", sort=True):
        try:
            plans.append(
                plan_program(
                    str(program_id),
                    rows,
                    post_years=years,
                    pre_years=pre_years,
                    effect=effect,
                    treated=treated,
                    controls=controls,
                )
            )
        except PowerError as exc:
            skipped[str(program_id)] = str(exc)
    if not plans:
        reasons = "; ".join(f"{p}: {r}" for p, r in skipped.items()) or "no data"
        raise _fail(f"no program can be planned for {outcome}: {reasons}")
    print_plans(console, plans, outcome, skipped)
    if out is not None:
        write_figure(plans, outcome, out)
        console.print(f"wrote the power curves to [bold]{out}[/]", soft_wrap=True)


@command()
def serve(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file with `schedules`."),
    key_file: Path | None = KEY_FILE,
) -> None:
    """Run the config's scheduled editions (e.g. quarterly and annual) until stopped."""
    run_config = _checked("serve", config, key_file=key_file)
    from prefect import serve as prefect_serve

    from flows.pipeline import deployments

    table = Table(title="Scheduled editions", title_justify="left")
    for column in ("edition", "cron", "time zone"):
        table.add_column(column)
    for edition, schedule in run_config.schedules.items():
        table.add_row(edition, schedule.cron, schedule.timezone)
    console.print(table)
    console.print("Serving; stop with Ctrl-C.")
    prefect_serve(*deployments(run_config, config, key_file))


@command()
def templates(
    out_dir: Path = typer.Argument(..., help="Folder to write the templates into."),
    lang: list[str] | None = typer.Option(
        None,
        "--lang",
        help="Language of the data dictionary: one with a catalog (en, es, pt) or a locale of "
        "one (es_CL, pt_BR); repeat for several. Default: the config's languages, else English.",
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="YAML file of the run: its languages and locales_dir."
    ),
) -> None:
    """Write blank input templates and the data dictionary, generated from the contract."""
    from reports.i18n import FALLBACK, resolve
    from schemas.dictionary import write_templates

    languages: tuple[str, ...] = (FALLBACK,)
    locales_dir = None
    if config is not None:
        from flows.config import load_config

        run_config = load_config(config)
        languages, locales_dir = run_config.languages, run_config.locales_dir
    if lang:
        try:
            languages = tuple(resolve(name, locales_dir) for name in lang)
        except ValueError as exc:  # one line naming the catalogs there are
            raise _fail(f"--lang: {exc}") from None
    for path in write_templates(out_dir, languages, locales_dir):
        console.print(f"wrote {path}")


def _checked(
    command: Any,
    config_path: Path,
    overrides: dict[str, Any] | None = None,
    *,
    key_file: Path | None = None,
) -> RunConfig:
    """The command's config after the checks before Prefect (flows.preflight); notes and
    warnings are printed, problems raised (one line, exit 2)."""
    from flows.preflight import preflight

    checked = preflight(command, config_path, overrides, key_file=key_file)
    for note in checked.notes:
        console.print(note, soft_wrap=True, highlight=False)
    for warning in checked.warnings:
        err.print(Text.assemble(("warning:", "yellow"), " ", warning), soft_wrap=True)
    return checked.config


def _elapsed() -> float:
    """Seconds since this process started, as its user waited for it (Python's and
    Prefect's start-up included): from the kernel's process start time on Linux."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime") as up:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
            return float(up.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - STARTED


def _publish_here(config: RunConfig, run_id: str) -> list[SiteResult]:
    """`publish_run`'s step: editions of the latest completed run's results."""
    from flows import steps

    return steps.publish(config, steps.latest_estimated_run(config))


def _audit_here(config: RunConfig, run_id: str) -> AuditSummary:
    """`audit_run`'s steps: rebuild the marts (stop on a failed data check), then audit."""
    from flows import steps
    from flows.runlog import require_passing

    require_passing(steps.build_warehouse(config))
    return steps.audit(config, run_id)


# the flows that are one step: their name in meta.runs and their steps, run in this
# process without Prefect (its start-up would cost more than most of these steps)
WITHOUT_PREFECT: dict[str, tuple[str, Callable[[RunConfig, str], Any]]] = {
    "publish_run": ("publish-run", _publish_here),
    "audit_run": ("audit-run", _audit_here),
}


def _flow(config: RunConfig, name: str, *, in_prefect: bool = True) -> Any:
    """Run one of the pipeline's flows with a spinner (errors: see `exit_for`). The run's
    whole time as the user saw it (`_elapsed`) is recorded beside the flow's own in
    meta.runs, whether the run completed or failed.

    A flow of WITHOUT_PREFECT runs its steps here unless `in_prefect`: the same record in
    meta.runs (flow name, writer lock, running then completed or failed with the reason,
    notification on failure, wall time), but no Prefect flow run and no Prefect artifact."""
    from flows.progress import listening

    run_id = uuid.uuid4().hex[:12]
    try:
        with _progress() as progress, listening(_StepsShown(progress, FLOW_STEPS[name])):
            if name in WITHOUT_PREFECT and not in_prefect:
                from flows.runlog import logged_run

                flow_name, run_steps = WITHOUT_PREFECT[name]
                with logged_run(config, flow_name, run_id):
                    return run_steps(config, run_id)
            from flows import pipeline

            return getattr(pipeline, name)(config, run_id=run_id)
    finally:
        _record_wall_time(config, run_id, _elapsed())


class _StepsShown:
    """The run's progress (`flows.progress`) on the command's spinner: the step it is busy
    with, and a line with its time for each finished step."""

    def __init__(self, progress: Progress, title: str) -> None:
        self.progress = progress
        self.task = progress.add_task(title, total=None)

    def doing(self, what: str) -> None:
        self.progress.update(self.task, description=what)

    def done(self, what: str, seconds: float) -> None:
        self.progress.console.print(f"{what} ({seconds:.1f} s)", soft_wrap=True, highlight=False)


def _record_wall_time(config: RunConfig, run_id: str, seconds: float) -> None:
    """Best effort: a warehouse another run holds now, or a run that never started, keeps
    its flow duration only."""
    from warehouse.db import open_warehouse
    from warehouse.lock import writer_lock
    from warehouse.runs import record_wall_time

    try:
        with writer_lock(config.warehouse, wait_seconds=5), open_warehouse(config.warehouse) as con:
            record_wall_time(con, run_id, seconds)
    except Exception:  # never turn a finished run into an error over this
        return


def _run(config: RunConfig, started: float) -> None:
    summary = _flow(config, "evaluation_run")
    truth = None
    if config.truth_dir is not None:
        truth = pd.read_csv(config.truth_dir / "true_att_simple.csv")
    _print_summary(summary, _elapsed(), truth)


def _print_editions(editions: list[SiteResult]) -> None:
    for edition in editions:
        console.print(
            f"Report ({edition.lang}, {edition.audience}, {edition.period}): [bold]{edition.index}[/] "
            f"({len(edition.pages)} pages, {len(edition.suppression_log)} cells suppressed, {edition.seconds:.1f} s)",
            soft_wrap=True,
        )
        for message in edition.messages:
            console.print(f"  {message}", soft_wrap=True, highlight=False)
    archive = {e.path.parent / "index.html" for e in editions}
    for index in sorted(archive):  # every edition ever built there, with what changed
        if index.exists():
            console.print(f"All editions: [bold]{index}[/]", soft_wrap=True)


def _print_summary(summary: RunSummary, seconds: float, truth: pd.DataFrame | None) -> None:
    if summary.loads:
        print_loads(console, summary.loads)
    failed = [c.name for c in summary.checks if not c.passed]
    console.print(
        f"Data checks: {len(summary.checks) - len(failed)} of {len(summary.checks)} passed"
    )
    if summary.quality is not None:
        failed = summary.quality.failed_expectations
        total = len(summary.quality.expectations)
        console.print(
            f"Expectations: {total - len(failed)} of {total} passed (details: mes-eval audit)"
        )
        if summary.quality.cached_from:
            console.print(f"Data unchanged: audit reused from run {summary.quality.cached_from}.")
        _print_batches_reused(summary.quality)
    if summary.estimates is None:
        console.print(
            "Quarterly edition: monitoring only; impact is estimated for annual editions."
        )
    else:
        print_headline(console, summary.estimates.simple, truth)
        note = cache_note(summary.estimates.estimated, summary.estimates.reused)
        if note:
            console.print(note)
    console.print(f"Warehouse: [bold]{summary.warehouse}[/]", soft_wrap=True)
    if summary.quality is not None:
        console.print(f"Data Docs: [bold]{summary.quality.data_docs}[/]", soft_wrap=True)
    _print_editions(summary.editions or [])
    console.print(f"Run {summary.run_id} finished in {seconds:.1f} s")


if __name__ == "__main__":
    app()
