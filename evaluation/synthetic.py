"""Seeded synthetic MES portfolio for the demo and the tests, with planted truths.

Everything here is synthetic: no record describes a real firm, program or agency. The three
programs are labelled "[Synthetic]" and are only *modelled on* real instruments.

`generate_demo(seed, n_firms, first_year, last_year)` draws, from one
`numpy.random.Generator(seed)`, the nine input entities of the data contract
(`schemas.contract.ENTITIES`) plus the truths an evaluation should recover. Same arguments,
same frames; it does no I/O (see `flows.demo_files.write_demo_files` for the files).

Data-generating process
-----------------------
Portfolio (table `programs`), one program per country, all running to `last_year`:

=================  =======  ====================================================  ==============
program_id         country  modelled on                                           currency
=================  =======  ====================================================  ==============
SYN-CHL-PDP        CHL      CORFO's supplier development programme (PDP):         CLP
                            matching grant, pillar supply_chain, export chains
SYN-PER-VOUCHER    PER      Peru's innovation and training vouchers: voucher,     PEN
                            pillar innovation
SYN-BRA-SEBRAETEC  BRA      SEBRAEtec technical assistance: technical_assistance, BRL
                            pillar productivity
=================  =======  ====================================================  ==============

Macro (`macro`): per country and year, a GDP deflator (base 100 in `first_year`) with annual
inflation drawn uniformly in CHL 3-5%, PER 3-4.5%, BRA 4.5-8%; nominal GDP in local currency
(LCU) growing with real growth plus inflation; LCU per USD on a noisy geometric path
(CLP ~600-900, PEN ~3-4, BRL ~2-5.5).

Firms (`firms`): `n_firms` manufacturing firms, 35% CHL, 25% PER, 40% BRA; ISIC Rev.4 class
(a fixed list of 30 four-digit classes in divisions 10-33), a real region name of the country
(1% empty), founded_year (1% empty). About 27% of firms are founded after `first_year` and
enter the panel in their founding year; every firm exits with a 3% annual hazard, so the
panel is unbalanced. Firm ids look like tax numbers with valid check digits: Chilean RUT
"76.123.456-7", Peruvian RUC "20123456789", Brazilian CNPJ "12.345.678/0001-90".

Permanent firm effects: size a_i = log employment, normal with median ~15 employees and
sd 1.1 (a heavy right tail), truncated below at 2 employees; productivity
p_i = 0.45 * (0.4 z_i + 0.92 e_i) + sector effect, where z_i is standardized size, so
productivity is correlated with size.

Outcomes (`outcomes`, one row per firm and year the firm is alive, `first_year..last_year`):

    log employment  = a_i + E_ct + u_it
    log sales       = a_i + p_i + log(sales per worker_c) + S_ct + log deflator_ct + v_it

E_ct, S_ct are country-year random walks (common shocks); u, v are stationary AR(1) firm noise
(rho 0.6, innovation sd 0.06 and 0.10), independent of everything else. Employment is the
annual average to 1 decimal (rounding to integers would blur small log effects); money is in
LCU at current prices, rounded to units. wage_bill = employment x firm wage x deflator;
value_added = a firm share (0.22-0.48, always < sales) of sales; exports = a permanent firm
export share of sales for exporters (~25% of firms, likelier for large, productive firms),
0 otherwise; rd_spend > 0 only for ~12% of firms, and not every year; training_spend a firm
share of the wage bill for about half of the firms; capital = a firm capital-output ratio
times *counterfactual* sales. 2% of sales and, independently, 2% of employment cells are
missing at random. `source` is the country's channel (CHL "tax", PER "survey" with
wave = year - first_year + 1, BRA "registry").

Participation (`participations`): each program enrols about 9-11% of its country's firms in
staggered entry cohorts g inside its window (CHL first_year+2 .. last_year-4, PER
first_year+3 .. last_year-2, BRA first_year+2 .. last_year-2; with the defaults 2012-2022),
never in first_year or first_year+1, so every cohort has pre-periods. A firm enters at most
once and only a program of its own country, and only if it is observed at g-1 and g. Within
a cohort, firms are drawn without replacement with probability proportional to
exp(0.5 z_i + 0.4 p_i / sd(p)): SELECTION ON THE PERMANENT SIZE AND PRODUCTIVITY EFFECTS ONLY.
A naive beneficiary-vs-rest comparison is therefore biased upward, while parallel trends hold
within a country (shocks and noise are independent of treatment). start_date falls in the
entry year; end_date 30-540 days later (empty when after `last_year`, or 3% at random);
public_cost in the program's currency at current prices (median per firm at first_year
prices: CLP 9 million, PEN 9,000, BRL 15,000), firm_contribution a program-specific share
of it (5% empty).

Planted true effects (table `true_effects`, log points, event time e = t - g, constant from
e = 4 on; applied as exp(effect) to the treated firm's own employment and sales for t >= g;
no anticipation). wage_bill and training_spend move with employment; value_added, exports
and rd_spend move with sales; capital does not move.

=================  ==============  ====  ====  ====  ====  =====
program_id         outcome         e=0   e=1   e=2   e=3   e>=4
=================  ==============  ====  ====  ====  ====  =====
SYN-CHL-PDP        log_sales       0.04  0.07  0.10  0.13  0.15
SYN-CHL-PDP        log_employment  0.01  0.02  0.04  0.05  0.06
SYN-PER-VOUCHER    log_sales       0.02  0.05  0.08  0.10  0.11
SYN-PER-VOUCHER    log_employment  0.03  0.06  0.09  0.11  0.13
SYN-BRA-SEBRAETEC  log_sales       0.03  0.05  0.07  0.08  0.08
SYN-BRA-SEBRAETEC  log_employment  0.00  0.00  0.01  0.01  0.01
=================  ==============  ====  ====  ====  ====  =====

(The Peruvian program echoes the IRAP evaluation's +11% sales / +14% employment; the Brazilian
one has a near-zero employment effect.)

`true_att_simple`: for each program and outcome, sum over post cells (g, t), g <= t <=
last_year, of p_g * effect(t - g), divided by the sum of p_g over those cells, where p_g is
the number of the program's cohort-g beneficiaries that have valid rows in `outcomes`.
Because effects are homogeneous within cohort and event time, this is exactly what the
Callaway-Sant'Anna "simple" aggregation (never-treated comparison = the program's
`comparison_sample`) targets on this sample.

Other entities. `comparison_sample`: for each program, every non-beneficiary firm of its
country (source "registry", wave 1, sampled_on 1 July of the program's start year).
`program_budgets`: per program and year from its start year, public_budget = the year's
summed public_cost x U(1.02, 1.15) plus a set-up outlay (so always >= the year's public_cost),
admin_cost 7-14% of it. `client_survey` (MEP style, gross and self-reported): about 80% of
beneficiaries answer once, 1 or 2 years after entry; new_sales = true incremental sales
(sales minus counterfactual sales that year) times a lognormal factor with median 5;
jobs_created = true incremental jobs times a factor with median 4 plus Poisson(1) noise;
retained_sales, jobs_retained, cost_savings and investment are loose shares of the firm's
size or of public_cost; 5% of items empty. `targets`: export targets (metric "exports",
due 31 December of g+2) for the export-oriented program SYN-CHL-PDP: every exporter among
its beneficiaries (15-60% above pre-entry exports) and 30% of the non-exporters (first
exports of 2-6% of pre-entry sales).

Deliberately invalid rows (table `planted_invalid`: entity, row = 0-based position in
`tables[entity]`, kind, column); each is invalid for exactly one reason and every other row
is valid:

- outcomes, ~0.5% of rows: "not_a_number" (text such as "n/d" in employment, sales,
  wage_bill or exports; those columns are object dtype), "negative" (negative employment or
  sales), "duplicate_key" (a second row for an existing firm-year with different values;
  BOTH rows of each pair are listed, since a loader must quarantine every row of an
  ambiguous key), "unknown_firm" (a firm_id absent from `firms`).
- firms, a handful: "bad_country" (country written as "Chile", "Perú" or "Brasil"); these
  extra firms have no other records.
- participations, a handful each: "unknown_program" (a later spell of a real beneficiary in
  an unregistered program) and "end_before_start" (a later spell of a real beneficiary in its
  own program whose end_date precedes its start_date). Each firm's valid entry spell is
  untouched, so entry cohorts do not depend on how the loader treats these rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from schemas.contract import ENTITIES

__all__ = [
    "INVALID_KINDS",
    "PROGRAMS",
    "DemoData",
    "contract_columns",
    "generate_demo",
]

INVALID_KINDS = (
    "not_a_number",
    "negative",
    "duplicate_key",
    "unknown_firm",
    "unknown_program",
    "end_before_start",
    "bad_country",
)
OUTCOMES_MEASURED = ("log_sales", "log_employment")
MAX_EVENT_TIME = 4  # effects are constant from this many years after entry on
EXIT_HAZARD = 0.03
MISSING_SHARE = 0.02
INVALID_OUTCOME_SHARE = 0.005
NA_TEXTS = ("n/d", "s/i", "sin dato", "ND", "#VALUE!")  # none of them is a pandas NA token
TEXT_COLUMNS = ("employment", "sales", "wage_bill", "exports")  # may hold planted text

# ISIC Rev.4 manufacturing classes (divisions 10-33) and their relative frequency.
SECTORS = (
    ("1010", 3), ("1050", 2), ("1071", 6), ("1079", 3), ("1104", 1), ("1311", 1),
    ("1410", 6), ("1520", 3), ("1610", 3), ("1709", 1), ("1811", 4), ("2011", 1),
    ("2023", 2), ("2100", 1), ("2220", 4), ("2310", 1), ("2395", 3), ("2410", 1),
    ("2511", 5), ("2592", 3), ("2599", 5), ("2710", 1), ("2750", 1), ("2813", 1),
    ("2825", 2), ("2930", 2), ("3100", 5), ("3211", 1), ("3290", 2), ("3312", 4),
)  # fmt: skip


@dataclass(frozen=True)
class _Country:
    iso3: str
    currency: str
    written_name: str  # how a careless file spells the country ("bad_country")
    firm_share: float
    regions: tuple[str, ...]
    region_weights: tuple[float, ...]
    inflation: tuple[float, float]  # uniform range of annual inflation
    lcu_per_usd: tuple[float, float]  # first year, last year (geometric path)
    lcu_bounds: tuple[float, float]
    gdp_first: float  # nominal GDP in first_year, LCU
    real_growth: float
    sales_per_worker: float  # LCU, first_year prices
    wage_per_worker: float  # LCU per year, first_year prices
    outcome_source: str
    fake_program: str  # an unregistered program id ("unknown_program")


COUNTRIES = (
    _Country(
        "CHL", "CLP", "Chile", 0.35,
        ("Región Metropolitana de Santiago", "Valparaíso", "Biobío", "Maule", "Antofagasta",
         "Los Lagos"),
        (0.45, 0.15, 0.15, 0.1, 0.08, 0.07),
        (0.03, 0.05), (620.0, 880.0), (600.0, 900.0), 111e12, 0.025,
        22e6, 6.5e6, "tax", "SYN-CHL-PROFO",
    ),
    _Country(
        "PER", "PEN", "Perú", 0.25,
        ("Lima", "Arequipa", "La Libertad", "Piura", "Cusco", "Junín"),
        (0.5, 0.14, 0.12, 0.1, 0.07, 0.07),
        (0.03, 0.045), (2.85, 3.75), (3.0, 4.0), 420e9, 0.035,
        75e3, 14e3, "survey", "SYN-PER-CITE",
    ),
    _Country(
        "BRA", "BRL", "Brasil", 0.40,
        ("São Paulo", "Minas Gerais", "Rio Grande do Sul", "Paraná", "Santa Catarina", "Bahia",
         "Pernambuco"),
        (0.35, 0.15, 0.13, 0.12, 0.11, 0.07, 0.07),
        (0.045, 0.08), (1.9, 5.3), (2.0, 5.5), 3.9e12, 0.012,
        80e3, 22e3, "registry", "SYN-BRA-PRIME",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class _Program:
    program_id: str
    country: str
    name: str
    agency: str
    pillar: str
    instrument: str
    start_offset: int  # start_year - first_year
    cohort_window: tuple[int, int]  # (first cohort - first_year, last_year - last cohort)
    cohort_slope: float  # tilt of cohort sizes over the window (+ growing)
    treated_share: float  # of the country's firms
    cost_median: float  # public cost per firm, first_year prices, program currency
    cost_decimals: int
    contribution_share: tuple[float, float]  # firm_contribution / public_cost
    services: tuple[str, ...]
    effect_sales: tuple[float, ...]  # log points at e = 0..MAX_EVENT_TIME
    effect_employment: tuple[float, ...]
    export_targets: bool
    market_failure: str
    targeting: str
    expected_short: str
    expected_medium: str
    expected_long: str


PROGRAMS = (
    _Program(
        program_id="SYN-CHL-PDP",
        country="CHL",
        name="[Synthetic] Supplier development co-financing",
        agency="[Synthetic] Production development agency (modelled on CORFO, Chile)",
        pillar="supply_chain",
        instrument="matching_grant",
        start_offset=0,
        cohort_window=(2, 4),
        cohort_slope=-0.04,
        treated_share=0.09,
        cost_median=27e6,
        cost_decimals=0,
        contribution_share=(0.3, 0.7),
        services=(
            "Supplier development plan: diagnosis",
            "Supplier development plan: implementation",
            "Quality and safety standards for the buyer",
            "Supplier certification support",
        ),
        effect_sales=(0.04, 0.07, 0.10, 0.13, 0.15),
        effect_employment=(0.01, 0.02, 0.04, 0.05, 0.06),
        export_targets=True,
        market_failure="Coordination failures between large (often exporting) buyers and "
        "SME suppliers; under-investment in supplier capabilities that spill over the chain.",
        targeting="SME manufacturers proposed by a large anchor buyer, typically in export "
        "value chains (mining, agrifood); co-financed by the buyer and the supplier.",
        expected_short="Diagnosis and improvement plan agreed with the buyer; quality "
        "certifications started.",
        expected_medium="Higher sales to the anchor buyer and to new clients; first exports.",
        expected_long="Sustained sales and productivity growth; indirect and direct exports.",
    ),
    _Program(
        program_id="SYN-PER-VOUCHER",
        country="PER",
        name="[Synthetic] Innovation and training vouchers",
        agency="[Synthetic] Innovation fund (modelled on Peru's voucher programs)",
        pillar="innovation",
        instrument="voucher",
        start_offset=1,
        cohort_window=(3, 2),
        cohort_slope=0.05,
        treated_share=0.11,
        cost_median=25e3,
        cost_decimals=2,
        contribution_share=(0.1, 0.3),
        services=(
            "Diagnostic voucher",
            "Training voucher",
            "Technical assistance voucher",
            "Innovation voucher",
        ),
        effect_sales=(0.02, 0.05, 0.08, 0.10, 0.11),
        effect_employment=(0.03, 0.06, 0.09, 0.11, 0.13),
        export_targets=False,
        market_failure="Information failures and credit constraints: SMEs under-invest in "
        "training, consultancy and innovation whose returns they cannot judge in advance.",
        targeting="Formal micro and small manufacturers; first come, first served within "
        "annual calls, with a cap per firm.",
        expected_short="Training hours and consultancy delivered; process improvements.",
        expected_medium="Higher sales and hiring of trained staff.",
        expected_long="Innovation habits: new products, R&D, sustained growth.",
    ),
    _Program(
        program_id="SYN-BRA-SEBRAETEC",
        country="BRA",
        name="[Synthetic] SEBRAEtec technical assistance",
        agency="[Synthetic] SME support service (modelled on SEBRAE, Brazil)",
        pillar="productivity",
        instrument="technical_assistance",
        start_offset=1,
        cohort_window=(2, 2),
        cohort_slope=0.0,
        treated_share=0.10,
        cost_median=35e3,
        cost_decimals=2,
        contribution_share=(0.25, 0.55),
        services=(
            "Lean production consultancy",
            "Quality management (ISO 9001)",
            "Product design",
            "Energy efficiency",
            "Process automation",
        ),
        effect_sales=(0.03, 0.05, 0.07, 0.08, 0.08),
        effect_employment=(0.0, 0.0, 0.01, 0.01, 0.01),
        export_targets=False,
        market_failure="Information failures: SMEs do not know which technical solutions "
        "would pay off and specialist consultancy is scarce outside large cities.",
        targeting="Micro and small manufacturers that request a subsidised technical service "
        "from a regional office; the firm co-pays part of the cost.",
        expected_short="Technical solution implemented; waste and rework reduced.",
        expected_medium="Lower costs and higher sales; little change in employment.",
        expected_long="Productivity gains sustained; adoption of further technology.",
    ),
)

_COUNTRY_INDEX = {c.iso3: k for k, c in enumerate(COUNTRIES)}


@dataclass(frozen=True, eq=False)
class DemoData:
    """The synthetic entities and the truths planted in them (see the module docstring).

    tables: entity name -> frame with exactly the contract's columns, planted invalid rows
    included. true_effects: program_id, outcome ("log_sales" | "log_employment"),
    event_time, effect. true_att_simple: program_id, outcome, att. planted_invalid: entity,
    row (0-based position in tables[entity]), kind, column. settings: the arguments of
    `generate_demo` that produced the data.
    """

    tables: dict[str, pd.DataFrame]
    true_effects: pd.DataFrame
    true_att_simple: pd.DataFrame
    planted_invalid: pd.DataFrame
    settings: Mapping[str, int] = field(default_factory=dict)


@cache
def _contract_columns(name: str) -> tuple[str, ...]:
    return tuple(ENTITIES[name].model.to_schema().columns)


def contract_columns(name: str) -> list[str]:
    """Column names of an input entity, in contract order (optional columns included)."""
    return list(_contract_columns(name))


def generate_demo(
    seed: int = 2024, n_firms: int = 20_000, first_year: int = 2010, last_year: int = 2024
) -> DemoData:
    """Generate the synthetic MES portfolio: entities, planted effects and invalid rows.

    Deterministic: the same arguments give identical frames. See the module docstring for
    the data-generating process and the planted truths.
    """
    if last_year - first_year < 6:
        raise ValueError("need at least 7 years (first_year..last_year) for staggered cohorts")
    if n_firms < 500:
        raise ValueError("n_firms must be at least 500")
    rng = np.random.default_rng(seed)
    years = np.arange(first_year, last_year + 1)

    macro, log_defl = _macro(rng, years)
    firms = _draw_firms(rng, n_firms, first_year, last_year)
    _assign_participation(rng, firms, first_year, last_year)
    panel = _draw_panel(rng, firms, years, log_defl)

    outcomes, outcome_bad, valid_firm_ids = _outcomes_table(rng, firms, panel, first_year)
    firms_table, firm_bad = _firms_table(rng, firms)
    participations, part_bad = _participations_table(rng, firms, log_defl, first_year, last_year)
    tables = {
        "macro": macro,
        "programs": _programs_table(first_year),
        "firms": firms_table,
        "program_budgets": _budgets_table(rng, participations, log_defl, first_year, last_year),
        "participations": participations,
        "comparison_sample": _comparison_table(firms, first_year),
        "outcomes": outcomes,
        "client_survey": _client_survey_table(rng, firms, panel, participations, years),
        "targets": _targets_table(rng, firms, panel, years),
    }
    tables = {name: df[contract_columns(name)] for name, df in tables.items()}

    planted = pd.DataFrame(
        [("firms", r, k, c) for r, k, c in firm_bad]
        + [("participations", r, k, c) for r, k, c in part_bad]
        + [("outcomes", r, k, c) for r, k, c in outcome_bad],
        columns=["entity", "row", "kind", "column"],
    ).astype({"row": "int64"})
    true_effects = _true_effects_table(first_year, last_year)
    true_att = _true_att_simple(firms, valid_firm_ids, true_effects, last_year)
    return DemoData(
        tables=tables,
        true_effects=true_effects,
        true_att_simple=true_att,
        planted_invalid=planted.reset_index(drop=True),
        settings={
            "seed": seed,
            "n_firms": n_firms,
            "first_year": first_year,
            "last_year": last_year,
        },
    )


# --- macro --------------------------------------------------------------------------------


def _macro(rng: np.random.Generator, years: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Country-year macro table and the log deflator (country x year, 0 in first_year)."""
    n_years = len(years)
    log_defl = np.zeros((len(COUNTRIES), n_years))
    rows = []
    frac = np.linspace(0.0, 1.0, n_years)
    for k, c in enumerate(COUNTRIES):
        inflation = rng.uniform(*c.inflation, size=n_years - 1)
        log_defl[k, 1:] = np.cumsum(np.log1p(inflation))
        real = np.concatenate([[0.0], np.cumsum(c.real_growth + rng.normal(0, 0.015, n_years - 1))])
        gdp = c.gdp_first * np.exp(real + log_defl[k])
        start, end = c.lcu_per_usd
        fx = start * (end / start) ** frac * np.exp(rng.normal(0, 0.03, n_years))
        fx = np.clip(fx, *c.lcu_bounds)
        rows.append(
            pd.DataFrame(
                {
                    "country": c.iso3,
                    "year": years.astype("int64"),
                    "gdp": np.round(gdp, -6),
                    "deflator": np.round(100 * np.exp(log_defl[k]), 3),
                    "lcu_per_usd": np.round(fx, 4 if fx.max() < 100 else 2),
                }
            )
        )
    return pd.concat(rows, ignore_index=True), log_defl


# --- firms and participation ----------------------------------------------------------------


@dataclass
class _Firms:
    """Per-firm arrays (internal, mutable while participation is assigned)."""

    ids: np.ndarray
    country: np.ndarray  # index into COUNTRIES
    region: np.ndarray
    isic4: np.ndarray
    founded: np.ndarray
    founded_reported: np.ndarray  # founded_year as written (NA for ~1%)
    first_obs: np.ndarray
    last_obs: np.ndarray
    size: np.ndarray  # a_i
    z_size: np.ndarray
    prod: np.ndarray  # p_i
    exporter: np.ndarray
    export_share: np.ndarray
    program: np.ndarray  # index into PROGRAMS, -1 if never treated
    entry: np.ndarray  # entry year, 0 if never treated
    spare_ids: dict[int, list[str]]  # country -> unused valid-looking ids
    start_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="int64"))


def _draw_firms(rng: np.random.Generator, n: int, first_year: int, last_year: int) -> _Firms:
    shares = np.array([c.firm_share for c in COUNTRIES])
    country = np.sort(rng.choice(len(COUNTRIES), size=n, p=shares))
    rng.shuffle(country)
    n_spare = 64 + n // 100
    ids = np.empty(n, dtype=object)
    spare: dict[int, list[str]] = {}
    for k, c in enumerate(COUNTRIES):
        where = np.flatnonzero(country == k)
        drawn = _tax_ids(rng, c.iso3, len(where) + n_spare)
        ids[where] = drawn[: len(where)]
        spare[k] = list(drawn[len(where) :])

    region = np.empty(n, dtype=object)
    for k, c in enumerate(COUNTRIES):
        where = np.flatnonzero(country == k)
        w = np.array(c.region_weights) / sum(c.region_weights)
        region[where] = np.array(c.regions, dtype=object)[
            rng.choice(len(c.regions), len(where), p=w)
        ]
    region[rng.random(n) < 0.01] = None

    codes = np.array([s for s, _ in SECTORS], dtype=object)
    weights = np.array([w for _, w in SECTORS], dtype=float)
    sector = rng.choice(len(SECTORS), size=n, p=weights / weights.sum())
    sector_effect = rng.normal(0.0, 0.15, len(SECTORS))

    entrant = rng.random(n) < 0.27
    founded = np.where(
        entrant,
        rng.integers(first_year + 1, last_year + 1, size=n),
        first_year - np.minimum(np.floor(rng.gamma(2.0, 7.0, size=n)), 70).astype(int),
    )
    founded_reported = pd.array(founded, dtype="Int64")
    founded_reported[(rng.random(n) < 0.01) & ~entrant] = pd.NA
    first_obs = np.maximum(founded, first_year)
    last_obs = np.minimum(first_obs + rng.geometric(EXIT_HAZARD, size=n) - 1, last_year)

    mu, sigma = np.log(14.5), 1.1
    size = mu + sigma * rng.standard_normal(n)
    low = size < np.log(2.0)
    while low.any():  # truncate below 2 employees, so rounding never hits zero
        size[low] = mu + sigma * rng.standard_normal(int(low.sum()))
        low = size < np.log(2.0)
    z_size = (size - mu) / sigma
    prod = 0.45 * (0.4 * z_size + np.sqrt(1 - 0.4**2) * rng.standard_normal(n))
    prod = prod + sector_effect[sector]

    z_prod = prod / prod.std()
    exporter = rng.random(n) < _logistic(-1.5 + 0.9 * z_size + 0.3 * z_prod)
    export_share = np.clip(rng.beta(2.0, 4.0, size=n), 0.02, 0.9)

    return _Firms(
        ids=ids,
        country=country,
        region=region,
        isic4=codes[sector],
        founded=founded,
        founded_reported=np.asarray(founded_reported, dtype=object),
        first_obs=first_obs,
        last_obs=last_obs,
        size=size,
        z_size=z_size,
        prod=prod,
        exporter=exporter,
        export_share=export_share,
        program=np.full(n, -1),
        entry=np.zeros(n, dtype=int),
        spare_ids=spare,
    )


def _assign_participation(
    rng: np.random.Generator, firms: _Firms, first_year: int, last_year: int
) -> None:
    """Staggered entry with selection on the permanent size and productivity effects."""
    log_weight = 0.5 * firms.z_size + 0.4 * firms.prod / firms.prod.std()
    for k, prog in enumerate(PROGRAMS):
        in_country = firms.country == _COUNTRY_INDEX[prog.country]
        cohorts = _cohorts(prog, first_year, last_year)
        tilt = np.clip(1 + prog.cohort_slope * (cohorts - cohorts.mean()), 0.2, None)
        n_treat = round(prog.treated_share * in_country.sum())
        counts = rng.multinomial(n_treat, tilt / tilt.sum())
        for g, n_g in zip(cohorts, counts, strict=True):
            eligible = np.flatnonzero(
                in_country
                & (firms.program < 0)
                & (firms.first_obs <= g - 1)
                & (firms.last_obs >= g)
            )
            # Gumbel top-k = sampling without replacement, probability ∝ exp(log_weight)
            keys = log_weight[eligible] + rng.gumbel(size=len(eligible))
            chosen = eligible[np.argsort(-keys, kind="stable")[:n_g]]
            firms.program[chosen] = k
            firms.entry[chosen] = g
    firms.start_day = rng.integers(0, 365, size=len(firms.ids))  # day of entry in the year


def _cohorts(prog: _Program, first_year: int, last_year: int) -> np.ndarray:
    lo = first_year + prog.cohort_window[0]
    hi = last_year - prog.cohort_window[1]
    lo = min(lo, last_year - 2)
    hi = max(hi, lo)
    return np.arange(max(lo, first_year + 2), hi + 1)


# --- outcomes --------------------------------------------------------------------------------


@dataclass
class _Panel:
    """Firm x year matrices (all firms, all years; `alive` marks the observed cells)."""

    alive: np.ndarray
    log_emp0: np.ndarray  # counterfactual (untreated) log employment
    log_sales0: np.ndarray  # counterfactual log sales, LCU current prices
    tau_emp: np.ndarray
    tau_sales: np.ndarray
    log_defl: np.ndarray  # per firm-year


def _ar1(rng: np.random.Generator, n: int, n_years: int, rho: float, sd: float) -> np.ndarray:
    out = np.empty((n, n_years))
    out[:, 0] = rng.normal(0, sd / np.sqrt(1 - rho**2), n)  # stationary start
    for t in range(1, n_years):
        out[:, t] = rho * out[:, t - 1] + rng.normal(0, sd, n)
    return out


def _effect_matrix(kind: str) -> np.ndarray:
    return np.array([getattr(p, kind) for p in PROGRAMS])


def _draw_panel(
    rng: np.random.Generator, firms: _Firms, years: np.ndarray, log_defl: np.ndarray
) -> _Panel:
    n, n_years = len(firms.ids), len(years)
    n_c = len(COUNTRIES)
    alive = (years[None, :] >= firms.first_obs[:, None]) & (
        years[None, :] <= firms.last_obs[:, None]
    )

    def walk(drift: float, sd: float) -> np.ndarray:
        steps = drift + rng.normal(0, sd, (n_c, n_years - 1))
        return np.concatenate([np.zeros((n_c, 1)), np.cumsum(steps, axis=1)], axis=1)

    shock_emp, shock_sales = walk(0.005, 0.015), walk(0.02, 0.03)
    u = _ar1(rng, n, n_years, 0.6, 0.06)
    v = 0.4 * u + _ar1(rng, n, n_years, 0.6, 0.10)
    c = firms.country
    spw = np.log([co.sales_per_worker for co in COUNTRIES])
    defl = log_defl[c]
    log_emp0 = firms.size[:, None] + shock_emp[c] + u
    log_sales0 = (firms.size + firms.prod + spw[c])[:, None] + shock_sales[c] + defl + v

    treated = firms.program >= 0
    event = years[None, :] - firms.entry[:, None]
    post = treated[:, None] & (event >= 0)
    e_cap = np.clip(event, 0, MAX_EVENT_TIME)
    prog = np.where(treated, firms.program, 0)[:, None]
    tau_sales = np.where(post, _effect_matrix("effect_sales")[prog, e_cap], 0.0)
    tau_emp = np.where(post, _effect_matrix("effect_employment")[prog, e_cap], 0.0)
    return _Panel(alive, log_emp0, log_sales0, tau_emp, tau_sales, defl)


def _outcomes_table(
    rng: np.random.Generator, firms: _Firms, panel: _Panel, first_year: int
) -> tuple[pd.DataFrame, list[tuple[int, str, str]], np.ndarray]:
    """Outcomes panel with planted invalid rows; also the firm ids having valid rows."""
    fi, ti = np.nonzero(panel.alive)  # firm-major, then year
    n_rows = len(fi)
    year = first_year + ti
    c = firms.country[fi]
    emp_exact = np.exp(panel.log_emp0[fi, ti] + panel.tau_emp[fi, ti])
    sales0 = np.exp(panel.log_sales0[fi, ti])
    sales_exact = sales0 * np.exp(panel.tau_sales[fi, ti])
    defl = panel.log_defl[fi, ti]

    n = len(firms.ids)
    wage_firm = np.log([co.wage_per_worker for co in COUNTRIES])[firms.country]
    wage_firm = wage_firm + 0.4 * firms.prod + rng.normal(0, 0.12, n)
    wage_growth = np.cumsum(rng.normal(0.012, 0.01, (len(COUNTRIES), panel.alive.shape[1])), 1)
    wage_bill = emp_exact * np.exp(
        wage_firm[fi] + defl + wage_growth[c, ti] + rng.normal(0, 0.03, n_rows)
    )

    va_share = rng.uniform(0.22, 0.48, n)
    value_added = sales_exact * np.minimum(va_share[fi] * np.exp(rng.normal(0, 0.05, n_rows)), 0.9)
    share = np.minimum(firms.export_share[fi] * np.exp(rng.normal(0, 0.2, n_rows)), 0.95)
    exports = np.where(firms.exporter[fi], sales_exact * share, 0.0)

    z_prod = firms.prod / firms.prod.std()
    rd_firm = rng.random(n) < _logistic(-2.4 + 0.5 * firms.z_size + 0.6 * z_prod)
    rd_intensity = np.exp(rng.normal(np.log(0.012), 0.5, n))
    rd_year = rng.random(n_rows) < 0.8
    rd = np.where(
        rd_firm[fi] & rd_year,
        sales_exact * rd_intensity[fi] * np.exp(rng.normal(0, 0.3, n_rows)),
        0.0,
    )
    trainer = rng.random(n) < _logistic(-0.3 + 0.6 * firms.z_size)
    train_intensity = rng.uniform(0.003, 0.02, n)
    train_year = rng.random(n_rows) < 0.85
    training = np.where(
        trainer[fi] & train_year,
        wage_bill * train_intensity[fi] * np.exp(rng.normal(0, 0.3, n_rows)),
        0.0,
    )
    ky = np.exp(rng.normal(np.log(0.6), 0.4, n))
    capital = sales0 * ky[fi] * np.exp(rng.normal(0, 0.05, n_rows))

    employment = np.round(emp_exact, 1)
    sales = np.round(sales_exact)
    employment[rng.random(n_rows) < MISSING_SHARE] = np.nan
    sales[rng.random(n_rows) < MISSING_SHARE] = np.nan
    source = np.array([co.outcome_source for co in COUNTRIES], dtype=object)[c]
    wave = np.where(source == "survey", ti + 1, -1)

    cols: dict[str, np.ndarray] = {
        "firm_id": firms.ids[fi],
        "year": year.astype("int64"),
        "employment": employment,
        "sales": sales,
        "wage_bill": np.round(wage_bill),
        "exports": np.round(exports),
        "value_added": np.round(value_added),
        "rd_spend": np.round(rd),
        "training_spend": np.round(training),
        "capital": np.round(capital),
        "source": source,
        "wave": wave,
    }

    # --- planted invalid rows
    n_bad = max(12, round(INVALID_OUTCOME_SHARE * n_rows))
    n_nan, n_neg, n_pairs = round(0.3 * n_bad), round(0.25 * n_bad), round(0.15 * n_bad)
    n_unknown = max(1, n_bad - n_nan - n_neg - 2 * n_pairs)
    complete = np.flatnonzero(~np.isnan(employment) & ~np.isnan(sales))
    picks = rng.choice(complete, n_nan + n_neg + n_pairs, replace=False)
    nan_rows, neg_rows, dup_rows = np.split(picks, [n_nan, n_nan + n_neg])
    unknown_src = rng.choice(complete, n_unknown, replace=False)

    kind = np.full(n_rows, None, dtype=object)
    column = np.full(n_rows, None, dtype=object)
    pristine = {name: cols[name] for name in TEXT_COLUMNS}
    for name in TEXT_COLUMNS:
        cols[name] = cols[name].astype(object)  # a copy: `pristine` keeps the floats
    nan_cols = rng.choice(len(TEXT_COLUMNS), n_nan)
    nan_text = rng.choice(len(NA_TEXTS), n_nan)
    for r, ci, ti_ in zip(nan_rows, nan_cols, nan_text, strict=True):
        cols[TEXT_COLUMNS[ci]][r] = NA_TEXTS[ti_]
        kind[r], column[r] = "not_a_number", TEXT_COLUMNS[ci]
    neg_cols = rng.choice(["employment", "sales"], n_neg)
    for r, name in zip(neg_rows, neg_cols, strict=True):
        cols[name][r] = -cols[name][r]
        kind[r], column[r] = "negative", str(name)
    kind[dup_rows], column[dup_rows] = "duplicate_key", "firm_id,year"

    # extra rows: the second row of each duplicate pair, and rows of unknown firms
    extra_src = np.concatenate([dup_rows, unknown_src])
    extra = {name: values[extra_src].copy() for name, values in cols.items()}
    for name in TEXT_COLUMNS:  # copies come from the untouched values
        extra[name] = pristine[name][extra_src].astype(object)
    d = np.arange(n_pairs)
    extra["employment"][d] = np.round(
        extra["employment"][d].astype(float) * rng.uniform(1.05, 1.3, n_pairs), 1
    )
    extra["sales"][d] = np.round(extra["sales"][d].astype(float) * rng.uniform(0.8, 0.95, n_pairs))
    unknown_ids = [_pop_spare(firms, firms.country[fi[r]]) for r in unknown_src]
    extra["firm_id"][n_pairs:] = np.array(unknown_ids, dtype=object)
    extra_kind = np.array(["duplicate_key"] * n_pairs + ["unknown_firm"] * n_unknown, dtype=object)
    extra_column = np.array(["firm_id,year"] * n_pairs + ["firm_id"] * n_unknown, dtype=object)

    # order: by firm (generation order) and year; a duplicate follows its twin, an unknown
    # firm's row sits at a random place among the firms
    order_firm = np.concatenate(
        [fi.astype(float), fi[dup_rows].astype(float), rng.uniform(0, n, n_unknown) + 0.5]
    )
    order_year = np.concatenate([year, year[dup_rows], year[unknown_src]])
    order_seq = np.concatenate([np.zeros(n_rows), np.ones(n_pairs), np.zeros(n_unknown)])
    order = np.lexsort((order_seq, order_year, order_firm))

    all_cols = {name: np.concatenate([cols[name], extra[name]])[order] for name in cols}
    all_kind = np.concatenate([kind, extra_kind])[order]
    all_column = np.concatenate([column, extra_column])[order]
    frame = pd.DataFrame(
        {
            name: (values if name not in {"firm_id", "source"} else values.astype(str))
            for name, values in all_cols.items()
            if name != "wave"
        }
    )
    wave_values = all_cols["wave"].astype("int64")
    frame["wave"] = pd.Series(wave_values, dtype="Int64").mask(wave_values <= 0)
    for name in ("value_added", "rd_spend", "training_spend", "capital"):
        frame[name] = frame[name].astype("float64")
    is_bad = pd.notna(all_kind)
    bad = [(int(p), str(all_kind[p]), str(all_column[p])) for p in np.flatnonzero(is_bad)]
    valid_ids = np.unique(all_cols["firm_id"][~is_bad].astype(str))
    return frame, bad, valid_ids


def _pop_spare(firms: _Firms, country: int) -> str:
    return firms.spare_ids[int(country)].pop()


def _firms_table(
    rng: np.random.Generator, firms: _Firms
) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    n = len(firms.ids)
    n_bad = max(3, n // 4000)
    src = rng.choice(n, n_bad, replace=False)
    bad_ids = [_pop_spare(firms, firms.country[s]) for s in src]
    written = np.array([c.written_name for c in COUNTRIES], dtype=object)
    iso = np.array([c.iso3 for c in COUNTRIES], dtype=object)
    frame = pd.DataFrame(
        {
            "firm_id": np.concatenate([firms.ids, np.array(bad_ids, dtype=object)]).astype(str),
            "country": np.concatenate([iso[firms.country], written[firms.country[src]]]).astype(
                str
            ),
            "region": pd.Series(np.concatenate([firms.region, firms.region[src]]), dtype="str"),
            "isic4": np.concatenate([firms.isic4, firms.isic4[src]]).astype(str),
            "founded_year": pd.array(
                np.concatenate([firms.founded_reported, firms.founded_reported[src]]),
                dtype="Int64",
            ),
        }
    )
    order = np.argsort(
        np.concatenate([np.arange(n), rng.uniform(0, n, n_bad) + 0.5]), kind="stable"
    )
    frame = frame.iloc[order].reset_index(drop=True)
    bad_pos = np.flatnonzero(order >= n)
    return frame, [(int(p), "bad_country", "country") for p in bad_pos]


def _participations_table(
    rng: np.random.Generator,
    firms: _Firms,
    log_defl: np.ndarray,
    first_year: int,
    last_year: int,
) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    b = np.flatnonzero(firms.program >= 0)
    prog = firms.program[b]
    g = firms.entry[b]
    start = _dates(g, firms.start_day[b])
    duration = rng.integers(30, 541, len(b))
    end = start + duration.astype("timedelta64[D]")
    ongoing = (end > np.datetime64(f"{last_year}-12-31")) | (rng.random(len(b)) < 0.03)
    cost, contribution = _costs(rng, prog, g - first_year, log_defl)
    pick = rng.integers(0, 60, len(b))
    service = np.array(
        [
            PROGRAMS[p].services[k % len(PROGRAMS[p].services)]
            for p, k in zip(prog, pick, strict=True)
        ],
        dtype=object,
    )

    # planted: later spells of real beneficiaries
    n_each = max(2, len(b) // 500)
    picks = rng.choice(len(b), 2 * n_each, replace=False)
    up, ebs = picks[:n_each], picks[n_each:]
    up_start = start[up] + rng.integers(180, 541, n_each).astype("timedelta64[D]")
    up_end = up_start + rng.integers(30, 201, n_each).astype("timedelta64[D]")
    ebs_start = start[ebs] + rng.integers(200, 601, n_each).astype("timedelta64[D]")
    ebs_end = ebs_start - rng.integers(1, 121, n_each).astype("timedelta64[D]")
    up_years = up_start.astype("datetime64[Y]").astype(int) + 1970 - first_year
    ebs_years = ebs_start.astype("datetime64[Y]").astype(int) + 1970 - first_year
    up_years = np.minimum(up_years, log_defl.shape[1] - 1)
    ebs_years = np.minimum(ebs_years, log_defl.shape[1] - 1)
    up_cost, up_contrib = _costs(rng, prog[up], up_years, log_defl)
    ebs_cost, ebs_contrib = _costs(rng, prog[ebs], ebs_years, log_defl)
    fake = np.array(
        [COUNTRIES[_COUNTRY_INDEX[PROGRAMS[p].country]].fake_program for p in prog[up]],
        dtype=object,
    )
    ids = np.array([p.program_id for p in PROGRAMS], dtype=object)

    firm_id = np.concatenate([firms.ids[b], firms.ids[b][up], firms.ids[b][ebs]])
    program_id = np.concatenate([ids[prog], fake, ids[prog[ebs]]])
    starts = np.concatenate([start, up_start, ebs_start])
    ends = np.concatenate([np.where(ongoing, np.datetime64("NaT"), end), up_end, ebs_end])
    kinds = np.array(
        [None] * len(b) + ["unknown_program"] * n_each + ["end_before_start"] * n_each, dtype=object
    )
    columns = np.array(
        [None] * len(b) + ["program_id"] * n_each + ["end_date"] * n_each, dtype=object
    )
    services = np.concatenate([service, service[up], service[ebs]])
    frame = pd.DataFrame(
        {
            "firm_id": firm_id.astype(str),
            "program_id": program_id.astype(str),
            "service": services.astype(str),
            "start_date": starts.astype("datetime64[ns]"),
            "end_date": ends.astype("datetime64[ns]"),
            "public_cost": np.concatenate([cost, up_cost, ebs_cost]),
            "firm_contribution": np.concatenate([contribution, up_contrib, ebs_contrib]),
        }
    )
    # agency export order: program, then start date, then firm
    prog_order = np.concatenate([prog, prog[up], prog[ebs]])
    order = np.lexsort((frame["firm_id"].to_numpy(), starts.astype("int64"), prog_order))
    frame = frame.iloc[order].reset_index(drop=True)
    kinds, columns = kinds[order], columns[order]
    bad_pos = np.flatnonzero(pd.notna(kinds))
    return frame, [(int(p), str(kinds[p]), str(columns[p])) for p in bad_pos]


def _costs(
    rng: np.random.Generator, prog: np.ndarray, year_index: np.ndarray, log_defl: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """public_cost and firm_contribution, program currency at current prices."""
    n = len(prog)
    median = np.array([p.cost_median for p in PROGRAMS])[prog]
    country = np.array([_COUNTRY_INDEX[p.country] for p in PROGRAMS])[prog]
    decimals = np.array([p.cost_decimals for p in PROGRAMS])[prog]
    lo = np.array([p.contribution_share[0] for p in PROGRAMS])[prog]
    hi = np.array([p.contribution_share[1] for p in PROGRAMS])[prog]
    cost = median * np.exp(log_defl[country, year_index] + rng.normal(0, 0.5, n))
    contribution = cost * rng.uniform(lo, hi)
    contribution[rng.random(n) < 0.05] = np.nan
    cost = np.where(decimals == 0, np.round(cost), np.round(cost, 2))
    contribution = np.where(decimals == 0, np.round(contribution), np.round(contribution, 2))
    return cost, contribution


def _dates(years: np.ndarray, day_of_year: np.ndarray) -> np.ndarray:
    jan1 = (np.asarray(years) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return jan1 + np.asarray(day_of_year).astype("timedelta64[D]")


# --- registry, budgets, comparison sample, survey, targets ---------------------------------


def _programs_table(first_year: int) -> pd.DataFrame:
    rows = []
    for p in PROGRAMS:
        c = COUNTRIES[_COUNTRY_INDEX[p.country]]
        rows.append(
            {
                "program_id": p.program_id,
                "agency": p.agency,
                "country": p.country,
                "name": p.name,
                "pillar": p.pillar,
                "instrument": p.instrument,
                "currency": c.currency,
                "start_year": first_year + p.start_offset,
                "end_year": pd.NA,
                "market_failure": p.market_failure,
                "targeting": p.targeting,
                "expected_short": p.expected_short,
                "expected_medium": p.expected_medium,
                "expected_long": p.expected_long,
            }
        )
    frame = pd.DataFrame(rows)
    frame["start_year"] = frame["start_year"].astype("int64")
    frame["end_year"] = frame["end_year"].astype("Int64")
    return frame


def _budgets_table(
    rng: np.random.Generator,
    participations: pd.DataFrame,
    log_defl: np.ndarray,
    first_year: int,
    last_year: int,
) -> pd.DataFrame:
    spend = (
        participations.assign(year=participations["start_date"].dt.year)
        .groupby(["program_id", "year"])["public_cost"]
        .sum()
    )
    rows = []
    for p in PROGRAMS:
        k = _COUNTRY_INDEX[p.country]
        for year in range(first_year + p.start_offset, last_year + 1):
            spent = float(spend.get((p.program_id, year), 0.0))
            setup = p.cost_median * np.exp(log_defl[k, year - first_year]) * rng.uniform(5, 15)
            budget = np.ceil(spent * rng.uniform(1.02, 1.15) + setup)
            rows.append((p.program_id, year, budget, np.round(budget * rng.uniform(0.07, 0.14))))
    frame = pd.DataFrame(rows, columns=["program_id", "year", "public_budget", "admin_cost"])
    return frame.astype({"year": "int64", "public_budget": "float64", "admin_cost": "float64"})


def _comparison_table(firms: _Firms, first_year: int) -> pd.DataFrame:
    frames = []
    for p in PROGRAMS:
        members = np.flatnonzero((firms.country == _COUNTRY_INDEX[p.country]) & (firms.program < 0))
        sampled = np.datetime64(f"{first_year + p.start_offset}-07-01", "ns")
        frames.append(
            pd.DataFrame(
                {
                    "firm_id": firms.ids[members].astype(str),
                    "program_id": p.program_id,
                    "wave": np.ones(len(members), dtype="int64"),
                    "source": "registry",
                    "sampled_on": np.full(len(members), sampled),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _client_survey_table(
    rng: np.random.Generator,
    firms: _Firms,
    panel: _Panel,
    participations: pd.DataFrame,
    years: np.ndarray,
) -> pd.DataFrame:
    b = np.flatnonzero(firms.program >= 0)
    lag = rng.integers(1, 3, len(b))
    survey_year = firms.entry[b] + lag
    answers = (rng.random(len(b)) < 0.8) & (survey_year <= firms.last_obs[b])
    b, lag, survey_year = b[answers], lag[answers], survey_year[answers]
    n = len(b)
    t = survey_year - years[0]
    sales0 = np.exp(panel.log_sales0[b, t])
    emp0 = np.exp(panel.log_emp0[b, t])
    sales = sales0 * np.exp(panel.tau_sales[b, t])
    emp = emp0 * np.exp(panel.tau_emp[b, t])
    cost = (
        participations.drop_duplicates("firm_id")  # the entry spell comes first for each firm
        .set_index("firm_id")["public_cost"]
        .reindex(firms.ids[b].astype(str))
        .to_numpy()
    )
    values = {
        "new_sales": (sales - sales0) * np.exp(rng.normal(np.log(5.0), 0.35, n)),
        "retained_sales": sales * rng.uniform(0.03, 0.2, n),
        "jobs_created": np.round(
            (emp - emp0) * np.exp(rng.normal(np.log(4.0), 0.4, n)) + rng.poisson(1.0, n)
        ),
        "jobs_retained": np.round(emp * rng.uniform(0.0, 0.15, n)),
        "cost_savings": sales * rng.uniform(0.002, 0.02, n),
        "investment": cost * np.exp(rng.normal(np.log(1.5), 0.5, n)),
    }
    frame = pd.DataFrame(
        {
            "firm_id": firms.ids[b].astype(str),
            "program_id": np.array([p.program_id for p in PROGRAMS], dtype=object)[
                firms.program[b]
            ].astype(str),
            "survey_date": _dates(survey_year, rng.integers(0, 365, n)).astype("datetime64[ns]"),
        }
    )
    for name, v in values.items():
        v = np.round(np.maximum(v, 0.0))
        v[rng.random(n) < 0.05] = np.nan
        frame[name] = v
    return frame.sort_values(["program_id", "survey_date", "firm_id"], ignore_index=True)


def _targets_table(
    rng: np.random.Generator, firms: _Firms, panel: _Panel, years: np.ndarray
) -> pd.DataFrame:
    k = [i for i, p in enumerate(PROGRAMS) if p.export_targets]
    b = np.flatnonzero(np.isin(firms.program, k))
    first_exports = rng.random(len(b)) < 0.3
    b = b[firms.exporter[b] | first_exports]
    t_base = firms.entry[b] - 1 - years[0]
    sales_base = np.exp(panel.log_sales0[b, t_base])
    target = np.where(
        firms.exporter[b],
        sales_base * firms.export_share[b] * rng.uniform(1.15, 1.6, len(b)),
        sales_base * rng.uniform(0.02, 0.06, len(b)),
    )
    due = _dates(firms.entry[b] + 2, np.full(len(b), 364))
    frame = pd.DataFrame(
        {
            "firm_id": firms.ids[b].astype(str),
            "program_id": np.array([p.program_id for p in PROGRAMS], dtype=object)[
                firms.program[b]
            ].astype(str),
            "metric": "exports",
            "target_value": np.round(target),
            "due_date": due.astype("datetime64[ns]"),
        }
    )
    return frame.sort_values(["program_id", "due_date", "firm_id"], ignore_index=True)


# --- truths ---------------------------------------------------------------------------------


def _true_effects_table(first_year: int, last_year: int) -> pd.DataFrame:
    rows = []
    max_e = last_year - (first_year + 2)
    for p in PROGRAMS:
        for outcome, path in (
            ("log_sales", p.effect_sales),
            ("log_employment", p.effect_employment),
        ):
            for e in range(max_e + 1):
                rows.append((p.program_id, outcome, e, float(path[min(e, MAX_EVENT_TIME)])))
    frame = pd.DataFrame(rows, columns=["program_id", "outcome", "event_time", "effect"])
    return frame.astype({"event_time": "int64"})


def _true_att_simple(
    firms: _Firms, valid_firm_ids: np.ndarray, true_effects: pd.DataFrame, last_year: int
) -> pd.DataFrame:
    """CS simple aggregation target: post cells weighted by cohort size p_g (in the panel)."""
    in_panel = np.isin(firms.ids.astype(str), valid_firm_ids)
    effects = true_effects.set_index(["program_id", "outcome", "event_time"])["effect"]
    rows = []
    for k, p in enumerate(PROGRAMS):
        cohorts, sizes = np.unique(firms.entry[(firms.program == k) & in_panel], return_counts=True)
        for outcome in OUTCOMES_MEASURED:
            num = den = 0.0
            for g, p_g in zip(cohorts, sizes, strict=True):
                for t in range(int(g), last_year + 1):
                    num += p_g * effects[(p.program_id, outcome, t - int(g))]
                    den += p_g
            rows.append((p.program_id, outcome, num / den))
    return pd.DataFrame(rows, columns=["program_id", "outcome", "att"])


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _tax_ids(rng: np.random.Generator, iso3: str, n: int) -> np.ndarray:
    """Unique, check-digit-valid company tax numbers in the country's usual layout."""
    if iso3 == "CHL":  # RUT 76.xxx.xxx-D / 77.xxx.xxx-D, modulo 11 check digit
        body = 76_000_000 + rng.choice(2_000_000, n, replace=False)
        digits = _digits(body, 8)
        weights = np.array([3, 2, 7, 6, 5, 4, 3, 2])
        dv = 11 - (digits @ weights) % 11
        dv_text = np.where(dv == 11, "0", np.where(dv == 10, "K", dv.astype(str)))
        return np.array(
            [
                f"{x // 1_000_000}.{x // 1000 % 1000:03d}.{x % 1000:03d}-{d}"
                for x, d in zip(body, dv_text, strict=True)
            ],
            dtype=object,
        )
    if iso3 == "PER":  # RUC 20 + 8 digits + check digit (companies start with 20)
        body = 20_00000000 + rng.choice(100_000_000, n, replace=False)
        digits = _digits(body, 10)
        dv = 11 - (digits @ np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2])) % 11
        dv = np.where(dv == 10, 0, np.where(dv == 11, 1, dv))
        return np.array([f"{x}{d}" for x, d in zip(body, dv, strict=True)], dtype=object)
    if iso3 == "BRA":  # CNPJ base 8 digits, branch 0001, two modulo 11 check digits
        base = 10_000_000 + rng.choice(90_000_000, n, replace=False)
        digits = np.concatenate([_digits(base, 8), np.tile([0, 0, 0, 1], (n, 1))], axis=1)
        r1 = (digits @ np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])) % 11
        d1 = np.where(r1 < 2, 0, 11 - r1)
        digits = np.concatenate([digits, d1[:, None]], axis=1)
        r2 = (digits @ np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])) % 11
        d2 = np.where(r2 < 2, 0, 11 - r2)
        return np.array(
            [
                f"{x // 1_000_000:02d}.{x // 1000 % 1000:03d}.{x % 1000:03d}/0001-{a}{c}"
                for x, a, c in zip(base, d1, d2, strict=True)
            ],
            dtype=object,
        )
    raise ValueError(f"no tax id layout for {iso3}")


def _digits(numbers: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype="int64")
    return (np.asarray(numbers, dtype="int64")[:, None] // powers) % 10
