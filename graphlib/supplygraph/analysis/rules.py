"""The ``rules`` supply response: incumbents first, re-sourcing from spare output, rationing.

A behavioural rule, computed on the arrays of
:class:`~supplygraph.analysis.response_arrays.ResponseProblem` (outputs ``x`` as fractions of
normal; flows absolute). Notation: ``z[e]`` normal
flow of link ``e = (u, v)``, ``keep[e] = 1 - cut[e]``, ``out[u]`` normal outflow of ``u``,
``cap[v] = 1 - node cut``, ``kappa[v] = capacity / value``, ``N[p]`` the normal intake of input
pool ``p`` (``ext[p]`` of it from outside the graph), ``q[e]`` the link's quota.

1. **Incumbents first.** Every customer keeps its no-response share of each supplier's output::

       d1[e] = keep[e] * min(x[u], 1) * z[e]

   The part an export rule withholds, ``(1 - keep[e]) * min(x[u], 1) * z[e]``, stays with the
   supplier, free for other customers.
2. **Production.** With ``g[e]`` the extra deliveries granted so far (step 4)::

       P[v] = min over v's pools p of ( sum_{e in p} (d1[e] + g[e]) + ext[p] ) / N[p]
       x[v] = min( T[v], cap[v] * min(kappa[v], P[v]) )

   (``P = inf`` for nodes with no inputs in the graph). ``T[v]`` is what v is asked to make:
   ``min(cap kappa, 1)`` for end uses, and for suppliers ``min(cap kappa, 1 + extra orders net
   of withheld output / O)``. With no spare capacity (``kappa = 1``) and no extra deliveries this
   is exactly the linear (one pool) or Leontief (one pool per input group) model,
   ``x = cap * P``.
3. **Orders.** A node short of what it is asked to make needs, per pool,
   ``shortfall[p] = min(kappa, T / cap) * N[p] - (delivered + ext)`` more. Whatever its open
   orders do not already cover it orders from its existing suppliers in proportion to ``z[e]``
   times each supplier's spare fraction (Guan et al.'s capacity weighting), capped by what the
   link and the supplier could still take (``q[e] - d1[e] - g[e]`` minus the link's open
   orders, and the supplier's spare minus every open order it holds), and -- with
   ``substitution="stage"`` -- the rest from suppliers it has no link with (by their spare
   output). Orders stay open with their supplier until filled: a customer does not move an
   order elsewhere.
4. **Rationing.** A supplier has ``L[u] = max(x[u] - 1, 0) * out[u] + withheld[u] - granted[u]``
   to spare and grants the orders it receives by the chosen rule: ``proportional`` (in
   proportion to the orders), ``priority`` (classes in order, proportional within a class) or
   ``maxmin`` (the same share of each customer's normal intake, up to its order). Grants are
   final: a customer never loses a grant later, and incumbents are never cut to serve them.

One round is a pass down the graph (steps 1, 2 and 4, level by level, so deliveries flow
downstream in the same round) and a pass up (step 3, so orders reach suppliers of suppliers).

Termination. Orders and grants only grow (neither is ever withdrawn) and both are bounded (by
the shortfalls, the links' quotas and the suppliers' capacities); what a supplier is asked to
make, ``T``, grows with the orders it holds, and every ``x`` is a monotone function of ``T``,
the grants and its suppliers' ``min(x, 1)``, which never falls. A new order arises only when
what a node is asked to make grows, so orders settle once the largest orders have travelled up
the chain, and grants once they have travelled down: a few rounds per level of the graph. The
iteration stops when a round places no order and adds less than ``tol`` (absolute, relative to
the largest flow) to every grant and moves no ``x`` by more than ``tol``; it raises after
``max_rounds`` rounds.

Bounds (tested): every node gets at least its no-response output (incumbents keep their share
and grants only add), and the rule's deliveries satisfy every constraint of the linear program
of :mod:`supplygraph.analysis.optimal`, so no node gets more than that program's maximum for it.

All scenarios run at once: every per-node array is ``(n, S)`` and every per-link array
``(M, S)``; a round costs a few sparse products per level. The normal flows ``z``, capacities
``kappa``, outflows and pool intakes may be one column per scenario too (Monte Carlo draws, see
:func:`~supplygraph.analysis.response_arrays.with_draws`): each column is then its own graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from supplygraph.errors import SupplyGraphError

if TYPE_CHECKING:
    import scipy.sparse as sp

    from supplygraph.analysis.response_arrays import ResponseProblem

__all__ = ["RulesResult", "solve_rules", "waterfill"]

TOL = 1e-12
MAX_ROUNDS = 10_000
_CYCLE_ITER = 100_000
_GAP_TOL = 1e-12  # a gap below this is rounding, not a shortage (as in the timeline)


@dataclass
class RulesResult:
    """The fixed point of the ``rules`` response.

    Attributes
    ----------
    x
        Output per position as a fraction of normal, shape (n, S) (may exceed 1 where spare
        capacity serves extra orders).
    delivered
        Deliveries per link (incumbent share plus grants), shape (M, S), absolute.
    granted
        The extra deliveries granted (step 4), shape (M, S).
    requested
        The orders still open at the fixed point (nobody could fill them), shape (M, S).
    used
        Stock drawn per node, in days of normal intake, shape (n, S) (zeros without stocks).
    supply
        Each node's intake from deliveries and external input alone, as a fraction of normal
        (``P``; inf for nodes without inputs), shape (n, S).
    short
        Each pool's shortfall at the fixed point (absolute), shape (pools, S).
    rounds
        Rounds until the fixed point.
    """

    x: np.ndarray
    delivered: np.ndarray
    granted: np.ndarray
    requested: np.ndarray
    short: np.ndarray
    rounds: int
    used: np.ndarray | None = None
    supply: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
def waterfill(
    seg: np.ndarray, weight: np.ndarray, cap: np.ndarray, amount: np.ndarray, n_seg: int
) -> np.ndarray:
    """Share ``amount[s]`` among the items of each segment ``s`` in proportion to ``weight``,
    no item above its ``cap`` (proportional allocation with caps, "water-filling").

    ``alloc[i] = min(cap[i], theta[s] * weight[i])`` with ``theta[s]`` the level at which the
    segment's allocations add up to ``min(amount[s], sum of its caps)``. Items with zero
    weight get nothing.

    Parameters
    ----------
    seg
        Segment of each item (int, any order).
    weight, cap
        Per item, >= 0 (cap may be inf).
    amount
        Per segment, >= 0.
    n_seg
        Number of segments.

    Returns
    -------
    numpy.ndarray
        Allocation per item.

    Examples
    --------
    >>> waterfill(np.array([0, 0, 0]), np.array([1.0, 1.0, 2.0]), np.array([1.0, 9.0, 9.0]),
    ...           np.array([9.0]), 1).tolist()
    [1.0, 2.6666666666666665, 5.333333333333333]
    """
    alloc = np.zeros(len(seg))
    live = (weight > 0) & (cap > 0) & (amount[seg] > 0)
    if not live.any():
        return alloc
    idx = np.flatnonzero(live)
    s, w, c = seg[idx], weight[idx].astype(float), cap[idx].astype(float)
    A = amount.astype(float)
    # scale each segment to O(1) (weights by their largest, caps and amount by the larger of
    # the amount and the largest finite cap), so sums across segments lose no precision
    w_max = np.zeros(n_seg)
    np.maximum.at(w_max, s, w)
    c_max = np.zeros(n_seg)
    np.maximum.at(c_max, s, np.where(np.isfinite(c), c, 0.0))
    unit = np.maximum(c_max, A)
    unit = np.where(unit > 0, unit, 1.0)
    w = w / w_max[s]
    c = c / unit[s]
    A = A / unit
    with np.errstate(over="ignore", divide="ignore"):
        t = c / w  # the level theta at which the item saturates (inf: never)
    order = np.lexsort((t, s))
    s, w, c, t, idx = s[order], w[order], c[order], t[order], idx[order]
    first = np.ones(len(s), dtype=bool)
    first[1:] = s[1:] != s[:-1]
    starts = np.flatnonzero(first)
    seg_len = np.diff(np.append(starts, len(s)))
    seg_of = np.repeat(np.arange(len(starts)), seg_len)
    # within each segment (sorted by t): caps of the items before k, weights from k on
    c_fin = np.where(np.isinf(c), 0.0, c)
    cum_c = np.cumsum(c_fin)
    before_c = cum_c - c_fin - (cum_c[starts] - c_fin[starts])[seg_of]
    cum_w = np.cumsum(w)
    seg_w = np.add.reduceat(w, starts)
    tail_w = seg_w[seg_of] - (cum_w - w - (cum_w[starts] - w[starts])[seg_of])
    tail_w = np.maximum(tail_w, w)  # at least the item's own weight (rounding)
    # total allocated if theta = t[k]: caps before k + t[k] * weights from k on
    with np.errstate(invalid="ignore", over="ignore"):
        total_at = before_c + np.where(np.isinf(t), np.inf, t * tail_w)
    A_item = A[s]
    reached = total_at >= A_item
    # first k in each segment where the total reaches the amount (none: every cap binds)
    k_first = np.full(len(starts), -1, dtype=np.int64)
    hit_pos = np.flatnonzero(reached)
    if len(hit_pos):
        hs = seg_of[hit_pos]
        firsts = np.ones(len(hs), dtype=bool)
        firsts[1:] = hs[1:] != hs[:-1]
        k_first[hs[firsts]] = hit_pos[firsts]
    theta = np.full(len(starts), np.inf)
    ok = k_first >= 0
    kk = k_first[ok]
    theta[ok] = np.maximum((A_item[kk] - before_c[kk]) / tail_w[kk], 0.0)
    th = theta[seg_of]
    out = np.where(np.isinf(th), c, np.minimum(c, th * w)) * unit[s]
    alloc[idx] = np.where(np.isfinite(out), out, 0.0)
    return alloc


def _ration(
    rule: str,
    seg: np.ndarray,
    want: np.ndarray,
    supply: np.ndarray,
    n_seg: int,
    classes: np.ndarray,
    size: np.ndarray,
) -> np.ndarray:
    """Grants per order: a supplier (segment) shares ``supply`` among ``want`` by ``rule``."""
    if rule == "maxmin":
        return waterfill(seg, np.where(want > 0, size, 0.0), want, supply, n_seg)
    if rule == "priority":
        out = np.zeros(len(want))
        left = supply.copy()
        for c in np.unique(classes).tolist():
            sel = classes == c
            part = waterfill(seg[sel], want[sel], want[sel], left, n_seg)
            out[sel] = part
            left = np.maximum(left - np.bincount(seg[sel], weights=part, minlength=n_seg), 0.0)
        return out
    return waterfill(seg, want, want, supply, n_seg)


# ---------------------------------------------------------------------------------------------
@dataclass
class _Layout:
    """Per-level index structures (built once per problem)."""

    nptr: np.ndarray
    in_edges: list[np.ndarray]  # edges into level k (positions in edge arrays)
    out_edges: list[np.ndarray]  # edges out of level k
    pools: list[tuple[int, int]]  # pool range of level k
    pool_sum: list[sp.csr_matrix]  # (pools_k x in_edges_k) indicator
    node_starts: list[np.ndarray]  # first pool of each node with pools (relative), for reduceat
    node_with_pools: list[np.ndarray]  # level-relative nodes that have pools
    src_sum: list[sp.csr_matrix]  # (nodes_k x out_edges_k) indicator
    cyclic: set[int]


def _layout(prob: ResponseProblem) -> _Layout:
    import scipy.sparse as sp

    cg = prob.cg
    nptr = cg.level_nptr
    L = cg.n_levels
    ein = np.argsort(prob.tgt, kind="stable")
    eout = np.argsort(prob.src, kind="stable")
    in_ptr = np.searchsorted(prob.tgt[ein], nptr)
    out_ptr = np.searchsorted(prob.src[eout], nptr)
    pool_ptr = np.searchsorted(prob.pool_node, nptr)
    in_edges, out_edges, pools, pool_sum, node_starts, nwp, src_sum = [], [], [], [], [], [], []
    for k in range(L):
        a, b = int(nptr[k]), int(nptr[k + 1])
        e_in = ein[in_ptr[k] : in_ptr[k + 1]]
        e_out = eout[out_ptr[k] : out_ptr[k + 1]]
        pa, pb = int(pool_ptr[k]), int(pool_ptr[k + 1])
        in_edges.append(e_in)
        out_edges.append(e_out)
        pools.append((pa, pb))
        rows = prob.pool[e_in] - pa
        pool_sum.append(
            sp.csr_matrix(
                (np.ones(len(e_in)), (rows, np.arange(len(e_in)))), shape=(pb - pa, len(e_in))
            )
        )
        pn = prob.pool_node[pa:pb] - a
        first = np.ones(len(pn), dtype=bool)
        first[1:] = pn[1:] != pn[:-1]
        node_starts.append(np.flatnonzero(first))
        nwp.append(pn[first])
        src_sum.append(
            sp.csr_matrix(
                (np.ones(len(e_out)), (prob.src[e_out] - a, np.arange(len(e_out)))),
                shape=(b - a, len(e_out)),
            )
        )
    return _Layout(
        nptr=nptr,
        in_edges=in_edges,
        out_edges=out_edges,
        pools=pools,
        pool_sum=pool_sum,
        node_starts=node_starts,
        node_with_pools=nwp,
        src_sum=src_sum,
        cyclic=set(cg.cyclic_levels().tolist()),
    )


def solve_rules(
    prob: ResponseProblem,
    *,
    closed_values: np.ndarray | None = None,
    stock: np.ndarray | None = None,
    lagged: np.ndarray | None = None,
    tol: float = TOL,
    max_rounds: int = MAX_ROUNDS,
) -> RulesResult:
    """Compute the ``rules`` response (see the module docstring) for every scenario column.

    Parameters
    ----------
    prob
        The problem (:func:`~supplygraph.analysis.response_arrays.build_problem`).
    closed_values
        Fixed outputs of nodes in closed cycles, shape (n, S) (the no-response convention:
        1 when untouched, 0 when cut); None when the graph has none.
    stock
        Days of normal intake each node holds, shape (n, S) (None: no stocks). A node draws
        ``min(stock, 1 - P)`` to fill the gap to its normal intake (as the no-response timeline
        does); its orders are for the whole gap, stock or not.
    lagged
        For links with a lead time, the supplier output (fraction) that reaches the customer
        today, shape (M, S); NaN on same-day links. Incumbent deliveries on those links use it
        instead of today's output (timelines).
    tol
        Convergence tolerance (outputs; grants relative to the largest flow).
    max_rounds
        Rounds before giving up.

    Returns
    -------
    RulesResult

    Raises
    ------
    SupplyGraphError
        When the rounds do not converge.
    """
    cg = prob.cg
    n, S = prob.n, prob.n_scenarios
    M = prob.m
    if prob.layout is None:
        prob.layout = _layout(prob)
    lay = prob.layout
    resp = prob.response
    reorder = resp.substitution != "none"
    z = _col(prob.z)
    cap, kappa = prob.cap, _col(prob.kappa)
    out = _col(prob.outflow)
    capk = cap * kappa
    sink = out <= 0
    pool_need, pool_ext = _col(prob.pool_need), _col(prob.pool_ext)
    closed = cg.closed_node
    has_closed = closed_values is not None and bool(closed.any())
    m0 = cg.m
    is_new = np.arange(M) >= m0
    scale = float(prob.z.max()) if m0 else 1.0
    gtol = tol * max(scale, 1.0)

    x = np.zeros((n, S))
    gr = np.zeros((M, S))
    orders = np.zeros((M, S))  # cumulative: what each customer has ordered on top, per link
    T = np.minimum(capk, 1.0)  # what each node is asked to make (normal output, until orders)
    avail = np.zeros((prob.n_pools, S))
    shortfall = np.zeros((prob.n_pools, S))
    used = np.zeros((n, S))
    supply = np.full((n, S), np.inf)
    if stock is not None:
        stock = np.broadcast_to(np.asarray(stock, dtype=float), (n, S))
    leftover = np.zeros((n, S))
    size_of_edge = pool_need[prob.pool]  # customer's normal intake of the pool (maxmin)

    rounds = 0
    for rounds in range(1, max_rounds + 1):
        x_before = x.copy()
        gr_before_total = gr.copy()
        # ------------------------------------------------------------- down: supply
        for k in range(cg.n_levels):
            a, b = int(lay.nptr[k]), int(lay.nptr[k + 1])
            e_in = lay.in_edges[k]
            pa, pb = lay.pools[k]
            if k in lay.cyclic and rounds == 1:
                x[a:b] = 1.0
            for _ in range(_CYCLE_ITER if k in lay.cyclic else 1):
                d = keep_d1(prob, e_in, x, lagged) + gr[e_in]
                av = lay.pool_sum[k] @ d + pool_ext[pa:pb]
                avail[pa:pb] = av
                P = np.full((b - a, S), np.inf)
                if pb > pa:
                    ratio = av / pool_need[pa:pb]
                    P[lay.node_with_pools[k]] = np.minimum.reduceat(
                        ratio, lay.node_starts[k], axis=0
                    )
                supply[a:b] = P
                if stock is not None:
                    gap = np.where(np.isfinite(P), np.maximum(1.0 - P, 0.0), 0.0)
                    gap[gap < _GAP_TOL] = 0.0
                    use = np.where(cap[a:b] > 0, np.minimum(stock[a:b], gap), 0.0)
                    used[a:b] = use
                    P = P + use
                new = np.minimum(T[a:b], cap[a:b] * np.minimum(kappa[a:b], P))
                if has_closed:
                    cl = closed[a:b]
                    if cl.any():
                        new[cl] = closed_values[a:b][cl]  # type: ignore[index]
                if k not in lay.cyclic:
                    x[a:b] = new
                    break
                delta = float(np.max(np.abs(new - x[a:b]))) if b > a else 0.0
                x[a:b] = new
                if delta <= tol:
                    break
            else:
                msg = f"rules response did not converge on a cycle through {cg.nodes[a]!r}"
                raise SupplyGraphError(msg)
            # rationing at this level's suppliers
            e_out = lay.out_edges[k]
            if not len(e_out):
                continue
            xs = _incumbent_rate(prob, e_out, x, lagged)
            d1 = prob.keep[e_out] * xs * z[e_out]
            withheld = (1.0 - prob.keep[e_out]) * xs * z[e_out]
            head = np.maximum(prob.quota[e_out] - d1 - gr[e_out], 0.0)
            Ssum = lay.src_sum[k]
            spare_out = (
                np.maximum(x[a:b] - 1.0, 0.0) * out[a:b] + Ssum @ withheld - Ssum @ gr[e_out]
            )
            spare_out = np.maximum(spare_out, 0.0)
            want = np.minimum(orders[e_out] - gr[e_out], head)
            if reorder and want.any():
                seg = _flat_seg(prob.src[e_out] - a, S, b - a)
                g = _ration(
                    resp.rationing,
                    seg,
                    want.ravel(),
                    spare_out.ravel(),
                    (b - a) * S,
                    np.repeat(prob.edge_class[e_out], S),
                    np.broadcast_to(size_of_edge[e_out], want.shape).ravel(),
                ).reshape(want.shape)
                gr[e_out] += g
                spare_out = np.maximum(spare_out - Ssum @ g, 0.0)
            leftover[a:b] = spare_out
        # ------------------------------------------------------------- up: orders
        ordered = False
        # open orders per supplier (every customer), kept current as this pass adds orders
        open_at = np.zeros((n, S))
        np.add.at(open_at, prob.src, orders - gr)
        if reorder:
            for k in range(cg.n_levels - 1, -1, -1):
                a, b = int(lay.nptr[k]), int(lay.nptr[k + 1])
                e_out = lay.out_edges[k]
                if len(e_out):
                    xs = _incumbent_rate(prob, e_out, x, lagged)
                    withheld = lay.src_sum[k] @ ((1.0 - prob.keep[e_out]) * xs * z[e_out])
                    extra = lay.src_sum[k] @ orders[e_out] - withheld
                    with np.errstate(invalid="ignore", divide="ignore"):
                        bump = np.where(out[a:b] > 0, np.maximum(extra, 0.0) / out[a:b], 0.0)
                    T[a:b] = np.minimum(capk[a:b], np.where(sink[a:b], 1.0, 1.0 + bump))
                else:
                    T[a:b] = np.minimum(capk[a:b], 1.0)
                e_in = lay.in_edges[k]
                pa, pb = lay.pools[k]
                if not len(e_in) or pb == pa:
                    continue
                with np.errstate(invalid="ignore", divide="ignore"):
                    target = np.where(cap[a:b] > 0, np.minimum(kappa[a:b], T[a:b] / cap[a:b]), 0.0)
                if has_closed:
                    target[closed[a:b]] = 0.0
                pn = prob.pool_node[pa:pb] - a
                need = target[pn] * pool_need[pa:pb]
                short = np.maximum(need - avail[pa:pb], 0.0)
                short[short <= gtol] = 0.0
                shortfall[pa:pb] = short
                # order only what the open orders do not already cover
                open_e = orders[e_in] - gr[e_in]
                short = np.maximum(short - lay.pool_sum[k] @ open_e, 0.0)
                short[short <= gtol] = 0.0
                if not short.any():
                    continue
                su = prob.src[e_in]
                d1 = keep_d1(prob, e_in, x, lagged)
                head = np.maximum(prob.quota[e_in] - d1 - gr[e_in] - open_e, 0.0)
                potential = np.maximum(capk[su] - x[su], 0.0) * out[su] + leftover[su]
                potential = np.maximum(potential - open_at[su], 0.0)
                c = np.minimum(head, potential)
                old = ~is_new[e_in]
                rel_pool = prob.pool[e_in] - pa
                seg = _flat_seg(rel_pool, S, pb - pa)
                with np.errstate(invalid="ignore", divide="ignore"):
                    frac = np.where(out[su] > 0, potential / out[su], 0.0)
                w_old = np.where(old[:, None], z[e_in] * frac, 0.0)
                n_seg = (pb - pa) * S
                c_old = np.where(old[:, None], c, 0.0)
                r = waterfill(seg, w_old.ravel(), c_old.ravel(), short.ravel(), n_seg)
                r = r.reshape(c.shape)
                if (~old).any():  # new links take what existing suppliers cannot
                    rest = np.maximum(short - lay.pool_sum[k] @ r, 0.0)
                    w_new = np.where(old[:, None], 0.0, potential)
                    c_new = np.where(old[:, None], 0.0, c)
                    r = r + waterfill(
                        seg, w_new.ravel(), c_new.ravel(), rest.ravel(), n_seg
                    ).reshape(c.shape)
                orders[e_in] += r
                np.add.at(open_at, su, r)
                ordered = ordered or bool(np.max(r, initial=0.0) > gtol)
        moved = float(np.max(np.abs(x - x_before))) if n else 0.0
        grew = float(np.max(gr - gr_before_total)) if M else 0.0
        if rounds > 1 and moved <= tol and grew <= gtol and not ordered:
            break
        if not reorder and rounds >= 1:
            break
    else:
        msg = f"rules response did not converge within {max_rounds} rounds"
        raise SupplyGraphError(msg)
    delivered = keep_d1(prob, np.arange(M), x, lagged) + gr
    return RulesResult(
        x=x,
        delivered=delivered,
        granted=gr,
        requested=orders - gr,
        short=shortfall,
        rounds=rounds,
        used=used,
        supply=supply,
    )


def stall_reasons(
    prob: ResponseProblem, res: RulesResult, targets: np.ndarray, *, tol: float = 1e-9
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What stops the rules from closing the targets' shortfalls (first scenario column).

    From each target input pool still short at the fixed point, walk its supplier links:

    * a link a shock caps (or ``max_scale`` limits) with no room left: that cap limits;
    * a supplier at its capacity with nothing left to spare: that capacity limits (a cut node:
      the cut);
    * a supplier with spare capacity that could not make more: its spare stays idle, and the
      walk continues into that supplier's own short pools.

    Returns
    -------
    (capacity nodes, links, external-input pools, idle nodes)
        Positions, edge numbers, pool numbers and positions, as
        :func:`~supplygraph.analysis.limits.limit_groups` takes them.
    """
    x = res.x[:, 0]
    gr = res.granted[:, 0]
    short = res.short[:, 0]
    capk = prob.cap[:, 0] * prob.kappa
    xs = np.minimum(x[prob.src], 1.0)
    d1 = prob.keep[:, 0] * xs * prob.z
    head = prob.quota[:, 0] - d1 - gr
    scale = max(float(prob.z.max()) if len(prob.z) else 1.0, 1.0)
    # how each link answers an open shortfall of its customer's pool
    usable = ~((prob.z == 0) & (prob.quota[:, 0] == 0))  # a new link no shock covers
    capped = usable & (head <= tol * np.maximum(prob.z, 1.0))
    at_cap = usable & ~capped & (x[prob.src] >= capk[prob.src] - tol)
    onward = usable & ~capped & ~at_cap  # the supplier could make more: look at its inputs
    short_pool = short > tol * scale
    no_links = np.bincount(prob.pool, minlength=prob.n_pools) == 0
    n = prob.n
    seen = np.zeros(n, dtype=bool)
    frontier = np.zeros(n, dtype=bool)
    frontier[np.asarray(targets, dtype=np.int64)] = True
    caps = np.zeros(n, dtype=bool)
    links = np.zeros(len(prob.src), dtype=bool)
    ext = np.zeros(prob.n_pools, dtype=bool)
    idle = np.zeros(n, dtype=bool)
    while frontier.any():
        seen |= frontier
        pools = short_pool & frontier[prob.pool_node]
        ext |= pools & (prob.pool_ext > 0) & no_links
        e = pools[prob.pool]
        links |= e & capped & (prob.z > 0)
        caps[prob.src[e & at_cap]] = True
        nxt = prob.src[e & onward]
        idle[nxt[(capk[nxt] > x[nxt] + tol) & (capk[nxt] > 1.0 + tol)]] = True
        frontier = np.zeros(n, dtype=bool)
        frontier[nxt] = True
        frontier &= ~seen
    return (
        np.flatnonzero(caps),
        np.flatnonzero(links),
        np.flatnonzero(ext),
        np.flatnonzero(idle),
    )


def _incumbent_rate(
    prob: ResponseProblem, edges: np.ndarray, x: np.ndarray, lagged: np.ndarray | None
) -> np.ndarray:
    """``min(x[u], 1)`` of each link's supplier -- its output reaching the customer today."""
    rate = np.minimum(x[prob.src[edges]], 1.0)
    if lagged is not None:
        lag = lagged[edges]
        rate = np.where(np.isnan(lag), rate, np.minimum(np.nan_to_num(lag), 1.0))
    return rate


def keep_d1(
    prob: ResponseProblem, edges: np.ndarray, x: np.ndarray, lagged: np.ndarray | None = None
) -> np.ndarray:
    """Incumbent deliveries ``keep * min(x[u], 1) * z`` on ``edges``, shape (len, S)."""
    return prob.keep[edges] * _incumbent_rate(prob, edges, x, lagged) * _col(prob.z)[edges]


def _col(a: np.ndarray) -> np.ndarray:
    """A per-item array as one column (1-D), or as it is (one column per scenario, 2-D)."""
    return a[:, None] if a.ndim == 1 else a


def _flat_seg(rel: np.ndarray, S: int, n_seg: int) -> np.ndarray:
    """Segment ids of an (items, S) block flattened row-major: segment ``rel * S + s``."""
    return (rel[:, None] * S + np.arange(S)[None, :]).ravel()
