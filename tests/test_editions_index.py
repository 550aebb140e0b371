"""The archive of editions (reports.editions): an HTML index of every edition in each
language, stable "latest" pages, restatements within one period, audience and language
that open with a summary of what changed and why, and the configured title on every page.

The fast tests build a few editions from the planted warehouse of test_disclosure, then
one more from a copy of it in which a corrected input file was loaded and the estimates
moved; one e2e test reads the editions of the `demo` run.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from reports.editions import (
    LOADS,
    load_records,
    loads_of,
    loads_version,
    write_index,
    write_index_pages,
)
from reports.inputs import run_query
from reports.site import SiteResult, build_site
from warehouse.load import data_version

from .test_disclosure import RUN_ID, build_planted_warehouse

TITLE = "Supplier development program - impact report"
CORRECTED = "outcomes_corrected.csv"  # the file loaded between the two Spanish editions


class _Page(HTMLParser):
    """What the checks of a page need: links, the page language, headings, table header
    cells without a scope, the refresh target, marked rows and the site title."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.links: list[tuple[str, dict[str, str | None]]] = []
        self.lang: str | None = None
        self.h1 = 0
        self.unscoped: int = 0
        self.refresh: str | None = None
        self.rows: list[dict[str, str | None]] = []
        self.title = ""
        self.site_title = ""
        self._in: str | None = None
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "a" and a.get("href"):
            self.links.append((str(a["href"]), a))
        elif tag == "h1":
            self.h1 += 1
        elif tag == "th" and a.get("scope") not in ("col", "row"):
            self.unscoped += 1
        elif tag == "meta" and a.get("http-equiv") == "refresh":
            self.refresh = str(a.get("content"))
        elif tag == "tr" and a.get("data-edition"):
            self.rows.append(a)
        elif tag == "title" or (tag == "p" and a.get("class") == "site-title"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "p":
            self.site_title += data

    def local(self) -> list[str]:
        """The page's links to files (not anchors, not other hosts)."""
        return [h.split("#")[0] for h, _ in self.links if not h.startswith("#")]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_planted_warehouse(tmp_path_factory.mktemp("warehouse"), seed=11)


def _corrected(warehouse: Path, folder: Path) -> Path:
    """A copy of the warehouse after a corrected outcomes file (2 rows) was loaded and
    the estimates re-run: a new load in meta.loads, other effects."""
    copy = folder / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "insert into meta.loads (load_id, run_id, entity, source_file, content_sha256, "
            "rows_in, rows_loaded, rows_quarantined, loaded_at, sequence) select 'corrected', "
            "null, 'outcomes', ?, ?, 2, 2, 0, ?, max(sequence) + 1 from meta.loads",
            [CORRECTED, "c0" * 32, datetime.now(UTC).replace(tzinfo=None)],
        )
        # a revision the size of which differs figure by figure
        con.execute("update results.estimates set estimate = estimate + 0.05")
    return copy


@pytest.fixture(scope="module")
def archive(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """English and Spanish editions of 2024 and a Spanish one of 2016Q2, then a second
    Spanish edition of 2024 from the corrected data."""
    out = tmp_path_factory.mktemp("archive")
    corrected = _corrected(warehouse, tmp_path_factory.mktemp("corrected"))
    common: dict[str, Any] = {"run_id": RUN_ID, "images": False, "title": TITLE}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        en = build_site(con, out, period="2024", lang="en", **common)
        es = build_site(con, out, period="2024", lang="es", **common)
        quarter = build_site(con, out, period="2016Q2", lang="es", **common)
    with duckdb.connect(str(corrected), read_only=True) as con:
        es2 = build_site(con, out, period="2024", lang="es", **common)
    return {"out": out, "en": en, "es": es, "quarter": quarter, "es2": es2}


def _entries(out: Path) -> list[dict[str, Any]]:
    return list(json.loads((out / "editions.json").read_text(encoding="utf-8"))["editions"])


def test_the_index_lists_every_edition_with_a_working_link(archive: dict[str, Any]) -> None:
    out: Path = archive["out"]
    entries = _entries(out)
    assert len(entries) == 4
    assert not (out / "index.pt.html").exists()  # no Portuguese edition, no Portuguese index
    for name, lang in (("index.html", "en"), ("index.es.html", "es")):
        page = _Page(out / name)
        assert page.lang == lang and page.h1 == 1 and page.unscoped == 0, name
        for link in page.local():
            assert (out / link).exists(), (name, link)
        hrefs = set(page.local())
        for entry in entries:
            assert f"{entry['path']}/index.html" in hrefs, (name, entry["edition_id"])
        # grouped by period (2024 first), newest first within a period
        listed = [str(r["data-edition"]) for r in page.rows]
        by_period = sorted(entries, key=lambda e: (e["period"] != "2024", e["built_at"]))
        expected = [e["edition_id"] for e in by_period if e["period"] == "2024"][::-1]
        expected += [e["edition_id"] for e in by_period if e["period"] != "2024"][::-1]
        assert listed == expected, name
    # the languages link to each other, each named in its own language
    english = _Page(out / "index.html")
    assert ("index.es.html", "es") in [(h, a.get("lang")) for h, a in english.links]
    assert ("index.html", "en") in [
        (h, a.get("lang")) for h, a in _Page(out / "index.es.html").links
    ]


def test_latest_leads_to_the_newest_edition_of_each_series(archive: dict[str, Any]) -> None:
    out: Path = archive["out"]
    newest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in sorted(_entries(out), key=lambda e: e["built_at"]):
        newest[(entry["period"], entry["audience"], entry["lang"])] = entry
    pages = {p.name for p in (out / "latest").iterdir()}
    assert pages == {f"{p}-{a}-{lang}.html" for p, a, lang in newest}
    assert newest[("2024", "public", "es")]["edition_id"] == archive["es2"].edition_id
    index = set(_Page(out / "index.es.html").local())
    for (period, audience, lang), entry in newest.items():
        name = f"latest/{period}-{audience}-{lang}.html"
        assert name in index
        page = _Page(out / name)
        target = f"../{entry['path']}/index.html"
        assert page.refresh == f"0; url={target}"  # immediate: nothing to wait for
        assert target in page.local() and (out / "latest" / target).resolve().exists()
        assert page.lang == lang and page.h1 == 1
    # each edition's overview links to the index in its own language
    for site, index_name in ((archive["en"], "index.html"), (archive["es2"], "index.es.html")):
        assert f"../{index_name}" in _Page(site.index).local()


def test_a_spanish_edition_restates_the_previous_spanish_one(archive: dict[str, Any]) -> None:
    en, es, es2 = archive["en"], archive["es"], archive["es2"]
    assert es.previous_edition is None  # the first Spanish edition, though English exists
    assert es2.previous_edition == es.edition_id != en.edition_id
    assert archive["quarter"].previous_edition is None  # another period
    entry = next(e for e in _entries(archive["out"]) if e["edition_id"] == es2.edition_id)
    assert entry["previous"] == es.edition_id
    page = (es2.path / "changes.html").read_text(encoding="utf-8")
    assert es.edition_id in page and en.edition_id not in page
    first = (es.path / "changes.html").read_text(encoding="utf-8")
    assert "primera edición de este período" in first


def test_the_restatement_summary_counts_the_full_list(archive: dict[str, Any]) -> None:
    es, es2 = archive["es"], archive["es2"]
    entry = next(e for e in _entries(archive["out"]) if e["edition_id"] == es2.edition_id)
    summary = entry["changes_summary"]
    full = pd.read_csv(es2.path / "restatement.csv", dtype=str, keep_default_na=False)
    assert summary["changed"] == len(full) == len(es2.restatement) == entry["changes"] > 0
    for kind, n in summary["by_change"].items():
        assert n == int((full["change"] == kind).sum()), kind
    assert sum(summary["by_change"].values()) == len(full)
    # the largest changes: the revised figures of the full list that moved most
    document = json.loads((es2.path / "restatement.json").read_text(encoding="utf-8"))
    moved = sorted(
        (
            abs(c["new"] - c["old"]) / abs(c["old"])
            for c in document["changes"]
            if c["change"] == "revised"
            and all(isinstance(c[v], float | int) and c[v] != 0 for v in ("old", "new"))
        ),
        reverse=True,
    )
    largest = [c["relative"] for c in summary["largest"] if c["relative"] is not None]
    assert 0 < len(summary["largest"]) <= 10 and largest == sorted(largest, reverse=True)
    assert largest[0] == pytest.approx(moved[0])
    # why: the load between the two editions, and the data versions that differ
    assert summary["loads_known"] and summary["loads_removed"] == []
    assert [r["source_file"] for r in summary["loads_added"]] == [CORRECTED]
    assert summary["data_version"] == {"previous": es.data_version, "this": es2.data_version}
    assert es.data_version != es2.data_version
    # the page: the summary above the full list, the same count, in the edition's language
    page = (es2.path / "changes.html").read_text(encoding="utf-8")
    assert page.index('id="changes-summary"') < page.index('id="changes-all"')
    assert f'data-changed="{len(full)}"' in page
    assert CORRECTED in page and "Mayores cambios" in page and es.data_version in page
    assert page.count("<tr>") >= len(summary["largest"]) + 1  # the load and largest rows
    assert _Page(es2.path / "changes.html").unscoped == 0


def test_the_index_says_what_changed(archive: dict[str, Any]) -> None:
    out: Path = archive["out"]
    es, es2 = archive["es"], archive["es2"]
    n = len(es2.restatement)
    html = (out / "index.html").read_text(encoding="utf-8")
    row = html.split(f'data-edition="{es2.edition_id}"')[1].split("</tr>")[0]
    assert f'href="{es2.edition_id}/changes.html"' in row
    assert f"Figures changed from {es.edition_id}: {n:,}" in row
    assert "the input data changed" in row and CORRECTED in row
    first = html.split(f'data-edition="{es.edition_id}"')[1].split("</tr>")[0]
    assert "First edition of this period, audience and language" in first


def test_every_page_carries_the_configured_title(archive: dict[str, Any]) -> None:
    out: Path = archive["out"]
    sites: list[SiteResult] = [archive[k] for k in ("en", "es", "quarter", "es2")]
    pages = [p for site in sites for p in site.pages]
    pages += [out / "index.html", out / "index.es.html", *(out / "latest").iterdir()]
    for path in pages:
        page = _Page(path)
        assert TITLE in page.title and page.site_title.strip() == TITLE, path


def test_older_index_entries_still_read(tmp_path: Path) -> None:
    """An index written before editions kept a title, a kind or a summary."""
    built = datetime(2025, 3, 1, 12, tzinfo=UTC)
    entries = []
    for i, lang in enumerate(("en", "en", "pt")):
        when = built + timedelta(hours=i)
        ident = f"2024-public-{lang}-{when:%Y%m%dT%H%M%SZ}"
        (tmp_path / ident).mkdir()
        (tmp_path / ident / "index.html").write_text("<html></html>", encoding="utf-8")
        (tmp_path / ident / "changes.html").write_text("<html></html>", encoding="utf-8")
        entries.append(
            {
                "edition_id": ident,
                "period": "2024",
                "audience": "public",
                "lang": lang,
                "built_at": when.isoformat(),
                "run_id": "r1",
                "data_version": "d1",
                "code_version": "c1" if i < 1 else "c2",
                "synthetic": False,
                "previous": entries[0]["edition_id"] if i == 1 else None,
                "changes": 5 if i == 1 else None,
                "suppressed_cells": 0,
                "path": ident,
            }
        )
    write_index(tmp_path, entries)
    written = write_index_pages(tmp_path)
    assert {p.name for p in written} >= {"index.html", "index.pt.html", "2024-public-en.html"}
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(e["edition_id"] in html for e in entries)
    assert f"Figures changed from {entries[0]['edition_id']}: 5" in html
    assert "the code changed" in html and "Manufacturing extension programs" in html
    page = _Page(tmp_path / "index.pt.html")
    assert page.lang == "pt" and page.h1 == 1
    assert all((tmp_path / link).exists() for link in page.local())
    assert "Edição anual de impacto" in (tmp_path / "index.pt.html").read_text(encoding="utf-8")


def test_the_loads_of_an_edition_without_its_record(warehouse: Path, tmp_path: Path) -> None:
    """An edition built before editions kept loads.json: its loads are the warehouse's up
    to its build time, when they add up to its data version."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        current = load_records(run_query(con, "loads"))
        version = data_version(con)
    assert loads_version(current) == version  # the same hash as the warehouse's
    last = max(datetime.fromisoformat(r["loaded_at"]) for r in current)
    later = {**current[0], "source_file": CORRECTED, "content_sha256": "c0" * 32}
    later["loaded_at"] = (last + timedelta(minutes=5)).isoformat()
    (tmp_path / "old").mkdir()
    entry = {"path": "old", "built_at": f"{last + timedelta(minutes=1):%Y-%m-%dT%H:%M:%S}+00:00"}
    assert loads_of(tmp_path, {**entry, "data_version": version}, [*current, later]) == current
    assert loads_of(tmp_path, {**entry, "data_version": "other"}, [*current, later]) is None
    # an edition's own record comes first
    (tmp_path / "old" / LOADS).write_text(json.dumps([later]), encoding="utf-8")
    assert loads_of(tmp_path, {**entry, "data_version": "other"}, current) == [later]


def test_publish_passes_the_configured_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import steps
    from flows.config import RunConfig

    calls: list[dict[str, Any]] = []

    @contextmanager
    def no_warehouse(*_args: object, **_kwargs: object) -> Iterator[None]:
        yield None

    monkeypatch.setattr(steps, "open_warehouse", no_warehouse)
    # build_sites returns the editions it built: none here
    monkeypatch.setattr(steps, "build_sites", lambda *_a, **kw: calls.append(kw) or [])
    names = ("macro", "programs", "firms", "outcomes", "program_budgets", "participations")
    base = {
        "warehouse": tmp_path / "w.duckdb",
        "out_dir": tmp_path / "report",
        "languages": ["en", "es"],
        "sources": {n: {"path": tmp_path / f"{n}.csv"} for n in (*names, "comparison_sample")},
    }
    steps.publish(RunConfig.model_validate({**base, "title": TITLE}), "run", "2024")
    assert [(c["title"], list(c["langs"])) for c in calls] == [(TITLE, ["en", "es"])]
    calls.clear()
    # no title configured: each edition keeps the site's title in its own language
    steps.publish(RunConfig.model_validate(base), "run", "2024")
    assert [(c["title"], list(c["langs"])) for c in calls] == [(None, ["en", "es"])]


@pytest.mark.e2e
def test_the_demo_editions_carry_the_title_and_an_index(demo: Path) -> None:
    title = "MES impact report: synthetic demo portfolio"  # the demo's config
    report = demo / "report"
    entries = _entries(report)
    assert sorted(e["lang"] for e in entries) == ["en", "es", "pt"]
    assert all(e["previous"] is None for e in entries)  # no language restates another
    pages = [p for e in entries for p in sorted((report / e["path"]).glob("*.html"))]
    assert len(pages) >= 15
    for name in ("index.html", "index.es.html", "index.pt.html"):
        index = _Page(report / name)
        assert {f"{e['path']}/index.html" for e in entries} <= set(index.local()), name
        assert all((report / link).exists() for link in index.local()), name
        pages.append(report / name)
    pages += sorted((report / "latest").glob("*.html"))
    for path in pages:
        page = _Page(path)
        assert title in page.title and page.site_title.strip() == title, path
    for e in entries:
        latest = _Page(report / "latest" / f"2024-public-{e['lang']}.html")
        assert latest.refresh and latest.refresh.endswith(f"../{e['path']}/index.html")
    overview = (report / entries[0]["path"] / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="\.\./index(\.\w+)?\.html"', overview)
