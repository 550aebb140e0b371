"""The CLI's quick paths: templates, configuration errors, documented commands."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

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
