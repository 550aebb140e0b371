"""Agency-declared extra columns: declared per source, validated like the contract, stored
in the raw tables, passed through staging (money in constant USD), listed for evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.config import ConfigError, load_config
from schemas.contract import ENTITIES
from schemas.extras import ExtraColumnError, check_extra_columns, reserved_names
from schemas.mapping import load_mapping
from schemas.validate import ContractError
from warehouse.extras import declared_extra_columns
from warehouse.load import load_file, prepare_load
from warehouse.models import build_models

from .conftest import write_csv
from .test_warehouse import KEY, OUTCOME_HEADER, load_registry, pid

ENGINES = ("pandas", "duckdb")
FIRM_HEADER = list(ENTITIES["firms"].schema.columns)
FIRM_EXTRAS = {"female_owned": "number", "cluster": "text", "employees_2010": "integer"}
OUTCOME_EXTRAS = {"new_products": "integer", "certified_iso9001": "number", "sales_abroad": "money"}
VARIABLES = {"price_base_year": 2020, "outlier_z": 5.0}


def firms_file(tmp_path: Path) -> Path:
    header = [*FIRM_HEADER, "female_owned", "cluster", "employees_2010", "notes"]
    rows = [
        ["F4", "CHL", "Maule", "1071", 1990, "1", "wine", "12", "not declared"],
        ["F5", "CHL", None, "2511", None, "0", " metal ", None, None],
        ["F6", "CHL", None, "2511", None, "yes", "metal", "7", None],  # female_owned: text
        ["F7", "CHL", None, "1071", None, None, None, "7.5", None],  # integer: a fraction
    ]
    return write_csv(tmp_path / "firms_extra.csv", header, rows)


def outcomes_file(tmp_path: Path, name: str = "outcomes_extra.csv") -> Path:
    header = [*OUTCOME_HEADER, "new_products", "certified_iso9001", "sales_abroad", "comment"]
    rows = [
        ["F1", 2020, 10, 100, 50, 0, 40, 0, 0, 1, "3", "1", "100", "ok"],
        ["F1", 2021, 10, 110, 50, 0, 40, 0, 0, 1, None, "0", "20.5", None],
        ["F2", 2020, 10, 100, 50, 0, 40, 0, 0, 1, "n/d", "1", "x", None],  # two bad extras
        ["F2", 2021, 10, 100, 50, 0, 40, 0, 0, 1, "2", "0.5", None, None],
        ["F3", 2020, 10, 100, 50, 0, 40, 0, 0, 1, "-1", None, "-5", None],  # no range checks
    ]
    return write_csv(tmp_path / name, header, rows)


def quarantine(con: duckdb.DuckDBPyConnection, entity: str) -> list[tuple[Any, ...]]:
    return con.execute(
        "select row_number, column_name, rule, value, reason from meta.quarantine "
        "where entity = ? order by all",
        [entity],
    ).fetchall()


@pytest.mark.parametrize("engine", ENGINES)
def test_declared_extras_load_validate_and_reach_staging(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path, engine: str
) -> None:
    con = fresh_db
    load_registry(con, tmp_path)
    build_models(con, VARIABLES)  # views over the raw tables exist when columns are added
    firms = load_file(
        con, firms_file(tmp_path), "firms", key=KEY, engine=engine, extra_columns=FIRM_EXTRAS
    )
    assert (firms.rows_in, firms.rows_loaded, firms.rows_quarantined) == (4, 2, 2)
    assert quarantine(con, "firms") == [
        (4, "female_owned", "not_a_number", "yes", "female_owned: not a number"),
        (5, "employees_2010", "not_a_number", "7.5", "employees_2010: not a number"),
    ]
    outcomes = load_file(
        con,
        outcomes_file(tmp_path),
        "outcomes",
        key=KEY,
        engine=engine,
        extra_columns=OUTCOME_EXTRAS,
    )
    assert (outcomes.rows_in, outcomes.rows_loaded, outcomes.rows_quarantined) == (5, 4, 1)
    assert quarantine(con, "outcomes") == [
        (4, "new_products", "not_a_number", "n/d", "new_products: not a number"),
        (4, "sales_abroad", "not_a_number", "x", "sales_abroad: not a number"),
    ]
    # typed raw columns; the undeclared ones ('notes', 'comment') are not stored
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'outcomes'"
        ).fetchall()
    )
    assert (types["new_products"], types["certified_iso9001"], types["sales_abroad"]) == (
        "BIGINT",
        "DOUBLE",
        "DOUBLE",
    )
    assert "comment" not in types
    firm_columns = [r[0] for r in con.execute("describe raw.firms").fetchall()]
    assert "notes" not in firm_columns
    # loads before the declaration (load_registry's firms) have the extras empty
    build_models(con, VARIABLES)
    staged_firms = con.execute(
        "select firm_id, female_owned, cluster, employees_2010 from staging.stg_firms order by all"
    ).fetchall()
    assert sorted(staged_firms) == sorted(
        [
            (pid("F1"), None, None, None),
            (pid("F2"), None, None, None),
            (pid("F3"), None, None, None),
            (pid("F4"), 1.0, "wine", 12),
            (pid("F5"), 0.0, "metal", None),  # text stripped, as contract text is
        ]
    )
    staged = con.execute(
        "select o.firm_id, o.year, o.new_products, o.certified_iso9001, o.sales_abroad_usd, "
        "r.sales_abroad * m.usd_constant_factor, o.sales_usd / r.sales "
        "from staging.stg_outcomes as o join raw.outcomes as r using (firm_id, year) "
        "join staging.stg_macro as m on m.country = o.country and m.year = o.year "
        "order by o.firm_id, o.year"
    ).fetchall()
    by_key = {(r[0], r[1]): r[2:] for r in staged}
    assert by_key[(pid("F1"), 2020)][:2] == (3, 1.0)
    assert by_key[(pid("F1"), 2021)][:2] == (None, 0.0)
    assert by_key[(pid("F3"), 2020)][:2] == (-1, None)
    assert (pid("F2"), 2020) not in by_key  # quarantined
    for row in staged:
        usd, expected = row[4], row[5]
        if expected is None:
            assert usd is None
        else:
            assert usd == pytest.approx(expected)
    # money is converted with the factor that converts sales (100 local -> sales_usd)
    f1 = by_key[(pid("F1"), 2020)]
    assert f1[2] == pytest.approx(100 * f1[4])
    assert f1[2] != pytest.approx(100)  # a conversion, not a copy
    assert declared_extra_columns(con) == {
        "firms": {"female_owned": "number", "cluster": "text", "employees_2010": "integer"},
        "outcomes": {
            "new_products": "integer",
            "certified_iso9001": "number",
            "sales_abroad_usd": "money",
        },
    }


def test_a_later_load_without_the_extra_leaves_it_empty_and_supersedes(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = fresh_db
    load_registry(con, tmp_path)
    load_file(con, outcomes_file(tmp_path), "outcomes", key=KEY, extra_columns=OUTCOME_EXTRAS)
    # a correction of F1 2020 without the extra columns (and without declaring them)
    correction = write_csv(
        tmp_path / "correction.csv", OUTCOME_HEADER, [["F1", 2020, 11, 100, 50, 0, 40, 0, 0, 1]]
    )
    report = load_file(con, correction, "outcomes", key=KEY)
    assert report.rows_superseded == 1
    rows = con.execute(
        "select employment, new_products, sales_abroad, _superseded_by is null from raw.outcomes "
        "where firm_id = ? and year = 2020 order by all",
        [pid("F1")],
    ).fetchall()
    assert rows == [(10.0, 3, 100.0, False), (11.0, None, None, True)]
    build_models(con, VARIABLES)
    assert con.execute(
        "select new_products, sales_abroad_usd from staging.stg_outcomes "
        "where firm_id = ? and year = 2020",
        [pid("F1")],
    ).fetchall() == [(None, None)]
    # still declared: staging keeps the column for the evaluation side
    assert "new_products" in declared_extra_columns(con)["outcomes"]


def test_a_kind_changed_between_submissions_is_one_line(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = fresh_db
    load_registry(con, tmp_path)
    load_file(con, outcomes_file(tmp_path), "outcomes", key=KEY, extra_columns=OUTCOME_EXTRAS)
    second = outcomes_file(tmp_path, "outcomes_2.csv")
    for engine in ENGINES:
        with pytest.raises(ContractError) as caught:
            load_file(
                con,
                second,
                "outcomes",
                key=KEY,
                engine=engine,
                extra_columns={**OUTCOME_EXTRAS, "certified_iso9001": "text"},
            )
        message = str(caught.value)
        assert "\n" not in message
        assert "'certified_iso9001'" in message and "number" in message and "text" in message
    # a firms extra may not take a name an outcomes extra has
    header = [*FIRM_HEADER, "new_products"]
    firms = write_csv(tmp_path / "f.csv", header, [["F9", "CHL", None, "1071", None, "1"]])
    with pytest.raises(ContractError, match="already is"):
        load_file(con, firms, "firms", key=KEY, extra_columns={"new_products": "integer"})
    assert con.execute("select count(*) from meta.loads").fetchall()[0][0] == 4


def test_same_content_reloads_when_an_extra_is_declared_since(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = fresh_db
    load_registry(con, tmp_path)
    path = outcomes_file(tmp_path)
    first = load_file(con, path, "outcomes", key=KEY)  # nothing declared: extras ignored
    assert "new_products" not in [r[0] for r in con.execute("describe raw.outcomes").fetchall()]
    again = load_file(con, path, "outcomes", key=KEY, extra_columns={"new_products": "integer"})
    assert not again.skipped and again.rows_superseded == first.rows_loaded - 1
    assert load_file(
        con, path, "outcomes", key=KEY, extra_columns={"new_products": "integer"}
    ).skipped
    # declaring fewer than an earlier load of the same content did: nothing new to load
    assert load_file(con, path, "outcomes", key=KEY).skipped
    current = con.execute(
        "select count(new_products) from raw.outcomes where _superseded_by is null"
    ).fetchall()[0][0]
    assert current == 3  # F1 2020, F2 2021, F3 2020 (F2 2020 is quarantined: n/d)


def test_a_failed_load_adds_no_column(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse import load

    con = fresh_db
    load_registry(con, tmp_path)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "record_load", broken)
    with pytest.raises(RuntimeError):
        load_file(con, outcomes_file(tmp_path), "outcomes", key=KEY, extra_columns=OUTCOME_EXTRAS)
    assert "new_products" not in [r[0] for r in con.execute("describe raw.outcomes").fetchall()]
    assert declared_extra_columns(con) == {"firms": {}, "outcomes": {}}


def test_dry_run_validates_extras_and_writes_nothing(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = fresh_db
    load_registry(con, tmp_path)
    checked = prepare_load(
        con, outcomes_file(tmp_path), "outcomes", key=KEY, extra_columns=OUTCOME_EXTRAS
    )
    assert (checked.rows_in, len(checked.valid), checked.rows_quarantined) == (5, 4, 1)
    assert {"new_products", "certified_iso9001", "sales_abroad"} <= set(checked.valid.columns)
    assert "new_products" not in [r[0] for r in con.execute("describe raw.outcomes").fetchall()]


def test_a_header_differing_only_in_case_is_an_error_not_an_empty_column(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    path = write_csv(
        tmp_path / "o.csv",
        [*OUTCOME_HEADER, "New Products"],
        [["F1", 2020, 10, 100, 50, 0, 40, 0, 0, 1, "3"]],
    )
    for engine in ENGINES:
        with pytest.raises(ContractError, match="'New Products' is"):
            load_file(
                fresh_db,
                path,
                "outcomes",
                key=KEY,
                engine=engine,
                extra_columns={"new_products": "integer"},
            )


# --- mappings ---------------------------------------------------------------------------


def test_a_mapping_renames_an_agency_header_onto_an_extra(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    text = (
        "RUT;Año;Ventas;Empleo;wage_bill;exports;value_added;rd_spend;training_spend;capital;"
        "Nuevos productos;Certificación ISO;Ventas extranjero\n"
        "F1;2020;1.000,5;10;;;;;;;3;1;2.000,25\n"
        "F2;2020;500;8;;;;;;;n/d;0;10\n"
    )
    data = tmp_path / "resultados.csv"
    data.write_text(text, encoding="utf-8")
    mapping_path = tmp_path / "resultados.yaml"
    mapping_path.write_text(
        "entity: outcomes\n"
        "columns: {RUT: firm_id, año: year, ventas: sales, empleo: employment,\n"
        "  nuevos productos: new_products, certificación iso: certified_iso9001,\n"
        "  ventas extranjero: sales_abroad}\n"
        "extra_columns: {new_products: integer}\n"  # the other two: in the run config
        "format: {delimiter: ';', decimal: ',', thousands: '.'}\n",
        encoding="utf-8",
    )
    config_extras = {"certified_iso9001": "number", "sales_abroad": "money"}
    mapping = load_mapping(mapping_path, extra_columns=config_extras)
    assert mapping.extra_columns == {**config_extras, "new_products": "integer"}
    report = load_file(
        fresh_db, data, "outcomes", key=KEY, mapping=mapping, extra_columns=config_extras
    )
    assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (2, 1, 1)
    assert fresh_db.execute(
        "select firm_id, sales, new_products, certified_iso9001, sales_abroad from raw.outcomes"
    ).fetchall() == [(pid("F1"), 1000.5, 3, 1.0, 2000.25)]  # decimal commas normalised
    assert quarantine(fresh_db, "outcomes") == [
        (3, "new_products", "not_a_number", "n/d", "new_products: not a number")
    ]
    # without the config's declaration the mapping's columns name undeclared targets
    with pytest.raises(ContractError) as caught:
        load_mapping(mapping_path)
    message = str(caught.value)
    assert "\n" not in message and "'certified_iso9001'" in message
    assert "extra_columns" in message
    # a kind that differs between the config and the mapping
    with pytest.raises(ContractError, match="declared integer here and number in the config"):
        load_mapping(mapping_path, extra_columns={**config_extras, "new_products": "number"})


def test_mapping_extra_declarations_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    for extras, expected in [
        ("{cluster: money}", "not allowed on firms"),
        ("{region: text}", "contract column of firms"),
        ("{cluster: words}", "extra_columns.cluster"),
    ]:
        path.write_text(f"entity: firms\nextra_columns: {extras}\n", encoding="utf-8")
        with pytest.raises(ContractError, match=expected) as caught:
            load_mapping(path)
        assert "\n" not in str(caught.value)
    path.write_text("entity: programs\nextra_columns: {budget_line: text}\n", encoding="utf-8")
    with pytest.raises(ContractError, match="firms and outcomes only"):
        load_mapping(path)


# --- the run config ---------------------------------------------------------------------


def write_config(tmp_path: Path, firms: str, outcomes: str) -> Path:
    path = tmp_path / "agency.yaml"
    path.write_text(
        "warehouse: w.duckdb\nout_dir: report\nsources:\n"
        "  macro: macro.csv\n  programs: programs.csv\n"
        f"  firms: {{path: firms.csv, extra_columns: {firms}}}\n"
        "  program_budgets: budgets.csv\n  participations: participations.csv\n"
        "  comparison_sample: comparison.csv\n"
        f"  outcomes: {{path: outcomes.csv, extra_columns: {outcomes}}}\n",
        encoding="utf-8",
    )
    return path


def test_the_run_config_declares_extras_per_source(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path,
            "{female_owned: number, cluster: text}",
            "{new_products: integer, sales_abroad: money}",
        )
    )
    assert config.sources["firms"].extra_columns == {"female_owned": "number", "cluster": "text"}
    assert config.sources["outcomes"].declared_extra_columns() == {
        "new_products": "integer",
        "sales_abroad": "money",
    }
    assert config.sources["macro"].extra_columns == {}


@pytest.mark.parametrize(
    ("firms", "outcomes", "expected"),
    [
        ("{cluster: money}", "{}", "kind money is not allowed on firms"),
        ("{cluster: txt}", "{}", "sources.firms.extra_columns.cluster"),
        ("{Cluster: text}", "{}", "lower snake case"),
        ("{_cluster: text}", "{}", "starting with '_'"),
        ("{sales: number}", "{}", "contract column of outcomes"),
        ("{isic_division: integer}", "{}", "derives"),
        ("{}", "{sales_usd: number}", "derives"),  # stg_outcomes' conversion of sales
        ("{}", "{log_sales: number}", "derives"),
        ("{}", "{order: text}", "SQL keyword"),
        ("{cluster: text}", "{cluster: text}", "also declared on firms"),
        ("{}", "{abroad: money, abroad_usd: number}", "would both be 'abroad_usd'"),
    ],
)
def test_bad_declarations_are_one_line_config_errors(
    tmp_path: Path, firms: str, outcomes: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, firms, outcomes))
    message = str(caught.value)
    assert "\n" not in message
    assert expected in message


def test_extras_only_on_firms_and_outcomes() -> None:
    with pytest.raises(ExtraColumnError, match="accepted on firms and outcomes only"):
        check_extra_columns("participations", {"advisor": "text"})
    assert check_extra_columns("participations", {}) == {}


def test_reserved_names_cover_what_staging_and_the_panel_derive(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """An extra may not shadow a column of stg_firms, stg_outcomes or the evaluation panel:
    a column added to those models must be added to schemas.extras.DERIVED_COLUMNS."""
    from evaluation.impact import OUTCOMES

    load_registry(fresh_db, tmp_path)
    build_models(fresh_db, VARIABLES)
    for relation in ("staging.stg_firms", "staging.stg_outcomes", "marts.mart_evaluation_panel"):
        columns = {r[0] for r in fresh_db.execute(f"describe {relation}").fetchall()}
        assert columns <= reserved_names(), (relation, columns - reserved_names())
    assert set(OUTCOMES) <= reserved_names()


# --- audit and templates ----------------------------------------------------------------


def test_the_audit_scorecard_covers_extras(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from warehouse.quality import scorecard_frame

    load_registry(fresh_db, tmp_path)
    load_file(fresh_db, firms_file(tmp_path), "firms", key=KEY, extra_columns=FIRM_EXTRAS)
    load_file(fresh_db, outcomes_file(tmp_path), "outcomes", key=KEY, extra_columns=OUTCOME_EXTRAS)
    frame = scorecard_frame(fresh_db)
    entity = frame[(frame["grain"] == "entity") & (frame["dimension"] == "completeness")]
    value = entity.set_index(["entity", "detail"])["value"]
    # submitted outcomes: F1 2020 (3), F1 2021 (empty), F2 2021 (2), F3 2020 (-1), and F2
    # 2020, quarantined for its "n/d": a value that failed, not a missing one
    assert value[("outcomes", "new_products")] == pytest.approx(4 / 5)
    # firms F1-F3 came before the declaration (missing); F4 and F5 loaded with a value; of
    # the quarantined, F6 has one ("yes", invalid but there) and F7 none (its record says)
    assert value[("firms", "female_owned")] == pytest.approx(3 / 7)
    # the required columns' figure is the contract's alone
    assert value[("outcomes", None)] == pytest.approx(1.0)


def test_the_data_dictionary_says_how_to_declare_extras(tmp_path: Path) -> None:
    from schemas.dictionary import write_templates

    written = {p.name: p for p in write_templates(tmp_path)}
    text = written["data_dictionary.md"].read_text(encoding="utf-8")
    assert "extra_columns" in text
    for kind in ("number", "integer", "money", "text"):
        assert f"`{kind}`" in text
