"""Charts that every reader can use and that do not mislead (reports/charts.py,
reports/figures.py).

Each chart of an edition carries a text alternative generated from the figure's data, in
the edition's language, and a data table of the plotted values; the ROI charts are on
linear axes with value labels and an interval without an upper end stays marked as such;
reach series start at the first year with data and end at the last; ordered groups keep
their order; chart text is dark enough to read. Fast tests build real figures on small
frames; one end-to-end test reads every chart of the demo's editions.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from reports import figures
from reports.charts import Charts, data_table, describe, plain, read_chart
from reports.i18n import Translator
from reports.views import Formats

ROOT = Path(__file__).resolve().parents[1]
PANEL_SQL = ROOT / "warehouse" / "models" / "marts" / "mart_evaluation_panel.sql"


# --- small published tables -------------------------------------------------------------------


def _reach_by_year(values: dict[str, dict[int, float]]) -> pd.DataFrame:
    """reach_by_year rows: firms entering and public cost (1,000 x firms + 0.7) per year."""
    rows = [
        {
            "program_id": program,
            "year": year,
            "is_total": False,
            "firms_entering": firms,
            "public_cost_usd": np.nan if np.isnan(firms) else firms * 1000 + 0.7 * (firms > 0),
        }
        for program, years in values.items()
        for year, firms in years.items()
    ]
    rows += [
        {"program_id": p, "year": None, "is_total": True, "firms_entering": 1, "public_cost_usd": 1}
        for p in values
    ]
    frame = pd.DataFrame(rows)
    frame["year"] = frame["year"].astype("Int64")
    return frame


def _event_study(effects: list[float]) -> pd.DataFrame:
    times = list(range(-2, len(effects) - 2))
    effect = np.array(effects)
    return pd.DataFrame(
        {
            "event_time": times,
            "effect": effect,
            "ci_low": effect - 1.25,
            "ci_high": effect + 1.5,
            "band_low": effect - 2.0,
            "band_high": effect + 2.0,
            "unit": "pct",
        }
    )


def _roi(estimate: float, low: float, high: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "program_id": ["P", "P", "P"],
            "metric": ["value_added_per_dollar", "sales_per_dollar", "cost_per_job"],
            "basis": ["counterfactual", "self_reported", "counterfactual"],
            "scale": ["log", None, "log"],
            "scale_choice": ["log_passes", None, "log_passes"],
            "estimate": [2.5, 150.0, estimate],
            "ci_low": [1.0, None, low],
            "ci_high": [4.0, None, high],
            "status": ["estimated"] * 3,
            "reason": [None] * 3,
            "reason_params": [None] * 3,
        }
    )


BENCHMARKS = pd.DataFrame(
    {
        "program": ["MEP", "MAS"],
        "country": ["USA", "GBR"],
        "metric": ["return_per_dollar", "cost_per_job"],
        "value": [30.0, 9100.0],
        "basis": ["client self-reports (surveys)", "interviews, surveys, trend analysis"],
    }
)


# --- text alternatives ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_text_alternative_names_the_chart_and_its_numbers_in_the_language(
    lang: str,
) -> None:
    t = Translator(lang)
    reach = _reach_by_year({"P": {2015: 1234.0, 2016: 987.0, 2017: 1501.0}})
    spending = describe(figures.spending_figure(reach, t), t)
    assert spending.startswith(t("fig.spending") + ".")
    assert t("col.year") in spending and t("unit.usd") in spending
    # every bar's value, written as the language writes it
    for cost in (1234000.7, 987000.7, 1501000.7):
        assert t.num(cost) in spending
    assert ("1,234,001" if lang == "en" else "1.234.001") in spending
    # a series too long to read out: its first, last, lowest and highest values
    events = _event_study([0.1, -0.4, 1.0, 2.25, 3.0, 2.5, 4.75, 3.5, 4.0, 5.5, 6.0, 5.25])
    text = describe(figures.event_study_figure(events, t, "log_sales"), t)
    assert t("fig.event_study", outcome=t.code("outcome", "log_sales")) in text
    assert t("fig.years_since_entry") in text and t("unit.pct") in text
    assert t.num(0.1, 1) in text and t.num(5.25, 1) in text and t.num(6.0, 1) in text
    assert "−" + t.num(0.4, 1) in text  # the lowest, with a true minus sign
    assert ("6.0" if lang == "en" else "6,0") in text
    english = Translator("en")
    if lang != "en":
        assert english("chart.kind.line") not in text and t("chart.kind.line") in text


def test_the_text_alternative_reads_intervals_notes_and_reference_lines() -> None:
    t = Translator("en")
    rows = pd.DataFrame(
        {
            "dimension": ["size_class", "size_class", "region", "size_class"],
            "value": ["small (10-49)", "micro (<10)", "North", "total"],
            "is_total": [False, False, False, True],
            "effect": [2.5, 1.5, None, 2.0],
            "ci_low": [1.0, -0.5, None, 1.5],
            "ci_high": [4.0, 3.5, None, 2.5],
            "status": ["estimated", "estimated", "not_estimated", "estimated"],
            "reason": [None, None, "too_few_beneficiaries", None],
            "reason_params": [None, None, '{"n": 7, "min": 30}', None],
            "unit": ["pct"] * 4,
        }
    )
    text = describe(figures.forest_figure(rows, t, "log_sales"), t)
    micro = t("dimension.size_class") + ": " + t.code("size_class", "micro (<10)")
    assert f"{micro}: {t('chart.interval', value='1.5', low='−0.5', high='3.5')}" in text
    assert "7 beneficiaries, fewer than the 30 required" in text  # the group not estimated
    assert f"{t('fig.all_beneficiaries')}: 2.0." in text  # the dashed line's value


# --- data tables ------------------------------------------------------------------------------


def test_the_data_table_has_a_row_per_point_with_the_plotted_values() -> None:
    t = Translator("es")
    reach = _reach_by_year({"P": {2014: 0.0, 2015: 12.0, 2016: 0.0, 2017: 1500.0, 2018: 0.0}})
    fig = figures.entering_figure(reach, t)
    table = data_table(fig, t)
    plotted = [int(v) for v in fig.data[0].x]
    assert [name for name, _ in table.rows] == [str(y) for y in plotted]
    assert [cells[0][0] for _, cells in table.rows] == [t.num(v) for v in fig.data[0].y]
    assert [cells[0][0] for _, cells in table.rows] == ["12", "0", "1.500"]
    assert table.caption == t("fig.entering")
    assert table.headers == [(t("col.year"), False), (t("unit.firms_title"), True)]


def test_series_sharing_their_years_share_the_rows_with_intervals_and_bands() -> None:
    t = Translator("en")
    events = _event_study([0.5, -0.25, 1.0, 2.0])
    truth = pd.DataFrame({"event_time": [0, 1], "effect": [1.0, 2.0]})
    fig = figures.event_study_figure(events, t, "log_sales", truth)
    table = data_table(fig, t)
    assert [name for name, _ in table.rows] == ["−2", "−1", "0", "1"]
    headers = [text for text, _ in table.headers]
    estimate, band = t("fig.estimate_ci"), t("fig.uniform_band")
    assert headers == [
        t("fig.years_since_entry"),
        t("chart.col.series_low", series=band),
        t("chart.col.series_high", series=band),
        estimate,
        t("chart.col.series_low", series=estimate),
        t("chart.col.series_high", series=estimate),
        t("fig.planted"),
    ]
    # event time 1: the band (2.0 +- 2), the estimate 2.0 [0.75, 3.5], the planted 2.0
    assert [c for c, _ in table.rows[-1][1]] == ["0.0", "4.0", "2.0", "0.8", "3.5", "2.0"]
    assert [c for c, _ in table.rows[0][1]][-1] == ""  # no planted effect before entry


def test_charts_render_an_image_named_and_described_and_a_data_table() -> None:
    for lang, summary in (
        ("en", "Data table"),
        ("es", "Tabla de datos"),
        ("pt", "Tabela de dados"),
    ):
        t = Translator(lang)
        charts = Charts(t)
        reach = _reach_by_year({"P": {2015: 3.0, 2016: 4.0}, "Q": {2016: 5.0}})
        charts.div(figures.entering_figure(reach, t))
        html = charts.div(figures.reach_overview_figure(reach, {"P": "Alpha"}, t), image="x")
        page = _Page(str(html))
        (chart,) = page.charts()
        assert chart.label == t("fig.reach_overview")
        assert chart.description == describe(charts.for_images["x"], t)
        assert "Alpha" in chart.description and t.num(5) in chart.description
        assert chart.summary == summary and chart.caption == t("fig.reach_overview")
        assert chart.column_scopes and set(chart.column_scopes) == {"col"}
        assert chart.row_headers == ["2015", "2016"]  # one row per year, a column per program
        assert chart.plot_id == "chart-2"  # numbered across the edition's pages


# --- charts that do not mislead ---------------------------------------------------------------


def _mode(trace: object) -> str:
    return str(getattr(trace, "mode", "") or "")  # bars have none


def test_roi_charts_are_linear_with_value_labels_and_an_unbounded_end_stays_marked() -> None:
    for lang in ("en", "es"):
        t = Translator(lang)
        fig = figures.roi_figure(_roi(np.nan, 25000.0, math.inf), BENCHMARKS, t, "cost_per_job")
        assert fig.layout.xaxis.type == "linear"
        labels = [s for trace in fig.data if _mode(trace) == "text" for s in trace.text]
        assert t.num(9100) in labels  # every bar drawn carries its value
        # no estimate, an interval from 25,000 with no upper end: an arrow to the edge,
        # labelled, on an axis that stays the benchmark's scale, not a huge one
        (arrow,) = [trace for trace in fig.data if trace.name == t("fig.unbounded")]
        assert arrow.x[0] == pytest.approx(25000.0) and t("fig.unbounded") in arrow.text
        assert fig.layout.xaxis.range[1] < 25000 * 3
        text = describe(fig, t)
        between = t("chart.between", low=t.num(25000), high=t("chart.no_upper_bound"))
        assert between in text
        table = data_table(fig, t)
        row = next(cells for name, cells in table.rows if t.code("metric", "cost_per_job") in name)
        assert [c for c, _ in row][-3:] == ["", t.num(25000), t("chart.no_upper_bound")]
        # the return chart: linear, each bar labelled, the small one as readable as the large
        fig = figures.roi_figure(_roi(500.0, 100.0, 900.0), BENCHMARKS, t, "return")
        assert fig.layout.xaxis.type == "linear"
        labels = [s for trace in fig.data if _mode(trace) == "text" for s in trace.text]
        assert labels == [t.num(2.5, 1), t.num(150.0, 1), t.num(30.0, 1)]
        values = [c[0] for _, cells in data_table(fig, t).rows for c in cells[1:2]]
        assert values == labels  # the table has the values, not the labels' positions


def test_reach_series_start_at_the_first_year_with_data_and_end_at_the_last() -> None:
    t = Translator("en")
    nan = float("nan")
    reach = _reach_by_year(
        {
            "A": {2010: 0.0, 2011: 0.0, 2012: 5.0, 2013: 0.0, 2014: 7.0, 2015: 0.0, 2016: 0.0},
            # a suppressed first year is a year with data (drawn as a gap)
            "B": {2010: 0.0, 2011: nan, 2012: 4.0, 2013: 6.0, 2014: 0.0, 2015: 0.0, 2016: 0.0},
            "C": {2010: 0.0, 2011: 0.0},  # no data at all: no line
        }
    )
    overview = figures.reach_overview_figure(reach, {}, t)
    years = {trace.name: [int(x) for x in trace.x] for trace in overview.data}
    assert years == {"A": [2012, 2013, 2014], "B": [2011, 2012, 2013]}
    assert list(overview.data[0].y) == [5.0, 0.0, 7.0]  # a zero between years with data stays
    for program in ("A", "B"):
        mine = reach[reach["program_id"] == program]
        for fig in (figures.entering_figure(mine, t), figures.spending_figure(mine, t)):
            assert [int(x) for x in fig.data[0].x] == years[program]
            assert fig.layout.xaxis.tickformat == "d"  # 2015, not 2,015


def test_size_classes_and_cohorts_keep_their_order() -> None:
    t = Translator("es")
    # the contract: the classes the evaluation panel derives, in the order listed here
    sql = PANEL_SQL.read_text(encoding="utf-8")
    case = sql[: sql.index("end as size_class")]
    case = case[case.rindex("case") :]
    assert tuple(re.findall(r"(?:then|else) '([^']+)'", case)) == figures.SIZE_CLASSES
    shuffled = ["large (250+)", "micro (<10)", "medium (50-249)", "small (10-49)", "unknown"]
    served = [500, 20, 300, 100, 3]  # by count the order would be another
    by_group = pd.DataFrame(
        {
            "program_id": "P",
            "dimension": ["size_class"] * 5 + ["sector"] * 2,
            "value": [*shuffled, "textiles", "food"],
            "is_total": False,
            "firms_served": [*served, 10, 40],
        }
    )
    fig = figures.group_reach_figure(by_group, t)
    sizes, sectors = fig.data
    natural = [t.code("size_class", c) for c in (*figures.SIZE_CLASSES, "unknown")]
    assert list(sizes.y) == natural and list(sizes.x) == [20, 100, 300, 500, 3]
    assert list(sectors.y) == [t.code("sector", "food"), t.code("sector", "textiles")]
    # read top down as drawn (reversed axes), in the table as in the chart
    table = data_table(fig, t)
    assert [name for name, _ in table.rows][:5] == natural
    # cohorts from the earliest, size classes small to large, in the effects chart too,
    # a group not estimated in its place rather than after the others
    assert figures.group_order("cohort", ["2019", "2012", "2015"]) == [1, 2, 0]
    assert figures.group_order("size_class", shuffled) == [1, 3, 2, 0, 4]
    groups = pd.DataFrame(
        {
            "dimension": ["cohort", "cohort", "size_class", "size_class", "size_class"],
            "value": ["2016", "2012", "large (250+)", "small (10-49)", "micro (<10)"],
            "is_total": False,
            "effect": [1.0, 2.0, 3.0, None, 1.5],
            "ci_low": [0.0, 1.0, 2.0, None, 0.5],
            "ci_high": [2.0, 3.0, 4.0, None, 2.5],
            "status": ["estimated", "estimated", "estimated", "not_estimated", "estimated"],
            "reason": [None, None, None, "too_few_beneficiaries", None],
            "reason_params": [None, None, None, '{"n": 7, "min": 30}', None],
            "unit": "pct",
        }
    )
    forest = figures.forest_figure(groups, t, "log_sales")
    shown = [name for name, _ in data_table(forest, t).rows]
    cohort, size = t("dimension.cohort"), t("dimension.size_class")
    assert shown == [
        f"{cohort}: 2012",
        f"{cohort}: 2016",
        *(
            f"{size}: {t.code('size_class', c)}"
            for c in figures.SIZE_CLASSES
            if c != "medium (50-249)"
        ),
    ]


def test_balance_legend_and_axis_title_do_not_meet_and_titles_fit() -> None:
    t = Translator("pt")
    balance = pd.DataFrame(
        {"covariate": ["log_sales", "log_employment"], "smd_before": [0.6, 0.3]}
    ).assign(smd_after=[0.01, -0.02])
    fig = figures.balance_figure(balance, t)
    full = fig.layout.template.layout.legend
    assert full.yanchor == "bottom" and full.y >= 1  # above the plot, the axis title below
    assert fig.layout.margin.t >= 80  # room for the title and the legend
    long = figures.wrap("Custo público dos serviços iniciados por ano (USD constantes) no total")
    assert long.count("<br>") >= 1
    assert all(len(line) <= figures.TITLE_WIDTH for line in long.split("<br>"))
    assert figures.wrap("Firms entering per year") == "Firms entering per year"


def test_budget_share_of_gdp_has_significant_digits_not_five_decimals() -> None:
    share = Formats(Translator("es")).significant(2)
    row = pd.Series(dtype=object)
    assert share(0.0029412, row) == "0,0029"
    assert share(0.000012345, row) == "0,000012"
    assert share(1.26, row) == "1,3"
    assert share(None, row) == Translator("es")("sym.missing")


def _contrast(color: str, background: str = "#ffffff") -> float:
    def luminance(hex_color: str) -> float:
        channels = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(color), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_chart_text_and_marks_are_dark_enough() -> None:
    t = Translator("en")
    assert _contrast(figures.TEMPLATE.layout.font.color) >= 4.5
    assert _contrast(figures.TEMPLATE.layout.modebar.color) >= 3  # the toolbar's icons
    for color in [*figures.COLORS.values(), *figures.PALETTE]:
        assert _contrast(color) >= 3, color  # marks: WCAG 1.4.11
    built = [
        figures.roi_figure(_roi(np.nan, 25000.0, math.inf), BENCHMARKS, t, "cost_per_job"),
        figures.forest_figure(
            pd.DataFrame(
                {
                    "dimension": ["region", "region"],
                    "value": ["North", "South"],
                    "is_total": [False, False],
                    "effect": [1.0, None],
                    "ci_low": [0.0, None],
                    "ci_high": [2.0, None],
                    "status": ["estimated", "not_estimated"],
                    "reason": [None, "too_few_beneficiaries"],
                    "reason_params": [None, '{"n": 7, "min": 30}'],
                    "unit": ["pct", "pct"],
                }
            ),
            t,
            "log_sales",
        ),
    ]
    colors = [
        trace.textfont.color
        for fig in built
        for trace in fig.data
        if "text" in _mode(trace) and trace.textfont.color
    ]
    assert colors and all(_contrast(c) >= 4.5 for c in colors), colors


def test_a_figure_without_data_still_says_what_it_is() -> None:
    t = Translator("en")
    empty = _reach_by_year({"P": {2015: 0.0}})
    fig = figures.entering_figure(empty, t)
    assert describe(fig, t).endswith(t("chart.none_drawn"))
    assert data_table(fig, t).rows == []
    assert plain("Cost<br>per <b>job</b> &amp; more") == "Cost per job & more"
    chart = read_chart(go.Figure(go.Scatter(x=[1, 2], y=[3, 4], meta={"chart": "decoration"})))
    assert chart.series == []


# --- every chart of the demo's editions -------------------------------------------------------


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    parent: _Node | None
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def all_text(self) -> str:
        return " ".join([*self.text, *(c.all_text() for c in self.children)]).strip()

    def walk(self) -> list[_Node]:
        return [self, *(n for c in self.children for n in c.walk())]

    def ancestors(self) -> list[_Node]:
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out


@dataclass
class _Chart:
    plot_id: str
    label: str
    description: str
    summary: str
    caption: str
    column_scopes: list[str]
    row_headers: list[str]
    rows: int


class _Page(HTMLParser):
    """An HTML page as a tree of elements (enough to follow ids and nesting)."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "source", "col", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = _Node("#root", {}, None)
        self.node = self.root
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.node)
        self.node.children.append(node)
        if tag not in self.VOID:
            self.node = node

    def handle_endtag(self, tag: str) -> None:
        node: _Node | None = self.node
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.node = node.parent

    def handle_data(self, data: str) -> None:
        if self.node.tag != "script" and data.strip():
            self.node.text.append(data.strip())

    def by_id(self, ident: str) -> _Node | None:
        return next((n for n in self.root.walk() if n.attrs.get("id") == ident), None)

    def charts(self) -> list[_Chart]:
        """Each plotly chart with what a screen reader and a table reader get."""
        out = []
        for node in self.root.walk():
            if "plotly-graph-div" not in node.attrs.get("class", "").split():
                continue
            image = next(a for a in node.ancestors() if a.attrs.get("role") == "img")
            described = self.by_id(image.attrs["aria-describedby"])
            assert described is not None, node.attrs["id"]
            box = image.parent
            assert box is not None
            details = next(c for c in box.children if c.tag == "details")
            summary = next(c for c in details.children if c.tag == "summary")
            table = next(n for n in details.walk() if n.tag == "table")
            caption = next(n for n in table.walk() if n.tag == "caption")
            header_cells = [n for n in table.walk() if n.tag == "th"]
            body = next(n for n in table.children if n.tag == "tbody")
            out.append(
                _Chart(
                    plot_id=node.attrs["id"],
                    label=image.attrs.get("aria-label", ""),
                    description=described.all_text(),
                    summary=summary.all_text(),
                    caption=caption.all_text(),
                    column_scopes=[
                        c.attrs.get("scope", "")
                        for c in header_cells
                        if c.parent and c.parent.parent and c.parent.parent.tag == "thead"
                    ],
                    row_headers=[
                        th.all_text()
                        for tr in body.children
                        for th in tr.children[:1]
                        if th.tag == "th" and th.attrs.get("scope") == "row"
                    ],
                    rows=len(body.children),
                )
            )
        return out


@pytest.mark.e2e
def test_every_chart_of_the_demo_has_a_text_alternative_and_a_data_table(demo: Path) -> None:
    pages = sorted((demo / "report").glob("*/*.html"))
    assert pages
    seen = placeholders = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        parsed = _Page(html)
        charts = parsed.charts()
        assert len(charts) == html.count('class="plotly-graph-div"'), page
        lang = re.search(r'<html lang="(\w+)"', html)
        t = Translator(lang.group(1) if lang else "en")  # type: ignore[arg-type]
        for chart in charts:
            where = (page.name, chart.plot_id)
            assert chart.label and chart.label in chart.description, where
            assert re.search(r"\d", chart.description), where  # its numbers
            assert chart.summary == t("chart.data_table"), where
            assert chart.caption == chart.label, where
            assert chart.rows and len(chart.row_headers) == chart.rows, where
            assert chart.column_scopes and set(chart.column_scopes) == {"col"}, where
        seen += len(charts)
        # a chart not drawn: its title and the reason, as text
        for node in parsed.root.walk():
            if "placeholder-chart" in node.attrs.get("class", "").split():
                title, reason = (c.all_text() for c in node.children[:2])
                assert title and reason, page
                placeholders += 1
    assert seen >= 20


def _plotted(html: str) -> list[tuple[str, list[dict], dict]]:
    """Each `Plotly.newPlot(id, data, layout, config)` of a page: its id, data and layout."""
    decoder = json.JSONDecoder()
    found = []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', html):
        data, end = decoder.raw_decode(html, call.end())
        layout, _ = decoder.raw_decode(html, re.compile(r",\s*").match(html, end).end())  # type: ignore[union-attr]
        found.append((call.group(1), data, layout))
    return found


@pytest.mark.e2e
def test_every_chart_of_the_demo_is_a_valid_plotly_figure(demo: Path) -> None:
    """figures._layout builds its figures without plotly's validation (it costs a quarter
    of a page's build): here every chart the demo's editions draw goes through it, so a
    misspelt property or a value of the wrong type fails here instead."""
    checked = 0
    for page in sorted((demo / "report").glob("*/*.html")):
        html = page.read_text(encoding="utf-8")
        plotted = _plotted(html)
        assert len(plotted) == html.count('class="plotly-graph-div"'), page
        for ident, data, layout in plotted:
            try:
                go.Figure({"data": data, "layout": layout})  # validated, as by default
            except ValueError as exc:
                pytest.fail(f"{page.name} {ident}: {exc}")
            checked += 1
    assert checked >= 20
