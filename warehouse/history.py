"""Rebuild the state of a raw table as it stood after any earlier load.

Every load has a sequence number; a row belongs to the state after load s if it was
loaded at or before s and not superseded by a load at or before s.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.contract import ENTITIES
from warehouse.db import quote_ident


def state_as_of(con: duckdb.DuckDBPyConnection, entity: str, sequence: int) -> pd.DataFrame:
    """The contract columns of `entity` as they stood right after load number `sequence`."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}")
    columns = ", ".join(f"rows.{quote_ident(c)}" for c in ENTITIES[entity].schema.columns)
    return con.execute(
        f"""
        select {columns}
        from raw.{quote_ident(entity)} as rows
        join meta.loads as loaded on loaded.load_id = rows._load_id
        left join meta.loads as replaced on replaced.load_id = rows._superseded_by
        where loaded.sequence <= ? and (replaced.sequence is null or replaced.sequence > ?)
        order by all
        """,
        [sequence, sequence],
    ).df()


def current_sequence(con: duckdb.DuckDBPyConnection) -> int:
    """Sequence number of the latest load (0 when nothing was loaded)."""
    return int(con.execute("select coalesce(max(sequence), 0) from meta.loads").fetchall()[0][0])
