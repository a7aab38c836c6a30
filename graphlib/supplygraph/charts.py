"""Static charts for reports: concentration by stage, top chokepoints, end-use losses.

Every chart is drawn with matplotlib's object API (:class:`matplotlib.figure.Figure` on the Agg
canvas, never pyplot, so no global figure state leaks) and returned as a :class:`Chart`: PNG bytes
for Markdown and spreadsheets, and SVG text for inline use in HTML. Output is deterministic for the
same input: fixed fonts and sizes, a fixed SVG hash salt, and no dates or software versions in the
file metadata.

The functions take plain tables (the report builder prepares them from the analyses), so they can
be used for any supply graph.

Speed: importing matplotlib and drawing costs about as much as loading the data and running every
analysis. :func:`start_worker` (called by ``supplygraph report``) starts one child Python process
that imports matplotlib at once and later draws the charts while the parent computes and writes
the other files; tables reach it as :class:`PlainTable`, so it never imports pandas.
:func:`render_jobs` uses it when it runs and draws in-process otherwise (or when the worker
fails); the output is the same bytes either way.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "Chart",
    "ChartJob",
    "PlainTable",
    "chokepoints_chart",
    "concentration_chart",
    "country_colors",
    "render_jobs",
    "response_chart",
    "scenario_chart",
    "start_worker",
    "stop_worker",
    "tornado_chart",
]

#: Colour of the "Other" share and of neutral bars.
OTHER_COLOR = "#c8c8c8"
#: Fixed palette, assigned to countries in order of overall importance (colour-blind friendly
#: Okabe-Ito first, then muted extras).
PALETTE: tuple[str, ...] = (
    "#d55e00",
    "#0072b2",
    "#009e73",
    "#e69f00",
    "#56b4e9",
    "#cc79a7",
    "#8c6d31",
    "#6b6ecf",
    "#b5cf6b",
    "#843c39",
    "#7b4173",
    "#3182bd",
)
ACCENT = "#b2182b"
NEUTRAL = "#4d4d4d"

_RC: dict[str, Any] = {
    "svg.hashsalt": "supplygraph",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 11.0,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#666666",
    "path.simplify": False,
}


#: A job for :func:`render_jobs`: (name of a chart function of this module, or "visualize";
#: positional args; keyword args).
ChartJob = tuple[str, tuple[Any, ...], dict[str, Any]]
_CHART_FUNCTIONS = (
    "concentration_chart",
    "chokepoints_chart",
    "response_chart",
    "scenario_chart",
    "tornado_chart",
)
#: The background worker started by :func:`start_worker`, if any.
_worker: Any = None
_atexit_registered = False


class Chart(NamedTuple):
    """One rendered chart.

    Attributes
    ----------
    png
        The chart as PNG bytes (120 dpi).
    svg
        The chart as SVG text, without the XML prolog and doctype, ready to inline in HTML.
    """

    png: bytes
    svg: str


class PlainTable(NamedTuple):
    """A table without pandas: what the chart worker receives in place of a DataFrame.

    The chart functions take either; the worker then never imports pandas.

    Attributes
    ----------
    row_labels, col_labels
        Row and column labels.
    values
        One list of floats per row.
    """

    row_labels: list[Any]
    col_labels: list[Any]
    values: list[list[float]]


def _parts(table: Any) -> tuple[list[Any], list[Any], Any]:
    """(row labels, column labels, float array) of a DataFrame or :class:`PlainTable`."""
    import numpy as np

    if isinstance(table, PlainTable):
        shape = (len(table.row_labels), len(table.col_labels))
        return (
            list(table.row_labels),
            list(table.col_labels),
            np.asarray(table.values, dtype=float).reshape(shape),
        )
    return list(table.index), list(table.columns), table.to_numpy(dtype=float)


def _plain(value: Any) -> Any:
    """A job argument with pandas objects replaced by plain ones (PlainTable, dict)."""
    kind = type(value).__name__
    module = type(value).__module__
    if module.startswith("pandas") and kind == "DataFrame":
        return PlainTable(
            list(value.index), list(value.columns), value.to_numpy(dtype=float).tolist()
        )
    if module.startswith("pandas") and kind == "Series":
        return dict(zip(value.index.tolist(), value.to_numpy(dtype=float).tolist(), strict=True))
    return value


def _plain_job(job: ChartJob) -> ChartJob:
    name, args, kwargs = job
    return name, tuple(_plain(a) for a in args), {k: _plain(v) for k, v in kwargs.items()}


_in_style = False


@contextmanager
def _style() -> Iterator[None]:
    """Apply the chart style for the duration of the block (re-entrant, no global change)."""
    global _in_style
    if _in_style:
        yield
        return
    import matplotlib

    matplotlib.use("Agg", force=False)
    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]  # keys are valid rcParams
        _in_style = True
        try:
            yield
        finally:
            _in_style = False


def _warm() -> bool:
    """Import the drawing stack (run in the worker while the caller computes the analyses)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_svg
    import matplotlib.figure

    return True


def _draw(job: ChartJob) -> Any:
    name, args, kwargs = job
    if name == "visualize":
        from supplygraph.view import visualize

        return str(visualize(*args, **kwargs))
    if name not in _CHART_FUNCTIONS:
        msg = f"unknown chart function {name!r}"
        raise ValueError(msg)
    return globals()[name](*args, **kwargs)


def _draw_all(jobs: list[tuple[str, ChartJob]]) -> list[tuple[str, Any]]:
    with _style():
        return [(key, _draw(job)) for key, job in jobs]


class _Worker:
    """A child Python process that draws charts: jobs in, charts out, pickled over pipes.

    A plain subprocess (not :mod:`multiprocessing`), so the caller's ``__main__`` is never
    re-imported in the child.
    """

    def __init__(self) -> None:
        import os
        import subprocess
        import sys
        from pathlib import Path

        import supplygraph

        root = str(Path(supplygraph.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from supplygraph.charts import _serve; _serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._next = 0
        self._done: dict[int, tuple[str, Any]] = {}

    def submit(self, items: list[tuple[str, ChartJob]]) -> Any:
        """Send a batch of jobs; return a callable that waits for this batch's results."""
        import pickle

        assert self.proc.stdin is not None
        rid = self._next
        self._next += 1
        pickle.dump((rid, items), self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()

        def result() -> list[tuple[str, Any]]:
            assert self.proc.stdout is not None
            while rid not in self._done:  # answers come in order; keep others for later
                got, status, payload = pickle.load(self.proc.stdout)
                self._done[got] = (status, payload)
            status, payload = self._done.pop(rid)
            if status != "ok":
                raise RuntimeError(payload)
            return [(k, Chart(*v) if kind == "chart" else v) for k, (kind, v) in payload]

        return result

    def close(self, *, wait: bool = True) -> None:
        import contextlib

        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # the worker's loop ends at end of input
        if not wait:
            return  # at exit: the worker ends by itself on end of input
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdout is not None:
                self.proc.stdout.close()


def _serve() -> None:  # pragma: no cover - runs in the worker process
    """Worker loop: import matplotlib at once, then draw each pickled batch of jobs."""
    import os
    import pickle
    import sys

    # the protocol owns the original stdout; anything printed by libraries goes to stderr
    stdout = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    stdin = sys.stdin.buffer
    _warm()  # job arguments hold no pandas objects (see PlainTable): pandas is never imported

    while True:
        try:
            rid, items = pickle.load(stdin)
        except EOFError:
            return
        try:
            done = _draw_all(items)
            out: Any = (
                rid,
                "ok",
                [
                    (k, ("chart", tuple(v)) if isinstance(v, Chart) else ("value", v))
                    for k, v in done
                ],
            )
        except Exception as exc:  # report, do not die: the caller falls back to drawing itself
            out = (rid, "error", f"{type(exc).__name__}: {exc}")
        pickle.dump(out, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()


def start_worker() -> bool:
    """Start a background process that imports matplotlib now and draws charts later.

    Charts then render in parallel with the rest of a report (the analyses, the workbook, the
    network view) instead of after it. Only on machines with at least two CPUs; elsewhere, or
    if the worker cannot start, charts render in this process. The worker ends when this
    process exits (or with :func:`stop_worker`).

    Returns
    -------
    bool
        True when a worker is running.
    """
    global _worker
    if _worker is not None and _worker.proc.poll() is None:
        return True
    import os

    if (os.cpu_count() or 1) < 2:
        return False
    try:
        _worker = _Worker()
    except (OSError, ValueError):
        _worker = None
        return False
    global _atexit_registered
    if not _atexit_registered:
        import atexit

        atexit.register(_stop_at_exit)
        _atexit_registered = True
    return True


def stop_worker() -> None:
    """Stop the background chart worker, if one runs, and wait for it to end."""
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


def _stop_at_exit() -> None:
    """Tell the worker to end, without waiting for its interpreter to shut down."""
    global _worker
    if _worker is not None:
        _worker.close(wait=False)
        _worker = None


def render_jobs(jobs: dict[str, ChartJob], *, wait: bool = True) -> Any:
    """Draw charts, in the background worker when one was started, else in this process.

    Parameters
    ----------
    jobs
        ``{name: (chart function name, args, kwargs)}``; the function name may also be
        ``"visualize"`` (:func:`supplygraph.view.visualize`, which returns the written path).
    wait
        When False and a worker runs, return a zero-argument callable that waits for and
        returns the charts (so the caller can do other work meanwhile).

    Returns
    -------
    dict[str, Chart] or callable
        The charts by name, in the order of ``jobs``.

    Examples
    --------
    >>> charts = render_jobs({"x": ("chokepoints_chart", (["a"], [0.5]), {})})
    >>> charts["x"].svg.startswith("<svg")
    True
    """
    items = list(jobs.items())

    def local() -> dict[str, Any]:
        return dict(_draw_all(items))

    worker = _worker
    if worker is not None and worker.proc.poll() is not None:
        stop_worker()  # it died: draw here
        worker = None
    if worker is None or not items:
        return local() if wait else local
    try:
        result = worker.submit([(key, _plain_job(job)) for key, job in items])
    except (OSError, ValueError):
        stop_worker()
        return local() if wait else local

    def collect() -> dict[str, Any]:
        import pickle

        try:
            return dict(result())
        except (OSError, EOFError, ValueError, RuntimeError, pickle.UnpicklingError):
            stop_worker()
            return local()

    return collect() if wait else collect


def _render(fig: Figure) -> Chart:
    """Render a figure to PNG bytes and inline-ready SVG text, deterministically."""
    png = io.BytesIO()
    fig.savefig(
        png, format="png", dpi=120, metadata={"Software": None}, pil_kwargs={"compress_level": 4}
    )
    svg = io.BytesIO()
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    text = svg.getvalue().decode("utf-8")
    start = text.find("<svg")
    text = text[start:] if start >= 0 else text
    # drop the comment-free metadata block's trailing whitespace differences: normalise newlines
    return Chart(png=png.getvalue(), svg=text.replace("\r\n", "\n").strip() + "\n")


def _figure(
    width: float,
    height: float,
    *,
    left: float,
    right: float = 0.25,
    top: float = 0.45,
    bottom: float = 0.55,
) -> Figure:
    """Return a figure with one axes placed by fixed margins in inches (no layout engine:
    constrained layout costs more than the drawing itself, and fixed margins are stable)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
    )
    return fig


def _label_inches(labels: Sequence[str], size: float = 8.5) -> float:
    """Approximate width in inches of the longest label (DejaVu Sans averages ~0.6 em)."""
    longest = max((len(s) for s in labels), default=4)
    return longest * size * 0.6 / 72 + 0.2


def country_colors(countries: Sequence[str]) -> dict[str, str]:
    """Return a stable colour per country code, in the given order of importance.

    Parameters
    ----------
    countries
        Country codes, most important first. ``"Other"`` always gets light grey.

    Returns
    -------
    dict[str, str]
        Hex colour per country.

    Examples
    --------
    >>> country_colors(["CHN", "Other", "USA"])
    {'CHN': '#d55e00', 'Other': '#c8c8c8', 'USA': '#0072b2'}
    """
    colors: dict[str, str] = {}
    i = 0
    for c in countries:
        if c == "Other":
            colors[c] = OTHER_COLOR
        else:
            colors[c] = PALETTE[i % len(PALETTE)]
            i += 1
    return colors


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def concentration_chart(
    shares: pd.DataFrame | PlainTable,
    *,
    hhi: pd.Series | dict[str, float] | None = None,
    title: str = "Concentration by stage",
    names: dict[str, str] | None = None,
    hhi_interval: dict[str, tuple[float, float]] | None = None,
    share_interval: dict[str, tuple[float, float]] | None = None,
) -> Chart:
    """Draw the stage x country share table as horizontal 100 % stacked bars (the IEA style).

    Parameters
    ----------
    shares
        Rows = stages (upstream first; may include ``"reserves"``), columns = country codes
        (most important first, ``"Other"`` last), values = share of the stage in [0, 1].
    hhi
        Optional Herfindahl-Hirschman index (0-10,000) per stage, printed at the bar's end.
    title
        Chart title, e.g. the headline "China: 49 % of reserves but 90 % of separation".
    names
        Optional display names for country codes, used in the legend.
    hhi_interval
        Optional 90 % interval of the HHI per stage (Monte Carlo draws), printed after it.
    share_interval
        Optional 90 % interval of the first country's share per stage: an interval bar at the
        end of its segment.

    Returns
    -------
    Chart
        PNG bytes and SVG text.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"CHN": [0.5, 0.9], "Other": [0.5, 0.1]}, index=["mining", "separation"])
    >>> chart = concentration_chart(t)
    >>> chart.png[:4] == b"\\x89PNG" and chart.svg.startswith("<svg")
    True
    """
    names = names or {}
    row_labels, col_labels, grid = _parts(shares)
    stages = [str(s) for s in row_labels]
    countries = [str(c) for c in col_labels]
    colors = country_colors(countries)
    with _style():
        ylabels = [s.replace("_", " ") for s in stages]
        ncol = min(len(countries), 6)
        legend_rows = -(-len(countries) // max(ncol, 1))
        bottom = 0.62 + 0.2 * legend_rows
        fig = _figure(
            8.0,
            0.5 * len(stages) + 0.45 + bottom,
            left=_label_inches(ylabels),
            right=(1.6 if hhi_interval else 0.75) if hhi is not None else 0.25,
            bottom=bottom,
        )
        ax = fig.add_subplot()
        ys = list(range(len(stages)))[::-1]
        left = [0.0] * len(stages)
        for j, country in enumerate(countries):
            vals = [float(v) if v == v else 0.0 for v in grid[:, j].tolist()]
            label = names.get(country, country)
            ax.barh(
                ys,
                vals,
                left=left,
                color=colors[country],
                edgecolor="white",
                linewidth=0.6,
                height=0.68,
                label=label,
            )
            for y, lft, v in zip(ys, left, vals, strict=True):
                if v >= 0.08:
                    ax.text(
                        lft + v / 2,
                        y,
                        _pct(v),
                        ha="center",
                        va="center",
                        color="white" if country != "Other" else "#333333",
                        fontsize=8,
                        fontweight="bold",
                    )
            left = [a + b for a, b in zip(left, vals, strict=True)]
        ax.set_yticks(ys, ylabels)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0 %", "25 %", "50 %", "75 %", "100 %"])
        ax.axvline(0.65, color=NEUTRAL, linestyle="--", linewidth=0.8)
        ax.text(0.652, ys[0] + 0.45, "EU 65 % cap", fontsize=7, color=NEUTRAL, va="bottom")
        if hhi is not None:
            for y, stage in zip(ys, stages, strict=True):
                val = hhi.get(stage)
                if val is not None and val == val:
                    text = f"HHI {val:,.0f}"
                    band = (hhi_interval or {}).get(stage)
                    if band is not None and band[0] == band[0] and band[1] > band[0]:
                        text += f"\n(90 %: {band[0]:,.0f}–{band[1]:,.0f})"
                    ax.text(1.01, y, text, va="center", fontsize=7.5, color=NEUTRAL)
        for y, stage in zip(ys, stages, strict=True):
            band = (share_interval or {}).get(stage)
            if band is not None and band[0] == band[0] and band[1] > band[0]:
                ax.errorbar(
                    (band[0] + band[1]) / 2,
                    y,
                    xerr=(band[1] - band[0]) / 2,
                    fmt="none",
                    ecolor="#111111",
                    elinewidth=1.4,
                    capsize=3.5,
                    zorder=5,
                )
        ax.set_title(title, loc="left")
        ax.set_xlabel("share of stage output (reserves: share of world reserves)")
        ax.legend(
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=fig.transFigure,
            ncol=ncol,
            frameon=False,
        )
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        return _render(fig)


def chokepoints_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "Top chokepoints",
    xlabel: str = "share of end-use output lost if removed",
    highlight: Sequence[bool] | None = None,
) -> Chart:
    """Draw a ranked horizontal bar chart (largest first, at the top).

    Parameters
    ----------
    labels
        Bar labels (node ids or names), ranked.
    values
        Bar lengths as fractions in [0, 1].
    title, xlabel
        Chart title and x-axis label.
    highlight
        Optional flags; highlighted bars are drawn in the accent colour.

    Returns
    -------
    Chart
        PNG bytes and SVG text.

    Examples
    --------
    >>> chart = chokepoints_chart(["CHN:separation", "CHN:magnets"], [0.9, 0.8])
    >>> chart.svg.startswith("<svg")
    True
    """
    labels = [str(x) for x in labels]
    vals = [float(v) if v == v else 0.0 for v in values]
    flags = list(highlight) if highlight is not None else [True] * len(vals)
    with _style():
        fig = _figure(8.0, 0.3 * max(len(labels), 1) + 1.0, left=_label_inches(labels), right=0.2)
        ax = fig.add_subplot()
        ys = list(range(len(labels)))[::-1]
        colors = [ACCENT if f else "#6f8fb3" for f in flags]
        ax.barh(ys, vals, color=colors, height=0.7)
        for y, v in zip(ys, vals, strict=True):
            ax.text(v + 0.01, y, _pct(v) if v < 0.995 else "100 %", va="center", fontsize=8)
        ax.set_yticks(ys, labels)
        top = max([*vals, 0.0])
        ax.set_xlim(0, max(1.0, top + 0.08) if top > 0.5 else max(top * 1.25, 0.05))
        ticks = [t for t in (0, 0.25, 0.5, 0.75, 1.0) if t <= ax.get_xlim()[1]]
        if len(ticks) < 3:
            hi = ax.get_xlim()[1]
            ticks = [0, hi / 2, hi]
        ax.set_xticks(ticks, [f"{100 * t:.0f} %" for t in ticks])
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        return _render(fig)


def scenario_chart(
    losses: pd.DataFrame | PlainTable,
    *,
    title: str = "End-use output lost per scenario",
    low: pd.DataFrame | PlainTable | None = None,
    high: pd.DataFrame | PlainTable | None = None,
) -> Chart:
    """Draw a scenario x end-use grid of losses, each cell shaded and labelled (white = 0 %,
    dark red = 100 %).

    Parameters
    ----------
    losses
        Rows = end uses, columns = scenario names, values = fraction of baseline output lost
        in [0, 1]. Drawn transposed: one row per scenario, one column per end use.
    title
        Chart title.
    low, high
        Optional 90 % interval of each loss (same shape as ``losses``), printed in the cell
        under the value and drawn as a bar along the cell's bottom edge (0 to 100 %).

    Returns
    -------
    Chart
        PNG bytes and SVG text.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"Ban": [0.9, 0.8]}, index=["vehicles", "wind"])
    >>> scenario_chart(t).svg.startswith("<svg")
    True
    """
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    row_labels, col_labels, values = _parts(losses)
    uses = [str(u).replace("_", " ") for u in row_labels]
    scen = [str(s) for s in col_labels]
    grid = values.T if len(scen) else np.zeros((0, len(uses)))
    lo = _parts(low)[2].T if low is not None and len(scen) else None
    hi = _parts(high)[2].T if high is not None and len(scen) else None
    cmap = LinearSegmentedColormap.from_list("loss", ["#ffffff", "#f4a582", "#b2182b"])
    with _style():
        cell_w = 0.95
        left = _label_inches(scen)
        width = max(left + cell_w * max(len(uses), 1) + 0.3, 5.0)
        fig = _figure(
            width,
            (0.5 if lo is not None else 0.34) * max(len(scen), 1) + 1.15,
            left=left,
            right=width - left - cell_w * max(len(uses), 1),
            top=0.7,
            bottom=0.2,
        )
        ax = fig.add_subplot()
        shown = np.nan_to_num(grid, nan=0.0)
        ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                v = grid[i, j]
                text = "–" if v != v else _pct(v)
                color = "white" if v == v and v >= 0.6 else "#1f1f1f"
                band = None
                if lo is not None and hi is not None and lo[i, j] == lo[i, j]:
                    band = (float(lo[i, j]), float(hi[i, j]))
                ax.text(
                    j,
                    i - (0.12 if band else 0.0),
                    text,
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color=color,
                )
                if band is not None:
                    ax.text(
                        j, i + 0.16, f"{_pct(band[0])}–{_pct(band[1])}", ha="center",
                        va="center", fontsize=6.5, color=color,
                    )  # fmt: skip
                    # the interval as a bar along the cell's bottom: x from 0 to 100 %
                    ax.plot(
                        [j - 0.45 + 0.9 * band[0], j - 0.45 + 0.9 * band[1]],
                        [i + 0.36, i + 0.36],
                        color=color,
                        linewidth=2.0,
                        solid_capstyle="butt",
                    )
        ax.set_xticks(range(len(uses)), uses)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(scen)), scen)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xticks([x - 0.5 for x in range(1, len(uses))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(scen))], minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
        return _render(fig)


#: Marker colours of the three supply responses (none, rules, optimal).
RESPONSE_COLORS: tuple[str, ...] = (ACCENT, "#e69f00", "#0072b2")


def response_chart(
    losses: pd.DataFrame | PlainTable,
    *,
    title: str = "End-use output lost under each supply response",
    interval: pd.DataFrame | PlainTable | None = None,
) -> Chart:
    """Draw, per row (scenario and end use), the loss under each supply response as three dots
    on one line: the bracket from the optimum (what reallocation could reach) to no response.

    Parameters
    ----------
    losses
        Rows = labels (e.g. ``"scenario · end use"``), columns = responses in order (no
        response, rules, optimal), values = fraction of baseline output lost in [0, 1].
    title
        Chart title.
    interval
        Optional 90 % interval of the first (no-response) loss per row: columns ``low`` and
        ``high``; drawn as an interval bar through its marker.

    Returns
    -------
    Chart
        PNG bytes and SVG text.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"no response": [0.8], "rules": [0.6], "optimal": [0.2]},
    ...                  index=["ban · vehicles"])
    >>> response_chart(t).svg.startswith("<svg")
    True
    """
    import numpy as np

    row_labels, col_labels, values = _parts(losses)
    labels = [str(r) for r in row_labels]
    names = [str(c) for c in col_labels]
    vals = np.asarray(values, dtype=float).reshape(len(labels), len(names))
    with _style():
        left = _label_inches(labels)
        width = max(left + 4.6, 6.5)
        fig = _figure(
            width, 0.26 * max(len(labels), 1) + 1.3, left=left, right=0.25, top=0.75, bottom=0.45
        )
        ax = fig.add_subplot()
        y = np.arange(len(labels))[::-1]
        lo = np.nanmin(vals, axis=1) if len(labels) else np.zeros(0)
        hi = np.nanmax(vals, axis=1) if len(labels) else np.zeros(0)
        ax.hlines(y, lo, hi, color="#bdbdbd", linewidth=2.2, zorder=1)
        markers = ("o", "D", "s")
        # each response a little above or below the line, so equal values stay visible
        offsets = np.linspace(0.22, -0.22, len(names)) if len(names) > 1 else np.zeros(1)
        if interval is not None and len(labels):
            band = _parts(interval)[2]
            ok = ~np.isnan(band[:, 0])
            ax.errorbar(
                (band[ok, 0] + band[ok, 1]) / 2,
                (y + offsets[0])[ok],
                xerr=(band[ok, 1] - band[ok, 0]) / 2,
                fmt="none",
                ecolor=RESPONSE_COLORS[0],
                elinewidth=1.2,
                capsize=2.5,
                zorder=2,
                label="no response, 90 % of draws",
            )
        for k, name in enumerate(names):
            ax.scatter(
                vals[:, k],
                y + offsets[k],
                s=30,
                marker=markers[k % len(markers)],
                color=RESPONSE_COLORS[k % len(RESPONSE_COLORS)],
                label=name,
                zorder=2 + k,
                edgecolors="white",
                linewidths=0.6,
            )
        ax.set_yticks(y, labels)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xticks(np.linspace(0, 1, 6), [f"{int(v * 100)} %" for v in np.linspace(0, 1, 6)])
        ax.set_xlabel("share of the end use's normal output lost")
        ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        ax.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=len(names),
            frameon=False,
            handletextpad=0.3,
            columnspacing=1.0,
        )
        fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
        return _render(fig)


def tornado_chart(
    swings: pd.DataFrame | PlainTable,
    *,
    base: float = 0.0,
    title: str = "What moves the result",
    xlabel: str = "share of the end use's normal output lost",
) -> Chart:
    """Draw a tornado: per input, the result with the input at its 5th and its 95th percentile
    (every other input at its median), as a bar from one to the other around the base value.

    Parameters
    ----------
    swings
        Rows = inputs, largest swing first; columns ``low`` and ``high`` (the result with the
        input at its 5th / 95th percentile), fractions in [0, 1].
    base
        The result with every input at its median (the vertical line).
    title, xlabel
        Chart title and x-axis label.

    Returns
    -------
    Chart
        PNG bytes and SVG text.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"low": [0.4, 0.5], "high": [0.6, 0.52]}, index=["rate", "imports"])
    >>> tornado_chart(t, base=0.5).svg.startswith("<svg")
    True
    """
    import numpy as np

    row_labels, _, values = _parts(swings)
    labels = [str(r) for r in row_labels]
    vals = np.asarray(values, dtype=float).reshape(len(labels), 2)
    with _style():
        left = _label_inches(labels)
        fig = _figure(
            max(left + 4.8, 7.0), 0.32 * max(len(labels), 1) + 1.3, left=left, right=0.3,
            top=0.75, bottom=0.5,
        )  # fmt: skip
        ax = fig.add_subplot()
        y = np.arange(len(labels))[::-1]
        for k, (name, color) in enumerate((("5th percentile", "#0072b2"), ("95th", ACCENT))):
            ax.barh(
                y,
                vals[:, k] - base,
                left=base,
                height=0.6,
                color=color,
                alpha=0.85,
                label=f"input at its {name}",
            )
        ax.axvline(base, color=NEUTRAL, linewidth=1.0)
        ax.set_yticks(y, labels)
        span = np.nanmax(np.abs(vals - base)) if vals.size else 0.0
        span = max(float(span) * 1.25, 0.005)
        ax.set_xlim(max(base - span, -0.001), min(base + span, 1.001))
        ticks = ax.get_xticks()
        digits = 0 if span > 0.05 else 1
        ax.set_xticks(ticks, [f"{100 * t:.{digits}f} %" for t in ticks])
        ax.set_xlim(max(base - span, -0.001), min(base + span, 1.001))
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", length=0)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False)
        fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
        return _render(fig)
