"""Build a static site edition for a period: `build_site`.

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
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
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
from reports.export import dump_json, write_log, write_tables
from reports.i18n import Lang, Translator
from reports.images import export_images
from reports.inputs import SiteInputs, outcome_labels, read_site_inputs

# the single-page report, until flows/steps.py::publish calls build_site
from reports.period import Period
from reports.views import Formats
from warehouse.runs import code_version  # one version for runs and editions

__all__ = ["SiteResult", "build_site"]

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
    """
    started = time.perf_counter()
    built = datetime.now(UTC).replace(microsecond=0)
    when = Period.parse(period)
    if audience not in ("public", "internal"):
        raise ValueError(f"audience must be 'public' or 'internal', got {audience!r}")
    t = Translator(lang, locales_dir=locales_dir)
    lang = t.lang  # its CLDR name (es-cl: es_CL), in the edition's id and the index
    rules = disclosure or DisclosureRules()
    public = audience == "public"
    inputs = read_site_inputs(con, run_id, when)
    # the agency's labels of outcomes this module has no words for (its own outcomes)
    t = Translator(lang, codes=outcome_labels(inputs.specifications), locales_dir=locales_dir)
    parameters = inputs.run.get("parameters") or {}
    if synthetic is None:
        synthetic = bool(parameters.get("synthetic", False))
    if price_base_year is None:
        price_base_year = int(parameters.get("price_base_year", 2020))
    published = tables.build_tables(inputs, rules, public=public)
    # firm by firm, with the follow-up of each flag: for auditors, never in a public edition
    outliers = None if public else pages.read_outliers(con)
    # the next evaluation's power: a design tool for the agency, from firm-level rows
    planned = planning.read_plans(con) if not public and when.annual else None

    out_dir = Path(out_dir)
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
            inputs=inputs,
            published=published,
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
            outliers=outliers,
            planned=planned,
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
    add_to_index(out_dir, edition)
    # the archive's HTML index and latest/ pages, in every language
    write_index_pages(out_dir, locales_dir=locales_dir)
    notes = []
    if "flow" not in inputs.run:
        notes.append(f"run {run_id!r} is not in meta.runs: its parameters are unknown")
    if when.annual and inputs.estimates.empty:
        notes.append(f"run {run_id!r} has no estimates: the impact sections say so")
    page_files = sorted(
        (final / p.name for p in result["pages"]), key=lambda p: p.name != "index.html"
    )
    return SiteResult(
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
        restatement=result["restatement"],
        previous_edition=result["previous"],
        images=[final / "png" / p.name for p in result["images"]],
        messages=notes + result["messages"],
        seconds=time.perf_counter() - started,
    )


def _write_edition(
    folder: Path,
    final: Path,
    *,
    inputs: SiteInputs,
    published: tables.SiteTables,
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
    outliers: pd.DataFrame | None = None,
    planned: planning.Planned | None = None,
) -> dict[str, Any]:
    """Write pages, tables, logs and images of one edition into `folder`.

    outliers: the flagged outliers and their reviews (internal editions), for the outlier
    page the data-quality page links to; None: no such page.
    planned: the next evaluation's power per program (internal annual editions), for the
    planning page; None: no such page."""
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
    files = write_tables(published.tables, folder / "tables", t)  # with reasons in words
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

    # the comparison record of the next edition; valid JSON (an infinite figure is the word
    # "unbounded", reports.editions._jsonable)
    compared = {k: v for k, v in published.tables.items() if k not in tables.NOT_FIGURES}
    records = figure_records(compared, _keys())
    (folder / FIGURES).write_text(
        json.dumps(records, ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )
    # the loads the edition's data rest on: the next restatement says which ones differ
    loads = load_records(inputs.loads)
    (folder / LOADS).write_text(json.dumps(loads, ensure_ascii=False), encoding="utf-8")
    audience = "public" if public else "internal"
    previous = previous_edition(out_dir, when.label, audience, t.lang)
    changes: pd.DataFrame | None = None
    summary: dict[str, Any] | None = None
    if previous is not None:
        old = json.loads((out_dir / previous["path"] / FIGURES).read_text(encoding="utf-8"))
        changes = restatement(old, records)
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
