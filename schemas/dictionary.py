"""Blank input templates and the data dictionary, generated from the contract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.cells import safe_frame, write_csv
from schemas.contract import ENTITIES
from schemas.extras import EXTRA_ENTITIES, money_name

# How an agency declares its own columns beyond the contract (schemas/extras.py).
EXTRA_COLUMNS_HELP = """## Extra columns (declared by the agency)

Besides the columns above, the files of {entities} may carry the agency's own columns
(new products launched, ISO certification, female ownership, a cluster...) for the
evaluation to use as outcomes, covariates, matching cells or subgroups. Declare each one,
with its kind, on the source in the run configuration (or in the source's mapping file,
under the same key; a mapping's `columns` may map an agency header onto it):

```yaml
sources:
  firms: {{path: data/firms.csv, extra_columns: {{female_owned: number, cluster: text}}}}
  outcomes: {{path: data/outcomes.csv, extra_columns: {{new_products: integer, sales_abroad: money}}}}
```

| kind | values | in the warehouse |
|---|---|---|
| `number` | a number, may be empty | as sent |
| `integer` | a whole number, may be empty | as sent |
| `money` | local currency, current prices, may be empty (outcomes only) | converted to constant US dollars as `<name>_usd` (e.g. `{example}`) |
| `text` | any text, may be empty | as sent |

A declared column is validated like a contract column: a value that does not parse is
quarantined with its reason. Names are lower snake case, start with a letter, and may not
be a contract column or a column the warehouse derives (`sales_usd`, `log_sales`,
`isic_division`, `sector`...). A column's kind may not change between submissions; a file
without a declared column loads it empty. Columns that are not declared are ignored.
"""


def _type_name(dtype: object) -> str:
    text = str(dtype).lower()
    for token, name in (("datetime", "date (yyyy-mm-dd)"), ("int", "integer"), ("float", "number")):
        if token in text:
            return name
    return "text"


def _rules(checks: list) -> str:
    rules = []
    for check in checks:
        stats = check.statistics or {}
        if check.name == "isin":
            rules.append("one of: " + ", ".join(map(str, stats.get("allowed_values", []))))
        elif check.name == "str_matches":
            rules.append(f"matches {stats.get('pattern')}")
        elif check.name == "greater_than_or_equal_to":
            rules.append(f">= {stats.get('min_value')}")
        elif check.name == "greater_than":
            rules.append(f"> {stats.get('min_value')}")
        elif check.name == "less_than_or_equal_to":
            rules.append(f"<= {stats.get('max_value')}")
        elif check.name == "in_range":
            rules.append(f"{stats.get('min_value')} to {stats.get('max_value')}")
        elif check.name == "str_length":
            rules.append("not empty")
        else:
            rules.append(check.name)
    return "; ".join(rules)


def data_dictionary() -> pd.DataFrame:
    """One row per entity and column: type, whether required, allowed values, meaning."""
    rows = []
    for entity in ENTITIES.values():
        schema = entity.schema
        for name, column in schema.columns.items():
            rows.append(
                {
                    "entity": entity.name,
                    "entity_required": entity.required,
                    "column": name,
                    "type": _type_name(column.dtype),
                    "column_required": column.required,
                    "may_be_empty": column.nullable,
                    "rules": _rules(column.checks),
                    "in_key": name in entity.key,
                    "description": column.description or "",
                }
            )
    return pd.DataFrame(rows)


def write_templates(out_dir: Path) -> list[Path]:
    """Write a blank CSV per entity plus the data dictionary (CSV and Markdown)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dictionary = data_dictionary()
    written = []
    for entity in ENTITIES.values():
        path = out_dir / f"{entity.name}.csv"
        # a header row only (the contract's snake_case names), written bare as agency files
        # are; nothing in it can start a formula, safe_frame makes sure of it
        safe_frame(pd.DataFrame(columns=list(entity.schema.columns))).to_csv(path, index=False)
        written.append(path)
    # users open the dictionary in a spreadsheet: written as the report's exports are, text
    # that could run as a formula neutralized and quoted (reports.cells)
    csv_path = write_csv(dictionary, out_dir / "data_dictionary.csv")
    md_path = out_dir / "data_dictionary.md"
    md_path.write_text(_markdown(dictionary), encoding="utf-8")
    return [*written, csv_path, md_path]


def _markdown(dictionary: pd.DataFrame) -> str:
    lines = ["# Data dictionary: data contract v1", ""]
    for entity in ENTITIES.values():
        need = "required" if entity.required else "optional"
        lines += [
            f"## `{entity.name}` ({need})",
            "",
            entity.description,
            "",
            f"Key: {', '.join(entity.key)}.",
            "",
        ]
        if entity.references:
            refs = ", ".join(
                f"`{col}` must exist in `{target}`" for col, target in entity.references
            )
            lines += [f"References: {refs}.", ""]
        lines += [
            "| column | type | required | may be empty | rules | description |",
            "|---|---|---|---|---|---|",
        ]
        for row in dictionary[dictionary["entity"] == entity.name].itertuples():
            lines.append(
                f"| `{row.column}` | {row.type} | {'yes' if row.column_required else 'no'} | "
                f"{'yes' if row.may_be_empty else 'no'} | {row.rules} | {row.description} |"
            )
        if entity.name in EXTRA_ENTITIES:
            lines += ["", "Accepts agency-declared extra columns (see the end of this page)."]
        lines.append("")
    entities = " and ".join(f"`{e}`" for e in EXTRA_ENTITIES)
    lines.append(EXTRA_COLUMNS_HELP.format(entities=entities, example=money_name("sales_abroad")))
    return "\n".join(lines)
