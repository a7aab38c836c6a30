"""Chokepoints: the nodes and country-stage groups whose loss hurts the end uses most.

A chokepoint combines *concentration* (a big share of a concentrated stage), *dependency* (the
fraction of each target's output that would be lost without it, from
:func:`supplygraph.analysis.dependency.dependency`) and *structure* (whether every supply path to
some target runs through it: a dominator). :func:`chokepoints` puts the three side by side,
ranks by the output-weighted loss over all targets, and writes a one-line reason for each row.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from supplygraph.analysis.concentration import (
    _country,
    _quantities,
    concentration,
)
from supplygraph.analysis.response_options import Response
from supplygraph.errors import InputError
from supplygraph.schema import END_USES
from supplygraph.wording import join_words

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.compiled import CompiledGraph

__all__ = ["chokepoints", "dominated_targets", "target_weights"]

Kind = Literal["all", "node", "country-stage"]

COLUMNS: list[str] = [
    "rank",
    "kind",
    "stage",
    "country",
    "members",
    "stage_share",
    "stage_hhi",
    "max_dependency",
    "max_dependency_target",
    "n_targets_at_threshold",
    "weighted_loss",
    "dominator",
    "n_dominated_targets",
    "reason",
]


def _supply_edges(cg: CompiledGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positive-flow edges between kernel positions, plus which positions the root feeds.

    A virtual super-source (the root) feeds every node that receives no positive flow from
    another node (the raw sources) and every node with a positive external input (it has
    supply that the graph does not show, so it is never cut off by its upstream alone).
    Self-loops are left out: they never carry a node's only supply.

    Returns ``(src, tgt, fed)``: edge arrays (sorted by target, as in the compiled graph) and a
    boolean mask of the fed positions.
    """
    src = np.asarray(cg.src, dtype=np.int64)
    tgt = np.asarray(cg.tgt, dtype=np.int64)
    keep = src != tgt
    src, tgt = src[keep], tgt[keep]
    has_in = np.zeros(cg.n, dtype=bool)
    has_in[tgt] = True
    fed = ~has_in | (np.asarray(cg.ext) > 0)
    return src, tgt, fed


def _intersect(a: int, b: int, idom: list[int], rank: list[int]) -> int:
    """Nearest common dominator of ``a`` and ``b`` (Cooper, Harvey and Kennedy's walk).

    Ancestors in the dominator tree have the smaller ``rank`` (reverse postorder of a DFS).
    """
    ra, rb = rank[a], rank[b]
    while a != b:
        while ra > rb:
            a = idom[a]
            ra = rank[a]
        while rb > ra:
            b = idom[b]
            rb = rank[b]
    return a


def _idom_topological(n: int, src: np.ndarray, tgt: np.ndarray, fed: np.ndarray) -> list[int]:
    """Immediate dominators on an acyclic graph whose node ids are a topological order.

    Nodes ``0..n-1`` with every edge ``src < tgt``, plus the root ``-1`` feeding ``fed``.
    Returns ``idom`` shifted by one (index ``p + 1`` for node ``p``, the root at 0, ``-1`` for
    nodes the root does not reach). One pass in topological order: every predecessor of a node
    is final before the node is visited (Cooper, Harvey and Kennedy, "A Simple, Fast Dominance
    Algorithm", 2001, on an acyclic graph).
    """
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tgt, minlength=n), out=ptr[1:])
    order = np.argsort(tgt, kind="stable")
    preds = (src[order] + 1).tolist()
    ptr_l = ptr.tolist()
    fed_l = fed.tolist()
    idom = [-1] * (n + 1)
    idom[0] = 0
    for v in range(n):
        if fed_l[v]:
            idom[v + 1] = 0
            continue
        new = -1
        for p in preds[ptr_l[v] : ptr_l[v + 1]]:
            if idom[p] < 0:
                continue
            if new < 0:
                new = p
            elif new != p:
                a, b = p, new
                while a != b:
                    while a > b:
                        a = idom[a]
                    while b > a:
                        b = idom[b]
                new = a
            if new == 0:
                break
        idom[v + 1] = new
    return idom


def _idom_general(n: int, src: np.ndarray, tgt: np.ndarray, fed: np.ndarray) -> list[int]:
    """Immediate dominators on any directed graph (same layout and result as above).

    Cooper, Harvey and Kennedy's iterative algorithm over the reverse postorder of a DFS from
    the root, repeated until no dominator changes.
    """
    N = n + 1  # node p -> p + 1, root -> 0
    s = np.concatenate([np.zeros(int(fed.sum()), dtype=np.int64), src + 1])
    t = np.concatenate([np.flatnonzero(fed) + 1, tgt + 1])
    o = np.lexsort((t, s))
    s_ptr = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=N), out=s_ptr[1:])
    succ = t[o].tolist()
    sptr = s_ptr.tolist()
    # iterative DFS postorder from the root
    post: list[int] = []
    seen = bytearray(N)
    seen[0] = 1
    stack = [0]
    nxt = sptr[:-1]
    while stack:
        v = stack[-1]
        i = nxt[v]
        end = sptr[v + 1]
        while i < end and seen[succ[i]]:
            i += 1
        if i < end:
            w = succ[i]
            nxt[v] = i + 1
            seen[w] = 1
            stack.append(w)
        else:
            nxt[v] = end
            stack.pop()
            post.append(v)
    rpo = post[::-1]
    rank = [N] * N
    for i, v in enumerate(rpo):
        rank[v] = i
    o = np.argsort(t, kind="stable")
    p_ptr = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(np.bincount(t, minlength=N), out=p_ptr[1:])
    preds = s[o].tolist()
    pptr = p_ptr.tolist()
    idom = [-1] * N
    idom[0] = 0
    changed = True
    while changed:
        changed = False
        for v in rpo[1:]:
            new = -1
            for p in preds[pptr[v] : pptr[v + 1]]:
                if idom[p] < 0:
                    continue
                new = p if new < 0 else _intersect(p, new, idom, rank)
            if idom[v] != new:
                idom[v] = new
                changed = True
    return idom


def _idom(
    n: int, src: np.ndarray, tgt: np.ndarray, fed: np.ndarray, *, topological: bool
) -> list[int]:
    """Immediate dominators from a root feeding ``fed`` (see :func:`_idom_topological`)."""
    if topological:
        return _idom_topological(n, src, tgt, fed)
    return _idom_general(n, src, tgt, fed)


def _dominated_counts(idom: list[int], own: np.ndarray) -> np.ndarray:
    """Number of targets each node strictly dominates, from the (shifted) dominator tree.

    ``own[p]``: targets node ``p`` stands for (one for a plain graph, the members of a group for
    a quotient graph). A node dominates a target when it lies on the dominator-tree path from
    the root to the target's node, excluding that node itself. Returns counts per node (0 for
    nodes the root does not reach).
    """
    n = len(own)
    par = np.asarray(idom, dtype=np.int64)
    reach = par >= 0
    reach[0] = False
    # depth in the dominator tree, then accumulate subtree totals deepest first
    depth = np.full(n + 1, -1, dtype=np.int64)
    depth[0] = 0
    todo = np.flatnonzero(reach)
    while todo.size:
        d = depth[par[todo]]
        ok = d >= 0
        if not ok.any():  # pragma: no cover - a dominator tree is a tree
            raise RuntimeError("dominator tree has a cycle")
        depth[todo[ok]] = d[ok] + 1
        todo = todo[~ok]
    tot = np.zeros(n + 1, dtype=np.int64)
    tot[1:] = own
    tot[~reach] = 0
    nodes = np.flatnonzero(reach)
    dn = depth[nodes]
    for lev in range(int(dn.max()) if nodes.size else 0, 0, -1):
        at = nodes[dn == lev]
        np.add.at(tot, par[at], tot[at])
    below = tot[1:] - np.where(reach[1:], own, 0)
    below[~reach[1:]] = 0
    return below


def dominated_targets(G: nx.DiGraph, targets: Iterable[Hashable] | None = None) -> pd.Series:
    """Return, per node, how many targets it dominates (all their supply paths pass through it).

    A virtual super-source feeds the raw sources (nodes with no positive inbound flow) and every
    node with a positive ``external_input``. Node ``u`` dominates target ``t`` (``u != t``)
    when every path of positive flow from the super-source to ``t`` passes through ``u``.
    One call to :func:`networkx.immediate_dominators` and one pass over the dominator tree give
    every node's count at once.

    Parameters
    ----------
    G
        A supply graph.
    targets
        The targets; default the sinks (nodes without outbound edges to other nodes).

    Returns
    -------
    pandas.Series
        Index = node ids, values = number of targets dominated (int, 0 for most nodes).
        Targets that no supply reaches count for no node.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("mine1", "refiner", flow=1.0)
    >>> G.add_edge("mine2", "refiner", flow=1.0)
    >>> G.add_edge("refiner", "car", flow=2.0)
    >>> dominated_targets(G).to_dict()
    {'mine1': 0, 'refiner': 1, 'mine2': 0, 'car': 0}
    """
    from supplygraph.analysis.dependency import target_positions
    from supplygraph.compiled import compile_graph

    cg = compile_graph(G)
    tpos = target_positions(cg, None if targets is None else list(targets))
    counts = _node_dominated_counts(cg, tpos)
    return pd.Series(
        dict(zip(cg.graph_nodes, counts[cg.graph_pos].tolist(), strict=True)), dtype=int
    )


def _node_dominated_counts(cg: CompiledGraph, tpos: np.ndarray) -> np.ndarray:
    """Targets strictly dominated by each position (kernel order)."""
    src, tgt, fed = _supply_edges(cg)
    idom = _idom(cg.n, src, tgt, fed, topological=bool(cg.is_dag))
    own = np.zeros(cg.n, dtype=np.int64)
    own[np.asarray(tpos, dtype=np.int64)] = 1
    return _dominated_counts(idom, own)


def target_weights(G: nx.DiGraph, targets: Iterable[Hashable]) -> pd.Series:
    """Return the output weights of the targets (their baseline outputs, summing to 1).

    The same weights as :func:`supplygraph.sweep` uses: a target's baseline is its ``value``,
    else its inflow (flows plus ``external_input``), else its outflow; equal weights when all
    baselines are 0.

    Parameters
    ----------
    G
        A supply graph.
    targets
        Target node ids.

    Returns
    -------
    pandas.Series
        Index = targets, values in [0, 1] summing to 1 (empty for no targets).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("m", "a", flow=3.0)
    >>> G.add_edge("m", "b", flow=1.0)
    >>> target_weights(G, ["a", "b"]).to_dict()
    {'a': 0.75, 'b': 0.25}
    """
    from supplygraph.analysis.dependency import target_weights as _weights
    from supplygraph.compiled import compile_graph

    tlist = list(targets)
    if not tlist:
        return pd.Series(dtype=float)
    cg = compile_graph(G)
    tpos = np.asarray([cg.index[t] for t in tlist], dtype=np.int64)
    return pd.Series(_weights(cg, tpos), index=tlist, dtype=float)


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if 0 < x < 0.01:
        return "<1 %"
    if 0.99 < x < 1:
        return f"{x * 100:.1f} %"
    return f"{x * 100:.0f} %"


def _pct_many(x: np.ndarray) -> list[str]:
    """:func:`_pct` of every entry of ``x`` (the same strings, formatted in bulk).

    ``f"{y:.0f}"`` rounds ``y = 100 x`` half-to-even, exactly as ``numpy.rint`` does, so the
    common case formats each distinct rounded value once; zeros, the "<1 %" and "n/a" cases
    are constants and the rare rest (negative, 99-100 %) goes through :func:`_pct` itself.
    """
    x = np.asarray(x, dtype=float)
    res = np.empty(len(x), dtype=object)
    fin = np.isfinite(x)
    res[~fin] = "n/a"
    small = fin & (x > 0) & (x < 0.01)
    res[small] = "<1 %"
    near = fin & (x > 0.99) & (x < 1)
    plain = fin & (x > 0) & ~small & ~near
    if plain.any():
        u, inv = np.unique(np.rint(x[plain] * 100), return_inverse=True)
        res[plain] = np.array([f"{v:.0f} %" for v in u.tolist()], dtype=object)[inv]
    zero = x == 0
    res[zero & ~np.signbit(x)] = "0 %"
    res[zero & np.signbit(x)] = "-0 %"
    for i in np.flatnonzero(fin & ~small & ~plain & ~zero).tolist():
        res[i] = _pct(float(x[i]))
    return res.tolist()


def _reason(
    *,
    stage: str | None,
    share_text: str | None,
    hi: float,
    lo: float,
    hi_text: str,
    lo_text: str,
    k: int,
    n: int,
    top_target: str | None,
    threshold_text: str,
    noun: str,
    n_dominated: int,
    sector_text: str | None = None,
) -> str:
    """One plain-English line from a row's numbers.

    ``hi``/``lo``: largest / smallest loss over the ``n`` targets (``*_text``: as :func:`_pct`
    formats them); ``share_text``: the stage share, None when not shown; ``k``: targets losing
    at least the threshold; ``top_target``: where the largest loss falls. ``sector_text``,
    when given, replaces the dependency clause with a per-end-use-sector one.
    """
    parts: list[str] = []
    if stage is not None and share_text is not None:
        parts.append(f"{share_text} of {stage}")
    if sector_text:
        parts.append(sector_text)
    elif n:
        if hi <= 0:
            parts.append(f"no {noun} depends on it")
        elif n == 1:
            parts.append(f"{top_target} depends on it for {hi_text} of supply")
        elif hi - lo < 0.005:
            parts.append(f"every {noun} depends on it for {hi_text} of supply")
        elif k == n:
            parts.append(
                f"every {noun} depends on it for at least {lo_text} of supply "
                f"(up to {hi_text}: {top_target})"
            )
        elif k > 0:
            parts.append(
                f"{k} of {n} {noun}s depend on it for ≥ {threshold_text} of supply "
                f"(up to {hi_text}: {top_target})"
            )
        else:
            parts.append(f"{top_target} depends on it for {hi_text} of supply at most")
    if n_dominated:
        if n_dominated == n and n > 1:
            parts.append(f"every supply path to every {noun} runs through it")
        else:
            plural = noun if n_dominated == 1 else f"{noun}s"
            parts.append(f"every supply path to {n_dominated} {plural} runs through it")
    text = "; ".join(parts) if parts else "no measurable dependency"
    return text[0].upper() + text[1:]


def _country_memo(attrs: Mapping[str, Any], memo: dict[Any, str]) -> str:
    """:func:`~supplygraph.analysis.concentration._country`, memoised on the raw value."""
    c = attrs.get("country")
    key = (c.__class__, c)
    try:
        return memo[key]
    except KeyError:
        out = memo[key] = _country(attrs)
        return out
    except TypeError:  # unhashable value
        return _country(attrs)


def chokepoints(
    G: nx.DiGraph,
    threshold: float = 0.5,
    model: str = "linear",
    top: int | None = None,
    *,
    kind: Kind = "all",
    targets: Iterable[Hashable] | None = None,
    response: Any = None,
    draws: Any = None,
    seed: int | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Rank nodes and country-stage groups by how much the targets lose without them.

    Parameters
    ----------
    G
        A supply graph (not modified).
    threshold
        Dependency fraction in [0, 1] counted by ``n_targets_at_threshold`` (default 0.5: the
        target would lose at least half of its output).
    model
        Production model for the dependency: ``"linear"`` (proportional) or ``"leontief"``
        (see :mod:`supplygraph.analysis.propagation`).
    top
        Keep only the first ``top`` rows of the ranking (None = all).
    kind
        ``"node"``: one row per node; ``"country-stage"``: one row per (country, stage) group,
        i.e. all nodes of a country in a stage removed together (the shock ``"CHN@separation"``);
        ``"all"`` (default): both, leaving out groups of a single node (the node's row already
        stands for them).
    targets
        What is protected; default the sinks (the end uses). Targets themselves are not ranked.
    response
        ``"none"`` (default), ``"rules"`` or ``"optimal"`` (or a
        :class:`~supplygraph.analysis.response_options.Response`): the losses after the supply response
        to each removal (see :func:`~supplygraph.analysis.response.removal_losses`); adds
        ``weighted_loss_none``. With ``top``, responses are evaluated only until the top rows
        are certain.
    draws, seed
        Monte Carlo draws over the graph's ranges (a count, or a
        :class:`~supplygraph.uncertainty.sampling.DrawSpec`) and their seed, with no
        response: adds ``weighted_loss_p5``, ``_p50``, ``_p95``, ``p_rank_1`` (the share of
        draws in which the row is the top chokepoint), ``p_keeps_rank`` (in which it ranks at
        its rank or higher, among all rows), ``rank_p50`` and ``robustness`` (``robust`` when
        ``p_keeps_rank >= 0.9``, else ``fragile``). Each draw ranks by ``weighted_loss``.
    workers
        With ``draws``: local processes for the draws (the result does not depend on it).

    Returns
    -------
    pandas.DataFrame
        Index ``id``: the node id, or the group as a shock selector (``"CHN@separation"``).
        Columns, best first by ``weighted_loss`` then ``max_dependency`` then ``stage_share``:

        - ``rank`` (1 = worst chokepoint), ``kind`` (``node`` | ``country-stage``), ``stage``,
          ``country``, ``members`` (nodes in the row: 1 for a node).
        - ``stage_share``: the row's share of its stage's total quantity (0-1, from node
          ``value`` or flows, as :func:`~supplygraph.analysis.concentration.stage_shares`).
        - ``stage_hhi``: the HHI of its stage (0-10,000, from
          :func:`~supplygraph.analysis.concentration.concentration`).
        - ``max_dependency``, ``max_dependency_target``: the largest fraction of a target's
          output lost if the row were removed, and that target (ties: first target).
        - ``n_targets_at_threshold``: targets losing at least ``threshold``.
        - ``weighted_loss``: Σ_t w_t · loss_t with w_t the targets' output weights
          (:func:`target_weights`): the fraction of total end-use output lost (0-1).
        - ``dominator``, ``n_dominated_targets``: whether every positive-flow supply path from
          the sources to at least one target passes through the row, and to how many.
          For nodes this is exact (one :func:`networkx.immediate_dominators` call from a
          virtual super-source feeding the raw sources and every node with external input).
          For groups it is computed on the graph with every country-stage group merged into
          one node (one more dominator call): a group flagged there is a true cut set, but a
          group made of several nodes can be missed when merging creates bypass paths.
        - ``reason``: one plain-English line built from these numbers: the stage share, then
          who depends on it (grouped by end-use sector when the targets carry ``end_use``:
          "vehicles and wind end uses depend on it for 91 % of supply; industrial for
          46–95 %"), then the dominator finding.

        A node's losses come from the dependency matrix; a group's from propagating the removal
        of all its members together (all groups at once, each over its downstream cone).

    Raises
    ------
    InputError
        For a threshold outside [0, 1], a bad ``kind`` or ``top``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["mining", "separation", "end_use"])
    >>> G.add_node("CHN:mining", stage="mining", country="CHN", value=6.0)
    >>> G.add_node("USA:mining", stage="mining", country="USA", value=4.0)
    >>> G.add_node("CHN:separation", stage="separation", country="CHN", value=10.0)
    >>> G.add_node("USA:vehicles", stage="end_use", country="USA", value=10.0)
    >>> G.add_edge("CHN:mining", "CHN:separation", flow=6.0)
    >>> G.add_edge("USA:mining", "CHN:separation", flow=4.0)
    >>> G.add_edge("CHN:separation", "USA:vehicles", flow=10.0)
    >>> cp = chokepoints(G)
    >>> cp.index[0], bool(cp.loc["CHN:separation", "dominator"])
    ('CHN:separation', True)
    >>> cp.loc["CHN:separation", "reason"]
    '100 % of separation; USA:vehicles depends on it for 100 % of supply; every supply path to 1 end use runs through it'
    """
    from supplygraph.analysis.dependency import (
        MAX_DENSE_CELLS,
        dependency_matrix,
        target_positions,
    )
    from supplygraph.analysis.dependency import target_weights as _target_weights
    from supplygraph.analysis.propagation import check_model
    from supplygraph.compiled import compile_graph

    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"threshold must be a fraction in [0, 1]; got {threshold:g}")
    if kind not in ("all", "node", "country-stage"):
        raise InputError(f"kind must be 'all', 'node' or 'country-stage'; got {kind!r}")
    if top is not None and int(top) < 0:
        raise InputError(f"top must be 0 or more; got {top}")
    check_model(model)

    cg = compile_graph(G)
    tlist = [cg.nodes[p] for p in target_positions(cg, targets)]
    tset = set(tlist)
    T = len(tlist)
    weights = _target_weights(cg, target_positions(cg, tlist)) if tlist else np.zeros(0)
    noun = (
        "end use"
        if tlist
        and all(G.nodes[t].get("stage") == "end_use" or G.nodes[t].get("end_use") for t in tlist)
        else "target"
    )

    qty = _quantities(G)
    stage_hhi = concentration(G)["hhi"].to_dict()

    # dominators: nodes exactly, groups on the merged (quotient) graph
    tpos = np.asarray([cg.index[t] for t in tlist], dtype=np.int64)
    node_dom = _node_dominated_counts(cg, tpos)

    # one pass over the nodes: stage totals, country-stage groups, the node rows
    want_nodes = kind in ("all", "node")
    stage_totals: dict[str, float] = {}
    groups: dict[tuple[str, str], list[Hashable]] = {}
    node_rows: list[Hashable] = []
    meta: list[tuple[str, str, str | None, str | None, int, float, int]] = []
    memo: dict[Any, str] = {}
    dom_g = node_dom[cg.graph_pos].tolist()  # graph order, as G.nodes
    for (n, attrs), n_dom in zip(G.nodes(data=True), dom_g, strict=True):
        s = attrs.get("stage")
        country = _country_memo(attrs, memo)
        q = qty[n]
        stage = None
        if s is not None:
            stage = str(s)
            stage_totals[stage] = stage_totals.get(stage, 0.0) + float(q)
            groups.setdefault((country, stage), []).append(n)
        if want_nodes and n not in tset:
            node_rows.append(n)
            meta.append((str(n), "node", stage, country, 1, float(q), n_dom))

    wanted = (
        {
            key: members
            for key, members in groups.items()
            if not all(m in tset for m in members) and (kind == "country-stage" or len(members) > 1)
        }
        if kind in ("all", "country-stage")
        else {}
    )
    # the node x target losses: dense from the dependency matrix when it fits, else sparse
    dense = cg.n * max(T, 1) <= MAX_DENSE_CELLS
    need_single = node_rows + [m[0] for m in wanted.values() if len(m) == 1]
    if dense and T:
        D = dependency_matrix(cg, tpos, model)
        single = (
            D[np.asarray([cg.index[n] for n in need_single], dtype=np.int64)]
            if need_single
            else np.zeros((0, T))
        )
        del D
    else:
        single = _scenario_rows(cg, [[n] for n in need_single], tlist, model, sparse=True)
    multi = [members for members in wanted.values() if len(members) > 1]
    multi_loss = _scenario_rows(cg, multi, tlist, model, sparse=not dense)

    # group rows: single-node groups reuse their node's row of `single`
    row_index = list(range(len(node_rows)))
    n_single = len(node_rows)
    n_multi = 0
    excluded: list[tuple[int, list[int]]] = []  # (row, columns of its own member targets)
    tcol = {t: j for j, t in enumerate(tlist)}
    group_dom = _group_dominators(cg, groups, tpos) if wanted else {}
    for (country, stage), members in wanted.items():
        if len(members) == 1:
            row_index.append(n_single)
            n_single += 1
        else:
            row_index.append(len(need_single) + n_multi)
            n_multi += 1
        own = [tcol[m] for m in filter(tset.__contains__, members)]
        if own:
            excluded.append((len(meta), own))
        meta.append(
            (
                f"{country}@{stage}",
                "country-stage",
                stage,
                country,
                len(members),
                float(sum(map(qty.__getitem__, members))),
                int(group_dom.get((country, stage), 0)),
            )
        )
    if not meta:
        return pd.DataFrame(columns=["id", *COLUMNS]).set_index("id")

    M = _stack(single, multi_loss)[row_index]
    wl_none = None
    resp = Response.of(response)
    if resp.model != "none" and T:
        M, wl_none, keep = _respond(
            G, cg, M, meta, groups, tpos, weights, model, resp, excluded, top
        )
        meta = [m for m, k in zip(meta, keep.tolist(), strict=True) if k]
        kept = np.flatnonzero(keep)
        M, wl_none = M[kept], wl_none[kept]
        old_pos = {int(r): i for i, r in enumerate(kept.tolist())}
        excluded = [(old_pos[r], cols) for r, cols in excluded if r in old_pos]
    mx, arg, mn, k_at, wl, n_valid = _row_stats(M, weights, threshold, excluded)
    nan = float("nan")
    hhi_by = {st: float(stage_hhi.get(st, nan)) for st in stage_totals}
    shares = [
        nan if m[2] is None or not stage_totals.get(m[2], 0.0) > 0 else m[5] / stage_totals[m[2]]
        for m in meta
    ]
    top_names = [
        str(tlist[a]) if x > 0 else None for a, x in zip(arg.tolist(), mx.tolist(), strict=True)
    ]

    out = pd.DataFrame(
        {
            "id": [m[0] for m in meta],
            "kind": [m[1] for m in meta],
            "stage": [m[2] for m in meta],
            "country": [m[3] for m in meta],
            "members": [m[4] for m in meta],
            "stage_share": shares,
            "stage_hhi": [nan if m[2] is None else hhi_by.get(m[2], nan) for m in meta],
            "max_dependency": mx,
            "max_dependency_target": top_names,
            "n_targets_at_threshold": k_at,
            "weighted_loss": wl,
            **({"weighted_loss_none": wl_none} if wl_none is not None else {}),
            "dominator": [m[6] > 0 for m in meta],
            "n_dominated_targets": [m[6] for m in meta],
            "lo_": mn,
            "n_": n_valid,
        }
    )
    # rounded sort keys, so float noise does not break ties between equal losses
    order = np.lexsort(
        (
            out["id"].to_numpy(),
            -out["stage_share"].fillna(-1.0).to_numpy(),
            -np.round(mx, 12),
            -np.round(wl, 12),
        )
    )
    out = out.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    if draws is not None:
        _chokepoint_draws(
            G, cg, out, order, meta, groups, excluded, model, tlist, draws, seed, resp, workers
        )
    if top is not None:
        out = out.head(int(top))
    # end-use sectors of the targets, for "vehicles and wind end uses depend on it for 91 %"
    sectors = [G.nodes[t].get("end_use") for t in tlist]
    by_sector: dict[str, list[int]] = {}
    if T > 1 and all(isinstance(x, str) and x for x in sectors):
        for j, x in enumerate(sectors):
            by_sector.setdefault(str(x), []).append(j)
        rank = {x: i for i, x in enumerate(END_USES)}
        by_sector = dict(sorted(by_sector.items(), key=lambda kv: (rank.get(kv[0], 99), kv[0])))
        if len(by_sector) < 2:
            by_sector = {}
    own_cols = dict(excluded)
    sel = order[: len(out)]
    sh = np.asarray(shares, dtype=float)[sel]
    sh_text = _pct_many(sh)
    rows = zip(
        sel.tolist(),
        [meta[i][2] for i in sel],
        [t if math.isfinite(v) else None for v, t in zip(sh.tolist(), sh_text, strict=True)],
        mx[sel].tolist(),
        mn[sel].tolist(),
        _pct_many(mx[sel]),
        _pct_many(mn[sel]),
        k_at[sel].tolist(),
        n_valid[sel].tolist(),
        [top_names[i] for i in sel],
        [meta[i][6] for i in sel],
        strict=True,
    )
    threshold_text = _pct(threshold)
    reasons: list[str] = []
    for m_row, stage, share_text, hi, lo, hi_text, lo_text, k, n_, top_target, n_dom in rows:
        sector_text = None
        if by_sector and k > 0:
            sector_text = _sector_clause(
                _dense_row(M, m_row), by_sector, set(own_cols.get(m_row, ())), noun
            )
        reasons.append(
            _reason(
                stage=stage,
                share_text=share_text,
                hi=hi,
                lo=lo,
                hi_text=hi_text,
                lo_text=lo_text,
                k=k,
                n=n_,
                top_target=top_target,
                threshold_text=threshold_text,
                noun=noun,
                n_dominated=n_dom,
                sector_text=sector_text,
            )
        )
    out["reason"] = reasons
    cols = list(COLUMNS)
    if wl_none is not None:
        cols.insert(cols.index("weighted_loss") + 1, "weighted_loss_none")
    if draws is not None:
        at = cols.index("weighted_loss") + 1
        cols[at:at] = [f"weighted_loss_p{q}" for q in (5, 50, 95)]
        cols += ["p_rank_1", "p_keeps_rank", "rank_p50", "robustness"]
    return out.set_index("id")[cols]


def _chokepoint_draws(
    G: nx.DiGraph,
    cg: CompiledGraph,
    out: pd.DataFrame,
    order: np.ndarray,
    meta: list[tuple[str, str, str | None, str | None, int, float, int]],
    groups: Mapping[tuple[str, str], list[Hashable]],
    excluded: list[tuple[int, list[int]]],
    model: str,
    tlist: list[Hashable],
    draws: Any,
    seed: int | None,
    resp: Any,
    workers: int,
) -> None:
    """Add the Monte Carlo columns of :func:`chokepoints` to its ranked table (in place)."""
    from supplygraph.analysis.disruption_draws import add_removal_columns, removal_draws
    from supplygraph.uncertainty.sampling import DrawSpec

    if resp.model != "none":
        msg = "draws on chokepoints run with no response (--response none)"
        raise InputError(msg)
    rows = [meta[i] for i in order.tolist()]
    removals = [
        np.asarray(
            [cg.index[m[0]]]
            if m[1] == "node"
            else [cg.index[x] for x in groups[(str(m[3]), str(m[2]))]],
            dtype=np.int64,
        )
        for m in rows
    ]
    own = dict(excluded)
    row_weights = None
    if own:
        row_weights = np.ones((len(rows), len(tlist)))
        for new, old in enumerate(order.tolist()):
            if old in own:
                row_weights[new, own[old]] = 0.0
    labels = [m[0] for m in rows]
    res = removal_draws(
        G,
        removals,
        labels,
        DrawSpec.of(draws, seed),
        model=model,
        targets=tlist,
        row_weights=row_weights,
        order=np.arange(len(rows)),
        workers=workers,
    )
    add_removal_columns(out, res, labels, out["rank"].to_numpy())


def _respond(
    G: nx.DiGraph,
    cg: Any,
    M: Any,
    meta: list[tuple[str, str, str | None, str | None, int, float, int]],
    groups: Mapping[tuple[str, str], list[Hashable]],
    tpos: np.ndarray,
    weights: np.ndarray,
    model: str,
    resp: Any,
    excluded: list[tuple[int, list[int]]],
    top: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss rows under a supply response; returns (losses, no-response weighted loss, kept)."""
    from supplygraph.analysis.response import removal_losses

    none_loss = np.vstack([_dense_row(M, i) for i in range(len(meta))]) if len(meta) else M
    none_loss = np.asarray(none_loss, dtype=float)
    scen = []
    for m in meta:
        members = [m[0]] if m[1] == "node" else groups[(str(m[3]), str(m[2]))]
        scen.append(np.array([cg.index[x] for x in members], dtype=np.int64))
    rw = np.repeat(weights[None, :], len(meta), axis=0)
    for r, cols in excluded:
        rw[r, cols] = 0.0
    loss, done = removal_losses(
        G, cg, scen, tpos, weights, model, resp, none_loss, top=top, row_weights=rw
    )
    wl_none = np.einsum("st,st->s", none_loss, rw)
    return np.where(done[:, None], loss, none_loss), wl_none, done


def _dense_row(M: Any, i: int) -> np.ndarray:
    """Row ``i`` of a dense or sparse loss matrix as a 1-d array."""
    import scipy.sparse as sp

    if sp.issparse(M):
        return np.asarray(M.getrow(i).todense()).ravel()
    return np.asarray(M[i], dtype=float)


def _sector_clause(
    row: np.ndarray, by_sector: Mapping[str, list[int]], skip: set[int], noun: str
) -> str | None:
    """``"vehicles and wind end uses depend on it for 91 % of supply; industrial for 46-95 %"``.

    Sectors whose targets all lose the same (rounded) fraction are grouped; the others show
    their range. Columns in ``skip`` (the row's own member targets) are left out.
    """
    uniform: dict[str, list[str]] = {}
    ranged: list[str] = []
    untouched: list[str] = []
    for sector, cols in by_sector.items():
        vals = np.clip(row[[c for c in cols if c not in skip]], 0.0, 1.0)
        if vals.size == 0:
            continue
        lo, hi = float(vals.min()), float(vals.max())
        if hi <= 0:
            untouched.append(sector)
        elif _pct(lo) == _pct(hi):
            uniform.setdefault(_pct(hi), []).append(sector)
        else:
            ranged.append(f"{sector} for {_pct(lo)[:-2]}–{_pct(hi)}")
    clauses: list[str] = []
    for pct, names in sorted(uniform.items(), key=lambda kv: -len(kv[1])):
        if not clauses:
            plural = "s depend" if len(names) > 1 else " depends"
            clauses.append(f"{join_words(names)} {noun}{plural} on it for {pct} of supply")
        else:
            clauses.append(f"{join_words(names)} for {pct}")
    if not clauses and ranged:
        first = ranged.pop(0).split(" for ", 1)
        clauses.append(f"{first[0]} {noun}s depend on it for {first[1]} of supply")
    clauses.extend(ranged)
    if untouched and clauses:
        clauses.append(f"{join_words(untouched)} not at all")
    return "; ".join(clauses) if clauses else None


def _stack(a: Any, b: Any) -> Any:
    """Stack two row blocks (dense or sparse) into one CSR matrix or array."""
    import scipy.sparse as sp

    if sp.issparse(a) or sp.issparse(b):
        return sp.vstack([sp.csr_matrix(a), sp.csr_matrix(b)], format="csr")
    return np.vstack([a, b])


def _row_stats(
    M: Any, w: np.ndarray, threshold: float, excluded: list[tuple[int, list[int]]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row of the loss matrix: max, argmax, min, count >= threshold, weighted sum, n.

    Entries listed in ``excluded`` (a row's own member targets) are left out of every statistic.
    Works on a dense array or a sparse CSR matrix (missing entries are 0 losses).
    """
    import scipy.sparse as sp

    R, T = M.shape
    n_valid = np.full(R, T, dtype=np.int64)
    if T == 0 or R == 0:
        z = np.zeros(R)
        return z, np.zeros(R, dtype=np.int64), z, np.zeros(R, dtype=np.int64), z, n_valid
    if sp.issparse(M):
        M = sp.csr_matrix(M, copy=True)
        M.data = np.clip(np.nan_to_num(M.data), 0.0, 1.0)
        if excluded:
            M = M.tolil()
            for r, cols in excluded:
                M[r, cols] = 0.0
                n_valid[r] -= len(cols)
            M = M.tocsr()
        M.eliminate_zeros()
        mx = np.asarray(M.max(axis=1).todense()).ravel()
        arg = np.asarray(M.argmax(axis=1)).ravel().astype(np.int64)
        nnz = np.diff(M.indptr)
        mins = np.zeros(R)
        k_at = np.zeros(R, dtype=np.int64)
        has = nnz > 0  # stored entries are the positive losses
        if has.any():
            starts = M.indptr[:-1][has]
            mins[has] = np.minimum.reduceat(M.data, starts)
            k_at[has] = np.add.reduceat((M.data >= threshold).astype(np.int64), starts)
        mn = np.where(nnz >= n_valid, mins, 0.0)
        wl = np.asarray(M @ w).ravel()
        return mx, arg, mn, k_at.astype(np.int64), wl, n_valid
    M = np.clip(np.nan_to_num(np.asarray(M, dtype=float)), 0.0, 1.0)
    valid = np.ones(M.shape, dtype=bool)
    for r, cols in excluded:
        valid[r, cols] = False
        n_valid[r] -= len(cols)
    Mv = np.where(valid, M, 0.0)
    mx = Mv.max(axis=1)
    arg = np.where(valid, M, -1.0).argmax(axis=1)
    mn = np.where(valid, M, np.inf).min(axis=1)
    mn = np.where(np.isfinite(mn), mn, 0.0)
    k_at = ((Mv >= threshold) & (Mv > 0)).sum(axis=1)
    return mx, arg, mn, k_at.astype(np.int64), Mv @ w, n_valid


def _scenario_rows(
    cg: CompiledGraph,
    groups: list[list[Hashable]],
    targets: list[Hashable],
    model: str,
    *,
    sparse: bool,
) -> Any:
    """Loss at each target (columns) when each group's members are removed together (rows).

    All groups run at once through the kernels' scenario propagation (on an acyclic graph
    each touches only its downstream cone). Returns a CSR matrix when ``sparse``, else an array.
    """
    import scipy.sparse as sp

    from supplygraph.analysis.dependency import scenario_losses

    if not groups or not targets:
        empty = np.zeros((len(groups), len(targets)))
        return sp.csr_matrix(empty) if sparse else empty
    tpos = np.asarray([cg.index[t] for t in targets], dtype=np.int64)
    scen = [np.asarray([cg.index[m] for m in members], dtype=np.int64) for members in groups]
    L = scenario_losses(cg, scen, model, tpos, progress=False)
    return L.tocsr() if sparse else L.toarray()


def _group_dominators(
    cg: CompiledGraph,
    groups: Mapping[tuple[str, str], list[Hashable]],
    tpos: np.ndarray,
) -> dict[tuple[str, str], int]:
    """Targets strictly dominated by each country-stage group, on the merged graph.

    Every group becomes one node (nodes without a stage stay on their own); edges inside a
    group disappear. The merged graph may be cyclic even when the graph is not.
    """
    keys = list(groups)
    G_ = len(keys)
    where = np.arange(G_, G_ + cg.n, dtype=np.int64)  # nodes without a stage stay on their own
    for g, key in enumerate(keys):
        where[[cg.index[m] for m in groups[key]]] = g
    src, tgt, fed = _supply_edges(cg)
    # compact the merged node ids to 0..m-1 (groups first, in key order)
    used, inv = np.unique(where, return_inverse=True)
    qs, qt = inv[src], inv[tgt]
    cross = qs != qt
    m = len(used)
    pairs = np.unique(qs[cross] * m + qt[cross])
    qfed = np.zeros(m, dtype=bool)
    qfed[inv[fed]] = True
    idom = _idom(m, pairs // m, pairs % m, qfed, topological=False)
    own = np.bincount(inv[np.asarray(tpos, dtype=np.int64)], minlength=m)
    counts = _dominated_counts(idom, own)
    return {keys[int(g)]: int(counts[q]) for q, g in enumerate(used.tolist()) if g < G_}
