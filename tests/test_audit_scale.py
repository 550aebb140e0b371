"""The audit at a register's size: expectation suites validated inside DuckDB.

`validate_warehouse` validates every row in DuckDB (`schemas.expectation_sql`); the frame
path (GX's pandas engine on whole frames) is the reference. On a small warehouse whose
latest outcomes file has planted problems (a currency slip in the latest year's sales,
duplicated keys, texts that are not numbers, 'NaN', a column a third empty) and whose other files carry the
synthetic portfolio's planted invalid rows, both must give the same results: success,
element and unexpected counts, observed values and the first unexpected values, and the
same Data Docs pages.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from great_expectations.expectations.row_conditions import Column

from schemas.expectation_sql import condition_sql
from schemas.expectations import ExpectationSettings, ValidationRun, validate_warehouse
from warehouse.db import open_warehouse
from warehouse.load import load_file

from .test_quality import KEY, SHIFT, Base, loaded_demo

COMPARED = ["success", "element_count", "unexpected_count", "unexpected_percent"]
EVERY_ROW = ExpectationSettings(max_rows=10**9)  # the frame path without its key sample


@pytest.fixture(scope="module")
def problems(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose second outcomes submission has problems of every kind."""
    root = tmp_path_factory.mktemp("audit-scale")
    base: Base = loaded_demo(root, n_firms=500)
    frame = base.data.tables["outcomes"].astype(object)
    latest = frame["year"] == frame["year"].max()
    frame.loc[latest, "sales"] = pd.to_numeric(frame.loc[latest, "sales"]) * SHIFT
    frame.loc[frame.index[:2], "sales"] = "NaN"
    frame.loc[frame.index[2:4], "employment"] = "n/d"
    frame.loc[frame.index[5::3], "wage_bill"] = None  # a third missing: below 90% filled
    frame = pd.concat([frame, frame.iloc[10:13]], ignore_index=True)  # duplicated keys
    frame.to_csv(root / "outcomes_v2.csv", index=False)
    with open_warehouse(base.path) as con:
        report = load_file(con, root / "outcomes_v2.csv", "outcomes", key=KEY)
    assert report.rows_quarantined > 0
    return base.path


@pytest.fixture
def con(problems: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(problems, tmp_path / "warehouse.duckdb")
    with open_warehouse(tmp_path / "warehouse.duckdb", read_only=True) as connection:
        yield connection


def keyed(run: ValidationRun) -> pd.DataFrame:
    """The stored results, one row per (entity, batch, expectation, parameters)."""
    results = run.results.set_index(["entity", "batch", "expectation", "parameters"])
    assert results.index.is_unique
    return results.sort_index()


def examples(run: ValidationRun) -> dict[tuple[str, str, str], Any]:
    """The first unexpected values and their counts, by suite, expectation and kwargs."""
    found = {}
    for suite in run.suite_results:
        for item in suite.results:
            config = item.expectation_config
            assert config is not None
            kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
            key = (suite.suite_name, config.type, json.dumps(kwargs, sort_keys=True, default=str))
            result = item.result or {}
            found[key] = json.dumps(
                [result.get("partial_unexpected_list"), result.get("partial_unexpected_counts")],
                default=str,
            )
    return found


def test_duckdb_gives_the_results_of_whole_frames(con: duckdb.DuckDBPyConnection) -> None:
    in_duckdb = validate_warehouse(con, method="sql")
    frames = validate_warehouse(con, method="frames", settings=EVERY_ROW)
    new, old = keyed(in_duckdb), keyed(frames)
    assert list(in_duckdb.results["parameters"]) == list(frames.results["parameters"])  # order
    assert list(new.index) == list(old.index)
    pd.testing.assert_frame_equal(new[COMPARED], old[COMPARED], check_dtype=False)
    assert list(new["observed_value"]) == list(old["observed_value"])
    assert new["exception"].isna().all() and old["exception"].isna().all()
    assert examples(in_duckdb) == examples(frames)
    # the comparison is only worth something if the planted problems fail expectations
    # of every kind the suites hold
    failed = new[~new["success"].astype(bool)].reset_index()
    assert {
        "expect_compound_columns_to_be_unique",
        "expect_column_values_to_be_null",
        "expect_column_median_to_be_between",
        "expect_column_kl_divergence_to_be_less_than",
        "expect_column_values_to_not_be_null",
    } <= set(failed["expectation"])
    duplicates = failed[failed["expectation"] == "expect_compound_columns_to_be_unique"]
    assert (duplicates["unexpected_count"] >= 2).all()


def test_uniqueness_by_key_buckets_adds_up(con: duckdb.DuckDBPyConnection) -> None:
    whole = keyed(validate_warehouse(con, entities=["outcomes", "firms"]))
    bucketed_run = validate_warehouse(
        con, entities=["outcomes", "firms"], settings=ExpectationSettings(bucket_rows=500)
    )
    bucketed = keyed(bucketed_run)
    pd.testing.assert_frame_equal(bucketed[COMPARED], whole[COMPARED], check_dtype=False)
    unique = whole.reset_index()["expectation"].str.contains("unique")
    assert whole[unique.to_numpy()]["unexpected_count"].sum() > 0  # duplicates were found
    assert examples(bucketed_run) == examples(
        validate_warehouse(con, entities=["outcomes", "firms"])
    )


def test_every_row_is_validated_where_frames_take_a_sample(
    con: duckdb.DuckDBPyConnection,
) -> None:
    small = ExpectationSettings(max_rows=2_000)
    sampled = validate_warehouse(con, method="frames", settings=small, entities=["outcomes"])
    whole = validate_warehouse(con, settings=small, entities=["outcomes"]).results
    assert (sampled.results["rows_validated"] < sampled.results["rows_total"]).all()
    assert (whole["rows_validated"] == whole["rows_total"]).all()
    total = con.sql("select count(*) from raw.outcomes where _superseded_by is null").fetchall()
    counted = whole[(whole["batch"] == "current_rows") & whole["element_count"].notna()]
    assert set(counted["element_count"]) == {total[0][0]}


def page_text(page: Path) -> str:
    """A Data Docs page as the reader sees it, without its run time and batch details."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))
    return text[text.index("Table-Level Expectations Status") :]


def test_data_docs_read_the_same(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    pages = {}
    for method in ("sql", "frames"):
        docs = tmp_path / method
        validate_warehouse(con, method=method, settings=EVERY_ROW, docs_dir=docs)
        pages[method] = {
            page.parent.parent.parent.name: page_text(page)
            for page in (docs / "validations").rglob("*.html")
        }
    assert pages["sql"].keys() == pages["frames"].keys()
    assert "outcomes_latest_submission" in pages["sql"]
    for suite, text in pages["sql"].items():
        assert text == pages["frames"][suite], suite


def test_row_conditions_read_nulls_as_pandas_does() -> None:
    assert condition_sql(None) == "true"
    both = condition_sql((Column("year") == 2024) & (Column("_country") == "O'K"))
    assert both == "((\"year\" = 2024) and (\"_country\" = 'O''K'))"
    con = duckdb.connect()
    con.execute("create table t as select * from (values (1), (null), (2)) v(x)")
    for condition, pandas_rows in [
        (Column("x") != 1, 2),  # pandas: a null is unequal to 1
        (Column("x").is_not_in([1]), 2),
        (Column("x").is_in([1, 2]), 2),
        (Column("x") > 1, 1),
    ]:
        counted = con.execute(f"select count(*) from t where {condition_sql(condition)}")
        assert counted.fetchall()[0][0] == pandas_rows, condition


ROWS = """
select * from (values
    ('a', 1, 10.0, 4.0, '_'),
    ('a', 1, 'nan'::double, 2.0, '_'),
    ('b', null, 5.0, 6.0, null),
    ('b', null, 8.0, 1.0, 'z'),
    ('c', 3, null, 1.0, 'x'),
    (null, null, -1.0, null, 'y'),
    (null, null, 7.0, 'nan'::double, 'y')
) as v(firm_id, year, sales, exports, source)
"""


def test_nan_and_null_keys_count_as_pandas_counts_them() -> None:
    """NaN is missing in a float column; null keys are equal to each other."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from schemas.expectation_sql import validate_rows
    from schemas.expectations import RESULT_FORMAT, ephemeral_context

    def suite() -> list[gxe.Expectation]:
        return [
            gxe.ExpectColumnValuesToNotBeNull(column="sales", mostly=0.7),
            gxe.ExpectColumnValuesToBeBetween(column="sales", min_value=0),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="sales", column_B="exports", ignore_row_if="either_value_is_missing"
            ),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["firm_id", "year"]),
            gxe.ExpectColumnValuesToBeUnique(column="source"),
            gxe.ExpectColumnMedianToBeBetween(column="sales", min_value=0, max_value=6),
        ]

    con = duckdb.connect()
    rows = f"select *, 'load' as _load_id, row_number() over () as _row_number from ({ROWS})"
    in_duckdb = validate_rows(con, rows, suite(), batch_id="t", result_format=RESULT_FORMAT)
    context = ephemeral_context()
    data = context.data_sources.add_pandas("p").add_dataframe_asset("rows")
    definition = gx.ValidationDefinition(
        name="rows",
        data=data.add_batch_definition_whole_dataframe("all"),
        suite=context.suites.add(gx.ExpectationSuite(name="rows", expectations=suite())),
    )
    frame = con.sql(f"select * from ({rows}) order by _row_number").df()
    on_frame = definition.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
    assert len(in_duckdb) == len(on_frame.results) == 6
    for new, old in zip(in_duckdb, on_frame.results, strict=True):
        drop = "partial_unexpected_index_list"
        new_result = {k: v for k, v in (new.result or {}).items() if k != drop}
        old_result = {k: v for k, v in (old.result or {}).items() if k != drop}
        assert new.success == old.success, old.expectation_config
        assert json.dumps(new_result, default=str) == json.dumps(old_result, default=str)
    counts = {r.expectation_config.type: r.result.get("unexpected_count") for r in in_duckdb}
    assert counts["expect_column_values_to_not_be_null"] == 2  # the null and the NaN
    # (a, 1) and (b, null) twice each; rows without any key value are left out
    assert counts["expect_compound_columns_to_be_unique"] == 4


def test_an_expectation_without_sql_metrics_fails_alone() -> None:
    """A type this path cannot compute fails with a message; the others still run."""
    import great_expectations.expectations as gxe

    from schemas.expectation_sql import validate_rows
    from schemas.expectations import RESULT_FORMAT

    con = duckdb.connect()
    rows = f"select *, 'load' as _load_id, row_number() over () as _row_number from ({ROWS})"
    results = validate_rows(
        con,
        rows,
        [
            gxe.ExpectColumnMeanToBeBetween(column="sales", min_value=0, max_value=10),
            gxe.ExpectColumnValuesToNotBeNull(column="source"),
        ],
        batch_id="t",
        result_format=RESULT_FORMAT,
    )
    mean, not_null = results
    assert not mean.success and mean.exception_info["raised_exception"]
    assert "column.mean" in mean.exception_info["exception_message"]
    assert not not_null.exception_info["raised_exception"]
    assert not_null.result["unexpected_count"] == 1
