"""Why a figure has no number: the status and reason of an estimate, in the edition's words.

A run stores every unit of estimation, estimated or not (`evaluation.reasons`): a unit
that could not be estimated has a null estimate, a status and a reason code with its
parameters (JSON). Published tables carry them in column triples `<prefix>status`,
`<prefix>reason`, `<prefix>reason_params` (prefix "" for the row's own estimate,
"pretrend_" for its pre-entry test, "log_sales_" for a portfolio column...). Pages print
`cell_text` where the number would be; the exports add `<prefix>reason_text`.

Counts of firms in the parameters are protected before they get here
(`reports.disclosure.protect_reasons`): a protected count is `{"fewer_than": k}`.
"""

from __future__ import annotations

import json
import string
from typing import Any

import pandas as pd

from evaluation.reasons import ESTIMATED, REASONS
from reports.i18n import Translator

DROPPED = "dropped"  # a matching covariate dropped before the propensity score
# parameters whose values are data codes with labels (domain of Translator.code)
PARAM_DOMAINS = {
    "column": "outcome",
    "outcome": "outcome",
    "covariates": "covariate",
    "control_group": "reason_control_group",
}


def missing(value: object) -> bool:
    """Whether a cell is empty (None, NA or NaN)."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def params_of(value: object) -> dict[str, Any]:
    """A reason's parameters from a cell: JSON text, a dict, or nothing."""
    if isinstance(value, dict):
        return value
    if missing(value) or not str(value).strip():
        return {}
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def status_of(status: object, estimate: object = 0.0) -> str:
    """The effective status of a row: a null status is 'estimated' (warehouses from
    before statuses were stored), and an 'estimated' row without an estimate is
    'not_estimated' (with no reason: those warehouses stored none)."""
    value = ESTIMATED if missing(status) else str(status)
    if value == ESTIMATED and missing(estimate):
        return "not_estimated"
    return value


def is_estimated(status: object) -> bool:
    """Whether a row's status says it has a number."""
    return missing(status) or str(status) == ESTIMATED


def _number(value: float, t: Translator) -> str:
    return t.num(value, 0 if float(value).is_integer() else 2)


def _param(name: str, value: object, t: Translator) -> str:
    """One parameter as the text shows it: numbers in the edition's locale, data codes
    in words, a protected count as "fewer than k"."""
    if isinstance(value, dict) and "fewer_than" in value:
        return t("reason.fewer_than", k=t.num(value["fewer_than"]))
    if isinstance(value, bool):
        return t("value.yes" if value else "value.no")
    if isinstance(value, int | float):
        return _number(value, t)
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            return t("reason.range", low=_number(value[0], t), high=_number(value[1], t))
        return ", ".join(_param(name, v, t) for v in value)
    text = "" if value is None else str(value)
    domain = PARAM_DOMAINS.get(name)
    if domain is None or not text:
        return text
    if domain == "covariate" and "," in text:
        return ", ".join(t.code(domain, part.strip()) for part in text.split(","))
    return t.code(domain, text)


class _Blank(dict[str, str]):
    """A placeholder without a value is left empty rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


def template(code: str, t: Translator) -> str | None:
    """The text of a reason code in the edition's language (English when it has no
    translation yet); None for a code the catalogue does not know."""
    key = f"reason.{code}"
    if t.has(key):
        return t(key)
    kind = REASONS.get(code)
    return kind.text if kind else None


def reason_text(code: object, params: object, t: Translator) -> str:
    """A reason in the edition's language with its parameters filled in."""
    if missing(code) or not str(code):
        return ""
    text = template(str(code), t)
    if text is None:  # a code from a newer catalogue: say which
        return t("reason.unknown", code=str(code))
    values = {k: _param(k, v, t) for k, v in params_of(params).items()}
    return text.format_map(_Blank(values))


def status_word(status: object, code: object, t: Translator) -> str:
    """The status in words; a known reason code decides it (a pre-entry test's reasons
    are 'not run')."""
    kind = REASONS.get(str(code)) if not missing(code) else None
    value = kind.status if kind else ("not_estimated" if missing(status) else str(status))
    key = f"status.{value}"
    return t(key) if t.has(key) else value.replace("_", " ")


def cell_text(status: object, code: object, params: object, t: Translator) -> str:
    """What a page prints where the number would be: "not estimated: <reason>"."""
    if not missing(status) and str(status) == DROPPED:
        why = "" if missing(code) else t.code("dropped", str(code))
        return t("balance.dropped", why=why)
    word = status_word(status, code, t)
    text = reason_text(code, params, t)
    return f"{word}: {text}" if text else word


def row_text(row: pd.Series, t: Translator, prefix: str = "") -> str | None:
    """The status text of a table row (columns `<prefix>status`, `<prefix>reason`,
    `<prefix>reason_params`), or None when the row has its number."""
    status = row.get(f"{prefix}status")
    code = row.get(f"{prefix}reason")
    if is_estimated(status) and missing(code):
        return None
    return cell_text(status, code, row.get(f"{prefix}reason_params"), t)


def prefixes(columns: list[str]) -> list[str]:
    """The reason column groups of a table: "" for `reason`, "pretrend_" for
    `pretrend_reason`..."""
    return [c.removesuffix("reason") for c in columns if c.endswith("reason")]


def with_reason_texts(frame: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The table with `<prefix>reason_text` (in the edition's language) after each group of
    reason columns: what the exports carry beside the language-neutral code."""
    out = frame.copy()
    blank: list[object] = [None] * len(frame)

    def column(name: str) -> list[object]:
        return frame[name].tolist() if name in frame else blank

    for prefix in prefixes(list(frame.columns)):
        # column by column rather than row by row: a pandas row costs more than its text
        texts = [
            None if is_estimated(status) and missing(code) else cell_text(status, code, params, t)
            for status, code, params in zip(
                column(f"{prefix}status"),
                column(f"{prefix}reason"),
                column(f"{prefix}reason_params"),
                strict=True,
            )
        ]
        after = f"{prefix}reason_params" if f"{prefix}reason_params" in out else f"{prefix}reason"
        out.insert(
            out.columns.get_loc(after) + 1,
            f"{prefix}reason_text",
            pd.Series(texts, index=frame.index, dtype=object),
        )
    return out


def catalogue(t: Translator) -> list[dict[str, str]]:
    """Every reason code with its status and text, placeholders shown as ‹name› (the
    methodology page's list)."""
    rows = []
    for code, kind in REASONS.items():
        text = template(code, t) or kind.text
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        shown = {
            n: "‹" + (t(f"placeholder.{n}") if t.has(f"placeholder.{n}") else n) + "›"
            for n in names
        }
        rows.append(
            {
                "code": code,
                "status": status_word(kind.status, code, t),
                "text": text.format_map(_Blank(shown)),
            }
        )
    return rows


def statuses(t: Translator) -> list[tuple[str, str]]:
    """Each status a reason can have, with what it means."""
    kinds = dict.fromkeys(kind.status for kind in REASONS.values())
    return [(t(f"status.{s}"), t(f"status_help.{s}")) for s in kinds]
