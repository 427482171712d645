"""Exit codes of the command line (contract section 5) and the mapping of errors to them.

0 ok; 1 the case cannot be planned safely; 2 bad input or usage (click's own code too); 3 an
internal error: one line asking for a report, the traceback only with ``--debug``; 130 after
Ctrl-C.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hexapod.errors import GeometryError, HexapodError, InternalError, PlanRefused

F = TypeVar("F", bound=Callable[..., Any])

#: Exit code of an internal error (a bug).
EXIT_INTERNAL = 3
#: Exit code after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


class BadInputError(click.ClickException):
    """Bad input or usage: a clean message, exit code 2."""

    exit_code = 2


class UnsafePlanError(click.ClickException):
    """The case cannot be planned safely: the reasons, exit code 1."""

    exit_code = 1


class InternalFailure(click.ClickException):
    """A bug: one line asking for a report, exit code 3."""

    exit_code = EXIT_INTERNAL


def map_error(exc: Exception, debug: bool = False) -> click.ClickException:
    """The click exception (message and exit code) for an error raised by a command."""
    if isinstance(exc, click.ClickException):
        return exc
    if isinstance(exc, PlanRefused):
        from hexapod.io.messages import refusal_lines

        return UnsafePlanError("\n".join(refusal_lines(exc)))
    if isinstance(exc, GeometryError):
        return UnsafePlanError(f"the case cannot be planned safely: {exc}")
    if isinstance(exc, HexapodError) and not isinstance(exc, InternalError):
        return BadInputError(str(exc))
    if isinstance(exc, OSError) and not isinstance(exc, InternalError):
        where = f" ({exc.filename})" if exc.filename else ""
        return BadInputError(f"cannot read or write a file{where}: {exc.strerror or exc}")
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    return InternalFailure(f"internal error ({type(exc).__name__}{': ' if first else ''}"
                           f"{first}); this is a bug in hexapod, please report it with the "
                           "command and the case file (add --debug for the details)")


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("hexapod.debug"))


def domain_errors(func: F) -> F:
    """Turn errors into clean messages: bad input exit 2, unsafe/impossible exit 1, a bug
    exit 3."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, BrokenPipeError):  # the group ends a closed pipe quietly
            raise
        except Exception as exc:
            raise map_error(exc, _debug()) from exc
    return wrapper  # type: ignore[return-value]


class HexapodGroup(click.Group):
    """The command group: every command's errors are mapped to the contract's exit codes, even
    a command without :func:`domain_errors`; Ctrl-C exits 130 with one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            # the reader of stdout (e.g. `| head`) stopped reading: nothing to report, and
            # nothing more to write to it (Python's own flush at exit would fail again)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(0) from None
        except Exception as exc:
            raise map_error(exc, bool(ctx.meta.get("hexapod.debug"))) from exc
