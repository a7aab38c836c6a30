"""Shocks: what is cut, and by how much.

A shock cuts a fraction ``cut`` in [0, 1] of something: ``1`` is a ban or a shut-down, ``0.75``
means only a quarter of the licences are approved. It targets either

* **nodes** -- one node (``"CHN:separation"``), every node of a country (``"CHN"``), a country's
  nodes in one stage (``"CHN@separation"``) or a whole stage (``"@separation"``); a node shock
  scales the node's output capacity by ``1 - cut``; or
* **edges** -- the flows from a country (and/or stage) to a country (and/or stage):
  ``"CHN@magnets->USA"``, ``"CHN@magnets->USA@end_use"``, ``"@magnets->USA"``,
  ``"CHN->@end_use"``; either side may also be a node id. An edge shock scales the flow's
  contribution to its customer by ``1 - cut`` (an export restriction).

Text syntax (:func:`parse_shock`)::

    SHOCK    := SELECTOR [ "=" CUT ]            CUT a number in [0, 1], default 1
    SELECTOR := SIDE | SIDE "->" SIDE
    SIDE     := NODE_ID | COUNTRY | COUNTRY "@" STAGE | "@" STAGE

A side without ``@`` is read as a country code when it looks like one (2-3 capital letters, such
as ``CHN``, ``EU``, ``ROW``) and otherwise as a node id; :func:`resolve_shocks` falls back to the
other reading when the first matches nothing.

Filters (used by scenario files): ``destination`` keeps only edges whose customer is in one of
the given countries, ``except_destination`` drops those, and ``end_use`` keeps only edges whose
customer node has one of the given ``end_use`` values. A node shock with a filter becomes an edge
shock on the selected nodes' outbound edges (an export rule rather than a shut-down).

Combining: several shocks on the same node (or edge) combine as independent cuts,
``cut = 1 - prod_i (1 - cut_i)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Shock", "as_shocks", "pair_cuts", "parse_shock", "resolve_shocks"]

_COUNTRY_RE = re.compile(r"^[A-Z]{2,3}$")

StrFilter = str | tuple[str, ...] | list[str] | None


@dataclass(frozen=True)
class Shock:
    """One shock: a selector and a cut fraction.

    Attributes
    ----------
    kind
        ``"node"`` (cut node output) or ``"edge"`` (cut flows).
    node
        Node id (node shocks), or the supplier node id of an edge shock.
    country, stage
        Country code / stage of the selected nodes (node shocks) or of the suppliers (edges).
    to_node, to_country, to_stage
        The customer side of an edge shock (any may be None = any).
    cut
        Fraction cut, in [0, 1] (1 = ban).
    destination, except_destination
        Country code(s): keep only / drop the edges whose customer is in these countries.
    end_use
        End-use sector(s): keep only edges whose customer node has this ``end_use``.
    start_day, end_day
        Active window in days, ``start_day <= day < end_day`` (``end_day=None``: open-ended);
        used by timelines, ignored by :func:`resolve_shocks`.
    text
        The selector as written (for messages), without the cut suffix.
    label, source
        Free text: a description and where the number comes from.
    uncertain
        A range on the cut, for Monte Carlo draws (:mod:`supplygraph.uncertainty`):
        ``(key, low, value, high)`` in the terms the scenario file used (``key`` is ``"cut"``
        or ``"approval_rate"``; ``cut = 1 - approval_rate``); None: the cut is certain.
        ``cut`` holds the value's cut (the draws replace it; the other analyses use it).
    dist, group
        The range's distribution (None: triangular) and group (ranges sharing a group are
        drawn together: one assumption behind many shocks).

    Examples
    --------
    >>> parse_shock("CHN@magnets->USA=0.75")
    Shock(kind='edge', country='CHN', stage='magnets', to_country='USA', cut=0.75, ...)
    """

    kind: Literal["node", "edge"] = "node"
    node: str | None = None
    country: str | None = None
    stage: str | None = None
    to_node: str | None = None
    to_country: str | None = None
    to_stage: str | None = None
    cut: float = 1.0
    destination: StrFilter = None
    except_destination: StrFilter = None
    end_use: StrFilter = None
    start_day: float = 0.0
    end_day: float | None = None
    text: str | None = None
    label: str | None = None
    source: str | None = None
    uncertain: tuple[str, float, float, float] | None = None
    dist: str | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("node", "edge"):
            raise ScenarioError(f"shock kind must be 'node' or 'edge', got {self.kind!r}")
        c = self.cut
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0.0 <= float(c) <= 1.0:
            raise ScenarioError(f"shock {self.describe()!r}: cut must be in [0, 1], got {c!r}")
        if self.uncertain is not None:
            key, low, mid, high = self.uncertain
            if key not in ("cut", "approval_rate") or not 0.0 <= low <= mid <= high <= 1.0:
                msg = (
                    f"shock {self.describe()!r}: range {key} = [{low:g}, {mid:g}, {high:g}] "
                    "must be a cut or approval_rate running 0 <= low <= value <= high <= 1"
                )
                raise ScenarioError(msg)

    def __repr__(self) -> str:
        parts = [f"kind={self.kind!r}"]
        for name in ("node", "country", "stage", "to_node", "to_country", "to_stage"):
            v = getattr(self, name)
            if v is not None:
                parts.append(f"{name}={v!r}")
        parts.append(f"cut={self.cut!r}")
        return f"Shock({', '.join(parts)}, ...)"

    def describe(self) -> str:
        """Return the selector in the text syntax (without the cut)."""
        if self.text:
            return self.text

        def side(node: Any, country: Any, stage: Any) -> str:
            if node is not None:
                return str(node)
            if stage is not None:
                return f"{country or ''}@{stage}"
            return str(country or "")

        left = side(self.node, self.country, self.stage)
        if self.kind == "edge":
            return f"{left}->{side(self.to_node, self.to_country, self.to_stage)}"
        return left

    def __str__(self) -> str:
        s = self.describe()
        return s if self.cut == 1.0 else f"{s}={self.cut:g}"


def _parse_side(side: str, text: str) -> tuple[str | None, str | None, str | None]:
    """Return (node, country, stage) of one selector side."""
    side = side.strip()
    if not side:
        raise ScenarioError(f"shock {text!r}: empty selector")
    if "@" in side:
        country, _, stage = side.partition("@")
        country, stage = country.strip(), stage.strip()
        if not stage or "@" in stage:
            raise ScenarioError(f"shock {text!r}: expected COUNTRY@STAGE or @STAGE, got {side!r}")
        return None, country or None, stage
    if _COUNTRY_RE.match(side):
        return None, side, None
    return side, None, None


def parse_shock(text: str) -> Shock:
    """Parse a shock from its text form.

    Parameters
    ----------
    text
        ``"CHN:separation"`` (node), ``"CHN"`` (country), ``"CHN@separation"`` (country in a
        stage), ``"@separation"`` (stage), ``"CHN@magnets->USA"`` / ``"CHN@magnets->USA@end_use"``
        / ``"@magnets->USA"`` (edges), each optionally followed by ``=CUT`` (default 1).

    Returns
    -------
    Shock

    Raises
    ------
    ScenarioError
        Empty selector, bad cut, or malformed ``@`` / ``->``.

    Examples
    --------
    >>> parse_shock("CHN@separation").cut
    1.0
    >>> s = parse_shock("@magnets->USA=0.5")
    >>> (s.kind, s.country, s.stage, s.to_country, s.cut)
    ('edge', None, 'magnets', 'USA', 0.5)
    """
    if not isinstance(text, str):
        raise ScenarioError(f"shock must be text, got {type(text).__name__}")
    raw = text.strip()
    cut = 1.0
    if "=" in raw:
        sel, _, cut_text = raw.rpartition("=")
        try:
            cut = float(cut_text)
        except ValueError:
            raise ScenarioError(f"shock {text!r}: cut {cut_text!r} is not a number") from None
        if not math.isfinite(cut) or not 0.0 <= cut <= 1.0:
            raise ScenarioError(f"shock {text!r}: cut must be in [0, 1], got {cut_text.strip()}")
        raw = sel.strip()
    if not raw:
        raise ScenarioError(f"shock {text!r}: empty selector")
    if "->" in raw:
        left, _, right = raw.partition("->")
        if "->" in right:
            raise ScenarioError(f"shock {text!r}: more than one '->'")
        n1, c1, s1 = _parse_side(left, text)
        n2, c2, s2 = _parse_side(right, text)
        return Shock("edge", n1, c1, s1, n2, c2, s2, cut=cut, text=raw)
    n1, c1, s1 = _parse_side(raw, text)
    return Shock("node", n1, c1, s1, cut=cut, text=raw)


def as_shocks(shocks: Any) -> list[Shock]:
    """Return a list of :class:`Shock` from a Shock, a text, or an iterable of either."""
    if shocks is None:
        return []
    if isinstance(shocks, Shock | str):
        shocks = [shocks]
    out: list[Shock] = []
    for s in shocks:
        if isinstance(s, Shock):
            out.append(s)
        elif isinstance(s, str):
            out.append(parse_shock(s))
        else:
            raise ScenarioError(f"not a shock: {s!r}")
    return out


def _as_set(v: StrFilter) -> set[str] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return {v}
    return {str(x) for x in v}


def _match(d: dict[str, Any], country: str | None, stage: str | None) -> bool:
    if country is not None and str(d.get("country")) != country:
        return False
    return not (stage is not None and str(d.get("stage")) != stage)


def _select_nodes(
    G: nx.DiGraph, node: str | None, country: str | None, stage: str | None, shock: Shock
) -> list[Any]:
    """Nodes matching one selector side; raises ScenarioError naming the selector if none."""
    if node is not None:
        if node in G:
            return [node]
        # "abc" that is not a node id may still be a (non-ISO) country code
        hits = [u for u, d in G.nodes(data=True) if str(d.get("country")) == node]
        if hits:
            return hits
        raise ScenarioError(f"shock {shock.describe()!r}: no node {node!r} in the graph")
    hits = [u for u, d in G.nodes(data=True) if _match(d, country, stage)]
    if not hits and country is not None and stage is None and country in G:
        return [country]  # a node id that looks like a country code
    if not hits:
        what = []
        if country is not None:
            what.append(f"country {country!r}")
        if stage is not None:
            what.append(f"stage {stage!r}")
        raise ScenarioError(
            f"shock {shock.describe()!r}: no node matches {' in '.join(what) or 'the selector'}"
        )
    return hits


def _edge_filters(G: nx.DiGraph, shock: Shock, v: Any) -> bool:
    d = G.nodes[v]
    dest = _as_set(shock.destination)
    if dest is not None and str(d.get("country")) not in dest:
        return False
    excl = _as_set(shock.except_destination)
    if excl is not None and str(d.get("country")) in excl:
        return False
    uses = _as_set(shock.end_use)
    return uses is None or str(d.get("end_use")) in uses


def _has_filters(shock: Shock) -> bool:
    return any(x is not None for x in (shock.destination, shock.except_destination, shock.end_use))


def resolve_shocks(
    G: nx.DiGraph, shocks: Shock | str | Iterable[Shock | str] | None
) -> tuple[dict[Any, float], dict[tuple[Any, Any], float]]:
    """Resolve shocks on a graph to per-node and per-edge cut fractions.

    Parameters
    ----------
    G
        The supply graph (not modified).
    shocks
        Shock objects or texts (see :func:`parse_shock`), or one of them.

    Returns
    -------
    node_cut : dict
        ``node -> cut`` in [0, 1] for node shocks.
    edge_cut : dict
        ``(u, v) -> cut`` in [0, 1] for edge shocks (and filtered node shocks).
        Several shocks on one target combine as ``1 - prod(1 - cut_i)``.

    Raises
    ------
    ScenarioError
        A selector matches no node (or no edge); the message names the selector.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("CHN:mining", stage="mining", country="CHN")
    >>> G.add_node("USA:magnets", stage="magnets", country="USA")
    >>> G.add_edge("CHN:mining", "USA:magnets", flow=1.0)
    >>> resolve_shocks(G, ["CHN=0.5", "CHN@mining=0.5"])
    ({'CHN:mining': 0.75}, {})
    >>> resolve_shocks(G, "CHN->USA=0.2")
    ({}, {('CHN:mining', 'USA:magnets'): 0.2})
    """
    node_cut: dict[Any, float] = {}
    edge_cut: dict[tuple[Any, Any], float] = {}
    for shock in as_shocks(shocks):
        cut = float(shock.cut)
        if shock.kind == "node" and not _has_filters(shock):
            for u in _select_nodes(G, shock.node, shock.country, shock.stage, shock):
                node_cut[u] = _combine(node_cut.get(u), cut)
            continue
        suppliers = _select_nodes(G, shock.node, shock.country, shock.stage, shock)
        targets = _customer_targets(G, shock)
        hits = 0
        for u in suppliers:
            for v in G.successors(u):
                if _customer_matches(G, shock, targets, v):
                    edge_cut[(u, v)] = _combine(edge_cut.get((u, v)), cut)
                    hits += 1
        if hits == 0:
            raise ScenarioError(f"shock {shock.describe()!r}: no edge matches the selector")
    return node_cut, edge_cut


def _customer_targets(G: nx.DiGraph, shock: Shock) -> set[Any] | None:
    """The explicit customer nodes of an edge shock (None: any customer matching its sides)."""
    if shock.kind == "edge" and shock.to_node is not None:
        return set(_select_nodes(G, shock.to_node, None, None, shock))
    return None


def _customer_matches(G: nx.DiGraph, shock: Shock, targets: set[Any] | None, v: Any) -> bool:
    """Whether a flow into ``v`` from one of the shock's suppliers is cut by the shock."""
    if targets is not None and v not in targets:
        return False
    if (
        shock.kind == "edge"
        and targets is None
        and not _match(G.nodes[v], shock.to_country, shock.to_stage)
    ):
        return False
    return _edge_filters(G, shock, v)


def pair_cuts(
    G: nx.DiGraph,
    shocks: Shock | str | Iterable[Shock | str] | None,
    pairs: Iterable[tuple[Any, Any]],
) -> dict[tuple[Any, Any], float]:
    """The cut each (supplier, customer) pair would get if it were a link, existing or not.

    Supply responses that let a customer buy from a new supplier (``substitution="stage"``) need
    to know whether an export rule covers that new link: a ban on China's magnet exports to the
    USA blocks every China-to-USA magnet link, not only today's. Node shocks without filters
    (plant shutdowns) cut no link and are ignored here.

    Parameters
    ----------
    G
        The supply graph.
    shocks
        As for :func:`resolve_shocks`.
    pairs
        (supplier, customer) node ids; they need not be edges of ``G``.

    Returns
    -------
    dict
        ``(u, v) -> cut`` for the pairs that at least one edge-cutting shock covers (combined
        as in :func:`resolve_shocks`).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> for n, c in (("CHN:magnets", "CHN"), ("USA:cars", "USA"), ("USA:wind", "USA")):
    ...     G.add_node(n, stage=n.split(":")[1], country=c)
    >>> G.add_edge("CHN:magnets", "USA:cars", flow=1.0)
    >>> pair_cuts(G, "CHN->USA", [("CHN:magnets", "USA:wind")])
    {('CHN:magnets', 'USA:wind'): 1.0}
    """
    wanted: dict[Any, list[Any]] = {}
    for u, v in pairs:
        wanted.setdefault(u, []).append(v)
    out: dict[tuple[Any, Any], float] = {}
    for shock in as_shocks(shocks):
        if shock.kind == "node" and not _has_filters(shock):
            continue
        targets = _customer_targets(G, shock)
        for u in _select_nodes(G, shock.node, shock.country, shock.stage, shock):
            for v in wanted.get(u, ()):
                if _customer_matches(G, shock, targets, v):
                    out[(u, v)] = _combine(out.get((u, v)), float(shock.cut))
    return out


def _combine(prev: float | None, cut: float) -> float:
    """Combine two independent cuts: ``1 - (1 - prev) * (1 - cut)`` (exact for one cut)."""
    if prev is None:
        return cut
    return float(min(1.0, max(0.0, 1.0 - (1.0 - prev) * (1.0 - cut))))


def with_cut(shock: Shock, cut: float) -> Shock:
    """Return a copy of ``shock`` with another cut fraction."""
    return replace(shock, cut=cut)
