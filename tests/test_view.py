"""Tests of the interactive network view (supplygraph.view, ``supplygraph visualize``).

Unit tests check the written HTML without a browser: offline (no http(s) resource, no external
tag), inert injection labels, hand-computed sizes/shares/widths, no mutation of the graph.
Browser tests (``-m browser``) load the file in headless Debian Chromium with every request other
than the file itself blocked and recorded, and check what the page's global ``network`` holds.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import re
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from supplygraph.view import COUNTRY_PALETTE, OTHER_COLOR, network_html, visualize

SCRIPT_LABEL = "<script>window.__pwned=1</script>"
IMG_LABEL = '<img src=x onerror="window.__pwned2=1">'
CHROMIUM = "/usr/bin/chromium"


def toy_graph() -> nx.DiGraph:
    """A 4-stage chain with hand-checkable numbers and two hostile labels."""
    G = nx.DiGraph(stages=["mining", "separation", "magnets", "end_use"], name="toy chain")
    add = G.add_node
    add("CHN:mining", stage="mining", country="CHN", value=270.0, unit="kt/yr")
    add("USA:mining", stage="mining", country="USA", value=45.0, unit="kt/yr")
    add("MMR:mining", stage="mining", country="MMR", value=31.0, unit="kt/yr")
    add("ROW:mining", stage="mining", country="ROW", value=14.0, unit="kt/yr")
    add("CHN:separation", stage="separation", country="CHN", value=300.0, unit="kt/yr")
    add("MYS:separation", stage="separation", country="MYS", value=12.0, unit="kt/yr")
    add(
        "CHN:magnets", stage="magnets", country="CHN", value=270.0, unit="kt/yr", label=SCRIPT_LABEL
    )
    add("JPN:magnets", stage="magnets", country="JPN", value=20.0, unit="kt/yr", label=IMG_LABEL)
    add("USA:defense", stage="end_use", country="USA", value=10.0, unit="kt/yr", end_use="defense")
    add("DEU:vehicles", stage="end_use", country="DEU", value=100.0, unit="kt/yr")
    add("CHN:vehicles", stage="end_use", country="CHN", value=180.0, unit="kt/yr")
    for u, v, f in [
        ("CHN:mining", "CHN:separation", 270.0),
        ("USA:mining", "CHN:separation", 30.0),
        ("USA:mining", "MYS:separation", 5.0),
        ("MMR:mining", "CHN:separation", 31.0),
        ("ROW:mining", "MYS:separation", 7.0),
        ("CHN:separation", "CHN:magnets", 260.0),
        ("CHN:separation", "JPN:magnets", 12.0),
        ("MYS:separation", "JPN:magnets", 8.0),
        ("CHN:magnets", "CHN:vehicles", 180.0),
        ("CHN:magnets", "DEU:vehicles", 85.0),
        ("CHN:magnets", "USA:defense", 5.0),
        ("JPN:magnets", "USA:defense", 5.0),
        ("JPN:magnets", "DEU:vehicles", 15.0),
    ]:
        G.add_edge(u, v, flow=f, source_ref="</script><script>window.__pwned3=1</script>")
    return G


def layered_graph(n_nodes: int = 2000, n_stages: int = 5, fan_out: int = 2) -> nx.DiGraph:
    """A generated layered graph: ``n_nodes`` spread over ``n_stages``, ``fan_out`` edges each."""
    stages = [f"s{i}" for i in range(n_stages)]
    G = nx.DiGraph(stages=stages, name="generated")
    per = n_nodes // n_stages
    for stage in stages:
        for i in range(per):
            G.add_node(
                f"{stage}:{i}",
                stage=stage,
                country=f"C{i % 17:02d}",
                value=float(1 + (i * 7919) % 97),
                unit="t/yr",
            )
    for s in range(n_stages - 1):
        for i in range(per):
            for k in range(fan_out):
                j = (i * 31 + k * 17 + s) % per
                G.add_edge(f"s{s}:{i}", f"s{s + 1}:{j}", flow=float(1 + (i + j) % 13))
    return G


# hand-made chokepoint table in the shape of supplygraph.chokepoints (independent of the kernels)
def chokepoint_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "kind": ["node", "node", "country-stage"],
            "stage": ["separation", "magnets", "mining"],
            "country": ["CHN", "CHN", "CHN"],
            "max_dependency": [0.9, 0.8, 0.7],
            "max_dependency_target": ["CHN:vehicles", "DEU:vehicles", "CHN:vehicles"],
            "n_targets_at_threshold": [3, 2, 1],
            "weighted_loss": [0.85, 0.75, 0.6],
            "reason": ["holds 96 % of separation", "<b>bold</b>", "group"],
        },
        index=pd.Index(["CHN:separation", "CHN:magnets", "CHN@mining"], name="id"),
    )


def page_data(html: str) -> dict:
    m = re.search(r'<script id="sg-data" type="application/json">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def snapshot(G: nx.DiGraph) -> tuple:
    return (
        copy.deepcopy(dict(G.graph)),
        [(n, copy.deepcopy(d)) for n, d in G.nodes(data=True)],
        [(u, v, copy.deepcopy(d)) for u, v, d in G.edges(data=True)],
    )


# ---------------------------------------------------------------------------------------------
# unit tests (no browser)


@pytest.fixture(scope="module")
def toy_html() -> str:
    return network_html(toy_graph(), chokepoints=chokepoint_table())


def test_does_not_mutate_the_graph(tmp_path: Path) -> None:
    G = toy_graph()
    before = snapshot(G)
    visualize(G, tmp_path / "a.html", chokepoints=chokepoint_table())
    assert snapshot(G) == before


def test_does_not_mutate_with_computed_analyses_and_shock(tmp_path: Path) -> None:
    G = toy_graph()
    before = snapshot(G)
    visualize(G, tmp_path / "b.html", shocks=["CHN@separation"])
    assert snapshot(G) == before


def test_offline_single_file(toy_html: str) -> None:
    import html5lib

    doc = html5lib.parse(toy_html, namespaceHTMLElements=False)
    for el in doc.iter():
        for attr in ("src", "href", "srcset", "action", "poster", "data"):
            value = el.get(attr)
            assert value is None or value.startswith("data:"), (el.tag, attr, value)
    assert doc.findall(".//link") == []
    assert doc.findall(".//iframe") == []
    for script in doc.findall(".//script"):
        assert script.get("src") is None
    styles = "".join(s.text or "" for s in doc.findall(".//style"))
    assert "@import" not in styles
    for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", styles):
        assert url.startswith("data:"), url
    # no http(s) resource reference anywhere in markup attributes or CSS
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", toy_html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", toy_html, re.I)


def test_csp_blocks_network_and_pins_scripts(toy_html: str) -> None:
    import html5lib

    doc = html5lib.parse(toy_html, namespaceHTMLElements=False)
    metas = [m for m in doc.findall(".//meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert len(metas) == 1
    csp = metas[0].get("content")
    assert "default-src 'none'" in csp
    assert "connect-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    executable = [s for s in doc.findall(".//script") if s.get("type") is None]
    assert len(executable) == 2
    for script in executable:
        digest = base64.b64encode(hashlib.sha256(script.text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_injection_labels_are_inert(toy_html: str) -> None:
    import html5lib

    # the raw payloads never appear as markup
    for payload in (SCRIPT_LABEL, IMG_LABEL, "</script><script>window.__pwned3=1"):
        assert payload not in toy_html
    doc = html5lib.parse(toy_html, namespaceHTMLElements=False)
    assert doc.findall(".//img") == []
    assert len(doc.findall(".//script")) == 4  # data and graph JSON, vis-network, the view's script
    # ... but survive as text in the data (tooltips; drawn labels with labels="full")
    tips = {n["id"]: n["title"] for n in page_data(toy_html)["nodes"]}
    assert tips["CHN:magnets"].startswith(SCRIPT_LABEL)
    full = network_html(toy_graph(), chokepoints=chokepoint_table(), labels="full")
    assert SCRIPT_LABEL not in full and IMG_LABEL not in full
    texts = {n["id"]: n["text"] for n in page_data(full)["nodes"]}
    assert texts["CHN:magnets"] == f"{SCRIPT_LABEL} · 93 %"  # 270 / 290
    assert texts["JPN:magnets"] == f"{IMG_LABEL} · 7 %"


def test_short_labels(toy_html: str) -> None:
    texts = {n["id"]: n["text"] for n in page_data(toy_html)["nodes"]}
    assert texts["CHN:separation"] == "CHN · 96 %"  # id "CHN:separation" in its own column
    assert texts["USA:defense"] == "USA defense · 3 %"  # end use: 10 / 290
    assert texts["CHN:vehicles"] == "CHN vehicles · 62 %"  # 180 / 290
    assert "label" not in page_data(toy_html)["nodes"][0]  # the page draws `text` itself


def test_valid_html5_even_with_control_characters_in_labels() -> None:
    import html5lib

    G = toy_graph()
    G.nodes["USA:mining"]["label"] = "bad\x85\x01\ufffe name"
    G.graph["name"] = "chain\x0b"
    html = network_html(G, chokepoints=chokepoint_table())
    html5lib.HTMLParser(strict=True).parse(html)  # raises on any parse error
    tips = {n["id"]: n["title"] for n in page_data(html)["nodes"]}
    assert tips["USA:mining"].startswith("bad\x85\x01\ufffe name")  # kept as JSON escapes


def test_title_and_name_are_escaped(tmp_path: Path) -> None:
    G = toy_graph()
    G.graph["name"] = "<b>n</b>"
    html = network_html(
        G, chokepoints=chokepoint_table(), title="</title><script>alert(1)</script>"
    )
    assert "<script>alert(1)" not in html
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>n</b>" not in html


def test_layout_levels_and_options(toy_html: str) -> None:
    data = page_data(toy_html)
    assert data["stages"] == ["mining", "separation", "magnets", "end_use"]
    level = {n["id"]: n["level"] for n in data["nodes"]}
    assert level["USA:mining"] == 0
    assert level["MYS:separation"] == 1
    assert level["JPN:magnets"] == 2
    assert level["USA:defense"] == 3
    hier = data["options"]["layout"]["hierarchical"]
    assert hier["enabled"] is True
    assert hier["direction"] == "LR"
    assert data["options"]["physics"]["enabled"] is False


def test_sizes_follow_share_of_stage(toy_html: str) -> None:
    data = page_data(toy_html)
    size = {n["id"]: n["size"] for n in data["nodes"]}
    # radius = 5 + 17 * sqrt(share); mining total 270 + 45 + 31 + 14 = 360
    assert size["CHN:mining"] == pytest.approx(5 + 17 * math.sqrt(270 / 360), abs=0.01)
    assert size["ROW:mining"] == pytest.approx(5 + 17 * math.sqrt(14 / 360), abs=0.01)
    # separation total 312
    assert size["MYS:separation"] == pytest.approx(5 + 17 * math.sqrt(12 / 312), abs=0.01)
    tips = {n["id"]: n["title"] for n in data["nodes"]}
    assert "Share of stage: 96.2 %" in tips["CHN:separation"]  # 300 / 312
    assert "Share of stage: 75.0 %" in tips["CHN:mining"]  # 270 / 360
    assert "Value: 270 kt/yr" in tips["CHN:mining"]
    assert "Stage: separation" in tips["CHN:separation"]
    assert "Country: CHN (China)" in tips["CHN:separation"]
    # separation HHI from named countries: 10,000 * ((300/312)^2 + (12/312)^2) = 9,260
    assert "Stage HHI: 9,260" in tips["CHN:separation"]


def test_edge_width_follows_flow(toy_html: str) -> None:
    data = page_data(toy_html)
    width = {(e["from"], e["to"]): e["width"] for e in data["edges"]}
    assert width[("CHN:mining", "CHN:separation")] == pytest.approx(12.0)  # the largest flow
    assert width[("USA:mining", "MYS:separation")] == pytest.approx(1 + 11 * 5 / 270, abs=0.01)
    assert len(data["edges"]) == 13
    assert all(e["arrows"] == "to" for e in data["edges"])


def test_country_colours_are_deterministic_and_grey_for_aggregates(toy_html: str) -> None:
    data = page_data(toy_html)
    color = {n["id"]: n["color"]["background"] for n in data["nodes"]}
    # CHN has the largest summed stage shares -> first palette colour
    assert color["CHN:mining"] == COUNTRY_PALETTE[0]
    assert color["CHN:vehicles"] == COUNTRY_PALETTE[0]
    assert color["ROW:mining"] == OTHER_COLOR
    assert network_html(toy_graph(), chokepoints=chokepoint_table()) == toy_html  # stable
    assert "China" in toy_html and "Rest of world" in toy_html  # legend


def test_chokepoints_drawn_and_named(toy_html: str) -> None:
    data = page_data(toy_html)
    node = {n["id"]: n for n in data["nodes"]}
    assert node["CHN:separation"]["shape"] == "diamond"
    assert node["CHN:separation"]["borderWidth"] == 4
    assert node["CHN:magnets"]["shape"] == "diamond"
    assert node["USA:mining"]["shape"] == "dot"
    assert node["CHN:mining"]["shape"] == "dot"  # only a country-stage row, not a node row
    assert "Chokepoint 1 of 2" in node["CHN:separation"]["title"]
    assert "Loss if removed: 85.0 % of end-use output" in node["CHN:separation"]["title"]
    assert "Dependency: 90.0 % of CHN:vehicles output" in node["CHN:separation"]["title"]
    legend = toy_html.split('id="sg-legend"', 1)[1]
    assert "1.</b> CHN (separation)" in legend
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt; (magnets)" in legend
    assert SCRIPT_LABEL not in legend


def test_given_dependency_table_drives_the_tooltips() -> None:
    targets = ["USA:defense", "DEU:vehicles", "CHN:vehicles"]
    dep = pd.DataFrame(0.0, index=list(toy_graph().nodes), columns=targets)
    dep.loc["CHN:separation"] = [0.5, 1.0, 1.0]
    html = network_html(toy_graph(), chokepoints=chokepoint_table(), dependency=dep)
    tips = {n["id"]: n["title"] for n in page_data(html)["nodes"]}
    # weights = target outputs 10, 100, 180 of 290: (0.5 * 10 + 100 + 180) / 290 = 98.3 %
    assert "Loss if removed: 98.3 % of end-use output" in tips["CHN:separation"]
    assert "Dependency: 100.0 % of DEU:vehicles output" in tips["CHN:separation"]
    assert "Dependency: no downstream output relies on this node" in tips["USA:mining"]


def test_shock_shades_nodes_by_remaining_output() -> None:
    html = network_html(toy_graph(), shocks="CHN@separation", chokepoints=chokepoint_table())
    data = page_data(html)
    node = {n["id"]: n for n in data["nodes"]}
    # linear model, hand-computed: CHN:magnets gets all input from CHN:separation -> 0 left;
    # JPN:magnets gets 12 of 20 from CHN:separation -> 8/20 = 0.4 left
    assert node["CHN:separation"]["remaining"] == pytest.approx(0.0)
    assert node["CHN:magnets"]["remaining"] == pytest.approx(0.0)
    assert node["JPN:magnets"]["remaining"] == pytest.approx(0.4)
    assert node["MYS:separation"]["remaining"] == pytest.approx(1.0)
    assert node["CHN:mining"]["remaining"] == pytest.approx(1.0)
    assert node["CHN:separation"]["shapeProperties"] == {"borderDashes": [6, 4]}
    assert (
        node["CHN:magnets"]["color"]["background"] != node["MYS:separation"]["color"]["background"]
    )
    assert "After the shock: 40.0 % of output remains" in node["JPN:magnets"]["title"]
    assert "Shock: CHN@separation" in html


def test_very_large_graphs_get_precomputed_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    import supplygraph.view as view

    monkeypatch.setattr(view, "_HIERARCHICAL_MAX", 0)  # as if the toy had > 5,000 nodes
    data = page_data(network_html(toy_graph(), chokepoints=chokepoint_table()))
    assert data["options"]["layout"]["hierarchical"]["enabled"] is False
    assert data["options"]["physics"]["enabled"] is False
    node = {n["id"]: n for n in data["nodes"]}
    xs = {lv: {n["x"] for n in data["nodes"] if n["level"] == lv} for lv in range(4)}
    assert all(len(x) == 1 for x in xs.values())  # one column per stage
    column = [next(iter(xs[lv])) for lv in range(4)]
    assert column == sorted(column) and len(set(column)) == 4
    # first column by quantity: CHN 270 > USA 45 > MMR 31 > ROW 14 (top to bottom)
    ys = [node[n]["y"] for n in ("CHN:mining", "USA:mining", "MMR:mining", "ROW:mining")]
    assert ys == sorted(ys) and ys[0] == -ys[-1]  # centred column
    # separation: CHN:separation's suppliers sit higher (rows 0, 1, 2) than MYS's (1, 3)
    assert node["CHN:separation"]["y"] < node["MYS:separation"]["y"]


def test_non_string_and_colliding_ids(tmp_path: Path) -> None:
    G = nx.DiGraph(stages=["a", "b"])
    G.add_node(1, stage="a", country="AUS", value=1.0)
    G.add_node("1", stage="b", country="CHN", value=1.0)
    G.add_node(("t", 2), stage="b", country="CHN", value=1.0)
    G.add_edge(1, "1", flow=1.0)
    G.add_edge(1, ("t", 2), flow=1.0)
    data = page_data(network_html(G, chokepoints=pd.DataFrame()))
    ids = [n["id"] for n in data["nodes"]]
    assert len(set(ids)) == 3
    assert len(data["edges"]) == 2


def test_empty_graph_and_missing_attributes(tmp_path: Path) -> None:
    data = page_data(network_html(nx.DiGraph()))
    assert data["nodes"] == [] and data["edges"] == []
    G = nx.DiGraph()
    G.add_edge("a", "b")  # no stage, no value, no flow
    data = page_data(network_html(G))
    assert {n["id"] for n in data["nodes"]} == {"a", "b"}


def test_atomic_write_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "view.html"
    out = visualize(toy_graph(), target, chokepoints=chokepoint_table())
    assert out == target and target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["view.html"]


def test_bad_model_is_an_input_error() -> None:
    from supplygraph.errors import InputError

    with pytest.raises(InputError, match="unknown model"):
        network_html(toy_graph(), model="quadratic")


def test_cli_visualize(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from supplygraph.build import graph_to_frames
    from supplygraph.cli import app

    nodes, edges = graph_to_frames(toy_graph())
    folder = tmp_path / "toy"
    folder.mkdir()
    nodes.to_csv(folder / "nodes.csv", index=False)
    edges.to_csv(folder / "edges.csv", index=False)
    out = tmp_path / "out" / "net.html"
    result = CliRunner().invoke(
        app, ["visualize", str(folder), "-o", str(out), "--shock", "CHN@separation"]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert len(page_data(html)["nodes"]) == 11
    assert SCRIPT_LABEL not in html
    bad = CliRunner().invoke(app, ["visualize", str(folder), "-o", str(out), "--shock", "ATL@x"])
    assert bad.exit_code == 1


# ---------------------------------------------------------------------------------------------
# browser tests: headless Debian Chromium through playwright (never `playwright install`)


def open_view(browser, path: Path, *, timeout_ms: int = 60_000) -> dict:
    """Load ``path`` with every other request blocked; return what happened."""
    url = path.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1400, "height": 850})
    page = context.new_page()
    blocked: list[str] = []
    requests: list[str] = []
    console: list[str] = []

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: requests.append(req.url))
    page.on(
        "console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    start = time.perf_counter()
    page.goto(url)
    # poll from here: wait_for_function would eval() in the page, which the view's CSP forbids
    while page.evaluate("window.sgReady === true") is not True:
        assert time.perf_counter() - start < timeout_ms / 1000, "the view did not finish drawing"
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    info = page.evaluate(
        """() => ({
            nodes: network.body.data.nodes.length,
            edges: network.body.data.edges.length,
            pwned: [typeof window.__pwned, typeof window.__pwned2, typeof window.__pwned3],
            imgs: document.images.length,
            scripts: document.scripts.length,
            loadMs: window.sgLoadMs,
        })"""
    )
    info.update(
        page=page,
        context=context,
        seconds=seconds,
        blocked=blocked,
        external=[u for u in requests if u != url],
        console=console,
    )
    return info


@pytest.mark.browser
def test_browser_toy_view(browser, tmp_path: Path) -> None:
    path = visualize(toy_graph(), tmp_path / "toy.html", chokepoints=chokepoint_table())
    info = open_view(browser, path)
    try:
        assert info["nodes"] == 11
        assert info["edges"] == 13
        assert info["external"] == [] and info["blocked"] == []
        assert info["console"] == []
        assert info["pwned"] == ["undefined", "undefined", "undefined"]
        assert info["imgs"] == 0
        assert info["scripts"] == 4
        page = info["page"]
        # tooltips are DOM text: the hostile label's tooltip has no child elements
        tip = page.evaluate(
            """() => { const t = network.body.data.nodes.get("CHN:magnets").title;
                       return [t instanceof Element, t.children.length, t.textContent]; }"""
        )
        assert tip[0] is True and tip[1] == 0 and tip[2].startswith(SCRIPT_LABEL)
        # hovering a node shows its tooltip as text
        box = page.evaluate(
            """() => { const p = network.canvasToDOM(network.getPositions(["CHN:magnets"])["CHN:magnets"]);
                       const r = document.getElementById("sg-network").getBoundingClientRect();
                       return [p.x + r.left, p.y + r.top]; }"""
        )
        page.mouse.move(box[0] + 1, box[1] + 1)
        page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5000)
        text = page.inner_text("div.vis-tooltip")
        assert SCRIPT_LABEL in text
        assert page.evaluate("typeof window.__pwned") == "undefined"
    finally:
        info["context"].close()


@pytest.mark.browser
def test_browser_shock_view(browser, tmp_path: Path) -> None:
    path = visualize(toy_graph(), tmp_path / "shock.html", shocks=["CHN@separation=0.5"])
    info = open_view(browser, path)
    try:
        assert (info["nodes"], info["edges"]) == (11, 13)
        assert info["external"] == [] and info["console"] == []
        assert info["pwned"] == ["undefined", "undefined", "undefined"]
    finally:
        info["context"].close()


@pytest.mark.browser
def test_browser_fixed_columns_view(browser, tmp_path: Path, monkeypatch) -> None:
    import supplygraph.view as view

    monkeypatch.setattr(view, "_HIERARCHICAL_MAX", 0)
    path = visualize(toy_graph(), tmp_path / "fixed.html", chokepoints=chokepoint_table())
    info = open_view(browser, path)
    try:
        assert (info["nodes"], info["edges"]) == (11, 13)
        assert info["external"] == [] and info["console"] == []
        xs = info["page"].evaluate(
            "() => Object.values(network.getPositions()).map(p => Math.round(p.x))"
        )
        assert len(set(xs)) == 4
    finally:
        info["context"].close()


# ---------------------------------------------------------------------------------------------
# the compact graph, levels of detail, highlight (no browser)


def graph_data(html: str) -> dict:
    m = re.search(r'<script id="sg-graph" type="application/json">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def decode(value: str):
    import numpy as np

    _, dtype, data = value.split(":", 2)
    return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype).newbyteorder("<"))


def generated(n: int, **kw) -> nx.DiGraph:
    """A graph from the benchmark generator (benchmarks/generate.py), seeded."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sg_bench_generate", Path(__file__).parent.parent / "benchmarks" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_network(n, seed=kw.pop("seed", 1), **kw)


def test_payload_is_the_graph() -> None:
    """Decoded arrays give back every positive flow, node stage and country (networkx side)."""
    G = toy_graph()
    html = network_html(G, chokepoints=chokepoint_table())
    g = graph_data(html)
    ids = g["ids"]
    inptr, src, flow = decode(g["inptr"]), decode(g["src"]), decode(g["flow"])
    got = {}
    for p in range(g["n"]):
        for e in range(inptr[p], inptr[p + 1]):
            got[(ids[src[e]], ids[p])] = float(flow[e])
    assert got == {(u, v): d["flow"] for u, v, d in G.edges(data=True)}
    stage, country = decode(g["stage"]), decode(g["country"])
    stages = page_data(html)["stages"]
    for p, node in enumerate(ids):
        assert stages[stage[p]] == G.nodes[node]["stage"]
        assert g["countries"][country[p]] == G.nodes[node]["country"]
    # suppliers come before customers (the order the page's one-pass model needs)
    assert all(src[e] < p for p in range(g["n"]) for e in range(inptr[p], inptr[p + 1]))
    targets = {ids[p] for p in decode(g["targets"])}
    assert targets == {n for n in G if G.out_degree(n) == 0}


def test_detail_levels() -> None:
    assert page_data(network_html(toy_graph(), chokepoints=chokepoint_table()))["mode"] == "full"
    data = page_data(network_html(toy_graph(), chokepoints=chokepoint_table(), detail="overview"))
    assert data["mode"] == "overview" and data["nodes"] == [] and data["edges"] == []
    big = layered_graph(400, 4, 2)
    assert page_data(network_html(big))["mode"] == "overview"  # auto: above 300 nodes
    from supplygraph.errors import InputError

    with pytest.raises(InputError, match="unknown detail"):
        network_html(toy_graph(), detail="medium")


def test_highlight_resolves_nodes_and_edges() -> None:
    html = network_html(
        toy_graph(),
        chokepoints=chokepoint_table(),
        highlight={
            "CHN:separation": "binding capacity",
            ("CHN:magnets", "DEU:vehicles"): "binding licence cap",
            "MYS:separation": "binding capacity",
        },
    )
    hl = page_data(html)["highlight"]
    assert hl["labels"] == ["binding capacity", "binding licence cap"]
    assert hl["counts"] == [2, 1]
    assert hl["colors"][0] != hl["colors"][1]
    ids = graph_data(html)["ids"]
    assert sorted(ids[p] for p, k in hl["nodes"]) == ["CHN:separation", "MYS:separation"]
    assert [(ids[u], ids[v], k) for u, v, k in hl["edges"]] == [("CHN:magnets", "DEU:vehicles", 1)]
    legend = html.split('id="sg-highlight-legend"', 1)[1].split("</ul>", 1)[0]
    assert "binding capacity (2)" in legend and "binding licence cap (1)" in legend
    from supplygraph.errors import InputError

    with pytest.raises(InputError, match="neither a node nor an edge"):
        network_html(toy_graph(), highlight={("USA:mining", "CHN:vehicles"): "x"})


def test_visualize_without_path_returns_a_notebook_view(tmp_path: Path) -> None:
    import html as html_lib

    view = visualize(toy_graph(), chokepoints=chokepoint_table())
    frame = view._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    assert html_lib.unescape(frame.split('srcdoc="', 1)[1].split('" sandbox', 1)[0]) == view.html
    bundle = view._repr_mimebundle_()
    assert "11 nodes, 13 flows" in bundle["text/plain"]
    assert view.save(tmp_path / "v.html").read_text(encoding="utf-8") == view.html
    assert list(tmp_path.iterdir()) == [tmp_path / "v.html"]


def test_whatif_toml_round_trips() -> None:
    """The panel's TOML pieces parse back to the same shocks (selectors, filters, windows)."""
    import supplygraph as sg
    from supplygraph.analysis.scenarios import parse_scenario
    from supplygraph.whatif import scenario_panel

    G = sg.load("rare-earths-aggregate")
    for name in ("april-2025-licences", "allied-diversification", "october-2025-package"):
        sc = sg.get_scenario(name, "rare-earths-aggregate")
        panel = scenario_panel(G, sc)
        text = "\n\n".join(
            [panel["header"]]
            + [
                c["toml"] if c["response"] else c["toml"] + f"\nscale = {c['scale']!r}"
                for c in panel["capacity"]
            ]
            + [s["toml"] + f"\napproval_rate = {s['rate']!r}" for s in panel["shocks"]]
        )
        back = parse_scenario(text)
        assert [s.describe() for s in back.shocks] == [s.describe() for s in sc.shocks]
        for a, b in zip(back.shocks, sc.shocks, strict=True):
            assert (a.destination, a.except_destination, a.end_use) == (
                b.destination,
                b.except_destination,
                b.end_use,
            )
            assert (a.start_day, a.end_day) == (b.start_day, b.end_day)
            assert a.cut == pytest.approx(b.cut, abs=1e-15)
        assert [(c.selector, c.scale, c.capacity) for c in back.capacity] == [
            (c.selector, c.scale, c.capacity) for c in sc.capacity
        ]


def test_precompute_points_match_disrupt() -> None:
    import supplygraph as sg
    from supplygraph.analysis.shocks import with_cut
    from supplygraph.whatif import precompute_points

    G = sg.load("rare-earths")
    sc = sg.get_scenario("april-2025-licences")
    points = precompute_points(G, sc, {0: [0.0, 0.5]}, model="leontief")
    assert [p["approval"][0] for p in points] == [0.0, 0.5]
    shocks = [with_cut(sc.shocks[0], 0.5), *sc.shocks[1:]]
    want = sg.disrupt(G, shocks, model="leontief").targets["remaining"]
    assert points[1]["remaining"] == pytest.approx(want.to_dict(), abs=1e-15)


# ---------------------------------------------------------------------------------------------
# browser: levels of detail, focus, search, filters, highlight, what-if


def _wait_idle(page) -> None:
    """Let the page's requestAnimationFrame refresh run."""
    page.wait_for_timeout(60)


@pytest.mark.browser
def test_browser_highlight_drawn(browser, tmp_path: Path) -> None:
    path = visualize(
        toy_graph(),
        tmp_path / "hl.html",
        chokepoints=chokepoint_table(),
        highlight={"MYS:separation": "binding capacity", ("CHN:magnets", "DEU:vehicles"): "cap"},
    )
    info = open_view(browser, path)
    try:
        page = info["page"]
        assert info["external"] == [] and info["console"] == []
        colors = page.evaluate("sgData.highlight.colors")
        node = page.evaluate("network.body.data.nodes.get('MYS:separation')")
        assert node["color"]["border"] == colors[0] and node["borderWidth"] == 5
        edge = page.evaluate(
            "network.body.data.edges.get({filter: e => e.from === 'CHN:magnets' && e.to === 'DEU:vehicles'})[0]"
        )
        assert edge["color"]["color"] == colors[1] and edge["width"] >= 4
        other = page.evaluate("network.body.data.nodes.get('USA:mining')")
        assert other["color"]["border"] not in colors
        legend = page.inner_text("#sg-highlight-legend")
        assert "binding capacity (1)" in legend and "cap (1)" in legend
    finally:
        info["context"].close()


@pytest.mark.browser
def test_browser_overview_expand_focus_search_filter(browser, tmp_path: Path) -> None:
    G = generated(3000, back_edges=0.002, self_loops=0.002)
    path = visualize(G, tmp_path / "ov.html")
    info = open_view(browser, path)
    try:
        page = info["page"]
        assert info["external"] == [] and info["console"] == [] and info["blocked"] == []
        assert 0 < info["nodes"] <= 80  # the overview: one cell per country x stage
        # flows between cells sum to the graph's flows between stages
        stages = G.graph["stages"]
        sums = page.evaluate(
            """() => { const ed = sgBuildEdges(), out = {};
                ed.list.forEach(([k, f]) => { const a = sgItems[Math.floor(k / 65536)], b = sgItems[k % 65536];
                  const key = a.stage + ">" + b.stage; out[key] = (out[key] || 0) + f; });
                return [out, ed.dropped]; }"""
        )
        assert sums[1] == 0
        want: dict[str, float] = {}
        for u, v, d in G.edges(data=True):
            su, sv = G.nodes[u]["stage"], G.nodes[v]["stage"]
            if su != sv:
                key = f"{stages.index(su)}>{stages.index(sv)}"
                want[key] = want.get(key, 0.0) + d["flow"]
        got = {k: f for k, f in sums[0].items() if k.split(">")[0] != k.split(">")[1]}
        assert got.keys() == want.keys()
        for key, total in want.items():
            assert got[key] == pytest.approx(total, rel=1e-12)
        # expand the biggest cell of the second stage in place, then collapse it
        cell = page.evaluate(
            f"sgApi.expand({stages[1]!r}, sgCountryCode(sgCells.list.filter(c => c.stage === 1)[0].country))"
        )
        assert cell >= 0
        opened = page.evaluate("sgApi.shownNodeIds()")
        members = [n for n, d in G.nodes(data=True) if d["stage"] == stages[1]]
        assert opened and set(opened) <= set(members)
        assert page.evaluate("sgApi.lastMs()") < 1000
        page.evaluate(f"sgExpand({cell})")
        assert page.evaluate("sgApi.shownNodeIds()") == []
        # focus: the shown nodes are exactly the cone (networkx ancestors and descendants)
        node = sorted(G.nodes)[len(G) // 3]
        cone = nx.ancestors(G, node) | nx.descendants(G, node) | {node}
        assert len(cone) < 1200
        page.evaluate(f"sgApi.focus({node!r}, 'both', 0)")
        assert set(page.evaluate("sgApi.shownNodeIds()")) == cone
        assert page.evaluate("network.body.data.nodes.length") <= 1500
        up = nx.ancestors(G, node) | {node}
        page.evaluate(f"sgApi.focus({node!r}, 'up', 0)")
        assert set(page.evaluate("sgApi.shownNodeIds()")) == up
        one = set(G.predecessors(node)) | {node}
        page.evaluate(f"sgApi.focus({node!r}, 'up', 1)")
        assert set(page.evaluate("sgApi.shownNodeIds()")) == one
        # search finds by id, and showing a hit puts it on the canvas
        page.evaluate("sgApi.reset()")
        hits = page.evaluate("sgApi.search('s2-1')")
        assert hits and all("s2-1" in h for h in hits)
        page.evaluate(f"sgApi.show({hits[0]!r})")
        assert hits[0] in page.evaluate("sgApi.shownNodeIds()")
        assert page.evaluate("network.getSelectedNodes()") == [hits[0]]
        # filters fade (never hide) what they leave out
        page.evaluate("sgApi.reset()")
        before = page.evaluate("network.body.data.nodes.length")
        page.evaluate(f"sgApi.filter({{stages: [{stages[0]!r}]}})")
        assert page.evaluate("network.body.data.nodes.length") == before
        faded = page.evaluate("sgApi.fadedIds().length")
        first_stage_cells = page.evaluate("sgItems.filter(i => i.stage === 0).length")
        assert faded == before - first_stage_cells
        assert info["console"] == []
    finally:
        info["context"].close()


def _set_sliders(page, rates: list[float] | float, scales: list[float] | None = None) -> None:
    page.evaluate(
        """([rates, scales]) => {
            document.querySelectorAll('input[data-shock-index]').forEach((x, i) => {
              x.value = String(Array.isArray(rates) ? rates[i] : rates);
              x.dispatchEvent(new Event('input'));
            });
            if (scales) document.querySelectorAll('input[data-capacity-index]').forEach((x, i) => {
              x.value = String(scales[i]); x.dispatchEvent(new Event('input'));
            });
        }""",
        [rates, scales],
    )


def _live_results(page) -> dict[str, float]:
    rows = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-target]')).map(x => [x.dataset.target, x.dataset.remaining])"
    )
    return {t: float(h) for t, h in rows}


def _expected(G: nx.DiGraph, sc, rates, scales=None) -> dict[str, float]:
    import dataclasses

    import supplygraph as sg
    from supplygraph.analysis.shocks import with_cut

    if scales is not None:
        changes = tuple(
            dataclasses.replace(c, scale=s) for c, s in zip(sc.capacity, scales, strict=True)
        )
        sc = dataclasses.replace(sc, capacity=changes)
    H = sg.apply_capacity(G, sc)
    rates = rates if isinstance(rates, list) else [rates] * len(sc.shocks)
    shocks = [with_cut(s, 1.0 - r) for s, r in zip(sc.shocks, rates, strict=True)]
    result = sg.disrupt(H, shocks, model="linear")
    return {str(t): float(h) for t, h in result.targets["remaining"].items()}


@pytest.mark.browser
def test_browser_whatif_agrees_with_disrupt(browser, tmp_path: Path) -> None:
    """Sliders at r give the numbers of `disrupt` with cut = 1 - r, to 1e-9 (built-in data)."""
    import supplygraph as sg
    from supplygraph.analysis.scenarios import parse_scenario

    G = sg.load("rare-earths-aggregate")
    sc = sg.get_scenario("april-2025-licences", "rare-earths-aggregate")
    path = visualize(G, tmp_path / "wi.html", shocks=sc)
    info = open_view(browser, path)
    try:
        page = info["page"]
        assert info["console"] == [] and info["external"] == []
        assert (
            page.evaluate("document.querySelectorAll('input[type=range][data-shock-index]').length")
            == 3
        )
        for r in (0.0, 0.25, 0.5, 0.75, 1.0):
            _set_sliders(page, r)
            got, want = _live_results(page), _expected(G, sc, r)
            assert got.keys() == want.keys() and len(got) == 17
            assert max(abs(got[t] - want[t]) for t in want) <= 1e-9
        rates = [0.1, 0.6, 0.93]
        _set_sliders(page, rates)
        want = _expected(G, sc, rates)
        got = _live_results(page)
        assert max(abs(got[t] - want[t]) for t in want) <= 1e-9
        # the end-use rows and the total match disrupt's by_end_use table
        from supplygraph.analysis.shocks import with_cut

        by = sg.disrupt(
            G, [with_cut(s, 1 - r) for s, r in zip(sc.shocks, rates, strict=True)]
        ).by_end_use
        groups = page.evaluate(
            "() => Array.from(document.querySelectorAll('[data-end-use]')).map(x => [x.dataset.endUse, Number(x.dataset.remaining)])"
        )
        for name, h in groups:
            assert h == pytest.approx(by.loc[name, "remaining"], abs=1e-9)
        total = page.evaluate("Number(document.querySelector('[data-total]').dataset.remaining)")
        assert total == pytest.approx(by.loc["total", "remaining"], abs=1e-9)
        # copy as scenario: the TOML reproduces the numbers with the Python model
        page.click("#sg-wi-copy")
        text = page.input_value("#sg-wi-toml")
        back = parse_scenario(text)
        again = sg.disrupt(G, list(back.shocks), model=back.model).targets["remaining"]
        assert max(abs(got[str(t)] - h) for t, h in again.items()) <= 1e-12
        assert info["console"] == []
    finally:
        info["context"].close()


@pytest.mark.browser
def test_browser_whatif_capacity_sliders(browser, tmp_path: Path) -> None:
    import supplygraph as sg
    from supplygraph.analysis.scenarios import parse_scenario

    G = sg.load("rare-earths-aggregate")
    # the allied scenario with its capacity written as scale (a different normal state), the
    # kind of capacity entry the page can show live
    allied = sg.get_scenario("allied-diversification", "rare-earths-aggregate")
    factors = {"MYS:separation": 2.4, "USA:separation": 5.0, "USA:magnets": 10.0, "EU:magnets": 2.0}
    lines = [f'[[capacity]]\nnode = "{n}"\nscale = {f}\n' for n, f in factors.items()]
    for s in allied.shock_specs:
        body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in s.items())  # JSON: valid TOML
        lines.append("[[shocks]]\n" + body)
    (tmp_path / "scaled.toml").write_text("\n".join(lines), encoding="utf-8")
    sc = sg.get_scenario(str(tmp_path / "scaled.toml"))
    path = visualize(G, tmp_path / "cap.html", shocks=sc)
    info = open_view(browser, path)
    try:
        page = info["page"]
        n = page.evaluate("document.querySelectorAll('input[data-capacity-index]').length")
        assert n == len(sc.capacity) == 4
        got, want = _live_results(page), _expected(G, sc, [1 - s.cut for s in sc.shocks])
        assert max(abs(got[t] - want[t]) for t in want) <= 1e-9  # the scenario as written
        scales = [1.0, 3.0, 0.5, 2.5]
        _set_sliders(page, 0.4, scales)
        got, want = _live_results(page), _expected(G, sc, 0.4, scales)
        assert max(abs(got[t] - want[t]) for t in want) <= 1e-9
        page.click("#sg-wi-copy")
        back = parse_scenario(page.input_value("#sg-wi-toml"))
        assert [c.scale for c in back.capacity] == scales
        again = sg.disrupt(sg.apply_capacity(G, back), list(back.shocks)).targets["remaining"]
        assert max(abs(got[str(t)] - h) for t, h in again.items()) <= 1e-9
        assert info["console"] == [] and info["external"] == []
    finally:
        info["context"].close()


@pytest.mark.browser
def test_browser_whatif_cyclic_graph(browser, tmp_path: Path) -> None:
    """On a graph with 2-cycles, self-loops and a closed cycle, still equal to disrupt (1e-9)."""
    from supplygraph.analysis.scenarios import parse_scenario
    from supplygraph.compiled import compile_graph

    G = generated(1500, back_edges=0.02, self_loops=0.01, seed=7)
    # a closed cycle: two mines trading only with each other, feeding one customer
    G.add_node("X:a", stage="raw", country="ZZZ", value=5.0, unit="t/yr")
    G.add_node("X:b", stage="raw", country="ZZZ", value=5.0, unit="t/yr")
    G.add_edge("X:a", "X:b", flow=5.0, unit="t/yr")
    G.add_edge("X:b", "X:a", flow=5.0, unit="t/yr")
    G.add_edge(
        "X:b", sorted(n for n, d in G.nodes(data=True) if d["stage"] == "refining")[0], flow=3.0
    )
    cg = compile_graph(G)
    assert not cg.is_dag and cg.closed_node.any()
    assert (np.bincount(cg.comp[cg.cyclic_node]) > 1).any()
    sc = parse_scenario(
        '[[shocks]]\ncountry = "USA"\nstage = "refining"\napproval_rate = 0.5\n\n'
        '[[shocks]]\nfrom = "@materials"\nto = "@components"\napproval_rate = 0.8\n\n'
        '[[shocks]]\nnode = "X:a"\napproval_rate = 1.0\n'
    )
    path = visualize(G, tmp_path / "cyc.html", shocks=sc, detail="overview")
    info = open_view(browser, path)
    try:
        page = info["page"]
        assert info["console"] == [] and info["external"] == []
        for rates in ([0.5, 0.8, 1.0], [0.0, 0.3, 0.9], [1.0, 1.0, 0.0]):
            _set_sliders(page, rates)
            got, want = _live_results(page), _expected(G, sc, rates)
            assert got.keys() == want.keys()
            assert max(abs(got[t] - want[t]) for t in want) <= 1e-9
    finally:
        info["context"].close()


@pytest.mark.browser
def test_browser_whatif_leontief_says_what_it_needs(browser, tmp_path: Path) -> None:
    import supplygraph as sg

    G = sg.load("rare-earths")
    sc = sg.get_scenario("april-2025-licences")
    path = visualize(
        G, tmp_path / "leo.html", shocks=sc, model="leontief", source_text="rare-earths"
    )
    info = open_view(browser, path)
    try:
        page = info["page"]
        want = sg.disrupt(G, list(sc.shocks), model="leontief").targets["remaining"]
        got = _live_results(page)  # at the scenario's own rates: the point computed in Python
        assert max(abs(got[str(t)] - h) for t, h in want.items()) <= 1e-12
        assert "precomputed point" in page.inner_text("#sg-wi-note")
        _set_sliders(page, 0.5)
        note = page.inner_text("#sg-wi-note")
        assert "supplygraph disrupt rare-earths --scenario" in note and "--model leontief" in note
        assert _live_results(page) == {}  # no wrong numbers
        assert info["console"] == []
    finally:
        info["context"].close()


@pytest.mark.browser
def test_browser_100k_nodes(browser, tmp_path: Path, capsys) -> None:
    """100,000 nodes / ~265,000 edges: size, nodes drawn, interactions within the budget.

    The timing targets (build ≤ 8 s end to end, load ≤ 2 s, interaction ≤ 200 ms) are
    measured by benchmarks/run.py; here only generous sanity bounds, so a busy machine does
    not fail the suite.
    """
    G = generated(100_000)
    t0 = time.perf_counter()
    path = visualize(G, tmp_path / "100k.html")
    build = time.perf_counter() - t0
    size = path.stat().st_size
    assert size <= 15_000_000
    info = open_view(browser, path)
    try:
        page = info["page"]
        assert info["external"] == [] and info["console"] == [] and info["blocked"] == []
        assert info["nodes"] <= 500
        times = page.evaluate(
            """() => { const t = [], time = f => { const a = performance.now(); f(); network.redraw();
                         t.push(performance.now() - a); };
              time(() => sgExpand(sgCells.list.findIndex(c => c.stage === 1)));
              time(() => sgApi.focus(SG.ids[SG.n - 1], "up", 0));
              const n = network.body.data.nodes.length;
              time(() => sgApi.search("s3-77"));
              time(() => sgApi.reset());
              return [t, n]; }"""
        )
        assert times[1] <= 1500  # an end use's whole upstream cone, within the budget
        # a focused chain draws at most limits.focus_stage nodes of its own per stage (the
        # rest summed in cells), so no column grows tall enough to squeeze the picture
        per_stage = page.evaluate(
            """() => { sgApi.focus(SG.ids[SG.n - 1], "up", 0); const c = {};
              sgItems.forEach(it => { if (it.kind === "node") c[it.stage] = (c[it.stage] || 0) + 1; });
              const r = [c, sgData.limits.focus_stage, sgItems.filter(it => it.kind === "rest").length];
              sgApi.reset(); return r; }"""
        )
        counts, cap, rest_cells = per_stage
        assert len(counts) >= 4 and max(counts.values()) <= cap and rest_cells > 0
        assert page.evaluate("network.body.data.nodes.length") <= 500
        assert info["console"] == []
        with capsys.disabled():
            print(
                f"\n[view] 100,000 nodes: build {build:.1f} s, {size / 1e6:.1f} MB, load "
                f"{info['seconds']:.2f} s, {info['nodes']} nodes drawn, interactions (ms) "
                + ", ".join(f"{x:.0f}" for x in times[0])
            )
        assert max(times[0]) < 2000
    finally:
        info["context"].close()
