"""The command line through click's CliRunner: every command and format, exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
SAMPLE = str(ROOT / "sample_cases/right_tibia_chronic.toml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version_and_help(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and "hexapod" in result.output
    for command in ("plan", "check", "new", "catalogue", "lengths", "pose", "sensitivity"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Example" in result.output, f"{command} --help has no example"


def test_plan_table(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plan", SAMPLE])
    assert result.exit_code == 0, result.output
    assert "10 days of correction" in result.output
    assert "1 red" in result.output and "6 purple" in result.output
    assert "peroneal nerve" in result.output


def test_plan_json_matches_contract(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plan", SAMPLE, "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["schema_version"] == 1
    assert set(doc) >= {"case", "geometry", "deformity", "rows", "summary"}
    assert set(doc["geometry"]) >= {"reference_joints_mm", "moving_joints_mm",
                                    "reference_ring_in_anatomy"}
    assert len(doc["deformity"]["distal_in_proximal"]) == 4
    row_keys = {"day", "date", "adjustment", "moving_ring_in_reference_ring",
                "joint_lengths_mm", "readings_mm", "strut_sizes", "swaps", "warnings"}
    for row in doc["rows"]:
        assert set(row) >= row_keys
        assert len(row["readings_mm"]) == 6 and len(row["strut_sizes"]) == 6
    assert doc["rows"][0]["day"] == 0 and doc["rows"][0]["adjustment"] == 0
    assert set(doc["summary"]) >= {"days", "true_angle_deg", "max_sar_mm_per_day",
                                   "final_residual_mm", "final_residual_deg"}
    assert doc["summary"]["days"] == doc["rows"][-1]["day"] == 10
    assert doc["rows"][-1]["readings_mm"] == [150.0] * 6


def test_plan_csv_parses_back(runner: CliRunner) -> None:
    csv_out = runner.invoke(main, ["plan", SAMPLE, "--format", "csv"]).output
    doc = json.loads(runner.invoke(main, ["plan", SAMPLE, "--format", "json"]).output)
    rows = list(csv.DictReader(io.StringIO(csv_out)))
    assert len(rows) == len(doc["rows"])
    for row, jrow in zip(rows, doc["rows"], strict=True):
        assert [float(row[f"strut{i}_reading_mm"]) for i in range(1, 7)] == jrow["readings_mm"]
        assert [float(row[f"strut{i}_length_mm"]) for i in range(1, 7)] == pytest.approx(
            jrow["joint_lengths_mm"], abs=1e-6)
        assert int(row["day"]) == jrow["day"]


def test_output_file_not_overwritten_without_force(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert runner.invoke(main, ["plan", SAMPLE, "--format", "json", "-o", str(out)]).exit_code == 0
    first = out.read_text()
    out.write_text("keep me")
    result = runner.invoke(main, ["plan", SAMPLE, "-o", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text() == "keep me"
    assert runner.invoke(main, ["plan", SAMPLE, "--format", "json", "-o", str(out),
                                "--force"]).exit_code == 0
    assert out.read_text() == first


@pytest.mark.parametrize("args, code, text", [
    (["plan", "missing.toml"], 2, "does not exist"),
    (["plan", SAMPLE, "--format", "xml"], 2, "Invalid value"),
    (["plan", SAMPLE, "-o", "/no/such/folder/plan.txt"], 2, "does not exist"),
    (["catalogue", "no-such-catalogue"], 2, "no catalogue called"),
    (["pose", "--proximal-ring", "150", "--distal-ring", "155", "--readings", "150", "150",
      "150", "150", "150", "150"], 2, "allowed: 130, 155"),
    (["pose", "--proximal-ring", "155", "--distal-ring", "155", "--readings", "80", "280",
      "80", "280", "80", "280"], 1, "cannot be planned safely"),
])
def test_errors_have_clean_messages(runner: CliRunner, args: list[str], code: int,
                                    text: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == code, result.output
    assert text in result.output
    assert "Traceback" not in result.output


def test_bad_case_files(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema_version = 1\nmode = [")
    result = runner.invoke(main, ["plan", str(bad)])
    assert result.exit_code == 2 and "not valid TOML" in result.output
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(Path(SAMPLE).read_text().replace('"varus"', '"varrus"'))
    result = runner.invoke(main, ["check", str(wrong)])
    assert result.exit_code == 2
    assert "deformity.ap_angulation_dir" in result.output and "varus, valgus" in result.output


def test_unsafe_plan_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    case = tmp_path / "unsafe.toml"
    case.write_text(Path(SAMPLE).read_text().replace("neutral_strut_mm = 150",
                                                     "neutral_strut_mm = 285"))
    result = runner.invoke(main, ["plan", str(case)])
    assert result.exit_code == 1
    assert "outside every strut size" in result.output


def test_check_describes_case(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", SAMPLE])
    assert result.exit_code == 0
    assert "10.0° varus" in result.output
    assert "true angulation 11.1°, plane of deformity 26° from the coronal plane" in result.output


def test_new_writes_template_that_checks(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "case.toml"
    assert runner.invoke(main, ["new", str(out)]).exit_code == 0
    assert runner.invoke(main, ["check", str(out)]).exit_code == 0
    assert runner.invoke(main, ["new", str(out)]).exit_code == 2
    assert "schema_version = 1" in runner.invoke(main, ["new"]).output


def test_catalogue_shows_provenance(runner: CliRunner) -> None:
    result = runner.invoke(main, ["catalogue"])
    assert result.exit_code == 0
    assert "[weak]" in result.output and "[unverified]" in result.output
    assert "CHECK EVERY NUMBER" in result.output


def test_lengths_and_pose_round_trip(runner: CliRunner) -> None:
    result = runner.invoke(main, ["lengths", str(ROOT / "sample_cases/pure_lengthening.toml")])
    assert result.exit_code == 0
    assert result.output.count("160.00") == 6  # target: neutral frame
    result = runner.invoke(main, ["pose", "--proximal-ring", "155", "--distal-ring", "155",
                                  "--readings", "160", "160", "160", "160", "160", "160"])
    assert result.exit_code == 0, result.output
    assert "z -138.27 mm" in result.output and "true tilt 0.00°" in result.output


def test_python_m_and_no_matplotlib_for_table() -> None:
    code = (f"import sys, runpy; sys.argv = ['hexapod', 'plan', {SAMPLE!r}];\n"
            "try:\n runpy.run_module('hexapod', run_name='__main__')\n"
            "except SystemExit as e:\n assert not e.code, e.code\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported for a table'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "10 days of correction" in proc.stdout


def test_neutral_strut_suggestion_in_table_and_json(runner: CliRunner) -> None:
    case = str(ROOT / "sample_cases/staged_lengthen_first.toml")
    expected = "a neutral strut of 170 mm needs 0 swap(s) (this plan, 165 mm: 4)"
    assert expected in runner.invoke(main, ["plan", case]).output
    doc = json.loads(runner.invoke(main, ["plan", case, "--format", "json"]).output)
    assert expected in doc["notes"]
    assert not any("neutral strut of" in n for n in json.loads(
        runner.invoke(main, ["plan", SAMPLE, "--format", "json"]).output)["notes"])
