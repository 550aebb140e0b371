"""What the CLI prints after a run: loads, headline effects, and per-program evaluations."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from evaluation.reasons import ESTIMATED, Reason
from evaluation.roi import SCALE_CHOICES
from warehouse.load import LoadReport


def _ci(est: float, low: float, high: float, fmt: str = "{:+.3f}") -> str:
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "n/a"
    return f"{fmt.format(est)} [{fmt.format(low)}, {fmt.format(high)}]"


def print_loads(console: Console, loads: list[LoadReport]) -> None:
    """Rows in, loaded and quarantined per file."""
    table = Table(title="Loads: every input row is loaded or quarantined", title_justify="left")
    dropped = any(load.rows_dropped for load in loads)
    columns = ["entity", "file", "rows in", "loaded", "quarantined"]
    columns += ["of which dropped by decision"] if dropped else []
    for column in columns:
        table.add_column(column, justify="left" if column in ("entity", "file") else "right")
    for load in loads:
        note = " (unchanged, skipped)" if load.skipped else ""
        cells = [
            load.entity,
            load.source_file + note,
            f"{load.rows_in:,}",
            f"{load.rows_loaded:,}",
            f"{load.rows_quarantined:,}",
        ]
        table.add_row(*cells, *([f"{load.rows_dropped:,}"] if dropped else []))
    console.print(table)
    if any(load.rows_quarantined for load in loads):
        console.print(
            "Quarantined rows and their reasons: mes-eval quarantine --config F "
            "(decisions on them: a corrections file, see the README)."
        )
    applied = sum(load.decisions_applied for load in loads)
    unmatched = [(load.source_file, line) for load in loads for line in load.decisions_unmatched]
    if applied or unmatched:
        console.print(
            f"Decisions of the corrections file: {applied} applied, {len(unmatched)} not."
        )
    for file, line in unmatched:  # a decision that no longer matches is said, never ignored
        console.print(Text(f"  not applied, {file}: {line}", style="yellow"), soft_wrap=True)


def _reason(row: Any) -> str | None:
    """The row's "not estimated: ..." note, or None for an estimated row."""
    status = getattr(row, "status", None)
    if status is None or pd.isna(status) or status == ESTIMATED:
        return None
    note = getattr(row, "note", None)
    if note is not None and not pd.isna(note):
        return str(note)
    return describe_row(row)


def describe_row(row: Any) -> str:
    """A stored reason in English, from its code and parameters."""
    return Reason(str(row.reason), _params(row.reason_params)).note


def _params(value: object) -> dict[str, Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)  # type: ignore[call-overload]


def _pretrend(row: Any) -> str:
    passes = row.pretrend_passes
    if passes is not None and not pd.isna(passes):
        return f"{'ok' if passes else 'FAIL'} (p={row.pretrend_pvalue:.2f})"
    code = getattr(row, "pretrend_reason", None)
    if code is not None and not pd.isna(code):
        return "not run: " + Reason(str(code), _params(row.pretrend_reason_params)).text
    return "n/a"


def print_headline(console: Console, simple: pd.DataFrame, truth: pd.DataFrame | None) -> None:
    """Simple ATT on the headline outcomes, with the planted truth for demo data; a result
    that could not be estimated shows its reason."""
    table = Table(
        title="Average effect on the treated, log points (Callaway-Sant'Anna 2021, simple)",
        title_justify="left",
    )
    columns = ["program", "outcome", "ATT [95% CI]", "in %", "firms T/C"]
    if truth is not None:
        columns.append("planted")
    for column in columns:
        table.add_column(column, no_wrap=column != "ATT [95% CI]")
    planted = (
        {} if truth is None else {(t.program_id, t.outcome): t.att for t in truth.itertuples()}
    )
    for row in simple[simple["outcome"].isin(["log_sales", "log_employment"])].itertuples():
        reason = _reason(row)
        cells = [
            str(row.program_id),
            str(row.outcome).removeprefix("log_"),
            reason or _ci(row.estimate, row.ci_low, row.ci_high),
            "" if reason else f"{100 * math.expm1(row.estimate):+.1f}%",
            _firms(row),
        ]
        if truth is not None:
            value = planted.get((row.program_id, row.outcome))
            cells.append("" if value is None else f"{value:+.3f}")
        table.add_row(*cells)
    console.print(table)


def _firms(row: Any) -> str:
    counts = [row.n_treated, row.n_control]
    if any(c is None or pd.isna(c) for c in counts):
        return ""
    return f"{int(counts[0]):,} / {int(counts[1]):,}"


def _prob(value: object) -> str:
    """A p- or q-value to three decimals ("<0.001" below), blank when there is none."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    number = float(value)  # type: ignore[arg-type]
    return "<0.001" if number < 0.001 else f"{number:.3f}"


def print_evaluation(console: Console, estimates: pd.DataFrame, ratios: pd.DataFrame) -> None:
    """Per program: effects by horizon with intervals, the overall effect's p-value and
    sharpened q-value over the program's outcomes, the pre-trend verdict, ROI and cost
    per job; what could not be estimated says why."""
    overall = estimates[
        (estimates["subgroup"] == "all") & (estimates["estimator"] == "callaway_santanna_2021")
    ]
    matched = estimates[estimates["estimator"] == "matching_did"]
    for program_id in sorted(estimates["program_id"].unique()):
        rows = overall[overall["program_id"] == program_id]
        table = Table(
            title=f"{program_id}: effects by years since entry [95% CI]", title_justify="left"
        )
        for column in (
            "outcome",
            "short (0-1)",
            "medium (2-3)",
            "long (4+)",
            "all years",
            "p",
            "q (sharpened)",
            "pre-trends",
        ):
            table.add_column(column, no_wrap=column == "outcome")
        for outcome, per in rows.groupby("outcome", sort=False):
            simple = next(per[per["aggregation"] == "simple"].itertuples())
            reason = _reason(simple)
            if reason:
                table.add_row(str(outcome), reason, "", "", "", "", "", "")
                continue
            horizon = per[per["aggregation"] == "horizon"].set_index("label")
            cells = [str(outcome)]
            for name in ("short", "medium", "long"):
                cells.append(
                    _ci(*horizon.loc[name, ["estimate", "ci_low", "ci_high"]])
                    if name in horizon.index
                    else "n/a"
                )
            cells.append(_ci(simple.estimate, simple.ci_low, simple.ci_high))
            # over the program's family of outcomes (evaluation.multiple)
            cells += [_prob(getattr(simple, c, None)) for c in ("pvalue", "qvalue")]
            cells.append(_pretrend(simple))
            table.add_row(*cells)
        console.print(table)
        m = matched[(matched["program_id"] == program_id) & (matched["aggregation"] == "simple")]
        for r in m.itertuples():
            reason = _reason(r)
            shown = reason or (
                f"({r.label}): {_ci(r.estimate, r.ci_low, r.ci_high)}, "
                f"{int(r.n_treated):,} matched beneficiaries"
            )
            console.print(f"  matching + DID, {r.outcome} {shown}", soft_wrap=True, highlight=False)
        program_ratios = ratios[ratios["program_id"] == program_id] if len(ratios) else ratios
        if len(program_ratios):
            console.print(_roi_table(program_ratios))


def _roi_table(ratios: pd.DataFrame) -> Table:
    """The figures shown (one scale per counterfactual figure, with why that scale)."""
    table = Table(title="Return and cost per job (constant USD)", title_justify="left")
    for column in (
        "metric",
        "basis",
        "estimate [95% CI]",
        "public cost",
        "beneficiaries",
        "scale: why",
    ):
        table.add_column(column, no_wrap=column not in ("estimate [95% CI]", "scale: why"))
    if "shown" in ratios:
        ratios = ratios[ratios["shown"].fillna(True).astype(bool)]
    for r in ratios.itertuples():
        scale = getattr(r, "scale", None)
        why = getattr(r, "scale_choice", None)
        scale_note = "" if scale is None or pd.isna(scale) else str(scale)
        if why is not None and not pd.isna(why):
            scale_note += ": " + SCALE_CHOICES.get(str(why), str(why))
        reason = _reason(r)
        if reason:
            table.add_row(r.metric, r.basis, reason, "", "", scale_note)
            continue
        fmt = "{:,.0f}" if r.metric == "cost_per_job" else "{:.2f}"
        shown = _ci(r.estimate, r.ci_low, r.ci_high, fmt).replace("inf", "unbounded")
        if r.basis == "self_reported":
            shown = fmt.format(r.estimate) + " (gross)"
        table.add_row(
            r.metric,
            r.basis,
            shown,
            f"{r.public_cost_usd:,.0f}",
            f"{int(r.beneficiaries):,}",
            scale_note,
        )
    return table


def cache_note(estimated: list[str], reused: dict[str, str]) -> str | None:
    """Which programs were estimated and which reused an earlier run's results, or None
    when every program was estimated."""
    if not reused:
        return None
    runs = ", ".join(sorted(set(reused.values())))
    if not estimated:
        return f"Data and specification unchanged: results reused from run {runs}."
    return (
        f"Estimated: {', '.join(estimated)} (inputs changed); reused from run {runs}: "
        f"{', '.join(sorted(reused))} (inputs unchanged)."
    )
