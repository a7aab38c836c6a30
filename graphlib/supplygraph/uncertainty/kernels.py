"""Batched kernels: the compiled graph's arrays with one column per draw.

:class:`DrawPlan` maps the factors of a run (:mod:`~supplygraph.uncertainty.ranges`) onto the
compiled graph once; :meth:`DrawPlan.arrays` turns a chunk of unit points into
:class:`DrawArrays` -- every per-node array ``(n, B)``, every per-edge array ``(m, B)`` for
``B`` draws -- with the same definitions as :mod:`supplygraph.compiled`, draw by draw::

    inflow[v]  = sum_u flow[u, v] + external_input[v]
    share[e]   = flow[e] / inflow[tgt[e]]         ext[v] = external_input[v] / inflow[v]
    baseline   = value, else inflow, else outflow

and the scenario's cuts per draw: ``cap[v] = prod_i (1 - cut_i)`` over the node shocks ``i``
covering ``v``, ``keep[e]`` likewise over the edge shocks. A shock whose cut is a range draws
it; a capacity change whose ``scale`` is a range multiplies the node's value, external input,
capacity and outbound flows by ``draw / value`` (the graph already holds the value's scaling).

:func:`propagate` then runs the linear or Leontief model of
:mod:`supplygraph.analysis.propagation` on all columns at once, level by level: per level one
gather of the suppliers' rows, one product with the per-draw weights and one segmented sum
(``numpy.add.reduceat``) -- the cost of ``B`` propagations is that of one propagation on ``B``
times wider arrays. Cyclic components are solved exactly per draw (a batched dense solve,
``numpy.linalg.solve`` on a stack of small matrices) up to :data:`DENSE_CYCLE` nodes, and by a
fixed-point iteration that stops column by column above that. Every column is computed on its
own, so a draw's result does not depend on which other draws share its chunk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.analysis.propagation import _leontief_level
from supplygraph.errors import SupplyGraphError
from supplygraph.uncertainty.sampling import quantile

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse as sp

    from supplygraph.analysis.shocks import Shock
    from supplygraph.compiled import CompiledGraph
    from supplygraph.uncertainty.ranges import Factors

__all__ = [
    "DENSE_CYCLE",
    "DrawArrays",
    "DrawPlan",
    "ordered_sum",
    "propagate",
    "removal_weighted_losses",
]

#: Largest cyclic component solved exactly by a batched dense solve (larger: iteration).
DENSE_CYCLE = 64

_TOL = 1e-13
_MAX_ITER = 100_000


@dataclass
class DrawArrays:
    """Per-draw arrays of a chunk of ``B`` draws, in kernel order (see the module docstring).

    Attributes
    ----------
    flow, share, keep
        Per edge, shape (m, B); ``keep`` None when no shock cuts an edge.
    ext_in, inflow, outflow, ext, value, baseline, capacity, cap
        Per node, shape (n, B); ``value`` and ``capacity`` NaN where the node has none.
    wgrp
        Weight of each edge within its Leontief input group, (m, B).
    u
        The chunk's unit points, (B, D).
    """

    flow: np.ndarray
    share: np.ndarray
    keep: np.ndarray | None
    ext_in: np.ndarray
    inflow: np.ndarray
    outflow: np.ndarray
    ext: np.ndarray
    value: np.ndarray
    baseline: np.ndarray
    capacity: np.ndarray
    cap: np.ndarray
    u: np.ndarray
    cg: Any = field(default=None, repr=False)

    @cached_property
    def wgrp(self) -> np.ndarray:
        """Weight of each edge within its Leontief input group, (m, B) (computed on first use)."""
        cg, share = self.cg, self.share
        if not cg.m:
            return share
        gs = np.add.reduceat(share, cg.group_start[:-1], axis=0)[cg.grp]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(gs > 0, share / np.where(gs > 0, gs, 1.0), 0.0)

    @property
    def size(self) -> int:
        """Number of draws ``B`` in the chunk."""
        return int(self.cap.shape[1])

    def weights(self, model: str) -> np.ndarray:
        """Edge weights of the propagation model: ``share * keep`` or ``wgrp * keep``."""
        w = self.share if model == "linear" else self.wgrp
        return w if self.keep is None else w * self.keep

    def column(self, cg: CompiledGraph, j: int) -> CompiledGraph:
        """The compiled graph of draw ``j`` (a copy of ``cg`` with that draw's arrays).

        Used where a draw needs the single-scenario machinery (the optimal response's linear
        programs): every array the kernels read is replaced, the caches start empty.
        """
        gs = np.add.reduceat(self.share[:, j], cg.group_start[:-1]) if cg.m else np.zeros(0)
        return dataclasses.replace(
            cg,
            flow=self.flow[:, j].copy(),
            share=self.share[:, j].copy(),
            wgrp=self.wgrp[:, j].copy(),
            group_share=gs,
            ext=self.ext[:, j].copy(),
            inflow=self.inflow[:, j].copy(),
            outflow=self.outflow[:, j].copy(),
            value=self.value[:, j].copy(),
            baseline=self.baseline[:, j].copy(),
            capacity=self.capacity[:, j].copy(),
            _cache={},
        )


class DrawPlan:
    """The factors of a run laid onto a compiled graph (index arrays built once).

    Parameters
    ----------
    G
        The graph the analyses run on (with the scenario's capacity changes applied).
    cg
        ``compile_graph(G)``.
    factors
        The factors (:func:`~supplygraph.uncertainty.ranges.collect`).
    shocks
        The run's shocks (their footprints are resolved once, their cuts drawn per column).
    scenario
        The scenario whose capacity-change ranges are drawn (None: none).
    """

    def __init__(
        self,
        G: nx.DiGraph,
        cg: CompiledGraph,
        factors: Factors,
        shocks: Sequence[Shock] = (),
        scenario: Any = None,
    ) -> None:
        import scipy.sparse as sp

        self.cg = cg
        self.factors = factors
        self.skipped: list[str] = []
        self._tri: dict[str, tuple[np.ndarray, ...]] = {}
        n, m = cg.n, cg.m
        self.node_items: dict[str, tuple[np.ndarray, Any]] = {}
        for attr in ("value", "capacity", "external_input"):
            it = factors.items.get(attr)
            if it is not None:
                pos = np.asarray([cg.index[k] for k in it.keys], dtype=np.int64)
                self.node_items[attr] = (pos, it)
        self.flow_items: tuple[np.ndarray, np.ndarray, Any] | None = None
        it = factors.items.get("flow")
        if it is not None:
            eidx = cg.edge_index
            found = [(i, eidx.get(tuple(k))) for i, k in enumerate(it.keys)]
            keep_i = np.asarray([i for i, e in found if e is not None], dtype=np.int64)
            edges = np.asarray([e for _, e in found if e is not None], dtype=np.int64)
            lost = len(found) - len(keep_i)
            if lost:
                self.skipped.append(
                    f"{lost} flow range(s) on edges with no flow are not drawn (an edge enters "
                    "the kernels only with a positive flow)"
                )
            self.flow_items = (keep_i, edges, it)
        # shocks: footprints (positions / edges) and their cut per draw
        self.shocks = list(shocks)
        self.node_hits: list[np.ndarray] = []
        self.edge_hits: list[np.ndarray] = []
        if self.shocks:
            from supplygraph.analysis.shocks import resolve_shocks

            eidx = cg.edge_index
            for s in self.shocks:
                one = dataclasses.replace(s, cut=1.0, uncertain=None)
                node_cut, edge_cut = resolve_shocks(G, [one])
                self.node_hits.append(np.asarray([cg.index[v] for v in node_cut], dtype=np.int64))
                self.edge_hits.append(
                    np.asarray(
                        [e for e in (eidx.get(k) for k in edge_cut) if e is not None],
                        dtype=np.int64,
                    )
                )
        self.scale_items: list[tuple[np.ndarray, np.ndarray, float, int]] = []
        self.capacity_items: list[tuple[int, int]] = []
        if scenario is not None:
            from supplygraph.analysis.shocks import parse_shock, resolve_shocks

            for attr in ("scale", "capacity change"):
                it = factors.items.get(attr)
                if it is None:
                    continue
                for row, idx in enumerate(it.keys):
                    change = scenario.capacity[idx]
                    nodes = list(resolve_shocks(G, [parse_shock(change.selector)])[0])
                    pos = np.asarray([cg.index[v] for v in nodes], dtype=np.int64)
                    if attr == "scale":
                        out_e = np.flatnonzero(np.isin(cg.src, pos))
                        self.scale_items.append((pos, out_e, float(it.mode[row]), row))
                    elif len(pos) == 1:
                        self.capacity_items.append((int(pos[0]), row))
        # incidence matrices for inflow / outflow sums (per column, in a fixed order)
        e = np.arange(m)
        self.t_in = sp.csr_matrix((np.ones(m), (cg.tgt, e)), shape=(n, m))
        self.t_out = sp.csr_matrix((np.ones(m), (cg.src, e)), shape=(n, m))
        with np.errstate(invalid="ignore"):
            self.ext_abs = np.where(cg.inflow > 0, cg.ext * cg.inflow, 0.0)

    # -------------------------------------------------------------------------------------
    def values(self, attr: str, u: np.ndarray) -> np.ndarray:
        """Draws of every item of ``attr`` for the chunk's points ``u`` (B, D): (items, B).

        Ranges that are all triangular take a fast path with the per-item constants computed
        once (the same formula as :func:`~supplygraph.uncertainty.sampling.quantile`).
        """
        it = self.factors.items[attr]
        f = it.factor
        contiguous = len(f) > 0 and f[-1] - f[0] == len(f) - 1 and bool(np.all(np.diff(f) == 1))
        pts = u[:, f[0] : f[-1] + 1].T if contiguous else u[:, f].T
        if it.dist.any():
            return quantile(pts, it.low, it.mode, it.high, it.dist)
        if attr not in self._tri:
            a, c, b = it.low[:, None], it.mode[:, None], it.high[:, None]
            w = b - a
            with np.errstate(invalid="ignore", divide="ignore"):
                fc = np.where(w > 0, (c - a) / np.where(w > 0, w, 1.0), 0.5)
            self._tri[attr] = (a, b, fc, (c - a) * w, (b - c) * w)
        a, b, fc, ca, bc = self._tri[attr]
        below = pts < fc
        r = np.where(below, pts * ca, (1.0 - pts) * bc)
        np.sqrt(np.maximum(r, 0.0, out=r), out=r)
        return np.minimum(np.maximum(np.where(below, a + r, b - r), a), b)

    def cuts(self, u: np.ndarray) -> list[np.ndarray]:
        """The cut of every shock per draw, shape (B,) each."""
        B = u.shape[0]
        out = [np.full(B, float(s.cut)) for s in self.shocks]
        it = self.factors.items.get("cut")
        if it is not None:
            drawn = self.values("cut", u)
            for row, i in enumerate(it.keys):
                unc = self.shocks[i].uncertain
                key = unc[0] if unc is not None else "cut"
                out[i] = drawn[row] if key == "cut" else 1.0 - drawn[row]
        return out

    def caps(
        self,
        u: np.ndarray,
        cuts: list[np.ndarray] | None = None,
        active: Sequence[int] | None = None,
    ) -> tuple[Any, Any]:
        """``cap`` (n, B) and ``keep`` (m, B) or None from the shocks' cuts per draw.

        ``active``: the indices of the shocks in force (default: all of them).
        """
        cg = self.cg
        B = u.shape[0]
        cuts = self.cuts(u) if cuts is None else cuts
        cap = np.ones((cg.n, B))
        keep = None
        on = range(len(cuts)) if active is None else active
        for i in on:
            c, nodes, edges = cuts[i], self.node_hits[i], self.edge_hits[i]
            if len(nodes):
                cap[nodes] *= 1.0 - c[None, :]
            if len(edges):
                if keep is None:
                    keep = np.ones((cg.m, B))
                keep[edges] *= 1.0 - c[None, :]
        return np.clip(cap, 0.0, 1.0), None if keep is None else np.clip(keep, 0.0, 1.0)

    def arrays(self, u: np.ndarray) -> DrawArrays:
        """The per-draw arrays of a chunk of unit points ``u`` (B, D)."""
        cg = self.cg
        B = u.shape[0]
        flow = np.repeat(cg.flow[:, None], B, axis=1)
        if self.flow_items is not None:
            keep_i, edges, _ = self.flow_items
            flow[edges] = self.values("flow", u)[keep_i]
        ext_in = np.repeat(self.ext_abs[:, None], B, axis=1)
        value = np.repeat(cg.value[:, None], B, axis=1)
        capacity = np.repeat(cg.capacity[:, None], B, axis=1)
        for attr, target in (("value", value), ("capacity", capacity), ("external_input", ext_in)):
            if attr in self.node_items:
                pos, _ = self.node_items[attr]
                target[pos] = self.values(attr, u)
        if self.scale_items:
            drawn = self.values("scale", u)
            for pos, out_e, mode, row in self.scale_items:
                r = drawn[row] / mode
                for arr in (value, ext_in, capacity):
                    arr[pos] *= r[None, :]
                flow[out_e] *= r[None, :]
        if self.capacity_items:
            drawn = self.values("capacity change", u)
            for p, row in self.capacity_items:
                capacity[p] = drawn[row]
        inflow = np.asarray(self.t_in @ flow) + ext_in
        outflow = np.asarray(self.t_out @ flow)
        with np.errstate(invalid="ignore", divide="ignore"):
            denom = inflow[cg.tgt]
            share = np.where(denom > 0, flow / np.where(denom > 0, denom, 1.0), 0.0)
            ext = np.where(inflow > 0, ext_in / np.where(inflow > 0, inflow, 1.0), 1.0)
        baseline = np.where(~np.isnan(value), value, np.where(inflow > 0, inflow, outflow))
        cap, keep = self.caps(u)
        return DrawArrays(
            flow=flow,
            share=share,
            keep=keep,
            ext_in=ext_in,
            inflow=inflow,
            outflow=outflow,
            ext=ext,
            value=value,
            baseline=baseline,
            capacity=capacity,
            cap=cap,
            u=u,
            cg=cg,
        )


# ---------------------------------------------------------------------------------------------
def ordered_sum(x: np.ndarray, axis: int) -> np.ndarray:
    """Sum along ``axis`` in index order, whatever the other dimensions.

    ``numpy.sum`` switches to pairwise summation when the summed axis is the only one left
    (a chunk of one draw), which rounds differently; ``numpy.add.reduceat`` always adds in
    order, so a draw's numbers do not depend on the size of its chunk.
    """
    if x.shape[axis] == 0:
        return np.zeros(x.shape[:axis] + x.shape[axis + 1 :])
    return np.take(np.add.reduceat(x, [0], axis=axis), 0, axis=axis)


def _segment_sum(values: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """Sum the rows of ``values`` (E, B) by ``seg`` (sorted, E): (n_seg, B)."""
    out = np.zeros((n_seg, values.shape[1]))
    if len(seg) == 0:
        return out
    first = np.ones(len(seg), dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    starts = np.flatnonzero(first)
    out[seg[starts]] = np.add.reduceat(values, starts, axis=0)
    return out


def propagate(
    cg: CompiledGraph,
    w: np.ndarray,
    ext: np.ndarray,
    cap: np.ndarray,
    model: str,
    *,
    keep: np.ndarray | None = None,
    tol: float = _TOL,
    max_iter: int = _MAX_ITER,
) -> np.ndarray:
    """Remaining output ``h`` per position and column, shape (n, B).

    The model of :func:`supplygraph.analysis.propagation.propagate_arrays` with every array
    one column per draw (or per scenario and draw).

    Parameters
    ----------
    cg
        Compiled graph (structure: positions, levels, edges, input groups).
    w
        Edge weights per column, (m, B): ``share * keep`` (linear) or ``wgrp * keep``
        (Leontief).
    ext
        External share per node and column, (n, B).
    cap
        ``1 - node cut`` per node and column, (n, B).
    model
        ``"linear"`` or ``"leontief"``.
    keep
        ``1 - edge cut`` per edge and column (only to decide which closed cycles are hit).
    tol, max_iter
        Fixed-point tolerance and iteration cap (Leontief cycles, large linear cycles).

    Examples
    --------
    >>> import networkx as nx
    >>> from supplygraph.compiled import compile_graph
    >>> G = nx.DiGraph()
    >>> G.add_edge("m1", "s", flow=3.0); G.add_edge("m2", "s", flow=1.0)
    >>> cg = compile_graph(G)
    >>> cap = np.ones((3, 2)); cap[cg.index["m1"], 1] = 0.0
    >>> w = np.repeat(cg.share[:, None], 2, axis=1)
    >>> h = propagate(cg, w, np.repeat(cg.ext[:, None], 2, axis=1), cap, "linear")
    >>> h[cg.index["s"]].tolist()
    [1.0, 0.25]
    """
    n, B = cap.shape
    h = np.ones((n, B))
    closed = _closed_columns(cg, cap, keep) if cg.closed_node.any() else None
    cyc = set(cg.cyclic_levels().tolist())
    nptr, eptr, gptr = cg.level_nptr, cg.level_eptr, cg.level_gptr
    for k in range(cg.n_levels):
        a, b = int(nptr[k]), int(nptr[k + 1])
        ea, eb = int(eptr[k]), int(eptr[k + 1])
        if k in cyc:
            h[a:b] = _cyclic_level(cg, k, w, h, ext, cap, model, closed, tol, max_iter)
            continue
        if model == "linear":
            s = _segment_sum(w[ea:eb] * h[cg.src[ea:eb]], cg.tgt[ea:eb] - a, b - a)
            h[a:b] = cap[a:b] * (s + ext[a:b])
        else:
            ga, gb = int(gptr[k]), int(gptr[k + 1])
            h[a:b] = _leontief_level(cg, a, b, ea, eb, ga, gb, w, h, cap, ext)
    np.clip(h, 0.0, 1.0, out=h)
    return h


def _closed_columns(cg: CompiledGraph, cap: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """Closed-cycle outputs per column: 0 where anything in the cycle is cut, else 1."""
    import scipy.sparse as sp

    ncomp = int(cg.comp.max()) + 1 if cg.n else 0
    member = sp.csr_matrix((np.ones(cg.n), (cg.comp, np.arange(cg.n))), shape=(ncomp, cg.n))
    hit = ((cap < 1.0) & cg.closed_node[:, None]).astype(float)
    if keep is not None:
        e = cg.closed_node[cg.tgt]
        edge_hit = np.zeros_like(hit)
        np.add.at(edge_hit, cg.tgt[e], (keep[e] < 1.0).astype(float))
        hit = hit + edge_hit
    any_hit = np.asarray(member @ hit) > 0
    return np.where(any_hit[cg.comp], 0.0, 1.0)


def _cyclic_level(
    cg: CompiledGraph,
    k: int,
    w: np.ndarray,
    h: np.ndarray,
    ext: np.ndarray,
    cap: np.ndarray,
    model: str,
    closed: np.ndarray | None,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    """``h`` of a level holding cyclic components, for every column.

    The level's acyclic nodes depend on earlier levels only and are computed once; the
    iterations and solves run on the nodes of its cyclic components alone.
    """
    a, b = int(cg.level_nptr[k]), int(cg.level_nptr[k + 1])
    ea, eb = int(cg.level_eptr[k]), int(cg.level_eptr[k + 1])
    nl = b - a
    src, tgt = cg.src[ea:eb], cg.tgt[ea:eb] - a
    intra = src >= a
    cyc = np.flatnonzero(cg.cyclic_node[a:b])
    local = np.full(nl, -1, dtype=np.int64)
    local[cyc] = np.arange(len(cyc))
    cl = cg.closed_node[a:b][cyc] if closed is not None else None
    fixed = closed[a:b][cyc] if closed is not None else None
    if model == "linear":
        known = _segment_sum(w[ea:eb][~intra] * h[src[~intra]], tgt[~intra], nl)
        out = cap[a:b] * (known + ext[a:b])
        rhs = out[cyc]
        ti, si = local[tgt[intra]], local[src[intra] - a]
        wi = w[ea:eb][intra] * cap[a:b][tgt[intra]]
        if cl is not None and cl.any():
            rhs[cl] = fixed[cl]  # type: ignore[index]
            drop = cl[ti]
            ti, si, wi = ti[~drop], si[~drop], wi[~drop]
        out[cyc] = _solve_linear(cg, a + cyc, ti, si, wi, rhs, tol, max_iter)
        return out
    ga, gb = int(cg.level_gptr[k]), int(cg.level_gptr[k + 1])
    work = h.copy()
    work[a:b][cyc] = 1.0
    if cl is not None and cl.any():
        work[a + cyc[cl]] = fixed[cl]  # type: ignore[index]
    out = _leontief_level(cg, a, b, ea, eb, ga, gb, w, work, cap, ext)
    # the cyclic nodes' edges and input groups (contiguous runs per target, as in cg)
    e_idx = ea + np.flatnonzero(cg.cyclic_node[tgt + a])
    g_all = cg.grp[e_idx]
    g_first = np.flatnonzero(np.r_[True, g_all[1:] != g_all[:-1]]) if len(e_idx) else e_idx
    g_node = local[cg.group_node[g_all[g_first]] - a] if len(e_idx) else e_idx
    n_first = np.flatnonzero(np.r_[True, g_node[1:] != g_node[:-1]]) if len(g_node) else g_node
    rows = g_node[n_first]
    e_c = ext[a:b][cyc]
    cap_c = cap[a:b][cyc]
    x = work[a + cyc]
    w_c = w[e_idx]
    src_c = cg.src[e_idx]
    active = np.ones(h.shape[1], dtype=bool)
    for _ in range(max_iter):
        work[a + cyc] = x
        gsum = np.add.reduceat(w_c * work[src_c], g_first, axis=0)
        m = np.ones_like(x)
        m[rows] = np.minimum.reduceat(gsum, n_first, axis=0)
        new = cap_c * (e_c + (1.0 - e_c) * m)
        if cl is not None and cl.any():
            new[cl] = fixed[cl]  # type: ignore[index]
        delta = np.max(np.abs(new - x), axis=0) if len(cyc) else np.zeros(h.shape[1])
        x = np.where(active[None, :], new, x)
        active &= delta > tol
        if not active.any():
            out[cyc] = x
            return out
    msg = f"leontief propagation did not converge on a cycle through {cg.nodes[a]!r}"
    raise SupplyGraphError(msg)


def _solve_linear(
    cg: CompiledGraph,
    pos: np.ndarray,
    ti: np.ndarray,
    si: np.ndarray,
    wi: np.ndarray,
    rhs: np.ndarray,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    """Solve ``x = W x + rhs`` per column (W per column: edges ``si -> ti`` with weights wi).

    Fixed-point sweeps over the whole level, each column stopping when it settles (as
    :mod:`supplygraph.analysis.cyclic_levels` does for scenarios); columns still moving after
    :data:`LINEAR_SWEEPS` sweeps (feedback close to 1) are solved exactly, component by
    component (a batched dense solve up to :data:`DENSE_CYCLE` nodes, else sparse LU).
    """
    x, active = _iterate(ti, si, wi, rhs, tol, min(max_iter, LINEAR_SWEEPS), strict=False)
    if not active.any():
        return x
    cols = np.flatnonzero(active)
    x[:, cols] = _solve_exact(cg, pos, ti, si, wi[:, cols], rhs[:, cols])
    return x


#: Fixed-point sweeps of a linear cyclic level before the columns still moving are solved
#: exactly.
LINEAR_SWEEPS = 1_000


def _solve_exact(
    cg: CompiledGraph,
    pos: np.ndarray,
    ti: np.ndarray,
    si: np.ndarray,
    wi: np.ndarray,
    rhs: np.ndarray,
) -> np.ndarray:
    """``x = W x + rhs`` exactly, per component and column (rows: positions ``pos``)."""
    B = rhs.shape[1]
    x = rhs.copy()
    nl = len(pos)
    comp = cg.comp[pos]
    starts = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]])
    sizes = np.diff(np.r_[starts, nl])
    local = np.arange(nl) - np.repeat(starts, sizes)
    comp_of = np.repeat(np.arange(len(starts)), sizes)
    ecomp = comp_of[ti]
    for size in np.unique(sizes).tolist():
        which = np.flatnonzero(sizes == size)
        if size > DENSE_CYCLE:
            import scipy.sparse as sp
            from scipy.sparse.linalg import splu

            for c in which.tolist():
                p0 = int(starts[c])
                sel = ecomp == c
                for j in range(B):
                    M = sp.csc_matrix(
                        (wi[sel, j], (ti[sel] - p0, si[sel] - p0)), shape=(size, size)
                    )
                    lhs = (sp.identity(size, format="csc") - M).tocsc()
                    x[p0 : p0 + size, j] = splu(lhs).solve(rhs[p0 : p0 + size, j])
            continue
        slot = np.full(len(starts), -1, dtype=np.int64)
        slot[which] = np.arange(len(which))
        sel = slot[ecomp] >= 0
        M = np.zeros((len(which), size, size, B))
        np.add.at(M, (slot[ecomp[sel]], local[ti[sel]], local[si[sel]]), -wi[sel])
        M = np.moveaxis(M, 3, 1)  # (K, B, size, size)
        M += np.eye(size)
        rows = (starts[which][:, None] + np.arange(size)[None, :]).ravel()
        r = np.moveaxis(rhs[rows].reshape(len(which), size, B), 2, 1)  # (K, B, size)
        try:
            sol = np.linalg.solve(M, r[..., None])[..., 0]
        except np.linalg.LinAlgError:
            msg = (
                f"a cycle through {cg.nodes[int(pos[starts[which[0]]])]!r} has no input from "
                "outside it in some draw (its system is singular)"
            )
            raise SupplyGraphError(msg) from None
        x[rows] = np.moveaxis(sol, 1, 2).reshape(len(rows), B)
    return x


def _iterate(
    ti: np.ndarray,
    si: np.ndarray,
    wi: np.ndarray,
    rhs: np.ndarray,
    tol: float,
    max_iter: int,
    *,
    strict: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``x = W x + rhs`` by fixed-point sweeps, each column stopping when it settles.

    Returns ``(x, active)``: the columns still moving after ``max_iter`` sweeps are flagged
    (``strict``: raise instead).
    """
    x = rhs.copy()
    active = np.ones(rhs.shape[1], dtype=bool)
    o = np.argsort(ti, kind="stable")
    ti, si, wi = ti[o], si[o], wi[o]
    for _ in range(max_iter):
        new = rhs + _segment_sum(wi * x[si], ti, len(x))
        delta = np.max(np.abs(new - x), axis=0) if len(x) else np.zeros(x.shape[1])
        x = np.where(active[None, :], new, x)
        active &= delta > tol
        if not active.any():
            return x, active
    if strict:
        msg = "linear propagation did not converge on a large cycle (feedback close to 1)"
        raise SupplyGraphError(msg)
    return x, active


# ---------------------------------------------------------------------------------------------
def removal_weighted_losses(
    cg: CompiledGraph,
    arrays: DrawArrays,
    removals: Sequence[np.ndarray],
    tpos: np.ndarray,
    weights: np.ndarray,
    model: str,
    *,
    row_weights: np.ndarray | None = None,
    max_cells: int = 4_000_000,
) -> np.ndarray:
    """Output-weighted target loss of each removal in each draw, shape (R, B).

    Every (removal, draw) pair is one column of :func:`propagate`: the draw's weights with the
    removal's positions at ``h = 0`` (on top of the draw's own cuts). Columns are processed in
    slices of at most ``max_cells`` edge-columns.

    Parameters
    ----------
    weights
        Target weights per draw, (T, B).
    row_weights
        Optional per removal and target factors (0 leaves a target out of that row's loss,
        e.g. a group's own targets), (R, T).
    """
    R, B = len(removals), arrays.size
    out = np.zeros((R, B))
    if not R or not B:
        return out
    w_all = arrays.weights(model)
    per_row = max(1, max_cells // max(cg.m + cg.n, 1) // B)
    for r0 in range(0, R, per_row):
        rows = list(range(r0, min(R, r0 + per_row)))
        k = len(rows)
        cap = np.tile(arrays.cap, (1, k))
        for j, r in enumerate(rows):
            cap[np.asarray(removals[r], dtype=np.int64), j * B : (j + 1) * B] = 0.0
        keep = None if arrays.keep is None else np.tile(arrays.keep, (1, k))
        h = propagate(
            cg, np.tile(w_all, (1, k)), np.tile(arrays.ext, (1, k)), cap, model, keep=keep
        )
        loss = (1.0 - h[tpos]).reshape(len(tpos), k, B)  # (T, k, B)
        wt = weights[:, None, :]
        if row_weights is not None:
            wt = wt * row_weights[rows].T[:, :, None]
        out[rows] = ordered_sum(loss * wt, 0)
    return out


def reverse_weighted_losses(cg: CompiledGraph, share: np.ndarray, wvec: np.ndarray) -> np.ndarray:
    """Linear model on a DAG: weighted loss of removing each node, per draw, (n, B).

    ``y = A y + w`` solved customers first (``A[u, v]`` = the draw's input share of ``u`` in
    ``v``): ``y[u] = sum_t w[t] L[u, t]``, which on an acyclic graph is the output-weighted loss
    of removing ``u`` (``L[u, u] = 1``; see :mod:`supplygraph.analysis.dependency`). One
    reverse pass per chunk: the cost of one propagation.

    Parameters
    ----------
    share
        Input shares per draw (m, B) (times ``keep`` when shocks apply).
    wvec
        Target weights placed on their positions, (n, B) (0 elsewhere).
    """
    if not cg.is_dag:
        msg = "the one-pass removal losses need an acyclic graph"
        raise SupplyGraphError(msg)
    order = _reverse_order(cg)
    y = wvec.copy()
    src_sorted = cg.src[order]
    lvl = cg.level[src_sorted]
    bounds = np.searchsorted(lvl, np.arange(cg.n_levels + 1))
    nptr = cg.level_nptr
    for k in range(cg.n_levels - 1, -1, -1):
        a, b = int(nptr[k]), int(nptr[k + 1])
        e0, e1 = int(bounds[k]), int(bounds[k + 1])
        if e1 <= e0:
            continue
        e = order[e0:e1]
        y[a:b] += _segment_sum(share[e] * y[cg.tgt[e]], cg.src[e] - a, b - a)
    return np.clip(y, 0.0, 1.0)


def _reverse_order(cg: CompiledGraph) -> np.ndarray:
    if "rev_order" not in cg._cache:
        cg._cache["rev_order"] = np.lexsort((np.arange(cg.m), cg.src))
    return cg._cache["rev_order"]


def incidence(rows: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Sparse 0/1 matrix with a 1 at ``(rows[j], j)``."""
    import scipy.sparse as sp

    return sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n_rows, n_cols))
