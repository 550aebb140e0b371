"""The site's words are gettext catalogs (reports/locales) and its numbers CLDR's: every
shipped catalog is complete and compiles, regional locales write numbers as their country
does, intervals read the same whatever the decimal mark, counts take their plural form,
and an agency adds a language with a .po file and no change to the code."""

from __future__ import annotations

import contextlib
import copy
import gettext
import io
import re
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.numbers import get_decimal_symbol, get_group_symbol, parse_pattern

from flows.config import ConfigError, load_config
from reports.i18n import LANGS, LOCALES, TEMPLATE, Translator, catalog_path, resolve
from reports.views import Formats

from .test_evaluation_settings import config

ROOT = Path(__file__).resolve().parents[1]
REGIONAL = ("es_CL", "es_MX", "pt_BR", "en_US")

# what an agency ships to add German: five keys, one of them with plural forms
GERMAN = r"""# German words of the agency's editions
msgid ""
msgstr ""
"Language: de\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
"Content-Type: text/plain; charset=utf-8\n"

msgid "nav.overview"
msgstr "Überblick"

msgid "nav.methodology"
msgstr "Methodik"

msgid "fmt.interval"
msgstr "{low} bis {high}"

msgid "fmt.estimate_interval"
msgstr "{estimate} ({low} bis {high})"

msgid "overview.lede"
msgid_plural "overview.lede"
msgstr[0] "{n} Programm, bis {end}."
msgstr[1] "{n} Programme, bis {end}."
"""


def german(folder: Path) -> Path:
    """A folder of extra catalogs holding the German one."""
    path = catalog_path(folder, "de")
    path.parent.mkdir(parents=True)
    path.write_text(GERMAN, encoding="utf-8")
    return folder


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _key(message: Any) -> str:
    return str(message.id[0] if isinstance(message.id, tuple | list) else message.id)


def _forms(message: Any) -> tuple[str, ...]:
    string_ = message.string
    return tuple(string_) if isinstance(string_, tuple | list) else (string_,)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --- the shipped catalogs --------------------------------------------------------------------


def test_the_shipped_languages_are_the_catalog_folders() -> None:
    assert LANGS == ("en", "es", "pt")
    assert all(catalog_path(LOCALES, lang).is_file() for lang in LANGS)
    assert not list(LOCALES.rglob("*.mo"))  # catalogs are read as .po, never compiled in


def test_every_catalog_has_every_key_of_the_template_translated() -> None:
    template = _read(TEMPLATE)
    keys = {_key(m): m.pluralizable for m in template if m.id}
    assert len(keys) > 600
    for lang in LANGS:
        catalog = _read(catalog_path(LOCALES, lang), lang)
        assert catalog.locale_identifier == lang
        # CLDR's plural rule for the language, as Babel writes it
        assert catalog.plural_forms == get_plural(lang).plural_forms, lang
        entries = {_key(m): m for m in catalog if m.id}
        assert entries.keys() == keys.keys(), (lang, set(entries) ^ set(keys))
        for key, message in entries.items():
            assert not message.fuzzy, (lang, key)
            assert message.pluralizable == keys[key], (lang, key)
            forms = _forms(message)
            assert len(forms) == (catalog.num_plurals if message.pluralizable else 1), key
            assert all(form.strip() for form in forms), (lang, key)


def test_every_entry_has_the_placeholders_of_its_english_text() -> None:
    english = {_key(m): _forms(m) for m in _read(catalog_path(LOCALES, "en"), "en") if m.id}
    for lang in LANGS:
        for message in _read(catalog_path(LOCALES, lang), lang):
            if not message.id:
                continue
            key = _key(message)
            expected = _placeholders(english[key][-1])  # the general (plural) form
            for form in _forms(message):
                found = _placeholders(form)
                # a form for a single count may say it in words ("the largest firm")
                assert found == expected or found == expected - {"n"}, (lang, key, form)
                assert form.format(**dict.fromkeys(found, "1")), (lang, key)


def test_the_catalogs_compile_and_pass_babels_checks() -> None:
    for lang in LANGS:
        catalog = _read(catalog_path(LOCALES, lang), lang)
        assert not list(catalog.check()), lang  # plural counts, format strings
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations = gettext.GNUTranslations(compiled)
        assert translations.gettext("nav.overview") == Translator(lang)("nav.overview")
        one, two = (translations.ngettext("audit.fail", "audit.fail", n) for n in (1, 2))
        assert one != two and "{n}" in one and "{n}" in two, lang


def test_every_literal_key_in_the_code_has_a_text() -> None:
    """pybabel's own extraction (babel.cfg, keywords t and plural) finds no key the
    catalogs lack."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords: dict[str, Any] = {"t": None, "plural": None}
    with contextlib.redirect_stderr(io.StringIO()):  # a warning per f-string key
        extracted = list(extract_from_dir(ROOT, method_map, options_map, keywords))
    found = {str(message) for _, _, message, _, _ in extracted}
    known = {_key(m) for m in _read(TEMPLATE) if m.id}
    assert {"overview.lede", "nav.overview", "outliers.status_summary"} <= found  # .py, .html
    for message in found - known:
        # t("a" if x else "b") is read by the extractor as one string "ab": two keys
        assert any(message[:i] in known and message[i:] in known for i in range(1, len(message))), (
            f"t({message!r}) has no text in reports/locales"
        )


# --- numbers, dates, intervals ---------------------------------------------------------------


def test_regional_locales_write_numbers_as_cldr_says() -> None:
    written = {lang: Translator(lang).num(1234.5, 1) for lang in (*LANGS, *REGIONAL)}
    for lang, text in written.items():
        locale = Locale.parse(lang)
        decimal, group = get_decimal_symbol(locale), get_group_symbol(locale)
        assert text == f"1{group}234{decimal}5", lang
        assert Translator(lang).separators == decimal + group
    # Python's formatting with the locale's symbols: the text Babel's pattern writes
    values = [*np.random.default_rng(3).normal(0, 1e6, 300).tolist(), 2.675, -0.04, 0.5, 1.5]
    for lang in (*LANGS, *REGIONAL):
        t, locale = Translator(lang), Locale.parse(lang)
        for decimals in (0, 1, 3):
            pattern = copy.copy(parse_pattern(locale.decimal_formats[None].pattern))
            pattern.frac_prec = (decimals, decimals)
            for v in values:
                assert t.num(v, decimals) == pattern.apply(Decimal(v), locale), (lang, v)
    assert written["es_CL"] == "1.234,5" and written["es_MX"] == "1,234.5"
    assert written["pt_BR"] == "1.234,5" and written["en_US"] == "1,234.5"
    mexico = Translator("es_MX")
    assert mexico.signed(-1234.5) == "−1,234.5" and mexico.signed(0.04) == "0.0"
    assert Translator("es_CL").signed(2.25, 2) == "+2,25"
    assert mexico.num(None) == mexico("sym.missing") and mexico.num(float("inf")) == "∞"
    assert mexico.percent(0.123) != Translator("es").percent(0.123)  # 12.3 % / 12,3 %
    assert Translator("pt_BR").date("2024-12-31") == "31 de dezembro de 2024"
    assert Translator("en").date("2024-12-31") == "December 31, 2024"
    assert "1.234" in Translator("es").money(1234) and "1,234" in mexico.money(1234)


def test_regional_locales_read_their_languages_catalog() -> None:
    for regional in REGIONAL:
        t, language = Translator(regional), Translator(regional.split("_")[0])
        assert t.lang == regional and t.html_lang == regional.replace("_", "-")
        for key in ("nav.overview", "site.title", "reason.no_beneficiaries"):
            assert t(key) == language(key)
    assert Translator("es-cl").lang == "es_CL"  # BCP 47 spelling, any case
    assert Translator("es").html_lang == "es"


# an interval whose numbers are written with decimal commas and separated by ", "
AMBIGUOUS = re.compile(r"\d,\d+, [−+-]?\d")


def test_intervals_are_unambiguous_in_every_locale() -> None:
    assert AMBIGUOUS.search("+12,3 [+10,1, +14,9]")  # the old way, which the check catches
    row = pd.Series({"estimate": 12.345, "ci_low": 10.06, "ci_high": 1414.94})
    for lang in (*LANGS, *REGIONAL):
        t = Translator(lang)
        fmt = Formats(t)
        effect = fmt.effect()(row["estimate"], row)
        interval = fmt.interval()(None, row)
        low, high = t.signed(10.06), t.signed(1414.94)
        assert effect == t.estimate_interval(t.signed(12.345), low, high), lang
        assert low in effect and high in effect and effect.startswith(t.signed(12.345))
        assert interval == t.interval(t.num(10.06, 1), t.num(1414.94, 1))
        for text in (effect, interval):
            assert not AMBIGUOUS.search(text), (lang, text)
            assert "[" not in text, (lang, text)
    assert Formats(Translator("es")).effect()(1.0, pd.Series({"ci_low": None})) == "+1,0"


def test_counts_take_their_plural_form() -> None:
    words = {
        "en": ("1 program,", "2 programs,"),
        "es": ("1 programa,", "2 programas,"),
        "pt": ("1 programa,", "2 programas,"),
    }
    for lang, (one, two) in words.items():
        t = Translator(lang)
        assert t.plural("overview.lede", 1, end="x").startswith(one), lang
        assert t.plural("overview.lede", 2, end="x").startswith(two), lang
        # the templates' t("key", n=...) picks the form too
        assert t("changes.summary", previous="p", n=1) != t("changes.summary", previous="p", n=2)
        # a protected count ("fewer than 5") reads as a plural
        assert t("outliers.status_summary", n="<5") == t("outliers.status_summary", n=5).replace(
            "5", "<5"
        )
    assert Translator("en").plural("overview.lede", 12345, end="x").startswith("12,345 ")
    assert Translator("en")("audit.fail", n=1).startswith("1 audited cell falls")
    assert Translator("es")("audit.fail", n=np.int64(1)).startswith("1 celda auditada no")


# --- languages an agency adds ----------------------------------------------------------------


def test_a_fourth_language_is_a_po_file(tmp_path: Path) -> None:
    extra = german(tmp_path / "locales")
    de, en = Translator("de", locales_dir=extra), Translator("en")
    assert de("nav.overview") == "Überblick" and de("nav.methodology") == "Methodik"
    assert de("nav.quality") == en("nav.quality")  # not translated yet: English
    assert de.plural("overview.lede", 1, end="x") == "1 Programm, bis x."
    assert de.plural("overview.lede", 2, end="x") == "2 Programme, bis x."
    assert de.num(1234.5, 1) == "1.234,5" and de.separators == ",."
    assert de.interval(de.num(2.5, 1), de.num(7, 1)) == "2,5 bis 7,0"
    assert de.date("2024-12-31") == "31. Dezember 2024"
    swiss = Translator("de_CH", locales_dir=extra)  # German words, Swiss numbers
    assert swiss("nav.overview") == "Überblick" and swiss.html_lang == "de-CH"
    assert swiss.num(1234.5, 1) == f"1{get_group_symbol('de_CH')}234.5"
    with pytest.raises(ValueError, match="no catalog for 'de'; available: en, es, pt"):
        Translator("de")  # without the agency's folder


def test_a_locale_with_other_number_patterns(tmp_path: Path) -> None:
    path = catalog_path(tmp_path, "hi")
    path.parent.mkdir(parents=True)
    path.write_text('msgid "nav.overview"\nmsgstr "अवलोकन"\n', encoding="utf-8")
    india = Translator("hi_IN", locales_dir=tmp_path)
    assert india("nav.overview") == "अवलोकन" and india("nav.quality") == "Data quality"
    assert india.num(1234567.25, 1) == "12,34,567.2"  # lakh and crore groups
    assert india.signed(-1234567.25, 1) == "−12,34,567.2"
    path = catalog_path(tmp_path, "sv")
    path.parent.mkdir(parents=True)
    path.write_text('msgid "nav.overview"\nmsgstr "Översikt"\n', encoding="utf-8")
    swedish = Translator("sv", locales_dir=tmp_path)
    assert swedish.num(-1234.5, 1) == "−1\xa0234,5"  # CLDR's minus and group for Swedish


def test_the_config_accepts_languages_with_a_catalog(tmp_path: Path) -> None:
    german(tmp_path / "locales")
    run = load_config(
        config(tmp_path, languages=["en", "es-cl", "de", "de_AT"], locales_dir="locales")
    )
    assert run.languages == ("en", "es_CL", "de", "de_AT")
    assert run.locales_dir == tmp_path / "locales"
    for languages, words in (
        (["fr"], "no catalog for 'fr'; available: de, en, es, pt"),
        (["es_ZZ"], "unknown locale 'es_ZZ'"),
        (["klingon"], "unknown language or locale 'klingon'; available: de, en, es, pt"),
    ):
        with pytest.raises(ConfigError) as exc:
            load_config(config(tmp_path, languages=languages, locales_dir="locales"))
        message = str(exc.value)
        assert "languages: " + words in message and "\n" not in message, message
    with pytest.raises(ConfigError, match="languages: no catalog for 'de'; available: en, es, pt"):
        load_config(config(tmp_path, languages=["de"]))
    with pytest.raises(ConfigError, match=r"locales_dir: .* is not a folder"):
        load_config(config(tmp_path, locales_dir="missing"))


def test_an_agency_catalog_with_a_broken_placeholder_falls_back_to_english(
    tmp_path: Path,
) -> None:
    path = catalog_path(tmp_path, "es")
    path.parent.mkdir(parents=True)
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n\n'
        'msgid "note.money"\nmsgstr "Dólares de {año}"\n\n'
        'msgid "nav.overview"\nmsgstr "Inicio"\n',
        encoding="utf-8",
    )
    t = Translator("es_CL", locales_dir=tmp_path)
    assert t("nav.overview") == "Inicio"  # the agency's word over the shipped one
    assert t("note.money", year=2020) == Translator("en")("note.money", year=2020)
    assert t("no.such.key") == "no.such.key"  # shown as it is, never an exception
    with pytest.raises(KeyError):  # but a value the code forgot is the code's mistake
        Translator("es")("note.money", yr=2020)
    assert resolve("es_CL", tmp_path) == "es_CL"
