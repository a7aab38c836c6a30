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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.analysis.simulation import (
    SHORTAGE_TOL,
    Plan,
    as_float,
    compile_plan,
    end_use_groups,
    node_weights,
    shock_list,
    shock_window,
    simulate,
    simulate_response,
    timeline_response,
)
from supplygraph.errors import ScenarioError
from supplygraph.notebook import result_html

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.scenarios import Scenario
    from supplygraph.analysis.shocks import Shock

__all__ = ["TimelineResult", "timeline", "timeline_draws"]


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
        ``qualification_days``), or a :class:`~supplygraph.analysis.response_options.Response`.
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
    shocks, scenario = shock_list(scenario_or_shocks)
    resp = timeline_response(response)
    H = apply_capacity(G, scenario)
    plan = compile_plan(H, shocks, horizon)
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
    if resp.model == "optimal":
        if extra.any():
            msg = "extra_inventory is not used by the optimal timeline; use mitigate for stock"
            raise ScenarioError(msg)
        result = _optimal_result(G, H, scenario_or_shocks, plan, horizon, resp, daily)
    else:
        if resp.model == "none":
            sim = simulate(plan, extra, record=True)
        else:
            from supplygraph.analysis.scenarios import capacity_tranches

            tranches = capacity_tranches(G, scenario)
            sim = simulate_response(H, plan, shocks, resp, tranches, extra, record=True)
        result = _result(H, plan, sim, horizon, keep_daily=daily)
    result.response = resp.describe()
    if resp.model == "rules":
        result.assumptions.extend(RESPONSE_ASSUMPTIONS)
    elif resp.model == "optimal":
        result.assumptions.extend(OPTIMAL_ASSUMPTIONS)
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
    columns (:class:`~supplygraph.analysis.simulation.TimelineDraws`). End-use sectors are
    weighted by their nodes' values as in the deterministic table.

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
    from supplygraph.analysis.simulation import TimelineDraws
    from supplygraph.compiled import compile_graph
    from supplygraph.uncertainty.kernels import DrawPlan, ordered_sum
    from supplygraph.uncertainty.montecarlo import Experiment, factor_notes, percentile_columns, run
    from supplygraph.uncertainty.ranges import collect

    shocks, scenario = shock_list(scenario_or_shocks)
    H = apply_capacity(G, scenario)
    plan = compile_plan(H, shocks, horizon)
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
        [i for i, s in enumerate(shocks) if shock_window(s)[0] <= a < shock_window(s)[1]]
        for a, _, _, _ in plan.segments
    ]
    groups = end_use_groups(H)
    sectors = list(groups)
    watch = np.zeros((n, len(sectors)))
    for j, name in enumerate(sectors):
        members = groups[name]
        watch[[plan.index[m] for m in members], j] = node_weights(H, members)
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
        sim = simulate(plan, record=False, draws=draws, watch=watch)
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
    res = run(exp, spec, workers=workers, notes=factor_notes(factors, dplan.skipped))
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


OPTIMAL_ASSUMPTIONS = [
    "Supply response 'optimal' over time (linear model, as every timeline): a linear program in 7-day periods with the same "
    "capacities (ramping as for the rules), stocks and shock caps, lead times left out. Each "
    "end use's row is its own best path: the most periods it can be kept fully supplied "
    "(found by bisection), then as much supply as possible, earlier first; these paths are "
    "not achievable all at once. Its time to shortage is an upper bound: the last day of the "
    "first period that cannot be kept whole (no allocation keeps the end use whole longer; "
    "within that period the program sees only the period's average). Node rows show the best "
    "path for all end uses together.",
]


def _optimal_result(
    G: nx.DiGraph,
    H: nx.DiGraph,
    scenario_or_shocks: Any,
    plan: Plan,
    horizon: int,
    resp: Any,
    keep_daily: bool,
) -> TimelineResult:
    """The optimal response's timeline from :func:`~supplygraph.analysis.mitigation.optimal_paths`."""
    from supplygraph.analysis.mitigation import optimal_paths
    from supplygraph.compiled import compile_graph

    paths = optimal_paths(G, scenario_or_shocks, horizon, response=resp, model="linear")
    lengths = [length for _, length in paths.periods]
    day_period = np.repeat(np.arange(len(lengths)), lengths)[:horizon]
    cg = compile_graph(H)
    pos = cg.graph_pos  # plan order -> position
    out = paths.joint_output[day_period][:, pos]
    sup = np.minimum(paths.joint_supply[day_period][:, pos], 1.0)
    short = out < 1.0 - SHORTAGE_TOL
    first = np.where(short.any(axis=0), np.argmax(short, axis=0), np.inf)
    sim = {
        "daily": out[:, :, None],
        "supply": sup[:, :, None],
        "tts": first[:, None],
        "depth": out.min(axis=0)[:, None] if horizon else np.ones((len(pos), 1)),
        "lost": np.maximum(1.0 - out, 0.0).sum(axis=0)[:, None],
        "final": out[-1][:, None],
        "stock": np.full((len(pos), 1), np.nan),
    }
    result = _result(H, plan, sim, horizon, keep_daily=keep_daily)
    # each end use's own best path
    table = result.end_uses
    for name in table.index:
        series = paths.sector_output[str(name)][day_period]
        supply = paths.sector_supply[str(name)][day_period]
        full = paths.sector_full[str(name)]
        if full >= len(paths.periods):
            tts = np.nan
        else:  # the last day of the first period that cannot be kept whole: an upper bound
            start, length = paths.periods[full]
            tts = float(min(start + length - 1, horizon - 1))
        rec, fell = _recovery_day(supply[:, None])
        if rec[0] == rec[0] and rec[0] >= paths.periods[-1][0]:
            rec[0] = np.nan  # back only in the program's last period: an end-of-horizon effect
        lost = float(np.maximum(1.0 - series, 0.0).sum())
        table.loc[name, "time_to_shortage"] = tts
        table.loc[name, "depth"] = float(series.min())
        table.loc[name, "final_output"] = float(series[-1])
        table.loc[name, "lost_days"] = lost
        if table.loc[name, "value"] == table.loc[name, "value"]:
            table.loc[name, "cumulative_lost"] = float(table.loc[name, "value"]) * lost / 365.0
        table.loc[name, "time_to_recovery"] = float(rec[0])
        table.loc[name, "short_before_recovery"] = bool(
            _short_before(np.array([tts]), rec, fell)[0]
        )
        result.daily_end_uses[str(name)] = series
    result.end_uses = table.sort_values(
        ["time_to_shortage", "depth"], na_position="last", kind="stable"
    )
    return result


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
    G: nx.DiGraph, plan: Plan, sim: dict[str, np.ndarray], horizon: int, *, keep_daily: bool
) -> TimelineResult:
    nodes = plan.nodes
    data = [G.nodes[v] for v in nodes]
    tts = sim["tts"][:, 0]
    value = np.array([as_float(d.get("value"), np.nan) for d in data])
    lost = sim["lost"][:, 0]
    lost = np.where(lost < SHORTAGE_TOL * horizon, 0.0, lost)  # rounding noise is not a loss
    ttr = np.array([as_float(d.get("recovery_days"), np.nan) for d in data])
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


def _end_use_tables(
    G: nx.DiGraph,
    plan: Plan,
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
        w = node_weights(G, members)
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
