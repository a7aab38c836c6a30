"""Naive baselines in plain networkx: the loops the compiled kernels replace.

Everything here is deliberately straightforward and independent of :mod:`supplygraph`'s kernels,
so it serves both as the speed baseline and as the reference the kernels are checked against.

Models (issue 3, section 2). For an edge ``u -> v`` with flow ``f > 0``::

    a[u, v] = f(u, v) / (sum_w f(w, v) + external_input(v))
    ext[v]  = external_input(v) / (same denominator)        (1 for a node without inputs)

- linear:   ``h[v] = sum_u a[u, v] h[u] + ext[v]``
- leontief: inputs grouped by the edge's ``material`` when given, else the supplier's ``stage``;
  within a group suppliers substitute, across groups the scarcest binds:
  ``h[v] = ext[v] + (1 - ext[v]) * min_g sum_{u in g} (a[u, v] / S_g) h[u]`` with
  ``S_g = sum_{u in g} a[u, v]`` (the external input tops up every group in proportion; a node
  without inputs keeps 1).

A removed node has ``h = 0``. The naive "removal" literally copies the graph, removes the node and
re-propagates: in topological order on a DAG, by Gauss-Seidel fixed-point iteration from ``h = 1``
(monotone, converges from above) over the condensation order when there are cycles. A closed
cycle (no input from outside and no external input) keeps ``h = 1`` unless a node of it is hit,
which is also what the iteration from ``h = 1`` gives.

Functions
---------
- :func:`prepare` -- input shares and groups, computed once per graph (not part of the timing of
  one removal, as in the naive loops of the literature);
- :func:`propagate_nx` -- one propagation over a (copied, reduced) graph;
- :func:`removal_loss` -- copy, remove, propagate: loss fraction at each target;
- :func:`naive_sweep` -- :func:`removal_loss` for every node (or a sample), with per-node timing;
- :func:`naive_dominators` -- networkx ``immediate_dominators`` from a virtual super-source;
- :func:`naive_origin_shares` -- one pure-Python pass per origin country;
- :func:`naive_concentration` -- dict-based stage HHI.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "Prepared",
    "SweepTiming",
    "naive_concentration",
    "naive_dominators",
    "naive_origin_shares",
    "naive_sweep",
    "prepare",
    "propagate_nx",
    "removal_loss",
]

TOL = 1e-15
MAX_SWEEPS = 100_000


def _num(x: Any) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return 0.0
    return f if f == f else 0.0


@dataclass
class Prepared:
    """Per-graph constants of the models (computed once, read by every naive removal).

    Attributes
    ----------
    share : dict
        ``(u, v) -> a[u, v]`` for edges with positive flow.
    ext : dict
        ``v -> ext[v]``.
    group : dict
        ``(u, v) -> input-group key`` of the edge.
    group_share : dict
        ``(v, key) -> S_g``.
    targets : list
        Default targets: the sinks (no edge to another node).
    groups_of : dict
        ``v -> list of its input-group keys`` (empty for nodes without inputs).
    """

    share: dict[tuple[Hashable, Hashable], float]
    ext: dict[Hashable, float]
    group: dict[tuple[Hashable, Hashable], Any]
    group_share: dict[tuple[Hashable, Any], float]
    targets: list[Hashable]
    groups_of: dict[Hashable, list[Any]]


def prepare(G: nx.DiGraph) -> Prepared:
    """Compute input shares, external shares and Leontief groups of ``G`` (pure Python).

    Parameters
    ----------
    G
        A supply graph.

    Returns
    -------
    Prepared
    """
    inflow: dict[Hashable, float] = {}
    for v, d in G.nodes(data=True):
        inflow[v] = _num(d.get("external_input", 0.0))
    for _, v, d in G.edges(data=True):
        f = _num(d.get("flow"))
        if f > 0:
            inflow[v] += f
    share: dict[tuple[Hashable, Hashable], float] = {}
    group: dict[tuple[Hashable, Hashable], Any] = {}
    group_share: dict[tuple[Hashable, Any], float] = {}
    for u, v, d in G.edges(data=True):
        f = _num(d.get("flow"))
        if f <= 0:
            continue
        a = f / inflow[v]
        share[u, v] = a
        mat = d.get("material")
        key = ("material", mat.strip()) if isinstance(mat, str) and mat.strip() else None
        if key is None:
            key = ("stage", str(G.nodes[u].get("stage")))
        group[u, v] = key
        group_share[v, key] = group_share.get((v, key), 0.0) + a
    ext = {}
    for v, d in G.nodes(data=True):
        x = _num(d.get("external_input", 0.0))
        ext[v] = x / inflow[v] if inflow[v] > 0 else 1.0
    targets = [v for v in G.nodes if not any(w != v for w in G.successors(v))]
    groups_of: dict[Hashable, list[Any]] = {}
    for w, key in group_share:
        groups_of.setdefault(w, []).append(key)
    return Prepared(share, ext, group, group_share, targets, groups_of)


def _order(H: nx.DiGraph) -> tuple[list[Hashable], bool]:
    """Supplier-before-customer order; True when ``H`` is acyclic (self-loops are cycles)."""
    try:
        order = list(nx.topological_sort(H))
        if nx.number_of_selfloops(H) == 0:
            return order, True
        return order, False
    except nx.NetworkXUnfeasible:
        C = nx.condensation(H)
        members = C.graph["mapping"]
        comps: dict[int, list[Hashable]] = {}
        for node, c in members.items():
            comps.setdefault(c, []).append(node)
        return [n for c in nx.topological_sort(C) for n in comps[c]], False


def _update(H: nx.DiGraph, v: Hashable, h: dict, prep: Prepared, model: str) -> float:
    """New ``h[v]`` from its suppliers still present in ``H``."""
    keys = prep.groups_of.get(v)
    if not keys:  # no inputs in the original graph: a source keeps its output
        return 1.0
    if model == "linear":
        return prep.ext[v] + sum(
            prep.share[u, v] * h[u] for u in H.predecessors(v) if (u, v) in prep.share
        )
    avail = dict.fromkeys(keys, 0.0)  # a group whose suppliers were all removed has 0
    for u in H.predecessors(v):
        if (u, v) in prep.share:
            key = prep.group[u, v]
            avail[key] += prep.share[u, v] / prep.group_share[v, key] * h[u]
    e = prep.ext[v]
    return e + (1.0 - e) * min(avail.values())


def propagate_nx(
    H: nx.DiGraph, prep: Prepared, model: str = "linear", fixed: dict | None = None
) -> dict[Hashable, float]:
    """Propagate over ``H`` (possibly a reduced copy of the graph ``prep`` was made from).

    Parameters
    ----------
    H
        The graph to propagate over; removed nodes are simply absent (their ``h`` is 0).
    prep
        :func:`prepare` of the original graph (shares stay those of the original graph).
    model
        ``"linear"`` or ``"leontief"``.
    fixed
        Nodes whose ``h`` is fixed (not re-derived).

    Returns
    -------
    dict
        ``h`` per node of ``H`` (fraction of baseline output, 0..1).
    """
    order, acyclic = _order(H)
    fixed = fixed or {}
    h = dict.fromkeys(order, 1.0)
    h.update(fixed)
    if acyclic:
        for v in order:
            if v not in fixed:
                h[v] = _update(H, v, h, prep, model)
        return h
    for _ in range(MAX_SWEEPS):  # Gauss-Seidel over the condensation order
        delta = 0.0
        for v in order:
            if v in fixed:
                continue
            new = _update(H, v, h, prep, model)
            d = abs(new - h[v])
            if d > delta:
                delta = d
            h[v] = new
        if delta <= TOL:
            return h
    msg = "naive fixed-point iteration did not converge"
    raise RuntimeError(msg)


def removal_loss(
    G: nx.DiGraph, node: Hashable, prep: Prepared, model: str = "linear", targets=None
) -> dict[Hashable, float]:
    """Copy ``G``, remove ``node``, propagate: the fraction of each target's output lost.

    Parameters
    ----------
    G
        The supply graph (not modified).
    node
        The node removed.
    prep
        :func:`prepare` of ``G``.
    model
        ``"linear"`` or ``"leontief"``.
    targets
        Targets (default the sinks).

    Returns
    -------
    dict
        ``target -> lost fraction`` (0..1); a removed target loses 1.
    """
    H = G.copy()
    H.remove_node(node)
    h = propagate_nx(H, prep, model)
    tl = prep.targets if targets is None else targets
    return {t: 1.0 - h.get(t, 0.0) for t in tl}


@dataclass
class SweepTiming:
    """Result of a (possibly sampled) naive sweep.

    Attributes
    ----------
    loss : pandas.DataFrame
        Index = the nodes run, columns = targets, values = lost fraction.
    seconds : float
        Wall time of the nodes run.
    per_node : float
        Mean seconds per node.
    n_run, n_total : int
        Nodes run / nodes in the graph.
    full_estimate : float
        ``per_node * n_total`` (measured when ``n_run == n_total``).
    """

    loss: pd.DataFrame
    seconds: float
    per_node: float
    n_run: int
    n_total: int

    @property
    def complete(self) -> bool:
        """True when every node was run (the full sweep was measured, not extrapolated)."""
        return self.n_run == self.n_total

    @property
    def full_estimate(self) -> float:
        """Estimated (or measured) wall time of the full sweep, seconds."""
        return self.seconds if self.complete else self.per_node * self.n_total


def naive_sweep(
    G: nx.DiGraph,
    model: str = "linear",
    *,
    nodes: Iterable[Hashable] | None = None,
    budget: float | None = None,
    max_nodes: int | None = None,
    seed: int = 0,
    targets=None,
    prep: Prepared | None = None,
) -> SweepTiming:
    """Run :func:`removal_loss` for every node, or a random sample bounded by time / count.

    Parameters
    ----------
    G
        Supply graph.
    model
        ``"linear"`` or ``"leontief"``.
    nodes
        Nodes to run (default all, in random order when sampling).
    budget
        Stop after this many seconds (at least one node is run).
    max_nodes
        Run at most this many nodes.
    seed
        Seed of the sampling order.
    targets
        Targets (default sinks).
    prep
        Precomputed :func:`prepare` (computed here otherwise, not timed).

    Returns
    -------
    SweepTiming
    """
    prep = prep or prepare(G)
    tl = prep.targets if targets is None else list(targets)
    all_nodes = list(G.nodes) if nodes is None else list(nodes)
    n_total = G.number_of_nodes()
    if budget is not None or max_nodes is not None:
        rng = np.random.default_rng(seed)
        all_nodes = [all_nodes[i] for i in rng.permutation(len(all_nodes))]
    if max_nodes is not None:
        all_nodes = all_nodes[:max_nodes]
    rows: dict[Hashable, dict[Hashable, float]] = {}
    t0 = time.perf_counter()
    for k in all_nodes:
        rows[k] = removal_loss(G, k, prep, model, tl)
        if budget is not None and time.perf_counter() - t0 > budget:
            break
    sec = time.perf_counter() - t0
    loss = pd.DataFrame.from_dict(rows, orient="index", columns=tl)
    return SweepTiming(loss, sec, sec / max(1, len(rows)), len(rows), n_total)


def super_source_graph(G: nx.DiGraph) -> tuple[nx.DiGraph, Any]:
    """Positive-flow graph plus a virtual root feeding sources and nodes with external input."""
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    H.add_edges_from((u, v) for u, v, d in G.edges(data=True) if u != v and _num(d.get("flow")) > 0)
    root = ("__root__",)
    fed = [
        v
        for v, d in G.nodes(data=True)
        if H.in_degree(v) == 0 or _num(d.get("external_input", 0.0)) > 0
    ]
    H.add_edges_from((root, v) for v in fed)
    return H, root


def naive_dominators(G: nx.DiGraph) -> dict[Hashable, Hashable]:
    """networkx ``immediate_dominators`` from a virtual super-source (root excluded).

    Returns
    -------
    dict
        ``node -> immediate dominator`` (the root's marker ``("__root__",)`` for nodes only the
        root dominates).
    """
    H, root = super_source_graph(G)
    idom = nx.immediate_dominators(H, root)
    idom.pop(root, None)
    return idom


def naive_origin_shares(G: nx.DiGraph, prep: Prepared | None = None) -> pd.DataFrame:
    """Origin shares by country: one pure-Python propagation per origin country.

    A source node (no inputs) originates 100 % in its country; external input counts as
    ``"unknown"``; every other node mixes its suppliers' shares by input share.

    Returns
    -------
    pandas.DataFrame
        Index = nodes, columns = origin countries + ``"unknown"``; rows sum to 1.
    """
    prep = prep or prepare(G)
    order, acyclic = _order(G)
    sources = [v for v in G.nodes if prep.ext[v] >= 1.0 and not _has_input(G, v, prep)]
    countries = sorted({str(G.nodes[v].get("country")) for v in sources})
    cols: dict[str, dict[Hashable, float]] = {}
    for c in [*countries, "unknown"]:
        seed = {
            v: float(str(G.nodes[v].get("country")) == c) if c != "unknown" else 0.0
            for v in sources
        }
        x = dict.fromkeys(order, 0.0)
        x.update(seed)
        for _ in range(1 if acyclic else MAX_SWEEPS):
            delta = 0.0
            for v in order:
                if v in seed:
                    continue
                new = (prep.ext[v] if c == "unknown" else 0.0) + sum(
                    prep.share[u, v] * x[u] for u in G.predecessors(v) if (u, v) in prep.share
                )
                delta = max(delta, abs(new - x[v]))
                x[v] = new
            if delta <= TOL:
                break
        cols[c] = x
    return pd.DataFrame(cols).loc[list(G.nodes)]


def _has_input(G: nx.DiGraph, v: Hashable, prep: Prepared) -> bool:
    return any((u, v) in prep.share for u in G.predecessors(v))


def naive_concentration(G: nx.DiGraph) -> dict[str, float]:
    """Stage HHI (0-10,000) from node values summed per (stage, country), in plain dicts."""
    tot: dict[tuple[str, str], float] = {}
    for _, d in G.nodes(data=True):
        key = (str(d.get("stage")), str(d.get("country")))
        tot[key] = tot.get(key, 0.0) + _num(d.get("value"))
    stage_tot: dict[str, float] = {}
    for (s, _), v in tot.items():
        stage_tot[s] = stage_tot.get(s, 0.0) + v
    hhi: dict[str, float] = {}
    for (s, _), v in tot.items():
        if stage_tot[s] > 0:
            hhi[s] = hhi.get(s, 0.0) + (100.0 * v / stage_tot[s]) ** 2
    return hhi
