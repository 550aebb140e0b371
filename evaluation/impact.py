"""The evaluation design of record, per program: effects, horizons, subgroups, ROI.

For each program and outcome, Callaway and Sant'Anna (2021) group-time effects and their
four aggregations (simple, by entry cohort, by years since entry, by calendar year), the
report's horizons (short: 0-1, medium: 2-3, long: 4+ years since entry), a Wald pre-trend
test, and the headline effects by size class, sector and region (new samples, to see
whether to re-target). Level effects on value added, sales and employment give the
return per public dollar and the cost per job (`evaluation.roi`).

Pure functions from the evaluation panel (one row per program, firm and year; cohort 0 =
comparison firm) to tidy tables that the warehouse stores and the reports read.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from evaluation import roi
from evaluation.diagnostics import pretrend_test, supported_leads
from evaluation.did import AggregateATT, GroupTimeATT, aggregate, att_gt
from evaluation.did_covariates import att_gt_covariates
from evaluation.did_duckdb import uniform_band
from evaluation.matching import match, matched_did

ESTIMATOR = "callaway_santanna_2021"
MATCHING_ESTIMATOR = "matching_did"
# pre-treatment characteristics beneficiaries are matched on (baseline values)
MATCHING_COVARIATES = ("log_employment", "log_sales", "log_va_per_worker")
# outcome column of the evaluation panel -> what it measures
OUTCOMES: dict[str, str] = {
    "log_sales": "sales (log points)",
    "log_employment": "employment (log points)",
    "log_wage_per_worker": "wage per worker (log points)",
    "log_va_per_worker": "value added per worker (log points)",
    "exporter": "export propensity (share of firms exporting)",
    "rd_intensity": "R&D intensity (R&D / sales)",
    "employment": "jobs (employees, levels)",
}
HEADLINE_OUTCOMES = ("log_sales", "log_employment")
SUBGROUPS = ("size_class", "sector", "region")
# endnote 121 (ii): short, medium and long run, in years since entry
HORIZONS: dict[str, tuple[int, float]] = {"short": (0, 1), "medium": (2, 3), "long": (4, math.inf)}
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")


@dataclass(frozen=True)
class EvaluationSpec:
    """How programs are evaluated; stored with every estimate so it can be re-run."""

    outcomes: tuple[str, ...] = tuple(OUTCOMES)
    control_group: str = "nevertreated"
    base_period: str = "varying"
    anticipation: int = 0
    subgroups: tuple[str, ...] = SUBGROUPS
    # below this many beneficiaries a subgroup estimate is not attempted
    min_subgroup_beneficiaries: int = 30
    displacement: float = 0.0
    deadweight: float = 0.0
    pretrend_level: float = 0.05
    # the pre-entry test uses the leads backed by at least this many beneficiaries
    # (evaluation.diagnostics.supported_leads: thinner leads make it over-reject)
    pretrend_min_firms: int = 50
    # time-invariant firm characteristics for conditional parallel trends (e.g. size_class,
    # sector); empty = unconditional estimator
    covariates: tuple[str, ...] = ()
    est_method: str = "dr"
    matching: bool = True
    # money is in constant US dollars of this year (set from the run): part of the spec so
    # that results in different dollars are never mistaken for each other
    price_base_year: int = 2020
    matching_caliper: float = 0.2
    bootstrap_seed: int = 20240101
    # draws of the multiplier bootstrap behind the event study's simultaneous band
    band_draws: int = 1000

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class ProgramImpact:
    """Estimates for every program, as tidy tables."""

    estimates: pd.DataFrame
    att_gt: pd.DataFrame
    roi: pd.DataFrame
    balance: pd.DataFrame  # matching balance table (empty when matching is off)


def _group_time(panel: pd.DataFrame, outcome: str, spec: EvaluationSpec) -> GroupTimeATT:
    if spec.covariates:  # conditional parallel trends: through moderndid (moderate samples)
        return att_gt_covariates(
            panel,
            unit="firm_id",
            time="year",
            cohort="cohort",
            outcome=outcome,
            covariates=list(spec.covariates),
            est_method=spec.est_method,
            control_group=spec.control_group,
            base_period=spec.base_period,
            anticipation=spec.anticipation,
        )
    return att_gt(
        panel,
        unit="firm_id",
        time="year",
        cohort="cohort",
        outcome=outcome,
        control_group=spec.control_group,
        base_period=spec.base_period,
        anticipation=spec.anticipation,
    )


def _row(est: float, se: float, **labels: object) -> dict[str, object]:
    z = roi.Z_95
    return {
        **labels,
        "estimate": est,
        "std_error": se,
        "ci_low": est - z * se,
        "ci_high": est + z * se,
    }


def horizon_effects(dynamic: AggregateATT, n_units: int) -> list[tuple[str, float, float]]:
    """Mean event-time effect within each horizon, with SEs from the influence functions."""
    assert dynamic.table_influence is not None
    keys = dynamic.table["key"].to_numpy()
    att = dynamic.table["att"].to_numpy()
    out = []
    for name, (low, high) in HORIZONS.items():
        mask = (keys >= low) & (keys <= high) & ~np.isnan(att)
        if mask.any():
            influence = dynamic.table_influence[:, mask].mean(axis=1)
            se = float(np.sqrt(np.sum(influence**2)) / n_units)
            out.append((name, float(att[mask].mean()), se))
    return out


def event_study_band(dynamic: AggregateATT, spec: EvaluationSpec) -> dict[int, tuple[float, float]]:
    """Simultaneous 95% band of the event study, by event time: it covers all event-time
    effects at once (so a reader may look at the whole path, not one year), from a seeded
    multiplier bootstrap of the influence functions. Empty when it cannot be computed."""
    try:
        band = uniform_band(
            dynamic, biters=spec.band_draws, alpha=0.05, seed=spec.bootstrap_seed
        ).table
    except ValueError:  # no per-key influence functions (e.g. a single event time)
        return {}
    return {
        int(r.key): (float(r.band_low), float(r.band_high))
        for r in band.itertuples()
        if np.isfinite(r.band_low) and np.isfinite(r.band_high)
    }


def _outcome_rows(
    gt: GroupTimeATT, spec: EvaluationSpec, *, band: bool = False
) -> list[dict[str, object]]:
    n_treated = int(np.sum(gt.unit_cohort > 0))
    n_control = int(np.sum(gt.unit_cohort == 0))
    aggs = {kind: aggregate(gt, kind) for kind in AGGREGATIONS}
    bands = event_study_band(aggs["dynamic"], spec) if band else {}
    pre = pretrend_test(
        aggs["dynamic"],
        gt.n_units,
        min_e=supported_leads(gt, spec.pretrend_min_firms),
        level=spec.pretrend_level,
    )
    common = {
        "n_treated": n_treated,
        "n_control": n_control,
        "pretrend_pvalue": pre.pvalue,
        "pretrend_passes": pre.passes,
    }
    rows = []
    for kind, agg in aggs.items():
        rows.append(_row(agg.overall_att, agg.overall_se, aggregation=kind, key=None, **common))
        for r in agg.table.itertuples():
            row = _row(r.att, r.se, aggregation=kind, key=int(r.key), **common)
            if kind == "dynamic" and int(r.key) in bands:
                row["band_low"], row["band_high"] = bands[int(r.key)]
            rows.append(row)
    rows += [
        _row(est, se, aggregation="horizon", key=None, label=name, **common)
        for name, est, se in horizon_effects(aggs["dynamic"], gt.n_units)
    ]
    return rows


def _subgroup_rows(panel: pd.DataFrame, spec: EvaluationSpec) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for dimension in spec.subgroups:
        for value, sub in panel.groupby(dimension, sort=True):
            beneficiaries = sub.loc[sub["cohort"] > 0, "firm_id"].nunique()
            for outcome in HEADLINE_OUTCOMES:
                labels = {
                    "outcome": outcome,
                    "aggregation": "simple",
                    "key": None,
                    "subgroup": dimension,
                    "subgroup_value": str(value),
                }
                if beneficiaries < spec.min_subgroup_beneficiaries:
                    rows.append(
                        {
                            **labels,
                            "label": f"not estimated: {beneficiaries} beneficiaries",
                            "n_treated": beneficiaries,
                        }
                    )
                    continue
                try:
                    gt = _group_time(sub, outcome, spec)
                except ValueError as exc:  # e.g. no comparison firm in this region
                    rows.append(
                        {**labels, "label": f"not estimated: {exc}", "n_treated": beneficiaries}
                    )
                    continue
                simple = aggregate(gt, "simple")
                rows.append(
                    {
                        **_row(simple.overall_att, simple.overall_se, **labels),
                        "n_treated": int(np.sum(gt.unit_cohort > 0)),
                        "n_control": int(np.sum(gt.unit_cohort == 0)),
                    }
                )
    return rows


def _cost_of(gt: GroupTimeATT, unit_cost: pd.Series) -> float:
    """Public cost of the beneficiaries in the cohorts with post-entry effects."""
    assert gt.unit_ids is not None
    cohorts = gt.cells.loc[gt.cells["time"] >= gt.cells["group"], "group"].unique()
    ids = gt.unit_ids[np.isin(gt.unit_cohort, cohorts)]
    return float(unit_cost.reindex(ids).sum())


def _roi_rows(
    panel: pd.DataFrame, spec: EvaluationSpec, survey: pd.Series | None
) -> list[dict[str, object]]:
    unit_cost = panel.groupby("firm_id")["public_cost_usd"].first()
    ratios: list[tuple[roi.Ratio, int]] = []
    for outcome, metric in (
        ("value_added_usd", "value_added_per_dollar"),
        ("sales_usd", "sales_per_dollar"),
    ):
        gt = _group_time(panel, outcome, spec)
        total = roi.incremental_total(gt)
        cost = _cost_of(gt, unit_cost)
        ratios.append(
            (
                roi.return_per_dollar(total, cost, metric=metric, displacement=spec.displacement),
                total.beneficiaries,
            )
        )
    gt = _group_time(panel, "employment", spec)
    jobs = roi.jobs_in_last_year(gt)
    ratios.append(
        (
            roi.cost_per_job(jobs, _cost_of(gt, unit_cost), displacement=spec.displacement),
            jobs.beneficiaries,
        )
    )
    if survey is not None:
        respondents = int(survey["respondents"])
        ratios += [
            (r, respondents)
            for r in roi.self_reported(
                survey, deadweight=spec.deadweight, displacement=spec.displacement
            )
        ]
    return [
        {
            "metric": r.metric,
            "basis": r.basis,
            "estimate": r.estimate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "numerator": r.numerator,
            "public_cost_usd": r.public_cost_usd,
            "beneficiaries": n,
            "displacement": spec.displacement,
            "deadweight": spec.deadweight,
        }
        for r, n in ratios
    ]


def baseline_firms(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per firm with its baseline covariates: the first year it is observed,
    which for a beneficiary must come before entry (firms without one are left out)."""
    first = panel.sort_values("year").groupby("firm_id", as_index=False).first()
    first = first[(first["cohort"] == 0) | (first["year"] < first["cohort"])]
    first = first.dropna(subset=list(MATCHING_COVARIATES))
    return first.assign(treated=(first["cohort"] > 0).astype(int))


def _matching_rows(
    panel: pd.DataFrame, spec: EvaluationSpec
) -> tuple[list[dict[str, object]], pd.DataFrame]:
    """Matching on baseline size and productivity, exact on sector, then DID on the matches."""
    firms = baseline_firms(panel)
    matched = match(
        firms,
        unit="firm_id",
        treated="treated",
        covariates=list(MATCHING_COVARIATES),
        exact=("sector",),
        caliper=spec.matching_caliper,
        on_empty_cell="drop",
    )
    counts = {
        "n_treated": matched.n_treated,
        "n_matched": matched.n_matched,
        "n_dropped_support": matched.n_dropped_support,
        "n_dropped_caliper": matched.n_dropped_caliper,
    }
    balance = matched.balance.assign(**counts)
    rows: list[dict[str, object]] = []
    for outcome in HEADLINE_OUTCOMES:
        did = matched_did(
            matched,
            panel,
            unit="firm_id",
            time="year",
            cohort="cohort",
            outcome=outcome,
            seed=spec.bootstrap_seed,
        )
        labels = {
            "outcome": outcome,
            "estimator": MATCHING_ESTIMATOR,
            "n_treated": did.n_treated,
            "n_control": did.n_controls,
        }
        rows.append(
            {
                **labels,
                "aggregation": "simple",
                "key": None,
                "label": "post 0-3 vs pre -3..-1",
                "estimate": did.overall_att,
                "std_error": did.overall_se,
                "ci_low": did.ci_low,
                "ci_high": did.ci_high,
            }
        )
        rows += [
            {
                **labels,
                "aggregation": "dynamic",
                "key": int(r.event_time),
                "estimate": r.att,
                "std_error": r.se,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
            }
            for r in did.table.itertuples()
        ]
    return rows, balance


def evaluate_program(
    panel: pd.DataFrame, spec: EvaluationSpec, survey: pd.Series | None = None
) -> ProgramImpact:
    """Every estimate of the evaluation design for one program's panel."""
    estimates, cells = [], []
    for outcome in spec.outcomes:
        gt = _group_time(panel, outcome, spec)
        rows = _outcome_rows(gt, spec, band=outcome in HEADLINE_OUTCOMES)  # the charted ones
        estimates += [{**row, "outcome": outcome} for row in rows]
        cells.append(
            gt.cells.rename(columns={"group": "cohort", "time": "year", "se": "std_error"}).assign(
                outcome=outcome
            )
        )
    estimates += _subgroup_rows(panel, spec)
    balance = pd.DataFrame()
    if spec.matching:
        matching_rows, balance = _matching_rows(panel, spec)
        estimates += matching_rows
    return ProgramImpact(
        estimates=pd.DataFrame(estimates),
        att_gt=pd.concat(cells, ignore_index=True),
        roi=pd.DataFrame(_roi_rows(panel, spec, survey)),
        balance=balance,
    )


def estimate_impacts(
    panel: pd.DataFrame, spec: EvaluationSpec, self_reported: pd.DataFrame | None = None
) -> ProgramImpact:
    """Evaluate every program in the panel; see the module docstring."""
    results = []
    surveys = self_reported.set_index("program_id") if self_reported is not None else None
    for program_id, program_panel in panel.groupby("program_id", sort=True):
        survey = (
            surveys.loc[program_id] if surveys is not None and program_id in surveys.index else None
        )
        one = evaluate_program(program_panel, spec, survey)
        results.append(
            tuple(
                t.assign(program_id=program_id)
                for t in (one.estimates, one.att_gt, one.roi, one.balance)
            )
        )
    estimates, cells, ratios, balance = (
        pd.concat(parts, ignore_index=True) for parts in zip(*results, strict=True)
    )
    if "estimator" not in estimates:
        estimates["estimator"] = None
    matching = estimates["estimator"] == MATCHING_ESTIMATOR
    estimates = estimates.assign(
        estimator=estimates["estimator"].where(matching, ESTIMATOR),
        comparison_group=np.where(matching, "matched_nevertreated", spec.control_group),
        specification=spec.to_json(),
    )
    for column, default in (("subgroup", "all"), ("subgroup_value", "all")):
        estimates[column] = estimates[column].fillna(default) if column in estimates else default
    columns = [
        "program_id",
        "outcome",
        "cohort",
        "year",
        "event_time",
        "base_period",
        "att",
        "std_error",
        "n_treated",
        "n_control",
    ]
    return ProgramImpact(
        estimates=estimates,
        att_gt=cells[columns].assign(comparison_group=spec.control_group),
        roi=ratios,
        balance=balance,
    )
