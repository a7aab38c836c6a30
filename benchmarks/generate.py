"""Seeded generator of realistic layered supply networks for the benchmark suite.

The network has ``stages`` layers (default 6): ``stages - 1`` layers of firms, upstream first,
and a last layer of a few end-use sectors (the sinks, i.e. final demand).

- Every firm outside the first layer buys from 1-5 distinct suppliers (uniform) of the previous
  layer; supplier popularity follows a Zipf law (``P(rank r) ~ r ** -zipf`` over a random
  ranking), so out-degrees are power-law distributed with a few hubs.
- With probability ``cross_stage`` a supplier is drawn from two layers up instead (a
  cross-stage link; under the Leontief model it forms a second input group).
- Every firm sells to someone: a firm that no customer picked is added as an extra supplier of a
  random customer in the next layer (or of an end use), so the only sinks are the end uses.
- Every firm of the last firm layer sells to 1-2 end uses.
- Cycles: ``back_edges`` (fraction of edges) reverse copies of random edges between non-source
  firms with 5 % of the flow (recycling, intra-group trade: 2-cycles), and ``self_loops``
  (fraction of nodes) self-loops with 2 % of the node's inflow on non-source firms.
- Flows are lognormal (t/yr); ``value`` is a node's total input (sources: its output times
  1.0-1.3); a fraction ``external`` of non-source firms gets an ``external_input`` of 10-100 %
  of its inbound flows.
- Countries come from a pool of ISO 3166-1 alpha-3 codes with a Zipf law per layer (a different
  ranking per layer), so stages have realistic concentration.

Node ids are ``"s<layer>-<i>"`` for firms and ``"<ISO3>:<end use>-<i>"`` for end uses. The
result follows :mod:`supplygraph.schema`.

Examples
--------
>>> G = generate_network(1000, seed=1)
>>> G.number_of_nodes(), G.graph["stages"][-1]
(1000, 'end_use')
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "COUNTRY_POOL",
    "STAGE_NAMES",
    "frames_to_graph",
    "generate_frames",
    "generate_network",
    "write_csv",
    "write_parquet",
    "write_xlsx",
]

#: Stage names for the default 6 layers; other depths use ``"stage<k>"`` and ``"end_use"``.
STAGE_NAMES: list[str] = ["raw", "refining", "materials", "components", "assembly", "end_use"]

#: The country pool (ISO 3166-1 alpha-3).
COUNTRY_POOL: list[str] = [
    "CHN", "USA", "JPN", "DEU", "KOR", "IND", "BRA", "AUS", "CAN", "MYS",
    "VNM", "THA", "MEX", "FRA", "ITA", "GBR", "ESP", "POL", "TUR", "IDN",
    "ZAF", "CHL", "PER", "RUS", "MMR", "LAO", "KAZ", "NLD", "BEL", "SWE",
    "FIN", "NOR", "AUT", "CZE", "HUN", "ROU", "PHL", "SGP", "TWN", "ISR",
    "ARG", "COL", "MAR", "EGY", "NGA", "TZA", "MDG", "NAM", "ARE", "SAU",
]  # fmt: skip

END_USE_NAMES: list[str] = ["vehicles", "wind", "electronics", "industrial", "defense"]


def _stage_names(stages: int) -> list[str]:
    if stages == len(STAGE_NAMES):
        return list(STAGE_NAMES)
    return [f"stage{k}" for k in range(stages - 1)] + ["end_use"]


def _zipf_p(n: int, alpha: float) -> np.ndarray:
    p = np.arange(1, n + 1, dtype=float) ** -alpha
    return p / p.sum()


def _first_distinct(draws: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first ``want[row]`` distinct values in draw order; returns (values, rows)."""
    m, w = draws.shape
    dup = np.zeros((m, w), dtype=bool)
    for j in range(1, w):
        dup[:, j] = (draws[:, :j] == draws[:, j : j + 1]).any(axis=1)
    ok = ~dup
    ok &= np.cumsum(ok, axis=1) <= want[:, None]
    rows, cols = np.nonzero(ok)
    return draws[rows, cols], rows


def generate_frames(
    n_nodes: int = 1000,
    *,
    stages: int = 6,
    n_end_uses: int = 20,
    min_suppliers: int = 1,
    max_suppliers: int = 5,
    zipf: float = 1.0,
    cross_stage: float = 0.05,
    back_edges: float = 0.0005,
    self_loops: float = 0.0005,
    external: float = 0.1,
    n_countries: int = 30,
    country_zipf: float = 1.2,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Generate the node and edge tables of a layered supply network.

    Parameters
    ----------
    n_nodes
        Total number of nodes (firms + end uses), >= ``4 * stages``.
    stages
        Number of layers including the end-use layer (>= 3).
    n_end_uses
        Number of end-use sinks (the last layer).
    min_suppliers, max_suppliers
        Range of the number of distinct suppliers of a firm (uniform).
    zipf
        Exponent of the supplier-popularity Zipf law (0 = uniform).
    cross_stage
        Probability that a supplier comes from two layers up.
    back_edges
        Reverse (cycle-closing) edges, as a fraction of the firm-to-firm edges; 0 for a DAG.
    self_loops
        Self-loops, as a fraction of the nodes; 0 for none.
    external
        Fraction of non-source firms with an ``external_input``.
    n_countries
        Size of the country pool used (<= 50).
    country_zipf
        Exponent of the per-layer country Zipf law.
    seed
        Random seed; the same arguments always give the same tables.

    Returns
    -------
    nodes : pandas.DataFrame
        Columns ``id, label, stage, country, value, unit, external_input, end_use``.
    edges : pandas.DataFrame
        Columns ``source, target, flow, unit`` (flow in t/yr).
    stage_names : list of str
        Stage order, upstream first.

    Examples
    --------
    >>> nodes, edges, names = generate_frames(200, seed=3)
    >>> len(nodes), names[0]
    (200, 'raw')
    """
    if stages < 3:
        raise ValueError("stages must be >= 3")
    if n_nodes < 4 * stages:
        raise ValueError("n_nodes must be >= 4 * stages")
    rng = np.random.default_rng(seed)
    names = _stage_names(stages)
    n_end = max(1, min(n_end_uses, n_nodes // 10))
    n_firms = n_nodes - n_end
    n_layers = stages - 1
    sizes = np.full(n_layers, n_firms // n_layers)
    sizes[: n_firms % n_layers] += 1
    starts = np.concatenate([[0], np.cumsum(sizes)])
    layer = np.repeat(np.arange(n_layers), sizes)
    layer = np.concatenate([layer, np.full(n_end, n_layers)])
    n = n_nodes

    # ---- firm -> firm edges
    pool = COUNTRY_POOL[: max(1, min(n_countries, len(COUNTRY_POOL)))]
    src_l: list[np.ndarray] = []
    tgt_l: list[np.ndarray] = []
    for s in range(1, n_layers):
        customers = np.arange(starts[s], starts[s + 1])
        k = rng.integers(min_suppliers, max_suppliers + 1, size=len(customers))
        up = np.where(rng.random(len(customers)) < cross_stage, 2, 1)
        up[:] = np.where(s - up >= 0, up, 1)
        for d in (1, 2):
            sel = up == d
            if not sel.any() or s - d < 0:
                continue
            lo, hi = starts[s - d], starts[s - d + 1]
            size = hi - lo
            p = _zipf_p(size, zipf)
            rank_to_node = lo + rng.permutation(size)
            cust = customers[sel]
            kk = np.minimum(k[sel], size)
            draws = rank_to_node[rng.choice(size, size=(len(cust), 3 * max_suppliers), p=p)]
            chosen, owner = _first_distinct(draws, kk)
            short = np.flatnonzero(np.bincount(owner, minlength=len(cust)) < kk)
            if len(short):  # rare: too few distinct draws; redraw those rows uniformly
                keep = ~np.isin(owner, short)
                chosen, owner = chosen[keep], owner[keep]
                extra = [lo + rng.choice(size, size=kk[i], replace=False) for i in short]
                chosen = np.concatenate([chosen, *extra])
                owner = np.concatenate([owner, np.repeat(short, kk[short])])
            src_l.append(chosen)
            tgt_l.append(cust[owner])
    src = np.concatenate(src_l) if src_l else np.zeros(0, dtype=np.int64)
    tgt = np.concatenate(tgt_l) if tgt_l else np.zeros(0, dtype=np.int64)

    # ---- every firm in layers 0..n_layers-2 sells to someone: an unsold firm takes over one
    # edge of a supplier in its layer that has >= 2 customers (keeps the edge count)
    outdeg = np.bincount(src, minlength=n).tolist()
    orphan = np.flatnonzero(np.bincount(src, minlength=n)[: starts[n_layers - 1]] == 0)
    src_py, tgt_py = src.tolist(), tgt.tolist()
    by_layer = {s: np.flatnonzero(layer[src] == s) for s in range(n_layers - 1)}
    pairs = set(zip(src_py, tgt_py, strict=True))
    added: list[tuple[int, int]] = []
    orphan = rng.permutation(orphan)
    for s_o in range(n_layers - 1):
        mine = orphan[layer[orphan] == s_o]
        cand = by_layer[s_o]
        if not len(mine):
            continue
        picks = cand[rng.integers(len(cand), size=(len(mine), 16))].tolist() if len(cand) else None
        for j, o in enumerate(mine.tolist()):
            for e in picks[j] if picks else ():
                if outdeg[src_py[e]] >= 2 and (o, tgt_py[e]) not in pairs:
                    outdeg[src_py[e]] -= 1
                    pairs.discard((src_py[e], tgt_py[e]))
                    src_py[e] = o
                    outdeg[o] = 1
                    pairs.add((o, tgt_py[e]))
                    break
            else:  # no edge to take over: add one
                added.append((o, int(starts[s_o + 1] + rng.integers(sizes[s_o + 1]))))
                outdeg[o] = 1
    src = np.array(src_py + [a for a, _ in added], dtype=np.int64)
    tgt = np.array(tgt_py + [b for _, b in added], dtype=np.int64)

    # ---- last firm layer -> end uses (1-2 end uses each)
    last = np.arange(starts[n_layers - 1], starts[n_layers])
    end_ids = np.arange(n_firms, n)
    pe = _zipf_p(n_end, 0.5)
    e1 = rng.choice(end_ids, size=len(last), p=pe)
    two = rng.random(len(last)) < 0.3
    e2 = rng.choice(end_ids, size=int(two.sum()), p=pe)
    keep2 = e2 != e1[two]
    src = np.concatenate([src, last, last[two][keep2]])
    tgt = np.concatenate([tgt, e1, e2[keep2]])
    flow = np.round(rng.lognormal(mean=3.0, sigma=1.0, size=len(src)), 6) + 0.01

    # ---- cycles: reverse copies of firm->firm edges, self-loops on non-source firms
    firm_edge = np.flatnonzero((tgt < n_firms) & (layer[src] > 0))  # raw sources stay sources
    n_back = round(back_edges * len(firm_edge))
    if n_back:
        pick = rng.choice(firm_edge, size=n_back, replace=False)
        existing = set(zip(src.tolist(), tgt.tolist(), strict=True))
        back = [(int(tgt[i]), int(src[i]), flow[i] * 0.05) for i in pick]
        back = [b for b in back if (b[0], b[1]) not in existing]
        if back:
            bs, bt, bf = (np.array(x) for x in zip(*back, strict=True))
            src, tgt, flow = np.concatenate([src, bs]), np.concatenate([tgt, bt]), np.r_[flow, bf]
    inflow = np.bincount(tgt, weights=flow, minlength=n)
    n_loop = round(self_loops * n)
    if n_loop:
        cand = np.flatnonzero((layer > 0) & (layer < n_layers))
        loops = rng.choice(cand, size=min(n_loop, len(cand)), replace=False)
        src = np.concatenate([src, loops])
        tgt = np.concatenate([tgt, loops])
        flow = np.concatenate([flow, np.round(inflow[loops] * 0.02, 6) + 0.01])

    # ---- node attributes
    inflow = np.bincount(tgt[src != tgt], weights=flow[src != tgt], minlength=n)
    outflow = np.bincount(src, weights=flow, minlength=n)
    ext = np.zeros(n)
    has_ext = (layer > 0) & (layer < n_layers) & (rng.random(n) < external)
    ext[has_ext] = np.round(inflow[has_ext] * rng.uniform(0.1, 1.0, has_ext.sum()), 6)
    value = np.where(layer == 0, outflow * rng.uniform(1.0, 1.3, n), inflow + ext)
    value = np.round(value, 6)
    country = np.empty(n, dtype=object)
    pc = _zipf_p(len(pool), country_zipf)
    for s in range(n_layers + 1):
        idx = np.flatnonzero(layer == s)
        perm = rng.permutation(len(pool))
        country[idx] = [pool[i] for i in perm[rng.choice(len(pool), size=len(idx), p=pc)]]
    ids = [f"s{layer[i]}-{i - starts[layer[i]]}" for i in range(n_firms)]
    end_use = [None] * n
    for j, i in enumerate(range(n_firms, n)):
        eu = END_USE_NAMES[j % len(END_USE_NAMES)]
        end_use[i] = eu
        ids.append(f"{country[i]}:{eu}-{j}")
    nodes = pd.DataFrame(
        {
            "id": ids,
            "label": ids,
            "stage": [names[s] for s in layer],
            "country": country,
            "value": value,
            "unit": "t/yr",
            "external_input": ext,
            "end_use": end_use,
        }
    )
    id_arr = np.array(ids, dtype=object)
    edges = pd.DataFrame(
        {"source": id_arr[src], "target": id_arr[tgt], "flow": flow, "unit": "t/yr"}
    )
    return nodes, edges, names


def generate_network(n_nodes: int = 1000, **kwargs: Any) -> nx.DiGraph:
    """Generate a layered supply network as a :class:`networkx.DiGraph`.

    Parameters
    ----------
    n_nodes
        Total number of nodes.
    **kwargs
        Passed to :func:`generate_frames` (``stages``, ``zipf``, ``back_edges``, ``self_loops``,
        ``seed`` ...).

    Returns
    -------
    networkx.DiGraph
        Node attributes ``label, stage, country, value, unit`` (+ ``external_input`` > 0 where
        given, ``end_use`` on end uses); edge attributes ``flow`` (t/yr), ``unit``; graph
        attributes ``stages``, ``name``, ``provenance``.

    Examples
    --------
    >>> G = generate_network(300, seed=2, back_edges=0, self_loops=0)
    >>> import networkx as nx
    >>> nx.is_directed_acyclic_graph(G)
    True
    """
    nodes, edges, names = generate_frames(n_nodes, **kwargs)
    G = frames_to_graph(nodes, edges, names)
    G.graph["provenance"]["assumptions"] = [
        f"Synthetic layered supply network, generator arguments {kwargs!r}."
    ]
    return G


def frames_to_graph(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    names: list[str],
    *,
    graph_class: type[nx.DiGraph] = nx.DiGraph,
) -> nx.DiGraph:
    """Build the graph of :func:`generate_frames` tables directly (no validation pass).

    ``graph_class`` is ``networkx.DiGraph`` (for the naive baselines) or
    ``supplygraph.TrackedDiGraph`` (what ``supplygraph.load`` returns).
    """
    G = graph_class()
    attrs = [
        {"label": i, "stage": st, "country": c, "value": v, "unit": "t/yr"}
        for i, st, c, v in zip(
            nodes["id"].tolist(),
            nodes["stage"].tolist(),
            nodes["country"].tolist(),
            nodes["value"].tolist(),
            strict=True,
        )
    ]
    ext = nodes["external_input"].to_numpy()
    for i in np.flatnonzero(ext > 0).tolist():
        attrs[i]["external_input"] = float(ext[i])
    end_use = nodes["end_use"].tolist()
    for i in np.flatnonzero(nodes["end_use"].notna().to_numpy()).tolist():
        attrs[i]["end_use"] = end_use[i]
    G.add_nodes_from(zip(nodes["id"].tolist(), attrs, strict=True))
    G.add_edges_from(
        (u, v, {"flow": f, "unit": "t/yr"})
        for u, v, f in zip(
            edges["source"].tolist(), edges["target"].tolist(), edges["flow"].tolist(), strict=True
        )
    )
    G.graph["stages"] = list(names)
    G.graph["stage_order_inferred"] = False
    G.graph["name"] = f"synthetic-{len(nodes)}"
    G.graph["provenance"] = {"input": "benchmarks/generate.py", "assumptions": []}
    return G


def write_csv(nodes: pd.DataFrame, edges: pd.DataFrame, folder: str | Path) -> Path:
    """Write ``nodes.csv`` and ``edges.csv`` into ``folder`` (created); return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = nodes.copy()
    n["external_input"] = n["external_input"].where(n["external_input"] > 0)
    n.to_csv(folder / "nodes.csv", index=False)
    edges.to_csv(folder / "edges.csv", index=False)
    return folder


def write_parquet(
    nodes: pd.DataFrame, edges: pd.DataFrame, folder: str | Path, *, feather: bool = False
) -> Path:
    """Write ``nodes.parquet`` and ``edges.parquet`` (or ``.feather``) into ``folder``.

    The same columns as :func:`write_csv` (``external_input`` null where 0), with typed
    columns: text as strings, numbers as float64. Returns the folder.
    """
    import pyarrow as pa

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = nodes.copy()
    if "external_input" in n.columns:
        n["external_input"] = n["external_input"].where(n["external_input"] > 0)
    for frame, name in ((n, "nodes"), (edges, "edges")):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if feather:
            import pyarrow.feather as feather_io

            feather_io.write_feather(table, folder / f"{name}.feather")
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, folder / f"{name}.parquet")
    return folder


def write_xlsx(nodes: pd.DataFrame, edges: pd.DataFrame, path: str | Path) -> Path:
    """Write an ``.xlsx`` workbook with sheets ``Elements`` and ``Connections`` (template layout).

    Uses XlsxWriter in constant-memory mode. Column headers are the template's (``ID``,
    ``Label``, ``Stage``, ``Country``, ``Value``, ``Unit``, ``External input``, ``End use``;
    ``From``, ``To``, ``Flow``, ``Unit``).
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Elements")
    head = ["ID", "Label", "Stage", "Country", "Value", "Unit", "External input", "End use"]
    ws.write_row(0, 0, head)
    rows = zip(
        nodes["id"],
        nodes["label"],
        nodes["stage"],
        nodes["country"],
        nodes["value"],
        nodes["unit"],
        nodes["external_input"],
        nodes["end_use"],
        strict=True,
    )
    for r, (i, lab, st, c, v, u, x, e) in enumerate(rows, start=1):
        ws.write_string(r, 0, i)
        ws.write_string(r, 1, lab)
        ws.write_string(r, 2, st)
        ws.write_string(r, 3, c)
        ws.write_number(r, 4, float(v))
        ws.write_string(r, 5, u)
        if x > 0:
            ws.write_number(r, 6, float(x))
        if isinstance(e, str):
            ws.write_string(r, 7, e)
    ws = wb.add_worksheet("Connections")
    ws.write_row(0, 0, ["From", "To", "Flow", "Unit"])
    for r, (s, t, f) in enumerate(
        zip(edges["source"], edges["target"], edges["flow"], strict=True), start=1
    ):
        ws.write_string(r, 0, s)
        ws.write_string(r, 1, t)
        ws.write_number(r, 2, float(f))
        ws.write_string(r, 3, "t/yr")
    wb.close()
    return path


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python benchmarks/generate.py 10000 -o out/ [--xlsx] [--seed 0]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n_nodes", type=int)
    ap.add_argument("-o", "--out", default="synthetic", help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stages", type=int, default=6)
    ap.add_argument("--zipf", type=float, default=1.0)
    ap.add_argument("--back-edges", type=float, default=0.0005)
    ap.add_argument("--self-loops", type=float, default=0.0005)
    ap.add_argument("--xlsx", action="store_true", help="also write network.xlsx")
    ap.add_argument(
        "--parquet", action="store_true", help="write nodes.parquet + edges.parquet, not CSV"
    )
    ap.add_argument(
        "--feather", action="store_true", help="write nodes.feather + edges.feather, not CSV"
    )
    a = ap.parse_args(argv)
    nodes, edges, _ = generate_frames(
        a.n_nodes,
        stages=a.stages,
        zipf=a.zipf,
        back_edges=a.back_edges,
        self_loops=a.self_loops,
        seed=a.seed,
    )
    if a.parquet or a.feather:
        folder = write_parquet(nodes, edges, a.out, feather=a.feather)
    else:
        folder = write_csv(nodes, edges, a.out)
    if a.xlsx:
        write_xlsx(nodes, edges, folder / "network.xlsx")
    print(f"{len(nodes)} nodes, {len(edges)} edges -> {folder}")


if __name__ == "__main__":
    main()
