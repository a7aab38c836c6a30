"""Guards that run on a workbook file BEFORE any XML parser sees it.

An ``.xlsx`` file is a ZIP archive of XML files. Neither :mod:`zipfile` nor openpyxl limits how
much a member inflates to, so a 1 MB file can expand to gigabytes of XML (a *zip bomb*), and an
XML member can declare entities that expand exponentially (*billion laughs*). This module checks
the archive's directory (member count, uncompressed sizes, compression ratios) and scans the
prolog of every XML member for ``<!DOCTYPE`` / ``<!ENTITY`` declarations, so a hostile file is
rejected in milliseconds with bounded memory. openpyxl additionally parses through defusedxml,
whose exceptions :func:`entity_error_from` turns into the same clear message.

The default limits are generous for real files: a workbook whose sheets hold several hundred
thousand rows has sheet XML of a few hundred MB at compression ratios of 5-30:1 and passes.
The announced uncompressed sizes are trustworthy enough for the check: :mod:`zipfile` never
returns more than the announced ``file_size`` bytes of a member and raises ``BadZipFile`` (CRC
mismatch) when the real content differs.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from supplygraph.errors import InputError

__all__ = [
    "DEFAULT_LIMITS",
    "ENTITY_MESSAGE",
    "ArchiveLimits",
    "check_archive",
    "entity_error_from",
    "sniff_kind",
]

#: The message every XML-entity rejection carries.
ENTITY_MESSAGE = "file contains XML entity declarations, which are not allowed"

_MB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits applied to a ZIP-based workbook before it is parsed.

    Attributes
    ----------
    max_members
        Most members (files) the archive may hold.
    max_total_bytes
        Most bytes all members may inflate to together.
    max_member_bytes
        Most bytes one member may inflate to.
    max_ratio
        Highest compression ratio (uncompressed / compressed) allowed for a member, and for the
        archive as a whole, once the member (or archive) inflates to more than ``ratio_floor``
        bytes. Small members compress extremely well legitimately and are never rejected on
        their ratio alone.
    ratio_floor
        Uncompressed size (bytes) below which the ratio is not checked.
    scan_bytes
        How many bytes of each XML member's start are scanned for DOCTYPE/ENTITY declarations.
    """

    max_members: int = 10_000
    max_total_bytes: int = 2048 * _MB
    max_member_bytes: int = 1536 * _MB
    max_ratio: float = 100.0
    ratio_floor: int = 8 * _MB
    scan_bytes: int = 64 * 1024


#: Module-level defaults; pass another :class:`ArchiveLimits` to override.
DEFAULT_LIMITS = ArchiveLimits()

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_kind(path: str | Path) -> str:
    """Return what a file looks like from its first bytes.

    Parameters
    ----------
    path
        The file to inspect (opened read-only).

    Returns
    -------
    str
        ``"empty"``, ``"zip"`` (an xlsx candidate), ``"ole2"`` (legacy ``.xls`` or an encrypted
        workbook) or ``"other"`` (probably text).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("From,To\\n")
    >>> sniff_kind(p)
    'other'
    """
    with Path(path).open("rb") as fh:
        head = fh.read(8)
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head == _OLE2:
        return "ole2"
    return "other"


_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _prolog_problem(chunk: bytes, complete: bool) -> str | None:
    """Return why an XML part's start is unsafe, or None.

    A document type declaration (the only place entities can be declared) must come before the
    root element, so it is enough to check the text before the root element's start tag. XML
    is case-sensitive: the markup is exactly ``<!DOCTYPE`` / ``<!ENTITY``. UTF-16 text is
    checked with its NUL bytes removed.
    """
    for text in (chunk, chunk.replace(b"\x00", b"")):
        root = _ROOT_START.search(text)
        head = text if root is None else text[: root.start()]
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head or b"<!ENTITY" in text[:4096]:
            return ENTITY_MESSAGE
        if root is not None:
            return None
    if complete:
        return None  # no element at all; the parser reports it
    return "an XML part has no root element within its first bytes; refusing to parse it"


def check_archive(path: str | Path, limits: ArchiveLimits | None = None) -> None:
    """Reject a ZIP-based workbook that is a bomb, not a workbook, or declares XML entities.

    Parameters
    ----------
    path
        The ``.xlsx`` file (opened read-only; never modified).
    limits
        The limits to apply; :data:`DEFAULT_LIMITS` when None.

    Raises
    ------
    InputError
        With a one-line message naming the file: empty file, legacy/encrypted workbook, not a
        ZIP archive, corrupt archive, not an Office Open XML package, too many members, members
        that inflate too much or too far, or XML entity declarations.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bomb.xlsx"
    >>> with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
    ...     z.writestr("[Content_Types].xml", "<Types/>")
    ...     z.writestr("xl/worksheets/sheet1.xml", "<x>" + " " * 20_000_000 + "</x>")
    >>> check_archive(p)
    Traceback (most recent call last):
    ...
    supplygraph.errors.InputError: bomb.xlsx: member 'xl/worksheets/sheet1.xml' inflates ...
    """
    limits = limits or DEFAULT_LIMITS
    p = Path(path)
    name = p.name
    kind = sniff_kind(p)
    if kind == "empty":
        raise InputError("file is empty, not an Excel workbook", file=name)
    if kind == "ole2":
        raise InputError(
            "encrypted workbook or legacy .xls file: re-save it as .xlsx without a password",
            file=name,
        )
    if kind != "zip":
        raise InputError(
            "not an .xlsx workbook (no ZIP signature); if it is CSV text, name it .csv",
            file=name,
        )
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_members:
                raise InputError(
                    f"archive has {len(infos):,} members (limit {limits.max_members:,}); "
                    "refusing to open it",
                    file=name,
                )
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise InputError(
                    "not an Office Open XML package (no [Content_Types].xml); "
                    "is it a renamed .zip?",
                    file=name,
                )
            total = 0
            packed = 0
            for info in infos:
                size = info.file_size
                comp = max(info.compress_size, 1)
                total += size
                packed += comp
                if size > limits.max_member_bytes:
                    raise InputError(
                        f"member '{info.filename}' inflates to {size / _MB:,.0f} MB "
                        f"(limit {limits.max_member_bytes / _MB:,.0f} MB); refusing to open it",
                        file=name,
                    )
                if size > limits.ratio_floor and size / comp > limits.max_ratio:
                    raise InputError(
                        f"member '{info.filename}' inflates {size / comp:,.0f}:1 to "
                        f"{size / _MB:,.0f} MB (limit {limits.max_ratio:,.0f}:1); "
                        "this looks like a zip bomb",
                        file=name,
                    )
            if total > limits.max_total_bytes:
                raise InputError(
                    f"archive inflates to {total / _MB:,.0f} MB "
                    f"(limit {limits.max_total_bytes / _MB:,.0f} MB); refusing to open it",
                    file=name,
                )
            if total > limits.ratio_floor and total / max(packed, 1) > limits.max_ratio:
                raise InputError(
                    f"archive inflates {total / packed:,.0f}:1 (limit {limits.max_ratio:,.0f}:1); "
                    "this looks like a zip bomb",
                    file=name,
                )
            for info in infos:
                if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(limits.scan_bytes)
                problem = _prolog_problem(head, complete=len(head) < limits.scan_bytes)
                if problem:
                    raise InputError(problem, file=name)
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise InputError(f"file is corrupt or truncated ({exc})", file=name) from None
    except NotImplementedError as exc:  # unsupported compression method
        raise InputError(f"unsupported ZIP compression ({exc})", file=name) from None


def entity_error_from(exc: BaseException) -> bool:
    """Return True when ``exc`` (or its cause chain) is a defusedxml entity/DTD rejection.

    openpyxl wraps the defusedxml exception in a generic ``ValueError("... invalid XML")``;
    this walks ``__cause__`` / ``__context__`` to find the real reason.

    Examples
    --------
    >>> from defusedxml.common import EntitiesForbidden
    >>> try:
    ...     try:
    ...         raise EntitiesForbidden("x", None, None, None, None, None)
    ...     except EntitiesForbidden as e:
    ...         raise ValueError("invalid XML") from e
    ... except ValueError as outer:
    ...     entity_error_from(outer)
    True
    """
    from defusedxml.common import DefusedXmlException

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, DefusedXmlException):
            return True
        cur = cur.__cause__ or cur.__context__
    return False
