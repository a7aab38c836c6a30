"""The mitigation planner: hand examples, agreement with stockpile sizing, bad option tables."""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd
import pytest

import supplygraph as sg
from supplygraph.analysis.mitigation import mitigate
from supplygraph.errors import InputError


def opts(*rows):
    cols = ["node", "lever", "unit_cost", "maximum", "ramp_days", "start_day"]
    full = [tuple(r) + (math.inf, math.nan, math.nan)[len(r) - 3 :] for r in rows]
    return pd.DataFrame(full, columns=cols)


def two_mines() -> nx.DiGraph:
    """A ships 10 t a day to X; B ships 1 t a year (a link X could grow)."""
    G = nx.DiGraph(stages=["m", "u"])
    G.add_node("A", stage="m", country="A", value=3650.0)
    G.add_node("B", stage="m", country="B", value=1.0)
    G.add_node("X", stage="u", country="X", end_use="e")
    G.add_edge("A", "X", flow=3650.0)
    G.add_edge("B", "X", flow=1.0)
    return G


def test_stock_only_for_a_short_horizon():
    # 60 days at 100 %: 60 days of X's intake (10 t a day) = 600 t; capacity at B ramping over
    # 100 days at 0.5 per t/yr would cost 1,825 for little help within 60 days
    plan = mitigate(
        two_mines(),
        "A",
        target_nodes=["X"],
        min_output=1.0,
        days=60,
        options=opts(("X", "stock", 1.0), ("B", "capacity", 0.5, math.inf, 100.0, 0.0)),
        step=1,
    )
    assert plan.feasible
    stock = plan.plan[plan.plan["lever"] == "stock"]
    assert len(plan.plan) == 1 and float(stock["amount"].iloc[0]) == pytest.approx(600.0, rel=1e-6)
    rules = plan.check[
        (plan.check["response"] == "rules") & (plan.check["plan"] == "with the plan")
    ]
    assert float(rules["lowest_output"].iloc[0]) == pytest.approx(1.0)


def test_a_capacity_maximum_binds_and_is_named():
    # B may add at most 1,825 t/yr (half of X's need): stock covers the rest
    plan = mitigate(
        two_mines(),
        "A",
        target_nodes=["X"],
        min_output=1.0,
        days=365,
        options=opts(("X", "stock", 1.0), ("B", "capacity", 0.01, 1825.0, 0.0, 0.0)),
        step=1,
    )
    cap = plan.plan.set_index("lever").loc["capacity"]
    assert float(cap["amount"]) == pytest.approx(1825.0, rel=1e-6)
    # with B at 1,826 t/yr of X's 3,651: X lacks 1,825 t a year = 5 t a day, for 365 days
    stock = plan.plan.set_index("lever").loc["stock"]
    assert float(stock["amount_program"]) == pytest.approx(1825.0, rel=1e-6)
    assert any("maximum of the capacity option at B" in b for b in plan.binding)


def test_infeasible_options_report_the_best_level():
    # the only option is capacity at the banned mine A: nothing helps; X keeps B's 1 of 3,651
    plan = mitigate(
        two_mines(),
        "A",
        target_nodes=["X"],
        min_output=0.5,
        days=30,
        options=opts(("A", "capacity", 1.0)),
    )
    assert not plan.feasible and math.isnan(plan.total_cost)
    assert plan.best_min_output == pytest.approx(1 / 3651, rel=1e-6)
    assert plan.plan.empty


def ramping() -> nx.DiGraph:
    """X buys 10 from A and 10 from N; N can double, ramping over 20 days after 10."""
    G = nx.DiGraph(stages=["m", "u"])
    G.add_node("A", stage="m", country="AAA", value=10.0)
    G.add_node("N", stage="m", country="NNN", value=10.0, capacity=20.0)
    G.nodes["N"].update(ramp_delay_days=10.0, ramp_days=20.0)
    G.add_node("X", stage="u", country="XXX", end_use="e", inventory_days=2.0)
    G.add_edge("A", "X", flow=10.0)
    G.add_edge("N", "X", flow=10.0)
    return G


@pytest.mark.parametrize("min_output", [1.0, 0.9])
def test_stock_at_the_target_agrees_with_stockpile_sizing(min_output):
    # two independent routes to the same number: the program plus its day-by-day repair, and
    # the stockpile's bisection on the same day-by-day model (rules, N ramping)
    G = ramping()
    plan = mitigate(
        G,
        "A",
        target_nodes=["X"],
        min_output=min_output,
        days=60,
        options=opts(("X", "stock", 1.0)),
        response="rules",
        step=1,
    )
    size = sg.stockpile(
        G,
        "A",
        target_nodes=["X"],
        min_output=min_output,
        days=60,
        response="rules",
        tolerance=0.001,
    )
    want = float(size.loc[0, "added_days"])
    got = float(plan.plan["days_of_use"].iloc[0])
    assert got == pytest.approx(want, rel=0.01, abs=0.01)
    held = plan.check[plan.check["response"] == "rules"]["lowest_output"]
    assert float(held.iloc[-1]) >= min_output - 1e-9


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ("node,lever,unit_cost\nNOPE,stock,1\n", "row 2, column 'node'"),
        ("node,lever,unit_cost\nX,steel,1\n", "row 2, column 'lever'"),
        ("node,lever,unit_cost\nX,stock,-1\n", "row 2, column 'unit_cost'"),
        ("node,lever,unit_cost\nX,stock,cheap\n", "row 2, column 'unit_cost'"),
        ("node,lever,unit_cost,ramp_days\nX,stock,1,30\n", "row 2, column 'ramp_days'"),
        ("node,lever\nX,stock\n", "no 'unit_cost' column"),
        ("node,lever,unit_cost,colour\nX,stock,1,red\n", "unknown column 'colour'"),
    ],
)
def test_bad_option_tables_get_one_precise_error(tmp_path, table, where):
    p = tmp_path / "options.csv"
    p.write_text(table, encoding="utf-8")
    with pytest.raises(InputError, match=where):
        mitigate(two_mines(), "A", target_nodes=["X"], options=p)


def test_cli_mitigate_prints_the_plan_and_the_check(tmp_path):
    from typer.testing import CliRunner

    from supplygraph.cli import app

    p = tmp_path / "options.csv"
    p.write_text("node,lever,unit_cost\nUSA:defense,stock,1\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "mitigate",
            "--scenario",
            "april-2025-licences",
            "--end-use",
            "defense",
            "--days",
            "365",
            "--options",
            str(p),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"lever": "stock"' in result.output
    assert "check (rules, with the plan" in result.output
