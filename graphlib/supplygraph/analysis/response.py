"""Supply response: what customers, suppliers and spare capacity do when a shock hits.

The propagation models of :mod:`supplygraph.analysis.propagation` assume that nobody reacts: a
customer that loses a supplier never buys more from its other suppliers, and spare capacity does
not exist. That is the **no-response lower bound** (``response="none"``). Two responses bracket
what reaction can achieve:

``"rules"`` -- a behavioural estimate (:mod:`supplygraph.analysis.rules`)
    Incumbent customers keep their no-response share of each supplier's output; customers still
    short then order more from suppliers that have spare capacity or output an export rule
    withholds from its usual buyer, and those suppliers ration what they can spare by a stated
    rule (proportional, priority classes or max-min). Suppliers short of inputs for the extra
    orders order upstream in turn. Iterated to its fixed point.
``"optimal"`` -- the upper bound (:mod:`supplygraph.analysis.optimal`)
    A linear program over the same capacities, input groups, shock caps and end-use demand:
    the most each end use could get if every unit of spare capacity and withheld output went
    where it helps most. It names the constraints that bind.

Both share one reading of the data, in fractions of each node's normal (baseline) output so
that units never mix:

* ``kappa[v] = capacity[v] / value[v]`` (>= 1; 1 when the node has no ``capacity``): the most
  the node can produce relative to normal; a node cut ``c`` leaves ``K'[v] = (1 - c) kappa[v]``;
* a node's inputs come in **pools** -- all of its inputs under the linear model, one per input
  group (material, else supplier stage) under Leontief -- and to produce ``y`` (fraction of
  normal) it needs ``y`` times its normal intake of every pool; the external (never shocked)
  part of the intake is available up to its normal amount; nodes without inputs in the graph
  (mines) are limited by capacity alone;
* a supplier at output ``y`` can ship ``y`` times its normal outflow, across its customers;
* a link may carry at most its **quota**: ``(1 - c) z`` when a shock cuts it by ``c`` (``z`` its
  normal flow), else ``max_scale * z`` (unlimited when ``max_scale`` is not given);
* with ``substitution="stage"`` a customer may also buy from a supplier it has no link with,
  in the same stage and input group, when no shock covers that new link
  (:func:`~supplygraph.analysis.shocks.pair_cuts`); ``"edges"`` (the default) uses existing
  links only; ``"none"`` allows no re-sourcing at all (spare capacity then only offsets a node's
  own cut);
* end uses (and other targets) never get more than their normal supply.

Options are given as a :class:`Response`, or a plain model name, to
:func:`supplygraph.disrupt` and the other analyses (``response=``), and in a scenario file's
``[response]`` table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supplygraph.analysis.limits import limit_groups
from supplygraph.analysis.response_arrays import _closed_columns, build_problem
from supplygraph.analysis.response_options import Response, check_priority

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

    from supplygraph.analysis.shocks import Shock
    from supplygraph.compiled import CompiledGraph

__all__ = ["ResponseOutcome", "removal_losses", "respond"]


@dataclass
class ResponseOutcome:
    """What a response gives for one scenario (positions and targets of the compiled graph).

    Attributes
    ----------
    output
        Output per position as a fraction of normal (may exceed 1 where spare capacity is used):
        the rule's fixed point, or the all-targets optimum's allocation.
    remaining
        Per target, the fraction of normal supply it gets (0..1): the rule's value, or for
        ``optimal`` the most that target alone could get (its own program).
    joint
        ``optimal`` only: per target, its value in the all-targets optimum.
    groups
        ``optimal`` only: end use -> the most that end use could get (weighted mean over its
        targets) and the targets' values in that solution.
    total
        ``optimal`` only: the all-targets optimum (weighted mean over every target).
    binding
        End use -> what limits it: for ``optimal`` the confirmed binding constraint groups at
        its optimum, for ``rules`` the limits its open orders ran into
        (:func:`~supplygraph.analysis.rules.stall_reasons`).
    rounds
        ``rules`` only: rounds until the fixed point.
    """

    output: np.ndarray
    remaining: np.ndarray
    joint: np.ndarray | None = None
    groups: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict)
    total: float | None = None
    binding: dict[str, list[Any]] = field(default_factory=dict)
    rounds: int | None = None


def respond(
    G: nx.DiGraph,
    cg: CompiledGraph,
    cap: np.ndarray,
    keep: np.ndarray | None,
    shocks: Iterable[Shock],
    model: str,
    response: Response,
    tpos: np.ndarray,
    weights: np.ndarray,
    groups: Mapping[str, np.ndarray],
    *,
    per_target: bool = True,
) -> ResponseOutcome:
    """Run the ``rules`` or ``optimal`` response for one scenario.

    Parameters
    ----------
    G, cg
        The graph and its compiled form.
    cap, keep
        ``1 - node cut`` per position and ``1 - edge cut`` per edge (or None).
    shocks
        The shocks (for new links under ``substitution="stage"``).
    model
        ``"linear"`` or ``"leontief"``.
    response
        The options (``model`` must be ``"rules"`` or ``"optimal"``).
    tpos, weights
        Target positions and their weights (summing to 1).
    groups
        End use -> indices into ``tpos`` of its targets (for ``optimal``'s per-end-use bounds).
    per_target
        ``optimal``: solve each target's own program (else each target gets its value in its
        end use's optimum).

    Returns
    -------
    ResponseOutcome
    """
    import numpy as np

    check_priority(G, response)
    prob = build_problem(G, cg, cap, keep, response, model, shocks)
    if response.model == "rules":
        from supplygraph.analysis.propagation import _closed_values
        from supplygraph.analysis.rules import solve_rules

        closed = None
        if cg.closed_node.any():
            closed = _closed_values(cg, np.asarray(cap, dtype=float), keep)[:, None]
        res = solve_rules(prob, closed_values=closed)
        x = res.x[:, 0]
        out = ResponseOutcome(output=x, remaining=np.clip(x[tpos], 0.0, 1.0), rounds=res.rounds)
        from supplygraph.analysis.rules import stall_reasons

        for name, idx in groups.items():
            caps, links, ext, idle = stall_reasons(prob, res, tpos[idx])
            out.binding[name] = limit_groups(prob, caps, links, ext, idle)
        return out
    from supplygraph.analysis.optimal import build_lp

    floor = None
    if response.floor == "no-response":
        from supplygraph.analysis.propagation import propagate_arrays

        h0 = propagate_arrays(cg, np.asarray(cap, dtype=float), keep, model)
        floor = h0[tpos]
    lp = build_lp(prob, tpos, floor=floor)
    T = len(tpos)
    whole = lp.solve(weights)
    out = ResponseOutcome(
        output=whole.y,
        remaining=np.zeros(T),
        joint=np.clip(whole.d, 0.0, 1.0),
        total=float(np.clip(whole.value, 0.0, 1.0)),
    )
    joint = np.clip(whole.d, 0.0, 1.0)
    full = np.asarray(joint >= 1.0 - 1e-9, dtype=bool)  # nothing can do better than full supply
    for name, idx in groups.items():
        if full[idx].all():
            # served in full at the joint optimum: that is its own optimum too, one program less
            out.groups[name] = (1.0, joint.copy())
            out.binding[name] = []
            out.remaining[idx] = 1.0
            continue
        w = np.zeros(T)
        w[idx] = weights[idx]
        if w.sum() <= 0:
            w[idx] = 1.0
        w = w / w.sum()
        sol = lp.solve(w, binding=True)
        d = np.clip(sol.d, 0.0, 1.0)
        out.groups[name] = (float(np.clip(sol.value, 0.0, 1.0)), d)
        out.binding[name] = sol.binding
        out.remaining[idx] = d[idx]
    if per_target:
        for i in range(T):
            if full[i]:
                out.remaining[i] = 1.0
                continue
            c = np.zeros(T)
            c[i] = 1.0
            out.remaining[i] = min(max(lp.solve(c).value, 0.0), 1.0)
    return out


# ---------------------------------------------------------------------------------------------
#: Most (scenarios x links) cells the rules kernel holds at once in a batch of removals.
BATCH_CELLS = 4_000_000


def removal_losses(
    G: nx.DiGraph,
    cg: CompiledGraph,
    scenarios: Sequence[np.ndarray],
    tpos: np.ndarray,
    weights: np.ndarray,
    model: str,
    response: Response,
    none_loss: np.ndarray,
    *,
    top: int | None = None,
    row_weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Target losses when each set of nodes is removed, under a supply response.

    Parameters
    ----------
    G, cg
        The graph and its compiled form.
    scenarios
        Positions removed in each scenario (a node, or all of a country-stage group).
    tpos, weights
        Target positions and weights.
    model
        ``"linear"`` or ``"leontief"``.
    response
        ``rules`` (all scenarios of a batch at once, as columns) or ``optimal`` (one program per
        scenario, all targets together: each target's loss in the all-targets optimum, with the
        no-response losses as the floor unless ``response.floor == "zero"``).
    none_loss
        The no-response losses, shape (S, T): the order of evaluation, and the floor.
    top
        Evaluate only until the ``top`` largest weighted losses are certain: a response never
        loses more than no response, so once the ``top``-th largest evaluated loss is at least
        the largest no-response loss not yet evaluated, no other scenario can enter. None: all.
    row_weights
        Per scenario and target, the weights of the ranking score (default ``weights`` for
        every row; a chokepoint group leaves out its own targets).

    Returns
    -------
    (loss, done)
        ``loss`` shape (S, T), NaN where not evaluated; ``done`` which scenarios were.
    """
    import numpy as np

    S, T = len(scenarios), len(tpos)
    loss = np.full((S, T), np.nan)
    done = np.zeros(S, dtype=bool)
    if not S:
        return loss, done
    rw = np.broadcast_to(weights, (S, T)) if row_weights is None else row_weights
    score_none = np.einsum("st,st->s", none_loss, rw)
    order = np.argsort(-score_none, kind="stable")
    chunk = max(1, min(256, BATCH_CELLS // max(cg.m + cg.n, 1))) if response.model == "rules" else 1
    for start in range(0, S, chunk):
        idx = order[start : start + chunk]
        if top is not None and start >= top:
            best = np.sort(np.einsum("st,st->s", loss[done], rw[done]))[::-1]
            if len(best) >= top and best[top - 1] >= float(score_none[idx[0]]) - 1e-12:
                break
        cap = np.ones((cg.n, len(idx)))
        for j, s in enumerate(idx.tolist()):
            cap[np.asarray(scenarios[s], dtype=np.int64), j] = 0.0
        prob = build_problem(G, cg, cap, None, response, model, ())
        if response.model == "rules":
            from supplygraph.analysis.rules import solve_rules

            closed = _closed_columns(cg, cap) if cg.closed_node.any() else None
            x = solve_rules(prob, closed_values=closed).x
            loss[idx] = (1.0 - np.clip(x[tpos], 0.0, 1.0)).T
        else:
            from supplygraph.analysis.optimal import build_lp

            for j, s in enumerate(idx.tolist()):
                floor = None if response.floor == "zero" else 1.0 - none_loss[s]
                lp = build_lp(prob, tpos, column=j, floor=floor)
                loss[s] = 1.0 - np.clip(lp.solve(weights).d, 0.0, 1.0)
        done[idx] = True
    return loss, done
