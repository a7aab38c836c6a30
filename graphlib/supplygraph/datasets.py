"""The registry of built-in datasets.

A dataset is a folder holding a ``dataset.toml`` manifest next to its tables. The manifest names
the dataset, describes it, lists the stages in chain order and their units, says which builder
turns the tables into a graph (``"frames"``: ``nodes.csv`` + ``edges.csv``; ``"stage_shares"``:
``stage_shares.csv`` + optional bilateral ``flows.csv``, see :mod:`supplygraph.build`), names the
optional ``reserves.csv`` and ``sources.csv``, and states the modelling assumptions in plain
sentences.

Built-in datasets live in the repository's ``datasets/`` folder. An installed wheel carries them
inside the package as ``supplygraph/_datasets/``; a checkout or editable install finds them in
the repository.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DatasetManifest", "dataset_path", "datasets_root", "list_datasets", "read_manifest"]

MANIFEST = "dataset.toml"


def datasets_root() -> Path:
    """Return the folder that holds the built-in datasets.

    Returns
    -------
    Path
        ``supplygraph/_datasets`` inside an installed wheel, else the repository's ``datasets/``.
    """
    packaged = Path(__file__).parent / "_datasets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "datasets"


def _dataset_dirs() -> dict[str, Path]:
    root = datasets_root()
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        name = read_manifest(manifest.parent).name
        found[name] = manifest.parent
    return found


@dataclass(frozen=True)
class DatasetManifest:
    """The parsed ``dataset.toml`` of a dataset folder.

    Attributes
    ----------
    name, description
        Registry name (``"rare-earths"``) and one-sentence description.
    folder
        The dataset's folder.
    stages
        Stage order, upstream first.
    units
        Unit per stage.
    builder
        ``"frames"`` or ``"stage_shares"``.
    files
        Role -> file name (``nodes``, ``edges``, ``shares``, ``flows``, ``reserves``, ``sources``).
    assumptions
        Plain-English statements of every modelling assumption.
    summary
        ``nodes`` and ``edges`` of the built graph, so datasets can be listed without building
        them (a test keeps them equal to the built graph).
    extra
        Any other top-level keys of the manifest.
    """

    name: str
    description: str
    folder: Path
    stages: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    builder: str = "frames"
    files: dict[str, str] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def file(self, role: str) -> Path | None:
        """Return the path of the file playing ``role``, or None when the dataset has none."""
        name = self.files.get(role)
        return self.folder / name if name else None


_KNOWN_KEYS = {
    "name",
    "description",
    "stages",
    "units",
    "builder",
    "files",
    "assumptions",
    "summary",
}


def read_manifest(folder: str | Path) -> DatasetManifest:
    """Read and check the ``dataset.toml`` in ``folder``.

    Parameters
    ----------
    folder
        A dataset folder.

    Returns
    -------
    DatasetManifest

    Raises
    ------
    InputError
        When the manifest is missing, is not valid TOML or lacks a required key.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no dataset.toml in this folder", file=str(folder)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=str(path)) from None
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise InputError("missing the required key 'name'", file=str(path))
    builder = data.get("builder", "frames")
    if builder not in ("frames", "stage_shares"):
        msg = f"builder must be 'frames' or 'stage_shares', not {builder!r}"
        raise InputError(msg, file=str(path))
    return DatasetManifest(
        name=name,
        description=str(data.get("description", "")),
        folder=folder,
        stages=[str(s) for s in data.get("stages", [])],
        units={str(k): str(v) for k, v in data.get("units", {}).items()},
        builder=builder,
        files={str(k): str(v) for k, v in data.get("files", {}).items()},
        assumptions=[str(a) for a in data.get("assumptions", [])],
        summary={str(k): int(v) for k, v in data.get("summary", {}).items()},
        extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
    )


def dataset_path(name: str) -> Path:
    """Return the folder of the built-in dataset ``name``.

    Parameters
    ----------
    name
        A built-in dataset name, e.g. ``"rare-earths"``.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        When no built-in dataset has that name (the message lists the ones that exist).

    Examples
    --------
    >>> dataset_path("rare-earths").name
    'rare_earths'
    """
    dirs = _dataset_dirs()
    if name not in dirs:
        known = ", ".join(sorted(dirs)) or "none"
        msg = f"no built-in dataset named {name!r} (built-in: {known})"
        raise InputError(msg)
    return dirs[name]


def is_dataset_name(name: str) -> bool:
    """Return True when ``name`` names a built-in dataset."""
    return name in _dataset_dirs()


def dataset_summaries() -> list[dict[str, Any]]:
    """Return one record per built-in dataset, read from the manifests alone (fast).

    Returns
    -------
    list of dict
        ``name``, ``nodes``, ``edges`` (from the manifest's ``[summary]``; None when absent),
        ``stages`` (count) and ``description``, sorted by name.
    """
    rows = []
    for name, folder in sorted(_dataset_dirs().items()):
        manifest = read_manifest(folder)
        rows.append(
            {
                "name": name,
                "nodes": manifest.summary.get("nodes"),
                "edges": manifest.summary.get("edges"),
                "stages": len(manifest.stages),
                "description": manifest.description,
            }
        )
    return rows


def list_datasets() -> pd.DataFrame:
    """List the built-in datasets with their size and description.

    Returns
    -------
    pandas.DataFrame
        One row per dataset: ``name``, ``nodes``, ``edges``, ``stages`` (count),
        ``description``.

    Examples
    --------
    >>> "rare-earths" in list_datasets()["name"].tolist()
    True
    """
    import pandas as pd

    return pd.DataFrame(
        dataset_summaries(), columns=["name", "nodes", "edges", "stages", "description"]
    )
