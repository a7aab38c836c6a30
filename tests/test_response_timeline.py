"""Timelines under the rules response: identities with the no-response timeline, and ramps,
stocks and qualification delays worked out by hand."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import supplygraph as sg
from supplygraph.analysis.response_options import Response
from supplygraph.analysis.scenarios import parse_scenario
from supplygraph.errors import ScenarioError


def chain_with_lags(seed: int) -> nx.DiGraph:
    rng = np.random.default_rng(seed)
    G = nx.DiGraph(stages=["a", "b", "c", "d"])
    layers = [[f"{s}{i}" for i in range(3)] for s in "abcd"]
    for k, ids in enumerate(layers):
        for v in ids:
            G.add_node(v, stage="abcd"[k], country=["X", "Y", "Z"][int(v[1])], value=10.0)
            if k == 3:
                G.nodes[v]["end_use"] = "use"
            if k and rng.random() < 0.6:
                G.nodes[v]["inventory_days"] = float(rng.integers(0, 30))
    for k in range(1, 4):
        for v in layers[k]:
            for j in rng.choice(3, size=2, replace=False):
                G.add_edge(
                    layers[k - 1][int(j)],
                    v,
                    flow=float(rng.integers(1, 10)),
                    lead_days=float(rng.integers(0, 6)),
                )
    return G


@pytest.mark.parametrize("seed", range(4))
def test_rules_without_spare_or_resourcing_is_the_no_response_timeline(seed):
    G = chain_with_lags(seed)
    u, v = next((u, v) for u, v in G.edges if u.startswith("b"))
    shocks = ["a0", f"{u}->{v}=0.5"]
    base = sg.timeline(G, shocks, horizon=120)
    rules = sg.timeline(G, shocks, horizon=120, response=Response("rules", substitution="none"))
    np.testing.assert_allclose(rules.daily.to_numpy(), base.daily.to_numpy(), rtol=0, atol=1e-12)
    cols = ["time_to_shortage", "depth", "time_to_recovery"]
    a = rules.summary.loc[base.summary.index, cols].to_numpy()
    b = base.summary[cols].to_numpy()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, equal_nan=True)


def ramp_graph(**spare) -> nx.DiGraph:
    """X buys 10 from A and 10 from N; N can ramp up to 20 (``spare``: its ramp attributes)."""
    G = nx.DiGraph(stages=["m", "u"])
    G.add_node("A", stage="m", country="AAA", value=10.0)
    G.add_node("N", stage="m", country="NNN", value=10.0, capacity=20.0, **spare)
    G.add_node("X", stage="u", country="XXX", end_use="e", inventory_days=15.0)
    G.add_edge("A", "X", flow=10.0)
    G.add_edge("N", "X", flow=10.0)
    return G


def test_spare_capacity_ramps_after_its_delay():
    # A is shut on day 0. X gets N's 10 of its 20, and N's spare (10 more) comes online
    # linearly from day 10 to day 30: on day t, supply = (10 + 10 * clip((t - 10)/20, 0, 1))/20.
    # X's 8 days of stock fill the gap (0.5 a day to day 9, then less each day) until they run
    # out; the expected path is stepped through here in plain Python.
    G = ramp_graph(ramp_delay_days=10.0, ramp_days=20.0)
    G.nodes["X"]["inventory_days"] = 8.0
    res = sg.timeline(G, "A", horizon=60, response="rules")
    supply = [(10 + 10 * min(max((t - 10) / 20, 0.0), 1.0)) / 20 for t in range(60)]
    stock, tts = 8.0, None
    for t, s in enumerate(supply):
        use = min(stock, 1 - s)
        stock -= use
        if s + use < 1 - 1e-9 and tts is None:
            tts = t
    assert res.summary.loc["X", "time_to_shortage"] == tts
    assert res.summary.loc["X", "time_to_recovery"] == 30  # full supply from day 30 on
    assert bool(res.summary.loc["X", "short_before_recovery"]) is True
    assert tts == 17  # 5 used by day 9; 0.5 + 0.475 + ... + 0.35 = 2.975 by day 16; short on 17
    expected = [min(1.0, s + min(st, 1 - s)) for s, st in _stock_path(supply, 8.0)]
    np.testing.assert_allclose(res.daily["X"].to_numpy(), expected, atol=1e-12)
    # no response: X never recovers while A is shut
    none = sg.timeline(G, "A", horizon=60)
    assert np.isnan(none.summary.loc["X", "time_to_recovery"])
    assert none.summary.loc["X", "time_to_shortage"] == 16  # 8 days of stock at 0.5 a day


def _stock_path(supply, stock):
    out = []
    for s in supply:
        out.append((s, stock))
        stock -= min(stock, 1 - s)
    return out


def test_stock_outlasts_the_ramp():
    # with 40 days of stock X never runs short: the ramp is done by day 30
    G = ramp_graph(ramp_delay_days=10.0, ramp_days=20.0)
    G.nodes["X"]["inventory_days"] = 40.0
    res = sg.timeline(G, "A", horizon=60, response="rules")
    assert np.isnan(res.summary.loc["X", "time_to_shortage"])
    assert bool(res.summary.loc["X", "short_before_recovery"]) is False


def test_scenario_capacity_ramps_from_its_start_day():
    G = ramp_graph()
    G.nodes["N"]["capacity"] = 10.0  # no spare of its own
    sc = parse_scenario(
        """
        [[shocks]]
        node = "A"
        [[capacity]]
        node = "N"
        capacity = 20
        start_day = 5
        ramp_days = 10
        """.replace("\n        ", "\n")
    )
    res = sg.timeline(G, sc, horizon=40, response="rules")
    day = res.daily["X"].to_numpy()
    # stock 15 covers 0.5 a day to day 9 (5 left on day 10): supply on day t is
    # (10 + 10 * clip((t - 5)/10, 0, 1))/20; full from day 15
    assert res.summary.loc["X", "time_to_recovery"] == 15
    assert day[-1] == pytest.approx(1.0)
    assert any("capacity 20 from day 5 over 10 days" in a for a in res.assumptions)


def test_new_links_deliver_after_qualification():
    # X loses A; N has spare but no link to X: only stage substitution reaches it, and only
    # after 12 days of qualification
    G = nx.DiGraph(stages=["m", "u"])
    G.add_node("A", stage="m", country="AAA", value=10.0)
    G.add_node("N", stage="m", country="NNN", value=10.0, capacity=30.0)
    G.add_node("X", stage="u", country="XXX", end_use="e")
    G.add_node("Z", stage="u", country="ZZZ", end_use="e")
    G.add_edge("A", "X", flow=10.0)
    G.add_edge("N", "Z", flow=10.0)
    resp = Response("rules", substitution="stage", qualification_days=12)
    res = sg.timeline(G, "A", horizon=30, response=resp)
    x = res.daily["X"].to_numpy()
    assert np.all(x[:12] == 0.0) and np.all(x[12:] == 1.0)
    assert res.summary.loc["X", "time_to_recovery"] == 12


def test_stockpile_under_the_rules_needs_less_stock():
    # no response: X needs 0.5 a day for 40 days = 20 days of stock (it has 15) -> 5 more;
    # with N's ramp (full from day 30) it needs only sum over days 0-29 of the gap = 10.25
    G = ramp_graph(ramp_delay_days=10.0, ramp_days=20.0)
    G.nodes["X"]["inventory_days"] = 0.0
    none = sg.stockpile(G, "A", target_nodes=["X"], min_output=1.0, days=40, tolerance=0.001)
    rules = sg.stockpile(
        G, "A", target_nodes=["X"], min_output=1.0, days=40, tolerance=0.001, response="rules"
    )
    assert float(none.loc[0, "added_days"]) == pytest.approx(20.0, abs=0.002)
    assert float(rules.loc[0, "added_days"]) == pytest.approx(10.25, abs=0.002)


def test_stockpile_refuses_the_optimal_response_with_a_clear_message():
    with pytest.raises(ScenarioError, match="use mitigate"):
        sg.stockpile(ramp_graph(), "A", target_nodes=["X"], response="optimal")


def test_optimal_timeline_bounds_the_rules_and_no_response():
    # the ramp case: rules run short on day 17 (see above); the optimum cannot keep X whole
    # past the week that contains day 17 (days 14-20), and says so as its upper bound
    G = ramp_graph(ramp_delay_days=10.0, ramp_days=20.0)
    G.nodes["X"]["inventory_days"] = 8.0
    rules = sg.timeline(G, "A", horizon=60, response="rules")
    opt = sg.timeline(G, "A", horizon=60, response="optimal")
    assert rules.end_uses.loc["e", "time_to_shortage"] == 17
    assert opt.end_uses.loc["e", "time_to_shortage"] == 20
    assert any("upper bound" in a for a in opt.assumptions)


@pytest.mark.parametrize("name", ["april-2025-licences", "full-separation-ban"])
def test_optimal_timeline_never_runs_short_before_the_rules(name):
    G = sg.load("rare-earths")
    sc = sg.get_scenario(name)
    tts = {
        r: sg.timeline(G, sc, response=r).end_uses["time_to_shortage"].fillna(np.inf).sort_index()
        for r in ("none", "rules", "optimal")
    }
    assert (tts["optimal"] >= tts["rules"]).all()
    assert (tts["rules"] >= tts["none"]).all()
