"""Naive reference implementations for the kernel tests (pure Python over networkx).

Deliberately simple and independent of supplygraph's compiled kernels: copy the graph, zero the
removed nodes, and iterate the production model from h = 1 to its fixed point.
"""

from __future__ import annotations

import networkx as nx


def _inputs(G: nx.DiGraph):
    """Per node: (total input incl. external, external input, [(u, flow, group key)])."""
    out = {}
    for v in G:
        ext = float(G.nodes[v].get("external_input", 0.0) or 0.0)
        ins = []
        for u, _, d in G.in_edges(v, data=True):
            f = float(d.get("flow", 0.0))
            if f > 0:
                key = d.get("material") or ("stage", G.nodes[u].get("stage"))
                ins.append((u, f, key))
        out[v] = (sum(f for _, f, _ in ins) + ext, ext, ins)
    return out


def naive_propagate(
    G, node_cut=None, edge_cut=None, model="linear", *, max_iter=20000, tol=1e-15
) -> dict:
    """Fixed point of the linear / leontief model by Jacobi iteration from h = 1."""
    H = G.copy()
    node_cut = node_cut or {}
    edge_cut = edge_cut or {}
    info = _inputs(H)
    h = dict.fromkeys(H, 1.0)
    for _ in range(max_iter):
        new = {}
        for v, (tot, ext, ins) in info.items():
            cap = 1.0 - node_cut.get(v, 0.0)
            if tot <= 0:
                new[v] = cap
                continue
            if model == "linear":
                s = sum(f / tot * (1 - edge_cut.get((u, v), 0.0)) * h[u] for u, f, _ in ins)
                new[v] = cap * (s + ext / tot)
            else:
                groups: dict = {}
                for u, f, key in ins:
                    tot_g, avail = groups.get(key, (0.0, 0.0))
                    groups[key] = (tot_g + f, avail + f * (1 - edge_cut.get((u, v), 0.0)) * h[u])
                m = min(avail / tot_g for tot_g, avail in groups.values()) if groups else 1.0
                e = ext / tot
                new[v] = cap * (e + (1 - e) * m)
        delta = max(abs(new[v] - h[v]) for v in H) if len(H) else 0.0
        h = new
        if delta < tol:
            break
    return h


def naive_removal_loss(G, u, targets, model="linear") -> dict:
    """Loss at each target when node u is removed (h_u fixed at 0)."""
    h = naive_propagate(G, {u: 1.0}, model=model)
    return {t: 1.0 - h[t] for t in targets}


def sinks(G):
    return [v for v in G if not any(w != v for w in G.successors(v))]


def random_graph_strategy(max_nodes: int = 7, *, cyclic: bool = True, materials: bool = True):
    """Hypothesis strategy: small supply graphs (cycles, self-loops, zero flows, ext inputs)."""
    from hypothesis import strategies as st

    stages = ["mining", "separation", "magnets"]

    @st.composite
    def build(draw):
        n = draw(st.integers(2, max_nodes))
        G = nx.DiGraph()
        G.graph["stages"] = stages
        for i in range(n):
            G.add_node(
                f"n{i}",
                stage=draw(st.sampled_from(stages)),
                country=draw(st.sampled_from(["CHN", "AUS", "USA"])),
                external_input=draw(st.sampled_from([0.0, 0.0, 0.5, 2.0])),
            )
        pairs = draw(
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                min_size=1,
                max_size=3 * n,
                unique=True,
            )
        )
        for i, j in pairs:
            if not cyclic and i >= j:
                continue
            attrs = {"flow": float(draw(st.sampled_from([0, 1, 2, 3, 5])))}
            if materials and draw(st.booleans()) and draw(st.booleans()):
                attrs["material"] = draw(st.sampled_from(["oxide", "metal"]))
            G.add_edge(f"n{i}", f"n{j}", **attrs)
        return G

    return build()
