"""Bulk CSV loads (warehouse.bulk) give what the pandas path (warehouse.load) gives.

Every test loads the same files with `bulk_load_csv` into one fresh warehouse and with
`load_file` into another, and compares raw tables (contract columns, `_row_number`,
supersession), quarantine (row, column, rule, value, reason) and meta.loads.
"""

from __future__ import annotations

import csv
import functools
import itertools
import random
import re
import sys
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing.pandas import Series

from schemas.contract import ENTITIES, Entity
from schemas.validate import ContractError
from warehouse import bulk
from warehouse.bulk import BulkUnsupported, bulk_load_csv, compile_contract
from warehouse.db import open_warehouse, quote_ident
from warehouse.extras import raw_extra_columns
from warehouse.load import load_file

from .conftest import write_csv
from .test_warehouse import KEY, OUTCOME_HEADER, load_registry, outcome_row, pid

# the reference is the pandas path, named: "auto" would send a large file to the bulk path
LOADERS = {"pandas": functools.partial(load_file, engine="pandas"), "bulk": bulk_load_csv}


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a load writes, comparable across warehouses (load ids become sequences)."""
    seq = "(select sequence from meta.loads as l where l.load_id = {})"
    out = {}
    extras = raw_extra_columns(con)  # agency-declared extra columns, in declaration order
    for entity, spec in ENTITIES.items():
        names = [*spec.schema.columns, *extras.get(entity, {})]
        columns = ", ".join(quote_ident(c) for c in names)
        out[entity] = con.execute(
            f"select {columns}, _row_number, {seq.format('_load_id')}, "
            f"{seq.format('_superseded_by')} from raw.{quote_ident(entity)} order by all"
        ).fetchall()
    quarantine = con.execute(
        f"select {seq.format('q.load_id')}, entity, source_file, row_number, column_name, rule, "
        "value, reason from meta.quarantine as q"
    ).fetchall()
    # the pandas path writes an integer out of range as "1899.0" when every failure of
    # its pandera pass is a number (pandas upcasts the column of failure cases)
    out["quarantine"] = sorted(
        (tuple(_integral(v) if i == 6 else v for i, v in enumerate(r)) for r in quarantine),
        key=repr,
    )
    out["loads"] = con.execute(
        "select sequence, entity, source_file, content_sha256, rows_in, rows_loaded, "
        "rows_quarantined, rows_superseded, extra_columns, key_fingerprint from meta.loads "
        "order by sequence"
    ).fetchall()
    out["extra_columns"] = con.execute(
        f"select entity, column_name, kind, staging_name, {seq.format('declared_in_load_id')} "
        "from meta.extra_columns order by all"
    ).fetchall()
    return out


def _integral(value: str | None) -> str | None:
    return re.sub(r"^(-?\d+)\.0$", r"\1", value) if value else value


@pytest.fixture
def warehouses(tmp_path: Path) -> Any:
    """Two fresh warehouses: one loaded by load_file, one by bulk_load_csv."""
    with (
        open_warehouse(tmp_path / "pandas.duckdb") as pandas_con,
        open_warehouse(tmp_path / "bulk.duckdb") as bulk_con,
    ):
        yield {"pandas": pandas_con, "bulk": bulk_con}


def load_both(warehouses: dict[str, Any], path: Path, entity: str, **kw: Any) -> dict[str, Any]:
    return {
        name: LOADERS[name](con, path, entity, key=KEY, **kw) for name, con in warehouses.items()
    }


def assert_same(warehouses: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    pandas_side, bulk_side = (snapshot(warehouses[n]) for n in ("pandas", "bulk"))
    for part in pandas_side:
        assert bulk_side[part] == pandas_side[part], part
    return bulk_side


def test_the_demo_portfolio_loads_identically(warehouses: dict[str, Any], tmp_path: Path) -> None:
    from evaluation.synthetic import generate_demo
    from flows.demo_files import write_demo_files

    data = generate_demo(n_firms=1500)
    paths = write_demo_files(data, tmp_path / "demo")
    # participations is a workbook in the demo: the same rows as CSV for both loaders
    paths["participations"] = tmp_path / "demo" / "participations.csv"
    data.tables["participations"].to_csv(
        paths["participations"], index=False, date_format="%Y-%m-%d"
    )
    for entity in ENTITIES:
        reports = load_both(warehouses, paths[entity], entity)
        pandas_report, bulk_report = reports["pandas"], reports["bulk"]
        assert (bulk_report.rows_in, bulk_report.rows_loaded, bulk_report.rows_quarantined) == (
            pandas_report.rows_in,
            pandas_report.rows_loaded,
            pandas_report.rows_quarantined,
        ), entity
    state = assert_same(warehouses)
    # every planted invalid row is quarantined (row = 0-based position + header + 1)
    quarantined = {(q[1], q[3]) for q in state["quarantine"]}
    planted = {(r.entity, r.row + 2) for r in data.planted_invalid.itertuples()}
    assert planted <= quarantined
    assert sum(1 for q in state["quarantine"] if q[1] == "outcomes") > 0.004 * len(
        state["outcomes"]
    )


def test_every_rule_kind(warehouses: dict[str, Any], tmp_path: Path) -> None:
    for con in warehouses.values():
        load_registry(con, tmp_path)
    participations = list(ENTITIES["participations"].schema.columns)
    rows = [
        ["F1", "P1", "audit", "2020-03-01", "2020-09-01", "1000", "10"],
        ["F1", "P1", "audit", "2020-03-01 00:00:00", None, "1000", None],  # duplicate key
        ["F2", "P1", "audit", "2021-02-30", None, "1000", None],  # not_a_date
        ["F2", "P1", "audit", "2021-03-01", "2021-01-01", "1000", None],  # end_before_start
        ["F2", "P9", "audit", "2021-03-01", None, "1000", None],  # unknown_program
        ["F9", "P1", "audit", "2021-04-01", None, "1000", None],  # unknown_firm
        ["F3", "P1", "audit", "2010-04-01", None, "1000", None],  # outside_program_life
        ["F3", "P1", None, "2021-05-01", None, "-5", "abc"],  # out_of_range, not_a_number
        ["F3", None, "audit", "2021-06-01", None, "5", None],  # missing_value
        ["F2", "P1", "training", "2021", "2021-06", "5_000", "+7"],  # odd but valid
    ]
    load_both(warehouses, write_csv(tmp_path / "p.csv", participations, rows), "participations")
    comparison = [["F2", "P1", "1", "registry", None], ["F3", "P1", "1", "registry", "2020-07-01"]]
    comparison += [["F3", "P1", "2", "survey?", None], ["F3", "P1", "0", "survey", None]]
    header = list(ENTITIES["comparison_sample"].schema.columns)
    load_both(warehouses, write_csv(tmp_path / "c.csv", header, comparison), "comparison_sample")
    outcomes = [
        outcome_row("F1", 2020, 100),
        ["F2", 2020, 10, 100, 50, 120, 40, 0, 0, 1],  # exports_above_sales
        ["F3", 2020, 10, 100, 50, 0, 140, 0, 0, 1],  # value_added_above_sales
        ["F3", "2021.0", 10, "n/d", 50, 0, 40, 0, 0, 1],  # not_a_number twice
        ["F3", 1899, -1, 100, 50, 0, 40, 0, 0, 1],  # out_of_range twice
    ]
    load_both(warehouses, write_csv(tmp_path / "o.csv", OUTCOME_HEADER, outcomes), "outcomes")
    firms = [["F7", "Chile", None, "1071", None], ["F8", "CHL", None, "10711", "1700"]]
    header = list(ENTITIES["firms"].schema.columns)
    load_both(warehouses, write_csv(tmp_path / "f.csv", header, firms), "firms")
    programs = [
        [
            "P2",
            "A",
            "CHL",
            "Two",
            "growth",
            "loan",
            "CLP",
            "2015",
            None,
            None,
            None,
            None,
            None,
            None,
        ]
    ]
    header = list(ENTITIES["programs"].schema.columns)
    load_both(warehouses, write_csv(tmp_path / "g.csv", header, programs), "programs")
    state = assert_same(warehouses)
    rules = {q[5] for q in state["quarantine"]}
    assert rules >= {
        "not_a_number",
        "not_a_date",
        "missing_value",
        "out_of_range",
        "not_allowed",
        "bad_format",
        "duplicate_key",
        "end_before_start",
        "unknown_firm",
        "unknown_program",
        "outside_program_life",
        "comparison_is_beneficiary",
        "exports_above_sales",
        "value_added_above_sales",
    }
    assert (pid("F2"), 5000.0, 7.0) in [(r[0], r[5], r[6]) for r in state["participations"]]


# cells that test the parsing: numbers Python reads and DuckDB does not (or reads
# differently), dates ISO 8601 accepts, whitespace, missing values
PALETTE = {
    "int": [
        "2020",
        "2021",
        " 2020",
        "+2020",
        "2_020",
        "2020.0",
        "1e3",
        "abc",
        "",
        " ",
        "nan",
        "1899",
        "2101",
        "0012",
        "-5",
        "١٢",
        "99999999999999999999",
        "0",
    ],
    "float": [
        "1",
        "2.5",
        "-1",
        "0",
        "-0",
        "n/d",
        "",
        "nan",
        "inf",
        "-inf",
        "1e400",
        "1_000",
        "+-1",
        " 3 ",
        "1,5",
        "١",
        "0x10",
        "1e-400",
        "5e2",
        ".",
    ],
    "date": [
        "2020-03-01",
        "2020-03-01 10:00",
        "2021-01-01",
        "2019-12-31",
        "20200301",
        "2020-02-30",
        "bad",
        "",
        "2020-03-01T00:00:00.000000001",
        "2020",
        "2015-06-01",
    ],
    "str": [
        "registry",
        "survey",
        "CHL",
        "chl",
        "",
        "  ",
        "P1",
        "productivity",
        "loan",
        "1234",
        "١٢٣٤",
        "x\u00a0",
        "tax",
    ],
}
SPECIAL = {
    "firm_id": ["F1", "F2", "F3", "F9", " F1 ", "f-1", "", "F2"],
    "program_id": ["P1", "P1", "P9", "", " P1"],
    "country": ["CHL", "CHL", "chl", "", "PER"],
}


@pytest.mark.parametrize("seed", range(3))
def test_random_files_with_odd_cells(warehouses: dict[str, Any], tmp_path: Path, seed: int) -> None:
    for con in warehouses.values():
        load_registry(con, tmp_path)
    rng = random.Random(seed)
    for entity in ["macro", "outcomes", "participations", "comparison_sample", "program_budgets"]:
        kinds = {c.name: c.kind for c in compile_contract(entity).columns}
        header = list(kinds)
        rows = [
            [rng.choice(SPECIAL.get(name) or PALETTE[kinds[name].lower()]) for name in header]
            for _ in range(rng.randint(5, 40))
        ]
        path = tmp_path / f"{entity}_{seed}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
        load_both(warehouses, path, entity)
    assert_same(warehouses)


def test_declared_extra_columns_load_identically(
    warehouses: dict[str, Any], tmp_path: Path
) -> None:
    """Agency-declared extra columns (schemas.extras) with odd cells, an undeclared column,
    a later file without the extras and a correction: same raw rows, quarantine, loads."""
    for con in warehouses.values():
        load_registry(con, tmp_path)
    rng = random.Random(7)
    declared = {
        "firms": {"female_owned": "number", "employees_2010": "integer", "cluster": "text"},
        "outcomes": {
            "new_products": "integer",
            "certified_iso9001": "number",
            "sales_abroad": "money",
            "channel": "text",
        },
    }
    valid = {  # contract cells that pass, so the rows stand or fall by their extras
        "firms": lambda i: [f"G{i}", "CHL", "Maule", "1071", "1990"],
        "outcomes": lambda i: [f"G{i}", "2020", "10", "100", "50", "0", "40", "0", "0", "1"],
    }
    for entity, extras in declared.items():
        kinds = {c.name: c.kind.lower() for c in compile_contract(entity, extras).columns}
        contract = list(ENTITIES[entity].schema.columns)[: len(valid[entity](0))]
        header = [*contract, *extras, "undeclared"]
        rows = [
            [*valid[entity](i), *(rng.choice(PALETTE[kinds[n]]) for n in extras), "x"]
            for i in range(40)
        ]
        path = tmp_path / f"{entity}_extras.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
        reports = load_both(warehouses, path, entity, extra_columns=extras)
        # the odd cells are caught, the rest loads
        assert 0 < reports["bulk"].rows_quarantined < reports["bulk"].rows_in, entity
    # a later submission without the extras, then a correction with one of them
    plain = write_csv(
        tmp_path / "plain.csv",
        OUTCOME_HEADER,
        [outcome_row("G1", 2020, 5), outcome_row("G2", 2021, 6)],
    )
    load_both(warehouses, plain, "outcomes")
    correction = write_csv(
        tmp_path / "correction.csv",
        [*OUTCOME_HEADER, "new_products"],
        [[*outcome_row("G1", 2020, 7), "4"], [*outcome_row("G3", 2020, 7), "1.5"]],
    )
    load_both(warehouses, correction, "outcomes", extra_columns={"new_products": "integer"})
    state = assert_same(warehouses)
    assert {r[1] for r in state["extra_columns"]} == {*declared["firms"], *declared["outcomes"]}
    assert any(q[4] == "new_products" and q[5] == "not_a_number" for q in state["quarantine"])
    assert any(q[4] == "female_owned" and q[5] == "not_a_number" for q in state["quarantine"])


def test_reload_is_skipped_and_a_correction_supersedes(
    warehouses: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for con in warehouses.values():
        load_registry(con, tmp_path)
    first = write_csv(
        tmp_path / "outcomes_2021.csv",
        OUTCOME_HEADER,
        [outcome_row("F1", 2020, 100), outcome_row("F1", 2021, 110), outcome_row("F2", 2020, 50)],
    )
    load_both(warehouses, first, "outcomes")
    with monkeypatch.context() as patch:  # a file of a known name: skipped before any scan
        patch.setattr(bulk._BulkLoad, "run", lambda *a, **k: pytest.fail("scanned"))
        again = load_both(warehouses, first, "outcomes")["bulk"]
    assert again.skipped and again.load_id is None and again.rows_loaded == 3
    renamed = first.with_name("same_content.csv")
    renamed.write_bytes(first.read_bytes())  # a new name: scanned, then skipped by its hash
    assert bulk_load_csv(warehouses["bulk"], renamed, "outcomes", key=KEY).skipped
    correction = write_csv(
        tmp_path / "outcomes_2021_corrected.csv",
        OUTCOME_HEADER,
        [outcome_row("F1", 2021, 111), outcome_row("F3", 2020, 70)],
    )
    report = load_both(warehouses, correction, "outcomes")["bulk"]
    assert report.rows_superseded == 1
    state = assert_same(warehouses)
    current = sorted((r[0], r[1], r[3]) for r in state["outcomes"] if r[-1] is None)
    assert current == sorted(
        [
            (pid("F1"), 2020, 100.0),
            (pid("F1"), 2021, 111.0),
            (pid("F2"), 2020, 50.0),
            (pid("F3"), 2020, 70.0),
        ]
    )
    assert len(state["outcomes"]) == 5  # the superseded row is kept


def test_file_layouts_and_row_numbers(warehouses: dict[str, Any], tmp_path: Path) -> None:
    """Blank lines, line breaks in quotes, Excel's sep= line, BOM, CRLF, Windows-1252,
    semicolons, extra and missing optional columns, blank rows: same rows, same numbers."""
    for con in warehouses.values():
        load_registry(con, tmp_path)
    head = ",".join([*OUTCOME_HEADER, "note"])
    files = {
        "blank_lines.csv": f"\n{head}\nF1,2020,1,2,1,0,1,0,0,1,x\n\nF2,2020,-1,2,1,0,1,0,0,1,\n\n\n"
        "F3,2020,n/d,2,1,0,1,0,0,1,y\n\n",
        "quoted.csv": f'{head}\nF1,2021,1,2,1,0,1,0,0,1,"two\nlines"\nF2,2021,-1,2,1,0,1,0,0,1,z\n'
        'F3,2021,1,2,1,0,1,0,0,1,"a, b"\n',
        "blank_rows.csv": f"{head}\n,,,,,,,,,,\n  , ,,,,,,,,,\nF1,2022,1,2,1,0,1,0,0,1,\n"
        ",,,,,,,,,,only a note\nF2,2022,x,2,1,0,1,0,0,1,\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8", newline="")
        load_both(warehouses, tmp_path / name, "outcomes")
    excel = (
        "firm_id;country;region;isic4;founded_year\r\nF10;CHL;;1071;1999\r\nF11;CHL;;1071;1890\r\n"
    )
    (tmp_path / "excel.csv").write_bytes(b"\xef\xbb\xbfsep=;\r\n" + excel.encode("utf-8"))
    load_both(warehouses, tmp_path / "excel.csv", "firms")
    (tmp_path / "cp1252.csv").write_bytes(
        "firm_id;country;region;isic4;founded_year\nF5;CHL;Biobío;1071;\nF6;CHL;Ñuble;25x1;1990\n"
        "F7;PER;Región €;2511;\n".encode("cp1252")
    )
    load_both(warehouses, tmp_path / "cp1252.csv", "firms")
    state = assert_same(warehouses)
    numbers: dict[str, list[int]] = {}
    for q in state["quarantine"]:
        numbers.setdefault(q[2], []).append(q[3])
    assert sorted(numbers["blank_lines.csv"]) == [5, 8]  # blank lines keep their numbers
    # a record over two lines is set aside as its two lines (2, 3); F2 is line 4
    assert sorted(numbers["quoted.csv"]) == [2, 3, 4]
    assert "Región €" in [r[2] for r in state["firms"]]
    assert numbers["excel.csv"] == [3]  # the sep= line is not a row


def test_row_numbers_in_file_order_across_parallel_buffers(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small read buffers make DuckDB read the file in many pieces, in parallel: the row
    numbers must still be the file's."""
    monkeypatch.setattr(bulk, "CSV_BUFFER_SIZE", 1 << 16)
    firms = [[f"F{i}", "CHL", None, "1071", None] for i in range(600)]
    header = list(ENTITIES["firms"].schema.columns)
    bulk_load_csv(fresh_db, write_csv(tmp_path / "firms.csv", header, firms), "firms", key=KEY)
    n = 60_000
    lines = [",".join(OUTCOME_HEADER)]
    for i in range(n):  # capital holds the row's own position; every 997th row is bad
        sales = "n/d" if i % 997 == 0 else str(100 + i % 50)
        lines.append(f"F{i % 600},{2000 + i // 600},1,{sales},1,0,1,0,0,{i}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = bulk_load_csv(fresh_db, path, "outcomes", key=KEY, threads=2)
    assert report.rows_quarantined == len(range(0, n, 997))
    bad = fresh_db.execute(
        "select row_number from meta.quarantine where entity = 'outcomes' order by 1"
    ).fetchall()
    assert [r[0] for r in bad] == [i + 2 for i in range(0, n, 997)]
    misplaced = fresh_db.execute(
        "select count(*) from raw.outcomes where capital != _row_number - 2"
    ).fetchall()
    assert misplaced == [(0,)]


def test_errors_are_the_pandas_paths(warehouses: dict[str, Any], tmp_path: Path) -> None:
    missing = write_csv(tmp_path / "o.csv", ["firm_id", "yaer", "sales"], [["F1", 2020, 1]])
    messages = []
    for name, con in warehouses.items():
        with pytest.raises(ContractError) as error:
            LOADERS[name](con, missing, "outcomes", key=KEY)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert "missing required column 'year' for outcomes (found 'yaer': misspelt?)" in messages[1]
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ContractError, match="the file is empty"):
        bulk_load_csv(warehouses["bulk"], empty, "outcomes", key=KEY)
    with pytest.raises(ContractError, match="file not found"):
        bulk_load_csv(warehouses["bulk"], tmp_path / "none.csv", "outcomes", key=KEY)


def test_a_failed_load_leaves_nothing_and_settings_are_restored(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_registry(fresh_db, tmp_path)
    setting = "select current_setting('memory_limit'), current_setting('preserve_insertion_order')"
    before = fresh_db.execute(setting).fetchall()
    loads = fresh_db.execute("select count(*) from meta.loads").fetchall()

    def broken_record(*args: object) -> None:  # fails after the rows' inserts, before COMMIT
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "record_load", broken_record)
    path = write_csv(tmp_path / "o.csv", OUTCOME_HEADER, [outcome_row("F1", 2020, 1)])
    with pytest.raises(RuntimeError, match="disk full"):
        bulk_load_csv(fresh_db, path, "outcomes", key=KEY, memory_limit="1GB")
    assert fresh_db.execute("select count(*) from raw.outcomes").fetchall() == [(0,)]
    assert fresh_db.execute("select count(*) from meta.loads").fetchall() == loads
    assert fresh_db.execute(setting).fetchall() == before
    temp = fresh_db.execute("select count(*) from duckdb_tables() where temporary").fetchall()
    assert temp == [(0,)]


def test_the_sql_is_compiled_from_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    from schemas.contract import PILLARS

    plan = compile_contract("programs")
    (pillar,) = plan.column("pillar").checks
    assert pillar.rule == "not_allowed" and pillar.args == (PILLARS,)
    assert [u.columns for u in compile_contract("outcomes").unique] == [("firm_id", "year")]
    assert compile_contract("participations").row_checks[0].rule == "end_before_start"
    assert plan.column("start_year").kind == "int" and plan.column("end_year").kind == "Int"

    class Odd(pa.DataFrameModel):
        code: Series[str] = pa.Field(str_matches=r"^\w+$")

    monkeypatch.setitem(ENTITIES, "macro", Entity("macro", Odd, ("code",)))  # type: ignore[arg-type]
    with pytest.raises(BulkUnsupported, match="pattern"):
        compile_contract("macro")


def test_sql_reads_numbers_as_python_does() -> None:
    """The fast path's rule: a finite DuckDB DOUBLE cast of text without "+-" is Python's
    float of that text. Checked on every text of up to 3 characters of this alphabet."""
    alphabet = "09.+-eE_ xin\u00a0"
    texts = ["".join(p) for n in range(1, 4) for p in itertools.product(alphabet, repeat=n)]
    con = duckdb.connect()
    con.register("texts", pd.DataFrame({"s": texts}))
    cast = con.execute(
        "select s, try_cast(s as double) from texts where not contains(s, '+-') "
        "and isfinite(try_cast(s as double))"
    ).fetchall()
    for text, value in cast:
        assert float(text) == value, text
    python_whitespace = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert python_whitespace == bulk._WS


def test_files_with_only_the_required_columns_load_identically(
    warehouses: dict[str, Any], tmp_path: Path
) -> None:
    """Optional means optional: every column that may be empty may also be absent (a
    register with sales and employment only, beneficiary records without end dates); it
    loads empty, and the cross-entity rules that read it see it empty."""
    from schemas.contract import ENTITIES

    files = {
        "programs": "program_id,agency,country,name,pillar,instrument,currency,start_year\n"
        "P,A,CHL,Prog,productivity,voucher,CLP,2015\n",
        "firms": "firm_id,country,isic4\nf1,CHL,1010\nf2,CHL,2511\n",
        "participations": "firm_id,program_id,start_date,public_cost\nf1,P,2016-03-01,1000\n",
        "comparison_sample": "firm_id,program_id,wave,source\nf2,P,1,registry\n",
        "outcomes": "firm_id,year,sales,employment\nf1,2015,100,3\nf1,2016,120,3\nf2,2015,90,2\n",
    }
    for entity, text in files.items():
        header = text.splitlines()[0].split(",")
        required = [n for n, c in ENTITIES[entity].schema.columns.items() if c.required]
        assert set(required) <= set(header)  # the files hold the required columns only
        path = tmp_path / f"{entity}.csv"
        path.write_text(text, encoding="utf-8")
        reports = load_both(warehouses, path, entity)
        assert {r.rows_quarantined for r in reports.values()} == {0}, entity
    tables = assert_same(warehouses)
    assert len(tables["outcomes"]) == 3 and len(tables["participations"]) == 1
