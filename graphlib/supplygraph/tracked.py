"""A :class:`networkx.DiGraph` that counts its own edits.

Every analysis reads the flat arrays of :func:`supplygraph.compiled.compile_graph`, cached per
graph. For a plain ``DiGraph`` the cache must re-read every node and edge attribute on each call
to notice an edit made in place (``G.edges[u, v]["flow"] = 2.0``): about a second per million
edges, several times the cost of the analysis itself. A :class:`TrackedDiGraph` stores its
nodes, adjacency and attributes in dicts that bump one shared edit counter on every change, so
the cache check reads one integer.

It is a ``DiGraph`` in every other respect (networkx algorithms, views, ``copy``, pickling);
:func:`supplygraph.load` and :func:`supplygraph.graph_from_frames` return one, and
``TrackedDiGraph(G)`` converts any graph. What it cannot see is an edit *inside* an attribute
value (a list stored as an attribute and appended to); supply-graph attributes are numbers and
text.

Deferred graphs
---------------
Building a million networkx edges (a dict per edge) takes seconds, and a command such as
``supplygraph sweep`` never reads them: it runs on the compiled arrays. :func:`deferred_graph`
returns a graph whose nodes and edges are built from its tables the first time anything reads
them (``G.nodes``, ``G.edges``, ``len(G)``, iteration, any networkx function, pickling); until
then :func:`supplygraph.compiled.compile_graph` compiles straight from the tables
(:func:`deferred_tables`). ``G.graph`` is there from the start. Building the nodes and edges is
not an edit: it does not change :func:`edit_count`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import networkx as nx

__all__ = ["TrackedDiGraph", "deferred_graph", "deferred_tables", "edit_count"]

#: The networkx attributes that hold a graph's nodes and adjacency (built on first use in a
#: deferred graph).
_STRUCTURE = frozenset({"_node", "_adj", "_succ", "_pred"})


class _Clock:
    """The edit counter of one graph, and the attribute-dict class that bumps it."""

    __slots__ = ("dict_class", "edits")

    def __init__(self) -> None:
        self.edits = 0
        # a class per graph, so networkx creates its attribute dicts with a C-level call
        self.dict_class: type[_TrackedDict] = type(
            "_TrackedDict", (_TrackedDict,), {"_clock": self}
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_new_clock, (self.edits,))


def _new_clock(edits: int) -> _Clock:
    clock = _Clock()
    clock.edits = edits
    return clock


def _rebuild(clock: _Clock, items: dict[Any, Any]) -> _TrackedDict:
    d = clock.dict_class()
    dict.update(d, items)
    return d


class _TrackedDict(dict[Any, Any]):
    """An attribute dict that counts every mutation on its graph's clock (a class attribute)."""

    __slots__ = ()
    _clock: _Clock

    def __setitem__(self, key: Any, value: Any) -> None:
        self._clock.edits += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._clock.edits += 1
        dict.__delitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._clock.edits += 1
        dict.update(self, *args, **kwargs)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._clock.edits += 1
        return dict.setdefault(self, key, default)

    def pop(self, *args: Any) -> Any:
        self._clock.edits += 1
        return dict.pop(self, *args)

    def popitem(self) -> tuple[Any, Any]:
        self._clock.edits += 1
        return dict.popitem(self)

    def clear(self) -> None:
        self._clock.edits += 1
        dict.clear(self)

    def __ior__(self, other: Any) -> _TrackedDict:  # type: ignore[misc]  # dict.__or__ is kept
        self._clock.edits += 1
        dict.update(self, other)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._clock, dict(self)))


def _counted(name: str, *, bulk: bool = False) -> Any:
    """A DiGraph method that bumps the edit counter, then does the networkx work.

    Bulk methods pause the cyclic garbage collector meanwhile: attribute dicts of a dict
    subclass are always tracked by it (plain dicts of numbers are not), and its passes over
    the growing graph would otherwise double the time to add a million edges. Adding nodes
    and edges creates no reference cycles to collect.
    """
    method = getattr(nx.DiGraph, name)

    def counted(self: TrackedDiGraph, *args: Any, **kwargs: Any) -> Any:
        self._clock.edits += 1
        if not bulk or not gc.isenabled():
            return method(self, *args, **kwargs)
        gc.disable()
        try:
            return method(self, *args, **kwargs)
        finally:
            gc.enable()

    counted.__name__ = name
    counted.__qualname__ = f"TrackedDiGraph.{name}"
    counted.__doc__ = method.__doc__
    return counted


class TrackedDiGraph(nx.DiGraph):
    """A ``networkx.DiGraph`` whose edits are counted (see :func:`edit_count`).

    Structure changes go through networkx's methods (``add_edge``, ``remove_node`` ...), which
    count themselves; node, edge and graph attribute dicts count their own changes.

    Parameters
    ----------
    incoming_graph_data, **attr
        As for :class:`networkx.DiGraph`: ``TrackedDiGraph(G)`` copies ``G`` with its attributes.

    Examples
    --------
    >>> G = TrackedDiGraph()
    >>> G.add_edge("mine", "refinery", flow=5.0)
    >>> before = edit_count(G)
    >>> G.edges["mine", "refinery"]["flow"] = 6.0
    >>> edit_count(G) > before
    True
    """

    def __init__(self, incoming_graph_data: Any = None, **attr: Any) -> None:
        _attach(self, _Clock())
        super().__init__(incoming_graph_data, **attr)

    def __reduce__(self) -> tuple[Any, ...]:
        # the per-graph dict class is rebuilt from the clock on unpickling
        if self.__dict__.get("_deferred") is not None:  # build a deferred graph first
            _materialize(self, self.__dict__["_deferred"])
        state = {k: v for k, v in self.__dict__.items() if not k.endswith("_factory")}
        state.pop("_deferred", None)
        return (_restore_graph, (state,))

    add_node = _counted("add_node")
    add_nodes_from = _counted("add_nodes_from", bulk=True)
    remove_node = _counted("remove_node")
    remove_nodes_from = _counted("remove_nodes_from", bulk=True)
    add_edge = _counted("add_edge")
    add_edges_from = _counted("add_edges_from", bulk=True)
    add_weighted_edges_from = _counted("add_weighted_edges_from", bulk=True)
    remove_edge = _counted("remove_edge")
    remove_edges_from = _counted("remove_edges_from", bulk=True)
    update = _counted("update", bulk=True)
    clear = _counted("clear")
    clear_edges = _counted("clear_edges")


def _restore_graph(state: dict[str, Any]) -> TrackedDiGraph:
    G = TrackedDiGraph.__new__(TrackedDiGraph)
    G.__dict__.update(state)
    _attach(G, G._clock)
    return G


def _attach(G: TrackedDiGraph, clock: _Clock) -> None:
    """Give ``G`` its edit counter; networkx then makes every attribute dict through it."""
    G._clock = clock
    G.graph_attr_dict_factory = clock.dict_class
    G.node_attr_dict_factory = clock.dict_class
    G.edge_attr_dict_factory = clock.dict_class


class _Deferrable:
    """Data descriptor for ``_node``/``_adj``/``_succ``/``_pred`` of a deferred graph.

    Setting works as networkx's own descriptor (which resets the cached views); reading an
    attribute that is not there yet builds the graph first.
    """

    def __init__(self, name: str, inner: Any) -> None:
        self.name = name
        self.inner = inner

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__[self.name]
        except KeyError:
            deferred = obj.__dict__.get("_deferred")
            if deferred is None:
                raise AttributeError(self.name) from None
            _materialize(obj, deferred)
            return obj.__dict__[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        self.inner.__set__(obj, value)


class _DeferredDiGraph(TrackedDiGraph):
    """A :class:`TrackedDiGraph` whose nodes and edges are not built yet (see
    :func:`deferred_graph`); building them turns it into a plain :class:`TrackedDiGraph`."""

    _node = _Deferrable("_node", nx.Graph.__dict__["_node"])
    _adj = _Deferrable("_adj", nx.DiGraph.__dict__["_adj"])
    _succ = _Deferrable("_succ", nx.DiGraph.__dict__["_succ"])
    _pred = _Deferrable("_pred", nx.DiGraph.__dict__["_pred"])


class _Deferred:
    """The tables of a deferred graph and the function that fills a graph from them."""

    __slots__ = ("edges", "ends", "fill", "nodes")

    def __init__(
        self, nodes: Any, edges: Any, fill: Callable[[TrackedDiGraph], None], ends: Any = None
    ) -> None:
        self.nodes = nodes
        self.edges = edges
        self.fill = fill
        self.ends = ends  # (supplier rows, customer rows) of the edges, when known


def deferred_graph(
    nodes: Any, edges: Any, fill: Callable[[TrackedDiGraph], None], *, ends: Any = None
) -> TrackedDiGraph:
    """A :class:`TrackedDiGraph` whose nodes and edges are added by ``fill`` on first use.

    Parameters
    ----------
    nodes, edges
        The validated node and edge tables the graph stands for (what
        :func:`supplygraph.compiled.compile_graph` compiles while the graph is not built).
    fill
        Adds the nodes and edges of those tables to an empty graph (called once, when the
        graph's nodes or adjacency are first read).
    ends
        Optional: the node-table row of each edge's supplier and customer (two int arrays).

    Returns
    -------
    TrackedDiGraph
        With an empty ``G.graph``; reading ``G.nodes``, ``G.edges`` ... builds it.

    Examples
    --------
    >>> G = deferred_graph(None, None, lambda H: H.add_edge("a", "b", flow=1.0))
    >>> G.graph["name"] = "demo"
    >>> before = edit_count(G)
    >>> list(G.edges(data=True)), edit_count(G) == before
    ([('a', 'b', {'flow': 1.0})], True)
    """
    G = _DeferredDiGraph()
    for name in _STRUCTURE:
        G.__dict__.pop(name, None)
    for name in ("adj", "succ", "pred", "nodes", "edges", "in_edges", "out_edges", "degree"):
        G.__dict__.pop(name, None)  # cached views of the empty dicts, if any
    G.__dict__["_deferred"] = _Deferred(nodes, edges, fill, ends)
    return G


def deferred_tables(G: nx.DiGraph) -> _Deferred | None:
    """The tables of a deferred graph not built yet (``.nodes``, ``.edges`` and ``.ends``, the
    node rows of each edge's ends when known); None for any other graph."""
    deferred: _Deferred | None = getattr(G, "__dict__", {}).get("_deferred")
    return deferred


def _materialize(G: TrackedDiGraph, deferred: _Deferred) -> None:
    """Build the nodes and edges of a deferred graph (not counted as an edit)."""
    G.__dict__["_deferred"] = None
    G.__class__ = TrackedDiGraph  # plain attribute access from now on
    G._node = G.node_dict_factory()
    G._adj = G.adjlist_outer_dict_factory()
    G._pred = G.adjlist_outer_dict_factory()
    G._succ = G._adj
    edits = G._clock.edits
    deferred.fill(G)
    G._clock.edits = edits


def edit_count(G: nx.DiGraph) -> int | None:
    """Return the number of edits made to ``G`` so far, or None if ``G`` does not count them.

    Parameters
    ----------
    G
        A graph.

    Returns
    -------
    int or None
        A number that grows with every change to the graph's nodes, edges or attributes (for a
        :class:`TrackedDiGraph`); None for other graphs.

    Examples
    --------
    >>> edit_count(nx.DiGraph()) is None
    True
    """
    clock = getattr(G, "_clock", None)
    return clock.edits if isinstance(clock, _Clock) else None
