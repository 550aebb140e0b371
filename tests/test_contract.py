"""The contract: row validation, quarantine reasons, one-line file errors, templates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from schemas.contract import ENTITIES
from schemas.dictionary import data_dictionary, write_templates
from schemas.readers import read_source
from schemas.validate import ContractError, validate_rows

OUTCOME_HEADER = [
    "firm_id",
    "year",
    "employment",
    "sales",
    "wage_bill",
    "exports",
    "value_added",
    "rd_spend",
    "training_spend",
    "capital",
]


def outcomes_frame(rows: list[list[object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=OUTCOME_HEADER, dtype=object)
    frame["_row_number"] = range(2, len(frame) + 2)
    return frame


def test_every_entity_has_a_key_made_of_its_columns() -> None:
    for entity in ENTITIES.values():
        assert set(entity.key) <= set(entity.schema.columns), entity.name
        for column, target in entity.references:
            assert column in entity.schema.columns
            assert list(ENTITIES).index(target) < list(ENTITIES).index(entity.name), "load order"


def test_valid_rows_pass_and_are_typed() -> None:
    frame = outcomes_frame([["F1", "2015", "12.5", "1000", "300", "0", "400", "0", "10", "500"]])
    result = validate_rows(frame, "outcomes", "outcomes.csv")
    assert result.quarantine.empty
    row = result.valid.iloc[0]
    assert row["year"] == 2015 and row["sales"] == 1000.0 and row["_row_number"] == 2


def test_each_bad_row_is_quarantined_with_its_rule_and_the_rest_kept() -> None:
    frame = outcomes_frame(
        [
            ["F1", "2015", "10", "100", None, None, None, None, None, None],  # ok
            ["F2", "2015", "10", "n/d", None, None, None, None, None, None],  # text in numeric
            ["F3", "2015", "-4", "100", None, None, None, None, None, None],  # negative
            ["F4", "2015", "10", "100", None, None, None, None, None, None],  # duplicate ...
            ["F4", "2015", "11", "120", None, None, None, None, None, None],  # ... firm-year
            ["F5", "20x5", "10", "100", None, None, None, None, None, None],  # bad year
            ["F6", "2016", None, None, None, None, None, None, None, None],  # missing: allowed
        ]
    )
    result = validate_rows(frame, "outcomes", "outcomes.csv")
    rules = result.quarantine.groupby("row_number")["rule"].apply(set).to_dict()
    assert rules == {
        3: {"not_a_number"},
        4: {"out_of_range"},
        5: {"duplicate_key"},
        6: {"duplicate_key"},
        7: {"not_a_number"},
    }
    bad = result.quarantine.set_index("row_number")
    assert bad.loc[3, "column_name"] == "sales" and bad.loc[3, "value"] == "n/d"
    assert bad.loc[5, "column_name"] == "firm_id, year"
    assert sorted(result.valid["_row_number"]) == [2, 8]
    assert len(result.valid) + result.rows_quarantined == result.rows_in == 7


def test_participation_rules() -> None:
    frame = pd.DataFrame(
        {
            "firm_id": ["F1", "F2", "F3"],
            "program_id": ["P", "P", "P"],
            "service": [None, None, None],
            "start_date": ["2020-03-01", "2020-03-01", "2020-13-45"],
            "end_date": ["2020-06-01", "2019-01-01", None],
            "public_cost": ["1000", "1000", "1000"],
            "firm_contribution": [None, "10", None],
            "_row_number": [2, 3, 4],
        },
        dtype=object,
    )
    result = validate_rows(frame, "participations", "participations.xlsx")
    assert dict(zip(result.quarantine["row_number"], result.quarantine["rule"], strict=True)) == {
        3: "end_before_start",
        4: "not_a_date",
    }


def test_missing_and_misspelt_columns_give_one_line_errors() -> None:
    frame = outcomes_frame([["F1", "2015", "1", "1", None, None, None, None, None, None]])
    with pytest.raises(ContractError) as missing:
        validate_rows(frame.drop(columns=["year"]), "outcomes", "outcomes.csv")
    assert str(missing.value) == "outcomes.csv: missing required column 'year' for outcomes"
    with pytest.raises(ContractError) as misspelt:
        validate_rows(frame.rename(columns={"year": "yaer"}), "outcomes", "outcomes.csv")
    assert "missing required column 'year'" in str(misspelt.value)
    assert "found 'yaer'" in str(misspelt.value)
    assert "\n" not in str(misspelt.value)
    # an optional column may be left out (it loads empty), but not misspelt
    assert len(validate_rows(frame.drop(columns=["capital"]), "outcomes", "o.csv").valid) == 1
    with pytest.raises(ContractError) as optional:
        validate_rows(frame.rename(columns={"sales": "slaes"}), "outcomes", "outcomes.csv")
    assert str(optional.value) == (
        "outcomes.csv: column 'slaes' is not in the contract of outcomes: misspelt 'sales'? "
        "(an optional column: leave it out, or name it 'sales')"
    )


def test_reader_keeps_text_and_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(
        "firm_id,country,region,isic4,founded_year\n007,CHL,Biobío,1071,\n", encoding="utf-8"
    )
    frame = read_source(path)
    assert frame.loc[0, "firm_id"] == "007"  # leading zeros survive: identifiers are text
    assert frame.loc[0, "region"] == "Biobío"
    assert frame.loc[0, "founded_year"] is None
    assert frame.loc[0, "_row_number"] == 2


def test_reader_rejects_unknown_file_types(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="unsupported file type"):
        read_source(tmp_path / "firms.json")


def test_templates_and_dictionary_come_from_the_contract(tmp_path: Path) -> None:
    written = write_templates(tmp_path)
    assert {p.name for p in written} >= {f"{name}.csv" for name in ENTITIES}
    for name, entity in ENTITIES.items():
        header = (tmp_path / f"{name}.csv").read_text(encoding="utf-8").strip().split(",")
        assert header == list(entity.schema.columns)
    dictionary = data_dictionary()
    assert len(dictionary) == sum(len(e.schema.columns) for e in ENTITIES.values())
    assert (dictionary["description"] != "").all()
    pillar = dictionary[(dictionary["entity"] == "programs") & (dictionary["column"] == "pillar")]
    assert "supply_chain" in pillar["rules"].iloc[0]
    assert "`outcomes` (required)" in (tmp_path / "data_dictionary.md").read_text(encoding="utf-8")


def test_an_odd_date_format_quarantines_its_row_not_the_file() -> None:
    frame = pd.DataFrame(
        {
            "firm_id": ["F1", "F2", "F3"],
            "program_id": ["P", "P", "P"],
            "service": [None, None, None],
            "start_date": ["2020-03-01", "03/25/2020", "2020-04-01 00:00:00"],
            "end_date": [None, None, None],
            "public_cost": ["1", "1", "1"],
            "firm_contribution": [None, None, None],
            "_row_number": [2, 3, 4],
        },
        dtype=object,
    )
    result = validate_rows(frame, "participations", "p.csv")
    assert list(result.quarantine["row_number"]) == [3]
    assert list(result.quarantine["rule"]) == ["not_a_date"]
    assert sorted(result.valid["_row_number"]) == [2, 4]
