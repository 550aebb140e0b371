"""Why a number was not estimated: the catalogue of reasons, one code each.

A run publishes what it can. Each unit of estimation (a program's outcome, a subgroup, an
estimator, a return or cost figure, a pre-entry test) that cannot be computed is stored
with a status and one of these reasons instead of stopping the run; the reports print
the reason, in the edition's language, where the number would be.

* ``not_estimated``: the design lacks what the estimate needs (too few beneficiaries, no
  comparison firms, no year before entry...). More or other data would fix it.
* ``not_estimable``: the data cannot identify it (an outcome that never changes within a
  firm). A different outcome or design would.
* ``not_run``: a pre-entry test that could not be run; the effect itself may be fine.

The English texts below are the reference; `reports.i18n` holds the Spanish and
Portuguese ones under ``reason.<code>``, with the same ``{placeholders}``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

ESTIMATED = "estimated"
NOT_ESTIMATED = "not_estimated"
NOT_ESTIMABLE = "not_estimable"
NOT_RUN = "not_run"


@dataclass(frozen=True)
class ReasonKind:
    """One reason: its status and its English text with ``{placeholders}``."""

    status: str
    text: str


# code -> (status, English text). Keep the codes stable: they are stored in the warehouse.
REASONS: dict[str, ReasonKind] = {
    # --- the design lacks what it needs -----------------------------------------------
    "too_few_beneficiaries": ReasonKind(
        NOT_ESTIMATED, "{n} beneficiaries, fewer than the {min} required"
    ),
    "no_beneficiaries": ReasonKind(NOT_ESTIMATED, "no beneficiary has outcome data"),
    "no_comparison_firms": ReasonKind(NOT_ESTIMATED, "no comparison firms with outcome data"),
    "no_comparison_cells": ReasonKind(
        NOT_ESTIMATED,
        "no entry cohort has comparison firms observed in the same years "
        "(with {control_group} comparison: e.g. one entry cohort and no never-treated firms)",
    ),
    "no_pre_entry_year": ReasonKind(
        NOT_ESTIMATED, "no beneficiary is observed in a year before entry"
    ),
    "no_post_entry_year": ReasonKind(
        NOT_ESTIMATED, "no beneficiary is observed in a year after entry"
    ),
    "outcome_not_submitted": ReasonKind(
        NOT_ESTIMATED, "{column} is not in the submission (no non-missing values)"
    ),
    "outcome_too_sparse": ReasonKind(
        NOT_ESTIMATED, "{column} is missing for the beneficiaries or their comparison firms"
    ),
    "no_public_cost": ReasonKind(
        NOT_ESTIMATED, "no public cost is recorded for the beneficiaries behind the effect"
    ),
    "no_post_entry_effect": ReasonKind(
        NOT_ESTIMATED, "no post-entry effect of {outcome} could be estimated"
    ),
    "matching_no_covariates": ReasonKind(
        NOT_ESTIMATED, "no matching covariate has data before entry ({covariates})"
    ),
    "matching_no_baseline": ReasonKind(
        NOT_ESTIMATED,
        "{n} beneficiaries have their matching covariates in a year before entry, "
        "fewer than the {min} required",
    ),
    "matching_no_overlap": ReasonKind(
        NOT_ESTIMATED,
        "no beneficiary has a comparison firm within the caliper in its exact-match cell",
    ),
    "matching_no_window": ReasonKind(
        NOT_ESTIMATED,
        "no matched pair is observed in both the pre-entry window {pre} and the "
        "post-entry window {post}",
    ),
    "matching_no_cells": ReasonKind(
        NOT_ESTIMATED, "no exact-match cell ({exact}) holds both beneficiaries and comparison firms"
    ),
    "imputation_nothing_imputed": ReasonKind(
        NOT_ESTIMATED,
        "no beneficiary year after entry can be imputed: no firm is observed untreated in "
        "the same years (imputation estimator)",
    ),
    # --- the data cannot identify it --------------------------------------------------
    "imputation_not_connected": ReasonKind(
        NOT_ESTIMABLE,
        "the firm-years without the program do not link all years, so the imputation "
        "estimator cannot compare them",
    ),
    "outcome_constant": ReasonKind(NOT_ESTIMABLE, "{column} is constant within every firm"),
    "outcome_no_variation": ReasonKind(
        NOT_ESTIMABLE, "{column} takes a single value across all firms and years"
    ),
    "no_jobs_created": ReasonKind(
        NOT_ESTIMABLE,
        "the estimated jobs created or retained are {jobs} (none): there is no cost per job",
    ),
    # --- an estimate failed for a reason the checks above did not foresee ---------------
    "estimation_failed": ReasonKind(NOT_ESTIMATED, "the estimator failed: {error}"),
    # --- pre-entry (parallel trends) test -------------------------------------------------
    "pretrend_too_few_firms": ReasonKind(
        NOT_RUN, "{n} beneficiaries behind the leads, fewer than {min}"
    ),
    "pretrend_no_leads": ReasonKind(NOT_RUN, "no pre-entry years to test"),
    "pretrend_no_variance": ReasonKind(NOT_RUN, "the pre-entry estimates have no variance"),
    # --- client survey: claims against records (evaluation.claims) ------------------------
    "no_client_survey": ReasonKind(NOT_ESTIMATED, "no client survey"),
    "claims_no_records": ReasonKind(
        NOT_ESTIMATED,
        "no respondent is observed in the outcomes both in its survey year and in the year "
        "before entry",
    ),
    "claims_no_counterfactual": ReasonKind(
        NOT_ESTIMATED,
        "no effect on {outcome} is estimated for the respondents' entry cohorts and survey years",
    ),
    "claims_no_effect": ReasonKind(
        NOT_ESTIMABLE,
        "the estimated effect on the respondents' {outcome} is zero or negative: "
        "there is no gross-to-net ratio",
    ),
    "response_bias_too_few": ReasonKind(
        NOT_ESTIMATED,
        "{n_respondents} respondents and {n_nonrespondents} non-respondents are observed in "
        "the year before entry; each group needs at least 2",
    ),
    # --- sensitivity to violations of parallel trends (evaluation.sensitivity) ---------------
    "sensitivity_too_few_leads": ReasonKind(
        NOT_ESTIMATED,
        "{leads} pre-entry years with an estimate before the reference year, fewer than the "
        "{min} the sensitivity analysis needs",
    ),
    "sensitivity_too_few_lags": ReasonKind(
        NOT_ESTIMATED,
        "{lags} post-entry years with an estimate, fewer than the {min} the "
        "relative-magnitudes bound needs",
    ),
    "sensitivity_singular": ReasonKind(
        NOT_ESTIMABLE,
        "the covariance of the event-study estimates is singular (a year's estimate has no "
        "sampling variance)",
    ),
    "sensitivity_not_significant": ReasonKind(
        NOT_ESTIMABLE,
        "the average effect of the first years after entry (what this analysis bounds) has a "
        "95% interval that includes zero even under exact parallel trends: there is no "
        "breakdown value",
    ),
    "sensitivity_includes_zero": ReasonKind(
        NOT_ESTIMABLE,
        "the robust interval includes zero already at the smallest bound examined ({m})",
    ),
}


@dataclass(frozen=True)
class Reason:
    """A reason code with the numbers and names its text mentions."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in REASONS:
            raise KeyError(f"unknown reason code {self.code!r}")

    @property
    def status(self) -> str:
        return REASONS[self.code].status

    @property
    def text(self) -> str:
        """The reason in English."""
        return describe(self.code, self.params)

    @property
    def note(self) -> str:
        """The reason with its status, as the CLI prints it: 'not estimated: ...'."""
        return f"{self.status.replace('_', ' ')}: {self.text}"

    def params_json(self) -> str:
        return json.dumps(self.params, sort_keys=True, default=str)

    def columns(self, prefix: str = "") -> dict[str, Any]:
        """The warehouse columns of this reason (``status``, ``reason``,
        ``reason_params``, ``note``; for a pre-entry test, ``pretrend_reason`` and
        ``pretrend_reason_params``)."""
        if prefix:
            return {f"{prefix}reason": self.code, f"{prefix}reason_params": self.params_json()}
        return {
            "status": self.status,
            "reason": self.code,
            "reason_params": self.params_json(),
            "note": self.note,
        }


class NotEstimated(Exception):
    """Raised inside a unit of estimation: the unit is stored with this reason."""

    def __init__(self, code: str, **params: Any) -> None:
        self.reason = Reason(code, params)
        super().__init__(self.reason.note)


def describe(code: str, params: dict[str, Any] | str | None = None) -> str:
    """A reason's English text with its parameters filled in."""
    if isinstance(params, str):
        params = json.loads(params) if params else {}
    values = _Defaults(params or {})
    return REASONS[code].text.format_map(values)


class _Defaults(dict[str, Any]):
    """Fill a missing placeholder with an empty string rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


def failed(exc: BaseException) -> Reason:
    """The reason for an unexpected estimator error: its type and first line."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    return Reason("estimation_failed", {"error": f"{type(exc).__name__}: {message}"[:300]})


def is_number(value: object) -> bool:
    """Whether a value is a finite number (a stored estimate, not a reason)."""
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
