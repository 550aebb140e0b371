"""Building a publish's editions fast without changing them: the languages of a publish
built together (reports.site.build_sites: one read of the warehouse, two processes) are
the editions built one by one; the workbook writer (XlsxWriter) gives the cells
openpyxl gave; figures drawn from data (reports.figures.Draft) are plotly's own.

The warehouse is built once for the module through the real chain (test_disclosure's
planted data).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from plotly.subplots import make_subplots

from reports import export, figures, images, site
from reports.editions import read_index
from reports.i18n import Translator
from reports.site import SiteResult, build_site, build_sites

from .test_disclosure import RUN_ID, build_planted_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_planted_warehouse(tmp_path_factory.mktemp("warehouse"), seed=11)


def _contents(result: SiteResult) -> dict[str, object]:
    """Every file of an edition, its own id and build time taken out; the plotly figures
    of a page parsed (their keys' order is plotly's business); the workbook by cells."""
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?( UTC|\+00:00)?")
    out: dict[str, object] = {}
    for path in sorted(p for p in result.path.rglob("*") if p.is_file()):
        name = str(path.relative_to(result.path))
        if path.suffix == ".xlsx":
            book = load_workbook(path)
            out[name] = {
                sheet.title: [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]
                for sheet in book.worksheets
            }
        elif path.suffix == ".png":
            out[name] = path.read_bytes()
        else:
            text = stamp.sub(
                "TIME", path.read_text(encoding="utf-8").replace(result.edition_id, "ID")
            )
            plots = []
            while (at := text.find("Plotly.newPlot(")) >= 0:  # the figures' JSON, parsed
                end = text.index(").then(", at)
                plots.append(json.loads(f"[{text[at + len('Plotly.newPlot(') : end]}]"))
                text = text[:at] + f"PLOT{len(plots)}" + text[end:]
            out[name] = (text, plots)
    return out


def test_editions_built_together_are_those_built_one_by_one(
    warehouse: Path, tmp_path: Path
) -> None:
    common: dict[str, Any] = {"period": "2024", "audience": "public", "run_id": RUN_ID}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        alone = [
            build_site(con, tmp_path / "alone", lang=lang, images=False, **common)
            for lang in ("en", "es", "pt")
        ]
        together = build_sites(
            con, tmp_path / "together", langs=["en", "es", "pt"], images=False, **common
        )
    assert [r.lang for r in together] == ["en", "es", "pt"]
    for one, other in zip(alone, together, strict=True):
        assert _contents(one) == _contents(other), one.lang
        assert one.tables.keys() == other.tables.keys()
        for key, table in one.tables.items():
            pd.testing.assert_frame_equal(table, other.tables[key])
        pd.testing.assert_frame_equal(one.suppression_log, other.suppression_log)
    # indexed in the languages' order, newest first on the archive's page
    assert [e["lang"] for e in read_index(tmp_path / "together")] == ["en", "es", "pt"]
    for name in ("index.html", "index.es.html", "index.pt.html"):
        assert (tmp_path / "together" / name).exists()
    # the workbook of a build is the same file for the same cells
    for one, other in zip(alone, together, strict=True):
        book = "tables/tables.xlsx"
        assert (one.path / book).read_bytes() == (other.path / book).read_bytes()


def test_the_warehouse_is_read_once_for_every_language(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real = site.read_site_inputs

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append("read")
        return real(*args, **kwargs)

    monkeypatch.setattr(site, "read_site_inputs", counted)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for workers in (1, 2):
            built = build_sites(
                con,
                tmp_path / str(workers),
                period="2024",
                langs=["en", "es", "pt"],
                run_id=RUN_ID,
                images=False,
                workers=workers,
            )
            assert len(built) == 3
    assert reads == ["read", "read"]  # one per publish, in this process


def test_a_language_that_fails_leaves_the_others_indexed(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = site._write_edition

    def failing(folder: Path, final: Path, **kwargs: Any) -> dict[str, Any]:
        if kwargs["t"].lang == "es":  # built by the second process
            raise RuntimeError("planted failure")
        return real(folder, final, **kwargs)

    monkeypatch.setattr(site, "_write_edition", failing)
    out = tmp_path / "report"
    planted = pytest.raises(RuntimeError, match="planted failure")
    with duckdb.connect(str(warehouse), read_only=True) as con, planted:
        build_sites(con, out, period="2024", langs=["en", "es", "pt"], run_id=RUN_ID)
    assert [e["lang"] for e in read_index(out)] == ["en", "pt"]
    assert not list(out.glob(".building-*"))  # no half-built edition left
    with duckdb.connect(str(warehouse), read_only=True) as con, pytest.raises(ValueError):
        build_sites(con, tmp_path / "none", period="2024", langs=["en", "fr"], run_id=RUN_ID)
    assert not (tmp_path / "none").exists()  # refused before anything is written


# --- the workbook -----------------------------------------------------------------------------

ROWS: list[list[object]] = [
    ["text", "number", "flag"],
    ["Lima", 3, True],
    ["a & b < c > d", -2.5, False],
    ["  spaces kept  ", 0.1 + 0.2, None],
    ["'=1+1", 12345678.123456789, 1e-7],
    ["\r\n\tline", 2**60, float("nan")],
    ["bell\x07 and \x1f", None, float("inf")],
    ["x" * 40000, "", 7],
    ["ü ñ ç 中文 😀", -0.0, 0],
]


def _openpyxl_book(rows: list[list[object]], path: Path) -> Path:
    """The rows as openpyxl's write-only mode wrote them before (text typed as text)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    for row in rows:
        cells = []
        for value in export._row(row):
            if isinstance(value, str):  # Excel's limit for a cell, which XlsxWriter keeps
                value = value[:32767] or None  # and empty text: an empty cell
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    book.save(path)
    return path


def _cells(path: Path) -> list[list[tuple[object, str]]]:
    sheet = load_workbook(path).worksheets[0]
    return [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]


def test_workbook_cells_read_back_as_openpyxl_wrote_them(tmp_path: Path) -> None:
    rows = [export._row(r) for r in ROWS]
    ours = export._write_book([("data", rows)], tmp_path / "ours.xlsx", Translator("en"))
    theirs = _openpyxl_book(ROWS, tmp_path / "theirs.xlsx")
    # XlsxWriter stores a carriage return as Excel does (_x000D_), which Excel and
    # LibreOffice read back as one; openpyxl leaves it escaped
    cells = [
        [(v.replace("_x000D_", "\r") if isinstance(v, str) else v, kind) for v, kind in row]
        for row in _cells(ours)
    ]
    assert cells == _cells(theirs)
    assert cells[2][0] == ("a & b < c > d", "s")
    assert cells[3][0] == ("  spaces kept  ", "s")
    assert cells[4][0] == ("'=1+1", "s")  # text, never a formula
    assert cells[5][0] == ("'\r\n\tline", "s")  # neutralized: it starts with a control
    assert cells[6][0] == ("bell\ufffd and \ufffd", "s")
    assert cells[7][0][0] == "x" * 32767  # the longest text a cell holds
    assert cells[1][1:] == [(3, "n"), (True, "b")]
    assert cells[6][1:] == [(None, "n"), ("unbounded", "s")]  # as the JSON says, not "inf"
    titles = load_workbook(ours)["_tables"]
    assert [c.value for c in next(titles.iter_rows())] == ["table", "title"]


# --- figures from data ------------------------------------------------------------------------


def _spec(fig: go.Figure) -> Any:
    return json.loads(pio.to_json(fig, validate=False))


def test_a_drawn_figure_is_the_figure_plotly_builds() -> None:
    t = Translator("es")
    draft = figures.Draft()
    labels = ["a", "b"]
    draft.add_scatter(x=[1.5, 2.5], y=labels, mode="markers", marker={"color": "#123456"})
    labels.append("c")  # later changes to a list are not the trace's
    draft.add_vline(0.5, {"color": "#c8553d", "dash": "dash"}, name="All", annotation="All")
    draft.add_hline(0, {"color": "#888", "width": 1})
    draft.add_vrect(-0.1, 0.1, fillcolor="#2a9d8f", opacity=0.12, line={"width": 0})
    drawn = figures._layout(
        draft, t, "A title", height=300, xaxis_title="x", yaxis={"autorange": "reversed"}
    )

    fig = go.Figure()
    fig.add_scatter(x=[1.5, 2.5], y=["a", "b"], mode="markers", marker_color="#123456")
    fig.add_vline(
        x=0.5,
        line_color="#c8553d",
        line_dash="dash",
        annotation_text="All",
        annotation_position="top",
        name="All",
    )
    fig.add_hline(y=0, line_color="#888", line_width=1)
    fig.add_vrect(x0=-0.1, x1=0.1, fillcolor="#2a9d8f", opacity=0.12, line_width=0)
    top = 30 + 20  # one line of title, no legend
    fig.update_layout(
        template=figures.TEMPLATE,
        title={
            "text": "A title",
            "x": 0.01,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": 12},
            "font": {"size": 15},
        },
        margin={"l": 60, "r": 20, "t": top, "b": 50},
        height=300 + top - 50,
        separators=t.separators,
        xaxis_title="x",
        yaxis={"autorange": "reversed"},
    )
    assert _spec(drawn) == _spec(fig)


def test_panels_are_laid_out_as_make_subplots_lays_them_out() -> None:
    rng = random.Random(7)
    for _ in range(300):
        counts = [rng.randint(1, 40) for _ in range(rng.randint(1, 4))]
        spacing = min(0.2, 80 / (180 + 22 * sum(counts)))
        grid = make_subplots(rows=len(counts), cols=1, row_heights=counts, vertical_spacing=spacing)
        domains = [
            list(grid.layout[f"yaxis{'' if i == 1 else i}"].domain)
            for i in range(1, len(counts) + 1)
        ]
        assert figures.row_domains(counts, spacing) == domains, counts


def test_an_image_key_does_not_depend_on_the_order_a_figure_was_built_in() -> None:
    one = go.Figure()
    one.add_bar(x=["a"], y=[1])
    one.update_layout(height=300, title={"text": "T", "x": 0.1})
    other = go.Figure({"data": [{"type": "bar", "y": [1], "x": ["a"]}]})
    other.update_layout(title={"x": 0.1, "text": "T"}, height=300)
    assert pio.to_json(one) != pio.to_json(other)  # the same figure, written differently
    assert images.image_key(one, 2.0) == images.image_key(other, 2.0)
