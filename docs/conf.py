"""Sphinx configuration of the supplygraph documentation.

Build it with ``sphinx-build -W --keep-going docs docs/_build/html`` after
``pip install -e ".[docs]"``. The API reference, the CLI reference and the dataset pages are
generated from the code and the data on every build (``_ext/sgdocs.py``); the gallery
(``examples/``) is executed on every build by sphinx-gallery. See ``CONTRIBUTING-docs.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# document the tree the docs live in, whatever else is installed
sys.path.insert(0, str(ROOT / "graphlib"))
sys.path.insert(0, str(DOCS / "_ext"))

import supplygraph  # noqa: E402

project = "supplygraph"
author = "supplygraph developers"
copyright = "supplygraph developers"  # noqa: A001
release = supplygraph.__version__
version = release

needs_sphinx = "9.0"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sgdocs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "CONTRIBUTING-docs.md",
    "examples/README.txt",
    "**/GALLERY_HEADER.rst",
    "sg_execution_times.rst",
    "_generated/scenario_keys.md",  # included by howto/scenarios.md
]
templates_path = ["_templates"]

# -- MyST (Markdown pages) ---------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- autodoc + numpydoc --------------------------------------------------------------------------
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery: every example in examples/ runs on every build ------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"/_",
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": ("_repr_html_", "__repr__"),
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "min_reported_time": 1,
    "reset_modules": ("matplotlib", "sgdocs.reset_pandas"),
    "write_computation_times": False,
}

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"supplygraph {release}"
html_static_path = ["_static"]
html_css_files = ["supplygraph.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}

# -- narrowly scoped suppressions -----------------------------------------------------------------
# Docstrings shown as preformatted text instead of parsed, because their reST does not parse and
# their module is being rewritten elsewhere (remove an entry once the module's docstring parses).
sgdocs_verbatim = {}
