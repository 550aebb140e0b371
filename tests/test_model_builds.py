"""The SQL models are rebuilt only when something they are made of changed: the raw
tables' rows (however they changed), the models' SQL, the run's variables, the code."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evaluation.synthetic import generate_demo
from flows.demo_files import write_demo_files
from schemas.contract import ENTITIES
from warehouse import models
from warehouse.db import open_warehouse
from warehouse.load import load_file
from warehouse.models import build_models

KEY = b"a test key of sufficient length"
VARIABLES = {"price_base_year": 2020, "outlier_z": 5.0}
MARTS = [m.relation for m in models.load_models() if m.materialized == "table"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("builds")
    files = write_demo_files(generate_demo(seed=5, n_firms=500), root / "files")
    with open_warehouse(root / "warehouse.duckdb") as con:
        for entity in ENTITIES:
            load_file(con, files[entity], entity, key=KEY, engine="pandas")
        assert build_models(con, VARIABLES)  # the first build
    return root / "warehouse.duckdb"


@pytest.fixture
def con(base: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(base, tmp_path / "warehouse.duckdb")
    with open_warehouse(tmp_path / "warehouse.duckdb") as connection:
        yield connection


def _marts(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    return {m: con.sql(f"select * from {m} order by all").df() for m in MARTS}


def _rebuilt_from_scratch(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    con.execute("delete from meta.model_builds")
    assert build_models(con, VARIABLES)
    return _marts(con)


def test_nothing_changed_nothing_rebuilt(con: duckdb.DuckDBPyConnection) -> None:
    before = _marts(con)
    built_at = con.sql("select built_at from meta.model_builds").fetchall()
    assert build_models(con, VARIABLES) is False
    assert con.sql("select built_at from meta.model_builds").fetchall() == built_at
    after = _marts(con)
    for mart in MARTS:
        pd.testing.assert_frame_equal(after[mart], before[mart])


@pytest.mark.parametrize(
    "edit",
    [
        # a value edited in place, outside any load: same row count, same loads
        "update raw.outcomes set sales = sales * 2 where rowid = (select min(rowid) from raw.outcomes)",
        "delete from raw.participations where rowid = (select min(rowid) from raw.participations)",
        "update raw.firms set region = 'edited' where rowid = (select max(rowid) from raw.firms)",
    ],
)
def test_any_edit_of_a_raw_table_rebuilds(con: duckdb.DuckDBPyConnection, edit: str) -> None:
    before = _marts(con)
    con.execute(edit)
    assert build_models(con, VARIABLES) is True
    after = _marts(con)
    assert any(not after[m].equals(before[m]) for m in MARTS)  # the edit reached a mart
    scratch = _rebuilt_from_scratch(con)
    for mart in MARTS:
        pd.testing.assert_frame_equal(after[mart], scratch[mart])


def test_other_variables_code_or_a_missing_mart_rebuild(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build_models(con, {**VARIABLES, "outlier_z": 3.0}) is True
    assert build_models(con, {**VARIABLES, "outlier_z": 3.0}) is False
    assert build_models(con, VARIABLES) is True
    monkeypatch.setattr(models, "code_version", lambda: "another-version")
    assert build_models(con, VARIABLES) is True
    assert build_models(con, VARIABLES) is False
    con.execute("drop table marts.mart_outlier_flags")
    assert build_models(con, VARIABLES) is True
    assert con.sql("select count(*) from marts.mart_outlier_flags").fetchall()[0][0] > 0


def test_a_new_load_rebuilds(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    files = write_demo_files(generate_demo(seed=6, n_firms=500), tmp_path / "files")
    load_file(con, files["macro"], "macro", key=KEY, engine="pandas")
    assert build_models(con, VARIABLES) is True
