"""The load path: tables -> validated columns -> compiled arrays, the networkx graph on demand.

``sg.load`` returns a graph whose nodes and edges are built the first time they are read; until
then the compiled arrays come straight from the validated tables. These tests check that the
two routes agree field by field (against networkx itself, never against stored output), that
building the graph is invisible (same nodes, edges, attributes, no edit counted), and that the
column-wise Arrow conversion and output writers equal their cell-by-cell references.
"""

from __future__ import annotations

import importlib.util
import json
import math
import pickle
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import supplygraph as sg
from supplygraph.build import graph_from_frames
from supplygraph.compiled import compile_graph
from supplygraph.io.outputs import csv_chunks, json_chunks, save_table
from supplygraph.io.tables import read_tables
from supplygraph.tracked import TrackedDiGraph, deferred_tables, edit_count

_spec = importlib.util.spec_from_file_location(
    "_compiled", Path(__file__).with_name("_compiled.py")
)
assert _spec is not None and _spec.loader is not None
_compiled = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_compiled)
assert_same_compiled = _compiled.assert_same_compiled


def _plain_copy(G) -> nx.DiGraph:
    """A plain networkx copy built node by node and edge by edge (the reference)."""
    H = nx.DiGraph()
    for n, d in G.nodes(data=True):
        H.add_node(n, **dict(d))
    for u, v, d in G.edges(data=True):
        H.add_edge(u, v, **dict(d))
    H.graph.update(dict(G.graph))
    return H


# ---------------------------------------------------------------- random supply tables


@st.composite
def supply_tables(draw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random valid node/edge tables: optional attributes, blanks, materials, cycles, loops."""
    n = draw(st.integers(2, 25))
    stages = ["a", "b", "c", "d"]
    ids = [f"n{i}" for i in range(n)]
    stage = [draw(st.sampled_from(stages)) for _ in ids]
    num = st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False, allow_infinity=False))
    value = [draw(num) for _ in ids]
    capacity = [
        None if v is None or draw(st.booleans()) else v * draw(st.floats(1, 3)) for v in value
    ]
    nodes = pd.DataFrame(
        {
            "id": ids,
            "stage": stage,
            "country": [draw(st.sampled_from(["CHN", "USA", "AUS", None])) for _ in ids],
            "value": value,
            "capacity": capacity,
            "ramp_days": [draw(st.one_of(st.none(), st.integers(0, 100))) for _ in ids],
            "external_input": [draw(num) for _ in ids],
            "end_use": [draw(st.sampled_from(["wind", None])) for _ in ids],
            "unit": [draw(st.sampled_from(["t", "kg", None])) for _ in ids],
        }
    )
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60, unique=True)
    )
    edges = pd.DataFrame(
        {
            "source": [ids[u] for u, _ in pairs],
            "target": [ids[v] for _, v in pairs],
            "flow": [draw(st.floats(0, 100, allow_nan=False)) for _ in pairs],
            "material": [draw(st.sampled_from(["ore", "metal", None])) for _ in pairs],
            "max_scale": [draw(st.one_of(st.none(), st.floats(1, 5))) for _ in pairs],
        },
        columns=["source", "target", "flow", "material", "max_scale"],
    )
    return nodes, edges


def _write_parquet(nodes: pd.DataFrame, edges: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("nodes", nodes), ("edges", edges)):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=supply_tables())
def test_compiled_from_tables_equals_compiled_from_the_graph(tmp_path_factory, tables) -> None:
    nodes, edges = tables
    folder = _write_parquet(nodes, edges, tmp_path_factory.mktemp("t"))
    G = sg.load(folder)
    assert deferred_tables(G) is not None  # not built yet
    cg_tables = compile_graph(G)
    assert deferred_tables(G) is not None  # compiling did not build it
    H = _plain_copy(G)  # reading the nodes builds the graph
    assert deferred_tables(G) is None
    assert_same_compiled(cg_tables, compile_graph(H))
    # and the eager builder gives the same graph from the same tables
    t = read_tables(folder)
    E = graph_from_frames(t.nodes, t.edges, stages=t.stages)
    assert list(E.nodes(data=True)) == list(G.nodes(data=True))
    assert list(E.edges(data=True)) == list(G.edges(data=True))
    assert E.graph["stages"] == G.graph["stages"]
    assert E.graph["stage_order_inferred"] == G.graph["stage_order_inferred"]


def test_deferred_graph_builds_on_first_read_without_counting_an_edit(tmp_path: Path) -> None:
    nodes = pd.DataFrame(
        {"id": ["m", "r", "u"], "stage": ["mine", "refine", "use"], "value": [4, 4, 4]}
    )
    edges = pd.DataFrame({"source": ["m", "r"], "target": ["r", "u"], "flow": [4.0, 4.0]})
    folder = _write_parquet(nodes, edges, tmp_path / "in")
    G = sg.load(folder)
    assert isinstance(G, TrackedDiGraph) and isinstance(G, nx.DiGraph)
    assert G.graph["stages"] == ["mine", "refine", "use"]
    before = edit_count(G)
    cg = compile_graph(G)
    assert list(nx.topological_sort(G)) == ["m", "r", "u"]  # any networkx function works
    assert edit_count(G) == before and type(G) is TrackedDiGraph
    assert compile_graph(G) is cg  # building it did not invalidate the compiled arrays
    G.edges["m", "r"]["flow"] = 2.0  # an edit after building: recompiled
    assert compile_graph(G) is not cg
    assert compile_graph(G).flow.tolist() == [2.0, 4.0]


def test_deferred_graph_pickles_copies_and_sweeps_like_a_built_one(tmp_path: Path) -> None:
    nodes = pd.DataFrame({"id": ["a", "b", "c"], "stage": ["s1", "s2", "s2"]})
    edges = pd.DataFrame({"source": ["a", "a"], "target": ["b", "c"], "flow": [3.0, 1.0]})
    folder = _write_parquet(nodes, edges, tmp_path / "in")
    lazy = sg.load(folder)
    swept = sg.sweep(lazy, progress=False)
    clone = pickle.loads(pickle.dumps(sg.load(folder)))
    assert type(clone) is TrackedDiGraph
    assert list(clone.edges(data=True)) == [("a", "b", {"flow": 3.0}), ("a", "c", {"flow": 1.0})]
    pd.testing.assert_frame_equal(sg.sweep(clone, progress=False), swept, check_exact=True)
    copy = sg.load(folder).copy()
    assert sorted(copy.nodes) == ["a", "b", "c"]
    # hand check: removing a cuts both sinks; b carries 3 of the 4 t of target output
    assert swept.set_index("node")["weighted_loss"].to_dict() == {"a": 1.0, "b": 0.75, "c": 0.25}


def test_duplicate_connections_are_summed_on_either_route(tmp_path: Path) -> None:
    nodes = pd.DataFrame({"id": ["a", "b"], "stage": ["s1", "s2"]})
    edges = pd.DataFrame({"source": ["a", "a"], "target": ["b", "b"], "flow": [1.0, 2.5]})
    folder = _write_parquet(nodes, edges, tmp_path / "in")
    G = sg.load(folder)
    assert compile_graph(G).flow.tolist() == [3.5]
    assert G.edges["a", "b"]["flow"] == 3.5
    assert any("duplicate connection a -> b" in w for w in G.graph["warnings"])


# ------------------------------------------------- column-wise reading = cell-by-cell reading

_MESSY_TEXT = [
    "plain",
    " padded ",
    "\u00a0nbsp\u00a0",
    "'=1+1",
    "=SUM(A1)",
    "ctrl\x01char",
    "",
    "   ",
    None,
    "café",
    "x\u2003",
    "'quoted",
    "Ω" * 5,
]
_MESSY_NUMBER_TEXT = [
    "1",
    "2.5",
    " 3 ",
    "1,234.5",
    "0,5",
    "abc",
    "",
    None,
    "1e400",
    "-4",
    "50 %",
    "7",
]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(_MESSY_TEXT),
            st.sampled_from(_MESSY_NUMBER_TEXT),
            st.one_of(
                st.none(),
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(-(2**60), 2**60),
            ),
            st.sampled_from(["2020", "2021-22", "", None, "19"]),
        ),
        min_size=1,
        max_size=30,
    ),
    dictionary=st.booleans(),
)
def test_arrow_columns_read_as_the_cell_rules_read_them(
    tmp_path_factory, monkeypatch, rows, dictionary
) -> None:
    import supplygraph.io.arrow as arrow_module

    texts, num_texts, numbers, years = (list(c) for c in zip(*rows, strict=True))
    floats = [None if v is None else float(v) for v in numbers]
    nodes = pa.table(
        {
            "ID": pa.array([f"n{i}" for i in range(len(rows))]),
            "Stage": pa.array(["s"] * len(rows)),
            "Label": pa.array(texts, type=pa.string()).dictionary_encode()
            if dictionary
            else pa.array(texts, type=pa.string()),
            "Value": pa.array(num_texts),
            "External input": pa.array(floats, from_pandas=False),
            "Year": pa.array(years),
            "Note": pa.array(texts, type=pa.large_string()),
        }
    )
    folder = tmp_path_factory.mktemp("messy")
    pq.write_table(nodes, folder / "nodes.parquet")

    def read() -> tuple:
        t = read_tables(folder, validate=False)
        return t, [p.as_dict() for p in t.problems], t.notes

    fast, fast_problems, fast_notes = read()
    monkeypatch.setattr(arrow_module, "_FAST", False)
    slow, slow_problems, slow_notes = read()
    monkeypatch.undo()
    assert fast_problems == slow_problems
    assert fast_notes == slow_notes
    pd.testing.assert_frame_equal(fast.nodes, slow.nodes, check_exact=True)
    for col in fast.nodes.columns:
        assert [type(x) for x in fast.nodes[col].tolist()] == [
            type(x) for x in slow.nodes[col].tolist()
        ]


def test_plain_csv_read_by_pyarrow_equals_the_text_reader(tmp_path: Path, monkeypatch) -> None:
    import supplygraph.io.arrow as arrow_module

    lines = ["ID;Stage;Country;Value;Note"] + [
        f"n{i};{'mine' if i % 2 else 'mill'};{['NA', 'China', 'usa', ''][i % 4]};"
        f"{['1', '2.5', ' 3 ', '1,234.5', '0,5', 'x', ''][i % 7]};{['a', ' b', '', '=1', 'é'][i % 5]}"
        for i in range(40)
    ]
    lines.insert(7, ";;;;")  # a blank row
    (tmp_path / "nodes.csv").write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    fast = read_tables(tmp_path, validate=False)
    monkeypatch.setattr(arrow_module, "_CSV_FAST", False)
    slow = read_tables(tmp_path, validate=False)
    pd.testing.assert_frame_equal(fast.nodes, slow.nodes, check_exact=True)
    assert [p.as_dict() for p in fast.problems] == [p.as_dict() for p in slow.problems]
    assert fast.notes == slow.notes and fast.counts == slow.counts
    assert "nodes.csv: 1 blank row(s) skipped (rows 8)" in fast.notes


# ----------------------------------------------------------------------------- outputs

cells = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**62), 2**62),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(cells, st.text(max_size=5), st.floats(), st.integers(0, 9)), max_size=12
    ),
    chunk=st.integers(1, 5),
)
def test_json_chunks_equal_json_dumps(data, chunk) -> None:
    frame = pd.DataFrame(data, columns=["mixed", "text", "x", "n"])
    records = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    expected = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    assert "".join(json_chunks(frame, chunk_rows=chunk)) == expected


def test_json_chunks_equal_json_dumps_for_repeated_cells() -> None:
    # few distinct values take the encode-once path: -0.0 is not 0.0, 1 is not 1.0 or True
    frame = pd.DataFrame(
        {
            "z": [0.0, -0.0, 0.0, 0.0, 2.5, 2.5, float("nan"), 0.0],
            "t": ["a", "a", None, "a", "é", "a", "a", "a"],
            "m": [1, 1.0, True, 1, 1, None, 1, 1],
            "n": pd.array(["x", None, "x", "x", "x", "x", "x", "x"], dtype="str"),
        }
    )
    records = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
    expected = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    assert "".join(json_chunks(frame, chunk_rows=3)) == expected
    assert '"z": -0.0' in expected and '"m": true' in expected and '"m": 1.0' in expected


def test_json_floats_are_written_as_repr_writes_them() -> None:
    from supplygraph.io.outputs import _json_floats

    rng = np.random.default_rng(5)
    n = 40_000
    values = np.concatenate(
        [
            rng.random(n) * 10.0 ** rng.integers(-12, 20, n) * rng.choice([-1, 1], n),
            rng.integers(-(10**11), 10**11, n).astype(float),
            rng.random(n),  # the usual losses and shares
            [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-4, 9999999999.0, 1e10, 5e-324, 0.1, 1 / 3],
            [1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 0.30000000000000004],
        ]
    )
    expected = [repr(x) if math.isfinite(x) else "null" for x in values.tolist()]
    assert _json_floats(values) == expected


def test_csv_chunks_equal_one_neutralised_csv(tmp_path: Path) -> None:
    from supplygraph.io.safe_text import neutralize_frame

    frame = pd.DataFrame({"a": ["=x", "b", "+1", None, "c"], "v": [1.5, float("nan"), 3, 4, 5]})
    expected = neutralize_frame(frame).to_csv(index=False, lineterminator="\n")
    assert "".join(csv_chunks(frame, chunk_rows=2)) == expected


def test_save_table_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"old")
    bad = pd.DataFrame({"x": [1, "text", 2.5]}, dtype=object)  # not one Parquet type
    with pytest.raises((pa.ArrowException, TypeError, ValueError)):
        save_table(bad, target, "parquet")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]
    good = pd.DataFrame({"node": ["a", "b"], "loss": [0.25, float("nan")]})
    save_table(good, target, "parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(target), good, check_dtype=False)
    save_table(good, tmp_path / "out.json", "json")
    assert json.loads((tmp_path / "out.json").read_text()) == [
        {"node": "a", "loss": 0.25},
        {"node": "b", "loss": None},
    ]
