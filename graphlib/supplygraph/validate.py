"""Checks on node/edge tables and on built graphs; every problem is reported at once.

Two entry points:

- :func:`check_frames` looks at node and edge tables before a graph is built and returns every
  problem it finds as :class:`~supplygraph.errors.Problem` records with their file, sheet, row
  and column (tables read by :mod:`supplygraph.io.tables` carry ``_file``/``_sheet``/``_row``
  columns; plain DataFrames get the row a CSV would show: index + 2).
- :func:`validate_graph` looks at a built graph and returns structural warnings: cycles and
  self-loops (legal, reported), edges that run backwards across stages, nodes with no inputs
  outside the first stage, stages with no nodes. It never raises and never crashes on a legal
  graph.

:func:`raise_on_errors` turns a problem list into a :class:`~supplygraph.errors.ValidationError`
when it holds errors (or warnings, with ``strict=True``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from supplygraph.errors import Problem, ValidationError
from supplygraph.schema import (
    ALLOWED_VALUES,
    LOWER_BOUNDS,
    NUMERIC_EDGE_ATTRS,
    NUMERIC_NODE_ATTRS,
    REQUIRED_WITH,
    UPPER_BOUNDS,
    misplaced_ranges,
)

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["check_frames", "is_blank", "raise_on_errors", "to_number", "validate_graph"]


def is_blank(value: Any) -> bool:
    """Return True for None, NaN and empty/whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def to_number(value: Any) -> float | None:
    """Parse a table cell as a number; return None when it is not one.

    Accepts ints, floats, and text such as ``"1,234.5"`` or ``" 42 "``. Booleans are not numbers.

    Examples
    --------
    >>> to_number("1,234.5")
    1234.5
    >>> to_number("abc") is None
    True
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
    if math.isnan(number) or math.isinf(number):
        return None
    return number


class _Locator:
    """Finds the file/sheet/row/column of a table cell for problem messages."""

    def __init__(self, df: pd.DataFrame, file: str | None, sheet: str | None) -> None:
        self.df = df
        self.file = file
        self.sheet = sheet
        self.headers: dict[str, str] = dict(df.attrs.get("columns", {}))

    def problem(
        self,
        index: Any,
        column: str | None,
        message: str,
        severity: str = "error",
        value: Any = None,
    ) -> Problem:
        row: int | None
        file, sheet = self.file, self.sheet
        if "_row" in self.df.columns and index is not None:
            row = int(self.df.at[index, "_row"])
            file = self.df.at[index, "_file"] if "_file" in self.df.columns else file
            sheet = self.df.at[index, "_sheet"] if "_sheet" in self.df.columns else sheet
        elif index is not None:
            position = self.df.index.get_loc(index)
            row = int(position) + 2  # header is row 1
        else:
            row = None
        header = self.headers.get(column, column) if column else None
        shown = None if value is None or is_blank(value) else str(value)
        return Problem(
            message=message,
            severity=severity,  # type: ignore[arg-type]
            file=None if is_blank(file) else str(file),
            sheet=None if is_blank(sheet) else str(sheet),
            row=row,
            column=header,
            value=shown,
        )


def _key(value: Any) -> str:
    return str(value).strip().casefold()


def check_frames(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    stages: Iterable[str] | None = None,
    file: str | None = None,
    nodes_sheet: str | None = None,
    edges_sheet: str | None = None,
) -> list[Problem]:
    """Check node and edge tables and return every problem found.

    Parameters
    ----------
    nodes
        Node table with at least ``id`` and ``stage`` columns (schema names).
    edges
        Edge table with at least ``source``, ``target`` and ``flow`` columns.
    stages
        The allowed stages in order, when known; a node whose stage is not listed is an error,
        and an edge from a later to an earlier stage is a warning.
    file, nodes_sheet, edges_sheet
        Location used in messages when the tables carry no ``_file``/``_sheet`` columns.

    Returns
    -------
    list of Problem
        Errors (the graph cannot be built as given) and warnings, in table order.
    """
    problems: list[Problem] = []
    nloc = _Locator(nodes, file, nodes_sheet)
    eloc = _Locator(edges, file, edges_sheet)
    for required in ("id", "stage"):
        if required not in nodes.columns:
            problems.append(nloc.problem(None, None, f"node table has no '{required}' column"))
    for required in ("source", "target", "flow"):
        if required not in edges.columns:
            problems.append(eloc.problem(None, None, f"edge table has no '{required}' column"))
    if problems:
        return problems
    for loc, frame, table in ((nloc, nodes, "nodes"), (eloc, edges, "edges")):
        for col, text in misplaced_ranges(table, [str(c) for c in frame.columns]):
            problems.append(loc.problem(None, col, text))

    # plain lists, not iterrows: a Series per row (and pandas' deep copy of frame.attrs for
    # each) costs a thousand times more than the checks themselves on big tables
    stage_list = list(stages) if stages is not None else None
    stage_rank = {s: i for i, s in enumerate(stage_list or [])}
    seen: dict[str, Any] = {}
    node_stage: dict[str, str] = {}
    node_index = list(nodes.index)
    numeric_nodes = [(c, nodes[c].tolist()) for c in NUMERIC_NODE_ATTRS if c in nodes.columns]
    for pos, (node_id, stage) in enumerate(
        zip(nodes["id"].tolist(), nodes["stage"].tolist(), strict=True)
    ):
        idx = node_index[pos]
        if is_blank(node_id):
            problems.append(nloc.problem(idx, "id", "empty node id"))
            continue
        key = _key(node_id)
        if key in seen:
            first = nloc.problem(seen[key], "id", "")
            problems.append(
                nloc.problem(
                    idx, "id", f"duplicate node id (first used in row {first.row})", value=node_id
                )
            )
        else:
            seen[key] = idx
        if is_blank(stage):
            problems.append(nloc.problem(idx, "stage", "empty stage"))
        elif stage_list is not None and str(stage).strip() not in stage_rank:
            problems.append(
                nloc.problem(
                    idx,
                    "stage",
                    f"stage not in the stage list ({', '.join(stage_list)})",
                    value=stage,
                )
            )
        else:
            node_stage[str(node_id).strip()] = str(stage).strip()
        for col, values in numeric_nodes:
            problems.extend(_check_number(nloc, idx, col, values[pos]))
        problems.extend(_check_bounds(nloc, idx, "nodes", nodes, pos))

    node_ids = {str(k).strip() for k in nodes["id"].tolist() if not is_blank(k)}
    pairs: dict[tuple[str, str], Any] = {}
    edge_index = list(edges.index)
    sources, targets, flows = (edges[c].tolist() for c in ("source", "target", "flow"))
    numeric_edges = [(c, edges[c].tolist()) for c in NUMERIC_EDGE_ATTRS if c in edges.columns]
    for pos in range(len(edge_index)):
        idx = edge_index[pos]
        ends = []
        for col, value in (("source", sources[pos]), ("target", targets[pos])):
            if is_blank(value):
                problems.append(eloc.problem(idx, col, f"empty {col} node"))
            elif str(value).strip() not in node_ids:
                problems.append(
                    eloc.problem(
                        idx, col, "connection names a node that is not defined", value=value
                    )
                )
            else:
                ends.append(str(value).strip())
        if is_blank(flows[pos]):
            problems.append(eloc.problem(idx, "flow", "empty flow"))
        for col, values in numeric_edges:
            if not (col == "flow" and is_blank(values[pos])):
                problems.extend(_check_number(eloc, idx, col, values[pos]))
        problems.extend(_check_bounds(eloc, idx, "edges", edges, pos))
        if len(ends) == 2:
            pair = (ends[0], ends[1])
            if pair in pairs:
                first = eloc.problem(pairs[pair], None, "")
                problems.append(
                    eloc.problem(
                        idx,
                        None,
                        f"duplicate connection {pair[0]} -> {pair[1]} (also in row "
                        f"{first.row}); their flows are added together",
                        severity="warning",
                    )
                )
            else:
                pairs[pair] = idx
            if pair[0] == pair[1]:
                problems.append(
                    eloc.problem(
                        idx, None, f"self-loop on {pair[0]} (legal: recycling)", severity="warning"
                    )
                )
            elif stage_rank:
                su, sv = node_stage.get(pair[0]), node_stage.get(pair[1])
                if su in stage_rank and sv in stage_rank and stage_rank[su] > stage_rank[sv]:
                    problems.append(
                        eloc.problem(
                            idx,
                            None,
                            f"connection runs backwards across stages ({su} -> {sv})",
                            severity="warning",
                        )
                    )
    return problems


def _check_number(loc: _Locator, idx: Any, col: str, value: Any) -> list[Problem]:
    if is_blank(value):
        return []
    number = to_number(value)
    if number is None:
        return [loc.problem(idx, col, "not a number", value=value)]
    if number < 0:
        return [loc.problem(idx, col, "negative number", value=value)]
    return []


def _check_bounds(
    loc: _Locator, idx: Any, table: str, frame: pd.DataFrame, pos: int
) -> list[Problem]:
    """The :data:`~supplygraph.schema.LOWER_BOUNDS` rules of one row (both cells numbers)."""
    out = []
    bounds, required, allowed_values = _row_rules(table, tuple(map(str, frame.columns)))
    for (_, col, ref, message), sign in bounds:
        value = to_number(frame[col].iat[pos])
        bound = to_number(frame[ref].iat[pos]) if isinstance(ref, str) else float(ref)
        if value is not None and bound is not None and value >= 0 and sign * value < sign * bound:
            why = f"{message}: {ref} is {bound:g}" if isinstance(ref, str) else message
            out.append(loc.problem(idx, col, why, value=frame[col].iat[pos]))
    for col, present, message in required:
        cell = frame[col].iat[pos] if col in frame.columns else None
        if is_blank(cell) and any(not is_blank(frame[d].iat[pos]) for d in present):
            out.append(loc.problem(idx, col, message))
    for col, allowed, what in allowed_values:
        cell = frame[col].iat[pos]
        if not is_blank(cell) and str(cell).strip().lower() not in allowed:
            text = f"unknown {what} (use one of: {', '.join(allowed)})"
            out.append(loc.problem(idx, col, text, value=cell))
    return out


@functools.lru_cache(maxsize=64)
def _row_rules(table: str, columns: tuple[str, ...]) -> tuple[list[Any], list[Any], list[Any]]:
    """The schema's cell rules that apply to a table with these columns (computed once):
    bounds as ``(rule, sign)``, required cells as ``(column, present dependents, message)``,
    vocabularies as ``(column, allowed, what)``."""
    have = set(columns)
    rules = [(r, 1.0) for r in LOWER_BOUNDS] + [(r, -1.0) for r in UPPER_BOUNDS]
    bounds = [
        (r, sign)
        for r, sign in rules
        if r[0] == table and r[1] in have and (not isinstance(r[2], str) or r[2] in have)
    ]
    required = [
        (col, [d for d in deps if d in have], message)
        for kind, col, deps, message in REQUIRED_WITH
        if kind == table and any(d in have for d in deps)
    ]
    allowed_values = [
        (col, allowed, what)
        for kind, col, allowed, what in ALLOWED_VALUES
        if kind == table and col in have
    ]
    return bounds, required, allowed_values


def validate_graph(G: nx.DiGraph) -> list[Problem]:
    """Return structural warnings about a built supply graph.

    Cycles and self-loops are legal (recycling, intra-stage trade) and reported as warnings.

    Parameters
    ----------
    G
        A supply graph (see :mod:`supplygraph.schema`).

    Returns
    -------
    list of Problem
        Warnings only (a graph that exists is usable); empty when all is well.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["a", "b"])
    >>> G.add_node("x", stage="a"); G.add_node("y", stage="b")
    >>> G.add_edge("y", "x", flow=1.0)
    >>> for p in validate_graph(G):
    ...     print(p.message)
    edge y -> x runs backwards across stages (b -> a)
    node y (b) has no inputs in the graph; it is treated as a source
    """
    import networkx as nx

    warnings: list[Problem] = []

    def warn(message: str) -> None:
        warnings.append(Problem(message=message, severity="warning"))

    stages = list(G.graph.get("stages", []))
    rank = {s: i for i, s in enumerate(stages)}
    for node, data in G.nodes(data=True):
        stage = data.get("stage")
        if stage is None:
            warn(f"node {node} has no stage")
        elif rank and stage not in rank:
            warn(f"node {node} has stage {stage!r}, which is not in the stage list")
    loops = list(nx.selfloop_edges(G))
    if loops:
        shown = ", ".join(str(u) for u, _ in loops[:3])
        warn(f"{len(loops)} self-loop(s) (legal: recycling), e.g. on {shown}")
    without_loops = nx.DiGraph(G.edges())
    without_loops.remove_edges_from(loops)
    try:
        cycle = nx.find_cycle(without_loops)
        if cycle:
            path = " -> ".join([str(cycle[0][0]), *(str(v) for _, v in cycle)])
            warn(f"the graph has cycles (legal: feedback, recycling), e.g. {path}")
    except nx.NetworkXNoCycle:
        pass
    for u, v in G.edges():
        su, sv = G.nodes[u].get("stage"), G.nodes[v].get("stage")
        if su in rank and sv in rank and rank[su] > rank[sv]:
            warn(f"edge {u} -> {v} runs backwards across stages ({su} -> {sv})")
    if stages:
        first = stages[0]
        for node, data in G.nodes(data=True):
            has_inputs = any(u != node for u in G.predecessors(node))
            if not has_inputs and data.get("stage") not in (None, first):
                ext = data.get("external_input")
                if not ext:
                    warn(
                        f"node {node} ({data.get('stage')}) has no inputs in the graph; "
                        "it is treated as a source"
                    )
        used = {d.get("stage") for _, d in G.nodes(data=True)}
        for stage in stages:
            if stage not in used:
                warn(f"stage {stage!r} has no nodes")
    for node in nx.isolates(G):
        warn(f"node {node} has no connections")
    return warnings


def raise_on_errors(problems: list[Problem], *, strict: bool = False) -> list[Problem]:
    """Raise :class:`ValidationError` when ``problems`` hold an error; return the warnings.

    Parameters
    ----------
    problems
        Problems from :func:`check_frames` or :func:`validate_graph`.
    strict
        When True, warnings count as errors.

    Returns
    -------
    list of Problem
        The warnings, when nothing was raised.
    """
    if strict:
        problems = [
            Problem(**{**p.as_dict(), "severity": "error"}) if p.severity == "warning" else p
            for p in problems
        ]
    if any(p.severity == "error" for p in problems):
        raise ValidationError(problems)
    return [p for p in problems if p.severity == "warning"]
