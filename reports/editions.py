"""Immutable, traceable editions: identifiers, the `editions.json` index and restatements.

Every build is a new folder `out_dir/<edition_id>/`, never written over. Each edition
keeps `figures.json`, every figure it published (table, row key, column, value, whether
suppressed), so the next edition of the same period and audience can list which published
figures changed (a restatement), old value beside new. An infinite figure (a cost per job
with no upper end) is recorded as the word "unbounded"; records of earlier editions that
stored "inf" are read the same way.

A restatement compares an edition with the latest earlier one of the same period, audience
and language, and opens with a summary (`changes_summary`): how many figures changed and
how, the largest changes, and why (the input files loaded in between, the data and code
versions). Each edition also keeps `loads.json`, the loads its data rest on, for that
summary. After every build the archive's own pages are rewritten (`write_index_pages`): an
HTML index of every edition per language (`index.html`, `index.es.html`...) and stable
`latest/<period>-<audience>-<lang>.html` pages that lead to the newest edition.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import numbers
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import babel
import jinja2
import pandas as pd

from reports.disclosure import Published, row_keys
from reports.i18n import FALLBACK, Translator
from reports.period import Period

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
    previous: str | None  # the edition of the same period, audience and language it restates
    changes: int | None  # published figures that changed from `previous`
    suppressed_cells: int
    path: str  # relative to the index
    # added later: entries written before lack them (readers use .get)
    title: str | None = None  # the configured title (None: the site's title per language)
    changes_summary: dict[str, Any] | None = None  # `changes_summary` of the restatement


def edition_id(period: str, audience: str, lang: str, built: datetime) -> str:
    """A readable, sortable identifier: period, audience, language and build time (UTC)."""
    return f"{period}-{audience}-{lang}-{built:%Y%m%dT%H%M%SZ}"


def read_index(out_dir: Path) -> list[dict[str, Any]]:
    """The editions built so far into out_dir (oldest first)."""
    path = out_dir / INDEX
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("editions", []))


def _write_atomically(path: Path, text: str) -> Path:
    """Write a published file so that a reader never sees half of it."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8"
    ) as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o644)  # NamedTemporaryFile is private; the file is published
    os.replace(tmp.name, path)
    return path


def write_index(out_dir: Path, editions: list[dict[str, Any]]) -> Path:
    """Write the index atomically (a reader never sees half a file)."""
    text = json.dumps({"editions": editions}, indent=2, ensure_ascii=False)
    return _write_atomically(out_dir / INDEX, text)


def add_to_index(out_dir: Path, edition: Edition) -> Path:
    """Append one edition to the index."""
    return write_index(out_dir, [*read_index(out_dir), asdict(edition)])


def previous_edition(out_dir: Path, period: str, audience: str, lang: str) -> dict[str, Any] | None:
    """The latest edition of the same period, audience and language: what a new edition
    restates. Each language is its own series, so a reader of the Spanish editions sees
    what changed since the last Spanish one (not since an English edition built minutes
    earlier from the same run)."""
    same = [
        e
        for e in read_index(out_dir)
        if e["period"] == period
        and e["audience"] == audience
        and e.get("lang") == lang
        and (out_dir / e["path"] / FIGURES).exists()
    ]
    # built_at is cut to the second: of two built in the same second, the one indexed last
    return max(reversed(same), key=lambda e: e["built_at"]) if same else None


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


# --- why figures changed: the loads an edition rests on, and the restatement's summary ---

LOADS = "loads.json"  # in each edition: the loads (meta.loads) its data rest on
LOAD_FIELDS = (
    "entity",
    "source_file",
    "content_sha256",
    "rows_in",
    "rows_loaded",
    "rows_quarantined",
)
CHANGE_KINDS = ("revised", "added", "removed", "newly_suppressed", "newly_published")
LARGEST_SHOWN = 10


def load_records(loads: pd.DataFrame) -> list[dict[str, Any]]:
    """The loads of meta.loads as JSON records: file, data set, rows, content hash and
    when it was loaded (ISO 8601, UTC)."""
    records = []
    for row in loads.to_dict("records"):
        record = {k: _jsonable(row.get(k)) for k in LOAD_FIELDS}
        loaded = row.get("loaded_at")
        record["loaded_at"] = None if pd.isna(loaded) else pd.Timestamp(loaded).isoformat()
        records.append(record)
    return records


def loads_version(records: list[dict[str, Any]]) -> str:
    """The input data version of these loads, computed as `warehouse.load.data_version`
    computes it for the whole warehouse (a short hash of each load's data set and content)."""
    hashes = sorted((str(r["entity"]), str(r["content_sha256"])) for r in records)
    return hashlib.sha256(repr(hashes).encode()).hexdigest()[:16]


def loads_of(
    out_dir: Path, entry: dict[str, Any], current: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """The loads an earlier edition rested on: its own `loads.json`; for an edition built
    before editions kept one, the current loads up to its build time when they add up to
    its data version (meta.loads only grows, so they are then exactly its loads); None when
    neither tells."""
    path = out_dir / entry["path"] / LOADS
    if path.exists():
        return list(json.loads(path.read_text(encoding="utf-8")))
    try:
        built = datetime.fromisoformat(str(entry["built_at"]))
    except (KeyError, ValueError):
        return None
    if built.tzinfo is not None:
        built = built.astimezone(UTC).replace(tzinfo=None)
    until = built + timedelta(seconds=1)  # built_at is cut to the second
    earlier = [
        r
        for r in current
        if r.get("loaded_at") and datetime.fromisoformat(str(r["loaded_at"])) < until
    ]
    return earlier if loads_version(earlier) == entry.get("data_version") else None


def _is_number(value: object) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def largest_changes(changes: pd.DataFrame, n: int = LARGEST_SHOWN) -> list[dict[str, Any]]:
    """The `n` revised figures whose value moved most relative to the previous one
    (|new - old| / |old|); a figure that was 0 before moved infinitely far (relative None)
    and comes first. Ties keep the restatement's order (table, row, column)."""
    moved: list[tuple[float, dict[str, Any]]] = []
    for c in changes.itertuples(index=False):
        if c.change != "revised" or not (_is_number(c.old) and _is_number(c.new)):
            continue
        old, new = float(c.old), float(c.new)  # type: ignore[arg-type]
        relative = abs(new - old) / abs(old) if old != 0 else math.inf
        record = {"table": c.table, "row": c.row, "column": c.column, "old": old, "new": new}
        moved.append((relative, record))
    moved.sort(key=lambda m: -m[0])
    return [
        {**record, "relative": None if math.isinf(relative) else relative}
        for relative, record in moved[:n]
    ]


def _load_key(record: dict[str, Any]) -> tuple[str, str, str]:
    return (str(record["entity"]), str(record["source_file"]), str(record["content_sha256"]))


def changes_summary(
    changes: pd.DataFrame,
    previous: dict[str, Any],
    *,
    data_version: str,
    code_version: str,
    run_id: str,
    loads_before: list[dict[str, Any]] | None,
    loads_now: list[dict[str, Any]],
) -> dict[str, Any]:
    """What a restatement says first (JSON, kept in editions.json): how many figures changed
    and how, the largest changes, and why: the loads that differ between the two editions
    (None before: not known), their data and code versions and runs."""
    counts = changes["change"].value_counts()
    known = loads_before is not None
    before = {_load_key(r) for r in loads_before or []}
    now = {_load_key(r) for r in loads_now}
    return {
        "previous": previous["edition_id"],
        "changed": len(changes),
        "by_change": {kind: int(counts.get(kind, 0)) for kind in CHANGE_KINDS},
        "largest": largest_changes(changes),
        "data_version": {"previous": previous.get("data_version"), "this": data_version},
        "code_version": {"previous": previous.get("code_version"), "this": code_version},
        "run": {"previous": previous.get("run_id"), "this": run_id},
        "loads_known": known,
        "loads_added": [r for r in loads_now if _load_key(r) not in before] if known else [],
        "loads_removed": [r for r in loads_before or [] if _load_key(r) not in now],
    }


# --- the archive's own pages: an index per language and stable "latest" pages ------------

TEMPLATES = resources.files("reports") / "templates"
LATEST = "latest"  # folder of the pages that lead to the newest edition of each series
STYLE = "site.css"  # the index's copy of the editions' style sheet


def index_page(lang: str) -> str:
    """The file name of the index in a language or locale: index.html (English),
    index.es.html, index.es_CL.html..."""
    return "index.html" if lang == FALLBACK else f"index.{lang}.html"


def _translator(lang: str, locales_dir: Path | None) -> Translator | None:
    """The translator of an edition's language; None for one whose catalog is not found
    (an agency's catalog of an earlier build, since moved)."""
    try:
        return Translator(lang, locales_dir=locales_dir)
    except ValueError:
        return None


def language_name(lang: str, t: Translator) -> str:
    """A language or locale named in the page's language (CLDR): Spanish (Chile),
    español (Chile)..."""
    try:
        name = babel.Locale.parse(lang).get_display_name(t.locale)
    except (ValueError, babel.UnknownLocaleError):
        return lang
    return name or lang


def latest_page(period: str, audience: str, lang: str) -> str:
    """The stable path, under the archive folder, of the page leading to the newest edition
    of a period, audience and language."""
    return f"{LATEST}/{period}-{audience}-{lang}.html"


def _period_order(label: str) -> tuple[int, int]:
    try:
        when = Period.parse(label)
    except ValueError:
        return (0, 0)
    return (when.year, when.quarter or 5)  # a year before its quarters, newest first


def latest_editions(entries: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The newest edition of each period, audience and language."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for e in entries:
        series = (str(e["period"]), str(e["audience"]), str(e["lang"]))
        if series not in latest or e["built_at"] >= latest[series]["built_at"]:
            latest[series] = e
    return latest


def _in_words(e: dict[str, Any], t: Translator) -> dict[str, str]:
    """An edition's period, audience and language as the sentences of a page name them."""
    return {
        "period": str(e["period"]),
        "audience": t(f"editions.audience.{e['audience']}"),
        "in_language": t("editions.in_language", language=language_name(str(e["lang"]), t)),
    }


def _why(
    e: dict[str, Any], previous: dict[str, Any] | None, t: Translator
) -> tuple[str, list[str]]:
    """Why an edition's figures differ from the previous one, in a short phrase, and the
    input files loaded in between (when the summary knows them)."""
    summary = e.get("changes_summary") or {}
    files = [str(r["source_file"]) for r in summary.get("loads_added", [])]
    if previous is None:
        return "", files
    data = previous.get("data_version") != e.get("data_version")
    code = previous.get("code_version") != e.get("code_version")
    if data and code:
        return t("editions.why_both"), files
    if data:
        return t("editions.why_data"), files
    if code:
        return t("editions.why_code"), files
    return t("editions.why_neither"), files


def _row(
    e: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    latest: dict[tuple[str, str, str], dict[str, Any]],
    t: Translator,
) -> dict[str, Any]:
    """One edition as a row of the index: what it is, where it came from, what changed."""
    kind = e.get("kind") or Period.parse(str(e["period"])).kind
    lang = str(e["lang"])
    previous_id = e.get("previous")
    summary = e.get("changes_summary")
    change: dict[str, Any] = {"first": previous_id is None}
    if previous_id is not None:
        n = e.get("changes")
        change["text"] = (
            t("editions.unchanged", previous=previous_id)
            if n == 0
            else t("editions.changed", n=t.num(n), previous=previous_id)
            if n is not None
            else t("editions.restates", previous=previous_id)
        )
        change["href"] = f"{e['path']}/changes.html"
        change["why"], change["files"] = _why(e, by_id.get(previous_id), t)
        by_change = (summary or {}).get("by_change", {})
        change["counts"] = " · ".join(
            f"{t(f'change.{how}')}: {t.num(count)}"
            for how, count in by_change.items()
            if count and t.has(f"change.{how}")
        )
    built = str(e.get("built_at", ""))
    return {
        "edition_id": e["edition_id"],
        "href": f"{e['path']}/index.html",
        "kind": t(f"edition.{kind}"),
        "language": _capitalized(language_name(lang, t)),
        "lang": lang,
        "audience": _capitalized(t(f"editions.audience.{e['audience']}")),
        "built": built[:16].replace("T", " ") + " UTC" if built else t("sym.missing"),
        "run_id": e.get("run_id") or t("sym.missing"),
        "data_version": e.get("data_version") or t("sym.missing"),
        "code_version": e.get("code_version") or t("sym.missing"),
        "latest": latest.get((str(e["period"]), str(e["audience"]), lang)) is e,
        "change": change,
    }


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates in the system's temporary folder (a folder of
    this user's only; an entry is used only for the same template source and Python), so
    that a report does not compile its templates again (a tenth of a second or more of
    every `mes-eval report`). A cache that cannot be written is no error: the templates
    are compiled as without it."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates()
    except (OSError, RuntimeError):  # no temporary folder, or one another user owns
        return None


@functools.cache
def template_environment() -> jinja2.Environment:
    """The page templates of reports/templates, autoescaped, strict about missing names.
    One for the process: each template is compiled once, not once per edition, and not
    looked at again (the templates ship with the code); compiled, they are kept between
    processes too (`_CompiledTemplates`)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        auto_reload=False,
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_compiled_templates(),
    )


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def write_index_pages(out_dir: Path, locales_dir: Path | None = None) -> list[Path]:
    """Rewrite the archive's pages from editions.json, each file atomically: the index of
    every edition in English (index.html) and in each other language an edition was built
    in (index.es.html...), newest first and grouped by period, and one page per period,
    audience and language under latest/ leading to its newest edition (a static site has
    no server to redirect: a meta refresh and a visible link)."""
    out_dir = Path(out_dir)
    entries = read_index(out_dir)
    translators = {FALLBACK: Translator(FALLBACK, locales_dir=locales_dir)}
    for lang in dict.fromkeys(str(e["lang"]) for e in entries):
        if lang not in translators and (found := _translator(lang, locales_dir)) is not None:
            translators[lang] = found
    env = template_environment()
    _write_atomically(out_dir / STYLE, (TEMPLATES / STYLE).read_text(encoding="utf-8"))
    by_id = {str(e["edition_id"]): e for e in entries}
    latest = latest_editions(entries)
    # newest first; in the same second (built_at's resolution), the one indexed last first
    newest = sorted(entries[::-1], key=lambda e: str(e["built_at"]), reverse=True)
    titles = [str(e["title"]) for e in newest if e.get("title")]
    periods = sorted({str(e["period"]) for e in entries}, key=_period_order, reverse=True)
    # each index links to the others, each named in its own language
    languages = [
        (index_page(lang), t.html_lang, _capitalized(language_name(lang, t)))
        for lang, t in translators.items()
    ]
    written = []
    for lang, t in translators.items():
        groups = []
        for period in periods:
            series = sorted((s for s in latest if s[0] == period), key=lambda s: (s[1], s[2]))
            rows = [_row(e, by_id, latest, t) for e in newest if e["period"] == period]
            groups.append(
                {
                    "period": period,
                    "kind": rows[0]["kind"],  # a period is annual or quarterly
                    "rows": rows,
                    "latest": [
                        (latest_page(*s), t("editions.latest_link", **_in_words(latest[s], t)))
                        for s in series
                    ],
                }
            )
        html = env.get_template("editions.html").render(
            t=t,
            lang=t.html_lang,
            title=titles[0] if titles else t("site.title"),
            groups=groups,
            languages=languages,
            page=index_page(lang),
            synthetic=bool(entries) and all(e.get("synthetic") for e in entries),
            data_file=INDEX,
        )
        written.append(_write_atomically(out_dir / index_page(lang), html))
    (out_dir / LATEST).mkdir(exist_ok=True)
    for (period, audience, lang), e in latest.items():
        t = translators.get(lang, translators[FALLBACK])
        html = env.get_template("latest.html").render(
            t=t,
            lang=t.html_lang,
            heading=t("editions.latest_link", **_in_words(e, t)),
            title=e.get("title") or t("site.title"),
            target=f"../{e['path']}/index.html",
            edition_id=e["edition_id"],
            index=f"../{index_page(t.lang)}",
            style=f"../{STYLE}",
        )
        written.append(_write_atomically(out_dir / latest_page(period, audience, lang), html))
    return written
