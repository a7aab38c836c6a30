"""CSV text: a file's bytes checked and split into rows of text cells.

Decoding (UTF-8, with or without BOM), the delimiter (``,`` ``;`` tab or ``|``, whichever the
first line holds most of), and one clear :class:`~supplygraph.errors.InputError` for a file that
is not CSV text (a workbook, NUL bytes, another encoding). Every cell stays text: codes such as
``"NA"`` (Namibia) and ``"0805"`` are never turned into missing values or numbers here.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from supplygraph.errors import InputError
from supplygraph.io.cells import _CONTROL_BYTES, _MAX_TEXT
from supplygraph.io.headers import _file_kind
from supplygraph.io.rows import _RawTable


def _read_csv_raw(path: Path) -> _RawTable:
    """Read a CSV file as text cells (all values str), one record per spreadsheet row."""
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", file=str(path)) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", file=str(path)) from None
    if not data.strip():
        raise InputError("file is empty", file=name)
    if data[:4] == b"PK\x03\x04":
        raise InputError("this is an .xlsx workbook (ZIP), not CSV text; name it .xlsx", file=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); save the "
            "file as 'CSV UTF-8'",
            file=name,
        ) from None
    if "\x00" in text:
        raise InputError("file contains NUL bytes; it is not a CSV text file", file=name)
    first_line = _first_line(text)
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    lines = _plain_csv_lines(text)
    if lines is not None:
        plain = (
            b"'" not in data
            and b"=" not in data
            and len(data.translate(None, _CONTROL_BYTES)) == len(data)
            and max(map(len, lines), default=0) <= _MAX_TEXT
        )
        return _RawTable(name, None, None, _file_kind(path), lines=lines, delim=delim, plain=plain)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file: {exc}", file=name) from None
    return _RawTable(name, None, None, _file_kind(path), records=records)


def _first_line(text: str) -> str:
    """The first line holding more than whitespace (as ``str.splitlines`` splits), or ``""``."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if size >= len(text):
            return next((ln for ln in lines if ln.strip()), "")
        for ln in lines[:-1]:  # the last line may be cut by the slice
            if ln.strip():
                return ln
        size *= 4


def _plain_csv_lines(text: str) -> list[str] | None:
    """The lines of CSV text without quotes, one per record; None when the text has quotes.

    Without a quote character :func:`csv.reader` reads one record per line (ended by
    ``\\n`` or ``\\r\\n``; a lone ``\\r`` is left to the csv module), the line split at
    the delimiter, an empty line being an empty record.
    """
    if '"' in text:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if max(map(len, lines), default=0) > csv.field_size_limit():
        return None  # let the csv module report the over-long field
    return lines
