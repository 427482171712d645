"""Speed and memory figures for hexapod, each beside its goal and a reference measured in the
same run (plain script, not a test; timings never live in the test suite).

Run:  python benchmarks/run.py [--repeat 5] [--sensitivity-samples 1000000] [--quick]

Every time is the median of ``--repeat`` runs. References: the per-pose Python loop, a
per-pose ``scipy.optimize.least_squares`` forward kinematics, and a numpy copy of the same
bytes (the memory-bandwidth bound). Goals (issue 14, this 2-core machine):

  IK   >= 20 M poses/s at 10^6 poses, extra memory < 64 B per pose
  FK   >= 500 k poses/s at 10^5 poses to 1e-10 mm; one pose < 0.3 ms
  sensitivity: 10^6 samples < 5 s; peak memory < 600 MB at 2x10^6 (run with
       ``--sensitivity-samples 2000000``)
  `hexapod plan CASE` (table) wall time <= 2.5x `python -c "import numpy"`
  plan: a 90-day x 4 plan in <= 50 ms, a 365-day x 6 plan in < 150 ms; the neutral-strut
       suggestion costs no more than the plan it advises on
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.io.catalogue_file import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "sample_cases" / "right_tibia_chronic.toml"


def median_time(func: Callable[[], Any], repeat: int) -> float:
    """Median wall time (s) of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, value: float, unit: str, goal: str, ok: bool | None,
        reference: str = "", ref_value: float | None = None, ratio: float | None = None) -> None:
    """One line: figure, goal, verdict, and the reference beside it with the ratio."""
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    ref = "" if ref_value is None else f"{reference}: {ref_value:,.4g}"
    rat = "" if ratio is None else f"x{ratio:,.3g}"
    print(f"{name:<40} {value:>12,.4g} {unit:<9} {goal:<12} {verdict:<7} {ref:<34} {rat}")


def blas_threads() -> str:
    """The BLAS thread setting, from threadpoolctl when installed, else the environment."""
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-not-found]
    except ImportError:
        names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        env = ", ".join(f"{n}={os.environ.get(n, 'unset')}" for n in names)
        return f"threadpoolctl not installed; {env}; cpus={os.cpu_count()}"
    info = [f"{p.get('internal_api')} {p.get('num_threads')} threads"
            for p in threadpool_info()]
    return "; ".join(info) or "no BLAS pool loaded"


def random_poses(n: int, seed: int = 0, angle_deg: float = 8.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rotvec = rng.normal(size=(n, 3)) * np.radians(angle_deg)
    trans = rng.normal(size=(n, 3)) * 8 + [0, 0, -140]
    return tf.from_rotation_translation(tf.rotation_from_rotvec(rotvec), trans)


def bench_ik(ref: np.ndarray, mov: np.ndarray, repeat: int) -> None:
    n = 1_000_000
    poses = random_poses(n)
    copy_rate = n / median_time(lambda: poses.copy(), repeat)
    row("numpy copy of the poses (bandwidth)", copy_rate / 1e6, "M/s", "(bound)", None)
    unchecked = n / median_time(lambda: kin.strut_lengths(ref, mov, poses, check=False), repeat)
    row("IK 10^6 poses, unchecked", unchecked / 1e6, "M poses/s", ">= 20", unchecked >= 20e6,
        "copy", copy_rate / 1e6, unchecked / copy_rate)
    checked = n / median_time(lambda: kin.strut_lengths(ref, mov, poses), repeat)
    row("IK 10^6 poses, checked", checked / 1e6, "M poses/s", "~unchecked", None,
        "unchecked", unchecked / 1e6, checked / unchecked)
    tracemalloc.start()
    kin.strut_lengths(ref, mov, poses)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    extra = (peak - 48 * n) / n  # beyond the (n, 6) output itself
    row("IK extra memory (checked)", extra, "B/pose", "< 64", extra < 64)
    m = 20_000

    def loop() -> None:
        for p in poses[:m]:
            [float(np.linalg.norm(p[:3, :3] @ b + p[:3, 3] - a))
             for a, b in zip(ref, mov, strict=True)]

    loop_rate = m / median_time(loop, 1)
    row("IK per-pose Python loop", loop_rate / 1e6, "M poses/s", "(reference)", None)
    row("IK batched over the loop", unchecked / loop_rate, "x", ">= 50",
        unchecked / loop_rate >= 50, "loop", loop_rate / 1e6, unchecked / loop_rate)


def scipy_fk(ref: np.ndarray, mov: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per-pose forward kinematics with ``scipy.optimize.least_squares`` (the reference)."""
    from scipy.optimize import least_squares

    def residual(x: np.ndarray, target: np.ndarray) -> np.ndarray:
        pose = tf.from_rotation_translation(tf.rotation_from_rotvec(x[3:]), x[:3])
        return kin._lengths_unchecked(ref, mov, pose) - target

    out = np.empty((len(lengths), 6))
    for i, target in enumerate(lengths):
        x0 = np.array([0.0, 0.0, -140.0, 0.0, 0.0, 0.0])
        out[i] = least_squares(residual, x0, args=(target,), xtol=1e-15, ftol=1e-15,
                               gtol=1e-15).x
    return out


def bench_fk(ref: np.ndarray, mov: np.ndarray, repeat: int) -> None:
    k = 100_000
    poses = random_poses(k)
    lengths = kin.strut_lengths(ref, mov, poses)
    rate = k / median_time(lambda: kin.solve_pose(ref, mov, lengths, moving_side=-1.0), repeat)
    status = k / median_time(
        lambda: kin.solve_pose_status(ref, mov, lengths, moving_side=-1.0), repeat)
    worst = float(np.max(np.abs(kin.solve_pose(ref, mov, lengths, moving_side=-1.0) - poses)))
    m = 100
    scipy_rate = m / median_time(lambda: scipy_fk(ref, mov, lengths[:m]), 1)
    loop_rate = m / median_time(
        lambda: [kin.solve_pose(ref, mov, x, moving_side=-1.0) for x in lengths[:m]], 1)
    row("FK 10^5 poses, with condition guard", rate / 1e3, "k poses/s", ">= 500",
        rate >= 5e5, "scipy least_squares/pose", scipy_rate / 1e3, rate / scipy_rate)
    row("FK 10^5 poses, status per pose", status / 1e3, "k poses/s", ">= 500", status >= 5e5,
        "per-pose loop", loop_rate / 1e3, status / loop_rate)
    row("FK round-trip error (max |dpose|)", worst, "mm", "< 1e-9", worst < 1e-9)
    single = median_time(lambda: kin.solve_pose(ref, mov, lengths[0], moving_side=-1.0),
                         max(20, repeat))
    row("FK single pose", single * 1e3, "ms", "< 0.3", single < 3e-4,
        "scipy least_squares (ms)", 1e3 / scipy_rate, 1.0 / scipy_rate / single)


SENSITIVITY = """
import sys, time
from hexapod.clinical import build_plan_input
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.sensitivity import Uncertainty, analyse
pi = build_plan_input(read_case(sys.argv[1]), load_catalogue())
start = time.perf_counter()
result = analyse(pi, Uncertainty(), samples=int(sys.argv[2]))
seconds = time.perf_counter() - start
# VmHWM: this process's own peak (ru_maxrss would also count the parent's pages at fork)
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(seconds, peak_kb / 1024, result.failed_samples)
"""


def bench_sensitivity(samples: int) -> None:
    out = subprocess.run([sys.executable, "-c", SENSITIVITY, str(CASE), str(samples)],
                         check=True, capture_output=True, text=True).stdout.split()
    seconds, peak_mb, failed = float(out[0]), float(out[1]), int(out[2])
    goal_s = 5.0 * samples / 1e6
    row(f"sensitivity, {samples:,} samples", seconds, "s", f"< {goal_s:g}", seconds < goal_s)
    row("sensitivity peak memory (process)", peak_mb, "MB", "< 600 @2e6", peak_mb < 600.0)
    row("sensitivity failed samples", failed, "", "(counted)", None)


def wall(args: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    def run() -> None:
        subprocess.run(args, check=True, capture_output=True, env=env)
    run()  # warm the file cache (and write the bytecode cache)
    return median_time(run, repeat)


def installed_env(cache: str) -> dict[str, str]:
    """The environment of an installed package: bytecode cached (``pip install`` compiles it;
    an editable install under ``PYTHONDONTWRITEBYTECODE`` would compile every module on
    every start), here in a temporary ``PYTHONPYCACHEPREFIX`` for every module alike."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def bench_startup(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = installed_env(cache)
        numpy_s = wall([sys.executable, "-c", "import numpy"], repeat, env)
        plan_s = wall([sys.executable, "-m", "hexapod", "plan", str(CASE)], repeat, env)
    row("`hexapod plan CASE` (table) wall", plan_s, "s", "<= 2.5x numpy", plan_s <= 2.5 * numpy_s,
        "python -c 'import numpy'", numpy_s, plan_s / numpy_s)
    probe = ("import runpy, sys; sys.argv = ['hexapod', 'plan', sys.argv[1]]\n"
             "try:\n    runpy.run_module('hexapod', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(' '.join(m for m in ('scipy', 'matplotlib') if m in sys.modules),"
             " file=sys.stderr)")
    heavy = subprocess.run([sys.executable, "-c", probe, str(CASE)], capture_output=True,
                           text=True).stderr.strip().splitlines()
    print(f"{'  heavy modules imported by plan':<40} {heavy[-1] if heavy else 'none'}")


def rowwise_rounding(plan_input: Any, poses: np.ndarray, lengths: np.ndarray,
                     size_index: np.ndarray, key_points_ring: np.ndarray) -> np.ndarray:
    """The rounding rule one row at a time (the reference for the bulk choice)."""
    from hexapod.planning import rounding

    cand, score = rounding.rounding_scores(plan_input, poses, lengths, size_index,
                                           key_points_ring)
    off = plan_input.catalogue.range_table()[3][size_index]
    cand_len = cand + off[:, None, :]
    gradual = plan_input.case.correction.method == "gradual"
    limit = float(plan_input.catalogue.limits.max_change_per_adjustment_mm) if gradual else np.inf
    out = np.empty((len(lengths), 6))
    prev_len = None
    for j in range(len(lengths)):
        s = score[j]
        if prev_len is not None:
            ok = rounding._allowed(cand_len[j] - prev_len, lengths[j] - lengths[j - 1], limit)
            if np.isfinite(s[ok]).any():
                s = np.where(ok, s, np.inf)
        best = int(np.argmin(s))
        out[j] = cand[j, best]
        prev_len = cand_len[j, best]
    return out


def long_case(rate_mm_per_day: float, per_day: int, neutral_strut_mm: float = 170) -> Any:
    """The right tibia sample with a long oblique correction, at a rate and adjustments a day
    (with the default neutral strut no strut changes size; with 180 mm, four swaps)."""
    from hexapod.case import Deformity, StructureAtRisk
    from hexapod.clinical import build_plan_input
    from hexapod.io.case_file import read_case

    case = read_case(CASE)
    case = dataclasses.replace(
        case, deformity=Deformity(ap_angulation_deg=25, ap_angulation_dir="varus",
                                  lat_angulation_deg=10, lat_angulation_dir="apex_anterior",
                                  axial_translation_mm=20, axial_translation_dir="short"),
        structures_at_risk=(StructureAtRisk("far point", ap_mm=60, ap_dir="lateral",
                                            axial_mm=80, axial_dir="distal"),),
        correction=dataclasses.replace(case.correction, rate_mm_per_day=rate_mm_per_day,
                                       adjustments_per_day=per_day),
        frame=dataclasses.replace(case.frame, neutral_strut_mm=neutral_strut_mm))
    return build_plan_input(case, load_catalogue())


def bench_plan_case(plan_input: Any, goal_s: float, goal: str, repeat: int) -> None:
    """Plan time beside its goal; the rounding step beside the row-by-row loop; the
    neutral-strut suggestion beside the plan itself."""
    from hexapod.planning import advice, fit_sizes, joint_lengths, path, rounding
    from hexapod.planning import plan as plan_case
    from hexapod.planning.pace import pace_report

    result = plan_case(plan_input)
    label = (f"{result.days}d x{plan_input.case.correction.adjustments_per_day} "
             f"{result.swap_count} swaps")
    t_plan = median_time(lambda: plan_case(plan_input), repeat)
    poses, day, _, _ = path.rows(plan_input, pace_report(plan_input).stage_days)
    lengths = joint_lengths(plan_input, poses)
    sizes = fit_sizes(plan_input, lengths, day)
    key = rounding.key_points_in_ring(plan_input, poses)
    t_bulk = median_time(
        lambda: rounding.round_readings(plan_input, poses, lengths, sizes, key, None), repeat)
    t_rows = median_time(lambda: rowwise_rounding(plan_input, poses, lengths, sizes, key),
                         repeat)
    same = np.array_equal(rounding.round_readings(plan_input, poses, lengths, sizes, key, None),
                          rowwise_rounding(plan_input, poses, lengths, sizes, key))
    row(f"plan, {label}", t_plan * 1e3, "ms", goal, t_plan <= goal_s,
        "plan - rounding + row loop (ms)", (t_plan - t_bulk + t_rows) * 1e3,
        t_plan / (t_plan - t_bulk + t_rows))
    row(f"  rounding step, {label}", t_bulk * 1e3, "ms", "(bulk rows)", None,
        "row-by-row loop (ms)", t_rows * 1e3, t_bulk / t_rows)
    print(f"{'  rounding identical to the row loop':<40} {same}")
    t_advice = median_time(lambda: advice.suggest_neutral_strut(plan_input, result), repeat)
    row(f"neutral suggestion, {label}", t_advice * 1e3, "ms", "<= plan",
        t_advice <= t_plan, "the plan itself (ms)", t_plan * 1e3, t_advice / t_plan)
    t_all = median_time(lambda: advice.neutral_candidates(plan_input, poses), 1)
    row("  fitting every candidate", t_all * 1e3, "ms", "(reference)", None,
        "suggestion (ms)", t_advice * 1e3, t_all / t_advice)


def bench_plan(repeat: int) -> None:
    bench_plan_case(long_case(0.5, 4), 0.05, "<= 50", repeat)
    bench_plan_case(long_case(0.1163, 6), 0.15, "< 150", repeat)
    bench_plan_case(long_case(0.1163, 6, 180), 0.15, "< 150", repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sensitivity-samples", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="skip sensitivity and plan")
    parser.add_argument("--only", choices=("ik", "fk", "startup", "plan", "sensitivity"),
                        help="run one group of figures")
    args = parser.parse_args()
    print(f"BLAS: {blas_threads()}")
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    print(f"{'figure':<40} {'value':>12} {'unit':<9} {'goal':<12} {'':<7} {'reference':<34} "
          "ratio")
    geo = load_catalogue().frame_geometry(155, 155)
    groups: dict[str, Callable[[], None]] = {
        "ik": lambda: bench_ik(geo.reference_joints, geo.moving_joints, args.repeat),
        "fk": lambda: bench_fk(geo.reference_joints, geo.moving_joints, args.repeat),
        "startup": lambda: bench_startup(args.repeat),
        "plan": lambda: bench_plan(args.repeat),
        "sensitivity": lambda: bench_sensitivity(args.sensitivity_samples),
    }
    for name, run in groups.items():
        if args.only in (None, name) and not (args.quick and name in ("plan", "sensitivity")):
            run()


if __name__ == "__main__":
    main()
