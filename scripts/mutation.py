"""Mutation testing of the maths core, module by module, with a score per module.

Usage (from the repository's root, with the dev extras installed; not part of CI, it is slow)::

    python scripts/mutation.py                       # every core module
    python scripts/mutation.py hexapod/planning/safety.py hexapod/transforms.py
    python scripts/mutation.py --survivors           # also list each surviving mutant
    python scripts/mutation.py --survivors-only hexapod/planning/safety.py  # after new tests

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
        "hexapod/_fk_kernel.py", "hexapod/_fk_soa.py", "hexapod/_fk_solve.py",
        "hexapod/_fk_single.py", "hexapod/checks.py",
        "hexapod/frame.py", "hexapod/hardware.py", "hexapod/case.py", "hexapod/anatomy.py",
        "hexapod/clinical.py", "hexapod/findings.py", "hexapod/readback.py",
        "hexapod/resume.py", "hexapod/visit.py", "hexapod/calibration.py", "hexapod/sensitivity.py",
        "hexapod/planning/clock.py", "hexapod/planning/pace.py", "hexapod/planning/path.py",
        "hexapod/planning/sizes.py", "hexapod/planning/rounding.py",
        "hexapod/planning/safety.py", "hexapod/planning/advice.py",
        "hexapod/planning/remedies.py", "hexapod/planning/result.py",
        "hexapod/planning/__init__.py")

#: mutmut's status of a mutant (``mutmut.stats.status_by_exit_code``, mutmut 3.8: 1 and 3 a
#: failing test, 0 survived, 33 and 5 no test runs the function, 36, 24, 152, 255 and -24 the
#: CPU-time limit, -9 and -11 the test process was killed, 37 a type check refused it, None not
#: run yet) grouped into the columns of the report. A mutant that no test executes counts as a
#: survivor: nothing would notice it.
CAUGHT = {"killed": "killed", "caught by type check": "killed", "segfault": "killed",
          "timeout": "timeout", "survived": "survived", "no tests": "survived"}


def status(code: int | None) -> str:
    """mutmut's name for a mutant's exit code ("killed", "survived", "no tests", ...)."""
    from mutmut.stats import status_by_exit_code  # mutmut's own table, not a copy of it

    return str(status_by_exit_code[code])


def column(code: int | None) -> str:
    """Report column of a mutant: killed, survived, timeout or other (not checked, skipped,
    interrupted, suspicious)."""
    return CAUGHT.get(status(code), "other")


def dotted(module: str) -> str:
    """``hexapod/planning/safety.py`` -> ``hexapod.planning.safety``."""
    name = module.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def run(module: str, survivors_only: bool = False) -> None:
    """Run mutmut on the functions of one module (or only on its earlier survivors)."""
    names = [dotted(module) + ".x*"]
    if survivors_only:
        names = [name for name, code in outcomes(module).items() if column(code) != "killed"
                 and column(code) != "timeout"]
        if not names:
            return
    log = ROOT / "mutants" / "mutation-run.log"  # a file, not a pipe: mutmut outlives us
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        code = subprocess.run([sys.executable, "-m", "mutmut", "run", *names], cwd=ROOT,
                              check=False, stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:  # e.g. the tests fail without a mutant: no score means anything
        print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
        sys.exit(f"mutmut run on {module} failed (exit {code}); see {log}")


def outcomes(module: str) -> dict[str, int | None]:
    """Exit code of every mutant of a module, from mutmut's ``.meta`` file."""
    meta = ROOT / "mutants" / (module + ".meta")
    if not meta.is_file():
        return {}
    data = json.loads(meta.read_text())
    return dict(data.get("exit_code_by_key", {}))


def score(codes: dict[str, int | None]) -> tuple[int, int, int, int, float]:
    """(killed, survived, timed out, not checked, score in %)."""
    columns = [column(c) for c in codes.values()]
    killed, survived, timeout = (columns.count(name) for name in ("killed", "survived", "timeout"))
    other = len(columns) - killed - survived - timeout
    checked = killed + survived + timeout
    return killed, survived, timeout, other, 100.0 * (killed + timeout) / max(checked, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(CORE))
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    parser.add_argument("--report-only", action="store_true",
                        help="read the results of earlier runs, run nothing")
    parser.add_argument("--survivors-only", action="store_true",
                        help="run again only the mutants that were not killed last time "
                             "(after adding tests)")
    args = parser.parse_args()
    print(f"{'module':<34} {'killed':>6} {'survived':>8} {'timeout':>7} {'other':>5} "
          f"{'score':>6}")
    worst = 100.0
    for module in args.modules:
        if not args.report_only:
            run(module, args.survivors_only)
        codes = outcomes(module)
        k, s, t, o, pct = score(codes)
        worst = min(worst, pct) if codes else worst
        print(f"{module:<34} {k:>6} {s:>8} {t:>7} {o:>5} {pct:>5.1f}%")
        if args.survivors:
            for name, code in sorted(codes.items()):
                if column(code) in ("survived", "other"):
                    print(f"    {status(code)}: {name}")
    print(f"lowest module score: {worst:.1f}% (goal: 90%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
