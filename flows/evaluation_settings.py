"""The `evaluation:` part of a run configuration: what an agency may choose, validated.

Everything has the default of record (README, "Configuring the evaluation"), so an empty
`evaluation:` evaluates the seven built-in outcomes with Callaway-Sant'Anna and matching
+ DID. Each program may override any setting under `evaluation.programs.<program_id>`;
a program's settings are the global ones with its overrides on top, validated the same
way. Names (outcome columns, covariates, cells, subgroups) are checked against the data
contract and the extra columns the config declares, with one-line errors that list what
is allowed (`check_names`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from evaluation.outcomes import BUILTIN, CONTRACT_COLUMNS, MONEY_COLUMNS, OutcomeDefinition
from evaluation.spec import (
    CATEGORICAL_ATTRIBUTES,
    ESTIMATORS,
    MATCHING_COVARIATES,
    MATCHING_EXACT,
    NUMERIC_ATTRIBUTES,
    OUTCOMES,
    SUBGROUPS,
    EvaluationSpec,
)

NAME = r"^[a-z][a-z0-9_]*$"


class OutcomeSettings(BaseModel):
    """An outcome the agency defines: a column, optionally per another, transformed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=NAME, description="Name results are stored and shown under.")
    column: str = Field(description="A numeric outcomes column (contract or declared extra).")
    transform: Literal["log", "level", "share", "indicator"] = "level"
    per: str | None = Field(
        None, description="Denominator column: per worker (employment), per sales (sales)..."
    )
    zeros: Literal["missing", "log1p"] = Field(
        "missing", description="log only: zeros left out (missing) or kept as ln(1 + x)."
    )
    label: str | None = Field(None, description="What it measures, for the reports.")

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeSettings:
        if self.name in BUILTIN:
            raise ValueError(
                f"outcome name {self.name!r} is a built-in outcome; list it by name or "
                "choose another name"
            )
        if self.transform == "share" and self.per is None:
            raise ValueError(f"outcome {self.name!r}: transform share needs `per` (denominator)")
        if self.zeros == "log1p" and self.transform != "log":
            raise ValueError(f"outcome {self.name!r}: zeros: log1p applies to transform log only")
        return self


class MatchingSettings(BaseModel):
    """Matching + DID: baseline covariates of the score, exact cells, caliper, windows."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    covariates: tuple[str, ...] = Field(
        MATCHING_COVARIATES,
        description="Baseline (pre-entry) outcomes or numeric firm attributes in the score.",
    )
    exact: tuple[str, ...] = Field(
        MATCHING_EXACT, description="Categorical firm attributes matched exactly."
    )
    caliper: float = Field(0.2, gt=0.0, description="Caliper in pooled SDs of the logit score.")
    pre_window: tuple[int, int] = Field(
        (-3, -1), description="Years before entry averaged as the baseline, e.g. [-3, -1]."
    )
    post_window: tuple[int, int] = Field(
        (0, 3), description="Years since entry averaged as the effect, e.g. [0, 3]."
    )

    @model_validator(mode="after")
    def _windows(self) -> MatchingSettings:
        (a, b), (c, d) = self.pre_window, self.post_window
        if not (a <= b < 0 <= c <= d):
            raise ValueError(
                f"windows need pre_window [a, b] and post_window [c, d] with a <= b < 0 <= c "
                f"<= d; got {list(self.pre_window)} and {list(self.post_window)}"
            )
        if not self.covariates:
            raise ValueError("matching needs at least one covariate")
        return self


class EvaluationOptions(BaseModel):
    """The settings a program is evaluated with (see evaluation.impact.EvaluationSpec)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    outcomes: tuple[str | OutcomeSettings, ...] = Field(
        tuple(OUTCOMES),
        description="Built-in outcome names, and outcomes defined as {name, column, transform...}.",
    )
    estimators: tuple[Literal["callaway_santanna", "matching_did", "imputation"], ...] = Field(
        tuple(ESTIMATORS),  # type: ignore[arg-type]
        description="Which estimators run; ROI rests on callaway_santanna.",
    )
    control_group: Literal["nevertreated", "notyettreated"] = "nevertreated"
    base_period: Literal["varying", "universal"] = "varying"
    anticipation: int = Field(
        0, ge=0, le=5, description="Years before entry that effects may start."
    )
    subgroups: tuple[str, ...] = Field(
        SUBGROUPS, description="Categorical firm attributes to cut the headline effects by."
    )
    min_subgroup_beneficiaries: int = Field(30, ge=2)
    displacement: float = Field(
        0.0, ge=0.0, lt=1.0, description="Share of gains taken from other domestic firms."
    )
    deadweight: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Share of self-reported gains that would have happened anyway.",
    )
    pretrend_level: float = Field(0.05, gt=0.0, lt=1.0)
    pretrend_min_firms: int = Field(
        50,
        ge=1,
        description="The pre-entry test uses the years before entry backed by at least this many beneficiaries.",
    )
    covariates: tuple[str, ...] = Field(
        (),
        description="Firm attributes or baseline outcomes for conditional parallel trends (doubly robust, via moderndid).",
    )
    est_method: Literal["dr", "reg", "ipw"] = "dr"
    matching: MatchingSettings | bool = Field(
        default_factory=MatchingSettings,
        description="Matching settings; false drops matching_did from the estimators.",
    )
    matching_caliper: float | None = Field(
        None, gt=0.0, description="Same as matching.caliper (kept for older configs)."
    )
    bootstrap_seed: int = Field(20240101, description="Seed of every bootstrap draw.")

    @field_validator("outcomes", mode="before")
    @classmethod
    def _definitions_first(cls, value: Any) -> Any:
        """A mapping is an outcome definition: report its own errors, not the str one's."""
        if not isinstance(value, list | tuple):
            return value
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                try:
                    item = OutcomeSettings.model_validate(item)
                except ValidationError as exc:
                    raise ValueError(f"outcome {i}: {_first_error(exc)}") from None
            out.append(item)
        return out

    @model_validator(mode="after")
    def _outcomes_known(self) -> EvaluationOptions:
        names = [o if isinstance(o, str) else o.name for o in self.outcomes]
        unknown = [o for o in self.outcomes if isinstance(o, str) and o not in BUILTIN]
        if unknown:
            raise ValueError(
                f"unknown outcome {unknown[0]!r}; built-in: {', '.join(BUILTIN)}, or define "
                "one as {name, column, transform}"
            )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"outcome {twice[0]!r} is listed twice")
        if not names:
            raise ValueError("outcomes is empty: list at least one outcome")
        if not self.estimators:
            raise ValueError(
                "estimators is empty: choose callaway_santanna, matching_did and/or imputation"
            )
        return self

    @property
    def matching_settings(self) -> MatchingSettings:
        settings = self.matching if isinstance(self.matching, MatchingSettings) else None
        settings = settings or MatchingSettings()
        if self.matching_caliper is not None:
            settings = settings.model_copy(update={"caliper": self.matching_caliper})
        return settings

    @property
    def chosen_estimators(self) -> tuple[str, ...]:
        if self.matching is False:
            return tuple(e for e in self.estimators if e != "matching_did")
        return self.estimators

    def definitions(self, extras: Mapping[str, str]) -> tuple[OutcomeDefinition, ...]:
        """The outcomes' definitions; `extras` maps declared outcome extra columns to kinds."""
        out = []
        for o in self.outcomes:
            if isinstance(o, str):
                out.append(BUILTIN[o])
                continue
            money = o.column in MONEY_COLUMNS or extras.get(o.column) == "money"
            out.append(
                OutcomeDefinition(
                    o.name, o.column, o.transform, o.per, o.zeros, o.label or o.name, money
                )
            )
        return tuple(out)

    def to_spec(self, extras: Mapping[str, str] | None = None, **run: Any) -> EvaluationSpec:
        """The specification stored with the estimates (`run`: settings of the run, such
        as price_base_year)."""
        extras = dict(extras or {})
        definitions = self.definitions(extras)
        matching = self.matching_settings
        return EvaluationSpec(
            outcomes=tuple(d.name for d in definitions),
            outcome_definitions=definitions,
            estimators=self.chosen_estimators,
            control_group=self.control_group,
            base_period=self.base_period,
            anticipation=self.anticipation,
            subgroups=self.subgroups,
            min_subgroup_beneficiaries=self.min_subgroup_beneficiaries,
            displacement=self.displacement,
            deadweight=self.deadweight,
            pretrend_level=self.pretrend_level,
            pretrend_min_firms=self.pretrend_min_firms,
            covariates=self.covariates,
            est_method=self.est_method,
            matching_covariates=matching.covariates,
            matching_exact=matching.exact,
            matching_caliper=matching.caliper,
            matching_pre_window=matching.pre_window,
            matching_post_window=matching.post_window,
            extra_money=tuple(sorted(c for c, kind in extras.items() if kind == "money")),
            bootstrap_seed=self.bootstrap_seed,
            **run,
        )


class EvaluationSettings(EvaluationOptions):
    """The run's evaluation settings, with per-program overrides."""

    programs: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per program id, settings that differ from the ones above.",
    )

    @model_validator(mode="after")
    def _programs_valid(self) -> EvaluationSettings:
        for program_id in self.programs:
            self.for_program(program_id)
        return self

    def for_program(self, program_id: str | None) -> EvaluationOptions:
        """A program's settings: these with its overrides on top, validated."""
        override = self.programs.get(program_id, {}) if program_id is not None else {}
        if not override:
            return self
        if not isinstance(override, dict):
            raise ValueError(f"programs.{program_id}: expected settings, e.g. {{outcomes: [...]}}")
        base = self.model_dump(exclude={"programs"}, exclude_unset=True)
        try:
            return EvaluationOptions.model_validate({**base, **override})
        except ValidationError as exc:
            raise ValueError(f"programs.{program_id}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    """A validation error's first problem in one line: 'where: what'."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def check_names(
    options: EvaluationOptions, extras: Mapping[str, Mapping[str, str]], where: str = "evaluation"
) -> None:
    """Raise ValueError (one line, listing what is allowed) when a setting names a column,
    covariate, cell or subgroup that is neither in the contract nor declared as an extra
    column. `extras`: entity -> {declared extra column: kind}."""
    outcome_extras = dict(extras.get("outcomes", {}))
    firm_extras = dict(extras.get("firms", {}))
    numeric_columns = [
        *CONTRACT_COLUMNS,
        *(c for c, kind in outcome_extras.items() if kind != "text"),
    ]
    for o in options.outcomes:
        if isinstance(o, str):
            continue
        for column in (o.column, o.per):
            if column is not None and column not in numeric_columns:
                raise ValueError(
                    f"{where}.outcomes: {o.name!r} uses column {column!r}, which is not a "
                    f"numeric outcomes column; allowed: {_listing(numeric_columns)} (declare "
                    "other columns in sources.outcomes.extra_columns)"
                )
    outcome_names = [o if isinstance(o, str) else o.name for o in options.outcomes]
    categorical = [*CATEGORICAL_ATTRIBUTES, *(c for c, k in firm_extras.items() if k != "money")]
    numeric = [*NUMERIC_ATTRIBUTES, *(c for c, k in firm_extras.items() if k != "text")]
    baselines = list(dict.fromkeys([*BUILTIN, *outcome_names]))
    matching = options.matching_settings
    _check(f"{where}.subgroups", options.subgroups, categorical)
    _check(f"{where}.covariates", options.covariates, [*categorical, *numeric, *baselines])
    _check(f"{where}.matching.exact", matching.exact, categorical)
    _check(f"{where}.matching.covariates", matching.covariates, [*numeric, *baselines])


def _check(where: str, names: Iterable[str], allowed: list[str]) -> None:
    for name in names:
        if name not in allowed:
            raise ValueError(f"{where}: unknown {name!r}; allowed: {_listing(allowed)}")


def _listing(names: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(names))
