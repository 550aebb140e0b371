"""Figure builders: pure functions from a published table to a plotly figure.

They receive tables after disclosure control (suppressed cells are empty), so a chart can
never show what its table hides; missing points are simply not drawn. Every visible word
comes from the edition's `Translator`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports.charts import DECORATION, intervals
from reports.i18n import Translator
from reports.reasons import row_text
from reports.scales import GROSS, WARNINGS, benchmark_kind
from reports.tables import ROI_METRICS

# Chart colours: every mark at least 3:1 against the white plot (WCAG 1.4.11), every text
# at least 4.5:1 (1.4.3): the page's ink for words, the palette only for marks
INK = "#1d2a33"  # 14.7:1
COLORS = {
    "beneficiaries": "#1f6f8b",  # 5.7:1
    "comparison": "#c8553d",  # 4.4:1
    "truth": "#2a9d8f",  # 3.3:1
    "benchmark": "#7b879c",  # 3.6:1
    "self_reported": "#c47f17",  # 3.3:1
    "before": "#c8553d",
    "after": "#1f6f8b",
}
PALETTE = ["#1f6f8b", "#c8553d", "#2a9d8f", "#c47f17", "#6d597a", "#457b9d", "#b56576"]
# a small template instead of plotly_white: the full one adds ~10 kB to every chart
TEMPLATE = go.layout.Template(
    layout={
        "font": {
            "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
            "size": 13,
            "color": INK,
        },
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": PALETTE,
        "xaxis": {"gridcolor": "#e8ecef", "zerolinecolor": "#c5ccd3", "automargin": True},
        "yaxis": {"gridcolor": "#e8ecef", "zerolinecolor": "#c5ccd3", "automargin": True},
        # the legend above the plot, under the title: below it, it met the axis title
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "xanchor": "left"},
        "hoverlabel": {"font": {"size": 12}},
        # the toolbar's icons at 5.3:1 (plotly's default grey is 1.6:1)
        "modebar": {"color": "#5d6d78", "activecolor": INK, "bgcolor": "rgba(255,255,255,0.85)"},
    }
)
# lines told apart by more than their colour (WCAG 1.4.1): a marker or dash of their own
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
# A title longer than this many characters is broken over lines: half the page's width
# (a chart in a two-column grid at 1280 px) holds about 50 beside plotly's toolbar
TITLE_WIDTH = 48


def wrap(text: str, width: int = TITLE_WIDTH) -> str:
    """A chart title broken (plotly's <br>) into lines of at most `width` characters,
    so that a long one is not cut off at the edge of a half-width chart."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


class Draft:
    """A figure being drawn, kept as plotly's plain data (traces, shapes, annotations)
    until `_layout` makes it a figure. Plotly validates a figure's every property on each
    `add_*` and `update_layout` call, and its `add_vline` also copies a whole template:
    building the figure once from data costs a fraction of that, for the same figure.
    The methods take plotly's arguments (nested dicts, no magic underscores)."""

    def __init__(self) -> None:
        """An empty figure."""
        self.data: list[dict[str, Any]] = []
        self.shapes: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def add_scatter(self, **trace: Any) -> None:
        """A scatter trace (plotly's `go.Scatter` arguments)."""
        self.data.append(_copied({"type": "scatter", **trace}))

    def add_bar(self, **trace: Any) -> None:
        """A bar trace (plotly's `go.Bar` arguments)."""
        self.data.append(_copied({"type": "bar", **trace}))

    def add_vline(
        self,
        x: float,
        line: dict[str, Any],
        name: str | None = None,
        annotation: str | None = None,
    ) -> None:
        """A vertical line across the plot at x (`go.Figure.add_vline`); `annotation`:
        a text above the plot at the line."""
        shape = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1}
        self.shapes.append({**shape, "yref": "y domain", "line": line})
        if name is not None:
            self.shapes[-1]["name"] = name
        if annotation is not None:
            self.annotations.append(
                {
                    "showarrow": False,
                    "text": annotation,
                    "x": x,
                    "xanchor": "center",
                    "xref": "x",
                    "y": 1,
                    "yanchor": "bottom",
                    "yref": "y domain",
                }
            )

    def add_hline(self, y: float, line: dict[str, Any]) -> None:
        """A horizontal line across the plot at y (`go.Figure.add_hline`)."""
        shape = {"type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": y, "y1": y}
        self.shapes.append({**shape, "yref": "y", "line": line})

    def add_vrect(self, x0: float, x1: float, **style: Any) -> None:
        """A band across the plot from x0 to x1 (`go.Figure.add_vrect`)."""
        band = {"type": "rect", "x0": x0, "x1": x1, "xref": "x", "y0": 0, "y1": 1}
        self.shapes.append({**band, "yref": "y domain", **style})


def _copied(trace: dict[str, Any]) -> dict[str, Any]:
    # the lists as they are now, as plotly's add_* keeps them: a list the caller extends
    # later (more labels) is not the trace's
    return {k: list(v) if isinstance(v, list) else v for k, v in trace.items()}


def _layout(fig: Draft, t: Translator, title: str, height: int = 380, **more: Any) -> go.Figure:
    """The figure of a draft: its title, size, margins, the edition's number separators
    and the page's template, and `more` layout (plotly's `update_layout` arguments)."""
    # room above the plot for the title's lines and, when plotly draws one (two or more
    # traces), the legend
    legend = more.get("showlegend", True) is not False and (
        sum(trace.get("showlegend") is not False for trace in fig.data) > 1
    )
    text = wrap(title)
    top = 30 + 20 * (text.count("<br>") + 1) + (30 if legend else 0)
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "title": {
            "text": text,
            "x": 0.01,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": 12},  # a two-line title's first line stays inside the chart
            "font": {"size": 15},
        },
        "margin": {"l": 60, "r": 20, "t": top, "b": 50},
        "height": height + top - 50,
        "separators": t.separators,
    }
    for key, value in more.items():
        if key in ("xaxis_title", "yaxis_title"):  # plotly's shorthand for the axis title
            key, value = key.removesuffix("_title"), {"title": {"text": value}}
        layout[key] = _merged(layout.get(key), value)
    if fig.shapes:
        layout["shapes"] = fig.shapes
    if fig.annotations:
        layout["annotations"] = fig.annotations
    # not validated property by property: the drafts are this module's own dicts, and
    # plotly's validation costs a quarter of a program page's build;
    # tests/test_figures.py validates every figure of the demo's editions instead
    return go.Figure({"data": fig.data, "layout": layout}, _validate=False)


def _merged(old: object, new: object) -> object:
    """`new` over `old`, dicts key by key (as plotly's update merges them)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{k: _merged(old.get(k), v) for k, v in new.items()}}
    return new


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()


def _with_data(rows: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows from the first year with data to the last: the zeros of the years before a
    program started, or after its data end (a quarterly edition's year so far, a program
    that closed), are not drawn as if the program had served no firm. A suppressed year
    (an empty cell) counts as a year with data; zeros between years with data stay."""
    rows = rows.sort_values("year")
    values = pd.DataFrame({c: pd.to_numeric(rows[c], errors="coerce") for c in columns})
    active = (values.isna() | (values != 0)).any(axis=1).to_numpy()
    if not active.any():
        return rows.iloc[:0]
    where = np.flatnonzero(active)
    return rows.iloc[where[0] : where[-1] + 1]


def _years(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[~rows["is_total"].astype(bool) & rows["year"].notna()]


YEAR_AXIS = {"tickformat": "d"}  # 2015, not 2,015 or 2.015
MONEY_AXIS = {"tickformat": ",", "rangemode": "tozero"}  # 7,000,000 / 7.000.000, not 7M


def reach_overview_figure(
    reach_by_year: pd.DataFrame, names: dict[str, str], t: Translator
) -> go.Figure:
    """Firms entering each program per year, from each program's first year with data to
    its last (suppressed years are gaps)."""
    fig = Draft()
    for program_id, group in _years(reach_by_year).groupby("program_id", sort=True):
        group = _with_data(group, ["firms_entering"])
        if group.empty:
            continue
        fig.add_scatter(
            x=group["year"].astype(int),
            y=_numbers(group["firms_entering"]),
            mode="lines+markers",
            marker={"symbol": SYMBOLS[len(fig.data) % len(SYMBOLS)], "size": 7},
            name=names.get(str(program_id), str(program_id)),
            connectgaps=False,
            hovertemplate="%{x}: %{y} " + t("unit.firms") + "<extra></extra>",
        )
    return _layout(
        fig,
        t,
        t("fig.reach_overview"),
        xaxis={**YEAR_AXIS, "title": {"text": t("col.year")}},
        yaxis={"title": {"text": t("unit.firms_title")}, "rangemode": "tozero"},
    )


def cost_per_firm_figure(
    portfolio: pd.DataFrame, names: dict[str, str], t: Translator
) -> go.Figure:
    """Public cost per firm served, constant USD, per program, each bar with its value."""
    rows = portfolio[~portfolio["is_total"].astype(bool)]
    costs = _numbers(rows["cost_per_firm_usd"])
    top = float(np.nanmax(costs)) if np.isfinite(costs).any() else 0.0
    top = top if top > 0 else 1.0
    fig = Draft()
    fig.add_bar(
        y=[names.get(str(p), str(p)) for p in rows["program_id"]],
        x=costs,
        orientation="h",
        marker={"color": COLORS["beneficiaries"]},
        texttemplate="%{x:,.0f}",
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}<br>US$ %{x:,.0f}<extra></extra>",
    )
    return _layout(
        fig,
        t,
        t("fig.cost_per_firm"),
        height=max(260, 140 + 40 * len(rows)),
        # room right of the longest bar for its value
        xaxis={**MONEY_AXIS, "title": {"text": t("unit.usd")}, "range": [0, 1.3 * top]},
        yaxis={"autorange": "reversed"},
    )


def entering_figure(reach_by_year: pd.DataFrame, t: Translator) -> go.Figure:
    """One program: firms entering per year (bars), from its first year with data to its
    last."""
    rows = _with_data(_years(reach_by_year), ["firms_entering", "public_cost_usd"])
    fig = Draft()
    fig.add_bar(
        x=rows["year"].astype(int),
        y=_numbers(rows["firms_entering"]),
        marker={"color": COLORS["beneficiaries"]},
        hovertemplate="%{x}: %{y} " + t("unit.firms") + "<extra></extra>",
    )
    return _layout(
        fig,
        t,
        t("fig.entering"),
        xaxis={**YEAR_AXIS, "title": {"text": t("col.year")}},
        yaxis_title=t("unit.firms_title"),
    )


def spending_figure(reach_by_year: pd.DataFrame, t: Translator) -> go.Figure:
    """One program: public cost of the services started each year, constant USD, from its
    first year with data to its last."""
    rows = _with_data(_years(reach_by_year), ["firms_entering", "public_cost_usd"])
    fig = Draft()
    fig.add_bar(
        x=rows["year"].astype(int),
        y=_numbers(rows["public_cost_usd"]),
        marker={"color": COLORS["self_reported"]},
        hovertemplate="%{x}: US$ %{y:,.0f}<extra></extra>",
    )
    return _layout(
        fig,
        t,
        t("fig.spending"),
        xaxis={**YEAR_AXIS, "title": {"text": t("col.year")}},
        yaxis={**MONEY_AXIS, "title": {"text": t("unit.usd")}},
    )


# the size classes of warehouse/models/marts/mart_evaluation_panel.sql, small to large
SIZE_CLASSES = ("micro (<10)", "small (10-49)", "medium (50-249)", "large (250+)")
ORDERED = ("cohort", "size_class")  # dimensions whose groups have an order of their own


def group_order(
    dimension: str,
    values: Sequence[object],
    sizes: Sequence[float] = (),
    names: Sequence[str] = (),
) -> list[int]:
    """The positions of a dimension's groups in the order a chart lists them: size classes
    small to large and entry cohorts from the earliest, as they are ordered; other groups
    (sectors, regions) by `sizes` when given (largest first), else by their `names` (the
    words shown; else the codes); "unknown" and groups outside the known classes last."""

    def key(i: int) -> tuple[int, float, str]:
        code = str(values[i])
        name = str(names[i]) if i < len(names) else code
        if code in ("unknown", "total"):
            return (2, 0.0, name)
        if dimension == "size_class":
            known = code in SIZE_CLASSES
            return (0 if known else 1, float(SIZE_CLASSES.index(code)) if known else 0.0, name)
        if dimension == "cohort":
            number = pd.to_numeric(pd.Series([code]), errors="coerce").iloc[0]
            return (0, float(number), name) if pd.notna(number) else (1, 0.0, name)
        size = float(sizes[i]) if i < len(sizes) and pd.notna(sizes[i]) else 0.0
        return (0, -size if len(sizes) else 0.0, name.casefold())

    return sorted(range(len(values)), key=key)


def group_reach_figure(reach_by_group: pd.DataFrame, t: Translator) -> go.Figure:
    """One program: firms served by size class, sector and region (horizontal bars), size
    classes small to large, sectors and regions largest first."""
    rows = reach_by_group[~reach_by_group["is_total"].astype(bool)]
    dimensions = [d for d in ("size_class", "sector", "region") if (rows["dimension"] == d).any()]
    counts = [max(1, int((rows["dimension"] == d).sum())) for d in dimensions] or [1]
    height = 180 + 22 * sum(counts)
    # one panel per dimension, as plotly's make_subplots lays them out: about 80 px
    # between panels, the ticks of one, then the title of the next
    domains = row_domains(counts, min(0.2, 80 / height))
    fig = Draft()
    axes: dict[str, dict[str, Any]] = {}
    for i, domain in enumerate(domains, start=1):
        n = "" if i == 1 else str(i)
        axes[f"xaxis{n}"] = {"anchor": f"y{n}", "domain": [0.0, 1.0]}
        axes[f"yaxis{n}"] = {"anchor": f"x{n}", "domain": domain}
        if i > len(dimensions):
            continue
        d = dimensions[i - 1]
        group = rows[rows["dimension"] == d]
        served = _numbers(group["firms_served"])
        labels = [t.code(d, str(v)) for v in group["value"]]
        sizes = [] if d in ORDERED else list(served)
        order = group_order(d, list(group["value"]), sizes, labels)
        fig.add_bar(
            x=served[order],
            y=[labels[j] for j in order],
            orientation="h",
            name=t(f"dimension.{d}"),
            marker={"color": COLORS["beneficiaries"]},
            showlegend=False,
            hovertemplate="%{y}: %{x} " + t("unit.firms") + "<extra></extra>",
            xaxis=f"x{n}",
            yaxis=f"y{n}",
        )
        axes[f"yaxis{n}"]["autorange"] = "reversed"  # the first group on top, as it is read
        # the panel's title above it
        fig.annotations.append(
            {
                "font": {"size": 16},
                "showarrow": False,
                "text": t(f"dimension.{d}"),
                "x": 0.5,
                "xanchor": "center",
                "xref": "paper",
                "y": domain[1],
                "yanchor": "bottom",
                "yref": "paper",
            }
        )
    if dimensions:
        axes[f"xaxis{'' if len(dimensions) == 1 else len(dimensions)}"]["title"] = {
            "text": t("unit.firms_title")
        }
    return _layout(fig, t, t("fig.group_reach"), height=height + 40 * len(dimensions), **axes)


def row_domains(heights: Sequence[float], spacing: float) -> list[list[float]]:
    """The vertical domains (bottom, top) of panels stacked top to bottom with these
    relative heights and this spacing, computed as plotly's make_subplots computes them
    (the same floating-point sums), so that a figure drawn without it is the same."""
    rows = len(heights)
    total = float(sum(heights))
    scaled = [(1.0 - spacing * (rows - 1)) * (h / total) for h in heights]
    bottom_up = list(reversed(scaled))
    domains = []
    for r in range(rows):  # from the top
        start = sum(bottom_up[: rows - 1 - r]) + (rows - 1 - r) * spacing
        low, high = start + 0.0, start + bottom_up[-1 - r] - 0.0
        # plotly rounds what float sums put just outside [0, 1]
        domains.append([min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)])
    return domains


def _interval(
    estimate: np.ndarray, low: pd.Series, high: pd.Series, *, missing: float = np.nan
) -> dict[str, Any]:
    """Plotly error bars from an interval's bounds (a missing or unbounded one: `missing`)."""
    with np.errstate(invalid="ignore"):  # inf - inf (an unbounded ratio): handled below
        up, down = _numbers(high) - estimate, estimate - _numbers(low)
    return {
        "type": "data",
        "symmetric": False,
        "array": np.where(np.isfinite(up), up, missing),
        "arrayminus": np.where(np.isfinite(down), down, missing),
    }


def event_study_figure(
    rows: pd.DataFrame, t: Translator, outcome: str, truth: pd.DataFrame | None = None
) -> go.Figure:
    """Effects by years since entry with 95% intervals, the simultaneous 95% band where
    estimated (shaded), and the planted truth where known."""
    rows = rows.sort_values("event_time")
    effect = _numbers(rows["effect"])
    fig = Draft()
    banded = rows.dropna(subset=["band_low", "band_high"]) if "band_low" in rows else rows[:0]
    if len(banded):  # the simultaneous band: shaded, under the pointwise intervals
        x = banded["event_time"].astype(int)
        fig.add_scatter(
            x=x,
            y=_numbers(banded["band_high"]),
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=x,
            y=_numbers(banded["band_low"]),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(31, 119, 180, 0.15)",
            name=t("fig.uniform_band"),
            hoverinfo="skip",
        )
    fig.add_scatter(
        x=rows["event_time"].astype(int),
        y=effect,
        mode="markers",
        name=t("fig.estimate_ci"),
        marker={"color": COLORS["beneficiaries"]},
        error_y=_interval(effect, rows["ci_low"], rows["ci_high"]),
        hovertemplate="%{x}: %{y:.1f}<extra></extra>",
    )
    if truth is not None and len(truth):
        fig.add_scatter(
            x=truth["event_time"],
            y=truth["effect"],
            mode="lines",
            name=t("fig.planted"),
            line={"color": COLORS["truth"], "dash": "dash"},
        )
    fig.add_hline(0, {"color": "#888", "width": 1})
    fig.add_vline(-0.5, {"color": "#bbb", "dash": "dot"})
    unit = t(f"unit.{rows['unit'].iloc[0]}") if len(rows) else ""
    return _layout(
        fig,
        t,
        t("fig.event_study", outcome=t.code("outcome", outcome)),
        xaxis_title=t("fig.years_since_entry"),
        yaxis_title=unit,
    )


def forest_figure(rows: pd.DataFrame, t: Translator, outcome: str) -> go.Figure:
    """Effects by entry cohort, size class, sector and region with 95% intervals; the
    dashed line is the effect on all beneficiaries."""
    total = rows[rows["is_total"].astype(bool)]
    groups = rows[~rows["is_total"].astype(bool)]
    parts = groups[pd.to_numeric(groups["effect"], errors="coerce").notna()]
    # groups not estimated are named with their status (the reason on hover); suppressed
    # ones, which have no reason, are simply not drawn
    reasons = [row_text(row, t) for _, row in groups.iterrows()]
    absent = groups[[r is not None for r in reasons]]
    why = [r for r in reasons if r is not None]

    def label(d: object, v: object) -> str:
        return f"{t('dimension.' + str(d))}: {t.code(str(d), str(v))}"

    # every group in its place: dimensions as the table lists them, cohorts from the
    # earliest and size classes small to large within them, the groups not estimated too
    order: list[str] = []
    for d in pd.unique(groups["dimension"]):
        values = list(groups.loc[groups["dimension"] == d, "value"])
        names = [t.code(str(d), str(v)) for v in values]
        order += [label(d, values[i]) for i in group_order(str(d), values, names=names)]
    labels = [label(d, v) for d, v in zip(parts["dimension"], parts["value"], strict=True)]
    effect = _numbers(parts["effect"])
    fig = Draft()
    fig.add_scatter(
        x=effect,
        y=labels,
        mode="markers",
        name=t("fig.estimate_ci"),
        marker={"color": COLORS["beneficiaries"]},
        error_x=_interval(effect, parts["ci_low"], parts["ci_high"]),
        hovertemplate="%{y}: %{x:.1f}<extra></extra>",
    )
    if len(absent):
        absent_labels = [
            label(d, v) for d, v in zip(absent["dimension"], absent["value"], strict=True)
        ]
        fig.add_scatter(
            x=[0.0] * len(absent),
            y=absent_labels,
            mode="text",
            text=[r.split(":")[0] for r in why],
            textposition="middle right",
            textfont={"color": "#4f5b66", "size": 11},  # 7:1
            hovertext=why,
            hoverinfo="text",
            name=t("status.not_estimated"),
        )
        labels += absent_labels
    overall = _numbers(total["effect"])
    if len(overall) and not math.isnan(overall[0]):
        fig.add_vline(
            float(overall[0]),
            {"color": COLORS["comparison"], "dash": "dash"},
            name=t("fig.all_beneficiaries"),  # a reference value (reports.charts)
            annotation=t("fig.all_beneficiaries"),
        )
    fig.add_vline(0, {"color": "#888", "width": 1})
    unit = t(f"unit.{rows['unit'].iloc[0]}") if len(rows) else ""
    return _layout(
        fig,
        t,
        t("fig.forest", outcome=t.code("outcome", outcome)),
        height=max(300, 120 + 24 * len(labels)),
        xaxis_title=unit,
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": order},
        showlegend=False,
    )


def roi_figure(roi: pd.DataFrame, benchmarks: pd.DataFrame, t: Translator, kind: str) -> go.Figure:
    """Return per public dollar (kind "return") or cost per job (kind "cost_per_job"):
    the program's counterfactual figures (each named with its scale, and a warning sign
    when neither scale's pre-entry test passes) and self-reported ones, beside the
    benchmarks, each benchmark named as gross (clients' self-reports) or modelled.

    Horizontal bars on a linear axis, with each value printed beside its bar and the 95%
    interval as error bars. The figures compared can differ a hundredfold (a return of 2
    beside the MEP's 30, a cost per job of 500 beside 70,000): a log axis with one tick
    hid how much larger one is, and cannot show an interval that reaches zero or below.
    On a linear axis the small bars are short but never unreadable, because their value
    is printed; that needs neither a broken axis nor a second panel. The labels are a
    text trace placed past the end of the interval, so they never sit on an error bar.
    An interval without an upper end (cost per job when the jobs interval includes zero)
    is drawn as an arrow to the edge of the chart, labelled "unbounded"."""
    if kind == "return":
        mine = roi[roi["metric"].isin(["value_added_per_dollar", "sales_per_dollar"])]
        bench = benchmarks[benchmarks["metric"] == "return_per_dollar"]
        title, axis, decimals = t("fig.roi_return"), t("unit.usd_per_usd"), 1
    else:
        mine = roi[roi["metric"] == "cost_per_job"]
        bench = benchmarks[benchmarks["metric"] == "cost_per_job"]
        title, axis, decimals = t("fig.roi_cost_per_job"), t("unit.usd_per_job"), 0
    bases = {"counterfactual": 0, "self_reported": 1}
    metrics = {m: i for i, m in enumerate(ROI_METRICS)}
    mine = mine.assign(
        _basis=mine["basis"].map(bases).fillna(len(bases)),
        _metric=mine["metric"].map(metrics).fillna(len(metrics)),
    ).sort_values(["_basis", "_metric"], kind="stable")
    rows: list[dict[str, Any]] = []  # one per bar: label, basis, value, interval
    for _, row in mine.iterrows():
        basis = str(row["basis"])
        words = [t.code("basis", basis)]
        scale = row.get("scale")
        if isinstance(scale, str) and scale and t.has(f"scale.{scale}"):
            words.append(t(f"scale.{scale}"))
        # two lines, so that the labels leave the bars most of the chart's width
        label = f"{t.code('metric', str(row['metric']))}<br>({', '.join(words)})"
        choice = row.get("scale_choice")
        warn = isinstance(choice, str) and choice in WARNINGS
        why = row_text(row, t)
        if why is not None:  # no bar: say why
            label += f": {why.split(':')[0]}"
        elif warn:
            label += " ⚠"
        rows.append(
            {
                "label": label,
                "group": "counterfactual" if basis == "counterfactual" else "self_reported",
                "value": _numbers(pd.Series([row["estimate"]]))[0],
                "low": _numbers(pd.Series([row.get("ci_low")]))[0],
                "high": _numbers(pd.Series([row.get("ci_high")]))[0],
                "hover": t(f"scale_choice.{choice}") if warn else "",
            }
        )
    for b in bench.itertuples():
        gross = benchmark_kind(getattr(b, "basis", None)) == GROSS
        rows.append(
            {
                "label": t(
                    "fig.benchmark",
                    program=b.program,
                    country=b.country,
                    kind=t("bench_kind.gross" if gross else "bench_kind.modelled"),
                ),
                "group": "bench_gross" if gross else "bench_modelled",
                "value": float(b.value),
                "low": np.nan,
                "high": np.nan,
                "hover": t.code("bench", getattr(b, "basis", "")),  # the source's method
            }
        )
    labels = [r["label"] for r in rows]
    finite = [
        v
        for r in rows
        for v in (r["value"], r["low"], r["high"])
        if isinstance(v, float) and math.isfinite(v)
    ]
    floor = min([*finite, 0.0])
    # where an unbounded interval's arrow ends: past every bar, and long enough to read
    starts = [
        r["value"] if math.isfinite(r["value"]) else r["low"]
        for r in rows
        if r["group"] == "counterfactual" and math.isinf(r["high"])
    ]
    edge = max([*finite, 0.0]) * 1.1 or 1.0
    edge = max([edge, *(1.5 * s for s in starts if math.isfinite(s))])
    styles = {
        "counterfactual": (t("basis.counterfactual"), COLORS["beneficiaries"], ""),
        "self_reported": (t("basis.self_reported"), COLORS["self_reported"], ""),
        "bench_gross": (t("bench_kind.gross"), COLORS["benchmark"], "/"),
        "bench_modelled": (t("bench_kind.modelled"), COLORS["benchmark"], ""),
    }
    fig = Draft()
    for group, (name, color, pattern) in styles.items():
        part = [r for r in rows if r["group"] == group]
        if not part:
            continue
        value = np.array([r["value"] for r in part], dtype=float)
        bar: dict[str, Any] = {
            "y": [r["label"] for r in part],
            "x": np.where(np.isfinite(value), value, np.nan),
            "orientation": "h",
            "name": name,
            "marker": {"color": color, "pattern": {"shape": pattern}},
            "hovertext": [r["hover"] for r in part],
            "hovertemplate": "%{y}: %{x:,." + str(decimals) + "f}<br>%{hovertext}<extra></extra>",
        }
        if group == "counterfactual":
            bar["error_x"] = _interval(
                value,
                pd.Series([r["low"] for r in part]),
                pd.Series([r["high"] for r in part]),
                missing=0.0,
            )
            # the error bar stops at the estimate where the interval has no upper end,
            # and has no bar to hang from where there is no estimate: the bounds as they are
            bar["meta"] = intervals([r["low"] for r in part], [r["high"] for r in part])
        fig.add_bar(**bar)
    for r in rows:  # an interval without an upper end: an arrow to the edge, labelled
        if not (r["group"] == "counterfactual" and math.isinf(r["high"])):
            continue
        start = r["value"] if math.isfinite(r["value"]) else r["low"]
        start = start if math.isfinite(start) else 0.0
        fig.add_scatter(
            x=[start, (start + edge) / 2, edge],
            y=[r["label"]] * 3,
            mode="lines+markers+text",
            line={"color": COLORS["beneficiaries"], "width": 1.5, "dash": "dot"},
            marker={
                "symbol": ["line-ns-open", "circle", "arrow-right"],
                "size": [12, 0, 12],
                "color": COLORS["beneficiaries"],
                "line": {"width": 2, "color": COLORS["beneficiaries"]},
            },
            text=["", t("fig.unbounded"), ""],
            textposition="top center",
            textfont={"size": 11, "color": COLORS["beneficiaries"]},
            name=t("fig.unbounded"),
            hoverinfo="skip",
            showlegend=False,
            meta=DECORATION,  # its points are places on the chart, not values
        )
    drawn = [r for r in rows if not math.isnan(r["value"])]  # suppressed: no label either
    ends = []
    for r in drawn:
        if math.isinf(r["high"]) or math.isinf(r["value"]):
            ends.append(edge)
        elif math.isfinite(r["high"]):
            ends.append(max(r["high"], r["value"]))
        else:
            ends.append(r["value"])
    pad = 0.01 * (edge * 1.3 - floor * 1.15)  # clear of the interval's end cap
    fig.add_scatter(  # the value labels, past each interval's end
        x=[end + pad for end in ends],
        y=[r["label"] for r in drawn],
        mode="text",
        text=[t.num(r["value"], decimals) for r in drawn],
        textposition="middle right",
        textfont={"size": 12},
        name=t("col.estimate"),
        hoverinfo="skip",
        showlegend=False,
        meta=DECORATION,  # the bars' values, already in the chart's data
    )
    xaxis: dict[str, Any] = {
        "title": {"text": axis},
        "type": "linear",
        "range": [floor * 1.15, edge * 1.3],  # room for the labels right of the longest bar
        "tickformat": ",",  # 25,000 / 25.000: the edition's separators, no "k"
    }
    return _layout(
        fig,
        t,
        title,
        height=max(280, 110 + 44 * len(labels)),
        xaxis=xaxis,
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels,
            "autorange": "reversed",
        },
        barmode="overlay",
        showlegend=False,  # each bar's label names its basis, scale and kind
    )


def balance_figure(balance: pd.DataFrame, t: Translator) -> go.Figure:
    """Standardized mean differences of the matching covariates before and after matching;
    |SMD| under 0.1 (shaded) is the usual balance target."""
    fig = Draft()
    dropped = balance["status"] if "status" in balance else pd.Series([None] * len(balance))
    labels = [
        t.code("covariate", str(c)) + (f" ({t('status.dropped')})" if s == "dropped" else "")
        for c, s in zip(balance["covariate"], dropped, strict=True)
    ]
    for when, symbol in (("before", "diamond"), ("after", "circle")):
        fig.add_scatter(
            x=_numbers(balance[f"smd_{when}"]),
            y=labels,
            mode="markers",
            marker={"size": 11, "color": COLORS[when], "symbol": symbol},  # not colour alone
            name=t(f"fig.{when}_matching"),
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    fig.add_vrect(-0.1, 0.1, fillcolor="#2a9d8f", opacity=0.12, line={"width": 0})
    fig.add_vline(0, {"color": "#888", "width": 1})
    return _layout(
        fig,
        t,
        t("fig.balance"),
        height=max(260, 160 + 30 * len(labels)),
        xaxis_title=t("fig.smd"),
        yaxis={"autorange": "reversed"},  # the covariates top down, as the table lists them
    )


def power_curve_figure(plans: Sequence[Any], names: dict[str, str], t: Translator) -> go.Figure:
    """The planning page's chart: power against the true effect (percent), one line per
    program (`evaluation.power.ProgramPlan`s), 80% marked."""
    fig = Draft()
    for i, plan in enumerate(plans):
        curve = plan.curve
        fig.add_scatter(
            x=100 * np.asarray(curve["effect"], dtype=float),
            y=100 * np.asarray(curve["power"], dtype=float),
            mode="lines",
            line={"dash": DASHES[i % len(DASHES)]},
            name=names.get(plan.program_id, plan.program_id),
            hovertemplate="%{x:.1f}%: %{y:.0f}%<extra></extra>",
        )
    fig.add_hline(80, {"dash": "dot", "color": "#6c757d"})
    return _layout(
        fig,
        t,
        t("planning.figure"),
        xaxis_title=t("planning.effect_axis"),
        yaxis_title=t("planning.power_axis"),
        yaxis={"range": [0, 100]},
    )
