"""TrackedDiGraph: every edit is counted, so the compiled-graph cache check is O(1) and sound."""

from __future__ import annotations

import copy
import pickle

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import supplygraph as sg
from supplygraph.compiled import compile_graph
from supplygraph.tracked import TrackedDiGraph, edit_count


def small() -> TrackedDiGraph:
    G = TrackedDiGraph(stages=["mining", "separation"])
    G.add_node("m1", stage="mining", country="CHN")
    G.add_node("m2", stage="mining", country="AUS")
    G.add_node("s", stage="separation", country="CHN")
    G.add_edge("m1", "s", flow=3.0)
    G.add_edge("m2", "s", flow=1.0)
    return G


EDITS = {
    "edge setitem": lambda G: G.edges["m1", "s"].__setitem__("flow", 5.0),
    "edge update": lambda G: G.edges["m1", "s"].update(flow=5.0),
    "edge |=": lambda G: G.edges["m1", "s"].__ior__({"flow": 5.0}),
    "edge setdefault": lambda G: G.edges["m1", "s"].setdefault("material", "ore"),
    "edge pop": lambda G: G.edges["m1", "s"].pop("flow"),
    "edge popitem": lambda G: G.edges["m1", "s"].popitem(),
    "edge clear": lambda G: G.edges["m1", "s"].clear(),
    "edge del": lambda G: G.edges["m1", "s"].__delitem__("flow"),
    "node attr": lambda G: G.nodes["m1"].__setitem__("country", "USA"),
    "graph attr": lambda G: G.graph.__setitem__("stages", ["separation", "mining"]),
    "add edge": lambda G: G.add_edge("m2", "m1", flow=1.0),
    "add edges": lambda G: G.add_edges_from([("m2", "m1")]),
    "weighted edges": lambda G: G.add_weighted_edges_from([("m2", "m1", 1.0)], weight="flow"),
    "remove edge": lambda G: G.remove_edge("m1", "s"),
    "remove edges": lambda G: G.remove_edges_from([("m1", "s")]),
    "add node": lambda G: G.add_node("x"),
    "add nodes": lambda G: G.add_nodes_from(["x"]),
    "remove node": lambda G: G.remove_node("m2"),
    "remove nodes": lambda G: G.remove_nodes_from(["m2"]),
    "update": lambda G: G.update(edges=[("m2", "m1")]),
    "clear edges": lambda G: G.clear_edges(),
    "clear": lambda G: G.clear(),
    "set_edge_attributes": lambda G: nx.set_edge_attributes(G, {("m1", "s"): 9.0}, "flow"),
    "set_node_attributes": lambda G: nx.set_node_attributes(G, {"m1": "USA"}, "country"),
    "relabel in place": lambda G: nx.relabel_nodes(G, {"m1": "m9"}, copy=False),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_every_edit_is_counted(name):
    G = small()
    before = edit_count(G)
    EDITS[name](G)
    assert edit_count(G) > before


def test_plain_graphs_do_not_count():
    assert edit_count(nx.DiGraph()) is None


def test_copies_are_tracked_and_independent():
    G = small()
    for H in (G.copy(), copy.deepcopy(G), pickle.loads(pickle.dumps(G)), TrackedDiGraph(G)):
        assert type(H) is TrackedDiGraph
        assert nx.utils.edges_equal(H.edges(data=True), G.edges(data=True))
        # one dict per edge, shared by the successor and predecessor maps
        assert H._succ["m1"]["s"] is H._pred["s"]["m1"]
        g0, h0 = edit_count(G), edit_count(H)
        H.edges["m1", "s"]["flow"] = 7.0
        assert edit_count(H) > h0
        assert edit_count(G) == g0
        assert G.edges["m1", "s"]["flow"] == 3.0


def test_load_returns_a_tracked_graph():
    G = sg.load("rare-earths")
    assert isinstance(G, TrackedDiGraph)
    assert isinstance(G, nx.DiGraph)


def test_in_place_edits_reach_the_analyses():
    G = small()
    assert sg.dependency(G)["s"].to_dict() == {"m1": 0.75, "m2": 0.25, "s": 1.0}
    cg = compile_graph(G)
    assert compile_graph(G) is cg  # unchanged: the cached arrays are reused
    G.edges["m1", "s"]["flow"] = 1.0  # now 1 : 1
    assert compile_graph(G) is not cg
    assert sg.dependency(G)["s"].to_dict() == {"m1": 0.5, "m2": 0.5, "s": 1.0}
    G.graph["stages"].reverse()  # a list edited in place is not counted, but still checked
    assert compile_graph(G).stages[:2] == ["separation", "mining"]


_ops = st.lists(
    st.tuples(
        st.sampled_from(["flow", "ext", "add", "remove", "stage"]),
        st.integers(0, 5),
        st.integers(0, 5),
        st.sampled_from([0.0, 0.5, 1.0, 4.0]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops)
def test_cached_arrays_always_match_a_fresh_compile(ops):
    # after any sequence of edits, the (possibly cached) compiled graph equals one built from
    # scratch from a plain copy, which has no cache to reuse
    G = TrackedDiGraph(stages=["mining", "separation", "magnets"])
    for i in range(6):
        G.add_node(i, stage=["mining", "separation", "magnets"][i % 3], country="CHN")
    G.add_edges_from([(0, 1, {"flow": 1.0}), (1, 2, {"flow": 2.0}), (3, 4, {"flow": 1.0})])
    for op, u, v, x in ops:
        compile_graph(G)  # fill the cache before the edit
        if op == "flow" and G.has_edge(u, v):
            G.edges[u, v]["flow"] = x
        elif op == "ext":
            G.nodes[u]["external_input"] = x
        elif op == "add":
            G.add_edge(u, v, flow=x)
        elif op == "remove" and G.has_edge(u, v):
            G.remove_edge(u, v)
        elif op == "stage":
            G.nodes[u]["stage"] = "magnets"
        got = compile_graph(G)
        fresh = compile_graph(nx.DiGraph(G))
        assert got.nodes == fresh.nodes
        np.testing.assert_array_equal(got.src, fresh.src)
        np.testing.assert_array_equal(got.tgt, fresh.tgt)
        np.testing.assert_array_equal(got.share, fresh.share)
        np.testing.assert_array_equal(got.ext, fresh.ext)
        np.testing.assert_array_equal(got.stage_code, fresh.stage_code)
