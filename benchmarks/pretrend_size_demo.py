"""Size of the pre-entry test on the whole pipeline: the synthetic demo, seed after seed.

For each seed: generate the demo portfolio (parallel trends hold by construction), ingest
it, build the marts and estimate every program and outcome (no subgroups, no matching);
then report how often the pre-entry test rejects at 5% and 10%, overall, by program and
by outcome. Slow (~8 s a seed at 3,000 firms).

    .venv/bin/python benchmarks/pretrend_size_demo.py [--firms 3000] [--seeds 100:130]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.impact import EvaluationSpec, estimate_impacts
from evaluation.synthetic import generate_demo
from flows import steps
from flows.config import load_config
from flows.demo_files import write_demo_files
from warehouse.db import open_warehouse
from warehouse.results import read_evaluation_panel

TRUTH_FILES = ("true_effects", "true_att_simple", "planted_invalid")


def pretrend_pvalues(seed: int, firms: int, spec: EvaluationSpec) -> pd.DataFrame:
    """The pre-entry test's p-value of every program and outcome of one seeded demo."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_demo_files(generate_demo(seed=seed, n_firms=firms), root / "data")
        sources = {k: str(p.relative_to(root)) for k, p in paths.items() if k not in TRUTH_FILES}
        config = {"warehouse": "w.duckdb", "out_dir": "r", "synthetic": True, "sources": sources}
        (root / "c.yaml").write_text(yaml.safe_dump(config))
        time.sleep(steps.SETTLE_SECONDS + 0.1)  # the loader waits for files still being written
        loaded = load_config(root / "c.yaml")
        steps.ingest_sources(loaded, "size")
        steps.build_warehouse(loaded)
        with open_warehouse(loaded.warehouse) as con:
            panel = read_evaluation_panel(con)
    estimates = estimate_impacts(panel, spec).estimates
    simple = estimates[(estimates["aggregation"] == "simple") & (estimates["subgroup"] == "all")]
    return simple[["program_id", "outcome", "pretrend_pvalue"]].assign(seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=3000)
    parser.add_argument("--seeds", default="100:130", help="first:last (exclusive)")
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split(":"))
    spec = EvaluationSpec(
        subgroups=(), estimators=("callaway_santanna",), band_draws=10
    )  # the test only
    frames = []
    for seed in range(first, last):
        frames.append(pretrend_pvalues(seed, args.firms, spec))
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    p = pd.concat(frames).dropna(subset=["pretrend_pvalue"])
    print(
        f"{args.firms:,} firms, seeds {first}-{last - 1}, {len(p)} tests, "
        f"min beneficiaries per lead {spec.pretrend_min_firms}\n"
    )
    print("| group | tests | reject at 5% | reject at 10% |\n|---|---:|---:|---:|")
    groups = [("all", p)] + [(str(k), g) for k, g in p.groupby("program_id")]
    groups += [(str(k), g) for k, g in p.groupby("outcome")]
    for name, g in groups:
        v = g["pretrend_pvalue"]
        print(f"| {name} | {len(v)} | {(v < 0.05).mean():.1%} | {(v < 0.10).mean():.1%} |")
    print(
        f"\nreproduce: .venv/bin/python benchmarks/pretrend_size_demo.py --firms {args.firms} "
        f"--seeds {args.seeds}"
    )


if __name__ == "__main__":
    main()
