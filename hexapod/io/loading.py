"""Load a case file with its hardware catalogue resolved (files layer).

The front door of the library and of every command that reads a case: the same checks and the
same errors everywhere.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hexapod.case import Case
from hexapod.errors import CaseError, CatalogueError
from hexapod.hardware import Catalogue
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import builtin_names, load_catalogue


def resolve_catalogue(hardware: str, case_path: str | Path | None) -> str | Path:
    """Where a case's ``frame.hardware`` points: a shipped catalogue's name as it is, else a
    path, a relative one resolved against the case file's folder (never the working folder).

    Raises
    ------
    CaseError
        At ``frame.hardware``, when the file does not exist there.
    """
    if hardware in builtin_names():
        return hardware
    path = Path(hardware)
    if not path.is_absolute() and case_path is not None:
        path = Path(case_path).parent / path
    if path.exists() and not path.is_file():
        raise CaseError("frame.hardware",
                        f"{str(path)!r} is a folder or a device, not a catalogue file",
                        str(case_path or ""))
    if not path.is_file():
        raise CaseError("frame.hardware",
                        f"catalogue file {str(path)!r} does not exist (a relative path is read "
                        "from the case file's folder); give a file or one of the shipped "
                        f"catalogues: {', '.join(builtin_names())}", str(case_path or ""))
    return path


def load_case(path: str | Path) -> Case:
    """Read and validate a case file (TOML, or JSON with the same structure) and attach its
    hardware catalogue.

    Parameters
    ----------
    path : str or Path
        The case file.

    Returns
    -------
    Case
        With ``case.catalogue`` loaded from ``frame.hardware``.

    Raises
    ------
    CaseError, CatalogueError
        Bad input: the message names the file, the key path and what is allowed.
    """
    case = read_case(path)
    where = resolve_catalogue(case.frame.hardware, path)
    try:
        catalogue: Catalogue = load_catalogue(where)
    except CatalogueError as exc:
        raise CatalogueError(exc.path, f"{exc.message} (catalogue of frame.hardware = "
                             f"{case.frame.hardware!r})", exc.source) from exc
    return dataclasses.replace(case, catalogue=catalogue)
