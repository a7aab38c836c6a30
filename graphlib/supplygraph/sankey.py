"""A Sankey diagram of material flows by stage and country: one static, offline SVG.

Columns are the stages (upstream on the left); in each column one node per country -- the
``top`` countries of the stage by throughput, the others together in one "other" node -- and
bands carry the summed ``flow`` of the graph's edges between them, coloured by the supplier's
country (the network view's palette). Node height is proportional to its throughput,
``max(inflow, outflow)`` over the drawn bands, on one scale for the whole diagram. Flows that
go back to the same or an earlier stage (recycling, feedback, trade within a stage) are drawn
as return bands looping under the columns, so cycles never break the layout.

Identities (tested): the bands leaving the nodes of a stage sum to the graph's flows out of that
stage's nodes, and the bands entering a stage sum to the flows into it; grouping countries into
"other" moves flow between bands, never loses it.

The SVG has no script and no external reference; each band and node carries a ``<title>`` with
its exact flow, unit and share, which browsers show on hover. Measured against plotly's
``go.Sankey`` written with plotly.js inlined (the offline option): 4.8 MB per file and a script
the report's HTML does not allow, against about 60 KB here (see the project README).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import numpy as np

if TYPE_CHECKING:
    import os
    from pathlib import Path

    import networkx as nx
    import pandas as pd

__all__ = ["SankeyFigure", "sankey_data", "sankey_diagram", "sankey_svg"]

OTHER = "other"


def sankey_data(G: nx.DiGraph, *, top: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the Sankey's nodes and links: flows summed by (stage, country) cell.

    Parameters
    ----------
    G
        A supply graph (not modified).
    top
        Countries per stage with their own node (by throughput); the rest form ``"other"``.

    Returns
    -------
    nodes : pandas.DataFrame
        One row per cell: ``stage``, ``country`` (a code or ``"other"``), ``column`` (stage
        index), ``members`` (countries in it), ``inflow``, ``outflow`` (sums of its bands, per
        year) and ``throughput`` (their maximum).
    links : pandas.DataFrame
        ``source``, ``target`` (row numbers of ``nodes``), ``flow`` (per year), ``unit`` and
        ``back`` (True when the band goes to the same or an earlier column).

    Examples
    --------
    >>> import supplygraph as sg
    >>> nodes, links = sankey_data(sg.load("rare-earths"), top=3)
    >>> nodes.groupby("stage", sort=False).size().to_dict()["separation"]
    4
    """
    import pandas as pd

    from supplygraph.view import _node_country, _node_stage, _stages

    stages = _stages(G)
    col = {s: i for i, s in enumerate(stages)}
    cell_of_node = {n: (_node_stage(d), _node_country(d)) for n, d in G.nodes(data=True)}
    rows = []
    for u, v, d in G.edges(data=True):
        try:
            f = float(d.get("flow") or 0.0)
        except (TypeError, ValueError):
            f = 0.0
        if not f > 0 or not math.isfinite(f):
            continue
        unit = d.get("unit") or G.nodes[u].get("unit") or ""
        rows.append((*cell_of_node[u], *cell_of_node[v], f, str(unit)))
    edges = pd.DataFrame(
        rows, columns=["s_stage", "s_country", "t_stage", "t_country", "flow", "unit"]
    )
    # throughput of each raw cell decides which countries keep their own node
    out_sum = edges.groupby(["s_stage", "s_country"])["flow"].sum()
    in_sum = edges.groupby(["t_stage", "t_country"])["flow"].sum()
    through = pd.concat([out_sum, in_sum], axis=1).fillna(0.0).max(axis=1)
    keep: set[tuple[str, str]] = set()
    members: dict[tuple[str, str], list[str]] = {}
    for stage in stages:
        if stage not in through.index.get_level_values(0):
            continue
        ranked = through.loc[stage].sort_values(ascending=False, kind="stable")
        names = list(ranked.index)
        own = names if len(names) <= top + 1 else names[:top]
        keep.update((stage, c) for c in own)
        members.update({(stage, c): [c] for c in own})
        if len(names) > len(own):
            members[(stage, OTHER)] = names[len(own) :]

    def cell(stage: str, country: str) -> tuple[str, str]:
        return (stage, country) if (stage, country) in keep else (stage, OTHER)

    edges["s"] = [cell(a, b) for a, b in zip(edges.s_stage, edges.s_country, strict=True)]
    edges["t"] = [cell(a, b) for a, b in zip(edges.t_stage, edges.t_country, strict=True)]
    order = sorted(
        members, key=lambda k: (col[k[0]], k[1] == OTHER, -float(through_cell(k, through, members)))
    )
    index = {k: i for i, k in enumerate(order)}
    grouped = edges.groupby(["s", "t"], sort=False).agg(
        flow=("flow", "sum"), unit=("unit", "first")
    )
    links = pd.DataFrame(
        {
            "source": [index[s] for s, _ in grouped.index],
            "target": [index[t] for _, t in grouped.index],
            "flow": grouped["flow"].to_numpy(dtype=float),
            "unit": grouped["unit"].tolist(),
        }
    )
    links["back"] = [
        col[order[t][0]] <= col[order[s][0]]
        for s, t in zip(links.source, links.target, strict=True)
    ]
    links = links.sort_values(
        ["source", "flow"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)
    inflow = np.bincount(links.target, weights=links.flow, minlength=len(order))
    outflow = np.bincount(links.source, weights=links.flow, minlength=len(order))
    nodes = pd.DataFrame(
        {
            "stage": [k[0] for k in order],
            "country": [k[1] for k in order],
            "column": [col[k[0]] for k in order],
            "members": [members[k] for k in order],
            "inflow": inflow,
            "outflow": outflow,
            "throughput": np.maximum(inflow, outflow),
        }
    )
    return nodes, links


def through_cell(
    key: tuple[str, str], through: pd.Series, members: Mapping[tuple[str, str], list[str]]
) -> float:
    """Summed throughput of a cell's member countries (for ordering)."""
    stage = key[0]
    return float(sum(through.get((stage, c), 0.0) for c in members[key]))


@dataclass
class SankeyFigure:
    """A rendered Sankey: ``svg`` text; displays inline in Jupyter; ``save(path)`` writes it."""

    svg: str
    title: str

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return self.svg

    def html(self) -> str:
        """A minimal offline page around the SVG (no script; CSP ``default-src 'none'``)."""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'\">"
            f"<title>{escape(self.title)}</title>"
            "<style>body{margin:16px;font:14px system-ui,sans-serif;color:#1f2933}"
            "svg{max-width:100%;height:auto}</style></head><body>\n"
            f"{self.svg}\n</body></html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``.svg`` or ``.html`` (by suffix), atomically."""
        from pathlib import Path

        from supplygraph.errors import InputError
        from supplygraph.io.safe_text import atomic_write

        suffix = Path(path).suffix.lower()
        if suffix == ".svg":
            return atomic_write(path, '<?xml version="1.0" encoding="utf-8"?>\n' + self.svg + "\n")
        if suffix in (".html", ".htm"):
            return atomic_write(path, self.html())
        msg = f"{path}: write the Sankey as .svg or .html"
        raise InputError(msg)


def sankey_diagram(
    G: nx.DiGraph,
    path: str | os.PathLike[str] | None = None,
    *,
    top: int = 8,
    title: str | None = None,
    width: int = 1100,
    height: int = 620,
) -> Any:
    """Draw the Sankey of ``G``'s flows by stage and country (static, offline SVG).

    Parameters
    ----------
    G
        A supply graph (not modified).
    path
        ``.svg`` or ``.html`` file to write (atomically); None returns the figure, which
        displays inline in a notebook.
    top
        Countries per stage with their own node; the rest form "other".
    title
        Heading (default: the graph's name).
    width, height
        Size of the drawing in px (it scales with the page).

    Returns
    -------
    Path or SankeyFigure

    Examples
    --------
    >>> import supplygraph as sg
    >>> fig = sg.sankey_diagram(sg.load("rare-earths"))
    >>> fig.svg.startswith("<svg")
    True
    """
    svg = sankey_svg(G, top=top, title=title, width=width, height=height)
    name = title or f"{G.graph.get('name') or 'supply graph'}: flows by stage and country"
    fig = SankeyFigure(svg=svg, title=name)
    return fig if path is None else fig.save(path)


def _colors(G: nx.DiGraph) -> dict[str, str]:
    from supplygraph.view import _country_colors, _country_stage_shares

    return _country_colors(G, _country_stage_shares(G), 12)


def _fmt(x: float, unit: str) -> str:
    from supplygraph.view import _fmt as fmt

    return fmt(x, unit)


def sankey_svg(
    G: nx.DiGraph,
    *,
    top: int = 8,
    title: str | None = None,
    width: int = 1100,
    height: int = 620,
) -> str:
    """Return the Sankey as SVG text (see :func:`sankey_diagram`)."""
    from supplygraph.view import OTHER_COLOR

    nodes, links = sankey_data(G, top=top)
    stages = list(dict.fromkeys(nodes["stage"]))
    ncol = int(nodes["column"].max()) + 1 if len(nodes) else 1
    colors = _colors(G)
    unit = links["unit"].iloc[0] if len(links) and links["unit"].nunique() == 1 else ""
    name = title or f"{G.graph.get('name') or 'supply graph'}: flows by stage and country"
    n_back = int(links["back"].sum()) if len(links) else 0
    top_pad, left, right, node_w, gap = 56, 12, 150, 14, 6
    lane = 14 if n_back else 0
    bottom = 24 + lane * min(n_back, 12)
    inner_h = height - top_pad - bottom
    col_x = [left + c * (width - left - right - node_w) / max(ncol - 1, 1) for c in range(ncol)]
    per_col = nodes.groupby("column")["throughput"].sum()
    counts = nodes.groupby("column").size()
    free = [inner_h - gap * (counts.get(c, 1) - 1) for c in range(ncol)]
    ky = (
        min((free[c] / per_col[c]) for c in per_col.index if per_col[c] > 0)
        if len(per_col)
        else 1.0
    )
    y0 = np.zeros(len(nodes))
    for c in range(ncol):
        y = float(top_pad)
        for j in np.flatnonzero(nodes["column"].to_numpy() == c).tolist():
            y0[j] = y
            y += nodes["throughput"].iat[j] * ky + gap
    h = nodes["throughput"].to_numpy() * ky
    out_off = np.zeros(len(nodes))
    in_off = np.zeros(len(nodes))
    stage_total = nodes.groupby("stage")["throughput"].sum()
    base = height - bottom + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif">',
        f"<title>{escape(name)}</title>",
        f'<text x="{left}" y="18" font-size="15" font-weight="600" fill="#1f2933">{escape(name)}</text>',
    ]
    for c, stage in enumerate(stages):
        x = col_x[int(nodes.loc[nodes.stage == stage, "column"].iat[0])] + node_w / 2
        anchor = "start" if c == 0 else "end" if c == len(stages) - 1 else "middle"
        xx = left if anchor == "start" else x + node_w / 2 if anchor == "end" else x
        parts.append(
            f'<text x="{xx:.1f}" y="44" font-size="13" font-weight="600" fill="#52606d" '
            f'text-anchor="{anchor}">{escape(stage.replace("_", " "))}</text>'
        )
    band = []
    back_i = 0
    # band ends stacked in the order of the node at the other end (fewer crossings)
    src_a, tgt_a = links["source"].to_numpy(), links["target"].to_numpy()
    width_a = links["flow"].to_numpy(dtype=float) * ky
    sy_a, ty_a = np.zeros(len(links)), np.zeros(len(links))
    for e in np.lexsort((y0[tgt_a], src_a)):
        sy_a[e] = y0[src_a[e]] + out_off[src_a[e]] + width_a[e] / 2
        out_off[src_a[e]] += width_a[e]
    for e in np.lexsort((y0[src_a], tgt_a)):
        ty_a[e] = y0[tgt_a[e]] + in_off[tgt_a[e]] + width_a[e] / 2
        in_off[tgt_a[e]] += width_a[e]
    for k, row in enumerate(links.itertuples(index=False)):
        s, t, f = int(row.source), int(row.target), float(row.flow)
        w = width_a[k]
        sx = col_x[nodes.column.iat[s]] + node_w
        tx = col_x[nodes.column.iat[t]]
        sy, ty = sy_a[k], ty_a[k]
        country = nodes.country.iat[s]
        color = OTHER_COLOR if country == OTHER else colors.get(country, OTHER_COLOR)
        label = (
            f"{_cell_name(nodes, s)} → {_cell_name(nodes, t)}: {_fmt(f, str(row.unit))}"
            f" ({100 * f / max(float(nodes.outflow.iat[s]), 1e-300):.1f} % of its outflow)"
        )
        if row.back:
            ly = base + lane * (back_i % 12)
            back_i += 1
            r = 10
            d = f"M{sx:.1f},{sy:.1f} H{sx + r:.1f} V{ly:.1f} H{tx - r:.1f} V{ty:.1f} H{tx:.1f}"
            band.append(
                f'<path d="{d}" fill="none" stroke="{color}" stroke-opacity="0.5" '
                f'stroke-width="{max(w, 1):.2f}" stroke-dasharray="6 3"><title>{escape(label)}'
                " (flows back upstream)</title></path>"
            )
            continue
        mx = (sx + tx) / 2
        d = f"M{sx:.1f},{sy:.1f} C{mx:.1f},{sy:.1f} {mx:.1f},{ty:.1f} {tx:.1f},{ty:.1f}"
        band.append(
            f'<path d="{d}" fill="none" stroke="{color}" stroke-opacity="0.45" '
            f'stroke-width="{max(w, 0.5):.2f}"><title>{escape(label)}</title></path>'
        )
    parts.extend(band)
    for i in range(len(nodes)):
        c = int(nodes.column.iat[i])
        x, y, hh = col_x[c], y0[i], max(h[i], 1.0)
        country = nodes.country.iat[i]
        color = OTHER_COLOR if country == OTHER else colors.get(country, OTHER_COLOR)
        total = float(stage_total[nodes.stage.iat[i]])
        share = float(nodes.throughput.iat[i]) / total if total > 0 else 0.0
        text = (
            f"{_cell_name(nodes, i)} {100 * share:.0f} %"
            if share >= 0.005
            else _cell_name(nodes, i)
        )
        tip = (
            f"{_cell_name(nodes, i)} — {nodes.stage.iat[i]}: in {_fmt(float(nodes.inflow.iat[i]), unit)},"
            f" out {_fmt(float(nodes.outflow.iat[i]), unit)} ({100 * share:.1f} % of the stage)"
        )
        if country == OTHER:
            tip += "; countries: " + ", ".join(nodes.members.iat[i][:20])
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{node_w}" height="{hh:.2f}" fill="{color}" '
            f'stroke="#1f2933" stroke-width="0.5"><title>{escape(tip)}</title></rect>'
        )
        if hh >= 9:
            parts.append(
                f'<text x="{x + node_w + 4:.1f}" y="{y + hh / 2 + 4:.1f}" font-size="11" '
                f'fill="#1f2933">{escape(text)}</text>'
            )
    note = "Band width: flow" + (f" ({unit})" if unit else "") + "; colour: supplier country."
    if n_back:
        note += f" Dashed bands below: {n_back} flows back to the same or an earlier stage."
    parts.append(
        f'<text x="{left}" y="{height - 6}" font-size="11" fill="#5f6b7a">{escape(note)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _cell_name(nodes: pd.DataFrame, i: int) -> str:
    country = nodes.country.iat[i]
    if country == OTHER:
        return f"{len(nodes.members.iat[i])} others"
    return str(country)
