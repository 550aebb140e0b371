"""Data contract v1: what an agency submits, as pandera models.

This module is the single source of truth for the input entities. The input templates,
the data dictionary (`mes-eval templates`), the warehouse's raw tables and the ingest
validation are all derived from it. Column names follow the product brief; an agency's
own headers are mapped onto them before validation.

Money columns are in the currency of the program (participations, budgets, surveys) or
of the country (outcomes, macro); the warehouse converts them to constant US dollars.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

PILLARS = ["productivity", "innovation", "supply_chain", "exports"]
INSTRUMENTS = [
    "technical_assistance",
    "training",
    "voucher",
    "matching_grant",
    "loan",
    "tax_credit",
    "cluster",
    "export_promotion",
    "standards",
    "rd_grant",
    "other",
]
COMPARISON_SOURCES = ["registry", "survey"]
ISO3 = r"^[A-Z]{3}$"  # ISO 3166 alpha-3 country / ISO 4217 currency codes
FIRST_YEAR, LAST_YEAR = 1900, 2100
# Every number column is bounded by ±MAX_MAGNITUDE (`bounded`): infinity ("inf", "1e309",
# a 400-digit number: Python and DuckDB read them all as infinite) and magnitudes beyond
# any economy's GDP in its own currency are quarantined as out_of_range instead of
# loading and turning sums, deflated money and ratios into inf.
MAX_MAGNITUDE = 1e18


class _Contract(pa.DataFrameModel):
    class Config:
        coerce = True  # inputs arrive as text; a value that does not parse is a row error
        strict = False  # agencies may send optional attributes beyond the contract


class Firms(_Contract):
    """One row per firm (beneficiary or comparison). Manufacturing is ISIC Rev.4 divisions 10-33."""

    firm_id: Series[str] = pa.Field(
        unique=True,
        str_length={"min_value": 1},
        description="Firm identifier (tax number or agency code).",
    )
    country: Series[str] = pa.Field(str_matches=ISO3, description="ISO 3166 alpha-3 country code.")
    region: Series[str] | None = pa.Field(
        nullable=True, description="Sub-national region (state, department, province)."
    )
    isic4: Series[str] = pa.Field(
        str_matches=r"^\d{4}$",
        description="ISIC Rev.4 class, 4 digits; 1010-3320 is manufacturing.",
    )
    founded_year: Series[pd.Int64Dtype] | None = pa.Field(
        nullable=True, ge=FIRST_YEAR, le=LAST_YEAR, description="Year the firm was founded."
    )


class Programs(_Contract):
    """The program registry: what each instrument is for and whom it targets (endnote 121 i)."""

    program_id: Series[str] = pa.Field(
        unique=True, str_length={"min_value": 1}, description="Program identifier."
    )
    agency: Series[str] = pa.Field(description="Agency running the program.")
    country: Series[str] = pa.Field(str_matches=ISO3, description="ISO 3166 alpha-3 country code.")
    name: Series[str] = pa.Field(description="Program name.")
    pillar: Series[str] = pa.Field(
        isin=PILLARS, description="Policy pillar: " + " | ".join(PILLARS) + "."
    )
    instrument: Series[str] = pa.Field(
        isin=INSTRUMENTS, description="Instrument: " + ", ".join(INSTRUMENTS) + "."
    )
    currency: Series[str] = pa.Field(
        str_matches=ISO3, description="ISO 4217 currency of the program's money columns."
    )
    start_year: Series[int] = pa.Field(
        ge=FIRST_YEAR, le=LAST_YEAR, description="First year the program served firms."
    )
    end_year: Series[pd.Int64Dtype] | None = pa.Field(
        nullable=True, ge=FIRST_YEAR, le=LAST_YEAR, description="Last year (empty while running)."
    )
    market_failure: Series[str] | None = pa.Field(
        nullable=True, description="Market failure the program addresses (rationale)."
    )
    targeting: Series[str] | None = pa.Field(
        nullable=True, description="Which firms the program targets and how they are selected."
    )
    expected_short: Series[str] | None = pa.Field(
        nullable=True, description="Expected outcomes in the short run (0-1 years after entry)."
    )
    expected_medium: Series[str] | None = pa.Field(
        nullable=True, description="Expected outcomes in the medium run (2-3 years)."
    )
    expected_long: Series[str] | None = pa.Field(
        nullable=True, description="Expected outcomes in the long run (4+ years)."
    )


class Participations(_Contract):
    """Beneficiary records: one row per firm, program and service spell."""

    firm_id: Series[str] = pa.Field(description="Beneficiary firm.")
    program_id: Series[str] = pa.Field(description="Program that served the firm.")
    service: Series[str] | None = pa.Field(
        nullable=True, description="Service delivered (free text or agency code)."
    )
    start_date: Series[pd.Timestamp] = pa.Field(
        description="Date the service started (entry into the program)."
    )
    end_date: Series[pd.Timestamp] | None = pa.Field(
        nullable=True, description="Date the service ended (empty if ongoing)."
    )
    public_cost: Series[float] = pa.Field(
        ge=0, description="Public cost of the service, program currency."
    )
    firm_contribution: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Firm's own co-payment, program currency."
    )

    class Config:
        unique = ["firm_id", "program_id", "start_date"]

    @pa.dataframe_check(description="end_date is on or after start_date", element_wise=False)
    def end_after_start(cls, df: pd.DataFrame) -> Series[bool]:
        if "end_date" not in df:  # an optional column absent from the file
            return pd.Series(True, index=df.index)
        return df["end_date"].isna() | (df["end_date"] >= df["start_date"])


class ComparisonSample(_Contract):
    """Comparable non-beneficiaries sampled for a program (endnote 121 iii)."""

    firm_id: Series[str] = pa.Field(description="Comparison firm.")
    program_id: Series[str] = pa.Field(description="Program the firm is a comparison for.")
    wave: Series[int] = pa.Field(ge=1, description="Sampling wave (1 = baseline).")
    source: Series[str] = pa.Field(isin=COMPARISON_SOURCES, description="registry | survey.")
    sampled_on: Series[pd.Timestamp] | None = pa.Field(
        nullable=True, description="Date the firm was sampled."
    )

    class Config:
        unique = ["firm_id", "program_id", "wave"]


class Outcomes(_Contract):
    """Firm-year panel of outcomes, for beneficiaries and comparison firms alike. Money in local currency."""

    firm_id: Series[str] = pa.Field(description="Firm.")
    year: Series[int] = pa.Field(ge=FIRST_YEAR, le=LAST_YEAR, description="Calendar year.")
    employment: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Employees (annual average, headcount)."
    )
    sales: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Sales, local currency, current prices."
    )
    wage_bill: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Total wages paid, local currency."
    )
    exports: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Export sales, local currency (0 if none)."
    )
    value_added: Series[float] | None = pa.Field(
        nullable=True, description="Value added, local currency (may be negative)."
    )
    rd_spend: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="R&D spending, local currency."
    )
    training_spend: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Training spending, local currency."
    )
    capital: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Capital stock (book value), local currency."
    )
    source: Series[str] | None = pa.Field(
        nullable=True, description="Where the row comes from (registry, survey, tax...)."
    )
    wave: Series[pd.Int64Dtype] | None = pa.Field(
        nullable=True, ge=1, description="Survey wave, if from a survey."
    )

    class Config:
        unique = ["firm_id", "year"]


class ProgramBudgets(_Contract):
    """Annual budget of each program, program currency."""

    program_id: Series[str] = pa.Field(description="Program.")
    year: Series[int] = pa.Field(ge=FIRST_YEAR, le=LAST_YEAR, description="Budget year.")
    public_budget: Series[float] = pa.Field(
        ge=0, description="Public budget executed, program currency."
    )
    admin_cost: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Administrative cost, program currency."
    )

    class Config:
        unique = ["program_id", "year"]


class Macro(_Contract):
    """Country-year macro data used to deflate and convert money to constant US dollars."""

    country: Series[str] = pa.Field(str_matches=ISO3, description="ISO 3166 alpha-3 country code.")
    year: Series[int] = pa.Field(ge=FIRST_YEAR, le=LAST_YEAR, description="Calendar year.")
    gdp: Series[float] = pa.Field(gt=0, description="GDP, local currency, current prices.")
    deflator: Series[float] = pa.Field(gt=0, description="GDP deflator (any base year).")
    lcu_per_usd: Series[float] = pa.Field(
        gt=0, description="Local currency units per US dollar, annual average."
    )

    class Config:
        unique = ["country", "year"]


class Targets(_Contract):
    """Optional per-firm targets agreed with the program (recommendation 3)."""

    firm_id: Series[str] = pa.Field(description="Beneficiary firm.")
    program_id: Series[str] = pa.Field(description="Program.")
    metric: Series[str] = pa.Field(description="Outcome column the target is on (e.g. exports).")
    target_value: Series[float] = pa.Field(description="Target value of the metric.")
    due_date: Series[pd.Timestamp] = pa.Field(description="Date by which the target should be met.")

    class Config:
        unique = ["firm_id", "program_id", "metric", "due_date"]


class ClientSurvey(_Contract):
    """Optional self-reported client survey (MEP style): gross, not counterfactual, figures."""

    firm_id: Series[str] = pa.Field(description="Responding firm.")
    program_id: Series[str] = pa.Field(description="Program.")
    survey_date: Series[pd.Timestamp] = pa.Field(description="Date of the survey.")
    new_sales: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Reported new sales attributed to the program."
    )
    retained_sales: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Reported sales retained thanks to the program."
    )
    jobs_created: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Reported jobs created."
    )
    jobs_retained: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Reported jobs retained."
    )
    cost_savings: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Reported cost savings."
    )
    investment: Series[float] | None = pa.Field(
        nullable=True, ge=0, description="Reported investment induced."
    )

    class Config:
        unique = ["firm_id", "program_id", "survey_date"]


@dataclass(frozen=True)
class Entity:
    """An input entity of the contract: its model, key and references to other entities."""

    name: str
    model: type[_Contract]
    key: tuple[str, ...]
    references: tuple[tuple[str, str], ...] = ()  # (column, entity whose key it must match)
    required: bool = True

    @property
    def schema(self) -> pa.DataFrameSchema:
        return bounded(self.model.to_schema())

    @property
    def description(self) -> str:
        return (self.model.__doc__ or "").strip()


def bounded(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """`schema` with every float column bounded by ±MAX_MAGNITUDE on each side where the
    contract sets no bound of its own: built-in checks, so the bulk loader compiles them
    like any other, and a value fails at most one bound."""
    updates = {}
    for name, column in schema.columns.items():
        if "float" not in str(column.dtype):
            continue
        names = {check.name for check in column.checks}
        added = []
        if not names & {"greater_than_or_equal_to", "greater_than", "in_range"}:
            added.append(pa.Check.ge(-MAX_MAGNITUDE))
        if not names & {"less_than_or_equal_to", "less_than", "in_range"}:
            added.append(pa.Check.le(MAX_MAGNITUDE))
        if added:
            updates[name] = {"checks": [*column.checks, *added]}
    return schema.update_columns(updates) if updates else schema


# Declared in load order: an entity only references entities above it.
ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        Entity("macro", Macro, ("country", "year")),
        Entity("programs", Programs, ("program_id",)),
        Entity("firms", Firms, ("firm_id",)),
        Entity(
            "program_budgets", ProgramBudgets, ("program_id", "year"), (("program_id", "programs"),)
        ),
        Entity(
            "participations",
            Participations,
            ("firm_id", "program_id", "start_date"),
            (("firm_id", "firms"), ("program_id", "programs")),
        ),
        Entity(
            "comparison_sample",
            ComparisonSample,
            ("firm_id", "program_id", "wave"),
            (("firm_id", "firms"), ("program_id", "programs")),
        ),
        Entity("outcomes", Outcomes, ("firm_id", "year"), (("firm_id", "firms"),)),
        Entity(
            "targets",
            Targets,
            ("firm_id", "program_id", "metric", "due_date"),
            (("firm_id", "firms"), ("program_id", "programs")),
            required=False,
        ),
        Entity(
            "client_survey",
            ClientSurvey,
            ("firm_id", "program_id", "survey_date"),
            (("firm_id", "firms"), ("program_id", "programs")),
            required=False,
        ),
    ]
}
