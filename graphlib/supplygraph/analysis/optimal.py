"""The ``optimal`` supply response: a linear program that bounds what reaction can achieve.

Variables (fractions of normal output ``y[v]``, absolute flows ``f[e]``, delivered fractions
``d[t]`` at the targets) and constraints, in the notation of
:mod:`supplygraph.analysis.response`::

    maximise    sum_t c[t] * d[t]
    subject to  sum_{e out of u} f[e]  <= O[u] * y[u]          output shared among customers
                N[p] * y[v]            <= sum_{e in p} f[e] + ext[p]   for every input pool p of v
                d[t]                   <= y[t]
                0 <= y[v] <= (1 - cut[v]) * kappa[v]            capacity after the shock
                0 <= f[e] <= q[e]                               link quota (shock cap, max_scale)
                floor[t] <= d[t] <= 1                           no target gets more than normal

Pools are the node's whole intake under the linear model and one per input group under
Leontief (so the scarcest group binds); new links (``substitution="stage"``) are flows with
quota inf unless a shock covers them (quota 0). Nodes with no inputs in the graph are limited by
capacity alone.

``floor[t]`` is the target's no-response supply (the default, ``Response.floor =
"no-response"``: reallocation may not take from anyone what they would have had with no reaction
-- the guarantee the ``rules`` give incumbents, so ``rules`` still satisfies every constraint) or
0 (``floor="zero"``: the pure physical bound, equal to a maximum flow on mass-balanced
single-material graphs).

Three objectives give three bounds: one target alone (``c = e_t``: the most that target could
get), one end use alone (its targets weighted as in :func:`~supplygraph.analysis.dependency.
target_weights`) and all targets together (the weighted total). Each is an upper bound on any
allocation that respects the same capacities, quotas and recipes -- in particular on the
``rules`` response and on the no-response models.

**What binds.** By LP duality the optimum equals ``sum_v mu[v] K'[v] + sum_e lambda[e] q[e] +
sum_p nu[p] ext[p] + sum_t rho[t]`` over the constraints' shadow prices. The capacities, quotas
and external inputs with a positive shadow price are grouped into plain phrases ("metal
capacity outside CHN", "the cut on CHN magnets exports to USA"), and each phrase is confirmed by
solving again with those bounds relaxed: only phrases whose relaxation raises the optimum are
named (when none does alone, the dual set is named as binding jointly).

Solved with HiGHS through :func:`scipy.optimize.linprog` (dual simplex on small programs, the
interior-point method on large ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.errors import SupplyGraphError

if TYPE_CHECKING:
    import scipy.sparse as sp

    from supplygraph.analysis.response_arrays import ResponseProblem

__all__ = ["Binding", "LinearProgram", "build_lp"]

#: Relative tolerance for "at its bound" and "positive shadow price".
DUAL_TOL = 1e-9
#: Above this many variables the interior-point method is used.
IPM_ABOVE = 20_000
#: Up to this many variables each named binding group is confirmed by a re-solve.
CONFIRM_UP_TO = 50_000


@dataclass
class Binding:
    """One group of constraints that limits an objective.

    Attributes
    ----------
    kind
        ``"capacity"``, ``"shock cap"``, ``"link limit"`` or ``"external input"``.
    phrase
        Plain words ("metal capacity outside CHN").
    members
        Node ids (capacity, external input) or (supplier, customer) pairs (links).
    shadow
        Sum over the members of shadow price x bound: its part of the optimum.
    gain
        How much the objective rose when these bounds were relaxed (the confirmation).
    """

    kind: str
    phrase: str
    members: list[Any]
    shadow: float
    gain: float


@dataclass
class LPSolution:
    """One solved objective.

    Attributes
    ----------
    value
        The optimum (``c @ d``).
    y, f, d
        Outputs (fractions), flows (absolute) and target fractions at the optimum.
    shadow_ub
        Shadow price of every variable's upper bound (gain in the optimum per unit of bound).
    shadow_row
        Shadow price of every row (allocation, technology, target).
    binding
        The confirmed binding constraint groups (when asked for).
    """

    value: float
    y: np.ndarray
    f: np.ndarray
    d: np.ndarray
    shadow_ub: np.ndarray
    shadow_row: np.ndarray
    binding: list[Binding] = field(default_factory=list)


class LinearProgram:
    """The upper-bound program of one scenario column of a :class:`ResponseProblem`.

    Built once; :meth:`solve` then takes any objective over the targets.

    Parameters
    ----------
    prob
        The problem arrays.
    targets
        Target positions (the ``d`` variables).
    column
        Which scenario column of ``prob`` (its cuts and quotas).
    floor
        Lower bound of each target's ``d`` (None: 0).
    """

    def __init__(
        self,
        prob: ResponseProblem,
        targets: np.ndarray,
        column: int = 0,
        floor: np.ndarray | None = None,
    ) -> None:
        import scipy.sparse as sp

        self.prob = prob
        self.targets = np.asarray(targets, dtype=np.int64)
        n, M, T = prob.n, prob.m, len(self.targets)
        self.n, self.M, self.T = n, M, T
        out = prob.outflow
        alloc = np.flatnonzero(out > 0)
        arow = np.full(n, -1, dtype=np.int64)
        arow[alloc] = np.arange(len(alloc))
        P = prob.n_pools
        r0 = len(alloc)
        r1 = r0 + P
        rows = np.concatenate(
            [
                arow[prob.src],  # allocation: + f
                arow[alloc],  # allocation: - O y
                r0 + np.arange(P),  # technology: + N y
                r0 + prob.pool,  # technology: - f
                r1 + np.arange(T),  # target: + d
                r1 + np.arange(T),  # target: - y
            ]
        )
        cols = np.concatenate(
            [
                n + np.arange(M),
                alloc,
                prob.pool_node,
                n + np.arange(M),
                n + M + np.arange(T),
                self.targets,
            ]
        )
        vals = np.concatenate(
            [
                np.ones(M),
                -out[alloc],
                prob.pool_need,
                -np.ones(M),
                np.ones(T),
                -np.ones(T),
            ]
        )
        self.A: sp.csr_matrix = sp.csr_matrix((vals, (rows, cols)), shape=(r1 + T, n + M + T))
        self.b = np.concatenate([np.zeros(r0), prob.pool_ext, np.zeros(T)])
        s = column
        ycap = prob.cap[:, s] * prob.kappa
        self.ub = np.concatenate([ycap, prob.quota[:, s], np.ones(T)])
        self.lb = np.zeros(n + M + T)
        if floor is not None:
            # the no-response values are feasible; the margin absorbs rounding in them
            self.lb[n + M :] = np.clip(np.asarray(floor, dtype=float) - 1e-9, 0.0, 1.0)
        # the size of each bound's variable at normal times, for relaxing a bound of 0
        self.ref = np.concatenate([np.ones(n), np.where(prob.z > 0, prob.z, 1.0), np.ones(T)])
        self.r_alloc = (0, r0)
        self.r_tech = (r0, r1)

    def solve(
        self, c: np.ndarray, *, binding: bool = False, ub: np.ndarray | None = None
    ) -> LPSolution:
        """Maximise ``c @ d`` (``c`` per target); optionally name what binds.

        Parameters
        ----------
        c
            Objective weight of each target.
        binding
            Name the binding constraint groups (needs a few more solves).
        ub
            Upper bounds to use instead of the program's own (for relaxation re-solves).

        Returns
        -------
        LPSolution
        """
        from scipy.optimize import linprog

        n, M, T = self.n, self.M, self.T
        cost = np.zeros(n + M + T)
        cost[n + M :] = -np.asarray(c, dtype=float)
        upper = self.ub if ub is None else ub
        bounds = np.column_stack([self.lb, upper])
        method = "highs-ipm" if n + M + T > IPM_ABOVE else "highs-ds"
        res = linprog(cost, A_ub=self.A, b_ub=self.b, bounds=bounds, method=method)
        if res.status != 0:
            what = {1: "hit its iteration limit", 2: "is infeasible", 3: "is unbounded"}.get(
                res.status, "failed"
            )
            msg = (
                f"the optimal-response linear program {what} ({res.message.strip()}); check "
                "capacities (at least value), max_scale (at least 1) and flows"
            )
            raise SupplyGraphError(msg)
        xv = res.x
        sol = LPSolution(
            value=float(-res.fun),
            y=xv[:n],
            f=xv[n : n + M],
            d=xv[n + M :],
            shadow_ub=-np.asarray(res.upper.marginals),
            shadow_row=-np.asarray(res.ineqlin.marginals),
        )
        if binding:
            sol.binding = self._binding(c, sol)
        return sol

    # ----------------------------------------------------------------------- binding
    def _binding(self, c: np.ndarray, sol: LPSolution) -> list[Binding]:
        scale = max(1.0, float(np.max(np.abs(c))))
        demand = float(np.sum(np.maximum(c, 0.0)))
        if sol.value >= demand - 1e-9 * scale:
            return []
        groups = _groups(self, sol.shadow_ub, sol.shadow_row, sol, scale)
        if self.n + self.M + self.T > CONFIRM_UP_TO:
            # a re-solve per group costs as much as the program itself at this size: name the
            # groups from their shadow prices alone, and say so
            return [
                Binding(
                    kind,
                    phrase + " (shadow price; not re-checked at this size)",
                    members,
                    share,
                    float("nan"),
                )
                for kind, phrase, members, _, _, share in sorted(groups, key=lambda g: -g[5])
            ]
        confirmed: list[Binding] = []
        for kind, phrase, members, idx, ext_rows, share in groups:
            gain = self._relaxed_gain(c, sol.value, idx, ext_rows)
            if gain > 1e-9 * scale:
                confirmed.append(Binding(kind, phrase, members, share, gain))
        if not confirmed and groups:
            idx = np.concatenate([g[3] for g in groups])
            rows = np.concatenate([g[4] for g in groups])
            gain = self._relaxed_gain(c, sol.value, idx, rows)
            confirmed = [
                Binding(kind, phrase + " (jointly)", members, share, gain)
                for kind, phrase, members, _, _, share in groups
            ]
        return confirmed

    def _relaxed_gain(
        self, c: np.ndarray, base: float, idx: np.ndarray, ext_rows: np.ndarray
    ) -> float:
        """Objective gain when the bounds ``idx`` (and external inputs of ``ext_rows``) grow."""
        ub = self.ub.copy()
        bump = np.where(np.isfinite(ub[idx]), 0.05 * np.maximum(ub[idx], self.ref[idx]), 0.0)
        ub[idx] = ub[idx] + bump
        b_saved = self.b
        if len(ext_rows):
            b = self.b.copy()
            b[ext_rows] = b[ext_rows] * 1.05 + 1e-9
            self.b = b
        try:
            val = self.solve(c, ub=ub).value
        finally:
            self.b = b_saved
        return val - base


# ---------------------------------------------------------------------------------------------
def _groups(
    lp: LinearProgram, shadow_ub: np.ndarray, shadow_row: np.ndarray, sol: LPSolution, scale: float
) -> list[tuple[str, str, list[Any], np.ndarray, np.ndarray, float]]:
    """Positive-shadow bounds grouped into phrases: (kind, phrase, members, var idx, rows, share)."""
    from supplygraph.analysis.limits import limit_groups

    prob = lp.prob
    n, M = lp.n, lp.M
    tol = DUAL_TOL * scale
    ub = lp.ub
    cap_nodes = np.flatnonzero(shadow_ub[:n] > tol)
    links = np.flatnonzero((shadow_ub[n : n + M] > tol) & np.isfinite(ub[n : n + M]))
    r0, r1 = lp.r_tech
    pools = np.flatnonzero((shadow_row[r0:r1] > tol) & (prob.pool_ext > 0))
    out: list[tuple[str, str, list[Any], np.ndarray, np.ndarray, float]] = []
    for g in limit_groups(prob, cap_nodes, links, pools):
        var = np.concatenate([g.nodes, n + g.edges]).astype(np.int64)
        rows = (r0 + g.pools).astype(np.int64)
        share = float(
            np.sum(shadow_ub[var] * ub[var]) + np.sum(shadow_row[rows] * prob.pool_ext[g.pools])
        )
        out.append((g.kind, g.phrase, g.members, var, rows, share))
    return out


def build_lp(
    prob: ResponseProblem,
    targets: np.ndarray,
    column: int = 0,
    floor: np.ndarray | None = None,
) -> LinearProgram:
    """Return the :class:`LinearProgram` of one scenario column (see the module docstring)."""
    return LinearProgram(prob, targets, column, floor)
