"""Shared fixtures: a fresh migrated warehouse, small agency files, offline Prefect."""

from __future__ import annotations

import os
import re
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


# 3,000 firms keep the run short; each program still has ~80-120 beneficiaries
DEMO_FIRMS, DEMO_SEED = 3000, 11


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `mes-eval demo` run (real CLI, Prefect, DuckDB file) for the whole session:
    tests read it; a test that changes it works on a copy."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("demo")
    mes_eval = str(Path(sys.executable).with_name("mes-eval"))
    args = ["demo", "--out", str(out), "--firms", str(DEMO_FIRMS), "--seed", str(DEMO_SEED)]
    done = subprocess.run([mes_eval, *args], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Warehouse: {out / 'warehouse.duckdb'}" in done.stdout.replace("\n", "")
    assert "index.html" in done.stdout
    # each step of the run left a line with its time (flows.progress), in the run's order
    steps = re.findall(
        r"^(Ingest|Marts built|Audit|Estimation|Publishing)\b.* \(\d+\.\d s\)$",
        done.stdout,
        flags=re.MULTILINE,
    )
    assert steps == ["Ingest", "Marts built", "Audit", "Estimation", "Publishing"], done.stdout
    return out


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Write a small CSV as an agency would (UTF-8, comma, header row)."""
    lines = [",".join(header)] + [
        ",".join("" if v is None else str(v) for v in row) for row in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
