"""Text cells are stripped by the bulk path exactly as by the pandas path, whatever the
whitespace at their edges (the bulk path skips its regular expression for cells whose
first and last characters cannot be whitespace)."""

from __future__ import annotations

import csv
from pathlib import Path

from warehouse import bulk
from warehouse.bulk import bulk_load_csv
from warehouse.db import open_warehouse
from warehouse.load import load_file

from .test_warehouse import KEY


def test_every_whitespace_character_at_either_edge_is_stripped_as_python_does(
    tmp_path: Path,
) -> None:
    cells = ["Biobío", "", "x", "é", "\u0301", "Maule\u0301", "\u200bMaule", "Los Ríos", "!", "~"]
    # a line break inside a cell sets its line aside (schemas.structure, tests/test_structure.py)
    for ws in (w for w in bulk._WS if w not in "\r\n"):
        cells += [f"{ws}Maule", f"Maule{ws}", f"{ws}Maule{ws}", ws, f"{ws}{ws}", f"{ws}é"]
    rows = [[f"F{i}", "CHL", cell, "1071", 1990] for i, cell in enumerate(cells)]
    rows.append(["\u3000F1\t", "CHL", "Maule", "1071", 1990])  # the key column too: duplicate
    path = tmp_path / "firms.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        header = ["firm_id", "country", "region", "isic4", "founded_year"]
        csv.writer(handle).writerows([header, *rows])
    found = {}
    for name, loader in [("pandas", load_file), ("bulk", bulk_load_csv)]:
        with open_warehouse(tmp_path / f"{name}.duckdb") as con:
            loader(con, path, "firms", key=KEY)
            found[name] = (
                con.execute(
                    "select _row_number, firm_id, region from raw.firms order by 1"
                ).fetchall(),
                con.execute(
                    "select row_number, column_name, rule, value from meta.quarantine order by all"
                ).fetchall(),
            )
    assert found["bulk"] == found["pandas"]
    regions = {r[0]: r[2] for r in found["pandas"][0]}
    assert len(regions) == len(cells) - 1  # F1 and the padded F1 are quarantined
    assert regions[2 + 10 + 6 * 2 + 2] == "Maule"  # the third whitespace character, both edges
