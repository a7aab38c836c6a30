"""Where scenario chunks run: in this process, on local worker processes, or on a Dask cluster.

Removal scenarios are independent of each other, so a batch can be cut into contiguous chunks
(:func:`chunk_bounds`), each chunk run by the kernels' own chunk function
(:func:`supplygraph.analysis.dependency.scenario_losses`), and the chunks stacked in their
original order: the result is identical to the single-process computation.

Two back ends, no home-made scheduler:

- ``workers=N`` -- local cores, through :class:`concurrent.futures.ProcessPoolExecutor`; the
  compiled graph is sent to each worker once (pool initializer; shared by ``fork`` on Linux),
  the chunks are submitted as tasks.
- ``scheduler="tcp://host:8786"`` (or a :class:`dask.distributed.Client`) -- a Dask cluster,
  through ``Client.scatter`` (the compiled graph is broadcast once) and ``Client.submit`` (one
  task per chunk). Install the optional extra ``pip install "supplygraph[dask]"`` on the client
  and on every worker (the workers import :mod:`supplygraph`).

:func:`supplygraph.analysis.disruption.sweep` calls :func:`run_scenarios`;
:mod:`supplygraph.parallel` is the public entry point with the same options.

Examples
--------
>>> import numpy as np
>>> import networkx as nx
>>> from supplygraph.compiled import compile_graph
>>> G = nx.DiGraph()
>>> G.add_edge("m1", "s", flow=3.0)
>>> G.add_edge("m2", "s", flow=1.0)
>>> cg = compile_graph(G)
>>> t = np.array([cg.index["s"]])
>>> run_scenarios(cg, np.arange(cg.n), "leontief", t, workers=1).toarray().ravel().tolist()
[0.75, 0.25, 1.0]
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.errors import SupplyGraphError

if TYPE_CHECKING:
    import scipy.sparse as sp

    from supplygraph.compiled import CompiledGraph

__all__ = ["CHUNKS_PER_WORKER", "CONNECT_TIMEOUT", "chunk_bounds", "run_scenarios"]

#: Chunks per worker: enough to balance uneven chunks, few enough to keep per-task overhead low.
CHUNKS_PER_WORKER = 4

#: How long to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = "10s"


def chunk_bounds(n_scenarios: int, n_chunks: int) -> list[tuple[int, int]]:
    """Split ``range(n_scenarios)`` into at most ``n_chunks`` contiguous, nearly equal ranges.

    Parameters
    ----------
    n_scenarios
        Number of scenarios.
    n_chunks
        Wanted number of chunks (at least 1).

    Returns
    -------
    list of (start, stop)
        Non-empty half-open ranges covering ``0..n_scenarios`` in order.

    Examples
    --------
    >>> chunk_bounds(10, 3)
    [(0, 3), (3, 7), (7, 10)]
    >>> chunk_bounds(2, 8)
    [(0, 1), (1, 2)]
    """
    n_chunks = max(1, min(int(n_chunks), int(n_scenarios)))
    if n_scenarios <= 0:
        return []
    edges = np.linspace(0, n_scenarios, n_chunks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges.tolist()) if b > a]


def _take(scenarios: Sequence[Any] | np.ndarray, a: int, b: int) -> Sequence[Any] | np.ndarray:
    if isinstance(scenarios, np.ndarray):
        return scenarios[a:b]
    return list(scenarios[a:b])


def _portable(cg: CompiledGraph) -> CompiledGraph:
    """A copy of ``cg`` without lazily built caches (smaller to pickle; rebuilt on demand)."""
    return dataclasses.replace(cg, _cache={})


# -------------------------------------------------------------------- local process pool
_WORKER_CG: CompiledGraph | None = None


def _init_worker(cg: CompiledGraph) -> None:
    global _WORKER_CG
    _WORKER_CG = cg


def _pool_chunk(
    scenarios: Sequence[Any] | np.ndarray, model: str, tpos: np.ndarray
) -> sp.csr_matrix:
    from supplygraph.analysis.dependency import scenario_losses

    assert _WORKER_CG is not None
    return scenario_losses(_WORKER_CG, scenarios, model, tpos, progress=False)


def _run_pool(
    cg: CompiledGraph,
    scenarios: Sequence[Any] | np.ndarray,
    model: str,
    tpos: np.ndarray,
    workers: int,
    bounds: list[tuple[int, int]],
    bar: Any,
) -> list[sp.csr_matrix]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # fork shares the compiled graph with the workers without pickling it (Linux); elsewhere
    # the initializer receives one pickled copy per worker
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    parts: list[sp.csr_matrix | None] = [None] * len(bounds)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(cg,)
    ) as ex:
        futs = {
            ex.submit(_pool_chunk, _take(scenarios, a, b), model, tpos): i
            for i, (a, b) in enumerate(bounds)
        }
        done = 0
        for fut in as_completed(futs):
            i = futs[fut]
            parts[i] = fut.result()
            done += bounds[i][1] - bounds[i][0]
            if bar is not None:
                bar.update(done)
    return parts


# ----------------------------------------------------------------------------------- Dask
def _dask_client(scheduler: Any) -> tuple[Any, bool]:
    """Return ``(client, owned)`` for a scheduler address or an existing Client."""
    try:
        from dask.distributed import Client
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise SupplyGraphError(
            'the Dask scheduler needs the optional extra: pip install "supplygraph[dask]"'
        ) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if hasattr(scheduler, "scheduler_address"):  # a LocalCluster / other cluster object
        return Client(scheduler), True
    try:
        return Client(str(scheduler), timeout=CONNECT_TIMEOUT), True
    except OSError as exc:
        raise SupplyGraphError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def _run_dask(
    cg: CompiledGraph,
    scenarios: Sequence[Any] | np.ndarray,
    model: str,
    tpos: np.ndarray,
    scheduler: Any,
    chunks: int | None,
    bar: Any,
) -> list[sp.csr_matrix]:
    from dask.distributed import as_completed

    from supplygraph.analysis.dependency import scenario_losses

    client, owned = _dask_client(scheduler)
    try:
        if chunks is None:
            threads = sum(client.nthreads().values()) or 1
            chunks = CHUNKS_PER_WORKER * threads
        bounds = chunk_bounds(len(scenarios), chunks)
        cg_future = client.scatter(_portable(cg), broadcast=True, hash=False)
        futs = [
            client.submit(
                scenario_losses,
                cg_future,
                _take(scenarios, a, b),
                model,
                tpos,
                progress=False,
                pure=False,
            )
            for a, b in bounds
        ]
        index = {f.key: i for i, f in enumerate(futs)}
        parts: list[sp.csr_matrix | None] = [None] * len(bounds)
        done = 0
        for fut in as_completed(futs):
            i = index[fut.key]
            parts[i] = fut.result()
            done += bounds[i][1] - bounds[i][0]
            if bar is not None:
                bar.update(done)
        return parts
    finally:
        if owned:
            client.close()


def run_scenarios(
    cg: CompiledGraph,
    scenarios: Sequence[Any] | np.ndarray,
    model: str,
    tpos: np.ndarray,
    *,
    workers: int = 1,
    scheduler: Any = None,
    chunks: int | None = None,
    progress: bool = False,
) -> sp.csr_matrix:
    """Losses at the targets for each scenario, on local processes or a Dask cluster.

    Parameters
    ----------
    cg
        Compiled graph (:func:`supplygraph.compiled.compile_graph`).
    scenarios
        One entry per scenario: an array of removed positions, or (a 1-D integer array of)
        single positions, as accepted by
        :func:`~supplygraph.analysis.dependency.scenario_losses`.
    model
        ``"linear"`` or ``"leontief"``.
    tpos
        Target positions (columns of the result).
    workers
        Local worker processes (ignored when ``scheduler`` is given). 1 runs in this process.
    scheduler
        A Dask scheduler address (``"tcp://10.0.0.5:8786"``), a ``dask.distributed.Client`` or a
        cluster object (``LocalCluster``). A client created here is closed afterwards.
    chunks
        Number of chunks (default ``4 x`` workers; for Dask, ``4 x`` the cluster's threads).
    progress
        Progress bar on stderr (terminal only, after 2 s).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(len(scenarios), len(tpos))`` losses in [0, 1]; identical to the single-process
        ``scenario_losses(cg, scenarios, model, tpos)``.

    Raises
    ------
    SupplyGraphError
        The Dask extra is missing or the scheduler cannot be reached.
    """
    import scipy.sparse as sp

    from supplygraph.analysis.dependency import Progress, scenario_losses

    S = len(scenarios)
    workers = max(1, int(workers or 1))
    if scheduler is None and (workers <= 1 or S < 2):
        return scenario_losses(cg, scenarios, model, tpos, progress=progress)
    bar = Progress(S, f"{model} sweep") if progress else None
    try:
        if scheduler is not None:
            parts = _run_dask(cg, scenarios, model, tpos, scheduler, chunks, bar)
        else:
            bounds = chunk_bounds(S, chunks or CHUNKS_PER_WORKER * workers)
            parts = _run_pool(cg, scenarios, model, tpos, workers, bounds, bar)
    finally:
        if bar is not None:
            bar.close()
    if not parts:
        return sp.csr_matrix((0, len(tpos)))
    return sp.vstack(parts, format="csr")
