"""Figure builders: pure functions from a published table to a plotly figure.

They receive tables after disclosure control (suppressed cells are empty), so a chart can
never show what its table hides; missing points are simply not drawn. Every visible word
comes from the edition's `Translator`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.i18n import Translator
from reports.reasons import row_text

COLORS = {
    "beneficiaries": "#1f6f8b",
    "comparison": "#c8553d",
    "truth": "#2a9d8f",
    "benchmark": "#8d99ae",
    "self_reported": "#e9a23b",
    "before": "#c8553d",
    "after": "#1f6f8b",
}
PALETTE = ["#1f6f8b", "#c8553d", "#2a9d8f", "#e9a23b", "#6d597a", "#457b9d", "#b56576"]
# a small template instead of plotly_white: the full one adds ~10 kB to every chart
TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": PALETTE,
        "xaxis": {"gridcolor": "#e8ecef", "zerolinecolor": "#c5ccd3", "automargin": True},
        "yaxis": {"gridcolor": "#e8ecef", "zerolinecolor": "#c5ccd3", "automargin": True},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
        "hoverlabel": {"font": {"size": 12}},
    }
)


def _layout(
    fig: go.Figure, t: Translator, title: str, height: int = 380, **more: object
) -> go.Figure:
    # room under the plot for a legend, when plotly will draw one (two or more traces)
    legend = more.get("showlegend", True) is not False and (
        sum(trace.showlegend is not False for trace in fig.data) > 1
    )
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        margin={"l": 60, "r": 20, "t": 50, "b": 100 if legend else 50},
        height=height + (40 if legend else 0),
        separators=t.separators,
        **more,
    )
    return fig


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()


def reach_overview_figure(
    reach_by_year: pd.DataFrame, names: dict[str, str], t: Translator
) -> go.Figure:
    """Firms entering each program per year (suppressed years are gaps)."""
    fig = go.Figure()
    rows = reach_by_year[~reach_by_year["is_total"].astype(bool)]
    for program_id, group in rows.groupby("program_id", sort=True):
        fig.add_scatter(
            x=group["year"].astype(int),
            y=_numbers(group["firms_entering"]),
            mode="lines+markers",
            name=names.get(str(program_id), str(program_id)),
            connectgaps=False,
            hovertemplate="%{x}: %{y} " + t("unit.firms") + "<extra></extra>",
        )
    return _layout(
        fig,
        t,
        t("fig.reach_overview"),
        xaxis_title=t("col.year"),
        yaxis_title=t("unit.firms_title"),
    )


def cost_per_firm_figure(
    portfolio: pd.DataFrame, names: dict[str, str], t: Translator
) -> go.Figure:
    """Public cost per firm served, constant USD, per program."""
    rows = portfolio[~portfolio["is_total"].astype(bool)]
    fig = go.Figure(
        go.Bar(
            y=[names.get(str(p), str(p)) for p in rows["program_id"]],
            x=_numbers(rows["cost_per_firm_usd"]),
            orientation="h",
            marker_color=COLORS["beneficiaries"],
            hovertemplate="%{y}<br>US$ %{x:,.0f}<extra></extra>",
        )
    )
    return _layout(
        fig,
        t,
        t("fig.cost_per_firm"),
        height=max(260, 140 + 40 * len(rows)),
        xaxis_title=t("unit.usd"),
        yaxis={"autorange": "reversed"},
    )


def entering_figure(reach_by_year: pd.DataFrame, t: Translator) -> go.Figure:
    """One program: firms entering per year (bars)."""
    rows = reach_by_year[~reach_by_year["is_total"].astype(bool)]
    fig = go.Figure(
        go.Bar(
            x=rows["year"].astype(int),
            y=_numbers(rows["firms_entering"]),
            marker_color=COLORS["beneficiaries"],
            hovertemplate="%{x}: %{y} " + t("unit.firms") + "<extra></extra>",
        )
    )
    return _layout(
        fig, t, t("fig.entering"), xaxis_title=t("col.year"), yaxis_title=t("unit.firms_title")
    )


def spending_figure(reach_by_year: pd.DataFrame, t: Translator) -> go.Figure:
    """One program: public cost of the services started each year, constant USD."""
    rows = reach_by_year[~reach_by_year["is_total"].astype(bool)]
    fig = go.Figure(
        go.Bar(
            x=rows["year"].astype(int),
            y=_numbers(rows["public_cost_usd"]),
            marker_color=COLORS["self_reported"],
            hovertemplate="%{x}: US$ %{y:,.0f}<extra></extra>",
        )
    )
    return _layout(fig, t, t("fig.spending"), xaxis_title=t("col.year"), yaxis_title=t("unit.usd"))


def group_reach_figure(reach_by_group: pd.DataFrame, t: Translator) -> go.Figure:
    """One program: firms served by size class, sector and region (horizontal bars)."""
    rows = reach_by_group[~reach_by_group["is_total"].astype(bool)]
    dimensions = [d for d in ("size_class", "sector", "region") if (rows["dimension"] == d).any()]
    counts = [max(1, int((rows["dimension"] == d).sum())) for d in dimensions] or [1]
    fig = make_subplots(
        rows=max(1, len(dimensions)),
        cols=1,
        subplot_titles=[t(f"dimension.{d}") for d in dimensions],
        row_heights=counts,
        vertical_spacing=0.08,
    )
    for i, d in enumerate(dimensions, start=1):
        group = rows[rows["dimension"] == d]
        fig.add_bar(
            x=_numbers(group["firms_served"]),
            y=[t.code(d, str(v)) for v in group["value"]],
            orientation="h",
            marker_color=COLORS["beneficiaries"],
            showlegend=False,
            hovertemplate="%{y}: %{x} " + t("unit.firms") + "<extra></extra>",
            row=i,
            col=1,
        )
    return _layout(fig, t, t("fig.group_reach"), height=160 + 22 * sum(counts))


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
    fig = go.Figure()
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
        marker_color=COLORS["beneficiaries"],
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
    fig.add_hline(y=0, line_color="#888", line_width=1)
    fig.add_vline(x=-0.5, line_color="#bbb", line_dash="dot")
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

    labels = [label(d, v) for d, v in zip(parts["dimension"], parts["value"], strict=True)]
    effect = _numbers(parts["effect"])
    fig = go.Figure()
    fig.add_scatter(
        x=effect,
        y=labels,
        mode="markers",
        name=t("fig.estimate_ci"),
        marker_color=COLORS["beneficiaries"],
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
            textfont={"color": "#6b7280", "size": 11},
            hovertext=why,
            hoverinfo="text",
            name=t("status.not_estimated"),
        )
        labels += absent_labels
    overall = _numbers(total["effect"])
    if len(overall) and not math.isnan(overall[0]):
        fig.add_vline(
            x=float(overall[0]),
            line_color=COLORS["comparison"],
            line_dash="dash",
            annotation_text=t("fig.all_beneficiaries"),
            annotation_position="top",
        )
    fig.add_vline(x=0, line_color="#888", line_width=1)
    unit = t(f"unit.{rows['unit'].iloc[0]}") if len(rows) else ""
    return _layout(
        fig,
        t,
        t("fig.forest", outcome=t.code("outcome", outcome)),
        height=max(300, 120 + 24 * len(labels)),
        xaxis_title=unit,
        yaxis={"autorange": "reversed"},
        showlegend=False,
    )


def roi_figure(roi: pd.DataFrame, benchmarks: pd.DataFrame, t: Translator, kind: str) -> go.Figure:
    """Return per public dollar (kind "return") or cost per job (kind "cost_per_job"):
    the program's counterfactual and self-reported figures beside the benchmarks."""
    if kind == "return":
        mine = roi[roi["metric"].isin(["value_added_per_dollar", "sales_per_dollar"])]
        bench = benchmarks[benchmarks["metric"] == "return_per_dollar"]
        title, axis = t("fig.roi_return"), t("unit.usd_per_usd")
    else:
        mine = roi[roi["metric"] == "cost_per_job"]
        bench = benchmarks[benchmarks["metric"] == "cost_per_job"]
        title, axis = t("fig.roi_cost_per_job"), t("unit.usd_per_job")
    fig = go.Figure()
    for basis, group in mine.groupby("basis", sort=True):
        estimate = _numbers(group["estimate"])
        status = [row_text(row, t) for _, row in group.iterrows()]
        fig.add_bar(
            y=[
                f"{t.code('metric', str(m))} ({t.code('basis', str(basis))})"
                + ("" if why is None else f": {why.split(':')[0]}")  # no bar: say why
                for m, why in zip(group["metric"], status, strict=True)
            ],
            x=np.where(np.isfinite(estimate), estimate, np.nan),
            orientation="h",
            name=t.code("basis", str(basis)),
            marker_color=COLORS["beneficiaries" if basis == "counterfactual" else "self_reported"],
            error_x=_interval(estimate, group["ci_low"], group["ci_high"], missing=0.0),
            hovertemplate="%{y}: %{x:,.1f}<extra></extra>",
        )
    fig.add_bar(
        y=[f"{b.program} ({b.country})" for b in bench.itertuples()],
        x=_numbers(bench["value"]),
        orientation="h",
        name=t("basis.benchmark"),
        marker_color=COLORS["benchmark"],
        hovertemplate="%{y}: %{x:,.1f}<extra></extra>",
    )
    return _layout(
        fig,
        t,
        title,
        height=340,
        xaxis={"title": {"text": axis}, "type": "log", "dtick": 1},
        barmode="group",
        showlegend=False,  # each bar's label names its basis
    )


def balance_figure(balance: pd.DataFrame, t: Translator) -> go.Figure:
    """Standardized mean differences of the matching covariates before and after matching;
    |SMD| under 0.1 (shaded) is the usual balance target."""
    fig = go.Figure()
    dropped = balance["status"] if "status" in balance else pd.Series([None] * len(balance))
    labels = [
        t.code("covariate", str(c)) + (f" ({t('status.dropped')})" if s == "dropped" else "")
        for c, s in zip(balance["covariate"], dropped, strict=True)
    ]
    for when in ("before", "after"):
        fig.add_scatter(
            x=_numbers(balance[f"smd_{when}"]),
            y=labels,
            mode="markers",
            marker={"size": 11, "color": COLORS[when]},
            name=t(f"fig.{when}_matching"),
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    fig.add_vrect(x0=-0.1, x1=0.1, fillcolor="#2a9d8f", opacity=0.12, line_width=0)
    fig.add_vline(x=0, line_color="#888", line_width=1)
    return _layout(fig, t, t("fig.balance"), height=300, xaxis_title=t("fig.smd"))
