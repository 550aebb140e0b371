"""The data dictionary comes in the languages of the editions: its words are the report's
catalogs, its names (entities, columns, files) the contract's, and a contract change the
catalogs do not know yet reads in English instead of failing."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from babel.messages.pofile import read_po
from pandera.typing.pandas import Series
from typer.testing import CliRunner

from flows.cli import app
from reports.i18n import LANGS, LOCALES, Translator, catalog_path
from schemas import dictionary
from schemas.contract import ENTITIES, Entity, Firms
from schemas.dictionary import data_dictionary, rule_text, write_templates

from .test_catalogs import german
from .test_evaluation_settings import config

runner = CliRunner()
OTHERS = ("es", "pt")
# words only English writes (Spanish and Portuguese have none of them)
ENGLISH_ONLY = {"the", "of", "and", "for", "with", "which", "from", "by", "is", "if", "its"}
# lines of the English dictionary as it was before it came in other languages
ENGLISH_MD = [
    "# Data dictionary: data contract v1",
    "## `macro` (required)",
    "Key: country, year.",
    "| column | type | required | may be empty | rules | description |",
    "| `year` | integer | yes | no | >= 1900; <= 2100 | Calendar year. |",
    "| `gdp` | number | yes | no | > 0; <= 1e+18 | GDP, local currency, current prices. |",
    "References: `firm_id` must exist in `firms`, `program_id` must exist in `programs`.",
    "| `start_date` | date (yyyy-mm-dd) | yes | no |  | Date the service started (entry into the program). |",
    "## `targets` (optional)",
    "Accepts agency-declared extra columns (see the end of this page).",
    "## Extra columns (declared by the agency)",
    "Besides the columns above, the files of `firms` and `outcomes` may carry the agency's own columns",
    "| `money` | local currency, current prices, may be empty (outcomes only) | converted to constant US dollars as `<name>_usd` (e.g. `sales_abroad_usd`) |",
    "without a declared column loads it empty. Columns that are not declared are ignored.",
]
ENGLISH_CSV = [
    '"entity","entity_required","column","type","column_required","may_be_empty","rules","in_key","description"',
    '"macro",True,"year","integer",True,False,">= 1900; <= 2100",True,"Calendar year."',
    '"programs",True,"program_id","text",True,False,"not empty",True,"Program identifier."',
]


def _contract_texts() -> dict[str, str]:
    """Every English description of the contract, by its catalog key."""
    texts = {}
    for entity in ENTITIES.values():
        texts[f"dictionary.entity.{entity.name}"] = entity.description
        for name, column in entity.schema.columns.items():
            texts[f"dictionary.column.{entity.name}.{name}"] = column.description or ""
    return texts


def _codes() -> set[str]:
    """The contract's names and allowed values: the same words in every language."""
    codes = set(ENTITIES)
    for entity in ENTITIES.values():
        for name, column in entity.schema.columns.items():
            codes.add(name)
            for check in column.checks:
                codes |= set(map(str, (check.statistics or {}).get("allowed_values", [])))
    return codes


def _prose(text: str, codes: set[str]) -> set[str]:
    """The words of a description, without its names and codes (`quoted` or snake_case)."""
    text = re.sub(r"`[^`]*`", " ", text).lower()
    return {w for w in re.findall(r"[^\W\d]+", text) if w not in codes and "_" not in w}


def test_every_contract_entity_and_column_has_its_words_in_every_shipped_catalog() -> None:
    contract = _contract_texts()
    for lang in LANGS:
        with catalog_path(LOCALES, lang).open("rb") as f:
            entries = {m.id: m.string for m in read_po(f, locale=lang) if m.id}
        missing = sorted(key for key in contract if not entries.get(key))
        assert not missing, f"{lang}: add to reports/locales: {missing}"
        if lang == "en":
            # the English catalog says what the contract says: a description changed in
            # schemas/contract.py is changed (and translated) in the catalogs too
            changed = {k: v for k, v in contract.items() if entries[k] != v}
            assert not changed, changed


def test_the_english_dictionary_reads_as_before(tmp_path: Path) -> None:
    written = {p.name for p in write_templates(tmp_path)}
    assert {"data_dictionary.csv", "data_dictionary.md"} <= written
    assert not any(".en." in name or name.count(".") > 1 for name in written)
    md = (tmp_path / "data_dictionary.md").read_text(encoding="utf-8").splitlines()
    for line in ENGLISH_MD:
        assert line in md, line
    assert md[0] == ENGLISH_MD[0]
    assert not any("loader reads" in line for line in md)  # the names note is for translations
    csv = (tmp_path / "data_dictionary.csv").read_text(encoding="utf-8").splitlines()
    for line in ENGLISH_CSV:
        assert line in csv, line
    frame = data_dictionary()
    for row in frame.itertuples():
        assert row.description == ENTITIES[row.entity].schema.columns[row.column].description
    # a description with a | of its own stays in its cell of the Markdown table
    pillar = next(line for line in md if line.startswith("| `pillar` |"))
    assert pillar.replace("\\|", "").count("|") == 7


@pytest.mark.parametrize("lang", OTHERS)
def test_spanish_and_portuguese_dictionaries_are_in_their_language(
    tmp_path: Path, lang: str
) -> None:
    written = {p.name for p in write_templates(tmp_path, (lang,))}
    assert {f"data_dictionary.{lang}.csv", f"data_dictionary.{lang}.md"} <= written
    assert "data_dictionary.md" not in written  # English only when asked for
    t = Translator(lang)
    csv = pd.read_csv(tmp_path / f"data_dictionary.{lang}.csv", dtype=str, keep_default_na=False)
    md = (tmp_path / f"data_dictionary.{lang}.md").read_text(encoding="utf-8")
    # names stay the contract's: the CSV's headers, every entity and column, the templates
    assert list(csv.columns) == list(data_dictionary().columns)
    for name, entity in ENTITIES.items():
        assert list(csv.loc[csv["entity"] == name, "column"]) == list(entity.schema.columns)
        assert f"## `{name}` (" in md
        for column in entity.schema.columns:
            assert f"| `{column}` |" in md, (name, column)
        header = (tmp_path / f"{name}.csv").read_text(encoding="utf-8").strip().split(",")
        assert header == list(entity.schema.columns)
    assert t("dictionary.intro") in md and "`firm_id`" in t("dictionary.intro")
    # no English description is left, and what is left of English is names and codes
    codes = _codes()
    translated = dict(zip(csv["entity"] + "." + csv["column"], csv["description"], strict=True))
    for key, english in _contract_texts().items():
        assert english not in md, (lang, english)
        text = translated.get(key.split(".", 2)[-1], t(key))
        assert text != english and text.replace("|", "\\|") in md, (lang, key)
        words, theirs = _prose(english, codes), _prose(text, codes)
        assert not theirs & ENGLISH_ONLY, (lang, key, text)
        assert len(words & theirs) <= len(words) / 2, (lang, key, text)
    # type words and rules in the language's words, the patterns and codes as they are
    types = {t(f"dictionary.type.{k}") for k in ("date", "integer", "number", "text")}
    assert set(csv["type"]) == types and not types & set(data_dictionary()["type"])
    for english_rule in ("one of:", "matches", "not empty", " to "):
        assert not csv["rules"].str.contains(english_rule, regex=False).any(), english_rule
    pillar = csv.loc[csv["column"] == "pillar", "rules"].iloc[0]
    assert pillar == t(
        "dictionary.rule.one_of", values="productivity, innovation, supply_chain, exports"
    )
    isic = csv.loc[csv["column"] == "isic4", "rules"].iloc[0]
    assert isic == t("dictionary.rule.matches", pattern=r"^\d{4}$")
    assert "| yes |" not in md and "(required)" not in md and "(optional)" not in md
    assert f"| {t('dictionary.yes')} |" in md and f"({t('dictionary.optional')})" in md
    assert "extra_columns: {new_products: integer, sales_abroad: money}" in md  # YAML as is


def test_rule_bounds_are_written_with_the_locales_decimal_mark() -> None:
    checks = [
        pa.Check.isin(["loan", "voucher"]),
        pa.Check.in_range(0.5, 2.25),
        pa.Check.ge(1900),
        pa.Check.le(1e18),
        pa.Check.str_length(min_value=1),
    ]
    for lang in (*LANGS, "es_MX", "pt_BR"):
        t = Translator(lang)
        mark = t.separators[0]
        text = rule_text(checks, t)
        assert text.split("; ") == [
            t("dictionary.rule.one_of", values="loan, voucher"),
            t("dictionary.rule.range", low=f"0{mark}5", high=f"2{mark}25"),
            t("dictionary.rule.ge", value="1900"),  # a year has no group separator
            t("dictionary.rule.le", value="1e+18"),
            t("dictionary.rule.not_empty"),
        ], lang
    assert "0,5" in rule_text(checks, Translator("es"))  # es_ES: a decimal comma
    assert "0.5" in rule_text(checks, Translator("es_MX"))  # Mexico: a decimal point


class _Owners(Firms):
    """Who owns each firm (not in the catalogs yet)."""

    owner_type: Series[str] = pa.Field(description="Type of owner (family, state, foreign).")


def test_an_entity_or_column_without_words_in_the_catalogs_reads_in_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entities = {**ENTITIES, "owners": Entity("owners", _Owners, ("firm_id",), required=False)}
    monkeypatch.setattr(dictionary, "ENTITIES", entities)
    frame = data_dictionary("es")
    owners = frame[frame["entity"] == "owners"].set_index("column")["description"]
    assert owners["owner_type"] == "Type of owner (family, state, foreign)."
    assert owners["firm_id"] == "Firm identifier (tax number or agency code)."
    firms = frame[frame["entity"] == "firms"].set_index("column")["description"]
    assert firms["firm_id"] == Translator("es")("dictionary.column.firms.firm_id")
    write_templates(tmp_path, ("pt",))
    md = (tmp_path / "data_dictionary.pt.md").read_text(encoding="utf-8")
    assert "Who owns each firm (not in the catalogs yet)." in md
    assert (tmp_path / "owners.csv").read_text(encoding="utf-8").startswith("firm_id,")


def test_an_agencys_catalog_adds_a_dictionary_language(tmp_path: Path) -> None:
    extra = german(tmp_path / "locales")
    path = catalog_path(extra, "de")
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\nmsgid "dictionary.title"\nmsgstr "Datenwörterbuch: Datenvertrag v1"\n',
        encoding="utf-8",
    )
    write_templates(tmp_path / "out", ("de_CH",), extra)
    md = (tmp_path / "out" / "data_dictionary.de_CH.md").read_text(encoding="utf-8")
    assert md.startswith("# Datenwörterbuch: Datenvertrag v1\n")
    assert "Calendar year." in md  # not translated yet: English
    with pytest.raises(ValueError, match="no catalog for 'de'"):
        write_templates(tmp_path / "none", ("es", "de"))
    assert not (tmp_path / "none").exists()  # a bad language stops before writing


def test_the_templates_command_writes_the_languages_asked_for(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["templates", str(tmp_path / "t"), "--lang", "es", "--lang", "pt-br"]
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "t").iterdir()}
    assert {"data_dictionary.es.md", "data_dictionary.es.csv", "data_dictionary.pt_BR.md"} <= names
    assert "data_dictionary.md" not in names
    assert "data_dictionary.es.md" in result.output
    # the config's languages and its agency catalogs
    german(tmp_path / "locales")
    agency = config(tmp_path, languages=["en", "de"], locales_dir="locales")
    result = runner.invoke(app, ["templates", str(tmp_path / "c"), "--config", str(agency)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "c").iterdir()}
    assert {"data_dictionary.md", "data_dictionary.de.md"} <= names
    result = runner.invoke(
        app, ["templates", str(tmp_path / "d"), "--config", str(agency), "--lang", "de_AT"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "data_dictionary.de_AT.md").is_file()


def test_an_unknown_language_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["templates", str(tmp_path / "t"), "--lang", "xx"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --lang:"), result.output
    assert "'xx'" in lines[0] and "available: en, es, pt" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "t").exists()
