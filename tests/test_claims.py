"""Claims against records (evaluation.claims): the share of claims above the recorded
change, the gross-to-net ratio and its interval, the survey's response rate and bias, on a
seeded panel with planted over-claiming; the same on the demo generator's data; storage
with the run's results; and the editions (with and without a survey, firm rows in
internal editions only)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import claims
from evaluation.did import att_gt
from evaluation.reasons import REASONS
from flows.config import RunConfig
from reports import tables
from reports.disclosure import DisclosureRules, protect
from reports.i18n import LANGS, Translator
from reports.site import SiteResult, build_site

# --- a seeded panel with planted over-claiming -----------------------------------------------


@dataclass(frozen=True)
class Planted:
    """A program's panel, its beneficiaries with their answers, the estimated ATT(g,t)
    and what was planted."""

    panel: pd.DataFrame
    clients: pd.DataFrame
    att_gt: pd.DataFrame
    share: float  # probability that a respondent claims more than its records moved
    truth: pd.DataFrame  # per answer: true incremental sales and jobs


def planted_program(
    seed: int,
    *,
    n: int = 2400,
    over_share: float = 0.6,
    factor: float = 4.0,
    selective: bool = False,
    persistence: float = 0.0,
) -> Planted:
    """Firms 2010-2019, a third of them beneficiaries entering 2013-2017 (larger firms),
    log sales and log employment with parallel trends in logs and planted effects
    tau(e) = 0.04 + 0.02 e (sales), 0.02 + 0.01 e (employment) from entry. Beneficiaries
    answer a survey (75%; with `selective`, the larger ones more often) 1 or 2 years after
    entry. A respondent over-claims with probability `over_share`: its claim is what its
    records moved by (when positive) plus `factor` times its true incremental sales (jobs);
    the others claim the smaller of the truth and the recorded change (nothing when their
    records fell), never more than the records. `persistence`: AR(1) coefficient of the
    firms' yearly shocks (0: independent from year to year)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2020)
    treated = rng.random(n) < 1 / 3
    cohort = np.where(treated, rng.integers(2013, 2018, n), 0)
    size = rng.normal(0, 1, n) + 0.5 * treated  # beneficiaries are larger
    a_sales, a_emp = 14 + size, 3 + 0.8 * size
    year_fx = np.cumsum(rng.normal(0.03, 0.02, len(years)))
    rows = []
    shock_s, shock_e = rng.normal(0, 0.12, n), rng.normal(0, 0.08, n)
    keep = math.sqrt(1 - persistence**2)  # the shocks' variance stays the same
    for j, t in enumerate(years):
        e = t - cohort
        post = treated & (e >= 0)
        tau_s = np.where(post, 0.04 + 0.02 * e, 0.0)
        tau_e = np.where(post, 0.02 + 0.01 * e, 0.0)
        if j:
            shock_s = persistence * shock_s + keep * rng.normal(0, 0.12, n)
            shock_e = persistence * shock_e + keep * rng.normal(0, 0.08, n)
        log_s0 = a_sales + year_fx[j] + shock_s
        log_e0 = a_emp + 0.5 * year_fx[j] + shock_e
        rows.append(
            pd.DataFrame(
                {
                    "program_id": "P",
                    "firm_id": [f"f{i:05d}" for i in range(n)],
                    "year": t,
                    "cohort": cohort,
                    "log_sales": log_s0 + tau_s,
                    "log_employment": log_e0 + tau_e,
                    "tau_sales": tau_s,
                    "tau_jobs": tau_e,
                }
            )
        )
    panel = pd.concat(rows, ignore_index=True)
    panel["sales_usd"] = np.exp(panel["log_sales"])
    panel["employment"] = np.exp(panel["log_employment"])
    cells = []
    for outcome in ("log_sales", "log_employment"):
        gt = att_gt(panel, unit="firm_id", time="year", cohort="cohort", outcome=outcome)
        cells.append(
            gt.cells.rename(columns={"group": "cohort", "time": "year", "se": "std_error"}).assign(
                outcome=outcome, program_id="P"
            )
        )
    # the survey
    ids = np.array([f"f{i:05d}" for i in range(n)])
    b = np.flatnonzero(treated)
    p_answer = 1 / (1 + np.exp(-(1.1 + 1.5 * (size[b] - size[b].mean())))) if selective else 0.75
    answers = rng.random(len(b)) < p_answer
    survey_year = cohort[b] + rng.integers(1, 3, len(b))
    answers &= survey_year <= years[-1]
    r = b[answers]
    t_r = survey_year[answers]
    at = panel.set_index(["firm_id", "year"])
    now = at.loc[list(zip(ids[r], t_r, strict=True))]
    before = at.loc[list(zip(ids[r], cohort[r] - 1, strict=True))]
    over = rng.random(len(r)) < over_share
    values: dict[str, np.ndarray] = {}
    truth: dict[str, np.ndarray] = {}
    for measure, level, tau in (
        ("sales", "sales_usd", "tau_sales"),
        ("jobs", "employment", "tau_jobs"),
    ):
        y = now[level].to_numpy()
        true = y * -np.expm1(-now[tau].to_numpy())
        change = y - before[level].to_numpy()
        honest = np.where(change > 0, np.minimum(true, change), 0.0)
        values[measure] = np.where(over, np.maximum(change, 0.0) + factor * true, honest)
        truth[measure] = true
    # the claims split into the survey's two items
    split = rng.uniform(0.5, 0.9, len(r))
    answered = pd.DataFrame(
        {
            "firm_id": ids[r],
            "survey_date": pd.to_datetime([f"{t}-06-30" for t in t_r]),
            "new_sales_usd": values["sales"] * split,
            "retained_sales_usd": values["sales"] * (1 - split),
            "jobs_created": values["jobs"] * split,
            "jobs_retained": values["jobs"] * (1 - split),
        }
    )
    clients = pd.DataFrame({"program_id": "P", "firm_id": ids[b], "cohort": cohort[b]}).merge(
        answered, on="firm_id", how="left"
    )
    truth_frame = pd.DataFrame(
        {
            "firm_id": ids[r],
            "survey_year": t_r,
            "over": over,
            "sales_true": truth["sales"],
            "jobs_true": truth["jobs"],
            "sales_claim": values["sales"],
            "jobs_claim": values["jobs"],
        }
    )
    return Planted(
        panel.drop(columns=["tau_sales", "tau_jobs"]),
        clients,
        pd.concat(cells, ignore_index=True),
        over_share,
        truth_frame,
    )


def _row(frame: pd.DataFrame, measure: str) -> pd.Series:
    return frame.set_index("measure").loc[measure]


@pytest.fixture(scope="module")
def planted() -> Planted:
    return planted_program(11)


def test_the_planted_over_claiming_is_found_within_its_sampling_error(planted: Planted) -> None:
    result = claims.program_claims("P", planted.clients, planted.panel, planted.att_gt)
    for measure in ("sales", "jobs"):
        row = _row(result.programs, measure)
        n, p = int(row["compared"]), planted.share
        assert n > 500
        # the share is a binomial draw around the planted probability
        assert abs(row["share_above"] - p) <= 1.96 * math.sqrt(p * (1 - p) / n), measure
        assert row["share_ci_low"] <= p <= row["share_ci_high"], measure
        # and it counts exactly the planted over-claimers among the answers compared
        firms = result.firms.merge(planted.truth, on=["firm_id", "survey_year"])
        compared = firms[f"{measure}_above_recorded"].notna()
        assert (
            firms.loc[compared, f"{measure}_above_recorded"] == firms.loc[compared, "over"]
        ).all()
        # the gross-to-net interval covers the planted ratio over the same answers
        both = firms[firms[f"{measure}_counterfactual"].notna()]
        truth = both[f"{measure}_claim"].sum() / both[f"{measure}_true"].sum()
        assert row["ratio_ci_low"] <= truth <= row["ratio_ci_high"], (measure, truth, row)
        assert row["ratio_ci_low"] > 1.0  # over-claiming: the claims exceed the effect
        assert row["gross_to_net"] == pytest.approx(
            row["claimed_total"] / row["counterfactual_total"]
        )
        assert row["status"] == "estimated" and pd.isna(row["ratio_reason"])
    # the response rate: respondents / beneficiaries
    row = _row(result.programs, "sales")
    beneficiaries = planted.clients["firm_id"].nunique()
    respondents = planted.clients.dropna(subset=["survey_date"])["firm_id"].nunique()
    assert row["beneficiaries"] == beneficiaries and row["respondents"] == respondents
    assert row["response_rate"] == pytest.approx(respondents / beneficiaries)


def test_firm_rows_put_claims_beside_records_and_the_counterfactual(planted: Planted) -> None:
    firms = claims.firm_claims(planted.clients, planted.panel, planted.att_gt)
    one = firms.iloc[0]
    panel = planted.panel.set_index(["firm_id", "year"])
    now = panel.loc[(one["firm_id"], one["survey_year"])]
    before = panel.loc[(one["firm_id"], one["cohort"] - 1)]
    cells = planted.att_gt.set_index(["outcome", "cohort", "year"])["att"]
    att = cells[("log_sales", one["cohort"], one["survey_year"])]
    answer = planted.clients.set_index("firm_id").loc[one["firm_id"]]
    assert one["sales_claimed"] == pytest.approx(
        answer["new_sales_usd"] + answer["retained_sales_usd"]
    )
    assert one["sales_recorded_change"] == pytest.approx(now["sales_usd"] - before["sales_usd"])
    assert one["sales_counterfactual"] == pytest.approx(now["sales_usd"] * (1 - math.exp(-att)))
    assert list(firms.columns[: len(claims.FIRM_COLUMNS)]) == claims.FIRM_COLUMNS
    # an empty item counts as zero; both empty: no claim, nothing to compare
    clients = planted.clients.copy()
    first = clients.index[clients["firm_id"] == one["firm_id"]]
    clients.loc[first, "retained_sales_usd"] = np.nan
    clients.loc[first, ["jobs_created", "jobs_retained"]] = np.nan
    again = claims.firm_claims(clients, planted.panel, planted.att_gt).iloc[0]
    assert again["sales_claimed"] == pytest.approx(answer["new_sales_usd"])
    assert np.isnan(again["jobs_claimed"]) and pd.isna(again["jobs_above_recorded"])


def test_selective_response_shows_as_response_bias() -> None:
    random = claims.program_claims("P", *_inputs(planted_program(5, n=1800)))
    selective = claims.program_claims("P", *_inputs(planted_program(5, n=1800, selective=True)))
    for measure in ("sales", "jobs"):
        even, biased = _row(random.programs, measure), _row(selective.programs, measure)
        # random response: within sampling error of no difference (4 SE of a standardized
        # difference); selective response: far outside it
        se = math.sqrt(1 / even["bias_respondents"] + 1 / even["bias_nonrespondents"])
        assert abs(even["bias_std_difference"]) < 4 * se and even["bias_pvalue"] > 1e-4
        assert biased["bias_std_difference"] > 0.3 and biased["bias_pvalue"] < 0.001
        assert biased["mean_respondents"] > biased["mean_nonrespondents"]
        assert biased["bias_outcome"] == {"sales": "log_sales", "jobs": "log_employment"}[measure]


def _inputs(p: Planted) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return p.clients, p.panel, p.att_gt


def test_the_interval_statistics() -> None:
    low, high = claims.wilson_interval(60, 100)
    assert low == pytest.approx(0.502, abs=1e-3) and high == pytest.approx(0.691, abs=1e-3)
    assert claims.wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert claims.wilson_interval(10, 10)[1] == pytest.approx(1.0)
    # one cell: the interval is the claims over the counterfactual's interval
    level = np.full(50, 100.0)
    theta, se = np.full(50, 0.1), np.full(50, 0.02)
    d = float(level.sum() * -math.expm1(-0.1))
    cohort, year = np.full(50, 2015), np.full(50, 2016)
    result = claims.gross_to_net(np.full(50, 3 * d / 50), level, theta, se, cohort, year)
    assert result.ratio == pytest.approx(3.0)
    se_d = level.sum() * math.exp(-0.1) * 0.02
    assert result.counterfactual_se == pytest.approx(se_d)
    assert result.ci_low == pytest.approx(3 * d / (d + claims.Z_95 * se_d))
    assert result.ci_high == pytest.approx(3 * d / (d - claims.Z_95 * se_d))
    # two cells of one cohort add up (perfectly correlated); two cohorts are independent
    split = np.arange(50) % 2
    same = claims.gross_to_net(np.ones(50), level, theta, se, cohort, year + split)
    assert same.counterfactual_se == pytest.approx(se_d)
    apart = claims.gross_to_net(np.ones(50), level, theta, se, cohort + split, year)
    assert apart.counterfactual_se == pytest.approx(se_d / math.sqrt(2))
    # a counterfactual whose interval reaches zero: no upper bound
    wide = claims.gross_to_net(np.ones(50), level, theta, np.full(50, 0.2), cohort, year)
    assert math.isinf(wide.ci_high) and wide.ci_low > 0
    bias = claims.response_bias(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0]))
    assert bias.difference == pytest.approx(1.0) and bias.std_difference == pytest.approx(1.0)
    assert 0.2 < bias.pvalue < 0.3


def test_a_program_without_survey_answers_says_so() -> None:
    p = planted_program(3, n=900)
    nobody = p.clients.assign(
        survey_date=pd.NaT, **{item: np.nan for item in claims.SURVEY_ITEMS}
    ).drop_duplicates("firm_id")
    result = claims.estimate_claims(nobody, p.panel, p.att_gt)
    assert result.firms.empty and list(result.programs["measure"]) == ["sales", "jobs"]
    assert set(result.programs["reason"]) == {"no_client_survey"}
    assert set(result.programs["status"]) == {"not_estimated"}
    assert (result.programs["beneficiaries"] == nobody["firm_id"].nunique()).all()
    assert result.programs["gross_to_net"].isna().all()


def test_figures_that_cannot_be_computed_carry_their_reason() -> None:
    p = planted_program(3, n=900)
    # no ATT(g,t) on log employment (an agency that does not evaluate it)
    sales_only = p.att_gt[p.att_gt["outcome"] == "log_sales"]
    result = claims.program_claims("P", p.clients, p.panel, sales_only)
    jobs = _row(result.programs, "jobs")
    assert jobs["ratio_reason"] == "claims_no_counterfactual"
    assert json.loads(jobs["ratio_reason_params"]) == {"outcome": "log_employment"}
    assert not pd.isna(jobs["share_above"])  # the records still compare
    # an effect that is nil or negative: no ratio
    negative = p.att_gt.assign(att=-p.att_gt["att"].abs())
    result = claims.program_claims("P", p.clients, p.panel, negative)
    assert set(result.programs["ratio_reason"]) == {"claims_no_effect"}
    assert result.programs["gross_to_net"].isna().all()
    # no year before entry in the panel: no recorded change, no pre-entry comparison
    late = p.panel[p.panel["year"] >= p.panel["cohort"]]
    result = claims.program_claims("P", p.clients, late, p.att_gt)
    assert set(result.programs["share_reason"]) == {"claims_no_records"}
    assert set(result.programs["bias_reason"]) == {"response_bias_too_few"}
    for code in ("no_client_survey", "claims_no_records", "claims_no_counterfactual"):
        assert code in REASONS


# --- through the real chain, on the demo generator's data -------------------------------------

RUN = "claims-run"
PROGRAMS = ("SYN-BRA-SEBRAETEC", "SYN-CHL-PDP", "SYN-PER-VOUCHER")


def _chain(root: Path, *, n_firms: int, seed: int, survey: bool = True) -> RunConfig:
    """Generate demo data (without its client survey unless `survey`), ingest it, build the
    warehouse and estimate (the real steps, no Prefect); return the run configuration."""
    from evaluation.synthetic import generate_demo
    from flows import steps
    from flows.config import load_config
    from flows.demo_files import write_demo_files
    from warehouse.db import open_warehouse
    from warehouse.runs import start_run

    data = generate_demo(seed=seed, n_firms=n_firms)
    entities = dict(data.tables)
    if not survey:
        entities.pop("client_survey")
    data = dataclasses.replace(data, tables=entities)
    paths = write_demo_files(data, root / "data")
    settled = time.time() - 60  # the loader waits for files written moments ago
    for path in paths.values():
        os.utime(path, (settled, settled))
    config = {
        "title": "claims",
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "synthetic": True,
        "sources": {n: str(p.relative_to(root)) for n, p in paths.items() if n in entities},
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    cfg = load_config(root / "config.yaml")
    with open_warehouse(cfg.warehouse) as con:
        start_run(con, RUN, "test", {"synthetic": True, "price_base_year": 2020})
    steps.ingest_sources(cfg, RUN)
    steps.build_warehouse(cfg)
    steps.estimate(cfg, RUN)
    return cfg


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory: pytest.TempPathFactory) -> RunConfig:
    return _chain(tmp_path_factory.mktemp("surveyed"), n_firms=4000, seed=5)


@pytest.fixture(scope="module")
def unsurveyed(tmp_path_factory: pytest.TempPathFactory) -> RunConfig:
    return _chain(tmp_path_factory.mktemp("unsurveyed"), n_firms=600, seed=3, survey=False)


def _stored(cfg: RunConfig, table: str, run_id: str = RUN) -> pd.DataFrame:
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        return con.execute(f"select * from results.{table} where run_id = ?", [run_id]).df()


def test_the_demo_survey_over_claims_and_its_claims_exceed_the_effects(
    surveyed: RunConfig,
) -> None:
    stored = _stored(surveyed, "claims")
    assert sorted(set(stored["program_id"])) == list(PROGRAMS)
    assert (stored["status"] == "estimated").all()
    for row in stored.itertuples():
        # over-claiming: most claims exceed what the firms' own records moved by
        assert row.share_above > 0.5, row
        assert 0 < row.response_rate <= 1 and row.respondents <= row.beneficiaries
        if row.measure == "sales" or pd.isna(row.ratio_reason):
            # gross (self-reported) above net (counterfactual)
            assert pd.isna(row.ratio_reason) and row.gross_to_net > 1, row
        assert pd.isna(row.bias_reason) and 0 <= row.bias_pvalue <= 1
    firms = _stored(surveyed, "claim_firms")
    with duckdb.connect(str(surveyed.warehouse), read_only=True) as con:
        pseudonyms = {r[0] for r in con.sql("select firm_id from staging.stg_firms").fetchall()}
    raw = set(pd.read_csv(surveyed.sources["firms"].path, dtype=str)["firm_id"])
    ids = set(firms["firm_id"])
    assert ids <= pseudonyms and not ids & raw  # pseudonymized firm ids only
    respondents = firms.groupby(["program_id"])["firm_id"].nunique()
    per_program = stored.drop_duplicates("program_id").set_index("program_id")["respondents"]
    assert respondents.sort_index().tolist() == per_program.sort_index().tolist()


def test_claims_are_results_of_the_run_cached_per_program(
    surveyed: RunConfig, tmp_path: Path
) -> None:
    """Claims are stored with the run, copied when a program is reused, recomputed from
    the stored ATT(g,t) when the reused run has none, and a program's survey answers are
    part of its cache key (a change re-estimates that program only)."""
    from flows import steps
    from flows.config import load_config

    copy = tmp_path / "run"
    shutil.copytree(surveyed.warehouse.parent, copy)
    cfg = load_config(copy / "config.yaml")
    first = _stored(cfg, "claims")
    second = steps.estimate(cfg, "r2")
    assert second.estimated == [] and set(second.reused.values()) == {RUN}
    again = _stored(cfg, "claims", "r2")
    columns = [c for c in first.columns if c != "run_id"]
    pd.testing.assert_frame_equal(
        _sorted(first[columns]), _sorted(again[columns]), check_dtype=False
    )
    assert len(_stored(cfg, "claim_firms", "r2")) == len(_stored(cfg, "claim_firms"))
    # a run from before claims were checked: recomputed from its stored ATT(g,t)
    with duckdb.connect(str(cfg.warehouse)) as con:
        con.execute("delete from results.claims where run_id = 'r2'")
        con.execute("delete from results.claim_firms where run_id = 'r2'")
    steps.estimate(cfg, "r3")
    pd.testing.assert_frame_equal(
        _sorted(first[columns]), _sorted(_stored(cfg, "claims", "r3")[columns]), check_dtype=False
    )
    # the cache key covers each program's survey answers, beyond the mart's sums: an
    # answer moved to another firm of the same program changes that program's key only
    from warehouse.db import open_warehouse
    from warehouse.results import (
        program_input_versions,
        read_clients,
        read_evaluation_panel,
        read_self_reported,
    )

    with open_warehouse(cfg.warehouse) as con:
        panel, surveys, clients = (
            read_evaluation_panel(con),
            read_self_reported(con),
            read_clients(con),
        )
    before = program_input_versions(panel, surveys, "spec", clients)
    mine = clients.index[(clients["program_id"] == PROGRAMS[1])]
    answered = mine[clients.loc[mine, "survey_date"].notna().to_numpy()]
    silent = mine[clients.loc[mine, "survey_date"].isna().to_numpy()]
    moved = clients.copy()
    columns = ["survey_date", *claims.SURVEY_ITEMS]
    moved.loc[silent[0], columns] = clients.loc[answered[0], columns].to_numpy()
    moved.loc[answered[0], columns] = np.nan
    after = program_input_versions(panel, surveys, "spec", moved)
    assert [p for p in PROGRAMS if before[p] != after[p]] == [PROGRAMS[1]]
    assert program_input_versions(panel, surveys, "spec") != before  # answers are in it


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["program_id", "measure"]).reset_index(drop=True)


def test_without_a_survey_every_program_says_so(unsurveyed: RunConfig) -> None:
    stored = _stored(unsurveyed, "claims")
    assert len(stored) == 2 * stored["program_id"].nunique() > 0
    assert set(stored["reason"]) == {"no_client_survey"}
    assert stored["respondents"].eq(0).all() and stored["share_above"].isna().all()
    assert _stored(unsurveyed, "claim_firms").empty


# --- editions ---------------------------------------------------------------------------------


def _publish(cfg: RunConfig, out: Path, **kwargs: object) -> SiteResult:
    arguments: dict[str, object] = {
        "period": "2024",
        "lang": "en",
        "audience": "public",
        "run_id": RUN,
        "images": False,
        **kwargs,
    }
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        return build_site(con, out, **arguments)  # type: ignore[arg-type]


def _section(page: Path, name: str) -> str | None:
    html = page.read_text(encoding="utf-8")
    found = re.search(rf'<section data-section="{name}">(.*?)</section>', html, re.S)
    return found.group(1) if found else None


def _files_text(site: SiteResult) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in site.path.rglob("*")
        if p.is_file() and p.suffix in (".html", ".csv", ".json")
    )


def test_editions_with_a_survey_show_claims_and_firm_rows_only_internally(
    surveyed: RunConfig, tmp_path: Path
) -> None:
    firm_ids = set(_stored(surveyed, "claim_firms")["firm_id"])
    assert len(firm_ids) > 100
    for lang in LANGS:
        t = Translator(lang)
        site = _publish(surveyed, tmp_path / "public", lang=lang)
        assert "claims" in site.tables and "claim_firms" not in site.tables
        assert not list(site.path.rglob("claim_firms*"))
        published = site.tables["claims"]
        assert sorted(set(published["program_id"])) == list(PROGRAMS)
        for program in PROGRAMS:
            section = _section(site.path / f"program-{program.lower()}.html", "claims")
            assert section is not None, (lang, program)
            assert t("program.claims") in section and 'data-table="claims"' in section
            assert t("program.claims_response") in section
            assert t("note.claim_firms") not in section
        quality = _section(site.path / "quality.html", "survey_response")
        assert quality is not None and t("quality.survey_response") in quality
        method = (site.path / "methodology.html").read_text(encoding="utf-8")
        assert t("method.claims").replace("'", "&#39;") in method
        # no firm of the survey is named anywhere in a public edition
        text = _files_text(site)
        assert not [f for f in firm_ids if f in text], lang
        # the exports carry the reasons in words beside the codes
        csv = pd.read_csv(site.path / "tables" / "claims.csv", dtype=str)
        assert {"ratio_reason_text", "bias_reason_text", "share_reason_text"} <= set(csv)
    internal = _publish(surveyed, tmp_path / "internal", audience="internal", lang="pt")
    assert "claim_firms" in internal.tables
    shown = internal.tables["claim_firms"]
    assert set(shown["firm_id"]) == firm_ids
    assert (internal.path / "tables" / "claim_firms.csv").exists()
    page = internal.path / f"program-{PROGRAMS[0].lower()}.html"
    section = _section(page, "claims")
    assert section is not None and 'data-table="claim_firms"' in section
    assert Translator("pt")("note.claim_firms") in section
    mine = shown[shown["program_id"] == PROGRAMS[0]]
    assert all(f in section for f in mine["firm_id"])
    assert not any(f in section for f in shown.loc[shown["program_id"] != PROGRAMS[0], "firm_id"])


def test_editions_without_a_survey_say_so_and_publish(
    unsurveyed: RunConfig, tmp_path: Path
) -> None:
    for lang in LANGS:
        t = Translator(lang)
        site = _publish(unsurveyed, tmp_path, lang=lang, period="2024")
        programs = site.tables["portfolio"]["program_id"].dropna().tolist()
        for program in programs:
            page = site.path / f"program-{program.lower()}.html"
            assert _section(page, "claims") is None, (lang, program)
        quality = _section(site.path / "quality.html", "survey_response")
        assert quality is not None
        why = f"{t('status.not_estimated')}: {t('reason.no_client_survey')}"
        assert quality.count(why) == len(programs), lang  # one row per program
        assert set(site.tables["claims"]["reason"]) == {"no_client_survey"}
    # a quarterly edition carries no claims, like no other result of a run
    quarter = _publish(unsurveyed, tmp_path / "q", period="2024Q2")
    assert "claims" not in quarter.tables
    assert _section(quarter.path / "quality.html", "survey_response") is None


def test_claims_of_few_or_dominant_firms_are_suppressed_in_public_editions() -> None:
    """Threshold and dominance rules on the claims table: a program with 3 respondents, one
    whose claims one firm dominates, and an ordinary one."""
    p = planted_program(3, n=1200)
    base = p.clients
    answered = base.dropna(subset=["survey_date"])
    few = base.copy()
    keep = set(answered["firm_id"].head(3))
    silent = ~few["firm_id"].isin(keep)
    few.loc[silent, ["survey_date", *claims.SURVEY_ITEMS]] = np.nan
    big = base.copy()
    top = answered.index[0]
    big.loc[top, "new_sales_usd"] = 1000 * answered["new_sales_usd"].sum()
    clients = pd.concat(
        [
            few.assign(program_id="FEW"),
            big.assign(program_id="BIG"),
            base.assign(program_id="OK"),
        ],
        ignore_index=True,
    )
    panel = pd.concat([p.panel.assign(program_id=x) for x in ("FEW", "BIG", "OK")])
    cells = pd.concat([p.att_gt.assign(program_id=x) for x in ("FEW", "BIG", "OK")])
    result = claims.estimate_claims(clients, panel, cells)
    inputs = SimpleNamespace(claims=result.programs, claim_firms=result.firms)
    rules = DisclosureRules()
    frame = tables.claims(inputs, rules.dominance_top)  # type: ignore[arg-type]
    public = protect(frame, tables.CLAIMS, rules, apply=True).published()
    out = public.frame().set_index(["program_id", "measure"])
    # 3 respondents: every figure resting on them is hidden, counts under 5 too
    for measure in ("sales", "jobs"):
        row = out.loc[("FEW", measure)]
        for column in ("respondents", "share_above", "claimed_total", "gross_to_net"):
            assert pd.isna(row[column]), (measure, column)
        assert row["beneficiaries"] > 5  # the beneficiaries are many
    # one firm's claim is most of the program's total: the total and the ratio are hidden
    row = out.loc[("BIG", "sales")]
    assert pd.isna(row["claimed_total"]) and pd.isna(row["gross_to_net"])
    assert pd.isna(row["ratio_ci_low"]) and not pd.isna(row["share_above"])
    assert not pd.isna(out.loc[("BIG", "jobs"), "claimed_total"])
    assert not out.loc["OK"][["claimed_total", "gross_to_net", "share_above"]].isna().any().any()
    # internal editions show them, flagged
    internal = protect(frame, tables.CLAIMS, rules, apply=False).published()
    assert (
        not internal.frame()
        .set_index(["program_id", "measure"])
        .loc[("BIG", "sales"), ["claimed_total", "gross_to_net"]]
        .isna()
        .any()
    )
    assert internal.is_suppressed(
        int(np.flatnonzero(frame["program_id"] == "BIG")[0]), "claimed_total"
    )
