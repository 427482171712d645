"""``hexapod calibrate``: fit the hardware catalogue to caliper measurements of your own frame."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from hexapod.errors import HexapodError

EPILOG = """\b
Example:
  hexapod calibrate sample_cases/hardware/calibration_example.toml -o clinic-a-frame.toml
  hexapod catalogue clinic-a-frame.toml
"""


class _BadInput(click.ClickException):
    """Bad input or usage: a clean message, exit code 2."""

    exit_code = 2


@click.command(epilog=EPILOG)
@click.argument("measurements", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the calibrated catalogue (TOML) here.")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
def calibrate(measurements: Path, output: Path, force: bool) -> None:
    """Fit the catalogue's strut offsets, joint radii and pair spacings to the caliper
    measurements in MEASUREMENTS and write the complete calibrated catalogue to OUTPUT.

    Prints each fitted number beside the base catalogue's, and warns where a measurement is far
    from its fit. Use the written catalogue with [frame] hardware = "OUTPUT" in a case file.
    """
    from hexapod.io.calibration_report import calibrate as fit_catalogue
    from hexapod.io.calibration_report import header_lines, report_lines
    from hexapod.io.catalogue_file import load_catalogue, parse_catalogue
    from hexapod.io.catalogue_write import catalogue_to_toml
    from hexapod.io.measurement_file import read_measurements
    from hexapod.io.outputs import write_output

    try:
        if output.name in ("", ".", "..") or output.is_dir():
            raise _BadInput(f"-o {str(output)!r}: give the path of a catalogue file to write")
        if output.exists() and not output.is_file():
            raise _BadInput(f"{output} is not a regular file; only files are replaced")
        if output.exists() and not force:
            raise _BadInput(f"{output} exists; use --force to replace it")
        if output.exists() and output.resolve() == measurements.resolve():
            raise _BadInput(f"-o {output} is the measurement file itself; write the catalogue "
                            "to another file")
        meas = read_measurements(measurements)
        base = load_catalogue(meas.base_catalogue_ref())
        result = fit_catalogue(meas, base)
        text = catalogue_to_toml(result.catalogue, header_lines(result, meas))
        parse_catalogue(tomllib.loads(text), str(output))  # what is written must load
        for line in report_lines(result, meas):
            click.echo(line)
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        write_output(output, text, force)
    except HexapodError as exc:
        raise _BadInput(str(exc)) from exc
    except OSError as exc:
        raise _BadInput(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {output}", err=True)
