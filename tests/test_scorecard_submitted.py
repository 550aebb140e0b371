"""The scorecard counts the submitted rows: rows loaded plus rows quarantined.

A small synthetic warehouse (every entity of the demo generator, its planted invalid rows
included) is built once per module; each test works on a copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse.db import open_warehouse
from warehouse.load import load_file
from warehouse.quality import compute_scorecard

from .test_quality import KEY, Base, loaded_demo

N_DUPLICATED_KEYS = 4  # firm-years sent twice in the planted re-submission


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return loaded_demo(tmp_path_factory.mktemp("scorecard-submitted"), 500, engine="pandas")


@pytest.fixture
def con(base: Base, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(base.path, tmp_path / "warehouse.duckdb")
    with open_warehouse(tmp_path / "warehouse.duckdb") as connection:
        yield connection


def figure(scorecard: pd.DataFrame, dimension: str, grain: str = "entity", load_id=None):  # type: ignore[no-untyped-def]
    """(numerator, denominator, value) of the outcomes' whole-entity figure."""
    rows = scorecard[
        (scorecard["entity"] == "outcomes")
        & (scorecard["dimension"] == dimension)
        & (scorecard["grain"] == grain)
        & scorecard["detail"].isna()
    ]
    if load_id is not None:
        rows = rows[rows["load_id"] == load_id]
    assert len(rows) == 1, rows
    row = rows.iloc[0]
    return row["numerator"], row["denominator"], row["value"]


def test_demo_uniqueness_counts_the_quarantined_duplicates(
    base: Base, con: duckdb.DuckDBPyConnection
) -> None:
    scorecard = compute_scorecard(con, "run-demo")
    numerator, denominator, value = figure(scorecard, "uniqueness")
    planted = base.data.planted_invalid
    duplicated = int((planted.query("entity == 'outcomes'")["kind"] == "duplicate_key").sum())
    assert duplicated > 0
    submitted = len(base.data.tables["outcomes"])  # one load: every row of the file
    assert denominator == submitted
    assert numerator == submitted - duplicated
    assert value < 1
    # validity: rows loaded / rows submitted; completeness over the same rows
    loaded = con.sql("select count(*) from raw.outcomes").fetchall()[0][0]
    assert figure(scorecard, "validity")[:2] == (loaded, submitted)
    assert figure(scorecard, "completeness")[1] == submitted * 2  # firm_id and year


def test_planted_duplicates_give_the_hand_counted_uniqueness(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # a re-submission of the same file name: only its quarantine stands afterwards
    outcomes = base.data.tables["outcomes"]
    bad = base.data.planted_invalid.query("entity == 'outcomes'")["row"].to_numpy()
    clean = outcomes.drop(index=outcomes.index[bad]).reset_index(drop=True)
    twins = clean.iloc[[3, 40, 80, 120]].assign(sales=lambda f: f["sales"] * 2)
    missing = clean.iloc[[200]].assign(year=None)  # a required value missing
    frame = pd.concat([clean, twins, missing], ignore_index=True)
    frame["year"] = frame["year"].astype("Int64")  # whole years in the file, one empty
    (tmp_path / "again").mkdir()
    frame.to_csv(tmp_path / "again" / "outcomes.csv", index=False)
    report = load_file(con, tmp_path / "again" / "outcomes.csv", "outcomes", key=KEY)

    duplicated = int(frame.duplicated(["firm_id", "year"], keep=False).sum())  # by hand
    assert duplicated == 2 * N_DUPLICATED_KEYS
    submitted = len(frame)
    assert report.rows_in == submitted

    scorecard = compute_scorecard(con, "run-dup")
    numerator, denominator, value = figure(scorecard, "uniqueness")
    assert (numerator, denominator) == (submitted - duplicated, submitted)
    assert value == pytest.approx(1 - duplicated / submitted) and value < 1
    # the load's own figure is the same; the superseded first load's quarantine is not counted
    assert figure(scorecard, "uniqueness", "submission", report.load_id)[:2] == (
        submitted - duplicated,
        submitted,
    )
    # completeness: the quarantined missing year is one missing cell of 2 x submitted
    numerator, denominator, _ = figure(scorecard, "completeness")
    assert (numerator, denominator) == (2 * submitted - 1, 2 * submitted)
    numerator, denominator, _ = figure(scorecard, "validity")
    assert (numerator, denominator) == (submitted - duplicated - 1, submitted)

    # a row the agency itself left out is neither submitted nor failing
    row = int(
        con.execute(
            "select min(row_number) from meta.quarantine where load_id = ? "
            "and rule = 'duplicate_key'",
            [report.load_id],
        ).fetchall()[0][0]
    )
    con.execute(
        "insert into meta.quarantine by name select ? as load_id, 'outcomes' as entity, "
        "'outcomes.csv' as source_file, ? as row_number, 'dropped_by_decision' as rule, "
        "'left out by the agency' as reason",
        [report.load_id, row],
    )
    scorecard = compute_scorecard(con, "run-drop")
    assert figure(scorecard, "uniqueness")[:2] == (submitted - duplicated, submitted - 1)
    assert figure(scorecard, "validity")[:2] == (submitted - duplicated - 1, submitted - 1)
    assert figure(scorecard, "completeness")[:2] == (2 * submitted - 3, 2 * submitted - 2)
