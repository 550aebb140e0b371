"""A seeded corpus of malformed agency files, and what a load of each must give.

Each variant is one of the demo's CSV files (firms, outcomes, comparison sample,
participations, from a small synthetic portfolio) with one to three mutations of the kinds
agencies' files and careless or hostile users produce: stray and unclosed quotes, missing
and extra delimiters, truncation, NUL and random bytes, mixed line breaks, byte-order
marks and other encodings, oversized cells, formula payloads, non-finite and
out-of-range numbers, dates with time zones or out of range, broken headers, duplicated
rows, thousands of columns, control characters.

`check_variant` loads a variant into a copy of a warehouse holding the rest of the
portfolio, with the pandas path and the DuckDB bulk path, and lists what went wrong:
- a traceback: any error but a one-line `ContractError` (or `BulkUnsupported`, on which
  the pipeline falls back to pandas);
- a slow load (`SLOW_SECONDS`): a hang, or close to one;
- rows unaccounted: rows in must equal the file's physical records, counted here
  independently of the readers (every non-blank line after the header is a row: with
  `schemas.structure` a record never spans lines), and loaded + quarantined must
  reconcile;
- the two engines disagreeing on the counts;
- a raw firm identifier of the file anywhere in the warehouse, or in an error message;
- an infinity loaded into a number column (`inf`, `1e309`, a 400-digit number).

    .venv/bin/python -m tests.fuzz --variants 500   # the full corpus (benchmarks/README.md)
"""

from __future__ import annotations

import argparse
import codecs
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

SEED = 20261203
SLOW_SECONDS = 60.0  # a load of these few hundred rows takes well under a second
ENTITIES = ("firms", "outcomes", "comparison_sample", "participations")
LOAD_ORDER = ("macro", "programs", "firms", "program_budgets", "participations")
LINE = re.compile(r"\r\n|\r|\n")


# --- the base portfolio -------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """The clean files, the warehouse every variant is loaded on, and the raw ids."""

    files: dict[str, Path]
    warehouse: Path
    raw_ids: frozenset[str]


def build_base(folder: Path, n_firms: int = 60) -> Base:
    """A small synthetic portfolio as agency files, and a warehouse with its registry
    entities loaded (what outcomes, participations and comparison rows refer to)."""
    from evaluation.synthetic import generate_demo
    from flows.demo_files import write_demo_files
    from warehouse.db import open_warehouse
    from warehouse.load import load_file

    from .test_warehouse import KEY

    data = generate_demo(n_firms=500, seed=7)  # the generator's least
    # a few firms are enough, and keep each load well under a second
    keep = set(data.tables["firms"]["firm_id"].dropna().astype(str).iloc[:n_firms])
    for entity in (
        "firms",
        "outcomes",
        "comparison_sample",
        "participations",
        "client_survey",
        "targets",
    ):
        table = data.tables[entity]
        data.tables[entity] = table[table["firm_id"].astype(str).isin(keep)]
    paths = write_demo_files(data, folder / "data")
    csv = folder / "data" / "participations.csv"
    data.tables["participations"].to_csv(csv, index=False, date_format="%Y-%m-%d")
    paths["participations"] = csv
    warehouse = folder / "base.duckdb"
    with open_warehouse(warehouse) as con:
        for entity in LOAD_ORDER:
            load_file(con, paths[entity], entity, key=KEY, engine="pandas")
    raw_ids = frozenset(keep)
    return Base({e: paths[e] for e in ENTITIES}, warehouse, raw_ids)


# --- mutations ------------------------------------------------------------------------------
# Each takes the file's text (header first) and a generator and returns the new text, or
# bytes when the mutation is about bytes.

Mutation = Callable[[str, np.random.Generator], "str | bytes"]
MUTATIONS: dict[str, Mutation] = {}


def mutation(function: Mutation) -> Mutation:
    MUTATIONS[function.__name__] = function
    return function


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _pick(lines: list[str], rng: np.random.Generator) -> int:
    """A data line (not the header, not empty)."""
    data = [i for i, line in enumerate(lines) if i > 0 and line]
    return int(rng.choice(data)) if data else 0


def _cells(line: str) -> list[str]:
    return line.split(",")


@mutation
def stray_quote(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    i = _pick(lines, rng)
    at = int(rng.integers(0, len(lines[i]) + 1))
    lines[i] = lines[i][:at] + '"' + lines[i][at:]
    return "\n".join(lines)


@mutation
def stray_quote_pair(text: str, rng: np.random.Generator) -> str:
    """An opening quote at a cell's start on one line, its closing one on the next."""
    lines = _lines(text)
    i = _pick(lines, rng)
    if i + 1 >= len(lines) or not lines[i + 1]:
        return stray_quote(text, rng)
    cells = _cells(lines[i])
    j = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
    cells[j] = '"' + cells[j]
    lines[i] = ",".join(cells)
    nxt = _cells(lines[i + 1])
    nxt[0] = nxt[0] + '"'
    lines[i + 1] = ",".join(nxt)
    return "\n".join(lines)


@mutation
def unclosed_quote(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    i = _pick(lines, rng)
    cells = _cells(lines[i])
    j = int(rng.integers(0, len(cells)))
    cells[j] = '"' + cells[j]
    lines[i] = ",".join(cells)
    return "\n".join(lines)


@mutation
def quoted_line_break(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    i = _pick(lines, rng)
    cells = _cells(lines[i])
    j = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
    cells[j] = f'"{cells[j]}\nsecond line"'
    lines[i] = ",".join(cells)
    return "\n".join(lines)


@mutation
def drop_delimiter(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    i = _pick(lines, rng)
    commas = [k for k, c in enumerate(lines[i]) if c == ","]
    if commas:
        k = int(rng.choice(commas))
        lines[i] = lines[i][:k] + lines[i][k + 1 :]
    return "\n".join(lines)


@mutation
def extra_delimiter(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    i = _pick(lines, rng)
    at = int(rng.integers(0, len(lines[i]) + 1))
    lines[i] = lines[i][:at] + "," + lines[i][at:]
    return "\n".join(lines)


@mutation
def trailing_empty_cells(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    for _ in range(3):
        i = _pick(lines, rng)
        lines[i] += "," * int(rng.integers(1, 4))
    return "\n".join(lines)


@mutation
def truncated(text: str, rng: np.random.Generator) -> bytes:
    raw = text.encode("utf-8")
    return raw[: int(rng.integers(1, len(raw)))] if len(raw) > 1 else raw


@mutation
def blank_lines(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    for _ in range(int(rng.integers(1, 6))):
        at = int(rng.integers(1, len(lines) + 1))
        lines.insert(at, str(rng.choice(["", "   ", ",,,", '""', "\t"])))
    return "\n".join(lines)


@mutation
def mixed_line_breaks(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    ends = rng.choice(["\n", "\r\n", "\r"], size=len(lines))
    return "".join(line + str(end) for line, end in zip(lines, ends, strict=True))


@mutation
def nul_byte(text: str, rng: np.random.Generator) -> bytes:
    raw = bytearray(text.encode("utf-8"))
    raw.insert(int(rng.integers(0, len(raw) + 1)), 0)
    return bytes(raw)


@mutation
def random_bytes(text: str, rng: np.random.Generator) -> bytes:
    raw = bytearray(text.encode("utf-8"))
    for _ in range(int(rng.integers(1, 6)) if raw else 0):
        raw[int(rng.integers(0, len(raw)))] = int(rng.integers(0, 256))
    return bytes(raw)


@mutation
def byte_order_mark(text: str, rng: np.random.Generator) -> bytes:
    choice = int(rng.integers(0, 3))
    if choice == 0:
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if choice == 1:
        return text.encode("utf-16")  # with its BOM
    return text.encode("cp1252", errors="replace")


@mutation
def oversized_cell(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    i = _pick(lines, rng)
    cells = _cells(lines[i])
    j = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
    cells[j] = "x" * int(rng.choice([5_000, 150_000]))
    lines[i] = ",".join(cells)
    return "\n".join(lines)


@mutation
def formula_payloads(text: str, rng: np.random.Generator) -> str:
    payloads = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "=1+1"]
    lines = _lines(text)
    for _ in range(3):
        i = _pick(lines, rng)
        cells = _cells(lines[i])
        j = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
        cells[j] = str(rng.choice(payloads)).replace(",", ";")
        lines[i] = ",".join(cells)
    return "\n".join(lines)


@mutation
def odd_numbers(text: str, rng: np.random.Generator) -> str:
    odd = [
        "inf",
        "-inf",
        "Infinity",
        "NaN",
        "nan",
        "1e309",
        "-1e309",
        "9" * 400,
        "1,5",
        "n/d",
        "0x10",
        "1_000",
        "١٢",
    ]
    lines = _lines(text)
    for _ in range(4):
        i = _pick(lines, rng)
        cells = _cells(lines[i])
        j = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
        value = str(rng.choice(odd))
        cells[j] = f'"{value}"' if "," in value else value
        lines[i] = ",".join(cells)
    return "\n".join(lines)


@mutation
def odd_dates(text: str, rng: np.random.Generator) -> str:
    odd = [
        "2021-03-01T10:00:00+02:00",
        "2021-03-01 00:00:00Z",
        "2021-03-01T10:00:00-05:00",
        "1500-01-01",
        "9999-12-31",
        "2021-02-30",
        "01/03/2021",
    ]
    lines = _lines(text)
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for _ in range(4):
        i = _pick(lines, rng)
        cells = _cells(lines[i])
        spots = [k for k, c in enumerate(cells) if date.match(c)]
        if spots:
            cells[int(rng.choice(spots))] = str(rng.choice(odd))
            lines[i] = ",".join(cells)
    return "\n".join(lines)


@mutation
def broken_header(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    header = _cells(lines[0])
    choice = int(rng.integers(0, 5))
    if choice == 0:  # a duplicated column
        header.append(header[int(rng.integers(0, len(header)))])
    elif choice == 1:  # a misspelt column
        k = int(rng.integers(0, len(header)))
        header[k] = header[k][::-1]
    elif choice == 2:  # a column left out of the header only
        header.pop(int(rng.integers(0, len(header))))
    elif choice == 3:  # header only
        return lines[0] + "\n"
    else:  # nothing
        return str(rng.choice(["", "\n", "   \n\n"]))
    lines[0] = ",".join(header)
    return "\n".join(lines)


@mutation
def duplicated_rows(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    for _ in range(3):
        i = _pick(lines, rng)
        lines.insert(i, lines[i])
    return "\n".join(lines)


@mutation
def many_columns(text: str, rng: np.random.Generator) -> str:
    extra = int(rng.choice([50, 2_000]))
    lines = _lines(text)
    lines[0] += "".join(f",extra_{k}" for k in range(extra))
    return "\n".join(line + "," * extra if i and line else line for i, line in enumerate(lines))


@mutation
def control_characters(text: str, rng: np.random.Generator) -> str:
    lines = _lines(text)
    for _ in range(3):
        i = _pick(lines, rng)
        at = int(rng.integers(0, len(lines[i]) + 1))
        char = str(rng.choice(["\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\x7f", "\x01"]))
        lines[i] = lines[i][:at] + char + lines[i][at:]
    return "\n".join(lines)


@mutation
def semicolons(text: str, rng: np.random.Generator) -> str:
    # another delimiter for the whole file (sniffed), with an Excel sep= line or not
    body = "\n".join(";".join(_cells(line)) for line in _lines(text))
    return ("sep=;\n" + body) if rng.random() < 0.5 else body


# --- a variant and its check ----------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    number: int
    entity: str
    mutations: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.number:04d}-{self.entity}-{'+'.join(self.mutations)}"


def variants(count: int, seed: int = SEED) -> list[Variant]:
    """`count` variants: every mutation alone on every entity first, then random mixes."""
    rng = np.random.default_rng(seed)
    names = sorted(MUTATIONS)
    out: list[Variant] = []
    singles = [(e, m) for m in names for e in ENTITIES]
    for entity, name in singles[:count]:
        out.append(Variant(len(out), entity, (name,)))
    while len(out) < count:
        k = int(rng.integers(2, 4))
        picked = tuple(str(m) for m in rng.choice(names, size=k, replace=False))
        out.append(Variant(len(out), str(rng.choice(ENTITIES)), picked))
    return out


def write_variant(base: Base, variant: Variant, folder: Path) -> Path:
    """The variant's file, made from the base file with its seeded mutations."""
    rng = np.random.default_rng([SEED, variant.number])
    content: str | bytes = base.files[variant.entity].read_text(encoding="utf-8")
    for name in variant.mutations:
        if isinstance(content, bytes):  # a byte mutation came first: go on with the text
            content = content.decode("utf-8", errors="replace")
        content = MUTATIONS[name](content, rng)
    path = folder / f"{variant.entity}.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def physical_records(path: Path) -> int | None:
    """Rows in as the contract counts them, from the bytes alone: every line after the
    header holding something other than delimiters, quotes and white space (None when the
    text cannot be decoded as the readers would)."""
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", errors="strict")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    text = text.lstrip("\ufeff")
    lines = LINE.split(text)
    if lines and re.fullmatch(r"sep=[,;\t|]", lines[0]):
        lines = lines[1:]

    def blank(line: str) -> bool:  # an odd quote makes a broken line: a row, quarantined
        return all(c.isspace() or c in ',;\t|"' for c in line) and not line.count('"') % 2

    start = next((i for i, line in enumerate(lines) if not blank(line)), None)
    if start is None:
        return 0
    return sum(1 for line in lines[start + 1 :] if not blank(line))


@dataclass
class Outcome:
    """What one engine did with one variant."""

    engine: str
    status: str  # loaded | refused | unsupported | traceback | slow
    counts: tuple[int, int, int] | None = None
    message: str = ""
    seconds: float = 0.0


@dataclass
class Result:
    variant: Variant
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Slow(Exception):
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def alarm(*_: Any) -> None:
        raise _Slow

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _load(engine: str, warehouse: Path, path: Path, entity: str) -> Outcome:
    from schemas.validate import ContractError
    from warehouse.bulk import BulkUnsupported, bulk_load_csv
    from warehouse.db import open_warehouse
    from warehouse.load import load_file

    from .test_warehouse import KEY

    started = time.perf_counter()
    outcome = Outcome(engine, "loaded")
    try:
        with _deadline(SLOW_SECONDS), open_warehouse(warehouse) as con:
            if engine == "pandas":
                report = load_file(con, path, entity, key=KEY, engine="pandas")
            else:
                report = bulk_load_csv(con, path, entity, key=KEY)
            outcome.counts = (report.rows_in, report.rows_loaded, report.rows_quarantined)
    except ContractError as exc:
        outcome.status, outcome.message = "refused", str(exc)
    except BulkUnsupported as exc:
        outcome.status, outcome.message = "unsupported", str(exc)
    except _Slow:
        outcome.status = "slow"
    except Exception as exc:
        outcome.status, outcome.message = "traceback", f"{type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - started
    return outcome


def raw_ids_in_warehouse(warehouse: Path, raw_ids: frozenset[str]) -> list[str]:
    """Tables whose text holds a raw identifier (checked in SQL: DuckDB compresses)."""
    found = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids = sorted(raw_ids)
        con.execute("create temp table _ids as select unnest(?::varchar[]) as id", [ids])
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema in ('raw', 'meta')"
        ).fetchall()
        for schema, table, column in columns:
            hit = con.execute(
                f'select any_value(t."{column}") from "{schema}"."{table}" as t '
                f'join _ids on contains(t."{column}", _ids.id)'
            ).fetchall()[0][0]
            if hit is not None:
                found.append(f"{schema}.{table}.{column}")
    return found


def infinite_values(warehouse: Path) -> list[str]:
    """Raw-table number columns holding an infinity (a value no agency measured)."""
    found = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'raw' and data_type in ('DOUBLE', 'FLOAT')"
        ).fetchall()
        for table, column in columns:
            hits = con.execute(
                f'select count(*) from raw."{table}" where isinf("{column}")'
            ).fetchall()[0][0]
            if hits:
                found.append(f"raw.{table}.{column}")
    return found


def check_variant(base: Base, variant: Variant, work: Path) -> Result:
    """Load the variant with both engines on copies of the base warehouse; its problems."""
    result = Result(variant)
    folder = work / variant.name
    folder.mkdir(parents=True)
    path = write_variant(base, variant, folder)
    expected = physical_records(path)
    for engine in ("pandas", "duckdb"):
        warehouse = folder / f"{engine}.duckdb"
        shutil.copy(base.warehouse, warehouse)
        outcome = _load(engine, warehouse, path, variant.entity)
        result.outcomes.append(outcome)
        where = f"{engine}: "
        if outcome.status in ("traceback", "slow"):
            result.problems.append(where + f"{outcome.status} {outcome.message[:300]}")
        if "\n" in outcome.message:
            result.problems.append(where + "an error of more than one line")
        leaked = [i for i in base.raw_ids if i in outcome.message]
        if leaked:
            result.problems.append(where + f"a raw id in the error: {leaked[0]}")
        if outcome.counts is not None:
            rows_in, loaded, quarantined = outcome.counts
            if rows_in != loaded + quarantined:
                result.problems.append(where + f"counts do not reconcile {outcome.counts}")
            if expected is not None and rows_in != expected:
                result.problems.append(where + f"{rows_in} rows in, the file has {expected}")
        infinite = infinite_values(warehouse)
        if infinite:
            result.problems.append(where + f"infinity loaded in {', '.join(infinite)}")
        leaked_tables = raw_ids_in_warehouse(warehouse, base.raw_ids)
        if leaked_tables:
            result.problems.append(where + f"raw ids in {', '.join(leaked_tables)}")
    pandas_side, bulk_side = result.outcomes
    if bulk_side.status == "loaded" and pandas_side.status == "loaded":
        if bulk_side.counts != pandas_side.counts:
            result.problems.append(f"engines differ: {pandas_side.counts} vs {bulk_side.counts}")
    elif (
        bulk_side.status in ("loaded", "refused")
        and pandas_side.status in ("loaded", "refused")
        and bulk_side.status != pandas_side.status
    ):
        result.problems.append(
            f"engines differ: pandas {pandas_side.status}, duckdb {bulk_side.status} "
            f"({(pandas_side.message or bulk_side.message)[:200]})"
        )
    shutil.rmtree(folder, ignore_errors=True)
    return result


def run_corpus(count: int, *, seed: int = SEED, progress: bool = False) -> list[Result]:
    """Build the base portfolio and check `count` variants (seeded)."""
    with tempfile.TemporaryDirectory(prefix="mes-fuzz-") as tmp:
        work = Path(tmp)
        base = build_base(work / "base")
        results = []
        for variant in variants(count, seed):
            results.append(check_variant(base, variant, work / "variants"))
            if progress:
                for problem in results[-1].problems:
                    print(f"  {variant.name}: {problem}", file=sys.stderr)
            if progress and len(results) % 25 == 0:
                bad = sum(1 for r in results if r.problems)
                print(f"{len(results)} variants, {bad} with problems", file=sys.stderr)
        return results


def summary(results: list[Result]) -> str:
    """Counts by engine and status, and every problem."""
    lines = [f"{len(results)} variants x 2 engines"]
    for engine in ("pandas", "duckdb"):
        statuses: dict[str, int] = {}
        for r in results:
            o = next(o for o in r.outcomes if o.engine == engine)
            statuses[o.status] = statuses.get(o.status, 0) + 1
        slowest = max(next(o for o in r.outcomes if o.engine == engine).seconds for r in results)
        shown = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        lines.append(f"{engine}: {shown}; slowest load {slowest:.1f} s")
    problems = [(r.variant.name, p) for r in results for p in r.problems]
    lines.append(f"variants with problems: {sum(1 for r in results if r.problems)}")
    lines += [f"  {name}: {p}" for name, p in problems]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    started = time.perf_counter()
    results = run_corpus(args.variants, seed=args.seed, progress=True)
    print(summary(results))
    print(f"{time.perf_counter() - started:.0f} s")
    sys.exit(1 if any(r.problems for r in results) else 0)


if __name__ == "__main__":
    main()
