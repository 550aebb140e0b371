"""Sensitivity of event-study effects to violations of parallel trends (HonestDiD).

A port of Rambachan & Roth (2023), "A More Credible Approach to Parallel Trends", as the
R package ``HonestDiD`` 0.2.8 implements it (commit 6813f02; files R/flci.R, R/deltarm.R,
R/arp-nuisance.R, R/ublbM_functions.R), as pure numpy/scipy functions:

* :func:`original_ci`: the usual CI for ``theta = l' beta_post`` (``constructOriginalCS``);
* :func:`flci_sd`: the fixed-length CI under smoothness, Delta^SD(M): the post-period
  trend may change slope by at most M per period (``findOptimalFLCI``);
* :func:`conditional_cs_rm`: the conditional-least-favourable hybrid (C-LF) confidence
  set under relative magnitudes, Delta^RM(Mbar): no post-period first difference of the
  trend exceeds Mbar times the largest pre-period one (``computeConditionalCS_DeltaRM``);
* :func:`breakdown_value`, :func:`breakdown_rm`, :func:`breakdown_sd`: the largest Mbar
  (or M) at which the set still excludes 0;
* :func:`upper_bound_m_pre` (``DeltaSD_upperBound_Mpre``);
* :func:`event_study_with_covariance`: the event-study vector and its covariance from
  ``evaluation.did`` influence functions with a universal base period.

Everything is checked against R's outputs for the package's BCdata example in
``tests/test_honest.py``.

Where this port differs from R, and why:

* R solves the FLCI's worst-case-bias programme (an SOCP) with ECOS through CVXR. Here it
  is solved exactly: in the cumulative-weight coordinates the programme is "minimise an
  l1 norm over an ellipsoid", whose optimum lies on one face of the l1 ball; each of the
  3^(K-1) faces (K = pre-periods) has a closed-form minimiser, and the best consistent one
  is the optimum. The bisection on the estimator's standard deviation ``h`` is R's,
  step for step, including its numerical derivatives.
* R's folded-normal quantile is simulated (10^6 draws after ``set.seed(seed)``), and the
  C-LF critical value is simulated too (1000 draws, ``mvtnorm::rmvnorm``). To reproduce
  R's numbers rather than numbers of the same distribution, :func:`_r_rnorm` replays R's
  default generator (Mersenne-Twister seeded by ``set.seed``, normals by inversion);
  it reproduces ``set.seed(0); rnorm(5)`` to the printed digits.
* The linear programmes of the ARP test (R: lpSolveAPI, dual simplex) are solved by
  enumerating vertices: with k nuisance parameters the optimum is a vertex where k + 1
  moments bind. This is exact, and vectorised over the theta grid and the simulation
  draws. When the optimal vertex is degenerate R switches to a bisection on the dual;
  that path is ported with scipy's HiGHS for the inner programme. With degenerate
  vertices lpSolve and this code may pick different optimal bases; that can move an
  acceptance decision at a grid point, not the method.
* Where the reference and this port disagree (BCdata, l = first post period): the FLCI
  at M = 0 has R's half-length to 4e-12 but its centre is 8.3e-7 away. At M = 0 the
  optimal estimator is the minimum-variance one, and R then solves the bias programme at
  h = h_min, whose feasible set is a single point, with ECOS, which returns a point near
  it; this port returns the point itself (its variance is h_min^2 exactly), so the
  difference is R's solver error, not a difference of method. For M > 0 the endpoints
  agree to ~1e-9. R's Mbar = 2 upper bound (0.37946) is the end of its theta grid, so
  that set is truncated by the grid in R too (``open_at_endpoint`` flags it here).
* Only ``numPostPeriods > 1`` is supported for Delta^RM (R's one-post-period case uses a
  separate no-nuisance test that is not ported).

The reference's deltaRM rows were produced by the default C-LF method on R's default grid,
[-20, 20] x sd(theta) with 1000 points; this module uses the same grid by default, so its
sets agree with R's to within one grid step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special, stats

from evaluation.did import table_covariance
from evaluation.engine import GroupTime, aggregate

__all__ = [
    "EventStudy",
    "FLCIResult",
    "SensitivityCI",
    "breakdown_rm",
    "breakdown_sd",
    "breakdown_value",
    "conditional_cs_rm",
    "event_study_with_covariance",
    "flci_sd",
    "original_ci",
    "upper_bound_m_pre",
]


@dataclass(frozen=True)
class SensitivityCI:
    """A confidence set for theta = l' beta_post, summarised by its hull [lb, ub].

    ``open_at_endpoint`` is set when the set reaches an end of the theta grid (R warns
    "CI is open at one of the endpoints"): the hull is then truncated by the grid.
    """

    lb: float
    ub: float
    open_at_endpoint: bool = False

    def excludes(self, value: float = 0.0) -> bool:
        return not (self.lb <= value <= self.ub)


@dataclass(frozen=True)
class FLCIResult:
    """Optimal FLCI: ``optimal_vec`` weighs all of betahat (pre then post)."""

    lb: float
    ub: float
    half_length: float
    optimal_vec: np.ndarray
    h: float  # standard deviation of the affine estimator at the optimum
    max_bias: float  # worst-case bias over Delta^SD(M) at the optimum


@dataclass(frozen=True)
class EventStudy:
    """Event-study coefficients with a universal base period (event time -1 = 0)."""

    betahat: np.ndarray  # pre-period coefficients (e < -1) then post (e >= 0)
    sigma: np.ndarray
    event_times: np.ndarray
    num_pre: int
    num_post: int
    # n_units x len(betahat), sigma = influence' influence / n^2; None on the DuckDB
    # engine (evaluation.engine), whose sigma comes from the moments
    influence: np.ndarray | None = None


# ---------------------------------------------------------------------------------------
# Inputs


def _prep(
    betahat: Sequence[float] | np.ndarray,
    sigma: Sequence[Sequence[float]] | np.ndarray,
    num_pre: int,
    num_post: int,
    l_vec: Sequence[float] | np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.asarray(betahat, dtype=float).ravel()
    s = np.asarray(sigma, dtype=float)
    if num_pre < 1 or num_post < 1 or len(b) != num_pre + num_post:
        raise ValueError("betahat must hold num_pre + num_post >= 2 coefficients")
    if s.shape != (len(b), len(b)):
        raise ValueError(f"sigma must be {len(b)} x {len(b)}, got {s.shape}")
    lv = np.eye(num_post)[0] if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    if len(lv) != num_post:
        raise ValueError("l_vec must have num_post elements")
    return b, s, lv


def original_ci(
    betahat: Sequence[float] | np.ndarray,
    sigma: Sequence[Sequence[float]] | np.ndarray,
    num_pre: int,
    num_post: int,
    l_vec: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
) -> SensitivityCI:
    """Conventional CI for l' beta_post under exact parallel trends (``constructOriginalCS``).

    ``l_vec`` defaults to the first post period.
    """
    b, s, lv = _prep(betahat, sigma, num_pre, num_post, l_vec)
    post = slice(num_pre, None)
    est = float(lv @ b[post])
    se = math.sqrt(float(lv @ s[post, post] @ lv))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return SensitivityCI(est - z * se, est + z * se)


# ---------------------------------------------------------------------------------------
# R's random numbers (for the simulated quantiles, so results equal R's, not just in law)


@lru_cache(maxsize=4)
def _r_rnorm(n: int, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` under R's defaults (Mersenne-Twister, Inversion).

    set.seed scrambles the seed with 50 + 625 rounds of a 69069 LCG into the MT state
    (mti = 624 forces a twist first); each normal is qnorm of a 2^27-bucketed pair of
    uniforms (R's norm_rand). Returned read-only since it is cached.
    """
    x = seed & 0xFFFFFFFF
    for _ in range(50):
        x = (69069 * x + 1) & 0xFFFFFFFF
    state = np.empty(625, dtype=np.uint32)
    for j in range(625):
        x = (69069 * x + 1) & 0xFFFFFFFF
        state[j] = x
    gen = np.random.MT19937()
    gen.state = {"bit_generator": "MT19937", "state": {"key": state[1:], "pos": 624}}
    raw = gen.random_raw(2 * n).astype(np.float64) * 2.3283064365386963e-10
    # R's fixup keeps uniforms inside (0, 1)
    raw = np.where(raw <= 0.0, 0.5 * 2.328306437080797e-10, raw)
    raw = np.where(1.0 - raw <= 0.0, 1.0 - 0.5 * 2.328306437080797e-10, raw)
    big = 134217728.0
    u = (np.floor(big * raw[0::2]) + raw[1::2]) / big
    out = special.ndtri(u)
    out.flags.writeable = False
    return out


def _quantile7(x: np.ndarray, p: float) -> float:
    """R's default quantile (type 7)."""
    return float(np.quantile(x, p))


@lru_cache(maxsize=4)
def _sorted_r_rnorm(n: int, seed: int = 0) -> np.ndarray:
    """`_r_rnorm(n, seed)` in ascending order (cached, read-only)."""
    out = np.sort(_r_rnorm(n, seed))
    out.flags.writeable = False
    return out


def _folded_order_statistic(z: np.ndarray, mu: float, k: int) -> float:
    """The k-th smallest (0-based) of |z_i + mu| for ascending z, in O(log n).

    z + mu is ascending too (rounding is monotone), so the folded values are two ascending
    runs, the negated negative sums read backwards and the non-negative sums; the k-th
    smallest of their merge is found by bisection on how many come from the first run.
    Every value is the same double the full array would hold (one IEEE addition)."""
    n = len(z)
    lo, hi = 0, n
    while lo < hi:  # split: the number of negative sums
        mid = (lo + hi) // 2
        if z.item(mid) + mu < 0:
            lo = mid + 1
        else:
            hi = mid
    split = lo

    def neg(i: int) -> float:  # i-th smallest of the folded negative sums
        return -(z.item(split - 1 - i) + mu)

    def pos(j: int) -> float:  # j-th smallest of the non-negative sums
        return z.item(split + j) + mu

    n_neg, n_pos = split, n - split
    lo, hi = max(0, k + 1 - n_pos), min(k + 1, n_neg)
    while lo < hi:  # smallest i such that neg(i) >= pos(k - i)
        i = (lo + hi) // 2
        if neg(i) < pos(k - i):
            lo = i + 1
        else:
            hi = i
    i, j = lo, k + 1 - lo
    best = max(neg(i - 1) if i > 0 else -math.inf, pos(j - 1) if j > 0 else -math.inf)
    return abs(best)


def _qfoldednormal(p: float, mu: float, seed: int = 0, num_sims: int = 10**6) -> float:
    """R's ``.qfoldednormal``: p-quantile of |Z + mu| over R's own simulated draws.

    The same number as `_quantile7(np.abs(_r_rnorm(num_sims, seed) + mu), p)` (numpy's
    type-7 interpolation between the two order statistics, replayed operation for
    operation), without building and partitioning a million draws per call: the FLCI's
    bisection calls this hundreds of times per event study."""
    mu = float(mu)
    if not (math.isfinite(mu) and 0.0 <= p <= 1.0 and num_sims > 0):
        return _quantile7(np.abs(_r_rnorm(num_sims, seed) + mu), p)
    z = _sorted_r_rnorm(num_sims, seed)
    virtual = (num_sims - 1) * p
    if virtual >= num_sims - 1:
        return _folded_order_statistic(z, mu, num_sims - 1)
    below = math.floor(virtual)
    gamma = virtual - below
    a = _folded_order_statistic(z, mu, below)
    b = _folded_order_statistic(z, mu, below + 1)
    diff = b - a
    # numpy's _lerp: from the nearer end, so that gamma = 1 gives b exactly
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def _r_rmvnorm(n: int, sigma: np.ndarray, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); mvtnorm::rmvnorm(n, sigma = sigma)`` (method "eigen").

    The factor V diag(sqrt(ev)) V' is the symmetric square root, so it does not depend
    on the sign conventions of the eigen solver.
    """
    ev, vec = np.linalg.eigh(sigma)
    root = (vec * np.sqrt(np.maximum(ev, 0.0))) @ vec.T
    z = np.asarray(_r_rnorm(n * sigma.shape[0], seed)).reshape(n, sigma.shape[0])
    return z @ root


# ---------------------------------------------------------------------------------------
# FLCI under Delta^SD(M)


@dataclass(frozen=True)
class _FLCIProblem:
    """The affine estimator l_pre' beta_pre + l' beta_post, parametrised by x.

    x holds the first K-1 cumulative sums of R's pre-period weights w (the K-th is fixed
    at (1..T)'l by R's sum-of-weights constraint). l_pre = P x + p0, so the variance is
    the quadratic (x - x_min)' H (x - x_min) + h_min^2.
    """

    P: np.ndarray
    p0: np.ndarray
    H: np.ndarray
    x_min: np.ndarray
    h_min: float
    h0: float
    bias_const: float  # R's `constant` + |C|: bias = M * (bias_const + ||x||_1)
    s_pre: np.ndarray
    s_pp_l: np.ndarray
    l_var: float


def _flci_problem(sigma: np.ndarray, num_pre: int, lv: np.ndarray) -> _FLCIProblem:
    k, t = num_pre, len(lv)
    c_sum = float(np.arange(1, t + 1) @ lv)
    # w = D c (w_1 = c_1, w_j = c_j - c_{j-1}); l_pre = WtoL w with the same D: R's .wToLFn.
    d = np.eye(k) - np.eye(k, k=-1)
    dd = d @ d
    P, p0 = dd[:, : k - 1], dd[:, k - 1] * c_sum
    s_pre = sigma[:k, :k]
    s_pp_l = sigma[:k, k:] @ lv
    l_var = float(lv @ sigma[k:, k:] @ lv)
    H = P.T @ s_pre @ P
    g = P.T @ (s_pre @ p0 + s_pp_l)
    x_min = -np.linalg.solve(H, g) if k > 1 else np.zeros(0)

    def var(x: np.ndarray) -> float:
        lp = P @ x + p0
        return float(lp @ s_pre @ lp + 2 * lp @ s_pp_l + l_var)

    # R's `constant`: sum_s |(1..s)' l[(T-s+1):T]| - (1..T)'l; the K-th |cumsum| is |C|.
    const = sum(abs(float(np.arange(1, s + 1) @ lv[t - s :])) for s in range(1, t + 1))
    return _FLCIProblem(
        P=P,
        p0=p0,
        H=H,
        x_min=x_min,
        h_min=math.sqrt(max(var(x_min), 0.0)),
        h0=math.sqrt(var(np.zeros(k - 1))),
        bias_const=const - c_sum + abs(c_sum),
        s_pre=s_pre,
        s_pp_l=s_pp_l,
        l_var=l_var,
    )


def _min_l1_on_ellipsoid(x0: np.ndarray, H: np.ndarray, r2: float) -> tuple[float, np.ndarray]:
    """min ||x||_1 s.t. (x - x0)' H (x - x0) <= r2, exactly, by enumerating faces.

    On a face (zero set Z, signs sigma on the rest F) the l1 norm is linear, and a linear
    function's minimum over the ellipsoid cut by x_Z = 0 has a closed form. The optimum
    lies on some face and every sign-consistent face minimiser is feasible, so the best
    consistent one is the optimum. 3^n faces; n = pre-periods - 1 is small.
    """
    n = len(x0)
    if r2 < 0:
        return math.inf, x0
    if n == 0:
        return 0.0, x0
    best, best_x = math.inf, x0
    tol = 1e-12 * (1.0 + float(np.abs(x0).max()))
    for pattern in itertools.product((-1, 0, 1), repeat=n):
        sig = np.array(pattern, dtype=float)
        f = sig != 0
        z = ~f
        if not f.any():
            if float(x0 @ H @ x0) <= r2 and best > 0.0:
                best, best_x = 0.0, np.zeros(n)
            continue
        yz = -x0[z]
        hff, hfz = H[np.ix_(f, f)], H[np.ix_(f, z)]
        c = -np.linalg.solve(hff, hfz @ yz) if z.any() else np.zeros(int(f.sum()))
        qmin = float(yz @ H[np.ix_(z, z)] @ yz + c @ hfz @ yz) if z.any() else 0.0
        rho2 = r2 - qmin
        if rho2 < -tol * tol:
            continue
        sf = sig[f]
        hinv_s = np.linalg.solve(hff, sf)
        scale = math.sqrt(max(rho2, 0.0) / float(sf @ hinv_s)) if rho2 > 0 else 0.0
        xf = x0[f] + c - scale * hinv_s
        if np.any(xf * sf < -tol):
            continue
        val = float(np.abs(xf).sum())
        if val < best:
            x = np.zeros(n)
            x[f] = xf
            best, best_x = val, x
    return best, best_x


def _worst_case_bias(prob: _FLCIProblem, h: float) -> tuple[float, np.ndarray]:
    """R's ``.findWorstCaseBiasGivenH`` with M = 1: (bias, l_pre); inf if h < h_min."""
    r2 = h * h - prob.h_min**2
    # At h = h_min the ellipsoid is the single point x_min (rounding may make r2 < 0).
    if r2 < 0 and r2 > -1e-12 * h * h:
        r2 = 0.0
    val, x = _min_l1_on_ellipsoid(prob.x_min, prob.H, r2)
    if not math.isfinite(val):
        return math.inf, prob.P @ prob.x_min + prob.p0
    return prob.bias_const + val, prob.P @ x + prob.p0


def _optimal_h_bisection(f: Callable[[float], float], a: float, b: float, num_points: int) -> float:
    """R's ``.findOptimalCIDerivativeBisection``; nan when it fails (R then grid-searches)."""
    failtol = math.sqrt(np.finfo(float).eps)
    dif = min((b - a) / num_points, abs(b) * np.finfo(float).eps ** (1 / 3))
    fa, fb = f(a), f(b)
    if math.isnan(fa) or math.isnan(fb) or dif <= 0:
        return math.nan
    fpa = (f(a + dif) - fa) / dif
    fpb = (f(b - dif) - fb) / -dif
    maxiter = 10 * math.ceil(math.log(abs(b - a) / dif) / math.log(2))
    if fpa > fpb:
        return math.nan
    if fpb < 0:
        return b
    if fpa > 0:
        return a
    it = 1
    while abs(b - a) > dif:
        it += 1
        x = (a + b) / 2
        fpx = (f(x + dif) - f(x - dif)) / (2 * dif)
        if fpx > fpb + failtol or fpx + failtol < fpa or it > maxiter:
            return math.nan
        if fpx > 0:
            b = x
        else:
            a = x
    return (a + b) / 2


def flci_sd(
    betahat: Sequence[float] | np.ndarray,
    sigma: Sequence[Sequence[float]] | np.ndarray,
    num_pre: int,
    num_post: int,
    m: float = 0.0,
    l_vec: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
    num_points: int = 100,
    seed: int = 0,
) -> FLCIResult:
    """Optimal fixed-length CI for l' beta_post under Delta^SD(M) (``findOptimalFLCI``).

    Among affine estimators l_pre' beta_pre + l' beta_post, pick the one whose CI
    ``estimate +/- h * q_{1-alpha}(|N(maxbias/h, 1)|)`` is shortest, where h is its
    standard deviation and maxbias its worst-case bias when the second differences of
    the trend are bounded by M (Armstrong & Kolesar). As in R, the minimum-bias h (h0) and
    minimum-variance h bracket the search, which is a bisection on numerical derivatives
    of the (convex) half-length in h, with R's grid fallback.
    """
    b, s, lv = _prep(betahat, sigma, num_pre, num_post, l_vec)
    prob = _flci_problem(s, num_pre, lv)

    def half_length(h: float) -> float:
        bias, _ = _worst_case_bias(prob, h)
        if not math.isfinite(bias):
            return math.nan
        return _qfoldednormal(1 - alpha, m * bias / h, seed) * h

    a, bb = prob.h_min, prob.h0
    hstar = _optimal_h_bisection(half_length, a, bb, num_points) if bb > a else a
    if math.isnan(hstar):  # R's fallback: the best point of a grid of h
        grid = np.linspace(a, bb, num_points)
        lengths = np.array([half_length(h) for h in grid])
        hstar = float(grid[np.nanargmin(lengths)])
    bias, l_pre = _worst_case_bias(prob, hstar)
    half = _qfoldednormal(1 - alpha, m * bias / hstar, seed) * hstar
    vec = np.concatenate([l_pre, lv])
    est = float(vec @ b)
    return FLCIResult(est - half, est + half, half, vec, hstar, m * bias)


def upper_bound_m_pre(
    betahat: Sequence[float] | np.ndarray,
    sigma: Sequence[Sequence[float]] | np.ndarray,
    num_pre: int,
    alpha: float = 0.05,
) -> float:
    """``DeltaSD_upperBound_Mpre``: max one-sided upper bound of pre-period 2nd differences.

    The reference period (event time -1, normalised to 0) enters the last difference.
    """
    if num_pre < 2:
        raise ValueError("needs at least two pre-period coefficients")
    b = np.asarray(betahat, dtype=float)[:num_pre]
    s = np.asarray(sigma, dtype=float)[:num_pre, :num_pre]
    at = np.zeros((num_pre - 1, num_pre + 1))
    for r in range(num_pre - 1):
        at[r, r : r + 3] = (1.0, -2.0, 1.0)
    at = at[:, :num_pre]  # drop the reference period's column
    a = np.vstack([at, -at])
    se = np.sqrt(np.diag(a @ s @ a.T))
    return float(np.max(a @ b + stats.norm.ppf(1 - alpha) * se))


# ---------------------------------------------------------------------------------------
# ARP conditional / hybrid test with nuisance parameters (R/arp-nuisance.R)


def _create_a_rm(
    num_pre: int, num_post: int, mbar: float, s: int, max_positive: bool
) -> np.ndarray:
    """R's ``.create_A_RM``: |delta_{t} - delta_{t-1}| <= (Mbar or 1) * (+/-)(first dif at s)."""
    n = num_pre + num_post
    at = np.zeros((n, n + 1))
    for r in range(n):
        at[r, r : r + 2] = (-1.0, 1.0)
    v = np.zeros(n + 1)
    v[num_pre + s - 1 : num_pre + s + 1] = (-1.0, 1.0)
    if not max_positive:
        v = -v
    a_ub = np.vstack([np.tile(v, (num_pre, 1)), np.tile(mbar * v, (num_post, 1))])
    a = np.vstack([at - a_ub, -at - a_ub])
    a = a[np.sum(a * a, axis=1) > 1e-10]
    return np.delete(a, num_pre, axis=1)  # drop the reference period


def _construct_gamma(lv: np.ndarray) -> np.ndarray:
    """R's ``.construct_Gamma``: invertible matrix with l' as first row.

    The pivot columns of rref([l, I]) are the greedily independent columns, in order.
    """
    cols = np.column_stack([lv, np.eye(len(lv))])
    chosen: list[int] = []
    for j in range(cols.shape[1]):
        trial = cols[:, [*chosen, j]]
        if np.linalg.matrix_rank(trial) == len(chosen) + 1:
            chosen.append(j)
        if len(chosen) == len(lv):
            break
    return cols[:, chosen].T


@dataclass(frozen=True)
class _LP:
    """min eta s.t. y - X delta <= eta * sd, solved by vertex enumeration.

    W = [sd, X]; a vertex z = (eta, delta) solves W_B z = y_B for k + 1 rows B.
    """

    W: np.ndarray
    bases: list[tuple[int, ...]]
    inv: np.ndarray  # len(bases) x (k+1) x (k+1): W_B^{-1}
    unbounded: bool


def _make_lp(sd: np.ndarray, x: np.ndarray) -> _LP:
    w = np.column_stack([sd, x])
    m, k1 = w.shape
    bases: list[tuple[int, ...]] = []
    invs: list[np.ndarray] = []
    for b in itertools.combinations(range(m), k1):
        wb = w[list(b)]
        if abs(np.linalg.det(wb)) > 1e-12 * max(1.0, float(np.abs(wb).max())) ** k1:
            bases.append(b)
            invs.append(np.linalg.inv(wb))
    # Unbounded iff some z has W z >= 0 with eta < 0 (independent of y).
    res = optimize.linprog(
        np.eye(k1)[0],
        A_ub=-w,
        b_ub=np.zeros(m),
        bounds=[(-1.0, None)] + [(None, None)] * (k1 - 1),
        method="highs",
    )
    unbounded = bool(res.status == 0 and res.fun < -0.5)
    return _LP(w, bases, np.array(invs).reshape(len(bases), k1, k1), unbounded)


def _solve_lp(lp: _LP, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal eta per row of y (n x m) and the index of an optimal basis (-1: none)."""
    bidx = np.array(lp.bases)
    # z[n, b, :] = inv_b @ y[n, B_b]
    yb = y[:, bidx]  # n x nb x (k+1)
    z = np.einsum("bij,nbj->nbi", lp.inv, yb)
    slack = np.einsum("mi,nbi->nbm", lp.W, z) - y[:, None, :]
    scale = 1e-9 * (1.0 + np.abs(y).max(axis=1))[:, None]
    feasible = np.all(slack >= -scale[:, :, None], axis=2)
    eta = np.where(feasible, z[:, :, 0], np.inf)
    best = np.argmin(eta, axis=1)
    return eta[np.arange(len(y)), best], np.where(np.isfinite(eta.min(axis=1)), best, -1)


def _norminvp(p: float, lo: float, hi: float) -> float:
    """Quantile p of a standard normal truncated to [lo, hi] (TruncatedNormal::norminvp)."""
    if lo > 0:  # upper tail: work with survival functions for accuracy
        slo, shi = special.ndtr(-lo), special.ndtr(-hi)
        return float(-special.ndtri(slo - p * (slo - shi)))
    clo, chi = special.ndtr(lo), special.ndtr(hi)
    return float(special.ndtri(clo + p * (chi - clo)))


def _max_program(
    lp: _LP, s_t: np.ndarray, gamma: np.ndarray, sigma: np.ndarray
) -> Callable[[float], tuple[float, np.ndarray]]:
    """R's ``.max_program`` as a function of c: max f(c)'x s.t. W'x = e1, x >= 0.

    The feasible set is a polytope (W's first column is positive) whose vertices are the
    dual solutions of the eta programme's bases, lambda_B = W_B'^{-1} e1 >= 0; f is linear
    in c, so the value is a maximum of lines in c (R solves one GLPK programme per c).
    """
    b = (sigma @ gamma) / float(gamma @ sigma @ gamma)
    lam_b = lp.inv[:, 0, :]  # row 0 of W_B^{-1} = (W_B'^{-1} e1)'
    ok = np.all(lam_b >= -1e-12, axis=1)
    idx = np.array(lp.bases)[ok]
    lam = np.zeros((int(ok.sum()), lp.W.shape[0]))
    np.put_along_axis(lam, idx, lam_b[ok], axis=1)
    intercept, slope = lam @ s_t, lam @ b

    def solve(c: float) -> tuple[float, np.ndarray]:
        if len(lam) == 0:
            return math.nan, np.zeros(lp.W.shape[0])
        vals = intercept + c * slope
        j = int(np.argmax(vals))
        return float(vals[j]), lam[j]

    return solve


def _vlo_vup_dual(
    eta: float, s_t: np.ndarray, gamma: np.ndarray, sigma: np.ndarray, lp: _LP
) -> tuple[float, float]:
    """R's ``.vlo_vup_dual_fn``: truncation points by bisection on the dual programme."""
    tol_c, tol_eq = 1e-6, 1e-6
    sigma_b = math.sqrt(float(gamma @ sigma @ gamma))
    b = (sigma @ gamma) / float(gamma @ sigma @ gamma)

    max_program = _max_program(lp, s_t, gamma, sigma)

    def check(c: float) -> tuple[bool, np.ndarray]:
        val, sol = max_program(c)
        return (not math.isnan(val)) and abs(c - val) <= tol_eq, sol

    def roundeps(x: float) -> float:
        return 0.0 if abs(x) < np.finfo(float).eps ** 0.75 else x

    if not check(eta)[0]:
        return eta, math.inf

    def one_side(start: float, upper: bool) -> float:
        ok, sol = check(start)
        if ok:
            return math.inf if upper else -math.inf
        dif, iters = 0.0, 1
        mid = roundeps(float(sol @ s_t)) / (1 - float(sol @ b))
        while True:
            ok, sol = check(mid)
            if ok:
                break
            iters += 1
            if iters >= 10:
                dif = tol_c + 1
                break
            mid = roundeps(float(sol @ s_t)) / (1 - float(sol @ b))
        lo, hi = (eta, mid) if upper else (mid, eta)
        while dif > tol_c and iters < 10000:
            iters += 1
            mid = (lo + hi) / 2
            inside = check(mid)[0]
            if upper == inside:
                lo = mid
            else:
                hi = mid
            dif = hi - lo
        return mid

    vup = one_side(max(100.0, eta + 20 * sigma_b), upper=True)
    vlo = one_side(min(-100.0, eta - 20 * sigma_b), upper=False)
    return vlo, vup


def _lf_critical_value(lp: _LP, sigma: np.ndarray, kappa: float, seed: int) -> float:
    """R's ``.compute_least_favorable_cv`` (1000 draws, R's random numbers)."""
    xi = _r_rmvnorm(1000, sigma, seed)
    if lp.unbounded:
        return math.nan
    eta, _ = _solve_lp(lp, xi)
    return _quantile7(eta[np.isfinite(eta)], 1 - kappa)


def _conditional_test(
    y: np.ndarray,
    eta: float,
    basis: int,
    lp: _LP,
    sigma: np.ndarray,
    alpha: float,
    kappa: float,
    lf_cv: float,
) -> bool:
    """R's ``.lp_conditional_test_fn`` with the LF hybrid, after the LP; True = reject."""
    if eta > lf_cv:  # first stage of the hybrid
        return True
    mod_size = (alpha - kappa) / (1 - kappa)
    k1 = lp.W.shape[1]
    rows = list(lp.bases[basis])
    inv = lp.inv[basis]
    lam_b = inv.T @ np.eye(k1)[0]  # dual: W_B' lambda_B = e1
    lam = np.zeros(len(y))
    lam[rows] = lam_b
    tol_lambda = 1e-6
    nondegenerate = int(np.sum(lam > tol_lambda)) == k1
    x_b = lp.W[rows, 1:]
    full_rank = x_b.shape[1] == 0 or np.linalg.matrix_rank(x_b) == x_b.shape[1]
    if nondegenerate and full_rank:
        # Primal approach (R's closed form): eta = v_B' y; the other moments bound it.
        m = len(y)
        in_b = np.zeros(m, dtype=bool)
        in_b[rows] = True
        s_b = np.eye(m)[rows]
        s_bc = np.eye(m)[~in_b]
        w_bc = lp.W[~in_b]
        gamma_b = w_bc @ inv @ s_b - s_bc
        v_b = inv[0] @ s_b
        sigma2_b = float(v_b @ sigma @ v_b)
        sigma_b = math.sqrt(sigma2_b)
        rho = gamma_b @ sigma @ v_b / sigma2_b
        with np.errstate(divide="ignore", invalid="ignore"):
            cand = (-gamma_b @ y) / rho + float(v_b @ y)
        vlo = float(np.max(cand[rho > 0])) if np.any(rho > 0) else -math.inf
        vup = float(np.min(cand[rho < 0])) if np.any(rho < 0) else math.inf
        zlo, zup = vlo / sigma_b, min(vup, lf_cv) / sigma_b
    else:
        # Dual approach: condition on the dual vertex lambda.
        g = lam
        sigma_b2 = float(g @ sigma @ g)
        if abs(sigma_b2) < np.finfo(float).eps:
            return eta > 0
        s_t = y - (sigma @ g) / sigma_b2 * float(g @ y)
        vlo, vup = _vlo_vup_dual(eta, s_t, g, sigma, lp)
        sigma_b = math.sqrt(sigma_b2)
        zlo, zup = vlo / sigma_b, min(vup, lf_cv) / sigma_b
    maxstat = eta / sigma_b
    if not (zlo <= maxstat <= zup):
        return False
    cval = max(0.0, _norminvp(1 - mod_size, zlo, zup))
    return maxstat > cval


def _accept_grid_rm_fixed_s(
    b: np.ndarray,
    s: np.ndarray,
    num_pre: int,
    num_post: int,
    lv: np.ndarray,
    a_rm: np.ndarray,
    grid: np.ndarray,
    alpha: float,
    kappa: float,
    seed: int,
) -> np.ndarray:
    """Acceptance over the theta grid for one (s, sign): R's ``.ARP_computeCI`` with LF."""
    post = slice(num_pre, num_pre + num_post)
    rows = np.flatnonzero(np.any(a_rm[:, post] != 0, axis=1))  # postPeriodMomentsOnly
    a_gamma_inv = a_rm[:, post] @ np.linalg.inv(_construct_gamma(lv))
    a1, x_t = a_gamma_inv[:, 0], a_gamma_inv[:, 1:]
    y0 = a_rm @ b  # d = 0 for Delta^RM
    sigma_y = a_rm @ s @ a_rm.T
    sig = sigma_y[np.ix_(rows, rows)]
    lp = _make_lp(np.sqrt(np.diag(sig)), x_t[rows])
    lf_cv = _lf_critical_value(lp, sig, kappa, seed)
    accept = np.ones(len(grid), dtype=bool)
    if lp.unbounded or math.isnan(lf_cv):  # R: LP error -> "not rejecting"
        return accept
    y_all = (y0[rows][None, :] - np.outer(grid, a1[rows])).astype(float)
    eta, basis = _solve_lp(lp, y_all)
    for i in range(len(grid)):
        if basis[i] < 0:
            continue  # no solution: R does not reject
        accept[i] = not _conditional_test(
            y_all[i], float(eta[i]), int(basis[i]), lp, sig, alpha, kappa, lf_cv
        )
    return accept


def conditional_cs_rm(
    betahat: Sequence[float] | np.ndarray,
    sigma: Sequence[Sequence[float]] | np.ndarray,
    num_pre: int,
    num_post: int,
    mbar: float = 0.0,
    l_vec: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    seed: int = 0,
) -> SensitivityCI:
    """C-LF confidence set for l' beta_post under Delta^RM(Mbar) (``computeConditionalCS_DeltaRM``).

    Delta^RM(Mbar) is a union over the location s (and sign) of the largest pre-period
    first difference; for each, the hybrid ARP test (least-favourable first stage of size
    alpha/10) is inverted over a theta grid, and theta is accepted if any (s, sign)
    accepts it. R's default grid is [-20, 20] x sd(l' beta_post) with 1000 points. The
    result is the hull [min, max] of accepted grid points, as R's sensitivity tables.
    """
    b, s, lv = _prep(betahat, sigma, num_pre, num_post, l_vec)
    if num_post < 2:
        raise NotImplementedError("Delta^RM with one post period (no-nuisance test) is not ported")
    post = slice(num_pre, None)
    sd_theta = math.sqrt(float(lv @ s[post, post] @ lv))
    lo = -20 * sd_theta if grid_lb is None else grid_lb
    hi = 20 * sd_theta if grid_ub is None else grid_ub
    grid = np.linspace(lo, hi, grid_points)
    kappa = alpha / 10
    accept = np.zeros(grid_points, dtype=bool)
    for s_loc in range(-(num_pre - 1), 1):
        for positive in (True, False):
            a_rm = _create_a_rm(num_pre, num_post, mbar, s_loc, positive)
            accept |= _accept_grid_rm_fixed_s(
                b, s, num_pre, num_post, lv, a_rm, grid, alpha, kappa, seed
            )
    if not accept.any():
        return SensitivityCI(math.nan, math.nan)
    return SensitivityCI(
        float(grid[accept].min()),
        float(grid[accept].max()),
        bool(accept[0] or accept[-1]),
    )


# ---------------------------------------------------------------------------------------
# Breakdown values


def breakdown_value(
    excludes_zero: Callable[[float], bool],
    grid: Sequence[float] | np.ndarray,
    *,
    refine_tol: float | None = None,
) -> float:
    """Largest grid value at which the set excludes 0, before the first that includes it.

    Returns nan if the set already includes 0 at the first grid value, and the last grid
    value if it excludes 0 throughout (the breakdown is then at least that). With
    ``refine_tol``, bisects between the last excluding and the first including grid
    value down to that width and returns the excluding end. This assumes the sets grow
    with the bound (they are nested in theory; the grid search itself assumes nothing
    beyond returning the first switch).
    """
    g = np.asarray(grid, dtype=float)
    if not excludes_zero(float(g[0])):
        return math.nan
    last = float(g[0])
    for v in g[1:]:
        if not excludes_zero(float(v)):
            if refine_tol is None:
                return last
            lo, hi = last, float(v)
            while hi - lo > refine_tol:
                mid = (lo + hi) / 2
                if excludes_zero(mid):
                    lo = mid
                else:
                    hi = mid
            return lo
        last = float(v)
    return last


def breakdown_rm(
    betahat: Sequence[float] | np.ndarray,
    sigma: Sequence[Sequence[float]] | np.ndarray,
    num_pre: int,
    num_post: int,
    mbar_grid: Sequence[float] | np.ndarray,
    l_vec: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
    refine_tol: float | None = None,
    **kwargs: int,
) -> float:
    """Breakdown Mbar under Delta^RM: largest Mbar whose C-LF set excludes 0."""

    def excl(mbar: float) -> bool:
        ci = conditional_cs_rm(
            betahat, sigma, num_pre, num_post, mbar=mbar, l_vec=l_vec, alpha=alpha, **kwargs
        )
        return bool(ci.excludes(0.0)) if math.isfinite(ci.lb) else True

    return breakdown_value(excl, mbar_grid, refine_tol=refine_tol)


def breakdown_sd(
    betahat: Sequence[float] | np.ndarray,
    sigma: Sequence[Sequence[float]] | np.ndarray,
    num_pre: int,
    num_post: int,
    m_grid: Sequence[float] | np.ndarray,
    l_vec: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
    refine_tol: float | None = None,
) -> float:
    """Breakdown M under Delta^SD: largest M whose FLCI excludes 0."""

    def excl(m: float) -> bool:
        r = flci_sd(betahat, sigma, num_pre, num_post, m=m, l_vec=l_vec, alpha=alpha)
        return not (r.lb <= 0.0 <= r.ub)

    return breakdown_value(excl, m_grid, refine_tol=refine_tol)


# ---------------------------------------------------------------------------------------
# Event study from evaluation.did


def event_study_with_covariance(
    gt: GroupTime, *, min_e: float = -math.inf, max_e: float = math.inf
) -> EventStudy:
    """Event-study coefficients and covariance for HonestDiD from ATT(g,t) estimates.

    HonestDiD needs every coefficient measured against one common reference period, so
    ``gt`` must come from ``att_gt(..., base_period="universal")``: event time -1 is then
    the normalised 0 and is dropped. The dynamic aggregation's influence functions
    (weights' estimation included) give the joint covariance sum_i IF_i IF_i' / n^2, the
    same scaling as did's standard errors (so its diagonal is their squares); on the
    DuckDB engine (`evaluation.engine`) the same matrix comes from the moments.
    """
    # A universal base means one base period per cohort (g - 1 - anticipation).
    per_group = gt.cells.groupby("group")["base_period"].nunique()
    if (per_group > 1).any():
        raise ValueError("event_study_with_covariance needs base_period='universal' estimates")
    ref = gt.cells.loc[gt.cells["time"] == gt.cells["base_period"], "event_time"].unique()
    if len(ref) != 1:
        raise ValueError("cohorts do not share one reference event time")
    agg = aggregate(gt, "dynamic", min_e=min_e, max_e=max_e)
    keys = agg.table["key"].to_numpy()
    est = agg.table["att"].to_numpy(dtype=float)
    keep = (keys != ref[0]) & ~np.isnan(est)
    keys, est = keys[keep], est[keep]
    inf = None if agg.table_influence is None else agg.table_influence[:, keep]
    sigma = table_covariance(agg, gt.n_units, keep)  # inf' inf / n^2
    return EventStudy(
        betahat=est,
        sigma=sigma,
        event_times=keys,
        num_pre=int(np.sum(keys < ref[0])),
        num_post=int(np.sum(keys > ref[0])),
        influence=inf,
    )
