"""Return figures on their scale, in the edition's words: which scale each counterfactual
return or cost-per-job figure is on and why (`evaluation.roi.SCALE_CHOICES`), its
pre-entry test on that scale (passes / fails, with its p-value, or not run: why), and
whether each international benchmark is a gross self-report or a modelled figure.

Pages print these beside the numbers; the exports carry the codes (`scale`,
`scale_choice`, `pretrend_*`) and, beside them, the words (`scale_text`,
`scale_choice_text`, `pretrend_text`).
"""

from __future__ import annotations

import pandas as pd

from evaluation.roi import SCALE_CHOICES
from reports.i18n import Translator
from reports.reasons import missing, row_text

# the choice that publishes a figure whose assumption no pre-entry test supports: the
# pages say so beside the number, not only in a note
# choices shown with a warning beside the number
WARNINGS = ("neither_passes", "log_fails_narrowly")
GROSS, MODELLED = "gross", "modelled"
P_FLOOR = 0.001  # smaller p-values read "< 0.001"


def scale_text(scale: object, t: Translator) -> str:
    """ "log scale" / "level scale"; empty for a figure without a scale (self-reported)."""
    if missing(scale) or not str(scale):
        return ""
    key = f"scale.{scale}"
    return t(key) if t.has(key) else str(scale)


def choice_text(code: object, t: Translator) -> str:
    """Why the figure is on its scale, in the edition's language (evaluation.roi's English
    for a code with no translation yet); empty when there was no choice."""
    if missing(code) or not str(code):
        return ""
    key = f"scale_choice.{code}"
    if t.has(key):
        return t(key)
    return SCALE_CHOICES.get(str(code), str(code))


def is_warning(code: object) -> bool:
    """Whether the figure is published with a warning (its pre-entry test does not pass)."""
    return not missing(code) and str(code) in WARNINGS


def _p(value: float, t: Translator) -> str:
    if value < P_FLOOR:
        return "< " + t.num(P_FLOOR, 3)
    return "= " + t.num(value, 3)


def pretrend_text(row: pd.Series, t: Translator, prefix: str = "pretrend_") -> str:
    """A figure's pre-entry test on its scale: "passes (p = 0.412)", "fails (p < 0.001)",
    or "not run: <reason>"; empty when the row has none (a self-reported figure)."""
    passes = row.get(f"{prefix}passes")
    if not missing(passes):
        verdict = "passes" if bool(passes) else "fails"
        p = pd.to_numeric(pd.Series([row.get(f"{prefix}pvalue")]), errors="coerce").iloc[0]
        if missing(p) or pd.isna(p):  # withheld with a suppressed estimate
            return t(f"pretrend.{verdict}_no_p")
        return t(f"pretrend.{verdict}", p=_p(float(p), t))
    return row_text(row, t, prefix) or ""


def benchmark_kind(basis: object) -> str:
    """How a benchmark was obtained, from its source's own description
    (`reference.benchmarks.basis`): 'gross' for clients' self-reports with no comparison
    group (the MEP's survey), 'modelled' for a figure its source estimated (surveys with
    trend and indicator analysis, regressions, cost-benefit models, a program review)."""
    text = "" if missing(basis) else str(basis).lower().replace("-", " ")
    return GROSS if "self report" in text else MODELLED


def kind_text(basis: object, t: Translator) -> str:
    """A benchmark's kind in words: "gross: client self-reports" / "modelled"."""
    return t(f"bench_kind.{benchmark_kind(basis)}")


def _insert_after(out: pd.DataFrame, after: list[str], column: str, values: list[object]) -> None:
    """Insert `column` after the first of `after` the frame has (else at the end)."""
    found = next((c for c in after if c in out), None)
    position = out.columns.get_loc(found) + 1 if found is not None else len(out.columns)
    out.insert(int(position), column, pd.Series(values, index=out.index, dtype=object))


def with_scale_texts(frame: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """A return table (one with `scale_choice`) with the scale, the reason for it and the
    pre-entry verdict in words beside their codes (what the exports carry); internal
    editions' other-scale columns get theirs too. Other tables are returned as they are."""
    if "scale_choice" not in frame:
        return frame
    out = frame.copy()
    rows = [row for _, row in frame.iterrows()]

    def words(text: str) -> object:
        return text or None  # an empty cell, not an empty string

    for prefix in ("", "other_") if "other_scale" in frame else ("",):
        scale = [words(scale_text(r.get(f"{prefix}scale"), t)) for r in rows]
        _insert_after(out, [f"{prefix}scale"], f"{prefix}scale_text", scale)
        verdict = [words(pretrend_text(r, t, f"{prefix}pretrend_")) for r in rows]
        after = [f"{prefix}pretrend_{c}" for c in ("reason_text", "reason_params", "passes")]
        _insert_after(out, after, f"{prefix}pretrend_text", verdict)
    choice = [words(choice_text(r.get("scale_choice"), t)) for r in rows]
    _insert_after(out, ["scale_choice"], "scale_choice_text", choice)
    return out
