"""Dependency matrix: hand values, the hypothetical-extraction identity, naive re-simulation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplygraph.analysis.dependency import dependency, flow_throughput
from supplygraph.errors import ScenarioError

_spec = importlib.util.spec_from_file_location(
    "_kernel_naive", Path(__file__).with_name("_kernel_naive.py")
)
naive = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(naive)

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def six_node_dag() -> nx.DiGraph:
    G = nx.DiGraph()
    G.graph["stages"] = ["mining", "separation", "metal", "magnets"]
    for u, s, c in [
        ("A", "mining", "CHN"),
        ("B", "mining", "AUS"),
        ("S", "separation", "CHN"),
        ("T", "separation", "MYS"),
        ("D", "metal", "VNM"),
        ("M", "magnets", "JPN"),
    ]:
        G.add_node(u, stage=s, country=c)
    G.nodes["T"]["external_input"] = 1.0
    G.add_edge("A", "S", flow=6.0)  # a = 0.75
    G.add_edge("B", "S", flow=2.0)  # a = 0.25
    G.add_edge("B", "T", flow=3.0)  # a = 0.75 (ext 0.25)
    G.add_edge("S", "M", flow=4.0)  # a = 0.4
    G.add_edge("T", "M", flow=4.0)  # a = 0.4
    G.add_edge("D", "M", flow=2.0)  # a = 0.2
    return G


def test_linear_hand_values():
    D = dependency(six_node_dag())
    assert list(D.columns) == ["M"]  # the only sink
    expected = {
        "A": 0.75 * 0.4,  # A -> S -> M
        "B": 0.25 * 0.4 + 0.75 * 0.4,  # B -> S -> M and B -> T -> M
        "S": 0.4,
        "T": 0.4,
        "D": 0.2,
        "M": 1.0,
    }
    for u, x in expected.items():
        assert D.loc[u, "M"] == pytest.approx(x, abs=1e-15)


def test_leontief_hand_values():
    D = dependency(six_node_dag(), model="leontief")
    # remove A: S = 0.25, T = 1, separation group 0.625 -> loss 0.375
    assert D.loc["A", "M"] == pytest.approx(0.375)
    # remove B: S = 0.75, T = 0.25 (external only) -> group 0.5 -> loss 0.5 (linear 0.4)
    assert D.loc["B", "M"] == pytest.approx(0.5)
    # remove D: the metal group is empty -> loss 1 (linear 0.2)
    assert D.loc["D", "M"] == pytest.approx(1.0)
    assert D.loc["S", "M"] == pytest.approx(0.5)
    assert D.loc["M", "M"] == 1.0


def test_targets_argument():
    G = six_node_dag()
    D = dependency(G, targets=["S", "M"])
    assert list(D.columns) == ["S", "M"]
    assert D.loc["A", "S"] == pytest.approx(0.75)
    assert D.loc["M", "S"] == 0.0  # downstream nodes never hurt upstream ones
    with pytest.raises(ScenarioError, match="not a node"):
        dependency(G, targets=["nope"])


def cyclic_graph() -> nx.DiGraph:
    """Cycles (1 <-> 2, 1 -> 3 -> ... ) with self-loops and external inputs."""
    G = nx.DiGraph()
    G.add_node(0)
    G.add_node(1, external_input=0.5)
    G.add_node(2, external_input=1.0)
    G.add_node(3)
    G.add_node(4, external_input=0.25)
    G.add_edge(0, 1, flow=2.0)
    G.add_edge(2, 1, flow=1.0)
    G.add_edge(1, 1, flow=0.5)  # self-loop
    G.add_edge(1, 2, flow=2.0)
    G.add_edge(2, 3, flow=1.0)
    G.add_edge(1, 3, flow=1.0)
    G.add_edge(3, 3, flow=1.0)  # self-loop
    G.add_edge(3, 1, flow=0.5)  # a second cycle 1 -> 3 -> 1
    G.add_edge(3, 4, flow=2.0)
    G.add_edge(0, 4, flow=1.0)
    return G


def _dense_leontief_inverse(G, nodes):
    """Independent L = (I - A)^-1 from the flows, with a plain dense numpy inverse."""
    idx = {u: i for i, u in enumerate(nodes)}
    A = np.zeros((len(nodes), len(nodes)))
    for v in nodes:
        tot = sum(d["flow"] for _, _, d in G.in_edges(v, data=True))
        tot += G.nodes[v].get("external_input", 0.0)
        for u, _, d in G.in_edges(v, data=True):
            A[idx[u], idx[v]] = d["flow"] / tot
    return np.linalg.inv(np.eye(len(nodes)) - A)


def test_hypothetical_extraction_identity_on_cyclic_graph():
    G = cyclic_graph()
    nodes = list(G.nodes)
    L = _dense_leontief_inverse(G, nodes)
    D = dependency(G, targets=nodes)
    # L[u, u] > 1 on the cycles: the identity needs the diagonal correction
    assert L[1, 1] > 1.0 and L[3, 3] > 1.0
    for i, u in enumerate(nodes):
        for j, t in enumerate(nodes):
            assert D.loc[u, t] == pytest.approx(L[i, j] / L[i, i], abs=1e-12)
    # and equals a naive re-simulation that fixes h_u = 0 and iterates
    for u in nodes:
        ref = naive.naive_removal_loss(G, u, nodes)
        for t in nodes:
            assert D.loc[u, t] == pytest.approx(ref[t], abs=1e-9)


def test_closed_cycle_removal_stops_the_cycle():
    G = nx.DiGraph()
    G.add_edge("a", "b", flow=1.0)
    G.add_edge("b", "a", flow=3.0)
    G.add_edge("a", "a", flow=1.0)
    G.add_edge("b", "c", flow=1.0)
    G.add_edge("m", "c", flow=1.0)
    D = dependency(G)
    assert D.loc["a", "c"] == pytest.approx(0.5)
    assert D.loc["b", "c"] == pytest.approx(0.5)
    assert D.loc["m", "c"] == pytest.approx(0.5)
    for u in G:
        assert D.loc[u, "c"] == pytest.approx(naive.naive_removal_loss(G, u, ["c"])["c"], abs=1e-9)


def test_flow_throughput():
    G = six_node_dag()
    x = flow_throughput(G)
    # one target (M, weight 1): throughput = L[:, M] = the linear dependency on a DAG
    D = dependency(G)
    for u in G:
        assert x[u] == pytest.approx(D.loc[u, "M"], abs=1e-15)
    G2 = cyclic_graph()
    nodes = list(G2.nodes)
    L = _dense_leontief_inverse(G2, nodes)
    x2 = flow_throughput(G2, targets=[4])
    for i, _u in enumerate(nodes):
        assert x2.iloc[i] == pytest.approx(L[i, 4], abs=1e-12)


@SETTINGS
@given(G=naive.random_graph_strategy())
def test_linear_dependency_equals_naive_resimulation(G):
    targets = list(G.nodes)
    D = dependency(G, targets=targets)
    assert ((D.values >= 0) & (D.values <= 1)).all()
    for u in G:
        ref = naive.naive_removal_loss(G, u, targets)
        for t in targets:
            assert D.loc[u, t] == pytest.approx(ref[t], abs=1e-9)


@SETTINGS
@given(G=naive.random_graph_strategy())
def test_leontief_dependency_equals_naive_and_dominates_linear(G):
    targets = list(G.nodes)
    D = dependency(G, targets=targets, model="leontief")
    Dl = dependency(G, targets=targets)
    assert (D.values >= Dl.values - 1e-9).all()
    for u in G:
        ref = naive.naive_removal_loss(G, u, targets, model="leontief")
        for t in targets:
            assert D.loc[u, t] == pytest.approx(ref[t], abs=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(G=naive.random_graph_strategy(max_nodes=9, cyclic=False))
def test_batched_dag_sweep_equals_naive(G):
    # acyclic graphs take the batched level-synchronous path for leontief
    targets = list(G.nodes)
    D = dependency(G, targets=targets, model="leontief")
    for u in G:
        ref = naive.naive_removal_loss(G, u, targets, model="leontief")
        for t in targets:
            assert D.loc[u, t] == pytest.approx(ref[t], abs=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(G=naive.random_graph_strategy())
def test_deep_graph_path_matches_level_path(G):
    # graphs with many levels are solved in one call (triangular solve / natural-order LU)
    from supplygraph.analysis import propagation
    from supplygraph.analysis.origins import origin_shares

    targets = list(G.nodes)
    D_level = dependency(G, targets=targets)
    o_level = origin_shares(G)
    h_level = propagation.propagate(G, {targets[0]: 0.5})
    old = propagation.DEEP_LEVELS
    propagation.DEEP_LEVELS = -1
    try:
        D_deep = dependency(G, targets=targets)
        o_deep = origin_shares(G)
        h_deep = propagation.propagate(G, {targets[0]: 0.5})
    finally:
        propagation.DEEP_LEVELS = old
    np.testing.assert_allclose(D_deep.values, D_level.values, atol=1e-10)
    np.testing.assert_allclose(o_deep.values, o_level.values, atol=1e-10)
    np.testing.assert_allclose(h_deep.values, h_level.values, atol=1e-10)


# ------------------------------------------------------- all-scenario kernel on cyclic graphs
def _scenario_sets(G, draw_sets):
    nodes = list(G.nodes)
    return [[nodes[i % len(nodes)] for i in s] for s in draw_sets]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    G=naive.random_graph_strategy(max_nodes=10),
    sets=st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=3), min_size=1, max_size=6),
    model=st.sampled_from(["linear", "leontief"]),
    batch=st.sampled_from([None, 1]),
    exact=st.booleans(),
)
def test_all_scenarios_kernel_equals_naive_on_cyclic_graphs(G, sets, model, batch, exact):
    # several nodes per scenario, cycles and self-loops; with batch=1 every scenario is its own
    # support batch, with exact=True the linear model skips the iteration for the exact solve
    from supplygraph.analysis import cyclic_levels
    from supplygraph.analysis.dependency import scenario_losses, target_positions
    from supplygraph.compiled import compile_graph

    cg = compile_graph(G)
    targets = list(G.nodes)
    tpos = target_positions(cg, targets)
    named = _scenario_sets(G, sets)
    scen = [np.array(sorted({cg.index[u] for u in s}), dtype=np.int64) for s in named]
    old = cyclic_levels.MAX_SUPPORT, cyclic_levels.LINEAR_ITERATIONS
    try:
        if batch:
            cyclic_levels.MAX_SUPPORT = batch
        if exact:
            cyclic_levels.LINEAR_ITERATIONS = 0
        L = scenario_losses(cg, scen, model, tpos, progress=False).toarray()
    finally:
        cyclic_levels.MAX_SUPPORT, cyclic_levels.LINEAR_ITERATIONS = old
    for i, s in enumerate(named):
        h = naive.naive_propagate(G, dict.fromkeys(s, 1.0), model=model)
        for j, t in enumerate(targets):
            assert L[i, j] == pytest.approx(1.0 - h[t], abs=1e-9)


def test_all_scenarios_kernel_does_not_depend_on_the_batch():
    # each scenario iterates to its own convergence: a subset gives bit-identical rows
    from supplygraph.analysis.dependency import scenario_losses, target_positions
    from supplygraph.compiled import compile_graph

    G = cyclic_graph()
    G.add_edge(4, 0, flow=0.7)  # a long feedback loop: many sweeps for scenarios upstream of it
    cg = compile_graph(G)
    tpos = target_positions(cg, list(G.nodes))
    for model in ("linear", "leontief"):
        full = scenario_losses(cg, np.arange(cg.n), model, tpos, progress=False).toarray()
        for p in range(cg.n):
            one = scenario_losses(cg, np.array([p]), model, tpos, progress=False).toarray()
            assert (one[0] == full[p]).all()


def test_leontief_removal_inside_a_closed_cycle_stops_it():
    # a <-> b trade only with each other (closed); removing a stops b and what b supplies
    G = nx.DiGraph()
    G.add_edge("a", "b", flow=1.0)
    G.add_edge("b", "a", flow=1.0)
    G.add_edge("b", "c", flow=1.0)
    G.add_edge("m", "c", flow=3.0)
    D = dependency(G, targets=["a", "b", "c"], model="leontief")
    # c has one input group (both suppliers unstaged): substitutes, so it loses b's share 1/4
    assert D.loc["a"].tolist() == pytest.approx([1.0, 1.0, 0.25])
    assert D.loc["m"].tolist() == pytest.approx([0.0, 0.0, 0.75])
