"""Monte Carlo draws: the batched kernels against a per-draw loop, measured in the same run.

Usage::

    python benchmarks/uncertainty.py            # the full run, writes benchmarks/UNCERTAINTY.md
    python benchmarks/uncertainty.py --quick    # smaller draws, prints only

Rows (each the median of ``k`` runs, in one process unless stated):

* built-in chain, 10,000 draws of the linear model (``disrupt --draws``, the April 2025
  scenario, its approval rate ranged): target 2 s;
* the same with the Leontief model, the rules response (1,000 draws) and the timeline (1,000
  draws), and concentration (10,000 draws);
* a 100,000-node / ~266,000-edge generated graph whose every flow and value carries a +-20 %
  range (365,000 independent inputs, pseudo-random sampling), 1,000 draws of the linear model:
  target 60 s in one process;
* the same split over 2 worker processes (identical numbers checked).

Baseline: the plain per-draw loop -- write the draw into a copy of the graph
(:func:`supplygraph.uncertainty.ranges.apply_draw`) and run the one-scenario function -- timed
on a sample of the draws and scaled to the full count (the sample size is stated). Every batched
result is checked against the loop on the sampled draws (max absolute difference).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import supplygraph as sg  # noqa: E402
from generate import generate_network  # noqa: E402
from supplygraph.uncertainty.ranges import apply_draw  # noqa: E402
from supplygraph.uncertainty.sampling import DrawSpec  # noqa: E402


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """Median seconds over ``reps`` runs, and the last result."""
    times, out = [], None
    for _ in range(max(1, reps)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def loop_seconds(
    G: Any,
    mc: Any,
    n: int,
    sample: int,
    one: Callable[[Any, list[Any]], np.ndarray],
    shocks: list[Any],
    got: Callable[[int], np.ndarray],
) -> tuple[float, float]:
    """Per-draw loop on ``sample`` draws: (seconds scaled to ``n`` draws, max |difference|)."""
    U = mc.unit_points()
    picks = np.linspace(0, len(U) - 1, sample).astype(int)
    diff = 0.0
    t0 = time.perf_counter()
    for j in picks.tolist():
        Gj, sj, _ = apply_draw(G, mc.factors, U[j], shocks)
        ref, mine = one(Gj, sj), got(j)
        both = np.isfinite(ref) & np.isfinite(mine)
        assert np.array_equal(np.isfinite(ref), np.isfinite(mine)), (ref, mine)
        diff = max(diff, float(np.max(np.abs(ref[both] - mine[both]), initial=0.0)))
    per = (time.perf_counter() - t0) / sample
    return per * n, diff


def ranged_big(n: int, seed: int = 0) -> Any:
    """The generated benchmark graph with a +-20 % triangular range on every flow and value."""
    G = generate_network(n, seed=seed)
    for _, d in G.nodes(data=True):
        if d.get("value") is not None:
            d["value_low"], d["value_high"] = 0.8 * d["value"], 1.2 * d["value"]
    for _, _, d in G.edges(data=True):
        d["flow_low"], d["flow_high"] = 0.8 * d["flow"], 1.2 * d["flow"]
    return G


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller draws; print only")
    ap.add_argument("--out", type=Path, default=HERE / "UNCERTAINTY.md")
    a = ap.parse_args(argv)
    quick = a.quick
    rows: list[list[str]] = []

    def row(what: str, draws: int, sec: float, loop: float, sample: int, diff: float, note=""):
        rows.append(
            [
                what,
                f"{draws:,}",
                f"{sec:.2f} s",
                f"{loop:.1f} s ({sample} draws timed)",
                f"{loop / sec:,.0f}x",
                f"{diff:.1e}",
                note,
            ]
        )
        print(" | ".join(rows[-1]), flush=True)

    G = sg.load("rare-earths")
    sc = sg.get_scenario("april-2025-licences")
    shocks = list(sc.shocks)
    n10k = 2000 if quick else 10_000
    for model in ("linear", "leontief"):
        sec, res = timed(lambda m=model: sg.disrupt(G, shocks, model=m, draws=n10k), 3)
        mc = res.uncertainty
        tnames = mc.rows["remaining"]

        def one(Gj: Any, sj: list[Any], m: str = model, t: list[Any] = tnames) -> np.ndarray:
            return sg.disrupt(Gj, sj, model=m).targets["remaining"].reindex(t).to_numpy()

        loop, diff = loop_seconds(
            G, mc, n10k, 40, one, shocks, lambda j, mc=mc: mc.outputs["remaining"][:, j]
        )
        row(f"built-in chain, disrupt {model}, no response", n10k, sec, loop, 40, diff)

    n1k = 256 if quick else 1000
    sec, res = timed(
        lambda: sg.disrupt(G, shocks, model="leontief", response="rules", draws=n1k), 1
    )
    mc = res.uncertainty
    eu = mc.rows["end_use"]

    def one_rules(Gj: Any, sj: list[Any]) -> np.ndarray:
        by = sg.disrupt(Gj, sj, model="leontief", response="rules").by_end_use
        return by["remaining"].reindex(eu).to_numpy()

    loop, diff = loop_seconds(
        G, mc, n1k, 20, one_rules, shocks, lambda j: mc.outputs["end_use"][:, j]
    )
    row("built-in chain, disrupt leontief, rules response", n1k, sec, loop, 20, diff)

    sec, res = timed(lambda: sg.timeline(G, sc, response="none", draws=n1k), 1)
    mc = res.uncertainty
    sectors = mc.rows["time_to_shortage"]

    def one_tl(Gj: Any, sj: list[Any]) -> np.ndarray:
        tab = sg.timeline(Gj, sj, response="none").end_uses
        return tab["time_to_shortage"].reindex(sectors).fillna(np.inf).to_numpy()

    def got_tl(j: int) -> np.ndarray:
        return mc.outputs["time_to_shortage"][:, j]

    loop, diff = loop_seconds(G, mc, n1k, 20, one_tl, shocks, got_tl)
    row("built-in chain, timeline (365 days), no response", n1k, sec, loop, 20, diff)

    from supplygraph.analysis.concentration import concentration_draws

    sec, (_, mc) = timed(lambda: concentration_draws(G, DrawSpec(n10k, seed=0)), 3)
    rows_hhi = mc.rows["hhi"]

    def one_conc(Gj: Any, sj: list[Any]) -> np.ndarray:
        return sg.concentration(Gj)["hhi"].reindex(rows_hhi).to_numpy(dtype=float)

    loop, diff = loop_seconds(G, mc, n10k, 40, one_conc, [], lambda j: mc.outputs["hhi"][:, j])
    row("built-in chain, concentration", n10k, sec, loop, 40, diff)

    # ---------------------------------------------------------------- 100k nodes
    n_big = 20_000 if quick else 100_000
    draws_big = 100 if quick else 1000
    t0 = time.perf_counter()
    B = ranged_big(n_big)
    gen = time.perf_counter() - t0
    stage = B.graph["stages"][1]
    shock = f"CHN@{stage}"  # China's firms of the second stage (the generator's pool has CHN)
    spec = DrawSpec(draws_big, seed=0, sampling="random")
    sec, res = timed(lambda: sg.disrupt(B, [shock], draws=spec), 1)
    mc = res.uncertainty
    tn = mc.rows["remaining"]

    def one_big(Gj: Any, sj: list[Any]) -> np.ndarray:
        return sg.disrupt(Gj, sj).targets["remaining"].reindex(tn).to_numpy()

    loop, diff = loop_seconds(
        B, mc, draws_big, 3, one_big, res.shocks, lambda j: mc.outputs["remaining"][:, j]
    )
    note = (
        f"{B.number_of_nodes():,} nodes, {B.number_of_edges():,} edges, "
        f"{mc.factors.dim:,} independent inputs; shock {shock}; graph built in {gen:.0f} s"
    )
    row("100k-node graph, disrupt linear, no response", draws_big, sec, loop, 3, diff, note)
    sec2, res2 = timed(lambda: sg.disrupt(B, [shock], draws=spec, workers=2), 1)
    same = np.array_equal(res2.uncertainty.outputs["remaining"], mc.outputs["remaining"])
    rows.append(
        [
            "100k-node graph, the same on 2 worker processes",
            f"{draws_big:,}",
            f"{sec2:.2f} s",
            f"{sec:.2f} s in one process",
            f"{sec / sec2:.2f}x",
            "identical" if same else "DIFFERENT",
            "the machine's 2 cores are shared with other work",
        ]
    )
    print(" | ".join(rows[-1]), flush=True)

    header = [
        "operation",
        "draws",
        "batched (median)",
        "per-draw loop",
        "ratio",
        "max abs. difference vs loop",
        "note",
    ]
    lines = [
        "# Monte Carlo draws: batched kernels against a per-draw loop",
        "",
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, numpy {np.__version__}; "
        "`python benchmarks/uncertainty.py`. The per-draw loop writes each draw into a copy of "
        "the graph and runs the one-scenario function; it is timed on a sample of draws (stated) "
        "and scaled to the full count. The difference column compares the batched result with "
        "the loop on those draws. Note the machine's load when reading the times.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * len(header)) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    if not quick:
        a.out.write_text(text, encoding="utf-8")
        print(f"written {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
