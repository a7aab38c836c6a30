"""Chokepoints: hand-computed dependencies, dominators and reasons on toy graphs."""

from __future__ import annotations

import copy
import itertools
import random
import time

import networkx as nx
import pytest

from supplygraph.analysis.chokepoints import chokepoints, dominated_targets, target_weights
from supplygraph.errors import InputError


def toy() -> nx.DiGraph:
    """Two mines -> two separators -> one magnet maker -> two end uses.

    Linear losses, by hand (h = remaining fraction):
      JPN:magnets removed    -> both end uses lose 100 %  (it is on every path: a dominator)
      CHN:separation removed -> JPN:magnets keeps 10/100 -> both lose 90 %
      CHN:mining removed     -> CHN:separation keeps 10/90, JPN:magnets (90·1/9 + 10)/100 = 0.2
      AUS:mining removed     -> CHN:separation 80/90, MYS:separation 0 -> JPN:magnets 0.8
      MYS:separation removed -> JPN:magnets 0.9
    End-use weights: vehicles 60, wind 40.
    """
    G = nx.DiGraph(stages=["mining", "separation", "magnets", "end_use"])
    nodes = [
        ("CHN:mining", "mining", "CHN", 80.0),
        ("AUS:mining", "mining", "AUS", 20.0),
        ("CHN:separation", "separation", "CHN", 90.0),
        ("MYS:separation", "separation", "MYS", 10.0),
        ("JPN:magnets", "magnets", "JPN", 100.0),
    ]
    for n, stage, country, value in nodes:
        G.add_node(n, stage=stage, country=country, value=value)
    G.add_node("USA:vehicles", stage="end_use", country="USA", end_use="vehicles", value=60.0)
    G.add_node("DEU:wind", stage="end_use", country="DEU", end_use="wind", value=40.0)
    for u, v, f in [
        ("CHN:mining", "CHN:separation", 80.0),
        ("AUS:mining", "CHN:separation", 10.0),
        ("AUS:mining", "MYS:separation", 10.0),
        ("CHN:separation", "JPN:magnets", 90.0),
        ("MYS:separation", "JPN:magnets", 10.0),
        ("JPN:magnets", "USA:vehicles", 60.0),
        ("JPN:magnets", "DEU:wind", 40.0),
    ]:
        G.add_edge(u, v, flow=f)
    return G


def test_ranking_losses_and_dominator_by_hand():
    G = toy()
    before = copy.deepcopy(G)
    cp = chokepoints(G)
    assert list(cp.index) == [
        "JPN:magnets",
        "CHN:separation",
        "CHN:mining",
        "AUS:mining",
        "MYS:separation",
    ]  # end uses (the targets) are not ranked; single-node groups shown as nodes
    assert list(cp["rank"]) == [1, 2, 3, 4, 5]
    assert set(cp["kind"]) == {"node"}
    expected = {
        "JPN:magnets": 1.0,
        "CHN:separation": 0.9,
        "CHN:mining": 0.8,
        "AUS:mining": 0.2,
        "MYS:separation": 0.1,
    }
    for n, loss in expected.items():
        assert cp.loc[n, "max_dependency"] == pytest.approx(loss)
        assert cp.loc[n, "weighted_loss"] == pytest.approx(loss)
    top = cp.loc["JPN:magnets"]
    assert bool(top["dominator"])
    assert top["n_dominated_targets"] == 2
    assert top["stage_share"] == pytest.approx(1.0)
    assert top["stage_hhi"] == pytest.approx(10_000.0)
    sep = cp.loc["CHN:separation"]
    assert not bool(sep["dominator"])
    assert sep["stage_share"] == pytest.approx(0.9)
    assert sep["stage_hhi"] == pytest.approx(8200.0)  # 90² + 10²
    assert sep["n_targets_at_threshold"] == 2
    assert sep["max_dependency_target"] in {"USA:vehicles", "DEU:wind"}
    assert not cp.loc[["CHN:separation", "CHN:mining", "AUS:mining"], "dominator"].any()
    # the caller's graph is untouched
    assert nx.utils.graphs_equal(G, before)


def test_reason_mentions_the_numbers():
    cp = chokepoints(toy())
    sep = cp.loc["CHN:separation", "reason"]
    assert "90 % of separation" in sep
    assert "vehicles and wind end uses depend on it for 90 % of supply" in sep
    assert "every supply path to every end use runs through it" in cp.loc["JPN:magnets", "reason"]
    assert "20 %" in cp.loc["AUS:mining", "reason"]
    # without end-use sectors the clause speaks of the targets as a whole
    G = toy()
    for t in ("USA:vehicles", "DEU:wind"):
        del G.nodes[t]["end_use"]
    sep = chokepoints(G).loc["CHN:separation", "reason"]
    assert sep == "90 % of separation; every end use depends on it for 90 % of supply"


def test_threshold_counts_targets_and_top():
    cp = chokepoints(toy(), threshold=0.85, top=2)
    assert len(cp) == 2
    assert cp.loc["CHN:separation", "n_targets_at_threshold"] == 2
    cp = chokepoints(toy(), threshold=0.85)
    assert cp.loc["CHN:mining", "n_targets_at_threshold"] == 0
    with pytest.raises(InputError):
        chokepoints(toy(), threshold=1.5)
    with pytest.raises(InputError):
        chokepoints(toy(), kind="plant")  # type: ignore[arg-type]


def test_external_input_is_another_route():
    G = toy()
    # 20 units of recycling into vehicles: a = 60/80 from the magnets
    G.nodes["USA:vehicles"]["external_input"] = 20.0
    cp = chokepoints(G)
    top = cp.loc["JPN:magnets"]
    assert top["n_dominated_targets"] == 1  # only wind has no other route
    assert top["max_dependency"] == pytest.approx(1.0)
    assert top["max_dependency_target"] == "DEU:wind"
    # weights 60/100 and 40/100: 0.6·0.75 + 0.4·1
    assert top["weighted_loss"] == pytest.approx(0.85)


def test_country_stage_groups():
    G = toy()
    # split China's separation into two plants of 45 each
    G.remove_node("CHN:separation")
    for plant in ("CHN:sep1", "CHN:sep2"):
        G.add_node(plant, stage="separation", country="CHN", value=45.0)
        G.add_edge("CHN:mining", plant, flow=40.0)
        G.add_edge("AUS:mining", plant, flow=5.0)
        G.add_edge(plant, "JPN:magnets", flow=45.0)
    cp = chokepoints(G)
    assert cp.loc["CHN@separation", "kind"] == "country-stage"
    assert cp.loc["CHN@separation", "members"] == 2
    assert cp.loc["CHN@separation", "max_dependency"] == pytest.approx(0.9)
    assert cp.loc["CHN@separation", "stage_share"] == pytest.approx(0.9)
    assert cp.loc["CHN:sep1", "max_dependency"] == pytest.approx(0.45)
    assert "CHN@mining" not in cp.index  # single-node group: its node row stands for it
    groups = chokepoints(G, kind="country-stage")
    assert set(groups["kind"]) == {"country-stage"}
    assert "CHN@mining" in groups.index
    assert groups.index[0] == "JPN@magnets"
    nodes = chokepoints(G, kind="node")
    assert set(nodes["kind"]) == {"node"}


def test_group_dominator_where_no_single_node_dominates():
    G = nx.DiGraph(stages=["separation", "magnets", "end_use"])
    for n, st, c in [
        ("CHN:s1", "separation", "CHN"),
        ("CHN:s2", "separation", "CHN"),
        ("MYS:s", "separation", "MYS"),
        ("JPN:m", "magnets", "JPN"),
        ("USA:m", "magnets", "USA"),
        ("USA:defense", "end_use", "USA"),
        ("JPN:electronics", "end_use", "JPN"),
    ]:
        G.add_node(n, stage=st, country=c, value=1.0)
    for u, v in [
        ("CHN:s1", "JPN:m"),
        ("CHN:s2", "JPN:m"),
        ("MYS:s", "USA:m"),
        ("JPN:m", "JPN:electronics"),
        ("USA:m", "USA:defense"),
    ]:
        G.add_edge(u, v, flow=1.0)
    cp = chokepoints(G)
    assert bool(cp.loc["CHN@separation", "dominator"])
    assert cp.loc["CHN@separation", "n_dominated_targets"] == 1
    assert not bool(cp.loc["CHN:s1", "dominator"])
    assert bool(cp.loc["MYS:s", "dominator"])


def test_dominated_targets_cycles_and_zero_flows():
    G = nx.DiGraph()
    G.add_edge("src", "a", flow=1.0)
    G.add_edge("a", "b", flow=1.0)
    G.add_edge("b", "a", flow=0.5)  # recycling loop
    G.add_edge("b", "b", flow=0.1)  # self-loop
    G.add_edge("b", "t", flow=1.0)
    G.add_edge("other", "t", flow=0.0)  # no flow: not a route
    d = dominated_targets(G, ["t"])
    assert d.to_dict() == {"src": 1, "a": 1, "b": 1, "t": 0, "other": 0}


def test_target_weights():
    w = target_weights(toy(), ["USA:vehicles", "DEU:wind"])
    assert w.to_dict() == pytest.approx({"USA:vehicles": 0.6, "DEU:wind": 0.4})


def test_dominators_fast_on_a_large_layered_graph():
    rng = random.Random(7)
    G = nx.DiGraph()
    layers = [[f"L{k}:{i}" for i in range(1000)] for k in range(6)]
    for upper, lower in itertools.pairwise(layers):
        for v in lower:
            for u in rng.sample(upper, 2):
                G.add_edge(u, v, flow=rng.random() + 0.1)
    t0 = time.perf_counter()
    d = dominated_targets(G)
    assert time.perf_counter() - t0 < 5.0
    assert len(d) == G.number_of_nodes()


def test_rare_earths_china_separation_and_magnets_on_top():
    from supplygraph.loading import load

    G = load("rare-earths-aggregate")
    cp = chokepoints(G, top=10)
    assert cp.index[0] == "CHN:separation"
    top4 = list(cp.index[:4])
    assert "CHN:magnets" in top4
    assert (cp["country"].iloc[:4] == "CHN").all()
    sep = cp.loc["CHN:separation"]
    assert sep["stage_share"] > 0.85
    assert sep["n_targets_at_threshold"] >= 10  # of 17 end uses
    assert f"{round(100 * sep['stage_share'])} % of separation" in sep["reason"]
    assert cp.loc["CHN:magnets", "max_dependency"] > 0.9
    assert "vehicles" in cp.loc["CHN:magnets", "reason"]


def test_sparse_path_equals_dense_path(monkeypatch):
    import pandas as pd

    import supplygraph.analysis.dependency as dependency_module

    G = toy()
    # a second Japanese magnet plant that is itself a sink (a target) in the JPN@magnets group
    G.add_node("JPN:magnets2", stage="magnets", country="JPN", value=5.0)
    G.add_edge("MYS:separation", "JPN:magnets2", flow=5.0)
    G.add_node("CHN:sep2", stage="separation", country="CHN", value=10.0)
    G.add_edge("AUS:mining", "CHN:sep2", flow=10.0)
    G.add_edge("CHN:sep2", "JPN:magnets", flow=10.0)
    for kind in ("all", "country-stage"):
        dense = chokepoints(G, kind=kind, threshold=0.3)
        monkeypatch.setattr(dependency_module, "MAX_DENSE_CELLS", 1)
        sparse = chokepoints(G, kind=kind, threshold=0.3)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(dense, sparse, check_exact=False, atol=1e-12)
    groups = chokepoints(G, kind="country-stage")
    # the group's own member target is not one of the targets it is scored against
    assert groups.loc["JPN@magnets", "max_dependency_target"] != "JPN:magnets2"
    assert groups.loc["JPN@magnets", "members"] == 2


@pytest.mark.parametrize("model", ["linear", "leontief"])
def test_agrees_with_sweep(model):
    from supplygraph.analysis.disruption import sweep

    G = toy()
    cp = chokepoints(G, model=model, kind="node")
    sw = sweep(G, model=model, progress=False).set_index("node").loc[cp.index]
    assert cp["weighted_loss"].to_numpy() == pytest.approx(sw["weighted_loss"].to_numpy())
    assert cp["max_dependency"].to_numpy() == pytest.approx(sw["max_loss"].to_numpy())
