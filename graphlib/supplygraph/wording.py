"""Small helpers for the plain-English sentences that analyses and reports print."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["join_words"]


def join_words(items: Iterable[str], limit: int | None = None) -> str:
    """Join words as a sentence lists them: ``a``, ``a and b``, ``a, b and c``.

    Parameters
    ----------
    items
        The words, in order.
    limit
        At most this many names, then ``"and N more"``; None: all of them.

    Returns
    -------
    str
        The list in words (empty for no items).

    Examples
    --------
    >>> join_words(["EU", "JPN", "USA"])
    'EU, JPN and USA'
    >>> join_words(["a", "b", "c", "d"], limit=2)
    'a, b and 2 more'
    """
    words = list(items)
    if limit is not None and len(words) > limit:
        return ", ".join(words[:limit]) + f" and {len(words) - limit} more"
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
