"""Apply the agency's decisions (`schemas.decisions`) to a submitted file, and record them.

Decisions apply to the submitted rows before validation, so a corrected or kept row goes
through exactly the contract and rules every row goes through, and a dropped row is
quarantined with the decision as its reason: rows in = loaded + quarantined by rule +
dropped by decision. Each decision ends `applied` or `unmatched` (with what was found
instead) in `meta.decisions`, the auditor's changelog; nothing is ignored silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd

from schemas.contract import ENTITIES
from schemas.decisions import DROPPED, Decision, OutlierReview
from schemas.pseudonym import pseudonym
from schemas.validate import QUARANTINE_COLUMNS, ROW, RowValidation

APPLIED, UNMATCHED = "applied", "unmatched"


@dataclass
class Outcome:
    """What became of one decision on one load."""

    decision: Decision
    status: str = APPLIED
    detail: str | None = None
    firm_id: str | None = None
    year: int | None = None
    key: dict[str, str] = field(default_factory=dict)  # the row's entity key, as submitted


@dataclass
class Applied:
    """A submitted frame after the decisions: the rows that go on to validation, the rows
    dropped (as quarantine records), the rows whose plausibility rules are waived."""

    frame: pd.DataFrame
    dropped: pd.DataFrame
    waived: frozenset[int]
    outcomes: list[Outcome] = field(default_factory=list)
    auto_dropped: dict[int, list[int]] = field(default_factory=dict)  # kept row -> others

    @property
    def rows_dropped(self) -> int:
        return len(self.dropped)


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _by(decision: Decision) -> str:
    when = f", {decision.on.isoformat()}" if decision.on else ""
    return f"{decision.why} ({decision.by}{when})"


def apply_decisions(
    frame: pd.DataFrame, decisions: Sequence[Decision], entity: str, *, key: bytes
) -> Applied:
    """Apply `decisions` to a submitted text frame (with `_row_number`, firm ids already
    pseudonymized). Decisions whose row is not there, or whose firm, year or `from` value
    differ from the row's, are `unmatched` and change nothing."""
    frame = frame.copy()
    rows = frame.set_index(ROW, drop=False)
    outcomes: list[Outcome] = []
    drop: dict[int, str] = {}
    waived: set[int] = set()
    auto: dict[int, list[int]] = {}
    decided_rows = {d.row for d in decisions}
    for decision in decisions:
        outcome = Outcome(decision)
        outcomes.append(outcome)
        if decision.row not in rows.index:
            outcome.status = UNMATCHED
            outcome.detail = f"the file has no row {decision.row} (or it is a broken line)"
            continue
        row = rows.loc[decision.row]
        firm = _text(row.get("firm_id")) or None
        outcome.firm_id = firm
        year_text = _text(row.get("year")).strip()
        outcome.year = int(float(year_text)) if _is_number(year_text) else None
        mismatch = _identity_mismatch(decision, firm, year_text, key)
        if mismatch:
            outcome.status, outcome.detail = UNMATCHED, mismatch
            continue
        if decision.action == "drop":
            drop[decision.row] = f"dropped by decision: {_by(decision)}"
            outcome.key = {
                c: _text(row[c]).strip() for c in ENTITIES[entity].key if c in frame.columns
            }
        elif decision.action == "correct":
            column = str(decision.column)
            if column not in frame.columns:
                outcome.status = UNMATCHED
                outcome.detail = f"the file has no column {column}"
                continue
            current = _text(row[column]).strip()
            if current != (decision.old or "").strip():
                outcome.status = UNMATCHED
                outcome.detail = (
                    f"row {decision.row} has {column} = {current!r}, not {decision.old!r}: "
                    "the file changed; review the decision"
                )
                continue
            frame.loc[frame[ROW] == decision.row, column] = decision.new
        else:  # keep: the other rows of its key go; its plausibility rules are waived
            waived.add(decision.row)
            others = _same_key(frame, decision.row, entity) - decided_rows
            for other in sorted(others):
                drop[other] = f"duplicate of row {decision.row}, kept by decision: {_by(decision)}"
            auto[decision.row] = sorted(others)
    dropped = pd.DataFrame(
        {
            "row_number": list(drop),
            "column_name": None,
            "rule": DROPPED,
            "value": None,
            "reason": list(drop.values()),
        },
        columns=QUARANTINE_COLUMNS,
    )
    kept = frame[~frame[ROW].isin(drop)].reset_index(drop=True)
    kept.attrs = frame.attrs
    return Applied(kept, dropped, frozenset(waived), outcomes, auto)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _identity_mismatch(decision: Decision, firm: str | None, year: str, key: bytes) -> str | None:
    """Why the row is not the one the decision was taken on (None: it is). The firm may be
    written as its pseudonym (what the quarantine list shows) or as the agency's own id."""
    if decision.firm is not None and firm not in (decision.firm, pseudonym(decision.firm, key)):
        return f"row {decision.row} is another firm's ({firm}): the file changed"
    if decision.year is not None and (not _is_number(year) or float(year) != decision.year):
        return f"row {decision.row} is year {year or 'missing'}, not {decision.year}"
    return None


def _same_key(frame: pd.DataFrame, row: int, entity: str) -> set[int]:
    """The other rows with the same entity key as `row`, compared as submitted text."""
    columns = [c for c in ENTITIES[entity].key if c in frame.columns]
    if not columns:
        return set()
    text = frame[columns].astype("string").fillna("").apply(lambda s: s.str.strip())
    mine = text[frame[ROW] == row].iloc[0]
    same = (text == mine).all(axis=1) & (frame[ROW] != row)
    return set(frame.loc[same, ROW].astype(int))


def settle(applied: Applied, checked: RowValidation) -> list[Outcome]:
    """The decisions' final status once the rows were validated: a kept row still
    quarantined (by a contract check a keep cannot waive), or a keep with nothing to keep,
    is unmatched; a correction whose row is still quarantined says why."""
    quarantined = checked.quarantine.groupby("row_number")["rule"].agg(
        lambda r: ", ".join(sorted(set(r) - {DROPPED}))
    )
    for outcome in applied.outcomes:
        decision = outcome.decision
        if outcome.status != APPLIED or decision.action == "drop":
            continue
        rules = quarantined.get(decision.row, "")
        if decision.action == "keep":
            if rules:
                outcome.status = UNMATCHED
                outcome.detail = (
                    f"row {decision.row} is still quarantined ({rules}): keep accepts "
                    "duplicates and plausibility rules; correct the value instead"
                )
            elif not applied.auto_dropped.get(decision.row) and decision.row not in checked.waived:
                outcome.status = UNMATCHED
                outcome.detail = (
                    f"nothing to keep: row {decision.row} has no duplicate and breaks no "
                    "plausibility rule"
                )
            elif applied.auto_dropped.get(decision.row):
                others = ", ".join(map(str, applied.auto_dropped[decision.row]))
                outcome.detail = f"kept; dropped its duplicates (rows {others})"
            else:
                outcome.detail = f"kept despite {checked.waived[decision.row]}"
        elif rules:
            outcome.detail = f"corrected, and still quarantined ({rules})"
    return applied.outcomes


def record_decisions(
    con: duckdb.DuckDBPyConnection,
    outcomes: Sequence[Outcome],
    *,
    entity: str,
    source_file: str,
    load_id: str | None,
    run_id: str | None,
) -> None:
    """Append the decisions' outcomes on one load to meta.decisions (the changelog)."""
    if not outcomes:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    con.executemany(
        "insert into meta.decisions (decision_id, run_id, load_id, entity, source_file, "
        "row_number, firm_id, year, action, column_name, old_value, new_value, status, "
        "detail, decided_by, decided_on, reason, recorded_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                o.decision.decision_id,
                run_id,
                load_id,
                entity,
                source_file,
                o.decision.row,
                o.firm_id,
                o.year,
                o.decision.action,
                o.decision.column,
                o.decision.old,
                o.decision.new,
                o.status,
                o.detail,
                o.decision.by,
                o.decision.on,
                o.decision.why,
                now,
            ]
            for o in outcomes
        ],
    )


def supersede_dropped(
    con: duckdb.DuckDBPyConnection,
    table: str,
    outcomes: Sequence[Outcome],
    load_id: str,
) -> int:
    """Mark the current rows of earlier loads whose key a decision dropped as superseded by
    this load: a dropped row must not leave its earlier version standing."""
    count = 0
    for outcome in outcomes:
        if outcome.decision.action != "drop" or outcome.status != APPLIED or not outcome.key:
            continue
        same = " and ".join(f'trim("{c}"::varchar) = ?' for c in outcome.key)
        found = con.execute(
            f"update {table} set _superseded_by = ? where _superseded_by is null "
            f"and _load_id != ? and {same}",
            [load_id, load_id, *outcome.key.values()],
        ).fetchall()
        count += int(found[0][0]) if found else 0
    return count


def record_outlier_reviews(
    con: duckdb.DuckDBPyConnection, reviews: Sequence[OutlierReview], run_id: str | None
) -> int:
    """Append the outlier reviews not recorded before (same firm, year, outcome, status,
    author, date and note); the latest row per firm-year-outcome is its status."""
    rows = [[r.firm, r.year, r.outcome, r.status, r.by, r.on, r.why, run_id] for r in reviews]
    con.execute(
        "create temp table if not exists incoming_reviews (firm_id varchar, year integer, "
        "outcome varchar, status varchar, decided_by varchar, decided_on date, "
        "reason varchar, run_id varchar)"
    )
    con.execute("delete from incoming_reviews")
    con.executemany("insert into incoming_reviews values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    added = con.execute(
        "insert into meta.outlier_reviews by name "
        "select *, current_timestamp::timestamp as recorded_at from incoming_reviews as new "
        "where not exists (select 1 from meta.outlier_reviews as old where "
        "old.firm_id = new.firm_id and old.year = new.year and old.outcome = new.outcome "
        "and old.status = new.status and old.decided_by = new.decided_by "
        "and old.decided_on is not distinct from new.decided_on "
        "and old.reason is not distinct from new.reason)"
    ).fetchall()
    con.execute("drop table incoming_reviews")
    return int(added[0][0]) if added else 0


def unmatched_messages(outcomes: Sequence[Outcome]) -> tuple[str, ...]:
    """One line per unmatched decision, for the run's summary."""
    return tuple(f"{o.decision.describe()}: {o.detail}" for o in outcomes if o.status == UNMATCHED)
