"""What the CLI prints after a run: loads, headline effects, and per-program evaluations."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from warehouse.load import LoadReport


def _ci(est: float, low: float, high: float, fmt: str = "{:+.3f}") -> str:
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "n/a"
    return f"{fmt.format(est)} [{fmt.format(low)}, {fmt.format(high)}]"


def print_loads(console: Console, loads: list[LoadReport]) -> None:
    """Rows in, loaded and quarantined per file."""
    table = Table(title="Loads: every input row is loaded or quarantined", title_justify="left")
    for column in ("entity", "file", "rows in", "loaded", "quarantined"):
        table.add_column(column, justify="left" if column in ("entity", "file") else "right")
    for load in loads:
        note = " (unchanged, skipped)" if load.skipped else ""
        table.add_row(
            load.entity,
            load.source_file + note,
            f"{load.rows_in:,}",
            f"{load.rows_loaded:,}",
            f"{load.rows_quarantined:,}",
        )
    console.print(table)
    if any(load.rows_quarantined for load in loads):
        console.print("Quarantined rows and their reasons: table meta.quarantine in the warehouse.")


def print_headline(console: Console, simple: pd.DataFrame, truth: pd.DataFrame | None) -> None:
    """Simple ATT on the headline outcomes, with the planted truth for demo data."""
    table = Table(
        title="Average effect on the treated, log points (Callaway-Sant'Anna 2021, simple)",
        title_justify="left",
    )
    columns = ["program", "outcome", "ATT [95% CI]", "in %", "firms T/C"]
    if truth is not None:
        columns.append("planted")
    for column in columns:
        table.add_column(column, no_wrap=True)
    planted = (
        {} if truth is None else {(t.program_id, t.outcome): t.att for t in truth.itertuples()}
    )
    for row in simple[simple["outcome"].isin(["log_sales", "log_employment"])].itertuples():
        cells = [
            str(row.program_id),
            str(row.outcome).removeprefix("log_"),
            _ci(row.estimate, row.ci_low, row.ci_high),
            f"{100 * math.expm1(row.estimate):+.1f}%",
            f"{row.n_treated:,} / {row.n_control:,}",
        ]
        if truth is not None:
            value = planted.get((row.program_id, row.outcome))
            cells.append("" if value is None else f"{value:+.3f}")
        table.add_row(*cells)
    console.print(table)


def print_evaluation(console: Console, estimates: pd.DataFrame, ratios: pd.DataFrame) -> None:
    """Per program: effects by horizon with intervals, the pre-trend verdict, ROI and cost per job."""
    overall = estimates[
        (estimates["subgroup"] == "all") & (estimates["estimator"] == "callaway_santanna_2021")
    ]
    matched = estimates[estimates["estimator"] == "matching_did"]
    for program_id, rows in overall.groupby("program_id", sort=True):
        table = Table(
            title=f"{program_id}: effects by years since entry [95% CI]", title_justify="left"
        )
        for column in (
            "outcome",
            "short (0-1)",
            "medium (2-3)",
            "long (4+)",
            "all years",
            "pre-trends",
        ):
            table.add_column(column, no_wrap=True)
        for outcome, per in rows.groupby("outcome", sort=False):
            horizon = per[per["aggregation"] == "horizon"].set_index("label")
            simple = per[per["aggregation"] == "simple"].iloc[0]
            cells = [str(outcome)]
            for name in ("short", "medium", "long"):
                cells.append(
                    _ci(*horizon.loc[name, ["estimate", "ci_low", "ci_high"]])
                    if name in horizon.index
                    else "n/a"
                )
            cells.append(_ci(simple["estimate"], simple["ci_low"], simple["ci_high"]))
            passes = simple["pretrend_passes"]
            verdict = "n/a" if pd.isna(passes) else ("ok" if passes else "FAIL")
            cells.append(
                f"{verdict} (p={simple['pretrend_pvalue']:.2f})" if not pd.isna(passes) else verdict
            )
            table.add_row(*cells)
        console.print(table)
        m = matched[(matched["program_id"] == program_id) & (matched["aggregation"] == "simple")]
        for r in m.itertuples():
            console.print(
                f"  matching + DID, {r.outcome} ({r.label}): {_ci(r.estimate, r.ci_low, r.ci_high)}, "
                f"{int(r.n_treated):,} matched beneficiaries"
            )
        program_ratios = ratios[ratios["program_id"] == program_id]
        if len(program_ratios):
            console.print(_roi_table(program_ratios))


def _roi_table(ratios: pd.DataFrame) -> Table:
    table = Table(title="Return and cost per job (constant USD)", title_justify="left")
    for column in ("metric", "basis", "estimate [95% CI]", "public cost", "beneficiaries"):
        table.add_column(column, no_wrap=True)
    for r in ratios.itertuples():
        fmt = "{:,.0f}" if r.metric == "cost_per_job" else "{:.2f}"
        shown = _ci(r.estimate, r.ci_low, r.ci_high, fmt).replace("inf", "unbounded")
        if r.basis == "self_reported":
            shown = fmt.format(r.estimate) + " (gross)"
        table.add_row(r.metric, r.basis, shown, f"{r.public_cost_usd:,.0f}", f"{r.beneficiaries:,}")
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
