"""The agency's corrections file: decisions on its own rows, re-applied on every run.

Field practice (DIME's ``ieduplicates`` / ``iecorrect``, IPA's high-frequency checks) keeps
the decisions an analyst takes on rejected rows in a file of their own, beside the data,
with who took each and why, and applies it again on every run: the submission stays as
the agency sent it, the decisions are reviewable, and a re-submission that fixes the row
at source makes the decision stale rather than silently wrong.

A decision names a row the way ``mes-eval quarantine`` lists it (file and row number,
optionally the firm's pseudonym and the year as checks) and says what to do:

* ``keep``: accept the row. For a duplicated key, this row is kept and the other rows of
  the same key in the file are dropped by decision; for a plausibility rule (the
  cross-entity rules in ``warehouse/rules``) the rule is waived for this row. It does not
  make a value that breaks the contract (not a number, out of range) loadable: correct it.
* ``drop``: leave the row out. It stays in the quarantine with rule
  ``dropped_by_decision`` and the decision's reason, so the counts still reconcile.
* ``correct``: give one cell a new value (``to``); ``from`` is the value as submitted and
  must still be there (the check that makes a decision stale when the file changes). The
  corrected row is validated like any other.

Also an ``outliers:`` section: the follow-up of outlier flags (who looked, what status).

The file is YAML (``decisions:`` and ``outliers:`` lists) or a spreadsheet / CSV of
decisions with the columns of :data:`DECISION_COLUMNS` (an ``outliers`` sheet of an XLSX
holds the outlier reviews). Every problem is one line naming the file and the entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.validate import ContractError

DROPPED = "dropped_by_decision"  # the quarantine rule of a row a decision left out
ACTIONS = ("keep", "drop", "correct")
OUTLIER_STATUSES = ("open", "checked", "confirmed", "corrected")
DECISION_COLUMNS = (
    "file",
    "row",
    "action",
    "firm",
    "year",
    "column",
    "from",
    "to",
    "by",
    "on",
    "why",
)
# identifiers are pseudonymized on the way in: a decision cannot give one a new value
UNCORRECTABLE = ("firm_id",)


class Decision(BaseModel):
    """One decision on one submitted row."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    file: str = Field(description="The file's name as `mes-eval quarantine` lists it.")
    row: int = Field(ge=2, description="Row number as a spreadsheet shows it (header: 1).")
    action: Literal["keep", "drop", "correct"]
    firm: str | None = Field(None, description="Check: the firm's pseudonym on that row.")
    year: int | None = Field(None, description="Check: the year on that row.")
    column: str | None = None
    old: str | None = Field(None, alias="from", description="correct: the value as submitted.")
    new: str | None = Field(None, alias="to", description="correct: the new value.")
    by: str = Field(min_length=1, description="Who took the decision.")
    on: date | None = Field(None, description="When (yyyy-mm-dd).")
    why: str = Field(min_length=1, description="Why: what the analyst found.")

    @field_validator("old", "new", "firm", "by", "why", "file", "column", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # YAML reads `from: 1200` as a number and a spreadsheet's empty cell as NaN
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip() if not isinstance(value, str) else value.strip()

    @property
    def decision_id(self) -> str:
        """A stable id: the hash of the entry (the same entry keeps its id run after run)."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def describe(self) -> str:
        """The decision in a few words, for messages: 'correct sales of row 12 of x.csv'."""
        what = f"{self.action} {self.column} of" if self.action == "correct" else self.action
        return f"{what} row {self.row} of {self.file}"


class OutlierReview(BaseModel):
    """The follow-up of one outlier flag (marts.mart_outlier_flags)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    firm: str = Field(min_length=1, description="The firm's pseudonym, as the page shows it.")
    year: int
    outcome: str = Field(min_length=1)
    status: Literal["open", "checked", "confirmed", "corrected"]
    by: str = Field(min_length=1)
    on: date | None = None
    why: str | None = None


class Corrections(BaseModel):
    """A corrections file, read and checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decisions: tuple[Decision, ...] = ()
    outliers: tuple[OutlierReview, ...] = ()
    digest: str = ""  # content hash of the file (empty: no file)

    def for_file(self, name: str) -> tuple[Decision, ...]:
        """The decisions on the file called `name`."""
        return tuple(d for d in self.decisions if d.file == name)

    @staticmethod
    def digest_of(decisions: Iterable[Decision]) -> str | None:
        """The hash of a file's decisions (None: none), part of a load's identity: the same
        file with other decisions is loaded again."""
        ids = sorted(d.decision_id for d in decisions)
        return hashlib.sha256(",".join(ids).encode()).hexdigest()[:16] if ids else None


def _problem(path: Path, where: str, exc: ValidationError) -> ContractError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "entry"
    return ContractError(f"{path.name}: {where}: {field}: {first['msg']}")


def _rows_of(path: Path) -> tuple[list[dict], list[dict]]:
    """The raw decision and outlier entries of a YAML, CSV or XLSX file."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ContractError(
                f"{path.name}: not valid YAML: {str(exc).splitlines()[0]}"
            ) from None
        if not isinstance(raw, dict) or set(raw) - {"decisions", "outliers"}:
            raise ContractError(
                f"{path.name}: a corrections file has two lists, `decisions:` and `outliers:`"
            )
        decisions, outliers = raw.get("decisions") or [], raw.get("outliers") or []
        if not isinstance(decisions, list) or not isinstance(outliers, list):
            raise ContractError(f"{path.name}: `decisions:` and `outliers:` must be lists")
        return decisions, outliers
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        return _spreadsheet_rows(path, frame), []
    if suffix == ".xlsx":
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
        first = next(iter(sheets.values()))
        outliers = sheets.get("outliers")
        rows = [] if outliers is None else _spreadsheet_rows(path, outliers, decisions=False)
        return _spreadsheet_rows(path, first), rows
    raise ContractError(f"{path.name}: a corrections file is .yaml, .csv or .xlsx")


def _spreadsheet_rows(path: Path, frame: pd.DataFrame, decisions: bool = True) -> list[dict]:
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if decisions:
        unknown = sorted(set(frame.columns) - set(DECISION_COLUMNS))
        if unknown:
            raise ContractError(
                f"{path.name}: unknown column {unknown[0]!r}; the columns are "
                f"{', '.join(DECISION_COLUMNS)}"
            )
    # an empty cell is an absent field
    return [{k: v for k, v in row.items() if v != ""} for row in frame.to_dict("records")]


def read_corrections(path: Path, sources: dict[str, str] | None = None) -> Corrections:
    """Read and check a corrections file. `sources` ({file name: entity}) are the run's
    files: a decision on another file is refused (a typo would otherwise never apply).
    Raises ContractError with one line naming the file and the entry."""
    path = Path(path)
    if not path.is_file():
        raise ContractError(f"{path}: corrections file not found")
    raw_decisions, raw_outliers = _rows_of(path)
    decisions = []
    for n, entry in enumerate(raw_decisions, start=1):
        where = f"decision {n}"
        if not isinstance(entry, dict):
            raise ContractError(f"{path.name}: {where}: not a mapping of fields")
        try:
            decision = Decision.model_validate(entry)
        except ValidationError as exc:
            raise _problem(path, where, exc) from None
        decisions.append(_checked(path, where, decision, sources))
    _no_conflicts(path, decisions)
    outliers = []
    for n, entry in enumerate(raw_outliers, start=1):
        try:
            outliers.append(OutlierReview.model_validate(entry))
        except ValidationError as exc:
            raise _problem(path, f"outlier {n}", exc) from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return Corrections(decisions=tuple(decisions), outliers=tuple(outliers), digest=digest)


def _checked(
    path: Path, where: str, decision: Decision, sources: dict[str, str] | None
) -> Decision:
    """One decision's own consistency, and its file among the run's sources."""
    prefix = f"{path.name}: {where} ({decision.describe()})"
    if decision.action == "correct":
        if not decision.column or decision.new is None or decision.old is None:
            raise ContractError(f"{prefix}: a correction needs column, from and to")
        if decision.column in UNCORRECTABLE:
            raise ContractError(
                f"{prefix}: {decision.column} is pseudonymized on the way in and cannot be "
                "corrected by decision; correct it in the file and submit it again"
            )
    elif decision.column or decision.new is not None or decision.old is not None:
        raise ContractError(f"{prefix}: column, from and to belong to a correction only")
    if sources is not None and decision.file not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise ContractError(f"{prefix}: {decision.file} is not a source of the run ({known})")
    return decision


def _no_conflicts(path: Path, decisions: list[Decision]) -> None:
    """A row gets one drop, or keep and corrections (one per column), never both."""
    seen: dict[tuple[str, int], list[Decision]] = {}
    for decision in decisions:
        seen.setdefault((decision.file, decision.row), []).append(decision)
    for (file, row), same in seen.items():
        actions = [d.action for d in same]
        columns = [d.column for d in same if d.action == "correct"]
        if "drop" in actions and len(actions) > 1:
            other = next((a for a in actions if a != "drop"), "drop")
            done = {"keep": "kept", "correct": "corrected", "drop": "dropped twice"}[other]
            raise ContractError(f"{path.name}: row {row} of {file} is both dropped and {done}")
        if actions.count("keep") > 1 or len(columns) != len(set(columns)):
            raise ContractError(f"{path.name}: row {row} of {file} has the same decision twice")
