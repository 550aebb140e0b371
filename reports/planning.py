"""The planning page of internal annual editions: how large an effect the next evaluation
of each program could detect, from the agency's own panel (`evaluation.power`, the same
numbers `mes-eval plan` prints with its defaults).

Internal only: it is a tool for the agency's next design, not a published result, and its
sizes and variances are computed from firm-level rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from evaluation import power as pw
from reports.figures import power_curve_figure
from reports.i18n import Translator

PAGE = "planning.html"
OUTCOMES = ("log_sales", "log_employment")  # the headline outcomes
POST_YEARS, PRE_YEARS = 3, 1  # `mes-eval plan`'s defaults


@dataclass(frozen=True)
class Planned:
    """Each outcome's plans (programs that could be planned) and why others could not."""

    plans: dict[str, list[pw.ProgramPlan]]
    skipped: dict[str, dict[str, str]]


def read_plans(con: duckdb.DuckDBPyConnection) -> Planned:
    """The plans of every program for the headline outcomes the panel has."""
    try:
        columns = {r[0] for r in con.execute("describe marts.mart_evaluation_panel").fetchall()}
    except duckdb.CatalogException:
        return Planned({}, {})
    plans: dict[str, list[pw.ProgramPlan]] = {}
    skipped: dict[str, dict[str, str]] = {}
    for outcome in (o for o in OUTCOMES if o in columns):
        panel = con.execute(pw.panel_query(outcome), {"program": None}).df()
        for program_id, rows in panel.groupby("program_id", sort=True):
            try:
                plan = pw.plan_program(
                    str(program_id),
                    rows,
                    post_years=POST_YEARS,
                    pre_years=PRE_YEARS,
                    effect=None,
                    treated=None,
                    controls=None,
                )
            except pw.PowerError as exc:
                skipped.setdefault(outcome, {})[str(program_id)] = str(exc)
                continue
            plans.setdefault(outcome, []).append(plan)
    return Planned(plans, skipped)


def planning_context(
    planned: Planned, names: dict[str, str], t: Translator, charts: Any
) -> dict[str, Any]:
    """The page's sections: per outcome, a table of the minimum detectable effect and what
    it rests on, the power curves, and the programs that could not be planned, with why."""
    sections = []
    for outcome in OUTCOMES:
        plans = planned.plans.get(outcome, [])
        rows = []
        for plan in plans:
            design = plan.plan.design
            rows.append(
                [
                    names.get(plan.program_id, plan.program_id),
                    t.num(design.n_treated),
                    t.num(len(design.cohorts)),
                    t.num(design.controls),
                    t.num(100 * plan.plan.se(), 1),
                    t.num(100 * plan.mde, 1),
                    t.num(plan.leads),
                    "" if plan.slope_80 is None else t.num(100 * plan.slope_80, 2),
                ]
            )
        skipped = planned.skipped.get(outcome, {})
        if not rows and not skipped:
            continue
        sections.append(
            {
                "outcome": outcome,
                "title": t.code("outcome", outcome),
                "rows": rows,
                "chart": charts.div(power_curve_figure(plans, names, t)) if plans else None,
                "skipped": [(names.get(p, p), why) for p, why in skipped.items()],
            }
        )
    headers = [
        t("col.program"),
        t("planning.treated"),
        t("planning.cohorts"),
        t("planning.comparison"),
        t("planning.se"),
        t("planning.mde"),
        t("planning.leads"),
        t("planning.pretrend_slope"),
    ]
    return {"sections": sections, "headers": headers, "post_years": POST_YEARS}
