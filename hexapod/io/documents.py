"""Reading a TOML or JSON document from a file, guarded against hostile files (files layer).

Case files, hardware catalogues and measurement files are all read here: only a regular file
of at most :data:`~hexapod.policy.MAX_CASE_FILE_BYTES` (a folder, FIFO or device is refused
without reading or waiting on it), UTF-8 with an optional byte-order mark, no NUL characters,
no key given twice in a JSON object, and no nesting or integers too large to read. Every
problem is the caller's error class (a :class:`~hexapod.errors.KeyPathError`) with the file
named.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from hexapod import policy
from hexapod.errors import KeyPathError


def _read_bytes(path: Path, label: str, what: str, error: type[KeyPathError]) -> bytes:
    """The bytes of a regular file of at most :data:`~hexapod.policy.MAX_CASE_FILE_BYTES`;
    a folder, FIFO, device or larger file is refused without reading (or waiting on) it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error("", f"{what} {label} does not exist") from None
    except OSError as exc:
        raise error("", f"cannot read {what} {label}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error("", f"{label} is a folder, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise error("", f"{label} is not a regular file (a device, pipe or socket); "
                            f"give a {what}")
        if info.st_size > policy.MAX_CASE_FILE_BYTES:
            raise error("", f"{label} is {info.st_size} bytes; a {what} is at most "
                            f"{policy.MAX_CASE_FILE_BYTES} bytes")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(policy.MAX_CASE_FILE_BYTES + 1)
    except OSError as exc:
        raise error("", f"cannot read {what} {label}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > policy.MAX_CASE_FILE_BYTES:
        raise error("", f"{label} is larger than {policy.MAX_CASE_FILE_BYTES} bytes")
    return data


class _Table(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON ``object_pairs_hook``: keep every key once and remember the repeated ones."""
    table = _Table()
    repeated = []
    for key, value in pairs:
        if key in table:
            repeated.append(key)
        table[key] = value
    table.duplicates = tuple(repeated)
    return table


def _refuse_duplicates(data: Any, label: str, error: type[KeyPathError]) -> None:
    """A key given twice in one JSON object is refused with its key path (TOML does so too;
    JSON would silently keep the last value)."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, _Table):
            if node.duplicates:
                raise error(f"{path}{node.duplicates[0]}",
                                "given twice in the same table; give each key once", label)
            stack += [(f"{path}{k}.", v) for k, v in reversed(node.items())]
        elif isinstance(node, list):
            stack += [(f"{path.rstrip('.')}[{i}].", v) for i, v in reversed(list(
                enumerate(node)))]


def _decode(raw: bytes, label: str, is_json: bool, error: type[KeyPathError]) -> Any:
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is accepted and dropped
    except UnicodeDecodeError as exc:
        raise error("", f"{label} is not UTF-8 text (byte {exc.start})") from None
    if "\0" in text:
        raise error("", f"{label} holds NUL characters: not a text file")
    try:
        if is_json:
            data = json.loads(text, object_pairs_hook=_pairs)
            _refuse_duplicates(data, label, error)
            return data
        return tomllib.loads(text)
    except KeyPathError:
        raise
    except json.JSONDecodeError as exc:
        raise error("", f"{label} is not valid JSON: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error("", f"{label} is not valid TOML: {exc}") from None
    except RecursionError:
        raise error("", f"{label} nests tables or lists too deeply") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise error("", f"{label} holds a value that cannot be read (an integer of "
                        f"thousands of digits?): {str(exc).split(';')[0]}") from None


def read_document(path: str | Path, what: str, error: type[KeyPathError]) -> Any:
    """The parsed document of a file: ``.json`` as JSON, anything else as TOML.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file is, for messages ("case file", "catalogue file", ...).
    error : KeyPathError subclass
        Raised (with an empty key path and the file named) for every problem.
    """
    p = Path(path)
    label = str(path)
    return _decode(_read_bytes(p, label, what, error), label, p.suffix.lower() == ".json",
                   error)
