"""The DuckDB warehouse: one file, created and upgraded by named migrations.

DuckDB allows one read-write process per file, so every command opens the warehouse,
does its work and closes it; nothing holds it open between steps.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb

MIGRATIONS = resources.files("warehouse") / "migrations"


class WarehouseError(RuntimeError):
    """A warehouse problem a user can act on (file locked, wrong DuckDB version...)."""


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (schema, table or column name) for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def duckdb_settings() -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB settings from the environment: MES_EVAL_DUCKDB_MEMORY caps the memory DuckDB
    uses for a process (e.g. '4GB'; default DuckDB's own, 80% of RAM; it spills to its
    temp directory beyond), MES_EVAL_DUCKDB_THREADS its threads. The environment rather
    than the config, because every process that opens the warehouse must agree, the
    readers (report, Dask workers) as well as the run."""
    names = {"MES_EVAL_DUCKDB_MEMORY": "memory_limit", "MES_EVAL_DUCKDB_THREADS": "threads"}
    return {setting: os.environ[env] for env, setting in names.items() if os.environ.get(env)}


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, translating DuckDB's lock and version errors into one line."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(
            f"{path}: no warehouse here yet; run `mes-eval demo` or `mes-eval run` first"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only, config=duckdb_settings())
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(
                f"{path}: the warehouse is in use by another process; wait for it to finish"
            ) from exc
        raise WarehouseError(f"{path}: cannot open the warehouse: {exc}") from exc


@contextlib.contextmanager
def open_warehouse(
    path: Path | str, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager: a migrated connection to the warehouse, closed on exit.

    A read-only open of a warehouse made by an older version (migrations pending: a new
    view or column a query needs) first migrates it, when nothing else has it open: the
    commands that only read (report, quarantine, runs) then work on it as on a new one."""
    con = connect(path, read_only=read_only)
    if read_only and _pending(con):
        con.close()
        with contextlib.suppress(WarehouseError, duckdb.Error):  # busy: read it as it is
            writer = connect(path, read_only=False)
            try:
                migrate(writer)
            finally:
                writer.close()
        con = connect(path, read_only=True)
    try:
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()


def _pending(con: duckdb.DuckDBPyConnection) -> bool:
    """Migrations not yet applied to a warehouse (False for a file that is not one)."""
    try:
        done = {r[0] for r in con.execute("select name from main.schema_migrations").fetchall()}
    except duckdb.Error:
        return False
    return bool(done) and any(name not in done for name, _ in migration_files())


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: committed if it ends normally, else rolled back."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) of every migration, in the order they apply (by file name)."""
    files = sorted(
        (f for f in MIGRATIONS.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name
    )
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction. Returns their names."""
    con.execute(
        "create table if not exists main.schema_migrations ("
        " name varchar primary key, applied_at timestamp not null default current_timestamp)"
    )
    done = {row[0] for row in con.execute("select name from main.schema_migrations").fetchall()}
    applied = []
    for name, sql in migration_files():
        if name in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("insert into main.schema_migrations (name) values (?)", [name])
        applied.append(name)
    return applied
