"""The interactive network view: one self-contained, offline HTML file per supply graph.

The view lays the graph out left to right, one column per stage. Nodes are coloured by country
from a fixed colour-blind-safe palette, sized by their share of their stage, and chokepoints are
drawn as diamonds with a thick dark outline; edge width is proportional to flow. With shocks, the
fill shows how much of its normal output each node keeps and the outline shows its country.

Levels of detail (``detail``):

* ``"full"`` (the default up to :data:`FULL_DETAIL_MAX` nodes): every node and edge, laid out by
  vis-network's hierarchical layout (above 5,000 nodes supplygraph computes the same columns
  itself). This is the view of the built-in 44-node dataset.
* ``"overview"`` (the default above that): the page opens on one cell per country x stage (the
  top :data:`OVERVIEW_COUNTRIES` countries of each stage by output, plus one "rest" cell), sized
  by the cell's share of its stage, with flows summed between cells. A click expands a cell in
  place into its largest members (and a "+N more" node); several cells can be open at once.

At every level: a **focus** on one node shows its upstream and/or downstream chain (depth 1, 2
or all; over the budget the rest of the chain stays aggregated in its cells, totals kept),
**search** by id or label, and **filters** by stage, country and minimum flow, which fade what
they leave out rather than hide it. The whole graph is embedded once in a compact columnar form
(:mod:`supplygraph.viewdata`, about 9 MB at 100,000 nodes); vis-network is only ever handed
what is shown (at most :data:`MAX_VISIBLE` nodes), and the page's global ``network`` stays the
vis Network.

With a scenario (or shocks), a **what-if panel** (:mod:`supplygraph.whatif`) gives one slider
per shock (approval rate) and per capacity scale, recomputes the linear model live in the page,
and copies the slider settings as a scenario file; ``highlight`` colours chosen nodes and edges
(for example a scenario's binding constraints) with one legend entry per label.

The page is rendered with supplygraph's own template (jinja2 with autoescaping); in full detail
pyvis's :class:`~pyvis.network.Network` is the data model. vis-network's JavaScript and CSS --
shipped inside the pyvis package -- are inlined, so the file makes no request to any host; a
Content-Security-Policy (``default-src 'none'``, scripts pinned by SHA-256) enforces that in the
browser. Data reaches the page only as JSON inside ``<script type="application/json">`` blocks
(``<``, ``>`` and ``&`` escaped), labels are drawn on the canvas, and tooltips and panel entries
are DOM text nodes, so no text from the data can become markup.

The vis ``Network`` instance is the page's global ``network`` (as in pyvis's own template), so
scripts and tests can inspect it, e.g. ``network.body.data.nodes.length``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError, SupplyGraphError
from supplygraph.viewdata import vis_ids

if TYPE_CHECKING:
    import os

    import networkx as nx
    import pandas as pd


__all__ = [
    "COUNTRY_PALETTE",
    "FULL_DETAIL_MAX",
    "HIGHLIGHT_PALETTE",
    "MAX_VISIBLE",
    "OTHER_COLOR",
    "network_html",
    "visualize",
]

#: Colour-blind-safe categorical palette (Okabe & Ito 2008, then Paul Tol's "muted" scheme),
#: assigned to countries in order of their summed stage shares (largest first, ties by code).
COUNTRY_PALETTE: tuple[str, ...] = (
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#882255",  # wine
    "#56B4E9",  # sky blue
    "#44AA99",  # teal
    "#999933",  # olive
    "#332288",  # indigo
    "#DDCC77",  # sand
    "#F0E442",  # yellow (last: faint on white)
)
#: Colour of countries beyond the palette and of aggregates (rest of world, unknown).
OTHER_COLOR = "#BBBBBB"

#: Colours of ``highlight`` labels, in order of first appearance: saturated hues that none of
#: the country colours is close to, drawn as a halo around nodes and as the colour of edges.
HIGHLIGHT_PALETTE: tuple[str, ...] = ("#E6007E", "#00B8D9", "#6A00F4", "#2E7D32", "#111111")

#: Sequential ramp for "remaining output" (0 -> 1), colour-blind safe (Tol's YlOrBr, reversed).
REMAINING_RAMP: tuple[str, ...] = (
    "#662506",
    "#993404",
    "#CC4C02",
    "#EC7014",
    "#FB9A29",
    "#FEC44F",
    "#FEE391",
    "#FFF7BC",
    "#FFFFE5",
)

#: Up to this many nodes the view opens in full detail; above, on the country x stage overview.
FULL_DETAIL_MAX = 300
#: Most nodes the page ever hands vis-network at once (overview, expanded cells, focus).
MAX_VISIBLE = 1500
#: Most edges drawn at once (the largest flows; the status line says how many are left out).
#: vis-network takes about 0.05-0.1 ms per edge it is handed (measured in headless Chromium
#: at 100,000 nodes: 2,000 edges cost 65-105 ms of a focus, 1,000 edges 45-50 ms).
MAX_VISIBLE_EDGES = 1200
#: Nodes of a focused chain drawn on their own (the largest); the rest stay summed in their
#: cells. With the edge cap above this keeps a focus on an end use (a cone of 30,000 nodes at
#: 100,000) near 150 ms instead of 200-260 ms with 600 nodes and 2,000 edges.
FOCUS_NODES = 450
#: Of those, at most this many per stage (the largest; the rest stay summed in their cells), so
#: that no column of a focused chain grows so tall that fitting it squeezes the others.
FOCUS_PER_STAGE = 40
#: Countries per stage with their own overview cell; the others share one "rest" cell.
OVERVIEW_COUNTRIES = 10
#: Members shown when a cell is expanded (the rest in a "+N more" node, which expands further).
EXPAND_MEMBERS = 200

_CHOKEPOINT_BORDER = "#1F2933"
_SHOCK_EDGE = "#7B8794"
_GREY_COUNTRIES = frozenset({"ROW", "XXX"})  # rest of world / unknown: always grey
_LARGE = 400  # above this many nodes, switch off the costlier layout passes and curved edges
# above this many nodes vis's hierarchical layout turns superlinear (10,000 nodes did not finish
# in 10 minutes in headless Chromium; 5,000 took 5 s), so supplygraph computes the columns itself
_HIERARCHICAL_MAX = 5000
_LEGEND_CHOKEPOINTS = 12
_MIN_SIZE, _SIZE_RANGE = 5.0, 17.0  # node radius (px) = min + range * sqrt(share of stage)
_MIN_SHOCK_SIZE = 8.0  # with shocks, nodes need room for the fill inside the country ring
_FONT = 18  # label size in canvas units (px at zoom 1)

_VIS_DIR = "vis-9.1.2"
_DETAILS = ("auto", "full", "overview")


# ---------------------------------------------------------------------------------------------
# public API


def visualize(
    G: nx.DiGraph,
    path: str | os.PathLike[str] | None = None,
    *,
    shocks: Any = None,
    model: str = "linear",
    dependency: pd.DataFrame | None = None,
    chokepoints: pd.DataFrame | None = None,
    title: str | None = None,
    threshold: float = 0.5,
    max_countries: int = len(COUNTRY_PALETTE),
    labels: str = "short",
    highlight: Mapping[Any, str] | None = None,
    detail: str = "auto",
    whatif: Iterable[Any] | None = None,
    points: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    source_text: str = "SOURCE",
) -> Any:
    """Write an interactive, offline network view of ``G`` to one HTML file (or return it).

    Parameters
    ----------
    G
        A supply graph (see :mod:`supplygraph.schema`). It is not modified.
    path
        The HTML file to write (written atomically; folders are created). When None, nothing
        is written and a :class:`supplygraph.notebook.View` is returned, which displays inline
        in Jupyter (an ``<iframe srcdoc>``: offline, no file in the working folder).
    shocks
        Optional shocks to show: anything :func:`supplygraph.disrupt` accepts (a shock string
        such as ``"CHN@separation"``, a :class:`~supplygraph.analysis.shocks.Shock`, a list of
        them, a scenario), or a ready ``DisruptionResult``. Nodes are then shaded by the fraction
        of their normal output that remains, and the what-if panel opens on these shocks.
    model
        ``"linear"`` or ``"leontief"``: the propagation model for dependency, chokepoints and
        shocks. The what-if panel recomputes the linear model live; for Leontief it shows
        precomputed points or the command that gives the numbers.
    dependency
        Optional precomputed :func:`supplygraph.dependency` table (index nodes, columns
        targets). When given, the tooltips' dependency and loss-if-removed figures come from it;
        otherwise from the chokepoints table.
    chokepoints
        A precomputed :func:`supplygraph.chokepoints` table (its node rows are used); computed
        with ``kind="node"`` when None. Nodes with ``n_targets_at_threshold`` > 0 are drawn as
        chokepoints.
    title
        Page title; defaults to the graph's ``name``.
    threshold
        Chokepoint threshold passed to :func:`supplygraph.chokepoints` when it is computed.
    max_countries
        How many countries get their own colour (at most the palette's 12); the rest are grey.
    labels
        ``"short"`` (default): draw a compact name next to each node -- ``"CHN"`` for the id
        ``"CHN:separation"`` in the separation column, ``"CHN vehicles"`` for ``"CHN:vehicles"``,
        else the label -- followed by its share of the stage; ``"full"``: the node's ``label``
        (or id). Tooltips always show the full label.
    highlight
        ``{node id or (u, v) edge: label}``, e.g. ``{"CHN:separation": "binding capacity",
        ("CHN:magnets", "USA:vehicles"): "binding licence cap"}``. Each label gets its own
        colour from :data:`HIGHLIGHT_PALETTE` (a halo around nodes, the colour of edges; cells
        of the overview that hold a highlighted node get the halo too) and a legend entry with
        its count.
    detail
        ``"auto"`` (full detail up to :data:`FULL_DETAIL_MAX` nodes, else the overview),
        ``"full"`` or ``"overview"``.
    whatif
        Scenarios for the what-if panel (Scenario objects, built-in names or TOML paths; a
        scenario given as ``shocks`` is added first). The panel lets the reader pick one.
    points
        Precomputed panel points per scenario name (see :mod:`supplygraph.whatif` and
        :func:`supplygraph.whatif.precompute_points`), shown for models the page cannot run.
    source_text
        How the data source is written in the command lines the panel shows.

    Returns
    -------
    Path or View
        The path written, or (``path=None``) the view for a notebook.

    Raises
    ------
    InputError
        Unknown model, labels or detail; a ``highlight`` key that is not a node or an edge.

    Examples
    --------
    >>> import supplygraph as sg
    >>> G = sg.load("rare-earths")
    >>> sg.visualize(G, "network.html", shocks="CHN@separation")  # doctest: +SKIP
    PosixPath('network.html')
    >>> sg.visualize(G, highlight={"CHN:separation": "binding capacity"})  # doctest: +SKIP
    <View: rare-earths, 44 nodes, 168 flows>
    """
    html = network_html(
        G,
        shocks=shocks,
        model=model,
        dependency=dependency,
        chokepoints=chokepoints,
        title=title,
        threshold=threshold,
        max_countries=max_countries,
        labels=labels,
        highlight=highlight,
        detail=detail,
        whatif=whatif,
        points=points,
        source_text=source_text,
    )
    if path is None:
        from supplygraph.notebook import View

        return View(html, summary=_summary(G))
    from supplygraph.io.safe_text import atomic_write

    return atomic_write(path, html)


def _summary(G: nx.DiGraph) -> str:
    name = str(G.graph.get("name") or "supply graph")
    return f"{name}, {G.number_of_nodes():,} nodes, {G.number_of_edges():,} flows"


def network_html(
    G: nx.DiGraph,
    *,
    shocks: Any = None,
    model: str = "linear",
    dependency: pd.DataFrame | None = None,
    chokepoints: pd.DataFrame | None = None,
    title: str | None = None,
    threshold: float = 0.5,
    max_countries: int = len(COUNTRY_PALETTE),
    labels: str = "short",
    highlight: Mapping[Any, str] | None = None,
    detail: str = "auto",
    whatif: Iterable[Any] | None = None,
    points: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    source_text: str = "SOURCE",
) -> str:
    """Return the network view of ``G`` as one self-contained HTML document (a string).

    Takes the same parameters as :func:`visualize` (except ``path``). Useful to embed the view
    elsewhere, e.g. in a notebook as ``<iframe srcdoc=...>``.

    Returns
    -------
    str
        The HTML document: no external resources, scripts pinned by a Content-Security-Policy.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["mining", "refining"])
    >>> G.add_node("A", stage="mining", country="AUS", value=2.0, unit="t")
    >>> G.add_node("B", stage="refining", country="CHN", value=2.0, unit="t")
    >>> G.add_edge("A", "B", flow=2.0)
    >>> html = network_html(G, dependency=None, chokepoints=None)  # doctest: +SKIP
    >>> "https://" in html  # doctest: +SKIP
    False
    """
    if model not in ("linear", "leontief"):
        msg = f"unknown model {model!r}: use 'linear' or 'leontief'"
        raise InputError(msg)
    if labels not in ("short", "full"):
        msg = f"unknown labels {labels!r}: use 'short' or 'full'"
        raise InputError(msg)
    if detail not in _DETAILS:
        msg = f"unknown detail {detail!r}: use {', '.join(repr(d) for d in _DETAILS)}"
        raise InputError(msg)
    max_countries = max(0, min(int(max_countries), len(COUNTRY_PALETTE)))
    spec = _build_spec(
        G,
        shocks=shocks,
        model=model,
        dependency=dependency,
        chokepoints=chokepoints,
        title=title,
        threshold=threshold,
        max_countries=max_countries,
        labels=labels,
        highlight=highlight,
        detail=detail,
        whatif=whatif,
        points=points,
        source_text=source_text,
    )
    return _render(spec)


# ---------------------------------------------------------------------------------------------
# numbers for the view (all analysis comes from supplygraph.analysis; this only formats it)


def _num(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _stages(G: nx.DiGraph) -> list[str]:
    stages = [str(s) for s in (G.graph.get("stages") or [])]
    seen = set(stages)
    for _, data in G.nodes(data=True):
        stage = data.get("stage")
        stage = "(no stage)" if stage is None or stage == "" else str(stage)
        if stage not in seen:
            seen.add(stage)
            stages.append(stage)
    return stages


def _node_stage(data: Mapping[str, Any]) -> str:
    stage = data.get("stage")
    return "(no stage)" if stage is None or stage == "" else str(stage)


def _node_country(data: Mapping[str, Any]) -> str:
    country = data.get("country")
    return "XXX" if country is None or country == "" else str(country)


def _country_name(code: str) -> str:
    from supplygraph.schema import AGGREGATE_COUNTRIES

    if code in AGGREGATE_COUNTRIES:
        return AGGREGATE_COUNTRIES[code]
    try:
        import pycountry

        found = pycountry.countries.get(alpha_3=code.upper()) if len(code) == 3 else None
    except (ImportError, LookupError, KeyError):  # pragma: no cover - pycountry is a dependency
        found = None
    if found is None:
        return ""
    return getattr(found, "common_name", None) or found.name


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "n/a"
    if x == 0:
        text = "0"
    elif abs(x) >= 1000:
        text = f"{x:,.0f}"
    elif abs(x) >= 1:
        text = f"{x:,.4g}"
    else:
        text = f"{x:.3g}"
    return f"{text} {unit}".strip()


def _share_text(x: float) -> str:
    """A share as a whole percentage; ``<1 %`` rather than ``0 %`` for a small positive share."""
    if 0 < x < 0.005:
        return "<1 %"
    return f"{100 * x:.0f} %"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _hhi_table(G: nx.DiGraph) -> dict[str, tuple[float | None, str]]:
    """Return {stage: (HHI on the 0-10,000 scale, concentration level text)}."""
    from supplygraph.analysis.concentration import concentration

    table = concentration(G)
    out: dict[str, tuple[float | None, str]] = {}
    for stage, row in table.iterrows():
        level = row.get("level", "")
        out[str(stage)] = (_num(row.get("hhi")), "" if level is None else str(level))
    return out


def _country_stage_shares(G: nx.DiGraph) -> dict[tuple[str, str], float]:
    """Return {(stage, country): share of stage} from :func:`supplygraph.stage_shares`."""
    from supplygraph.analysis.concentration import stage_shares

    table = stage_shares(G, include_reserves=False)
    out: dict[tuple[str, str], float] = {}
    for row in table.itertuples(index=False):
        share = _num(row.share)
        if share is not None:
            out[(str(row.stage), str(row.country))] = share
    return out


def _node_metrics(G: nx.DiGraph, table: pd.DataFrame | None) -> dict[Any, dict[str, Any]]:
    """Return {node: its row of a :func:`supplygraph.chokepoints` table} for the node rows.

    Rows of ``kind`` ``"country-stage"`` are left out; the table's index holds ``str(node)``.
    """
    if table is None or len(table) == 0:
        return {}
    by_text = {str(n): n for n in G.nodes}
    frame = table
    if "kind" in frame.columns:
        frame = frame[frame["kind"] == "node"]
    out: dict[Any, dict[str, Any]] = {}
    # column lists, not DataFrame.to_dict("records"): 10x faster on 100,000 rows
    names = [str(c) for c in frame.columns]
    columns = [frame[c].tolist() for c in frame.columns]
    for i, idx in enumerate(frame.index.tolist()):
        node = idx if _is_node(G, idx) else by_text.get(str(idx))
        if node is not None and node not in out:
            out[node] = {name: col[i] for name, col in zip(names, columns, strict=True)}
    return out


def _chokepoint_nodes(metrics: Mapping[Any, Mapping[str, Any]]) -> list[Any]:
    """Return the nodes that count as chokepoints, worst first.

    A node is a chokepoint when at least one target would lose ``threshold`` or more of its
    output without it (``n_targets_at_threshold`` > 0 in :func:`supplygraph.chokepoints`); a
    table without that column marks every node row.
    """
    flagged = [
        n
        for n, row in metrics.items()
        if "n_targets_at_threshold" not in row or (_num(row["n_targets_at_threshold"]) or 0) > 0
    ]
    position = {n: i for i, n in enumerate(metrics)}
    return sorted(flagged, key=lambda n: (_num(metrics[n].get("rank")) or 0, position[n]))


def _dependency_metrics(G: nx.DiGraph, dep: pd.DataFrame) -> dict[Any, dict[str, Any]]:
    """Return {node: max_dependency, max_dependency_target, weighted_loss} from a dependency table."""
    from supplygraph.analysis.chokepoints import target_weights

    targets = list(dep.columns)
    weights = target_weights(G, targets).reindex(targets).fillna(0.0).to_numpy(dtype=float)
    frame = dep.astype(float).fillna(0.0).clip(0.0, 1.0)
    arr = frame.to_numpy()
    out: dict[Any, dict[str, Any]] = {}
    for i, node in enumerate(frame.index):
        row = arr[i].copy()
        own = [j for j, t in enumerate(targets) if t == node]
        row[own] = 0.0
        best = int(row.argmax()) if row.size else 0
        most = float(row[best]) if row.size else 0.0
        out[node] = {
            "max_dependency": most,
            "max_dependency_target": targets[best] if most > 0 else None,
            "weighted_loss": float(row @ weights) if row.size else 0.0,
        }
    return out


def _disruption(G: nx.DiGraph, shocks: Any, model: str) -> Any:
    """Return a ``DisruptionResult``: ``shocks`` itself when it is one, else ``disrupt(...)``."""
    if isinstance(getattr(shocks, "nodes", None), _frame_type()):
        return shocks
    from supplygraph.analysis.disruption import disrupt

    return disrupt(G, shocks, model=model)


def _is_scenario(obj: Any) -> bool:
    """True for a :class:`supplygraph.analysis.scenarios.Scenario` (shocks plus capacity)."""
    return hasattr(obj, "shocks") and hasattr(obj, "capacity") and not hasattr(obj, "nodes")


def _frame_type() -> type:
    import pandas as pd

    return pd.DataFrame


def _remaining(result: Any) -> dict[Any, float]:
    """{node: fraction of its normal output that remains}, from ``result.nodes``."""
    table = result.nodes
    if "remaining" in table.columns:
        frac = table["remaining"].astype(float)
    else:
        frac = 1.0 - table["loss_share"].astype(float)
    frac = frac.fillna(1.0).clip(0.0, 1.0)
    return dict(zip(table.index, frac.tolist(), strict=True))


def _shock_text(shock: Any, *, with_label: bool = False) -> str:
    """A shock as one line: its selector as written, the cut unless it is a ban, its label."""
    if isinstance(shock, str):
        return shock
    text = getattr(shock, "text", None) or str(shock)
    cut = _num(getattr(shock, "cut", None))
    line = text if cut is None or cut == 1.0 else f"{text} ({100 * cut:.0f} % cut)"
    label = getattr(shock, "label", None) if with_label else None
    return f"{line}: {label}" if label else line


def _ramp_color(x: float) -> str:
    """Colour for a remaining fraction ``x`` in [0, 1], interpolated on :data:`REMAINING_RAMP`."""
    x = min(1.0, max(0.0, x))
    pos = x * (len(REMAINING_RAMP) - 1)
    i = min(int(pos), len(REMAINING_RAMP) - 2)
    t = pos - i
    a = [int(REMAINING_RAMP[i][k : k + 2], 16) for k in (1, 3, 5)]
    b = [int(REMAINING_RAMP[i + 1][k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * t):02X}" for k in range(3))


def _country_colors(
    G: nx.DiGraph, stage_share: dict[tuple[str, str], float], max_countries: int
) -> dict[str, str]:
    """Map countries to colours: the largest (by summed stage shares) get the palette."""
    weight: dict[str, float] = {}
    for _, data in G.nodes(data=True):
        weight.setdefault(_node_country(data), 0.0)
    for (_, country), share in stage_share.items():
        weight[country] = weight.get(country, 0.0) + share
    ranked = sorted(weight, key=lambda c: (-weight[c], c))
    colors: dict[str, str] = {}
    k = 0
    for country in ranked:
        if country in _GREY_COUNTRIES or k >= max_countries:
            colors[country] = OTHER_COLOR
        else:
            colors[country] = COUNTRY_PALETTE[k]
            k += 1
    return colors


def _display_label(node: Any, data: Mapping[str, Any], stage: str) -> str:
    """The text drawn under a node: its ``label``, else its id without the column's stage.

    ``"CHN:separation"`` in the separation column shows as ``"CHN"``; ``"USA:defense"`` in the
    end-use column as ``"USA defense"``.
    """
    label = data.get("label")
    if label is not None and label != "" and str(label) != str(node):
        return str(label)
    text = str(node)
    head, sep, tail = text.partition(":")
    if sep and head and tail:
        return head if tail == stage else f"{head} {tail.replace('_', ' ')}"
    return text


def _short_label(node: Any, country: str, stage: str, full: str) -> str:
    """The compact text drawn next to a node.

    Ids that follow the ``"<country>:<stage or end use>"`` convention give ``"CHN"`` (the stage
    is the column's) or ``"CHN vehicles"``; any other node shows its (shortened) full label.
    """
    head, sep, tail = str(node).partition(":")
    if sep and tail and head == country:
        return country if tail == stage else f"{country} {tail.replace('_', ' ')}"
    return full if len(full) <= 32 else full[:31] + "…"


class _IdList(list):
    """pyvis keeps node ids in a list and tests membership for every edge (O(n) each); this list
    answers ``in`` from a set so building a large view stays linear."""

    def __init__(self) -> None:
        super().__init__()
        self._set: set[Any] = set()

    def append(self, item: Any) -> None:
        self._set.add(item)
        super().append(item)

    def __contains__(self, item: object) -> bool:
        return item in self._set


@dataclass
class _Analysis:
    """What the view shows, computed once for every level of detail."""

    H: Any
    stages: list[str]
    level_of: dict[str, int]
    qty: dict[Any, float]
    has_values: bool
    stage_share: dict[tuple[str, str], float]
    hhi: dict[str, tuple[float | None, str]]
    metrics: dict[Any, dict[str, Any]]
    cp_nodes: list[Any]
    cp_rank: dict[Any, int]
    colors: dict[str, str]
    ids: dict[Any, str]
    shocks: Any = None
    result: Any = None
    remaining: dict[Any, float] = field(default_factory=dict)
    shocked_nodes: set[Any] = field(default_factory=set)
    shocked_edges: set[tuple[Any, Any]] = field(default_factory=set)


def _build_spec(
    G: nx.DiGraph,
    *,
    shocks: Any,
    model: str,
    dependency: pd.DataFrame | None,
    chokepoints: pd.DataFrame | None,
    title: str | None,
    threshold: float,
    max_countries: int,
    labels: str,
    highlight: Mapping[Any, str] | None = None,
    detail: str = "auto",
    whatif: Iterable[Any] | None = None,
    points: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    source_text: str = "SOURCE",
) -> dict[str, Any]:
    import networkx as nx

    if not isinstance(G, nx.DiGraph):
        msg = f"visualize needs a networkx DiGraph, got {type(G).__name__}"
        raise InputError(msg)
    # nothing below modifies a graph: the scenario's world is a copy (apply_capacity)
    H = G
    scenario_line = ""
    primary: Any = None  # the scenario the what-if panel opens on
    if _is_scenario(shocks):
        from supplygraph.analysis.scenarios import apply_capacity

        primary = shocks
        H = apply_capacity(H, shocks)  # the scenario's world: capacity changes first
        scenario_line = f"Scenario: {shocks.name}" + (
            f" — {shocks.description}" if getattr(shocks, "description", "") else ""
        )
        shocks = list(shocks.shocks)
    stages = _stages(H)
    level_of = {s: i for i, s in enumerate(stages)}
    n_nodes = H.number_of_nodes()

    # analysis results (computed by supplygraph.analysis unless given)
    from supplygraph.analysis.concentration import node_quantities

    # node share of its stage, from the same quantities the concentration indices use
    qty: dict[Any, float] = node_quantities(H).to_dict() if n_nodes else {}
    has_values = any(v > 0 for v in qty.values())
    stage_share = _country_stage_shares(H) if has_values else {}
    hhi = _hhi_table(H) if has_values else {}
    if chokepoints is None and n_nodes and has_values:
        from supplygraph.analysis.chokepoints import chokepoints as compute_chokepoints

        chokepoints = compute_chokepoints(H, threshold=threshold, model=model, kind="node")
    metrics = _node_metrics(H, chokepoints)
    if dependency is not None:
        for node, values in _dependency_metrics(H, dependency).items():
            metrics.setdefault(node, {}).update(values)
    cp_nodes = _chokepoint_nodes(metrics) if chokepoints is not None else []
    ctx = _Analysis(
        H=H,
        stages=stages,
        level_of=level_of,
        qty=qty,
        has_values=has_values,
        stage_share=stage_share,
        hhi=hhi,
        metrics=metrics,
        cp_nodes=cp_nodes,
        cp_rank={n: i + 1 for i, n in enumerate(cp_nodes)},
        colors=_country_colors(H, stage_share, max_countries),
        ids=vis_ids(H),
        shocks=shocks,
    )
    shock_lines: list[str] = []
    shock_details: list[str] = []
    if shocks is not None:
        result = ctx.result = _disruption(H, shocks, model)
        ctx.remaining = _remaining(result)
        node_cut = getattr(result, "node_cut", None) or {}
        edge_cut = getattr(result, "edge_cut", None) or {}
        ctx.shocked_nodes = {n for n, cut in node_cut.items() if cut}
        ctx.shocked_edges = {e for e, cut in edge_cut.items() if cut}
        applied = list(getattr(result, "shocks", None) or [])
        shock_lines = [_shock_text(s) for s in applied] or ["(no shock text given)"]
        shock_details = [_shock_text(s, with_label=True) for s in applied] or shock_lines
        if primary is None and applied:
            from supplygraph.whatif import adhoc_scenario

            primary = adhoc_scenario(applied, name="shocks")

    full = detail == "full" or (detail == "auto" and n_nodes <= FULL_DETAIL_MAX)
    if full:
        nodes, edges, options, max_flow, flow_unit = _full_items(ctx, labels=labels)
    else:
        nodes, edges, options = [], [], _overview_options()
        max_flow, flow_unit = 0.0, ""
    from supplygraph.compiled import compile_graph
    from supplygraph.viewdata import graph_payload

    cg = compile_graph(H)
    legend = _legend_countries(H, ctx.colors)
    country_order = _country_order(H, ctx.colors)
    graph = graph_payload(
        H,
        cg,
        ids=ctx.ids,
        stages=stages,
        countries=country_order,
        qty=qty,
        metrics=metrics,
        cp_rank=ctx.cp_rank,
    )
    graph["countries"] = country_order
    graph["country_color"] = [ctx.colors[c] for c in country_order]
    graph["country_name"] = [_country_name(c) for c in country_order]
    graph["hhi"] = [list(hhi.get(s, (None, ""))) for s in stages]
    if ctx.result is not None:
        from supplygraph.viewdata import b64

        h = [ctx.remaining.get(v, 1.0) for v in cg.nodes]
        graph["remaining"] = b64(_np_array(h), "f8")
    marks = _highlight(H, cg, highlight)
    panel = _whatif_panels(
        H, primary, whatif, model=model, points=points, source=source_text, result=ctx.result
    )

    name = str(H.graph.get("name") or "supply graph")
    page_title = title if title else f"{name}: supply network"
    subtitle = [
        f"{n_nodes:,} nodes, {H.number_of_edges():,} flows, {len(stages)} stages "
        f"({' → '.join(stages)})" + (f"; propagation model: {model}" if has_values else "")
    ]
    if scenario_line:
        subtitle.append(scenario_line)
    if shock_lines:
        subtitle.append("Shock: " + "; ".join(shock_lines))
    cp_names = []
    for node in cp_nodes[:_LEGEND_CHOKEPOINTS]:
        data = H.nodes[node]
        cp_names.append(f"{_display_label(node, data, _node_stage(data))} ({_node_stage(data)})")
    if not has_values:
        cp_note = "None computed (the nodes carry no output values)."
    else:
        cp_note = f"None above the threshold ({threshold:g})."
    return {
        "title": page_title,
        "subtitle": subtitle,
        "aria_label": f"Network of {n_nodes} nodes in {len(stages)} stage columns",
        "mode": "full" if full else "overview",
        "nodes": nodes,
        "edges": edges,
        "options": options,
        "stages": stages,
        "countries": legend,
        "chokepoints": cp_names,
        "chokepoints_more": max(0, len(cp_nodes) - _LEGEND_CHOKEPOINTS),
        "chokepoint_note": cp_note,
        "shock": shock_details,
        "max_flow": _fmt(max_flow, flow_unit) if max_flow > 0 else "",
        "graph": graph,
        "highlight": marks,
        "whatif": panel,
        "model": model,
    }


def _np_array(values: Sequence[float]) -> Any:
    import numpy as np

    return np.asarray(values, dtype=float)


def _full_items(
    ctx: _Analysis, *, labels: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], float, str]:
    """Every node and edge as vis items (pyvis's data model): the full-detail level.

    Returns (nodes, edges, vis options, largest flow, its unit).
    """
    _import_pyvis_network()
    from pyvis.network import Network

    H, stages, level_of, qty = ctx.H, ctx.stages, ctx.level_of, ctx.qty
    stage_share, hhi, metrics, colors, ids = (
        ctx.stage_share,
        ctx.hhi,
        ctx.metrics,
        ctx.colors,
        ctx.ids,
    )
    cp_nodes, cp_rank, shocks, result = ctx.cp_nodes, ctx.cp_rank, ctx.shocks, ctx.result
    remaining, shocked_nodes, shocked_edges = (
        ctx.remaining,
        ctx.shocked_nodes,
        ctx.shocked_edges,
    )
    n_nodes = H.number_of_nodes()
    stage_total: dict[str, float] = {}
    for node, data in H.nodes(data=True):
        stage = _node_stage(data)
        stage_total[stage] = stage_total.get(stage, 0.0) + qty.get(node, 0.0)

    # short labels, unless two nodes of one stage would read the same
    short_text: dict[Any, str] = {}
    if labels == "short":
        seen: dict[tuple[str, str], int] = {}
        for node, data in H.nodes(data=True):
            stage, country = _node_stage(data), _node_country(data)
            full = _display_label(node, data, stage)
            short_text[node] = _short_label(node, country, stage, full)
            key = (stage, short_text[node])
            seen[key] = seen.get(key, 0) + 1
        for node, data in H.nodes(data=True):
            stage = _node_stage(data)
            if seen[(stage, short_text[node])] > 1:
                full = _display_label(node, data, stage)
                short_text[node] = full if len(full) <= 32 else full[:31] + "…"
    max_size = _MIN_SIZE
    net = Network(directed=True, height="100%", width="100%")
    net.node_ids = _IdList()  # see _IdList

    for node, data in H.nodes(data=True):
        stage = _node_stage(data)
        country = _node_country(data)
        value = _num(data.get("value"))
        if value is None and qty.get(node):
            value = qty[node]
        unit = str(data.get("unit") or "")
        total = stage_total.get(stage, 0.0)
        share = qty.get(node, 0.0) / total if total > 0 else None
        label = _display_label(node, data, stage)
        lines = [f"{label} — {stage}"]
        if str(node) != label:
            lines.append(f"Node: {node}")
        name = _country_name(country)
        lines.append(f"Country: {country}" + (f" ({name})" if name else ""))
        lines.append(f"Stage: {stage} (column {level_of[stage] + 1} of {len(stages)})")
        if data.get("end_use"):
            lines.append(f"End use: {data['end_use']}")
        lines.append(f"Value: {_fmt(value, unit)}")
        country_share = stage_share.get((stage, country))
        share_text = f"Share of stage: {_pct(share)}"
        if country_share is not None and (share is None or abs(country_share - share) > 5e-4):
            share_text += f" (all of {country}: {_pct(country_share)})"
        lines.append(share_text)
        if stage in hhi:
            h, lvl = hhi[stage]
            lines.append(f"Stage HHI: {_fmt(h)}" + (f" ({lvl})" if lvl else ""))
        m = metrics.get(node, {})
        most, target = _num(m.get("max_dependency")), m.get("max_dependency_target")
        if most is not None and most > 0 and target is not None:
            lines.append(f"Dependency: {_pct(most)} of {target} output relies on this node")
        elif most is not None:
            lines.append("Dependency: no downstream output relies on this node")
        if _num(m.get("weighted_loss")) is not None:
            lines.append(f"Loss if removed: {_pct(_num(m['weighted_loss']))} of end-use output")
        if node in cp_rank:
            lines.append(f"Chokepoint {cp_rank[node]} of {len(cp_nodes)}")
        if m.get("reason"):
            lines.append(f"Why: {m['reason']}")
        if shocks is not None:
            left = remaining.get(node, 1.0)
            lost_amount = (1.0 - left) * value if value is not None else None
            lines.append(
                f"After the shock: {_pct(left)} of output remains"
                + (f" (lost {_fmt(lost_amount, unit)})" if lost_amount else "")
            )
            if node in shocked_nodes:
                cut = (getattr(result, "node_cut", None) or {}).get(node)
                lines.append("Shocked directly" + (f": {_pct(_num(cut))} cut" if cut else ""))
        prov = [
            str(data[k]) for k in ("source", "year", "evidence") if data.get(k) not in (None, "")
        ]
        if prov:
            lines.append("Source: " + ", ".join(prov))

        size = _MIN_SIZE + _SIZE_RANGE * math.sqrt(share) if share is not None else _MIN_SIZE
        max_size = max(max_size, size)
        country_color = colors.get(country, OTHER_COLOR)
        is_cp = node in cp_rank
        options: dict[str, Any] = {
            "title": "\n".join(lines),
            "level": level_of[stage],
            "size": round(size, 2),
            "stage": stage,
            "country": country,
            "borderWidth": 4 if is_cp else 1.5,
        }
        text = short_text[node] if labels == "short" else label
        if share is not None:
            text = f"{text} · {_share_text(share)}"
        options["text"] = text
        if shocks is not None:
            fill = _ramp_color(remaining.get(node, 1.0))
            border = _CHOKEPOINT_BORDER if is_cp else country_color
            options["borderWidth"] = 4 if is_cp else 3
            options["size"] = round(max(size, _MIN_SHOCK_SIZE), 2)  # room for fill and ring
            options["remaining"] = round(remaining.get(node, 1.0), 6)
            if node in shocked_nodes:
                options["shapeProperties"] = {"borderDashes": [6, 4]}
        else:
            fill = country_color
            border = _CHOKEPOINT_BORDER if is_cp else "#FFFFFF"
        options["color"] = {
            "background": fill,
            "border": border,
            "highlight": {"background": fill, "border": "#000000"},
            "hover": {"background": fill, "border": "#000000"},
        }
        net.add_node(
            ids[node],
            label=" ",  # dropped below: the page draws ``text`` right of the node (network.js)
            shape="diamond" if is_cp else "dot",
            **options,
        )

    flows = [_num(d.get("flow")) or 0.0 for _, _, d in H.edges(data=True)]
    max_flow = max([f for f in flows if f > 0], default=0.0)
    widest_unit = ""
    for k, (u, v, data) in enumerate(H.edges(data=True)):
        flow = _num(data.get("flow"))
        width = 1.0 + 11.0 * (max(flow, 0.0) / max_flow) if (flow and max_flow > 0) else 1.0
        unit = str(data.get("unit") or H.nodes[u].get("unit") or "")
        if flow is not None and flow == max_flow and not widest_unit:
            widest_unit = unit
        lines = [
            f"{_display_label(u, H.nodes[u], _node_stage(H.nodes[u]))} → "
            f"{_display_label(v, H.nodes[v], _node_stage(H.nodes[v]))}"
        ]
        lines.append(f"From: {u}")
        lines.append(f"To: {v}")
        lines.append(f"Flow: {_fmt(flow, unit)}")
        if max_flow > 0 and flow is not None:
            lines.append(f"Flow relative to the largest edge: {_pct(max(flow, 0.0) / max_flow)}")
        if data.get("material"):
            lines.append(f"Material: {data['material']}")
        prov = [
            str(data[k])
            for k in ("source_ref", "year", "evidence")
            if data.get(k) not in (None, "")
        ]
        if prov:
            lines.append("Source: " + ", ".join(prov))
        # edges take their supplier's country colour; with shocks, a neutral grey so that the
        # nodes' remaining-output fill stands out
        src_color = (
            _SHOCK_EDGE
            if shocks is not None
            else colors.get(_node_country(H.nodes[u]), OTHER_COLOR)
        )
        edge: dict[str, Any] = {
            "id": f"e{k}",
            "title": "\n".join(lines),
            "width": round(width, 2),
            "color": {
                "color": src_color,
                "highlight": src_color,
                "hover": src_color,
                "opacity": 0.5,
            },
        }
        if (u, v) in shocked_edges:
            edge["dashes"] = [8, 5]
            edge["color"] = {"color": _CHOKEPOINT_BORDER, "opacity": 0.9}
            cut = (getattr(result, "edge_cut", None) or {}).get((u, v))
            lines.append("Shocked directly" + (f": {_pct(_num(cut))} cut" if cut else ""))
            edge["title"] = "\n".join(lines)
        net.add_edge(ids[u], ids[v], **edge)

    per_level: dict[int, int] = {}
    for _, data in H.nodes(data=True):
        lv = level_of[_node_stage(data)]
        per_level[lv] = per_level.get(lv, 0) + 1
    fixed = n_nodes > _HIERARCHICAL_MAX
    options = _vis_options(per_level, max_size, large=n_nodes > _LARGE, fixed=fixed)
    if fixed:
        spacing, separation = _spacing(per_level, max_size)
        xy = _column_positions(H, level_of, qty, spacing, separation)
        for item, node in zip(net.nodes, H.nodes, strict=True):  # same order: added in turn
            item["x"], item["y"] = xy[node]
    nodes, edges, _heading, _h, _w, _opts = net.get_network_data()
    for item in nodes:
        item.pop("label", None)
        item.pop("font", None)
    return nodes, edges, options, max_flow, widest_unit


def _overview_options() -> dict[str, Any]:
    """vis-network options when the page lays out the shown items itself (fixed x/y)."""
    return _vis_options({0: 1}, _MIN_SIZE, large=True, fixed=True)


def _country_order(G: nx.DiGraph, colors: Mapping[str, str]) -> list[str]:
    """Every country of ``G``: the coloured ones in palette order, then the rest by code."""
    present = {_node_country(d) for _, d in G.nodes(data=True)}
    return sorted(present, key=lambda c: (colors[c] == OTHER_COLOR, _palette_pos(colors[c]), c))


def _highlight(G: nx.DiGraph, cg: Any, highlight: Mapping[Any, str] | None) -> dict[str, Any]:
    """Resolve ``highlight`` to positions: ``{labels, colors, counts, nodes, edges}``.

    ``nodes`` holds ``[position, label index]``, ``edges`` ``[supplier position, customer
    position, label index]``; labels keep their order of first appearance.
    """
    out: dict[str, Any] = {"labels": [], "colors": [], "counts": [], "nodes": [], "edges": []}
    labels: list[str] = out["labels"]
    for key, label in (highlight or {}).items():
        text = str(label)
        if text not in labels:
            labels.append(text)
            out["counts"].append(0)
        k = labels.index(text)
        if _is_node(G, key):
            out["nodes"].append([cg.index[key], k])
        elif isinstance(key, tuple) and len(key) == 2 and G.has_edge(*key):
            out["edges"].append([cg.index[key[0]], cg.index[key[1]], k])
        else:
            msg = f"highlight: {key!r} is neither a node nor an edge (u, v) of the graph"
            raise InputError(msg)
        out["counts"][k] += 1
    out["colors"] = [HIGHLIGHT_PALETTE[k % len(HIGHLIGHT_PALETTE)] for k in range(len(labels))]
    return out


def _is_node(G: nx.DiGraph, key: Any) -> bool:
    try:
        return key in G
    except TypeError:  # unhashable
        return False


def _whatif_panels(
    H: nx.DiGraph,
    primary: Any,
    whatif: Iterable[Any] | None,
    *,
    model: str,
    points: Mapping[str, Sequence[Mapping[str, Any]]] | None,
    source: str,
    result: Any = None,
) -> dict[str, Any]:
    """The what-if panel's scenarios (:func:`supplygraph.whatif.scenario_panel`) for the page.

    ``primary`` (the scenario drawn, whose capacity changes are already in ``H``) comes first
    and opens the panel; ``baked`` lists those changes so the page can take them out again for
    the other scenarios.
    """
    from supplygraph.analysis.scenarios import get_scenario
    from supplygraph.whatif import scenario_panel

    chosen: list[tuple[Any, str | None]] = []
    if primary is not None:
        chosen.append((primary, model))
    for item in whatif or []:
        sc = item if _is_scenario(item) else get_scenario(item)
        if all(sc.name != other.name for other, _ in chosen):
            chosen.append((sc, None))
    panels = []
    for sc, sc_model in chosen:
        given = (points or {}).get(sc.name)
        panel = scenario_panel(H, sc, model=sc_model, points=given, command_source=source)
        if given is None and sc is primary and result is not None and not panel["live"]:
            panel["points"] = [_result_point(H, panel, result)]
        panels.append(panel)
    baked = []
    if primary is not None and panels:
        baked = [
            {"nodes": c["nodes"], "scale": c["scale"]}
            for c in panels[0]["capacity"]
            if not c["response"]
        ]
    return {"scenarios": panels, "baked": baked, "initial": 0 if primary is not None else -1}


def _result_point(H: nx.DiGraph, panel: Mapping[str, Any], result: Any) -> dict[str, Any]:
    """The drawn result as a panel point at the scenario's own slider values."""
    ids = vis_ids(H)
    remaining = result.targets["remaining"].astype(float)
    return {
        "approval": [s["rate"] for s in panel["shocks"]],
        "scale": [c["scale"] for c in panel["capacity"]],
        "remaining": {ids[t]: float(h) for t, h in remaining.items()},
        "label": f"model {result.model}, computed when the page was written",
    }


def _spacing(per_level: Mapping[int, int], max_size: float) -> tuple[int, int]:
    """Return (node spacing within a column, column separation), in canvas px.

    Columns are compact (nodes as close as their size allows; labels sit to their right) and far
    enough apart for a wide-rather-than-tall picture.
    """
    node_spacing = round(max(2 * max_size, _FONT) + 14)
    tallest = max(per_level.values(), default=1) * node_spacing
    level_separation = round(min(720.0, max(300.0, 1.5 * tallest / max(1, len(per_level) - 1))))
    return node_spacing, level_separation


def _column_positions(
    G: nx.DiGraph,
    level_of: Mapping[str, int],
    qty: Mapping[Any, float],
    node_spacing: int,
    level_separation: int,
) -> dict[Any, tuple[float, float]]:
    """Precomputed column layout for graphs too large for vis's hierarchical layout.

    x = column (stage) * separation; within a column, the first stage is sorted by quantity
    (largest on top) and every later node sits at the flow-weighted mean row of its suppliers in
    earlier columns (one barycentre pass, which keeps most edges short); ties by quantity, id.
    Columns are centred vertically. Linear in nodes + edges.
    """
    by_level: dict[int, list[Any]] = {}
    for node, data in G.nodes(data=True):
        by_level.setdefault(level_of[_node_stage(data)], []).append(node)
    row: dict[Any, float] = {}
    pos: dict[Any, tuple[float, float]] = {}
    for lv in sorted(by_level):
        members = by_level[lv]

        def key(n: Any, lv: int = lv) -> tuple[float, float, str]:
            num = den = 0.0
            for u, _, d in G.in_edges(n, data=True):
                if u in row and level_of[_node_stage(G.nodes[u])] < lv:
                    w = max(_num(d.get("flow")) or 0.0, 0.0) or 1e-9
                    num += w * row[u]
                    den += w
            bary = num / den if den > 0 else math.inf
            return (bary, -qty.get(n, 0.0), str(n))

        ordered = sorted(members, key=key)
        offset = (len(ordered) - 1) / 2
        for i, n in enumerate(ordered):
            row[n] = float(i)
            pos[n] = (float(lv * level_separation), round((i - offset) * node_spacing, 1))
    return pos


def _vis_options(
    per_level: Mapping[int, int], max_size: float, *, large: bool, fixed: bool
) -> dict[str, Any]:
    """vis-network options: hierarchical left-to-right layout (or fixed positions), physics off.

    Large graphs skip vis's costlier layout passes and draw straight edges; with ``fixed`` the
    nodes carry precomputed ``x``/``y`` (:func:`_column_positions`) and vis does no layout.
    """
    node_spacing, level_separation = _spacing(per_level, max_size)
    if fixed:
        layout: dict[str, Any] = {"hierarchical": {"enabled": False}, "improvedLayout": False}
    else:
        layout = {
            "hierarchical": {
                "enabled": True,
                "direction": "LR",
                "sortMethod": "directed",
                "levelSeparation": level_separation,
                "nodeSpacing": node_spacing,
                "treeSpacing": node_spacing,
                "blockShifting": not large,
                "edgeMinimization": not large,
                "parentCentralization": not large,
            },
            "improvedLayout": False,
        }
    return {
        "layout": layout,
        "physics": {"enabled": False},
        "edges": {
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
            "smooth": False
            if large
            else {
                "enabled": True,
                "type": "cubicBezier",
                "forceDirection": "horizontal",
                "roundness": 0.45,
            },
            "selectionWidth": 2,
            "hoverWidth": 1.5,
        },
        "interaction": {
            "hover": True,
            "tooltipDelay": 120,
            "navigationButtons": True,
            "keyboard": {"enabled": True, "bindToWindow": False},
            "hideEdgesOnDrag": large,
            "multiselect": True,
        },
    }


def _legend_countries(G: nx.DiGraph, colors: Mapping[str, str]) -> list[dict[str, str]]:
    """Legend rows: coloured countries in palette order, then one grey row for the rest."""
    present = {_node_country(d) for _, d in G.nodes(data=True)}
    ranked = sorted(present, key=lambda c: (colors[c] == OTHER_COLOR, _palette_pos(colors[c]), c))
    countries = [
        {"code": c, "name": _country_name(c), "color": colors[c]}
        for c in ranked
        if colors[c] != OTHER_COLOR
    ]
    others = sorted(c for c in present if colors[c] == OTHER_COLOR)
    if others:
        countries.append(
            {
                "code": "other" if len(others) > 1 else others[0],
                "name": ", ".join(others[:8]) + (" …" if len(others) > 8 else "")
                if len(others) > 1
                else _country_name(others[0]),
                "color": OTHER_COLOR,
            }
        )
    return countries


def _palette_pos(color: str) -> int:
    try:
        return COUNTRY_PALETTE.index(color)
    except ValueError:
        return len(COUNTRY_PALETTE)


# ---------------------------------------------------------------------------------------------
# rendering


def _script_json(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` survive."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    # control characters and noncharacters are HTML parse errors even inside <script>
    return _HTML_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _vis_assets() -> tuple[str, str]:
    """Return (vis-network JS, CSS) from the pyvis package, read from disk (no network)."""
    import pyvis

    base = Path(pyvis.__file__).parent
    for folder in (base / "templates" / "lib" / _VIS_DIR, base / "lib" / _VIS_DIR):
        js, css = folder / "vis-network.min.js", folder / "vis-network.css"
        if js.is_file() and css.is_file():
            # C1 controls and noncharacters are HTML parse errors; in minified JS they only occur
            # inside string literals (U+0085 in core-js's whitespace test), where \\uXXXX is the same
            text = _HTML_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", js.read_text("utf-8"))
            return text, css.read_text(encoding="utf-8")
    msg = f"vis-network assets not found in the pyvis package at {base}; reinstall pyvis"
    raise SupplyGraphError(msg)


_HTML_INVALID = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_CLOSE_SCRIPT = re.compile(r"</(script|style)", re.IGNORECASE)


def _import_pyvis_network() -> None:
    """Import ``pyvis.network``, with a stand-in for IPython unless IPython is already loaded.

    pyvis imports IPython only to display a network inside a notebook, which supplygraph never
    does, and importing IPython costs more than building a view. In a notebook or IPython
    session IPython is loaded already and pyvis gets the real one; elsewhere (the command line,
    scripts) pyvis gets a stand-in whose display classes raise, and the stand-in is removed
    from ``sys.modules`` right after the import, so nothing else ever sees it.
    """
    import sys
    import types

    if "IPython" in sys.modules or "pyvis.network" in sys.modules:
        return
    ipython = types.ModuleType("IPython")
    display = types.ModuleType("IPython.display")

    class _NoNotebook:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            msg = "pyvis notebook display needs IPython loaded before supplygraph draws a view"
            raise RuntimeError(msg)

    display.IFrame = display.HTML = _NoNotebook  # type: ignore[attr-defined]
    ipython.display = display  # type: ignore[attr-defined]
    sys.modules["IPython"] = ipython
    sys.modules["IPython.display"] = display
    try:
        import pyvis.network  # noqa: F401
    finally:
        for name in ("IPython.display", "IPython"):
            if sys.modules.get(name) in (ipython, display):
                del sys.modules[name]


def _render(spec: dict[str, Any]) -> str:
    import jinja2
    import pyvis
    from markupsafe import Markup

    from supplygraph._version import __version__

    vis_js, vis_css = _vis_assets()
    if _CLOSE_SCRIPT.search(vis_js) or _CLOSE_SCRIPT.search(vis_css):  # pragma: no cover
        msg = "the bundled vis-network assets contain a closing tag and cannot be inlined"
        raise SupplyGraphError(msg)
    templates = resources.files("supplygraph") / "templates"
    app_js = "\n".join(
        (templates / name).read_text(encoding="utf-8") for name in ("network.js", "whatif.js")
    )
    page = (templates / "network.html").read_text(encoding="utf-8")
    data = {
        "mode": spec["mode"],
        "nodes": spec["nodes"],
        "edges": spec["edges"],
        "options": spec["options"],
        "stages": spec["stages"],
        "font": _FONT,
        "model": spec["model"],
        "highlight": spec["highlight"],
        "whatif": spec["whatif"],
        "ramp": list(REMAINING_RAMP),
        "other_color": OTHER_COLOR,
        "chokepoint_border": _CHOKEPOINT_BORDER,
        "limits": {
            "visible": MAX_VISIBLE,
            "edges": MAX_VISIBLE_EDGES,
            "countries": OVERVIEW_COUNTRIES,
            "expand": EXPAND_MEMBERS,
            "focus": FOCUS_NODES,
            "focus_stage": FOCUS_PER_STAGE,
        },
    }
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_csp_hash(vis_js)} {_csp_hash(app_js)}",
            "style-src 'unsafe-inline'",
            "img-src data:",
            "font-src data:",
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )

    def finalize(value: Any) -> Any:
        # text from the data: drop characters HTML forbids (markup-safe assets pass unchanged)
        if isinstance(value, str) and not isinstance(value, Markup):
            return _HTML_INVALID.sub("\ufffd", value)
        return value

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=finalize)
    template = env.from_string(page)
    ramp = ", ".join(REMAINING_RAMP)
    return template.render(
        csp=csp,
        version=__version__,
        pyvis_version=getattr(pyvis, "__version__", "?"),
        vis_version=_VIS_DIR.split("-", 1)[1],
        title=spec["title"],
        subtitle=spec["subtitle"],
        aria_label=spec["aria_label"],
        countries=spec["countries"],
        chokepoints=spec["chokepoints"],
        chokepoints_more=spec["chokepoints_more"],
        chokepoint_note=spec["chokepoint_note"],
        shock=spec["shock"],
        max_flow=spec["max_flow"],
        ramp_css=ramp,
        vis_css=Markup(vis_css),
        vis_js=Markup(vis_js),
        app_js=Markup(app_js),
        data_json=Markup(_script_json(data)),
        graph_json=Markup(_script_json(spec["graph"])),
        mode=spec["mode"],
        highlight=spec["highlight"],
        whatif=spec["whatif"]["scenarios"],
    )
