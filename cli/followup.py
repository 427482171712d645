"""Follow-up visits on the command line: read the frame in the case's words (``pose CASE``),
start a residual-mode case from it (``new --from CASE``) and resume the prescription from the
frame as it is (``resume CASE``).

Thin: parse, call the library, print. Library errors go up to the command's
``domain_errors`` wrapper, which maps them to exit codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hexapod.errors import InputError
from hexapod_cli.options import RING_MM


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


EPILOG_RESUME = """\b
Examples:
  hexapod resume case.toml --readings 164 137 146 127 154 145 --date 2026-12-12
  hexapod resume case.toml --readings 164 137 146 127 154 145 --date 2026-12-12 \\
      --previous plan.json --format json -o plan-2.json --sheet sheet-2.pdf
"""


#: Library fields of a resume's bad input, and the option that gave them.
_RESUME_OPTIONS = {"date": "--date", "sizes": "--sizes", "readings": "--readings"}


def _naming_option(load: Callable[[], Any]) -> Callable[[], Any]:
    """``load`` with the library's bad input of an option reported as that option's."""
    def named() -> Any:
        try:
            return load()
        except InputError as exc:
            option = _RESUME_OPTIONS.get(exc.field or "")
            if option is None:
                raise
            raise click.BadParameter(exc.message, param_hint=f"'{option}'") from None
    return named


def _resumed(plan_input: Any, readings: tuple[float, ...], fitted: tuple[str, ...] | None,
             visit: dt.date, preferred: tuple[str | None, ...] | None) -> Any:
    """The resumed PlanInput (:func:`hexapod.visit.resume_at_visit`), saying how it was
    chosen."""
    from hexapod.visit import resume_at_visit

    chosen = resume_at_visit(plan_input, readings, visit, fitted, preferred)
    if chosen.from_start:
        click.echo("note: the case cannot be planned as it was entered; resuming from its "
                   "start pose", err=True)
    if chosen.swaps_at_visit:
        swapped = ", ".join(f"strut {n} {a} -> {b}" for n, a, b in chosen.swaps_at_visit)
        click.echo(f"note: the struts as fitted cannot carry the resumed plan; swap at the "
                   f"visit: {swapped}", err=True)
    return chosen.plan_input


def resume_visit(case_path: Path, readings: tuple[float, ...], visit: dt.date,
                 sizes: tuple[str, ...] | None, previous_path: Path | None, fmt: str,
                 output: Path | None, sheet: Path | None, plots: Path | None, paper: str,
                 force: bool) -> None:
    """Plan CASE's correction from the readings at a visit to its original target, and print
    or write the prescription (revision previous + 1 with ``--previous``, else unknown)."""
    from hexapod.io.outputs import UNKNOWN_REVISION, FollowUpRevision
    from hexapod.io.previous import (
        check_same_patient,
        far_warning,
        follow_up_dict,
        position_lines,
        read_previous,
    )
    from hexapod.resume import Revision
    from hexapod_cli.main import plan_and_write

    def load() -> tuple[Any, dict[str, Any]]:
        plan_input = _load_case(case_path)
        fitted = _sizes(sizes)
        revision: Revision = Revision(None)
        follow_up, lines, preferred = None, None, None
        if previous_path is not None:
            previous = read_previous(previous_path)
            check_same_patient(previous, plan_input.case)
            position = previous.position(readings, visit)
            follow_up = follow_up_dict(previous, position, visit)
            lines = position_lines(previous, position, visit)
            after = previous.next_revision()
            revision = FollowUpRevision(after.number, after.replaces, tuple(lines))
            # the struts it set; a swap the readings cannot show is taken as not done
            preferred = previous.sizes[position.fitted_row]
            if preferred != previous.sizes[position.row]:
                click.echo(f"note: the previous prescription swaps struts between its rows "
                           f"{position.fitted_row} and {position.row}, which read alike; the "
                           "readings cannot show the swap, so it is taken as not done (give "
                           "--sizes if it was)", err=True)
            if fmt != "table" or output is not None:
                for line in lines:
                    click.echo(line, err=True)
            elif position.far:
                click.echo(far_warning(position), err=True)
        else:
            click.echo(UNKNOWN_REVISION, err=True)
        marks = {"revision": revision, "follow_up": follow_up, "header_lines": lines}
        return _resumed(plan_input, readings, fitted, visit, preferred), marks

    plan_and_write(_naming_option(load), fmt, output, sheet, plots, paper, force)


def resume_command(domain_errors: Callable[[Any], Any], case_argument: Callable[[Any], Any],
                   output_options: Callable[[Any], Any]) -> click.Command:
    """The ``hexapod resume`` command, built with the main group's decorators (the error
    mapping, the CASE argument and ``plan``'s output options)."""

    @click.command(epilog=EPILOG_RESUME)
    @case_argument
    @click.option("--readings", type=RING_MM, nargs=6, required=True,
                  help="The six scale readings at the visit, struts 1..6 (mm).")
    @click.option("--date", "visit", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
                  help="The visit: the new prescription starts on it (day 1 waits for the "
                  "end of CASE's latency when the visit is before it).")
    @click.option("--sizes", nargs=6, default=None,
                  help="The fitted strut sizes, struts 1..6, each holding its reading "
                  "(default: the size the previous prescription, else the plan of CASE, sets "
                  "at the nearest row where it holds the reading, else the smallest that "
                  "does: a strut may be swapped at the visit).")
    @click.option("--previous", "previous", type=click.Path(dir_okay=False, path_type=Path),
                  help="The prescription this one replaces (JSON written by plan or resume).")
    @output_options
    @domain_errors
    def resume(case: Path, readings: tuple[float, ...], visit: Any,
               sizes: tuple[str, ...] | None, previous: Path | None, fmt: str,
               output: Path | None, sheet: Path | None, plots: Path | None, paper: str,
               force: bool) -> None:
        """Resume CASE's correction from the frame as it is at a follow-up visit.

        Forward kinematics of the readings gives the frame now; the new prescription runs
        from there to the same target as CASE's plan, through the stages still to do,
        starting on --date, paced and checked as by plan. With --previous it says where the
        readings are on that prescription and is its next revision.
        """
        resume_visit(case, readings, visit.date(), sizes, previous, fmt, output, sheet, plots,
                     paper, force)

    return resume
