"""End to end: `mes-eval demo` on a small synthetic portfolio, through the real CLI,
Prefect, DuckDB file and a real browser.

What it must show: every input row is loaded or quarantined (and exactly the planted bad
rows are quarantined), the estimates recover the planted effects, and the report renders
offline.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from .browser import render

pytestmark = pytest.mark.e2e

MES_EVAL = str(Path(sys.executable).with_name("mes-eval"))
# the `demo` fixture (tests/conftest.py): one `mes-eval demo` run for the whole session


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MES_EVAL, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def warehouse(demo: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(demo / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def count_rows(path: Path) -> int:
    """Data rows in an input file, counted independently of the loader."""
    if path.suffix == ".xlsx":
        return len(pd.read_excel(path, dtype=str))
    return len(pd.read_csv(path, dtype=str, keep_default_na=False))


def test_every_input_row_is_loaded_or_quarantined(
    demo: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    config = yaml.safe_load((demo / "config.yaml").read_text())
    loads = warehouse.sql("select * from meta.loads").df().set_index("entity")
    assert set(loads.index) == set(config["sources"])
    for entity, source in config["sources"].items():
        load = loads.loc[entity]
        in_raw = warehouse.execute(f"select count(*) from raw.{entity}").fetchall()[0][0]
        quarantined = warehouse.execute(
            "select count(distinct row_number) from meta.quarantine where entity = ?", [entity]
        ).fetchall()[0][0]
        assert load["rows_in"] == count_rows(demo / source), entity
        assert load["rows_in"] == in_raw + quarantined, entity
        assert load["rows_loaded"] == in_raw and load["rows_quarantined"] == quarantined


def test_exactly_the_planted_bad_rows_are_quarantined(
    demo: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    planted = pd.read_csv(demo / "data" / "planted_invalid.csv")
    assert len(planted) > 50 and planted["kind"].nunique() >= 6
    expected = {
        (e, int(r) + 2) for e, r in zip(planted["entity"], planted["row"], strict=True)
    }  # header is row 1
    quarantined = set(
        warehouse.sql("select distinct entity, row_number from meta.quarantine").fetchall()
    )
    assert quarantined == expected
    # and each under the rule of the kind that was planted
    rules = warehouse.sql("select entity, row_number, rule from meta.quarantine").df()
    merged = planted.assign(row_number=planted["row"] + 2).merge(rules, on=["entity", "row_number"])
    kind_to_rule = {
        "not_a_number": "not_a_number",
        "negative": "out_of_range",
        "duplicate_key": "duplicate_key",
        "unknown_firm": "unknown_firm",
        "unknown_program": "unknown_program",
        "end_before_start": "end_before_start",
        "bad_country": "bad_format",
    }
    assert (merged["kind"].map(kind_to_rule) == merged["rule"]).all(), merged[
        merged["kind"].map(kind_to_rule) != merged["rule"]
    ]


def test_estimates_recover_the_planted_effects(
    demo: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    truth = pd.read_csv(demo / "data" / "true_att_simple.csv")
    estimates = warehouse.sql(
        "select program_id, outcome, estimate, std_error from results.estimates "
        "where aggregation = 'simple' and subgroup = 'all' and estimator = 'callaway_santanna_2021' "
        "and outcome in ('log_sales', 'log_employment')"
    ).df()
    both = truth.merge(estimates, on=["program_id", "outcome"], validate="one_to_one")
    assert len(both) == 6  # three programs x two outcomes
    # Tolerance: 4 standard errors. A correct estimator misses by more with probability
    # 6e-5 per estimate; the data are seeded, so the test is deterministic. The standard
    # errors must be small enough (< 0.05) for this to be a real check.
    assert (both["std_error"] < 0.05).all(), both
    assert ((both["estimate"] - both["att"]).abs() <= 4 * both["std_error"]).all(), both


def test_a_naive_comparison_would_have_been_wrong(warehouse: duckdb.DuckDBPyConnection) -> None:
    # beneficiaries are selected on size: comparing their post-entry levels with the
    # comparison group overstates the effect by far more than the DID estimate's error
    naive = warehouse.sql(
        """
        select program_id,
               avg(log_sales) filter (where cohort > 0 and year >= cohort)
               - avg(log_sales) filter (where cohort = 0) as gap
        from marts.mart_evaluation_panel group by program_id
        """
    ).df()
    assert (naive["gap"] > 0.3).all(), naive


def test_the_run_is_logged_with_its_data_version(warehouse: duckdb.DuckDBPyConnection) -> None:
    runs = warehouse.sql("select run_id, status from meta.runs").fetchall()
    assert len(runs) == 1 and runs[0][1] == "completed"
    # the time the user waited (Prefect's start-up included) and the flow's own part
    ((flow, wall),) = warehouse.sql(
        "select duration_seconds, wall_seconds from meta.runs"
    ).fetchall()
    assert 0 < flow < wall
    versions = warehouse.sql(
        "select distinct run_id, data_version from results.estimates"
    ).fetchall()
    assert versions and versions[0][0] == runs[0][0] and len(versions[0][1]) == 16


def test_the_demo_publishes_three_offline_editions_that_render(demo: Path) -> None:
    import json

    report = demo / "report"
    editions = json.loads((report / "editions.json").read_text(encoding="utf-8"))
    listed = editions["editions"] if isinstance(editions, dict) else editions
    assert sorted(e["lang"] for e in listed) == ["en", "es", "pt"]
    # one shared plotly.js for every page of every edition
    assert len(list((report / "assets").glob("plotly*.js"))) == 1
    english = next(report.glob("2024-public-en-*"))
    pages = sorted(english.glob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "Synthetic demo data" in html, page.name
        # nothing is fetched from another host: every src and href is local or an anchor
        links = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert all(not re.match(r"^(https?:)?//", link) for link in links), (page.name, links)
    dom, log = render(english / "index.html")
    charts = dom.count('class="plotly-graph-div')
    assert charts >= 2
    # each chart that plotly draws gets an svg of class main-svg
    assert dom.count('class="main-svg"') >= charts
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []
    assert list((english / "png").glob("*.png")), "slide-deck PNGs of the key charts"


def test_a_misspelt_column_is_a_one_line_error(demo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = yaml.safe_load((demo / "config.yaml").read_text())
    for entity, source in config["sources"].items():
        target = data / Path(source).name
        target.write_bytes((demo / source).read_bytes())
        config["sources"][entity] = f"data/{target.name}"
    outcomes = data / "outcomes.csv"
    text = outcomes.read_text(encoding="utf-8")
    outcomes.write_text(text.replace("employment", "employmnet", 1), encoding="utf-8")
    config.update(warehouse="w.duckdb", out_dir="report", truth_dir=None)
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(config))
    done = run_cli("run", "--config", str(tmp_path / "agency.yaml"))
    assert done.returncode == 2  # an input error
    assert done.stderr.strip().splitlines() == [
        "error: outcomes.csv: column 'employmnet' is not in the contract of outcomes: misspelt "
        "'employment'? (an optional column: leave it out, or name it 'employment')"
    ]
    assert "Traceback" not in done.stdout + done.stderr
    # found from the header before the run started (flows.preflight): nothing was written
    assert not (tmp_path / "w.duckdb").exists()


def _tokens(text: str) -> set[str]:
    return set(re.split(r"[\s,;=|\"'(){}\[\]<>]+", text))


def test_no_raw_identifier_reaches_the_warehouse_or_any_output(
    demo: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    from flows.prefect_env import home

    data = demo / "data"
    raw = set(pd.read_csv(data / "firms.csv", dtype=str)["firm_id"].dropna())
    raw |= set(pd.read_csv(data / "outcomes.csv", dtype=str)["firm_id"].dropna())
    raw |= set(pd.read_excel(data / "participations.xlsx", dtype=str)["firm_id"].dropna())
    # also the forms without punctuation, as a careless loader might store them
    raw |= {re.sub(r"[^0-9A-Za-z]", "", r) for r in raw}
    assert len(raw) > 3000
    # every text value of every table, by SQL: compressed storage cannot hide one
    columns = warehouse.sql(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'"
    ).fetchall()
    assert len(columns) > 50
    for schema, table, column in columns:
        values = warehouse.execute(
            f'select distinct "{column}" from "{schema}"."{table}"'
        ).fetchall()
        text = " ".join(str(v[0]) for v in values if v[0] is not None)
        leaked = _tokens(text) & raw
        assert not leaked, f"{schema}.{table}.{column}: {sorted(leaked)[:3]}"
    # and the bytes of every file the run wrote: warehouse, report, config, Prefect's state
    outputs = [p for p in demo.rglob("*") if p.is_file() and data not in p.parents]
    outputs += [p for p in home().rglob("*") if p.is_file()]
    assert any(p.name == "index.html" for p in outputs) and any(
        p.suffix == ".duckdb" for p in outputs
    )
    for path in outputs:
        leaked = _tokens(path.read_bytes().decode("latin-1")) & raw
        assert not leaked, f"{path}: {sorted(leaked)[:3]}"


def test_a_corrections_file_resolves_the_demo_quarantine(demo: Path, tmp_path: Path) -> None:
    """Keep one of a duplicated pair, correct a negative number, drop a row that is not a
    number: the next run loads them, the changelog shows who and why, counts reconcile."""
    import shutil

    from schemas.decisions import DROPPED

    for name in ("data", "warehouse.duckdb"):
        copy = shutil.copytree if (demo / name).is_dir() else shutil.copyfile
        copy(demo / name, tmp_path / name)
    config = yaml.safe_load((demo / "config.yaml").read_text())
    source = config["sources"]["outcomes"]
    submitted = pd.read_csv(tmp_path / source, dtype=str, keep_default_na=False)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        records = con.sql(
            "select row_number, column_name, rule, value, count(*) over (partition by "
            "row_number) as rules from meta.quarantine where entity = 'outcomes'"
        ).df()
    single = records[records["rules"] == 1]
    pair = single[single["rule"] == "duplicate_key"].groupby("value")["row_number"].agg(list)
    duplicates = sorted(next(rows for rows in pair if len(rows) >= 2))
    negative = single[single["rule"] == "out_of_range"].iloc[0]
    column, wrong_row = str(negative["column_name"]), int(negative["row_number"])
    wrong = submitted.loc[wrong_row - 2, column]
    dropped = int(single[single["rule"] == "not_a_number"]["row_number"].iloc[0])
    who = {"by": "M. Rojas", "on": "2026-11-30"}
    decisions = [
        {"file": "outcomes.csv", "row": duplicates[0], "action": "keep",
         "why": "the first copy is the agency's record", **who},
        {"file": "outcomes.csv", "row": wrong_row, "action": "correct", "column": column,
         "from": wrong, "to": wrong.lstrip("-"), "why": "sign typed wrong", **who},
        {"file": "outcomes.csv", "row": dropped, "action": "drop",
         "why": "the firm closed that year", **who},
    ]  # fmt: skip
    (tmp_path / "corrections.yaml").write_text(yaml.safe_dump({"decisions": decisions}))
    config.update(
        corrections="corrections.yaml", audience="internal", languages=["en"], chart_images=False
    )
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    done = run_cli("run", "--config", str(tmp_path / "config.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 applied, 0 not" in done.stdout

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        load = con.sql(
            "select load_id, rows_in, rows_loaded, rows_quarantined, rows_dropped from "
            "meta.loads where entity = 'outcomes' order by sequence desc limit 1"
        ).df().iloc[0]  # fmt: skip
        assert load["rows_in"] == len(submitted)
        assert load["rows_in"] == load["rows_loaded"] + load["rows_quarantined"]
        assert load["rows_dropped"] == 1 + len(duplicates) - 1
        standing = dict(
            con.execute(
                "select row_number, rule from meta.quarantine where load_id = ?",
                [load["load_id"]],
            ).fetchall()
        )
        assert duplicates[0] not in standing and wrong_row not in standing
        assert [standing[r] for r in (dropped, *duplicates[1:])] == [DROPPED] * len(duplicates)
        loaded = con.execute(
            f'select "{column}" from raw.outcomes where _load_id = ? and _row_number = ?',
            [load["load_id"], wrong_row],
        ).fetchall()
        assert loaded == [(float(wrong.lstrip("-")),)]
        log = con.sql("select action, status, decided_by, reason from meta.decisions").fetchall()
        assert sorted(log) == sorted(
            (d["action"], "applied", "M. Rojas", d["why"]) for d in decisions
        )
    exported = tmp_path / "decisions.csv"
    args = ("quarantine", "--config", str(tmp_path / "config.yaml"), "--decisions")
    listed = run_cli(*args, "--out", str(exported))
    assert listed.returncode == 0 and "3 (0 unmatched)" in listed.stdout
    changelog = pd.read_csv(exported)
    assert set(changelog["reason"]) == {d["why"] for d in decisions}
    assert set(changelog["decided_by"]) == {"M. Rojas"}
    edition = next((tmp_path / "report").glob("*-internal-en-*"))
    page = (edition / "quality.html").read_text(encoding="utf-8")
    assert 'data-section="decisions"' in page and "the firm closed that year" in page
    # the internal edition lists every rejected row of the current loads, as the CLI does
    assert 'data-section="rejected_rows"' in page
    rejected = pd.read_csv(edition / "tables" / "quarantine_rows.csv")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        current = con.sql(
            "select count(*) from meta.quarantine join meta.load_supersession using (load_id) "
            "where superseded_by is null"
        ).fetchall()[0][0]
    assert len(rejected) == current
    # ...and plans the next evaluation: a minimum detectable effect for every program
    planning = (edition / "planning.html").read_text(encoding="utf-8")
    programs = pd.read_csv(tmp_path / config["sources"]["programs"])
    # the planning table itself (the section also holds the power chart's data table)
    table = planning.split('data-table="planning_log_sales"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + len(programs)  # the header and one row per program
    assert 'href="planning.html"' in page  # in the navigation


def test_every_demo_program_page_carries_its_robustness(demo: Path) -> None:
    """On every program page: the sensitivity of the sales effect to violations of parallel
    trends (HonestDiD: a breakdown value, or why there is none), the second estimator
    beside Callaway-Sant'Anna, and q-values beside the p-values."""
    english = next((demo / "report").glob("2024-public-en-*"))
    programs = pd.read_csv(demo / "data" / "programs.csv")
    pages = [
        p for p in english.glob("*.html") if 'data-table="effects_by_horizon"' in p.read_text()
    ]
    assert len(pages) == len(programs)
    kinds = []
    for page in pages:
        html = page.read_text(encoding="utf-8")
        sales = re.search(r'<li data-outcome="log_sales" data-kind="(\w+)"[^>]*>([^<]*)</li>', html)
        assert sales, page.name
        kinds.append(sales.group(1))
        if sales.group(1) == "breakdown":
            assert re.search(r"\d", sales.group(2)), page.name  # the value is in the sentence
        else:  # the 3,000-firm demo's smallest effects: the early-years average is not significant
            assert "there is no breakdown value" in sales.group(2), page.name
        agreement = html.split('data-table="estimator_agreement"')[1].split("</table>")[0]
        assert re.search(r'data-col="imputation" class="[^"]*">[+−-]?\d', agreement), page.name
        assert re.search(r'data-col="qvalue"[^>]*>\d', html), page.name
    assert kinds.count("breakdown") >= 2, kinds
