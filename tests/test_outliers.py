"""Outliers: the wage-per-worker rule quarantines a slip but flags a consistent firm, the
outlier page lists the flags with their follow-up (internal editions), and public editions
publish the quarantine counts in full.

One small synthetic warehouse (the demo generator's entities; outcomes replaced by a file
with two planted wage levels) per module; each test works on a copy.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evaluation.synthetic import generate_demo
from flows.demo_files import write_demo_files
from reports.site import Audience, build_site
from schemas.contract import ENTITIES
from warehouse.db import open_warehouse
from warehouse.load import load_file
from warehouse.models import build_models

KEY = b"a test key of sufficient length"
VARIABLES = {"price_base_year": 2020, "outlier_z": 5.0}
FACTOR = 200  # the planted wage bills: 200 times the firm's own


@dataclass(frozen=True)
class Base:
    path: Path  # warehouse with every entity but outcomes
    outcomes: Path  # the outcomes file with the planted wage levels
    consistent_rows: list[int]  # row numbers (header = 1) of the firm high every year
    slip_row: int  # row number of the one year another firm is that high


def _planted(root: Path) -> tuple[Path, list[int], int, dict[str, Path]]:
    data = generate_demo(n_firms=500)
    files = write_demo_files(data, root / "files")
    outcomes = data.tables["outcomes"]
    bad = data.planted_invalid.query("entity == 'outcomes'")["row"].to_numpy()
    frame = outcomes.drop(index=outcomes.index[bad]).reset_index(drop=True)
    country = data.tables["firms"].set_index("firm_id")["country"]
    frame["country"] = frame["firm_id"].map(country)
    per_worker = frame["wage_bill"] / frame["employment"]
    ratio = per_worker / per_worker.groupby([frame["country"], frame["year"]]).transform("median")
    # two firms near their peers' median every year (so that x200 is far beyond 20x)
    usable = ratio.between(0.5, 2).groupby(frame["firm_id"]).transform("all")
    years = frame.groupby("firm_id")["year"].transform("size")
    firms = frame.loc[usable & (years >= 4), "firm_id"].drop_duplicates().to_numpy()[:2]
    consistent = frame.index[frame["firm_id"] == firms[0]]
    slip = frame.index[frame["firm_id"] == firms[1]][1]
    frame.loc[consistent, "wage_bill"] *= FACTOR
    frame.loc[slip, "wage_bill"] *= FACTOR
    path = root / "outcomes_planted" / "outcomes.csv"
    path.parent.mkdir()
    frame.drop(columns="country").to_csv(path, index=False)
    return path, [int(i) + 2 for i in consistent], int(slip) + 2, files


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("outliers")
    outcomes, consistent, slip, files = _planted(root)
    with open_warehouse(root / "warehouse.duckdb") as con:
        for entity in ENTITIES:
            if entity != "outcomes":
                load_file(con, files[entity], entity, key=KEY, engine="pandas")
    return Base(root / "warehouse.duckdb", outcomes, consistent, slip)


@pytest.fixture
def con(base: Base, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(base.path, tmp_path / "warehouse.duckdb")
    with open_warehouse(tmp_path / "warehouse.duckdb") as connection:
        yield connection


@pytest.fixture
def modelled(base: Base, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The copy with the planted outcomes loaded and the models built."""
    load_file(con, base.outcomes, "outcomes", key=KEY, engine="pandas")
    build_models(con, VARIABLES)
    return con


def wage_quarantine(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.sql(
        "select row_number from meta.quarantine "
        "where rule = 'implausible_wage_per_worker' order by row_number"
    ).fetchall()
    return [int(r[0]) for r in rows]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_slip_is_quarantined_and_a_consistent_firm_is_kept(
    base: Base, con: duckdb.DuckDBPyConnection, engine: str
) -> None:
    report = load_file(con, base.outcomes, "outcomes", key=KEY, engine=engine)
    assert not report.skipped
    # the one year far from the firm's own other years goes; the firm high every year stays
    assert wage_quarantine(con) == [base.slip_row]
    loaded = {
        int(r[0])
        for r in con.sql(
            "select _row_number from raw.outcomes where _load_id = $id",
            params={"id": report.load_id},
        ).fetchall()
    }
    assert set(base.consistent_rows) <= loaded
    assert base.slip_row not in loaded


def test_the_consistent_firm_is_flagged_as_an_outlier(
    base: Base, modelled: duckdb.DuckDBPyConnection
) -> None:
    flags = modelled.sql("select * from marts.mart_outlier_flags where flagged").df()
    level = flags[flags["rule"] == "wage_per_worker_level"]
    assert level["firm_id"].nunique() == 1
    assert len(level) == len(base.consistent_rows)  # every year of that firm
    assert (level["severity"] > 20).all() and (level["outcome"] == "wage_per_worker").all()
    # the growth flags are still there, with their robust z as severity
    growth = flags[flags["rule"] == "growth"]
    assert len(growth) and (growth["severity"] == growth["robust_z"].abs()).all()


def test_growth_scores_equal_pandas(modelled: duckdb.DuckDBPyConnection) -> None:
    """The growth rule's robust z-scores (SQL window aggregates in DuckDB) equal the same
    statistic computed in pandas from the evaluation panel's firm-years, row for row."""
    con = modelled
    panel = con.sql(
        "select distinct firm_id, year, sector, size_class, log_sales, log_employment "
        "from marts.mart_evaluation_panel"
    ).df()
    panel = panel.sort_values(["firm_id", "year"])
    frames = []
    for outcome in ("log_sales", "log_employment"):
        by_firm = panel.groupby("firm_id")
        consecutive = by_firm["year"].diff() == 1
        growth = panel[outcome] - by_firm[outcome].shift()
        frame = panel[["firm_id", "year", "sector", "size_class"]].assign(
            outcome=outcome, growth=growth.where(consecutive)
        )
        frames.append(frame.dropna(subset=["growth"]))
    expected = pd.concat(frames, ignore_index=True)
    cell = expected.groupby(["sector", "size_class", "year", "outcome"])["growth"]
    median = cell.transform("median")
    mad = (
        (expected["growth"] - median)
        .abs()
        .groupby([expected[c] for c in ("sector", "size_class", "year", "outcome")])
        .transform("median")
    )
    expected["robust_z"] = (expected["growth"] - median) / (1.4826 * mad).replace(0, float("nan"))
    stored = con.sql(
        "select firm_id, year, outcome, growth, robust_z, flagged "
        "from marts.mart_outlier_flags where rule = 'growth'"
    ).df()
    both = expected.merge(stored, on=["firm_id", "year", "outcome"], suffixes=("", "_sql"))
    assert len(both) == len(expected) == len(stored) > 1000
    # same arithmetic on the same doubles; the medians of an even count average two values
    pd.testing.assert_series_equal(
        both["growth_sql"], both["growth"], check_names=False, rtol=0, atol=1e-12
    )
    pd.testing.assert_series_equal(
        both["robust_z_sql"], both["robust_z"], check_names=False, rtol=0, atol=1e-9
    )
    z = both["robust_z"].abs()
    assert (both["flagged"].fillna(False) == (z > VARIABLES["outlier_z"])).all()


def _edition(con: duckdb.DuckDBPyConnection, out: Path, audience: Audience):  # type: ignore[no-untyped-def]
    return build_site(
        con, out, period="2024Q3", audience=audience, run_id="run-outliers", images=False
    )


def test_internal_edition_lists_outliers_with_their_review_status(
    modelled: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = modelled
    level = con.sql(
        "select firm_id, year from marts.mart_outlier_flags "
        "where rule = 'wage_per_worker_level' order by year"
    ).fetchall()
    firm, year = level[0]
    # two reviews of one flag: the latest stands
    con.execute(
        "insert into meta.outlier_reviews values "
        "(?, ?, 'wage_per_worker', 'checked', 'ana', null, 'asked the agency', 'r1', "
        "timestamp '2025-01-01'), "
        "(?, ?, 'wage_per_worker', 'confirmed', 'ana', date '2025-02-01', "
        "'a holding: managers only', 'r2', timestamp '2025-02-01')",
        [firm, year, firm, year],
    )
    internal = _edition(con, tmp_path / "site", "internal")
    page = (internal.path / "outliers.html").read_text(encoding="utf-8")
    assert 'data-section="outliers-wage_per_worker_level"' in page
    assert 'data-section="outliers-growth"' in page
    row = re.search(rf'<tr data-key="[^"]*{firm}[^"]*{year}[^"]*">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "confirmed" in row.group(1) and "a holding: managers only" in row.group(1)
    assert "checked" not in row.group(1)
    # the other years of the firm have not been reviewed: open
    cells = re.findall(rf'data-col="firm_id"[^>]*>{firm}<', page)
    assert len(cells) == len(level) and "open" in page
    # ranked by severity within each rule
    section = page.split('data-section="outliers-growth"')[1]
    severities = [
        abs(float(v.replace("+", "").replace("−", "-").replace(",", "")))
        for v in re.findall(r'data-col="severity" class="num">([^<]+)<', section)
    ]
    assert severities == sorted(severities, reverse=True) and severities
    quality = (internal.path / "quality.html").read_text(encoding="utf-8")
    assert 'href="outliers.html"' in quality

    public = _edition(con, tmp_path / "site", "public")
    assert not (public.path / "outliers.html").exists()
    assert "outliers.html" not in (public.path / "quality.html").read_text(encoding="utf-8")


def test_public_edition_publishes_the_quarantine_counts_in_full(
    modelled: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = modelled
    truth = con.sql(
        "select entity, rule, count(distinct (load_id, row_number)) as rows "
        "from meta.quarantine group by all"
    ).df()
    assert (truth["rows"] < 5).any()  # counts a firm-level threshold would hide
    public = _edition(con, tmp_path / "site", "public")
    published = pd.read_csv(public.path / "tables" / "quarantine.csv", dtype=str)
    by_rule = published[published["rule"] != "total"].merge(truth, on=["entity", "rule"])
    assert len(by_rule) == len(truth)
    assert (by_rule["rows_x"].astype(int) == by_rule["rows_y"]).all()
    log = public.suppression_log
    assert not (log["table"] == "quarantine").any()
    page = (public.path / "quality.html").read_text(encoding="utf-8")
    quarantine = page.split('data-table="quarantine"')[1].split("</table>")[0]
    assert 'class="num sup"' not in quarantine
