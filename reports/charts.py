"""Charts on a page: each plotly figure with a text alternative and its data table.

`Charts.div` renders a figure as the page shows it:

- the plot, inside an element with `role="img"`, named by the chart's title and described
  by a text alternative generated from the figure's own data, in the edition's language:
  what it shows (kind, axes) and its key numbers (each value when a series has few, else
  its first and last, lowest and highest);
- the text alternative itself, visually hidden, that `aria-describedby` points to;
- a "Data table" disclosure (`<details>`) with the plotted values as a real table.

Once plotly has drawn, a short script moves the image role onto plotly's main SVG and
hides its other layers from screen readers: the plot's hundreds of SVG text nodes are read
as one image, while plotly's toolbar, which lives inside the same element, stays a toolbar
of labelled buttons outside the image.

Both the text and the table are read generically from the traces (x, y, error bars, band
fills, text), so a new chart gets them without code of its own. Figures mark what is not
data with a trace's `meta`: `DECORATION` (value labels printed beside bars, an arrow drawn
to the chart's edge), and give the intervals their error bars cannot show with
`intervals(...)` (one without an upper end, one drawn without its estimate). Named line
shapes (`add_vline(..., name=...)`) are reference values, read as such.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup, escape

from reports.i18n import Translator

# a short toolbar whose words are translated (reports.i18n.PLOTLY_LOCALES)
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtons": [["toImage", "zoom2d", "pan2d", "resetScale2d"]],
}
# a series with at most this many points is read value by value; a longer one is summed up
LISTED = 12
DECORATION = {"chart": "decoration"}
_TAG = re.compile(r"<[^>]+>")
_SPEC = re.compile(r"%\{(x|y)(?::([^}]*))?\}")

# Once plotly drew: the image role moves from the wrapper onto plotly's main SVG, and its
# other SVG layers (title, legend, hover) are hidden, so that the toolbar plotly puts in the
# same element stays reachable, and the plot is one image rather than hundreds of text
# nodes. Again after every redraw (zoom, resize). `{plot_id}` is plotly's placeholder.
ACCESSIBLE_SVG = """
var gd = document.getElementById("{plot_id}"), box = gd.closest(".chart-plot");
if (box && box.getAttribute("role") === "img") {
  var name = box.getAttribute("aria-label"), desc = box.getAttribute("aria-describedby");
  ["role", "aria-label", "aria-describedby"].forEach(function (a) { box.removeAttribute(a); });
  var mark = function () {
    var bar = gd.querySelector("[role=toolbar]");  // each chart's toolbar told apart
    if (bar) { bar.setAttribute("aria-label", name); }
    gd.querySelectorAll("svg.main-svg").forEach(function (svg, i) {
      if (i) { svg.setAttribute("aria-hidden", "true"); return; }
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", name);
      svg.setAttribute("aria-describedby", desc);
    });
  };
  mark();
  gd.on("plotly_afterplot", mark);
}
"""


def intervals(low: Sequence[float], high: Sequence[float]) -> dict[str, Any]:
    """A trace's `meta` with its points' interval bounds as they are, for a trace whose
    error bars cannot show them: an interval without an upper end (an infinite `high`),
    or one drawn without its estimate. JSON has no infinity: such ends are flagged."""

    def finite(values: Sequence[float]) -> list[float | None]:
        return [float(v) if math.isfinite(_float(v)) else None for v in values]

    unbounded = [math.isinf(_float(v)) and _float(v) > 0 for v in high]
    return {"chart": {"low": finite(low), "high": finite(high), "no_upper_bound": unbounded}}


def plain(text: object) -> str:
    """A plotly string as plain text: line breaks as spaces, no tags or entities."""
    if text is None:
        return ""
    out = _TAG.sub(" ", str(text).replace("<br>", " "))
    return re.sub(r"\s+", " ", html.unescape(out)).strip()


@dataclass
class Series:
    """One trace's plotted points, read from the figure (category, value, interval, note)."""

    name: str
    kind: str  # "bar", "line", "points", "band" or "text"
    categories: list[object]
    values: list[float]
    low: list[float] | None = None
    high: list[float] | None = None
    no_upper: list[bool] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decimals: int | None = None  # of the values, from the trace's hover format
    category_decimals: int | None = None
    value_axis: str = ""  # the titles of the axes the values and categories are read on
    category_axis: str = ""
    axis_id: str = ""  # the category axis (several subplots: several axes)
    ranks: list[float] = field(default_factory=list)  # each point's place on that axis


@dataclass
class ChartData:
    """What a figure plots: its title, axis titles, series and named reference lines."""

    title: str
    x_title: str
    y_title: str
    series: list[Series]
    references: list[tuple[str, float]]


def _list(values: object) -> list[object]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if isinstance(values, dict) and "bdata" in values:  # a figure dict's typed array
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        return list(array.tolist())  # flat, as a shaped one's values are read too
    return list(np.asarray(values, dtype=object).ravel().tolist())


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _axis(layout: dict[str, Any], ref: str | None, letter: str) -> dict[str, Any]:
    return dict(layout.get((ref or letter).replace(letter, f"{letter}axis", 1)) or {})


def _axis_title(axis: dict[str, Any]) -> str:
    return plain((axis.get("title") or {}).get("text"))


def _decimals(template: object, letter: str) -> int | None:
    """The decimals a hover template shows for `letter` ("%{y:,.1f}" -> 1)."""
    for found, spec in _SPEC.findall(str(template or "")):
        if found == letter and spec:
            digits = re.search(r"\.(\d+)", spec)
            if digits:
                return int(digits.group(1))
    return None


def _interval(
    error: dict[str, Any] | None, values: list[float]
) -> tuple[list[float] | None, list[float] | None]:
    if not error or error.get("visible") is False or error.get("array") is None:
        return None, None
    up = [_float(v) for v in _list(error["array"])]
    symmetric = error.get("symmetric") is not False or error.get("arrayminus") is None
    down = up if symmetric else [_float(v) for v in _list(error["arrayminus"])]
    low = [v - d for v, d in zip(values, down, strict=False)]
    high = [v + u for v, u in zip(values, up, strict=False)]
    return low, high


def _ranks(categories: list[object], axis: dict[str, Any], horizontal: bool) -> list[float]:
    """Each category's place from the top or left of its axis, as a reader meets them:
    an explicit category order, else the data's (numbers: their own order); plotly
    draws the first category of a horizontal chart at the bottom unless reversed."""
    array = _list(axis.get("categoryarray"))
    if axis.get("categoryorder") == "array" and array:
        rank = {c: float(i) for i, c in enumerate(array)}
        ranks = [rank.get(c, float(len(rank))) for c in categories]
    elif categories and all(_is_number(c) for c in categories):
        ranks = [_float(c) for c in categories]
    else:
        ranks = [float(i) for i in range(len(categories))]
    if horizontal and axis.get("autorange") != "reversed":
        ranks = [-r for r in ranks]
    return ranks


def _sorted(series: Series) -> Series:
    """The series' points in their order on the chart."""
    order = sorted(range(len(series.categories)), key=lambda i: series.ranks[i])

    def pick(items: list[Any] | None) -> list[Any] | None:
        return None if items is None else [items[i] for i in order if i < len(items)]

    series.categories = pick(series.categories) or []
    series.values = pick(series.values) or []
    series.low, series.high = pick(series.low), pick(series.high)
    series.no_upper = pick(series.no_upper) or []
    series.notes = pick(series.notes) or []
    series.ranks = pick(series.ranks) or []
    return series


def _series(layout: dict[str, Any], trace: dict[str, Any]) -> Series | None:
    """A trace's points, or None for what is not data (decorations, other trace types)."""
    if trace.get("type") not in ("scatter", "bar"):
        return None
    meta = trace.get("meta")
    hint = meta.get("chart") if isinstance(meta, dict) else None
    if hint == "decoration":
        return None
    x, y = _list(trace.get("x")), _list(trace.get("y"))
    mode = str(trace.get("mode") or "")
    if trace["type"] == "bar":
        horizontal, kind = trace.get("orientation") == "h", "bar"
    else:
        # points along an axis of words (groups, covariates) are read across
        horizontal = bool(x) and all(_is_number(v) for v in x if v is not None)
        horizontal = horizontal and not all(_is_number(v) for v in y if v is not None)
        kind = "text" if mode == "text" else "line" if "lines" in mode else "points"
    categories, raw = (y, x) if horizontal else (x, y)
    values = [_float(v) for v in raw] if kind != "text" else [math.nan] * len(categories)
    letter, other = ("x", "y") if horizontal else ("y", "x")
    low, high = _interval(trace.get("error_x" if horizontal else "error_y"), values)
    if isinstance(hint, dict) and "low" in hint and "high" in hint:  # the bounds as they are
        low, high = [_float(v) for v in hint["low"]], [_float(v) for v in hint["high"]]
    # a text trace's words are its notes (its hover text is the longer form)
    hovertext = trace.get("hovertext")
    texts = _list(hovertext) if kind == "text" and hovertext is not None else []
    texts = texts or _list(trace.get("text"))
    notes = [plain(s) for s in texts] if any(plain(s) for s in texts) else []
    flags = hint.get("no_upper_bound", []) if isinstance(hint, dict) else []
    value_ref = trace.get("xaxis" if horizontal else "yaxis")
    category_ref = trace.get("yaxis" if horizontal else "xaxis") or other
    category_axis = _axis(layout, category_ref, other)
    template = trace.get("hovertemplate")
    series = Series(
        name=plain(trace.get("name")),
        kind=kind,
        categories=[plain(c) if isinstance(c, str) else c for c in categories],
        values=values,
        low=low,
        high=high,
        no_upper=[bool(f) for f in flags],
        notes=notes,
        decimals=_decimals(template, letter),
        category_decimals=_decimals(template, other),
        value_axis=_axis_title(_axis(layout, value_ref, letter)),
        category_axis=_axis_title(category_axis),
        axis_id=category_ref,
        ranks=_ranks(categories, category_axis, horizontal),
    )
    return _sorted(series)


def read_chart(fig: go.Figure | dict[str, Any]) -> ChartData:
    """What a figure plots, read from its traces, axes and named line shapes; `fig` a
    figure or its `to_dict()` (read as data: faster than a figure's properties)."""
    spec = fig if isinstance(fig, dict) else fig.to_dict()
    layout: dict[str, Any] = spec.get("layout") or {}
    series: list[Series] = []
    for trace in spec.get("data") or ():
        current = _series(layout, trace)
        if current is None:
            continue
        previous = series[-1] if series else None
        # a fill to the previous trace is a band: the two edges are one series' interval
        if (
            trace.get("fill") == "tonexty"
            and previous is not None
            and previous.categories == current.categories
        ):
            with np.errstate(invalid="ignore"):
                edges = np.array([previous.values, current.values], dtype=float)
            previous.low = [float(v) for v in np.fmin(edges[0], edges[1])]
            previous.high = [float(v) for v in np.fmax(edges[0], edges[1])]
            previous.values = [math.nan] * len(previous.categories)
            previous.name, previous.kind = current.name or previous.name, "band"
            continue
        series.append(current)
    # one precision per chart for the series whose hover shows none (a band, the
    # sensitivity's intervals): that of a series which shows one, else one for them all
    shown = next((s.decimals for s in series if s.decimals is not None), None)
    unset = [s for s in series if s.decimals is None]
    pooled = Series("", "", [], [v for s in unset for v in s.values])
    pooled.low = [v for s in unset for v in (s.low or [])]
    pooled.high = [v for s in unset for v in (s.high or [])]
    for s in unset:
        s.decimals = shown if shown is not None else _value_decimals(pooled)
    references = []
    for shape in layout.get("shapes") or ():
        if shape.get("name") and shape.get("type") == "line":
            if shape.get("x0") == shape.get("x1") and shape.get("xref") == "x":
                references.append((plain(shape["name"]), _float(shape.get("x0"))))
            elif shape.get("y0") == shape.get("y1") and shape.get("yref") == "y":
                references.append((plain(shape["name"]), _float(shape.get("y0"))))
    return ChartData(
        title=_axis_title(layout),  # the layout's title, as an axis has its own
        x_title=_axis_title(_axis(layout, None, "x")),
        y_title=_axis_title(_axis(layout, None, "y")),
        series=series,
        references=references,
    )


# --- numbers and words ---------------------------------------------------------------------


def _value_decimals(series: Series) -> int:
    """The decimals of a series' values: its hover format's, else integers as integers,
    else about three significant digits."""
    if series.decimals is not None:
        return series.decimals
    finite = [abs(v) for v in [*series.values, *(series.low or []), *(series.high or [])]]
    finite = [v for v in finite if math.isfinite(v)]
    if not finite or all(float(v).is_integer() for v in finite):
        return 0
    top = max(finite)
    return 3 if top == 0 else max(0, min(3, 2 - math.floor(math.log10(top))))


def _category(value: object, series: Series, t: Translator) -> str:
    if isinstance(value, str):
        return value
    number = _float(value)
    if math.isnan(number):
        return t("sym.missing")
    if series.category_decimals is None and number.is_integer():
        return str(int(number)).replace("-", "−")  # years and event times: no separators
    return t.num(number, series.category_decimals or 0).replace("-", "−")


def _number(value: float, decimals: int, t: Translator) -> str:
    """A value as the edition writes it, with a true minus sign; no "−0.0"."""
    if not math.isfinite(value):
        return t.num(value)
    text = t.num(value, decimals)
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]
    return text.replace("-", "−")


@dataclass
class _Point:
    category: str
    value: str  # empty: no value drawn
    low: str  # empty: no interval
    high: str
    note: str
    number: float
    rank: float

    @property
    def drawn(self) -> bool:
        return bool(self.value or self.low or self.high)


def _points(series: Series, t: Translator) -> list[_Point]:
    decimals = _value_decimals(series)
    out = []
    for i, category in enumerate(series.categories):
        value = series.values[i] if i < len(series.values) else math.nan
        low = series.low[i] if series.low is not None and i < len(series.low) else math.nan
        high = series.high[i] if series.high is not None and i < len(series.high) else math.nan
        unbounded = i < len(series.no_upper) and series.no_upper[i]
        interval = unbounded or not (math.isnan(low) and math.isnan(high))
        if unbounded:
            upper = t("chart.no_upper_bound")
        else:
            upper = _number(high, decimals, t) if interval and not math.isnan(high) else ""
        out.append(
            _Point(
                category=_category(category, series, t),
                value="" if math.isnan(value) else _number(value, decimals, t),
                low=_number(low, decimals, t) if interval and not math.isnan(low) else "",
                high=upper,
                note=series.notes[i] if i < len(series.notes) else "",
                number=value,
                rank=series.ranks[i] if i < len(series.ranks) else float(i),
            )
        )
    return out


def _said(point: _Point, t: Translator) -> str:
    """One point in words: "2015: 82", "6.6 (interval 4.5 to 8.7)", or its note."""
    low, high = point.low or t("sym.missing"), point.high or t("sym.missing")
    if point.value and (point.low or point.high):
        text = t("chart.interval", value=point.value, low=low, high=high)
    elif point.low or point.high:  # a band, or an interval without its estimate
        text = t("chart.between", low=low, high=high)
    else:
        text = point.value or point.note or t("chart.not_drawn")
    return f"{point.category}: {text}"


def _sentence(series: Series, t: Translator, named: bool) -> str:
    points = _points(series, t)
    # a series' name, unless it names its only point (the sensitivity's "Original")
    alone = len(series.categories) == 1 and series.categories[0] == series.name
    prefix = f"{series.name}: " if named and series.name and not alone else ""
    shown = [p for p in points if p.drawn or p.note]
    if not shown:
        return prefix + t("chart.none_drawn")
    if len(points) <= LISTED:
        return prefix + "; ".join(_said(p, t) for p in points) + "."
    numbered = [p for p in points if p.value]
    if not numbered:  # a band: where it is drawn
        return prefix + t("chart.between", low=shown[0].category, high=shown[-1].category) + "."
    low = min(numbered, key=lambda p: p.number)
    high = max(numbered, key=lambda p: p.number)
    ends = {id(numbered[0]), id(numbered[-1])}
    rising_or_falling = id(low) in ends and id(high) in ends
    text = t(
        "chart.from_to" if rising_or_falling else "chart.range",
        first=numbered[0].value,
        first_at=numbered[0].category,
        last=numbered[-1].value,
        last_at=numbered[-1].category,
        low=low.value,
        low_at=low.category,
        high=high.value,
        high_at=high.category,
    )
    if len(points) > len(numbered):
        text += " " + t("chart.gaps", n=len(points) - len(numbered))
    return prefix + text


def describe(fig: go.Figure | dict[str, Any], t: Translator, chart: ChartData | None = None) -> str:
    """The chart's text alternative: its title, kind and axes, then each series' numbers
    (each value when few, else first, last, lowest and highest) and its reference lines.
    chart: the figure as `read_chart` read it already."""
    chart = chart or read_chart(fig)
    kinds = {s.kind for s in chart.series}
    kind = "bar" if kinds == {"bar"} else "line" if kinds & {"line", "band"} else "points"
    axes = [
        t("chart.axis_x", axis=chart.x_title) if chart.x_title else "",
        t("chart.axis_y", axis=chart.y_title) if chart.y_title else "",
    ]
    words = [
        chart.title + "." if chart.title else "",
        t(f"chart.kind.{kind}") + "".join("; " + a for a in axes if a) + ".",
    ]
    if not chart.series:
        words.append(t("chart.none_drawn"))
    named = len(chart.series) > 1
    words += [_sentence(s, t, named) for s in chart.series]
    decimals = _value_decimals(chart.series[0]) if chart.series else 1
    words += [f"{name}: {_number(value, decimals, t)}." for name, value in chart.references]
    return " ".join(w for w in words if w)


# --- the data table --------------------------------------------------------------------------


@dataclass
class DataTable:
    """A chart's plotted values as a table: headers (text, numeric) and rows (a header
    cell naming the point, then its cells, each (text, numeric))."""

    caption: str
    headers: list[tuple[str, bool]]
    rows: list[tuple[str, list[tuple[str, bool]]]]


def data_table(
    fig: go.Figure | dict[str, Any], t: Translator, chart: ChartData | None = None
) -> DataTable:
    """The plotted values of a chart, one row per point: category, series (when several),
    value, interval and note; or, when the series share their categories (years, years
    since entry, covariates), one row per category with a column (or three) per series.
    chart: the figure as `read_chart` read it already."""
    chart = chart or read_chart(fig)
    series = chart.series
    per = [_points(s, t) for s in series]
    first = series[0] if series else None
    headers = [((first.category_axis if first else "") or t("chart.col.category"), False)]
    ranks: dict[str, float] = {}
    counts: dict[str, int] = {}
    for points in per:
        for p in points:
            ranks.setdefault(p.category, p.rank)
            counts[p.category] = counts.get(p.category, 0) + 1
    with_value = [any(p.value for p in points) for points in per]
    with_interval = [any(p.low or p.high for p in points) for points in per]
    with_note = [any(p.note for p in points) for points in per]
    rows: list[tuple[str, list[tuple[str, bool]]]] = []
    shared = len(series) > 1 and any(n > 1 for n in counts.values())
    if shared:  # one row per category, columns per series
        for i, s in enumerate(series):
            name = s.name or s.value_axis or t("chart.col.value")
            headers += [(name, True)] if with_value[i] else []
            if with_interval[i]:
                headers.append((t("chart.col.series_low", series=name), True))
                headers.append((t("chart.col.series_high", series=name), True))
            headers += [(t("chart.col.series_note", series=name), False)] if with_note[i] else []
        found = [{p.category: p for p in points} for points in per]
        for category in sorted(ranks, key=lambda c: ranks[c]):
            cells: list[tuple[str, bool]] = []
            for i in range(len(series)):
                at = found[i].get(category)
                cells += [(at.value if at else "", True)] if with_value[i] else []
                cells += [(at.low if at else "", True)] if with_interval[i] else []
                cells += [(at.high if at else "", True)] if with_interval[i] else []
                cells += [(at.note if at else "", False)] if with_note[i] else []
            rows.append((category, cells))
    else:  # one row per point
        named, bounds, notes = len(series) > 1, any(with_interval), any(with_note)
        value_title = next((s.value_axis for s in series if s.value_axis), "")
        headers += [(t("chart.col.series"), False)] if named else []
        headers.append((value_title or t("chart.col.value"), True))
        headers += [(t("chart.col.low"), True), (t("chart.col.high"), True)] if bounds else []
        headers += [(t("col.note"), False)] if notes else []
        listed = [(s, p) for s, points in zip(series, per, strict=True) for p in points]
        if len({s.axis_id for s in series}) == 1:  # one axis: in its order across series
            listed.sort(key=lambda sp: sp[1].rank)
        for s, p in listed:
            cells = [(s.name, False)] if named else []
            cells.append((p.value or ("" if p.note or p.drawn else t("sym.missing")), True))
            cells += [(p.low, True), (p.high, True)] if bounds else []
            cells += [(p.note, False)] if notes else []
            rows.append((p.category, cells))
    decimals = _value_decimals(first) if first is not None else 1
    for name, reference in chart.references:  # a reference line: a row, its value first
        cells = [(_number(reference, decimals, t), True)]
        if not shared and len(series) > 1:
            cells.insert(0, ("", False))
        cells += [("", False)] * (len(headers) - 1 - len(cells))
        rows.append((name, cells))
    return DataTable(caption=chart.title, headers=headers, rows=rows)


def table_html(table: DataTable) -> Markup:
    """The table's HTML: a caption, column headers and a row header per point."""

    # plain strings of escaped text, joined once: a Markup per cell costs more than its
    # table (a chart's table has hundreds of cells)
    def cell(tag: str, text: str, numeric: bool, scope: str = "") -> str:
        attributes = (f' scope="{scope}"' if scope else "") + (' class="num"' if numeric else "")
        return f"<{tag}{attributes}>{escape(text)!s}</{tag}>"

    head = "".join(cell("th", text, numeric, "col") for text, numeric in table.headers)
    body = "".join(
        "<tr>"
        + cell("th", name, False, "row")
        + "".join(cell("td", text, numeric) for text, numeric in cells)
        + "</tr>"
        for name, cells in table.rows
    )
    caption = str(escape(table.caption))
    # a wide table scrolls: the region takes the keyboard's focus, so that keys scroll it
    return Markup(
        f'<div class="table-wrap" role="region" aria-label="{caption}" tabindex="0">'
        f'<table class="chart-table compact"><caption>{caption}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


# --- the page's charts ----------------------------------------------------------------------


class Charts:
    """Numbered charts of an edition's pages (stable ids, so an edition is reproducible),
    each with its text alternative and data table, and the charts chosen for PNG export."""

    def __init__(self, t: Translator | str = "en") -> None:
        """t: the edition's translator (or its language)."""
        self.t = t if isinstance(t, Translator) else Translator(t)  # type: ignore[arg-type]
        self.count = 0
        self.for_images: dict[str, go.Figure] = {}
        self.config = {**PLOTLY_CONFIG, "locale": self.t.lang}

    def div(self, fig: go.Figure, image: str | None = None) -> Markup:
        """The chart for a page: the plot (an image named by its title and described by
        its text alternative), the text alternative, and its data table; `image` names
        its PNG, if it gets one."""
        self.count += 1
        if image:
            self.for_images[image] = fig
        t, ident = self.t, f"chart-{self.count}"
        spec = fig.to_dict()  # once, for the plot, its text alternative and its data table
        chart = read_chart(spec)
        title = chart.title
        # our own plotly output: safe to insert unescaped into the autoescaped template
        plot = Markup(
            pio.to_html(
                spec,
                full_html=False,
                include_plotlyjs=False,
                div_id=ident,
                config=self.config,
                post_script=ACCESSIBLE_SVG,
                validate=False,  # a figure's own dict
            )
        )
        return Markup(
            '<div class="chart-plot" role="img" aria-label="{title}" '
            'aria-describedby="{ident}-alt">{plot}</div>'
            '<p class="chart-alt" id="{ident}-alt">{alt}</p>'
            '<details class="chart-data"><summary>{summary}</summary>{table}</details>'
        ).format(
            title=title or t("chart.kind.points"),
            ident=ident,
            plot=plot,
            alt=describe(spec, t, chart),
            summary=t("chart.data_table"),
            table=table_html(data_table(spec, t, chart)),
        )
