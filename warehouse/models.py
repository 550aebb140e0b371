"""Build the warehouse's SQL models in their declared order, and run its data checks.

Models live in `models/<layer>/<name>.sql`, one `select` each; `models/models.yml` declares
their order and documents their columns. Staging models become views, marts become tables.
Checks live in `checks/*.sql`: each is a query that must return zero rows.

Agency-declared extra columns (`warehouse.extras`) are rendered into a model at its marker
`/* extra_columns(<entity>) */` (at the end of a select list whose relation is aliased as
the entity): one `, <entity>."<name>"` line per extra, and for money
`/* extra_columns(<entity>, usd_factor=<expr>) */` gives `<name> * <expr> as <name>_usd`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import duckdb
import yaml

from schemas.extras import money_name
from warehouse.db import quote_ident, transaction
from warehouse.extras import raw_extra_columns
from warehouse.runs import code_version

ROOT = resources.files("warehouse")
MATERIALIZATION = {"staging": "view", "marts": "table"}
EXTRAS_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)/\* extra_columns\((?P<entity>\w+)(?:, usd_factor=(?P<factor>[\w.]+))?\) \*/"
    r"[ \t]*$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Model:
    """One SQL model: its name, layer, documentation and query."""

    name: str
    layer: str
    description: str
    columns: dict[str, str]
    sql: str
    materialized: str  # view | table

    @property
    def relation(self) -> str:
        return f"{self.layer}.{quote_ident(self.name)}"


@dataclass(frozen=True)
class CheckResult:
    """A data check and the rows that break it (zero rows means it passed)."""

    name: str
    failing_rows: int
    sample: list[tuple[Any, ...]]

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


def load_models() -> list[Model]:
    """The models declared in models.yml, in build order, with their SQL."""
    declared = yaml.safe_load((ROOT / "models" / "models.yml").read_text(encoding="utf-8"))
    return [
        Model(
            name=m["name"],
            layer=m["layer"],
            description=m.get("description", ""),
            columns=m.get("columns", {}),
            sql=(ROOT / "models" / m["layer"] / f"{m['name']}.sql").read_text(encoding="utf-8"),
            materialized=m.get("materialized", MATERIALIZATION[m["layer"]]),
        )
        for m in declared["models"]
    ]


def set_variables(con: duckdb.DuckDBPyConnection, variables: dict[str, Any]) -> None:
    """Bind run settings (e.g. price_base_year) as DuckDB variables the SQL reads."""
    for name, value in variables.items():
        con.execute(f"set variable {quote_ident(name)} = ?", [value])


def render_extras(sql: str, extras: dict[str, dict[str, str]]) -> str:
    """The model's SQL with the declared extra columns ({entity: {name: kind}}) written in
    after each `extra_columns` marker (see the module docstring)."""

    def columns(match: re.Match[str]) -> str:
        entity, indent, factor = match["entity"], match["indent"], match["factor"]
        lines = [match[0]]
        for name, kind in extras.get(entity, {}).items():
            column = f"{entity}.{quote_ident(name)}"
            if kind == "money":
                if factor is None:
                    raise ValueError(
                        f"money column {name!r} of {entity}: no usd_factor at {match[0]!r}"
                    )
                column = f"{column} * {factor} as {quote_ident(money_name(name))}"
            lines.append(f"{indent}, {column}")
        return "\n".join(lines)

    return EXTRAS_MARKER.sub(columns, sql)


def build_fingerprint(
    con: duckdb.DuckDBPyConnection, variables: dict[str, Any], rendered: list[str]
) -> str:
    """What the models' rows are a function of: every raw table's rows (their count and a
    sum of row hashes, so any edit shows, in whatever order the rows are; ~0.5 s for ten
    million outcome rows), the models' rendered SQL, the run's variables, the code
    version and DuckDB's (whose functions the SQL calls)."""
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' order by 1"
        ).fetchall()
    ]
    content = [
        con.execute(
            f"select count(*), sum(hash(t)::hugeint) from raw.{quote_ident(name)} as t"
        ).fetchall()[0]
        for name in tables
    ]
    state = (
        tables,
        content,
        rendered,
        sorted(variables.items()),
        code_version(),
        duckdb.__version__,
    )
    return hashlib.sha256(repr(state).encode()).hexdigest()


def _models_present(con: duckdb.DuckDBPyConnection, models: list[Model]) -> bool:
    present = {
        (r[0], r[1])
        for r in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "union all select schema_name, view_name from duckdb_views()"
        ).fetchall()
    }
    return all((m.layer, m.name) in present for m in models)


def build_models(con: duckdb.DuckDBPyConnection, variables: dict[str, Any]) -> bool:
    """Create or replace every model, in order, in one transaction, with the declared extra
    columns rendered into the staging models that pass them through. Returns False when
    nothing was built because nothing changed: the raw tables, the models' SQL, the
    variables and the code are those of the last build (`build_fingerprint`), and every
    model is in place."""
    set_variables(con, variables)
    models = load_models()
    extras = raw_extra_columns(con)
    rendered = [render_extras(model.sql, extras) for model in models]
    fingerprint = build_fingerprint(con, variables, rendered)
    last = con.execute("select fingerprint from meta.model_builds").fetchall()
    if last == [(fingerprint,)] and _models_present(con, models):
        return False
    with transaction(con):
        for model, sql in zip(models, rendered, strict=True):
            con.execute(f"create or replace {model.materialized} {model.relation} as\n{sql}")
        con.execute("delete from meta.model_builds")
        con.execute(
            "insert into meta.model_builds values (?, ?)",
            [fingerprint, datetime.now(UTC).replace(tzinfo=None)],
        )
    return True


def run_checks(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """Run every data check; a check passes when its query returns no rows."""
    results = []
    for path in sorted((ROOT / "checks").iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".sql"):
            continue
        rows = con.execute(path.read_text(encoding="utf-8")).fetchall()
        results.append(CheckResult(path.name.removesuffix(".sql"), len(rows), rows[:5]))
    return results
