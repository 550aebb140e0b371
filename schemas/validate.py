"""Row-level validation of an agency's file against the contract.

`validate_rows` runs the entity's pandera model lazily, so all failures are collected at
once, and splits the input into rows that pass and a quarantine with one record per
failure (row, column, rule, offending value, reason). Problems that concern the whole
file (a missing or misspelt column) raise `ContractError` with a one-line message instead.
Nothing is dropped silently: every input row ends up in exactly one of the two outputs.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import pandera.errors
import pandera.pandas as pa

from schemas.contract import ENTITIES, MAX_MAGNITUDE
from schemas.extras import contract_schema
from schemas.structure import IDENTIFIER_COLUMNS, shorten

ROW = "_row_number"  # row as a spreadsheet shows it: the header is row 1, data start at 2
QUARANTINE_COLUMNS = ["row_number", "column_name", "rule", "value", "reason"]
# pandera re-runs after dropping failing rows: a value that failed to parse hides the
# range checks of its column, so a few passes are needed to see every failure.
MAX_PASSES = 5
# dataframe-wide rules and the columns they are about (duplicate keys use the entity key)
ROW_RULE_COLUMNS: dict[str, tuple[str, ...]] = {"end_before_start": ("start_date", "end_date")}


class ContractError(ValueError):
    """The file as a whole does not fit the contract; the message is one line for the user."""


@dataclass(frozen=True)
class RowValidation:
    """Result of validating one file: typed valid rows and the quarantine records."""

    valid: pd.DataFrame  # contract (and declared extra) columns, coerced, plus _row_number
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS, one record per failure
    rows_in: int
    # rows a plausibility rule would have quarantined but a decision kept: row -> rules
    waived: Mapping[int, str] = field(default_factory=dict)
    # what became of the agency's decisions on the file (warehouse.decisions.Outcome)
    decisions: tuple[object, ...] = ()

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine["row_number"].nunique())


def check_columns(
    frame: pd.DataFrame, entity: str, source: str, extras: Mapping[str, str] | None = None
) -> None:
    """Raise ContractError naming the file and column if a required column is missing, or
    if a declared extra column is missing while a header differing only in case, spaces or
    accents is there (a file without the extra at all loads it empty)."""
    schema = contract_schema(entity, extras)
    present = [c for c in frame.columns if c != ROW]
    unknown = [c for c in present if c not in schema.columns]
    for name, column in schema.columns.items():
        if column.required and name not in present:
            close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
            hint = f" (found '{close[0]}': misspelt?)" if close else ""
            raise ContractError(f"{source}: missing required column '{name}' for {entity}{hint}")
    for name, column in schema.columns.items():
        # an optional column may be absent (it loads empty), but not silently misspelt
        close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.75)
        if not column.required and name not in present and close:
            raise ContractError(
                f"{source}: column '{close[0]}' is not in the contract of {entity}: misspelt "
                f"'{name}'? (an optional column: leave it out, or name it '{name}')"
            )
    for name in extras or {}:
        same = [c for c in unknown if _loose(str(c)) == _loose(name)]
        if name not in present and same:
            raise ContractError(
                f"{source}: declared extra column '{name}' is not in the file, but "
                f"'{same[0]}' is: rename the header or map it in a mapping file"
            )


def _loose(header: str) -> str:
    """A header as compared for the hint above: no case, spaces, underscores or hyphens."""
    return re.sub(r"[\s_.\-]+", "", header.casefold())


def describe_rule(check: str, entity: str) -> tuple[str, str]:
    """Turn a pandera check name into (rule, reason) a user understands."""
    key = ", ".join(ENTITIES[entity].key)
    patterns: list[tuple[str, str, str]] = [
        # pandera reports a value that does not parse twice: coerce_dtype(...) and dtype(...)
        (r"dtype\('(float|int|Int)", "not_a_number", "not a number"),
        (r"dtype\('datetime", "not_a_date", "not a date (expected yyyy-mm-dd)"),
        (r"dtype\(", "wrong_type", "value of the wrong type"),
        (r"not_nullable", "missing_value", "required value is missing"),
        # the bounds every number gets (schemas.contract.bounded): inf, 1e309 and the like
        (
            rf"(greater_than_or_equal_to\(-|less_than_or_equal_to\(){re.escape(str(MAX_MAGNITUDE))}\)",
            "out_of_range",
            f"infinite, or beyond ±{MAX_MAGNITUDE:.0e} (not a plausible value)",
        ),
        (r"greater_than_or_equal_to\((.*)\)", "out_of_range", "must be >= {0}"),
        (r"greater_than\((.*)\)", "out_of_range", "must be > {0}"),
        (r"less_than_or_equal_to\((.*)\)", "out_of_range", "must be <= {0}"),
        (r"isin\((.*)\)", "not_allowed", "not one of the allowed values {0}"),
        (r"str_matches\('(.*)'\)", "bad_format", "does not match the format {0}"),
        (r"str_length", "missing_value", "empty value"),
        (
            r"field_uniqueness|multiple_fields_uniqueness",
            "duplicate_key",
            f"duplicate key ({key}): every row of a duplicated key is quarantined",
        ),
        (r"end_after_start", "end_before_start", "end_date is before start_date"),
    ]
    for pattern, rule, reason in patterns:
        match = re.search(pattern, check)
        if match:
            return rule, reason.format(*match.groups())
    return "contract_check", check


def validate_rows(
    frame: pd.DataFrame, entity: str, source: str, extras: Mapping[str, str] | None = None
) -> RowValidation:
    """Validate a text frame (with a _row_number column) against the entity's contract,
    extended with its declared extra columns (`schemas.extras`: validated the same way)."""
    check_columns(frame, entity, source, extras)
    schema: pa.DataFrameSchema = contract_schema(entity, extras)
    columns = [c for c in schema.columns if c in frame.columns]
    pending = frame.set_index(ROW)[columns]
    pending, bad_dates = _parse_dates(pending, schema)
    records: list[pd.DataFrame] = [bad_dates] if len(bad_dates) else []
    for _ in range(MAX_PASSES):
        try:
            valid = schema.validate(pending, lazy=True)
            break
        except pandera.errors.SchemaErrors as exc:
            failures = exc.failure_cases
            row_failures = failures[failures["index"].notna()]
            if row_failures.empty:
                raise ContractError(f"{source}: {_file_level_message(failures)}") from None
            records.append(_quarantine_records(row_failures, entity))
            pending = pending.drop(index=row_failures["index"].astype("int64").unique())
    else:  # pragma: no cover - each pass removes rows, so this needs > MAX_PASSES layers
        raise ContractError(f"{source}: validation did not settle after {MAX_PASSES} passes")
    quarantine = (
        pd.concat(records, ignore_index=True)
        if records
        else pd.DataFrame({c: pd.Series(dtype="object") for c in QUARANTINE_COLUMNS})
    )
    return RowValidation(valid=valid.reset_index(), quarantine=quarantine, rows_in=len(frame))


def _parse_dates(
    pending: pd.DataFrame, schema: pa.DataFrameSchema
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse ISO dates cell by cell and take out the rows whose date does not parse.

    pandera's coercion infers one format per column, so a single odd value can fail the
    whole column; parsing each cell as ISO 8601 keeps the failure on its own row.
    """
    dates = [n for n, c in schema.columns.items() if n in pending and "datetime" in str(c.dtype)]
    bad: list[pd.DataFrame] = []
    for name in dates:
        text = pending[name]
        parsed = parse_iso_dates(text)
        failed = text.notna() & parsed.isna()
        if failed.any():
            bad.append(
                pd.DataFrame(
                    {
                        "row_number": text.index[failed].to_numpy(),
                        "column_name": name,
                        "rule": "not_a_date",
                        "value": text[failed].astype(object).to_numpy(),
                        "reason": f"{name}: not a date (expected yyyy-mm-dd)",
                    }
                )
            )
        pending = pending.assign(**{name: parsed})
    if not bad:
        return pending, pd.DataFrame(columns=QUARANTINE_COLUMNS)
    quarantined = pd.concat(bad, ignore_index=True)
    return pending.drop(index=quarantined["row_number"].unique()), quarantined


# An ISO 8601 UTC offset after a time of day: `Z`, `+02:00`, `-0500`, `+02` (a date alone
# ends in `-01` too: the time part is required before the offset is taken off)
_OFFSET = re.compile(r"^(\d{4}-?\d{2}-?\d{2}[T ]\s*\d[\d:.,]*?)\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


def parse_iso_dates(cells: pd.Series) -> pd.Series:
    """Each cell parsed as an ISO 8601 date (and time), as datetime64[ns]; NaT where it
    does not parse or lies outside what datetime64[ns] holds (1677-09-21 to 2262-04-11).

    A UTC offset is dropped and the date and time are kept as written
    (`2021-03-01T23:30:00-05:00` is 2021-03-01 23:30): a register's date is the day in
    the agency's own calendar, and converting to UTC would move this one to the next day.
    A column mixing offsets would otherwise fail as a whole ("Mixed timezones").
    Both engines read dates with this function (`warehouse.bulk._date_lookup`).
    """
    text = cells.astype(object).where(cells.notna(), None)
    has_offset = text.map(lambda v: isinstance(v, str) and _OFFSET.match(v) is not None)
    if has_offset.any():
        text = text.where(~has_offset, text[has_offset].str.replace(_OFFSET, r"\1", regex=True))
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, OverflowError):  # an offset form the pattern does not know
        parsed = pd.Series([_one_date(v) for v in text], index=text.index, dtype="datetime64[ns]")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    # out of datetime64[ns] a date would fail its whole column in pandera: not_a_date
    in_range = (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
    return parsed.where(in_range).astype("datetime64[ns]")


def _one_date(value: object) -> pd.Timestamp | None:
    """One cell as `parse_iso_dates` reads it (its fallback, cell by cell)."""
    if not isinstance(value, str):
        return None
    try:
        stamp = pd.Timestamp(pd.to_datetime(value, format="ISO8601"))
    except (ValueError, OverflowError):
        return None
    stamp = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
    return stamp if pd.Timestamp.min <= stamp <= pd.Timestamp.max else None


def _quarantine_records(failures: pd.DataFrame, entity: str) -> pd.DataFrame:
    described = [describe_rule(str(c), entity) for c in failures["check"]]
    records = pd.DataFrame(
        {
            "row_number": failures["index"].astype("int64").to_numpy(),
            "column_name": failures["column"].astype("object").to_numpy(),
            "rule": [rule for rule, _ in described],
            "value": failures["failure_case"].astype("string").astype("object").to_numpy(),
            "reason": [reason for _, reason in described],
        }
    )
    # rules over several columns are reported once per column: fold them into one record
    multi = records["rule"].isin(ROW_RULE_COLUMNS) | (records["rule"] == "duplicate_key")
    folded = [
        _fold(group, ENTITIES[entity].key if rule == "duplicate_key" else ROW_RULE_COLUMNS[rule])
        for (_, rule), group in records[multi].groupby(["row_number", "rule"], sort=False)
    ]
    single = records[~multi].drop_duplicates(["row_number", "column_name", "rule"])
    single = single.assign(reason=single["column_name"] + ": " + single["reason"])
    return pd.concat([single, *folded], ignore_index=True).sort_values(
        ["row_number", "column_name"], ignore_index=True
    )


def with_records(
    checked: RowValidation,
    frame: pd.DataFrame,
    entity: str,
    hide: Callable[[Iterable[str]], Mapping[str, str]],
    extras: Iterable[str] = (),
) -> RowValidation:
    """The quarantine with each row's whole record as submitted (`record`, migration 020).

    `frame` is the file as read (text cells, `_row_number`, firm ids already pseudonymized);
    a record is JSON of the row's contract and declared `extras` columns present in the
    file, as text (null when
    empty), each cut as the `value` column is (`shorten`). `hide(texts)` gives {text:
    pseudonym} for the cells that are a firm's identifier
    (`warehouse.load.identifiers_hidden`), replaced as they are in `value`: a tax number
    shifted into another column is never stored raw. A line the structural check set aside
    (`schemas.structure`) is not a row of `frame`: its record is null.
    """
    quarantine = checked.quarantine
    # the contract's columns, then the agency's declared extras (their completeness too)
    declared = [*ENTITIES[entity].schema.columns, *extras]
    columns = [c for c in dict.fromkeys(declared) if c in frame.columns]
    rows = frame[frame[ROW].isin(quarantine["row_number"].dropna().astype("int64"))]
    cells = rows[columns].astype(object).where(rows[columns].notna(), None)
    texts = {
        str(v) for c in columns if c not in IDENTIFIER_COLUMNS for v in cells[c] if v is not None
    }
    hidden = hide(texts) if texts else {}
    records = {}
    for row, values in zip(rows[ROW].astype("int64"), cells.itertuples(index=False), strict=True):
        record = {
            c: None if v is None else shorten(hidden.get(str(v), str(v)))
            for c, v in zip(columns, values, strict=True)
        }
        # the JSON text DuckDB's json_object writes (warehouse.bulk): both engines agree
        records[int(row)] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    found = pd.Series(
        [records.get(int(r)) if pd.notna(r) else None for r in quarantine["row_number"]],
        index=quarantine.index,
        dtype=object,
    )
    return dataclasses.replace(checked, quarantine=quarantine.assign(record=found))


def _fold(group: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    values = dict(zip(group["column_name"], group["value"], strict=False))
    first = group.iloc[0]
    return pd.DataFrame(
        {
            "row_number": [first["row_number"]],
            "column_name": [", ".join(columns)],
            "rule": [first["rule"]],
            "value": [", ".join(f"{c}={values.get(c)}" for c in columns)],
            "reason": [first["reason"]],
        }
    )


def _file_level_message(failures: pd.DataFrame) -> str:
    first = failures.iloc[0]
    column = first["column"]
    where = f"column '{column}': " if isinstance(column, str) else ""
    return f"{where}{first['check']} failed ({first['failure_case']})"
