"""Outcomes of the evaluation: which panel column, transformed how, shown in which unit.

An outcome is a column of the firm-year panel (a numeric column of the contract's
outcomes entity, in constant US dollars for money, or a column the agency declared),
optionally divided by another (`per`: per worker, per dollar of sales), then transformed:

* ``log``: ln(x). Effects are read as percent changes (100 x (e^ATT - 1)). Zeros and
  negatives have no logarithm: with ``zeros: missing`` (the default) those firm-years are
  left out of the comparisons that need them; with ``zeros: log1p`` the outcome is
  ln(1 + x), which keeps zeros (x >= 0) and leaves negatives out. Use log1p for outcomes
  that are often zero (exports, R&D); its effects are then only approximately percent.
* ``level``: x as it is (jobs, constant US dollars, counts). Negatives are kept (value
  added may be negative).
* ``share``: x / per (e.g. R&D spending / sales), shown in percentage points; missing
  where the denominator is zero, negative or missing.
* ``indicator``: 1 when x > 0, 0 when x <= 0 (zero or negative), missing when x is
  missing (e.g. exporter = exports > 0), shown in percentage points.

The seven built-in outcomes are defined the same way (`BUILTIN`) and reproduce the
columns of `marts.mart_evaluation_panel` exactly (tests/test_outcomes.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

TRANSFORMS = ("log", "level", "share", "indicator")
ZERO_RULES = ("missing", "log1p")
# numeric columns of the contract's outcomes entity -> their column in the evaluation panel
CONTRACT_COLUMNS: dict[str, str] = {
    "employment": "employment",
    "sales": "sales_usd",
    "wage_bill": "wage_bill_usd",
    "exports": "exports_usd",
    "value_added": "value_added_usd",
    "rd_spend": "rd_spend_usd",
    "training_spend": "training_spend_usd",
    "capital": "capital_usd",
}
MONEY_COLUMNS = frozenset(c for c in CONTRACT_COLUMNS if c != "employment")


@dataclass(frozen=True)
class OutcomeDefinition:
    """One outcome: ``name`` is what results are stored under; ``column`` and ``per`` are
    contract (or declared extra) column names; ``unit`` is how effects are displayed:
    pct (log outcomes), pp (shares, indicators), jobs, usd or level."""

    name: str
    column: str
    transform: str = "level"
    per: str | None = None
    zeros: str = "missing"
    label: str = ""
    money: bool = False  # the column is money (so a level is in constant USD)

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}")
        if self.zeros not in ZERO_RULES:
            raise ValueError(f"zeros must be one of {', '.join(ZERO_RULES)}")
        if self.transform == "share" and self.per is None:
            raise ValueError(f"outcome {self.name!r}: a share needs `per` (its denominator)")

    @property
    def unit(self) -> str:
        if self.transform == "log":
            return "pct"
        if self.transform in ("share", "indicator"):
            return "pp"
        if self.per is not None:
            return "level"
        if self.column == "employment":
            return "jobs"
        return "usd" if self.money else "level"

    @property
    def columns(self) -> tuple[str, ...]:
        """The contract (or extra) columns the outcome is computed from."""
        return (self.column,) if self.per is None else (self.column, self.per)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "unit": self.unit}


BUILTIN: dict[str, OutcomeDefinition] = {
    d.name: d
    for d in (
        OutcomeDefinition("log_sales", "sales", "log", label="sales (log points)", money=True),
        OutcomeDefinition("log_employment", "employment", "log", label="employment (log points)"),
        OutcomeDefinition(
            "log_wage_per_worker",
            "wage_bill",
            "log",
            per="employment",
            label="wage per worker (log points)",
            money=True,
        ),
        OutcomeDefinition(
            "log_va_per_worker",
            "value_added",
            "log",
            per="employment",
            label="value added per worker (log points)",
            money=True,
        ),
        OutcomeDefinition(
            "exporter", "exports", "indicator", label="export propensity (share of firms exporting)"
        ),
        OutcomeDefinition(
            "rd_intensity", "rd_spend", "share", per="sales", label="R&D intensity (R&D / sales)"
        ),
        OutcomeDefinition("employment", "employment", "level", label="jobs (employees, levels)"),
    )
}


def panel_column(column: str, extra_money: Iterable[str] = ()) -> str:
    """The evaluation panel's column for a contract or extra column name (money columns
    are in constant US dollars, under ``<name>_usd``)."""
    if column in CONTRACT_COLUMNS:
        return CONTRACT_COLUMNS[column]
    return f"{column}_usd" if column in set(extra_money) else column


def outcome_values(
    panel: pd.DataFrame, definition: OutcomeDefinition, extra_money: Iterable[str] = ()
) -> pd.Series:
    """The outcome's value per panel row (NaN where it is undefined; see the module
    docstring for the rule on zeros and negatives). A column absent from the panel gives
    an all-missing outcome (the estimation then says the outcome was not submitted)."""
    money = tuple(extra_money)

    def numeric(column: str) -> np.ndarray:
        name = panel_column(column, money)
        if name not in panel:
            return np.full(len(panel), np.nan)
        return pd.to_numeric(panel[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    x = numeric(definition.column)
    with np.errstate(divide="ignore", invalid="ignore"):
        if definition.per is not None:
            denominator = numeric(definition.per)
            x = np.where(denominator > 0, x / np.where(denominator > 0, denominator, 1.0), np.nan)
        if definition.transform == "log":
            if definition.zeros == "log1p":
                y = np.where(x >= 0, np.log1p(np.where(x >= 0, x, 0.0)), np.nan)
            else:
                y = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
        elif definition.transform == "indicator":
            y = np.where(np.isnan(x), np.nan, (x > 0).astype(float))
        else:  # level, share
            y = x
    return pd.Series(y, index=panel.index, name=definition.name, dtype=float)


def with_outcomes(
    panel: pd.DataFrame, definitions: Iterable[OutcomeDefinition], extra_money: Iterable[str] = ()
) -> pd.DataFrame:
    """The panel with one column per outcome, named after it. A built-in outcome the
    panel already carries (the mart computes them with the same rules) is kept as it is."""
    money = tuple(extra_money)
    columns = {
        d.name: outcome_values(panel, d, money)
        for d in definitions
        if not (BUILTIN.get(d.name) == d and d.name in panel)
    }
    return panel.drop(columns=[c for c in columns if c in panel]).assign(**columns)
