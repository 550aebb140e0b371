"""Data Docs of each submission as received: quarantine records and the submission suite.

Each quarantined row keeps its whole record as submitted (`meta.quarantine.record`,
migration 020), filled alike by both load engines with identifiers pseudonymized; the
`<entity>_latest_submission` suite validates the loaded rows together with those records,
so it fails where the agency's file did, while the current-rows suite passes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from schemas.contract import ENTITIES
from schemas.expectations import validate_warehouse
from schemas.pseudonym import pseudonym
from warehouse.db import open_warehouse
from warehouse.load import load_file

from .browser import render
from .conftest import write_csv

KEY = b"a test key of sufficient length"
OUTCOMES = list(ENTITIES["outcomes"].schema.columns)
FIRMS = [f"76.100.{i:03d}-{i % 10}" for i in range(20)]  # raw tax numbers
UNKNOWN = "99.999.999-9"


def outcome(firm: str, year: int, **values: object) -> list[object]:
    """A full outcomes row, plausible unless `values` say otherwise."""
    row: dict[str, object] = {
        "firm_id": firm,
        "year": year,
        "employment": 10,
        "sales": 1000,
        "wage_bill": 100,
        "exports": 0,
        "value_added": 400,
        "rd_spend": 0,
        "training_spend": 0,
        "capital": 50,
        "source": "registry",
        "wave": None,
    }
    row.update(values)
    return [row[c] for c in OUTCOMES]


# planted rows (row number as a spreadsheet shows it: 20 clean rows on rows 2-21)
PLANTED = [
    outcome(FIRMS[0], 2020, sales="n/d"),  # 22: not a number
    outcome(FIRMS[1], 2020),  # 23 and 24: a duplicate key
    outcome(FIRMS[1], 2020),
    outcome(FIRMS[2], 2020, sales=100, exports=500, value_added=50),  # 25: exports > sales
    outcome(UNKNOWN, 2021),  # 26: a firm not in the registry
    outcome(FIRMS[3], 2020, employment=-5),  # 27: out of range
    outcome(FIRMS[4], 2020, capital=FIRMS[5]),  # 28: a tax number in the wrong column
]


def load_files(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    engine: str = "pandas",
    extra: list | None = None,
) -> None:
    """The firms registry, then an outcomes file of 20 clean rows and the planted ones."""
    firms: list[list[object]] = [[f, "CHL", None, "1071", 1990] for f in FIRMS]
    header = ["firm_id", "country", "region", "isic4", "founded_year"]
    load_file(con, write_csv(tmp_path / "firms.csv", header, firms), "firms", key=KEY)
    rows = [outcome(f, 2021, employment=10 + i) for i, f in enumerate(FIRMS)] + PLANTED
    path = write_csv(tmp_path / "outcomes.csv", OUTCOMES, rows + (extra or []))
    load_file(con, path, "outcomes", key=KEY, engine=engine)


def test_the_submission_suite_fails_where_the_file_did_and_current_rows_pass(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_files(fresh_db, tmp_path)
    run = validate_warehouse(fresh_db, entities=["outcomes"], docs_dir=tmp_path / "docs")
    results = run.results
    current = results[results["batch"] == "current_rows"]
    submitted = results[results["batch"] == "latest_submission"]
    assert current["success"].all() and results["exception"].isna().all()
    failed = submitted[~submitted["success"]]
    found = dict(
        zip(
            zip(failed["expectation"], failed["column_name"], strict=True),
            failed["unexpected_count"],
            strict=True,
        )
    )
    assert found == {
        ("expect_column_values_to_be_null", "unparsed_sales"): 1,
        ("expect_column_values_to_be_null", "unparsed_capital"): 1,
        ("expect_compound_columns_to_be_unique", "firm_id, year"): 2,
        ("expect_column_pair_values_a_to_be_greater_than_b", "sales, exports"): 1,
        ("expect_column_values_to_be_null", "quarantined_as_exports_above_sales"): 1,
        ("expect_column_values_to_be_null", "quarantined_as_unknown_firm"): 1,
        ("expect_column_values_to_be_between", "employment"): 1,
    }
    # every loaded row and every quarantined one: 20 + 7
    assert set(submitted["rows_validated"]) == {27} and set(current["rows_validated"]) == {20}
    # the suite holds the current-rows suite's expectations, and more
    assert set(zip(current["expectation"], current["column_name"], strict=True)) < set(
        zip(submitted["expectation"], submitted["column_name"], strict=True)
    )
    # the Data Docs page of the submission shows the failures with examples
    pages = list((tmp_path / "docs").glob("validations/outcomes_latest_submission/**/*.html"))
    assert len(pages) == 1
    html = pages[0].read_text(encoding="utf-8")
    assert "unparsed_sales" in html and "n/d" in html
    assert pseudonym(FIRMS[5], KEY) in html and FIRMS[5] not in html
    assert "static/offline/datadocs.css" in html


def test_the_row_count_of_the_latest_load_stays_an_expectation(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_files(fresh_db, tmp_path)
    rows = [outcome(f, 2022) for f in FIRMS[:5]]  # a new year from 5 firms of 20
    load_file(fresh_db, write_csv(tmp_path / "o2022.csv", OUTCOMES, rows), "outcomes", key=KEY)
    results = validate_warehouse(fresh_db, entities=["outcomes"]).results
    count = results[results["dimension"] == "row_count"]
    assert count[count["batch"] == "current_rows"]["success"].all()  # not empty
    failed = count[~count["success"]]
    assert list(failed["batch"]) == ["latest_submission"]
    assert json.loads(failed["observed_value"].iloc[0]) == 5  # of 20 before
    assert json.loads(failed["parameters"].iloc[0])["min_value"] == 10


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_quarantined_rows_keep_their_record_with_pseudonymized_ids(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path, engine: str
) -> None:
    long_text = "x" * 300
    broken = outcome(FIRMS[6], 2019, source='"registry')  # a stray quote: set aside
    extra = [outcome(FIRMS[7], 2020, employment=long_text), broken]  # rows 29 and 30
    load_files(fresh_db, tmp_path, engine, extra)
    rows = fresh_db.execute(
        "select row_number, rule, record::varchar from meta.quarantine "
        "where entity = 'outcomes' order by row_number, rule"
    ).fetchall()
    records = {r[0]: r[2] for r in rows}
    assert sorted(records) == list(range(22, 31))
    assert records[30] is None  # a broken line has no cells to key
    assert {r[1] for r in rows if r[0] == 30} == {"unbalanced_quote"}
    parsed = {n: json.loads(t) for n, t in records.items() if t is not None}
    assert all(list(r) == OUTCOMES for r in parsed.values())
    assert parsed[22]["sales"] == "n/d" and parsed[22]["wave"] is None
    assert parsed[26]["firm_id"] == pseudonym(UNKNOWN, KEY)
    assert parsed[28]["capital"] == pseudonym(FIRMS[5], KEY)  # as its value column shows it
    assert parsed[29]["employment"] == long_text[:199] + "…"
    assert parsed[27]["employment"] == "-5" and parsed[25]["exports"] == "500"
    # every record of a row is the same; no raw tax number anywhere
    assert len({(r[0], r[2]) for r in rows}) == len(records)
    text = " ".join(t for t in records.values() if t is not None)
    assert not [f for f in [*FIRMS, UNKNOWN] if f in text]


def test_both_engines_write_the_same_records(tmp_path: Path) -> None:
    found = {}
    for engine in ("pandas", "duckdb"):
        root = tmp_path / engine
        root.mkdir()
        with open_warehouse(root / "warehouse.duckdb") as con:
            load_files(con, root, engine)
            found[engine] = con.execute(
                "select row_number, rule, value, record::varchar from meta.quarantine order by all"
            ).fetchall()
    assert found["pandas"] == found["duckdb"] and len(found["pandas"]) == 7


@pytest.mark.e2e
def test_the_demo_data_docs_show_the_failing_outcomes_submission(demo: Path) -> None:
    """The demo plants duplicate outcome rows and bad values: its outcomes submission
    page, opened offline in a real browser, shows the failed expectations with their
    counts and examples, which match what was planted; the current rows pass."""
    planted = pd.read_csv(demo / "data" / "planted_invalid.csv").query("entity == 'outcomes'")
    kinds = planted["kind"].value_counts()
    with duckdb.connect(str(demo / "warehouse.duckdb"), read_only=True) as con:
        results = con.execute(
            "select suite, column_name, success, unexpected_count from meta.expectation_results"
        ).df()
    outcomes = results[results["suite"] == "outcomes"]
    assert len(outcomes) and outcomes["success"].all()
    failed = results[(results["suite"] == "outcomes_latest_submission") & ~results["success"]]
    count = dict(zip(failed["column_name"], failed["unexpected_count"], strict=True))
    assert count["firm_id, year"] == kinds["duplicate_key"]  # every row of a duplicated key
    assert count["quarantined_as_unknown_firm"] == kinds["unknown_firm"]
    unparsed = sum(n for c, n in count.items() if c.startswith("unparsed_"))
    assert unparsed == kinds["not_a_number"]

    pages = sorted((demo / "data_docs").glob("validations/outcomes_latest_submission/**/*.html"))
    assert len(pages) == 1
    dom, log = render(pages[0])
    assert 'data-offline-styles="applied"' in dom
    errors = [line for line in log.splitlines() if ":CONSOLE" in line or "net::ERR" in line]
    assert errors == []
    text = " ".join(re.sub(r"<[^>]+>", " ", dom).split())
    shown = (
        f"must be unique together: firm_id , year {kinds['duplicate_key']} unexpected values found"
    )
    assert shown in text
    assert "Sampled Unexpected Values" in text and "unparsed_sales" in text
