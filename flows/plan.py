"""`mes-eval plan`: power, minimum detectable effects and sample sizes per program, printed
and charted. The statistics are `evaluation.power`'s; this module reads the warehouse's
evaluation panel, runs them per program and presents the results."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
from rich.console import Console
from rich.table import Table

from evaluation import power as pw
from evaluation.power import ProgramPlan

# columns of the evaluation panel that are not outcomes
NOT_OUTCOMES = {"program_id", "firm_id", "year", "cohort", "public_cost_usd", "founded_year"}
NUMERIC = (
    "DOUBLE",
    "FLOAT",
    "REAL",
    "DECIMAL",
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
)
# the project's chart colours (reports/figures.py); importing that module costs seconds
PALETTE = ["#1f6f8b", "#c8553d", "#2a9d8f", "#e9a23b", "#6d597a", "#457b9d", "#b56576"]


class PlanError(ValueError):
    """A user-fixable reason why a plan cannot be made (one line)."""


def outcome_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The numeric columns of the evaluation panel a plan can be made for."""
    try:
        described = con.execute("describe marts.mart_evaluation_panel").fetchall()
    except duckdb.CatalogException:
        raise PlanError(
            "no evaluation panel in this warehouse (marts.mart_evaluation_panel); "
            "run `mes-eval run` or `mes-eval demo` first"
        ) from None
    return [
        str(name)
        for name, kind, *_ in described
        if str(name) not in NOT_OUTCOMES and str(kind).upper().startswith(NUMERIC)
    ]


def read_panel(con: duckdb.DuckDBPyConnection, outcome: str, program: str | None) -> pd.DataFrame:
    """The panel rows of `outcome` (every program, or one), checked for a known outcome
    and program and for data."""
    known = outcome_columns(con)
    if outcome not in known:
        raise PlanError(f"unknown outcome {outcome!r}; outcomes of the panel: {', '.join(known)}")
    programs = [
        r[0]
        for r in con.execute(
            "select distinct program_id from marts.mart_evaluation_panel order by 1"
        ).fetchall()
    ]
    if not programs:
        raise PlanError("the evaluation panel is empty: load data with `mes-eval run` first")
    if program is not None and program not in programs:
        raise PlanError(f"unknown program {program!r}; programs: {', '.join(programs)}")
    return con.execute(pw.panel_query(outcome), {"program": program}).df()


def _number(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def print_plans(
    console: Console, plans: list[ProgramPlan], outcome: str, skipped: dict[str, str]
) -> None:
    """The plan's tables: MDE and power per program, then the pre-trend test's reach."""
    first = plans[0].plan.design
    width = max(len(p.program_id) for p in plans)  # program ids are never cut
    title = (
        f"Power for {outcome}: {first.pre_years} pre-entry and {first.post_years} post-entry "
        "year(s) per cohort, 5% two-sided test"
    )
    table = Table(title=title, title_justify="left")
    columns = ["program", "treated (cohorts)", "comparison", "SE", "MDE at 80%"]
    effect = plans[0].effect
    if effect is not None:
        columns += [f"power at {effect:g}", "treated needed", "comparison needed"]
    for column in columns:
        table.add_column(
            column,
            justify="left" if column == "program" else "right",
            min_width=width if column == "program" else None,
        )
    basis = Table(title="What the SE rests on (comparison firms' panel)", title_justify="left")
    for column in (
        "program",
        "SD within firm",
        "corr. lag 1",
        "missing firm-years",
        "drop out",
        "N_eff / N treated",
        "N_eff / N comparison",
    ):
        basis.add_column(
            column,
            justify="left" if column == "program" else "right",
            min_width=width if column == "program" else None,
        )
    for p in plans:
        design, components = p.plan.design, p.components
        row = [
            p.program_id,
            f"{design.n_treated:,.0f} ({len(design.cohorts)})",
            f"{design.controls:,.0f}",
            _number(p.plan.se()),
            _number(p.mde),
        ]
        if effect is not None:
            needed = p.needed or (0, 0)
            row += [_percent(p.power or 0.0), f"{needed[0]:,}", f"{needed[1]:,}"]
        table.add_row(*row)
        sigma2 = components.sigma2
        corr = 1.0 - float(components.variogram[1]) / sigma2 if sigma2 > 0 else float("nan")
        basis.add_row(
            p.program_id,
            _number(math.sqrt(sigma2)),
            _number(corr, 2),
            _percent(p.plan.missing_share),
            _percent(p.plan.dropout_share),
            _number(1 / p.plan.treated_factor, 2),
            _number(1 / p.plan.comparison_factor, 2),
        )
    console.print(table)
    console.print(basis)
    pre = Table(
        title="What the pre-entry test could detect (Roth 2022): a linear trend in the gap",
        title_justify="left",
    )
    for column in (
        "program",
        "leads tested",
        "slope, 50% power",
        "slope, 80% power",
        "its bias in the estimate",
        "bias / MDE",
    ):
        pre.add_column(
            column,
            justify="left" if column == "program" else "right",
            min_width=width if column == "program" else None,
        )
    for p in plans:
        if p.slope_80 is None or p.slope_50 is None:
            pre.add_row(p.program_id, "0", "(too few pre-entry years)", "", "", "")
            continue
        bias = p.slope_80 * (p.plan.design.post_years + 1) / 2
        pre.add_row(
            p.program_id,
            str(p.leads),
            f"{p.slope_50:.4f}/yr",
            f"{p.slope_80:.4f}/yr",
            _number(bias),
            f"{bias / p.mde:.2f}",
        )
    console.print(pre)
    log = outcome.startswith("log_")
    console.print(
        "MDE: the smallest true effect the evaluation finds significant 4 times in 5"
        + (" (log points: 0.05 is about +5%)" if log else "")
        + ". SE and MDE count attrition: firm-years missing in a cohort's window and firms "
        "with no year before or after entry. Bias: what a trend the pre-entry test catches "
        "80% of the time adds to the post-entry average.",
        soft_wrap=True,
        highlight=False,
    )
    for program_id, reason in skipped.items():
        console.print(f"[yellow]{program_id}: no plan: {reason}[/]", soft_wrap=True)


def write_figure(plans: list[ProgramPlan], outcome: str, out: Path) -> None:
    """A self-contained HTML power-curve chart: power against the true effect, per program."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for k, p in enumerate(plans):
        color = PALETTE[k % len(PALETTE)]
        fig.add_scatter(
            x=p.curve["effect"],
            y=p.curve["power"],
            mode="lines",
            name=p.program_id,
            line={"color": color},
            hovertemplate="effect %{x:.3f}: power %{y:.0%}<extra>" + p.program_id + "</extra>",
        )
        fig.add_scatter(
            x=[p.mde],
            y=[0.8],
            mode="markers",
            marker={"color": color, "size": 9},
            name=f"{p.program_id}: MDE {p.mde:.3f}",
            showlegend=False,
            hovertemplate=f"MDE {p.mde:.3f}<extra>{p.program_id}</extra>",
        )
    fig.add_hline(y=0.8, line={"dash": "dash", "color": "#8d99ae"}, annotation_text="80%")
    effect = plans[0].effect
    if effect is not None:
        fig.add_vline(
            x=abs(effect),
            line={"dash": "dot", "color": "#8d99ae"},
            annotation_text=f"effect {effect:g}",
        )
    design = plans[0].plan.design
    fig.update_layout(
        title={
            "text": f"Power of the next evaluation: {outcome}, {design.post_years} "
            "post-entry year(s)",
            "x": 0.01,
        },
        xaxis_title=f"true effect on {outcome}",
        yaxis={"title": "power (5% two-sided test)", "range": [0, 1.02], "tickformat": ".0%"},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
        paper_bgcolor="white",
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        height=460,
    )
    fig.update_xaxes(gridcolor="#e8ecef", zerolinecolor="#c5ccd3")
    fig.update_yaxes(gridcolor="#e8ecef", zerolinecolor="#c5ccd3")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(out, include_plotlyjs=True, full_html=True)
