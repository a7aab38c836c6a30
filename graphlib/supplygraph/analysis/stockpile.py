"""Stockpile sizing: the smallest added inventory that keeps a target running through a scenario.

The question behind a strategic reserve ("keep defense output at or above 90 % for 180 days of a
full Chinese cut-off"): how many days of normal use must be held, and where? In the timeline
model (:mod:`supplygraph.analysis.timeline`) more stock anywhere never lowers any node's output on
any day, so the smallest sufficient stock is found by bisection. All targets are bisected
together in one batched simulation per step.

Two placements:

* ``stage=None`` -- each target node holds its own stock (e.g. a defense contractor's magnet
  store); one row per target gives the days it needs.
* ``stage="magnets"`` -- the same number of days is added to *every* node of that stage (a
  national stockpile of magnets or of separated oxide held at that stage); one row per target
  gives the days that stage must hold for that target, and a final ``(all targets)`` row the days
  that satisfy every target at once.

Stock quantities are converted from days to the holder's input unit with its normal daily input
use, ``(sum of inbound flows + external_input) / 365`` (or ``value / 365`` when it has no
inbound flows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.analysis.shocks import Shock

__all__ = ["stockpile"]

ALL_TARGETS = "(all targets)"


def _daily_use(G: nx.DiGraph, node: Any) -> tuple[float, str | None]:
    from supplygraph.analysis.simulation import as_float

    inflow = sum(as_float(d.get("flow")) for _, _, d in G.in_edges(node, data=True))
    inflow += as_float(G.nodes[node].get("external_input"))
    unit = None
    for _, _, d in G.in_edges(node, data=True):
        if d.get("unit"):
            unit = str(d["unit"])
            break
    if inflow <= 0:
        inflow = as_float(G.nodes[node].get("value"))
        unit = G.nodes[node].get("unit")
    if unit is None:
        preds = list(G.predecessors(node))
        unit = G.nodes[preds[0]].get("unit") if preds else G.nodes[node].get("unit")
    if unit is not None:
        unit = str(unit).removesuffix("/yr").removesuffix("/year").strip()  # a stock, not a rate
    return inflow / 365.0, unit


def stockpile(
    G: nx.DiGraph,
    scenario: Scenario | Shock | str | Sequence[Shock | str],
    *,
    target_nodes: Sequence[Any] | None = None,
    end_use: str | None = None,
    min_output: float = 0.9,
    days: int = 180,
    stage: str | None = None,
    tolerance: float = 0.01,
    response: Any = None,
) -> pd.DataFrame:
    """Find the smallest added inventory (in days of normal use) that meets an output target.

    Target: every target node's output stays at or above ``min_output`` on each of days
    ``0 .. days-1`` of the scenario (timeline model; existing ``inventory_days`` count).

    Parameters
    ----------
    G
        The supply graph (not modified).
    scenario
        A :class:`~supplygraph.analysis.scenarios.Scenario`, or shocks as
        :func:`~supplygraph.analysis.timeline.timeline` takes them.
    target_nodes
        Nodes whose output must be kept up.
    end_use
        Alternatively, an end-use sector: its nodes are the targets. When neither is given, all
        end-use nodes are targets.
    min_output
        Required output fraction in (0, 1].
    days
        Length of the period the target must hold, from day 0.
    stage
        Hold the stock at every node of this stage (uniform days) instead of at each target.
    tolerance
        Bisection precision in days; results are rounded up to it.
    response
        ``"none"`` (default) or ``"rules"``: the timeline model the stock is sized against
        (see :func:`~supplygraph.analysis.timeline.timeline`; under the rules, re-sourcing and
        ramping spare capacity shrink the gap the stock must cover).

    Returns
    -------
    pandas.DataFrame
        One row per target (plus ``(all targets)`` when ``stage`` is given): ``target``,
        ``holder`` (the node or ``"stage:<name>"``), ``baseline_min_output`` (lowest output
        over the period with no added stock), ``added_days`` (0 when the target already holds;
        NaN when no stock at the holder can meet it), ``stock`` (quantity in ``unit``: added days
        x daily input use, summed over the holders), ``unit``, ``achieved_min_output``,
        ``feasible``.

    Raises
    ------
    ScenarioError
        For bad parameters, unknown targets or a stage without nodes.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["mining", "end_use"])
    >>> G.add_node("A:mining", stage="mining", country="A", value=365.0)
    >>> G.add_node("B:defense", stage="end_use", country="B", value=365.0, end_use="defense")
    >>> G.add_edge("A:mining", "B:defense", flow=365.0)
    >>> df = stockpile(G, "A:mining", end_use="defense", min_output=0.9, days=30)
    >>> float(df.loc[0, "added_days"])  # 29 full days, and 0.9 of a day on day 29
    29.9
    """
    from supplygraph.analysis.scenarios import apply_capacity, capacity_tranches
    from supplygraph.analysis.simulation import (
        compile_plan,
        resolve_targets,
        shock_list,
        simulate,
        simulate_response,
        timeline_response,
    )

    if not 0 < float(min_output) <= 1:
        msg = f"min_output must be in (0, 1], got {min_output!r}"
        raise ScenarioError(msg)
    if not isinstance(days, int | np.integer) or isinstance(days, bool) or days < 1:
        msg = f"days must be a whole number >= 1, got {days!r}"
        raise ScenarioError(msg)
    days = int(days)
    shocks, sc = shock_list(scenario)
    resp = timeline_response(response, optimal=False)
    H = apply_capacity(G, sc)

    targets = resolve_targets(H, target_nodes, end_use)

    plan = compile_plan(H, shocks, days)
    n = len(plan.nodes)
    t_idx = np.array([plan.index[t] for t in targets])
    if stage is not None:
        holders = [v for v, d in H.nodes(data=True) if d.get("stage") == stage]
        if not holders:
            known = ", ".join(H.graph.get("stages", [])) or "none"
            msg = f"stage {stage!r} has no nodes (stages: {known})"
            raise ScenarioError(msg)
        columns = [*targets, ALL_TARGETS]
        mask = np.zeros((n, 1))
        mask[[plan.index[h] for h in holders], 0] = 1.0
        masks = np.repeat(mask, len(columns), axis=1)
    else:
        holders = None
        columns = list(targets)
        masks = np.zeros((n, len(columns)))
        masks[t_idx, np.arange(len(columns))] = 1.0
    B = len(columns)

    tranches = capacity_tranches(G, sc) if resp.model != "none" else []

    def run(extra: np.ndarray) -> dict[str, np.ndarray]:
        if resp.model == "none":
            return simulate(plan, extra, record=False, days=days)
        return simulate_response(H, plan, shocks, resp, tranches, extra, record=False, days=days)

    def achieved(added: np.ndarray) -> np.ndarray:
        sim = run(masks * added[None, :])
        depth = sim["depth"][t_idx, :]  # (targets, B)
        if stage is None:
            return depth[np.arange(B), np.arange(B)]
        per_target = depth[np.arange(len(targets)), np.arange(len(targets))]
        return np.append(per_target, depth[:, -1].min())

    need = float(min_output) - 1e-9  # rounding noise in the stock arithmetic
    base = achieved(np.zeros(B))
    hi = np.full(B, float(days) + plan.maxlag + 1.0)
    at_hi = achieved(hi)
    feasible = at_hi >= need
    done = base >= need
    lo = np.zeros(B)
    hi = np.where(done, 0.0, hi)
    active = feasible & ~done
    while active.any() and np.max((hi - lo)[active]) > tolerance:
        mid = np.where(active, (lo + hi) / 2.0, hi)
        ok = achieved(mid) >= need
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid, lo)
        active = active & ((hi - lo) > tolerance)
    # report on the tolerance grid: the grid point below when it suffices, else the next one up
    grid = np.floor(hi / tolerance + 1e-9) * tolerance
    grid_ok = achieved(np.where(feasible, grid, 0.0)) >= need
    added = np.where(feasible, np.where(grid_ok | done, grid, grid + tolerance), np.nan)
    added = np.round(added, 10)
    final = achieved(np.where(feasible, added, 0.0))

    rows = []
    for j, target in enumerate(columns):
        holder_nodes = holders if holders is not None else [target]
        uses = [_daily_use(H, h) for h in holder_nodes]
        units = sorted({str(u) for _, u in uses if u})
        per_day = sum(q for q, _ in uses)
        rows.append(
            {
                "target": target,
                "holder": f"stage:{stage}" if stage is not None else target,
                "baseline_min_output": float(base[j]),
                "added_days": float(added[j]) if feasible[j] else np.nan,
                "stock": float(added[j] * per_day) if feasible[j] else np.nan,
                "unit": ", ".join(units) if units else None,
                "achieved_min_output": float(final[j]) if feasible[j] else float(at_hi[j]),
                "feasible": bool(feasible[j]),
            }
        )
    return pd.DataFrame(rows)
