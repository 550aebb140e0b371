"""Great Expectations suites over the loaded warehouse tables, and Data Docs that work offline.

What is validated. Per entity of the contract (`schemas.contract.ENTITIES`) there are two
batches, each a SELECT over the warehouse (`current_rows_sql`, `submission_rows_sql`):

- `current_rows`: the entity's current rows (`_superseded_by is null`), the rows every
  analysis uses. Its suite `<entity>` is derived from the contract: not-null for required
  columns, a "mostly" completeness threshold for nullable ones, uniqueness of the entity
  key, ranges, allowed values, formats, the contract's row rule (end_date >= start_date),
  and for outcomes the cross-column rules value_added <= sales and exports <= sales, plus a
  distribution-shift check of key outcomes (sales, employment): per country (one currency),
  the median of the latest year t must lie within a factor 1 + `median_band` of year
  t-1's (0.8 to 1.25 times it by default), and the KL
  divergence of year t against year t-1's deciles must stay below `kl_threshold`. Both
  bounds are widened by the sampling noise expected at the country's number of rows
  (`median_z` standard errors; the `kl_quantile` of the KL between two samples of one
  distribution), which matters for small programs and vanishes for large ones.
- `latest_submission`: the rows as the agencies submitted them, rejected ones included
  (`submission_rows_sql`): the current rows (which the loads let in) and the rows quarantined
  by the loads whose quarantine stands now (`meta.load_supersession`, as the scorecard and
  the quarantine report count them), read from `meta.quarantine.record` (migration 020)
  and cast to the contract's types with TRY_CAST. Rows the agency itself left out
  (`dropped_by_decision`) are not submitted rows; rows quarantined before records were
  kept have no values and are left out too. Its suite `<entity>_latest_submission` holds
  the current-rows suite's expectations (contract, row rules, key uniqueness, shift
  checks), so a duplicate or an out-of-range value fails it with its count and examples,
  and adds: per typed column, `unparsed_<column>` (the submitted text where it does not
  parse as the column's type) must be empty; per cross-entity rule
  (`warehouse/rules/*.sql`) and reference check, `quarantined_as_<rule>` (the quarantine's
  value for the rows that rule rejected) must be empty; `quarantined_as_broken_line` (the
  lines the structural check set aside: their columns are empty) must be empty; and the
  rows the latest load let in number within +-`row_count_tolerance` of the previous load's
  (or, for a first submission, are not none).

How. Every row of every batch is validated inside DuckDB (`schemas.expectation_sql`): DuckDB
computes the metrics each expectation needs and the expectation's own Great Expectations
code judges them, so results and Data Docs are those of a pandas run. The rows never
become a frame (only the shift checks' reference, two years of two outcomes, is read as
numbers), so memory is DuckDB's, bounded by its `memory_limit`, and the audit of a
national register (1M firms x 15 years) fits on one small machine. GX 1.x
cannot validate DuckDB through its own SQL datasource, and its pandas engine is too slow
for such a register: `schemas/expectation_sql.py` says why, with figures. Each result says
how many rows were validated out of how many (all of them).

The reference: frames. `validate_warehouse(method="frames")` validates pandas frames with
GX's pandas engine, as the audit did before; the tests compare both paths. A current-rows
frame above `max_rows` rows is a deterministic sample of keys: the rows whose first key
column (firm_id for firm-level entities) falls in the lowest `ceil(1000 * max_rows / rows)`
of 1000 hash buckets, so all rows of a sampled firm are in. A submission frame above
`max_rows` keeps the same key sample of its loaded rows and every quarantined row (a key
sample of them too when they alone exceed `max_rows`); its row count expectation is then
left out. Batches are built and validated one entity at a time.

Data Docs. GX renders pages that load Bootstrap, Bootstrap Table, jQuery, Font Awesome and
Vega from CDNs; offline they show bare, partly empty pages (the index table is drawn by
Bootstrap Table). `make_docs_offline` removes every CDN reference and links local assets
from `reports/data_docs/`: a stylesheet written for the classes GX uses, a small script
that provides what the pages call (bootstrapTable, tabs, collapse, tooltips, vegaEmbed
for GX's bar charts), and jQuery 3.7.1 (slim build, MIT licence), copied unchanged from
the `great_tables` package.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.core.expectation_suite import expectationSuiteSchema
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    expectationSuiteValidationResultSchema,
)
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.expectations.row_conditions import Column
from great_expectations.validator.validation_statistics import calc_validation_statistics
from scipy import stats

from schemas.contract import ENTITIES
from schemas.structure import RULES as STRUCTURE_RULES
from warehouse.db import quote_ident
from warehouse.load import loads_version

CURRENT = "current_rows"
SUBMISSION = "latest_submission"
UNPARSED = "unparsed_"  # submission frame: a typed column's texts that do not parse
FLAG = "quarantined_as_"  # submission frame: the quarantine's value of a rule's rejections
BROKEN_LINE = "broken_line"
BROKEN_RULES = tuple(STRUCTURE_RULES)  # the structural check's rules (schemas/structure.py)
DROPPED = "dropped_by_decision"  # rows the agency itself left out: not submitted rows
SITE_NAME = "mes_eval_quality"
DATASOURCE = "warehouse"  # the GX datasource the batches belong to
ASSETS = resources.files("reports") / "data_docs"
RESULT_COLUMNS = [
    "entity",
    "suite",
    "batch",
    "load_id",
    "expectation",
    "column_name",
    "dimension",
    "parameters",
    "success",
    "observed_value",
    "unexpected_count",
    "unexpected_percent",
    "element_count",
    "rows_validated",
    "rows_total",
    "exception",
]
# each firm's country (one row per firm even if the firms table has duplicates)
CURRENT_COUNTRY = (
    "select firm_id, any_value(country) as country from raw.firms "
    "where _superseded_by is null group by firm_id"
)
# counts and percentages of unexpected values, and a few examples of them for Data Docs
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
# Nullable contract columns that are empty by design for many rows: no threshold, or a lower one.
DEFAULT_MOSTLY_OVERRIDES: dict[tuple[str, str], float | None] = {
    ("programs", "end_year"): None,  # empty while the program runs
    ("outcomes", "wave"): None,  # only rows from surveys have a wave
    ("participations", "end_date"): 0.5,  # empty while the service is ongoing
}


@dataclass(frozen=True)
class ExpectationSettings:
    """Thresholds of the suites; the defaults suit annual full-extract submissions."""

    nullable_mostly: float = 0.9  # a nullable column must be at least this share filled
    mostly_overrides: Mapping[tuple[str, str], float | None] = field(
        default_factory=lambda: dict(DEFAULT_MOSTLY_OVERRIDES)
    )
    row_count_tolerance: float = 0.5  # latest load's rows within +-50% of the previous load's
    shift_outcomes: tuple[str, ...] = ("sales", "employment")
    median_band: float = 0.25  # median of year t within a factor 1.25 of year t-1's, the
    median_z: float = 2.0  # log band widened by this many standard errors of the change
    kl_threshold: float = 0.1  # KL divergence of year t against year t-1's deciles, plus
    kl_quantile: float = 0.95  # this quantile of the KL between two samples of one distribution
    min_shift_rows: int = 30  # fewer rows in t or t-1 (per country): no shift check
    max_rows: int = 250_000  # frames (the reference path): larger ones are a key sample
    bucket_rows: int = 6_000_000  # in DuckDB: uniqueness checked by key-hash buckets this big


@dataclass
class EntityBatch:
    """One frame to validate and the suite to validate it with."""

    entity: str
    batch: str  # CURRENT | SUBMISSION
    frame: pd.DataFrame
    suite: gx.ExpectationSuite
    load_id: str | None  # the entity's latest load
    rows_total: int  # rows the frame was drawn from

    @property
    def asset(self) -> str:
        # no dots: GX turns them into directories and then links its static files wrongly
        return self.entity if self.batch == CURRENT else f"{self.entity}_{self.batch}"

    @property
    def rows_validated(self) -> int:
        """Rows of the frame (fewer than `rows_total` when a key sample)."""
        return len(self.frame)


@dataclass
class EntityRows:
    """One batch of warehouse rows, as a SELECT validated inside DuckDB, and its suite."""

    entity: str
    batch: str  # CURRENT | SUBMISSION
    sql: str  # the batch's rows, with _load_id and _row_number
    suite: gx.ExpectationSuite
    load_id: str | None  # the entity's latest load
    rows_total: int
    lean_sql: str | None = None  # the same rows without columns that cost a join

    @property
    def asset(self) -> str:
        """The batch's name in Data Docs, as `EntityBatch.asset`."""
        return self.entity if self.batch == CURRENT else f"{self.entity}_{self.batch}"

    @property
    def rows_validated(self) -> int:
        """Every row of the batch."""
        return self.rows_total


@dataclass(frozen=True)
class StoredBatch:
    """A batch whose suite result an earlier audit stored (see `BatchStore`)."""

    entity: str
    batch: str  # CURRENT | SUBMISSION
    load_id: str | None
    rows_validated: int
    rows_total: int
    suite: dict[str, Any]  # ExpectationSuite.to_json_dict()
    result: dict[str, Any]  # ExpectationSuiteValidationResult.to_json_dict()

    @property
    def asset(self) -> str:
        return self.entity if self.batch == CURRENT else f"{self.entity}_{self.batch}"

    @classmethod
    def of(cls, batch: EntityRows, result: ExpectationSuiteValidationResult) -> StoredBatch:
        return cls(
            batch.entity,
            batch.batch,
            batch.load_id,
            batch.rows_validated,
            batch.rows_total,
            # through JSON text: what is stored is what a later audit reads back
            json.loads(json.dumps(batch.suite.to_json_dict())),
            json.loads(json.dumps(result.to_json_dict())),
        )


class BatchStore(Protocol):
    """Suite results of earlier audits by batch fingerprint (`batch_fingerprint`), so an
    audit validates again only the entities whose data changed."""

    def get(self, fingerprint: str) -> StoredBatch | None: ...

    def put(self, fingerprint: str, stored: StoredBatch) -> None: ...


@dataclass
class ValidationRun:
    """Outcome of `validate_warehouse`: tidy results and, if built, the Data Docs index."""

    results: pd.DataFrame
    suite_results: list[ExpectationSuiteValidationResult]
    docs_index: Path | None
    reused: list[str] = field(default_factory=list)  # assets whose stored result was used


# --- suites -------------------------------------------------------------------------------


def contract_expectations(
    entity: str, settings: ExpectationSettings | None = None
) -> list[gxe.Expectation]:
    """The expectations the contract implies for an entity's current rows."""
    settings = settings or ExpectationSettings()
    spec = ENTITIES[entity]
    expectations: list[gxe.Expectation] = []
    for name, column in spec.schema.columns.items():
        if not column.nullable:
            expectations.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=name, meta={"dimension": "completeness"}, notes="Required column."
                )
            )
        else:
            mostly = settings.mostly_overrides.get((entity, name), settings.nullable_mostly)
            if mostly is not None:
                expectations.append(
                    gxe.ExpectColumnValuesToNotBeNull(
                        column=name,
                        mostly=mostly,
                        meta={"dimension": "completeness"},
                        notes=f"Nullable column: at least {mostly:.0%} of rows filled.",
                    )
                )
        expectations.extend(_check_expectations(name, column.checks))
    if len(spec.key) == 1:
        expectations.append(
            gxe.ExpectColumnValuesToBeUnique(column=spec.key[0], meta={"dimension": "uniqueness"})
        )
    else:
        expectations.append(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=list(spec.key), meta={"dimension": "uniqueness"}
            )
        )
    if spec.required:
        expectations.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=1, meta={"dimension": "row_count"}, notes="A required entity."
            )
        )
    expectations.extend(_row_rules(entity))
    return expectations


def _check_expectations(column: str, checks: Iterable[Any]) -> list[gxe.Expectation]:
    """Translate a column's pandera checks (ranges, sets, formats, lengths) into expectations."""
    bounds: dict[str, Any] = {}
    found: list[gxe.Expectation] = []
    for check in checks:
        params = check.statistics or {}
        if check.name == "greater_than_or_equal_to":
            bounds["min_value"] = params["min_value"]
        elif check.name == "greater_than":
            bounds.update(min_value=params["min_value"], strict_min=True)
        elif check.name == "less_than_or_equal_to":
            bounds["max_value"] = params["max_value"]
        elif check.name == "less_than":
            bounds.update(max_value=params["max_value"], strict_max=True)
        elif check.name == "isin":
            found.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=column,
                    value_set=list(params["allowed_values"]),
                    meta={"dimension": "allowed_values"},
                )
            )
        elif check.name == "str_matches":
            found.append(
                gxe.ExpectColumnValuesToMatchRegex(
                    column=column, regex=params["pattern"], meta={"dimension": "format"}
                )
            )
        elif check.name == "str_length":
            found.append(
                gxe.ExpectColumnValueLengthsToBeBetween(
                    column=column,
                    min_value=params.get("min_value"),
                    max_value=params.get("max_value"),
                    meta={"dimension": "format"},
                )
            )
    if bounds:
        found.insert(
            0,
            gxe.ExpectColumnValuesToBeBetween(column=column, meta={"dimension": "range"}, **bounds),
        )
    return found


def _row_rules(entity: str) -> list[gxe.Expectation]:
    """Rules across columns: the contract's dataframe check and outcome identities."""
    if entity == "participations":  # the contract's end_after_start check
        return [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="end_date",
                column_B="start_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta={"dimension": "consistency"},
            )
        ]
    if entity == "outcomes":
        return [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="sales",
                column_B=part,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta={"dimension": "consistency"},
                notes=f"{part} cannot exceed sales.",
            )
            for part in ("value_added", "exports")
        ]
    return []


def shift_expectations(
    con: duckdb.DuckDBPyConnection,
    settings: ExpectationSettings | None = None,
    validated: pd.DataFrame | None = None,
    relation: str | None = None,
) -> list[gxe.Expectation]:
    """Distribution shift of key outcomes, latest year against the one before, per country.

    The reference (year t-1) is computed over all current rows in DuckDB; the expectations
    apply to year t's rows of the validated frame, or of the rows of the SELECT `relation`
    (columns `year` and `_country`), whose number sets the allowance for sampling noise (a
    key sample of a large table has fewer rows than the year holds).
    """
    settings = settings or ExpectationSettings()
    years = con.execute(
        "select max(year) from raw.outcomes where _superseded_by is null"
    ).fetchall()
    if not years or years[0][0] is None:
        return []
    year = int(years[0][0])
    found: list[gxe.Expectation] = []
    for outcome in settings.shift_outcomes:
        column = quote_ident(outcome)
        checked_in: dict[str, int] = {}
        if relation is not None:  # year t's rows with a value, per country, as validated
            checked_in = {
                str(country): int(n)
                for country, n in con.execute(
                    f"select _country, count(*) from ({relation}) where year = {year} "
                    f"and {column} is not null and not isnan({column}) group by all"
                ).fetchall()
            }
        frame = con.sql(
            f"select f.country, o.year, o.{column} as value "
            f"from raw.outcomes as o join ({CURRENT_COUNTRY}) as f on f.firm_id = o.firm_id "
            f"where o._superseded_by is null and o.{column} is not null "
            f"and o.year in ({year - 1}, {year})"
        ).df()
        for country, rows in frame.groupby("country", sort=True):
            before = rows.loc[rows["year"] == year - 1, "value"].to_numpy(dtype=float)
            after = rows.loc[rows["year"] == year, "value"].to_numpy(dtype=float)
            if min(len(before), len(after)) < settings.min_shift_rows:
                continue
            checked = checked_in.get(str(country), 0) if relation is not None else len(after)
            if validated is not None:
                rows_checked = (validated["year"] == year) & (validated["_country"] == country)
                checked = int((rows_checked & validated[outcome].notna()).sum())
            found.extend(_shift_pair(outcome, str(country), year, before, after, settings, checked))
    return found


def _shift_pair(
    outcome: str,
    country: str,
    year: int,
    before: np.ndarray,
    after: np.ndarray,
    settings: ExpectationSettings,
    checked: int | None = None,
) -> list[gxe.Expectation]:
    """A median band and a KL-divergence bound for one outcome and country, year t vs t-1
    (`checked`: year t's rows the expectations will see, when a sample of `after`)."""
    condition = (Column("year") == year) & (Column("_country") == country)
    n_before, n_after = len(before), max(1, checked if checked is not None else len(after))
    median = float(np.median(before))
    # Sampling noise matters in small countries and programs: the band is widened by
    # median_z standard errors of the change in log medians (asymptotic SE of a median,
    # 1.2533 sd / sqrt(n), both years treated as independent samples: conservative).
    positive = np.log(before[before > 0])
    spread = float(np.std(positive, ddof=1)) if len(positive) > 1 else 0.0
    se = 1.2533 * spread * math.sqrt(1 / n_before + 1 / n_after)
    half_width = math.log1p(settings.median_band) + settings.median_z * se
    low, high = (_round(median * math.exp(sign * half_width)) for sign in (-1, 1))
    # KL partition: year t-1's deciles, open-ended at both ends so no value of year t falls
    # outside it; weights are t-1's actual shares (ties can merge deciles)
    edges = np.unique(np.quantile(before, np.linspace(0.1, 0.9, 9)))
    bins = [-math.inf, *map(float, edges), math.inf]
    counts = np.histogram(before, bins=np.array(bins))[0]
    weights = (counts / counts.sum()).tolist()
    # Two samples of one distribution differ too: 2 n KL is about chi-square with (bins - 1)
    # degrees of freedom, n = n_before n_after / (n_before + n_after); its kl_quantile is
    # added to the threshold (0.28 for 60 rows in each year, 0.003 for 6,000).
    n_eff = n_before * n_after / (n_before + n_after)
    noise = float(stats.chi2.ppf(settings.kl_quantile, len(weights) - 1)) / (2 * n_eff)
    threshold = _round(settings.kl_threshold + noise, 3)
    meta = {"dimension": "distribution_shift", "country": country, "year": year}
    note = f"{outcome} in {year} ({n_after:,} rows), {country}, against {year - 1} ({n_before:,})"
    return [
        gxe.ExpectColumnMedianToBeBetween(
            column=outcome,
            min_value=low,
            max_value=high,
            row_condition=condition,
            meta=meta,
            notes=(
                f"{note}: median within a factor {1 + settings.median_band:g} of "
                f"{median:,.6g}, widened by {settings.median_z:g} standard errors "
                f"({se:.3f} in logs)."
            ),
        ),
        gxe.ExpectColumnKLDivergenceToBeLessThan(
            column=outcome,
            partition_object={"bins": bins, "weights": weights},
            threshold=threshold,
            internal_weight_holdout=0.01 if min(weights) == 0 else 0.0,
            row_condition=condition,
            meta=meta,
            notes=(
                f"{note}: KL divergence from {year - 1}'s deciles below "
                f"{settings.kl_threshold:g} + {noise:.3f} for sampling noise."
            ),
        ),
    ]


def _round(value: float, digits: int = 6) -> float:
    """Round to significant digits: bounds read better in Data Docs (13.0875, not 13.0874999)."""
    return float(f"{value:.{digits}g}")


def _suite(name: str, expectations: Iterable[gxe.Expectation]) -> gx.ExpectationSuite:
    # passed to the constructor: add_expectation() would need an active data context
    return gx.ExpectationSuite(name=name, expectations=list(expectations))


# --- batches ------------------------------------------------------------------------------


def entity_batches(
    con: duckdb.DuckDBPyConnection,
    settings: ExpectationSettings | None = None,
    entities: Iterable[str] | None = None,
) -> Iterator[EntityBatch]:
    """The frames and suites of every entity (or of `entities`) loaded at least once.

    A generator: one entity's frames are read when the previous ones have been validated,
    so memory holds one entity at a time."""
    settings = settings or ExpectationSettings()
    wanted = set(ENTITIES if entities is None else entities)
    for entity in (e for e in ENTITIES if e in wanted):
        loads = _latest_loads(con, entity)
        if not loads:
            continue
        latest = loads[0][0]
        frame, total = current_rows(con, entity, settings.max_rows)
        expectations = contract_expectations(entity, settings)
        if entity == "outcomes":
            expectations += shift_expectations(con, settings, frame)
        yield EntityBatch(entity, CURRENT, frame, _suite(entity, expectations), latest, total)
        del frame
        submitted, total = submission_rows(con, entity, settings.max_rows)
        suite = _suite(
            f"{entity}_{SUBMISSION}",
            submission_expectations(
                con,
                entity,
                submitted.columns,
                loads,
                settings,
                sampled=len(submitted) < total,
                validated=submitted,
            ),
        )
        yield EntityBatch(entity, SUBMISSION, submitted, suite, latest, total)


def entity_rows(
    con: duckdb.DuckDBPyConnection,
    settings: ExpectationSettings | None = None,
    entities: Iterable[str] | None = None,
) -> Iterator[EntityRows]:
    """The row batches (as SQL) and suites of every entity (or of `entities`) loaded at
    least once: what `entity_batches` reads into frames, whole."""
    settings = settings or ExpectationSettings()
    wanted = set(ENTITIES if entities is None else entities)
    for entity in (e for e in ENTITIES if e in wanted):
        loads = _latest_loads(con, entity)
        if not loads:
            continue
        latest = loads[0][0]
        current = current_rows_sql(entity, ordered=False)  # listed in order where needed
        lean = current_rows_sql(entity, ordered=False, country=False)
        expectations = contract_expectations(entity, settings)
        if entity == "outcomes":
            expectations += shift_expectations(con, settings, relation=current)
        suite = _suite(entity, expectations)
        yield EntityRows(entity, CURRENT, current, suite, latest, _count(con, lean), lean)
        submitted = submission_rows_sql(con, entity, ordered=False)
        suite = _suite(
            f"{entity}_{SUBMISSION}",
            submission_expectations(
                con, entity, con.sql(submitted).columns, loads, settings, relation=submitted
            ),
        )
        lean = submission_rows_sql(con, entity, ordered=False, country=False)
        yield EntityRows(entity, SUBMISSION, submitted, suite, latest, _count(con, lean), lean)


def _latest_loads(con: duckdb.DuckDBPyConnection, entity: str) -> list[tuple[Any, ...]]:
    """(load_id, rows_loaded) of the entity's latest load and the one before, latest first."""
    return con.execute(
        "select load_id, rows_loaded from meta.loads where entity = ? "
        "order by sequence desc, loaded_at desc limit 2",
        [entity],
    ).fetchall()


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    found = con.execute(f"select count(*) from ({sql})").fetchone()
    return int(found[0]) if found else 0


def current_rows_sql(
    entity: str, where: str = "true", *, ordered: bool = True, country: bool = True
) -> str:
    """SELECT of an entity's current rows: the contract's columns, `_load_id`,
    `_row_number` and, for outcomes if `country`, `_country` (the firm's country); only the
    rows of `where` (over `t`, the raw table), in load and file order if `ordered`."""
    spec = ENTITIES[entity]
    columns = ", ".join(f"t.{quote_ident(c)}" for c in spec.schema.columns)
    firm_country, join = "", ""
    if entity == "outcomes" and country:  # the shift checks compare like with like
        firm_country = ", f.country as _country"
        join = f"left join ({CURRENT_COUNTRY}) as f on f.firm_id = t.firm_id"
    return (
        f"select {columns}, t._load_id, t._row_number{firm_country} "
        f"from raw.{quote_ident(entity)} as t {join} "
        f"where t._superseded_by is null and ({where})"
        + (" order by t._load_id, t._row_number" if ordered else "")
    )


def current_rows(
    con: duckdb.DuckDBPyConnection, entity: str, max_rows: int
) -> tuple[pd.DataFrame, int]:
    """An entity's current rows as pandas (a key sample above max_rows), and the full count."""
    table = f"raw.{quote_ident(entity)}"
    spec = ENTITIES[entity]
    total = int(
        con.execute(f"select count(*) from {table} where _superseded_by is null").fetchall()[0][0]
    )
    where = "true"
    if total > max_rows:
        buckets = math.ceil(1000 * max_rows / total)
        where = f"hash(t.{quote_ident(spec.key[0])}) % 1000 < {buckets}"
    return con.sql(current_rows_sql(entity, where)).df(), total


def submission_rows_sql(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    where: str = "true",
    *,
    ordered: bool = True,
    country: bool = True,
) -> str:
    """SELECT of an entity's rows as submitted (see the module docstring), those of `where`
    (over `s`, the rows), in load and file order if `ordered`.

    Columns: the contract's, typed as in `raw.<entity>` (a quarantined cell that does not
    parse is null there), `unparsed_<column>` for each typed column, `quarantined_as_<rule>`
    for each rule of `submission_rules`, `_load_id`, `_row_number`, `_received` (loaded |
    quarantined) and, for outcomes if `country`, `_country` (as in `current_rows_sql`)."""
    spec = ENTITIES[entity]
    table = f"raw.{quote_ident(entity)}"
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?",
            [entity],
        ).fetchall()
    )
    rules = submission_rules(entity)
    flags = ", ".join(
        f"string_agg(value, '; ' order by value) filter (where rule in ({_in(names)})) "
        f"as {quote_ident(FLAG + flag)}"
        for flag, (names, _) in rules.items()
    )
    broken = _in(BROKEN_RULES)
    # rows a decision left out are not submitted; rows without a record (quarantined before
    # records were kept) have no values to show, unless a broken line (it never has any)
    quarantined = (
        f"select load_id, row_number, any_value(record) as record, {flags} "
        f"from meta.quarantine where entity = {_lit(entity)} and load_id in (select load_id from "
        f"meta.load_supersession where entity = {_lit(entity)} and superseded_by is null) "
        "group by load_id, row_number "
        f"having not bool_or(rule = {_lit(DROPPED)}) "
        f"and (bool_or(record is not null) or bool_or(rule in ({broken})))"
    )
    loaded, received, unparsed = [], [], []
    for name in spec.schema.columns:
        column, kind = quote_ident(name), types[name].upper()
        text = f"json_extract_string(record, {_lit(chr(36) + '.' + json.dumps(name))})"
        if kind in {"VARCHAR", "TEXT"}:
            value = text
        elif kind in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}:
            # DuckDB casts '2021.5' to an integer (rounded): only integer texts parse
            value = f"case when regexp_full_match(trim({text}), '[+-]?[0-9]+') then try_cast(trim({text}) as {kind}) end"
        elif kind == "DATE":  # an ISO date, or date and time (as the loads read dates)
            value = f"try_cast(try_cast({text} as timestamp) as date)"
        else:
            value = f"try_cast({text} as {kind})"
        loaded.append(column)
        received.append(f"{value} as {column}")
        if kind not in {"VARCHAR", "TEXT"}:
            unparsed.append(f"{UNPARSED}{name}")
            received.append(
                f"case when {text} is not null and ({value}) is null then {text} end "
                f"as {quote_ident(UNPARSED + name)}"
            )
    rows = (
        f"select {', '.join(loaded)}, _load_id, _row_number, 'loaded' as _received "
        f"from {table} where _superseded_by is null "
        f"union all by name select {', '.join(received)}, "
        + "".join(f"{quote_ident(FLAG + flag)}, " for flag in rules)
        + f"load_id as _load_id, row_number as _row_number, 'quarantined' as _received "
        f"from ({quarantined})"
    )
    firm_country, join = "", ""
    if entity == "outcomes" and country:  # the shift checks compare like with like
        firm_country = ", f.country as _country"
        join = f"left join ({CURRENT_COUNTRY}) as f on f.firm_id = s.firm_id"
    return f"select s.*{firm_country} from ({rows}) as s {join} where {where}" + (
        " order by s._load_id, s._row_number" if ordered else ""
    )


def submission_rows(
    con: duckdb.DuckDBPyConnection, entity: str, max_rows: int
) -> tuple[pd.DataFrame, int]:
    """An entity's rows as submitted (`submission_rows_sql`) as pandas, and how many there
    are. Above `max_rows` rows, a key sample of the loaded rows and every quarantined row
    (see the module docstring)."""
    spec = ENTITIES[entity]
    rows = submission_rows_sql(con, entity)
    counts = dict(con.execute(f"select _received, count(*) from ({rows}) group by all").fetchall())
    n_loaded, n_quarantined = counts.get("loaded", 0), counts.get("quarantined", 0)
    total = n_loaded + n_quarantined
    where = "true"
    if total > max_rows:  # the key sample of current_rows: a key's rows stay together
        sample = f"hash(s.{quote_ident(spec.key[0])}) % 1000 < {math.ceil(1000 * max_rows / total)}"
        where = sample if n_quarantined > max_rows else f"(s._received = 'quarantined' or {sample})"
    return con.execute(submission_rows_sql(con, entity, where)).df(), total


def submission_rules(entity: str) -> dict[str, tuple[tuple[str, ...], str]]:
    """{flag: (quarantine rules, reason)} of the rejections no column expectation sees: the
    cross-entity rules (`warehouse/rules/<entity>__*.sql`), the reference checks (firm or
    program not loaded) and, as `broken_line`, the structural check's rules."""
    from warehouse.load import REFERENCE_RULES, entity_rules  # the loader, only when validating

    found: dict[str, tuple[tuple[str, ...], str]] = {
        rule: ((rule,), reason) for rule, reason, _ in entity_rules(entity)
    }
    for column, target in ENTITIES[entity].references:
        found[REFERENCE_RULES[target]] = (
            (REFERENCE_RULES[target],),
            f"{column}: not found in {target}",
        )
    found[BROKEN_LINE] = (
        BROKEN_RULES,
        "a line of the file that could not be read as a record (schemas/structure.py)",
    )
    return found


def submission_expectations(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    columns: Collection[str],
    loads: list[tuple[Any, ...]],
    settings: ExpectationSettings,
    *,
    sampled: bool = False,
    validated: pd.DataFrame | None = None,
    relation: str | None = None,
) -> list[gxe.Expectation]:
    """The suite of the rows as submitted (`submission_rows_sql`, of these `columns`): the
    current-rows suite's expectations, and the parse, rule and row-count expectations of the
    module docstring. `validated` or `relation`: the rows, for the shift checks."""
    expectations = contract_expectations(entity, settings)
    for name in ENTITIES[entity].schema.columns:
        if f"{UNPARSED}{name}" in columns:
            expectations.append(
                gxe.ExpectColumnValuesToBeNull(
                    column=f"{UNPARSED}{name}",
                    meta={"dimension": "type", "column": name},
                    notes=(
                        f"Every submitted value of {name} parses as its type; the unexpected "
                        "values are the texts that do not."
                    ),
                )
            )
    for flag, (rules, reason) in submission_rules(entity).items():
        expectations.append(
            gxe.ExpectColumnValuesToBeNull(
                column=FLAG + flag,
                meta={
                    "dimension": "structure" if flag == BROKEN_LINE else "consistency",
                    "rules": list(rules),
                },
                notes=f"No row rejected as {flag}: {reason}. Unexpected values: the quarantine's.",
            )
        )
    if entity == "outcomes":
        expectations += shift_expectations(con, settings, validated, relation)
    if not sampled:
        expectations.append(_row_count(loads, settings))
    return expectations


def _in(names: Iterable[str]) -> str:
    return ", ".join(_lit(n) for n in names)


def _lit(text: str) -> str:
    """A text as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _row_count(loads: list[tuple[Any, ...]], settings: ExpectationSettings) -> gxe.Expectation:
    """Rows the latest load let in (of a submission frame: its loaded rows of that load),
    within the tolerance of the previous load's rows loaded."""
    latest = (Column("_load_id") == loads[0][0]) & (Column("_received") == "loaded")
    if len(loads) < 2:
        return gxe.ExpectTableRowCountToBeBetween(
            min_value=1,
            row_condition=latest,
            meta={"dimension": "row_count"},
            notes="First submission of this entity: nothing to compare with; it must not be empty.",
        )
    previous_id, previous_rows = loads[1][0], int(loads[1][1])
    tolerance = settings.row_count_tolerance
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=math.floor(previous_rows * (1 - tolerance)),
        max_value=math.ceil(previous_rows * (1 + tolerance)),
        row_condition=latest,
        meta={"dimension": "row_count", "previous_load_id": previous_id},
        notes=(
            f"Rows loaded within +-{tolerance:.0%} of the previous submission's "
            f"{previous_rows:,} (load {previous_id})."
        ),
    )


# --- running ------------------------------------------------------------------------------


def ephemeral_context(docs_dir: Path | None = None) -> Any:
    """An in-memory GX context (nothing written), with a Data Docs site at docs_dir if given."""
    sites = {}
    if docs_dir is not None:
        sites[SITE_NAME] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,  # they link to GX's online documentation
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(docs_dir).resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def validate_warehouse(
    con: duckdb.DuckDBPyConnection,
    *,
    run_name: str | None = None,
    settings: ExpectationSettings | None = None,
    docs_dir: Path | None = None,
    entities: Iterable[str] | None = None,
    method: Literal["sql", "frames"] = "sql",
    store: BatchStore | None = None,
) -> ValidationRun:
    """Validate every loaded entity (or only `entities`); build offline Data Docs if docs_dir.

    `method`: "sql" validates every row inside DuckDB (`schemas.expectation_sql`), in memory
    bounded whatever the warehouse's size; "frames" validates pandas frames (key samples
    above `settings.max_rows`) with GX's pandas engine, the reference the tests compare with.
    Each batch has its own suite result, stored in the context as a ValidationDefinition
    stores it; the Data Docs are built once at the end.

    `store` (with "sql"): an entity whose batches hash as when `store` got their results
    (`batch_fingerprint`: the same loads, settings and validating libraries) is not
    validated again; its stored suites and results are used as they are, in the results
    and in the Data Docs, which show the run and time that validated them (their pages
    kept from the previous build in docs_dir, `_build_docs`). Every batch validated here
    is put in `store`. A new quarter's participations thus revalidates the
    participations, not the national register's outcomes.
    """
    settings = settings or ExpectationSettings()
    context = ephemeral_context(docs_dir)
    run_id = gx.RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
    rows: list[dict[str, Any]] = []
    suite_results: list[ExpectationSuiteValidationResult] = []
    reused: list[str] = []
    fresh: list[ValidationResultIdentifier] = []  # results validated here (sql)
    kept: list[ValidationResultIdentifier] = []  # results reused from `store`
    source = context.data_sources.add_pandas(DATASOURCE)
    wanted = set(ENTITIES if entities is None else entities)
    for entity in (e for e in ENTITIES if e in wanted):
        fingerprint = None
        if store is not None and method == "sql":
            fingerprint = batch_fingerprint(con, entity, settings)
            stored = [store.get(f"{fingerprint}:{kind}") for kind in (CURRENT, SUBMISSION)]
            if all(stored):
                for item in stored:
                    assert item is not None  # for mypy: all() held
                    result = _restored(context, item)
                    kept.append(_store_result(context, result))
                    suite_results.append(result)
                    rows.extend(tidy(result, item))
                    reused.append(item.asset)
                continue
        batches: Iterator[EntityBatch | EntityRows]
        if method == "frames":
            batches = entity_batches(con, settings, [entity])
        else:
            batches = entity_rows(con, settings, [entity])
        for batch in batches:
            suite = context.suites.add(batch.suite)
            if isinstance(batch, EntityRows):
                result = _validate_rows(con, context, batch, suite, run_id, settings)
                fresh.append(_store_result(context, result))
                if store is not None and fingerprint is not None:
                    store.put(f"{fingerprint}:{batch.batch}", StoredBatch.of(batch, result))
            else:
                definition = context.validation_definitions.add(
                    gx.ValidationDefinition(
                        name=batch.asset,
                        data=source.add_dataframe_asset(
                            batch.asset
                        ).add_batch_definition_whole_dataframe(batch.batch),
                        suite=suite,
                    )
                )
                result = definition.run(
                    batch_parameters={"dataframe": batch.frame},
                    result_format=RESULT_FORMAT,
                    run_id=run_id,
                )
            suite_results.append(result)
            rows.extend(tidy(result, batch))
    index = None
    if docs_dir is not None:
        if method == "sql":
            _build_docs(context, Path(docs_dir), fresh, kept)
        else:
            if (Path(docs_dir) / "static" / "offline" / OFFLINE_ASSETS[-1]).exists():
                shutil.rmtree(docs_dir)  # a site built here before: pages match the index
            context.build_data_docs(site_names=[SITE_NAME])
        index = make_docs_offline(Path(docs_dir))
    results = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    for column in ("load_id", "column_name", "dimension", "observed_value", "exception"):
        # pandas 3 stores missing text as NaN: keep None, which JSON and SQL read as null
        results[column] = results[column].astype(object).where(results[column].notna(), None)
    return ValidationRun(results, suite_results, index, reused)


def _build_docs(
    context: Any,
    docs_dir: Path,
    fresh: list[ValidationResultIdentifier],
    kept: list[ValidationResultIdentifier],
) -> None:
    """Data Docs of the context's results in docs_dir, rendering only what is new.

    A page of a result validated here (`fresh`) and of its suite is rendered; a reused
    result's page (`kept`) and its suite's are kept from the previous build when they are
    there, since the same result and suite render the same page, else rendered; the index
    is always built. Pages of neither are removed, so the folder holds what the index
    lists. Rendering is most of an audit's time when little changed (GX renders each
    distribution check's chart)."""
    kept_suites = {_suite_key(key) for key in kept}
    fresh_suites = {_suite_key(key) for key in fresh}
    keys: list[ValidationResultIdentifier | ExpectationSuiteIdentifier]
    keys = [*fresh, *kept, *fresh_suites, *kept_suites]
    pages = {key: _page(docs_dir, key) for key in keys}
    render: list[Any] = [*fresh, *fresh_suites]
    unchanged: list[ValidationResultIdentifier | ExpectationSuiteIdentifier]
    unchanged = [*kept, *(kept_suites - fresh_suites)]
    render += [key for key in unchanged if not pages[key].exists()]
    if not render and kept_suites:
        # GX reads no identifiers as "render everything": render one suite's page (cheap)
        render = [next(iter(kept_suites))]
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=render or None)
    wanted = set(pages.values())
    for section in ("validations", "expectations"):  # GX's sections: only its pages
        for page in (docs_dir / section).rglob("*.html"):
            if page not in wanted:
                page.unlink()
        for folder in sorted((docs_dir / section).rglob("*"), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def _suite_key(key: ValidationResultIdentifier) -> ExpectationSuiteIdentifier:
    suite: ExpectationSuiteIdentifier = key.expectation_suite_identifier
    return suite


def _page(docs_dir: Path, key: ValidationResultIdentifier | ExpectationSuiteIdentifier) -> Path:
    """Where GX's site writes the page of a result or suite (its HtmlSiteStore's layout)."""
    if isinstance(key, ExpectationSuiteIdentifier):
        return docs_dir / "expectations" / f"{key.name}.html"
    *suite, run_name, run_time, batch = key.to_tuple()
    return docs_dir.joinpath("validations", *suite, run_name, run_time, f"{batch}.html")


def batch_fingerprint(
    con: duckdb.DuckDBPyConnection, entity: str, settings: ExpectationSettings
) -> str:
    """What the results of an entity's batches depend on, hashed: the loads of the tables
    they read (`loads_version`: the entity's own; for outcomes also the firms', whose
    country the shift checks group by), the suites' settings, and the versions of Great
    Expectations and DuckDB that judge them. The code's own version is for the store to
    add (`warehouse.quality`)."""
    read = [entity, "firms"] if entity == "outcomes" else [entity]
    text = repr((entity, loads_version(con, read), settings, gx.__version__, duckdb.__version__))
    return hashlib.sha256(text.encode()).hexdigest()


def _restored(context: Any, stored: StoredBatch) -> ExpectationSuiteValidationResult:
    """A stored batch's result, its suite added to the context (for Data Docs)."""
    context.suites.add(gx.ExpectationSuite(**expectationSuiteSchema.load(stored.suite)))
    result = expectationSuiteValidationResultSchema.load(stored.result)
    result.batch_id = f"{DATASOURCE}-{stored.asset}"  # not in GX's JSON: as _validate_rows
    result.meta["run_id"] = gx.RunIdentifier(**result.meta["run_id"])  # JSON gave its fields
    return result


def _store_result(
    context: Any, result: ExpectationSuiteValidationResult
) -> ValidationResultIdentifier:
    """Put a suite result in the context's validation results store, under the keys a
    ValidationDefinition run would use (its batch, suite and run), where Data Docs find it."""
    suite_key = ExpectationSuiteIdentifier(name=result.suite_name)
    key = ValidationResultIdentifier(
        batch_identifier=result.batch_id,
        expectation_suite_identifier=suite_key,
        run_id=result.meta["run_id"],
    )
    context.validation_results_store.store_validation_results(
        suite_validation_result=result,
        suite_validation_result_identifier=key,
        expectation_suite_identifier=suite_key,
    )
    return key


def _validate_rows(
    con: duckdb.DuckDBPyConnection,
    context: Any,
    batch: EntityRows,
    suite: gx.ExpectationSuite,
    run_id: gx.RunIdentifier,
    settings: ExpectationSettings | None,
) -> ExpectationSuiteValidationResult:
    """Validate one batch inside DuckDB: its suite result, as a ValidationDefinition run
    would give it."""
    from schemas.expectation_sql import validate_rows

    settings = settings or ExpectationSettings()
    batch_id = f"{DATASOURCE}-{batch.asset}"
    results = validate_rows(
        con,
        batch.sql,
        suite.expectations,
        batch_id=batch_id,
        result_format=RESULT_FORMAT,
        bucket_rows=settings.bucket_rows,
        lean_sql=batch.lean_sql,
    )
    statistics = calc_validation_statistics(results)
    source = f"raw.{batch.entity}" + (" and meta.quarantine" if batch.batch == SUBMISSION else "")
    result = ExpectationSuiteValidationResult(
        results=results,
        success=statistics.success,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta={
            "great_expectations_version": gx.__version__,
            # what Data Docs show as the batch: where its rows come from, and how many
            "batch_spec": {"batch_data": "DuckDB", "rows_from": source},
            "batch_markers": {
                "ge_load_time": datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
                "rows": batch.rows_total,
            },
            "active_batch_definition": {
                "datasource_name": DATASOURCE,
                "data_connector_name": "duckdb",
                "data_asset_name": batch.asset,
                "batch_identifiers": {},
            },
            "validation_id": None,
            "checkpoint_id": None,
            "run_id": run_id,
            "validation_time": run_id.run_time,
            "batch_parameters": None,
        },
        batch_id=batch_id,
    )
    return result


def tidy(
    result: ExpectationSuiteValidationResult, batch: EntityBatch | EntityRows | StoredBatch
) -> list[dict[str, Any]]:
    """One record per expectation: what was expected, whether it held, and what was seen."""
    records = []
    for item in result.results:
        config = item.expectation_config
        if config is None:  # not for results of a suite run; typed as optional in GX
            continue
        kwargs = dict(config.kwargs)
        kwargs.pop("batch_id", None)
        column = kwargs.get("column") or ", ".join(
            kwargs.get("column_list")
            or [kwargs[k] for k in ("column_A", "column_B") if k in kwargs]
        )
        outcome = item.result or {}
        info = item.exception_info or {}
        records.append(
            {
                "entity": batch.entity,
                "suite": result.suite_name,
                "batch": batch.batch,
                "load_id": batch.load_id,
                "expectation": config.type,
                "column_name": column or None,
                "dimension": (config.meta or {}).get("dimension"),
                "parameters": json.dumps(_jsonable(kwargs), sort_keys=True),
                "success": bool(item.success),
                "observed_value": (
                    json.dumps(_jsonable(outcome["observed_value"]))
                    if "observed_value" in outcome
                    else None
                ),
                "unexpected_count": outcome.get("unexpected_count"),
                "unexpected_percent": outcome.get("unexpected_percent"),
                "element_count": outcome.get("element_count"),
                "rows_validated": batch.rows_validated,
                "rows_total": batch.rows_total,
                "exception": info.get("exception_message")
                if info.get("raised_exception")
                else None,
            }
        )
    return records


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, infinities as strings, conditions as text."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def build_data_docs(
    con: duckdb.DuckDBPyConnection, out_dir: Path, settings: ExpectationSettings | None = None
) -> Path:
    """Validate the warehouse and build offline Data Docs in out_dir/data_docs; return index.html."""
    run = validate_warehouse(con, settings=settings, docs_dir=Path(out_dir) / "data_docs")
    assert run.docs_index is not None
    return run.docs_index


# --- offline Data Docs --------------------------------------------------------------------

_CDN_LINK = re.compile(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>\s*", re.I)
_CDN_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.I)
_REMOTE_IMG = re.compile(r"(<img\b[^>]*\bsrc=\")https?://[^\"]*/([\w.-]+?)(?:\?[^\"]*)?\"", re.I)
_REMOTE_ANCHOR = re.compile(r"(<a\b[^>]*?)\s+href=\"(https?://[^\"]*)\"", re.I)
_STATIC_LINK = re.compile(r"(\b(?:src|href)=\")(?:\./|\.\./)*static/", re.I)
_REMOTE_CSS_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.I)
OFFLINE_ASSETS = ("datadocs.css", "jquery-3.7.1.slim.min.js", "datadocs.js")


def make_docs_offline(site_dir: Path) -> Path:
    """Make a built Data Docs site render offline; return its index.html.

    Copies the assets of `reports/data_docs/` to `<site>/static/offline/`, then in every
    page: removes CDN <link>/<script> tags and links the local assets in their place,
    points remote images at the copies GX ships in `static/images/`, makes every link to
    `static/` relative to the page, drops remote CSS url()s, and turns links to web sites
    into plain text (the URL stays in a title).
    """
    site_dir = Path(site_dir)
    target = site_dir / "static" / "offline"
    target.mkdir(parents=True, exist_ok=True)
    for name in OFFLINE_ASSETS:
        with resources.as_file(ASSETS / name) as source:
            shutil.copyfile(source, target / name)
    for page in site_dir.rglob("*.html"):
        prefix = "../" * (len(page.relative_to(site_dir).parts) - 1)
        page.write_text(_offline_html(page.read_text(encoding="utf-8"), prefix), encoding="utf-8")
    return site_dir / "index.html"


def _offline_html(html: str, prefix: str) -> str:
    local = (
        f'<link rel="stylesheet" href="{prefix}static/offline/datadocs.css">\n'
        f'<script src="{prefix}static/offline/jquery-3.7.1.slim.min.js"></script>\n'
        f'<script src="{prefix}static/offline/datadocs.js"></script>\n'
    )
    first = _CDN_LINK.search(html) or _CDN_SCRIPT.search(html)
    if first is None:  # already offline
        return html
    html = html[: first.start()] + "<!--mes-eval:offline-assets-->" + html[first.start() :]
    html = _CDN_SCRIPT.sub("", _CDN_LINK.sub("", html))
    # the local stylesheet goes last in <head> so that it wins over GX's inline styles
    html = html.replace("<!--mes-eval:offline-assets-->", local.split("\n", 1)[1])
    html = html.replace("</head>", local.split("\n", 1)[0] + "\n</head>", 1)
    html = _REMOTE_IMG.sub(lambda m: f'{m.group(1)}{prefix}static/images/{m.group(2)}"', html)
    html = _STATIC_LINK.sub(lambda m: f"{m.group(1)}{prefix}static/", html)
    html = _REMOTE_CSS_URL.sub("none", html)
    return _REMOTE_ANCHOR.sub(lambda m: f'{m.group(1)} title="{m.group(2)}"', html)
