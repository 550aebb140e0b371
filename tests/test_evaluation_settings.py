"""The agency configures its evaluation: outcomes, covariates, cells, windows, estimators,
globally and per program, with one-line errors that list what is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from evaluation.impact import EvaluationSpec
from flows.config import ConfigError, load_config


def config(tmp_path: Path, evaluation: dict[str, Any] | None = None, **extra: Any) -> Path:
    raw = {
        "warehouse": "w.duckdb",
        "out_dir": "report",
        "sources": {
            name: f"{name}.csv"
            for name in (
                "macro",
                "programs",
                "firms",
                "program_budgets",
                "participations",
                "comparison_sample",
                "outcomes",
            )
        },
        **extra,
    }
    if evaluation is not None:
        raw["evaluation"] = evaluation
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def error(tmp_path: Path, evaluation: dict[str, Any], **extra: Any) -> str:
    with pytest.raises(ConfigError) as exc:
        load_config(config(tmp_path, evaluation, **extra))
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_defaults_stay_what_they_were(tmp_path: Path) -> None:
    run = load_config(config(tmp_path))
    spec = run.evaluation_spec()
    assert spec.to_json() == EvaluationSpec(price_base_year=2020).to_json()
    assert spec.outcomes[:2] == ("log_sales", "log_employment") and len(spec.outcomes) == 7
    assert spec.estimators == ("callaway_santanna", "matching_did", "imputation")
    assert spec.matching_covariates == ("log_employment", "log_sales", "log_va_per_worker")
    assert spec.matching_exact == ("sector",) and spec.matching_caliper == 0.2
    assert (spec.matching_pre_window, spec.matching_post_window) == ((-3, -1), (0, 3))


def test_everything_an_agency_can_choose(tmp_path: Path) -> None:
    run = load_config(
        config(
            tmp_path,
            {
                "outcomes": [
                    "log_sales",
                    {"name": "earnings", "column": "wage_bill", "transform": "level"},
                    {
                        "name": "log_exports",
                        "column": "exports",
                        "transform": "log",
                        "zeros": "log1p",
                    },
                    {
                        "name": "capital_intensity",
                        "column": "capital",
                        "transform": "share",
                        "per": "sales",
                    },
                ],
                "estimators": ["callaway_santanna", "matching_did"],
                "control_group": "notyettreated",
                "anticipation": 1,
                "base_period": "universal",
                "covariates": ["sector", "log_employment"],
                "subgroups": ["region", "country"],
                "matching": {
                    "covariates": ["log_sales", "founded_year"],
                    "exact": ["country", "sector"],
                    "caliper": 0.1,
                    "pre_window": [-2, -1],
                    "post_window": [0, 2],
                },
                "programs": {
                    "PER-VOUCHER": {
                        "outcomes": ["log_employment"],
                        "estimators": ["callaway_santanna"],
                    }
                },
            },
        )
    )
    spec = run.evaluation_spec()
    assert spec.outcomes == ("log_sales", "earnings", "log_exports", "capital_intensity")
    units = {d.name: d.unit for d in spec.evaluated}
    assert units == {
        "log_sales": "pct",
        "earnings": "usd",
        "log_exports": "pct",
        "capital_intensity": "pp",
    }
    assert spec.control_group == "notyettreated" and spec.anticipation == 1
    assert spec.matching_exact == ("country", "sector") and spec.matching_caliper == 0.1
    assert spec.matching_pre_window == (-2, -1)
    voucher = run.evaluation_spec("PER-VOUCHER")
    assert voucher.outcomes == ("log_employment",) and not voucher.matching
    assert voucher.control_group == "notyettreated"  # the rest is inherited
    stored = json.loads(voucher.to_json())
    assert stored["outcome_definitions"][0]["name"] == "log_employment"


def test_older_matching_switches_still_work(tmp_path: Path) -> None:
    off = load_config(config(tmp_path, {"matching": False})).evaluation_spec()
    assert off.estimators == ("callaway_santanna", "imputation") and not off.matching
    wider = load_config(config(tmp_path, {"matching_caliper": 0.5})).evaluation_spec()
    assert wider.matching_caliper == 0.5 and wider.matching


@pytest.mark.parametrize(
    ("evaluation", "expected"),
    [
        ({"outcomes": ["log_profits"]}, "unknown outcome 'log_profits'; built-in: log_sales"),
        (
            {"outcomes": [{"name": "x", "column": "profits"}]},
            "'x' uses column 'profits', which is not a numeric outcomes column; allowed: "
            "employment, sales",
        ),
        (
            {"outcomes": [{"name": "x", "column": "rd_spend", "transform": "share"}]},
            "transform share needs `per`",
        ),
        (
            {"outcomes": [{"name": "log_sales", "column": "sales", "transform": "log"}]},
            "'log_sales' is a built-in outcome",
        ),
        ({"outcomes": ["log_sales", "log_sales"]}, "'log_sales' is listed twice"),
        ({"subgroups": ["colour"]}, "evaluation.subgroups: unknown 'colour'; allowed: size_class"),
        ({"covariates": ["turnover"]}, "evaluation.covariates: unknown 'turnover'; allowed:"),
        ({"matching": {"exact": ["isic"]}}, "evaluation.matching.exact: unknown 'isic'"),
        (
            {"matching": {"covariates": ["sector"]}},
            "evaluation.matching.covariates: unknown 'sector'",
        ),
        ({"matching": {"pre_window": [-1, -3]}}, "windows need pre_window [a, b]"),
        ({"estimators": ["synthetic_control"]}, "estimators.0"),
        ({"control_group": "everyone"}, "control_group"),
        (
            {"programs": {"P": {"outcomes": ["nope"]}}},
            "programs.P: unknown outcome 'nope'",
        ),
        (
            {"programs": {"P": {"subgroups": ["colour"]}}},
            "evaluation.programs.P.subgroups: unknown 'colour'",
        ),
        (
            {"programs": {"P": {"matching_windows": 3}}},
            "programs.P: matching_windows: Extra inputs are not permitted",
        ),
    ],
)
def test_a_wrong_setting_is_one_line_that_lists_what_is_allowed(
    tmp_path: Path, evaluation: dict[str, Any], expected: str
) -> None:
    assert expected in error(tmp_path, evaluation)
