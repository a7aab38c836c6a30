"""Time to shortage: a day-by-day simulation of a scenario with inventories and lead times.

The static models of :mod:`supplygraph.analysis.propagation` say how much output is lost *once
everything has settled*. Plants, however, stop when their stock runs out, not when a licence is
refused: this module adds time.

The model (linear, one step per day)
------------------------------------
Each node ``v`` has a normal (baseline) daily activity of 1. On day ``t``:

* its own shock caps it: ``cap_v(t) = 1 - node_cut_v(t)``; an edge shock keeps
  ``keep_uv(t) = 1 - edge_cut_uv(t)`` of that flow (shocks are active on
  ``start_day <= t < end_day``);
* inputs arrive after the edge's lead time ``L_uv`` (``lead_days``, rounded to whole days,
  default 0): ``x_v(t) = sum_u a_uv * keep_uv(t) * h_u(t - L_uv) + ext_v``, where ``a_uv`` is the
  share of v's inputs coming from u (``flow(u, v) / (sum_w flow(w, v) + external_input(v))``) and
  ``ext_v`` the external share that is never shocked. Before day 0 every node ran at 1 (the
  pipeline is full). A node without inputs has ``x_v = 1``;
* the node wants its normal input (demand 1.0). Its stock ``S_v`` (in days of normal use,
  initially ``inventory_days``, default 0) covers the gap until it is empty:
  ``used_v(t) = min(S_v(t), max(0, 1 - x_v(t)))``; ``S_v(t + 1) = S_v(t) - used_v(t)``. A node
  that is shut (``cap = 0``) draws nothing. Stocks are not rebuilt within the horizon (there is no
  surplus supply in this model to rebuild them from);
* its output is ``h_v(t) = cap_v(t) * min(1, x_v(t) + used_v(t))``.

So a full cut with 20 days of stock keeps the node at 100 % for days 0-19 and it runs dry on
day 20; a 50 % cut with 20 days of stock lasts 40 days. Once every stock is empty and every lead
time has passed, ``h`` equals the static linear model's answer (:func:`~supplygraph.analysis.
propagation.propagate`). Flows with zero lead time take effect the same day (a fixed point per
day, exact after as many sweeps as the longest zero-lead chain; cycles converge geometrically).

Vectorised: per day one sparse matrix-vector product over all lagged input shares (the lagged
outputs are stacked into one vector), plus one per zero-lead sweep; no Python loop over edges or
nodes. A batch of inventory configurations can be simulated at once (used by
:mod:`supplygraph.analysis.stockpile`).

Reported per node and per end use: **time to shortage** (TTS, the first day output is below
100 %), **depth** (the lowest output fraction), **cumulative lost output** over the horizon (in
the node's ``value`` unit: ``value * sum_t (1 - h_t) / 365``), and, when ``recovery_days`` (TTR)
is given, whether TTS < TTR (Simchi-Levi's test: the node runs out before it can recover).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.errors import ScenarioError, SupplyGraphError
from supplygraph.notebook import result_html

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.analysis.shocks import Shock

__all__ = ["TimelineDraws", "TimelineResult", "timeline", "timeline_draws"]

#: Output below 1 - SHORTAGE_TOL counts as a shortage (guards against rounding noise).
SHORTAGE_TOL = 1e-9
_GAP_TOL = 1e-12
_MAX_SWEEPS = 10_000

ASSUMPTIONS = [
    "Time to shortage uses the linear model day by day: a node's output is its own cap times its "
    "available input share, inputs arriving after each edge's lead time (lead_days, rounded to "
    "whole days; 0 when missing).",
    "Each node holds inventory_days of its normal input use (0 when missing) and draws it down "
    "only to cover a shortfall, keeping output at 100 % until the stock is empty; stocks are not "
    "rebuilt within the horizon and there is no rationing.",
    "Before day 0 every node ran at its baseline; shocks act on start_day <= day < end_day.",
    "Cumulative lost output is value x (lost full-output days) / 365, in each node's value unit.",
]


@dataclass
class TimelineResult:
    """The outcome of :func:`timeline`.

    Attributes
    ----------
    daily
        Output fraction per day (index ``day`` 0..horizon-1) and node (columns); None when the
        simulation was run with ``daily=False``.
    summary
        One row per node (index ``node``): ``stage``, ``country``, ``end_use``, ``value``,
        ``unit``, ``inventory_days``, ``recovery_days``, ``time_to_shortage`` (day, NaN when
        output never falls below 100 %), ``depth`` (lowest output fraction), ``final_output``,
        ``lost_days`` (sum of 1 - output over the horizon: full-output days lost),
        ``cumulative_lost`` (value x lost_days / 365), ``stock_left`` (days of stock at the end),
        ``tts_lt_ttr`` (True when TTS < recovery_days; NA when either is missing),
        ``time_to_recovery`` (the day the node's supply from deliveries -- before its own stock
        -- is back at 100 % for good; NaN when it never fell short or does not come back within
        the horizon) and ``short_before_recovery`` (True when it runs short before its supply
        comes back, or never comes back: TTS < time to recovery). Sorted by time to shortage.
    end_uses
        One row per end-use sector (index ``end_use``), output-weighted over its nodes (each
        node equally when their units differ; ``value`` and ``cumulative_lost`` are then NaN
        and ``unit`` is "mixed"): ``nodes``, ``value``, ``unit``, ``time_to_shortage``,
        ``shortage_date`` (when the
        scenario has a start date), ``first_node`` (the first node to fall short), ``depth``,
        ``final_output``, ``lost_days``, ``cumulative_lost``, ``time_to_recovery`` and
        ``short_before_recovery`` (from the sector's weighted supply, as for nodes).
    daily_end_uses
        Output fraction per day and end-use sector (value-weighted mean of its nodes).
    horizon
        Number of simulated days.
    scenario
        Scenario name (or ``"shocks"``).
    start_date
        Calendar date of day 0 when known.
    assumptions
        Plain sentences stating the model's assumptions.
    response
        The supply response simulated (``"none"``, or ``"rules (...)"``).
    uncertainty
        With ``draws=``: every draw's sector outputs
        (:class:`~supplygraph.uncertainty.montecarlo.MonteCarloResult`).
    """

    daily: pd.DataFrame | None
    summary: pd.DataFrame
    end_uses: pd.DataFrame
    daily_end_uses: pd.DataFrame
    horizon: int
    scenario: str = "shocks"
    start_date: Any = None
    assumptions: list[str] = field(default_factory=lambda: list(ASSUMPTIONS))
    response: str = "none"
    uncertainty: Any = None

    def _repr_html_(self) -> str:  # tables in a notebook (supplygraph.notebook)
        return result_html(self)


# ----------------------------------------------------------------------------------------------
# compilation: arrays built once per (graph, shocks, horizon)


@dataclass
class _Plan:
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


def _num(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(out) else out


def _shock_list(scenario_or_shocks: Any) -> tuple[list[Any], Scenario | None]:
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


def _window(shock: Any) -> tuple[int, float]:
    start = getattr(shock, "start_day", None)
    end = getattr(shock, "end_day", None)
    return (int(start) if start is not None else 0, float(end) if end is not None else math.inf)


def _plan(G: nx.DiGraph, shocks: Sequence[Shock], horizon: int) -> _Plan:
    from supplygraph.analysis.shocks import resolve_shocks

    nodes = list(G.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    edges = [(u, v, d) for u, v, d in G.edges(data=True)]
    src = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    flow = np.fromiter((_num(d.get("flow")) for *_, d in edges), dtype=float, count=len(edges))
    lag = np.fromiter(
        (round(_num(d.get("lead_days"))) for *_, d in edges), dtype=np.int64, count=len(edges)
    )
    lag = np.maximum(lag, 0)
    ext_abs = np.array([_num(G.nodes[v].get("external_input")) for v in nodes], dtype=float)
    denom = np.bincount(dst, weights=flow, minlength=n) + ext_abs
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(denom[dst] > 0, flow / denom[dst], 0.0)
        ext = np.where(denom > 0, ext_abs / denom, 1.0)
    inventory = np.array([_num(G.nodes[v].get("inventory_days")) for v in nodes], dtype=float)
    inventory = np.maximum(inventory, 0.0)
    lags = np.unique(lag[lag > 0])
    maxlag = int(lags.max()) if lags.size else 0

    # piecewise-constant shock segments: resolve each distinct set of active shocks once
    bounds = {0, horizon}
    for shock in shocks:
        start, end = _window(shock)
        for day in (start, end):
            if 0 < day < horizon:
                bounds.add(int(day))
    cuts = sorted(bounds)
    edge_pos = {(u, v): i for i, (u, v, _) in enumerate(edges)}
    cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}
    segments = []
    for a, b in itertools.pairwise(cuts):
        active = tuple(i for i, s in enumerate(shocks) if _window(s)[0] <= a < _window(s)[1])
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
    return _Plan(
        nodes, index, src, dst, share, lag, ext, inventory, lags, maxlag, segments, horizon
    )


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

    def __init__(self, plan: _Plan, w: np.ndarray, lag: np.ndarray) -> None:
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


def _simulate(
    plan: _Plan,
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
        if extra is None:
            extra = np.zeros((n, 1))
        extra = np.asarray(extra, dtype=float)
        if extra.ndim == 1:
            extra = extra[:, None]
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
    from supplygraph.analysis.response import capacity_ratio

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


def _simulate_response(
    G: nx.DiGraph,
    plan: _Plan,
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
    inputs and outputs as :func:`_simulate` (arrays in the plan's node order).
    """
    from supplygraph.analysis.propagation import _closed_values
    from supplygraph.analysis.response import build_problem
    from supplygraph.analysis.rules import solve_rules
    from supplygraph.compiled import compile_graph

    cg = compile_graph(G)
    n = len(plan.nodes)
    T = plan.horizon if days is None else min(days, plan.horizon)
    if extra is None:
        extra = np.zeros((n, 1))
    extra = np.asarray(extra, dtype=float)
    if extra.ndim == 1:
        extra = extra[:, None]
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
        active = [s for s in shocks if _window(s)[0] <= start < _window(s)[1]]
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


# ----------------------------------------------------------------------------------------------
# public API


def timeline(
    G: nx.DiGraph,
    scenario_or_shocks: Scenario | Shock | str | Sequence[Shock | str] | None,
    horizon: int = 365,
    *,
    extra_inventory: Mapping[Any, float] | pd.Series | None = None,
    daily: bool = True,
    response: Any = None,
    draws: Any = None,
    seed: int | None = None,
    workers: int = 1,
) -> TimelineResult:
    """Simulate a scenario day by day and report time to shortage per node and end use.

    Parameters
    ----------
    G
        The supply graph. Nodes may carry ``inventory_days`` (stock in days of normal use) and
        ``recovery_days`` (TTR); edges may carry ``lead_days``. ``G`` is not modified.
    scenario_or_shocks
        A :class:`~supplygraph.analysis.scenarios.Scenario` (its ``[[capacity]]`` changes are
        applied first), one shock or shock text, or a list of them (shock text as
        :func:`~supplygraph.analysis.shocks.parse_shock` reads it; windows from the shocks'
        ``start_day``/``end_day``).
    horizon
        Number of days to simulate (day 0 .. horizon-1).
    extra_inventory
        Days of stock added to some nodes (node -> days), e.g. a stockpile.
    daily
        Keep the days x nodes output table (turn off for very large graphs).
    response
        ``"none"`` (default: the model above), ``"rules"`` (each day the rules response of
        :mod:`supplygraph.analysis.rules`: short customers re-source from spare capacity, which
        ramps up after its ``ramp_delay_days`` over ``ramp_days``; capacity the scenario adds
        ramps from its ``start_day``; new supplier links deliver after the response's
        ``qualification_days``), or a :class:`~supplygraph.analysis.response.Response`.
    draws, seed
        Monte Carlo draws over the graph's and the scenario's ranges (a count, or a
        :class:`~supplygraph.uncertainty.sampling.DrawSpec`) and their seed, with no
        response: ``end_uses`` gains ``time_to_shortage_p5``, ``_p50``, ``_p95``,
        ``depth_p5``, ``_p50``, ``_p95`` and ``p_tts_lt_60`` (:func:`timeline_draws`).
    workers
        With ``draws``: local processes for the draws (the result does not depend on it).

    Returns
    -------
    TimelineResult
        ``daily``, ``summary`` (per node), ``end_uses``, ``daily_end_uses``; see the class.

    Raises
    ------
    ScenarioError
        For a bad horizon or a shock whose selector matches nothing.

    Examples
    --------
    A chain mine -> plant -> factory whose factory holds 20 days of stock, with the mine shut
    from day 0; the factory runs dry on day 20:

    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["mining", "metal", "end_use"])
    >>> G.add_node("A:mining", stage="mining", country="A", value=1.0)
    >>> G.add_node("B:metal", stage="metal", country="B", value=1.0)
    >>> G.add_node("C:cars", stage="end_use", country="C", value=1.0, end_use="vehicles",
    ...            inventory_days=20)
    >>> G.add_edge("A:mining", "B:metal", flow=1.0)
    >>> G.add_edge("B:metal", "C:cars", flow=1.0)
    >>> res = timeline(G, "A:mining", horizon=60)
    >>> int(res.summary.loc["C:cars", "time_to_shortage"])
    20
    """
    from supplygraph.analysis.scenarios import apply_capacity

    if not isinstance(horizon, int | np.integer) or isinstance(horizon, bool) or horizon < 1:
        msg = f"horizon must be a whole number of days >= 1, got {horizon!r}"
        raise ScenarioError(msg)
    horizon = int(horizon)
    shocks, scenario = _shock_list(scenario_or_shocks)
    resp = _timeline_response(response)
    H = apply_capacity(G, scenario)
    plan = _plan(H, shocks, horizon)
    extra = np.zeros(len(plan.nodes))
    if extra_inventory is not None:
        for node, days in dict(extra_inventory).items():
            if node not in plan.index:
                msg = f"extra_inventory: node {node!r} is not in the graph"
                raise ScenarioError(msg)
            extra[plan.index[node]] = max(float(days), 0.0)
    if draws is not None and resp.model != "none":
        msg = "timeline draws run with no response (--response none)"
        raise ScenarioError(msg)
    if resp.model == "none":
        sim = _simulate(plan, extra, record=True)
    else:
        from supplygraph.analysis.scenarios import capacity_tranches

        tranches = capacity_tranches(G, scenario)
        sim = _simulate_response(H, plan, shocks, resp, tranches, extra, record=True)
    result = _result(H, plan, sim, horizon, keep_daily=daily)
    result.response = resp.describe()
    if resp.model != "none":
        result.assumptions.extend(RESPONSE_ASSUMPTIONS)
    if scenario is not None:
        result.scenario = scenario.name
        result.start_date = scenario.start_date
        if scenario.model != "linear":
            result.assumptions.append(
                f"The scenario names the {scenario.model} model (used by disrupt); the timeline "
                "always uses the linear model."
            )
        if scenario.capacity:
            result.assumptions.append(
                "Capacity changes were applied before the shocks: "
                + "; ".join(_describe_change(c) for c in scenario.capacity)
                + "."
            )
        if result.start_date is not None and not result.end_uses.empty:
            result.end_uses["shortage_date"] = [
                (result.start_date + pd.Timedelta(days=int(d))).isoformat()
                if np.isfinite(d)
                else None
                for d in result.end_uses["time_to_shortage"].fillna(np.inf)
            ]
    if draws is not None:
        from supplygraph.uncertainty.sampling import DrawSpec

        result.uncertainty = timeline_draws(
            G,
            scenario_or_shocks,
            result,
            DrawSpec.of(draws, seed),
            horizon=horizon,
            extra_inventory=extra_inventory,
            workers=workers,
        )
    return result


def timeline_draws(
    G: nx.DiGraph,
    scenario_or_shocks: Any,
    result: TimelineResult,
    spec: Any,
    *,
    horizon: int,
    extra_inventory: Mapping[Any, float] | None = None,
    workers: int = 1,
    days: int = 60,
) -> Any:
    """Add Monte Carlo intervals to a timeline's end-use table (in place).

    Every draw runs the day-by-day model (no response) with that draw's input shares (from
    its flows and external inputs), stocks (``inventory_days`` ranges), lead times
    (``lead_days`` ranges, rounded to whole days) and cuts; all draws of a chunk at once, as
    columns (:class:`TimelineDraws`). End-use sectors are weighted by their nodes' values as
    in the deterministic table.

    ``result.end_uses`` gains ``time_to_shortage_p5``, ``_p50``, ``_p95`` (NaN: not short
    within the horizon in at least that share of draws), ``depth_p5``, ``_p50``, ``_p95`` and
    ``p_tts_lt_60`` (the share of draws in which the sector runs short before day ``days``).

    Returns
    -------
    supplygraph.uncertainty.montecarlo.MonteCarloResult
        Outputs ``time_to_shortage`` (inf when never short), ``depth``, ``final_output`` and
        ``lost_days``, one row per sector.
    """
    from supplygraph.analysis.scenarios import apply_capacity
    from supplygraph.compiled import compile_graph
    from supplygraph.uncertainty.experiments import _notes
    from supplygraph.uncertainty.kernels import DrawPlan, ordered_sum
    from supplygraph.uncertainty.montecarlo import Experiment, percentile_columns, run
    from supplygraph.uncertainty.ranges import collect

    shocks, scenario = _shock_list(scenario_or_shocks)
    H = apply_capacity(G, scenario)
    plan = _plan(H, shocks, horizon)
    cg = compile_graph(H)
    drawn = ("value", "flow", "external_input", "inventory_days", "lead_days")
    factors = collect(H, scenario, shocks, distribution=spec.distribution, drawn=drawn)
    dplan = DrawPlan(H, cg, factors, shocks, scenario)
    n = len(plan.nodes)
    edge_at = {key: i for i, key in enumerate((u, v) for u, v in H.edges())}
    comp_edge = np.array([edge_at[cg.edge_key(e)] for e in range(cg.m)], dtype=np.int64)
    gpos = cg.graph_pos
    base_inv = plan.inventory.copy()
    for node, d in dict(extra_inventory or {}).items():
        base_inv[plan.index[node]] += max(float(d), 0.0)
    inv_items = factors.items.get("inventory_days")
    inv_pos = (
        np.array([plan.index[k] for k in inv_items.keys], dtype=np.int64) if inv_items else None
    )
    lead_items = factors.items.get("lead_days")
    lead_pos = (
        np.array([edge_at[tuple(k)] for k in lead_items.keys], dtype=np.int64)
        if lead_items
        else None
    )
    active = [
        [i for i, s in enumerate(shocks) if _window(s)[0] <= a < _window(s)[1]]
        for a, _, _, _ in plan.segments
    ]
    groups = end_use_groups(H)
    sectors = list(groups)
    watch = np.zeros((n, len(sectors)))
    for j, name in enumerate(sectors):
        members = groups[name]
        watch[[plan.index[m] for m in members], j] = _weights(H, members)
    m_plan = len(plan.src)

    def evaluate(u: np.ndarray) -> dict[str, np.ndarray]:
        A = dplan.arrays(u)
        B = u.shape[0]
        share = np.zeros((m_plan, B))
        share[comp_edge] = A.share
        inv = np.repeat(base_inv[:, None], B, axis=1)
        if inv_pos is not None:
            extra = (base_inv - plan.inventory)[inv_pos, None]
            inv[inv_pos] = dplan.values("inventory_days", u) + extra
        lag = np.repeat(plan.lag[:, None], B, axis=1)
        if lead_pos is not None:
            lag[lead_pos] = np.maximum(np.rint(dplan.values("lead_days", u)), 0).astype(np.int64)
        cuts = dplan.cuts(u)
        caps = []
        for on in active:
            cap, keep = dplan.caps(u, cuts, on)
            keep_p = np.ones((m_plan, B))
            if keep is not None:
                keep_p[comp_edge] = keep
            caps.append((cap[gpos], keep_p))
        draws = TimelineDraws(share=share, ext=A.ext[gpos], inventory=inv, lag=lag, caps=caps)
        sim = _simulate(plan, record=False, draws=draws, watch=watch)
        series = sim["watched"]  # (T, k, B)
        short = series < 1.0 - SHORTAGE_TOL
        first = np.argmax(short, axis=0).astype(float)
        tts = np.where(short.any(axis=0), first, np.inf)
        lost = ordered_sum(np.where(short, 1.0 - series, 0.0), 0)
        return {
            "time_to_shortage": tts,
            "depth": series.min(axis=0),
            "final_output": series[-1],
            "lost_days": lost,
        }

    maxlag = int(max(plan.maxlag, np.max(lead_items.high) if lead_items else 0))
    exp = Experiment(
        factors=factors,
        evaluate=evaluate,
        rows=dict.fromkeys(("time_to_shortage", "depth", "final_output", "lost_days"), sectors),
        cells=(maxlag + horizon + 4) * n + 8 * (m_plan + cg.m) + horizon * len(sectors),
    )
    res = run(exp, spec, workers=workers, notes=_notes(factors, dplan.skipped))
    tab = result.end_uses
    order = [sectors.index(str(k)) for k in tab.index]
    pct = res.percentiles("time_to_shortage")[order]
    percentile_columns(
        tab, "time_to_shortage", np.where(np.isinf(pct), np.nan, pct), "time_to_shortage"
    )
    percentile_columns(tab, "depth", res.percentiles("depth")[order], "depth")
    tab[f"p_tts_lt_{int(days)}"] = res.probability("time_to_shortage", lambda x: x < float(days))[
        order
    ]
    return res


RESPONSE_ASSUMPTIONS = [
    "Supply response 'rules', day by day: each day customers short of supply order more from "
    "suppliers with spare capacity or withheld output (incumbents keep their share); spare "
    "capacity comes online linearly over ramp_days after ramp_delay_days, capacity a scenario "
    "adds from its start_day; new supplier links deliver after qualification_days.",
    "Extra deliveries arrive the same day; lead_days delay the usual deliveries only.",
    "Stock covers what deliveries leave short of a node's normal intake; orders are placed for "
    "the whole gap whatever the stock.",
]


def _timeline_response(response: Any) -> Any:
    from supplygraph.analysis.response import Response

    resp = Response.of(response)
    if resp.model == "optimal":
        msg = (
            "the timeline runs the 'none' and 'rules' responses day by day; for the optimal "
            "bound use disrupt --response optimal (a static bound)"
        )
        raise ScenarioError(msg)
    return resp


def _describe_change(change: Any) -> str:
    parts = []
    if change.scale is not None:
        parts.append(f"x{change.scale:g}")
    if change.capacity is not None:
        part = f"capacity {change.capacity:g}"
        if change.start_day:
            part += f" from day {change.start_day}"
        if change.ramp_days:
            part += f" over {change.ramp_days:g} days"
        parts.append(part)
    return f"{change.selector} " + ", ".join(parts)


def _short_before(tts: np.ndarray, rec: np.ndarray, fell: np.ndarray) -> Any:
    """True where output runs short before supply is back (or supply never comes back)."""
    out = []
    for s_, r, f in zip(tts.tolist(), rec.tolist(), fell.tolist(), strict=True):
        if not f or s_ != s_:
            out.append(False)
        else:
            out.append(bool(r != r or s_ < r))
    return pd.array(out, dtype="boolean")


def _recovery_day(supply: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of a (days, k) supply series: the day it is back in full for good.

    Returns ``(day, fell)``: ``day`` is NaN where supply never fell short or never comes back
    within the horizon; ``fell`` says whether it fell short at all.
    """
    T = supply.shape[0]
    short = supply < 1.0 - SHORTAGE_TOL
    fell = np.asarray(short.any(axis=0), dtype=bool)
    if T == 0:
        return np.full(supply.shape[1], np.nan), fell
    # last short day; recovered the day after, when that is within the horizon
    last = T - 1 - np.argmax(short[::-1], axis=0)
    day = np.where(fell & (last < T - 1), last + 1.0, np.nan)
    return day, fell


def _result(
    G: nx.DiGraph, plan: _Plan, sim: dict[str, np.ndarray], horizon: int, *, keep_daily: bool
) -> TimelineResult:
    nodes = plan.nodes
    data = [G.nodes[v] for v in nodes]
    tts = sim["tts"][:, 0]
    value = np.array([_num(d.get("value"), np.nan) for d in data])
    lost = sim["lost"][:, 0]
    lost = np.where(lost < SHORTAGE_TOL * horizon, 0.0, lost)  # rounding noise is not a loss
    ttr = np.array([_num(d.get("recovery_days"), np.nan) for d in data])
    tts_f = np.where(np.isinf(tts), np.nan, tts)
    flag = pd.array(
        [
            pd.NA if np.isnan(r) else bool(np.isfinite(s) and s < r)
            for s, r in zip(tts, ttr, strict=True)
        ],
        dtype="boolean",
    )
    summary = pd.DataFrame(
        {
            "stage": [d.get("stage") for d in data],
            "country": [d.get("country") for d in data],
            "end_use": [d.get("end_use") for d in data],
            "value": value,
            "unit": [d.get("unit") for d in data],
            "inventory_days": plan.inventory,
            "recovery_days": ttr,
            "time_to_shortage": tts_f,
            "depth": sim["depth"][:, 0],
            "final_output": sim["final"][:, 0],
            "lost_days": lost,
            "cumulative_lost": value * lost / 365.0,
            "stock_left": sim["stock"][:, 0],
            "tts_lt_ttr": flag,
        },
        index=pd.Index(nodes, name="node"),
    )
    supply = sim["supply"][:, :, 0]
    rec, fell = _recovery_day(supply)
    summary["time_to_recovery"] = rec
    summary["short_before_recovery"] = _short_before(tts_f, rec, fell)
    summary = summary.sort_values(["time_to_shortage", "depth"], na_position="last", kind="stable")
    daily_arr = sim["daily"][:, :, 0]
    daily = (
        pd.DataFrame(daily_arr, index=pd.RangeIndex(horizon, name="day"), columns=nodes)
        if keep_daily
        else None
    )
    end_uses, daily_end_uses = _end_use_tables(G, plan, daily_arr, summary, horizon, supply)
    return TimelineResult(
        daily=daily,
        summary=summary,
        end_uses=end_uses,
        daily_end_uses=daily_end_uses,
        horizon=horizon,
    )


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


def _weights(G: nx.DiGraph, members: list[Any]) -> np.ndarray:
    """Value weights within a sector; equal weights when the members' units differ."""
    w = np.array([_num(G.nodes[m].get("value"), 0.0) for m in members])
    units = {G.nodes[m].get("unit") for m in members}
    if w.sum() <= 0 or len(units) > 1:
        w = np.ones(len(members))
    return w / w.sum()


def _end_use_tables(
    G: nx.DiGraph,
    plan: _Plan,
    daily: np.ndarray,
    summary: pd.DataFrame,
    horizon: int,
    supply: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    groups = end_use_groups(G)
    series: dict[str, np.ndarray] = {}
    rows = []
    for sector, members in groups.items():
        idx = [plan.index[m] for m in members]
        w = _weights(G, members)
        out = daily[:, idx] @ w
        series[sector] = out
        short = np.flatnonzero(out < 1.0 - SHORTAGE_TOL)
        if supply is not None:
            rec, fell = _recovery_day((supply[:, idx] @ w)[:, None])
        else:
            rec, fell = np.array([np.nan]), np.array([False])
        tts_e = np.array([float(short[0]) if short.size else np.nan])
        sub = summary.loc[members]
        first = sub["time_to_shortage"].idxmin() if sub["time_to_shortage"].notna().any() else None
        units = sorted({str(u) for u in sub["unit"].dropna()})
        # sums only within one unit: tonnes of magnets and tonnes of oxide do not add up
        one_unit = len(units) <= 1
        rows.append(
            {
                "end_use": sector,
                "nodes": len(members),
                "value": float(np.nansum(sub["value"].to_numpy(dtype=float)))
                if one_unit
                else np.nan,
                "unit": units[0] if len(units) == 1 else ("mixed" if units else None),
                "time_to_shortage": float(short[0]) if short.size else np.nan,
                "first_node": first,
                "depth": float(out.min()) if out.size else 1.0,
                "final_output": float(out[-1]) if out.size else 1.0,
                "lost_days": float(np.where(out < 1.0 - SHORTAGE_TOL, 1.0 - out, 0.0).sum()),
                "cumulative_lost": float(np.nansum(sub["cumulative_lost"].to_numpy(dtype=float)))
                if one_unit
                else np.nan,
                "time_to_recovery": float(rec[0]),
                "short_before_recovery": bool(_short_before(tts_e, rec, fell)[0]),
            }
        )
    columns = [
        "end_use",
        "nodes",
        "value",
        "unit",
        "time_to_shortage",
        "first_node",
        "depth",
        "final_output",
        "lost_days",
        "cumulative_lost",
        "time_to_recovery",
        "short_before_recovery",
    ]
    table = pd.DataFrame(rows, columns=columns).set_index("end_use")
    table = table.sort_values(["time_to_shortage", "depth"], na_position="last", kind="stable")
    daily_eu = pd.DataFrame(series, index=pd.RangeIndex(horizon, name="day"))
    return table, daily_eu
