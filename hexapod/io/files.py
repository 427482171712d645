"""Writing output files safely: atomically, all of a command's outputs or none.

Every output is rendered into a temporary file beside its target (same folder, so the final
rename is atomic), and only when every output of the command is ready are they renamed into
place. A target is never replaced unless ``force`` is given, and then only if it is a regular
file (never a folder, device, pipe or symbolic link). Temporary names contain
:data:`TEMP_MARK` so a leftover from a killed run is recognisable; they are removed on any
error, on SIGINT and on SIGTERM. After SIGKILL a temporary file may remain, but never a partial
file at a target path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from hexapod.errors import InputError

#: Part of the name of every temporary file or folder this module makes.
TEMP_MARK = ".hexapod-partial-"

Writer = Callable[[Path], None] | str | bytes


def _write(tmp: Path, writer: Writer) -> None:
    if isinstance(writer, str):
        tmp.write_text(writer, "utf-8")
    elif isinstance(writer, bytes):
        tmp.write_bytes(writer)
    else:
        writer(tmp)


def check_target(path: str | Path, force: bool, what: str = "output") -> Path:
    """Refuse an output path that cannot be written: empty, an existing file without
    ``force``, anything but a regular file, a missing or read-only folder, a folder under a
    regular file.

    Raises
    ------
    InputError
        What is wrong, naming the path.
    """
    if str(path) == "":
        raise InputError(f"the {what} path is empty")
    target = Path(path)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        raise InputError(f"{target}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise InputError(f"{target}: cannot use this path ({exc.strerror})") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{target} is a folder; give a file name")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{target} exists and is not a regular file (a link, device, "
                             "pipe or socket); it is never replaced")
        if not force:
            raise InputError(f"{target} exists; use --force to replace it")
    check_folder(target.parent if str(target.parent) else Path("."), create=False)
    return target


def check_folder(folder: Path, create: bool) -> None:
    """Refuse a folder an output cannot be written into (missing unless ``create``, not a
    folder, read-only)."""
    probe = folder
    while not probe.exists() and create and probe != probe.parent:
        probe = probe.parent  # the first existing ancestor must take the new folders
    if not probe.exists():
        raise InputError(f"folder {folder} does not exist")
    if not probe.is_dir():
        raise InputError(f"{probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"folder {probe} is not writable")


@contextmanager
def _cleanup_on_signals() -> Iterator[None]:
    """Turn SIGTERM (and SIGINT) into an exception while outputs are staged, so that the
    ``finally`` clauses remove the temporary files; the exit code is 128 + the signal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT back (they are delivered at the end) while a temporary file is
    created and recorded, or while the outputs are renamed, so that neither is cut in half."""
    held = {signal.SIGTERM, signal.SIGINT}
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "pthread_sigmask")):  # not on Windows
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class OutputTransaction:
    """All of a command's outputs or none.

    Use as a context manager: :meth:`add_file` and :meth:`add_folder` check the targets (call
    them all before any long computation), :meth:`stage_file` and :meth:`stage_folder` render
    into temporary files beside the targets, and leaving the ``with`` block without an error
    renames every staged output into place. Any error, SIGINT or SIGTERM removes every temporary
    file and leaves the targets untouched.

    Parameters
    ----------
    force : bool
        Replace existing regular files at the targets.
    """

    def __init__(self, force: bool = False) -> None:
        self.force = force
        self._files: list[tuple[Path, Path]] = []  # (temporary, target)
        self._folders: list[tuple[Path, Path, list[str]]] = []  # (temporary folder, target, names)
        self._temps: list[Path] = []
        self._signals: Any = None
        # Every temporary name carries this transaction's tag, and every folder one is made in
        # is noted before it is made: a signal that lands in another thread (BLAS workers do
        # not hold it) can run the handler between creating a file and recording it, and the
        # rollback still finds the file by its tag.
        self._tag = f"{os.getpid()}x{os.urandom(4).hex()}-"
        self._dirs: set[Path] = set()

    def __enter__(self) -> OutputTransaction:
        self._signals = _cleanup_on_signals()
        self._signals.__enter__()
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        try:
            if kind is None:
                self.commit()
        finally:
            try:
                self.rollback()
            finally:
                self._signals.__exit__(None, None, None)

    def add_file(self, path: str | Path, what: str = "output") -> Path:
        """Check one target file; returns it as a :class:`Path`."""
        return check_target(path, self.force, what)

    def add_folder(self, folder: str | Path, names: list[str]) -> Path:
        """Check a target folder (created if missing) and the files ``names`` inside it."""
        out = Path(folder)
        if str(folder) == "":
            raise InputError("the plots folder path is empty")
        if out.exists() and not out.is_dir():
            raise InputError(f"{out} is not a folder")
        check_folder(out, create=True)
        if out.is_dir():
            for name in names:
                check_target(out / name, self.force)
        return out

    def stage_file(self, path: str | Path, writer: Writer) -> None:
        """Render one output into a temporary file beside ``path``."""
        target = check_target(path, self.force)
        folder = target.parent if str(target.parent) else Path(".")
        self._dirs.add(folder)
        with _signals_held():
            fd, name = tempfile.mkstemp(prefix=f".{target.name[:80]}{TEMP_MARK}{self._tag}",
                                        dir=folder)
            os.close(fd)
            tmp = Path(name)
            self._temps.append(tmp)
        _write(tmp, writer)
        os.chmod(tmp, 0o644)
        self._files.append((tmp, target))

    def stage_folder(self, folder: str | Path, writers: dict[str, Writer]) -> None:
        """Render a set of files into a temporary folder beside ``folder``."""
        out = self.add_folder(folder, list(writers))
        parent = out.parent if str(out.parent) else Path(".")
        missing = [p for p in (parent, *parent.parents) if not p.exists()]
        self._dirs.add(parent)
        with _signals_held():
            for folder_path in reversed(missing):  # new parent folders, removed on failure
                folder_path.mkdir()
                self._temps.append(folder_path)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name[:80]}{TEMP_MARK}{self._tag}",
                                        dir=parent))
            self._temps.append(tmp)
        for name, writer in writers.items():
            _write(tmp / name, writer)
            os.chmod(tmp / name, 0o644)
        self._folders.append((tmp, out, list(writers)))

    def commit(self) -> None:
        """Rename every staged output into place (re-checking the targets first)."""
        for _, target in self._files:
            check_target(target, self.force)
        for _, out, names in self._folders:
            if out.is_dir():
                for name in names:
                    check_target(out / name, self.force)
        with _signals_held():
            for tmp, target in self._files:
                os.replace(tmp, target)
            for tmp, out, names in self._folders:
                if not out.exists():
                    os.chmod(tmp, 0o755)
                    os.rename(tmp, out)  # a new folder appears whole
                else:
                    for name in names:
                        os.replace(tmp / name, out / name)
            self._files.clear()
            self._folders.clear()
            self._temps = [t for t in self._temps if TEMP_MARK in t.name]  # keep new parents

    def rollback(self) -> None:
        """Remove every temporary file and folder still present (found by this transaction's
        tag too, in case one was made but not yet recorded)."""
        with _signals_held():
            tagged = [p for folder in self._dirs if folder.is_dir()
                      for p in folder.glob(f".*{TEMP_MARK}{self._tag}*")]
            # temporary files and folders first, then the parent folders made for them
            for tmp in [*tagged, *reversed(self._temps)]:
                if TEMP_MARK not in tmp.name:
                    with contextlib.suppress(OSError):
                        tmp.rmdir()  # a parent folder made for the outputs, if still empty
                elif tmp.is_dir() and not tmp.is_symlink():
                    shutil.rmtree(tmp, ignore_errors=True)
                elif tmp.exists():
                    tmp.unlink(missing_ok=True)
            self._temps.clear()


def write_atomic(path: str | Path, writer: Writer, force: bool = False) -> Path:
    """Write one file atomically (see :class:`OutputTransaction`); returns its path."""
    with OutputTransaction(force) as out:
        out.stage_file(path, writer)
    return Path(path)


def write_folder(folder: str | Path, writers: dict[str, Writer],
                 force: bool = False) -> list[Path]:
    """Write a set of files into ``folder`` (created if missing), all of them or none."""
    with OutputTransaction(force) as out:
        out.stage_folder(folder, writers)
    return [Path(folder) / name for name in writers]
