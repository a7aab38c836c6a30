"""Scenario files: a named, sourced set of shocks (and capacity changes) in a small TOML format.

A scenario is what an analyst would say in one sentence -- "China approves a quarter of licence
applications for magnets and heavy rare earths going abroad, from 4 April 2025" -- written down
with the selectors, cut fractions, time windows and sources that make it reproducible. Files are
read with the standard library's :mod:`tomllib`; nothing else is needed.

The format
----------
Top-level keys (all optional except at least one ``[[shocks]]`` or ``[[capacity]]`` table)::

    name = "april-2025-licences"          # defaults to the file name without .toml
    description = "One sentence: what the scenario is."
    sources = ["mofcom-18-2025", "clepa-2025"]   # source ids of the dataset's sources.csv,
                                                 # or plain citations
    model = "linear"                      # or "leontief" (used by disrupt; the timeline is linear)
    start_date = 2025-04-04               # optional: the calendar date of day 0
    assumptions = ["Plain sentences ..."]  # optional

    [[shocks]]                            # one table per shock
    from = "CHN@magnets"                  # selector, exactly one form (see below)
    approval_rate = 0.25                  # or cut = 0.75 (cut = 1 - approval_rate); default cut 1
                                          # a range: [low, high] or [low, value, high]
    dist = "triangular"                   # optional: the range's distribution (uniform, pert)
    group = "licences"                    # optional: shocks sharing a group draw together
    except_destination = ["CHN"]          # optional destination filters (see below)
    start_day = 0                         # optional window: active on start_day <= day < end_day
    end_day = 365
    source = "clepa-2025"                 # where the number comes from (id or citation)
    note = "Why this value."

    [[capacity]]                          # optional what-if capacity changes (applied first)
    node = "MYS:separation"               # selector: node, or country [+ stage], or stage
    scale = 2.4                           # multiply the node's value and outbound flows
    source = "iea-gcmo-2024"              # (scale and capacity may be ranges too)

Shock selectors (exactly one form per shock; the text form is the syntax of
:func:`supplygraph.analysis.shocks.parse_shock`):

* ``node = "CHN:separation"`` -- one node;
* ``country = "CHN"`` with optional ``stage = "separation"`` -- a country's nodes (in a stage);
* ``stage = "separation"`` -- a whole stage;
* ``from = "CHN@magnets"`` with ``to = "USA"`` or ``to = "USA@end_use"`` -- the edges from a
  country's stage to a country (in a stage);
* ``selector = "CHN@magnets->USA"`` -- any shock text as the CLI's ``--shock`` takes it (without
  the ``=cut`` suffix).

Filters narrow a node selector to some of its outbound edges (an export rule rather than a shut
down): ``destination`` (country code or list: only flows *to* these countries are cut),
``except_destination`` (flows to these countries are spared -- ``["CHN"]`` keeps China's own
domestic use untouched) and ``end_use`` (sector or list: only flows that end in these end uses;
see :mod:`supplygraph.analysis.shocks` for how a filter is resolved on a graph).

Capacity changes (``[[capacity]]``) are a documented what-if mechanism for "allied
diversification": ``scale`` (> 0) multiplies the selected nodes' ``value`` and the ``flow`` of
their outbound edges before any shock is resolved. Every customer's input shares are recomputed
from the scaled flows, so each customer still has a baseline output of 100 % but buys a larger
share from the scaled suppliers and a smaller share from everybody else. That is the linear
model's reading of "capacity added abroad replaces purchases from the dominant supplier"; it
does not model price, ramp-up time or qualification delays. Cuts are always in [0, 1]; a scale
is the only way to add supply.

Ranges
------
``cut``, ``approval_rate``, ``scale`` and ``capacity`` may be ranges for Monte Carlo draws
(:mod:`supplygraph.uncertainty`): ``approval_rate = [0.25, 0.6]`` (low, high: the value is the
midpoint) or ``[0.25, 0.25, 0.6]`` (low, value, high). Every analysis without draws uses the
value. ``dist`` picks the distribution (``triangular``, the default, ``uniform`` or ``pert``),
and tables sharing a ``group`` name are drawn together (one quantile for all of them: "every
China licence edge gets the same approval rate").

Errors
------
Every problem raises :class:`~supplygraph.errors.ScenarioError` with one line naming the file,
the line and the key, e.g. ``april.toml, line 12, key 'cut': cut must be in [0, 1], got 1.5``.
TOML syntax errors carry the line and column that :mod:`tomllib` reports. Selectors that match
nothing are caught by :func:`validate_scenario`, which needs the graph.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import ScenarioError, SupplyGraphError, format_location

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from supplygraph.analysis.response_options import Response
    from supplygraph.analysis.shocks import Shock

__all__ = [
    "CapacityChange",
    "Scenario",
    "apply_capacity",
    "capacity_tranches",
    "get_scenario",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "scenario_folder",
    "validate_scenario",
]

TOP_KEYS = frozenset(
    {
        "name",
        "description",
        "sources",
        "model",
        "start_date",
        "assumptions",
        "shocks",
        "capacity",
        "response",
    }
)
SELECTOR_KEYS = ("selector", "node", "country", "stage", "from", "to")
SHOCK_KEYS = frozenset(
    {
        *SELECTOR_KEYS,
        "cut",
        "approval_rate",
        "destination",
        "except_destination",
        "end_use",
        "start_day",
        "end_day",
        "source",
        "note",
        "label",
        "dist",
        "group",
    }
)
CAPACITY_KEYS = frozenset(
    {
        "node",
        "country",
        "stage",
        "scale",
        "capacity",
        "ramp_days",
        "start_day",
        "source",
        "note",
        "label",
        "dist",
        "group",
    }
)
RESPONSE_KEYS = frozenset(
    {
        "model",
        "substitution",
        "rationing",
        "priority",
        "blocs",
        "qualification_days",
        "source",
        "note",
    }
)
MODELS = ("linear", "leontief")


@dataclass(frozen=True)
class CapacityChange:
    """One ``[[capacity]]`` entry: more output (``scale``) or more capacity (``capacity``).

    Attributes
    ----------
    selector
        Node selector in shock-text syntax (``"MYS:separation"``, ``"USA@magnets"``, ``"@mining"``).
    scale
        Multiplier (> 0) applied to ``value`` and to the ``flow`` of every outbound edge: a
        different normal state, in which customers buy more from these nodes (None: unchanged).
    capacity
        The node's new capacity (absolute, in its ``value`` unit, at least its value): spare
        capacity that only the supply responses use (None: unchanged). Needs a selector that
        matches one node.
    ramp_days
        Days for the added capacity to come fully online once it starts (timelines; None: the
        node's own ``ramp_days``).
    start_day
        Day the added capacity starts to ramp (timelines; default 0).
    source, note, label
        Provenance and explanation, as written in the file.
    line
        Line of the ``[[capacity]]`` header in the file (None when unknown).
    uncertain
        A range for Monte Carlo draws: ``(key, low, value, high)`` with ``key`` ``"scale"``
        or ``"capacity"`` (the value is ``scale`` or ``capacity``); None: certain.
    dist, group
        The range's distribution (None: triangular) and group (drawn together).
    """

    selector: str
    scale: float | None = None
    capacity: float | None = None
    ramp_days: float | None = None
    start_day: int = 0
    source: str | None = None
    note: str | None = None
    label: str | None = None
    line: int | None = None
    uncertain: tuple[str, float, float, float] | None = None
    dist: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file.

    Attributes
    ----------
    name, description
        Identification; ``name`` defaults to the file's stem.
    sources
        Source ids (keys of the dataset's ``sources.csv``) or citations for the whole scenario.
    model
        ``"linear"`` or ``"leontief"`` -- the propagation model :func:`supplygraph.disrupt` should
        use. The timeline is always linear.
    shocks
        :class:`~supplygraph.analysis.shocks.Shock` objects with their windows and filters, ready
        for :func:`supplygraph.disrupt` or :func:`supplygraph.analysis.timeline.timeline`.
    capacity
        Capacity changes to apply (:func:`apply_capacity`) before the shocks.
    start_date
        Calendar date of day 0, when given.
    assumptions
        Plain sentences stating what the scenario assumes.
    path
        The file it came from (None for text parsed directly).
    shock_specs
        The raw ``[[shocks]]`` tables (dicts, in file order), kept for reports.
    response
        The ``[response]`` table as a :class:`~supplygraph.analysis.response_options.Response` (the
        supply response the scenario is meant to be read with), or None.
    lines
        ``(table, index, key) -> line`` for every key found in the file (``table`` is ``""`` for
        the top level, ``"shocks"`` or ``"capacity"``); used for precise error messages.
    """

    name: str
    description: str = ""
    sources: tuple[str, ...] = ()
    model: str = "linear"
    shocks: tuple[Shock, ...] = ()
    capacity: tuple[CapacityChange, ...] = ()
    start_date: _dt.date | None = None
    assumptions: tuple[str, ...] = ()
    path: Path | None = None
    shock_specs: tuple[dict[str, Any], ...] = ()
    response: Response | None = None
    lines: dict[tuple[str, int, str], int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def file(self) -> str:
        """The file name used in error messages (``"<string>"`` when parsed from text)."""
        return self.path.name if self.path is not None else "<string>"

    def where(self, table: str = "", index: int = 0, key: str | None = None) -> str:
        """Return ``file, line N, key 'k'`` for a key of this scenario (see :func:`format_location`)."""
        line = self.lines.get((table, index, key or "")) if key else None
        if line is None:
            line = self.lines.get((table, index, ""))
        shown = _shown_key(table, index, key)
        return format_location(file=self.file, line=line, key=shown)


# ----------------------------------------------------------------------------------------------
# locating keys in the text (tomllib reports no positions for valid documents)

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")


def _key_lines(text: str) -> dict[tuple[str, int, str], int]:
    """Map ``(table, index, key)`` to 1-based line numbers by scanning the TOML text.

    ``key == ""`` records the line of an array-of-tables header (``[[shocks]]``). Multi-line
    strings are skipped. Good enough for the flat format of scenario files.
    """
    lines: dict[tuple[str, int, str], int] = {}
    counts: dict[str, int] = {}
    table, index = "", 0
    in_multiline: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            name = header.group(2).strip().strip("\"'")
            if header.group(1) == "[[":
                index = counts.get(name, -1) + 1
                counts[name] = index
            else:
                index = 0
            table = name
            lines.setdefault((table, index, ""), number)
            continue
        key = _KEY.match(line)
        if key:
            name = key.group(1).strip("\"'")
            lines.setdefault((table, index, name), number)
            rest = line[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
                    break
    return lines


def _syntax_error(exc: tomllib.TOMLDecodeError, file: str) -> ScenarioError:
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", text).strip() or "invalid TOML"
    if match:
        where = format_location(file=file, line=int(match.group(1)))
        return ScenarioError(f"{where}, column {match.group(2)}: invalid TOML: {message}")
    return ScenarioError(f"{file}: invalid TOML: {message}")


# ----------------------------------------------------------------------------------------------
# parsing


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file.

    Parameters
    ----------
    path
        A ``.toml`` scenario file.

    Returns
    -------
    Scenario
        With ``shocks`` as :class:`~supplygraph.analysis.shocks.Shock` objects. Selectors are not
        yet checked against a graph; call :func:`validate_scenario` for that.

    Raises
    ------
    ScenarioError
        For a missing/unreadable file, TOML syntax errors (with line and column), unknown keys,
        wrong types, cuts or approval rates outside [0, 1], bad windows -- naming file, key, line.

    Examples
    --------
    >>> from supplygraph.analysis.scenarios import load_scenario, scenario_folder
    >>> sc = load_scenario(scenario_folder() / "full-separation-ban.toml")
    >>> sc.name
    'full-separation-ban'
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{p}: scenario file not found"
        raise ScenarioError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{p}: cannot read scenario file: {exc}"
        raise ScenarioError(msg) from None
    return parse_scenario(text, path=p)


def parse_scenario(text: str, *, path: str | Path | None = None) -> Scenario:
    """Parse scenario TOML text (see the module docstring for the format).

    Parameters
    ----------
    text
        The TOML document.
    path
        Where it came from; its name is used in error messages and as the default ``name``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        As :func:`load_scenario`.

    Examples
    --------
    >>> sc = parse_scenario('name = "x"\\n[[shocks]]\\nnode = "CHN:separation"\\ncut = 0.5\\n')
    >>> sc.shocks[0].cut
    0.5
    """
    p = Path(path) if path is not None else None
    file = p.name if p is not None else "<string>"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, file) from None
    lines = _key_lines(text)

    def fail(message: str, table: str = "", index: int = 0, key: str | None = None) -> None:
        line = lines.get((table, index, key or "")) if key else None
        if line is None:
            line = lines.get((table, index, ""))
        shown = _shown_key(table, index, key)
        where = format_location(file=file, line=line, key=shown)
        raise ScenarioError(f"{where}: {message}")

    for key in data:
        if key not in TOP_KEYS:
            fail(f"unknown key {key!r} (allowed: {', '.join(sorted(TOP_KEYS))})", key=key)

    name = data.get("name", p.stem if p is not None else "scenario")
    if not isinstance(name, str) or not name.strip():
        fail("name must be a non-empty string", key="name")
    description = data.get("description", "")
    if not isinstance(description, str):
        fail("description must be a string", key="description")
    sources = _str_list(data.get("sources", []), lambda m: fail(m, key="sources"), "sources")
    assumptions = _str_list(
        data.get("assumptions", []), lambda m: fail(m, key="assumptions"), "assumptions"
    )
    model = data.get("model", "linear")
    if model not in MODELS:
        fail(f"model must be one of {', '.join(MODELS)}, got {model!r}", key="model")
    raw_date = data.get("start_date")
    start_date: _dt.date | None = None
    if raw_date is not None:
        if isinstance(raw_date, _dt.datetime):
            start_date = raw_date.date()
        elif isinstance(raw_date, _dt.date):
            start_date = raw_date
        elif isinstance(raw_date, str):
            try:
                start_date = _dt.date.fromisoformat(raw_date)
            except ValueError:
                fail(f"start_date must be a date (YYYY-MM-DD), got {raw_date!r}", key="start_date")
        else:
            fail("start_date must be a date (YYYY-MM-DD)", key="start_date")

    raw_shocks = data.get("shocks", [])
    if not isinstance(raw_shocks, list) or not all(isinstance(s, dict) for s in raw_shocks):
        fail("shocks must be an array of tables ([[shocks]])", key="shocks")
    raw_capacity = data.get("capacity", [])
    if not isinstance(raw_capacity, list) or not all(isinstance(s, dict) for s in raw_capacity):
        fail("capacity must be an array of tables ([[capacity]])", key="capacity")
    if not raw_shocks and not raw_capacity:
        fail("a scenario needs at least one [[shocks]] or [[capacity]] table")

    shocks = []
    for i, spec in enumerate(raw_shocks):
        shocks.append(_parse_shock_table(spec, i, lambda m, k=None, i=i: fail(m, "shocks", i, k)))
    capacity = []
    for i, spec in enumerate(raw_capacity):
        capacity.append(
            _parse_capacity_table(
                spec,
                lines.get(("capacity", i, "")),
                lambda m, k=None, i=i: fail(m, "capacity", i, k),
            )
        )

    response = None
    if "response" in data:
        response = _parse_response_table(data["response"], fail)

    return Scenario(
        response=response,
        name=name.strip(),
        description=description.strip(),
        sources=tuple(sources),
        model=model,
        shocks=tuple(shocks),
        capacity=tuple(capacity),
        start_date=start_date,
        assumptions=tuple(assumptions),
        path=p,
        shock_specs=tuple(dict(s) for s in raw_shocks),
        lines=lines,
    )


def _shown_key(table: str, index: int, key: str | None) -> str | None:
    """How a key is named in messages: ``shocks[2].cut``, ``response.model``, ``name``."""
    if not table or not key:
        return key or None
    if table in ("shocks", "capacity"):
        return f"{table}[{index + 1}].{key}"
    return f"{table}.{key}"


def _str_list(value: Any, fail: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"{key} must be a string or a list of strings")
    return list(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _range_value(value: Any, key: str, fail: Any) -> tuple[Any, tuple[float, float, float] | None]:
    """A number, or a range ``[low, high]`` / ``[low, value, high]``: (value, range or None).

    Anything else is returned as is (the caller's own checks reject it); a malformed range is
    reported on ``key``.
    """
    if not isinstance(value, list):
        return value, None
    if len(value) not in (2, 3) or not all(_number(v) for v in value):
        fail(f"{key} range must be [low, high] or [low, value, high] (numbers), got {value!r}", key)
    nums = [float(v) for v in value]
    low, high = nums[0], nums[-1]
    mid = nums[1] if len(nums) == 3 else (low + high) / 2.0
    if not low <= mid <= high:
        fail(f"{key} range must run low <= value <= high, got {value!r}", key)
    return mid, (low, mid, high)


def _range_options(spec: dict[str, Any], has_range: bool, fail: Any) -> tuple[Any, Any]:
    """The ``dist`` and ``group`` keys of a table (only with a range)."""
    from supplygraph.schema import DISTRIBUTIONS

    dist, group = spec.get("dist"), spec.get("group")
    for key, val in (("dist", dist), ("group", group)):
        if val is not None and not has_range:
            fail(f"{key} applies to a range: give the value as [low, high]", key)
        if val is not None and (not isinstance(val, str) or not val.strip()):
            fail(f"{key} must be a non-empty string", key)
    if dist is not None and dist.strip().lower() not in DISTRIBUTIONS:
        fail(f"unknown distribution {dist!r} (use one of: {', '.join(DISTRIBUTIONS)})", "dist")
    return (dist.strip().lower() if dist else None), (group.strip() if group else None)


def _selector_text(spec: dict[str, Any], fail: Any) -> str:
    """Turn the selector keys of one table into shock text (without the ``=cut`` suffix)."""
    present = [k for k in SELECTOR_KEYS if k in spec]
    for key in present:
        if not isinstance(spec[key], str) or not spec[key].strip():
            fail(f"{key} must be a non-empty string", key)
    if "selector" in present:
        others = [k for k in present if k != "selector"]
        if others:
            fail(f"selector cannot be combined with {', '.join(others)}", others[0])
        text = spec["selector"].strip()
        if "=" in text:
            fail(
                "write the cut as cut = ... or approval_rate = ..., not inside selector", "selector"
            )
        return text
    if "node" in present:
        others = [k for k in present if k != "node"]
        if others:
            fail(f"node cannot be combined with {', '.join(others)}", others[0])
        return spec["node"].strip()
    if "from" in present or "to" in present:
        if "from" not in present:
            fail("to needs from (the exporting country@stage)", "to")
        if "to" not in present:
            fail("from needs to (the importing country, optionally @stage)", "from")
        others = [k for k in present if k not in ("from", "to")]
        if others:
            fail(f"from/to cannot be combined with {', '.join(others)}", others[0])
        return f"{spec['from'].strip()}->{spec['to'].strip()}"
    if "country" in present:
        country = spec["country"].strip()
        return f"{country}@{spec['stage'].strip()}" if "stage" in present else country
    if "stage" in present:
        return f"@{spec['stage'].strip()}"
    fail(f"no selector: give one of {', '.join(SELECTOR_KEYS[:5])} (+ to)")
    return ""  # pragma: no cover


def _parse_shock_table(spec: dict[str, Any], index: int, fail: Any) -> Shock:
    from supplygraph.analysis.shocks import parse_shock

    for key in spec:
        if key not in SHOCK_KEYS:
            fail(
                f"unknown key {key!r} in [[shocks]] (allowed: {', '.join(sorted(SHOCK_KEYS))})", key
            )
    text = _selector_text(spec, fail)

    if "cut" in spec and "approval_rate" in spec:
        fail("give cut or approval_rate, not both", "approval_rate")
    cut = 1.0
    uncertain = None
    if "cut" in spec:
        value, rng = _range_value(spec["cut"], "cut", fail)
        if not _number(value):
            fail(f"cut must be a number in [0, 1], got {spec['cut']!r}", "cut")
        cut = float(value)
        if not 0.0 <= cut <= 1.0 or (rng is not None and not 0.0 <= rng[0] <= rng[2] <= 1.0):
            fail(f"cut must be in [0, 1], got {spec['cut']!r}", "cut")
        uncertain = None if rng is None else ("cut", *rng)
    elif "approval_rate" in spec:
        rate, rng = _range_value(spec["approval_rate"], "approval_rate", fail)
        if not _number(rate):
            fail(f"approval_rate must be a number in [0, 1], got {rate!r}", "approval_rate")
        if not 0.0 <= float(rate) <= 1.0 or (
            rng is not None and not 0.0 <= rng[0] <= rng[2] <= 1.0
        ):
            fail(f"approval_rate must be in [0, 1], got {spec['approval_rate']!r}", "approval_rate")
        cut = 1.0 - float(rate)
        uncertain = None if rng is None else ("approval_rate", *rng)
    dist, group = _range_options(spec, uncertain is not None, fail)

    start = spec.get("start_day", 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        fail(f"start_day must be a whole number of days >= 0, got {start!r}", "start_day")
    end = spec.get("end_day")
    if end is not None and (not isinstance(end, int) or isinstance(end, bool) or end <= start):
        fail(
            f"end_day must be a whole number of days > start_day ({start}), got {end!r}", "end_day"
        )

    filters: dict[str, Any] = {}
    for key in ("destination", "except_destination", "end_use"):
        if key in spec:
            values = _str_list(spec[key], lambda m, k=key: fail(m, k), key)
            if not values or any(not v.strip() for v in values):
                fail(
                    f"{key} must name at least one {'sector' if key == 'end_use' else 'country'}",
                    key,
                )
            filters[key] = tuple(v.strip() for v in values)
    for key in ("source", "note", "label"):
        if key in spec and not isinstance(spec[key], str):
            fail(f"{key} must be a string", key)

    try:
        shock = parse_shock(text)
    except SupplyGraphError as exc:
        bad_key = next((k for k in SELECTOR_KEYS if k in spec), None)
        fail(f"bad selector {text!r}: {_strip_location(exc)}", bad_key)
    except ValueError as exc:  # pragma: no cover - parse_shock raises ScenarioError
        bad_key = next((k for k in SELECTOR_KEYS if k in spec), None)
        fail(f"bad selector {text!r}: {exc}", bad_key)
    return _with_fields(
        shock,
        cut=cut,
        start_day=start,
        end_day=end,
        destination=filters.get("destination"),
        except_destination=filters.get("except_destination"),
        end_use=filters.get("end_use"),
        label=spec.get("label") or spec.get("note"),
        source=spec.get("source"),
        uncertain=uncertain,
        dist=dist,
        group=group,
    )


def _strip_location(exc: Exception) -> str:
    return str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)


def _with_fields(shock: Any, **values: Any) -> Any:
    """Set the fields the Shock dataclass has (unknown ones are ignored, None ones left alone)."""
    names = {f.name for f in dataclasses.fields(shock)}
    update: dict[str, Any] = {}
    for key, value in values.items():
        if key not in names or value is None:
            continue
        current = getattr(shock, key)
        if isinstance(value, tuple) and not isinstance(current, tuple | list) and current is None:
            # a Shock field typed as a single value: keep it single when there is one value
            value = value[0] if len(value) == 1 else value
        update[key] = value
    missing = [
        k
        for k in ("destination", "except_destination", "end_use")
        if values.get(k) and k not in names
    ]
    if missing:
        msg = f"this version of Shock has no {', '.join(missing)} field"
        raise ScenarioError(msg)
    return dataclasses.replace(shock, **update)


def _parse_capacity_table(spec: dict[str, Any], line: int | None, fail: Any) -> CapacityChange:
    for key in spec:
        if key not in CAPACITY_KEYS:
            fail(
                f"unknown key {key!r} in [[capacity]] (allowed: {', '.join(sorted(CAPACITY_KEYS))})",
                key,
            )
    text = _selector_text(
        {k: v for k, v in spec.items() if k in ("node", "country", "stage")}, fail
    )
    if "scale" not in spec and "capacity" not in spec:
        fail(
            "a [[capacity]] entry needs scale (a multiplier > 0 of output and flows) or "
            "capacity (the node's new capacity)"
        )
    scale, scale_rng = _range_value(spec.get("scale"), "scale", fail)
    if scale is not None and (
        not _number(scale)
        or not float(scale) > 0
        or float(scale) == float("inf")
        or (scale_rng is not None and not 0 < scale_rng[0] <= scale_rng[2] < float("inf"))
    ):
        fail(f"scale must be a finite number > 0, got {spec.get('scale')!r}", "scale")
    capacity, cap_rng = _range_value(spec.get("capacity"), "capacity", fail)
    if capacity is not None and (
        not _number(capacity)
        or not float(capacity) >= 0
        or float(capacity) == float("inf")
        or (cap_rng is not None and not 0 <= cap_rng[0] <= cap_rng[2] < float("inf"))
    ):
        fail(f"capacity must be a finite number >= 0, got {spec.get('capacity')!r}", "capacity")
    if scale_rng is not None and cap_rng is not None:
        fail("give a range on scale or on capacity, not on both", "capacity")
    uncertain = (
        ("scale", *scale_rng)
        if scale_rng is not None
        else ("capacity", *cap_rng)
        if cap_rng is not None
        else None
    )
    dist, group = _range_options(spec, uncertain is not None, fail)
    ramp = spec.get("ramp_days")
    if ramp is not None and (
        not _number(ramp) or not float(ramp) >= 0 or float(ramp) == float("inf")
    ):
        fail(f"ramp_days must be a number of days >= 0, got {ramp!r}", "ramp_days")
    start = spec.get("start_day", 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        fail(f"start_day must be a whole number of days >= 0, got {start!r}", "start_day")
    if capacity is None and (ramp is not None or "start_day" in spec):
        key = "ramp_days" if ramp is not None else "start_day"
        fail(f"{key} applies to added capacity: give capacity too", key)
    for key in ("source", "note", "label"):
        if key in spec and not isinstance(spec[key], str):
            fail(f"{key} must be a string", key)
    return CapacityChange(
        selector=text,
        scale=None if scale is None else float(scale),
        capacity=None if capacity is None else float(capacity),
        ramp_days=None if ramp is None else float(ramp),
        start_day=int(start),
        source=spec.get("source"),
        note=spec.get("note"),
        label=spec.get("label"),
        line=line,
        uncertain=uncertain,
        dist=dist,
        group=group,
    )


def _parse_response_table(spec: Any, fail: Any) -> Response:
    """The ``[response]`` table as a :class:`~supplygraph.analysis.response_options.Response`."""
    from supplygraph.analysis.response_options import Response

    def bad(message: str, key: str | None = None) -> None:
        fail(message, "response", 0, key)

    if not isinstance(spec, dict):
        fail("response must be a table ([response])", key="response")
    for key in spec:
        if key not in RESPONSE_KEYS:
            bad(
                f"unknown key {key!r} in [response] (allowed: {', '.join(sorted(RESPONSE_KEYS))})",
                key,
            )
    for key in ("model", "substitution", "rationing", "source", "note"):
        if key in spec and not isinstance(spec[key], str):
            bad(f"{key} must be a string", key)
    priority = _str_list(spec.get("priority", []), lambda m: bad(m, "priority"), "priority")
    blocs_raw = spec.get("blocs", {})
    if not isinstance(blocs_raw, dict):
        bad("blocs must be a table of lists of country codes ([response.blocs])", "blocs")
    blocs: dict[str, tuple[str, ...]] = {}
    for name, members in blocs_raw.items():
        if (
            isinstance(members, str)
            or not isinstance(members, list)
            or not all(isinstance(m, str) and m.strip() for m in members)
            or not members
        ):
            fail(
                f"bloc {name!r} must be a non-empty list of country codes",
                "response.blocs",
                0,
                name,
            )
        blocs[name] = tuple(m.strip() for m in members)
    qual = spec.get("qualification_days", 0)
    if not _number(qual) or not 0 <= float(qual) < float("inf"):
        bad(f"qualification_days must be a number of days >= 0, got {qual!r}", "qualification_days")
    try:
        return Response.of(
            spec.get("model", "rules"),
            substitution=spec.get("substitution"),
            rationing=spec.get("rationing"),
            priority=priority or None,
            blocs=blocs or None,
            qualification_days=float(qual),
        )
    except ScenarioError as exc:
        text = str(exc)
        key = next(
            (k for k in ("substitution", "rationing", "priority") if k in text),
            "model" if "response" in text else None,
        )
        bad(text, key)
        raise  # pragma: no cover - bad() raises


# ----------------------------------------------------------------------------------------------
# built-in scenarios


def scenario_folder(dataset: str = "rare-earths") -> Path:
    """Return the folder holding a built-in dataset's scenarios (``<dataset>/scenarios``).

    Examples
    --------
    >>> scenario_folder().name
    'scenarios'
    """
    try:
        from supplygraph.datasets import dataset_path

        return dataset_path(dataset) / "scenarios"
    except SupplyGraphError:
        from supplygraph.datasets import datasets_root

        folder = datasets_root() / dataset.replace("-", "_") / "scenarios"
        if folder.is_dir():
            return folder
        raise


def list_scenarios(dataset: str = "rare-earths") -> pd.DataFrame:
    """List a built-in dataset's scenarios.

    Parameters
    ----------
    dataset
        Built-in dataset name.

    Returns
    -------
    pandas.DataFrame
        One row per scenario file, sorted by name: ``name``, ``description``, ``shocks``
        (count), ``capacity`` (count), ``start_date``, ``sources`` (joined by ``"; "``), ``file``.

    Examples
    --------
    >>> "april-2025-licences" in list_scenarios()["name"].tolist()
    True
    """
    import pandas as pd

    rows = []
    for path in sorted(scenario_folder(dataset).glob("*.toml")):
        sc = load_scenario(path)
        rows.append(
            {
                "name": sc.name,
                "description": sc.description,
                "shocks": len(sc.shocks),
                "capacity": len(sc.capacity),
                "start_date": sc.start_date.isoformat() if sc.start_date else None,
                "sources": "; ".join(sc.sources),
                "file": path.name,
            }
        )
    columns = ["name", "description", "shocks", "capacity", "start_date", "sources", "file"]
    return pd.DataFrame(rows, columns=columns)


def get_scenario(name_or_path: str | Path | Scenario, dataset: str = "rare-earths") -> Scenario:
    """Return a scenario given a file path or a built-in scenario name.

    Parameters
    ----------
    name_or_path
        A path to a ``.toml`` file, or the name of a built-in scenario of ``dataset``
        (``"april-2025-licences"``). A :class:`Scenario` is returned as is.
    dataset
        Built-in dataset whose scenarios are searched for a name.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the file does not exist and no built-in scenario has that name (the message lists
        the built-in names).
    """
    if isinstance(name_or_path, Scenario):
        return name_or_path
    p = Path(name_or_path)
    if p.suffix.lower() == ".toml" or p.exists():
        return load_scenario(p)
    try:
        folder = scenario_folder(dataset)
    except SupplyGraphError:
        folder = None
    if folder is not None:
        candidate = folder / f"{name_or_path}.toml"
        if candidate.is_file():
            return load_scenario(candidate)
        for path in sorted(folder.glob("*.toml")):
            sc = load_scenario(path)
            if sc.name == str(name_or_path):
                return sc
        known = ", ".join(sorted(f.stem for f in folder.glob("*.toml"))) or "none"
    else:
        known = "none"
    msg = f"no scenario file or built-in scenario named {str(name_or_path)!r} (built-in: {known})"
    raise ScenarioError(msg)


# ----------------------------------------------------------------------------------------------
# checks and application on a graph


def validate_scenario(G: nx.DiGraph, scenario: Scenario) -> None:
    """Check a scenario against a graph: every selector and filter must match something.

    Parameters
    ----------
    G
        The supply graph.
    scenario
        A parsed scenario.

    Raises
    ------
    ScenarioError
        Naming file, line and key of the first shock or capacity entry whose selector matches
        no node or edge of ``G``, whose destination/end-use filter names a country or sector the
        graph does not have, or whose filters leave nothing to cut.

    Examples
    --------
    >>> from supplygraph.loading import load
    >>> from supplygraph.analysis.scenarios import get_scenario, validate_scenario
    >>> validate_scenario(load("rare-earths"), get_scenario("full-separation-ban"))
    """
    from supplygraph.analysis.shocks import parse_shock, resolve_shocks

    countries = {d.get("country") for _, d in G.nodes(data=True)} - {None}
    end_uses = {d.get("end_use") for _, d in G.nodes(data=True)} - {None}
    for i, shock in enumerate(scenario.shocks):
        spec = scenario.shock_specs[i] if i < len(scenario.shock_specs) else {}
        sel_key = next((k for k in SELECTOR_KEYS if k in spec), None)
        for key, known, what in (
            ("destination", countries, "country"),
            ("except_destination", countries, "country"),
            ("end_use", end_uses, "end use"),
        ):
            for value in spec.get(key, []) if isinstance(spec.get(key), list) else [spec.get(key)]:
                if value is not None and value not in known:
                    where = scenario.where("shocks", i, key)
                    msg = f"{where}: {what} {value!r} is not in the graph"
                    raise ScenarioError(msg)
        try:
            node_cut, edge_cut = resolve_shocks(G, [shock])
        except SupplyGraphError as exc:
            where = scenario.where("shocks", i, sel_key)
            msg = f"{where}: {_strip_location(exc)}"
            raise ScenarioError(msg) from None
        if not node_cut and not edge_cut:
            where = scenario.where("shocks", i, sel_key)
            msg = f"{where}: selector matches no node or edge (after its filters)"
            raise ScenarioError(msg)
    if scenario.response is not None and scenario.response.priority:
        from supplygraph.analysis.response_options import check_priority

        try:
            check_priority(G, scenario.response)
        except ScenarioError as exc:
            msg = f"{scenario.where('response', 0, 'priority')}: {exc}"
            raise ScenarioError(msg) from None
    for i, change in enumerate(scenario.capacity):
        spec_key = _capacity_key(scenario, i)
        try:
            node_cut, _ = resolve_shocks(G, [parse_shock(change.selector)])
        except SupplyGraphError as exc:
            where = scenario.where("capacity", i, spec_key)
            msg = f"{where}: {_strip_location(exc)}"
            raise ScenarioError(msg) from None
        if not node_cut:
            where = scenario.where("capacity", i, spec_key)
            msg = f"{where}: capacity selector {change.selector!r} matches no node"
            raise ScenarioError(msg)


def _one_node(scenario: Scenario, i: int, change: CapacityChange, nodes: list[Any]) -> Any:
    """The single node an absolute ``capacity`` applies to (else a precise error)."""
    if len(nodes) != 1:
        where = scenario.where("capacity", i, _capacity_key(scenario, i))
        shown = ", ".join(str(n) for n in nodes[:5]) + (" ..." if len(nodes) > 5 else "")
        msg = (
            f"{where}: capacity is absolute, so its selector must match one node; "
            f"{change.selector!r} matches {len(nodes)} ({shown})"
        )
        raise ScenarioError(msg)
    return nodes[0]


def capacity_tranches(
    G: nx.DiGraph, scenario: Scenario | None
) -> list[tuple[Any, float, int, float | None]]:
    """The capacity a scenario adds, node by node, with when it starts and how fast it ramps.

    Parameters
    ----------
    G
        The graph *before* :func:`apply_capacity`.
    scenario
        The scenario (None: no tranches).

    Returns
    -------
    list of (node, added, start_day, ramp_days)
        ``added`` in the node's value unit (new capacity minus the capacity it had, which is
        its value when it had none); ``ramp_days`` None means the node's own ``ramp_days``.
    """
    from supplygraph.analysis.shocks import parse_shock, resolve_shocks

    out: list[tuple[Any, float, int, float | None]] = []
    if scenario is None:
        return out
    current: dict[Any, float] = {}
    for change in scenario.capacity:
        nodes = list(resolve_shocks(G, [parse_shock(change.selector)])[0])
        if change.scale is not None:
            for node in nodes:
                d = G.nodes[node]
                base = current.get(node, _capacity_of(d))
                current[node] = base * change.scale
        if change.capacity is not None and len(nodes) == 1:
            node = nodes[0]
            before = current.get(node, _capacity_of(G.nodes[node]))
            out.append(
                (node, max(change.capacity - before, 0.0), change.start_day, change.ramp_days)
            )
            current[node] = change.capacity
    return out


def _capacity_of(d: dict[str, Any]) -> float:
    for key in ("capacity", "value"):
        v = d.get(key)
        if v is not None:
            try:
                return float(v)
            except (TypeError, ValueError):
                continue
    return 0.0


def _capacity_key(scenario: Scenario, i: int) -> str | None:
    for key in ("node", "country", "stage"):
        if ("capacity", i, key) in scenario.lines:
            return key
    return None


def apply_capacity(G: nx.DiGraph, scenario: Scenario | None) -> nx.DiGraph:
    """Return a copy of ``G`` with the scenario's ``[[capacity]]`` changes applied.

    Each change multiplies the selected nodes' ``value`` (and ``external_input``, so their own
    input mix is unchanged) and the ``flow`` of their outbound edges by ``scale``. Changes apply
    in file order and compound when they select the same node. ``G`` is never modified; when the
    scenario has no capacity changes, ``G`` itself is returned.

    Parameters
    ----------
    G
        The supply graph.
    scenario
        A scenario (or None).

    Returns
    -------
    networkx.DiGraph
        A scaled copy (``G.graph["provenance"]["assumptions"]`` gains one sentence per change).

    Raises
    ------
    ScenarioError
        When a selector matches no node.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["a", "b"])
    >>> G.add_node("X:a", stage="a", country="X", value=10.0)
    >>> G.add_node("Y:b", stage="b", country="Y", value=10.0)
    >>> G.add_edge("X:a", "Y:b", flow=10.0)
    >>> sc = parse_scenario('[[capacity]]\\nnode = "X:a"\\nscale = 2\\n')
    >>> apply_capacity(G, sc).edges["X:a", "Y:b"]["flow"]
    20.0
    """
    if scenario is None or not scenario.capacity:
        return G
    import copy

    from supplygraph.analysis.shocks import parse_shock, resolve_shocks

    H = G.copy()
    H.graph = copy.deepcopy(G.graph)
    notes: list[str] = []
    for i, change in enumerate(scenario.capacity):
        try:
            node_cut, _ = resolve_shocks(H, [parse_shock(change.selector)])
        except SupplyGraphError as exc:
            where = scenario.where("capacity", i, _capacity_key(scenario, i))
            msg = f"{where}: {_strip_location(exc)}"
            raise ScenarioError(msg) from None
        if not node_cut:
            where = scenario.where("capacity", i, _capacity_key(scenario, i))
            msg = f"{where}: capacity selector {change.selector!r} matches no node"
            raise ScenarioError(msg)
        if change.scale is not None:
            for node in node_cut:
                data = H.nodes[node]
                for base in ("value", "external_input", "capacity"):
                    for attr in (base, f"{base}_low", f"{base}_high"):  # ranges scale too
                        if data.get(attr) is not None:
                            data[attr] = float(data[attr]) * change.scale
                for _, _, edata in H.out_edges(node, data=True):
                    for attr in ("flow", "flow_low", "flow_high"):
                        if edata.get(attr) is not None:
                            edata[attr] = float(edata[attr]) * change.scale
            notes.append(
                f"Scenario {scenario.name!r}: value and outbound flows of {change.selector} "
                f"scaled by {change.scale:g} (customers' input shares recomputed from the scaled "
                "flows)."
            )
        if change.capacity is not None:
            node = _one_node(scenario, i, change, list(node_cut))
            data = H.nodes[node]
            value = data.get("value")
            if value is not None and change.capacity < float(value):
                where = scenario.where("capacity", i, "capacity")
                msg = (
                    f"{where}: capacity {change.capacity:g} is below the value of {node} "
                    f"({float(value):g}); capacity is the most it can produce"
                )
                raise ScenarioError(msg)
            data["capacity"] = change.capacity
            when = f" from day {change.start_day}" if change.start_day else ""
            ramp = f", ramping up over {change.ramp_days:g} days" if change.ramp_days else ""
            notes.append(
                f"Scenario {scenario.name!r}: capacity of {node} set to {change.capacity:g}"
                f"{when}{ramp} (spare capacity: used only by the supply responses)."
            )
    prov = H.graph.setdefault("provenance", {})
    if isinstance(prov, dict):
        prov.setdefault("assumptions", [])
        prov["assumptions"] = [*prov["assumptions"], *notes]
    return H
