"""Mutation testing of the maths core, module by module, with a score per module.

Usage (from the repository's root, with the dev extras installed; not part of CI, it is slow)::

    python scripts/mutation.py                       # every core module
    python scripts/mutation.py hexapod/planning/safety.py hexapod/transforms.py
    python scripts/mutation.py --survivors           # also list each surviving mutant

It runs ``mutmut run`` for the functions of each module (configuration in pyproject.toml,
``[tool.mutmut]``), then reads mutmut's result files and prints, per module, the mutants
killed, survived, timed out and not checked, and the score: killed (and timed out) over all
checked. The goal is 90 % in every core module; docs/testing.md lists the survivors that
remain with the reason each is equivalent or harmless.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The maths core: every module mutation testing covers.
CORE = ("hexapod/transforms.py", "hexapod/geometry.py", "hexapod/kinematics.py",
        "hexapod/frame.py", "hexapod/hardware.py", "hexapod/case.py", "hexapod/anatomy.py",
        "hexapod/clinical.py", "hexapod/findings.py", "hexapod/readback.py",
        "hexapod/resume.py", "hexapod/calibration.py", "hexapod/sensitivity.py",
        "hexapod/planning/clock.py", "hexapod/planning/pace.py", "hexapod/planning/path.py",
        "hexapod/planning/sizes.py", "hexapod/planning/rounding.py",
        "hexapod/planning/safety.py", "hexapod/planning/advice.py",
        "hexapod/planning/remedies.py", "hexapod/planning/result.py",
        "hexapod/planning/__init__.py")

#: mutmut's exit codes of a mutant's test run, by outcome.
KILLED = {1, 3}      # a test failed (3: the mutant crashed the run)
TIMEOUT = {-24, 24, 36, 152, 255}
SURVIVED = {0}
SKIPPED = {5, 33, 34}  # no test ran the mutated function


def dotted(module: str) -> str:
    """``hexapod/planning/safety.py`` -> ``hexapod.planning.safety``."""
    name = module.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def run(module: str) -> None:
    """Run mutmut on the functions of one module."""
    pattern = dotted(module) + ".x*"
    subprocess.run([sys.executable, "-m", "mutmut", "run", pattern], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL)


def outcomes(module: str) -> dict[str, int | None]:
    """Exit code of every mutant of a module, from mutmut's ``.meta`` file."""
    meta = ROOT / "mutants" / (module + ".meta")
    if not meta.is_file():
        return {}
    data = json.loads(meta.read_text())
    return dict(data.get("exit_code_by_key", {}))


def score(codes: dict[str, int | None]) -> tuple[int, int, int, int, float]:
    """(killed, survived, timed out, not checked, score in %)."""
    killed = sum(c in KILLED for c in codes.values())
    survived = sum(c in SURVIVED for c in codes.values())
    timeout = sum(c in TIMEOUT for c in codes.values())
    other = len(codes) - killed - survived - timeout
    checked = killed + survived + timeout
    return killed, survived, timeout, other, 100.0 * (killed + timeout) / max(checked, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(CORE))
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    parser.add_argument("--report-only", action="store_true",
                        help="read the results of earlier runs, run nothing")
    args = parser.parse_args()
    print(f"{'module':<34} {'killed':>6} {'survived':>8} {'timeout':>7} {'other':>5} "
          f"{'score':>6}")
    worst = 100.0
    for module in args.modules:
        if not args.report_only:
            run(module)
        codes = outcomes(module)
        k, s, t, o, pct = score(codes)
        worst = min(worst, pct) if codes else worst
        print(f"{module:<34} {k:>6} {s:>8} {t:>7} {o:>5} {pct:>5.1f}%")
        if args.survivors:
            for name, code in sorted(codes.items()):
                if code in SURVIVED:
                    print(f"    survived: {name}")
    print(f"lowest module score: {worst:.1f}% (goal: 90%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
