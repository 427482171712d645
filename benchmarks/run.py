"""Speed figures for hexapod, printed with their targets (plain script, not a test).

Run:  python benchmarks/run.py

Targets (this 2-core machine):
  IK  >= 5 million poses/s batched, and >= 50x a per-pose Python loop
  FK  >= 100,000 poses/s batched to 1e-9 mm; one pose < 1 ms
  plan: 90 days x 4 adjustments with all checks <= 50 ms in-process
  `hexapod plan CASE` (table) <= 1 s wall
  sensitivity: 100,000 samples <= 2 s
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hexapod import kinematics as kin
from hexapod import transforms as tf
from hexapod.case import Deformity, StructureAtRisk
from hexapod.clinical import build_plan_input
from hexapod.io.case_file import read_case
from hexapod.io.catalogue_file import load_catalogue
from hexapod.planning import plan
from hexapod.sensitivity import Uncertainty, analyse

ROOT = Path(__file__).resolve().parent.parent


def best_of(func: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def report(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    print(f"{name:<46} {value:>14,.1f} {unit:<10} target {target:<14} {'ok' if ok else 'MISSED'}")


def main() -> None:
    cat = load_catalogue()
    geo = cat.frame_geometry(155, 155)
    ref, mov = geo.reference_joints, geo.moving_joints
    rng = np.random.default_rng(0)
    n = 1_000_000
    rotvec = rng.normal(size=(n, 3)) * np.radians(8)
    trans = rng.normal(size=(n, 3)) * 8 + [0, 0, -140]
    poses = tf.from_rotation_translation(tf.rotation_from_rotvec(rotvec), trans)

    t = best_of(lambda: kin.strut_lengths(ref, mov, poses, check=False))
    ik_rate = n / t
    report("IK batched (unchecked)", ik_rate, "poses/s", ">= 5e6", ik_rate >= 5e6)
    t = best_of(lambda: kin.strut_lengths(ref, mov, poses), repeat=3)
    report("IK batched (with rigid-transform check)", n / t, "poses/s", "(info)", True)
    m = 20000

    def loop() -> None:
        for p in poses[:m]:
            [float(np.linalg.norm(p[:3, :3] @ b + p[:3, 3] - a)) for a, b in zip(ref, mov,
                                                                                 strict=True)]

    loop_rate = m / best_of(loop, repeat=1)
    report("IK per-pose Python loop", loop_rate, "poses/s", "(baseline)", True)
    ratio = ik_rate / loop_rate
    report("IK speed-up over the loop", ratio, "x", ">= 50", ratio >= 50)

    k = 100_000
    lengths = kin.strut_lengths(ref, mov, poses[:k])
    t = best_of(lambda: kin.solve_pose(ref, mov, lengths), repeat=3)
    report("FK batched (to 1e-10 mm, with condition guard)", k / t, "poses/s", ">= 1e5",
           k / t >= 1e5)
    t = best_of(lambda: kin.solve_pose(ref, mov, lengths[0]), repeat=20)
    report("FK single pose", t * 1e3, "ms", "< 1", t < 1e-3)

    case = read_case(ROOT / "sample_cases/right_tibia_chronic.toml")
    long_case = dataclasses.replace(
        case, deformity=Deformity(ap_angulation_deg=25, ap_angulation_dir="varus",
                                  lat_angulation_deg=10, lat_angulation_dir="apex_anterior",
                                  axial_translation_mm=20, axial_translation_dir="short"),
        structures_at_risk=(StructureAtRisk("far point", ap_mm=60, ap_dir="lateral",
                                            axial_mm=80, axial_dir="distal"),),
        correction=dataclasses.replace(case.correction, rate_mm_per_day=0.5),
        frame=dataclasses.replace(case.frame, neutral_strut_mm=170))
    pi = build_plan_input(long_case, cat)
    result = plan(pi)
    t = best_of(lambda: plan(pi))
    report(f"plan, {result.days} days x 4 adjustments", t * 1e3, "ms", "<= 50 (90 days)",
           t <= 0.05 * max(1.0, result.days / 90))

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hexapod", "plan",
                    str(ROOT / "sample_cases/right_tibia_chronic.toml")], check=True,
                   capture_output=True)
    wall = time.perf_counter() - start
    report("`python -m hexapod plan CASE` wall", wall, "s", "<= 1", wall <= 1.0)

    pi = build_plan_input(case, cat)
    t = best_of(lambda: analyse(pi, Uncertainty(), samples=100_000), repeat=2)
    report("sensitivity, 100,000 samples", t, "s", "<= 2", t <= 2.0)


if __name__ == "__main__":
    main()
