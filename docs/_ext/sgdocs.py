"""Pages generated from the code and the data on every build, and the build's own checks.

- ``_generated/api/``: one page per public module (everything in its ``__all__``) and an index
  that lists the top-level API (``supplygraph.__all__``) with links to where each name lives.
- ``_generated/datasets/``: one page per built-in dataset (its README, every row of its
  ``sources.csv``, its scenarios with their sources).
- ``_generated/cli.rst``: the command-line reference, from the typer app (every command, its
  help text, usage, arguments and options, as ``supplygraph COMMAND --help`` prints them).
- ``_generated/scenario_keys.md``: every key a scenario file may hold, from the parser.
- References to top-level names (``supplygraph.load``) and package re-exports resolve to where
  the name is documented.
- Checks, reported as Sphinx warnings (so ``-W`` fails the build): every name in a public
  module's ``__all__`` and every top-level name is documented; every ``supplygraph`` reference
  made from a page of ``docs/`` resolves; no built page loads a script, stylesheet, image or
  frame from another host (the site works offline).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import re
import textwrap
import types
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

GENERATED = "_generated"

#: Modules that are not part of the Python API reference: the typer commands are documented
#: by the CLI reference, the others hold no public names.
_SKIP_PREFIXES = ("supplygraph.cli", "supplygraph.__main__", "supplygraph._version")

#: Section titles of the API reference, by the first part of the module path after the package.
_GROUPS = {
    "analysis": "Analysis",
    "io": "Reading and writing files",
    "report": "The report",
    "trade": "Trade data",
    "uncertainty": "Uncertainty and sensitivity",
}


def public_modules() -> list[str]:
    """Return the importable public modules of supplygraph, sorted (the CLI excluded)."""
    import supplygraph

    names = [
        m.name
        for m in pkgutil.walk_packages(supplygraph.__path__, "supplygraph.")
        if not m.name.startswith(_SKIP_PREFIXES)
        and not any(part.startswith("_") for part in m.name.split("."))
    ]
    return sorted(names)


def module_all(name: str) -> list[str]:
    """Return the ``__all__`` of a module (empty when it has none)."""
    module = importlib.import_module(name)
    return list(getattr(module, "__all__", []))


def _first_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def _rst_escape(text: str) -> str:
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_|\[\]<>#$~{}])", r"\\\1", str(text))


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (so Sphinx does not re-read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _group(name: str) -> str:
    parts = name.split(".")
    if len(parts) > 2 and parts[1] in _GROUPS:
        return parts[1]
    return "core"


def _is_documented_kind(obj: Any) -> str:
    """``"class"``, ``"function"`` or ``"data"``: how autodoc should document ``obj``."""
    if inspect.isclass(obj) and not isinstance(obj, types.GenericAlias):
        return "class"
    if inspect.isroutine(obj):
        return "function"
    return "data"


@functools.cache
def _assigned_names(module: str) -> frozenset[str]:
    """Names a module assigns at top level (not the ones it imports)."""
    source = inspect.getsource(importlib.import_module(module))
    names: set[str] = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


@functools.cache
def api_homes() -> dict[str, dict[str, str]]:
    """Return ``module -> {public name -> the module that documents it}``.

    A name re-exported by a package (``supplygraph.trade.HSMap``) is documented once, where it
    is defined (``supplygraph.trade.hsmap``); the package page links there.
    """
    modules = public_modules()
    alls = {m: module_all(m) for m in modules}
    homes: dict[str, dict[str, str]] = {}
    for m in modules:
        mod = importlib.import_module(m)
        homes[m] = {}
        for name in alls[m]:
            obj = getattr(mod, name)
            home = m
            if _is_documented_kind(obj) != "data":
                defined = getattr(obj, "__module__", m)
                if defined in alls and name in alls[defined]:
                    home = defined
            elif name not in _assigned_names(m):
                # a constant imported from another public module: documented where assigned
                for other in modules:
                    if (
                        other != m
                        and name in alls[other]
                        and name in _assigned_names(other)
                        and getattr(importlib.import_module(other), name) is obj
                    ):
                        home = other
                        break
            homes[m][name] = home
    return homes


def _module_page(name: str, homes: dict[str, str]) -> str:
    from sphinx.pycode import ModuleAnalyzer

    module = importlib.import_module(name)
    own = [n for n, home in homes.items() if home == name]
    # automodule skips constants without a ``#:`` doc comment: those get an autodata each
    commented = {attr for (_, attr) in ModuleAnalyzer.for_module(name).find_attr_docs()}
    members = [
        n for n in own if _is_documented_kind(getattr(module, n)) != "data" or n in commented
    ]
    plain_data = [n for n in own if n not in members]
    title = f"``{name}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {name}"]
    elsewhere = {n: home for n, home in homes.items() if home != name}
    # conf.py's ``autodoc_default_options["members"] = True`` replaces an explicit member list
    # (Sphinx keeps an explicit value only when the default is a string), so the module's whole
    # ``__all__`` is documented: names documented elsewhere, or below as autodata, are excluded
    skipped = sorted({*elsewhere, *plain_data})
    if members:
        lines.append(f"   :members: {', '.join(members)}")
        if skipped:
            lines.append(f"   :exclude-members: {', '.join(skipped)}")
    else:
        lines.append("   :no-members:")
    lines.append("")
    for n in plain_data:
        lines += [f".. autodata:: {name}.{n}", ""]
    if elsewhere:
        lines += [
            "Also importable from here (documented where they are defined):",
            "",
            *(f"- :py:obj:`{n} <{home}.{n}>`" for n, home in elsewhere.items()),
            "",
        ]
    return "\n".join(lines)


def write_api_pages(out: Path) -> None:
    """Write the API reference: an index (with the top-level API) and one page per module."""
    import supplygraph

    homes = api_homes()
    modules = list(homes)
    for name in modules:
        _write_if_changed(out / f"{name}.rst", _module_page(name, homes[name]))
    for stale in out.glob("supplygraph*.rst"):
        if stale.stem not in modules:
            stale.unlink()

    api = supplygraph._API  # public name -> defining module
    lines = [
        "API reference",
        "=============",
        "",
        "Everything the command line does is a plain function of a graph or of tables that",
        "returns a :class:`pandas.DataFrame`, a dict or a small result object. The names below are",
        "importable from the top level (``import supplygraph as sg``; ``sg.load(...)``); each",
        "links to the module that defines it, where the rest of that module's public API is",
        "documented too.",
        "",
        ".. automodule:: supplygraph",
        "   :no-members:",
        "",
        "Top-level names",
        "---------------",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 25 75",
        "",
        "   * - name",
        "     - what it does (defined in)",
    ]
    for name in sorted(api, key=str.lower):
        obj = getattr(supplygraph, name)
        home = homes.get(api[name], {}).get(name, api[name])
        lines += [
            f"   * - :py:obj:`sg.{name} <{home}.{name}>`",
            f"     - {_rst_escape(_first_line(obj))} (:py:mod:`{home}`)",
        ]
    lines.append("")
    groups: dict[str, list[str]] = {}
    for name in modules:
        groups.setdefault(_group(name), []).append(name)
    order = ["core", *(g for g in _GROUPS if g in groups)]
    titles = {"core": "Loading, building, views", **_GROUPS}
    for group in order:
        if group not in groups:
            continue
        title = titles[group]
        lines += [title, "-" * len(title), "", ".. toctree::", "   :maxdepth: 1", ""]
        lines += [f"   {name}" for name in groups[group]]
        lines.append("")
    _write_if_changed(out / "index.rst", "\n".join(lines))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A MyST ``list-table`` (cells are Markdown, already escaped)."""
    lines = ["```{list-table}", ":header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"* - {row[0] or ' '}")
        lines += [f"  - {cell or ' '}" for cell in row[1:]]
    lines += ["```", ""]
    return lines


def _record(fields: dict[str, Any]) -> str:
    """One Markdown list item: the first field in bold, the others as ``name: value``."""
    (_, first), *rest = fields.items()
    parts = [
        f"{_md_escape(name)}: {_link(value) if name == 'url' else _md_escape(value)}"
        for name, value in rest
        if str(value).strip()
    ]
    return f"- **{_md_escape(first)}**" + (" — " + "; ".join(parts) if parts else "")


def _link(url: str) -> str:
    url = str(url).strip()
    if re.match(r"https?://\S+$", url):
        return f"<{url}>"
    return _md_escape(url)


def write_dataset_pages(out: Path) -> None:
    """Write one page per built-in dataset and an index listing them."""
    import pandas as pd

    import supplygraph as sg
    from supplygraph.datasets import read_manifest

    table = sg.list_datasets()
    names = list(table["name"])
    index = [
        "# Built-in datasets",
        "",
        "Every built-in dataset, generated from its folder on each build: its README, every",
        "source in its `sources.csv`, and its scenarios. `supplygraph datasets` lists the same.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *names,
        "```",
        "",
    ]
    _write_if_changed(out / "index.md", "\n".join(index))
    for stale in out.glob("*.md"):
        if stale.stem not in {*names, "index"}:
            stale.unlink()

    for row in table.itertuples():
        folder = sg.dataset_path(row.name)
        manifest = read_manifest(folder)
        readme = folder / "README.md"
        lines: list[str] = []
        if readme.is_file() and readme.read_text(encoding="utf-8").lstrip().startswith("# "):
            rel = Path("../../..") / "datasets" / folder.name / "README.md"
            lines += [f"```{{include}} {rel.as_posix()}", "```", ""]
        else:
            lines += [f"# `{row.name}`", "", _md_escape(manifest.description), ""]
        lines += [
            f"## Summary of `{row.name}`",
            "",
            f"- load it with `sg.load({row.name!r})` or pass `{row.name}` as SOURCE to any command",
            f"- {row.nodes} nodes, {row.edges} edges, stages "
            + " → ".join(f"`{s}`" for s in manifest.stages),
            f"- folder: `datasets/{folder.name}/`",
            "",
        ]
        sources = manifest.file("sources")
        if sources is not None and sources.is_file():
            src = pd.read_csv(sources, dtype=str, keep_default_na=False)
            lines += [
                f"## Every source of `{row.name}`",
                "",
                f"All {len(src)} rows of `{sources.name}`; every number in the dataset names one "
                "of these ids.",
                "",
            ]
            lines += [
                _record(dict(zip(src.columns, r, strict=True))) for r in src.itertuples(index=False)
            ]
            lines.append("")
        scenarios = _scenarios(row.name)
        if scenarios is not None and len(scenarios):
            lines += [
                f"## Scenarios of `{row.name}`",
                "",
                "Run one with `supplygraph disrupt --scenario NAME` or "
                "`sg.get_scenario(NAME)`; see {doc}`/howto/scenarios`.",
                "",
            ]
            cols = ["name", "description", "shocks", "capacity", "start_date", "sources"]
            lines += [_record({c: getattr(r, c) for c in cols}) for r in scenarios.itertuples()]
            lines.append("")
        _write_if_changed(out / f"{row.name}.md", "\n".join(lines))


def _scenarios(dataset: str) -> Any:
    from supplygraph.analysis.scenarios import list_scenarios, scenario_folder
    from supplygraph.errors import SupplyGraphError

    try:
        if not scenario_folder(dataset).is_dir():
            return None
    except SupplyGraphError:
        return None
    return list_scenarios(dataset).fillna("")


def _help_blocks(text: str) -> list[str]:
    """reST for a command's help text: paragraphs as text, indented blocks as literal blocks."""
    out: list[str] = []
    for para in textwrap.dedent(text).strip("\n").split("\n\n"):
        lines = para.split("\n")
        if all(line.startswith(" ") for line in lines if line.strip()):
            out += ["::", "", *(f"   {line}" for line in textwrap.dedent(para).split("\n")), ""]
        else:
            out += [_rst_escape(" ".join(line.strip() for line in lines)), ""]
    return out


def _cli_section(cmd: Any, ctx: Any, path: str, underline: str) -> list[str]:
    formatter = ctx.make_formatter()
    cmd.format_help_text(ctx, formatter)
    title = f"``{path}``"
    lines = [f".. _cli-{path.replace(' ', '-')}:", "", title, underline * len(title), ""]
    lines += [f".. program:: {path}", ""]
    lines += _help_blocks(formatter.getvalue())
    usage = " ".join(cmd.collect_usage_pieces(ctx))
    lines += ["Usage:", "", ".. code-block:: text", "", f"   {path} {usage}", ""]
    for kind, heading in (("argument", "Arguments"), ("option", "Options")):
        records = [p.get_help_record(ctx) for p in cmd.get_params(ctx) if p.param_type_name == kind]
        records = [r for r in records if r is not None]
        if not records:
            continue
        lines += [f"{heading}:", ""]
        for names, help_text in records:
            lines += [f".. option:: {names}", ""]
            if help_text:
                lines += [f"   {_rst_escape(' '.join(help_text.split()))}", ""]
    sub = getattr(cmd, "commands", None)
    if sub:
        lines += ["Commands:", ""]
        for name in cmd.list_commands(ctx):
            child = cmd.get_command(ctx, name)
            ref = f"cli-{path.replace(' ', '-')}-{name}"
            lines.append(
                f"- :ref:`{path} {name} <{ref}>`: {_rst_escape(child.get_short_help_str(100))}"
            )
        lines.append("")
    return lines


def write_cli_page(path: Path) -> None:
    """Write the command-line reference from the typer app (``supplygraph.cli.app``)."""
    import typer

    from supplygraph.cli import app

    root = typer.main.get_command(app)
    root_ctx = typer.Context(root, info_name="supplygraph")
    lines = [
        "Command-line reference",
        "======================",
        "",
        "Generated from the ``supplygraph`` command itself on every build: the same text as",
        "``supplygraph COMMAND --help``. Every command is a thin layer over a Python function",
        "(see :doc:`/_generated/api/index`). Exit codes: 0 ok, 1 problems in the input, 2 usage",
        "error. Data goes to stdout, messages to stderr.",
        "",
        *_cli_section(root, root_ctx, "supplygraph", "-"),
    ]

    def walk(group: Any, ctx: Any, prefix: str) -> None:
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            sub_ctx = typer.Context(cmd, info_name=name, parent=ctx)
            lines.extend(_cli_section(cmd, sub_ctx, f"{prefix} {name}", "-"))
            if getattr(cmd, "commands", None):
                walk(cmd, sub_ctx, f"{prefix} {name}")

    walk(root, root_ctx, "supplygraph")
    _write_if_changed(path, "\n".join(lines))


def write_scenario_keys(path: Path) -> None:
    """Write the table of every key a scenario file may hold, from the parser's own key sets."""
    from supplygraph.analysis import scenarios

    tables = [
        ("top level", scenarios.TOP_KEYS),
        ("``[[shocks]]``", scenarios.SHOCK_KEYS),
        ("``[[capacity]]``", scenarios.CAPACITY_KEYS),
        ("``[response]``", scenarios.RESPONSE_KEYS),
    ]
    rows = [
        [where.replace("``", "`"), ", ".join(f"`{k}`" for k in sorted(keys))]
        for where, keys in tables
    ]
    _write_if_changed(path, "\n".join(_table(["table", "keys"], rows)))


def generate(app: Sphinx) -> None:
    """``builder-inited``: write the generated pages into the source folder."""
    src = Path(app.srcdir) / GENERATED
    write_api_pages(src / "api")
    write_dataset_pages(src / "datasets")
    write_cli_page(src / "cli.rst")
    write_scenario_keys(src / "scenario_keys.md")


def check_api_coverage(app: Sphinx, env: Any) -> None:
    """``env-check-consistency``: warn for every public name the API reference does not hold."""
    import supplygraph

    documented = set(env.get_domain("py").objects)
    homes = api_homes()
    wanted = {f"{home}.{n}" for names in homes.values() for n, home in names.items()}
    for n, mod in supplygraph._API.items():
        wanted.add(f"{homes.get(mod, {}).get(n, mod)}.{n}")
    for name in sorted(wanted - documented):
        logger.warning("the API reference does not document the public name %s", name)


def _no_type_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """``autodoc-process-docstring``: a constant without a doc comment gets no docstring
    (autodoc would show its type's, e.g. ``tuple``'s)."""
    if what == "data" and lines and "\n".join(lines).strip() == (type(obj).__doc__ or "").strip():
        lines.clear()


_EXTERNAL = re.compile(
    r"<(script|img|iframe|source|video|audio)\b[^>]*\bsrc=[\"'](?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"'](?:https?:)?//[^\"']*[\"'][^>]*>",
    re.IGNORECASE,
)


def check_offline(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: warn for every built page that loads something from another host."""
    if exception is not None or app.builder.format != "html":
        return
    for page in sorted(Path(app.outdir).rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        for match in _EXTERNAL.finditer(text):
            tag = match.group(0)
            if tag.lower().startswith("<link") and not re.search(
                r"rel=[\"'](?:stylesheet|preload|icon|modulepreload)", tag, re.IGNORECASE
            ):
                continue  # a plain hyperlink-like <link rel="canonical"> loads nothing
            rel = page.relative_to(app.outdir)
            logger.warning("%s loads a resource from another host: %s", rel, tag[:120])


def _no_data_signature(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, sig: Any, retann: Any
) -> tuple[()] | None:
    """``autodoc-process-signature``: constants have no signature.

    numpydoc would give type aliases such as ``tuple[str, ...]`` (callable) one, which autodoc
    cannot place; an empty, non-None result ends the event here and changes nothing.
    """
    return () if what == "data" else None


def _verbatim_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """``autodoc-process-docstring``: show the docstrings named in ``sgdocs_verbatim`` as
    preformatted text (for modules being rewritten, whose markup does not parse yet)."""
    if name in app.config.sgdocs_verbatim:
        raw = inspect.cleandoc(getattr(obj, "__doc__", None) or "")
        lines[:] = ["::", "", *(f"    {line}" for line in raw.splitlines()), ""]


def _resolve_reexports(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """``missing-reference``: resolve ``supplygraph.load`` (a top-level name) and
    ``supplygraph.trade.read_trade`` (a package re-export) to where the name is documented;
    warn for any other unresolved ``supplygraph`` reference made from a page of ``docs/``
    (references from docstrings, on the API pages, are left as they are)."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target.startswith("supplygraph"):
        return None
    module, _, name = target.rpartition(".")
    homes = api_homes()
    import supplygraph

    home = None
    if module == "supplygraph" and name in supplygraph._API:
        home = homes.get(supplygraph._API[name], {}).get(name, supplygraph._API[name])
    elif module in homes and homes[module].get(name, module) != module:
        home = homes[module][name]
    if home is not None:
        py = env.get_domain("py")
        found = py.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], f"{home}.{name}", node, contnode
        )
        if found is not None:
            return found
    if not node["refdoc"].startswith(f"{GENERATED}/api/"):
        logger.warning(
            "unresolved reference to %s", target, location=node, type="sgdocs", subtype="ref"
        )
    return None


def reset_pandas(gallery_conf: Any, fname: str) -> None:
    """sphinx-gallery ``reset_modules``: show whole text cells (chokepoint reasons, binding
    constraints) in the tables the examples print."""
    import pandas as pd

    pd.reset_option("display.max_colwidth")
    pd.set_option("display.max_colwidth", None)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    app.connect("env-check-consistency", check_api_coverage)
    app.connect("autodoc-process-docstring", _no_type_docstring, priority=400)
    app.connect("autodoc-process-signature", _no_data_signature, priority=400)
    app.connect("autodoc-process-docstring", _verbatim_docstring, priority=600)
    app.add_config_value("sgdocs_verbatim", {}, "env", types=[dict])
    app.connect("build-finished", check_offline)
    app.connect("missing-reference", _resolve_reexports)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
