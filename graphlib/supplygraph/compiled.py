"""The compiled graph: flat numpy arrays every numerical analysis runs on.

:func:`compile_graph` turns a supply graph (a :class:`networkx.DiGraph`, the public data
structure) into a :class:`CompiledGraph` once, and caches it per graph object, so editing a flow
in place invalidates it. The cache entry is checked by the graph's edit count when the graph
counts its edits (a :class:`~supplygraph.tracked.TrackedDiGraph`, what :func:`supplygraph.load`
returns: constant time), and otherwise against a fingerprint of everything the kernels read
(node and edge counts, a hash of the node attributes and edge flows: one pass over the graph).
A graph from :func:`supplygraph.load` whose networkx nodes and edges are not built yet
(:func:`supplygraph.tracked.deferred_graph`) is compiled straight from its validated table
columns, to the same arrays as from the built graph.

Input shares
------------
For an edge ``u -> v`` with flow ``f(u, v)`` (per year)::

    a[u, v] = f(u, v) / (sum_w f(w, v) + external_input(v))        (dimensionless, 0..1)
    ext[v]  = external_input(v) / (sum_w f(w, v) + external_input(v))

so ``sum_u a[u, v] + ext[v] = 1``. A node with no positive inflow and no external input is a
source: ``ext[v] = 1``.

Node order and levels
---------------------
Nodes are numbered so that every supplier comes before its customers. On an acyclic graph this is
a topological order grouped by *level* (longest path from a source). On a cyclic graph the
strongly connected components (SCCs) are condensed first; the nodes of one SCC are contiguous and
share the level of their component, and edges inside a level are exactly the edges inside cyclic
SCCs. Kernels therefore run one level at a time: a level's nodes depend only on earlier levels
(and, in a cyclic component, on each other).

A *closed* SCC is a cycle with no input from outside it and no external input (for example two
mines that only trade with each other). The linear model is singular there; the kernels treat it
as the limit of the fixed-point iteration from full output: unshocked it keeps ``h = 1``, and any
shock inside it (or the removal of any of its nodes) drives the whole component to ``h = 0``.

Input groups (Leontief)
-----------------------
The inputs of a node are grouped by the edge's ``material`` when given, else by the supplier's
``stage``. ``S[g]`` is the group's share of the node's inputs and ``wg[e] = a[e] / S[g]`` the
edge's weight within its group (the weights of a group sum to 1).
"""

from __future__ import annotations

import contextlib
import operator
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.tracked import deferred_tables, edit_count

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    import scipy.sparse as sp

__all__ = ["CompiledGraph", "compile_graph"]

_CACHE: weakref.WeakKeyDictionary[Any, tuple[Any, CompiledGraph]] = weakref.WeakKeyDictionary()


def _num(x: Any) -> float:
    """Return ``x`` as a float, treating None/NaN/non-numbers as 0."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return 0.0
    return f if f == f else 0.0


@dataclass(eq=False)
class CompiledGraph:
    """Flat-array view of a supply graph, in supplier-before-customer order.

    Positions (``0..n-1``) index every per-node array; ``nodes[p]`` is the node id at position
    ``p`` and ``index[node]`` its position. Edge arrays hold the edges with positive flow only,
    sorted by (target position, input group).

    Attributes
    ----------
    nodes : list
        Node ids in kernel order.
    graph_nodes : list
        Node ids in the graph's own order (``list(G.nodes)``).
    graph_pos : ndarray[int64]
        Kernel position of each node in ``graph_nodes`` (``x[graph_pos]`` reorders a per-position
        array into graph order).
    index : dict
        Node id -> position.
    src, tgt : ndarray[int64]
        Supplier / customer position of each edge (edges with flow > 0).
    flow : ndarray[float64]
        Edge flow (per year, edge unit).
    share : ndarray[float64]
        Input share ``a[u, v]`` of each edge.
    grp : ndarray[int64]
        Input-group index of each edge (groups sorted by target position).
    wgrp : ndarray[float64]
        Weight of the edge within its group, ``a[e] / S[grp[e]]``.
    group_start : ndarray[int64]
        First edge of each group (groups are contiguous runs of edges); length ``n_groups + 1``.
    group_node : ndarray[int64]
        Target position of each group.
    group_share : ndarray[float64]
        ``S[g]``, the group's share of its node's inputs.
    ext : ndarray[float64]
        External share ``ext[v]`` (1 for sources).
    inflow : ndarray[float64]
        ``sum_w f(w, v) + external_input(v)`` (per year).
    outflow : ndarray[float64]
        Sum of outbound flows (per year).
    value : ndarray[float64]
        Node ``value`` attribute (NaN when absent).
    baseline : ndarray[float64]
        ``value`` when given, else inflow, else outflow: the node's normal output (per year).
    capacity : ndarray[float64]
        Node ``capacity`` attribute (NaN when absent: no spare capacity).
    ramp_days, ramp_delay_days : ndarray[float64]
        Node ``ramp_days`` / ``ramp_delay_days`` (0 when absent).
    max_scale : ndarray[float64]
        Edge ``max_scale`` (how far the link can grow, as a multiple of its flow; inf when
        absent).
    stage_code, country_code : ndarray[int64]
        Codes into ``stages`` / ``countries``.
    end_use : list
        ``end_use`` attribute per position (None when absent).
    unit : list
        ``unit`` attribute per position (None when absent).
    is_source, is_sink : ndarray[bool]
        No inbound / outbound edges from / to other nodes (self-loops ignored).
    is_dag : bool
        True when the graph has no cycle (self-loops count as cycles).
    level : ndarray[int64]
        Level of each position (non-decreasing along positions).
    level_nptr, level_eptr, level_gptr : ndarray[int64]
        Position / edge / group ranges of each level: level ``k`` holds positions
        ``level_nptr[k]:level_nptr[k+1]`` etc.
    comp : ndarray[int64]
        SCC id of each position.
    cyclic_node : ndarray[bool]
        Position belongs to a cyclic SCC (size > 1, or a self-loop).
    closed_node : ndarray[bool]
        Position belongs to a closed cyclic SCC (see module docstring).
    """

    nodes: list[Any]
    index: dict[Any, int]
    graph_nodes: list[Any]
    graph_pos: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    flow: np.ndarray
    share: np.ndarray
    grp: np.ndarray
    wgrp: np.ndarray
    group_start: np.ndarray
    group_node: np.ndarray
    group_share: np.ndarray
    ext: np.ndarray
    inflow: np.ndarray
    outflow: np.ndarray
    value: np.ndarray
    baseline: np.ndarray
    capacity: np.ndarray
    ramp_days: np.ndarray
    ramp_delay_days: np.ndarray
    max_scale: np.ndarray
    stages: list[str]
    stage_code: np.ndarray
    countries: list[str]
    country_code: np.ndarray
    end_use: list[Any]
    unit: list[Any]
    is_source: np.ndarray
    is_sink: np.ndarray
    is_dag: bool
    level: np.ndarray
    level_nptr: np.ndarray
    level_eptr: np.ndarray
    level_gptr: np.ndarray
    comp: np.ndarray
    cyclic_node: np.ndarray
    closed_node: np.ndarray
    _edge_keys: Any = field(repr=False, default=None)
    _cache: dict[str, Any] = field(repr=False, default_factory=dict)

    # ------------------------------------------------------------------ sizes
    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def m(self) -> int:
        """Number of edges with positive flow."""
        return len(self.src)

    @property
    def n_levels(self) -> int:
        """Number of levels."""
        return len(self.level_nptr) - 1

    @property
    def n_groups(self) -> int:
        """Number of input groups."""
        return len(self.group_node)

    @property
    def sources(self) -> list[Any]:
        """Node ids with no inbound edge from another node."""
        return [self.nodes[p] for p in np.flatnonzero(self.is_source)]

    @property
    def sinks(self) -> list[Any]:
        """Node ids with no outbound edge to another node (e.g. end uses)."""
        return [self.nodes[p] for p in np.flatnonzero(self.is_sink)]

    def stage_of(self, p: int) -> str:
        """Stage name of position ``p``."""
        return self.stages[self.stage_code[p]]

    def country_of(self, p: int) -> str:
        """Country code of position ``p``."""
        return self.countries[self.country_code[p]]

    # ------------------------------------------------------------ edge lookup
    @cached_property
    def edge_index(self) -> dict[tuple[Any, Any], int]:
        """``(u, v) -> edge number`` for the edges with positive flow (built on first use)."""
        return {k: i for i, k in enumerate(self._edge_keys)}

    def edge_key(self, e: int) -> tuple[Any, Any]:
        """The ``(u, v)`` node ids of edge ``e``."""
        return self._edge_keys[e]

    # -------------------------------------------------------------- matrices
    def share_matrix(self) -> sp.csr_matrix:
        """Return ``A`` (n x n CSR), ``A[u, v] = a[u, v]`` with rows = suppliers (positions)."""
        if "A" not in self._cache:
            import scipy.sparse as sp

            self._cache["A"] = sp.csr_matrix(
                (self.share, (self.src, self.tgt)), shape=(self.n, self.n)
            )
        return self._cache["A"]

    def level_out_blocks(self) -> list[sp.csr_matrix]:
        """Per level ``k``: rows of ``A`` for the level's positions (suppliers), all columns."""
        if "out_blocks" not in self._cache:
            A = self.share_matrix()
            self._cache["out_blocks"] = [
                A[self.level_nptr[k] : self.level_nptr[k + 1]] for k in range(self.n_levels)
            ]
        return self._cache["out_blocks"]

    def level_in_blocks(self) -> list[sp.csr_matrix]:
        """Per level ``k``: rows of ``A.T`` for the level's positions (customers), all columns."""
        if "in_blocks" not in self._cache:
            AT = self.share_matrix().T.tocsr()
            self._cache["in_blocks"] = [
                AT[self.level_nptr[k] : self.level_nptr[k + 1]] for k in range(self.n_levels)
            ]
        return self._cache["in_blocks"]

    def cyclic_levels(self) -> np.ndarray:
        """Indices of levels that contain nodes of cyclic SCCs."""
        if "cyc_levels" not in self._cache:
            self._cache["cyc_levels"] = np.unique(self.level[self.cyclic_node])
        return self._cache["cyc_levels"]

    def open_share_matrix(self) -> sp.csr_matrix:
        """``A`` with the edges inside closed SCCs removed (``I - A'`` is then invertible)."""
        if "A_open" not in self._cache:
            import scipy.sparse as sp

            keep = ~(self.closed_node[self.src] & self.closed_node[self.tgt])
            self._cache["A_open"] = sp.csr_matrix(
                (self.share[keep], (self.src[keep], self.tgt[keep])), shape=(self.n, self.n)
            )
        return self._cache["A_open"]


# ---------------------------------------------------------------------------------------------
class _Raw:
    """Plain lists extracted from the graph in one pass (what the kernels read).

    Every list is gathered by C-level ``map``/``chain`` passes over the networkx dicts (no
    per-item Python code, no per-item tuples), so the pass is cheap enough to run on every
    :func:`compile_graph` call as the cache check.
    """

    __slots__ = (
        "cols",
        "deg",
        "fingerprint",
        "flows",
        "materials",
        "max_scale",
        "nodes",
        "stages",
        "targets",
    )

    def __init__(self, G: nx.DiGraph, *, fingerprint: bool = True) -> None:
        # the adjacency dicts behind G.adj / G.nodes: the public views cost ~10x more per item
        succ = getattr(G, "_succ", None) or getattr(G, "_adj", None) or G.adj
        ndict = getattr(G, "_node", None) or G.nodes
        self.nodes = list(succ)
        attrs = list(map(ndict.__getitem__, self.nodes))
        n = len(attrs)
        # stage, country, value, external_input, end_use, unit ...: one list per attribute (a
        # list of None, without a pass, for an attribute no node has)
        keys = set().union(*attrs)
        self.cols = [
            list(map(dict.get, attrs, repeat(k))) if k in keys else [None] * n for k in _NODE_KEYS
        ]
        nbrs = list(succ.values())
        self.deg = list(map(len, nbrs))
        self.targets = list(chain.from_iterable(nbrs))
        edata = list(chain.from_iterable(map(dict.values, nbrs)))
        ekeys = set().union(*edata)
        m = len(edata)
        self.flows = list(map(dict.get, edata, repeat("flow")))
        self.materials = (
            list(map(dict.get, edata, repeat("material"))) if "material" in ekeys else [None] * m
        )
        self.max_scale = (
            list(map(dict.get, edata, repeat("max_scale"))) if "max_scale" in ekeys else [None] * m
        )
        self.stages = tuple(G.graph.get("stages") or ())
        self.fingerprint = None
        if fingerprint:
            self.fingerprint = (
                len(self.nodes),
                len(self.flows),
                hash(tuple(self.flows)),
                hash(tuple(self.materials)),
                hash(tuple(self.max_scale)),
                *(hash(tuple(c)) for c in self.cols),
                hash(tuple(self.targets)),
                hash(tuple(self.deg)),
                hash(tuple(self.nodes)),
                self.stages,
            )


_NODE_KEYS = (
    "stage",
    "country",
    "value",
    "external_input",
    "end_use",
    "unit",
    "capacity",
    "ramp_days",
    "ramp_delay_days",
)


def compile_graph(G: nx.DiGraph, *, check: bool = True) -> CompiledGraph:
    """Return the :class:`CompiledGraph` of ``G``, building it on first use.

    Parameters
    ----------
    G
        A supply graph (see :mod:`supplygraph.schema`). It is never modified.
    check
        Verify the cached entry: for a :class:`~supplygraph.tracked.TrackedDiGraph` (what
        :func:`supplygraph.load` returns) by its edit count, in constant time; for other graphs
        against a fingerprint of the flows and node attributes (one pass over the graph, about
        a second per million edges). ``False`` trusts the cache; use it only when ``G`` cannot
        have changed since the last call.

    Returns
    -------
    CompiledGraph

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("a", stage="mining", country="CHN")
    >>> G.add_node("b", stage="separation", country="CHN")
    >>> G.add_edge("a", "b", flow=10.0)
    >>> cg = compile_graph(G)
    >>> cg.nodes, cg.share.tolist(), cg.is_dag
    (['a', 'b'], [1.0], True)
    """
    try:
        cached = _CACHE.get(G)
    except TypeError:  # pragma: no cover - unhashable/unweakrefable graph
        cached = None
    if cached is not None and not check:
        return cached[1]
    edits = edit_count(G)
    raw: _Raw | None = None
    fp: Any
    if edits is not None:
        # a TrackedDiGraph counts its edits: the check reads one number (and the stage list,
        # a list edited in place would not count)
        fp = ("edits", edits, tuple(G.graph.get("stages") or ()))
    else:
        try:
            raw = _Raw(G)
            fp = raw.fingerprint
        except TypeError:  # unhashable attribute values: no reuse
            fp = None
    if cached is not None and fp is not None and cached[0] == fp:
        return cached[1]
    tables = deferred_tables(G)
    if tables is not None:
        # a graph loaded from tables and not yet materialised: compile from the columns
        arrays = _arrays_from_frames(tables.nodes, tables.edges, tables.ends)
        if arrays is None:  # duplicate connections: networkx merges them; let it
            arrays = _arrays(_Raw(G, fingerprint=False))
    else:
        arrays = _arrays(raw if raw is not None else _Raw(G, fingerprint=False))
    cg = _build(G, arrays)
    with contextlib.suppress(TypeError):  # a graph class without weak references
        _CACHE[G] = (fp, cg)
    return cg


class _EdgeKeys:
    """Lazy ``(u, v)`` node-id pairs of the compiled edges."""

    def __init__(self, nodes0: list[Any], s_all: np.ndarray, t_all: np.ndarray, sel: np.ndarray):
        self.nodes0, self.s, self.t = nodes0, s_all[sel], t_all[sel]

    def __len__(self) -> int:
        return len(self.s)

    def __getitem__(self, e: int) -> tuple[Any, Any]:
        return (self.nodes0[self.s[e]], self.nodes0[self.t[e]])

    def __iter__(self):
        nd = self.nodes0
        return ((nd[a], nd[b]) for a, b in zip(self.s.tolist(), self.t.tolist(), strict=True))


def _codes(values: Any, preferred: list[str]) -> tuple[list[str], np.ndarray]:
    names: list[str] = [str(s) for s in preferred]
    lookup = {s: i for i, s in enumerate(names)}
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    raw_codes, uniques = pd.factorize(series, use_na_sentinel=False)
    remap = np.empty(len(uniques), dtype=np.int64)
    for i, v in enumerate(uniques):
        key = "" if v is None or (isinstance(v, float) and v != v) else str(v)
        c = lookup.get(key)
        if c is None:
            c = lookup[key] = len(names)
            names.append(key)
        remap[i] = c
    return names, remap[raw_codes]


def _floats(values: list[Any]) -> np.ndarray:
    """Numbers, 0 where absent (None), NaN or not a number."""
    try:
        out = np.array(values, dtype=float)
    except (TypeError, ValueError):
        out = np.array([_num(x) for x in values], dtype=float)
    return np.nan_to_num(out, nan=0.0)


def _values(values: list[Any]) -> np.ndarray:
    """Node values: NaN where absent (None), 0 where NaN or not a number (as :func:`_num`)."""
    try:
        out = np.array(values, dtype=float)  # None -> NaN
    except (TypeError, ValueError):
        return np.array([np.nan if x is None else _num(x) for x in values], dtype=float)
    nan = np.isnan(out)
    if nan.any():
        present = np.fromiter(map(operator.is_not, values, repeat(None)), bool, len(values))
        out[nan & present] = 0.0
    return out


def _optional_floats(values: list[Any], default: float) -> np.ndarray:
    """Numbers of an optional attribute; ``default`` where absent, blank or not a number."""
    try:
        out = np.array(values, dtype=float)  # None -> NaN
    except (TypeError, ValueError):
        return np.array([_num_or(v, default) for v in values], dtype=float)
    out[np.isnan(out)] = default
    return out


def _num_or(x: Any, default: float) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return default
    return f if f == f else default


@dataclass(eq=False)
class _Arrays:
    """What :func:`_build` reads, as arrays: from a graph (:func:`_arrays`) or from validated
    tables (:func:`_arrays_from_frames`), with the same meaning.

    Node arrays are in the graph's node order; edge arrays in its adjacency order (by supplier
    position, then the order the edges were added). Absent attributes: ``value`` and
    ``capacity`` NaN, ``ramp_days``/``ramp_delay_days``/``external_input`` 0, ``max_scale`` inf.
    """

    nodes: list[Any]
    stage: Any  # list or Series (read by _codes)
    country: Any
    value: np.ndarray
    external_input: np.ndarray
    end_use: list[Any]
    unit: list[Any]
    capacity: np.ndarray
    ramp_days: np.ndarray
    ramp_delay_days: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    flow: np.ndarray
    material: list[Any]
    max_scale: np.ndarray


def _arrays(raw: _Raw) -> _Arrays:
    """The arrays of a graph's one-pass extraction (blank or non-numeric values as absent)."""
    import pandas as pd

    nodes0 = raw.nodes
    n = len(nodes0)
    stage_raw, country_raw, vals_raw, ext_raw, end_use0, unit0, cap_raw, ramp_raw, delay_raw = (
        raw.cols
    )
    node_index = pd.Index(nodes0, dtype=object, tupleize_cols=False)
    deg = np.array(raw.deg, dtype=np.int64)
    t_all = node_index.get_indexer(pd.Index(raw.targets, dtype=object, tupleize_cols=False))
    return _Arrays(
        nodes=nodes0,
        stage=stage_raw,
        country=country_raw,
        value=_values(vals_raw),
        external_input=np.maximum(_floats(ext_raw), 0.0),
        end_use=end_use0,
        unit=unit0,
        capacity=_optional_floats(cap_raw, np.nan),
        ramp_days=_optional_floats(ramp_raw, 0.0),
        ramp_delay_days=_optional_floats(delay_raw, 0.0),
        src=np.repeat(np.arange(n, dtype=np.int64), deg),
        tgt=t_all.astype(np.int64),
        flow=np.maximum(_floats(raw.flows), 0.0),
        material=raw.materials,
        max_scale=_optional_floats(raw.max_scale, np.inf),
    )


def _text_column(frame: pd.DataFrame, col: str) -> Any:
    """A text column of validated tables (trimmed text, blank as missing) with None for
    missing: a Series for the codes (:func:`_codes`), or a list when absent."""
    if col not in frame.columns:
        return [None] * len(frame)
    series = frame[col]
    return series.astype(object).where(series.notna(), None)


def _number_array(frame: pd.DataFrame, col: str, default: float) -> np.ndarray:
    """A number column as a graph attribute reads (``default`` where blank)."""
    import pandas as pd

    if col not in frame.columns:
        return np.full(len(frame), default)
    out = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(out), default, out)


def _arrays_from_frames(
    nodes: pd.DataFrame, edges: pd.DataFrame, ends: tuple[Any, Any] | None = None
) -> _Arrays | None:
    """The arrays of the graph :func:`supplygraph.build.graph_from_frames` would build from
    validated tables (unique trimmed ids, known endpoints), without building it.

    ``ends``: the node rows of each edge's supplier and customer, when already known. None
    when an endpoint is not a node id as written, or two rows connect the same pair (the
    graph adds their flows together): the graph's own reading then decides.
    """
    from supplygraph.columns import positions

    ids = nodes["id"]
    n = len(ids)
    if ends is None:
        ends = positions(edges["source"], ids), positions(edges["target"], ids)
    s_rows, t_rows = (np.asarray(e, dtype=np.int64) for e in ends)
    if len(s_rows) and (s_rows.min() < 0 or t_rows.min() < 0):
        return None
    pair = np.sort(s_rows * max(n, 1) + t_rows)
    if len(pair) > 1 and not bool((pair[1:] != pair[:-1]).all()):
        return None
    order = np.argsort(s_rows, kind="stable")  # adjacency order: by supplier, then row
    materials = _text_column(edges, "material")
    if isinstance(materials, list) or not materials.notna().any():
        materials = [None] * len(edges)
    else:
        materials = materials.to_numpy(dtype=object)[order].tolist()
    return _Arrays(
        nodes=ids.tolist(),
        stage=_text_column(nodes, "stage"),
        country=_text_column(nodes, "country"),
        value=_number_array(nodes, "value", np.nan),
        external_input=np.maximum(_number_array(nodes, "external_input", 0.0), 0.0),
        end_use=list(_text_column(nodes, "end_use")),
        unit=list(_text_column(nodes, "unit")),
        capacity=_number_array(nodes, "capacity", np.nan),
        ramp_days=_number_array(nodes, "ramp_days", 0.0),
        ramp_delay_days=_number_array(nodes, "ramp_delay_days", 0.0),
        src=s_rows[order],
        tgt=t_rows[order],
        flow=np.maximum(_number_array(edges, "flow", 0.0)[order], 0.0),
        material=materials,
        max_scale=_number_array(edges, "max_scale", np.inf)[order],
    )


def _build(G: nx.DiGraph, arrays: _Arrays) -> CompiledGraph:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    nodes0 = arrays.nodes
    n = len(nodes0)
    stage_raw, country_raw = arrays.stage, arrays.country
    end_use0, unit0 = arrays.end_use, arrays.unit
    value0 = arrays.value
    ext_in0 = arrays.external_input

    # ---- edges
    s_all = arrays.src
    t_all = arrays.tgt
    f_all = arrays.flow
    mats = arrays.material
    not_loop = s_all != t_all
    has_in = np.zeros(n, dtype=bool)
    has_in[t_all[not_loop]] = True
    has_out = np.zeros(n, dtype=bool)
    has_out[s_all[not_loop]] = True
    outflow0 = np.bincount(s_all, weights=f_all, minlength=n)

    pos_e = np.flatnonzero(f_all > 0)
    s0, t0, f0 = s_all[pos_e], t_all[pos_e], f_all[pos_e]
    inflow0 = np.bincount(t0, weights=f0, minlength=n) + ext_in0

    # ---- SCCs and condensation levels
    graph = csr_matrix((np.ones(len(s0)), (s0, t0)), shape=(n, n))
    ncomp, comp0 = connected_components(graph, directed=True, connection="strong")
    comp0 = comp0.astype(np.int64)
    comp_size = np.bincount(comp0, minlength=ncomp)
    loops = s0 == t0
    comp_cyclic = comp_size > 1
    comp_cyclic[comp0[s0[loops]]] = True
    is_dag = not bool(comp_cyclic.any())
    cross = comp0[s0] != comp0[t0]
    cs, ct = comp0[s0[cross]], comp0[t0[cross]]
    clevel = _levels(ncomp, cs, ct)

    # ---- node order: (level, component, original index)
    order = _sort_order(clevel[comp0], comp0, np.arange(n))
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    order_list = order.tolist()
    nodes = list(map(nodes0.__getitem__, order_list))
    index = dict(zip(nodes, range(n), strict=True))
    level = clevel[comp0][order]
    # renumber components in order of appearance
    comp_o = comp0[order]
    _, first = np.unique(comp_o, return_index=True)
    remap = np.empty(ncomp, dtype=np.int64)
    remap[comp_o[np.sort(first)]] = np.arange(ncomp)
    comp = remap[comp_o]
    cyclic_node = comp_cyclic[comp0][order]

    src = pos[s0]
    tgt = pos[t0]
    flow = f0
    inflow = inflow0[order]
    ext_in = ext_in0[order]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = flow / inflow[tgt]
        ext = np.where(inflow > 0, ext_in / np.where(inflow > 0, inflow, 1.0), 1.0)

    # ---- input groups: (target, material or supplier stage)
    stages_pref = [str(s) for s in (G.graph.get("stages") or [])]
    stages, stage_code0 = _codes(stage_raw, stages_pref)
    countries, country_code0 = _codes(country_raw, [])
    stage_code = stage_code0[order]
    country_code = country_code0[order]
    ns = len(stages)
    gkey = stage_code0[s0].copy()
    if any(isinstance(mt, str) and mt.strip() for mt in set(mats)):
        mat_codes: dict[str, int] = {}
        picked = [mats[i] for i in pos_e.tolist()]
        mat_keys = [m.strip() if isinstance(m, str) else "" for m in picked]
        mcode = np.fromiter(
            (mat_codes.setdefault(k, len(mat_codes)) if k else -1 for k in mat_keys),
            dtype=np.int64,
            count=len(pos_e),
        )
        gkey = np.where(mcode >= 0, ns + mcode, gkey)
    eorder = _sort_order(tgt, gkey, src)
    src, tgt, flow, share, gkey = (a[eorder] for a in (src, tgt, flow, share, gkey))
    edge_keys = _EdgeKeys(nodes0, s_all, t_all, pos_e[eorder])
    m = len(src)
    if m:
        newg = np.ones(m, dtype=bool)
        newg[1:] = (tgt[1:] != tgt[:-1]) | (gkey[1:] != gkey[:-1])
        grp = np.cumsum(newg) - 1
        group_first = np.flatnonzero(newg)
    else:
        grp = np.zeros(0, dtype=np.int64)
        group_first = np.zeros(0, dtype=np.int64)
    group_start = np.append(group_first, m).astype(np.int64)
    group_node = tgt[group_first]
    group_share = np.add.reduceat(share, group_first) if m else np.zeros(0)
    if m:
        # a group whose shares underflow to 0 (flows near 1e-320): equal weights, still summing
        # to 1
        gs = group_share[grp]
        sizes = np.diff(group_start)[grp]
        with np.errstate(invalid="ignore", divide="ignore"):
            wgrp = np.where(gs > 0, share / np.where(gs > 0, gs, 1.0), 1.0 / sizes)
    else:
        wgrp = np.zeros(0)

    # ---- closed cyclic components: no outside input, no external input
    comp_open = np.zeros(ncomp, dtype=bool)
    comp_open[comp[tgt[comp[src] != comp[tgt]]]] = True
    comp_open[comp[ext_in > 0]] = True
    comp_cyc_o = np.zeros(ncomp, dtype=bool)
    comp_cyc_o[comp[cyclic_node]] = True
    closed_node = (comp_cyc_o & ~comp_open)[comp]

    # ---- level pointers
    n_levels = int(level.max()) + 1 if n else 0
    level_nptr = np.searchsorted(level, np.arange(n_levels + 1), side="left").astype(np.int64)
    level_eptr = np.searchsorted(tgt, level_nptr, side="left").astype(np.int64)
    level_gptr = np.searchsorted(group_node, level_nptr, side="left").astype(np.int64)

    value = value0[order]
    capacity = arrays.capacity[order]
    ramp_days = arrays.ramp_days[order]
    ramp_delay_days = arrays.ramp_delay_days[order]
    scale_e = arrays.max_scale[pos_e[eorder]]
    outflow = outflow0[order]
    inflow_all = inflow.copy()
    baseline = np.where(
        ~np.isnan(value), value, np.where(inflow_all > 0, inflow_all, outflow)
    ).astype(float)

    return CompiledGraph(
        nodes=nodes,
        index=index,
        graph_nodes=nodes0,
        graph_pos=pos,
        src=src,
        tgt=tgt,
        flow=flow,
        share=share,
        grp=grp.astype(np.int64),
        wgrp=wgrp,
        group_start=group_start,
        group_node=group_node.astype(np.int64),
        group_share=group_share,
        ext=ext,
        inflow=inflow,
        outflow=outflow,
        value=value,
        baseline=baseline,
        capacity=capacity,
        ramp_days=ramp_days,
        ramp_delay_days=ramp_delay_days,
        max_scale=scale_e,
        stages=stages,
        stage_code=stage_code,
        countries=countries,
        country_code=country_code,
        end_use=list(map(end_use0.__getitem__, order_list)),
        unit=list(map(unit0.__getitem__, order_list)),
        is_source=~has_in[order],
        is_sink=~has_out[order],
        is_dag=is_dag,
        level=level,
        level_nptr=level_nptr,
        level_eptr=level_eptr,
        level_gptr=level_gptr,
        comp=comp,
        cyclic_node=cyclic_node,
        closed_node=closed_node,
        _edge_keys=edge_keys,
    )


def _sort_order(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The order sorting by ``a``, then ``b``, then ``c`` (non-negative integers, the triples
    distinct): ``np.lexsort((c, b, a))``, as one argsort of a combined key when it fits."""
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    nb, nc = int(b.max()) + 1, int(c.max()) + 1
    if (int(a.max()) + 1) * nb * nc < 2**62:
        return np.argsort((a.astype(np.int64) * nb + b) * nc + c)
    return np.lexsort((c, b, a))


def _levels(n: int, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Longest-path level of each vertex of a DAG given by edges ``s -> t`` (Kahn by rounds)."""
    level = np.zeros(n, dtype=np.int64)
    if len(s) == 0:
        return level
    order = np.argsort(s, kind="stable")
    s, t = s[order], t[order]
    ptr = np.searchsorted(s, np.arange(n + 1))
    indeg = np.bincount(t, minlength=n)
    frontier = np.flatnonzero(indeg == 0)
    k = 0
    while len(frontier):
        level[frontier] = k
        starts, ends = ptr[frontier], ptr[frontier + 1]
        cnt = ends - starts
        tot = int(cnt.sum())
        if tot == 0:
            break
        # gather the out-edges of the frontier without a Python loop
        offs = np.repeat(starts - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(tot)
        if tot * 8 > n:  # a wide round: counting beats sorting
            counted = np.bincount(t[offs], minlength=n)
            cand = np.flatnonzero(counted)
            dec = counted[cand]
        else:
            cand, dec = np.unique(t[offs], return_counts=True)
        indeg[cand] -= dec
        frontier = cand[indeg[cand] == 0]
        k += 1
    return level
