"""Disruption propagation: how much of each node's output remains after a shock.

Notation (see :mod:`supplygraph.compiled`): ``a[u, v]`` is the share of v's inputs that come from
u, ``ext[v]`` the external (never shocked) share, ``cap[v] = 1 - node_cut[v]`` and
``keep[u, v] = 1 - edge_cut[u, v]``. ``h[v]`` in [0, 1] is v's output as a fraction of its
baseline.

Linear (proportional) model, the default::

    h[v] = cap[v] * ( sum_u a[u, v] * keep[u, v] * h[u] + ext[v] )

Leontief (complementary input groups). Inputs are grouped by the edge's ``material`` when given,
else by the supplier's ``stage``; suppliers within a group substitute each other (linear), and the
scarcest group binds::

    m[g]  = sum_{u in g} wg[u, v] * keep[u, v] * h[u]          wg = a / S[g], sum_g wg = 1
    h[v]  = cap[v] * ( ext[v] + (1 - ext[v]) * min_g m[g] )

The external input is assumed to have the same mix as the in-graph inputs (it tops up every
group in proportion), so with a single input group the two models agree, and Leontief never
leaves more than linear (``min <= weighted mean``).

Sources (no inputs) have ``h = cap``. A fully removed node (``cut = 1``) has ``h = 0``. On cyclic
graphs the linear model is solved exactly (sparse LU per cyclic component, in topological order
of the condensation) and the Leontief model is iterated to its fixed point from above (``h = 1``
start; the map is monotone) with tolerance ``tol`` and at most ``max_iter`` sweeps per cyclic
component. Closed cycles (no input from outside, no external input) keep ``h = 1`` when
untouched and fall to ``h = 0`` when anything in them is cut -- the limit of the iteration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from supplygraph.compiled import CompiledGraph, compile_graph
from supplygraph.errors import ScenarioError, SupplyGraphError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["MODELS", "propagate"]

MODELS = ("linear", "leontief")
Model = Literal["linear", "leontief"]

TOL = 1e-13
MAX_ITER = 100_000


def check_model(model: str) -> str:
    """Return ``model`` if known, else raise :class:`ScenarioError`."""
    if model not in MODELS:
        raise ScenarioError(f"unknown model {model!r}: use one of {', '.join(MODELS)}")
    return model


def cut_arrays(
    cg: CompiledGraph,
    node_cut: dict[Any, float] | None,
    edge_cut: dict[tuple[Any, Any], float] | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Translate cut dicts into ``cap`` (per position) and ``keep`` (per edge, or None)."""
    cap = np.ones(cg.n)
    for u, c in (node_cut or {}).items():
        p = cg.index.get(u)
        if p is None:
            raise ScenarioError(f"node_cut: no node {u!r} in the graph")
        cap[p] = 1.0 - _cut_value(c, u)
    keep = None
    if edge_cut:
        keep = np.ones(cg.m)
        eidx = cg.edge_index
        for key, c in edge_cut.items():
            value = _cut_value(c, key)
            e = eidx.get(key)
            if e is None:
                try:
                    u, v = key
                except (TypeError, ValueError):
                    raise ScenarioError(f"edge_cut: {key!r} is not a (u, v) pair") from None
                if u not in cg.index or v not in cg.index:
                    raise ScenarioError(f"edge_cut: no edge {key!r} in the graph")
                continue  # an edge with zero flow (or absent): nothing to cut
            keep[e] = 1.0 - value
    return cap, keep


def _cut_value(c: Any, key: Any) -> float:
    try:
        value = float(c)
    except (TypeError, ValueError):
        raise ScenarioError(f"cut for {key!r} is not a number: {c!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ScenarioError(f"cut for {key!r} must be in [0, 1], got {c!r}")
    return value


# ------------------------------------------------------------------------------------ kernels
def _closed_values(cg: CompiledGraph, cap: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """Fixed ``h`` of nodes in closed cycles: 1 when nothing in the cycle is cut, else 0."""
    val = np.ones(cg.n)
    if not cg.closed_node.any():
        return val
    hit = np.zeros(cg.n, dtype=bool)
    hit[cg.comp[(cap < 1.0) & cg.closed_node]] = True
    if keep is not None:
        e = (keep < 1.0) & cg.closed_node[cg.tgt]
        hit[cg.comp[cg.tgt[e]]] = True
    return np.where(hit[cg.comp], 0.0, 1.0)


def propagate_arrays(
    cg: CompiledGraph,
    cap: np.ndarray,
    keep: np.ndarray | None = None,
    model: str = "linear",
    *,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> np.ndarray:
    """Propagate one scenario on a compiled graph; returns ``h`` per position.

    Parameters
    ----------
    cg
        Compiled graph.
    cap
        ``1 - node cut`` per position.
    keep
        ``1 - edge cut`` per edge (``None``: no edge cuts).
    model
        ``"linear"`` or ``"leontief"``.
    tol, max_iter
        Leontief fixed-point tolerance (max change of ``h``) and sweep cap per cyclic level.
    """
    n = cg.n
    h = np.ones(n)
    w = cg.share if model == "linear" else cg.wgrp
    if keep is not None:
        w = w * keep
    closed_val = _closed_values(cg, cap, keep) if cg.closed_node.any() else None
    if model == "linear" and cg.n_levels > DEEP_LEVELS:
        return _linear_global(cg, cap, w, closed_val)
    cyc = set(cg.cyclic_levels().tolist())
    nptr, eptr, gptr = cg.level_nptr, cg.level_eptr, cg.level_gptr
    src, tgt, ext = cg.src, cg.tgt, cg.ext
    for k in range(cg.n_levels):
        a, b = int(nptr[k]), int(nptr[k + 1])
        ea, eb = int(eptr[k]), int(eptr[k + 1])
        if model == "linear":
            if k not in cyc:
                s = np.bincount(tgt[ea:eb] - a, weights=w[ea:eb] * h[src[ea:eb]], minlength=b - a)
                h[a:b] = cap[a:b] * (s + ext[a:b])
            else:
                h[a:b] = _linear_cyclic_level(cg, k, w, h, cap, closed_val)
        else:
            ga, gb = int(gptr[k]), int(gptr[k + 1])
            if k not in cyc:
                h[a:b] = _leontief_level(cg, a, b, ea, eb, ga, gb, w, h, cap)
            else:
                fixed = None if closed_val is None else closed_val[a:b]
                cl = None if closed_val is None else cg.closed_node[a:b]
                h[a:b] = 1.0
                if cl is not None:
                    h[a:b][cl] = fixed[cl]  # type: ignore[index]
                for _ in range(max_iter):
                    new = _leontief_level(cg, a, b, ea, eb, ga, gb, w, h, cap)
                    if cl is not None:
                        new[cl] = fixed[cl]  # type: ignore[index]
                    delta = float(np.max(np.abs(new - h[a:b]))) if b > a else 0.0
                    h[a:b] = new
                    if delta <= tol:
                        break
                else:
                    raise SupplyGraphError(
                        f"leontief propagation did not converge within {max_iter} iterations "
                        f"(tolerance {tol:g}) on a cycle through {cg.nodes[a]!r}"
                    )
    np.clip(h, 0.0, 1.0, out=h)
    return h


def _linear_global(
    cg: CompiledGraph, cap: np.ndarray, w: np.ndarray, closed_val: np.ndarray | None
) -> np.ndarray:
    """Linear model in one solve: ``(I - diag(cap) W^T) h = cap * ext`` (deep graphs)."""
    import scipy.sparse as sp

    rhs = cap * cg.ext
    ww = w * cap[cg.tgt]
    if closed_val is not None:
        cl = cg.closed_node
        rhs = np.where(cl, closed_val, rhs)
        ww = np.where(cl[cg.tgt], 0.0, ww)
    MT = sp.csr_matrix((ww, (cg.tgt, cg.src)), shape=(cg.n, cg.n))
    h = _global_solve(cg, MT, rhs, lower=True)
    return np.clip(h, 0.0, 1.0)


def _leontief_level(
    cg: CompiledGraph,
    a: int,
    b: int,
    ea: int,
    eb: int,
    ga: int,
    gb: int,
    w: np.ndarray,
    h: np.ndarray,
    cap: np.ndarray,
    ext: np.ndarray | None = None,
) -> np.ndarray:
    """One acyclic Leontief level; ``h``, ``w``, ``cap`` (and ``ext``, default the graph's) may
    carry one column per scenario or draw (2-D), the sums and minima run along the rows."""
    out = np.ones((b - a, *h.shape[1:]))
    if gb > ga:
        contrib = w[ea:eb] * h[cg.src[ea:eb]]
        gsum = np.add.reduceat(contrib, cg.group_start[ga:gb] - ea, axis=0)
        gnode = cg.group_node[ga:gb] - a
        first = np.ones(gb - ga, dtype=bool)
        first[1:] = gnode[1:] != gnode[:-1]
        starts = np.flatnonzero(first)
        out[gnode[starts]] = np.minimum.reduceat(gsum, starts, axis=0)
    e = (cg.ext if ext is None else ext)[a:b]
    return cap[a:b] * (e + (1.0 - e) * out)


def _linear_cyclic_level(
    cg: CompiledGraph,
    k: int,
    w: np.ndarray,
    h: np.ndarray,
    cap: np.ndarray,
    closed_val: np.ndarray | None,
) -> np.ndarray:
    """Solve ``h_l = cap * (M_ll h_l + inputs from earlier levels + ext)`` for one level."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    a, b = int(cg.level_nptr[k]), int(cg.level_nptr[k + 1])
    ea, eb = int(cg.level_eptr[k]), int(cg.level_eptr[k + 1])
    nl = b - a
    s, t, ww = cg.src[ea:eb], cg.tgt[ea:eb] - a, w[ea:eb]
    intra = s >= a
    known = np.bincount(t[~intra], weights=ww[~intra] * h[s[~intra]], minlength=nl)
    capl = cap[a:b]
    rhs = capl * (known + cg.ext[a:b])
    ti, si, wi = t[intra], s[intra] - a, ww[intra] * capl[t[intra]]
    if closed_val is not None:
        cl = cg.closed_node[a:b]
        if cl.any():
            rhs[cl] = closed_val[a:b][cl]
            drop = cl[ti]
            ti, si, wi = ti[~drop], si[~drop], wi[~drop]
    M = sp.csc_matrix((wi, (ti, si)), shape=(nl, nl))
    lhs = (sp.identity(nl, format="csc") - M).tocsc()
    return splu(lhs).solve(rhs)


def propagate(
    G: nx.DiGraph,
    node_cut: dict[Any, float] | None = None,
    edge_cut: dict[tuple[Any, Any], float] | None = None,
    *,
    model: Model = "linear",
) -> pd.Series:
    """Return the remaining output fraction ``h`` of every node after cutting nodes and edges.

    Parameters
    ----------
    G
        Supply graph (never modified).
    node_cut
        ``node -> cut`` in [0, 1]: the node's own capacity falls to ``1 - cut`` of baseline.
    edge_cut
        ``(u, v) -> cut`` in [0, 1]: the flow ``u -> v`` delivers ``1 - cut`` of normal.
    model
        ``"linear"`` (proportional inputs) or ``"leontief"`` (complementary input groups);
        formulas in the module docstring.

    Returns
    -------
    pandas.Series
        ``h`` per node (fraction of baseline output, 0..1), indexed by node id in graph order.

    Raises
    ------
    ScenarioError
        Unknown model, node or edge, or a cut outside [0, 1].
    SupplyGraphError
        The Leontief iteration did not converge on a cycle.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("m1", "s", flow=3.0)
    >>> G.add_edge("m2", "s", flow=1.0)
    >>> float(propagate(G, {"m1": 1.0})["s"])
    0.25
    """
    import pandas as pd

    check_model(model)
    cg = compile_graph(G)
    cap, keep = cut_arrays(cg, node_cut, edge_cut)
    h = propagate_arrays(cg, cap, keep, model)
    return pd.Series(
        h[cg.graph_pos], index=pd.Index(cg.graph_nodes, dtype=object, tupleize_cols=False), name="h"
    )


# ------------------------------------------------------------------ generic level solvers
#: Above this many levels, solve in one call instead of one level at a time (deep graphs).
DEEP_LEVELS = 256


def reverse_solve(cg: CompiledGraph, A: Any, B: np.ndarray) -> np.ndarray:
    """Solve ``X = A @ X + B`` (``A`` rows = suppliers), customers first, level by level.

    ``A`` must have nonzeros only from a position to the same or a later level (edges inside a
    level only within cyclic components, e.g. :meth:`CompiledGraph.open_share_matrix`). On a DAG
    this is one reverse-topological pass (``I - A`` is unit upper triangular in kernel order);
    cyclic levels are solved with sparse LU per level. Deep graphs (many levels) use one sparse
    triangular solve (DAG) or one sparse LU with natural ordering (cyclic): the kernel order is
    already block-triangular, so natural ordering keeps the fill inside the cyclic blocks, while
    scipy's default COLAMD reordering fills in catastrophically on such matrices.
    """
    import scipy.sparse as sp

    A = sp.csr_matrix(A)
    if cg.n_levels > DEEP_LEVELS:
        return _global_solve(cg, A, B, lower=False)
    X = np.zeros_like(B, dtype=float)
    cyc = set(cg.cyclic_levels().tolist())
    nptr = cg.level_nptr
    for k in range(cg.n_levels - 1, -1, -1):
        a, b = int(nptr[k]), int(nptr[k + 1])
        Ak = A[a:b]
        rhs = B[a:b] + Ak @ X
        if k in cyc:
            rhs = _block_solve(Ak[:, a:b], rhs)
        X[a:b] = rhs
    return X


def forward_solve(cg: CompiledGraph, AT: Any, B: np.ndarray) -> np.ndarray:
    """Solve ``X = AT @ X + B`` (``AT`` rows = customers), suppliers first, level by level."""
    import scipy.sparse as sp

    AT = sp.csr_matrix(AT)
    if cg.n_levels > DEEP_LEVELS:
        return _global_solve(cg, AT, B, lower=True)
    X = np.zeros_like(B, dtype=float)
    cyc = set(cg.cyclic_levels().tolist())
    nptr = cg.level_nptr
    for k in range(cg.n_levels):
        a, b = int(nptr[k]), int(nptr[k + 1])
        Ak = AT[a:b]
        rhs = B[a:b] + Ak @ X
        if k in cyc:
            rhs = _block_solve(Ak[:, a:b], rhs)
        X[a:b] = rhs
    return X


def _global_solve(cg: CompiledGraph, M: Any, B: np.ndarray, *, lower: bool) -> np.ndarray:
    """Solve ``(I - M) X = B`` in one call (triangular on a DAG, natural-order LU otherwise)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu, spsolve_triangular

    lhs = sp.identity(cg.n, format="csr") - sp.csr_matrix(M)
    B = np.asarray(B, dtype=float)
    if cg.is_dag:
        lhs.sort_indices()
        return spsolve_triangular(lhs, B, lower=lower, unit_diagonal=True)
    lu = splu(lhs.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0)
    return lu.solve(B)


def _block_solve(Mll: Any, rhs: np.ndarray) -> np.ndarray:
    """Solve ``(I - Mll) x = rhs`` with sparse LU (the block is one level's cyclic components)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    nl = Mll.shape[0]
    lhs = (sp.identity(nl, format="csc") - sp.csc_matrix(Mll)).tocsc()
    out = splu(lhs).solve(np.asarray(rhs, dtype=float))
    return out
