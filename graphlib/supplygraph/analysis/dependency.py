"""Dependency: what fraction of each target's output is lost if a node is removed.

Linear model (hypothetical extraction)
--------------------------------------
With ``A[u, v] = a[u, v]`` (input shares) and ``L = (I - A)^-1`` (the Leontief inverse of the
supply graph: ``L[u, v]`` is the sum over all paths ``u -> ... -> v`` of the products of the
input shares along them), removing node ``u`` (``h[u] = 0``, kept at 0) costs target ``t``::

    D[u, t] = L[u, t] / L[u, u]          (fraction of t's baseline output, 0..1)

On an acyclic graph ``L[u, u] = 1``. All nodes and all targets come from one pass: the columns
``L[:, T]`` solve ``(I - A) Y = E_T`` customers-first (one reverse-topological sweep on a DAG,
sparse LU per cyclic component otherwise), and ``diag(L)`` is computed per cyclic component.
Closed cycles (no outside or external input; see :mod:`supplygraph.compiled`) are singular in
``L``: removing any of their nodes stops the whole cycle, so their row is the loss of removing
the cycle.

The same vector gives the flow-weighted *throughput* of every node: with target weights ``w``
(target baseline / total), ``x = L w`` is the share of total target output whose supply passes
through each node (:func:`flow_throughput`) -- the supply-chain measure to report instead of
shortest-path betweenness.

Leontief model
--------------
No superposition holds, so each removal is its own scenario. Every scenario is propagated at
once, level by level, as sparse rows (only each removed node's downstream cone is ever touched:
the losses stay sparse); the cyclic SCCs of a level are resolved for all scenarios together
(:mod:`supplygraph.analysis.cyclic_levels`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.analysis.cyclic_levels import cyclic_level_losses
from supplygraph.analysis.propagation import MAX_ITER, TOL, check_model, reverse_solve
from supplygraph.analysis.sparse_rows import insert_empty_rows, set_ones
from supplygraph.compiled import CompiledGraph, compile_graph
from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    import scipy.sparse as sp

__all__ = ["dependency", "flow_throughput", "target_weights"]

#: Scenarios for the all-scenario kernel: one array of removed positions per scenario, or a 1-D
#: integer array (one removed position per scenario).
ScenarioSet = Sequence[np.ndarray] | np.ndarray

#: Largest dense node x target matrix :func:`dependency` builds (cells).
MAX_DENSE_CELLS = 50_000_000


# ------------------------------------------------------------------------------------ helpers
def target_positions(cg: CompiledGraph, targets: Iterable[Any] | None) -> np.ndarray:
    """Positions of ``targets`` (default: the sinks, in kernel order)."""
    if targets is None:
        return np.flatnonzero(cg.is_sink)
    if isinstance(targets, str):
        targets = [targets]
    out = []
    for t in targets:
        p = cg.index.get(t)
        if p is None:
            raise ScenarioError(f"target {t!r} is not a node of the graph")
        out.append(p)
    if not out:
        raise ScenarioError("no targets given")
    return np.asarray(out, dtype=np.int64)


def end_use_keys(cg: CompiledGraph, tpos: np.ndarray) -> list[str]:
    """The end-use group of each target: its ``end_use``, else its stage (as ``by_end_use``)."""
    keys = []
    for p in tpos.tolist():
        e = cg.end_use[p]
        keys.append(str(e) if e is not None and e == e else cg.stage_of(p))
    return keys


def target_weights(cg: CompiledGraph, tpos: np.ndarray) -> np.ndarray:
    """Return the weights of targets in "output-weighted" losses (they sum to 1).

    Output weights ``baseline / total baseline`` need one unit: adding tonnes of magnets to
    tonnes of oxide means nothing. So when the targets' ``unit`` attributes differ (or all
    baselines are 0), every target counts equally; :func:`target_weight_basis` says which
    basis applies.
    """
    if target_weight_basis(cg, tpos) == "equal":
        return np.full(len(tpos), 1.0 / max(len(tpos), 1))
    base = np.nan_to_num(cg.baseline[tpos].astype(float))
    return base / base.sum()


def target_weight_basis(cg: CompiledGraph, tpos: np.ndarray) -> str:
    """Return ``"output"`` or ``"equal"``: how :func:`target_weights` weighs these targets.

    ``"output"`` when every target has the same ``unit`` (or none has one) and the baselines
    are positive in total; ``"equal"`` otherwise (mixed units cannot be added).
    """
    units = {cg.unit[int(p)] for p in tpos}
    base = np.nan_to_num(cg.baseline[tpos].astype(float))
    if len(units) > 1 or base.sum() <= 0:
        return "equal"
    return "output"


def _diag_leontief(cg: CompiledGraph) -> np.ndarray:
    """``diag((I - A')^-1)`` per position (1 outside cyclic components; A' = open matrix)."""
    if "diagL" in cg._cache:
        return cg._cache["diagL"]
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    d = np.ones(cg.n)
    cyc = cg.cyclic_node & ~cg.closed_node
    if cyc.any():
        A = cg.open_share_matrix()
        _, starts, counts = np.unique(cg.comp[cyc], return_index=True, return_counts=True)
        first_pos = np.flatnonzero(cyc)[starts]
        for p0, c in zip(first_pos.tolist(), counts.tolist(), strict=True):
            block = A[p0 : p0 + c, p0 : p0 + c]
            if c <= 2000:
                Linv = np.linalg.inv(np.eye(c) - block.toarray())
                d[p0 : p0 + c] = np.diag(Linv)
            else:
                lu = splu((sp.identity(c, format="csc") - block.tocsc()).tocsc())
                for j in range(0, c, 256):
                    k = min(c, j + 256)
                    E = np.zeros((c, k - j))
                    E[np.arange(j, k), np.arange(k - j)] = 1.0
                    d[p0 + j : p0 + k] = lu.solve(E)[np.arange(j, k), np.arange(k - j)]
    cg._cache["diagL"] = d
    return d


def linear_paths(cg: CompiledGraph, B: np.ndarray) -> np.ndarray:
    """Return ``L' B`` with ``L' = (I - A')^-1`` (path sums; ``A'`` = open share matrix)."""
    return reverse_solve(cg, cg.open_share_matrix(), B)


def linear_removal(cg: CompiledGraph, B: np.ndarray) -> np.ndarray:
    """Loss from removing each node, weighted by ``B``: ``(L B)[u] / L[u, u]`` (rows = positions).

    With ``B = E_T`` (unit columns of targets) this is the dependency matrix ``D[:, T]``; with
    ``B = w`` (target weights) it is each node's output-weighted loss.
    """
    Y = linear_paths(cg, B)
    D = Y / (_diag_leontief(cg)[:, None] if Y.ndim == 2 else _diag_leontief(cg))
    if cg.closed_node.any():
        cl = np.flatnonzero(cg.closed_node)
        comp = cg.comp[cl]
        for c in np.unique(comp):
            members = cl[comp == c]
            D[members] = Y[members].sum(axis=0)
    np.clip(D, 0.0, 1.0, out=D)
    return D


class Progress:
    """A minimal progress bar on stderr, shown only on a terminal and after 2 s."""

    def __init__(self, total: int, label: str = "sweep", *, delay: float = 2.0) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.t0 = time.perf_counter()
        self.delay = delay
        self.enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self.shown = False
        self._last = 0.0

    def update(self, done: int) -> None:
        """Report ``done`` of ``total`` items."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.t0 < self.delay or now - self._last < 0.2:
            return
        self._last = now
        frac = min(done / self.total, 1.0)
        bar = "#" * int(30 * frac)
        eta = (now - self.t0) * (1 - frac) / frac if frac > 0 else 0.0
        sys.stderr.write(
            f"\r{self.label} [{bar:<30}] {done}/{self.total} {frac:6.1%} eta {eta:5.0f}s"
        )
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        """Finish the bar (newline) if it was shown."""
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ------------------------------------------------------------ all scenarios at once (sparse)
def scenario_losses(
    cg: CompiledGraph,
    scenarios: ScenarioSet,
    model: str,
    tpos: np.ndarray,
    *,
    progress: bool = True,
) -> sp.csr_matrix:
    """Loss at each target (columns, in ``tpos`` order) for each scenario (rows).

    A scenario removes a set of positions (``h = 0`` fixed). All scenarios run at once, level
    by level (level-synchronous sparse propagation: each scenario only touches its downstream
    cone); the cyclic SCCs of a level are resolved for every scenario at once by
    :func:`~supplygraph.analysis.cyclic_levels.cyclic_level_losses` (the per-scenario
    fixed-point iteration, to within ``TOL``; an exact sparse solve for linear scenarios whose
    feedback is too strong to converge quickly).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(len(scenarios), len(tpos))`` losses in [0, 1].
    """
    bar = Progress(cg.n_levels, f"{model} sweep") if progress else None
    out = _losses_levelsync(cg, scenarios, model, tpos, bar)
    if bar is not None:
        bar.close()
    return out


def _losses_levelsync(
    cg: CompiledGraph,
    scenarios: ScenarioSet,
    model: str,
    tpos: np.ndarray,
    bar: Progress | None = None,
) -> sp.csr_matrix:
    import scipy.sparse as sp

    S = len(scenarios)
    # removed (scenario, position) pairs, sorted by position
    singletons = isinstance(scenarios, np.ndarray) and scenarios.ndim == 1
    if singletons:  # one node per scenario
        rem_pos = np.asarray(scenarios, dtype=np.int64)
        rem_scn = np.arange(S, dtype=np.int64)
    else:
        lens = np.fromiter((len(s) for s in scenarios), dtype=np.int64, count=S)
        rem_pos = (
            np.concatenate([np.asarray(s, dtype=np.int64).ravel() for s in scenarios])
            if S
            else np.zeros(0, dtype=np.int64)
        )
        rem_scn = np.repeat(np.arange(S), lens)
    o = np.argsort(rem_pos, kind="stable")
    rem_pos, rem_scn = rem_pos[o], rem_scn[o]
    nptr, eptr, gptr = cg.level_nptr, cg.level_eptr, cg.level_gptr
    rem_ptr = np.searchsorted(rem_pos, nptr)
    level_of = cg.level
    ngroups = np.bincount(cg.group_node, minlength=cg.n)
    ext_any = np.add.reduceat(cg.ext > 0, nptr[:-1]) > 0 if cg.n else np.zeros(0, dtype=bool)
    blocks: list[sp.csr_matrix | None] = []
    # last level that reads each level's losses (its own level when nobody downstream does)
    last_use = np.arange(cg.n_levels)
    if cg.m:
        np.maximum.at(last_use, level_of[cg.src], level_of[cg.tgt])
    # target columns per level: level -> (column map within the level)
    tl = level_of[tpos]
    tl_cols: dict[int, np.ndarray] = {}
    for j in np.unique(tl).tolist():
        idx = np.flatnonzero(tl == j)
        colmap = np.full(int(nptr[j + 1] - nptr[j]), -1, dtype=np.int64)
        colmap[tpos[idx] - int(nptr[j])] = idx
        tl_cols[j] = colmap
    tparts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cyclic = set(cg.cyclic_levels().tolist())
    for k in range(cg.n_levels):
        a, b = int(nptr[k]), int(nptr[k + 1])
        nk = b - a
        ea, eb = int(eptr[k]), int(eptr[k + 1])
        acc = None
        if eb > ea:
            src = cg.src[ea:eb]
            if model == "linear":
                col, wt, ncol = cg.tgt[ea:eb] - a, cg.share[ea:eb], nk
            else:
                ga = int(gptr[k])
                col, wt, ncol = cg.grp[ea:eb] - ga, cg.wgrp[ea:eb], int(gptr[k + 1]) - ga
            slev = level_of[src]
            # earlier levels only: losses inside a level's cyclic SCCs are resolved below
            used = [j for j in np.unique(slev).tolist() if j < k and blocks[j].nnz]
            if used:
                # one product over the (column-stacked) blocks of every source level
                off = np.zeros(cg.n_levels + 1, dtype=np.int64)
                widths = [int(nptr[j + 1] - nptr[j]) for j in used]
                starts = np.cumsum([0, *widths[:-1]]).tolist()
                for j, o in zip(used, starts, strict=True):
                    off[j] = o - int(nptr[j])
                sel = np.isin(slev, used)
                W = sp.csr_matrix(
                    (wt[sel], (src[sel] + off[slev[sel]], col[sel])), shape=(sum(widths), ncol)
                )
                Lsrc = (
                    blocks[used[0]]
                    if len(used) == 1
                    else sp.hstack([blocks[j] for j in used], format="csr")
                )
                acc = Lsrc @ W
        ra, rb = int(rem_ptr[k]), int(rem_ptr[k + 1])
        if acc is not None and acc.nnz:
            indptr, c, v = acc.indptr, acc.indices, acc.data
            if model != "linear":
                node = cg.group_node[c + int(gptr[k])] - a
                multi = ngroups[a:b][node] > 1
                if multi.any():
                    # several groups per node: segmented max over (row, node) for those entries
                    r = np.repeat(np.arange(S, dtype=np.int64), np.diff(indptr))
                    mi = np.flatnonzero(multi)
                    key = r[mi] * nk + node[mi]
                    o = np.argsort(key, kind="stable")
                    key = key[o]
                    first = np.ones(len(key), dtype=bool)
                    first[1:] = key[1:] != key[:-1]
                    st = np.flatnonzero(first)
                    vm = np.maximum.reduceat(v[mi][o], st)
                    si = np.flatnonzero(~multi)
                    r = np.concatenate([r[si], key[st] // nk])
                    c = np.concatenate([node[si], key[st] % nk])
                    v = np.concatenate([v[si], vm])
                    o = np.argsort(r, kind="stable")
                    r, c, v = r[o], c[o], v[o]
                    indptr = np.zeros(S + 1, dtype=np.int64)
                    np.cumsum(np.bincount(r, minlength=S), out=indptr[1:])
                else:  # one group per node: the group column maps to its node
                    c = node
                if ext_any[k]:
                    v = v * (1.0 - cg.ext[a + c])
        else:
            indptr = np.zeros(S + 1, dtype=np.int64)
            c = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        if rb <= ra:
            blk = sp.csr_matrix((v, c, indptr), shape=(S, nk))
        elif singletons:
            # the removed node's own row has no loss yet in this level (nothing upstream of it is
            # removed; a cyclic level adds its SCCs' feedback afterwards): insert 1s
            blk = insert_empty_rows(indptr, c, v, S, nk, rem_scn[ra:rb], rem_pos[ra:rb] - a)
        else:
            blk = set_ones(
                sp.csr_matrix((v, c, indptr), shape=(S, nk)), rem_scn[ra:rb], rem_pos[ra:rb] - a
            )
        np.clip(blk.data, 0.0, 1.0, out=blk.data)
        if k in cyclic:
            blk = cyclic_level_losses(
                cg,
                k,
                blk,
                acc,
                model,
                rem_scn[ra:rb],
                rem_pos[ra:rb] - a,
                tol=TOL,
                max_iter=MAX_ITER,
            )
        blocks.append(blk)
        if bar is not None:
            bar.update(k + 1)
        # keep only what later levels still read: a level's block is freed (after taking its
        # target columns) once every customer level of its nodes has been computed
        done = range(k + 1) if k + 1 == cg.n_levels else np.flatnonzero(last_use == k).tolist()
        for j in done:
            blk_j = blocks[j]
            if blk_j is not None:
                _take_targets(blk_j, j, tparts, tl_cols, S)
                blocks[j] = None
    if len(tpos) == 0:
        return sp.csr_matrix((S, 0))
    if not tparts:
        return sp.csr_matrix((S, len(tpos)))
    parts_r, parts_c, parts_v = zip(*tparts, strict=True)
    r = np.concatenate(parts_r)
    o = np.argsort(r, kind="stable")
    r, c, v = r[o], np.concatenate(parts_c)[o], np.concatenate(parts_v)[o]
    indptr = np.zeros(S + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=S), out=indptr[1:])
    out = sp.csr_matrix((v, c, indptr), shape=(S, len(tpos)))
    return out


def _take_targets(
    blk: sp.csr_matrix,
    j: int,
    tparts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    tl_cols: dict[int, np.ndarray],
    S: int,
) -> None:
    """Append the target-column entries of level ``j``'s loss block to ``tparts`` (COO)."""
    colmap = tl_cols.get(j)
    if colmap is None or blk.nnz == 0:
        return
    tc = colmap[blk.indices]
    keep = tc >= 0
    rows = np.repeat(np.arange(S, dtype=np.int64), np.diff(blk.indptr))
    tparts.append((rows[keep], tc[keep], blk.data[keep]))


# --------------------------------------------------------------------------------- public API
def dependency_matrix(
    cg: CompiledGraph, tpos: np.ndarray, model: str = "linear", *, progress: bool = True
) -> np.ndarray:
    """Dense ``D[position, target]`` (fraction of each target's output lost), kernel order."""
    check_model(model)
    if cg.n * len(tpos) > MAX_DENSE_CELLS:
        raise ScenarioError(
            f"dependency matrix of {cg.n} nodes x {len(tpos)} targets is too large for a dense "
            "table; pass fewer targets, or use sweep() for the per-node summary"
        )
    if model == "linear":
        E = np.zeros((cg.n, len(tpos)))
        E[tpos, np.arange(len(tpos))] = 1.0
        return linear_removal(cg, E)
    return scenario_losses(cg, np.arange(cg.n), model, tpos, progress=progress).toarray()


def dependency(
    G: nx.DiGraph, targets: Iterable[Any] | None = None, model: str = "linear"
) -> pd.DataFrame:
    """Fraction of each target's output lost if a node is removed, for every node.

    Parameters
    ----------
    G
        Supply graph (never modified).
    targets
        Node ids whose output is measured (default: the sinks, i.e. nodes without customers,
        such as end uses).
    model
        ``"linear"``: ``D[u, t] = L[u, t] / L[u, u]`` with ``L = (I - A)^-1``, all nodes from one
        factorisation; ``"leontief"``: one propagation per removed node (cone-restricted and
        batched for all nodes at once). See the module docstring.

    Returns
    -------
    pandas.DataFrame
        Index: every node (graph order); columns: targets; values in [0, 1] (dimensionless:
        fraction of the target's baseline output lost). A target's own row is 1.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("m1", "s", flow=3.0)
    >>> G.add_edge("m2", "s", flow=1.0)
    >>> dependency(G)["s"].to_dict()
    {'m1': 0.75, 's': 1.0, 'm2': 0.25}
    """
    import pandas as pd

    check_model(model)
    cg = compile_graph(G)
    tpos = target_positions(cg, targets)
    D = _linear_targets_graph_order(cg, tpos) if model == "linear" else None
    if D is None:
        D = dependency_matrix(cg, tpos, model)[cg.graph_pos]
    cols = [cg.nodes[p] for p in tpos]
    # D is a fresh array owned by nobody else: wrap it without pandas' defensive copy
    return pd.DataFrame(
        D,
        index=_graph_index(cg),
        columns=pd.Index(cols, dtype=object, tupleize_cols=False, name="target"),
        copy=False,
    )


def _graph_index(cg: CompiledGraph) -> pd.Index:
    """The node ids in graph order as an (immutable, hence shareable) Index named ``node``."""
    idx = cg._cache.get("graph_index")
    if idx is None:
        import pandas as pd

        idx = pd.Index(cg.graph_nodes, dtype=object, tupleize_cols=False, name="node")
        cg._cache["graph_index"] = idx
    return idx


def _linear_targets_graph_order(cg: CompiledGraph, tpos: np.ndarray) -> np.ndarray | None:
    """Linear ``D[:, T]`` in graph row order on a DAG, without the dense right-hand side.

    The same level-by-level reverse pass as :func:`linear_removal` with ``B = E_T`` (so the
    same floating-point operations in the same order), written straight into graph order:
    the share matrix's columns are renumbered to graph rows once (cached), each level's rows
    are scattered to their graph rows, and ``B``'s unit entries are added only at the targets
    (adding the zeros elsewhere changes nothing). On a DAG ``diag(L) = 1`` and no node is in
    a closed cycle, so only the clip to [0, 1] remains. Returns None where that does not
    apply (cyclic or deep graphs, too large a table): the caller takes the general path.
    """
    from supplygraph.analysis.propagation import DEEP_LEVELS

    T = len(tpos)
    if not cg.is_dag or cg.n_levels > DEEP_LEVELS or cg.n * T > MAX_DENSE_CELLS:
        return None
    import scipy.sparse as sp

    n = cg.n
    cached = cg._cache.get("A_open_graph_rows")
    if cached is None:
        A = sp.csr_matrix(cg.open_share_matrix())
        rows = np.empty(n, dtype=np.int64)  # kernel position -> graph row
        rows[cg.graph_pos] = np.arange(n, dtype=np.int64)
        Ag = sp.csr_matrix((A.data, rows[A.indices], A.indptr), shape=A.shape)
        cached = (Ag, rows)
        cg._cache["A_open_graph_rows"] = cached
    Ag, rows = cached
    X = np.zeros((n, T))
    tpos = np.asarray(tpos, dtype=np.int64)
    cols = np.arange(T, dtype=np.int64)
    tlev = cg.level[tpos] if T else np.zeros(0, dtype=np.int64)
    nptr = cg.level_nptr
    for k in range(cg.n_levels - 1, -1, -1):
        a, b = int(nptr[k]), int(nptr[k + 1])
        rhs = Ag[a:b] @ X
        here = tlev == k
        if here.any():
            rhs[tpos[here] - a, cols[here]] += 1.0
        X[rows[a:b]] = rhs
    np.clip(X, 0.0, 1.0, out=X)
    return X


def flow_throughput(
    G: nx.DiGraph, targets: Iterable[Any] | None = None, *, weights: str = "output"
) -> pd.Series:
    """Flow-weighted throughput: the share of total target output supplied through each node.

    ``x = L w`` with ``L = (I - A)^-1`` and ``w[t]`` = target ``t``'s share of total target
    baseline output (``weights="output"``) or ``1 / n_targets`` (``weights="equal"``).
    ``x[u] = sum_t w[t] * L[u, t]``: under proportional mixing, ``L[u, t]`` is the fraction of
    t's supply that passed through u, so ``x`` is the supply-flow analogue of betweenness (in
    [0, 1] on acyclic graphs; material cycling through a loop can count more than once on cyclic
    ones). On acyclic graphs it equals the output-weighted loss of removing the node.

    Parameters
    ----------
    G
        Supply graph.
    targets
        Target nodes (default: sinks).
    weights
        ``"output"`` or ``"equal"``.

    Returns
    -------
    pandas.Series
        Throughput per node (graph order), dimensionless.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("m", "a", flow=1.0)
    >>> G.add_edge("m", "b", flow=3.0)
    >>> float(flow_throughput(G, weights="equal")["m"])
    1.0
    """
    import pandas as pd

    cg = compile_graph(G)
    tpos = target_positions(cg, targets)
    if weights == "output":
        w = target_weights(cg, tpos)
    elif weights == "equal":
        w = np.full(len(tpos), 1.0 / max(len(tpos), 1))
    else:
        raise ScenarioError(f"weights must be 'output' or 'equal', got {weights!r}")
    B = np.zeros(cg.n)
    np.add.at(B, tpos, w)
    x = linear_paths(cg, B)
    return pd.Series(
        x[cg.graph_pos],
        index=pd.Index(cg.graph_nodes, dtype=object, tupleize_cols=False),
        name="throughput",
    )
