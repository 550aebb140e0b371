"""Matching on observables followed by difference-in-differences (matching + DID).

The method of record in much of the evaluation literature on manufacturing extension
programs: estimate each firm's propensity to join the program from pre-treatment
characteristics, pair every beneficiary with the most similar non-beneficiaries in the
same country and sector, then compare the before/after change of the beneficiaries with
that of their matched controls. Matching removes differences in *trends* that are explained
by the covariates (e.g. larger firms growing faster), which a plain DID cannot.

Two pure functions:

* :func:`match` - logit propensity score (statsmodels), exact matching on keys such as
  country and ISIC division, nearest-neighbour matching on the logit of the propensity
  score (default), on the score itself, or on the covariates (Mahalanobis distance), with
  ``k`` neighbours, with or without replacement, a caliper (default 0.2 pooled SD of the
  logit score, Austin 2011) and common-support trimming within each exact cell; returns
  the matched sets, matching weights, counts and a covariate balance table.
* :func:`matched_did` - DID on the matched sample, by event time relative to each
  beneficiary's entry year and over a post window, with a bootstrap over matched sets.

Standard errors (choice and limits). :func:`matched_did` resamples *matched sets*
(a beneficiary together with its matched controls and their whole outcome series) with
replacement, B = 499 times by default, with a seeded generator. Because each set carries
all years of its firms, serial correlation within firms is accounted for (a firm-clustered
bootstrap over treated units). Limits:

* inference is conditional on the estimated propensity score and on the chosen matches;
  re-matching inside the bootstrap is not done (Abadie and Imbens 2008 show that the naive
  bootstrap of nearest-neighbour matching estimators is invalid); resampling matched sets
  is the approach Austin and Small (2014) found to perform well for matching *without*
  replacement;
* with replacement, a control used by several beneficiaries makes their matched sets
  dependent, which the bootstrap ignores: the SE can be too small when controls are reused
  heavily (``MatchedDID.max_control_reuse`` reports the worst case). Abadie-Imbens
  analytic variances would handle this but are not implemented.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
import statsmodels.api as sm

__all__ = ["MatchResult", "MatchedDID", "match", "matched_did"]

_DISTANCES = ("logit_ps", "ps", "mahalanobis")
_ON_EMPTY = ("raise", "drop")
# status of each firm in MatchResult.scores
MATCHED, OFF_SUPPORT, CALIPER, EXHAUSTED, EMPTY_CELL, CONTROL = (
    "matched",
    "off_support",
    "caliper",
    "exhausted",
    "empty_cell",
    "control",
)


@dataclass(frozen=True)
class MatchResult:
    """Matched sets, weights, counts and balance from :func:`match`.

    ``pairs``: one row per (treated, control) match with columns ``treated_id``,
    ``control_id``, the exact keys, ``distance`` (on the matching metric) and ``weight``
    (1 / number of controls matched to that treated firm).
    ``weights``: one row per firm in the matched sample: ``unit`` id, ``treated``,
    ``weight`` (1 for a matched treated firm; for a control, the sum of its pair weights,
    so a control reused with replacement counts several times) and ``n_matches``.
    ``scores``: every input firm with ``pscore``, ``logit_ps`` (NaN if no score was
    estimated) and ``status`` (matched, off_support, caliper, exhausted, empty_cell or
    control).
    ``balance``: per covariate, treated and control means, standardized mean difference
    (denominator: pooled SD of the unmatched sample, sqrt((s_t^2 + s_c^2) / 2), for both
    columns) and variance ratio (treated / control), before and after matching; after
    matching, controls are weighted by ``weights``.
    Counts: ``n_treated`` = ``n_matched`` + ``n_dropped_support`` + ``n_dropped_caliper``
    + ``n_dropped_exhausted`` (no unused control left, without replacement)
    + ``n_dropped_empty_cell`` (exact cell without controls, ``on_empty_cell="drop"``).
    ``caliper_width`` is the caliper on the ``caliper_scale`` ("logit_ps" or "ps") scale.
    """

    pairs: pd.DataFrame
    weights: pd.DataFrame
    scores: pd.DataFrame
    balance: pd.DataFrame
    n_treated: int
    n_controls: int
    n_matched: int
    n_controls_used: int
    n_dropped_support: int
    n_dropped_caliper: int
    n_dropped_exhausted: int
    n_dropped_empty_cell: int
    distance: str
    k: int
    replace: bool
    caliper: float | None
    caliper_width: float | None
    caliper_scale: str | None
    exact: tuple[str, ...]
    covariates: tuple[str, ...]


@dataclass(frozen=True)
class MatchedDID:
    """DID on a matched sample (:func:`matched_did`).

    ``table``: one row per event time e (relative to the beneficiary's entry year, from
    ``pre[0]`` to ``post[1]``) with ``att`` (mean over matched beneficiaries of
    [y(g+e) - pre mean] minus the same for their weighted matched controls; pre-window
    rows are placebo deviations from the pre mean), bootstrap ``se``, normal ``ci_low`` /
    ``ci_high`` and ``n_treated`` (beneficiaries contributing). ``overall_*``: the same
    with the post-window mean in place of y(g+e). ``by_treated``: the per-beneficiary
    overall contrast (``treated_id``, ``entry``, ``contrast``).
    """

    overall_att: float
    overall_se: float
    ci_low: float
    ci_high: float
    n_treated: int
    n_controls: int
    table: pd.DataFrame
    by_treated: pd.DataFrame
    pre: tuple[int, int]
    post: tuple[int, int]
    n_boot: int
    seed: int
    level: float
    max_control_reuse: int


# ----------------------------------------------------------------------------- matching


def _require_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing required column(s): {', '.join(map(repr, missing))}")


def _treated_flag(values: pd.Series, name: str) -> np.ndarray:
    if values.isna().any():
        raise ValueError(f"column {name!r} has missing values; it must be 0/1 or boolean")
    arr = values.to_numpy()
    if arr.dtype == bool:
        return arr
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(num).any() or not np.isin(num, (0.0, 1.0)).all():
        raise ValueError(f"column {name!r} must be 0/1 or boolean")
    return num == 1.0


def _covariate_matrix(firms: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
    x = np.column_stack(
        [
            pd.to_numeric(firms[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            for c in covariates
        ]
    )
    bad = [c for c, col in zip(covariates, x.T, strict=True) if not np.isfinite(col).all()]
    if bad:
        # Dropping firms silently would change the treated population being evaluated.
        raise ValueError(
            f"covariate(s) {', '.join(map(repr, bad))} have missing or non-numeric values; "
            "impute or drop those firms before matching"
        )
    return x


def _propensity(x: np.ndarray, d: np.ndarray, covariates: Sequence[str]) -> np.ndarray:
    """Linear index of a logit of treatment on the covariates (the logit PS)."""
    sd = x.std(axis=0)
    constant = [c for c, s in zip(covariates, sd, strict=True) if s == 0]
    if constant:
        raise ValueError(f"covariate(s) {', '.join(map(repr, constant))} are constant")
    # Standardising does not change the fitted score but helps Newton converge.
    z = sm.add_constant((x - x.mean(axis=0)) / sd, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # separation / non-convergence -> no usable score
        try:
            fit = sm.Logit(d.astype(float), z).fit(disp=0, maxiter=200)
        except Exception as exc:  # statsmodels raises several types here
            raise ValueError(
                "the propensity-score logit failed (perfect separation or no convergence: "
                f"treated and control firms do not overlap on the covariates): {exc}"
            ) from exc
    if not fit.mle_retvals.get("converged", True):
        raise ValueError("the propensity-score logit did not converge")
    return np.asarray(z @ fit.params, dtype=float)


def _pooled_sd(v: np.ndarray, d: np.ndarray) -> float:
    return math.sqrt((np.var(v[d], ddof=1) + np.var(v[~d], ddof=1)) / 2)


def _whitener(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """W with ||(x_i - x_j) W|| = Mahalanobis distance (pooled within-group covariance)."""
    xt, xc = x[d] - x[d].mean(axis=0), x[~d] - x[~d].mean(axis=0)
    cov = (xt.T @ xt + xc.T @ xc) / (len(x) - 2)
    vals, vecs = np.linalg.eigh(cov)
    # Pseudo-inverse square root: collinear covariates add nothing to the distance.
    keep = vals > vals.max() * 1e-10
    inv_sqrt = np.where(keep, 1.0 / np.sqrt(np.where(keep, vals, 1.0)), 0.0)
    return np.asarray(vecs * inv_sqrt, dtype=float)


def _match_cell(
    feat_t: np.ndarray,
    feat_c: np.ndarray,
    cal_t: np.ndarray | None,
    cal_c: np.ndarray | None,
    width: float | None,
    k: int,
    replace: bool,
    order: np.ndarray,
) -> tuple[list[list[tuple[int, float]]], list[str]]:
    """Nearest-neighbour matching of one exact cell; positions are within the cell."""
    n_t, n_c = len(feat_t), len(feat_c)
    matches: list[list[tuple[int, float]]] = [[] for _ in range(n_t)]
    status = [MATCHED] * n_t

    def candidates(i: int) -> tuple[np.ndarray, np.ndarray]:
        dist = np.sqrt(((feat_c - feat_t[i]) ** 2).sum(axis=1))
        if width is None or cal_t is None or cal_c is None:
            return dist, np.ones(n_c, dtype=bool)
        return dist, np.abs(cal_c - cal_t[i]) <= width

    if replace:
        for i in order:
            dist, within = candidates(i)
            cand = np.flatnonzero(within)
            if len(cand) == 0:
                status[i] = CALIPER
                continue
            best = cand[np.argsort(dist[cand], kind="stable")[:k]]
            matches[i] = [(int(j), float(dist[j])) for j in best]
        return matches, status

    # Without replacement: greedy, in k passes so every beneficiary gets a first match
    # before anyone gets a second (as MatchIt does for ratio matching).
    available = np.ones(n_c, dtype=bool)
    active = list(order)
    for r in range(k):
        still = []
        for i in active:
            dist, within = candidates(i)
            cand = np.flatnonzero(within & available)
            if len(cand) == 0:
                if r == 0:
                    status[i] = CALIPER if not within.any() else EXHAUSTED
                continue
            j = int(cand[np.argmin(dist[cand])])
            available[j] = False
            matches[i].append((j, float(dist[j])))
            still.append(i)
        active = still
    return matches, status


def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means and (reliability-weight, unbiased) variances per column."""
    sw = w.sum()
    mean = (w[:, None] * x).sum(axis=0) / sw
    denom = sw - (w**2).sum() / sw  # = n - 1 with equal weights
    var = (w[:, None] * (x - mean) ** 2).sum(axis=0) / denom if denom > 0 else np.nan * mean
    return mean, var


def _balance(
    x: np.ndarray, d: np.ndarray, w_after: np.ndarray, covariates: Sequence[str]
) -> pd.DataFrame:
    ones = np.ones(len(x))
    mt_b, vt_b = _wmean_var(x[d], ones[d])
    mc_b, vc_b = _wmean_var(x[~d], ones[~d])
    # The SMD denominator stays the unmatched pooled SD so that before/after are on one
    # scale and matching cannot "improve" balance by shrinking the variance.
    pooled = np.sqrt((vt_b + vc_b) / 2)
    pooled = np.where(pooled > 0, pooled, np.nan)
    t_in, c_in = d & (w_after > 0), ~d & (w_after > 0)
    nan = np.full(len(covariates), np.nan)
    if t_in.any() and c_in.any():
        mt_a, vt_a = _wmean_var(x[t_in], w_after[t_in])
        mc_a, vc_a = _wmean_var(x[c_in], w_after[c_in])
    else:
        mt_a = vt_a = mc_a = vc_a = nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "covariate": list(covariates),
                "mean_treated_before": mt_b,
                "mean_control_before": mc_b,
                "smd_before": (mt_b - mc_b) / pooled,
                "var_ratio_before": vt_b / vc_b,
                "mean_treated_after": mt_a,
                "mean_control_after": mc_a,
                "smd_after": (mt_a - mc_a) / pooled,
                "var_ratio_after": vt_a / vc_a,
            }
        )


def _cell_label(firms: pd.DataFrame, exact: Sequence[str], row: int) -> str:
    values = [firms[c].iloc[row] for c in exact]
    # numpy scalars -> plain Python so the message reads isic=25, not np.int64(25)
    plain = [v.item() if isinstance(v, np.generic) else v for v in values]
    return ", ".join(f"{c}={v!r}" for c, v in zip(exact, plain, strict=True)) or "(all firms)"


def match(
    firms: pd.DataFrame,
    *,
    unit: str,
    treated: str,
    covariates: Sequence[str],
    exact: Sequence[str] = (),
    distance: str = "logit_ps",
    k: int = 1,
    replace: bool = False,
    caliper: float | None = 0.2,
    common_support: bool = True,
    on_empty_cell: str = "raise",
) -> MatchResult:
    """Match each treated firm to its nearest control firms within exact cells.

    Args:
        firms: one row per firm with pre-treatment characteristics.
        unit: firm id column (unique).
        treated: 0/1 or boolean column, 1 = program beneficiary.
        covariates: numeric pre-treatment covariates (e.g. baseline log employment, log
            sales, firm age, exporter flag); used in the propensity logit, in the
            Mahalanobis distance and in the balance table.
        exact: keys matched exactly (e.g. country, ISIC division); a treated firm is only
            ever paired with controls sharing all of them.
        distance: "logit_ps" (default; |difference in the logit of the score|), "ps"
            (|difference in the score|) or "mahalanobis" (covariates, pooled within-group
            covariance). With "mahalanobis" the caliper and support still use the logit
            score (Mahalanobis matching within propensity calipers, Rosenbaum and Rubin
            1985); ``caliper=None, common_support=False`` gives plain Mahalanobis
            nearest-neighbour matching and no score is estimated.
        k: neighbours per treated firm (fewer are kept if fewer are within the caliper).
        replace: whether a control may be matched to several treated firms. Without
            replacement matching is greedy, highest propensity score first (those are the
            hardest to match), ties broken by firm order.
        caliper: maximum distance, in pooled SDs of the score (logit score for "logit_ps"
            and "mahalanobis", score for "ps"); default 0.2 (Austin 2011). ``None``: none.
        common_support: drop treated firms whose score lies outside the range of the
            control scores in their exact cell.
        on_empty_cell: "raise" (default) a ValueError if some exact cell has treated firms
            but no control, or "drop" those treated firms (counted in the result).

    Returns:
        MatchResult with pairs, weights, per-firm scores/status, counts and balance.

    Raises:
        ValueError: missing columns, duplicate ids, missing covariates or keys, bad
            options, no treated or no control firms, an exact cell without controls
            (with ``on_empty_cell="raise"``), or a propensity logit that cannot be fitted.
    """
    covariates, exact = tuple(covariates), tuple(exact)
    if not covariates:
        raise ValueError("at least one covariate is needed")
    if distance not in _DISTANCES:
        raise ValueError(f"distance must be one of {_DISTANCES}, got {distance!r}")
    if on_empty_cell not in _ON_EMPTY:
        raise ValueError(f"on_empty_cell must be one of {_ON_EMPTY}, got {on_empty_cell!r}")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    k = int(k)
    if caliper is not None and not caliper > 0:
        raise ValueError(f"caliper must be positive or None, got {caliper!r}")
    _require_columns(firms, (unit, treated, *covariates, *exact), "firms table")
    if firms[unit].isna().any():
        raise ValueError(f"column {unit!r} has missing firm ids")
    if firms[unit].duplicated().any():
        raise ValueError(f"firms table must have one row per firm; {unit!r} has duplicates")
    for key in exact:
        if firms[key].isna().any():
            raise ValueError(f"exact-match key {key!r} has missing values")

    firms = firms.reset_index(drop=True)
    d = _treated_flag(firms[treated], treated)
    if not d.any():
        raise ValueError("no treated firms in the firms table")
    if d.all():
        raise ValueError("no control (untreated) firms in the firms table")
    x = _covariate_matrix(firms, covariates)
    cell = (
        firms.groupby(list(exact), sort=True).ngroup().to_numpy()
        if exact
        else np.zeros(len(firms), dtype=np.int64)
    )
    status = np.where(d, MATCHED, CONTROL).astype(object)

    # Cells with treated firms but no control: raise or drop before fitting the score.
    n_c_by_cell = np.bincount(cell[~d], minlength=cell.max() + 1)
    empty = d & (n_c_by_cell[cell] == 0)
    if empty.any():
        first = int(np.flatnonzero(empty)[0])
        if on_empty_cell == "raise":
            raise ValueError(
                f"no control firms in exact-match cell {_cell_label(firms, exact, first)} "
                f"({int((empty & (cell == cell[first])).sum())} treated); drop those firms "
                "or pass on_empty_cell='drop'"
            )
        status[empty] = EMPTY_CELL
    if not (d & ~empty).any():
        raise ValueError("no exact-match cell holds both treated and control firms")

    need_score = distance != "mahalanobis" or caliper is not None or common_support
    fit_rows = ~empty  # firms in empty cells cannot be matched; keep them out of the logit
    logit = np.full(len(firms), np.nan)
    if need_score:
        logit[fit_rows] = _propensity(x[fit_rows], d[fit_rows], covariates)
    pscore = 1.0 / (1.0 + np.exp(-logit))
    cal_scale: str | None = None
    width: float | None = None
    cal_score: np.ndarray | None = None
    if caliper is not None:
        cal_scale = "ps" if distance == "ps" else "logit_ps"
        cal_score = pscore if cal_scale == "ps" else logit
        width = caliper * _pooled_sd(cal_score[fit_rows], d[fit_rows])
    if distance == "mahalanobis":
        feat = x @ _whitener(x[fit_rows], d[fit_rows])
    else:
        feat = (pscore if distance == "ps" else logit)[:, None]

    ids = firms[unit].to_numpy()
    pair_rows: list[tuple[int, int, float, float]] = []
    for c in np.unique(cell[fit_rows]):
        t_pos = np.flatnonzero((cell == c) & d & fit_rows)
        c_pos = np.flatnonzero((cell == c) & ~d)
        if len(t_pos) == 0:
            continue
        if common_support:
            lo, hi = logit[c_pos].min(), logit[c_pos].max()
            off = (logit[t_pos] < lo) | (logit[t_pos] > hi)
            status[t_pos[off]] = OFF_SUPPORT
            t_pos = t_pos[~off]
            if len(t_pos) == 0:
                continue
        # Highest score first (hardest to match); without a score, firm order.
        order = np.argsort(-logit[t_pos], kind="stable") if need_score else np.arange(len(t_pos))
        cell_matches, cell_status = _match_cell(
            feat[t_pos],
            feat[c_pos],
            None if cal_score is None else cal_score[t_pos],
            None if cal_score is None else cal_score[c_pos],
            width,
            k,
            replace,
            order,
        )
        for i, (found, st) in enumerate(zip(cell_matches, cell_status, strict=True)):
            status[t_pos[i]] = st
            for j, dist in found:
                pair_rows.append((int(t_pos[i]), int(c_pos[j]), dist, 1.0 / len(found)))

    t_idx = np.array([p[0] for p in pair_rows], dtype=np.int64)
    c_idx = np.array([p[1] for p in pair_rows], dtype=np.int64)
    pair_w = np.array([p[3] for p in pair_rows], dtype=float)
    pairs = pd.DataFrame({"treated_id": ids[t_idx], "control_id": ids[c_idx]})
    for key in exact:
        pairs[key] = firms[key].to_numpy()[t_idx]
    pairs["distance"] = np.array([p[2] for p in pair_rows], dtype=float)
    pairs["weight"] = pair_w

    w_after = np.zeros(len(firms))
    w_after[np.unique(t_idx)] = 1.0
    np.add.at(w_after, c_idx, pair_w)
    n_matches = np.bincount(t_idx, minlength=len(firms)) + np.bincount(c_idx, minlength=len(firms))
    in_sample = np.flatnonzero(w_after > 0)
    weights = pd.DataFrame(
        {
            "unit": ids[in_sample],
            "treated": d[in_sample],
            "weight": w_after[in_sample],
            "n_matches": n_matches[in_sample],
        }
    )
    scores = pd.DataFrame(
        {"unit": ids, "treated": d, "pscore": pscore, "logit_ps": logit, "status": status}
    )
    counts = {s: int(np.sum(status == s)) for s in (MATCHED, OFF_SUPPORT, CALIPER, EXHAUSTED)}
    return MatchResult(
        pairs=pairs,
        weights=weights,
        scores=scores,
        balance=_balance(x, d, w_after, covariates),
        n_treated=int(d.sum()),
        n_controls=int((~d).sum()),
        n_matched=counts[MATCHED],
        n_controls_used=int(((w_after > 0) & ~d).sum()),
        n_dropped_support=counts[OFF_SUPPORT],
        n_dropped_caliper=counts[CALIPER],
        n_dropped_exhausted=counts[EXHAUSTED],
        n_dropped_empty_cell=int(empty.sum()),
        distance=distance,
        k=k,
        replace=replace,
        caliper=caliper,
        caliper_width=width,
        caliper_scale=cal_scale,
        exact=exact,
        covariates=covariates,
    )


# ----------------------------------------------------------------------------- DID


def _wide_panel(
    panel: pd.DataFrame, unit: str, time: str, cohort: str, outcome: str
) -> tuple[np.ndarray, pd.Index, int, pd.Series]:
    """Outcomes as firms x consecutive years (NaN = unobserved), first year, cohorts."""
    _require_columns(panel, (unit, time, cohort, outcome), "panel")
    t = pd.to_numeric(panel[time], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(t).all() or not np.all(t == np.round(t)):
        raise ValueError(f"column {time!r} must hold integer periods")
    y = pd.to_numeric(panel[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    g = pd.to_numeric(panel[cohort], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    codes, uniq = pd.factorize(panel[unit])
    g_by_unit = pd.Series(np.nan_to_num(g, nan=0.0)).groupby(codes)
    if (g_by_unit.min() != g_by_unit.max()).any():
        raise ValueError(f"column {cohort!r} must be constant within each {unit!r}")
    t0 = int(t.min())
    col = t.astype(np.int64) - t0
    keep = ~np.isnan(y)
    flat = codes[keep] * (int(col.max()) + 1) + col[keep]
    if len(np.unique(flat)) < len(flat):
        raise ValueError(f"duplicate ({unit!r}, {time!r}) rows with non-missing {outcome!r}")
    wide = np.full((len(uniq), int(col.max()) + 1), np.nan)
    wide[codes[keep], col[keep]] = y[keep]
    cohorts = pd.Series(g_by_unit.first().to_numpy(), index=pd.Index(uniq))
    return wide, pd.Index(uniq), t0, cohorts


def _window_values(
    wide: np.ndarray, rows: np.ndarray, years: np.ndarray, t0: int, events: np.ndarray
) -> np.ndarray:
    """wide[row, year + e - t0] for each (row, year) and event time e; NaN outside."""
    col = years[:, None] + events[None, :] - t0
    inside = (col >= 0) & (col < wide.shape[1])
    out = np.full(col.shape, np.nan)
    r = np.broadcast_to(rows[:, None], col.shape)
    out[inside] = wide[r[inside], col[inside]]
    return out


def _nanmean_rows(a: np.ndarray) -> np.ndarray:
    n = (~np.isnan(a)).sum(axis=1)
    s = np.nansum(a, axis=1)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def matched_did(
    result: MatchResult,
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    pre: tuple[int, int] = (-3, -1),
    post: tuple[int, int] = (0, 3),
    n_boot: int = 499,
    seed: int = 0,
    level: float = 0.95,
) -> MatchedDID:
    """Difference-in-differences of matched beneficiaries against their matched controls.

    For a beneficiary i entering in year g with matched controls j (pair weights w_ij),
    Delta_i(e) = y_i(g+e) - mean_{e' in pre} y_i(g+e'), and likewise Delta_j(e) on the
    *same calendar years* (i's entry year is the control's pseudo entry year). The
    contrast is c_i(e) = Delta_i(e) - sum_j w_ij Delta_j(e) / sum_j w_ij over controls
    observed in those years; ATT(e) is the mean of c_i(e) over beneficiaries, which with
    a balanced panel equals the matching-weighted DID (controls counted as often as they
    are used). The overall ATT uses the post-window mean instead of y(g+e).

    Args:
        result: output of :func:`match`; its ids must be the panel's ``unit`` ids.
        panel: long firm-year panel (one row per firm and year).
        unit, time, cohort, outcome: column names; ``cohort`` is the entry year
            (0/NaN = never treated), as in :func:`evaluation.did.att_gt`.
        pre, post: inclusive event-time windows (pre[0] <= pre[1] < 0 <= post[0] <=
            post[1]); the table covers every e from pre[0] to post[1].
        n_boot: bootstrap replications over matched sets (see the module docstring for
            what this SE does and does not account for).
        seed: seed of the bootstrap generator.
        level: confidence level of the normal intervals.

    Returns:
        MatchedDID with the overall and per-event-time ATT, SEs and intervals.

    Raises:
        ValueError: missing columns, bad windows, matched firms absent from the panel, a
            matched beneficiary without an entry year, or a matched control that is a
            beneficiary in the panel.
    """
    pre, post = (int(pre[0]), int(pre[1])), (int(post[0]), int(post[1]))
    if not (pre[0] <= pre[1] < 0 <= post[0] <= post[1]):
        raise ValueError(f"need pre[0] <= pre[1] < 0 <= post[0] <= post[1]; got {pre}, {post}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    pairs = result.pairs
    if pairs.empty:
        raise ValueError("the match result has no matched pairs")
    wide, ids, t0, cohorts = _wide_panel(panel, unit, time, cohort, outcome)

    treated_ids = pd.unique(pairs["treated_id"])
    for what, wanted in (("treated", treated_ids), ("control", pd.unique(pairs["control_id"]))):
        # looked up in the panel's index of firms (a hash table): Index.isin would build a
        # Python set of every firm id of the panel, seconds at a national register
        absent = ids.get_indexer(wanted) < 0
        if absent.any():
            raise ValueError(
                f"{int(absent.sum())} matched {what} firm(s) are not in the panel "
                f"(e.g. {wanted[absent][0]!r})"
            )
    entry = cohorts.reindex(treated_ids).to_numpy()
    if (entry <= 0).any():
        bad = treated_ids[entry <= 0][0]
        raise ValueError(
            f"matched treated firm {bad!r} has no entry year ({cohort!r}) in the panel"
        )
    ctrl_cohort = cohorts.reindex(pd.unique(pairs["control_id"])).to_numpy()
    if (ctrl_cohort > 0).any():
        raise ValueError(
            f"a matched control firm has an entry year in the panel's {cohort!r}; "
            "controls must be never-treated firms"
        )

    events = np.arange(pre[0], post[1] + 1)
    in_pre = (events >= pre[0]) & (events <= pre[1])
    in_post = (events >= post[0]) & (events <= post[1])
    n1 = len(treated_ids)
    t_pos = pd.Index(treated_ids).get_indexer(pairs["treated_id"])  # matched set per pair
    g_set = entry.astype(np.int64)

    def deltas(rows: np.ndarray, years: np.ndarray) -> np.ndarray:
        """Per row: [Delta(e) for e in events] + [post mean - pre mean]."""
        vals = _window_values(wide, rows, years, t0, events)
        base = _nanmean_rows(vals[:, in_pre])
        return np.column_stack([vals - base[:, None], _nanmean_rows(vals[:, in_post]) - base])

    dt = deltas(ids.get_indexer(treated_ids), g_set)
    dc = deltas(ids.get_indexer(pairs["control_id"]), g_set[t_pos])
    w = pairs["weight"].to_numpy(dtype=float)
    ok = ~np.isnan(dc)
    wsum = np.zeros((n1, dc.shape[1]))
    wy = np.zeros((n1, dc.shape[1]))
    np.add.at(wsum, t_pos, w[:, None] * ok)
    np.add.at(wy, t_pos, w[:, None] * np.where(ok, dc, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        contrast = dt - np.where(wsum > 0, wy / wsum, np.nan)

    avail = ~np.isnan(contrast)
    filled = np.where(avail, contrast, 0.0)
    n_avail = avail.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        att = np.where(n_avail > 0, filled.sum(axis=0) / np.maximum(n_avail, 1), np.nan)

    # Bootstrap over matched sets: multinomial counts of each beneficiary's set.
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n1, np.full(n1, 1.0 / n1), size=n_boot).astype(float)
    num, den = counts @ filled, counts @ avail
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.where(den > 0, num / den, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns -> NaN SE
        se = np.nanstd(boot, axis=0, ddof=1)
    z = NormalDist().inv_cdf(0.5 + level / 2)

    table = pd.DataFrame(
        {
            "event_time": events,
            "att": att[:-1],
            "se": se[:-1],
            "ci_low": att[:-1] - z * se[:-1],
            "ci_high": att[:-1] + z * se[:-1],
            "n_treated": n_avail[:-1],
        }
    )
    by_treated = pd.DataFrame(
        {"treated_id": treated_ids, "entry": g_set, "contrast": contrast[:, -1]}
    )
    reuse = np.bincount(pd.Index(pd.unique(pairs["control_id"])).get_indexer(pairs["control_id"]))
    overall, overall_se = float(att[-1]), float(se[-1])
    return MatchedDID(
        overall_att=overall,
        overall_se=overall_se,
        ci_low=overall - z * overall_se,
        ci_high=overall + z * overall_se,
        n_treated=int(n_avail[-1]),
        n_controls=int(pairs.loc[avail[t_pos, -1], "control_id"].nunique()),
        table=table,
        by_treated=by_treated,
        pre=pre,
        post=post,
        n_boot=int(n_boot),
        seed=int(seed),
        level=float(level),
        max_control_reuse=int(reuse.max()),
    )
