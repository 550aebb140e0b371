"""Read the files an agency sends into text frames, one row per input line.

Everything is read as text: types are the contract's business, so that a value that does
not parse becomes a quarantined row with its reason instead of a failed read. Each frame
carries `_row_number`, the row as a spreadsheet shows it (the header is row 1).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas.validate import ROW, ContractError

READERS = {".csv": "csv", ".txt": "csv", ".xlsx": "excel", ".xls": "excel", ".parquet": "parquet"}


def read_source(path: Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read an agency file (CSV, XLSX or Parquet) as text, with `_row_number`."""
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise ContractError(
            f"{path.name}: unsupported file type '{path.suffix}' (use CSV, XLSX or Parquet)"
        )
    if not path.exists():
        raise ContractError(f"{path}: file not found")
    try:
        if kind == "csv":
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
            )
        elif kind == "excel":
            frame = pd.read_excel(
                path, sheet_name=sheet or 0, dtype=str, keep_default_na=False, na_values=[""]
            )
        else:
            frame = pd.read_parquet(path).astype("string").astype(object)
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        raise ContractError(
            f"{path.name}: cannot read the file: {str(exc).splitlines()[0]}"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), None)
    frame[ROW] = range(2, len(frame) + 2)
    return frame
