"""The Monte Carlo engine: run an experiment over its draws, summarise, find what drives it.

An :class:`Experiment` is a function of the unit points of its factors: ``evaluate(u)`` takes
a chunk ``u`` of shape ``(B, D)`` and returns named outputs of shape ``(rows, B)`` (the HHI of
each stage, the remaining output of each target ...). :func:`run` evaluates the draws of a
:class:`~supplygraph.uncertainty.sampling.DrawSpec` in chunks -- in process, over local worker
processes, or on a Dask cluster -- and returns a :class:`MonteCarloResult`. Chunks start at
fixed draw numbers and every draw is computed on its own, so the result is identical for any
chunk size and any number of workers.

Summaries
---------
``x_p5``, ``x_p50``, ``x_p95``
    The 5th, 50th and 95th percentiles of output ``x`` over the draws (``numpy.percentile``,
    linear interpolation): a 90 % interval around the median.
``p_...``
    The share of draws in which a statement holds, e.g. ``p_rank_1``; its Monte Carlo
    standard error is ``sqrt(p (1 - p) / N)`` (Sobol' points usually do better).
robust / fragile
    A finding is *robust* when it holds in at least :data:`ROBUST` (90 %) of the draws, else
    *fragile*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supplygraph.errors import InputError
from supplygraph.uncertainty.sampling import DrawSpec, UnitSampler, check_memory

if TYPE_CHECKING:
    import pandas as pd

    from supplygraph.uncertainty.ranges import Factors

__all__ = [
    "PERCENTILES",
    "ROBUST",
    "Experiment",
    "MonteCarloResult",
    "factor_notes",
    "percentile_columns",
    "robustness",
    "run",
]

#: The percentiles reported (columns ``_p5``, ``_p50``, ``_p95``).
PERCENTILES: tuple[int, ...] = (5, 50, 95)

#: Share of draws in which a finding must hold to be called robust.
ROBUST = 0.9

#: Bytes of per-draw working arrays a chunk may use.
CHUNK_BYTES = 256 << 20


@dataclass
class Experiment:
    """A function of the factors' unit points, evaluated chunk by chunk.

    Attributes
    ----------
    factors
        The factors (columns of ``u``).
    evaluate
        ``u (B, D) -> {name: array (rows, B)}``.
    rows
        Row labels of each output.
    cells
        Array cells a draw needs while it is evaluated (sets the chunk size).
    """

    factors: Factors
    evaluate: Callable[[np.ndarray], dict[str, np.ndarray]]
    rows: dict[str, list[Any]]
    cells: int = 1

    def chunk(self) -> int:
        """Draws per chunk: as many as fit in :data:`CHUNK_BYTES` of working arrays."""
        return int(max(1, min(4096, CHUNK_BYTES // (8 * max(self.cells, 1)))))

    def evaluate_points(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Evaluate arbitrary unit points (tornado and Sobol' designs), chunk by chunk."""
        size = self.chunk()
        parts = [self.evaluate(u[i : i + size]) for i in range(0, len(u), size)]
        return {k: np.concatenate([p[k] for p in parts], axis=1) for k in self.rows}


@dataclass
class MonteCarloResult:
    """The outputs of every draw of an experiment.

    Attributes
    ----------
    spec
        Draw count, seed, sampling and distribution.
    experiment
        The experiment (to re-evaluate designs: tornado, Sobol').
    outputs
        ``name -> (rows, N)`` per-draw values.
    notes
        Plain sentences about the run (what was drawn, what was not).
    """

    spec: DrawSpec
    experiment: Experiment
    outputs: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)

    @property
    def factors(self) -> Factors:
        """The factors of the run."""
        return self.experiment.factors

    @property
    def rows(self) -> dict[str, list[Any]]:
        """Row labels of each output."""
        return self.experiment.rows

    def values(self, name: str, row: Any) -> np.ndarray:
        """The per-draw values of one output row, shape (N,)."""
        return self.outputs[name][self.rows[name].index(row)]

    def percentiles(self, name: str) -> np.ndarray:
        """``(rows, 3)``: the 5th, 50th and 95th percentiles of output ``name`` per row."""
        x = self.outputs[name]
        if x.shape[1] == 0:
            return np.full((x.shape[0], len(PERCENTILES)), np.nan)
        with np.errstate(invalid="ignore"):
            return np.percentile(x, PERCENTILES, axis=1).T

    def probability(self, name: str, predicate: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Share of draws in which ``predicate(values)`` holds, per row of output ``name``."""
        return np.asarray(predicate(self.outputs[name]), dtype=float).mean(axis=1)

    def unit_points(self) -> np.ndarray:
        """The draws' unit points ``u``, (N, D) (regenerated from the seed)."""
        return UnitSampler(self.factors.dim, self.spec).block(0, self.spec.n)

    def describe(self) -> str:
        """One line: the spec and the factors."""
        return f"{self.spec.describe()}; {self.factors.describe()}"


def percentile_columns(frame: pd.DataFrame, name: str, values: np.ndarray, after: str) -> None:
    """Insert ``name_p5``, ``name_p50``, ``name_p95`` (columns of ``values``) after ``after``."""
    at = list(frame.columns).index(after) + 1 if after in frame.columns else len(frame.columns)
    for i, q in enumerate(PERCENTILES):
        frame.insert(at + i, f"{name}_p{q}", values[:, i])


def factor_notes(factors: Factors, skipped: Sequence[str] = ()) -> list[str]:
    """Plain sentences about a run's factors: how many, what is not drawn, what was skipped."""
    notes = [factors.describe()]
    if factors.not_drawn:
        notes.append(
            "Ranges on " + ", ".join(factors.not_drawn) + " are kept but not drawn by this "
            "analysis (it reads their values)."
        )
    notes.extend(skipped)
    if factors.dim == 0:
        notes.append("No ranges: every draw equals the deterministic result.")
    return notes


def robustness(p: np.ndarray | float) -> Any:
    """``"robust"`` where a finding holds in at least :data:`ROBUST` of the draws."""
    arr = np.asarray(p, dtype=float)
    out = np.where(arr >= ROBUST - 1e-12, "robust", "fragile")
    return str(out) if out.ndim == 0 else out.tolist()


# ---------------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init(experiment: Experiment, spec: DrawSpec) -> None:
    _WORKER.update(experiment=experiment, sampler=UnitSampler(experiment.factors.dim, spec))


def _chunk(bounds: tuple[int, int]) -> dict[str, np.ndarray]:
    a, b = bounds
    return _WORKER["experiment"].evaluate(_WORKER["sampler"].block(a, b))


def _evaluate_range(experiment: Experiment, spec: DrawSpec, a: int, b: int) -> dict[str, Any]:
    return experiment.evaluate(UnitSampler(experiment.factors.dim, spec).block(a, b))


def run(
    experiment: Experiment,
    spec: DrawSpec,
    *,
    workers: int = 1,
    scheduler: Any = None,
    notes: Sequence[str] = (),
) -> MonteCarloResult:
    """Evaluate every draw of ``spec``; identical for any ``workers`` or ``scheduler``.

    Parameters
    ----------
    experiment
        What to evaluate.
    spec
        Draw count, seed, sampling, distribution.
    workers
        Local processes (fork); 1: in process.
    scheduler
        A Dask scheduler address or ``Client`` (needs the ``supplygraph[dask]`` extra).
    notes
        Sentences kept with the result.

    Raises
    ------
    InputError
        When the per-draw results would not fit in memory (one line, with the sizes).
    """
    n_rows = sum(len(r) for r in experiment.rows.values())
    check_memory(spec.n, 8.0 * (n_rows + experiment.factors.dim), "the per-draw results")
    size = experiment.chunk()
    bounds = [(a, min(spec.n, a + size)) for a in range(0, spec.n, size)]
    if scheduler is not None:
        parts = _run_dask(experiment, spec, bounds, scheduler)
    elif int(workers or 1) > 1 and len(bounds) > 1:
        parts = _run_local(experiment, spec, bounds, int(workers))
    else:
        sampler = UnitSampler(experiment.factors.dim, spec)
        parts = [experiment.evaluate(sampler.block(a, b)) for a, b in bounds]
    outputs = {
        k: np.concatenate([p[k] for p in parts], axis=1)
        if parts
        else np.zeros((len(experiment.rows[k]), 0))
        for k in experiment.rows
    }
    return MonteCarloResult(spec=spec, experiment=experiment, outputs=outputs, notes=list(notes))


def _run_local(
    experiment: Experiment, spec: DrawSpec, bounds: list[tuple[int, int]], workers: int
) -> list[dict[str, np.ndarray]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in mp.get_all_start_methods():  # pragma: no cover - Windows
        sampler = UnitSampler(experiment.factors.dim, spec)
        return [experiment.evaluate(sampler.block(a, b)) for a, b in bounds]
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init, initargs=(experiment, spec)
    ) as ex:
        return list(ex.map(_chunk, bounds))


def _run_dask(
    experiment: Experiment, spec: DrawSpec, bounds: list[tuple[int, int]], scheduler: Any
) -> list[dict[str, np.ndarray]]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the environment
        msg = (
            "the Dask scheduler needs the supplygraph[dask] extra: pip install 'supplygraph[dask]'"
        )
        raise InputError(msg) from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout=10) if own else scheduler
    except (OSError, TimeoutError) as exc:
        msg = f"cannot reach the Dask scheduler at {scheduler!r}: {exc}"
        raise InputError(msg) from None
    try:
        exp = client.scatter(experiment, broadcast=True)
        futures = [client.submit(_evaluate_range, exp, spec, a, b, pure=False) for a, b in bounds]
        return list(client.gather(futures))
    finally:
        if own:
            client.close()
