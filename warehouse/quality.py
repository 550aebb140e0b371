"""Data quality for auditors: a scorecard computed in SQL, and Great Expectations results.

`compute_scorecard` fills `meta.scorecard` (migration 007) from the SQL in
`warehouse/quality/*.sql`, one row per entity, grain, dimension and detail:

- grains: `entity` (the current rows, which every analysis uses), `submission` (one load,
  `load_id`) and `period` (`period_type` year, or wave for comparison-sample attrition);
- dimensions (value = numerator / denominator, a share, except timeliness in days):
  completeness (non-missing cells; detail null = the required and key columns together,
  else one column), validity (rows loaded / rows submitted; per column, rows without a
  quarantine record on it), uniqueness (1 - duplicated rows / rows submitted), timeliness (days from the end of the period to the load that
  delivered it), consistency (rows passing the entity's cross-entity checks; detail = the
  check, null = all of them), attrition (firms seen in t-1 and not in t; detail
  beneficiaries / comparison) and response_rate (beneficiaries who answered the client
  survey; detail = program).

Completeness, validity and uniqueness count the submitted rows, not only the loaded ones:
rows loaded plus rows quarantined (at the entity grain, the quarantine of the loads that
stand now, `meta.load_supersession`), without the rows the agency itself left out (rule
`dropped_by_decision`), so a file's duplicates and invalid rows lower its figures even
though the quarantine kept them out of the warehouse. Their period grain counts the
current rows only: the quarantine keeps no row's period.

Each SQL file documents its definition. Entity-specific SQL is filled in from the contract
(`schemas.contract.ENTITIES`): `entity_rows.sql` is a template, and the others read the
views it defines (`quality_rows`, `quality_checks`), the views `quality_loads` and
`quality_quarantine` (`loads.sql`, `quarantined.sql`) and the temporary table
`quality_contract` (entity, column, required).

`run_expectations` validates the warehouse with the suites of `schemas.expectations`,
stores one row per expectation in `meta.expectation_results` and builds offline Data Docs.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
from rich.table import Table

from schemas.contract import ENTITIES
from warehouse.db import quote_ident, transaction
from warehouse.extras import raw_extra_columns
from warehouse.load import data_version, loads_version
from warehouse.models import set_variables
from warehouse.runs import code_version

if TYPE_CHECKING:  # importing Great Expectations takes seconds: only run_expectations does
    from schemas.expectations import ExpectationSettings, StoredBatch

QUALITY = resources.files("warehouse") / "quality"
# The period of an entity's row, as SQL over its raw table; entities without one have no
# period grain and no timeliness.
PERIODS: dict[str, str] = {
    "macro": "year",
    "program_budgets": "year",
    "outcomes": "year",
    "participations": "year(start_date)",
    "client_survey": "year(survey_date)",
}
PER_ENTITY_SQL = ("completeness", "validity", "uniqueness", "timeliness", "consistency")
ACROSS_ENTITIES_SQL = ("attrition", "response_rate")
# views every scorecard query may read: the loads and the quarantine as submitted rows
SUBMITTED_VIEWS = {"quality_loads": "loads", "quality_quarantine": "quarantined"}
DIMENSIONS = (
    "completeness",
    "validity",
    "uniqueness",
    "timeliness",
    "consistency",
    "attrition",
    "response_rate",
)
SCORECARD_COLUMNS = [
    "run_id",
    "entity",
    "grain",
    "load_id",
    "period_type",
    "period",
    "dimension",
    "detail",
    "numerator",
    "denominator",
    "value",
    "unit",
    "computed_at",
]


RUN_COLUMNS = ("run_id", "computed_at")  # what compute_scorecard adds to scorecard_frame
RAW_TABLE = re.compile(r"\braw\.(\w+)")  # a table a scorecard query reads


def read_sql(name: str) -> str:
    """The text of warehouse/quality/<name>.sql."""
    return (QUALITY / f"{name}.sql").read_text(encoding="utf-8")


def _has_sql(name: str) -> bool:
    return (QUALITY / f"{name}.sql").is_file()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _contract_table(con: duckdb.DuckDBPyConnection) -> None:
    """The contract's columns as a temporary table the quality SQL joins with (with the
    agency-declared extra columns, optional, after them)."""
    extras = raw_extra_columns(con)
    rows = [
        (entity, name, position, not column.nullable)
        for entity, spec in ENTITIES.items()
        for position, (name, column) in enumerate(spec.schema.columns.items(), start=1)
    ]
    rows += [
        (entity, name, len(ENTITIES[entity].schema.columns) + position, False)
        for entity, columns in extras.items()
        for position, name in enumerate(columns, start=1)
    ]
    frame = pd.DataFrame(rows, columns=["entity", "column_name", "position", "required"])
    con.register("quality_contract_frame", frame)
    try:
        con.execute(
            "create or replace temp table quality_contract as select * from quality_contract_frame"
        )
    finally:
        con.unregister("quality_contract_frame")


def _entity_views(con: duckdb.DuckDBPyConnection, entity: str) -> None:
    """Point the views quality_rows and quality_checks at one entity."""
    spec = ENTITIES[entity]
    key = ", ".join(quote_ident(c) for c in spec.key)
    sql = string.Template(read_sql("entity_rows")).substitute(
        entity=quote_ident(entity),
        period=PERIODS.get(entity, "null"),
        key=f"({key})" if len(spec.key) > 1 else key,
        columns=", ".join(
            quote_ident(c) for c in [*spec.schema.columns, *raw_extra_columns(con).get(entity, {})]
        ),
    )
    con.execute(f"create or replace temp view quality_rows as\n{sql}")
    if _has_sql(f"consistency_{entity}"):
        con.execute(
            f"create or replace temp view quality_checks as\n{read_sql(f'consistency_{entity}')}"
        )
    set_variables(con, {"quality_entity": entity})


def scorecard_queries() -> list[tuple[str | None, str, str]]:
    """(entity, name, SQL) of every scorecard query, in the order they run.

    Queries with an entity read the views `_entity_views` points at that entity
    (`quality_rows`, `quality_checks`); the others (entity None) cover all entities.
    """
    queries: list[tuple[str | None, str, str]] = []
    for entity in ENTITIES:
        for name in PER_ENTITY_SQL:
            if name == "timeliness" and entity not in PERIODS:
                continue  # no period, no timeliness
            if name == "consistency" and not _has_sql(f"consistency_{entity}"):
                continue  # no cross-entity checks (macro)
            queries.append((entity, name, read_sql(name)))
    queries.extend((None, name, read_sql(name)) for name in ACROSS_ENTITIES_SQL)
    return queries


def scorecard_parts() -> dict[str, set[str]]:
    """The scorecard's parts, each with the raw tables its SQL reads: an entity (its
    per-entity queries, over that entity and the tables its consistency checks join) or
    an across-entities query (by name). Read from the SQL text, so a new join is seen."""
    parts: dict[str, set[str]] = {}
    for entity, name, sql in scorecard_queries():
        part = entity or name
        read = parts.setdefault(part, set(RAW_TABLE.findall(sql)))
        if entity is not None:
            read.add(entity)
            if name == "consistency":
                read.update(RAW_TABLE.findall(read_sql(f"consistency_{entity}")))
    return parts


def _part_rows(part: str) -> str:
    """SQL condition on meta.scorecard for a part's rows."""
    if part in ACROSS_ENTITIES_SQL:
        return f"dimension = '{part}'"
    return f"entity = '{part}' and dimension in ({', '.join(repr(d) for d in PER_ENTITY_SQL)})"


def scorecard_frame(con: duckdb.DuckDBPyConnection, skip: Collection[str] = ()) -> pd.DataFrame:
    """The scorecard as a frame (without run_id and computed_at), written nowhere; the
    parts in `skip` (`scorecard_parts`) are left out."""
    _contract_table(con)
    for view, name in SUBMITTED_VIEWS.items():
        con.execute(f"create or replace temp view {view} as\n{read_sql(name)}")
    frames = []
    current = None
    try:
        for entity, name, sql in scorecard_queries():
            if (entity or name) in skip:
                continue
            if entity is not None and entity != current:
                _entity_views(con, entity)
                current = entity
            frames.append(con.sql(sql).df())
    finally:
        for view in ("quality_rows", "quality_checks", *SUBMITTED_VIEWS):
            con.execute(f"drop view if exists {view}")
        con.execute("drop table if exists quality_contract")
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=[c for c in SCORECARD_COLUMNS if c not in RUN_COLUMNS])
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[frame["denominator"].isna() | (frame["denominator"] > 0)]
    for column in ("load_id", "period_type", "detail"):  # one kind of missing: None
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return _ordered(frame)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    entity_order = {name: i for i, name in enumerate(ENTITIES)}
    grain_order = {"entity": 0, "submission": 1, "period": 2}
    dimension_order = {name: i for i, name in enumerate(DIMENSIONS)}
    keys = pd.DataFrame(
        {
            "e": frame["entity"].map(entity_order),
            "d": frame["dimension"].map(dimension_order),
            "g": frame["grain"].map(grain_order),
        }
    )
    order = keys.assign(
        load_id=frame["load_id"],
        period=frame["period"],
        detail_null=frame["detail"].notna(),  # the whole-entity figure first
        detail=frame["detail"],
    ).sort_values(["e", "d", "g", "load_id", "period", "detail_null", "detail"], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)


def compute_scorecard(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """Compute the data-quality scorecard and store it in meta.scorecard for `run_id`.

    A part (`scorecard_parts`) whose tables' loads and code are those of the run that last
    computed it is copied from that run's rows (their computed_at says when) instead of
    computed again (`meta.scorecard_parts`): a new quarter's participations recompute the
    parts that read participations, not the register's outcomes. Rows an earlier call
    stored for the same run are replaced. Returns the stored rows.
    """
    code = code_version()
    parts = {part: loads_version(con, read) for part, read in scorecard_parts().items()}
    stored = {
        part: (fingerprint, version, source)
        for part, fingerprint, version, source in con.execute(
            "select part, fingerprint, code_version, run_id from meta.scorecard_parts "
            "where run_id in (select run_id from meta.scorecard)"
        ).fetchall()
    }
    kept = {p: stored[p][2] for p, f in parts.items() if stored.get(p, ())[:2] == (f, code)}
    fresh = scorecard_frame(con, skip=kept).assign(run_id=run_id, computed_at=_now())
    copies = [
        con.execute(
            f"select * from meta.scorecard where run_id = ? and {_part_rows(part)}", [source]
        ).df()
        for part, source in kept.items()
    ]
    frames = [f[SCORECARD_COLUMNS] for f in [fresh, *copies] if len(f)]
    frame = pd.concat(frames, ignore_index=True) if frames else fresh[SCORECARD_COLUMNS]
    frame = _ordered(frame.assign(run_id=run_id))
    frame = frame.astype({"period": "Int64", "numerator": "float64", "denominator": "float64"})
    for column in ("load_id", "period_type", "detail"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    _replace_run_rows(con, "meta.scorecard", run_id, frame)
    with transaction(con):  # after the rows: a part never points at rows not stored
        for part, fingerprint in parts.items():
            if part not in kept:
                con.execute(
                    "insert or replace into meta.scorecard_parts values (?, ?, ?, ?)",
                    [part, fingerprint, code, run_id],
                )
    return frame


def _replace_run_rows(
    con: duckdb.DuckDBPyConnection, table: str, run_id: str, frame: pd.DataFrame
) -> None:
    """Replace a run's rows of `table` by `frame`, in one transaction."""
    con.register("run_rows", frame)
    try:
        with transaction(con):
            con.execute(f"delete from {table} where run_id = ?", [run_id])
            con.execute(f"insert into {table} by name select * from run_rows")
    finally:
        con.unregister("run_rows")


class WarehouseBatches:
    """The warehouse's store of suite results by batch (`meta.expectation_batches`, one row
    per entity and batch kind): what `validate_warehouse` reuses for entities whose loads
    did not change. A result counts only for the code version that produced it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
        self.con, self.run_id, self.code = con, run_id, code_version()

    def get(self, fingerprint: str) -> StoredBatch | None:
        from schemas.expectations import StoredBatch

        found = self.con.execute(
            "select stored from meta.expectation_batches "
            "where fingerprint = ? and code_version = ?",
            [fingerprint, self.code],
        ).fetchall()
        return StoredBatch(**json.loads(found[0][0])) if found else None

    def put(self, fingerprint: str, stored: StoredBatch) -> None:
        with transaction(self.con):
            self.con.execute(
                "delete from meta.expectation_batches where entity = ? and batch = ?",
                [stored.entity, stored.batch],
            )
            self.con.execute(
                "insert into meta.expectation_batches values (?, ?, ?, ?, ?, ?, ?)",
                [
                    stored.entity,
                    stored.batch,
                    fingerprint,
                    self.code,
                    json.dumps(asdict(stored)),
                    self.run_id,
                    _now(),
                ],
            )


def run_expectations(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    out_dir: Path,
    settings: ExpectationSettings | None = None,
) -> ExpectationsRun:
    """Validate the warehouse with Great Expectations, store the results, build Data Docs.

    Entities whose loads are those of an earlier audit (same code) are not validated
    again: that audit's suite results are reused (`WarehouseBatches`). Results go to
    meta.expectation_results (replacing this run's earlier rows); Data Docs, which render
    offline, to `<out_dir>/data_docs/index.html`. Returns the stored rows and the batches
    reused.
    """
    from schemas.expectations import validate_warehouse

    docs = Path(out_dir) / "data_docs"  # its unchanged pages are kept (validate_warehouse)
    run = validate_warehouse(
        con,
        run_name=run_id,
        settings=settings,
        docs_dir=docs,
        store=WarehouseBatches(con, run_id),
    )
    frame = run.results.assign(run_id=run_id, validated_at=_now())
    _replace_run_rows(con, "meta.expectation_results", run_id, frame)
    return ExpectationsRun(frame, run.reused)


@dataclass(frozen=True)
class ExpectationsRun:
    """What `run_expectations` stored, and which batches' results it reused."""

    results: pd.DataFrame
    reused: list[str]


DOCS_STAMP = ".audited"  # in the Data Docs folder: the data and code version it shows


def _audit_key(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    return data_version(con), code_version()


def reusable_audit(con: duckdb.DuckDBPyConnection, out_dir: Path) -> str | None:
    """The latest run audited on the same data and code whose Data Docs are still those
    in `<out_dir>/data_docs`, if any: its scorecard and expectation results hold as they are."""
    version, code = _audit_key(con)
    stamp = Path(out_dir) / "data_docs" / DOCS_STAMP
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != f"{version} {code}":
        return None
    rows = con.execute(
        "select run_id from meta.audits where data_version = ? and code_version = ? "
        "order by audited_at desc limit 1",
        [version, code],
    ).fetchall()
    return rows[0][0] if rows else None


def record_audit(
    con: duckdb.DuckDBPyConnection, run_id: str, out_dir: Path, reused_from: str | None = None
) -> None:
    """Note that `run_id` was audited (or reused `reused_from`'s audit), copying the reused
    run's scorecard and expectation results to `run_id`; stamp the Data Docs folder."""
    version, code = _audit_key(con)
    with transaction(con):
        if reused_from is not None:
            for table in ("meta.scorecard", "meta.expectation_results"):
                con.execute(f"delete from {table} where run_id = ?", [run_id])
                con.execute(
                    f"insert into {table} by name select * replace (?::varchar as run_id) "
                    f"from {table} where run_id = ?",
                    [run_id, reused_from],
                )
        con.execute(
            "insert into meta.audits values (?, ?, ?, ?, ?)",
            [run_id, version, code, reused_from, _now()],
        )
    docs = Path(out_dir) / "data_docs"
    if docs.is_dir():
        (docs / DOCS_STAMP).write_text(f"{version} {code}", encoding="utf-8")


def read_audit(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's stored scorecard and expectation results."""
    return (
        con.execute("select * from meta.scorecard where run_id = ?", [run_id]).df(),
        con.execute("select * from meta.expectation_results where run_id = ?", [run_id]).df(),
    )


# --- presenting ---------------------------------------------------------------------------


_DASH = "[dim]-[/dim]"


def _share(value: Any, good: float = 0.99, fair: float = 0.95) -> str:
    """A share as a percentage, green at or above `good`, yellow above `fair`, else red."""
    if value is None or pd.isna(value):
        return _DASH
    style = "green" if value >= good else "yellow" if value >= fair else "red"
    return f"[{style}]{value:.1%}[/{style}]"


def format_scorecard(df: pd.DataFrame) -> Table:
    """A one-row-per-entity summary of the scorecard (entity grain) for the terminal."""
    # whole-entity figures (detail null): all columns, all checks, all firms, all programs
    overall = df[(df["grain"] == "entity") & df["detail"].isna()]
    table = Table(title="Data quality scorecard (submitted rows: current rows and quarantine)")
    for header in (
        "entity",
        "complete",
        "valid",
        "unique",
        "consistent",
        "timeliness",
        "attrition",
        "response",
    ):
        table.add_column(header, justify="left" if header == "entity" else "right")
    for entity in ENTITIES:
        rows = overall[overall["entity"] == entity]
        if rows.empty:
            continue
        value = dict(zip(rows["dimension"], rows["value"], strict=True))
        days, attrition = value.get("timeliness"), value.get("attrition")
        table.add_row(
            entity,
            _share(value.get("completeness")),
            _share(value.get("validity")),
            _share(value.get("uniqueness"), good=1.0, fair=0.999),
            _share(value.get("consistency")),
            _DASH if days is None or pd.isna(days) else f"{days:,.0f} d",
            _DASH if attrition is None or pd.isna(attrition) else f"{attrition:.1%}",
            _share(value.get("response_rate"), good=0.7, fair=0.5),
        )
    table.caption = (
        "complete: required cells filled; valid: rows loaded / rows submitted; unique: rows "
        "not duplicated (quarantined duplicates count); consistent: rows "
        "passing cross-entity checks; timeliness: days from the end of the latest period to "
        "its first load; attrition: firms seen in t-1 and not in t; response: beneficiaries "
        "who answered the client survey. Details by submission and period: meta.scorecard."
    )
    return table
