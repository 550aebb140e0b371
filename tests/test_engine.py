"""Which engine loads a file (pandas or DuckDB), and `mes-eval ingest --engine`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from schemas.mapping import load_mapping
from schemas.validate import ContractError
from warehouse import bulk, load
from warehouse.bulk import BulkUnsupported
from warehouse.db import open_warehouse
from warehouse.load import choose_engine, load_file

from .conftest import write_csv
from .test_warehouse import KEY, OUTCOME_HEADER, load_registry, outcome_row

MAPPING = Path(__file__).parents[1] / "examples" / "mappings" / "chile_outcomes.yaml"


def outcomes_csv(path: Path) -> Path:
    """Outcomes of the registry's firms, with rows the contract and references reject."""
    rows = [outcome_row(firm, year, 1000 + year) for firm in ("F1", "F2") for year in (2019, 2020)]
    rows += [
        outcome_row("F1", 2019, 5),  # duplicated firm-year: both rows quarantined
        outcome_row("F9", 2020, 1000),  # unknown firm
        outcome_row("F2", 2021, -1),  # negative sales
        ["F3", "n/d", 10, 1000, 1, 0, 1, 0, 0, 1],  # year not a number
    ]
    return write_csv(path, OUTCOME_HEADER, rows)


@pytest.fixture
def bulk_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files `warehouse.bulk.bulk_load_csv` is called on (it still loads them)."""
    calls: list[Path] = []
    original = bulk.bulk_load_csv

    def spy(con: Any, path: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(Path(path))
        return original(con, path, *args, **kwargs)

    monkeypatch.setattr(bulk, "bulk_load_csv", spy)
    return calls


def test_auto_picks_duckdb_for_large_csv_files_without_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = outcomes_csv(tmp_path / "outcomes.csv")
    workbook = tmp_path / "outcomes.xlsx"
    workbook.write_bytes(small.read_bytes())  # only the name and size matter here
    mapping = load_mapping(MAPPING)
    assert choose_engine(small) == "pandas"  # below the threshold
    monkeypatch.setattr(load, "BULK_MIN_BYTES", small.stat().st_size)
    assert choose_engine(small) == "duckdb"
    assert choose_engine(small, "auto", mapping=mapping) == "pandas"
    assert choose_engine(workbook) == "pandas"
    assert choose_engine(small, "pandas") == "pandas"
    monkeypatch.setattr(load, "BULK_MIN_BYTES", 1 << 40)
    assert choose_engine(small, "duckdb") == "duckdb"  # whatever its size
    with pytest.raises(ContractError, match="CSV files without a mapping"):
        choose_engine(workbook, "duckdb")
    with pytest.raises(ContractError, match="CSV files without a mapping"):
        choose_engine(small, "duckdb", mapping=mapping)
    with pytest.raises(ContractError, match="unknown engine 'spark'"):
        choose_engine(small, "spark")


def test_load_file_uses_the_engine_and_falls_back_to_pandas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk_calls: list[Path]
) -> None:
    path = outcomes_csv(tmp_path / "outcomes.csv")
    counts = {}
    for engine in ("pandas", "duckdb", "auto"):
        with open_warehouse(tmp_path / f"{engine}.duckdb") as con:
            load_registry(con, tmp_path)
            report = load_file(con, path, "outcomes", key=KEY, engine=engine)
        counts[engine] = (report.rows_in, report.rows_loaded, report.rows_quarantined)
    assert counts["pandas"] == counts["duckdb"] == counts["auto"] == (8, 3, 5)
    assert bulk_calls == [path]  # auto keeps a small file on pandas

    def unsupported(*args: Any, **kwargs: Any) -> Any:
        raise BulkUnsupported("outcomes.sales: check 'x' is not compiled to SQL")

    monkeypatch.setattr(bulk, "bulk_load_csv", unsupported)
    monkeypatch.setattr(load, "BULK_MIN_BYTES", 0)
    with open_warehouse(tmp_path / "fallback.duckdb") as con:
        load_registry(con, tmp_path)
        report = load_file(con, path, "outcomes", key=KEY)  # auto: falls back to pandas
        assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == counts["pandas"]
        with pytest.raises(ContractError, match="the duckdb engine cannot load it"):
            load_file(con, path, "outcomes", key=KEY, engine="duckdb")


def test_ingest_engine_duckdb_loads_as_pandas_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk_calls: list[Path]
) -> None:
    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY", KEY.decode())
    path = outcomes_csv(tmp_path / "outcomes.csv")
    with open_warehouse(tmp_path / "pandas.duckdb") as con:
        load_registry(con, tmp_path)
    shutil.copy(tmp_path / "pandas.duckdb", tmp_path / "duckdb.duckdb")
    runner = CliRunner()
    loads = {}
    for engine in ("pandas", "duckdb"):
        warehouse = tmp_path / f"{engine}.duckdb"
        args = ["ingest", str(path), "-e", "outcomes", "-w", str(warehouse), "--engine", engine]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "outcomes.csv" in result.output
        with open_warehouse(warehouse, read_only=True) as con:
            loads[engine] = con.execute(
                "select rows_in, rows_loaded, rows_quarantined from meta.loads "
                "where entity = 'outcomes'"
            ).fetchall()
    assert loads["duckdb"] == loads["pandas"] == [(8, 3, 5)]
    assert bulk_calls == [path]

    result = runner.invoke(app, ["ingest", str(path), "-e", "outcomes", "--engine", "spark"])
    assert result.exit_code == 2 and "unknown engine 'spark'" in result.output
    assert "Traceback" not in result.output
