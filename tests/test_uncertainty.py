"""Monte Carlo draws: the batched kernels against a plain per-draw loop of the deterministic
analyses, percentiles against independent numpy simulations, determinism, invariants and bad
input.

Reference path: :func:`supplygraph.uncertainty.ranges.apply_draw` writes one draw into a copy
of the graph (and of the shocks), and the ordinary one-scenario functions (``disrupt``,
``timeline``, ``sweep``, ``concentration`` ...) run on it -- no batching, no shared code with
the kernels beyond the quantile of each range.

Statistical tolerance: a percentile estimated from ``N`` draws has a CDF error of about
``sqrt(p (1 - p) / N)`` (order-statistic CLT; Sobol' points do better). The tests check that
the independent reference CDF at the CLI's percentile is within 4 such standard errors of
``p`` (N = 4,096: 0.014 at p = 0.05, 0.031 at p = 0.5), plus the reference's own error -- a
false alarm has probability below 1e-4, and the seeds make every run identical anyway.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import supplygraph as sg
from supplygraph.analysis.shocks import parse_shock
from supplygraph.cli import app
from supplygraph.compiled import compile_graph
from supplygraph.errors import InputError
from supplygraph.uncertainty.kernels import DrawPlan, propagate
from supplygraph.uncertainty.ranges import apply_draw, collect
from supplygraph.uncertainty.sampling import DrawSpec, UnitSampler, quantile

runner = CliRunner()
STAGES = ["mine", "refine", "parts", "end_use"]


def ranged_graph(n: int = 60, *, seed: int = 0, cycles: bool = True) -> nx.DiGraph:
    """A random layered chain whose values, flows and external inputs carry ranges."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph(stages=STAGES, name=f"ranged-{seed}")
    sizes = [n // 3, n // 3, n - 2 * (n // 3) - 4, 4]
    layers = []
    for s, size in enumerate(sizes):
        ids = [f"{STAGES[s]}-{i}" for i in range(size)]
        for i in ids:
            value = float(rng.uniform(10, 100))
            attrs = {
                "stage": STAGES[s],
                "country": str(rng.choice(["CHN", "USA", "AUS", "MYS", "ROW"])),
                "value": value,
                "unit": "t",
            }
            if rng.random() < 0.5:
                attrs["value_low"] = value * float(rng.uniform(0.5, 1.0))
                attrs["value_high"] = value * float(rng.uniform(1.0, 1.6))
                attrs["value_dist"] = str(rng.choice(["triangular", "uniform", "pert"]))
            if 0 < s < 3 and rng.random() < 0.2:
                attrs["external_input"] = float(rng.uniform(1, 20))
                attrs["external_input_high"] = attrs["external_input"] * 2
            if s == 3:
                attrs["end_use"] = f"sector{i[-1]}"
            G.add_node(i, **attrs)
        layers.append(ids)
    for s in range(1, 4):
        for v in layers[s]:
            k = int(rng.integers(1, 4))
            for u in rng.choice(layers[s - 1], size=min(k, len(layers[s - 1])), replace=False):
                f = float(rng.lognormal(2, 1))
                attrs = {"flow": f}
                if rng.random() < 0.6:
                    attrs["flow_low"] = f * float(rng.uniform(0.0, 1.0))
                    attrs["flow_high"] = f * float(rng.uniform(1.0, 3.0))
                    if rng.random() < 0.3:
                        attrs["flow_group"] = "shared"
                if s == 2 and rng.random() < 0.4:
                    attrs["material"] = str(rng.choice(["magnet", "wire"]))
                G.add_edge(str(u), v, **attrs)
    if cycles:
        mids = [(u, v) for u, v in G.edges if G.nodes[v]["stage"] == "parts"]
        for j in rng.choice(len(mids), size=3, replace=False):
            u, v = mids[j]
            G.add_edge(v, u, flow=G.edges[u, v]["flow"] * 0.3, flow_high=G.edges[u, v]["flow"])
        G.add_edge(layers[1][0], layers[1][0], flow=2.0, flow_low=0.5, flow_high=4.0)
    return G


def _ranged_shock(text: str, low: float, mid: float, high: float) -> sg.Shock:
    s = parse_shock(text)
    return dataclasses.replace(s, cut=mid, uncertain=("cut", low, mid, high))


# ------------------------------------------------------------------------- sampling
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-1e6, 1e6),
            st.floats(0, 1),
            st.floats(0, 1e6),
            st.sampled_from([0, 1, 2]),
        ),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.floats(0, 1), min_size=1, max_size=16),
)
def test_draws_stay_within_low_and_high(items, us):
    low = np.array([a for a, _, _, _ in items])
    width = np.array([w for _, _, w, _ in items])
    high = low + width
    mode = low + np.array([f for _, f, _, _ in items]) * width
    dist = np.array([d for *_, d in items])
    u = np.repeat(np.array(us)[None, :], len(items), axis=0)
    x = quantile(u, low, mode, high, dist)
    assert np.all(x >= low[:, None]) and np.all(x <= high[:, None])
    # monotone in u: the draws of one item sort like their points
    o = np.argsort(us, kind="stable")
    assert np.all(np.diff(x[:, o], axis=1) >= -1e-9 * (1 + np.abs(x[:, o][:, 1:])))


def test_quantile_matches_scipy_distributions():
    from scipy import stats

    u = np.linspace(0.001, 0.999, 101)[None, :]
    a, c, b = np.array([2.0]), np.array([3.0]), np.array([7.0])
    tri = stats.triang(c=(3 - 2) / 5, loc=2, scale=5).ppf(u[0])
    assert np.allclose(quantile(u, a, c, b, np.array([0]))[0], tri)
    assert np.allclose(quantile(u, a, c, b, np.array([1]))[0], stats.uniform(2, 5).ppf(u[0]))
    pert = 2 + 5 * stats.beta(1 + 4 * 1 / 5, 1 + 4 * 4 / 5).ppf(u[0])
    assert np.allclose(quantile(u, a, c, b, np.array([2]))[0], pert)


@pytest.mark.parametrize("sampling", ["sobol", "lhs", "random"])
def test_a_draw_is_the_same_in_any_chunk(sampling):
    s = UnitSampler(5, DrawSpec(700, seed=9, sampling=sampling))
    whole = s.block(0, 700)
    parts = np.vstack([s.block(a, min(700, a + 97)) for a in range(0, 700, 97)])
    assert np.array_equal(whole, parts)
    assert whole.min() >= 0 and whole.max() < 1
    other = UnitSampler(5, DrawSpec(700, seed=10, sampling=sampling)).block(0, 700)
    assert not np.array_equal(whole, other)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_drawn_shares_are_fractions_that_add_up(seed, cycles):
    G = ranged_graph(30, seed=seed, cycles=cycles)
    cg = compile_graph(G)
    f = collect(G)
    plan = DrawPlan(G, cg, f)
    A = plan.arrays(UnitSampler(f.dim, DrawSpec(32, seed=seed)).block(0, 32))
    assert np.all(A.share >= 0) and np.all(A.share <= 1)
    assert np.all(A.ext >= 0) and np.all(A.ext <= 1)
    tot = np.zeros_like(A.ext)
    np.add.at(tot, cg.tgt, A.share)
    has_in = np.zeros(cg.n, dtype=bool)
    has_in[cg.tgt] = True
    assert np.allclose((tot + A.ext)[has_in], 1.0)
    # every drawn flow within its range
    it = f.items["flow"]
    keep_i, edges, _ = plan.flow_items
    lo, hi = it.low[keep_i][:, None], it.high[keep_i][:, None]
    assert np.all(A.flow[edges] >= lo - 1e-12) and np.all(A.flow[edges] <= hi + 1e-12)


# ------------------------------------------------------------- kernels vs a per-draw loop
@pytest.mark.parametrize("model", ["linear", "leontief"])
@pytest.mark.parametrize("cycles", [False, True])
def test_disrupt_draws_equal_a_per_draw_loop(model, cycles):
    G = ranged_graph(60, seed=3, cycles=cycles)
    shocks = [_ranged_shock("CHN@mine", 0.2, 0.5, 0.9), _ranged_shock("USA->AUS", 0.0, 0.3, 1.0)]
    res = sg.disrupt(G, shocks, model=model, draws=DrawSpec(12, seed=4))
    mc = res.uncertainty
    U = mc.unit_points()
    for j in range(12):
        Gj, sj, _ = apply_draw(G, mc.factors, U[j], shocks)
        ref = sg.disrupt(Gj, sj, model=model)
        got = mc.outputs["remaining"][:, j]
        assert np.allclose(got, ref.targets["remaining"].to_numpy(), atol=1e-10), j
        eu = mc.outputs["end_use"][:, j]
        order = [mc.rows["end_use"].index(k) for k in ref.by_end_use.index]
        assert np.allclose(eu[order], ref.by_end_use["remaining"].to_numpy(), atol=1e-10)


@pytest.mark.parametrize(("size", "ring"), [(80, 3.0), (80, 5000.0), (2, 5000.0)])
def test_cycles_are_solved_per_draw(size, ring):
    """A ring with outside input: fixed-point sweeps per column (feedback 0.75), and the exact
    fallback when the feedback is close to 1 (sparse LU above the dense size, a batched dense
    solve below), each checked against the deterministic sparse solve of every draw."""
    G = nx.DiGraph(stages=["a", "b"])
    G.add_node("src", stage="a", value=10.0)
    for i in range(size):
        G.add_node(f"r{i}", stage="b", value=1.0)
        G.add_edge(f"r{i}", f"r{(i + 1) % size}", flow=ring, flow_low=ring / 3, flow_high=2 * ring)
        G.add_edge("src", f"r{i}", flow=1.0, flow_low=0.5, flow_high=2.0)
    G.add_node("out", stage="b", value=1.0)
    G.add_edge("r5", "out", flow=1.0)
    cg = compile_graph(G)
    f = collect(G)
    plan = DrawPlan(G, cg, f, [parse_shock("src=0.6")])
    U = UnitSampler(f.dim, DrawSpec(6, seed=1)).block(0, 6)
    A = plan.arrays(U)
    h = propagate(cg, A.weights("linear"), A.ext, A.cap, "linear")
    for j in range(6):
        Gj, _, _ = apply_draw(G, f, U[j])
        ref = sg.propagate(Gj, {"src": 0.6})
        assert np.allclose(h[:, j][cg.graph_pos], ref.to_numpy(), atol=1e-10)


def test_rules_and_optimal_draws_equal_a_per_draw_loop():
    G = sg.load("rare-earths")
    sc = sg.get_scenario("april-2025-licences")
    shocks = list(sc.shocks)
    for response, n in (("rules", 6), ("optimal", 3)):
        res = sg.disrupt(G, shocks, model="leontief", response=response, draws=DrawSpec(n, seed=2))
        mc = res.uncertainty
        U = mc.unit_points()
        for j in range(n):
            Gj, sj, _ = apply_draw(G, mc.factors, U[j], shocks)
            ref = sg.disrupt(Gj, sj, model="leontief", response=response, detail=False)
            order = [mc.rows["end_use"].index(k) for k in ref.by_end_use.index]
            got = mc.outputs["end_use"][order, j]
            assert np.allclose(got, ref.by_end_use["remaining"].to_numpy(), atol=1e-8), (
                response,
                j,
            )


def test_timeline_draws_equal_a_per_draw_loop():
    G = sg.load("rare-earths")
    sc = sg.get_scenario("april-2025-licences")
    res = sg.timeline(G, sc, horizon=240, response="none", draws=DrawSpec(5, seed=6))
    mc = res.uncertainty
    U = mc.unit_points()
    for j in range(5):
        Gj, sj, _ = apply_draw(G, mc.factors, U[j], list(sc.shocks))
        ref = sg.timeline(Gj, sj, horizon=240).end_uses
        for col in ("time_to_shortage", "depth", "lost_days"):
            got = mc.outputs[col][:, j]
            want = ref[col].reindex(mc.rows[col]).to_numpy(dtype=float)
            want = np.where(np.isnan(want), np.inf, want) if col == "time_to_shortage" else want
            assert np.allclose(got, want, atol=1e-9), (col, j)


@pytest.mark.parametrize(("by", "model"), [("node", "linear"), ("country-stage", "leontief")])
def test_sweep_draws_equal_a_per_draw_loop(by, model):
    G = ranged_graph(40, seed=5, cycles=False)
    table = sg.sweep(G, by=by, model=model, draws=DrawSpec(6, seed=1), progress=False)
    from supplygraph.analysis.disruption_draws import removal_draws

    labels = (
        table["node"].tolist()
        if by == "node"
        else [f"{c}@{s}" for c, s in zip(table["country"], table["stage"], strict=True)]
    )
    cg = compile_graph(G)
    removals = (
        [np.array([cg.index[x]]) for x in labels]
        if by == "node"
        else [
            np.array(
                [cg.index[v] for v in G if f"{G.nodes[v]['country']}@{G.nodes[v]['stage']}" == x]
            )
            for x in labels
        ]
    )
    mc = removal_draws(G, removals, labels, DrawSpec(6, seed=1), model=model)
    U = mc.unit_points()
    for j in range(6):
        Gj, _, _ = apply_draw(G, mc.factors, U[j])
        ref = sg.sweep(Gj, by=by, model=model, progress=False)
        key = ref["node"] if by == "node" else ref["country"] + "@" + ref["stage"]
        want = pd.Series(ref["weighted_loss"].to_numpy(), index=key.to_numpy())
        got = mc.outputs["weighted_loss"][:, j]
        assert np.allclose(got, want.reindex(labels).to_numpy(), atol=1e-10), j
    # the table's percentile columns are those of these draws
    pct = np.percentile(mc.outputs["weighted_loss"], [5, 50, 95], axis=1).T
    assert np.allclose(table[["weighted_loss_p5", "weighted_loss_p50", "weighted_loss_p95"]], pct)


def test_chokepoint_and_concentration_draws_equal_a_per_draw_loop():
    G = ranged_graph(45, seed=8, cycles=True)
    spec = DrawSpec(5, seed=3)
    cp = sg.chokepoints(G, draws=spec)
    conc = sg.concentration(G, draws=spec)
    from supplygraph.analysis.concentration import concentration_draws

    _, mc = concentration_draws(G, spec)
    U = mc.unit_points()
    hhi = []
    for j in range(5):
        Gj, _, _ = apply_draw(G, mc.factors, U[j])
        hhi.append(sg.concentration(Gj)["hhi"].to_numpy(dtype=float))
    hhi_arr = np.array(hhi).T
    assert np.allclose(mc.outputs["hhi"], hhi_arr, equal_nan=True)
    assert np.allclose(
        conc["hhi_p50"].to_numpy(dtype=float), np.median(hhi_arr, axis=1), equal_nan=True
    )
    # chokepoints: each draw's weighted losses equal the deterministic chokepoints of that draw
    f = collect(G)  # every drawn attribute (concentration reads values and flows only)
    U = UnitSampler(f.dim, spec).block(0, 5)
    wl = []
    for j in range(5):
        Gj, _, _ = apply_draw(G, f, U[j])
        wl.append(sg.chokepoints(Gj)["weighted_loss"].reindex(cp.index).to_numpy())
    wl_arr = np.array(wl).T
    pct = np.percentile(wl_arr, [5, 50, 95], axis=1).T
    got = cp[["weighted_loss_p5", "weighted_loss_p50", "weighted_loss_p95"]].to_numpy()
    assert np.allclose(got, pct, atol=1e-10)
    top = np.argmax(wl_arr, axis=0)
    p1 = np.bincount(top, minlength=len(cp)) / 5
    assert cp["p_rank_1"].iloc[0] == pytest.approx(p1[0])


def test_zero_width_ranges_reproduce_the_deterministic_result():
    G = ranged_graph(40, seed=11, cycles=True)
    for _, d in G.nodes(data=True):
        d.pop("value_low", None)
        d.pop("value_high", None)
        d.pop("external_input_high", None)
    for _, _, d in G.edges(data=True):
        d.pop("flow_low", None)
        d.pop("flow_high", None)
    shocks = ["CHN@refine=0.7"]
    det = sg.disrupt(G, shocks, model="leontief")
    res = sg.disrupt(G, shocks, model="leontief", draws=8)
    for q in (5, 50, 95):
        assert np.allclose(res.targets[f"remaining_p{q}"], det.targets["remaining"], atol=1e-12)
    conc = sg.concentration(G, draws=8)
    assert np.allclose(conc["hhi_p5"], conc["hhi"], equal_nan=True)


# ------------------------------------------------------ independent numpy simulations
def _ecdf_at(ref: np.ndarray, x: float) -> float:
    return float(np.mean(ref <= x))


def _within_mc_error(ref: np.ndarray, got: dict[int, float], n: int) -> None:
    for q, value in got.items():
        p = q / 100
        tol = 4 * np.sqrt(p * (1 - p) / n) + 4 * np.sqrt(p * (1 - p) / len(ref))
        assert abs(_ecdf_at(ref, value) - p) <= tol, (q, value, _ecdf_at(ref, value), tol)


def test_hhi_percentiles_match_an_independent_numpy_simulation(tmp_path: Path):
    (tmp_path / "nodes.csv").write_text(
        "id,stage,country,value,value_low,value_high\n"
        "A,mining,AUS,100,60,150\n"
        "B,mining,CHN,300,250,320\n"
        "C,mining,USA,50,,\n"
        "S,separation,CHN,450,,\n",
        encoding="utf-8",
    )
    (tmp_path / "edges.csv").write_text(
        "source,target,flow\nA,S,100\nB,S,300\nC,S,50\n", encoding="utf-8"
    )
    n = 4096
    out = runner.invoke(
        app,
        ["concentration", str(tmp_path), "--draws", str(n), "--seed", "11", "--format", "json"],
    )
    assert out.exit_code == 0, out.output
    row = next(r for r in json.loads(out.stdout) if r["stage"] == "mining")
    rng = np.random.default_rng(2024)
    m = 400_000
    a = rng.triangular(60, 100, 150, m)
    b = rng.triangular(250, 300, 320, m)
    c = np.full(m, 50.0)
    tot = a + b + c
    hhi = 10_000 * ((a / tot) ** 2 + (b / tot) ** 2 + (c / tot) ** 2)
    _within_mc_error(hhi, {q: row[f"hhi_p{q}"] for q in (5, 50, 95)}, n)


def test_remaining_share_under_a_ban_matches_an_independent_numpy_simulation(tmp_path: Path):
    (tmp_path / "nodes.csv").write_text(
        "id,stage,country,value\nA,mining,AUS,10\nB,mining,CHN,30\nS,separation,JPN,40\n"
        "E,end_use,USA,40\n",
        encoding="utf-8",
    )
    (tmp_path / "edges.csv").write_text(
        "source,target,flow,flow_low,flow_high,flow_dist\n"
        "A,S,10,5,20,\nB,S,30,20,35,uniform\nS,E,40,,,\n",
        encoding="utf-8",
    )
    n = 4096
    out = runner.invoke(
        app,
        ["disrupt", str(tmp_path), "--shock", "A", "--draws", str(n), "--format", "json"],
    )
    assert out.exit_code == 0, out.output
    row = next(r for r in json.loads(out.stdout) if r["target"] == "E")
    rng = np.random.default_rng(7)
    m = 400_000
    fa = rng.triangular(5, 10, 20, m)
    fb = rng.uniform(20, 35, m)
    remaining = fb / (fa + fb)  # the ban leaves B's share of S's inputs
    _within_mc_error(remaining, {q: row[f"remaining_p{q}"] for q in (5, 50, 95)}, n)
    assert row["p_loss_ge_50"] == 0.0  # B always holds more than half


# ----------------------------------------------------------------------- determinism
def test_same_seed_same_output_across_runs_and_workers():
    G = ranged_graph(50, seed=2, cycles=True)
    shocks = [_ranged_shock("CHN@refine", 0.3, 0.6, 1.0)]
    spec = DrawSpec(3000, seed=5)
    one = sg.disrupt(G, shocks, model="leontief", draws=spec)
    again = sg.disrupt(G, shocks, model="leontief", draws=spec)
    two = sg.disrupt(G, shocks, model="leontief", draws=spec, workers=2)
    for other in (again, two):
        pd.testing.assert_frame_equal(one.targets, other.targets, check_exact=True)
        pd.testing.assert_frame_equal(one.by_end_use, other.by_end_use, check_exact=True)
        assert np.array_equal(
            one.uncertainty.outputs["remaining"], other.uncertainty.outputs["remaining"]
        )
    other_seed = sg.disrupt(G, shocks, model="leontief", draws=DrawSpec(3000, seed=6))
    assert not np.array_equal(
        one.uncertainty.outputs["remaining"], other_seed.uncertainty.outputs["remaining"]
    )


def test_chunking_does_not_change_a_draw(monkeypatch):
    from supplygraph.uncertainty import montecarlo

    G = ranged_graph(50, seed=2, cycles=True)
    spec = DrawSpec(500, seed=1)
    base = sg.sweep(G, model="leontief", by="country-stage", draws=spec, progress=False)
    monkeypatch.setattr(montecarlo, "CHUNK_BYTES", 8 * 20_000)
    small = sg.sweep(G, model="leontief", by="country-stage", draws=spec, progress=False)
    pd.testing.assert_frame_equal(base, small, check_exact=True)


def test_dask_gives_identical_draws():
    distributed = pytest.importorskip("distributed")
    from supplygraph.analysis.concentration import concentration_draws
    from supplygraph.uncertainty.montecarlo import run

    G = ranged_graph(40, seed=4)
    _, local = concentration_draws(G, DrawSpec(300, seed=2))
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            host="127.0.0.1",
            protocol="tcp",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = run(local.experiment, local.spec, scheduler=client)
    for k, v in local.outputs.items():
        assert np.array_equal(v, remote.outputs[k], equal_nan=True)


def test_groups_draw_together():
    G = nx.DiGraph()
    G.add_node("a", value=10.0, value_low=5.0, value_high=20.0, value_group="g")
    G.add_node("b", value=1.0, value_low=0.5, value_high=2.0, value_group="g")
    G.add_node("c", value=1.0, value_low=0.5, value_high=2.0)
    f = collect(G)
    assert f.dim == 2 and f.names[0] == "g"
    it = f.items["value"]
    assert it.factor.tolist() == [0, 0, 1]
    u = UnitSampler(2, DrawSpec(64, seed=0)).block(0, 64)
    x = quantile(u[:, it.factor].T, it.low, it.mode, it.high, it.dist)
    # same quantile for a and b: both ranges are 0.5x..2x of the value, so x_a = 10 x_b
    assert np.allclose(x[0], 10 * x[1])
    assert not np.allclose(x[2], x[1])


def test_scenario_ranges_and_shared_groups():
    sc = sg.analysis.scenarios.parse_scenario(
        "[[shocks]]\nnode = 'a'\napproval_rate = [0.25, 0.6]\ngroup = 'lic'\n"
        "[[shocks]]\nnode = 'b'\napproval_rate = [0.1, 0.2, 0.3]\ngroup = 'lic'\n"
        "[[shocks]]\nnode = 'c'\ncut = [0.5, 1.0]\n"
    )
    assert sc.shocks[0].cut == pytest.approx(1 - 0.425)  # the value of [low, high] is the midpoint
    assert sc.shocks[1].cut == pytest.approx(0.8)
    G = nx.DiGraph()
    for v in "abc":
        G.add_node(v, stage="x")
    f = collect(G, None, list(sc.shocks))
    assert f.names[0] == "lic" and f.dim == 2
    assert f.items["cut"].factor.tolist() == [0, 0, 1]


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--draws", "0"], "draws must be a whole number >= 1, got 0"),
        (["--draws", "-4"], "draws must be a whole number >= 1"),
        (["--draws", "10", "--seed", "-1"], "seed must be a whole number >= 0"),
        (["--draws", "100000000000000000"], "would need about"),
    ],
)
def test_bad_draw_counts_are_one_line(args, words):
    out = runner.invoke(app, ["concentration", *args])
    assert out.exit_code == 1
    lines = [x for x in out.output.splitlines() if x.strip()]
    assert len(lines) == 1 and words in lines[0], out.output
    assert "Traceback" not in out.output


def test_bad_range_in_a_graph_file_is_one_line(tmp_path: Path):
    G = nx.DiGraph(stages=["m", "e"])
    G.add_node("a", stage="m", value=10.0, value_low=12.0)
    G.add_node("b", stage="e", value=10.0)
    G.add_edge("a", "b", flow=10.0)
    path = sg.export_graph(G, tmp_path / "g.json")  # no table validation on this path
    out = runner.invoke(app, ["concentration", str(path), "--draws", "16"])
    assert out.exit_code == 1
    lines = [x for x in out.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "column 'value_low': value_low is above value" in lines[0]
    # a graph built in Python (no table validation): the draws check it themselves
    with pytest.raises(InputError, match="node 'a': value_low 12 is above value 10"):
        sg.concentration(G, draws=16)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("approval_rate = [0.6, 0.2]", "key 'shocks[1].approval_rate': approval_rate range must"),
        ("cut = [0.2, 1.2]", "key 'shocks[1].cut': cut must be in [0, 1]"),
        ("cut = [1, 2, 3, 4]", "range must be [low, high] or [low, value, high]"),
        ("cut = 0.5\ngroup = 'x'", "key 'shocks[1].group': group applies to a range"),
        ("cut = [0.1, 0.5]\ndist = 'normal'", "unknown distribution 'normal'"),
    ],
)
def test_bad_scenario_ranges_name_file_line_and_key(tmp_path: Path, text: str, words: str):
    path = tmp_path / "bad.toml"
    path.write_text(f"[[shocks]]\nnode = 'CHN:mining:rock'\n{text}\n", encoding="utf-8")
    out = runner.invoke(app, ["disrupt", "--scenario", str(path), "--draws", "8"])
    assert out.exit_code == 1
    lines = [x for x in out.output.splitlines() if x.strip()]
    assert len(lines) == 1 and words in lines[0] and "bad.toml, line " in lines[0], out.output


def test_draws_with_an_unsupported_response_is_one_line():
    out = runner.invoke(app, ["sweep", "--draws", "8", "--response", "rules"])
    assert out.exit_code == 1
    assert out.output.strip().startswith("error: draws on a sweep run with no response")


# ----------------------------------------------------------------------- sensitivity
def _ishigami(u: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_estimator_recovers_ishigami_indices():
    """Analytic (Ishigami & Homma 1990; a = 7, b = 0.1): S1 = 0.314, 0.442, 0 and
    ST = 0.558, 0.442, 0.244. With n = 8,192 the bootstrap half-widths are about 0.03 on S1 and
    0.01-0.03 on ST; 0.04 is above every one of them."""
    from supplygraph.uncertainty.sensitivity import sobol_indices

    df = sobol_indices(_ishigami, [[0], [1], [2]], 3, n=8192, seed=1)
    assert np.allclose(df["S1"], [0.3139, 0.4424, 0.0], atol=0.04)
    assert np.allclose(df["ST"], [0.5576, 0.4424, 0.2437], atol=0.04)
    assert df["interaction"].tolist() == [True, False, True]  # x1 and x3 act together
    assert (df["S1_conf"] < 0.05).all() and (df["ST_conf"] < 0.05).all()


def test_rank_correlations_and_tornado_on_a_hand_chain(tmp_path: Path):
    """S gets 10 from A (range 5-20) and 30 from B (20-35); a ban on A leaves S with
    fB / (fA + fB): rising in fB, falling in fA. Tornado by hand: at u = 0.05 / 0.95."""
    from supplygraph.uncertainty.sensitivity import drivers, rank_correlations, tornado

    G = nx.DiGraph()
    G.add_edge("A", "S", flow=10.0, flow_low=5.0, flow_high=20.0)
    G.add_edge("B", "S", flow=30.0, flow_low=20.0, flow_high=35.0, flow_dist="uniform")
    res = sg.disrupt(G, "A", draws=2048, seed=1).uncertainty
    rc = rank_correlations(res, "remaining", "S")
    assert rc.loc["flow A->S", "spearman"] < -0.5 and rc.loc["flow B->S", "spearman"] > 0.3
    from scipy.stats import spearmanr

    u = res.unit_points()
    y = res.values("remaining", "S")
    assert rc.loc["flow A->S", "spearman"] == pytest.approx(spearmanr(u[:, 0], y)[0])
    tor = tornado(res, "remaining", "S")
    from scipy import stats

    fa = stats.triang(c=5 / 15, loc=5, scale=15).ppf([0.05, 0.95])
    fb_mid = 27.5
    want_a = fb_mid / (fa + fb_mid)
    assert tor.loc["flow A->S", ["low", "high"]].tolist() == pytest.approx(want_a.tolist())
    assert tor.index[0] == "flow A->S"  # the wider relative range swings more
    d = drivers(res, "remaining", "S", top=2, with_sobol=True, n_sobol=512)
    assert set(d.index) == {"flow A->S", "flow B->S"}
    assert d["S1"].sum() == pytest.approx(1.0, abs=0.1)


def test_timeline_draws_with_lead_time_and_stock_ranges_equal_a_per_draw_loop():
    """Lead times (rounded per draw) and stocks drawn, a shock window, a cut range."""
    G = nx.DiGraph(stages=["mine", "mill", "end_use"])
    G.add_node("A", stage="mine", country="AUS", value=10.0)
    G.add_node("B", stage="mine", country="CHN", value=30.0)
    G.add_node("M", stage="mill", country="JPN", value=40.0, inventory_days=10.0,
               inventory_days_low=0.0, inventory_days_high=30.0)  # fmt: skip
    G.add_node("E", stage="end_use", country="USA", value=40.0, end_use="cars",
               inventory_days=20.0, inventory_days_high=45.0, inventory_days_dist="uniform")  # fmt: skip
    G.add_edge("A", "M", flow=10.0, lead_days=5.0, lead_days_low=1.0, lead_days_high=12.0)
    G.add_edge("B", "M", flow=30.0, lead_days=20.0, lead_days_low=10.0, lead_days_high=40.0)
    G.add_edge("M", "E", flow=40.0, lead_days=3.0)
    shock = dataclasses.replace(
        parse_shock("B"), cut=0.8, uncertain=("cut", 0.5, 0.8, 1.0), start_day=5, end_day=150
    )
    res = sg.timeline(G, [shock], horizon=200, draws=DrawSpec(12, seed=4))
    mc = res.uncertainty
    U = mc.unit_points()
    for j in range(12):
        Gj, sj, _ = apply_draw(G, mc.factors, U[j], [shock])
        ref = sg.timeline(Gj, sj, horizon=200).end_uses
        for col in ("time_to_shortage", "depth", "lost_days"):
            want = ref[col].reindex(mc.rows[col]).to_numpy(dtype=float)
            if col == "time_to_shortage":
                want = np.where(np.isnan(want), np.inf, want)
            assert np.allclose(mc.outputs[col][:, j], want, atol=1e-9), (col, j)
