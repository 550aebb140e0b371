"""Agency-declared extra columns: an agency's own outcomes and firm attributes.

The contract (`schemas.contract`) names what every agency sends. An agency may send more
(new products launched, ISO certification, female ownership, a cluster) and use it in its
evaluation as an outcome, a covariate, an exact-match cell or a subgroup. Such a column is
declared per source, in the run config or in the source's mapping file:

    sources:
      outcomes: {path: outcomes.csv, extra_columns: {new_products: integer, export_sales_abroad: money}}
      firms: {path: firms.csv, extra_columns: {female_owned: number, cluster: text}}

Kinds: `number` (decimal, may be empty), `integer`, `money` (local currency at current
prices, like the contract's money columns: staging converts it to constant US dollars as
`<name>_usd`; outcomes only), `text`. A declared column is validated like a contract
column (a value that does not parse is quarantined with its reason), stored in the raw
table and passed through staging; a file without it leaves it empty for its rows.
Undeclared columns are still ignored.

This module holds the rules on names and kinds, and the pandera schema of an entity with
its declared extras (`contract_schema`), which both load engines validate with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Literal

import pandas as pd
import pandera.pandas as pa

from schemas.contract import ENTITIES, bounded

ExtraKind = Literal["number", "integer", "money", "text"]
EXTRA_KINDS: tuple[str, ...] = ("number", "integer", "money", "text")
# the entities whose staging model passes extras through (stg_firms, stg_outcomes)
EXTRA_ENTITIES: dict[str, tuple[str, ...]] = {
    "firms": ("number", "integer", "text"),  # money needs a year to deflate: outcomes only
    "outcomes": EXTRA_KINDS,
}
SQL_TYPES: dict[str, str] = {
    "number": "DOUBLE",
    "integer": "BIGINT",
    "money": "DOUBLE",
    "text": "VARCHAR",
}
_DTYPES: dict[str, object] = {
    "number": float,
    "integer": pd.Int64Dtype(),
    "money": float,
    "text": str,
}
_DESCRIPTIONS = {
    "number": "Agency-declared extra column: a number.",
    "integer": "Agency-declared extra column: a whole number.",
    "money": "Agency-declared extra column: money, local currency, current prices.",
    "text": "Agency-declared extra column: text.",
}
NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Columns the warehouse derives in staging and the evaluation panel, and names the
# estimators use: an extra of the same name would shadow one of them downstream.
# tests/test_extra_columns.py checks this covers stg_firms, stg_outcomes and the panel.
DERIVED_COLUMNS = frozenset(
    {
        "isic_division",
        "is_manufacturing",
        "is_exporter",
        "log_sales",
        "log_employment",
        "log_wage_per_worker",
        "log_va_per_worker",
        "exporter",
        "rd_intensity",
        "size_class",
        "sector",
        "cohort",
        "entry_year",
        "treated",
        "weight",
        "distance",
        "usd_constant_factor",
    }
)


class ExtraColumnError(ValueError):
    """An extra column declaration is wrong; the message is one line for the user."""


def money_name(name: str) -> str:
    """The staging name of a money column: converted to constant USD as `<name>_usd`."""
    return f"{name}_usd"


def staging_name(name: str, kind: str) -> str:
    """The name an extra column has in staging (and so in the marts)."""
    return money_name(name) if kind == "money" else name


@cache
def reserved_names() -> frozenset[str]:
    """Names an extra column may not take: every contract column of any entity, their
    `_usd` conversions, and the columns staging and the evaluation panel derive."""
    contract = {c for e in ENTITIES.values() for c in e.schema.columns}
    return frozenset(contract | {money_name(c) for c in contract} | DERIVED_COLUMNS)


def _taken(name: str) -> str:
    entities = [e.name for e in ENTITIES.values() if name in e.schema.columns]
    if entities:
        return f"a contract column of {', '.join(entities)}"
    return "a column the warehouse derives (in staging or the evaluation panel)"


@cache
def _sql_keywords() -> frozenset[str]:
    import duckdb  # only to list DuckDB's reserved words, once

    with duckdb.connect() as con:
        rows = con.execute(
            "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'"
        ).fetchall()
    return frozenset(str(r[0]).lower() for r in rows)


def check_name(name: str) -> None:
    """Raise ExtraColumnError (one line) if `name` cannot be an extra column's name."""
    if isinstance(name, str) and name.startswith("_"):
        raise ExtraColumnError(
            f"extra column {name!r}: names starting with '_' are the warehouse's own "
            "(_load_id, _row_number...); choose another name"
        )
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ExtraColumnError(
            f"extra column {name!r}: use lower snake case (a-z, 0-9, _; starting with a "
            "letter, at most 63 characters)"
        )
    if name in reserved_names():
        raise ExtraColumnError(f"extra column {name!r}: {_taken(name)}; choose another name")
    if name in _sql_keywords():
        raise ExtraColumnError(f"extra column {name!r}: an SQL keyword; choose another name")


def check_extra_columns(entity: str, declared: Mapping[str, str]) -> dict[str, str]:
    """Validate the extra columns declared for `entity`; returns them as a plain dict.

    Raises ExtraColumnError with one line: entity not accepting extras, bad name, unknown
    kind, money on firms, or two extras giving the same staging column."""
    declared = dict(declared or {})
    if not declared:
        return {}
    if entity not in EXTRA_ENTITIES:
        raise ExtraColumnError(
            f"{entity}: extra columns are accepted on {' and '.join(EXTRA_ENTITIES)} only"
        )
    allowed = EXTRA_ENTITIES[entity]
    staged: dict[str, str] = {}
    for name, kind in declared.items():
        check_name(name)
        if kind not in EXTRA_KINDS:
            raise ExtraColumnError(
                f"extra column {name!r}: unknown kind {kind!r}; known: {', '.join(EXTRA_KINDS)}"
            )
        if kind not in allowed:
            raise ExtraColumnError(
                f"extra column {name!r}: kind {kind} is not allowed on {entity} (money needs "
                f"a country and year to convert: declare it on outcomes); allowed: "
                f"{', '.join(allowed)}"
            )
        out = staging_name(name, kind)
        if out in reserved_names():
            raise ExtraColumnError(
                f"extra column {name!r}: staging would name it {out!r}, {_taken(out)}; "
                "choose another name"
            )
        if out in staged:
            raise ExtraColumnError(
                f"extra columns {staged[out]!r} and {name!r} would both be {out!r} in staging"
            )
        staged[out] = name
    return declared


def merge_extra_columns(
    entity: str, *declarations: Mapping[str, str] | None, origin: str = "mapping"
) -> dict[str, str]:
    """One declaration from several (the run config's and the mapping's): a column declared
    in both must have the same kind there. Validated with `check_extra_columns`."""
    merged: dict[str, str] = {}
    for declared in declarations:
        for name, kind in (declared or {}).items():
            if name in merged and merged[name] != kind:
                raise ExtraColumnError(
                    f"extra column {name!r} is declared {merged[name]} in the config and "
                    f"{kind} in {origin}"
                )
            merged[name] = kind
    return check_extra_columns(entity, merged)


def extra_kinds(declared: Mapping[str, str]) -> dict[str, Literal["integer", "number"]]:
    """The numeric extras as the mapping's number kinds (for decimal commas and the like)."""
    out: dict[str, Literal["integer", "number"]] = {}
    for name, kind in declared.items():
        if kind == "integer":
            out[name] = "integer"
        elif kind in {"number", "money"}:
            out[name] = "number"
    return out


def contract_schema(entity: str, extras: Mapping[str, str] | None = None) -> pa.DataFrameSchema:
    """The entity's pandera schema, extended with its declared extra columns: nullable,
    coerced, not required (a file without one leaves it empty), and no check but a
    number's magnitude bound (`schemas.contract.bounded`)."""
    schema = ENTITIES[entity].schema
    if not extras:
        return schema
    return bounded(  # numbers bounded as the contract's own (schemas.contract.bounded)
        schema.add_columns(
            {
                name: pa.Column(
                    _DTYPES[kind],
                    nullable=True,
                    coerce=True,
                    required=False,
                    description=_DESCRIPTIONS[kind],
                )
                for name, kind in extras.items()
            }
        )
    )


def check_declarations(declared: Mapping[str, Mapping[str, str]]) -> None:
    """Validate the extra columns of every source ({entity: {name: kind}}), and that two
    entities do not declare one name (the evaluation panel joins firms and outcomes).
    Raises ExtraColumnError with one line naming `sources.<entity>.extra_columns`."""
    owner: dict[str, str] = {}
    for entity, columns in declared.items():
        try:
            check_extra_columns(entity, columns)
        except ExtraColumnError as exc:
            raise ExtraColumnError(f"sources.{entity}.extra_columns: {exc}") from None
        for name, kind in (columns or {}).items():
            out = staging_name(name, kind)
            if out in owner:
                raise ExtraColumnError(
                    f"sources.{entity}.extra_columns: {name!r} is also declared on "
                    f"{owner[out]}; an extra column name is used once"
                )
            owner[out] = entity
