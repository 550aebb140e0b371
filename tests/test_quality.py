"""Data quality: expectation suites, the SQL scorecard and offline Data Docs.

One small synthetic warehouse (600 firms, every entity loaded in contract order) is built
per module; each test works on a copy. Planted problems arrive the way they would in
practice, as a second outcomes submission: a column with 30% missing, a submission 60%
smaller than the previous one, sales of the latest year shifted; those tests validate
outcomes only (the other suites see unchanged tables, and pass on the clean data).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation.synthetic import DemoData, generate_demo
from flows.demo_files import write_demo_files
from schemas.contract import ENTITIES
from schemas.expectations import ExpectationSettings, current_rows, validate_warehouse
from warehouse.db import open_warehouse
from warehouse.load import load_file
from warehouse.quality import compute_scorecard, format_scorecard, run_expectations

from .browser import render

KEY = b"a test key of sufficient length"
SHIFT = 3  # sales of the latest year multiplied by this: a unit or currency slip


@dataclass(frozen=True)
class Base:
    """The clean warehouse file and the synthetic data it was loaded from."""

    path: Path
    data: DemoData


def loaded_demo(root: Path, n_firms: int, engine: str = "auto") -> Base:
    """A synthetic portfolio's files loaded into a new warehouse under `root`."""
    data = generate_demo(n_firms=n_firms)
    files = write_demo_files(data, root / "files")
    with open_warehouse(root / "warehouse.duckdb") as con:
        for entity in ENTITIES:
            load_file(con, files[entity], entity, key=KEY, engine=engine)
    return Base(root / "warehouse.duckdb", data)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return loaded_demo(tmp_path_factory.mktemp("quality"), n_firms=600)


@pytest.fixture
def con(base: Base, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write copy of the clean warehouse."""
    shutil.copyfile(base.path, tmp_path / "warehouse.duckdb")
    with open_warehouse(tmp_path / "warehouse.duckdb") as connection:
        yield connection


def clean_outcomes(data: DemoData) -> pd.DataFrame:
    """The outcomes file without its planted invalid rows (a resubmission is clean)."""
    outcomes = data.tables["outcomes"]
    bad = data.planted_invalid.query("entity == 'outcomes'")["row"]
    return outcomes.drop(index=outcomes.index[bad.to_numpy()]).reset_index(drop=True)


def resubmit_outcomes(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)
    report = load_file(con, path, "outcomes", key=KEY)
    assert report.rows_quarantined == 0 and not report.skipped


def failures(
    results: pd.DataFrame, batch: str = "current_rows"
) -> set[tuple[str, str, str | None]]:
    # the submission suites also see the demo's planted bad rows (the quarantine): they fail
    # on the base warehouse (tests/test_data_docs_submission.py); these tests look at one batch
    failed = results[~results["success"] & (results["batch"] == batch)]
    return set(zip(failed["entity"], failed["expectation"], failed["column_name"], strict=True))


# --- expectations -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_run(base: Base, tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    """run_expectations on a copy of the clean warehouse: stored results and Data Docs."""
    root = tmp_path_factory.mktemp("clean-run")
    shutil.copyfile(base.path, root / "warehouse.duckdb")
    with open_warehouse(root / "warehouse.duckdb") as con:
        results = run_expectations(con, "run-clean", root / "out").results
        stored = con.sql("select * from meta.expectation_results").df()
    assert len(stored) == len(results) and set(stored["run_id"]) == {"run-clean"}
    return results, root / "out" / "data_docs" / "index.html"


def test_suites_pass_on_clean_data(clean_run: tuple[pd.DataFrame, Path]) -> None:
    results, _ = clean_run
    assert failures(results) == set()
    assert results["exception"].isna().all()
    assert set(results["entity"]) == set(ENTITIES)
    outcomes = results[(results["entity"] == "outcomes") & (results["batch"] == "current_rows")]
    assert {
        "completeness",
        "uniqueness",
        "range",
        "consistency",
        "row_count",
        "distribution_shift",
    } <= set(outcomes["dimension"])
    # per country (three) and outcome (sales, employment): a median band and a KL divergence
    shift = outcomes[outcomes["dimension"] == "distribution_shift"]
    assert len(shift) == 12
    firms = results[results["entity"] == "firms"]
    assert {"expect_column_values_to_match_regex", "expect_column_values_to_be_unique"} <= set(
        firms["expectation"]
    )


def test_missing_values_fail_the_completeness_expectation(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    frame = clean_outcomes(base.data)
    blank = np.random.default_rng(1).random(len(frame)) < 0.30
    frame.loc[blank, "employment"] = None
    resubmit_outcomes(con, frame, tmp_path / "outcomes_v2.csv")
    results = validate_warehouse(con, entities=["outcomes"]).results
    assert failures(results) == {("outcomes", "expect_column_values_to_not_be_null", "employment")}
    failed = results[~results["success"]].iloc[0]
    assert 0.28 < failed["unexpected_percent"] / 100 < 0.33


def test_a_much_smaller_submission_fails_the_row_count_expectation(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    frame = clean_outcomes(base.data)
    resubmit_outcomes(con, frame.head(int(0.4 * len(frame))), tmp_path / "outcomes_part.csv")
    results = validate_warehouse(con, entities=["outcomes"]).results
    assert failures(results) == set()
    row_count = ("outcomes", "expect_table_row_count_to_be_between", None)
    assert row_count in failures(results, "latest_submission")
    failed = results[~results["success"] & (results["dimension"] == "row_count")].iloc[0]
    assert failed["batch"] == "latest_submission"
    previous = con.sql(
        "select rows_loaded from meta.loads where entity = 'outcomes' order by sequence"
    ).fetchall()[0][0]
    assert int(failed["observed_value"]) == int(0.4 * len(frame)) < 0.5 * previous
    bounds = json.loads(failed["parameters"])
    assert (bounds["min_value"], bounds["max_value"]) == (
        math.floor(previous * 0.5),
        math.ceil(previous * 1.5),
    )
    # the tolerance is a setting: a wide enough one lets the submission pass
    wide = ExpectationSettings(row_count_tolerance=0.7)
    wide_results = validate_warehouse(con, settings=wide, entities=["outcomes"]).results
    assert row_count not in failures(wide_results, "latest_submission")


def test_a_shifted_sales_distribution_fails_the_shift_expectations(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    frame = clean_outcomes(base.data)
    latest = frame["year"] == frame["year"].max()
    frame.loc[latest, "sales"] = pd.to_numeric(frame.loc[latest, "sales"]) * SHIFT
    resubmit_outcomes(con, frame, tmp_path / "outcomes_shifted.csv")
    results = validate_warehouse(con, entities=["outcomes"]).results
    failed = results[~results["success"] & (results["batch"] == "current_rows")]
    # sales only (employment unchanged), both checks, in every country
    assert set(failed["column_name"]) == {"sales"}
    assert set(failed["dimension"]) == {"distribution_shift"}
    assert len(failed) == 6
    kl = failed[failed["expectation"] == "expect_column_kl_divergence_to_be_less_than"]
    assert (kl["observed_value"].astype(float) > 0.1).all()


def test_large_frames_are_validated_on_a_sample_of_whole_firms(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # the frame path (the reference; the audit validates every row in DuckDB, see
    # tests/test_audit_scale.py)
    sample, total = current_rows(con, "outcomes", max_rows=2_000)
    full = con.sql(
        "select firm_id, count(*) as n from raw.outcomes where _superseded_by is null group by 1"
    ).df()
    assert 1_500 < len(sample) < 2_800 and total == full["n"].sum()
    # every sampled firm comes with all its rows: duplicates of a key cannot be split
    counts = sample.groupby("firm_id").size()
    assert (counts == full.set_index("firm_id")["n"].reindex(counts.index)).all()
    results = validate_warehouse(
        con, settings=ExpectationSettings(max_rows=2_000), entities=["outcomes"], method="frames"
    ).results
    assert failures(results) == set()
    current = results[results["batch"] == "current_rows"]
    assert set(current["rows_validated"]) == {len(sample)} and set(current["rows_total"]) == {total}


# --- scorecard ----------------------------------------------------------------------------


def independent_scorecard(con: duckdb.DuckDBPyConnection) -> dict[tuple, tuple[float, float]]:
    """Completeness, validity, uniqueness, attrition and response rate, in pandas.

    Keys are (entity, grain, load_id, period, dimension, detail); values (numerator,
    denominator). Definitions as documented in warehouse/quality/*.sql.
    """
    expected: dict[tuple, tuple[float, float]] = {}
    loads = con.sql("select * from meta.loads").df()
    quarantine = con.sql("select * from meta.quarantine").df()
    # the loads whose quarantine stands now (meta.load_supersession): the entity grain
    current_loads = set(
        con.sql("select load_id from meta.load_supersession where superseded_by is null").df()[
            "load_id"
        ]
    )
    for name, spec in ENTITIES.items():
        raw = con.sql(f"select * from raw.{name}").df()
        columns = list(spec.schema.columns)
        required = [c for c, col in spec.schema.columns.items() if not col.nullable]
        # completeness, validity and uniqueness of each submission (rows submitted: loaded
        # plus quarantined); the entity grain adds up the current loads
        entity_sums: dict[tuple, list[float]] = {}

        def add(
            key: tuple,
            load_id: str,
            value: tuple[float, float],
            name: str = name,
            entity_sums: dict[tuple, list[float]] = entity_sums,
        ) -> None:
            expected[(name, "submission", load_id, None, *key)] = value
            if load_id in current_loads:
                total = entity_sums.setdefault(key, [0, 0])
                total[0] += value[0]
                total[1] += value[1]

        entity_loads = loads[loads["entity"] == name]
        q = quarantine[quarantine["entity"] == name]
        q_columns = q.assign(column_name=q["column_name"].str.split(", ")).explode("column_name")
        for load in entity_loads.itertuples():
            rows = raw[raw["_load_id"] == load.load_id]
            # a quarantined row's cells, from its record as submitted (null or blank: missing)
            held = q[q["load_id"] == load.load_id].drop_duplicates("row_number")["record"]
            cells = pd.DataFrame([json.loads(r) for r in held.dropna()], columns=columns)
            empty = cells.apply(lambda s: s.isna() | (s.astype(str).str.strip() == ""))
            filled = {c: load.rows_in - rows[c].isna().sum() - empty[c].sum() for c in columns}
            for c in columns:
                add(("completeness", c), load.load_id, (filled[c], load.rows_in))
                flagged = q_columns[
                    (q_columns["load_id"] == load.load_id) & (q_columns["column_name"] == c)
                ]
                add(
                    ("validity", c),
                    load.load_id,
                    (load.rows_in - flagged["row_number"].nunique(), load.rows_in),
                )
            add(
                ("completeness", None),
                load.load_id,
                (sum(filled[c] for c in required), load.rows_in * len(required)),
            )
            add(("validity", None), load.load_id, (load.rows_loaded, load.rows_in))
            # uniqueness: rows neither quarantined as duplicates nor loaded twice
            in_load = q[q["load_id"] == load.load_id]
            n_quarantined = in_load["row_number"].nunique()
            n_duplicates = in_load.loc[in_load["rule"] == "duplicate_key", "row_number"].nunique()
            n_keys = len(rows[list(spec.key)].drop_duplicates())
            add(
                ("uniqueness", None),
                load.load_id,
                (n_keys + n_quarantined - n_duplicates, len(rows) + n_quarantined),
            )
        for key, (numerator, denominator) in entity_sums.items():
            expected[(name, "entity", None, None, *key)] = (numerator, denominator)
    outcomes = con.sql("select * from raw.outcomes where _superseded_by is null").df()
    for year, rows in outcomes.groupby("year"):
        expected[("outcomes", "period", None, year, "uniqueness", None)] = (
            len(rows[["firm_id", "year"]].drop_duplicates()),
            len(rows),
        )
    # attrition: firms observed in t-1 and not in t
    seen = outcomes.groupby("year")["firm_id"].apply(set)
    groups = {
        None: None,
        "beneficiaries": set(
            con.sql("select firm_id from raw.participations where _superseded_by is null").df()[
                "firm_id"
            ]
        ),
        "comparison": set(
            con.sql("select firm_id from raw.comparison_sample where _superseded_by is null").df()[
                "firm_id"
            ]
        ),
    }
    for group, members in groups.items():
        total = [0, 0]
        for year in seen.index[1:]:
            before = seen[year - 1] if members is None else seen[year - 1] & members
            lost = len(before - seen[year])
            expected[("outcomes", "period", None, year, "attrition", group)] = (lost, len(before))
            total = [total[0] + lost, total[1] + len(before)]
        expected[("outcomes", "entity", None, None, "attrition", group)] = tuple(total)
    # response rate: beneficiaries of a program who answered its client survey
    entries = con.sql(
        "select distinct firm_id, program_id from raw.participations where _superseded_by is null"
    ).df()
    answered = con.sql(
        "select distinct firm_id, program_id, true as answered from raw.client_survey "
        "where _superseded_by is null"
    ).df()
    merged = entries.merge(answered, how="left", on=["firm_id", "program_id"])
    merged["answered"] = merged["answered"].fillna(False).astype(bool)
    for program, rows in merged.groupby("program_id"):
        expected[("client_survey", "entity", None, None, "response_rate", program)] = (
            rows["answered"].sum(),
            len(rows),
        )
    return expected


def test_scorecard_matches_an_independent_pandas_computation(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # make the figures non-trivial: a resubmission with missing values (superseded rows,
    # two submissions) and, as if the loader had failed, duplicated current rows
    frame = clean_outcomes(base.data)
    blank = np.random.default_rng(2).random(len(frame)) < 0.2
    frame.loc[blank, "sales"] = None
    resubmit_outcomes(con, frame, tmp_path / "outcomes_v2.csv")
    con.execute(
        "insert into raw.outcomes select * replace (_row_number + 1000000 as _row_number) "
        "from raw.outcomes where _superseded_by is null and year = 2020 limit 7"
    )
    scorecard = compute_scorecard(con, "run-1")
    stored = con.sql("select * from meta.scorecard where run_id = 'run-1'").df()
    assert len(stored) == len(scorecard)

    expected = independent_scorecard(con)
    period = scorecard["period"].astype(object).where(scorecard["period"].notna(), None)
    found = {
        (r.entity, r.grain, r.load_id, p, r.dimension, r.detail): (r.numerator, r.denominator)
        for r, p in zip(scorecard.itertuples(), period, strict=True)
    }
    missing = [k for k in expected if k not in found]
    assert missing == []
    wrong = {k: (found[k], v) for k, v in expected.items() if not np.allclose(found[k], v)}
    assert wrong == {}
    # the planted problems show
    resubmission = con.sql(
        "select load_id from meta.loads where source_file = 'outcomes_v2.csv'"
    ).fetchall()[0][0]
    sales = expected[("outcomes", "submission", resubmission, None, "completeness", "sales")]
    assert 0.75 < sales[0] / sales[1] < 0.82
    unique = expected[("outcomes", "entity", None, None, "uniqueness", None)]
    # the 7 loaded twice, and the file's duplicates the loader quarantined (all one load's)
    quarantined = con.sql(
        "select count(distinct (load_id, row_number)) from meta.quarantine "
        "where entity = 'outcomes' and rule = 'duplicate_key'"
    ).fetchall()[0][0]
    assert quarantined > 0 and unique[1] - unique[0] == 7 + quarantined
    # ... and the uniqueness expectation fails with them
    assert (
        "outcomes",
        "expect_compound_columns_to_be_unique",
        "firm_id, year",
    ) in failures(validate_warehouse(con, entities=["outcomes"]).results)
    # a second computation for the same run replaces the first
    compute_scorecard(con, "run-1")
    assert con.sql("select count(*) from meta.scorecard").fetchall()[0][0] == len(scorecard)
    table = format_scorecard(scorecard)
    assert table.row_count == len(ENTITIES)


def test_scorecard_covers_every_dimension_and_grain(con: duckdb.DuckDBPyConnection) -> None:
    scorecard = compute_scorecard(con, "run-2")
    assert set(scorecard["dimension"]) == {
        "completeness",
        "validity",
        "uniqueness",
        "timeliness",
        "consistency",
        "attrition",
        "response_rate",
    }
    assert set(scorecard["grain"]) == {"entity", "submission", "period"}
    shares = scorecard[scorecard["unit"] == "share"]["value"]
    assert shares.between(0, 1).all()
    overall = scorecard[(scorecard["grain"] == "entity") & scorecard["detail"].isna()]
    consistency = overall[overall["dimension"] == "consistency"].set_index("entity")["value"]
    assert (consistency == 1).all()  # the synthetic data are consistent across entities
    days = overall[overall["dimension"] == "timeliness"].set_index("entity")
    assert days.loc["outcomes", "period"] == 2024 and days.loc["outcomes", "value"] > 0


# --- Data Docs ----------------------------------------------------------------------------

LINK = re.compile(r'\b(?:src|href)\s*=\s*"([^"]*)"', re.I)


def test_data_docs_are_offline_and_render_styled(clean_run: tuple[pd.DataFrame, Path]) -> None:
    _, index = clean_run
    site = index.parent
    pages = sorted(site.rglob("*.html"))
    assert index in pages and len(pages) == 1 + 2 * 2 * len(ENTITIES)  # index, suites, results
    for page in pages:
        html = page.read_text(encoding="utf-8")
        links = LINK.findall(html)
        assert links, page
        remote = [link for link in links if re.match(r"^(https?:)?//", link)]
        assert remote == [], (page, remote)
        # every local file a page links to exists (anchors and javascript: aside)
        for link in links:
            target = link.split("#")[0].split("?")[0]
            if target and not target.startswith(("javascript:", "data:")):
                assert (page.parent / target).exists(), (page, link)
        assert "url(http" not in html.replace("'", "").replace('"', "")

    dom, log = render(index)
    assert 'data-offline-styles="applied"' in dom
    # the index table is drawn by datadocs.js: one row per validated batch, each linked
    assert dom.count('class="clickable-row"') == 2 * 2 * len(ENTITIES)  # results and suites
    errors = [line for line in log.splitlines() if ":CONSOLE" in line or "net::ERR" in line]
    assert errors == []

    shift_page = next(site.glob("validations/outcomes/run-clean/*/*.html"))
    dom, log = render(shift_page)
    assert 'data-offline-styles="applied"' in dom
    assert dom.count('class="mes-chart"') >= 12  # KL partitions, expected and observed
    errors = [line for line in log.splitlines() if ":CONSOLE" in line or "net::ERR" in line]
    assert errors == []


def test_the_report_counts_the_quarantine_of_the_current_loads_only(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """reports/queries/quarantine.sql (the data-quality page): a corrected re-submission
    of the same file supersedes the earlier load's quarantine, so its rows stop counting;
    a submission of another file (a new quarter's outcomes) supersedes none of it."""
    from reports.inputs import run_query

    def counts() -> dict[tuple[str, str], int]:
        return {(r.entity, r.rule): r.rows for r in run_query(con, "quarantine").itertuples()}

    before = counts()
    assert before[("outcomes", "total")] > 0
    name = con.sql("select source_file from meta.loads where entity = 'outcomes'").fetchall()
    assert len(name) == 1
    clean = clean_outcomes(base.data)
    resubmit_outcomes(con, clean.iloc[:-1], tmp_path / "outcomes_other.csv")
    assert counts() == before
    resubmit_outcomes(con, clean, tmp_path / name[0][0])
    after = counts()
    assert [k for k in after if k[0] == "outcomes"] == []
    assert after == {k: v for k, v in before.items() if k[0] != "outcomes"}
