"""One pseudonymization key per warehouse: each load records its key's fingerprint, and a
load under another key is refused before anything is quarantined or loaded.

Pseudonyms made under two keys never match: the outcomes of a submission made with a
new key would all be quarantined as unknown firms, and a firms file loaded again would
add every firm a second time under a new pseudonym. Neither is an error of the data, so
nothing downstream would notice. Hence every load that makes pseudonyms (an entity with
a `firm_id`) stores the fingerprint of its key (`schemas.pseudonym.key_fingerprint`: a
keyed hash of a fixed text, which reveals nothing of the key) in
`meta.loads.key_fingerprint`, and `check_key` refuses a key whose fingerprint differs
from one already there (a ContractError: one line, exit code 2 at the CLI).

Checked twice: by the CLI's checks before Prefect starts (`check_warehouse_key`, for
`mes-eval run`, `serve` and `ingest`) and by both load engines themselves (defence in
depth: a scheduled run has no such checks). Loads of entities without firm identifiers
(macro, programs, budgets) do not depend on the key: their fingerprint stays empty.
Loads made before fingerprints were recorded have none: the first fingerprinted load
sets the warehouse's key.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from schemas.contract import ENTITIES
from schemas.pseudonym import key_fingerprint
from schemas.validate import ContractError
from warehouse.db import WarehouseError, connect


class KeyMismatchError(ContractError):
    """The pseudonymization key is not the one the warehouse's pseudonyms were made with."""


def pseudonymizes(entity: str) -> bool:
    """Whether a load of `entity` makes pseudonyms (its rows carry a firm identifier)."""
    return entity in ENTITIES and "firm_id" in ENTITIES[entity].schema.columns


def warehouse_fingerprints(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The key fingerprints of the warehouse's loads (empty before migration 016, whose
    column a read-only connection to an older warehouse does not have)."""
    has_column = con.execute(
        "select count(*) from information_schema.columns where table_schema = 'meta' "
        "and table_name = 'loads' and column_name = 'key_fingerprint'"
    ).fetchall()[0][0]
    if not has_column:
        return set()
    rows = con.execute(
        "select distinct key_fingerprint from meta.loads where key_fingerprint is not null"
    ).fetchall()
    return {str(r[0]) for r in rows}


def mismatch_message(found: set[str], key: bytes, where: str, source: str | None) -> str:
    """The one line that refuses a key (fingerprints are safe to show: see the module)."""
    this = f"the pseudonymization key from {source}" if source else "the pseudonymization key"
    return (
        f"{where}: {this} differs from the one used for the warehouse's existing data "
        f"(key fingerprint {key_fingerprint(key)}; the warehouse's: {', '.join(sorted(found))}): "
        "its pseudonyms would not match theirs, so firms would be quarantined as unknown or "
        "counted twice. Use the key the warehouse was loaded with (where the key is taken "
        "from: --help of the command), or load every submission into a new warehouse to "
        "change keys"
    )


def check_key(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    *,
    where: str,
    entity: str | None = None,
    source: str | None = None,
) -> None:
    """Refuse (KeyMismatchError) a key whose fingerprint differs from the warehouse's.

    `where` starts the message (the file, or the warehouse); `entity`, when given, limits
    the check to loads that make pseudonyms; `source` describes where the key came from."""
    if entity is not None and not pseudonymizes(entity):
        return
    found = warehouse_fingerprints(con) - {key_fingerprint(key)}
    if found:
        raise KeyMismatchError(mismatch_message(found, key, where, source))


def record_key(con: duckdb.DuckDBPyConnection, load_id: str, entity: str, key: bytes) -> None:
    """Store the fingerprint of the key with a load that made pseudonyms (call it in the
    load's transaction, after `record_load`)."""
    if pseudonymizes(entity):
        con.execute(
            "update meta.loads set key_fingerprint = ? where load_id = ?",
            [key_fingerprint(key), load_id],
        ).fetchall()


def check_warehouse_key(
    warehouse: Path,
    key: bytes,
    *,
    source: str | None = None,
    entity: str | None = None,
    where: str | None = None,
) -> None:
    """`check_key` on a warehouse file, read-only, for the checks before a run: nothing to
    check when there is no warehouse yet, nor when a run holds it (the loads check it)."""
    if not warehouse.is_file():
        return
    try:
        con = connect(warehouse, read_only=True)
    except WarehouseError as exc:
        if isinstance(exc.__cause__, duckdb.IOException):  # in use: the load checks
            return
        raise
    try:
        check_key(con, key, where=where or str(warehouse), entity=entity, source=source)
    finally:
        con.close()
