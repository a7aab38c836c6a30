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

from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

    from supplygraph.analysis.shocks import Shock
    from supplygraph.compiled import CompiledGraph

__all__ = [
    "RATIONING",
    "RESPONSES",
    "SUBSTITUTIONS",
    "Response",
    "ResponseProblem",
    "binding_sentence",
    "build_problem",
    "respond",
    "with_draws",
]

#: The supply responses, from the lower to the upper bound.
RESPONSES = ("none", "rules", "optimal")
#: Re-sourcing scopes: none, existing links only, or any supplier of the same stage and group.
SUBSTITUTIONS = ("none", "edges", "stage")
#: How a supplier shares what it can spare among customers asking for more.
RATIONING = ("proportional", "priority", "maxmin")
#: What every target keeps at least in the optimal response's programs.
FLOORS = ("no-response", "zero")

#: The customer class "same country as the supplier" in a priority list.
DOMESTIC = "domestic"
#: Prefix of an end-use class in a priority list (``"end_use:defense"``).
END_USE_PREFIX = "end_use:"


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


# ---------------------------------------------------------------------------------------------
@dataclass
class ResponseProblem:
    """The arrays both responses work on, for one graph, one set of cuts and one option set.

    Positions and existing edges are those of the :class:`~supplygraph.compiled.CompiledGraph`
    (``cg``); candidate new links (``substitution="stage"``) follow the existing edges, so edge
    arrays have length ``M = cg.m + n_new``. Flows are absolute (edge units), outputs fractions
    of baseline.

    Attributes
    ----------
    cg
        The compiled graph.
    model
        ``"linear"`` (one input pool per node) or ``"leontief"`` (one pool per input group).
    response
        The options.
    cap
        ``1 - node cut`` per position, shape (n, S) for S scenarios.
    kappa
        ``capacity / value`` per position (>= 1).
    src, tgt, z
        Supplier, customer and normal flow of every edge (new links: flow 0).
    keep
        ``1 - edge cut`` per edge, shape (M, S) (new links: 1 when allowed, 0 when a shock
        covers them).
    quota
        The most each edge may carry, shape (M, S) (inf when unlimited).
    pool
        Input pool of every edge; ``pool_node``, ``pool_need`` (normal intake incl. the
        pool's external part, absolute) and ``pool_ext`` (external part, absolute) per pool.
    outflow
        Normal outflow of each position (absolute).
    has_input
        Position has at least one input pool (False: limited by capacity alone).
    edge_class
        Priority class of every edge's customer at its supplier (0 first; all 0 without a
        priority list).
    n_new
        Number of candidate new links.
    layout
        Per-level index structures of :mod:`supplygraph.analysis.rules`, built on first use
        (kept so that timelines solve the same problem day after day without rebuilding them).
    """

    cg: CompiledGraph
    model: str
    response: Response
    cap: np.ndarray
    kappa: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    z: np.ndarray
    keep: np.ndarray
    quota: np.ndarray
    pool: np.ndarray
    pool_node: np.ndarray
    pool_need: np.ndarray
    pool_ext: np.ndarray
    outflow: np.ndarray
    has_input: np.ndarray
    edge_class: np.ndarray
    n_new: int = 0
    layout: Any = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.cg.n

    @property
    def m(self) -> int:
        """Number of edges including candidate new links."""
        return len(self.src)

    @property
    def n_scenarios(self) -> int:
        """Number of scenarios (columns)."""
        return int(self.cap.shape[1])

    @property
    def n_pools(self) -> int:
        """Number of input pools."""
        return len(self.pool_node)

    def edge_name(self, e: int) -> tuple[Any, Any]:
        """The (supplier, customer) node ids of edge ``e`` (existing or new)."""
        return (self.cg.nodes[int(self.src[e])], self.cg.nodes[int(self.tgt[e])])


def capacity_ratio(cg: CompiledGraph) -> np.ndarray:
    """``kappa = capacity / baseline`` per position (1 where no capacity is given).

    ``capacity`` is in the node's ``value`` unit; a node without ``value`` reads it in the unit
    of its baseline (inflow, else outflow).
    """
    import numpy as np

    base = np.where(cg.baseline > 0, cg.baseline, 1.0)
    with np.errstate(invalid="ignore"):
        ratio = np.where(np.isnan(cg.capacity), 1.0, cg.capacity / base)
    return np.maximum(ratio, 1.0)


def build_problem(
    G: nx.DiGraph,
    cg: CompiledGraph,
    cap: np.ndarray,
    keep: np.ndarray | None,
    response: Response,
    model: str,
    shocks: Iterable[Shock] = (),
) -> ResponseProblem:
    """Assemble the :class:`ResponseProblem` of one or more scenarios.

    Parameters
    ----------
    G
        The supply graph (for node attributes and for the shocks' reach over new links).
    cg
        ``compile_graph(G)``.
    cap
        ``1 - node cut`` per position: shape (n,) or (n, S).
    keep
        ``1 - edge cut`` per existing edge: None, shape (m,) or (m, S).
    response
        The options.
    model
        ``"linear"`` or ``"leontief"``.
    shocks
        The shocks behind ``keep`` (used only to decide which new links they cover, for
        ``substitution="stage"``; node removals need none).

    Returns
    -------
    ResponseProblem
    """
    import numpy as np

    cap = np.asarray(cap, dtype=float)
    if cap.ndim == 1:
        cap = cap[:, None]
    S = cap.shape[1]
    m0 = cg.m
    if keep is None:
        keep0 = np.ones((m0, S))
    else:
        keep0 = np.asarray(keep, dtype=float)
        keep0 = np.broadcast_to(keep0[:, None] if keep0.ndim == 1 else keep0, (m0, S)).copy()

    # ---- pools: per node (linear) or per input group (Leontief)
    ext_abs = cg.ext * cg.inflow
    has_input = ~cg.is_source & (cg.inflow - ext_abs > 0)
    pool_of_edge, pool_node, group_pool = _pool_layout(cg, model)
    pool_need, pool_ext = _pool_amounts(cg, model, pool_node, cg.flow, cg.inflow, ext_abs)

    # ---- candidate new links (substitution = "stage")
    new_src, new_tgt, new_pool = (
        _new_links(G, cg, group_pool)
        if response.substitution == "stage"
        else (
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        )
    )
    n_new = len(new_src)
    keep_new = np.ones((n_new, S))
    if n_new:
        pairs = [
            (cg.nodes[u], cg.nodes[v])
            for u, v in zip(new_src.tolist(), new_tgt.tolist(), strict=True)
        ]
        from supplygraph.analysis.shocks import pair_cuts

        blocked = pair_cuts(G, list(shocks), pairs)
        if blocked:
            idx = {p: i for i, p in enumerate(pairs)}
            for pair, c in blocked.items():
                if c > 0:
                    keep_new[idx[pair]] = 0.0

    src = np.concatenate([cg.src, new_src]).astype(np.int64)
    tgt = np.concatenate([cg.tgt, new_tgt]).astype(np.int64)
    z = np.concatenate([cg.flow, np.zeros(n_new)])
    keep_all = np.vstack([keep0, keep_new])
    scale = np.concatenate([cg.max_scale, np.full(n_new, np.inf)])
    with np.errstate(invalid="ignore"):
        unlimited = np.where(keep_all < 1.0, 0.0, 1.0)
        quota = np.where(
            keep_all < 1.0,
            keep_all * z[:, None],
            np.where(unlimited > 0, scale[:, None] * z[:, None], 0.0),
        )
    if n_new:
        quota[m0:] = np.where(keep_new > 0, np.inf, 0.0)
    pool = np.concatenate([pool_of_edge, new_pool]).astype(np.int64)

    return ResponseProblem(
        cg=cg,
        model=model,
        response=response,
        cap=cap,
        kappa=capacity_ratio(cg),
        src=src,
        tgt=tgt,
        z=z,
        keep=keep_all,
        quota=quota,
        pool=pool,
        pool_node=pool_node.astype(np.int64),
        pool_need=pool_need.astype(float),
        pool_ext=pool_ext.astype(float),
        outflow=np.bincount(cg.src, weights=cg.flow, minlength=cg.n),
        has_input=has_input,
        edge_class=_edge_classes(G, cg, src, tgt, response),
        n_new=n_new,
    )


def _pool_layout(cg: CompiledGraph, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pool of each edge, node of each pool, pool of each input group)."""
    import numpy as np

    if model == "linear":
        pool_node = np.unique(cg.tgt)  # nodes with inputs in the graph, in position order
        group_pool = np.searchsorted(pool_node, cg.group_node)  # v's groups share v's pool
        return np.searchsorted(pool_node, cg.tgt), pool_node, group_pool
    return cg.grp.copy(), cg.group_node.copy(), np.arange(cg.n_groups)


def _pool_amounts(
    cg: CompiledGraph,
    model: str,
    pool_node: np.ndarray,
    flow: np.ndarray,
    inflow: np.ndarray,
    ext_abs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Normal intake ``N[p]`` and its external part ``ext[p]`` of every pool (absolute).

    ``flow``, ``inflow`` and ``ext_abs`` are per edge / node, one column per scenario or
    draw (2-D) or one scenario (1-D); the result has the same number of columns.
    """
    import numpy as np

    if model == "linear":
        return inflow[pool_node], ext_abs[pool_node]
    if cg.m:
        G_g = np.add.reduceat(flow, cg.group_start[:-1], axis=0)
    else:
        G_g = np.zeros((0, *np.shape(flow)[1:]))
    in_graph = (inflow - ext_abs)[pool_node]
    with np.errstate(invalid="ignore", divide="ignore"):
        e_g = np.where(in_graph > 0, ext_abs[pool_node] * G_g / in_graph, 0.0)
    return G_g + e_g, e_g


def with_draws(
    prob: ResponseProblem,
    flow: np.ndarray,
    inflow: np.ndarray,
    ext_abs: np.ndarray,
    capacity: np.ndarray,
    baseline: np.ndarray,
) -> ResponseProblem:
    """The problem with one set of flows and capacities per column (Monte Carlo draws).

    Every array that depends on the flows or capacities gets one column per draw: ``z``
    (normal flows, new links 0), ``quota``, ``pool_need``, ``pool_ext``, ``outflow`` and
    ``kappa = max(capacity / baseline, 1)`` (1 where no capacity). :func:`~supplygraph.
    analysis.rules.solve_rules` reads such a problem column by column, exactly as it reads
    ``S`` scenarios of one graph.

    Parameters
    ----------
    prob
        A problem built for the same columns (``cap`` and ``keep`` hold the draws' cuts).
    flow
        Normal flow per existing edge and draw, (m, S).
    inflow, ext_abs, capacity, baseline
        Per node and draw, (n, S): total intake, its external part, capacity (NaN: none)
        and normal output.

    Returns
    -------
    ResponseProblem
        A new problem; ``prob`` is not modified.
    """
    import dataclasses

    import numpy as np

    cg = prob.cg
    S = prob.n_scenarios
    m0 = cg.m
    z = np.vstack([flow, np.zeros((prob.n_new, S))])
    scale = np.concatenate([cg.max_scale, np.full(prob.n_new, np.inf)])[:, None]
    with np.errstate(invalid="ignore"):
        quota = np.where(prob.keep < 1.0, prob.keep * z, np.where(z > 0, scale * z, 0.0))
    quota[m0:] = prob.quota[m0:]
    need, ext = _pool_amounts(cg, prob.model, prob.pool_node, flow, inflow, ext_abs)
    base = np.where(baseline > 0, baseline, 1.0)
    with np.errstate(invalid="ignore"):
        kappa = np.maximum(np.where(np.isnan(capacity), 1.0, capacity / base), 1.0)
    return dataclasses.replace(
        prob,
        z=z,
        quota=quota,
        pool_need=need.astype(float),
        pool_ext=ext.astype(float),
        outflow=_outflow_columns(cg, flow),
        kappa=kappa,
        layout=None,
    )


def _outflow_columns(cg: CompiledGraph, flow: np.ndarray) -> np.ndarray:
    """Normal outflow of every node per column: ``sum_e flow[e]`` over its outbound edges."""
    import numpy as np

    out = np.zeros((cg.n, flow.shape[1]))
    np.add.at(out, cg.src, flow)
    return out


#: The most candidate new links ``substitution="stage"`` builds before giving up.
MAX_NEW_LINKS = 2_000_000


def _new_links(
    G: nx.DiGraph, cg: CompiledGraph, group_pool: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate (supplier, customer, pool) links of ``substitution="stage"``.

    For each input group of a customer, the candidates are the nodes of the group's supplier
    stage (when the group is keyed by stage) or the nodes that ship the group's material
    (when keyed by ``material``), minus the customer itself and its existing suppliers.
    """
    import numpy as np

    from supplygraph.errors import SupplyGraphError

    m = cg.m
    if not m:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    # the key of each group: ("stage", code) when all its suppliers share a stage and no
    # material is given, else ("material", name)
    mats = (
        [G.edges[k].get("material") for k in cg._edge_keys]
        if cg._edge_keys is not None
        else [None] * m
    )
    gfirst = cg.group_start[:-1]
    keys: list[tuple[str, Any]] = []
    for e in gfirst.tolist():
        mt = mats[e]
        if isinstance(mt, str) and mt.strip():
            keys.append(("material", mt.strip()))
        else:
            keys.append(("stage", int(cg.stage_code[cg.src[e]])))
    # suppliers per key
    suppliers: dict[tuple[str, Any], np.ndarray] = {}
    by_material: dict[str, set[int]] = {}
    for e in range(m):
        mt = mats[e]
        if isinstance(mt, str) and mt.strip():
            by_material.setdefault(mt.strip(), set()).add(int(cg.src[e]))
    for key in set(keys):
        if key[0] == "stage":
            suppliers[key] = np.flatnonzero((cg.stage_code == key[1]) & (cg.outflow > 0))
        else:
            suppliers[key] = np.array(sorted(by_material.get(key[1], ())), dtype=np.int64)
    total = sum(len(suppliers[k]) for k in keys)
    if total > MAX_NEW_LINKS:
        msg = (
            f"substitution 'stage' would consider {total:,} new supplier links (more than "
            f"{MAX_NEW_LINKS:,}); use substitution 'edges' on a graph this size"
        )
        raise SupplyGraphError(msg)
    existing = set(zip(cg.src.tolist(), cg.tgt.tolist(), strict=True))
    src_l: list[int] = []
    tgt_l: list[int] = []
    pool_l: list[int] = []
    seen: set[tuple[int, int]] = set()
    for g, key in enumerate(keys):
        v = int(cg.group_node[g])
        for u in suppliers[key].tolist():
            if u == v or (u, v) in existing or (u, v) in seen:
                continue
            seen.add((u, v))
            src_l.append(u)
            tgt_l.append(v)
            pool_l.append(int(group_pool[g]))
    return (
        np.array(src_l, dtype=np.int64),
        np.array(tgt_l, dtype=np.int64),
        np.array(pool_l, dtype=np.int64),
    )


def _edge_classes(
    G: nx.DiGraph, cg: CompiledGraph, src: np.ndarray, tgt: np.ndarray, response: Response
) -> np.ndarray:
    """Priority class of each edge's customer at its supplier (0 = served first)."""
    import numpy as np

    if not response.priority:
        return np.zeros(len(src), dtype=np.int64)
    country = np.array([cg.countries[c] for c in cg.country_code], dtype=object)
    end_use = np.array([str(e) if e is not None else "" for e in cg.end_use], dtype=object)
    cu, cv = country[src], country[tgt]
    eu = end_use[tgt]
    last = len(response.priority)
    cls = np.full(len(src), last, dtype=np.int64)
    for rank in range(last - 1, -1, -1):
        item = response.priority[rank]
        if item == DOMESTIC:
            hit = cu == cv
        elif item.startswith(END_USE_PREFIX):
            hit = eu == item[len(END_USE_PREFIX) :]
        elif item in response.blocs:
            members = set(response.blocs[item])
            hit = np.array([c in members for c in cv.tolist()], dtype=bool)
        else:
            hit = cv == item
        cls = np.where(hit, rank, cls)
    return cls


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


def binding_sentence(binding: Sequence[Any], remaining: float) -> str:
    """One plain sentence: what limits an end use (phrases joined by ``"; "``).

    Examples
    --------
    >>> binding_sentence([], 1.0)
    'fully served'
    """
    if remaining >= 1.0 - 1e-9:
        return "fully served"
    if not binding:
        return "no single limit found"
    return "limited by " + "; ".join(b.phrase for b in binding)


# ---------------------------------------------------------------------------------------------
@dataclass
class LimitGroup:
    """A group of limits (capacities, link caps, external inputs) named in one phrase.

    Attributes
    ----------
    kind
        ``"capacity"``, ``"shock cap"``, ``"link limit"``, ``"external input"`` or
        ``"idle spare"`` (spare capacity that could not be used for lack of inputs).
    phrase
        Plain words ("metal capacity outside CHN (JPN, ROW and VNM)").
    members
        Node ids, or (supplier, customer) pairs for links.
    nodes, edges, pools
        Positions, edge numbers and pool numbers of the members.
    """

    kind: str
    phrase: str
    members: list[Any]
    nodes: np.ndarray
    edges: np.ndarray
    pools: np.ndarray


def limit_groups(
    prob: ResponseProblem,
    cap_nodes: np.ndarray,
    links: np.ndarray,
    ext_pools: np.ndarray,
    idle_nodes: np.ndarray | None = None,
) -> list[LimitGroup]:
    """Group limiting capacities, links and external inputs into plain phrases.

    Capacities are grouped by stage (and whether a shock cut them): "metal capacity in JPN and
    VNM", or "metal capacity outside CHN (...)" when every other country of the stage is in
    the group. Links are grouped by supplier country and stage and by how much of them a shock
    left: "the cap on CHN metal sales to JPN and USA (25 % allowed)", "the ban on ...".

    Parameters
    ----------
    prob
        The problem (first scenario column for cuts).
    cap_nodes, links, ext_pools, idle_nodes
        Positions at capacity, edge numbers at their quota, pools whose external input binds,
        positions whose spare capacity stays idle.

    Returns
    -------
    list of LimitGroup
    """
    import numpy as np

    cg = prob.cg
    empty = np.zeros(0, dtype=np.int64)
    out: list[LimitGroup] = []
    cut = prob.cap[:, 0] < 1.0
    stage_countries: dict[int, set[str]] = {}

    def countries_in(st: int) -> set[str]:
        if st not in stage_countries:
            codes = np.unique(cg.country_code[cg.stage_code == st])
            stage_countries[st] = {cg.countries[c] for c in codes.tolist()}
        return stage_countries[st]

    def by_stage(nodes: np.ndarray, kind: str) -> None:
        groups: dict[tuple[int, bool], list[int]] = {}
        for v in np.asarray(nodes, dtype=np.int64).tolist():
            groups.setdefault(
                (int(cg.stage_code[v]), bool(cut[v]) and kind == "capacity"), []
            ).append(v)
        for (st, is_cut), members in sorted(groups.items()):
            stage = cg.stages[st]
            countries = sorted({cg.country_of(v) for v in members})
            in_stage = countries_in(st)
            others = sorted(in_stage - set(countries))
            if kind == "idle spare":
                phrase = (
                    f"spare {stage} capacity in {_names(countries)} left idle for lack of inputs"
                )
            elif is_cut:
                phrase = f"the cut to {stage} capacity in {_names(countries)}"
            elif others and len(others) <= 2 and len(countries) >= 2:
                phrase = f"{stage} capacity outside {_names(others)} ({_names(countries)})"
            else:
                phrase = f"{stage} capacity in {_names(countries)}"
            idx = np.asarray(members, dtype=np.int64)
            out.append(LimitGroup(kind, phrase, [cg.nodes[v] for v in members], idx, empty, empty))

    by_stage(cap_nodes, "capacity")
    # ---- links, by supplier country and stage and by what a shock left of them
    keep = prob.keep[:, 0]
    by_link: dict[tuple[str, str, str, float], list[int]] = {}
    for e in np.asarray(links, dtype=np.int64).tolist():
        u = int(prob.src[e])
        kind = "shock cap" if keep[e] < 1.0 else "link limit"
        key = (kind, cg.country_of(u), cg.stage_of(u), round(float(keep[e]), 6))
        by_link.setdefault(key, []).append(e)
    for (kind, cu, su, kept), members in sorted(by_link.items()):
        dest = sorted({cg.country_of(int(prob.tgt[e])) for e in members})
        abroad = [c for c in dest if c != cu]
        where = f"to {_names(abroad)}" if abroad else f"within {cu}"
        if abroad and cu in dest:
            where += f" and within {cu}"
        if kind == "shock cap":
            what = f"{cu} {su} sales {where}"
            phrase = (
                f"the ban on {what}"
                if kept <= 0
                else f"the cap on {what} ({kept * 100:.0f} % allowed)"
            )
        else:
            phrase = f"the link limit (max_scale) on {cu} {su} sales {where}"
        e_arr = np.asarray(members, dtype=np.int64)
        out.append(
            LimitGroup(kind, phrase, [prob.edge_name(e) for e in members], empty, e_arr, empty)
        )
    # ---- external inputs
    pools = np.asarray(ext_pools, dtype=np.int64)
    if len(pools):
        nodes = sorted({cg.nodes[int(prob.pool_node[p])] for p in pools.tolist()}, key=str)
        phrase = f"inputs from outside the graph at {_names([str(x) for x in nodes])}"
        out.append(LimitGroup("external input", phrase, nodes, empty, empty, pools))
    if idle_nodes is not None and len(idle_nodes):
        by_stage(idle_nodes, "idle spare")

    def order(g: LimitGroup) -> tuple[int, int, str]:
        # downstream first, so the phrases read as a chain from the end use back to the mine
        if len(g.nodes):
            stage = int(cg.stage_code[g.nodes[0]])
        elif len(g.edges):
            stage = int(cg.stage_code[prob.src[g.edges[0]]])
        else:
            stage = -1
        kinds = ("shock cap", "link limit", "capacity", "idle spare", "external input")
        return (-stage, kinds.index(g.kind), g.phrase)

    out.sort(key=order)
    return out


def _names(items: Sequence[str], limit: int = 6) -> str:
    """``a``, ``a and b``, ``a, b and c`` (at most ``limit`` names, then "and N more")."""
    items = list(items)
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


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


def _closed_columns(cg: CompiledGraph, cap: np.ndarray) -> np.ndarray:
    """Closed-cycle outputs per scenario column: 0 where anything in the cycle is cut, else 1."""
    import numpy as np
    import scipy.sparse as sp

    ncomp = int(cg.comp.max()) + 1 if cg.n else 0
    member = sp.csr_matrix((np.ones(cg.n), (cg.comp, np.arange(cg.n))), shape=(ncomp, cg.n))
    cut = ((cap < 1.0) & cg.closed_node[:, None]).astype(float)
    hit = (member @ cut) > 0
    return np.where(hit[cg.comp], 0.0, 1.0)


#: Legend label of each kind of limit in the network view's highlight.
HIGHLIGHT_LABELS = {
    "capacity": "capacity that binds",
    "shock cap": "shock cap that binds",
    "link limit": "link limit that binds",
    "external input": "external input that binds",
    "idle spare": "spare capacity left idle",
}


def highlight_limits(binding: Mapping[str, Sequence[Any]]) -> dict[Any, str]:
    """The network view's ``highlight`` of a result's limits: node or link -> legend label.

    Parameters
    ----------
    binding
        ``DisruptionResult.binding``: end use -> limit groups (each with ``kind`` and
        ``members``: node ids, or (supplier, customer) pairs).

    Returns
    -------
    dict
        ``{node or (u, v): label}`` with labels from :data:`HIGHLIGHT_LABELS`.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> highlight_limits({"defense": [NS(kind="capacity", members=["JPN:metal"])]})
    {'JPN:metal': 'capacity that binds'}
    """
    out: dict[Any, str] = {}
    for groups in binding.values():
        for g in groups:
            label = HIGHLIGHT_LABELS.get(g.kind, g.kind)
            for member in g.members:
                key = tuple(member) if isinstance(member, list | tuple) else member
                out.setdefault(key, label)
    return out
