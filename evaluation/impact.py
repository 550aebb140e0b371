"""Impact estimates per program: Callaway and Sant'Anna (2021) on each program's panel.

Pure functions from the evaluation panel (one row per program, firm and year with the
firm's entry cohort, 0 for the comparison group) to tidy tables of estimates that the
warehouse stores and the reports read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.did import aggregate, att_gt

ESTIMATOR = "callaway_santanna_2021"
DEFAULT_OUTCOMES = ("log_sales", "log_employment")
AGGREGATIONS = ("simple", "dynamic")


@dataclass(frozen=True)
class ProgramImpact:
    """Estimates for every program and outcome, as two tidy tables."""

    estimates: pd.DataFrame  # program_id, outcome, aggregation, key, estimate, std_error, ci_low, ci_high, n_treated, n_control
    att_gt: pd.DataFrame  # program_id, outcome, cohort, year, event_time, base_period, att, std_error, n_treated, n_control


def estimate_impacts(
    panel: pd.DataFrame,
    *,
    outcomes: tuple[str, ...] = DEFAULT_OUTCOMES,
    control_group: str = "nevertreated",
) -> ProgramImpact:
    """Group-time effects and their simple and event-time aggregations, per program and outcome."""
    estimates, cells = [], []
    for program_id, program_panel in panel.groupby("program_id", sort=True):
        for outcome in outcomes:
            gt = att_gt(
                program_panel,
                unit="firm_id",
                time="year",
                cohort="cohort",
                outcome=outcome,
                control_group=control_group,
            )
            labels = {"program_id": program_id, "outcome": outcome}
            cells.append(
                gt.cells.rename(
                    columns={"group": "cohort", "time": "year", "se": "std_error"}
                ).assign(**labels)
            )
            n_treated = int(np.sum(gt.unit_cohort > 0))
            n_control = int(np.sum(gt.unit_cohort == 0))
            for kind in AGGREGATIONS:
                agg = aggregate(gt, kind)
                rows = [
                    {
                        "key": None,
                        "estimate": agg.overall_att,
                        "std_error": agg.overall_se,
                        "ci_low": agg.ci_low,
                        "ci_high": agg.ci_high,
                    }
                ]
                if kind != "simple":
                    rows += [
                        {
                            "key": int(r.key),
                            "estimate": r.att,
                            "std_error": r.se,
                            "ci_low": r.ci_low,
                            "ci_high": r.ci_high,
                        }
                        for r in agg.table.itertuples()
                    ]
                estimates += [
                    {
                        **labels,
                        "aggregation": kind,
                        **row,
                        "n_treated": n_treated,
                        "n_control": n_control,
                    }
                    for row in rows
                ]
    columns = [
        "program_id",
        "outcome",
        "cohort",
        "year",
        "event_time",
        "base_period",
        "att",
        "std_error",
        "n_treated",
        "n_control",
    ]
    return ProgramImpact(
        estimates=pd.DataFrame(estimates).assign(
            estimator=ESTIMATOR, comparison_group=control_group
        ),
        att_gt=pd.concat(cells, ignore_index=True)[columns].assign(comparison_group=control_group),
    )
