"""The arrays the supply responses work on (:class:`ResponseProblem`).

Both responses -- the ``rules`` fixed point (:mod:`supplygraph.analysis.rules`) and the
``optimal`` program (:mod:`supplygraph.analysis.optimal`) -- read one graph, one set of cuts and
one option set (:class:`~supplygraph.analysis.response_options.Response`) in the same form, built here
by :func:`build_problem`: outputs as fractions of normal, flows absolute, inputs in pools (all of
a node's inputs under the linear model, one pool per input group under Leontief), each link's
quota, each node's capacity ratio ``kappa = capacity / value``, and -- for
``substitution="stage"`` -- the candidate new links a shock does not cover. The conventions are
stated in :mod:`supplygraph.analysis.response`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supplygraph.analysis.response_options import DOMESTIC, END_USE_PREFIX, Response

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

    from supplygraph.analysis.shocks import Shock
    from supplygraph.compiled import CompiledGraph

__all__ = ["MAX_NEW_LINKS", "ResponseProblem", "build_problem", "capacity_ratio", "with_draws"]


@dataclass
class ResponseProblem:
    """The arrays both responses work on, for one graph, one set of cuts and one option set.

    Positions and existing edges are those of the :class:`~supplygraph.compiled.CompiledGraph`
    (``cg``); candidate new links (``substitution="stage"``) follow the existing edges, so edge
    arrays have length ``M = cg.m + n_new``. Flows are absolute (edge units), outputs fractions
    of baseline.

    Attributes
    ----------
    cg
        The compiled graph.
    model
        ``"linear"`` (one input pool per node) or ``"leontief"`` (one pool per input group).
    response
        The options.
    cap
        ``1 - node cut`` per position, shape (n, S) for S scenarios.
    kappa
        ``capacity / value`` per position (>= 1).
    src, tgt, z
        Supplier, customer and normal flow of every edge (new links: flow 0).
    keep
        ``1 - edge cut`` per edge, shape (M, S) (new links: 1 when allowed, 0 when a shock
        covers them).
    quota
        The most each edge may carry, shape (M, S) (inf when unlimited).
    pool
        Input pool of every edge; ``pool_node``, ``pool_need`` (normal intake incl. the
        pool's external part, absolute) and ``pool_ext`` (external part, absolute) per pool.
    outflow
        Normal outflow of each position (absolute).
    has_input
        Position has at least one input pool (False: limited by capacity alone).
    edge_class
        Priority class of every edge's customer at its supplier (0 first; all 0 without a
        priority list).
    n_new
        Number of candidate new links.
    layout
        Per-level index structures of :mod:`supplygraph.analysis.rules`, built on first use
        (kept so that timelines solve the same problem day after day without rebuilding them).
    """

    cg: CompiledGraph
    model: str
    response: Response
    cap: np.ndarray
    kappa: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    z: np.ndarray
    keep: np.ndarray
    quota: np.ndarray
    pool: np.ndarray
    pool_node: np.ndarray
    pool_need: np.ndarray
    pool_ext: np.ndarray
    outflow: np.ndarray
    has_input: np.ndarray
    edge_class: np.ndarray
    n_new: int = 0
    layout: Any = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.cg.n

    @property
    def m(self) -> int:
        """Number of edges including candidate new links."""
        return len(self.src)

    @property
    def n_scenarios(self) -> int:
        """Number of scenarios (columns)."""
        return int(self.cap.shape[1])

    @property
    def n_pools(self) -> int:
        """Number of input pools."""
        return len(self.pool_node)

    def edge_name(self, e: int) -> tuple[Any, Any]:
        """The (supplier, customer) node ids of edge ``e`` (existing or new)."""
        return (self.cg.nodes[int(self.src[e])], self.cg.nodes[int(self.tgt[e])])


def capacity_ratio(cg: CompiledGraph) -> np.ndarray:
    """``kappa = capacity / baseline`` per position (1 where no capacity is given).

    ``capacity`` is in the node's ``value`` unit; a node without ``value`` reads it in the unit
    of its baseline (inflow, else outflow).
    """
    import numpy as np

    base = np.where(cg.baseline > 0, cg.baseline, 1.0)
    with np.errstate(invalid="ignore"):
        ratio = np.where(np.isnan(cg.capacity), 1.0, cg.capacity / base)
    return np.maximum(ratio, 1.0)


def build_problem(
    G: nx.DiGraph,
    cg: CompiledGraph,
    cap: np.ndarray,
    keep: np.ndarray | None,
    response: Response,
    model: str,
    shocks: Iterable[Shock] = (),
) -> ResponseProblem:
    """Assemble the :class:`ResponseProblem` of one or more scenarios.

    Parameters
    ----------
    G
        The supply graph (for node attributes and for the shocks' reach over new links).
    cg
        ``compile_graph(G)``.
    cap
        ``1 - node cut`` per position: shape (n,) or (n, S).
    keep
        ``1 - edge cut`` per existing edge: None, shape (m,) or (m, S).
    response
        The options.
    model
        ``"linear"`` or ``"leontief"``.
    shocks
        The shocks behind ``keep`` (used only to decide which new links they cover, for
        ``substitution="stage"``; node removals need none).

    Returns
    -------
    ResponseProblem
    """
    import numpy as np

    cap = np.asarray(cap, dtype=float)
    if cap.ndim == 1:
        cap = cap[:, None]
    S = cap.shape[1]
    m0 = cg.m
    if keep is None:
        keep0 = np.ones((m0, S))
    else:
        keep0 = np.asarray(keep, dtype=float)
        keep0 = np.broadcast_to(keep0[:, None] if keep0.ndim == 1 else keep0, (m0, S)).copy()

    # ---- pools: per node (linear) or per input group (Leontief)
    ext_abs = cg.ext * cg.inflow
    has_input = ~cg.is_source & (cg.inflow - ext_abs > 0)
    pool_of_edge, pool_node, group_pool = _pool_layout(cg, model)
    pool_need, pool_ext = _pool_amounts(cg, model, pool_node, cg.flow, cg.inflow, ext_abs)

    # ---- candidate new links (substitution = "stage")
    new_src, new_tgt, new_pool = (
        _new_links(G, cg, group_pool)
        if response.substitution == "stage"
        else (
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        )
    )
    n_new = len(new_src)
    keep_new = np.ones((n_new, S))
    if n_new:
        pairs = [
            (cg.nodes[u], cg.nodes[v])
            for u, v in zip(new_src.tolist(), new_tgt.tolist(), strict=True)
        ]
        from supplygraph.analysis.shocks import pair_cuts

        blocked = pair_cuts(G, list(shocks), pairs)
        if blocked:
            idx = {p: i for i, p in enumerate(pairs)}
            for pair, c in blocked.items():
                if c > 0:
                    keep_new[idx[pair]] = 0.0

    src = np.concatenate([cg.src, new_src]).astype(np.int64)
    tgt = np.concatenate([cg.tgt, new_tgt]).astype(np.int64)
    z = np.concatenate([cg.flow, np.zeros(n_new)])
    keep_all = np.vstack([keep0, keep_new])
    scale = np.concatenate([cg.max_scale, np.full(n_new, np.inf)])
    with np.errstate(invalid="ignore"):
        unlimited = np.where(keep_all < 1.0, 0.0, 1.0)
        quota = np.where(
            keep_all < 1.0,
            keep_all * z[:, None],
            np.where(unlimited > 0, scale[:, None] * z[:, None], 0.0),
        )
    if n_new:
        quota[m0:] = np.where(keep_new > 0, np.inf, 0.0)
    pool = np.concatenate([pool_of_edge, new_pool]).astype(np.int64)

    return ResponseProblem(
        cg=cg,
        model=model,
        response=response,
        cap=cap,
        kappa=capacity_ratio(cg),
        src=src,
        tgt=tgt,
        z=z,
        keep=keep_all,
        quota=quota,
        pool=pool,
        pool_node=pool_node.astype(np.int64),
        pool_need=pool_need.astype(float),
        pool_ext=pool_ext.astype(float),
        outflow=np.bincount(cg.src, weights=cg.flow, minlength=cg.n),
        has_input=has_input,
        edge_class=_edge_classes(G, cg, src, tgt, response),
        n_new=n_new,
    )


#: The most candidate new links ``substitution="stage"`` builds before giving up.
MAX_NEW_LINKS = 2_000_000


def _pool_layout(cg: CompiledGraph, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pool of each edge, node of each pool, pool of each input group)."""
    import numpy as np

    if model == "linear":
        pool_node = np.unique(cg.tgt)  # nodes with inputs in the graph, in position order
        group_pool = np.searchsorted(pool_node, cg.group_node)  # v's groups share v's pool
        return np.searchsorted(pool_node, cg.tgt), pool_node, group_pool
    return cg.grp.copy(), cg.group_node.copy(), np.arange(cg.n_groups)


def _pool_amounts(
    cg: CompiledGraph,
    model: str,
    pool_node: np.ndarray,
    flow: np.ndarray,
    inflow: np.ndarray,
    ext_abs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Normal intake ``N[p]`` and its external part ``ext[p]`` of every pool (absolute).

    ``flow``, ``inflow`` and ``ext_abs`` are per edge / node, one column per scenario or
    draw (2-D) or one scenario (1-D); the result has the same number of columns.
    """
    import numpy as np

    if model == "linear":
        return inflow[pool_node], ext_abs[pool_node]
    if cg.m:
        G_g = np.add.reduceat(flow, cg.group_start[:-1], axis=0)
    else:
        G_g = np.zeros((0, *np.shape(flow)[1:]))
    in_graph = (inflow - ext_abs)[pool_node]
    with np.errstate(invalid="ignore", divide="ignore"):
        e_g = np.where(in_graph > 0, ext_abs[pool_node] * G_g / in_graph, 0.0)
    return G_g + e_g, e_g


def with_draws(
    prob: ResponseProblem,
    flow: np.ndarray,
    inflow: np.ndarray,
    ext_abs: np.ndarray,
    capacity: np.ndarray,
    baseline: np.ndarray,
) -> ResponseProblem:
    """The problem with one set of flows and capacities per column (Monte Carlo draws).

    Every array that depends on the flows or capacities gets one column per draw: ``z``
    (normal flows, new links 0), ``quota``, ``pool_need``, ``pool_ext``, ``outflow`` and
    ``kappa = max(capacity / baseline, 1)`` (1 where no capacity).
    :func:`~supplygraph.analysis.rules.solve_rules` reads such a problem column by column,
    exactly as it reads ``S`` scenarios of one graph.

    Parameters
    ----------
    prob
        A problem built for the same columns (``cap`` and ``keep`` hold the draws' cuts).
    flow
        Normal flow per existing edge and draw, (m, S).
    inflow, ext_abs, capacity, baseline
        Per node and draw, (n, S): total intake, its external part, capacity (NaN: none)
        and normal output.

    Returns
    -------
    ResponseProblem
        A new problem; ``prob`` is not modified.
    """
    import dataclasses

    import numpy as np

    cg = prob.cg
    S = prob.n_scenarios
    m0 = cg.m
    z = np.vstack([flow, np.zeros((prob.n_new, S))])
    scale = np.concatenate([cg.max_scale, np.full(prob.n_new, np.inf)])[:, None]
    with np.errstate(invalid="ignore"):
        quota = np.where(prob.keep < 1.0, prob.keep * z, np.where(z > 0, scale * z, 0.0))
    quota[m0:] = prob.quota[m0:]
    need, ext = _pool_amounts(cg, prob.model, prob.pool_node, flow, inflow, ext_abs)
    base = np.where(baseline > 0, baseline, 1.0)
    with np.errstate(invalid="ignore"):
        kappa = np.maximum(np.where(np.isnan(capacity), 1.0, capacity / base), 1.0)
    outflow = np.zeros((cg.n, S))
    np.add.at(outflow, cg.src, flow)
    return dataclasses.replace(
        prob,
        z=z,
        quota=quota,
        pool_need=need.astype(float),
        pool_ext=ext.astype(float),
        outflow=outflow,
        kappa=kappa,
        layout=None,
    )


def _new_links(
    G: nx.DiGraph, cg: CompiledGraph, group_pool: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate (supplier, customer, pool) links of ``substitution="stage"``.

    For each input group of a customer, the candidates are the nodes of the group's supplier
    stage (when the group is keyed by stage) or the nodes that ship the group's material
    (when keyed by ``material``), minus the customer itself and its existing suppliers.
    """
    import numpy as np

    from supplygraph.errors import SupplyGraphError

    m = cg.m
    if not m:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    # the key of each group: ("stage", code) when all its suppliers share a stage and no
    # material is given, else ("material", name)
    mats = (
        [G.edges[k].get("material") for k in cg._edge_keys]
        if cg._edge_keys is not None
        else [None] * m
    )
    gfirst = cg.group_start[:-1]
    keys: list[tuple[str, Any]] = []
    for e in gfirst.tolist():
        mt = mats[e]
        if isinstance(mt, str) and mt.strip():
            keys.append(("material", mt.strip()))
        else:
            keys.append(("stage", int(cg.stage_code[cg.src[e]])))
    # suppliers per key
    suppliers: dict[tuple[str, Any], np.ndarray] = {}
    by_material: dict[str, set[int]] = {}
    for e in range(m):
        mt = mats[e]
        if isinstance(mt, str) and mt.strip():
            by_material.setdefault(mt.strip(), set()).add(int(cg.src[e]))
    for key in set(keys):
        if key[0] == "stage":
            suppliers[key] = np.flatnonzero((cg.stage_code == key[1]) & (cg.outflow > 0))
        else:
            suppliers[key] = np.array(sorted(by_material.get(key[1], ())), dtype=np.int64)
    total = sum(len(suppliers[k]) for k in keys)
    if total > MAX_NEW_LINKS:
        msg = (
            f"substitution 'stage' would consider {total:,} new supplier links (more than "
            f"{MAX_NEW_LINKS:,}); use substitution 'edges' on a graph this size"
        )
        raise SupplyGraphError(msg)
    existing = set(zip(cg.src.tolist(), cg.tgt.tolist(), strict=True))
    src_l: list[int] = []
    tgt_l: list[int] = []
    pool_l: list[int] = []
    seen: set[tuple[int, int]] = set()
    for g, key in enumerate(keys):
        v = int(cg.group_node[g])
        for u in suppliers[key].tolist():
            if u == v or (u, v) in existing or (u, v) in seen:
                continue
            seen.add((u, v))
            src_l.append(u)
            tgt_l.append(v)
            pool_l.append(int(group_pool[g]))
    return (
        np.array(src_l, dtype=np.int64),
        np.array(tgt_l, dtype=np.int64),
        np.array(pool_l, dtype=np.int64),
    )


def _edge_classes(
    G: nx.DiGraph, cg: CompiledGraph, src: np.ndarray, tgt: np.ndarray, response: Response
) -> np.ndarray:
    """Priority class of each edge's customer at its supplier (0 = served first)."""
    import numpy as np

    if not response.priority:
        return np.zeros(len(src), dtype=np.int64)
    country = np.array([cg.countries[c] for c in cg.country_code], dtype=object)
    end_use = np.array([str(e) if e is not None else "" for e in cg.end_use], dtype=object)
    cu, cv = country[src], country[tgt]
    eu = end_use[tgt]
    last = len(response.priority)
    cls = np.full(len(src), last, dtype=np.int64)
    for rank in range(last - 1, -1, -1):
        item = response.priority[rank]
        if item == DOMESTIC:
            hit = cu == cv
        elif item.startswith(END_USE_PREFIX):
            hit = eu == item[len(END_USE_PREFIX) :]
        elif item in response.blocs:
            members = set(response.blocs[item])
            hit = np.array([c in members for c in cv.tolist()], dtype=bool)
        else:
            hit = cv == item
        cls = np.where(hit, rank, cls)
    return cls


def _closed_columns(cg: CompiledGraph, cap: np.ndarray) -> np.ndarray:
    """Closed-cycle outputs per scenario column: 0 where anything in the cycle is cut, else 1."""
    import numpy as np
    import scipy.sparse as sp

    ncomp = int(cg.comp.max()) + 1 if cg.n else 0
    member = sp.csr_matrix((np.ones(cg.n), (cg.comp, np.arange(cg.n))), shape=(ncomp, cg.n))
    cut = ((cap < 1.0) & cg.closed_node[:, None]).astype(float)
    hit = (member @ cut) > 0
    return np.where(hit[cg.comp], 0.0, 1.0)
