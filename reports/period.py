"""Publication periods: "2024" is the annual impact edition, "2024Q3" the quarterly
monitoring edition (reach, spending and data quality up to the end of that quarter)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_PATTERN = re.compile(r"^(\d{4})(?:Q([1-4]))?$")


@dataclass(frozen=True)
class Period:
    """A year, or a quarter of a year."""

    year: int
    quarter: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read "2024" or "2024Q3" (case-insensitive); anything else is a ValueError."""
        match = _PATTERN.match(text.strip().upper())
        if not match:
            raise ValueError(f"period {text!r}: expected a year (2024) or a quarter (2024Q3)")
        return cls(int(match[1]), int(match[2]) if match[2] else None)

    @classmethod
    def last_quarter_before(cls, today: date) -> Period:
        """The last quarter that ended before `today`: what a quarterly edition reports."""
        quarter = (today.month - 1) // 3 + 1
        return cls(today.year - 1, 4) if quarter == 1 else cls(today.year, quarter - 1)

    @property
    def label(self) -> str:
        """The period as written: "2024" or "2024Q3"."""
        return f"{self.year}Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def annual(self) -> bool:
        """Annual editions carry impact estimates; quarterly ones monitoring only."""
        return self.quarter is None

    @property
    def kind(self) -> str:
        """annual or quarterly."""
        return "annual" if self.annual else "quarterly"

    @property
    def start(self) -> date:
        """First day of the period."""
        return date(self.year, 3 * (self.quarter or 1) - 2, 1)

    @property
    def end(self) -> date:
        """Last day of the period: participations starting later are not counted."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    def __str__(self) -> str:
        return self.label
