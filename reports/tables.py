"""The tables an edition publishes, built from `SiteInputs` and passed through disclosure
control. Pure functions: inputs in, `Published` tables out.

Each builder returns a frame with the published columns and the helper columns the rules
need (firms behind a figure, the largest contributions to a sum); its `TableSpec` says
which is which. Effects are converted to the units pages show (the unit stored with each
estimate, else one from the outcome's name): percent for log outcomes (100 x (e^ATT - 1)),
percentage points for shares, jobs, constant US dollars or the outcome's own level.

Every effect, return and balance table keeps the units that could not be estimated as
rows with a null figure and their `status`, `reason` and `reason_params`
(`reports.reasons` puts them in words); counts of firms inside the reasons go through
disclosure control like any other (`reports.disclosure.protect_reasons`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from evaluation.claims import PROGRAM_COLUMNS as CLAIMS_PROGRAM_COLUMNS
from evaluation.spec import ESTIMATOR, HEADLINE_OUTCOMES, MATCHING_ESTIMATOR, OUTCOMES
from reports.audit import Certificate, protect_edition
from reports.disclosure import (
    LOG_COLUMNS,
    DisclosureRules,
    Measure,
    Protected,
    Published,
    TableSpec,
    contributions,
    protect,
    protect_reasons,
    protect_shares,
)
from reports.inputs import SiteInputs
from reports.scales import benchmark_kind

DIMENSIONS = ("size_class", "sector", "region")
# the order return figures are listed in
ROI_METRICS = ("value_added_per_dollar", "sales_per_dollar", "cost_per_job")
HORIZONS = ("overall", "short", "medium", "long")
SHARE_OUTCOMES = ("exporter", "rd_intensity")  # effects in percentage points
UNITS = ("pct", "pp", "jobs", "usd", "level")
# the status and reason of an estimate (reports.reasons), carried by every effect table
REASON_COLUMNS = ("status", "reason", "reason_params")


def unit_of(outcome: str, unit: object = None) -> str:
    """Display unit of an outcome's effects: the stored one (pct, pp, jobs, usd, level)
    when the estimate has it, else from the name: pct for log outcomes, pp (percentage
    points) for shares, jobs for employment, the outcome's own level otherwise."""
    if isinstance(unit, str) and unit in UNITS:
        return unit
    if outcome.startswith("log_"):
        return "pct"
    if outcome in SHARE_OUTCOMES:
        return "pp"
    return "jobs" if outcome == "employment" else "level"


def _in_units(values: pd.Series | np.ndarray, units: np.ndarray) -> np.ndarray:
    x = pd.to_numeric(pd.Series(np.asarray(values)), errors="coerce").astype(float).to_numpy()
    with np.errstate(over="ignore"):
        return np.where(units == "pct", 100.0 * np.expm1(x), np.where(units == "pp", 100.0 * x, x))


def to_display(outcome: str, values: pd.Series, unit: object = None) -> pd.Series:
    """Effects in display units: log points become percent (100 x (e^x - 1)), shares
    percentage points (100 x); jobs, money (usd) and other levels stay as they are."""
    units = np.full(len(values), unit_of(outcome, unit))
    return pd.Series(_in_units(values, units), index=values.index)


def outcome_order(outcomes: object) -> list[str]:
    """Outcomes in the report's order: the built-in ones first, then the others as found."""
    found = list(dict.fromkeys(str(o) for o in outcomes))  # type: ignore[attr-defined]
    return [o for o in OUTCOMES if o in found] + [o for o in found if o not in OUTCOMES]


def headline(estimates: pd.DataFrame) -> tuple[str, ...]:
    """The outcomes an overview or a program page charts: the headline outcomes the run
    has (sales, employment), else its first two (a register without sales)."""
    cs = _cs(estimates)
    if cs.empty:
        return ()
    found = outcome_order(cs["outcome"])
    chosen = [o for o in HEADLINE_OUTCOMES if o in found]
    return tuple(chosen or found[:2])


def horizon_of(event_time: int) -> str:
    """The report's horizons, in years since entry: short 0-1, medium 2-3, long 4+."""
    if event_time < 0:
        return "pre"
    if event_time <= 1:
        return "short"
    return "medium" if event_time <= 3 else "long"


def _effects(frame: pd.DataFrame) -> pd.DataFrame:
    """Add effect, ci_low, ci_high (and band_low, band_high when the frame has the
    event study's simultaneous band) and unit in display units, row by row: the unit
    stored with the estimate, else the outcome's by name."""
    out = frame.copy()
    stored = frame["unit"] if "unit" in frame else pd.Series([None] * len(frame))
    units = np.array(
        [unit_of(str(o), u) for o, u in zip(frame["outcome"], stored, strict=True)], dtype=object
    )
    sources = {"effect": "estimate", "ci_low": "ci_low", "ci_high": "ci_high"}
    sources.update({c: c for c in ("band_low", "band_high") if c in frame})
    for column, source in sources.items():
        out[column] = _in_units(frame[source], units) if len(frame) else np.array([], float)
    out["unit"] = units
    for column in REASON_COLUMNS:  # effect tables carry them, even from older warehouses
        if column not in out:
            out[column] = None
    return out


EFFECT_MEASURES = (
    Measure("ci_low", "derived", depends=("effect",)),
    Measure("ci_high", "derived", depends=("effect",)),
)

# --- reach and spending ---------------------------------------------------------------

REACH_BY_YEAR = TableSpec(
    "reach_by_year",
    keys=("program_id", "year", "is_total"),
    measures=(
        Measure("firms_entering", "count", additive=True),
        Measure("public_cost_usd", "sum", firms="_cost_firms", top="_cost_top", additive=True),
    ),
    group=("program_id",),
    total="is_total",
    pinned="_pinned",
    internal=("_cost_firms", "_cost_top", "_pinned"),
)


def reach_by_year(inputs: SiteInputs, top: int) -> pd.DataFrame:
    """Firms entering and public cost of the services started, per program and year, with
    each program's total to the period's end (start dates decide the year)."""
    spells = inputs.participations
    entry = spells.groupby(["program_id", "firm_id"], as_index=False)["year"].min()
    entering = entry.groupby(["program_id", "year"]).size().rename("firms_entering")
    cost = contributions(spells, ["program_id", "year"], "public_cost_usd", top=top)
    cost = cost.set_index(["program_id", "year"])
    rows = []
    for p in inputs.programs.itertuples():
        first = int(min([p.start_year, *entry.loc[entry["program_id"] == p.program_id, "year"]]))
        for year in range(first, inputs.period.year + 1):
            key = (p.program_id, year)
            rows.append(
                {
                    "program_id": p.program_id,
                    "year": year,
                    "is_total": False,
                    "firms_entering": int(entering.get(key, 0)),
                    "public_cost_usd": float(cost["total"].get(key, 0.0)),
                    "_cost_firms": int(cost["firms"].get(key, 0)),
                    "_cost_top": float(cost["top"].get(key, 0.0)),
                    "_pinned": False,
                }
            )
    totals = contributions(spells, ["program_id"], "public_cost_usd", top=top).set_index(
        "program_id"
    )
    served = entry.groupby("program_id").size()
    for p in inputs.programs.itertuples():
        rows.append(
            {
                "program_id": p.program_id,
                "year": None,
                "is_total": True,
                "firms_entering": int(served.get(p.program_id, 0)),
                "public_cost_usd": float(totals["total"].get(p.program_id, 0.0)),
                "_cost_firms": int(totals["firms"].get(p.program_id, 0)),
                "_cost_top": float(totals["top"].get(p.program_id, 0.0)),
                "_pinned": True,  # shown again as the program's figure in the portfolio
            }
        )
    frame = pd.DataFrame(rows)
    frame["year"] = frame["year"].astype("Int64")
    return frame


REACH_BY_GROUP = TableSpec(
    "reach_by_group",
    keys=("program_id", "dimension", "value", "is_total"),
    measures=(
        Measure("firms_served", "count", additive=True),
        Measure("public_cost_usd", "sum", firms="_cost_firms", top="_cost_top", additive=True),
        Measure("cost_per_firm_usd", "derived", depends=("firms_served", "public_cost_usd")),
    ),
    group=("program_id", "dimension"),
    total="is_total",
    same="_same",
    pinned="_pinned",
    internal=("_cost_firms", "_cost_top", "_same", "_pinned"),
)


def reach_by_group(inputs: SiteInputs, top: int) -> pd.DataFrame:
    """Firms served and public cost to the period's end by size class, sector and region."""
    spells = inputs.participations
    columns = [*REACH_BY_GROUP.keys, "firms_served", "public_cost_usd", "cost_per_firm_usd"]
    if spells.empty:
        return pd.DataFrame(columns=[*columns, *REACH_BY_GROUP.internal])
    firms = spells.groupby(["program_id", "firm_id"], as_index=False).agg(
        public_cost_usd=("public_cost_usd", "sum"),
        **{d: (d, "first") for d in DIMENSIONS},
    )
    long = firms.melt(
        id_vars=["program_id", "firm_id", "public_cost_usd"],
        value_vars=list(DIMENSIONS),
        var_name="dimension",
        value_name="value",
    )
    keys = ["program_id", "dimension", "value"]
    cells = contributions(long, keys, "public_cost_usd", top=top)
    served = long.groupby(keys).size().rename("firms_served").reset_index()
    cells = served.merge(cells, on=keys, how="left").assign(is_total=False, _pinned=False)
    totals = contributions(firms, ["program_id"], "public_cost_usd", top=top)
    totals = (firms.groupby("program_id").size().rename("firms_served").reset_index()).merge(
        totals, on="program_id", how="left"
    )
    totals = pd.concat(
        [totals.assign(dimension=d, value="total") for d in DIMENSIONS], ignore_index=True
    ).assign(is_total=True, _pinned=True)
    frame = pd.concat([cells, totals], ignore_index=True).rename(
        columns={"total": "public_cost_usd", "firms": "_cost_firms", "top": "_cost_top"}
    )
    frame["cost_per_firm_usd"] = frame["public_cost_usd"] / frame["firms_served"].where(
        frame["firms_served"] > 0
    )
    frame["_same"] = np.where(
        frame["is_total"],
        frame["program_id"] + "|total",
        frame["program_id"] + "|" + frame["dimension"] + "|" + frame["value"].astype(str),
    )
    frame = frame.sort_values(["program_id", "dimension", "is_total", "value"], kind="stable")
    return frame[[*columns, *REACH_BY_GROUP.internal]].reset_index(drop=True)


def _portfolio_spec(outcomes: tuple[str, ...]) -> TableSpec:
    """The portfolio's structure: reach and spending, and the overall effect on each of
    `outcomes` (none in quarterly editions) with its status and reason."""
    measures = [
        Measure("firms_served", "count", additive=True),
        Measure("public_cost_usd", "sum", firms="_cost_firms", top="_cost_top", additive=True),
        Measure("cost_per_firm_usd", "derived", depends=("firms_served", "public_cost_usd")),
        Measure("coverage_pct", "derived", depends=("firms_served",)),
    ]
    internal = ["_cost_firms", "_cost_top", "_pinned"]
    for o in outcomes:
        measures += [
            Measure(f"{o}_effect", "estimate", firms=f"_{o}_firms", control=f"_{o}_control"),
            Measure(f"{o}_ci_low", "derived", depends=(f"{o}_effect",)),
            Measure(f"{o}_ci_high", "derived", depends=(f"{o}_effect",)),
            *(Measure(f"{o}_{c}", "info") for c in REASON_COLUMNS),
        ]
        internal += [f"_{o}_firms", f"_{o}_control"]
    return TableSpec(
        "portfolio",
        keys=("program_id", "is_total"),
        measures=tuple(measures),
        total="is_total",
        pinned="_pinned",
        internal=tuple(internal),
    )


def portfolio_outcomes(inputs: SiteInputs) -> tuple[str, ...]:
    """The outcomes whose effects the portfolio shows (annual editions)."""
    return headline(inputs.estimates) if inputs.period.annual else ()


def portfolio(inputs: SiteInputs, top: int) -> pd.DataFrame:
    """One row per program (firms served, public cost, cost per firm, coverage, headline
    effects with their status and reason in annual editions) and a total row over the
    portfolio."""
    spells = inputs.participations
    served = spells.groupby("program_id")["firm_id"].nunique()
    cost = contributions(spells, ["program_id"], "public_cost_usd", top=top).set_index("program_id")
    population = inputs.population.set_index("country")["manufacturing_firms"]
    simple = _simple(inputs.estimates).set_index(["program_id", "outcome"])
    outcomes = portfolio_outcomes(inputs)
    rows = []
    for p in inputs.programs.itertuples():
        firms = int(served.get(p.program_id, 0))
        row: dict[str, object] = {
            "program_id": p.program_id,
            "is_total": False,
            "firms_served": firms,
            "public_cost_usd": float(cost["total"].get(p.program_id, 0.0)),
            "_cost_firms": int(cost["firms"].get(p.program_id, 0)),
            "_cost_top": float(cost["top"].get(p.program_id, 0.0)),
            "_pinned": True,  # each program's figures are on its own page too
        }
        pop = population.get(p.country)
        row["coverage_pct"] = 100.0 * firms / pop if pop else np.nan
        for o in outcomes:
            found = (p.program_id, o) in simple.index
            est = simple.loc[(p.program_id, o)] if found else None
            if isinstance(est, pd.DataFrame):  # one overall row per program and outcome
                est = est.iloc[0]
            for column, source in (
                ("effect", "effect"),
                ("ci_low", "ci_low"),
                ("ci_high", "ci_high"),
                ("_firms", "n_treated"),
                ("_control", "n_control"),
            ):
                name = f"_{o}{column}" if column.startswith("_") else f"{o}_{column}"
                row[name] = est[source] if est is not None else np.nan
            for column in REASON_COLUMNS:
                row[f"{o}_{column}"] = est[column] if est is not None else None
        rows.append(row)
    total = contributions(
        spells.assign(all_programs=1), ["all_programs"], "public_cost_usd", top=top
    )
    rows.append(
        {
            "program_id": None,
            "is_total": True,
            "firms_served": int(sum(r["firms_served"] for r in rows)),  # type: ignore[misc]
            "public_cost_usd": float(total["total"].sum()),
            "_cost_firms": int(total["firms"].sum()),
            "_cost_top": float(total["top"].sum()),
            "_pinned": False,
            "coverage_pct": np.nan,
        }
    )
    frame = pd.DataFrame(rows)
    frame["cost_per_firm_usd"] = frame["public_cost_usd"] / frame["firms_served"].where(
        frame["firms_served"] > 0
    )
    spec = _portfolio_spec(outcomes)
    columns = [*spec.keys, *spec.measure_columns, *spec.internal]
    return frame.reindex(columns=columns)


BUDGET = TableSpec(
    "budget",
    keys=("program_id", "year"),
    measures=(
        Measure("public_budget_usd", "info"),
        Measure("admin_cost_usd", "info"),
        Measure("budget_share_gdp_pct", "info"),
    ),
)

# --- impact ---------------------------------------------------------------------------


def _cs(estimates: pd.DataFrame) -> pd.DataFrame:
    if estimates.empty:
        return estimates
    return estimates[estimates["estimator"] == ESTIMATOR]


def _simple(estimates: pd.DataFrame, estimator: str = ESTIMATOR) -> pd.DataFrame:
    """Overall effect (simple aggregation, all firms) per program and outcome, with its
    status and reason (an outcome not estimated has only this row)."""
    rows = estimates[estimates["estimator"] == estimator] if len(estimates) else estimates
    if rows.empty:
        return pd.DataFrame(
            columns=[
                "program_id",
                "outcome",
                "effect",
                "ci_low",
                "ci_high",
                "unit",
                "n_treated",
                "n_control",
                *REASON_COLUMNS,
            ]
        )
    rows = rows[(rows["aggregation"] == "simple") & (rows["subgroup"] == "all")]
    return _effects(rows)


HETEROGENEITY = TableSpec(
    "heterogeneity",
    keys=("program_id", "outcome", "dimension", "value", "is_total"),
    measures=(
        Measure("effect", "estimate", firms="n_treated", control="n_control", additive=True),
        *EFFECT_MEASURES,
        Measure("n_treated", "count", additive=True),
        Measure("n_control", "count"),
    ),
    group=("program_id", "outcome", "dimension"),
    total="is_total",
    same="_same",
    pinned="_pinned",
    internal=("_same", "_pinned"),
)


def heterogeneity(inputs: SiteInputs) -> pd.DataFrame:
    """Effects by entry cohort (every outcome) and by size class, sector and region (the
    outcomes estimated by group), each group with the overall effect as its total row;
    groups and outcomes not estimated keep their row, with status and reason."""
    cs = _cs(inputs.estimates)
    columns = [
        *HETEROGENEITY.keys,
        "effect",
        "ci_low",
        "ci_high",
        "unit",
        "n_treated",
        "n_control",
        "estimated",
        *REASON_COLUMNS,
        *HETEROGENEITY.internal,
    ]
    if cs.empty:
        return pd.DataFrame(columns=columns)
    all_firms = cs["subgroup"] == "all"
    overall = cs[(cs["aggregation"] == "simple") & all_firms]
    groups = cs[cs["subgroup"].isin(DIMENSIONS)]
    by_group = set(zip(groups["program_id"], groups["outcome"], groups["subgroup"], strict=True))
    totals = []
    for _, row in overall.iterrows():
        dims = ["cohort"] + [
            d for d in DIMENSIONS if (row["program_id"], row["outcome"], d) in by_group
        ]
        for d in dims:
            totals.append({**row.to_dict(), "dimension": d, "value": "total", "is_total": True})
    cohorts = cs[(cs["aggregation"] == "group") & all_firms & cs["key"].notna()].copy()
    counts = inputs.contributors
    counts = counts[counts["aggregation"] == "cohort"] if len(counts) else counts
    if len(counts) == 0:
        counts = pd.DataFrame(columns=["program_id", "outcome", "key", "firms", "control"])
    cohorts = cohorts.drop(columns=["n_treated", "n_control"]).merge(
        counts.rename(columns={"firms": "n_treated", "control": "n_control"})[
            ["program_id", "outcome", "key", "n_treated", "n_control"]
        ],
        on=["program_id", "outcome", "key"],
        how="left",
    )
    cohorts = cohorts.assign(
        dimension="cohort", value=cohorts["key"].astype("Int64").astype(str), is_total=False
    )
    groups = groups.assign(
        dimension=groups["subgroup"], value=groups["subgroup_value"].astype(str), is_total=False
    )
    parts = [p for p in (pd.DataFrame(totals), cohorts, groups) if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = _effects(pd.concat(parts, ignore_index=True))
    frame["estimated"] = frame["estimate"].notna()
    frame["_same"] = np.where(
        frame["is_total"],
        frame["program_id"] + "|" + frame["outcome"] + "|total",
        frame["program_id"]
        + "|"
        + frame["outcome"]
        + "|"
        + frame["dimension"]
        + "|"
        + frame["value"],
    )
    frame["_pinned"] = frame["is_total"]  # the overall effect is published in the horizon table
    order = {d: i for i, d in enumerate(["cohort", *DIMENSIONS])}
    frame = frame.assign(_order=frame["dimension"].map(order)).sort_values(
        ["program_id", "outcome", "_order", "is_total", "value"], kind="stable"
    )
    return frame[columns].reset_index(drop=True)


EVENT_STUDY = TableSpec(
    "event_study",
    keys=("program_id", "outcome", "horizon", "event_time", "is_total"),
    measures=(
        Measure("effect", "estimate", firms="_firms", control="_control", additive=True),
        *EFFECT_MEASURES,
        Measure("band_low", "derived", depends=("effect",)),
        Measure("band_high", "derived", depends=("effect",)),
    ),
    group=("program_id", "outcome", "horizon"),
    total="is_total",
    internal=("_firms", "_control"),
)


def event_study(inputs: SiteInputs) -> pd.DataFrame:
    """Effects by years since entry, and the horizon means as totals of their event times
    (a horizon mean and all but one of its event times would reveal the last one). An
    outcome not estimated has none: its reason is in the heterogeneity and horizon tables."""
    cs = _cs(inputs.estimates)
    columns = [
        *EVENT_STUDY.keys,
        "effect",
        "ci_low",
        "ci_high",
        "band_low",
        "band_high",
        "unit",
        *REASON_COLUMNS,
        *EVENT_STUDY.internal,
    ]
    if cs.empty:
        return pd.DataFrame(columns=columns)
    all_firms = cs["subgroup"] == "all"
    dynamic = cs[(cs["aggregation"] == "dynamic") & all_firms & cs["key"].notna()]
    means = cs[(cs["aggregation"] == "horizon") & all_firms].rename(columns={"label": "horizon"})
    if dynamic.empty and means.empty:
        return pd.DataFrame(columns=columns)
    counts = inputs.contributors
    counts = counts[counts["aggregation"] == "event_time"] if len(counts) else counts
    if len(counts) == 0:
        counts = pd.DataFrame(columns=["program_id", "outcome", "key", "firms", "control"])
    dynamic = dynamic.merge(
        counts[["program_id", "outcome", "key", "firms", "control"]],
        on=["program_id", "outcome", "key"],
        how="left",
    ).rename(columns={"firms": "_firms", "control": "_control"})
    dynamic["event_time"] = dynamic["key"].astype(int)
    dynamic["horizon"] = dynamic["event_time"].map(horizon_of)
    dynamic["is_total"] = False
    support = dynamic.groupby(["program_id", "outcome", "horizon"]).agg(
        _firms=("_firms", "max"), _control=("_control", "min")
    )
    means = means.join(support, on=["program_id", "outcome", "horizon"]).assign(
        event_time=None, is_total=True
    )
    for column in ("band_low", "band_high"):  # warehouses estimated before the band
        if column not in dynamic:
            dynamic[column] = np.nan
    parts = [p for p in (dynamic, means) if len(p)]
    frame = _effects(pd.concat(parts, ignore_index=True))
    frame["event_time"] = frame["event_time"].astype("Int64")
    frame = frame.sort_values(["program_id", "outcome", "is_total", "event_time"], kind="stable")
    return frame[columns].reset_index(drop=True)


# each counterfactual figure's scale, why it is on it, and its pre-entry test on that scale
# (results.roi; empty for self-reported figures, which have no scale)
SCALE_COLUMNS = (
    "scale",
    "scale_choice",
    "pretrend_pvalue",
    "pretrend_passes",
    "pretrend_reason",
    "pretrend_reason_params",
)
# the same figure on the scale not chosen (internal editions only, see `roi_other_scale`):
# these columns of its row, prefixed "other_"
OTHER_SOURCES = ("scale", "estimate", "ci_low", "ci_high", *REASON_COLUMNS, *SCALE_COLUMNS[2:])
OTHER_COLUMNS = tuple(f"other_{c}" for c in OTHER_SOURCES)

ROI = TableSpec(
    "roi",
    keys=("program_id", "metric", "basis"),
    measures=(
        Measure("estimate", "estimate", firms="beneficiaries", top="_num_top", total="_num_total"),
        Measure("ci_low", "derived", depends=("estimate",)),
        Measure("ci_high", "derived", depends=("estimate",)),
        Measure("beneficiaries", "count"),
        # a test of the figure's own estimates: withheld with it
        Measure("pretrend_pvalue", "derived", depends=("estimate",)),
    ),
    internal=("_num_total", "_num_top"),
)


def roi(inputs: SiteInputs, top: int) -> pd.DataFrame:
    """Return per public dollar and cost per job, counterfactual and self-reported, with
    the status and reason of those not estimated, and each counterfactual figure's scale,
    the reason for it and its pre-entry test on that scale; the self-reported ones carry
    their respondents' largest contributions (dominance rule)."""
    frame = inputs.roi.copy()
    columns = [
        *ROI.keys,
        "estimate",
        "ci_low",
        "ci_high",
        "beneficiaries",
        *REASON_COLUMNS,
        *SCALE_COLUMNS,
        *ROI.internal,
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    for column in (*REASON_COLUMNS, *SCALE_COLUMNS):
        if column not in frame:
            frame[column] = None
    frame["pretrend_passes"] = pd.array(
        [_flag(v) for v in frame["pretrend_passes"]], dtype="boolean"
    )
    frame["pretrend_pvalue"] = pd.to_numeric(frame["pretrend_pvalue"], errors="coerce")
    # a test's reason is only what stands in for its verdict
    tested = frame["pretrend_passes"].notna().to_numpy()
    frame.loc[tested, ["pretrend_reason", "pretrend_reason_params"]] = None
    frame["_num_total"] = np.nan
    frame["_num_top"] = np.nan
    survey = inputs.self_reported
    for metric, column in (("sales_per_dollar", "sales_usd"), ("cost_per_job", "jobs")):
        sums = contributions(survey, ["program_id"], column, top=top).set_index("program_id")
        rows = (frame["basis"] == "self_reported") & (frame["metric"] == metric)
        if not rows.any():  # no survey: nothing to add (an empty map has no numeric type)
            continue
        programs = frame.loc[rows, "program_id"]
        frame.loc[rows, "_num_total"] = programs.map(sums["total"]).astype(float)
        frame.loc[rows, "_num_top"] = programs.map(sums["top"]).astype(float)
    # each program's counterfactual figures, then its self-reported ones, in ROI_METRICS order
    rank = frame["metric"].map({m: i for i, m in enumerate(ROI_METRICS)}).fillna(len(ROI_METRICS))
    frame = frame.assign(_rank=(frame["basis"] != "counterfactual") * 10 + rank)
    frame = frame.sort_values(["program_id", "_rank"], kind="stable").reset_index(drop=True)
    return frame[columns]


def roi_other_scale(table: Published, other: pd.DataFrame) -> Published:
    """The published return table with each counterfactual figure also on the scale not
    chosen (`OTHER_COLUMNS`), for internal editions.

    Public editions publish one figure per measure, the one on the scale whose assumption
    its pre-entry test supports (or the design of record, `evaluation.roi.choose_scale`):
    two "returns" for the same program side by side, one resting on an assumption the data
    reject, invite quoting the larger, and every published figure is one the report
    stands behind and a later edition restates. Analysts comparing the scales read both
    in internal editions, which are not for publication and apply no suppression; the
    other figure rests on the same beneficiaries, so the page flags it with the chosen
    one. Added after disclosure control, so the suppression log is the public one."""
    values = table.values
    frame = other.copy() if len(other) else pd.DataFrame(columns=[*ROI.keys])
    for column in OTHER_SOURCES:
        if column not in frame:
            frame[column] = None
    frame = frame[[*ROI.keys, *OTHER_SOURCES]].drop_duplicates(subset=list(ROI.keys))
    frame = frame.rename(columns=dict(zip(OTHER_SOURCES, OTHER_COLUMNS, strict=True)))
    merged = values.merge(frame, on=list(ROI.keys), how="left")
    merged["other_pretrend_passes"] = pd.array(
        [_flag(v) for v in merged["other_pretrend_passes"]], dtype="boolean"
    )
    tested = merged["other_pretrend_passes"].notna().to_numpy()
    merged.loc[tested, ["other_pretrend_reason", "other_pretrend_reason_params"]] = None
    merged.index = values.index
    return Published(table.table_id, merged, table.suppressed, table.applied)


# --- claims against records (client survey) ------------------------------------------------

CLAIM_MEASURES = ("sales", "jobs")
CLAIMS = TableSpec(
    "claims",
    keys=("program_id", "measure"),
    measures=(
        Measure("beneficiaries", "count"),
        Measure("respondents", "count"),
        # respondents / beneficiaries: either count could be recovered from the other
        Measure("response_rate", "derived", depends=("respondents", "beneficiaries")),
        Measure("compared", "count"),
        Measure("share_above", "estimate", firms="_compared_firms"),
        Measure("share_ci_low", "derived", depends=("share_above",)),
        Measure("share_ci_high", "derived", depends=("share_above",)),
        Measure("ratio_answers", "count"),
        Measure("claimed_total", "sum", firms="_ratio_firms", top="_claimed_top"),
        Measure("counterfactual_total", "sum", firms="_ratio_firms", top="_effect_top"),
        Measure("gross_to_net", "derived", depends=("claimed_total", "counterfactual_total")),
        Measure("ratio_ci_low", "derived", depends=("gross_to_net",)),
        Measure("ratio_ci_high", "derived", depends=("gross_to_net",)),
        Measure("bias_respondents", "count"),
        Measure("bias_nonrespondents", "count"),
        Measure(
            "mean_respondents", "estimate", firms="bias_respondents", control="bias_nonrespondents"
        ),
        Measure(
            "mean_nonrespondents",
            "estimate",
            firms="bias_nonrespondents",
            control="bias_respondents",
        ),
        Measure("bias_difference", "derived", depends=("mean_respondents", "mean_nonrespondents")),
        Measure("bias_std_difference", "derived", depends=("bias_difference",)),
        Measure("bias_pvalue", "derived", depends=("bias_difference",)),
    ),
    internal=("_compared_firms", "_ratio_firms", "_claimed_top", "_effect_top"),
)
# the published columns of the claims table: the warehouse's (evaluation.claims), but for
# counts and a standard error that serve the computation, and the free-text note
CLAIMS_UNPUBLISHED = ("answers", "above_recorded", "counterfactual_se", "note")
CLAIMS_COLUMNS = tuple(c for c in CLAIMS_PROGRAM_COLUMNS if c not in CLAIMS_UNPUBLISHED)


def claims(inputs: SiteInputs, top: int) -> pd.DataFrame:
    """Claims against records per program and measure (sales, jobs): response rate, the
    share of claims above the recorded change, the gross-to-net ratio and the response
    bias, with the reasons of figures not computed; the sums carry the firms behind them
    and their largest contributions (dominance rule), from the firm rows."""
    columns = [*CLAIMS_COLUMNS, *CLAIMS.internal]
    frame = inputs.claims
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.reindex(columns=[c for c in columns if not c.startswith("_")]).copy()
    firms = inputs.claim_firms
    for measure in CLAIM_MEASURES:
        rows = (frame["measure"] == measure).to_numpy()
        if not rows.any():
            continue
        claimed, effect = f"{measure}_claimed", f"{measure}_counterfactual"
        both = (
            firms[firms[claimed].notna() & firms[effect].notna()]
            if len(firms) and claimed in firms and effect in firms
            else pd.DataFrame(columns=["program_id", "firm_id", claimed, effect])
        )
        sums = contributions(both, ["program_id"], claimed, top=top).set_index("program_id")
        effects = contributions(both, ["program_id"], effect, top=top).set_index("program_id")
        above = f"{measure}_above_recorded"
        compared = (
            firms[firms[above].notna()].groupby("program_id")["firm_id"].nunique()
            if len(firms) and above in firms
            else pd.Series(dtype=float)
        )
        programs = frame.loc[rows, "program_id"]
        total = pd.to_numeric(frame.loc[rows, "claimed_total"], errors="coerce")
        # firms, not answers (a firm may answer in two years); without firm rows to check
        # them on, the answers stand in and a total is treated as dominated (hidden)
        frame.loc[rows, "_compared_firms"] = (
            programs.map(compared).astype(float).fillna(frame.loc[rows, "compared"])
        )
        frame.loc[rows, "_ratio_firms"] = (
            programs.map(sums["firms"]).astype(float).fillna(frame.loc[rows, "ratio_answers"])
        )
        frame.loc[rows, "_claimed_top"] = programs.map(sums["top"]).astype(float).fillna(total)
        frame.loc[rows, "_effect_top"] = (
            programs.map(effects["top"])
            .astype(float)
            .fillna(pd.to_numeric(frame.loc[rows, "counterfactual_total"], errors="coerce"))
        )
    order = {m: i for i, m in enumerate(CLAIM_MEASURES)}
    frame = frame.assign(_order=frame["measure"].map(order).fillna(len(order)))
    frame = frame.sort_values(["program_id", "_order"], kind="stable").reset_index(drop=True)
    return frame[columns]


# the firm-by-firm columns, published in internal editions only
CLAIM_FIRM_COLUMNS = (
    "program_id",
    "firm_id",
    "cohort",
    "survey_year",
    *(
        f"{m}_{c}"
        for m in CLAIM_MEASURES
        for c in (
            "claimed",
            "level",
            "before",
            "recorded_change",
            "counterfactual",
            "above_recorded",
        )
    ),
)


def claim_firms(inputs: SiteInputs) -> Published:
    """Each surveyed firm's claims beside its records and the counterfactual effect, for
    internal editions only: firm-level figures of identifiable size, which no disclosure
    rule can publish (a firm is fewer than any threshold), so public editions never build
    this table (`build_tables`). Published as is, not for publication."""
    frame = inputs.claim_firms.reindex(columns=list(CLAIM_FIRM_COLUMNS))
    frame = frame.reset_index(drop=True)
    return Published("claim_firms", frame, pd.DataFrame(index=frame.index), False)


MATCHING = TableSpec(
    "matching",
    keys=("program_id", "outcome"),
    measures=(
        Measure("effect", "estimate", firms="n_treated", control="n_control"),
        *EFFECT_MEASURES,
        Measure("n_treated", "count"),
        Measure("n_control", "count"),
    ),
)


def matching(inputs: SiteInputs) -> pd.DataFrame:
    """The matching + DID check: each outcome's overall effect against matched comparison
    firms, or its status and reason (no overlap, no baseline year...)."""
    columns = [
        *MATCHING.keys,
        "effect",
        "ci_low",
        "ci_high",
        "unit",
        "n_treated",
        "n_control",
        *REASON_COLUMNS,
    ]
    frame = _simple(inputs.estimates, MATCHING_ESTIMATOR)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    order = {o: i for i, o in enumerate(outcome_order(frame["outcome"]))}
    frame = frame.assign(_order=frame["outcome"].map(order)).sort_values(
        ["program_id", "_order"], kind="stable"
    )
    return frame[columns].reset_index(drop=True)


BALANCE = TableSpec(
    "balance",
    keys=("program_id", "covariate"),
    measures=(
        Measure("mean_treated_before", "estimate", firms="n_treated"),
        Measure("mean_control_before", "info"),
        Measure("smd_before", "derived", depends=("mean_treated_before",)),
        Measure("mean_treated_after", "estimate", firms="n_matched"),
        Measure("mean_control_after", "estimate", firms="n_matched"),
        Measure("smd_after", "derived", depends=("mean_treated_after", "mean_control_after")),
        Measure("n_treated", "count"),
        Measure("n_matched", "count"),
    ),
)


def balance(inputs: SiteInputs) -> pd.DataFrame:
    """Covariate balance before and after matching; a covariate dropped before the
    propensity score (constant, collinear) keeps its row with status 'dropped' and the
    reason."""
    frame = inputs.balance.copy()
    dropped = frame["dropped"] if "dropped" in frame else pd.Series([None] * len(frame))
    has = dropped.notna().to_numpy()
    frame["status"] = pd.Series(
        ["dropped" if h else None for h in has], index=frame.index, dtype=object
    )
    frame["reason"] = pd.Series(dropped.to_numpy(), index=frame.index, dtype=object)
    return frame.drop(columns=["dropped"], errors="ignore")


BENCHMARKS = TableSpec(
    "benchmarks",
    keys=("program", "country", "metric", "outcome"),
    measures=(Measure("value", "info"),),
)


def benchmarks(inputs: SiteInputs) -> pd.DataFrame:
    """The international benchmarks, each with `kind`: 'gross' (clients' self-reports) or
    'modelled', from its source's description (`reports.scales.benchmark_kind`)."""
    frame = inputs.benchmarks.copy()
    kinds = [benchmark_kind(b) for b in frame["basis"]] if "basis" in frame else []
    position = frame.columns.get_loc("basis") + 1 if "basis" in frame else len(frame.columns)
    frame.insert(int(position), "kind", pd.Series(kinds, index=frame.index, dtype=object))
    return frame


# --- data quality ---------------------------------------------------------------------

QUARANTINE = TableSpec(
    "quarantine",
    keys=("entity", "rule", "is_total"),
    # rows rejected by rule describe the agency's data handling, not a firm: published in
    # full (reports.disclosure, "info"); a count of firms would be a "count"
    measures=(Measure("rows", "info"),),
    group=("entity",),
    total="is_total",
)

SCORECARD = TableSpec(
    "scorecard",
    keys=("entity", "grain", "load_id", "period_type", "period", "dimension", "detail"),
    measures=(
        Measure("value", "info"),
        Measure("numerator", "info"),
        Measure("denominator", "info"),
    ),
)

DECISIONS = TableSpec(  # the changelog of the agency's decisions (internal editions)
    "decisions",
    keys=("entity", "source_file", "row_number", "action", "column_name"),
    measures=(),
)

QUARANTINE_ROWS = TableSpec(  # every rejected row, as `mes-eval quarantine` lists it (internal)
    "quarantine_rows",
    keys=("entity", "source_file", "load_sequence", "row_number", "column", "rule"),
    measures=(),
)
# lists of rows, not figures: a restatement does not compare them (reports.site)
NOT_FIGURES = ("decisions", "quarantine_rows")

LOADS = TableSpec(
    "loads",
    keys=("entity", "source_file", "content_sha256", "loaded_at"),
    measures=(
        Measure("rows_in", "info"),
        Measure("rows_loaded", "info"),
        Measure("rows_quarantined", "info"),
    ),
)


@dataclass(frozen=True)
class SiteTables:
    """An edition's published tables, the log of every suppressed cell and the certificate
    of the disclosure audit (`reports.audit`)."""

    tables: dict[str, Published]
    log: pd.DataFrame
    certificate: Certificate | None = None


def build_tables(inputs: SiteInputs, rules: DisclosureRules, *, public: bool) -> SiteTables:
    """Build and protect every table of the edition, in the order links between them need;
    the additive tables are then audited together (`reports.audit.protect_edition`), which
    hides more where the rules' suppression would let a hidden cell be bounded too closely."""
    top = rules.dominance_top
    protected: dict[str, Protected] = {}
    logs: list[pd.DataFrame] = []

    def add(frame: pd.DataFrame, spec: TableSpec, name: str | None = None) -> Protected:
        done = protect(frame, spec, rules, apply=public)
        protected[name or spec.table_id] = done
        return done

    # the tables an attacker can add up, protected together before anything is published
    add(portfolio(inputs, top), _portfolio_spec(portfolio_outcomes(inputs)))
    add(reach_by_year(inputs, top), REACH_BY_YEAR)
    add(reach_by_group(inputs, top), REACH_BY_GROUP)
    add(inputs.quarantine, QUARANTINE)
    audited, certificate = protect_edition(protected, rules)
    protected.update(audited)

    tables: dict[str, Published] = {}
    annual = inputs.period.annual
    for name in ("portfolio", "reach_by_year", "reach_by_group"):
        tables[name] = protected[name].published()
    tables["budget"] = add(inputs.budgets, BUDGET).published()
    if annual:
        het = add(heterogeneity(inputs), HETEROGENEITY).published()
        events = add(event_study(inputs), EVENT_STUDY).published()
        tables["heterogeneity"] = het
        tables["event_study"] = events.rows(~events.values["is_total"].astype(bool))
        horizon, horizon_log = _horizon_table(het, events, inputs.estimates, rules, public)
        tables["effects_by_horizon"] = horizon
        logs.append(horizon_log)
        returns = add(roi(inputs, top), ROI).published()
        tables["roi"] = returns if public else roi_other_scale(returns, inputs.roi_other)
        if len(inputs.claims):
            tables["claims"] = add(claims(inputs, top), CLAIMS).published()
            if not public:  # firm by firm: never in a public edition
                tables["claim_firms"] = claim_firms(inputs)
        tables["benchmarks"] = add(benchmarks(inputs), BENCHMARKS).published()
        match = matching(inputs)
        if len(match):
            tables["matching"] = add(match, MATCHING).published()
        if len(inputs.balance):
            tables["balance"] = add(balance(inputs), BALANCE).published()
    tables["quarantine"] = protected["quarantine"].published()
    if inputs.scorecard is not None and len(inputs.scorecard):
        scorecard = add(inputs.scorecard, SCORECARD).published()
        # shares to whole percent, and withheld where even that pins a count under k
        scorecard, share_log = protect_shares(scorecard, SCORECARD.keys, rules, apply=public)
        logs.append(share_log)
        if public:  # record counts of a quality check can be tiny: shares only
            scorecard = scorecard.columns(
                [c for c in scorecard.values.columns if c not in ("numerator", "denominator")]
            )
        tables["scorecard"] = scorecard
    if not public:  # file names and per-entity counts would undo the quarantine suppression
        tables["loads"] = add(inputs.loads, LOADS).published()
        if len(inputs.decisions):  # firm rows and values: never in a public edition
            tables["decisions"] = add(inputs.decisions, DECISIONS).published()
        if len(inputs.quarantine_rows):
            tables["quarantine_rows"] = add(inputs.quarantine_rows, QUARANTINE_ROWS).published()
    logs = [p.log for p in protected.values() if len(p.log)] + [g for g in logs if len(g)]
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=LOG_COLUMNS)
    return SiteTables(tables, log, certificate)


def _horizon_table(
    het: Published,
    events: Published,
    estimates: pd.DataFrame,
    rules: DisclosureRules,
    public: bool,
) -> tuple[Published, pd.DataFrame]:
    """Effects by horizon: the overall effect (or its status and reason) and the short,
    medium and long-run means, with the pre-entry test's verdict or why it was not run.
    Returns the table and the log of the counts its pre-entry reasons withhold."""
    columns = [
        "program_id",
        "outcome",
        "horizon",
        "effect",
        "ci_low",
        "ci_high",
        "unit",
        *REASON_COLUMNS,
    ]
    overall = het.rows(het.values["is_total"].astype(bool) & (het.values["dimension"] == "cohort"))
    overall = Published(
        overall.table_id,
        overall.values.assign(horizon="overall"),
        overall.suppressed,
        overall.applied,
    )
    means = events.rows(events.values["is_total"].astype(bool))
    table = Published.concat(
        [
            overall.columns([*columns, "n_treated", "n_control"]),
            means.columns(columns),
        ],
        "effects_by_horizon",
    )
    values = table.values
    order = {h: i for i, h in enumerate(HORIZONS)}
    outcomes = {o: i for i, o in enumerate(outcome_order(values["outcome"]))}
    pretrend = _cs(estimates)
    verdict: dict[tuple[str, str], dict[str, object]] = {}
    if len(pretrend):
        pretrend = pretrend[(pretrend["aggregation"] == "simple") & (pretrend["subgroup"] == "all")]
        for row in pretrend.itertuples(index=False):
            verdict[(row.program_id, row.outcome)] = {
                "pretrend_passes": row.pretrend_passes,
                "pretrend_reason": getattr(row, "pretrend_reason", None),
                "pretrend_reason_params": getattr(row, "pretrend_reason_params", None),
            }
    keys = list(zip(values["program_id"], values["outcome"], strict=True))
    empty: dict[str, object] = {}
    values = values.assign(
        pretrend_passes=pd.array(
            [_flag(verdict.get(k, empty).get("pretrend_passes")) for k in keys], dtype="boolean"
        ),
        pretrend_reason=[verdict.get(k, empty).get("pretrend_reason") for k in keys],
        pretrend_reason_params=[verdict.get(k, empty).get("pretrend_reason_params") for k in keys],
    )
    # a test's reason is only what stands in for its verdict
    tested = values["pretrend_passes"].notna().to_numpy()
    values.loc[tested, ["pretrend_reason", "pretrend_reason_params"]] = None
    # the overall effect's p-value and sharpened q-value over the program's outcomes
    # (evaluation.multiple); hidden wherever the effect itself is
    values, suppressed = _with_qvalues(values, table.suppressed, estimates)
    table = replace(table, values=values, suppressed=suppressed)
    # the effects' own reasons were protected in the tables they come from
    values, log = protect_reasons(
        values,
        ("program_id", "outcome", "horizon"),
        "effects_by_horizon",
        rules,
        apply=public,
        columns=["pretrend_reason_params"],
    )
    rank = values["outcome"].map(outcomes).fillna(len(outcomes)) * 10 + values["horizon"].map(order)
    ordering = np.lexsort((rank.to_numpy(), values["program_id"].astype(str).to_numpy()))
    published = Published(
        "effects_by_horizon",
        values.iloc[ordering].reset_index(drop=True),
        table.suppressed.iloc[ordering].reset_index(drop=True),
        table.applied,
    )
    return published, log


def _with_qvalues(
    values: pd.DataFrame, suppressed: pd.DataFrame, estimates: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add `pvalue` and `qvalue` (results.estimates: the family of whole-sample outcomes)
    to the overall rows of the horizon table, null on the horizon means and where the
    warehouse has none; each is suppressed wherever the row's effect is (a p-value and
    the interval would give the effect away)."""
    simple = _cs(estimates)
    found: dict[tuple[str, str], tuple[object, object]] = {}
    if len(simple):
        simple = simple[(simple["aggregation"] == "simple") & (simple["subgroup"] == "all")]
        simple = simple[simple["key"].isna()] if "key" in simple else simple
        for row in simple.itertuples(index=False):
            found[(row.program_id, row.outcome)] = (
                getattr(row, "pvalue", None),
                getattr(row, "qvalue", None),
            )
    overall = (values["horizon"] == "overall").to_numpy()
    keys = list(zip(values["program_id"], values["outcome"], strict=True))
    for i, column in enumerate(("pvalue", "qvalue")):
        cells = [
            found.get(k, (None, None))[i] if o else None for k, o in zip(keys, overall, strict=True)
        ]
        values = values.assign(
            **{
                column: pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").to_numpy(
                    dtype=float
                )
            }
        )
    effect = (
        suppressed["effect"] if "effect" in suppressed else pd.Series(False, index=suppressed.index)
    )
    suppressed = suppressed.assign(
        pvalue=effect.to_numpy(dtype=bool), qvalue=effect.to_numpy(dtype=bool)
    )
    return values, suppressed


def _flag(value: object) -> object:
    """A stored boolean, or NA (not tested)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return pd.NA
    return bool(value)


def outcome_units(inputs: SiteInputs) -> dict[str, str]:
    """The display unit of each outcome of the run (the first stored, else by name)."""
    est = inputs.estimates
    if est.empty:
        return {}
    stored: dict[str, str] = {}
    for outcome, unit in zip(est["outcome"], est["unit"], strict=True):
        if isinstance(unit, str) and unit in UNITS:
            stored.setdefault(str(outcome), unit)
    return {str(o): stored.get(str(o), unit_of(str(o))) for o in est["outcome"].unique()}


def matching_used(inputs: SiteInputs) -> bool:
    """Whether the run estimated matching + DID (and so has a balance table)."""
    est = inputs.estimates
    return bool(len(est)) and bool((est["estimator"] == MATCHING_ESTIMATOR).any())
