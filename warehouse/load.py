"""Load validated agency files into the warehouse's raw tables.

A load is one file for one entity. It runs in a single transaction: the valid rows go to
`raw.<entity>`, every failing row to `meta.quarantine` with its reason, and one record to
`meta.loads` whose counts must reconcile (rows in = loaded + quarantined; the table has a
check constraint). A file whose content was already loaded for the entity is skipped.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from schemas.contract import ENTITIES
from schemas.readers import read_source
from schemas.validate import QUARANTINE_COLUMNS, ROW, RowValidation, validate_rows
from warehouse.db import quote_ident

REFERENCE_RULES = {"firms": "unknown_firm", "programs": "unknown_program"}


@dataclass(frozen=True)
class LoadReport:
    """What happened to one file: counts reconcile as rows_in = rows_loaded + rows_quarantined."""

    entity: str
    source_file: str
    content_sha256: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    load_id: str | None  # None when the same content had been loaded before
    skipped: bool = False


def file_sha256(path: Path) -> str:
    """Content hash of a file, the identity of a submission."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def known_keys(con: duckdb.DuckDBPyConnection, entity: str) -> set[str]:
    """Identifiers already loaded for a referenced entity (firms or programs)."""
    column = ENTITIES[entity].key[0]
    rows = con.execute(
        f"select distinct {quote_ident(column)} from raw.{quote_ident(entity)}"
    ).fetchall()
    return {row[0] for row in rows}


def check_references(
    con: duckdb.DuckDBPyConnection, checked: RowValidation, entity: str
) -> RowValidation:
    """Move rows whose firm or program is not in the warehouse to the quarantine."""
    valid, records = checked.valid, [checked.quarantine]
    for column, target in ENTITIES[entity].references:
        unknown = ~valid[column].isin(known_keys(con, target))
        if unknown.any():
            bad = valid[unknown]
            records.append(
                pd.DataFrame(
                    {
                        "row_number": bad[ROW].to_numpy(),
                        "column_name": column,
                        "rule": REFERENCE_RULES[target],
                        "value": bad[column].astype(object).to_numpy(),
                        "reason": f"{column}: not found in {target}",
                    }
                )
            )
            valid = valid[~unknown]
    quarantine = (
        pd.concat([r for r in records if len(r)], ignore_index=True)
        if any(len(r) for r in records)
        else checked.quarantine
    )
    return RowValidation(
        valid=valid, quarantine=quarantine[QUARANTINE_COLUMNS], rows_in=checked.rows_in
    )


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    entity: str,
    *,
    run_id: str | None = None,
    sheet: str | int | None = None,
) -> LoadReport:
    """Read, validate and load one agency file for `entity`; see the module docstring."""
    path = Path(path)
    sha = file_sha256(path)
    seen = con.execute(
        "select rows_in, rows_loaded, rows_quarantined from meta.loads where entity = ? and content_sha256 = ?",
        [entity, sha],
    ).fetchall()  # fetch to the end: DuckDB 2 blocks a connection on an open result
    if seen:
        rows_in, rows_loaded, rows_quarantined = map(int, seen[0])
        return LoadReport(
            entity,
            path.name,
            sha,
            rows_in,
            rows_loaded,
            rows_quarantined,
            load_id=None,
            skipped=True,
        )

    checked = check_references(
        con, validate_rows(read_source(path, sheet=sheet), entity, path.name), entity
    )
    load_id = uuid.uuid4().hex
    report = LoadReport(
        entity=entity,
        source_file=path.name,
        content_sha256=sha,
        rows_in=checked.rows_in,
        rows_loaded=len(checked.valid),
        rows_quarantined=checked.rows_quarantined,
        load_id=load_id,
    )
    rows = checked.valid.rename(columns={ROW: "_row_number"}).assign(_load_id=load_id)
    quarantine = checked.quarantine.assign(load_id=load_id, entity=entity, source_file=path.name)
    con.execute("begin transaction")
    try:
        con.register("incoming_rows", rows)
        con.execute(f"insert into raw.{quote_ident(entity)} by name select * from incoming_rows")
        con.register("incoming_quarantine", quarantine)
        con.execute("insert into meta.quarantine by name select * from incoming_quarantine")
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                run_id,
                entity,
                path.name,
                sha,
                report.rows_in,
                report.rows_loaded,
                report.rows_quarantined,
                datetime.now(UTC).replace(tzinfo=None),
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("incoming_rows")
        con.unregister("incoming_quarantine")
    return report


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """A short hash of every load so far: the input data version an estimate rests on."""
    hashes = con.execute(
        "select entity, content_sha256 from meta.loads order by entity, content_sha256"
    ).fetchall()
    return hashlib.sha256(repr(hashes).encode()).hexdigest()[:16]
