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
from supplygraph.analysis.response_arrays import (
    DOMESTIC,
    END_USE_PREFIX,
    _closed_columns,
    build_problem,
)
from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

    from supplygraph.analysis.shocks import Shock
    from supplygraph.compiled import CompiledGraph

__all__ = [
    "FLOORS",
    "RATIONING",
    "RESPONSES",
    "SUBSTITUTIONS",
    "Response",
    "ResponseOutcome",
    "check_priority",
    "removal_losses",
    "respond",
]

#: The supply responses, from the lower to the upper bound.
RESPONSES = ("none", "rules", "optimal")
#: Re-sourcing scopes: none, existing links only, or any supplier of the same stage and group.
SUBSTITUTIONS = ("none", "edges", "stage")
#: How a supplier shares what it can spare among customers asking for more.
RATIONING = ("proportional", "priority", "maxmin")
#: What every target keeps at least in the optimal response's programs.
FLOORS = ("no-response", "zero")


@dataclass(frozen=True)
class Response:
    """How the supply chain reacts to a shock.

    Parameters
    ----------
    model
        ``"none"`` (no reaction: the linear/Leontief propagation, the lower bound), ``"rules"``
        (behavioural re-sourcing and rationing) or ``"optimal"`` (the linear-programming upper
        bound).
    substitution
        Where a short customer may buy more: ``"edges"`` (its existing suppliers), ``"stage"``
        (also any supplier of the same stage and input group that no shock blocks for it) or
        ``"none"`` (nowhere).
    rationing
        How a supplier shares its spare output among customers asking for more (``rules``):
        ``"proportional"`` (in proportion to what they ask), ``"priority"`` (classes in the order
        of ``priority``, proportional within a class) or ``"maxmin"`` (every asking customer gets
        the same share of its normal intake, up to what it asks). Customers always keep their
        no-response share first (incumbents first).
    priority
        Customer classes for ``rationing="priority"``, first served first: ``"domestic"`` (same
        country as the supplier), a bloc name from ``blocs``, a country code, or
        ``"end_use:<sector>"``. Customers in no class come last.
    blocs
        Named groups of countries for ``priority`` (``{"allies": ("USA", "JPN", "EU")}``).
    qualification_days
        Days before a new supplier link (``substitution="stage"``) can deliver, in timelines.
    floor
        ``optimal`` only: ``"no-response"`` (default) -- the program may not leave any target
        with less than it gets with no response, the guarantee the rules give incumbents, so
        each end use's bound is what reallocation could add *without taking from anyone*;
        ``"zero"`` -- no floor: the pure physical bound, in which one end use may take every
        unit another one had.

    Examples
    --------
    >>> Response.of("rules").rationing
    'proportional'
    >>> Response.of("rules", priority=["domestic"]).rationing
    'priority'
    """

    model: str = "none"
    substitution: str = "edges"
    rationing: str = "proportional"
    priority: tuple[str, ...] = ()
    blocs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    qualification_days: float = 0.0
    floor: str = "no-response"

    def __post_init__(self) -> None:
        if self.model not in RESPONSES:
            raise ScenarioError(
                f"unknown response {self.model!r}: use one of {', '.join(RESPONSES)}"
            )
        if self.substitution not in SUBSTITUTIONS:
            raise ScenarioError(
                f"unknown substitution {self.substitution!r}: use one of {', '.join(SUBSTITUTIONS)}"
            )
        if self.rationing not in RATIONING:
            raise ScenarioError(
                f"unknown rationing rule {self.rationing!r}: use one of {', '.join(RATIONING)}"
            )
        if self.floor not in FLOORS:
            raise ScenarioError(f"unknown floor {self.floor!r}: use one of {', '.join(FLOORS)}")
        object.__setattr__(self, "priority", tuple(str(p) for p in self.priority))
        object.__setattr__(
            self, "blocs", {str(k): tuple(str(c) for c in v) for k, v in dict(self.blocs).items()}
        )
        if self.rationing == "priority" and not self.priority:
            raise ScenarioError("rationing 'priority' needs a priority list (e.g. ['domestic'])")
        if self.priority and self.rationing != "priority":
            raise ScenarioError(
                f"a priority list is used only with rationing 'priority', not {self.rationing!r}"
            )
        q = self.qualification_days
        if (
            isinstance(q, bool)
            or not isinstance(q, int | float)
            or not 0 <= float(q) < float("inf")
        ):
            raise ScenarioError(f"qualification_days must be a number >= 0, got {q!r}")

    @classmethod
    def of(cls, value: Response | str | None = None, **overrides: Any) -> Response:
        """Return a :class:`Response` from a model name (or None: ``"none"``) and options.

        A ``priority`` list without an explicit ``rationing`` selects ``rationing="priority"``.
        """
        if isinstance(value, Response):
            base = value
        elif value is None:
            base = cls()
        elif isinstance(value, str):
            base = None
            model = value
        else:
            raise ScenarioError(f"response must be a name or a Response, got {value!r}")
        opts = {k: v for k, v in overrides.items() if v is not None}
        if opts.get("priority") and "rationing" not in opts:
            opts["rationing"] = "priority"
        if base is None:
            return cls(model=model, **opts)
        if not opts:
            return base
        import dataclasses

        return dataclasses.replace(base, **opts)

    def describe(self) -> str:
        """One line: the model and its options (``"rules (edges, proportional)"``)."""
        if self.model == "none":
            return "none"
        parts = [self.substitution]
        if self.model == "optimal" and self.floor == "zero":
            parts.append("no floor")
        if self.model == "rules":
            rule = self.rationing
            if self.priority:
                rule += ": " + " > ".join(self.priority)
            parts.append(rule)
        return f"{self.model} ({', '.join(parts)})"


def check_priority(G: nx.DiGraph, response: Response) -> None:
    """Raise :class:`ScenarioError` when a priority entry names nothing in ``G``."""
    countries = {str(d.get("country")) for _, d in G.nodes(data=True)}
    end_uses = {str(d.get("end_use")) for _, d in G.nodes(data=True) if d.get("end_use")}
    for item in response.priority:
        if item == DOMESTIC or item in response.blocs or item in countries:
            continue
        if item.startswith(END_USE_PREFIX) and item[len(END_USE_PREFIX) :] in end_uses:
            continue
        msg = (
            f"priority class {item!r} is neither 'domestic', a bloc ({', '.join(response.blocs) or 'none'}), "
            f"a country of the graph nor 'end_use:<sector>' with a sector of the graph"
        )
        raise ScenarioError(msg)


# ---------------------------------------------------------------------------------------------
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
