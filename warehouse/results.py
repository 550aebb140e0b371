"""Store impact estimates, each tagged with the run and input data version behind it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import duckdb
import pandas as pd

from evaluation.claims import Claims
from evaluation.spec import ProgramImpact
from warehouse.db import transaction


def _of_program(program_id: str | None) -> tuple[str, list[str]]:
    """A where clause keeping one program's rows (all rows when None), and its parameter."""
    return ("", []) if program_id is None else (" where program_id = ?", [program_id])


def read_evaluation_panel(
    con: duckdb.DuckDBPyConnection, program_id: str | None = None
) -> pd.DataFrame:
    """The evaluation panel mart, one row per program, firm and year; one program's rows
    when `program_id` is given (what the estimate step holds in memory at a time)."""
    where, params = _of_program(program_id)
    return con.execute(
        f"select * from marts.mart_evaluation_panel{where} order by program_id, firm_id, year",
        params,
    ).df()


def read_self_reported(
    con: duckdb.DuckDBPyConnection, program_id: str | None = None
) -> pd.DataFrame:
    """Gross self-reported results per program (empty when no client survey was loaded)."""
    where, params = _of_program(program_id)
    return con.execute(f"select * from marts.mart_self_reported{where}", params).df()


def read_clients(con: duckdb.DuckDBPyConnection, program_id: str | None = None) -> pd.DataFrame:
    """Each program's beneficiaries with their client survey answers (one row per
    beneficiary and answer; no answer: empty survey_date): what claims are checked on
    (`evaluation.claims`). Without a client survey, every beneficiary has no answer."""
    where, params = _of_program(program_id)
    return con.execute(
        "select treatment.program_id, treatment.firm_id, treatment.cohort, "
        "survey.survey_date, survey.new_sales_usd, survey.retained_sales_usd, "
        "survey.jobs_created, survey.jobs_retained "
        "from staging.stg_treatment as treatment "
        "left join staging.stg_client_survey as survey using (firm_id, program_id)"
        + where.replace("program_id", "treatment.program_id")
        + " order by treatment.program_id, treatment.firm_id, survey.survey_date",
        params,
    ).df()


def program_input_versions(
    panel: pd.DataFrame,
    self_reported: pd.DataFrame,
    specification: str | dict[str, str],
    clients: pd.DataFrame | None = None,
) -> dict[str, str]:
    """Per program, a SHA-256 of everything its estimates rest on: its rows of the
    evaluation panel (values, column names and types), its self-reported results, its
    beneficiaries' survey answers (`read_clients`, what its claims rest on) and the
    specification (one for all programs, or one per program id). Equal versions give equal
    estimates, so they key the result cache."""
    versions = {}
    for program_id, rows in panel.groupby("program_id", sort=True):
        spec = specification if isinstance(specification, str) else specification[program_id]
        digest = hashlib.sha256(spec.encode())
        # the mart's sums of survey money are parallel float sums whose last bits vary
        # between rebuilds: a hundredth of a cent is what the cache tells apart
        survey = self_reported[self_reported["program_id"] == program_id].round(4)
        parts = [rows, survey]
        if clients is not None:
            parts.append(clients[clients["program_id"] == program_id])
        for part in parts:
            part = part.reset_index(drop=True)
            digest.update(repr([(c, str(t)) for c, t in part.dtypes.items()]).encode())
            digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        versions[str(program_id)] = digest.hexdigest()
    return versions


def find_cached_program(
    con: duckdb.DuckDBPyConnection, program_id: str, input_version: str
) -> str | None:
    """The latest run that estimated `program_id` on the same inputs, if any."""
    rows = con.execute(
        "select run_id from results.estimates where program_id = ? and input_version = ? "
        "order by created_at desc limit 1",
        [program_id, input_version],
    ).fetchall()
    return rows[0][0] if rows else None


RESULT_TABLES = (
    "results.estimates",
    "results.att_gt",
    "results.roi",
    "results.balance",
    "results.claims",
    "results.claim_firms",
    "results.sensitivity",
)
# the tables with a created_at column
STAMPED = ("results.estimates", "results.roi", "results.sensitivity")


def save_run_results(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    data_version: str,
    impact: ProgramImpact | None,
    input_versions: dict[str, str],
    reused: dict[str, str],
    claims: Claims | None = None,
) -> None:
    """Store a run's results in one transaction: the programs it estimated (`impact`) and,
    for each program in `reused`, the results of the earlier run named there, and the
    claims against records computed for the run (`flows.estimation`, per program)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        for program_id, from_run in sorted(reused.items()):
            for table in RESULT_TABLES:
                # stamped now, so the latest run is the one a later run reuses
                stamp = ", ?::timestamp as created_at" if table in STAMPED else ""
                con.execute(
                    f"insert into {table} by name select * replace (?::varchar as run_id{stamp}) "
                    f"from {table} where run_id = ? and program_id = ?",
                    [run_id, *([now] if stamp else []), from_run, program_id],
                )
        if impact is not None:
            _insert_impact(con, impact, run_id, data_version, input_versions)
        if claims is not None:
            for table, frame in (
                ("results.claims", claims.programs),
                ("results.claim_firms", claims.firms),
            ):
                _insert(con, table, frame.assign(run_id=run_id))


def _insert_impact(
    con: duckdb.DuckDBPyConnection,
    impact: ProgramImpact,
    run_id: str,
    data_version: str,
    input_versions: dict[str, str],
) -> None:
    stamp = {
        "run_id": run_id,
        "data_version": data_version,
        "created_at": datetime.now(UTC).replace(tzinfo=None),
    }
    frames = {
        "results.estimates": impact.estimates.assign(
            **stamp, input_version=impact.estimates["program_id"].map(input_versions)
        ),
        "results.att_gt": impact.att_gt.assign(run_id=run_id),
        "results.roi": impact.roi.assign(**stamp),
        "results.balance": impact.balance.assign(run_id=run_id),
    }
    robustness = impact.sensitivity
    if len(robustness):  # (none when the Callaway-Sant'Anna estimator is off)
        frames["results.sensitivity"] = robustness.assign(
            **stamp, input_version=robustness["program_id"].map(input_versions)
        )
    for table, frame in frames.items():
        _insert(con, table, frame)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if not len(frame):
        return
    con.register("new_results", frame)
    try:
        con.execute(f"insert into {table} by name select * from new_results")
    finally:
        con.unregister("new_results")


def read_run_results(
    con: duckdb.DuckDBPyConnection, run_id: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's estimates and ROI, as stored."""
    estimates = con.execute("select * from results.estimates where run_id = ?", [run_id]).df()
    roi = con.execute("select * from results.roi where run_id = ?", [run_id]).df()
    return estimates, roi
