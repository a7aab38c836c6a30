"""Validation of tables read by :func:`supplygraph.io.tables.read_tables`, reporting every problem.

:func:`validate_tables` looks at the node, edge and stage-shares tables as a whole and adds to
the cell-level problems the reader already found (unreadable numbers, Excel error cells,
formulas without a cached value, unknown or ambiguous countries, values without a header,
merged cells). Each problem names file, sheet, row (1-based, as a spreadsheet shows it) and
column (the header as written), with the offending value.

Errors (the graph cannot be built as given):

- missing required columns (nodes: ID or Label, Stage; edges: From/To, Flow; stage shares:
  Stage, Country, Share or Value);
- empty required cells: node id (and label), stage, edge endpoints, flow, share/value;
- duplicate node ids after trimming and case-folding (``"CN:mine"`` and ``"cn:mine "``);
- a connection naming a node that is not defined (with "did you mean" hints);
- negative numbers (value, flow, external input, inventory/recovery/lead days, shares);
- a stage that is not in the stage list (a case-only difference is rewritten to the list's
  spelling, with a note);
- a stage-shares stage mixing Share and Value rows; a (stage, country) pair listed twice.

Warnings (usable, but check; errors under ``strict=True``):

- connections running backwards across stages (needs a stage list);
- self-loops (legal: recycling) and duplicate connections (their flows are added together by
  the builder);
- shares of a stage summing to more than 2 percentage points away from 100 %.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.columns import positions
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
    import numpy as np
    import pandas as pd

    from supplygraph.io.frames import Tables

__all__ = ["SHARE_SUM_TOLERANCE", "validate_tables"]

#: How far (as a fraction) a stage's shares may sum from 1 before a warning.
SHARE_SUM_TOLERANCE = 0.02

#: Private switch: False checks the node and edge tables row by row only (the reference path
#: the column-wise checks are tested against).
_FAST = True


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


class _Checker:
    def __init__(self, frame: pd.DataFrame, problems: list[Problem]) -> None:
        self.frame = frame
        self.problems = problems
        self.headers: dict[str, str] = dict(frame.attrs.get("columns", {}))
        self.bad: set[tuple[int, str]] = set(frame.attrs.get("bad_cells", set()))

    # the location columns as lists, read when a problem needs them
    @cached_property
    def files(self) -> list[Any]:
        frame = self.frame
        return frame["_file"].tolist() if "_file" in frame.columns else [None] * len(frame)

    @cached_property
    def sheets(self) -> list[Any]:
        frame = self.frame
        return frame["_sheet"].tolist() if "_sheet" in frame.columns else [None] * len(frame)

    @cached_property
    def rows(self) -> list[int]:
        frame = self.frame
        if "_row" in frame.columns and frame["_row"].dtype == "int64":
            return frame["_row"].tolist()
        if "_row" in frame.columns:
            return [int(r) for r in frame["_row"].tolist()]
        return [i + 2 for i in range(len(frame))]

    def header(self, col: str | None) -> str | None:
        if col is None:
            return None
        return self.headers.get(col, col)

    def add(
        self,
        i: int | None,
        col: str | None,
        message: str,
        *,
        value: Any = None,
        severity: str = "error",
    ) -> None:
        file = sheet = None
        row = None
        if i is not None:
            file, sheet, row = self.files[i], self.sheets[i], self.rows[i]
        elif len(self.frame):
            file, sheet = self._first("_file"), self._first("_sheet")
        self.problems.append(
            Problem(
                message=message,
                severity=severity,  # type: ignore[arg-type]
                file=None if _blank(file) else str(file),
                sheet=None if _blank(sheet) else str(sheet),
                row=row,
                column=self.header(col),
                value=None if _blank(value) else str(value),
            )
        )

    def _first(self, col: str) -> Any:
        return self.frame[col].iat[0] if col in self.frame.columns else None

    def is_bad(self, i: int, col: str) -> bool:
        return bool(self.bad) and (self.rows[i], col) in self.bad

    def column(self, col: str) -> list[Any]:
        if col in self.frame.columns:
            return self.frame[col].tolist()
        return [None] * len(self.frame)


def _suggest(value: str, candidates: Iterable[str]) -> str:
    """Return a " (did you mean 'x'?)" hint for the closest candidate, compared ignoring case."""
    lowered: dict[str, str] = {}
    for c in candidates:
        lowered.setdefault(c.casefold(), c)
    close = difflib.get_close_matches(value.casefold(), list(lowered), n=1, cutoff=0.7)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


def _check_stage_column(
    chk: _Checker, col: str, stages: list[str] | None, notes: list[str], what: str
) -> list[Any]:
    """Check a stage column; rewrite case-only differences to the list spelling."""
    values = chk.column(col)
    if stages is None:
        return values
    exact = set(stages)
    folded = {s.casefold(): s for s in stages}
    rewritten: dict[str, str] = {}
    out = []
    for i, v in enumerate(values):
        if (v.__class__ is str and v in exact) or _blank(v) or v in exact:
            out.append(v)
            continue
        s = str(v).strip()
        if s.casefold() in folded:
            rewritten[s] = folded[s.casefold()]
            out.append(folded[s.casefold()])
            continue
        chk.add(
            i,
            col,
            f"stage not in the stage list ({', '.join(stages)}){_suggest(s, stages)}",
            value=v,
        )
        out.append(v)
    if rewritten:
        shown = ", ".join(f"'{a}' -> '{b}'" for a, b in rewritten.items())
        notes.append(f"{what}: stage names matched to the stage list ignoring case: {shown}")
    return out


def _check_numbers(
    chk: _Checker, cols: Iterable[str], table: str | None = None, non_negative: bool = True
) -> None:
    """Negative numbers in ``cols`` (unreadable cells were reported by the reader), then the
    cross-column :data:`~supplygraph.schema.LOWER_BOUNDS` rules of ``table``."""
    import numpy as np

    for col in cols:
        if col not in chk.frame.columns:
            continue
        series = chk.frame[col]
        if _FAST and isinstance(series.dtype, np.dtype) and series.dtype.kind in "fi":
            # float64/int64: the only blanks are NaN, which compare False
            if non_negative:
                values = series.to_numpy()
                for i in np.flatnonzero(values < 0).tolist():
                    chk.add(i, col, "negative number", value=_fmt(values[i].item()))
            continue
        for i, v in enumerate(chk.column(col)):
            if _blank(v):
                continue
            if non_negative and v < 0:
                chk.add(i, col, "negative number", value=_fmt(v))
    if table is not None:
        _check_bounds(chk, table)


def _check_bounds(chk: _Checker, table: str) -> None:
    """Flag cells below their :data:`~supplygraph.schema.LOWER_BOUNDS` reference (both numbers)."""
    import numpy as np
    import pandas as pd

    rules = [(r, 1.0) for r in LOWER_BOUNDS] + [(r, -1.0) for r in UPPER_BOUNDS]
    for (kind, col, ref, message), sign in rules:
        if kind != table or col not in chk.frame.columns:
            continue
        if isinstance(ref, str) and ref not in chk.frame.columns:
            continue
        values = pd.to_numeric(chk.frame[col], errors="coerce").to_numpy(dtype=float)
        if isinstance(ref, str):
            bound = pd.to_numeric(chk.frame[ref], errors="coerce").to_numpy(dtype=float)
        else:
            bound = np.full(len(values), float(ref))
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero((values >= 0) & (sign * values < sign * bound))
        for i in rows.tolist():
            if chk.is_bad(i, col) or (isinstance(ref, str) and chk.is_bad(i, ref)):
                continue
            why = (
                f"{message}: {ref} is {_fmt(bound[i].item())}" if isinstance(ref, str) else message
            )
            chk.add(i, col, why, value=_fmt(values[i].item()))
    _check_cell_rules(chk, table)


def _check_cell_rules(chk: _Checker, table: str) -> None:
    """The schema's other cell rules: ranges on non-numeric columns (one problem per column),
    :data:`~supplygraph.schema.REQUIRED_WITH` and :data:`~supplygraph.schema.ALLOWED_VALUES`."""
    for col, message in misplaced_ranges(table, [str(c) for c in chk.frame.columns]):
        chk.add(None, col, message)
    for kind, col, dependents, message in REQUIRED_WITH:
        present = [d for d in dependents if d in chk.frame.columns]
        if kind != table or not present:
            continue
        cells = chk.column(col)
        given = [chk.column(d) for d in present]
        for i, v in enumerate(cells):
            if _blank(v) and not chk.is_bad(i, col) and any(not _blank(g[i]) for g in given):
                chk.add(i, col, message)
    for kind, col, allowed, what in ALLOWED_VALUES:
        if kind != table or col not in chk.frame.columns:
            continue
        for i, v in enumerate(chk.column(col)):
            if not _blank(v) and str(v).strip().lower() not in allowed:
                chk.add(i, col, f"unknown {what} (use one of: {', '.join(allowed)})", value=v)


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _check_nodes(
    tables: Tables, problems: list[Problem], notes: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Return (node id -> stage, casefolded id -> id)."""
    nodes = tables.nodes
    chk = _Checker(nodes, problems)
    node_stage: dict[str, str] = {}
    folded_ids: dict[str, str] = {}
    if len(nodes) == 0:
        return node_stage, folded_ids
    if "id" not in nodes.columns:
        chk.add(None, None, "nodes table has no ID or Label column")
        return node_stage, folded_ids
    has_stage = "stage" in nodes.columns
    if not has_stage:
        chk.add(None, None, "nodes table has no Stage column (every node needs a stage)")
    else:
        nodes["stage"] = _check_stage_column(chk, "stage", tables.stages, notes, "nodes")
    ids = chk.column("id")
    stages = chk.column("stage")
    first_row: dict[str, int] = {}
    if _FAST and _plain_text(ids) and (not has_stage or _plain_text(stages)):
        # every id and stage is trimmed text: no blank cells, so the only possible problem
        # is a duplicate id; without one, the lookups are built in bulk (in row order)
        folded = dict(zip(map(str.casefold, ids), ids, strict=True))
        if len(folded) == len(ids):
            if has_stage:
                node_stage = dict(zip(ids, stages, strict=True))
            _check_numbers(chk, NUMERIC_NODE_ATTRS, "nodes")
            return node_stage, folded
    if _FAST:
        _check_node_rows(chk, ids, stages, has_stage, first_row, folded_ids, node_stage)
        _check_numbers(chk, NUMERIC_NODE_ATTRS, "nodes")
        return node_stage, folded_ids
    for i, node_id in enumerate(ids):
        if _blank(node_id):
            if not chk.is_bad(i, "id") and not chk.is_bad(i, "label"):
                chk.add(i, "id", "empty required cell: the node has no ID and no Label")
            continue
        key = str(node_id).strip().casefold()
        if key in first_row:
            chk.add(
                i,
                "id",
                f"duplicate ID (same as row {first_row[key]} after trimming and ignoring case)",
                value=node_id,
            )
        else:
            first_row[key] = chk.rows[i]
            folded_ids[key] = str(node_id).strip()
        if has_stage:
            st = stages[i]
            if _blank(st):
                if not chk.is_bad(i, "stage"):
                    chk.add(i, "stage", "empty required cell: every node needs a stage")
            else:
                node_stage[str(node_id).strip()] = str(st)
    _check_numbers(chk, NUMERIC_NODE_ATTRS, "nodes")
    return node_stage, folded_ids


def _plain_text(values: list[Any]) -> bool:
    """True when every value is a non-empty ``str`` without surrounding whitespace."""
    return (
        set(map(type, values)) <= {str}
        and "" not in values
        and list(map(str.strip, values)) == values
    )


def _check_node_rows(
    chk: _Checker,
    ids: list[Any],
    stages: list[Any],
    has_stage: bool,
    first_row: dict[str, int],
    folded_ids: dict[str, str],
    node_stage: dict[str, str],
) -> None:
    """The row-by-row node checks of :func:`_check_nodes`, with a shortcut for plain text."""
    rows = chk.rows
    for i, node_id in enumerate(ids):
        if node_id.__class__ is str:
            nid = node_id.strip()
            blank = not nid
        else:
            blank = _blank(node_id)
            nid = "" if blank else str(node_id).strip()
        if blank:
            if not chk.is_bad(i, "id") and not chk.is_bad(i, "label"):
                chk.add(i, "id", "empty required cell: the node has no ID and no Label")
            continue
        key = nid.casefold()
        if key in first_row:
            chk.add(
                i,
                "id",
                f"duplicate ID (same as row {first_row[key]} after trimming and ignoring case)",
                value=node_id,
            )
        else:
            first_row[key] = rows[i]
            folded_ids[key] = nid
        if has_stage:
            st = stages[i]
            if st.__class__ is str and st.strip():
                node_stage[nid] = st
            elif _blank(st):
                if not chk.is_bad(i, "stage"):
                    chk.add(i, "stage", "empty required cell: every node needs a stage")
            else:
                node_stage[nid] = str(st)


class _Labels:
    """Node label -> id, built on first use (only unknown endpoints need it)."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.map: dict[str, str] | None = None

    def __contains__(self, key: object) -> bool:
        return key in self.get()

    def __getitem__(self, key: str) -> str:
        return self.get()[key]

    def get(self) -> dict[str, str]:
        if self.map is None:
            self.map = _node_labels(self.tables)
        return self.map


def _node_labels(tables: Tables) -> dict[str, str]:
    labels: dict[str, str] = {}
    if len(tables.nodes) and "label" in tables.nodes.columns:
        ids = tables.nodes["id"].tolist()
        for nid, lab in zip(ids, tables.nodes["label"].tolist(), strict=True):
            if not _blank(lab) and not _blank(nid):
                labels.setdefault(str(lab).strip(), str(nid).strip())
    return labels


def _endpoint_problems(
    chk: _Checker,
    i: int,
    source: Any,
    target: Any,
    known_ids: set[str],
    folded_ids: dict[str, str],
    labels: dict[str, str] | _Labels,
) -> list[str]:
    """Check both ends of edge row ``i``; return the ends found among the known ids."""
    ends: list[str] = []
    for col, value in (("source", source), ("target", target)):
        if _blank(value):
            if not chk.is_bad(i, col):
                chk.add(i, col, "empty required cell: the connection needs both ends")
            continue
        v = str(value).strip()
        if v in known_ids:
            ends.append(v)
            continue
        hint = ""
        if v.casefold() in folded_ids:
            hint = f" (did you mean '{folded_ids[v.casefold()]}'? IDs are case-sensitive)"
        elif v in labels:
            hint = f" (that is the Label of '{labels[v]}'; use the ID)"
        else:
            hint = _suggest(v, known_ids) if len(known_ids) < 50_000 else ""
        chk.add(i, col, f"unknown node: no element has this ID{hint}", value=value)
    return ends


def _check_edge_rows_fast(
    chk: _Checker,
    edges: pd.DataFrame,
    node_stage: dict[str, str],
    folded_ids: dict[str, str],
    known_ids: set[str],
    labels: dict[str, str] | _Labels,
    rank: dict[str, int],
    nodes: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The row-by-row edge checks of :func:`_check_edges`, column-wise.

    Rows whose two ends are known ids as written and whose flow is filled (almost all) are
    checked in bulk for duplicates, self-loops and backward connections (on integer codes of
    the ids); every other row goes through the row-by-row checks. Problems come out in the
    same order as row by row.

    ``nodes``: the node table when its ids are distinct trimmed text (then the codes are node
    rows, and they are returned: each edge's supplier and customer row, -1 when unknown).
    """
    import numpy as np

    n = len(edges)
    columns: dict[str, list[Any]] = {}

    def column(col: str) -> list[Any]:  # as lists only when a row needs a closer look
        if col not in columns:
            columns[col] = chk.column(col)
        return columns[col]

    # integer codes: ids as written (str, trimmed) first, then any other known id
    keys: Any
    if nodes is not None:  # distinct trimmed ids: a node's code is its row
        keys = nodes["id"]
        n_exact = len(keys)
    else:
        keys = [k for k in known_ids if k.__class__ is str and k == k.strip()]
        n_exact = len(keys)
    codes: dict[str, int] = {}

    def code() -> dict[str, int]:  # id -> code, built when a row needs it
        if not codes:
            ids = keys.tolist() if nodes is not None else keys
            codes.update(zip(ids, range(n_exact), strict=True))
            if n_exact < len(known_ids):
                for k in known_ids:
                    codes.setdefault(k, len(codes))
        return codes

    n_codes = max(len(known_ids), n_exact)
    cu = positions(edges["source"], keys)
    cv = positions(edges["target"], keys)
    fast = (cu >= 0) & (cu < n_exact) & (cv >= 0) & (cv < n_exact)
    has_flow = "flow" in edges.columns
    flow_blank = np.zeros(n, dtype=bool)
    if has_flow:
        flow = edges["flow"]
        if isinstance(flow.dtype, np.dtype) and flow.dtype.kind == "f":
            flow_blank = np.isnan(flow.to_numpy())
        else:
            flow_blank = np.fromiter(map(_blank, flow.tolist()), dtype=bool, count=n)
        fast &= ~flow_blank
    # rows checked one by one: their problems, and their ends when both are known
    row_problems: dict[int, list[Problem]] = {}
    slow_ends: dict[int, tuple[str, str]] = {}
    problems = chk.problems
    for i in np.flatnonzero(~fast).tolist():
        start = len(problems)
        ends = _endpoint_problems(
            chk, i, column("source")[i], column("target")[i], known_ids, folded_ids, labels
        )
        if flow_blank[i] and not chk.is_bad(i, "flow"):
            chk.add(i, "flow", "empty required cell: every connection needs a flow")
        if len(problems) > start:
            row_problems[i] = problems[start:]
            del problems[start:]
        if len(ends) == 2:
            slow_ends[i] = (ends[0], ends[1])
    # the rows with both ends known, in row order
    for i, (u, v) in slow_ends.items():
        cu[i], cv[i] = code()[u], code()[v]
        fast[i] = True
    rows = (cu.copy(), cv.copy()) if nodes is not None else None
    if fast.all():
        pair_rows = np.arange(n)
    else:
        pair_rows = np.flatnonzero(fast)
        cu, cv = cu[pair_rows], cv[pair_rows]
    m = len(pair_rows)
    if not m:
        problems.extend(p for i in sorted(row_problems) for p in row_problems[i])
        return rows
    # first occurrence of each (source, target) pair (np.unique sorts stably); a plain sort
    # first, which is all it takes when no pair repeats (the usual case)
    pair_key = cu * n_codes + cv
    ordered = np.sort(pair_key)
    if len(ordered) > 1 and bool((ordered[1:] == ordered[:-1]).any()):
        _, first_at, inverse = np.unique(pair_key, return_index=True, return_inverse=True)
        first = first_at[inverse.reshape(-1)]
    else:
        first = np.arange(m)
    dup = first != np.arange(m)
    loop = cu == cv
    backwards = np.zeros(m, dtype=bool)
    if rank and nodes is not None:
        stage_rank = nodes["stage"].map(rank) if "stage" in nodes.columns else None
        rank_of = np.full(n_codes, -1, dtype=np.int64)  # -1: no rank
        if stage_rank is not None:
            rank_of[:n_exact] = stage_rank.fillna(-1).to_numpy(dtype=np.int64)
    if rank:
        if nodes is None:
            ranks = [rank.get(node_stage.get(k) or "", -1) for k in code()]
            rank_of = np.asarray(ranks, dtype=np.int64)
        ru, rv = rank_of[cu], rank_of[cv]
        backwards = (ru >= 0) & (rv >= 0) & (ru > rv) & ~loop
    warn: dict[int, list[Problem]] = {}
    start = len(problems)
    for e in np.flatnonzero(dup | loop | backwards).tolist():
        i = int(pair_rows[e])
        u, v = slow_ends[i] if i in slow_ends else (column("source")[i], column("target")[i])
        if dup[e]:
            chk.add(
                i,
                None,
                f"duplicate connection {u} -> {v} (also in row {chk.rows[pair_rows[first[e]]]}); "
                "their flows are added together",
                severity="warning",
            )
        if loop[e]:
            chk.add(i, None, f"self-loop on {u} (legal: recycling)", severity="warning")
        elif backwards[e]:
            su, sv = node_stage.get(u), node_stage.get(v)
            chk.add(
                i,
                None,
                f"connection runs backwards across stages ({su} -> {sv})",
                severity="warning",
            )
        warn[i] = problems[start:]
        del problems[start:]
    for i in sorted(set(row_problems) | set(warn)):
        problems.extend(row_problems.get(i, ()))
        problems.extend(warn.get(i, ()))
    return rows


def _check_edges(
    tables: Tables,
    problems: list[Problem],
    node_stage: dict[str, str],
    folded_ids: dict[str, str],
    known_ids: set[str],
    labels: dict[str, str] | _Labels,
) -> None:
    edges = tables.edges
    if len(edges) == 0:
        return
    chk = _Checker(edges, problems)
    missing = [c for c in ("source", "target") if c not in edges.columns]
    if missing:
        chk.add(None, None, "connections table has no From/To (or Source/Target) columns")
        return
    if "flow" not in edges.columns:
        chk.add(
            None,
            None,
            "connections table has no Flow column (also accepted: Weight, Value, Quantity)",
        )
    rank = {s: i for i, s in enumerate(tables.stages or [])}
    if _FAST:
        nodes = tables.nodes
        plain = (
            len(nodes) > 0
            and len(node_stage) == len(folded_ids) == len(nodes) == len(known_ids)
            and _plain_text(nodes["id"].tolist())
        )
        tables.edge_rows = _check_edge_rows_fast(
            chk, edges, node_stage, folded_ids, known_ids, labels, rank, nodes if plain else None
        )
        _check_numbers(chk, NUMERIC_EDGE_ATTRS, "edges")
        return
    seen: dict[tuple[str, str], int] = {}
    sources, targets, flows = chk.column("source"), chk.column("target"), chk.column("flow")
    for i in range(len(edges)):
        ends = _endpoint_problems(chk, i, sources[i], targets[i], known_ids, folded_ids, labels)
        if "flow" in edges.columns and _blank(flows[i]) and not chk.is_bad(i, "flow"):
            chk.add(i, "flow", "empty required cell: every connection needs a flow")
        if len(ends) == 2:
            pair = (ends[0], ends[1])
            if pair in seen:
                chk.add(
                    i,
                    None,
                    f"duplicate connection {pair[0]} -> {pair[1]} (also in row {seen[pair]}); "
                    "their flows are added together",
                    severity="warning",
                )
            else:
                seen[pair] = chk.rows[i]
            if pair[0] == pair[1]:
                chk.add(i, None, f"self-loop on {pair[0]} (legal: recycling)", severity="warning")
            elif rank:
                su, sv = node_stage.get(pair[0]), node_stage.get(pair[1])
                if su in rank and sv in rank and rank[su] > rank[sv]:
                    chk.add(
                        i,
                        None,
                        f"connection runs backwards across stages ({su} -> {sv})",
                        severity="warning",
                    )
    _check_numbers(chk, NUMERIC_EDGE_ATTRS, "edges")


def _check_shares(tables: Tables, problems: list[Problem], notes: list[str]) -> set[str]:
    """Check the stage-shares table; return the node ids it defines."""
    shares = tables.shares
    ids: set[str] = set()
    if shares is None or len(shares) == 0:
        return ids
    chk = _Checker(shares, problems)
    for col in ("stage", "country"):
        if col not in shares.columns:
            chk.add(None, None, f"stage-shares table has no {col.title()} column")
            return ids
    if "share" not in shares.columns and "value" not in shares.columns:
        chk.add(None, None, "stage-shares table has no Share or Value column")
        return ids
    shares["stage"] = _check_stage_column(chk, "stage", tables.stages, notes, "stage shares")
    stage_col, country = chk.column("stage"), chk.column("country")
    share, value = chk.column("share"), chk.column("value")
    end_use, id_col = chk.column("end_use"), chk.column("id")
    by_stage: dict[str, list[int]] = {}
    first: dict[tuple[str, str], int] = {}
    for i in range(len(shares)):
        st = stage_col[i]
        for col, v in (("stage", st), ("country", country[i])):
            if _blank(v) and not chk.is_bad(i, col):
                chk.add(i, col, f"empty required cell: every row needs a {col}")
        if (
            _blank(share[i])
            and _blank(value[i])
            and not chk.is_bad(i, "share")
            and not chk.is_bad(i, "value")
        ):
            col = "share" if "share" in shares.columns else "value"
            chk.add(i, col, "empty required cell: give a share or a value")
        if _blank(st) or _blank(country[i]):
            continue
        by_stage.setdefault(str(st), []).append(i)
        node_id = (
            str(id_col[i]).strip()
            if not _blank(id_col[i])
            else f"{country[i]}:{end_use[i] if not _blank(end_use[i]) else st}"
        )
        ids.add(node_id)
        key = (str(st), node_id)
        if key in first:
            chk.add(
                i,
                "country",
                f"{country[i]} is listed twice for stage '{st}' (also row {first[key]}); "
                "merge the rows",
                value=country[i],
            )
        else:
            first[key] = chk.rows[i]
    _check_numbers(chk, ("value", "share", "intake_share"))
    for st, rows in by_stage.items():
        with_share = [i for i in rows if not _blank(share[i])]
        with_value = [i for i in rows if not _blank(value[i])]
        if with_share and with_value and len(with_share) != len(rows):
            chk.add(
                with_value[0],
                "value",
                f"stage '{st}' mixes rows with a Share and rows with only a Value; "
                "use one basis per stage",
            )
            continue
        if any(chk.is_bad(i, "share") for i in rows):
            continue  # unreadable shares: the sum would mislead
        if with_share and len(with_share) == len(rows):
            total = sum(share[i] for i in with_share)
            if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
                chk.add(
                    with_share[0],
                    "share",
                    f"shares of stage '{st}' sum to {total * 100:.1f} %, not 100 % "
                    "(add a ROW row for the rest of the world, or fix the shares)",
                    severity="warning",
                )
            elif abs(total - 1.0) > 1e-9:
                notes.append(f"stage shares: stage '{st}' sums to {total * 100:.2f} %")
    return ids


def validate_tables(
    tables: Tables, *, strict: bool = False, raise_errors: bool = True
) -> list[Problem]:
    """Check tables read by :func:`~supplygraph.io.tables.read_tables` and report every problem.

    Parameters
    ----------
    tables
        The tables; ``tables.problems`` (problems found while reading) is extended in place,
        and case-only stage differences are rewritten in place.
    strict
        Turn every warning into an error.
    raise_errors
        Raise :class:`~supplygraph.errors.ValidationError` when any problem is an error.

    Returns
    -------
    list of Problem
        All problems (reading + validation), errors and warnings, also stored in
        ``tables.problems``.

    Raises
    ------
    ValidationError
        When an error was found and ``raise_errors`` is True; ``exc.problems`` lists them all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from supplygraph.io.tables import read_tables
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "nodes.csv").write_text("ID,Stage\\na,mine\\nb,mill\\n")
    >>> _ = (d / "edges.csv").write_text("From,To,Flow\\na,c,1\\nb,a,-2\\n")
    >>> t = read_tables(d, validate=False)
    >>> [str(p) for p in validate_tables(t, raise_errors=False)]
    ["edges.csv, row 2, column 'To': unknown node: no element has this ID: 'c'", "edges.csv, row 3, column 'Flow': negative number: '-2'"]
    """
    problems: list[Problem] = list(tables.problems)
    notes = tables.notes
    shares_empty = tables.shares is None or len(tables.shares) == 0
    if len(tables.nodes) == 0 and len(tables.edges) == 0 and shares_empty:
        problems.append(
            Problem(
                message="no data rows: the tables have headers but no rows",
                file=Path(tables.file).name,
            )
        )
        return _finish(tables, problems, strict, raise_errors)
    node_stage, folded_ids = _check_nodes(tables, problems, notes)
    share_ids = _check_shares(tables, problems, notes)
    known = set(node_stage)
    known.update(folded_ids.values())
    labels: dict[str, str] | _Labels = _Labels(tables) if _FAST else _node_labels(tables)
    if not len(tables.nodes):
        known = share_ids
        if len(tables.edges) and tables.shares is None:
            # a nodes table that could not be read has its own problem already
            if "nodes" not in tables.unreadable:
                chk = _Checker(tables.edges, problems)
                chk.add(
                    None,
                    None,
                    "no nodes table (sheet Elements, Nodes or Points, or nodes.csv): every "
                    "node needs a stage, so connections alone cannot be used",
                )
            tables.problems = problems
            return _finish(tables, problems, strict, raise_errors)
    _check_edges(tables, problems, node_stage, folded_ids, known, labels)
    _fill_values_from_shares(tables)
    tables.problems = problems
    return _finish(tables, problems, strict, raise_errors)


def _fill_values_from_shares(tables: Tables) -> None:
    """Give share-only stage-share rows their share as value (the builder reads ``value``)."""
    shares = tables.shares
    if shares is None or "share" not in shares.columns or "value" not in shares.columns:
        return
    fill = shares["value"].isna() & shares["share"].notna()
    if fill.any():
        shares.loc[fill, "value"] = shares.loc[fill, "share"]
        tables.notes.append(
            f"stage shares: {int(fill.sum())} row(s) without a Value use their Share as the "
            "value (shares are relative within a stage)"
        )


def _sorted(problems: list[Problem], tables: Tables) -> list[Problem]:
    """Order problems by file and sheet (in reading order), then row; stable otherwise."""
    places: dict[tuple[str, str], int] = {}
    for key in tables.counts:
        file, _, sheet = key.partition("/")
        places.setdefault((file, sheet), len(places))
    for p in problems:
        places.setdefault((p.file or "", p.sheet or ""), len(places))
    return sorted(problems, key=lambda p: (places[(p.file or "", p.sheet or "")], p.row or 0))


def _finish(
    tables: Tables, problems: list[Problem], strict: bool, raise_errors: bool
) -> list[Problem]:
    problems = _sorted(problems, tables)
    tables.problems = problems
    if strict:
        problems = [
            Problem(**{**p.as_dict(), "severity": "error"}) if p.severity == "warning" else p
            for p in problems
        ]
        tables.problems = problems
    if raise_errors and any(p.severity == "error" for p in problems):
        raise ValidationError(problems)
    return problems
