"""Batched scenario losses inside the cyclic levels of a compiled graph.

The all-scenarios kernel (:func:`supplygraph.analysis.dependency.scenario_losses`) propagates
losses level by level as sparse ``scenarios x nodes`` blocks. In a level that holds cyclic
strongly connected components (SCCs), a node's loss also depends on the losses of the other
nodes of its SCC in the *same* scenario. This module resolves those levels for every scenario at
once, over a flat *support*: the (scenario, node) pairs of every SCC that a scenario reaches
(some input from an earlier level is lost, or one of its nodes is removed). Scenarios that do not
reach an SCC never touch it, so the work follows the downstream cones, as in acyclic levels.

With ``x`` the loss (``1 - h``) of the support pairs, ``b`` the losses arriving from earlier
levels (per input group) and ``W`` the intra-SCC input weights:

- linear model: ``x = b + W x`` with removed nodes fixed at 1, iterated from ``x = 0`` until
  no loss changes by more than ``tol`` (the error is then below ``tol * rho / (1 - rho)`` for
  feedback ``rho < 1``); scenarios still moving after :data:`LINEAR_ITERATIONS` sweeps (feedback
  close to 1) are solved exactly with a sparse LU of their own support system;
- Leontief model: ``x[v] = (1 - ext[v]) * max_g (b[g] + sum_{u in g} wg[u, v] x[u])`` with
  removed nodes fixed at 1, iterated from ``x = 0`` (``h = 1``) until no loss changes by more
  than ``tol`` -- the same monotone fixed-point iteration, from the same start, as the
  per-scenario propagation (:func:`supplygraph.analysis.propagation.propagate_arrays`).

Each scenario stops iterating when its own losses settle, so its result does not depend on the
other scenarios of the batch (a sweep split over workers gives identical numbers).

Nodes of closed SCCs (no outside or external input) are lost entirely when any of their nodes is
removed and untouched otherwise, as in the per-scenario kernels.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from supplygraph.analysis.sparse_rows import join_rows
from supplygraph.errors import SupplyGraphError

if TYPE_CHECKING:
    import scipy.sparse as sp

    from supplygraph.compiled import CompiledGraph

__all__ = ["cyclic_level_losses"]

#: Largest support (pairs plus expanded intra-SCC edges) resolved in one batch; more scenarios
#: are split into batches of whole scenarios.
MAX_SUPPORT = 8_000_000

#: Jacobi sweeps of the linear model before the scenarios still moving are solved exactly.
LINEAR_ITERATIONS = 1_000


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For runs ``starts[i] .. starts[i] + counts[i] - 1``: (run index, value) of every element."""
    total = int(counts.sum())
    run = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return run, np.repeat(starts, counts) + offset


def cyclic_level_losses(
    cg: CompiledGraph,
    k: int,
    blk: sp.csr_matrix,
    acc: sp.csr_matrix | None,
    model: str,
    rem_scn: np.ndarray,
    rem_loc: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> sp.csr_matrix:
    """Return level ``k``'s loss block with its cyclic nodes resolved for every scenario.

    Parameters
    ----------
    cg
        Compiled graph.
    k
        A level that contains cyclic SCCs.
    blk
        ``(S, n_k)`` CSR losses of the level's nodes computed from earlier levels only (and 1 at
        removed nodes): exact for the level's acyclic nodes, a first iterate for the others.
    acc
        ``(S, columns)`` CSR losses arriving from earlier levels per input column of the level
        (input groups for ``"leontief"``, nodes for ``"linear"``), before the per-node maximum
        and the external-input factor; None when nothing arrives.
    model
        ``"linear"`` or ``"leontief"``.
    rem_scn, rem_loc
        Removed (scenario, local position) pairs in this level.
    tol, max_iter
        Leontief fixed-point tolerance (largest change of a loss) and iteration cap.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(S, n_k)`` losses in [0, 1].
    """
    import scipy.sparse as sp

    S, nk = blk.shape
    a, b = int(cg.level_nptr[k]), int(cg.level_nptr[k + 1])
    ea, eb = int(cg.level_eptr[k]), int(cg.level_eptr[k + 1])
    ga, gb = int(cg.level_gptr[k]), int(cg.level_gptr[k + 1])
    closed = cg.closed_node[a:b]
    open_cyc = cg.cyclic_node[a:b] & ~closed

    # SCCs of the level: contiguous runs of positions
    comp = cg.comp[a:b]
    first = np.ones(nk, dtype=bool)
    first[1:] = comp[1:] != comp[:-1]
    comp_start = np.flatnonzero(first)
    comp_len = np.diff(np.append(comp_start, nk))
    lc = np.cumsum(first) - 1  # local component of each local node
    ncomp = len(comp_start)

    # input columns of the level: groups (leontief) or nodes (linear)
    if model == "linear":
        ncol = nk
        col_node = np.arange(nk, dtype=np.int64)
        e_col = cg.tgt[ea:eb] - a
        e_w = cg.share[ea:eb]
    else:
        ncol = gb - ga
        col_node = cg.group_node[ga:gb] - a
        e_col = cg.grp[ea:eb] - ga
        e_w = cg.wgrp[ea:eb]
    col_start = np.searchsorted(col_node, np.arange(nk + 1))  # columns of node v: [s[v], s[v+1])
    col_count = np.diff(col_start)

    # intra-SCC edges (suppliers in this level), grouped by supplier
    e_src = cg.src[ea:eb] - a
    intra = np.flatnonzero((e_src >= 0) & open_cyc[np.clip(e_src, 0, nk - 1)])
    o = np.argsort(e_src[intra], kind="stable")
    in_src, in_col, in_w = e_src[intra][o], e_col[intra][o], e_w[intra][o]
    out_start = np.searchsorted(in_src, np.arange(nk + 1))
    out_count = np.diff(out_start)

    # losses arriving at open cyclic nodes' columns, and removals of open cyclic nodes
    if acc is not None and acc.nnz:
        # a sparse product: no duplicate entries (its column order does not matter here)
        r_acc = np.repeat(np.arange(S, dtype=np.int64), np.diff(acc.indptr))
        c_acc, v_acc = acc.indices.astype(np.int64), acc.data
        hit = open_cyc[col_node[c_acc]] & (v_acc > 0)
        r_acc, c_acc, v_acc = r_acc[hit], c_acc[hit], v_acc[hit]
    else:
        r_acc = c_acc = np.zeros(0, dtype=np.int64)
        v_acc = np.zeros(0)
    rem_open = open_cyc[rem_loc]
    r_rem, p_rem = rem_scn[rem_open], rem_loc[rem_open]

    # touched (scenario, SCC) pairs, sorted
    touched = np.unique(
        np.concatenate([r_acc * ncomp + lc[col_node[c_acc]], r_rem * ncomp + lc[p_rem]])
    )
    t_row, t_comp = touched // ncomp, touched % ncomp
    # batches of whole scenarios, each with a bounded support
    size = (
        comp_len[t_comp] + np.add.reduceat(out_count + col_count, comp_start)[t_comp]
    )  # pairs + edges + columns per touched SCC
    new_r: list[np.ndarray] = []
    new_c: list[np.ndarray] = []
    new_v: list[np.ndarray] = []
    if len(touched):
        row_first = np.flatnonzero(np.r_[True, t_row[1:] != t_row[:-1]])
        row_size = np.add.reduceat(size, row_first)
        # a new batch wherever the running support crosses a multiple of MAX_SUPPORT
        batch = (np.cumsum(row_size) - row_size) // MAX_SUPPORT
        cuts = [*np.flatnonzero(np.r_[True, batch[1:] != batch[:-1]]).tolist(), len(row_first)]
        bounds = np.append(row_first, len(touched))
        for lo, hi in pairwise(cuts):
            t0, t1 = int(bounds[lo]), int(bounds[hi])
            r0, r1 = int(t_row[t0]), int(t_row[t1 - 1]) + 1
            sa = np.searchsorted(r_acc, [r0, r1])
            in_batch = (r_rem >= r0) & (r_rem < r1)
            pr, pn, x = _resolve(
                cg,
                a,
                model,
                ncol,
                t_row[t0:t1],
                comp_start[t_comp[t0:t1]],
                comp_len[t_comp[t0:t1]],
                col_start,
                col_count,
                out_start,
                out_count,
                in_col,
                in_w,
                r_acc[sa[0] : sa[1]],
                c_acc[sa[0] : sa[1]],
                v_acc[sa[0] : sa[1]],
                r_rem[in_batch],
                p_rem[in_batch],
                tol=tol,
                max_iter=max_iter,
            )
            nz = x > 0
            new_r.append(pr[nz])
            new_c.append(pn[nz])
            new_v.append(x[nz])

    # closed SCCs: every node of an SCC with a removed node is lost, nothing else reaches them
    rem_closed = closed[rem_loc]
    if rem_closed.any():
        cs = lc[rem_loc[rem_closed]]
        run, cn = _expand(comp_start[cs], comp_len[cs])
        new_r.append(rem_scn[rem_closed][run])
        new_c.append(cn)
        new_v.append(np.ones(len(cn)))

    # replace the level's cyclic columns: drop them from blk (CSR mask), add the new values
    keep = ~cg.cyclic_node[a:b][blk.indices]
    if not keep.all():
        kept = np.concatenate([[0], np.cumsum(keep)])
        blk = sp.csr_matrix((blk.data[keep], blk.indices[keep], kept[blk.indptr]), shape=(S, nk))
    if new_r:
        add = sp.csr_matrix(
            (np.concatenate(new_v), (np.concatenate(new_r), np.concatenate(new_c))), shape=(S, nk)
        )
        blk = join_rows(blk, add)
    np.clip(blk.data, 0.0, 1.0, out=blk.data)
    return blk


def _resolve(
    cg: CompiledGraph,
    a: int,
    model: str,
    ncol: int,
    t_row: np.ndarray,
    t_start: np.ndarray,
    t_len: np.ndarray,
    col_start: np.ndarray,
    col_count: np.ndarray,
    out_start: np.ndarray,
    out_count: np.ndarray,
    in_col: np.ndarray,
    in_w: np.ndarray,
    r_acc: np.ndarray,
    c_acc: np.ndarray,
    v_acc: np.ndarray,
    r_rem: np.ndarray,
    p_rem: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Losses of the support pairs of one batch: (scenario, local node, loss) arrays."""
    # support pairs (scenario, node): every node of every touched SCC, sorted
    run, p_node = _expand(t_start, t_len)
    p_row = t_row[run]
    nk = len(col_count)
    p_key = p_row * nk + p_node
    # support columns (scenario, input column): every column of every support node, sorted
    prun, q_col = _expand(col_start[p_node], col_count[p_node])
    q_key = p_row[prun] * ncol + q_col
    base = np.zeros(len(q_key))
    if len(r_acc):
        base[np.searchsorted(q_key, r_acc * ncol + c_acc)] = v_acc
    # intra-SCC edges of every support pair: supplier pair -> customer column
    erun, eid = _expand(out_start[p_node], out_count[p_node])
    e_q = np.searchsorted(q_key, p_row[erun] * ncol + in_col[eid])
    e_w = in_w[eid]
    fixed = np.searchsorted(p_key, r_rem * nk + p_rem)

    n_p = len(p_key)
    if n_p == 0:
        return p_row, p_node, np.zeros(0)
    is_fixed = np.zeros(n_p, dtype=bool)
    is_fixed[fixed] = True
    # each scenario iterates until its own losses settle, then stays frozen: a scenario's
    # result never depends on which other scenarios share the batch
    first = np.ones(n_p, dtype=bool)
    first[1:] = p_row[1:] != p_row[:-1]
    row_seg = np.flatnonzero(first)
    row_of = np.cumsum(first) - 1
    live = np.ones(len(row_seg), dtype=bool)
    if model == "linear":
        seg = None
        keep_ext = None
        cap = LINEAR_ITERATIONS
    else:
        seg = np.cumsum(col_count[p_node]) - col_count[p_node]  # first column of each pair
        keep_ext = 1.0 - cg.ext[a + p_node]
        cap = max_iter
    x = np.zeros(n_p)
    for _ in range(cap):
        g = base + np.bincount(e_q, weights=e_w * x[erun], minlength=len(q_key))
        new = g if seg is None else np.maximum.reduceat(g, seg) * keep_ext
        new[is_fixed] = 1.0
        np.clip(new, 0.0, 1.0, out=new)
        settled = np.maximum.reduceat(np.abs(new - x), row_seg) <= tol
        x = np.where(live[row_of], new, x)
        live &= ~settled
        if not live.any():
            break
    else:
        if seg is not None:
            raise SupplyGraphError(
                f"leontief propagation did not converge within {max_iter} iterations "
                f"(tolerance {tol:g}) on a cycle through {cg.nodes[a + int(p_node[0])]!r}"
            )
        # linear scenarios still moving (feedback close to 1): solve them exactly, one by one
        for r in np.flatnonzero(live).tolist():
            lo = int(row_seg[r])
            hi = int(row_seg[r + 1]) if r + 1 < len(row_seg) else n_p
            x[lo:hi] = _linear_exact(lo, hi, base, e_q, erun, e_w, is_fixed)
    np.clip(x, 0.0, 1.0, out=x)
    return p_row, p_node, x


def _linear_exact(
    lo: int,
    hi: int,
    base: np.ndarray,
    e_q: np.ndarray,
    erun: np.ndarray,
    e_w: np.ndarray,
    is_fixed: np.ndarray,
) -> np.ndarray:
    """Exact linear losses of support pairs ``lo:hi`` (one scenario): ``(I - W) x = b``."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    n = hi - lo
    ea, eb = np.searchsorted(erun, [lo, hi])  # the scenario's edges (sorted by supplier pair)
    q, p, w = e_q[ea:eb] - lo, erun[ea:eb] - lo, e_w[ea:eb]
    fx = is_fixed[lo:hi]
    live = ~fx[q]
    M = sp.csc_matrix((-w[live], (q[live], p[live])), shape=(n, n))
    M = (M + sp.identity(n, format="csc")).tocsc()
    return splu(M).solve(np.where(fx, 1.0, base[lo:hi]))
