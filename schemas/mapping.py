"""Per-source mapping files: an agency's own headers, codes and number formats onto the contract.

A mapping file is YAML, one per source (agency x entity x layout), for example:

    entity: outcomes
    description: Chile, outcomes from the agency's follow-up system   # optional
    columns:            # agency header -> contract column (case/accent/space-insensitive)
      RUT: firm_id
      año: year
      ventas: sales
    values:             # per contract column: agency code -> contract value ("" = missing)
      source: {REG: registry, ENC: survey}
    constants:          # contract columns the file does not carry
      wave: "1"
    extra_columns:      # agency-declared extra columns (schemas.extras): name -> kind
      new_products: integer
    format:             # see schemas.readers.SourceFormat
      delimiter: ";"
      encoding: cp1252
      decimal: ","
      thousands: "."
      date_format: "%d/%m/%Y"

The YAML is read as plain text (no YAML 1.1 surprises: the code `NO` stays `NO`, `01`
stays `01`), duplicate keys are an error, and the content is validated with pydantic
against the contract, so a typo gives one line naming the file and the key.

`columns` may also map a header onto an extra column declared in `extra_columns` here or
in the run config's source (`load_mapping(path, extra_columns=...)` merges the two).

`apply_mapping` renames headers (other columns are kept as they are), maps codes (an
unmapped code is left as it is, so the contract quarantines it with the agency's value),
adds constants, and normalises text numbers and dates in the contract's numeric and date
columns and the numeric extra columns only. A value that does not parse in the declared
format is left unchanged, so validation quarantines it as sent ("n/d" stays "n/d"):
nothing is coerced silently.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from schemas.contract import ENTITIES
from schemas.extras import (
    EXTRA_ENTITIES,
    ExtraColumnError,
    ExtraKind,
    check_extra_columns,
    extra_kinds,
)
from schemas.readers import SOURCE_FILE, SourceFormat, read_source, typed_mask
from schemas.structure import BROKEN_LINES
from schemas.validate import ROW, ContractError

Kind = Literal["integer", "number", "date"]
SPACES = " \u00a0\u202f\u2009"  # a "1 234,5" may use any of these between digit groups
MINUS = "-\u2212"  # ASCII hyphen-minus and the Unicode minus sign
_SEPARATORS = str.maketrans("", "", ".," + SPACES)  # deleted from the integer part


class Mapping(BaseModel):
    """A validated mapping file; `Mapping.identity(entity)` is for files in contract form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: str
    description: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    format: SourceFormat = Field(default_factory=SourceFormat)
    extra_columns: dict[str, ExtraKind] = Field(default_factory=dict)
    _origin: str = PrivateAttr(default="mapping")  # the mapping file's name, for messages

    @classmethod
    def identity(cls, entity: str) -> Mapping:
        """The mapping of a file already in contract form: contract headers, '.' decimals."""
        return cls(entity=entity)

    @property
    def origin(self) -> str:
        """Name of the mapping file (or 'mapping' when built in code)."""
        return self._origin

    @model_validator(mode="after")
    def _fits_the_contract(self) -> Mapping:
        if self.entity not in ENTITIES:
            raise ValueError(
                f"entity: {self.entity!r} is not an entity of the contract"
                f"{_did_you_mean(self.entity, list(ENTITIES))}"
            )
        schema = ENTITIES[self.entity].schema
        try:
            check_extra_columns(self.entity, self.extra_columns)
        except ExtraColumnError as exc:
            raise ValueError(f"extra_columns: {exc}") from None
        contract = [*schema.columns, *self.extra_columns]

        def check_column(key: str, column: str) -> None:
            if column not in contract:
                declare = ""
                if self.entity in EXTRA_ENTITIES:
                    declare = " nor a declared extra column (declare it in extra_columns)"
                raise ValueError(
                    f"{key}: {column!r} is not a column of {self.entity}{declare}"
                    f"{_did_you_mean(column, contract)}"
                )

        def check_value(key: str, column: str, value: str) -> None:
            if column in self.extra_columns:
                return  # extras have no list of allowed values
            allowed = allowed_values(self.entity, column)
            if value and allowed is not None and value not in allowed:
                raise ValueError(
                    f"{key}: {value!r} is not allowed in {self.entity}.{column} "
                    f"({', '.join(allowed)})"
                )

        normalized: dict[str, tuple[str, str]] = {}
        for header, column in self.columns.items():
            check_column(f"columns.{header}", column)
            key = header_key(header)
            if not key:
                raise ValueError(f"columns.{header!r}: empty header")
            if key in normalized and normalized[key][1] != column:
                first, other = normalized[key]
                raise ValueError(
                    f"columns.{header}: same header as {first!r} (case, accents and spaces "
                    f"are ignored) but mapped to {column!r} instead of {other!r}"
                )
            normalized[key] = (header, column)
        for column, codes in self.values.items():
            check_column(f"values.{column}", column)
            for code, value in codes.items():
                check_value(f"values.{column}.{code}", column, value)
        for column, value in self.constants.items():
            check_column(f"constants.{column}", column)
            check_value(f"constants.{column}", column, value)
            headers = [h for h, c in self.columns.items() if c == column]
            if headers:
                raise ValueError(
                    f"constants.{column}: is also read from the file's column {headers[0]!r}"
                )
        return self


def load_mapping(path: Path | str, *, extra_columns: dict[str, str] | None = None) -> Mapping:
    """Read and validate a mapping file; ContractError (one line, file and key) if invalid.

    `extra_columns` (the run config's declaration for the source) is merged into the
    mapping's own, so its `columns` may map headers onto either; a column declared in
    both must have the same kind."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ContractError(f"{path}: mapping file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path.name}: cannot read the mapping file: {exc}") from None
    try:
        data = yaml.load(text, Loader=_TextLoader)
    except yaml.YAMLError as exc:
        raise ContractError(f"{path.name}: invalid YAML: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ContractError(f"{path.name}: a mapping file is a YAML mapping with an 'entity' key")
    if extra_columns:
        own = data.get("extra_columns") or {}
        if isinstance(own, dict):
            for name, kind in own.items():
                if name in extra_columns and extra_columns[name] != kind:
                    raise ContractError(
                        f"{path.name}: extra_columns.{name}: declared {kind} here and "
                        f"{extra_columns[name]} in the config"
                    )
            data = {**data, "extra_columns": {**extra_columns, **own}}
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        raise ContractError(f"{path.name}: {_pydantic_problem(exc)}") from None
    mapping._origin = path.name
    return mapping


def apply_mapping(
    frame: pd.DataFrame, mapping: Mapping, entity: str, *, source: str | None = None
) -> pd.DataFrame:
    """Turn a text frame from `read_source` into the contract's columns and formats.

    Renames mapped headers (and headers that already are contract columns or declared
    extra columns, ignoring case, accents and spaces); keeps other columns as they are;
    maps codes (matched exactly, as the reader trimmed them); adds constants; normalises
    text numbers and dates in the entity's numeric and date columns (extras included).
    `source` names the data file in errors (default: the file `read_source` read).
    Raises ContractError when two headers give one contract column, when a mapped
    required column is absent, or when a constant is also in the file. A mapped optional
    column may be absent (one mapping serves files of several years, some without it).
    """
    source = source or frame.attrs.get(SOURCE_FILE) or mapping.origin
    if mapping.entity != entity:
        raise ContractError(
            f"{source}: mapping {mapping.origin} is for {mapping.entity}, not {entity}"
        )
    schema = ENTITIES[entity].schema
    by_key = {header_key(h): c for h, c in mapping.columns.items()}
    for column in [*schema.columns, *mapping.extra_columns]:
        by_key.setdefault(header_key(column), column)
    found: dict[str, str] = {}  # contract column -> the file's header that gives it
    for header in frame.columns:
        column = None if header == ROW else by_key.get(header_key(str(header)))
        if column is None:
            continue
        if column in found:
            raise ContractError(
                f"{source}: columns '{found[column]}' and '{header}' both map to '{column}' "
                f"(mapping {mapping.origin})"
            )
        found[column] = header
    for name, column in schema.columns.items():
        expected = [h for h, c in mapping.columns.items() if c == name]
        if column.required and name not in found and name not in mapping.constants and expected:
            raise ContractError(
                f"{source}: no column {' or '.join(repr(h) for h in expected)} for "
                f"required column '{name}' of {entity} (mapping {mapping.origin})"
            )
    for name in mapping.constants:
        if name in found:
            raise ContractError(
                f"{source}: column '{found[name]}' gives '{name}', which mapping "
                f"{mapping.origin} sets as a constant"
            )

    out = frame.copy()
    out.attrs = {SOURCE_FILE: source}  # typed cells are consumed here
    renames = {h: c for c, h in found.items() if h != c}
    if BROKEN_LINES in frame.attrs:  # lines set aside by the reader, under the new names
        out.attrs[BROKEN_LINES] = frame.attrs[BROKEN_LINES].renamed(renames)
    out = out.rename(columns=renames)
    for name, value in mapping.constants.items():
        out[name] = value
    for name, codes in mapping.values.items():
        if name in out.columns:
            # "" maps a code to missing; an unmapped code stays, for the contract to reject
            out[name] = [
                v if v is None or v not in codes else (codes[v] or None) for v in out[name]
            ]
    fmt = mapping.format
    kinds = {**contract_kinds(entity), **extra_kinds(mapping.extra_columns)}
    for name, kind in kinds.items():
        if name not in out.columns:
            continue
        header = found.get(name, name)
        skip = typed_mask(frame, header) if header in frame.columns else None
        values = out[name].tolist()
        seen: dict[str, str | None] = {}  # agency files repeat values (0, years, dates)
        for i, value in enumerate(values):
            if value is None or (skip is not None and skip[i]):
                continue  # missing, or stored as a number/date: already canonical
            text = str(value)
            if text not in seen:
                if kind == "date":
                    seen[text] = normalize_date(text, fmt.date_format)
                else:
                    seen[text] = normalize_number(
                        text, fmt.decimal, fmt.thousands, integer=kind == "integer"
                    )
            parsed = seen[text]
            if parsed is not None:
                values[i] = parsed
        out[name] = pd.Series(values, index=out.index, dtype=object)
    return out


def read_with_mapping(
    path: Path | str, mapping: Mapping, *, sheet: str | int | None = None
) -> pd.DataFrame:
    """`read_source` with the mapping's format, then `apply_mapping` for its entity."""
    path = Path(path)
    frame = read_source(path, sheet=sheet, fmt=mapping.format)
    return apply_mapping(frame, mapping, mapping.entity, source=path.name)


# --- contract helpers -------------------------------------------------------------------


@cache
def contract_kinds(entity: str) -> dict[str, Kind]:
    """The entity's columns that hold integers, other numbers or dates (from pandera)."""
    kinds: dict[str, Kind] = {}
    for name, column in ENTITIES[entity].schema.columns.items():
        dtype = getattr(column.dtype, "type", None)
        if dtype is None:
            continue
        if pd.api.types.is_datetime64_any_dtype(dtype):
            kinds[name] = "date"
        elif pd.api.types.is_integer_dtype(dtype):
            kinds[name] = "integer"
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            kinds[name] = "number"
    return kinds


def allowed_values(entity: str, column: str) -> list[str] | None:
    """The values an `isin` check of the contract allows in a column, if it has one."""
    for check in ENTITIES[entity].schema.columns[column].checks:
        if check.name == "isin":
            return [str(v) for v in check.statistics["allowed_values"]]
    return None


def header_key(header: str) -> str:
    """Header as compared: no accents, case, spaces, underscores, hyphens or dots."""
    decomposed = unicodedata.normalize("NFKD", header)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_.\-]+", "", plain.casefold())


# --- numbers and dates ------------------------------------------------------------------


@cache
def _number_patterns(decimal: str, thousands: str | None) -> tuple[re.Pattern[str], ...]:
    d = re.escape(decimal)
    plain = re.compile(rf"(?P<int>\d*)(?:{d}(?P<frac>\d+))?(?:[eE](?P<exp>[+-]?\d+))?")
    if thousands is None:
        return (plain,)
    t = f"[{SPACES}]" if thousands == " " else re.escape(thousands)
    # a real grouping: 1-3 leading digits (not a lone 0), then groups of exactly three
    grouped = re.compile(rf"(?P<int>[1-9]\d{{0,2}}(?:{t}\d{{3}})+)(?:{d}(?P<frac>\d+))?")
    return (plain, grouped)


def normalize_number(
    text: str, decimal: str = ".", thousands: str | None = None, *, integer: bool = False
) -> str | None:
    """Canonical text ('1234567.89') of a number written with the given separators.

    Accepts a sign, `(1.234)` for a negative and an exponent (ungrouped numbers only).
    For integer columns a zero fraction is dropped ('2015,0' -> '2015'). Returns None
    when the text is not such a number, so the caller leaves it unchanged.
    """
    body = text.strip()
    if body.isascii() and body.isdigit():
        return body  # the common case: nothing to normalise
    if not body:
        return None
    negative = False
    if len(body) > 2 and body[0] == "(" and body[-1] == ")":
        negative, body = True, body[1:-1].strip()
    if body[:1] in MINUS or body[:1] == "+":
        if negative:
            return None
        negative, body = body[0] in MINUS, body[1:]
    for pattern in _number_patterns(decimal, thousands):
        match = pattern.fullmatch(body)
        if match and (match["int"] or match["frac"]):
            break
    else:
        return None
    digits = match["int"].translate(_SEPARATORS) or "0"
    frac = match["frac"] or ""
    exp = match.groupdict().get("exp")
    if integer:
        if exp or frac.strip("0"):
            return None  # 2015,5 is no year: leave it for the contract to report as sent
        frac = ""
    sign = "-" if negative else ""
    return f"{sign}{digits}" + (f".{frac}" if frac else "") + (f"e{exp}" if exp else "")


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?")
_YMD = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_DMY = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def normalize_date(text: str, date_format: str | None = None) -> str | None:
    """`yyyy-mm-dd` (with ` HH:MM:SS` if there is a time of day) for a date as written.

    ISO is always accepted; then `date_format` if given, else dd/mm/yyyy (also with '-'
    or '.') and yyyy/mm/dd. Returns None for anything else or an impossible date.
    """
    body = text.strip()
    try:
        if match := _ISO.fullmatch(body):
            y, m, d, hh, mm, ss = match.groups()
            value = dt.datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        elif date_format is not None:
            value = dt.datetime.strptime(body, date_format)
        elif match := _YMD.fullmatch(body):
            y, m, d = match.groups()
            value = dt.datetime(int(y), int(m), int(d))
        elif match := _DMY.fullmatch(body):
            d, _, m, y, hh, mm, ss = match.groups()
            value = dt.datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        else:
            return None
    except ValueError:
        return None  # 31/02/2020, 25:00 ...
    if value.time() == dt.time(0):
        return value.date().isoformat()
    return value.strftime("%Y-%m-%d %H:%M:%S")


# --- YAML and error messages -----------------------------------------------------------


class _TextLoader(yaml.BaseLoader):
    """YAML with every scalar as text, refusing duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


def _pydantic_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}" if where else message


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
