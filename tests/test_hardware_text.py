"""The hardware behind a plan in the outputs: catalogue provenance counts (JSON, table, PDF
summary) and the theatre build check of `hexapod lengths`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hexapod.io.hardware_text import plan_provenance
from hexapod.io.loading import load_case
from hexapod.planning import plan
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_cases" / "right_tibia_chronic.toml"
MEASURED = ROOT / "sample_cases" / "hardware" / "calibration_example.toml"


def test_shipped_catalogue_counts_for_a_sample() -> None:
    info = plan_provenance(plan(load_case(SAMPLE)))
    # 155 mm rings (radius offset and pair spacing: weak), the layout (unverified), the medium
    # size (range: weak; step: source; reading offset: unverified) and the eight limits
    assert info["catalogue"] == "tsf-like"
    assert info["counts"] == {"source": 1, "weak": 4, "unverified": 4, "derived": 0,
                              "measured": 0, "default": 6}
    keys = [n["key"] for n in info["numbers"]]
    assert "rings[155].joint_radius_offset_mm" in keys
    assert "strut_sizes[medium].reading_to_length_offset_mm" in keys
    assert not any("long" in k or "[180]" in k for k in keys)  # not used by this plan


def test_measured_catalogue_is_counted_in_json_and_table(tmp_path: Path) -> None:
    runner = CliRunner()
    catalogue = tmp_path / "clinic.toml"
    done = runner.invoke(main, ["calibrate", str(MEASURED), "-o", str(catalogue)])
    assert done.exit_code == 0, done.output
    case = tmp_path / "case.toml"
    case.write_text(SAMPLE.read_text().replace('hardware = "tsf-like"',
                                               'hardware = "clinic.toml"'))
    assert 'hardware = "clinic.toml"' in case.read_text()
    doc = json.loads(runner.invoke(main, ["plan", str(case), "--format", "json"]).stdout)
    counts = doc["hardware_provenance"]["counts"]
    assert counts["measured"] >= 3 and sum(counts.values()) == 15
    measured = {n["key"] for n in doc["hardware_provenance"]["numbers"]
                if n["provenance"] == "measured"}
    assert "rings[155].joint_radius_offset_mm" in measured
    table = runner.invoke(main, ["plan", str(case)]).stdout
    assert f"{counts['measured']} measured" in table


def test_lengths_prints_the_build_check() -> None:
    result = CliRunner().invoke(main, ["lengths", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("build check")
    rx = plan(load_case(SAMPLE))
    for i in range(6):
        cells = lines[2 + i].split()
        assert cells[0] == str(i + 1) and cells[2] == "medium"
        # offset 0 in tsf-like: the caliper reads the reading, at the start and at the end
        assert float(cells[3]) == rx.readings_mm[0, i] == float(cells[4])
        assert float(cells[5]) == rx.readings_mm[-1, i] == 150.0
    assert "15 catalogue numbers" in result.stdout


def test_build_check_adds_each_size_reading_offset(tmp_path: Path) -> None:
    runner = CliRunner()
    catalogue = tmp_path / "clinic.toml"
    assert runner.invoke(main, ["calibrate", str(MEASURED), "-o", str(catalogue)]).exit_code == 0
    case = tmp_path / "case.toml"
    case.write_text(SAMPLE.read_text().replace('hardware = "tsf-like"',
                                               'hardware = "clinic.toml"'))
    loaded = load_case(case)
    assert loaded.catalogue is not None
    offset = loaded.catalogue.strut_size("medium").offset_mm
    assert abs(offset) > 0.1  # the example measurements give a real offset
    lines = runner.invoke(main, ["lengths", str(case)]).stdout.splitlines()
    for i in range(6):
        cells = lines[2 + i].split()
        assert float(cells[4]) - float(cells[3]) == pytest.approx(offset, abs=0.006)
