"""Coverage and bias of the return per public dollar and the cost per job, against the
generator's planted truth (Monte Carlo).

For each seed, the synthetic demo at `--firms` firms is turned into each program's panel
(benchmarks/raw_panels.py, as the pipeline builds it) and evaluated by
`evaluation.impact.evaluate_program` (Callaway-Sant'Anna; both ROI scales). The truth of
each figure is computed from the planted effects (log points by program, outcome and
years since entry) and the beneficiaries' own observed levels, over the same firm-years
the estimator sums: incremental sales = sum over beneficiaries' post-entry firm-years of
sales x (1 - e^-tau_sales) (value added moves with sales), jobs = sum over beneficiaries
observed in the last year of employment x (1 - e^-tau_employment); each divided by (or
dividing) the same public cost.

    .venv/bin/python benchmarks/roi_coverage.py --firms 3000 --seeds 0:300

Prints, per program, metric and scale (and for the figure the pipeline shows): the share
of 95% intervals covering the truth (goal 93-97%), the mean error and the mean standard
error (goal |bias| < SE / 10), with Monte Carlo standard errors. For cost per job, bias
and SE are those of its numerator, the jobs (the ratio has no mean when jobs can be 0); an
interval unbounded above covers every truth above its lower end; draws whose estimated
jobs are none ("no jobs created", no cost per job) keep that interval and are scored. One
core.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from raw_panels import program_panels, run_draws  # benchmarks/raw_panels.py, beside this script

from evaluation.impact import EvaluationSpec, evaluate_program
from evaluation.synthetic import DemoData, generate_demo

SPEC = EvaluationSpec(
    outcomes=("log_sales", "log_employment"),
    estimators=("callaway_santanna",),
    subgroups=(),
    band_draws=10,
)


def planted(data: DemoData, program: str, outcome: str) -> dict[int, float]:
    """Planted effect by years since entry (constant beyond the table's last event time)."""
    effects = data.true_effects
    rows = effects[(effects["program_id"] == program) & (effects["outcome"] == outcome)]
    return dict(zip(rows["event_time"].astype(int), rows["effect"].astype(float), strict=True))


def truths(panel: pd.DataFrame, data: DemoData, program: str) -> dict[str, float]:
    """True incremental sales, value added (over post-entry firm-years) and jobs (last
    year), on the firm-years the estimator sums."""
    post = panel[(panel["cohort"] > 0) & (panel["year"] >= panel["cohort"])]
    e = (post["year"] - post["cohort"]).to_numpy()

    def tau(outcome: str) -> np.ndarray:
        effect = planted(data, program, outcome)
        last = max(effect)
        return np.array([effect[min(x, last)] for x in e])

    kept = -np.expm1(-tau("log_sales"))
    jobs_kept = -np.expm1(-tau("log_employment"))
    in_last = (post["year"] == panel["year"].max()).to_numpy()
    return {
        "sales_per_dollar": float(np.nansum(post["sales_usd"].to_numpy() * kept)),
        "value_added_per_dollar": float(np.nansum(post["value_added_usd"].to_numpy() * kept)),
        "cost_per_job": float(
            np.nansum(post["employment"].to_numpy()[in_last] * jobs_kept[in_last])
        ),
    }


def one_seed(seed: int, n_firms: int) -> list[dict[str, object]]:
    data = generate_demo(seed=seed, n_firms=n_firms)
    rows = []
    for program, panel in program_panels(data).items():
        truth = truths(panel, data, program)
        roi = evaluate_program(panel.assign(program_id=program), SPEC).roi
        for r in roi[roi["basis"] == "counterfactual"].itertuples():
            if not np.isfinite(r.numerator):  # not estimated: no total, no interval
                continue
            # "no jobs created" keeps its interval [cost / high jobs, unbounded): scored too,
            # or the draws where the estimated jobs are few would be left out (selection)
            total = truth[str(r.metric)]
            z = 1.959963984540054
            if r.metric == "cost_per_job":
                # the interval inverts the jobs interval: its lower end is cost / high jobs
                high_jobs = r.public_cost_usd / r.ci_low if 0 < r.ci_low < math.inf else math.nan
                numerator_se = (high_jobs - r.numerator) / z
                truth_ratio = r.public_cost_usd / total if total > 0 else math.inf
                covered = r.ci_low <= truth_ratio <= r.ci_high
            else:
                numerator_se = (r.ci_high - r.ci_low) / (2 * z) * r.public_cost_usd
                truth_ratio = total / r.public_cost_usd
                covered = r.ci_low <= truth_ratio <= r.ci_high
            rows.append(
                {
                    "seed": seed,
                    "program": program,
                    "metric": r.metric,
                    "scale": r.scale,
                    "shown": bool(r.shown),
                    "covered": bool(covered),
                    "estimate": r.estimate if np.isfinite(r.estimate) else math.inf,
                    "truth": truth_ratio,
                    "error": r.numerator - total,  # on the total (USD or jobs)
                    "se": numerator_se,
                    "pretrend_passes": r.pretrend_passes,
                }
            )
    return rows


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    out = []
    keys = ["program", "metric", "scale"]
    shown = rows[rows["shown"]].assign(scale="shown")
    for key, g in pd.concat([rows, shown]).groupby(keys, sort=True):
        c = g["covered"].mean()
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "draws": len(g),
                "coverage": f"{100 * c:.1f}% ± {100 * math.sqrt(c * (1 - c) / len(g)):.1f}",
                "mean error / mean SE": (
                    f"{g['error'].mean() / g['se'].mean():+.3f} "
                    f"± {g['error'].std() / math.sqrt(len(g)) / g['se'].mean():.3f}"
                ),
                "SE / SD of error": f"{g['se'].mean() / g['error'].std():.2f}",
                "median estimate": f"{g['estimate'].median():,.1f}",
                "median truth": f"{g['truth'].median():,.1f}",
                "pre-test passes": f"{100 * g['pretrend_passes'].astype(float).mean():.0f}%",
            }
        )
    return pd.DataFrame(out)


if __name__ == "__main__":
    run_draws(__doc__ or "", one_seed, summary, seeds="0:300")
