"""Load validated agency files into the warehouse's raw tables.

A load is one file for one entity. It runs in a single transaction: the valid rows go to
`raw.<entity>`, every failing row to `meta.quarantine` with its reason, and one record to
`meta.loads` whose counts must reconcile (rows in = loaded + quarantined; the table has a
check constraint). Firm identifiers are pseudonymized before anything else sees them.

Loads are versioned: a file whose content was already loaded for the entity is skipped;
a corrected re-submission supersedes the current rows of the keys it covers (they keep
their data and get `_superseded_by`), so every earlier state can be rebuilt from the
load sequence (`warehouse.history`).

Agency-declared extra columns (`schemas.extras`, from the run config's source or its
mapping) are validated like contract columns and added to the raw table by the load that
first declares them (`warehouse.extras`); undeclared columns are ignored.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from schemas.contract import ENTITIES
from schemas.decisions import DROPPED, Corrections, Decision
from schemas.extras import ExtraColumnError, merge_extra_columns
from schemas.mapping import Mapping, read_with_mapping
from schemas.pseudonym import pseudonym, pseudonymize
from schemas.readers import READERS, check_path, read_source
from schemas.structure import (
    BROKEN_LINES,
    MIN_ID_CHARS,
    BrokenLines,
    quarantine_records,
    shorten,
)
from schemas.validate import (
    QUARANTINE_COLUMNS,
    ROW,
    ContractError,
    RowValidation,
    validate_rows,
    with_records,
)
from warehouse.db import quote_ident, transaction
from warehouse.decisions import (
    APPLIED,
    Applied,
    Outcome,
    apply_decisions,
    record_decisions,
    settle,
    supersede_dropped,
    unmatched_messages,
)
from warehouse.extras import add_declared, check_declared
from warehouse.keys import check_key, record_key

REFERENCE_RULES = {"firms": "unknown_firm", "programs": "unknown_program"}
RULES = resources.files("warehouse") / "rules"
log = logging.getLogger(__name__)
ENGINES = ("auto", "pandas", "duckdb")
# From this size on, `engine="auto"` loads a CSV without a mapping inside DuckDB
# (`warehouse.bulk`). Below it the pandas path stays: it is the reference the bulk path is
# checked against (tests/test_bulk.py) and still takes seconds (measured: 17 s and 0.9 GB
# for a 21 MB file of 300k outcome rows, bulk 1.7 s). Above it pandas grows to minutes
# and gigabytes, while the bulk path stays within DuckDB's memory limit.
BULK_MIN_BYTES = 16 * 1024 * 1024  # about 230k outcome rows


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
    rows_superseded: int = 0  # earlier rows of the same keys this load replaced
    rows_dropped: int = 0  # of rows_quarantined: left out by the agency's decision, not a rule
    decisions_applied: int = 0
    decisions_unmatched: tuple[str, ...] = ()  # one line each: what the file has instead


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
        f"select distinct {quote_ident(column)} from raw.{quote_ident(entity)} "
        "where _superseded_by is null"
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


def source_extras(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    entity: str,
    extra_columns: MappingOf[str, str] | None,
    mapping: Mapping | None,
) -> dict[str, str]:
    """The extra columns a load declares (the config's and the mapping's, merged), checked
    against the earlier loads' declarations; ContractError (one line) if they conflict."""
    try:
        extras = merge_extra_columns(
            entity,
            extra_columns,
            mapping.extra_columns if mapping is not None else None,
            origin=mapping.origin if mapping is not None else "mapping",
        )
    except ExtraColumnError as exc:
        raise ContractError(f"{path.name}: {exc}") from None
    check_declared(con, entity, extras, path.name)
    return extras


def prepare_load(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    entity: str,
    *,
    key: bytes,
    sheet: str | int | None = None,
    mapping: Mapping | None = None,
    extra_columns: MappingOf[str, str] | None = None,
    decisions: Sequence[Decision] = (),
) -> RowValidation:
    """Read (through the source's mapping, if any), pseudonymize, validate and check
    references: what a load would do, writing nothing. `extra_columns` are the source's
    declared extra columns (`schemas.extras`), validated like contract columns.
    `decisions` (the agency's, on this file: `warehouse.decisions`) apply to the submitted
    rows first; the result's `decisions` says what became of each."""
    if mapping is not None and mapping.entity != entity:
        raise ContractError(f"{mapping.origin}: maps {mapping.entity}, not {entity}")
    check_key(con, key, where=Path(path).name, entity=entity)  # another key: refused
    extras = source_extras(con, path, entity, extra_columns, mapping)
    frame = (
        read_with_mapping(path, mapping, sheet=sheet) if mapping else read_source(path, sheet=sheet)
    )
    broken = frame.attrs.get(BROKEN_LINES)
    if "firm_id" in frame.columns:
        frame["firm_id"] = pseudonymize(frame["firm_id"], key)
    applied = apply_decisions(frame, decisions, entity, key=key)
    checked = check_references(con, validate_rows(applied.frame, entity, path.name, extras), entity)
    checked = check_rules(con, checked, entity, waived=applied.waived)
    checked = with_decisions(checked, applied)
    checked = with_broken_lines(checked, broken, key)
    known = known_keys(con, "firms")
    if "firm_id" in frame.columns:
        known |= set(frame["firm_id"].dropna())
    # each quarantined row's record as submitted (before decisions), ids hidden as in value
    checked = with_records(
        checked, frame, entity, lambda t: identifiers_hidden(t, known, key), extras
    )
    values = checked.quarantine["value"]
    hidden = identifiers_hidden(values.dropna().astype(str).unique(), known, key)
    if not hidden:
        return checked
    quarantine = checked.quarantine.assign(value=values.map(lambda v: hidden.get(str(v), v)))
    return replace(checked, quarantine=quarantine)


def with_decisions(checked: RowValidation, applied: Applied) -> RowValidation:
    """The rows the decisions dropped added to the quarantine (they count among the rows
    in), and each decision's final status (`warehouse.decisions.settle`)."""
    if not applied.outcomes:
        return checked
    quarantine = pd.concat([checked.quarantine, applied.dropped], ignore_index=True)
    checked = replace(
        checked, quarantine=quarantine, rows_in=checked.rows_in + applied.rows_dropped
    )
    return replace(checked, decisions=tuple(settle(applied, checked)))


def identifiers_hidden(values: Iterable[str], known: set[str], key: bytes) -> dict[str, str]:
    """{value: pseudonym} for the quarantined values that are a firm's identifier: a
    missing or extra delimiter can shift a tax number into another column, where it fails
    as, say, not a number; stored raw, it would be the one raw identifier in the warehouse.
    A value is an identifier when its pseudonym is a firm of the warehouse or of the file."""
    found = {}
    for value in values:
        if len(value.strip()) >= MIN_ID_CHARS:
            hidden = pseudonym(value.strip(), key)
            if hidden in known:
                found[value] = hidden
    return found


def with_broken_lines(
    checked: RowValidation, broken: BrokenLines | None, key: bytes
) -> RowValidation:
    """The lines the reader set aside (`schemas.structure`) added to the quarantine: they
    count among the rows in, each with its line number and reason."""
    if broken is None or not broken.lines:
        return checked
    records = quarantine_records(broken, lambda ids: pseudonymize(ids, key))
    quarantine = pd.concat([checked.quarantine, records], ignore_index=True)
    return replace(
        checked,
        quarantine=quarantine[QUARANTINE_COLUMNS],
        rows_in=checked.rows_in + len(broken.lines),
    )


def entity_rules(entity: str) -> list[tuple[str, str, str]]:
    """(rule, reason, sql) of the cross-entity rules in `rules/<entity>__<rule>.sql`."""
    rules = []
    for path in sorted(RULES.iterdir(), key=lambda p: p.name):
        name = path.name.removesuffix(".sql")
        if not path.name.endswith(".sql") or not name.startswith(f"{entity}__"):
            continue
        sql = path.read_text(encoding="utf-8")
        reason = sql.splitlines()[0].removeprefix("-- reason:").strip()
        rules.append((name.split("__", 1)[1], reason, sql))
    return rules


def check_rules(
    con: duckdb.DuckDBPyConnection,
    checked: RowValidation,
    entity: str,
    waived: Iterable[int] = (),
) -> RowValidation:
    """Quarantine valid rows that break a cross-entity rule (each rule is a SQL file that
    returns the row_number, column_name and value of the rows breaking it), except the
    `waived` rows: a decision kept them (`warehouse.decisions`); the result names the rules
    each of those broke."""
    rules = entity_rules(entity)
    if not rules or checked.valid.empty:
        return checked
    # an optional column absent from the file is empty, as the rules see it
    absent = [c for c in ENTITIES[entity].schema.columns if c not in checked.valid]
    incoming = checked.valid.assign(**dict.fromkeys(absent, np.nan))
    con.register("incoming", incoming)
    try:
        found = [
            con.execute(sql).df().assign(rule=rule, reason=reason) for rule, reason, sql in rules
        ]
    finally:
        con.unregister("incoming")
    broken = pd.concat(found, ignore_index=True)
    kept = broken["row_number"].isin(list(waived))
    waived_rules = broken[kept].groupby("row_number")["rule"].agg(lambda r: ", ".join(sorted(r)))
    broken = broken[~kept]
    if broken.empty and not len(waived_rules):
        return checked
    quarantine = pd.concat([checked.quarantine, broken[QUARANTINE_COLUMNS]], ignore_index=True)
    valid = checked.valid[~checked.valid[ROW].isin(broken["row_number"])]
    return RowValidation(
        valid=valid,
        quarantine=quarantine,
        rows_in=checked.rows_in,
        waived={int(k): str(v) for k, v in waived_rules.items()},
    )


def already_loaded(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    name: str,
    sha256: str,
    extras: MappingOf[str, str] | None = None,
    *,
    decisions: str | None = None,
) -> LoadReport | None:
    """The skipped load's report when this content was loaded for `entity` before, with
    (at least) the extra columns now declared: an extra declared since reloads it. So
    does a change of what its rows refer to (`references_changed`), and of the agency's
    decisions on it (`decisions`: their digest, None for none)."""
    seen = con.execute(
        "select rows_in, rows_loaded, rows_quarantined, load_id, sequence from meta.loads "
        "where entity = ? and content_sha256 = ? "
        "and list_has_all(coalesce(extra_columns, []::varchar[]), ?::varchar[]) "
        "and decisions_sha256 is not distinct from ? "
        "order by sequence desc",
        [entity, sha256, sorted(extras or {}), decisions],
    ).fetchall()  # fetch to the end: DuckDB 2 blocks a connection on an open result
    if not seen:
        return None
    rows_in, rows_loaded, rows_quarantined = map(int, seen[0][:3])
    if rows_quarantined and references_changed(con, entity, seen[0][3], seen[0][4]):
        return None
    return LoadReport(
        entity, name, sha256, rows_in, rows_loaded, rows_quarantined, load_id=None, skipped=True
    )


def references_changed(
    con: duckdb.DuckDBPyConnection, entity: str, load_id: str, sequence: int
) -> bool:
    """Whether the load `load_id` quarantined rows as unknown_firm / unknown_program and
    the entity they refer to (firms / programs) has been loaded since.

    Files loaded in the wrong order (outcomes before their firms) have every row
    quarantined as unknown_firm; skipped as unchanged, the same file would stay
    quarantined for good once the firms arrive. Such a content is validated again
    instead: the new load supersedes the earlier one's rows of the same keys, and its
    own counts reconcile as any load's."""
    for _, target in ENTITIES[entity].references:
        found = con.execute(
            "select exists (select 1 from meta.quarantine where load_id = ? and rule = ?) "
            "and exists (select 1 from meta.loads where entity = ? and sequence > ?)",
            [load_id, REFERENCE_RULES[target], target, sequence],
        ).fetchall()
        if found[0][0]:
            return True
    return False


def choose_engine(path: Path, engine: str = "auto", *, mapping: Mapping | None = None) -> str:
    """The engine that loads `path`: "pandas" or "duckdb". `auto` picks DuckDB for a CSV
    without a mapping of at least `BULK_MIN_BYTES`; `duckdb` refuses what it cannot load."""
    if engine not in ENGINES:
        raise ContractError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    if engine == "pandas":
        return "pandas"
    is_csv = READERS.get(Path(path).suffix.lower()) == "csv"
    if engine == "duckdb":
        if not is_csv or mapping is not None:
            raise ContractError(
                f"{Path(path).name}: the duckdb engine loads CSV files without a mapping; "
                "use the pandas engine"
            )
        return "duckdb"
    if is_csv and mapping is None and Path(path).is_file():
        return "duckdb" if Path(path).stat().st_size >= BULK_MIN_BYTES else "pandas"
    return "pandas"


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    entity: str,
    *,
    key: bytes,
    run_id: str | None = None,
    sheet: str | int | None = None,
    mapping: Mapping | None = None,
    engine: str = "auto",
    extra_columns: MappingOf[str, str] | None = None,
    corrections: Corrections | None = None,
) -> LoadReport:
    """Load one agency file for `entity` in one transaction; see the module docstring.
    `engine` (see `choose_engine`): "duckdb" loads a CSV with `warehouse.bulk`, same
    result; under "auto" a file the bulk path does not support falls back to pandas.
    `extra_columns` ({name: kind}, `schemas.extras`) are the source's declared extras.
    `corrections`: the agency's decisions (`schemas.decisions`); those on this file apply
    to its rows before validation, and are part of the load's identity (the same file
    with other decisions loads again)."""
    path = Path(path)
    check_path(path)  # before hashing: a FIFO or /dev/zero would hang (schemas.readers)
    check_key(con, key, where=path.name, entity=entity)  # before any skip or quarantine
    decisions = corrections.for_file(path.name) if corrections else ()
    if decisions and engine == "duckdb":
        raise ContractError(
            f"{path.name}: the corrections file has decisions on it, which the duckdb engine "
            "does not apply; use the pandas engine"
        )
    # Decisions apply on the pandas path only: they are a few rows of a file, and that path
    # is the reference the bulk one is checked against. A national register with decisions
    # therefore loads through pandas (slower, bounded by the file's size).
    if not decisions and choose_engine(path, engine, mapping=mapping) == "duckdb":
        from warehouse.bulk import BulkUnsupported, bulk_load_csv  # bulk imports this module

        try:
            return bulk_load_csv(
                con, path, entity, key=key, run_id=run_id, extra_columns=extra_columns
            )
        except BulkUnsupported as exc:
            if engine == "duckdb":
                raise ContractError(
                    f"{path.name}: the duckdb engine cannot load it ({exc}); use the pandas engine"
                ) from None
            log.info("%s: loaded with pandas, the bulk path cannot (%s)", path.name, exc)
    extras = source_extras(con, path, entity, extra_columns, mapping)
    sha = file_sha256(path)
    digest = Corrections.digest_of(decisions)
    seen = already_loaded(con, entity, path.name, sha, extras, decisions=digest)
    if seen is not None:
        return seen

    checked = prepare_load(
        con,
        path,
        entity,
        key=key,
        sheet=sheet,
        mapping=mapping,
        extra_columns=extras,
        decisions=decisions,
    )
    outcomes = [o for o in checked.decisions if isinstance(o, Outcome)]
    load_id = uuid.uuid4().hex
    rows = checked.valid.rename(columns={ROW: "_row_number"}).assign(_load_id=load_id)
    quarantine = checked.quarantine.assign(
        load_id=load_id,
        entity=entity,
        source_file=path.name,
        value=checked.quarantine["value"].map(shorten),  # never a whole runaway cell
    )
    table = f"raw.{quote_ident(entity)}"
    con.register("incoming_rows", rows)
    con.register("incoming_quarantine", quarantine)
    try:
        with transaction(con):
            add_declared(con, entity, extras, load_id)  # before the rows that fill them
            con.execute(f"insert into {table} by name select * from incoming_rows")
            superseded = supersede(con, table, ENTITIES[entity].key, load_id)
            superseded += supersede_dropped(con, table, outcomes, load_id)
            con.execute("insert into meta.quarantine by name select * from incoming_quarantine")
            report = LoadReport(
                entity=entity,
                source_file=path.name,
                content_sha256=sha,
                rows_in=checked.rows_in,
                rows_loaded=len(checked.valid),
                rows_quarantined=checked.rows_quarantined,
                load_id=load_id,
                rows_superseded=superseded,
                rows_dropped=int((checked.quarantine["rule"] == DROPPED).sum()),
                decisions_applied=sum(o.status == APPLIED for o in outcomes),
                decisions_unmatched=unmatched_messages(outcomes),
            )
            record_load(con, report, run_id, extras, decisions=digest)
            record_key(con, load_id, entity, key)
            record_decisions(
                con,
                outcomes,
                entity=entity,
                source_file=path.name,
                load_id=load_id,
                run_id=run_id,
            )
    finally:
        con.unregister("incoming_rows")
        con.unregister("incoming_quarantine")
    return report


def record_load(
    con: duckdb.DuckDBPyConnection,
    report: LoadReport,
    run_id: str | None,
    extras: MappingOf[str, str] | None = None,
    *,
    decisions: str | None = None,
) -> None:
    """Append a load to meta.loads, numbered after the last one (inside the load's
    transaction, so the numbering and the rows commit together), with the names of the
    extra columns it declared and the digest of the decisions applied to it."""
    con.execute(
        "insert into meta.loads (load_id, run_id, entity, source_file, content_sha256, rows_in, "
        "rows_loaded, rows_quarantined, loaded_at, sequence, rows_superseded, extra_columns, "
        "rows_dropped, decisions_sha256) "
        "select ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(max(sequence), 0) + 1, ?, ?::varchar[], "
        "?, ? from meta.loads",
        [
            report.load_id,
            run_id,
            report.entity,
            report.source_file,
            report.content_sha256,
            report.rows_in,
            report.rows_loaded,
            report.rows_quarantined,
            datetime.now(UTC).replace(tzinfo=None),
            report.rows_superseded,
            sorted(extras or {}),
            report.rows_dropped,
            decisions,
        ],
    ).fetchall()


def supersede(
    con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], load_id: str
) -> int:
    """Mark the current rows whose key the new load covers as superseded by it."""
    current = con.execute(  # a first load has nothing to supersede: skip the keyed join
        f"select count(*) from {table} where _superseded_by is null and _load_id != ?", [load_id]
    ).fetchall()[0][0]
    if not current:
        return 0
    same_key = " and ".join(f"new.{quote_ident(c)} = old.{quote_ident(c)}" for c in key)
    rows = con.execute(
        f"update {table} as old set _superseded_by = ? "
        f"where old._superseded_by is null and old._load_id != ? and exists "
        f"(select 1 from {table} as new where new._load_id = ? and {same_key})",
        [load_id, load_id, load_id],
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def loads_version(con: duckdb.DuckDBPyConnection, entities: Iterable[str]) -> str:
    """A hash of what the current and submitted rows of `entities`' raw tables are: every
    load with whether its quarantine stands, the quarantine's rules per load, and the
    tables' row counts, current and all. Loads are not edited once recorded (a correction
    or re-submission is a new load); the quarantine and row counts are in the hash all
    the same, so a row set aside or superseded later shows. What derives from a few
    tables (an entity's expectation results, a scorecard part) is reused while this holds
    (`schemas.expectations`, `warehouse.quality`)."""
    read = sorted(set(entities))
    marks = ", ".join("?" for _ in read)
    loads = con.execute(
        "select l.entity, l.load_id, l.content_sha256, l.sequence, l.rows_loaded, "
        "l.rows_quarantined, s.superseded_by from meta.loads as l "
        "join meta.load_supersession as s using (load_id) "
        f"where l.entity in ({marks}) order by all",
        read,
    ).fetchall()
    quarantine = con.execute(
        "select load_id, count(*), bit_xor(hash(row_number, rule)) from meta.quarantine "
        f"where entity in ({marks}) group by load_id order by load_id",
        read,
    ).fetchall()
    rows = [
        con.execute(
            "select count(*), count(*) filter (where _superseded_by is null) "
            f"from raw.{quote_ident(entity)}"
        ).fetchall()
        for entity in read
        if entity in ENTITIES
    ]
    return hashlib.sha256(repr((read, loads, quarantine, rows)).encode()).hexdigest()


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """A short hash of every load so far: the input data version an estimate rests on."""
    hashes = con.execute(
        "select entity, content_sha256 from meta.loads order by entity, content_sha256"
    ).fetchall()
    return hashlib.sha256(repr(hashes).encode()).hexdigest()[:16]
