"""How long adding one quarter of data takes, next to a full run on ten years of history.

Generates the synthetic portfolio (2010-2024) and holds back the participations that
started in the last quarter with at least 10 of them. Then, each run being `mes-eval run` in its own
process (Prefect's temporary server start-up included, as a user would run it):

1. full run: the whole chain on the history into an empty warehouse (annual edition);
2. unchanged re-run: the same config again (every file skipped by its content hash, every
   program's results served from cache);
3. adding the quarter, annual edition: the quarter's participations as a new submission;
   only that file is validated and loaded, the marts are rebuilt in SQL, only programs whose
   inputs changed are re-estimated, only changed charts re-exported as PNG;
4. adding the quarter, quarterly edition: the same, from a copy of the warehouse as it
   was after run 2, with `period` set to the quarter: a monitoring edition, which carries
   no impact estimates, so none are computed.

    .venv/bin/python benchmarks/bench_incremental.py [--firms 20000] [--keep DIR]

`--keep DIR` works in DIR (created; must not exist) and leaves it there: the four configs,
both warehouses and reports, to look into a run (e.g. `mes-eval runs --config DIR/...`).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
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


MIN_ENTRIES = 10


def flow_seconds(warehouse: Path) -> list[float]:
    """Each run's own duration, as recorded in meta.runs, in start order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql("select duration_seconds from meta.runs order by started_at").fetchall()
    return [float(r[0]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="work in this new folder and keep it")
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists():
        raise SystemExit(f"{args.keep}: exists; --keep needs a new folder")
    with contextlib.ExitStack() as stack:
        if args.keep is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        else:
            root = args.keep.resolve()
            root.mkdir(parents=True)
        paths = write_demo_files(generate_demo(seed=7, n_firms=args.firms), root / "data")
        participations = pd.read_excel(paths["participations"], dtype=str)
        starts = pd.to_datetime(participations["start_date"], errors="coerce")
        ends = pd.to_datetime(participations["end_date"], errors="coerce")
        programs = set(pd.read_csv(paths["programs"], dtype=str)["program_id"])
        # the latest quarter with a quarter's worth of entries that load: the generator's
        # planted invalid rows (an end before the start, an unknown program) would be
        # quarantined, and at a million firms they alone fill a later quarter, which would
        # then bring no data at all; they stay in the history
        loads = (ends.isna() | (ends >= starts)) & participations["program_id"].isin(programs)
        quarters = starts.dt.to_period("Q")
        counts = quarters[loads].value_counts()
        last = counts[counts >= MIN_ENTRIES].index.max()
        late = quarters == last
        participations[~late].to_csv(root / "data" / "participations_history.csv", index=False)
        participations[late].to_csv(root / "data" / "participations_new_quarter.csv", index=False)
        sources = {
            k: str(p.relative_to(root))
            for k, p in paths.items()
            if k not in ("true_effects", "true_att_simple", "planted_invalid")
        }
        base = {"out_dir": "report", "synthetic": True, "sources": sources}
        history = {"participations": "data/participations_history.csv"}
        quarter = {"participations": "data/participations_new_quarter.csv"}
        configs = {
            "history": {
                **base,
                "warehouse": "a/warehouse.duckdb",
                "sources": {**sources, **history},
            },
            "annual": {
                **base,
                "warehouse": "a/warehouse.duckdb",
                "sources": {**sources, **quarter},
            },
            "quarterly": {
                **base,
                "warehouse": "b/warehouse.duckdb",
                "out_dir": "report_b",
                "sources": {**sources, **quarter},
                "period": str(last),
            },
        }
        for name, config in configs.items():
            (root / f"{name}.yaml").write_text(yaml.safe_dump(config))
        time.sleep(2.5)  # let the files settle: the loader waits for files still being written
        full = run(root / "history.yaml")
        unchanged = run(root / "history.yaml")
        shutil.copytree(root / "a", root / "b")  # the warehouse and its caches after run 2
        shutil.copytree(root / "report", root / "report_b")
        annual = run(root / "annual.yaml")
        quarterly = run(root / "quarterly.yaml")
        flow = flow_seconds(root / "a" / "warehouse.duckdb")  # runs 1-3
        flow += flow_seconds(root / "b" / "warehouse.duckdb")[2:]  # run 4
    rows = [
        ("1. full run on the history (empty warehouse), annual edition", full),
        ("2. unchanged re-run (served from cache)", unchanged),
        (f"3. adding {last}, annual edition (re-estimates changed programs)", annual),
        (f"4. adding {last}, quarterly edition {last} (monitoring, no estimation)", quarterly),
    ]
    print(f"firms {args.firms:,}; new participations in {last}: {int(late.sum())}\n")
    print("| run | wall s | of a full run | in the flow s | of a full run |")
    print("|---|---:|---:|---:|---:|")
    for (label, seconds), inside in zip(rows, flow, strict=True):
        print(
            f"| {label} | {seconds:.1f} | {seconds / full:.0%} | {inside:.1f} | "
            f"{inside / flow[0]:.0%} |"
        )
    print(
        "\nwall s: the `mes-eval run` process, Prefect's temporary server start-up included; "
        "in the flow s: the run's duration in meta.runs (what a served deployment pays)."
    )
    print(f"\nreproduce: .venv/bin/python benchmarks/bench_incremental.py --firms {args.firms}")


if __name__ == "__main__":
    main()
