"""Foundation: package layout, builders, loaders, exports, CLI skeleton."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

import supplygraph as sg
from supplygraph.build import (
    POOLED_MARKET_ASSUMPTION,
    graph_from_frames,
    graph_from_stage_shares,
    graph_to_frames,
    infer_stage_order,
)
from supplygraph.cli import app
from supplygraph.errors import InputError, ValidationError
from supplygraph.io.exports import export_graph

runner = CliRunner()


def test_stdlib_graphlib_is_not_shadowed():
    import graphlib

    assert hasattr(graphlib, "TopologicalSorter")
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(graphlib.__file__).resolve().parent == stdlib
    repo = Path(__file__).resolve().parents[1]
    assert not (repo / "graphlib" / "__init__.py").exists()


def test_stdlib_graphlib_not_shadowed_from_repo_root():
    repo = Path(__file__).resolve().parents[1]
    code = "import graphlib; print(graphlib.TopologicalSorter.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "graphlib"


# --- pooled builder: 3-stage toy, every flow computed by hand --------------------------------
# mining: AAA 60, BBB 40 (total 100); refining: AAA 90, CCC 10 (total 100);
# end use: XXA 70, XXB 30.
# refining intake = 100 t mined split 90/10 by refiners' values:
#   AAA:mining -> AAA:refining = 0.6 * 90 = 54   AAA:mining -> CCC:refining = 0.6 * 10 = 6
#   BBB:mining -> AAA:refining = 0.4 * 90 = 36   BBB:mining -> CCC:refining = 0.4 * 10 = 4
# end-use intake = 100 t refined split 70/30:
#   AAA:refining -> USA:cars = 0.9 * 70 = 63     AAA:refining -> DEU:wind = 0.9 * 30 = 27
#   CCC:refining -> USA:cars = 0.1 * 70 = 7      CCC:refining -> DEU:wind = 0.1 * 30 = 3
TOY_SHARES = pd.DataFrame(
    {
        "stage": ["mining", "mining", "refining", "refining", "end_use", "end_use"],
        "country": ["AAA", "BBB", "AAA", "CCC", "USA", "DEU"],
        "end_use": [None, None, None, None, "cars", "wind"],
        "value": [60, 40, 90, 10, 70, 30],
    }
)
TOY_FLOWS = {
    ("AAA:mining", "AAA:refining"): 54.0,
    ("AAA:mining", "CCC:refining"): 6.0,
    ("BBB:mining", "AAA:refining"): 36.0,
    ("BBB:mining", "CCC:refining"): 4.0,
    ("AAA:refining", "USA:cars"): 63.0,
    ("AAA:refining", "DEU:wind"): 27.0,
    ("CCC:refining", "USA:cars"): 7.0,
    ("CCC:refining", "DEU:wind"): 3.0,
}


def test_pooled_builder_hand_computed_flows():
    G = graph_from_stage_shares(TOY_SHARES, stages=["mining", "refining", "end_use"])
    got = {(u, v): d["flow"] for u, v, d in G.edges(data=True)}
    assert got == pytest.approx(TOY_FLOWS)
    assert all(d["basis"] == "pooled" for _, _, d in G.edges(data=True))
    assert G.nodes["USA:cars"]["end_use"] == "cars"
    assert POOLED_MARKET_ASSUMPTION in G.graph["provenance"]["assumptions"]


def test_pooled_builder_bilateral_flows_replace_pooled_pairs():
    flows = pd.DataFrame(
        {
            "source": ["BBB:mining", "AAA:mining"],
            "target": ["CCC:refining", "CCC:refining"],
            "flow": [10, 0],
            "source_ref": ["TRADE-1", "TRADE-2"],
        }
    )
    G = graph_from_stage_shares(TOY_SHARES, flows, stages=["mining", "refining", "end_use"])
    assert G.edges["BBB:mining", "CCC:refining"]["flow"] == 10.0
    assert G.edges["BBB:mining", "CCC:refining"]["basis"] == "bilateral"
    assert G.edges["BBB:mining", "CCC:refining"]["source_ref"] == "TRADE-1"
    assert not G.has_edge("AAA:mining", "CCC:refining")  # a flow of 0 removes the pair
    assert G.edges["BBB:mining", "AAA:refining"]["flow"] == pytest.approx(36.0)  # untouched


def test_pooled_builder_inputs_from_and_intake_share():
    # industrial end use draws 75 % of refining output; cars (from refining) take the rest.
    shares = pd.DataFrame(
        {
            "stage": ["mining", "refining", "end_use", "end_use"],
            "country": ["AAA", "AAA", "USA", "USA"],
            "end_use": [None, None, "cars", "industrial"],
            "value": [100, 80, 5, 60],
            "inputs_from": [None, None, "refining", "refining"],
            "intake_share": [None, None, None, 0.75],
        }
    )
    G = graph_from_stage_shares(shares, stages=["mining", "refining", "end_use"])
    assert G.edges["AAA:refining", "USA:industrial"]["flow"] == pytest.approx(60.0)  # 0.75 * 80
    assert G.edges["AAA:refining", "USA:cars"]["flow"] == pytest.approx(20.0)  # 0.25 * 80
    assert G.edges["AAA:mining", "AAA:refining"]["flow"] == pytest.approx(100.0)


def test_frames_builder_reports_every_problem_with_location():
    nodes = pd.DataFrame(
        {"id": ["a", "b", "B ", ""], "stage": ["s1", "s2", "s2", "s1"], "value": [1, "x", -2, 1]}
    )
    edges = pd.DataFrame({"source": ["a", "a"], "target": ["b", "zz"], "flow": [1, None]})
    with pytest.raises(ValidationError) as info:
        graph_from_frames(nodes, edges, stages=["s1", "s2"], file="chain.csv")
    found = {(p.row, p.column, p.message.split(" (")[0]) for p in info.value.problems}
    assert found == {
        (3, "value", "not a number"),
        (4, "id", "duplicate node id"),
        (4, "value", "negative number"),
        (5, "id", "empty node id"),
        (3, "target", "connection names a node that is not defined"),
        (3, "flow", "empty flow"),
    }
    assert all(p.file == "chain.csv" for p in info.value.problems)


def test_stage_order_is_inferred_and_said():
    nodes = pd.DataFrame({"id": ["m", "x", "r"], "stage": ["magnet", "mine", "refine"]})
    edges = pd.DataFrame({"source": ["x", "r"], "target": ["r", "m"], "flow": [1, 1]})
    G = graph_from_frames(nodes, edges)
    assert G.graph["stages"] == ["mine", "refine", "magnet"]
    assert G.graph["stage_order_inferred"] is True
    assert infer_stage_order({"a": "p", "b": "q"}, [("a", "b"), ("b", "a")])[1] is False


def test_cycles_and_self_loops_are_legal_and_warned():
    nodes = pd.DataFrame({"id": ["a", "b"], "stage": ["s", "s"]})
    edges = pd.DataFrame({"source": ["a", "b", "a"], "target": ["b", "a", "a"], "flow": [1, 1, 1]})
    G = graph_from_frames(nodes, edges)
    messages = [p.message for p in sg.validate_graph(G)]
    assert any("self-loop" in m for m in messages)
    assert any("cycles" in m for m in messages)


def test_graph_to_frames_round_trip():
    G = graph_from_stage_shares(TOY_SHARES, stages=["mining", "refining", "end_use"])
    nodes, edges = graph_to_frames(G)
    H = graph_from_frames(nodes, edges, stages=G.graph["stages"])
    assert dict(H.nodes(data=True)) == dict(G.nodes(data=True))
    assert {(u, v): d for u, v, d in H.edges(data=True)} == {
        (u, v): d for u, v, d in G.edges(data=True)
    }


@pytest.mark.parametrize("suffix", [".graphml", ".gexf", ".json"])
def test_export_round_trip_keeps_nodes_and_attributes(tmp_path, suffix):
    G = sg.load("rare-earths")
    path = export_graph(G, tmp_path / f"g{suffix}")
    if suffix == ".graphml":
        raw = nx.read_graphml(path)
    elif suffix == ".gexf":
        raw = nx.read_gexf(path)
    else:
        raw = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
    assert raw.number_of_nodes() == G.number_of_nodes()
    assert raw.number_of_edges() == G.number_of_edges()
    for node, data in G.nodes(data=True):
        for key in ("stage", "country", "value"):
            if key in data:
                got = raw.nodes[node][key]
                assert got == pytest.approx(data[key]) if key == "value" else got == data[key]
    # and supplygraph loads the file back to the same graph
    H = sg.load(path)
    assert H.graph["stages"] == G.graph["stages"]
    assert dict(H.nodes(data=True)) == dict(G.nodes(data=True))
    for u, v, d in G.edges(data=True):
        assert H.edges[u, v]["flow"] == pytest.approx(d["flow"])


def test_export_does_not_mutate_graph(tmp_path):
    G = sg.load("rare-earths")
    before = (dict(G.nodes(data=True)), dict(G.graph))
    export_graph(G, tmp_path / "g.graphml")
    assert (dict(G.nodes(data=True)), dict(G.graph)) == before


def test_bad_sources_give_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="not a built-in dataset"):
        sg.load("no-such-thing")
    bad = tmp_path / "broken.graphml"
    bad.write_text("<graphml><unclosed")
    with pytest.raises(InputError, match=r"broken\.graphml: not a readable graph file"):
        sg.load(bad)
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{nope")
    with pytest.raises(InputError, match=r"broken.json: not valid JSON \(line 1\)"):
        sg.load(bad_json)
    text = tmp_path / "x.txt"
    text.write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        sg.load(text)


def test_csv_folder_keeps_namibia_and_reports_rows(tmp_path):
    (tmp_path / "nodes.csv").write_text("id,stage,country,value\nn1,mine,NA,5\nn2,mill,ZAF,4\n")
    (tmp_path / "edges.csv").write_text("source,target,flow\nn1,n2,4\n")
    G = sg.load(tmp_path)
    assert G.nodes["n1"]["country"] == "NAM"  # "NA" is Namibia (ISO3 NAM), not missing
    (tmp_path / "edges.csv").write_text("source,target,flow\nn1,n3,4\n")
    with pytest.raises(ValidationError, match=r"edges.csv, row 2, column 'target'"):
        sg.load(tmp_path)


# --- CLI -------------------------------------------------------------------------------------


def test_cli_datasets_lists_rare_earths():
    result = runner.invoke(app, ["datasets", "--format", "json"])
    assert result.exit_code == 0, result.output
    names = [r["name"] for r in json.loads(result.stdout)]
    assert "rare-earths" in names


def test_cli_info_prints_stages_in_order():
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert "mining -> separation -> metal -> magnets -> components -> end_use" in result.stdout
    G = sg.load("rare-earths")
    assert f"{G.number_of_nodes()} nodes, {G.number_of_edges()} edges" in result.stdout
    assert "error" not in result.stderr.lower()


def test_cli_export_and_bad_input_exit_codes(tmp_path):
    out = tmp_path / "g.gexf"
    result = runner.invoke(app, ["export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert nx.read_gexf(out).number_of_nodes() == sg.load("rare-earths").number_of_nodes()
    result = runner.invoke(app, ["info", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    result = runner.invoke(app, ["info", "--no-such-option"])
    assert result.exit_code == 2


def test_cli_help_is_fast_and_lazy():
    code = (
        "import sys, time; t = time.perf_counter();"
        "import supplygraph.cli;"
        "heavy = [m for m in ('scipy', 'pyvis', 'openpyxl', 'matplotlib', 'pandas') "
        "if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    result = subprocess.run(
        [sys.executable, "-m", "supplygraph", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage" in result.stdout


def test_manifest_summary_matches_built_graph():
    from supplygraph.datasets import dataset_summaries

    for record in dataset_summaries():
        G = sg.load(record["name"])
        assert (record["nodes"], record["edges"]) == (G.number_of_nodes(), G.number_of_edges())


def test_cli_datasets_does_not_import_pandas():
    code = (
        "import sys; from typer.testing import CliRunner; from supplygraph.cli import app;"
        "r = CliRunner().invoke(app, ['datasets']); assert r.exit_code == 0, r.output;"
        "print(sorted(m for m in ('pandas', 'networkx', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in sg.__all__:
        assert getattr(sg, name) is not None, name
    assert callable(sg.load)  # the function, even after the loading module was imported
