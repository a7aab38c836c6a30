"""Parallel and distributed sweeps; kernels cross-checked against a naive networkx reference.

The graphs are small random layered supply networks (suppliers from the previous stage, a few
cross-stage links, reverse edges and self-loops for cycles, external inputs, some edges with a
``material``). The naive reference below is independent of the kernels: for every node it copies
the graph, removes the node and re-propagates by fixed-point iteration in plain Python.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import supplygraph as sg
from supplygraph.parallel import chunk_bounds, run_scenarios, sweep

STAGES = ["mine", "refine", "parts", "assembly", "end_use"]


def layered_graph(n: int = 200, *, seed: int = 0, cycles: bool = True) -> nx.DiGraph:
    """A random layered supply network with ``n`` nodes (cyclic unless ``cycles=False``)."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph(stages=STAGES, name=f"random-{seed}")
    sizes = [n // 4, n // 4, n // 4, n - 3 * (n // 4) - 6, 6]
    layers: list[list[str]] = []
    for s, size in enumerate(sizes):
        ids = [f"{STAGES[s]}-{i}" for i in range(size)]
        for i in ids:
            attrs = {"stage": STAGES[s], "country": str(rng.choice(["CHN", "USA", "AUS", "MYS"]))}
            if 0 < s < 4 and rng.random() < 0.2:
                attrs["external_input"] = float(rng.uniform(1, 20))
            G.add_node(i, **attrs)
        layers.append(ids)
    for s in range(1, 5):
        for v in layers[s]:
            k = int(rng.integers(1, 5))
            up = layers[s - 1] if s < 2 or rng.random() > 0.15 else layers[s - 2]
            for u in rng.choice(up, size=min(k, len(up)), replace=False):
                attrs = {"flow": float(rng.lognormal(2, 1))}
                if s == 3 and rng.random() < 0.3:
                    attrs["material"] = str(rng.choice(["magnet", "wire"]))
                G.add_edge(str(u), v, **attrs)
    if cycles:
        firm_edges = [(u, v) for u, v in G.edges if G.nodes[v]["stage"] != "end_use"]
        for j in rng.choice(len(firm_edges), size=6, replace=False):
            u, v = firm_edges[j]
            G.add_edge(v, u, flow=G.edges[u, v]["flow"] * 0.3)
        for v in rng.choice(layers[2], size=3, replace=False):
            G.add_edge(str(v), str(v), flow=2.0)
    return G


# ------------------------------------------------------------------------- naive reference
def _constants(G: nx.DiGraph) -> tuple[dict, dict, list]:
    """Inflow per node, input-group shares per node, and a supplier-first node order."""
    inflow = {v: float(G.nodes[v].get("external_input", 0.0)) for v in G}
    for _, v, f in G.edges(data="flow"):
        inflow[v] += f
    groups: dict = {}
    for u, v, d in G.edges(data=True):
        key = d.get("material") or G.nodes[u]["stage"]
        groups.setdefault(v, {}).setdefault(key, 0.0)
        groups[v][key] += d["flow"] / inflow[v]
    C = nx.condensation(G)
    order = [v for c in nx.topological_sort(C) for v in C.nodes[c]["members"]]
    return inflow, groups, order


def _naive_h(G: nx.DiGraph, H: nx.DiGraph, model: str, consts: tuple) -> dict:
    """Propagate over ``H`` (G minus removed nodes) with G's input shares, from h = 1."""
    inflow, groups, order = consts
    h = dict.fromkeys(H, 1.0)
    for _ in range(10_000):  # Gauss-Seidel sweeps in supplier-first order
        delta = 0.0
        for v in order:
            if v not in H or v not in groups:
                continue
            ext = G.nodes[v].get("external_input", 0.0) / inflow[v]
            if model == "linear":
                new = ext + sum(H.edges[u, v]["flow"] / inflow[v] * h[u] for u in H.pred[v])
            else:
                avail = dict.fromkeys(groups[v], 0.0)
                for u in H.pred[v]:
                    d = H.edges[u, v]
                    key = d.get("material") or G.nodes[u]["stage"]
                    avail[key] += d["flow"] / inflow[v] / groups[v][key] * h[u]
                new = ext + (1 - ext) * min(avail.values())
            delta = max(delta, abs(new - h[v]))
            h[v] = new
        if delta < 1e-15:
            return h
    raise AssertionError("naive iteration did not converge")


def naive_dependency(G: nx.DiGraph, model: str) -> pd.DataFrame:
    """For each node: copy the graph, remove it, propagate; loss fraction at each sink."""
    sinks = [v for v in G if not any(w != v for w in G.succ[v])]
    consts = _constants(G)
    rows = {}
    for k in G:
        H = G.copy()
        H.remove_node(k)
        h = _naive_h(G, H, model, consts)
        rows[k] = [1.0 - h.get(t, 0.0) for t in sinks]
    return pd.DataFrame.from_dict(rows, orient="index", columns=sinks)


@pytest.mark.parametrize("cycles", [False, True])
@pytest.mark.parametrize("model", ["linear", "leontief"])
def test_kernels_match_naive_reference(model, cycles):
    G = layered_graph(150, seed=11 if cycles else 5, cycles=cycles)
    assert nx.is_directed_acyclic_graph(G) is not cycles
    ref = naive_dependency(G, model)
    got = sg.dependency(G, model=model).loc[ref.index, ref.columns]
    assert np.max(np.abs(got.to_numpy() - ref.to_numpy())) <= 1e-9
    # sweep ranking value: output-weighted loss over the sinks
    base = pd.Series(
        {
            t: sum(f for u, _, f in G.in_edges(t, data="flow") if u != t)
            + G.nodes[t].get("external_input", 0.0)
            + sum(f for u, _, f in G.in_edges(t, data="flow") if u == t)
            for t in ref.columns
        }
    )
    weighted = ref.to_numpy() @ (base / base.sum()).to_numpy()
    table = sg.sweep(G, model=model, progress=False).set_index("node")
    got_w = table.loc[ref.index, "weighted_loss"].to_numpy()
    assert np.max(np.abs(got_w - weighted)) <= 1e-9


# --------------------------------------------------------------------------- parallel paths
def test_chunk_bounds():
    assert chunk_bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert chunk_bounds(3, 8) == [(0, 1), (1, 2), (2, 3)]
    assert chunk_bounds(0, 4) == []
    bounds = chunk_bounds(1001, 16)
    assert bounds[0][0] == 0 and bounds[-1][1] == 1001
    assert all(b == c for (_, b), (c, _) in itertools.pairwise(bounds))


@pytest.mark.parametrize("cycles", [False, True])
def test_process_pool_sweep_identical(cycles):
    G = layered_graph(160, seed=3, cycles=cycles)
    single = sg.sweep(G, model="leontief", progress=False)
    pooled = sweep(G, model="leontief", workers=2, progress=False)
    pd.testing.assert_frame_equal(pooled, single, check_exact=True)


def test_dask_local_cluster_identical():
    distributed = pytest.importorskip("dask.distributed")
    from supplygraph.analysis.dependency import scenario_losses, target_positions
    from supplygraph.compiled import compile_graph

    G = layered_graph(160, seed=4, cycles=True)
    cg = compile_graph(G)
    tpos = target_positions(cg, None)
    single_node = sg.sweep(G, model="leontief", progress=False)
    single_group = sg.sweep(G, model="leontief", by="country-stage", progress=False)
    ref = scenario_losses(cg, np.arange(cg.n), "leontief", tpos, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            host="127.0.0.1",
            protocol="tcp",  # real sockets on loopback, not the in-process transport
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # by address (what --scheduler passes), by client, and the raw chunk runner
        by_address = sweep(G, model="leontief", scheduler=cluster.scheduler_address)
        by_group = sweep(G, model="leontief", by="country-stage", scheduler=client)
        raw = run_scenarios(cg, np.arange(cg.n), "leontief", tpos, scheduler=client, chunks=7)
    pd.testing.assert_frame_equal(by_address, single_node, check_exact=True)
    pd.testing.assert_frame_equal(by_group, single_group, check_exact=True)
    assert raw.shape == ref.shape
    assert (raw != ref).nnz == 0


def test_unreachable_scheduler_is_a_clean_error(monkeypatch):
    pytest.importorskip("dask.distributed")
    from supplygraph.analysis import workers
    from supplygraph.errors import SupplyGraphError

    monkeypatch.setattr(workers, "CONNECT_TIMEOUT", "1s")
    G = layered_graph(40, seed=1, cycles=False)
    with pytest.raises(SupplyGraphError, match="cannot reach the Dask scheduler"):
        sweep(G, model="leontief", scheduler="tcp://127.0.0.1:1")
