"""What limits an end use, in plain words: capacities, shock caps, link limits, idle spare.

Both supply responses explain their results with the same vocabulary: the ``optimal`` program
names the bounds with a positive shadow price at an end use's optimum
(:mod:`supplygraph.analysis.optimal`), the ``rules`` name what an end use's open orders ran into
(:func:`supplygraph.analysis.rules.stall_reasons`). :func:`limit_groups` turns either set of
positions and links into :class:`LimitGroup` phrases ("metal capacity outside CHN (JPN, ROW and
VNM)", "the cap on CHN metal sales to USA (25 % allowed)"), :func:`binding_sentence` joins them
into one sentence, and :func:`highlight_limits` turns them into the network view's highlight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from supplygraph.wording import join_words

if TYPE_CHECKING:
    import numpy as np

    from supplygraph.analysis.response_arrays import ResponseProblem

__all__ = [
    "HIGHLIGHT_LABELS",
    "LimitGroup",
    "binding_sentence",
    "highlight_limits",
    "limit_groups",
]


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
                phrase = f"spare {stage} capacity in {join_words(countries, limit=6)} left idle for lack of inputs"
            elif is_cut:
                phrase = f"the cut to {stage} capacity in {join_words(countries, limit=6)}"
            elif others and len(others) <= 2 and len(countries) >= 2:
                phrase = f"{stage} capacity outside {join_words(others, limit=6)} ({join_words(countries, limit=6)})"
            else:
                phrase = f"{stage} capacity in {join_words(countries, limit=6)}"
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
        where = f"to {join_words(abroad, limit=6)}" if abroad else f"within {cu}"
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
        phrase = f"inputs from outside the graph at {join_words([str(x) for x in nodes], limit=6)}"
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
