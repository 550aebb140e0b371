"""What `mes-eval quarantine` prints: the first records of the listing and the rows by
entity and rule (`reports.quarantine` builds the listing)."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reports.quarantine import SUPERSEDED, Listing, printable, summary

DECISION_HEADERS = {
    "source_file": "file",
    "row_number": "row",
    "action": "action",
    "column_name": "column",
    "old_value": "from",
    "new_value": "to",
    "decided_by": "by",
    "decided_on": "on",
    "reason": "why",
    "status": "status",
    "detail": "detail",
}


def print_decisions(console: Console, log: pd.DataFrame, where: str) -> None:
    """The changelog of the decisions standing now, unmatched ones highlighted."""
    if log.empty:
        console.print(f"No decisions on rows in {where} (no corrections file applied).")
        return
    unmatched = int((log["status"] == "unmatched").sum())
    console.print(
        Text(f"Decisions on rows in {where}: {len(log):,} ({unmatched:,} unmatched)"),
        soft_wrap=True,
    )
    table = Table()
    for header in DECISION_HEADERS.values():
        table.add_column(header, overflow="fold", no_wrap=header in ("row", "action", "on"))
    for row in log.itertuples(index=False):
        style = "yellow" if row.status == "unmatched" else ""
        cells = [getattr(row, c) for c in DECISION_HEADERS]
        cells = [
            "" if pd.isna(c) else str(c)[:10] if isinstance(c, pd.Timestamp) else c for c in cells
        ]
        table.add_row(*(Text(printable(c), style=style) for c in cells))
    console.print(table)


def print_listing(console: Console, listing: Listing, limit: int, where: str) -> None:
    """The first `limit` records (newest load first), then the summary, then what the
    default listing left out. Every cell is a `Text`: an agency's value is never markup."""
    records = listing.records
    scope = "every load" if listing.all_loads else "current loads"
    if records.empty:
        console.print(f"No quarantined rows ({scope}) in {where}.", soft_wrap=True)
    else:
        shown = records.head(limit)
        # a line of its own, not the table's title: a long path would wrap in the title
        console.print(
            Text(
                f"Quarantine of {where} ({scope}): first {len(shown):,} of {len(records):,} records"
            ),
            soft_wrap=True,
        )
        table = Table()
        headers = ["entity", "file", "load", "loaded at (UTC)", "row", "column", "rule", "value"]
        headers += ["reason"] + (["superseded by"] if listing.all_loads else [])
        for header in headers:
            table.add_column(
                header,
                justify="right" if header in ("load", "row") else "left",
                # short codes and numbers stay whole; the value and the reason wrap
                no_wrap=header not in ("file", "column", "value", "reason"),
                overflow="fold",  # a narrow column shows all of a file name, not "parti…"
            )
        for r in shown.itertuples(index=False):
            cells = [
                r.entity,
                r.source_file,
                r.load_sequence,
                f"{r.loaded_at:%Y-%m-%d %H:%M}",
                r.row_number,
                r.column,
                r.rule,
                r.value,
                r.reason,
            ]
            if listing.all_loads:
                later = getattr(r, SUPERSEDED)
                cells.append("" if pd.isna(later) else f"load {later}")
            table.add_row(*(Text(printable(c)) for c in cells))
        console.print(table)
        counts = Table(title="Rows by entity and rule", title_justify="left")
        for header in ("entity", "rule", "rows"):
            counts.add_column(header, justify="right" if header == "rows" else "left")
        for s in summary(records).itertuples(index=False):
            style = "bold" if s.is_total else ""
            counts.add_row(
                Text(s.entity, style=style), Text(s.rule, style=style), Text(f"{s.rows:,}", style)
            )
        console.print(counts)
    if listing.hidden_records:
        console.print(
            f"{listing.hidden_records:,} records of {listing.hidden_loads:,} superseded loads "
            "(the same file or content loaded again later) not shown; --all-loads shows them.",
            soft_wrap=True,
        )
