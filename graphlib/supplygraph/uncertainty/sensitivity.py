"""Which inputs drive a result: rank correlations, tornado, Sobol' indices.

Three views of the same question -- "which ranges move this number?" -- at three costs:

Rank correlations (free)
    Spearman's coefficient between each factor's draws and the output over the Monte Carlo
    sample already drawn (``scipy.stats.spearmanr``'s definition: Pearson's correlation of the
    ranks). Its sign says the direction; it sees monotone effects, not interactions.
Tornado (2 evaluations per factor)
    The output with one factor at its 5th and at its 95th percentile (``u = 0.05``, ``0.95``)
    and every other factor at its median (``u = 0.5``); the swing ``|high - low|`` ranks the
    factors. Blind to interactions, which matter where a Leontief minimum binds.
Sobol' indices (``n (k + 2)`` evaluations for ``k`` factors)
    The first-order index ``S1_i = V[E(Y | X_i)] / V(Y)`` (Saltelli et al. 2010) and the total
    index ``ST_i = E[V(Y | X_~i)] / V(Y)`` (Jansen 1999), from two independent matrices ``A``,
    ``B`` (scrambled Sobol' points in ``2k`` dimensions) and ``AB_i`` (``A`` with column ``i``
    from ``B``)::

        S1_i = mean( f(B) (f(AB_i) - f(A)) ) / V
        ST_i = mean( (f(A) - f(AB_i))^2 ) / (2 V)

    with ``V`` the variance of ``f`` over ``A`` and ``B`` together; confidence intervals from a
    bootstrap over the rows. ``ST_i - S1_i > 0.1`` flags an **interaction**: input ``i`` matters
    through its combination with others. Checked against the Ishigami function's analytic
    indices in the tests. With many factors, :func:`sobol` groups all but the strongest (by
    rank correlation) into one "other inputs" group, so the budget stays ``n (k + 2)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.errors import InputError

if TYPE_CHECKING:
    from supplygraph.uncertainty.montecarlo import MonteCarloResult

__all__ = [
    "INTERACTION",
    "drivers",
    "rank_correlations",
    "sobol",
    "sobol_indices",
    "tornado",
]

#: ``ST - S1`` above which an input is flagged as interacting with others.
INTERACTION = 0.1


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, axis=0)


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Correlation of every column of ``x`` (N, D) with ``y`` (N,); NaN where one is constant."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    num = xc.T @ yc
    den = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def rank_correlations(result: MonteCarloResult, output: str, row: Any) -> pd.DataFrame:
    """Spearman's rank correlation of every factor with one output row.

    Parameters
    ----------
    result
        A Monte Carlo result.
    output, row
        The output (``"remaining"``, ``"hhi"`` ...) and its row (a target, a stage ...).

    Returns
    -------
    pandas.DataFrame
        Index ``factor``; column ``spearman`` (-1..1; NaN when the output does not vary),
        sorted by its absolute value, largest first.
    """
    y = result.values(output, row)
    names = result.factors.names
    if not names:
        return pd.DataFrame({"spearman": []}, index=pd.Index([], name="factor"))
    y = np.where(np.isfinite(y), y, np.nanmax(np.where(np.isfinite(y), y, np.nan)) + 1.0)
    rho = _pearson(_ranks(result.unit_points()), _ranks(y))
    out = pd.DataFrame({"spearman": rho}, index=pd.Index(names, name="factor"))
    key = np.nan_to_num(np.abs(rho), nan=-1.0)
    return out.iloc[np.argsort(-key, kind="stable")]


def tornado(
    result: MonteCarloResult,
    output: str,
    row: Any,
    *,
    factors: Sequence[int] | None = None,
    low: float = 0.05,
    high: float = 0.95,
) -> pd.DataFrame:
    """The output with one factor at a time at its ``low`` / ``high`` quantile.

    Every other factor sits at its median (``u = 0.5``). ``1 + 2k`` evaluations, batched.

    Parameters
    ----------
    factors
        Indices of the factors to swing (default: all).

    Returns
    -------
    pandas.DataFrame
        Index ``factor``; columns ``low`` and ``high`` (the output with the factor at its 5th
        and 95th percentile), ``swing`` (``|high - low|``), ``base`` (all at the median);
        sorted by swing, largest first.
    """
    D = result.factors.dim
    idx = list(range(D)) if factors is None else [int(i) for i in factors]
    k = len(idx)
    U = np.full((1 + 2 * k, D), 0.5)
    for j, f in enumerate(idx):
        U[1 + 2 * j, f] = low
        U[2 + 2 * j, f] = high
    exp = result.experiment
    y = exp.evaluate_points(U)[output][exp.rows[output].index(row)]
    lo, hi = y[1::2], y[2::2]
    out = pd.DataFrame(
        {"low": lo, "high": hi, "swing": np.abs(hi - lo), "base": np.full(k, y[0])},
        index=pd.Index([result.factors.names[i] for i in idx], name="factor"),
    )
    return out.iloc[np.argsort(-np.nan_to_num(out["swing"].to_numpy(), nan=-1), kind="stable")]


def sobol_indices(
    f: Callable[[np.ndarray], np.ndarray],
    groups: Sequence[Sequence[int]],
    dim: int,
    *,
    n: int = 1024,
    seed: int = 0,
    resamples: int = 200,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of ``f`` on the unit cube, by group of inputs.

    Parameters
    ----------
    f
        ``U (rows, dim) -> y (rows,)``; inputs are uniform on [0, 1] (map them inside ``f``).
    groups
        The inputs of each group (a group is swapped from ``B`` into ``A`` as a whole).
    dim
        Number of inputs.
    n
        Base sample size (a power of two keeps the Sobol' balance); ``n (k + 2)`` evaluations
        for ``k`` groups.
    seed
        Seed of the scrambling and of the bootstrap.
    resamples
        Bootstrap resamples for the 95 % confidence half-widths.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` and ``interaction``
        (``ST - S1 > 0.1``).

    Examples
    --------
    >>> f = lambda u: u[:, 0] + 2.0 * u[:, 1]          # additive: S1 = ST = 1/5, 4/5
    >>> df = sobol_indices(f, [[0], [1]], 2, n=4096, resamples=20)
    >>> [round(x, 2) for x in df["S1"]], [round(x, 2) for x in df["ST"]]
    ([0.2, 0.8], [0.2, 0.8])
    """
    from supplygraph.uncertainty.sampling import DrawSpec, UnitSampler

    if n < 2:
        raise InputError(f"Sobol' indices need a base sample of at least 2, got {n}")
    base = UnitSampler(2 * dim, DrawSpec(n, seed=seed)).block(0, n)
    A, B = base[:, :dim], base[:, dim:]
    k = len(groups)
    design = [A, B]
    for g in groups:
        AB = A.copy()
        AB[:, list(g)] = B[:, list(g)]
        design.append(AB)
    y = np.asarray(f(np.vstack(design)), dtype=float).reshape(k + 2, n)
    fA, fB, fAB = y[0], y[1], y[2:]

    def estimate(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, ab = fA[rows], fB[rows], fAB[:, rows]
        V = np.var(np.concatenate([a, b]))
        if V <= 0:
            return np.zeros(k), np.zeros(k)
        s1 = np.mean(b[None, :] * (ab - a[None, :]), axis=1) / V
        st = 0.5 * np.mean((a[None, :] - ab) ** 2, axis=1) / V
        return s1, st

    s1, st = estimate(np.arange(n))
    rng = np.random.default_rng(seed)
    boot = [estimate(rng.integers(0, n, n)) for _ in range(int(resamples))]
    s1_conf = 1.96 * np.std([b[0] for b in boot], axis=0) if boot else np.zeros(k)
    st_conf = 1.96 * np.std([b[1] for b in boot], axis=0) if boot else np.zeros(k)
    return pd.DataFrame(
        {
            "S1": s1,
            "S1_conf": s1_conf,
            "ST": st,
            "ST_conf": st_conf,
            "interaction": (st - s1) > INTERACTION,
        }
    )


def sobol(
    result: MonteCarloResult,
    output: str,
    row: Any,
    *,
    n: int = 256,
    top: int = 8,
    seed: int | None = None,
) -> pd.DataFrame:
    """Sobol' indices of one output row: the ``top`` factors by rank correlation one by one,
    all others as one group ("other inputs"). ``n (top + 3)`` evaluations, batched.

    Returns
    -------
    pandas.DataFrame
        Index ``factor``; columns as :func:`sobol_indices`.
    """
    D = result.factors.dim
    if D == 0:
        return pd.DataFrame(columns=["S1", "S1_conf", "ST", "ST_conf", "interaction"])
    rc = rank_correlations(result, output, row)
    position = {name: i for i, name in enumerate(result.factors.names)}
    chosen = [position[x] for x in rc.index[: min(top, D)]]
    rest = [i for i in range(D) if i not in set(chosen)]
    groups = [[i] for i in chosen] + ([rest] if rest else [])
    labels = [result.factors.names[i] for i in chosen] + (
        [f"other inputs ({len(rest)})"] if rest else []
    )
    exp = result.experiment
    r = exp.rows[output].index(row)

    def f(u: np.ndarray) -> np.ndarray:
        return exp.evaluate_points(u)[output][r]

    df = sobol_indices(f, groups, D, n=n, seed=result.spec.seed if seed is None else seed)
    df.index = pd.Index(labels, name="factor")
    return df


def drivers(
    result: MonteCarloResult,
    output: str,
    row: Any,
    *,
    top: int = 5,
    with_sobol: bool = False,
    n_sobol: int = 256,
) -> pd.DataFrame:
    """The inputs that drive one output row: rank correlation and tornado swing, largest first.

    Parameters
    ----------
    top
        How many factors to keep (the tornado swings the ``2 * top`` strongest by rank
        correlation, then keeps the ``top`` largest swings).
    with_sobol
        Add ``S1``, ``ST`` and ``interaction`` (``ST - S1 > 0.1``) from :func:`sobol`.

    Returns
    -------
    pandas.DataFrame
        Index ``factor``; ``spearman``, ``low``, ``high``, ``swing`` (and the Sobol'
        columns), sorted by swing.
    """
    rc = rank_correlations(result, output, row)
    if not len(rc):
        return rc.assign(low=[], high=[], swing=[])
    position = {name: i for i, name in enumerate(result.factors.names)}
    cand = [position[x] for x in rc.index[: 2 * top]]
    tor = tornado(result, output, row, factors=cand)
    out = tor.join(rc, how="left")[["spearman", "low", "high", "swing"]].head(top)
    if with_sobol:
        sb = sobol(result, output, row, n=n_sobol, top=top)
        out = out.join(sb[["S1", "ST", "interaction"]], how="left")
    return out
