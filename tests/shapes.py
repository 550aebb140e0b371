"""Submission shapes that real agencies send, for the end-to-end shape matrix.

Each shape is a folder an agency could have sent: input files, mapping files where the
agency's own layout needs them, and a `config.yaml` to run with
`mes-eval run --config <folder>/config.yaml`. All but one are built from the seeded
synthetic portfolio (`evaluation.synthetic.generate_demo`), transformed the way a real
submission differs from the demo (an entity or a column missing, fewer years, one entry
cohort, zeros, gaps, a second program...), and written with
`flows.demo_files.write_demo_files`. `tests/test_shapes.py` runs them all.

What each shape must give is stated with it: the exit code (and, for a submission that
must be refused, fragments of its one error line), the units that must be stored as not
estimated and why (`Unit`: program x outcome or ROI metric x estimator/subgroup, reason
code of `evaluation.reasons.REASONS`), and the effects that must be estimated and recover
the planted truth. The truth is `data/true_effects.csv` (log points by program and years
since entry, written by the builder after its transforms); the test turns it into the
target of the estimate from the run's own group-time cells.

A developer can build one shape by hand:

    .venv/bin/python -m tests.shapes --out /tmp/shapes --only one_cohort
    .venv/bin/mes-eval run --config /tmp/shapes/one_cohort/config.yaml
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from evaluation.synthetic import DemoData, generate_demo
from flows.demo_files import write_demo_files

REPO = Path(__file__).resolve().parents[1]
SEED = 20260  # one seed for every shape: nothing is tuned to pass
FIRST, LAST = 2014, 2024
CS = "callaway_santanna_2021"
MATCHING = "matching_did"
ROI = "roi"
ESTIMATED = "estimated"  # in Unit.reason: the unit must carry a number, not a reason
HEADLINE = ("log_sales", "log_employment")
ROI_METRICS = ("value_added_per_dollar", "sales_per_dollar", "cost_per_job")
CHL, PER, BRA = "SYN-CHL-PDP", "SYN-PER-VOUCHER", "SYN-BRA-SEBRAETEC"
PROGRAMS = (CHL, PER, BRA)
PROVEE = "SYN-CHL-PROVEE"  # a second Chilean program, split off SYN-CHL-PDP
NEW = "SYN-CHL-NEW"  # a program that starts after the last year of outcomes
# outcomes the contract allows to be empty, beyond sales and employment
OPTIONAL_OUTCOME_COLUMNS = (
    "wage_bill",
    "exports",
    "value_added",
    "rd_spend",
    "training_spend",
    "capital",
)
NOT_SUBMITTED_OUTCOMES = ("log_wage_per_worker", "log_va_per_worker", "exporter", "rd_intensity")


@dataclass(frozen=True)
class Unit:
    """A unit of estimation and what it must show.

    outcome: an outcome name, or an ROI metric when estimator is ROI. subgroup: "all",
    "<dimension>=<value>", or "<dimension>=*" (at least one value of the dimension).
    reason: a reason code (a tuple: any of them), or ESTIMATED. A reason whose status is
    not_run (the pre-entry test) is checked on the unit's pretrend_reason.
    """

    program_id: str
    outcome: str
    estimator: str = CS
    subgroup: str = "all"
    reason: str | tuple[str, ...] = ESTIMATED

    @property
    def codes(self) -> tuple[str, ...]:
        return (self.reason,) if isinstance(self.reason, str) else self.reason

    def __str__(self) -> str:
        return f"{self.program_id} / {self.outcome} / {self.estimator} / {self.subgroup}"


@dataclass(frozen=True)
class Shape:
    """A submission shape: how to build it and what a run on it must give."""

    name: str
    description: str  # what real agency sends this
    build: Callable[[Path], Path]  # writes the folder, returns its config.yaml
    in_issue: bool = True  # in issue 10's list (else: added beyond it)
    exit_code: int = 0
    error: tuple[str, ...] = ()  # fragments (any case) of the one error line
    units: tuple[Unit, ...] = ()
    recovers: tuple[tuple[str, str], ...] = ()  # (program, outcome): estimated, on target
    max_se: float | None = None  # the recovered effects must be at least this precise
    pretrend_run: tuple[str, ...] = ()  # programs whose pre-entry test must have run
    dropped_covariates: tuple[tuple[str, str], ...] = ()  # (program, dropped) in balance
    language: str = "en"
    audience: str = "public"

    @property
    def programs(self) -> list[str]:
        names = [u.program_id for u in self.units] + [p for p, _ in self.recovers]
        return list(dict.fromkeys(names))


# --- the submission being shaped --------------------------------------------------------


@dataclass
class Submission:
    """Input tables, the planted truth and the run settings of one shape."""

    tables: dict[str, pd.DataFrame]
    true_effects: pd.DataFrame
    evaluation: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def outcomes(self) -> pd.DataFrame:
        return self.tables["outcomes"]


@cache
def _generated(
    n_firms: int,
    first: int,
    last: int,
    cohorts: tuple[tuple[str, tuple[int, ...]], ...] = (),
    shares: tuple[tuple[str, float], ...] = (),
) -> DemoData:
    return generate_demo(
        SEED, n_firms, first, last, cohorts=dict(cohorts), treated_share=dict(shares)
    )


def base(
    n_firms: int = 1200,
    first: int = FIRST,
    last: int = LAST,
    *,
    countries: Iterable[str] | None = None,
    cohorts: dict[str, list[int]] | None = None,
    shares: dict[str, float] | None = None,
) -> Submission:
    """A copy of the generated portfolio, optionally of some countries only (one agency)."""
    data = _generated(
        n_firms,
        first,
        last,
        tuple(sorted((k, tuple(v)) for k, v in (cohorts or {}).items())),
        tuple(sorted((shares or {}).items())),
    )
    sub = Submission({k: v.copy() for k, v in data.tables.items()}, data.true_effects.copy())
    if countries is not None:
        _keep_countries(sub, set(countries))
    return sub


def _keep_countries(sub: Submission, countries: set[str]) -> None:
    t = sub.tables
    # bad_country rows (country written "Chile") have no other records: they go too
    dropped = set(t["firms"].loc[~t["firms"]["country"].isin(countries), "firm_id"])
    programs = set(t["programs"].loc[t["programs"]["country"].isin(countries), "program_id"])
    t["firms"] = t["firms"][t["firms"]["country"].isin(countries)]
    t["programs"] = t["programs"][t["programs"]["program_id"].isin(programs)]
    t["macro"] = t["macro"][t["macro"]["country"].isin(countries)]
    # rows of unknown firms and programs (planted, quarantined) stay: they are the agency's
    for name in ("outcomes", "participations", "comparison_sample", "client_survey", "targets"):
        t[name] = t[name][~t[name]["firm_id"].isin(dropped)]
    for name in ("program_budgets", "comparison_sample", "client_survey", "targets"):
        t[name] = t[name][t[name]["program_id"].isin(programs)]
    sub.true_effects = sub.true_effects[sub.true_effects["program_id"].isin(programs)]


def entry_year(sub: Submission, program_id: str) -> pd.Series:
    """Entry year of each beneficiary of a program (its first spell), by firm_id."""
    p = sub.tables["participations"]
    p = p[p["program_id"] == program_id]
    return p.groupby("firm_id")["start_date"].min().dt.year.sort_index()


def _numeric(values: pd.Series) -> pd.Series:
    """A column as numbers; planted text ("n/d") becomes NaN."""
    return pd.to_numeric(values, errors="coerce")


def _drop_beneficiaries(sub: Submission, program_id: str, firm_ids: Iterable[str]) -> None:
    """Firms that never joined the program after all (their records of it go)."""
    ids = set(firm_ids)
    t = sub.tables
    for name in ("participations", "client_survey", "targets"):
        frame = t[name]
        t[name] = frame[~(frame["firm_id"].isin(ids) & (frame["program_id"] == program_id))]


def _set_region(sub: Submission, firm_ids: Iterable[str], region: str | None) -> None:
    firms = sub.tables["firms"]
    sub.tables["firms"] = firms.assign(
        region=firms["region"].where(~firms["firm_id"].isin(set(firm_ids)), region)
    )


def _comparison_ids(sub: Submission, program_id: str) -> set[str]:
    c = sub.tables["comparison_sample"]
    return set(c.loc[c["program_id"] == program_id, "firm_id"])


def _add_program(
    sub: Submission, like: str, program_id: str, name: str, *, start_year: int | None = None
) -> None:
    """A registry row (and budget rows) for another program of the same agency."""
    t = sub.tables
    row = t["programs"][t["programs"]["program_id"] == like].copy()
    row["program_id"], row["name"] = program_id, name
    if start_year is not None:
        row["start_year"] = start_year
    t["programs"] = pd.concat([t["programs"], row], ignore_index=True)
    budgets = t["program_budgets"]
    rows = budgets[budgets["program_id"] == like].copy()
    rows["program_id"] = program_id
    if start_year is not None:
        rows = rows[rows["year"] >= start_year]
    t["program_budgets"] = pd.concat([budgets, rows], ignore_index=True)


def _split_program(sub: Submission, share_comparison: bool = True) -> list[str]:
    """Half of SYN-CHL-PDP's beneficiaries (drawn at random) go to a second program,
    SYN-CHL-PROVEE, with the same planted effects; the moved firm ids are returned."""
    _add_program(sub, CHL, PROVEE, "[Synthetic] Supplier development, regional call")
    firms = entry_year(sub, CHL).index.to_numpy()
    rng = np.random.default_rng(SEED + 1)
    moved = sorted(rng.choice(firms, len(firms) // 2, replace=False))
    t = sub.tables
    for name in ("participations", "client_survey", "targets"):
        frame = t[name]
        mask = frame["firm_id"].isin(moved) & (frame["program_id"] == CHL)
        t[name] = frame.assign(program_id=frame["program_id"].mask(mask, PROVEE))
    if share_comparison:
        c = t["comparison_sample"]
        t["comparison_sample"] = pd.concat(
            [c, c[c["program_id"] == CHL].assign(program_id=PROVEE)], ignore_index=True
        )
    effects = sub.true_effects
    sub.true_effects = pd.concat(
        [effects, effects[effects["program_id"] == CHL].assign(program_id=PROVEE)],
        ignore_index=True,
    )
    return [str(f) for f in moved]


# --- writing a shape's folder -------------------------------------------------------------


def write(
    sub: Submission,
    out: Path,
    shape: Shape,
    *,
    sources: dict[str, Any] | None = None,
    synthetic: bool = True,
) -> Path:
    """Write the files (contract CSVs, participations as XLSX) and config.yaml.

    `sources` overrides the config's source of an entity (a file the builder wrote in
    the agency's own layout). Without `synthetic`, the run uses a key file, as an
    agency's does, and the edition carries no demo banner.
    """
    out.mkdir(parents=True, exist_ok=True)
    empty = pd.DataFrame(columns=["program_id", "outcome", "att"])
    data = DemoData(
        tables={k: v.reset_index(drop=True) for k, v in sub.tables.items()},
        true_effects=sub.true_effects.reset_index(drop=True),
        true_att_simple=empty,
        planted_invalid=pd.DataFrame(columns=["entity", "row", "kind", "column"]),
        settings={"seed": SEED},
    )
    paths = write_demo_files(data, out / "data")
    # the generator's targets and planted-row positions do not hold after the transforms
    for name in ("true_att_simple", "planted_invalid"):
        paths.pop(name).unlink()
    paths.pop("true_effects")
    with (out / "data" / "README.txt").open("a", encoding="utf-8") as readme:
        readme.write(
            f"\nShape {shape.name}: {shape.description}\n"
            "true_effects.csv holds the planted effects after the shape's transforms; the test "
            "derives the target of each estimate from the run's own group-time cells.\n"
        )
    config: dict[str, Any] = {
        "title": f"Shape {shape.name}",
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "languages": [shape.language],
        "audience": shape.audience,
        # PNG export costs ~10 s a shape through chromium; the demo's e2e test covers it
        "chart_images": False,
        "sources": {name: f"data/{path.name}" for name, path in paths.items()},
    }
    config["sources"].update(sources or {})
    if synthetic:
        config["synthetic"] = True
    else:
        key = out / "pseudonym.key"
        key.write_text(f"shape-matrix-test-key-{shape.name}\n", encoding="utf-8")
        config["pseudonym_key_file"] = key.name
    if sub.evaluation:
        config["evaluation"] = sub.evaluation
    config.update(sub.settings)
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _es_number(value: object, decimals: int) -> str:
    """A number as Chilean Excel writes it: 1.234.567,8; text (planted "n/d") as sent."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    text = f"{float(value):,.{decimals}f}"
    return text.translate(str.maketrans({",": ".", ".": ","}))


def _write_spanish(sub: Submission, data: Path, *, firms_encoding: str = "cp1252") -> dict:
    """The Chilean agency's own layout: outcomes, firms and beneficiaries as Windows
    Excel exports (semicolons, cp1252, decimal commas, dd/mm/yyyy, Spanish headers), with
    their mapping files. Returns the config's sources for the three entities."""
    t = sub.tables
    mappings = data.parent / "mappings"
    mappings.mkdir(exist_ok=True)
    # the README's example mapping, as it is
    shutil.copy(REPO / "examples" / "mappings" / "chile_outcomes.yaml", mappings)
    region = t["firms"].set_index("firm_id")["region"]
    o = t["outcomes"]
    resultados = pd.DataFrame(
        {
            "RUT": o["firm_id"],
            "Año": o["year"],
            "Razón Social": "Empresa " + o["firm_id"].str[:2],
            "Región": o["firm_id"].map(region).fillna(""),
            "Ventas": [
                "s/i" if not isinstance(v, str) and pd.isna(v) else _es_number(v, 0)
                for v in o["sales"]
            ],
            "Empleo": [_es_number(v, 1) for v in o["employment"]],
            "Remuneraciones": [_es_number(v, 0) for v in o["wage_bill"]],
            "Exportaciones": [_es_number(v, 0) for v in o["exports"]],
            "Valor agregado": [_es_number(v, 0) for v in o["value_added"]],
            "Gasto I+D": [_es_number(v, 0) for v in o["rd_spend"]],
            "Gasto capacitación": [_es_number(v, 0) for v in o["training_spend"]],
            "Activo fijo": [_es_number(v, 0) for v in o["capital"]],
            "Fuente": o["source"].map({"tax": "SII", "survey": "ENC", "registry": "REG"}),
        }
    )
    resultados.to_csv(data / "resultados.csv", sep=";", index=False, encoding="cp1252")
    (data / "outcomes.csv").unlink()

    f = t["firms"]
    empresas = pd.DataFrame(
        {
            "RUT": f["firm_id"],
            "Razón social": "Empresa " + f["firm_id"].str[:2],
            "Región": f["region"],
            "CIIU": f["isic4"],
            "Año de fundación": f["founded_year"],
        }
    )
    empresas.to_csv(data / "empresas.csv", sep=";", index=False, encoding=firms_encoding)
    (data / "firms.csv").unlink()
    (mappings / "chile_firms.yaml").write_text(
        "# Chile: firms of the follow-up system (Windows Excel export)\n"
        "entity: firms\n"
        "columns:\n  RUT: firm_id\n  Región: region\n  CIIU: isic4\n"
        "  Año de fundación: founded_year\n"
        "constants:\n  country: CHL\n"
        'format:\n  delimiter: ";"\n  encoding: cp1252\n',
        encoding="utf-8",
    )

    p = t["participations"]
    codes = {CHL: "PDP"}
    beneficiarios = pd.DataFrame(
        {
            "RUT": p["firm_id"],
            "Programa": p["program_id"].map(lambda x: codes.get(x, x.split("-")[-1])),
            "Servicio": p["service"],
            "Fecha de inicio": p["start_date"].dt.strftime("%d/%m/%Y"),
            "Fecha de término": p["end_date"].dt.strftime("%d/%m/%Y").fillna(""),
            "Costo público": [_es_number(v, 0) for v in p["public_cost"]],
            "Aporte empresa": [_es_number(v, 0) for v in p["firm_contribution"]],
        }
    )
    beneficiarios.to_csv(data / "beneficiarios.csv", sep=";", index=False, encoding="cp1252")
    (data / "participations.xlsx").unlink()
    (mappings / "chile_participations.yaml").write_text(
        "# Chile: beneficiaries by program and service (Windows Excel export)\n"
        "entity: participations\n"
        "columns:\n  RUT: firm_id\n  Programa: program_id\n  Servicio: service\n"
        "  Fecha de inicio: start_date\n  Fecha de término: end_date\n"
        "  Costo público: public_cost\n  Aporte empresa: firm_contribution\n"
        "values:\n  program_id: {PDP: SYN-CHL-PDP}\n"
        'format:\n  delimiter: ";"\n  encoding: cp1252\n  decimal: ","\n  thousands: "."\n'
        '  date_format: "%d/%m/%Y"\n',
        encoding="utf-8",
    )
    return {
        "outcomes": {"path": "data/resultados.csv", "mapping": "mappings/chile_outcomes.yaml"},
        "firms": {"path": "data/empresas.csv", "mapping": "mappings/chile_firms.yaml"},
        "participations": {
            "path": "data/beneficiarios.csv",
            "mapping": "mappings/chile_participations.yaml",
        },
    }


# --- the shapes of issue 10 -------------------------------------------------------------


def _no_survey_no_targets(out: Path) -> Path:
    sub = base()
    del sub.tables["client_survey"], sub.tables["targets"]
    return write(sub, out, SHAPES["no_survey_no_targets"])


def _only_sales_employment(out: Path) -> Path:
    sub = base()
    sub.tables["outcomes"] = sub.outcomes[["firm_id", "year", "sales", "employment"]]
    del sub.tables["targets"]  # export targets need exports
    return write(sub, out, SHAPES["only_sales_employment"])


def _three_years(out: Path) -> Path:
    # programs started in 2023; the agency's panel starts the year before
    sub = base(first=2018, cohorts={p: [2023, 2024] for p in PROGRAMS})
    t = sub.tables
    t["outcomes"] = sub.outcomes[sub.outcomes["year"] >= 2022]
    t["programs"] = t["programs"].assign(start_year=2023)
    t["program_budgets"] = t["program_budgets"][t["program_budgets"]["year"] >= 2023]
    return write(sub, out, SHAPES["three_years"])


def _program_of_8(out: Path) -> Path:
    sub = base(1500, countries=["CHL"])
    entries = entry_year(sub, CHL)
    rng = np.random.default_rng(SEED + 8)
    keep = set(rng.choice(entries.index.to_numpy(), 8, replace=False))
    _drop_beneficiaries(sub, CHL, set(entries.index) - keep)
    return write(sub, out, SHAPES["program_of_8"])


def _one_cohort(out: Path) -> Path:
    sub = base(cohorts={p: [2019] for p in PROGRAMS})
    return write(sub, out, SHAPES["one_cohort"])


def _not_yet_treated_only(out: Path) -> Path:
    # a program that evaluates against firms entering later: no comparison sample at all
    sub = base(1500, countries=["CHL"], shares={CHL: 0.3})
    t = sub.tables
    t["comparison_sample"] = t["comparison_sample"].iloc[0:0]
    # one region's beneficiaries all entered in one year (a regional call)
    entries = entry_year(sub, CHL)
    _set_region(sub, entries.index[entries != 2018], "Valparaíso")
    _set_region(sub, entries.index[entries == 2018], "Maule")
    sub.evaluation = {"control_group": "notyettreated", "min_subgroup_beneficiaries": 20}
    return write(sub, out, SHAPES["not_yet_treated_only"])


def _one_region(out: Path) -> Path:
    sub = base(1500, countries=["CHL"])
    _set_region(sub, entry_year(sub, CHL).index, "Biobío")
    return write(sub, out, SHAPES["one_region"])


def _region_without_comparison(out: Path) -> Path:
    sub = base(1500, countries=["CHL"])
    beneficiaries = entry_year(sub, CHL).index
    firms = sub.tables["firms"]
    in_region = firms.loc[firms["region"] == "Antofagasta", "firm_id"]
    _set_region(sub, set(in_region) - set(beneficiaries), "Los Lagos")
    rng = np.random.default_rng(SEED + 2)
    _set_region(sub, rng.choice(beneficiaries.to_numpy(), 15, replace=False), "Antofagasta")
    sub.evaluation = {"min_subgroup_beneficiaries": 10}
    return write(sub, out, SHAPES["region_without_comparison"])


def _entry_first_year(out: Path) -> Path:
    sub = base(cohorts={CHL: [FIRST], BRA: [FIRST, 2016, 2018, 2020]})
    programs = sub.tables["programs"]
    sub.tables["programs"] = programs.assign(
        start_year=programs["start_year"].mask(programs["program_id"] == BRA, FIRST)
    )
    return write(sub, out, SHAPES["entry_first_year"])


def _va_share_of_sales(out: Path) -> Path:
    sub = base()
    o = sub.outcomes
    sales = _numeric(o["sales"])
    # the register imputes value added as 30% of sales
    sub.tables["outcomes"] = o.assign(value_added=(0.3 * sales.where(sales >= 0)).round())
    e = sub.true_effects
    va = e[e["outcome"] == "log_sales"].merge(
        e[e["outcome"] == "log_employment"], on=["program_id", "event_time"]
    )
    sub.true_effects = pd.concat(
        [
            e,
            va.assign(outcome="log_va_per_worker", effect=va["effect_x"] - va["effect_y"])[
                ["program_id", "outcome", "event_time", "effect"]
            ],
        ],
        ignore_index=True,
    )
    return write(sub, out, SHAPES["va_share_of_sales"])


def _zeros_in_sales(out: Path) -> Path:
    sub = base()
    o = sub.outcomes
    rng = np.random.default_rng(SEED + 3)
    sales = _numeric(o["sales"])
    dormant = (sales > 0).to_numpy() & (rng.random(len(o)) < 0.03)
    o = o.copy()
    for column in ("sales", "exports", "value_added", "rd_spend"):
        o[column] = o[column].mask(dormant, 0.0)
    sub.tables["outcomes"] = o
    return write(sub, out, SHAPES["zeros_in_sales"])


def _gaps_in_years(out: Path) -> Path:
    sub = base()
    o = sub.outcomes
    rng = np.random.default_rng(SEED + 4)
    span = o.groupby("firm_id")["year"].agg(["min", "max"])
    lo, hi = o["firm_id"].map(span["min"]), o["firm_id"].map(span["max"])
    interior = (o["year"] > lo) & (o["year"] < hi)
    gappy = o["firm_id"].isin(span.index[rng.random(len(span)) < 0.5])
    missed = interior & gappy & (rng.random(len(o)) < 0.2)
    # and some beneficiaries were not surveyed the year before they entered
    entries = pd.concat([entry_year(sub, p) for p in PROGRAMS])
    late = entries.sample(15, random_state=SEED)
    missed |= o["firm_id"].map(late).eq(o["year"] + 1)
    sub.tables["outcomes"] = o[~missed]
    return write(sub, out, SHAPES["gaps_in_years"])


def _two_programs_share_comparison(out: Path) -> Path:
    sub = base(1500, countries=["CHL"], shares={CHL: 0.18})
    _split_program(sub)
    return write(sub, out, SHAPES["two_programs_share_comparison"])


def _firm_in_two_programs(out: Path) -> Path:
    sub = base(1500, countries=["CHL"], shares={CHL: 0.18})
    moved = _split_program(sub)
    stayed = sorted(set(entry_year(sub, CHL).index))
    rng = np.random.default_rng(SEED + 5)
    p = sub.tables["participations"]
    first = p[p["program_id"].isin([CHL, PROVEE])].sort_values("start_date")
    first = first.drop_duplicates(["firm_id", "program_id"])
    extra = []
    for ids, other in (
        (rng.choice(moved, 12, replace=False), CHL),
        (rng.choice(stayed, 12, replace=False), PROVEE),
    ):
        rows = first[first["firm_id"].isin(ids)].copy()
        # the second service starts later the same year: same entry year in both
        year_end = pd.to_datetime(rows["start_date"].dt.year.astype(str) + "-12-31")
        gap = pd.to_timedelta(rng.integers(1, 60, len(rows)), unit="D")
        rows["start_date"] = (rows["start_date"] + gap).where(
            rows["start_date"] + gap <= year_end, year_end
        )
        rows["end_date"] = pd.NaT
        extra.append(rows.assign(program_id=other))
    sub.tables["participations"] = pd.concat([p, *extra], ignore_index=True)
    return write(sub, out, SHAPES["firm_in_two_programs"])


def _constant_outcome(out: Path) -> Path:
    sub = base()
    o = sub.outcomes.copy()
    exports = _numeric(o["exports"])
    # exports recorded once, at registration, and carried forward
    first = exports.groupby(o["firm_id"]).transform("first")
    o["exports"] = o["exports"].where(o["exports"].map(type).eq(str), first)
    o["rd_spend"] = o["rd_spend"].where(o["rd_spend"].isna(), 0.0)  # no R&D ever reported
    sub.tables["outcomes"] = o
    return write(sub, out, SHAPES["constant_outcome"])


def _no_budget_rows(out: Path) -> Path:
    sub = base()
    budgets = sub.tables["program_budgets"]
    sub.tables["program_budgets"] = budgets[budgets["program_id"] != PER]
    return write(sub, out, SHAPES["no_budget_rows"])


def _spanish_cp1252(out: Path) -> Path:
    sub = base(1500, countries=["CHL"])
    shape = SHAPES["spanish_cp1252"]
    config = write(sub, out, shape, synthetic=False)
    sources = _write_spanish(sub, out / "data")
    return _override_sources(config, sources)


def _utf8_declared_cp1252(out: Path) -> Path:
    sub = base(1500, countries=["CHL"])
    shape = SHAPES["utf8_declared_cp1252"]
    config = write(sub, out, shape, synthetic=False)
    sources = _write_spanish(sub, out / "data", firms_encoding="utf-8")
    return _override_sources(config, sources)


def _override_sources(config: Path, sources: dict[str, Any]) -> Path:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["sources"].update(sources)
    raw["title"] = "Programa de desarrollo de proveedores: informe de impacto"
    config.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return config


def _program_200_10y(out: Path) -> Path:
    sub = base(2400, 2015, LAST, countries=["CHL"], shares={CHL: 0.24})
    return write(sub, out, SHAPES["program_200_10y"])


# --- shapes beyond the issue's list -------------------------------------------------------


def _no_comparison_rows(out: Path) -> Path:
    sub = base()
    c = sub.tables["comparison_sample"]
    sub.tables["comparison_sample"] = c[c["program_id"] != BRA]
    return write(sub, out, SHAPES["no_comparison_rows"])


def _biennial_outcomes(out: Path) -> Path:
    sub = base()
    sub.tables["outcomes"] = sub.outcomes[sub.outcomes["year"] % 2 == 0]
    return write(sub, out, SHAPES["biennial_outcomes"])


def _firms_exit(out: Path) -> Path:
    sub = base()
    o = sub.outcomes
    rng = np.random.default_rng(SEED + 6)
    span = o.groupby("firm_id")["year"].agg(["min", "max"])
    closing = span.index[rng.random(len(span)) < 0.35]
    last = pd.Series(
        rng.integers(span.loc[closing, "min"], span.loc[closing, "max"] + 1), index=closing
    )
    # and some beneficiaries closed in the year they entered
    entries = pd.concat([entry_year(sub, p) for p in PROGRAMS])
    last = pd.concat(
        [last.drop(entries.index, errors="ignore"), entries.sample(10, random_state=SEED)]
    )
    cut = o["year"] > o["firm_id"].map(last)
    sub.tables["outcomes"] = o[~cut]
    return write(sub, out, SHAPES["firms_exit"])


def _missing_regions(out: Path) -> Path:
    sub = base()
    firms = sub.tables["firms"]
    _set_region(sub, firms.loc[firms["country"] == "BRA", "firm_id"], None)
    return write(sub, out, SHAPES["missing_regions"])


def _program_after_outcomes(out: Path) -> Path:
    sub = base()
    t = sub.tables
    _add_program(sub, CHL, NEW, "[Synthetic] Digital adoption vouchers", start_year=LAST + 1)
    budgets = t["program_budgets"]
    budget = budgets[(budgets["program_id"] == CHL) & (budgets["year"] == LAST)]
    t["program_budgets"] = pd.concat([budgets, budget.assign(program_id=NEW, year=LAST + 1)])
    macro = t["macro"]
    ahead = macro[macro["year"] == LAST].assign(year=LAST + 1)
    ahead = ahead.assign(deflator=ahead["deflator"] * 1.04, gdp=ahead["gdp"] * 1.06)
    t["macro"] = pd.concat([macro, ahead], ignore_index=True)
    # 25 Chilean firms joined in 2025; the outcomes end in 2024
    comparison = sorted(_comparison_ids(sub, CHL))
    rng = np.random.default_rng(SEED + 7)
    joined = rng.choice(comparison, 25, replace=False)
    starts = pd.Timestamp(f"{LAST + 1}-01-15") + pd.to_timedelta(rng.integers(0, 150, 25), unit="D")
    p = t["participations"]
    new = pd.DataFrame(
        {
            "firm_id": joined,
            "program_id": NEW,
            "service": "Digital adoption voucher",
            "start_date": starts,
            "end_date": pd.NaT,
            "public_cost": 4_500_000.0,
            "firm_contribution": 500_000.0,
        }
    )
    t["participations"] = pd.concat([p, new.astype(p.dtypes.to_dict())], ignore_index=True)
    c = t["comparison_sample"]
    t["comparison_sample"] = pd.concat(
        [c, c[(c["program_id"] == CHL) & ~c["firm_id"].isin(joined)].assign(program_id=NEW)],
        ignore_index=True,
    )
    zero = sub.true_effects[sub.true_effects["program_id"] == CHL]
    sub.true_effects = pd.concat(
        [sub.true_effects, zero.assign(program_id=NEW, effect=0.0)], ignore_index=True
    )
    return write(sub, out, SHAPES["program_after_outcomes"])


def _negative_value_added(out: Path) -> Path:
    sub = base()
    o = sub.outcomes
    rng = np.random.default_rng(SEED + 9)
    sales = _numeric(o["sales"])
    loss = (sales > 0).to_numpy() & (rng.random(len(o)) < 0.05)
    negative = (-sales * rng.uniform(0.05, 0.3, len(o))).round()
    sub.tables["outcomes"] = o.assign(value_added=o["value_added"].mask(loss, negative))
    return write(sub, out, SHAPES["negative_value_added"])


def _xlsx_several_sheets(out: Path) -> Path:
    sub = base(1500, countries=["CHL"])
    shape = SHAPES["xlsx_several_sheets"]
    config = write(sub, out, shape, synthetic=False)
    data = out / "data"
    sheets = {"empresas": "firms", "resultados": "outcomes", "participaciones": "participations"}
    notes = pd.DataFrame(
        {
            "Hoja": list(sheets),
            "Contenido": ["Empresas", "Resultados anuales por empresa", "Beneficiarios"],
        }
    )
    with pd.ExcelWriter(
        data / "envio_2024.xlsx", engine="openpyxl", date_format="YYYY-MM-DD",
        datetime_format="YYYY-MM-DD",
    ) as writer:  # fmt: skip
        notes.to_excel(writer, sheet_name="LEEME", index=False)
        for sheet, entity in sheets.items():
            sub.tables[entity].to_excel(writer, sheet_name=sheet, index=False)
    for entity in sheets.values():
        for stale in data.glob(f"{entity}.*"):
            stale.unlink()
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["sources"].update(
        {e: {"path": "data/envio_2024.xlsx", "sheet": s} for s, e in sheets.items()}
    )
    config.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return config


def _empty_optional_columns(out: Path) -> Path:
    sub = base()
    sub.tables["outcomes"] = sub.outcomes.assign(**dict.fromkeys(OPTIONAL_OUTCOME_COLUMNS, None))
    del sub.tables["targets"]
    return write(sub, out, SHAPES["empty_optional_columns"])


def _no_public_cost(out: Path) -> Path:
    sub = base()
    p = sub.tables["participations"]
    in_kind = p["program_id"] == PER
    sub.tables["participations"] = p.assign(
        public_cost=p["public_cost"].mask(in_kind, 0.0),
        firm_contribution=p["firm_contribution"].mask(in_kind, 0.0),
    )
    return write(sub, out, SHAPES["no_public_cost"])


def _agency_configured(out: Path) -> Path:
    sub = base(1500, countries=["CHL"])
    sub.evaluation = {
        "outcomes": [
            "log_sales",
            "log_employment",
            {"name": "earnings", "column": "wage_bill", "transform": "level"},
            {"name": "export_share", "column": "exports", "transform": "share", "per": "sales"},
        ],
        "covariates": ["size_class"],
        "matching": {"covariates": ["log_employment", "log_sales"], "exact": ["sector"]},
        "subgroups": ["size_class"],
    }
    return write(sub, out, SHAPES["agency_configured"], synthetic=False)


# --- the registry ---------------------------------------------------------------------------


def _each(programs: Iterable[str], outcomes: Iterable[str], **kw: Any) -> tuple[Unit, ...]:
    return tuple(Unit(p, o, **kw) for p in programs for o in outcomes)


def _roi(programs: Iterable[str], metrics: Iterable[str], **kw: Any) -> tuple[Unit, ...]:
    """ROI units; BRA's planted employment effect is about nil, so on a small sample its
    estimated jobs may be none: its cost per job is a number or `no_jobs_created`."""
    units = _each(programs, metrics, estimator=ROI, **kw)
    either = (ESTIMATED, "no_jobs_created")
    return tuple(
        replace(u, reason=either)
        if (u.program_id, u.outcome, u.reason) == (BRA, "cost_per_job", ESTIMATED)
        else u
        for u in units
    )


def _recover(*programs: str) -> tuple[tuple[str, str], ...]:
    return tuple((p, o) for p in programs for o in HEADLINE)


_LIST: list[Shape] = [
    Shape(
        "no_survey_no_targets",
        "An agency without a client survey or per-firm targets (both optional entities).",
        _no_survey_no_targets,
        units=_roi(PROGRAMS, ROI_METRICS),
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "only_sales_employment",
        "A business register with only sales and employment: no wages, exports, value "
        "added, R&D, training or capital columns.",
        _only_sales_employment,
        units=_each(PROGRAMS, NOT_SUBMITTED_OUTCOMES, reason="outcome_not_submitted")
        + _each(PROGRAMS, ["value_added_per_dollar"], estimator=ROI, reason="outcome_not_submitted")
        + _roi(PROGRAMS, ["sales_per_dollar", "cost_per_job"])
        + _each(PROGRAMS, HEADLINE, estimator=MATCHING),
        recovers=_recover(*PROGRAMS),
        audience="internal",
    ),
    Shape(
        "three_years",
        "Programs launched recently: three years of outcomes (2022-2024), entry in 2023-2024.",
        _three_years,
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "program_of_8",
        "A pilot program with 8 beneficiaries.",
        _program_of_8,
        units=_each([CHL], HEADLINE, reason="pretrend_too_few_firms")
        + _each([CHL], HEADLINE, subgroup="region=*", reason="too_few_beneficiaries")
        + _each([CHL], HEADLINE, subgroup="size_class=*", reason="too_few_beneficiaries"),
        recovers=_recover(CHL),
        audience="internal",
    ),
    Shape(
        "one_cohort",
        "Every beneficiary entered in the same year (a single call), never-treated comparison.",
        _one_cohort,
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "not_yet_treated_only",
        "No comparison sample: beneficiaries compared with those entering later "
        "(control_group: notyettreated); one region's beneficiaries all entered in one year.",
        _not_yet_treated_only,
        units=_each([CHL], HEADLINE, subgroup="region=Maule", reason="no_comparison_cells")
        + _each([CHL], HEADLINE, estimator=MATCHING, reason="no_comparison_firms"),
        recovers=_recover(CHL),
    ),
    Shape(
        "one_region",
        "A regional program: every beneficiary in one region, comparison firms nationwide.",
        _one_region,
        units=_each([CHL], HEADLINE, subgroup="region=Biobío"),
        recovers=_recover(CHL),
        audience="internal",
    ),
    Shape(
        "region_without_comparison",
        "A region with beneficiaries and no comparison firm (the sample missed it).",
        _region_without_comparison,
        units=_each([CHL], HEADLINE, subgroup="region=Antofagasta", reason="no_comparison_firms"),
        recovers=_recover(CHL),
    ),
    Shape(
        "entry_first_year",
        "Beneficiaries entering in the first year of data: all of one program, a cohort of "
        "another.",
        _entry_first_year,
        units=_each([CHL], HEADLINE, reason="no_pre_entry_year")
        + _each(
            [CHL],
            HEADLINE,
            estimator=MATCHING,
            reason=("no_pre_entry_year", "matching_no_baseline", "matching_no_covariates"),
        )
        + _each([CHL], ROI_METRICS, estimator=ROI, reason="no_pre_entry_year"),
        recovers=_recover(PER, BRA),
    ),
    Shape(
        "va_share_of_sales",
        "Value added imputed as a fixed share (30%) of sales, as some registers do.",
        _va_share_of_sales,
        units=_each(PROGRAMS, HEADLINE, estimator=MATCHING),
        recovers=_recover(*PROGRAMS) + tuple((p, "log_va_per_worker") for p in PROGRAMS),
        dropped_covariates=tuple((p, "collinear") for p in PROGRAMS),
        audience="internal",
    ),
    Shape(
        "zeros_in_sales",
        "Dormant years: 3% of firm-years report zero sales (and zero exports, value added, R&D).",
        _zeros_in_sales,
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "gaps_in_years",
        "A survey that misses firms some years: interior gaps, some right before entry.",
        _gaps_in_years,
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "two_programs_share_comparison",
        "Two programs of one agency evaluated against the same comparison firms.",
        _two_programs_share_comparison,
        recovers=_recover(CHL, PROVEE),
    ),
    Shape(
        "firm_in_two_programs",
        "Two programs sharing comparison firms, 24 firms served by both in the same year.",
        _firm_in_two_programs,
        recovers=_recover(CHL, PROVEE),
        audience="internal",
    ),
    Shape(
        "constant_outcome",
        "Exports recorded once and carried forward (constant within firms); R&D always zero.",
        _constant_outcome,
        units=_each(PROGRAMS, ["exporter"], reason="outcome_constant")
        + _each(PROGRAMS, ["rd_intensity"], reason="outcome_no_variation"),
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "no_budget_rows",
        "A program with no rows in the budgets file.",
        _no_budget_rows,
        units=_each([PER], ROI_METRICS, estimator=ROI),
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "spanish_cp1252",
        "A Chilean agency's Windows Excel exports: Spanish headers, cp1252, semicolons, "
        "decimal commas, dd/mm/yyyy, with mapping files; a Spanish internal edition.",
        _spanish_cp1252,
        units=_each([CHL], HEADLINE, subgroup="region=*", reason="too_few_beneficiaries"),
        recovers=_recover(CHL),
        language="es",
        audience="internal",
    ),
    Shape(
        "utf8_declared_cp1252",
        "The same export re-saved as UTF-8 while its mapping still says cp1252: refused.",
        _utf8_declared_cp1252,
        exit_code=2,
        error=("empresas.csv", "utf-8"),
        language="es",
    ),
    Shape(
        "program_200_10y",
        "An established program: 200 beneficiaries, ten years of outcomes.",
        _program_200_10y,
        units=_each([CHL], HEADLINE, subgroup="region=Región Metropolitana de Santiago"),
        recovers=_recover(CHL),
        max_se=0.05,
        pretrend_run=(CHL,),
    ),
    # --- beyond the issue's list
    Shape(
        "no_comparison_rows",
        "One program sent without any comparison sample rows (never-treated design).",
        _no_comparison_rows,
        in_issue=False,
        units=_each([BRA], HEADLINE, reason="no_comparison_firms")
        + _each([BRA], HEADLINE, estimator=MATCHING, reason="no_comparison_firms")
        + _each([BRA], ROI_METRICS, estimator=ROI, reason="no_comparison_firms"),
        recovers=_recover(CHL, PER),
    ),
    Shape(
        "biennial_outcomes",
        "Outcomes from a biennial survey: even years only, entry in any year.",
        _biennial_outcomes,
        in_issue=False,
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "firms_exit",
        "Heavy attrition: a third of firms close, some beneficiaries in their entry year.",
        _firms_exit,
        in_issue=False,
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "missing_regions",
        "One country's register has no region for any firm.",
        _missing_regions,
        in_issue=False,
        recovers=_recover(*PROGRAMS),
        audience="internal",
    ),
    Shape(
        "program_after_outcomes",
        "A program launched in 2025 while outcomes end in 2024.",
        _program_after_outcomes,
        in_issue=False,
        units=_each([NEW], HEADLINE, reason="no_post_entry_year")
        + _each(
            [NEW], HEADLINE, estimator=MATCHING, reason=("no_post_entry_year", "matching_no_window")
        )
        + _each([NEW], ROI_METRICS, estimator=ROI, reason="no_post_entry_year"),
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "negative_value_added",
        "Loss-making years: value added negative for 5% of firm-years (the contract allows it).",
        _negative_value_added,
        in_issue=False,
        units=_each(PROGRAMS, ["value_added_per_dollar"], estimator=ROI),
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "xlsx_several_sheets",
        "One workbook with a notes sheet first, then firms, outcomes and beneficiaries sheets.",
        _xlsx_several_sheets,
        in_issue=False,
        recovers=_recover(CHL),
    ),
    Shape(
        "empty_optional_columns",
        "Every optional outcome column present but empty (a template filled in part).",
        _empty_optional_columns,
        in_issue=False,
        units=_each(PROGRAMS, NOT_SUBMITTED_OUTCOMES, reason="outcome_not_submitted")
        + _each(PROGRAMS, ["value_added_per_dollar"], estimator=ROI, reason="outcome_not_submitted")
        + _each(PROGRAMS, HEADLINE, estimator=MATCHING),
        recovers=_recover(*PROGRAMS),
    ),
    Shape(
        "no_public_cost",
        "In-kind services: one program records no public cost per firm (all zero).",
        _no_public_cost,
        in_issue=False,
        units=_each([PER], ROI_METRICS, estimator=ROI, reason="no_public_cost")
        + _roi([CHL, BRA], ROI_METRICS),
        recovers=_recover(*PROGRAMS),
        audience="internal",
    ),
    Shape(
        "agency_configured",
        "An agency that configures its evaluation: an earnings level and an export share "
        "outcome, a covariate, its own matching covariates and subgroups.",
        _agency_configured,
        in_issue=False,
        units=_each([CHL], ["earnings", "export_share"])
        + _each([CHL], HEADLINE, estimator=MATCHING),
        recovers=_recover(CHL),
    ),
]
SHAPES: dict[str, Shape] = {s.name: s for s in _LIST}


def build(name: str, out_root: Path) -> Path:
    """Build one shape into `out_root/name` (emptied first); return its config path."""
    folder = Path(out_root) / name
    shutil.rmtree(folder, ignore_errors=True)
    return SHAPES[name].build(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.shapes", description="Build submission shapes of the matrix."
    )
    parser.add_argument("--out", type=Path, help="folder for the shape folders")
    parser.add_argument("--only", action="append", help="a shape's name (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the shapes and exit")
    args = parser.parse_args(argv)
    if args.list:
        for shape in _LIST:
            print(f"{shape.name:32} {shape.description}")
        return 0
    if args.out is None:
        parser.error("--out is required (the folder to build the shapes in)")
    names = args.only or list(SHAPES)
    unknown = [n for n in names if n not in SHAPES]
    if unknown:
        print(f"unknown shape {unknown[0]!r}; known: {', '.join(SHAPES)}", file=sys.stderr)
        return 2
    for name in names:
        config = build(name, args.out)
        print(f"{name}: mes-eval run --config {config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
