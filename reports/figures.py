"""Figure builders: pure functions from a mart table to a plotly figure."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

COLORS = {"beneficiaries": "#1f6f8b", "comparison": "#c8553d", "truth": "#2a9d8f"}
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "height": 380}


def reach_figure(reach: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """Firms served to date per program and year."""
    fig = go.Figure()
    for program_id, rows in reach.groupby("program_id", sort=True):
        fig.add_scatter(
            x=rows["year"],
            y=rows["firms_served_to_date"],
            mode="lines+markers",
            name=names.get(str(program_id), str(program_id)),
            customdata=rows[["firms_entering", "coverage_pct"]],
            hovertemplate="%{x}: %{y} firms served<br>%{customdata[0]} entered; "
            "coverage %{customdata[1]:.2f}%<extra></extra>",
        )
    fig.update_layout(
        title="Firms served to date", xaxis_title="Year", yaxis_title="Firms", **LAYOUT
    )
    return fig


def cost_per_firm_figure(spending: pd.DataFrame) -> go.Figure:
    """Public cost per firm served, constant USD, per program."""
    fig = go.Figure(
        go.Bar(
            x=spending["name"],
            y=spending["public_cost_per_firm_usd"],
            marker_color=COLORS["beneficiaries"],
            hovertemplate="%{x}<br>US$ %{y:,.0f} per firm<extra></extra>",
        )
    )
    fig.update_layout(
        title="Public cost per firm served (constant USD)", yaxis_title="USD", **LAYOUT
    )
    return fig


def outcome_growth_figure(growth: pd.DataFrame, column: str, label: str) -> go.Figure:
    """Mean yearly growth of beneficiaries and comparison firms (descriptive)."""
    fig = go.Figure()
    for group, rows in growth.groupby("firm_group", sort=True):
        fig.add_scatter(
            x=rows["year"],
            y=100 * rows[column],
            mode="lines+markers",
            name=str(group),
            line_color=COLORS.get(str(group)),
            hovertemplate="%{x}: %{y:.1f}%<extra>" + str(group) + "</extra>",
        )
    fig.update_layout(
        title=f"Mean yearly {label} growth (%)", xaxis_title="Year", yaxis_title="%", **LAYOUT
    )
    return fig


def event_study_figure(dynamic: pd.DataFrame, truth: pd.DataFrame | None, label: str) -> go.Figure:
    """Effects by years since entry with 95% intervals; the planted truth where known."""
    rows = dynamic.sort_values("key")
    fig = go.Figure()
    fig.add_scatter(
        x=rows["key"],
        y=rows["estimate"],
        mode="markers",
        name="estimate (95% CI)",
        marker_color=COLORS["beneficiaries"],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": rows["ci_high"] - rows["estimate"],
            "arrayminus": rows["estimate"] - rows["ci_low"],
        },
        hovertemplate="%{x} years since entry: %{y:.3f}<extra></extra>",
    )
    if truth is not None and len(truth):
        fig.add_scatter(
            x=truth["event_time"],
            y=truth["effect"],
            mode="lines",
            name="planted effect",
            line={"color": COLORS["truth"], "dash": "dash"},
        )
    fig.add_hline(y=0, line_color="#888", line_width=1)
    fig.add_vline(x=-0.5, line_color="#bbb", line_dash="dot")
    fig.update_layout(
        title=f"Effect on {label} by years since entry (log points)",
        xaxis_title="Years since entry",
        yaxis_title="ATT (log points)",
        **LAYOUT,
    )
    return fig
