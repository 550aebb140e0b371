"""Return per public dollar and cost per job in the editions: each counterfactual figure
with the scale it is on and why, its pre-entry test on that scale, the warning beside a
figure whose scales both fail the test, the other scale in internal editions only, the
exports' columns, linear charts with value labels, intervals and benchmarks marked gross
or modelled, and the methodology page's assumptions, in en/es/pt.

The warehouse is built by the real steps (without Prefect) on small generated data, as in
tests/test_site_reasons.py; the rows of `results.roi` are then set with SQL to each case
the choice of scale can produce (`evaluation.roi.choose_scale`), so these tests rest on
the table's columns (warehouse/migrations/014_roi_scales.sql), not on the estimation.
"""

from __future__ import annotations

import html
import json
import re
from html import unescape
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from markupsafe import escape

from evaluation.roi import SCALE_CHOICES, SCALES
from reports import figures
from reports.i18n import LANGS, Translator, english_labels
from reports.scales import benchmark_kind
from reports.site import SiteResult

from .browser import render
from .test_disclosure import _figures
from .test_site import _chart_strings, _Visible
from .test_site_reasons import BRA, CHL, PER, _cells, _chain, _csv, _page, _publish, _variant

INF = "'infinity'::double"


def _pair(
    program: str,
    metric: str,
    shown: str,
    choice: str,
    log: dict[str, object],
    level: dict[str, object],
) -> str:
    """SQL: one figure's log- and level-scale rows as evaluation.roi.mark_shown stores
    them: `shown` on one, the reason for the choice on both, each with its own figures
    and pre-entry test."""
    sql = f"""
        update results.roi set shown = (scale = '{shown}'), scale_choice = '{choice}'
        where program_id = '{program}' and metric = '{metric}' and basis = 'counterfactual';
    """
    for scale, values in (("log", log), ("level", level)):
        sets = {
            "status": "'estimated'",
            "reason": "null",
            "reason_params": "null",
            "pretrend_pvalue": "null",
            "pretrend_passes": "null",
            "pretrend_reason": "null",
            "pretrend_reason_params": "null",
        }
        for column, value in values.items():
            if value is None:
                sets[column] = "null"
            elif isinstance(value, bool):
                sets[column] = "true" if value else "false"
            elif isinstance(value, int | float):
                sets[column] = repr(float(value))
            else:
                sets[column] = str(value) if str(value).endswith("::double") else f"'{value}'"
        assignments = ", ".join(f"{column} = {value}" for column, value in sets.items())
        sql += f"""
            update results.roi set {assignments}
            where program_id = '{program}' and metric = '{metric}'
                and basis = 'counterfactual' and scale = '{scale}';
        """
    return sql


def _figure(
    estimate: float | str, low: float, high: float | str, **test: object
) -> dict[str, object]:
    return {"estimate": estimate, "ci_low": low, "ci_high": high, **test}


PASSES = {"pretrend_passes": True, "pretrend_pvalue": 0.412}
FAILS = {"pretrend_passes": False, "pretrend_pvalue": 0.003}
NOT_RUN = {
    "pretrend_reason": "pretrend_too_few_firms",
    "pretrend_reason_params": '{"n": 40, "min": 50}',
}

CASES_SQL = (
    # CHL: the log scale passes its test and is shown; value added on the log scale is a
    # hundredth of the level figure (a chart must still read both)
    _pair(
        CHL,
        "value_added_per_dollar",
        "log",
        "log_passes",
        _figure(2.5, 1.25, 3.75, **PASSES),
        _figure(250.0, 100.0, 400.0, **FAILS),
    )
    + _pair(
        CHL,
        "sales_per_dollar",
        "log",
        "log_passes",
        _figure(8.0, 4.0, 12.0, **PASSES),
        _figure(30.0, 10.0, 50.0, **FAILS),
    )
    # cost per job whose jobs interval includes zero: no upper end
    + _pair(
        CHL,
        "cost_per_job",
        "log",
        "log_passes",
        _figure(14000.0, 8000.0, INF, **PASSES),
        _figure(9000.0, 6000.0, 20000.0, **FAILS),
    )
    # PER: only the level scale passes, and it is shown
    + _pair(
        PER,
        "sales_per_dollar",
        "level",
        "level_passes",
        _figure(12.0, 2.0, 22.0, pretrend_passes=False, pretrend_pvalue=0.0004),
        _figure(31.25, 20.5, 42.0, pretrend_passes=True, pretrend_pvalue=0.37),
    )
    + _pair(
        PER,
        "cost_per_job",
        "level",
        "level_passes",
        _figure(5000.0, 3000.0, 15000.0, pretrend_passes=False, pretrend_pvalue=0.01),
        _figure(4200.0, 3100.0, 6500.0, pretrend_passes=True, pretrend_pvalue=0.5),
    )
    # PER: only the level scale could be estimated
    + _pair(
        PER,
        "value_added_per_dollar",
        "level",
        "only_level",
        {
            "estimate": None,
            "ci_low": None,
            "ci_high": None,
            "status": "not_estimated",
            "reason": "no_post_entry_effect",
            "reason_params": '{"outcome": "value_added"}',
        },
        _figure(6.5, 1.5, 11.5, **NOT_RUN),
    )
    # BRA: neither scale passes; the log figure is shown with the warning. Its cost per
    # job is unbounded itself (no net jobs estimated)
    + "".join(
        _pair(BRA, metric, "log", "neither_passes", log, level)
        for metric, log, level in (
            (
                "value_added_per_dollar",
                _figure(4.0, 2.0, 6.0, **FAILS),
                _figure(5.0, 1, 9, **FAILS),
            ),
            ("sales_per_dollar", _figure(15.0, 5.0, 25.0, **FAILS), _figure(20.0, 2, 38, **FAILS)),
            (
                "cost_per_job",
                _figure(INF, 25000.0, INF, **FAILS),
                _figure(INF, 30000, INF, **FAILS),
            ),
        )
    )
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo chain with a client survey (self-reported figures) and every case above."""
    root = tmp_path_factory.mktemp("roi")
    built = _chain(root / "chain", lambda entities: entities)
    return _variant(built, root / "cases", CASES_SQL)


@pytest.fixture(scope="module")
def sites(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, SiteResult]:
    root = tmp_path_factory.mktemp("roi-sites")
    out: dict[str, SiteResult] = {
        lang: _publish(warehouse, root / "public", lang=lang) for lang in LANGS
    }
    out["internal"] = _publish(warehouse, root / "internal", audience="internal")
    return out


def _row(html: str, program: str, metric: str, basis: str = "counterfactual") -> str:
    """The HTML of one row of the return table."""
    key = json.dumps(
        {"program_id": program, "metric": metric, "basis": basis}, separators=(",", ":")
    )
    start = html.index(f'<tr data-key="{escape(key)}"')
    return html[start : html.index("</tr>", start) + 5]


def _cell(html: str, program: str, metric: str, column: str, basis: str = "counterfactual") -> str:
    (text,) = _cells(_row(html, program, metric, basis), column)
    return unescape(text)


def _roi_figures(html: str, t: Translator) -> dict[str, tuple[list[dict], dict]]:
    titles = {t("fig.roi_return"): "return", t("fig.roi_cost_per_job"): "cost_per_job"}
    return {
        titles[layout["title"]["text"]]: (data, layout)
        for data, layout in _figures(html)
        if layout.get("title", {}).get("text") in titles
    }


def _labels(data: list[dict]) -> list[str]:
    """The value labels of a chart: the text of its text traces."""
    return [text for trace in data if trace.get("mode") == "text" for text in trace["text"]]


# --- texts ----------------------------------------------------------------------------------


def test_every_scale_choice_has_three_languages() -> None:
    for code, text in SCALE_CHOICES.items():
        key = f"scale_choice.{code}"
        assert Translator("en").has(key), f"{code}: no text in the catalogs (reports/locales)"
        en, es, pt = (Translator(lang)(key) for lang in ("en", "es", "pt"))
        assert en == text, code  # the English text is evaluation.roi's
        assert es.strip() and pt.strip() and es != en and pt != en and es != pt, code
    for scale in SCALES:
        assert all(Translator(lang)(f"scale.{scale}") for lang in LANGS), scale
        assert Translator("en").has(f"scale.{scale}"), scale


def test_benchmarks_are_gross_or_modelled_as_their_sources_say(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql("select program, metric, basis from reference.benchmarks").fetchall()
    kinds = {(program, metric): benchmark_kind(basis) for program, metric, basis in rows}
    assert kinds[("MEP", "return_per_dollar")] == kinds[("MEP", "cost_per_job")] == "gross"
    assert kinds[("MAS", "return_per_dollar")] == kinds[("IRAP", "return_per_dollar")] == "modelled"


# --- program pages ----------------------------------------------------------------------------


def test_each_figure_shows_its_scale_why_and_its_pre_entry_test(
    sites: dict[str, SiteResult],
) -> None:
    t = Translator("en")
    chl, per, bra = (_page(sites["en"], p) for p in (CHL, PER, BRA))
    # log shown because its test passes
    assert _cell(chl, CHL, "value_added_per_dollar", "estimate") == "2.5"
    assert _cell(chl, CHL, "value_added_per_dollar", "ci_low") == "1.2 to 3.8"  # 1.25: half-even
    assert _cell(chl, CHL, "value_added_per_dollar", "scale") == "log scale"
    assert _cell(chl, CHL, "value_added_per_dollar", "scale_choice") == t("scale_choice.log_passes")
    assert _cell(chl, CHL, "value_added_per_dollar", "pretrend_passes") == "passes (p = 0.412)"
    # level shown: the figure published is the level one, with the level test
    assert _cell(per, PER, "sales_per_dollar", "estimate") == "31.2"
    assert _cell(per, PER, "sales_per_dollar", "scale") == "level scale"
    assert _cell(per, PER, "sales_per_dollar", "scale_choice") == SCALE_CHOICES["level_passes"]
    assert _cell(per, PER, "sales_per_dollar", "pretrend_passes") == "passes (p = 0.370)"
    # only one scale estimated, its test not run
    assert _cell(per, PER, "value_added_per_dollar", "estimate") == "6.5"
    assert _cell(per, PER, "value_added_per_dollar", "scale_choice") == SCALE_CHOICES["only_level"]
    assert _cell(per, PER, "value_added_per_dollar", "pretrend_passes") == (
        "not run: 40 beneficiaries behind the leads, fewer than 50"
    )
    # neither passes: the test fails and the p-value says how clearly
    assert _cell(bra, BRA, "sales_per_dollar", "pretrend_passes") == "fails (p = 0.003)"
    # self-reported figures have no scale
    assert _cell(chl, CHL, "sales_per_dollar", "scale", "self_reported") == "–"
    # cost per job: whole dollars, and an interval without an upper end
    assert _cell(chl, CHL, "cost_per_job", "estimate") == "14,000"
    assert _cell(chl, CHL, "cost_per_job", "ci_low") == "8,000 to ∞"
    assert _cell(bra, BRA, "cost_per_job", "estimate").startswith("∞")
    assert t("note.roi_scales") in chl


def test_neither_passes_is_said_beside_the_number(sites: dict[str, SiteResult]) -> None:
    for lang in ("en", "es"):
        t = Translator(lang)
        bra = _page(sites[lang], BRA)
        for metric in ("value_added_per_dollar", "sales_per_dollar", "cost_per_job"):
            row = _row(bra, BRA, metric)
            estimate = re.search(r'<td data-col="estimate"[^>]*>(.*?)</td>', row, re.S)
            assert estimate is not None
            # in the cell's visible text, not in a tooltip
            assert f'<span class="warn">⚠ {t("scale.caution")}</span>' in estimate.group(1)
            assert "title=" not in estimate.group(0)
            why = _cell(bra, BRA, metric, "scale_choice")
            assert why == "⚠ " + t("scale_choice.neither_passes"), lang
        note = re.search(r'<p class="note warn" data-note="roi_neither">(.*?)</p>', bra, re.S)
        assert note is not None and t("metric.sales_per_dollar") in note.group(1)
        # programs whose figures pass carry no warning
        chl = _page(sites[lang], CHL)
        assert 'data-note="roi_neither"' not in chl and "⚠" not in _cells(chl, "estimate")


def test_only_internal_editions_show_the_other_scale(sites: dict[str, SiteResult]) -> None:
    t = Translator("en")
    public, internal = _page(sites["en"], CHL), _page(sites["internal"], CHL)
    assert 'data-col="other_estimate"' not in public and t("col.other_estimate") not in public
    assert _cell(internal, CHL, "value_added_per_dollar", "other_estimate") == (
        "level scale: 250.0 (100.0 to 400.0)"
    )
    assert _cell(internal, CHL, "value_added_per_dollar", "other_pretrend_passes") == (
        "fails (p = 0.003)"
    )
    per = _page(sites["internal"], PER)
    # the other scale of a figure shown on the level scale is the log one...
    assert _cell(per, PER, "sales_per_dollar", "other_estimate") == "log scale: 12.0 (2.0 to 22.0)"
    assert _cell(per, PER, "sales_per_dollar", "other_pretrend_passes") == "fails (p < 0.001)"
    # ...and one that could not be estimated says why
    assert _cell(per, PER, "value_added_per_dollar", "other_estimate") == (
        "not estimated: no post-entry effect of value_added could be estimated"
    )
    assert t("note.roi_other") in internal and t("note.roi_other") not in public
    assert "other_estimate" not in sites["en"].tables["roi"].columns
    assert "other_estimate" in sites["internal"].tables["roi"].columns
    # the other scale adds nothing to the suppression log: it is the public one
    assert len(sites["internal"].suppression_log) == len(sites["en"].suppression_log)


# --- exports ------------------------------------------------------------------------------------


def test_exports_carry_the_scale_why_and_the_test(sites: dict[str, SiteResult]) -> None:
    for lang in LANGS:
        t = Translator(lang)
        site = sites[lang]
        roi = _csv(site, "roi").set_index(["program_id", "metric", "basis"])
        codes = {
            (CHL, "value_added_per_dollar"): ("log", "log_passes", "true"),
            (PER, "sales_per_dollar"): ("level", "level_passes", "true"),
            (PER, "value_added_per_dollar"): ("level", "only_level", ""),
            (BRA, "sales_per_dollar"): ("log", "neither_passes", "false"),
        }
        for (program, metric), (scale, choice, passes) in codes.items():
            row = roi.loc[(program, metric, "counterfactual")]
            assert row["scale"] == scale and row["scale_choice"] == choice
            assert row["scale_text"] == t(f"scale.{scale}")
            assert row["scale_choice_text"] == t(f"scale_choice.{choice}")
            assert row["pretrend_passes"].lower() == passes
            assert row["pretrend_text"], (lang, program, metric)
        assert roi.loc[(PER, "sales_per_dollar", "counterfactual"), "estimate"] == "31.25"
        assert roi.loc[(PER, "sales_per_dollar", "counterfactual"), "pretrend_pvalue"] == "0.37"
        not_run = roi.loc[(PER, "value_added_per_dollar", "counterfactual")]
        assert not_run["pretrend_reason"] == "pretrend_too_few_firms"
        assert not_run["pretrend_text"].startswith(t("status.not_run") + ": ")
        # no upper end: an empty cell and its marker, never `inf` (tests/test_exports_safe.py)
        unbounded = roi.loc[(CHL, "cost_per_job", "counterfactual")]
        assert unbounded["ci_high"] == "" and unbounded["ci_high_unbounded"] == "True"
        self_reported = roi.xs("self_reported", level="basis")
        assert len(self_reported) and (self_reported["scale"] == "").all()
        columns = list(_csv(site, "roi").columns)
        # the words beside their codes
        assert columns.index("scale_text") == columns.index("scale") + 1
        assert columns.index("scale_choice_text") == columns.index("scale_choice") + 1
        assert not [c for c in columns if c.startswith("other_")]
        doc = json.loads((site.path / "tables" / "roi.json").read_text(encoding="utf-8"))
        assert {"scale", "scale_choice_text", "pretrend_pvalue", "pretrend_text"} <= set(
            doc["columns"]
        )
        book = pd.read_excel(site.path / "tables" / "tables.xlsx", sheet_name="roi", dtype=str)
        assert {"scale_text", "scale_choice_text", "pretrend_text"} <= set(book.columns)
        bench = _csv(site, "benchmarks").set_index(["program", "metric"])
        assert bench.loc[("MEP", "return_per_dollar"), "kind"] == "gross"
        assert bench.loc[("MAS", "return_per_dollar"), "kind"] == "modelled"
    es = _csv(sites["es"], "roi").set_index(["program_id", "metric", "basis"])
    assert es.loc[(PER, "sales_per_dollar", "counterfactual"), "pretrend_text"] == (
        "superada (p = 0,370)"
    )
    internal = _csv(sites["internal"], "roi").set_index(["program_id", "metric", "basis"])
    other = internal.loc[(CHL, "value_added_per_dollar", "counterfactual")]
    assert other["other_scale"] == "level" and other["other_estimate"] == "250.0"
    assert other["other_pretrend_text"] == "fails (p = 0.003)"


# --- charts -------------------------------------------------------------------------------------


def test_roi_charts_are_linear_with_labels_intervals_and_marked_benchmarks(
    sites: dict[str, SiteResult],
) -> None:
    for lang in LANGS:
        t = Translator(lang)
        charts = _roi_figures(_page(sites[lang], CHL), t)
        assert set(charts) == {"return", "cost_per_job"}
        for data, layout in charts.values():
            assert layout["xaxis"]["type"] == "linear"
            assert layout["yaxis"].get("type") != "log"
            bars = [trace for trace in data if trace["type"] == "bar"]
            counterfactual = [b for b in bars if b["name"] == t("basis.counterfactual")]
            assert counterfactual and counterfactual[0]["error_x"]["type"] == "data"
            labels = " | ".join(str(y) for trace in data for y in trace.get("y", []))
            assert t("bench_kind.gross") in labels and t("bench_kind.modelled") in labels
            assert t("scale.log") in labels
        data, _ = charts["return"]
        # value labels, the small figure as readable as the one a hundred times larger
        assert {t.num(2.5, 1), t.num(8.0, 1), t.num(30.0, 1), t.num(6.2, 1)} <= set(_labels(data))
        data, _ = charts["cost_per_job"]
        assert t.num(14000, 0) in _labels(data)
        arrows = [trace for trace in data if trace.get("name") == t("fig.unbounded")]
        assert len(arrows) == 1 and t("fig.unbounded") in arrows[0]["text"]
        assert arrows[0]["marker"]["symbol"][-1] == "arrow-right"
        assert arrows[0]["x"][0] == pytest.approx(14000.0)  # from the estimate on
        # the gross benchmark is drawn differently from the modelled ones
        gross = next(b for b in data if b["name"] == t("bench_kind.gross"))
        assert gross["marker"]["pattern"]["shape"] == "/"
    t = Translator("en")
    data, _ = _roi_figures(_page(sites["en"], BRA), t)["cost_per_job"]
    (arrow,) = [trace for trace in data if trace.get("name") == t("fig.unbounded")]
    assert arrow["x"][0] == pytest.approx(25000.0)  # no estimate: from the interval's low end
    data, _ = _roi_figures(_page(sites["en"], BRA), t)["return"]
    warned = [y for trace in data if trace["type"] == "bar" for y in trace["y"] if "⚠" in y]
    assert len(warned) == 2  # value added and sales, both with neither scale passing


def test_a_figure_a_hundred_times_another_keeps_both_readable() -> None:
    t = Translator("pt")
    roi = pd.DataFrame(
        {
            "program_id": ["P", "P"],
            "metric": ["value_added_per_dollar", "sales_per_dollar"],
            "basis": ["counterfactual", "self_reported"],
            "scale": ["log", None],
            "scale_choice": ["log_passes", None],
            "estimate": [1.5, 150.0],
            "ci_low": [-0.5, None],
            "ci_high": [3.5, None],
            "status": ["estimated", "estimated"],
            "reason": [None, None],
            "reason_params": [None, None],
        }
    )
    bench = pd.DataFrame(
        {
            "program": ["MEP"],
            "country": ["USA"],
            "metric": ["return_per_dollar"],
            "value": [30.0],
            "basis": ["client self-reports (surveys)"],
        }
    )
    fig = figures.roi_figure(roi, bench, t, "return").to_plotly_json()
    layout = fig["layout"]
    assert layout["xaxis"]["type"] == "linear" and layout["xaxis"]["range"][0] < -0.5
    assert _labels(fig["data"]) == ["1,5", "150,0", "30,0"]
    assert [trace["y"][0] for trace in fig["data"] if trace["type"] == "bar"] == [
        "valor adicionado por dólar público<br>(contrafactual, escala logarítmica)",
        "vendas por dólar público<br>(autodeclarado)",
        "MEP (USA), referência<br>(bruta: autodeclarações de clientes)",
    ]


# --- the Spanish edition and the methodology page --------------------------------------------


def test_the_spanish_edition_says_it_all_in_spanish(sites: dict[str, SiteResult]) -> None:
    english = english_labels()
    long_labels = sorted((label for label in english if len(label) >= 12), key=len, reverse=True)
    site = sites["es"]
    for name in (f"program-{p.lower()}.html" for p in (CHL, PER, BRA)):
        html = (site.path / name).read_text(encoding="utf-8")
        parser = _Visible()
        parser.feed(html)
        nodes = parser.nodes
        for data, layout in _figures(html):
            nodes += _chart_strings(data) + _chart_strings(layout)
        found = sorted({n for n in nodes if n in english})
        text = " | ".join(nodes)
        found += [label for label in long_labels if label in text]
        assert not found, (name, found[:10])
    t = Translator("es")
    page = _page(site, PER)
    assert "escala de niveles" in page and str(escape(t("scale_choice.level_passes"))) in page
    assert "no realizada: 40 beneficiarias en los años previos al ingreso, menos de 50" in page
    for lang in ("es", "pt"):
        tr = Translator(lang)
        cost = _roi_figures(_page(sites[lang], CHL), tr)["cost_per_job"][0]
        assert tr("fig.unbounded") in [text for trace in cost for text in trace.get("text", [])]


def test_the_methodology_page_states_each_figures_assumption(
    sites: dict[str, SiteResult],
) -> None:
    for lang in LANGS:
        t = Translator(lang)
        raw = (sites[lang].path / "methodology.html").read_text(encoding="utf-8")
        page = html.unescape(raw)
        for key in (
            "method.roi_scales",
            "method.roi_choice",
            "method.roi_unbounded",
            "method.roi_parallel",
            "method.roi_benchmarks",
        ):
            assert t(key) in page, (lang, key)
        # with this run's displacement and deadweight in their places
        before, _, after = t("method.roi_adjustments").partition("{displacement}")
        assert before in page and after.split("{deadweight}")[-1] in page
        listed = re.findall(r'<tr data-key="(\w+)"><td>([^<]+)</td>', raw)
        choices = [(code, html.unescape(text)) for code, text in listed if code in SCALE_CHOICES]
        assert choices == [(code, t(f"scale_choice.{code}")) for code in SCALE_CHOICES]
    english = (sites["en"].path / "methodology.html").read_text(encoding="utf-8")
    for words in (
        "parallel trends in logs",
        "in levels",
        "unbounded",
        "Displacement",
        "Deadweight",
    ):
        assert words in english


def test_a_warehouse_from_before_the_scales_publishes(warehouse: Path, tmp_path: Path) -> None:
    """One (level) row per figure and none of the scale columns, as before migration 014."""
    columns = (
        "shown",
        "scale",
        "scale_choice",
        "pretrend_pvalue",
        "pretrend_passes",
        "pretrend_reason",
        "pretrend_reason_params",
    )
    sql = "delete from results.roi where scale = 'log';\n" + "".join(
        f"alter table results.roi drop column {c};\n" for c in columns
    )
    site = _publish(_variant(warehouse, tmp_path / "w", sql), tmp_path / "out", lang="pt")
    roi = site.tables["roi"]
    assert len(roi) and roi[["program_id", "metric", "basis"]].duplicated().sum() == 0
    page = _page(site, PER)
    assert _cell(page, PER, "sales_per_dollar", "estimate") == "31,2"
    assert _cell(page, PER, "sales_per_dollar", "scale") == "–"


def test_a_page_with_every_case_displays_in_a_browser(sites: dict[str, SiteResult]) -> None:
    page = sites["es"].path / f"program-{BRA.lower()}.html"
    dom, log = render(page, budget_ms=4000)
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert not console, console[:3]
    assert dom.count('class="main-svg"') >= 2 * page.read_text(encoding="utf-8").count(
        'class="plotly-graph-div"'
    )
    assert "⚠ leer con cautela" in dom
    # drawn by plotly in the chart's SVG (the words are also in a note under the table)
    assert re.search(r"<text[^>]*>" + Translator("es")("fig.unbounded") + "</text>", dom)
