"""The uncertain inputs of a run: every range of the graph and the scenario, as factors.

A *factor* is one independent draw. Each ranged cell is its own factor, except that cells
(and scenario values) sharing a ``group`` name form one factor together: they are drawn from
one quantile ``u``, each from its own range (``x = F^-1(u; low, value, high)``), so they move
together -- "one assumption drives many numbers". Group names are shared across tables and
attributes (a node's ``value_group``, an edge's ``flow_group`` and a scenario's ``group``).

Attributes drawn by the analyses (:data:`DRAWN`): node ``value``, ``capacity``,
``external_input`` and ``inventory_days``, edge ``flow`` and ``lead_days``; scenario cuts
(``cut``/``approval_rate``) and capacity changes (``scale``, ``capacity``). Ranges on the other
numeric attributes are validated and kept (exports, round trips) but not drawn; :func:`collect`
lists them in :attr:`Factors.not_drawn`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.errors import InputError
from supplygraph.schema import RANGE_ATTRS, range_columns
from supplygraph.uncertainty.sampling import dist_code

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.analysis.shocks import Shock

__all__ = ["DRAWN", "Factors", "RangeItems", "apply_draw", "collect"]

#: The ranged attributes the analyses draw, per table.
DRAWN: dict[str, tuple[str, ...]] = {
    "nodes": ("value", "capacity", "external_input", "inventory_days"),
    "edges": ("flow", "lead_days"),
}


@dataclass
class RangeItems:
    """The ranged cells of one attribute (or one kind of scenario value).

    Attributes
    ----------
    attr
        The attribute (``"flow"``), or ``"cut"`` for scenario shocks and ``"scale"`` /
        ``"capacity change"`` for scenario capacity changes.
    keys
        Node ids, ``(u, v)`` edge pairs, or indices of the scenario's shocks / capacity changes.
    low, mode, high
        The range of each item (``low <= mode <= high``); ``mode`` is the certain value.
    dist
        Distribution code of each item (:func:`~supplygraph.uncertainty.sampling.dist_code`).
    factor
        Factor (column of the unit sample) of each item.
    """

    attr: str
    keys: list[Any]
    low: np.ndarray
    mode: np.ndarray
    high: np.ndarray
    dist: np.ndarray
    factor: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class Factors:
    """The factors of a run and the items each one drives.

    Attributes
    ----------
    names
        One short name per factor: ``"flow CHN:components:wind->EU:wind"``, a group name, or
        ``"approval_rate of shock 1 (CHN:separation:heavy)"``.
    items
        :class:`RangeItems` by attribute (``"value"``, ``"flow"``, ``"cut"`` ...).
    not_drawn
        Ranged attributes present in the graph that no analysis draws.
    """

    names: list[str] = field(default_factory=list)
    items: dict[str, RangeItems] = field(default_factory=dict)
    not_drawn: list[str] = field(default_factory=list)

    @property
    def dim(self) -> int:
        """Number of factors (independent draws per draw)."""
        return len(self.names)

    def describe(self) -> str:
        """One line: how many factors drive how many ranged numbers."""
        cells = sum(len(v) for v in self.items.values())
        return f"{self.dim} independent inputs drive {cells} ranged numbers"


class _Builder:
    def __init__(self, distribution: str | None) -> None:
        self.names: list[str] = []
        self.groups: dict[str, int] = {}
        self.parts: dict[str, list[tuple[Any, ...]]] = {}
        self.override = distribution

    def factor(self, name: str, group: Any) -> int:
        if isinstance(group, str) and group.strip():
            key = group.strip()
            if key not in self.groups:
                self.groups[key] = len(self.names)
                self.names.append(key)
            return self.groups[key]
        self.names.append(name)
        return len(self.names) - 1

    def add_many(
        self,
        attr: str,
        keys: list[Any],
        low: np.ndarray,
        mode: np.ndarray,
        high: np.ndarray,
        dists: list[Any],
        groups: list[Any],
        names: list[str],
        wheres: list[str],
    ) -> None:
        """Add the ranged cells of one attribute (checked; zero-width ranges left out)."""
        bad = np.flatnonzero(~((low <= mode) & (mode <= high)))
        if len(bad):
            i = int(bad[0])
            msg = (
                f"{wheres[i]}: the range must run low <= value <= high, got "
                f"{low[i]:g}, {mode[i]:g}, {high[i]:g}"
            )
            raise InputError(msg)
        codes = np.zeros(len(keys), dtype=np.int64)
        known: dict[Any, int] = {}
        for i, d in enumerate(dists):
            name = self.override or (d if isinstance(d, str) and d else None)
            if name not in known:
                known[name] = dist_code(name, wheres[i])
            codes[i] = known[name]
        live = np.flatnonzero(high > low)  # a range of zero width is certain
        if not len(live):
            return
        factor = np.fromiter(
            (self.factor(names[i], groups[i]) for i in live.tolist()),
            dtype=np.int64,
            count=len(live),
        )
        self.parts.setdefault(attr, []).append(
            (
                [keys[i] for i in live.tolist()],
                low[live],
                mode[live],
                high[live],
                codes[live],
                factor,
            )
        )

    def add(
        self,
        attr: str,
        key: Any,
        low: float,
        mode: float,
        high: float,
        dist: Any,
        group: Any,
        name: str,
        where: str,
    ) -> None:
        one = np.asarray
        self.add_many(
            attr, [key], one([low]), one([mode]), one([high]), [dist], [group], [name], [where]
        )

    def build(self) -> Factors:
        items = {}
        for attr, parts in self.parts.items():
            items[attr] = RangeItems(
                attr=attr,
                keys=[k for part in parts for k in part[0]],
                low=np.concatenate([part[1] for part in parts]).astype(float),
                mode=np.concatenate([part[2] for part in parts]).astype(float),
                high=np.concatenate([part[3] for part in parts]).astype(float),
                dist=np.concatenate([part[4] for part in parts]).astype(np.int64),
                factor=np.concatenate([part[5] for part in parts]).astype(np.int64),
            )
        return Factors(names=self.names, items=items)


def collect(
    G: nx.DiGraph,
    scenario: Scenario | None = None,
    shocks: Sequence[Shock] | None = None,
    *,
    distribution: str | None = None,
    drawn: Iterable[str] | None = None,
) -> Factors:
    """Collect the factors of a run from the graph's ranges and the scenario's.

    Parameters
    ----------
    G
        The supply graph (with the scenario's capacity changes applied, when there are any).
    scenario
        The scenario whose ``[[capacity]]`` ranges are drawn (its shocks come in ``shocks``).
    shocks
        The shocks of the run (their ``uncertain`` ranges are drawn).
    distribution
        A distribution for every range (None: each range's own ``x_dist``, else triangular).
    drawn
        The graph attributes to draw (default: all of :data:`DRAWN`); e.g. concentration reads
        only ``value`` and ``flow``.

    Returns
    -------
    Factors

    Raises
    ------
    InputError
        A range that does not run ``low <= value <= high``, or an unknown distribution; the
        message names the node or edge and the attribute.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("a", value=10.0, value_low=8.0, value_high=15.0, value_group="mines")
    >>> G.add_node("b", value=5.0, value_low=4.0, value_group="mines")
    >>> G.add_node("c", value=2.0, value_high=3.0)
    >>> f = collect(G)
    >>> f.names, f.items["value"].factor.tolist()
    (['mines', 'value c'], [0, 0, 1])
    """
    wanted = set(DRAWN["nodes"] + DRAWN["edges"]) if drawn is None else set(drawn)
    b = _Builder(distribution)
    present: set[str] = set()
    node_attrs = [a for a in RANGE_ATTRS["nodes"] if a in wanted]
    edge_attrs = [a for a in RANGE_ATTRS["edges"] if a in wanted]
    node_recs = list(G.nodes(data=True))
    edge_recs = [((u, v), d) for u, v, d in G.edges(data=True)]
    for table, recs, attrs in (("nodes", node_recs, node_attrs), ("edges", edge_recs, edge_attrs)):
        for attr in RANGE_ATTRS[table]:
            lo_c, hi_c = range_columns(attr)
            sel = [(k, d) for k, d in recs if lo_c in d or hi_c in d]
            if not sel:
                continue
            present.add(attr)
            if attr in attrs:
                _add_cells(b, table, attr, sel)
    for i, shock in enumerate(shocks or ()):
        unc = getattr(shock, "uncertain", None)
        if unc is None:
            continue
        key, low, mid, high = unc
        name = f"{key} of shock {i + 1} ({shock.describe()})"
        b.add("cut", i, low, mid, high, shock.dist, shock.group, name, f"shock {shock}")
        # the factor is drawn in the file's own terms; cut = 1 - approval_rate
    if scenario is not None:
        for i, change in enumerate(scenario.capacity):
            unc = getattr(change, "uncertain", None)
            if unc is None:
                continue
            key, low, mid, high = unc
            name = f"{key} of capacity change {i + 1} ({change.selector})"
            attr = "scale" if key == "scale" else "capacity change"
            b.add(attr, i, low, mid, high, change.dist, change.group, name, scenario.file)
    out = b.build()
    out.not_drawn = sorted(present - set(node_attrs) - set(edge_attrs))
    return out


def _numbers(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(numbers with NaN for blanks and text, mask of cells that hold text that is no number)."""
    arr = np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)
    blank = np.fromiter(
        (v is None or (isinstance(v, float) and v != v) for v in values),
        dtype=bool,
        count=len(values),
    )
    return arr, np.isnan(arr) & ~blank


def _where(table: str, key: Any) -> str:
    return f"node {key!r}" if table == "nodes" else f"edge {key[0]!r} -> {key[1]!r}"


def _add_cells(b: _Builder, table: str, attr: str, sel: list[tuple[Any, dict[str, Any]]]) -> None:
    """Check and add the ranged cells of one attribute (vectorised over the cells)."""
    lo_c, hi_c = range_columns(attr)
    keys = [k for k, _ in sel]
    value, _ = _numbers([d.get(attr) for _, d in sel])
    low, bad_l = _numbers([d.get(lo_c) for _, d in sel])
    high, bad_h = _numbers([d.get(hi_c) for _, d in sel])
    for bad, col in ((bad_l, lo_c), (bad_h, hi_c)):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = f"{_where(table, keys[i])}: {col} is not a number: {sel[i][1].get(col)!r}"
            raise InputError(msg)
    missing = np.isnan(value)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        msg = (
            f"{_where(table, keys[i])}: {lo_c}/{hi_c} are given but {attr} is missing "
            "(a range needs its value)"
        )
        raise InputError(msg)
    lo = np.where(np.isnan(low), value, low)
    hi = np.where(np.isnan(high), value, high)
    for bad, col, bound, verb in ((lo > value, lo_c, lo, "above"), (hi < value, hi_c, hi, "below")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = f"{_where(table, keys[i])}: {col} {bound[i]:g} is {verb} {attr} {value[i]:g}"
            raise InputError(msg)
    sep = "->" if table == "edges" else ""
    names = [f"{attr} {k[0]}{sep}{k[1]}" if sep else f"{attr} {k}" for k in keys]
    b.add_many(
        attr,
        keys,
        lo,
        value,
        hi,
        [d.get(f"{attr}_dist") for _, d in sel],
        [d.get(f"{attr}_group") for _, d in sel],
        names,
        [_where(table, k) for k in keys],
    )


def apply_draw(
    G: nx.DiGraph,
    factors: Factors,
    u: np.ndarray,
    shocks: Sequence[Shock] = (),
    scenario: Scenario | None = None,
) -> tuple[nx.DiGraph, list[Shock], Scenario | None]:
    """One draw written into a copy of the inputs: the plain, one-scenario reading of a draw.

    Every ranged number is set to its draw at the unit point ``u`` (one value per factor),
    shocks get their drawn cuts and the scenario its drawn capacity changes, with the ranges
    removed. Running any analysis on the result gives that draw's numbers; the tests compare
    the batched kernels against this per-draw loop.

    Parameters
    ----------
    G
        The graph the factors were collected from.
    factors
        The factors (:func:`collect`).
    u
        One unit point, shape (D,).
    shocks, scenario
        The run's shocks and scenario (None: none).

    Returns
    -------
    (graph, shocks, scenario)
        Copies; ``G``, the shocks and the scenario are not modified.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("a", value=10.0, value_low=8.0, value_high=12.0)
    >>> H, _, _ = apply_draw(G, collect(G), np.array([0.5]))
    >>> H.nodes["a"]["value"], "value_low" in H.nodes["a"], G.nodes["a"]["value"]
    (10.0, False, 10.0)
    """
    import dataclasses

    from supplygraph.uncertainty.sampling import quantile

    H = G.copy()
    H.graph = dict(G.graph)
    out_shocks = list(shocks)
    changes = list(scenario.capacity) if scenario is not None else []
    for attr, it in factors.items.items():
        drawn = quantile(
            np.asarray(u, dtype=float)[it.factor][:, None], it.low, it.mode, it.high, it.dist
        )[:, 0]
        for key, value in zip(it.keys, drawn.tolist(), strict=True):
            if attr == "cut":
                s = out_shocks[key]
                cut = value if s.uncertain is not None and s.uncertain[0] == "cut" else 1 - value
                out_shocks[key] = dataclasses.replace(s, cut=float(cut), uncertain=None)
            elif attr in ("scale", "capacity change"):
                field_name = "scale" if attr == "scale" else "capacity"
                changes[key] = dataclasses.replace(
                    changes[key], **{field_name: float(value)}, uncertain=None
                )
            elif attr in RANGE_ATTRS["edges"] and isinstance(key, tuple) and H.has_edge(*key):
                H.edges[key][attr] = float(value)
            else:
                H.nodes[key][attr] = float(value)
    for data in (*(d for _, d in H.nodes(data=True)), *(d for _, _, d in H.edges(data=True))):
        for attr in set(factors.items) & set(RANGE_ATTRS["nodes"] + RANGE_ATTRS["edges"]):
            for col in range_columns(attr):
                data.pop(col, None)
    sc = dataclasses.replace(scenario, capacity=tuple(changes)) if scenario is not None else None
    return H, out_shocks, sc
