"""Publication periods: "2024" is the annual impact edition, "2024Q3" the quarterly
monitoring edition (reach, spending and data quality up to the end of that quarter)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# "2024", "2024Q3", "2024-Q3", "2024 q3", "2024/Q3", "2024_Q3", "Q3 2024", "Q3-2024"
_YEAR_FIRST = re.compile(r"(\d{4})(?:[-_/ ]?Q([1-4]))?")
_QUARTER_FIRST = re.compile(r"Q([1-4])[-_/ ]?(\d{4})")
ALLOWED = "a year (2024) or a quarter (2024Q3; also written 2024-Q3, 2024 Q3 or Q3 2024)"
ALLOW_FLAG = "--allow-period-outside-data"


class PeriodError(ValueError):
    """A period that is not written as one, or that lies outside the data; one line."""


@dataclass(frozen=True)
class Period:
    """A year, or a quarter of a year."""

    year: int
    quarter: int | None = None

    @classmethod
    def parse(cls, text: str | int) -> Period:
        """Read "2024" or "2024Q3" (case-insensitive; "2024-Q3", "2024 Q3" and "Q3 2024"
        too); anything else is a PeriodError (a ValueError) saying what is allowed."""
        body = re.sub(r"\s+", " ", str(text).strip().upper())
        if match := _YEAR_FIRST.fullmatch(body):
            return cls(int(match[1]), int(match[2]) if match[2] else None)
        if match := _QUARTER_FIRST.fullmatch(body):
            return cls(int(match[2]), int(match[1]))
        raise PeriodError(f"period {str(text)!r}: expected {ALLOWED}")

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


def check_in_data(period: Period, years: tuple[int, int] | None) -> None:
    """Refuse a period whose year lies outside `years` (first, last year of the data).

    An edition for a year without data would show zeros as if they were measured; the
    caller skips this check when the user asked for such a period explicitly."""
    if years is None:
        raise PeriodError(
            f"period {period.label}: the warehouse holds no outcome years or participation "
            "start dates yet, so there is nothing to report"
        )
    first, last = years
    if not first <= period.year <= last:
        raise PeriodError(
            f"period {period.label} is outside the data ({first}-{last}: the years of the "
            f"outcomes and of participation start dates); choose a period in that range, or "
            f"pass {ALLOW_FLAG} (allow_period_outside_data: true in the config)"
        )
