"""The audit validates again only what changed: an entity whose loads are those of an
earlier audit (same code) keeps that audit's suite results (`meta.expectation_batches`).

What must hold: a reused result is the result a fresh validation gives on the same data
(every stored column, and the Data Docs' pages); a new load of an entity re-validates
that entity's two batches and nothing else, except that outcomes, whose shift checks
group by the firm's country, follow the firms' loads too; another code version reuses
nothing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import schemas.expectation_sql as expectation_sql
from schemas.expectations import SUBMISSION, ValidationRun, validate_warehouse
from warehouse.db import open_warehouse
from warehouse.load import load_file
from warehouse.quality import WarehouseBatches

from .test_quality import KEY, Base, loaded_demo


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return loaded_demo(tmp_path_factory.mktemp("audit-reuse"), n_firms=500)


@pytest.fixture
def con(base: Base, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(base.path, tmp_path / "warehouse.duckdb")
    with open_warehouse(tmp_path / "warehouse.duckdb") as connection:
        yield connection


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The batches validated in DuckDB (their GX batch ids), in order."""
    seen: list[str] = []
    original = expectation_sql.validate_rows

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(str(kwargs["batch_id"]).removeprefix("warehouse-"))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(expectation_sql, "validate_rows", spy)
    return seen


def both(entity: str) -> set[str]:
    return {entity, f"{entity}_{SUBMISSION}"}


def audit(con: duckdb.DuckDBPyConnection, run: str, docs: Path | None = None) -> ValidationRun:
    return validate_warehouse(con, run_name=run, docs_dir=docs, store=WarehouseBatches(con, run))


def resubmit(con: duckdb.DuckDBPyConnection, base: Base, entity: str, path: Path) -> None:
    """A new submission of `entity`: its file without the last row, under a new name."""
    frame = base.data.tables[entity]
    frame.iloc[:-1].to_csv(path, index=False)
    assert not load_file(con, path, entity, key=KEY).skipped


def same_results(a: ValidationRun, b: ValidationRun) -> None:
    key = ["suite", "expectation", "parameters"]
    left, right = (x.results.sort_values(key).reset_index(drop=True) for x in (a, b))
    pd.testing.assert_frame_equal(left, right)


def test_unchanged_entities_keep_their_results_and_a_new_load_is_validated(
    con: duckdb.DuckDBPyConnection, base: Base, validated: list[str], tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    first = audit(con, "r1", docs)
    assets = set(first.results["suite"])
    assert first.reused == [] and set(validated) == assets
    stored = con.sql("select entity, batch, run_id from meta.expectation_batches").df()
    assert len(stored) == len(assets) and set(stored["run_id"]) == {"r1"}
    outcomes_page = next((docs / "validations" / "outcomes").rglob("*.html"))
    outcomes_page.write_text(outcomes_page.read_text() + "<!-- kept -->")

    validated.clear()
    resubmit(con, base, "participations", tmp_path / "participations_q.csv")
    second = audit(con, "r2", docs)
    assert set(validated) == both("participations")
    assert set(second.reused) == assets - both("participations")
    same_results(second, validate_warehouse(con, run_name="fresh"))

    # Data Docs: every batch once, under the run that validated it; a reused result's
    # page kept from the first build (not rendered again), a re-validated one's replaced
    found = pages(docs)
    runs = {p.parts[1]: p.parts[2] for p in found if p.parts[0] == "validations"}
    assert runs == {a: "r2" if a in both("participations") else "r1" for a in assets}
    assert outcomes_page.read_text().endswith("<!-- kept -->")
    # and the same pages as a build from scratch of the same results
    outcomes_page.write_text(outcomes_page.read_text().removesuffix("<!-- kept -->"))
    audit(con, "r3", tmp_path / "scratch")
    assert pages(tmp_path / "scratch") == found
    assert len(found) == 2 * len(assets) + 1  # a result and a suite page each, the index
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    for page in found - {Path("index.html")}:
        kept, built = (uuid.sub("", (d / page).read_text()) for d in (docs, tmp_path / "scratch"))
        assert kept == built, page
    assert "raw.outcomes" in (docs / outcomes_page.relative_to(docs)).read_text()


def pages(docs: Path) -> set[Path]:
    return {p.relative_to(docs) for p in docs.rglob("*.html")}


def test_outcomes_follow_the_firms_loads(
    con: duckdb.DuckDBPyConnection, base: Base, validated: list[str], tmp_path: Path
) -> None:
    audit(con, "r1")
    validated.clear()
    resubmit(con, base, "firms", tmp_path / "firms_q.csv")
    second = audit(con, "r2")
    assert set(validated) == both("firms") | both("outcomes")
    same_results(second, validate_warehouse(con, run_name="fresh"))


def test_a_row_set_aside_after_its_load_is_seen(
    con: duckdb.DuckDBPyConnection, validated: list[str]
) -> None:
    """Not the way rows are set aside (a decision comes with a new load), but an audit
    must not trust that: the quarantine and the row counts are part of the fingerprint."""
    audit(con, "r1")
    validated.clear()
    con.execute(
        "insert into meta.quarantine by name select load_id, 'outcomes' as entity, "
        "source_file, 1 as row_number, 'dropped_by_decision' as rule, 'left out' as reason "
        "from meta.loads where entity = 'outcomes'"
    )
    audit(con, "r2")
    assert set(validated) == both("outcomes")
    validated.clear()
    con.execute("update raw.firms set _superseded_by = 'x' where rowid = 0")
    audit(con, "r3")
    assert set(validated) == both("firms") | both("outcomes")


def test_results_of_another_code_version_or_settings_are_not_reused(
    con: duckdb.DuckDBPyConnection, validated: list[str]
) -> None:
    from schemas.expectations import ExpectationSettings

    first = audit(con, "r1")
    other = WarehouseBatches(con, "r2")
    other.code = "another-version"
    assert validate_warehouse(con, run_name="r2", store=other).reused == []
    assert audit(con, "r3").reused == []  # r2's code version replaced r1's rows
    stricter = ExpectationSettings(nullable_mostly=0.95)
    again = validate_warehouse(
        con, run_name="r4", settings=stricter, store=WarehouseBatches(con, "r4")
    )
    assert again.reused == [] and len(first.results) == len(again.results)


def test_scorecard_parts_of_unchanged_tables_are_copied(
    con: duckdb.DuckDBPyConnection,
    base: Base,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import warehouse.quality as quality

    first = quality.compute_scorecard(con, "r1")
    resubmit(con, base, "participations", tmp_path / "participations_q.csv")
    second = quality.compute_scorecard(con, "r2")
    # the same scorecard as computed from scratch, in the same order
    fresh = quality.scorecard_frame(con)
    pd.testing.assert_frame_equal(
        second.drop(columns=list(quality.RUN_COLUMNS)).reset_index(drop=True),
        fresh.astype(second.drop(columns=list(quality.RUN_COLUMNS)).dtypes.to_dict()),
    )
    assert set(second["run_id"]) == {"r2"} and len(second) > 0
    # recomputed: the parts whose SQL reads participations; the rest copied from r1
    parts = dict(con.sql("select part, run_id from meta.scorecard_parts").fetchall())
    readers = {p for p, read in quality.scorecard_parts().items() if "participations" in read}
    assert {p for p, run in parts.items() if run == "r2"} == readers
    assert {"participations", "attrition", "response_rate"} <= readers
    assert "outcomes" not in readers and "firms" not in readers
    outcomes = second["entity"].eq("outcomes") & second["dimension"].eq("completeness")
    before = first["entity"].eq("outcomes") & first["dimension"].eq("completeness")
    assert set(second.loc[outcomes, "computed_at"]) == set(first.loc[before, "computed_at"])
    # another code version computes every part again
    monkeypatch.setattr(quality, "code_version", lambda: "another-version")
    quality.compute_scorecard(con, "r3")
    assert set(con.sql("select run_id from meta.scorecard_parts").fetchall()) == {("r3",)}
