"""Editions of runs that could not estimate everything, and of submissions without the
optional entities: every figure not estimated shows its status and reason (en, es, pt),
counts inside reasons go through disclosure control, and publishing never needs what is
optional (a client survey, targets, budgets, participations of every program, the headline
outcomes).

Warehouses are built by the real steps (without Prefect) on small generated data; what
the estimation side stores for units it cannot estimate is then written into the results
tables directly, as `warehouse/migrations/012_estimation_status.sql` describes it, so these
tests rest on the table columns and not on how estimation decides.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation.reasons import REASONS
from reports import tables
from reports.disclosure import DisclosureRules, contributions, protect_params, protect_reasons
from reports.i18n import LANGS, Lang, Translator
from reports.reasons import catalogue, cell_text, reason_text, with_reason_texts
from reports.site import SiteResult, build_site

from .browser import render
from .test_disclosure import _figures

RUN = "reasons-run"
CHL, PER, BRA = "SYN-CHL-PDP", "SYN-PER-VOUCHER", "SYN-BRA-SEBRAETEC"
NEW = "SYN-CHL-NEW"  # a program of the registry with no participations
K = 5  # the default disclosure threshold


# --- the reason texts ---------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_reason_code_has_three_languages_with_the_same_placeholders() -> None:
    for code, kind in REASONS.items():
        key = f"reason.{code}"
        assert Translator("en").has(key), f"{code}: no text in the catalogs (reports/locales)"
        en, es, pt = (Translator(lang)(key) for lang in ("en", "es", "pt"))
        assert en == kind.text, code  # the English text is the catalogue's
        assert es.strip() and pt.strip() and es != en and pt != en, code
        assert _placeholders(es) == _placeholders(pt) == _placeholders(kind.text), code
        assert Translator("en").has(f"status.{kind.status}"), kind.status
        for name in _placeholders(kind.text):  # the methodology page names each of them
            assert Translator("en").has(f"placeholder.{name}"), (code, name)


def test_reason_numbers_are_written_in_the_edition_locale() -> None:
    params = json.dumps({"n": 1234, "min": 2500})
    assert cell_text("not_estimated", "too_few_beneficiaries", params, Translator("en")) == (
        "not estimated: 1,234 beneficiaries, fewer than the 2,500 required"
    )
    assert cell_text("not_estimated", "too_few_beneficiaries", params, Translator("es")) == (
        "no estimado: 1.234 beneficiarias, menos de las 2.500 requeridas"
    )
    assert cell_text("not_estimated", "too_few_beneficiaries", params, Translator("pt")) == (
        "não estimado: 1.234 beneficiárias, menos que as 2.500 exigidas"
    )
    # a pre-entry test's reason says "not run", whatever the row's status column says
    text = cell_text(None, "pretrend_too_few_firms", {"n": 12, "min": 50}, Translator("es"))
    assert text == "no realizada: 12 beneficiarias en los años previos al ingreso, menos de 50"
    # data codes inside reasons are in words; a window reads as a range
    window = reason_text("matching_no_window", {"pre": [-3, -1], "post": [1, 3]}, Translator("pt"))
    assert "−" not in window and "-3 a -1" in window and "1 a 3" in window
    column = reason_text("outcome_constant", {"column": "log_sales"}, Translator("es"))
    assert column == "ventas es constante dentro de cada empresa"


def test_reasons_without_a_translation_or_from_a_newer_catalogue_still_print() -> None:
    t = Translator("es")
    assert cell_text("not_estimated", "a_code_from_later", "{}", t) == (
        "no estimado: código de motivo a_code_from_later"
    )
    assert cell_text("not_estimated", None, None, t) == "no estimado"
    # an agency's own outcome label where this module has none
    labelled = Translator("es", codes={"outcome.earnings": "Masa salarial"})
    assert reason_text("outcome_constant", {"column": "earnings"}, labelled).startswith(
        "Masa salarial"
    )


def test_counts_under_the_threshold_are_not_printed_in_public_editions() -> None:
    rules = DisclosureRules()
    protected, hit = protect_params('{"n": 3, "min": 30}', rules.min_firms)
    assert hit and json.loads(str(protected)) == {"n": {"fewer_than": 5}, "min": 30}
    for n in (0, 5, 40):  # zero hides nobody; at or above k is publishable
        assert protect_params(json.dumps({"n": n, "min": 30}), 5) == (
            json.dumps({"n": n, "min": 30}),
            False,
        )
    assert protect_params('{"n_treated": 2}', 5)[1] and not protect_params('{"min": 2}', 5)[1]
    languages: tuple[tuple[Lang, str], ...] = (
        ("en", "fewer than 5 beneficiaries, fewer than the 30 required"),
        ("es", "menos de 5 beneficiarias, menos de las 30 requeridas"),
        ("pt", "menos de 5 beneficiárias, menos que as 30 exigidas"),
    )
    for lang, words in languages:
        assert reason_text("too_few_beneficiaries", protected, Translator(lang)) == words
    frame = pd.DataFrame(
        {
            "program_id": ["A", "B"],
            "reason": ["too_few_beneficiaries"] * 2,
            "reason_params": ['{"n": 3, "min": 30}', '{"n": 12, "min": 30}'],
        }
    )
    public, log = protect_reasons(frame, ("program_id",), "t", rules, apply=True)
    internal, internal_log = protect_reasons(frame, ("program_id",), "t", rules, apply=False)
    assert '"fewer_than": 5' in public.loc[0, "reason_params"]
    assert public.loc[1, "reason_params"] == frame.loc[1, "reason_params"]
    assert internal.loc[0, "reason_params"] == frame.loc[0, "reason_params"]  # shown inside
    assert log[["row", "column", "rule"]].values.tolist() == [
        ['{"program_id":"A"}', "reason_params", "min_firms"]
    ]
    assert internal_log["applied"].tolist() == [False] and log["applied"].tolist() == [True]


def test_contributions_of_an_empty_frame_are_typed() -> None:
    empty = pd.DataFrame({"program_id": pd.Series([], dtype=str), "firm_id": [], "jobs": []})
    sums = contributions(empty, ["program_id"], "jobs", top=2)
    assert list(sums.columns) == ["program_id", "total", "firms", "top"]
    assert sums["total"].dtype == float and sums["top"].dtype == float
    assert pd.api.types.is_integer_dtype(sums["firms"])
    # also when the value column was never there (a survey without the question)
    assert sums.equals(contributions(empty.drop(columns="jobs"), ["program_id"], "jobs", top=2))


def test_display_units_come_from_the_stored_unit_first() -> None:
    values = pd.Series([0.1, np.nan])
    assert tables.to_display("log_sales", values).round(4).tolist()[0] == round(
        100 * np.expm1(0.1), 4
    )
    assert tables.to_display("earnings", values, "usd").tolist()[0] == 0.1  # money as is
    assert tables.to_display("exporter", values).tolist()[0] == pytest.approx(10.0)
    assert tables.to_display("log_sales", values, "level").tolist()[0] == 0.1  # stored wins
    assert [tables.unit_of(o) for o in ("log_x", "exporter", "employment", "earnings")] == [
        "pct",
        "pp",
        "jobs",
        "level",
    ]


def test_export_adds_the_reason_in_words_beside_the_code() -> None:
    frame = pd.DataFrame(
        {
            "effect": [1.0, np.nan],
            "status": ["estimated", "not_estimable"],
            "reason": [None, "outcome_constant"],
            "reason_params": [None, '{"column": "log_sales"}'],
            "pretrend_reason": ["pretrend_no_leads", None],
        }
    )
    out = with_reason_texts(frame, Translator("pt"))
    assert list(out.columns) == [
        "effect",
        "status",
        "reason",
        "reason_params",
        "reason_text",
        "pretrend_reason",
        "pretrend_reason_text",
    ]
    assert out["reason_text"].tolist() == [
        None,
        "não estimável: vendas é constante dentro de cada empresa",
    ]
    assert out["pretrend_reason_text"].tolist()[0].startswith("não realizado: ")


# --- warehouses built by the real steps --------------------------------------------------


def _chain(
    root: Path, change: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]
) -> Path:
    """Generate small demo data, let `change` reshape its entities, and run ingest, the
    warehouse build and estimation (no Prefect); return the warehouse file."""
    from evaluation.synthetic import generate_demo
    from flows import steps
    from flows.config import load_config
    from flows.demo_files import write_demo_files
    from warehouse.db import open_warehouse
    from warehouse.runs import start_run

    data = generate_demo(seed=3, n_firms=600, first_year=2014, last_year=2022)
    data = dataclasses.replace(data, tables=change(dict(data.tables)))
    paths = write_demo_files(data, root / "data")
    settled = time.time() - 60  # the loader waits for files written moments ago
    for path in paths.values():
        os.utime(path, (settled, settled))
    config = {
        "title": "reasons",
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "sources": {
            name: str(path.relative_to(root)) for name, path in paths.items() if name in data.tables
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    cfg = load_config(root / "config.yaml")
    with open_warehouse(cfg.warehouse) as con:
        start_run(con, RUN, "test", {"synthetic": True, "price_base_year": 2020})
    steps.ingest_sources(cfg, RUN)
    steps.build_warehouse(cfg)
    steps.estimate(cfg, RUN)
    return cfg.warehouse


def _optional_missing(entities: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """No client survey, no targets; one program without budget rows; one more program
    in the registry that nobody took part in."""
    entities.pop("client_survey", None)
    entities.pop("targets", None)
    budgets = entities["program_budgets"]
    entities["program_budgets"] = budgets[budgets["program_id"] != PER].reset_index(drop=True)
    programs = entities["programs"]
    extra = programs[programs["program_id"] == CHL].assign(
        program_id=NEW, name="[Synthetic] A program nobody joined yet", start_year=2021
    )
    entities["programs"] = pd.concat([programs, extra], ignore_index=True)
    return entities


def _one_program_no_budgets(entities: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A single program, no budget rows at all, no survey, no targets."""
    entities = _optional_missing(entities)
    entities["programs"] = entities["programs"][entities["programs"]["program_id"] == BRA]
    part = entities["participations"]
    entities["participations"] = part[part["program_id"] == BRA].reset_index(drop=True)
    entities["program_budgets"] = entities["program_budgets"].iloc[0:0]
    return entities


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _chain(tmp_path_factory.mktemp("optional"), _optional_missing)


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _chain(tmp_path_factory.mktemp("single"), _one_program_no_budgets)


def _variant(warehouse: Path, folder: Path, sql: str = "") -> Path:
    """A copy of the warehouse with the results tables edited."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    if sql:
        with duckdb.connect(str(copy)) as con:
            con.execute(sql)
    return copy


def _publish(warehouse: Path, out: Path, **kwargs: Any) -> SiteResult:
    arguments: dict[str, Any] = {
        "period": "2022",
        "lang": "en",
        "audience": "public",
        "run_id": RUN,
        "images": False,
        **kwargs,
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return build_site(con, out, **arguments)


def _page(site: SiteResult, program: str) -> str:
    return (site.path / f"program-{program.lower()}.html").read_text(encoding="utf-8")


def _cells(html: str, column: str) -> list[str]:
    """The texts of the cells of one column (`data-col`) of a page."""
    return [
        re.sub(r"<[^>]+>", "", text)
        for text in re.findall(rf'<td data-col="{column}"[^>]*>(.*?)</td>', html, re.S)
    ]


def _csv(site: SiteResult, table: str) -> pd.DataFrame:
    return pd.read_csv(site.path / "tables" / f"{table}.csv", dtype=str, keep_default_na=False)


def _all_text(site: SiteResult) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in site.path.rglob("*")
        if p.is_file() and p.suffix in (".html", ".csv", ".json")
    )


# --- optional means optional --------------------------------------------------------------


def test_no_survey_no_targets_and_a_program_without_budgets_publish_in_every_language(
    base: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(base), read_only=True) as con:
        assert con.sql("select count(*) from results.roi").fetchall()[0][0] > 0
        assert not con.sql(
            "select count(*) from results.roi where basis = 'self_reported'"
        ).fetchall()[0][0]
    for lang in LANGS:
        site = _publish(base, tmp_path / "out", lang=lang)
        assert len(site.pages) == 8  # overview, 4 programs, quality, methodology, changes
        roi = site.tables["roi"]
        assert len(roi) and set(roi["basis"]) == {"counterfactual"}
        budget = site.tables["budget"]
        assert len(budget) and PER not in set(budget["program_id"])
        per = _page(site, PER)
        assert 'data-table="budget"' in per and 'data-table="effects_by_horizon"' in per
        # a registered program without beneficiaries says so where its effects would be
        nobody = _page(site, NEW)
        assert Translator(lang)("reason.no_beneficiaries") in nobody
        portfolio = site.tables["portfolio"].set_index("program_id")
        assert portfolio.loc[NEW, "firms_served"] == 0


def test_a_quarterly_edition_without_optional_entities(base: Path, tmp_path: Path) -> None:
    site = _publish(base, tmp_path, period="2022Q2", lang="pt")
    assert "effects_by_horizon" not in site.tables and "roi" not in site.tables
    assert not [c for c in site.tables["portfolio"].columns if c.endswith("_effect")]
    assert "Edição trimestral" in site.index.read_text(encoding="utf-8")


def test_a_single_program_without_any_budget_publishes(single: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(single), read_only=True) as con:
        assert not con.sql("select count(*) from marts.mart_budget_share_gdp").fetchall()[0][0]
    for period in ("2022", "2022Q4"):
        site = _publish(single, tmp_path / period, period=period, lang="es")
        assert site.tables["budget"].empty
        programs = site.tables["portfolio"]["program_id"].dropna().tolist()
        assert programs == [BRA]
        assert (site.path / f"program-{BRA.lower()}.html").exists()


# --- reasons where the numbers would be ---------------------------------------------------

SPEC = json.dumps(
    {
        "control_group": "nevertreated",
        "outcome_definitions": [
            {
                "name": "earnings",
                "label": "Earnings (wage bill)",
                "column": "wage_bill",
                "transform": "level",
                "per": None,
                "unit": "usd",
            }
        ],
    }
)
CS = "callaway_santanna_2021"


def _not_estimated(program: str, outcome: str, status: str, reason: str, params: str) -> str:
    """SQL: the program's outcome stored as the estimation stores a unit it cannot
    estimate: one whole-sample row, null estimate, status and reason."""
    return f"""
        delete from results.estimates where program_id = '{program}' and outcome = '{outcome}'
            and estimator = '{CS}' and not (aggregation = 'simple' and subgroup = 'all');
        delete from results.att_gt where program_id = '{program}' and outcome = '{outcome}';
        update results.estimates set estimate = null, std_error = null, ci_low = null,
            ci_high = null, pretrend_pvalue = null, pretrend_passes = null,
            status = '{status}', reason = '{reason}', reason_params = '{params}',
            note = 'see evaluation.reasons'
        where program_id = '{program}' and outcome = '{outcome}' and estimator = '{CS}';
    """


REASONS_SQL = (
    _not_estimated(
        CHL,
        "log_va_per_worker",
        "not_estimable",
        "outcome_constant",
        '{"column": "log_va_per_worker"}',
    )
    + _not_estimated(
        PER, "log_sales", "not_estimated", "too_few_beneficiaries", '{"n": 3, "min": 30}'
    )
    + f"""
    update results.estimates set unit = case when outcome like 'log_%' then 'pct'
        when outcome in ('exporter', 'rd_intensity') then 'pp' else 'jobs' end;
    update results.estimates set status = 'not_estimated', reason = 'too_few_beneficiaries',
        reason_params = json_object('n', n_treated, 'min', 30)
    where subgroup <> 'all' and estimate is null;
    update results.estimates set pretrend_reason = 'pretrend_too_few_firms',
        pretrend_reason_params = '{{"n": 1234, "min": 50}}', pretrend_passes = null
    where program_id = '{BRA}' and outcome = 'log_sales' and aggregation = 'simple'
        and subgroup = 'all' and estimator = '{CS}';
    update results.estimates set pretrend_reason = 'pretrend_too_few_firms',
        pretrend_reason_params = '{{"n": 2, "min": 50}}', pretrend_passes = null
    where program_id = '{BRA}' and outcome = 'log_employment' and aggregation = 'simple'
        and subgroup = 'all' and estimator = '{CS}';
    update results.roi set estimate = null, ci_low = null, ci_high = null,
        status = 'not_estimated', reason = 'outcome_not_submitted',
        reason_params = '{{"column": "value_added"}}'
    where program_id = '{CHL}' and metric = 'value_added_per_dollar';
    delete from results.estimates where program_id = '{PER}' and estimator = 'matching_did';
    insert into results.estimates by name
        select * replace ('matching_did' as estimator, null as estimate, null as std_error,
            null as ci_low, null as ci_high, 'not_estimated' as status,
            'matching_no_overlap' as reason, '{{}}' as reason_params)
        from results.estimates where program_id = '{PER}' and estimator = '{CS}'
            and aggregation = 'simple' and subgroup = 'all' and outcome = 'log_employment';
    update results.balance set dropped = 'constant', mean_treated_after = null,
        mean_control_after = null, smd_after = null
    where program_id = '{BRA}' and covariate = 'log_va_per_worker';
    insert into results.estimates by name
        select * replace ('earnings' as outcome, 'usd' as unit, estimate * 1e5 as estimate,
            ci_low * 1e5 as ci_low, ci_high * 1e5 as ci_high,
            band_low * 1e5 as band_low, band_high * 1e5 as band_high)
        from results.estimates where program_id = '{BRA}' and outcome = 'log_wage_per_worker'
            and estimator = '{CS}';
    update results.estimates set specification = '{SPEC}' where program_id = '{BRA}';
    """
)


@pytest.fixture(scope="module")
def reasons(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, SiteResult]:
    """Public editions in three languages and an internal one, of a run where some units
    could not be estimated."""
    root = tmp_path_factory.mktemp("reasons")
    warehouse = _variant(base, root, REASONS_SQL)
    sites: dict[str, SiteResult] = {
        lang: _publish(warehouse, root / "public", lang=lang) for lang in LANGS
    }
    sites["internal"] = _publish(warehouse, root / "internal", audience="internal")
    return sites


def test_the_overview_shows_why_a_headline_effect_is_missing(
    reasons: dict[str, SiteResult],
) -> None:
    expected = {
        "en": "not estimated: fewer than 5 beneficiaries, fewer than the 30 required",
        "es": "no estimado: menos de 5 beneficiarias, menos de las 30 requeridas",
        "pt": "não estimado: menos de 5 beneficiárias, menos que as 30 exigidas",
        "internal": "not estimated: 3 beneficiaries, fewer than the 30 required",
    }
    for edition, text in expected.items():
        html = reasons[edition].index.read_text(encoding="utf-8")
        row = re.search(rf'<tr data-key="[^"]*{PER}[^"]*".*?</tr>', html, re.S)
        assert row is not None
        assert _cells(row.group(0), "log_sales_effect") == [text], edition
        assert 'class="na"' in row.group(0)
    # the legend tells a figure not estimated from a suppressed one
    legend = reasons["en"].index.read_text(encoding="utf-8")
    assert (
        "x: suppressed" in legend and "not estimated, not estimable: the figure could not" in legend
    )


def test_program_pages_show_every_kind_of_reason(reasons: dict[str, SiteResult]) -> None:
    en, es = reasons["en"], reasons["es"]
    chl = _page(en, CHL)
    # the reason spans the four horizons and the p and q columns
    assert re.search(
        r'<td data-col="effect" class="na" colspan="7">not estimable: value added per worker '
        r"is constant within every firm</td>",
        chl,
    )
    assert (
        "value added per public dollar (counterfactual): not estimated: value_added is not in the submission"
        in chl
    )
    assert "not estimated: value_added is not in the submission (no non-missing values)" in _cells(
        chl, "estimate"
    )
    bra = _page(en, BRA)
    pretrend = _cells(bra, "pretrend_passes")
    assert "not run: 1,234 beneficiaries behind the leads, fewer than 50" in pretrend
    assert "not run: fewer than 5 beneficiaries behind the leads, fewer than 50" in pretrend
    assert (
        "no realizada: 1.234 beneficiarias en los años previos al ingreso, menos de 50"
        in _cells(_page(es, BRA), "pretrend_passes")
    )
    assert "dropped before the propensity score: constant in the sample" in _cells(bra, "status")
    per = _page(en, PER)
    # the sales charts cannot be drawn: their titles and the reason stand in their place
    assert per.count('class="chart placeholder-chart"') == 2
    assert (
        'Effect on sales by years since entry</p><p class="na">not estimated: fewer than 5' in per
    )
    titles = [layout.get("title", {}).get("text", "") for _, layout in _figures(per)]
    assert not [title for title in titles if "sales" in title and "Effect" in title]
    assert _cells(per, "effect")[-1].startswith("not estimated: no beneficiary has a comparison")
    # groups too small are named in the group chart with their status
    forest = [data for data, layout in _figures(bra) if "by group" in layout["title"]["text"]]
    assert forest and any(
        trace.get("mode") == "text" and "not estimated" in trace["text"] for trace in forest[0]
    )
    het = _cells(bra, "effect")
    assert "not estimated: fewer than 5 beneficiaries, fewer than the 30 required" in het


def test_agency_outcomes_show_with_their_label_and_unit(reasons: dict[str, SiteResult]) -> None:
    for lang in LANGS:
        page = _page(reasons[lang], BRA)
        assert "Earnings (wage bill)" in page
        assert Translator(lang)("unit.usd") in page
    horizon = reasons["en"].tables["effects_by_horizon"]
    earnings = horizon[(horizon["outcome"] == "earnings") & (horizon["horizon"] == "overall")]
    wage = horizon[
        (horizon["outcome"] == "log_wage_per_worker") & (horizon["horizon"] == "overall")
    ]
    # money stays money: 1e5 x the log-point estimate, not 100 x (e^x - 1) of it
    expected = np.log1p(float(wage["effect"].iloc[0]) / 100) * 1e5
    assert float(earnings["effect"].iloc[0]) == pytest.approx(expected, rel=1e-9)
    assert earnings["unit"].tolist() == ["usd"]


def test_exports_carry_status_reason_and_its_words(reasons: dict[str, SiteResult]) -> None:
    for lang, words in (("en", "not estimable: "), ("pt", "não estimável: ")):
        site = reasons[lang]
        horizon = _csv(site, "effects_by_horizon")
        row = horizon[(horizon["program_id"] == CHL) & (horizon["outcome"] == "log_va_per_worker")]
        assert row[["status", "reason", "effect"]].values.tolist() == [
            ["not_estimable", "outcome_constant", ""]
        ]
        assert row["reason_text"].iloc[0].startswith(words)
        assert {"pretrend_reason", "pretrend_reason_text"} <= set(horizon.columns)
        roi = _csv(site, "roi")
        va = roi[(roi["program_id"] == CHL) & (roi["metric"] == "value_added_per_dollar")]
        assert va[["status", "reason"]].values.tolist() == [
            ["not_estimated", "outcome_not_submitted"]
        ]
        balance = _csv(site, "balance")
        dropped = balance[balance["reason"] == "constant"]
        assert dropped["status"].tolist() == ["dropped"] and dropped["reason_text"].iloc[0]
        het = _csv(site, "heterogeneity")
        assert {"status", "reason", "reason_text"} <= set(het.columns)
        doc = json.loads((site.path / "tables" / "roi.json").read_text(encoding="utf-8"))
        assert "reason_text" in doc["columns"]
        book = pd.read_excel(site.path / "tables" / "tables.xlsx", sheet_name="matching", dtype=str)
        assert {"status", "reason", "reason_text"} <= set(book.columns)


def test_counts_inside_reasons_follow_disclosure_control(reasons: dict[str, SiteResult]) -> None:
    for lang in LANGS:
        text = _all_text(reasons[lang])
        assert '"n": 3,' not in text and '\\"n\\": 3,' not in text, lang
        assert not re.search(r"(?<![\d.,])[1-4] (beneficiaries|beneficiarias|beneficiárias)", text)
    internal = _all_text(reasons["internal"])
    assert "3 beneficiaries, fewer than the 30 required" in internal
    log = reasons["en"].suppression_log
    withheld = log[log["column"].str.endswith("reason_params")]
    assert len(withheld) and set(withheld["rule"]) == {"min_firms"}
    assert "pretrend_reason_params" in set(withheld["column"])
    assert len(reasons["internal"].suppression_log) == len(log)


def test_the_methodology_page_lists_every_reason(reasons: dict[str, SiteResult]) -> None:
    for lang in LANGS:
        page = (reasons[lang].path / "methodology.html").read_text(encoding="utf-8")
        listed = re.findall(r'<tr data-key="(\w+)"><td>([^<]+)</td><td>([^<]+)</td>', page)
        assert [code for code, _, _ in listed] == list(REASONS), lang
        t = Translator(lang)
        expected = {row["code"]: row for row in catalogue(t)}
        for code, status, text in listed:
            assert status == t(f"status.{REASONS[code].status}")
            assert text.replace("&#39;", "'") == expected[code]["text"]
            assert "{" not in text
        for status in ("not_estimated", "not_estimable", "not_run"):
            assert t(f"status_help.{status}") in page.replace("&#39;", "'")


def test_a_page_with_reasons_displays_in_a_browser(reasons: dict[str, SiteResult]) -> None:
    page = reasons["es"].path / f"program-{PER.lower()}.html"
    dom, log = render(page, budget_ms=4000)
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert not console, console[:3]
    assert "no estimado: menos de 5 beneficiarias, menos de las 30 requeridas" in dom
    assert dom.count('class="main-svg"') >= 2 * page.read_text(encoding="utf-8").count(
        'class="plotly-graph-div"'
    )


# --- runs that estimated little -----------------------------------------------------------


def test_a_run_where_nothing_was_estimated_publishes(base: Path, tmp_path: Path) -> None:
    sql = """
        delete from results.estimates where not (aggregation = 'simple' and subgroup = 'all');
        delete from results.att_gt;
        update results.estimates set estimate = null, std_error = null, ci_low = null,
            ci_high = null, band_low = null, band_high = null, pretrend_pvalue = null,
            pretrend_passes = null, status = 'not_estimated', reason = 'no_comparison_cells',
            reason_params = '{"control_group": "notyettreated"}';
        update results.roi set estimate = null, ci_low = null, ci_high = null,
            status = 'not_estimated', reason = 'no_post_entry_effect',
            reason_params = '{"outcome": "log_va_per_worker"}';
        delete from results.balance;
    """
    warehouse = _variant(base, tmp_path / "w", sql)
    for lang in ("en", "pt"):
        site = _publish(warehouse, tmp_path / "out", lang=lang)
        assert site.tables["event_study"].empty
        horizon = site.tables["effects_by_horizon"]
        assert len(horizon) and horizon["effect"].isna().all()
        assert set(horizon["status"]) == {"not_estimated"}
        overview = site.index.read_text(encoding="utf-8")
        cells = _cells(overview, "log_sales_effect")
        t = Translator(lang)
        reason = cell_text(
            "not_estimated", "no_comparison_cells", {"control_group": "notyettreated"}, t
        )
        assert cells.count(reason) == 4  # every program (4); the total row has no effect
        page = _page(site, CHL)
        assert 'class="plotly-graph-div"' in page  # reach and spending still drawn
        assert page.count('class="chart placeholder-chart"') == 4  # 2 outcomes x 2 charts
        assert "0.0 [0.0, 0.0]" not in page and "0,0 [0,0, 0,0]" not in page
        assert cell_text(
            "not_estimated", "no_post_entry_effect", {"outcome": "log_va_per_worker"}, t
        ) in (_cells(page, "estimate"))


def test_only_sales_and_employment_estimated(base: Path, tmp_path: Path) -> None:
    sql = """
        delete from results.estimates where outcome not in ('log_sales', 'log_employment');
        delete from results.att_gt where outcome not in ('log_sales', 'log_employment');
        update results.roi set estimate = null, ci_low = null, ci_high = null,
            status = 'not_estimated', reason = 'outcome_not_submitted',
            reason_params = '{"column": "value_added"}'
        where metric = 'value_added_per_dollar';
    """
    site = _publish(_variant(base, tmp_path / "w", sql), tmp_path / "out", lang="es")
    horizon = site.tables["effects_by_horizon"]
    assert set(horizon["outcome"]) == {"log_sales", "log_employment"}
    page = _page(site, BRA)
    assert "no estimado: value_added no figura en la entrega (no tiene ningún valor)" in _cells(
        page, "estimate"
    )
    assert page.count('class="chart"') >= 8  # reach, spending, event studies, groups, ROI...


def test_pages_build_without_the_headline_outcomes(base: Path, tmp_path: Path) -> None:
    sql = """
        delete from results.estimates where outcome in ('log_sales', 'log_employment');
        delete from results.att_gt where outcome in ('log_sales', 'log_employment');
        delete from results.roi where metric = 'sales_per_dollar';
    """
    site = _publish(_variant(base, tmp_path / "w", sql), tmp_path / "out")
    effects = [c for c in site.tables["portfolio"].columns if c.endswith("_effect")]
    assert effects == ["log_wage_per_worker_effect", "log_va_per_worker_effect"]  # what there is
    page = _page(site, BRA)
    titles = [layout["title"]["text"] for _, layout in _figures(page)]
    assert "Effect on wage per worker by years since entry" in titles
    assert "Effect on sales" not in page


def test_a_warehouse_from_before_statuses_still_publishes(base: Path, tmp_path: Path) -> None:
    columns = {
        "estimates": (
            "status",
            "reason",
            "reason_params",
            "note",
            "pretrend_reason",
            "pretrend_reason_params",
            "unit",
        ),
        "roi": ("status", "reason", "reason_params", "note"),
        "balance": ("dropped",),
    }
    sql = "".join(
        f"alter table results.{table} drop column {column};\n"
        for table, names in columns.items()
        for column in names
    )
    site = _publish(_variant(base, tmp_path / "w", sql), tmp_path / "out", lang="es")
    het = _csv(site, "heterogeneity")
    groups = het[(het["dimension"] == "region") & (het["effect"] == "")]
    # subgroups stored without an estimate, before reasons were stored: not estimated
    assert len(groups) and set(groups["status"]) == {"not_estimated"}
    assert "no estimado" in _cells(_page(site, BRA), "effect")
