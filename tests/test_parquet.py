"""Parquet, Feather and Arrow IPC inputs: the same tables, problems and results as CSV and xlsx.

Every file here is a real file written by pyarrow, pandas or openpyxl and read back through
``supplygraph.load`` / ``read_tables`` / the CLI; the expected problems are written by hand.
"""

from __future__ import annotations

import importlib.util
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import supplygraph as sg
from supplygraph.cli import app
from supplygraph.compiled import compile_graph
from supplygraph.errors import InputError, ValidationError
from supplygraph.io.tables import read_tables

_spec = importlib.util.spec_from_file_location(
    "_compiled", Path(__file__).with_name("_compiled.py")
)
assert _spec is not None and _spec.loader is not None
_compiled = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_compiled)
assert_same_compiled = _compiled.assert_same_compiled

# ----------------------------------------------------------------------------- test tables


def chain_frames(seed: int = 0, n_per_stage: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small 4-stage chain with every schema column, some blanks, materials and a cycle."""
    rng = random.Random(seed)
    stages = ["mining", "refining", "magnets", "end_use"]
    countries = ["CHN", "AUS", "USA", "MYS", "NAM", "JPN"]
    rows = []
    for s, stage in enumerate(stages):
        for i in range(n_per_stage if s < 3 else 3):
            value = round(rng.uniform(5, 100), 3)
            rows.append(
                {
                    "id": f"{stage[:3]}-{i}",
                    "label": f"{stage} firm {i}",
                    "stage": stage,
                    "country": rng.choice(countries),
                    "value": value if rng.random() > 0.2 else None,
                    "unit": "t/yr",
                    "capacity": round(value * rng.uniform(1.0, 1.5), 3)
                    if rng.random() < 0.5
                    else None,
                    "ramp_days": float(rng.randint(0, 90)) if rng.random() < 0.5 else None,
                    "external_input": round(rng.uniform(0, 5), 3) if rng.random() < 0.2 else None,
                    "end_use": rng.choice(["vehicles", "wind"]) if stage == "end_use" else None,
                    "source": "test",
                    "year": 2024,
                }
            )
    nodes = pd.DataFrame(rows)
    edges_rows = []
    by_stage = {st: nodes.loc[nodes["stage"] == st, "id"].tolist() for st in stages}
    for s in range(1, len(stages)):
        for v in by_stage[stages[s]]:
            for u in rng.sample(by_stage[stages[s - 1]], k=min(3, len(by_stage[stages[s - 1]]))):
                edges_rows.append(
                    {
                        "source": u,
                        "target": v,
                        "flow": round(rng.uniform(0.5, 20), 4),
                        "material": rng.choice(["oxide", "metal", None]),
                        "unit": "t/yr",
                        "max_scale": round(rng.uniform(1, 3), 2) if rng.random() < 0.3 else None,
                    }
                )
    # recycling: a magnet maker sends scrap back to a refiner (a cycle)
    edges_rows.append(
        {"source": "mag-0", "target": "ref-1", "flow": 0.7, "material": "scrap", "unit": "t/yr"}
    )
    return nodes, pd.DataFrame(edges_rows)


def write_all(nodes: pd.DataFrame, edges: pd.DataFrame, root: Path) -> dict[str, Path]:
    """The same tables as a CSV folder, an xlsx workbook, Parquet, Feather and Arrow folders."""
    out: dict[str, Path] = {}
    csv_dir = root / "csv"
    csv_dir.mkdir(parents=True)
    nodes.to_csv(csv_dir / "nodes.csv", index=False)
    edges.to_csv(csv_dir / "edges.csv", index=False)
    out["csv"] = csv_dir
    xlsx = root / "chain.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        nodes.to_excel(writer, sheet_name="Elements", index=False)
        edges.to_excel(writer, sheet_name="Connections", index=False)
    out["xlsx"] = xlsx
    for fmt, suffix in (("parquet", ".parquet"), ("feather", ".feather"), ("arrow", ".arrow")):
        folder = root / fmt
        folder.mkdir()
        for name, frame in (("nodes", nodes), ("edges", edges)):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if fmt == "parquet":
                pq.write_table(table, folder / f"{name}{suffix}")
            else:
                feather.write_feather(table, folder / f"{name}{suffix}")
        out[fmt] = folder
    return out


# ------------------------------------------------------------------- same results, any format


def test_csv_xlsx_parquet_feather_arrow_give_identical_results(tmp_path: Path) -> None:
    nodes, edges = chain_frames(seed=3)
    files = write_all(nodes, edges, tmp_path)
    graphs = {fmt: sg.load(path) for fmt, path in files.items()}
    ref = graphs["csv"]
    ref_compiled = compile_graph(ref)
    ref_results = {
        "sweep": sg.sweep(ref, progress=False),
        "leontief": sg.sweep(ref, model="leontief", progress=False),
        "groups": sg.sweep(ref, by="country-stage", progress=False),
        "dependency": sg.dependency(ref),
        "concentration": sg.concentration(ref),
        "chokepoints": sg.chokepoints(ref),
        "disrupt": sg.disrupt(ref, ["CHN@refining"]).nodes,
    }
    assert np.isfinite(ref_compiled.max_scale).any()
    assert not ref_compiled.is_dag  # the scrap loop is there
    for fmt, G in graphs.items():
        assert_same_compiled(compile_graph(G), ref_compiled)
        results = {
            "sweep": sg.sweep(G, progress=False),
            "leontief": sg.sweep(G, model="leontief", progress=False),
            "groups": sg.sweep(G, by="country-stage", progress=False),
            "dependency": sg.dependency(G),
            "concentration": sg.concentration(G),
            "chokepoints": sg.chokepoints(G),
            "disrupt": sg.disrupt(G, ["CHN@refining"]).nodes,
        }
        for key, frame in results.items():
            pd.testing.assert_frame_equal(
                frame, ref_results[key], check_exact=True, obj=f"{fmt} {key}"
            )
        # the graph itself, node and edge attributes included
        assert list(G.nodes(data=True)) == list(ref.nodes(data=True)), fmt
        assert list(G.edges(data=True)) == list(ref.edges(data=True)), fmt
        assert G.graph["stages"] == ref.graph["stages"]


def test_parquet_tables_equal_csv_tables(tmp_path: Path) -> None:
    nodes, edges = chain_frames(seed=5)
    files = write_all(nodes, edges, tmp_path)
    from_csv = read_tables(files["csv"])
    from_pq = read_tables(files["parquet"])
    for a, b in ((from_csv.nodes, from_pq.nodes), (from_csv.edges, from_pq.edges)):
        cols = [c for c in a.columns if c not in ("_file", "_row")]
        pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True)
        assert a.attrs["columns"] == b.attrs["columns"]
    # Parquet has no header row: the first record is row 1 (CSV: row 2)
    assert from_pq.nodes["_row"].tolist()[:2] == [1, 2]
    assert from_csv.nodes["_row"].tolist()[:2] == [2, 3]


def test_single_parquet_files_and_integer_ids(tmp_path: Path) -> None:
    nodes = pd.DataFrame({"id": [1, 2, 3], "stage": ["mine", "mill", "mill"], "value": [5, 3, 2]})
    edges = pd.DataFrame({"source": [1, 1], "target": [2, 3], "flow": [3.0, 2.0]})
    pq.write_table(pa.Table.from_pandas(nodes), tmp_path / "nodes.parquet")
    pq.write_table(pa.Table.from_pandas(edges), tmp_path / "edges.parquet")
    G = sg.load(tmp_path)
    assert sorted(G.nodes) == ["1", "2", "3"]  # integer ids read as text, as CSV gives them
    assert G.edges["1", "2"]["flow"] == 3.0
    t = read_tables([tmp_path / "nodes.parquet", tmp_path / "edges.parquet"])
    assert t.nodes["id"].tolist() == ["1", "2", "3"]


def test_pandas_index_column_is_not_an_attribute(tmp_path: Path) -> None:
    nodes = pd.DataFrame({"id": ["a", "b"], "stage": ["s1", "s2"]}, index=[10, 11])
    edges = pd.DataFrame({"source": ["a"], "target": ["b"], "flow": [1.0]})
    nodes.to_parquet(tmp_path / "nodes.parquet", index=True)
    edges.to_parquet(tmp_path / "edges.parquet", index=False)
    G = sg.load(tmp_path)
    assert all(not k.startswith("__index") for _, d in G.nodes(data=True) for k in d)
    assert any("pandas index" in a for a in G.graph["provenance"]["assumptions"])


# ---------------------------------------------------------------------------- bad inputs


def _good(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.DataFrame(
        {
            "id": ["m1", "m2", "r1", "u1"],
            "stage": ["mining", "mining", "refining", "end_use"],
            "country": ["CHN", "AUS", "CHN", "USA"],
            "value": [10.0, 5.0, 14.0, 14.0],
        }
    )
    edges = pd.DataFrame(
        {"source": ["m1", "m2", "r1"], "target": ["r1", "r1", "u1"], "flow": [9.0, 5.0, 14.0]}
    )
    return nodes, edges


def _write(folder: Path, nodes: pa.Table | pd.DataFrame, edges: pa.Table | pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, t in (("nodes", nodes), ("edges", edges)):
        table = t if isinstance(t, pa.Table) else pa.Table.from_pandas(t, preserve_index=False)
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def _bad_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (input folder, the one error line expected on stderr)."""
    nodes, edges = _good(tmp_path)
    cases: dict[str, tuple[Path, str]] = {}

    e = pa.Table.from_pandas(edges, preserve_index=False)
    bool_flow = e.set_column(2, "flow", pa.array([True, False, True]))
    cases["wrong type (bool flow)"] = (
        _write(tmp_path / "bool", nodes, bool_flow),
        "error: edges.parquet, row 1, column 'flow': a boolean column cannot hold numbers "
        "(use float, integer or text): 'True'",
    )
    text_value = nodes.assign(value=["10", "5", "abc", "14"])
    cases["wrong type (text in a number column)"] = (
        _write(tmp_path / "text", text_value, edges),
        "error: nodes.parquet, row 3, column 'value': not a number: 'abc'",
    )
    nested = pa.Table.from_pandas(nodes, preserve_index=False).set_column(
        2, "country", pa.array([["CHN"], ["AUS"], ["CHN"], ["USA"]])
    )
    cases["wrong type (list column)"] = (
        _write(tmp_path / "nested", nested, edges),
        "error: nodes.parquet, row 1, column 'country': a list column cannot hold "
        "text (use a string column): \"['CHN']\"",
    )
    cases["missing column (flow)"] = (
        _write(tmp_path / "noflow", nodes, edges.drop(columns="flow")),
        "error: edges.parquet: connections table has no Flow column (also accepted: Weight, "
        "Value, Quantity)",
    )
    cases["missing column (id)"] = (
        _write(tmp_path / "noid", nodes.drop(columns="id"), edges),
        "error: nodes.parquet: no ID or Label among the column names",
    )
    dup = pd.concat([nodes, nodes.iloc[[0]].assign(id=" M1 ")], ignore_index=True)
    cases["duplicate ids"] = (
        _write(tmp_path / "dup", dup, edges),
        "error: nodes.parquet, row 5, column 'id': duplicate ID (same as row 1 after trimming "
        "and ignoring case): 'M1'",
    )
    cases["null stage"] = (
        _write(
            tmp_path / "nullstage",
            nodes.assign(stage=["mining", None, "refining", "end_use"]),
            edges,
        ),
        "error: nodes.parquet, row 2, column 'stage': empty required cell: every node needs a "
        "stage",
    )
    cases["null flow"] = (
        _write(tmp_path / "nullflow", nodes, edges.assign(flow=[9.0, None, 14.0])),
        "error: edges.parquet, row 2, column 'flow': empty required cell: every connection needs "
        "a flow",
    )
    nan_flow = e.set_column(2, "flow", pa.array([9.0, 5.0, float("nan")], from_pandas=False))
    cases["NaN flow (not null)"] = (
        _write(tmp_path / "nanflow", nodes, nan_flow),
        "error: edges.parquet, row 3, column 'flow': not a finite number: 'nan'",
    )
    cases["dangling edge"] = (
        _write(tmp_path / "dangling", nodes, edges.assign(target=["r1", "r9", "u1"])),
        "error: edges.parquet, row 2, column 'target': unknown node: no element has this ID: 'r9'",
    )
    trunc = _write(tmp_path / "trunc", nodes, edges)
    data = (trunc / "nodes.parquet").read_bytes()
    (trunc / "nodes.parquet").write_bytes(data[: len(data) // 2])
    cases["truncated file"] = (
        trunc,
        "error: nodes.parquet: truncated Parquet file: its footer is missing (the file was cut "
        "short)",
    )
    not_pq = _write(tmp_path / "notpq", nodes, edges)
    nodes.to_csv(not_pq / "nodes.parquet", index=False)
    cases["not a Parquet file"] = (
        not_pq,
        "error: nodes.parquet: not a Parquet file (it looks like text, e.g. CSV; name it .csv) "
        "(Parquet files start with 'PAR1')",
    )
    empty = _write(tmp_path / "empty", nodes, edges)
    (empty / "edges.parquet").write_bytes(b"")
    cases["empty file"] = (empty, "error: edges.parquet: file is empty")
    return cases


def test_bad_parquet_inputs_one_precise_error_each_exit_1_nothing_written(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = _bad_cases(tmp_path / "in")
    assert len(cases) >= 12
    for name, (folder, expected) in cases.items():
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        out_dir = tmp_path / "out" / name.replace(" ", "_")
        out_dir.mkdir(parents=True)
        target = out_dir / "sweep.parquet"
        result = runner.invoke(
            app, ["sweep", str(folder), "--format", "parquet", "-o", str(target)]
        )
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert result.exit_code == 1, (name, result.stderr)
        assert errors == [expected], name
        assert "Traceback" not in result.stderr
        assert list(out_dir.iterdir()) == [], name  # nothing written, no temporary file left
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # input untouched


def test_good_parquet_folder_sweeps_to_parquet(tmp_path: Path) -> None:
    nodes, edges = _good(tmp_path)
    folder = _write(tmp_path / "ok", nodes, edges)
    target = tmp_path / "out" / "sweep.parquet"
    result = CliRunner().invoke(
        app, ["sweep", str(folder), "--format", "parquet", "-o", str(target)]
    )
    assert result.exit_code == 0, result.stderr
    got = pd.read_parquet(target)
    expected = sg.sweep(sg.load(folder), progress=False)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)
    # hand check: r1 carries all 14 t/yr to the only end use
    assert got.set_index("node").loc["r1", "weighted_loss"] == 1.0
    assert math.isclose(got.set_index("node").loc["m1", "weighted_loss"], 9 / 14)


def test_read_tables_names_the_file_for_unreadable_arrow(tmp_path: Path) -> None:
    path = tmp_path / "nodes.feather"
    path.write_bytes(b"ARROW1\x00\x00garbage that is not an IPC file")
    with pytest.raises(InputError, match=r"nodes\.feather: truncated Arrow/Feather file"):
        read_tables(path)
    path.write_bytes(b"ARROW1\x00\x00" + b"\x00" * 64 + b"ARROW1")
    with pytest.raises(InputError, match=r"nodes\.feather: not a readable Arrow/Feather file"):
        read_tables(path)


def test_every_problem_of_a_messy_parquet_file_is_listed(tmp_path: Path) -> None:
    nodes, edges = _good(tmp_path)
    messy = nodes.assign(value=["10", "1,234.5", "0,5", "-3"], id=["m1", " m2 ", "r1", "'u1"])
    folder = _write(tmp_path / "messy", messy, edges.assign(target=["r1", "r1", "u1"]))
    with pytest.raises(ValidationError) as info:
        sg.load(folder)
    shown = [str(p) for p in info.value.problems if p.severity == "error"]
    # " m2 " is trimmed (edges to m2 are fine); "'u1" keeps its apostrophe (only "'=" and the
    # like are read without it), so the edge to u1 dangles; files in name order
    assert shown == [
        "edges.parquet, row 3, column 'target': unknown node: no element has this ID (did you "
        "mean ''u1'?)",
        "nodes.parquet, row 3, column 'value': decimal comma is not accepted; write 0.5 (point "
        "as decimal separator): '0,5'",
        "nodes.parquet, row 4, column 'value': negative number: '-3'",
    ]


def test_parquet_to_a_pipe_and_json_csv_files(tmp_path: Path) -> None:
    import io
    import json
    import os
    import subprocess
    import sys

    nodes, edges = _good(tmp_path)
    folder = _write(tmp_path / "ok", nodes, edges)
    env = {**os.environ, "PYTHONPATH": str(Path(sg.__file__).parents[1])}
    run = subprocess.run(
        [sys.executable, "-m", "supplygraph", "sweep", str(folder), "--format", "parquet"],
        capture_output=True,
        check=True,
        env=env,
    )
    piped = pd.read_parquet(io.BytesIO(run.stdout))
    expected = sg.sweep(sg.load(folder), progress=False)
    pd.testing.assert_frame_equal(piped, expected, check_dtype=False, check_exact=True)
    runner = CliRunner()
    for fmt in ("json", "csv"):
        target = tmp_path / f"sweep.{fmt}"
        result = runner.invoke(app, ["sweep", str(folder), "--format", fmt, "-o", str(target)])
        assert result.exit_code == 0, result.stderr
        printed = runner.invoke(app, ["sweep", str(folder), "--format", fmt]).stdout
        assert target.read_text(encoding="utf-8") == printed  # the file holds what stdout shows
    assert [r["node"] for r in json.loads((tmp_path / "sweep.json").read_text())] == list(
        expected["node"]
    )
