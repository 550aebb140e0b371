"""The run log: every run, its parameters, inputs, code version, outcome and duration."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# what computes a published figure: its code identifies a version, with or without git
CODE_PACKAGES = ("reports", "evaluation", "warehouse", "schemas", "flows")
CODE_SUFFIXES = (".py", ".sql", ".html", ".css", ".yml", ".yaml")


@cache
def code_version() -> str:
    """The one version string of the run log, the cache keys, the audit, the Prefect
    artifacts and every edition's footer, so an auditor can match a published edition to
    its run: the package version plus

    * ``g<commit>`` for a git checkout whose code is its commit's (`git status` clean);
    * ``g<commit>.dirty.<hash>`` for a checkout with uncommitted changes: the commit it
      started from, marked dirty, and a hash of the code's content (the commit alone would
      not identify what ran);
    * ``<hash>`` alone for an installed copy, which has no git.

    (Cached: the code does not change within a process.)"""
    digest = hashlib.sha256()
    roots = []
    for package in CODE_PACKAGES:
        try:
            root = Path(str(resources.files(package)))
        except ModuleNotFoundError:
            continue
        roots.append(root)
        for path in sorted(root.rglob("*")):
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root.parent)).encode())
                digest.update(path.read_bytes())
    try:
        version = metadata.version("mes-eval")
    except metadata.PackageNotFoundError:
        version = "0"
    content = digest.hexdigest()[:10]
    commit = _git_commit(roots)
    if commit is None:
        return f"{version}+{content}"
    sha, dirty = commit
    return f"{version}+g{sha}.dirty.{content}" if dirty else f"{version}+g{sha}"


def _git_commit(roots: list[Path]) -> tuple[str, bool] | None:
    """(short commit, whether the code's files differ from it) when the packages are in a
    git checkout (all in the same one), else None."""
    import subprocess

    if not roots:
        return None
    top = roots[0].parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(top), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    toplevel = git("rev-parse", "--show-toplevel")
    if toplevel is None or Path(toplevel).resolve() != top.resolve():
        return None  # not a checkout of this project (an install inside another repo)
    sha = git("rev-parse", "--short=10", "HEAD")
    changes = git("status", "--porcelain", "--", *(r.name for r in roots))
    if not sha or changes is None:
        return None
    return sha, bool(changes)


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, flow: str, parameters: dict[str, Any]
) -> None:
    """Record that a run started."""
    con.execute(
        "insert into meta.runs (run_id, flow, started_at, status, parameters, code_version, pid) "
        "values (?, ?, ?, 'running', ?, ?, ?)",
        [run_id, flow, _now(), json.dumps(parameters, default=str), code_version(), os.getpid()],
    )


def close_interrupted_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Mark the runs still `running` as failed, with the reason; their ids.

    Call it holding the warehouse's writer lock (`warehouse.lock`), before recording a new
    run: every run holds that lock from start to end and the kernel releases it when its
    process dies, so a run still `running` then belongs to a process that was killed (or
    lost its machine) before it could record how it ended. Left alone it would stay
    `running` in the history forever."""
    stale = con.execute(
        "select run_id, pid from meta.runs where status = 'running' order by started_at"
    ).fetchall()
    for run_id, pid in stale:
        process = f"process {pid}" if pid is not None else "its process"
        con.execute(
            "update meta.runs set status = 'failed', message = ? where run_id = ?",
            [f"interrupted ({process} no longer running; the run did not finish)", run_id],
        )
    return [run_id for run_id, _ in stale]


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    message: str | None = None,
    *,
    row_counts: list[dict[str, Any]] | None = None,
    cached: bool | None = None,
) -> None:
    """Record how a run ended (completed, or failed with the reason) and what it used."""
    inputs = con.execute(
        "select entity, list(content_sha256 order by sequence) from meta.loads group by entity"
    ).fetchall()
    con.execute(
        "update meta.runs set finished_at = ?, status = ?, message = ?, input_versions = ?, "
        "row_counts = ?, cached = ?, duration_seconds = date_diff('millisecond', started_at, ?) / 1000.0 "
        "where run_id = ?",
        [
            _now(),
            status,
            message,
            json.dumps(dict(inputs)),
            json.dumps(row_counts) if row_counts is not None else None,
            cached,
            _now(),
            run_id,
        ],
    )


def record_wall_time(con: duckdb.DuckDBPyConnection, run_id: str, seconds: float) -> None:
    """Record a run's duration as its user saw it (the command's whole time, start-up
    included) beside the flow's own `duration_seconds`."""
    con.execute("update meta.runs set wall_seconds = ? where run_id = ?", [seconds, run_id])


def run_history(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pd.DataFrame:
    """The latest runs, newest first."""
    return con.execute(
        "select run_id, flow, status, started_at, duration_seconds, wall_seconds, cached, "
        "code_version, message "
        "from meta.runs order by started_at desc limit ?",
        [limit],
    ).df()
