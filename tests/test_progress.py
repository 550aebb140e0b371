"""A run's progress: what each step says while it runs, and what the CLI shows of it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import yaml

from flows import progress


class Heard:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def doing(self, what: str) -> None:
        self.events.append(("doing", what))

    def done(self, what: str, seconds: float) -> None:
        assert seconds >= 0
        self.events.append(("done", what))


def test_a_stage_says_when_it_starts_and_ends_with_its_summary() -> None:
    heard = Heard()
    with progress.listening(heard):
        with progress.stage("Estimation") as step:
            progress.doing("Estimating P1 (1 of 2 programs)")
            step.summary = "Estimation: 2 programs"
        with progress.stage("Publishing"):
            pass
    assert heard.events == [
        ("doing", "Estimation"),
        ("doing", "Estimating P1 (1 of 2 programs)"),
        ("done", "Estimation: 2 programs"),
        ("doing", "Publishing"),
        ("done", "Publishing"),  # no summary: its name
    ]


def test_a_failed_stage_says_nothing_of_an_end_and_no_listener_costs_nothing() -> None:
    heard = Heard()
    with progress.listening(heard), pytest.raises(ValueError), progress.stage("Audit"):
        raise ValueError("disk full")
    assert heard.events == [("doing", "Audit")]
    with progress.stage("Audit") as step:  # nobody listens: nothing happens, nothing fails
        step.summary = "Audit: 3 of 3 expectations met"
    progress.doing("anything")
    assert heard.events == [("doing", "Audit")]


def test_tasks_in_other_threads_reach_the_listener_and_it_is_removed_after() -> None:
    heard = Heard()
    with progress.listening(heard):
        # Prefect runs a flow's tasks in worker threads of the same process
        worker = threading.Thread(target=progress.doing, args=("Loading firms.csv (firms)",))
        worker.start()
        worker.join()
    progress.doing("after")
    assert heard.events == [("doing", "Loading firms.csv (firms)")]


def test_counts_are_worded_for_one_and_many() -> None:
    assert progress.count(1, "program") == "1 program"
    assert progress.count(12_345, "row") == "12,345 rows"


def test_the_steps_announce_themselves(tmp_path: Path) -> None:
    """The pipeline's own steps, without Prefect: the files being loaded, the step lines."""
    from evaluation.synthetic import generate_demo
    from flows import steps
    from flows.config import load_config
    from flows.demo_files import write_demo_files
    from schemas.contract import ENTITIES
    from warehouse.db import open_warehouse
    from warehouse.runs import start_run

    data = generate_demo(seed=3, n_firms=500, first_year=2016, last_year=2022)
    paths = write_demo_files(data, tmp_path / "data")
    settled = time.time() - 60  # the loader waits for files written moments ago
    for path in paths.values():
        os.utime(path, (settled, settled))
    settings = {
        "warehouse": "w.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "sources": {e: str(path) for e, path in paths.items() if e in ENTITIES},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    config = load_config(tmp_path / "config.yaml")
    with open_warehouse(config.warehouse) as con:
        start_run(con, "r1", "test", {"synthetic": True, "price_base_year": 2020})
    heard = Heard()
    with progress.listening(heard):
        loads = steps.ingest_sources(config, "r1")
        steps.build_warehouse(config)
    doing = [what for kind, what in heard.events if kind == "doing"]
    done = [what for kind, what in heard.events if kind == "done"]
    assert "Loading firms.csv (firms)" in doing and "Loading outcomes.csv (outcomes)" in doing
    rows = sum(x.rows_loaded for x in loads)
    quarantined = sum(x.rows_quarantined for x in loads)
    assert done[0] == (
        f"Ingest: {len(loads)} files (0 unchanged), {rows:,} rows loaded, "
        f"{quarantined:,} quarantined"
    )
    assert done[1].startswith("Marts built, data checks: ") and done[1].endswith(" passed")
