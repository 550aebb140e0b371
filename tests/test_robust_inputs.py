"""No input hangs or crashes: special files, time zones, infinities, dates out of range,
loads in the wrong order, killed runs, absurdly wide files.

Each case goes through both loaders (`warehouse.load.load_file` with pandas and
`warehouse.bulk.bulk_load_csv`) where it concerns a load, and they must agree. A case that
used to hang runs in a daemon thread or a subprocess with a timeout, so a regression fails
instead of stalling the suite.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from flows import preflight as pf
from flows.cli import app
from schemas.contract import ENTITIES, MAX_MAGNITUDE
from schemas.readers import MAX_COLUMNS, read_sample, read_source
from schemas.validate import ContractError, parse_iso_dates
from warehouse.bulk import bulk_load_csv
from warehouse.db import open_warehouse
from warehouse.load import load_file
from warehouse.lock import lock_path, writer_lock
from warehouse.runs import close_interrupted_runs, start_run

from .conftest import write_csv
from .test_bulk import assert_same, load_both, warehouses  # noqa: F401 (a fixture)
from .test_warehouse import KEY, OUTCOME_HEADER, load_registry, outcome_row

LOADERS = {"pandas": functools.partial(load_file, engine="pandas"), "bulk": bulk_load_csv}
PARTICIPATION_HEADER = list(ENTITIES["participations"].schema.columns)


def within(seconds: float, func: Callable[[], Any]) -> Any:
    """`func()`'s result or exception; fails the test if it has not returned in time (the
    thread is a daemon: a call blocked on a FIFO does not keep the tests from ending)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = func()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it hangs"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# --- 1. FIFOs and devices are refused before anything reads, hashes or locks ----------------


@pytest.fixture
def special_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "firms.csv"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    return {"fifo": fifo, "device": zero}


def test_special_files_are_refused_by_readers_and_both_loaders(
    special_files: dict[str, Path], tmp_path: Path
) -> None:
    kinds = {"fifo": "a FIFO", "device": "a device"}
    for kind, path in special_files.items():
        expected = rf"{path.name}: not a regular file \({kinds[kind]}"
        for read in (read_source, read_sample):
            with pytest.raises(ContractError, match=expected):
                within(20, functools.partial(read, path))
        for name, loader in LOADERS.items():
            with open_warehouse(tmp_path / f"{name}.duckdb") as con:
                with pytest.raises(ContractError, match=expected):
                    within(20, functools.partial(loader, con, path, "firms", key=KEY))
                assert con.execute("select count(*) from meta.loads").fetchall() == [(0,)]


def test_preflight_refuses_a_fifo_source(special_files: dict[str, Path]) -> None:
    from flows.config import Source

    source = Source.model_validate({"path": special_files["fifo"]})
    with pytest.raises(ContractError, match=r"firms\.csv: not a regular file \(a FIFO"):
        within(20, functools.partial(pf.check_source, "firms", source))


def test_ingest_refuses_a_fifo_in_one_line_without_taking_the_lock(
    special_files: dict[str, Path], tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    command = [Path(sys.executable).parent / "mes-eval", "ingest", "-e", "firms", "-w"]
    for path in special_files.values():
        # a subprocess: a regression would hang holding the lock, the timeout ends it
        result = subprocess.run(
            [*command, str(warehouse), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "MES_EVAL_PSEUDONYM_KEY": KEY.decode()},
        )
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "not a regular file" in lines[0], result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    assert not lock_path(warehouse).exists() and not warehouse.exists()


# --- 2 and 4. dates with a time zone, dates out of datetime64[ns] ---------------------------


def test_dates_keep_the_local_date_as_written_and_out_of_range_is_not_a_date() -> None:
    cells = pd.Series(
        [
            "2021-03-01T10:00:00+02:00",
            "2021-03-01 00:00:00Z",
            "2021-03-01T23:30:00-05:00",  # UTC would move it to March 2
            "20210301T233000-0500",
            "2021-03-01",
            "2021-03-01T10:00",
            "2400-05-01",
            "1500-01-01",
            "2021-03-01 UTC",
            None,
        ],
        dtype=object,
    )
    parsed = parse_iso_dates(cells)
    assert str(parsed.dtype) == "datetime64[ns]"
    day = pd.Timestamp("2021-03-01")
    assert parsed[:4].dt.normalize().tolist() == [day] * 4
    assert parsed[2] == pd.Timestamp("2021-03-01 23:30")  # the clock as written, no conversion
    assert parsed[4] == day and parsed[5] == pd.Timestamp("2021-03-01 10:00")
    assert parsed[6:].isna().all()


def participations(tmp_path: Path, cells: list[tuple[str, str | None, object]]) -> Path:
    """A participations CSV of firms F1-F3 in P1 with these (start, end, public cost)."""
    firms = ["F1", "F2", "F3"]
    rows = [
        [firms[i % 3], "P1", f"s{i}", start, end, cost, 1]
        for i, (start, end, cost) in enumerate(cells)
    ]
    return write_csv(tmp_path / "participations.csv", PARTICIPATION_HEADER, rows)


def test_time_zones_and_dates_out_of_range_load_identically_in_both_engines(
    warehouses: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    for con in warehouses.values():
        load_registry(con, tmp_path)
    path = participations(
        tmp_path,
        [
            ("2021-03-01T10:00:00+02:00", None, 100),
            ("2021-03-01 00:00:00Z", "2021-06-30T18:00:00-03:00", 100),
            ("2021-03-01T23:30:00-05:00", None, 100),  # mixed offsets in one column
            ("2400-05-01", None, 1),  # out of datetime64[ns]: used to refuse the file
            ("2021-05-01", "9999-12-31", 1),
        ],
    )
    reports = load_both(warehouses, path, "participations")
    state = assert_same(warehouses)
    assert {(r.rows_in, r.rows_loaded, r.rows_quarantined) for r in reports.values()} == {(5, 3, 2)}
    starts = {row[3] for row in state["participations"]}
    assert starts == {pd.Timestamp("2021-03-01").date()}
    assert sorted((q[3], q[4], q[5]) for q in state["quarantine"]) == [
        (5, "start_date", "not_a_date"),
        (6, "end_date", "not_a_date"),
    ]


# --- 3. infinities and absurd magnitudes ---------------------------------------------------


def test_non_finite_and_huge_numbers_are_quarantined_identically(
    warehouses: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    for con in warehouses.values():
        load_registry(con, tmp_path)
    odd = ["1e309", "inf", "-inf", "Infinity", "-Infinity", "9" * 400, "2e18", "-2e18"]
    rows = [
        [f"F{1 + i % 3}", 2000 + i, 10, 1000, 1, 0, value, 0, 0, 1] for i, value in enumerate(odd)
    ]
    # value_added (column 7) has no bound of its own: both signs are bounded
    rows += [outcome_row("F1", 2019, 1e17), outcome_row("F2", 2019, float(MAX_MAGNITUDE))]
    path = write_csv(tmp_path / "outcomes.csv", OUTCOME_HEADER, rows)
    reports = load_both(warehouses, path, "outcomes")
    state = assert_same(warehouses)
    assert {(r.rows_loaded, r.rows_quarantined) for r in reports.values()} == {(2, len(odd))}
    records = state["quarantine"]
    assert {(q[4], q[5]) for q in records} == {("value_added", "out_of_range")}
    assert all("infinite, or beyond" in q[7] for q in records), records
    loaded = [row for row in state["outcomes"]]
    assert all(pd.notna(v) and abs(v) <= MAX_MAGNITUDE for row in loaded for v in row[3:4])


def test_an_infinite_cost_in_a_bounded_column_and_nan_text(
    warehouses: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    for con in warehouses.values():
        load_registry(con, tmp_path)
    path = participations(
        tmp_path,
        [
            ("2021-03-01", None, "inf"),
            ("2021-03-02", None, "-inf"),
            ("2021-03-03", None, "NaN"),
            ("2021-03-04", None, "1e308"),
            ("2021-03-05", None, 5),
        ],
    )
    load_both(warehouses, path, "participations")
    state = assert_same(warehouses)
    rules = sorted((q[3], q[5]) for q in state["quarantine"])
    # "NaN" is read as an empty cell (as pandas and Stata exports write one): required here
    assert rules == [
        (2, "out_of_range"),
        (3, "out_of_range"),
        (4, "missing_value"),
        (5, "out_of_range"),
    ]
    assert [row[5] for row in state["participations"]] == [5.0]


# --- 6. a load quarantined for a reference is validated again once the reference loads -----


def test_a_file_loaded_before_its_firms_is_loaded_again_after_them(
    warehouses: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    outcomes = write_csv(
        tmp_path / "outcomes.csv",
        OUTCOME_HEADER,
        [outcome_row("F1", 2020, 100), outcome_row("F9", 2020, 5), outcome_row("F2", 2021, 7)],
    )
    first = load_both(warehouses, outcomes, "outcomes")  # no firms yet: all unknown_firm
    assert {(r.rows_loaded, r.rows_quarantined) for r in first.values()} == {(0, 3)}
    for con in warehouses.values():
        load_registry(con, tmp_path)  # firms F1-F3 arrive
    again = load_both(warehouses, outcomes, "outcomes")
    for report in again.values():
        assert not report.skipped and (report.rows_loaded, report.rows_quarantined) == (2, 1)
    assert_same(warehouses)
    # and then it is unchanged: F9 is still unknown, but no firm has been loaded since
    third = load_both(warehouses, outcomes, "outcomes")
    assert all(r.skipped for r in third.values())
    for con in warehouses.values():
        assert con.execute("select count(*) from meta.loads where entity = 'outcomes'").fetchall()
        failing = con.execute(
            "select count(*) from meta.loads as l where rows_in != rows_loaded + rows_quarantined"
        ).fetchall()
        assert failing == [(0,)]


def test_a_clean_file_is_not_loaded_again_when_firms_change(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    outcomes = write_csv(tmp_path / "outcomes.csv", OUTCOME_HEADER, [outcome_row("F1", 2020, 1)])
    load_file(fresh_db, outcomes, "outcomes", key=KEY)
    firms = write_csv(
        tmp_path / "firms2.csv", ["firm_id", "country", "isic4"], [["F7", "CHL", "1010"]]
    )
    load_file(fresh_db, firms, "firms", key=KEY)
    assert load_file(fresh_db, outcomes, "outcomes", key=KEY).skipped


# --- 7. a killed run does not stay `running` ----------------------------------------------


def test_a_run_left_running_by_a_killed_process_is_closed_as_failed(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process id that no longer runs
    with open_warehouse(warehouse) as con:
        start_run(con, "killed", "evaluation-run", {})
        con.execute("update meta.runs set pid = ? where run_id = 'killed'", [child.pid])
    with writer_lock(warehouse), open_warehouse(warehouse) as con:
        assert close_interrupted_runs(con) == ["killed"]
        status, message = con.execute(
            "select status, message from meta.runs where run_id = 'killed'"
        ).fetchall()[0]
        assert close_interrupted_runs(con) == []
    assert status == "failed"
    assert message == f"interrupted (process {child.pid} no longer running; the run did not finish)"


def test_the_next_run_closes_a_killed_one(tmp_path: Path) -> None:
    """Through the flows' own run log (`flows.pipeline.logged_run`), without Prefect."""
    from flows.config import RunConfig
    from flows.pipeline import logged_run

    warehouse = tmp_path / "w.duckdb"
    with open_warehouse(warehouse) as con:
        start_run(con, "killed", "evaluation-run", {})
    # what the run log needs of a config (a valid one names every source's file)
    config = RunConfig.model_construct(warehouse=warehouse, out_dir=tmp_path / "r", sources={})
    with logged_run(config, "evaluation-run", "next"):
        pass
    with open_warehouse(warehouse) as con:
        runs = dict(con.execute("select run_id, status from meta.runs").fetchall())
    assert runs == {"killed": "failed", "next": "completed"}


# --- 8. a file of thousands of columns is refused before its rows are read ----------------


def test_a_file_with_thousands_of_columns_is_refused_in_one_line(
    warehouses: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    header = ["firm_id", "country", "isic4"] + [f"extra_{i}" for i in range(5000)]
    path = write_csv(tmp_path / "firms.csv", header, [["F1", "CHL", "1010"] + ["1"] * 5000] * 50)
    expected = rf"firms\.csv: the header has 5,003 columns, more than the {MAX_COLUMNS:,}"
    for read in (read_source, read_sample):
        with pytest.raises(ContractError, match=expected):
            read(path)
    for name, con in warehouses.items():
        with pytest.raises(ContractError, match=expected):
            LOADERS[name](con, path, "firms", key=KEY)
    # trailing empty header cells (trailing delimiters) do not count
    wide = write_csv(tmp_path / "wide.csv", ["firm_id", *[""] * 2000], [["F1"]])
    assert list(read_source(wide).columns) == ["firm_id", "_row_number"]
    xlsx = tmp_path / "firms.xlsx"
    pd.DataFrame([list(range(MAX_COLUMNS + 1))], columns=header[: MAX_COLUMNS + 1]).to_excel(
        xlsx, index=False
    )
    with pytest.raises(ContractError, match=r"firms\.xlsx: the header has 1,001 columns"):
        read_source(xlsx)


def test_a_wide_file_is_one_line_through_the_cli(tmp_path: Path) -> None:
    header = ["firm_id"] + [f"c{i}" for i in range(MAX_COLUMNS + 5)]
    path = write_csv(tmp_path / "firms.csv", header, [["F1"] + ["x"] * (MAX_COLUMNS + 5)])
    result = CliRunner().invoke(
        app,
        ["ingest", str(path), "-e", "firms", "-w", str(tmp_path / "w.duckdb"), "--dry-run"],
        env={"MES_EVAL_PSEUDONYM_KEY": KEY.decode()},
    )
    assert result.exit_code == 2
    assert "the header has 1,006 columns" in result.stderr


# --- 5. a program with comparison firms and no beneficiaries, a panel without rows ---------


def test_a_program_without_beneficiaries_is_not_estimated_with_its_reason() -> None:
    from evaluation.impact import EvaluationSpec, estimate_impacts

    from .test_impact import program_panel

    panel = program_panel(n=300)
    comparison_only = panel[panel["cohort"] == 0].assign(program_id="ONLY_COMPARISON")
    impact = estimate_impacts(pd.concat([panel, comparison_only]), EvaluationSpec())
    mine = impact.estimates[impact.estimates["program_id"] == "ONLY_COMPARISON"]
    cs = mine[mine["estimator"] != "matching_did"]
    whole = cs["subgroup"] == "all"
    assert whole.any() and set(cs.loc[whole, "reason"]) == {"no_beneficiaries"}
    assert set(cs.loc[~whole, "reason"]) <= {"no_beneficiaries", "too_few_beneficiaries"}
    assert set(mine["status"]) == {"not_estimated"}
    roi = impact.roi[impact.roi["program_id"] == "ONLY_COMPARISON"]
    assert len(roi) and set(roi["status"]) <= {"not_estimated", "not_estimable"}
    # the other program is estimated as before
    other = impact.estimates[impact.estimates["program_id"] == "P"]
    assert (other["status"] == "estimated").any()
    # no outcome rows at all: nothing to estimate, and no error
    empty = estimate_impacts(panel.iloc[0:0], EvaluationSpec())
    assert empty.estimates.empty and empty.roi.empty
