"""Agency-declared extra columns in the warehouse (declared as in `schemas.extras`).

A load that declares extra columns checks them against the earlier declarations
(`check_declared`: same kind, no clash with another entity's extra), then, inside its
transaction, adds them to `raw.<entity>` and records them in `meta.extra_columns`
(`add_declared`). Staging passes them through (`warehouse.models` renders them into
stg_firms and stg_outcomes); `declared_extra_columns` lists them as staging shows them,
for the evaluation side.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import duckdb

from schemas.extras import EXTRA_ENTITIES, SQL_TYPES, staging_name
from schemas.validate import ContractError
from warehouse.db import quote_ident


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    # a warehouse opened read-only is not migrated: it may predate meta.extra_columns
    return bool(
        con.execute(
            "select 1 from information_schema.tables "
            "where table_schema = 'meta' and table_name = 'extra_columns'"
        ).fetchall()
    )


def raw_extra_columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """entity -> {column as in raw.<entity>: kind}, in the order they were declared."""
    out: dict[str, dict[str, str]] = {entity: {} for entity in EXTRA_ENTITIES}
    if not _has_table(con):
        return out
    rows = con.execute(
        "select entity, column_name, kind from meta.extra_columns order by rowid"
    ).fetchall()
    for entity, name, kind in rows:
        out.setdefault(str(entity), {})[str(name)] = str(kind)
    return out


def declared_extra_columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """entity -> {column as it appears in staging (and the marts): kind} of every extra
    column declared so far; money columns appear converted, as `<name>_usd`. Every entity
    that accepts extras (firms, outcomes) is a key, with an empty dict when none."""
    return {
        entity: {staging_name(name, kind): kind for name, kind in columns.items()}
        for entity, columns in raw_extra_columns(con).items()
    }


def check_declared(
    con: duckdb.DuckDBPyConnection, entity: str, extras: Mapping[str, str], source: str
) -> None:
    """Raise ContractError (one line naming the file) when a declaration contradicts an
    earlier load's: another kind, or a name another entity's extra already has."""
    if not extras:
        return
    earlier = raw_extra_columns(con)
    staged = {
        staging_name(n, k): (e, n) for e, columns in earlier.items() for n, k in columns.items()
    }
    for name, kind in extras.items():
        before = earlier.get(entity, {}).get(name)
        if before is not None and before != kind:
            raise ContractError(
                f"{source}: extra column '{name}' of {entity} was declared {before} by an "
                f"earlier load, now {kind}; keep {before} or declare a new column name"
            )
        if before is None:
            owner = staged.get(staging_name(name, kind))
            if owner is not None:
                raise ContractError(
                    f"{source}: extra column '{name}' would be '{staging_name(name, kind)}' "
                    f"in staging, as extra column '{owner[1]}' of {owner[0]} already is; "
                    "choose another name"
                )


def add_declared(
    con: duckdb.DuckDBPyConnection, entity: str, extras: Mapping[str, str], load_id: str
) -> None:
    """Add the declared extra columns to raw.<entity> and record the new ones (call inside
    the load's transaction, before its rows are inserted)."""
    if not extras:
        return
    known = raw_extra_columns(con).get(entity, {})
    table = f"raw.{quote_ident(entity)}"
    now = datetime.now(UTC).replace(tzinfo=None)
    for name, kind in extras.items():
        con.execute(
            f"alter table {table} add column if not exists {quote_ident(name)} {SQL_TYPES[kind]}"
        )
        if name not in known:
            con.execute(
                "insert into meta.extra_columns (entity, column_name, kind, staging_name, "
                "declared_in_load_id, declared_at) values (?, ?, ?, ?, ?, ?)",
                [entity, name, kind, staging_name(name, kind), load_id, now],
            )
