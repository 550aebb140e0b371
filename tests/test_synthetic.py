"""Tests of the synthetic demo generator and its files: contract, planted truths, invalid rows."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors
import pytest

from evaluation.synthetic import (
    INVALID_KINDS,
    OVERCLAIM_SHARE,
    TRUE_ROI_METRICS,
    DemoData,
    contract_columns,
    generate_demo,
)
from flows.demo_files import write_demo_files
from schemas.contract import ENTITIES

SEED, N_FIRMS, FIRST_YEAR, LAST_YEAR = 11, 3000, 2010, 2024
TRUTHS = ("true_effects", "true_att_simple", "planted_invalid", "true_roi")
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(seed=SEED, n_firms=N_FIRMS, first_year=FIRST_YEAR, last_year=LAST_YEAR)


@pytest.fixture(scope="module")
def default_demo() -> DemoData:
    """`mes-eval demo`'s data: seed 2024, 20,000 firms (about 2 s)."""
    return generate_demo()


@pytest.fixture(scope="module")
def clean(demo: DemoData) -> dict[str, pd.DataFrame]:
    """Each table without its planted invalid rows, validated (hence coerced) by the contract."""
    out = {}
    for name in demo.tables:
        out[name] = ENTITIES[name].model.validate(_without_planted(demo, name), lazy=True)
    return out


def _planted(demo: DemoData, name: str, kind: str | None = None) -> pd.DataFrame:
    p = demo.planted_invalid
    p = p[p["entity"] == name]
    return p if kind is None else p[p["kind"] == kind]


def _without_planted(demo: DemoData, name: str) -> pd.DataFrame:
    frame = demo.tables[name]
    return frame.drop(index=frame.index[_planted(demo, name)["row"].to_numpy()])


def _validates(name: str, frame: pd.DataFrame) -> bool:
    try:
        ENTITIES[name].model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors:
        return False
    return True


def _failing_rows(name: str, frame: pd.DataFrame) -> set:
    """Index labels of the rows pandera rejects (lazy validation of the whole frame)."""
    try:
        ENTITIES[name].model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        return set(errors.failure_cases["index"].dropna())
    return set()


def _log_outcomes(clean: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Valid outcomes with country, entry year g (0 = never treated), program and logs."""
    parts = clean["participations"]
    entry = parts.groupby("firm_id")["start_date"].min().dt.year
    program = parts.sort_values("start_date").drop_duplicates("firm_id").set_index("firm_id")
    o = clean["outcomes"].merge(clean["firms"][["firm_id", "country"]], on="firm_id")
    o["g"] = o["firm_id"].map(entry).fillna(0).astype(int)
    o["program_id"] = o["firm_id"].map(program["program_id"])
    with np.errstate(divide="ignore"):
        o["log_sales"] = np.log(o["sales"].astype(float))
        o["log_employment"] = np.log(o["employment"].astype(float))
    exports = o["exports"].astype(float)
    o["exporter"] = (exports > 0).astype(float).where(exports.notna())
    return o


# --- determinism and shape --------------------------------------------------------------------


def test_same_seed_gives_identical_frames(demo: DemoData) -> None:
    again = generate_demo(seed=SEED, n_firms=N_FIRMS)
    for name, frame in demo.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name], obj=name)
    for name in TRUTHS:
        pd.testing.assert_frame_equal(getattr(demo, name), getattr(again, name), obj=name)


def test_different_seed_gives_different_data(demo: DemoData) -> None:
    other = generate_demo(seed=SEED + 1, n_firms=N_FIRMS)
    assert not demo.tables["outcomes"].equals(other.tables["outcomes"])
    assert not demo.tables["firms"]["firm_id"].equals(other.tables["firms"]["firm_id"])


def test_every_table_has_exactly_the_contract_columns(demo: DemoData) -> None:
    assert set(demo.tables) == set(ENTITIES)
    for name, frame in demo.tables.items():
        assert list(frame.columns) == contract_columns(name), name
        assert contract_columns(name) == list(ENTITIES[name].model.to_schema().columns)


# --- validity of the clean part ---------------------------------------------------------------


def test_valid_rows_validate_and_have_unique_keys(clean: dict[str, pd.DataFrame]) -> None:
    for name, frame in clean.items():
        assert len(frame) > 0, name
        assert not frame.duplicated(list(ENTITIES[name].key)).any(), name


def test_references_resolve(clean: dict[str, pd.DataFrame]) -> None:
    for name, entity in ENTITIES.items():
        for column, target in entity.references:
            known = set(clean[target][ENTITIES[target].key[0]])
            assert clean[name][column].isin(known).all(), (name, column)


def test_programs_are_synthetic_and_complete(clean: dict[str, pd.DataFrame]) -> None:
    programs = clean["programs"]
    assert len(programs) == 3
    assert set(programs["country"]) == {"CHL", "PER", "BRA"}
    assert set(programs["currency"]) == {"CLP", "PEN", "BRL"}
    assert programs["name"].str.startswith("[Synthetic]").all()
    text = ["agency", "market_failure", "targeting", "expected_short", "expected_medium"]
    assert programs[[*text, "expected_long"]].notna().all().all()
    assert (programs["start_year"] <= 2011).all()


def test_firm_ids_look_like_tax_numbers(clean: dict[str, pd.DataFrame]) -> None:
    layouts = {
        "CHL": r"^7[67]\.\d{3}\.\d{3}-[\dK]$",
        "PER": r"^20\d{9}$",
        "BRA": r"^\d{2}\.\d{3}\.\d{3}/0001-\d{2}$",
    }
    firms = clean["firms"]
    for country, pattern in layouts.items():
        ids = firms.loc[firms["country"] == country, "firm_id"]
        assert ids.str.match(pattern).all(), country
    assert firms["isic4"].astype(int).between(1010, 3399).all()


def test_macro_is_plausible(clean: dict[str, pd.DataFrame]) -> None:
    macro = clean["macro"].sort_values(["country", "year"])
    assert set(macro["year"]) == set(range(FIRST_YEAR, LAST_YEAR + 1))
    inflation = macro.groupby("country")["deflator"].pct_change().dropna()
    assert inflation.between(0.03, 0.08).all()
    fx = macro.groupby("country")["lcu_per_usd"].agg(["min", "max"])
    assert fx.loc["CHL", "min"] >= 600
    assert fx.loc["CHL", "max"] <= 900
    assert fx.loc["PER", "min"] >= 3 and fx.loc["PER", "max"] <= 4
    assert fx.loc["BRA", "min"] >= 2 and fx.loc["BRA", "max"] <= 5.5


# --- planted invalid rows ---------------------------------------------------------------------


def test_planted_invalid_kinds_and_volume(demo: DemoData) -> None:
    planted = demo.planted_invalid
    assert set(planted["kind"]) == set(INVALID_KINDS)
    assert not planted.duplicated(["entity", "row"]).any()
    for name, rows in planted.groupby("entity")["row"]:
        assert rows.between(0, len(demo.tables[name]) - 1).all()
    share = len(_planted(demo, "outcomes")) / len(demo.tables["outcomes"])
    assert 0.003 <= share <= 0.008
    assert 3 <= len(_planted(demo, "firms")) <= 10
    assert 4 <= len(_planted(demo, "participations")) <= 20


def test_each_planted_row_fails_for_exactly_one_reason(demo: DemoData) -> None:
    """Rows of one kind are validated together (per-row validation is slow), then repaired."""
    tables = demo.tables
    firm_ids = set(tables["firms"]["firm_id"])
    program_ids = set(tables["programs"]["program_id"])
    for (entity, kind), planted in demo.planted_invalid.groupby(["entity", "kind"]):
        rows = tables[entity].iloc[planted["row"].to_numpy()].copy()
        if kind == "duplicate_key":
            continue  # a pair is invalid only together: see the next test
        if kind in {"unknown_firm", "unknown_program"}:
            assert _validates(entity, rows), (entity, kind)  # fine apart from the reference
            known = firm_ids if kind == "unknown_firm" else program_ids
            assert not rows[planted["column"].iloc[0]].isin(known).any()
            continue
        assert _failing_rows(entity, rows) == set(rows.index), (entity, kind)
        for (label, row), column in zip(rows.iterrows(), planted["column"], strict=True):
            if kind == "not_a_number":
                assert isinstance(row[column], str) and not re.match(r"^-?[\d.]+$", row[column])
                rows.loc[label, column] = np.nan
            elif kind == "negative":
                assert float(row[column]) < 0
                rows.loc[label, column] = -float(row[column])
            elif kind == "end_before_start":
                assert row["end_date"] < row["start_date"]
                rows.loc[label, "end_date"] = pd.NaT
            elif kind == "bad_country":
                assert not re.match(r"^[A-Z]{3}$", row["country"])
                rows.loc[label, "country"] = "CHL"
        assert _validates(entity, rows), (entity, kind)  # the one reason, repaired


def test_duplicate_keys_come_in_pairs_with_different_values(demo: DemoData) -> None:
    outcomes = demo.tables["outcomes"]
    rows = _planted(demo, "outcomes", "duplicate_key")["row"].to_numpy()
    dup = outcomes.iloc[rows]
    counts = outcomes.groupby(["firm_id", "year"]).size()
    assert (counts.loc[pd.MultiIndex.from_frame(dup[["firm_id", "year"]])] == 2).all()
    assert counts[counts > 1].sum() == len(rows)  # every duplicated row is planted
    for _, pair in dup.groupby(["firm_id", "year"]):
        assert len(pair) == 2
        values = pair.drop(columns=["firm_id", "year"]).astype(str)
        assert not (values.iloc[0] == values.iloc[1]).all()


def test_bad_country_firms_have_no_other_records(demo: DemoData) -> None:
    rows = _planted(demo, "firms", "bad_country")["row"].to_numpy()
    bad_ids = set(demo.tables["firms"].iloc[rows]["firm_id"])
    for name in ("outcomes", "participations", "comparison_sample", "client_survey", "targets"):
        assert not demo.tables[name]["firm_id"].isin(bad_ids).any(), name


# --- design: participation, selection, panel ---------------------------------------------------


def test_participation_design(clean: dict[str, pd.DataFrame]) -> None:
    parts = clean["participations"].merge(
        clean["programs"][["program_id", "country"]], on="program_id"
    )
    firms = clean["firms"].set_index("firm_id")
    assert parts.groupby("firm_id")["program_id"].nunique().eq(1).all()
    assert (parts["country"].to_numpy() == firms.loc[parts["firm_id"], "country"].to_numpy()).all()
    entry = parts.groupby("firm_id")["start_date"].min().dt.year
    assert entry.min() >= FIRST_YEAR + 2 and entry.max() <= LAST_YEAR - 2
    assert 0.08 <= len(entry) / len(firms) <= 0.12
    assert (parts["end_date"].isna() | (parts["end_date"] > parts["start_date"])).all()
    scale = parts.groupby("program_id")["public_cost"].median()
    assert scale["SYN-CHL-PDP"] > 100 * scale["SYN-PER-VOUCHER"]


def test_selection_bias_on_size(clean: dict[str, pd.DataFrame]) -> None:
    o = _log_outcomes(clean)
    pre = o[(o["g"] > 0) & (o["year"] < o["g"])]["log_employment"].mean()
    never = o[o["g"] == 0]["log_employment"].mean()
    assert pre > never + 0.3


def test_panel_is_unbalanced_with_entry_and_exit(
    demo: DemoData, clean: dict[str, pd.DataFrame]
) -> None:
    o = clean["outcomes"]
    span = o.groupby("firm_id")["year"].agg(["min", "max", "size"])
    n_years = LAST_YEAR - FIRST_YEAR + 1
    assert (span["size"] < n_years).mean() > 0.2
    assert (span["min"] > FIRST_YEAR).any() and (span["max"] < LAST_YEAR).any()
    # before quarantine, each firm is observed in one unbroken spell (entry to exit)
    raw = demo.tables["outcomes"][["firm_id", "year"]].drop_duplicates()
    raw = raw[raw["firm_id"].isin(set(demo.tables["firms"]["firm_id"]))]
    spells = raw.groupby("firm_id")["year"].agg(["min", "max", "size"])
    assert (spells["size"] == spells["max"] - spells["min"] + 1).all()
    assert 0.01 < o["sales"].isna().mean() < 0.03
    assert 0.01 < o["employment"].isna().mean() < 0.03


def test_outcome_distributions(clean: dict[str, pd.DataFrame]) -> None:
    o = clean["outcomes"]
    assert 0.6 <= (o["exports"] == 0).mean() <= 0.9
    assert (o["rd_spend"] == 0).mean() > 0.8
    assert (o["value_added"] < o["sales"]).all() or (
        o["sales"].isna() | (o["value_added"] < o["sales"])
    ).all()
    employment = o["employment"].dropna()
    assert 10 <= employment.median() <= 22
    assert employment.quantile(0.99) > 8 * employment.median()  # heavy right tail
    assert (employment != employment.round()).mean() > 0.5  # 1 decimal, not integers


def test_budgets_cover_public_cost(demo: DemoData, clean: dict[str, pd.DataFrame]) -> None:
    parts = demo.tables["participations"]
    spent = parts.groupby(["program_id", parts["start_date"].dt.year])["public_cost"].sum()
    budgets = clean["program_budgets"].set_index(["program_id", "year"])["public_budget"]
    spent = spent[spent.index.isin(budgets.index)]
    assert len(spent) > 0
    assert (budgets.loc[spent.index].to_numpy() >= spent.to_numpy()).all()


def test_comparison_sample_is_every_non_beneficiary(clean: dict[str, pd.DataFrame]) -> None:
    comp = clean["comparison_sample"]
    firms, programs = clean["firms"], clean["programs"].set_index("program_id")
    treated = set(clean["participations"]["firm_id"])
    for program_id, members in comp.groupby("program_id")["firm_id"]:
        country = programs.loc[program_id, "country"]
        expected = set(firms.loc[firms["country"] == country, "firm_id"]) - treated
        assert set(members) == expected


# --- planted truths ---------------------------------------------------------------------------


def test_true_att_simple_follows_its_definition(
    demo: DemoData, clean: dict[str, pd.DataFrame]
) -> None:
    effects = demo.true_effects.set_index(["program_id", "outcome", "event_time"])["effect"]
    in_panel = set(clean["outcomes"]["firm_id"])
    parts = clean["participations"]
    for program_id, outcome, att in demo.true_att_simple.itertuples(index=False):
        entry = parts[parts["program_id"] == program_id].groupby("firm_id")["start_date"].min()
        p_g = entry[entry.index.isin(in_panel)].dt.year.value_counts()
        cells = [(g, t) for g in p_g.index for t in range(g, LAST_YEAR + 1)]
        num = sum(p_g[g] * effects[(program_id, outcome, t - g)] for g, t in cells)
        den = sum(p_g[g] for g, _ in cells)
        assert att == pytest.approx(num / den, abs=1e-12)
    assert set(demo.true_att_simple["outcome"]) == {"log_sales", "log_employment", "exporter"}
    path = effects.xs(("SYN-CHL-PDP", "log_sales"), level=["program_id", "outcome"])
    assert path[0] == pytest.approx(0.01) and path[4] == path[10] == pytest.approx(0.04)
    employment = effects.xs(("SYN-BRA-SEBRAETEC", "log_employment"), level=[0, 1])
    assert employment.max() <= 0.002  # near zero: its cost per job is unbounded above
    exporter = effects.xs("exporter", level="outcome")
    assert exporter.loc["SYN-CHL-PDP"].max() == pytest.approx(0.09)
    assert (exporter[exporter.index.get_level_values("program_id") != "SYN-CHL-PDP"] == 0).all()


def test_staggered_did_recovers_planted_att_while_naive_is_biased(
    demo: DemoData, clean: dict[str, pd.DataFrame]
) -> None:
    """Unconditional CS ATT(g,t), never-treated comparison, aggregated with p_g weights."""
    o = _log_outcomes(clean)
    truth = demo.true_att_simple.set_index(["program_id", "outcome"])["att"]
    programs = clean["programs"].set_index("program_id")
    for (program_id, outcome), att in truth.items():
        sample = o[o["country"] == programs.loc[program_id, "country"]]
        sample = sample[(sample["g"] == 0) | (sample["program_id"] == program_id)]
        wide = sample.pivot(index="firm_id", columns="year", values=outcome)
        g = sample.groupby("firm_id")["g"].first().reindex(wide.index)
        never = wide[g == 0]
        num = den = 0.0
        for cohort in sorted(set(g[g > 0])):
            treated = wide[g == cohort]
            for t in range(cohort, LAST_YEAR + 1):
                diff_t = (treated[t] - treated[cohort - 1]).mean()
                diff_c = (never[t] - never[cohort - 1]).mean()
                num += len(treated) * (diff_t - diff_c)
                den += len(treated)
        # an indicator is noisier than a log outcome (se ~0.05 here for export propensity)
        tolerance = 0.12 if outcome == "exporter" else 0.05
        assert num / den == pytest.approx(att, abs=tolerance), (program_id, outcome)
        post = sample[(sample["g"] > 0) & (sample["year"] >= sample["g"])][outcome].mean()
        naive = post - sample[sample["g"] == 0][outcome].mean()
        assert naive > att + (0.3 if outcome != "exporter" else 0.05), (program_id, outcome)


def test_client_survey_overstates_incremental_sales(
    demo: DemoData, clean: dict[str, pd.DataFrame]
) -> None:
    survey = clean["client_survey"].assign(year=lambda s: s["survey_date"].dt.year)
    o = _log_outcomes(clean)[["firm_id", "year", "g", "sales"]]
    s = survey.merge(o, on=["firm_id", "year"]).dropna(subset=["new_sales", "sales"])
    effects = demo.true_effects.set_index(["program_id", "outcome", "event_time"])["effect"]
    event_time = s["year"] - s["g"]
    tau = [effects[(p, "log_sales", e)] for p, e in zip(s["program_id"], event_time, strict=True)]
    incremental = s["sales"] * (1 - np.exp(-np.asarray(tau)))
    ratio = (s["new_sales"] / incremental).median()
    assert 3 <= ratio <= 8
    assert set(survey["program_id"]) == set(clean["programs"]["program_id"])


def test_targets_are_export_targets_of_the_export_oriented_program(
    clean: dict[str, pd.DataFrame],
) -> None:
    targets = clean["targets"]
    assert len(targets) > 0
    assert set(targets["metric"]) == {"exports"}
    assert set(targets["program_id"]) == {"SYN-CHL-PDP"}
    assert (targets["target_value"] > 0).all()


# --- export status, claims against records, ROI truth ------------------------------------------


def test_export_status_switches_within_firms(clean: dict[str, pd.DataFrame]) -> None:
    o = _log_outcomes(clean).dropna(subset=["exporter"]).sort_values(["firm_id", "year"])
    per_firm = o.groupby("firm_id")["exporter"].agg(["min", "max", "size"])
    several = per_firm[per_firm["size"] >= 5]
    assert (several["min"] < several["max"]).mean() > 0.25  # not a permanent trait
    before = o.groupby("firm_id")["exporter"].shift()
    follows = o.groupby("firm_id")["year"].shift() == o["year"] - 1
    entry = o.loc[follows & (before == 0), "exporter"]
    exit_ = 1 - o.loc[follows & (before == 1), "exporter"]
    assert 0.02 < entry.mean() < 0.1 and 0.05 < exit_.mean() < 0.25
    # larger firms start exporting more often
    size = o.groupby("firm_id")["log_employment"].transform("mean")
    large = size > size.median()
    assert entry[large.loc[entry.index]].mean() > 1.5 * entry[~large.loc[entry.index]].mean()
    # every headline outcome varies within firms (none is "constant within every firm")
    for outcome in ("log_sales", "log_employment", "exporter"):
        assert (o.groupby("firm_id")[outcome].nunique() > 1).any(), outcome


def test_export_targets_rest_on_the_status_before_entry(clean: dict[str, pd.DataFrame]) -> None:
    o = _log_outcomes(clean).set_index(["firm_id", "year"])
    targets = clean["targets"].assign(g=lambda t: t["due_date"].dt.year - 2)
    base = o.reindex(pd.MultiIndex.from_arrays([targets["firm_id"], targets["g"] - 1]))
    targets = targets.assign(
        exports=base["exports"].astype(float).to_numpy(), sales=base["sales"].to_numpy()
    )
    exporters = targets[targets["exports"] > 0]
    others = targets[targets["exports"] == 0]
    assert len(exporters) > 10 and len(others) > 5
    ratio = exporters["target_value"] / exporters["exports"]
    assert ratio.between(1.15 - 1e-3, 1.6 + 1e-3).all()
    first = (others["target_value"] / others["sales"]).dropna()
    assert first.between(0.02 - 1e-4, 0.06 + 1e-4).all()
    # every beneficiary exporting the year before entry has a target
    entry = o[o["g"] > FIRST_YEAR].reset_index()
    entry = entry[(entry["program_id"] == "SYN-CHL-PDP") & (entry["year"] == entry["g"] - 1)]
    assert set(entry.loc[entry["exporter"] == 1, "firm_id"]) <= set(targets["firm_id"])


def _claims(demo: DemoData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each survey claim beside the recorded change in sales (survey year minus the year
    before entry, valid rows; in current LCU, `change`, and in constant 2020 USD,
    `change_usd`, with the claimed new + retained sales in USD as `claim_usd`), and every
    beneficiary with its pre-entry employment and whether it answered."""
    macro = demo.tables["macro"]
    base = macro[macro["year"] == 2020].set_index("country")
    macro = macro.join(base[["deflator", "lcu_per_usd"]], on="country", rsuffix="_base")
    factor = (macro["deflator_base"] / macro["deflator"] / macro["lcu_per_usd_base"]).to_numpy()
    factor = pd.Series(factor, index=pd.MultiIndex.from_frame(macro[["country", "year"]]))
    country = _without_planted(demo, "firms").set_index("firm_id")["country"]
    outcomes = _without_planted(demo, "outcomes")
    levels = outcomes.assign(
        sales=pd.to_numeric(outcomes["sales"], errors="coerce"),
        employment=pd.to_numeric(outcomes["employment"], errors="coerce"),
        factor=factor.reindex(
            pd.MultiIndex.from_arrays([outcomes["firm_id"].map(country), outcomes["year"]])
        ).to_numpy(),
    ).set_index(["firm_id", "year"])[["sales", "employment", "factor"]]
    parts = _without_planted(demo, "participations").sort_values("start_date")
    entry = parts.drop_duplicates("firm_id").set_index("firm_id")
    entry = entry.assign(g=entry["start_date"].dt.year)[["program_id", "g"]]
    survey = demo.tables["client_survey"]
    survey = survey.assign(year=survey["survey_date"].dt.year).join(entry[["g"]], on="firm_id")
    now = levels.reindex(pd.MultiIndex.from_arrays([survey["firm_id"], survey["year"]]))
    pre = levels.reindex(pd.MultiIndex.from_arrays([survey["firm_id"], survey["g"] - 1]))
    survey["change"] = now["sales"].to_numpy() - pre["sales"].to_numpy()
    survey["change_usd"] = (now["sales"] * now["factor"]).to_numpy() - (
        pre["sales"] * pre["factor"]
    ).to_numpy()
    claimed = survey["new_sales"].fillna(0) + survey["retained_sales"].fillna(0)
    claimed = claimed.where(survey[["new_sales", "retained_sales"]].notna().any(axis=1))
    survey["claim_usd"] = claimed.to_numpy() * now["factor"].to_numpy()
    survey["sales"] = now["sales"].to_numpy()
    beneficiaries = entry.reset_index()
    pre = levels.reindex(
        pd.MultiIndex.from_arrays([beneficiaries["firm_id"], beneficiaries["g"] - 1])
    )
    beneficiaries["log_employment_pre"] = np.log(pre["employment"].to_numpy())
    beneficiaries["answered"] = beneficiaries["firm_id"].isin(set(survey["firm_id"]))
    return survey, beneficiaries


@pytest.mark.parametrize("size", ["small", "default"])
def test_client_survey_plants_known_over_claiming(
    size: str, demo: DemoData, default_demo: DemoData
) -> None:
    data = demo if size == "small" else default_demo
    survey, _ = _claims(data)
    assert ((survey["year"] - survey["g"]).isin([1, 2])).all()  # the claims' year
    comparable = survey.dropna(subset=["new_sales", "change"])
    assert len(comparable) > 0.85 * len(survey)
    over = comparable["new_sales"] > comparable["change"].clip(lower=0)
    share = over.groupby(comparable["program_id"]).mean()
    assert set(share.index) == set(OVERCLAIM_SHARE)
    tolerance = 0.07 if size == "small" else 0.03
    for program_id, planted in OVERCLAIM_SHARE.items():
        assert share[program_id] == pytest.approx(planted, abs=tolerance), program_id
    # the strict reading counts the falls reported as 0 too: a few points more
    strict = (comparable["new_sales"] > comparable["change"]).groupby(comparable["program_id"])
    assert (strict.mean() >= share).all()
    # evaluation.claims' reading: a positive claim of new + retained sales above the recorded
    # change, both in constant dollars
    usd = survey.dropna(subset=["claim_usd", "change_usd"])
    above = (usd["claim_usd"] > 0) & (usd["claim_usd"] > usd["change_usd"])
    share = above.groupby(usd["program_id"]).mean()
    for program_id, planted in OVERCLAIM_SHARE.items():
        assert share[program_id] == pytest.approx(planted, abs=tolerance), program_id


def test_client_survey_response_is_selective(default_demo: DemoData) -> None:
    _, beneficiaries = _claims(default_demo)
    for program_id, b in beneficiaries.groupby("program_id"):
        assert 0.65 < b["answered"].mean() < 0.9, program_id
        size = b.groupby("answered")["log_employment_pre"].mean()
        assert size[True] > size[False] + 0.25, program_id  # larger firms answer more


def test_true_roi_is_what_the_roi_benchmark_takes_as_truth(demo: DemoData) -> None:
    """true_roi against benchmarks/roi_coverage.py on the raw tables (raw_panels.py): the
    totals of its `truths`, and the ratios it compares the estimates with (their cost is
    the estimator's public cost of the beneficiaries)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import raw_panels
        import roi_coverage
    finally:
        sys.path.remove(str(BENCHMARKS))
    truth = demo.true_roi.set_index(["program_id", "metric"])["truth"]
    assert set(demo.true_roi["metric"]) == set(TRUE_ROI_METRICS)
    assert demo.settings["price_base_year"] == 2020
    for program_id, panel in raw_panels.program_panels(demo).items():
        totals = roi_coverage.truths(panel, demo, program_id)
        for metric, total in (
            ("sales_per_dollar", "incremental_sales_usd"),
            ("value_added_per_dollar", "incremental_value_added_usd"),
            ("cost_per_job", "jobs_last_year"),
        ):
            assert totals[metric] == pytest.approx(truth[(program_id, total)], rel=1e-9)
        cost = panel[panel["cohort"] > 0].groupby("firm_id")["public_cost_usd"].first().sum()
        assert cost == pytest.approx(truth[(program_id, "public_cost_usd")], rel=1e-9)
    compared = pd.DataFrame(roi_coverage.one_seed(SEED, N_FIRMS))
    assert len(compared) >= 6
    for row in compared.itertuples():
        expected = truth[(row.program, row.metric)]
        assert row.truth == pytest.approx(expected, rel=1e-9), (row.program, row.metric)


def test_default_demo_returns_land_near_the_benchmarks(default_demo: DemoData) -> None:
    """Counterfactual sales per public dollar of a few to a few tens, value added per
    dollar of a few, cost per job in the thousands to tens of thousands (US MEP $30 and
    $2,067, UK MAS $6.2, Canada IRAP $12), except where the employment effect is ~0."""
    roi = default_demo.true_roi.pivot(index="program_id", columns="metric", values="truth")
    assert roi["sales_per_dollar"].between(5, 40).all(), roi
    assert roi["value_added_per_dollar"].between(2, 10).all(), roi
    assert roi.loc[["SYN-CHL-PDP", "SYN-PER-VOUCHER"], "cost_per_job"].between(2e3, 1e5).all()
    assert roi.loc["SYN-BRA-SEBRAETEC", "cost_per_job"] > 2e5  # near-zero employment effect
    # the ratios are the totals divided
    assert np.allclose(
        roi["sales_per_dollar"], roi["incremental_sales_usd"] / roi["public_cost_usd"]
    )
    assert np.allclose(roi["cost_per_job"], roi["public_cost_usd"] / roi["jobs_last_year"])
    # public cost per beneficiary (2020 USD): a matching grant, a voucher, technical assistance
    per_firm = roi["public_cost_usd"] / _beneficiaries(default_demo)
    assert 4e4 < per_firm["SYN-CHL-PDP"] < 1.2e5
    assert 5e3 < per_firm["SYN-PER-VOUCHER"] < 2e4
    assert 5e3 < per_firm["SYN-BRA-SEBRAETEC"] < 2e4


def _beneficiaries(demo: DemoData) -> pd.Series:
    parts = _without_planted(demo, "participations")
    return parts.groupby("program_id")["firm_id"].nunique()


def test_true_roi_without_the_tables_is_empty() -> None:
    data = DemoData({}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    assert data.true_roi.empty and list(data.true_roi.columns) == ["program_id", "metric", "truth"]


# --- files ------------------------------------------------------------------------------------


def test_write_demo_files_round_trip(demo: DemoData, tmp_path) -> None:
    paths = write_demo_files(demo, tmp_path)
    assert set(paths) == set(ENTITIES) | {"true_effects", "true_att_simple", "planted_invalid"}
    assert paths["participations"].suffix == ".xlsx"
    for name in ENTITIES:
        path = paths[name]
        if path.suffix == ".xlsx":
            back = pd.read_excel(path, sheet_name="participations", dtype=str)
        else:
            back = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        assert list(back.columns) == contract_columns(name), name
        assert len(back) == len(demo.tables[name]), name
        planted = _planted(demo, name)
        ENTITIES[name].model.validate(back.drop(index=planted["row"].to_numpy()), lazy=True)
        # the files keep the planted rows invalid; checked kind by kind, because pandera skips
        # a column's value checks once its coercion fails (the reference kinds and duplicate
        # pairs are only invalid in context)
        for kind, rows in planted.groupby("kind")["row"]:
            if kind not in {"duplicate_key", "unknown_firm", "unknown_program"}:
                batch = back.iloc[rows.to_numpy()]
                assert _failing_rows(name, batch) == set(batch.index), (name, kind)
    dates = pd.read_csv(paths["comparison_sample"], dtype=str)["sampled_on"]
    assert dates.str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    planted = pd.read_csv(paths["planted_invalid"])
    assert len(planted) == len(demo.planted_invalid)
    readme = (tmp_path / "README.txt").read_text(encoding="utf-8")
    assert "synthetic" in readme.lower() and f"seed {SEED}" in readme and "mes-eval demo" in readme
    # the ROI truth is written beside the others but not returned (callers turn the returned
    # paths into a run's sources)
    roi = pd.read_csv(tmp_path / "true_roi.csv")
    pd.testing.assert_frame_equal(roi, demo.true_roi, check_exact=False, rtol=1e-12)
    assert "true_roi" not in paths and "true_roi.csv" in readme


# --- options for submission shapes (tests/shapes.py) -------------------------------------------


def _entries(demo: DemoData, program_id: str) -> pd.Series:
    parts = demo.tables["participations"]
    parts = parts[parts["program_id"] == program_id]
    return parts.groupby("firm_id")["start_date"].min().dt.year


def _frames_equal(a: DemoData, b: DemoData) -> None:
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    for name in TRUTHS:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_options_left_out_or_empty_change_nothing(demo: DemoData) -> None:
    small = generate_demo(seed=5, n_firms=600, first_year=2016, last_year=2022)
    _frames_equal(
        small,
        generate_demo(
            seed=5, n_firms=600, first_year=2016, last_year=2022, cohorts={}, treated_share={}
        ),
    )
    # and the module fixture, made before any option existed in a call, is reproduced
    _frames_equal(
        demo,
        generate_demo(SEED, N_FIRMS, FIRST_YEAR, LAST_YEAR, cohorts=None, treated_share=None),
    )


def test_cohorts_option_sets_the_entry_years() -> None:
    data = generate_demo(
        seed=3,
        n_firms=1500,
        first_year=2014,
        last_year=2024,
        cohorts={"SYN-CHL-PDP": [2019], "SYN-PER-VOUCHER": [2014, 2017]},
    )
    assert set(_entries(data, "SYN-CHL-PDP")) == {2019}
    assert set(_entries(data, "SYN-PER-VOUCHER")) == {2014, 2017}
    assert _entries(data, "SYN-BRA-SEBRAETEC").between(2016, 2022).all()  # its own window
    # a first-year cohort has no pre-entry year: it is left out of the target
    truth = data.true_att_simple.set_index(["program_id", "outcome"])["att"]
    # (the 2017 cohort alone: e = 0..7, the planted path constant from e = 4)
    assert truth[("SYN-PER-VOUCHER", "log_sales")] == pytest.approx(
        np.mean([0.01, 0.02, 0.025, 0.03, 0.03, 0.03, 0.03, 0.03])
    )
    # effects are tabled up to the longest time since entry of any cohort
    assert data.true_effects["event_time"].max() == 2024 - 2014
    # export targets rest on pre-entry exports: none for a cohort without a pre-entry year
    targets = data.tables["targets"]
    entry = _entries(data, "SYN-CHL-PDP")
    assert targets["firm_id"].isin(entry.index).all() and len(targets) > 0


def test_a_program_entering_only_in_the_first_year_has_no_target() -> None:
    data = generate_demo(
        seed=3, n_firms=1500, first_year=2014, last_year=2024, cohorts={"SYN-CHL-PDP": [2014]}
    )
    assert set(_entries(data, "SYN-CHL-PDP")) == {2014}
    truth = data.true_att_simple.set_index(["program_id", "outcome"])["att"]
    assert np.isnan(truth[("SYN-CHL-PDP", "log_sales")])
    assert data.tables["targets"].empty  # the only program with export targets


def test_treated_share_option_scales_a_program() -> None:
    default = generate_demo(seed=3, n_firms=1500, first_year=2014, last_year=2024)
    bigger = generate_demo(
        seed=3, n_firms=1500, first_year=2014, last_year=2024, treated_share={"SYN-CHL-PDP": 0.3}
    )
    chile = (bigger.tables["firms"]["country"] == "CHL").sum()
    assert len(_entries(bigger, "SYN-CHL-PDP")) == pytest.approx(0.3 * chile, abs=2)
    assert len(_entries(bigger, "SYN-CHL-PDP")) > 2.5 * len(_entries(default, "SYN-CHL-PDP"))


@pytest.mark.parametrize(
    "options",
    [
        {"cohorts": {"SYN-XX": [2018]}},
        {"cohorts": {"SYN-CHL-PDP": [2013]}},
        {"cohorts": {"SYN-CHL-PDP": []}},
        {"treated_share": {"SYN-CHL-PDP": 1.5}},
    ],
)
def test_bad_options_are_refused(options: dict) -> None:
    with pytest.raises(ValueError):
        generate_demo(seed=3, n_firms=600, first_year=2014, last_year=2024, **options)
