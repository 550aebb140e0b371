"""Labels and text of the site in every language with a catalog, and number formatting.

The texts are gettext catalogs, `reports/locales/<locale>/LC_MESSAGES/messages.po`: each
msgid is a stable key (`nav.overview`), its msgstr the text, with `{placeholders}`; the
keys are listed in `reports/locales/messages.pot`. Catalogs are read with Babel (no
compiled .mo files) and kept once read. A language setting is a bare language ("es") or a
CLDR locale ("es_CL", "pt_BR"): a key is looked up in the locale's catalog, then in its
language's, then in English; an agency's folder of extra catalogs (`locales_dir`, same
layout) comes before the shipped ones at each step. Numbers, percentages, money and dates
follow CLDR for the full locale through babel.numbers and babel.dates (es_CL writes
1.234,5, es_MX 1,234.5).

Data codes (outcomes, size classes, sectors, rules...) are translated through keys of the
form `<domain>.<code>`; a code without a key is shown as it is (region names, program
names and other registry text are the agency's own words).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import gettext
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_locale_identifier
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import (
    NumberPattern,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    get_plus_sign_symbol,
    parse_pattern,
)

# a language ("es") or a CLDR locale ("es_CL") that has a catalog
Lang = str

LOCALES = Path(__file__).parent / "locales"
TEMPLATE = LOCALES / "messages.pot"
DOMAIN = "messages"
FALLBACK = "en"  # the language every key has
MINUS = "−"  # the true minus sign of signed figures (effects), whatever the locale's
_PLOTLY = "plotly."  # keys of plotly.js's own toolbar words: plotly.<its English text>


def catalog_path(folder: Path, name: str) -> Path:
    """Where the catalog of locale `name` is in a folder of catalogs."""
    return folder / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog_names(locales_dir: Path | None = None) -> list[str]:
    """The locales that have a catalog: shipped, and in `locales_dir` (an agency's)."""
    folders = [LOCALES] if locales_dir is None else [LOCALES, Path(locales_dir)]
    return sorted(
        {
            p.name
            for folder in folders
            if folder.is_dir()
            for p in folder.iterdir()
            if catalog_path(folder, p.name).is_file()
        }
    )


LANGS: tuple[Lang, ...] = tuple(catalog_names())  # the shipped languages


# --- reading catalogs ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plural:
    """The forms of a message that depends on a count, and its catalog's plural rule
    (Plural-Forms: CLDR's rules as a C expression of n)."""

    forms: tuple[str, ...]
    rule: Callable[[int], int]

    def form(self, count: object) -> str:
        """The form for `count`; a count that is not a whole number (a protected "fewer
        than 5", a placeholder word) takes the general plural, the form of 100."""
        try:
            n = operator.index(count)  # type: ignore[arg-type]  # int, numpy's integers
        except TypeError:
            try:
                value = float(count)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = math.nan
            n = int(value) if value.is_integer() else 100
        return self.forms[min(self.rule(abs(n)), len(self.forms) - 1)]


_Entry = str | _Plural


@functools.lru_cache(maxsize=64)
def _read(path: Path, name: str, _stamp: int) -> dict[str, _Entry]:
    """The translated entries of one catalog; empty and fuzzy ones are left out, so the
    next catalog of the chain (at last English) answers for them."""
    with path.open("rb") as f:
        catalog = read_po(f, locale=name, domain=DOMAIN)
    rule = gettext.c2py(catalog.plural_expr)
    entries: dict[str, _Entry] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(message.string or ())
            if forms and all(forms):
                entries[str(message.id[0])] = _Plural(forms, rule)
        elif isinstance(message.string, str) and message.string:
            entries[message.id] = message.string
    return entries


def _stamp(folder: Path | None, name: str) -> int | None:
    """When the catalog of `name` in `folder` was last changed (None: there is none)."""
    if folder is None:
        return None
    try:
        return catalog_path(folder, name).stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=32)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def _chain(locale: Locale) -> list[str]:
    """The catalogs a locale reads, most general first: English, its language, its
    language and script, the locale itself."""
    names = [FALLBACK, locale.language]
    if locale.script:
        names.append(f"{locale.language}_{locale.script}")
    names.append(str(locale))
    return list(dict.fromkeys(names))


def _texts(name: str, locales_dir: Path | None) -> dict[str, _Entry]:
    """Every key's entry for locale `name` (a catalog changed since is read again)."""
    stamps = tuple((_stamp(LOCALES, s), _stamp(locales_dir, s)) for s in _chain(_locale(name)))
    return _merged(name, locales_dir, stamps)


@functools.lru_cache(maxsize=32)
def _merged(
    name: str, locales_dir: Path | None, stamps: tuple[tuple[int | None, int | None], ...]
) -> dict[str, _Entry]:
    """Each catalog of the chain over the previous ones; at each step the shipped
    catalog, then the agency's."""
    merged: dict[str, _Entry] = {}
    for step, (shipped, agency) in zip(_chain(_locale(name)), stamps, strict=True):
        if shipped is not None:
            merged.update(_read(catalog_path(LOCALES, step), step, shipped))
        if agency is not None and locales_dir is not None:
            merged.update(_read(catalog_path(locales_dir, step), step, agency))
    return merged


def resolve(lang: str, locales_dir: Path | None = None) -> Lang:
    """The CLDR name of a language setting ("es", "es-cl" -> "es_CL"), checked: Babel
    knows the locale and a catalog covers it (its own or its language's). Raises
    ValueError, one line naming the available catalogs."""
    available = catalog_names(locales_dir)
    known = f"available: {', '.join(available)}, or one of them with a region (es_CL)"
    text = str(lang).strip().replace("-", "_")
    try:
        locale = _locale(text)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"unknown language or locale {lang!r}; {known}") from None
    name = str(locale)
    if name.lower() != text.lower():  # Babel reads es_ZZ as es_ES: a region it does not know
        raise ValueError(f"unknown locale {lang!r} (CLDR has no such region); {known}")
    own = set(_chain(locale)[1:]) | {locale.language}  # English covers only English
    if not own & set(available):
        raise ValueError(f"no catalog for {lang!r}; {known}")
    return name


# --- the translator --------------------------------------------------------------------------


class Translator:
    """The texts and number formats of one language or locale."""

    def __init__(
        self,
        lang: Lang,
        codes: Mapping[str, str] | None = None,
        locales_dir: Path | None = None,
    ) -> None:
        """lang: a language or CLDR locale with a catalog ("es", "es_CL"); ValueError
        otherwise. codes: labels of data codes that have none in the catalogs, keyed
        `<domain>.<code>` (the agency's own outcome labels, say): used after the
        catalogs, before the bare code. locales_dir: an agency's folder of extra
        catalogs, read before the shipped ones."""
        self.locales_dir = None if locales_dir is None else Path(locales_dir)
        self.lang: Lang = resolve(lang, self.locales_dir)
        self.locale = _locale(self.lang)
        self.codes: dict[str, str] = dict(codes or {})
        self._texts = _texts(self.lang, self.locales_dir)
        self._english = _texts(FALLBACK, self.locales_dir)
        self._minus = get_minus_sign_symbol(self.locale)  # CLDR's: sv writes −, ar ‎-
        self._plus = get_plus_sign_symbol(self.locale)
        self._patterns: dict[tuple[str, int], NumberPattern] = {}
        self._plain = _plain_digits(self.locale)

    def _text(self, key: str, count: object = None) -> str:
        entry = self._texts.get(key)
        if entry is None:
            return key  # a key no catalog has: shown as it is, never an error
        return entry.form(count) if isinstance(entry, _Plural) else entry

    def _fill(self, key: str, count: object, values: Mapping[str, object]) -> str:
        text = self._text(key, count)
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            entry = self._english.get(key)
            english = entry.form(count) if isinstance(entry, _Plural) else entry
            if english is None or english == text:
                raise  # the code's mistake, not a catalog's
            # a translation with a mistyped placeholder (an agency's catalog): English
            return english.format(**values)

    def __call__(self, key: str, **values: object) -> str:
        """The text of `key`, with {placeholders} filled in. An entry with plural forms
        takes the form for the value `n`. A key missing from the locale's catalogs is
        English; a key no catalog has is shown as it is."""
        if not values:
            return self._text(key)
        return self._fill(key, values.get("n"), values)

    def plural(self, key: str, n: int, **values: object) -> str:
        """The form of `key` for the count `n` (the catalog's plural rule: 1 program,
        2 programs), with {n} written as a number of this locale unless given."""
        return self._fill(key, n, {"n": self.num(n), **values})

    def has(self, key: str) -> bool:
        """Whether `key` has a text."""
        return key in self._texts

    def code(self, domain: str, value: object) -> str:
        """A data code of `domain` in words (the code itself when there is no label)."""
        text = str(value)
        if text in ("total", "unknown"):
            return self(f"value.{text}")
        key = f"{domain}.{text}"
        if key in self._texts:
            return self(key)
        return self.codes.get(key, text)

    @property
    def html_lang(self) -> str:
        """The page's `<html lang>`: a BCP 47 tag (es-CL)."""
        loc = self.locale
        return get_locale_identifier((loc.language, loc.territory, loc.script), sep="-")

    @property
    def separators(self) -> str:
        """plotly's `separators` (decimal, then thousands) for this locale."""
        return get_decimal_symbol(self.locale) + get_group_symbol(self.locale)

    @property
    def plotly_locale(self) -> dict[str, str]:
        """plotly.js's own words (its toolbar) in this language: English -> text, the
        words that differ."""
        words = {}
        for key in self._texts:
            if key.startswith(_PLOTLY):
                english = key.removeprefix(_PLOTLY)
                if (text := self(key)) != english:
                    words[english] = text
        return words

    # --- numbers and dates (CLDR) --------------------------------------------------------

    def _pattern(self, kind: str, decimals: int) -> NumberPattern:
        """The locale's pattern of `kind` with exactly `decimals` decimals."""
        pattern = self._patterns.get((kind, decimals))
        if pattern is None:
            formats = {
                "decimal": self.locale.decimal_formats,
                "percent": self.locale.percent_formats,
                "currency": self.locale.currency_formats,
            }[kind]
            base = formats.get(None) or formats["standard"]
            pattern = copy.copy(parse_pattern(base.pattern))
            pattern.frac_prec = (decimals, decimals)
            self._patterns[(kind, decimals)] = pattern
        return pattern

    def _special(self, x: object) -> tuple[float | None, str | None]:
        """The value as a float, or the symbol that stands for it (missing, unbounded)."""
        try:
            v = float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None, self("sym.missing")
        if math.isnan(v):
            return None, self("sym.missing")
        if math.isinf(v):
            return None, self("sym.unbounded")
        return v, None

    def _localized(self, text: str, v: float) -> str:
        """Babel's text with the locale's own minus sign (its patterns write "-")."""
        return text.replace("-", self._minus, 1) if v < 0 and self._minus != "-" else text

    def num(self, x: object, decimals: int = 0) -> str:
        """A number as this locale writes it; missing values as a dash."""
        v, symbol = self._special(x)
        return (symbol or "") if v is None else self._decimal(v, decimals)

    def _decimal(self, v: float, decimals: int) -> str:
        if self._plain is not None:  # the locale's pattern is #,##0.###: Python's, faster
            return f"{v:,.{decimals}f}".translate(self._plain)
        # the exact binary value, so that rounding is Python's (2.675 -> 2.67)
        return self._localized(self._pattern("decimal", decimals).apply(Decimal(v), self.locale), v)

    def signed(self, x: object, decimals: int = 1) -> str:
        """A number with its sign (effects), the minus a true minus sign (−1.5)."""
        v, symbol = self._special(x)
        if v is None:
            return symbol or ""  # missing, or unbounded either way
        text = self._decimal(abs(v), decimals)
        if not any(c in "123456789" for c in text):
            return text  # zero at this precision
        return (MINUS if v < 0 else self._plus) + text

    def percent(self, x: object, decimals: int = 1) -> str:
        """A share (0.123) as a percentage the way this locale writes it (12.3%, 12,3 %)."""
        v, symbol = self._special(x)
        if v is None:
            return symbol or ""
        return self._localized(self._pattern("percent", decimals).apply(Decimal(v), self.locale), v)

    def money(self, x: object, currency: str = "USD", decimals: int = 0) -> str:
        """An amount of money with its currency, as this locale writes it (US$1,234)."""
        v, symbol = self._special(x)
        if v is None:
            return symbol or ""
        pattern = self._pattern("currency", decimals)
        text = pattern.apply(Decimal(v), self.locale, currency=currency, currency_digits=False)
        return self._localized(text, v)

    def date(self, value: dt.date | str, format: str = "long") -> str:
        """A date as this locale writes it (format: short, medium, long or full)."""
        day = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return format_date(day, format=format, locale=self.locale)

    def interval(self, low: str, high: str) -> str:
        """An interval of two numbers already written, in words that no decimal comma
        can confuse (2,4 a 7,8)."""
        return self("fmt.interval", low=low, high=high)

    def estimate_interval(self, estimate: str, low: str, high: str) -> str:
        """An estimate with its interval: +5.1 (+2.4 to +7.8)."""
        return self("fmt.estimate_interval", estimate=estimate, low=low, high=high)


def _plain_digits(locale: Locale) -> dict[int, str] | None:
    """For a locale whose number pattern is CLDR's common #,##0.### (groups of three, a
    leading minus), the symbols that turn Python's 1,234.5 into the locale's (1.234,5):
    the same text as Babel's, several times faster. None for any other pattern."""
    pattern = parse_pattern(locale.decimal_formats[None].pattern)
    plain = (
        pattern.prefix == ("", "-")
        and pattern.suffix == ("", "")
        and pattern.grouping == (3, 3)
        and pattern.int_prec[0] == 1
        and pattern.exp_prec is None
        and pattern.scale == 0
    )
    if not plain:
        return None
    symbols = {
        ",": get_group_symbol(locale),
        ".": get_decimal_symbol(locale),
        "-": get_minus_sign_symbol(locale),
    }
    return str.maketrans(symbols)


def english_labels() -> set[str]:
    """Every English text that differs from its Spanish one (to test Spanish pages);
    plotly.js's toolbar words are plotly's, not the pages'."""
    english, spanish = Translator("en")._texts, Translator("es")._texts
    labels: set[str] = set()
    for key, entry in english.items():
        if key.startswith(_PLOTLY):
            continue
        other = spanish.get(key, entry)
        forms = entry.forms if isinstance(entry, _Plural) else (entry,)
        others = other.forms if isinstance(other, _Plural) else (other,)
        labels |= set(forms) - set(others)
    return labels
