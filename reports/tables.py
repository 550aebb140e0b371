"""The tables an edition publishes, built from `SiteInputs` and passed through disclosure
control. Pure functions: inputs in, `Published` tables out.

Each builder returns a frame with the published columns and the helper columns the rules
need (firms behind a figure, the largest contributions to a sum); its `TableSpec` says
which is which. Effects are converted to the units pages show: percent for log outcomes
(100 x (e^ATT - 1)), percentage points for shares, jobs for employment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.impact import ESTIMATOR, HEADLINE_OUTCOMES, MATCHING_ESTIMATOR, OUTCOMES
from reports.disclosure import (
    LOG_COLUMNS,
    DisclosureRules,
    Measure,
    Protected,
    Published,
    TableSpec,
    contributions,
    protect,
)
from reports.inputs import SiteInputs

DIMENSIONS = ("size_class", "sector", "region")
HORIZONS = ("overall", "short", "medium", "long")
SHARE_OUTCOMES = ("exporter", "rd_intensity")  # effects in percentage points


def unit_of(outcome: str) -> str:
    """Display unit of an outcome's effects: pct, pp (percentage points) or jobs."""
    if outcome.startswith("log_"):
        return "pct"
    if outcome in SHARE_OUTCOMES:
        return "pp"
    return "jobs"


def to_display(outcome: str, values: pd.Series) -> pd.Series:
    """Effects in display units (log points become percent)."""
    x = pd.to_numeric(values, errors="coerce").astype(float)
    unit = unit_of(outcome)
    if unit == "pct":
        return 100.0 * np.expm1(x)
    if unit == "pp":
        return 100.0 * x
    return x


def horizon_of(event_time: int) -> str:
    """The report's horizons, in years since entry: short 0-1, medium 2-3, long 4+."""
    if event_time < 0:
        return "pre"
    if event_time <= 1:
        return "short"
    return "medium" if event_time <= 3 else "long"


def _effects(frame: pd.DataFrame) -> pd.DataFrame:
    """Add effect, ci_low, ci_high (and band_low, band_high when the frame has the
    event study's simultaneous band) and unit in display units, row by row of outcome."""
    out = frame.copy()
    sources = {"effect": "estimate", "ci_low": "ci_low", "ci_high": "ci_high"}
    sources.update({c: c for c in ("band_low", "band_high") if c in frame})
    converted = {c: np.full(len(out), np.nan) for c in sources}
    for outcome, rows in frame.groupby("outcome", sort=False):
        where = frame.index.get_indexer(rows.index)
        for column, source in sources.items():
            converted[column][where] = to_display(str(outcome), rows[source]).to_numpy()
    for column, values in converted.items():
        out[column] = values
    out["unit"] = out["outcome"].map(unit_of)
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


def _portfolio_spec(annual: bool) -> TableSpec:
    measures = [
        Measure("firms_served", "count", additive=True),
        Measure("public_cost_usd", "sum", firms="_cost_firms", top="_cost_top", additive=True),
        Measure("cost_per_firm_usd", "derived", depends=("firms_served", "public_cost_usd")),
        Measure("coverage_pct", "derived", depends=("firms_served",)),
    ]
    internal = ["_cost_firms", "_cost_top", "_pinned"]
    if annual:
        for o in HEADLINE_OUTCOMES:
            measures += [
                Measure(f"{o}_effect", "estimate", firms=f"_{o}_firms", control=f"_{o}_control"),
                Measure(f"{o}_ci_low", "derived", depends=(f"{o}_effect",)),
                Measure(f"{o}_ci_high", "derived", depends=(f"{o}_effect",)),
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


def portfolio(inputs: SiteInputs, top: int) -> pd.DataFrame:
    """One row per program (firms served, public cost, cost per firm, coverage, headline
    effects in annual editions) and a total row over the portfolio."""
    spells = inputs.participations
    served = spells.groupby("program_id")["firm_id"].nunique()
    cost = contributions(spells, ["program_id"], "public_cost_usd", top=top).set_index("program_id")
    population = inputs.population.set_index("country")["manufacturing_firms"]
    simple = _simple(inputs.estimates).set_index(["program_id", "outcome"])
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
        if inputs.period.annual:
            for o in HEADLINE_OUTCOMES:
                est = simple.loc[(p.program_id, o)] if (p.program_id, o) in simple.index else None
                row[f"{o}_effect"] = est["effect"] if est is not None else np.nan
                row[f"{o}_ci_low"] = est["ci_low"] if est is not None else np.nan
                row[f"{o}_ci_high"] = est["ci_high"] if est is not None else np.nan
                row[f"_{o}_firms"] = est["n_treated"] if est is not None else np.nan
                row[f"_{o}_control"] = est["n_control"] if est is not None else np.nan
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
    spec = _portfolio_spec(inputs.period.annual)
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


def _simple(estimates: pd.DataFrame) -> pd.DataFrame:
    """Overall effect (simple aggregation, all firms) per program and outcome."""
    cs = _cs(estimates)
    if cs.empty:
        return pd.DataFrame(
            columns=[
                "program_id",
                "outcome",
                "effect",
                "ci_low",
                "ci_high",
                "n_treated",
                "n_control",
            ]
        )
    rows = cs[(cs["aggregation"] == "simple") & (cs["subgroup"] == "all")]
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
    """Effects by entry cohort (every outcome) and by size class, sector and region
    (headline outcomes), each group with the overall effect as its total row."""
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
        *HETEROGENEITY.internal,
    ]
    if cs.empty:
        return pd.DataFrame(columns=columns)
    all_firms = cs["subgroup"] == "all"
    overall = cs[(cs["aggregation"] == "simple") & all_firms]
    totals = []
    for _, row in overall.iterrows():
        dims = ["cohort", *DIMENSIONS] if row["outcome"] in HEADLINE_OUTCOMES else ["cohort"]
        for d in dims:
            totals.append({**row.to_dict(), "dimension": d, "value": "total", "is_total": True})
    cohorts = cs[(cs["aggregation"] == "group") & all_firms & cs["key"].notna()].copy()
    counts = inputs.contributors[inputs.contributors["aggregation"] == "cohort"]
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
    groups = cs[cs["subgroup"].isin(DIMENSIONS)]
    groups = groups.assign(
        dimension=groups["subgroup"], value=groups["subgroup_value"].astype(str), is_total=False
    )
    frame = pd.concat([pd.DataFrame(totals), cohorts, groups], ignore_index=True)
    frame = _effects(frame)
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
    (a horizon mean and all but one of its event times would reveal the last one)."""
    cs = _cs(inputs.estimates)
    columns = [
        *EVENT_STUDY.keys,
        "effect",
        "ci_low",
        "ci_high",
        "band_low",
        "band_high",
        "unit",
        *EVENT_STUDY.internal,
    ]
    if cs.empty:
        return pd.DataFrame(columns=columns)
    all_firms = cs["subgroup"] == "all"
    dynamic = cs[(cs["aggregation"] == "dynamic") & all_firms & cs["key"].notna()]
    counts = inputs.contributors[inputs.contributors["aggregation"] == "event_time"]
    dynamic = dynamic.merge(
        counts[["program_id", "outcome", "key", "firms", "control"]],
        on=["program_id", "outcome", "key"],
        how="left",
    ).rename(columns={"firms": "_firms", "control": "_control"})
    dynamic["event_time"] = dynamic["key"].astype(int)
    dynamic["horizon"] = dynamic["event_time"].map(horizon_of)
    dynamic["is_total"] = False
    means = cs[(cs["aggregation"] == "horizon") & all_firms].rename(columns={"label": "horizon"})
    support = dynamic.groupby(["program_id", "outcome", "horizon"]).agg(
        _firms=("_firms", "max"), _control=("_control", "min")
    )
    means = means.join(support, on=["program_id", "outcome", "horizon"]).assign(
        event_time=None, is_total=True
    )
    for column in ("band_low", "band_high"):  # warehouses estimated before the band
        if column not in dynamic:
            dynamic[column] = np.nan
    frame = _effects(pd.concat([dynamic, means], ignore_index=True))
    frame["event_time"] = frame["event_time"].astype("Int64")
    frame = frame.sort_values(["program_id", "outcome", "is_total", "event_time"], kind="stable")
    return frame[columns].reset_index(drop=True)


ROI = TableSpec(
    "roi",
    keys=("program_id", "metric", "basis"),
    measures=(
        Measure("estimate", "estimate", firms="beneficiaries", top="_num_top", total="_num_total"),
        Measure("ci_low", "derived", depends=("estimate",)),
        Measure("ci_high", "derived", depends=("estimate",)),
        Measure("beneficiaries", "count"),
    ),
    internal=("_num_total", "_num_top"),
)


def roi(inputs: SiteInputs, top: int) -> pd.DataFrame:
    """Return per public dollar and cost per job, counterfactual and self-reported; the
    self-reported ones carry their respondents' largest contributions (dominance rule)."""
    frame = inputs.roi.copy()
    columns = [*ROI.keys, "estimate", "ci_low", "ci_high", "beneficiaries", *ROI.internal]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["_num_total"] = np.nan
    frame["_num_top"] = np.nan
    survey = inputs.self_reported
    for metric, column in (("sales_per_dollar", "sales_usd"), ("cost_per_job", "jobs")):
        sums = contributions(survey, ["program_id"], column, top=top).set_index("program_id")
        rows = (frame["basis"] == "self_reported") & (frame["metric"] == metric)
        frame.loc[rows, "_num_total"] = frame.loc[rows, "program_id"].map(sums["total"])
        frame.loc[rows, "_num_top"] = frame.loc[rows, "program_id"].map(sums["top"])
    return frame[columns]


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

BENCHMARKS = TableSpec(
    "benchmarks",
    keys=("program", "country", "metric", "outcome"),
    measures=(Measure("value", "info"),),
)

# --- data quality ---------------------------------------------------------------------

QUARANTINE = TableSpec(
    "quarantine",
    keys=("entity", "rule", "is_total"),
    measures=(Measure("rows", "count", additive=True),),
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
    """An edition's published tables and the log of every suppressed cell."""

    tables: dict[str, Published]
    log: pd.DataFrame


def build_tables(inputs: SiteInputs, rules: DisclosureRules, *, public: bool) -> SiteTables:
    """Build and protect every table of the edition, in the order links between them need."""
    top = rules.dominance_top
    protected: list[Protected] = []

    def add(frame: pd.DataFrame, spec: TableSpec) -> Protected:
        done = protect(frame, spec, rules, apply=public)
        protected.append(done)
        return done

    tables: dict[str, Published] = {}
    annual = inputs.period.annual
    tables["portfolio"] = add(portfolio(inputs, top), _portfolio_spec(annual)).published()
    tables["reach_by_year"] = add(reach_by_year(inputs, top), REACH_BY_YEAR).published()
    tables["reach_by_group"] = add(reach_by_group(inputs, top), REACH_BY_GROUP).published()
    tables["budget"] = add(inputs.budgets, BUDGET).published()
    if annual:
        het = add(heterogeneity(inputs), HETEROGENEITY).published()
        events = add(event_study(inputs), EVENT_STUDY).published()
        tables["heterogeneity"] = het
        tables["event_study"] = events.rows(~events.values["is_total"].astype(bool))
        tables["effects_by_horizon"] = _horizon_table(het, events, inputs.estimates)
        tables["roi"] = add(roi(inputs, top), ROI).published()
        tables["benchmarks"] = add(inputs.benchmarks, BENCHMARKS).published()
        if len(inputs.balance):
            tables["balance"] = add(inputs.balance, BALANCE).published()
    tables["quarantine"] = add(inputs.quarantine, QUARANTINE).published()
    if inputs.scorecard is not None and len(inputs.scorecard):
        scorecard = add(inputs.scorecard, SCORECARD).published()
        if public:  # record counts of a quality check can be tiny: shares only
            scorecard = scorecard.columns(
                [c for c in scorecard.values.columns if c not in ("numerator", "denominator")]
            )
        tables["scorecard"] = scorecard
    if not public:  # file names and per-entity counts would undo the quarantine suppression
        tables["loads"] = add(inputs.loads, LOADS).published()
    logs = [p.log for p in protected if len(p.log)]
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=LOG_COLUMNS)
    return SiteTables(tables, log)


def _horizon_table(het: Published, events: Published, estimates: pd.DataFrame) -> Published:
    """Effects by horizon: the overall effect and the short, medium and long-run means."""
    columns = ["program_id", "outcome", "horizon", "effect", "ci_low", "ci_high", "unit"]
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
    outcome_order = {o: i for i, o in enumerate(OUTCOMES)}
    pretrend = _cs(estimates)
    pretrend = (
        pretrend[(pretrend["aggregation"] == "simple") & (pretrend["subgroup"] == "all")]
        .set_index(["program_id", "outcome"])["pretrend_passes"]
        .astype("boolean")
    )
    values = values.assign(
        pretrend_passes=[
            pretrend.get((p, o), pd.NA)
            for p, o in zip(values["program_id"], values["outcome"], strict=True)
        ]
    )
    rank = values["outcome"].map(outcome_order).fillna(99) * 10 + values["horizon"].map(order)
    ordering = np.lexsort((rank.to_numpy(), values["program_id"].astype(str).to_numpy()))
    return Published(
        "effects_by_horizon",
        values.iloc[ordering].reset_index(drop=True),
        table.suppressed.iloc[ordering].reset_index(drop=True),
        table.applied,
    )


def matching_used(inputs: SiteInputs) -> bool:
    """Whether the run estimated matching + DID (and so has a balance table)."""
    est = inputs.estimates
    return bool(len(est)) and bool((est["estimator"] == MATCHING_ESTIMATOR).any())
