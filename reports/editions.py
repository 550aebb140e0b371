"""Immutable, traceable editions: identifiers, the `editions.json` index and restatements.

Every build is a new folder `out_dir/<edition_id>/`, never written over. Each edition
keeps `figures.json`, every figure it published (table, row key, column, value, whether
suppressed), so the next edition of the same period and audience can list which published
figures changed (a restatement), old value beside new. An infinite figure (a cost per job
with no upper end) is recorded as the word "unbounded"; records of earlier editions that
stored "inf" are read the same way.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from reports.disclosure import Published, row_keys

INDEX = "editions.json"
FIGURES = "figures.json"
RESTATEMENT_COLUMNS = ["table", "row", "column", "old", "new", "change"]


@dataclass(frozen=True)
class Edition:
    """One entry of the editions index."""

    edition_id: str
    period: str
    kind: str  # annual | quarterly
    audience: str  # public | internal
    lang: str
    built_at: str  # ISO 8601, UTC
    run_id: str
    data_version: str
    code_version: str
    synthetic: bool
    previous: str | None  # the edition of the same period and audience it restates
    changes: int | None  # published figures that changed from `previous`
    suppressed_cells: int
    path: str  # relative to the index


def edition_id(period: str, audience: str, lang: str, built: datetime) -> str:
    """A readable, sortable identifier: period, audience, language and build time (UTC)."""
    return f"{period}-{audience}-{lang}-{built:%Y%m%dT%H%M%SZ}"


def read_index(out_dir: Path) -> list[dict[str, Any]]:
    """The editions built so far into out_dir (oldest first)."""
    path = out_dir / INDEX
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("editions", []))


def write_index(out_dir: Path, editions: list[dict[str, Any]]) -> Path:
    """Write the index atomically (a reader never sees half a file)."""
    path = out_dir / INDEX
    text = json.dumps({"editions": editions}, indent=2, ensure_ascii=False)
    with tempfile.NamedTemporaryFile(
        "w", dir=out_dir, suffix=".tmp", delete=False, encoding="utf-8"
    ) as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o644)  # NamedTemporaryFile is private; the index is published
    os.replace(tmp.name, path)
    return path


def add_to_index(out_dir: Path, edition: Edition) -> Path:
    """Append one edition to the index."""
    return write_index(out_dir, [*read_index(out_dir), asdict(edition)])


def previous_edition(out_dir: Path, period: str, audience: str) -> dict[str, Any] | None:
    """The latest edition of the same period and audience (figures do not depend on the
    language, so a Spanish edition restates an English one)."""
    same = [
        e
        for e in read_index(out_dir)
        if e["period"] == period
        and e["audience"] == audience
        and (out_dir / e["path"] / FIGURES).exists()
    ]
    return max(same, key=lambda e: e["built_at"]) if same else None


# how a record shows an infinite figure (a cost per job with no upper end): a word, as the
# exports do (reports.export.bounded), never a number JSON does not have
UNBOUNDED_WORDS = {math.inf: "unbounded", -math.inf: "unbounded below"}
# what editions built before that stored instead ("inf"), read as the words above
LEGACY_UNBOUNDED = {"inf": UNBOUNDED_WORDS[math.inf], "-inf": UNBOUNDED_WORDS[-math.inf]}


def _jsonable(value: object) -> object:
    """A cell as a JSON value: None for missing, Python numbers, a word for infinity."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return value
    if hasattr(value, "item"):
        value = value.item()  # numpy scalar
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return UNBOUNDED_WORDS[value]
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


def figure_records(
    tables: dict[str, Published], keys: dict[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    """Every published cell of the edition's tables as a flat record (what a restatement
    compares): suppressed cells have value None and suppressed True."""
    records: list[dict[str, Any]] = []
    for table_id, table in tables.items():
        key_columns = keys.get(table_id, ())
        frame = table.frame()
        row_ids = row_keys(frame, key_columns)
        for column in (c for c in frame.columns if c not in key_columns):
            hidden = (
                table.suppressed[column].to_numpy(dtype=bool)
                if table.applied and column in table.suppressed.columns
                else [False] * len(frame)
            )
            for key, value, off in zip(row_ids, frame[column].tolist(), hidden, strict=True):
                records.append(
                    {
                        "table": table_id,
                        "row": key,
                        "column": column,
                        "value": None if off else _jsonable(value),
                        "suppressed": bool(off),
                    }
                )
    return records


def _same(old: object, new: object) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float):
        return math.isclose(float(old), float(new), rel_tol=1e-9, abs_tol=1e-9)
    return old == new


def restatement(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> pd.DataFrame:
    """Which published figures changed between two editions, old value beside new."""
    old = [
        {**r, "value": LEGACY_UNBOUNDED.get(r["value"], r["value"])}
        if isinstance(r.get("value"), str)
        else r
        for r in old
    ]
    before = {(r["table"], r["row"], r["column"]): r for r in old}
    after = {(r["table"], r["row"], r["column"]): r for r in new}
    rows = []
    for key in sorted(before.keys() | after.keys()):
        o, n = before.get(key), after.get(key)
        if o is None:
            change = "added"
        elif n is None:
            change = "removed"
        elif o["suppressed"] != n["suppressed"]:
            change = "newly_suppressed" if n["suppressed"] else "newly_published"
        elif not _same(o["value"], n["value"]):
            change = "revised"
        else:
            continue
        rows.append(
            {
                "table": key[0],
                "row": key[1],
                "column": key[2],
                "old": o["value"] if o else None,
                "new": n["value"] if n else None,
                "change": change,
            }
        )
    return pd.DataFrame(rows, columns=RESTATEMENT_COLUMNS)
