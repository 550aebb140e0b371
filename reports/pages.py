"""The pages of an edition: what each template shows, built from the published tables.

One function per page kind (overview portfolio table, program, data quality, methodology,
changes) returns the template's context. Tables reach templates as `TableView`s
(`reports.views`) and charts as plotly divs (`Charts`), always from published tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup, escape

from evaluation.roi import SCALE_CHOICES
from evaluation.spec import ESTIMATOR, IMPUTATION_ESTIMATOR, TWFE_ESTIMATOR
from reports import figures, scales, tables
from reports.audit import Certificate
from reports.charts import Charts
from reports.disclosure import DERIVED, DOMINANCE, MIN_FIRMS, SECONDARY, DisclosureRules, Published
from reports.i18n import Translator
from reports.inputs import SiteInputs, run_query, table_exists
from reports.reasons import catalogue, statuses
from reports.reasons import row_text as reason_text_of
from reports.views import Col, Formats, TableView, missing, table_view

MAX_CHANGES_SHOWN = 300


def slug(text: str) -> str:
    """A file-name-safe form of a program id."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "program"


def data_docs_folder(inputs: SiteInputs, given: Path | None) -> Path | None:
    """The Data Docs folder: the given path, else `<warehouse dir>/data_docs`."""
    candidates = [given] if given else []
    if inputs.warehouse is not None:
        candidates.append(inputs.warehouse.parent / "data_docs")
    for c in candidates:
        if c is None:
            continue
        index = c if c.suffix == ".html" else c / "index.html"
        if index.is_file():
            return index.parent
    return None


def rule_text(rule: str, t: Translator, rules: DisclosureRules) -> str:
    """A disclosure rule in words, with this edition's thresholds."""
    if rule == MIN_FIRMS:
        return t("disclosure.min_firms", k=rules.min_firms)
    if rule == DOMINANCE:
        return t(
            "disclosure.dominance",
            n=rules.dominance_top,
            share=t.num(100 * rules.dominance_share, 0),
        )
    if rule in (SECONDARY, DERIVED):
        return t(f"disclosure.{rule}")
    return rule


def _is_total(row: pd.Series) -> bool:
    return bool(row.get("is_total"))


def _group_cols(t: Translator, fmt: Formats) -> list[Col]:
    """The dimension (size class, sector, region...) and its value, in the edition's language."""
    return [
        Col("dimension", t("col.dimension"), fmt.code("dimension"), numeric=False),
        Col(
            "value",
            t("col.value"),
            lambda v, row: t.code(str(row["dimension"]), v),
            numeric=False,
        ),
    ]


def effect_header(outcome: str, unit: str, t: Translator) -> str:
    """ "Effect on sales (%)": a column of effects on one outcome, with its unit."""
    suffix = "%" if unit == "pct" else t(f"unit.{unit}") if t.has(f"unit.{unit}") else unit
    return t("col.effect_on", outcome=t.code("outcome", outcome)) + f" ({suffix})"


def portfolio_view(
    table: Published,
    registry: pd.DataFrame,
    names: dict[str, str],
    slugs: dict[str, str],
    t: Translator,
    fmt: Formats,
    units: dict[str, str],
    part: str = "all",
) -> TableView:
    """The overview's portfolio table: one row per program (linked to its page), a total;
    in annual editions the overall effect on each headline outcome, or why it is not
    estimated.

    part: "all" columns, "reach" (reach and spending, with the total) or "impact" (the
    effects, one row per program): two narrower tables that fit the page side by side
    with their labels in any language."""
    countries = dict(zip(registry["program_id"], registry["country"], strict=True))
    instruments = dict(zip(registry["program_id"], registry["instrument"], strict=True))

    def name(v: object, row: pd.Series) -> str:
        return t("overview.all_programs") if row["is_total"] else str(names.get(str(v), v))

    columns = [
        Col("program_id", t("col.program"), name, numeric=False),
        Col(
            "country",
            t("col.country"),
            lambda _v, row: "" if row["is_total"] else str(countries.get(row["program_id"], "")),
            numeric=False,
        ),
        Col(
            "instrument",
            t("col.instrument"),
            lambda _v, row: (
                ""
                if row["is_total"]
                else t.code("instrument", instruments.get(row["program_id"], ""))
            ),
            numeric=False,
        ),
        Col("firms_served", t("col.firms_served"), fmt.number()),
        Col("public_cost_usd", t("col.public_cost_usd"), fmt.number()),
        Col("cost_per_firm_usd", t("col.cost_per_firm_usd"), fmt.number()),
        Col("coverage_pct", t("col.coverage_pct"), fmt.number(1)),
    ]
    effects = []
    for column in table.values.columns:
        if str(column).endswith("_effect"):
            o = str(column).removesuffix("_effect")
            effects.append(
                Col(
                    column,
                    effect_header(o, units.get(o, tables.unit_of(o)), t),
                    fmt.effect(f"{o}_ci_low", f"{o}_ci_high"),
                    reason=f"{o}_",
                )
            )
    rows = None
    if part == "impact":  # the total row has no effect of its own
        columns, rows = [columns[0], *effects], ~table.values["is_total"].astype(bool)
    elif part != "reach":
        columns += effects
    view = table_view(
        table, columns, t, keys=("program_id", "is_total"), rows=rows, total_label=_is_total
    )
    # program names link to their pages
    for row in view.rows:
        pid = json.loads(row.key)["program_id"]
        if pid in slugs:
            first = row.cells[0]
            row.cells[0] = type(first)(
                Markup('<a href="{}" translate="no">{}</a>').format(slugs[pid], first.text),
                first.column,
                first.classes,
            )
    return view


# --- the headline: what a reader sees first (overview and program pages) -------------------

# the return a headline quotes: value added per public dollar, else sales per public dollar
HEADLINE_RETURNS = ("value_added_per_dollar", "sales_per_dollar")
# the benchmarks (reports.tables.benchmarks, metric) each figure is set beside
BENCHMARK_OF = {
    "value_added_per_dollar": "return_per_dollar",
    "sales_per_dollar": "return_per_dollar",
    "cost_per_job": "cost_per_job",
}


@dataclass(frozen=True)
class Box:
    """One value box of a headline: a published figure with its 95% interval, or in its
    place what its table shows there (the suppression symbol, or why the figure was not
    estimated), and the figure as the headline sentence says it."""

    key: str  # the outcome or metric code
    label: str
    value: str
    shown: bool  # whether `value` is a figure (not a suppression, a reason or a dash)
    interval: str = ""
    classes: str = ""  # as the table's cell: "sup", "flag", "na"
    title: str = ""
    phrase: str = ""  # the figure with its unit and interval, for the sentence
    benchmark: str = ""  # the range of the benchmarks the return page shows beside it
    benchmark_title: str = ""  # each of them


def _box(
    table: Published,
    key: str,
    label: str,
    value: Col,
    t: Translator,
    interval: Col | None = None,
    phrase: Col | None = None,
) -> Box:
    """A value box from the first row of a published table, its cells formatted as the
    table's (`table_view`): suppressed, flagged or not estimated alike."""
    columns = [value, interval or value, phrase or value]
    view = table_view(table, columns, t)
    if not view.rows:
        return Box(key, label, t("sym.missing"), False)
    v, i, p = view.rows[0].cells
    classes = " ".join(c for c in v.classes.split() if c not in ("num", "stack"))
    shown = not {"sup", "na"} & set(classes.split()) and v.text != t("sym.missing")
    return Box(
        key,
        label,
        v.text,
        shown,
        interval=i.text if shown and interval and i.text != t("sym.missing") else "",
        classes=classes,
        title=v.title,
        phrase=p.text if shown else v.text,
    )


def _phrase(t: Translator, key: str, **values: object) -> Markup:
    """A text of the catalogs with figures that may carry markup (a warning sign)."""
    return Markup(escape(t(key))).format(**values)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _effect_box(portfolio: Published, outcome: str, unit: str, t: Translator, fmt: Formats) -> Box:
    """The overall effect on one outcome, as the portfolio table publishes it."""
    value, low, high = f"{outcome}_effect", f"{outcome}_ci_low", f"{outcome}_ci_high"
    suffix = {"pct": "%", "pp": t("headline.unit_pp")}.get(unit, "")
    reason = f"{outcome}_"

    def interval(_v: object, row: pd.Series) -> str:
        if missing(row.get(low)) or missing(row.get(high)):
            return t("sym.missing")
        return t.interval(t.signed(row[low], 1), t.signed(row[high], 1))

    def phrase(v: object, row: pd.Series) -> str:
        text = t.signed(v, 1) + suffix
        if missing(row.get(low)) or missing(row.get(high)):
            return text
        return t.estimate_interval(text, t.signed(row[low], 1), t.signed(row[high], 1))

    return _box(
        portfolio,
        outcome,
        effect_header(outcome, unit, t),
        Col(value, "", fmt.signed(1), reason=reason),
        t,
        Col(low, "", interval, protects=(value, high), reason=reason, quiet=True),
        Col(value, "", phrase, protects=(low, high), reason=reason),
    )


def _benchmarks(bench: pd.DataFrame, metric: str, t: Translator) -> tuple[str, str]:
    """The range of the benchmarks of a return figure ("benchmarks: 6.2 to 30.0"), and each
    of them with its kind, as the return section lists them."""
    if not {"metric", "value"} <= set(bench.columns):
        return "", ""
    found = bench[bench["metric"] == BENCHMARK_OF[metric]]
    values = pd.to_numeric(found["value"], errors="coerce").dropna()
    if values.empty:
        return "", ""
    n = 0 if metric == "cost_per_job" else 1
    if len(values) == 1:
        text = t("headline.benchmark", value=t.num(values.iloc[0], n))
    else:
        text = t(
            "headline.benchmarks", range=t.interval(t.num(values.min(), n), t.num(values.max(), n))
        )
    each = [
        f"{r['program']} ({r['country']}, {scales.kind_text(r.get('basis'), t)}): "
        + t.num(r["value"], n)
        for r in found.to_dict("records")
        if not missing(r.get("value"))
    ]
    return text, "; ".join(each)


def _return_box(
    roi: Published, metric: str, bench: pd.DataFrame, t: Translator, fmt: Formats
) -> Box:
    """A counterfactual return figure (or cost per job) as the return table publishes it,
    warning included, beside the range of its benchmarks."""
    cols = {c.name: c for c in _roi_cols(t, fmt, internal=False)}
    n = 0 if metric == "cost_per_job" else 1

    def phrase(v: object, row: pd.Series) -> str:
        low, high = row.get("ci_low"), row.get("ci_high")
        text = t.num(v, n)
        if not missing(low) and not missing(high):
            text = t.estimate_interval(text, t.num(low, n), t.num(high, n))  # unbounded: ∞
        if scales.is_warning(row.get("scale_choice")):
            return Markup('{} <span class="warn">⚠ {}</span>').format(text, t("scale.caution"))
        return text

    mine = roi.rows((roi.values["metric"] == metric) & (roi.values["basis"] == "counterfactual"))
    box = _box(
        mine,
        metric,
        _capital(t.code("metric", metric)),
        cols["estimate"],
        t,
        cols["ci_low"],
        Col("estimate", "", phrase, protects=("ci_low", "ci_high"), reason=""),
    )
    text, each = _benchmarks(bench, metric, t)
    return replace(box, benchmark=text, benchmark_title=each)


def _verdicts(
    pid: str, horizon: Published, outcomes: list[str], inputs: SiteInputs, t: Translator
) -> list[dict[str, Any]]:
    """The verdicts beside the headline effects: the pre-entry test of parallel trends
    (as the effects table shows it) and, where the run has it, the breakdown value of
    HonestDiD's sensitivity analysis (as the robustness section words it)."""
    frame = horizon.frame()
    overall = frame[frame["horizon"] == "overall"].drop_duplicates("outcome").set_index("outcome")
    pretrend = []
    for o in outcomes:
        if o in overall.index:
            text = pretrend_verdict(overall.loc[o], t)
            passes = overall.loc[o].get("pretrend_passes")
            pretrend.append(
                {
                    "outcome": t.code("outcome", o),
                    "text": text,
                    "classes": "na" if missing(passes) and text != t("sym.missing") else "",
                    "warn": not missing(passes) and not bool(passes),
                }
            )
    out = []
    if pretrend:
        out.append(
            {"kind": "pretrend", "label": t("col.pretrend_passes"), "parts": _merged(pretrend)}
        )
    sensitivity = read_sensitivity(inputs)
    rows = sensitivity[sensitivity["program_id"] == pid] if len(sensitivity) else sensitivity
    robust = []
    for o in outcomes if len(rows) else []:
        kind, row = breakdown_of(rows, o, horizon, t)
        if kind == "sup":
            text, classes = t("sym.suppressed"), "sup"
        elif kind == "na" and row is not None:
            text, classes = reason_text_of(row, t) or t("sym.missing"), "na"
        elif kind == "breakdown" and row is not None:
            at_least = not missing(row.get("at_least")) and bool(row["at_least"])
            name = "headline.breakdown_at_least" if at_least else "headline.breakdown"
            text, classes = t(name, mbar=_bound(row["m"], t)), ""
        else:
            continue
        robust.append(
            {"outcome": t.code("outcome", o), "text": text, "classes": classes, "warn": False}
        )
    if robust:
        out.append(
            {"kind": "sensitivity", "label": t("headline.sensitivity"), "parts": _merged(robust)}
        )
    return out


def _merged(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outcomes with the same verdict said once: "sales, employment: not estimable: ..."."""
    out: dict[tuple[str, str, bool], dict[str, Any]] = {}
    for part in parts:
        same = out.get((part["text"], part["classes"], part["warn"]))
        if same is None:
            out[(part["text"], part["classes"], part["warn"])] = dict(part)
        else:
            same["outcome"] = f"{same['outcome']}, {part['outcome']}"
    return list(out.values())


def _key_figure_cols(t: Translator, fmt: Formats) -> list[Col]:
    """A program's reach and spending: firms served, coverage, public cost, cost per firm."""
    return [
        Col("firms_served", t("col.firms_served"), fmt.number()),
        Col("coverage_pct", t("col.coverage_pct"), fmt.number(1)),
        Col("public_cost_usd", t("col.public_cost_usd"), fmt.number()),
        Col("cost_per_firm_usd", t("col.cost_per_firm_usd"), fmt.number()),
    ]


def headline_context(
    program: Any,
    tabs: dict[str, Published],
    inputs: SiteInputs,
    t: Translator,
    fmt: Formats,
) -> dict[str, Any]:
    """What a reader sees first of a program, on the overview and on its page: one
    sentence and value boxes. Annual editions: the overall effects on the headline
    outcomes, the return per public dollar and the cost per job (each beside the range of
    its benchmarks), with the verdicts of the pre-entry test and of the sensitivity
    analysis. Quarterly editions, which carry no impact: reach and spending to date.

    Every figure is a cell of a published table, formatted as that table formats it: a
    suppressed cell reads as the suppression symbol, a figure not estimated as its status
    and reason."""
    pid = program.program_id
    portfolio = _rows_of(tabs, "portfolio", pid)
    assert portfolio is not None
    out: dict[str, Any] = {
        "program_id": pid,
        "name": str(program.name),
        "boxes": [],
        "verdicts": [],
    }
    if not inputs.period.annual:
        boxes = {c.name: _box(portfolio, c.name, c.label, c, t) for c in _key_figure_cols(t, fmt)}
        out["boxes"] = list(boxes.values())
        out["sentence"] = t(
            "headline.reach",
            firms=boxes["firms_served"].value,
            end=t.date(inputs.period.end),
            cost=boxes["public_cost_usd"].value,
            per_firm=boxes["cost_per_firm_usd"].value,
        )
        return out
    horizon = _rows_of(tabs, "effects_by_horizon", pid)
    if horizon is None or horizon.values.empty:
        out["sentence"] = t("note.no_estimates")
        return out
    units = tables.outcome_units(inputs)
    outcomes = [
        str(c).removesuffix("_effect")
        for c in portfolio.values.columns
        if str(c).endswith("_effect")
    ]
    effects = [_effect_box(portfolio, o, units.get(o, tables.unit_of(o)), t, fmt) for o in outcomes]
    clauses: list[str] = []
    for i, box in enumerate(effects):
        label = t.code("outcome", box.key)
        if not box.shown:  # "sales: x", "sales: not estimated: <reason>"
            clauses.append(Markup("{}: {}").format(label, box.value))
            continue
        first = not any(b.shown for b in effects[:i])  # the first figure says what it compares
        key = "headline.effect_first" if first else "headline.effect_next"
        clauses.append(_phrase(t, key, outcome=label, effect=box.phrase))
    returns: list[Box] = []
    roi = _rows_of(tabs, "roi", pid)
    if roi is not None and len(roi.values):
        published = tabs.get("benchmarks")
        bench = published.frame() if published is not None else tables.benchmarks(inputs)
        counterfactual = roi.values[roi.values["basis"] == "counterfactual"]["metric"]
        quoted = next((m for m in HEADLINE_RETURNS if (counterfactual == m).any()), None)
        for metric in (quoted, "cost_per_job"):
            if metric is None or not (counterfactual == metric).any():
                continue
            box = _return_box(roi, metric, bench, t, fmt)
            returns.append(box)
            if not box.shown:
                clauses.append(Markup("{}: {}").format(t.code("metric", metric), box.value))
            elif metric == "cost_per_job":
                clauses.append(_phrase(t, "headline.cost_per_job", value=box.phrase))
            else:
                name = "value_added" if metric == "value_added_per_dollar" else "sales"
                clauses.append(_phrase(t, f"headline.return_{name}", value=box.phrase))
    out["boxes"] = effects + returns
    out["sentence"] = Markup("{}.").format(Markup("; ").join(clauses))
    out["verdicts"] = _verdicts(pid, horizon, outcomes, inputs, t)
    return out


def _rows_of(tabs: dict[str, Published], table_id: str, pid: str) -> Published | None:
    """One program's rows of a published table (None when the edition has no such table)."""
    table = tabs.get(table_id)
    if table is None:
        return None
    return table.rows(table.values["program_id"] == pid)


def program_context(
    program: Any,
    tabs: dict[str, Published],
    inputs: SiteInputs,
    t: Translator,
    fmt: Formats,
    charts: Charts,
    true_effects: pd.DataFrame | None,
) -> dict[str, Any]:
    """The context of a program page: its headline, registry, reach, spending and, in
    annual editions, impact."""
    pid = program.program_id
    key = slug(str(pid))

    def mine(table_id: str) -> Published | None:
        return _rows_of(tabs, table_id, pid)

    portfolio = mine("portfolio")
    assert portfolio is not None
    key_figures = table_view(
        portfolio, _key_figure_cols(t, fmt), t, keys=("program_id", "is_total")
    )
    by_year = mine("reach_by_year")
    by_group = mine("reach_by_group")
    budget = mine("budget")
    assert by_year is not None and by_group is not None and budget is not None
    year_frame = by_year.frame()
    context: dict[str, Any] = {
        "program": program,
        "headline": headline_context(program, tabs, inputs, t, fmt),
        # (label, value, whether the value is the agency's own text rather than a label)
        "registry": [
            (label, None if missing(value) else value, own)
            for label, value, own in [
                (t("registry.agency"), program.agency, True),
                (t("registry.country"), program.country, True),
                (t("registry.pillar"), t.code("pillar", program.pillar), False),
                (t("registry.instrument"), t.code("instrument", program.instrument), False),
                (t("registry.start_year"), program.start_year, False),
                (t("registry.market_failure"), program.market_failure, True),
                (t("registry.targeting"), program.targeting, True),
                (t("registry.expected_short"), program.expected_short, True),
                (t("registry.expected_medium"), program.expected_medium, True),
                (t("registry.expected_long"), program.expected_long, True),
            ]
        ],
        "key_figures": key_figures,
        "reach_charts": [
            charts.div(figures.entering_figure(year_frame, t)),
            charts.div(figures.group_reach_figure(by_group.frame(), t)),
        ],
        "by_year": table_view(
            by_year,
            [
                Col(
                    "year",
                    t("col.year"),
                    lambda v, row: t("value.total") if row["is_total"] else str(v),
                    numeric=False,
                ),
                Col("firms_entering", t("col.firms_entering"), fmt.number()),
                Col("public_cost_usd", t("col.public_cost_usd"), fmt.number()),
            ],
            t,
            keys=tables.REACH_BY_YEAR.keys,
            total_label=_is_total,
        ),
        "by_group": table_view(
            by_group,
            [
                *_group_cols(t, fmt),
                Col("firms_served", t("col.firms_served"), fmt.number()),
                Col("public_cost_usd", t("col.public_cost_usd"), fmt.number()),
                Col("cost_per_firm_usd", t("col.cost_per_firm_usd"), fmt.number()),
            ],
            t,
            keys=tables.REACH_BY_GROUP.keys,
            total_label=_is_total,
        ),
        "spending_charts": [charts.div(figures.spending_figure(year_frame, t))],
        "budget": table_view(
            budget,
            [
                Col("year", t("col.year"), fmt.text(), numeric=False),
                Col("public_budget_usd", t("col.public_budget_usd"), fmt.number()),
                Col("admin_cost_usd", t("col.admin_cost_usd"), fmt.number()),
                Col("budget_share_gdp_pct", t("col.budget_share_gdp_pct"), fmt.significant(2)),
            ],
            t,
            keys=tables.BUDGET.keys,
        ),
        "impact": None,
    }
    context["claims"] = None
    if inputs.period.annual:
        context["impact"] = _impact_context(pid, key, mine, inputs, t, fmt, charts, true_effects)
        context["claims"] = claims_context(mine("claims"), mine("claim_firms"), t, fmt)
    return context


# --- claims against records (client survey) ------------------------------------------------

NO_SURVEY = "no_client_survey"


def _claims_cols(t: Translator, fmt: Formats) -> list[Col]:
    """The claims table's columns: per measure, the share of claims above the recorded
    change and the gross-to-net ratio, each with its interval or why it is not computed."""

    def share(v: object, row: pd.Series) -> str:
        """89.9% (87.3 to 92.1)"""
        if missing(v):
            return t("sym.missing")
        text = t.num(100 * float(v), 1) + "%"  # type: ignore[arg-type]
        low, high = row.get("share_ci_low"), row.get("share_ci_high")
        if missing(low) or missing(high):
            return text
        return t.estimate_interval(text, t.num(100 * float(low), 1), t.num(100 * float(high), 1))

    def ratio(v: object, row: pd.Series) -> str:
        if missing(v):
            return t("sym.missing")
        low, high = row.get("ratio_ci_low"), row.get("ratio_ci_high")
        text = t.num(v, 1)
        if missing(low) or missing(high):
            return text
        return t.estimate_interval(text, t.num(low, 1), t.num(high, 1))  # unbounded: ∞

    return [
        Col("measure", t("col.measure"), fmt.code("measure"), numeric=False),
        Col("compared", t("col.compared"), fmt.number()),
        Col(
            "share_above",
            t("col.share_above"),
            share,
            protects=("share_ci_low", "share_ci_high"),
            reason="share_",
        ),
        Col("claimed_total", t("col.claimed_total"), fmt.number(), reason="ratio_", quiet=True),
        Col(
            "counterfactual_total",
            t("col.counterfactual_total"),
            fmt.number(),
            reason="ratio_",
            quiet=True,
        ),
        Col(
            "gross_to_net",
            t("col.gross_to_net"),
            ratio,
            protects=("ratio_ci_low", "ratio_ci_high"),
            reason="ratio_",
        ),
    ]


def _response_cols(t: Translator, fmt: Formats, names: dict[str, str] | None = None) -> list[Col]:
    """The survey's response: respondents, beneficiaries, response rate, and the response
    bias on the outcome before entry (respondents against non-respondents)."""

    def rate(v: object, _row: pd.Series) -> str:
        return t("sym.missing") if missing(v) else t.num(100 * float(v), 1) + "%"  # type: ignore[arg-type]

    def pvalue(v: object, _row: pd.Series) -> str:
        if missing(v):
            return t("sym.missing")
        return "< " + t.num(0.001, 3) if float(v) < 0.001 else t.num(v, 3)  # type: ignore[arg-type]

    cols = [
        Col("respondents", t("col.respondents"), fmt.number(), reason=""),
        Col("beneficiaries", t("col.beneficiaries_all"), fmt.number()),
        Col("response_rate", t("col.response_rate"), rate, reason="", quiet=True),
        Col(
            "bias_outcome",
            t("col.bias_outcome"),
            fmt.code("outcome"),
            numeric=False,
            reason="",
            quiet=True,
        ),
        Col("mean_respondents", t("col.mean_respondents"), fmt.number(2), reason="bias_"),
        Col(
            "mean_nonrespondents",
            t("col.mean_nonrespondents"),
            fmt.number(2),
            reason="bias_",
            quiet=True,
        ),
        Col(
            "bias_difference",
            t("col.bias_difference"),
            fmt.signed(2),
            reason="bias_",
            quiet=True,
        ),
        Col(
            "bias_std_difference",
            t("col.bias_std_difference"),
            fmt.signed(2),
            reason="bias_",
            quiet=True,
        ),
        Col("bias_pvalue", t("col.bias_pvalue"), pvalue, reason="bias_", quiet=True),
    ]
    if names is not None:  # the data-quality page: every program in one table
        cols[:0] = [
            Col(
                "program_id",
                t("col.program"),
                lambda v, _row: str(names.get(str(v), v)),
                numeric=False,
                identifier=True,
            ),
        ]
    return cols


def surveyed(claims: Published | None) -> bool:
    """Whether a (program's) claims table has a client survey behind it."""
    if claims is None or claims.values.empty:
        return False
    return bool((claims.values["reason"].astype(object) != NO_SURVEY).any())


def claims_context(
    claims: Published | None, firms: Published | None, t: Translator, fmt: Formats
) -> dict[str, Any] | None:
    """The claims section of a program page with a client survey: claims against records,
    the survey's response and its bias, and (internal editions) the firm-by-firm table."""
    if claims is None or not surveyed(claims):
        return None
    keys = tables.CLAIMS.keys
    firm_view = None
    if firms is not None and len(firms.values):

        def yes_no(v: object, _row: pd.Series) -> str:
            return t("sym.missing") if missing(v) else t("value.yes" if bool(v) else "value.no")

        columns = [
            Col("firm_id", t("col.firm_id"), fmt.text(), numeric=False, identifier=True),
            Col("cohort", t("col.cohort"), fmt.text(), numeric=False),
            Col("survey_year", t("col.survey_year"), fmt.text(), numeric=False),
        ]
        for measure in tables.CLAIM_MEASURES:
            columns += [
                Col(f"{measure}_claimed", t(f"col.{measure}_claimed"), fmt.number()),
                Col(
                    f"{measure}_recorded_change",
                    t(f"col.{measure}_recorded_change"),
                    fmt.signed(0 if measure == "sales" else 1),
                ),
                Col(
                    f"{measure}_counterfactual",
                    t(f"col.{measure}_counterfactual"),
                    fmt.number(0 if measure == "sales" else 1),
                ),
                Col(
                    f"{measure}_above_recorded",
                    t(f"col.{measure}_above_recorded"),
                    yes_no,
                    numeric=False,
                ),
            ]
        firm_view = table_view(firms, columns, t, keys=("program_id", "firm_id", "survey_year"))
    return {
        "table": table_view(claims, _claims_cols(t, fmt), t, keys=keys),
        "response": table_view(claims, _response_cols(t, fmt), t, keys=keys),
        "firms": firm_view,
    }


def _placeholder(title: str, text: str) -> dict[str, Any]:
    """A chart that cannot be drawn: its title and, in its place, why."""
    return {"chart": None, "title": title, "text": text}


def stacked(text: str, estimate: str) -> str:
    """An estimate with its interval ("+4.0 (+2.8 to +5.3)") that a narrow column may
    wrap between the estimate and the interval, never inside the interval: the interval
    then stacks under the estimate. The text itself is unchanged."""
    rest = text.removeprefix(estimate)
    if rest == text or not rest[:1].isspace() or not rest.strip():
        return text  # a locale that writes them otherwise: one unbreakable line
    return Markup('{} <span class="ci">{}</span>').format(estimate, rest.strip())


def pretrend_verdict(head: pd.Series, t: Translator) -> str:
    """An outcome's pre-entry test of parallel trends as the effects table shows it (its
    overall row `head`): yes, no, or why it was not run."""
    passes = head.get("pretrend_passes")
    if not missing(passes):
        return t("value.yes" if bool(passes) else "value.no")
    return reason_text_of(head, t, "pretrend_") or t("sym.missing")


def _horizon_rows(
    horizon: Published, t: Translator, fmt: Formats, rw: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    """The horizon table as a pivot of published cells: one row per outcome, one cell per
    horizon; an outcome not estimated has one cell across the horizons with the reason.
    `rw`: the Romano-Wolf adjusted p-value by outcome (`family_pvalues_rw`)."""
    hv = horizon.values
    frame = horizon.frame()
    effect = fmt.effect()
    rows = []
    for outcome in tables.outcome_order(hv["outcome"]):
        cells: list[int | None] = []
        for h in tables.HORIZONS:
            match = hv.index[(hv["outcome"] == outcome) & (hv["horizon"] == h)]
            cells.append(int(match[0]) if len(match) else None)
        first = cells[0] if cells[0] is not None else next(c for c in cells if c is not None)
        head = frame.loc[first]
        out: list[dict[str, Any]] = []
        overall = reason_text_of(head, t) if cells[0] is not None else None
        if overall is not None:  # across the horizons and the p, q and adjusted p columns
            out.append({"text": overall, "classes": "na", "title": "", "span": len(cells) + 3})
        for i in cells if overall is None else []:
            if i is None:
                out.append({"text": t("sym.missing"), "classes": "num", "title": "", "span": 1})
                continue
            why = reason_text_of(frame.loc[i], t)
            if why is not None:
                out.append({"text": why, "classes": "na", "title": "", "span": 1})
            elif horizon.is_suppressed(i, "effect") and horizon.applied:
                out.append(
                    {
                        "text": t("sym.suppressed"),
                        "classes": "num sup",
                        "title": t("note.suppressed"),
                        "span": 1,
                    }
                )
            else:
                flag = " flag" if horizon.is_suppressed(i, "effect") else ""
                value = frame.at[i, "effect"]
                out.append(
                    {
                        "text": stacked(effect(value, frame.loc[i]), t.signed(value, 1)),
                        "classes": "num stack" + flag,
                        "title": t("note.would_suppress") if flag else "",
                        "span": 1,
                    }
                )
        if overall is None:
            out += _pq_cells(horizon, cells[0], t, (rw or {}).get(outcome))
        passes = head.get("pretrend_passes")
        pretrend = pretrend_verdict(head, t)
        rows.append(
            {
                "outcome": t.code("outcome", outcome),
                "unit": t(f"unit.{head['unit']}"),
                "cells": out,
                "pretrend": pretrend,
                "pretrend_fails": not missing(passes) and not bool(passes),
                "pretrend_classes": "na"
                if missing(passes) and pretrend != t("sym.missing")
                else "",
            }
        )
    return rows


def _pq_cells(
    horizon: Published, index: int | None, t: Translator, rw: float | None = None
) -> list[dict[str, Any]]:
    """The overall effect's p-value, sharpened q-value and Romano-Wolf adjusted p-value
    `rw` (over the program's family of outcomes, `evaluation.multiple`), as three cells;
    suppressed where the effect is."""
    out = []
    for column in ("pvalue", "qvalue", "pvalue_rw"):
        if column == "pvalue_rw":
            value: Any = rw
        else:
            value = horizon.values.at[index, column] if index is not None else None
        # the adjusted p-value is hidden with the q-value: both come from the effect
        hidden_as = "qvalue" if column == "pvalue_rw" else column
        if index is not None and horizon.is_suppressed(index, hidden_as) and horizon.applied:
            text, classes, title = t("sym.suppressed"), "num sup", t("note.suppressed")
        elif missing(value):
            text, classes, title = t("sym.missing"), "num", ""
        elif column != "qvalue" and float(value) < 0.001:
            text, classes, title = "< " + t.num(0.001, 3), "num", ""
        else:
            text, classes, title = t.num(float(value), 3), "num", ""
        out.append({"text": text, "classes": classes, "title": title, "span": 1, "col": column})
    return out


def _impact_context(
    pid: str,
    key: str,
    mine: Any,
    inputs: SiteInputs,
    t: Translator,
    fmt: Formats,
    charts: Charts,
    true_effects: pd.DataFrame | None,
) -> dict[str, Any] | None:
    horizon = mine("effects_by_horizon")
    if horizon is None or horizon.values.empty:
        return None
    estimates = inputs.estimates[inputs.estimates["program_id"] == pid]
    rows = _horizon_rows(horizon, t, fmt, romano_wolf_pvalues(estimates))
    warnings = [r["outcome"] for r in rows if r["pretrend_fails"]]
    charted = tables.headline(estimates)
    events = mine("event_study")
    het = mine("heterogeneity")
    roi = mine("roi")
    matched = mine("matching")
    balance = mine("balance")
    overall = horizon.frame()
    overall = overall[overall["horizon"] == "overall"].set_index("outcome")
    event_charts: list[dict[str, Any]] = []
    forest_charts: list[dict[str, Any]] = []
    for outcome in charted:
        short = slug(outcome.removeprefix("log_"))
        label = t.code("outcome", outcome)
        why = reason_text_of(overall.loc[outcome], t) if outcome in overall.index else None
        if why is not None:  # no chart: its reason in its place
            event_charts.append(_placeholder(t("fig.event_study", outcome=label), why))
            forest_charts.append(_placeholder(t("fig.forest", outcome=label), why))
            continue
        ev = events.frame() if events is not None else pd.DataFrame()
        ev = ev[ev["outcome"] == outcome] if len(ev) else ev
        if len(ev):
            truth = None
            if true_effects is not None:
                truth = true_effects[
                    (true_effects["program_id"] == pid) & (true_effects["outcome"] == outcome)
                ].copy()
                truth["effect"] = tables.to_display(outcome, truth["effect"], ev["unit"].iloc[0])
            event_charts.append(
                {
                    "chart": charts.div(
                        figures.event_study_figure(ev, t, outcome, truth),
                        image=f"{key}_event_study_{short}",
                    )
                }
            )
        hf = het.frame() if het is not None else pd.DataFrame()
        hf = hf[hf["outcome"] == outcome] if len(hf) else hf
        if len(hf) > 1:  # more than the overall effect
            forest_charts.append(
                {
                    "chart": charts.div(
                        figures.forest_figure(hf, t, outcome),
                        image=f"{key}_effects_by_group_{short}",
                    )
                }
            )
    het_view = None
    if het is not None and len(het.values):
        # the charted outcomes' rows, and the groups of any other outcome estimated by group
        shown = het.values["outcome"].isin(charted) | (het.values["dimension"] != "cohort")
        het_view = table_view(
            het,
            [
                Col("outcome", t("col.outcome"), fmt.code("outcome"), numeric=False),
                *_group_cols(t, fmt),
                Col("effect", t("col.effect"), fmt.effect(), reason=""),
                Col("n_treated", t("col.n_treated"), fmt.number()),
                Col("n_control", t("col.n_control"), fmt.number()),
            ],
            t,
            keys=tables.HETEROGENEITY.keys,
            rows=shown,
            total_label=_is_total,
        )
    returns = _roi_context(roi, tables.benchmarks(inputs), t, fmt, charts, key)
    matching_view = None
    if matched is not None and len(matched.values):
        matching_view = table_view(
            matched,
            [
                Col("outcome", t("col.outcome"), fmt.code("outcome"), numeric=False),
                Col(
                    "unit",
                    t("col.unit"),
                    lambda v, _row: t(f"unit.{v}") if t.has(f"unit.{v}") else str(v),
                    numeric=False,
                ),
                Col("effect", t("col.effect"), fmt.effect(), reason=""),
                Col("n_treated", t("col.n_treated"), fmt.number()),
                Col("n_control", t("col.n_control"), fmt.number()),
            ],
            t,
            keys=tables.MATCHING.keys,
        )
    balance_view = balance_chart = None
    if balance is not None and len(balance.values):
        balance_chart = charts.div(
            figures.balance_figure(balance.frame(), t), image=f"{key}_balance"
        )
        balance_view = table_view(
            balance,
            [
                Col("covariate", t("col.covariate"), fmt.code("covariate"), numeric=False),
                Col("mean_treated_before", t("col.mean_treated_before"), fmt.number(2)),
                Col("mean_control_before", t("col.mean_control_before"), fmt.number(2)),
                Col("smd_before", t("col.smd_before"), fmt.number(3)),
                Col("mean_treated_after", t("col.mean_treated_after"), fmt.number(2)),
                Col("mean_control_after", t("col.mean_control_after"), fmt.number(2)),
                Col("smd_after", t("col.smd_after"), fmt.number(3)),
                Col("n_matched", t("col.n_matched"), fmt.number()),
                Col(
                    "status",
                    t("col.note"),
                    lambda _v, row: reason_text_of(row, t) or "",
                    numeric=False,
                ),
            ],
            t,
            keys=tables.BALANCE.keys,
        )
    robustness = robustness_context(pid, key, horizon, charted, inputs, t, charts)
    return {
        "robustness": robustness,
        "agreement": estimator_agreement(estimates, horizon, t, fmt),
        "horizons": [t(f"horizon.{h}") for h in tables.HORIZONS],
        "horizon_rows": rows,
        "pretrend_warnings": warnings,
        "event_charts": event_charts,
        "forest_charts": forest_charts,
        "heterogeneity": het_view,
        **returns,
        "matching_effects": matching_view,
        "balance": balance_view,
        "balance_chart": balance_chart,
        "matching": tables.matching_used(inputs),
    }


# --- family-wise p-values and a second modern estimator -----------------------------------


def _overall_rows(estimates: pd.DataFrame, estimator: str) -> pd.DataFrame:
    """One program's whole-sample overall effects of `estimator`, one row per outcome."""
    if estimates.empty:
        return estimates
    rows = estimates[
        (estimates["estimator"] == estimator)
        & (estimates["aggregation"] == "simple")
        & (estimates["subgroup"] == "all")
    ]
    rows = rows[rows["key"].isna()] if "key" in rows else rows
    return rows.drop_duplicates("outcome").set_index("outcome")


def romano_wolf_pvalues(estimates: pd.DataFrame) -> dict[str, float]:
    """One program's Romano-Wolf adjusted p-values by outcome (`results.estimates`
    `pvalue_rw`); empty for a warehouse from before migration 024."""
    if "pvalue_rw" not in estimates:
        return {}
    rows = _overall_rows(estimates, ESTIMATOR)
    values = pd.to_numeric(rows["pvalue_rw"], errors="coerce") if len(rows) else pd.Series()
    return {str(o): float(v) for o, v in values.items() if np.isfinite(v)}


def estimator_agreement(
    estimates: pd.DataFrame, horizon: Published, t: Translator, fmt: Formats
) -> list[dict[str, Any]] | None:
    """The table "Do two modern estimators agree?": per outcome, the Callaway-Sant'Anna overall
    effect (as the effects table publishes it) beside the imputation estimator's and the
    legacy two-way fixed effects', each with its 95% interval, in display units. Both are hidden wherever the effects table
    hides the overall effect (the imputation uses the same firms). None when the run
    stored no imputation estimates."""
    imputed = _overall_rows(estimates, IMPUTATION_ESTIMATOR)
    if imputed.empty:
        return None
    legacy = _overall_rows(estimates, TWFE_ESTIMATOR)  # the labelled legacy comparison
    effect = fmt.effect()
    frame = horizon.frame()
    hv = horizon.values
    rows: list[dict[str, Any]] = []
    for outcome in tables.outcome_order(hv["outcome"]):
        found = hv.index[(hv["outcome"] == outcome) & (hv["horizon"] == "overall")]
        if not len(found):
            continue
        i = found[0]
        cs = frame.loc[i]
        hidden = horizon.is_suppressed(i, "effect")
        cells = []
        others = [
            found.loc[outcome] if outcome in found.index else None for found in (imputed, legacy)
        ]
        for row in (cs, *others):
            if row is None:
                cells.append({"text": t("sym.missing"), "classes": "num", "title": ""})
                continue
            why = reason_text_of(row, t)
            if why is not None:
                cells.append({"text": why, "classes": "na", "title": ""})
            elif hidden and horizon.applied:
                cells.append(
                    {
                        "text": t("sym.suppressed"),
                        "classes": "num sup",
                        "title": t("note.suppressed"),
                    }
                )
            else:
                shown = row
                if row is not cs:  # stored in the estimator's units: as the table shows them
                    unit = cs.get("unit")
                    shown = row.copy()
                    for column in ("estimate", "ci_low", "ci_high"):
                        shown[column] = tables.to_display(
                            outcome, pd.Series([row[column]], dtype=float), unit
                        ).iloc[0]
                value = shown["effect"] if row is cs else shown["estimate"]
                flag = " flag" if hidden else ""
                cells.append(
                    {
                        "text": effect(value, shown),
                        "classes": "num" + flag,
                        "title": t("note.would_suppress") if flag else "",
                    }
                )
        rows.append(
            {
                "outcome": outcome,
                "label": t.code("outcome", outcome),
                "unit": t(f"unit.{cs['unit']}") if t.has(f"unit.{cs['unit']}") else "",
                "cells": cells,
            }
        )
    return rows or None


# --- robustness to violations of parallel trends (evaluation.sensitivity) ---------------------


def read_sensitivity(inputs: SiteInputs) -> pd.DataFrame:
    """The run's `results.sensitivity` rows (`queries/sensitivity.sql`, read with the
    edition's inputs); empty in quarterly editions and for a warehouse from before
    migration 022."""
    return inputs.sensitivity


def _bound(value: object, t: Translator) -> str:
    number = float(value)  # type: ignore[arg-type]
    return t.num(number, 0 if number.is_integer() else 1)


def sensitivity_figure(rows: pd.DataFrame, t: Translator, outcome: str) -> go.Figure:
    """HonestDiD's sensitivity plot: the original 95% interval at left, then the robust
    (relative magnitudes) interval at each M̄, in the outcome's display units."""
    unit = str(rows["unit"].dropna().iloc[0]) if rows["unit"].notna().any() else None
    original = rows[(rows["method"] == "original") & rows["lower"].notna()]
    robust = rows[
        (rows["method"] == "relative_magnitudes")
        & (rows["quantity"] == "interval")
        & rows["lower"].notna()
    ].sort_values("m")
    fig = figures.Draft()
    for part, name, color, labels in (
        (original, t("fig.sensitivity_original"), figures.COLORS["comparison"], None),
        (robust, t("fig.sensitivity_robust"), figures.COLORS["beneficiaries"], "m"),
    ):
        if not len(part):
            continue
        low = tables.to_display(outcome, part["lower"].astype(float), unit)
        high = tables.to_display(outcome, part["upper"].astype(float), unit)
        mid = ((low + high) / 2).to_numpy()
        x = [t("fig.sensitivity_original")] * len(part) if labels is None else None
        fig.add_scatter(
            x=x if x is not None else [_bound(v, t) for v in part["m"]],
            y=mid,
            mode="markers",
            name=name,
            marker={"color": color, "size": 4},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (high - mid).to_numpy(),
                "arrayminus": (mid - low).to_numpy(),
                "width": 8,
            },
            hoverinfo="skip",
        )
    fig.add_hline(0, {"color": "#888", "width": 1})
    return figures._layout(
        fig,
        t,
        t("fig.sensitivity", outcome=t.code("outcome", outcome)),
        xaxis={"type": "category", "title": {"text": t("fig.mbar")}},
        yaxis_title=t(f"unit.{unit}") if unit and t.has(f"unit.{unit}") else "",
    )


def breakdown_of(
    rows: pd.DataFrame, outcome: str, horizon: Published, t: Translator
) -> tuple[str, pd.Series | None]:
    """One outcome's breakdown value M̄ (relative magnitudes) among a program's sensitivity
    rows: ("sup", None) where its overall effect is suppressed, as the effects table hides
    it; ("na", row) when there is none, the row saying why; ("breakdown", row); ("", None)
    when the outcome had no sensitivity analysis."""
    hv = horizon.values
    overall = hv.index[(hv["outcome"] == outcome) & (hv["horizon"] == "overall")]
    if len(overall) and horizon.applied and horizon.is_suppressed(overall[0], "effect"):
        return "sup", None
    found = rows[
        (rows["outcome"] == outcome)
        & (rows["method"] == "relative_magnitudes")
        & (rows["quantity"] == "breakdown")
    ]
    if not len(found):
        return "", None
    row = found.iloc[0]
    return ("na" if reason_text_of(row, t) is not None else "breakdown"), row


def robustness_context(
    pid: str,
    key: str,
    horizon: Published,
    charted: tuple[str, ...],
    inputs: SiteInputs,
    t: Translator,
    charts: Charts,
) -> dict[str, Any] | None:
    """The program page's robustness section: per outcome, one sentence with the breakdown
    value M̄ (relative magnitudes) or why there is none, and for the charted outcomes the
    sensitivity chart. Hidden where the overall effect itself is suppressed, as the
    effects table hides it. None when the run stored no sensitivity rows."""
    frame = read_sensitivity(inputs)
    if frame.empty:
        return None
    mine = frame[frame["program_id"] == pid]
    if mine.empty:
        return None
    sentences: list[dict[str, str]] = []
    charts_out: list[dict[str, Any]] = []
    window: tuple[int, int] | None = None
    for outcome in tables.outcome_order(mine["outcome"]):
        rows = mine[mine["outcome"] == outcome]
        label = t.code("outcome", outcome)
        kind, row = breakdown_of(rows, outcome, horizon, t)
        if kind == "sup":
            sentences.append(
                {"outcome": outcome, "text": t("robust.suppressed", outcome=label), "kind": "sup"}
            )
            continue
        if row is None:
            continue
        if kind == "na":
            text = t("robust.no_breakdown", outcome=label, reason=reason_text_of(row, t))
        else:
            at_least = not missing(row.get("at_least")) and bool(row["at_least"])
            name = "robust.breakdown_at_least" if at_least else "robust.breakdown"
            text = t(name, outcome=label, mbar=_bound(row["m"], t))
            if window is None and not missing(row.get("last_event_time")):
                window = (0, int(row["last_event_time"]))
        sentences.append({"outcome": outcome, "text": text, "kind": kind})
        intervals = rows[(rows["method"] == "relative_magnitudes") & rows["lower"].notna()]
        if outcome in charted and len(intervals):
            short = slug(outcome.removeprefix("log_"))
            charts_out.append(
                {
                    "chart": charts.div(
                        sensitivity_figure(rows, t, outcome), image=f"{key}_robustness_{short}"
                    )
                }
            )
    if not sentences:
        return None
    first, last = window or (0, 3)
    return {
        "intro": t("robust.intro", first=first, last=last),
        "sentences": sentences,
        "charts": charts_out,
    }


def _roi_cols(t: Translator, fmt: Formats, internal: bool) -> list[Col]:
    """The return table's columns: each figure with its interval, and for counterfactual
    ones the scale it is on, why, and its pre-entry test on that scale; internal editions
    add the figure on the other scale. A figure shown although neither scale's pre-entry
    test passes carries the warning in its own cell, in words."""

    def decimals(row: pd.Series) -> int:
        return 0 if row.get("metric") == "cost_per_job" else 1

    def estimate(v: object, row: pd.Series) -> str:
        text = t.num(v, decimals(row))
        if not scales.is_warning(row.get("scale_choice")) or missing(v):
            return text
        return Markup('{} <span class="warn">⚠ {}</span>').format(text, t("scale.caution"))

    def interval(prefix: str = "") -> Callable[[object, pd.Series], str]:
        def text(_v: object, row: pd.Series) -> str:
            low, high = row.get(f"{prefix}ci_low"), row.get(f"{prefix}ci_high")
            if missing(low) or missing(high):
                return t("sym.missing")
            n = decimals(row)
            return t.interval(t.num(low, n), t.num(high, n))  # an unbounded end reads ∞

        return text

    def why(v: object, _row: pd.Series) -> str:
        text = scales.choice_text(v, t)
        if scales.is_warning(v):
            return Markup('<span class="warn">⚠ {}</span>').format(text)
        return text or t("sym.missing")

    def pretrend(prefix: str) -> Callable[[object, pd.Series], str]:
        def text(_v: object, row: pd.Series) -> str:
            words = scales.pretrend_text(row, t, prefix)
            passes = row.get(f"{prefix}passes")
            if words and not missing(passes) and not bool(passes):
                return Markup('<span class="warn">{}</span>').format(words)
            return words or t("sym.missing")

        return text

    def other(v: object, row: pd.Series) -> str:
        scale = scales.scale_text(row.get("other_scale"), t)
        if not scale or missing(v):
            return t("sym.missing")
        n = decimals(row)
        low, high = row.get("other_ci_low"), row.get("other_ci_high")
        if missing(low) or missing(high):
            return f"{scale}: {t.num(v, n)} {t('sym.missing')}"
        return f"{scale}: {t.estimate_interval(t.num(v, n), t.num(low, n), t.num(high, n))}"

    cols = [
        Col("metric", t("col.metric"), fmt.code("metric"), numeric=False),
        Col("basis", t("col.basis"), fmt.code("basis"), numeric=False),
        Col("estimate", t("col.estimate"), estimate, reason=""),
        Col("ci_low", t("col.ci"), interval(), protects=("estimate",), reason="", quiet=True),
        Col(
            "scale",
            t("col.scale"),
            lambda v, _row: scales.scale_text(v, t) or t("sym.missing"),
            numeric=False,
            reason="",
            quiet=True,
        ),
        Col("scale_choice", t("col.scale_choice"), why, numeric=False, reason="", quiet=True),
        Col(
            "pretrend_passes",
            t("col.roi_pretrend"),
            pretrend("pretrend_"),
            numeric=False,
            reason="",
            quiet=True,
        ),
        Col("beneficiaries", t("col.beneficiaries"), fmt.number()),
    ]
    if internal:
        cols += [
            Col(
                "other_estimate",
                t("col.other_estimate"),
                other,
                numeric=False,
                protects=("estimate",),
                reason="other_",
            ),
            Col(
                "other_pretrend_passes",
                t("col.other_pretrend"),
                pretrend("other_pretrend_"),
                numeric=False,
                protects=("estimate",),
                reason="other_",
                quiet=True,
            ),
        ]
    return cols


def _roi_context(
    roi: Published | None,
    bench: pd.DataFrame,
    t: Translator,
    fmt: Formats,
    charts: Charts,
    key: str,
) -> dict[str, Any]:
    """The return section of a program page: the table, its two charts, the figures not
    in them and why, the figures shown with neither scale's pre-entry test passing, and the
    benchmarks (each marked gross or modelled)."""
    out: dict[str, Any] = {
        "roi": None,
        "roi_charts": None,
        "roi_notes": [],
        "roi_warnings": [],
        "roi_internal": False,
    }
    if roi is not None and len(roi.values):
        internal = "other_scale" in roi.values.columns
        out["roi_internal"] = internal
        out["roi"] = table_view(roi, _roi_cols(t, fmt, internal), t, keys=tables.ROI.keys)
        rf = roi.frame()
        out["roi_charts"] = [
            charts.div(
                figures.roi_figure(rf, bench, t, "return"), image=f"{key}_return_per_dollar"
            ),
            charts.div(
                figures.roi_figure(rf, bench, t, "cost_per_job"), image=f"{key}_cost_per_job"
            ),
        ]
        for _, row in rf.iterrows():
            metric = t.code("metric", str(row["metric"]))
            why = reason_text_of(row, t)
            if why is not None:
                out["roi_notes"].append(f"{metric} ({t.code('basis', str(row['basis']))}): {why}")
            elif scales.is_warning(row.get("scale_choice")):
                out["roi_warnings"].append(metric)
    out["benchmarks"] = table_view(
        Published("benchmarks", bench, pd.DataFrame(index=bench.index), False),
        [
            Col(
                "program",
                t("col.benchmark_program"),
                lambda v, row: f"{v} ({row['country']})",
                numeric=False,
            ),
            Col("metric", t("col.metric"), fmt.code("metric"), numeric=False),
            Col("outcome", t("col.outcome"), fmt.code("bench"), numeric=False),
            Col("value", t("col.benchmark_value"), fmt.number(1)),
            Col("unit", t("col.benchmark_unit"), fmt.code("bench"), numeric=False),
            Col(
                "kind",
                t("col.benchmark_kind"),
                lambda _v, row: scales.kind_text(row.get("basis"), t),
                numeric=False,
            ),
            Col("basis", t("col.benchmark_basis"), fmt.code("bench"), numeric=False),
            Col("period", t("col.benchmark_period"), fmt.text(), numeric=False),
            Col("source", t("col.source"), fmt.text(), numeric=False, identifier=True),
        ],
        t,
        keys=tables.BENCHMARKS.keys,
    )
    return out


REJECTED_SHOWN = 100  # rejected rows listed on the page; all of them in the CSV beside it


def quality_context(
    inputs: SiteInputs,
    tabs: dict[str, Published],
    t: Translator,
    fmt: Formats,
    docs_link: str | None,
    public: bool,
) -> dict[str, Any]:
    """The context of the data-quality page: scorecard, quarantine, loads, Data Docs."""
    scorecard = tabs.get("scorecard")
    summary = details = None
    if scorecard is not None:
        sc = scorecard.frame()
        overall = sc[(sc["grain"] == "entity") & sc["detail"].isna()]
        dims = [
            d
            for d in (
                "completeness",
                "validity",
                "uniqueness",
                "timeliness",
                "consistency",
                "attrition",
                "response_rate",
            )
            if (overall["dimension"] == d).any()
        ]
        hidden = (
            scorecard.suppressed["value"].to_numpy(dtype=bool)
            if public and "value" in scorecard.suppressed
            else np.zeros(len(sc), dtype=bool)
        )
        # public shares are whole percents (reports.disclosure.protect_shares)
        digits = 0 if public else 1
        summary = {
            "headers": [t("col.entity")] + [t(f"quality.{d}") for d in dims],
            "rows": [
                [t.code("entity", entity)]
                + [
                    _quality_value(rows.loc[rows["dimension"] == d], t, hidden, digits)
                    for d in dims
                ]
                for entity, rows in overall.groupby("entity", sort=True)
            ],
        }
        entity_rows = sc["grain"] == "entity"

        def _detail(v: object, row: pd.Series) -> str:
            # a contract column, a check or a group: checks and groups have labels
            if missing(v):
                return t("sym.missing")
            domain = {"consistency": "rule", "attrition": "group"}.get(str(row["dimension"]), "")
            return t.code(domain, v) if domain else str(v)

        details = table_view(
            scorecard,
            [
                Col("entity", t("col.entity"), fmt.code("entity"), numeric=False),
                Col("dimension", t("col.quality_dimension"), fmt.code("quality"), numeric=False),
                Col("detail", t("col.detail"), _detail, numeric=False, identifier=True),
                Col("value", t("col.setting"), fmt.number(2 if public else 3)),
            ],
            t,
            keys=tables.SCORECARD.keys,
            rows=entity_rows,
        )
    quarantine = tabs["quarantine"]
    quarantine_view = table_view(
        quarantine,
        [
            Col("entity", t("col.entity"), fmt.code("entity"), numeric=False),
            Col("rule", t("col.rule"), fmt.code("rule"), numeric=False),
            Col("rows", t("col.rows"), fmt.number()),
        ],
        t,
        keys=tables.QUARANTINE.keys,
        total_label=_is_total,
    )
    loads = tabs.get("loads")
    loads_view = None
    if loads is not None:
        loads_view = table_view(
            loads,
            [
                Col("entity", t("col.entity"), fmt.code("entity"), numeric=False),
                Col(
                    "source_file", t("col.source_file"), fmt.text(), numeric=False, identifier=True
                ),
                Col("rows_in", t("col.rows_in"), fmt.number()),
                Col("rows_loaded", t("col.rows_loaded"), fmt.number()),
                Col("rows_quarantined", t("col.rows_quarantined"), fmt.number()),
                Col(
                    "content_sha256",
                    t("col.content_sha256"),
                    lambda v, _r: str(v)[:16],
                    numeric=False,
                    identifier=True,
                ),
            ],
            t,
            keys=tables.LOADS.keys,
        )
    rejected = tabs.get("quarantine_rows")
    rejected_view = None
    if rejected is not None:  # internal editions only (reports.tables.build_tables)
        first = pd.Series(np.arange(len(rejected.values)) < REJECTED_SHOWN)
        rejected_view = {
            "rows": t.num(len(rejected.values)),
            "shown": t.num(min(len(rejected.values), REJECTED_SHOWN)),
            "csv": "tables/quarantine_rows.csv",
            "table": table_view(
                rejected,
                [
                    Col("entity", t("col.entity"), fmt.code("entity"), numeric=False),
                    Col("source_file", t("col.source_file"), fmt.text(), False, identifier=True),
                    Col("row_number", t("col.row"), fmt.number()),
                    Col("column", t("col.column"), fmt.text(), numeric=False, identifier=True),
                    Col("rule", t("col.rule"), fmt.code("rule"), numeric=False),
                    Col("value", t("col.submitted_value"), fmt.text(), False, identifier=True),
                    Col("reason", t("col.reason"), fmt.text(), numeric=False, identifier=True),
                ],
                t,
                keys=tables.QUARANTINE_ROWS.keys,
                rows=first,
            ),
        }
    decisions = tabs.get("decisions")
    decisions_view = None
    if decisions is not None:  # internal editions only (reports.tables.build_tables)
        decisions_view = table_view(
            decisions,
            [
                Col(
                    "source_file", t("col.source_file"), fmt.text(), numeric=False, identifier=True
                ),
                Col("row_number", t("col.row"), fmt.number()),
                Col("firm_id", t("col.pseudonym"), fmt.text(), numeric=False, identifier=True),
                Col("action", t("col.action"), fmt.code("decision"), numeric=False),
                Col("column_name", t("col.column"), fmt.text(), numeric=False, identifier=True),
                Col("old_value", t("col.old_value"), fmt.text(), numeric=False, identifier=True),
                Col("new_value", t("col.new_value"), fmt.text(), numeric=False, identifier=True),
                Col("decided_by", t("col.decided_by"), fmt.text(), numeric=False, identifier=True),
                Col(
                    "decided_on",
                    t("col.decided_on"),
                    lambda v, _r: "" if missing(v) else str(v)[:10],
                    numeric=False,
                ),
                Col("reason", t("col.why"), fmt.text(), numeric=False, identifier=True),
                Col("status", t("col.decision_status"), fmt.code("decision_status"), numeric=False),
                Col("detail", t("col.detail"), fmt.text(), numeric=False, identifier=True),
            ],
            t,
            keys=tables.DECISIONS.keys,
        )
    claims = tabs.get("claims")
    response = None
    if claims is not None and len(claims.values):
        names = dict(zip(inputs.programs["program_id"], inputs.programs["name"], strict=True))
        values = claims.values
        # a program without a survey: one row saying so
        shown = (values["reason"].astype(object) != NO_SURVEY) | (
            values["measure"] == tables.CLAIM_MEASURES[0]
        )
        response = table_view(
            claims, _response_cols(t, fmt, names), t, keys=tables.CLAIMS.keys, rows=shown
        )
    return {
        "survey_response": response,
        "scorecard_summary": summary,
        "scorecard_details": details,
        "quarantine": quarantine_view if len(quarantine.values) else None,
        "loads": loads_view,
        "decisions": decisions_view,
        "rejected": rejected_view,
        "docs_link": docs_link,
        "docs_available": docs_link is not None
        or (public and data_docs_folder(inputs, None) is not None),
    }


def _quality_value(rows: pd.DataFrame, t: Translator, hidden: np.ndarray, digits: int) -> str:
    if rows.empty:
        return t("sym.missing")
    if hidden[rows.index[0]]:
        return t("sym.suppressed")
    value, unit = rows["value"].iloc[0], rows["unit"].iloc[0]
    if unit == "days":
        return t.num(value, 0)
    return t.num(100 * float(value), digits) + "%" if pd.notna(value) else t("sym.missing")


OUTLIERS_PAGE = "outliers.html"


def read_outliers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The flagged outliers with their latest review (queries/outliers.sql), or None when
    the warehouse has no outlier flags yet (models not built) or no review table."""
    if not (
        table_exists(con, "marts", "mart_outlier_flags")
        and table_exists(con, "meta", "outlier_reviews")
    ):
        return None
    return run_query(con, "outliers")


def outliers_context(outliers: pd.DataFrame, t: Translator, fmt: Formats) -> dict[str, Any]:
    """The context of the outlier page (internal editions only: firm by firm): one table per
    rule, most severe first, with each flag's follow-up status."""
    # firm pseudonyms, years and outcome codes as the corrections file names them
    published = Published("outliers", outliers, pd.DataFrame(index=outliers.index), False)

    def severity(v: object, row: pd.Series) -> str:
        if missing(v):
            return t("sym.missing")
        if row["rule"] == "growth":
            return t.signed(row["robust_z"], 1)  # robust z: the sign says which way
        return t.num(v, 1) + "×"

    columns = [
        Col("firm_id", t("outliers.col_firm"), fmt.text(), numeric=False, identifier=True),
        Col("year", t("col.year"), lambda v, _r: str(v), numeric=False),
        Col("outcome", t("outliers.col_outcome"), fmt.text(), numeric=False, identifier=True),
        Col("severity", t("outliers.col_severity"), severity),
        Col("status", t("outliers.col_status"), fmt.code("review"), numeric=False),
        Col("decided_by", t("outliers.col_decided_by"), fmt.text(), numeric=False),
        Col("reason", t("outliers.col_reason"), fmt.text(), numeric=False),
    ]
    keys = ("rule", "firm_id", "year", "outcome")
    sections = []
    for rule in ("wage_per_worker_level", "growth"):
        rows = outliers["rule"] == rule
        if not rows.any():
            continue
        sections.append(
            {
                "rule": rule,
                "title": t.code("outlier_rule", rule),
                "note": t(f"outliers.note_{rule}"),
                "table": table_view(published, columns, t, keys=keys, rows=rows),
            }
        )
    counts = outliers["status"].value_counts()
    return {
        "sections": sections,
        "n_flags": len(outliers),
        "status_counts": [
            (t.code("review", s), int(counts.get(s, 0)))
            for s in ("open", "checked", "confirmed", "corrected")
        ],
    }


def methodology_context(
    inputs: SiteInputs,
    published: tables.SiteTables,
    t: Translator,
    rules: DisclosureRules,
    price_base_year: int,
) -> dict[str, Any]:
    """The context of the methodology page: texts with this run's parameters and
    the count of suppressed cells by table and rule."""
    spec = inputs.specification or (inputs.run.get("parameters") or {}).get("evaluation", {})
    control = t.code("control_group", spec.get("control_group", "nevertreated"))
    log = published.log
    summary = []
    if len(log):
        counts = log.groupby(["table", "rule"], sort=True).size()
        summary = [
            (t(f"table.{table}"), rule_text(rule, t, rules), t.num(n))
            for (table, rule), n in counts.items()
        ]
    parameters = [
        (t("param.control_group"), control),
        (t("param.anticipation"), t.num(spec.get("anticipation", 0))),
        (t("param.min_subgroup_beneficiaries"), t.num(spec.get("min_subgroup_beneficiaries", 30))),
        (t("param.displacement"), t.num(100 * float(spec.get("displacement", 0.0)), 0) + "%"),
        (t("param.deadweight"), t.num(100 * float(spec.get("deadweight", 0.0)), 0) + "%"),
        (t("param.matching_caliper"), t.num(spec.get("matching_caliper", 0.2), 2)),
        (t("param.pretrend_level"), t.num(spec.get("pretrend_level", 0.05), 2)),
        (t("param.min_firms"), t.num(rules.min_firms)),
        (
            t("param.dominance"),
            t(
                "disclosure.dominance",
                n=rules.dominance_top,
                share=t.num(100 * rules.dominance_share),
            ),
        ),
    ]
    return {
        "text": {
            "did": t("method.did", control_group=control),
            "subgroups": t(
                "method.subgroups", min_subgroup=spec.get("min_subgroup_beneficiaries", 30)
            ),
            "matching": t("method.matching", caliper=t.num(spec.get("matching_caliper", 0.2), 2)),
            "roi": t("method.roi"),
            "roi_scales": t("method.roi_scales"),
            "roi_choice": t("method.roi_choice"),
            "roi_unbounded": t("method.roi_unbounded"),
            "roi_adjustments": t(
                "method.roi_adjustments",
                displacement=t.num(100 * float(spec.get("displacement", 0.0))),
                deadweight=t.num(100 * float(spec.get("deadweight", 0.0))),
            ),
            "roi_benchmarks": t("method.roi_benchmarks"),
            "roi_parallel": t("method.roi_parallel"),
            "claims": t("method.claims"),
            "parallel": t(
                "method.parallel",
                level=t.num(spec.get("pretrend_level", 0.05), 2),
                min_firms=t.num(spec.get("pretrend_min_firms", 50), 0),
            ),
            "anticipation": t("method.anticipation", anticipation=spec.get("anticipation", 0)),
            "prices": t("method.prices", year=price_base_year),
            "disclosure": t(
                "method.disclosure_text",
                k=rules.min_firms,
                n=rules.dominance_top,
                share=t.num(100 * rules.dominance_share),
            ),
        },
        # why a return figure is on its scale: every code, as pages show it
        "scale_choices": [(code, scales.choice_text(code, t)) for code in SCALE_CHOICES],
        "disclosure_summary": summary,
        "protection": protection_view(published.certificate, t, rules),
        "parameters": parameters,
        # every reason a page may show, so that a reader can look any of them up
        "statuses": statuses(t),
        "reasons": catalogue(t),
        "reasons_note": t("method.reasons_list", k=rules.min_firms),
    }


def protection_view(
    certificate: Certificate | None, t: Translator, rules: DisclosureRules
) -> dict[str, Any] | None:
    """The disclosure audit in words for the methodology page: what was audited, how many
    cells are suppressed, how many primary cells meet their protection. Counts only:
    like `protection.json` of a public edition, no cell's ratio (it would give its value
    away to anyone who computes the interval)."""
    if certificate is None:
        return None
    n = len(certificate.findings)
    passing = sum(f.passes for f in certificate.findings)
    return {
        "text": t(
            "method.audit_text",
            p=t.num(100 * rules.protection),
            k=rules.min_firms,
            share=t.num(100 * rules.dominance_share),
        ),
        "rows": [
            (t("audit.tables"), ", ".join(t(f"table.{x}") for x in certificate.tables)),
            (t("audit.suppressed"), t.num(certificate.suppressed)),
            (t("audit.added"), t.num(certificate.added)),
            (t("audit.audited"), t.num(n)),
            (t("audit.passing"), t.num(passing)),
        ],
        "verdict": t("audit.pass" if certificate.passes else "audit.fail", n=n - passing),
        "passes": certificate.passes,
    }


def _describe_key(row: str, t: Translator) -> str:
    """A row key in words: "Program: SYN-CHL-PDP; Year: 2012"."""
    key = json.loads(row)
    parts = []
    for k, v in key.items():
        if k == "is_total":
            if v:
                parts.append(t("value.total"))
            continue
        label = t(f"col.{k}") if t.has(f"col.{k}") else k
        domain = str(key.get("dimension", "")) if k == "value" else k
        text = t("sym.missing") if v is None else t.code(domain, v)
        parts.append(f"{label}: {text}")
    return "; ".join(parts)


def _figure_in_words(table: object, row: object, column: object, t: Translator) -> dict[str, str]:
    """Where a published figure is, in words: its table, row and column."""
    return {
        "table": t(f"table.{table}") if t.has(f"table.{table}") else str(table),
        "row": _describe_key(str(row), t),
        "column": t(f"col.{column}") if t.has(f"col.{column}") else str(column),
    }


def changes_view(changes: pd.DataFrame | None, t: Translator) -> list[dict[str, str]]:
    """The first changes of a restatement, in words, for the changes page."""
    if changes is None or changes.empty:
        return []
    return [
        {
            **_figure_in_words(c.table, c.row, c.column, t),
            "old": _change_value(c.old, t),
            "new": _change_value(c.new, t),
            "change": t(f"change.{c.change}"),
        }
        for c in changes.head(MAX_CHANGES_SHOWN).itertuples()
    ]


def changes_summary_view(summary: dict[str, Any] | None, t: Translator) -> dict[str, Any] | None:
    """The summary that opens a restatement (`reports.editions.changes_summary`), in
    words: the count of each kind of change, the largest changes, and why the figures
    changed (data and code versions, runs, the input files that differ)."""
    if summary is None:
        return None
    previous = summary["previous"]
    data, code, run = summary["data_version"], summary["code_version"], summary["run"]
    why = [
        t("changes.data_same", previous=previous, version=data["this"])
        if data["previous"] == data["this"]
        else t("changes.data_differ", previous=previous, old=data["previous"], new=data["this"]),
        t("changes.code_same", version=code["this"])
        if code["previous"] == code["this"]
        else t("changes.code_differ", old=code["previous"], new=code["this"]),
        t("changes.same_run", run=run["this"])
        if run["previous"] == run["this"]
        else t("changes.runs", old=run["previous"], new=run["this"]),
    ]
    unchanged = data["previous"] == data["this"] and code["previous"] == code["this"]
    if unchanged and summary["changed"]:
        why.append(t("changes.settings"))
    differ = summary["loads_added"] or summary["loads_removed"]
    return {
        "changed": summary["changed"],
        "counts": [
            (t(f"change.{kind}"), t.num(n)) for kind, n in summary["by_change"].items() if n
        ],
        "largest": [
            {
                **_figure_in_words(c["table"], c["row"], c["column"], t),
                "old": _change_value(c["old"], t),
                "new": _change_value(c["new"], t),
                "relative": t("changes.from_zero")
                if c["relative"] is None
                else t.signed(100 * c["relative"] * _sign(c["new"] - c["old"]), 1) + "%",
            }
            for c in summary["largest"]
        ],
        "why": why,
        "loads_added": [_load_row(r, t) for r in summary["loads_added"]],
        "loads_removed": [_load_row(r, t) for r in summary["loads_removed"]],
        "loads_note": ""
        if differ
        else t("changes.loads_none")
        if summary["loads_known"]
        else t("changes.loads_unknown", previous=previous),
        "previous": previous,
    }


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _load_row(record: dict[str, Any], t: Translator) -> dict[str, str]:
    """One input file of meta.loads as a row of the changes page."""
    loaded = record.get("loaded_at")
    return {
        "entity": t.code("entity", record["entity"]),
        "file": str(record["source_file"]),
        "rows_in": t.num(record.get("rows_in")),
        "rows_loaded": t.num(record.get("rows_loaded")),
        "rows_quarantined": t.num(record.get("rows_quarantined")),
        "hash": str(record["content_sha256"]),
        "loaded_at": str(loaded)[:19].replace("T", " ") + " UTC" if loaded else t("sym.missing"),
    }


def _change_value(v: object, t: Translator) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return t("sym.missing")
    if isinstance(v, bool):
        return t("value.yes" if v else "value.no")
    if isinstance(v, int | float):
        return t.num(v, _decimals(float(v)))
    return str(v)


def _decimals(x: float) -> int:
    """Decimals that show a changed figure: 2, or up to 6 for a small one, so that a
    revision from 0.00003 is not written as one from 0.00 (3 significant digits)."""
    if x.is_integer():
        return 0
    if abs(x) >= 0.01:
        return 2
    return min(6, 2 - int(np.floor(np.log10(abs(x)))))
