"""Tests of the synthetic demo generator and its files: contract, planted truths, invalid rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.errors
import pytest

from evaluation.synthetic import INVALID_KINDS, DemoData, contract_columns, generate_demo
from flows.demo_files import write_demo_files
from schemas.contract import ENTITIES

SEED, N_FIRMS, FIRST_YEAR, LAST_YEAR = 11, 3000, 2010, 2024


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(seed=SEED, n_firms=N_FIRMS, first_year=FIRST_YEAR, last_year=LAST_YEAR)


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
    return o


# --- determinism and shape --------------------------------------------------------------------


def test_same_seed_gives_identical_frames(demo: DemoData) -> None:
    again = generate_demo(seed=SEED, n_firms=N_FIRMS)
    for name, frame in demo.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name], obj=name)
    for name in ("true_effects", "true_att_simple", "planted_invalid"):
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
    path = effects.xs(("SYN-CHL-PDP", "log_sales"), level=["program_id", "outcome"])
    assert path[0] == pytest.approx(0.04) and path[4] == path[10] == pytest.approx(0.15)
    employment = effects.xs(("SYN-BRA-SEBRAETEC", "log_employment"), level=[0, 1])
    assert employment.max() <= 0.02


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
        assert num / den == pytest.approx(att, abs=0.05), (program_id, outcome)
        post = sample[(sample["g"] > 0) & (sample["year"] >= sample["g"])][outcome].mean()
        naive = post - sample[sample["g"] == 0][outcome].mean()
        assert naive > att + 0.3, (program_id, outcome)


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
