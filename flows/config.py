"""Run configuration: everything a run needs, in one frozen, validated object.

An agency describes its files in a YAML file (see `examples/agency.yaml`); relative paths
are read relative to that file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evaluation.spec import EvaluationSpec
from flows.evaluation_settings import EvaluationSettings, check_names
from reports.disclosure import DisclosureRules
from reports.i18n import Lang, resolve
from schemas.contract import ENTITIES
from schemas.decisions import Corrections, read_corrections
from schemas.extras import ExtraKind, check_declarations, check_name
from schemas.mapping import Mapping, load_mapping
from schemas.pseudonym import KeySource, PseudonymKeyError, key_source
from schemas.validate import ContractError


class ConfigError(ValueError):
    """The configuration file is wrong; the message says where and how."""


class Source(BaseModel):
    """One input file: its path, for spreadsheets the sheet to read, the mapping of the
    agency's headers and codes, and the agency's own extra columns it carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: Path
    sheet: str | int | None = None
    mapping: Path | None = None  # YAML mapping of the agency's headers and codes
    extra_columns: dict[str, ExtraKind] = Field(
        default_factory=dict,
        description=(
            "Agency-declared extra columns (firms and outcomes): name -> number | integer | "
            "money | text, loaded and validated like contract columns (schemas/extras.py)."
        ),
    )

    @model_validator(mode="after")
    def _extra_names(self) -> Source:
        for name in self.extra_columns:
            check_name(name)  # the entity-dependent rules: RunConfig, check_declarations
        return self

    def load_mapping(self) -> Mapping | None:
        """The source's mapping, validated (None for files already in contract form); its
        headers may map onto the extra columns declared here."""
        if self.mapping is None:
            return None
        try:
            return load_mapping(self.mapping, extra_columns=dict(self.extra_columns) or None)
        except ContractError as exc:
            raise ConfigError(str(exc)) from None

    def declared_extra_columns(self) -> dict[str, str]:
        """The extra columns of this source ({name: kind}): declared here or in its mapping."""
        mapping = self.load_mapping()
        return dict(mapping.extra_columns) if mapping else dict(self.extra_columns)


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


class DaskSettings(BaseModel):
    """Where the estimation units run beyond this process: an existing Dask cluster (its
    scheduler's address) or a local cluster started for the run. Only estimation is
    distributed; the run's process stays the warehouse's single writer."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    address: str | None = Field(
        None,
        description="Scheduler of a running Dask cluster, e.g. 'tcp://10.0.0.5:8786'. Its "
        "workers need this project installed and the warehouse file at the same path "
        "(shared storage), which they open read-only.",
    )
    local_workers: int | None = Field(
        None,
        ge=1,
        description="Start a local Dask cluster of this many worker processes for the run "
        "(one thread each) instead.",
    )

    @model_validator(mode="after")
    def _one_cluster(self) -> DaskSettings:
        if (self.address is None) == (self.local_workers is None):
            raise ValueError("give either address (a running cluster) or local_workers")
        return self


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
    allow_period_outside_data: bool = Field(
        False,
        description="Build an edition for a period outside the years of the data (refused by default: it would show zeros as if measured).",
    )
    locales_dir: Path | None = Field(
        None,
        description="Folder of the agency's own catalogs (<locale>/LC_MESSAGES/messages.po, "
        "as in reports/locales): a language added, or the shipped words changed, without "
        "changing the package.",
    )
    languages: tuple[Lang, ...] = Field(
        ("en",),
        description="One edition per language: a language with a catalog (en, es, pt, or one "
        "in locales_dir) or a CLDR locale of one (es_CL, es_MX, pt_BR: numbers and dates as "
        "that country writes them).",
    )
    audience: Literal["public", "internal"] = Field(
        "public",
        description="Public editions apply disclosure control; internal ones show everything.",
    )
    disclosure: DisclosureRules = Field(default_factory=DisclosureRules)
    outlier_z: float = Field(
        5.0, gt=0, description="Robust z-score above which growth is flagged as an outlier."
    )
    chart_images: bool = Field(
        True,
        description="Export PNG images of the key charts with each edition (needs chromium).",
    )
    synthetic: bool = Field(
        False,
        description="Data are synthetic: the report says so on every page; without a key "
        "file, firm identifiers are pseudonymized with the public demo key.",
    )
    truth_dir: Path | None = Field(
        None, description="Demo only: folder with the planted true effects."
    )
    corrections: Path | None = Field(
        None,
        description="The agency's corrections file (YAML, CSV or XLSX; schemas/decisions.py): "
        "decisions to keep, drop or correct submitted rows, with who and why, re-applied on "
        "every run; and the follow-up of outlier flags.",
    )
    estimation_engine: Literal["auto", "numpy", "duckdb"] = Field(
        "auto",
        description="How Callaway-Sant'Anna is computed: numpy (influence functions in "
        "memory, the fastest), duckdb (moments in DuckDB, memory bounded by "
        "MES_EVAL_DUCKDB_MEMORY) or auto: duckdb only for a program whose influence "
        "functions would take more than 1 GiB per outcome. The results are the same.",
    )
    dask: DaskSettings | None = Field(
        None,
        description="Run the estimation units (one per program) as Prefect tasks on a Dask "
        "cluster: `address` of a running one or `local_workers` for a local one. Default: "
        "one after the other in the run's process.",
    )
    pseudonym_key_file: Path | None = Field(
        None,
        description="File holding the key that pseudonymizes firm identifiers (keep it "
        "outside the repository). Wins over the environment and, for synthetic data, over "
        "the demo key; `--key-file` wins over it.",
    )

    def key_source(self) -> KeySource:
        """Where the run's pseudonymization key comes from (`schemas.pseudonym.key_source`):
        the key file, else (synthetic data) the demo key, else the environment."""
        try:
            return key_source(config_file=self.pseudonym_key_file, synthetic=self.synthetic)
        except PseudonymKeyError as exc:
            raise ConfigError(str(exc)) from None

    def pseudonym_key(self) -> bytes:
        """The key itself. Read it where pseudonyms are made, in the task: never pass it to
        a flow or a task, whose parameters Prefect stores."""
        try:
            return self.key_source().read()
        except PseudonymKeyError as exc:
            raise ConfigError(str(exc)) from None

    def read_corrections(self) -> Corrections | None:
        """The corrections file, read and checked against the run's sources (None: none).
        Raises ContractError (one line) for a malformed file or a decision on a file the
        run does not load."""
        if self.corrections is None:
            return None
        files = {source.path.name: entity for entity, source in self.sources.items()}
        return read_corrections(self.corrections, files)

    def extra_columns(self) -> dict[str, dict[str, str]]:
        """Entity -> {declared extra column: kind}, from the sources."""
        declared: dict[str, dict[str, str]] = {}
        for entity, source in self.sources.items():
            # a mapping may declare extras too; a missing mapping file is the preflight's
            # error to report, with its path
            has_mapping = source.mapping is not None and source.mapping.is_file()
            declared[entity] = (
                source.declared_extra_columns() if has_mapping else dict(source.extra_columns)
            )
        return declared

    def evaluation_spec(self, program_id: str | None = None) -> EvaluationSpec:
        """How a program is evaluated: the evaluation settings, with the program's own
        overrides, and the run's price base year."""
        options = self.evaluation.for_program(program_id)
        return options.to_spec(
            self.extra_columns().get("outcomes", {}), price_base_year=self.price_base_year
        )

    @model_validator(mode="after")
    def _evaluation_names_known(self) -> RunConfig:
        extras = self.extra_columns()
        check_names(self.evaluation, extras)
        for program_id in self.evaluation.programs:
            options = self.evaluation.for_program(program_id)
            check_names(options, extras, f"evaluation.programs.{program_id}")
        return self

    @field_validator("locales_dir")
    @classmethod
    def _locales_dir_is_a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder (of <locale>/LC_MESSAGES/messages.po)")
        return value

    @field_validator("languages")
    @classmethod
    def _languages_have_catalogs(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        """Each language as its CLDR name (es-cl: es_CL); one without a catalog, or a
        locale CLDR does not know, is refused naming the catalogs there are."""
        return tuple(resolve(lang, info.data.get("locales_dir")) for lang in value)

    @model_validator(mode="before")
    @classmethod
    def _period_as_written(cls, data: object) -> object:
        """'2024-Q3', '2024 q3', 2024 (a YAML number) are read as 2024Q3, 2024; else refused."""
        if isinstance(data, dict) and data.get("period") not in (None, ""):
            from reports.period import Period

            return {**data, "period": Period.parse(data["period"]).label}
        return data

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
        check_declarations({e: s.extra_columns for e, s in self.sources.items()})
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
    for key in (
        "warehouse",
        "out_dir",
        "truth_dir",
        "pseudonym_key_file",
        "corrections",
        "locales_dir",
    ):
        if raw.get(key):
            # `~/...` is the user's home (as the example config writes the key file)
            raw[key] = base / Path(str(raw[key])).expanduser()
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
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where + ': ' if where else ''}{message}") from None
