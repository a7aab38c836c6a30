"""The chokepoint report: Markdown, self-contained HTML, Excel, JSON, charts and network view.

:func:`write_report` runs the analyses once (:func:`~supplygraph.report.build.build_report_data`)
and writes every output into one folder::

    out_dir/
      report.md        readable on GitHub (charts from charts/*.png)
      report.html      one self-contained file: inline CSS and SVG charts, no CDN, prints well
      report.xlsx      Summary + computed sheets + the input's Nodes/Edges/Sources sheets
      report.json      every table as records, for scripts
      tables/*.parquet only for a table longer than a sheet holds (1,048,576 rows): all its rows
      network.html     the interactive network view (supplygraph.view.visualize)
      charts/*.png     concentration by stage, top chokepoints, end-use losses per scenario
                       (and, with draws, a tornado of the most uncertain scenario result)

Every file is written atomically; the output is deterministic for the same input apart from
the one date line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.report.build import (
    DATE_PREFIX,
    ReportData,
    Table,
    build_report_data,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["DATE_PREFIX", "ReportData", "Table", "build_report_data", "write_report"]


def write_report(
    G: nx.DiGraph,
    out_dir: str | os.PathLike[str],
    *,
    scenarios: Iterable[Any] | None = None,
    shocks: Sequence[Any] | None = None,
    model: str = "linear",
    date: Any = None,
    network: bool = True,
    draws: Any = None,
    seed: int | None = None,
    max_sheet_rows: int | None = None,
) -> dict[str, Path]:
    """Write the chokepoint report for ``G`` into ``out_dir``.

    Parameters
    ----------
    G
        A validated supply graph (never modified).
    out_dir
        Output folder; created when missing. Existing report files are replaced atomically.
    scenarios
        Scenario objects or scenario file paths (TOML), reported in order.
    shocks
        Extra shocks (shock strings or ``Shock`` objects), reported together as one scenario.
    model
        ``"linear"`` (default) or ``"leontief"``.
    date
        Report date (``datetime.date`` or ISO text); default today (UTC), or
        ``SOURCE_DATE_EPOCH`` when set. It appears on one line of each text output.
    network
        Also write the interactive ``network.html`` view.
    draws, seed
        Monte Carlo draws over the inputs' ranges and their seed (see
        :func:`~supplygraph.report.build.build_report_data`): intervals, robust/fragile
        labels, a tornado chart and the closing note on robustness.
    max_sheet_rows
        Rows one worksheet holds, the header included (default: Excel's limit, 1,048,576). A
        longer table goes whole to ``tables/KEY.parquet``; its sheet and ``report.json`` keep
        the first rows and say where the rest is.

    Returns
    -------
    dict[str, pathlib.Path]
        Written files by their path relative to ``out_dir`` (``"report.md"``,
        ``"charts/concentration.png"`` ...).

    Examples
    --------
    >>> import supplygraph as sg  # doctest: +SKIP
    >>> files = sg.write_report(sg.load("rare-earths"), "reports/rare-earths")  # doctest: +SKIP
    >>> sorted(files)[:3]  # doctest: +SKIP
    ['charts/chokepoints.png', 'charts/concentration.png', 'charts/scenarios.png']
    """
    from supplygraph.charts import render_jobs
    from supplygraph.io.safe_text import atomic_write
    from supplygraph.report.html import render_html
    from supplygraph.report.json import write_json
    from supplygraph.report.markdown import render_markdown
    from supplygraph.report.sheetxml import MAX_SHEET_ROWS, spill_long_tables
    from supplygraph.report.xlsx import write_xlsx
    from supplygraph.sankey import sankey_svg

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scenarios = list(scenarios) if scenarios is not None else None  # also for the view's panel
    # each chart goes to the background worker (see supplygraph.charts.start_worker) as soon as
    # its tables exist, so it draws while the remaining analyses run and this process writes
    # the other files; without a worker, a chart is drawn here when first needed
    pending: dict[str, Any] = {}

    def submit(stem: str, job: Any) -> None:
        pending[stem] = render_jobs({stem: job}, wait=False)

    data = build_report_data(
        G,
        scenarios=scenarios,
        shocks=shocks,
        model=model,
        date=date,
        charts=False,
        on_chart=submit,
        draws=draws,
        seed=seed,
    )
    data.network = network
    data.raw["sankey_svg"] = sankey_svg(G)
    written: dict[str, Path] = spill_long_tables(data, out, max_sheet_rows or MAX_SHEET_ROWS)

    def collect(stem: str) -> None:
        if stem in pending:
            data.charts.update(pending.pop(stem)())

    written["report.md"] = atomic_write(out / "report.md", render_markdown(data))
    written["report.json"] = write_json(data, out / "report.json")
    # the workbook's only picture is the concentration chart: lay out the cells while it draws
    written["report.xlsx"] = Path(
        write_xlsx(data, out / "report.xlsx", await_charts=lambda: collect("concentration"))
    )
    if network:  # drawn here, while the worker still draws the other charts
        from supplygraph.view import visualize

        visualize(
            G,
            out / "network.html",
            model=model,
            chokepoints=data.raw.get("chokepoints"),
            whatif=scenarios,
        )
        written["network.html"] = out / "network.html"
    for stem in list(pending):
        collect(stem)
    for key, chart in data.charts.items():
        name = f"charts/{key}.png"
        written[name] = atomic_write(out / name, chart.png)
    written["report.html"] = atomic_write(out / "report.html", render_html(data))
    return dict(sorted(written.items()))
