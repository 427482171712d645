"""Follow-up visits on the command line: read the frame in the case's words (``pose CASE``) and
start a residual-mode case from it (``new --from CASE``).

Thin: parse, call the library, print. Library errors go up to the command's
``domain_errors`` wrapper, which maps them to exit codes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from hexapod.errors import InputError


def _load_case(case_path: Path) -> Any:
    from hexapod_cli.main import _load

    return _load(case_path)


def _sizes(sizes: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """``--sizes`` as given, or None when left out (click gives an empty tuple)."""
    return tuple(sizes) if sizes else None


def read_frame(case_path: Path, readings: tuple[float, ...],
               sizes: tuple[str, ...] | None) -> tuple[Any, Any]:
    """The case's PlanInput and the correction still to do at the readings."""
    from hexapod.readback import remaining_for_plan_input, ring_pose_from_readings

    plan_input = _load_case(case_path)
    ring_pose = ring_pose_from_readings(plan_input, readings, _sizes(sizes))
    return plan_input, remaining_for_plan_input(plan_input, ring_pose)


def pose_with_case(case_path: Path, readings: tuple[float, ...],
                   sizes: tuple[str, ...] | None) -> None:
    """Print the frame of CASE at the readings: the correction still to do in the case's
    words, then the ring pose."""
    from hexapod.io.outputs import pose_lines
    from hexapod.io.readback_words import remaining_lines

    plan_input, remaining = read_frame(case_path, readings, sizes)
    for line in remaining_lines(remaining, plan_input.case):
        click.echo(line)
    click.echo("")
    for line in pose_lines(remaining.ring_pose, plan_input.geometry):
        click.echo(line)


def _hardware_for(case_path: Path, hardware: str) -> str:
    """The case's hardware as a follow-up file elsewhere can find it: a catalogue file named
    relative to the case's folder becomes an absolute path."""
    if hardware == "tsf-like" or Path(hardware).is_absolute():
        return hardware
    candidate = case_path.parent / hardware
    return str(candidate.resolve()) if candidate.is_file() else hardware


def new_from_case(case_path: Path, readings: tuple[float, ...],
                  sizes: tuple[str, ...] | None, visit: dt.date | None,
                  output: Path | None, force: bool) -> None:
    """Write (or print) a residual-mode case for a follow-up visit of CASE."""
    from hexapod.io.case_write import followup_case_text
    from hexapod.io.outputs import write_output
    from hexapod.io.readback_words import case_keys
    from hexapod.readback import moved_structures

    if output is not None and output.exists() and not force:
        raise InputError(f"{output} exists; use --force to replace it")
    plan_input, remaining = read_frame(case_path, readings, sizes)
    case = plan_input.case
    text = followup_case_text(
        case, readings, visit or dt.date.today(), sizes=_sizes(sizes), source=case_path.name,
        hardware=_hardware_for(case_path, case.frame.hardware),
        predicted=case_keys(remaining.deformity_now),
        structures=moved_structures(remaining, case.structures_at_risk, case.patient.side))
    if output is None:
        click.echo(text, nl=False)
    else:
        write_output(output, text, force)
        click.echo(f"wrote {output}; fill [deformity] from the new X-rays, then: "
                   f"hexapod check {output}", err=True)
