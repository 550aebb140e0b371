"""Power and MDE for planning (evaluation.power) and the `mes-eval plan` command."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from evaluation import power as pw
from flows.cli import app

runner = CliRunner()
YEARS = np.arange(2010, 2020)


def comparison_panel(
    n_firms: int, *, rho: float, sigma: float, seed: int, missing: float = 0.0
) -> pd.DataFrame:
    """Never-treated firms: firm effect + year effect + AR(1) noise of variance sigma^2."""
    rng = np.random.default_rng(seed)
    noise = np.empty((n_firms, len(YEARS)))
    noise[:, 0] = rng.normal(0, sigma, n_firms)
    for t in range(1, len(YEARS)):
        noise[:, t] = rho * noise[:, t - 1] + rng.normal(0, sigma * np.sqrt(1 - rho**2), n_firms)
    y = rng.normal(0, 1, n_firms)[:, None] + np.linspace(0, 0.5, len(YEARS))[None, :] + noise
    y[rng.random(y.shape) < missing] = np.nan
    return pd.DataFrame(
        {
            "firm_id": np.repeat([f"f{i}" for i in range(n_firms)], len(YEARS)),
            "year": np.tile(YEARS, n_firms),
            "cohort": 0,
            "outcome": y.ravel(),
        }
    )


def var_d(rho: float, sigma: float, m: int, r: int) -> float:
    """Var(mean post - mean pre) of AR(1) noise: a' Sigma a on a Toeplitz Sigma."""
    idx = np.arange(m + r)
    sigma_matrix = sigma**2 * rho ** np.abs(idx[:, None] - idx[None, :])
    a = np.r_[np.full(m, -1 / m), np.full(r, 1 / r)]
    return float(a @ sigma_matrix @ a)


def design(m: int, r: int, sizes: tuple[int, ...] = (60, 60), controls: int = 600) -> pw.Design:
    return pw.Design(
        cohorts=(2014, 2015)[: len(sizes)],
        treated=tuple(float(s) for s in sizes),
        controls=float(controls),
        pre_years=m,
        post_years=r,
    )


def test_iid_noise_gives_the_closed_form() -> None:
    panel = comparison_panel(3000, rho=0.0, sigma=0.5, seed=1)
    components = pw.variance_components(panel)
    one = design(2, 3, sizes=(100,), controls=400)
    the_plan = pw.plan(components, one)
    # BPW with psi = 0: Var(d) = sigma^2 (1/m + 1/r); one cohort: x (1/N_T + 1/N_C)
    assert the_plan.bracket == pytest.approx(0.25 * (1 / 2 + 1 / 3), rel=0.05)
    expected_se = np.sqrt(0.25 * (1 / 2 + 1 / 3) * (1 / 100 + 1 / 400))
    assert the_plan.se() == pytest.approx(expected_se, rel=0.05)
    assert pw.mde(the_plan) == pytest.approx(2.8016 * the_plan.se(), rel=1e-3)
    assert the_plan.treated_factor == pytest.approx(1.0)  # nothing missing, nobody exits


def test_the_bpw_bracket_is_the_variogram_contrast_for_ar1_noise() -> None:
    panel = comparison_panel(3000, rho=0.6, sigma=0.5, seed=2)
    components = pw.variance_components(panel)
    the_plan = pw.plan(components, design(3, 3))
    assert the_plan.bracket == pytest.approx(var_d(0.6, 0.5, 3, 3), rel=0.06)
    parts = (the_plan.sigma2, the_plan.psi_pre, the_plan.psi_post, the_plan.psi_cross)
    assert pw.bpw_bracket(*parts, 3, 3) == pytest.approx(the_plan.bracket)
    # with 3 + 3 years, the iid formula would understate this noise by a fifth (BPW's point)
    assert the_plan.bracket > 1.2 * 0.25 * (1 / 3 + 1 / 3)


@pytest.mark.parametrize(("rho", "missing"), [(0.0, 0.0), (0.6, 0.1)])
def test_stated_power_matches_a_monte_carlo_on_the_panel(rho: float, missing: float) -> None:
    # a large pool: the variogram is estimated on all years, the placebo windows use a few
    panel = comparison_panel(3000, rho=rho, sigma=0.5, seed=3, missing=missing)
    components = pw.variance_components(panel)
    planned = design(2, 3, sizes=(100, 100), controls=1500)
    the_plan = pw.plan(components, planned)
    mde = pw.mde(the_plan)
    simulated = pw.placebo_power(panel, planned, [0.0, mde], reps=1000, seed=4)
    size, at_mde = simulated["power"]
    assert pw.power(the_plan, mde) == pytest.approx(0.80, abs=1e-6)
    assert at_mde == pytest.approx(0.80, abs=0.04)  # 3 Monte Carlo SEs
    assert size == pytest.approx(0.05, abs=0.025)
    assert simulated["mean_se"].iloc[0] == pytest.approx(the_plan.se(), rel=0.05)


def test_required_n_inverts_power() -> None:
    panel = comparison_panel(600, rho=0.5, sigma=0.4, seed=5, missing=0.05)
    the_plan = pw.plan(pw.variance_components(panel), design(1, 3, controls=300))
    effect = 0.08
    treated, controls = pw.required_n(the_plan, effect)
    assert controls == pytest.approx(treated * 300 / 120, abs=1)  # the ratio is kept
    reached = pw.power(the_plan, effect, treated=treated, controls=controls)
    short = pw.power(the_plan, effect, treated=treated - 1, controls=(treated - 1) * 2.5)
    assert reached >= 0.80 > short
    assert pw.mde(the_plan, treated=treated, controls=treated * 2.5) == pytest.approx(
        effect, rel=0.01
    )


def test_pretrend_power_grows_with_the_slope() -> None:
    panel = comparison_panel(600, rho=0.5, sigma=0.4, seed=6)
    components = pw.variance_components(panel)
    the_plan = pw.plan(components, design(1, 3))
    powers = [pw.pretrend_power(components, the_plan, s, leads=3) for s in (0, 0.01, 0.03, 0.1)]
    assert powers[0] == pytest.approx(0.05)
    assert powers == sorted(powers) and powers[-1] > 0.99
    slope_50 = pw.pretrend_slope(components, the_plan, 0.5, leads=3)
    slope_80 = pw.pretrend_slope(components, the_plan, 0.8, leads=3)
    assert 0 < slope_50 < slope_80
    assert pw.pretrend_power(components, the_plan, slope_80, leads=3) == pytest.approx(0.8)
    with pytest.raises(pw.PowerError, match="two pre-entry years"):
        pw.pretrend_slope(components, the_plan, 0.8, leads=0)


def write_warehouse(path: Path, panel: pd.DataFrame | None) -> Path:
    """A warehouse file holding only the evaluation panel mart (or nothing)."""
    con = duckdb.connect(str(path))
    if panel is not None:
        con.execute("create schema marts")
        con.register("panel", panel)
        con.execute("create table marts.mart_evaluation_panel as select * from panel")
    con.close()
    return path


def demo_like_panel(first_cohort: int = 2014) -> pd.DataFrame:
    panel = comparison_panel(300, rho=0.5, sigma=0.3, seed=7).rename(
        columns={"outcome": "log_sales"}
    )
    treated = comparison_panel(40, rho=0.5, sigma=0.3, seed=8).rename(
        columns={"outcome": "log_sales"}
    )
    treated["firm_id"] = "t" + treated["firm_id"]
    treated["cohort"] = np.where(
        treated["firm_id"].str[2:].astype(int) % 2 == 0, first_cohort, 2016
    )
    return pd.concat([panel, treated]).assign(program_id="P1", log_employment=0.5)


def test_plan_prints_an_mde_per_program_and_writes_the_chart(tmp_path: Path) -> None:
    warehouse = write_warehouse(tmp_path / "w.duckdb", demo_like_panel())
    out = tmp_path / "plan.html"
    result = runner.invoke(
        app, ["plan", "-w", str(warehouse), "--effect", "0.1", "--years", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "MDE at 80%" in result.output and "P1" in result.output
    assert "plotly" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--program", "NOPE"], "unknown program 'NOPE'; programs: P1"),
        (["--outcome", "nope"], "unknown outcome 'nope'; outcomes of the panel: log_sales"),
        (["--out", "plan.png"], "name it .html"),
    ],
)
def test_wrong_options_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    warehouse = write_warehouse(tmp_path / "w.duckdb", demo_like_panel())
    result = runner.invoke(app, ["plan", "-w", str(warehouse), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_no_data_and_no_pre_periods_are_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = write_warehouse(tmp_path / "empty.duckdb", None)
    result = runner.invoke(app, ["plan", "-w", str(empty)])
    assert result.exit_code == 2 and "no evaluation panel in this warehouse" in result.output
    panel = demo_like_panel()
    panel.loc[panel["cohort"] > 0, "cohort"] = 2010  # every beneficiary entered in year one
    late = write_warehouse(tmp_path / "late.duckdb", panel)
    result = runner.invoke(app, ["plan", "-w", str(late), "--program", "P1"])
    assert result.exit_code == 2, result.output
    assert "no beneficiary has a pre-entry year" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(app, ["plan", "-w", str(tmp_path / "missing.duckdb")])
    assert result.exit_code == 2 and "no warehouse here" in result.output
