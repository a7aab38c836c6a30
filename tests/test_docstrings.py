"""The Examples sections of the public modules run (doctest), so the docs stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import supplygraph

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(supplygraph.__path__, "supplygraph.")
    if not m.name.startswith("supplygraph.cli") and m.name != "supplygraph.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
