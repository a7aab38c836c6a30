"""Disruptions (one scenario) and sweeps (every single removal, ranked).

:func:`disrupt` applies shocks (see :mod:`supplygraph.analysis.shocks`) and propagates them with
the linear or Leontief model (:mod:`supplygraph.analysis.propagation`); it reports, per node,
the baseline output, the remaining fraction ``h`` and the lost quantity ``baseline * (1 - h)``,
and a summary per target (sink) and per end use.

:func:`sweep` removes every node (or every country x stage group) in turn and ranks the removals
by the output-weighted loss at the targets,

    weighted_loss(k) = sum_t w[t] * loss_t(k),      w[t] = baseline[t] / sum_s baseline[s]

-- the supply-chain analogue of Diem et al.'s Economic Systemic Risk Index. The linear model
needs no per-node loop: ``weighted_loss = (L w) / diag(L)`` for all nodes from one pass (see
:mod:`supplygraph.analysis.dependency`). Group removals and the Leontief model propagate each
scenario with its removed nodes fixed at ``h = 0``: all scenarios at once, level by level, as
sparse rows (each scenario only touches its downstream cone; cyclic components are resolved for
all scenarios together), optionally split over worker processes or a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from supplygraph.analysis.dependency import (
    MAX_DENSE_CELLS,
    ScenarioSet,
    end_use_keys,
    linear_removal,
    scenario_losses,
    target_positions,
    target_weight_basis,
    target_weights,
)
from supplygraph.analysis.limits import binding_sentence
from supplygraph.analysis.propagation import check_model, cut_arrays, propagate_arrays
from supplygraph.analysis.response import removal_losses, respond
from supplygraph.analysis.response_options import Response
from supplygraph.analysis.shocks import Shock, as_shocks, resolve_shocks
from supplygraph.compiled import CompiledGraph, compile_graph
from supplygraph.errors import ScenarioError
from supplygraph.notebook import result_html

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    import scipy.sparse as sp

__all__ = ["DisruptionResult", "disrupt", "propagate_scenario", "sweep"]


@dataclass
class DisruptionResult:
    """The outcome of one disruption scenario.

    Attributes
    ----------
    nodes : pandas.DataFrame
        Index: node id (graph order). Columns: ``stage``, ``country``, ``end_use``,
        ``baseline`` (normal output per year: ``value``, else inflow, else outflow),
        ``remaining`` (fraction ``h`` of baseline, 0..1), ``lost`` (``baseline * (1 - h)``,
        per year, in the node's unit) and ``loss_share`` (``1 - h``).
    targets : pandas.DataFrame
        One row per target (sink): the same columns plus ``weight`` (share of total target
        baseline).
    by_end_use : pandas.DataFrame
        Targets grouped by ``end_use`` (their stage when they have none): ``n_targets``,
        ``unit``, ``baseline``, ``lost``, ``remaining`` (fraction) and ``loss_share`` (the
        targets' weighted mean loss, weights as in ``targets["weight"]``); plus a ``total``
        row. ``baseline`` and ``lost`` are sums, given only when the group's targets share one
        unit (NaN otherwise: tonnes of magnets and tonnes of oxide do not add up).
    model : str
        ``"linear"`` or ``"leontief"``.
    shocks : list of Shock
        The shocks applied.
    node_cut, edge_cut : dict
        The resolved cuts (see :func:`~supplygraph.analysis.shocks.resolve_shocks`).
    response : Response
        The supply response the figures include (:mod:`supplygraph.analysis.response`).
    total : float or None
        ``optimal`` only: the all-targets optimum (fraction of target supply kept).
    binding : dict
        End use -> what limits it (groups with a ``phrase``; see ``by_end_use["binding"]``).
    uncertainty : MonteCarloResult or None
        With ``draws=``: every draw's outputs (:mod:`supplygraph.uncertainty`), for the
        sensitivity analysis; the tables then hold ``remaining_p5`` ... ``p_loss_ge_50``.
    """

    nodes: pd.DataFrame
    targets: pd.DataFrame
    by_end_use: pd.DataFrame
    model: str
    shocks: list[Shock] = field(default_factory=list)
    node_cut: dict[Any, float] = field(default_factory=dict)
    edge_cut: dict[tuple[Any, Any], float] = field(default_factory=dict)
    response: Response = field(default_factory=Response)
    total: float | None = None
    binding: dict[str, list[Any]] = field(default_factory=dict)
    uncertainty: Any = None

    def _repr_html_(self) -> str:  # tables in a notebook (supplygraph.notebook)
        return result_html(self)

    @property
    def total_loss_share(self) -> float:
        """Weighted loss over all targets: Σ weight · loss_share (0..1).

        The weights are output shares when the targets share one unit, equal otherwise (see
        :func:`~supplygraph.analysis.dependency.target_weights`).
        """
        if self.total is not None:
            return 1.0 - self.total
        if not len(self.targets):
            return 0.0
        return float((self.targets["weight"] * self.targets["loss_share"]).sum())


def disrupt(
    G: nx.DiGraph,
    shocks: Shock | str | Iterable[Shock | str] | None,
    model: str = "linear",
    *,
    targets: Iterable[Any] | None = None,
    response: Response | str | None = None,
    detail: bool = True,
    draws: Any = None,
    seed: int | None = None,
    scenario: Any = None,
    workers: int = 1,
) -> DisruptionResult:
    """Apply shocks to a supply graph and report what is lost where.

    Parameters
    ----------
    G
        Supply graph; never modified.
    shocks
        :class:`~supplygraph.analysis.shocks.Shock` objects or shock texts (``"CHN@separation"``,
        ``"CHN@magnets->USA=0.75"``), or one of them.
    model
        ``"linear"`` or ``"leontief"`` (see :mod:`supplygraph.analysis.propagation`).
    targets
        Nodes summarised in ``.targets`` (default: sinks).
    response
        How the chain reacts (:mod:`supplygraph.analysis.response`): ``"none"`` (default; the
        propagation model as is, the lower bound), ``"rules"`` (behavioural re-sourcing from
        spare capacity, incumbents first) or ``"optimal"`` (the linear-programming upper
        bound), or a :class:`~supplygraph.analysis.response_options.Response` with options.

    Returns
    -------
    DisruptionResult
        With a response other than ``"none"``, ``nodes`` gains ``output`` (fraction of normal,
        above 1 where spare capacity is used). With ``"optimal"``, each target's ``remaining``
        is the most it alone could get, ``remaining_joint`` its value when all targets are
        served together (the ``total`` row), each end use's row the most that end use could
        get. ``by_end_use["binding"]`` says in one sentence what limits each end use: at the
        optimum, the capacities and shock caps that bind; under the rules, the limits its
        open orders ran into (and spare capacity left idle for lack of inputs).
    detail
        ``optimal`` only: also solve one program per target for its own bound. False skips
        them (one program per end use and one in all): each target then shows its value in
        its end use's optimum.
    draws, seed
        Monte Carlo draws over the graph's and the shocks' ranges (a count, or a
        :class:`~supplygraph.uncertainty.sampling.DrawSpec`) and their seed: ``targets`` and
        ``by_end_use`` gain ``remaining_p5``, ``remaining_p50``, ``remaining_p95`` and
        ``p_loss_ge_50``; ``uncertainty`` holds every draw
        (:func:`supplygraph.analysis.disruption_draws.disruption_draws`).
    scenario
        With ``draws``: the scenario whose ``[[capacity]]`` ranges are drawn (``G`` already
        holds its capacity changes, as :func:`~supplygraph.analysis.scenarios.apply_capacity`
        makes them).
    workers
        With ``draws``: local processes for the draws (the result does not depend on it).

    Raises
    ------
    ScenarioError
        A selector matches nothing, or a bad cut or model.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("CHN:mining", stage="mining", country="CHN", value=3.0)
    >>> G.add_node("AUS:mining", stage="mining", country="AUS", value=1.0)
    >>> G.add_node("USA:magnets", stage="magnets", country="USA")
    >>> G.add_edge("CHN:mining", "USA:magnets", flow=3.0)
    >>> G.add_edge("AUS:mining", "USA:magnets", flow=1.0)
    >>> r = disrupt(G, "CHN")
    >>> float(r.targets.loc["USA:magnets", "loss_share"])
    0.75
    """
    check_model(model)
    resp = Response.of(response)
    shock_list = as_shocks(shocks)
    node_cut, edge_cut = resolve_shocks(G, shock_list)
    cg = compile_graph(G)
    cap, keep = cut_arrays(cg, node_cut, edge_cut)
    tpos = target_positions(cg, targets)
    tnames = [cg.nodes[p] for p in tpos]
    weights = target_weights(cg, tpos)
    outcome = None
    keys = np.array(end_use_keys(cg, tpos), dtype=object)
    if resp.model == "none":
        h = propagate_arrays(cg, cap, keep, model)
    else:
        groups = {k: np.flatnonzero(keys == k) for k in sorted(set(keys.tolist()))}
        outcome = respond(
            G, cg, cap, keep, shock_list, model, resp, tpos, weights, groups, per_target=detail
        )
        h = np.clip(outcome.output, 0.0, 1.0)
        h[tpos] = outcome.remaining

    nodes = _node_table(cg, h)
    if outcome is not None:
        nodes["output"] = outcome.output[cg.graph_pos]
    tab = nodes.loc[tnames].copy()
    tab.index.name = "target"
    tab["weight"] = weights
    if outcome is not None and outcome.joint is not None:
        tab["remaining_joint"] = outcome.joint
    by = _by_end_use(tab)
    total = None
    if outcome is not None and outcome.total is not None:
        total = outcome.total
        by = _optimal_groups(by, tab, keys, outcome)
    if outcome is not None:
        by["binding"] = [
            binding_sentence(outcome.binding.get(str(k), []), float(by.loc[k, "remaining"]))
            if k != "total"
            else ""
            for k in by.index
        ]
    result = DisruptionResult(
        nodes=nodes,
        targets=tab,
        by_end_use=by,
        model=model,
        shocks=shock_list,
        node_cut=node_cut,
        edge_cut=edge_cut,
        response=resp,
        total=total,
        binding=dict(outcome.binding) if outcome is not None else {},
    )
    if draws is not None:
        from supplygraph.analysis.disruption_draws import disruption_draws
        from supplygraph.uncertainty.sampling import DrawSpec

        result.uncertainty = disruption_draws(
            G,
            result,
            DrawSpec.of(draws, seed),
            shocks=shock_list,
            model=model,
            response=resp,
            targets=targets,
            scenario=scenario,
            workers=workers,
        )
    return result


def _optimal_groups(
    by: pd.DataFrame, tab: pd.DataFrame, keys: np.ndarray, outcome: Any
) -> pd.DataFrame:
    """Replace each end use's row by its own optimum, the total by the all-targets optimum."""
    by = by.copy()
    base = tab["baseline"].to_numpy(dtype=float)
    for name, (value, d) in outcome.groups.items():
        idx = np.flatnonzero(keys == name)
        by.loc[name, "remaining"] = value
        by.loc[name, "loss_share"] = 1.0 - value
        if by.loc[name, "unit"] != "mixed":
            by.loc[name, "lost"] = float(np.sum(base[idx] * (1.0 - d[idx])))
    joint = tab["remaining_joint"].to_numpy(dtype=float)
    by.loc["total", "remaining"] = outcome.total
    by.loc["total", "loss_share"] = 1.0 - outcome.total
    if by.loc["total", "unit"] != "mixed":
        by.loc["total", "lost"] = float(np.sum(base * (1.0 - joint)))
    return by


def _node_table(cg: CompiledGraph, h: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    gp = cg.graph_pos
    base = cg.baseline[gp]
    hh = h[gp]
    return pd.DataFrame(
        {
            "stage": [cg.stages[c] for c in cg.stage_code[gp]],
            "country": [cg.countries[c] for c in cg.country_code[gp]],
            "end_use": [cg.end_use[p] for p in gp],
            "unit": [cg.unit[p] for p in gp],
            "baseline": base,
            "remaining": hh,
            "lost": base * (1.0 - hh),
            "loss_share": 1.0 - hh,
        },
        index=pd.Index(cg.graph_nodes, dtype=object, tupleize_cols=False, name="node"),
    )


def _by_end_use(tab: pd.DataFrame) -> pd.DataFrame:
    """Weighted loss per end use (stage where no end use is given), plus the total."""
    import pandas as pd

    end_use = tab["end_use"].tolist()
    stage = tab["stage"].tolist()
    key = [
        str(e) if e is not None and e == e else str(s) for e, s in zip(end_use, stage, strict=True)
    ]
    units = ["" if u is None or u != u else str(u) for u in tab["unit"].tolist()]
    w = tab["weight"].to_numpy(dtype=float)
    share = tab["loss_share"].to_numpy(dtype=float)
    base = tab["baseline"].to_numpy(dtype=float)
    lost = tab["lost"].to_numpy(dtype=float)
    names = sorted(set(key))
    members: dict[str, list[int]] = {k: [] for k in names}
    for i, k in enumerate(key):
        members[k].append(i)
    groups = [(k, np.asarray(members[k], dtype=np.int64)) for k in names]
    groups.append(("total", np.arange(len(key), dtype=np.int64)))
    rows = []
    for name, idx in groups:
        unit_set = {units[i] for i in idx.tolist()}
        wi = w[idx]
        loss = (
            float((wi * share[idx]).sum() / wi.sum()) if wi.sum() > 0 else float(share[idx].mean())
        )
        one_unit = len(unit_set) == 1
        rows.append(
            {
                "end_use": name,
                "n_targets": len(idx),
                "unit": unit_set.pop() if one_unit else "mixed",
                "baseline": float(base[idx].sum()) if one_unit else np.nan,
                "lost": float(lost[idx].sum()) if one_unit else np.nan,
                "remaining": 1.0 - loss,
                "loss_share": loss,
            }
        )
    return pd.DataFrame(rows).set_index("end_use")


# ---------------------------------------------------------------------------------- sweeps
def _summaries(
    Lt: np.ndarray | sp.csr_matrix, w: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """weighted loss, max loss, argmax target column, count >= threshold; per scenario row."""
    import scipy.sparse as sp

    if sp.issparse(Lt):
        Lt = sp.csr_matrix(Lt)  # no duplicate entries (built that way); columns unsorted
        S = Lt.shape[0]
        weighted = np.asarray(Lt @ w).ravel()
        mx = np.zeros(S)
        arg = np.full(S, -1, dtype=np.int64)
        cnt = np.zeros(S, dtype=np.int64)
        counts = np.diff(Lt.indptr)
        rows = np.flatnonzero(counts)
        if len(rows):
            starts = Lt.indptr[rows]
            rmax = np.maximum.reduceat(Lt.data, starts)
            mx[rows] = rmax
            row_of = np.repeat(np.arange(S), counts)
            cand = np.flatnonzero(Lt.data == np.repeat(rmax, counts[rows]))
            # ties: the lowest target column, as numpy's argmax on the dense matrix
            first = np.ones(len(cand), dtype=bool)
            first[1:] = row_of[cand[1:]] != row_of[cand[:-1]]
            cst = np.flatnonzero(first)
            arg[row_of[cand[cst]]] = np.minimum.reduceat(Lt.indices[cand].astype(np.int64), cst)
            hit = (Lt.data >= threshold).astype(np.int64)
            cnt[rows] = np.add.reduceat(hit, starts)
        if threshold <= 0:
            cnt = np.full(S, Lt.shape[1], dtype=np.int64)
        return weighted, mx, arg, cnt
    Lt = np.asarray(Lt)
    weighted = Lt @ w
    mx = Lt.max(axis=1) if Lt.shape[1] else np.zeros(Lt.shape[0])
    arg = Lt.argmax(axis=1) if Lt.shape[1] else np.full(Lt.shape[0], -1)
    cnt = (Lt >= threshold).sum(axis=1)
    return weighted, mx, arg, cnt


def _groups(cg: CompiledGraph) -> tuple[list[tuple[str, str]], list[np.ndarray]]:
    key = cg.country_code * (len(cg.stages) + 1) + cg.stage_code
    uniq, inv = np.unique(key, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(uniq) + 1))
    names, members = [], []
    for i, k in enumerate(uniq.tolist()):
        c, s = divmod(k, len(cg.stages) + 1)
        names.append((cg.countries[c], cg.stages[s]))
        members.append(order[bounds[i] : bounds[i + 1]])
    return names, members


def sweep(
    G: nx.DiGraph,
    model: str = "linear",
    by: Literal["node", "country-stage"] = "node",
    targets: Iterable[Any] | None = None,
    *,
    threshold: float = 0.5,
    workers: int = 1,
    scheduler: Any = None,
    details: bool = True,
    progress: bool = True,
    response: Response | str | None = None,
    top: int | None = None,
    draws: Any = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Remove every node (or country x stage group) in turn; rank by output-weighted loss.

    Parameters
    ----------
    G
        Supply graph (never modified).
    model
        ``"linear"`` or ``"leontief"``.
    by
        ``"node"``: one scenario per node; ``"country-stage"``: one scenario per (country,
        stage) group, removing all its nodes at once.
    targets
        Targets (default: sinks). Weights ``w[t]`` = baseline[t] / total target baseline.
    threshold
        ``n_targets_hit`` counts targets losing at least this fraction of output.
    workers
        Local processes for the per-scenario part (split into chunks of scenarios); 1 = in
        process.
    scheduler
        Dask scheduler address (``"tcp://host:8786"``) or a ``dask.distributed.Client``: run the
        per-scenario part on that cluster instead (needs the ``supplygraph[dask]`` extra).
        Results are identical to the single-process sweep.
    details
        Compute ``max_loss``, ``max_loss_target`` and ``n_targets_hit`` (needs the loss at every
        target, not just the weighted sum; for the linear node sweep that costs more than the
        one-pass ``weighted_loss``).
    progress
        Show a progress bar on stderr for long runs (per level, or per worker chunk; terminal
        only, after 2 s).
    response
        ``"none"`` (default), ``"rules"`` or ``"optimal"`` (or a
        :class:`~supplygraph.analysis.response_options.Response`): the losses after the supply response
        to each removal (:func:`~supplygraph.analysis.response.removal_losses`; ``optimal``:
        each target's loss in the all-targets optimum). Adds ``weighted_loss_none``.
    top
        With a response: return only the ``top`` worst removals, evaluating the response only
        until they are certain (a response never loses more than no response). None: all.
    draws, seed
        Monte Carlo draws over the graph's ranges and their seed (no response only): adds
        ``weighted_loss_p5``, ``_p50``, ``_p95``, ``p_rank_1`` (the share of draws in which the
        removal ranks first), ``p_keeps_rank`` (the share of draws in which it ranks at its rank or higher),
        ``rank_p50`` and ``robustness`` (``robust`` when ``p_keeps_rank >= 0.9``); see
        :func:`supplygraph.analysis.disruption_draws.removal_draws`. ``workers`` splits the
        draws (same result).

    Returns
    -------
    pandas.DataFrame
        One row per scenario, ranked (``rank`` 1 = worst) by ``weighted_loss`` (fraction of
        total target output lost, 0..1), ties broken by name. Columns: ``rank``, ``node`` (or
        ``country``), ``stage``, ``country`` (or ``n_nodes``), ``weighted_loss``,
        ``lost`` (``weighted_loss`` x total target baseline, per year; NaN when the targets' units
        differ), ``max_loss`` (largest
        loss fraction at a single target), ``max_loss_target``, ``n_targets_hit``.

    Notes
    -----
    Linear, by node: ``weighted_loss = (L w) / diag(L)`` from one pass, no per-node loop; the
    per-target columns come from the dependency matrix (dense when it fits, else sparse
    all-scenario propagation). Linear by group and Leontief: one propagation per scenario with
    the removed nodes fixed at 0, all batched level by level as sparse rows (optionally split
    over ``workers`` processes or a Dask ``scheduler``).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("m1", "s", flow=3.0)
    >>> G.add_edge("m2", "s", flow=1.0)
    >>> sweep(G)[["node", "weighted_loss"]].values.tolist()
    [['s', 1.0], ['m1', 0.75], ['m2', 0.25]]
    """
    import pandas as pd

    check_model(model)
    if by not in ("node", "country-stage"):
        raise ScenarioError(f"by must be 'node' or 'country-stage', got {by!r}")
    resp = Response.of(response)
    if resp.model != "none":
        details = True
    cg = compile_graph(G)
    tpos = target_positions(cg, targets)
    w = target_weights(cg, tpos)
    total_base = float(np.nansum(cg.baseline[tpos]))

    if by == "node":
        scen: ScenarioSet | None = None
    else:
        gnames, scen = _groups(cg)

    mx = arg = cnt = None
    if model == "linear" and by == "node":
        wv = np.zeros(cg.n)
        np.add.at(wv, tpos, w)
        weighted = linear_removal(cg, wv)
        if details:
            cells = cg.n * len(tpos)
            if cells <= 10_000_000 or (not cg.is_dag and cells <= MAX_DENSE_CELLS):
                E = np.zeros((cg.n, len(tpos)))
                E[tpos, np.arange(len(tpos))] = 1.0
                Lt: Any = linear_removal(cg, E)
            else:
                Lt = _run(cg, np.arange(cg.n), model, tpos, workers, progress, scheduler)
            _, mx, arg, cnt = _summaries(Lt, w, threshold)
    else:
        if scen is None:
            scen = np.arange(cg.n)
        Lt = _run(cg, scen, model, tpos, workers, progress, scheduler)
        weighted, mx, arg, cnt = _summaries(Lt, w, threshold)

    keep_rows = None
    weighted_none = None
    if resp.model != "none":
        import scipy.sparse as sp

        none_loss = Lt.toarray() if sp.issparse(Lt) else np.asarray(Lt, dtype=float)
        scen_list = (
            [np.array([p]) for p in range(cg.n)] if scen is None else [np.asarray(m) for m in scen]
        )
        loss, done = removal_losses(G, cg, scen_list, tpos, w, model, resp, none_loss, top=top)
        weighted_none = np.clip(none_loss @ w, 0.0, 1.0)
        keep_rows = done
        loss = np.where(done[:, None], loss, none_loss)
        weighted, mx, arg, cnt = _summaries(loss, w, threshold)
    weighted = np.clip(weighted, 0.0, 1.0)
    data: dict[str, Any] = {}
    if by == "node":
        order_names = cg.nodes
        data["node"] = list(cg.nodes)
        data["stage"] = [cg.stages[c] for c in cg.stage_code]
        data["country"] = [cg.countries[c] for c in cg.country_code]
    else:
        order_names = [f"{c}@{s}" for c, s in gnames]
        data["country"] = [c for c, _ in gnames]
        data["stage"] = [s for _, s in gnames]
        data["n_nodes"] = [len(m) for m in scen]  # type: ignore[union-attr]
    data["weighted_loss"] = weighted
    if weighted_none is not None:
        data["weighted_loss_none"] = weighted_none
    # a total in one unit only: tonnes of magnets and tonnes of oxide do not add up
    data["lost"] = weighted * total_base if target_weight_basis(cg, tpos) == "output" else np.nan
    if mx is not None:
        data["max_loss"] = np.asarray(mx, dtype=float)
        data["max_loss_target"] = [
            cg.nodes[tpos[a]] if a >= 0 and m > 0 else None
            for a, m in zip(np.asarray(arg).tolist(), np.asarray(mx).tolist(), strict=True)
        ]
        data["n_targets_hit"] = np.asarray(cnt, dtype=np.int64)
    df = pd.DataFrame(data)
    # rank: weighted loss descending, ties by name
    name_rank = np.argsort(np.argsort(np.array([str(x) for x in order_names]), kind="stable"))
    if keep_rows is not None:
        df, name_rank = df[keep_rows], name_rank[keep_rows]
    order = np.lexsort((name_rank, -df["weighted_loss"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    if keep_rows is not None and top is not None:
        df = df.head(top)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    if draws is not None:
        _sweep_draws(G, cg, df, by, scen, model, targets, draws, seed, resp, workers)
    return df


def _sweep_draws(
    G: nx.DiGraph,
    cg: CompiledGraph,
    df: pd.DataFrame,
    by: str,
    scen: Any,
    model: str,
    targets: Any,
    draws: Any,
    seed: int | None,
    resp: Response,
    workers: int,
) -> None:
    """Add the Monte Carlo columns of :func:`sweep` to its ranked table (in place)."""
    from supplygraph.analysis.disruption_draws import add_removal_columns, removal_draws
    from supplygraph.uncertainty.sampling import DrawSpec

    if resp.model != "none":
        msg = "draws on a sweep run with no response (--response none); responses: use disrupt"
        raise ScenarioError(msg)
    if by == "node":
        labels = df["node"].tolist()
        removals = [np.array([cg.index[x]], dtype=np.int64) for x in labels]
    else:
        labels = [f"{c}@{s}" for c, s in zip(df["country"], df["stage"], strict=True)]
        names, members = _groups(cg)
        where = {f"{c}@{s}": m for (c, s), m in zip(names, members, strict=True)}
        removals = [np.asarray(where[x], dtype=np.int64) for x in labels]
    res = removal_draws(
        G,
        removals,
        labels,
        DrawSpec.of(draws, seed),
        model=model,
        targets=targets,
        order=np.arange(len(labels)),
        workers=workers,
    )
    add_removal_columns(df, res, labels, df["rank"].to_numpy())


def _run(
    cg: CompiledGraph,
    scen: ScenarioSet,
    model: str,
    tpos: np.ndarray,
    workers: int,
    progress: bool,
    scheduler: Any = None,
) -> sp.csr_matrix:
    """Losses at targets for each scenario: in process, over local processes, or on Dask.

    Delegates to :func:`supplygraph.analysis.workers.run_scenarios` (contiguous chunks, the
    compiled graph sent once, clean errors for a missing Dask extra or an unreachable
    scheduler); fewer than two scenarios per worker run in this process.
    """
    from supplygraph.analysis.workers import run_scenarios

    workers = int(workers or 1)
    if scheduler is None and (workers <= 1 or len(scen) < 2 * workers):
        return scenario_losses(cg, scen, model, tpos, progress=progress)
    return run_scenarios(
        cg, scen, model, tpos, workers=workers, scheduler=scheduler, progress=progress
    )


def propagate_scenario(cg: CompiledGraph, removed: Sequence[int], model: str) -> np.ndarray:
    """``h`` per position with the given positions removed (reference helper)."""
    cap = np.ones(cg.n)
    cap[np.asarray(removed, dtype=np.int64)] = 0.0
    return propagate_arrays(cg, cap, None, model)
