"""Disclosure control of public editions (reports.disclosure, reports.site).

First the rules on small hand-made tables; then a scan of every public output (exported
tables and pages) of an edition built, through the real chain, on synthetic data planted
with cells under the thresholds: three beneficiaries moved to a region of their own, and
one beneficiary whose public cost dominates its year and groups. The checks recompute
firm counts and top-2 shares from the warehouse with their own SQL.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from reports.disclosure import (
    DisclosureRules,
    Measure,
    TableSpec,
    contributions,
    protect,
    row_key,
)

K, TOP, SHARE = 5, 2, 0.85
TINY_REGION = "Tiny Region"
TINY_PROGRAM = "SYN-CHL-PDP"
DOMINATED_PROGRAM = "SYN-BRA-SEBRAETEC"
COUNT_COLUMNS = {
    "firms_served",
    "firms_entering",
    "n_treated",
    "n_control",
    "beneficiaries",
    "n_matched",
}  # not the quarantine's "rows": rejected rows by rule are published in full (README)
RUN_ID = "planted-run"

# --- the rules on hand-made tables ---------------------------------------------------


def _spec(**kw: object) -> TableSpec:
    base = {
        "table_id": "t",
        "keys": ("region", "is_total"),
        "measures": (Measure("firms", "count", additive=True),),
        "total": "is_total",
    }
    return TableSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_threshold_rule_with_a_complement_in_the_same_total() -> None:
    frame = pd.DataFrame(
        {
            "region": ["A", "B", "C", "all"],
            "is_total": [False, False, False, True],
            "firms": [3, 12, 10, 25],
        }
    )
    done = protect(frame, _spec(), DisclosureRules(), apply=True)
    published = done.published().frame()
    # A is under k; C, the smallest other component, goes too, so 25 - 12 reveals nothing
    assert published["firms"].isna().tolist() == [True, False, True, False]
    assert dict(zip(done.log["row"], done.log["rule"], strict=True)) == {
        row_key(frame.iloc[0], ("region", "is_total")): "min_firms",
        row_key(frame.iloc[2], ("region", "is_total")): "secondary",
    }
    assert set(done.log.columns) == {"table", "row", "column", "rule", "applied"}  # no values


def test_zero_counts_are_not_sensitive_and_not_used_as_complements() -> None:
    frame = pd.DataFrame(
        {
            "region": ["A", "B", "C", "all"],
            "is_total": [False, False, False, True],
            "firms": [0, 2, 40, 42],
        }
    )
    published = protect(frame, _spec(), DisclosureRules(), apply=True).published().frame()
    assert published["firms"].isna().tolist() == [False, True, True, False]


def test_components_published_elsewhere_push_the_complement_to_the_total() -> None:
    frame = pd.DataFrame(
        {
            "region": ["A", "B", "all"],
            "is_total": [False, False, True],
            "firms": [3, 30, 33],
            "pinned": [True, True, False],
        }
    )
    published = (
        protect(frame, _spec(pinned="pinned"), DisclosureRules(), apply=True).published().frame()
    )
    assert published["firms"].isna().tolist() == [True, False, True]


def test_dominance_rule_on_sums_and_derived_ratios() -> None:
    firms = pd.DataFrame(
        {
            "region": ["A"] * 6 + ["B"] * 6,
            "firm_id": list("abcdef") + list("ghijkl"),
            "cost": [1000, 50, 10, 10, 10, 10, 10, 11, 12, 13, 14, 15],
        }
    )
    sums = contributions(firms, ["region"], "cost", top=TOP).rename(
        columns={"total": "cost", "firms": "n", "top": "top"}
    )
    assert sums.set_index("region").loc["A", "top"] == 1050
    sums["per_firm"] = sums["cost"] / sums["n"]
    spec = TableSpec(
        "t",
        keys=("region",),
        measures=(
            Measure("cost", "sum", firms="n", top="top"),
            Measure("per_firm", "derived", depends=("cost",)),
        ),
    )
    done = protect(sums, spec, DisclosureRules(), apply=True)
    published = done.published().frame().set_index("region")
    assert pd.isna(published.loc["A", "cost"]) and pd.isna(published.loc["A", "per_firm"])
    assert published.loc["B", "cost"] == 75
    assert sorted(done.log["rule"]) == ["derived", "dominance"]


def test_a_figure_shown_in_several_rows_is_hidden_in_all() -> None:
    frame = pd.DataFrame(
        {
            "dim": ["size", "size", "size", "sector", "sector", "sector"],
            "value": ["a", "b", "total", "x", "y", "total"],
            "is_total": [False, False, True, False, False, True],
            "firms": [2, 2, 4, 1, 3, 4],
            "same": ["s-a", "s-b", "total", "x", "y", "total"],
        }
    )
    spec = TableSpec(
        "t",
        keys=("dim", "value"),
        measures=(Measure("firms", "count", additive=True),),
        group=("dim",),
        total="is_total",
        same="same",
    )
    published = protect(frame, spec, DisclosureRules(), apply=True).published().frame()
    assert published["firms"].isna().all()


def test_internal_editions_flag_cells_but_publish_them() -> None:
    frame = pd.DataFrame(
        {"region": ["A", "B", "all"], "is_total": [False, False, True], "firms": [3, 30, 33]}
    )
    done = protect(frame, _spec(), DisclosureRules(), apply=False)
    table = done.published()
    assert table.frame()["firms"].tolist() == [3, 30, 33]
    assert table.suppressed["firms"].tolist() == [True, True, False]
    assert not done.log["applied"].any()


def test_thresholds_are_parameters() -> None:
    frame = pd.DataFrame(
        {"region": ["A", "B", "all"], "is_total": [False, False, True], "firms": [7, 30, 37]}
    )
    default = protect(frame, _spec(), DisclosureRules(), apply=True).published().frame()
    strict = protect(frame, _spec(), DisclosureRules(min_firms=10), apply=True).published().frame()
    assert default["firms"].notna().all()
    assert strict["firms"].isna().tolist() == [True, True, False]


# --- an edition built on planted data ---------------------------------------------------


def plant(data):  # type: ignore[no-untyped-def]
    """Three beneficiaries of one program move to a region of their own; one beneficiary
    of another gets 100 times its program's median cost."""
    firms = data.tables["firms"].copy()
    part = data.tables["participations"].copy()
    bad = data.planted_invalid
    bad_part = set(bad.loc[bad["entity"] == "participations", "row"])
    bad_firms = set(firms.iloc[list(bad.loc[bad["entity"] == "firms", "row"])]["firm_id"])
    valid = part.drop(index=[i for i in part.index if i in bad_part])
    spells = valid["firm_id"].value_counts()
    observed = data.tables["outcomes"]["firm_id"].value_counts()
    tiny = [
        f
        for f in valid.loc[valid["program_id"] == TINY_PROGRAM, "firm_id"]
        if spells[f] == 1 and f not in bad_firms and observed.get(f, 0) >= 5
    ][:3]
    firms.loc[firms["firm_id"].isin(tiny), "region"] = TINY_REGION
    mine = valid[valid["program_id"] == DOMINATED_PROGRAM]
    busy = mine["start_date"].dt.year.value_counts()
    year = int(busy[busy >= 6].index[0])
    row = mine[mine["start_date"].dt.year == year].index[0]
    part.loc[row, "public_cost"] = 100 * mine["public_cost"].median()
    return dataclasses.replace(data, tables={**data.tables, "firms": firms, "participations": part})


def build_planted_warehouse(root: Path, *, firms: int = 1500, seed: int = 7) -> Path:
    """Run the real chain (without Prefect) on planted synthetic data; return the
    warehouse file. The run is logged in meta.runs as `RUN_ID`."""
    from evaluation.synthetic import generate_demo
    from flows import steps
    from flows.config import load_config
    from flows.demo_files import write_demo_files
    from warehouse.db import open_warehouse
    from warehouse.runs import start_run

    data = plant(generate_demo(seed=seed, n_firms=firms))
    paths = write_demo_files(data, root / "data")
    settled = time.time() - 60  # the loader waits for files written moments ago
    for path in paths.values():
        os.utime(path, (settled, settled))
    config = {
        "title": "planted",
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "sources": {
            name: str(path.relative_to(root))
            for name, path in paths.items()
            if name not in ("true_effects", "true_att_simple", "planted_invalid")
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    cfg = load_config(root / "config.yaml")
    with open_warehouse(cfg.warehouse) as con:
        start_run(con, RUN_ID, "test", {"synthetic": True, "price_base_year": 2020})
    steps.ingest_sources(cfg, RUN_ID)
    steps.build_warehouse(cfg)
    steps.estimate(cfg, RUN_ID)
    return cfg.warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_planted_warehouse(tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def site(con: duckdb.DuckDBPyConnection, warehouse: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from reports.site import build_site

    out = tmp_path_factory.mktemp("site")
    docs = warehouse.parent / "data_docs"  # stand-in Data Docs where the site looks for them
    docs.mkdir(exist_ok=True)
    (docs / "index.html").write_text("<html><body>expectations</body></html>", encoding="utf-8")
    public = build_site(con, out, period="2024", lang="en", audience="public", run_id=RUN_ID)
    internal = build_site(con, out, period="2024", lang="en", audience="internal", run_id=RUN_ID)
    return out, public, internal


def _csv(edition: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(edition / "tables" / f"{table}.csv", dtype=str, keep_default_na=False)


def _firm_sums(con: duckdb.DuckDBPyConnection, by: str) -> pd.DataFrame:
    """Public cost per group from the warehouse: total, firms and top-2 share."""
    return con.sql(
        f"""
        with spells as (
            select s.program_id, s.firm_id, year(s.start_date) as year, s.public_cost_usd,
                coalesce(p.region, 'unknown') as region,
                coalesce(p.sector, 'unknown') as sector,
                coalesce(p.size_class, 'unknown') as size_class
            from staging.stg_participations s
            left join (select distinct program_id, firm_id, region, sector, size_class
                       from marts.mart_evaluation_panel where cohort > 0) p
                using (program_id, firm_id)
            where s.start_date <= date '2024-12-31'
        ),
        per_firm as (
            select program_id, {by} as value, firm_id, sum(public_cost_usd) as cost
            from spells group by all
        ),
        ranked as (
            select *, row_number() over (partition by program_id, value order by cost desc) as r
            from per_firm
        )
        select program_id, cast(value as varchar) as value, count(*) as firms,
            sum(cost) as total, sum(cost) filter (where r <= {TOP}) as top2
        from ranked group by all
        """
    ).df()


def test_no_public_table_has_a_count_under_k(site) -> None:  # type: ignore[no-untyped-def]
    _, public, _ = site
    scanned = 0
    for path in sorted((public.path / "tables").glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in COUNT_COLUMNS & set(frame.columns):
            values = pd.to_numeric(frame[column].replace({"x": None, "": None}), errors="coerce")
            small = values[(values > 0) & (values < K)]
            assert small.empty, f"{path.name}.{column}: {small.tolist()}"
            scanned += int(values.notna().sum())
        for path_json in [path.with_suffix(".json")]:
            rows = json.loads(path_json.read_text(encoding="utf-8"))["rows"]
            for row in rows:
                for column in COUNT_COLUMNS & row.keys():
                    v = row[column]
                    assert v is None or v == 0 or v >= K, f"{path_json.name}.{column}: {v}"
    assert scanned > 100


def test_the_planted_small_region_is_suppressed_everywhere(site) -> None:  # type: ignore[no-untyped-def]
    _, public, internal = site
    group = _csv(public.path, "reach_by_group")
    tiny = group[(group["program_id"] == TINY_PROGRAM) & (group["value"] == TINY_REGION)]
    assert len(tiny) == 1
    assert (
        tiny[["firms_served", "public_cost_usd", "cost_per_firm_usd"]].iloc[0].tolist() == ["x"] * 3
    )
    shown = _csv(internal.path, "reach_by_group")
    assert shown.loc[shown["value"] == TINY_REGION, "firms_served"].tolist() == ["3"]
    # the page row shows the symbol, and the chart has no bar for it
    page = (public.path / f"program-{TINY_PROGRAM.lower()}.html").read_text(encoding="utf-8")
    # the row of the reach table (the effects by group, above it, have one too)
    reach = page.split('data-table="reach_by_group"')[1].split("</table>")[0]
    row = re.search(r'<tr data-key="[^"]*Tiny Region[^"]*".*?</tr>', reach, re.S)
    assert row is not None
    cells = re.findall(r'<td data-col="(\w+)"[^>]*>([^<]*)</td>', row.group(0))
    assert dict(cells)["firms_served"] == "x" and dict(cells)["public_cost_usd"] == "x"
    for figure in _figures(page):
        for trace in figure[0]:
            labels = trace.get("y") or []
            if isinstance(labels, list) and TINY_REGION in labels:
                assert np.isnan(_array(trace["x"])[labels.index(TINY_REGION)])


def test_sums_dominated_by_two_firms_are_suppressed(site, con) -> None:  # type: ignore[no-untyped-def]
    _, public, _ = site
    by_year = _csv(public.path, "reach_by_year")
    by_year = by_year[by_year["is_total"] == "False"]
    truth = _firm_sums(con, "year").set_index(["program_id", "value"])
    dominated = 0
    for row in by_year.itertuples():
        key = (row.program_id, str(row.year))
        if key not in truth.index or row.public_cost_usd == "x":
            dominated += int(
                key in truth.index and truth.loc[key, "top2"] > SHARE * truth.loc[key, "total"]
            )
            continue
        cell = truth.loc[key]
        assert cell["firms"] >= K and cell["top2"] <= SHARE * cell["total"], key
    assert dominated >= 1  # the planted year
    group = _csv(public.path, "reach_by_group")
    group = group[group["is_total"] == "False"]
    for dimension in ("region", "sector", "size_class"):
        truth = _firm_sums(con, dimension).set_index(["program_id", "value"])
        for row in group[group["dimension"] == dimension].itertuples():
            if row.public_cost_usd == "x":
                continue
            cell = truth.loc[(row.program_id, row.value)]
            assert cell["firms"] >= K and cell["top2"] <= SHARE * cell["total"], (dimension, row)
    # the dominant firm's cost, and its year's total, appear in no public table or chart
    biggest = con.sql(
        "select max(public_cost_usd) from staging.stg_participations where program_id = $p",
        params={"p": DOMINATED_PROGRAM},
    ).fetchall()[0][0]
    secrets = [float(biggest), truth_year_total(con)]
    for number in _published_numbers(public.path):
        assert not any(np.isclose(number, s, rtol=1e-6) for s in secrets), number
    for page in public.pages:
        text = page.read_text(encoding="utf-8")
        for s in secrets:
            assert not re.search(rf"(?<![\d,.]){re.escape(f'{s:,.0f}')}(?![\d,])", text)


def truth_year_total(con: duckdb.DuckDBPyConnection) -> float:
    """The public cost of the year in which the planted firm entered its program."""
    rows = con.sql(
        """
        with big as (select program_id, year(start_date) as y from staging.stg_participations
                     where program_id = $p order by public_cost_usd desc limit 1)
        select sum(public_cost_usd) from staging.stg_participations s join big
            on s.program_id = big.program_id and year(s.start_date) = big.y
        """,
        params={"p": DOMINATED_PROGRAM},
    ).fetchall()
    return float(rows[0][0])


def test_every_total_keeps_at_least_two_unknowns(site) -> None:  # type: ignore[no-untyped-def]
    _, public, _ = site
    relations = {
        "reach_by_year": (["program_id"], ["firms_entering", "public_cost_usd"]),
        "reach_by_group": (["program_id", "dimension"], ["firms_served", "public_cost_usd"]),
        "portfolio": ([], ["firms_served", "public_cost_usd"]),
        "heterogeneity": (["program_id", "outcome", "dimension"], ["effect", "n_treated"]),
        "quarantine": (["entity"], ["rows"]),
    }
    checked = 0
    for table, (group, columns) in relations.items():
        frame = _csv(public.path, table)
        groups = frame.groupby(group) if group else [((), frame)]
        for key, rows in groups:
            for column in columns:
                suppressed = int((rows[column] == "x").sum())
                unknown = int(rows[column].isin(["x", ""]).sum())
                assert suppressed == 0 or unknown >= 2, (table, key, column)
                checked += suppressed > 0
    assert checked >= 3


def test_effects_rest_on_enough_firms(site, con) -> None:  # type: ignore[no-untyped-def]
    _, public, _ = site
    het = _csv(public.path, "heterogeneity")
    counts = con.sql(
        f"""select program_id, subgroup, subgroup_value, outcome, n_treated, n_control
            from results.estimates where run_id = '{RUN_ID}' and subgroup <> 'all'"""
    ).df()
    counts = counts.set_index(["program_id", "subgroup", "subgroup_value", "outcome"])
    published = het[(het["effect"] != "x") & (het["effect"] != "") & (het["dimension"] != "cohort")]
    published = published[published["is_total"] == "False"]
    assert len(published)
    for row in published.itertuples():
        n = counts.loc[(row.program_id, row.dimension, row.value, row.outcome)]
        assert n["n_treated"] >= K and n["n_control"] >= K
    cohorts = con.sql(
        f"""select program_id, outcome, cohort, max(n_treated) as n from results.att_gt
            where run_id = '{RUN_ID}' and event_time >= 0 and att is not null group by all"""
    ).df()
    small = cohorts[cohorts["n"] < K]
    for row in small.itertuples():
        cell = het[
            (het["program_id"] == row.program_id)
            & (het["outcome"] == row.outcome)
            & (het["dimension"] == "cohort")
            & (het["value"] == str(row.cohort))
        ]
        assert cell["effect"].tolist() in ([], ["x"], [""])


def test_pages_show_no_count_under_k(site) -> None:  # type: ignore[no-untyped-def]
    _, public, _ = site
    seen = 0
    for page in public.pages:
        for column, text in re.findall(
            r'<td data-col="(\w+)"[^>]*>([^<]*)</td>', page.read_text("utf-8")
        ):
            if column in COUNT_COLUMNS and text not in ("x", "–"):
                value = float(text.replace(",", ""))
                assert value == 0 or value >= K, (page.name, column, text)
                seen += 1
    assert seen > 50


def test_the_suppression_log_names_each_cell_and_rule_but_no_value(site) -> None:  # type: ignore[no-untyped-def]
    _, public, internal = site
    log = pd.read_csv(public.path / "suppression_log.csv", dtype=str, keep_default_na=False)
    assert set(log["rule"]) <= {"min_firms", "dominance", "secondary", "derived"}
    assert {"min_firms", "dominance", "secondary", "derived"} <= set(log["rule"])
    assert "value" not in log.columns
    assert len(log) == len(public.suppression_log)
    logged = set(zip(log["table"], log["row"], log["column"], strict=True))
    group = _csv(public.path, "reach_by_group")
    for i, row in group.iterrows():
        key = row_key(
            pd.Series(
                {
                    "program_id": row["program_id"],
                    "dimension": row["dimension"],
                    "value": row["value"],
                    "is_total": row["is_total"] == "True",
                }
            ),
            ("program_id", "dimension", "value", "is_total"),
        )
        for column in ("firms_served", "public_cost_usd"):
            if row[column] == "x":
                assert ("reach_by_group", key, column) in logged, (i, column)
    # the internal edition logs the same cells as would-be suppressions, applied false
    internal_log = pd.read_csv(internal.path / "suppression_log.csv", dtype=str)
    assert len(internal_log) == len(log) and set(internal_log["applied"]) == {"False"}


def test_exports_carry_the_same_suppression(site) -> None:  # type: ignore[no-untyped-def]
    _, public, _ = site
    book = pd.read_excel(public.path / "tables" / "tables.xlsx", sheet_name=None, dtype=str)
    for path in sorted((public.path / "tables").glob("*.csv")):
        csv = pd.read_csv(path, dtype=str, keep_default_na=False)
        doc = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        sheet = book[path.stem[:31]].fillna("")
        for column in csv.columns:
            in_csv = csv.index[csv[column] == "x"].tolist()
            in_json = [i for i, r in enumerate(doc["rows"]) if column in r.get("_suppressed", [])]
            in_xlsx = sheet.index[sheet[column] == "x"].tolist()
            assert in_csv == in_json == in_xlsx, (path.name, column)


def test_internal_edition_shows_everything_and_is_marked_on_every_page(site) -> None:  # type: ignore[no-untyped-def]
    _, public, internal = site
    for page in internal.pages:
        assert "not for publication" in page.read_text(encoding="utf-8"), page.name
    for page in public.pages:
        assert "not for publication" not in page.read_text(encoding="utf-8")
    for path in (internal.path / "tables").glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert not (frame == "x").any().any(), path.name


def test_editions_are_immutable_and_indexed(site) -> None:  # type: ignore[no-untyped-def]
    out, public, internal = site
    index = json.loads((out / "editions.json").read_text(encoding="utf-8"))["editions"]
    ids = [e["edition_id"] for e in index]
    assert ids[:2] == [public.edition_id, internal.edition_id]
    assert len(set(ids)) == len(ids)
    for entry in index:
        assert (out / entry["path"] / "index.html").exists()
        assert entry["code_version"] and entry["data_version"] and entry["built_at"]
    # a second public edition of a period restates the first; internal ones restate internal
    assert index[0]["previous"] is None and index[1]["previous"] is None
    for page in public.pages:
        footer = page.read_text(encoding="utf-8").split("<footer>")[1]
        assert public.edition_id in footer and public.data_version in footer
        assert public.code_version in footer


def test_quality_page_without_a_scorecard_says_so(site) -> None:  # type: ignore[no-untyped-def]
    _, public, _ = site
    page = (public.path / "quality.html").read_text("utf-8")
    assert "scorecard is not yet available" in page
    assert 'data-table="quarantine"' in page


def test_data_docs_are_linked_in_internal_editions_only(site) -> None:  # type: ignore[no-untyped-def]
    _, public, internal = site
    assert (internal.path / "data_docs" / "index.html").exists()
    assert 'href="data_docs/index.html"' in (internal.path / "quality.html").read_text("utf-8")
    assert not (public.path / "data_docs").exists()
    page = (public.path / "quality.html").read_text("utf-8")
    assert "data_docs/" not in page and "internal editions only" in page


def test_stricter_thresholds_restate_the_period(site, con) -> None:  # type: ignore[no-untyped-def]
    from reports.site import build_site

    out, public, _ = site
    strict = build_site(
        con,
        out,
        period="2024",
        lang="en",
        audience="public",
        run_id=RUN_ID,
        disclosure=DisclosureRules(min_firms=10),
        images=False,
    )
    assert strict.previous_edition == public.edition_id  # the last public edition of 2024
    changes = strict.restatement
    assert changes is not None and (changes["change"] == "newly_suppressed").sum() > 0
    assert set(changes["change"]) <= {"newly_suppressed", "revised", "newly_published"}
    counts = _csv(strict.path, "reach_by_year")["firms_entering"]
    values = pd.to_numeric(counts.replace({"x": None}), errors="coerce")
    assert not ((values > 0) & (values < 10)).any()
    page = (strict.path / "changes.html").read_text(encoding="utf-8")
    assert public.edition_id in page and "now suppressed" in page
    index = json.loads((out / "editions.json").read_text(encoding="utf-8"))["editions"]
    assert [e["edition_id"] for e in index][-1] == strict.edition_id
    assert index[-1]["previous"] == public.edition_id and index[-1]["changes"] == len(changes)


def test_quarterly_edition_counts_starts_up_to_the_quarter(site, con) -> None:  # type: ignore[no-untyped-def]
    from reports.site import build_site

    out, _, _ = site
    quarter = build_site(
        con, out, period="2016Q2", lang="en", audience="public", run_id=RUN_ID, images=False
    )
    assert "effects_by_horizon" not in quarter.tables and "heterogeneity" not in quarter.tables
    portfolio = quarter.tables["portfolio"]
    served = con.sql(
        """select program_id, count(distinct firm_id) as n from staging.stg_participations
           where start_date <= date '2016-06-30' group by all"""
    ).df()
    for row in served.itertuples():
        shown = portfolio.loc[portfolio["program_id"] == row.program_id, "firms_served"]
        if len(shown) and pd.notna(shown.iloc[0]):
            assert int(shown.iloc[0]) == row.n
    years = quarter.tables["reach_by_year"]["year"].dropna()
    assert int(years.max()) == 2016
    assert "Quarterly monitoring edition" in quarter.index.read_text(encoding="utf-8")


# --- helpers ------------------------------------------------------------------------------


def _figures(page: str) -> list[tuple[list[dict], dict]]:
    """(data, layout) of every plotly chart of a page."""
    out = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page):
        data, end = decoder.raw_decode(page, match.end())
        rest = page[end:].lstrip()[1:].lstrip()
        layout, _ = decoder.raw_decode(rest)
        out.append((data, layout))
    return out


def _array(value: object) -> np.ndarray:
    """A chart's data array: plotly writes numeric arrays as typed, base64-encoded buffers."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=float)


def _numbers(value: object) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, dict) and "bdata" in value:
        return [float(v) for v in _array(value)]
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    return []


def _published_numbers(edition: Path) -> list[float]:
    """Every number in the edition's JSON tables and in the data of its charts."""
    numbers: list[float] = []
    for path in (edition / "tables").glob("*.json"):
        numbers += _numbers(json.loads(path.read_text(encoding="utf-8"))["rows"])
    for page in edition.glob("*.html"):
        for data, _layout in _figures(page.read_text(encoding="utf-8")):
            numbers += _numbers(data)
    return numbers
