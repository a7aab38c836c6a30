"""Monte Carlo draws of disruptions (every supply response) and of single removals.

The batched evaluations behind ``draws=`` on :func:`~supplygraph.analysis.disruption.disrupt`,
:func:`~supplygraph.analysis.disruption.sweep` and
:func:`~supplygraph.analysis.chokepoints.chokepoints`: each builds an
:class:`~supplygraph.uncertainty.montecarlo.Experiment` over the graph's (and the shocks')
ranges, runs it (:func:`~supplygraph.uncertainty.montecarlo.run`) and adds percentile and
probability columns to the analysis' own table. See :mod:`supplygraph.uncertainty` for the
method.
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
    factor_notes,
    percentile_columns,
    robustness,
    run,
)
from supplygraph.uncertainty.ranges import collect
from supplygraph.uncertainty.sampling import DrawSpec

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.response_options import Response
    from supplygraph.analysis.shocks import Shock
    from supplygraph.compiled import CompiledGraph

__all__ = [
    "LOSS_THRESHOLD",
    "add_removal_columns",
    "disruption_draws",
    "removal_draws",
]

#: ``p_loss_ge_50``: the probability that an end use loses at least this share of its output.
LOSS_THRESHOLD = 0.5


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
    result: Any,
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
      (:func:`~supplygraph.analysis.response_arrays.with_draws`);
    * ``optimal``: one set of linear programs per draw (each end use's optimum and the joint
      one; each target shows its value in its end use's optimum).

    ``targets`` and ``by_end_use`` gain ``remaining_p5``, ``remaining_p50``,
    ``remaining_p95`` and ``p_loss_ge_50`` (the share of draws in which the row loses at least
    ``threshold`` of its output).
    """
    from supplygraph.analysis.dependency import end_use_keys, target_positions
    from supplygraph.compiled import compile_graph
    from supplygraph.uncertainty.kernels import DrawPlan, propagate

    cg = compile_graph(G)
    drawn: tuple[str, ...] = ("value", "flow", "external_input")
    if response.model != "none":
        drawn = (*drawn, "capacity")  # spare capacity matters only to a response
    factors = collect(G, scenario, shocks, distribution=spec.distribution, drawn=drawn)
    plan = DrawPlan(G, cg, factors, shocks, scenario)
    tpos = target_positions(cg, targets)
    keys = np.array(end_use_keys(cg, tpos), dtype=object)
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
    notes = factor_notes(factors, plan.skipped)
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
    from supplygraph.analysis.response_arrays import build_problem, with_draws
    from supplygraph.analysis.response_options import check_priority
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
    return run(exp, spec, workers=workers, notes=factor_notes(factors, plan.skipped))


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
