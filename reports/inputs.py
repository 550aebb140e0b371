"""Read what a site edition shows from the warehouse: one SQL file per question.

The SQL lives in `reports/queries/*.sql`, with DuckDB named parameters (`$run_id`,
`$period_end`, `$year`). Everything is fetched into pandas at once, so no result stays
open on the connection.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from reports.period import Period
from reports.quarantine import decision_log, listing
from reports.reasons import status_of
from warehouse.load import data_version

QUERIES = resources.files("reports") / "queries"
_PARAMETER = re.compile(r"\$([a-z_]+)")
# columns later migrations added (012: status and reasons), with what an older warehouse
# means by their absence
ADDED_COLUMNS: dict[str, dict[str, object]] = {
    "estimates": {
        "band_low": None,
        "band_high": None,
        "status": None,
        "reason": None,
        "reason_params": None,
        "pretrend_reason": None,
        "pretrend_reason_params": None,
        "unit": None,
        # 018: the family of whole-sample outcomes' p- and sharpened q-values
        "pvalue": None,
        "qvalue": None,
        # 024: the family's Romano-Wolf adjusted p-values
        "pvalue_rw": None,
    },
    "roi": {
        "status": None,
        "reason": None,
        "reason_params": None,
        # 014: each counterfactual figure on two scales, with its own pre-entry test
        "scale": None,
        "scale_choice": None,
        "pretrend_pvalue": None,
        "pretrend_passes": None,
        "pretrend_reason": None,
        "pretrend_reason_params": None,
    },
    "balance": {"dropped": None},
}


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """Run `queries/<name>.sql` with the named parameters it uses; return a DataFrame."""
    sql = (QUERIES / f"{name}.sql").read_text(encoding="utf-8")
    used = {p: params[p] for p in set(_PARAMETER.findall(sql))}
    return con.execute(sql, used).df() if used else con.sql(sql).df()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether a table exists (tables other helpers' migrations add may not yet)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(found[0][0])


def with_added_columns(frame: pd.DataFrame, name: str, *, shown: bool = True) -> pd.DataFrame:
    """The result of query `name` with the columns an older warehouse lacks, and the
    effective status of each estimate (`reports.reasons.status_of`). A figure estimated on
    two scales (`results.roi`) is published on the one chosen: its rows, or with
    `shown=False` the others (what internal editions show for comparison)."""
    if frame.empty and not len(frame.columns):
        return frame
    out = frame.copy()
    if "shown" in out:
        chosen = out["shown"].fillna(True).astype(bool)
        out = out[chosen if shown else ~chosen].drop(columns="shown").reset_index(drop=True)
    elif not shown:  # a warehouse from before the scales: nothing else was estimated
        out = out.iloc[0:0]
    for column, default in ADDED_COLUMNS.get(name, {}).items():
        if column not in out:
            out[column] = pd.Series([default] * len(out), index=out.index, dtype=object)
    if "status" in out and "estimate" in out:
        out["status"] = [
            status_of(s, e) for s, e in zip(out["status"], out["estimate"], strict=True)
        ]
    return out


def outcome_labels(specifications: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The agency's labels of its outcomes (`outcome_definitions` of the specifications),
    keyed as `Translator` codes: "outcome.<name>"."""
    labels: dict[str, str] = {}
    for spec in specifications.values():
        for definition in spec.get("outcome_definitions") or []:
            if isinstance(definition, dict) and definition.get("name") and definition.get("label"):
                labels.setdefault(f"outcome.{definition['name']}", str(definition["label"]))
    return labels


@dataclass(frozen=True)
class SiteInputs:
    """Everything one edition shows, read from the warehouse."""

    period: Period
    run_id: str
    run: dict[str, Any]  # the run's row in meta.runs, parameters parsed
    data_version: str
    warehouse: Path | None  # the warehouse file, to find Data Docs beside it
    programs: pd.DataFrame
    participations: pd.DataFrame  # spells started by the period's end
    population: pd.DataFrame
    budgets: pd.DataFrame
    estimates: pd.DataFrame  # empty in quarterly editions
    specification: dict[str, Any]  # the run's (the first program's, when they differ)
    specifications: dict[str, dict[str, Any]]  # each program's
    contributors: pd.DataFrame
    roi: pd.DataFrame  # the figures published (on the scale chosen)
    roi_other: pd.DataFrame  # the same figures on the other scale (internal editions)
    benchmarks: pd.DataFrame
    balance: pd.DataFrame
    self_reported: pd.DataFrame
    quarantine: pd.DataFrame
    loads: pd.DataFrame
    scorecard: pd.DataFrame | None  # None: the warehouse has no scorecard table yet
    # claims against records (results.claims, per program and measure) and the firm rows
    # behind them (results.claim_firms: firm-level, published in internal editions only);
    # empty in quarterly editions and for warehouses from before claims were checked
    claims: pd.DataFrame = field(default_factory=pd.DataFrame)
    claim_firms: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the agency's decisions on its rows that stand now (meta.decisions; internal editions)
    decisions: pd.DataFrame = field(default_factory=pd.DataFrame)
    # every rejected row of the current loads, as `mes-eval quarantine` lists it (internal)
    quarantine_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    # HonestDiD sensitivity of the headline effects (results.sensitivity; annual editions)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)


def _warehouse_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    rows = con.sql(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def read_site_inputs(con: duckdb.DuckDBPyConnection, run_id: str, period: Period) -> SiteInputs:
    """Read the registry, reach, spending, the run's results and the data-quality tables."""
    runs = run_query(con, "run", run_id=run_id)
    # steps run without the flow (tests, notebooks) log no run: its parameters are unknown
    run: dict[str, Any] = runs.iloc[0].to_dict() if len(runs) else {"run_id": run_id}
    run["parameters"] = json.loads(run["parameters"]) if run.get("parameters") else {}
    params = {"run_id": run_id, "period_end": period.end, "year": period.year}
    impact = period.annual  # quarterly editions carry monitoring figures only

    def results(name: str) -> pd.DataFrame:
        if not impact:
            return pd.DataFrame()
        return with_added_columns(run_query(con, name, **params), name)

    roi = run_query(con, "roi", **params) if impact else pd.DataFrame()

    spec = run_query(con, "specification", **params) if impact else pd.DataFrame()
    specifications = {
        str(program): json.loads(text) for program, text in spec.itertuples(index=False) if text
    }
    specification: dict[str, Any] = next(iter(specifications.values()), {})
    scorecard = (
        run_query(con, "scorecard", **params) if table_exists(con, "meta", "scorecard") else None
    )
    checked = impact and table_exists(con, "results", "claims")
    claims = run_query(con, "claims", **params) if checked else pd.DataFrame()
    claim_firms = run_query(con, "claim_firms", **params) if checked else pd.DataFrame()
    return SiteInputs(
        period=period,
        run_id=run_id,
        run=run,
        data_version=data_version(con),
        warehouse=_warehouse_path(con),
        programs=run_query(con, "programs"),
        participations=run_query(con, "participations", **params),
        population=run_query(con, "population", **params),
        budgets=run_query(con, "budgets", **params),
        estimates=results("estimates"),
        specification=specification,
        specifications=specifications,
        contributors=results("contributors"),
        roi=with_added_columns(roi, "roi"),
        roi_other=with_added_columns(roi, "roi", shown=False),
        benchmarks=run_query(con, "benchmarks"),
        balance=results("balance"),
        self_reported=results("self_reported_firms"),
        quarantine=run_query(con, "quarantine"),
        loads=run_query(con, "loads"),
        scorecard=scorecard,
        claims=claims,
        claim_firms=claim_firms,
        decisions=decision_log(con),
        quarantine_rows=listing(con).records,
        sensitivity=(
            run_query(con, "sensitivity", **params)
            if impact and table_exists(con, "results", "sensitivity")
            else pd.DataFrame()
        ),
    )
