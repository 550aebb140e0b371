"""The agency's corrections file: decisions re-applied on every load, recorded with their
author, stale ones reported, and the counts still reconciling."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from schemas.decisions import DROPPED, Corrections, read_corrections
from schemas.validate import ContractError
from warehouse.load import load_file

from .conftest import write_csv
from .test_warehouse import KEY, OUTCOME_HEADER, load_registry, outcome_row, pid

SOURCES = {"outcomes.csv": "outcomes"}


def corrections(tmp_path: Path, decisions: list[dict], name: str = "c.yaml") -> Corrections:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"decisions": decisions}), encoding="utf-8")
    return read_corrections(path, SOURCES)


def decision(row: int, action: str, **fields: object) -> dict:
    return {"file": "outcomes.csv", "row": row, "action": action, "by": "M. Rojas",
            "on": "2026-11-30", "why": f"checked row {row}", **fields}  # fmt: skip


def submission(tmp_path: Path) -> Path:
    """Rows 2-3 a duplicated key, row 4 negative sales, row 5 fine but to drop, row 6 fine."""
    rows = [
        outcome_row("F1", 2020, 100),
        outcome_row("F1", 2020, 101),
        outcome_row("F2", 2020, -500),
        outcome_row("F3", 2020, 70),
        outcome_row("F3", 2021, 75),
    ]
    return write_csv(tmp_path / "outcomes.csv", OUTCOME_HEADER, rows)


def reconcile(con: duckdb.DuckDBPyConnection) -> None:
    """Every load: rows in = loaded + quarantined (the dropped among them), and the stored
    rows and quarantine agree with the counts."""
    bad = con.execute(
        "select loads.load_id from meta.loads as loads where rows_in <> rows_loaded + "
        "rows_quarantined or rows_loaded <> (select count(*) from raw.outcomes as r where "
        "r._load_id = loads.load_id) and entity = 'outcomes' or rows_dropped <> (select "
        "count(*) from meta.quarantine as q where q.load_id = loads.load_id and q.rule = ?)",
        [DROPPED],
    ).fetchall()
    assert bad == []


def test_keep_correct_and_drop_resolve_the_quarantine(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    path = submission(tmp_path)
    before = load_file(fresh_db, path, "outcomes", key=KEY)
    assert (before.rows_loaded, before.rows_quarantined) == (2, 3)

    fixes = corrections(
        tmp_path,
        [
            decision(2, "keep", firm=pid("F1"), year=2020),
            decision(4, "correct", column="sales", **{"from": "-500", "to": "500"}),
            decision(6, "drop", firm="F3"),  # the agency's own id works as well as the pseudonym
        ],
    )
    after = load_file(fresh_db, path, "outcomes", key=KEY, corrections=fixes)
    assert (after.rows_in, after.rows_loaded, after.rows_quarantined) == (5, 3, 2)
    assert after.rows_dropped == 2 and after.decisions_applied == 3
    assert after.decisions_unmatched == ()
    current = fresh_db.execute(
        "select firm_id, year, sales from raw.outcomes where _superseded_by is null order by all"
    ).fetchall()
    assert current == sorted([(pid("F1"), 2020, 100.0), (pid("F2"), 2020, 500.0),
                              (pid("F3"), 2020, 70.0)])  # fmt: skip
    quarantine = fresh_db.execute(
        "select row_number, rule, reason from meta.quarantine where load_id = ? order by 1",
        [after.load_id],
    ).fetchall()
    assert [(r, rule) for r, rule, _ in quarantine] == [(3, DROPPED), (6, DROPPED)]
    assert "duplicate of row 2" in quarantine[0][2] and "M. Rojas" in quarantine[1][2]
    log = fresh_db.execute(
        "select row_number, action, status, decided_by, reason, firm_id, detail "
        "from meta.decisions order by row_number"
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in log] == [
        (2, "keep", "applied", "M. Rojas"),
        (4, "correct", "applied", "M. Rojas"),
        (6, "drop", "applied", "M. Rojas"),
    ]
    assert log[0][4] == "checked row 2" and log[2][5] == pid("F3")  # pseudonymized
    assert "rows 3" in log[0][6]
    reconcile(fresh_db)

    # the same file and decisions: nothing to do; other decisions: loaded again
    assert load_file(fresh_db, path, "outcomes", key=KEY, corrections=fixes).skipped
    fewer = corrections(tmp_path, [decision(2, "keep")], name="fewer.yaml")
    again = load_file(fresh_db, path, "outcomes", key=KEY, corrections=fewer)
    assert not again.skipped and again.rows_loaded == 3  # row 6 back, row 4 quarantined again
    reconcile(fresh_db)


def test_a_drop_retires_the_row_an_earlier_load_stored(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    path = write_csv(
        tmp_path / "outcomes.csv",
        OUTCOME_HEADER,
        [outcome_row("F1", 2020, 100), outcome_row("F3", 2021, 75)],
    )
    load_file(fresh_db, path, "outcomes", key=KEY)
    fixes = corrections(tmp_path, [decision(3, "drop", year=2021)])
    load_file(fresh_db, path, "outcomes", key=KEY, corrections=fixes)
    current = fresh_db.execute(
        "select firm_id, year from raw.outcomes where _superseded_by is null"
    ).fetchall()
    assert current == [(pid("F1"), 2020)]
    reconcile(fresh_db)


def test_stale_decisions_are_reported_not_ignored(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    fixes = corrections(
        tmp_path,
        [
            decision(4, "correct", column="sales", **{"from": "-5000", "to": "500"}),
            decision(40, "drop"),
            decision(5, "keep", firm=pid("F1")),  # row 5 is F3's now
            decision(6, "keep"),  # a fine row: nothing to keep
            decision(2, "correct", column="colour", **{"from": "1", "to": "2"}),
        ],
    )
    report = load_file(fresh_db, submission(tmp_path), "outcomes", key=KEY, corrections=fixes)
    assert report.decisions_applied == 0
    lines = report.decisions_unmatched
    assert len(lines) == 5
    assert "has sales = '-500', not '-5000'" in lines[0]
    assert "no row 40" in lines[1]
    assert "another firm" in lines[2]
    assert "nothing to keep" in lines[3]
    assert "no column colour" in lines[4]
    stored = fresh_db.execute("select count(*) from meta.decisions where status = 'unmatched'")
    assert stored.fetchall() == [(5,)]
    assert (report.rows_loaded, report.rows_quarantined) == (2, 3)  # as without decisions
    reconcile(fresh_db)


def test_keep_waives_a_plausibility_rule_but_not_the_contract(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    exporter = outcome_row("F1", 2020, 100)
    exporter[OUTCOME_HEADER.index("exports")] = 150  # exports above sales: a rule, not the contract
    path = write_csv(
        tmp_path / "outcomes.csv",
        OUTCOME_HEADER,
        [exporter, outcome_row("F2", 2020, -500)],
    )
    fixes = corrections(tmp_path, [decision(2, "keep"), decision(3, "keep")])
    report = load_file(fresh_db, path, "outcomes", key=KEY, corrections=fixes)
    assert report.rows_loaded == 1 and report.decisions_applied == 1
    assert "exports_above_sales" in str(
        fresh_db.execute("select detail from meta.decisions where row_number = 2").fetchall()
    )
    (line,) = report.decisions_unmatched
    assert "still quarantined (out_of_range)" in line and "correct the value" in line


def test_the_duckdb_engine_refuses_decisions_it_would_not_apply(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    fixes = corrections(tmp_path, [decision(2, "keep")])
    with pytest.raises(ContractError, match="use the pandas engine"):
        load_file(
            fresh_db, submission(tmp_path), "outcomes", key=KEY, engine="duckdb", corrections=fixes
        )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"file": "other.csv"}, "other.csv is not a source of the run"),
        ({"action": "correct", "column": "sales"}, "needs column, from and to"),
        ({"action": "drop", "column": "sales"}, "belong to a correction only"),
        ({"action": "correct", "column": "firm_id", "from": "a", "to": "b"}, "pseudonymized"),
        ({"action": "delete"}, "action"),
        ({"by": ""}, "by"),
        ({"row": 1}, "row"),
    ],
)
def test_a_malformed_corrections_file_is_one_line(
    tmp_path: Path, entry: dict, message: str
) -> None:
    with pytest.raises(ContractError, match=message) as error:
        corrections(tmp_path, [{**decision(2, "keep"), **entry}])
    assert "\n" not in str(error.value) and "c.yaml" in str(error.value)


def test_conflicting_decisions_and_the_spreadsheet_form(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="both dropped and kept"):
        corrections(tmp_path, [decision(2, "drop"), decision(2, "keep")])
    sheet = tmp_path / "decisions.csv"
    sheet.write_text(
        "file,row,action,column,from,to,by,on,why\n"
        "outcomes.csv,4,correct,sales,-500,500,M. Rojas,2026-11-30,sign\n"
        "outcomes.csv,5,drop,,,,M. Rojas,,closed firm\n",
        encoding="utf-8",
    )
    read = read_corrections(sheet, SOURCES)
    assert [(d.action, d.old, d.new) for d in read.decisions] == [
        ("correct", "-500", "500"),
        ("drop", None, None),
    ]
    assert read.decisions[0].decision_id != read.decisions[1].decision_id


def test_outlier_reviews_are_recorded_once_each(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from warehouse.decisions import record_outlier_reviews

    path = tmp_path / "c.yaml"
    review = {"firm": pid("F1"), "year": 2021, "outcome": "log_sales", "by": "M. Rojas"}
    path.write_text(yaml.safe_dump({"outliers": [{**review, "status": "checked"}]}))
    first = read_corrections(path, SOURCES).outliers
    assert record_outlier_reviews(fresh_db, first, "run-1") == 1
    assert record_outlier_reviews(fresh_db, first, "run-2") == 0  # the same review: once
    path.write_text(
        yaml.safe_dump({"outliers": [{**review, "status": "confirmed", "why": "a plant sold"}]})
    )
    later = read_corrections(path, SOURCES).outliers
    assert record_outlier_reviews(fresh_db, later, "run-3") == 1
    latest = fresh_db.sql(
        "select status, reason, run_id from meta.outlier_reviews order by recorded_at desc limit 1"
    ).fetchall()
    assert latest == [("confirmed", "a plant sold", "run-3")]
    with pytest.raises(ContractError, match="status"):
        path.write_text(yaml.safe_dump({"outliers": [{**review, "status": "fixed"}]}))
        read_corrections(path, SOURCES)
