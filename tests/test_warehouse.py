"""Warehouse: migrations, loads that reconcile, references, models and data checks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from schemas.contract import ENTITIES
from schemas.pseudonym import pseudonym
from warehouse.db import WarehouseError, connect, migrate, migration_files, open_warehouse
from warehouse.load import load_file
from warehouse.models import build_models, load_models, run_checks

from .conftest import write_csv

PROGRAM_HEADER = list(ENTITIES["programs"].schema.columns)
KEY = b"a test key of sufficient length"


def pid(raw: str) -> str:
    """The pseudonym a raw firm identifier gets in the warehouse."""
    return pseudonym(raw, KEY)


def load_registry(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Macro, one program and three firms: what participations and outcomes refer to."""
    rows = [
        ["CHL", y, 1e6 * (1 + y - 2019), 100 + 5 * (y - 2019), 800 + 10 * (y - 2019)]
        for y in range(2019, 2023)
    ]
    load_file(
        con,
        write_csv(
            tmp_path / "macro.csv", ["country", "year", "gdp", "deflator", "lcu_per_usd"], rows
        ),
        "macro",
        key=KEY,
    )
    program = [
        "P1",
        "Agency",
        "CHL",
        "Program one",
        "productivity",
        "technical_assistance",
        "CLP",
        2015,
        None,
        "information",
        "SMEs",
        "s",
        "m",
        "l",
    ]
    load_file(
        con, write_csv(tmp_path / "programs.csv", PROGRAM_HEADER, [program]), "programs", key=KEY
    )
    firms = [
        ["F1", "CHL", "Biobío", "1071", 1990],
        ["F2", "CHL", None, "2511", None],
        ["F3", "CHL", None, "4711", 2001],
    ]
    load_file(
        con,
        write_csv(
            tmp_path / "firms.csv", ["firm_id", "country", "region", "isic4", "founded_year"], firms
        ),
        "firms",
        key=KEY,
    )


def test_migrations_are_recorded_and_not_reapplied(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    assert migrate(con) == [name for name, _ in migration_files()]
    assert migrate(con) == []
    con.close()


def test_raw_tables_match_the_contract(fresh_db: duckdb.DuckDBPyConnection) -> None:
    for name, entity in ENTITIES.items():
        columns = [r[0] for r in fresh_db.execute(f"describe raw.{name}").fetchall()]
        assert columns == [*entity.schema.columns, "_load_id", "_row_number", "_superseded_by"], (
            name
        )


def test_a_locked_warehouse_gives_a_clear_error(tmp_path: Path) -> None:
    # DuckDB locks across processes, not within one; a second process is what users hit
    import subprocess
    import sys

    path = tmp_path / "w.duckdb"
    with open_warehouse(path):
        code = (
            "from warehouse.db import connect, WarehouseError\n"
            f"try:\n    connect({str(path)!r})\nexcept WarehouseError as e:\n    print(e)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
    assert "in use by another process" in out.stdout


def test_read_only_on_a_missing_warehouse(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no warehouse here yet"):
        connect(tmp_path / "none.duckdb", read_only=True)


def test_load_reconciles_quarantines_unknown_references_and_skips_reloads(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    header = list(ENTITIES["participations"].schema.columns)
    rows = [
        ["F1", "P1", "audit", "2020-03-01", "2020-09-01", 5_000_000, 500_000],
        ["F2", "P9", "audit", "2020-03-01", None, 5_000_000, None],  # unknown program
        ["F9", "P1", "audit", "2021-03-01", None, 5_000_000, None],  # unknown firm
        ["F3", "P1", "audit", "2021-03-01", None, "cinco", None],  # text in numeric
    ]
    path = write_csv(tmp_path / "participations.csv", header, rows)
    report = load_file(fresh_db, path, "participations", key=KEY)
    assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (4, 1, 3)
    quarantine = fresh_db.execute(
        "select row_number, rule, column_name, value from meta.quarantine where entity = 'participations' order by 1"
    ).fetchall()
    assert quarantine == [
        (3, "unknown_program", "program_id", "P9"),
        (4, "unknown_firm", "firm_id", pid("F9")),
        (5, "not_a_number", "public_cost", "cinco"),
    ]
    assert fresh_db.execute("select firm_id, _row_number from raw.participations").fetchall() == [
        (pid("F1"), 2)
    ]
    again = load_file(fresh_db, path, "participations", key=KEY)
    assert again.skipped and again.rows_loaded == 1
    assert fresh_db.execute("select count(*) from raw.participations").fetchall()[0] == (1,)
    assert fresh_db.execute(
        "select count(*) from meta.loads where entity = 'participations'"
    ).fetchall()[0] == (1,)


def test_a_failed_load_leaves_nothing_behind(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch
) -> None:
    load_registry(fresh_db, tmp_path)
    header = [
        "firm_id",
        "year",
        "employment",
        "sales",
        "wage_bill",
        "exports",
        "value_added",
        "rd_spend",
        "training_spend",
        "capital",
    ]
    path = write_csv(
        tmp_path / "outcomes.csv",
        header,
        [["F1", 2020, 5, 100, 1, 0, 50, 0, 0, 10], ["F2", 2020, -1, 1, 1, 1, 1, 1, 1, 1]],
    )
    before = fresh_db.execute("select count(*) from meta.loads").fetchall()[0]

    import warehouse.load as load_module

    def broken_now(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(load_module, "datetime", type("D", (), {"now": staticmethod(broken_now)}))
    with pytest.raises(RuntimeError, match="disk full"):
        load_file(fresh_db, path, "outcomes", key=KEY)
    assert fresh_db.execute("select count(*) from raw.outcomes").fetchall()[0] == (0,)
    assert fresh_db.execute(
        "select count(*) from meta.quarantine where entity = 'outcomes'"
    ).fetchall()[0] == (0,)
    assert fresh_db.execute("select count(*) from meta.loads").fetchall()[0] == before


def test_every_declared_model_has_sql_and_documentation() -> None:
    models = load_models()
    assert [m.layer for m in models] == sorted(
        (m.layer for m in models), key=["staging", "marts"].index
    )
    for model in models:
        assert model.description, model.name
        assert "select * from final" in model.sql, f"{model.name}: end with `select * from final`"
    files = {p.stem for p in (Path(__file__).parents[1] / "warehouse" / "models").rglob("*.sql")}
    assert files == {m.name for m in models}, "every .sql model is declared in models.yml"


def test_marts_match_a_pandas_computation(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    header = list(ENTITIES["participations"].schema.columns)
    rows = [
        ["F1", "P1", "audit", "2020-03-01", None, 1_000_000, 100_000],
        ["F1", "P1", "training", "2021-03-01", None, 2_000_000, None],
        ["F2", "P1", "audit", "2021-05-01", None, 3_000_000, 0],
    ]
    load_file(
        fresh_db,
        write_csv(tmp_path / "participations.csv", header, rows),
        "participations",
        key=KEY,
    )
    outcome_header = list(ENTITIES["outcomes"].schema.columns)[:10]
    outcome_rows = [
        [f, y, 10 + i, 1000 * (1 + i), 1, 0, 1, 0, 0, 1]
        for i, f in enumerate(["F1", "F2", "F3"])
        for y in range(2019, 2023)
    ]
    load_file(
        fresh_db,
        write_csv(tmp_path / "outcomes.csv", outcome_header, outcome_rows),
        "outcomes",
        key=KEY,
    )
    build_models(fresh_db, {"price_base_year": 2020, "outlier_z": 5.0})
    assert all(c.passed for c in run_checks(fresh_db)), run_checks(fresh_db)

    # constant 2020 USD: deflate to 2020 prices, convert at the 2020 rate
    macro = pd.DataFrame({"year": range(2019, 2023)})
    macro["deflator"] = 100 + 5 * (macro["year"] - 2019)
    factor = {int(r.year): (105 / r.deflator) / 810 for r in macro.itertuples()}
    costs = pd.DataFrame(rows, columns=header)
    costs["usd"] = costs["public_cost"] * costs["start_date"].str[:4].astype(int).map(factor)
    spending = fresh_db.sql("select * from marts.mart_program_spending").df().iloc[0]
    assert spending["firms_served"] == 2 and spending["services"] == 3
    assert spending["public_cost_usd"] == pytest.approx(costs["usd"].sum(), rel=1e-12)
    assert spending["public_cost_per_firm_usd"] == pytest.approx(costs["usd"].sum() / 2, rel=1e-12)

    reach = fresh_db.sql(
        "select year, firms_entering, firms_served_to_date, manufacturing_firms from marts.mart_program_reach"
    ).df()
    got = reach.set_index("year").loc[[2020, 2021]]
    # F3 is ISIC 4711 (retail): not in the manufacturing population
    assert got.to_dict("index") == {
        2020: {"firms_entering": 1, "firms_served_to_date": 1, "manufacturing_firms": 2},
        2021: {"firms_entering": 1, "firms_served_to_date": 2, "manufacturing_firms": 2},
    }
    panel = fresh_db.sql(
        "select firm_id, min(cohort) c, count(*) n from marts.mart_evaluation_panel group by 1 order by 1"
    ).fetchall()
    assert sorted(panel) == sorted(
        [(pid("F1"), 2020, 4), (pid("F2"), 2021, 4)]
    )  # no comparison sample loaded


def test_data_checks_catch_a_broken_identity(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    build_models(fresh_db, {"price_base_year": 2020, "outlier_z": 5.0})
    fresh_db.execute(
        "update meta.loads set rows_loaded = rows_loaded - 1, rows_quarantined = rows_quarantined + 1 where entity = 'firms'"
    )
    failed = {c.name for c in run_checks(fresh_db) if not c.passed}
    assert failed == {"loads_reconcile"}


OUTCOME_HEADER = list(ENTITIES["outcomes"].schema.columns)[:10]


def outcome_row(firm: str, year: int, sales: float) -> list[object]:
    return [firm, year, 10, sales, 1, 0, 1, 0, 0, 1]


def test_a_correction_supersedes_rows_and_keeps_history(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from warehouse.history import current_sequence, state_as_of

    load_registry(fresh_db, tmp_path)
    first = write_csv(
        tmp_path / "outcomes_2021.csv",
        OUTCOME_HEADER,
        [outcome_row("F1", 2020, 100), outcome_row("F1", 2021, 110), outcome_row("F2", 2020, 50)],
    )
    load_file(fresh_db, first, "outcomes", key=KEY)
    before = current_sequence(fresh_db)
    state_before = state_as_of(fresh_db, "outcomes", before)
    correction = write_csv(
        tmp_path / "outcomes_2021_corrected.csv",
        OUTCOME_HEADER,
        [outcome_row("F1", 2021, 111), outcome_row("F3", 2020, 70)],
    )
    report = load_file(fresh_db, correction, "outcomes", key=KEY)
    assert report.rows_superseded == 1
    current = fresh_db.execute(
        "select firm_id, year, sales from raw.outcomes where _superseded_by is null order by all"
    ).fetchall()
    assert current == sorted(
        [
            (pid("F1"), 2020, 100.0),
            (pid("F1"), 2021, 111.0),
            (pid("F2"), 2020, 50.0),
            (pid("F3"), 2020, 70.0),
        ]
    )
    # history: the superseded row is kept, and the earlier state can be rebuilt exactly
    assert fresh_db.execute("select count(*) from raw.outcomes").fetchall()[0] == (5,)
    pd.testing.assert_frame_equal(state_as_of(fresh_db, "outcomes", before), state_before)
    assert len(state_as_of(fresh_db, "outcomes", current_sequence(fresh_db))) == 4
    # re-ingesting the first file (same content) changes nothing
    again = load_file(fresh_db, first, "outcomes", key=KEY)
    assert again.skipped
    assert fresh_db.execute("select count(*) from raw.outcomes").fetchall()[0] == (5,)
    assert len(state_as_of(fresh_db, "outcomes", current_sequence(fresh_db))) == 4


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from warehouse.db import open_warehouse
from warehouse.load import load_file

class PausingConnection:
    # forwards to DuckDB, but stops dead right before COMMIT so the parent can kill us
    def __init__(self, con):
        self._con = con
    def __getattr__(self, name):
        return getattr(self._con, name)
    def execute(self, sql, *args):
        if sql.strip().lower() == "commit":
            Path(sys.argv[3]).write_text("in transaction")
            time.sleep(600)
        return self._con.execute(sql, *args)

with open_warehouse(sys.argv[1]) as con:
    load_file(PausingConnection(con), Path(sys.argv[2]), "outcomes", key=b"a test key of sufficient length")
"""


def test_a_process_killed_during_a_load_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "w.duckdb"
    with open_warehouse(path) as con:
        load_registry(con, tmp_path)
        load_file(
            con,
            write_csv(tmp_path / "o1.csv", OUTCOME_HEADER, [outcome_row("F1", 2020, 100)]),
            "outcomes",
            key=KEY,
        )
        before = {
            t: con.execute(f"select * from {t} order by all").fetchall()
            for t in ("raw.outcomes", "meta.loads", "meta.quarantine")
        }
    rows = [outcome_row(f, y, 100 + y) for f in ("F1", "F2", "F3") for y in range(2019, 2023)]
    rows.append(outcome_row("F1", 2020, -5))  # a quarantined row too
    big = write_csv(tmp_path / "o2.csv", OUTCOME_HEADER, rows)
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path), str(big), str(marker)])
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, "the loader exited before reaching its commit"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)  # inserts done, commit not yet: the worst moment
    child.wait()
    with open_warehouse(path) as con:  # readable, and exactly as before
        after = {t: con.execute(f"select * from {t} order by all").fetchall() for t in before}
    assert after == before


def test_a_spanish_windows_1252_file_loads_through_its_mapping(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from schemas.mapping import load_mapping

    load_registry(fresh_db, tmp_path)
    mapping = load_mapping(
        Path(__file__).parents[1] / "examples" / "mappings" / "chile_outcomes.yaml"
    )
    text = (
        "RUT;Razón Social;Año;Ventas;Empleo;Remuneraciones;Exportaciones;Valor agregado;"
        "Gasto I+D;Gasto capacitación;Activo fijo;Fuente\n"
        "F1;Industrias Metalúrgicas São João;2020;1.234.567,89;12,5;300.000;0;400.000,5;0;1.000;"
        "2.500.000;SII\n"
        "F2;Conservas Ñuble;2020;n/d;8;100;0;50;0;0;10;REG\n"
    )
    path = tmp_path / "resultados_2020.csv"
    path.write_bytes(text.encode("cp1252"))
    report = load_file(fresh_db, path, "outcomes", key=KEY, mapping=mapping)
    assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (2, 1, 1)
    row = fresh_db.execute(
        "select firm_id, year, sales, employment, wage_bill, value_added, capital, source "
        "from raw.outcomes"
    ).fetchall()
    assert row == [(pid("F1"), 2020, 1234567.89, 12.5, 300000.0, 400000.5, 2500000.0, "tax")]
    bad = fresh_db.execute(
        "select row_number, column_name, rule, value from meta.quarantine where entity = 'outcomes'"
    ).fetchall()
    assert bad == [(3, "sales", "not_a_number", "n/d")]  # the agency's own value, as sent


def test_accents_survive_a_windows_1252_firms_file(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from schemas.mapping import load_mapping

    mapping_path = tmp_path / "firmas.yaml"
    mapping_path.write_text(
        "entity: firms\ncolumns: {RUT: firm_id, país: country, región: region, CIIU: isic4, "
        "año fundación: founded_year}\nformat: {delimiter: ';', encoding: cp1252}\n",
        encoding="utf-8",
    )
    path = tmp_path / "firmas.csv"
    path.write_bytes(
        "RUT;País;Región;CIIU;Año fundación\n76.123.456-7;CHL;Biobío;1071;1998\n"
        "77.000.111-K;CHL;Ñuble;2511;\n".encode("cp1252")
    )
    load_file(fresh_db, path, "firms", key=KEY, mapping=load_mapping(mapping_path))
    rows = fresh_db.execute(
        "select firm_id, region, founded_year from raw.firms order by region"
    ).fetchall()
    assert rows == [(pid("76.123.456-7"), "Biobío", 1998), (pid("77.000.111-K"), "Ñuble", None)]


def test_cross_entity_rules_quarantine_with_their_reason(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    header = list(ENTITIES["participations"].schema.columns)
    participations = [
        ["F1", "P1", "audit", "2020-03-01", None, 1000, None],
        ["F2", "P1", "audit", "2010-03-01", None, 1000, None],  # before the program started (2015)
    ]
    load_file(
        fresh_db, write_csv(tmp_path / "p.csv", header, participations), "participations", key=KEY
    )
    comparison = [["F1", "P1", 1, "registry", None], ["F3", "P1", 1, "registry", None]]
    load_file(
        fresh_db,
        write_csv(
            tmp_path / "c.csv", list(ENTITIES["comparison_sample"].schema.columns), comparison
        ),
        "comparison_sample",
        key=KEY,
    )
    outcomes = [
        ["F1", 2020, 10, 100, 50, 0, 40, 0, 0, 1],
        ["F2", 2020, 10, 100, 50, 120, 40, 0, 0, 1],  # exports above sales
        ["F3", 2020, 10, 100, 50, 0, 140, 0, 0, 1],  # value added above sales
    ]
    load_file(
        fresh_db, write_csv(tmp_path / "o.csv", OUTCOME_HEADER, outcomes), "outcomes", key=KEY
    )
    found = fresh_db.execute(
        "select entity, row_number, rule, column_name from meta.quarantine order by entity, row_number"
    ).fetchall()
    assert found == [
        ("comparison_sample", 2, "comparison_is_beneficiary", "firm_id"),
        ("outcomes", 3, "exports_above_sales", "exports"),
        ("outcomes", 4, "value_added_above_sales", "value_added"),
        ("participations", 3, "outside_program_life", "start_date"),
    ]
    assert fresh_db.execute("select count(*) from raw.outcomes").fetchall()[0] == (1,)


def test_a_read_only_open_of_an_older_warehouse_migrates_it_first(tmp_path: Path) -> None:
    from warehouse.db import open_warehouse

    path = tmp_path / "old.duckdb"
    last = "019_load_supersession"
    with open_warehouse(path) as con:  # made by a version without that migration
        con.execute("drop view meta.load_supersession")
        con.execute("delete from main.schema_migrations where name = ?", [last])
    with open_warehouse(path, read_only=True) as con:
        assert con.execute("select count(*) from meta.load_supersession").fetchall() == [(0,)]
        done = {r[0] for r in con.execute("select name from main.schema_migrations").fetchall()}
    assert last in done
