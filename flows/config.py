"""Run configuration: everything a run needs, in one frozen, validated object.

An agency describes its files in a YAML file (see `examples/agency.yaml`); relative paths
are read relative to that file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evaluation.impact import OUTCOMES, SUBGROUPS, EvaluationSpec
from reports.disclosure import DisclosureRules
from schemas.contract import ENTITIES
from schemas.mapping import Mapping, load_mapping
from schemas.pseudonym import DEMO_KEY, PseudonymKeyError, resolve_key
from schemas.validate import ContractError


class ConfigError(ValueError):
    """The configuration file is wrong; the message says where and how."""


class Source(BaseModel):
    """One input file: its path and, for spreadsheets, the sheet to read."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: Path
    sheet: str | int | None = None
    mapping: Path | None = None  # YAML mapping of the agency's headers and codes

    def load_mapping(self) -> Mapping | None:
        """The source's mapping, validated (None for files already in contract form)."""
        if self.mapping is None:
            return None
        try:
            return load_mapping(self.mapping)
        except ContractError as exc:
            raise ConfigError(str(exc)) from None


class Schedule(BaseModel):
    """When an edition runs: a cron expression in a time zone."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    cron: str = Field(
        description="Cron expression, e.g. '0 6 15 1,4,7,10 *' (15 days after quarter end)."
    )
    timezone: str = "UTC"
    period: Literal["year", "quarter"] | None = Field(
        None,
        description=(
            "What the edition reports: 'quarter' (monitoring of the last quarter ended, no "
            "impact estimation) or 'year' (the impact edition). Default: 'quarter' for a "
            "schedule whose name starts with 'quarter', else 'year'."
        ),
    )

    def edition_period(self, name: str) -> str:
        """'quarter' or 'year': the explicit setting, else read from the schedule's name."""
        if self.period is not None:
            return self.period
        return "quarter" if name.lower().startswith("quarter") else "year"

    @model_validator(mode="after")
    def _cron_is_valid(self) -> Schedule:
        from cronsim import CronSim, CronSimError

        try:
            CronSim(self.cron, datetime.now())
        except CronSimError as exc:
            raise ValueError(f"not a valid cron expression {self.cron!r}: {exc}") from None
        return self


class EvaluationSettings(BaseModel):
    """How impacts are estimated (see evaluation.impact.EvaluationSpec)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    outcomes: tuple[str, ...] = tuple(OUTCOMES)
    control_group: Literal["nevertreated", "notyettreated"] = "nevertreated"
    base_period: Literal["varying", "universal"] = "varying"
    anticipation: int = Field(
        0, ge=0, le=5, description="Years before entry that effects may start."
    )
    subgroups: tuple[Literal["size_class", "sector", "region"], ...] = SUBGROUPS  # type: ignore[assignment]
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
    covariates: tuple[Literal["size_class", "sector", "region"], ...] = Field(
        (),
        description="Firm characteristics for conditional parallel trends (doubly robust, via moderndid).",
    )
    est_method: Literal["dr", "reg", "ipw"] = "dr"
    matching: bool = Field(
        True, description="Also estimate matching + DID on the headline outcomes."
    )
    matching_caliper: float = Field(
        0.2, gt=0.0, description="Caliper in pooled SDs of the logit score."
    )
    bootstrap_seed: int = Field(20240101, description="Seed of every bootstrap draw.")

    @model_validator(mode="after")
    def _outcomes_known(self) -> EvaluationSettings:
        unknown = [o for o in self.outcomes if o not in OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcome {unknown[0]!r}; known: {', '.join(OUTCOMES)}")
        return self

    def to_spec(self) -> EvaluationSpec:
        return EvaluationSpec(**self.model_dump())


class RunConfig(BaseModel):
    """Settings of one evaluation run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = "MES impact report"
    warehouse: Path = Field(description="DuckDB file of the warehouse (created if missing).")
    out_dir: Path = Field(description="Folder for the report.")
    sources: dict[str, Source] = Field(description="Input file per contract entity.")
    price_base_year: int = Field(
        2020, description="Money is reported in constant US dollars of this year."
    )
    evaluation: EvaluationSettings = EvaluationSettings()
    lock_wait_seconds: float = Field(
        600.0,
        ge=0,
        description="How long a run waits for another run on the same warehouse to end.",
    )
    notify_command: str | None = Field(
        None, description="Shell command run when a run fails (MES_EVAL_RUN_* variables set)."
    )
    notify_webhook: str | None = Field(
        None, description="URL that receives a JSON POST when a run fails."
    )
    schedules: dict[str, Schedule] = Field(
        default_factory=dict,
        description="Named editions and their cron schedules, for `mes-eval serve`.",
    )
    period: str | None = Field(
        None,
        description="Edition period: '2024' (annual impact edition) or '2024Q3' (quarterly monitoring); default the last year of data.",
    )
    languages: tuple[Literal["en", "es", "pt"], ...] = Field(
        ("en",), description="One edition per language."
    )
    audience: Literal["public", "internal"] = Field(
        "public",
        description="Public editions apply disclosure control; internal ones show everything.",
    )
    disclosure: DisclosureRules = Field(default_factory=DisclosureRules)
    outlier_z: float = Field(
        5.0, gt=0, description="Robust z-score above which growth is flagged as an outlier."
    )
    synthetic: bool = Field(
        False, description="Data are synthetic: the report says so on every page."
    )
    truth_dir: Path | None = Field(
        None, description="Demo only: folder with the planted true effects."
    )
    pseudonym_key_file: Path | None = Field(
        None,
        description="File holding the key that pseudonymizes firm identifiers (keep it outside the repository).",
    )

    def pseudonym_key(self) -> bytes:
        """The key for firm pseudonyms: the public demo key for synthetic data only."""
        if self.synthetic:
            return DEMO_KEY
        try:
            return resolve_key(self.pseudonym_key_file)
        except PseudonymKeyError as exc:
            raise ConfigError(str(exc)) from None

    @model_validator(mode="after")
    def _entities_known_and_complete(self) -> RunConfig:
        unknown = sorted(set(self.sources) - set(ENTITIES))
        if unknown:
            raise ValueError(
                f"unknown entity {unknown[0]!r} in sources; known: {', '.join(ENTITIES)}"
            )
        missing = [e.name for e in ENTITIES.values() if e.required and e.name not in self.sources]
        if missing:
            raise ValueError(f"sources is missing the required entities: {', '.join(missing)}")
        return self


def load_config(path: Path) -> RunConfig:
    """Read and validate a YAML run configuration, resolving paths relative to it."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    base = path.parent.resolve()
    for key in ("warehouse", "out_dir", "truth_dir", "pseudonym_key_file"):
        if raw.get(key):
            raw[key] = base / raw[key]
    for entity, source in (raw.get("sources") or {}).items():
        spec = source if isinstance(source, dict) else {"path": source}
        spec["path"] = base / spec["path"]
        if spec.get("mapping"):
            spec["mapping"] = base / spec["mapping"]
        raw["sources"][entity] = spec
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
