"""The options of a supply response: which model, where customers re-source, how suppliers ration.

:class:`Response` is the one value every response-aware analysis takes (``response=``): the
model (``"none"`` lower bound, ``"rules"`` behavioural estimate, ``"optimal"`` LP upper bound;
see :mod:`supplygraph.analysis.response` for the equations), the substitution scope, the
rationing rule and its priority classes, the qualification delay of new links and the optimal
program's floor. It sits below the solvers so that they all read it from one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DOMESTIC",
    "END_USE_PREFIX",
    "FLOORS",
    "RATIONING",
    "RESPONSES",
    "SUBSTITUTIONS",
    "Response",
    "check_priority",
]

#: Priority class "same country as the supplier" (see :class:`Response`).
DOMESTIC = "domestic"
#: Prefix of an end-use class in a priority list (``"end_use:defense"``).
END_USE_PREFIX = "end_use:"
#: The supply responses, from the lower to the upper bound.
RESPONSES = ("none", "rules", "optimal")
#: Re-sourcing scopes: none, existing links only, or any supplier of the same stage and group.
SUBSTITUTIONS = ("none", "edges", "stage")
#: How a supplier shares what it can spare among customers asking for more.
RATIONING = ("proportional", "priority", "maxmin")
#: What every target keeps at least in the optimal response's programs.
FLOORS = ("no-response", "zero")


@dataclass(frozen=True)
class Response:
    """How the supply chain reacts to a shock.

    Parameters
    ----------
    model
        ``"none"`` (no reaction: the linear/Leontief propagation, the lower bound), ``"rules"``
        (behavioural re-sourcing and rationing) or ``"optimal"`` (the linear-programming upper
        bound).
    substitution
        Where a short customer may buy more: ``"edges"`` (its existing suppliers), ``"stage"``
        (also any supplier of the same stage and input group that no shock blocks for it) or
        ``"none"`` (nowhere).
    rationing
        How a supplier shares its spare output among customers asking for more (``rules``):
        ``"proportional"`` (in proportion to what they ask), ``"priority"`` (classes in the order
        of ``priority``, proportional within a class) or ``"maxmin"`` (every asking customer gets
        the same share of its normal intake, up to what it asks). Customers always keep their
        no-response share first (incumbents first).
    priority
        Customer classes for ``rationing="priority"``, first served first: ``"domestic"`` (same
        country as the supplier), a bloc name from ``blocs``, a country code, or
        ``"end_use:<sector>"``. Customers in no class come last.
    blocs
        Named groups of countries for ``priority`` (``{"allies": ("USA", "JPN", "EU")}``).
    qualification_days
        Days before a new supplier link (``substitution="stage"``) can deliver, in timelines.
    floor
        ``optimal`` only: ``"no-response"`` (default) -- the program may not leave any target
        with less than it gets with no response, the guarantee the rules give incumbents, so
        each end use's bound is what reallocation could add *without taking from anyone*;
        ``"zero"`` -- no floor: the pure physical bound, in which one end use may take every
        unit another one had.

    Examples
    --------
    >>> Response.of("rules").rationing
    'proportional'
    >>> Response.of("rules", priority=["domestic"]).rationing
    'priority'
    """

    model: str = "none"
    substitution: str = "edges"
    rationing: str = "proportional"
    priority: tuple[str, ...] = ()
    blocs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    qualification_days: float = 0.0
    floor: str = "no-response"

    def __post_init__(self) -> None:
        if self.model not in RESPONSES:
            raise ScenarioError(
                f"unknown response {self.model!r}: use one of {', '.join(RESPONSES)}"
            )
        if self.substitution not in SUBSTITUTIONS:
            raise ScenarioError(
                f"unknown substitution {self.substitution!r}: use one of {', '.join(SUBSTITUTIONS)}"
            )
        if self.rationing not in RATIONING:
            raise ScenarioError(
                f"unknown rationing rule {self.rationing!r}: use one of {', '.join(RATIONING)}"
            )
        if self.floor not in FLOORS:
            raise ScenarioError(f"unknown floor {self.floor!r}: use one of {', '.join(FLOORS)}")
        object.__setattr__(self, "priority", tuple(str(p) for p in self.priority))
        object.__setattr__(
            self, "blocs", {str(k): tuple(str(c) for c in v) for k, v in dict(self.blocs).items()}
        )
        if self.rationing == "priority" and not self.priority:
            raise ScenarioError("rationing 'priority' needs a priority list (e.g. ['domestic'])")
        if self.priority and self.rationing != "priority":
            raise ScenarioError(
                f"a priority list is used only with rationing 'priority', not {self.rationing!r}"
            )
        q = self.qualification_days
        if (
            isinstance(q, bool)
            or not isinstance(q, int | float)
            or not 0 <= float(q) < float("inf")
        ):
            raise ScenarioError(f"qualification_days must be a number >= 0, got {q!r}")

    @classmethod
    def of(cls, value: Response | str | None = None, **overrides: Any) -> Response:
        """Return a :class:`Response` from a model name (or None: ``"none"``) and options.

        A ``priority`` list without an explicit ``rationing`` selects ``rationing="priority"``.
        """
        if isinstance(value, Response):
            base = value
        elif value is None:
            base = cls()
        elif isinstance(value, str):
            base = None
            model = value
        else:
            raise ScenarioError(f"response must be a name or a Response, got {value!r}")
        opts = {k: v for k, v in overrides.items() if v is not None}
        if opts.get("priority") and "rationing" not in opts:
            opts["rationing"] = "priority"
        if base is None:
            return cls(model=model, **opts)
        if not opts:
            return base
        import dataclasses

        return dataclasses.replace(base, **opts)

    def describe(self) -> str:
        """One line: the model and its options (``"rules (edges, proportional)"``)."""
        if self.model == "none":
            return "none"
        parts = [self.substitution]
        if self.model == "optimal" and self.floor == "zero":
            parts.append("no floor")
        if self.model == "rules":
            rule = self.rationing
            if self.priority:
                rule += ": " + " > ".join(self.priority)
            parts.append(rule)
        return f"{self.model} ({', '.join(parts)})"


def check_priority(G: nx.DiGraph, response: Response) -> None:
    """Raise :class:`ScenarioError` when a priority entry names nothing in ``G``."""
    countries = {str(d.get("country")) for _, d in G.nodes(data=True)}
    end_uses = {str(d.get("end_use")) for _, d in G.nodes(data=True) if d.get("end_use")}
    for item in response.priority:
        if item == DOMESTIC or item in response.blocs or item in countries:
            continue
        if item.startswith(END_USE_PREFIX) and item[len(END_USE_PREFIX) :] in end_uses:
            continue
        msg = (
            f"priority class {item!r} is neither 'domestic', a bloc ({', '.join(response.blocs) or 'none'}), "
            f"a country of the graph nor 'end_use:<sector>' with a sector of the graph"
        )
        raise ScenarioError(msg)
