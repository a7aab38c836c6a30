"""Load a supply graph from any supported source and return it validated.

``load(source)`` accepts

- a built-in dataset name (``"rare-earths"``; see :func:`supplygraph.datasets.list_datasets`);
- a dataset folder with a ``dataset.toml`` manifest, or a folder of CSVs (``nodes.csv`` +
  ``edges.csv``, or ``stage_shares.csv`` + optional ``flows.csv``);
- an ``.xlsx`` workbook or ``.csv`` table (read by :mod:`supplygraph.io.tables`);
- GraphML (``.graphml``), GEXF (``.gexf``) or node-link JSON (``.json``).

Every path ends in the same builders (:mod:`supplygraph.build`), so every source is validated the
same way. A bad file raises a :class:`~supplygraph.errors.SupplyGraphError` whose one-line message
names the file (and sheet, row and column where they apply).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["load", "read_csv_table", "sha256_of"]

#: Graph attributes that exporters store as JSON text and loaders decode again.
JSON_GRAPH_ATTRS = ("stages", "units", "provenance", "reserves", "sources", "warnings")


def sha256_of(paths: list[Path]) -> str:
    """Return the SHA-256 of the given files' bytes, concatenated in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_csv_table(path: Path) -> pd.DataFrame:
    """Read one of a dataset folder's own CSV tables as text cells, with row places.

    Used for the tables a ``dataset.toml`` names (built-in datasets and datasets laid out the
    same way). Users' own CSV and xlsx files go through :func:`supplygraph.io.tables.read_tables`,
    which also maps other tools' headers and parses numbers cell by cell.

    Codes stay text ("NA" is Namibia, "010519" keeps its zero); numbers are parsed later by the
    builders. Adds ``_file`` and ``_row`` (1-based, header = row 1) columns.
    """
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the file as CSV UTF-8", file=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty file"
        raise InputError(f"not a readable CSV table: {first}", file=str(path)) from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.map(lambda v: v.strip() if isinstance(v, str) else v)
    df = df.replace("", None)
    df["_file"] = path.name
    df["_row"] = range(2, len(df) + 2)
    return df


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    from supplygraph.validate import is_blank, to_number

    out = []
    for row in df.to_dict("records"):
        rec: dict[str, Any] = {}
        for key, value in row.items():
            if str(key).startswith("_") or is_blank(value):
                continue
            number = to_number(value) if key in ("value", "year") else None
            rec[str(key)] = number if number is not None else value
        out.append(rec)
    return out


def _load_dataset_folder(folder: Path, *, strict: bool) -> nx.DiGraph:
    from supplygraph.build import graph_from_frames, graph_from_stage_shares
    from supplygraph.datasets import read_manifest

    manifest = read_manifest(folder)
    files: list[Path] = [folder / "dataset.toml"]

    def table(role: str, required: bool = True) -> pd.DataFrame | None:
        path = manifest.file(role)
        if path is None:
            if required:
                msg = f"dataset.toml names no '{role}' file"
                raise InputError(msg, file=str(folder / "dataset.toml"))
            return None
        files.append(path)
        return read_csv_table(path)

    attrs: dict[str, Any] = {
        "description": manifest.description,
        "units": dict(manifest.units),
        "provenance": {"assumptions": list(manifest.assumptions)},
    }
    reserves = table("reserves", required=False)
    if reserves is not None:
        attrs["reserves"] = _records(reserves)
    sources = table("sources", required=False)
    if sources is not None:
        attrs["sources"] = _records(sources)
    stages = manifest.stages or None
    if manifest.builder == "stage_shares":
        shares = table("shares")
        flows = table("flows", required=False)
        G = graph_from_stage_shares(
            shares, flows, stages=stages, name=manifest.name, graph_attrs=attrs, strict=strict
        )
    else:
        nodes = table("nodes")
        edges = table("edges")
        G = graph_from_frames(
            nodes, edges, stages=stages, name=manifest.name, graph_attrs=attrs, strict=strict
        )
    _stamp(G, str(folder), files)
    return G


def _decode_graph_attrs(G: nx.DiGraph) -> None:
    for key in JSON_GRAPH_ATTRS:
        value = G.graph.get(key)
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                G.graph[key] = json.loads(value)


def _load_exchange_format(path: Path, *, strict: bool) -> nx.DiGraph:
    import networkx as nx

    from supplygraph.build import graph_from_frames, graph_to_frames

    suffix = path.suffix.lower()
    try:
        if suffix == ".graphml":
            raw = nx.read_graphml(path)
        elif suffix == ".gexf":
            raw = nx.read_gexf(path)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            edges_key = "edges" if "edges" in data else "links"
            raw = nx.node_link_graph(data, directed=True, edges=edges_key)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}): {exc.msg}", file=str(path)) from None
    except (nx.NetworkXError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a readable graph file: {exc}", file=str(path)) from None
    except Exception as exc:  # XML parse errors come in several types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"not a readable graph file: {first}", file=str(path)) from None
    if not raw.is_directed():
        raise InputError("the graph is undirected; supply graphs are directed", file=str(path))
    for _, data in raw.nodes(data=True):
        data.pop("id", None)  # GEXF copies the node id into an attribute
    _decode_graph_attrs(raw)
    nodes, edges = graph_to_frames(raw)
    if "stage" not in nodes.columns:
        raise InputError("nodes have no 'stage' attribute", file=str(path))
    graph_attrs = {
        k: v for k, v in raw.graph.items() if k not in ("stages", "stage_order_inferred", "name")
    }
    stages = raw.graph.get("stages") or None
    name = raw.graph.get("name") or path.stem
    G = graph_from_frames(
        nodes,
        edges,
        stages=stages,
        name=name,
        graph_attrs=graph_attrs,
        file=path.name,
        strict=strict,
    )
    G.graph["stage_order_inferred"] = bool(raw.graph.get("stage_order_inferred", stages is None))
    _stamp(G, str(path), [path])
    return G


def _load_tables(path: Path, *, strict: bool) -> nx.DiGraph:
    from supplygraph.build import graph_from_frames, graph_from_stage_shares
    from supplygraph.io.tables import read_tables

    tables = read_tables(path, strict=strict)
    if tables.shares is not None and (tables.nodes is None or tables.nodes.empty):
        G = graph_from_stage_shares(
            tables.shares, tables.edges, stages=tables.stages, name=path.stem, strict=strict
        )
    else:
        # read_tables has validated every cell already (and raised on errors)
        G = graph_from_frames(
            tables.nodes,
            tables.edges,
            stages=tables.stages,
            name=path.stem,
            strict=strict,
            validated=True,
            edge_rows=tables.edge_rows,
        )
    # the builder re-checks the frames, so table warnings can appear twice: keep each once
    G.graph["warnings"] = list(
        dict.fromkeys(
            [
                *(str(p) for p in tables.problems if p.severity == "warning"),
                *G.graph.get("warnings", []),
            ]
        )
    )
    if tables.notes:
        provenance = dict(G.graph.get("provenance") or {})
        provenance["assumptions"] = [*provenance.get("assumptions", []), *tables.notes]
        G.graph["provenance"] = provenance
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    _stamp(G, str(path), files)
    return G


def _stamp(G: nx.DiGraph, source: str, files: list[Path]) -> None:
    provenance = dict(G.graph.get("provenance") or {})
    provenance["input"] = source
    provenance["files"] = [p.name for p in files]
    provenance["sha256"] = sha256_of(files)
    G.graph["provenance"] = provenance


def load(source: str | Path = "rare-earths", *, strict: bool = False) -> nx.DiGraph:
    """Load a supply graph from a built-in dataset, a folder or a file.

    Parameters
    ----------
    source
        A built-in dataset name, a dataset folder, a folder of CSVs, an ``.xlsx`` or ``.csv``
        file, a ``.graphml``/``.gexf`` file or a node-link ``.json`` file.
    strict
        Treat validation warnings as errors.

    Returns
    -------
    supplygraph.TrackedDiGraph
        A validated supply graph (see :mod:`supplygraph.schema`) whose
        ``G.graph["provenance"]`` names the input and the SHA-256 of its files: a
        ``networkx.DiGraph`` that counts its edits, so analyses reuse their compiled arrays
        after a constant-time check (:mod:`supplygraph.tracked`).

    Raises
    ------
    InputError
        When the source does not exist or cannot be read (one line naming the file).
    ValidationError
        When the tables hold errors (every problem, each with file, sheet, row and column).

    Examples
    --------
    >>> G = load("rare-earths")
    >>> G.nodes["CHN:separation:heavy"]["country"]
    'CHN'
    """
    from supplygraph.datasets import dataset_path, is_dataset_name

    text = str(source)
    path = Path(source)
    if not path.exists() and is_dataset_name(text):
        path = dataset_path(text)
        G = _load_dataset_folder(path, strict=strict)
        G.graph["provenance"]["input"] = text
        return G
    if not path.exists():
        from supplygraph.datasets import _dataset_dirs

        known = ", ".join(sorted(_dataset_dirs())) or "none"
        msg = f"no such file or folder, and not a built-in dataset (built-in: {known})"
        raise InputError(msg, file=text)
    if path.is_dir():
        if (path / "dataset.toml").is_file():
            return _load_dataset_folder(path, strict=strict)
        return _load_tables(path, strict=strict)
    suffix = path.suffix.lower()
    if suffix in (".graphml", ".gexf", ".json"):
        return _load_exchange_format(path, strict=strict)
    from supplygraph.io.arrow import ARROW_SUFFIXES

    if suffix in (".xlsx", ".xlsm", ".csv", ".tsv") or suffix in ARROW_SUFFIXES:
        return _load_tables(path, strict=strict)
    if suffix == ".xls":
        msg = "old .xls workbooks are not supported; save it as .xlsx"
        raise InputError(msg, file=str(path))
    msg = (
        "unsupported file type (use .xlsx, .csv, .parquet, .feather, .arrow, .graphml, .gexf or "
        ".json)"
    )
    raise InputError(msg, file=str(path))
