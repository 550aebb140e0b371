"""Multiple inference: sharpened q-values over a program's family of outcomes.

A program is judged on several outcomes at once (log sales, log employment, wages, value
added per worker, export propensity, R&D intensity, jobs...). Read one by one at 5%, some
of seven true-null effects will look significant by chance. Beside each effect's p-value
the report shows its **sharpened q-value**: the Benjamini, Krieger and Yekutieli (2006)
two-stage false discovery rate procedure, applied as Anderson (2008, "Multiple Inference
and Gender Differences in the Effects of Early Intervention", JASA 103(484)) does in his
Stata code (`fdr_sharpened_qvalues.do`): the q-value of a hypothesis is the smallest
false discovery rate q at which the procedure rejects it. Reading "q = 0.03" means: if
every effect of the family with q <= 0.03 is called real, the expected share of false
discoveries among them is at most 3%.

The family (`FAMILY`, applied by `with_family_qvalues`): per program, the whole-sample
Callaway-Sant'Anna simple effects (aggregation `simple`, subgroup `all`) of every outcome
evaluated, estimated units only. Subgroup, horizon, event-time and matching estimates
get no q-value: they re-use the same outcomes and are read as detail, not as separate
claims.

Family-wise error control (`romano_wolf`): the Romano and Wolf (2005) step-down
adjusted p-values, computed with the algorithm of Romano and Wolf (2016), from the same
multiplier bootstrap of influence functions that gives the event study its uniform band
(`evaluation.did_duckdb`: Mammen weights, one weight per unit and draw shared by every
outcome, which is what carries the outcomes' dependence into the joint test). Reading
"adjusted p = 0.03" means: calling every effect of the family with adjusted p <= 0.03
real, the probability that even one of them is a false positive is at most 3%.

Pure functions: numbers in, numbers out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import erfc

from evaluation.did import _SE_FLOOR
from evaluation.did_duckdb import _BOOT_BLOCK, _multiplier_bootstrap

# the grid of q levels stepped over, from 1 down to 0.001, as Anderson's loop does
Q_STEP = 0.001
Q_GRID = np.arange(1000, 0, -1) / 1000.0


def normal_pvalues(estimate: object, std_error: object) -> np.ndarray:
    """Two-sided p-values of H0: effect = 0 from estimates and standard errors, with the
    normal reference distribution the confidence intervals use (z = estimate / SE,
    p = 2 (1 - Phi(|z|))). NaN where the SE is missing, zero or negative, or the estimate
    is missing."""
    est = pd.to_numeric(pd.Series(np.asarray(estimate, dtype=object)), errors="coerce")
    se = pd.to_numeric(pd.Series(np.asarray(std_error, dtype=object)), errors="coerce")
    est_a = est.to_numpy(dtype=float)
    se_a = se.to_numpy(dtype=float)
    ok = np.isfinite(est_a) & np.isfinite(se_a) & (se_a > 0)
    z = np.abs(np.divide(est_a, se_a, out=np.zeros_like(est_a), where=ok))
    return np.where(ok, erfc(z / np.sqrt(2.0)), np.nan)


def sharpened_qvalues(pvalues: object) -> np.ndarray:
    """Benjamini-Krieger-Yekutieli (2006) sharpened q-values, as Anderson (2008) computes
    them; NaN p-values are left out of the family and get a NaN q-value.

    With n the number of (non-missing) p-values and p_(1) <= ... <= p_(n) in rank order
    (ties take consecutive ranks), the procedure is run at each q on the grid
    q = 1.000, 0.999, ..., 0.001 (step `Q_STEP` = 0.001), and at each q:

    1. first stage: q' = q / (1 + q); r = the largest rank k with p_(k) <= q' k / n
       (0 if none): the number of hypotheses rejected in the first stage;
    2. second stage: q* = q' n / (n - r) (infinite when r = n: every hypothesis is
       rejected); the hypotheses rejected at q are the ranks k <= the largest rank with
       p_(k) <= q* k / n.

    A hypothesis's q-value is the smallest q on the grid at which it is rejected, and 1
    when it is rejected at none (Anderson starts every q-value at 1 and overwrites it each
    time the loop, stepping down, rejects the hypothesis). So q-values are multiples of
    0.001, at least 0.001 and at most 1, and never decrease with the p-value.

    They are not always above the p-value: when the first stage rejects many hypotheses,
    the second stage's level q* exceeds q (the procedure estimates few true nulls), and a
    hypothesis can then be rejected at a q below its p (e.g. p = (0.001, 0.3) gives
    q = (0.003, 0.177)). A bound that always holds: p <= n q / (1 + q).
    """
    p = pd.to_numeric(pd.Series(np.asarray(pvalues, dtype=object)), errors="coerce")
    p_all = p.to_numpy(dtype=float)
    if np.any(p_all[np.isfinite(p_all)] < 0) or np.any(p_all[np.isfinite(p_all)] > 1):
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(p_all.shape, np.nan)
    present = np.flatnonzero(np.isfinite(p_all))
    n = len(present)
    if n == 0:
        return out
    order = present[np.argsort(p_all[present], kind="stable")]
    ranked = p_all[order]  # p_(1) <= ... <= p_(n)
    ranks = np.arange(1, n + 1, dtype=float)
    q_sorted = np.ones(n)
    for q in Q_GRID:  # from 1 down: the last q that rejects a hypothesis is its q-value
        q_adj = q / (1.0 + q)
        passing = np.flatnonzero(ranked <= q_adj * ranks / n)
        r = int(passing[-1]) + 1 if len(passing) else 0
        if r == n:  # n / (n - r) is infinite: the second stage rejects everything
            rejected = n
        else:
            q_second = q_adj * n / (n - r)
            passing = np.flatnonzero(ranked <= q_second * ranks / n)
            rejected = int(passing[-1]) + 1 if len(passing) else 0
        q_sorted[:rejected] = q
    out[order] = q_sorted
    return out


# the family: whole-sample simple effects of the design-of-record estimator
FAMILY = {"aggregation": "simple", "subgroup": "all", "status": "estimated"}


def family_mask(estimates: pd.DataFrame, estimator: str) -> pd.Series:
    """Rows of `estimates` (as `evaluation.impact.estimate_impacts` returns them) that
    belong to a program's family of outcomes: `estimator`'s estimated whole-sample simple
    effects (no key: the overall effect, not a cohort's or a year's)."""
    if estimates.empty:
        return pd.Series(False, index=estimates.index, dtype=bool)
    mask = estimates["estimator"] == estimator
    for column, value in FAMILY.items():
        mask &= estimates[column] == value
    if "key" in estimates:
        mask &= estimates["key"].isna()
    return mask.fillna(False).astype(bool)


def with_family_qvalues(estimates: pd.DataFrame, estimator: str) -> pd.DataFrame:
    """`estimates` with `pvalue` (two-sided, normal: `normal_pvalues`) and `qvalue`
    (`sharpened_qvalues` within each program's family: `family_mask`); both are NaN on
    every other row, and on family rows whose standard error is missing or zero (they
    are then left out of the family's count)."""
    out = estimates.copy()
    out["pvalue"] = np.nan
    out["qvalue"] = np.nan
    mask = family_mask(out, estimator)
    if not mask.any():
        return out
    family = out.loc[mask]
    out.loc[mask, "pvalue"] = normal_pvalues(family["estimate"], family["std_error"])
    for _, rows in out.loc[mask].groupby("program_id", sort=False):
        out.loc[rows.index, "qvalue"] = sharpened_qvalues(rows["pvalue"])
    return out


# ---------------------------------------------------------------------------- Romano-Wolf

# Bootstrap draws by default: with p = (count + 1) / (draws + 1) the p-values fall on a
# grid of 1/1000.
RW_DRAWS = 999
MULTIPLIER_WEIGHTS = ("mammen", "rademacher")


def aligned_influence(
    pieces: Sequence[tuple[object, object] | None],
) -> tuple[np.ndarray, np.ndarray]:
    """Align per-outcome influence functions on the union of their units.

    Each piece is ``(unit_ids, influence)`` for one outcome, in the convention of
    `evaluation.did` (``AggregateATT.influence`` with ``GroupTimeATT.unit_ids``): the
    estimate's deviation is the mean of the influence function over the outcome's own
    ``n_k = len(unit_ids)`` units, so its SE is ``sqrt(sum psi^2) / n_k``. ``None`` (an
    outcome not estimated) gives a column of NaN, which `romano_wolf` leaves out.

    Returns ``(unit_ids, matrix)``: the union of the ids (sorted when they can be) and an
    ``n x K`` matrix, columns in ``pieces`` order, zero where a unit does not enter an
    outcome, each column rescaled by ``n / n_k`` so that every column follows the same
    convention on the ``n`` common units (deviation = column sum / n, SE = sqrt(column
    sum of squares) / n: unchanged). Raises ValueError on duplicated ids within a piece
    or ids and influence of different lengths.
    """
    ids_list: list[np.ndarray] = []
    values: list[np.ndarray | None] = []
    for k, piece in enumerate(pieces):
        if piece is None:
            values.append(None)
            continue
        ids = np.asarray(piece[0]).ravel()
        psi = np.asarray(piece[1], dtype=float).ravel()
        if len(ids) != len(psi):
            raise ValueError(f"outcome {k}: {len(ids)} unit ids but {len(psi)} influence values")
        if pd.Index(ids).has_duplicates:
            raise ValueError(f"outcome {k}: duplicated unit ids")
        ids_list.append(ids)
        values.append(psi)
    union = pd.Index(np.concatenate(ids_list) if ids_list else np.array([])).unique()
    # a fixed unit order, whatever order the outcomes list their units in (ids of mixed
    # types cannot be sorted: they keep the order of first appearance)
    with contextlib.suppress(TypeError):
        union = union.sort_values()
    n = len(union)
    out = np.zeros((n, len(values)))
    pos = iter(ids_list)
    for k, column in enumerate(values):
        if column is None:
            out[:, k] = np.nan
            continue
        rows = union.get_indexer(next(pos))
        out[rows, k] = column * (n / len(column)) if len(column) else 0.0
    return union.to_numpy(), out


def _check_bootstrap_args(draws: int, seed: int, weights: str) -> None:
    if isinstance(draws, bool) or int(draws) != draws or draws < 1:
        raise ValueError(f"draws must be an integer >= 1, got {draws!r}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if weights not in MULTIPLIER_WEIGHTS:
        raise ValueError(f"weights must be one of {MULTIPLIER_WEIGHTS}, got {weights!r}")


def _rademacher_bootstrap(influence: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Sums over units of Rademacher-weighted influence functions, per draw: the same
    streams as the Mammen draws (block j of units: ``default_rng([seed, j])``), with
    v = -1 when the raw 32-bit draw is below 2^31, else +1."""
    sums = np.zeros((draws, influence.shape[1]))
    for j, lo in enumerate(range(0, len(influence), _BOOT_BLOCK)):
        block = influence[lo : lo + _BOOT_BLOCK]
        m = len(block)
        bit_gen = np.random.default_rng([seed, j]).bit_generator
        raw = bit_gen.random_raw((draws * m + 1) // 2).view(np.uint32)[: draws * m]
        minus = (raw.reshape(draws, m) < np.uint32(2**31)).astype(float)
        sums += block.sum(axis=0) - 2.0 * (minus @ block)
    return sums


def bootstrap_deviations(
    influence: object,
    *,
    draws: int = RW_DRAWS,
    seed: int,
    weights: Literal["mammen", "rademacher"] = "mammen",
) -> np.ndarray:
    """Multiplier-bootstrap deviations of K estimates: a ``draws x K`` array whose row b
    is ``sum_i v_ib psi_ik / n`` (the bootstrap analogue of estimate_k - effect_k).

    ``influence`` is ``n x K`` (rows = units, `evaluation.did` convention: deviation =
    column mean; see `aligned_influence`). Each unit gets one weight per draw, used for
    every column, so the draws keep the dependence between the K estimates. ``"mammen"``
    are the project's weights, drawn exactly as the event study's uniform band draws
    them (`evaluation.did_duckdb`: same seed and unit order, same weights; float32
    products, ~1e-7 relative); ``"rademacher"`` (+-1) use the same random streams.
    """
    _check_bootstrap_args(draws, seed, weights)
    psi = np.asarray(influence, dtype=float)
    if psi.ndim != 2:
        raise ValueError("influence must be a 2-D array (units x estimates)")
    n, k = psi.shape
    if n == 0:
        return np.zeros((int(draws), k))
    if weights == "mammen":
        step = 16 * _BOOT_BLOCK
        chunks = (psi[i : i + step] for i in range(0, n, step))
        sums, _ = _multiplier_bootstrap(chunks, k, int(draws), int(seed))
    else:
        sums = _rademacher_bootstrap(psi, int(draws), int(seed))
    return sums / n


def romano_wolf(
    estimates: object,
    influence: object,
    *,
    std_errors: object | None = None,
    draws: int = RW_DRAWS,
    seed: int,
    weights: Literal["mammen", "rademacher"] = "mammen",
) -> np.ndarray:
    """Romano-Wolf step-down adjusted p-values of two-sided H0_k: effect_k = 0.

    Family-wise error control (Romano and Wolf 2005, "Stepwise multiple testing as
    formalized data snooping", Econometrica 73(4)), adjusted p-values computed with
    Romano and Wolf (2016, "Efficient computation of adjusted p-values for
    resampling-based stepdown multiple testing", Statistics & Probability Letters 113,
    38-40), the algorithm of Stata's ``rwolf`` (Clarke, Romano and Wolf 2020) and R's
    ``wildrwolf``. The resampling is the multiplier bootstrap of the influence
    functions (`bootstrap_deviations`).

    Args:
        estimates: the K estimates.
        influence: ``n x K`` per-unit influence functions of the estimates, rows aligned
            on the same units, zero where a unit does not enter an outcome, in the
            convention of `evaluation.did` (deviation = column sum / n; build it with
            `aligned_influence` from per-outcome ids and influence functions).
        std_errors: the K standard errors; default ``sqrt(sum_i psi_ik^2) / n``, the
            analytic SE of `evaluation.did` (NaN below its floor).
        draws: bootstrap draws B.
        seed: seed of the multiplier weights; same seed, same p-values.
        weights: ``"mammen"`` (the project's, as the event study's band) or
            ``"rademacher"``.

    Returns:
        K adjusted p-values. An outcome whose estimate, SE or influence function is
        missing (or SE <= 0) gets NaN and is left out of the family; the others are
        adjusted among themselves, with the same draws.

    With t_k = estimate_k / SE_k and bootstrap statistics t*_bk = deviation_bk / SE_k
    (studentized by the same SE: the multiplier draws are already centred at the
    estimate), order the hypotheses by |t| decreasing, r_1, ..., r_S. For s = 1..S:
    ``max*_bs = max_{j >= s} |t*_{b, r_j}|`` over the hypotheses not yet stepped past,
    ``p_init(r_s) = (#{b: max*_bs >= |t_{r_s}|} + 1) / (B + 1)``, and the adjusted
    ``p(r_s) = max(p_init(r_s), p(r_{s-1}))`` (step-down monotonicity). So adjusted
    p-values never decrease as |t| decreases, and each is at least the outcome's own
    bootstrap p-value ``(#{b: |t*_bk| >= |t_k|} + 1) / (B + 1)``; with one outcome (or
    perfectly dependent ones) they are that p-value.
    """
    _check_bootstrap_args(draws, seed, weights)
    est = np.asarray(estimates, dtype=float).ravel()
    psi = np.asarray(influence, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    if psi.ndim != 2 or psi.shape[1] != len(est):
        raise ValueError(f"influence must be n_units x {len(est)}, got shape {psi.shape}")
    n = psi.shape[0]
    finite_psi = np.isfinite(psi).all(axis=0)
    if std_errors is None:
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.sum(psi**2, axis=0)) / n if n else np.full(len(est), np.nan)
        se = np.where(se <= _SE_FLOOR, np.nan, se)  # as did: a zero SE is no SE
    else:
        se = np.asarray(std_errors, dtype=float).ravel()
        if len(se) != len(est):
            raise ValueError(f"std_errors must have {len(est)} values, got {len(se)}")
    keep = np.isfinite(est) & np.isfinite(se) & (se > 0) & finite_psi
    out = np.full(len(est), np.nan)
    if not keep.any():
        return out
    t = np.abs(est[keep] / se[keep])
    t_star = np.abs(
        bootstrap_deviations(psi[:, keep], draws=draws, seed=seed, weights=weights) / se[keep]
    )
    order = np.argsort(-t, kind="stable")  # r_1, ..., r_S: |t| decreasing
    # max over the hypotheses still in play at step s = reverse cumulative max
    max_star = np.maximum.accumulate(t_star[:, order][:, ::-1], axis=1)[:, ::-1]
    exceed = np.sum(max_star >= t[order], axis=0)
    p_init = (exceed + 1.0) / (draws + 1.0)
    p_adj = np.maximum.accumulate(p_init)  # step-down: never below an earlier step's p
    kept = np.flatnonzero(keep)
    out[kept[order]] = p_adj
    return out
