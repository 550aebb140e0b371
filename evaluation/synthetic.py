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
value_added = a firm share (0.22-0.48, always < sales) of sales; exports = a firm export
share of sales (beta(2, 4), yearly noise) in the years the firm exports, 0 in the others
(see "Export status"); rd_spend > 0 only for ~12% of firms, and not every year;
training_spend a firm share of the wage bill for about half of the firms; capital = a firm
capital-output ratio
times *counterfactual* sales. 2% of sales and, independently, 2% of employment cells are
missing at random. `source` is the country's channel (CHL "tax", PER "survey" with
wave = year - first_year + 1, BRA "registry").

Export status (the `exports` > 0 years; the pipeline's outcome `exporter`, export
propensity): a two-state Markov chain per firm, so firms start and stop exporting. Annual
hazards p_in = logistic(-3.0 + 0.8 z_i + 0.4 zp_i) of starting (bounded to 0.2%-24%) and
p_out = logistic(-1.6 - 0.5 z_i - 0.3 zp_i) of stopping (6%-60%), zp_i = p_i / sd(p): larger,
more productive firms enter more and exit less. The chain starts from its stationary share
pi_i = p_in / (p_in + p_out) in first_year, so without a program P(exporting) = pi_i every
year (parallel trends hold for the share too). About 31% of firm-years export; each year
~5% of non-exporters start and ~12% of exporters stop; ~40% of firms switch at least once.
Participation in SYN-CHL-PDP raises the entry hazard from t-1 to t by
(delta_t - lam delta_{t-1}) / (1 - pi_i - delta_{t-1}), lam = 1 - p_in - p_out, delta_t the
planted effect on the exporting share at t - g (table below): exactly the rise that makes
P(exporting in t) = pi_i + delta_t for every beneficiary, so the effect in percentage points
is homogeneous, as the effects on logs are. No outcome is constant within firms.

Participation (`participations`): each program enrols about 9-11% of its country's firms in
staggered entry cohorts g inside its window (CHL first_year+2 .. last_year-4, PER
first_year+3 .. last_year-2, BRA first_year+2 .. last_year-2; with the defaults 2012-2022),
never in first_year or first_year+1, so every cohort has pre-periods. A firm enters at most
once and only a program of its own country, and only if it is observed at g-1 and g; the
two programs for micro and small firms (SYN-PER-VOUCHER, SYN-BRA-SEBRAETEC) take only
firms whose permanent size exp(a_i) is under 100 employees. Within a cohort, firms are
drawn without replacement with probability proportional to
exp(0.5 z_i + 0.4 p_i / sd(p)): SELECTION ON THE PERMANENT SIZE AND PRODUCTIVITY EFFECTS ONLY.
A naive beneficiary-vs-rest comparison is therefore biased upward, while parallel trends hold
within a country (shocks and noise are independent of treatment). start_date falls in the
entry year; end_date 30-540 days later (empty when after `last_year`, or 3% at random);
public_cost in the program's currency at current prices: a program median at first_year
prices (CLP 40 million, PEN 28,000, BRL 30,000) x the deflator x a lognormal factor (sd 0.5);
in constant 2020 USD, per firm, about CHL $70,000 median ($80,000 mean: a supplier
development matching grant), PER $11,000 ($12,800: a voucher), BRA $13,000 ($15,000:
subsidised technical assistance). firm_contribution is a program-specific share of it (5%
empty).

Planted true effects (table `true_effects`, event time e = t - g, constant from e = 4 on;
no anticipation). log_sales and log_employment in log points, applied as exp(effect) to the
treated firm's own employment and sales for t >= g; exporter on the exporting share
(0.09 = 9 percentage points), through the entry hazard above. wage_bill and training_spend
move with employment; value_added, exports and rd_spend move with sales; capital does not
move.

=================  ==============  =====  =====  =====  =====  =====
program_id         outcome         e=0    e=1    e=2    e=3    e>=4
=================  ==============  =====  =====  =====  =====  =====
SYN-CHL-PDP        log_sales       0.01   0.02   0.03   0.035  0.04
SYN-CHL-PDP        log_employment  0.005  0.015  0.025  0.035  0.04
SYN-CHL-PDP        exporter        0.02   0.04   0.06   0.08   0.09
SYN-PER-VOUCHER    log_sales       0.01   0.02   0.025  0.03   0.03
SYN-PER-VOUCHER    log_employment  0.02   0.04   0.05   0.06   0.06
SYN-BRA-SEBRAETEC  log_sales       0.01   0.015  0.02   0.025  0.025
SYN-BRA-SEBRAETEC  log_employment  0      0      0.001  0.001  0.001
=================  ==============  =====  =====  =====  =====  =====

(exporter is 0 for the two other programs; those rows are in `true_effects` too.) The
supplier development program raises sales, jobs and exporting; the vouchers raise hiring
more than sales; the Brazilian technical assistance raises sales with a near-zero
employment effect, so its cost per job is huge and its interval unbounded above. Effects
and costs are set so that returns land where the published benchmarks are (US MEP $30 of
sales per $1 and $2,067 per job, both gross self-reports; UK MAS $6.2 of value added; Canada
IRAP $12): with the defaults (seed 2024, 20,000 firms) `true_roi` gives counterfactual
sales per public dollar of 15.5 (CHL), 18.4 (PER), 21.6 (BRA); value added per dollar 5.4,
6.6, 7.8; cost per job $45,000 (CHL), $8,100 (PER), $548,000 (BRA). There, the planted
simple ATTs of log sales and log employment (and of exporter for CHL) are 4 to 13 times
the standard errors of their estimates, so their 95% intervals exclude zero, except BRA
employment. Across seeds at 3,000 firms the medians are similar (benchmarks/roi_coverage.py).

`true_att_simple`: for each program and outcome (log_sales, log_employment, exporter), sum
over post cells (g, t), g <= t <= last_year, of p_g * effect(t - g), divided by the sum of
p_g over those cells, where p_g is
the number of the program's cohort-g beneficiaries that have valid rows in `outcomes`.
Because effects are homogeneous within cohort and event time, this is exactly what the
Callaway-Sant'Anna "simple" aggregation (never-treated comparison = the program's
`comparison_sample`) targets on this sample.

`true_roi` (file true_roi.csv): for each program, the planted incremental sales and value
added (constant 2020 USD, summed over the beneficiaries' post-entry firm-years), jobs in the
last year, the public cost they are divided by, and the ratios sales_per_dollar,
value_added_per_dollar and cost_per_job, computed from the planted effects and the levels
the tables record (formula: `true_roi_table`). It is what the log-scale totals of
`evaluation.roi` estimate and what benchmarks/roi_coverage.py takes as the truth.

Other entities. `comparison_sample`: for each program, every non-beneficiary firm of its
country (source "registry", wave 1, sampled_on 1 July of the program's start year).
`program_budgets`: per program and year from its start year, public_budget = the year's
summed public_cost x U(1.02, 1.15) plus a set-up outlay (so always >= the year's public_cost),
admin_cost 7-14% of it. `targets`: export targets (metric "exports", due 31 December of
g+2) for the export-oriented program SYN-CHL-PDP, set on the year before entry (g-1; none
for a cohort entering in first_year): every beneficiary exporting in g-1 (15-60% above the
exports `outcomes` records for it in g-1, before rounding) and 30% of those not exporting
then (first exports of 2-6% of its sales in g-1).

Client survey (`client_survey`, MEP style: gross, self-reported, selective). Each
beneficiary is asked once, in year g+1 or g+2 (equally likely); survey_date falls in that
year, and every figure it reports (new_sales, retained_sales, jobs_created, ...) refers to
THAT CALENDAR YEAR, in the program's currency at current prices, like `outcomes`.

- Selective response: a firm alive then answers with probability
  logistic(1.5 + 0.8 z), z = its log employment in g-1 standardized among the program's
  beneficiaries: about 77% answer, and respondents are larger before entry than
  non-respondents (by ~0.5 log points of employment and ~0.6 of sales with the defaults).
- Claims vs records. For respondent i with survey year s, its recorded change is
  R_i = sales_is - sales_i,g-1 from `outcomes` (base year g for a cohort entering in
  first_year), at current prices, and R*_i = sales_is - sales_i,g-1 x D_s / D_g-1 at the
  survey year's prices (D the deflator: the same comparison as in constant dollars, where
  R*_i <= R_i); its true incremental sales I_i = sales_is (1 - e^-tau_sales(s - g)) (that
  year's sales minus its counterfactual). A gross claim G_i = I_i x lognormal(median 5,
  sd 0.35) is the MEP-style self-report, and K_i = sales_is x U(0.03, 0.2) a loose
  retained-sales claim. Exactly round(q_p x respondents) of each program's respondents,
  drawn at random, are OVER-CLAIMERS: new_sales = max(G_i, U(1.1, 1.5) x max(R_i, 0)) and
  retained_sales = max(K_i, U(1.1, 1.5) x max(R_i, 0)), each alone above the change. The
  others stay under it: new_sales = min(G_i, U(0.3, 0.6) x max(R*_i, 0)), retained_sales =
  min(K_i, U(0, 0.3) x max(R*_i, 0)), together at most 90% of the change (0 when sales
  fell). Planted shares q_p (`OVERCLAIM_SHARE`): SYN-CHL-PDP 60%, SYN-PER-VOUCHER 80%,
  SYN-BRA-SEBRAETEC 70%: most claims exceed the records, as the MEP's inspector general
  found. So the share of respondents whose claim is POSITIVE AND ABOVE THEIR RECORDED
  CHANGE is q_p whichever way the claim is read: new_sales alone or new +
  retained sales (an empty item counting as 0), at current prices or in constant dollars
  (evaluation.claims' reading: new + retained, constant USD), among answers whose two
  sales cells are valid: within ~1 percentage point at 20,000 firms and ~3 at 3,000 (the
  ~10% of answers without a comparison drop out at random). Reading "above" as
  new_sales > R_i even for a claim of 0 after a fall adds ~2-7 points. Claims are gross:
  per firm, new_sales is a median ~5-13 times the true incremental sales and in total
  ~5-15 times (new + retained: ~8-30 times), as most respondents claim more than their
  sales grew at current prices. With the defaults, the self-reported (new + retained)
  sales per public dollar are ~23 (CHL), ~49 (PER), ~62 (BRA), above the counterfactual
  returns, and the self-reported cost per job ~$7,400, $1,300, $4,200 (MEP: $2,067).
- jobs_created = true incremental jobs times a factor with median 4 plus Poisson(1) noise
  (no over-claiming planted against the recorded change in employment); jobs_retained,
  cost_savings and investment are loose shares of the firm's size or of public_cost; 5% of each item's answers empty (exactly: round(0.05 x respondents), at
  random).

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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from schemas.contract import ENTITIES

__all__ = [
    "INVALID_KINDS",
    "PROGRAMS",
    "TRUE_ROI_METRICS",
    "DemoData",
    "contract_columns",
    "generate_demo",
    "true_roi_table",
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
OUTCOMES_MEASURED = ("log_sales", "log_employment", "exporter")
PRICE_BASE_YEAR = 2020  # constant US dollars of this year in `true_roi` (as the pipeline's)
MAX_EVENT_TIME = 4  # effects are constant from this many years after entry on
EXIT_HAZARD = 0.03
MISSING_SHARE = 0.02
INVALID_OUTCOME_SHARE = 0.005
NA_TEXTS = ("n/d", "s/i", "sin dato", "ND", "#VALUE!")  # none of them is a pandas NA token
TEXT_COLUMNS = ("employment", "sales", "wage_bill", "exports")  # may hold planted text

# Export status: a Markov chain per firm; logit coefficients (intercept, standardized size,
# standardized productivity) of the annual hazards of starting and of stopping to export.
EXPORT_IN = (-3.0, 0.8, 0.4)
EXPORT_OUT = (-1.6, -0.5, -0.3)
# Client survey: P(answer) = logistic(intercept + slope * z), z = standardized log employment
# in the year before entry among the program's beneficiaries; and the share of respondents
# planted as over-claimers (new_sales above the recorded change in sales), per program.
RESPONSE_INTERCEPT, RESPONSE_SLOPE = 1.5, 0.8
OVERCLAIM_SHARE = {"SYN-CHL-PDP": 0.60, "SYN-PER-VOUCHER": 0.80, "SYN-BRA-SEBRAETEC": 0.70}

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
    max_employees: float | None  # eligibility: permanent size below this (None: no cap)
    cost_decimals: int
    contribution_share: tuple[float, float]  # firm_contribution / public_cost
    services: tuple[str, ...]
    effect_sales: tuple[float, ...]  # log points at e = 0..MAX_EVENT_TIME
    effect_employment: tuple[float, ...]
    effect_exporter: tuple[float, ...]  # on the exporting share (0.01 = 1 percentage point)
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
        cost_median=40e6,
        max_employees=None,
        cost_decimals=0,
        contribution_share=(0.3, 0.7),
        services=(
            "Supplier development plan: diagnosis",
            "Supplier development plan: implementation",
            "Quality and safety standards for the buyer",
            "Supplier certification support",
        ),
        effect_sales=(0.01, 0.02, 0.03, 0.035, 0.04),
        effect_employment=(0.005, 0.015, 0.025, 0.035, 0.04),
        effect_exporter=(0.02, 0.04, 0.06, 0.08, 0.09),
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
        cost_median=28e3,
        max_employees=100.0,
        cost_decimals=2,
        contribution_share=(0.1, 0.3),
        services=(
            "Diagnostic voucher",
            "Training voucher",
            "Technical assistance voucher",
            "Innovation voucher",
        ),
        effect_sales=(0.01, 0.02, 0.025, 0.03, 0.03),
        effect_employment=(0.02, 0.04, 0.05, 0.06, 0.06),
        effect_exporter=(0.0,) * 5,
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
        cost_median=30e3,
        max_employees=100.0,
        cost_decimals=2,
        contribution_share=(0.25, 0.55),
        services=(
            "Lean production consultancy",
            "Quality management (ISO 9001)",
            "Product design",
            "Energy efficiency",
            "Process automation",
        ),
        effect_sales=(0.01, 0.015, 0.02, 0.025, 0.025),
        effect_employment=(0.0, 0.0, 0.001, 0.001, 0.001),
        effect_exporter=(0.0,) * 5,
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
    included. true_effects: program_id, outcome ("log_sales" | "log_employment" |
    "exporter"), event_time, effect. true_att_simple: program_id, outcome, att.
    planted_invalid: entity, row (0-based position in tables[entity]), kind, column.
    settings: the arguments of `generate_demo` that produced the data, and the price base
    year of `true_roi`. true_roi: program_id, metric, truth (see `TRUE_ROI_METRICS`); empty
    when the data were not made by `generate_demo` (a caller's own `DemoData`).
    """

    tables: dict[str, pd.DataFrame]
    true_effects: pd.DataFrame
    true_att_simple: pd.DataFrame
    planted_invalid: pd.DataFrame
    settings: Mapping[str, int] = field(default_factory=dict)
    true_roi: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["program_id", "metric", "truth"])
    )


@cache
def _contract_columns(name: str) -> tuple[str, ...]:
    return tuple(ENTITIES[name].model.to_schema().columns)


def contract_columns(name: str) -> list[str]:
    """Column names of an input entity, in contract order (optional columns included)."""
    return list(_contract_columns(name))


def generate_demo(
    seed: int = 2024,
    n_firms: int = 20_000,
    first_year: int = 2010,
    last_year: int = 2024,
    *,
    cohorts: Mapping[str, Sequence[int]] | None = None,
    treated_share: Mapping[str, float] | None = None,
) -> DemoData:
    """Generate the synthetic MES portfolio: entities, planted effects and invalid rows.

    Deterministic: the same arguments give identical frames. See the module docstring for
    the data-generating process and the planted truths.

    Options for submission shapes the defaults do not have (tests/shapes.py); left out,
    the output is what it always was:

    * ``cohorts``: program_id -> the entry years its beneficiaries are spread over
      (instead of the program's window), e.g. one cohort, or entry in ``first_year``. A
      firm entering in ``first_year`` needs only to be observed then (there is no year
      before); such a cohort has no pre-entry year, so ``true_att_simple`` leaves it out
      (NaN when it is the program's only cohort).
    * ``treated_share``: program_id -> share of its country's firms that join it.
    """
    if last_year - first_year < 6:
        raise ValueError("need at least 7 years (first_year..last_year) for staggered cohorts")
    if n_firms < 500:
        raise ValueError("n_firms must be at least 500")
    known = {p.program_id for p in PROGRAMS}
    for option in (cohorts or {}, treated_share or {}):
        unknown = sorted(set(option) - known)
        if unknown:
            raise ValueError(f"unknown program {unknown[0]!r}; known: {', '.join(sorted(known))}")
    for program_id, years_of_entry in (cohorts or {}).items():
        if not years_of_entry or not all(first_year <= g <= last_year for g in years_of_entry):
            raise ValueError(
                f"cohorts of {program_id}: entry years must lie in {first_year}..{last_year}"
            )
    for program_id, share in (treated_share or {}).items():
        if not 0 < share < 1:
            raise ValueError(f"treated_share of {program_id} must be between 0 and 1")
    rng = np.random.default_rng(seed)
    years = np.arange(first_year, last_year + 1)

    macro, log_defl = _macro(rng, years)
    firms = _draw_firms(rng, n_firms, first_year, last_year)
    _assign_participation(rng, firms, first_year, last_year, cohorts or {}, treated_share or {})
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
    first_cohort = min([first_year + 2] + [min(g) for g in (cohorts or {}).values()])
    true_effects = _true_effects_table(first_cohort, last_year)
    true_att = _true_att_simple(firms, valid_firm_ids, true_effects, first_year, last_year)
    price_base_year = min(max(PRICE_BASE_YEAR, first_year), last_year)
    planted = planted.reset_index(drop=True)
    return DemoData(
        tables=tables,
        true_effects=true_effects,
        true_att_simple=true_att,
        planted_invalid=planted,
        settings={
            "seed": seed,
            "n_firms": n_firms,
            "first_year": first_year,
            "last_year": last_year,
            "price_base_year": price_base_year,
        },
        true_roi=true_roi_table(tables, planted, true_effects, price_base_year),
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
    export_in: np.ndarray  # annual hazard of starting to export (untreated)
    export_out: np.ndarray  # annual hazard of stopping
    export_start: np.ndarray  # uniform draw of the status in first_year
    export_share: np.ndarray  # exports / sales when exporting (before yearly noise)
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
    export_start = rng.random(n)
    export_in, export_out = _export_hazards(z_size, z_prod)
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
        export_in=export_in,
        export_out=export_out,
        export_start=export_start,
        export_share=export_share,
        program=np.full(n, -1),
        entry=np.zeros(n, dtype=int),
        spare_ids=spare,
    )


def _export_hazards(z_size: np.ndarray, z_prod: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Annual hazards of starting and of stopping to export, without any program: entry is
    likelier, and exit rarer, for larger and more productive firms. Bounded so that the
    stationary exporting share p_in / (p_in + p_out) stays below 0.8."""
    export_in = np.clip(
        _logistic(EXPORT_IN[0] + EXPORT_IN[1] * z_size + EXPORT_IN[2] * z_prod), 0.002, 0.24
    )
    export_out = np.clip(
        _logistic(EXPORT_OUT[0] + EXPORT_OUT[1] * z_size + EXPORT_OUT[2] * z_prod), 0.06, 0.6
    )
    return export_in, export_out


def _assign_participation(
    rng: np.random.Generator,
    firms: _Firms,
    first_year: int,
    last_year: int,
    cohort_years: Mapping[str, Sequence[int]],
    treated_share: Mapping[str, float],
) -> None:
    """Staggered entry with selection on the permanent size and productivity effects."""
    log_weight = 0.5 * firms.z_size + 0.4 * firms.prod / firms.prod.std()
    for k, prog in enumerate(PROGRAMS):
        in_country = firms.country == _COUNTRY_INDEX[prog.country]
        small = (
            firms.size < np.log(prog.max_employees)
            if prog.max_employees is not None
            else np.ones(len(firms.size), dtype=bool)
        )
        if prog.program_id in cohort_years:
            cohorts = np.unique(np.asarray(cohort_years[prog.program_id], dtype=int))
        else:
            cohorts = _cohorts(prog, first_year, last_year)
        tilt = np.clip(1 + prog.cohort_slope * (cohorts - cohorts.mean()), 0.2, None)
        share = treated_share.get(prog.program_id, prog.treated_share)
        n_treat = round(share * in_country.sum())
        counts = rng.multinomial(n_treat, tilt / tilt.sum())
        for g, n_g in zip(cohorts, counts, strict=True):
            # observed the year before entry (or, entering in first_year, in first_year)
            eligible = np.flatnonzero(
                in_country
                & small
                & (firms.program < 0)
                & (firms.first_obs <= max(g - 1, first_year))
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
    exporter: np.ndarray  # export status (bool), program effect included
    exports: np.ndarray | None = None  # exports as recorded before rounding (set with outcomes)


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
    delta = np.where(post, _effect_matrix("effect_exporter")[prog, e_cap], 0.0)
    exporter = _export_status(rng, firms, delta)
    return _Panel(alive, log_emp0, log_sales0, tau_emp, tau_sales, defl, exporter)


def _export_status(rng: np.random.Generator, firms: _Firms, delta: np.ndarray) -> np.ndarray:
    """Export status by firm and year: a two-state Markov chain started from its stationary
    distribution pi = p_in / (p_in + p_out) in first_year. A program raises a beneficiary's
    entry hazard in year t (from t-1) by

        h_t = (delta_t - lam * delta_{t-1}) / (1 - pi - delta_{t-1}),  lam = 1 - p_in - p_out,

    the one rise that makes P(exporting in t) = pi + delta_t exactly, for every firm, where
    delta_t is the planted effect at t - g (0 before entry): the effect on the exporting
    share is homogeneous, as the ones on logs are."""
    n, n_years = delta.shape
    p_in, p_out = firms.export_in[:, None], firms.export_out[:, None]
    pi = p_in / (p_in + p_out)
    lam = 1.0 - p_in - p_out
    before = np.concatenate([np.zeros((n, 1)), delta[:, :-1]], axis=1)
    rise = (delta - lam * before) / (1.0 - pi - before)
    if np.any(p_in + rise > 1.0):  # pi <= 0.8 and delta <= 0.09 keep it below 0.6
        raise ValueError("a planted export effect is too large for the export hazards")
    draws = rng.random((n, n_years))
    status = np.empty((n, n_years), dtype=bool)
    status[:, 0] = firms.export_start < pi[:, 0] + delta[:, 0]
    for t in range(1, n_years):
        start = draws[:, t] < p_in[:, 0] + rise[:, t]
        stay = draws[:, t] >= p_out[:, 0]
        status[:, t] = np.where(status[:, t - 1], stay, start)
    return status


def _outcome_values(
    rng: np.random.Generator,
    firms: _Firms,
    panel: _Panel,
    fi: np.ndarray,
    ti: np.ndarray,
    year: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each outcome column's values for the firm-years (`fi`, `ti`), before any planted
    invalid value (and `panel.exports` set, for the participations)."""
    n_rows = len(fi)
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
    exports = np.where(panel.exporter[fi, ti], sales_exact * share, 0.0)
    panel.exports = np.zeros(panel.alive.shape)
    panel.exports[fi, ti] = exports

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
    return cols


def _outcomes_table(
    rng: np.random.Generator, firms: _Firms, panel: _Panel, first_year: int
) -> tuple[pd.DataFrame, list[tuple[int, str, str]], np.ndarray]:
    """Outcomes panel with planted invalid rows; also the firm ids having valid rows.

    Memory: at a national register's size (10.7M firm-years at 1M firms) this is the
    generator's peak, so arrays are released as soon as the next step has what it needs:
    the firm-year values are computed in `_outcome_values` (its intermediates freed on
    return), and each column is concatenated with its extra rows and reordered one at a
    time, the arrays it came from released as it goes."""
    fi, ti = np.nonzero(panel.alive)  # firm-major, then year
    n_rows = len(fi)
    year = first_year + ti
    cols = _outcome_values(rng, firms, panel, fi, ti, year)
    n = len(firms.ids)

    # --- planted invalid rows
    n_bad = max(12, round(INVALID_OUTCOME_SHARE * n_rows))
    n_nan, n_neg, n_pairs = round(0.3 * n_bad), round(0.25 * n_bad), round(0.15 * n_bad)
    n_unknown = max(1, n_bad - n_nan - n_neg - 2 * n_pairs)
    complete = np.flatnonzero(~np.isnan(cols["employment"]) & ~np.isnan(cols["sales"]))
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
    del pristine  # the text columns' float values, now in `extra`

    # order: by firm (generation order) and year; a duplicate follows its twin, an unknown
    # firm's row sits at a random place among the firms
    order_firm = np.concatenate(
        [fi.astype(float), fi[dup_rows].astype(float), rng.uniform(0, n, n_unknown) + 0.5]
    )
    order_year = np.concatenate([year, year[dup_rows], year[unknown_src]])
    order_seq = np.concatenate([np.zeros(n_rows), np.ones(n_pairs), np.zeros(n_unknown)])
    order = np.lexsort((order_seq, order_year, order_firm))

    all_kind = np.concatenate([kind, extra_kind])[order]
    all_column = np.concatenate([column, extra_column])[order]
    is_bad = pd.notna(all_kind)
    all_cols: dict[str, np.ndarray] = {}
    for name in list(cols):  # one column at a time: its firm-year array released at once
        all_cols[name] = np.concatenate([cols.pop(name), extra.pop(name)])[order]
    # the firms with valid rows, each id converted to fixed-width text once (np.unique of
    # the rows' converted ids: the same sorted ids, without a text copy of every row)
    valid_ids = np.sort(pd.unique(all_cols["firm_id"][~is_bad]).astype(str))
    wave_values = all_cols.pop("wave").astype("int64")
    frame = pd.DataFrame(
        {
            # the ids as text straight from their objects (no fixed-width copy of every row)
            name: (values if name not in {"firm_id", "source"} else pd.array(values, dtype="str"))
            for name, values in all_cols.items()
        }
    )
    del all_cols
    frame["wave"] = pd.Series(wave_values, dtype="Int64").mask(wave_values <= 0)
    for name in ("value_added", "rd_spend", "training_spend", "capital"):
        frame[name] = frame[name].astype("float64")
    bad = [(int(p), str(all_kind[p]), str(all_column[p])) for p in np.flatnonzero(is_bad)]
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
    """MEP-style client survey: selective response, gross claims, planted over-claiming
    (module docstring, "Client survey")."""
    b = np.flatnonzero(firms.program >= 0)
    lag = rng.integers(1, 3, len(b))
    survey_year = firms.entry[b] + lag
    # selective response: larger firms (pre-entry employment, within the program) answer more
    t_pre = np.maximum(firms.entry[b] - 1, firms.first_obs[b]) - years[0]
    size_pre = panel.log_emp0[b, t_pre]
    z_pre = np.zeros(len(b))
    for k in range(len(PROGRAMS)):
        mine = firms.program[b] == k
        if mine.sum() > 1:
            z_pre[mine] = (size_pre[mine] - size_pre[mine].mean()) / size_pre[mine].std()
    p_answer = _logistic(RESPONSE_INTERCEPT + RESPONSE_SLOPE * z_pre)
    answers = (rng.random(len(b)) < p_answer) & (survey_year <= firms.last_obs[b])
    b, survey_year, t_pre = b[answers], survey_year[answers], t_pre[answers]
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
    # claims against records: the change in sales from the year before entry to the survey
    # year as the outcomes panel records it (before rounding and missing cells), at current
    # prices and at the survey year's prices (deflated: what a comparison in constant
    # dollars sees), and the true incremental sales that year
    sales_pre = np.exp(panel.log_sales0[b, t_pre])
    change = np.maximum(sales - sales_pre, 0.0)
    inflation = np.exp(panel.log_defl[b, t] - panel.log_defl[b, t_pre])
    real_change = np.maximum(sales - sales_pre * inflation, 0.0)  # <= change
    incremental = sales - sales0
    # exactly round(share x respondents) over-claimers per program, drawn at random
    over = np.zeros(n, dtype=bool)
    for k, p in enumerate(PROGRAMS):
        mine = np.flatnonzero(firms.program[b] == k)
        picked = rng.choice(mine, round(OVERCLAIM_SHARE[p.program_id] * len(mine)), replace=False)
        over[picked] = True
    gross = incremental * np.exp(rng.normal(np.log(5.0), 0.35, n))
    retained = sales * rng.uniform(0.03, 0.2, n)
    # an over-claimer's new and retained sales each exceed the change at current prices; an
    # honest respondent's two items together stay under 90% of the change at constant prices
    above = change * rng.uniform(1.1, 1.5, (2, n))
    below = real_change * np.array([rng.uniform(0.3, 0.6, n), rng.uniform(0.0, 0.3, n)])
    values = {
        "new_sales": np.where(over, np.maximum(gross, above[0]), np.minimum(gross, below[0])),
        "retained_sales": np.where(
            over, np.maximum(retained, above[1]), np.minimum(retained, below[1])
        ),
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
        v[rng.choice(n, round(0.05 * n), replace=False)] = np.nan  # 5% of each item empty
        frame[name] = v
    return frame.sort_values(["program_id", "survey_date", "firm_id"], ignore_index=True)


def _targets_table(
    rng: np.random.Generator, firms: _Firms, panel: _Panel, years: np.ndarray
) -> pd.DataFrame:
    k = [i for i, p in enumerate(PROGRAMS) if p.export_targets]
    b = np.flatnonzero(np.isin(firms.program, k))
    b = b[firms.entry[b] > years[0]]  # a target is set on pre-entry exports
    first_exports = rng.random(len(b)) < 0.3
    exporting = panel.exporter[b, firms.entry[b] - 1 - years[0]]  # in the year before entry
    b = b[exporting | first_exports]
    t_base = firms.entry[b] - 1 - years[0]
    exporting = panel.exporter[b, t_base]
    sales_base = np.exp(panel.log_sales0[b, t_base])
    assert panel.exports is not None
    target = np.where(
        exporting,
        panel.exports[b, t_base] * rng.uniform(1.15, 1.6, len(b)),
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


def _true_effects_table(first_cohort: int, last_year: int) -> pd.DataFrame:
    rows = []
    max_e = last_year - first_cohort
    for p in PROGRAMS:
        for outcome, path in (
            ("log_sales", p.effect_sales),
            ("log_employment", p.effect_employment),
            ("exporter", p.effect_exporter),
        ):
            for e in range(max_e + 1):
                rows.append((p.program_id, outcome, e, float(path[min(e, MAX_EVENT_TIME)])))
    frame = pd.DataFrame(rows, columns=["program_id", "outcome", "event_time", "effect"])
    return frame.astype({"event_time": "int64"})


def _true_att_simple(
    firms: _Firms,
    valid_firm_ids: np.ndarray,
    true_effects: pd.DataFrame,
    first_year: int,
    last_year: int,
) -> pd.DataFrame:
    """CS simple aggregation target: post cells weighted by cohort size p_g (in the panel).
    A cohort entering in first_year has no pre-entry year and is left out (as estimators
    drop it); a program with no other cohort has no target (NaN)."""
    in_panel = np.isin(firms.ids.astype(str), valid_firm_ids)
    effects = true_effects.set_index(["program_id", "outcome", "event_time"])["effect"]
    rows = []
    for k, p in enumerate(PROGRAMS):
        cohorts, sizes = np.unique(
            firms.entry[(firms.program == k) & in_panel & (firms.entry > first_year)],
            return_counts=True,
        )
        for outcome in OUTCOMES_MEASURED:
            num = den = 0.0
            for g, p_g in zip(cohorts, sizes, strict=True):
                for t in range(int(g), last_year + 1):
                    num += p_g * effects[(p.program_id, outcome, t - int(g))]
                    den += p_g
            rows.append((p.program_id, outcome, num / den if den else math.nan))
    return pd.DataFrame(rows, columns=["program_id", "outcome", "att"])


TRUE_ROI_METRICS = (
    "incremental_sales_usd",
    "incremental_value_added_usd",
    "jobs_last_year",
    "public_cost_usd",
    "sales_per_dollar",
    "value_added_per_dollar",
    "cost_per_job",
)


def true_roi_table(
    tables: Mapping[str, pd.DataFrame],
    planted_invalid: pd.DataFrame,
    true_effects: pd.DataFrame,
    price_base_year: int = PRICE_BASE_YEAR,
) -> pd.DataFrame:
    """The planted return per public dollar and cost per job of each program (long format:
    program_id, metric, truth), from the planted effects and the levels the tables record.

    On the valid rows (planted invalid rows left out, as a loader quarantines them), money
    in constant US dollars of `price_base_year` (factor = deflator_base / deflator_t /
    lcu_per_usd_base, from `macro`), for the beneficiaries B_p of program p with an entry
    year g_i after the panel's first year and at least one valid outcomes row, and with
    tau_y(e) the planted effect on ln y at e = t - g_i years since entry:

        incremental_sales_usd       = sum over i in B_p, t >= g_i of
                                      sales_usd_it * (1 - exp(-tau_sales(t - g_i)))
        incremental_value_added_usd = the same with value_added_usd_it (it moves with sales)
        jobs_last_year              = sum over i in B_p observed in T (the last year) of
                                      employment_iT * (1 - exp(-tau_employment(T - g_i)))
        public_cost_usd             = sum over i in B_p of the public cost of i's entry
                                      spell, converted at its start year's factor
        sales_per_dollar            = incremental_sales_usd / public_cost_usd
        value_added_per_dollar      = incremental_value_added_usd / public_cost_usd
        cost_per_job                = public_cost_usd / jobs_last_year (inf if no jobs)

    y (1 - e^-tau) is the part of the observed y the firm would not have had without the
    program; missing cells add nothing. These are the totals `evaluation.roi` estimates on
    the log scale, and what benchmarks/roi_coverage.py takes as the truth.
    """
    columns = ["program_id", "metric", "truth"]

    def valid(entity: str, columns: list[str] | None = None) -> pd.DataFrame:
        # only the columns used: a copy of the whole outcomes table is a national
        # register's generation peak
        frame = tables[entity] if columns is None else tables[entity][columns]
        rows = planted_invalid.loc[planted_invalid["entity"] == entity, "row"].to_numpy()
        return frame.drop(index=frame.index[rows.astype(int)])

    macro = tables["macro"]
    base = macro[macro["year"] == price_base_year].set_index("country")
    factors = macro.join(base[["deflator", "lcu_per_usd"]], on="country", rsuffix="_base")
    factors = factors.assign(
        factor=factors["deflator_base"] / factors["deflator"] / factors["lcu_per_usd_base"]
    )[["country", "year", "factor"]]
    first_year, last_year = int(macro["year"].min()), int(macro["year"].max())

    used = ["firm_id", "year", "sales", "value_added", "employment"]
    outcomes = valid("outcomes", used).merge(valid("firms")[["firm_id", "country"]], on="firm_id")
    outcomes = outcomes.merge(factors, on=["country", "year"], how="left")
    for name in ("sales", "value_added", "employment"):
        outcomes[name] = pd.to_numeric(outcomes[name], errors="coerce")
    spells = valid("participations").merge(
        tables["programs"][["program_id", "country"]], on="program_id"
    )
    spells = spells.assign(year=spells["start_date"].dt.year).merge(
        factors, on=["country", "year"], how="left"
    )
    spells["cost_usd"] = spells["public_cost"].astype(float) * spells["factor"]
    units = spells.groupby(["program_id", "firm_id"], as_index=False).agg(
        cohort=("year", "min"), cost_usd=("cost_usd", "sum")
    )
    observed = units["firm_id"].isin(outcomes["firm_id"].unique())
    units = units[(units["cohort"] > first_year) & observed]
    effects = true_effects.set_index(["program_id", "outcome", "event_time"])["effect"]

    rows = []
    for program_id in tables["programs"]["program_id"]:
        mine = units[units["program_id"] == program_id]
        cells = mine.merge(outcomes, on="firm_id")
        post = cells[cells["year"] >= cells["cohort"]]
        e = (post["year"] - post["cohort"]).to_numpy()

        def kept(outcome: str, e: np.ndarray = e, program_id: str = program_id) -> np.ndarray:
            path = effects.xs((program_id, outcome), level=["program_id", "outcome"])
            tau = path.reindex(np.minimum(e, path.index.max())).to_numpy(dtype=float)
            return -np.expm1(-tau)

        last = (post["year"] == last_year).to_numpy()
        sales = float(np.nansum(post["sales"] * post["factor"] * kept("log_sales")))
        value_added = float(np.nansum(post["value_added"] * post["factor"] * kept("log_sales")))
        jobs = float(np.nansum((post["employment"] * kept("log_employment"))[last]))
        cost = float(mine["cost_usd"].sum())
        if mine.empty:
            sales = value_added = jobs = cost = math.nan
        values = {
            "incremental_sales_usd": sales,
            "incremental_value_added_usd": value_added,
            "jobs_last_year": jobs,
            "public_cost_usd": cost,
            "sales_per_dollar": sales / cost if cost > 0 else math.nan,
            "value_added_per_dollar": value_added / cost if cost > 0 else math.nan,
            "cost_per_job": (cost / jobs if jobs > 0 else math.inf) if cost > 0 else math.nan,
        }
        rows += [(program_id, metric, values[metric]) for metric in TRUE_ROI_METRICS]
    return pd.DataFrame(rows, columns=columns)


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
