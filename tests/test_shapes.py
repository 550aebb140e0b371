"""The shape matrix: `mes-eval run` on submissions shaped like real agencies' (tests/shapes.py).

Each shape runs once (module-scoped fixtures) through the real CLI, in this process
(typer's CliRunner on flows.cli.app), so Prefect's temporary server starts once for the
session instead of once per shape. A shape that must publish is checked for: exit 0 and
no traceback; every expected "not estimated" unit stored with its status and reason; no
unit failing for a reason nobody foresaw; each estimate of the planted effects on target;
an edition that renders in Chromium and shows the reasons where the numbers would be. A
shape that must be refused is checked for its exit code and its one clear line.

Expected reason texts are derived from evaluation.reasons (and reports.i18n for other
languages) at test time, never copied here.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from evaluation.reasons import NOT_RUN, REASONS

from .browser import render
from .shapes import CS, ESTIMATED, HEADLINE, ROI, SHAPES, Shape, Unit, build

pytestmark = pytest.mark.e2e

PUBLISHING = [s for s in SHAPES.values() if s.exit_code == 0]
REFUSED = [s for s in SHAPES.values() if s.exit_code != 0]
# |estimate - truth| <= 4 SE. A correct estimator misses by more with probability 6e-5 per
# estimate; with ~150 estimates checked over the matrix the family-wise chance of a false
# alarm stays below 1%, and the seeded data make each outcome deterministic.
TOLERANCE_SE = 4.0


def _tolerance_se(n_treated: int) -> float:
    """TOLERANCE_SE at the same false-alarm rate when the standard error itself comes from
    few firms: (estimate - truth) / SE is then Student-t with n - 1 degrees of freedom, not
    normal (8.5 SE for a pilot of 8 firms, 4.4 for 50, 4.0 in the limit)."""
    from scipy import stats

    tail = stats.norm.sf(TOLERANCE_SE)
    return float(stats.t.isf(tail, max(n_treated - 1, 1)))


# how to tell that a firm-year has an outcome in the evaluation panel, for outcomes the
# panel may not carry as a column (cohort sizes of the truth are counted on these rows)
HAS_OUTCOME = {
    "log_va_per_worker": "employment > 0 and value_added_usd > 0",
}


@dataclass
class ShapeRun:
    """One shape's folder and what `mes-eval run` on it gave."""

    shape: Shape
    folder: Path
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    trace: str  # formatted traceback of an exception that escaped the CLI, else ""
    seconds: float

    def output(self, lines: int = 25) -> str:
        """The end of what the user saw, and the end of any traceback: for failures."""
        parts = [
            f"exit code {self.exit_code} after {self.seconds:.1f} s",
            "stdout (end): " + "\n".join(self.stdout.splitlines()[-lines:]),
            "stderr (end): " + "\n".join(self.stderr.splitlines()[-lines:]),
        ]
        if self.trace:
            parts.append("traceback (end): " + "\n".join(self.trace.splitlines()[-lines:]))
        # an internal error is one line for the user and a log file with the traceback
        for log in re.findall(r"details in (\S+\.log)", self.stderr):
            if Path(log).exists():
                text = Path(log).read_text(encoding="utf-8", errors="replace")
                parts.append(f"{log} (end): " + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts)


def run_shape(shape: Shape, root: Path) -> ShapeRun:
    """Build a shape and run `mes-eval run --config` on it in this process."""
    from flows.cli import app

    started = time.perf_counter()
    config = build(shape.name, root)
    # a submission is complete before it is run: files written a moment ago would look
    # like files still being copied (flows.steps.ensure_settled) and cost a wait each
    settled = time.time() - 60
    for path in config.parent.rglob("*"):
        os.utime(path, (settled, settled))
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    trace = ""
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(*result.exc_info))
    return ShapeRun(
        shape=shape,
        folder=config.parent,
        exit_code=result.exit_code,
        stdout=result.stdout,
        stderr=result.stderr,
        exception=None if isinstance(result.exception, SystemExit) else result.exception,
        trace=trace,
        seconds=time.perf_counter() - started,
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shapes")


@pytest.fixture(scope="module", params=PUBLISHING, ids=lambda s: s.name)
def published(request: pytest.FixtureRequest, root: Path) -> ShapeRun:
    return run_shape(request.param, root)


@pytest.fixture(scope="module", params=REFUSED, ids=lambda s: s.name)
def refused(request: pytest.FixtureRequest, root: Path) -> ShapeRun:
    return run_shape(request.param, root)


def _require_published(run: ShapeRun) -> None:
    if run.exit_code != 0 or run.exception is not None:
        pytest.fail(f"{run.shape.name}: the run did not publish\n{run.output()}")


@pytest.fixture(scope="module")
def warehouse(published: ShapeRun) -> Iterator[duckdb.DuckDBPyConnection]:
    _require_published(published)
    con = duckdb.connect(str(published.folder / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def _run_id(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.sql(
        "select run_id from meta.runs where status = 'completed' order by started_at desc limit 1"
    ).fetchall()
    assert rows, "no completed run in meta.runs"
    return str(rows[0][0])


def _table(con: duckdb.DuckDBPyConnection, name: str, run_id: str) -> pd.DataFrame:
    frame = con.execute(f"select * from {name} where run_id = ?", [run_id]).df()
    for column in ("status", "reason"):
        assert column in frame.columns, f"{name} has no column {column!r} (migration 012)"
    return frame


def _rows_of(unit: Unit, estimates: pd.DataFrame, roi: pd.DataFrame) -> pd.DataFrame:
    """The stored rows of a unit: its simple whole-unit row(s), or its ROI row."""
    if unit.estimator == ROI:
        r = roi[(roi["program_id"] == unit.program_id) & (roi["metric"] == unit.outcome)]
        return r[r["basis"] == "counterfactual"]
    e = estimates[
        (estimates["program_id"] == unit.program_id)
        & (estimates["outcome"] == unit.outcome)
        & (estimates["estimator"] == unit.estimator)
        & (estimates["aggregation"] == "simple")
        & estimates["key"].isna()
    ]
    dimension, _, value = unit.subgroup.partition("=")
    e = e[e["subgroup"] == dimension]
    if value and value != "*":
        e = e[e["subgroup_value"] == value]
    return e


def _shows(row: pd.Series, unit: Unit) -> str | None:
    """None if the row shows what the unit expects, else what it shows instead."""
    number = _finite(row.get("estimate"))
    if ESTIMATED in unit.codes and row.get("status") == ESTIMATED and number:
        return None
    if unit.reason == ESTIMATED:
        shown = (row.get("status"), row.get("reason"), row.get("estimate"))
        return "status {!r}, reason {!r}, estimate {!r}".format(*shown)
    codes = tuple(c for c in unit.codes if c != ESTIMATED)
    if REASONS[codes[0]].status == NOT_RUN:  # the pre-entry test of an estimated unit
        got = row.get("pretrend_reason")
        return None if got in codes else f"pretrend_reason {got!r}"
    reason = row.get("reason")
    if reason in codes and row.get("status") == REASONS[reason].status and not number:
        return None
    return f"status {row.get('status')!r}, reason {reason!r}, estimate {row.get('estimate')!r}"


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


# --- refused shapes ------------------------------------------------------------------------


def test_a_bad_submission_is_refused_with_one_clear_line(refused: ShapeRun) -> None:
    shape = refused.shape
    assert refused.exception is None, refused.output()
    assert refused.exit_code == shape.exit_code, refused.output()
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, refused.output()
    for fragment in shape.error:
        assert fragment.lower() in lines[0].lower(), (fragment, lines[0])
    assert "Traceback" not in refused.stdout + refused.stderr


# --- shapes that publish --------------------------------------------------------------------


def test_the_run_publishes(published: ShapeRun) -> None:
    _require_published(published)
    assert "Traceback" not in published.stdout + published.stderr, published.output()
    editions = list((published.folder / "report").glob(f"*-{published.shape.audience}-*"))
    assert editions, f"no edition in {published.folder / 'report'}"


def test_expected_units_are_stored_with_their_reason(
    published: ShapeRun, warehouse: duckdb.DuckDBPyConnection
) -> None:
    run_id = _run_id(warehouse)
    estimates = _table(warehouse, "results.estimates", run_id)
    roi = _table(warehouse, "results.roi", run_id)
    wrong = []
    for unit in published.shape.units:
        rows = _rows_of(unit, estimates, roi)
        if rows.empty:
            wrong.append(f"{unit}: no row stored")
            continue
        shown = [_shows(row, unit) for _, row in rows.iterrows()]
        # "dimension=*": at least one value of the dimension; otherwise every row
        bad = [s for s in shown if s is not None]
        if (unit.subgroup.endswith("=*") and len(bad) == len(shown)) or (
            not unit.subgroup.endswith("=*") and bad
        ):
            wrong.append(f"{unit}: expected {unit.reason}, got {bad[0]}")
    assert not wrong, "\n".join(wrong)


def test_every_unit_is_a_number_or_a_foreseen_reason(
    published: ShapeRun, warehouse: duckdb.DuckDBPyConnection
) -> None:
    run_id = _run_id(warehouse)
    estimates = _table(warehouse, "results.estimates", run_id)
    units = estimates[(estimates["aggregation"] == "simple") & estimates["key"].isna()]
    roi = _table(warehouse, "results.roi", run_id)
    wrong = []
    for kind, frame, value in (("estimate", units, "estimate"), ("roi", roi, "estimate")):
        for _, row in frame.iterrows():
            label = " / ".join(
                str(row.get(c))
                for c in (
                    "program_id",
                    "outcome",
                    "metric",
                    "estimator",
                    "subgroup",
                    "subgroup_value",
                )
                if c in frame.columns
            )
            if row["status"] == ESTIMATED:
                if not _finite(row[value]):
                    wrong.append(f"{kind} {label}: 'estimated' without a number ({row[value]!r})")
                elif kind == "estimate" and not _finite(row["std_error"]):
                    wrong.append(f"{kind} {label}: estimated with no standard error")
                continue
            if row["reason"] not in REASONS or REASONS[row["reason"]].status != row["status"]:
                wrong.append(f"{kind} {label}: status {row['status']!r} reason {row['reason']!r}")
            elif row["reason"] == "estimation_failed":
                wrong.append(f"{kind} {label}: unforeseen failure: {row.get('note')}")
            elif _finite(row[value]):
                wrong.append(f"{kind} {label}: a reason and a number ({row[value]})")
    assert not wrong, f"{len(wrong)} units:\n" + "\n".join(wrong[:40])


def _planted_att(
    con: duckdb.DuckDBPyConnection, run_id: str, program: str, outcome: str, effects: pd.DataFrame
) -> float:
    """What the Callaway-Sant'Anna simple aggregation targets on this run's sample.

    evaluation.did.aggregate("simple") averages the post-entry cells (t >= g, ATT defined)
    weighted by the size of their cohort among the firms with the outcome in the years the
    cells use. The planted effect is the same for every firm of a program at a given time
    since entry, so the target is that weighted mean of the planted effects.
    """
    cells = con.execute(
        "select * from results.att_gt where run_id = ? and program_id = ? and outcome = ? "
        "and att is not null",
        [run_id, program, outcome],
    ).df()
    assert not cells.empty, f"{program} / {outcome}: no group-time cells stored"
    years = pd.concat([cells["year"], cells.get("base_period", cells["year"] - 1)])
    columns = set(con.sql("select * from marts.mart_evaluation_panel limit 0").columns)
    has = f'"{outcome}" is not null' if outcome in columns else HAS_OUTCOME[outcome]
    sizes = dict(
        con.execute(
            "select cohort, count(distinct firm_id) from marts.mart_evaluation_panel "
            f"where program_id = ? and year between ? and ? and {has} group by cohort",
            [program, int(years.min()), int(years.max())],
        ).fetchall()
    )
    post = cells[cells["year"] >= cells["cohort"]]
    assert not post.empty, f"{program} / {outcome}: no post-entry cell"
    path = effects[(effects["program_id"] == program) & (effects["outcome"] == outcome)]
    path = path.set_index("event_time")["effect"].sort_index()
    assert not path.empty, f"no planted effect for {program} / {outcome}"
    e = (post["year"] - post["cohort"]).clip(upper=path.index.max())
    weight = post["cohort"].map(sizes).astype(float)
    return float((weight * e.map(path)).sum() / weight.sum())


def test_estimates_recover_the_planted_effects(
    published: ShapeRun, warehouse: duckdb.DuckDBPyConnection
) -> None:
    shape = published.shape
    run_id = _run_id(warehouse)
    estimates = _table(warehouse, "results.estimates", run_id)
    simple = estimates[
        (estimates["estimator"] == CS)
        & (estimates["subgroup"] == "all")
        & (estimates["aggregation"] == "simple")
        & estimates["key"].isna()
        & (estimates["status"] == ESTIMATED)
    ]
    effects = pd.read_csv(published.folder / "data" / "true_effects.csv")
    checked = set(shape.recovers) | {
        (p, o)
        for p, o in zip(simple["program_id"], simple["outcome"], strict=True)
        if o in HEADLINE
    }
    report, wrong = [], []
    for program, outcome in sorted(checked):
        row = simple[(simple["program_id"] == program) & (simple["outcome"] == outcome)]
        if row.empty:
            wrong.append(f"{program} / {outcome}: not estimated")
            continue
        estimate, se = float(row["estimate"].iloc[0]), float(row["std_error"].iloc[0])
        truth = _planted_att(warehouse, run_id, program, outcome, effects)
        tolerance = _tolerance_se(int(row["n_treated"].iloc[0]))
        line = (
            f"{program} / {outcome}: {estimate:+.4f} (se {se:.4f}), planted {truth:+.4f}, "
            f"tolerance {tolerance:.1f} se"
        )
        report.append(line)
        if not abs(estimate - truth) <= tolerance * se:
            wrong.append(line + f": off by {abs(estimate - truth) / se:.1f} se")
        if shape.max_se is not None and not se < shape.max_se:
            wrong.append(line + f": se not below {shape.max_se}")
    assert not wrong, "\n".join([*wrong, "all:", *report])
    for program in shape.pretrend_run:
        rows = simple[(simple["program_id"] == program) & simple["outcome"].isin(HEADLINE)]
        assert rows["pretrend_pvalue"].notna().all(), rows[["outcome", "pretrend_reason"]]
    if shape.dropped_covariates:
        balance = warehouse.execute("select * from results.balance where run_id = ?", [run_id]).df()
        assert "dropped" in balance.columns, "results.balance has no column 'dropped'"
        for program, dropped in shape.dropped_covariates:
            rows = balance[(balance["program_id"] == program) & (balance["dropped"] == dropped)]
            assert not rows.empty, f"{program}: no covariate dropped as {dropped!r}"


# --- the edition ------------------------------------------------------------------------


def _text(html: str) -> str:
    """What a reader sees: tags and scripts gone, entities decoded, spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _fragment(code: str, lang: str) -> str:
    """The longest stretch of a reason's text without a placeholder, in the edition's
    language (catalog key reason.<code> for Spanish and Portuguese)."""
    if lang == "en":
        template = REASONS[code].text
    else:
        from reports.i18n import Translator

        key, t = f"reason.{code}", Translator(lang)
        assert t.has(key), f"no {lang} text for reason {code!r} (reports/locales: {key})"
        template = t(key)
    pieces = [" ".join(p.split()) for p in re.split(r"\{[^}]*\}", template)]
    return max(pieces, key=len).strip(" ,.:;()")


def _status_words(code: str) -> str:
    return REASONS[code].status.replace("_", " ")


def _edition(run: ShapeRun) -> Path:
    shape = run.shape
    found = sorted((run.folder / "report").glob(f"*-{shape.audience}-{shape.language}-*"))
    assert len(found) == 1, found
    return found[0]


def _expected_on_page(shape: Shape, program: str) -> list[tuple[Unit, str]]:
    """Units whose page must show a reason. A unit that may be either estimated or not
    (`ESTIMATED` among its codes) has its stored outcome checked by the run tests instead."""
    units = [u for u in shape.units if u.program_id == program and ESTIMATED not in u.codes]
    return [(u, u.codes[0]) for u in units]


def test_the_edition_renders_and_shows_the_reasons(published: ShapeRun) -> None:
    from reports.pages import slug

    _require_published(published)
    shape = published.shape
    edition = _edition(published)
    lang = shape.language
    missing = []
    programs = shape.programs
    for program in programs:
        page = edition / f"program-{slug(program)}.html"
        if not page.exists():
            missing.append(f"no page {page.name}")
            continue
        text = _text(page.read_text(encoding="utf-8"))
        for unit, code in _expected_on_page(shape, program):
            fragment = _fragment(code, lang)
            if fragment not in text:
                missing.append(f"{page.name}: {unit}: reason text {fragment!r} not shown")
            if lang == "en" and _status_words(code) not in text:
                missing.append(f"{page.name}: {unit}: {_status_words(code)!r} not shown")
    # a headline effect that is not estimated is said so on the overview too
    index_text = _text((edition / "index.html").read_text(encoding="utf-8"))
    for unit in shape.units:
        headline = unit.estimator == CS and unit.subgroup == "all" and unit.outcome in HEADLINE
        if not headline or ESTIMATED in unit.codes:
            continue
        code = unit.codes[0]
        if REASONS[code].status != NOT_RUN and _fragment(code, lang) not in index_text:
            missing.append(f"index.html: {unit}: reason {code!r} not shown")
    assert not missing, "\n".join(missing)

    # and in a real browser: the overview and the page with the most reasons
    target = max(programs, key=lambda p: len(_expected_on_page(shape, p)), default=None)
    pages = [edition / "index.html"]
    if target is not None:
        pages.append(edition / f"program-{slug(target)}.html")
    for page in pages:
        dom, log = render(page)
        assert "</main>" in dom or "</body>" in dom, page.name
        charts = dom.count('class="plotly-graph-div')
        assert dom.count('class="main-svg"') >= charts, f"{page.name}: charts not drawn"
        assert [line for line in log.splitlines() if ":CONSOLE" in line] == [], page.name
        seen = _text(dom)
        if page.name != "index.html":
            for unit, code in _expected_on_page(shape, target):  # type: ignore[arg-type]
                assert _fragment(code, lang) in seen, f"{page.name} (rendered): {unit}: {code}"


# --- the registry itself -----------------------------------------------------------------------


def test_the_matrix_covers_the_issue_and_more() -> None:
    in_issue = [s for s in SHAPES.values() if s.in_issue]
    assert len(in_issue) == 19 and len(SHAPES) >= 20
    for shape in SHAPES.values():
        assert shape.description.strip() and shape.description.endswith(".")
        assert shape.exit_code == 0 or shape.error
        for unit in shape.units:
            assert all(code == ESTIMATED or code in REASONS for code in unit.codes), unit
    # a shape that must publish names what it must recover
    assert all(s.recovers for s in PUBLISHING)
    assert json.dumps([s.name for s in SHAPES.values()])  # names are plain text
