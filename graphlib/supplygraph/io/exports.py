"""Write supply graphs to exchange formats: GraphML, GEXF, node-link JSON, and the xlsx template.

The writers of networkx choke on ``None``, lists and dicts and on attributes whose type differs
between nodes. :func:`clean_for_export` returns a copy where ``None`` values are dropped,
lists/dicts become JSON text, numpy scalars become Python scalars, and an attribute whose values
mix numbers and text is written as text everywhere. Graph-level lists and dicts (``stages``,
``units``, ``provenance`` ...) are stored as JSON text and decoded again by
:func:`supplygraph.load`, so an exported file loads back to the same graph.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError
from supplygraph.io.safe_text import atomic_path, atomic_write

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["EXPORT_FORMATS", "clean_for_export", "export_graph"]

#: File suffix -> format description.
EXPORT_FORMATS: dict[str, str] = {
    ".graphml": "GraphML (yEd, Gephi, Cytoscape)",
    ".gexf": "GEXF (Gephi, Gephi Lite)",
    ".json": "node-link JSON (d3, web tools)",
    ".xlsx": "Excel workbook in the supplygraph template layout (Elements, Connections)",
}


def _scalar(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, list | tuple | dict | set):
        return json.dumps(list(value) if isinstance(value, set) else value, default=str)
    return value


def _clean_attrs(items: list[dict[str, Any]]) -> None:
    kinds: dict[str, set[type]] = {}
    for data in items:
        for key in list(data):
            value = _scalar(data[key])
            if value is None or (isinstance(value, float) and value != value):
                del data[key]
                continue
            data[key] = value
            kind = str if isinstance(value, str) else bool if isinstance(value, bool) else float
            kinds.setdefault(key, set()).add(kind)
    for key, seen in kinds.items():
        if len(seen) > 1:
            for data in items:
                if key in data:
                    data[key] = str(data[key])
        elif seen == {float}:
            for data in items:
                if key in data:
                    data[key] = float(data[key])


def clean_for_export(G: nx.DiGraph) -> nx.DiGraph:
    """Return a copy of ``G`` whose attributes every networkx writer accepts.

    Parameters
    ----------
    G
        A supply graph. It is not modified.

    Returns
    -------
    networkx.DiGraph
        A copy with scalar attributes only (see the module docstring).
    """
    H = G.copy()
    _clean_attrs([d for _, d in H.nodes(data=True)])
    _clean_attrs([d for _, _, d in H.edges(data=True)])
    for key in list(H.graph):
        value = _scalar(H.graph[key])
        if value is None:
            del H.graph[key]
        else:
            H.graph[key] = value
    return H


def export_graph(G: nx.DiGraph, path: str | Path) -> Path:
    """Write ``G`` to ``path`` in the format its suffix names, atomically.

    Parameters
    ----------
    G
        A supply graph. It is not modified.
    path
        Output file ending in ``.graphml``, ``.gexf``, ``.json`` or ``.xlsx``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputError
        For an unsupported suffix.

    Examples
    --------
    >>> import tempfile, pathlib, supplygraph as sg
    >>> out = export_graph(sg.load("rare-earths"), pathlib.Path(tempfile.mkdtemp()) / "g.gexf")
    >>> out.suffix
    '.gexf'
    """
    import networkx as nx

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from supplygraph.io.template import write_workbook

        return write_workbook(G, path)
    if suffix not in EXPORT_FORMATS:
        known = ", ".join(EXPORT_FORMATS)
        msg = f"cannot export to {suffix or 'a file without suffix'} (use {known})"
        raise InputError(msg, file=str(path))
    H = clean_for_export(G)
    if suffix == ".json":
        data = nx.node_link_data(H, edges="edges")
        atomic_write(path, json.dumps(data, indent=1, ensure_ascii=False))
        return path
    with atomic_path(path) as tmp:
        if suffix == ".graphml":
            nx.write_graphml(H, tmp)
        else:
            nx.write_gexf(H, tmp)
    return path
