"""The `mes-eval` command line."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import typer
import yaml
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows import prefect_env

if TYPE_CHECKING:
    from flows.pipeline import RunSummary

prefect_env.configure()  # before anything imports prefect

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Monitoring and evaluation of manufacturing extension services (MES) programs.",
)
console = Console()
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
def templates(
    out_dir: Path = typer.Argument(..., help="Folder to write the templates into."),
) -> None:
    """Write blank input templates and the data dictionary, generated from the contract."""
    from schemas.dictionary import write_templates

    for path in write_templates(out_dir):
        console.print(f"wrote {path}")


def _run(config_path: Path, started: float) -> None:
    from flows.config import ConfigError, load_config
    from schemas.validate import ContractError
    from warehouse.db import WarehouseError

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    with _progress() as progress:
        progress.add_task(
            "Evaluation run: ingest, validate, load, build marts, estimate, publish", total=None
        )
        from flows.pipeline import DataCheckError, evaluation_run

        try:
            summary = evaluation_run(config)
        except (ContractError, WarehouseError, DataCheckError) as exc:
            progress.stop()
            raise _fail(str(exc)) from None
    truth = None
    if config.truth_dir is not None:
        truth = pd.read_csv(config.truth_dir / "true_att_simple.csv")
    _print_summary(summary, time.perf_counter() - started, truth)


def _print_summary(summary: RunSummary, seconds: float, truth: pd.DataFrame | None) -> None:
    loads = Table(title="Loads: every input row is loaded or quarantined", title_justify="left")
    for column in ("entity", "file", "rows in", "loaded", "quarantined"):
        loads.add_column(column, justify="left" if column in ("entity", "file") else "right")
    for load in summary.loads:
        note = " (unchanged, skipped)" if load.skipped else ""
        loads.add_row(
            load.entity,
            load.source_file + note,
            f"{load.rows_in:,}",
            f"{load.rows_loaded:,}",
            f"{load.rows_quarantined:,}",
        )
    console.print(loads)
    if any(load.rows_quarantined for load in summary.loads):
        console.print("Quarantined rows and their reasons: table meta.quarantine in the warehouse.")
    failed = [c.name for c in summary.checks if not c.passed]
    console.print(
        f"Data checks: {len(summary.checks) - len(failed)} of {len(summary.checks)} passed"
    )
    effects = Table(
        title="Average effect on the treated, log points (Callaway-Sant'Anna 2021, simple)",
        title_justify="left",
    )
    columns = ["program", "outcome", "ATT [95% CI]", "in %", "firms T/C"]
    if truth is not None:
        columns.append("planted")
    for column in columns:
        effects.add_column(column, no_wrap=True)
    planted = (
        {} if truth is None else {(t.program_id, t.outcome): t.att for t in truth.itertuples()}
    )
    for row in summary.estimates.simple.itertuples():
        cells = [
            str(row.program_id),
            str(row.outcome).removeprefix("log_"),
            f"{row.estimate:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}]",
            f"{100 * math.expm1(row.estimate):+.1f}%",
            f"{row.n_treated:,} / {row.n_control:,}",
        ]
        if truth is not None:
            true_att = planted.get((row.program_id, row.outcome))
            cells.append("" if true_att is None else f"{true_att:+.3f}")
        effects.add_row(*cells)
    console.print(effects)
    console.print(f"Warehouse: [bold]{summary.warehouse}[/]", soft_wrap=True)
    console.print(f"Report:    [bold]{summary.report}[/]", soft_wrap=True)
    console.print(f"Run {summary.run_id} finished in {seconds:.1f} s")


if __name__ == "__main__":
    app()
