"""Ranges on numeric inputs: template, validation (one precise error per bad cell), exports and
round trips. Independent expectations: hand-written tables and the cells we broke on purpose."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import openpyxl
import pandas as pd
import pytest

from supplygraph.build import graph_from_frames
from supplygraph.errors import ValidationError
from supplygraph.io.exports import export_graph
from supplygraph.io.template import write_template, write_workbook
from supplygraph.loading import load
from supplygraph.validate import check_frames

NODES = """id,stage,country,value,value_low,value_high,unit,inventory_days,inventory_days_low,inventory_days_high
A:mining,mining,AUS,100,80,120,t/yr,,,
B:mining,mining,CHN,300,,350,t/yr,,,
C:magnets,magnets,JPN,50,,,t/yr,30,14,60
"""
EDGES = """source,target,flow,flow_low,flow_high
A:mining,C:magnets,10,5,20
B:mining,C:magnets,40,,
"""


def _write(folder: Path, nodes: str = NODES, edges: str = EDGES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodes.csv").write_text(nodes, encoding="utf-8")
    (folder / "edges.csv").write_text(edges, encoding="utf-8")
    return folder


def _problems(folder: Path) -> list:
    with pytest.raises(ValidationError) as info:
        load(folder)
    return [p for p in info.value.problems if p.severity == "error"]


def test_ranges_load_as_numbers(tmp_path: Path) -> None:
    G = load(_write(tmp_path / "ok"))
    assert G.nodes["A:mining"]["value_low"] == 80.0
    assert G.nodes["B:mining"]["value_high"] == 350.0
    assert "value_low" not in G.nodes["B:mining"]  # a blank bound stays blank (= the value)
    assert G.edges["A:mining", "C:magnets"]["flow_high"] == 20.0


@pytest.mark.parametrize(
    ("cell", "replacement", "column", "row", "words"),
    [
        ("100,80,120", "100,110,120", "value_low", 2, "value_low is above value"),
        ("100,80,120", "100,80,90", "value_high", 2, "value_high is below value"),
        ("30,14,60", "30,40,60", "inventory_days_low", 4, "inventory_days_low is above"),
        ("100,80,120", ",80,120", "value", 2, "a range needs its value"),
    ],
)
def test_one_precise_error_per_bad_range_cell(
    tmp_path: Path, cell: str, replacement: str, column: str, row: int, words: str
) -> None:
    folder = _write(tmp_path / "bad", nodes=NODES.replace(cell, replacement, 1))
    errors = _problems(folder)
    assert len(errors) == 1, errors
    (p,) = errors
    assert (p.file, p.row, p.column) == ("nodes.csv", row, column)
    assert words in p.message


def test_flow_range_outside_flow_is_one_error(tmp_path: Path) -> None:
    folder = _write(tmp_path / "bad", edges=EDGES.replace("10,5,20", "10,12,20"))
    (p,) = _problems(folder)
    assert (p.file, p.row, p.column) == ("edges.csv", 2, "flow_low")


def test_range_on_a_text_column_is_one_error(tmp_path: Path) -> None:
    nodes = NODES.replace("unit,", "unit,country_low,", 1)
    nodes = "\n".join(
        line if i == 0 or not line else line.replace("t/yr,", "t/yr,x,", 1)
        for i, line in enumerate(nodes.split("\n"))
    )
    (p,) = _problems(_write(tmp_path / "bad", nodes=nodes))
    assert p.column == "country_low" and "not one" in p.message


def test_unknown_distribution_and_bad_numbers(tmp_path: Path) -> None:
    lines = NODES.strip().split("\n")
    dists = ["value_dist", "normal", "uniform", "PERT"]
    nodes = "\n".join(f"{line},{d}" for line, d in zip(lines, dists, strict=True)) + "\n"
    nodes = nodes.replace("300,,350", "300,abc,350", 1)
    errors = _problems(_write(tmp_path / "bad", nodes=nodes))
    found = {(p.row, p.column): p.message for p in errors}
    assert len(errors) == 2, errors
    assert "unknown distribution" in found[(2, "value_dist")]
    assert "not a number" in found[(3, "value_low")]


def test_dataframe_validation_applies_the_same_rules() -> None:
    nodes = pd.DataFrame(
        {
            "id": ["a", "b"],
            "stage": ["s", "t"],
            "value": [10.0, 5.0],
            "value_low": [12.0, 1.0],
            "value_high": [20.0, 4.0],
            "stage_high": [None, "x"],
        }
    )
    edges = pd.DataFrame({"source": ["a"], "target": ["b"], "flow": [1.0]})
    errors = [p for p in check_frames(nodes, edges) if p.severity == "error"]
    where = {(p.row, p.column) for p in errors}
    assert where == {(2, "value_low"), (3, "value_high"), (None, "stage_high")}
    with pytest.raises(ValidationError):
        graph_from_frames(nodes, edges)


def test_template_has_range_columns_and_round_trips(tmp_path: Path) -> None:
    path = write_template(tmp_path / "chain.xlsx")
    wb = openpyxl.load_workbook(path)
    el_headers = [c.value for c in wb["Elements"][1]]
    cn_headers = [c.value for c in wb["Connections"][1]]
    for h in ("Value low", "Value high", "Capacity low", "Inventory days high"):
        assert h in el_headers
    assert {"Flow low", "Flow high"} <= set(cn_headers)
    # the familiar columns keep their places
    assert el_headers[:6] == ["ID", "Label", "Stage", "Country", "Value", "Unit"]
    el = wb["Elements"]
    lo, hi = el_headers.index("Value low") + 1, el_headers.index("Value high") + 1
    el.cell(row=2, column=lo, value=250000)
    el.cell(row=2, column=hi, value=280000)
    cn = wb["Connections"]
    flo = cn_headers.index("Flow low") + 1
    cn.cell(row=2, column=flo, value=200000)
    wb.save(path)
    G1 = load(path)
    assert G1.nodes["CHN:mining"]["value_low"] == 250000.0
    assert G1.nodes["CHN:mining"]["value_high"] == 280000.0
    assert G1.edges["CHN:mining", "CHN:separation"]["flow_low"] == 200000.0
    G2 = load(write_workbook(G1, tmp_path / "export.xlsx"))
    for n, d in G1.nodes(data=True):
        for k in ("value_low", "value_high"):
            assert G2.nodes[n].get(k) == d.get(k)
    assert G2.edges["CHN:mining", "CHN:separation"]["flow_low"] == 200000.0


@pytest.mark.parametrize("suffix", [".graphml", ".json", ".gexf"])
def test_ranges_survive_graph_exports(tmp_path: Path, suffix: str) -> None:
    G = load(_write(tmp_path / "ok"))
    path = export_graph(G, tmp_path / f"g{suffix}")
    H = load(path)
    assert H.nodes["A:mining"]["value_low"] == pytest.approx(80.0)
    assert H.nodes["C:magnets"]["inventory_days_high"] == pytest.approx(60.0)
    assert H.edges["A:mining", "C:magnets"]["flow_high"] == pytest.approx(20.0)


def test_builtin_dataset_ranges_are_valid() -> None:
    G = load("rare-earths")
    n_ranges = sum(1 for _, d in G.nodes(data=True) if "value_low" in d or "value_high" in d)
    assert n_ranges >= 40
    assert isinstance(G, nx.DiGraph)
