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

Pure functions: numbers in, numbers out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import erfc

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
