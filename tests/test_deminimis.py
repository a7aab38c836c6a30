"""De-minimis reach: hand-computed traced shares on a toy chain; 0.1 % against 10 % / 25 %."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from typer.testing import CliRunner

from supplygraph.analysis.deminimis import (
    EAR_THRESHOLDS,
    deminimis_by_country,
    deminimis_compare,
    deminimis_reach,
)
from supplygraph.cli import app
from supplygraph.errors import ScenarioError
from supplygraph.loading import load


def toy():
    """China separates 1 t of Japan's 1,000 t magnet feed (0.1 %) and 20 % of Vietnam's.

    JPN:magnets  CHN share = 1 / (1 + 999)            = 0.001
    VNM:magnets  CHN share = 20 / (20 + 80)           = 0.2
    USA:cars     CHN share = 0.5 x 0.001 + 0.5 x 0.2  = 0.1005
    JPN:cars     CHN share = 0.001
    """
    G = nx.DiGraph(stages=["mining", "separation", "magnets", "end_use"])
    G.add_node("CHN:mining", stage="mining", country="CHN", value=100.0)
    G.add_node("AUS:mining", stage="mining", country="AUS", value=2000.0)
    G.add_node("CHN:separation", stage="separation", country="CHN", value=100.0)
    G.add_node("MYS:separation", stage="separation", country="MYS", value=2000.0)
    G.add_node("JPN:magnets", stage="magnets", country="JPN", value=1000.0, unit="t")
    G.add_node("VNM:magnets", stage="magnets", country="VNM", value=100.0, unit="t")
    G.add_node("USA:cars", stage="end_use", country="USA", value=50.0, end_use="vehicles")
    G.add_node("JPN:cars", stage="end_use", country="JPN", value=70.0, end_use="vehicles")
    G.add_edge("CHN:mining", "CHN:separation", flow=100.0)
    G.add_edge("AUS:mining", "MYS:separation", flow=2000.0)
    G.add_edge("CHN:separation", "JPN:magnets", flow=1.0)
    G.add_edge("MYS:separation", "JPN:magnets", flow=999.0)
    G.add_edge("CHN:separation", "VNM:magnets", flow=20.0)
    G.add_edge("MYS:separation", "VNM:magnets", flow=80.0)
    G.add_edge("JPN:magnets", "USA:cars", flow=10.0)
    G.add_edge("VNM:magnets", "USA:cars", flow=10.0)
    G.add_edge("JPN:magnets", "JPN:cars", flow=10.0)
    return G


def test_traced_shares_and_who_is_caught_at_0_1_percent():
    df = deminimis_reach(toy(), "CHN", 0.001).set_index("node")
    assert df.loc["JPN:magnets", "traced_share"] == pytest.approx(0.001)
    assert df.loc["VNM:magnets", "traced_share"] == pytest.approx(0.2)
    assert df.loc["USA:cars", "traced_share"] == pytest.approx(0.1005)
    assert df.loc["JPN:cars", "traced_share"] == pytest.approx(0.001)
    assert df["caught"].all()  # every foreign node carries >= 0.1 %
    assert "CHN:separation" not in df.index  # the origin's own nodes are not foreign-made
    assert "MYS:separation" not in df.index  # no Chinese content at all
    assert df.loc["JPN:magnets", "subject_value"] == 1000.0


def test_ear_thresholds_catch_less():
    G = toy()
    at10 = deminimis_reach(G, "CHN", 0.10).set_index("node")["caught"]
    assert at10.to_dict() == {
        "VNM:magnets": True,
        "JPN:magnets": False,
        "USA:cars": True,
        "JPN:cars": False,
    }
    at25 = deminimis_reach(G, "CHN", 0.25)
    assert not at25["caught"].any()


def test_content_share_scales_the_rule_share():
    # if rare earths are 1 % of a car's value, USA:cars carries 0.1005 % Chinese content
    df = deminimis_reach(toy(), "CHN", 0.001, content_share={"end_use": 0.01}).set_index("node")
    assert df.loc["USA:cars", "rule_share"] == pytest.approx(0.001005)
    assert bool(df.loc["USA:cars", "caught"])
    assert not bool(df.loc["JPN:cars", "caught"])  # 0.001 % < 0.1 %


def test_compare_thresholds_per_stage():
    cmp = deminimis_compare(toy(), "CHN", EAR_THRESHOLDS).set_index(["threshold", "stage"])
    assert cmp.loc[(0.001, "magnets"), "nodes_caught"] == 2
    assert cmp.loc[(0.001, "magnets"), "subject_value"] == 1100.0
    assert cmp.loc[(0.001, "magnets"), "subject_share"] == pytest.approx(1.0)
    assert cmp.loc[(0.1, "magnets"), "subject_value"] == 100.0
    assert cmp.loc[(0.25, "magnets"), "nodes_caught"] == 0
    assert cmp.loc[(0.001, "end_use"), "end_uses_caught"] == "vehicles"
    assert cmp.loc[(0.1, "end_use"), "subject_value"] == 50.0


def test_by_country():
    by = deminimis_by_country(deminimis_reach(toy(), "CHN", 0.10))
    rows = {(r.country, r.stage): r for r in by.itertuples()}
    assert rows[("VNM", "magnets")].subject_value == 100.0
    assert rows[("JPN", "magnets")].subject_value == 0.0
    assert rows[("JPN", "magnets")].subject_share == 0.0
    assert rows[("USA", "end_use")].nodes_caught == 1


def test_bad_parameters():
    with pytest.raises(ScenarioError, match="threshold"):
        deminimis_reach(toy(), "CHN", 1.5)
    with pytest.raises(ScenarioError, match="origin 'FRA'"):
        deminimis_reach(toy(), "FRA")


def test_rare_earths_every_foreign_magnet_maker_is_caught():
    G = load("rare-earths")
    df = deminimis_reach(G, "CHN", 0.001, stage="separation")
    magnets = df[df["stage"] == "magnets"]
    foreign = [
        n for n, d in G.nodes(data=True) if d["stage"] == "magnets" and d["country"] != "CHN"
    ]
    assert sorted(magnets["node"]) == sorted(foreign)
    assert magnets["caught"].all()


def test_cli_deminimis():
    runner = CliRunner()
    out = runner.invoke(app, ["deminimis", "--origin", "CHN", "--threshold", "0.001", "-f", "json"])
    assert out.exit_code == 0, out.output
    assert any(r["caught"] for r in json.loads(out.stdout))
    out = runner.invoke(app, ["deminimis", "--compare", "--content-share", "0.005", "-f", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert {r["threshold"] for r in rows} == {0.001, 0.1, 0.25}
    out = runner.invoke(app, ["deminimis", "--origin", "FRA"])
    assert out.exit_code == 1
