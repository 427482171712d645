"""The library's front door: `import hexapod`, the README's Python snippet, read-only results,
structured refusals, and what an install puts into site-packages."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import hexapod
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_cases" / "right_tibia_chronic.toml"


def _readme_python() -> str:
    blocks = re.findall(r"```python\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert blocks, "README has no Python example"
    return blocks[0]


def test_readme_python_snippet_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(_readme_python(), "README.md", "exec"), namespace)
    rx = namespace["rx"]
    assert isinstance(rx, hexapod.Plan)
    assert np.asarray(namespace["readings"]).shape == (len(rx.day), 6)
    np.testing.assert_allclose(namespace["back"], rx.poses, atol=1e-9)  # FK(IK(P)) = P
    assert isinstance(namespace["frame"], hexapod.Frame)


def test_public_names_are_exported() -> None:
    for name in hexapod.__all__:
        assert hasattr(hexapod, name), name
    for name in ("load_case", "plan", "analyse", "PlanRefused", "InputError", "Violation"):
        assert name in hexapod.__all__


def test_public_names_are_the_modules_own_objects() -> None:
    """The front door imports each name's module on first use: the name is that module's
    object, a misspelt name is an AttributeError, and dir() lists every public name."""
    import importlib

    for name, module in hexapod._WHERE.items():
        assert getattr(hexapod, name) is getattr(importlib.import_module(module), name), name
    assert set(hexapod._WHERE) | {"__version__"} == set(hexapod.__all__)
    with pytest.raises(AttributeError, match="no attribute 'plann'"):
        hexapod.plann  # noqa: B018
    assert set(hexapod.__all__) <= set(dir(hexapod))


def test_import_hexapod_loads_only_what_is_used() -> None:
    """``import hexapod`` is cheap: a command pays only for the modules it uses."""
    code = ("import sys, hexapod; before = set(sys.modules)\n"
            "hexapod.Deformity; after = set(sys.modules)\n"
            "print(sorted(m for m in before if m.startswith('hexapod.')),"
            " 'hexapod.sensitivity' in after, 'hexapod.case' in after)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "False", "True"]


SUBMODULES = ("kinematics", "planning", "io", "sensitivity", "transforms", "case", "frame")


def test_submodules_are_attributes_after_a_plain_import() -> None:
    # `import hexapod; hexapod.kinematics.solve_pose(...)` works, whatever was used first
    code = ("import hexapod\n"
            f"print(*[hasattr(hexapod, m) for m in {SUBMODULES!r}])\n"
            "print(hasattr(hexapod, 'nosuch'), hasattr(hexapod, '__main__'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True"] * len(SUBMODULES) + ["False", "False"]


def test_type_checker_reports_a_misspelt_public_name(tmp_path: Path) -> None:
    # the lazy names are real imports to a type checker: a misspelling is an error (mypy in
    # its own process: it raises the interpreter's recursion limit for good)
    pytest.importorskip("mypy")
    script = tmp_path / "user.py"
    script.write_text("import hexapod\n\ncase_type = hexapod.Deformaty\n"
                      "ok = hexapod.Deformity\n")
    run = subprocess.run([sys.executable, "-m", "mypy", str(script), "--no-error-summary",
                          "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache")],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert 'has no attribute "Deformaty"' in run.stdout and "user.py:4:" not in run.stdout
    assert run.stdout.count("error:") == 1


def test_plan_from_python_matches_the_command_line() -> None:
    rx = hexapod.plan(hexapod.load_case(SAMPLE))
    doc = json.loads(CliRunner().invoke(main, ["plan", str(SAMPLE), "--format", "json"]).stdout)
    np.testing.assert_array_equal(rx.readings_mm, [r["readings_mm"] for r in doc["rows"]])
    assert rx.summary.days == doc["summary"]["days"] == 10


def test_result_arrays_are_read_only() -> None:
    rx = hexapod.plan(hexapod.load_case(SAMPLE))
    for name in ("readings_mm", "joint_lengths_mm", "poses", "achieved_poses", "day",
                 "size_index", "deviation_mm", "near_end", "condition"):
        arr = getattr(rx, name)
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0
    with pytest.raises(ValueError, match="read-only"):
        rx.plan_input.start_pose[0, 0] = 2.0
    with pytest.raises(ValueError, match="read-only"):
        rx.pace.stage_days[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        rx.days = 3  # type: ignore[misc]


def test_case_without_catalogue_is_refused_with_a_clear_error() -> None:
    case = dataclasses.replace(hexapod.load_case(SAMPLE), catalogue=None)
    with pytest.raises(hexapod.InputError, match="catalogue"):
        hexapod.plan(case)
    attached = dataclasses.replace(case, catalogue=hexapod.load_catalogue("tsf-like"))
    assert hexapod.plan(attached).days == 10


def test_refusal_is_structured_and_suggests_a_checked_change() -> None:
    case = hexapod.load_case(SAMPLE)
    big = dataclasses.replace(case, frame=dataclasses.replace(case.frame, neutral_strut_mm=285))
    with pytest.raises(hexapod.PlanRefused) as info:
        hexapod.plan(big)
    v = info.value.violations[0]
    assert (v.kind, v.day, v.strut, v.limit) == ("strut_range", 0, 1, 289.0)
    assert info.value.suggestions
    from hexapod.planning.remedies import apply_suggestion

    for suggestion in info.value.suggestions:
        fixed = hexapod.plan(apply_suggestion(big, suggestion))
        assert fixed.days == suggestion.days


def test_refused_case_json_on_stdout_and_exit_1(tmp_path: Path) -> None:
    case = tmp_path / "big.toml"
    case.write_text(SAMPLE.read_text().replace("neutral_strut_mm = 150",
                                               "neutral_strut_mm = 285"))
    result = CliRunner().invoke(main, ["plan", str(case), "--format", "json",
                                       "-o", str(tmp_path / "out.json")])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["refused"] is True
    (v,) = doc["violations"]
    assert set(v) >= {"kind", "day", "strut", "value", "limit", "message"}
    assert (v["kind"], v["day"], v["strut"], v["limit"]) == ("strut_range", 0, 1, 289.0)
    assert doc["suggestions"][0]["changes"] == {"frame.neutral_strut_mm": 278.0}
    assert not (tmp_path / "out.json").exists()  # nothing written for a refused plan
    table = CliRunner().invoke(main, ["plan", str(case)])
    assert table.exit_code == 1 and table.stdout == ""
    assert "outside every strut size" in table.stderr


def test_relative_catalogue_is_read_beside_the_case_never_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cases").mkdir()
    case = tmp_path / "cases" / "c.toml"
    case.write_text(SAMPLE.read_text().replace('hardware = "tsf-like"',
                                               'hardware = "mycat.toml"'))
    shipped = (ROOT / "hexapod" / "data" / "tsf-like.toml").read_text()
    (tmp_path / "mycat.toml").write_text(shipped)  # in the working folder, not beside the case
    monkeypatch.chdir(tmp_path)
    with pytest.raises(hexapod.CaseError, match=r"frame\.hardware"):
        hexapod.load_case(case)
    (tmp_path / "cases" / "mycat.toml").write_text(shipped.replace('name = "tsf-like"',
                                                                   'name = "beside"'))
    loaded = hexapod.load_case(case)
    assert loaded.catalogue is not None and loaded.catalogue.name == "beside"


def test_wheel_installs_no_top_level_cli_module(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-500:]  # setuptools is a test dependency
    (wheel,) = tmp_path.glob("*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert "cli" not in tops
    assert {"hexapod", "hexapod_cli"} <= tops
    names = zipfile.ZipFile(wheel).namelist()
    assert "hexapod_cli/main.py" in names and "hexapod/planning/pace.py" in names
    entry = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry[0]).decode()
    assert "hexapod = hexapod_cli.main:main" in text


@pytest.mark.parametrize("sample", ["right_tibia_chronic", "left_tibia_chronic",
                                    "distal_tibia_distal_reference", "total_residual"])
def test_frame_round_trip_around_each_case_start(sample: str) -> None:
    from hexapod import transforms as tf

    case = hexapod.load_case(ROOT / "sample_cases" / f"{sample}.toml")
    frame = hexapod.Frame.from_case(case)
    start = hexapod.plan(case).poses[0]
    rng = np.random.default_rng(11)
    poses = tf.exp(rng.normal(size=(50, 3)) * 5.0, rng.normal(size=(50, 3)) * 0.05) @ start
    np.testing.assert_allclose(frame.solve_pose(frame.strut_lengths(poses)), poses, atol=1e-9)
    # without a guess the frame starts on its own side (no mirror image)
    single = frame.solve_pose(frame.strut_lengths(start))
    np.testing.assert_allclose(single, start, atol=1e-9)
    assert np.sign(single[2, 3]) == frame.moving_side


def test_readings_of_no_frame_are_a_structured_refusal(tmp_path: Path) -> None:
    case = tmp_path / "nofr.toml"
    text = (ROOT / "sample_cases" / "total_residual.toml").read_text()
    import re as _re

    text = _re.sub(r"strut_readings_mm = \[[^\]]*\]",
                   "strut_readings_mm = [100, 200, 100, 200, 100, 200]", text)
    text = _re.sub(r"(?m)^strut_sizes = .*$", "", text)  # sizes chosen from the readings
    case.write_text(text)
    with pytest.raises(hexapod.PlanRefused) as info:
        hexapod.plan(hexapod.load_case(case))
    (v,) = info.value.violations
    assert (v.kind, v.day) == ("assembly", 0) and "do not describe a frame" in v.detail["start"]
    result = CliRunner().invoke(main, ["plan", str(case), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["refused"] is True and doc["violations"][0]["kind"] == "assembly"
