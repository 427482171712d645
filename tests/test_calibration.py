"""Calibration of the catalogue from caliper measurements: the fits, the measurement file,
the written catalogue and the ``calibrate`` command."""

from __future__ import annotations

import copy
import itertools
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from hexapod.calibration import (
    ChordObservations,
    chord_distances,
    chord_fit_is_determined,
    fit_ring,
    fit_strut_offset,
)
from hexapod.geometry import ring_joints
from hexapod.hardware import Catalogue
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue, parse_catalogue
from hexapod.io.catalogue_write import catalogue_to_toml, toml_string
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "sample_cases/hardware/calibration_example.toml"
PROX = ([90, 90, 210, 210, 330, 330], [-1, 1, -1, 1, -1, 1])
DIST = ([30, 150, 150, 270, 270, 30], [1, -1, 1, -1, 1, -1])
ALL_PAIRS = [list(p) for p in itertools.combinations(range(1, 7), 2)]

# The hidden hardware: offsets, joint radii and pair spacings unlike the shipped catalogue's.
TRUE_OFFSETS = {"x-short": 4.2, "short": 5.5, "medium": 6.3, "long": 7.1}
TRUE_RINGS = {155: (17.1, 14.2), 180: (15.6, 15.9)}  # joint radius offset, pair spacing (mm)


def _tsf_data() -> dict[str, Any]:
    text = resources.files("hexapod").joinpath("data/tsf-like.toml").read_text("utf-8")
    return tomllib.loads(text)


def _true_catalogue() -> Catalogue:
    data = copy.deepcopy(_tsf_data())
    for size in data["strut_sizes"]:
        size["reading_to_length_offset_mm"] = {"value": TRUE_OFFSETS[size["name"]],
                                               "provenance": "unverified", "note": "truth"}
    for ring in data["rings"]:
        if ring["size_mm"]["value"] in TRUE_RINGS:
            offset, spacing = TRUE_RINGS[ring["size_mm"]["value"]]
            ring["joint_radius_offset_mm"] = {"value": offset, "provenance": "unverified"}
            ring["pair_spacing_mm"] = {"value": spacing, "provenance": "unverified"}
    return parse_catalogue(data, "truth")


def _measurement_text(truth: Catalogue, rng: np.random.Generator, noise_mm: float = 0.05,
                      strut_error: tuple[int, float] | None = None,
                      ring_error: tuple[int, int, float] | None = None) -> str:
    """What a caliper reads on the hidden hardware, plus noise, as a measurement file."""
    lines = ['schema_version = 1', 'base = "tsf-like"', 'name = "clinic"',
             'measured_on = 2026-11-20']
    k = 0
    for size in truth.strut_sizes:
        for reading in np.linspace(size.min_mm + 2, size.max_mm - 2, 4):
            distance = reading + size.offset_mm + rng.normal(0, noise_mm)
            if strut_error is not None and strut_error[0] == k:
                distance += strut_error[1]
            lines += ["[[strut]]", f'size = "{size.name}"', f"reading_mm = {reading:.1f}",
                      f"joint_distance_mm = {distance:.3f}"]
            k += 1
    entry = 0
    for size_mm in TRUE_RINGS:
        for position, joints in (("proximal", truth.proximal_joints(size_mm)),
                                 ("distal", truth.distal_joints(size_mm))):
            d = [np.linalg.norm(joints[a - 1] - joints[b - 1]) + rng.normal(0, noise_mm)
                 for a, b in ALL_PAIRS]
            if ring_error is not None and ring_error[0] == entry:
                d[ring_error[1]] += ring_error[2]
            lines += ["[[ring]]", f"size_mm = {size_mm}", f'position = "{position}"',
                      f"joints = {ALL_PAIRS}", f"distance_mm = {[round(float(v), 3) for v in d]}"]
            entry += 1
    return "\n".join(lines) + "\n"


def _calibrate(tmp_path: Path, text: str, *extra: str) -> tuple[Any, Path]:
    meas = tmp_path / "measurements.toml"
    meas.write_text(text)
    out = tmp_path / "clinic.toml"
    result = CliRunner().invoke(main, ["calibrate", str(meas), "-o", str(out), *extra])
    return result, out


# --- the fits -----------------------------------------------------------------------------

def test_strut_offset_known_values() -> None:
    fit = fit_strut_offset([100.0, 120.0, 140.0], [106.0, 126.1, 145.9])
    assert fit.offset.value == pytest.approx(6.0)
    np.testing.assert_allclose(fit.residuals_mm, [0.0, 0.1, -0.1], atol=1e-12)
    assert fit.offset.residual_mm == pytest.approx(np.sqrt(0.02 / 3))
    assert fit.offset.standard_error_mm == pytest.approx(0.1 / np.sqrt(3))  # sd 0.1 over n-1
    assert fit.slope == pytest.approx(0.9975)
    assert fit.slope_consistent and fit.offset.count == 3


def test_strut_offset_standard_error_never_below_the_caliper() -> None:
    fit = fit_strut_offset([100.0, 120.0], [106.0, 126.0], instrument_sd_mm=0.05)
    assert fit.offset.standard_error_mm == pytest.approx(0.05 / np.sqrt(2))
    single = fit_strut_offset([100.0], [103.0])
    assert single.offset.value == 3.0 and np.isnan(single.slope) and single.slope_consistent


def test_strut_slope_not_one_is_detected() -> None:
    readings = np.array([100.0, 120.0, 140.0, 160.0])
    assert not fit_strut_offset(readings, 1.02 * readings + 3.0).slope_consistent
    assert fit_strut_offset(readings, readings + 3.0).slope_consistent


def _chord_oracle(radius: float, spacing: float, layout: tuple[list[int], list[int]],
                  pairs: list[list[int]]) -> list[float]:
    joints = ring_joints(radius, spacing, *layout)
    return [float(np.linalg.norm(joints[a - 1] - joints[b - 1])) for a, b in pairs]


@pytest.mark.parametrize("layout", [PROX, DIST])
def test_chord_distances_match_ring_joints(layout: tuple[list[int], list[int]]) -> None:
    obs = ChordObservations.from_joints(*layout, ALL_PAIRS, np.zeros(15))
    predicted, jac = chord_distances(obs, 94.3, 14.6)
    np.testing.assert_allclose(predicted, _chord_oracle(94.3, 14.6, layout, ALL_PAIRS),
                               atol=1e-9)
    h = 1e-6
    np.testing.assert_allclose(jac[:, 0], (chord_distances(obs, 94.3 + h, 14.6)[0]
                                           - chord_distances(obs, 94.3 - h, 14.6)[0]) / (2 * h),
                               atol=1e-6)
    np.testing.assert_allclose(jac[:, 1], (chord_distances(obs, 94.3, 14.6 + h)[0]
                                           - chord_distances(obs, 94.3, 14.6 - h)[0]) / (2 * h),
                               atol=1e-6)


def test_ring_fit_recovers_exact_geometry_from_both_layouts() -> None:
    parts = [ChordObservations.from_joints(*lay, pairs, _chord_oracle(95.0, 13.0, lay, pairs))
             for lay, pairs in ((PROX, [[1, 2], [2, 5]]), (DIST, [[2, 3], [1, 4]]))]
    fit = fit_ring(ChordObservations.concatenate(parts), 93.8, 15.0)
    assert fit.converged
    assert fit.radius.value == pytest.approx(95.0, abs=1e-9)
    assert fit.spacing.value == pytest.approx(13.0, abs=1e-9)
    assert fit.radius.count == 4


@pytest.mark.parametrize("layout, pairs, determined", [
    (PROX, [[1, 2]], False),
    (PROX, [[1, 2], [1, 2]], False),
    (PROX, [[1, 3], [2, 4]], False),   # both chords between like sides: radius only
    (PROX, [[1, 2], [1, 3]], True),
    (PROX, [[1, 2], [3, 4]], False),   # two pairs: spacing only, twice
    (DIST, [[2, 3], [1, 4]], True),
])
def test_which_distances_determine_a_ring(layout: tuple[list[int], list[int]],
                                          pairs: list[list[int]], determined: bool) -> None:
    obs = ChordObservations.from_joints(*layout, pairs, np.ones(len(pairs)))
    assert chord_fit_is_determined(obs, 93.8, 15.0) is determined


# --- the command on synthetic truth --------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalogue, Catalogue, str]:
    truth = _true_catalogue()
    tmp = tmp_path_factory.mktemp("synthetic")
    result, out = _calibrate(tmp, _measurement_text(truth, np.random.default_rng(20261120)))
    assert result.exit_code == 0, result.output
    return truth, load_catalogue(out), result.output


def test_fitted_numbers_are_near_the_truth_and_errors_covered(
        synthetic: tuple[Catalogue, Catalogue, str]) -> None:
    truth, fitted, _ = synthetic
    checked = []
    for size in truth.strut_sizes:
        q = fitted.strut_size(size.name).reading_to_length_offset_mm
        checked.append((q, size.offset_mm))
    for size_mm in TRUE_RINGS:
        ring, true_ring = fitted.ring(size_mm), truth.ring(size_mm)
        checked += [(ring.joint_radius_offset_mm, float(true_ring.joint_radius_offset_mm)),
                    (ring.pair_spacing_mm, float(true_ring.pair_spacing_mm))]
    for q, true_value in checked:
        assert q.provenance == "measured"
        assert q.standard_error_mm is not None and q.standard_error_mm > 0
        error = abs(float(q) - true_value)
        assert error < 0.2, (q, true_value)
        assert error < 4 * q.standard_error_mm, (q, true_value)
        assert q.measured_on is not None and q.measured_on.isoformat() == "2026-11-20"
    assert fitted.ring(130).joint_radius_offset_mm.provenance == "weak"  # not measured: kept


def test_plan_with_written_catalogue_equals_plan_with_truth(
        synthetic: tuple[Catalogue, Catalogue, str]) -> None:
    from hexapod.clinical import build_plan_input
    from hexapod.planning import plan

    truth, fitted, _ = synthetic
    case = read_case(ROOT / "sample_cases/right_tibia_chronic.toml")
    true_plan = plan(build_plan_input(case, truth))
    fitted_plan = plan(build_plan_input(case, fitted))
    assert fitted_plan.readings_mm.shape == true_plan.readings_mm.shape
    assert np.max(np.abs(fitted_plan.readings_mm - true_plan.readings_mm)) <= 1.0
    # and the test has teeth: the uncalibrated catalogue is a different frame
    base_plan = plan(build_plan_input(case, load_catalogue("tsf-like")))
    assert np.max(np.abs(base_plan.joint_lengths_mm[0] - true_plan.joint_lengths_mm[0])) > 1.0


def test_report_prints_base_fitted_and_change(synthetic: tuple[Catalogue, Catalogue, str]) -> None:
    _, _, output = synthetic
    line = next(x for x in output.splitlines()
                if x.startswith("strut_sizes[medium].reading_to_length_offset_mm"))
    base, fitted, change = (float(v) for v in line.split()[1:4])
    assert base == 0.0 and fitted == pytest.approx(6.3, abs=0.2) and change == fitted - base
    assert "rings[180].pair_spacing_mm" in output
    assert "warning" not in output  # good measurements: no poor-fit warning


def test_gross_ring_error_is_flagged_by_name(tmp_path: Path) -> None:
    text = _measurement_text(_true_catalogue(), np.random.default_rng(3),
                             ring_error=(1, 7, 5.0))
    result, out = _calibrate(tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "warning: poor fit for ring 155 mm" in result.output
    assert (f"ring[1].distance_mm[7] (joints {ALL_PAIRS[7]}; the 2nd [[ring]] entry) is the "
            "most likely wrong") in result.output
    assert out.is_file()


def test_gross_strut_error_is_flagged_by_name_and_not_written(tmp_path: Path) -> None:
    text = _measurement_text(_true_catalogue(), np.random.default_rng(4), strut_error=(9, 5.0))
    result, out = _calibrate(tmp_path, text)
    assert result.exit_code == 2, result.output
    assert "'strut[8], strut[9], strut[10], strut[11]'" in result.output
    assert "strut_sizes[medium].reading_to_length_offset_mm has a standard error" in result.output
    assert "strut[9] (the 10th [[strut]] entry) is the most likely wrong" in result.output
    assert not out.exists()


def test_small_strut_error_is_written_with_a_warning(tmp_path: Path) -> None:
    text = _measurement_text(_true_catalogue(), np.random.default_rng(4), strut_error=(10, 1.0))
    result, out = _calibrate(tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "warning: poor fit for strut size medium" in result.output
    assert "strut[10] (the 11th [[strut]] entry) is the most likely wrong" in result.output
    assert out.is_file()


def test_slope_not_one_warns(tmp_path: Path) -> None:
    lines = ['schema_version = 1', 'base = "tsf-like"', 'name = "c"', 'measured_on = 2026-11-20']
    for reading in (120.0, 140.0, 160.0, 175.0):
        lines += ["[[strut]]", 'size = "medium"', f"reading_mm = {reading}",
                  f"joint_distance_mm = {1.01 * reading + 5:.2f}"]
    result, _ = _calibrate(tmp_path, "\n".join(lines))
    assert result.exit_code == 0
    assert "strut size medium: the joint distance grows 1.01" in result.output
    assert "not 1" in result.output


def test_example_file_calibrates(tmp_path: Path) -> None:
    out = tmp_path / "clinic-a-frame.toml"
    result = CliRunner().invoke(main, ["calibrate", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    cat = load_catalogue(out)
    assert cat.name == "clinic-a-frame"
    assert cat.strut_size("medium").reading_to_length_offset_mm.count == 4
    shown = CliRunner().invoke(main, ["catalogue", str(out)])
    assert shown.exit_code == 0
    assert "rings[155].pair_spacing_mm = 15.087  [measured on 2026-11-20, n=11" in shown.output
    assert "SE " in shown.output and "residual " in shown.output


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    out = tmp_path / "clinic.toml"
    out.write_text("keep me")
    runner = CliRunner()
    result = runner.invoke(main, ["calibrate", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text() == "keep me"
    result = runner.invoke(main, ["calibrate", str(EXAMPLE), "-o", str(out), "--force"])
    assert result.exit_code == 0
    assert load_catalogue(out).name == "clinic-a-frame"
    assert [p.name for p in tmp_path.iterdir()] == ["clinic.toml"]  # no temporary left


def test_output_must_be_a_regular_file(tmp_path: Path) -> None:
    runner = CliRunner()
    for target in ("", str(tmp_path), "/dev/null"):
        result = runner.invoke(main, ["calibrate", str(EXAMPLE), "-o", target, "--force"])
        assert result.exit_code == 2, (target, result.output)
        assert "Traceback" not in result.output
    result = runner.invoke(main, ["calibrate", str(EXAMPLE), "-o",
                                  str(tmp_path / "missing" / "x.toml")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_few_strut_readings_say_the_slope_is_unchecked(tmp_path: Path) -> None:
    lines = ['schema_version = 1', 'base = "tsf-like"', 'name = "c"', 'measured_on = 2026-11-20',
             '[[strut]]', 'size = "long"', 'reading_mm = 200', 'joint_distance_mm = 207.1']
    result, out = _calibrate(tmp_path, "\n".join(lines))
    assert result.exit_code == 0, result.output
    assert "strut size long: 1 different reading(s): the scale's slope is not checked" \
        in result.output
    q = load_catalogue(out).strut_size("long").reading_to_length_offset_mm
    assert (float(q), q.count, q.residual_mm) == (7.1, 1, 0.0)
    assert q.standard_error_mm == pytest.approx(0.05)  # the caliper's own


def test_relative_base_is_read_beside_the_measurements(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    text = resources.files("hexapod").joinpath("data/tsf-like.toml").read_text("utf-8")
    (tmp_path / "mine.toml").write_text(text.replace('name = "tsf-like"', 'name = "mine"'))
    meas = EXAMPLE.read_text().replace('base = "tsf-like"', 'base = "mine.toml"')
    monkeypatch.chdir(ROOT)  # a working folder without mine.toml
    result, _ = _calibrate(tmp_path, meas)
    assert result.exit_code == 0, result.output
    assert "catalogue clinic-a-frame: mine refined" in result.output
    result, _ = _calibrate(tmp_path, meas.replace("mine.toml", "missing.toml"), "--force")
    assert result.exit_code == 2 and "missing.toml" in result.output


BAD_FILES = [
    # (what is changed in the example, the key path the message names, words it says)
    (('joints = [[2, 3], [4, 5], [6, 1], [1, 4], [2, 5]]', 'joints = [[2, 3]]'),
     ('distance_mm = [15.08, 15.12, 15.07, 170.02, 170.05]', 'distance_mm = [15.08]'),
     "ring[1]", "at least two different distances"),
    (('size = "short"', 'size = "huge"'), None, "strut[0].size", "allowed: x-short"),
    (('15.09, 15.07, 162.99', '-15.09, 15.07, 162.99'), None,
     "ring[0].distance_mm[1]", "> 0"),
    (('[[1, 2], [3, 4], [5, 6]', '[[1, 7], [3, 4], [5, 6]'), None, "ring[0].joints[0]", "1..6"),
    (('[[1, 2], [3, 4], [5, 6]', '[[0, 2], [3, 4], [5, 6]'), None, "ring[0].joints[0]", "1..6"),
    (('[[1, 2], [3, 4], [5, 6]', '[[1, 1], [3, 4], [5, 6]'), None, "ring[0].joints[0]", "twice"),
    (('joint_distance_mm = 146.37', 'joint_distance_mm = "146.37"'), None,
     "strut[4].joint_distance_mm", "number"),
    (('joint_distance_mm = 146.37', 'joint_distance_mm = true'), None,
     "strut[4].joint_distance_mm", "number"),
    (('joint_distance_mm = 146.37', 'joint_distance_mm = 1e300'), None,
     "strut[4].joint_distance_mm", "at most"),
    (('size_mm = 155\nposition = "distal"', 'size_mm = 150\nposition = "distal"'), None,
     "ring[1].size_mm", "allowed: 130, 155"),
    (('position = "distal"', 'position = "middle"'), None, "ring[1].position", "proximal or"),
    (('distance_mm = [15.08, 15.12, 15.07, 170.02, 170.05]', 'distance_mm = [15.08]'), None,
     "ring[1].distance_mm", "must list 5 distances"),
    (('measured_on = "2026-11-20"', 'measured_on = "last week"'), None, "measured_on", "date"),
    (('schema_version = 1', 'schema_version = 2'), None, "schema_version", "must be 1"),
    (('reading_mm = 95.0', 'reading = 95.0'), None, "strut[0].reading", "unknown key"),
]


@pytest.mark.parametrize("change, change2, key, words", BAD_FILES)
def test_bad_measurement_files_exit_2_naming_the_entry(
        tmp_path: Path, change: tuple[str, str], change2: tuple[str, str] | None, key: str,
        words: str) -> None:
    text = EXAMPLE.read_text()
    for old, new in [change, *([change2] if change2 else [])]:
        assert old in text
        text = text.replace(old, new, 1)
    result, out = _calibrate(tmp_path, text)
    assert result.exit_code == 2, result.output
    assert f"'{key}'" in result.output and words in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()


def test_inconsistent_ring_distances_exit_2(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("170.02, 170.05]", "17.02, 400.05]")
    result, out = _calibrate(tmp_path, text)
    assert result.exit_code == 2, result.output
    assert "'ring[0], ring[1]'" in result.output and "standard error" in result.output
    assert not out.exists()


def test_no_measurements_and_unreadable_files_exit_2(tmp_path: Path) -> None:
    head = 'schema_version = 1\nbase = "tsf-like"\nname = "c"\nmeasured_on = 2026-11-20\n'
    result, _ = _calibrate(tmp_path, head)
    assert result.exit_code == 2 and "no measurements" in result.output
    result, _ = _calibrate(tmp_path, "name = [")
    assert result.exit_code == 2 and "not valid TOML" in result.output
    missing = CliRunner().invoke(main, ["calibrate", str(tmp_path / "nope.toml"), "-o",
                                        str(tmp_path / "x.toml")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    folder = CliRunner().invoke(main, ["calibrate", str(tmp_path), "-o", str(tmp_path / "y.toml")])
    assert folder.exit_code == 2 and "is a directory" in folder.output


# --- writing catalogues ----------------------------------------------------------------------

def _comparable(cat: Catalogue) -> list[tuple[str, Any]]:
    return [(key, (q.value, q.provenance, q.note, q.fit_fields)) for key, q in cat.quantities()]


def test_written_catalogue_reads_back_equal(synthetic: tuple[Catalogue, Catalogue, str]) -> None:
    _, fitted, _ = synthetic
    for cat in (load_catalogue("tsf-like"), fitted):
        again = parse_catalogue(tomllib.loads(catalogue_to_toml(cat, ["a header"])), "again")
        assert _comparable(again) == _comparable(cat)
        assert (again.name, again.description) == (cat.name, cat.description)
        assert again.layout == cat.layout
    assert any(q.provenance == "measured" for _, q in fitted.quantities())


def test_explicit_joints_are_written() -> None:
    data = _tsf_data()
    joints = [[90.0 * np.cos(a), 90.0 * np.sin(a), 0.0]
              for a in np.radians([80, 100, 200, 220, 320, 340])]
    data["rings"][1]["distal_joints_mm"] = {"value": joints, "provenance": "measured",
                                            "note": "calipers", "count": 12}
    cat = parse_catalogue(data, "x")
    again = parse_catalogue(tomllib.loads(catalogue_to_toml(cat)), "again")
    np.testing.assert_allclose(again.distal_joints(155), joints)
    assert again.ring(155).distal_joints_mm is not None
    assert again.ring(155).distal_joints_mm.count == 12


@given(st.text(max_size=60))
def test_toml_strings_round_trip(text: str) -> None:
    assert tomllib.loads(f"x = {toml_string(text)}")["x"] == text


def test_readme_shows_the_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Describe your own hardware")[1].split("```console\n")[1]
    command, *shown = block.split("\n```")[0].splitlines()
    args = command.removeprefix("$ hexapod ").split()
    (tmp_path / "sample_cases").symlink_to(ROOT / "sample_cases")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == shown


def test_strut_slope_matches_polyfit(rng: np.random.Generator) -> None:
    readings = rng.uniform(100, 180, size=7)
    distances = 1.003 * readings + 4.0 + rng.normal(0, 0.05, size=7)
    fit = fit_strut_offset(readings, distances)
    slope, _ = np.polyfit(readings, distances, 1)
    assert fit.slope == pytest.approx(slope, rel=1e-12)
    assert fit.offset.value == pytest.approx(np.mean(distances - readings), rel=1e-12)
    # a plain loop as the oracle of the standardized residuals
    n, sd = len(readings), max(np.std(distances - readings, ddof=1), 0.05)
    for i in range(n):
        e = distances[i] - readings[i] - fit.offset.value
        assert fit.standardized[i] == pytest.approx(e / (sd * np.sqrt(1 - 1 / n)))


def test_standard_errors_are_honest_over_many_samples() -> None:
    """Over 300 noisy samples the errors fall within 1.96 SE about 95 % of the time and within
    1 SE about 68 %: the standard errors are neither too small nor far too large."""
    rng = np.random.default_rng(11)
    true_r, true_s = 95.0, 14.0
    pairs = [[1, 2], [3, 4], [5, 6], [1, 3], [2, 5], [4, 6], [1, 4], [2, 6]]
    exact = _chord_oracle(true_r, true_s, PROX, pairs)
    z = []
    for _ in range(300):
        noisy = np.array(exact) + rng.normal(0, 0.05, len(exact))
        fit = fit_ring(ChordObservations.from_joints(*PROX, pairs, noisy), 93.8, 15.0)
        z += [(fit.radius.value - true_r) / fit.radius.standard_error_mm,
              (fit.spacing.value - true_s) / fit.spacing.standard_error_mm]
        readings = np.array([120.0, 140.0, 160.0])
        strut = fit_strut_offset(readings, readings + 6.0 + rng.normal(0, 0.05, 3))
        z.append((strut.offset.value - 6.0) / strut.offset.standard_error_mm)
    z_abs = np.abs(np.array(z))
    assert 0.93 <= np.mean(z_abs < 1.96) <= 1.0
    assert 0.60 <= np.mean(z_abs < 1.0) <= 0.85


@given(st.floats(60.0, 150.0), st.floats(8.0, 25.0))
def test_ring_fit_recovers_any_ring(radius: float, spacing: float) -> None:
    pairs = [[1, 2], [1, 3], [2, 5], [4, 6]]
    obs = ChordObservations.from_joints(*DIST, pairs, _chord_oracle(radius, spacing, DIST, pairs))
    fit = fit_ring(obs, 93.8, 15.0)
    assert fit.converged
    assert fit.radius.value == pytest.approx(radius, abs=1e-6)
    assert fit.spacing.value == pytest.approx(spacing, abs=1e-6)
    np.testing.assert_allclose(fit.residuals_mm, 0.0, atol=1e-6)


class _Raw(str):
    """TOML text written as it is."""


def _render(doc: dict[str, Any]) -> str:
    """A measurement document as TOML (top-level values, then arrays of tables)."""
    from hexapod.io.catalogue_write import toml_value as value_text

    def toml_value(value: Any) -> str:
        return str(value) if isinstance(value, _Raw) else value_text(value)

    lines = [f"{k} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, list)
             or not all(isinstance(e, dict) for e in v) or not v]
    for key, entries in doc.items():
        if isinstance(entries, list) and entries and all(isinstance(e, dict) for e in entries):
            for entry in entries:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def test_mutated_measurement_files_exit_0_or_2_only(tmp_path: Path) -> None:
    """Every value of the example replaced by a wrong type or number, or deleted: exit 0 or 2,
    never a traceback, and exit 2 only with a message."""
    doc = tomllib.loads(EXAMPLE.read_text())
    doc["measured_on"] = "2026-11-20"
    leaves: list[tuple[Any, ...]] = [(k,) for k in doc if not isinstance(doc[k], list)]
    for key in ("strut", "ring"):
        for i, entry in enumerate(doc[key]):
            leaves += [(key, i, k) for k in entry]
    bad_values: list[Any] = [_Raw(t) for t in (
        '"text"', "true", "[]", "[1, 2]", "-1.0", "0", "1e300", "nan", "-inf", "{}",
        "[" + ", ".join(["[1, 2]"] * 40) + "]", "1" + "0" * 30, '"2026-02-30"', "2026-02-28",
        '"\u00e9\u4e2d"')] + [None]
    codes: dict[int, int] = {}
    runner = CliRunner()
    for leaf in leaves:
        for bad in bad_values:
            mutated = copy.deepcopy(doc)
            node: Any = mutated
            for part in leaf[:-1]:
                node = node[part]
            if bad is None:
                del node[leaf[-1]]
            else:
                node[leaf[-1]] = bad
            path = tmp_path / "m.toml"
            path.write_text(_render(mutated))
            result = runner.invoke(main, ["calibrate", str(path), "-o",
                                          str(tmp_path / "out.toml"), "--force"])
            assert result.exit_code in (0, 2), (leaf, bad, result.output, result.exception)
            assert "Traceback" not in result.output
            if result.exit_code == 2:
                assert "Error:" in result.output
            codes[result.exit_code] = codes.get(result.exit_code, 0) + 1
    assert codes.get(2, 0) > 100


@pytest.mark.parametrize(("number", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                              (11, "11th"), (12, "12th"), (13, "13th"),
                                              (21, "21st"), (22, "22nd"), (101, "101st"),
                                              (111, "111th"), (112, "112th")])
def test_entries_are_also_counted_from_one(number: int, text: str) -> None:
    from hexapod.io.calibration_report import ordinal, with_entry_number

    assert ordinal(number) == text
    assert with_entry_number(f"strut[{number - 1}].reading_mm") == \
        f"strut[{number - 1}].reading_mm (the {text} [[strut]] entry)"
    assert with_entry_number("strut_sizes.value") == "strut_sizes.value"


def test_pair_spacing_below_the_strut_diameter_is_refused(tmp_path: Path) -> None:
    # a ring whose pair joints really are 12 mm apart (the truth built with thinner struts so
    # that it loads): the fit finds 12 mm, which struts 14 mm thick cannot have
    data = copy.deepcopy(_tsf_data())
    data["limits"]["strut_diameter_mm"] = {"value": 10.0, "provenance": "default"}
    for ring in data["rings"]:
        if ring["size_mm"]["value"] == 155:
            ring["pair_spacing_mm"] = {"value": 12.0, "provenance": "unverified"}
    truth = parse_catalogue(data, "truth")
    result, out = _calibrate(tmp_path, _measurement_text(truth, np.random.default_rng(5)))
    assert result.exit_code == 2, result.output
    assert ("the fitted pair spacing of the 155 mm ring, 11.980 mm, is not more than the "
            "strut diameter 14 mm (limits.strut_diameter_mm)") in result.output
    assert "'ring[0], ring[1]'" in result.output
    assert not out.exists()


SAMPLE_MEASUREMENTS = ROOT / "sample_cases" / "hardware" / "calibration_example.toml"


def _sample_with_pairs(tmp_path: Path, first: str, second: str) -> tuple[Any, Path]:
    text = SAMPLE_MEASUREMENTS.read_text()
    text = text.replace("distance_mm = [15.08, 15.09, 15.07", f"distance_mm = [{first}")
    text = text.replace("distance_mm = [15.08, 15.12, 15.07", f"distance_mm = [{second}")
    return _calibrate(tmp_path, text)


@pytest.mark.parametrize(("pairs", "written"), [("13.9575, 13.9575, 13.9575", "14.000"),
                                                 ("13.957, 13.957, 13.957", "14.000"),
                                                 ("13.9, 13.9, 13.9", "13.945")])
def test_a_spacing_that_would_be_written_as_the_diameter_is_refused(
        tmp_path: Path, pairs: str, written: str) -> None:
    # the first two fits lie just above and just below 14 mm (about 14.0004 and 13.9995) and
    # would both be written as 14.000, not more than the 14 mm strut diameter: nothing is
    # written
    result, out = _sample_with_pairs(tmp_path, pairs, pairs)
    assert result.exit_code == 2, result.output
    assert f"155 mm ring, {written} mm, is not more than the strut diameter 14 mm" in \
        result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "measurements.toml"]


def test_a_refused_spacing_still_names_the_likely_wrong_measurement(tmp_path: Path) -> None:
    result, out = _sample_with_pairs(tmp_path, "14.1, 14.1, 14.1", "14.1, 14.1, 11.0")
    assert result.exit_code == 2, result.output
    assert "is not more than the strut diameter" in result.output
    assert ("ring[1].distance_mm[2] (joints [6, 1]; the 2nd [[ring]] entry) is the most "
            "likely wrong") in result.output
    assert not out.exists()


def test_a_spacing_just_over_the_diameter_is_written(tmp_path: Path) -> None:
    pairs = "14.02, 14.02, 14.02"
    result, out = _sample_with_pairs(tmp_path, pairs, pairs)
    assert result.exit_code == 0, result.output
    assert "rings[155].pair_spacing_mm" in result.output and out.is_file()
