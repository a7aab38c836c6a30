"""disrupt() and sweep(): hand values, no mutation, ranking equals the naive ranking."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplygraph.analysis.disruption import disrupt, sweep
from supplygraph.analysis.shocks import parse_shock
from supplygraph.errors import ScenarioError

_spec = importlib.util.spec_from_file_location(
    "_kernel_naive", Path(__file__).with_name("_kernel_naive.py")
)
naive = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(naive)


def chain() -> nx.DiGraph:
    """Two mines -> two separators -> one magnet maker -> two end uses."""
    G = nx.DiGraph()
    G.graph["stages"] = ["mining", "separation", "magnets", "end_use"]
    G.add_node("CHN:mining", stage="mining", country="CHN", value=60.0)
    G.add_node("AUS:mining", stage="mining", country="AUS", value=20.0)
    G.add_node("CHN:separation", stage="separation", country="CHN", value=80.0)
    G.add_node("MYS:separation", stage="separation", country="MYS", value=20.0)
    G.add_node("JPN:magnets", stage="magnets", country="JPN", value=50.0)
    G.add_node("USA:vehicles", stage="end_use", country="USA", end_use="vehicles")
    G.add_node("USA:defense", stage="end_use", country="USA", end_use="defense")
    G.add_edge("CHN:mining", "CHN:separation", flow=60.0)
    G.add_edge("AUS:mining", "CHN:separation", flow=20.0)
    G.add_edge("AUS:mining", "MYS:separation", flow=20.0)
    G.add_edge("CHN:separation", "JPN:magnets", flow=30.0)
    G.add_edge("MYS:separation", "JPN:magnets", flow=10.0)
    G.add_edge("JPN:magnets", "USA:vehicles", flow=30.0)
    G.add_edge("JPN:magnets", "USA:defense", flow=10.0)
    G.add_edge("CHN:separation", "USA:defense", flow=10.0)
    return G


def test_disrupt_hand_values():
    G = chain()
    before = copy.deepcopy(G)
    r = disrupt(G, "CHN@mining")
    assert nx.utils.graphs_equal(G, before)
    n = r.nodes
    # CHN:separation: 0.25 left (AUS share 20/80); JPN:magnets = 0.75*0.25 + 0.25*1 = 0.4375
    assert n.loc["CHN:separation", "remaining"] == pytest.approx(0.25)
    assert n.loc["CHN:separation", "lost"] == pytest.approx(80.0 * 0.75)
    assert n.loc["JPN:magnets", "remaining"] == pytest.approx(0.4375)
    # vehicles: only JPN:magnets -> 0.4375; baseline = inflow 30
    t = r.targets
    assert set(t.index) == {"USA:vehicles", "USA:defense"}
    assert t.loc["USA:vehicles", "baseline"] == pytest.approx(30.0)
    assert t.loc["USA:vehicles", "loss_share"] == pytest.approx(0.5625)
    # defense: 10/20 from JPN (0.4375) + 10/20 from CHN:separation (0.25) = 0.34375
    assert t.loc["USA:defense", "remaining"] == pytest.approx(0.34375)
    assert t.loc["USA:defense", "lost"] == pytest.approx(20.0 * 0.65625)
    by = r.by_end_use
    assert by.loc["vehicles", "loss_share"] == pytest.approx(0.5625)
    total = (30 * 0.5625 + 20 * 0.65625) / 50
    assert by.loc["total", "loss_share"] == pytest.approx(total)
    assert r.total_loss_share == pytest.approx(total)
    assert {"stage", "country", "end_use", "baseline", "remaining", "lost"} <= set(n.columns)


def test_disrupt_edges_and_models():
    G = chain()
    r = disrupt(G, [parse_shock("JPN@magnets->USA@end_use=0.5")], model="leontief")
    assert r.targets.loc["USA:vehicles", "remaining"] == pytest.approx(0.5)
    # defense: groups magnets {JPN} (0.5) and separation {CHN} (1): min -> 0.5
    assert r.targets.loc["USA:defense", "remaining"] == pytest.approx(0.5)
    lin = disrupt(G, "JPN@magnets->USA@end_use=0.5")
    assert lin.targets.loc["USA:defense", "remaining"] == pytest.approx(0.75)
    with pytest.raises(ScenarioError):
        disrupt(G, "FRA")


def test_sweep_linear_hand_ranking():
    G = chain()
    s = sweep(G)
    assert list(s.columns[:4]) == ["rank", "node", "stage", "country"]
    top = s.set_index("node")
    # weights: vehicles 30/50, defense 20/50
    # JPN:magnets: vehicles 1, defense 0.5 -> 0.6 + 0.2 = 0.8
    assert top.loc["JPN:magnets", "weighted_loss"] == pytest.approx(0.8)
    assert top.loc["JPN:magnets", "max_loss"] == pytest.approx(1.0)
    assert top.loc["JPN:magnets", "max_loss_target"] == "USA:vehicles"
    assert top.loc["JPN:magnets", "n_targets_hit"] == 2
    # CHN:separation: vehicles 0.75, defense 0.5*0.75 + 0.5 = 0.875
    assert top.loc["CHN:separation", "weighted_loss"] == pytest.approx(0.6 * 0.75 + 0.4 * 0.875)
    assert s["weighted_loss"].is_monotonic_decreasing
    assert s["rank"].tolist() == list(range(1, len(s) + 1))


def test_sweep_country_stage():
    G = chain()
    G.add_node("CHN:separation2", stage="separation", country="CHN")
    G.add_edge("CHN:mining", "CHN:separation2", flow=1.0)
    G.add_edge("CHN:separation2", "USA:defense", flow=20.0)
    s = sweep(G, by="country-stage")
    row = s[(s.country == "CHN") & (s.stage == "separation")].iloc[0]
    assert row["n_nodes"] == 2
    # removing both CHN separators at once, checked against the naive re-simulation
    h = naive.naive_propagate(G, {"CHN:separation": 1.0, "CHN:separation2": 1.0})
    base = {"USA:vehicles": 30.0, "USA:defense": 40.0}
    expect = sum(base[t] * (1 - h[t]) for t in base) / sum(base.values())
    assert row["weighted_loss"] == pytest.approx(expect, abs=1e-12)
    for model in ("leontief",):
        s2 = sweep(G, by="country-stage", model=model)
        r2 = s2[(s2.country == "CHN") & (s2.stage == "separation")].iloc[0]
        h = naive.naive_propagate(G, {"CHN:separation": 1.0, "CHN:separation2": 1.0}, model=model)
        expect = sum(base[t] * (1 - h[t]) for t in base) / sum(base.values())
        assert r2["weighted_loss"] == pytest.approx(expect, abs=1e-12)


def _naive_weighted(G, groups, model):
    targets = naive.sinks(G)
    info = naive._inputs(G)
    base = {
        t: (G.nodes[t].get("value") if G.nodes[t].get("value") is not None else 0.0) or info[t][0]
        for t in targets
    }
    if sum(base.values()) <= 0:
        w = {t: 1 / len(targets) for t in targets}
    else:
        w = {t: base[t] / sum(base.values()) for t in targets}
    out = {}
    for name, members in groups.items():
        h = naive.naive_propagate(G, dict.fromkeys(members, 1.0), model=model)
        out[name] = sum(w[t] * (1 - h[t]) for t in targets)
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    G=naive.random_graph_strategy(max_nodes=7),
    model=st.sampled_from(["linear", "leontief"]),
    by=st.sampled_from(["node", "country-stage"]),
)
def test_sweep_ranking_equals_naive(G, model, by):
    s = sweep(G, model=model, by=by)
    if by == "node":
        groups = {u: [u] for u in G}
        names = s["node"].tolist()
    else:
        groups = {}
        for u, d in G.nodes(data=True):
            groups.setdefault(f"{d['country']}@{d['stage']}", []).append(u)
        names = [f"{c}@{st_}" for c, st_ in zip(s["country"], s["stage"], strict=True)]
    ref = _naive_weighted(G, groups, model)
    assert sorted(names) == sorted(groups)
    got = s["weighted_loss"].to_numpy()
    want = np.array([ref[n] for n in names])
    np.testing.assert_allclose(got, want, atol=1e-9)
    # the order is the naive order (up to ties within 1e-9)
    assert (np.diff(want) <= 1e-9).all()


def _cyclic_chain() -> nx.DiGraph:
    G = chain()
    G.add_edge("JPN:magnets", "CHN:separation", flow=5.0)  # recycling loop
    G.add_node("JPN:magnets2", stage="magnets", country="JPN")
    G.add_edge("CHN:separation", "JPN:magnets2", flow=5.0)
    G.add_edge("JPN:magnets2", "USA:vehicles", flow=5.0)
    return G


@pytest.mark.parametrize("graph", [chain, _cyclic_chain])
def test_sweep_workers_identical(graph):
    G = graph()
    for model in ("linear", "leontief"):
        one = sweep(G, model=model)
        two = sweep(G, model=model, workers=2)
        assert one.equals(two)


def test_sweep_on_dask_local_cluster_identical():
    distributed = pytest.importorskip("dask.distributed")
    G = _cyclic_chain()
    ref = sweep(G, model="leontief", by="node")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = sweep(G, model="leontief", by="node", scheduler=client)
    assert ref.equals(got)
