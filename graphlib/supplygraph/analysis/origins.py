"""Origin tracing: which countries' material is in each node's output.

Material mixes proportionally through input shares (the linear model's assumption). Let ``O`` be
the *origin nodes*: the sources (nodes without suppliers) by default, or every node of ``stage``
(e.g. ``"separation"``: "where was this material separated?"). For each origin group ``c``
(a country, or a node with ``level="node"``)::

    o[v, c] = [country(v) == c]                                  for v in O
    o[v, c] = sum_u a[u, v] * o[u, c]                            otherwise
    o[v, "unknown"] = ext[v] + sum_u a[u, v] * o[u, "unknown"]    (external input: unknown origin)

so every row sums to 1 (``sum_u a[u, v] + ext[v] = 1``). All origins come from one sparse solve
with one right-hand side per origin (one forward pass on acyclic graphs). Sources that are not
origin nodes (for example mines when ``stage="separation"``) and nodes of closed cycles count as
unknown origin.

This powers de-minimis checks: "which products carry >= 0.1 % China-origin rare earths?" is
``origin_shares(G)["CHN"] >= 0.001``.

**Through re-export hubs** (``through_hubs=True``). An origin node ``h`` that receives flows from
other origin nodes (Hong Kong's magnet node fed by China's, as ``supplygraph trade build``
writes it) passes those goods on. Its own output ``P = value(h)`` keeps its own country; what it
received from the origin stage, ``R = sum_u f(u, h)``, keeps the origins of its suppliers::

    o[h, c] = P / (P + R) * [country(h) == c] + sum_u f(u, h) / (P + R) * o[u, c]

Origin nodes without such inflows are unchanged, so the option changes nothing on graphs without
same-stage trade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from supplygraph.analysis.propagation import forward_solve
from supplygraph.compiled import CompiledGraph, compile_graph
from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["UNKNOWN", "origin_shares"]

#: Column name of the unknown-origin share (external input).
UNKNOWN = "unknown"


def origin_shares(
    G: nx.DiGraph,
    level: Literal["country", "node"] = "country",
    stage: str | None = None,
    *,
    through_hubs: bool = False,
) -> pd.DataFrame:
    """Share of each node's output that traces back to each origin.

    Parameters
    ----------
    G
        Supply graph (never modified).
    level
        ``"country"``: one column per origin country; ``"node"``: one column per origin node.
    stage
        Origin stage: the nodes of this stage are the origins (default: the sources, i.e. nodes
        without suppliers, normally the mining stage).
    through_hubs
        Re-attribute what an origin node received from other origin nodes (re-exports) to
        their origins (see the module's equation). Default False: every origin node is its own
        origin.

    Returns
    -------
    pandas.DataFrame
        Index: every node (graph order); columns: origins (sorted) then ``"unknown"``; values
        are fractions of the node's output (dimensionless), each row sums to 1.

    Raises
    ------
    ScenarioError
        ``stage`` has no nodes, or ``level`` is unknown.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("CHN:mining", stage="mining", country="CHN")
    >>> G.add_node("AUS:mining", stage="mining", country="AUS")
    >>> G.add_node("MYS:separation", stage="separation", country="MYS", external_input=1.0)
    >>> G.add_edge("CHN:mining", "MYS:separation", flow=1.0)
    >>> G.add_edge("AUS:mining", "MYS:separation", flow=2.0)
    >>> origin_shares(G).loc["MYS:separation"].to_dict()
    {'AUS': 0.5, 'CHN': 0.25, 'unknown': 0.25}
    """
    import pandas as pd
    import scipy.sparse as sp

    if level not in ("country", "node"):
        raise ScenarioError(f"level must be 'country' or 'node', got {level!r}")
    cg = compile_graph(G)
    if stage is None:
        is_origin = cg.is_source.copy()
    else:
        if stage not in cg.stages:
            raise ScenarioError(f"origin stage {stage!r} has no nodes")
        is_origin = cg.stage_code == cg.stages.index(stage)
        if not is_origin.any():
            raise ScenarioError(f"origin stage {stage!r} has no nodes")
    opos = np.flatnonzero(is_origin)
    if level == "country":
        keys = cg.country_code[opos]
        uniq = np.unique(keys)
        # nodes without a country count as "XXX" (the schema's unknown / unattributed code)
        label = {k: (cg.countries[k] or "XXX") for k in uniq.tolist()}
        names = sorted(set(label.values()), key=str)
        col_idx = {nm: i for i, nm in enumerate(names)}
        cols = np.array([col_idx[label[k]] for k in keys.tolist()], dtype=np.int64)
    else:
        names = sorted((cg.nodes[p] for p in opos.tolist()), key=str)
        col_of_node = {nm: i for i, nm in enumerate(names)}
        cols = np.array([col_of_node[cg.nodes[p]] for p in opos.tolist()], dtype=np.int64)
    k = len(names)
    B = np.zeros((cg.n, k + 1))
    B[opos, cols] = 1.0
    other = ~is_origin
    B[other, k] = cg.ext[other] + cg.closed_node[other]
    # input-share matrix (rows = customers) without inputs into origin nodes or inside closed
    # cycles: those rows are fixed by B
    e = ~is_origin[cg.tgt] & ~(cg.closed_node[cg.src] & cg.closed_node[cg.tgt])
    AT = sp.csr_matrix((cg.share[e], (cg.tgt[e], cg.src[e])), shape=(cg.n, cg.n))
    if through_hubs:
        AT = AT + _hub_rows(cg, is_origin, B, cols)
    X = forward_solve(cg, AT, B)
    np.clip(X, 0.0, 1.0, out=X)
    return pd.DataFrame(
        X[cg.graph_pos],
        index=pd.Index(cg.graph_nodes, dtype=object, tupleize_cols=False, name="node"),
        columns=pd.Index([*names, UNKNOWN], dtype=object, tupleize_cols=False, name="origin"),
    )


def _hub_rows(cg: CompiledGraph, is_origin: np.ndarray, B: np.ndarray, cols: np.ndarray) -> Any:
    """Rows of origin nodes fed by other origin nodes: ``f(u, h) / (P + R)``; ``B`` rescaled."""
    import scipy.sparse as sp

    hub_edge = is_origin[cg.src] & is_origin[cg.tgt] & (cg.src != cg.tgt) & (cg.flow > 0)
    received = np.bincount(cg.tgt[hub_edge], weights=cg.flow[hub_edge], minlength=cg.n)
    own = np.nan_to_num(cg.value, nan=0.0).clip(min=0.0)
    total = own + received
    hubs = received > 0
    opos = np.flatnonzero(is_origin)
    rows = np.flatnonzero(hubs[opos])
    B[opos[rows], cols[rows]] = own[opos[rows]] / total[opos[rows]]
    e = hub_edge & hubs[cg.tgt]
    weight = cg.flow[e] / total[cg.tgt[e]]
    return sp.csr_matrix((weight, (cg.tgt[e], cg.src[e])), shape=(cg.n, cg.n))
