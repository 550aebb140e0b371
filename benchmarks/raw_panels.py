"""Each program's evaluation panel built straight from the demo generator's raw tables,
the way the pipeline builds it (warehouse/models: stg_macro, stg_outcomes,
stg_participations, mart_evaluation_panel), without ingest or marts, so Monte Carlo
benchmarks can draw hundreds of panels: planted invalid rows dropped (the loader
quarantines them), money in constant US dollars of `price_base_year`, beneficiaries with
cohort = year of their first start date and their public cost, comparison firms = the
program's comparison sample minus every beneficiary.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from evaluation.synthetic import DemoData

LEVELS = ("sales", "employment", "value_added")


def usd_factors(macro: pd.DataFrame, price_base_year: int = 2020) -> pd.DataFrame:
    """Country-year factor from local currency at current prices to constant USD."""
    base = macro[macro["year"] == price_base_year].set_index("country")
    macro = macro.join(base[["deflator", "lcu_per_usd"]], on="country", rsuffix="_base")
    factor = macro["deflator_base"] / macro["deflator"] / macro["lcu_per_usd_base"]
    return macro[["country", "year"]].assign(factor=factor)


def program_panels(data: DemoData, price_base_year: int = 2020) -> dict[str, pd.DataFrame]:
    """Program id -> its panel: program_id, firm_id, year, cohort (0 = comparison),
    public_cost_usd, sales_usd, employment, value_added_usd, log_sales, log_employment."""
    t, bad = data.tables, data.planted_invalid

    def valid(entity: str) -> pd.DataFrame:
        return t[entity].drop(index=bad.loc[bad["entity"] == entity, "row"].to_numpy())

    factors = usd_factors(t["macro"], price_base_year)
    firms = valid("firms")[["firm_id", "country"]]
    outcomes = valid("outcomes").merge(firms, on="firm_id")
    outcomes = outcomes.merge(factors, on=["country", "year"], how="left")
    for column in LEVELS:
        outcomes[column] = pd.to_numeric(outcomes[column], errors="coerce")
    outcomes["sales_usd"] = outcomes["sales"] * outcomes["factor"]
    outcomes["value_added_usd"] = outcomes["value_added"] * outcomes["factor"]
    outcomes["log_sales"] = np.log(outcomes["sales_usd"].where(outcomes["sales_usd"] > 0))
    outcomes["log_employment"] = np.log(outcomes["employment"].where(outcomes["employment"] > 0))

    spells = valid("participations").merge(
        t["programs"][["program_id", "country"]], on="program_id"
    )
    spells = spells.assign(year=spells["start_date"].dt.year).merge(
        factors, on=["country", "year"], how="left"
    )
    spells["public_cost_usd"] = spells["public_cost"].astype(float) * spells["factor"]
    treated = spells.groupby(["program_id", "firm_id"], as_index=False).agg(
        cohort=("year", "min"), public_cost_usd=("public_cost_usd", "sum")
    )
    comparison = t["comparison_sample"]
    comparison = comparison[~comparison["firm_id"].isin(treated["firm_id"])]
    comparison = comparison[["program_id", "firm_id"]].drop_duplicates()
    units = pd.concat([treated, comparison.assign(cohort=0, public_cost_usd=0.0)])
    columns = ["firm_id", "year", "sales_usd", "employment", "value_added_usd"]
    columns += ["log_sales", "log_employment"]
    return {
        str(p): u.merge(outcomes[columns], on="firm_id")
        for p, u in units.groupby("program_id")
        if p in set(data.true_att_simple["program_id"])
    }


def run_draws(
    doc: str,
    one_seed: Callable[[int, int], list[dict[str, object]]],
    summary: Callable[[pd.DataFrame], pd.DataFrame],
    seeds: str,
) -> None:
    """The command line of a Monte Carlo over demo draws: --firms, --seeds first:last,
    --csv (every draw's rows); prints the summary table and the time it took."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--firms", type=int, default=3000)
    parser.add_argument("--seeds", default=seeds, help="first:last (exclusive)")
    parser.add_argument("--csv", help="also write every draw's rows here")
    args = parser.parse_args()
    first, last = map(int, args.seeds.split(":"))
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    rows = pd.DataFrame([r for s in range(first, last) for r in one_seed(s, args.firms)])
    if args.csv:
        rows.to_csv(args.csv, index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(summary(rows).to_string(index=False))
    print(f"{last - first} seeds at {args.firms:,} firms, {time.perf_counter() - started:.0f} s")
