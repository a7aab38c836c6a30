"""Parallel and distributed sweeps: the same per-scenario kernel, spread over processes or a cluster.

Nonlinear sweeps (every single removal under the Leontief model, or every country x stage group)
are embarrassingly parallel across scenarios: each scenario's losses depend only on the graph
and on the nodes it removes. :func:`run_scenarios` splits the scenarios into contiguous chunks,
runs the kernels' own chunk function
(:func:`supplygraph.analysis.dependency.scenario_losses`) on each chunk and stacks the chunks in
order, so the result is identical to the single-process computation.

Two back ends, no home-made scheduler:

- ``workers=N`` -- local cores, through :class:`concurrent.futures.ProcessPoolExecutor`; the
  compiled graph is sent to each worker once (pool initializer), the chunks are submitted as
  tasks.
- ``scheduler="tcp://host:8786"`` (or a :class:`dask.distributed.Client`) -- a Dask cluster,
  through ``Client.scatter`` (the compiled graph is broadcast once) and ``Client.submit`` (one
  task per chunk). Install the optional extra ``pip install "supplygraph[dask]"`` on the client
  and on every worker (the workers import :mod:`supplygraph`).

:func:`sweep` is :func:`supplygraph.analysis.disruption.sweep` with these two options;
:func:`run_scenarios` and :func:`chunk_bounds` (defined in :mod:`supplygraph.analysis.workers`,
where the back ends live) are re-exported here.

Examples
--------
>>> import networkx as nx
>>> G = nx.DiGraph()
>>> G.add_edge("m1", "s", flow=3.0)
>>> G.add_edge("m2", "s", flow=1.0)
>>> sweep(G, model="leontief", workers=1)[["node", "weighted_loss"]].values.tolist()
[['s', 1.0], ['m1', 0.75], ['m2', 0.25]]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from supplygraph.analysis.workers import (
    CHUNKS_PER_WORKER,
    CONNECT_TIMEOUT,
    chunk_bounds,
    run_scenarios,
)

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["CHUNKS_PER_WORKER", "CONNECT_TIMEOUT", "chunk_bounds", "run_scenarios", "sweep"]


def sweep(
    G: nx.DiGraph,
    model: str = "leontief",
    by: Literal["node", "country-stage"] = "node",
    targets: Iterable[Any] | None = None,
    *,
    workers: int = 1,
    scheduler: Any = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`supplygraph.sweep` over local worker processes or a Dask cluster.

    Parameters
    ----------
    G
        Supply graph (never modified).
    model, by, targets
        As :func:`supplygraph.analysis.disruption.sweep`.
    workers
        Local processes (``--workers N``); 1 = this process.
    scheduler
        Dask scheduler address, ``Client`` or cluster (``--scheduler tcp://host:8786``); when
        given, ``workers`` is ignored.
    **kwargs
        Passed to :func:`supplygraph.analysis.disruption.sweep` (``threshold``, ``details``,
        ``progress``).

    Returns
    -------
    pandas.DataFrame
        Identical to the single-process sweep (same rows, order and values).
    """
    from supplygraph.analysis import disruption

    if scheduler is None:
        return disruption.sweep(G, model, by, targets, workers=workers, **kwargs)
    return disruption.sweep(G, model, by, targets, scheduler=scheduler, **kwargs)
