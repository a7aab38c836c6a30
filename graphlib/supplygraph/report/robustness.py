"""The report's Monte Carlo part: intervals, robust or fragile findings, and their drivers.

:func:`report_draws` runs the report's analyses over draws of the inputs' ranges
(:mod:`supplygraph.uncertainty`): concentration, chokepoints, single removals and every
scenario with no supply response. Each headline finding gets the share of draws in which it
holds; at :data:`~supplygraph.uncertainty.montecarlo.ROBUST` (90 %) or more it is *robust*,
else *fragile*, and a fragile finding names the inputs that move it most (Spearman rank
correlation, then the tornado swing). The scenario whose worst-hit end use varies most gets a
tornado chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.uncertainty.montecarlo import ROBUST, robustness
from supplygraph.wording import join_words

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.uncertainty.montecarlo import MonteCarloResult
    from supplygraph.uncertainty.sampling import DrawSpec

__all__ = ["Finding", "ReportDraws", "report_draws", "tag"]

#: Half of an end use's output: the loss that makes a scenario finding.
HALF = 0.5
#: Factors shown in the tornado chart.
TORNADO_FACTORS = 8


@dataclass
class Finding:
    """One headline finding and how often it holds over the draws.

    Attributes
    ----------
    text
        The finding in one plain sentence (without the label).
    p
        Share of the draws in which it holds (0..1).
    drivers
        For a fragile finding, the inputs that move it most (names of factors).
    """

    text: str
    p: float
    drivers: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``"robust"`` or ``"fragile"``."""
        return str(robustness(self.p))

    def sentence(self) -> str:
        """``"<text>: robust, in 100 % of draws."`` (fragile ones with their drivers)."""
        return f"{self.text}: {tag(self.p, self.drivers)}."


def tag(p: float, drivers: list[str] | None = None) -> str:
    """The label of a finding: ``"robust, in 97 % of draws"``, or ``"fragile, in 20 % of
    draws; moved most by <inputs>"``.

    Examples
    --------
    >>> tag(0.97)
    'robust, in 97 % of draws'
    >>> tag(0.2, ["the approval rate"])
    'fragile, in 20 % of draws; moved most by the approval rate'
    """
    text = f"{robustness(p)}, in {_share(p)} of draws"
    if robustness(p) == "fragile" and drivers:
        text += f"; moved most by {join_words(drivers)}"
    return text


def _share(p: float) -> str:
    if p >= 0.995 and p < 1.0:
        return "> 99 %"
    if 0.0 < p < 0.005:
        return "< 1 %"
    return f"{100 * p:.0f} %"


@dataclass
class ReportDraws:
    """Everything the report shows about the draws.

    Attributes
    ----------
    spec
        Draw count, seed, sampling and distribution.
    concentration
        :func:`~supplygraph.analysis.concentration.concentration` with the percentile columns.
    conc_result
        Its draws (``hhi``, ``top_share``, ``same_top`` per stage).
    chokepoints
        The full chokepoint ranking with draws (index ``id``).
    sweep
        The single-removal sweep with draws.
    scenarios
        Scenario name -> its no-response :class:`~supplygraph.analysis.disruption.
        DisruptionResult` with draws.
    findings
        Every finding with its probability, in headline order.
    tornado
        ``(scenario, end use, table)`` for the tornado chart, or None.
    describe
        One line for the provenance.
    """

    spec: DrawSpec
    concentration: pd.DataFrame
    conc_result: MonteCarloResult
    chokepoints: pd.DataFrame
    sweep: pd.DataFrame
    scenarios: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    tornado: tuple[str, str, pd.DataFrame] | None = None
    describe: str = ""

    # ------------------------------------------------------------------ findings
    def add(self, text: str, p: float, drivers: list[str] | None = None) -> Finding:
        """Record a finding (once per text) and return it."""
        for f in self.findings:
            if f.text == text:
                return f
        finding = Finding(text=text, p=float(p), drivers=list(drivers or []))
        self.findings.append(finding)
        return finding

    def tag(self, p: float, drivers: list[str] | None = None) -> str:
        """The label of a headline sentence (see :func:`tag`)."""
        return tag(p, drivers)

    def scenario_findings(self, name: str) -> list[Finding]:
        """The findings of scenario ``name`` (see :func:`scenario_findings`), recorded."""
        return [
            self.add(f.text, f.p, f.drivers) for f in scenario_findings(name, self.scenarios[name])
        ]

    # ------------------------------------------------------------------ concentration
    def p_leads(self, country: str, stages: list[str]) -> float:
        """Share of draws in which the deterministic top country stays top in all ``stages``."""
        res = self.conc_result
        rows = [res.rows["same_top"].index(s) for s in stages if s in res.rows["same_top"]]
        if not rows:
            return 1.0
        return float(np.all(res.outputs["same_top"][rows] > 0.5, axis=0).mean())

    def p_most_concentrated(self, stage: str, stages: list[str]) -> float:
        """Share of draws in which ``stage`` has the largest HHI among ``stages``."""
        res = self.conc_result
        rows = [res.rows["hhi"].index(s) for s in stages if s in res.rows["hhi"]]
        if stage not in res.rows["hhi"] or not rows:
            return float("nan")
        hhi = np.nan_to_num(res.outputs["hhi"][rows], nan=-1.0)
        best = np.asarray(rows)[np.argmax(hhi, axis=0)]
        return float((best == res.rows["hhi"].index(stage)).mean())

    def hhi_interval(self, stage: str) -> tuple[float, float]:
        """The HHI's 5th and 95th percentiles for a stage."""
        row = self.concentration.loc[stage]
        return float(row["hhi_p5"]), float(row["hhi_p95"])


def report_draws(
    G: nx.DiGraph,
    specs: list[Any],
    model: str,
    spec: DrawSpec,
    *,
    end_uses: set[str] | None = None,
) -> ReportDraws:
    """Run the report's analyses over the draws (see the module docstring).

    Parameters
    ----------
    G
        The graph.
    specs
        The report's scenarios (:class:`~supplygraph.report.build.ScenarioSpec`).
    model
        The report's production model.
    spec
        The draws.
    end_uses
        End-use nodes (left out of the sweep, as in the report's table).
    """
    from supplygraph.analysis.chokepoints import chokepoints
    from supplygraph.analysis.concentration import concentration_draws
    from supplygraph.analysis.disruption import disrupt, sweep
    from supplygraph.analysis.scenarios import apply_capacity

    conc, conc_res = concentration_draws(G, spec)
    choke = chokepoints(G, model=model, draws=spec)
    sw = sweep(G, model=model, draws=spec, progress=False)
    scen = {}
    for s in specs:
        graph = G
        if s.obj is not None and getattr(s.obj, "capacity", None):
            graph = apply_capacity(G, s.obj)
        scen[s.name] = disrupt(graph, list(s.shocks), model=s.model, draws=spec, scenario=s.obj)
    from supplygraph.uncertainty.ranges import collect

    everything = collect(G, shocks=[x for s in specs for x in s.shocks])
    out = ReportDraws(
        spec=spec,
        concentration=conc,
        conc_result=conc_res,
        chokepoints=choke,
        sweep=sw,
        scenarios=scen,
        describe=f"{spec.describe()}; {everything.describe()} (graph and scenarios)",
    )
    out.tornado = _tornado(out)
    return out


def scenario_findings(name: str, result: Any) -> list[Finding]:
    """The findings of one scenario (no response): per end use, whether it loses half or
    more of its output, and how often that holds over the draws.

    An end use losing half or more in the deterministic result gives "E loses half or more";
    one losing less, but half or more in at least 10 % of the draws, gives "E loses less
    than half". Without either, one finding: "no end use loses half of its output".
    """
    by = result.by_end_use
    res = result.uncertainty
    rows = res.rows["end_use"]
    loss = 1.0 - res.outputs["end_use"]
    out: list[Finding] = []
    ends = [k for k in by.index if k != "total"]
    for k in ends:
        det = float(by.loc[k, "loss_share"])
        ge = loss[rows.index(k)] >= HALF - 1e-12
        label = str(k).replace("_", " ")
        if det >= HALF - 1e-12:
            f = Finding(f"{name}: {label} loses half or more of its output", float(ge.mean()))
        elif ge.mean() >= 1.0 - ROBUST:
            f = Finding(f"{name}: {label} loses less than half of its output", float(1 - ge.mean()))
        else:
            continue
        if f.p < ROBUST:
            f.drivers = _drivers(res, "end_use", k)
        out.append(f)
    if not out and ends:
        none = np.all(np.stack([loss[rows.index(k)] < HALF - 1e-12 for k in ends]), axis=0)
        f = Finding(f"{name}: no end use loses half of its output", float(none.mean()))
        if f.p < ROBUST:
            f.drivers = _drivers(res, "end_use", max(ends, key=lambda k: by.loc[k, "loss_share"]))
        out.append(f)
    return out


def _drivers(res: MonteCarloResult, output: str, row: Any, top: int = 2) -> list[str]:
    from supplygraph.uncertainty.sensitivity import drivers

    d = drivers(res, output, row, top=top)
    return [str(x) for x in d.index if float(d.loc[x, "swing"]) > 0][:top]


def _tornado(rd: ReportDraws) -> tuple[str, str, pd.DataFrame] | None:
    """The tornado of the scenario end use whose "loses half or more" is most uncertain (the
    widest 90 % interval among those whose 50 % finding is fragile; else the widest), and its
    table."""
    from supplygraph.uncertainty.sensitivity import tornado

    best: tuple[bool, float, str, str] | None = None
    for name, result in rd.scenarios.items():
        by = result.by_end_use
        for k in by.index:
            if k == "total":
                continue
            spread = float(by.loc[k, "remaining_p95"] - by.loc[k, "remaining_p5"])
            p = float(by.loc[k, "p_loss_ge_50"])
            fragile = 1.0 - ROBUST < p < ROBUST
            key = (fragile, spread, name, str(k))
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None or best[1] <= 0:
        return None
    _, _, name, end_use = best
    res = rd.scenarios[name].uncertainty
    from supplygraph.uncertainty.sensitivity import rank_correlations

    rc = rank_correlations(res, "end_use", end_use)
    position = {f: i for i, f in enumerate(res.factors.names)}
    cand = [position[f] for f in rc.index[: 2 * TORNADO_FACTORS]]
    tor = tornado(res, "end_use", end_use, factors=cand)
    tor = tor[tor["swing"] > 1e-12].head(TORNADO_FACTORS)  # inputs that move it at all
    # as losses (the report speaks of output lost)
    frame = pd.DataFrame(
        {
            "low": 1.0 - tor["low"].to_numpy(dtype=float),
            "high": 1.0 - tor["high"].to_numpy(dtype=float),
        },
        index=tor.index,
    )
    frame.attrs["base"] = 1.0 - float(tor["base"].iloc[0]) if len(tor) else 0.0
    return name, end_use, frame
