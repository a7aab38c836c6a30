"""Scenario files: the built-in ones load, validate and are sourced; bad files give precise errors."""

from __future__ import annotations

import json
import re
import textwrap

import networkx as nx
import pytest
from typer.testing import CliRunner

from supplygraph.analysis.scenarios import (
    apply_capacity,
    get_scenario,
    list_scenarios,
    load_scenario,
    parse_scenario,
    scenario_folder,
    validate_scenario,
)
from supplygraph.analysis.shocks import resolve_shocks
from supplygraph.cli import app
from supplygraph.errors import ScenarioError
from supplygraph.loading import load

BUILT_IN = [
    "april-2025-licences",
    "october-2025-package",
    "october-2025-suspended",
    "full-separation-ban",
    "myanmar-feedstock-stop",
    "allied-diversification",
]


AGG = "rare-earths-aggregate"  # these tests check the single-commodity chain's scenarios


@pytest.fixture(scope="module")
def G():
    return load(AGG)


def toy():
    G = nx.DiGraph(stages=["mining", "magnets", "end_use"])
    G.add_node("CHN:mining", stage="mining", country="CHN", value=10.0)
    G.add_node("CHN:magnets", stage="magnets", country="CHN", value=10.0)
    G.add_node("JPN:magnets", stage="magnets", country="JPN", value=10.0)
    G.add_node("CHN:vehicles", stage="end_use", country="CHN", value=5.0, end_use="vehicles")
    G.add_node("USA:defense", stage="end_use", country="USA", value=5.0, end_use="defense")
    G.add_node("USA:vehicles", stage="end_use", country="USA", value=5.0, end_use="vehicles")
    G.add_edge("CHN:mining", "CHN:magnets", flow=10.0)
    G.add_edge("CHN:mining", "JPN:magnets", flow=10.0)
    for m in ("CHN:magnets", "JPN:magnets"):
        for e in ("CHN:vehicles", "USA:defense", "USA:vehicles"):
            G.add_edge(m, e, flow=5.0)
    return G


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


# ---------------------------------------------------------------------------------------------
# built-in scenarios


def test_every_built_in_scenario_is_listed():
    names = list_scenarios(AGG)["name"].tolist()
    assert sorted(names) == sorted(BUILT_IN)


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_scenario_loads_validates_and_is_sourced(G, name):
    sc = get_scenario(name, AGG)
    assert sc.name == name
    assert sc.description
    assert sc.sources
    validate_scenario(G, sc)
    ids = {r["source_id"] for r in G.graph["sources"]}
    for s in sc.sources:
        # a bare identifier must be a key of sources.csv; anything else is a full citation
        if re.fullmatch(r"[A-Z0-9][A-Z0-9\-]+", s):
            assert s in ids, f"{name}: source id {s!r} is not in sources.csv"
        else:
            assert "http" in s, f"{name}: citation without a URL: {s!r}"
    for spec in sc.shock_specs:
        assert spec.get("source"), f"{name}: a shock without a source"
    for change in sc.capacity:
        assert change.source, f"{name}: a capacity change without a source"


@pytest.mark.parametrize("name", ["april-2025-licences", "october-2025-suspended"])
def test_april_regime_spares_chinas_own_users(G, name):
    day0 = [s for s in get_scenario(name, AGG).shocks if s.start_day == 0]
    node_cut, edge_cut = resolve_shocks(G, day0)
    assert node_cut == {}
    assert edge_cut
    assert all(G.nodes[v]["country"] != "CHN" for _, v in edge_cut)
    assert all(G.nodes[u]["country"] == "CHN" for u, _ in edge_cut)
    assert all(c == pytest.approx(0.75) for c in edge_cut.values())  # approval rate 0.25


def test_no_export_rule_cuts_flows_into_china(G):
    for name in [n for n in BUILT_IN if n != "myanmar-feedstock-stop"]:
        _, edge_cut = resolve_shocks(G, get_scenario(name, AGG).shocks)
        assert all(G.nodes[v]["country"] != "CHN" for _, v in edge_cut), name


def test_full_separation_ban_cuts_every_export_of_chinese_separation(G):
    _, edge_cut = resolve_shocks(G, get_scenario("full-separation-ban", AGG).shocks)
    exports = {(u, v) for u, v in G.out_edges("CHN:separation") if G.nodes[v]["country"] != "CHN"}
    assert set(edge_cut) == exports
    assert set(edge_cut.values()) == {1.0}


def test_allied_diversification_adds_capacity_without_mutating(G):
    sc = get_scenario("allied-diversification", AGG)
    before = G.nodes["MYS:separation"]["value"]
    flows = {e: G.edges[e]["flow"] for e in G.out_edges("MYS:separation")}
    H = apply_capacity(G, sc)
    assert "capacity" not in G.nodes["MYS:separation"]
    # capacity is spare capacity: output and flows (the normal state) are unchanged
    assert H.nodes["MYS:separation"]["value"] == before
    assert H.nodes["MYS:separation"]["capacity"] == pytest.approx(before * 2.4, rel=1e-4)
    assert H.nodes["USA:magnets"]["capacity"] == 5000
    for e, f in flows.items():
        assert H.edges[e]["flow"] == f == G.edges[e]["flow"]
    assert any(
        "capacity of USA:magnets set to 5000" in a for a in H.graph["provenance"]["assumptions"]
    )


def test_scale_multiplies_value_flows_and_capacity(G, tmp_path):
    p = write(tmp_path, '[[capacity]]\nnode = "MYS:separation"\nscale = 2.4\n', "s.toml")
    sc = get_scenario(str(p))
    before = G.nodes["MYS:separation"]["value"]
    flows = {e: G.edges[e]["flow"] for e in G.out_edges("MYS:separation")}
    H = apply_capacity(G, sc)
    assert G.nodes["MYS:separation"]["value"] == before
    assert H.nodes["MYS:separation"]["value"] == pytest.approx(before * 2.4)
    for e, f in flows.items():
        assert H.edges[e]["flow"] == pytest.approx(f * 2.4)
        assert G.edges[e]["flow"] == f
    assert any("scaled by 2.4" in a for a in H.graph["provenance"]["assumptions"])


def test_get_scenario_by_path_and_unknown_name(tmp_path):
    p = write(tmp_path, '[[shocks]]\nnode = "CHN:mining"\n', "mine.toml")
    assert get_scenario(str(p)).name == "mine"
    with pytest.raises(ScenarioError, match="april-2025-licences"):
        get_scenario("no-such-scenario")


# ---------------------------------------------------------------------------------------------
# the format


def test_parse_full_example():
    sc = parse_scenario(
        textwrap.dedent(
            """
            name = "x"
            description = "d"
            sources = "S1"
            model = "leontief"
            start_date = 2025-04-04
            [[shocks]]
            from = "CHN@magnets"
            to = "USA"
            approval_rate = 0.25
            end_use = "defense"
            start_day = 3
            end_day = 9
            [[shocks]]
            country = "CHN"
            stage = "magnets"
            except_destination = ["CHN"]
            [[capacity]]
            country = "JPN"
            stage = "magnets"
            scale = 2
            """
        )
    )
    assert sc.sources == ("S1",)
    assert sc.model == "leontief"
    assert sc.start_date.isoformat() == "2025-04-04"
    a, b = sc.shocks
    assert (a.kind, a.country, a.stage, a.to_country) == ("edge", "CHN", "magnets", "USA")
    assert a.cut == pytest.approx(0.75)
    assert (a.start_day, a.end_day, a.end_use) == (3, 9, "defense")
    assert b.kind == "node"
    assert b.cut == 1.0
    assert b.except_destination == "CHN"
    assert sc.capacity[0].selector == "JPN@magnets"
    assert sc.capacity[0].scale == 2.0
    node_cut, edge_cut = resolve_shocks(toy(), [b])
    assert node_cut == {}
    assert set(edge_cut) == {("CHN:magnets", "USA:defense"), ("CHN:magnets", "USA:vehicles")}
    assert resolve_shocks(toy(), [a])[1] == {("CHN:magnets", "USA:defense"): 0.75}


BAD = [
    # (text, key shown in the message, line, fragment of the message)
    ('name = "x"\ncolour = "red"\n[[shocks]]\nnode = "A"\n', "colour", 2, "unknown key"),
    (
        '[[shocks]]\nnode = "CHN:mining"\n\n[[shocks]]\nnode = "CHN:mining"\ncutt = 0.5\n',
        "shocks[2].cutt",
        6,
        "unknown key",
    ),
    ('[[shocks]]\nnode = "CHN:mining"\ncut = 1.5\n', "shocks[1].cut", 3, "[0, 1]"),
    ('[[shocks]]\nnode = "CHN:mining"\ncut = -0.1\n', "shocks[1].cut", 3, "[0, 1]"),
    ('[[shocks]]\nnode = "CHN:mining"\ncut = "high"\n', "shocks[1].cut", 3, "number"),
    (
        '[[shocks]]\nnode = "CHN:mining"\n# note\napproval_rate = 1.25\n',
        "shocks[1].approval_rate",
        4,
        "[0, 1]",
    ),
    (
        '[[shocks]]\nnode = "CHN:mining"\ncut = 0.5\napproval_rate = 0.5\n',
        "shocks[1].approval_rate",
        4,
        "not both",
    ),
    ("[[shocks]]\ncut = 0.5\n", None, 1, "no selector"),
    ('[[shocks]]\nnode = "A"\nstart_day = 5\nend_day = 5\n', "shocks[1].end_day", 4, "end_day"),
    ('[[shocks]]\nnode = "A"\nstart_day = -1\n', "shocks[1].start_day", 3, "start_day"),
    ('[[shocks]]\nfrom = "CHN@magnets"\n', "shocks[1].from", 2, "needs to"),
    ('[[shocks]]\nnode = "A"\ncountry = "CHN"\n', "shocks[1].country", 3, "cannot be combined"),
    ('model = "quadratic"\n[[shocks]]\nnode = "A"\n', "model", 1, "model"),
    ('name = "x"\n', None, None, "at least one"),
    ('[[capacity]]\nnode = "A"\nscale = 0\n', "capacity[1].scale", 3, "> 0"),
    ('[[capacity]]\nnode = "A"\nscale = 2\ncut = 1\n', "capacity[1].cut", 4, "unknown key"),
]


@pytest.mark.parametrize(("text", "key", "line", "fragment"), BAD)
def test_bad_files_give_file_key_and_line(tmp_path, text, key, line, fragment):
    p = write(tmp_path, text, "bad.toml")
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert msg.startswith("bad.toml")
    assert fragment in msg
    if line is not None:
        assert f"line {line}" in msg
    if key is not None:
        assert f"key '{key}'" in msg
    assert "\n" not in msg


def test_toml_syntax_error_has_line_and_column(tmp_path):
    p = write(tmp_path, 'name = "x"\n[[shocks]]\nnode = CHN:mining\n', "syntax.toml")
    with pytest.raises(ScenarioError, match=r"^syntax\.toml, line 3, column \d+: invalid TOML"):
        load_scenario(p)


def test_missing_file():
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("/nonexistent/scenario.toml")


@pytest.mark.parametrize(
    ("body", "key", "line", "fragment"),
    [
        (
            '[[shocks]]\nnode = "CHN:mining"\n\n[[shocks]]\nnode = "XYZ:nothing"\n',
            "node",
            5,
            "no node",
        ),
        ('[[shocks]]\ncountry = "FRA"\nstage = "magnets"\n', "country", 2, "FRA"),
        ('[[shocks]]\nstage = "smelting"\n', "stage", 2, "smelting"),
        ('[[shocks]]\nfrom = "JPN@magnets"\nto = "CHN@mining"\n', "from", 2, "no edge"),
        (
            '[[shocks]]\ncountry = "CHN"\nstage = "magnets"\ndestination = ["GER"]\n',
            "destination",
            4,
            "'GER' is not in the graph",
        ),
        (
            '[[shocks]]\nstage = "magnets"\nend_use = "toys"\n',
            "end_use",
            3,
            "'toys' is not in the graph",
        ),
        (
            '[[shocks]]\ncountry = "CHN"\nstage = "mining"\nend_use = "defense"\n',
            "country",
            2,
            "no edge",
        ),
        ('[[capacity]]\nnode = "ZZZ:x"\nscale = 2\n', "node", 2, "no node"),
    ],
)
def test_selectors_that_match_nothing(tmp_path, body, key, line, fragment):
    sc = load_scenario(write(tmp_path, body, "sel.toml"))
    with pytest.raises(ScenarioError) as err:
        validate_scenario(toy(), sc)
    msg = str(err.value)
    assert msg.startswith(f"sel.toml, line {line}, key '")
    assert f".{key}'" in msg
    assert fragment in msg


def test_capacity_changes_compound_and_apply_before_shocks():
    sc = parse_scenario(
        '[[capacity]]\nnode = "JPN:magnets"\nscale = 2\n'
        '[[capacity]]\ncountry = "JPN"\nscale = 1.5\n'
    )
    G = toy()
    H = apply_capacity(G, sc)
    assert H.nodes["JPN:magnets"]["value"] == pytest.approx(30.0)
    assert H.edges["JPN:magnets", "USA:defense"]["flow"] == pytest.approx(15.0)
    assert G.edges["JPN:magnets", "USA:defense"]["flow"] == 5.0
    assert apply_capacity(G, None) is G


# ---------------------------------------------------------------------------------------------
# CLI


def test_cli_scenarios_lists_and_checks():
    out = CliRunner().invoke(app, ["scenarios", AGG, "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert sorted(r["name"] for r in rows) == sorted(BUILT_IN)
    assert all(r["check"] == "ok" for r in rows)


def test_cli_timeline_by_name_and_file():
    runner = CliRunner()
    out = runner.invoke(app, ["timeline", "--scenario", "april-2025-licences", "-f", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert rows[0]["end_use"] == "vehicles"
    assert rows[0]["shortage_date"].startswith("2025-05")
    path = scenario_folder() / "full-separation-ban.toml"
    out = runner.invoke(app, ["timeline", "-s", str(path), "--level", "node", "-f", "csv"])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("node,")


def test_cli_bad_scenario_is_one_line_exit_1(tmp_path):
    p = write(tmp_path, '[[shocks]]\nnode = "CHN:mining"\ncut = 2\n', "oops.toml")
    out = CliRunner().invoke(app, ["timeline", "--scenario", str(p)])
    assert out.exit_code == 1
    assert "oops.toml, line 3, key 'shocks[1].cut'" in out.stderr
    assert "Traceback" not in out.output
