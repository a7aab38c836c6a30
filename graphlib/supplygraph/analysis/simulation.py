"""The day-by-day simulation engine behind time to shortage, stockpile sizing and mitigation.

The model is stated in :mod:`supplygraph.analysis.timeline` (one step per day: output
``h_v(t) = cap_v(t) * min(1, x_v(t) + used_v(t))`` with lagged inputs
``x_v(t) = sum_u a_uv * keep_uv(t) * h_u(t - L_uv) + ext_v`` and stocks drawn down only to cover a
gap). This module holds the arrays and loops that compute it, so that
:mod:`~supplygraph.analysis.timeline`, :mod:`~supplygraph.analysis.stockpile` and
:mod:`~supplygraph.analysis.mitigation` share one implementation and import it from below:

* :func:`compile_plan` turns a graph, its shocks and a horizon into arrays (:class:`Plan`);
* :func:`simulate` runs the no-response model for a batch of inventory configurations;
* :func:`simulate_response` runs the same days with the rules response of
  :mod:`supplygraph.analysis.rules` (new suppliers, substitution, rationing) each day;
* :func:`capacity_schedule` gives each node's capacity ratio per day as new capacity ramps up;
* :func:`resolve_targets`, :func:`end_use_groups` and :func:`node_weights` choose and weight the
  end-use nodes reported.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.errors import ScenarioError, SupplyGraphError

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.analysis.shocks import Shock

__all__ = [
    "SHORTAGE_TOL",
    "Plan",
    "TimelineDraws",
    "as_float",
    "capacity_schedule",
    "compile_plan",
    "end_use_groups",
    "extra_matrix",
    "node_weights",
    "resolve_targets",
    "shock_list",
    "shock_window",
    "simulate",
    "simulate_response",
    "timeline_response",
]


#: Output below 1 - SHORTAGE_TOL counts as a shortage (guards against rounding noise).
SHORTAGE_TOL = 1e-9


_GAP_TOL = 1e-12


_MAX_SWEEPS = 10_000


@dataclass
class Plan:
    nodes: list[Any]
    index: dict[Any, int]
    src: np.ndarray  # edge supplier index
    dst: np.ndarray  # edge customer index
    share: np.ndarray  # a_uv per edge
    lag: np.ndarray  # whole days per edge
    ext: np.ndarray  # external share per node (1 for nodes without inputs)
    inventory: np.ndarray  # inventory_days per node
    lags: np.ndarray  # distinct positive lags
    maxlag: int
    segments: list[tuple[int, int, np.ndarray, np.ndarray]]  # (start, end, cap, keep)
    horizon: int


def as_float(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(out) else out


def shock_list(scenario_or_shocks: Any) -> tuple[list[Any], Scenario | None]:
    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.analysis.shocks import parse_shock

    if isinstance(scenario_or_shocks, Scenario):
        return list(scenario_or_shocks.shocks), scenario_or_shocks
    if scenario_or_shocks is None:
        return [], None
    items: Iterable[Any]
    if isinstance(scenario_or_shocks, str) or not isinstance(scenario_or_shocks, Iterable):
        items = [scenario_or_shocks]
    else:
        items = scenario_or_shocks
    return [parse_shock(s) if isinstance(s, str) else s for s in items], None


def shock_window(shock: Any) -> tuple[int, float]:
    start = getattr(shock, "start_day", None)
    end = getattr(shock, "end_day", None)
    return (int(start) if start is not None else 0, float(end) if end is not None else math.inf)


def compile_plan(G: nx.DiGraph, shocks: Sequence[Shock], horizon: int) -> Plan:
    from supplygraph.analysis.shocks import resolve_shocks

    nodes = list(G.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    edges = [(u, v, d) for u, v, d in G.edges(data=True)]
    src = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    flow = np.fromiter((as_float(d.get("flow")) for *_, d in edges), dtype=float, count=len(edges))
    lag = np.fromiter(
        (round(as_float(d.get("lead_days"))) for *_, d in edges), dtype=np.int64, count=len(edges)
    )
    lag = np.maximum(lag, 0)
    ext_abs = np.array([as_float(G.nodes[v].get("external_input")) for v in nodes], dtype=float)
    denom = np.bincount(dst, weights=flow, minlength=n) + ext_abs
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(denom[dst] > 0, flow / denom[dst], 0.0)
        ext = np.where(denom > 0, ext_abs / denom, 1.0)
    inventory = np.array([as_float(G.nodes[v].get("inventory_days")) for v in nodes], dtype=float)
    inventory = np.maximum(inventory, 0.0)
    lags = np.unique(lag[lag > 0])
    maxlag = int(lags.max()) if lags.size else 0

    # piecewise-constant shock segments: resolve each distinct set of active shocks once
    bounds = {0, horizon}
    for shock in shocks:
        start, end = shock_window(shock)
        for day in (start, end):
            if 0 < day < horizon:
                bounds.add(int(day))
    cuts = sorted(bounds)
    edge_pos = {(u, v): i for i, (u, v, _) in enumerate(edges)}
    cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}
    segments = []
    for a, b in itertools.pairwise(cuts):
        active = tuple(
            i for i, s in enumerate(shocks) if shock_window(s)[0] <= a < shock_window(s)[1]
        )
        if active not in cache:
            cap = np.ones(n)
            keep = np.ones(len(edges))
            if active:
                node_cut, edge_cut = resolve_shocks(G, [shocks[i] for i in active])
                for node, c in node_cut.items():
                    cap[index[node]] = 1.0 - float(c)
                for key, c in edge_cut.items():
                    if key in edge_pos:
                        keep[edge_pos[key]] = 1.0 - float(c)
            cache[active] = (np.clip(cap, 0.0, 1.0), np.clip(keep, 0.0, 1.0))
        cap, keep = cache[active]
        segments.append((a, b, cap, keep))
    return Plan(nodes, index, src, dst, share, lag, ext, inventory, lags, maxlag, segments, horizon)


@dataclass
class TimelineDraws:
    """Per-draw inputs of the day-by-day model (one column per Monte Carlo draw).

    Attributes
    ----------
    share
        Input share of every edge (plan order) per draw, (m, B).
    ext
        External share of every node per draw, (n, B).
    inventory
        Stock in days of normal use per node and draw, (n, B).
    lag
        Lead time in whole days per edge and draw, (m, B).
    caps
        Per shock segment of the plan: ``(cap (n, B), keep (m, B))``.
    """

    share: np.ndarray
    ext: np.ndarray
    inventory: np.ndarray
    lag: np.ndarray
    caps: list[tuple[np.ndarray, np.ndarray]]

    @property
    def size(self) -> int:
        """Number of draws."""
        return int(self.ext.shape[1])


class _DrawInputs:
    """``sum_u a_uv keep_uv h_u(t - L_uv)`` per node and draw, with per-draw weights and lags."""

    def __init__(self, plan: Plan, w: np.ndarray, lag: np.ndarray) -> None:
        order = np.argsort(plan.dst, kind="stable")
        self.src, self.dst = plan.src[order], plan.dst[order]
        self.n = len(plan.nodes)
        w, lag = w[order], lag[order]
        self.w_lag = np.where(lag > 0, w, 0.0)
        self.w0 = np.where(lag == 0, w, 0.0)
        self.lag = lag
        self.cols = np.arange(w.shape[1])[None, :]
        self.has_zero = bool(self.w0.any())

    def _sum(self, values: np.ndarray) -> np.ndarray:
        from supplygraph.uncertainty.kernels import _segment_sum

        return _segment_sum(values, self.dst, self.n)

    def lagged(self, hist: np.ndarray, now: int) -> np.ndarray:
        rows = now - self.lag
        return self._sum(self.w_lag * hist[rows, self.src[:, None], self.cols])

    def same_day(self, h: np.ndarray) -> np.ndarray:
        return self._sum(self.w0 * h[self.src])


def simulate(
    plan: Plan,
    extra: np.ndarray | None = None,
    *,
    record: bool = True,
    days: int | None = None,
    draws: TimelineDraws | None = None,
    watch: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Run the day-by-day model for a batch of inventory configurations (or of draws).

    Parameters
    ----------
    plan
        Compiled arrays.
    extra
        Added inventory days, shape (n,) or (n, B) for a batch of B configurations.
    record
        Keep the daily output matrix (days x n x B).
    days
        Simulate only the first ``days`` days (default: the plan's horizon).
    draws
        Per-draw shares, external shares, stocks, lead times and cuts (one column per draw;
        ``extra`` is then ignored).
    watch
        Weights (n, k): also record ``watch.T @ h`` per day (sector series), (T, k, B).

    Returns
    -------
    dict
        ``daily`` (T, n, B) when recorded, ``tts`` (n, B; inf when never short), ``depth``,
        ``lost`` (sum of 1 - h), ``final``, ``stock`` (n, B), and ``watched`` with ``watch``.
    """
    from scipy import sparse

    n = len(plan.nodes)
    T = plan.horizon if days is None else min(days, plan.horizon)
    if draws is not None:
        B = draws.size
        stock = np.maximum(draws.inventory, 0.0).copy()
        L = int(draws.lag.max()) if draws.lag.size else 0
        ext = draws.ext
    else:
        extra = extra_matrix(extra, n)
        B = extra.shape[1]
        stock = plan.inventory[:, None] + np.maximum(extra, 0.0)
        L = plan.maxlag
        ext = plan.ext[:, None]
    hist = np.ones((L + T, n, B))
    supply = np.ones((T, n, B)) if record else None
    watched = np.ones((T, watch.shape[1], B)) if watch is not None else None
    watch_t = sparse.csr_matrix(watch.T) if watch is not None else None  # sums in a fixed order
    tts = np.full((n, B), np.inf)
    depth = np.ones((n, B))
    lost = np.zeros((n, B))
    k = plan.lags.size
    zero = plan.lag == 0
    h = np.ones((n, B))
    for seg, (start, end, cap1, keep) in enumerate(plan.segments):
        if start >= T:
            break
        end = min(end, T)
        inputs = None
        M = B0 = None
        if draws is not None:
            cap, keep_d = draws.caps[seg]
            inputs = _DrawInputs(plan, draws.share * keep_d, draws.lag)
            has_zero = inputs.has_zero
        else:
            w = plan.share * keep
            # lagged part: one matrix (n x k*n) against the stacked lagged outputs
            if k:
                lag_pos = np.searchsorted(plan.lags, plan.lag[~zero])
                cols = lag_pos * n + plan.src[~zero]
                M = sparse.csr_matrix((w[~zero], (plan.dst[~zero], cols)), shape=(n, k * n))
            B0 = sparse.csr_matrix((w[zero], (plan.dst[zero], plan.src[zero])), shape=(n, n))
            has_zero = B0.nnz > 0
            cap = cap1[:, None]
        shut = cap <= 0
        t = start
        while t < end:
            base = ext.copy()
            if inputs is not None:
                base = base + inputs.lagged(hist, L + t)
            elif M is not None:
                stacked = hist[L + t - plan.lags]  # (k, n, B)
                base = base + M @ stacked.reshape(k * n, B)
            h = cap * np.ones((n, B))
            for _ in range(_MAX_SWEEPS):
                if not has_zero:
                    x = base
                elif inputs is not None:
                    x = base + inputs.same_day(h)
                else:
                    x = base + B0 @ h  # type: ignore[operator]
                gap = 1.0 - x
                gap[gap < _GAP_TOL] = 0.0
                used = np.minimum(stock, gap)
                used[np.broadcast_to(shut, used.shape)] = 0.0
                h_new = cap * np.minimum(1.0, x + used)
                if not has_zero or np.array_equal(h_new, h):
                    h = h_new
                    break
                if np.max(np.abs(h_new - h)) < 1e-14:
                    h = h_new
                    break
                h = h_new
            else:  # pragma: no cover - needs a zero-lead cycle with no leak
                msg = "timeline: same-day flows did not converge (a zero-lead cycle?)"
                raise SupplyGraphError(msg)
            stock = np.maximum(stock - used, 0.0)
            hist[L + t] = h
            if supply is not None:
                supply[t] = cap * np.minimum(1.0, x)
            if watched is not None:
                watched[t] = watch_t @ h
            short = h < 1.0 - SHORTAGE_TOL
            tts = np.where(short & np.isinf(tts), t, tts)
            depth = np.minimum(depth, h)
            lost += 1.0 - h
            t += 1
            # Fast-forward: when the last maxlag+1 days had the same output, tomorrow's inputs are
            # today's, so every day repeats today exactly while each drawing stock still covers
            # its whole gap. Skip those days in one step (same result as stepping day by day).
            if t < end and np.array_equal(hist[t - 1 : L + t], np.broadcast_to(h, (L + 1, n, B))):
                drawing = used > 0
                if drawing.any():
                    reps = int(np.floor(np.min(stock[drawing] / used[drawing])))
                else:
                    reps = end - t
                reps = min(reps, end - t)
                if reps > 0:
                    hist[L + t : L + t + reps] = h
                    if supply is not None:
                        supply[t : t + reps] = supply[t - 1]
                    if watched is not None:
                        watched[t : t + reps] = watched[t - 1]
                    stock = np.maximum(stock - reps * used, 0.0)
                    lost += reps * (1.0 - h)
                    t += reps
    out = {"tts": tts, "depth": depth, "lost": lost, "final": h, "stock": stock}
    if record:
        out["daily"] = hist[L:]
        out["supply"] = supply
    if watched is not None:
        out["watched"] = watched
    return out


def capacity_schedule(
    cg: Any, tranches: Sequence[tuple[Any, float, int, float | None]] = ()
) -> tuple[Any, set[int]]:
    """Capacity over time: ``kappa(t)``, the most each node can make on day ``t`` (fraction).

    ``kappa(t) = 1 + spare * r(t; ramp_delay_days, ramp_days) + sum_tranches added * r(t; start,
    ramp)`` with the linear ramp ``r(t; L, tau) = clip((t - L) / tau, 0, 1)`` from day ``L`` (a
    step at ``L`` when ``tau = 0``); ``spare`` is the node's own spare capacity (its capacity
    before the scenario, over its normal output, minus 1) and each tranche is capacity a
    scenario adds (:func:`~supplygraph.analysis.scenarios.capacity_tranches`), as a share of
    normal output.

    Parameters
    ----------
    cg
        The compiled graph of the graph *with* the scenario's capacity applied.
    tranches
        ``(node, added, start_day, ramp_days)`` per tranche (ramp None: the node's own).

    Returns
    -------
    (kappa, change_days)
        ``kappa(t)`` returns an array per position; ``change_days`` the days on which some
        capacity changes (every day of a ramp).
    """
    from supplygraph.analysis.response_arrays import capacity_ratio

    kappa_final = capacity_ratio(cg)
    base = np.where(cg.baseline > 0, cg.baseline, 1.0)
    ramps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (amount, delay, duration)
    own = kappa_final - 1.0
    for node, added, start, ramp in tranches:
        p = cg.index.get(node)
        if p is None or added <= 0:
            continue
        amount = np.zeros(cg.n)
        amount[p] = added / base[p]
        own = own - amount
        dur = np.zeros(cg.n)
        dur[p] = cg.ramp_days[p] if ramp is None else ramp
        delay = np.zeros(cg.n)
        delay[p] = start
        ramps.append((amount, delay, dur))
    ramps.insert(0, (np.maximum(own, 0.0), cg.ramp_delay_days, cg.ramp_days))

    def kappa_on(t: float) -> np.ndarray:
        k = np.ones(cg.n)
        for amount, delay, dur in ramps:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(dur > 0, (t - delay) / np.where(dur > 0, dur, 1.0), 1.0)
            r = np.where(t >= delay, np.clip(r, 0.0, 1.0), 0.0)
            k = k + amount * r
        return k

    change_days = {0}
    for amount, delay, dur in ramps:
        live = amount > 0
        for d0, d1 in zip(delay[live].tolist(), (delay + dur)[live].tolist(), strict=True):
            change_days.update(range(int(np.floor(d0)), int(np.ceil(d1)) + 1))
    return kappa_on, change_days


def simulate_response(
    G: nx.DiGraph,
    plan: Plan,
    shocks: Sequence[Any],
    response: Any,
    tranches: Sequence[tuple[Any, float, int, float | None]] = (),
    extra: np.ndarray | None = None,
    *,
    record: bool = True,
    days: int | None = None,
) -> dict[str, np.ndarray]:
    """The day-by-day model under the ``rules`` response (see :func:`timeline`).

    Each day is the rules' fixed point (:func:`supplygraph.analysis.rules.solve_rules`) with
    that day's capacities (spare capacity ramping after its delay, capacity the scenario adds
    ramping from its start day), that day's stocks, the supplier outputs that reach each
    customer after the link's lead time, and new supplier links only once qualified. Same
    inputs and outputs as :func:`simulate` (arrays in the plan's node order).
    """
    from supplygraph.analysis.propagation import _closed_values
    from supplygraph.analysis.response_arrays import build_problem
    from supplygraph.analysis.rules import solve_rules
    from supplygraph.compiled import compile_graph

    cg = compile_graph(G)
    n = len(plan.nodes)
    T = plan.horizon if days is None else min(days, plan.horizon)
    extra = extra_matrix(extra, n)
    B = extra.shape[1]
    pos = cg.graph_pos  # plan index -> position
    stock = np.zeros((n, B))
    stock[pos] = plan.inventory[:, None] + np.maximum(extra, 0.0)
    edge_at = {key: i for i, key in enumerate((u, v) for u, v in G.edges())}
    plan_edge = np.array([edge_at[cg.edge_key(e)] for e in range(cg.m)], dtype=np.int64)
    lag = plan.lag[plan_edge] if cg.m else np.zeros(0, dtype=np.int64)
    L = plan.maxlag

    kappa_on, change_days = capacity_schedule(cg, tranches)
    qual = float(response.qualification_days)
    if response.substitution == "stage":
        change_days.add(int(np.ceil(qual)))

    hist = np.ones((L + T, cg.n, B))
    supply_rec = np.ones((T, cg.n, B)) if record else None
    tts = np.full((cg.n, B), np.inf)
    depth = np.ones((cg.n, B))
    lost = np.zeros((cg.n, B))
    h = np.ones((cg.n, B))
    lagged_edges = np.flatnonzero(lag > 0)
    for start, end, cap1, keep1 in plan.segments:
        if start >= T:
            break
        end = min(end, T)
        cap = np.empty(cg.n)
        cap[pos] = cap1
        keep = keep1[plan_edge] if cg.m else np.zeros(0)
        active = [s for s in shocks if shock_window(s)[0] <= start < shock_window(s)[1]]
        prob = build_problem(
            G, cg, np.repeat(cap[:, None], B, axis=1), keep, response, "linear", active
        )
        new_links = np.arange(cg.m, prob.m)
        new_quota = prob.quota[new_links].copy()
        closed = None
        if cg.closed_node.any():
            closed = np.repeat(_closed_values(cg, cap, keep if cg.m else None)[:, None], B, axis=1)
        lagged = np.full((prob.m, B), np.nan) if len(lagged_edges) else None
        t = start
        while t < end:
            prob.kappa = kappa_on(t)
            if len(new_links):
                prob.quota[new_links] = new_quota if t >= qual else 0.0
            if lagged is not None:
                lagged[lagged_edges] = hist[L + t - lag[lagged_edges], cg.src[lagged_edges]]
            res = solve_rules(prob, closed_values=closed, stock=stock, lagged=lagged)
            h = res.x
            used = res.used if res.used is not None else np.zeros_like(h)
            stock = np.maximum(stock - used, 0.0)
            hist[L + t] = h
            if supply_rec is not None and res.supply is not None:
                supply_rec[t] = np.minimum(1.0, cap[:, None] * np.minimum(1.0, res.supply))
            short = h < 1.0 - SHORTAGE_TOL
            tts = np.where(short & np.isinf(tts), t, tts)
            depth = np.minimum(depth, h)
            lost += np.maximum(1.0 - h, 0.0)
            t += 1
            # fast-forward while nothing changes (as in the no-response loop)
            if (
                t < end
                and t not in change_days
                and np.array_equal(hist[t - 1 : L + t], np.broadcast_to(h, (L + 1, cg.n, B)))
            ):
                later = [d for d in change_days if d > t]
                stop = min([end, *later])
                drawing = used > 0
                reps = (
                    int(np.floor(np.min(stock[drawing] / used[drawing])))
                    if drawing.any()
                    else stop - t
                )
                reps = min(reps, stop - t)
                if reps > 0:
                    hist[L + t : L + t + reps] = h
                    if supply_rec is not None:
                        supply_rec[t : t + reps] = supply_rec[t - 1]
                    stock = np.maximum(stock - reps * used, 0.0)
                    lost += reps * np.maximum(1.0 - h, 0.0)
                    t += reps
    out = {
        "tts": tts[pos],
        "depth": depth[pos],
        "lost": lost[pos],
        "final": h[pos],
        "stock": stock[pos],
    }
    if record:
        out["daily"] = hist[L:][:, pos]
        out["supply"] = supply_rec[:, pos]  # type: ignore[index]
    return out


def timeline_response(response: Any, *, optimal: bool = True) -> Any:
    from supplygraph.analysis.response_options import Response

    resp = Response.of(response)
    if resp.model == "optimal" and not optimal:
        msg = "the stockpile is sized day by day under 'none' or 'rules'; use mitigate for the optimum"
        raise ScenarioError(msg)
    return resp


def resolve_targets(
    G: nx.DiGraph, target_nodes: Sequence[Any] | None, end_use: str | None
) -> list[Any]:
    """The nodes a time analysis must keep up: ``target_nodes``, else an end-use sector's
    nodes (:func:`end_use_groups`), else every end-use node.

    Raises
    ------
    ScenarioError
        For an unknown node or sector, or when there is no target.
    """
    if target_nodes is not None:
        targets = list(target_nodes)
        missing = [t for t in targets if t not in G]
        if missing:
            msg = f"target node {missing[0]!r} is not in the graph"
            raise ScenarioError(msg)
    else:
        groups = end_use_groups(G)
        if end_use is not None and end_use not in groups:
            msg = (
                f"end use {end_use!r} is not in the graph (end uses: {', '.join(groups) or 'none'})"
            )
            raise ScenarioError(msg)
        if end_use is not None:
            targets = list(groups[end_use])
        else:
            targets = [n for members in groups.values() for n in members]
    if not targets:
        msg = "no target nodes"
        raise ScenarioError(msg)
    return targets


def extra_matrix(extra: np.ndarray | None, n: int) -> np.ndarray:
    """Added inventory days as an (n, B) matrix (one column: a single configuration)."""
    if extra is None:
        return np.zeros((n, 1))
    out = np.asarray(extra, dtype=float)
    return out[:, None] if out.ndim == 1 else out


def end_use_groups(G: nx.DiGraph) -> dict[str, list[Any]]:
    """Group the end-use nodes of ``G`` by sector.

    A node is an end use when it has an ``end_use`` attribute or its stage is ``"end_use"``
    (its sector then defaults to its id).

    Returns
    -------
    dict
        sector -> list of node ids, sectors sorted by name.
    """
    groups: dict[str, list[Any]] = {}
    for node, d in G.nodes(data=True):
        sector = d.get("end_use")
        if sector is None or (isinstance(sector, float) and math.isnan(sector)):
            if d.get("stage") != "end_use":
                continue
            sector = str(node)
        groups.setdefault(str(sector), []).append(node)
    return dict(sorted(groups.items()))


def node_weights(G: nx.DiGraph, members: list[Any]) -> np.ndarray:
    """Value weights within a sector; equal weights when the members' units differ."""
    w = np.array([as_float(G.nodes[m].get("value"), 0.0) for m in members])
    units = {G.nodes[m].get("unit") for m in members}
    if w.sum() <= 0 or len(units) > 1:
        w = np.ones(len(members))
    return w / w.sum()
