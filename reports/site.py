"""Build the offline HTML report from the warehouse's marts and stored estimates.

The page reads marts and `results.estimates` only; numbers are computed upstream. One
shared `plotly.min.js` sits beside the pages, so the report opens from `file://` with no
network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import duckdb
import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup

from reports import figures

TEMPLATES = resources.files("reports") / "templates"
OUTCOME_LABELS = {"log_sales": "sales", "log_employment": "employment"}


@dataclass(frozen=True)
class ReportInputs:
    """The tables a report page shows, read from the warehouse."""

    programs: pd.DataFrame
    spending: pd.DataFrame
    reach: pd.DataFrame
    growth: pd.DataFrame
    estimates: pd.DataFrame
    loads: pd.DataFrame
    quarantine: pd.DataFrame


def read_inputs(con: duckdb.DuckDBPyConnection, run_id: str) -> ReportInputs:
    """Read the marts, this run's estimates and the load log."""
    return ReportInputs(
        programs=con.sql("select * from staging.stg_programs order by program_id").df(),
        spending=con.sql("select * from marts.mart_program_spending").df(),
        reach=con.sql("select * from marts.mart_program_reach").df(),
        growth=con.sql("select * from marts.mart_outcome_growth").df(),
        estimates=con.execute(
            "select * from results.estimates where run_id = ? and subgroup = 'all' "
            "and estimator = 'callaway_santanna_2021'",
            [run_id],
        ).df(),
        loads=con.sql(
            "select entity, source_file, rows_in, rows_loaded, rows_quarantined from meta.loads order by loaded_at"
        ).df(),
        quarantine=con.sql(
            "select entity, rule, count(distinct (load_id, row_number)) as rows "
            "from meta.quarantine group by all order by entity, rule"
        ).df(),
    )


def _div(fig: go.Figure) -> Markup:
    # our own plotly output: safe to insert unescaped into the autoescaped template
    return Markup(
        fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
    )


def _pct(log_points: float) -> float:
    return 100.0 * math.expm1(log_points)


def _effects(estimates: pd.DataFrame, truth: pd.DataFrame | None, program_id: str) -> dict:
    effects: dict[str, dict | None] = {}
    for outcome in OUTCOME_LABELS:
        row = estimates[
            (estimates["program_id"] == program_id)
            & (estimates["outcome"] == outcome)
            & (estimates["aggregation"] == "simple")
        ]
        if row.empty:
            effects[outcome] = None
            continue
        r = row.iloc[0]
        true_att = None
        if truth is not None:
            t = truth[(truth["program_id"] == program_id) & (truth["outcome"] == outcome)]
            true_att = _pct(float(t["att"].iloc[0])) if len(t) else None
        effects[outcome] = {
            "pct": _pct(r["estimate"]),
            "pct_low": _pct(r["ci_low"]),
            "pct_high": _pct(r["ci_high"]),
            "truth_pct": true_att,
        }
    return effects


def build_report(
    inputs: ReportInputs,
    out_dir: Path,
    *,
    title: str,
    run_id: str,
    data_version: str,
    price_base_year: int,
    synthetic: bool,
    true_att: pd.DataFrame | None = None,
    true_effects: pd.DataFrame | None = None,
) -> Path:
    """Render the report into out_dir (index.html, report.css, plotly.min.js); return the page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = dict(zip(inputs.programs["program_id"], inputs.programs["name"], strict=True))
    spending = inputs.spending.set_index("program_id")
    programs = []
    for p in inputs.programs.itertuples():
        pid = p.program_id
        est = inputs.estimates[inputs.estimates["program_id"] == pid]
        figs = []
        for outcome, label in OUTCOME_LABELS.items():
            dynamic = est[
                (est["outcome"] == outcome) & (est["aggregation"] == "dynamic") & est["key"].notna()
            ]
            truth = None
            if true_effects is not None:
                truth = true_effects[
                    (true_effects["program_id"] == pid) & (true_effects["outcome"] == outcome)
                ]
            if len(dynamic):
                figs.append(_div(figures.event_study_figure(dynamic, truth, label)))
        growth = inputs.growth[inputs.growth["program_id"] == pid]
        figs.append(_div(figures.outcome_growth_figure(growth, "mean_sales_growth", "sales")))
        programs.append(
            {
                "program_id": pid,
                "name": p.name,
                "country": p.country,
                "agency": p.agency,
                "instrument": p.instrument,
                "market_failure": p.market_failure,
                "targeting": p.targeting,
                "firms_served": int(spending.loc[pid, "firms_served"]),
                "public_cost_per_firm_usd": float(
                    spending.loc[pid, "public_cost_per_firm_usd"] or 0
                ),
                "effects": _effects(inputs.estimates, true_att, pid),
                "figures": figs,
            }
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    years = inputs.reach["year"]
    html = env.get_template("report.html").render(
        title=title,
        synthetic=synthetic,
        programs=programs,
        outcomes=[{"name": k, "label": v} for k, v in OUTCOME_LABELS.items()],
        figures={
            "reach": _div(figures.reach_figure(inputs.reach, names)),
            "cost": _div(figures.cost_per_firm_figure(inputs.spending)),
        },
        loads=inputs.loads.to_dict("records"),
        quarantine=inputs.quarantine.to_dict("records"),
        first_year=int(years.min()) if len(years) else "",
        last_year=int(years.max()) if len(years) else "",
        price_base_year=price_base_year,
        run_id=run_id,
        data_version=data_version,
        version=metadata.version("mes-eval"),
        built_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    page = out_dir / "index.html"
    page.write_text(html, encoding="utf-8")
    (out_dir / "report.css").write_text((TEMPLATES / "report.css").read_text(encoding="utf-8"))
    plotly_js = out_dir / "plotly.min.js"
    if not plotly_js.exists():
        plotly_js.write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    return page
