"""Input errors before anything heavy: the CLI's checks before Prefect, periods, exit codes,
the dry run, and no traceback for a user. No test here starts Prefect."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import flows
from flows import preflight as pf
from flows.cli import app, exit_for
from flows.config import ConfigError, load_config
from reports.period import Period, PeriodError
from schemas.contract import ENTITIES
from schemas.validate import ContractError
from warehouse.db import WarehouseError, open_warehouse

runner = CliRunner()
EXTRA = ("true_effects", "true_att_simple", "planted_invalid")


@pytest.fixture(scope="module")
def submission(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small synthetic submission (every entity), old enough to count as settled."""
    from evaluation.synthetic import generate_demo
    from flows.demo_files import write_demo_files

    folder = tmp_path_factory.mktemp("submission")
    paths = write_demo_files(generate_demo(seed=5, n_firms=500), folder)
    past = time.time() - 3600
    for path in paths.values():
        os.utime(path, (past, past))
    return {k: p for k, p in paths.items() if k not in EXTRA}


def write_config(folder: Path, sources: dict[str, Any], **extra: Any) -> Path:
    """A run config in `folder` (warehouse and report there too); synthetic: demo key."""
    config = {
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "sources": {k: v if isinstance(v, dict) else str(v) for k, v in sources.items()},
        **extra,
    }
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def no_prefect(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Importing Prefect or the pipeline fails: a path that gets there cannot pass."""
    monkeypatch.delattr(flows, "pipeline", raising=False)
    monkeypatch.setitem(sys.modules, "flows.pipeline", None)  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "prefect", None)  # type: ignore[arg-type]
    yield


# --- sources ----------------------------------------------------------------------------


def test_a_missing_source_file_is_one_line_before_prefect(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    config = write_config(tmp_path, {**submission, "firms": tmp_path / "data" / "firmas.csv"})
    with pytest.raises(ContractError, match=r"firmas\.csv: file not found"):
        pf.preflight("run", config)
    result = invoke("run", "--config", str(config))
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ")
    assert "firmas.csv: file not found" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_misspelt_column_names_the_file_and_the_column(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    text = submission["outcomes"].read_text(encoding="utf-8")
    bad = tmp_path / "outcomes.csv"
    bad.write_text(text.replace(",sales,", ",slaes,", 1), encoding="utf-8")
    config = write_config(tmp_path, {**submission, "outcomes": bad})
    result = invoke("run", "--config", str(config))
    assert result.exit_code == 2
    assert (
        "outcomes.csv: column 'slaes' is not in the contract of outcomes: misspelt 'sales'?"
        in result.output
    )


def test_a_sheet_that_is_not_in_the_workbook(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    sources = {
        **submission,
        "participations": {"path": str(submission["participations"]), "sheet": "Beneficiarios"},
    }
    result = invoke("run", "--config", str(write_config(tmp_path, sources)))
    assert result.exit_code == 2
    assert "participations.xlsx: no sheet 'Beneficiarios' (sheets: 'participations')" in (
        result.output
    )


def test_a_mapping_for_another_entity(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    mapping = tmp_path / "firmas.yaml"
    mapping.write_text("entity: firms\ncolumns:\n  RUT: firm_id\n", encoding="utf-8")
    sources = {
        **submission,
        "outcomes": {"path": str(submission["outcomes"]), "mapping": str(mapping)},
    }
    result = invoke("run", "--config", str(write_config(tmp_path, sources)))
    assert result.exit_code == 2
    assert "sources.outcomes: mapping" in result.output
    assert "firmas.yaml maps firms, not outcomes" in result.output


def test_a_mapped_header_that_is_missing_is_found_from_the_header(
    tmp_path: Path, submission: dict[str, Path]
) -> None:
    mapping = tmp_path / "resultados.yaml"
    mapping.write_text("entity: outcomes\ncolumns:\n  anio: year\n", encoding="utf-8")
    data = tmp_path / "resultados.csv"
    text = submission["outcomes"].read_text(encoding="utf-8")
    data.write_text(text.replace(",year,", ",periodo,", 1), encoding="utf-8")
    sources = {**submission, "outcomes": {"path": str(data), "mapping": str(mapping)}}
    with pytest.raises(ContractError, match=r"no column 'anio' for required column 'year'"):
        pf.preflight("run", write_config(tmp_path, sources))


def test_a_folder_an_unsupported_type_and_no_key(
    tmp_path: Path, submission: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "firms").mkdir()
    with pytest.raises(ContractError, match="firms: unsupported file type"):
        pf.preflight("run", write_config(tmp_path, {**submission, "firms": tmp_path / "firms"}))
    (tmp_path / "f.csv").mkdir()
    with pytest.raises(ContractError, match=r"f\.csv: not a file"):
        pf.preflight("run", write_config(tmp_path, {**submission, "firms": tmp_path / "f.csv"}))
    (tmp_path / "report").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"out_dir: .*report is a file, not a folder"):
        pf.preflight("run", write_config(tmp_path, submission))
    (tmp_path / "report").unlink()
    monkeypatch.delenv("MES_EVAL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("MES_EVAL_PSEUDONYM_KEY_FILE", raising=False)
    config = write_config(tmp_path, submission, synthetic=False)
    result = invoke("run", "--config", str(config))
    assert result.exit_code == 2 and "MES_EVAL_PSEUDONYM_KEY" in result.output


MAPPING_CP1252 = "entity: firms\nformat:\n  encoding: cp1252\n"
MAPPING_UTF8 = "entity: firms\nformat:\n  encoding: utf-8\n"
FIRMS = "firm_id,country,region,isic4,founded_year\n76.1-K,CHL,Región del Maule,2592,1990\n"


@pytest.mark.parametrize(
    ("written", "declared", "expected"),
    [
        (
            "utf-8",
            MAPPING_CP1252,
            "firms.csv: declared encoding cp1252, but the file is UTF-8 ('RegiÃ³n' would be "
            "read for 'Región'); set encoding: utf-8 in ",
        ),
        (
            "cp1252",
            MAPPING_UTF8,
            "firms.csv: declared encoding utf-8, but byte 0xf3 on line 2 is not valid in it; "
            "the file looks like Windows-1252 (cp1252); set encoding: cp1252 in ",
        ),
    ],
)
def test_a_file_not_in_its_declared_encoding_names_the_likely_one(
    tmp_path: Path,
    submission: dict[str, Path],
    no_prefect: None,
    written: str,
    declared: str,
    expected: str,
) -> None:
    data = tmp_path / "firms.csv"
    data.write_bytes(FIRMS.encode(written))
    mapping = tmp_path / "mappings" / "firms.yaml"
    mapping.parent.mkdir()
    mapping.write_text(declared, encoding="utf-8")
    sources = {**submission, "firms": {"path": str(data), "mapping": str(mapping)}}
    result = invoke("run", "--config", str(write_config(tmp_path, sources)))
    assert result.exit_code == 2
    line = " ".join(result.output.split())  # rich may wrap a long line in a narrow terminal
    assert expected in line and line.endswith("firms.yaml")


def test_the_declared_encoding_that_fits_passes(
    tmp_path: Path, submission: dict[str, Path]
) -> None:
    data = tmp_path / "firms.csv"
    data.write_bytes(FIRMS.encode("cp1252"))
    mapping = tmp_path / "firms.yaml"
    mapping.write_text(MAPPING_CP1252, encoding="utf-8")
    sources = {**submission, "firms": {"path": str(data), "mapping": str(mapping)}}
    assert pf.preflight("run", write_config(tmp_path, sources)).warnings == []


def test_the_encoding_check_reads_only_the_start_of_a_large_file(tmp_path: Path) -> None:
    # a UTF-8 file declared cp1252 whose first non-ASCII text comes after the sample:
    # the sample passes (it is ASCII), the loader reading it all refuses it
    from schemas.readers import SourceFormat, read_sample, read_source

    path = tmp_path / "outcomes.csv"
    rows = "".join(f"F{i},2020,{i}\n" for i in range(60_000))
    path.write_bytes(("firm_id,year,sales\n" + rows + "Fé,2021,1\n").encode("utf-8"))
    assert path.stat().st_size > 1024 * 1024
    fmt = SourceFormat(encoding="cp1252")
    sample = read_sample(path, fmt=fmt)
    assert list(sample.columns) == ["firm_id", "year", "sales", "_row_number"]
    assert 0 < len(sample) < 60_000 and sample["firm_id"].iloc[-1] == f"F{len(sample) - 1}"
    with pytest.raises(ContractError, match="'FÃ©' would be read for 'Fé'"):
        read_source(path, fmt=fmt)


def test_serve_warns_about_a_file_not_there_yet_and_needs_schedules(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    schedules = {"quarterly": {"cron": "0 6 15 1,4,7,10 *"}}
    sources = {**submission, "targets": tmp_path / "next" / "targets.csv"}
    checked = pf.preflight("serve", write_config(tmp_path, sources, schedules=schedules))
    assert checked.warnings == [f"{tmp_path / 'next' / 'targets.csv'} (targets) does not exist yet"]
    result = invoke("serve", "--config", str(write_config(tmp_path, submission)))
    assert result.exit_code == 2 and "no `schedules` to serve" in result.output


def test_commands_on_loaded_data_need_a_warehouse(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    config = write_config(tmp_path, submission)
    for command in ("evaluate", "audit", "report"):
        result = invoke(command, "--config", str(config))
        assert result.exit_code == 2, command
        assert "warehouse.duckdb: no warehouse here yet; run `mes-eval run` first" in (
            " ".join(result.output.split())
        )


# --- periods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("2023", "2023"),
        ("2023Q3", "2023Q3"),
        ("2023-Q3", "2023Q3"),
        ("2023q3", "2023Q3"),
        ("2023 Q3", "2023Q3"),
        (" 2023  q3 ", "2023Q3"),
        ("2023/Q3", "2023Q3"),
        ("Q3 2023", "2023Q3"),
        ("q3-2023", "2023Q3"),
        (2024, "2024"),
    ],
)
def test_common_spellings_of_a_period_are_read(text: str | int, label: str) -> None:
    assert Period.parse(text).label == label


@pytest.mark.parametrize("text", ["2023-Q5", "2023Q0", "23Q3", "2023-3", "2023-07", "FY2023", ""])
def test_anything_else_is_refused_saying_what_is_allowed(text: str) -> None:
    with pytest.raises(PeriodError) as error:
        Period.parse(text)
    assert str(error.value) == (
        f"period {text!r}: expected a year (2024) or a quarter (2024Q3; also written "
        "2024-Q3, 2024 Q3 or Q3 2024)"
    )


def test_a_bad_period_on_the_command_line_or_in_the_config_is_one_line(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    config = write_config(tmp_path, submission)
    result = invoke("report", "--config", str(config), "--period", "2023-Q5")
    assert result.exit_code == 2
    assert "error: period '2023-Q5': expected a year (2024) or a quarter" in result.output
    config = write_config(tmp_path, submission, period="2023-13")
    result = invoke("run", "--config", str(config))
    assert result.exit_code == 2
    assert "agency.yaml: period '2023-13': expected a year" in " ".join(result.output.split())
    # a well-written period is kept in the config as the edition's label
    assert load_config(write_config(tmp_path, submission, period="q3 2023")).period == "2023Q3"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, submission: dict[str, Path]) -> Path:
    """A warehouse holding the submission, loaded as a run loads it (no Prefect)."""
    from flows import steps

    folder = tmp_path_factory.mktemp("loaded")
    config = load_config(write_config(folder, submission))
    steps.ingest_sources(config, "test")
    return folder


def test_a_period_outside_the_data_is_refused_unless_asked_for(
    loaded: Path, submission: dict[str, Path], tmp_path: Path, no_prefect: None
) -> None:
    with open_warehouse(loaded / "warehouse.duckdb", read_only=True) as con:
        first, last = pf.data_years(con)  # type: ignore[misc]
        outcome_years = con.sql("select min(year), max(year) from raw.outcomes").fetchall()[0]
    assert (first, last) == outcome_years  # participations start within the outcome years
    config = loaded / "agency.yaml"
    result = invoke("report", "--config", str(config), "--period", str(last + 1))
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"error: period {last + 1} is outside the data ({first}-{last}: the years of the "
        "outcomes and of participation start dates); choose a period in that range, or pass "
        "--allow-period-outside-data (allow_period_outside_data: true in the config)"
    )
    result = invoke("report", "--config", str(config), "--period", f"Q1 {first - 1}")
    assert result.exit_code == 2 and f"period {first - 1}Q1 is outside the data" in result.output
    # asked for explicitly: the period passes; what stops `report` next is that no run
    # has estimated anything yet
    result = invoke("report", "-c", str(config), "-p", str(last + 1), "--allow-period-outside-data")
    assert result.exit_code == 2 and "no completed run with estimates yet" in result.output
    with pytest.raises(ContractError, match="no completed run with estimates yet"):
        pf.preflight("report", config, {"period": f"{last}-q2"})


def test_a_run_checks_its_configured_period_after_its_loads(loaded: Path) -> None:
    """The flow's check (flows.steps.default_period), on the data the run has just loaded."""
    from flows import steps

    config = load_config(loaded / "agency.yaml")
    with open_warehouse(config.warehouse, read_only=True) as con:
        _, last = pf.data_years(con)  # type: ignore[misc]
    outside = config.model_copy(update={"period": str(last + 1)})
    with pytest.raises(PeriodError, match=f"period {last + 1} is outside the data"):
        steps.default_period(outside)
    allowed = outside.model_copy(update={"allow_period_outside_data": True})
    assert steps.default_period(allowed) == str(last + 1)
    assert steps.default_period(config.model_copy(update={"period": f"{last}Q2"})) == f"{last}Q2"


# --- dry run --------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_dry_run_reports_what_a_load_would_do_and_writes_nothing(
    tmp_path: Path, submission: dict[str, Path], no_prefect: None
) -> None:
    from flows import steps

    # a warehouse that already holds the registry: the dry run works on a copy of it
    config_path = write_config(tmp_path, submission)
    config = load_config(config_path)
    registry = config.model_copy(
        update={"sources": {k: config.sources[k] for k in ("macro", "programs")}}
    )
    steps.ingest_sources(registry, "earlier")
    before = sha256(config.warehouse)
    listing = sorted(p.name for p in tmp_path.iterdir())

    result = invoke("run", "--config", str(config_path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: what `mes-eval run` would load (nothing was written)" in result.output
    dry = pf.dry_run(config)

    assert sha256(config.warehouse) == before  # byte-identical
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no copy left behind
    # the same loads for real, on a copy made the same way
    shutil.copyfile(config.warehouse, tmp_path / "real.duckdb")
    real = steps.ingest_sources(
        config.model_copy(update={"warehouse": tmp_path / "real.duckdb"}), "r"
    )
    assert dry.error is None
    assert [
        (d.entity, d.rows_in, d.would_load, d.would_quarantine, d.already_loaded) for d in dry.loads
    ] == [(r.entity, r.rows_in, r.rows_loaded, r.rows_quarantined, r.skipped) for r in real]
    by_entity = {d.entity: d for d in dry.loads}
    assert by_entity["macro"].already_loaded and by_entity["programs"].already_loaded
    # participations are checked against the firms of the same submission, not only the
    # warehouse's (which has none): most of them would load
    assert by_entity["participations"].would_load > 0.9 * by_entity["participations"].rows_in
    with open_warehouse(tmp_path / "real.duckdb", read_only=True) as con:
        rules = con.sql(
            "select entity, rule, count(distinct row_number) from meta.quarantine group by all"
        ).fetchall()
    assert {(e, r): n for e, r, n in rules} == {
        (d.entity, rule): n for d in dry.loads for rule, n in d.by_rule.items()
    }
    # what the user reads: the counts per entity, the reasons and the first rows
    for d in dry.loads:
        row = next(line for line in result.output.splitlines() if f" {d.file}" in line)
        assert f"{d.rows_in:,}" in row and f"{d.would_load:,}" in row
        for rule, n in d.by_rule.items():
            assert f"{rule} {n:,}" in result.output
        if d.would_quarantine:
            assert set(d.first_quarantined["rule"]) <= set(d.by_rule)
    assert dry.years is not None


def test_a_dry_run_without_a_warehouse_creates_none_and_checks_the_period(
    tmp_path: Path, submission: dict[str, Path]
) -> None:
    config = load_config(write_config(tmp_path, submission, period="2099"))
    dry = pf.dry_run(config)
    assert not config.warehouse.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agency.yaml"]
    assert [d.entity for d in dry.loads] == [e for e in ENTITIES if e in config.sources]
    # every file loads; the configured period is what the run would refuse
    assert dry.years is not None and dry.years[1] < 2099
    assert dry.error is not None and dry.error.startswith(
        f"period 2099 is outside the data ({dry.years[0]}-{dry.years[1]}"
    )


def test_a_dry_run_stops_at_a_file_level_problem_with_exit_2(
    tmp_path: Path, submission: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write_config(tmp_path, submission))
    bad = tmp_path / "comparison.csv"
    bad.write_text("firm_id;program_id\nX;Y\n", encoding="utf-8")
    past = time.time() - 3600
    os.utime(bad, (past, past))
    broken = config.model_copy(
        update={
            "sources": {
                **config.sources,
                "comparison_sample": config.sources["comparison_sample"].model_copy(
                    update={"path": bad}
                ),
            }
        }
    )
    dry = pf.dry_run(broken)
    assert [d.entity for d in dry.loads] == [
        "macro",
        "programs",
        "firms",
        "program_budgets",
        "participations",
    ]
    assert dry.error == "comparison.csv: missing required column 'wave' for comparison_sample"
    # the CLI prints what it checked, then the error; exit 2
    monkeypatch.setattr(pf, "dry_run", lambda config: dry)
    result = invoke("run", "--config", str(tmp_path / "agency.yaml"), "--dry-run")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == f"error: {dry.error}"


# --- exit codes, no traceback -------------------------------------------------------------


def test_unexpected_errors_are_one_line_with_the_details_in_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MES_EVAL_HOME", str(home))

    def broken(*args: Any, **kwargs: Any) -> Any:
        settings: dict[str, int] = {}
        return settings["no such key"]  # a bug

    monkeypatch.setattr(pf, "preflight", broken)
    result = invoke("run", "--config", str(tmp_path / "agency.yaml"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    prefix = "error: internal error: KeyError: 'no such key'; details in "
    assert lines[0].startswith(prefix)
    log = Path(lines[0].removeprefix(prefix))
    assert log.parent == home / "logs"
    details = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in details
    assert "KeyError: 'no such key'" in details and "in broken" in details


def test_exit_codes_input_2_run_failures_1() -> None:
    from warehouse.lock import WarehouseBusy

    assert exit_for(ContractError("x.csv: file not found")).exit_code == 2
    assert exit_for(ConfigError("a.yaml: bad")).exit_code == 2
    assert exit_for(PeriodError("period 'x'")).exit_code == 2
    assert exit_for(WarehouseBusy("w.duckdb: another run holds the warehouse")).exit_code == 1
    assert exit_for(WarehouseError("w.duckdb: cannot open the warehouse")).exit_code == 1
    assert exit_for(ValueError("a bug")).exit_code == 1


def test_out_of_memory_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python's MemoryError or DuckDB's out-of-memory error: one line naming the settings
    that help, exit 1, the details in a log."""
    import duckdb

    monkeypatch.setenv("MES_EVAL_HOME", str(tmp_path / "home"))
    oom = duckdb.OutOfMemoryException(
        "Out of Memory Error: failed to allocate data of size 2.0 MiB\n\nPossible solutions:"
    )
    for exc in (oom, MemoryError()):
        assert exit_for(exc).exit_code == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: out of memory"), lines
        assert "MES_EVAL_DUCKDB_MEMORY" in lines[0] and "estimation_engine: duckdb" in lines[0]


def test_a_failing_invocation_never_imports_prefect(
    tmp_path: Path, submission: dict[str, Path]
) -> None:
    """In a fresh process: every input error above stops before Prefect is imported."""
    config = write_config(tmp_path, {**submission, "firms": tmp_path / "missing.csv"})
    script = f"""
import json, sys
from typer.testing import CliRunner
from flows.cli import app
codes = [
    CliRunner().invoke(app, args).exit_code
    for args in (
        ["run", "-c", {str(config)!r}],
        ["run", "-c", {str(config)!r}, "--dry-run"],
        ["report", "-c", {str(config)!r}, "-p", "2023-Q5"],
        ["evaluate", "-c", {str(config)!r}],
    )
]
print(json.dumps([codes, "prefect" in sys.modules, "flows.pipeline" in sys.modules]))
"""
    env = {**os.environ, "MES_EVAL_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
        env=env,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[2, 2, 2, 2], False, False]


def test_the_quarantine_table_shows_values_as_sent(submission: dict[str, Path]) -> None:
    # rich markup in a value ("[bold]") is printed as it is, not interpreted
    from flows import cli

    with cli.console.capture() as captured:
        cli._print_quarantine(
            pd.DataFrame(
                [[2, "name", "bad", "[bold]x[/bold]", "why"]],
                columns=["row_number", "column_name", "rule", "value", "reason"],
            ),
            "t",
        )
    assert "[bold]x[/bold]" in captured.get()
