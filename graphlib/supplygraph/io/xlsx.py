"""Cell-level reading of ``.xlsx`` workbooks through openpyxl, keeping every cell's place.

The reader

* runs :func:`supplygraph.io.archive.check_archive` first (zip bombs, XML entity declarations,
  legacy/encrypted files, renamed CSVs);
* opens the workbook with ``read_only=True, data_only=True`` from a file object opened ``"rb"``
  (the input file is never opened for writing, and the extension does not matter);
* streams each sheet's rows through openpyxl's own sheet parser, yielding only the cells that
  exist in the XML, so a forged ``<dimension ref="A1:XFD1048576">`` cannot pad rows to 16,384
  cells (the dimension is never used);
* marks Excel error cells (``#N/A``, ``#REF!`` ...) as :class:`ExcelError` and formulas that
  have no cached value (files written by scripts and never opened in Excel) as
  :data:`FORMULA_NO_VALUE`, so they become problems instead of silent blanks;
* reports merged ranges after a sheet is read (read-only mode only shows the top-left value).

openpyxl parses through defusedxml (it is a hard dependency); its entity errors are turned into
"file contains XML entity declarations, which are not allowed".
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supplygraph.errors import InputError
from supplygraph.io.archive import ENTITY_MESSAGE, ArchiveLimits, check_archive, entity_error_from

__all__ = ["FORMULA_NO_VALUE", "ExcelError", "SheetInfo", "XlsxReader"]


class ExcelError(str):
    """An Excel error cell's code (``"#N/A"``, ``"#REF!"`` ...); a ``str`` subclass."""

    __slots__ = ()


class _FormulaNoValue:
    """Marker for a formula cell without a cached value."""

    _instance: _FormulaNoValue | None = None

    def __new__(cls) -> _FormulaNoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "FORMULA_NO_VALUE"


#: The value yielded for a formula cell that has no cached value.
FORMULA_NO_VALUE = _FormulaNoValue()


@dataclass
class SheetInfo:
    """A sheet's name and visibility (``visible``, ``hidden`` or ``veryHidden``)."""

    name: str
    state: str = "visible"
    merged: list[str] = field(default_factory=list)


def _check_defusedxml() -> None:
    import openpyxl

    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise InputError(
            "defusedxml is required to read .xlsx files safely (install defusedxml and do not "
            "set OPENPYXL_DEFUSEDXML=False)"
        )


class XlsxReader:
    """Read a workbook sheet by sheet, cell by cell.

    Parameters
    ----------
    path
        The ``.xlsx`` file. It is opened read-only; its bytes are never modified.
    limits
        Archive limits for :func:`~supplygraph.io.archive.check_archive`.

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.xlsx"
    >>> wb = openpyxl.Workbook(); ws = wb.active; ws.title = "Connections"
    >>> ws.append(["From", "To", "Flow"]); ws.append(["a", "b", 3]); wb.save(p)
    >>> with XlsxReader(p) as r:
    ...     [s.name for s in r.sheets], list(r.iter_rows("Connections"))
    (['Connections'], [(1, [(1, 'From'), (2, 'To'), (3, 'Flow')]), (2, [(1, 'a'), (2, 'b'), (3, 3)])])
    """

    def __init__(self, path: str | Path, limits: ArchiveLimits | None = None) -> None:
        self.path = Path(path)
        self.name = self.path.name
        check_archive(self.path, limits)
        _check_defusedxml()
        import openpyxl

        self._fh = self.path.open("rb")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._wb = openpyxl.load_workbook(
                    self._fh, read_only=True, data_only=True, keep_links=False
                )
        except Exception as exc:
            self._fh.close()
            raise self._translate(exc) from None
        self.sheets: list[SheetInfo] = [
            SheetInfo(ws.title, getattr(ws, "sheet_state", "visible") or "visible")
            for ws in self._wb.worksheets
        ]

    def _translate(self, exc: BaseException) -> InputError:
        if isinstance(exc, InputError):
            return exc
        if entity_error_from(exc):
            return InputError(ENTITY_MESSAGE, file=self.name)
        if isinstance(exc, KeyError):
            return InputError(
                f"not a valid Office Open XML workbook (missing part {exc})", file=self.name
            )
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return InputError(f"cannot read workbook: {text}", file=self.name)

    def close(self) -> None:
        """Close the workbook and the input file."""
        try:
            self._wb.close()
        finally:
            self._fh.close()

    def __enter__(self) -> XlsxReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def info(self, name: str) -> SheetInfo:
        """Return the :class:`SheetInfo` of sheet ``name``."""
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)

    def iter_rows(self, name: str) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        """Yield ``(row_number, [(column_number, value), ...])`` for every row in the sheet XML.

        Only cells present in the file are yielded (1-based row and column numbers). Values are
        ``str``, ``int``, ``float``, ``bool``, ``datetime``/``date``/``time``,
        :class:`ExcelError` or :data:`FORMULA_NO_VALUE`; empty cells are left out. Merged
        ranges are stored on :meth:`info` after the last row.
        """
        ws = self._wb[name]
        try:
            yield from self._iter_parser(ws, name)
        except InputError:
            raise
        except Exception as exc:
            raise self._translate(exc) from None

    def _iter_parser(self, ws: Any, name: str) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        from xml.etree.ElementTree import iterparse as c_iterparse

        from openpyxl.worksheet.merge import MergeCells
        from openpyxl.xml.constants import SHEET_MAIN_NS

        row_tag = f"{{{SHEET_MAIN_NS}}}row"
        data_tag = f"{{{SHEET_MAIN_NS}}}sheetData"
        merge_tag = f"{{{SHEET_MAIN_NS}}}mergeCells"
        cell_parser = _CellParser(self._wb, ws._shared_strings, SHEET_MAIN_NS)
        merged: list[str] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            src = ws._get_source()
            try:
                # check_archive() verified that this part declares no DTD before its root
                # element (and a DTD cannot come later), so the C parser is as safe here as
                # defusedxml's pure-Python one, and several times faster.
                sheet_data = None
                row_counter = 0
                for event, element in c_iterparse(src, events=("start", "end")):
                    if event == "start":
                        if element.tag == data_tag:
                            sheet_data = element
                        continue
                    tag = element.tag
                    if tag == row_tag:
                        r = element.get("r")
                        row_counter = int(float(r)) if r else row_counter + 1
                        cells = cell_parser.row(element, row_counter)
                        element.clear()
                        if sheet_data is not None:
                            sheet_data.remove(element)
                        yield row_counter, cells
                    elif tag == merge_tag:
                        merged = [str(m.ref) for m in MergeCells.from_tree(element).mergeCell]
                        element.clear()
                self.info(name).merged = merged
            finally:
                src.close()


class _CellParser:
    """Turn ``<c>`` elements into ``(column, value)`` pairs, as openpyxl would with data_only."""

    def __init__(self, wb: Any, shared_strings: Any, ns: str) -> None:
        self.wb = wb
        self.shared = shared_strings
        self.date_formats = set(wb._date_formats)
        self.timedelta_formats = set(wb._timedelta_formats)
        self.epoch = wb.epoch
        self.v_tag = f"{{{ns}}}v"
        self.f_tag = f"{{{ns}}}f"
        self.is_tag = f"{{{ns}}}is"
        self.t_tag = f"{{{ns}}}t"
        self.columns: dict[str, int] = {}

    def column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        col = self.columns.get(letters)
        if col is None:
            from openpyxl.utils.cell import column_index_from_string

            col = column_index_from_string(letters)
            self.columns[letters] = col
        return col

    def row(self, element: Any, row_number: int) -> list[tuple[int, Any]]:
        out: list[tuple[int, Any]] = []
        col = 0
        for c in element:
            ref = c.get("r")
            col = self.column(ref) if ref else col + 1
            value = self.value(c)
            if value is not None:
                out.append((col, value))
        return out

    def value(self, c: Any) -> Any:
        t = c.get("t", "n")
        if t == "inlineStr":
            child = c.find(self.is_tag)
            if child is None:
                return None
            if len(child) == 1 and not child.attrib and child[0].tag == self.t_tag:
                # <is><t>text</t></is>: what Text.from_tree(child).content gives, directly
                return child[0].text or None
            from openpyxl.cell.text import Text

            return Text.from_tree(child).content or None
        v = c.findtext(self.v_tag)
        if v is None or v == "":
            if c.find(self.f_tag) is not None:
                return FORMULA_NO_VALUE
            return None
        if t == "s":
            text = self.shared[int(v)]
            return str(text) if text is not None and not isinstance(text, str) else (text or None)
        if t == "n":
            number: int | float = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
            style = c.get("s")
            if style and int(style) in self.date_formats:
                from openpyxl.utils.datetime import from_excel

                try:
                    return from_excel(
                        number, self.epoch, timedelta=int(style) in self.timedelta_formats
                    )
                except (OverflowError, ValueError):
                    return ExcelError("#VALUE!")
            return number
        if t == "str":
            return v
        if t == "b":
            return bool(int(v))
        if t == "e":
            return ExcelError(v)
        if t == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(v)
        return v
