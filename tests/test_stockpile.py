"""Stockpile sizing: hand-computed days on a chain, stage placement, infeasible targets."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from typer.testing import CliRunner

from supplygraph.analysis.stockpile import ALL_TARGETS, stockpile
from supplygraph.analysis.timeline import timeline
from supplygraph.cli import app
from supplygraph.errors import ScenarioError


def chain(lead1=0, lead2=0, stock=0.0):
    """A -> B -> C; C is a defense maker using 365 t/yr (1 t/day)."""
    G = nx.DiGraph(stages=["mining", "metal", "end_use"])
    G.add_node("A:mining", stage="mining", country="A", value=730.0, unit="t")
    G.add_node("B:metal", stage="metal", country="B", value=730.0, unit="t")
    G.add_node(
        "C:defense",
        stage="end_use",
        country="C",
        value=365.0,
        end_use="defense",
        inventory_days=stock,
    )
    G.add_node("D:cars", stage="end_use", country="D", value=365.0, end_use="vehicles")
    G.add_edge("A:mining", "B:metal", flow=730.0, lead_days=lead1, unit="t")
    G.add_edge("B:metal", "C:defense", flow=365.0, lead_days=lead2, unit="t")
    G.add_edge("B:metal", "D:cars", flow=365.0, unit="t")
    return G


def test_full_cut_needs_the_whole_gap_minus_the_allowed_tenth():
    # gap 1/day on days 0..29; the last day may run at 0.9 -> 29 + 0.9 days
    df = stockpile(chain(), "A:mining", end_use="defense", min_output=0.9, days=30)
    row = df.iloc[0]
    assert row["target"] == "C:defense"
    assert row["holder"] == "C:defense"
    assert row["added_days"] == pytest.approx(29.9)
    assert row["stock"] == pytest.approx(29.9)  # 1 t/day of input
    assert row["unit"] == "t"
    assert row["baseline_min_output"] == 0.0
    assert row["achieved_min_output"] >= 0.9 - 1e-9
    assert bool(row["feasible"])


def test_half_cut_with_lead_time_and_existing_stock():
    # gap 0.5/day from day 2 (A->B lead 2); days 2..28 full (27 x 0.5) + 0.4 on day 29 = 13.9,
    # of which 10 days are already held
    df = stockpile(chain(lead1=2, stock=10.0), "A:mining=0.5", end_use="defense", days=30)
    assert df.loc[0, "added_days"] == pytest.approx(3.9)


def test_result_really_meets_the_target_and_a_bit_less_does_not():
    G = chain(lead1=1, lead2=2)
    df = stockpile(G, "A:mining=0.7", target_nodes=["C:defense"], min_output=0.95, days=60)
    need = df.loc[0, "added_days"]
    ok = timeline(G, "A:mining=0.7", horizon=60, extra_inventory={"C:defense": need})
    assert ok.summary.loc["C:defense", "depth"] >= 0.95 - 1e-9
    less = timeline(G, "A:mining=0.7", horizon=60, extra_inventory={"C:defense": need - 0.05})
    assert less.summary.loc["C:defense", "depth"] < 0.95


def test_stock_held_at_a_stage():
    # B (metal) holds the stock; C uses B's output 3 days later; window days 0..29 for C means B
    # must cover its own days 2..26 (lead 2 from A) -> 24 full days + 0.9 = 24.9 days of B's use,
    # B's daily input is 730 / 365 = 2 t
    df = stockpile(
        chain(lead1=2, lead2=3),
        "A:mining",
        end_use="defense",
        min_output=0.9,
        days=30,
        stage="metal",
    )
    assert df["holder"].tolist() == ["stage:metal", "stage:metal"]
    assert df["target"].tolist() == ["C:defense", ALL_TARGETS]
    assert df.loc[0, "added_days"] == pytest.approx(24.9)
    assert df.loc[0, "stock"] == pytest.approx(49.8)
    assert df.loc[1, "added_days"] == pytest.approx(24.9)


def test_all_targets_row_is_the_largest_need():
    df = stockpile(chain(lead2=3), "A:mining", min_output=1.0, days=20, stage="metal")
    per_target = df[df["target"] != ALL_TARGETS]["added_days"]
    assert df.set_index("target").loc[ALL_TARGETS, "added_days"] == pytest.approx(per_target.max())


def test_target_already_safe_needs_nothing():
    df = stockpile(chain(stock=100.0), "A:mining", end_use="defense", days=30)
    assert df.loc[0, "added_days"] == 0.0
    assert df.loc[0, "baseline_min_output"] == 1.0


def test_infeasible_when_the_holder_itself_is_cut():
    df = stockpile(chain(), "A:mining", end_use="defense", days=30, stage="mining")
    assert not df["feasible"].any()
    assert df["added_days"].isna().all()


def test_bad_parameters():
    with pytest.raises(ScenarioError, match="min_output"):
        stockpile(chain(), "A:mining", min_output=1.5)
    with pytest.raises(ScenarioError, match="days"):
        stockpile(chain(), "A:mining", days=0)
    with pytest.raises(ScenarioError, match="end use 'toys'"):
        stockpile(chain(), "A:mining", end_use="toys")
    with pytest.raises(ScenarioError, match="not in the graph"):
        stockpile(chain(), "A:mining", target_nodes=["Q"])
    with pytest.raises(ScenarioError, match="stage 'smelting'"):
        stockpile(chain(), "A:mining", stage="smelting")


def test_cli_stockpile_on_rare_earths():
    out = CliRunner().invoke(
        app,
        [
            "stockpile",
            "--scenario",
            "full-separation-ban",
            "--end-use",
            "defense",
            "--min-output",
            "0.9",
            "--days",
            "180",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["target"] for r in rows] == ["USA:defense"]
    assert rows[0]["feasible"] is True
