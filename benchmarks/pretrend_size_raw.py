"""Size of the pre-entry test on the demo generator's raw tables, with and without the
small-sample correction, and bias of the simple ATT.

For each seed, the synthetic demo at `--firms` firms is turned into each program's
evaluation panel the way the pipeline builds it (planted invalid rows dropped, sales in
constant money, beneficiaries with cohort = year of their first start date, comparison
firms = the program's comparison sample minus every beneficiary), without ingest or marts
(benchmarks/pretrend_size_demo.py runs the whole pipeline and gives the same p-values).
Parallel trends hold by construction, so the 5% test should reject 5%. Besides log sales
and log employment, two placebo outcomes drawn on the same firms, cohorts and observed
cells (firm effect + Gaussian AR(1) noise; firm effect + iid noise) show whether a size
problem is the outcome's or the test's.

    .venv/bin/python benchmarks/pretrend_size_raw.py --firms 3000 --seeds 1000:1300

Prints, per outcome, the e = -1 lead's t-statistic (mean, SD), the rejection rate of the
pipeline's test (leads backed by >= 50 beneficiaries) without and with
`evaluation.diagnostics.small_sample_corrected`, and the simple ATT's bias, each with its
Monte Carlo standard error. One core; about 1 s per seed at 3,000 firms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from raw_panels import program_panels, run_draws  # benchmarks/raw_panels.py, beside this script

from evaluation.diagnostics import pretrend_test, small_sample_corrected, supported_leads
from evaluation.did import aggregate, att_gt
from evaluation.synthetic import generate_demo

OUTCOMES = ("log_sales", "log_employment", "placebo_ar1", "placebo_iid")


def with_placebos(panel: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Two placebo outcomes observed where log sales is: firm effect + AR(1) or iid noise."""
    firms = pd.Index(panel["firm_id"].unique())
    years = np.arange(panel["year"].min(), panel["year"].max() + 1)
    effect = rng.normal(0, 1, len(firms))
    ar1 = np.empty((len(firms), len(years)))
    ar1[:, 0] = rng.normal(0, 1 / np.sqrt(1 - 0.36), len(firms))
    for k in range(1, len(years)):
        ar1[:, k] = 0.6 * ar1[:, k - 1] + rng.normal(0, 1, len(firms))
    iid = rng.normal(0, 1, (len(firms), len(years)))
    i, k = firms.get_indexer(panel["firm_id"]), panel["year"].to_numpy() - years[0]
    seen = panel["log_sales"].notna().to_numpy()
    return panel.assign(
        placebo_ar1=np.where(seen, effect[i] + ar1[i, k], np.nan),
        placebo_iid=np.where(seen, effect[i] + iid[i, k], np.nan),
    )


def one_seed(seed: int, n_firms: int) -> list[dict[str, object]]:
    data = generate_demo(seed=seed, n_firms=n_firms)
    truth = data.true_att_simple.set_index(["program_id", "outcome"])["att"]
    rng = np.random.default_rng(10**6 + seed)
    rows = []
    for program, panel in program_panels(data).items():
        panel = with_placebos(panel, rng)
        for outcome in OUTCOMES:
            gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome=outcome)
            dynamic = aggregate(gt, "dynamic").table.set_index("key")
            min_e = supported_leads(gt, 50)
            p = p_corrected = np.nan
            if min_e < 0:
                p = pretrend_test(aggregate(gt, "dynamic"), gt.n_units, min_e=min_e).pvalue
                corrected = aggregate(small_sample_corrected(gt), "dynamic")
                p_corrected = pretrend_test(corrected, gt.n_units, min_e=min_e).pvalue
            simple = aggregate(gt, "simple")
            rows.append(
                {
                    "seed": seed,
                    "program": program,
                    "outcome": outcome,
                    "t_lead1": dynamic["att"].get(-1, np.nan) / dynamic["se"].get(-1, np.nan),
                    "p": p,
                    "p_corrected": p_corrected,
                    "error": simple.overall_att - truth.get((program, outcome), 0.0),
                }
            )
    return rows


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    out = []
    for outcome, g in rows.groupby("outcome", sort=False):
        t = g["t_lead1"].dropna()
        line: dict[str, object] = {
            "outcome": outcome,
            "tests": int(g["p"].notna().sum()),
            "t(e=-1) mean": f"{t.mean():+.3f} ± {t.std() / np.sqrt(len(t)):.3f}",
            "t(e=-1) SD": f"{t.std():.3f}",
        }
        for column, label in (("p", "reject 5%"), ("p_corrected", "reject 5%, corrected")):
            p = g[column].dropna()
            r = float(np.mean(p < 0.05))
            line[label] = f"{100 * r:.1f}% ± {100 * np.sqrt(r * (1 - r) / len(p)):.1f}"
        e = g["error"]
        line["ATT bias"] = f"{e.mean():+.5f} ± {e.std() / np.sqrt(len(e)):.5f}"
        out.append(line)
    return pd.DataFrame(out)


if __name__ == "__main__":
    run_draws(__doc__ or "", one_seed, summary, seeds="1000:1300")
