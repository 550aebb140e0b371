"""Layout at a laptop's window (1280 x 800) in a real browser: the overview opens with its
headline, visible without scrolling; program pages open with impact; no table of any page
makes the reader scroll sideways, in any language (Spanish and Portuguese labels are the
longest); and every figure of the headline is a cell of a published table.

Measured in headless Chromium (`tests.browser.layout`) on the editions of the `demo`
fixture (public, annual, en/es/pt) and on an internal annual and a quarterly edition built
from its warehouse.
"""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from reports import pages, tables
from reports.disclosure import DisclosureRules, Published
from reports.i18n import Translator
from reports.inputs import read_site_inputs
from reports.period import Period
from reports.reasons import cell_text
from reports.site import build_site
from reports.views import Formats

from .browser import layout

pytestmark = pytest.mark.e2e

WINDOW = (1280, 800)  # width, height of the browser window
LANGS = ("en", "es", "pt")
Measured = dict[str, dict[str, Any]]  # page file name -> what the browser measured


def _run_id(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "select run_id from meta.runs where status = 'completed' order by started_at desc limit 1"
    ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture(scope="module")
def editions(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's public annual editions by language, and an internal annual edition (in
    Spanish) and a quarterly one (in Portuguese) of the same run."""
    report = demo / "report"
    found = {lang: next(report.glob(f"2024-public-{lang}-*")) for lang in LANGS}
    out = tmp_path_factory.mktemp("layout")
    with duckdb.connect(str(demo / "warehouse.duckdb"), read_only=True) as con:
        run_id = _run_id(con)
        for name, period, audience, lang in (
            ("internal-es", "2024", "internal", "es"),
            ("quarterly-pt", "2024Q3", "public", "pt"),
        ):
            site = build_site(
                con, out, period=period, lang=lang, audience=audience, run_id=run_id, images=False
            )
            found[name] = site.path
    return found


@pytest.fixture(scope="module")
def measured(editions: dict[str, Path]) -> dict[str, Measured]:
    """Every page of every edition, as laid out at WINDOW."""
    names = list(editions)
    with ThreadPoolExecutor(2) as pool:
        results = pool.map(lambda name: layout(editions[name], window=WINDOW), names)
        return dict(zip(names, results, strict=True))


def overflowing(pages_measured: Measured) -> list[str]:
    """What would scroll sideways: each table wider than its `.table-wrap` (or than itself),
    and the page wider than the window."""
    out = []
    for page, m in pages_measured.items():
        for table in m["tables"]:
            for part in ("wrap", "table"):
                scroll, client = table[f"{part}_scroll"], table[f"{part}_client"]
                if scroll > client + 1:
                    out.append(f"{page}: {table['table']} ({part} {scroll} > {client} px)")
        if m["page_scroll"] > m["page_client"] + 1:
            out.append(f"{page}: the page ({m['page_scroll']} > {m['page_client']} px)")
    return out


def test_the_overview_opens_with_its_headline_on_the_first_screen(
    editions: dict[str, Path], measured: dict[str, Measured]
) -> None:
    for lang in LANGS:
        overview = measured[lang]["index.html"]
        assert overview["viewport"][0] == WINDOW[0], lang
        bottom = overview["headline_bottom"]
        assert bottom is not None, f"{lang}: no #headline on the overview"
        assert 0 < bottom <= WINDOW[1], (lang, bottom)
        page = (editions[lang] / "index.html").read_text(encoding="utf-8")
        # right after the title, before the portfolio table
        assert (
            page.index("</h1>") < page.index('id="headline"') < page.index('data-table="portfolio"')
        )
    quarter = (editions["quarterly-pt"] / "index.html").read_text(encoding="utf-8")
    assert Translator("pt")("note.quarterly_no_impact") in quarter.split('id="headline"')[1]


def test_no_table_scrolls_sideways(measured: dict[str, Measured]) -> None:
    problems = [f"{name}/{p}" for name, m in measured.items() for p in overflowing(m)]
    assert not problems, "\n".join(problems)
    # ...and it measured what it says: every page, its wide tables, opened details
    tables_seen = {
        t["table"] for m in measured.values() for page in m.values() for t in page["tables"]
    }
    assert {"portfolio", "effects_by_horizon", "roi", "balance", "claim_firms"} <= tables_seen
    for name, m in measured.items():
        assert "index.html" in m and len(m) >= 6, name
        for page, found in m.items():
            assert found["charts_drawn"], (name, page)
            assert all(t["wrap_client"] > 0 for t in found["tables"]), (name, page)


def test_program_pages_open_with_impact_then_reach_and_spending(
    editions: dict[str, Path],
) -> None:
    programs = sorted(editions["en"].glob("program-*.html"))
    assert programs
    for page in programs:
        text = page.read_text(encoding="utf-8")
        order = [
            'id="headline"',
            'data-table="effects_by_horizon"',
            'data-table="roi"',
            'data-table="portfolio"',  # the program's key figures, first of its reach
            'data-table="reach_by_year"',
            'data-table="budget"',
            'class="registry"',
        ]
        assert all(marker in text for marker in order), page.name
        at = [text.index(marker) for marker in order]
        assert at == sorted(at), (page.name, dict(zip(order, at, strict=True)))


def _boxes(overview: str) -> dict[str, dict[str, str]]:
    """The value boxes of the overview's headline: program -> figure -> text shown."""
    out: dict[str, dict[str, str]] = {}
    block = overview.split('id="headline"')[1].split("</section>")[0]
    for pid, body in re.findall(r'data-program="([^"]+)">(.*?)</article>', block, re.S):
        out[html.unescape(pid)] = {
            figure: html.unescape(re.sub(r"<[^>]+>", "", value)).strip()
            for figure, value in re.findall(
                r'data-figure="([^"]+)">.*?<dd class="value[^"]*"[^>]*>(.*?)</dd>', body, re.S
            )
        }
    return out


def test_headline_figures_are_the_published_cells(editions: dict[str, Path]) -> None:
    for lang in LANGS:
        t = Translator(lang)
        edition = editions[lang]
        shown = _boxes((edition / "index.html").read_text(encoding="utf-8"))
        portfolio = pd.read_csv(edition / "tables" / "portfolio.csv", keep_default_na=False)
        roi = pd.read_csv(edition / "tables" / "roi.csv", keep_default_na=False)
        programs = portfolio[~portfolio["is_total"]]
        assert set(shown) == set(programs["program_id"]), lang
        checked = 0
        for row in programs.to_dict("records"):
            boxes = shown[row["program_id"]]
            for outcome in ("log_sales", "log_employment"):
                value = row[f"{outcome}_effect"]
                if row[f"{outcome}_reason_text"]:
                    expected = row[f"{outcome}_reason_text"]
                elif value == "":
                    expected = t("sym.suppressed")
                else:
                    expected = t.signed(float(value), 1)
                assert boxes[outcome] == expected, (lang, row["program_id"], outcome)
                checked += 1
            mine = roi[
                (roi["program_id"] == row["program_id"]) & (roi["basis"] == "counterfactual")
            ]
            for metric, decimals in (("value_added_per_dollar", 1), ("cost_per_job", 0)):
                figure = mine[mine["metric"] == metric].iloc[0]
                if figure["reason_text"]:
                    expected = figure["reason_text"]
                elif figure["estimate"] == "":
                    expected = t("sym.suppressed")
                else:
                    expected = t.num(float(figure["estimate"]), decimals)
                assert boxes[metric].startswith(expected), (lang, row["program_id"], metric)
                checked += 1
        assert checked == 4 * len(programs)


def test_a_suppressed_or_missing_figure_reads_as_in_its_table(demo: Path) -> None:
    """The headline takes each figure from its published table: a suppressed effect reads
    "x" (its interval hidden with it, its value nowhere in the sentence), an effect not
    estimated its status and reason."""
    with duckdb.connect(str(demo / "warehouse.duckdb"), read_only=True) as con:
        inputs = read_site_inputs(con, _run_id(con), Period.parse("2024"))
    published = tables.build_tables(inputs, DisclosureRules(), public=True)
    tabs = dict(published.tables)
    portfolio = tabs["portfolio"]
    program = next(inputs.programs.itertuples())
    mine = (portfolio.values["program_id"] == program.program_id).to_numpy()
    values = portfolio.values.copy()
    hidden = portfolio.suppressed.copy()
    # sales: suppressed, with its interval; employment: not estimated, with a reason
    hidden.loc[mine, ["log_sales_effect", "log_sales_ci_low", "log_sales_ci_high"]] = True
    values.loc[mine, ["log_employment_effect", "log_employment_ci_low"]] = np.nan
    values.loc[mine, "log_employment_ci_high"] = np.nan
    reasons = ["log_employment_status", "log_employment_reason", "log_employment_reason_params"]
    values[reasons] = values[reasons].astype(object)  # all empty: read as numbers
    values.loc[mine, "log_employment_status"] = "not_estimated"
    values.loc[mine, "log_employment_reason"] = "too_few_beneficiaries"
    values.loc[mine, "log_employment_reason_params"] = '{"n": 4, "min": 30}'
    tabs["portfolio"] = Published("portfolio", values, hidden, True)
    true_sales = float(portfolio.values.loc[mine, "log_sales_effect"].iloc[0])
    for lang in LANGS:
        t = Translator(lang)
        headline = pages.headline_context(program, tabs, inputs, t, Formats(t))
        boxes = {b.key: b for b in headline["boxes"]}
        sales, jobs = boxes["log_sales"], boxes["log_employment"]
        assert (sales.value, sales.interval, sales.shown) == (t("sym.suppressed"), "", False)
        assert "sup" in sales.classes.split()
        reason = cell_text("not_estimated", "too_few_beneficiaries", {"n": 4, "min": 30}, t)
        assert (jobs.value, jobs.interval, jobs.shown) == (reason, "", False)
        sentence = str(headline["sentence"])
        assert f"{t.code('outcome', 'log_sales')}: {t('sym.suppressed')}" in sentence
        assert html.escape(reason) in sentence
        assert t.signed(true_sales, 1) not in sentence
        # the return figures are still the published ones
        assert boxes["cost_per_job"].label
    # untouched, the same program's sales effect is shown with its interval
    t = Translator("en")
    original = pages.headline_context(program, published.tables, inputs, t, Formats(t))
    sales = next(b for b in original["boxes"] if b.key == "log_sales")
    assert sales.shown and sales.value == t.signed(true_sales, 1) and sales.interval
