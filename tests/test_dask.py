"""Estimation units on a Dask cluster give the single-process run's results.

The evaluate flow with the config's `dask: {local_workers: 2}` runs one Prefect task per
program on a `distributed.LocalCluster` of two worker processes (prefect-dask's
DaskTaskRunner); the workers open the warehouse read-only and the flow's process stores
what they return. Two copies of one loaded warehouse are estimated, one each way, and
every stored number must agree to 1e-10.

Dask's worker processes run BLAS single-threaded (distributed sets OMP/MKL/OPENBLAS
threads to 1), and the number of BLAS threads changes the summation order of matrix
products: the event-study band's bootstrap and the TWFE standard errors then move by
~1e-8. So the single-process reference runs in a process with the same BLAS settings;
what the test compares is the distribution (units, pickling, storing), not BLAS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from flows import steps
from flows.config import DaskSettings, RunConfig, load_config

RUN = "loaded"
TABLES = {
    "results.estimates": ["program_id", "outcome", "estimator", "aggregation", "key", "label"],
    "results.att_gt": ["program_id", "outcome", "cohort", "year"],
    "results.roi": None,
}


def _loaded(root: Path) -> RunConfig:
    """A small demo portfolio ingested and modelled (the real steps, no estimation yet)."""
    from evaluation.synthetic import generate_demo
    from flows.demo_files import write_demo_files
    from warehouse.db import open_warehouse
    from warehouse.runs import start_run

    data = generate_demo(seed=11, n_firms=1500)
    paths = write_demo_files(data, root / "data")
    settled = time.time() - 60  # the loader waits for files written moments ago
    for path in paths.values():
        os.utime(path, (settled, settled))
    config = {
        "title": "dask",
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "sources": {n: str(p.relative_to(root)) for n, p in paths.items() if n in data.tables},
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    cfg = load_config(root / "config.yaml")
    with open_warehouse(cfg.warehouse) as con:
        start_run(con, RUN, "test", {"synthetic": True, "price_base_year": 2020})
    steps.ingest_sources(cfg, RUN)
    steps.build_warehouse(cfg)
    return cfg


def _copy(cfg: RunConfig, root: Path) -> RunConfig:
    root.mkdir()
    shutil.copy(cfg.warehouse, root / "warehouse.duckdb")
    return cfg.model_copy(update={"warehouse": root / "warehouse.duckdb"})


def _stored(cfg: RunConfig, run_id: str, table: str) -> pd.DataFrame:
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        frame = con.execute(f"select * from {table} where run_id = ?", [run_id]).df()
    # stamps of the run, and the cache key: it holds the code version, which each process
    # computes from the checkout's files (equal on a clean checkout, not while editing)
    volatile = {"run_id", "created_at", "data_version", "input_version"}
    frame = frame.drop(columns=[c for c in frame.columns if c in volatile])
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_settings_name_one_cluster() -> None:
    with pytest.raises(ValueError, match="either address"):
        DaskSettings()
    with pytest.raises(ValueError, match="either address"):
        DaskSettings(address="tcp://localhost:8786", local_workers=2)
    assert DaskSettings(local_workers=2).local_workers == 2


@pytest.mark.timeout(900)
def test_dask_cluster_equals_single_process(tmp_path: Path) -> None:
    from flows import pipeline

    loaded = _loaded(tmp_path / "loaded")
    here = _copy(loaded, tmp_path / "here")
    on_dask = _copy(loaded, tmp_path / "dask").model_copy(
        update={"dask": DaskSettings(local_workers=2)}
    )

    single_threaded = {
        v: "1" for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    script = (
        "import sys; from pathlib import Path; from flows import steps; "
        "from flows.config import load_config; "
        "c = load_config(Path(sys.argv[1])).model_copy(update={'warehouse': Path(sys.argv[2])}); "
        "print(','.join(steps.estimate(c, 'single').estimated))"
    )
    reference = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "loaded" / "config.yaml"),
            str(here.warehouse),
        ],
        env={**os.environ, **single_threaded},
        capture_output=True,
        text=True,
        check=True,
    )
    distributed = pipeline.evaluate_flow(on_dask, "distributed")

    # both estimated every program (nothing served from a cache)
    single = reference.stdout.strip().splitlines()[-1].split(",")
    assert single and sorted(distributed.estimated) == sorted(single)
    assert not distributed.reused
    for table in TABLES:
        a, b = _stored(here, "single", table), _stored(on_dask, "distributed", table)
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0, table
        numbers = a.select_dtypes("number").columns
        labels = [c for c in a.columns if c not in numbers]
        pd.testing.assert_frame_equal(a[labels], b[labels], check_dtype=False)
        # the legacy TWFE's cluster SEs come from pyfixest, whose numba-parallel demeaning
        # moves them by ~1e-8 from one run to the next even in one process: 1e-6 there
        legacy = (
            (a["estimator"] == "twfe_legacy").to_numpy()
            if "estimator" in a
            else np.zeros(len(a), bool)
        )
        for rows, tolerance in ((~legacy, 1e-10), (legacy, 1e-6)):
            np.testing.assert_allclose(
                a.loc[rows, numbers].to_numpy(float),
                b.loc[rows, numbers].to_numpy(float),
                rtol=0,
                atol=tolerance,
                err_msg=table,
            )
        if "estimator" in a:  # the comparison covers the modern estimators' rows
            assert (~legacy).sum() > 100


@pytest.mark.timeout(300)
def test_partitioned_moments_on_dask_workers_equal_one_scan(tmp_path: Path) -> None:
    """Callaway-Sant'Anna of a panel that no worker holds whole: each of 6 firm-hash
    partitions is scanned by a task on one of two Dask worker processes, which open the
    DuckDB file read-only; the coordinator combines their moments. Cells, SEs and the
    aggregations equal one scan of the whole panel (att_gt_sql) to 1e-10."""
    from dask.utils import key_split
    from distributed import Client, LocalCluster, get_task_stream

    from evaluation.did_duckdb import aggregate_sql, att_gt_sql
    from evaluation.did_partitioned import PanelSource, att_gt_partitioned, dask_map
    from tests.test_did import SYNTH, make_panel

    panel = make_panel(n_units=3000, seed=12)
    path = tmp_path / "panel.duckdb"
    with duckdb.connect(str(path)) as con:
        con.register("df", panel)
        con.execute("CREATE TABLE panel AS SELECT * FROM df")
    whole = duckdb.connect()
    whole.register("panel", panel)
    reference = att_gt_sql(whole, "panel", **SYNTH, control_group="notyettreated")

    source = PanelSource(**SYNTH, relation="panel", database=path)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        con = duckdb.connect()
        with get_task_stream(client) as tasks:
            gt = att_gt_partitioned(
                con, source, partitions=6, control_group="notyettreated", map=dask_map(client)
            )
    # two passes of six partitions, each a task of a worker process
    ran = sorted(key_split(t["key"]) for t in tasks.data)
    assert ran == ["partition_moments"] * 6 + ["partition_period_scan"] * 6, ran
    assert gt.n_units == reference.n_units
    pd.testing.assert_frame_equal(gt.cells, reference.cells, check_exact=False, rtol=0, atol=1e-10)
    for kind in ("simple", "group", "dynamic", "calendar"):
        ours, want = aggregate_sql(con, gt, kind), aggregate_sql(whole, reference, kind)
        assert abs(ours.overall_att - want.overall_att) < 1e-10, kind
        assert abs(ours.overall_se - want.overall_se) < 1e-10, kind
        pd.testing.assert_frame_equal(ours.table, want.table, check_exact=False, rtol=0, atol=1e-10)
