"""The static site (reports.site.build_site): offline pages that render in a real browser,
a Spanish edition without English labels, traceable pages, exports, and the build time.
(Disclosure control, restatements and the editions index: test_disclosure.)

The warehouse is built once for the module through the real chain (without Prefect), on
the planted data of test_disclosure.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from reports.i18n import Translator, english_labels
from reports.images import kaleido_status
from reports.site import SiteResult, build_site

from .browser import render
from .test_disclosure import RUN_ID, _figures, build_planted_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_planted_warehouse(tmp_path_factory.mktemp("warehouse"), seed=11)


@pytest.fixture(scope="module")
def edition(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A Spanish public edition, built after the data-quality scorecard was computed
    (test_disclosure covers the edition without one)."""
    scorecard = False
    try:  # the scorecard is another module's; the site must work with and without it
        from warehouse.quality import compute_scorecard

        with duckdb.connect(str(warehouse)) as con:
            scorecard = len(compute_scorecard(con, RUN_ID)) > 0
    except ImportError:
        pass
    out = tmp_path_factory.mktemp("site")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        site = build_site(con, out, period="2024", lang="es", audience="public", run_id=RUN_ID)
        registry = con.sql("select * from staging.stg_programs").df()
    texts = {
        str(v)
        for column in registry.columns
        for v in registry[column]
        if isinstance(v, str) and v.strip()
    }
    return {"out": out, "site": site, "scorecard": scorecard, "registry": texts}


def test_bad_arguments_are_refused(warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for kwargs in ({"period": "2024Q5"}, {"lang": "fr"}, {"audience": "press"}):
            arguments = {"period": "2024", "lang": "en", "audience": "public", **kwargs}
            with pytest.raises(ValueError):
                build_site(con, tmp_path, run_id=RUN_ID, **arguments)  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())  # nothing written


class _Charts(HTMLParser):
    """Counts plotly chart divs, and those in which plotly drew its main SVG."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[bool] = []
        self._open: list[int] = []  # depth at which each chart div opened
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div":
            self._depth += 1
            if "plotly-graph-div" in classes:
                self.charts.append(False)
                self._open.append(self._depth)
        if tag == "svg" and "main-svg" in classes and self._open:
            self.charts[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            if self._open and self._open[-1] == self._depth:
                self._open.pop()
            self._depth -= 1


def test_every_page_renders_offline_with_every_chart(edition: dict[str, Any]) -> None:
    site: SiteResult = edition["site"]
    assert len(site.pages) == 7  # overview, 3 programs, quality, methodology, changes
    # plotly draws on load: a few seconds of virtual time are plenty, and keep the test short
    with ThreadPoolExecutor(max_workers=4) as pool:
        rendered = list(pool.map(lambda page: render(page, budget_ms=4000), site.pages))
    charts_seen = 0
    for page, (dom, log) in zip(site.pages, rendered, strict=True):
        console = [line for line in log.splitlines() if ":CONSOLE" in line]
        assert not console, (page.name, console[:3])
        parser = _Charts()
        parser.feed(dom)
        assert all(parser.charts), (page.name, parser.charts)
        static = page.read_text(encoding="utf-8").count('class="plotly-graph-div"')
        assert len(parser.charts) == static, page.name
        charts_seen += len(parser.charts)
        # plotly's own toolbar speaks the edition's language too
        toolbar = set(re.findall(r'data-title="([^"]+)"', dom))
        assert not toolbar & Translator("es").plotly_locale.keys(), (page.name, toolbar)
    assert charts_seen >= 25


def test_pages_use_one_shared_plotly_and_only_local_files(edition: dict[str, Any]) -> None:
    out: Path = edition["out"]
    assert [p.name for p in (out / "assets").iterdir()] == [
        next((out / "assets").glob("plotly-*.min.js")).name
    ]
    site: SiteResult = edition["site"]
    assert not list(site.path.rglob("plotly*.js"))
    for page in site.pages:
        html = page.read_text(encoding="utf-8")
        assert html.count("<script") == html.count("</script>")
        links = re.findall(r'(?:src|href)="([^"#]+)"', html)
        assert links
        for link in links:
            assert not re.match(r"[a-z]+:", link), (page.name, link)  # no other host
            assert (page.parent / link).resolve().exists(), (page.name, link)


class _Visible(HTMLParser):
    """Visible text of a page: no head, scripts or styles, and no element marked
    translate="no" (registry text, identifiers)."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._hidden = 0
        self._untranslated: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "script", "style"):
            self._hidden += 1
        if dict(attrs).get("translate") == "no":
            self._untranslated.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style"):
            self._hidden -= 1
        if self._untranslated and self._untranslated[-1] == tag:
            self._untranslated.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden and not self._untranslated:
            self.nodes.append(text)


def _chart_strings(value: object, key: str = "") -> list[str]:
    """Words a chart shows: titles, trace names, labels, annotations, hover text."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _chart_strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _chart_strings(v, key)]
    if isinstance(value, str) and key in ("text", "name", "hovertemplate", "x", "y"):
        return [value]
    return []


def test_the_spanish_edition_has_no_english_label(edition: dict[str, Any]) -> None:
    site: SiteResult = edition["site"]
    english = english_labels()
    registry: set[str] = edition["registry"]
    long_labels = sorted((label for label in english if len(label) >= 12), key=len, reverse=True)
    checked = 0
    for page in site.pages:
        html = page.read_text(encoding="utf-8")
        assert '<html lang="es">' in html
        parser = _Visible()
        parser.feed(html)
        nodes = parser.nodes
        for data, layout in _figures(html):
            nodes += _chart_strings(data) + _chart_strings(layout)
        nodes = [n for n in nodes if n not in registry]
        text = " | ".join(nodes)
        # program names also appear inside chart labels and text alternatives; longest
        # first, so a short name inside a long one does not leave the long one's rest
        for own in sorted(registry, key=len, reverse=True):
            text = text.replace(own, "")
        found = sorted({n for n in nodes if n in english})
        found += [label for label in long_labels if label in text]
        assert not found, (page.name, found[:10])
        checked += len(nodes)
    assert checked > 1000
    # and the check would notice an English label: the same parser on an English snippet
    parser = _Visible()
    parser.feed(f"<main><h2>{Translator('en')('overview.portfolio')}</h2></main>")
    assert set(parser.nodes) & english


def test_every_page_footer_traces_the_edition(edition: dict[str, Any]) -> None:
    site: SiteResult = edition["site"]
    entry = json.loads((edition["out"] / "editions.json").read_text(encoding="utf-8"))
    (only,) = entry["editions"]
    assert only["edition_id"] == site.edition_id and only["previous"] is None
    for page in site.pages:
        footer = page.read_text(encoding="utf-8").split("<footer>")[1]
        for value in (
            site.edition_id,
            site.period,
            site.data_version,
            site.code_version,
            only["built_at"][:10],
        ):
            assert value in footer, (page.name, value)
    assert "primera edición" in (site.path / "changes.html").read_text(encoding="utf-8")


def test_every_page_says_the_data_are_synthetic(edition: dict[str, Any]) -> None:
    for page in edition["site"].pages:
        assert "Datos sintéticos" in page.read_text(encoding="utf-8"), page.name


def test_quality_page_shows_the_scorecard(edition: dict[str, Any]) -> None:
    page = (edition["site"].path / "quality.html").read_text(encoding="utf-8")
    assert 'data-table="quarantine"' in page
    if edition["scorecard"]:
        assert 'data-table="scorecard_summary"' in page and "Completitud" in page
        assert "scorecard" in edition["site"].tables
    assert "Los Data Docs aún no están disponibles" in page


def test_tables_are_published_as_csv_json_and_xlsx(edition: dict[str, Any]) -> None:
    site: SiteResult = edition["site"]
    folder = site.path / "tables"
    for table in ("portfolio", "reach_by_year", "reach_by_group", "effects_by_horizon", "roi"):
        for suffix in ("csv", "json"):
            assert (folder / f"{table}.{suffix}").stat().st_size > 0
        assert table in site.tables
    assert (folder / "tables.xlsx").exists()
    assert (site.path / "suppression_log.csv").exists()
    assert (site.path / "suppression_log.json").exists()


def test_png_export_degrades_with_a_clear_message(edition: dict[str, Any]) -> None:
    site: SiteResult = edition["site"]
    problem = kaleido_status()
    if problem is None:
        assert site.images and all(p.suffix == ".png" and p.exists() for p in site.images)
    else:
        assert not site.images
        assert any("kaleido" in m for m in site.messages)
        assert "kaleido" in site.index.read_text(encoding="utf-8")


def test_event_studies_draw_their_simultaneous_band(edition: dict[str, Any]) -> None:
    site: SiteResult = edition["site"]
    events = pd.read_csv(site.path / "tables" / "event_study.csv", dtype=str)
    suppressed = events["effect"] == "x"
    hidden = events.loc[suppressed, ["band_low", "band_high"]]
    assert (hidden.isna() | (hidden == "x")).all().all()  # a suppressed effect hides its band
    assert (hidden == "x").any().any()
    values = events[~suppressed][["effect", "band_low", "band_high"]].astype(float)
    banded = values.dropna()
    assert len(banded) > 0 and (banded["band_low"] <= banded["effect"]).all()
    assert (banded["effect"] <= banded["band_high"]).all()
    pages = [p for p in site.pages if p.name.startswith("program")]
    assert pages and all("banda simultánea del 95%" in p.read_text(encoding="utf-8") for p in pages)


def test_program_pages_show_p_and_sharpened_q_values(
    edition: dict[str, Any], warehouse: Path
) -> None:
    """The overall effect of each outcome carries the p-value and sharpened q-value stored
    with the run (evaluation.multiple), hidden where the effect is; horizon means have
    none; each program page shows them in their own columns."""
    site: SiteResult = edition["site"]
    horizon = site.tables["effects_by_horizon"]  # as published
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = con.execute(
            "select program_id, outcome, pvalue, qvalue from results.estimates "
            "where run_id = ? and qvalue is not null",
            [RUN_ID],
        ).df()
    assert len(stored) > 0
    assert horizon.loc[horizon["horizon"] != "overall", "qvalue"].isna().all()
    overall = horizon[horizon["horizon"] == "overall"].merge(
        stored, on=["program_id", "outcome"], suffixes=("", "_stored")
    )
    assert len(overall) == len(stored)
    shown = overall["effect"].notna()
    assert shown.any()
    assert (overall.loc[shown, "qvalue"] == overall.loc[shown, "qvalue_stored"]).all()
    assert (overall.loc[shown, "pvalue"] == overall.loc[shown, "pvalue_stored"]).all()
    assert overall.loc[~shown, ["pvalue", "qvalue"]].isna().all().all()
    html = "".join(p.read_text(encoding="utf-8") for p in site.pages)
    q_cells = re.findall(r'<td data-col="qvalue" class="num">([0-9,.]+)</td>', html)
    assert len(q_cells) == int(shown.sum())
    assert Translator("es")("col.qvalue") in html  # labelled in the edition's language
