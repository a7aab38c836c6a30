"""Uncertainty and sensitivity: ranges on the inputs, Monte Carlo intervals on the results, and
the inputs that drive them.

A number in a supply graph may carry a range (``value_low``/``value_high``, ``flow_low``/
``flow_high``, ... see :mod:`supplygraph.schema`), and a scenario's cut, approval rate or
capacity change may be a range (``approval_rate = [0.25, 0.25, 0.6]``, see
:mod:`supplygraph.analysis.scenarios`). A *factor* is one independent draw: one ranged cell, or
every cell (and scenario value) sharing a ``group`` name -- one assumption driving many numbers.

The method, in four steps:

1. **Sampling** (:mod:`~supplygraph.uncertainty.sampling`): ``N`` points ``u`` in the unit cube
   of the factors, scrambled Sobol' by default (``scipy.stats.qmc``), or Latin hypercube, or
   plain pseudo-random; every number is then its own quantile of its distribution at the
   factor's ``u``: ``x = F^-1(u; low, value, high)``, triangular by default (uniform and PERT
   selectable). Every draw lies in ``[low, high]``.
2. **Evaluation** (:mod:`~supplygraph.uncertainty.kernels`): the draws are a batch dimension of
   the compiled kernels -- every per-node array becomes ``(n, draws)``, every per-edge array
   ``(m, draws)`` -- so a chunk of draws costs a few array passes per level of the graph, never
   a Python loop over draws. Chunks start at fixed draw numbers, whatever the number of
   workers, so a run gives the same numbers on one process, several or a Dask cluster; the
   no-response kernels also compute every column on its own and sum in index order, so a
   draw's numbers do not even depend on the chunk it falls in (the rules response shares one
   convergence test per chunk). The analyses' draws live next to them:
   :func:`~supplygraph.analysis.concentration.concentration_draws`,
   :mod:`supplygraph.analysis.disruption_draws` (disruptions under every response, sweeps and
   chokepoints) and :func:`~supplygraph.analysis.timeline.timeline_draws`.
3. **Summaries** (:mod:`~supplygraph.uncertainty.montecarlo`): percentiles (``hhi_p5``,
   ``hhi_p50``, ``hhi_p95``, ``remaining_p5`` ...) and probability statements (``p_rank_1``,
   ``p_loss_ge_50``, ``p_tts_lt_60``) next to the deterministic columns.
4. **Sensitivity** (:mod:`~supplygraph.uncertainty.sensitivity`): Spearman rank correlations
   from the Monte Carlo sample, a tornado (one factor at its 5th / 95th percentile, the others
   at their median) and Sobol' indices (Saltelli's first-order and Jansen's total estimators),
   with ``ST - S1 > 0.1`` flagged as an interaction.
"""
