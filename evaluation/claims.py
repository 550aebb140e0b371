"""Claims against records, firm by firm: what clients say a program did for them, beside
what the outcomes panel recorded and what the evaluation estimates the program did.

A client survey (MEP style) asks each beneficiary for the sales it won or kept and the
jobs it created or kept thanks to the program. Those are gross self-reports: they do not
net out what would have happened anyway. For each answer (a surveyed firm and its survey
year t, a post-entry year of its entry cohort g) this module puts side by side:

* **claimed**: new + retained sales (constant USD), jobs created + retained (an item left
  empty counts as zero, as in the self-reported totals; both empty: no claim);
* **recorded change**: the firm's own change in the outcomes panel from the year before
  entry to the survey year, Y_t - Y_{g-1} (sales in constant USD, employment in jobs);
* **counterfactual effect**: the program's estimated effect for the firm's cohort and
  survey year, on the log scale applied to the firm's own level: Y_t (1 - e^(-ATT(g,t))),
  with ATT(g,t) the stored effect on log sales or log employment.

Per program and measure (sales, jobs):

* the **share of claims above the recorded change** (a positive claim larger than what the
  firm's records moved by), with a Wilson 95% interval (a binomial share of answers);
* the **gross-to-net ratio** R = sum of claims C / sum of counterfactual effects D over the
  same answers, with a 95% interval by the **delta method**. The claims are a census of
  what the respondents said (as for the self-reported ROI, `evaluation.roi.self_reported`),
  so the uncertainty is the counterfactual's estimation error and the interval is C over
  D's 95% interval, inverted (as cost per job inverts the jobs interval). D = sum over
  cells (g,t) of S_gt (1 - e^-ATT(g,t)) (S_gt: the answers' levels in the cell); its
  gradient in ATT(g,t) is S_gt e^-ATT(g,t). Only each cell's standard error is stored,
  not the covariances between cells, so the cells of one cohort are taken as perfectly
  correlated (they share its firms and its base year g-1: an upper bound, whatever their
  correlation) and cohorts as independent (they share only comparison firms, which are
  many). On the planted panel of `tests/test_claims.py` (`planted_program`, 2,400 firms,
  seeds 1000-1149, sales and jobs) the interval covered the planted ratio in 97-99% of
  runs with firm shocks independent from year to year and in 94-95% with persistent ones
  (`persistence=0.8`); treating the cells as independent instead covered 84-93%.
  A bootstrap over respondents was not used: it would re-draw which clients answered, not
  the effect estimates (that needs the influence functions, which a stored run no longer
  has), and the effects are where the uncertainty is. When D's own interval reaches zero,
  the ratio's upper end is unbounded.
* the survey's **response rate** (respondents / beneficiaries) and **response bias**:
  respondents against non-respondents on the pre-entry outcomes (mean log sales and log
  employment in the year before entry), with the difference, the standardized difference
  (difference / sqrt of the mean of the two variances) and Welch's t-test p-value.

A program without survey answers has one row per measure with the reason
`no_client_survey`; a figure that cannot be computed carries its own reason
(`share_`, `ratio_`, `bias_` prefixed columns; `evaluation.reasons`).

Pure functions. Firm ids are the warehouse's pseudonyms; nothing here sees a tax number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from evaluation.reasons import ESTIMATED, Reason

Z_95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class ClaimMeasure:
    """One thing clients claim: the survey items, the panel level and the log outcome."""

    name: str
    items: tuple[str, str]  # survey columns (new, retained), summed
    level: str  # column of the evaluation panel, in levels
    outcome: str  # the log outcome whose ATT(g,t) gives the counterfactual


MEASURES: tuple[ClaimMeasure, ...] = (
    ClaimMeasure("sales", ("new_sales_usd", "retained_sales_usd"), "sales_usd", "log_sales"),
    ClaimMeasure("jobs", ("jobs_created", "jobs_retained"), "employment", "log_employment"),
)
SURVEY_ITEMS = tuple(item for m in MEASURES for item in m.items)
RATIO_METHOD = "delta_log_cohort_blocks"

# the per-firm table (results.claim_firms), in order
FIRM_COLUMNS = [
    "program_id",
    "firm_id",
    "cohort",
    "survey_year",
    *(
        f"{m.name}_{c}"
        for m in MEASURES
        for c in (
            "claimed",
            "level",
            "before",
            "recorded_change",
            "att",
            "counterfactual",
            "above_recorded",
        )
    ),
]
_SE_COLUMNS = [f"_{m.name}_se" for m in MEASURES]  # each answer's cell SE (not stored)
# the per-program table (results.claims), in order
PROGRAM_COLUMNS = [
    "program_id",
    "measure",
    "beneficiaries",
    "respondents",
    "response_rate",
    "answers",
    "compared",
    "above_recorded",
    "share_above",
    "share_ci_low",
    "share_ci_high",
    "share_reason",
    "share_reason_params",
    "ratio_answers",
    "claimed_total",
    "counterfactual_total",
    "counterfactual_se",
    "gross_to_net",
    "ratio_ci_low",
    "ratio_ci_high",
    "ratio_method",
    "ratio_reason",
    "ratio_reason_params",
    "bias_outcome",
    "bias_respondents",
    "bias_nonrespondents",
    "mean_respondents",
    "mean_nonrespondents",
    "bias_difference",
    "bias_std_difference",
    "bias_pvalue",
    "bias_reason",
    "bias_reason_params",
    "status",
    "reason",
    "reason_params",
    "note",
]


@dataclass(frozen=True)
class Claims:
    """Claims against records: per program and measure, and per surveyed firm."""

    programs: pd.DataFrame  # PROGRAM_COLUMNS
    firms: pd.DataFrame  # FIRM_COLUMNS


# --- statistics ---------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial share (good coverage near 0 and 1)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class GrossToNet:
    """Self-reported total / counterfactual total over the same answers, with its interval."""

    ratio: float
    ci_low: float
    ci_high: float
    claimed: float
    counterfactual: float
    counterfactual_se: float  # the counterfactual total's SE (its estimation error)
    answers: int


def gross_to_net(
    claimed: np.ndarray,
    level: np.ndarray,
    att: np.ndarray,
    att_se: np.ndarray,
    cohort: np.ndarray,
    year: np.ndarray,
) -> GrossToNet:
    """The gross-to-net ratio of answers i with claim c_i, level Y_i in the survey year,
    and their cell's (entry cohort, survey year) ATT(g,t) and its standard error; see the
    module docstring for the interval. The counterfactual total must be positive."""
    c = np.asarray(claimed, dtype=float)
    y = np.asarray(level, dtype=float)
    theta = np.asarray(att, dtype=float)
    d = y * -np.expm1(-theta)
    total_c, total_d = float(c.sum()), float(d.sum())
    if not total_d > 0:
        raise ValueError("the counterfactual total must be positive")
    se_d = counterfactual_se(y, theta, np.asarray(att_se, dtype=float), cohort, year)
    # the claims are a census: the ratio's interval inverts the counterfactual's
    low_d, high_d = total_d - Z_95 * se_d, total_d + Z_95 * se_d
    low = total_c / high_d
    high = total_c / low_d if low_d > 0 else math.inf  # the effect may be nil: unbounded
    return GrossToNet(total_c / total_d, low, high, total_c, total_d, se_d, len(c))


def counterfactual_se(
    level: np.ndarray, att: np.ndarray, att_se: np.ndarray, cohort: np.ndarray, year: np.ndarray
) -> float:
    """Standard error of D = sum_i Y_i (1 - e^-ATT(g_i, t_i)) by the delta method: the
    gradient in ATT(g,t) is S_gt e^-ATT(g,t) (S_gt: the answers' levels in the cell). The
    cells of one cohort are taken as perfectly correlated (they share its firms and base
    year: an upper bound whatever their correlation), the cohorts as independent (they
    share only comparison firms, which are many)."""
    frame = pd.DataFrame(
        {
            "cohort": np.asarray(cohort),
            "year": np.asarray(year),
            "grad": np.asarray(level, dtype=float) * np.exp(-np.asarray(att, dtype=float)),
            "se": np.asarray(att_se, dtype=float),
        }
    )
    cells = frame.groupby(["cohort", "year"], sort=False).agg(
        grad=("grad", "sum"), se=("se", "first")
    )
    spread = (cells["grad"].abs() * cells["se"].fillna(0.0)).groupby(level=0).sum()
    return float(np.sqrt(np.sum(spread.to_numpy() ** 2)))


@dataclass(frozen=True)
class ResponseBias:
    """Respondents against non-respondents on a pre-entry outcome."""

    n_respondents: int
    n_nonrespondents: int
    mean_respondents: float
    mean_nonrespondents: float
    difference: float
    std_difference: float
    pvalue: float


def response_bias(respondents: np.ndarray, nonrespondents: np.ndarray) -> ResponseBias:
    """Difference in means, standardized difference and Welch's t-test p-value. Each group
    needs two values."""
    a = np.asarray(respondents, dtype=float)
    b = np.asarray(nonrespondents, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each group needs at least two values")
    difference = float(a.mean() - b.mean())
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    std = difference / pooled if pooled > 0 else math.nan
    # scipy.stats imported here: publishing reads this module's columns, not its tests
    from scipy import stats

    pvalue = float(stats.ttest_ind(a, b, equal_var=False).pvalue) if pooled > 0 else math.nan
    return ResponseBias(len(a), len(b), float(a.mean()), float(b.mean()), difference, std, pvalue)


# --- firm by firm -------------------------------------------------------------------------


def firm_claims(clients: pd.DataFrame, panel: pd.DataFrame, att_gt: pd.DataFrame) -> pd.DataFrame:
    """One row per answer of one program's survey (firm and survey year): claims, recorded
    change and counterfactual effect of each measure (`FIRM_COLUMNS`).

    clients: the program's beneficiaries (program_id, firm_id, cohort) with their answers
        (survey_date and the survey items; no answer: survey_date empty). A firm answering
        twice in a year counts with its latest answer of that year.
    panel: the program's evaluation panel (firm_id, year, and the measures' levels).
    att_gt: the program's stored ATT(g,t): outcome, cohort, year, att, std_error.
    """
    answered = clients[clients["survey_date"].notna()].copy()
    if answered.empty:
        return pd.DataFrame(columns=[*FIRM_COLUMNS, *_SE_COLUMNS])
    answered["survey_year"] = pd.to_datetime(answered["survey_date"]).dt.year.astype("int64")
    answered = answered.sort_values(["firm_id", "survey_date"], kind="stable")
    answered = answered.drop_duplicates(["firm_id", "survey_year"], keep="last")
    out = answered[["program_id", "firm_id", "cohort", "survey_year"]].reset_index(drop=True)
    out["cohort"] = out["cohort"].astype("int64")
    rows = answered.reset_index(drop=True)
    post = (out["survey_year"] >= out["cohort"]).to_numpy()
    for m in MEASURES:
        items = rows.reindex(columns=list(m.items)).apply(pd.to_numeric, errors="coerce")
        claimed = items.sum(axis=1, min_count=1)
        values = _levels(panel, m.level)
        level = _lookup(values, out["firm_id"], out["survey_year"])
        before = _lookup(values, out["firm_id"], out["cohort"] - 1)
        effects = _effects(att_gt, m.outcome)
        att = _lookup(effects["att"], out["cohort"], out["survey_year"])
        se = _lookup(effects["std_error"], out["cohort"], out["survey_year"])
        level = np.where(post, level, np.nan)
        att = np.where(post, att, np.nan)
        change = level - before
        counterfactual = level * -np.expm1(-att)
        above = pd.array(
            [
                pd.NA if (np.isnan(c) or np.isnan(r)) else bool(c > 0 and c > r)
                for c, r in zip(claimed.to_numpy(dtype=float), change, strict=True)
            ],
            dtype="boolean",
        )
        out[f"{m.name}_claimed"] = claimed.to_numpy(dtype=float)
        out[f"{m.name}_level"] = level
        out[f"{m.name}_before"] = before
        out[f"{m.name}_recorded_change"] = change
        out[f"{m.name}_att"] = att
        out[f"{m.name}_counterfactual"] = counterfactual
        out[f"{m.name}_above_recorded"] = above
        out[f"_{m.name}_se"] = se  # the cell's SE, for the ratio's interval (not stored)
    return out[[*FIRM_COLUMNS, *_SE_COLUMNS]]


def _levels(panel: pd.DataFrame, column: str) -> pd.Series:
    """A panel column by (firm_id, year); missing everywhere when the panel lacks it."""
    if column not in panel or panel.empty:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []]))
    frame = panel[["firm_id", "year", column]].dropna(subset=[column])
    frame = frame.drop_duplicates(["firm_id", "year"])
    return frame.set_index(["firm_id", "year"])[column].astype(float)


def _effects(att_gt: pd.DataFrame, outcome: str) -> pd.DataFrame:
    empty = pd.DataFrame(
        {"att": pd.Series(dtype=float), "std_error": pd.Series(dtype=float)},
        index=pd.MultiIndex.from_arrays([[], []]),
    )
    if att_gt.empty or "outcome" not in att_gt:
        return empty
    rows = att_gt[att_gt["outcome"] == outcome].drop_duplicates(["cohort", "year"])
    if rows.empty:
        return empty
    frame = rows.set_index(["cohort", "year"])[["att", "std_error"]]
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def _lookup(series: pd.Series, first: pd.Series, second: pd.Series) -> np.ndarray:
    keys = pd.MultiIndex.from_arrays([first.to_numpy(), second.to_numpy()])
    if series.empty:
        return np.full(len(keys), np.nan)
    return series.reindex(keys).to_numpy(dtype=float)


# --- per program --------------------------------------------------------------------------


def program_claims(
    program_id: str, clients: pd.DataFrame, panel: pd.DataFrame, att_gt: pd.DataFrame
) -> Claims:
    """Claims against records of one program (see the module docstring). `clients`,
    `panel` and `att_gt` are the program's rows (see `firm_claims`)."""
    beneficiaries = int(clients["firm_id"].nunique())
    firms = firm_claims(clients, panel, att_gt)
    respondents = int(firms["firm_id"].nunique())
    common: dict[str, Any] = {"program_id": program_id, "beneficiaries": beneficiaries}
    if respondents == 0:
        reason = Reason("no_client_survey")
        rows = [
            {**common, "measure": m.name, "respondents": 0, **reason.columns()} for m in MEASURES
        ]
        return Claims(_frame(rows, PROGRAM_COLUMNS), firms[FIRM_COLUMNS])
    common |= {
        "respondents": respondents,
        "response_rate": respondents / beneficiaries if beneficiaries else math.nan,
        "status": ESTIMATED,
    }
    answered = set(firms["firm_id"])
    rows = []
    for m in MEASURES:
        row = {**common, "measure": m.name}
        claimed = firms[f"{m.name}_claimed"].to_numpy(dtype=float)
        row["answers"] = int(np.isfinite(claimed).sum())
        row |= _share(firms, m)
        row |= _ratio(firms, m)
        row |= _bias(clients, panel, m, answered)
        rows.append(row)
    return Claims(_frame(rows, PROGRAM_COLUMNS), firms[FIRM_COLUMNS])


def _share(firms: pd.DataFrame, m: ClaimMeasure) -> dict[str, Any]:
    above = firms[f"{m.name}_above_recorded"]
    compared = int(above.notna().sum())
    if compared == 0:
        return {"compared": 0, **Reason("claims_no_records").columns("share_")}
    k = int(above.fillna(False).astype(bool).sum())
    low, high = wilson_interval(k, compared)
    return {
        "compared": compared,
        "above_recorded": k,
        "share_above": k / compared,
        "share_ci_low": low,
        "share_ci_high": high,
    }


def _ratio(firms: pd.DataFrame, m: ClaimMeasure) -> dict[str, Any]:
    claimed = firms[f"{m.name}_claimed"].to_numpy(dtype=float)
    cf = firms[f"{m.name}_counterfactual"].to_numpy(dtype=float)
    keep = np.isfinite(claimed) & np.isfinite(cf)
    out: dict[str, Any] = {"ratio_answers": int(keep.sum()), "ratio_method": RATIO_METHOD}
    if not keep.any():
        return {
            **out,
            **Reason("claims_no_counterfactual", {"outcome": m.outcome}).columns("ratio_"),
        }
    total_c, total_d = float(claimed[keep].sum()), float(cf[keep].sum())
    out |= {"claimed_total": total_c, "counterfactual_total": total_d}
    if not total_d > 0:
        why = Reason("claims_no_effect", {"outcome": m.outcome})
        return {**out, **why.columns("ratio_")}
    result = gross_to_net(
        claimed[keep],
        firms[f"{m.name}_level"].to_numpy(dtype=float)[keep],
        firms[f"{m.name}_att"].to_numpy(dtype=float)[keep],
        firms[f"_{m.name}_se"].to_numpy(dtype=float)[keep],
        firms["cohort"].to_numpy()[keep],
        firms["survey_year"].to_numpy()[keep],
    )
    return {
        **out,
        "counterfactual_se": result.counterfactual_se,
        "gross_to_net": result.ratio,
        "ratio_ci_low": result.ci_low,
        "ratio_ci_high": result.ci_high,
    }


def _bias(
    clients: pd.DataFrame, panel: pd.DataFrame, m: ClaimMeasure, answered: set[str]
) -> dict[str, Any]:
    """Respondents against non-respondents on the log outcome the year before entry."""
    out: dict[str, Any] = {"bias_outcome": m.outcome}
    firms = clients.drop_duplicates("firm_id")[["firm_id", "cohort"]]
    values = _levels(panel, m.outcome)
    before = _lookup(values, firms["firm_id"], firms["cohort"].astype("int64") - 1)
    responded = firms["firm_id"].isin(answered).to_numpy()
    has = np.isfinite(before)
    n_r, n_n = int((has & responded).sum()), int((has & ~responded).sum())
    out |= {"bias_respondents": n_r, "bias_nonrespondents": n_n}
    if n_r < 2 or n_n < 2:
        why = Reason("response_bias_too_few", {"n_respondents": n_r, "n_nonrespondents": n_n})
        return {**out, **why.columns("bias_")}
    bias = response_bias(before[has & responded], before[has & ~responded])
    return {
        **out,
        "mean_respondents": bias.mean_respondents,
        "mean_nonrespondents": bias.mean_nonrespondents,
        "bias_difference": bias.difference,
        "bias_std_difference": bias.std_difference,
        "bias_pvalue": bias.pvalue,
    }


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=columns)
    for column in columns:  # text columns: None, not NaN, where empty (JSON in the warehouse)
        if column.endswith(("reason", "reason_params", "note", "status", "method", "outcome")):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


# --- every program --------------------------------------------------------------------------


def estimate_claims(
    clients: pd.DataFrame,
    panel: pd.DataFrame,
    att_gt: pd.DataFrame,
    programs: Iterable[str] | None = None,
) -> Claims:
    """Claims against records of every program in `programs` (default: those with
    beneficiaries in `clients`). `clients`: beneficiaries with their answers (one row per
    beneficiary and answer, `program_id` first); `panel`: the evaluation panel; `att_gt`:
    the stored ATT(g,t) (with `program_id`)."""
    wanted = sorted(set(clients["program_id"]) if programs is None else set(programs))
    parts = []
    for program_id in wanted:
        mine = clients[clients["program_id"] == program_id]
        rows = panel[panel["program_id"] == program_id] if len(panel) else panel
        cells = att_gt[att_gt["program_id"] == program_id] if len(att_gt) else att_gt
        parts.append(program_claims(str(program_id), mine, rows, cells))
    if not parts:
        return Claims(pd.DataFrame(columns=PROGRAM_COLUMNS), pd.DataFrame(columns=FIRM_COLUMNS))
    programs_frame = pd.concat([p.programs for p in parts], ignore_index=True)
    firm_parts = [p.firms for p in parts if len(p.firms)]
    firms = (
        pd.concat(firm_parts, ignore_index=True)
        if firm_parts
        else pd.DataFrame(columns=FIRM_COLUMNS)
    )
    return Claims(programs_frame, firms)
