"""Benchmark: Callaway & Sant'Anna in DuckDB (evaluation.did_duckdb) vs moderndid 0.2.0.

Generates a seeded balanced firm panel (N firms x 10 years, 4 entry cohorts + never
treated, heterogeneous planted effects) straight into a parquet file, then runs, each in
its own subprocess so that peak RSS is the tool's own:

* ``duckdb-sql``: ``att_gt_sql`` + the four ``aggregate_sql`` (simple, group, dynamic,
  calendar) with analytic SEs, over a DuckDB view on the parquet file (memory_limit and
  temp_directory set, so DuckDB spills instead of growing);
* ``moderndid``: ``att_gt`` (reg, analytic SEs, ``boot=False``) + the four ``aggte``,
  on the same file read with polars; killed if it exceeds ``--timeout`` or ``--max-rss``;
* ``numpy``: the pipeline's own path, ``evaluation.did.att_gt`` + the four ``aggregate``
  on the file read with pandas (dense unit x cell influence functions in memory);
* ``duckdb-band``: the SQL estimate plus the simultaneous event-study band
  (``uniform_band_sql``, B = 1000 Mammen draws) - not part of the comparison, it shows
  that the bootstrap scales;
* ``duckdb-parts``: ``att_gt_partitioned`` (evaluation.did_partitioned) over
  ``--partitions`` firm-hash partitions of the same file, one after the other in the
  worker (memory bounded by a partition), + the four ``aggregate_sql``;
* ``duckdb-dask``: the same with each partition a task on a Dask ``LocalCluster`` of
  ``--dask-workers`` processes (peak RSS: the coordinator's and, after "workers", the
  largest worker's).

The partitioned and numpy rows' differences are from ``duckdb-sql`` (one scan), not
moderndid.

"wall s" is the computation inside the worker (data read included, interpreter start
and imports excluded), "cpu s" the CPU time of all its threads over the same span (on a
busy machine this includes DuckDB threads spinning while they wait for a core); "peak
RSS GB" is the worker
process's maximum resident set size (``wait4``), imports included. The SQL numbers are
checked against moderndid's: every ATT(g,t) and aggregate point estimate (max |diff
att|) and analytic SE (max |diff se|).

Usage: ``.venv/bin/python benchmarks/bench_did.py [--firms N] [--small M] [--repeat R]
[--tools duckdb-sql,duckdb-parts,...] [--program WAREHOUSE:PROGRAM]`` (``--program``: a
pipeline-shaped panel, one program's rows of a warehouse's evaluation panel, instead of
the generated one) (``--small 0`` skips the second, smaller size; by
default 1M and 100k firms; with ``--repeat R`` each tool runs R times and the fastest run
is reported).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

YEARS = np.arange(2010, 2020)
COHORTS = np.array([2012, 2014, 2016, 2018, 0])  # 0 = never treated
KINDS = ("simple", "group", "dynamic", "calendar")
COLS = {"unit": "firm", "time": "year", "cohort": "first_year", "outcome": "y"}


# ---------------------------------------------------------------------------- data


def write_program_panel(path: Path, source: str) -> int:
    """`WAREHOUSE:PROGRAM`: that program's rows of a warehouse's evaluation panel (its
    beneficiaries and comparison firms, as the pipeline estimates it), log sales as the
    outcome, firm ids numbered; returns the number of firms."""
    import duckdb

    warehouse, _, program = source.rpartition(":")
    with duckdb.connect(warehouse, read_only=True) as con:
        con.execute(
            f"""
            copy (
                select dense_rank() over (order by firm_id) as firm, year,
                    cohort as first_year, ln(sales_usd) as y
                from marts.mart_evaluation_panel
                where program_id = $program and sales_usd > 0
            ) to {str(path)!r} (format parquet)
            """,
            {"program": program},
        )
        return int(con.sql(f"select count(distinct firm) from {str(path)!r}").fetchall()[0][0])


def write_panel(path: Path, n_firms: int, seed: int = 2026, chunk: int = 250_000) -> None:
    """Seeded balanced panel, written chunk by chunk (memory ~ chunk, not n_firms).

    y = firm effect + year effect + effect(cohort, event time) + noise; the effect grows
    with event time and is larger for later cohorts, so aggregations differ.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("firm", pa.int64()),
            ("year", pa.int64()),
            ("first_year", pa.int64()),
            ("y", pa.float64()),
        ]
    )
    year_fe = np.random.default_rng([seed, 1 << 30]).normal(0.0, 0.3, len(YEARS))
    with pq.ParquetWriter(path, schema) as writer:
        for j, lo in enumerate(range(0, n_firms, chunk)):
            m = min(chunk, n_firms - lo)
            rng = np.random.default_rng([seed, j])  # chunk j: same data whatever n_firms
            g = rng.choice(COHORTS, size=m)
            firm_fe = rng.normal(0.0, 1.0, m)
            u = np.repeat(np.arange(m), len(YEARS))
            k = np.tile(np.arange(len(YEARS)), m)
            t, gg = YEARS[k], g[u]
            e = t - gg
            effect = np.where((gg > 0) & (e >= 0), 0.05 * (e + 1) * (1 + (gg - 2012) / 10), 0.0)
            y = firm_fe[u] + year_fe[k] + effect + rng.normal(0.0, 0.5, len(u))
            writer.write_table(
                pa.table({"firm": lo + u + 1, "year": t, "first_year": gg, "y": y}, schema=schema)
            )


# ---------------------------------------------------------------------------- workers


def _agg_dict(overall_att: float, overall_se: float, keys: Any, att: Any, se: Any) -> dict:
    return {
        "overall_att": float(overall_att),
        "overall_se": float(overall_se),
        "keys": [int(x) for x in np.asarray(keys, dtype=float)],
        "att": [float(x) for x in att],
        "se": [float(x) for x in se],
    }


def _cpu() -> float:
    """CPU seconds of this process, all threads."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _write_sql_result(out: Path, result: dict[str, Any], gt: Any, aggs: dict[str, Any]) -> None:
    """A worker's timings with its cells and aggregations (did.py's columns), as JSON."""
    c = gt.cells
    result["cells"] = {k: c[k].tolist() for k in ("group", "time", "att", "se")}
    result["aggs"] = {
        kind: _agg_dict(a.overall_att, a.overall_se, a.table["key"], a.table["att"], a.table["se"])
        for kind, a in aggs.items()
    }
    out.write_text(json.dumps(result))


def worker_sql(data: Path, out: Path, tmp: Path, memory_limit: str, band: bool) -> None:
    import duckdb

    from evaluation.did_duckdb import aggregate_sql, att_gt_sql, uniform_band_sql

    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "temp_directory": str(tmp),
            "threads": os.cpu_count() or 1,
            "preserve_insertion_order": False,  # nothing here relies on it; saves memory
        }
    )
    con.execute(f"CREATE VIEW panel AS SELECT * FROM read_parquet({str(data)!r})")
    t0, c0 = time.perf_counter(), _cpu()
    gt = att_gt_sql(con, "panel", **COLS)
    aggs = {kind: aggregate_sql(con, gt, kind) for kind in KINDS}
    result: dict[str, Any] = {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0}
    if band:
        t1 = time.perf_counter()
        b = uniform_band_sql(con, gt, seed=1)
        result["band_wall"] = time.perf_counter() - t1
        result["band_crit"] = b.crit_value
        result["wall"] = time.perf_counter() - t0
        result["cpu"] = _cpu() - c0
    _write_sql_result(out, result, gt, aggs)


def worker_partitioned(data: Path, out: Path, partitions: int, dask_workers: int) -> None:
    import resource
    import warnings

    import duckdb

    from evaluation.did_duckdb import aggregate_sql
    from evaluation.did_partitioned import PanelSource, att_gt_partitioned, dask_map

    source = PanelSource(**COLS, parquet=str(data))
    con = duckdb.connect()
    result: dict[str, Any] = {}
    t0, c0 = time.perf_counter(), _cpu()
    if dask_workers:
        from distributed import Client, LocalCluster

        warnings.simplefilter("ignore")
        with (
            LocalCluster(
                n_workers=dask_workers, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            t0, c0 = time.perf_counter(), _cpu()  # the cluster's start-up excluded
            gt = att_gt_partitioned(con, source, partitions=partitions, map=dask_map(client))

            def peak() -> float:
                return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB

            result["workers_rss_gb"] = max(client.run(peak).values())
    else:
        gt = att_gt_partitioned(con, source, partitions=partitions)
    aggs = {kind: aggregate_sql(con, gt, kind) for kind in KINDS}
    result.update({"wall": time.perf_counter() - t0, "cpu": _cpu() - c0})
    _write_sql_result(out, result, gt, aggs)


def worker_numpy(data: Path, out: Path) -> None:
    import pandas as pd

    from evaluation.did import aggregate, att_gt

    t0, c0 = time.perf_counter(), _cpu()
    panel = pd.read_parquet(data)
    gt = att_gt(panel, **COLS)
    aggs = {kind: aggregate(gt, kind) for kind in KINDS}
    result: dict[str, Any] = {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0}
    _write_sql_result(out, result, gt, aggs)


def worker_moderndid(data: Path, out: Path) -> None:
    import warnings

    import moderndid
    import polars as pl

    warnings.simplefilter("ignore")
    t0, c0 = time.perf_counter(), _cpu()
    df = pl.read_parquet(data)
    ref = moderndid.att_gt(
        df,
        yname=COLS["outcome"],
        tname=COLS["time"],
        gname=COLS["cohort"],
        idname=COLS["unit"],
        xformla=None,
        est_method="reg",  # without covariates reg/ipw/dr coincide; reg is cheapest
        boot=False,
        cband=False,
    )
    aggs = {kind: moderndid.aggte(ref, type=kind, boot=False, cband=False) for kind in KINDS}
    result: dict[str, Any] = {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0}
    result["cells"] = {
        "group": np.asarray(ref.groups).tolist(),
        "time": np.asarray(ref.times).tolist(),
        "att": np.asarray(ref.att_gt, dtype=float).tolist(),
        "se": np.asarray(ref.se_gt, dtype=float).tolist(),
    }
    result["aggs"] = {}
    for kind, a in aggs.items():
        keys = [] if kind == "simple" else a.event_times
        att = [] if kind == "simple" else a.att_by_event
        se = [] if kind == "simple" else a.se_by_event
        result["aggs"][kind] = _agg_dict(a.overall_att, a.overall_se, keys, att, se)
    out.write_text(json.dumps(result))


# ---------------------------------------------------------------------------- driver


def _rss_gb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return 0.0


def run_worker(
    args: list[str], timeout: float, max_rss_gb: float, script: str = __file__
) -> dict[str, Any]:
    """Run `script` (this one) as a worker; its own peak RSS comes from wait4, not from us."""
    cmd = [sys.executable, script, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start, status, killed = time.perf_counter(), None, ""
    while True:
        pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(wstatus)
            break
        if time.perf_counter() - start > timeout:
            killed = f"killed after {timeout:.0f} s"
        elif _rss_gb(proc.pid) > max_rss_gb:
            killed = f"killed above {max_rss_gb:g} GB RSS"
        if killed:
            proc.kill()
            _, wstatus, usage = os.wait4(proc.pid, 0)
            status = os.waitstatus_to_exitcode(wstatus)
            break
        time.sleep(0.2)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = status
    return {
        "status": status,
        "killed": killed,
        "peak_rss_gb": usage.ru_maxrss / 1e6,  # Linux: kilobytes
        "process_wall": time.perf_counter() - start,
        "stderr": stderr[-2000:],
    }


def _max_diff(a: dict, b: dict) -> tuple[float, float]:
    """Max |diff| over cells and aggregations: (point estimates, standard errors)."""
    ca, cb = a["cells"], b["cells"]
    if ca["group"] != cb["group"] or ca["time"] != cb["time"]:
        return math.inf, math.inf
    att = [np.abs(np.subtract(ca["att"], cb["att"])).max()]
    se = [np.nanmax(np.abs(np.subtract(ca["se"], cb["se"])))]
    for kind in KINDS:
        x, y = a["aggs"][kind], b["aggs"][kind]
        if x["keys"] != y["keys"]:
            return math.inf, math.inf
        att.append(abs(x["overall_att"] - y["overall_att"]))
        se.append(abs(x["overall_se"] - y["overall_se"]))
        if x["keys"]:
            att.append(np.abs(np.subtract(x["att"], y["att"])).max())
            se.append(np.abs(np.subtract(x["se"], y["se"])).max())
    return float(max(att)), float(max(se))


def bench_size(n_firms: int, work: Path, opts: argparse.Namespace) -> list[dict[str, Any]]:
    data = work / f"panel_{n_firms}.parquet"
    t0 = time.perf_counter()
    if opts.program:
        n_firms = write_program_panel(data, opts.program)
    else:
        write_panel(data, n_firms, seed=opts.seed)
    print(f"[{n_firms:,} firms] panel written in {time.perf_counter() - t0:.1f} s ({data})")
    rows = []
    results: dict[str, dict] = {}
    parts = ["--partitions", str(opts.partitions)]
    runs = [
        ("duckdb-sql", ["--worker", "sql"], opts.timeout),
        ("moderndid", ["--worker", "moderndid"], opts.timeout),
        ("numpy", ["--worker", "numpy"], opts.timeout),
        ("duckdb-band", ["--worker", "sql", "--band"], opts.timeout),
        ("duckdb-parts", ["--worker", "partitioned", *parts], opts.timeout),
        ("duckdb-dask", ["--worker", "partitioned", *parts, "--dask-workers", "2"], opts.timeout),
    ]
    runs = [r for r in runs if r[0] in opts.tools and (opts.band or r[0] != "duckdb-band")]
    for tool, extra, timeout in runs:
        out = work / f"result_{tool}_{n_firms}.json"
        spill = work / f"duckdb_tmp_{tool}"
        args = [*extra, "--data", str(data), "--out", str(out), "--tmp", str(spill)]
        args += ["--memory-limit", opts.memory_limit]
        row: dict[str, Any] = {"size": n_firms, "tool": tool, "peak_rss_gb": 0.0}
        # Best of --repeat runs (the usual way to read timings on a shared machine);
        # peak RSS is the largest seen.
        for i in range(opts.repeat if tool != "duckdb-band" else 1):
            out.unlink(missing_ok=True)
            spill.mkdir(exist_ok=True)
            print(f"[{n_firms:,} firms] running {tool} ({i + 1}) ...", flush=True)
            run = run_worker(args, timeout, opts.max_rss)
            shutil.rmtree(spill, ignore_errors=True)
            row["peak_rss_gb"] = max(row["peak_rss_gb"], run["peak_rss_gb"])
            if run["status"] != 0 or not out.exists():
                row["wall"] = row["cpu"] = math.nan
                row["note"] = (
                    run["killed"] or f"failed (exit {run['status']}): {run['stderr'][-300:]}"
                )
                break
            res = json.loads(out.read_text())
            if res["wall"] < row.get("wall", math.inf):
                results[tool] = res
                row["wall"], row["cpu"] = res["wall"], res["cpu"]
                if "band_wall" in res:
                    row["note"] = f"band {res['band_wall']:.1f} s, crit {res['band_crit']:.3f}"
                if "workers_rss_gb" in res:
                    row["note"] = f"workers {res['workers_rss_gb']:.2f} GB each at most"
        rows.append(row)
    by_tool = {r["tool"]: r for r in rows}
    if "duckdb-sql" in results and "moderndid" in results:
        d_att, d_se = _max_diff(results["duckdb-sql"], results["moderndid"])
        first = by_tool["duckdb-sql"]
        first["diff_att"], first["diff_se"] = d_att, d_se
        first["speedup"] = by_tool["moderndid"]["wall"] / first["wall"]
        first["cpu_ratio"] = by_tool["moderndid"]["cpu"] / first["cpu"]
    for tool in ("numpy", "duckdb-parts", "duckdb-dask"):  # against one scan of the whole panel
        if tool in results and "duckdb-sql" in results:
            d_att, d_se = _max_diff(results[tool], results["duckdb-sql"])
            by_tool[tool]["diff_att"], by_tool[tool]["diff_se"] = d_att, d_se
    data.unlink(missing_ok=True)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'firms':>10} {'tool':<12} {'wall s':>8} {'cpu s':>8} {'peak RSS GB':>12} "
        f"{'max|d att|':>11} {'max|d se|':>10}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        d_att = f"{r['diff_att']:.1e}" if "diff_att" in r else "-"
        d_se = f"{r['diff_se']:.1e}" if "diff_se" in r else "-"
        note = r.get("note", "")
        if "speedup" in r:
            note = (
                f"speed-up vs moderndid {r['speedup']:.1f}x wall, {r['cpu_ratio']:.1f}x CPU " + note
            )
        print(
            f"{r['size']:>10,} {r['tool']:<12} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
            f"{r['peak_rss_gb']:>12.2f} "
            f"{d_att:>11} {d_se:>10}  {note}"
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--firms", type=int, default=1_000_000, help="firms in the main panel")
    p.add_argument("--small", type=int, default=100_000, help="second, smaller size (0: skip)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per worker")
    p.add_argument("--max-rss", type=float, default=16.0, help="GB; a worker above is killed")
    p.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit")
    p.add_argument("--no-band", action="store_true", help="skip the band run")
    p.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is shown")
    p.add_argument("--workdir", type=Path, default=None, help="default: a temp directory")
    p.add_argument("--partitions", type=int, default=4, help="firm-hash partitions")
    p.add_argument(
        "--program",
        metavar="WAREHOUSE:PROGRAM",
        help="instead of the generated panel, one program's rows of a warehouse's "
        "evaluation panel (log sales; --firms and --small are then ignored)",
    )
    p.add_argument(
        "--tools",
        type=lambda text: text.split(","),
        default=["duckdb-sql", "moderndid", "numpy", "duckdb-band", "duckdb-parts", "duckdb-dask"],
        help="comma-separated: duckdb-sql,moderndid,numpy,duckdb-band,duckdb-parts,duckdb-dask",
    )
    # worker mode (internal)
    p.add_argument(
        "--worker", choices=["sql", "moderndid", "numpy", "partitioned"], help=argparse.SUPPRESS
    )
    p.add_argument("--dask-workers", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--band", action="store_true", help=argparse.SUPPRESS)
    opts = p.parse_args(argv)

    if opts.worker == "sql":
        worker_sql(opts.data, opts.out, opts.tmp, opts.memory_limit, opts.band)
        return
    if opts.worker == "moderndid":
        worker_moderndid(opts.data, opts.out)
        return
    if opts.worker == "numpy":
        worker_numpy(opts.data, opts.out)
        return
    if opts.worker == "partitioned":
        worker_partitioned(opts.data, opts.out, opts.partitions, opts.dask_workers)
        return
    opts.band = not opts.no_band

    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} at start")
    sizes = [opts.firms] + ([opts.small] if opts.small and opts.small != opts.firms else [])
    if opts.program:
        sizes = [0]  # one panel; its size is the program's
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_did_", dir=opts.workdir) as tmp:
        for n in sizes:
            rows += bench_size(n, Path(tmp), opts)
    print()
    print("command: .venv/bin/python benchmarks/bench_did.py " + " ".join(sys.argv[1:]))
    print_table(rows)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
    main()
