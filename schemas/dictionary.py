"""Blank input templates and the data dictionary, generated from the contract, in the
languages of the editions.

Every word of the dictionary is in the report's catalogs (`reports/locales`, keys
`dictionary.*`): an entity's description is `dictionary.entity.<entity>`, a column's
`dictionary.column.<entity>.<column>` (their English text is the contract's). An entity
or column no catalog knows yet reads in the contract's English. Entity, column and file
names stay the contract's in every language: they are what the loader reads.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import pandas as pd
from babel.lists import format_list

from reports.cells import safe_frame, write_csv
from reports.i18n import FALLBACK, Translator
from schemas.contract import ENTITIES, Entity
from schemas.extras import EXTRA_ENTITIES, EXTRA_KINDS, money_name

STEM = "data_dictionary"

# How an agency declares its own columns (schemas/extras.py): the same YAML in every language
EXTRA_COLUMNS_YAML = """```yaml
sources:
  firms: {path: data/firms.csv, extra_columns: {female_owned: number, cluster: text}}
  outcomes: {path: data/outcomes.csv, extra_columns: {new_products: integer, sales_abroad: money}}
```"""


def type_name(dtype: object, t: Translator) -> str:
    """The kind of value a column holds, in words of `t`'s language."""
    text = str(dtype).lower()
    for token, name in (("datetime", "date"), ("int", "integer"), ("float", "number")):
        if token in text:
            return t(f"dictionary.type.{name}")
    return t("dictionary.type.text")


def _bound(value: object, t: Translator) -> str:
    """A rule's bound: whole numbers as bare digits (a year reads 1900 in every language),
    others as Python writes them (1e+18) with the locale's decimal mark."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    number = float(value)
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return str(value).replace(".", t.separators[0])


def rule_text(checks: list, t: Translator) -> str:
    """A column's checks as the dictionary states them, in words of `t`'s language."""
    rules = []
    for check in checks:
        stats = check.statistics or {}
        if check.name == "isin":
            values = ", ".join(map(str, stats.get("allowed_values", [])))
            rules.append(t("dictionary.rule.one_of", values=values))
        elif check.name == "str_matches":
            rules.append(t("dictionary.rule.matches", pattern=stats.get("pattern")))
        elif check.name == "greater_than_or_equal_to":
            rules.append(t("dictionary.rule.ge", value=_bound(stats.get("min_value"), t)))
        elif check.name == "greater_than":
            rules.append(t("dictionary.rule.gt", value=_bound(stats.get("min_value"), t)))
        elif check.name == "less_than_or_equal_to":
            rules.append(t("dictionary.rule.le", value=_bound(stats.get("max_value"), t)))
        elif check.name == "in_range":
            low, high = (_bound(stats.get(k), t) for k in ("min_value", "max_value"))
            rules.append(t("dictionary.rule.range", low=low, high=high))
        elif check.name == "str_length":
            rules.append(t("dictionary.rule.not_empty"))
        else:
            rules.append(check.name)
    return "; ".join(rules)


def entity_description(entity: Entity, t: Translator) -> str:
    """What an entity holds, in `t`'s language (the contract's English if no catalog has it)."""
    key = f"dictionary.entity.{entity.name}"
    return t(key) if t.has(key) else entity.description


def column_description(entity: Entity, column: str, t: Translator) -> str:
    """What a column means, in `t`'s language (the contract's English if no catalog has it)."""
    key = f"dictionary.column.{entity.name}.{column}"
    return t(key) if t.has(key) else entity.schema.columns[column].description or ""


def data_dictionary(lang: str = FALLBACK, locales_dir: Path | None = None) -> pd.DataFrame:
    """One row per entity and column: type, whether required, allowed values, meaning.
    lang: a language with a catalog or a CLDR locale of one (ValueError otherwise);
    locales_dir: an agency's extra catalogs. The headers and names stay the contract's."""
    t = Translator(lang, locales_dir=locales_dir)
    rows = []
    for entity in ENTITIES.values():
        schema = entity.schema
        for name, column in schema.columns.items():
            rows.append(
                {
                    "entity": entity.name,
                    "entity_required": entity.required,
                    "column": name,
                    "type": type_name(column.dtype, t),
                    "column_required": column.required,
                    "may_be_empty": column.nullable,
                    "rules": rule_text(column.checks, t),
                    "in_key": name in entity.key,
                    "description": column_description(entity, name, t),
                }
            )
    return pd.DataFrame(rows)


def dictionary_stem(lang: str) -> str:
    """The dictionary's file name without suffix: English keeps the plain name."""
    return STEM if lang == FALLBACK else f"{STEM}.{lang}"


def write_templates(
    out_dir: Path,
    languages: tuple[str, ...] | list[str] = (FALLBACK,),
    locales_dir: Path | None = None,
) -> list[Path]:
    """Write a blank CSV per entity plus the data dictionary (CSV and Markdown) in each of
    `languages`: `data_dictionary.csv`/`.md` in English, `data_dictionary.<lang>.csv`/`.md`
    in another (es, es_CL). A language without a catalog is a ValueError (one line) before
    anything is written."""
    translators = [Translator(lang, locales_dir=locales_dir) for lang in languages]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for entity in ENTITIES.values():
        path = out_dir / f"{entity.name}.csv"
        # a header row only (the contract's snake_case names, whatever the language: the
        # loader reads them), written bare as agency files are; nothing in it can start a
        # formula, safe_frame makes sure of it
        safe_frame(pd.DataFrame(columns=list(entity.schema.columns))).to_csv(path, index=False)
        written.append(path)
    for t in {t.lang: t for t in translators}.values():  # es_CL and es-cl: one dictionary
        lang = t.lang
        if lang == FALLBACK and locales_dir is None:
            dictionary = data_dictionary()  # the contract's own: English, shipped words
        else:
            dictionary = data_dictionary(lang, locales_dir)
        stem = dictionary_stem(lang)
        # users open the dictionary in a spreadsheet: written as the report's exports are,
        # text that could run as a formula neutralized and quoted (reports.cells)
        csv_path = write_csv(dictionary, out_dir / f"{stem}.csv")
        md_path = out_dir / f"{stem}.md"
        md_path.write_text(_markdown(dictionary, t), encoding="utf-8")
        written += [csv_path, md_path]
    return written


def _cell(text: object) -> str:
    """Text for a Markdown table cell: a `|` of its own (registry | survey) escaped."""
    return str(text).replace("|", "\\|")


def _markdown(dictionary: pd.DataFrame, t: Translator) -> str:
    yes, no = t("dictionary.yes"), t("dictionary.no")
    lines = [f"# {t('dictionary.title')}", ""]
    if t.locale.language != FALLBACK:
        # the text is translated, the names are not: say so before anyone renames a header
        lines += [t("dictionary.intro"), ""]
    for entity in ENTITIES.values():
        need = t("dictionary.required" if entity.required else "dictionary.optional")
        lines += [
            f"## `{entity.name}` ({need})",
            "",
            entity_description(entity, t),
            "",
            t("dictionary.key", columns=", ".join(entity.key)),
            "",
        ]
        if entity.references:
            refs = ", ".join(
                t("dictionary.reference", column=col, entity=target)
                for col, target in entity.references
            )
            lines += [t("dictionary.references", references=refs), ""]
        headers = ("column", "type", "required", "may_be_empty", "rules", "description")
        lines += [
            "| " + " | ".join(t(f"dictionary.header.{h}") for h in headers) + " |",
            "|---|---|---|---|---|---|",
        ]
        for row in dictionary[dictionary["entity"] == entity.name].itertuples():
            lines.append(
                f"| `{row.column}` | {_cell(row.type)} | {yes if row.column_required else no} | "
                f"{yes if row.may_be_empty else no} | {_cell(row.rules)} | "
                f"{_cell(row.description)} |"
            )
        if entity.name in EXTRA_ENTITIES:
            lines += ["", t("dictionary.accepts_extras")]
        lines.append("")
    lines.append(_extra_columns_help(t))
    return "\n".join(lines)


def _extra_columns_help(t: Translator) -> str:
    """How an agency declares its own columns beyond the contract (schemas/extras.py)."""
    entities = format_list([f"`{e}`" for e in EXTRA_ENTITIES], locale=t.locale)
    # in the warehouse: money alone is converted, every other kind is stored as sent
    stored = {kind: t("dictionary.extra.as_sent") for kind in EXTRA_KINDS}
    stored["money"] = t("dictionary.extra.money_usd", example=money_name("sales_abroad"))
    header = ("kind", "values", "warehouse")
    rows = [
        f"| `{kind}` | {t(f'dictionary.extra.values.{kind}')} | {stored[kind]} |"
        for kind in EXTRA_KINDS
    ]
    return "\n".join(
        [
            f"## {t('dictionary.extra.heading')}",
            "",
            t("dictionary.extra.intro", entities=entities),
            "",
            EXTRA_COLUMNS_YAML,
            "",
            "| " + " | ".join(t(f"dictionary.extra.header.{h}") for h in header) + " |",
            "|---|---|---|",
            *rows,
            "",
            t("dictionary.extra.rules"),
            "",
        ]
    )
