"""Safe output: formula-injection neutralisation and atomic file writes.

Spreadsheet programs treat a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (CSV injection, OWASP). Every text cell supplygraph writes to
``.xlsx`` or ``.csv`` goes through :func:`neutralize_text`, which prefixes such text with an
apostrophe -- the convention spreadsheet programs use for "text, not formula" -- so a reader sees
the same characters and no formula is ever evaluated. Numbers are left alone (a negative *number*
is not text).

Every file supplygraph writes goes through :func:`atomic_write` / :func:`atomic_path`: the
content is written to a temporary file in the same folder and renamed over the target, so an
interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_PREFIXES", "atomic_path", "atomic_write", "neutralize_frame", "neutralize_text"]

#: Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralize_text(value: Any) -> Any:
    """Return ``value`` made safe for a spreadsheet cell.

    Parameters
    ----------
    value
        Any cell value. Only ``str`` values are changed.

    Returns
    -------
    Any
        ``"'" + value`` when ``value`` is text starting with a formula character, otherwise
        ``value`` unchanged.

    Examples
    --------
    >>> neutralize_text("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralize_text("China")
    'China'
    >>> neutralize_text(-3.5)
    -3.5
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every text cell (and column name) neutralised."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(neutralize_text)
    out.columns = [neutralize_text(str(c)) for c in out.columns]
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it over ``path``.

    Use it for writers that want a file name (``workbook.save(tmp)``, ``nx.write_graphml``).
    On any exception the temporary file is removed and ``path`` is left untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write(
    path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8"
) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename) and return the path."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding=encoding, newline="")
    return Path(path)
