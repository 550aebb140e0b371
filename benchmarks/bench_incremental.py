"""How long adding one quarter of data takes, next to a full run on ten years of history.

Generates the synthetic portfolio (2010-2024), holds back the participations that started
in the last quarter with any entry, runs the whole chain on the history (a full run into an empty
warehouse), then runs again with the quarter's participations as a new submission: every
unchanged file is skipped by its content hash, only the new file is validated and loaded,
the marts are rebuilt in SQL and the programs re-estimated. Each run is `mes-eval run` in
its own process, Prefect start-up included.

    .venv/bin/python benchmarks/bench_incremental.py [--firms 20000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from evaluation.synthetic import generate_demo
from flows.demo_files import write_demo_files


def run(config: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("mes-eval")), "run", "--config", str(config)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{config.name}: {done.stderr.strip() or done.stdout[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_demo_files(generate_demo(seed=7, n_firms=args.firms), root / "data")
        participations = pd.read_excel(paths["participations"], dtype=str)
        starts = pd.to_datetime(participations["start_date"], errors="coerce")
        last = starts.max().to_period("Q")
        late = starts.dt.to_period("Q") == last
        participations[~late].to_csv(root / "data" / "participations_history.csv", index=False)
        participations[late].to_csv(root / "data" / "participations_new_quarter.csv", index=False)
        sources = {
            k: str(p.relative_to(root))
            for k, p in paths.items()
            if k not in ("true_effects", "true_att_simple", "planted_invalid")
        }
        base = {
            "warehouse": "warehouse.duckdb",
            "out_dir": "report",
            "synthetic": True,
            "sources": sources,
        }
        history = {
            **base,
            "sources": {**sources, "participations": "data/participations_history.csv"},
        }
        quarter = {
            **base,
            "sources": {**sources, "participations": "data/participations_new_quarter.csv"},
        }
        (root / "history.yaml").write_text(yaml.safe_dump(history))
        (root / "quarter.yaml").write_text(yaml.safe_dump(quarter))
        time.sleep(2.5)  # let the files settle: the loader waits for files still being written
        full = run(root / "history.yaml")
        incremental = run(root / "quarter.yaml")
    print(f"firms {args.firms:,}; new participations in {last}: {int(late.sum())}")
    print(f"| run | wall s |\n|---|---|\n| full run on the history | {full:.1f} |")
    print(f"| adding {last} | {incremental:.1f} |\n\nfraction: {incremental / full:.0%}")


if __name__ == "__main__":
    main()
