"""Build supply graphs from tables, and turn graphs back into tables.

Two builders:

- :func:`graph_from_frames` -- from explicit node and edge tables (the general case: a supplier
  map, a firm network, an exported graph).
- :func:`graph_from_stage_shares` -- from a stage-shares table (stage, country, value or share)
  when no bilateral trade data exist. **Assumption (pooled world market):** each stage's
  countries supply the next stage in proportion to their share of that stage, as if all output
  were sold into one world market; explicit bilateral flows, when given, replace the pooled flow
  for their (supplier, customer) pair. The assumption is recorded in
  ``G.graph["provenance"]["assumptions"]`` so reports state it.

:func:`graph_to_frames` is the inverse of :func:`graph_from_frames`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError
from supplygraph.schema import EDGE_COLUMNS, NODE_COLUMNS, NUMERIC_EDGE_ATTRS, NUMERIC_NODE_ATTRS
from supplygraph.validate import check_frames, is_blank, raise_on_errors, to_number

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = [
    "POOLED_MARKET_ASSUMPTION",
    "graph_from_frames",
    "graph_from_stage_shares",
    "graph_to_frames",
    "infer_stage_order",
]

POOLED_MARKET_ASSUMPTION = (
    "Pooled world market: where no bilateral flow is given, each stage's countries supply the "
    "next stage in proportion to their share of that stage's output, so every customer receives "
    "the same country mix; explicit bilateral flows replace the pooled flow for their pair."
)

#: Location columns added by readers; never copied into graph attributes.
_LOCATION_PREFIX = "_"


def _clean(value: Any) -> Any:
    """Return a cell value fit for a graph attribute, or None when the cell is blank."""
    kind = type(value)
    if kind is str:
        return value.strip() or None
    if kind is float:
        return None if value != value else value  # NaN is blank
    if kind is int or value is None:
        return value
    if is_blank(value):
        return None
    if hasattr(value, "item"):
        return value.item()  # numpy scalar -> Python scalar
    return value


def infer_stage_order(
    node_stages: Mapping[Any, str], edges: Iterable[tuple[Any, Any]]
) -> tuple[list[str], bool]:
    """Infer the stage order from the edges: a topological order of the stage-to-stage graph.

    Parameters
    ----------
    node_stages
        Node -> stage.
    edges
        (supplier, customer) pairs.

    Returns
    -------
    stages : list of str
        Stages upstream first. Ties are broken by first appearance in ``node_stages``.
    acyclic : bool
        False when the stage graph has a cycle; the order then follows first appearance.

    Examples
    --------
    >>> infer_stage_order({"a": "mine", "b": "mill", "c": "mine"}, [("a", "b"), ("c", "b")])
    (['mine', 'mill'], True)
    """
    import networkx as nx

    appearance: dict[str, int] = {}
    for stage in node_stages.values():
        appearance.setdefault(stage, len(appearance))
    pairs = {(node_stages.get(u), node_stages.get(v)) for u, v in edges}
    H = nx.DiGraph()
    H.add_nodes_from(appearance)
    H.add_edges_from((su, sv) for su, sv in pairs if None not in (su, sv) and su != sv)
    try:
        order = list(nx.lexicographical_topological_sort(H, key=appearance.__getitem__))
    except nx.NetworkXUnfeasible:
        return sorted(appearance, key=appearance.__getitem__), False
    return order, True


def graph_from_frames(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    stages: list[str] | None = None,
    name: str | None = None,
    graph_attrs: Mapping[str, Any] | None = None,
    file: str | None = None,
    strict: bool = False,
    validated: bool = False,
    edge_rows: tuple[Any, Any] | None = None,
) -> nx.DiGraph:
    """Build a supply graph from a node table and an edge table.

    Parameters
    ----------
    nodes
        One row per node, columns named as the schema (:data:`supplygraph.schema.NODE_COLUMNS`):
        ``id`` and ``stage`` required; ``value``, ``country`` ... optional; extra columns become
        extra attributes. Columns whose names start with ``_`` (reader locations) are not copied.
    edges
        One row per flow: ``source``, ``target`` (node ids) and ``flow`` (quantity per year,
        >= 0) required; extra columns become edge attributes. Duplicate pairs are summed (with
        a warning).
    stages
        Stage order, upstream first. When None it is inferred from the edges (topological order
        of the stage-to-stage graph) and ``G.graph["stage_order_inferred"]`` is True.
    name
        Dataset name stored in ``G.graph["name"]``.
    graph_attrs
        Extra graph attributes (``units``, ``provenance``, ``reserves``, ``sources`` ...).
    file
        The input's name, used in problem messages when the tables carry no location columns.
    strict
        Treat warnings as errors.
    validated
        True when the tables were already checked (by
        :func:`supplygraph.validate_tables.validate_tables`, which reads spreadsheets); the
        checks of :func:`supplygraph.validate.check_frames` are then not run again, and the
        graph's nodes and edges are built on first use (:func:`supplygraph.tracked.deferred_graph`;
        analyses compile straight from the tables meanwhile).
    edge_rows
        With ``validated``: the node-table row of each edge's supplier and customer, when
        validation found them (:attr:`supplygraph.io.frames.Tables.edge_rows`).

    Returns
    -------
    supplygraph.TrackedDiGraph
        A graph following :mod:`supplygraph.schema` (a ``networkx.DiGraph`` that counts its
        edits, see :mod:`supplygraph.tracked`). Table warnings are kept in
        ``G.graph["warnings"]`` (list of str).

    Raises
    ------
    ValidationError
        Listing every problem when any is an error.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"id": ["m", "r"], "stage": ["mining", "refining"],
    ...                       "country": ["CHN", "MYS"], "value": [10, 8]})
    >>> edges = pd.DataFrame({"source": ["m"], "target": ["r"], "flow": [8]})
    >>> G = graph_from_frames(nodes, edges)
    >>> G.graph["stages"], G.edges["m", "r"]["flow"]
    (['mining', 'refining'], 8.0)
    """

    from supplygraph.tracked import TrackedDiGraph, deferred_graph

    problems = [] if validated else check_frames(nodes, edges, stages=stages, file=file)
    warnings = raise_on_errors(problems, strict=strict)

    if validated:
        # built on first use: commands that only run the compiled arrays never build it
        ends = edge_rows if edge_rows is not None else _edge_rows(nodes, edges)
        G = deferred_graph(nodes, edges, lambda H: _fill_graph(H, nodes, edges), ends=ends)
    else:
        G = TrackedDiGraph()
        _fill_graph(G, nodes, edges)

    graph_attrs = dict(graph_attrs or {})
    if stages is None:
        if validated:
            node_stages, stage_edges = _stage_links(nodes, *ends)
        else:
            node_stages = {n: d["stage"] for n, d in G.nodes(data=True)}
            stage_edges = list(G.edges())
        stages, acyclic = infer_stage_order(node_stages, stage_edges)
        G.graph["stage_order_inferred"] = True
        if not acyclic:
            warnings.append(_warning("the stage graph has a cycle; stages kept in table order"))
    else:
        G.graph["stage_order_inferred"] = False
    G.graph["stages"] = list(stages)
    G.graph["name"] = name or graph_attrs.pop("name", None) or "supply graph"
    G.graph.update(graph_attrs)
    G.graph.setdefault("provenance", {})
    G.graph["warnings"] = [str(p) for p in warnings]
    return G


def _fill_graph(G: nx.DiGraph, nodes: pd.DataFrame, edges: pd.DataFrame) -> None:
    """Add the rows of a node and an edge table to ``G`` (duplicate pairs: flows added)."""
    node_ids, node_attrs = _attribute_rows(nodes, "id", NUMERIC_NODE_ATTRS)
    for node_id, attrs in zip(node_ids, node_attrs, strict=True):
        attrs.setdefault("label", node_id)
    G.add_nodes_from(zip(node_ids, node_attrs, strict=True))

    sources, edge_attrs = _attribute_rows(edges, "source", NUMERIC_EDGE_ATTRS)
    targets = [str(v).strip() for v in edges["target"].tolist()]
    for attrs in edge_attrs:
        attrs.pop("target", None)
    if len(set(zip(sources, targets, strict=True))) == len(sources):
        G.add_edges_from(zip(sources, targets, edge_attrs, strict=True))
    else:  # duplicate pairs: their flows are added together (check_frames warned)
        for u, v, attrs in zip(sources, targets, edge_attrs, strict=True):
            if G.has_edge(u, v):
                data = G.edges[u, v]
                data["flow"] = data.get("flow", 0.0) + attrs.pop("flow", 0.0)
                for key, value in attrs.items():
                    data.setdefault(key, value)
            else:
                G.add_edge(u, v, **attrs)


def _edge_rows(nodes: pd.DataFrame, edges: pd.DataFrame) -> tuple[Any, Any]:
    """The node-table row of each edge's supplier and customer (-1 when not a node id).

    Ids and endpoints are compared as written (validated tables hold trimmed text).
    """
    from supplygraph.columns import positions

    return positions(edges["source"], nodes["id"]), positions(edges["target"], nodes["id"])


def _stage_links(
    nodes: pd.DataFrame, s_rows: Any, t_rows: Any
) -> tuple[dict[int, str], list[tuple[int, int]]]:
    """What :func:`infer_stage_order` needs from validated tables, without a graph.

    One representative per stage (its first node, in table order) and one edge per linked
    pair of stages: the same stage graph as the graph's nodes and edges give.
    """
    import numpy as np
    import pandas as pd

    stage = nodes["stage"]
    codes, uniques = pd.factorize(stage.where(stage.notna()), use_na_sentinel=False)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    k = max(len(uniques), 1)
    linked = codes[s_rows].astype(np.int64) * k + codes[t_rows]
    pairs = np.flatnonzero(np.bincount(linked, minlength=k * k)) if k <= 2048 else np.unique(linked)
    reps = {int(first[c]): uniques[c] for c in np.argsort(first).tolist()}
    return reps, [(int(first[a]), int(first[b])) for a, b in zip(*divmod(pairs, k), strict=True)]


def _attribute_rows(
    df: pd.DataFrame, key: str, numeric: tuple[str, ...]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Return a table's key column (stripped text) and one attribute dict per row.

    Works column by column (a Python loop per cell costs too much on 10^5-row tables): blanks
    are left out, numeric schema columns parsed as numbers, ``year`` as int where whole.
    Location columns (``_file``, ``_row`` ...) are not copied.
    """
    keys = [str(v).strip() for v in df[key].tolist()]
    rows: list[dict[str, Any]] = [{} for _ in keys]
    for col in df.columns:
        name = str(col)
        if name == key or name.startswith(_LOCATION_PREFIX):
            continue
        column = df[col]
        if name in numeric and column.dtype.kind in "fiu":
            values = [None if x != x else float(x) for x in column.tolist()]
        elif name in numeric:
            values = [to_number(v) if not is_blank(v) else None for v in column.tolist()]
        elif name == "year":
            values = [_year(_clean(v)) if not is_blank(v) else None for v in column.tolist()]
        else:
            values = [_clean(v) for v in column.tolist()]
        for row, value in zip(rows, values, strict=True):
            if value is not None:
                row[name] = value
    return keys, rows


def _year(value: Any) -> Any:
    """Return a whole-number year as int (``"2024"``, ``2024.0`` -> 2024); other text as is."""
    number = to_number(value)
    if number is not None and float(number).is_integer():
        return int(number)
    return value


def _warning(message: str) -> Any:
    from supplygraph.errors import Problem

    return Problem(message=message, severity="warning")


def _default_node_id(country: str, stage: str, end_use: str | None) -> str:
    return f"{country}:{end_use}" if end_use else f"{country}:{stage}"


def graph_from_stage_shares(
    shares: pd.DataFrame,
    flows: pd.DataFrame | None = None,
    *,
    stages: list[str] | None = None,
    name: str | None = None,
    graph_attrs: Mapping[str, Any] | None = None,
    file: str | None = None,
    strict: bool = False,
) -> nx.DiGraph:
    """Build a supply graph from stage shares, assuming a pooled world market between stages.

    Each row of ``shares`` becomes a node. For a node ``v`` that draws from upstream stage ``s``
    (its ``inputs_from`` column, by default the previous stage in ``stages``)::

        intake(v)   = total_output(s) * intake_share(v)
        flow(u, v)  = value(u) / total_output(s) * intake(v)      for every u in stage s

    where ``intake_share(v)`` defaults to ``value(v)`` divided by the summed value of all nodes
    drawing from ``s`` (nodes with an explicit ``intake_share`` take theirs first; the rest share
    what is left in proportion to value). Flows are in the upstream stage's unit. Every row of
    ``flows`` then *replaces* the pooled flow of its (source, target) pair; a flow of 0 removes
    the pair. See :data:`POOLED_MARKET_ASSUMPTION`.

    Parameters
    ----------
    shares
        Columns ``stage``, ``country`` and ``value`` (or ``share``); optional ``id`` (default
        ``"<country>:<stage>"``, or ``"<country>:<end_use>"`` when ``end_use`` is set), ``label``,
        ``end_use``, ``inputs_from``, ``intake_share``, ``unit``, provenance and extra columns.
    flows
        Optional bilateral flows: ``source``, ``target`` (node ids), ``flow`` and edge attributes.
    stages
        Stage order, upstream first; inferred from the order of first appearance when None.
    name, graph_attrs, file, strict
        As in :func:`graph_from_frames`.

    Returns
    -------
    networkx.DiGraph
        Pooled edges carry ``basis="pooled"``, bilateral ones ``basis="bilateral"``.

    Examples
    --------
    A three-stage toy chain (hand-computed: mining A 60 %, B 40 % feed refiners that take 90 and
    10 of the 100 t mined):

    >>> import pandas as pd
    >>> shares = pd.DataFrame({
    ...     "stage": ["mining", "mining", "refining", "refining"],
    ...     "country": ["AAA", "BBB", "AAA", "CCC"], "value": [60, 40, 90, 10]})
    >>> G = graph_from_stage_shares(shares)
    >>> G.edges["BBB:mining", "AAA:refining"]["flow"]
    36.0
    """
    import pandas as pd

    shares = shares.copy()
    where = file or "stage shares"
    for required in ("stage", "country"):
        if required not in shares.columns:
            msg = f"stage-shares table has no '{required}' column"
            raise InputError(msg, file=where)
    if "value" not in shares.columns:
        if "share" not in shares.columns:
            msg = "stage-shares table needs a 'value' or a 'share' column"
            raise InputError(msg, file=where)
        shares["value"] = shares["share"]
    if "id" not in shares.columns:
        shares["id"] = None
    end_uses = shares["end_use"] if "end_use" in shares.columns else [None] * len(shares)
    shares["id"] = [
        str(i).strip()
        if not is_blank(i)
        else _default_node_id(str(c).strip(), str(s).strip(), None if is_blank(e) else str(e))
        for i, c, s, e in zip(
            shares["id"], shares["country"], shares["stage"], end_uses, strict=True
        )
    ]

    empty_edges = pd.DataFrame(columns=["source", "target", "flow"])
    problems = check_frames(shares, empty_edges, stages=stages, file=file)
    if stages is None:
        stages = list(dict.fromkeys(str(s).strip() for s in shares["stage"] if not is_blank(s)))
    problems += _check_pooling_columns(shares, stages, file)
    raise_on_errors(problems, strict=strict)

    values = {
        str(i): (to_number(v) or 0.0) for i, v in zip(shares["id"], shares["value"], strict=True)
    }
    stage_of = {str(i): str(s).strip() for i, s in zip(shares["id"], shares["stage"], strict=True)}
    totals: dict[str, float] = {}
    for node, stage in stage_of.items():
        totals[stage] = totals.get(stage, 0.0) + values[node]

    upstream: dict[str, str | None] = {}
    explicit_intake: dict[str, float] = {}
    for _, row in shares.iterrows():
        node = str(row["id"])
        src = row.get("inputs_from")
        if is_blank(src):
            pos = stages.index(stage_of[node])
            src = stages[pos - 1] if pos > 0 else None
        upstream[node] = None if src is None else str(src).strip()
        share = to_number(row.get("intake_share"))
        if share is not None:
            explicit_intake[node] = share

    unit_of = {}
    if "unit" in shares.columns:
        unit_of = {str(i): _clean(u) for i, u in zip(shares["id"], shares["unit"], strict=True)}

    pooled: dict[tuple[str, str], float] = {}
    for stage in stages:
        drawers = [n for n, s in upstream.items() if s == stage]
        if not drawers or totals.get(stage, 0.0) <= 0:
            continue
        fixed = sum(explicit_intake.get(n, 0.0) for n in drawers if n in explicit_intake)
        rest = [n for n in drawers if n not in explicit_intake]
        rest_value = sum(values[n] for n in rest)
        intake = {}
        for n in drawers:
            if n in explicit_intake:
                frac = explicit_intake[n]
            elif rest_value > 0:
                frac = max(0.0, 1.0 - fixed) * values[n] / rest_value
            else:
                frac = 0.0
            intake[n] = totals[stage] * frac
        suppliers = [n for n, s in stage_of.items() if s == stage and values[n] > 0]
        for v in drawers:
            for u in suppliers:
                flow = values[u] / totals[stage] * intake[v]
                if flow > 0:
                    pooled[(u, v)] = flow

    edge_rows: dict[tuple[str, str], dict[str, Any]] = {
        (u, v): {"source": u, "target": v, "flow": f, "basis": "pooled", "unit": unit_of.get(u)}
        for (u, v), f in pooled.items()
    }
    extra_problems = []
    if flows is not None and len(flows):
        flows = flows.copy()
        missing = [c for c in ("source", "target", "flow") if c not in flows.columns]
        if missing:
            msg = f"flows table has no '{missing[0]}' column"
            raise InputError(msg, file=where)
        extra_problems = check_frames(shares, flows, stages=stages, file=file)
        raise_on_errors(extra_problems, strict=strict)
        for row in flows.to_dict("records"):
            u, v = str(row["source"]).strip(), str(row["target"]).strip()
            flow = to_number(row["flow"]) or 0.0
            if flow <= 0:
                edge_rows.pop((u, v), None)
                continue
            record = {k: v_ for k, v_ in row.items() if not str(k).startswith(_LOCATION_PREFIX)}
            record.update(source=u, target=v, flow=flow, basis="bilateral")
            edge_rows[(u, v)] = record

    edges = pd.DataFrame(list(edge_rows.values()))
    if edges.empty:
        edges = empty_edges
    node_table = shares.drop(
        columns=[c for c in ("share", "inputs_from", "intake_share") if c in shares.columns]
    )
    attrs = dict(graph_attrs or {})
    provenance = dict(attrs.pop("provenance", {}) or {})
    assumptions = list(provenance.get("assumptions", []))
    if POOLED_MARKET_ASSUMPTION not in assumptions:
        assumptions.insert(0, POOLED_MARKET_ASSUMPTION)
    provenance["assumptions"] = assumptions
    attrs["provenance"] = provenance
    G = graph_from_frames(
        node_table, edges, stages=stages, name=name, graph_attrs=attrs, file=file, strict=strict
    )
    G.graph["stage_order_inferred"] = False
    G.graph["warnings"] = [
        *G.graph.get("warnings", []),
        *(str(p) for p in extra_problems if p.severity == "warning"),
    ]
    return G


def _check_pooling_columns(shares: pd.DataFrame, stages: list[str], file: str | None) -> list[Any]:
    from supplygraph.validate import _Locator

    loc = _Locator(shares, file, None)
    problems = []
    if "inputs_from" in shares.columns:
        for idx, value in shares["inputs_from"].items():
            if not is_blank(value) and str(value).strip() not in stages:
                problems.append(
                    loc.problem(idx, "inputs_from", "not a stage of this table", value=value)
                )
    if "intake_share" in shares.columns:
        for idx, value in shares["intake_share"].items():
            if is_blank(value):
                continue
            number = to_number(value)
            if number is None or not 0 <= number <= 1:
                problems.append(
                    loc.problem(idx, "intake_share", "must be a fraction in [0, 1]", value=value)
                )
    return problems


def graph_to_frames(G: nx.DiGraph) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the node and edge tables of a supply graph (the inverse of graph_from_frames).

    Parameters
    ----------
    G
        A supply graph.

    Returns
    -------
    nodes : pandas.DataFrame
        One row per node: ``id`` then the schema's node columns that occur, then any extra
        attributes (sorted by name).
    edges : pandas.DataFrame
        One row per edge: ``source``, ``target``, then schema edge columns, then extras.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["a", "b"])
    >>> G.add_node("x", stage="a", value=2.0); G.add_node("y", stage="b")
    >>> G.add_edge("x", "y", flow=2.0)
    >>> nodes, edges = graph_to_frames(G)
    >>> list(nodes.columns), edges["flow"].tolist()
    (['id', 'stage', 'value'], [2.0])
    """
    import pandas as pd

    node_rows = [{"id": n, **d} for n, d in G.nodes(data=True)]
    edge_rows = [{"source": u, "target": v, **d} for u, v, d in G.edges(data=True)]
    nodes = pd.DataFrame(node_rows)
    edges = pd.DataFrame(edge_rows)
    if nodes.empty:
        nodes = pd.DataFrame(columns=["id", "stage"])
    if edges.empty:
        edges = pd.DataFrame(columns=["source", "target", "flow"])
    nodes = nodes[_ordered(nodes.columns, NODE_COLUMNS)]
    edges = edges[_ordered(edges.columns, EDGE_COLUMNS)]
    for col in ("value", "external_input"):
        if col in nodes.columns:
            nodes[col] = pd.to_numeric(nodes[col])
    return nodes, edges


def _ordered(columns: Iterable[Any], known: list[str]) -> list[Any]:
    cols = list(columns)
    head = [c for c in known if c in cols]
    return head + sorted((c for c in cols if c not in head), key=str)
