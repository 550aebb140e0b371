"""The CLI's quick paths: templates, configuration errors, documented commands."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import flows
from flows.cli import app
from schemas.contract import ENTITIES

runner = CliRunner()
README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_templates_writes_one_file_per_entity_and_the_dictionary(tmp_path: Path) -> None:
    result = runner.invoke(app, ["templates", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "t").iterdir()}
    assert names == {f"{e}.csv" for e in ENTITIES} | {"data_dictionary.csv", "data_dictionary.md"}


def test_a_config_missing_a_required_entity_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "agency.yaml"
    config.write_text("warehouse: w.duckdb\nout_dir: r\nsources:\n  firms: firms.csv\n")
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2  # an input error
    assert "sources is missing the required entities: macro, programs" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_entity_and_a_missing_config_are_clear(tmp_path: Path) -> None:
    config = tmp_path / "agency.yaml"
    config.write_text("warehouse: w.duckdb\nout_dir: r\nsources:\n  beneficiaries: b.csv\n")
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2 and "unknown entity 'beneficiaries'" in result.output
    result = runner.invoke(app, ["run", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "config file not found" in result.output


def test_every_command_is_documented_in_the_readme() -> None:
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert sorted(commands) == [
        "audit",
        "demo",
        "evaluate",
        "ingest",
        "plan",
        "quarantine",
        "report",
        "run",
        "runs",
        "serve",
        "templates",
    ]
    for command in commands:
        assert f"mes-eval {command}" in README, command


def test_the_readme_documents_the_exit_codes_and_the_checks_before_a_run() -> None:
    for text in (
        "mes-eval run --config agency.yaml --dry-run",
        "--allow-period-outside-data",
        "| 2 |",
        "| 1 |",
        ".mes-eval/logs/",
    ):
        assert text in README, text


def test_typer_prints_no_pretty_tracebacks() -> None:
    assert app.pretty_exceptions_enable is False


# --- commands that are one step answer without Prefect ---------------------------------


@pytest.fixture
def no_prefect(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Importing Prefect or the pipeline's flows fails: a command that gets there fails."""
    monkeypatch.delattr(flows, "pipeline", raising=False)
    monkeypatch.setitem(sys.modules, "flows.pipeline", None)  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "prefect", None)  # type: ignore[arg-type]
    yield


def estimated_warehouse(folder: Path, **extra: object) -> Path:
    """A config and a warehouse with one load and one completed run that stored an
    estimate: what `report` and `audit` check for before they start."""
    from warehouse.db import open_warehouse
    from warehouse.runs import finish_run, start_run

    config = folder / "agency.yaml"
    sources = {e: f"data/{e}.csv" for e in ("macro", "programs", "firms", "program_budgets")}
    sources |= {e: f"data/{e}.csv" for e in ("participations", "comparison_sample", "outcomes")}
    config.write_text(
        yaml.safe_dump({"warehouse": "w.duckdb", "out_dir": "report", "sources": sources, **extra}),
        encoding="utf-8",
    )
    with open_warehouse(folder / "w.duckdb") as con:
        con.execute(
            "insert into meta.loads (load_id, run_id, entity, source_file, content_sha256, "
            "rows_in, rows_loaded, rows_quarantined, loaded_at) "
            "values ('l1', 'estimated', 'firms', 'firms.csv', 'sha', 1, 1, 0, now())"
        )
        start_run(con, "estimated", "evaluation-run", {})
        finish_run(con, "estimated", "completed")
        con.execute(
            "insert into results.estimates (run_id, program_id, outcome, estimator, "
            "comparison_group, aggregation, data_version, created_at) values "
            "('estimated', 'P1', 'log_sales', 'cs', 'nevertreated', 'simple', 'v', now())"
        )
    return config


def logged_runs(warehouse: Path) -> list[tuple[Any, ...]]:
    """meta.runs but the seeded run: flow, status, message, code version, wall >= flow time."""
    from warehouse.db import open_warehouse

    with open_warehouse(warehouse, read_only=True) as con:
        return con.execute(
            "select flow, status, message, code_version, wall_seconds >= duration_seconds "
            "from meta.runs where run_id <> 'estimated' order by started_at"
        ).fetchall()


def test_report_and_audit_run_without_prefect_and_are_logged_as_their_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_prefect: None
) -> None:
    from flows import steps
    from warehouse.models import CheckResult
    from warehouse.runs import code_version

    hook = tmp_path / "failures.log"
    config = estimated_warehouse(
        tmp_path, notify_command=f'echo "$MES_EVAL_RUN_FLOW $MES_EVAL_RUN_STATUS" >> {hook}'
    )
    published: list[str] = []

    def publish(config: object, run_id: str) -> list[object]:
        published.append(run_id)
        return []

    monkeypatch.setattr(steps, "publish", publish)
    result = runner.invoke(app, ["report", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert published == ["estimated"]  # the editions show the latest estimated run
    version = code_version()
    assert logged_runs(tmp_path / "w.duckdb") == [("publish-run", "completed", None, version, True)]

    def disk_full(config: object, run_id: str) -> list[object]:
        raise OSError("disk full")

    monkeypatch.setattr(steps, "publish", disk_full)
    result = runner.invoke(app, ["report", "-c", str(config)])
    assert result.exit_code == 1 and "error: disk full" in result.output
    # a data check that fails stops the audit before it audits
    failing = [CheckResult("one_row_per_firm_year", 2, [("F1", 2020)])]
    monkeypatch.setattr(steps, "build_warehouse", lambda config: failing)
    monkeypatch.setattr(steps, "audit", lambda *args: pytest.fail("audited after a failed check"))
    result = runner.invoke(app, ["audit", "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert "error: data check one_row_per_firm_year failed on 2 rows" in result.output
    assert "Traceback" not in result.output
    runs = logged_runs(tmp_path / "w.duckdb")
    assert runs[1] == ("publish-run", "failed", "OSError: disk full", version, True)
    assert runs[2][:2] == ("audit-run", "failed") and runs[2][3:] == (version, True)
    assert runs[2][2].startswith("DataCheckError: data check one_row_per_firm_year failed")
    # the notification hook heard of both failures, by flow name
    assert hook.read_text().split() == ["publish-run", "failed", "audit-run", "failed"]


def test_in_prefect_or_its_variable_runs_the_flow_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_prefect: None
) -> None:
    config = estimated_warehouse(tmp_path)
    flows_run: list[str] = []

    def publish_run(config: object, run_id: str) -> list[object]:
        flows_run.append(run_id)
        return []

    pipeline = types.ModuleType("flows.pipeline")  # a stand-in: no Prefect here
    pipeline.publish_run = publish_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flows.pipeline", pipeline)
    assert runner.invoke(app, ["report", "-c", str(config), "--in-prefect"]).exit_code == 0
    monkeypatch.setenv("MES_EVAL_PREFECT", "1")
    assert runner.invoke(app, ["report", "-c", str(config)]).exit_code == 0
    assert len(set(flows_run)) == 2  # two flow runs...
    assert logged_runs(tmp_path / "w.duckdb") == []  # ...and none recorded without them


def test_read_only_commands_never_import_prefect(tmp_path: Path, no_prefect: None) -> None:
    """An import of Prefect would fail here, so a command that answers never made one."""
    config = estimated_warehouse(tmp_path)
    warehouse = str(tmp_path / "w.duckdb")
    for args in (["runs", "-w", warehouse], ["quarantine", "-c", str(config)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)


def test_ingest_loads_under_the_writer_lock_without_prefect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_prefect: None
) -> None:
    from warehouse.db import open_warehouse
    from warehouse.lock import writer_lock

    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY", "a test key of 16 bytes or more")
    macro = tmp_path / "macro.csv"
    macro.write_text(
        "country,year,gdp,deflator,lcu_per_usd\nCHL,2020,250000,100,750\nCHL,2021,260000,105,760\n"
    )
    warehouse = tmp_path / "w.duckdb"
    args = ["ingest", str(macro), "-e", "macro", "-w", str(warehouse)]
    with writer_lock(warehouse):  # another run holds the warehouse: nothing is loaded
        result = runner.invoke(app, args)
    assert result.exit_code == 1 and "another run holds the warehouse" in result.output
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with open_warehouse(warehouse, read_only=True) as con:
        loads = con.execute("select entity, rows_loaded from meta.loads").fetchall()
    assert loads == [("macro", 2)]
