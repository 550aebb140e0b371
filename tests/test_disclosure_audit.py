"""The disclosure audit (reports.audit): suppression checked the way an attacker undoes it.

First the linear programs on small tables: the differencing attacks the rules alone let
through (a total with one hidden cell; a dominated sum whose complement is the smallest
cell), overlapping counts, and sdcTable's own test problem; then shares of counts
(`protect_shares`); then a public edition built on planted data, whose published tables
are attacked again here with an LP of the test's own, from the CSV files alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from reports.audit import (
    Cell,
    Layout,
    Relation,
    audit,
    edition_model,
    protect_edition,
    requirement,
    secure,
)
from reports.disclosure import (
    DisclosureRules,
    Measure,
    Published,
    TableSpec,
    contributions,
    protect,
    protect_shares,
)

from .test_disclosure import RUN_ID, build_planted_warehouse

RULES = DisclosureRules()  # k = 5, top 2 over 85%, protection 10%

# --- the linear programs on small tables ---------------------------------------------------


def _one_way(parts: dict[str, float], hidden: set[str], needs: dict[str, tuple[float, float]]):  # type: ignore[no-untyped-def]
    cells = {
        k: Cell(v, k in hidden, *needs.get(k, (None, None)))  # type: ignore[arg-type]
        for k, v in parts.items()
    }
    cells["total"] = Cell(sum(parts.values()), False)
    return cells, [Relation("total", tuple(parts))]


def test_a_total_with_one_suppressed_cell_gets_a_second_suppression() -> None:
    need = requirement(3, "min_firms", RULES, kind="count")
    assert need == pytest.approx((2.7, 5.0))
    cells, relations = _one_way({"A": 3, "B": 40, "C": 57}, {"A"}, {"A": need})
    (before,) = audit(cells, relations)
    assert (before.lower, before.upper) == pytest.approx((3, 3))  # 100 - 40 - 57
    assert not before.passes
    added, (after,) = secure(cells, relations)
    assert len(added) == 1 and added <= {"B", "C", "total"}
    assert after.passes and after.lower <= 2.7 and after.upper >= 5


def test_a_dominated_sum_is_not_bounded_by_its_smallest_complement() -> None:
    """The rules' secondary suppression hides the smallest other year (12): the dominated
    year is then bounded within 1.2% above by differencing the published total. The audit
    hides a year large enough to move it past what the rule would not call dominated."""
    firms = pd.DataFrame(
        {
            "year": [2020] * 6 + [2021] * 6 + [2022] * 6 + [2023] * 2,
            "firm_id": [f"f{i}" for i in range(20)],
            "cost": [900, 80, 5, 5, 5, 5] + [50] * 6 + [70] * 6 + [6, 6],
        }
    )
    by_year = contributions(firms, ["year"], "cost", top=2)
    total = contributions(firms.assign(all=1), ["all"], "cost", top=2)
    frame = pd.concat(
        [
            by_year.assign(is_total=False),
            total.drop(columns="all").assign(year=None, is_total=True),
        ],
        ignore_index=True,
    ).rename(columns={"total": "cost", "firms": "_firms", "top": "_top"})
    spec = TableSpec(
        "costs",
        keys=("year", "is_total"),
        measures=(
            Measure("cost", "sum", firms="_firms", top="_top", additive=True),
            Measure("per_firm", "derived", depends=("cost",)),
        ),
        total="is_total",
        internal=("_firms", "_top"),
    )
    frame["per_firm"] = frame["cost"] / frame["_firms"]
    done = protect(frame, spec, RULES, apply=True)
    rules_only = done.suppressed["cost"].tolist()
    # 2020 dominated (980 of 1000); 2023 (12) hidden too: under k firms and the smallest
    assert rules_only == [True, False, False, True, False]
    layout = Layout(
        "costs",
        {"cost": "cost"},
        scope="year",
        component=("year",),
        group=(),
        total_scope="all",
        total_keys=(),
    )
    model = edition_model({"costs": done}, RULES, [layout])
    dominated = next(iv for iv in audit(model.cells, model.relations) if iv.value == 1000)
    assert dominated.upper == pytest.approx(1012)  # the attack: within 1.2%
    assert not dominated.passes
    assert dominated.need_upper == pytest.approx(980 / 0.85)

    protected, certificate = protect_edition({"costs": done}, RULES, [layout])
    after = protected["costs"]
    hidden = after.suppressed["cost"].tolist()
    assert hidden[0] and hidden[3]
    # the complement must absorb a change of 153 (to 980 / 0.85): 2021 (300), the cheapest
    # that can, not the total (1,000, shown in more places) nor the smallest (already hidden)
    assert hidden[1] and not hidden[2] and not hidden[4]
    assert after.suppressed["per_firm"].tolist() == hidden  # ratios go with their sums
    assert set(after.log["rule"]) == {"dominance", "min_firms", "secondary", "derived"}
    assert certificate.passes and certificate.added == 1
    final = edition_model({"costs": after}, RULES, [layout])
    for iv in audit(final.cells, final.relations):
        assert iv.passes
        assert iv.upper >= iv.need_upper - 1e-6 and iv.lower <= iv.need_lower + 1e-6


def test_overlapping_counts_bound_a_cell_only_by_inequalities() -> None:
    """Quarantined rows: a row breaking two rules counts under both, so the entity's total
    is not their sum; the attacker only knows each rule <= total <= their sum."""
    need = requirement(3, "min_firms", RULES, kind="count")
    cells = {
        "a": Cell(3, True, *need),
        "b": Cell(40, False),
        "total": Cell(41, False),
    }
    (interval,) = audit(cells, [Relation("total", ("a", "b"), exact=False)])
    assert (interval.lower, interval.upper) == pytest.approx((1, 41))
    assert interval.passes
    (exact,) = audit(cells, [Relation("total", ("a", "b"))])  # as if they were additive
    assert (exact.lower, exact.upper) == pytest.approx((1, 1))


def _sdc_test_problem() -> tuple[dict[tuple[str, str], Cell], list[Relation]]:
    """sdcTable's test problem (tests/testthat/test-protectTable.r, data `microdata1`):
    frequencies of region A-D by gender, with margins; the cell (A, female) = 2 marked
    primary (`change_cellstatus(..., rule = "u")`). Counted from microdata1.rda:

                male  female  total
        A        18      2     20
        B        14     19     33
        C        12     10     22
        D        11     14     25
        total    55     45    100
    """
    freq = {
        ("A", "male"): 18,
        ("A", "female"): 2,
        ("B", "male"): 14,
        ("B", "female"): 19,
        ("C", "male"): 12,
        ("C", "female"): 10,
        ("D", "male"): 11,
        ("D", "female"): 14,
    }
    regions, genders = ("A", "B", "C", "D"), ("male", "female")
    for r in regions:
        freq[(r, "total")] = sum(freq[(r, g)] for g in genders)
    for g in (*genders, "total"):
        freq[("total", g)] = sum(freq[(r, g)] for r in regions)
    cells = {k: Cell(float(v), False) for k, v in freq.items()}
    cells[("A", "female")] = Cell(2.0, True, *requirement(2, "min_firms", RULES, kind="count"))
    relations = [
        Relation((r, "total"), tuple((r, g) for g in genders)) for r in (*regions, "total")
    ] + [Relation(("total", g), tuple((r, g) for r in regions)) for g in (*genders, "total")]
    return cells, relations


def test_sdctable_test_problem_is_protected_as_its_optimal_methods_protect_it() -> None:
    """sdcTable's OPT, HITAS and HYPERCUBE methods suppress cells 5, 6, 11 and 12 of the
    problem (region-major with margins: (A, male), (A, female), (C, male), (C, female));
    its GAUSS method (A and D instead of C) 5, 6, 14 and 15. The protection path finds the
    OPT pattern, and the audit passes both."""
    cells, relations = _sdc_test_problem()
    added, intervals = secure(cells, relations)
    assert added == {("A", "male"), ("C", "male"), ("C", "female")}
    (interval,) = intervals
    assert (interval.lower, interval.upper) == pytest.approx((0, 12))  # 2 + min(18, 10)
    assert interval.passes
    gauss = {("A", "male"), ("D", "male"), ("D", "female")}
    cells_gauss = {
        k: Cell(c.value, c.hidden or k in gauss, c.need_lower, c.need_upper)
        for k, c in cells.items()
    }
    (interval,) = audit(cells_gauss, relations)
    assert (interval.lower, interval.upper) == pytest.approx((0, 16))  # 2 + min(18, 14)
    assert interval.passes
    # the rules' own secondary pattern (one more cell in one relation) does not protect it
    one_more = dict(cells)
    one_more[("A", "male")] = Cell(18.0, True)
    (interval,) = audit(one_more, relations)
    assert not interval.passes and interval.upper == pytest.approx(2)


# --- shares of counts ----------------------------------------------------------------------


def test_shares_are_whole_percents_and_withheld_where_they_pin_a_small_count() -> None:
    frame = pd.DataFrame(
        {
            "entity": ["a", "b", "c", "d"],
            "unit": ["share", "share", "share", "days"],
            "numerator": [3.0, 1497.0, 40.0, np.nan],
            "denominator": [20.0, 1500.0, 130.0, np.nan],
        }
    )
    frame["value"] = (frame["numerator"] / frame["denominator"]).fillna(12.0)
    table = Published("scorecard", frame, pd.DataFrame(index=frame.index), True)
    out, log = protect_shares(table, ("entity",), RULES, apply=True)
    published = out.frame()
    # 3 of 20 = 15%: only 3 rounds to 15%, the count under 5 would be read: withheld
    assert pd.isna(published["value"].iloc[0])
    # 3 of 1500 missing: 100% (any of 0..7 missing rounds so): published, rounded
    assert published["value"].iloc[1] == 1.0
    assert published["value"].iloc[2] == 0.31  # 0.3076923076923077 before
    assert published["value"].iloc[3] == 12.0  # days are not shares
    assert log["rule"].tolist() == ["min_firms"] and log["column"].tolist() == ["value"]
    # an internal edition flags the share and keeps its digits
    inside, _ = protect_shares(table, ("entity",), RULES, apply=False)
    assert inside.suppressed["value"].tolist() == [True, False, False, False]
    assert inside.frame()["value"].iloc[2] == pytest.approx(40 / 130)


# --- a public edition ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from reports.site import build_site
    from warehouse.quality import compute_scorecard

    warehouse = build_planted_warehouse(tmp_path_factory.mktemp("audit"), firms=900, seed=7)
    with duckdb.connect(str(warehouse)) as con:
        compute_scorecard(con, RUN_ID)
    out = tmp_path_factory.mktemp("audit-site")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kw: dict[str, Any] = {"period": "2024", "run_id": RUN_ID, "images": False}
        public = build_site(con, out / "public", lang="pt", audience="public", **kw)
        internal = build_site(con, out / "internal", lang="en", audience="internal", **kw)
    return {"public": public, "internal": internal}


def _csv(edition: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(edition / "tables" / f"{table}.csv", dtype=str, keep_default_na=False)


def test_the_public_edition_publishes_a_passing_certificate(editions: dict[str, Any]) -> None:
    public, internal = editions["public"], editions["internal"]
    certificate = json.loads((public.path / "protection.json").read_text(encoding="utf-8"))
    assert certificate["passes"] is True
    assert certificate["audited_cells"] == certificate["passing_cells"] > 0
    # the planted dominant firm: the rules' smallest complements left its sums bounded
    assert certificate["added_by_audit"] >= 1
    assert set(certificate["tables"]) == {
        "portfolio",
        "reach_by_year",
        "reach_by_group",
        "quarantine",
    }
    log = public.suppression_log
    primary = log[
        log["rule"].isin(["min_firms", "dominance"]) & log["table"].isin(certificate["tables"])
    ]
    audited = {(c["table"], c["row"], c["column"]) for c in certificate["cells"]}
    for row in primary.itertuples():  # every primary cell of those tables is audited...
        if row.column in ("firms_served", "firms_entering", "public_cost_usd", "rows"):
            assert any(a[2] == row.column for a in audited)
    # ...and the public certificate says it passes, never by how much (that gives values away)
    for cell in certificate["cells"]:
        assert cell["passes"] is True and cell["relative_protection"] == ">= 1"
        assert "ratio_lower" not in cell and "ratio_upper" not in cell
    inside = json.loads((internal.path / "protection.json").read_text(encoding="utf-8"))
    assert inside["passes"] and all(
        c["ratio_lower"] == "unbounded" or c["ratio_lower"] >= 1 - 1e-6 for c in inside["cells"]
    )
    page = (public.path / "methodology.html").read_text(encoding="utf-8")
    assert 'data-audit="pass"' in page and 'href="protection.json"' in page
    assert "Auditoria da proteção" in page


def _attack(values: list[float], hidden: list[bool], total: float) -> list[tuple[float, float]]:
    """The test's own attacker on one relation: min and max of each hidden cell given the
    published ones, the published total and nonnegativity."""
    unknown = [i for i, h in enumerate(hidden) if h]
    rest = total - sum(v for v, h in zip(values, hidden, strict=True) if not h)
    out = []
    for i in unknown:
        c = np.zeros(len(unknown))
        c[unknown.index(i)] = 1
        ends = []
        for sign in (1, -1):
            r = linprog(sign * c, A_eq=np.ones((1, len(unknown))), b_eq=[rest], method="highs")
            ends.append(sign * r.fun)
        out.append((ends[0], ends[1]))
    return out


def test_published_reach_tables_withstand_differencing(editions: dict[str, Any]) -> None:
    """From the public CSV files only: in every program's years and in every dimension of
    its groups whose total is published, each cell the rules hid (a count under k, a
    dominated sum) can be moved at least 10% both ways, and a count under k up to k."""
    public, internal = editions["public"], editions["internal"]
    log = public.suppression_log
    primary = {
        (r, c)
        for r, c, rule in zip(log["row"], log["column"], log["rule"], strict=True)
        if rule in ("min_firms", "dominance")
    }
    checked = 0
    for table, group, keys, columns in (
        (
            "reach_by_year",
            ["program_id"],
            ("program_id", "year", "is_total"),
            ("firms_entering", "public_cost_usd"),
        ),
        (
            "reach_by_group",
            ["program_id", "dimension"],
            ("program_id", "dimension", "value", "is_total"),
            ("firms_served", "public_cost_usd"),
        ),
    ):
        shown, truth = _csv(public.path, table), _csv(internal.path, table)
        assert len(shown) == len(truth)
        for _, rows in shown.groupby(group):
            parts = rows[rows["is_total"] == "False"]
            totals = rows[rows["is_total"] == "True"]
            for column in columns:
                if totals[column].iloc[0] == "x" or not (parts[column] == "x").any():
                    continue
                values = truth.loc[parts.index, column].astype(float).tolist()
                hidden = (parts[column] == "x").tolist()
                intervals = _attack(values, hidden, float(totals[column].iloc[0]))
                for i, (low, high) in zip(np.flatnonzero(hidden), intervals, strict=True):
                    row = parts.iloc[i]
                    key = json.dumps(
                        {
                            k: (
                                row[k] == "True"
                                if k == "is_total"
                                else int(row[k])
                                if k == "year"
                                else row[k]
                            )
                            for k in keys
                        },
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                    if (key, column) not in primary:
                        continue
                    v = values[i]
                    assert low <= 0.9 * v + 1e-6 and high >= 1.1 * v - 1e-6, (table, key, column)
                    if column != "public_cost_usd" and v < 5:
                        assert high >= 5 - 1e-6, (table, key, column)
                    checked += 1
    assert checked >= 3


def test_public_shares_have_whole_percents_only(editions: dict[str, Any]) -> None:
    public = editions["public"]
    scorecard = _csv(public.path, "scorecard")
    assert "numerator" not in scorecard.columns and "denominator" not in scorecard.columns
    shares = scorecard[scorecard["unit"] == "share"]
    assert len(shares) > 20
    for text in shares["value"]:
        assert text in ("x", "") or re.fullmatch(r"[01](\.\d{1,2})?", text), text
    # the 16-digit shares are still in the internal edition, for the record
    inside = _csv(editions["internal"].path, "scorecard")
    assert inside.loc[inside["unit"] == "share", "value"].str.len().max() > 6
