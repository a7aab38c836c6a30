"""Supply responses: identities, bounds and hand examples (rules, optimal, none).

Every expectation here is derived independently of the code under test: by hand, from the
no-response propagation (a separate kernel), from networkx's maximum flow, or from the program's
own duality (strong duality is a property of the optimum, not of our code).
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import supplygraph as sg
from supplygraph.analysis import optimal
from supplygraph.analysis.optimal import build_lp
from supplygraph.analysis.propagation import cut_arrays, propagate, propagate_arrays
from supplygraph.analysis.response_arrays import build_problem
from supplygraph.analysis.response_options import Response
from supplygraph.analysis.rules import solve_rules, waterfill
from supplygraph.analysis.shocks import resolve_shocks
from supplygraph.compiled import compile_graph
from supplygraph.errors import ScenarioError

# ---------------------------------------------------------------------------------------------
# the hand example of the issue


def hand_graph():
    G = nx.DiGraph(stages=["magnets", "end_use"])
    G.add_node("CHN:magnets", stage="magnets", country="CHN", value=100.0, capacity=100.0)
    G.add_node("USA:magnets", stage="magnets", country="USA", value=10.0, capacity=20.0)
    G.add_node("USA:cars", stage="end_use", country="USA", end_use="vehicles")
    G.add_node("JPN:cars", stage="end_use", country="JPN", end_use="vehicles")
    G.add_edge("CHN:magnets", "USA:cars", flow=25.0)
    G.add_edge("CHN:magnets", "JPN:cars", flow=75.0)
    G.add_edge("USA:magnets", "USA:cars", flow=5.0)
    G.add_edge("USA:magnets", "JPN:cars", flow=5.0)
    return G


BAN = "CHN:magnets->USA:cars"


def test_hand_example_no_response():
    r = sg.disrupt(hand_graph(), BAN)
    assert r.targets.loc["USA:cars", "remaining"] == pytest.approx(5 / 30, abs=1e-12)
    assert r.targets.loc["JPN:cars", "remaining"] == pytest.approx(1.0, abs=1e-12)


def test_hand_example_rules():
    # the US end use re-sources its lost 25 from its other supplier, US magnets, which has 10
    # spare: 5 + 10 = 15 of 30; Japan keeps its 80
    r = sg.disrupt(hand_graph(), BAN, response="rules")
    assert r.targets.loc["USA:cars", "remaining"] == pytest.approx(15 / 30, abs=1e-12)
    assert r.targets.loc["JPN:cars", "remaining"] == pytest.approx(1.0, abs=1e-12)
    assert r.nodes.loc["USA:magnets", "output"] == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("floor", ["no-response", "zero"])
def test_hand_example_optimal(floor):
    # Japan buys 5 more from China, freeing all 20 of US magnets for the US: 20 of 30
    r = sg.disrupt(hand_graph(), BAN, response=Response("optimal", floor=floor))
    assert r.targets.loc["USA:cars", "remaining"] == pytest.approx(20 / 30, abs=1e-9)
    assert r.targets.loc["JPN:cars", "remaining"] == pytest.approx(1.0, abs=1e-9)
    assert r.targets.loc["USA:cars", "remaining_joint"] == pytest.approx(20 / 30, abs=1e-9)
    sentence = r.by_end_use.loc["vehicles", "binding"]
    assert "magnets capacity in USA" in sentence
    assert "the ban on CHN magnets sales to USA" in sentence


def test_hand_example_total_is_the_joint_optimum():
    r = sg.disrupt(hand_graph(), BAN, response="optimal")
    # both end uses in one unit: output-weighted, (20 + 80) / (30 + 80)
    assert r.total_loss_share == pytest.approx(1 - 100 / 110, abs=1e-9)
    assert r.by_end_use.loc["total", "lost"] == pytest.approx(10.0, abs=1e-7)


# ---------------------------------------------------------------------------------------------
# random supply graphs


def random_graph(
    seed: int,
    *,
    n_layers: int = 4,
    width: int = 4,
    spare: float = 0.5,
    materials: bool = False,
    cycles: bool = False,
    external: bool = True,
    balanced: bool = False,
) -> nx.DiGraph:
    """A layered supply graph with random flows, values, capacities and countries."""
    rng = np.random.default_rng(seed)
    stages = [f"s{k}" for k in range(n_layers)]
    G = nx.DiGraph(stages=stages)
    layers = []
    for k, stage in enumerate(stages):
        ids = [f"{stage}-{i}" for i in range(width if k < n_layers - 1 else max(2, width // 2))]
        for i, node in enumerate(ids):
            G.add_node(node, stage=stage, country=["AAA", "BBB", "CCC"][i % 3])
            if k == n_layers - 1:
                G.nodes[node]["end_use"] = f"use{i % 2}"
        layers.append(ids)
    for k in range(1, n_layers):
        for v in layers[k]:
            sup = rng.choice(len(layers[k - 1]), size=int(rng.integers(1, 4)), replace=False)
            for j in sup:
                u = layers[k - 1][int(j)]
                attrs = {"flow": float(rng.integers(1, 20))}
                if materials and k >= 2 and rng.random() < 0.5:
                    attrs["material"] = "alpha" if rng.random() < 0.5 else "beta"
                G.add_edge(u, v, **attrs)
            if k >= 2 and rng.random() < 0.3:  # a cross-stage link
                u = layers[k - 2][int(rng.integers(len(layers[k - 2])))]
                G.add_edge(u, v, flow=float(rng.integers(1, 10)))
    if cycles:
        for _ in range(3):
            k = int(rng.integers(1, n_layers - 1))
            a, b = rng.choice(len(layers[k]), size=2, replace=False)
            # a 2-cycle within a stage (intra-stage trade)
            G.add_edge(layers[k][int(a)], layers[k][int(b)], flow=float(rng.integers(1, 5)))
            G.add_edge(layers[k][int(b)], layers[k][int(a)], flow=float(rng.integers(1, 5)))
    for v in G.nodes:
        inflow = sum(d["flow"] for _, _, d in G.in_edges(v, data=True))
        outflow = sum(d["flow"] for _, _, d in G.out_edges(v, data=True))
        if external and inflow > 0 and rng.random() < 0.3:
            G.nodes[v]["external_input"] = float(rng.integers(1, 5))
        base = outflow if G.in_degree(v) == 0 else inflow
        value = base if balanced else base * float(rng.uniform(0.6, 1.4))
        if value <= 0:
            value = 1.0
        G.nodes[v]["value"] = value
        if rng.random() < spare:
            G.nodes[v]["capacity"] = value * float(rng.uniform(1.0, 2.0))
    return G


def random_shocks(G: nx.DiGraph, seed: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed + 1000)
    nodes = [v for v in G.nodes if G.out_degree(v) > 0]
    node_cut = {
        nodes[int(i)]: float(rng.choice([0.25, 0.5, 1.0]))
        for i in rng.choice(len(nodes), size=2, replace=False)
    }
    edges = list(G.edges)
    edge_cut = {
        edges[int(i)]: float(rng.choice([0.5, 0.75, 1.0]))
        for i in rng.choice(len(edges), size=3, replace=False)
    }
    return node_cut, edge_cut


def solve(G, node_cut, edge_cut, response, model="linear", targets=None):
    """x (rules) per position, plus the problem, for a graph and cut dicts."""
    cg = compile_graph(G)
    cap, keep = cut_arrays(cg, node_cut, edge_cut)
    prob = build_problem(G, cg, cap, keep, response, model)
    return cg, prob, cap, keep


def none_h(G, node_cut, edge_cut, model="linear"):
    cg = compile_graph(G)
    h = propagate(G, node_cut, edge_cut, model=model)
    return np.array([h[v] for v in cg.nodes])


def rules_x(G, node_cut, edge_cut, response, model="linear"):
    from supplygraph.analysis.propagation import _closed_values

    cg, prob, cap, keep = solve(G, node_cut, edge_cut, response, model)
    closed = _closed_values(cg, cap, keep)[:, None] if cg.closed_node.any() else None
    return solve_rules(prob, closed_values=closed).x[:, 0]


@pytest.mark.parametrize("model", ["linear", "leontief"])
@pytest.mark.parametrize("seed", range(6))
def test_rules_without_resourcing_and_spare_is_the_no_response_model(seed, model):
    G = random_graph(seed, spare=0.0, materials=model == "leontief")
    node_cut, edge_cut = random_shocks(G, seed)
    x = rules_x(G, node_cut, edge_cut, Response("rules", substitution="none"), model)
    np.testing.assert_allclose(x, none_h(G, node_cut, edge_cut, model), rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["linear", "leontief"])
@pytest.mark.parametrize("seed", range(4))
def test_rules_with_nothing_to_spare_is_the_no_response_model(seed, model):
    # no spare capacity and only node cuts (no export rule withholds anything): re-sourcing
    # has nothing to draw on, so every node keeps exactly its no-response output
    G = random_graph(seed, spare=0.0, materials=model == "leontief")
    node_cut, _ = random_shocks(G, seed)
    x = rules_x(G, node_cut, {}, Response("rules", substitution="edges"), model)
    np.testing.assert_allclose(x, none_h(G, node_cut, {}, model), rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["linear", "leontief"])
@pytest.mark.parametrize("seed", range(4))
def test_rules_on_cyclic_graphs_reduces_to_no_response(seed, model):
    G = random_graph(seed, spare=0.0, materials=model == "leontief", cycles=True)
    assert not nx.is_directed_acyclic_graph(G)
    node_cut, edge_cut = random_shocks(G, seed)
    x = rules_x(G, node_cut, edge_cut, Response("rules", substitution="none"), model)
    np.testing.assert_allclose(x, none_h(G, node_cut, edge_cut, model), rtol=0, atol=1e-9)


def node_bounds(G, node_cut, edge_cut, response, model="linear"):
    """The LP bound of every node alone (its own program), floor zero."""
    cg, prob, _, _ = solve(G, node_cut, edge_cut, response, model)
    allpos = np.arange(cg.n)
    lp = build_lp(prob, allpos)
    out = np.zeros(cg.n)
    for i in range(cg.n):
        c = np.zeros(cg.n)
        c[i] = 1.0
        out[i] = lp.solve(c).value
    return out


SANDWICH = [
    ("linear", "edges", "proportional", False),
    ("linear", "stage", "proportional", False),
    ("linear", "edges", "maxmin", False),
    ("leontief", "edges", "proportional", False),
    ("leontief", "stage", "maxmin", False),
    ("linear", "edges", "proportional", True),
    ("leontief", "edges", "proportional", True),
]


@pytest.mark.parametrize(("model", "substitution", "rationing", "cycles"), SANDWICH)
@pytest.mark.parametrize("seed", range(5))
def test_sandwich_none_rules_optimal_node_by_node(seed, model, substitution, rationing, cycles):
    G = random_graph(seed, materials=model == "leontief", cycles=cycles)
    node_cut, edge_cut = random_shocks(G, seed)
    h0 = none_h(G, node_cut, edge_cut, model)
    x = rules_x(
        G,
        node_cut,
        edge_cut,
        Response("rules", substitution=substitution, rationing=rationing),
        model,
    )
    ub = node_bounds(G, node_cut, edge_cut, Response("optimal", substitution=substitution), model)
    tol = 1e-9
    assert np.all(np.minimum(x, 1.0) >= h0 - tol), "rules below the no-response model"
    assert np.all(np.minimum(x, 1.0) <= ub + 1e-7), "rules above the optimal bound"


def test_priority_rationing_respects_the_sandwich():
    G = random_graph(3)
    node_cut, edge_cut = random_shocks(G, 3)
    resp = Response.of("rules", priority=["domestic", "BBB"])
    x = rules_x(G, node_cut, edge_cut, resp)
    assert np.all(np.minimum(x, 1) >= none_h(G, node_cut, edge_cut) - 1e-9)
    assert np.all(
        np.minimum(x, 1) <= node_bounds(G, node_cut, edge_cut, Response("optimal")) + 1e-7
    )


@pytest.mark.parametrize("seed", range(4))
def test_optimal_default_floor_keeps_every_target_at_least_its_no_response_value(seed):
    G = random_graph(seed)
    node_cut, edge_cut = random_shocks(G, seed)
    shocks = [f"{u}=" + str(c) for u, c in node_cut.items()]
    shocks += [f"{u}->{v}={c}" for (u, v), c in edge_cut.items()]
    none = sg.disrupt(G, shocks)
    opt = sg.disrupt(G, shocks, response="optimal")
    rules = sg.disrupt(G, shocks, response="rules")
    assert np.all(opt.targets["remaining_joint"] >= none.targets["remaining"] - 1e-8)
    assert np.all(opt.targets["remaining"] >= rules.targets["remaining"] - 1e-7)
    for eu in opt.by_end_use.index:
        assert opt.by_end_use.loc[eu, "remaining"] >= rules.by_end_use.loc[eu, "remaining"] - 1e-7
        assert rules.by_end_use.loc[eu, "remaining"] >= none.by_end_use.loc[eu, "remaining"] - 1e-9


# ---------------------------------------------------------------------------------------------
# monotonicity (property tests)


def total_bound(G, node_cut, edge_cut, model="linear"):
    """Every target's own optimal bound (floor zero)."""
    cg, prob, _, _ = solve(G, node_cut, edge_cut, Response("optimal", floor="zero"), model)
    tpos = np.flatnonzero(cg.is_sink)
    lp = build_lp(prob, tpos)
    return np.array([lp.solve(np.eye(len(tpos))[i]).value for i in range(len(tpos))])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    bump=st.floats(1.0, 3.0),
    model=st.sampled_from(["linear", "leontief"]),
)
def test_more_capacity_never_lowers_the_optimum_or_no_response(seed, bump, model):
    G = random_graph(seed, materials=model == "leontief")
    node_cut, edge_cut = random_shocks(G, seed)
    H = G.copy()
    v = sorted(H.nodes)[seed % H.number_of_nodes()]
    H.nodes[v]["capacity"] = H.nodes[v].get("capacity", H.nodes[v]["value"]) * bump
    # every target's own bound can only grow (the feasible set grows) ...
    before = total_bound(G, node_cut, edge_cut, model)
    assert np.all(total_bound(H, node_cut, edge_cut, model) >= before - 1e-8)
    # ... and the no-response model ignores capacity altogether
    assert np.array_equal(
        none_h(H, node_cut, edge_cut, model), none_h(G, node_cut, edge_cut, model)
    )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), extra=st.floats(0.05, 0.5))
def test_deeper_cut_never_raises_the_optimum_or_no_response(seed, extra):
    G = random_graph(seed)
    node_cut, edge_cut = random_shocks(G, seed)
    deeper = {k: min(1.0, c + extra) for k, c in node_cut.items()}
    assert np.all(total_bound(G, deeper, edge_cut) <= total_bound(G, node_cut, edge_cut) + 1e-8)
    assert np.all(none_h(G, deeper, edge_cut) <= none_h(G, node_cut, edge_cut) + 1e-12)


def competition_graph(capacity_a: float) -> nx.DiGraph:
    """Two magnet makers A and B share supplier S's 6 units of spare metal."""
    G = nx.DiGraph(stages=["metal", "magnets", "use"])
    G.add_node("S", stage="metal", country="AAA", value=10.0, capacity=16.0)
    G.add_node("X", stage="metal", country="XXX", value=10.0)
    G.add_node("Y", stage="magnets", country="YYY", value=10.0)
    G.add_node("A", stage="magnets", country="AAA", value=10.0, capacity=capacity_a)
    G.add_node("B", stage="magnets", country="BBB", value=10.0)
    G.add_node("EA", stage="use", country="AAA", end_use="a")
    G.add_node("EB", stage="use", country="BBB", end_use="b")
    links = [("S", "A", 5), ("S", "B", 5), ("X", "A", 5), ("X", "B", 5), ("Y", "EA", 10)]
    links += [("A", "EA", 10), ("B", "EB", 10)]
    for u, v, f in links:
        G.add_edge(u, v, flow=float(f))
    return G


def test_rules_extra_capacity_competes_for_shared_spare():
    # By hand. X and Y banned. Each maker lost half its metal; S has 6 spare, and nobody orders
    # more from a supplier than it could spare.
    # A without spare capacity: A and B each order 5 from S and get 3: both at 0.8;
    # EA 8/20, EB 8/10.
    # A with capacity 20: EA (short 15) orders 15 from A, whose target becomes 2, so A is short
    # 15 of metal and orders min(15, 6) = 6 from S; B orders 5. S shares its 6 in proportion:
    # 36/11 to A, 30/11 to B. EA gets (5 + 36/11)/20, EB (5 + 30/11)/10. The 6 spare units are
    # used either way -- the rules are not monotone node by node (a competitor with more
    # capacity takes more of a shared spare), while the optimum and the no-response model are
    # (tests above).
    shocks = ["X", "Y"]
    before = sg.disrupt(competition_graph(10.0), shocks, response="rules").targets
    after = sg.disrupt(competition_graph(20.0), shocks, response="rules").targets
    assert before.loc["EA", "remaining"] == pytest.approx(8 / 20, abs=1e-9)
    assert before.loc["EB", "remaining"] == pytest.approx(8 / 10, abs=1e-9)
    assert after.loc["EA", "remaining"] == pytest.approx((5 + 36 / 11) / 20, abs=1e-9)
    assert after.loc["EB", "remaining"] == pytest.approx((5 + 30 / 11) / 10, abs=1e-9)
    # nobody falls below no response, and the optimum bounds both
    none = sg.disrupt(competition_graph(20.0), shocks).targets
    assert after.loc["EB", "remaining"] >= none.loc["EB", "remaining"]
    opt = sg.disrupt(competition_graph(20.0), shocks, response="optimal").targets
    assert np.all(opt["remaining"] >= after["remaining"] - 1e-9)


# ---------------------------------------------------------------------------------------------
# the optimum against networkx's maximum flow


def balanced_graph(seed: int, *, spread: bool = False) -> nx.DiGraph:
    """A mass-balanced single-material graph: inflow = value = outflow at every node (with
    ``spread``, each path's units times 10**k, k from -3 to 4)."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph(stages=["a", "b", "c", "d"])
    layers = [[f"{s}{i}" for i in range(4)] for s in "abc"] + [["d0", "d1", "d2"]]
    for k, ids in enumerate(layers):
        for v in ids:
            G.add_node(v, stage="abcd"[k], country=["X", "Y"][len(v) % 2])
    # route integral units from sources to sinks along random paths: balanced by construction
    for _ in range(40):
        path = [layers[k][int(rng.integers(len(layers[k])))] for k in range(4)]
        units = float(rng.integers(1, 5))
        if spread:
            units *= 10.0 ** float(rng.integers(-3, 5))
        for u, v in itertools.pairwise(path):
            if G.has_edge(u, v):
                G.edges[u, v]["flow"] += units
            else:
                G.add_edge(u, v, flow=units)
    for v in list(G.nodes):
        if G.degree(v) == 0:
            G.remove_node(v)
            continue
        inflow = sum(d["flow"] for _, _, d in G.in_edges(v, data=True))
        outflow = sum(d["flow"] for _, _, d in G.out_edges(v, data=True))
        G.nodes[v]["value"] = inflow if inflow > 0 else outflow
        if rng.random() < 0.5:
            extra, value = float(rng.integers(0, 6)), G.nodes[v]["value"]
            G.nodes[v]["capacity"] = value * (1 + extra / 10) if spread else value + extra
    return G


def networkx_max_flow(G, node_cut, edge_cut):
    """Max flow with node capacities by node splitting and end uses capped at their demand."""
    F = nx.DiGraph()
    for v, d in G.nodes(data=True):
        cap = (1 - node_cut.get(v, 0.0)) * d.get("capacity", d["value"])
        F.add_edge((v, "in"), (v, "out"), capacity=cap)
        if G.in_degree(v) == 0:
            F.add_edge("S", (v, "in"), capacity=cap)
        if G.out_degree(v) == 0:
            F.add_edge((v, "out"), "T", capacity=d["value"])
    for u, v, d in G.edges(data=True):
        c = edge_cut.get((u, v))
        attrs = {} if c is None else {"capacity": (1 - c) * d["flow"]}
        F.add_edge((u, "out"), (v, "in"), **attrs)
    return nx.maximum_flow_value(F, "S", "T")


@pytest.mark.parametrize("restrict", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_optimal_equals_networkx_max_flow_on_balanced_graphs(seed, restrict):
    G = balanced_graph(seed)
    node_cut, edge_cut = random_shocks(G, seed)
    cg, prob, _, _ = solve(G, node_cut, edge_cut, Response("optimal", floor="zero"))
    tpos = np.flatnonzero(cg.is_sink)
    demand = cg.baseline[tpos]
    value = build_lp(prob, tpos).solve(demand, restrict=restrict).value  # delivered quantities
    assert value == pytest.approx(networkx_max_flow(G, node_cut, edge_cut), rel=1e-9, abs=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_optimal_is_exact_when_flows_span_seven_orders_of_magnitude(seed):
    """The program is scaled: path units from 1e-3 to 4e4 leave the max flow exact."""
    G = balanced_graph(seed, spread=True)
    node_cut, edge_cut = random_shocks(G, seed)
    cg, prob, _, _ = solve(G, node_cut, edge_cut, Response("optimal", floor="zero"))
    tpos = np.flatnonzero(cg.is_sink)
    value = build_lp(prob, tpos).solve(cg.baseline[tpos]).value
    assert value == pytest.approx(networkx_max_flow(G, node_cut, edge_cut), rel=1e-9)


def generated_chain(n: int) -> nx.DiGraph:
    """A seeded acyclic chain from the benchmark generator (benchmarks/generate.py)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("sg_bench_generate_response", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    nodes, edges, names = module.generate_frames(n, seed=n, back_edges=0.0, self_loops=0.0)
    return module.frames_to_graph(nodes, edges, names)


def lagrangian_bound(lp, c, sol):
    """The upper bound the solution's own shadow prices give (weak duality, box bounds):
    ``max c@d <= pi@b + sum_j max(r_j lb_j, r_j ub_j)``, ``r = c_x - A' pi``; reduced costs
    below 1e-9 per normal-size unit of their variable count as 0."""
    N = lp.n + lp.M + lp.T
    cx = np.zeros(N)
    cx[lp.n + lp.M :] = c
    r = cx - lp.A.T @ sol.shadow_row
    r[np.abs(r * lp.ref) <= 1e-9] = 0.0
    with np.errstate(invalid="ignore"):
        best = np.where(r > 0, r * lp.ub, np.where(r < 0, r * lp.lb, 0.0))
    return float(sol.shadow_row @ lp.b + best.sum())


def assert_feasible(lp, sol, tol):
    """The solution meets every row (relative to the row's largest coefficient) and bound."""
    x = np.concatenate([sol.y, sol.f, sol.d])
    row_size = np.asarray(abs(lp.A).max(axis=1).todense()).ravel()
    assert np.all(lp.A @ x - lp.b <= tol * np.maximum(row_size, 1.0))
    assert np.all(x <= lp.ub + tol) and np.all(x >= lp.lb - tol)


@pytest.mark.parametrize("model", ["linear", "leontief"])
def test_optimum_of_a_3000_node_chain_is_certified_by_its_shadow_prices(model):
    """Feasible, and within 1e-8 of the bound its shadow prices give. Solved in absolute units
    at HiGHS's default tolerances (before the scaling), this all-targets optimum ended 3.7e-4
    below the optimum, its reduced costs off by 7e-6 and the bound infinite."""
    G = generated_chain(3000)
    cg = compile_graph(G)
    second = G.graph["stages"][1]
    firms = [v for v in cg.nodes if G.nodes[v]["stage"] == second]
    firms.sort(key=lambda v: -cg.baseline[cg.index[v]])
    cap = np.ones(cg.n)
    cap[[cg.index[v] for v in firms[:60]]] = 0.0
    prob = build_problem(G, cg, cap[:, None], None, Response("optimal"), model)
    tpos = np.flatnonzero(cg.is_sink)
    h0 = propagate_arrays(cg, cap, None, model)
    lp = build_lp(prob, tpos, floor=h0[tpos])
    c = cg.baseline[tpos] / cg.baseline[tpos].sum()
    sol = lp.solve(c)
    assert_feasible(lp, sol, 1e-12)
    assert sol.value < 1.0 - 1e-3  # the cut binds: a real program, not full supply
    assert lagrangian_bound(lp, c, sol) == pytest.approx(sol.value, abs=1e-8)


RESTRICTED = [
    ("linear", "edges", "zero", False),
    ("linear", "stage", "no-response", False),
    ("leontief", "edges", "no-response", False),
    ("leontief", "stage", "zero", False),
    ("linear", "edges", "no-response", True),
]


@pytest.mark.parametrize(("model", "substitution", "floor", "cycles"), RESTRICTED)
@pytest.mark.parametrize("seed", range(4))
def test_restricted_solve_reaches_the_whole_programs_optimum(
    seed, model, substitution, floor, cycles, monkeypatch
):
    """Solved where the shock reaches and certified by the duality gap, the program has the
    optimum of the whole program, with an allocation feasible for the whole program."""
    monkeypatch.setattr(optimal, "RESTRICT_SHARE", 1.0)  # never give way to the whole program
    G = random_graph(seed, n_layers=5, width=8, materials=model == "leontief", cycles=cycles)
    node_cut, edge_cut = random_shocks(G, seed)
    resp = Response("optimal", substitution=substitution, floor=floor)
    cg, prob, _, _ = solve(G, node_cut, edge_cut, resp, model)
    tpos = np.flatnonzero(cg.is_sink)
    fl = none_h(G, node_cut, edge_cut, model)[tpos] if floor == "no-response" else None
    c = cg.baseline[tpos] / cg.baseline[tpos].sum()
    whole = build_lp(prob, tpos, floor=fl).solve(c, restrict=False)
    lp = build_lp(prob, tpos, floor=fl)
    part = lp.solve(c, restrict=True)
    assert lp.rounds >= 1  # the restricted solve ran and certified its answer
    assert part.value == pytest.approx(whole.value, abs=1e-8)
    assert_feasible(lp, part, 1e-9)
    assert lagrangian_bound(lp, c, part) == pytest.approx(part.value, abs=1e-8)


@pytest.mark.parametrize("model", ["linear", "leontief"])
@pytest.mark.parametrize("seed", range(3))
def test_warm_started_resolves_equal_fresh_solves(seed, model, monkeypatch):
    """One HiGHS model re-solved from its last basis (new objectives, relaxed and restored
    bounds) gives the optimum a fresh scipy solve of each program gives."""
    G = random_graph(seed, n_layers=5, width=6, materials=model == "leontief")
    node_cut, edge_cut = random_shocks(G, seed)
    cg, prob, _, _ = solve(G, node_cut, edge_cut, Response("optimal", floor="zero"), model)
    tpos = np.flatnonzero(cg.is_sink)
    T = len(tpos)
    lp = build_lp(prob, tpos)
    relaxed = lp.ub * 1.3
    steps = [(np.full(T, 1.0 / T), None)] + [(np.eye(T)[i], None) for i in range(T)]
    steps += [(np.full(T, 1.0 / T), relaxed), (np.eye(T)[0], None), (np.eye(T)[0], relaxed)]
    warm = [lp.solve(c, ub=ub) for c, ub in steps]
    assert lp._model is not None  # the kept model did the work
    monkeypatch.setattr(optimal, "WARM", False)
    for (c, ub), got in zip(steps, warm, strict=True):
        fresh = build_lp(prob, tpos).solve(c, ub=ub)
        assert got.value == pytest.approx(fresh.value, abs=1e-9)
        if ub is None:  # its shadow prices prove it optimal
            assert lagrangian_bound(lp, c, got) == pytest.approx(got.value, abs=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_large_whole_program_path_gives_the_same_optimum(seed, monkeypatch):
    """Above IPM_ABOVE the whole program goes unscaled to the interior-point method: its
    optimum, allocation and shadow prices (back in the program's units) match dual simplex."""
    G = random_graph(seed, n_layers=5, width=6, materials=True)
    node_cut, edge_cut = random_shocks(G, seed)
    cg, prob, _, _ = solve(G, node_cut, edge_cut, Response("optimal", floor="zero"), "leontief")
    tpos = np.flatnonzero(cg.is_sink)
    c = cg.baseline[tpos] / cg.baseline[tpos].sum()
    small = build_lp(prob, tpos).solve(c, restrict=False)
    monkeypatch.setattr(optimal, "IPM_ABOVE", 10)
    lp = build_lp(prob, tpos)
    big = lp.solve(c, restrict=False)
    assert big.value == pytest.approx(small.value, abs=1e-7)
    assert_feasible(lp, big, 1e-7)
    assert lagrangian_bound(lp, c, big) == pytest.approx(big.value, abs=1e-6)


@pytest.mark.parametrize("restrict", [False, True])
def test_strong_duality_certificate(restrict):
    G = random_graph(11)
    node_cut, edge_cut = random_shocks(G, 11)
    cg, prob, _, _ = solve(G, node_cut, edge_cut, Response("optimal", floor="zero"))
    tpos = np.flatnonzero(cg.is_sink)
    lp = build_lp(prob, tpos)
    c = cg.baseline[tpos] / cg.baseline[tpos].sum()
    sol = lp.solve(c, restrict=restrict)
    fin = np.isfinite(lp.ub)
    dual_value = float(sol.shadow_row @ lp.b + sol.shadow_ub[fin] @ lp.ub[fin])
    assert dual_value == pytest.approx(sol.value, abs=1e-7)
    assert np.all(sol.shadow_ub >= -1e-9) and np.all(sol.shadow_row >= -1e-9)


def test_series_chain_bound_is_the_smallest_capacity_on_the_path():
    G = nx.DiGraph(stages=["a", "b", "c"])
    G.add_node("A", stage="a", country="X", value=10.0, capacity=12.0)
    G.add_node("B", stage="b", country="Y", value=10.0, capacity=10.5)
    G.add_node("C", stage="c", country="Z", value=10.0)
    G.add_edge("A", "B", flow=10.0)
    G.add_edge("B", "C", flow=10.0)
    r = sg.disrupt(G, "A=0.5", response=Response("optimal", floor="zero"))
    # A can make at most 0.5 * 12 = 6: C gets 6 of 10
    assert r.targets.loc["C", "remaining"] == pytest.approx(0.6, abs=1e-9)
    assert "the cut to a capacity in X" in r.by_end_use.iloc[0]["binding"]


# ---------------------------------------------------------------------------------------------
# rationing


@settings(max_examples=80, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.one_of(st.just(0.0), st.floats(1e-6, 5.0)),
            st.one_of(st.just(0.0), st.floats(1e-9, 10.0), st.just(np.inf)),
        ),
        min_size=1,
        max_size=12,
    ),
    amounts=st.lists(st.floats(0.0, 30.0), min_size=4, max_size=4),
)
def test_waterfill_conserves_and_levels(data, amounts):
    seg = np.array([d[0] for d in data])
    w = np.array([d[1] for d in data])
    c = np.array([d[2] for d in data])
    A = np.array(amounts)
    alloc = waterfill(seg, w, c, A, 4)
    assert np.all(alloc >= 0) and np.all(alloc <= c * (1 + 1e-12))
    assert np.all(alloc[w == 0] == 0)
    for s in range(4):
        sel = (seg == s) & (w > 0)
        total = alloc[seg == s].sum()
        assert total == pytest.approx(min(A[s], c[sel].sum()), rel=1e-9, abs=1e-12)
        # unsaturated items share one level theta = alloc / weight ...
        sat = sel & ((c == 0) | np.isclose(alloc, c, rtol=1e-9, atol=0))
        free = sel & ~sat
        if free.sum() > 1:
            ratios = alloc[free] / w[free]
            assert np.ptp(ratios) <= 1e-9 * max(1.0, ratios.max())
        # ... and a saturated item's level is no higher than theta
        if free.any() and sat.any():
            theta = np.min(alloc[free] / w[free])
            assert np.max(c[sat] / w[sat]) <= theta * (1 + 1e-9) + 1e-12


def shared_supplier_graph():
    """One supplier with 10 spare serves two short customers (orders 8 and 4)."""
    G = nx.DiGraph(stages=["m", "u"])
    G.add_node("S", stage="m", country="AAA", value=20.0, capacity=30.0)
    G.add_node("B1", stage="m", country="BBB", value=8.0)
    G.add_node("B2", stage="m", country="CCC", value=4.0)
    G.add_node("C1", stage="u", country="AAA", end_use="x")
    G.add_node("C2", stage="u", country="CCC", end_use="y")
    G.add_edge("S", "C1", flow=10.0)
    G.add_edge("S", "C2", flow=10.0)
    G.add_edge("B1", "C1", flow=8.0)
    G.add_edge("B2", "C2", flow=4.0)
    return G


@pytest.mark.parametrize(
    ("rationing", "priority", "expect"),
    [
        # 10 spare, orders 8 and 4: pro rata 10 * 8/12 and 10 * 4/12
        ("proportional", None, (10 + 10 * 8 / 12, 10 + 10 * 4 / 12)),
        # domestic (AAA -> AAA) first: C1 gets its 8, C2 the remaining 2
        ("priority", ["domestic"], (18.0, 12.0)),
        # CCC first: C2 gets its 4, C1 the remaining 6
        ("priority", ["CCC"], (16.0, 14.0)),
        # equal share of normal intake (18 and 14): theta * 18 + theta * 14 = 10 ... capped at
        # the orders: theta = 10 / 32 gives 5.625 and 4.375 > 4, so C2 gets 4 and C1 6
        ("maxmin", None, (16.0, 14.0)),
    ],
)
def test_rationing_rules_by_hand(rationing, priority, expect):
    G = shared_supplier_graph()
    r = sg.disrupt(
        G, ["B1", "B2"], response=Response.of("rules", rationing=rationing, priority=priority)
    )
    got = (r.targets.loc["C1", "remaining"] * 18, r.targets.loc["C2", "remaining"] * 14)
    assert got == pytest.approx(expect, abs=1e-9)
    # conservation: exactly the 10 spare units were handed out
    assert sum(got) == pytest.approx(10 + 10 + 10, abs=1e-9)


def test_withheld_exports_reach_other_customers_of_the_supplier():
    # A sells 10 to X (banned) and 10 to Y; Y also lost its other supplier B. Under the rules
    # Y re-sources 10 from A's withheld output; with no response Y keeps only A's 10 of 20
    G = nx.DiGraph(stages=["m", "u"])
    G.add_node("A", stage="m", country="AAA", value=20.0)
    G.add_node("B", stage="m", country="BBB", value=10.0)
    G.add_node("X", stage="u", country="XXX", end_use="e")
    G.add_node("Y", stage="u", country="YYY", end_use="e")
    G.add_edge("A", "X", flow=10.0)
    G.add_edge("A", "Y", flow=10.0)
    G.add_edge("B", "Y", flow=10.0)
    shocks = ["A->X", "B"]
    assert sg.disrupt(G, shocks).targets.loc["Y", "remaining"] == pytest.approx(0.5)
    assert sg.disrupt(G, shocks, response="rules").targets.loc["Y", "remaining"] == pytest.approx(
        1.0
    )


def test_stage_substitution_finds_a_new_supplier_unless_a_shock_covers_it():
    G = nx.DiGraph(stages=["m", "u"])
    G.add_node("A", stage="m", country="AAA", value=10.0)
    G.add_node("N", stage="m", country="NNN", value=10.0, capacity=20.0)
    G.add_node("X", stage="u", country="XXX", end_use="e")
    G.add_node("Z", stage="u", country="ZZZ", end_use="e")
    G.add_node("W", stage="u", country="XXX", end_use="e")
    G.add_edge("A", "X", flow=10.0)
    G.add_edge("N", "Z", flow=5.0)
    G.add_edge("N", "W", flow=5.0)
    edges = sg.disrupt(G, "A", response=Response("rules", substitution="edges"))
    stage = sg.disrupt(G, "A", response=Response("rules", substitution="stage"))
    assert edges.targets.loc["X", "remaining"] == pytest.approx(0.0)
    assert stage.targets.loc["X", "remaining"] == pytest.approx(1.0)  # 10 spare at N
    blocked = sg.disrupt(G, ["A", "NNN->XXX"], response=Response("rules", substitution="stage"))
    assert blocked.targets.loc["X", "remaining"] == pytest.approx(0.0)
    opt = sg.disrupt(G, ["A", "NNN->XXX"], response=Response("optimal", substitution="stage"))
    assert opt.targets.loc["X", "remaining"] == pytest.approx(0.0, abs=1e-9)


def test_spare_capacity_needs_inputs_upstream():
    # magnets M (spare) need metal; metal at capacity: the spare magnet capacity cannot help,
    # and the optimum names metal capacity as what binds
    G = nx.DiGraph(stages=["metal", "magnets", "use"])
    G.add_node("CHN:metal", stage="metal", country="CHN", value=10.0)
    G.add_node("JPN:metal", stage="metal", country="JPN", value=10.0)
    G.add_node("CHN:magnets", stage="magnets", country="CHN", value=10.0)
    G.add_node("USA:magnets", stage="magnets", country="USA", value=10.0, capacity=30.0)
    G.add_node("USA:use", stage="use", country="USA", end_use="defense")
    G.add_edge("CHN:metal", "USA:magnets", flow=5.0)
    G.add_edge("JPN:metal", "USA:magnets", flow=5.0)
    G.add_edge("CHN:metal", "CHN:magnets", flow=5.0)
    G.add_edge("JPN:metal", "CHN:magnets", flow=5.0)
    G.add_edge("CHN:magnets", "USA:use", flow=10.0)
    G.add_edge("USA:magnets", "USA:use", flow=10.0)
    shocks = ["CHN:magnets->USA:use"]
    none = sg.disrupt(G, shocks)
    opt = sg.disrupt(G, shocks, response=Response("optimal", floor="zero"))
    assert none.targets.loc["USA:use", "remaining"] == pytest.approx(0.5)
    # the optimum moves all 20 of metal to US magnets: 20 of 20
    assert opt.targets.loc["USA:use", "remaining"] == pytest.approx(1.0, abs=1e-9)
    G.nodes["USA:use"]["external_input"] = 0.0
    G.edges["CHN:magnets", "USA:use"]["flow"] = 30.0  # the US needs 40; metal caps it at 20
    opt = sg.disrupt(G, shocks, response=Response("optimal", floor="zero"))
    assert opt.targets.loc["USA:use", "remaining"] == pytest.approx(20 / 40, abs=1e-9)
    assert "metal capacity" in opt.by_end_use.loc["defense", "binding"]


# ---------------------------------------------------------------------------------------------
# options and errors


def test_response_options_are_checked():
    with pytest.raises(ScenarioError, match="unknown response"):
        Response("fast")
    with pytest.raises(ScenarioError, match="needs a priority list"):
        Response("rules", rationing="priority")
    with pytest.raises(ScenarioError, match="only with rationing 'priority'"):
        Response("rules", rationing="maxmin", priority=("domestic",))
    with pytest.raises(ScenarioError, match="priority class 'XYZ'"):
        sg.disrupt(shared_supplier_graph(), "B1", response=Response.of("rules", priority=["XYZ"]))


def test_none_response_is_the_propagation_model_bit_for_bit():
    G = random_graph(5, materials=True)
    node_cut, _ = random_shocks(G, 5)
    shocks = [f"{u}={c}" for u, c in node_cut.items()]
    for model in ("linear", "leontief"):
        r = sg.disrupt(G, shocks, model=model, response="none")
        h = propagate(G, node_cut, model=model)
        assert (r.nodes["remaining"].to_numpy() == h.to_numpy()).all()
        assert "output" not in r.nodes.columns


def test_resolve_shocks_agree_with_pair_cuts_on_existing_links():
    from supplygraph.analysis.shocks import pair_cuts

    G = hand_graph()
    shocks = ["CHN->USA=0.5", "CHN:magnets->JPN:cars"]
    _, edge_cut = resolve_shocks(G, shocks)
    assert pair_cuts(G, shocks, list(G.edges)) == edge_cut


# ---------------------------------------------------------------------------------------------
# sweeps and chokepoints under a response


@pytest.mark.parametrize("response", ["rules", "optimal"])
@pytest.mark.parametrize("model", ["linear", "leontief"])
def test_sweep_rows_match_one_disruption_each(response, model):
    # the batched removal (all scenarios as columns, or one program each) equals disrupt() run
    # on each removal alone -- a separate code path through the same models
    G = random_graph(21, materials=model == "leontief")
    df = sg.sweep(G, model=model, response=response).set_index("node")
    for node in list(G.nodes)[::3]:
        one = sg.disrupt(G, node, model=model, response=response, detail=False)
        assert df.loc[node, "weighted_loss"] == pytest.approx(one.total_loss_share, abs=1e-9)
    assert np.all(df["weighted_loss"] <= df["weighted_loss_none"] + 1e-9)


@pytest.mark.parametrize("response", ["rules", "optimal"])
def test_sweep_top_pruning_is_exact(response):
    G = random_graph(4)
    full = sg.sweep(G, by="country-stage", response=response)
    top = sg.sweep(G, by="country-stage", response=response, top=3)
    assert top[["country", "stage", "weighted_loss"]].to_dict("records") == (
        full.head(3)[["country", "stage", "weighted_loss"]].to_dict("records")
    )


def test_chokepoints_under_a_response_rank_by_the_response_loss():
    G = random_graph(8, spare=0.9)
    none = sg.chokepoints(G)
    opt = sg.chokepoints(G, response="optimal")
    np.testing.assert_allclose(
        opt["weighted_loss_none"], none.loc[opt.index, "weighted_loss"], atol=1e-12
    )
    assert np.all(opt["weighted_loss"] <= opt["weighted_loss_none"] + 1e-9)
    assert list(opt["weighted_loss"]) == sorted(opt["weighted_loss"], reverse=True)
    top = sg.chokepoints(G, response="optimal", top=4)
    assert list(top.index) == list(opt.index[:4])


def test_visualize_colours_what_binds(tmp_path):
    from typer.testing import CliRunner

    from supplygraph.cli import app

    out = tmp_path / "v.html"
    result = CliRunner().invoke(
        app,
        [
            "visualize",
            "--scenario",
            "allied-diversification",
            "-m",
            "leontief",
            "--response",
            "rules",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    # the legend labels of the highlight (what the view draws in its own colours)
    assert "spare capacity left idle" in html
    assert "shock cap that binds" in html


def test_cli_response_keeps_the_scenarios_other_options():
    """``--response optimal`` on a scenario whose ``[response]`` says ``substitution = "stage"``
    swaps only the model: the figures equal the API's with the scenario's substitution (and
    differ from ``edges``, where the new plants have no customers)."""
    import json

    from typer.testing import CliRunner

    from supplygraph.cli import app

    sc = sg.get_scenario("allied-diversification")
    assert sc.response is not None and sc.response.substitution == "stage"
    H = sg.apply_capacity(sg.load("rare-earths"), sc)
    result = CliRunner().invoke(
        app,
        ["disrupt", "--scenario", sc.name, "--response", "optimal", "-f", "json", "--table",
         "end-uses"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    got = {r["end_use"]: r["remaining"] for r in json.loads(result.stdout)}
    for sub in ("stage", "edges"):
        want = sg.disrupt(H, sc.shocks, sc.model, response=Response.of("optimal", substitution=sub))
        same = all(abs(got[k] - v) < 1e-9 for k, v in want.by_end_use["remaining"].items())
        assert same == (sub == "stage")
