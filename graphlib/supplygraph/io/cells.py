"""Cell values: numbers, text and years read one cell at a time, or a column at a time.

:func:`parse_number` is the rule for a number written in a cell (``1,234.5`` and ``1 234.5``
accepted, a decimal comma rejected with a hint, ``TRUE`` and dates are not numbers).
:class:`_Cell` converts one raw cell and records a :class:`~supplygraph.errors.Problem` naming
file, sheet, row and column for every cell it cannot read; :class:`_ColumnReader` converts
whole columns, passing only the cells that need a check to :class:`_Cell`, so the outcome is the
same as cell by cell.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from supplygraph.errors import Problem
from supplygraph.io.headers import SHARE_LIKE
from supplygraph.io.safe_text import FORMULA_PREFIXES

__all__ = ["parse_number"]

_MAX_TEXT = 32_767
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # as _CONTROL


_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_THOUSANDS_SPACE = re.compile(r"^[+-]?\d{1,3}( \d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")


def parse_number(value: Any) -> tuple[float | None, bool, str | None]:
    """Parse a cell as a number.

    Parameters
    ----------
    value
        A cell value: number or text.

    Returns
    -------
    number : float or None
        The number (a ``%`` string is returned as written, e.g. 90.0 for ``"90 %"``).
    percent : bool
        True when the text ended in ``%``.
    error : str or None
        Why the cell is not a number (None when it is, or when the cell is blank).

    Examples
    --------
    >>> parse_number("1,234.5")
    (1234.5, False, None)
    >>> parse_number(" 90 % ")
    (90.0, True, None)
    >>> parse_number("0,5")[2]
    'decimal comma is not accepted; write 0.5 (point as decimal separator)'
    """
    if value is None:
        return None, False, None
    if isinstance(value, bool):
        return None, False, f"{'TRUE' if value else 'FALSE'} is not a number"
    if isinstance(value, datetime | date | time):
        return None, False, "a date is not a number"
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return None, False, "not a finite number"
        return number, False, None
    text = unicodedata.normalize("NFKC", str(value)).replace("\u200b", "").strip()
    if not text:
        return None, False, None
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    text = re.sub(r"[\u2009\u202f]", " ", text)
    if _PLAIN.match(text):
        clean = text
    elif _THOUSANDS_COMMA.match(text):
        clean = text.replace(",", "")
    elif _THOUSANDS_SPACE.match(text):
        clean = text.replace(" ", "")
    elif _DECIMAL_COMMA.match(text):
        fixed = text.replace(".", "").replace(",", ".")
        return (
            None,
            percent,
            f"decimal comma is not accepted; write {fixed} (point as decimal separator)",
        )
    else:
        return None, percent, "not a number"
    number = float(clean)
    if math.isinf(number):
        return None, percent, "not a finite number"
    return number, percent, None


def _unneutralize(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


class _Cell:
    """Conversion of raw cells with problem collection for one table."""

    def __init__(self, kind: str, file: str, sheet: str | None, problems: list[Problem]) -> None:
        self.kind = kind
        self.file = file
        self.sheet = sheet
        self.problems = problems
        self.bad: set[tuple[int, str]] = set()  # (row, schema column) cells already reported

    def problem(
        self,
        row: int | None,
        column: str | None,
        message: str,
        value: Any = None,
        severity: str = "error",
    ) -> None:
        shown = None if value is None else str(value)
        if shown is not None and len(shown) > 80:
            shown = shown[:77] + "..."
        self.problems.append(
            Problem(
                message=message,
                severity=severity,  # type: ignore[arg-type]
                file=self.file,
                sheet=self.sheet,
                row=row,
                column=column,
                value=shown,
            )
        )

    def special(self, row: int, header: str, col: str, value: Any) -> bool:
        """Report an Excel error / missing formula value; return True when the cell is one."""
        if value.__class__ is str or value.__class__ in (int, float):
            return False
        from supplygraph.io.xlsx import FORMULA_NO_VALUE, ExcelError

        if isinstance(value, ExcelError):
            self.problem(row, header, f"Excel error cell {value}", value=str(value))
            self.bad.add((row, col))
            return True
        if value is FORMULA_NO_VALUE:
            self.problem(
                row,
                header,
                "formula without a computed value (the file was written by a program, not "
                "saved by a spreadsheet app): open and save it in Excel/LibreOffice, or type "
                "the value",
            )
            self.bad.add((row, col))
            return True
        return False

    def text(self, row: int, header: str, col: str, value: Any) -> str | None:
        if value.__class__ is str:  # fast path: most cells
            text = value.strip()
            if text[:1] == "'":
                text = _unneutralize(text)
            if not text:
                return None
            if text[0] == "=" or len(text) > _MAX_TEXT or _CONTROL.search(text):
                self._check_text(row, header, col, text, value)
            return text
        if value is None or self.special(row, header, col, value):
            return None
        if isinstance(value, bool):
            text = "TRUE" if value else "FALSE"
        elif isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            text = str(int(value))
        elif isinstance(value, datetime | date | time):
            text = value.isoformat()
        else:
            text = str(value)
        text = _unneutralize(text.strip())
        if not text:
            return None
        self._check_text(row, header, col, text, str(value))
        return text

    def _check_text(self, row: int, header: str, col: str, text: str, raw: str) -> None:
        if _CONTROL.search(text):
            self.problem(row, header, "control character in text", value=repr(text)[1:-1])
            self.bad.add((row, col))
        if len(text) > _MAX_TEXT:
            self.problem(
                row,
                header,
                f"text is {len(text):,} characters long; spreadsheets keep only {_MAX_TEXT:,}",
                severity="warning",
            )
        if raw.lstrip().startswith("=") and len(raw.strip()) > 1:
            self.problem(
                row,
                header,
                "text looks like a formula; it is kept as text and neutralised on export",
                value=raw,
                severity="warning",
            )

    def extra(self, row: int, header: str, value: Any) -> Any:
        if value is None or self.special(row, header, header, value):
            return None
        if isinstance(value, str):
            text = _unneutralize(value.strip())
            if not text:
                return None
            self._check_text(row, header, header, text, value)
            return text
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            self.problem(
                row, header, "integer too large to store exactly", value=value, severity="warning"
            )
        return value

    def number(self, row: int, header: str, col: str, value: Any) -> tuple[float | None, bool]:
        if value is None or self.special(row, header, col, value):
            return None, False
        number, percent, error = parse_number(value)
        if error:
            self.problem(row, header, error, value=value)
            self.bad.add((row, col))
            return None, percent
        if percent and col not in SHARE_LIKE:
            self.problem(
                row, header, "a percentage is only accepted in a share column", value=value
            )
            self.bad.add((row, col))
            return None, False
        if isinstance(value, int) and abs(value) > 2**53:
            self.problem(
                row, header, "integer too large to store exactly", value=value, severity="warning"
            )
        return number, percent

    def year(self, row: int, header: str, col: str, value: Any) -> Any:
        if value is None or self.special(row, header, col, value):
            return None
        if isinstance(value, bool):
            self.problem(row, header, "TRUE/FALSE is not a year", value=value)
            self.bad.add((row, col))
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, datetime | date):
            return value.year
        text = _unneutralize(str(value).strip())
        if not text:
            return None
        if re.fullmatch(r"\d{4}", text):
            return int(text)
        if re.fullmatch(r"\d{4}\.0+", text):
            return int(float(text))
        self._check_text(row, header, col, text, str(value))
        return text  # ranges such as "2020-23" stay text


_NOT_NUMBER_CHAR = re.compile(r"[^0-9.eE+\-\n]")
_NOT_DIGIT = re.compile(r"[^0-9]")
_PLAIN_ASCII = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EXACT_INT = 2**53


def _text_needs_checks(stripped: list[str]) -> bool:
    """True when some stripped cell may need :meth:`_Cell.text`: an apostrophe or ``=`` first,
    a control character, or text longer than a spreadsheet cell."""
    if not stripped:
        return False
    joined = "\n".join(stripped)
    return (
        joined[:1] in ("'", "=")
        or "\n'" in joined
        or "\n=" in joined
        or _CONTROL.search(joined) is not None
        or (len(joined) > _MAX_TEXT and max(map(len, stripped)) > _MAX_TEXT)
    )


class _ColumnReader:
    """Column-wise cell conversion: plain cells in bulk, any other cell through :class:`_Cell`.

    A cell is only converted here when :class:`_Cell` would return the same value without a
    problem; every other cell goes to :class:`_Cell`, whose problems are collected with their
    (row position, column position) so they can be put in row-by-row order.
    """

    def __init__(self, cell: _Cell, rows: list[int], fast: bool, plain: bool = False) -> None:
        self.cell = cell
        self.rows = rows
        self.fast = fast
        self.plain = plain
        self.buf: list[Problem] = []
        self.keyed: list[tuple[int, int, Problem]] = []

    def _slow(self, k: int, j: int, method: Any, *args: Any) -> Any:
        result = method(self.rows[k], *args)
        if self.buf:
            self.keyed.extend((k, j, p) for p in self.buf)
            self.buf.clear()
        return result

    def text(
        self,
        values: Sequence[Any],
        stripped: list[str] | None,
        header: str,
        col: str,
        j: int,
        extra: bool = False,
    ) -> list[Any]:
        cell = self.cell
        if not self.fast:
            if extra:
                return [self._slow(k, j, cell.extra, header, v) for k, v in enumerate(values)]
            return [self._slow(k, j, cell.text, header, col, v) for k, v in enumerate(values)]
        if stripped is not None and (self.plain or not _text_needs_checks(stripped)):
            return [s or None for s in stripped]
        out: list[Any] = []
        append = out.append
        for k, v in enumerate(values):
            cls = v.__class__
            if cls is str:
                s = v.strip()
                if not s:
                    append(None)
                    continue
                if s[0] != "'" and s[0] != "=" and len(s) <= _MAX_TEXT and not _CONTROL.search(s):
                    append(s)
                    continue
            elif v is None:
                append(None)
                continue
            elif extra and (cls is float or (cls is int and -_EXACT_INT <= v <= _EXACT_INT)):
                append(v)
                continue
            if extra:
                append(self._slow(k, j, cell.extra, header, v))
            else:
                append(self._slow(k, j, cell.text, header, col, v))
        return out

    def number(
        self, values: Sequence[Any], stripped: list[str] | None, header: str, col: str, j: int
    ) -> tuple[list[float | None], list[bool]]:
        cell = self.cell
        n = len(values)
        if not self.fast:
            pairs = [self._slow(k, j, cell.number, header, col, v) for k, v in enumerate(values)]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        if stripped is not None and _NOT_NUMBER_CHAR.search("\n".join(stripped)) is None:
            # only digits, signs, points and exponents: float() accepts exactly what
            # parse_number's plain-number pattern accepts
            try:
                nums: list[float | None] | None = [float(s) if s else None for s in stripped]
            except ValueError:
                nums = None
            if nums is not None and math.inf not in nums and -math.inf not in nums:
                return nums, [False] * n
        out: list[float | None] = []
        pct: list[bool] = []
        for k, v in enumerate(values):
            cls = v.__class__
            if cls is str:
                s = v.strip()
                if not s:
                    out.append(None)
                    pct.append(False)
                    continue
                if _PLAIN_ASCII.fullmatch(s):
                    number = float(s)
                    if not math.isinf(number):
                        out.append(number)
                        pct.append(False)
                        continue
            elif cls is float:
                if math.isfinite(v):
                    out.append(v)
                    pct.append(False)
                    continue
            elif cls is int:
                if -_EXACT_INT <= v <= _EXACT_INT:
                    out.append(float(v))
                    pct.append(False)
                    continue
            elif v is None:
                out.append(None)
                pct.append(False)
                continue
            number_or_none, is_pct = self._slow(k, j, cell.number, header, col, v)
            out.append(number_or_none)
            pct.append(is_pct)
        return out, pct

    def year(
        self, values: Sequence[Any], stripped: list[str] | None, header: str, col: str, j: int
    ) -> list[Any]:
        cell = self.cell
        if not self.fast:
            return [self._slow(k, j, cell.year, header, col, v) for k, v in enumerate(values)]
        if (
            stripped is not None
            and _NOT_DIGIT.search("".join(stripped)) is None
            and set(map(len, stripped)) <= {0, 4}
        ):
            return [int(s) if s else None for s in stripped]
        out: list[Any] = []
        for k, v in enumerate(values):
            cls = v.__class__
            if cls is str:
                s = v.strip()
                if not s:
                    out.append(None)
                    continue
                if len(s) == 4 and s.isascii() and s.isdigit():
                    out.append(int(s))
                    continue
            elif cls is int:
                out.append(v)
                continue
            elif cls is float and v.is_integer():
                out.append(int(v))
                continue
            elif v is None:
                out.append(None)
                continue
            out.append(self._slow(k, j, cell.year, header, col, v))
        return out
