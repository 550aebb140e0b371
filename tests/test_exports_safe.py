"""Exports that cannot execute: text that could run as a spreadsheet formula is neutralized
in every CSV and XLSX an edition writes (reports.cells, OWASP's CSV-injection guidance),
numbers stay numbers, infinite figures are an empty cell with an `_unbounded` marker, and
every JSON file is valid JSON with the agency's text as it is.

First the pure functions on hand-made values; then every export of editions built through
the real chain (test_site_reasons' small demo data) from input files whose program
identifiers, names, agency, regions, services and sources carry formula payloads, with
infinite return figures and tab / carriage-return payloads planted in the results.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from reports import cells
from reports.disclosure import Published
from reports.editions import _jsonable, restatement
from reports.export import (
    SUPPRESSED,
    bounded,
    json_rows,
    safe_cell,
    write_csv,
    write_json,
    write_workbook,
)
from reports.i18n import Translator
from reports.site import SiteResult
from schemas import dictionary

from .test_site_reasons import _chain, _publish, _variant

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = (
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
)


# --- the pure function ----------------------------------------------------------------------


def test_safe_cell_prefixes_every_formula_start() -> None:
    for payload in (*PAYLOADS, "-5%", "+0.03 [-0.01, 0.07]", "=", "-"):
        assert safe_cell(payload) == "'" + payload, payload
    assert cells.FORMULA_STARTS == FORMULA_STARTS  # the OWASP list, no fewer


def test_safe_cell_leaves_numbers_and_plain_text_alone() -> None:
    for value in (-5, -0.25, 0, 3.5, np.float64(-1.5), np.int64(-7), True, None, math.nan):
        out = safe_cell(value)
        assert out is value or (isinstance(value, float) and math.isnan(value)), value
    for text in ("Lima", "x", "", " =1", "'=1", "5-2", "a=b", "{=1}"):
        assert safe_cell(text) == text  # nothing a spreadsheet starts a formula with
    assert safe_cell(safe_cell("=1")) == "'=1"  # idempotent


def test_safe_frame_touches_text_only() -> None:
    frame = pd.DataFrame(
        {
            "region": ["=HYPERLINK(1)", "Lima", None],
            "effect": [-0.5, 1.0, math.nan],
            "firms": pd.array([-3, 4, None], dtype="Int64"),
            "mixed": pd.Series([-2.5, "-5%", None], dtype=object),
            "passes": pd.array([True, None, False], dtype="boolean"),
        }
    )
    out = cells.safe_frame(frame)
    assert out["region"].tolist()[:2] == ["'=HYPERLINK(1)", "Lima"]
    assert out["effect"].dtype == float and out["effect"].tolist()[0] == -0.5
    assert out["firms"].dtype == "Int64" and out["firms"].tolist()[0] == -3
    assert out["mixed"].tolist()[:2] == [-2.5, "'-5%"]  # the number stays a number
    assert frame["region"].tolist()[0] == "=HYPERLINK(1)"  # a copy: the input is untouched
    renamed = cells.safe_frame(frame.rename(columns={"region": "=r"}))
    assert renamed.columns.tolist()[:2] == ["'=r", "effect"]  # headers too


def _fields(text: str) -> list[list[tuple[str, bool]]]:
    """Every field of a CSV text as (value, quoted), row by row: csv.reader does not say
    which fields were quoted."""
    rows: list[list[tuple[str, bool]]] = []
    row: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    bare = re.compile(r"[^,\n]*")
    while i < n:
        if text[i] == '"':
            j, parts = i + 1, []
            while True:
                k = text.index('"', j)
                if text[k + 1 : k + 2] == '"':
                    parts.append(text[j : k + 1])
                    j = k + 2
                    continue
                parts.append(text[j:k])
                i = k + 1
                break
            row.append(("".join(parts), True))
        else:
            match = bare.match(text, i)
            assert match is not None
            row.append((match.group(), False))
            i = match.end()
        if i < n and text[i] == ",":
            i += 1
            if i == n or text[i] == "\n":
                row.append(("", False))
        elif i == n or text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
        else:
            raise AssertionError(f"unexpected {text[i]!r} after a field at {i}")
    # the tokenizer reads the file as csv.reader does
    expected = list(csv.reader(io.StringIO(text, newline="")))
    assert [[v for v, _ in r] for r in rows] == expected
    return rows


def _number(value: str) -> bool:
    try:
        return math.isfinite(float(value))  # "inf" and "nan" parse, but are no figure
    except ValueError:
        return False


def check_csv(path: Path) -> dict[str, int]:
    """Assert that no cell of the CSV can run as a formula: every text cell quoted and not
    starting with a formula character; unquoted cells only numbers, booleans or empty.
    Returns counts of what was seen (neutralized text, negative numbers)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = _fields(handle.read())
    seen = {"neutralized": 0, "negative": 0}
    for row in rows:
        for value, quoted in row:
            where = f"{path.name}: {value!r}"
            if quoted:
                assert not value.startswith(FORMULA_STARTS), where
                seen["neutralized"] += value.startswith("'") and value[1:2] in "=+-@\t\r"
            else:
                assert value in ("", "True", "False") or _number(value), where
                seen["negative"] += value.startswith("-")
    return seen


def test_write_csv_quotes_text_and_keeps_numbers_bare(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "name": [*PAYLOADS, "Lima"],
            "value": [-1.5, 2.0, -3.0, 4.0, math.nan, 6.0, -7.0],
            "count": [-1, 2, 3, 4, 5, 6, 7],
            # as a table with suppressed cells reaches the writer: counts beside None
            "firms": pd.Series([12, None, "x", 4, 5, 6, 7], dtype=object),
        }
    )
    path = cells.write_csv(frame, tmp_path / "t.csv")
    seen = check_csv(path)
    assert seen["neutralized"] == len(PAYLOADS) and seen["negative"] == 4
    back = pd.read_csv(path, keep_default_na=False)
    assert back["name"].tolist() == ["'" + p for p in PAYLOADS] + ["Lima"]
    assert back["count"].tolist()[0] == -1  # read back as numbers
    assert path.read_text(encoding="utf-8").splitlines()[1].endswith(",-1,12")  # not 12.0
    with pytest.raises(ValueError, match="infinite"):
        cells.write_csv(pd.DataFrame({"v": [1.0, math.inf]}), tmp_path / "inf.csv")


def test_a_table_with_payloads_and_infinity_exports_safely(tmp_path: Path) -> None:
    values = pd.DataFrame(
        {
            "program_id": ["=P", "+Q", "R"],
            "metric": ["cost_per_job", "cost_per_job", "cost\x0bper\x01job"],  # controls
            "basis": ["counterfactual"] * 3,
            "estimate": [math.inf, -2.5, 1000.0],
            "ci_low": [10.0, -4.0, 500.0],
            "ci_high": [math.inf, math.inf, 2000.0],
        }
    )
    suppressed = pd.DataFrame({"estimate": [False, False, False], "ci_high": [False, True, False]})
    table = Published("roi", values, suppressed, applied=True)
    done = bounded(table)
    assert bounded(done).values.columns.tolist() == done.values.columns.tolist()  # idempotent
    frame = done.values
    assert list(frame.columns) == [
        "program_id",
        "metric",
        "basis",
        "estimate",
        "estimate_unbounded",
        "ci_low",
        "ci_low_unbounded",  # a declared column has its marker even when all finite
        "ci_high",
        "ci_high_unbounded",
    ]
    assert frame["estimate"].isna().tolist() == [True, False, False]
    assert frame["estimate_unbounded"].tolist() == [True, False, False]
    # a hidden figure hides whether it is unbounded too
    assert done.suppressed["ci_high_unbounded"].tolist() == [False, True, False]

    t = Translator("en")
    seen = check_csv(write_csv(table, tmp_path / "roi.csv", t))
    assert seen["neutralized"] == 2 and seen["negative"] == 2
    shown = pd.read_csv(tmp_path / "roi.csv", dtype=str, keep_default_na=False)
    assert shown["estimate"].tolist() == ["", "-2.5", "1000.0"]
    assert shown["ci_high"].tolist() == ["", SUPPRESSED, "2000.0"]
    assert shown["ci_high_unbounded"].tolist() == ["True", SUPPRESSED, "False"]

    document = _load_json(write_json(table, tmp_path / "roi.json", t))
    rows = document["rows"]
    assert rows[0]["program_id"] == "=P"  # JSON is data: the text as it is
    assert rows[0]["estimate"] is None and rows[0]["estimate_unbounded"] is True
    assert rows[1]["ci_high"] is None and rows[1]["ci_high_unbounded"] is None
    assert "ci_high_unbounded" in rows[1]["_suppressed"]
    assert rows[1]["estimate"] == -2.5
    assert "_unbounded" in document["symbols"]

    book = write_workbook({"roi": table}, tmp_path / "t.xlsx", t)
    sheet = load_workbook(book)["roi"]
    grid = [[c for c in row] for row in sheet.iter_rows()]
    check_xlsx(book)
    assert [c.value for c in grid[1][:5]] == ["'=P", "cost_per_job", "counterfactual", None, True]
    assert grid[2][3].value == -2.5 and grid[2][3].data_type == "n"
    assert grid[3][1].value == "cost\ufffdper\ufffdjob"  # XLSX cannot hold them: shown as such
    assert json_rows(table, t)[2]["ci_high_unbounded"] is False


def test_the_data_dictionary_is_written_safely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = dictionary.data_dictionary

    def planted() -> pd.DataFrame:
        frame = original()
        frame.loc[0, "description"] = PAYLOADS[0]
        frame.loc[1, "rules"] = "-90 to 90"
        return frame

    monkeypatch.setattr(dictionary, "data_dictionary", planted)
    dictionary.write_templates(tmp_path)
    seen = check_csv(tmp_path / "data_dictionary.csv")
    assert seen["neutralized"] == 2
    back = pd.read_csv(tmp_path / "data_dictionary.csv", dtype=str, keep_default_na=False)
    assert back.loc[0, "description"] == "'" + PAYLOADS[0]


def test_restatements_read_unbounded_also_from_older_records() -> None:
    old = [{"table": "roi", "row": "r", "column": "ci_high", "value": "inf", "suppressed": False}]
    same = [{**old[0], "value": _jsonable(math.inf)}]
    assert same[0]["value"] == "unbounded"
    assert restatement(old, same).empty  # "inf" of an older edition is the same figure
    changed = restatement(old, [{**old[0], "value": 2000.0}])
    assert changed[["old", "new", "change"]].values.tolist() == [["unbounded", 2000.0, "revised"]]


# --- editions built on planted inputs ---------------------------------------------------------


def _plant(entities: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Formula payloads in every free-text field of the inputs: program identifiers (in
    every entity that names a program), the registry's texts, regions, services, sources.
    CSV inputs get no carriage return (the readers take it for the end of a row) and the
    loader trims a leading tab: those two are planted in the results below."""
    text = PAYLOADS[:4]
    ids = dict(zip(entities["programs"]["program_id"], ("=CHL", "@PER", "-BRA"), strict=True))
    out = {}
    for name, frame in entities.items():
        frame = frame.copy()
        if "program_id" in frame:
            frame["program_id"] = frame["program_id"].map(lambda v: ids.get(v, v))
        out[name] = frame
    programs = out["programs"]
    for i, column in enumerate(
        ("agency", "name", "market_failure", "targeting", "expected_short", "expected_long")
    ):
        programs[column] = [f"{text[(i + j) % len(text)]} {column}" for j in range(len(programs))]
    firms = out["firms"]
    regions = sorted(firms["region"].dropna().unique())
    firms["region"] = firms["region"].map(
        {r: f"{text[k % len(text)]} region" for k, r in enumerate(regions)}
    )
    part = out["participations"]  # an XLSX input: the carriage return is read back
    part["service"] = [f"{PAYLOADS[k % len(PAYLOADS)]} service" for k in range(len(part))]
    outcomes = out["outcomes"]
    outcomes["source"] = [text[k % len(text)] for k in range(len(outcomes))]
    return out


INF = "'infinity'::double"
RESULTS_SQL = f"""
    -- a cost per job unbounded itself, and a self-reported one (no net jobs)
    update results.roi set estimate = {INF}, ci_low = {INF}, ci_high = {INF}
    where program_id = '-BRA' and metric = 'cost_per_job' and basis = 'counterfactual';
    update results.roi set estimate = {INF}
    where program_id = '@PER' and metric = 'cost_per_job' and basis = 'self_reported';
    update results.claims set ratio_ci_high = {INF} where program_id = '-BRA' and measure = 'jobs';
    -- what the loader trims or the CSV readers cannot carry, as if it had come through
    update results.estimates set subgroup_value = chr(9) || '=1 tab region'
    where subgroup = 'region' and subgroup_value like '+1+1%';
    update results.estimates set subgroup_value = chr(13) || '=1 cr region'
    where subgroup = 'region' and subgroup_value like '@SUM%';
    update meta.loads set source_file = '=HYPERLINK("http://evil.example","f").csv'
    where entity = 'macro';
"""


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SiteResult]:
    """Public editions before and after the results change (the second restates the first),
    and an internal one (its own tables: loads, firm-by-firm claims, other scales)."""
    root = tmp_path_factory.mktemp("exports-safe")
    built = _chain(root / "chain", _plant)
    planted = _variant(built, root / "planted", RESULTS_SQL)
    first = _publish(built, root / "public")
    return {
        "first": first,
        "public": _publish(planted, root / "public"),
        "internal": _publish(planted, root / "internal", audience="internal"),
    }


def _load_json(path: Path) -> Any:
    def refuse(token: str) -> None:
        raise ValueError(f"{path.name}: {token} is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def check_xlsx(path: Path) -> dict[str, int]:
    """Assert that no cell of the workbook is a formula or text starting with a formula
    character, and that every number is finite; count neutralized and negative cells."""
    seen = {"neutralized": 0, "negative": 0}
    for sheet in load_workbook(path):
        for row in sheet.iter_rows():
            for cell in row:
                where = f"{path.name}!{sheet.title}!{cell.coordinate}: {cell.value!r}"
                assert cell.data_type != "f", where
                value = cell.value
                if isinstance(value, str):
                    assert not value.startswith(FORMULA_STARTS), where
                    assert value.lower() not in ("inf", "-inf", "nan"), where
                    seen["neutralized"] += value.startswith("'") and value[1:2] in "=+-@\t\r"
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    assert math.isfinite(value), where
                    seen["negative"] += value < 0
    return seen


def _exports(site: SiteResult, suffix: str) -> list[Path]:
    return sorted(p for p in site.path.rglob(f"*.{suffix}") if p.is_file())


def test_every_csv_and_xlsx_cell_is_inert(editions: dict[str, SiteResult]) -> None:
    for name, site in editions.items():
        neutralized: set[str] = set()
        negative = 0
        for path in _exports(site, "csv"):
            seen = check_csv(path)
            negative += seen["negative"]
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.reader(handle):
                    neutralized |= {v[1] for v in row if v.startswith("'") and len(v) > 1}
        # the payloads reached the exports (else the checks above proved nothing) ...
        expected = set("=+-@\t\r") if name != "first" else set("=+-@")
        assert expected <= neutralized, (name, neutralized)
        assert negative > 50, name  # ... and negative figures are still bare numbers
        logs = {"suppression_log.csv", "restatement.csv"} if name == "public" else set()
        assert logs <= {p.name for p in _exports(site, "csv")}
        workbooks = _exports(site, "xlsx")
        assert [p.name for p in workbooks] == ["tables.xlsx"]
        seen = check_xlsx(workbooks[0])
        assert seen["neutralized"] > 0 and seen["negative"] > 50, (name, seen)


def test_every_json_is_valid_and_keeps_the_text(editions: dict[str, SiteResult]) -> None:
    site = editions["public"]
    texts: list[str] = []
    for path in _exports(site, "json"):
        document = _load_json(path)  # no NaN, no Infinity
        strings = _strings(document)
        assert not [s for s in strings if s.lower() in ("inf", "-inf", "nan")], path.name
        texts += strings
    for program in ("=CHL", "@PER", "-BRA"):
        assert program in texts  # as the agency wrote it: JSON is data, not a sheet
    assert "\r=1 cr region" in texts and "\t=1 tab region" in texts
    assert not [s for s in texts if s.startswith("'=")]
    portfolio = _load_json(site.path / "tables" / "effects_by_horizon.json")["rows"]
    numbers = [v for row in portfolio for v in row.values() if isinstance(v, float)]
    assert any(v < 0 for v in numbers)  # negative figures are JSON numbers


def _roi(site: SiteResult) -> pd.DataFrame:
    frame = pd.read_csv(site.path / "tables" / "roi.csv", dtype=str, keep_default_na=False)
    return frame.set_index(["program_id", "metric", "basis"])


def test_unbounded_figures_read_the_same_in_every_format(
    editions: dict[str, SiteResult],
) -> None:
    site = editions["public"]
    roi = _roi(site)
    row = roi.loc[("'-BRA", "cost_per_job", "counterfactual")]
    for column in ("estimate", "ci_low", "ci_high"):
        assert row[column] == "" and row[f"{column}_unbounded"] == "True", column
    survey = roi.loc[("'@PER", "cost_per_job", "self_reported")]
    assert survey["estimate"] == "" and survey["estimate_unbounded"] == "True"
    finite = roi.loc[("'-BRA", "sales_per_dollar", "counterfactual")]
    assert finite["estimate_unbounded"] == "False" and _number(finite["estimate"])
    counts = set(roi["beneficiaries"]) - {"", SUPPRESSED}
    assert counts and all(c.isdigit() for c in counts)  # counts stay whole numbers

    rows = _load_json(site.path / "tables" / "roi.json")["rows"]
    chosen = next(
        r
        for r in rows
        if (r["program_id"], r["metric"], r["basis"]) == ("-BRA", "cost_per_job", "counterfactual")
    )
    assert chosen["ci_high"] is None and chosen["ci_high_unbounded"] is True

    sheet = load_workbook(site.path / "tables" / "tables.xlsx")["roi"]
    grid = [[c.value for c in r] for r in sheet.iter_rows()]
    header = grid[0]
    book = [dict(zip(header, r, strict=True)) for r in grid[1:]]
    cell = next(
        r
        for r in book
        if (r["program_id"], r["metric"], r["basis"]) == ("'-BRA", "cost_per_job", "counterfactual")
    )
    assert cell["ci_high"] is None and cell["ci_high_unbounded"] is True
    claims = pd.read_csv(site.path / "tables" / "claims.csv", dtype=str, keep_default_na=False)
    assert "ratio_ci_high_unbounded" in claims.columns
    assert set(claims["ratio_ci_high_unbounded"]) <= {"True", "False", SUPPRESSED}

    # the restatement of the first edition says "unbounded", in CSV and JSON alike
    changes = pd.read_csv(site.path / "restatement.csv", dtype=str, keep_default_na=False)
    moved = changes[changes["new"] == "unbounded"]
    assert sorted(
        (table, json.loads(key)["program_id"], column)
        for table, key, column in moved[["table", "row", "column"]].itertuples(index=False)
    ) == [
        ("claims", "-BRA", "ratio_ci_high"),
        ("roi", "-BRA", "ci_high"),
        ("roi", "-BRA", "ci_low"),
        ("roi", "-BRA", "estimate"),
        ("roi", "@PER", "estimate"),
    ]
    assert (moved["change"] == "revised").all() and moved["old"].map(_number).all()
    document = _load_json(site.path / "restatement.json")
    assert sum(c["new"] == "unbounded" for c in document["changes"]) == len(moved)
    figures = _load_json(site.path / "figures.json")
    assert any(r["value"] == "unbounded" for r in figures)


def test_internal_editions_mark_both_scales(editions: dict[str, SiteResult]) -> None:
    roi = _roi(editions["internal"])
    columns = list(roi.columns)
    for column in ("other_estimate", "other_ci_low", "other_ci_high"):
        assert columns.index(f"{column}_unbounded") == columns.index(column) + 1
    assert set(roi["other_ci_high_unbounded"]) <= {"True", "False"}
    loads = pd.read_csv(
        editions["internal"].path / "tables" / "loads.csv", dtype=str, keep_default_na=False
    )
    assert '\'=HYPERLINK("http://evil.example","f").csv' in set(loads["source_file"])


def test_the_characters_a_cell_cannot_hold_are_openpyxls() -> None:
    """reports.cells keeps its own copy of openpyxl's pattern (so that publishing does not
    import openpyxl): the same characters, all 32 controls checked one by one."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as OPENPYXL

    assert cells.ILLEGAL_CHARACTERS_RE.pattern == OPENPYXL.pattern
    for code in range(0x20):
        char = chr(code)
        assert bool(cells.ILLEGAL_CHARACTERS_RE.match(char)) == bool(OPENPYXL.match(char))
