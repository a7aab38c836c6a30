"""The documentation build is wired: CI builds it with -W, the extra installs Sphinx, every page
is reachable, every link to a gallery example names an example that exists.

The build itself (Sphinx, the gallery) runs in `.ci/run`, not here: it takes about a minute.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
NOT_PAGES = {"CONTRIBUTING-docs.md"}
GENERATED = ("_build", "_generated", "auto_examples")


def _pages() -> list[Path]:
    return sorted(
        p
        for p in DOCS.rglob("*.md")
        if p.name not in NOT_PAGES and not any(part in GENERATED for part in p.parts)
    )


def _toctree_entries(page: Path) -> set[Path]:
    """Pages listed in the MyST toctrees of ``page``, as paths relative to ``docs/``."""
    text = page.read_text(encoding="utf-8")
    entries: set[Path] = set()
    for block in re.findall(r"```\{toctree\}\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith(":"):
                continue
            ref = DOCS / line.lstrip("/") if line.startswith("/") else page.parent / line
            entries.add(ref.resolve().relative_to(DOCS.resolve()))
    return entries


def test_ci_builds_the_docs_with_warnings_as_errors():
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    build = [
        shlex.split(line)
        for line in script.splitlines()
        if "sphinx" in line and not line.lstrip().startswith("#")
    ]
    assert any("-W" in cmd and "docs" in cmd and "html" in cmd for cmd in build), build
    assert '".[docs]"' in script
    # before pytest, so that pytest's summary line is the last thing CI prints
    assert script.index("-m sphinx") < script.index("python3 -m pytest")


def test_docs_extra_installs_the_build():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]["docs"]
    names = {re.split(r"[<>=\[ ]", req, maxsplit=1)[0].lower() for req in extras}
    assert {"sphinx", "pydata-sphinx-theme", "numpydoc", "sphinx-gallery", "myst-parser"} <= names


def test_every_page_is_in_a_toctree():
    listed: set[Path] = set()
    for page in _pages():
        listed |= _toctree_entries(page)
    orphans = [
        str(p.relative_to(DOCS))
        for p in _pages()
        if p.name != "index.md" or p.parent != DOCS
        if p.relative_to(DOCS).with_suffix("") not in listed
    ]
    assert orphans == []


def test_links_to_gallery_examples_name_existing_examples():
    examples = {p.stem for p in (DOCS / "examples").glob("plot_*.py")}
    sources = [*_pages(), *(DOCS / "examples").glob("*.py"), DOCS / "examples" / "README.txt"]
    refs = {
        name
        for src in sources
        for name in re.findall(r"sphx_glr_auto_examples_(plot_\w+?)\.py", src.read_text("utf-8"))
    }
    assert refs, "no page links to a gallery example"
    assert refs - examples == set()


@pytest.mark.parametrize(
    "path", sorted((DOCS / "examples").glob("plot_*.py")), ids=lambda p: p.stem
)
def test_gallery_example_has_a_title_and_introduction(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc is not None
    title, underline, *rest = doc.splitlines()
    assert underline == "=" * len(title)
    assert any(line.strip() for line in rest)


def test_readme_links_the_docs_and_keeps_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/index.md)" in readme
    assert "pip install . && supplygraph report" in readme
    assert "bash .ci/run" in readme
