"""Monte Carlo check of the SQL path's inference (evaluation.did_duckdb).

Each replication draws a staggered firm panel with a planted, heterogeneous effect and
estimates it with ``att_gt_sql`` + ``aggregate_sql`` (+ ``uniform_band_sql``). Reported:

* simple ATT: bias, empirical SD of the estimates vs mean analytic SE, and the empirical
  coverage of the 95% pointwise CI (should be ~95%: 93-97% given Monte Carlo error);
* dynamic (event study) at e = 0: the same;
* the simultaneous 95% band of the whole event study (every e, pre-periods included):
  the share of replications in which it covers all true effects at once.

Design (per replication): 400 firms, years 2015-2020, cohort drawn per firm (2017 with
prob. 0.3, 2019 with 0.3, never 0.4) so the cohort shares pg are estimated and the
weight-estimation term of the SE matters; firm effects correlated with the cohort;
AR(1) errors (rho = 0.5) so that clustering by firm matters; treatment effect
tau(g, e) = (1.0 if g = 2017 else 0.5) * (1 + 0.5 e) for e >= 0, plus a firm-level
N(0, 0.3^2) deviation. The estimands use the population cohort shares:
simple = sum_post p_g tau(g, t) / sum_post p_g; dynamic(e) = the p_g-weighted mean of
tau(g, e) over the cohorts observed at e.

Usage: ``.venv/bin/python benchmarks/monte_carlo_coverage.py [--reps 500] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

# Runnable from a checkout, in worker processes too (spawn/forkserver re-import this file).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

YEARS = np.arange(2015, 2021)
COHORTS = {2017: 0.3, 2019: 0.3, 0: 0.4}  # population shares; 0 = never treated
SCALE = {2017: 1.0, 2019: 0.5}
COLS = {"unit": "firm", "time": "year", "cohort": "first_year", "outcome": "y"}


def tau(g: int, e: np.ndarray) -> np.ndarray:
    """Mean planted effect of cohort g at event time e (0 before treatment)."""
    e = np.asarray(e, dtype=float)
    return np.where(e >= 0, SCALE.get(g, 0.0) * (1 + 0.5 * e), 0.0)


def make_panel(rng: np.random.Generator, n_firms: int = 400) -> pd.DataFrame:
    """One replication's balanced panel (see the module docstring)."""
    g = rng.choice(list(COHORTS), size=n_firms, p=list(COHORTS.values()))
    firm_fe = rng.normal(0.0, 1.0, n_firms) + 0.3 * (g > 0)
    het = rng.normal(0.0, 0.3, n_firms)  # firm-level effect heterogeneity
    year_fe = np.linspace(0.0, 0.5, len(YEARS))
    eps = np.empty((n_firms, len(YEARS)))
    eps[:, 0] = rng.normal(0.0, 1.0, n_firms)
    for k in range(1, len(YEARS)):  # AR(1), stationary variance 1
        eps[:, k] = 0.5 * eps[:, k - 1] + rng.normal(0.0, math.sqrt(1 - 0.25), n_firms)
    eps *= 0.5
    t = np.broadcast_to(YEARS, (n_firms, len(YEARS)))
    gg = np.broadcast_to(g[:, None], t.shape)
    e = t - gg
    effect = np.zeros(t.shape)
    for cohort in SCALE:
        on = (gg == cohort) & (e >= 0)
        effect = np.where(on, tau(cohort, e) + het[:, None], effect)
    y = firm_fe[:, None] + year_fe[None, :] + effect + eps
    return pd.DataFrame(
        {
            "firm": np.repeat(np.arange(n_firms), len(YEARS)),
            "year": t.ravel(),
            "first_year": gg.ravel(),
            "y": y.ravel(),
        }
    )


def truths() -> tuple[float, dict[int, float]]:
    """Population estimands: simple ATT and the event-study effects by e."""
    last = YEARS.max()
    num = den = 0.0
    for g, p in COHORTS.items():
        if g:
            for t in YEARS[g <= YEARS]:
                num += p * float(tau(g, t - g))
                den += p
    # Varying base: cells exist for t = second year .. last year (pre-periods: 0).
    first_t = YEARS[1]
    dyn: dict[int, float] = {}
    for e in range(first_t - max(SCALE), last - min(SCALE) + 1):
        obs = [g for g in SCALE if first_t <= g + e <= last]
        if obs:
            w = np.array([COHORTS[g] for g in obs])
            dyn[e] = float(np.dot(w, [float(tau(g, e)) for g in obs]) / w.sum())
    return num / den, dyn


def replicate(args: tuple[int, int]) -> dict[str, float]:
    """One replication (run in a worker process with its own DuckDB connection)."""
    import duckdb

    from evaluation.did_duckdb import aggregate_sql, att_gt_sql, uniform_band_sql

    seed, biters = args
    df = make_panel(np.random.default_rng([2026, seed]))
    con = duckdb.connect(config={"threads": 1})
    con.register("panel", df)
    gt = att_gt_sql(con, "panel", **COLS)
    simple = aggregate_sql(con, gt, "simple")
    dyn = aggregate_sql(con, gt, "dynamic")
    band = uniform_band_sql(con, gt, biters=biters, seed=seed)
    _, truth_dyn = truths()
    table = band.table.set_index("key")
    true_e = pd.Series(truth_dyn).reindex(table.index)
    covers_all = bool(((table["band_low"] <= true_e) & (true_e <= table["band_high"])).all())
    e0 = dyn.table.set_index("key").loc[0]
    con.close()
    return {
        "simple_att": simple.overall_att,
        "simple_se": simple.overall_se,
        "dyn0_att": float(e0["att"]),
        "dyn0_se": float(e0["se"]),
        "band_covers": float(covers_all),
        "band_crit": band.crit_value,
        "n_keys": float(len(table)),
    }


def summarize(res: pd.DataFrame) -> pd.DataFrame:
    z = NormalDist().inv_cdf(0.975)
    truth_simple, truth_dyn = truths()
    rows = []
    for name, col, truth in (
        ("simple ATT", "simple", truth_simple),
        ("dynamic e=0", "dyn0", truth_dyn[0]),
    ):
        est, se = res[f"{col}_att"], res[f"{col}_se"]
        covered = (est - z * se <= truth) & (truth <= est + z * se)
        rows.append(
            {
                "estimand": name,
                "truth": truth,
                "mean est": est.mean(),
                "bias": est.mean() - truth,
                "emp SD": est.std(ddof=1),
                "mean SE": se.mean(),
                "SE/SD": se.mean() / est.std(ddof=1),
                "coverage %": 100 * covered.mean(),
            }
        )
    rows.append(
        {
            "estimand": f"event-study band ({int(res['n_keys'].iloc[0])} e's)",
            "truth": math.nan,
            "mean est": math.nan,
            "bias": math.nan,
            "emp SD": math.nan,
            "mean SE": math.nan,
            "SE/SD": math.nan,
            "coverage %": 100 * res["band_covers"].mean(),
        }
    )
    return pd.DataFrame(rows)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--reps", type=int, default=500, help="replications (>= 200)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument("--biters", type=int, default=1000, help="bootstrap draws for the band")
    opts = p.parse_args()
    if opts.reps < 200:
        p.error("use at least 200 replications")

    t0 = time.perf_counter()
    work = [(seed, opts.biters) for seed in range(opts.reps)]
    with ProcessPoolExecutor(max_workers=opts.jobs) as pool:
        res = pd.DataFrame(list(pool.map(replicate, work, chunksize=8)))
    elapsed = time.perf_counter() - t0

    table = summarize(res)
    mcse = 100 * math.sqrt(0.95 * 0.05 / opts.reps)
    print("command: .venv/bin/python benchmarks/monte_carlo_coverage.py " + " ".join(sys.argv[1:]))
    print(
        f"{opts.reps} replications x 400 firms x {len(YEARS)} years, "
        f"{opts.jobs} processes, {elapsed:.0f} s; Monte Carlo SE of a 95% coverage: {mcse:.1f} pp"
    )
    with pd.option_context("display.width", 120, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    print(f"mean band critical value: {res['band_crit'].mean():.3f}")


if __name__ == "__main__":
    main()
