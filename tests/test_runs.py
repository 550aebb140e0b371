"""Scheduled runs: one writer at a time, caching, run history, notifications, schedules."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from warehouse.lock import WarehouseBusy, writer_lock

HOLD = """
import sys, time
from pathlib import Path
from warehouse.lock import writer_lock
with writer_lock(Path(sys.argv[1])):
    Path(sys.argv[2]).write_text("held")
    time.sleep(float(sys.argv[3]))
"""


def hold_lock(warehouse: Path, marker: Path, seconds: float) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse), str(marker), str(seconds)]
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.05)
    return child


def test_a_second_writer_fails_cleanly_or_waits(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    child = hold_lock(warehouse, tmp_path / "marker", 3)
    with (
        pytest.raises(WarehouseBusy, match=r"another run holds the warehouse \(pid \d+ since"),
        writer_lock(warehouse),
    ):
        pass
    started = time.monotonic()
    with writer_lock(warehouse, wait_seconds=60, poll_seconds=0.1):  # waits for the first to end
        waited = time.monotonic() - started
    child.wait()
    assert 0.5 < waited < 30


def test_the_lock_is_released_when_its_holder_dies(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    child = hold_lock(warehouse, tmp_path / "marker", 600)
    child.kill()
    child.wait()
    with writer_lock(warehouse):  # no stale lock left behind
        pass


def test_schedules_are_validated_and_become_deployments(tmp_path: Path) -> None:
    from flows.config import ConfigError, load_config
    from flows.pipeline import deployments

    base = yaml.safe_load((Path(__file__).parents[1] / "examples" / "agency.yaml").read_text())
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(base))
    config = load_config(tmp_path / "agency.yaml")
    built = {d.name: d for d in deployments(config, tmp_path / "agency.yaml")}
    assert set(built) == {"quarterly-edition", "annual-edition"}
    quarterly = built["quarterly-edition"]
    assert quarterly.schedules[0].schedule.cron == "0 6 15 1,4,7,10 *"
    assert quarterly.parameters == {
        "config_path": str((tmp_path / "agency.yaml").resolve()),
        "edition": "quarterly",
    }
    base["schedules"]["quarterly"]["cron"] = "every quarter"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(base))
    with pytest.raises(ConfigError, match="not a valid cron expression"):
        load_config(tmp_path / "bad.yaml")


def test_a_quarterly_schedule_reports_the_last_quarter_ended() -> None:
    from datetime import date

    from flows.config import Schedule
    from reports.period import Period

    assert Period.last_quarter_before(date(2026, 1, 15)).label == "2025Q4"
    assert Period.last_quarter_before(date(2026, 4, 1)).label == "2026Q1"
    assert Period.last_quarter_before(date(2026, 12, 31)).label == "2026Q3"
    cron = "0 6 15 1,4,7,10 *"
    assert Schedule(cron=cron).edition_period("quarterly") == "quarter"
    assert Schedule(cron=cron).edition_period("annual") == "year"
    assert Schedule(cron=cron, period="quarter").edition_period("monitoring") == "quarter"
    assert Schedule(cron=cron, period="year").edition_period("quarterly") == "year"


# --- end to end, under Prefect ----------------------------------------------------------


def demo_config(tmp_path: Path, n_firms: int = 800, **extra: object) -> Path:
    from evaluation.synthetic import generate_demo
    from flows.demo_files import write_demo_files

    paths = write_demo_files(generate_demo(seed=3, n_firms=n_firms), tmp_path / "data")
    time.sleep(max(0.0, 2.1 - (time.time() - paths["outcomes"].stat().st_mtime)))  # settled
    config = {
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "sources": {
            k: str(p.relative_to(tmp_path))
            for k, p in paths.items()
            if k not in ("true_effects", "true_att_simple", "planted_invalid")
        },
        "evaluation": {"subgroups": [], "matching": False},
        **extra,
    }
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_version_artifacts() -> list[str]:
    """The markdown of every `run-version` artifact Prefect holds."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["run-version"]))
        )
    return [str(a.data) for a in found]


def prefect_flow_names() -> set[str]:
    """The names of the flows Prefect has a record of."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {f.name for f in client.read_flows()}


# `mes-eval report` in a fresh process: its exit code, whether it imported Prefect, and
# which of the estimators' modules it imported (publishing needs none of them)
REPORT_WITHOUT_PREFECT = """
import json, sys
from typer.testing import CliRunner
from flows.cli import app
result = CliRunner().invoke(app, ["report", "-c", sys.argv[1]])
heavy = ["evaluation.impact", "flows.estimation", "statsmodels", "scipy.stats", "pyfixest"]
print(json.dumps([result.exit_code, "prefect" in sys.modules, result.output,
                  [m for m in heavy if m in sys.modules]]))
"""


@pytest.mark.e2e
def test_parent_flow_end_to_end_with_cache_history_and_failure_hook(tmp_path: Path) -> None:
    """Flow runs (run, scheduled) leave a `run-version` Prefect artifact; a flow-less
    command (`report`) leaves its record in meta.runs only, the record of truth, with the
    same code version, and starts no Prefect flow run (nor imports Prefect)."""
    from prefect.testing.utilities import prefect_test_harness
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.config import load_config
    from flows.pipeline import evaluation_run, scheduled_run
    from reports.period import Period

    failures = tmp_path / "failures.log"
    config_path = demo_config(
        tmp_path,
        notify_command=f'echo "$MES_EVAL_RUN_RUN_ID $MES_EVAL_RUN_STATUS" >> {failures}',
        schedules={"quarterly": {"cron": "0 6 15 1,4,7,10 *"}},
    )
    config = load_config(config_path)
    with prefect_test_harness(server_startup_timeout=90):
        started = time.perf_counter()
        first = evaluation_run(config)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        second = evaluation_run(config)
        second_seconds = time.perf_counter() - started
        # the scheduled quarterly edition: the last quarter ended, monitoring only
        quarterly = scheduled_run(str(config_path), "quarterly")
        # a failing run: a source that does not exist any more
        (tmp_path / "data" / "targets.csv").unlink()
        with pytest.raises(Exception, match=r"targets\.csv: file not found"):
            evaluation_run(config)
        # a flow-less command, here where a flow would show: editions of the latest run
        report = CliRunner().invoke(app, ["report", "-c", str(config_path)])
        artifacts = run_version_artifacts()
        flow_names = prefect_flow_names()
    assert report.exit_code == 0, report.output
    # ...and in a process of its own, where Prefect is never imported
    alone = subprocess.run(
        [sys.executable, "-c", REPORT_WITHOUT_PREFECT, str(config_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    code, imported_prefect, output, estimators = json.loads(alone.stdout.strip().splitlines()[-1])
    assert (code, imported_prefect, estimators) == (0, False, []), output + alone.stderr
    assert (
        first.estimates.cached_from is None and first.report is not None and first.report.exists()
    )
    assert second.estimates.cached_from == first.run_id  # unchanged data: served from cache
    assert all(load.skipped for load in second.loads)
    print(f"\nfirst run {first_seconds:.1f} s, unchanged re-run {second_seconds:.1f} s")
    with duckdb.connect(str(config.warehouse), read_only=True) as con:
        runs = con.sql(
            "select run_id, status, cached, message, row_counts, flow from meta.runs "
            "order by started_at"
        ).fetchall()
        differ = con.execute(
            "select count(*) from ("
            "(select * exclude (run_id, created_at) from results.estimates where run_id = ? "
            " except all select * exclude (run_id, created_at) from results.estimates where run_id = ?)"
            " union all "
            "(select * exclude (run_id, created_at) from results.estimates where run_id = ? "
            " except all select * exclude (run_id, created_at) from results.estimates where run_id = ?))",
            [first.run_id, second.run_id, second.run_id, first.run_id],
        ).fetchall()[0][0]
        total = con.execute(
            "select count(*) from results.estimates where run_id = ?", [second.run_id]
        ).fetchall()[0][0]
        quarterly_estimates = con.execute(
            "select count(*) from results.estimates where run_id = ?", [quarterly]
        ).fetchall()[0][0]
    assert [r[1] for r in runs] == ["completed"] * 3 + ["failed"] + ["completed"] * 2
    assert [r[5] for r in runs[4:]] == ["publish-run", "publish-run"]  # the two reports
    assert [r[2] for r in runs[:3]] == [False, True, None]  # the quarterly run estimates nothing
    assert "targets.csv: file not found" in runs[3][3]
    assert differ == 0 and total > 0  # the cached run carries the very same results
    assert failures.read_text().split() == [runs[3][0], "failed"]
    assert runs[2][0] == quarterly and quarterly_estimates == 0
    editions = json.loads((config.out_dir / "editions.json").read_text())
    expected = Period.last_quarter_before(datetime.now(UTC).date()).label
    assert [e["period"] for e in editions["editions"] if e["run_id"] == quarterly] == [expected]
    # an auditor matches an edition to its run by one version string
    with duckdb.connect(str(config.warehouse), read_only=True) as con:
        logged = {r[0] for r in con.sql("select code_version from meta.runs").fetchall()}
    assert logged == {e["code_version"] for e in editions["editions"]}
    # ...and the Prefect UI shows the same string on each completed flow run (and on no
    # other): the flow-less reports are in meta.runs (above) and not in Prefect at all
    (version,) = logged
    completed = {f"Run `{r[0]}`" for r in runs[:4] if r[1] == "completed"}  # quarterly too
    assert all(f"code version `{version}`" in a for a in artifacts)
    assert sorted(a.split(",")[0] for a in artifacts) == sorted(completed)
    assert "evaluation-run" in flow_names and "publish-run" not in flow_names
    # the CLI lists the history, the failure with its reason
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("mes-eval")),
            "runs",
            "--warehouse",
            str(config.warehouse),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "failed" in done.stdout and "targets.csv: file not found" in done.stdout


@pytest.mark.e2e
def test_two_runs_at_once_leave_a_consistent_warehouse(tmp_path: Path) -> None:
    config_path = demo_config(tmp_path, n_firms=500)
    mes_eval = str(Path(sys.executable).with_name("mes-eval"))
    runs = [
        subprocess.Popen(
            [mes_eval, "run", "--config", str(config_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        statuses = con.sql("select status from meta.runs").fetchall()
        loads = con.sql(
            "select entity, count(*) from meta.loads group by 1 having count(*) > 1"
        ).fetchall()
        raw = con.sql("select count(*) from raw.outcomes").fetchall()[0][0]
        loaded = con.sql("select rows_loaded from meta.loads where entity = 'outcomes'").fetchall()
    assert statuses == [("completed",), ("completed",)]
    assert loads == []  # each file loaded once: the second run waited, then skipped them
    assert [(raw,)] == loaded


def test_only_programs_whose_inputs_changed_are_estimated_again(tmp_path: Path) -> None:
    """A correction of one program's participation re-estimates that program only, and
    the run's results equal a from-scratch estimation on the corrected data."""
    import pandas as pd

    from evaluation.impact import estimate_impacts
    from flows import steps
    from flows.config import load_config
    from warehouse.db import open_warehouse
    from warehouse.results import read_evaluation_panel, read_self_reported

    config = load_config(demo_config(tmp_path, n_firms=600))
    steps.ingest_sources(config, "r1")
    steps.build_warehouse(config)
    first = steps.estimate(config, "r1")
    programs = sorted(first.estimates["program_id"].unique())
    assert first.estimated == programs and first.reused == {}
    # a correction: one participation of the first program with its public cost doubled
    participations = pd.read_excel(config.sources["participations"].path, dtype=str)
    row = participations[participations["program_id"] == programs[0]].head(1).copy()
    row["public_cost"] = str(2 * float(row["public_cost"].iloc[0]))
    correction = tmp_path / "data" / "participations_correction.csv"
    row.to_csv(correction, index=False)
    time.sleep(2.1)  # the loader waits for files that may still be being written
    sources = {**config.sources, "participations": {"path": correction}}
    config = config.model_validate({**config.model_dump(), "sources": sources})
    assert steps.ingest_source(config, "participations", "r2").rows_superseded == 1
    steps.build_warehouse(config)
    second = steps.estimate(config, "r2")
    assert second.estimated == [programs[0]]
    assert second.reused == dict.fromkeys(programs[1:], "r1")
    assert second.cached_from is None and steps.estimate(config, "r3").cached_from == "r2"

    spec = config.evaluation_spec()
    with open_warehouse(config.warehouse) as con:
        fresh = estimate_impacts(read_evaluation_panel(con), spec, read_self_reported(con))
    keys = ["program_id", "outcome", "estimator", "aggregation", "key", "subgroup", "label"]
    for stored, expected, on in (
        (second.estimates, fresh.estimates, keys),
        (second.roi, fresh.roi, ["program_id", "metric", "basis", "scale"]),
    ):
        merged = stored.merge(expected, on=on, how="outer", suffixes=("", "_fresh"), indicator=True)
        assert (merged["_merge"] == "both").all() and len(merged) == len(expected)
        for column in ("estimate", "ci_low", "ci_high"):
            pd.testing.assert_series_equal(
                merged[column], merged[f"{column}_fresh"], check_names=False
            )
    index = ["program_id", "metric", "basis", "scale"]
    roi = second.roi.set_index(index).sort_index()["public_cost_usd"]
    before = first.roi.set_index(index).sort_index()["public_cost_usd"]
    assert (roi[programs[0]] > before[programs[0]]).all()  # the correction did reach it
    assert roi.drop(programs[0]).equals(before.drop(programs[0]))


def test_an_audit_of_unchanged_data_is_reused_and_new_data_is_audited(tmp_path: Path) -> None:
    from flows import steps
    from flows.config import load_config
    from warehouse.db import open_warehouse

    config = load_config(demo_config(tmp_path, n_firms=500))
    steps.ingest_sources(config, "r1")
    steps.build_warehouse(config)
    first = steps.audit(config, "r1")
    second = steps.audit(config, "r2")
    assert first.cached_from is None and second.cached_from == "r1"
    for a, b in ((first.scorecard, second.scorecard), (first.expectations, second.expectations)):
        assert len(a) > 0
        a, b = (
            x.drop(columns="run_id").sort_values(list(x.columns.drop("run_id"))) for x in (a, b)
        )
        assert a.astype(str).values.tolist() == b.astype(str).values.tolist()
    assert first.batches_reused == () and second.batches_reused == ()
    # Data Docs replaced by something else: the audit is computed again, and as no load
    # changed, every suite result is r1's (the Data Docs rebuilt from them)
    (config.warehouse.parent / "data_docs" / ".audited").write_text("other")
    third = steps.audit(config, "r3")
    assert third.cached_from is None
    assets = set(first.expectations["suite"])
    assert set(third.batches_reused) == assets and len(assets) == 2 * len(config.sources)
    assert (config.warehouse.parent / "data_docs" / "index.html").exists()
    # a new submission: a new data version, audited afresh; only that entity validated
    with open_warehouse(config.warehouse) as con:
        entity = con.sql(
            "insert into meta.loads by name select * replace ('x' as load_id, "
            "'0' || content_sha256 as content_sha256) from meta.loads "
            "where entity = 'participations' returning entity"
        ).fetchall()[0][0]
    fourth = steps.audit(config, "r4")
    assert fourth.cached_from is None
    assert set(fourth.batches_reused) == assets - {entity, f"{entity}_latest_submission"}
    assert steps.audit(config, "r5").cached_from == "r4"


def test_the_code_version_names_the_commit_and_marks_a_dirty_checkout() -> None:
    import re
    import subprocess

    from warehouse.runs import CODE_PACKAGES, code_version

    version = code_version()
    form = re.fullmatch(
        r"\d+\.\d+\.\d+\+(?:g([0-9a-f]{10})(\.dirty\.[0-9a-f]{10})?|[0-9a-f]{10})", version
    )
    assert form, version
    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short=10", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:  # an installed copy or an export without git: content hash only
        assert form.group(1) is None
        return
    status = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--", *CODE_PACKAGES],
        capture_output=True,
        text=True,
        check=True,
    )
    assert form.group(1) == head.stdout.strip()
    assert bool(form.group(2)) == bool(status.stdout.strip())
