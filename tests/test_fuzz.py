"""The fuzz corpus (tests/fuzz.py) in CI: every mutation alone on every entity, through
both engines, and a few variants through `mes-eval ingest` with Prefect's state scanned.
The full corpus (500 variants, mixes of mutations) is in benchmarks/README.md."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from .fuzz import ENTITIES, MUTATIONS, Variant, build_base, run_corpus, summary, write_variant
from .test_secrets import prefect_database
from .test_warehouse import KEY

SAMPLE = len(MUTATIONS) * len(ENTITIES)  # every mutation alone, on every entity


def test_every_mutation_on_every_entity_loads_or_is_refused_cleanly() -> None:
    results = run_corpus(SAMPLE)
    report = summary(results)
    assert all(not r.problems for r in results), report
    statuses = {o.status for r in results for o in r.outcomes}
    # the corpus is not vacuous: files are loaded with quarantined rows, and refused
    assert {"loaded", "refused"} <= statuses, report
    quarantined = sum(o.counts[2] for r in results for o in r.outcomes if o.counts)
    assert quarantined > SAMPLE, report


@pytest.mark.e2e
def test_no_raw_identifier_in_prefect_state_or_output_after_ingests(tmp_path: Path) -> None:
    from flows.cli import app

    base = build_base(tmp_path / "base")
    key = tmp_path / "pseudonym.key"
    key.write_bytes(KEY)
    runner = CliRunner()
    outputs = []
    picks = [
        Variant(0, "firms", ("stray_quote_pair",)),
        Variant(1, "firms", ("extra_delimiter", "unclosed_quote")),
        Variant(2, "outcomes", ("drop_delimiter", "odd_numbers")),
    ]
    for variant in picks:
        folder = tmp_path / variant.name
        folder.mkdir()
        path = write_variant(base, variant, folder)
        # the flows themselves (not the flow-less default), so that Prefect records them
        for extra in (["--dry-run"], ["--in-prefect"]):
            result = runner.invoke(
                app,
                [
                    "ingest",
                    str(path),
                    "--entity",
                    variant.entity,
                    "--warehouse",
                    str(base.warehouse),
                    "--key-file",
                    str(key),
                    *extra,
                ],
                env={k: v for k, v in os.environ.items() if not k.startswith("MES_EVAL_PSEUDO")},
            )
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    printed = "\n".join(outputs)
    assert "quarantined" in printed
    assert [i for i in base.raw_ids if i in printed] == []
    # Prefect's database (flow and task parameters, logs, states) and every file beside it
    database = prefect_database()
    home = database.parent
    leaked, recorded = [], False
    for path in [p for p in home.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        leaked += [f"{path.name}: {i}" for i in base.raw_ids if i.encode() in data]
        recorded |= picks[-1].name.encode() in data  # the ingest flows' own parameters
    assert recorded, f"no trace of the ingest flows under {home}: the scan would prove nothing"
    assert leaked == []
