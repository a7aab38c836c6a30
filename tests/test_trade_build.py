"""``trade build``: hand-computed flows on a toy chain, and the built-in dataset + a release.

The toy release (tests/data/trade/toy_release, SYNTHETIC) on the toy chain (toy_chain):

separation (t REO): CHN->JPN 15 t, MYS->JPN 5 t. Japan's only node drawing from separation is
JPN:magnets, so both go there. The stage is complete (284690 maps every exporter), so the one
foreign pair with no trade, MYS:separation -> CHN:magnets, gets 0; the listed CHN->JPN row (18)
is replaced by 15.

magnets (t magnet): CHN->HKG 12, HKG->USA 10, HKG->DEU 4, JPN->USA 6, FRA->DEU 1.
DEU and FRA are EU members and the toy graph has EU nodes: FRA->DEU is internal (1 t) and
HKG->DEU goes to EU. Hong Kong: P = 0, M = 12, X = 14 -> R = min(12, 14 - 0) = 12, rho = 1:
all 12 t go to a new node HKG:magnets (value 0; hub test 14 / 12 = 1.17 -> hub). USA: P = 0,
M = 16, X = 0 -> rho = 0; its customers USA:vehicles and USA:wind drew 30 and 10 from magnets in
the pooled graph (pooled intake = value, magnet output = demand = 100), so they take 3/4 and 1/4:
HKG->USA 10 -> 7.5 + 2.5, JPN->USA 6 -> 4.5 + 1.5. Suppressed (foreign magnet producers with no
trade to a customer): CHN->USA:vehicles, CHN->USA:wind, CHN->EU:vehicles, JPN->EU:vehicles,
JPN->CHN:vehicles. The domestic CHN:magnets -> CHN:vehicles row (20) is kept.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from supplygraph.analysis.deminimis import deminimis_compare, deminimis_reach
from supplygraph.analysis.origins import origin_shares
from supplygraph.cli import app
from supplygraph.loading import load
from supplygraph.trade import build_trade_dataset, read_trade

DATA = Path(__file__).parent / "data" / "trade"
runner = CliRunner()


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy") / "built"
    return build_trade_dataset(read_trade(DATA / "toy_release", 2022), DATA / "toy_chain", out)


def test_toy_edges_hand_computed(toy):
    G = toy.graph
    flows = {(u, v): d["flow"] for u, v, d in G.edges(data=True)}
    assert flows == pytest.approx(
        {
            ("CHN:separation", "CHN:magnets"): 72.0,  # pooled, domestic: 90/100 x 80 intake
            ("CHN:separation", "JPN:magnets"): 15.0,
            ("MYS:separation", "JPN:magnets"): 5.0,
            ("CHN:magnets", "CHN:vehicles"): 20.0,  # listed domestic row, kept
            ("CHN:magnets", "HKG:magnets"): 12.0,
            ("HKG:magnets", "USA:vehicles"): 7.5,
            ("HKG:magnets", "USA:wind"): 2.5,
            ("HKG:magnets", "EU:vehicles"): 4.0,
            ("JPN:magnets", "USA:vehicles"): 4.5,
            ("JPN:magnets", "USA:wind"): 1.5,
        }
    )
    for u, v in [("CHN:separation", "JPN:magnets"), ("HKG:magnets", "USA:vehicles")]:
        d = G.edges[u, v]
        assert d["basis"] == "bilateral"
        assert d["source_ref"] == "BACI-HS17-V202401B-2022"
        assert d["year"] == 2022
    assert G.edges["CHN:separation", "JPN:magnets"]["evidence"] == "secondary"
    assert G.edges["HKG:magnets", "USA:vehicles"]["evidence"] == "derived"  # split 3/4
    assert G.edges["CHN:separation", "CHN:magnets"]["basis"] == "pooled"
    hk = G.nodes["HKG:magnets"]
    assert (hk["value"], hk["stage"], hk["country"], hk["hub"]) == (0.0, "magnets", "HKG", "true")


def test_toy_coverage_and_suppressions(toy):
    cov = toy.coverage.set_index("stage")
    assert cov.loc["magnets", "trade"] == pytest.approx(33.0)
    assert cov.loc["magnets", "placed"] == pytest.approx(32.0)
    assert cov.loc["magnets", "internal"] == pytest.approx(1.0)
    assert cov.loc["magnets", "edges_suppressed"] == 5
    assert cov.loc["separation", "edges_suppressed"] == 1
    assert cov.loc["separation", "base_rows_replaced"] == 1
    zero = toy.edges[toy.edges["flow"] == 0]
    assert set(zip(zero["source"], zero["target"], strict=True)) == {
        ("MYS:separation", "CHN:magnets"),
        ("CHN:magnets", "USA:vehicles"),
        ("CHN:magnets", "USA:wind"),
        ("CHN:magnets", "EU:vehicles"),
        ("JPN:magnets", "EU:vehicles"),
        ("JPN:magnets", "CHN:vehicles"),
    }


def test_toy_folder_layout_and_provenance(toy):
    folder = toy.folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "coverage.csv",
        "dataset.toml",
        "flows.csv",
        "sources.csv",
        "stage_shares.csv",
    ]
    header = (folder / "flows.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    for col in ("source", "target", "flow", "source_ref", "year", "evidence", "basis"):
        assert col in header
    sources = (folder / "sources.csv").read_text(encoding="utf-8")
    assert "BACI-HS17-V202401B-2022" in sources and "Gaulier" in sources
    toml = (folder / "dataset.toml").read_text(encoding="utf-8")
    assert 'name = "toy-magnets+baci-2022"' in toml
    assert "R = min(M, max(0, X - P))" in toml
    assert "magnets: HS 850511 x 1 t magnet per t" in toml
    G = toy.graph
    assert G.graph["provenance"]["sha256"]
    result = runner.invoke(app, ["info", str(folder)])
    assert result.exit_code == 0, result.output


def test_origin_through_hubs_on_the_toy(toy):
    G = toy.graph
    plain = origin_shares(G, stage="magnets")
    through = origin_shares(G, stage="magnets", through_hubs=True)
    # USA:vehicles draws 7.5 from HK's node and 4.5 from Japan's (12 in all)
    assert plain.loc["USA:vehicles", "HKG"] == pytest.approx(7.5 / 12)
    assert plain.loc["USA:vehicles", "CHN"] == pytest.approx(0.0)
    assert through.loc["USA:vehicles", "CHN"] == pytest.approx(7.5 / 12)
    assert through.loc["USA:vehicles", "HKG"] == pytest.approx(0.0)
    assert through.loc["HKG:magnets", "CHN"] == pytest.approx(1.0)
    np.testing.assert_allclose(through.sum(axis=1).to_numpy(), 1.0)
    reach = deminimis_reach(G, "CHN", 0.5, stage="magnets")
    seen = deminimis_reach(G, "CHN", 0.5, stage="magnets", through_hubs=True)
    assert "USA:vehicles" not in set(reach.loc[reach["caught"], "node"])
    assert "USA:vehicles" in set(seen.loc[seen["caught"], "node"])


def test_through_hubs_on_the_command_line(toy):
    """``trace``/``deminimis --through-hubs`` give the API's answer (7.5 of USA:vehicles' 12 t
    of magnets come through Hong Kong from China)."""
    folder = str(toy.folder)
    args = ["--origin", "CHN", "--stage", "magnets", "-f", "json"]

    def rows(cmd, *extra):
        result = runner.invoke(app, [cmd, folder, *args, *extra])
        assert result.exit_code == 0, result.output
        return {r["node"]: r for r in json.loads(result.stdout)}

    plain, through = rows("trace"), rows("trace", "--through-hubs")
    assert "USA:vehicles" not in plain
    assert through["USA:vehicles"]["origin_share"] == pytest.approx(7.5 / 12)
    caught = rows("deminimis", "--threshold", "0.5", "--through-hubs")
    assert caught["USA:vehicles"]["caught"] is True
    plain_reach = rows("deminimis", "--threshold", "0.5")
    assert not plain_reach.get("USA:vehicles", {}).get("caught", False)


def test_through_hubs_hub_with_own_output():
    # a hub with own output P = 1 that passes on R = 3 from China: 1/4 own, 3/4 Chinese
    G = nx.DiGraph(stages=["magnets", "end_use"])
    G.add_node("CHN:magnets", stage="magnets", country="CHN", value=10.0)
    G.add_node("HKG:magnets", stage="magnets", country="HKG", value=1.0)
    G.add_node("USA:cars", stage="end_use", country="USA", value=4.0)
    G.add_edge("CHN:magnets", "HKG:magnets", flow=3.0)
    G.add_edge("HKG:magnets", "USA:cars", flow=4.0)
    out = origin_shares(G, stage="magnets", through_hubs=True)
    assert out.loc["HKG:magnets", ["CHN", "HKG"]].tolist() == pytest.approx([0.75, 0.25])
    assert out.loc["USA:cars", ["CHN", "HKG"]].tolist() == pytest.approx([0.75, 0.25])


def test_through_hubs_changes_nothing_without_same_stage_edges():
    G = load("rare-earths-aggregate")
    for stage in (None, "separation", "magnets"):
        a = origin_shares(G, stage=stage)
        b = origin_shares(G, stage=stage, through_hubs=True)
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@pytest.fixture(scope="module")
def built_in(tmp_path_factory):
    out = tmp_path_factory.mktemp("re") / "rare-earths-baci"
    result = runner.invoke(
        app,
        [
            "trade", "build", str(DATA / "BACI_HS17_V202401b"), "--year", "2022",
            "--into", "rare-earths-aggregate", "-o", str(out), "-f", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(
    "args",
    [
        ["info"],
        ["concentration"],
        ["chokepoints", "--top", "5"],
        ["disrupt", "--shock", "CHN@separation"],
        ["sweep", "--by", "country-stage"],
        ["trace", "--origin", "CHN"],
        ["deminimis", "--compare", "--stage", "separation"],
        [
            "timeline",
            "--scenario",
            str(
                DATA.parents[2]
                / "datasets"
                / "rare_earths_aggregate"
                / "scenarios"
                / "april-2025-licences.toml"
            ),
        ],
    ],
)
def test_analyses_run_on_the_built_dataset(built_in, args):
    result = runner.invoke(app, [args[0], str(built_in), *args[1:]])
    assert result.exit_code == 0, result.output


def test_deminimis_reach_now_differs_between_thresholds(built_in):
    base = load("rare-earths-aggregate")
    G = load(built_in)
    before = deminimis_compare(base, "CHN", stage="separation").query("stage == 'end_use'")
    after = deminimis_compare(G, "CHN", stage="separation").query("stage == 'end_use'")
    # the pooled world market: 12 of 12 foreign end uses at every threshold
    assert before["nodes_caught"].tolist() == [12, 12, 12]
    caught = after.set_index("threshold")["nodes_caught"]
    assert caught[0.001] > caught[0.25]
    shares = origin_shares(G, stage="separation")["CHN"]
    # Japan's industrial users: China 1,200 t and Malaysia 4,800 t of 2846 (BACI rows), split
    # between JPN:metal and JPN:industrial in the same proportion -> 1,200 / 6,000 = 0.2
    assert shares["JPN:industrial"] == pytest.approx(0.2)
    # US industrial users: China 100 t, Malaysia 1,900 t, plus the domestic (pooled) flow
    d = (
        G.edges["USA:separation", "USA:industrial"]["flow"]
        if G.has_edge("USA:separation", "USA:industrial")
        else 0.0
    )
    assert shares["USA:industrial"] == pytest.approx(100 / (2000 + d))
    reach = {t: deminimis_reach(G, "CHN", t, stage="separation") for t in (0.001, 0.1, 0.25)}
    caught_at = {t: set(r.loc[r["caught"], "node"]) for t, r in reach.items()}
    assert "JPN:industrial" in caught_at[0.1] and "JPN:industrial" not in caught_at[0.25]
    assert "USA:industrial" in caught_at[0.001] and "USA:industrial" not in caught_at[0.1]


def test_built_graph_keeps_units_and_counts(built_in):
    G = load(built_in)
    import tomllib

    manifest = tomllib.loads((built_in / "dataset.toml").read_text(encoding="utf-8"))
    assert manifest["summary"] == {"nodes": G.number_of_nodes(), "edges": G.number_of_edges()}
    assert manifest["units"]["separation"] == "t REO/yr"
    edge = G.edges["MMR:mining", "CHN:separation"]
    # Myanmar's 9,000 t of 2846 (mine output by the map's override) x 1 t REO per t
    assert edge["flow"] == pytest.approx(9000.0)
    assert edge["unit"] == "t REO/yr"
    # USA's 280530 row had q = NA: 4,500 kUSD at China's known unit value
    # (60 + 30 t) / (3,000 + 1,500 kUSD) = 0.02 t per kUSD -> 90 t, labelled derived
    metal = G.edges["CHN:metal", "USA:magnets"]
    assert metal["flow"] == pytest.approx(90.0)
    assert metal["evidence"] == "derived"
    assert not math.isnan(float(metal["value_kusd"]))
