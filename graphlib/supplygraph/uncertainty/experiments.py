"""The analyses with draws: concentration, disruptions (every response), removals, timelines.

Each function builds an :class:`~supplygraph.uncertainty.montecarlo.Experiment` over the
graph's (and the scenario's) ranges, runs it (:func:`~supplygraph.uncertainty.montecarlo.run`)
and returns the deterministic table of the analysis with percentile and probability columns
next to its own, plus the :class:`~supplygraph.uncertainty.montecarlo.MonteCarloResult` (for
the sensitivity analysis). The analyses' own functions call these when given ``draws=``
(:func:`supplygraph.concentration`, :func:`supplygraph.disrupt`, :func:`supplygraph.sweep`,
:func:`supplygraph.chokepoints`); timelines have theirs next to the day-by-day model
(:func:`supplygraph.analysis.timeline.timeline_draws`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.errors import InputError
from supplygraph.uncertainty.kernels import ordered_sum
from supplygraph.uncertainty.montecarlo import (
    Experiment,
    MonteCarloResult,
    percentile_columns,
    robustness,
    run,
)
from supplygraph.uncertainty.ranges import Factors, collect
from supplygraph.uncertainty.sampling import DrawSpec

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.disruption import DisruptionResult
    from supplygraph.analysis.response import Response
    from supplygraph.analysis.shocks import Shock
    from supplygraph.compiled import CompiledGraph

__all__ = [
    "LOSS_THRESHOLD",
    "TTS_DAYS",
    "add_removal_columns",
    "concentration_draws",
    "disruption_draws",
    "removal_draws",
]

#: ``p_loss_ge_50``: the probability that an end use loses at least this share of its output.
LOSS_THRESHOLD = 0.5

#: ``p_tts_lt_60``: the probability that an end use runs short within this many days.
TTS_DAYS = 60


def _notes(factors: Factors, skipped: Sequence[str] = ()) -> list[str]:
    notes = [factors.describe()]
    if factors.not_drawn:
        notes.append(
            "Ranges on " + ", ".join(factors.not_drawn) + " are kept but not drawn by this "
            "analysis (it reads their values)."
        )
    notes.extend(skipped)
    if factors.dim == 0:
        notes.append("No ranges: every draw equals the deterministic result.")
    return notes


# ---------------------------------------------------------------------------------------------
# concentration


def concentration_draws(
    G: nx.DiGraph,
    spec: DrawSpec,
    *,
    thresholds: tuple[float, float] | None = None,
    by_material: bool = False,
    workers: int = 1,
) -> tuple[pd.DataFrame, MonteCarloResult]:
    """Concentration per stage (or per stage and element group) with Monte Carlo intervals.

    Node quantities are drawn from the ``value`` ranges (and the ``flow`` ranges of nodes
    without a value, whose quantity is their outflow or inflow); each draw gives every stage's
    country shares and indices exactly as :func:`~supplygraph.analysis.concentration.
    concentration` computes them.

    Returns
    -------
    (table, result)
        The deterministic table plus ``hhi_p5``, ``hhi_p50``, ``hhi_p95``, ``top_share_p5``,
        ``top_share_p50``, ``top_share_p95``, ``p_top_country`` (the share of draws in which
        ``top_country`` stays the largest supplier) and ``p_highly_concentrated`` (HHI at or
        above the upper band).
    """
    from supplygraph.analysis.concentration import (
        HHI_EXCLUDED,
        MERGER_GUIDELINES_2010,
        _country,
        concentration,
        concentration_by_material,
    )
    from supplygraph.compiled import compile_graph

    bands = thresholds or MERGER_GUIDELINES_2010
    if by_material:
        table = concentration_by_material(G, thresholds=bands)
        row_names = list(zip(table["stage"], table["material"], strict=True))
    else:
        table = concentration(G, thresholds=bands)
        row_names = list(table.index)
    factors = collect(G, drawn=("value", "flow"), distribution=spec.distribution)
    cg = compile_graph(G)
    from supplygraph.uncertainty.kernels import DrawPlan, incidence

    plan = DrawPlan(G, cg, factors)
    attrs = [G.nodes[v] for v in cg.nodes]
    countries = [_country(d) for d in attrs]
    if by_material:
        keys: list[Any] = [
            (str(d.get("stage")), str(d.get("material")).strip())
            if d.get("material") is not None and str(d.get("material")).strip()
            else None
            for d in attrs
        ]
    else:
        keys = [str(d.get("stage")) if d.get("stage") is not None else None for d in attrs]
    row_index = {r: i for i, r in enumerate(row_names)}
    comparable = np.array(
        [not str(table.iloc[i]["level"]).startswith("not comparable") for i in range(len(table))]
    )
    # (row, country) cells, countries in name order (ties of the largest go to the first name)
    cells: dict[tuple[int, str], int] = {}
    node_cell = np.full(cg.n, -1, dtype=np.int64)
    for p, (key, c) in enumerate(zip(keys, countries, strict=True)):
        r = row_index.get(key) if key is not None else None
        if r is None or not comparable[r]:
            continue
        node_cell[p] = cells.setdefault((r, c), len(cells))
    order = sorted(cells, key=lambda rc: (rc[0], rc[1]))
    cell_row = np.array([rc[0] for rc in order], dtype=np.int64)
    cell_named = np.array([rc[1] not in HHI_EXCLUDED for rc in order], dtype=bool)
    remap = np.empty(len(cells), dtype=np.int64)
    for new, rc in enumerate(order):
        remap[cells[rc]] = new
    has = node_cell >= 0
    node_cell = np.where(has, remap[np.maximum(node_cell, 0)], -1)
    agg = incidence(node_cell[has], len(order), int(has.sum()))
    R = len(row_names)
    slot = np.zeros(len(order), dtype=np.int64)
    for i in range(1, len(order)):
        slot[i] = slot[i - 1] + 1 if cell_row[i] == cell_row[i - 1] else 0
    width = int(slot.max()) + 1 if len(order) else 1
    names_by_slot = [[""] * width for _ in range(R)]
    for i, rc in enumerate(order):
        names_by_slot[rc[0]][slot[i]] = rc[1]
    det_top = table["top_country"].tolist()
    top_slot = np.array(
        [
            names_by_slot[r].index(t) if isinstance(t, str) and t in names_by_slot[r] else -1
            for r, t in enumerate(det_top)
        ]
    )
    nosink = ~cg.is_sink
    loops = cg.src == cg.tgt
    t_out = incidence(cg.src[~loops], cg.n, int((~loops).sum()))
    t_in = incidence(cg.tgt[~loops], cg.n, int((~loops).sum()))
    fixed = table["hhi"].to_numpy(dtype=float)
    fixed_top = table["top_share"].to_numpy(dtype=float)
    has_rows = np.zeros(R, dtype=bool)
    has_rows[np.unique(cell_row)] = True

    def evaluate(u: np.ndarray) -> dict[str, np.ndarray]:
        A = plan.arrays(u)
        B = u.shape[0]
        flow = A.flow[~loops]
        out = np.asarray(t_out @ flow)
        inn = np.asarray(t_in @ flow)
        q = np.where(~np.isnan(A.value), A.value, np.where(nosink[:, None], out, inn))
        q = np.maximum(q, 0.0)
        Q = np.asarray(agg @ q[has])  # (cells, B)
        tot = np.zeros((R, B))
        np.add.at(tot, cell_row, Q)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = Q / tot[cell_row]
        named_share = np.where(cell_named[:, None] & (Q > 0), share, 0.0)
        hhi = np.zeros((R, B))
        np.add.at(hhi, cell_row, 10_000.0 * named_share**2)
        pad = np.full((R, width, B), -1.0)
        pad[cell_row, slot] = np.where(cell_named[:, None] & (Q > 0), share, -1.0)
        best = pad.max(axis=1)
        arg = pad.argmax(axis=1)
        none = best <= 0
        hhi = np.where(none | ~has_rows[:, None], np.nan, hhi)
        top = np.where(none, np.nan, best)
        # rows without draws (reserves, mixed units) keep their deterministic numbers
        keep = ~has_rows
        hhi[keep] = fixed[keep, None]
        top[keep] = fixed_top[keep, None]
        same = (arg == top_slot[:, None]).astype(float)
        same[keep] = 1.0
        return {"hhi": hhi, "top_share": top, "same_top": same}

    exp = Experiment(
        factors=factors,
        evaluate=evaluate,
        rows={"hhi": row_names, "top_share": row_names, "same_top": row_names},
        cells=3 * (cg.n + cg.m) + len(order) * 4 + R * width,
    )
    res = run(exp, spec, workers=workers, notes=_notes(factors, plan.skipped))
    out = table.copy()
    percentile_columns(out, "hhi", res.percentiles("hhi"), "hhi")
    percentile_columns(out, "top_share", res.percentiles("top_share"), "top_share")
    out["p_top_country"] = res.probability("same_top", lambda x: x > 0.5)
    high = float(bands[1])
    p_high = res.probability("hhi", lambda x: x >= high)
    out["p_highly_concentrated"] = np.where(np.isnan(fixed), np.nan, p_high)
    return out, res


# ---------------------------------------------------------------------------------------------
# disruptions


def _target_weights(cg: CompiledGraph, tpos: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Target weights per draw (T, B): output shares, or equal when units differ."""
    from supplygraph.analysis.dependency import target_weight_basis

    T, B = len(tpos), baseline.shape[1]
    if target_weight_basis(cg, tpos) == "equal":
        return np.full((T, B), 1.0 / max(T, 1))
    base = np.nan_to_num(baseline[tpos])
    tot = ordered_sum(base, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, base / np.where(tot > 0, tot, 1.0), 1.0 / max(T, 1))


def disruption_draws(
    G: nx.DiGraph,
    result: DisruptionResult,
    spec: DrawSpec,
    *,
    shocks: Sequence[Shock],
    model: str,
    response: Response,
    targets: Iterable[Any] | None = None,
    scenario: Any = None,
    workers: int = 1,
    threshold: float = LOSS_THRESHOLD,
) -> MonteCarloResult:
    """Add Monte Carlo intervals to a disruption result (its tables gain columns in place).

    Every draw propagates the shocks (their cuts drawn where ranged) through the graph with
    that draw's flows, values and capacities, under the same response:

    * ``none``: the propagation model on all draws at once (:func:`~supplygraph.uncertainty.
      kernels.propagate`);
    * ``rules``: :func:`~supplygraph.analysis.rules.solve_rules` with one column per draw
      (:func:`~supplygraph.analysis.response.with_draws`);
    * ``optimal``: one set of linear programs per draw (each end use's optimum and the joint
      one; each target shows its value in its end use's optimum).

    ``targets`` and ``by_end_use`` gain ``remaining_p5``, ``remaining_p50``,
    ``remaining_p95`` and ``p_loss_ge_50`` (the share of draws in which the row loses at least
    ``threshold`` of its output).
    """
    from supplygraph.analysis.dependency import target_positions
    from supplygraph.analysis.disruption import _end_use_keys
    from supplygraph.compiled import compile_graph
    from supplygraph.uncertainty.kernels import DrawPlan, propagate

    cg = compile_graph(G)
    drawn: tuple[str, ...] = ("value", "flow", "external_input")
    if response.model != "none":
        drawn = (*drawn, "capacity")  # spare capacity matters only to a response
    factors = collect(G, scenario, shocks, distribution=spec.distribution, drawn=drawn)
    plan = DrawPlan(G, cg, factors, shocks, scenario)
    tpos = target_positions(cg, targets)
    keys = np.array(_end_use_keys(cg, tpos), dtype=object)
    names = sorted(set(keys.tolist()))
    groups = {k: np.flatnonzero(keys == k) for k in names}
    rows_eu = [*names, "total"]
    member = np.zeros((len(rows_eu), len(tpos)))
    for i, k in enumerate(names):
        member[i, groups[k]] = 1.0
    member[-1] = 1.0

    def by_group(rem: np.ndarray, w: np.ndarray) -> np.ndarray:
        ww = member[:, :, None] * w[None, :, :]  # (G, T, B)
        tot = ordered_sum(ww, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return ordered_sum(ww * rem[None, :, :], 1) / np.where(tot > 0, tot, np.nan)

    def evaluate(u: np.ndarray) -> dict[str, np.ndarray]:
        A = plan.arrays(u)
        w = _target_weights(cg, tpos, A.baseline)
        if response.model == "none":
            h = propagate(cg, A.weights(model), A.ext, A.cap, model, keep=A.keep)
            rem = h[tpos]
            return {"remaining": rem, "end_use": by_group(rem, w)}
        if response.model == "rules":
            rem = _rules_draws(G, cg, A, shocks, model, response)[tpos]
            return {"remaining": np.clip(rem, 0.0, 1.0), "end_use": by_group(rem, w)}
        return _optimal_draws(G, cg, A, shocks, model, response, tpos, w, groups, rows_eu)

    tnames = [cg.nodes[p] for p in tpos]
    exp = Experiment(
        factors=factors,
        evaluate=evaluate,
        rows={"remaining": tnames, "end_use": rows_eu},
        cells=14 * (cg.n + cg.m) + 3 * len(tpos) * len(rows_eu),
    )
    notes = _notes(factors, plan.skipped)
    if response.model == "optimal":
        notes.append(
            "Under the optimal response each draw solves every end use's program and the joint "
            "one; a target's interval is its value in its end use's optimum."
        )
    res = run(exp, spec, workers=workers, notes=notes)
    thr = float(threshold)
    label = f"p_loss_ge_{round(thr * 100):d}"
    tab = result.targets
    percentile_columns(tab, "remaining", res.percentiles("remaining"), "remaining")
    tab[label] = res.probability("remaining", lambda x: 1.0 - x >= thr - 1e-12)
    by = result.by_end_use
    order = [rows_eu.index(str(k)) for k in by.index]
    pct = res.percentiles("end_use")[order]
    percentile_columns(by, "remaining", pct, "remaining")
    by[label] = res.probability("end_use", lambda x: 1.0 - x >= thr - 1e-12)[order]
    return res


def _rules_draws(
    G: nx.DiGraph,
    cg: CompiledGraph,
    A: Any,
    shocks: Sequence[Shock],
    model: str,
    response: Response,
) -> np.ndarray:
    """The rules response's output per node and draw, (n, B)."""
    from supplygraph.analysis.response import build_problem, check_priority, with_draws
    from supplygraph.analysis.rules import solve_rules

    check_priority(G, response)
    prob = build_problem(G, cg, A.cap, A.keep, response, model, shocks)
    prob = with_draws(prob, A.flow, A.inflow, A.ext * A.inflow, A.capacity, A.baseline)
    closed = None
    if cg.closed_node.any():
        from supplygraph.uncertainty.kernels import _closed_columns

        closed = _closed_columns(cg, A.cap, A.keep)
    return solve_rules(prob, closed_values=closed).x


def _optimal_draws(
    G: nx.DiGraph,
    cg: CompiledGraph,
    A: Any,
    shocks: Sequence[Shock],
    model: str,
    response: Response,
    tpos: np.ndarray,
    w: np.ndarray,
    groups: dict[str, np.ndarray],
    rows_eu: list[str],
) -> dict[str, np.ndarray]:
    """The optimal response draw by draw (one set of linear programs per draw)."""
    from supplygraph.analysis.response import respond

    B = A.size
    rem = np.zeros((len(tpos), B))
    eu = np.zeros((len(rows_eu), B))
    for j in range(B):
        keep = None if A.keep is None else A.keep[:, j]
        out = respond(
            G,
            A.column(cg, j),
            A.cap[:, j],
            keep,
            shocks,
            model,
            response,
            tpos,
            w[:, j],
            groups,
            per_target=False,
        )
        rem[:, j] = out.remaining
        for i, name in enumerate(rows_eu[:-1]):
            eu[i, j] = out.groups[name][0]
        eu[-1, j] = float(out.total if out.total is not None else np.nan)
    return {"remaining": rem, "end_use": eu}


# ---------------------------------------------------------------------------------------------
# removals (sweep, chokepoints)


def removal_draws(
    G: nx.DiGraph,
    removals: Sequence[np.ndarray],
    labels: Sequence[Any],
    spec: DrawSpec,
    *,
    model: str,
    targets: Iterable[Any] | None = None,
    row_weights: np.ndarray | None = None,
    order: np.ndarray | None = None,
    workers: int = 1,
) -> MonteCarloResult:
    """Output-weighted loss of each removal in each draw, and its rank among the removals.

    Parameters
    ----------
    removals
        Positions removed together, per row (a node, or a country-stage group).
    labels
        Row labels (node ids or ``"CHN@separation"``).
    order
        The deterministic ranking of the rows (0 = first): ties within a draw keep it.
    row_weights
        Per row and target, 0 to leave a row's own targets out of its loss.

    Returns
    -------
    MonteCarloResult
        Outputs ``weighted_loss`` and ``rank`` (1 = worst), one row per removal. The linear
        model on an acyclic graph with one node per row uses one reverse pass per chunk
        (``y = A y + w``: the weighted loss of every node at once); otherwise every (removal,
        draw) pair is one column of the batched propagation.
    """
    from supplygraph.analysis.dependency import target_positions
    from supplygraph.compiled import compile_graph
    from supplygraph.uncertainty.kernels import (
        DrawPlan,
        removal_weighted_losses,
        reverse_weighted_losses,
    )

    cg = compile_graph(G)
    factors = collect(G, distribution=spec.distribution, drawn=("value", "flow", "external_input"))
    plan = DrawPlan(G, cg, factors)
    tpos = target_positions(cg, targets)
    R = len(removals)
    single = all(len(r) == 1 for r in removals)
    one_pass = model == "linear" and cg.is_dag and single and row_weights is None
    rows_pos = np.array([int(r[0]) for r in removals], dtype=np.int64) if single else None
    tie = np.arange(R) if order is None else np.asarray(order)
    if not one_pass and R * spec.n * max(cg.m, 1) > 2e10:
        msg = (
            f"{R:,} removals x {spec.n:,} draws on {cg.m:,} edges is too much for the batched "
            "propagation (the one-pass form needs the linear model on an acyclic graph, one node "
            "per row); use fewer draws or --model linear"
        )
        raise InputError(msg)

    def evaluate(u: np.ndarray) -> dict[str, np.ndarray]:
        A = plan.arrays(u)
        w = _target_weights(cg, tpos, A.baseline)
        if one_pass:
            wvec = np.zeros((cg.n, A.size))
            np.add.at(wvec, tpos, w)
            loss = reverse_weighted_losses(cg, A.share, wvec)[rows_pos]
        else:
            loss = removal_weighted_losses(cg, A, removals, tpos, w, model, row_weights=row_weights)
        loss = np.clip(loss, 0.0, 1.0)
        # rank per draw: larger loss first, ties by the deterministic order
        ranks = np.empty_like(loss)
        for j in range(loss.shape[1]):
            o = np.lexsort((tie, -np.round(loss[:, j], 12)))
            ranks[o, j] = np.arange(1, R + 1)
        return {"weighted_loss": loss, "rank": ranks}

    labels = list(labels)
    exp = Experiment(
        factors=factors,
        evaluate=evaluate,
        rows={"weighted_loss": labels, "rank": labels},
        cells=10 * (cg.n + cg.m) + 3 * R if one_pass else 6 * R * (cg.n + cg.m),
    )
    return run(exp, spec, workers=workers, notes=_notes(factors, plan.skipped))


def add_removal_columns(
    table: pd.DataFrame, res: MonteCarloResult, labels: Sequence[Any], det_rank: np.ndarray
) -> None:
    """Add ``weighted_loss_p5/p50/p95``, ``p_rank_1``, ``p_keeps_rank``, ``rank_p50``,
    ``robustness`` to a ranked table (rows matched through ``labels``)."""
    idx = {lab: i for i, lab in enumerate(res.rows["weighted_loss"])}
    sel = np.asarray([idx[lab] for lab in labels], dtype=np.int64)
    pct = res.percentiles("weighted_loss")[sel]
    percentile_columns(table, "weighted_loss", pct, "weighted_loss")
    ranks = res.outputs["rank"][sel]
    table["p_rank_1"] = (ranks == 1).mean(axis=1)
    table["p_keeps_rank"] = (ranks <= np.asarray(det_rank)[:, None]).mean(axis=1)
    table["rank_p50"] = np.median(ranks, axis=1)
    table["robustness"] = robustness(table["p_keeps_rank"].to_numpy(dtype=float))
