"""The what-if panel of the network view: scenarios as sliders, recomputed live in the page.

For each scenario the page gets one slider per shock (its licence *approval rate* ``r`` in
[0, 1], the shock's ``cut = 1 - r``) and one per ``[[capacity]]`` entry with a ``scale``.
Python resolves every selector once (:func:`supplygraph.resolve_shocks`) to the positions and
edges it hits in the compiled graph, so the page never parses selectors; the page's JavaScript
(``templates/whatif.js``) then runs the **linear model** of :mod:`supplygraph.analysis.propagation`
over the embedded arrays (:mod:`supplygraph.viewdata`) at every slider move:

* capacity: ``S[p] = prod_j scale_j`` over the entries selecting ``p``; flows out of ``p``,
  ``p``'s ``value`` and ``external_input`` are multiplied by ``S[p]``
  (:func:`~supplygraph.analysis.scenarios.apply_capacity`), and input shares are recomputed:
  ``a[u, v] = S[u] f(u, v) / (sum_w S[w] f(w, v) + S[v] x(v))``, ``ext[v] = S[v] x(v) / (...)``;
* shocks: cuts on one node or edge combine as ``c = 1 - (1 - c_1)(1 - c_2)...``;
  ``cap[v] = 1 - c[v]``, ``keep[u, v] = 1 - c[u, v]``;
* ``h[v] = cap[v] (sum_u a[u, v] keep[u, v] h[u] + ext[v])`` in kernel order; each open cyclic
  component is solved exactly (dense LU with partial pivoting up to 400 nodes, Gauss-Seidel to
  1e-15 above), a closed one keeps ``h = 1`` unless something in it is cut (then ``h = 0``);
* per target (sink) the remaining fraction ``h``; per end use and in total the weighted loss
  ``sum_t w_t (1 - h_t) / sum_t w_t`` with ``w_t`` the target's share of target output (equal
  weights when units differ), exactly as :func:`supplygraph.disrupt`.

The results agree with ``supplygraph disrupt`` to 1e-9 (tests/test_view.py checks it in
Chromium on the built-in data and on a cyclic graph).

Other models and responses (Leontief; supply responses; ``[[capacity]]`` entries that add spare
``capacity``) cannot be computed in the page. The panel then shows *precomputed points*: a list
of ``{"approval": [r_0, r_1, ...], "scale": [s_0, ...], "remaining": {target id: h},
"label": "..."}`` (one value per slider, in scenario order). When the sliders sit on a point, its
numbers are shown; when the points form a full grid over the sliders, values in between are
interpolated multilinearly and marked as such; elsewhere the panel says which command gives the
exact numbers. :func:`precompute_points` makes such points with any solver.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.disruption import DisruptionResult
    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.compiled import CompiledGraph

__all__ = ["precompute_points", "scenario_panel", "toml_string"]

#: Models the page computes itself.
LIVE_MODELS = ("linear",)

_TOML_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def toml_string(text: str) -> str:
    """Return ``text`` as a TOML basic string (quotes, backslashes and controls escaped).

    Examples
    --------
    >>> print(toml_string('say "hi"'))
    "say \\u0022hi\\u0022"
    """
    return '"' + _TOML_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04X}", text) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def _toml_lines(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    return [f"{key} = {_toml_value(value)}" for key, value in pairs if value is not None]


def _shock_toml(shock: Any) -> str:
    """The ``[[shocks]]`` table of one shock without its cut (the page appends the rate)."""
    pairs: list[tuple[str, Any]] = [("selector", shock.describe())]
    for key in ("destination", "except_destination", "end_use"):
        value = getattr(shock, key, None)
        if value is not None:
            pairs.append((key, [value] if isinstance(value, str) else [str(v) for v in value]))
    start, end = getattr(shock, "start_day", 0), getattr(shock, "end_day", None)
    if start:
        pairs.append(("start_day", int(start)))
    if end is not None:
        pairs.append(("end_day", int(end)))
    pairs += [("label", shock.label), ("source", shock.source)]
    return "\n".join(["[[shocks]]", *_toml_lines(pairs)])


def _capacity_toml(change: Any) -> str:
    """The ``[[capacity]]`` table of one entry: without its scale for a scale entry (the page
    appends the slider's), whole for an entry that adds spare capacity."""
    country, at, stage = change.selector.partition("@")
    if at:
        pairs: list[tuple[str, Any]] = [("country", country or None), ("stage", stage)]
    else:
        pairs = [("node", change.selector)]
    if _is_response(change):
        pairs += [("scale", change.scale), ("capacity", change.capacity)]
        pairs += [("ramp_days", change.ramp_days), ("start_day", change.start_day or None)]
    pairs += [("label", change.label), ("source", change.source)]
    return "\n".join(["[[capacity]]", *_toml_lines(pairs)])


def _positions(cg: CompiledGraph, node_cut: Mapping[Any, float]) -> list[int]:
    return sorted(cg.index[v] for v in node_cut)


def _edges(cg: CompiledGraph, edge_cut: Mapping[tuple[Any, Any], float]) -> list[int]:
    index = cg.edge_index
    return sorted(index[e] for e in edge_cut if e in index)  # zero-flow edges carry nothing


def _is_response(change: Any) -> bool:
    """A capacity entry the linear model cannot show: it adds spare capacity, not scale."""
    return getattr(change, "capacity", None) is not None or getattr(change, "scale", None) is None


def scenario_panel(
    G: nx.DiGraph,
    scenario: Scenario,
    *,
    model: str | None = None,
    points: Sequence[Mapping[str, Any]] | None = None,
    command_source: str = "SOURCE",
) -> dict[str, Any]:
    """Return one scenario of the what-if panel as JSON-ready data.

    Parameters
    ----------
    G
        The graph *before* the scenario's capacity changes (the page applies them).
    scenario
        The scenario (:func:`supplygraph.get_scenario`); its time windows are ignored, as in
        ``supplygraph disrupt``.
    model
        The model the numbers are for (default: the scenario's). Only ``"linear"`` is live.
    points
        Precomputed points for other models or responses (see the module docstring).
    command_source
        How the data source is written in the command lines the panel shows.

    Returns
    -------
    dict
        ``name``, ``description``, ``model``, ``live`` (bool), ``shocks`` (per shock: ``text``,
        ``label``, ``source``, ``rate`` (default approval rate), ``nodes``/``edges`` (positions
        and edge indices hit), ``toml``), ``capacity`` (per entry: ``selector``, ``scale``,
        ``nodes``, ``response`` (bool), ``toml``, ``note``), ``points``, ``header`` (TOML of the
        scenario's name, description and model) and ``command`` (the ``supplygraph disrupt``
        line for the exact numbers).

    Raises
    ------
    ScenarioError
        A selector matches nothing in ``G``.
    """
    from supplygraph.analysis.shocks import parse_shock, resolve_shocks
    from supplygraph.compiled import compile_graph

    cg = compile_graph(G)
    chosen = model or scenario.model
    shocks = []
    for shock in scenario.shocks:
        node_cut, edge_cut = resolve_shocks(G, [shock])
        shocks.append(
            {
                "text": shock.describe(),
                "label": shock.label or "",
                "source": shock.source or "",
                "rate": 1.0 - float(shock.cut),
                "nodes": _positions(cg, node_cut),
                "edges": _edges(cg, edge_cut),
                "toml": _shock_toml(shock),
            }
        )
    capacity = []
    for change in scenario.capacity:
        node_cut, _ = resolve_shocks(G, [parse_shock(change.selector)])
        response = _is_response(change)
        scale = change.scale
        capacity.append(
            {
                "selector": change.selector,
                "scale": float(scale) if scale is not None and not response else None,
                "nodes": _positions(cg, node_cut),
                "response": response,
                "label": change.label or change.note or "",
                "source": change.source or "",
                "toml": _capacity_toml(change),
            }
        )
    header = "\n".join(
        _toml_lines(
            [
                ("name", f"{scenario.name}-whatif"),
                ("description", f"What-if on {scenario.name}, from the network view"),
                ("model", chosen),
            ]
        )
    )
    name = scenario.path.as_posix() if scenario.path is not None else scenario.name
    return {
        "name": scenario.name,
        "description": scenario.description,
        "model": chosen,
        # added spare capacity leaves the no-response figures the page computes unchanged;
        # only an entry that also scales output (no slider then) stops the page
        "live": chosen in LIVE_MODELS
        and not any(_is_response(ch) and ch.scale is not None for ch in scenario.capacity),
        "shocks": shocks,
        "capacity": capacity,
        "points": [dict(p) for p in points or []],
        "header": header,
        "command": f"supplygraph disrupt {command_source} --scenario {name} --model {chosen}",
    }


def adhoc_scenario(shocks: Any, name: str = "shocks") -> Scenario:
    """Wrap plain shocks (texts or Shock objects) as a scenario for the panel."""
    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.analysis.shocks import as_shocks

    return Scenario(name=name, shocks=tuple(as_shocks(shocks)))


def precompute_points(
    G: nx.DiGraph,
    scenario: Scenario,
    grid: Mapping[int, Sequence[float]] | None = None,
    *,
    solve: Callable[[nx.DiGraph, list[Any]], DisruptionResult] | None = None,
    model: str | None = None,
    label: str | None = None,
) -> list[dict[str, Any]]:
    """Compute panel points: the scenario solved at a grid of approval rates.

    Parameters
    ----------
    G
        The graph before the scenario's capacity changes.
    scenario
        The scenario.
    grid
        ``{shock index: [approval rates]}``; shocks not named stay at their own rate. Default:
        just the scenario's own rates (one point). The page interpolates between points only
        when they form a full grid.
    solve
        ``solve(H, shocks) -> DisruptionResult`` for the graph with the capacity changes
        applied; default ``supplygraph.disrupt(H, shocks, model=model)``. A supply-response
        solver plugs in here, e.g. ``lambda H, s: disrupt(H, s, response="optimal")``.
    model
        Model for the default solver (default: the scenario's).
    label
        Shown next to the numbers (default: ``"model <model>"``).

    Returns
    -------
    list of dict
        ``{"approval": [...], "scale": [...], "remaining": {target id: h}, "label": ...}``,
        ready for ``visualize(..., points={scenario.name: points})``.

    Examples
    --------
    >>> import supplygraph as sg
    >>> G = sg.load("rare-earths")
    >>> sc = sg.get_scenario("april-2025-licences")
    >>> pts = precompute_points(G, sc, {0: [0.0, 0.5, 1.0]}, model="leontief")
    >>> len(pts), pts[1]["approval"][0]
    (3, 0.5)
    """
    from supplygraph.analysis.disruption import disrupt
    from supplygraph.analysis.scenarios import apply_capacity
    from supplygraph.analysis.shocks import with_cut
    from supplygraph.viewdata import vis_ids

    chosen = model or scenario.model
    if solve is None:

        def solve(H: nx.DiGraph, shocks: list[Any]) -> DisruptionResult:
            return disrupt(H, shocks, model=chosen)

    H = apply_capacity(G, scenario)
    ids = vis_ids(H)
    base = [1.0 - float(s.cut) for s in scenario.shocks]
    axes = [list((grid or {}).get(i, [r])) for i, r in enumerate(base)]
    scales = [
        None if _is_response(c) or c.scale is None else float(c.scale) for c in scenario.capacity
    ]
    points = []
    for rates in itertools.product(*axes):
        shocks = [with_cut(s, 1.0 - float(r)) for s, r in zip(scenario.shocks, rates, strict=True)]
        result = solve(H, shocks)
        remaining = result.targets["remaining"].astype(float)
        points.append(
            {
                "approval": [float(r) for r in rates],
                "scale": scales,
                "remaining": {ids[t]: float(h) for t, h in remaining.items()},
                "label": label or f"model {chosen}",
            }
        )
    return points
