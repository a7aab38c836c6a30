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

**Scaling and accuracy.** HiGHS solves the program with every flow in units of its normal flow
(``f[e] = z[e] * phi[e]``; a new link in units of its customer's normal intake) and every row
divided by its largest coefficient, with primal and dual feasibility tolerances of
:data:`FEAS_TOL` under dual simplex (the interior-point method, on large programs, keeps
HiGHS's default :data:`IPM_FEAS_TOL`; the whole of a program above :data:`IPM_ABOVE`
variables, when the restricted solve below gives way, is solved unscaled as before: scaled, a
100,000-node program that binds everywhere ran more than 12 minutes, unscaled 149 s). Solved in absolute units at HiGHS's default tolerances (1e-7), the all-targets
optimum of a 3,000-node generated chain came out 3.7e-4 too low, its reduced costs off by 7e-6;
scaled and at 1e-9 it meets the bound its own shadow prices give to 1e-9.

**Large programs: solve where the shock reaches, and prove it is enough.** Above
:data:`RESTRICT_ABOVE` variables, the program is first solved on a restricted part ``F`` of its
variables, every other variable fixed at its value ``x0`` in the no-response allocation (which
satisfies every constraint: it is what happens with no reaction). ``F`` starts as the outputs of
the positions the shock reaches (``h < 1`` with no response), the links into and out of them and
the targets. The restricted optimum is feasible for the whole program, so it is a lower bound on
its optimum; its row prices ``pi >= 0`` (0 on rows it leaves out) give an upper bound by
Lagrangian duality, for the program written as ``min g @ x`` with ``g = -c`` on the targets::

    g @ x*  >=  -pi @ b + sum_j min(rho[j] * lb[j], rho[j] * ub[j])
    rho      =  g + A' pi

The two bounds differ by ``sum over fixed j of rho[j] * x0[j] - min(rho[j] * lb[j], rho[j] *
ub[j])`` (complementary slackness holds on ``F``). When that gap is at most :data:`GAP_TOL`
times the objective's scale the restricted optimum is the optimum, and ``pi``, ``rho`` are the
whole program's shadow prices. Otherwise every fixed variable with a positive part of the gap
is freed, with every variable sharing a row with it, and the program is solved again; once
more than :data:`RESTRICT_SHARE` of the variables are free (or after :data:`RESTRICT_ROUNDS`
rounds) the whole program is solved instead. The answer is the same either way: only the work
differs (``solve(..., restrict=False)`` forces the whole program).

Solved with HiGHS: dual simplex on programs of up to :data:`IPM_ABOVE` variables, through
highspy with one model kept per program so that each further objective and each relaxation
re-solve starts from the last optimal basis (:data:`WARM`); the interior-point method with
crossover above, through :func:`scipy.optimize.linprog`.

Examples
--------
>>> import networkx as nx, numpy as np
>>> from supplygraph.compiled import compile_graph
>>> from supplygraph.analysis.response_arrays import build_problem
>>> from supplygraph.analysis.response_options import Response
>>> G = nx.DiGraph(stages=["magnets", "end_use"])
>>> G.add_node("CHN", stage="magnets", value=100.0, capacity=100.0)
>>> G.add_node("USA", stage="magnets", value=10.0, capacity=20.0)
>>> G.add_node("US", stage="end_use", value=30.0)
>>> G.add_node("JP", stage="end_use", value=80.0)
>>> G.add_edge("CHN", "US", flow=25.0); G.add_edge("CHN", "JP", flow=75.0)
>>> G.add_edge("USA", "US", flow=5.0); G.add_edge("USA", "JP", flow=5.0)
>>> cg = compile_graph(G)
>>> cap, keep = np.ones(cg.n), np.ones(cg.m)
>>> keep[cg.edge_index[("CHN", "US")]] = 0.0  # China -> US banned
>>> prob = build_problem(G, cg, cap, keep, Response("optimal"), "linear")
>>> us = cg.index["US"]
>>> round(build_lp(prob, np.array([us])).solve(np.ones(1)).value * 30, 6)  # tonnes for the US
20.0
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
#: Up to this many variables (of the program actually solved) each named binding group is
#: confirmed by a re-solve.
CONFIRM_UP_TO = 50_000
#: HiGHS primal and dual feasibility tolerance, on the scaled program (dual simplex).
FEAS_TOL = 1e-9
#: The same for the interior-point method: HiGHS's default, as before the scaling.
IPM_FEAS_TOL = 1e-7
#: Above this many variables the program is first solved where the shock reaches.
RESTRICT_ABOVE = 20_000
#: The restricted solve gives way to the whole program once this share of variables is free.
RESTRICT_SHARE = 0.35
#: At most this many rounds of the restricted solve.
RESTRICT_ROUNDS = 25
#: The restricted optimum is accepted when the duality gap it leaves is at most this (relative
#: to the objective's scale).
GAP_TOL = 1e-9
#: Programs solved by dual simplex keep one HiGHS model (highspy) between solves, so that the
#: next objective or relaxed bound starts from the last optimal basis; False: a fresh
#: :func:`scipy.optimize.linprog` each time.
WARM = True


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
        self.column = column
        # the scaled program: flows in units of their normal flow (a new link: its customer's
        # normal intake), rows divided by their largest coefficient
        need = prob.pool_need[prob.pool] if P else np.ones(M)
        unit = np.where(prob.z > 0, prob.z, np.where(need > 0, need, 1.0))
        self.col_scale = np.concatenate([np.ones(n), unit, np.ones(T)])
        As = self.A @ sp.diags(self.col_scale)
        rmax = np.asarray(abs(As).max(axis=1).todense()).ravel()
        self.row_scale = np.where(rmax > 0, rmax, 1.0)
        self._As: sp.csr_matrix = sp.csr_matrix(sp.diags(1.0 / self.row_scale) @ As)
        self._start: tuple[np.ndarray, np.ndarray] | None = None
        self._start_done = False
        self._free: np.ndarray | None = None
        self._As_csc: sp.csc_matrix | None = None
        self._model: _WarmModel | None = None
        #: Variables in the program last solved (all of them, or the restricted part).
        self.solved_size = n + M + T
        #: Rounds of the last restricted solve (0: the whole program was solved).
        self.rounds = 0

    def solve(
        self,
        c: np.ndarray,
        *,
        binding: bool = False,
        ub: np.ndarray | None = None,
        restrict: bool | None = None,
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
        restrict
            Solve first where the shock reaches, with the duality-gap certificate of the module
            docstring (True), or the whole program at once (False); None: restrict above
            :data:`RESTRICT_ABOVE` variables. The optimum is the same either way.

        Returns
        -------
        LPSolution
        """
        n, M, T = self.n, self.M, self.T
        N = n + M + T
        s, r = self.col_scale, self.row_scale
        cost = np.zeros(N)
        cost[n + M :] = -np.asarray(c, dtype=float) * s[n + M :]
        upper = (self.ub if ub is None else ub) / s
        lower = self.lb / s
        b = self.b / r
        use = N > RESTRICT_ABOVE if restrict is None else restrict
        got = self._restricted(cost, b, lower, upper, c) if use else None
        if got is None:
            if WARM and N <= IPM_ABOVE:
                if self._model is None:
                    self._model = _WarmModel(self._As)
                x, pi, gain_ub = self._model.solve(cost, b, lower, upper)
            elif N <= IPM_ABOVE:
                x, pi, gain_ub = _highs(cost, self._As, b, lower, upper)
            else:
                # the whole of a large program goes to the interior-point method unscaled, as
                # before the scaling: on a 100k-node program that binds everywhere, scaled, it
                # ran more than 12 minutes, unscaled 149 s (results back in scaled units here)
                xa, pia, gaina = _highs(cost / s, self.A, self.b, self.lb, upper * s)
                x, pi, gain_ub = xa / s, pia * r, gaina * s
            self.solved_size, self.rounds = N, 0
        else:
            x, pi, gain_ub = got
        x = x * s
        sol = LPSolution(
            value=float(np.asarray(c, dtype=float) @ x[n + M :]),
            y=x[:n],
            f=x[n : n + M],
            d=x[n + M :],
            shadow_ub=gain_ub / s,
            shadow_row=pi / r,
        )
        if binding:
            sol.binding = self._binding(c, sol)
        return sol

    # -------------------------------------------------------------------- restricted solve
    def _no_response_point(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The no-response allocation (scaled) and the variables the shock reaches, or None
        when that allocation is not feasible for this program (then no restriction)."""
        if self._start_done:
            return self._start
        self._start_done = True
        from supplygraph.analysis.propagation import propagate_arrays

        prob, n, M = self.prob, self.n, self.M
        cg, col = prob.cg, self.column
        m = cg.m
        keep = np.asarray(prob.keep[:m, col], dtype=float)
        h = propagate_arrays(cg, np.asarray(prob.cap[:, col], dtype=float), keep, prob.model)
        f = np.zeros(M)
        f[:m] = prob.z[:m] * keep * h[prob.src[:m]]
        x0 = np.concatenate(
            [h, np.minimum(f, self.ub[n : n + M]), np.minimum(h[self.targets], 1.0)]
        )
        xs = x0 / self.col_scale
        ok = bool(
            np.all(x0 >= self.lb - 1e-12)
            and np.all(x0 <= self.ub + 1e-12)
            and np.all(self._As @ xs <= self.b / self.row_scale + FEAS_TOL)
        )
        if not ok:
            return None
        hit = h < 1.0 - 1e-12
        hit[prob.src[:m][keep < 1.0]] = True
        hit[prob.tgt[:m][keep < 1.0]] = True
        free = np.concatenate([hit, hit[prob.src] | hit[prob.tgt], np.ones(self.T, dtype=bool)])
        self._start = (np.clip(xs, self.lb / self.col_scale, self.ub / self.col_scale), free)
        return self._start

    def _restricted(
        self, cost: np.ndarray, b: np.ndarray, lower: np.ndarray, upper: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The certified restricted solve (module docstring); None: solve the whole program."""
        start = self._no_response_point()
        if start is None:
            return None
        x0, free0 = start
        N = len(x0)
        free = free0 | (self._free if self._free is not None else False)
        As = self._As
        if self._As_csc is None:  # column slices, built once for every later solve
            self._As_csc = As.tocsc()
        Acsc = self._As_csc
        scale = max(1.0, float(np.sum(np.abs(c))))
        for rnd in range(1, RESTRICT_ROUNDS + 1):
            if free.sum() > RESTRICT_SHARE * N:
                return None
            cols = np.flatnonzero(free)
            sub = Acsc[:, cols]
            rows = np.unique(sub.indices)
            rest = b[rows] - (As @ np.where(free, 0.0, x0))[rows]
            try:
                xr, pr, _ = _highs(cost[cols], sub[rows], rest, lower[cols], upper[cols])
            except SupplyGraphError:
                return None
            pi = np.zeros(As.shape[0])
            pi[rows] = pr
            rho = cost + As.T @ pi
            rho[np.abs(rho) <= DUAL_TOL * scale] = 0.0
            fixed = np.flatnonzero(~free)
            rf, xf = rho[fixed], x0[fixed]
            gap = np.zeros(len(fixed))
            down = rf > 0  # lowering the variable would pay: down to its lower bound
            gap[down] = rf[down] * (xf[down] - lower[fixed][down])
            up = rf < 0  # raising it would pay: up to its upper bound (inf when unbounded)
            gap[up] = -rf[up] * (upper[fixed][up] - xf[up])
            if float(np.sum(gap)) <= GAP_TOL * scale:
                x = x0.copy()
                x[cols] = xr
                self._free = free
                self.solved_size, self.rounds = len(cols), rnd
                return x, pi, np.maximum(-rho, 0.0)
            grow = fixed[gap > 0]
            touched = np.unique(Acsc[:, grow].indices)
            free = free.copy()
            free[grow] = True
            free[np.unique(As[touched].indices)] = True
        return None

    # ----------------------------------------------------------------------- binding
    def _binding(self, c: np.ndarray, sol: LPSolution) -> list[Binding]:
        scale = max(1.0, float(np.max(np.abs(c))))
        demand = float(np.sum(np.maximum(c, 0.0)))
        if sol.value >= demand - 1e-9 * scale:
            return []
        groups = _groups(self, sol.shadow_ub, sol.shadow_row, sol, scale)
        if self.solved_size > CONFIRM_UP_TO:
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


class _WarmModel:
    """One HiGHS model kept between solves that change only costs and bounds (warm start).

    Uses highspy's core class: the public ``highspy.Highs()`` prints a banner to standard
    output when it is created, which would corrupt ``--format json`` output.
    """

    def __init__(self, A: sp.csr_matrix) -> None:
        import highspy
        from highspy import _core

        h = _core._Highs()
        for key, val in (
            ("output_flag", False),
            ("primal_feasibility_tolerance", FEAS_TOL),
            ("dual_feasibility_tolerance", FEAS_TOL),
        ):
            h.setOptionValue(key, val)
        R, N = A.shape
        Ac = A.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = N, R
        lp.col_cost_ = np.zeros(N)
        lp.col_lower_ = np.zeros(N)
        lp.col_upper_ = np.zeros(N)
        lp.row_lower_ = np.full(R, -highspy.kHighsInf)
        lp.row_upper_ = np.zeros(R)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = Ac.indptr
        lp.a_matrix_.index_ = Ac.indices
        lp.a_matrix_.value_ = Ac.data
        h.passModel(lp)
        self.h, self.A = h, A
        self.cols = np.arange(N, dtype=np.int32)
        self.rows = np.arange(R, dtype=np.int32)
        self.minus_inf = np.full(R, -highspy.kHighsInf)
        self.inf = highspy.kHighsInf
        self.optimal = highspy.HighsModelStatus.kOptimal

    def solve(
        self, cost: np.ndarray, b: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :func:`_highs`, from the last optimal basis."""
        h = self.h
        N, R = len(self.cols), len(self.rows)
        h.changeColsCost(N, self.cols, cost)
        h.changeColsBounds(N, self.cols, lower, np.minimum(upper, self.inf))
        h.changeRowsBounds(R, self.rows, self.minus_inf, b)  # type: ignore[attr-defined]  # (absent from the stubs)
        h.run()
        if h.getModelStatus() != self.optimal:
            # a fresh solve, to say in one line why there is no optimum
            return _highs(cost, self.A, b, lower, upper)
        sol = h.getSolution()
        return (
            np.asarray(sol.col_value),
            -np.asarray(sol.row_dual),
            np.maximum(-np.asarray(sol.col_dual), 0.0),
        )


def _highs(
    cost: np.ndarray, A: sp.csr_matrix, b: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise ``cost @ x`` s.t. ``A x <= b``, ``lower <= x <= upper`` with HiGHS.

    Returns the solution, the gain per unit of each row's right-hand side and of each upper
    bound (both >= 0 for this minimisation's negative, the maximisation). Raises
    :class:`SupplyGraphError` in one line when the program has no optimum.
    """
    from scipy.optimize import linprog

    ipm = len(cost) > IPM_ABOVE
    method = "highs-ipm" if ipm else "highs-ds"
    tol = IPM_FEAS_TOL if ipm else FEAS_TOL
    res = linprog(
        cost,
        A_ub=A,
        b_ub=b,
        bounds=np.column_stack([lower, upper]),
        method=method,
        options={"primal_feasibility_tolerance": tol, "dual_feasibility_tolerance": tol},
    )
    if res.status != 0:
        what = {1: "hit its iteration limit", 2: "is infeasible", 3: "is unbounded"}.get(
            res.status, "failed"
        )
        msg = (
            f"the optimal-response linear program {what} ({res.message.strip()}); check "
            "capacities (at least value), max_scale (at least 1) and flows"
        )
        raise SupplyGraphError(msg)
    return (
        np.asarray(res.x),
        -np.asarray(res.ineqlin.marginals),
        -np.asarray(res.upper.marginals),
    )


def build_lp(
    prob: ResponseProblem,
    targets: np.ndarray,
    column: int = 0,
    floor: np.ndarray | None = None,
) -> LinearProgram:
    """Return the :class:`LinearProgram` of one scenario column (see the module docstring)."""
    return LinearProgram(prob, targets, column, floor)
