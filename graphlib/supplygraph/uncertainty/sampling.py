"""Draws: points in the unit cube of the factors, and numbers drawn from their ranges.

Sampling methods (``sampling=``)
--------------------------------
``"sobol"`` (default)
    Scrambled Sobol' points (``scipy.stats.qmc.Sobol``, Owen scrambling seeded by ``seed``):
    a low-discrepancy sequence, so percentiles and probabilities settle faster than with
    independent draws for smooth results. Powers of two keep its balance properties; other
    counts use the first ``N`` points of the sequence. At most 21,201 factors (scipy's limit).
``"lhs"``
    A Latin hypercube (``scipy.stats.qmc.LatinHypercube``): each factor's range is cut into
    ``N`` equal-probability strata, each hit once.
``"random"``
    Independent uniform draws (``numpy.random.default_rng``), draw ``i`` from its own stream
    seeded by ``(seed, i)``.

Draw ``i`` is the same whatever chunk it is computed in: the Sobol' sequence is skipped ahead
to the chunk's first point, the Latin hypercube is drawn once, and every pseudo-random draw has
its own stream.

Distributions (``x_dist`` column, ``dist`` key, or ``distribution=`` for every range)
------------------------------------------------------------------------------------------
With ``a = low``, ``c = value`` (the mode), ``b = high`` and ``u`` the factor's point:

``triangular`` (default)
    ``F^-1(u) = a + sqrt(u (b - a)(c - a))`` for ``u < (c - a)/(b - a)``, else
    ``b - sqrt((1 - u)(b - a)(b - c))``.
``uniform``
    ``F^-1(u) = a + u (b - a)`` (the value is ignored).
``pert``
    ``a + (b - a) * Beta^-1(u; 1 + 4 (c - a)/(b - a), 1 + 4 (b - c)/(b - a))`` (the
    beta-PERT, mean ``(a + 4c + b) / 6``).

Every draw lies in ``[low, high]``.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from supplygraph.errors import InputError
from supplygraph.schema import DISTRIBUTIONS

__all__ = [
    "SAMPLINGS",
    "DrawSpec",
    "UnitSampler",
    "available_memory",
    "check_memory",
    "dist_code",
    "quantile",
]

#: Sampling methods, the default first.
SAMPLINGS: tuple[str, ...] = ("sobol", "lhs", "random")

#: The most factors scrambled Sobol' points support (scipy's direction numbers).
SOBOL_MAX_DIM = 21_201


@dataclass(frozen=True)
class DrawSpec:
    """How many draws, from which seed, by which sampling method.

    Parameters
    ----------
    n
        Number of draws (>= 1).
    seed
        Seed of the sampling (>= 0). The same seed gives the same draws, on any machine and
        with any number of workers.
    sampling
        ``"sobol"`` (default), ``"lhs"`` or ``"random"`` (see the module docstring).
    distribution
        None: each range's own ``x_dist`` (triangular when not given); else one of
        :data:`supplygraph.schema.DISTRIBUTIONS` for every range.

    Examples
    --------
    >>> DrawSpec.of(1000, seed=7).describe()
    '1,000 draws, seed 7, scrambled Sobol sampling, triangular(low, value, high) unless a range says otherwise'
    >>> DrawSpec.of(0)
    Traceback (most recent call last):
    ...
    supplygraph.errors.InputError: draws must be a whole number >= 1, got 0
    """

    n: int
    seed: int = 0
    sampling: str = "sobol"
    distribution: str | None = None

    def __post_init__(self) -> None:
        n = self.n
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or int(n) < 1:
            raise InputError(f"draws must be a whole number >= 1, got {n!r}")
        s = self.seed
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or int(s) < 0:
            raise InputError(f"seed must be a whole number >= 0, got {s!r}")
        if self.sampling not in SAMPLINGS:
            raise InputError(
                f"unknown sampling {self.sampling!r}: use one of {', '.join(SAMPLINGS)}"
            )
        if self.distribution is not None and self.distribution not in DISTRIBUTIONS:
            raise InputError(
                f"unknown distribution {self.distribution!r}: use one of {', '.join(DISTRIBUTIONS)}"
            )
        object.__setattr__(self, "n", int(n))
        object.__setattr__(self, "seed", int(s))

    @classmethod
    def of(
        cls,
        draws: DrawSpec | int,
        seed: int | None = None,
        sampling: str | None = None,
        distribution: str | None = None,
    ) -> DrawSpec:
        """A spec from a draw count (or a spec) and optional overrides."""
        if isinstance(draws, DrawSpec):
            base = draws
            return DrawSpec(
                base.n,
                base.seed if seed is None else seed,
                base.sampling if sampling is None else sampling,
                base.distribution if distribution is None else distribution,
            )
        return cls(draws, 0 if seed is None else seed, sampling or "sobol", distribution)

    def describe(self) -> str:
        """One line: draws, seed, sampling and distribution."""
        method = {
            "sobol": "scrambled Sobol sampling",
            "lhs": "Latin hypercube sampling",
            "random": "pseudo-random sampling",
        }[self.sampling]
        dist = (
            f"{self.distribution}(low, value, high) for every range"
            if self.distribution
            else "triangular(low, value, high) unless a range says otherwise"
        )
        return f"{self.n:,} draws, seed {self.seed}, {method}, {dist}"


# ---------------------------------------------------------------------------------------------
def dist_code(name: str | None, where: str = "") -> int:
    """Index of a distribution in :data:`~supplygraph.schema.DISTRIBUTIONS` (None: triangular)."""
    if name is None:
        return 0
    key = str(name).strip().lower()
    if key not in DISTRIBUTIONS:
        prefix = f"{where}: " if where else ""
        msg = f"{prefix}unknown distribution {name!r} (use one of: {', '.join(DISTRIBUTIONS)})"
        raise InputError(msg)
    return DISTRIBUTIONS.index(key)


def quantile(
    u: np.ndarray, low: np.ndarray, mode: np.ndarray, high: np.ndarray, dist: np.ndarray
) -> np.ndarray:
    """Numbers drawn from their ranges: ``F^-1(u)`` per item (rows) and draw (columns).

    Parameters
    ----------
    u
        Points in [0, 1], shape (items, draws).
    low, mode, high
        Per item, ``low <= mode <= high``.
    dist
        Per item, the code of its distribution (:func:`dist_code`).

    Returns
    -------
    numpy.ndarray
        Shape (items, draws), every entry in ``[low, high]`` of its row.

    Examples
    --------
    >>> u = np.array([[0.0, 0.5, 1.0]])
    >>> quantile(u, np.array([0.0]), np.array([0.5]), np.array([1.0]), np.array([0])).tolist()
    [[0.0, 0.5, 1.0]]
    >>> quantile(u, np.array([2.0]), np.array([2.0]), np.array([4.0]), np.array([1])).tolist()
    [[2.0, 3.0, 4.0]]
    """
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    a = np.asarray(low, dtype=float)[:, None]
    c = np.asarray(mode, dtype=float)[:, None]
    b = np.asarray(high, dtype=float)[:, None]
    width = b - a
    out = np.empty_like(u)
    code = np.asarray(dist)
    tri = code == 0
    if tri.any():
        every = bool(tri.all())
        uu = u if every else u[tri]
        aa, bb, cc, ww = (x if every else x[tri] for x in (a, b, c, width))
        with np.errstate(invalid="ignore", divide="ignore"):
            fc = np.where(ww > 0, (cc - aa) / np.where(ww > 0, ww, 1.0), 0.5)
        below = uu < fc
        # one square root: sqrt(u w (c - a)) below the mode, sqrt((1 - u) w (b - c)) above
        r = np.sqrt(np.maximum(np.where(below, uu * (cc - aa), (1.0 - uu) * (bb - cc)) * ww, 0.0))
        x = np.where(below, aa + r, bb - r)
        if every:
            out = x
        else:
            out[tri] = x
    uni = code == 1
    if uni.any():
        out[uni] = a[uni] + u[uni] * width[uni]
    pert = code == 2
    if pert.any():
        from scipy.special import betaincinv

        ww = np.where(width[pert] > 0, width[pert], 1.0)
        alpha = 1.0 + 4.0 * (c[pert] - a[pert]) / ww
        beta = 1.0 + 4.0 * (b[pert] - c[pert]) / ww
        q = betaincinv(alpha, beta, u[pert])
        q = np.where(np.isnan(q), np.where(u[pert] < 0.5, 0.0, 1.0), q)  # underflow at the ends
        out[pert] = a[pert] + width[pert] * q
    return np.clip(out, a, b)


# ---------------------------------------------------------------------------------------------
class UnitSampler:
    """Points in the unit cube ``[0, 1]^D``, draw by draw, the same whatever the chunking.

    Parameters
    ----------
    dim
        Number of factors ``D``.
    spec
        The draw count, seed and method.

    Examples
    --------
    >>> s = UnitSampler(3, DrawSpec(8, seed=1))
    >>> np.array_equal(s.block(0, 8)[5:7], s.block(5, 7))
    True
    """

    def __init__(self, dim: int, spec: DrawSpec) -> None:
        self.dim = int(dim)
        self.spec = spec
        self._lhs: np.ndarray | None = None
        if spec.sampling == "sobol" and self.dim > SOBOL_MAX_DIM:
            msg = (
                f"scrambled Sobol sampling supports at most {SOBOL_MAX_DIM:,} independent "
                f"inputs and this run has {self.dim:,}: use --sampling random, or give ranges "
                "that move together a shared x_group"
            )
            raise InputError(msg)

    def block(self, start: int, stop: int) -> np.ndarray:
        """Points of draws ``start .. stop - 1``, shape (stop - start, D)."""
        n = max(int(stop) - int(start), 0)
        if self.dim == 0 or n == 0:
            return np.zeros((n, self.dim))
        method = self.spec.sampling
        if method == "sobol":
            engine = _engine("Sobol", self.dim, self.spec.seed, scramble=True)
            if start:
                engine.fast_forward(int(start))
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*balance properties.*")
                return np.asarray(engine.random(n))
        if method == "lhs":
            if self._lhs is None:
                engine = _engine("LatinHypercube", self.dim, self.spec.seed)
                self._lhs = np.asarray(engine.random(self.spec.n))
            return self._lhs[start:stop]
        out = np.empty((n, self.dim))
        for k, i in enumerate(range(int(start), int(stop))):
            out[k] = np.random.default_rng([self.spec.seed, i]).random(self.dim)
        return out


def _engine(name: str, dim: int, seed: int, **kwargs: Any) -> Any:
    from scipy.stats import qmc

    cls = getattr(qmc, name)
    try:
        return cls(dim, rng=seed, **kwargs)
    except TypeError:  # scipy < 1.15 names it seed
        return cls(dim, seed=seed, **kwargs)


# ---------------------------------------------------------------------------------------------
def available_memory() -> int:
    """Bytes of memory available to this process (MemAvailable on Linux; else 4 GiB)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and size > 0:
            return int(pages) * int(size)
    except (AttributeError, ValueError, OSError):
        pass
    return 4 << 30


def check_memory(n: int, per_draw: float, what: str, *, fraction: float = 0.5) -> None:
    """Raise :class:`InputError` when ``n`` draws of ``per_draw`` bytes would not fit.

    Parameters
    ----------
    n
        Number of draws.
    per_draw
        Bytes kept per draw (results and sampled inputs).
    what
        What those bytes hold, for the message.
    fraction
        Share of the available memory the results may take.

    Examples
    --------
    >>> check_memory(10**15, 8000, "results")
    Traceback (most recent call last):
    ...
    supplygraph.errors.InputError: 1,000,000,000,000,000 draws would need about ...
    """
    need = float(n) * float(per_draw)
    have = available_memory()
    if need > fraction * have:
        msg = (
            f"{n:,} draws would need about {_bytes(need)} for {what}, more than half of the "
            f"{_bytes(have)} of memory available: use fewer draws"
        )
        raise InputError(msg)


def _bytes(x: float) -> str:
    units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
    k = 0 if x < 1 else min(int(math.log(x, 1000)), len(units) - 1)
    return f"{x / 1000**k:,.1f} {units[k]}" if k else f"{x:,.0f} bytes"
