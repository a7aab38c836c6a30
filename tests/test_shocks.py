"""Shock parsing and resolution."""

from __future__ import annotations

import networkx as nx
import pytest

from supplygraph.analysis.shocks import Shock, parse_shock, resolve_shocks
from supplygraph.errors import ScenarioError


def graph() -> nx.DiGraph:
    G = nx.DiGraph()
    G.graph["stages"] = ["mining", "separation", "magnets", "end_use"]
    for u, s, c, eu in [
        ("CHN:mining", "mining", "CHN", None),
        ("AUS:mining", "mining", "AUS", None),
        ("CHN:separation", "separation", "CHN", None),
        ("MYS:separation", "separation", "MYS", None),
        ("CHN:magnets", "magnets", "CHN", None),
        ("JPN:magnets", "magnets", "JPN", None),
        ("USA:defense", "end_use", "USA", "defense"),
        ("USA:vehicles", "end_use", "USA", "vehicles"),
        ("DEU:vehicles", "end_use", "DEU", "vehicles"),
        ("CHN:vehicles", "end_use", "CHN", "vehicles"),
    ]:
        G.add_node(u, stage=s, country=c, **({"end_use": eu} if eu else {}))
    for u, v in [
        ("CHN:mining", "CHN:separation"),
        ("AUS:mining", "MYS:separation"),
        ("CHN:separation", "CHN:magnets"),
        ("MYS:separation", "JPN:magnets"),
        ("CHN:magnets", "USA:defense"),
        ("CHN:magnets", "USA:vehicles"),
        ("CHN:magnets", "DEU:vehicles"),
        ("CHN:magnets", "CHN:vehicles"),
        ("JPN:magnets", "USA:vehicles"),
    ]:
        G.add_edge(u, v, flow=1.0)
    return G


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("CHN:separation", {"kind": "node", "node": "CHN:separation", "cut": 1.0}),
        ("CHN", {"kind": "node", "country": "CHN", "stage": None}),
        ("CHN@separation", {"kind": "node", "country": "CHN", "stage": "separation"}),
        ("@separation=0.5", {"kind": "node", "country": None, "stage": "separation", "cut": 0.5}),
        (
            "CHN@magnets->USA=0.75",
            {
                "kind": "edge",
                "country": "CHN",
                "stage": "magnets",
                "to_country": "USA",
                "cut": 0.75,
            },
        ),
        ("CHN@magnets->USA@end_use", {"kind": "edge", "to_country": "USA", "to_stage": "end_use"}),
        ("@magnets->USA", {"kind": "edge", "country": None, "stage": "magnets"}),
        (" CHN = 0.25 ", {"kind": "node", "country": "CHN", "cut": 0.25}),
    ],
)
def test_parse(text, fields):
    s = parse_shock(text)
    for k, v in fields.items():
        assert getattr(s, k) == v, k


@pytest.mark.parametrize("text", ["", "=0.5", "CHN=1.5", "CHN=-0.1", "CHN=abc", "CHN@", "a->b->c"])
def test_parse_errors(text):
    with pytest.raises(ScenarioError):
        parse_shock(text)


def test_shock_fields_for_scenarios():
    s = Shock(
        kind="node",
        country="CHN",
        stage="magnets",
        cut=0.75,
        destination="USA",
        start_day=10,
        end_day=100,
    )
    assert s.end_use is None and s.start_day == 10 and s.end_day == 100
    with pytest.raises(ScenarioError):
        Shock(kind="node", country="CHN", cut=2.0)


def test_resolve_nodes_and_combination():
    G = graph()
    node_cut, edge_cut = resolve_shocks(G, ["CHN", "AUS:mining=0.5", "@mining=0.5"])
    assert edge_cut == {}
    assert node_cut["CHN:separation"] == 1.0
    # AUS:mining: 1 - (1 - 0.5)(1 - 0.5) = 0.75
    assert node_cut["AUS:mining"] == pytest.approx(0.75)
    assert "MYS:separation" not in node_cut


def test_resolve_edges():
    G = graph()
    _, edge_cut = resolve_shocks(G, "CHN@magnets->USA=0.75")
    assert edge_cut == {("CHN:magnets", "USA:defense"): 0.75, ("CHN:magnets", "USA:vehicles"): 0.75}
    _, edge_cut = resolve_shocks(G, "@magnets->USA@end_use")
    assert set(edge_cut) == {
        ("CHN:magnets", "USA:defense"),
        ("CHN:magnets", "USA:vehicles"),
        ("JPN:magnets", "USA:vehicles"),
    }
    _, edge_cut = resolve_shocks(G, "CHN:magnets->DEU:vehicles")
    assert edge_cut == {("CHN:magnets", "DEU:vehicles"): 1.0}


def test_resolve_filters():
    G = graph()
    base = parse_shock("CHN@magnets=0.5")
    from dataclasses import replace

    node_cut, edge_cut = resolve_shocks(G, replace(base, destination="USA"))
    assert node_cut == {}
    assert set(edge_cut) == {("CHN:magnets", "USA:defense"), ("CHN:magnets", "USA:vehicles")}
    _, edge_cut = resolve_shocks(G, replace(base, end_use="vehicles"))
    assert set(edge_cut) == {
        ("CHN:magnets", "USA:vehicles"),
        ("CHN:magnets", "DEU:vehicles"),
        ("CHN:magnets", "CHN:vehicles"),
    }
    _, edge_cut = resolve_shocks(
        G, replace(base, except_destination=("CHN",), end_use=("vehicles",))
    )
    assert set(edge_cut) == {("CHN:magnets", "USA:vehicles"), ("CHN:magnets", "DEU:vehicles")}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("FRA", "country 'FRA'"),
        ("CHN@recycling", "stage 'recycling'"),
        ("nope:node", "no node 'nope:node'"),
        ("AUS@mining->USA", "no edge"),
    ],
)
def test_selector_matching_nothing_names_it(text, match):
    with pytest.raises(ScenarioError, match=match) as exc:
        resolve_shocks(graph(), text)
    assert text.split("=")[0] in str(exc.value)
