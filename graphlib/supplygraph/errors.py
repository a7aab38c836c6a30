"""Exceptions raised by supplygraph.

Every exception derives from :class:`SupplyGraphError`, and the ones caused by bad input also
derive from :class:`ValueError`, so callers can catch either the specific or the generic type.
The CLI turns a :class:`SupplyGraphError` into one clean line on stderr and exit code 1 (problems
in the input) without a traceback.

A problem with a place in a file carries that place: ``file``, ``sheet``, ``row`` (1-based, as a
spreadsheet shows it, header = row 1) and ``column`` (the header text), and its message reads
``file.xlsx, sheet 'Connections', row 7, column 'Flow': not a number: 'abc'``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "InputError",
    "Problem",
    "ScenarioError",
    "SupplyGraphError",
    "ValidationError",
    "format_location",
]

Severity = Literal["error", "warning"]


class SupplyGraphError(Exception):
    """Base class of every error supplygraph raises on purpose."""


def format_location(
    file: str | None = None,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    key: str | None = None,
    line: int | None = None,
) -> str:
    """Return the human-readable place of a problem, e.g. ``a.xlsx, sheet 'X', row 3, column 'Y'``.

    Parameters
    ----------
    file, sheet, row, column
        Where in a table the problem sits; any may be None and is then left out.
    key, line
        For structured text files (TOML scenarios): the offending key and its line number.

    Returns
    -------
    str
        The parts that are known, joined by commas; empty when nothing is known.
    """
    parts: list[str] = []
    if file:
        parts.append(str(file))
    if sheet:
        parts.append(f"sheet '{sheet}'")
    if line is not None:
        parts.append(f"line {line}")
    if row is not None:
        parts.append(f"row {row}")
    if column:
        parts.append(f"column '{column}'")
    if key:
        parts.append(f"key '{key}'")
    return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One problem found in the input: where, what, and how bad.

    Attributes
    ----------
    message
        What is wrong, in one sentence without the location.
    severity
        ``"error"`` (the input cannot be used) or ``"warning"`` (usable, but check it).
    file, sheet, row, column
        Location; ``row`` is 1-based as shown by a spreadsheet (the header is row 1).
    value
        The offending cell value as text, when there is one.
    """

    message: str
    severity: Severity = "error"
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def location(self) -> str:
        """Return the problem's place as text (see :func:`format_location`)."""
        return format_location(self.file, self.sheet, self.row, self.column)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.value is not None and self.value != "" and repr(self.value) not in text:
            text = f"{text}: {self.value!r}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a plain dict (one record of a problem table)."""
        return asdict(self)


class InputError(SupplyGraphError, ValueError):
    """Raised when an input file or table cannot be read or used.

    The message is one line and starts with the location when one is known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.problem = Problem(
            message=message, file=file, sheet=sheet, row=row, column=column, value=value
        )
        super().__init__(str(self.problem))


class ValidationError(SupplyGraphError, ValueError):
    """Raised when validation finds one or more errors; carries every problem found.

    Attributes
    ----------
    problems
        All problems found (errors and warnings), in the order they were found.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = str(errors[0]) if errors else "validation failed"
        more = len(errors) - 1
        msg = first if more <= 0 else f"{first} (and {more} more error{'s' * (more > 1)})"
        super().__init__(msg)

    def table(self) -> pd.DataFrame:
        """Return the problems as a DataFrame (file, sheet, row, column, value, message, severity)."""
        import pandas as pd

        cols = ["file", "sheet", "row", "column", "value", "message", "severity"]
        return pd.DataFrame([p.as_dict() for p in self.problems], columns=cols)


class ScenarioError(SupplyGraphError, ValueError):
    """Raised for a bad shock or scenario: unknown key, a selector that matches nothing, a bad cut.

    The message names the file, key and line when the scenario came from a file.
    """
