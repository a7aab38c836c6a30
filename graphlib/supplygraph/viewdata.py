"""The compact graph the network view embeds once: columnar arrays, base64-encoded.

Every per-node array is in the compiled graph's kernel order (suppliers before customers, see
:mod:`supplygraph.compiled`), so the page's JavaScript can run the linear model in one pass
and find a node's cone by walking the same arrays. Edges are the compiled graph's edges (flow >
0), sorted by customer: ``tgt`` is implicit in ``inptr`` (the edges into position ``p`` are
``inptr[p]:inptr[p+1]``), ``src`` gives each edge's supplier.

Layout of the JSON object (``b64:<dtype>`` marks a base64 string of little-endian values)::

    n, m             node and edge counts
    ids              vis id of each position (str; the view's node ids)
    labels           {position: label} where a node's label differs from its id
    stage            b64:uint8|uint16, index into ``stages``
    country          b64:uint16, index into ``countries``
    qty              b64:float32, the node quantity shares are computed from
                     (:func:`supplygraph.analysis.concentration.node_quantities`)
    inptr, src       b64:int32, in-CSR of the edges
    flow             b64:float64, edge flow per year (kept at full precision: the what-if
                     panel recomputes input shares from it and must agree with Python to 1e-9)
    ext_pos, ext_in  positions with an ``external_input`` and its amount (float64)
    value_pos, value positions with a ``value`` and the value (float64; target baselines and
                     capacity scaling need them)
    targets          b64:int32, the sinks (the targets of :func:`supplygraph.disrupt`)
    target_group     b64:uint16 per target, index into ``groups`` (end use, else stage)
    weight_basis     ``"output"`` or ``"equal"`` (:func:`~supplygraph.analysis.dependency.
                     target_weight_basis`)
    blocks           ``[start, size, closed]`` per cyclic strongly connected component
    cp_pos, cp_rank  chokepoints and their rank (1 = worst)
    dep, loss        b64:uint16, max dependency and loss-if-removed in 1/65535 (tooltips)
    dep_target       b64:int32, position of the target with the max dependency (-1: none)
    units, unit      unit names and b64:uint16 codes (``unit`` absent when one unit)
    prov, prov_code  provenance lines and b64:uint32 codes (absent when no node has one)

The payload is about 90 bytes per node and 25 per edge (9 MB at 100,000 nodes / 265,000 edges).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.compiled import CompiledGraph

__all__ = ["b64", "graph_payload", "vis_ids"]

_PROV = ("source", "year", "evidence")


def vis_ids(G: nx.DiGraph) -> dict[Any, str]:
    """vis node ids: ``str(node)`` when that is unique, else ``n<position>``."""
    ids = {n: str(n) for n in G.nodes}
    if len(set(ids.values())) != len(ids):
        ids = {n: f"n{i}" for i, n in enumerate(G.nodes)}
    return ids


def b64(arr: np.ndarray, dtype: str) -> str:
    """Return ``arr`` as little-endian ``dtype`` bytes in base64, prefixed ``b64:<dtype>:``."""
    data = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    return f"b64:{dtype}:" + base64.b64encode(data).decode("ascii")


def _codes(values: Sequence[Any], order: Sequence[str]) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(order)}
    return np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))


def _unit16(x: np.ndarray) -> np.ndarray:
    """Fractions in [0, 1] as uint16 steps of 1/65535 (NaN -> 0)."""
    return np.rint(np.clip(np.nan_to_num(x), 0.0, 1.0) * 65535).astype(np.uint16)


def graph_payload(
    H: nx.DiGraph,
    cg: CompiledGraph,
    *,
    ids: Mapping[Any, str],
    stages: Sequence[str],
    countries: Sequence[str],
    qty: Mapping[Any, float],
    metrics: Mapping[Any, Mapping[str, Any]],
    cp_rank: Mapping[Any, int],
) -> dict[str, Any]:
    """Return the compact, JSON-ready description of ``H`` the page embeds once.

    Parameters
    ----------
    H
        The graph drawn (never modified).
    cg
        Its compiled form (:func:`supplygraph.compiled.compile_graph`).
    ids
        vis id of each node.
    stages, countries
        The page's stage order and country order (legend order); every node's stage and
        country must be in them.
    qty
        Node quantities for sizes and shares (per year, the node's unit).
    metrics
        Per node, ``max_dependency``, ``max_dependency_target`` and ``weighted_loss`` when known
        (rows of :func:`supplygraph.chokepoints`).
    cp_rank
        Chokepoint rank per node (1 = worst).

    Returns
    -------
    dict
        The payload described in the module docstring.
    """
    from supplygraph.analysis.dependency import target_positions, target_weight_basis

    n, nodes = cg.n, cg.nodes
    # one pass over the node attributes, in graph order; reordered to kernel order below
    stage_of, country_of, label_of, ext_of, unit_of, prov_of = [], [], [], [], [], []
    for _, d in H.nodes(data=True):
        stage, country, label = d.get("stage"), d.get("country"), d.get("label")
        stage_of.append("(no stage)" if stage is None or stage == "" else str(stage))
        country_of.append("XXX" if country is None or country == "" else str(country))
        label_of.append(None if label is None or label == "" else str(label))
        ext_of.append(_float(d.get("external_input")))
        unit_of.append("" if d.get("unit") is None else str(d["unit"]))
        prov_of.append(
            ", ".join(str(d[k]) for k in _PROV if d.get(k) not in (None, ""))
            if any(d.get(k) not in (None, "") for k in _PROV)
            else ""
        )
    order = np.empty(n, dtype=np.int64)
    order[cg.graph_pos] = np.arange(n)  # graph index of each kernel position
    ids_k = [ids[v] for v in nodes]
    out: dict[str, Any] = {"n": n, "m": cg.m, "ids": ids_k}
    labels = {}
    for p, g in enumerate(order.tolist()):
        label = label_of[g]
        if label is not None and label != ids_k[p]:
            labels[str(p)] = label
    out["labels"] = labels
    out["stage"] = b64(_codes(stage_of, stages)[order], "u1" if len(stages) < 256 else "u2")
    out["country"] = b64(_codes(country_of, countries)[order], "u2")
    out["qty"] = b64(np.array([qty.get(v, 0.0) for v in nodes], dtype=float), "f4")
    out["inptr"] = b64(np.searchsorted(cg.tgt, np.arange(n + 1)), "i4")
    out["src"] = b64(cg.src, "i4")
    out["flow"] = b64(cg.flow, "f8")
    ext_in = np.maximum(np.nan_to_num(np.array(ext_of, dtype=float)[order]), 0.0)
    ext_pos = np.flatnonzero(ext_in > 0)
    out["ext_pos"], out["ext_in"] = b64(ext_pos, "i4"), b64(ext_in[ext_pos], "f8")
    value_pos = np.flatnonzero(~np.isnan(cg.value))
    out["value_pos"], out["value"] = b64(value_pos, "i4"), b64(cg.value[value_pos], "f8")

    tpos = target_positions(cg, None)
    out["targets"] = b64(tpos, "i4")
    group = [
        str(cg.end_use[p])
        if cg.end_use[p] is not None and cg.end_use[p] == cg.end_use[p]
        else cg.stages[cg.stage_code[p]]
        for p in tpos.tolist()
    ]
    groups = sorted(set(group))
    out["groups"] = groups
    out["target_group"] = b64(_codes(group, groups), "u2")
    out["weight_basis"] = target_weight_basis(cg, tpos)

    blocks: list[list[int]] = []
    if cg.cyclic_node.any():
        cyc = np.flatnonzero(cg.cyclic_node)
        _, first, sizes = np.unique(cg.comp[cyc], return_index=True, return_counts=True)
        for a, size in zip(cyc[first].tolist(), sizes.tolist(), strict=True):
            blocks.append([a, size, int(bool(cg.closed_node[a]))])
    out["blocks"] = blocks

    ranked = sorted((r, cg.index[v]) for v, r in cp_rank.items() if v in cg.index)
    out["cp_pos"] = b64(np.array([p for _, p in ranked], dtype=np.int64), "i4")
    out["cp_rank"] = b64(np.array([r for r, _ in ranked], dtype=np.int64), "i4")
    dep = np.full(n, np.nan)
    loss = np.full(n, np.nan)
    dep_target = np.full(n, -1, dtype=np.int64)
    for v, row in metrics.items():
        q = cg.index.get(v)
        if q is None:
            continue
        dep[q] = _float(row.get("max_dependency"))
        loss[q] = _float(row.get("weighted_loss"))
        t = row.get("max_dependency_target")
        if t is not None and (t in cg.index or str(t) in cg.index):
            dep_target[q] = cg.index.get(t, cg.index.get(str(t), -1))
    out["has_metrics"] = bool(metrics)
    out["dep"], out["loss"] = b64(_unit16(dep), "u2"), b64(_unit16(loss), "u2")
    out["dep_target"] = b64(dep_target, "i4")

    names = sorted(set(unit_of))
    out["units"] = names
    if len(names) > 1:
        out["unit"] = b64(_codes(unit_of, names)[order], "u2")
    if any(prov_of):
        lines = sorted(set(prov_of))
        out["prov"] = lines
        out["prov_code"] = b64(_codes(prov_of, lines)[order], "u4")
    return out


def _float(x: Any) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return f
