"""Checks of single values, shared by the case types (maths core): a number in a range, one
of a set of words, a short text. Each raises :class:`~hexapod.errors.InputError` naming the
field, with the value found and what is allowed."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import numpy as np

from hexapod import policy
from hexapod.errors import InputError


def show(value: Any) -> str:
    """A short printable form of a value for a message (at most 60 characters)."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        text = f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    return text if len(text) <= 60 else text[:57] + "..."


def check_number(field: str, value: Any, *, minimum: float | None = None,
                 above: float | None = None, maximum: float | None = None,
                 below: float | None = None, integer: bool = False) -> float:
    """``value`` as a float if it is a finite number in the range, else :class:`InputError`.

    ``minimum``/``maximum`` are inclusive bounds, ``above``/``below`` exclusive ones.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"must be a number, got {show(value)}", field)
    try:
        number = float(value)
    except OverflowError:
        raise InputError(f"must be finite, got {show(value)}", field) from None
    if not math.isfinite(number):
        raise InputError(f"must be finite, got {show(value)}", field)
    if integer and number != int(number):
        raise InputError(f"must be a whole number, got {show(value)}", field)
    if minimum is not None and not number >= minimum:
        raise InputError(f"must be >= {minimum:g}, got {show(value)}", field)
    if above is not None and not number > above:
        raise InputError(f"must be > {above:g}, got {show(value)}", field)
    if maximum is not None and not number <= maximum:
        raise InputError(f"must be <= {maximum:g}, got {show(value)}", field)
    if below is not None and not number < below:
        raise InputError(f"must be < {below:g}, got {show(value)}", field)
    return number


def check_word(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of the ``allowed`` words, else :class:`InputError`."""
    if not isinstance(value, str) or value not in allowed:
        raise InputError(f"{show(value)} is not allowed; allowed: {', '.join(allowed)}", field)
    return value


def check_text(field: str, value: Any, longest: int = policy.MAX_NAME_CHARS,
               required: bool = False) -> str:
    """``value`` if it is text of at most ``longest`` characters without control characters."""
    if not isinstance(value, str):
        raise InputError(f"must be text, got {show(value)}", field)
    if required and not value.strip():
        raise InputError("missing (required): say what it is", field)
    if len(value) > longest:
        raise InputError(f"is {len(value)} characters long; at most {longest} allowed", field)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InputError(f"must not contain control characters, got {show(value)}", field)
    return value
