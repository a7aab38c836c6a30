"""Linear and Leontief propagation: hand-computed values and invariants on random graphs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplygraph.analysis.propagation import propagate
from supplygraph.compiled import compile_graph
from supplygraph.errors import ScenarioError

_spec = importlib.util.spec_from_file_location(
    "_kernel_naive", Path(__file__).with_name("_kernel_naive.py")
)
naive = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(naive)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def six_node_dag(ext_m: float = 0.0) -> nx.DiGraph:
    """A, B mines; S, T separation; D metal (source); M magnets with two input groups.

    Shares:  S <- A 6, B 2          a[A,S] = 0.75, a[B,S] = 0.25
             T <- B 3, external 1   a[B,T] = 0.75, ext[T] = 0.25
             M <- S 4, T 4, D 2     a[S,M] = a[T,M] = 0.4, a[D,M] = 0.2   (ext_m = 0)
    M's input groups: "separation" {S, T} (weights 0.5, 0.5) and "metal" {D}.
    """
    G = nx.DiGraph()
    G.graph["stages"] = ["mining", "separation", "metal", "magnets"]
    G.add_node("A", stage="mining", country="CHN")
    G.add_node("B", stage="mining", country="AUS")
    G.add_node("S", stage="separation", country="CHN")
    G.add_node("T", stage="separation", country="MYS", external_input=1.0)
    G.add_node("D", stage="metal", country="VNM")
    G.add_node("M", stage="magnets", country="JPN", external_input=ext_m)
    G.add_edge("A", "S", flow=6.0)
    G.add_edge("B", "S", flow=2.0)
    G.add_edge("B", "T", flow=3.0)
    G.add_edge("S", "M", flow=4.0)
    G.add_edge("T", "M", flow=4.0)
    G.add_edge("D", "M", flow=2.0)
    return G


def test_linear_hand_computed():
    G = six_node_dag()
    h = propagate(G, {"A": 1.0})
    # h_S = 0.75*0 + 0.25*1 = 0.25 ; h_T = 0.75*1 + 0.25 = 1
    # h_M = 0.4*0.25 + 0.4*1 + 0.2*1 = 0.7
    assert h["A"] == 0.0 and h["B"] == 1.0 and h["D"] == 1.0
    assert h["S"] == pytest.approx(0.25, abs=1e-15)
    assert h["T"] == pytest.approx(1.0, abs=1e-15)
    assert h["M"] == pytest.approx(0.7, abs=1e-15)
    # plus D at half capacity: h_M = 0.1 + 0.4 + 0.2*0.5 = 0.6
    assert propagate(G, {"A": 1.0, "D": 0.5})["M"] == pytest.approx(0.6, abs=1e-15)
    # edge cut B->T by half, A removed: h_T = 0.75*0.5 + 0.25 = 0.625
    # h_M = 0.4*0.25 + 0.4*0.625 + 0.2 = 0.55
    h = propagate(G, {"A": 1.0}, {("B", "T"): 0.5})
    assert h["T"] == pytest.approx(0.625, abs=1e-15)
    assert h["M"] == pytest.approx(0.55, abs=1e-15)


def test_leontief_hand_computed():
    G = six_node_dag()
    h = propagate(G, {"A": 1.0}, model="leontief")
    # S and T have one input group: same as linear (0.25, 1)
    # M: separation group (0.5*0.25 + 0.5*1) = 0.625, metal group 1 -> min = 0.625
    assert h["S"] == pytest.approx(0.25, abs=1e-15)
    assert h["T"] == pytest.approx(1.0, abs=1e-15)
    assert h["M"] == pytest.approx(0.625, abs=1e-15)
    # D at half capacity: min(0.625, 0.5) = 0.5
    assert propagate(G, {"A": 1.0, "D": 0.5}, model="leontief")["M"] == pytest.approx(0.5)
    # edge cut B->T by half: T = 0.25 + 0.75*0.5 = 0.625; separation group
    # 0.5*0.25 + 0.5*0.625 = 0.4375 -> M = 0.4375
    h = propagate(G, {"A": 1.0}, {("B", "T"): 0.5}, model="leontief")
    assert h["M"] == pytest.approx(0.4375, abs=1e-15)
    # removing D (the only metal supplier) stops M completely under Leontief (linear: 0.8)
    assert propagate(G, {"D": 1.0}, model="leontief")["M"] == 0.0
    assert propagate(G, {"D": 1.0})["M"] == pytest.approx(0.8)


def test_external_input_tops_up_every_group():
    # M with external input 10: total 20, a[S]=a[T]=0.2, a[D]=0.1, ext=0.5
    G = six_node_dag(ext_m=10.0)
    # linear: 0.2*0.25 + 0.2*1 + 0.1*1 + 0.5 = 0.85
    assert propagate(G, {"A": 1.0})["M"] == pytest.approx(0.85, abs=1e-15)
    # leontief: 0.5 + 0.5*min(0.625, 1) = 0.8125
    assert propagate(G, {"A": 1.0}, model="leontief")["M"] == pytest.approx(0.8125, abs=1e-15)


def test_material_groups_override_stage():
    G = six_node_dag()
    # S and T deliver different materials: they no longer substitute each other
    G.edges["S", "M"]["material"] = "NdPr oxide"
    G.edges["T", "M"]["material"] = "Dy oxide"
    # groups {S}, {T}, {D}: min(0.25, 1, 1) = 0.25
    assert propagate(G, {"A": 1.0}, model="leontief")["M"] == pytest.approx(0.25)


def test_graph_not_mutated_and_order():
    G = six_node_dag()
    before = nx.to_dict_of_dicts(G), dict(G.nodes(data=True))
    h = propagate(G, {"A": 1.0}, {("B", "T"): 1.0}, model="leontief")
    assert (nx.to_dict_of_dicts(G), dict(G.nodes(data=True))) == before
    assert list(h.index) == list(G.nodes)


def test_bad_inputs():
    G = six_node_dag()
    with pytest.raises(ScenarioError, match="unknown model"):
        propagate(G, model="cobb-douglas")
    with pytest.raises(ScenarioError, match="no node"):
        propagate(G, {"nope": 1.0})
    with pytest.raises(ScenarioError, match=r"\[0, 1\]"):
        propagate(G, {"A": 1.5})
    with pytest.raises(ScenarioError, match="no edge"):
        propagate(G, edge_cut={("A", "nope"): 1.0})


def test_cycle_with_self_loop_exact():
    # s: inputs m1 3, m2 1, itself 1, x 1 (total 6); x: input s only
    G = nx.DiGraph()
    G.add_edge("m1", "s", flow=3.0)
    G.add_edge("m2", "s", flow=1.0)
    G.add_edge("s", "s", flow=1.0)
    G.add_edge("s", "x", flow=1.0)
    G.add_edge("x", "s", flow=1.0)
    # h_s = (0 + 1 + h_s + h_x)/6 with h_x = h_s  ->  4 h_s = 1  ->  h_s = 0.25
    h = propagate(G, {"m1": 1.0})
    assert h["s"] == pytest.approx(0.25, abs=1e-14)
    assert h["x"] == pytest.approx(0.25, abs=1e-14)
    assert not compile_graph(G).is_dag


def test_closed_cycle_limits():
    # a <-> b trade only with each other (no outside or external input): closed cycle
    G = nx.DiGraph()
    G.add_edge("a", "b", flow=1.0)
    G.add_edge("b", "a", flow=1.0)
    G.add_edge("b", "c", flow=1.0)
    for model in ("linear", "leontief"):
        assert propagate(G, model=model).tolist() == [1.0, 1.0, 1.0]
        h = propagate(G, {"a": 0.1}, model=model)
        assert h.max() == pytest.approx(0.0, abs=1e-12)  # the iteration's limit


@SETTINGS
@given(
    G=naive.random_graph_strategy(),
    data=st.data(),
    model=st.sampled_from(["linear", "leontief"]),
)
def test_bounds_monotone_and_matches_naive(G, data, model):
    nodes = list(G.nodes)
    edges = list(G.edges)
    cuts = st.sampled_from([0.0, 0.25, 0.5, 1.0])
    node_cut = {u: data.draw(cuts) for u in data.draw(st.lists(st.sampled_from(nodes), max_size=3))}
    edge_cut = {}
    if edges:
        edge_cut = {
            e: data.draw(cuts) for e in data.draw(st.lists(st.sampled_from(edges), max_size=2))
        }
    h = propagate(G, node_cut, edge_cut, model=model)
    assert ((h >= 0) & (h <= 1)).all()
    # matches the naive fixed-point iteration
    ref = naive.naive_propagate(G, node_cut, edge_cut, model)
    for v in nodes:
        assert h[v] == pytest.approx(ref[v], abs=1e-9)
    # a bigger shock never raises any h
    bigger = {u: min(1.0, c + 0.3) for u, c in node_cut.items()}
    extra = data.draw(st.sampled_from(nodes))
    bigger[extra] = max(bigger.get(extra, 0.0), 0.5)
    h2 = propagate(G, bigger, edge_cut, model=model)
    assert (h2 <= h + 1e-12).all()


@SETTINGS
@given(G=naive.random_graph_strategy(), data=st.data())
def test_leontief_loses_at_least_linear(G, data):
    nodes = list(G.nodes)
    node_cut = {
        u: data.draw(st.sampled_from([0.3, 1.0]))
        for u in data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=2))
    }
    lin = propagate(G, node_cut)
    leo = propagate(G, node_cut, model="leontief")
    assert (leo <= lin + 1e-12).all()
