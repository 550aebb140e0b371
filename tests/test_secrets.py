"""Secrets stay secret: the pseudonymization key never reaches Prefect's database, a log,
an artifact or the warehouse; a key other than the warehouse's is refused before anything
loads (both engines, and at the CLI before Prefect starts); the key's sources have an
explicit precedence; the public demo key is only for demo data without a key file."""

from __future__ import annotations

import base64
import functools
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from flows import prefect_env
from flows import preflight as pf
from flows.cli import app
from flows.config import ConfigError, RunConfig, load_config
from schemas.pseudonym import DEMO_KEY, key_fingerprint, key_source
from warehouse.bulk import bulk_load_csv
from warehouse.db import open_warehouse
from warehouse.keys import KeyMismatchError
from warehouse.load import load_file

from .conftest import write_csv
from .test_warehouse import KEY, OUTCOME_HEADER, load_registry, outcome_row

runner = CliRunner()
OTHER_KEY = b"another key, also of sufficient length"
REFUSED = "differs from the one used for the warehouse's existing data"
LOADERS: dict[str, Callable[..., Any]] = {
    "pandas": functools.partial(load_file, engine="pandas"),
    "duckdb": bulk_load_csv,  # the bulk engine's own check, not load_file's
}
ENV = ("MES_EVAL_PSEUDONYM_KEY", "MES_EVAL_PSEUDONYM_KEY_FILE")


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def key_file(path: Path, key: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key + b"\n")  # a trailing newline, as an editor leaves it
    return path


def one_line(output: str) -> str:
    """The CLI's error line: exactly one line starting `error:`, no traceback."""
    lines = [line for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in output, output
    return errors[0]


def flat(text: str) -> str:
    """Help text as one line: rich wraps it in a box over several."""
    return " ".join(text.replace("│", " ").split())


# --- a changed key is refused, before anything is quarantined or loaded ------------------


def warehouse_state(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """Everything a load writes: loads, quarantine records, raw rows."""
    return tuple(
        con.execute(f"select count(*) from {table}").fetchall()[0][0]
        for table in ("meta.loads", "meta.quarantine", "raw.firms", "raw.outcomes")
    )


@pytest.mark.parametrize("engine", sorted(LOADERS))
def test_a_load_under_another_key_is_refused_by_both_engines(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path, engine: str
) -> None:
    load = LOADERS[engine]
    load_registry(fresh_db, tmp_path)  # macro, programs, firms F1-F3 under KEY
    fingerprints = dict(
        fresh_db.execute("select entity, key_fingerprint from meta.loads").fetchall()
    )
    # firms made pseudonyms: their key's fingerprint; macro and programs made none
    assert fingerprints == {"macro": None, "programs": None, "firms": key_fingerprint(KEY)}
    outcomes = write_csv(
        tmp_path / "outcomes.csv",
        OUTCOME_HEADER,
        [outcome_row(f, y, 1000) for f in ("F1", "F2", "F3") for y in (2019, 2020)],
    )
    # a corrected firms file (one firm more): under another key it would double every firm
    firms = write_csv(
        tmp_path / "firms_v2.csv",
        ["firm_id", "country", "region", "isic4", "founded_year"],
        [[f"F{i}", "CHL", None, "2511", 1999] for i in range(1, 5)],
    )
    before = warehouse_state(fresh_db)
    for path, entity in ((outcomes, "outcomes"), (firms, "firms")):
        with pytest.raises(KeyMismatchError, match=REFUSED) as refused:
            load(fresh_db, path, entity, key=OTHER_KEY)
        message = str(refused.value)
        assert "\n" not in message and message.startswith(f"{path.name}: ")
        assert key_fingerprint(KEY) in message and key_fingerprint(OTHER_KEY) in message
        assert KEY.decode() not in message and OTHER_KEY.decode() not in message
    assert warehouse_state(fresh_db) == before  # nothing quarantined, nothing loaded

    # the warehouse's own key loads the same files: every firm known, none doubled
    report = load(fresh_db, outcomes, "outcomes", key=KEY)
    assert (report.rows_loaded, report.rows_quarantined) == (6, 0)
    report = load(fresh_db, firms, "firms", key=KEY)
    assert report.rows_loaded == 4 and report.rows_superseded == 3
    current = fresh_db.execute(
        "select count(*) from raw.firms where _superseded_by is null"
    ).fetchall()[0][0]
    assert current == 4
    stored = fresh_db.execute(
        "select distinct key_fingerprint from meta.loads where key_fingerprint is not null"
    ).fetchall()
    assert stored == [(key_fingerprint(KEY),)]


def test_an_entity_without_firm_ids_does_not_depend_on_the_key(
    fresh_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_registry(fresh_db, tmp_path)
    rows = [["PER", y, 1e6, 100, 3.5] for y in (2019, 2020)]
    macro = write_csv(
        tmp_path / "macro_per.csv", ["country", "year", "gdp", "deflator", "lcu_per_usd"], rows
    )
    assert load_file(fresh_db, macro, "macro", key=OTHER_KEY).rows_loaded == 2


def test_the_fingerprint_reveals_nothing_and_tells_keys_apart() -> None:
    assert key_fingerprint(KEY) == key_fingerprint(KEY) != key_fingerprint(OTHER_KEY)
    assert len(key_fingerprint(KEY)) == 16
    for form in forms(KEY).values():
        assert form not in key_fingerprint(KEY).encode()


def registry_warehouse(tmp_path: Path) -> Path:
    """A warehouse whose firms were pseudonymized under KEY."""
    warehouse = tmp_path / "warehouse.duckdb"
    with open_warehouse(warehouse) as con:
        load_registry(con, tmp_path)
    return warehouse


def test_ingest_refuses_another_key_before_prefect_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.pipeline

    def no_flow(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ingest flow started")

    monkeypatch.setattr(flows.pipeline, "ingest_file", no_flow)
    warehouse = registry_warehouse(tmp_path)
    outcomes = write_csv(tmp_path / "outcomes.csv", OUTCOME_HEADER, [outcome_row("F1", 2019, 9)])
    other = key_file(tmp_path / "keys" / "other.key", OTHER_KEY)
    base = ["ingest", str(outcomes), "-e", "outcomes", "-w", str(warehouse)]
    for extra in ([], ["--dry-run"], ["--engine", "duckdb"]):
        result = runner.invoke(app, [*base, "--key-file", str(other), *extra])
        assert result.exit_code == 2, result.output
        line = one_line(result.output)
        assert REFUSED in line and f"key file {other} (--key-file)" in line
    # the key from the environment is refused alike
    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY", OTHER_KEY.decode())
    result = runner.invoke(app, base)
    assert result.exit_code == 2 and "MES_EVAL_PSEUDONYM_KEY (environment)" in one_line(
        result.output
    )
    with open_warehouse(warehouse, read_only=True) as con:
        assert con.execute("select count(*) from meta.quarantine").fetchall()[0][0] == 0


def dummy_config(folder: Path, name: str = "agency", **extra: Any) -> Path:
    """A config whose sources need not exist (the key is checked before them)."""
    config = {
        "warehouse": "warehouse.duckdb",
        "out_dir": "report",
        "sources": {name: f"data/{name}.csv" for name in ("macro", "programs", "firms")}
        | {name: f"data/{name}.csv" for name in ("program_budgets", "participations")}
        | {name: f"data/{name}.csv" for name in ("comparison_sample", "outcomes")},
        **extra,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_run_and_serve_refuse_another_key_in_their_checks(tmp_path: Path) -> None:
    registry_warehouse(tmp_path)
    other = key_file(tmp_path / "keys" / "other.key", OTHER_KEY)
    right = key_file(tmp_path / "keys" / "right.key", KEY)
    schedules = {"annual": {"cron": "0 6 1 3 *"}}
    config = dummy_config(tmp_path, pseudonym_key_file=str(other), schedules=schedules)
    for command in ("run", "serve"):
        with pytest.raises(KeyMismatchError, match=REFUSED):
            pf.preflight(command, config)  # type: ignore[arg-type]
        result = runner.invoke(app, [command, "--config", str(config)])
        assert result.exit_code == 2, result.output
        assert "(pseudonym_key_file in the config)" in one_line(result.output)
    # the synthetic demo key is not the warehouse's either
    synthetic = dummy_config(tmp_path, "demo", synthetic=True)
    result = runner.invoke(app, ["run", "--config", str(synthetic), "--dry-run"])
    assert result.exit_code == 2 and "the public demo key" in one_line(result.output)
    # --key-file wins over the config's: the right key passes the key check
    checked = pf.preflight("serve", config, key_file=right)
    assert checked.config.pseudonym_key_file == right.resolve()
    assert checked.config.pseudonym_key() == KEY
    # commands that load nothing need no key at all
    assert not os.environ.get("MES_EVAL_PSEUDONYM_KEY")
    assert pf.preflight("evaluate", dummy_config(tmp_path, "plain")).config.warehouse.exists()


# --- where the key comes from -------------------------------------------------------


def test_the_key_sources_have_an_explicit_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {name: f"the {name} key of enough bytes".encode() for name in ("cli", "cfg", "envf")}
    cli = key_file(tmp_path / "cli.key", keys["cli"])
    cfg = key_file(tmp_path / "cfg.key", keys["cfg"])
    envf = key_file(tmp_path / "envf.key", keys["envf"])
    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY_FILE", str(envf))
    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY", "the environment's key, long enough")

    source = key_source(cli, cfg)
    assert source.origin == "--key-file" and source.read() == keys["cli"]
    note = source.note()
    assert note == (
        f"Pseudonymization key: key file {cli} (--key-file); also set, not used: "
        "pseudonym_key_file in the config, MES_EVAL_PSEUDONYM_KEY_FILE, MES_EVAL_PSEUDONYM_KEY."
    )
    # the run names the source it used (ingest too: below)
    checked = pf.preflight(
        "serve",
        dummy_config(tmp_path, pseudonym_key_file=str(cfg), schedules={"a": {"cron": "0 6 1 3 *"}}),
        key_file=cli,
    )
    assert checked.notes == [note] and checked.config.pseudonym_key() == keys["cli"]
    assert key_source(None, cfg).read() == keys["cfg"]
    assert key_source(None, None).read() == keys["envf"]
    monkeypatch.delenv("MES_EVAL_PSEUDONYM_KEY_FILE")
    only_env = key_source(None, None)
    assert only_env.read() == b"the environment's key, long enough" and only_env.note() is None
    for source in (key_source(cli, cfg), only_env):  # what may be shown never holds the key
        shown = f"{source.describe()} {source.note()} {source!r}"
        assert not any(key.decode() in shown for key in keys.values())
        assert "the environment's key" not in shown

    outcomes = write_csv(tmp_path / "o.csv", OUTCOME_HEADER, [outcome_row("F1", 2019, 9)])
    warehouse = tmp_path / "none" / "w.duckdb"
    dry_run = ["ingest", str(outcomes), "-e", "outcomes", "-w", str(warehouse), "--dry-run"]
    result = runner.invoke(app, dry_run)
    assert result.exit_code == 0, result.output
    assert "Pseudonymization key" not in result.output  # one source set: nothing to name
    result = runner.invoke(app, [*dry_run, "--key-file", str(cli)])
    assert result.exit_code == 0, result.output
    assert (
        f"Pseudonymization key: key file {cli} (--key-file); also set, not used: "
        "MES_EVAL_PSEUDONYM_KEY." in flat(result.output)
    )


def test_the_help_of_every_command_that_takes_a_key_states_the_precedence() -> None:
    order = (
        "first found: --key-file, the config's pseudonym_key_file, "
        "MES_EVAL_PSEUDONYM_KEY_FILE, MES_EVAL_PSEUDONYM_KEY"
    )
    for command in ("run", "serve"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert order in flat(result.output), command
    result = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"})
    assert "first found: --key-file, MES_EVAL_PSEUDONYM_KEY_FILE, MES_EVAL_PSEUDONYM_KEY" in (
        flat(result.output)
    )
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    listed = [readme.index(s) for s in ("1. `--key-file", "2. `pseudonym_key_file`", "3. `MES_")]
    assert listed == sorted(listed)


def test_the_demo_key_is_only_for_demo_data_without_a_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = key_file(tmp_path / "own.key", KEY)
    base = {"warehouse": tmp_path / "w.duckdb", "out_dir": tmp_path / "r"}
    sources = {name: {"path": tmp_path / f"{name}.csv"} for name in ("macro", "programs")}
    sources |= {name: {"path": tmp_path / f"{name}.csv"} for name in ("firms", "outcomes")}
    sources |= {
        name: {"path": tmp_path / f"{name}.csv"}
        for name in ("program_budgets", "participations", "comparison_sample")
    }

    def config(**extra: Any) -> RunConfig:
        return RunConfig.model_validate({**base, "sources": sources, **extra})

    assert config(synthetic=True).pseudonym_key() == DEMO_KEY
    # a key file configured: its key, never the demo key, and the run says so
    with_file = config(synthetic=True, pseudonym_key_file=own)
    assert with_file.pseudonym_key() == KEY
    assert "not used: the public demo key" in (with_file.key_source().note() or "")
    # the environment's key is not spent on demo data (it is named as not used)
    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY", OTHER_KEY.decode())
    demo = config(synthetic=True)
    assert demo.pseudonym_key() == DEMO_KEY
    assert demo.key_source().ignored == ("MES_EVAL_PSEUDONYM_KEY",)
    # real data never fall back on the demo key
    assert config().pseudonym_key() == OTHER_KEY
    monkeypatch.delenv("MES_EVAL_PSEUDONYM_KEY")
    with pytest.raises(ConfigError, match="no pseudonymization key"):
        config().pseudonym_key()
    # `~` in the config's key file is the home folder, not a folder beside the config
    monkeypatch.setenv("HOME", str(tmp_path))
    path = dummy_config(tmp_path, pseudonym_key_file="~/own.key")
    assert load_config(path).pseudonym_key() == KEY


def test_a_failure_hook_is_not_handed_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.notify import notify_failure

    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY", OTHER_KEY.decode())
    seen = tmp_path / "env.txt"
    config = load_config(dummy_config(tmp_path, notify_command=f"env > {seen}"))
    notify_failure(config, "r1", "evaluation-run", "boom")
    text = seen.read_text()
    assert "MES_EVAL_RUN_RUN_ID=r1" in text and OTHER_KEY.decode() not in text


# --- nothing Prefect or a run keeps holds the key -----------------------------------------


def forms(secret: bytes) -> dict[str, bytes]:
    """The ways a key may be written down: as is, hex, base64 (standard and URL-safe, at
    each of the three alignments it could have inside a longer encoded text)."""
    out = {"raw": secret, "hex": secret.hex().encode(), "HEX": secret.hex().upper().encode()}
    for shift in range(3):
        for name, encode in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
            text = encode(b"\0" * shift + secret)
            # drop the characters that mix in the padding bytes or the unknown neighbours
            out[f"{name}+{shift}"] = text[(4 * shift + 2) // 3 + 1 : -4]
    return out


def files_holding(secret: bytes, roots: list[Path], skip: Path) -> list[str]:
    """Every file under `roots` (but under `skip`) holding one of the key's forms."""
    wanted = forms(secret)
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file() or path.is_relative_to(skip):
                continue
            data = path.read_bytes()
            found += [f"{path} ({name})" for name, form in wanted.items() if form in data]
    return found


def tables_holding(secret: bytes, warehouse: Path) -> list[str]:
    """Every warehouse column holding one of the key's forms (DuckDB compresses strings in
    its file, so the file's bytes alone would not show them)."""
    wanted = [form.decode() for form in forms(secret).values()]
    found = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, list(column_name) from information_schema.columns "
            "join information_schema.tables using (table_catalog, table_schema, table_name) "
            "where table_type = 'BASE TABLE' group by all"
        ).fetchall()
        for schema, table, names in columns:
            test = " or ".join(
                f'contains(cast("{name}" as varchar), ${i + 1})'
                for name in names
                for i in range(len(wanted))
            )
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" where {test}', wanted
            ).fetchall()[0][0]
            if hits:
                found.append(f"{schema}.{table}")
    return found


def prefect_database() -> Path:
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url
    assert url is not None
    return Path(url.get_secret_value().split(":///", 1)[1])


def wait_for_logs(database: Path, text: str, seconds: float = 60) -> None:
    """Prefect writes logs through its API in batches: wait until `text` is logged."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rows = db.execute("select count(*) from log where message like ?", [f"%{text}%"])
            if rows.fetchone()[0]:
                return
        time.sleep(0.5)
    raise AssertionError(f"no log line with {text!r} in {database}")


@pytest.mark.e2e
def test_no_trace_of_the_key_after_ingest_run_and_a_scheduled_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluation.synthetic import generate_demo
    from flows.demo_files import write_demo_files
    from flows.pipeline import deployments, scheduled_run

    file_key = secrets.token_hex(24).encode()
    env_key = secrets.token_urlsafe(30).encode()  # set too, loses to the key file
    secret = tmp_path / "secret"
    keyfile = key_file(secret / "pseudonym.key", file_key)
    monkeypatch.setenv("MES_EVAL_PSEUDONYM_KEY", env_key.decode())
    folder = tmp_path / "agency"
    paths = write_demo_files(generate_demo(seed=11, n_firms=500), folder / "data")
    past = time.time() - 3600  # settled files: no wait for a file still being written
    for path in paths.values():
        os.utime(path, (past, past))
    config_path = folder / "agency.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "warehouse": "warehouse.duckdb",
                "out_dir": "report",
                "pseudonym_key_file": str(keyfile),
                "chart_images": False,
                "evaluation": {"subgroups": [], "matching": False},
                "schedules": {"annual": {"cron": "0 6 1 3 *"}},
                "sources": {
                    k: str(p.relative_to(folder))
                    for k, p in paths.items()
                    if k not in ("true_effects", "true_att_simple", "planted_invalid")
                },
            }
        ),
        encoding="utf-8",
    )
    warehouse = folder / "warehouse.duckdb"

    # ingest: the key file given on the command line, the environment's key also set; as
    # the Prefect flow (`--in-prefect`), whose parameters Prefect stores
    ingest = ["ingest", str(paths["firms"]), "-e", "firms", "-w", str(warehouse)]
    result = runner.invoke(app, [*ingest, "--key-file", str(keyfile), "--in-prefect"])
    assert result.exit_code == 0, result.output
    assert "also set, not used: MES_EVAL_PSEUDONYM_KEY." in flat(result.output)
    # run: the config's key file (the same key: the warehouse's)
    result = runner.invoke(app, ["run", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    assert f"key file {keyfile} (pseudonym_key_file in the config)" in flat(result.output)
    # the scheduled path `serve` runs, with `serve --key-file`, and its deployments
    config = load_config(config_path)
    for deployment in deployments(config, config_path, keyfile):
        assert deployment.parameters == {
            "config_path": str(config_path.resolve()),
            "edition": "annual",
            "key_file": str(keyfile.resolve()),
        }
        deployment.apply()  # registered with the server, as `serve` does
    run_id = scheduled_run(str(config_path), "annual", key_file=str(keyfile))

    with duckdb.connect(str(warehouse), read_only=True) as con:
        fingerprints = con.execute(
            "select distinct key_fingerprint from meta.loads where key_fingerprint is not null"
        ).fetchall()
        runs = con.execute("select status from meta.runs order by started_at").fetchall()
    assert fingerprints == [(key_fingerprint(file_key),)]  # the file's key made them all
    assert runs == [("completed",), ("completed",)]

    # Prefect's database is where flows/prefect_env.py puts it: under PREFECT_HOME (which
    # the first import of flows.cli sets, possibly before tests/conftest.py's session home)
    database = prefect_database()
    prefect_home = Path(os.environ["PREFECT_HOME"]).expanduser().resolve()
    assert database.is_file() and database.resolve().is_relative_to(prefect_home)
    wait_for_logs(database, f"annual edition: run {run_id}")  # the last run's logs are in
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        ingest_parameters = db.execute(
            "select parameters from flow_run join flow on flow.id = flow_run.flow_id "
            "where flow.name = 'ingest-file' and parameters like ?",
            [f"%{keyfile}%"],
        ).fetchall()
        artifacts = db.execute("select count(*) from artifact").fetchone()[0]
    assert len(ingest_parameters) == 1 and '"key"' not in ingest_parameters[0][0]
    assert artifacts > 0

    # Prefect's database, results and logs; the CLI's error logs; warehouse, Data Docs, site
    roots = [prefect_home, prefect_env.home(), tmp_path]
    for key in (file_key, env_key):
        assert files_holding(key, roots, skip=secret) == []
        assert tables_holding(key, warehouse) == []

    # the scan finds a key that is passed as a parameter, as `ingest` used to pass it
    from prefect import flow

    @flow(name="secrets-canary")
    def canary(key: bytes) -> None:
        """A flow taking a key, as the ingest flow did."""

    leaked = secrets.token_hex(24).encode()
    canary(leaked)
    assert files_holding(leaked, [prefect_home], skip=secret)
