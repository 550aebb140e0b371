"""Power and minimum detectable effect (MDE) of the next evaluation, from the agency's panel.

Pure functions over a program's evaluation panel (one row per firm and year; columns
``firm_id``, ``year``, ``cohort`` = entry year, 0 for the comparison sample, and
``outcome``). Nothing here reads the warehouse; ``flows.cli plan`` does.

The estimator the numbers are about
-----------------------------------
A staggered design: cohorts of beneficiaries entering in years g, with N_g firms each,
N_T = sum N_g, and N_C comparison firms. For firm i and cohort g, with m pre-entry years
and r post-entry years (``--years``),

    d_i^g = mean(y_i,t; t = g .. g+r-1) - mean(y_i,t; t = g-m .. g-1)

over the years with an observed outcome; a firm with no pre or no post year in the window
drops out. The estimate is the cohort-size-weighted difference of mean changes

    tau = sum_g w_g [ mean(d_i^g; i in cohort g) - mean(d_j^g; j comparison) ],
    w_g = N_g / N_T,

with its firm-clustered standard error (influence functions summed within firm, since a
comparison firm serves every cohort). With m = 1 (the default) this is the pipeline's
Callaway & Sant'Anna (2021) simple ATT with never-treated comparisons and base year g-1,
restricted to r post years per cohort: on a balanced panel the two are equal. Larger m
gives the "average of pre years" DID of Burlig, Preonas & Woerman (2020).

Variance: Burlig, Preonas & Woerman (2020)
------------------------------------------
Burlig, F., Preonas, L. & Woerman, M. (2020), "Panel data and experimental design",
Journal of Development Economics 144, 102458 (doi:10.1016/j.jdeveco.2020.102458). For one cohort, a share P = N_T / J of
J firms treated, y_it = v_i + delta_t + omega_it with arbitrary serial correlation of
omega, their serial-correlation-robust ("SCR") difference-in-differences formula is

    Var(tau) = 1 / (P (1 - P) J) * [ (m + r) / (m r) sigma^2
                                      + (m - 1) / m psi^B + (r - 1) / r psi^A - 2 psi^X ]

with sigma^2 = Var(omega_it), psi^B, psi^A and psi^X the average covariances of omega
between two different pre years, two different post years, and a pre and a post year.
(It is the SCR DD formula that their Stata package ``pcpanel`` implements as
``pc_dd_analytic``; we have not been able to check its equation number in the published
version, so we cite it by name and derive it here.) Derivation: the bracket is Var(d_i)
= a' Sigma a for the contrast a = (-1/m on pre years, +1/r on post years), and the two
group means are independent, 1 / (P J) + 1 / ((1 - P) J) = 1 / (P (1 - P) J). The firm
effect v_i and the year effects delta_t cancel in the contrast, so only the serial
correlation of omega matters. The MDE at power 1 - beta and two-sided size alpha is

    MDE = (z_{1 - alpha/2} + z_{1 - beta}) * sqrt(Var(tau))      (normal approximation)

and the power against an effect E is Phi(E / SE - z) + Phi(-E / SE - z).

Estimating the components from the agency's panel
--------------------------------------------------
BPW estimate sigma^2 and the psi's from residuals after firm and year fixed effects and
correct the bias this causes (their Appendix E). We avoid that bias altogether: the
bracket depends on Sigma only through contrasts whose weights sum to zero, so it is a
function of the variogram v(k) = Var(omega_i,t+k - omega_it) / 2 alone:
a' Sigma a = -sum_s sum_t a_s a_t v(|s - t|). v(k) is estimated from the comparison
firms' own k-year differences, each centred across firms year by year (differencing
removes the firm effect, centring the year effect), pooling every year pair k apart
(stationarity). For display, sigma^2 is the variogram's plateau (its value at the longest
lag) and psi(k) = sigma^2 - v(k); any constant added to every covariance cancels in the
formula, so this choice changes no MDE.

Staggered cohorts generalize the formula: the treated part is sum_g w_g^2 Var(d^g) / N_g,
and the comparison part is Var(sum_g w_g mean_j d_j^g), in which the same comparison firm
appears in every cohort's window: its contrasts are stacked on the calendar years and the
covariance across overlapping windows is kept.

Attrition (firms exit, cells are missing) enters the same way the estimator meets it: a
firm's contrast uses its observed years (more variance) and firms without a pre or post
year drop out. Both are measured on the comparison firms' observation patterns: for the
beneficiaries, among the firms alive in year g-1 (they are enrolled then), in the cohort's
own window when it lies inside the panel, otherwise pooled over every window of the same
length; for the comparison firms, exactly, firm by firm. The ratio of that variance to a
balanced panel's is an effective-sample factor: N_eff = N / factor.

Sample size: with cohort shares and the comparison-to-treated ratio k held as in the
panel, Var(tau) = (A + B / k) / N_T, so the beneficiaries needed for power 1 - beta
against E are N_T = (z_{1-alpha/2} + z_{1-beta})^2 (A + B / k) / E^2, and k N_T
comparison firms.

Pre-trend test: Roth (2022)
---------------------------
Roth, J. (2022), "Pretest with caution: event-study estimates after testing for parallel
trends", American Economic Review: Insights 4(3), 305-322. The event-study leads
beta_e = mean(y_{g+e} - y_{g-1}) treated - comparison, e = -K .. -2, have a covariance
implied by the same variogram (contrasts unit(g+e) - unit(g-1) per cohort, cohorts with
that many pre years, comparison part stacked as above, attrition factors applied). The
joint Wald test at 5% is chi^2(K - 1) under parallel trends; against a linear violation
beta_e = delta (e + 1) it is noncentral chi^2 with lambda = delta^2 s' Omega^{-1} s,
s_e = e + 1. We report its power at a slope and the slopes it detects with 50% and 80%
power, with the bias such a trend puts in the post-period average estimate,
delta (r + 1) / 2: Roth's "what violation could the pre-test have detected". The Wald
statistic is the same for the pipeline's leads relative to the previous year (an
invertible transformation of these).

Verification: ``placebo_power`` draws placebo cohorts of the planned sizes among the
comparison firms of the real panel, plants an effect E in their post-entry years,
estimates tau with its clustered SE and counts rejections (benchmarks/power_simulation.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from statistics import NormalDist

import numpy as np
import pandas as pd

__all__ = [
    "Components",
    "Design",
    "Plan",
    "PowerError",
    "bpw_bracket",
    "design_from_panel",
    "mde",
    "panel_query",
    "placebo_draws",
    "placebo_power",
    "plan",
    "power",
    "power_curve",
    "pretrend_leads",
    "pretrend_power",
    "pretrend_slope",
    "required_n",
    "variance_components",
]

ALPHA, POWER = 0.05, 0.80
MIN_COMPARISON = 20  # fewer comparison firms with two observed years give no usable variogram
_Z = NormalDist()


class PowerError(ValueError):
    """The panel cannot support a power calculation; the message says why."""


def panel_query(outcome: str) -> str:
    """The SQL that reads a power calculation's rows from the warehouse, for `outcome` (a
    column of `marts.mart_evaluation_panel`; parameter `$program`: a program id or null)."""
    from warehouse.db import quote_ident

    text = (resources.files("evaluation") / "sql" / "power_panel.sql").read_text(encoding="utf-8")
    return text.replace("{outcome}", quote_ident(outcome))


@dataclass(frozen=True)
class Components:
    """What the panel says about an outcome's noise: the variogram of the comparison
    firms' outcome and their observation patterns (for attrition).

    `variogram[k]` = Var(y_i,t+k - y_it) / 2 after year effects, k = 0 .. len(years) - 1;
    `pairs[k]` the firm-year pairs behind it; `alive` and `observed` are comparison firms
    x `years`: a row in the panel, and an observed outcome."""

    years: np.ndarray
    variogram: np.ndarray
    pairs: np.ndarray
    alive: np.ndarray
    observed: np.ndarray
    values: np.ndarray  # comparison firms x years, the outcome (NaN where missing)

    @property
    def sigma2(self) -> float:
        """Variance of the idiosyncratic noise: the variogram's plateau (longest lag with
        data), which is where serial correlation has died out."""
        usable = np.nonzero(self.pairs > 0)[0]
        return float(self.variogram[usable[-1]]) if len(usable) else float("nan")

    @property
    def n_firms(self) -> int:
        """Comparison firms with at least one observed outcome."""
        return int(self.observed.any(axis=1).sum())

    def lag_variogram(self, lags: np.ndarray) -> np.ndarray:
        """v(|lag|), extended past the longest estimated lag by its plateau."""
        lags = np.abs(np.asarray(lags))
        known = np.nonzero(self.pairs > 0)[0]
        last = known[-1] if len(known) else 0
        return np.asarray(self.variogram[np.minimum(lags, last)], dtype=float)


@dataclass(frozen=True)
class Design:
    """A staggered evaluation: cohorts (entry years) of `treated` beneficiaries each,
    `controls` comparison firms, `pre_years` (m) and `post_years` (r) per cohort."""

    cohorts: tuple[int, ...]
    treated: tuple[float, ...]
    controls: float
    pre_years: int
    post_years: int

    @property
    def n_treated(self) -> float:
        """Beneficiaries, all cohorts."""
        return float(sum(self.treated))

    @property
    def weights(self) -> np.ndarray:
        """Cohort weights w_g = N_g / N_T."""
        sizes = np.asarray(self.treated, dtype=float)
        return sizes / sizes.sum()

    def scaled(self, treated: float | None = None, controls: float | None = None) -> Design:
        """The same cohorts' shares with other totals of beneficiaries or comparison firms."""
        sizes = tuple(float(s) for s in self.weights * (treated or self.n_treated))
        return replace(self, treated=sizes, controls=float(controls or self.controls))


@dataclass(frozen=True)
class Plan:
    """A design's variance, Var(tau) = A / N_T + B / N_C, and what it rests on."""

    design: Design
    a: float  # treated part times N_T (attrition included)
    b: float  # comparison part times N_C (attrition included)
    bracket: float  # BPW's bracket, Var(d_i) on a balanced window
    sigma2: float
    psi_pre: float
    psi_post: float
    psi_cross: float
    treated_factor: float  # effective-sample factors of attrition (1 = none)
    comparison_factor: float
    missing_share: float  # share of firm-years missing in a beneficiary's window
    dropout_share: float  # share of enrolled firms without a pre or a post year

    def variance(self, treated: float | None = None, controls: float | None = None) -> float:
        """Var(tau) at these (or the design's) numbers of beneficiaries and comparisons."""
        n_t = treated or self.design.n_treated
        n_c = controls or self.design.controls
        return self.a / n_t + self.b / n_c

    def se(self, treated: float | None = None, controls: float | None = None) -> float:
        """Standard error of tau."""
        return math.sqrt(self.variance(treated, controls))


def _wide(frame: pd.DataFrame, years: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Firms x years: alive (a row), observed (a finite outcome), values (NaN if not)."""
    firms, firm_index = np.unique(frame["firm_id"].to_numpy(), return_inverse=True)
    col = frame["year"].to_numpy(dtype=int) - int(years[0])
    alive = np.zeros((len(firms), len(years)), dtype=bool)
    values = np.full((len(firms), len(years)), np.nan)
    alive[firm_index, col] = True
    y = pd.to_numeric(frame["outcome"], errors="coerce").to_numpy(dtype=float)
    values[firm_index, col] = np.where(np.isfinite(y), y, np.nan)
    return alive, np.isfinite(values), values


def _check_panel(panel: pd.DataFrame) -> None:
    missing = {"firm_id", "year", "cohort", "outcome"} - set(panel.columns)
    if missing:
        raise PowerError(f"the panel lacks the columns {', '.join(sorted(missing))}")
    if not len(panel):
        raise PowerError("the panel has no rows")


def variance_components(panel: pd.DataFrame) -> Components:
    """The outcome's variogram and observation patterns among the comparison firms
    (cohort 0) of one program's panel (see the module docstring)."""
    _check_panel(panel)
    years = np.arange(int(panel["year"].min()), int(panel["year"].max()) + 1)
    comparison = panel[pd.to_numeric(panel["cohort"]).fillna(0) == 0]
    alive, observed, values = _wide(comparison, years)
    if (observed.sum(axis=1) >= 2).sum() < MIN_COMPARISON:
        raise PowerError(
            f"fewer than {MIN_COMPARISON} comparison firms with two observed years: "
            "too few to estimate the outcome's serial correlation"
        )
    variogram = np.zeros(len(years))
    pairs = np.zeros(len(years), dtype=int)
    for k in range(1, len(years)):
        diff = values[:, k:] - values[:, :-k]  # (firms, year pairs k apart)
        n = np.isfinite(diff).sum(axis=0)
        keep = n >= 2
        if not keep.any():
            continue
        diff = diff[:, keep]
        # centring each year pair across firms removes the year effects
        centred = diff - np.nanmean(diff, axis=0)
        variogram[k] = 0.5 * np.nansum(centred**2) / (n[keep] - 1).sum()
        pairs[k] = int(n[keep].sum())
    return Components(years, variogram, pairs, alive, observed, values)


def _contrast(observed: np.ndarray, pre: slice, post: slice) -> np.ndarray:
    """Per firm, the weights of d_i on the window's years (rows of zeros if unusable)."""
    obs_pre = observed[:, pre].astype(float)
    obs_post = observed[:, post].astype(float)
    n_pre = obs_pre.sum(axis=1, keepdims=True)
    n_post = obs_post.sum(axis=1, keepdims=True)
    usable = (n_pre > 0) & (n_post > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w_pre = np.where(usable, -obs_pre / n_pre, 0.0)
        w_post = np.where(usable, obs_post / n_post, 0.0)
    return np.concatenate([w_pre, w_post], axis=1)


def _gram(components: Components, length: int) -> np.ndarray:
    """-v(|s - t|) on `length` consecutive years: a' G a = Var of a zero-sum contrast."""
    idx = np.arange(length)
    return -components.lag_variogram(idx[:, None] - idx[None, :])


def _quad(weights: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """Row by row, w' G w."""
    return np.einsum("is,st,it->i", weights, gram, weights)


def _treated_factor(
    components: Components, cohort: int, m: int, r: int, bracket: float
) -> tuple[float, float, float]:
    """Attrition of beneficiaries entering in `cohort`: (effective-sample factor, share
    of firm-years missing, share dropping out), from the comparison firms alive in the
    year before entry, in the cohort's window if inside the panel, else every window."""
    years = components.years
    length = m + r
    starts = [cohort - m - int(years[0])]
    if starts[0] < 0 or starts[0] + length > len(years):
        starts = list(range(0, len(years) - length + 1))
    gram = _gram(components, length)
    variances, usable_all, missing = [], [], []
    for s in starts:
        eligible = components.alive[:, s + m - 1]  # enrolled firms exist the year before
        obs = components.observed[eligible, s : s + length]
        weights = _contrast(obs, slice(0, m), slice(m, length))
        usable = np.abs(weights).sum(axis=1) > 0
        variances.append(_quad(weights[usable], gram))
        usable_all.append(usable)
        missing.append(1.0 - obs.mean() if obs.size else 1.0)
    usable = np.concatenate(usable_all)
    if not usable.any():
        return float("inf"), 1.0, 1.0
    mean_variance = float(np.concatenate(variances).mean())
    share = float(usable.mean())
    return mean_variance / (share * bracket), float(np.mean(missing)), 1.0 - share


def _window_start(components: Components, cohort: int, m: int, r: int) -> int:
    """Column of the window's first year; a window outside the panel is moved inside it
    (its observation patterns stand in for the future window's)."""
    start = cohort - m - int(components.years[0])
    return int(min(max(start, 0), len(components.years) - (m + r)))


def _comparison_variance(components: Components, design: Design) -> tuple[float, float]:
    """(N_C x the variance of the comparison part with the firms' own observation
    patterns, the same on a balanced panel)."""
    m, r = design.pre_years, design.post_years
    length, n_years = m + r, len(components.years)
    gram_all = _gram(components, n_years)
    observed = components.observed[components.observed.any(axis=1)]
    stacked = np.zeros((len(observed), n_years))
    for g, w in zip(design.cohorts, design.weights, strict=True):
        s = _window_start(components, g, m, r)
        weights = _contrast(observed[:, s : s + length], slice(0, m), slice(m, length))
        n_usable = int((np.abs(weights).sum(axis=1) > 0).sum())
        if n_usable:
            stacked[:, s : s + length] += w * weights / n_usable
    exact = float(_quad(stacked, gram_all).sum()) * len(observed)
    # balanced: every comparison firm in every window, at the cohorts' calendar years
    first = min(design.cohorts) - m
    span = max(design.cohorts) + r - first
    balanced = np.zeros(span)
    for g, w in zip(design.cohorts, design.weights, strict=True):
        s = g - m - first
        balanced[s : s + m] -= w / m
        balanced[s + m : s + length] += w / r
    ideal = float(balanced @ _gram(components, span) @ balanced)
    return exact, ideal


def _bpw_parts(components: Components, m: int, r: int) -> tuple[float, float, float, float]:
    """sigma^2, psi^B, psi^A, psi^X of BPW on an m + r window (psi(k) = sigma^2 - v(k))."""
    sigma2 = components.sigma2
    idx = np.arange(m + r)
    psi = sigma2 - components.lag_variogram(idx[:, None] - idx[None, :])
    pre, post = idx < m, idx >= m
    off = ~np.eye(m + r, dtype=bool)
    psi_b = float(psi[np.ix_(pre, pre)][off[np.ix_(pre, pre)]].mean()) if m > 1 else 0.0
    psi_a = float(psi[np.ix_(post, post)][off[np.ix_(post, post)]].mean()) if r > 1 else 0.0
    psi_x = float(psi[np.ix_(pre, post)].mean())
    return sigma2, psi_b, psi_a, psi_x


def bpw_bracket(
    sigma2: float, psi_pre: float, psi_post: float, psi_cross: float, m: int, r: int
) -> float:
    """BPW's bracket: Var(d_i) = (m+r)/(mr) s2 + (m-1)/m psiB + (r-1)/r psiA - 2 psiX."""
    return (
        (m + r) / (m * r) * sigma2 + (m - 1) / m * psi_pre + (r - 1) / r * psi_post - 2 * psi_cross
    )


def plan(components: Components, design: Design) -> Plan:
    """The design's variance from the panel's components (see the module docstring)."""
    m, r = design.pre_years, design.post_years
    if m < 1 or r < 1:
        raise PowerError("a design needs at least one pre-entry and one post-entry year")
    if m + r > len(components.years):
        raise PowerError(
            f"{m} pre and {r} post years need a panel of {m + r} years; it has "
            f"{len(components.years)}"
        )
    if not design.cohorts or design.n_treated <= 0 or design.controls <= 0:
        raise PowerError("a design needs beneficiaries and comparison firms")
    sigma2, psi_b, psi_a, psi_x = _bpw_parts(components, m, r)
    bracket = bpw_bracket(sigma2, psi_b, psi_a, psi_x, m, r)
    if not bracket > 0:
        raise PowerError("the outcome does not vary within firms: no variance to plan on")
    factors, missing, dropout = [], [], []
    for g in design.cohorts:
        f, miss, drop = _treated_factor(components, g, m, r, bracket)
        factors.append(f)
        missing.append(miss)
        dropout.append(drop)
    w = design.weights
    treated_factor = float(w @ np.asarray(factors))
    if not math.isfinite(treated_factor):
        raise PowerError("no firm of the panel is observed both before and after entry")
    exact, ideal = _comparison_variance(components, design)
    return Plan(
        design=design,
        a=bracket * treated_factor,
        b=exact,
        bracket=bracket,
        sigma2=sigma2,
        psi_pre=psi_b,
        psi_post=psi_a,
        psi_cross=psi_x,
        treated_factor=treated_factor,
        comparison_factor=exact / ideal if ideal > 0 else float("nan"),
        missing_share=float(w @ np.asarray(missing)),
        dropout_share=float(w @ np.asarray(dropout)),
    )


def _z(p: float) -> float:
    return _Z.inv_cdf(p)


def mde(
    the_plan: Plan,
    *,
    power_level: float = POWER,
    alpha: float = ALPHA,
    treated: float | None = None,
    controls: float | None = None,
) -> float:
    """Minimum detectable effect: (z_{1-alpha/2} + z_{power}) x SE."""
    return (_z(1 - alpha / 2) + _z(power_level)) * the_plan.se(treated, controls)


def power(
    the_plan: Plan,
    effect: float,
    *,
    alpha: float = ALPHA,
    treated: float | None = None,
    controls: float | None = None,
) -> float:
    """Power of the two-sided test at size `alpha` against a true effect `effect`."""
    ratio = abs(effect) / the_plan.se(treated, controls)
    z = _z(1 - alpha / 2)
    return _Z.cdf(ratio - z) + _Z.cdf(-ratio - z)


def required_n(
    the_plan: Plan, effect: float, *, power_level: float = POWER, alpha: float = ALPHA
) -> tuple[int, int]:
    """(beneficiaries, comparison firms) for `power_level` against `effect`, keeping the
    cohort shares and the ratio of comparison firms to beneficiaries of the design."""
    if effect == 0:
        raise PowerError("no sample detects an effect of 0")
    ratio = the_plan.design.controls / the_plan.design.n_treated
    z = _z(1 - alpha / 2) + _z(power_level)
    n_treated = z**2 * (the_plan.a + the_plan.b / ratio) / effect**2
    # the exact-power root is a hair below this (the other tail adds power): rounding up
    # the normal-approximation root keeps power >= the target
    return math.ceil(n_treated), math.ceil(n_treated * ratio)


def power_curve(the_plan: Plan, effects: np.ndarray, *, alpha: float = ALPHA) -> pd.DataFrame:
    """Power at each effect size (the chart's table): columns effect, power."""
    effects = np.asarray(effects, dtype=float)
    return pd.DataFrame(
        {"effect": effects, "power": [power(the_plan, e, alpha=alpha) for e in effects]}
    )


def design_from_panel(
    panel: pd.DataFrame,
    *,
    post_years: int,
    pre_years: int = 1,
    treated: float | None = None,
    controls: float | None = None,
) -> Design:
    """The program's design as the panel has it: its cohorts with a year before entry in
    the panel and their sizes, its comparison firms; optionally scaled to other totals."""
    _check_panel(panel)
    first_year = int(panel["year"].min())
    cohort = pd.to_numeric(panel["cohort"]).fillna(0).astype(int)
    entries = panel.loc[cohort > 0, ["firm_id"]].assign(cohort=cohort[cohort > 0])
    sizes = entries.drop_duplicates("firm_id").groupby("cohort").size()
    if not len(sizes):
        raise PowerError("the program has no beneficiaries in the panel")
    sizes = sizes[sizes.index > first_year]
    if not len(sizes):
        raise PowerError(
            f"no beneficiary has a pre-entry year: every cohort entered in {first_year}, "
            "the panel's first year, or before"
        )
    # comparison firms that can serve: with at least one observed outcome
    comparison = panel.loc[cohort == 0]
    observed = np.isfinite(pd.to_numeric(comparison["outcome"], errors="coerce"))
    n_controls = comparison.loc[observed.to_numpy(), "firm_id"].nunique()
    design = Design(
        cohorts=tuple(int(g) for g in sizes.index),
        treated=tuple(float(n) for n in sizes.to_numpy()),
        controls=float(n_controls),
        pre_years=pre_years,
        post_years=post_years,
    )
    return design.scaled(treated, controls)


def _lead_matrix(
    components: Components, design: Design, leads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Treated and comparison (times N_C) parts of the covariance of the event-study leads e = -leads-1 .. -2 (relative to g-1) and the
    linear-trend direction s_e = e + 1, from the variogram (see the module docstring)."""
    first = int(components.years[0])
    events = np.arange(-(leads + 1), -1)
    sizes = np.asarray(design.treated)
    cohorts = np.asarray(design.cohorts)
    lo = int(cohorts.min()) - (leads + 1)
    span = int(cohorts.max()) - lo
    gram = _gram(components, span)
    treated_part = np.zeros((len(events), len(events)))
    comparison = np.zeros((len(events), span))
    for k, e in enumerate(events):
        has = cohorts + e >= first  # cohorts with that many pre years in the panel
        if not has.any():
            raise PowerError("no cohort has that many pre-entry years")
        w = sizes[has] / sizes[has].sum()
        for g, wg in zip(cohorts[has], w, strict=True):
            comparison[k, g + e - lo] += wg
            comparison[k, g - 1 - lo] -= wg
    for g, n_g in zip(cohorts, sizes, strict=True):
        c = np.zeros((len(events), span))
        for k, e in enumerate(events):
            if g + e >= first:
                has = cohorts + e >= first
                wg = n_g / sizes[has].sum()
                c[k, g + e - lo] = wg
                c[k, g - 1 - lo] = -wg
        treated_part += c @ gram @ c.T / n_g
    return treated_part, comparison @ gram @ comparison.T, events + 1


def pretrend_leads(panel: pd.DataFrame) -> int:
    """Leads the pre-trend test can use: pre-entry years beyond the base year g-1 that at
    least half of the beneficiaries have in the panel."""
    first_year = int(panel["year"].min())
    cohort = pd.to_numeric(panel["cohort"]).fillna(0).astype(int)
    entries = panel.loc[cohort > 0, ["firm_id"]].assign(cohort=cohort[cohort > 0])
    pre = entries.drop_duplicates("firm_id")["cohort"].to_numpy() - first_year
    pre = pre[pre > 0]
    return max(int(np.floor(np.median(pre))) - 1, 0) if len(pre) else 0


def _lead_covariance(
    components: Components, the_plan: Plan, leads: int
) -> tuple[np.ndarray, np.ndarray]:
    design = the_plan.design
    treated_part, comparison_part, direction = _lead_matrix(components, design, leads)
    omega = (
        the_plan.treated_factor * treated_part
        + the_plan.comparison_factor * comparison_part / design.controls
    )
    return omega, direction.astype(float)


def _noncentrality(components: Components, the_plan: Plan, leads: int) -> float:
    """s' Omega^-1 s: the Wald noncentrality of a unit slope."""
    if leads < 1:
        raise PowerError("the pre-trend test needs at least two pre-entry years")
    omega, s = _lead_covariance(components, the_plan, leads)
    return float(s @ np.linalg.solve(omega, s))


def pretrend_power(
    components: Components, the_plan: Plan, slope: float, *, leads: int, alpha: float = ALPHA
) -> float:
    """Power of the joint pre-trend Wald test (`leads` leads) against a linear violation
    of `slope` per year (Roth 2022)."""
    from scipy.special import chdtri, chndtr

    critical = chdtri(leads, alpha)
    lam = slope**2 * _noncentrality(components, the_plan, leads)
    return float(1.0 - chndtr(critical, leads, lam)) if lam > 0 else alpha


def pretrend_slope(
    components: Components,
    the_plan: Plan,
    power_level: float,
    *,
    leads: int,
    alpha: float = ALPHA,
) -> float:
    """The linear-violation slope the pre-trend test detects with `power_level`."""
    from scipy.special import chdtri, chndtrinc

    critical = chdtri(leads, alpha)
    lam = float(chndtrinc(critical, leads, 1.0 - power_level))
    return math.sqrt(lam / _noncentrality(components, the_plan, leads))


def placebo_power(
    panel: pd.DataFrame,
    design: Design,
    effects: list[float] | np.ndarray,
    *,
    reps: int = 1000,
    seed: int = 0,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Simulated power on the panel's own comparison firms: each replication draws placebo
    cohorts of the design's sizes (among the firms alive the year before entry), keeps
    `design.controls` others as the comparison group, adds each effect to the placebo
    beneficiaries' post-entry years, estimates tau with its firm-clustered SE and rejects
    at `alpha`. Every cohort's window must lie inside the panel. Columns: effect, reps,
    rejections, power, mc_se (Monte Carlo SE), mean_se (the SEs' mean)."""
    components = variance_components(panel)
    m, r = design.pre_years, design.post_years
    first = int(components.years[0])
    keep = components.observed.any(axis=1)  # firms that can serve, as in `plan`
    values, alive = components.values[keep], components.alive[keep]
    cohorts = np.asarray(design.cohorts)
    starts = cohorts - m - first
    if (starts < 0).any() or (starts + m + r > len(components.years)).any():
        raise PowerError("every placebo cohort's window must lie inside the panel")
    sizes = np.rint(np.asarray(design.treated)).astype(int)
    n_firms = len(values)
    if sizes.sum() + int(design.controls) > n_firms:
        raise PowerError(
            f"{sizes.sum()} placebo beneficiaries and {int(design.controls)} comparison firms "
            f"need more than the {n_firms} comparison firms of the panel"
        )
    # d_i^g for every firm and cohort window, NaN if no pre or no post year. Adding E to the
    # post-entry years of a beneficiary adds exactly E to its d (the post mean moves by E),
    # so the effect is planted on d below.
    d = np.full((n_firms, len(cohorts)), np.nan)
    observed = np.isfinite(values)
    filled = np.where(observed, values, 0.0)
    for k, s in enumerate(starts):
        n_pre = observed[:, s : s + m].sum(axis=1)
        n_post = observed[:, s + m : s + m + r].sum(axis=1)
        usable = (n_pre > 0) & (n_post > 0)
        pre = filled[:, s : s + m].sum(axis=1) / np.maximum(n_pre, 1)
        post = filled[:, s + m : s + m + r].sum(axis=1) / np.maximum(n_post, 1)
        d[:, k] = np.where(usable, post - pre, np.nan)
    eligible = alive[:, starts + m - 1]
    z = _z(1 - alpha / 2)
    estimates, ses = np.empty(reps), np.empty(reps)
    draws = _draws(eligible, sizes, int(design.controls), reps, seed)
    for rep, (members, controls) in enumerate(draws):
        estimates[rep], ses[rep] = _stacked_did(d, members, controls)
    rows = []
    for effect in effects:
        reject = np.abs(estimates + effect) > z * ses
        p = float(reject.mean())
        rows.append(
            {
                "effect": float(effect),
                "reps": reps,
                "rejections": int(reject.sum()),
                "power": p,
                "mc_se": math.sqrt(p * (1 - p) / reps),
                "mean_se": float(ses.mean()),
            }
        )
    return pd.DataFrame(rows)


def _draws(
    eligible: np.ndarray, sizes: np.ndarray, n_controls: int, reps: int, seed: int
) -> Iterator[tuple[list[np.ndarray], np.ndarray]]:
    """Placebo assignments: per replication, each cohort's firms (rows of `eligible`,
    firms x cohorts: alive the year before entry) and the comparison firms."""
    rng = np.random.default_rng(seed)
    for _ in range(reps):
        taken = np.zeros(len(eligible), dtype=bool)
        members = []
        for k, n_g in enumerate(sizes):
            pool = np.nonzero(eligible[:, k] & ~taken)[0]
            chosen = rng.choice(pool, size=min(int(n_g), len(pool)), replace=False)
            taken[chosen] = True
            members.append(chosen)
        rest = np.nonzero(~taken)[0]
        yield members, rng.choice(rest, size=n_controls, replace=False)


def placebo_draws(
    panel: pd.DataFrame, design: Design, *, reps: int, seed: int
) -> Iterator[pd.DataFrame]:
    """The placebo panels `placebo_power` estimates on (same seed, same draws), as long
    frames (firm_id, year, cohort, outcome; no effect planted): for checking other
    estimators, such as the pipeline's Callaway-Sant'Anna, on the same assignments."""
    components = variance_components(panel)
    keep = components.observed.any(axis=1)
    comparison = panel[pd.to_numeric(panel["cohort"]).fillna(0) == 0]
    firms = np.unique(comparison["firm_id"].to_numpy())[keep]
    starts = np.asarray(design.cohorts) - design.pre_years - int(components.years[0])
    eligible = components.alive[keep][:, starts + design.pre_years - 1]
    sizes = np.rint(np.asarray(design.treated)).astype(int)
    for members, controls in _draws(eligible, sizes, int(design.controls), reps, seed):
        cohort = {firms[j]: 0 for j in controls}
        for g, idx in zip(design.cohorts, members, strict=True):
            cohort.update({firms[j]: g for j in idx})
        rows = comparison[comparison["firm_id"].isin(cohort.keys())]
        yield rows.assign(cohort=rows["firm_id"].map(cohort).astype(int))


def _stacked_did(
    d: np.ndarray, members: list[np.ndarray], controls: np.ndarray
) -> tuple[float, float]:
    """tau (no effect planted) and its firm-clustered SE for one placebo assignment."""
    groups = [d[idx, k] for k, idx in enumerate(members)]
    groups = [g[np.isfinite(g)] for g in groups]
    counts = np.array([len(g) for g in groups], dtype=float)
    w = counts / counts.sum()
    comp = d[controls]  # controls x cohorts
    usable = np.isfinite(comp)
    n_c = usable.sum(axis=0)
    comp_mean = np.nanmean(comp, axis=0)
    treated_mean = np.array([g.mean() if len(g) else 0.0 for g in groups])
    tau = float(w @ (treated_mean - comp_mean))
    treated_var = sum(
        wk**2 * g.var(ddof=1) / len(g) for wk, g in zip(w, groups, strict=True) if len(g) > 1
    )
    # a comparison firm serves every cohort: its influence is summed over them
    influence = np.where(usable, (comp - comp_mean) / n_c, 0.0) @ w
    comp_var = float(influence @ influence) * len(controls) / (len(controls) - 1)
    return tau, math.sqrt(treated_var + comp_var)


@dataclass(frozen=True)
class ProgramPlan:
    """One program's plan: the statistics `mes-eval plan` prints and charts."""

    program_id: str
    components: Components
    plan: Plan
    mde: float
    effect: float | None
    power: float | None
    needed: tuple[int, int] | None
    leads: int
    slope_50: float | None
    slope_80: float | None
    curve: pd.DataFrame


def plan_program(
    program_id: str,
    rows: pd.DataFrame,
    *,
    post_years: int,
    pre_years: int,
    effect: float | None,
    treated: int | None,
    controls: int | None,
) -> ProgramPlan:
    """Every number of one program's plan: what `mes-eval plan` prints and the internal
    edition's planning page shows (raises `PowerError` when it has none)."""
    components = variance_components(rows)
    design = design_from_panel(
        rows, post_years=post_years, pre_years=pre_years, treated=treated, controls=controls
    )
    the_plan = plan(components, design)
    smallest = mde(the_plan)
    leads = pretrend_leads(rows)
    slopes: tuple[float | None, float | None] = (None, None)
    if leads >= 1:
        slopes = (
            pretrend_slope(components, the_plan, 0.5, leads=leads),
            pretrend_slope(components, the_plan, 0.8, leads=leads),
        )
    top = max(2.0 * smallest, 1.5 * abs(effect) if effect else 0.0)
    return ProgramPlan(
        program_id=program_id,
        components=components,
        plan=the_plan,
        mde=smallest,
        effect=effect,
        power=power(the_plan, effect) if effect is not None else None,
        needed=required_n(the_plan, effect) if effect else None,
        leads=leads,
        slope_50=slopes[0],
        slope_80=slopes[1],
        curve=power_curve(the_plan, np.linspace(0.0, top, 41)),
    )
