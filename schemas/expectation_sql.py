"""Great Expectations suites validated inside DuckDB: the rows never become a frame.

Why. The suites of `schemas.expectations` were validated on pandas frames, with a key sample
above 250,000 rows: a national register (1M firms x 15 years, 15M outcome rows) was judged
on under 2% of its rows. Three ways to validate every row were weighed, measured on a
2-core machine:

- frames by partition (firm-hash buckets, results combined): memory bounded, but GX's
  pandas engine checks about 100,000 rows a second (the outcomes suite, 25 expectations,
  on 1.07M rows: 8-11 s; the submission suite has 40), some 7 minutes for a 15M-row
  outcomes table. Whole frames of the 200k-firm demo (2.1M outcome rows) took 122 s and
  4.3 GB;
- GX's own SQL datasource: GX 1.24 knows no DuckDB dialect; through `duckdb-engine` 0.17
  its bundled metric queries come back empty and table assets lose their schema;
- the metrics in DuckDB, judged by GX (this module): the results of the frame path, every
  row, in seconds per million rows.

How. Each expectation says which metrics it needs (`get_validation_dependencies`, as for a
pandas batch); DuckDB computes them over all the batch's rows; the expectation's own
`_validate` then decides success and shapes the result, exactly as after a pandas run:

- every count (rows, missing values, unexpected values, rows a pair or compound expectation
  considers, KL histogram bins) and both middle values of a median are aggregates of one
  query per row condition (one scan for the contract's expectations, one per country for
  the shift checks);
- the first unexpected values (5, in the order of `_load_id, _row_number`) are fetched only
  where there are any, as the frame path lists them (dates as pandas timestamps, pairs as
  tuples, compound keys as records);
- uniqueness is a GROUP BY, split by a hash of the first key column into buckets of at most
  `bucket_rows` rows (a key's rows share a bucket, so the counts add up exactly): its
  memory stays bounded however many firms;
- a median is the mean of the one or two middle values, as numpy takes it.

Null means what pandas reads as null: SQL NULL, and NaN in floating-point columns. Regular
expressions are searched with RE2 (`regexp_matches`), as pandas' Arrow-backed strings do.
The row index of unexpected values (`partial_unexpected_index_list`, which no Data Docs page
shows) is left out, as GX's SQL engine leaves it out. `tests/test_audit_scale.py` compares
every result with the frame path's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from great_expectations.core.expectation_validation_result import (
    ExpectationValidationResult,
)
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import Expectation
from great_expectations.validator.metric_configuration import MetricConfiguration

from warehouse.db import quote_ident

VIEW = "gx_batch_rows"  # the batch's rows while its suite runs (a temporary view)
LEAN_VIEW = "gx_batch_rows_lean"  # the same rows without the columns that cost a join
ORDER = "_load_id, _row_number"  # the order in which unexpected values are listed
FLOATS = {"DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8"}
COLUMN_MAPS = {  # map metric -> whether nulls are part of the domain (else skipped)
    "column_values.nonnull": True,
    "column_values.null": True,
    "column_values.between": False,
    "column_values.in_set": False,
    "column_values.match_regex": False,
    "column_values.value_length.between": False,
    "column_values.unique": False,
}
PAIR_MAP = "column_pair_values.a_greater_than_b"
COMPOUND_MAP = "compound_columns.unique"


class UnsupportedMetric(NotImplementedError):
    """A metric this module cannot compute in SQL (an expectation type it does not know)."""


def validate_rows(
    con: duckdb.DuckDBPyConnection,
    rows_sql: str,
    expectations: Sequence[Expectation],
    *,
    batch_id: str,
    result_format: Mapping[str, Any],
    bucket_rows: int = 6_000_000,
    lean_sql: str | None = None,
) -> list[ExpectationValidationResult]:
    """Validate the rows of `rows_sql` (a SELECT with `_load_id` and `_row_number`) against
    `expectations`: one result per expectation, as a pandas run gives them (in GX's order:
    grouped by column, in the order each column first appears)."""
    by_column: dict[str, list[Expectation]] = {}
    for expectation in expectations:
        column = expectation.configuration.kwargs.get("column")
        by_column.setdefault(column if isinstance(column, str) else "", []).append(expectation)
    expectations = [e for group in by_column.values() for e in group]
    con.execute(f"create or replace temp view {VIEW} as\n{rows_sql}")
    if lean_sql is not None:
        con.execute(f"create or replace temp view {LEAN_VIEW} as\n{lean_sql}")
    try:
        types = {str(r[0]): str(r[1]).upper() for r in con.execute(f"describe {VIEW}").fetchall()}
        heavy: tuple[str, ...] = ()
        if lean_sql is not None:
            lean = {str(r[0]) for r in con.execute(f"describe {LEAN_VIEW}").fetchall()}
            heavy = tuple(quote_ident(c) for c in types if c not in lean)
        metrics = _Metrics(con, types, dict(result_format), bucket_rows, heavy)
        engine = PandasExecutionEngine()  # only asked which metrics a result needs: sees no data
        plans: list[tuple[Expectation, Any, Exception | None]] = []
        for expectation in expectations:
            try:
                deps = expectation.get_validation_dependencies(
                    execution_engine=engine,
                    runtime_configuration={"result_format": dict(result_format)},
                )
                for config in deps.metric_configurations.values():
                    metrics.request(config)
                plans.append((expectation, deps, None))
            except Exception as exc:  # as GX does: the expectation fails with the exception
                plans.append((expectation, None, exc))
        try:
            metrics.resolve()
        except duckdb.Error as exc:  # as GX does when a batch's metrics fail: each result says so
            return [_judge(e, None, exc, metrics, batch_id) for e, _, _ in plans]
        return [_judge(e, deps, error, metrics, batch_id) for e, deps, error in plans]
    finally:
        con.execute(f"drop view if exists {VIEW}")
        con.execute(f"drop view if exists {LEAN_VIEW}")


def _judge(
    expectation: Expectation,
    deps: Any,
    error: BaseException | None,
    metrics: _Metrics,
    batch_id: str,
) -> ExpectationValidationResult:
    """The expectation's own verdict on the metrics (GX's `metrics_validate`, without an engine)."""
    config = expectation.configuration
    config.kwargs["batch_id"] = batch_id  # as a Validator sets it
    if error is None:
        try:
            provided = {
                name: metrics.value(metric) for name, metric in deps.metric_configurations.items()
            }
            runtime = {"result_format": deps.result_format}
            raw = expectation._validate(metrics=provided, runtime_configuration=runtime)
            result = expectation._build_evr(raw_response=raw)
            result.expectation_config = config
            result.exception_info = {
                "raised_exception": False,
                "exception_traceback": None,
                "exception_message": None,
            }
            return result
        except Exception as exc:
            error = exc
    return ExpectationValidationResult(
        success=False,
        expectation_config=config,
        exception_info={
            "raised_exception": True,
            "exception_traceback": None,
            "exception_message": f"{type(error).__name__}: {error}",
        },
    )


# --- SQL pieces ---------------------------------------------------------------------------


def sql_literal(value: Any) -> str:
    """A Python value as a DuckDB literal (numbers, text, booleans, infinities, None)."""
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return "'nan'::double"
        if math.isinf(number):
            return "'inf'::double" if number > 0 else "'-inf'::double"
        return repr(number)
    text = str(value)
    return "'" + text.replace("'", "''") + "'"


def condition_sql(condition: Any) -> str:
    """A GX row condition (Column(...) == value, &, |, is_in, is_null) as SQL, with pandas'
    reading of nulls: a null is unequal to every value and in no set."""
    if condition is None:
        return "true"
    spec = condition.dict() if hasattr(condition, "dict") else condition
    if not isinstance(spec, Mapping):
        raise UnsupportedMetric(f"row condition {condition!r}: only Column conditions in SQL")
    kind = spec.get("type")
    if kind in ("and", "or"):
        parts = [condition_sql(part) for part in spec["conditions"]]
        return "(" + f" {kind} ".join(parts) + ")"
    column = quote_ident(spec["column"]["name"])
    if kind == "nullity":
        return f"({column} is {'' if spec['is_null'] else 'not '}null)"
    if kind != "comparison":
        raise UnsupportedMetric(f"row condition of type {kind!r}")
    operator, parameter = str(spec["operator"]), spec["parameter"]
    if operator in ("IN", "NOT_IN"):
        listed = ", ".join(sql_literal(v) for v in parameter)
        inside = f"coalesce({column} in ({listed}), false)"
        return inside if operator == "IN" else f"(not {inside})"
    if operator == "!=":
        return f"({column} is distinct from {sql_literal(parameter)})"
    # null where pandas has False: the same wherever a condition is used (a WHERE, or
    # AND-ed in a CASE), and plain comparisons let DuckDB filter in the table scan
    sql_operator = {"==": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[operator]
    return f"({column} {sql_operator} {sql_literal(parameter)})"


def condition_equalities(condition: Any) -> tuple[tuple[str, Any], ...] | None:
    """The (column, value) pairs of a row condition made only of `Column(...) == value`
    joined by &, sorted by column; None for any other condition."""
    if condition is None:
        return None
    spec = condition.dict() if hasattr(condition, "dict") else condition
    parts = spec.get("conditions", []) if spec.get("type") == "and" else [spec]
    pairs = []
    for part in parts:
        if part.get("type") != "comparison" or str(part.get("operator")) != "==":
            return None
        pairs.append((str(part["column"]["name"]), part["parameter"]))
    return tuple(sorted(pairs, key=lambda pair: pair[0])) or None


def _bounds(column: str, kwargs: Mapping[str, Any]) -> str:
    """`column` within min_value/max_value (strict_min/strict_max exclusive), as SQL."""
    parts = []
    if kwargs.get("min_value") is not None:
        operator = ">" if kwargs.get("strict_min") else ">="
        parts.append(f"{column} {operator} {sql_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        operator = "<" if kwargs.get("strict_max") else "<="
        parts.append(f"{column} {operator} {sql_literal(kwargs['max_value'])}")
    return "(" + " and ".join(parts or ["true"]) + ")"


@dataclass(frozen=True)
class _Domain:
    """The rows and columns a metric looks at, as SQL."""

    columns: tuple[str, ...]
    condition: str  # the expectation's row condition
    rows: str  # which of those rows the metric considers (ignore_row_if), "true" for all
    kind: str  # column | pair | compound | table

    @property
    def where(self) -> str:
        return f"{self.condition} and {self.rows}"


@dataclass(frozen=True)
class _Rows:
    """Some rows of a domain: those of `rows` within the row condition `condition`."""

    condition: str
    rows: str

    @property
    def where(self) -> str:
        return f"{self.condition} and {self.rows}"


@dataclass
class _Metrics:
    """Metric values of one batch: requested first, then computed together.

    Aggregates are grouped by row condition, and each group is one query whose WHERE is
    the condition: DuckDB then filters once rather than per aggregate (the shift checks'
    20 bins and medians of a year and country cost a tenth as much)."""

    con: duckdb.DuckDBPyConnection
    types: Mapping[str, str]
    result_format: dict[str, Any]
    bucket_rows: int
    heavy: tuple[str, ...] = ()  # columns only the full view has (quoted)
    aggregates: dict[str, dict[str, str]] = field(default_factory=dict)  # cond -> sql -> alias
    aggregated: dict[str, Any] = field(default_factory=dict)  # alias -> its value
    requested: dict[tuple[Any, ...], MetricConfiguration] = field(default_factory=dict)
    values: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # conditions made of equalities, by their SQL: computed together, grouped by the columns
    equalities: dict[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    duplicates: dict[_Domain, tuple[int, pd.DataFrame]] = field(default_factory=dict)

    # -- what each metric is

    def missing(self, column: str) -> str:
        """SQL: the column is null as pandas reads it (NaN too, in float columns)."""
        name = quote_ident(column)
        if self.types.get(column, "") in FLOATS:
            return f"({name} is null or isnan({name}))"
        return f"({name} is null)"

    def _source(self, *sql: str) -> str:
        """The view a query reads: the lean one unless it names a column only the full
        view has (for outcomes, the firm's country: a join DuckDB would redo every time)."""
        if self.heavy and not any(name in part for name in self.heavy for part in sql):
            return LEAN_VIEW
        return VIEW

    def present(self, column: str) -> str:
        return f"not {self.missing(column)}"

    def domain(self, config: MetricConfiguration) -> _Domain:
        kwargs = config.metric_domain_kwargs
        condition = condition_sql(kwargs.get("row_condition"))
        pairs = condition_equalities(kwargs.get("row_condition"))
        if pairs is not None:
            self.equalities[condition] = pairs
        if "column" in kwargs:
            return _Domain((kwargs["column"],), condition, "true", "column")
        if "column_A" in kwargs:
            a, b = kwargs["column_A"], kwargs["column_B"]
            ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
            keep = {
                "both_values_are_missing": f"not ({self.missing(a)} and {self.missing(b)})",
                "either_value_is_missing": f"not ({self.missing(a)} or {self.missing(b)})",
                "neither": "true",
            }[ignore]
            return _Domain((a, b), condition, keep, "pair")
        if "column_list" in kwargs:
            columns = tuple(kwargs["column_list"])
            missing = [self.missing(c) for c in columns]
            ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
            keep = {
                "all_values_are_missing": "not (" + " and ".join(missing) + ")",
                "any_value_is_missing": "not (" + " or ".join(missing) + ")",
                "never": "true",
            }[ignore]
            return _Domain(columns, condition, keep, "compound")
        return _Domain((), condition, "true", "table")

    def unexpected(self, prefix: str, domain: _Domain, value_kwargs: Mapping[str, Any]) -> str:
        """SQL: a row of the domain is unexpected for map metric `prefix` (not for
        uniqueness, which is counted by group)."""
        column = quote_ident(domain.columns[0]) if domain.columns else ""
        if prefix == "column_values.nonnull":
            return self.missing(domain.columns[0])
        if prefix == "column_values.null":
            return self.present(domain.columns[0])
        present = self.present(domain.columns[0]) if domain.columns else "true"
        if prefix == "column_values.between":
            return f"{present} and not {_bounds(column, value_kwargs)}"
        if prefix == "column_values.in_set":
            listed = ", ".join(sql_literal(v) for v in value_kwargs["value_set"])
            return f"{present} and not coalesce({column} in ({listed}), false)"
        if prefix == "column_values.match_regex":
            text = f"cast({column} as varchar)"
            return (
                f"{present} and not coalesce(regexp_matches({text}, "
                f"{sql_literal(value_kwargs['regex'])}), false)"
            )
        if prefix == "column_values.value_length.between":
            length = f"length(cast({column} as varchar))"
            return f"{present} and not {_bounds(length, value_kwargs)}"
        if prefix == PAIR_MAP:
            a, b = (quote_ident(c) for c in domain.columns)
            operator = ">=" if value_kwargs.get("or_equal") else ">"
            return f"{domain.rows} and not coalesce({a} {operator} {b}, false)"
        raise UnsupportedMetric(f"map metric {prefix}")

    # -- requesting and computing

    @staticmethod
    def _key(config: MetricConfiguration) -> tuple[Any, ...]:
        return (config.metric_name, config.metric_domain_kwargs_id, config.metric_value_kwargs_id)

    def _plan(self, config: MetricConfiguration) -> tuple[str, Any]:
        """How a metric is computed: (kind, what), kind one of count (_Rows), bins (_Rows
        per bin), median ((column, _Rows)), duplicates_* (the domain), values ((domain,
        _Rows of the unexpected rows)) and none."""
        name, value_kwargs = config.metric_name, config.metric_value_kwargs
        domain = self.domain(config)
        prefix, _, suffix = name.rpartition(".")
        condition = domain.condition
        present = self.present(domain.columns[0]) if domain.columns else "true"
        if name == "table.row_count":
            return "count", _Rows(condition, "true")
        if name == f"{prefix}.filtered_row_count":
            return "count", _Rows(condition, domain.rows)
        if name == "column_values.nonnull.count":
            return "count", _Rows(condition, present)
        if name == "column_values.between.count":
            bounds = _bounds(quote_ident(domain.columns[0]), value_kwargs)
            return "count", _Rows(condition, f"{present} and {bounds}")
        if name == "column.histogram":
            return "bins", self._bins(domain, value_kwargs["bins"])
        if name == "column.median":
            return "median", (domain.columns[0], _Rows(condition, present))
        if prefix not in (*COLUMN_MAPS, PAIR_MAP, COMPOUND_MAP):
            raise UnsupportedMetric(f"metric {name}")
        if suffix in ("unexpected_index_list", "unexpected_index_query"):
            return "none", None  # not computed: GX's SQL engine leaves them out too
        if prefix in ("column_values.unique", COMPOUND_MAP):
            if suffix not in ("unexpected_count", "unexpected_values"):
                raise UnsupportedMetric(f"metric {name}")
            return f"duplicates_{suffix}", domain
        unexpected = _Rows(condition, self.unexpected(prefix, domain, value_kwargs))
        if suffix == "unexpected_count":
            return "count", unexpected
        if suffix == "unexpected_values":
            return "values", (domain, unexpected)
        raise UnsupportedMetric(f"metric {name}")

    def request(self, config: MetricConfiguration) -> None:
        """Note a metric to compute; raise UnsupportedMetric if it cannot be computed here."""
        kind, what = self._plan(config)
        self.requested[self._key(config)] = config
        if kind == "count":
            self._aggregate(what, _sum(what.rows))
        elif kind == "bins":
            for rows in what:
                self._aggregate(rows, _sum(rows.rows))
        elif kind == "median":
            column, rows = what
            for sql in (_sum(rows.rows), *_middles(column, rows.rows)):
                self._aggregate(rows, sql)
        elif kind == "values":
            self._aggregate(what[1], _sum(what[1].rows))
        elif kind.startswith("duplicates"):
            keyed = self._keyed(what)
            self._aggregate(keyed, _sum(keyed.rows))

    def _aggregate(self, rows: _Rows, sql: str) -> None:
        group = self.aggregates.setdefault(rows.condition, {})
        if sql not in group:
            group[sql] = f"m{sum(len(g) for g in self.aggregates.values())}"

    def _get(self, rows: _Rows, sql: str) -> Any:
        return self.aggregated[self.aggregates[rows.condition][sql]]

    def _count(self, rows: _Rows) -> int:
        return int(self._get(rows, _sum(rows.rows)) or 0)

    def _keyed(self, domain: _Domain) -> _Rows:
        """The rows a uniqueness check compares: its domain, with a value if one column."""
        if domain.kind == "column":
            return _Rows(domain.condition, self.present(domain.columns[0]))
        return _Rows(domain.condition, domain.rows)

    def value(self, config: MetricConfiguration) -> Any:
        """A computed metric (after `resolve`); raises what computing it raised."""
        found = self.values[self._key(config)]
        if isinstance(found, _Failed):
            raise found.error
        return found

    def _bins(self, domain: _Domain, bins: Sequence[float]) -> list[_Rows]:
        """The rows of each histogram bin, as numpy counts them (half-open bins, the last
        one closed), of the values present."""
        column = quote_ident(domain.columns[0])
        present = self.present(domain.columns[0])
        edges = [sql_literal(float(edge)) for edge in bins]
        found = []
        for i in range(len(edges) - 1):
            upper = "<=" if i == len(edges) - 2 else "<"
            found.append(
                _Rows(
                    domain.condition,
                    f"{present} and {column} >= {edges[i]} and {column} {upper} {edges[i + 1]}",
                )
            )
        return found

    def resolve(self) -> None:
        """Compute every requested metric: the aggregates in one scan per row condition
        (one for all conditions that set the same columns to values, as the shift checks'
        year and country do: a GROUP BY of those columns), then the rest."""
        by_columns: dict[tuple[str, ...], list[str]] = {}
        for condition, group in self.aggregates.items():
            pairs = self.equalities.get(condition)
            if pairs is not None:
                by_columns.setdefault(tuple(c for c, _ in pairs), []).append(condition)
                continue
            select = ", ".join(f"{sql} as {alias}" for sql, alias in group.items())
            where = "" if condition == "true" else f" where {condition}"
            source = self._source(select, where)
            row = self.con.execute(f"select {select} from {source}{where}").fetchone()
            assert row is not None
            self.aggregated.update(zip(group.values(), row, strict=True))
        for columns, conditions in by_columns.items():
            self._resolve_grouped(columns, conditions)
        for key, config in self.requested.items():
            try:
                self.values[key] = self._compute(config)
            except Exception as exc:  # the expectations that need it fail, not the suite
                self.values[key] = _Failed(exc)

    def _resolve_grouped(self, columns: tuple[str, ...], conditions: list[str]) -> None:
        """The aggregates of conditions `column = value` on the same columns, in one scan."""
        expressions = sorted({sql for c in conditions for sql in self.aggregates[c]})
        keys = ", ".join(quote_ident(c) for c in columns)
        select = ", ".join(expressions)
        # each column's values first: DuckDB filters the table scan on them (year = t)
        sets = [
            f"{quote_ident(column)} in ("
            + ", ".join(sorted({sql_literal(self.equalities[c][i][1]) for c in conditions}))
            + ")"
            for i, column in enumerate(columns)
        ]
        where = " and ".join(sets) + " and (" + " or ".join(conditions) + ")"
        source = self._source(keys, select, where)
        found = {
            tuple(row[: len(columns)]): dict(zip(expressions, row[len(columns) :], strict=True))
            for row in self.con.execute(
                f"select {keys}, {select} from {source} where {where} group by all"
            ).fetchall()
        }
        for condition in conditions:
            values = found.get(tuple(v for _, v in self.equalities[condition]), {})
            for sql, alias in self.aggregates[condition].items():
                self.aggregated[alias] = values.get(sql)

    def _compute(self, config: MetricConfiguration) -> Any:
        kind, what = self._plan(config)
        if kind == "count":
            return self._count(what)
        if kind == "bins":
            return [self._count(rows) for rows in what]
        if kind == "median":  # as numpy: the middle value, or the mean of the middle two
            column, rows = what
            n = self._count(rows)
            if n == 0:
                return None
            lower, upper = (float(self._get(rows, sql)) for sql in _middles(column, rows.rows))
            return float(np.mean([lower, upper])) if n % 2 == 0 else lower
        if kind == "duplicates_unexpected_count":
            return self._duplicates(what)[0]
        if kind == "duplicates_unexpected_values":
            return self._listed(what, self._duplicates(what)[1])
        if kind == "values":  # fetched only where there are any
            domain, rows = what
            if not self._count(rows):
                return []
            limit = int(self.result_format.get("partial_unexpected_count", 20))
            columns = ", ".join(quote_ident(c) for c in domain.columns)
            examples = self.con.execute(
                f"select {columns} from {self._source(columns, rows.where)} where {rows.where} "
                f"order by {ORDER} limit {limit}"
            ).df()
            return self._listed(domain, examples)
        return None

    def _listed(self, domain: _Domain, examples: pd.DataFrame) -> list[Any]:
        """Unexpected values as the pandas engine lists them."""
        for column in domain.columns:  # text read whole is pandas' str dtype (nulls as NaN)
            if self.types.get(column) == "VARCHAR" and examples[column].dtype == object:
                examples[column] = examples[column].astype("str")
        if domain.kind == "pair":
            a, b = domain.columns
            return list(zip(examples[a].values, examples[b].values, strict=True))
        if domain.kind == "compound":
            return list(examples[list(domain.columns)].to_dict("records"))
        return list(examples[domain.columns[0]])

    def _duplicates(self, domain: _Domain) -> tuple[int, pd.DataFrame]:
        """Rows of the domain whose key occurs more than once, and the first of them.

        One GROUP BY per hash bucket of the first key column (buckets of `bucket_rows`
        rows at most, to bound memory): a key's rows share a bucket, so the counts add up
        to the batch's. Each bucket also names its keys whose first row comes earliest; the
        first duplicated rows of the batch are rows of those keys."""
        if domain in self.duplicates:
            return self.duplicates[domain]
        keyed = self._keyed(domain)
        buckets = max(1, math.ceil(self._count(keyed) / self.bucket_rows))
        names = [quote_ident(c) for c in domain.columns]
        keys = ", ".join(names)
        limit = int(self.result_format.get("partial_unexpected_count", 20))
        count, candidates = 0, []
        for bucket in range(buckets):
            part = keyed.where
            if buckets > 1:
                part += f" and hash({names[0]}) % {buckets} = {bucket}"
            # GROUP BY takes nulls of a key column as equal, as pandas' duplicated does
            found = self.con.execute(
                f"select sum(n) over (), {keys} from (select {keys}, count(*) as n, "
                f"min(struct_pack({ORDER})) as first from {self._source(keys, part)} where {part} "
                f"group by all having count(*) > 1) order by first limit {limit}"
            ).fetchall()
            if found:
                count += int(found[0][0])
                candidates += [row[1:] for row in found]
        first = pd.DataFrame(columns=list(domain.columns))
        if candidates:
            same = " or ".join(
                "("
                + " and ".join(
                    f"{name} is not distinct from {sql_literal(value)}"
                    for name, value in zip(names, key, strict=True)
                )
                + ")"
                for key in candidates
            )
            first = self.con.execute(
                f"select {keys} from {self._source(keys, keyed.where)} "
                f"where {keyed.where} and ({same}) "
                f"order by {ORDER} limit {limit}"
            ).df()
        self.duplicates[domain] = (count, first)
        return count, first


@dataclass(frozen=True)
class _Failed:
    """A metric whose computation raised `error`."""

    error: Exception


def _sum(rows: str) -> str:
    """SQL: how many rows are `rows` (sum(case ...) rather than count(*) filter (...):
    several times faster in DuckDB when a query holds a hundred of them)."""
    return f"sum(case when {rows} then 1 else 0 end)"


def _middles(column: str, rows: str) -> tuple[str, str]:
    """SQL: the lower and upper middle values of `column` over `rows` (quantile_disc takes
    the lower one; of the negated values, the upper one)."""
    name = quote_ident(column)
    return (
        f"quantile_disc(case when {rows} then {name} end, 0.5)",
        f"-quantile_disc(case when {rows} then -{name} end, 0.5)",
    )
