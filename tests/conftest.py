"""Shared fixtures: a fresh migrated warehouse, small agency files, offline Prefect."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows import prefect_env


@pytest.fixture(scope="session", autouse=True)
def _offline_prefect(tmp_path_factory: pytest.TempPathFactory) -> None:
    # a private Prefect home per test session, set before any test imports prefect
    os.environ["MES_EVAL_HOME"] = str(tmp_path_factory.mktemp("mes-eval-home"))
    prefect_env.configure()


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A new, migrated warehouse file."""
    from warehouse.db import open_warehouse

    with open_warehouse(tmp_path / "warehouse.duckdb") as con:
        yield con


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Write a small CSV as an agency would (UTF-8, comma, header row)."""
    lines = [",".join(header)] + [
        ",".join("" if v is None else str(v) for v in row) for row in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
