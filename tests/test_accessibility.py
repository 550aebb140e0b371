"""Accessibility: every page of every edition passes axe-core's WCAG 2.1 AA rules, checked in
headless Chromium after the charts have drawn (tests/browser.py::axe).

The demo publishes the public annual editions (en, es, pt); an internal and a quarterly
edition are built from its warehouse too, since some pages (outliers, planning) exist only in
internal editions and quarterly ones leave impact out. First, the harness itself: a page with
known faults must report them, so an empty list means "checked", never "not run".
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest

from reports.site import SiteResult, build_site

from .browser import axe

# two browsers at a time: each page is its own Chromium (~1-3 s)
WORKERS = 2


def _describe(found: dict[str, list[dict[str, Any]]]) -> str:
    """One line per element at fault: page, rule, impact, CSS target, element."""
    lines = []
    for page, violations in found.items():
        for v in violations:
            for node in v["nodes"]:
                html = str(node["html"])[:160]
                lines.append(f"{page}: {v['id']} ({v['impact']}) {node['target']} {html}")
    return "\n".join(lines)


def _check(pages: list[Path], root: Path) -> dict[str, list[dict[str, Any]]]:
    """axe's WCAG 2.1 AA violations of each page, keyed by its path under `root`."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(axe, pages))
    return {
        str(page.relative_to(root)): found
        for page, found in zip(pages, results, strict=True)
        if found
    }


def _page(folder: Path, body: str) -> Path:
    page = folder / "page.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test page</title>'
        f"</head><body><main><h1>Test page</h1>{body}</main></body></html>",
        encoding="utf-8",
    )
    return page


def test_the_harness_reports_an_image_without_text_and_faint_text(tmp_path: Path) -> None:
    bad = _page(tmp_path, '<img src="logo.png"><p style="color:#bbb">Faint words</p>')
    found = {v["id"]: v for v in axe(bad)}
    assert {"image-alt", "color-contrast"} <= found.keys(), found.keys()
    assert found["image-alt"]["nodes"][0]["target"] == ["img"]
    assert "Faint words" in found["color-contrast"]["nodes"][0]["html"]
    # the same page mended passes: the violations came from the faults, not the harness
    good = _page(tmp_path, '<img src="logo.png" alt="Logo"><p style="color:#333">Words</p>')
    assert axe(good) == []
    # what a reader reveals is checked too: faint text in a closed <details>
    folded = _page(
        tmp_path,
        '<details><summary>More</summary><p style="color:#bbb">Faint details</p></details>',
    )
    assert [v["id"] for v in axe(folded)] == ["color-contrast"]


def test_the_harness_waits_for_charts_drawn_late(tmp_path: Path) -> None:
    # a stand-in for a plotly chart that draws 3 s (of virtual time) after load, with a fault
    late = (
        '<div class="plotly-graph-div" id="chart"></div><script>'
        'addEventListener("load", () => setTimeout(() => { document.getElementById("chart")'
        '.innerHTML = \'<svg class="main-svg"></svg><img src="chart.png">\'; }, 3000));'
        "</script>"
    )
    ids = [v["id"] for v in axe(_page(tmp_path, late))]
    assert ids == ["image-alt"]
    # a chart that never draws is an error, not a page without violations
    never = '<div class="plotly-graph-div"></div>'
    with pytest.raises(AssertionError, match="did not draw"):
        axe(_page(tmp_path, never), chart_wait_ms=500)


@pytest.mark.e2e
def test_every_page_of_the_demo_editions_passes_wcag_21_aa(demo: Path) -> None:
    report = demo / "report"
    editions = sorted(p for p in report.iterdir() if (p / "index.html").exists())
    assert sorted(e.name.split("-")[2] for e in editions) == ["en", "es", "pt"]
    # every edition's pages, and the pages at the report's root (the archive's index)
    pages = [page for edition in editions for page in sorted(edition.glob("*.html"))]
    pages += sorted(report.glob("*.html"))
    assert len(pages) >= 3 * 7  # overview, 3 programs, quality, methodology, changes
    found = _check(pages, report)
    assert not found, "\n" + _describe(found)


@pytest.fixture(scope="module")
def other_editions(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> list[SiteResult]:
    """An internal annual edition and a public quarterly one, from a copy of the demo's
    warehouse (other tests may open the original)."""
    folder = tmp_path_factory.mktemp("editions")
    warehouse = shutil.copy(demo / "warehouse.duckdb", folder / "warehouse.duckdb")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (run_id,) = con.execute(
            "select run_id from meta.runs where status = 'completed'"
            " order by started_at desc limit 1"
        ).fetchone() or ("",)
        assert run_id, "the demo recorded no completed run"
        return [
            build_site(
                con,
                folder / "report",
                period=period,
                lang=lang,
                audience=audience,
                run_id=run_id,
                images=False,
            )
            for period, lang, audience in [("2024", "es", "internal"), ("2024Q3", "en", "public")]
        ]
    finally:
        con.close()


@pytest.mark.e2e
def test_every_page_of_internal_and_quarterly_editions_passes_wcag_21_aa(
    other_editions: list[SiteResult],
) -> None:
    internal, quarterly = other_editions
    internal_only = {"outliers.html", "planning.html"}
    assert internal_only <= {p.name for p in internal.pages}
    assert not internal_only & {p.name for p in quarterly.pages}
    pages = internal.pages + quarterly.pages
    found = _check(pages, internal.path.parent)
    assert not found, "\n" + _describe(found)
