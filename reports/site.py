"""Build a static site edition for a period: `build_site`, or one per language: `build_sites`.

An edition is a folder `out_dir/<edition_id>/` of offline pages (overview, one page per
program, data quality, methodology, changes), the published tables as CSV, JSON and XLSX,
the suppression log, PNG images of the key charts when kaleido is available, and
`figures.json` and `loads.json` (what the next edition of the period, audience and language
compares itself with). All editions share one `out_dir/assets/plotly-<version>.min.js` and
are listed in `out_dir/editions.json`, and after each build in the archive's HTML index
(`out_dir/index.html`, one per language) with stable `out_dir/latest/` pages
(`reports.editions.write_index_pages`).

Annual editions ("2024") carry reach, spending, data quality and impact; quarterly ones
("2024Q3") reach, spending and data quality up to the end of the quarter. Public editions
pass every table through disclosure control (`reports.disclosure`); internal ones show
everything and say "not for publication" on every page.

`build_sites` builds a publish's languages together: what does not depend on the language
(the warehouse's reads, the protected tables, the comparison records, the tables without
words) once, and the languages two at a time on two cores.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import pickle
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
import plotly.offline

from reports import figures, pages, planning, tables
from reports.disclosure import DisclosureRules
from reports.editions import (
    FIGURES,
    LARGEST_SHOWN,
    LOADS,
    Edition,
    add_to_index,
    changes_summary,
    edition_id,
    figure_records,
    index_page,
    load_records,
    loads_of,
    previous_edition,
    restatement,
    template_environment,
    write_index_pages,
)
from reports.export import Written, dump_json, write_log, write_tables
from reports.i18n import Lang, Translator
from reports.images import export_images
from reports.inputs import SiteInputs, outcome_labels, read_site_inputs

# the single-page report, until flows/steps.py::publish calls build_site
from reports.period import Period
from reports.views import Formats
from warehouse.runs import code_version  # one version for runs and editions

__all__ = ["SharedReads", "SiteResult", "build_site", "build_sites"]

TEMPLATES = resources.files("reports") / "templates"
PROTECTION = "protection.json"  # the disclosure audit's certificate
Audience = Literal["public", "internal"]


@dataclass(frozen=True)
class SiteResult:
    """What `build_site` produced."""

    edition_id: str
    period: str
    lang: str
    audience: str
    data_version: str  # hash of every input file loaded (meta.loads)
    code_version: str
    path: Path  # the edition's folder
    index: Path  # its overview page
    pages: list[Path]
    tables: dict[str, pd.DataFrame]  # as published (suppressed cells empty in public editions)
    suppression_log: pd.DataFrame  # table, row, column, rule, applied
    restatement: pd.DataFrame | None  # None for the first edition of a period
    previous_edition: str | None
    images: list[Path]
    messages: list[str]  # e.g. why no PNG images were written
    seconds: float


@dataclass
class _Reads:
    """What every language's edition of one run, period and audience shows."""

    inputs: SiteInputs
    published: tables.SiteTables
    outliers: pd.DataFrame | None
    planned: planning.Planned | None
    records: list[dict[str, Any]]  # figures.json: every published cell
    records_json: str
    loads: list[dict[str, Any]]  # loads.json
    # restatements against a previous edition's figures.json, by a hash of its text
    restatements: dict[str, pd.DataFrame] = field(default_factory=dict)
    exports: dict[str, Written] = field(default_factory=dict)  # tables without words


class SharedReads:
    """The language-independent part of editions built together (`flows.steps.publish`
    builds one per language from the same run): the warehouse's reads, the
    disclosure-controlled tables and the comparison records of a run, period, audience and
    rules, computed by the first edition and reused by the others. Only for editions built
    from the same warehouse state: hold one for a single publish, not longer."""

    def __init__(self) -> None:
        """An empty store: the first edition fills it."""
        self._reads: dict[tuple[object, ...], _Reads] = {}

    def read(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        when: Period,
        rules: DisclosureRules,
        *,
        public: bool,
    ) -> _Reads:
        """The edition's inputs and published tables, read and protected on first use."""
        key = (id(con), run_id, when.label, rules, public)
        if key not in self._reads:
            self._reads[key] = _read(con, run_id, when, rules, public=public)
        return self._reads[key]


def _read(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    when: Period,
    rules: DisclosureRules,
    *,
    public: bool,
) -> _Reads:
    inputs = read_site_inputs(con, run_id, when)
    published = tables.build_tables(inputs, rules, public=public)
    # the comparison record of the next edition; valid JSON (an infinite figure is the word
    # "unbounded", reports.editions._jsonable)
    compared = {k: v for k, v in published.tables.items() if k not in tables.NOT_FIGURES}
    records = figure_records(compared, _keys())
    return _Reads(
        inputs=inputs,
        published=published,
        # firm by firm, with the follow-up of each flag: for auditors, never in a public
        # edition
        outliers=None if public else pages.read_outliers(con),
        # the next evaluation's power: a design tool for the agency, from firm-level rows
        planned=planning.read_plans(con) if not public and when.annual else None,
        records=records,
        records_json=json.dumps(records, ensure_ascii=False, allow_nan=False),
        # the loads the edition's data rest on: the next restatement says which ones differ
        loads=load_records(inputs.loads),
    )


def _restated(reads: _Reads, out_dir: Path, previous: dict[str, Any]) -> pd.DataFrame:
    """What changed since the `previous` edition's figures, computed once for every
    language whose previous edition showed the same figures (most often all of them)."""
    text = (out_dir / previous["path"] / FIGURES).read_text(encoding="utf-8")
    seen = hashlib.sha256(text.encode()).hexdigest()
    if seen not in reads.restatements:
        # the same figures to the byte (the same run published again): nothing restated
        same = text == reads.records_json
        reads.restatements[seen] = (
            restatement([], []) if same else restatement(json.loads(text), reads.records)
        )
    return reads.restatements[seen]


def _before_fork(
    reads: _Reads, out_dir: Path, period: str, audience: str, langs: Sequence[Lang]
) -> None:
    """The work every language's build would repeat, done once in the process that forks
    the others: they start with it (copy-on-write). The page templates compiled, and the
    restatements against each language's previous edition computed (one per distinct
    previous figures)."""
    env = template_environment()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    for lang in langs:
        previous = previous_edition(out_dir, Period.parse(period).label, audience, lang)
        if previous is not None:
            _restated(reads, out_dir, previous)


def _shared_plotly(out_dir: Path) -> Path:
    """One plotly.min.js for every page of every edition, named by its version so an
    existing file never changes."""
    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    path = assets / f"plotly-{plotly.offline.get_plotlyjs_version()}.min.js"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        tmp.replace(path)
    return path


def build_site(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    period: str,
    lang: Lang = "en",
    audience: Audience = "public",
    run_id: str,
    synthetic: bool | None = None,
    title: str | None = None,
    disclosure: DisclosureRules | None = None,
    price_base_year: int | None = None,
    data_docs: Path | None = None,
    images: bool = True,
    image_cache: Path | None = None,
    true_effects: pd.DataFrame | None = None,
    locales_dir: Path | None = None,
    shared: SharedReads | None = None,
) -> SiteResult:
    """Build a new edition of the site for `period` into `out_dir/<edition_id>/`.

    period: "2024" (annual impact edition) or "2024Q3" (quarterly monitoring edition).
    audience: "public" applies disclosure control; "internal" shows everything.
    run_id: the run whose estimates and data-quality scorecard the edition shows.
    synthetic, price_base_year: default to the run's recorded parameters.
    title: shown in every page's header and <title> (the config's `title`); default, the
        site's title in the edition's language.
    disclosure: thresholds of the disclosure rules (default DisclosureRules()).
    data_docs: Great Expectations Data Docs folder (default `<warehouse dir>/data_docs`);
        copied into internal editions only, since they show record-level examples.
    images: also write PNG images of the key charts (needs kaleido and chromium).
    image_cache: folder of PNGs already exported, reused for identical charts.
    true_effects: demo only, the planted effects drawn on the event-study charts.
    lang: a language or CLDR locale with a catalog ("es", "es_CL"); locales_dir: the
        agency's folder of extra catalogs (reports.i18n).
    shared: reads shared with the other editions built from the same warehouse now (one
        per language): the warehouse is read and the tables protected once.
    """
    result, edition = _build(
        con,
        Path(out_dir),
        period=period,
        lang=lang,
        audience=audience,
        run_id=run_id,
        synthetic=synthetic,
        title=title,
        disclosure=disclosure,
        price_base_year=price_base_year,
        data_docs=data_docs,
        images=images,
        image_cache=image_cache,
        true_effects=true_effects,
        locales_dir=locales_dir,
        shared=shared,
    )
    add_to_index(out_dir, edition)
    # the archive's HTML index and latest/ pages, in every language
    write_index_pages(out_dir, locales_dir=locales_dir)
    return result


def build_sites(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    period: str,
    langs: Sequence[Lang],
    run_id: str,
    audience: Audience = "public",
    synthetic: bool | None = None,
    title: str | None = None,
    disclosure: DisclosureRules | None = None,
    price_base_year: int | None = None,
    data_docs: Path | None = None,
    images: bool = True,
    image_cache: Path | None = None,
    true_effects: pd.DataFrame | None = None,
    locales_dir: Path | None = None,
    workers: int | None = None,
) -> list[SiteResult]:
    """Build one edition per language, as `build_site` does for each (the other arguments
    are `build_site`'s), and index them in the languages' order.

    The warehouse is read and the tables protected once for all languages; PNG images are
    exported with the first language only. A build is mostly Python, one core at a time:
    on a machine of several cores the languages are dealt out to `workers` processes (by
    default one per language), this one and others forked once the warehouse is read (they
    share it without copying). One process per language even on two cores: three
    languages in three processes end when the cores have done three builds' work between
    them, where two processes would wait for the one that builds two. `workers` 1 builds
    them one after the other here. An edition that was built is indexed even when another
    language failed; the first failure is raised then."""
    out_dir = Path(out_dir)
    langs = list(langs)
    if audience not in ("public", "internal"):
        raise ValueError(f"audience must be 'public' or 'internal', got {audience!r}")
    # a language without a catalog: refused before anything is written
    resolved = [Translator(lang, locales_dir=locales_dir).lang for lang in langs]
    shared = SharedReads()
    rules = disclosure or DisclosureRules()
    # read before forking: both processes start from it
    reads = shared.read(con, run_id, Period.parse(period), rules, public=audience == "public")
    out_dir.mkdir(parents=True, exist_ok=True)
    _shared_plotly(out_dir)  # written by one process only

    def build(lang: Lang) -> tuple[SiteResult, Edition]:
        return _build(
            con,
            out_dir,
            period=period,
            lang=lang,
            audience=audience,
            run_id=run_id,
            synthetic=synthetic,
            title=title,
            disclosure=rules,
            price_base_year=price_base_year,
            data_docs=data_docs,
            images=images and lang == langs[0],
            image_cache=image_cache,
            true_effects=true_effects,
            locales_dir=locales_dir,
            shared=shared,
        )

    # a language twice restates its own edition: one after the other; one core: no gain
    processes = len(langs) if workers is None else max(1, workers)
    parallel = (os.cpu_count() or 1) > 1 and len(set(langs)) == len(langs) and hasattr(os, "fork")
    processes = min(processes, len(langs)) if parallel else 1
    mine, *others = [langs[i::processes] for i in range(processes)]
    if others:
        _before_fork(reads, out_dir, period, audience, resolved)

    def builder(theirs: list[Lang]) -> Callable[[], object]:
        def build_theirs() -> tuple[list[tuple[SiteResult, Edition]], Exception | None]:
            done: list[tuple[SiteResult, Edition]] = []  # up to a failure, as here
            for lang in theirs:
                try:
                    site, edition = build(lang)
                except Exception as exc:
                    return done, exc
                done.append((dataclasses.replace(site, tables={}), edition))  # parent has them
            return done, None

        return build_theirs

    workers_of = [(_Worker(builder(theirs)), theirs) for theirs in others]
    built: dict[str, tuple[SiteResult, Edition]] = {}
    errors: list[BaseException] = []
    try:
        for lang in mine:
            built[lang] = build(lang)
    except BaseException as exc:  # the other processes' editions are indexed still
        errors.append(exc)
        if not isinstance(exc, Exception):  # interrupted: the other processes stop too
            for worker, _ in workers_of:
                worker.stop()
            workers_of = []
    tables = {k: v.frame() for k, v in reads.published.tables.items()} if workers_of else {}
    for worker, theirs in workers_of:
        try:
            done, failure = worker.result()
            for lang, (site, edition) in zip(theirs, done, strict=False):
                built[lang] = (dataclasses.replace(site, tables=tables), edition)
            errors += [failure] if failure is not None else []
        except BaseException as exc:
            errors.append(exc)
            worker.stop()
            if not isinstance(exc, Exception):
                for other, _ in workers_of:
                    other.stop()
                break
    for lang in langs:
        if lang in built:
            add_to_index(out_dir, built[lang][1])
    write_index_pages(out_dir, locales_dir=locales_dir)
    if errors:
        raise errors[0]
    return [built[lang][0] for lang in langs]


class _Worker:
    """A function run in a forked process; its return value (or the exception it raised)
    comes back pickled through a pipe."""

    def __init__(self, work: Callable[[], object]) -> None:
        """Fork, and run `work` in the child."""
        read, write = os.pipe()
        # the objects so far out of the collector's sight: a collection in either process
        # would otherwise touch, and so copy, most of the memory they share
        gc.freeze()
        self.pid = os.fork()
        self.running = True
        if self.pid != 0:
            gc.unfreeze()
        if self.pid == 0:  # the child: work, answer, and leave without the parent's exit
            os.close(read)  # handlers (the warehouse, the flow's) or buffered output
            code = 0
            # stopped (`stop`): an exception, so that a half-built edition is removed
            signal.signal(signal.SIGTERM, _stopped)
            try:
                outcome: tuple[str, object] = ("ok", work())
            except BaseException as exc:
                outcome, code = ("error", exc), 1
            try:
                data = pickle.dumps(outcome)
            except Exception as exc:  # an exception that does not pickle: its words
                message = f"{type(outcome[1]).__name__}: {outcome[1]} ({exc})"
                data, code = pickle.dumps(("error", RuntimeError(message))), 1
            with os.fdopen(write, "wb") as answer:
                answer.write(data)
            os._exit(code)
        os.close(write)
        self.answer = os.fdopen(read, "rb")

    def result(self) -> Any:
        """What `work` returned, once it has; what it raised is raised here."""
        with self.answer:
            data = self.answer.read()
        _, status = os.waitpid(self.pid, 0)
        self.running = False
        if not data:
            raise RuntimeError(f"the edition builder process ended with status {status}")
        kind, value = pickle.loads(data)
        if kind == "error":
            raise value
        return value

    def stop(self) -> None:
        """End the child, if it runs still, and wait for it."""
        if not self.running:
            return
        self.running = False
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):  # gone already
            pass
        self.answer.close()


def _stopped(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _build(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    period: str,
    lang: Lang,
    audience: Audience,
    run_id: str,
    synthetic: bool | None,
    title: str | None,
    disclosure: DisclosureRules | None,
    price_base_year: int | None,
    data_docs: Path | None,
    images: bool,
    image_cache: Path | None,
    true_effects: pd.DataFrame | None,
    locales_dir: Path | None,
    shared: SharedReads | None,
) -> tuple[SiteResult, Edition]:
    """`build_site` but for the index: the edition in its folder, and its index entry."""
    started = time.perf_counter()
    built = datetime.now(UTC).replace(microsecond=0)
    when = Period.parse(period)
    if audience not in ("public", "internal"):
        raise ValueError(f"audience must be 'public' or 'internal', got {audience!r}")
    t = Translator(lang, locales_dir=locales_dir)
    lang = t.lang  # its CLDR name (es-cl: es_CL), in the edition's id and the index
    rules = disclosure or DisclosureRules()
    public = audience == "public"
    reads = (shared or SharedReads()).read(con, run_id, when, rules, public=public)
    inputs, published = reads.inputs, reads.published
    # the agency's labels of outcomes this module has no words for (its own outcomes)
    t = Translator(lang, codes=outcome_labels(inputs.specifications), locales_dir=locales_dir)
    parameters = inputs.run.get("parameters") or {}
    if synthetic is None:
        synthetic = bool(parameters.get("synthetic", False))
    if price_base_year is None:
        price_base_year = int(parameters.get("price_base_year", 2020))

    out_dir.mkdir(parents=True, exist_ok=True)
    plotly_js = _shared_plotly(out_dir)
    ident = edition_id(when.label, audience, lang, built)
    n = 1
    while (out_dir / ident).exists():  # never overwrite an edition
        n += 1
        ident = f"{edition_id(when.label, audience, lang, built)}-{n}"
    final = out_dir / ident
    staging = out_dir / f".building-{ident}"
    staging.mkdir(parents=True)
    try:
        result = _write_edition(
            staging,
            final,
            reads=reads,
            t=t,
            rules=rules,
            public=public,
            ident=ident,
            built=built,
            title=title or t("site.title"),
            synthetic=synthetic,
            price_base_year=price_base_year,
            plotly_js=plotly_js,
            data_docs=pages.data_docs_folder(inputs, data_docs),
            images=images,
            image_cache=image_cache,
            true_effects=true_effects,
        )
        staging.rename(final)  # an edition appears whole or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    edition = Edition(
        edition_id=ident,
        period=when.label,
        kind=when.kind,
        audience=audience,
        lang=lang,
        built_at=built.isoformat(),
        run_id=run_id,
        data_version=inputs.data_version,
        code_version=result["code_version"],
        synthetic=synthetic,
        previous=result["previous"],
        changes=None if result["restatement"] is None else len(result["restatement"]),
        suppressed_cells=int(published.log["applied"].sum()) if len(published.log) else 0,
        path=ident,
        title=title,
        changes_summary=result["summary"],
    )
    notes = []
    if "flow" not in inputs.run:
        notes.append(f"run {run_id!r} is not in meta.runs: its parameters are unknown")
    if when.annual and inputs.estimates.empty:
        notes.append(f"run {run_id!r} has no estimates: the impact sections say so")
    page_files = sorted(
        (final / p.name for p in result["pages"]), key=lambda p: p.name != "index.html"
    )
    site = SiteResult(
        edition_id=ident,
        period=when.label,
        lang=lang,
        audience=audience,
        data_version=inputs.data_version,
        code_version=result["code_version"],
        path=final,
        index=final / "index.html",
        pages=page_files,
        tables={k: v.frame() for k, v in published.tables.items()},
        suppression_log=published.log,
        # a copy: the editions of other languages may share it
        restatement=None if result["restatement"] is None else result["restatement"].copy(),
        previous_edition=result["previous"],
        images=[final / "png" / p.name for p in result["images"]],
        messages=notes + result["messages"],
        seconds=time.perf_counter() - started,
    )
    return site, edition


def _write_edition(
    folder: Path,
    final: Path,
    *,
    reads: _Reads,
    t: Translator,
    rules: DisclosureRules,
    public: bool,
    ident: str,
    built: datetime,
    title: str,
    synthetic: bool,
    price_base_year: int,
    plotly_js: Path,
    data_docs: Path | None,
    images: bool,
    image_cache: Path | None,
    true_effects: pd.DataFrame | None,
) -> dict[str, Any]:
    """Write pages, tables, logs and images of one edition into `folder`.

    reads.outliers: the flagged outliers and their reviews (internal editions), for the
    outlier page the data-quality page links to; None: no such page.
    reads.planned: the next evaluation's power per program (internal annual editions), for
    the planning page; None: no such page."""
    inputs, published = reads.inputs, reads.published
    outliers, planned = reads.outliers, reads.planned
    when = inputs.period
    messages: list[str] = []
    code = code_version()
    out_dir = final.parent
    fmt = Formats(t)
    charts = pages.Charts(t)
    registry = inputs.programs
    names = dict(zip(registry["program_id"], registry["name"], strict=True))
    slugs = {pid: f"program-{pages.slug(str(pid))}.html" for pid in registry["program_id"]}

    # tables as files first: the pages link to them
    # with reasons in words; the tables without words as another language wrote them
    files = write_tables(published.tables, folder / "tables", t, reads.exports)
    log = published.log.assign(
        rule_description=[pages.rule_text(r, t, rules) for r in published.log["rule"]]
    )
    # spreadsheet-safe CSV, valid JSON (reports.export.write_log)
    write_log(log, folder / "suppression_log.csv", folder / "suppression_log.json")
    certificate = published.certificate
    if certificate is not None:
        # the disclosure audit's certificate (reports.audit); a public one without ratios
        dump_json(certificate.as_json(public=public), folder / PROTECTION)
        if not certificate.passes:
            failing = sum(not f.passes for f in certificate.findings)
            messages.append(f"disclosure audit: {failing} cell(s) below their protection")

    # the comparison record of the next edition and the loads its data rest on
    loads = reads.loads
    (folder / FIGURES).write_text(reads.records_json, encoding="utf-8")
    (folder / LOADS).write_text(json.dumps(loads, ensure_ascii=False), encoding="utf-8")
    audience = "public" if public else "internal"
    previous = previous_edition(out_dir, when.label, audience, t.lang)
    changes: pd.DataFrame | None = None
    summary: dict[str, Any] | None = None
    if previous is not None:
        changes = _restated(reads, out_dir, previous)
        summary = changes_summary(
            changes,
            previous,
            data_version=inputs.data_version,
            code_version=code,
            run_id=inputs.run_id,
            loads_before=loads_of(out_dir, previous, loads),
            loads_now=loads,
        )
        write_log(
            changes,
            folder / "restatement.csv",
            folder / "restatement.json",
            key="changes",
            edition=ident,
            previous=previous["edition_id"],
        )

    docs_link = None
    if data_docs is not None and not public:
        shutil.copytree(data_docs, folder / "data_docs")
        docs_link = "data_docs/index.html"

    # (link, label, whether the label is the agency's own text: program names are)
    nav = [("index.html", t("nav.overview"), False)]
    nav += [(slugs[p], str(names[p]), True) for p in registry["program_id"]]
    nav += [
        ("quality.html", t("nav.quality"), False),
        *([(planning.PAGE, t("nav.planning"), False)] if planned is not None else []),
        ("methodology.html", t("nav.methodology"), False),
        ("changes.html", t("nav.changes"), False),
    ]
    common = {
        "t": t,
        "lang": t.lang,
        "title": title,
        "synthetic": synthetic,
        "internal": not public,
        "period": when.label,
        "edition_kind": t(f"edition.{when.kind}"),
        "audience_label": t("edition.public" if public else "edition.internal"),
        "edition_id": ident,
        "data_version": inputs.data_version,
        "code_version": code,
        "built_at": built.strftime("%Y-%m-%d %H:%M UTC"),
        "run_id": inputs.run_id,
        "plotly_src": f"../assets/{plotly_js.name}",
        "plotly_locale": json.dumps(t.plotly_locale, ensure_ascii=False),
        "nav": nav,
        "editions_index": f"../{index_page(t.lang)}",
        "symbols_note": t("note.symbols" if public else "note.symbols_internal"),
        "money_note": t("note.money", year=price_base_year),
        "dates_note": t("note.reach_dates", end=t.date(when.end)),
        "annual": when.annual,
    }
    env = template_environment()
    page_files: list[Path] = []

    def render(template: str, name: str, **context: Any) -> None:
        html = env.get_template(template).render(**common, page=name, **context)
        (folder / name).write_text(html, encoding="utf-8")
        page_files.append(folder / name)

    tabs = published.tables
    # overview charts first, so their images exist before the overview names them
    overview_charts = [
        charts.div(
            figures.reach_overview_figure(tabs["reach_by_year"].frame(), names, t),
            image="overview_reach",
        ),
        charts.div(
            figures.cost_per_firm_figure(tabs["portfolio"].frame(), names, t),
            image="overview_cost_per_firm",
        ),
    ]
    # each program's headline opens its page and, with its link, the overview
    headlines: list[tuple[str, dict[str, Any]]] = []
    for program in registry.itertuples():
        context = pages.program_context(program, tabs, inputs, t, fmt, charts, true_effects)
        headlines.append((slugs[program.program_id], context["headline"]))
        render("program.html", slugs[program.program_id], **context)
    render(
        "quality.html",
        "quality.html",
        **pages.quality_context(inputs, tabs, t, fmt, docs_link, public),
        outliers_link=pages.OUTLIERS_PAGE if outliers is not None else None,
    )
    if outliers is not None:
        render("outliers.html", pages.OUTLIERS_PAGE, **pages.outliers_context(outliers, t, fmt))
    if planned is not None:
        context = planning.planning_context(planned, names, t, charts)
        render("planning.html", planning.PAGE, **context)
    render(
        "methodology.html",
        "methodology.html",
        **pages.methodology_context(inputs, published, t, rules, price_base_year),
    )
    render(
        "changes.html",
        "changes.html",
        previous=previous,
        changes=pages.changes_view(changes, t),
        n_changes=0 if changes is None else len(changes),
        shown=pages.MAX_CHANGES_SHOWN,
        summary=pages.changes_summary_view(summary, t),
        largest_shown=LARGEST_SHOWN,
    )
    written: list[Path] = []
    image_note = ""
    if images:
        exported = export_images(
            charts.for_images, folder / "png", plotly_js, cache_dir=image_cache
        )
        written = exported.files
        if exported.message:
            messages.append(f"PNG images not written: {exported.message}")
            image_note = t("overview.no_images", reason=t(f"images.{exported.reason}"))
    units = tables.outcome_units(inputs)
    render(
        "overview.html",
        "index.html",
        lede=t.plural("overview.lede", len(registry), end=t.date(when.end)),
        headlines=headlines,
        # reach and spending apart from the effects: two tables that fit the page
        portfolio=pages.portfolio_view(
            tabs["portfolio"], registry, names, slugs, t, fmt, units, part="reach"
        ),
        portfolio_impact=pages.portfolio_view(
            tabs["portfolio"], registry, names, slugs, t, fmt, units, part="impact"
        )
        if when.annual
        else None,
        charts=overview_charts,
        downloads=[(t(f"table.{k}"), v) for k, v in files.items() if not k.startswith("_")],
        workbook=files["_workbook"]["xlsx"],
        images=[f"png/{p.name}" for p in written],
        image_note=image_note,
    )
    css = (TEMPLATES / "site.css").read_text(encoding="utf-8")
    (folder / "site.css").write_text(css, encoding="utf-8")
    return {
        "pages": page_files,
        "restatement": changes,
        "summary": summary,
        "previous": previous["edition_id"] if previous else None,
        "images": written,
        "messages": messages,
        "code_version": code,
    }


def _keys() -> dict[str, tuple[str, ...]]:
    """Key columns of every published table (for figures.json and the restatement)."""
    return {
        "portfolio": ("program_id", "is_total"),
        "reach_by_year": tables.REACH_BY_YEAR.keys,
        "reach_by_group": tables.REACH_BY_GROUP.keys,
        "budget": tables.BUDGET.keys,
        "heterogeneity": tables.HETEROGENEITY.keys,
        "event_study": ("program_id", "outcome", "event_time"),
        "effects_by_horizon": ("program_id", "outcome", "horizon"),
        "roi": tables.ROI.keys,
        "claims": tables.CLAIMS.keys,
        "claim_firms": ("program_id", "firm_id", "survey_year"),
        "matching": tables.MATCHING.keys,
        "benchmarks": tables.BENCHMARKS.keys,
        "balance": tables.BALANCE.keys,
        "quarantine": tables.QUARANTINE.keys,
        "scorecard": tables.SCORECARD.keys,
        "loads": tables.LOADS.keys,
    }
