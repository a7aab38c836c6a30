"""Notebook display: the network view and result objects as rich output in Jupyter.

:class:`View` (returned by ``supplygraph.visualize(G)`` without a path) shows the offline page
in an ``<iframe srcdoc>`` with ``sandbox="allow-scripts"``: the page keeps its own
Content-Security-Policy, its CSS cannot leak into the notebook, nothing is written to the
working folder, and it works where a file-backed ``IFrame`` does not (VS Code, Colab, nbconvert
HTML). A ``text/plain`` summary goes alongside for untrusted notebooks and plain consoles.

:func:`result_html` renders the analysis result objects (``DisruptionResult`` and others with
DataFrame attributes) as HTML tables; their classes call it from a one-line ``_repr_html_``.
"""

from __future__ import annotations

import html as _html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os
    from pathlib import Path

__all__ = ["View", "result_html"]

#: Rows shown per table of a result in a notebook (the objects keep all rows).
MAX_ROWS = 20


class View:
    """An interactive network view held in memory; displays inline in Jupyter.

    Attributes
    ----------
    html : str
        The complete offline page (:func:`supplygraph.view.network_html`).
    summary : str
        One line: name, node and flow counts.
    height : int
        Height of the notebook frame in px.

    Examples
    --------
    >>> import supplygraph as sg
    >>> v = sg.visualize(sg.load("rare-earths"))
    >>> v._repr_html_().startswith("<iframe")
    True
    """

    def __init__(self, html: str, *, summary: str = "", height: int = 640) -> None:
        self.html = html
        self.summary = summary
        self.height = int(height)

    def __repr__(self) -> str:
        return f"<View: {self.summary}>"

    def _repr_html_(self) -> str:
        doc = _html.escape(self.html, quote=True)
        return (
            f'<iframe srcdoc="{doc}" sandbox="allow-scripts" title="{_html.escape(self.summary)}" '
            f'style="width:100%;height:{self.height}px;border:1px solid #d9dee5"></iframe>'
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {
            "text/html": self._repr_html_(),
            "text/plain": f"supplygraph network view: {self.summary} (.save(path) writes it)",
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (atomically) and return the path."""
        from supplygraph.io.safe_text import atomic_write

        return atomic_write(path, self.html)


def result_html(obj: Any, *, max_rows: int = MAX_ROWS) -> str:
    """Render a result object's DataFrame attributes (and scalars) as HTML tables.

    Parameters
    ----------
    obj
        A dataclass result such as :class:`supplygraph.DisruptionResult`.
    max_rows
        Rows shown per table (the rest is counted, not shown).

    Returns
    -------
    str
        HTML: a heading with the class name and scalar fields, then one table per DataFrame
        field (all text escaped by pandas).
    """
    import dataclasses

    import pandas as pd

    name = type(obj).__name__
    fields = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    scalars, tables = [], []
    for key in fields:
        value = getattr(obj, key)
        if isinstance(value, pd.DataFrame):
            tables.append((key, value))
        elif isinstance(value, str | int | float):
            scalars.append(f"{_html.escape(key)} = {_html.escape(str(value))}")
        elif isinstance(value, list | tuple) and value and len(value) <= 12:
            scalars.append(f"{_html.escape(key)} = {_html.escape(', '.join(map(str, value)))}")
    total = getattr(obj, "total_loss_share", None)
    if isinstance(total, float):
        scalars.append(f"total loss share = {100 * total:.1f} %")
    out = [f"<div><strong>{_html.escape(name)}</strong>"]
    if scalars:
        out.append(f"<p>{'; '.join(scalars)}</p>")
    # the summary tables first: they answer the question
    tables.sort(key=lambda kv: (len(kv[1]), kv[0]))
    for key, frame in tables:
        shown = frame.head(max_rows)
        more = len(frame) - len(shown)
        out.append(f"<p><em>{_html.escape(key)}</em> ({len(frame):,} rows)</p>")
        out.append(shown.to_html(escape=True, float_format=lambda x: f"{x:.4g}", border=0))
        if more:
            out.append(f"<p>… {more:,} more rows</p>")
    out.append("</div>")
    return "\n".join(out)
