"""The Sankey of flows by stage and country: totals against the graph, cycles, offline SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

import supplygraph as sg
from supplygraph.sankey import OTHER, sankey_data, sankey_diagram


def stage_flows(G: nx.DiGraph) -> tuple[dict[str, float], dict[str, float]]:
    """Flow out of and into each stage's nodes, summed straight from the edges."""
    out: dict[str, float] = {}
    into: dict[str, float] = {}
    for u, v, d in G.edges(data=True):
        f = float(d.get("flow") or 0.0)
        out[G.nodes[u]["stage"]] = out.get(G.nodes[u]["stage"], 0.0) + f
        into[G.nodes[v]["stage"]] = into.get(G.nodes[v]["stage"], 0.0) + f
    return out, into


def cyclic_chain() -> nx.DiGraph:
    """mining -> refining -> magnets -> end use, with magnet scrap recycled to refining."""
    G = nx.DiGraph(stages=["mining", "refining", "magnets", "end_use"], name="loop")
    for n, s, c in [
        ("CHN:m", "mining", "CHN"),
        ("AUS:m", "mining", "AUS"),
        ("CHN:r", "refining", "CHN"),
        ("MYS:r", "refining", "MYS"),
        ("CHN:g", "magnets", "CHN"),
        ("JPN:g", "magnets", "JPN"),
        ("USA:e", "end_use", "USA"),
    ]:
        G.add_node(n, stage=s, country=c, unit="t")
    for u, v, f in [
        ("CHN:m", "CHN:r", 60.0),
        ("AUS:m", "MYS:r", 20.0),
        ("CHN:r", "CHN:g", 55.0),
        ("MYS:r", "JPN:g", 20.0),
        ("CHN:g", "USA:e", 50.0),
        ("JPN:g", "USA:e", 18.0),
        ("JPN:g", "CHN:r", 2.0),  # recycling: back to an earlier stage
        ("CHN:r", "MYS:r", 3.0),  # trade within a stage
    ]:
        G.add_edge(u, v, flow=f, unit="t")
    return G


@pytest.mark.parametrize("top", [1, 3, 8])
def test_totals_per_stage_equal_the_graph(top: int) -> None:
    G = sg.load("rare-earths")
    nodes, links = sankey_data(G, top=top)
    out, into = stage_flows(G)
    got_out = links.groupby(nodes.stage.to_numpy()[links.source])["flow"].sum()
    got_in = links.groupby(nodes.stage.to_numpy()[links.target])["flow"].sum()
    for stage, total in out.items():
        assert got_out[stage] == pytest.approx(total, rel=1e-12)
    for stage, total in into.items():
        assert got_in[stage] == pytest.approx(total, rel=1e-12)
    # per node: bands out of a cell = flows out of its member countries' nodes
    for row in nodes.itertuples():
        members = set(row.members)
        want = sum(
            d["flow"]
            for u, _, d in G.edges(data=True)
            if G.nodes[u]["stage"] == row.stage and G.nodes[u]["country"] in members
        )
        assert row.outflow == pytest.approx(want, rel=1e-12, abs=1e-9)
    # at most `top` countries of their own per stage (+1 when only one would be left over)
    per_stage = nodes[nodes.country != OTHER].groupby("stage").size()
    assert (per_stage <= top + 1).all()


def test_cycles_are_return_bands() -> None:
    G = cyclic_chain()
    nodes, links = sankey_data(G)
    back = links[links.back]
    pairs = {
        (nodes.country[s], nodes.stage[s], nodes.country[t], nodes.stage[t])
        for s, t in zip(back.source, back.target, strict=True)
    }
    assert pairs == {("JPN", "magnets", "CHN", "refining"), ("CHN", "refining", "MYS", "refining")}
    out, _ = stage_flows(G)
    assert links.flow.sum() == pytest.approx(sum(out.values()))
    svg = sankey_diagram(G).svg
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    dashed = [p for p in root.iter(f"{ns}path") if p.get("stroke-dasharray")]
    assert len(dashed) == 2
    assert "2 flows back to the same or an earlier stage" in svg


def test_svg_is_offline_and_titled(tmp_path: Path) -> None:
    G = sg.load("rare-earths")
    path = sankey_diagram(G, tmp_path / "flows.svg")
    text = path.read_text(encoding="utf-8")
    root = ET.fromstring(text)  # well-formed XML
    assert root.tag.endswith("svg")
    for el in root.iter():
        for attr, value in el.attrib.items():
            assert "http" not in value or attr == "xmlns", (el.tag, attr, value)
    assert "<script" not in text
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t and t.startswith("CHN → CHN") for t in titles)  # band tooltips with flows
    assert len(text) < 200_000
    page = sankey_diagram(G, tmp_path / "flows.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page and text.split("\n", 1)[1].strip() in page
    from supplygraph.errors import InputError

    with pytest.raises(InputError, match=r"\.svg or \.html"):
        sankey_diagram(G, tmp_path / "flows.png")


def test_labels_are_escaped() -> None:
    G = cyclic_chain()
    G.graph["name"] = "<script>alert(1)</script> & co"
    svg = sankey_diagram(G).svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)


def test_cli_sankey(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from supplygraph.cli import app

    out = tmp_path / "s.svg"
    result = CliRunner().invoke(app, ["sankey", "-o", str(out), "--top", "4"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<?xml")
    bad = CliRunner().invoke(app, ["sankey", "-o", str(tmp_path / "s.pdf")])
    assert bad.exit_code == 1 and "svg or .html" in bad.output


@pytest.mark.browser
def test_sankey_renders_offline_in_chromium(browser, tmp_path: Path) -> None:
    G = sg.load("rare-earths")
    path = sankey_diagram(G, tmp_path / "flows.html")
    url = path.resolve().as_uri()
    page = browser.new_page()
    try:
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: requests.append(r.url) if r.url != url else None)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        _, links = sankey_data(G)
        bands = page.evaluate("document.querySelectorAll('svg path').length")
        assert bands == len(links)
        box = page.evaluate(
            "(() => { const b = document.querySelector('svg').getBoundingClientRect(); return [b.width, b.height]; })()"
        )
        assert box[0] > 500 and box[1] > 300
        assert requests == [] and errors == []
    finally:
        page.close()
