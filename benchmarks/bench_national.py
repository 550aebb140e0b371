"""The whole chain on a national register: wall time and peak memory per stage.

Generates (or reuses) the demo portfolio with N firms over 2010-2024 (15 years: about
N x 15 x 0.7 outcome rows, since firms enter and leave the register) and runs the
pipeline's steps on it, each stage in its own process so that each has its own peak
resident set (``wait4``, imports included):

* ``generate``: `evaluation.synthetic.generate_demo` + `flows.demo_files.write_demo_files`
  (the agency-style files; not part of a run, reported for the generator's own cost);
* ``ingest``: `flows.steps.ingest_sources` (validate, quarantine, load every file);
* ``marts``: `flows.steps.build_warehouse` (SQL models and data checks);
* ``audit``: `flows.steps.audit` (scorecard, expectation suites, Data Docs);
* ``estimate``: `flows.steps.estimate` (every program, one at a time);
* ``publish``: `flows.steps.publish` (the config's editions: en, es, pt).

These are the functions the Prefect tasks of `mes-eval run` call, in the same order on
the same warehouse; the sum is the run's time in the flow without Prefect's own
orchestration (~5-8 s per run) and start-up (~20 s per process). ``--cli`` instead runs
`mes-eval run` itself once on a fresh warehouse and reports its wall time and the peak
RSS of its process tree (sampled every 0.2 s).

Usage::

    .venv/bin/python benchmarks/bench_national.py --firms 1000000 [--dir out/national] \
        [--memory-limit 4GB] [--cli] [--keep-data]

DuckDB's memory limit for the run is the environment's ``MES_EVAL_DUCKDB_MEMORY`` (what
`warehouse.db.connect` reads; default DuckDB's own, 80% of RAM); ``--memory-limit`` sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("generate", "ingest", "marts", "audit", "estimate", "publish")
RUN = "bench"


def stage(name: str, out: Path, firms: int) -> None:
    """Run one stage in this process (the worker side)."""
    import yaml

    if name == "generate":
        from evaluation.synthetic import generate_demo
        from flows.demo_files import demo_config, write_demo_files

        paths = write_demo_files(generate_demo(seed=2024, n_firms=firms), out / "data")
        settled = time.time() - 60  # the loader waits for files written moments ago
        for path in paths.values():
            os.utime(path, (settled, settled))
        config = demo_config(out, paths) | {"title": "MES impact report: national register"}
        text = yaml.safe_dump(config, sort_keys=False)
        (out / "config.yaml").write_text(text, encoding="utf-8")
        return
    from flows import steps
    from flows.config import load_config
    from warehouse.db import open_warehouse
    from warehouse.runs import finish_run, start_run

    config = load_config(out / "config.yaml")
    if name == "ingest":
        with open_warehouse(config.warehouse) as con:
            start_run(con, RUN, "bench-national", config.model_dump(mode="json"))
        steps.ingest_sources(config, RUN)
    elif name == "marts":
        steps.build_warehouse(config)
    elif name == "audit":
        steps.audit(config, RUN)
    elif name == "estimate":
        steps.estimate(config, RUN)
        with open_warehouse(config.warehouse) as con:  # what a report edition shows
            finish_run(con, RUN, "completed")
    elif name == "publish":
        steps.publish(config, RUN, steps.default_period(config))


def _measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run `cmd`; its wall time and its peak RSS (wait4: the largest of the process and
    its waited-for children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(cmd[-4:])} failed ({code}):\n{stderr[-3000:]}")
    return {"wall_s": round(wall, 1), "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 2)}


def _tree_rss_gb(pid: int) -> float:
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = [parent, *parent.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running()) / 1024**3
    except psutil.Error:
        return 0.0


def _measure_cli(out: Path, env: dict[str, str]) -> dict[str, Any]:
    """`mes-eval run` on a fresh warehouse: wall time and the peak RSS of its tree."""
    (out / "warehouse.duckdb").unlink(missing_ok=True)
    cmd = [str(ROOT / ".venv" / "bin" / "mes-eval"), "run", "-c", str(out / "config.yaml")]
    start, peak = time.perf_counter(), 0.0
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        peak = max(peak, _tree_rss_gb(proc.pid))
        time.sleep(0.2)
    if proc.returncode:
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"mes-eval run failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"wall_s": round(time.perf_counter() - start, 1), "peak_rss_gb": round(peak, 2)}


def _outcome_rows(out: Path) -> int:
    import duckdb

    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        return int(con.sql("select count(*) from staging.stg_outcomes").fetchall()[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument(
        "--dir", type=Path, default=None, help="work folder (default out/national-N)"
    )
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 4GB")
    parser.add_argument("--cli", action="store_true", help="also time `mes-eval run` once")
    parser.add_argument("--keep-data", action="store_true", help="reuse generated files")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)  # worker side
    args = parser.parse_args()
    out = (args.dir or ROOT / "out" / f"national-{args.firms}").resolve()
    if args.stage:
        stage(args.stage, out, args.firms)
        return
    env = dict(os.environ)
    if args.memory_limit:
        env["MES_EVAL_DUCKDB_MEMORY"] = args.memory_limit
    reuse = args.keep_data and (out / "config.yaml").exists()
    if not reuse:
        shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "report", ignore_errors=True)
    rows: list[dict[str, Any]] = []
    for name in STAGES:
        if name == "generate" and reuse:
            continue
        cmd = [
            sys.executable,
            __file__,
            "--firms",
            str(args.firms),
            "--dir",
            str(out),
            "--stage",
            name,
        ]
        rows.append({"stage": name, **_measure(cmd, env)})
        print(json.dumps(rows[-1]), flush=True)
    run = [r for r in rows if r["stage"] != "generate"]
    total = {
        "stage": "run (ingest to publish)",
        "wall_s": round(sum(r["wall_s"] for r in run), 1),
        "peak_rss_gb": max(r["peak_rss_gb"] for r in run),
    }
    rows.append(total)
    if args.cli:
        rows.append({"stage": "mes-eval run (one process, Prefect)", **_measure_cli(out, env)})
    summary = {
        "firms": args.firms,
        "outcome_rows": _outcome_rows(out),
        "memory_limit": args.memory_limit,
        "stages": rows,
        "command": " ".join(["benchmarks/bench_national.py", *sys.argv[1:]]),
    }
    print(json.dumps(summary, indent=1))
    print("\n| stage | wall s | peak RSS GB |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['stage']} | {r['wall_s']} | {r['peak_rss_gb']} |")


if __name__ == "__main__":
    main()
