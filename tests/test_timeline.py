"""Time to shortage: hand-checked chains, an independent day-by-day re-derivation, invariants."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from supplygraph.analysis.propagation import propagate
from supplygraph.analysis.scenarios import parse_scenario
from supplygraph.analysis.shocks import parse_shock, resolve_shocks
from supplygraph.analysis.timeline import timeline
from supplygraph.errors import ScenarioError


def chain(inventory=20.0, lead1=0, lead2=0, recovery=None):
    """A -> B -> C (mine -> metal -> car maker); C holds `inventory` days of stock."""
    G = nx.DiGraph(stages=["mining", "metal", "end_use"])
    G.add_node("A:mining", stage="mining", country="A", value=100.0)
    G.add_node("B:metal", stage="metal", country="B", value=100.0)
    attrs = {"inventory_days": inventory}
    if recovery is not None:
        attrs["recovery_days"] = recovery
    G.add_node(
        "C:cars", stage="end_use", country="C", value=365.0, end_use="vehicles", unit="t", **attrs
    )
    G.add_edge("A:mining", "B:metal", flow=100.0, lead_days=lead1)
    G.add_edge("B:metal", "C:cars", flow=100.0, lead_days=lead2)
    return G


@pytest.mark.parametrize(("lead1", "lead2"), [(0, 0), (3, 5), (7, 0)])
def test_full_cut_with_20_days_runs_dry_on_day_20_plus_leads(lead1, lead2):
    res = timeline(chain(20, lead1, lead2), "A:mining", horizon=60)
    c = res.daily["C:cars"]
    dry = 20 + lead1 + lead2
    assert (c.iloc[:dry] == 1.0).all()
    assert (c.iloc[dry:] == 0.0).all()
    assert res.summary.loc["C:cars", "time_to_shortage"] == dry
    assert res.summary.loc["C:cars", "depth"] == 0.0
    assert res.summary.loc["B:metal", "time_to_shortage"] == lead1  # no stock at B
    assert res.end_uses.loc["vehicles", "time_to_shortage"] == dry
    assert res.end_uses.loc["vehicles", "first_node"] == "C:cars"
    # lost full-output days = horizon - dry; in value units: 365 t/yr x days / 365
    assert res.summary.loc["C:cars", "lost_days"] == pytest.approx(60 - dry)
    assert res.summary.loc["C:cars", "cumulative_lost"] == pytest.approx(60 - dry)


def test_half_cut_with_20_days_lasts_40_days():
    res = timeline(chain(20), "A:mining=0.5", horizon=80)
    c = res.daily["C:cars"]
    assert (c.iloc[:40] == 1.0).all()
    assert c.iloc[40:].to_numpy() == pytest.approx(0.5)
    assert res.summary.loc["C:cars", "time_to_shortage"] == 40
    assert res.summary.loc["C:cars", "depth"] == pytest.approx(0.5)
    assert res.summary.loc["C:cars", "stock_left"] == 0.0


def test_edge_cut_behaves_like_a_supplier_cut():
    res = timeline(chain(20, 2, 0), "B:metal->C:cars=0.5", horizon=80)
    assert res.summary.loc["C:cars", "time_to_shortage"] == 40  # edge cut acts on arrival
    assert res.summary.loc["B:metal", "depth"] == 1.0


def test_no_shock_changes_nothing():
    G = chain(20, 3, 5)
    res = timeline(G, [], horizon=50)
    assert (res.daily.to_numpy() == 1.0).all()
    assert res.summary["time_to_shortage"].isna().all()
    assert (res.summary.loc["C:cars", "stock_left"]) == 20.0
    assert (res.summary["lost_days"] == 0).all()


def test_window_starts_and_ends():
    # 3 days of stock; A shut on days 10-14: C covers days 10-12, is dry 13-14, recovers on 15
    G = chain(3)
    sc = parse_scenario(
        '[[shocks]]\nnode = "A:mining"\ncut = 1.0\nstart_day = 10\nend_day = 15\n', path="w.toml"
    )
    res = timeline(G, sc, horizon=30)
    c = res.daily["C:cars"].to_numpy()
    expected = np.ones(30)
    expected[13:15] = 0.0
    assert c.tolist() == expected.tolist()
    assert res.summary.loc["C:cars", "time_to_shortage"] == 13
    assert res.summary.loc["C:cars", "lost_days"] == 2.0
    assert res.summary.loc["A:mining", "time_to_shortage"] == 10


def test_tts_compared_with_ttr():
    short = timeline(chain(20, recovery=30), "A:mining", horizon=60).summary
    assert bool(short.loc["C:cars", "tts_lt_ttr"]) is True  # dry on day 20 < 30 days to recover
    ok = timeline(chain(20, recovery=10), "A:mining", horizon=60).summary
    assert bool(ok.loc["C:cars", "tts_lt_ttr"]) is False
    assert ok["tts_lt_ttr"].isna().sum() == 2  # A and B have no recovery time


def test_scenario_start_date_gives_calendar_dates():
    sc = parse_scenario('start_date = 2025-04-04\n[[shocks]]\nnode = "A:mining"\n')
    res = timeline(chain(20), sc, horizon=40)
    assert res.end_uses.loc["vehicles", "shortage_date"] == "2025-04-24"


def test_extra_inventory_delays_shortage():
    res = timeline(chain(20), "A:mining", horizon=60, extra_inventory={"C:cars": 5})
    assert res.summary.loc["C:cars", "time_to_shortage"] == 25


def test_bad_inputs():
    with pytest.raises(ScenarioError, match="horizon"):
        timeline(chain(), "A:mining", horizon=0)
    with pytest.raises(ScenarioError):
        timeline(chain(), "Z:nothing", horizon=10)
    with pytest.raises(ScenarioError, match="not in the graph"):
        timeline(chain(), "A:mining", horizon=10, extra_inventory={"Q": 1})


def test_graph_not_mutated():
    G = chain(20, 1, 1)
    before = (dict(G.nodes(data=True)), list(G.edges(data=True)))
    timeline(G, "A:mining", horizon=30)
    assert (dict(G.nodes(data=True)), list(G.edges(data=True))) == before


def test_cycle_with_zero_lead_converges_to_static_model():
    # a recycling loop: B feeds C, C returns scrap to B the same day
    G = nx.DiGraph(stages=["mining", "metal", "end_use"])
    G.add_node("A", stage="mining", country="A", value=1)
    G.add_node("B", stage="metal", country="B", value=1)
    G.add_node("C", stage="end_use", country="C", value=1, end_use="x")
    G.add_edge("A", "B", flow=3.0)
    G.add_edge("C", "B", flow=1.0)
    G.add_edge("B", "C", flow=1.0)
    res = timeline(G, "A=0.5", horizon=5)
    h = propagate(G, *resolve_shocks(G, [parse_shock("A=0.5")]))
    assert res.daily.iloc[-1]["B"] == pytest.approx(h["B"], abs=1e-12)
    assert res.daily.iloc[-1]["C"] == pytest.approx(h["C"], abs=1e-12)


# ---------------------------------------------------------------------------------------------
# an independent re-derivation: plain Python, node by node in topological order, no fast-forward


def naive_timeline(G, node_cut, edge_cut, horizon):
    order = list(nx.topological_sort(G))
    inflow = {v: sum(d["flow"] for _, _, d in G.in_edges(v, data=True)) for v in G}
    stock = {v: float(G.nodes[v].get("inventory_days") or 0.0) for v in G}
    hist = {v: {} for v in G}
    stocks_seen = []
    for t in range(horizon):
        for v in order:
            cap = 1.0 - node_cut.get(v, 0.0)
            ext = float(G.nodes[v].get("external_input") or 0.0)
            denom = inflow[v] + ext
            if denom <= 0:
                x = 1.0
            else:
                x = ext / denom
                for u, _, d in G.in_edges(v, data=True):
                    lag = round(d.get("lead_days") or 0)
                    hu = hist[u].get(t - lag, 1.0)
                    x += d["flow"] / denom * (1.0 - edge_cut.get((u, v), 0.0)) * hu
            gap = max(0.0, 1.0 - x)
            if gap < 1e-12:
                gap = 0.0
            used = min(stock[v], gap) if cap > 0 else 0.0
            stock[v] -= used
            stocks_seen.append(stock[v])
            hist[v][t] = cap * min(1.0, x + used)
    return {v: [hist[v][t] for t in range(horizon)] for v in G}, stocks_seen, stock


@st.composite
def random_case(draw):
    n = draw(st.integers(3, 7))
    G = nx.DiGraph(stages=["s"])
    for i in range(n):
        G.add_node(
            f"N{i}",
            stage="s",
            country=f"C{i % 3}",
            value=1.0,
            inventory_days=draw(st.sampled_from([0.0, 0.0, 2.5, 5.0, 12.0])),
            external_input=draw(st.sampled_from([0.0, 0.0, 0.5])),
        )
    for i in range(n):
        for j in range(i + 1, n):
            if draw(st.booleans()):
                G.add_edge(
                    f"N{i}",
                    f"N{j}",
                    flow=draw(st.floats(0.1, 5.0)),
                    lead_days=draw(st.integers(0, 3)),
                )
    node_cut = {v: draw(st.sampled_from([0.25, 0.5, 1.0])) for v in G if draw(st.booleans())}
    edge_cut = {e: draw(st.sampled_from([0.3, 1.0])) for e in G.edges if draw(st.booleans())}
    return G, node_cut, edge_cut


def shocks_for(node_cut, edge_cut):
    out = [parse_shock(f"{v}={c}") for v, c in node_cut.items()]
    out += [parse_shock(f"{u}->{v}={c}") for (u, v), c in edge_cut.items()]
    return out


@settings(max_examples=30, deadline=None)
@given(random_case())
def test_matches_naive_simulation_and_stock_never_negative(case):
    G, node_cut, edge_cut = case
    horizon = 30
    expected, stocks_seen, final_stock = naive_timeline(G, node_cut, edge_cut, horizon)
    res = timeline(G, shocks_for(node_cut, edge_cut), horizon=horizon)
    for v in G:
        assert res.daily[v].to_numpy() == pytest.approx(expected[v], abs=1e-9)
        assert res.summary.loc[v, "stock_left"] == pytest.approx(final_stock[v], abs=1e-9)
    assert min(stocks_seen, default=0.0) >= 0.0
    assert (res.summary["stock_left"] >= 0).all()
    assert (res.summary["stock_left"] <= res.summary["inventory_days"] + 1e-12).all()
    out = res.daily.to_numpy()
    assert (out >= 0).all()
    assert (out <= 1).all()


@settings(max_examples=25, deadline=None)
@given(random_case(), st.floats(0.5, 20.0))
def test_more_stock_never_lowers_output(case, extra):
    G, node_cut, edge_cut = case
    shocks = shocks_for(node_cut, edge_cut)
    base = timeline(G, shocks, horizon=25).daily.to_numpy()
    more = timeline(G, shocks, horizon=25, extra_inventory=dict.fromkeys(G, extra)).daily
    assert (more.to_numpy() >= base - 1e-12).all()


@settings(max_examples=25, deadline=None)
@given(random_case())
def test_long_run_equals_static_linear_model(case):
    G, node_cut, edge_cut = case
    h = propagate(G, node_cut, edge_cut)
    # every stock is empty after sum_v stock_v / final gap_v days (+ the lead times)
    horizon = 10 + sum(d["lead_days"] for *_, d in G.edges(data=True))
    for v, d in G.nodes(data=True):
        cap = 1.0 - node_cut.get(v, 0.0)
        gap = 1.0 - h[v] / cap if cap > 0 else 0.0
        if gap > 1e-12:
            horizon += math.ceil(d["inventory_days"] / gap)
    assume(horizon < 20_000)
    res = timeline(G, shocks_for(node_cut, edge_cut), horizon=horizon)
    assert res.daily.iloc[-1].to_numpy() == pytest.approx(h[res.daily.columns].to_numpy(), abs=1e-9)


# ---------------------------------------------------------------------------------------------
# the built-in dataset


def test_april_2025_timeline_on_rare_earths():
    from supplygraph.analysis.scenarios import get_scenario
    from supplygraph.loading import load

    G = load("rare-earths")
    sc = get_scenario("april-2025-licences")
    res = timeline(G, sc)
    eu = res.end_uses
    assert res.start_date.isoformat() == "2025-04-04"
    assert set(eu.index) >= {"vehicles", "defense"}
    # vehicles (30 days of stock) run short before defense (180 days of stock)
    assert eu.loc["vehicles", "time_to_shortage"] < eu.loc["defense", "time_to_shortage"]
    # a foreign end use with 30 days of stock covers its full gap for floor(30 / gap) days
    usv = res.summary.loc["USA:vehicles"]
    gap = 1.0 - usv["final_output"]
    assert usv["time_to_shortage"] == math.floor(30 / gap + 1e-9)
    # China's own users keep their direct supply: no export rule cuts a flow to a Chinese node
    assert res.summary.loc["CHN:vehicles", "depth"] > usv["depth"]


def test_cli_timeline_daily_and_node_level():
    import json

    from typer.testing import CliRunner

    from supplygraph.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app, ["timeline", "-s", "april-2025-licences", "--daily", "--horizon", "50", "-f", "json"]
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert len(rows) == 50
    assert rows[0]["vehicles"] == 1.0
    assert rows[49]["vehicles"] < 1.0
    out = runner.invoke(app, ["timeline", "-s", "no-such-thing"])
    assert out.exit_code == 1
    assert "no scenario file or built-in scenario" in out.stderr
