"""Mitigation planner: the least-cost mix of added stock and added capacity that keeps a target up.

The question behind a resilience budget: "keep US defense at 90 % or more for a year of the April
licence regime -- how much stock, where, and how much new capacity, where, at least cost?" It
generalises :func:`supplygraph.analysis.stockpile.stockpile` (one lever, one place) to a mix of
levers at candidate nodes, each with a unit cost, a maximum and -- for capacity -- a ramp.

The program (a linear program over time, in periods of ``step`` days)
---------------------------------------------------------------------
It is the optimal response's program (:mod:`supplygraph.analysis.optimal`) repeated for every
period ``p`` of the horizon, joined by stocks, with the options as decision variables. Per
period, in fractions of normal output ``y``, absolute flows ``f`` and the targets' supply ``d``::

    sum_{e out of u} f[e,p]   <= O[u] y[u,p]
    N[k] y[v,p]               <= sum_{e in k} f[e,p] + ext[k] + N[k] u[v,p]   every input pool k
    y[v,p]                    <= cap[v,p] (kappa[v,p] + ramp_j(p) a_j)       (a_j: capacity option at v)
    0 <= f[e,p] <= q[e,p],  d[t,p] <= y[t,p],  d[t,p] <= 1
    S[v,0] = inventory_days[v] + s_j,   S[v,p+1] = S[v,p] - step * u[v,p] >= 0   (s_j: stock option)
    sum_{t in target} w[t] d[t,p] >= min_output                                every period
    minimise  sum_j cost_j * amount_j

``cap``, ``kappa`` and the quotas ``q`` are the period's averages over its days (shock windows,
spare capacity ramping after ``ramp_delay_days`` over ``ramp_days``, capacity a scenario adds
from its ``start_day``); ``u`` is the stock drawn, in days of normal intake per day; a capacity
option's ``ramp_j(p)`` is its average ramp fraction in the period. Amounts: stock in tonnes
(``s_j`` x the holder's daily intake), capacity in the node's unit per year (``a_j`` x its normal
output). The program reallocates supply as well as the optimal response can, so its plan is an
optimistic one: :func:`mitigate` therefore also runs the plan through the day-by-day timeline
under the rules and under no response, and reports the lowest output each reaches.

Assumptions: deliveries arrive in the period they are made (``lead_days`` are left out of the
program; the day-by-day check keeps them); the periods' averages stand for their days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.errors import InputError, ScenarioError, SupplyGraphError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from supplygraph.analysis.scenarios import Scenario


__all__ = ["MitigationPlan", "default_options", "mitigate", "read_options"]

LEVERS = ("stock", "capacity")
OPTION_COLUMNS = ("node", "lever", "unit_cost", "maximum", "ramp_days", "start_day")
#: Ramp of a default capacity option at a node without ``ramp_days`` (assumption).
DEFAULT_RAMP_DAYS = 365.0

DEFAULT_ASSUMPTIONS = [
    "Default options (no --options table): stock at every target node and new capacity at every "
    "node upstream of the targets that the scenario does not cut, each at a unit cost of 1 (per "
    "tonne held, per tonne a year of capacity) and without a maximum; new capacity ramps up "
    f"over the node's ramp_days (else {DEFAULT_RAMP_DAYS:g} days) from its ramp_delay_days "
    "(else day 0). These relative costs are placeholders: give real ones in an options table.",
]


@dataclass
class MitigationPlan:
    """The planner's answer.

    Attributes
    ----------
    plan
        One row per option the plan uses: ``node``, ``lever``, ``amount`` (tonnes of stock, or
        the node's unit per year of capacity), ``unit``, ``unit_cost``, ``cost``, ``start_day``,
        ``ramp_days`` (capacity), ``days_of_use`` (stock: the amount in days of the holder's
        normal intake; capacity: the added share of its normal output).
    total_cost
        Sum of the costs (NaN when no plan exists).
    feasible
        Whether some mix of the options keeps the target up.
    best_min_output
        When infeasible: the highest lowest-output the options could reach.
    check
        The plan run day by day (:func:`~supplygraph.analysis.timeline.timeline`): per response
        (``none``, ``rules``) the target's lowest output and time to shortage.
    binding
        What limits the plan, in plain phrases (capacities, shock caps, option maxima).
    options
        The options considered (the table, with defaults filled in).
    assumptions
        Plain sentences stating the program's assumptions.
    """

    plan: pd.DataFrame
    total_cost: float
    feasible: bool
    best_min_output: float
    check: pd.DataFrame
    binding: list[str] = field(default_factory=list)
    options: pd.DataFrame | None = None
    assumptions: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# options


def read_options(path: str | Path, G: nx.DiGraph) -> pd.DataFrame:
    """Read an options table (CSV or xlsx): ``node, lever, unit_cost[, maximum, ramp_days,
    start_day]``.

    Parameters
    ----------
    path
        A ``.csv`` or ``.xlsx`` file (first sheet).
    G
        The graph the nodes must belong to.

    Returns
    -------
    pandas.DataFrame
        The options, one per row, with ``maximum`` inf, ``ramp_days`` and ``start_day`` NaN
        where blank (the node's own values are used).

    Raises
    ------
    InputError
        One line naming the file, row and column of the first bad cell (unknown node, a lever
        other than ``stock``/``capacity``, a cost or maximum that is negative or not a number).

    Examples
    --------
    >>> import tempfile, networkx as nx, pathlib
    >>> G = nx.DiGraph(); G.add_node("A"); G.add_node("B")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.csv"
    >>> _ = p.write_text("node,lever,unit_cost\\nA,stock,2\\nB,capacity,50\\n")
    >>> read_options(p, G)[["node", "lever", "unit_cost"]].values.tolist()
    [['A', 'stock', 2.0], ['B', 'capacity', 50.0]]
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        msg = f"{p}: options file not found"
        raise InputError(msg)
    try:
        if p.suffix.lower() in (".xlsx", ".xlsm"):
            raw = pd.read_excel(p, dtype=object)
        else:
            raw = pd.read_csv(p, dtype=object, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        msg = f"{p}: cannot read the options table: {exc}"
        raise InputError(msg) from None
    raw.columns = [str(c).strip().lower().replace(" ", "_") for c in raw.columns]
    for col in ("node", "lever", "unit_cost"):
        if col not in raw.columns:
            msg = f"{p}: the options table has no '{col}' column (needs node, lever, unit_cost)"
            raise InputError(msg)
    unknown = [c for c in raw.columns if c not in OPTION_COLUMNS]
    if unknown:
        msg = f"{p}: unknown column '{unknown[0]}' (allowed: {', '.join(OPTION_COLUMNS)})"
        raise InputError(msg)
    rows = []
    for i, rec in enumerate(raw.to_dict("records"), start=2):

        def bad(col: str, why: str, rec: dict[str, Any] = rec, i: int = i) -> InputError:
            return InputError(f"{p}, row {i}, column '{col}': {why}: {rec.get(col)!r}")

        node = str(rec["node"]).strip()
        if node not in G:
            raise bad("node", "not a node of the graph")
        lever = str(rec["lever"]).strip().lower()
        if lever not in LEVERS:
            raise bad("lever", "lever must be 'stock' or 'capacity'")
        out: dict[str, Any] = {"node": node, "lever": lever}
        for col, default in (
            ("unit_cost", None),
            ("maximum", math.inf),
            ("ramp_days", math.nan),
            ("start_day", math.nan),
        ):
            cell = rec.get(col)
            if cell is None or (isinstance(cell, str) and not cell.strip()) or cell != cell:
                if default is None:
                    raise bad(col, "empty required cell")
                out[col] = default
                continue
            try:
                number = float(cell)
            except (TypeError, ValueError):
                raise bad(col, "not a number") from None
            if not math.isfinite(number) or number < 0:
                raise bad(col, "must be a number >= 0")
            out[col] = number
        if lever == "stock" and not (math.isnan(out["ramp_days"]) and math.isnan(out["start_day"])):
            col = "ramp_days" if not math.isnan(out["ramp_days"]) else "start_day"
            raise bad(col, "ramp_days and start_day apply to capacity options only")
        rows.append(out)
    if not rows:
        msg = f"{p}: the options table has no rows"
        raise InputError(msg)
    return pd.DataFrame(rows, columns=list(OPTION_COLUMNS))


def default_options(
    G: nx.DiGraph, targets: Sequence[Any], node_cut: dict[Any, float]
) -> pd.DataFrame:
    """Stock at every target, capacity at every uncut node upstream of them (see the assumptions)."""
    import networkx as nx
    import pandas as pd

    rows = [
        {
            "node": t,
            "lever": "stock",
            "unit_cost": 1.0,
            "maximum": math.inf,
            "ramp_days": math.nan,
            "start_day": math.nan,
        }
        for t in targets
    ]
    upstream: set[Any] = set()
    for t in targets:
        upstream |= nx.ancestors(G, t)
    for v in sorted(upstream - set(targets), key=str):
        if node_cut.get(v, 0.0) >= 1.0:
            continue
        rows.append(
            {
                "node": v,
                "lever": "capacity",
                "unit_cost": 1.0,
                "maximum": math.inf,
                "ramp_days": math.nan,
                "start_day": math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(OPTION_COLUMNS))


# ---------------------------------------------------------------------------------------------
# the program over time


@dataclass
class _Layout:
    """Where each variable block sits in the program's column vector."""

    P: int
    n: int
    M: int
    T: int
    holders: np.ndarray  # positions that can hold stock
    stock_opt: np.ndarray  # option rows of stock options (index into the options table)
    cap_opt: np.ndarray  # option rows of capacity options
    n_opt: int

    @property
    def per(self) -> int:
        return self.n + self.M + self.T + 2 * len(self.holders)

    def y(self, p: int) -> int:
        return p * self.per

    def f(self, p: int) -> int:
        return p * self.per + self.n

    def d(self, p: int) -> int:
        return p * self.per + self.n + self.M

    def u(self, p: int) -> int:
        return p * self.per + self.n + self.M + self.T

    def s(self, p: int) -> int:  # stock level at the start of period p (p = P: at the end)
        if p == self.P:
            return self.P * self.per
        return p * self.per + self.n + self.M + self.T + len(self.holders)

    @property
    def opt(self) -> int:
        return self.P * self.per + len(self.holders)

    @property
    def size(self) -> int:
        return self.opt + self.n_opt


def _period_params(
    G: nx.DiGraph,
    cg: Any,
    shocks: Sequence[Any],
    days: int,
    step: int,
    tranches: Sequence[tuple[Any, float, int, float | None]],
) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray, np.ndarray]:
    """Periods ``(start, length)`` and per period the average cap (n), keep (m) and kappa (n)."""
    from supplygraph.analysis.propagation import cut_arrays
    from supplygraph.analysis.shocks import resolve_shocks
    from supplygraph.analysis.simulation import capacity_schedule, shock_window

    periods = [(a, min(step, days - a)) for a in range(0, days, step)]
    kappa_on, _ = capacity_schedule(cg, tranches)
    cuts: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}
    caps, keeps, kappas = [], [], []
    for a, length in periods:
        cap_sum = np.zeros(cg.n)
        keep_sum = np.zeros(cg.m)
        kap_sum = np.zeros(cg.n)
        for t in range(a, a + length):
            active = tuple(
                i for i, s in enumerate(shocks) if shock_window(s)[0] <= t < shock_window(s)[1]
            )
            if active not in cuts:
                nc, ec = resolve_shocks(G, [shocks[i] for i in active]) if active else ({}, {})
                cap, keep = cut_arrays(cg, nc, ec)
                cuts[active] = (cap, np.ones(cg.m) if keep is None else keep)
            cap, keep = cuts[active]
            cap_sum += cap
            keep_sum += keep
            kap_sum += kappa_on(float(t))
        caps.append(cap_sum / length)
        keeps.append(keep_sum / length)
        kappas.append(kap_sum / length)
    return periods, np.array(caps), np.array(keeps), np.array(kappas)


def _ramp_mean(a: int, length: int, start: float, ramp: float) -> float:
    """Average of ``clip((t - start) / ramp, 0, 1)`` (a step when ramp = 0) over the days."""
    days = np.arange(a, a + length, dtype=float)
    r = np.where(
        days >= start,
        1.0 if ramp <= 0 else np.clip((days - start) / max(ramp, 1e-12), 0.0, 1.0),
        0.0,
    )
    return float(r.mean())


def _program(
    G: nx.DiGraph,
    shocks: Sequence[Any],
    options: pd.DataFrame,
    target_pos: np.ndarray,
    weights: np.ndarray,
    days: int,
    step: int,
    model: str,
    response: Any,
    tranches: Sequence[tuple[Any, float, int, float | None]],
    groups: Sequence[np.ndarray] | None = None,
) -> dict[str, Any]:
    """Assemble the program's rows and bounds (see the module docstring).

    ``groups`` (indices into ``target_pos``; default one group of all targets) get one
    requirement row each per period, ``- sum_{t in group} w[t] d[t,p] <= b`` with the weights
    normalised within the group; the caller sets ``b`` (0 leaves the row slack).
    """
    import scipy.sparse as sp

    from supplygraph.analysis.response_arrays import build_problem
    from supplygraph.compiled import compile_graph

    cg = compile_graph(G)
    periods, caps, keeps, kappas = _period_params(G, cg, shocks, days, step, tranches)
    P = len(periods)
    prob = build_problem(G, cg, caps.T, keeps.T, response, model, shocks)
    inv = np.nan_to_num(
        np.array([float(G.nodes[v].get("inventory_days") or 0.0) for v in cg.nodes])
    )
    opt_pos = np.array([cg.index[v] for v in options["node"]], dtype=np.int64)
    lever = options["lever"].to_numpy()
    stock_opt = np.flatnonzero(lever == "stock")
    cap_opt = np.flatnonzero(lever == "capacity")
    holders = np.unique(np.concatenate([np.flatnonzero(inv > 0), opt_pos[stock_opt]])).astype(
        np.int64
    )
    lay = _Layout(P, cg.n, prob.m, len(target_pos), holders, stock_opt, cap_opt, len(options))
    hold_of = {int(v): i for i, v in enumerate(holders.tolist())}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    b_ub: list[np.ndarray] = []
    eq_rows: list[np.ndarray] = []
    eq_cols: list[np.ndarray] = []
    eq_vals: list[np.ndarray] = []
    b_eq: list[float] = []
    r = 0
    lb = np.zeros(lay.size)
    ub = np.full(lay.size, np.inf)
    out = prob.outflow
    alloc = np.flatnonzero(out > 0)
    arow = np.full(cg.n, -1, dtype=np.int64)
    arow[alloc] = np.arange(len(alloc))
    base = np.where(cg.baseline > 0, cg.baseline, 1.0)
    cap_rows = []  # (row, option row) of capacity rows
    tech_rows = np.zeros((P, prob.n_pools), dtype=np.int64)
    if groups is None:
        groups = [np.arange(len(target_pos))]
    group_w = []
    for g in groups:
        wg = np.asarray(weights, dtype=float)[g]
        group_w.append(wg / wg.sum() if wg.sum() > 0 else np.full(len(g), 1.0 / max(len(g), 1)))
    req_rows = np.zeros((P, len(groups)), dtype=np.int64)
    for p in range(P):
        y0, f0, d0, u0 = lay.y(p), lay.f(p), lay.d(p), lay.u(p)
        # allocation: sum f - O y <= 0
        rows += [r + arow[prob.src], r + arow[alloc]]
        cols += [f0 + np.arange(prob.m), y0 + alloc]
        vals += [np.ones(prob.m), -out[alloc]]
        b_ub.append(np.zeros(len(alloc)))
        r += len(alloc)
        # technology per pool: N y - sum f - N u <= ext
        K = prob.n_pools
        hold = np.array([hold_of.get(int(v), -1) for v in prob.pool_node], dtype=np.int64)
        rows += [r + np.arange(K), r + prob.pool]
        cols += [y0 + prob.pool_node, f0 + np.arange(prob.m)]
        vals += [prob.pool_need, -np.ones(prob.m)]
        has = hold >= 0
        rows.append(r + np.flatnonzero(has))
        cols.append(u0 + hold[has])
        vals.append(-prob.pool_need[has])
        b_ub.append(prob.pool_ext)
        tech_rows[p] = r + np.arange(K)
        r += K
        # targets: d - y <= 0
        T = lay.T
        rows += [r + np.arange(T), r + np.arange(T)]
        cols += [d0 + np.arange(T), y0 + target_pos]
        vals += [np.ones(T), -np.ones(T)]
        b_ub.append(np.zeros(T))
        r += T
        # requirements: - sum_g w d <= b (the right-hand sides are set by the caller)
        for gi, g in enumerate(groups):
            rows.append(np.full(len(g), r))
            cols.append(d0 + np.asarray(g, dtype=np.int64))
            vals.append(-group_w[gi])
            b_ub.append(np.zeros(1))
            req_rows[p, gi] = r
            r += 1
        # capacity: y <= cap kappa (+ cap * ramp * a for capacity options)
        ycap = caps[p] * kappas[p]
        ub[y0 : y0 + cg.n] = ycap
        for j in cap_opt.tolist():
            v = int(opt_pos[j])
            start = options.at[j, "start_day"]
            ramp = options.at[j, "ramp_days"]
            start = cg.ramp_delay_days[v] if start != start else float(start)
            ramp = (
                (cg.ramp_days[v] if cg.ramp_days[v] > 0 else DEFAULT_RAMP_DAYS)
                if ramp != ramp
                else float(ramp)
            )
            rm = _ramp_mean(periods[p][0], periods[p][1], start, ramp)
            ub[y0 + v] = np.inf
            rows += [np.array([r]), np.array([r])]
            cols += [np.array([y0 + v]), np.array([lay.opt + j])]
            vals += [np.array([1.0]), np.array([-caps[p][v] * rm])]
            b_ub.append(np.array([ycap[v]]))
            cap_rows.append((r, j, p))
            r += 1
        ub[f0 : f0 + prob.m] = prob.quota[:, p]
        ub[d0 : d0 + T] = 1.0
        # stock dynamics: S[p+1] - S[p] + length * u[p] = 0
        H = len(holders)
        if H:
            nxt = lay.s(p + 1) + np.arange(H) if p + 1 < P else lay.s(P) + np.arange(H)
            eq = len(b_eq)
            eq_rows += [eq + np.arange(H)] * 3
            eq_cols += [nxt, lay.s(p) + np.arange(H), u0 + np.arange(H)]
            eq_vals += [np.ones(H), -np.ones(H), np.full(H, float(periods[p][1]))]
            b_eq += [0.0] * H
    # initial stock: S[0] - s_j = inventory
    H = len(holders)
    if H:
        eq = len(b_eq)
        eq_rows.append(eq + np.arange(H))
        eq_cols.append(lay.s(0) + np.arange(H))
        eq_vals.append(np.ones(H))
        for j in stock_opt.tolist():
            eq_rows.append(np.array([eq + hold_of[int(opt_pos[j])]]))
            eq_cols.append(np.array([lay.opt + j]))
            eq_vals.append(np.array([-1.0]))
        b_eq += inv[holders].tolist()
    ub[lay.opt : lay.opt + lay.n_opt] = options["maximum"].to_numpy(dtype=float)
    A_ub = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, lay.size)
    )
    A_eq = (
        sp.csr_matrix(
            (np.concatenate(eq_vals), (np.concatenate(eq_rows), np.concatenate(eq_cols))),
            shape=(len(b_eq), lay.size),
        )
        if b_eq
        else None
    )
    # option amounts in physical units: stock tonnes per day of intake, capacity per unit share
    daily_intake = np.where(cg.inflow > 0, cg.inflow, cg.baseline) / 365.0
    unit_amount = np.where(lever == "stock", daily_intake[opt_pos], base[opt_pos])
    return {
        "cg": cg,
        "prob": prob,
        "lay": lay,
        "A_ub": A_ub,
        "b_ub": np.concatenate(b_ub),
        "A_eq": A_eq,
        "b_eq": np.array(b_eq),
        "lb": lb,
        "ub": ub,
        "req_rows": req_rows,
        "cap_rows": cap_rows,
        "periods": periods,
        "opt_pos": opt_pos,
        "unit_amount": unit_amount,
    }


def _solve(prog: dict[str, Any], cost: np.ndarray) -> Any:
    from scipy.optimize import linprog

    method = "highs-ipm" if len(cost) > 20_000 else "highs-ds"
    return linprog(
        cost,
        A_ub=prog["A_ub"],
        b_ub=prog["b_ub"],
        A_eq=prog["A_eq"],
        b_eq=prog["b_eq"] if prog["A_eq"] is not None else None,
        bounds=np.column_stack([prog["lb"], prog["ub"]]),
        method=method,
    )


# ---------------------------------------------------------------------------------------------
# the planner


def mitigate(
    G: nx.DiGraph,
    scenario: Scenario | Any,
    *,
    end_use: str | None = None,
    target_nodes: Sequence[Any] | None = None,
    min_output: float = 0.9,
    days: int = 365,
    options: pd.DataFrame | str | Path | None = None,
    step: int = 7,
    model: str | None = None,
    response: Any = None,
) -> MitigationPlan:
    """The least-cost mix of added stock and capacity that keeps a target up through a scenario.

    Parameters
    ----------
    G
        The supply graph (not modified).
    scenario
        A :class:`~supplygraph.analysis.scenarios.Scenario` (its capacity changes apply first),
        or shocks as :func:`~supplygraph.analysis.timeline.timeline` takes them.
    end_use, target_nodes
        The target: an end-use sector (its nodes, weighted as in the disruption tables) or
        nodes; default every end use.
    min_output
        The target's weighted output, as a fraction of normal, must stay at or above this in
        every period of the horizon.
    days
        The horizon, from day 0.
    options
        The options table (:func:`read_options`: a path or a DataFrame with ``node, lever,
        unit_cost, maximum, ramp_days, start_day``); None: :func:`default_options`.
    step
        Period length of the program, in days.
    model
        ``"linear"`` or ``"leontief"`` (default: the scenario's model, else linear).
    response
        Options of the reallocation inside the program (a
        :class:`~supplygraph.analysis.response_options.Response`; its ``substitution`` is used; default
        the scenario's, else existing links only).

    Returns
    -------
    MitigationPlan

    Raises
    ------
    ScenarioError
        For a bad target, min_output, days or step.

    Examples
    --------
    A mine A ships 10 t a day to a plant X and is shut for good on day 0; a second mine B ships
    1 t a year. Two options: stock at X (1 per tonne) or capacity at B that ramps up over 100
    days (0.5 per tonne a year). To keep X at 100 % for two years, B needs 3,650 t a year more
    (cost 1,825) and X a bridge of stock while B ramps up: 10 t a day x the ramp's average gap
    of 50 days = 505 t (cost 505) -- cheaper than two years of stock (7,300).

    >>> import networkx as nx, pandas as pd
    >>> G = nx.DiGraph(stages=["m", "u"])
    >>> G.add_node("A", stage="m", country="A", value=3650.0)
    >>> G.add_node("B", stage="m", country="B", value=1.0)
    >>> G.add_node("X", stage="u", country="X", end_use="e")
    >>> G.add_edge("A", "X", flow=3650.0); G.add_edge("B", "X", flow=1.0)
    >>> opts = pd.DataFrame({"node": ["X", "B"], "lever": ["stock", "capacity"],
    ...                      "unit_cost": [1.0, 0.5], "maximum": [float("inf")] * 2,
    ...                      "ramp_days": [float("nan"), 100.0], "start_day": [float("nan"), 0.0]})
    >>> plan = mitigate(G, "A", target_nodes=["X"], min_output=1.0, days=730, options=opts)
    >>> plan.plan[["node", "lever", "amount"]].round(1).values.tolist()
    [['X', 'stock', 505.0], ['B', 'capacity', 3650.0]]
    >>> round(plan.total_cost, 1)
    2330.0
    """
    import dataclasses

    import pandas as pd

    from supplygraph.analysis.dependency import target_weights
    from supplygraph.analysis.limits import limit_groups
    from supplygraph.analysis.response_options import Response
    from supplygraph.analysis.scenarios import apply_capacity, capacity_tranches
    from supplygraph.analysis.shocks import resolve_shocks
    from supplygraph.analysis.simulation import resolve_targets, shock_list

    if not 0 < float(min_output) <= 1:
        msg = f"min_output must be in (0, 1], got {min_output!r}"
        raise ScenarioError(msg)
    for name, val in (("days", days), ("step", step)):
        if not isinstance(val, int | np.integer) or isinstance(val, bool) or val < 1:
            msg = f"{name} must be a whole number of days >= 1, got {val!r}"
            raise ScenarioError(msg)
    shocks, sc = shock_list(scenario)
    H = apply_capacity(G, sc)
    targets = resolve_targets(H, target_nodes, end_use)
    chosen = model or (getattr(sc, "model", None) if sc is not None else None) or "linear"
    resp = Response.of(response if response is not None else getattr(sc, "response", None))
    resp = dataclasses.replace(resp, model="optimal")
    node_cut, _ = resolve_shocks(H, shocks) if shocks else ({}, {})
    if options is None:
        opts = default_options(H, targets, node_cut)
        assumptions = list(DEFAULT_ASSUMPTIONS)
    elif isinstance(options, str | Path):
        opts = read_options(options, H)
        assumptions = []
    else:
        opts = options.reset_index(drop=True)
    assumptions = assumptions if options is None or isinstance(options, str | Path) else []
    assumptions += [
        f"The plan comes from a linear program in {step}-day periods over {days} days that "
        "reallocates supply as the optimal response does (an optimistic plan); lead times are "
        "left out of the program. The check runs the plan day by day under the rules and with "
        "no response.",
    ]

    from supplygraph.compiled import compile_graph

    cg = compile_graph(H)
    tpos = np.array([cg.index[t] for t in targets], dtype=np.int64)
    w = target_weights(cg, tpos)
    tranches = capacity_tranches(G, sc)
    prog = _program(H, shocks, opts, tpos, w, days, step, chosen, resp, tranches)
    lay = prog["lay"]
    b = prog["b_ub"]
    b[prog["req_rows"][:, 0]] = -float(min_output)
    cost = np.zeros(lay.size)
    cost[lay.opt : lay.opt + lay.n_opt] = (
        opts["unit_cost"].to_numpy(dtype=float) * prog["unit_amount"]
    )
    res = _solve(prog, cost)
    feasible = res.status == 0
    best = float(min_output)
    if res.status == 2:
        best = _best_level(prog, lay)
    elif res.status != 0:
        msg = f"the mitigation program failed ({res.message.strip()})"
        raise SupplyGraphError(msg)
    rows = []
    if feasible:
        amounts = res.x[lay.opt : lay.opt + lay.n_opt]
        for j, a in enumerate(amounts.tolist()):
            if a <= 1e-9:
                continue
            v = opts.at[j, "node"]
            unit_amount = float(prog["unit_amount"][j])
            lever = opts.at[j, "lever"]
            unit = _unit(H, v, lever)
            rows.append(
                {
                    "node": v,
                    "lever": lever,
                    "amount": a * unit_amount,
                    "unit": unit,
                    "unit_cost": float(opts.at[j, "unit_cost"]),
                    "cost": float(opts.at[j, "unit_cost"]) * a * unit_amount,
                    "start_day": _start(opts, j, cg, v) if lever == "capacity" else np.nan,
                    "ramp_days": _ramp(opts, j, cg, v) if lever == "capacity" else np.nan,
                    "days_of_use": a,
                }
            )
    plan = pd.DataFrame(
        rows,
        columns=[
            "node",
            "lever",
            "amount",
            "unit",
            "unit_cost",
            "cost",
            "start_day",
            "ramp_days",
            "days_of_use",
        ],
    )
    binding = _plan_binding(prog, res, opts, limit_groups) if feasible else []
    check, factor = _check(G, sc, shocks, plan, targets, days, resp, float(min_output))
    plan["amount_program"] = plan["amount"]
    stock_rows = plan["lever"] == "stock"
    if feasible and stock_rows.any() and factor == factor and factor > 1.0:
        # the day-by-day model draws stock to fill the whole gap to normal output, faster than
        # the program (which may draw just enough for min_output): hold what it needs
        for col in ("amount", "days_of_use"):
            plan.loc[stock_rows, col] = plan.loc[stock_rows, col] * factor
        plan["cost"] = plan["unit_cost"] * plan["amount"]
        assumptions.append(
            f"The program's stock was raised by a factor of {factor:.3g} so that the plan holds "
            "day by day under the rules, where nodes draw stock to fill their whole gap to "
            "normal output (amount_program: the program's own amounts)."
        )
    elif feasible and stock_rows.any() and factor != factor:
        assumptions.append(
            "Under the rules, day by day, no stock up to 64 times the program's holds the target: "
            "the program's plan relies on reallocation the rules do not make."
        )
    return MitigationPlan(
        plan=plan,
        total_cost=float(plan["cost"].sum()) if feasible else float("nan"),
        feasible=feasible,
        best_min_output=best,
        check=check,
        binding=binding,
        options=opts,
        assumptions=assumptions,
    )


def _unit(G: nx.DiGraph, v: Any, lever: str) -> str | None:
    if lever == "capacity":
        return G.nodes[v].get("unit")
    from supplygraph.analysis.stockpile import _daily_use

    return _daily_use(G, v)[1]


def _start(opts: pd.DataFrame, j: int, cg: Any, v: Any) -> float:
    start = opts.at[j, "start_day"]
    return float(cg.ramp_delay_days[cg.index[v]]) if start != start else float(start)


def _ramp(opts: pd.DataFrame, j: int, cg: Any, v: Any) -> float:
    ramp = opts.at[j, "ramp_days"]
    own = float(cg.ramp_days[cg.index[v]])
    return (own if own > 0 else DEFAULT_RAMP_DAYS) if ramp != ramp else float(ramp)


def _best_level(prog: dict[str, Any], lay: _Layout) -> float:
    """The highest level every period can keep, whatever the options cost (max lambda)."""
    import scipy.sparse as sp

    A = prog["A_ub"].tolil(copy=True)
    extra = sp.lil_matrix((A.shape[0], 1))
    for r in prog["req_rows"][:, 0].tolist():
        extra[r, 0] = 1.0  # - sum w d + lambda <= 0
    A2 = sp.hstack([A.tocsr(), extra.tocsr()]).tocsr()
    prog2 = dict(prog)
    prog2["A_ub"] = A2
    b = prog["b_ub"].copy()
    b[prog["req_rows"][:, 0]] = 0.0
    prog2["b_ub"] = b
    if prog["A_eq"] is not None:
        prog2["A_eq"] = sp.hstack([prog["A_eq"], sp.csr_matrix((prog["A_eq"].shape[0], 1))]).tocsr()
    prog2["lb"] = np.append(prog["lb"], 0.0)
    prog2["ub"] = np.append(prog["ub"], 1.0)
    cost = np.zeros(lay.size + 1)
    cost[-1] = -1.0
    res = _solve(prog2, cost)
    return float(-res.fun) if res.status == 0 else 0.0


def _plan_binding(
    prog: dict[str, Any], res: Any, opts: pd.DataFrame, limit_groups: Any
) -> list[str]:
    """Plain phrases: what makes the plan cost what it costs (positive shadow prices)."""
    lay = prog["lay"]
    prob = prog["prob"]
    shadow_ub = -np.asarray(res.upper.marginals)
    shadow_row = -np.asarray(res.ineqlin.marginals)
    tol = 1e-9 * max(1.0, float(np.max(np.abs(shadow_ub), initial=0.0)))
    cap_nodes: set[int] = set()
    links: set[int] = set()
    for p in range(lay.P):
        y = shadow_ub[lay.y(p) : lay.y(p) + lay.n]
        # a shadow price on y <= bound: more capacity there would cut the cost
        cap_nodes |= set(np.flatnonzero(y > tol).tolist())
        f = shadow_ub[lay.f(p) : lay.f(p) + lay.M]
        links |= set(
            np.flatnonzero(
                (f > tol) & np.isfinite(prog["ub"][lay.f(p) : lay.f(p) + lay.M])
            ).tolist()
        )
    for r, _, _ in prog["cap_rows"]:
        if shadow_row[r] > tol:
            pass  # a capacity option's own row: the option is used up to its ramp
    phrases = [
        g.phrase
        for g in limit_groups(
            prob,
            np.array(sorted(cap_nodes), dtype=np.int64),
            np.array(sorted(links), dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        )
    ]
    maxed = shadow_ub[lay.opt : lay.opt + lay.n_opt] > tol
    for j in np.flatnonzero(maxed & np.isfinite(opts["maximum"].to_numpy(dtype=float))).tolist():
        phrases.append(f"the maximum of the {opts.at[j, 'lever']} option at {opts.at[j, 'node']}")
    return phrases


def _planned(G: nx.DiGraph, sc: Any, shocks: Sequence[Any], plan: pd.DataFrame) -> Any:
    """The scenario with the plan's capacity added (as ``[[capacity]]`` entries)."""
    import dataclasses

    from supplygraph.analysis.scenarios import CapacityChange, Scenario, apply_capacity

    H = apply_capacity(G, sc)
    changes = []
    for rec in plan[plan["lever"] == "capacity"].to_dict("records"):
        d = H.nodes[rec["node"]]
        current = float(d.get("capacity") or d.get("value") or 0.0)
        changes.append(
            CapacityChange(
                selector=str(rec["node"]),
                capacity=current + float(rec["amount"]),
                ramp_days=float(rec["ramp_days"]),
                start_day=int(rec["start_day"]),
                label="mitigation plan",
            )
        )
    base = sc if sc is not None else Scenario(name="shocks", shocks=tuple(shocks))
    return dataclasses.replace(base, capacity=tuple(base.capacity) + tuple(changes))


def _series(
    G: nx.DiGraph,
    scenario: Any,
    shocks: Sequence[Any],
    extras: Sequence[dict[Any, float]],
    targets: Sequence[Any],
    days: int,
    response: Any,
) -> np.ndarray:
    """The targets' weighted output day by day, one row per stock configuration (one run)."""
    from supplygraph.analysis.scenarios import apply_capacity, capacity_tranches
    from supplygraph.analysis.simulation import (
        compile_plan,
        node_weights,
        simulate,
        simulate_response,
    )

    H = apply_capacity(G, scenario)
    plan = compile_plan(H, list(shocks), days)
    extra = np.zeros((len(plan.nodes), len(extras)))
    for b, stock in enumerate(extras):
        for node, d in stock.items():
            extra[plan.index[node], b] = max(float(d), 0.0)
    if response.model == "none":
        sim = simulate(plan, extra, record=True, days=days)
    else:
        tranches = capacity_tranches(G, scenario)
        sim = simulate_response(
            H, plan, list(shocks), response, tranches, extra, record=True, days=days
        )
    idx = [plan.index[t] for t in targets]
    w = node_weights(H, list(targets))
    return np.einsum("tnb,n->bt", sim["daily"][:, idx, :], w)


def _check(
    G: nx.DiGraph,
    sc: Any,
    shocks: Sequence[Any],
    plan: pd.DataFrame,
    targets: Sequence[Any],
    days: int,
    resp: Any,
    min_output: float,
) -> tuple[pd.DataFrame, float]:
    """Run the plan day by day (no response, rules), and the stock the rules need.

    Returns the check table and the factor by which the plan's stock must grow for the target
    to hold under the rules day by day (1 when it holds as planned; NaN when no factor up to
    64 does, or the plan holds no stock).
    """
    import dataclasses

    import pandas as pd

    from supplygraph.analysis.scenarios import Scenario

    planned = _planned(G, sc, shocks, plan)
    base = sc if sc is not None else Scenario(name="shocks", shocks=tuple(shocks))
    stock = {
        r["node"]: float(r["days_of_use"])
        for r in plan[plan["lever"] == "stock"].to_dict("records")
    }
    rules = dataclasses.replace(resp, model="rules")
    need = float(min_output) - 1e-9
    rows = []
    factor = float("nan")
    repaired: np.ndarray | None = None
    for name, r in (("none", dataclasses.replace(resp, model="none")), ("rules", rules)):
        without = _series(G, base, shocks, [{}], targets, days, r)[0]
        if name == "rules" and stock:
            grid = np.concatenate([[1.0], np.geomspace(1.05, 64.0, 31)])
            runs = _series(
                G,
                planned,
                shocks,
                [{k: v * m for k, v in stock.items()} for m in grid],
                targets,
                days,
                r,
            )
            ok = runs.min(axis=1) >= need
            if ok.any():
                k = int(np.argmax(ok))
                factor, repaired = float(grid[k]), runs[k]
                if k > 0:  # refine between the last failing and the first passing factor
                    fine = np.linspace(grid[k - 1], grid[k], 17)[1:]
                    more = _series(
                        G,
                        planned,
                        shocks,
                        [{a: v * m for a, v in stock.items()} for m in fine],
                        targets,
                        days,
                        r,
                    )
                    j = int(np.argmax(more.min(axis=1) >= need))
                    factor, repaired = float(fine[j]), more[j]
            withp = runs[0]
        else:
            withp = _series(G, planned, shocks, [stock], targets, days, r)[0]
        cases = [("without the plan", without), ("with the plan", withp)]
        if name == "rules" and repaired is not None and factor > 1.0:
            cases.append((f"with the plan's stock x {factor:.3g}", repaired))
        for label, series in cases:
            short = np.flatnonzero(series < 1.0 - 1e-9)
            rows.append(
                {
                    "response": name,
                    "plan": label,
                    "lowest_output": float(series.min()) if len(series) else 1.0,
                    "time_to_shortage": float(short[0]) if len(short) else np.nan,
                }
            )
    return pd.DataFrame(rows), factor


# ---------------------------------------------------------------------------------------------
# the optimal response over time (used by timeline(response="optimal"))

#: Per-period discount of the best path's objective: earlier supply counts more.
PATH_DISCOUNT = 0.9


@dataclass
class OptimalPaths:
    """The optimal response over time, in periods (see :func:`optimal_paths`).

    Attributes
    ----------
    periods
        ``(first day, length)`` of each period.
    nodes
        Node ids in the order of ``joint_output`` / ``joint_supply`` columns.
    joint_output, joint_supply
        The all-end-uses best path: each node's output, and its intake from deliveries and
        external input alone (before stock), as fractions of normal, shape (periods, nodes).
    sector_output, sector_supply
        Sector -> its own best path: the sector's weighted output and supply per period.
    sector_full
        Sector -> the number of periods it can be kept fully supplied (the bisection's answer).
    """

    periods: list[tuple[int, int]]
    nodes: list[Any]
    joint_output: np.ndarray
    joint_supply: np.ndarray
    sector_output: dict[str, np.ndarray]
    sector_supply: dict[str, np.ndarray]
    sector_full: dict[str, int]


def optimal_paths(
    G: nx.DiGraph,
    scenario: Any,
    horizon: int,
    *,
    step: int = 7,
    model: str | None = None,
    response: Any = None,
) -> OptimalPaths:
    """The optimal response over time: per end-use sector the longest it can be kept whole.

    For each sector, a bisection on ``T`` finds the most periods in which the program of the
    module docstring (no options) can keep the sector's weighted supply at 100 % for every
    period ``p < T`` -- each check a feasibility program, monotone in ``T`` -- and then the path
    that, with those periods kept whole, maximises ``sum_p 0.9**p * supply(p)`` (earlier supply
    first). A rule-based path, or any other allocation with the same capacities, stocks and
    caps, cannot keep the sector whole longer (in whole periods; lead times are left out of the
    program). The all-sectors path maximises the same discounted sum over every end use.

    Parameters
    ----------
    G
        The supply graph (not modified).
    scenario
        A scenario, or shocks as :func:`~supplygraph.analysis.timeline.timeline` takes them.
    horizon
        Days, from day 0.
    step
        Period length in days.
    model
        ``"linear"`` or ``"leontief"`` (default: the scenario's, else linear).
    response
        Options (their ``substitution``); default the scenario's.

    Returns
    -------
    OptimalPaths
    """
    import dataclasses

    import pandas as pd

    from supplygraph.analysis.dependency import target_weights
    from supplygraph.analysis.response_options import Response
    from supplygraph.analysis.scenarios import apply_capacity, capacity_tranches
    from supplygraph.analysis.simulation import end_use_groups, shock_list
    from supplygraph.compiled import compile_graph

    shocks, sc = shock_list(scenario)
    H = apply_capacity(G, sc)
    sectors = end_use_groups(H)
    if not sectors:
        msg = "the graph has no end uses to keep supplied"
        raise ScenarioError(msg)
    targets = [v for members in sectors.values() for v in members]
    cg = compile_graph(H)
    tpos = np.array([cg.index[t] for t in targets], dtype=np.int64)
    w = target_weights(cg, tpos)
    names = list(sectors)
    bounds = np.cumsum([0] + [len(sectors[s]) for s in names])
    groups = [np.arange(bounds[i], bounds[i + 1]) for i in range(len(names))]
    chosen = model or (getattr(sc, "model", None) if sc is not None else None) or "linear"
    base = response if response is not None else getattr(sc, "response", None)
    resp = dataclasses.replace(Response.of(base), model="optimal")
    empty = pd.DataFrame(columns=list(OPTION_COLUMNS))
    prog = _program(
        H, shocks, empty, tpos, w, horizon, step, chosen, resp, capacity_tranches(G, sc), groups
    )
    lay = prog["lay"]
    P = lay.P
    req = prog["req_rows"]
    b0 = prog["b_ub"].copy()

    def run(objective: np.ndarray, keep_whole: dict[int, int]) -> Any:
        b = b0.copy()
        for gi, T in keep_whole.items():
            b[req[:T, gi]] = -(1.0 - 1e-9)
        prog["b_ub"] = b
        return _solve(prog, objective)

    def weighted_d(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        wg = w[idx] / w[idx].sum() if w[idx].sum() > 0 else np.full(len(idx), 1.0 / len(idx))
        return np.array([x[lay.d(p) + idx] @ wg for p in range(P)])

    def objective(idx: np.ndarray | None) -> np.ndarray:
        c = np.zeros(lay.size)
        for p in range(P):
            ww = w if idx is None else np.where(np.isin(np.arange(len(w)), idx), w, 0.0)
            c[lay.d(p) : lay.d(p) + lay.T] = -(PATH_DISCOUNT**p) * ww
        return c

    zero = np.zeros(lay.size)
    sector_output: dict[str, np.ndarray] = {}
    sector_supply: dict[str, np.ndarray] = {}
    sector_full: dict[str, int] = {}
    for gi, name in enumerate(names):
        lo, hi = 0, P  # lo periods always possible; find the largest feasible
        if run(zero, {gi: P}).status == 0:
            lo = P
        else:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if run(zero, {gi: mid}).status == 0:
                    lo = mid
                else:
                    hi = mid
        res = run(objective(groups[gi]), {gi: lo})
        if res.status != 0:
            msg = f"the optimal path program failed for {name!r} ({res.message.strip()})"
            raise SupplyGraphError(msg)
        sector_full[name] = lo
        sector_output[name] = np.clip(weighted_d(res.x, groups[gi]), 0.0, 1.0)
        sup = _supply(prog, res.x)
        sector_supply[name] = np.clip(
            np.array([sup[p, tpos[groups[gi]]] @ _norm(w[groups[gi]]) for p in range(P)]), 0.0, 1.0
        )
    res = run(objective(None), {})
    if res.status != 0:
        msg = f"the optimal path program failed ({res.message.strip()})"
        raise SupplyGraphError(msg)
    joint_output = np.array([res.x[lay.y(p) : lay.y(p) + lay.n] for p in range(P)])
    prog["b_ub"] = b0
    return OptimalPaths(
        periods=prog["periods"],
        nodes=list(cg.nodes),
        joint_output=joint_output,
        joint_supply=_supply(prog, res.x),
        sector_output=sector_output,
        sector_supply=sector_supply,
        sector_full=sector_full,
    )


def _norm(w: np.ndarray) -> np.ndarray:
    return w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / max(len(w), 1))


def _supply(prog: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Each node's intake from deliveries and external input (no stock), per period, as a
    fraction of normal: ``min over its pools of (sum f + ext) / N`` (1 for nodes without)."""
    lay = prog["lay"]
    prob = prog["prob"]
    out = np.ones((lay.P, lay.n))
    for p in range(lay.P):
        f = x[lay.f(p) : lay.f(p) + lay.M]
        avail = np.bincount(prob.pool, weights=f, minlength=prob.n_pools) + prob.pool_ext
        ratio = avail / prob.pool_need
        node = np.full(lay.n, np.inf)
        np.minimum.at(node, prob.pool_node, ratio)
        out[p] = np.where(np.isinf(node), 1.0, node)
    return out
