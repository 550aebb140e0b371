"""Stated vs simulated power of `mes-eval plan` on a real (demo) warehouse.

For each program of the warehouse's evaluation panel: the design is the program's own
(cohorts, sizes; --pre-years, --years), with the comparison group shrunk by the number of
beneficiaries, because the placebo beneficiaries are drawn among the same comparison
firms. The stated power is `evaluation.power`'s formula at three effects (half the MDE,
the MDE, 1.25 x the MDE) and at 0 (size); the simulated one is `placebo_power`: placebo
cohorts drawn on the real rows, the effect planted in their post-entry years, the stacked
DID estimated with its firm-clustered SE, rejections counted at 5%.

    .venv/bin/python benchmarks/power_simulation.py --warehouse /tmp/plan-demo/warehouse.duckdb \
        [--outcome log_sales] [--reps 1000] [--seed 2024] [--years 3] [--pre-years 1] [--cs]

With --cs (pre-years 1 only), the same placebo draws are also estimated with the
pipeline's Callaway-Sant'Anna functions (`evaluation.did`: att_gt with never-treated
comparisons, base year g-1, simple aggregation over the first --years post years), and
their rejections are counted too: the formula's claim about the published estimate.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation import power as pw
from warehouse.db import open_warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/plan-demo/warehouse.duckdb"))
    parser.add_argument("--outcome", default="log_sales")
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--pre-years", type=int, default=1)
    parser.add_argument("--cs", action="store_true", help="also the Callaway-Sant'Anna estimate")
    args = parser.parse_args()
    if args.cs and args.pre_years != 1:
        parser.error("--cs compares with base year g-1: use --pre-years 1")
    started = time.perf_counter()
    with open_warehouse(args.warehouse, read_only=True) as con:
        panel = con.execute(pw.panel_query(args.outcome), {"program": None}).df()
    print(
        f"{args.outcome}, {args.pre_years} pre / {args.years} post years, {args.reps} "
        f"replications per program, seed {args.seed}\n"
    )
    print(
        "| program | treated (cohorts) | comparison | effect | stated power | simulated power "
        "| MC SE | difference | formula SE | mean simulated SE |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for program_id, rows in panel.groupby("program_id", sort=True):
        t0 = time.perf_counter()
        components = pw.variance_components(rows)
        design = pw.design_from_panel(rows, post_years=args.years, pre_years=args.pre_years)
        last = int(rows["year"].max())
        # placebo windows must lie inside the panel: cohorts with r post years observed
        keep = [k for k, g in enumerate(design.cohorts) if g + args.years - 1 <= last]
        keep = [k for k in keep if design.cohorts[k] - args.pre_years >= int(rows["year"].min())]
        design = pw.Design(
            cohorts=tuple(design.cohorts[k] for k in keep),
            treated=tuple(design.treated[k] for k in keep),
            controls=design.controls - sum(round(design.treated[k]) for k in keep),
            pre_years=args.pre_years,
            post_years=args.years,
        )
        the_plan = pw.plan(components, design)
        mde = pw.mde(the_plan)
        effects = [0.0, 0.5 * mde, mde, 1.25 * mde]
        simulated = pw.placebo_power(rows, design, effects, reps=args.reps, seed=args.seed)
        for row in simulated.itertuples():
            stated = pw.power(the_plan, row.effect)
            diff = row.power - stated
            if row.effect > 0:
                worst = max(worst, abs(diff))
            print(
                f"| {program_id} | {design.n_treated:.0f} ({len(design.cohorts)}) | "
                f"{design.controls:.0f} | {row.effect:.4f} | {stated:.1%} | {row.power:.1%} | "
                f"{row.mc_se:.1%} | {100 * diff:+.1f} | {the_plan.se():.5f} | {row.mean_se:.5f} |"
            )
        print(f"({program_id}: {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        if args.cs:
            t0 = time.perf_counter()
            powers = callaway_santanna_power(rows, design, effects, args.reps, args.seed)
            seconds = time.perf_counter() - t0
            for effect, simulated_cs in zip(effects, powers, strict=True):
                stated = pw.power(the_plan, effect)
                if effect > 0:
                    worst = max(worst, abs(simulated_cs - stated))
                print(
                    f"| {program_id}, Callaway-Sant'Anna | {design.n_treated:.0f} "
                    f"({len(design.cohorts)}) | {design.controls:.0f} | {effect:.4f} | "
                    f"{stated:.1%} | {simulated_cs:.1%} | "
                    f"{np.sqrt(simulated_cs * (1 - simulated_cs) / args.reps):.1%} | "
                    f"{100 * (simulated_cs - stated):+.1f} | {the_plan.se():.5f} | |"
                )
            print(f"({program_id}, Callaway-Sant'Anna: {seconds:.1f} s)", file=sys.stderr)
    print(
        f"\nlargest |simulated - stated| at a non-zero effect: {100 * worst:.1f} points; "
        f"{time.perf_counter() - started:.1f} s in all"
    )
    print(
        f"reproduce: .venv/bin/python benchmarks/power_simulation.py --warehouse {args.warehouse} "
        f"--outcome {args.outcome} --reps {args.reps} --seed {args.seed} --years {args.years} "
        f"--pre-years {args.pre_years}" + (" --cs" if args.cs else "")
    )


def callaway_santanna_power(
    rows: pd.DataFrame, design: pw.Design, effects: list[float], reps: int, seed: int
) -> list[float]:
    """Rejection rates of the pipeline's simple ATT on `placebo_power`'s draws. Adding E
    to the placebo beneficiaries' post-entry years moves every post ATT(g,t), so the
    simple ATT, by exactly E and leaves the influence functions, so the SE, unchanged:
    one estimate per draw serves every effect."""
    from evaluation.did import aggregate, att_gt

    estimates, ses = np.empty(reps), np.empty(reps)
    draws = pw.placebo_draws(rows, design, reps=reps, seed=seed)
    for rep, placebo in enumerate(draws):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gt = att_gt(placebo, unit="firm_id", time="year", cohort="cohort", outcome="outcome")
            simple = aggregate(gt, "simple", max_e=design.post_years - 1)
        estimates[rep], ses[rep] = simple.overall_att, simple.overall_se
    return [float((np.abs(estimates + e) > 1.959964 * ses).mean()) for e in effects]


if __name__ == "__main__":
    main()
