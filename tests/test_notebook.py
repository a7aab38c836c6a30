"""Notebook display, executed for real: a notebook runs in an IPython kernel (nbclient), and the
network view it displays is opened in headless Chromium from the notebook's own output.

The notebook (tests/notebooks/views.ipynb) shows ``sg.visualize(G)`` without a path, a
``DisruptionResult`` and ``sg.sankey(G)``.
"""

from __future__ import annotations

import html as html_lib
import os
import time
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parent / "notebooks" / "views.ipynb"
GRAPHLIB = Path(__file__).resolve().parent.parent / "graphlib"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    work = tmp_path_factory.mktemp("nb")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel imports this checkout's supplygraph, as the test process does
    path = os.pathsep.join(p for p in (str(GRAPHLIB), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, PYTHONPATH=path)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    start = time.perf_counter()
    client.execute(env=env)
    return nb, work, time.perf_counter() - start


def _outputs(nb, index: int) -> dict:
    outs = [
        o
        for o in nb.cells[index].outputs
        if o.get("output_type") in ("execute_result", "display_data")
    ]
    assert len(outs) == 1, nb.cells[index].outputs
    return outs[0]["data"]


def test_view_displays_as_an_offline_iframe(executed) -> None:
    nb, work, seconds = executed
    data = _outputs(nb, 1)
    page = data["text/html"]
    assert page.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in page
    assert len(page) < 2_000_000
    inner = html_lib.unescape(page.split('srcdoc="', 1)[1].split('" sandbox', 1)[0])
    assert "Content-Security-Policy" in inner and "default-src" in inner
    assert 'src="http' not in inner
    assert "rare-earths-aggregate, 44 nodes, 168 flows" in data["text/plain"]
    assert list(work.iterdir()) == []  # nothing written to the working folder
    assert seconds < 60


def test_results_and_sankey_render(executed) -> None:
    nb, _, _ = executed
    table = _outputs(nb, 2)["text/html"]
    assert "DisruptionResult" in table and "<table" in table and "by_end_use" in table
    sankey = _outputs(nb, 3)
    assert "<svg" in sankey.get("image/svg+xml", sankey.get("text/html", ""))
    assert _outputs(nb, 4)["text/plain"] == repr(round(_total(), 3))


def _total() -> float:
    import supplygraph as sg

    return sg.disrupt(sg.load("rare-earths-aggregate"), "CHN@separation").total_loss_share


@pytest.mark.browser
def test_notebook_iframe_draws_in_chromium(executed, browser, tmp_path: Path) -> None:
    """The notebook's HTML output, opened in Chromium: the view runs inside the iframe."""
    nb, _, _ = executed
    host = tmp_path / "output.html"
    host.write_text(
        "<!DOCTYPE html><html><body>" + _outputs(nb, 1)["text/html"] + "</body></html>",
        encoding="utf-8",
    )
    url = host.resolve().as_uri()
    page = browser.new_page()
    try:
        external: list[str] = []
        errors: list[str] = []
        local = ("file:", "about:", "data:")
        page.on("request", lambda r: None if r.url.startswith(local) else external.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        frame = page.frames[1]
        start = time.perf_counter()
        while frame.evaluate("window.sgReady === true") is not True:
            assert time.perf_counter() - start < 30
            time.sleep(0.05)
        assert frame.evaluate("network.body.data.nodes.length") == 44
        assert frame.evaluate("sgData.highlight.labels") == ["binding capacity"]
        assert external == [] and errors == []
    finally:
        page.close()
