"""Safe access to trade files: zip members and gzip files with bomb limits, strict UTF-8 text.

Trade releases arrive compressed: CEPII ships BACI as one zip per HS revision (a yearly member is
0.4-0.5 GB and compresses about 4:1), UN Comtrade bulk files are gzip. Before a byte is
inflated, a zip member's announced size and compression ratio are checked against the limits of
:class:`supplygraph.io.archive.ArchiveLimits` (the same limits the workbook reader applies);
a gzip stream, whose real size is unknown until it is read, is inflated in blocks and abandoned
as soon as it passes the same limits. Text must be UTF-8 (a byte-order mark is allowed); the error
names the line of the first byte that is not.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path
from typing import IO

from supplygraph.errors import InputError
from supplygraph.io.archive import DEFAULT_LIMITS, ArchiveLimits

__all__ = ["decode_utf8", "open_zip_member", "read_bytes", "read_head", "zip_names"]

_MB = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def zip_names(path: Path) -> list[str]:
    """Return the member names of a zip archive (one precise error if it is not one).

    Parameters
    ----------
    path
        The archive.

    Returns
    -------
    list of str
        Member names, as stored (folders included).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"not a readable zip archive ({exc})", file=str(path)) from None


def _check_member(path: Path, info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    size = info.file_size
    packed = max(info.compress_size, 1)
    where = f"{path.name}!{info.filename}"
    if size > limits.max_member_bytes:
        msg = (
            f"member inflates to {size / _MB:,.0f} MB (limit "
            f"{limits.max_member_bytes / _MB:,.0f} MB); refusing to open it"
        )
        raise InputError(msg, file=where)
    if size > limits.ratio_floor and size / packed > limits.max_ratio:
        msg = (
            f"member inflates {size / packed:,.0f}:1 to {size / _MB:,.0f} MB (limit "
            f"{limits.max_ratio:,.0f}:1); this looks like a zip bomb"
        )
        raise InputError(msg, file=where)


def open_zip_member(path: Path, member: str, limits: ArchiveLimits | None = None) -> IO[bytes]:
    """Open one member of a zip archive for reading, after checking it against the limits.

    Parameters
    ----------
    path
        The archive.
    member
        The member's name.
    limits
        Size and ratio limits; :data:`supplygraph.io.archive.DEFAULT_LIMITS` when None.

    Returns
    -------
    binary file object
        The member's inflated bytes; :mod:`zipfile` never returns more than the announced size
        (a CRC error is raised when the content differs).

    Raises
    ------
    InputError
        When the member would inflate past the limits (``archive.zip!member: ...``).
    """
    limits = limits or DEFAULT_LIMITS
    try:
        zf = zipfile.ZipFile(path)
        info = zf.getinfo(member)
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise InputError(f"not a readable zip archive ({exc})", file=str(path)) from None
    try:
        _check_member(path, info, limits)
        return zf.open(info)
    except BaseException:
        zf.close()
        raise


def read_bytes(path: Path, member: str | None = None, limits: ArchiveLimits | None = None) -> bytes:
    """Read a whole file, a zip member or a gzip file, inflating within the limits.

    Parameters
    ----------
    path
        A plain file, a ``.gz`` file (detected by its magic bytes) or a zip archive.
    member
        The member to read when ``path`` is a zip archive.
    limits
        Size and ratio limits; :data:`supplygraph.io.archive.DEFAULT_LIMITS` when None.

    Returns
    -------
    bytes
        The (inflated) content.

    Raises
    ------
    InputError
        A missing file, a corrupt archive, or content that inflates past the limits.
    """
    limits = limits or DEFAULT_LIMITS
    if member is not None:
        with open_zip_member(path, member, limits) as fh:
            try:
                return fh.read()
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                where = f"{path.name}!{member}"
                raise InputError(f"corrupt zip member ({exc})", file=where) from None
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    if head != _GZIP_MAGIC:
        return path.read_bytes()
    packed = max(path.stat().st_size, 1)
    blocks: list[bytes] = []
    total = 0
    try:
        with gzip.open(path, "rb") as gz:
            while block := gz.read(4 * _MB):
                total += len(block)
                if total > limits.max_member_bytes:
                    msg = (
                        f"gzip content inflates past {limits.max_member_bytes / _MB:,.0f} MB; "
                        "refusing to read it"
                    )
                    raise InputError(msg, file=path.name)
                if total > limits.ratio_floor and total / packed > limits.max_ratio:
                    msg = (
                        f"gzip content inflates more than {limits.max_ratio:,.0f}:1; "
                        "this looks like a zip bomb"
                    )
                    raise InputError(msg, file=path.name)
                blocks.append(block)
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError(f"corrupt gzip file ({exc})", file=path.name) from None
    return b"".join(blocks)


def read_head(path: Path, member: str | None = None, size: int = 4096) -> bytes:
    """Return the first ``size`` bytes of a file, zip member or gzip file (inflated).

    Only ``size`` bytes are inflated, so a bomb is caught later by :func:`read_bytes`.
    """
    try:
        if member is not None:
            with open_zip_member(path, member) as fh:
                return fh.read(size)
        with path.open("rb") as fh:
            head = fh.read(size)
        if head[:2] != _GZIP_MAGIC:
            return head
        with gzip.open(path, "rb") as gz:
            return gz.read(size)
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read the file ({exc})", file=str(path)) from None


def decode_utf8(data: bytes, file: str) -> str:
    """Decode UTF-8 text (an initial byte-order mark is dropped) or name the row (line) of the first bad byte.

    Parameters
    ----------
    data
        The file's bytes.
    file
        The name used in the error.

    Returns
    -------
    str
        The text.

    Raises
    ------
    InputError
        ``file, row N: not UTF-8 text (byte 0xE9); save the file as UTF-8`` (row = line).

    Examples
    --------
    >>> decode_utf8("Côte".encode(), "a.csv")
    'Côte'
    >>> decode_utf8(b"ok\\nC\\xf4te", "a.csv")
    Traceback (most recent call last):
    ...
    supplygraph.errors.InputError: a.csv, row 2: not UTF-8 text (byte 0xF4); save the file as UTF-8
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        msg = f"not UTF-8 text (byte 0x{byte:02X}); save the file as UTF-8"
        raise InputError(msg, file=file, row=line) from None
