"""Exceptions raised by hexapod.

Every error the library raises on purpose is a :class:`HexapodError`. The command line maps
them to exit codes (contract section 5):

* :class:`InputError`, :class:`CaseError`, :class:`CatalogueError` -- bad input, exit code 2;
* :class:`GeometryError` (and its subclasses) and :class:`PlanRefused` -- the case cannot be
  planned safely, exit code 1;
* anything else (including :class:`InternalError`) is a bug, exit code 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class HexapodError(Exception):
    """Base class of every error hexapod raises on purpose."""


class InputError(HexapodError, ValueError):
    """An argument has the wrong shape, a non-finite value or a value outside its domain.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    field : str, optional
        The field (dataclass attribute or option) that holds the bad value, e.g.
        ``"ap_angulation_deg"``; the file parser prefixes it with its section to make the key
        path.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class KeyPathError(InputError):
    """Bad input at a key path of a file (case file or hardware catalogue).

    Parameters
    ----------
    path : str
        Dotted key path, e.g. ``"deformity.ap_angulation_dir"``.
    message : str
        What is wrong and what is allowed.
    source : str, optional
        The file the key was read from.
    """

    kind = "input"

    def __init__(self, path: str, message: str, source: str | None = None) -> None:
        self.path = path
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{self.kind} key '{path}': {message}" if path else
                         f"{where}{message}")
        self.message = message
        self.field = path or None


class CaseError(KeyPathError):
    """A case file is invalid: names the key path, the value and what is allowed."""

    kind = "case"


class CatalogueError(KeyPathError):
    """A hardware catalogue is invalid: names the key path and what is allowed."""

    kind = "catalogue"


class InternalError(HexapodError):
    """A bug: a state the program should never reach. The command line reports it with exit
    code 3 and asks for a report."""


class GeometryError(HexapodError):
    """A frame cannot take the requested pose or lengths."""


class ConvergenceError(GeometryError):
    """Forward kinematics did not converge (lengths that no assembly of the frame reaches,
    or a start guess on the wrong side of a singularity)."""


class SingularFrameError(GeometryError):
    """The frame is at or near a singular configuration (Jacobian badly conditioned)."""


class PlanRefused(HexapodError):
    """The case cannot be planned safely; ``violations`` lists every reason found.

    Parameters
    ----------
    violations : sequence of hexapod.findings.Violation
        Each with its ``kind``, ``day``, ``strut``, ``value`` and ``limit``; the outputs layer
        (:func:`hexapod.io.messages.violation_message`) says it in words.
    suggestions : sequence, optional
        Changes to the case that were checked to give a plan.
    """

    def __init__(self, violations: Sequence[Any], suggestions: Sequence[Any] = ()) -> None:
        self.violations = tuple(violations)
        self.suggestions = tuple(suggestions)
        kinds = ", ".join(
            f"{v.kind}(day={v.day}, strut={v.strut}, value={v.value}, limit={v.limit})"
            for v in self.violations)
        super().__init__(f"plan refused: {kinds}")
