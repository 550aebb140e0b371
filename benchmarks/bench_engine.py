"""Benchmark: one program's whole Callaway-Sant'Anna evaluation on each engine.

`evaluation.engine` estimates a program with numpy (dense unit x cell influence
functions in memory) or DuckDB (moments in a connection, nothing unit x cell in Python).
This runs `evaluation.impact.evaluate_program` (the Callaway-Sant'Anna estimator: seven
outcomes with their four aggregations, horizons, pre-entry tests and event-study bands,
subgroups by size class, sector and region, Romano-Wolf, ROI on both scales, HonestDiD
sensitivity) on one program's rows of a warehouse's evaluation panel, once per engine,
each in its own subprocess, and reports:

* wall s: `evaluate_program` alone (reading the panel excluded);
* panel GB: the worker's RSS once the panel is read (what both engines hold anyway);
* peak RSS GB: the worker's maximum resident set (``wait4``), the panel included;
* max rel diff: the largest difference of any estimate, standard error or interval end
  from the numpy engine's, relative to the largest absolute value of its column.

``--copies K`` stacks K copies of the program's firms (ids suffixed), a program K times as
large with the same shape: where the numpy engine's memory grows with units x cells and
DuckDB's stays near the panel's.

Usage: ``.venv/bin/python benchmarks/bench_engine.py --program WAREHOUSE:PROGRAM
[--copies 1,3] [--engines numpy,duckdb] [--memory-limit 4GB]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

VALUES = ("estimate", "std_error", "ci_low", "ci_high")


def write_panel(out: Path, program: str, copies: int) -> int:
    """The program's rows of the evaluation panel, `copies` times (firm ids suffixed),
    to Parquet, straight from DuckDB; returns the number of firms."""
    import duckdb

    warehouse, program_id = program.rsplit(":", 1)
    with duckdb.connect(warehouse, read_only=True) as con:
        con.execute(
            f"""
            COPY (
                SELECT * REPLACE (firm_id || '~' || k::VARCHAR AS firm_id)
                FROM marts.mart_evaluation_panel, range({int(copies)}) AS c(k)
                WHERE program_id = ?
                ORDER BY firm_id, year
            ) TO '{out}' (FORMAT parquet)
            """,
            [program_id],
        )
        (firms,) = con.execute(
            f"SELECT count(DISTINCT firm_id) FROM read_parquet('{out}')"
        ).fetchone() or (0,)
    return int(firms)


def worker(data: Path, out: Path, engine: str, memory_limit: str) -> None:
    import pandas as pd

    from evaluation.impact import EvaluationSpec, evaluate_program

    panel = pd.read_parquet(data)
    panel_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    spec = EvaluationSpec(estimators=("callaway_santanna",))
    t0 = time.perf_counter()
    impact = evaluate_program(
        panel, spec, engine=engine, duckdb_config={"memory_limit": memory_limit, "threads": 2}
    )
    wall = time.perf_counter() - t0
    est = impact.estimates
    keys = ["outcome", "aggregation", "key", "label", "subgroup", "subgroup_value"]
    est = est.sort_values(keys, na_position="first").reset_index(drop=True)
    roi = impact.roi.sort_values(["metric", "basis", "scale"]).reset_index(drop=True)
    result = {
        "wall": wall,
        "panel_gb": panel_gb,
        "estimated": int((est["status"] == "estimated").sum()),
        "values": {c: est[c].astype(float).tolist() for c in VALUES},
        "roi": {c: roi[c].astype(float).tolist() for c in ("estimate", "ci_low", "ci_high")},
    }
    out.write_text(json.dumps(result))


def _max_rel_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    worst = 0.0
    for part in ("values", "roi"):
        for column, x in a[part].items():
            y = b[part][column]
            if len(x) != len(y):
                return math.inf
            pairs = [(u, v) for u, v in zip(x, y, strict=True) if math.isfinite(u)]
            if any(not math.isfinite(v) for _, v in pairs):
                return math.inf
            scale = max([1.0, *(abs(u) for u, _ in pairs)])
            worst = max([worst, *(abs(u - v) / scale for u, v in pairs)])
    return worst


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--program", metavar="WAREHOUSE:PROGRAM", required=False)
    p.add_argument("--copies", type=lambda t: [int(c) for c in t.split(",")], default=[1])
    p.add_argument("--engines", type=lambda t: t.split(","), default=["numpy", "duckdb"])
    p.add_argument("--memory-limit", default="4GB", help="the DuckDB engine's memory_limit")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per worker")
    p.add_argument("--max-rss", type=float, default=20.0, help="GB; a worker above is killed")
    p.add_argument("--workdir", type=Path, default=None, help="default: a temp directory")
    p.add_argument("--worker", choices=["numpy", "duckdb"], help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    if opts.worker:
        worker(opts.data, opts.out, opts.worker, opts.memory_limit)
        return
    if not opts.program:
        p.error("--program WAREHOUSE:PROGRAM is required")

    from bench_did import run_worker

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_engine_", dir=opts.workdir) as tmp:
        for copies in opts.copies:
            data = Path(tmp) / f"panel_{copies}.parquet"
            firms = write_panel(data, opts.program, copies)
            results: dict[str, dict[str, Any]] = {}
            for engine in opts.engines:
                out = Path(tmp) / f"{engine}_{copies}.json"
                print(f"[{firms:,} firms] {engine} ...", flush=True)
                args = ["--worker", engine, "--data", str(data), "--out", str(out)]
                args += ["--memory-limit", opts.memory_limit]
                run = run_worker(args, opts.timeout, opts.max_rss, script=__file__)
                row: dict[str, Any] = {"firms": firms, "engine": engine, **run}
                if run["status"] == 0 and out.exists():
                    results[engine] = json.loads(out.read_text())
                    row.update(results[engine])
                else:
                    row["note"] = run["killed"] or f"failed: {run['stderr'][-300:]}"
                rows.append(row)
            for row in rows[-len(opts.engines) :]:
                if "numpy" in results and row["engine"] in results and row["engine"] != "numpy":
                    row["diff"] = _max_rel_diff(results["numpy"], results[row["engine"]])
            data.unlink()
    print()
    print("command: .venv/bin/python benchmarks/bench_engine.py " + " ".join(sys.argv[1:]))
    head = (
        f"{'firms':>10} {'engine':<7} {'wall s':>8} {'panel GB':>9} {'peak RSS GB':>12} "
        f"{'estimated':>9} {'max rel diff':>13}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        diff = f"{r['diff']:.1e}" if "diff" in r else "-"
        print(
            f"{r['firms']:>10,} {r['engine']:<7} {r.get('wall', math.nan):>8.1f} "
            f"{r.get('panel_gb', math.nan):>9.2f} {r['peak_rss_gb']:>12.2f} "
            f"{r.get('estimated', 0):>9} {diff:>13}  {r.get('note', '')}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_did's worker runner
    main()
