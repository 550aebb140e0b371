"""What an evaluation is: the estimators, outcomes, subgroups and settings of a program's
evaluation (`EvaluationSpec`), and the tables it yields (`ProgramImpact`).

Kept apart from `evaluation.impact` (which computes them) so that reading a run's
configuration or publishing its results does not import the estimators and their
scientific stack (scipy.stats, statsmodels): `mes-eval report` loads this, not those.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from evaluation.outcomes import BUILTIN, OutcomeDefinition

ESTIMATOR = "callaway_santanna_2021"
MATCHING_ESTIMATOR = "matching_did"
IMPUTATION_ESTIMATOR = "imputation"
# LEGACY static two-way fixed effects, stored beside the imputation estimator as the
# labelled comparison of what staggered entry does to it (evaluation.diagnostics.twfe_att)
TWFE_ESTIMATOR = "twfe_legacy"
# the estimators an agency can choose (evaluation.estimators in the run config)
ESTIMATORS = {
    "callaway_santanna": ESTIMATOR,
    "matching_did": MATCHING_ESTIMATOR,
    "imputation": IMPUTATION_ESTIMATOR,
}
# pre-treatment characteristics beneficiaries are matched on (baseline values)
MATCHING_COVARIATES = ("log_employment", "log_sales", "log_va_per_worker")
MATCHING_EXACT = ("sector",)
# outcome column of the evaluation panel -> what it measures (the built-in outcomes)
OUTCOMES: dict[str, str] = {name: d.label for name, d in BUILTIN.items()}
HEADLINE_OUTCOMES = ("log_sales", "log_employment")
SUBGROUPS = ("size_class", "sector", "region")
# firm attributes of the evaluation panel: categorical ones cut subgroups and exact-match
# cells; numeric ones can be covariates (agency-declared attributes join them)
CATEGORICAL_ATTRIBUTES = ("size_class", "sector", "region", "country")
NUMERIC_ATTRIBUTES = ("founded_year",)
# endnote 121 (ii): short, medium and long run, in years since entry
HORIZONS: dict[str, tuple[int, float]] = {"short": (0, 1), "medium": (2, 3), "long": (4, math.inf)}
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")
# level outcomes behind the return per dollar and the cost per job (panel column,
# contract column, metric)
ROI_OUTCOMES = (
    ("value_added_usd", "value_added", "value_added_per_dollar"),
    ("sales_usd", "sales", "sales_per_dollar"),
)
JOBS = (("employment", "employment", "cost_per_job"),)


@dataclass(frozen=True)
class EvaluationSpec:
    """How a program is evaluated; stored with every estimate so it can be re-run."""

    outcomes: tuple[str, ...] = tuple(OUTCOMES)
    # how each outcome is computed (built-in ones by default; see evaluation.outcomes)
    outcome_definitions: tuple[OutcomeDefinition, ...] = tuple(BUILTIN.values())
    estimators: tuple[str, ...] = tuple(ESTIMATORS)
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
    # firm characteristics for conditional parallel trends: categorical or numeric firm
    # attributes, or outcomes (their baseline value); empty = unconditional estimator
    covariates: tuple[str, ...] = ()
    est_method: str = "dr"
    matching_covariates: tuple[str, ...] = MATCHING_COVARIATES
    matching_exact: tuple[str, ...] = MATCHING_EXACT
    matching_caliper: float = 0.2
    matching_pre_window: tuple[int, int] = (-3, -1)
    matching_post_window: tuple[int, int] = (0, 3)
    # agency-declared extra columns in money (the panel holds them as <name>_usd)
    extra_money: tuple[str, ...] = ()
    # money is in constant US dollars of this year (set from the run): part of the spec so
    # that results in different dollars are never mistaken for each other
    price_base_year: int = 2020
    bootstrap_seed: int = 20240101
    # draws of the multiplier bootstrap behind the event study's simultaneous band
    band_draws: int = 1000
    _definitions: dict[str, OutcomeDefinition] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        known = {d.name: d for d in (*BUILTIN.values(), *self.outcome_definitions)}
        unknown = [o for o in self.outcomes if o not in known]
        if unknown:
            raise ValueError(f"outcome {unknown[0]!r} has no definition")
        self._definitions.update(known)

    @property
    def matching(self) -> bool:
        return "matching_did" in self.estimators

    @property
    def callaway_santanna(self) -> bool:
        return "callaway_santanna" in self.estimators

    @property
    def imputation(self) -> bool:
        return "imputation" in self.estimators

    def definition(self, outcome: str) -> OutcomeDefinition:
        return self._definitions[outcome]

    @property
    def evaluated(self) -> tuple[OutcomeDefinition, ...]:
        """The definitions of the outcomes evaluated, in order."""
        return tuple(self._definitions[o] for o in self.outcomes)

    @property
    def headline(self) -> tuple[str, ...]:
        """Outcomes with subgroup and matching estimates: sales and employment, else the
        first two evaluated outcomes."""
        chosen = tuple(o for o in HEADLINE_OUTCOMES if o in self.outcomes)
        return chosen or self.outcomes[:2]

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("_definitions")
        data["outcome_definitions"] = [d.to_dict() for d in self.evaluated]
        data["matching"] = self.matching  # read by editions made before estimators existed
        return json.dumps(data, sort_keys=True)


@dataclass(frozen=True)
class ProgramImpact:
    """Estimates for every program, as tidy tables."""

    estimates: pd.DataFrame
    att_gt: pd.DataFrame
    roi: pd.DataFrame
    balance: pd.DataFrame  # matching balance table (empty when matching is off)
    # robustness to violations of parallel trends (evaluation.sensitivity); empty when the
    # Callaway-Sant'Anna estimator is off
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
