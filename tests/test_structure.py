"""Structurally broken lines (schemas.structure): no row is lost to a stray quote, none is
merged into a neighbour, and no raw identifier reaches the warehouse or a dry run.

Every case loads the same file with the pandas path and the DuckDB bulk path and compares
what they wrote (tests/test_bulk.py's `assert_same`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from schemas.structure import MAX_LINE_CHARS, MAX_VALUE_CHARS

from .test_bulk import assert_same, load_both, warehouses  # noqa: F401 - a fixture
from .test_warehouse import KEY, load_registry, pid

HEADER = "firm_id,country,region,isic4,founded_year"


def tax_id(i: int) -> str:
    """A raw tax number as agencies write them (76.123.456-7)."""
    digits = f"{76_000_000 + 7919 * i:08d}"
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:]}-{i % 10}"


def firm_lines(n: int) -> list[str]:
    return [f"{tax_id(i)},CHL,Maule,1071,{1980 + i % 30}" for i in range(n)]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8", newline="")
    return path


def raw_ids_in(con: duckdb.DuckDBPyConnection, ids: list[str]) -> list[str]:
    """Every text cell of every table that holds one of the raw identifiers."""
    found = []
    tables = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_schema in ('raw', 'meta')"
    ).fetchall()
    for schema, table, column in tables:
        values = con.execute(
            f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
        ).fetchall()
        for (value,) in values:
            found += [f"{schema}.{table}.{column}: {raw}" for raw in ids if raw in str(value)]
    return found


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "select row_number, rule, value from meta.quarantine where entity = 'firms' order by 1"
    ).fetchall()


def test_a_stray_quote_loses_no_row_and_leaks_no_identifier(
    warehouses: dict[str, duckdb.DuckDBPyConnection],  # noqa: F811
    tmp_path: Path,
) -> None:
    # the case: an opening quote on one line, its closing one on the next
    lines = firm_lines(1500)
    lines[700] = f'{tax_id(700)},CHL,"Maule,3312,2008'
    lines[701] = 'Valparaíso",1071,1993'
    path = write(tmp_path / "firms.csv", lines)
    reports = load_both(warehouses, path, "firms")
    for report in reports.values():
        # 1,500 physical records in; the two broken lines quarantined, nothing merged
        assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (1500, 1498, 2)
    assert_same(warehouses)
    for con in warehouses.values():
        rows = quarantined(con)
        assert [(r[0], r[1]) for r in rows] == [
            (702, "unbalanced_quote"),
            (703, "unbalanced_quote"),
        ]
        assert rows[0][2].startswith(pid(tax_id(700)))  # the firm's id, pseudonymized
        assert rows[1][2].endswith(",1071,1993")  # its first cell taken for an id: hidden
        regions = {r[0] for r in con.execute("select region from raw.firms").fetchall()}
        assert regions == {"Maule"}  # no neighbour's text in a column
        assert raw_ids_in(con, [tax_id(i) for i in range(1500)]) == []
        assert con.execute("select count(*) from raw.firms").fetchall()[0][0] == 1498


def test_an_unclosed_quote_sets_aside_its_line_only(
    warehouses: dict[str, duckdb.DuckDBPyConnection],  # noqa: F811
    tmp_path: Path,
) -> None:
    lines = firm_lines(1400)
    lines[50] = f'{tax_id(50)},CHL,"Maule,1071,1990'  # never closed: folded the rest before
    path = write(tmp_path / "firms.csv", lines)
    for report in load_both(warehouses, path, "firms").values():
        assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (1400, 1399, 1)
    state = assert_same(warehouses)
    assert [(q[3], q[5]) for q in state["quarantine"]] == [(52, "unbalanced_quote")]
    for con in warehouses.values():
        assert raw_ids_in(con, [tax_id(i) for i in range(1400)]) == []
        (value,) = con.execute("select value from meta.quarantine").fetchone()  # type: ignore[misc]
        assert len(value) <= MAX_VALUE_CHARS and tax_id(50) not in value


def test_wrong_field_counts_and_oversized_lines_are_their_own_rows(
    warehouses: dict[str, duckdb.DuckDBPyConnection],  # noqa: F811
    tmp_path: Path,
) -> None:
    lines = firm_lines(40)
    lines[3] = f"{tax_id(3)},CHL,Maule,Talca,1071,1990"  # an unquoted delimiter in a value
    lines[4] = f"{tax_id(4)},CHL,1071,1990"  # a value left out
    lines[5] = f"{tax_id(5)},CHL,{'M' * (MAX_LINE_CHARS + 1)},1071,1990"
    lines[6] = f"{tax_id(6)},CHL,Maule,1071,1990,,"  # empty trailing cells: a valid row
    lines[7] = f'{tax_id(7)},CHL,"Maule, Talca",1071,1990'  # a quoted delimiter: valid
    lines[8] = f'{tax_id(8)},CHL,"Maule, "Talca,1071,1990'  # text after a closing quote
    lines[9] = f'{tax_id(9)},CHL, "Maule",1071,1990'  # a space before the quote
    path = write(tmp_path / "firms.csv", lines)
    for report in load_both(warehouses, path, "firms").values():
        assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (40, 35, 5)
    state = assert_same(warehouses)
    assert sorted((q[3], q[5]) for q in state["quarantine"]) == [
        (5, "too_many_fields"),
        (6, "too_few_fields"),
        (7, "oversized_line"),
        (10, "malformed_quote"),
        (11, "malformed_quote"),
    ]
    for con in warehouses.values():
        assert raw_ids_in(con, [tax_id(i) for i in range(40)]) == []
        assert "Maule, Talca" in {
            r[0] for r in con.execute("select region from raw.firms").fetchall()
        }


def test_a_record_spanning_lines_keeps_every_later_row_number(
    warehouses: dict[str, duckdb.DuckDBPyConnection],  # noqa: F811
    tmp_path: Path,
) -> None:
    for con in warehouses.values():
        load_registry(con, tmp_path)
    lines = firm_lines(10)
    lines[2] = f'{tax_id(2)},CHL,"Maule'
    lines.insert(3, 'Talca",1071,1990')
    lines[8] = "bad,CHL,Maule,1071,1700"  # founded before 1800: a row rule, line 10
    path = write(tmp_path / "firms.csv", lines)
    load_both(warehouses, path, "firms")
    state = assert_same(warehouses)
    assert sorted((q[3], q[5]) for q in state["quarantine"] if q[2] == "firms.csv") == [
        (4, "unbalanced_quote"),
        (5, "unbalanced_quote"),
        (10, "out_of_range"),
    ]


def test_a_dry_run_prints_no_raw_identifier(tmp_path: Path) -> None:
    from flows.cli import app

    lines = firm_lines(30)
    lines[10] = f'{tax_id(10)},CHL,"Maule,3312,2008'
    lines[11] = f'{tax_id(11)}",1071,1993'  # the next line's id right after the quote
    path = write(tmp_path / "firms.csv", lines)
    env = {**os.environ, "MES_EVAL_PSEUDONYM_KEY": KEY.decode()}
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            str(path),
            "--entity",
            "firms",
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--dry-run",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "30 rows in, 28 would load, 2 would be quarantined" in result.output
    assert "unbalanced_quote" in result.output
    leaked = [tax_id(i) for i in range(30) if tax_id(i) in result.output]
    assert leaked == []


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_file_of_broken_lines_only_is_refused_in_one_line(tmp_path: Path, engine: str) -> None:
    from schemas.validate import ContractError
    from warehouse.db import open_warehouse
    from warehouse.load import load_file

    # a header with semicolons, rows with commas: no row has the header's five values
    path = tmp_path / "firms.csv"
    text = "\n".join([HEADER.replace(",", ";"), *firm_lines(3)]) + "\n"
    path.write_text(text, encoding="utf-8")
    with open_warehouse(tmp_path / "w.duckdb") as con, pytest.raises(ContractError) as error:
        load_file(con, path, "firms", key=KEY, engine=engine)
    assert str(error.value) == (
        "firms.csv: no row of the file can be read; row 2: 1 values on the line, the header "
        "has 5 columns (a missing delimiter or value?) (check the delimiter and the quotes)"
    )


def test_an_identifier_shifted_into_another_column_is_quarantined_pseudonymized(
    warehouses: dict[str, duckdb.DuckDBPyConnection],  # noqa: F811
    tmp_path: Path,
) -> None:
    # a leading delimiter moves a registered firm's tax number into `year`: it fails there
    # as not a number, and stored raw it would be the one raw identifier in the warehouse
    load_both(warehouses, write(tmp_path / "firms.csv", firm_lines(30)), "firms")
    # (its last cell empty, the shifted line has one empty cell too many: a valid width)
    header = "firm_id,year,employment,sales,source"
    rows = [f"{tax_id(i)},2020,{10 + i},{1000 + i}," for i in range(30)]
    rows[4] = f",{tax_id(4)},2020,14,1004,"
    path = tmp_path / "outcomes.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    load_both(warehouses, path, "outcomes")
    state = assert_same(warehouses)
    found = [(q[5], q[6]) for q in state["quarantine"] if q[2] == "outcomes.csv" and q[3] == 6]
    assert ("not_a_number", pid(tax_id(4))) in found, found
    for con in warehouses.values():
        assert raw_ids_in(con, [tax_id(i) for i in range(30)]) == []


def test_an_oversized_line_without_quotes_and_blank_lines_alike_in_both_engines(
    warehouses: dict[str, duckdb.DuckDBPyConnection],  # noqa: F811
    tmp_path: Path,
) -> None:
    lines = firm_lines(20)
    lines[2] = f"{tax_id(2)},CHL,{'M' * (MAX_LINE_CHARS + 10)},1071,1990"
    lines.insert(5, "   ")  # white space only: no row, whatever DuckDB's reader makes of it
    lines.insert(9, f"{tax_id(9)},CHL")  # too few values
    path = write(tmp_path / "firms.csv", lines)
    reports = load_both(warehouses, path, "firms")
    assert {(r.rows_in, r.rows_quarantined) for r in reports.values()} == {(21, 2)}
    state = assert_same(warehouses)
    assert sorted((q[3], q[5]) for q in state["quarantine"]) == [
        (4, "oversized_line"),
        (11, "too_few_fields"),
    ]


@pytest.mark.parametrize(
    "garbled",
    [
        "Regi\u00c3\u00b3n".encode(),  # UTF-8 encoded twice: 'RegiÃ³n'
        b"Regi\xc3\xb3n Biob\xedo",  # UTF-8 and Windows-1252 mixed in one file
    ],
)
def test_garbled_text_is_refused_alike_by_both_engines(tmp_path: Path, garbled: bytes) -> None:
    from schemas.validate import ContractError
    from warehouse.db import open_warehouse
    from warehouse.load import load_file

    path = tmp_path / "firms.csv"
    body = "\n".join([HEADER, *firm_lines(5)]).encode() + b"\nX1,CHL," + garbled + b",1071,1990\n"
    path.write_bytes(body)
    messages = []
    for engine in ("pandas", "duckdb"):
        with (
            open_warehouse(tmp_path / f"{engine}.duckdb") as con,
            pytest.raises(ContractError) as e,
        ):
            load_file(con, path, "firms", key=KEY, engine=engine)
        messages.append(str(e.value))
    assert messages[0] == messages[1] and "line 7 reads" in messages[0]
