"""`mes-eval quarantine`: the rejected rows an analyst works through, current or all loads.

One small warehouse per test, loaded with `warehouse.load.load_file` (no Prefect):

    seq 1-3  macro, programs (P1), firms (F1-F3)          `load_registry`
    seq 4    outcomes.csv       text in sales, a negative employment, an unknown firm
    seq 5    outcomes_2021.csv  `=1+2` in sales: another file, stays current
    seq 6    outcomes.csv       corrected re-submission, one negative employment left:
                                supersedes seq 4's quarantine (same file name)
    seq 7    participations.csv one row of program P2, not registered yet
    seq 8    programs_more.csv  registers P2
    seq 9    participations_resent.csv  the same content as seq 7 under another name,
                                re-validated since P2 arrived: supersedes seq 7's
                                quarantine (same content), quarantines nothing
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from reports.inputs import run_query
from reports.quarantine import listing, summary
from schemas.contract import ENTITIES
from warehouse.db import open_warehouse
from warehouse.load import load_file

from .conftest import write_csv
from .test_warehouse import KEY, OUTCOME_HEADER, PROGRAM_HEADER, load_registry

runner = CliRunner()
OUTCOMES = OUTCOME_HEADER  # the contract's first ten outcome columns
EXPORT_COLUMNS = [
    "entity",
    "source_file",
    "load_sequence",
    "loaded_at",
    "row_number",
    "column",
    "rule",
    "value",
    "reason",
]


def outcome(firm: str, year: int, employment: object = 5, sales: object = 100) -> list[object]:
    return [firm, year, employment, sales, 1, 0, 50, 0, 0, 10]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    files = tmp_path / "files"
    files.mkdir()
    with open_warehouse(path) as con:
        load_registry(con, files)

        def load(name: str, entity: str, header: list[str], rows: list[list[object]]) -> None:
            report = load_file(con, write_csv(files / name, header, rows), entity, key=KEY)
            assert not report.skipped, name

        load(
            "outcomes.csv",
            "outcomes",
            OUTCOMES,
            [
                outcome("F1", 2020),
                outcome("F2", 2020, sales="abc"),
                outcome("F3", 2020, employment=-1),
                outcome("F9", 2020),
            ],
        )
        load("outcomes_2021.csv", "outcomes", OUTCOMES, [outcome("F1", 2021, sales="=1+2")])
        load(
            "outcomes.csv",
            "outcomes",
            OUTCOMES,
            [outcome("F1", 2020), outcome("F2", 2020), outcome("F3", 2020, employment=-2)],
        )
        participations = list(ENTITIES["participations"].schema.columns)
        load(
            "participations.csv",
            "participations",
            participations,
            [
                ["F1", "P1", "audit", "2020-03-01", "2020-09-01", 5_000_000, 500_000],
                ["F2", "P2", "audit", "2020-03-01", None, 5_000_000, None],
            ],
        )
        program: list[object] = ["P2", "Agency", "CHL", "Program two", "productivity"]
        program += ["technical_assistance", "CLP", 2015, None, "information", "SMEs", "s", "m", "l"]
        load("programs_more.csv", "programs", PROGRAM_HEADER, [program])
        shutil.copyfile(files / "participations.csv", files / "participations_resent.csv")
        report = load_file(con, files / "participations_resent.csv", "participations", key=KEY)
        assert not report.skipped and report.rows_quarantined == 0  # references changed
    return path


def invoke(warehouse: Path, *args: str) -> str:
    result = runner.invoke(app, ["quarantine", "--warehouse", str(warehouse), *args])
    assert result.exit_code == 0, result.output
    return result.output


def export_csv(warehouse: Path, tmp_path: Path, *args: str) -> list[dict[str, str]]:
    out = tmp_path / "list.csv"
    invoke(warehouse, "--out", str(out), *args)
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames is not None
        assert reader.fieldnames[: len(EXPORT_COLUMNS)] == EXPORT_COLUMNS
        return list(reader)


def keys(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(r["source_file"], r["load_sequence"], r["row_number"], r["rule"]) for r in rows]


def test_lists_the_current_loads_newest_first_with_counts(warehouse: Path) -> None:
    output = invoke(warehouse)
    assert "first 2 of 2 records" in output
    # seq 4 and 7 were superseded: their rules appear nowhere, and the note says so
    assert "unknown_firm" not in output and "unknown_program" not in output
    assert "4 records of 2 superseded loads" in output and "--all-loads" in output
    assert output.index("outcomes.csv") < output.index("outcomes_2021.csv")  # newest first
    assert "Rows by entity and rule" in output


def test_the_export_holds_every_current_record_as_stored(warehouse: Path, tmp_path: Path) -> None:
    rows = export_csv(warehouse, tmp_path)
    assert keys(rows) == [
        ("outcomes.csv", "6", "4", "out_of_range"),
        ("outcomes_2021.csv", "5", "2", "not_a_number"),
    ]
    first = rows[0]
    assert (first["entity"], first["column"]) == ("outcomes", "employment")
    assert first["reason"] == "employment: must be >= 0"
    # the value as stored (coerced by the contract: -2.0), text a spreadsheet must not read
    # as a negative number...
    assert first["value"] == "'-2.0"
    # ...nor the agency's `=1+2` as a formula
    assert rows[1]["value"] == "'=1+2"
    assert first["loaded_at"][:4].isdigit()


def test_all_loads_shows_the_superseded_records_with_the_load_that_superseded_them(
    warehouse: Path, tmp_path: Path
) -> None:
    rows = export_csv(warehouse, tmp_path, "--all-loads")
    assert [(*k, r["superseded_by_load"]) for k, r in zip(keys(rows), rows, strict=True)] == [
        ("participations.csv", "7", "3", "unknown_program", "9"),  # same content, seq 9
        ("outcomes.csv", "6", "4", "out_of_range", ""),
        ("outcomes_2021.csv", "5", "2", "not_a_number", ""),
        ("outcomes.csv", "4", "3", "not_a_number", "6"),  # same file name, seq 6
        ("outcomes.csv", "4", "4", "out_of_range", "6"),
        ("outcomes.csv", "4", "5", "unknown_firm", "6"),
    ]
    output = invoke(warehouse, "--all-loads")
    assert "unknown_program" in output and "load 9" in output
    assert "superseded loads" not in output  # nothing hidden


def test_filters_by_entity_rule_and_file(warehouse: Path, tmp_path: Path) -> None:
    only = export_csv(warehouse, tmp_path, "--entity", "participations", "--all-loads")
    assert keys(only) == [("participations.csv", "7", "3", "unknown_program")]
    assert export_csv(warehouse, tmp_path, "--entity", "participations") == []
    only = export_csv(warehouse, tmp_path, "--rule", "out_of_range", "--all-loads")
    assert {(r["load_sequence"], r["row_number"]) for r in only} == {("6", "4"), ("4", "4")}
    only = export_csv(warehouse, tmp_path, "--file", "outcomes_2021.csv")
    assert keys(only) == [("outcomes_2021.csv", "5", "2", "not_a_number")]
    output = invoke(warehouse, "--entity", "firms")
    assert "No quarantined rows (current loads)" in output


def test_the_xlsx_export_has_no_formula_and_typed_cells(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "quarantine.XLSX"  # the folder is made; the suffix in any case
    invoke(warehouse, "--out", str(out), "--all-loads")
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    header = [c.value for c in next(sheet.iter_rows())]
    assert header == [*EXPORT_COLUMNS, "superseded_by_load"]
    records = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    assert len(records) == 6
    formula = next(r for r in records if r["source_file"] == "outcomes_2021.csv")
    assert formula["value"] == "'=1+2" and formula["row_number"] == 2
    assert isinstance(formula["load_sequence"], int) and formula["superseded_by_load"] is None
    assert hasattr(formula["loaded_at"], "year")  # a date cell, not text


def test_the_report_counts_only_the_current_loads_as_the_command_lists(warehouse: Path) -> None:
    with open_warehouse(warehouse, read_only=True) as con:
        report = run_query(con, "quarantine")
        current = summary(listing(con).records)
        everything = summary(listing(con, all_loads=True).records)
    counted = {(r.entity, r.rule): r.rows for r in report.itertuples()}
    assert counted == {(r.entity, r.rule): r.rows for r in current.itertuples()}
    assert counted == {
        ("outcomes", "not_a_number"): 1,
        ("outcomes", "out_of_range"): 1,
        ("outcomes", "total"): 2,
    }
    # with the superseded loads counted, each re-loaded row would count twice
    assert {(r.entity, r.rule): r.rows for r in everything.itertuples()}[("outcomes", "total")] == 5


def test_the_config_names_the_warehouse(warehouse: Path, tmp_path: Path) -> None:
    config = tmp_path / "agency.yaml"
    sources = "".join(f"  {e}: {e}.csv\n" for e, spec in ENTITIES.items() if spec.required)
    config.write_text(f"warehouse: {warehouse.name}\nout_dir: report\nsources:\n{sources}")
    result = runner.invoke(app, ["quarantine", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"Quarantine of {warehouse} (current loads): first 2 of 2 records" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--entity", "outcome"],
            "unknown entity 'outcome'; known: macro, programs, firms,",
        ),
        (
            ["--rule", "not_number"],
            "unknown rule 'not_number'; rules in this warehouse's quarantine: not_a_number, "
            "out_of_range, unknown_firm, unknown_program",
        ),
        (["--file", "outcome.csv"], "no load of a file named 'outcome.csv'; files loaded: "),
        (["--out", "list.txt"], "--out list.txt: unsupported file type (.txt); use .csv or .xlsx"),
        (["--config", "agency.yaml"], "give --config or --warehouse, not both"),
    ],
)
def test_a_wrong_option_is_one_line_and_exit_2(
    warehouse: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["quarantine", "--warehouse", str(warehouse), *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0]
    assert not (tmp_path / "list.txt").exists()


def test_a_missing_warehouse_or_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args in (
        ["--warehouse", str(tmp_path / "none.duckdb")],
        ["--config", str(tmp_path / "none.yaml")],
    ):
        result = runner.invoke(app, ["quarantine", *args])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert "Traceback" not in result.output
    assert (
        "none.duckdb: no warehouse here"
        in runner.invoke(app, ["quarantine", "--warehouse", str(tmp_path / "none.duckdb")]).output
    )
