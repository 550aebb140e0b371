"""The `mes-eval` command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
import yaml
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows import prefect_env
from flows.summary import cache_note, print_evaluation, print_headline, print_loads

if TYPE_CHECKING:
    from flows.pipeline import RunSummary
    from flows.steps import AuditSummary
    from reports.site import SiteResult
    from schemas.mapping import Mapping

prefect_env.configure()  # before anything imports prefect

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
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


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    )


@app.command()
def demo(
    out: Path = typer.Option(
        Path("out/demo"), "--out", help="Folder for the demo's data, warehouse and report."
    ),
    seed: int = typer.Option(
        2024, "--seed", help="Seed of the synthetic data (same seed, same data)."
    ),
    firms: int = typer.Option(20_000, "--firms", min=200, help="Number of synthetic firms."),
) -> None:
    """Generate synthetic agency files and run the whole evaluation chain on them."""
    from evaluation.synthetic import generate_demo
    from flows.demo_files import write_demo_files

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
    config = {
        "title": "MES impact report: synthetic demo portfolio",
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "truth_dir": "data",
        "languages": ["en", "es", "pt"],
        "sources": {
            name: str(path.relative_to(out))
            for name, path in paths.items()
            if name not in ("true_effects", "true_att_simple", "planted_invalid")
        },
    }
    config_path = out / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    _run(config_path, started)


@app.command()
def run(
    config: Path = typer.Option(
        ..., "--config", "-c", help="YAML file describing the agency's files."
    ),
) -> None:
    """Run the evaluation chain on an agency's own files described by a config file."""
    _run(config, time.perf_counter())


@app.command()
def evaluate(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file of the run (as for `run`)."),
) -> None:
    """Re-estimate every program on the data already loaded, and print the evaluation."""
    started = time.perf_counter()
    summary = _flow(config, "estimate_run")
    assert summary.estimates is not None  # an estimate run always estimates
    print_evaluation(console, summary.estimates.estimates, summary.estimates.roi)
    note = cache_note(summary.estimates.estimated, summary.estimates.reused)
    if note:
        console.print(note)
    console.print(f"Run {summary.run_id} finished in {time.perf_counter() - started:.1f} s")


@app.command()
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
    key_file: Path | None = typer.Option(
        None, "--key-file", help="File with the pseudonymization key."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would load and be quarantined; write nothing."
    ),
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="auto, pandas or duckdb: duckdb loads a CSV inside DuckDB, with the same result; "
        "auto picks it for large CSVs without a mapping.",
    ),
) -> None:
    """Validate and load one file, or with --dry-run report what would happen."""
    from schemas.contract import ENTITIES
    from schemas.mapping import load_mapping
    from schemas.pseudonym import PseudonymKeyError, resolve_key
    from schemas.validate import ContractError
    from warehouse.db import WarehouseError
    from warehouse.load import ENGINES, choose_engine

    if entity not in ENTITIES:
        raise _fail(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
    if engine not in ENGINES:
        raise _fail(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    try:
        key = resolve_key(key_file)
    except PseudonymKeyError as exc:
        raise _fail(str(exc)) from None
    try:
        source_mapping = load_mapping(mapping) if mapping else None
        if dry_run:
            _dry_run(file, entity, warehouse, sheet, key, source_mapping)
            return
        chosen = choose_engine(file, engine, mapping=source_mapping)
        from flows.pipeline import ingest_file

        with _progress() as progress:
            progress.add_task(f"Loading {file.name} as {entity} ({chosen})", total=None)
            report = ingest_file(
                file, entity, warehouse, key=key, sheet=sheet, mapping=source_mapping, engine=engine
            )
    except (ContractError, WarehouseError) as exc:
        raise _fail(str(exc)) from None
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
        table = Table(title="Would be quarantined (first 20)", title_justify="left")
        for column in ("row", "column", "rule", "value", "reason"):
            table.add_column(column)
        for q in checked.quarantine.head(20).itertuples():
            table.add_row(str(q.row_number), str(q.column_name), q.rule, str(q.value), q.reason)
        console.print(table)
        counts = checked.quarantine.groupby("rule")["row_number"].nunique()
        console.print("Rows by rule: " + ", ".join(f"{rule} {n:,}" for rule, n in counts.items()))


@app.command()
def audit(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file of the run (as for `run`)."),
) -> None:
    """Data-quality scorecard and expectation suites over the loaded data, with Data Docs."""
    from warehouse.quality import format_scorecard

    result: AuditSummary = _flow(config, "audit_run")  # type: ignore[assignment]
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


@app.command()
def report(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file of the run (as for `run`)."),
    period: str | None = typer.Option(
        None, "--period", "-p", help="2024 (annual impact edition) or 2024Q3 (quarterly)."
    ),
    lang: list[str] | None = typer.Option(
        None, "--lang", help="en, es or pt; repeat for several editions."
    ),
    audience: str | None = typer.Option(
        None, "--audience", help="public (disclosure control) or internal."
    ),
) -> None:
    """Publish a new edition of the site from the latest completed run's results."""
    import yaml as yaml_lib

    overrides: dict[str, object] = {}
    if period:
        overrides["period"] = period
    if lang:
        overrides["languages"] = lang
    if audience:
        overrides["audience"] = audience
    path = config
    if overrides:  # the same config with the command's choices on top, validated again
        raw = yaml_lib.safe_load(config.read_text(encoding="utf-8")) or {}
        path = config.with_name(f".{config.stem}.report.yaml")
        path.write_text(yaml_lib.safe_dump({**raw, **overrides}), encoding="utf-8")
    try:
        editions = _flow(path, "publish_run")
    finally:
        if path != config:
            path.unlink(missing_ok=True)
    _print_editions(editions)


@app.command()
def runs(
    warehouse: Path = typer.Option(
        Path("warehouse.duckdb"), "--warehouse", "-w", help="The warehouse file."
    ),
    limit: int = typer.Option(20, "--limit", "-n", help="How many of the latest runs to list."),
) -> None:
    """List the run history: status, duration, whether results were reused, and why runs failed."""
    from warehouse.db import WarehouseError, open_warehouse
    from warehouse.runs import run_history

    try:
        with open_warehouse(warehouse, read_only=True) as con:
            history = run_history(con, limit)
    except WarehouseError as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"Runs on {warehouse}", title_justify="left")
    for column in ("run", "flow", "status", "started (UTC)", "seconds", "cached", "code"):
        table.add_column(column, no_wrap=True)
    for r in history.itertuples():
        style = {"failed": "red", "running": "yellow"}.get(r.status, "")
        seconds = "" if pd.isna(r.duration_seconds) else f"{r.duration_seconds:.1f}"
        table.add_row(
            r.run_id,
            r.flow,
            f"[{style}]{r.status}[/]" if style else r.status,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            seconds,
            "yes" if not pd.isna(r.cached) and bool(r.cached) else "",
            str(r.code_version or ""),
        )
    console.print(table)
    for r in history[history["status"] == "failed"].itertuples():
        console.print(f"run {r.run_id} failed: {r.message}", soft_wrap=True, highlight=False)


@app.command()
def serve(
    config: Path = typer.Option(..., "--config", "-c", help="YAML file with `schedules`."),
) -> None:
    """Run the config's scheduled editions (e.g. quarterly and annual) until stopped."""
    from flows.config import ConfigError, load_config

    try:
        run_config = load_config(config)
        run_config.pseudonym_key()
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if not run_config.schedules:
        raise _fail(
            f"{config}: no `schedules` to serve (e.g. quarterly: {{cron: '0 6 15 1,4,7,10 *'}})"
        )
    from prefect import serve as prefect_serve

    from flows.pipeline import deployments

    table = Table(title="Scheduled editions", title_justify="left")
    for column in ("edition", "cron", "time zone"):
        table.add_column(column)
    for edition, schedule in run_config.schedules.items():
        table.add_row(edition, schedule.cron, schedule.timezone)
    console.print(table)
    console.print("Serving; stop with Ctrl-C.")
    prefect_serve(*deployments(run_config, config))


@app.command()
def templates(
    out_dir: Path = typer.Argument(..., help="Folder to write the templates into."),
) -> None:
    """Write blank input templates and the data dictionary, generated from the contract."""
    from schemas.dictionary import write_templates

    for path in write_templates(out_dir):
        console.print(f"wrote {path}")


def _flow(config_path: Path, name: str) -> Any:
    """Run one of the pipeline's flows with a spinner; user errors become one line."""
    from flows.config import ConfigError, load_config
    from schemas.validate import ContractError
    from warehouse.db import WarehouseError

    try:
        config = load_config(config_path)
        config.pseudonym_key()  # fail before the run starts if there is no key
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    with _progress() as progress:
        progress.add_task(FLOW_STEPS[name], total=None)
        from flows import pipeline

        try:
            summary = getattr(pipeline, name)(config)
        except (ContractError, WarehouseError, pipeline.DataCheckError) as exc:
            progress.stop()
            raise _fail(str(exc)) from None
    return summary


def _run(config_path: Path, started: float) -> None:
    from flows.config import load_config

    summary = _flow(config_path, "evaluation_run")
    config = load_config(config_path)
    truth = None
    if config.truth_dir is not None:
        truth = pd.read_csv(config.truth_dir / "true_att_simple.csv")
    _print_summary(summary, time.perf_counter() - started, truth)


def _print_editions(editions: list[SiteResult]) -> None:
    for edition in editions:
        console.print(
            f"Report ({edition.lang}, {edition.audience}, {edition.period}): [bold]{edition.index}[/] "
            f"({len(edition.pages)} pages, {len(edition.suppression_log)} cells suppressed, {edition.seconds:.1f} s)",
            soft_wrap=True,
        )
        for message in edition.messages:
            console.print(f"  {message}", soft_wrap=True, highlight=False)


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
