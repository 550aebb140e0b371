"""The evaluation design of record, per program: effects, horizons, subgroups, ROI.

For each program and outcome, Callaway and Sant'Anna (2021) group-time effects and their
four aggregations (simple, by entry cohort, by years since entry, by calendar year), the
report's horizons (short: 0-1, medium: 2-3, long: 4+ years since entry), a Wald pre-trend
test, and the headline effects by size class, sector and region (new samples, to see
whether to re-target). Level effects on value added, sales and employment give the
return per public dollar and the cost per job (`evaluation.roi`). Each program's
whole-sample effects, one per outcome, carry a p-value, a sharpened q-value and a
Romano-Wolf family-wise adjusted p-value over that family of outcomes
(`evaluation.multiple`). A second modern estimator, the imputation estimator of Borusyak,
Jaravel and Spiess (`evaluation.imputation`), gives each outcome's whole-sample overall and
event-time effects on the same panel, as a check on the design of record.

A run publishes what it can: the unit of estimation is program x outcome x subgroup x
estimator (and each return or cost figure). A unit whose design or data cannot support
an estimate is returned as one row with a null estimate, a status and a reason
(`evaluation.reasons`), and the other units go on. Only infrastructure failures stop a
run, and those happen outside these pure functions.

Pure functions from the evaluation panel (one row per program, firm and year; cohort 0 =
comparison firm) to tidy tables that the warehouse stores and the reports read.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from evaluation import roi, sensitivity
from evaluation.diagnostics import pretrend_test, supported_leads, twfe_att
from evaluation.did import AggregateATT, has_covariance, table_covariance
from evaluation.did_covariates import att_gt_covariates
from evaluation.engine import (
    NUMPY,
    Engine,
    GroupTime,
    aggregate,
    overall_influence,
    program_engine,
    release,
    small_sample_corrected,
)
from evaluation.engine import event_study_band as _band
from evaluation.imputation import imputation
from evaluation.matching import match, matched_did
from evaluation.multiple import aligned_influence, romano_wolf, with_family_qvalues
from evaluation.outcomes import BUILTIN, OutcomeDefinition, panel_column, with_outcomes
from evaluation.reasons import ESTIMATED, NotEstimated, Reason, failed
from evaluation.spec import (  # noqa: F401 (re-exported: the design's names)
    AGGREGATIONS,
    CATEGORICAL_ATTRIBUTES,
    ESTIMATOR,
    ESTIMATORS,
    HEADLINE_OUTCOMES,
    HORIZONS,
    IMPUTATION_ESTIMATOR,
    JOBS,
    MATCHING_COVARIATES,
    MATCHING_ESTIMATOR,
    MATCHING_EXACT,
    NUMERIC_ATTRIBUTES,
    OUTCOMES,
    ROI_OUTCOMES,
    SUBGROUPS,
    TWFE_ESTIMATOR,
    EvaluationSpec,
    ProgramImpact,
)

log = logging.getLogger(__name__)

_ROI_COLUMNS = frozenset(c for c, _, _ in (*ROI_OUTCOMES, *JOBS))
# memory exhaustion, Python's or DuckDB's (the DuckDB engine, the imputation estimator):
# infrastructure, which stops the run rather than publishing units as "failed"
OUT_OF_MEMORY = (MemoryError, duckdb.OutOfMemoryException)
# errors the estimators raise for a design without comparisons, in the reasons' terms
_NO_CELLS = ("no periods left before the last cohort is treated", "all ATT(g,t) are undefined")


# --- one unit of estimation -------------------------------------------------------------


def _not_estimated(labels: dict[str, Any], reason: Reason) -> dict[str, Any]:
    return {"aggregation": "simple", "key": None, **labels, **reason.columns()}


def guarded(
    labels: dict[str, Any], compute: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Rows of one unit of estimation, or one row saying why it was not estimated.

    A `NotEstimated` raised by the design checks carries its reason; any other error of
    an estimator is the unit's `estimation_failed` reason (logged with its traceback),
    never the run's end. Memory exhaustion is infrastructure, and still stops the run."""
    try:
        return compute()
    except NotEstimated as exc:
        return [_not_estimated(labels, exc.reason)]
    except OUT_OF_MEMORY:
        raise
    except Exception as exc:
        log.warning("estimation unit %s failed", labels, exc_info=True)
        return [_not_estimated(labels, failed(exc))]


def _firms(panel: pd.DataFrame, rows: pd.Series | np.ndarray) -> int:
    return int(panel.loc[rows, "firm_id"].nunique())


def check_design(
    panel: pd.DataFrame, outcome: str, spec: EvaluationSpec, *, column: str | None = None
) -> None:
    """Raise `NotEstimated` when the panel cannot support a Callaway-Sant'Anna estimate of
    `outcome`: the outcome is absent or never changes, or there are no beneficiaries
    observed before and after entry, or no comparison firms."""
    name = column or outcome
    if panel.empty:  # a registered program without any firm-year (no outcome rows of its firms)
        raise NotEstimated("no_beneficiaries")
    y = panel[outcome] if outcome in panel else pd.Series(np.nan, index=panel.index)
    has = y.notna().to_numpy()
    if not has.any():
        raise NotEstimated("outcome_not_submitted", column=name)
    treated = (panel["cohort"] > 0).to_numpy()
    if not treated.any():  # comparison firms only: no participation of a firm with outcomes
        raise NotEstimated("no_beneficiaries")
    if not (has & treated).any():
        raise NotEstimated("outcome_too_sparse", column=name)
    if spec.control_group == "nevertreated" and not (has & ~treated).any():
        raise NotEstimated("no_comparison_firms")
    if _constant_within_firms(panel, y, has, outcome):
        # every change is zero: the effect would be exactly 0 with no sampling error
        raise NotEstimated("outcome_constant", column=outcome)
    year, cohort = panel["year"].to_numpy(), panel["cohort"].to_numpy()
    if not (has & treated & (year < cohort - spec.anticipation)).any():
        raise NotEstimated("no_pre_entry_year")
    if not (has & treated & (year >= cohort)).any():
        raise NotEstimated("no_post_entry_year")


def _constant_within_firms(
    panel: pd.DataFrame, y: pd.Series, has: np.ndarray, outcome: str
) -> bool:
    """Whether every firm's observed outcome is the same in all its years (True), or the
    outcome has one value only (raises `outcome_no_variation`). Same verdicts as the
    firms' max - min spread, without grouping: a firm varies iff some row differs from the
    value its firm was given last (the design checks run on every unit of estimation)."""
    values = y.to_numpy()[has] if pd.api.types.is_float_dtype(y) else None
    if values is None or not np.isfinite(values).all():  # as pandas reads the unusual
        observed = panel.loc[has, ["firm_id", outcome]]
        if observed[outcome].nunique() == 1:
            raise NotEstimated("outcome_no_variation", column=outcome)
        spread = observed.groupby("firm_id")[outcome].agg(["min", "max"])
        return bool((spread["max"] - spread["min"]).abs().max() == 0)
    if values.min() == values.max():
        raise NotEstimated("outcome_no_variation", column=outcome)
    codes, firms = pd.factorize(panel["firm_id"][has])
    firm_value = np.empty(len(firms))
    firm_value[codes] = values
    return not bool((firm_value[codes] != values).any())


def _group_time(
    panel: pd.DataFrame, outcome: str, spec: EvaluationSpec, engine: Engine = NUMPY
) -> GroupTime:
    try:
        # a covariate constant here (the subgroup's own dimension, say) adjusts nothing
        covariates = [
            column
            for column in (covariate_column(c, spec) for c in spec.covariates)
            if panel[column].nunique(dropna=True) > 1
        ]
        if covariates:  # conditional parallel trends: through moderndid (moderate samples)
            return att_gt_covariates(
                panel,
                unit="firm_id",
                time="year",
                cohort="cohort",
                outcome=outcome,
                covariates=covariates,
                est_method=spec.est_method,
                control_group=spec.control_group,
                base_period=spec.base_period,
                anticipation=spec.anticipation,
            )
        return engine.group_time(
            panel,
            outcome,
            control_group=spec.control_group,
            base_period=spec.base_period,
            anticipation=spec.anticipation,
        )
    except ValueError as exc:
        _reraise_design(exc, spec)
        raise


def _reraise_design(exc: ValueError, spec: EvaluationSpec) -> None:
    """Translate the estimators' errors about the design into reasons."""
    if any(text in str(exc) for text in _NO_CELLS):
        raise NotEstimated("no_comparison_cells", control_group=spec.control_group) from exc
    if "no treated cohorts left" in str(exc):
        raise NotEstimated("no_pre_entry_year") from exc


def _aggregate(gt: GroupTime, kind: str, spec: EvaluationSpec) -> AggregateATT:
    try:
        return aggregate(gt, kind)
    except ValueError as exc:
        _reraise_design(exc, spec)
        raise


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
    """Mean event-time effect within each horizon, with its SE from the event times'
    covariance (`table_covariance`: the influence functions, or the SQL path's moments)."""
    if not has_covariance(dynamic):  # no event time with an effect
        return []
    keys = dynamic.table["key"].to_numpy()
    att = dynamic.table["att"].to_numpy()
    out = []
    for name, (low, high) in HORIZONS.items():
        mask = (keys >= low) & (keys <= high) & ~np.isnan(att)
        if mask.any():
            weights = np.full(int(mask.sum()), 1.0 / mask.sum())
            variance = weights @ table_covariance(dynamic, n_units, mask) @ weights
            out.append((name, float(att[mask].mean()), float(np.sqrt(max(variance, 0.0)))))
    return out


def event_study_band(
    gt: GroupTime, dynamic: AggregateATT, spec: EvaluationSpec
) -> dict[int, tuple[float, float]]:
    """Simultaneous 95% band of the event study `dynamic` (of `gt`), by event time: it
    covers all event-time effects at once (so a reader may look at the whole path, not one
    year), from a seeded multiplier bootstrap of the influence functions. Empty when it
    cannot be computed."""
    try:
        band = _band(
            gt, dynamic, biters=spec.band_draws, alpha=0.05, seed=spec.bootstrap_seed
        ).table
    except ValueError:  # no per-key influence functions (e.g. a single event time)
        return {}
    return {
        int(r.key): (float(r.band_low), float(r.band_high))
        for r in band.itertuples()
        if np.isfinite(r.band_low) and np.isfinite(r.band_high)
    }


def pretrend_columns(
    gt: GroupTime, spec: EvaluationSpec, corrected: GroupTime | None = None
) -> dict[str, object]:
    """The pre-entry test's p-value and verdict, or why it was not run. `corrected` is
    `small_sample_corrected(gt)` when the caller has it already."""
    min_e = supported_leads(gt, spec.pretrend_min_firms)
    leads = gt.cells[gt.cells["event_time"] < 0]
    reason = None
    if leads.empty or not leads["att"].notna().any():
        reason = Reason("pretrend_no_leads")
    elif min_e == 0:
        behind = int(leads.loc[leads["event_time"] == -1, "n_treated"].sum())
        reason = Reason("pretrend_too_few_firms", {"n": behind, "min": spec.pretrend_min_firms})
    else:
        # the test's variance with the n - 1 correction (small cohorts made it liberal)
        if corrected is None:
            corrected = small_sample_corrected(gt)
        dynamic = _aggregate(corrected, "dynamic", spec)
        pre = pretrend_test(dynamic, gt.n_units, min_e=min_e, level=spec.pretrend_level)
        if pre.passes is not None:
            return {"pretrend_pvalue": pre.pvalue, "pretrend_passes": pre.passes}
        no_variance = "no variance" in pre.note
        reason = Reason("pretrend_no_variance" if no_variance else "pretrend_no_leads")
    return {"pretrend_pvalue": None, "pretrend_passes": None, **reason.columns("pretrend_")}


def _outcome_rows(
    gt: GroupTime,
    spec: EvaluationSpec,
    outcome: str,
    *,
    band: bool = False,
    influence: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[dict[str, object]]:
    """Every aggregation's rows of one outcome; `influence` (if given) receives the simple
    effect's (unit ids, influence function), for the family-wise test."""
    n_treated = int(np.sum(gt.unit_cohort > 0))
    n_control = int(np.sum(gt.unit_cohort == 0))
    aggs = {kind: _aggregate(gt, kind, spec) for kind in AGGREGATIONS}
    simple = aggs["simple"]
    if not np.isfinite(simple.overall_att):
        raise NotEstimated("no_post_entry_effect", outcome=outcome)
    bands = event_study_band(gt, aggs["dynamic"], spec) if band else {}
    piece = overall_influence(gt, simple) if influence is not None else None
    if influence is not None and piece is not None:
        influence.append(piece)
    common = {
        "n_treated": n_treated,
        "n_control": n_control,
        "status": ESTIMATED,
        **pretrend_columns(gt, spec),
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


def _cs_unit(
    panel: pd.DataFrame,
    definition: OutcomeDefinition,
    spec: EvaluationSpec,
    shared: dict[str, GroupTime] | None = None,
    engine: Engine = NUMPY,
) -> tuple[list[dict[str, Any]], pd.DataFrame | None, tuple[np.ndarray, np.ndarray] | None]:
    """The whole-sample Callaway-Sant'Anna estimates of one outcome, its ATT(g,t), and its
    simple effect's (unit ids, influence function) (None when not estimated). The
    ATT(g,t) of an outcome that is also a column behind the return figures goes into
    `shared` (keyed by that panel column), for `_roi_rows` not to estimate it again (the
    caller releases them)."""
    labels = {"outcome": definition.name, "unit": definition.unit}
    cells: list[pd.DataFrame] = []
    influence: list[tuple[np.ndarray, np.ndarray]] = []

    def compute() -> list[dict[str, Any]]:
        influence.clear()  # only a unit that ends estimated keeps its influence function
        check_design(panel, definition.name, spec, column=definition.column)
        gt = _group_time(panel, definition.name, spec, engine)
        keep = shared is not None and definition.name in _ROI_COLUMNS
        if shared is not None and keep:
            shared[definition.name] = gt
        try:
            rows = _outcome_rows(
                gt,
                spec,
                definition.name,
                band=definition.name in spec.headline,
                influence=influence,
            )
        finally:
            if not keep:
                release(gt)
        cells.append(gt.cells)
        return [{**row, **labels} for row in rows]

    rows = guarded(labels, compute)
    estimated = any(r.get("status") == ESTIMATED for r in rows)
    piece = influence[0] if influence and estimated else None
    return rows, (cells[0] if cells else None), piece


def _imputation_unit(
    panel: pd.DataFrame, definition: OutcomeDefinition, spec: EvaluationSpec, engine: Engine = NUMPY
) -> list[dict[str, Any]]:
    """The whole-sample imputation (Borusyak-Jaravel-Spiess) estimates of one outcome: the
    overall effect (aggregation 'simple') and the event-time effects ('dynamic'), on the
    same panel rows, cohorts and anticipation as the Callaway-Sant'Anna estimates."""
    labels = {
        "outcome": definition.name,
        "unit": definition.unit,
        "estimator": IMPUTATION_ESTIMATOR,
    }
    return guarded(labels, partial(_imputation_rows, panel, definition.name, labels, spec, engine))


def _imputation_rows(
    panel: pd.DataFrame,
    outcome: str,
    labels: dict[str, Any],
    spec: EvaluationSpec,
    engine: Engine = NUMPY,
) -> list[dict[str, Any]]:
    check_design(panel, outcome, spec, column=spec.definition(outcome).column)
    rows = panel.loc[panel[outcome].notna(), ["firm_id", "year", "cohort", outcome]]
    # the panel's cohort 0 is the comparison firm, as the imputation's never treated
    rows = rows.assign(cohort=rows["cohort"].fillna(0).astype("int64"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = imputation(
                rows,
                unit="firm_id",
                time="year",
                cohort="cohort",
                outcome=outcome,
                anticipation=spec.anticipation,
                duckdb_config=engine.duckdb_config,  # the run's memory limit holds here too
            )
        except ValueError as exc:
            if "do not connect all periods" in str(exc):
                raise NotEstimated("imputation_not_connected") from exc
            if "no treated observation can be imputed" in str(exc):
                raise NotEstimated("imputation_nothing_imputed") from exc
            raise
    overall = result.overall.iloc[0]
    if not np.isfinite(overall["att"]):
        raise NotEstimated("no_post_entry_effect", outcome=outcome)
    firms = rows.drop_duplicates("firm_id")
    common = {
        **labels,
        "n_treated": int((firms["cohort"] > 0).sum()) - result.dropped_units,
        "n_control": int((firms["cohort"] == 0).sum()),
        "status": ESTIMATED,
        # what could not be imputed (units never untreated, years without comparisons)
        "note": "; ".join(str(w.message) for w in caught) or None,
    }
    out = [_row(float(overall["att"]), float(overall["se"]), aggregation="simple", key=None)]
    out += [
        _row(float(r.att), float(r.se), aggregation="dynamic", key=int(r.e))
        for r in result.event_time.itertuples()
    ]
    return [{**common, **row} for row in out]


def _twfe_unit(
    panel: pd.DataFrame, definition: OutcomeDefinition, spec: EvaluationSpec
) -> list[dict[str, Any]]:
    """The LEGACY static TWFE effect of one outcome on the same rows (aggregation 'simple'):
    the comparison modern estimators replace (biased under staggered entry with effects
    that vary by cohort or time since entry, Goodman-Bacon 2021)."""
    labels = {"outcome": definition.name, "unit": definition.unit, "estimator": TWFE_ESTIMATOR}

    def compute() -> list[dict[str, Any]]:
        outcome = definition.name
        check_design(panel, outcome, spec, column=spec.definition(outcome).column)
        rows = panel.loc[panel[outcome].notna(), ["firm_id", "year", "cohort", outcome]]
        rows = rows.assign(cohort=rows["cohort"].fillna(0).astype("int64"))
        try:
            fit = twfe_att(rows, unit="firm_id", time="year", cohort="cohort", outcome=outcome)
        except ValueError as exc:
            raise NotEstimated("estimation_failed", error=str(exc)) from exc
        firms = rows.drop_duplicates("firm_id")
        return [
            {
                **labels,
                **_row(fit.att, fit.se, aggregation="simple", key=None),
                "n_treated": int((firms["cohort"] > 0).sum()),
                "n_control": int((firms["cohort"] == 0).sum()),
                "status": ESTIMATED,
            }
        ]

    return guarded(labels, compute)


def family_pvalues_rw(
    rows: list[dict[str, Any]],
    pieces: Mapping[str, tuple[np.ndarray, np.ndarray] | None],
    spec: EvaluationSpec,
) -> dict[str, float]:
    """Romano-Wolf step-down adjusted p-values of one program's family of outcomes (the
    whole-sample Callaway-Sant'Anna simple effects, estimated units: as the q-values), by
    outcome, from the multiplier bootstrap of their influence functions (one weight per
    firm and draw shared by every outcome, seeded by the specification)."""
    family = {
        str(r["outcome"]): r
        for r in rows
        if r.get("aggregation") == "simple"
        and r.get("key") is None
        and r.get("status") == ESTIMATED
        and r.get("estimator") is None
        and r.get("subgroup") is None
        and pieces.get(str(r["outcome"])) is not None
    }
    if not family:
        return {}
    outcomes = list(family)
    _, psi = aligned_influence([pieces[o] for o in outcomes])
    adjusted = romano_wolf(
        [float(family[o]["estimate"]) for o in outcomes],
        psi,
        std_errors=[float(family[o]["std_error"]) for o in outcomes],
        draws=spec.band_draws or 999,
        seed=spec.bootstrap_seed,
    )
    return {o: float(p) for o, p in zip(outcomes, adjusted, strict=True) if np.isfinite(p)}


def _beneficiaries(panel: pd.DataFrame) -> int:
    return _firms(panel, panel["cohort"] > 0)


def _subgroup_estimate(
    sub: pd.DataFrame, labels: dict[str, Any], spec: EvaluationSpec, engine: Engine = NUMPY
) -> list[dict[str, Any]]:
    """The simple ATT of one headline outcome in one subgroup."""
    outcome = str(labels["outcome"])
    if labels["n_treated"] < spec.min_subgroup_beneficiaries:
        raise NotEstimated(
            "too_few_beneficiaries", n=labels["n_treated"], min=spec.min_subgroup_beneficiaries
        )
    check_design(sub, outcome, spec, column=spec.definition(outcome).column)
    gt = _group_time(sub, outcome, spec, engine)
    try:
        simple = _aggregate(gt, "simple", spec)
    finally:
        release(gt)
    if not np.isfinite(simple.overall_att):
        raise NotEstimated("no_post_entry_effect", outcome=outcome)
    return [
        {
            **_row(simple.overall_att, simple.overall_se, **labels),
            "aggregation": "simple",
            "key": None,
            "status": ESTIMATED,
            "n_treated": int(np.sum(gt.unit_cohort > 0)),
            "n_control": int(np.sum(gt.unit_cohort == 0)),
        }
    ]


def _subgroup_rows(
    panel: pd.DataFrame, spec: EvaluationSpec, engine: Engine = NUMPY
) -> list[dict[str, object]]:
    """The headline outcomes' effects by each subgroup dimension's values (a missing
    value is the group 'unknown')."""
    rows: list[dict[str, object]] = []
    # each group is a copy of its rows: only the columns the estimates read (a national
    # register's program panel has two dozen, and its largest group is half the panel)
    needed = ["firm_id", "year", "cohort", *spec.headline]
    needed += [covariate_column(c, spec) for c in spec.covariates]
    for dimension in spec.subgroups:
        values = panel[dimension].astype("string").fillna("unknown")
        columns = list(dict.fromkeys(c for c in [*needed, dimension] if c in panel))
        for value, sub in panel[columns].groupby(values, sort=True):
            for outcome in spec.headline:
                labels = {
                    "outcome": outcome,
                    "unit": spec.definition(outcome).unit,
                    "subgroup": dimension,
                    "subgroup_value": str(value),
                    "n_treated": _beneficiaries(sub),
                    "n_control": _firms(sub, sub["cohort"] == 0),
                }
                rows += guarded(labels, partial(_subgroup_estimate, sub, labels, spec, engine))
    return rows


# --- return per dollar and cost per job -----------------------------------------------


def _cost_of(gt: GroupTime, unit_cost: pd.Series) -> float:
    """Public cost of the beneficiaries in the cohorts with post-entry effects."""
    assert gt.unit_ids is not None
    cohorts = gt.cells.loc[gt.cells["time"] >= gt.cells["group"], "group"].unique()
    ids = gt.unit_ids[np.isin(gt.unit_cohort, cohorts)]
    return float(unit_cost.reindex(ids).sum())


def _roi_unit(labels: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, object]:
    """One counterfactual figure on one scale, or its row with the reason it was not
    estimated."""
    try:
        return {**labels, "status": ESTIMATED, **compute()}
    except NotEstimated as exc:
        reason = exc.reason
    except OUT_OF_MEMORY:
        raise
    except Exception as exc:
        log.warning("return figure %s failed", labels, exc_info=True)
        reason = failed(exc)
    return {**labels, **reason.columns()}


def _ratio_row(r: roi.Ratio, beneficiaries: int) -> dict[str, object]:
    return {
        "metric": r.metric,
        "basis": r.basis,
        "estimate": r.estimate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "numerator": r.numerator,
        "public_cost_usd": r.public_cost_usd,
        "beneficiaries": beneficiaries,
    }


def _self_reported_figure(survey: pd.Series, metric: str, spec: EvaluationSpec) -> dict[str, Any]:
    """One gross (self-reported) figure of the client survey, or its reason."""
    if not float(survey["respondents_public_cost_usd"]) > 0:
        raise NotEstimated("no_public_cost")
    ratios = roi.self_reported(survey, deadweight=spec.deadweight, displacement=spec.displacement)
    ratio = next(r for r in ratios if r.metric == metric)
    if metric == "cost_per_job" and not ratio.numerator > 0:
        raise NotEstimated("no_jobs_created", jobs=round(ratio.numerator, 1))
    return _ratio_row(ratio, int(survey["respondents"]))


def _roi_rows(
    panel: pd.DataFrame,
    spec: EvaluationSpec,
    survey: pd.Series | None,
    shared: Mapping[str, GroupTime] | None = None,
    engine: Engine = NUMPY,
) -> list[dict[str, object]]:
    """Return per dollar (value added, sales) and cost per job, each on the log and the
    level scale with that scale's pre-entry test; the one shown is chosen by
    `roi.choose_scale`. Self-reported (gross) figures beside them. `shared`: ATT(g,t)
    already estimated on this panel, by panel column (the whole-sample effects')."""
    unit_cost = panel.groupby("firm_id")["public_cost_usd"].first()
    treated = panel[panel["cohort"] > 0]

    def effects(column: str, label: str) -> GroupTime:
        check_design(panel, column, spec, column=label)
        if shared and column in shared:
            return shared[column]
        return _group_time(panel, column, spec, engine)

    def cost(gt: GroupTime) -> float:
        value = _cost_of(gt, unit_cost)
        if not value > 0:
            raise NotEstimated("no_public_cost")
        return value

    def figure(column: str, label: str, metric: str, scale: str) -> dict[str, Any]:
        outcome = column if scale == "level" else f"_log_{column}"
        effect = effects(outcome, label)
        try:
            return measured(effect, column, label, metric, scale)
        finally:
            if not (shared and outcome in shared):
                release(effect)

    def measured(
        effect: GroupTime, column: str, label: str, metric: str, scale: str
    ) -> dict[str, Any]:
        # the same reasons as the effects' when no post-entry effect exists
        if not np.isfinite(_aggregate(effect, "simple", spec).overall_att):
            raise NotEstimated("no_post_entry_effect", outcome=label)
        # the totals' intervals with the n - 1 correction of each cell's variance: with
        # thin cohorts the analytic SE understated their spread (benchmarks/roi_coverage.py)
        gt = small_sample_corrected(effect)
        observed = treated.loc[treated[column].notna(), ["cohort", "year", column]]
        levels = observed.rename(columns={column: "level"})
        if metric == "cost_per_job":
            jobs = (
                roi.jobs_in_last_year(gt)
                if scale == "level"
                else roi.jobs_in_last_year_log(gt, levels)
            )
            ratio = roi.cost_per_job(jobs, cost(gt), displacement=spec.displacement)
            n = jobs.beneficiaries
            if not ratio.numerator > 0:  # jobs estimated, but none: no cost per job
                jobs_made = round(ratio.numerator, 1)
                pretrend = pretrend_columns(effect, spec, gt)
                row = {**_ratio_row(ratio, n), "estimate": None, **pretrend}
                return {**row, **Reason("no_jobs_created", {"jobs": jobs_made}).columns()}
        else:
            total = (
                roi.incremental_total(gt)
                if scale == "level"
                else roi.incremental_total_log(gt, levels)
            )
            ratio = roi.return_per_dollar(
                total, cost(gt), metric=metric, displacement=spec.displacement
            )
            n = total.beneficiaries
        pretrend = pretrend_columns(effect, spec, gt)
        return {**_ratio_row(ratio, n), **pretrend}

    rows: list[dict[str, object]] = []
    if spec.callaway_santanna:
        logs = {c: np.log(panel[c].where(panel[c] > 0)) for c, _, _ in ROI_OUTCOMES + JOBS}
        panel = panel.assign(**{f"_log_{c}": v for c, v in logs.items()})
        for column, label, metric in (*ROI_OUTCOMES, *JOBS):
            pair = [
                _roi_unit(
                    {"metric": metric, "basis": "counterfactual", "scale": scale},
                    partial(figure, column, label, metric, scale),
                )
                for scale in roi.SCALES
            ]
            rows += roi.mark_shown(pair)
    if survey is not None:
        for metric in ("sales_per_dollar", "cost_per_job"):
            labels = {"metric": metric, "basis": "self_reported", "shown": True}
            rows.append(_roi_unit(labels, partial(_self_reported_figure, survey, metric, spec)))
    return [{**r, "displacement": spec.displacement, "deadweight": spec.deadweight} for r in rows]


# --- matching + DID ---------------------------------------------------------------------


def covariate_column(covariate: str, spec: EvaluationSpec) -> str:
    """The panel column of a covariate: an outcome's baseline value, or a firm attribute."""
    if covariate in spec.outcomes or covariate in BUILTIN:
        return f"baseline_{covariate}"
    return panel_column(covariate, spec.extra_money)


def with_baselines(panel: pd.DataFrame, spec: EvaluationSpec) -> pd.DataFrame:
    """Add `baseline_<outcome>` for every outcome used as a covariate: the firm's value in
    its first observed year, which for a beneficiary must come before entry (else the
    baseline is missing). Baselines are time-invariant, as conditional parallel trends
    needs (a covariate measured after entry could itself be an effect of the program)."""
    wanted = [
        c
        for c in (*spec.covariates, *spec.matching_covariates)
        if c in BUILTIN or c in spec.outcomes
    ]
    wanted = [c for c in dict.fromkeys(wanted) if c in panel]
    if not wanted:
        return panel
    first = first_year_rows(panel).set_index("firm_id")
    pre = (first["cohort"] == 0) | (first["year"] < first["cohort"])
    baselines = first.loc[:, wanted].where(pre, np.nan).add_prefix("baseline_")
    return panel.drop(columns=[c for c in baselines if c in panel]).join(baselines, on="firm_id")


def first_year_rows(panel: pd.DataFrame) -> pd.DataFrame:
    """Each firm's row of its first observed year, whole: every baseline value from the
    same year (a per-column first non-missing value would mix years, and could take a
    beneficiary's value from after entry)."""
    ordered = panel.sort_values(["firm_id", "year"], kind="stable")
    return ordered.drop_duplicates("firm_id", keep="first").reset_index(drop=True)


def baseline_firms(
    panel: pd.DataFrame, covariates: tuple[str, ...] = MATCHING_COVARIATES
) -> pd.DataFrame:
    """One row per firm with its baseline covariates: the first year it is observed,
    which for a beneficiary must come before entry (firms without one are left out)."""
    first = first_year_rows(panel)
    first = first[(first["cohort"] == 0) | (first["year"] < first["cohort"])]
    first = first.dropna(subset=list(covariates))
    return first.assign(treated=(first["cohort"] > 0).astype(int))


def screen_covariates(
    firms: pd.DataFrame, covariates: tuple[str, ...]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """Covariates the propensity score can use, and the others with why they are dropped:
    'no_data' (missing for every beneficiary or every comparison firm), 'constant', or
    'collinear' (an exact linear function of the covariates kept before it, e.g. value
    added per worker when value added is imputed as a fixed share of sales)."""
    kept: list[str] = []
    dropped: dict[str, str] = {}
    treated = firms["treated"].to_numpy() == 1
    for c in covariates:
        x = pd.to_numeric(firms[c], errors="coerce") if c in firms else None
        if x is None or x[treated].isna().all() or x[~treated].isna().all():
            dropped[c] = "no_data"
            continue
        complete = firms[[*kept, c]].apply(pd.to_numeric, errors="coerce").dropna()
        values = complete[c].to_numpy(dtype=float)
        if values.std() == 0:
            dropped[c] = "constant"
            continue
        if kept:
            design = np.column_stack([np.ones(len(complete)), complete[kept].to_numpy(float)])
            coef, *_ = np.linalg.lstsq(design, values, rcond=None)
            # exact up to rounding: money rounded to currency units leaves ~1e-6 of the SD
            if np.std(values - design @ coef) <= 1e-4 * values.std():
                dropped[c] = "collinear"
                continue
        kept.append(c)
    return tuple(kept), dropped


def _match_error(exc: ValueError, spec: EvaluationSpec) -> NotEstimated:
    text = str(exc)
    if "no exact-match cell" in text:
        return NotEstimated("matching_no_cells", exact=", ".join(spec.matching_exact))
    if "no control" in text:
        return NotEstimated("no_comparison_firms")
    if "logit" in text:
        return NotEstimated("matching_no_overlap")
    if "no matched pairs" in text:
        return NotEstimated("matching_no_overlap")
    return NotEstimated("estimation_failed", error=f"ValueError: {text.splitlines()[0]}")


def _match_program(panel: pd.DataFrame, spec: EvaluationSpec) -> tuple[Any, dict[str, str]]:
    """The program's matched sample and the covariates dropped before the score."""
    if panel.empty:  # as check_design: the program has no firm-year at all
        raise NotEstimated("no_beneficiaries")
    candidates = baseline_firms(panel, ())
    if not (candidates["treated"] == 0).any():
        raise NotEstimated("no_comparison_firms")
    if int(candidates["treated"].sum()) < 2:  # e.g. every beneficiary entered in year one
        raise NotEstimated("matching_no_baseline", n=int(candidates["treated"].sum()), min=2)
    for key in spec.matching_exact:  # a missing cell value is a cell of its own
        candidates[key] = candidates[key].astype("string").fillna("unknown")
    columns = tuple(covariate_column(c, spec) for c in spec.matching_covariates)
    kept, dropped = screen_covariates(candidates, columns)
    if not kept:
        raise NotEstimated("matching_no_covariates", covariates=", ".join(spec.matching_covariates))
    firms = candidates.dropna(subset=list(kept))
    n_baseline = int(firms["treated"].sum())
    if n_baseline < 2:
        raise NotEstimated("matching_no_baseline", n=n_baseline, min=2)
    if n_baseline == len(firms):
        raise NotEstimated("no_comparison_firms")
    try:
        matched = match(
            firms,
            unit="firm_id",
            treated="treated",
            covariates=list(kept),
            exact=tuple(spec.matching_exact),
            caliper=spec.matching_caliper,
            on_empty_cell="drop",
        )
    except ValueError as exc:
        raise _match_error(exc, spec) from exc
    if matched.n_matched == 0:
        raise NotEstimated("matching_no_overlap")
    return matched, dropped


def _matching_rows(
    panel: pd.DataFrame, spec: EvaluationSpec
) -> tuple[list[dict[str, object]], pd.DataFrame]:
    """Matching on baseline characteristics, exact on the configured cells, then DID on
    the matches; covariates without data, constant or collinear are dropped with a note."""
    labels = [
        {"outcome": o, "unit": spec.definition(o).unit, "estimator": MATCHING_ESTIMATOR}
        for o in spec.headline
    ]
    found: list[tuple[Any, dict[str, str]]] = []

    def prepare() -> list[dict[str, Any]]:
        found.append(_match_program(panel, spec))
        return []

    failure = guarded({}, prepare)
    if failure:  # one reason for every outcome of the matching estimator
        return [{**failure[0], **lab} for lab in labels], pd.DataFrame()
    matched, dropped = found[0]
    names = {covariate_column(c, spec): c for c in spec.matching_covariates}
    counts = {
        "n_treated": matched.n_treated,
        "n_matched": matched.n_matched,
        "n_dropped_support": matched.n_dropped_support,
        "n_dropped_caliper": matched.n_dropped_caliper,
    }
    notes = pd.DataFrame({"covariate": list(dropped), "dropped": list(dropped.values())})
    balance = pd.concat([matched.balance, notes], ignore_index=True).assign(**counts)
    balance["covariate"] = balance["covariate"].map(lambda c: names.get(c, c))
    rows: list[dict[str, object]] = []
    for lab in labels:
        rows += guarded(lab, partial(_matched_outcome, panel, matched, lab, spec))
    return rows, balance


def _matched_outcome(
    panel: pd.DataFrame, matched: Any, labels: dict[str, Any], spec: EvaluationSpec
) -> list[dict[str, object]]:
    pre, post = spec.matching_pre_window, spec.matching_post_window
    try:
        did = matched_did(
            matched,
            panel,
            unit="firm_id",
            time="year",
            cohort="cohort",
            outcome=str(labels["outcome"]),
            seed=spec.bootstrap_seed,
            pre=pre,
            post=post,
        )
    except ValueError as exc:
        if "window" in str(exc) or "no matched" in str(exc) or "observed" in str(exc):
            raise NotEstimated("matching_no_window", pre=list(pre), post=list(post)) from exc
        raise
    if not np.isfinite(did.overall_att):
        raise NotEstimated("matching_no_window", pre=list(pre), post=list(post))
    labels = {**labels, "n_treated": did.n_treated, "n_control": did.n_controls}
    common = {**labels, "status": ESTIMATED}
    rows: list[dict[str, object]] = [
        {
            **common,
            "aggregation": "simple",
            "key": None,
            "label": f"post {post[0]}-{post[1]} vs pre {pre[0]}..{pre[1]}",
            "estimate": did.overall_att,
            "std_error": did.overall_se,
            "ci_low": did.ci_low,
            "ci_high": did.ci_high,
        }
    ]
    rows += [
        {
            **common,
            "aggregation": "dynamic",
            "key": int(r.event_time),
            "estimate": r.att,
            "std_error": r.se,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
        }
        for r in did.table.itertuples()
    ]
    return rows


# --- a program, and the portfolio -------------------------------------------------------


def evaluate_program(
    panel: pd.DataFrame,
    spec: EvaluationSpec,
    survey: pd.Series | None = None,
    *,
    engine: str = "auto",
    duckdb_config: Mapping[str, Any] | None = None,
) -> ProgramImpact:
    """Every estimate of the evaluation design for one program's panel; units that cannot
    be estimated are rows with their reason (see `guarded`). `engine`: which implementation
    of Callaway-Sant'Anna (`evaluation.engine`: "auto" picks DuckDB only for a program
    whose influence functions would not fit in memory), `duckdb_config` its connection's
    settings; the estimates are the same on either."""
    # firm ids as categories: every estimator factorizes, selects and hashes them, dozens
    # of times per program, which on text costs a seventh of a national register's
    # estimation; codes order as the ids do, so units come out in the same order
    panel = panel.assign(firm_id=panel["firm_id"].astype("category"))
    panel = with_outcomes(panel, spec.evaluated, spec.extra_money)
    panel = with_baselines(panel, spec)
    with program_engine(panel, engine, duckdb_config=duckdb_config) as chosen:
        if chosen.con is not None:
            log.info(
                "estimating %d firms' panel with the DuckDB engine", panel["firm_id"].nunique()
            )
        return _evaluate(panel, spec, survey, chosen)


def _evaluate(
    panel: pd.DataFrame, spec: EvaluationSpec, survey: pd.Series | None, engine: Engine
) -> ProgramImpact:
    estimates: list[dict[str, Any]] = []
    cells = []
    pieces: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    shared: dict[str, GroupTime] = {}  # whole-sample ATT(g,t) the return figures reuse
    if spec.callaway_santanna:
        for definition in spec.evaluated:
            rows, gt_cells, pieces[definition.name] = _cs_unit(
                panel, definition, spec, shared, engine
            )
            estimates += rows
            if gt_cells is not None:
                cells.append(
                    gt_cells.rename(
                        columns={"group": "cohort", "time": "year", "se": "std_error"}
                    ).assign(outcome=definition.name)
                )
        # family-wise adjusted p-values, on the family's rows only (null elsewhere)
        adjusted = family_pvalues_rw(estimates, pieces, spec)
        for row in estimates:
            if row.get("aggregation") == "simple" and row.get("key") is None:
                row["pvalue_rw"] = adjusted.get(str(row["outcome"]))
        estimates += _subgroup_rows(panel, spec, engine)
    # here, so that the whole-sample ATT(g,t) it reuses are freed before the other estimators
    try:
        roi_rows = _roi_rows(panel, spec, survey, shared, engine)
    finally:
        for gt in shared.values():
            release(gt)
        shared.clear()
    if spec.imputation:
        for definition in spec.evaluated:
            estimates += _imputation_unit(panel, definition, spec, engine)
            estimates += _twfe_unit(panel, definition, spec)
    balance = pd.DataFrame()
    if spec.matching:
        matching_rows, balance = _matching_rows(panel, spec)
        estimates += matching_rows
    robustness = (
        sensitivity.program_sensitivity(panel, spec, engine)
        if spec.callaway_santanna
        else pd.DataFrame()
    )
    return ProgramImpact(
        estimates=_with_columns(pd.DataFrame(estimates), ESTIMATE_COLUMNS),
        att_gt=pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(),
        roi=_with_columns(pd.DataFrame(roi_rows), ROI_COLUMNS),
        balance=balance,
        sensitivity=robustness,
    )


def _with_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every column of the table, even when no unit produced it (all not estimated)."""
    wanted = [c for c in columns if c != "program_id"]
    return frame.reindex(columns=list(dict.fromkeys([*frame, *wanted])))


ESTIMATE_COLUMNS = [
    "program_id",
    "outcome",
    "unit",
    "estimator",
    "aggregation",
    "key",
    "label",
    "subgroup",
    "subgroup_value",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "n_treated",
    "n_control",
    "status",
    "reason",
    "reason_params",
    "note",
    "pretrend_pvalue",
    "pretrend_passes",
    "pretrend_reason",
    "pretrend_reason_params",
    # the family of whole-sample outcomes only (evaluation.multiple); null elsewhere
    "pvalue",
    "qvalue",
    # Romano-Wolf family-wise adjusted p-value of the same family; null elsewhere
    "pvalue_rw",
]
ROI_COLUMNS = [
    "program_id",
    "metric",
    "basis",
    "scale",
    "shown",
    "scale_choice",
    "estimate",
    "ci_low",
    "ci_high",
    "numerator",
    "public_cost_usd",
    "beneficiaries",
    "displacement",
    "deadweight",
    "status",
    "reason",
    "reason_params",
    "note",
    "pretrend_pvalue",
    "pretrend_passes",
    "pretrend_reason",
    "pretrend_reason_params",
]
ATT_GT_COLUMNS = [
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


def program_impact(
    program_id: str,
    panel: pd.DataFrame,
    spec: EvaluationSpec,
    survey: pd.Series | None = None,
    *,
    engine: str = "auto",
    duckdb_config: Mapping[str, Any] | None = None,
) -> ProgramImpact:
    """One program's results, labelled with its id: the unit the pipeline estimates one at
    a time (or on a Dask worker), so that only one program's panel is ever in memory.
    `combine_impacts` joins the units of a run as `estimate_impacts` would. `engine`,
    `duckdb_config`: as `evaluate_program`."""
    one = evaluate_program(panel, spec, survey, engine=engine, duckdb_config=duckdb_config)
    return ProgramImpact(
        *(
            t.assign(program_id=program_id)
            for t in (one.estimates, one.att_gt, one.roi, one.balance, one.sensitivity)
        )
    )


def estimate_impacts(
    panel: pd.DataFrame,
    spec: EvaluationSpec | Mapping[str, EvaluationSpec],
    self_reported: pd.DataFrame | None = None,
    *,
    absent: Sequence[str] = (),
) -> ProgramImpact:
    """Evaluate every program in the panel; see the module docstring. `spec` is one
    specification for all programs, or one per program id. `absent`: registered programs
    without any row in the panel (no outcome rows of their firms, or no participation):
    each gets its units, every one not estimated with its reason (`no_beneficiaries`)."""
    results = []
    surveys = self_reported.set_index("program_id") if self_reported is not None else None
    specs: dict[str, EvaluationSpec] = {}
    groups: list[tuple[Any, pd.DataFrame]] = list(panel.groupby("program_id", sort=True))
    present = {str(p) for p, _ in groups}
    groups += [(p, panel.iloc[0:0]) for p in absent if str(p) not in present]
    for program_id, program_panel in sorted(groups, key=lambda g: str(g[0])):
        program_spec = spec if isinstance(spec, EvaluationSpec) else spec[str(program_id)]
        specs[str(program_id)] = program_spec
        survey = (
            surveys.loc[program_id] if surveys is not None and program_id in surveys.index else None
        )
        results.append(program_impact(program_id, program_panel, program_spec, survey))
    return combine_impacts(results, specs)


def combine_impacts(
    results: Sequence[ProgramImpact], specs: Mapping[str, EvaluationSpec]
) -> ProgramImpact:
    """The run's results from its programs' (`program_impact`, in program order), with the
    labels that depend on each program's specification and the family-wise q-values."""
    if not results:
        empty = pd.DataFrame()
        return ProgramImpact(empty, empty, empty, empty)
    estimates, cells, ratios, balance, robustness = (
        pd.concat(parts, ignore_index=True)
        for parts in zip(
            *((r.estimates, r.att_gt, r.roi, r.balance, r.sensitivity) for r in results),
            strict=True,
        )
    )
    matching = estimates["estimator"] == MATCHING_ESTIMATOR
    # the legacy TWFE compares with every untreated firm-year, as the imputation does
    imputed = estimates["estimator"].isin([IMPUTATION_ESTIMATOR, TWFE_ESTIMATOR])
    control = estimates["program_id"].map(lambda p: specs[str(p)].control_group)
    # the imputation's comparisons are every untreated firm-year: never- and not-yet-treated
    control = control.where(~imputed, "notyettreated")
    estimates = estimates.assign(
        estimator=estimates["estimator"].where(matching | imputed, ESTIMATOR),
        comparison_group=np.where(matching, "matched_nevertreated", control),
        specification=estimates["program_id"].map(lambda p: specs[str(p)].to_json()),
        status=estimates["status"].fillna(ESTIMATED),
        subgroup=estimates["subgroup"].fillna("all"),
        subgroup_value=estimates["subgroup_value"].fillna("all"),
    )
    # p- and sharpened q-values of each program's family of whole-sample outcomes
    estimates = with_family_qvalues(estimates, ESTIMATOR)
    if len(cells):
        control_of = cells["program_id"].map(lambda p: specs[str(p)].control_group)
        cells = cells[ATT_GT_COLUMNS].assign(comparison_group=control_of)
    if len(robustness):
        robustness = robustness.assign(
            estimator=ESTIMATOR,
            comparison_group=robustness["program_id"].map(lambda p: specs[str(p)].control_group),
            specification=robustness["program_id"].map(lambda p: specs[str(p)].to_json()),
            subgroup="all",
            subgroup_value="all",
            target=sensitivity.TARGET,
        )
    return ProgramImpact(
        estimates=estimates, att_gt=cells, roi=ratios, balance=balance, sensitivity=robustness
    )
