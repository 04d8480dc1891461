"""JSON from files this app does not trust, and checks of the values in it.

Model folders, uploaded zips, progress files and the training lock file are
all read through :func:`loads` / :func:`read`, which refuse, with
:class:`JSONRefused` (a ValueError) and a one-line reason, what Python's
``json`` module would let through: ``NaN`` and ``Infinity`` literals, numbers
beyond a float's range (``1e999`` would become ``inf``), integers of more than
:data:`MAX_INT_DIGITS` digits (which would overflow on conversion to float or
hit Python's digit limit), documents nested deeper than :data:`MAX_DEPTH` and
documents larger than the caller's limit. What is left is plain dicts, lists,
strings, bools, None, finite floats and bounded ints; the helpers below check
their types and ranges without ever raising anything but a ``bool`` answer.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from vaeapp.core.text import cut

MAX_DEPTH = 16  # our documents nest 3 deep (metrics -> history -> row)
MAX_INT_DIGITS = 30


class JSONRefused(ValueError):
    """A JSON document was refused; the message says why, in one line."""


def one_line(text: Any, limit: int = 300) -> str:
    """``text`` on one line of visible characters, cut to ``limit``."""
    return cut(text, limit)


def _refuse_constant(name: str) -> Any:
    raise JSONRefused(f"holds {name}, which is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(f"holds the number {one_line(text, 40)}, beyond any float")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONRefused(f"holds an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


def _depth(value: Any) -> int:
    """How deep lists and dicts nest in ``value`` (iterative: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads(data: bytes | str, what: str, max_bytes: int) -> Any:
    """Parse ``data`` (named ``what`` in messages) or raise JSONRefused."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise JSONRefused(f"{what} is larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except JSONRefused as error:
        raise JSONRefused(f"{what} {error}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        # ValueError covers JSONDecodeError and UnicodeDecodeError.
        raise JSONRefused(f"{what} is not valid JSON: {one_line(error, 120)}") from None
    if _depth(value) > MAX_DEPTH:
        raise JSONRefused(f"{what} nests deeper than {MAX_DEPTH} levels")
    return value


def read(path: Path, max_bytes: int) -> Any:
    """Read and parse the file ``path``; OSError if it cannot be read,
    JSONRefused if it is too large or not acceptable JSON."""
    path = Path(path)
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    return loads(data, path.name, max_bytes)


def finite_number(value: Any) -> bool:
    """Whether ``value`` is an int or float (not bool) that is finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond any float
        return False


def whole_number(value: Any, low: int, high: int) -> bool:
    """Whether ``value`` is an int (not bool) in ``[low, high]``."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    )


def number_or_none(value: Any) -> bool:
    """Whether ``value`` is None or a finite number (what a curve can plot)."""
    return value is None or finite_number(value)
