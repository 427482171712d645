"""Project rules that must stay true: README commands, CI, layering."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _readme_commands()
    assert len(commands) >= 2
    run, test = commands[0], commands[1]
    assert "hexapod plan sample_cases/" in run
    assert "pytest" in test
    assert test in (ROOT / ".ci/run").read_text(), ".ci/run must run the README's test command"
    sample = run.split("hexapod plan ")[1].split()[0]
    assert (ROOT / sample).is_file()


def test_core_layer_imports_nothing_above_it() -> None:
    core = [p for p in (ROOT / "hexapod").rglob("*.py") if "io" not in p.parts
            and p.name not in ("__init__.py", "__main__.py")]
    core.append(ROOT / "hexapod" / "planning" / "__init__.py")
    assert len(core) >= 15
    for path in core:
        name = path.relative_to(ROOT)
        text = path.read_text()
        for banned in ("matplotlib", "click", "hexapod.io", "cli", "tomllib", "json"):
            assert not re.search(rf"^\s*(import|from) {re.escape(banned)}\b", text, re.M), \
                f"{name} imports {banned}"


def test_no_hardware_numbers_in_code() -> None:
    for path in (ROOT / "hexapod").rglob("*.py"):
        text = path.read_text()
        for number in ("93.8", "14.98", "289", "178", "169"):
            assert number not in text, f"{path} holds hardware number {number}"


def test_plan_table_csv_json_import_neither_scipy_nor_matplotlib() -> None:
    import subprocess
    import sys

    probe = ("import sys, runpy\n"
             "sys.argv = ['hexapod', 'plan', {case!r}, '--format', {fmt!r}]\n"
             "try:\n"
             "    runpy.run_module('hexapod', run_name='__main__')\n"
             "except SystemExit as exc:\n"
             "    assert not exc.code, exc.code\n"
             "heavy = sorted(m for m in sys.modules\n"
             "               if m.split('.')[0] in ('scipy', 'matplotlib'))\n"
             "sys.stderr.write('HEAVY:' + ','.join(heavy))\n")
    case = str(ROOT / "sample_cases" / "right_tibia_chronic.toml")
    for fmt in ("table", "csv", "json"):
        done = subprocess.run([sys.executable, "-c", probe.format(case=case, fmt=fmt)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-500:]
        assert done.stderr.rsplit("HEAVY:", 1)[1] == "", (fmt, done.stderr[-300:])
        assert "2026-12-17" in done.stdout


def test_modules_and_functions_stay_readable() -> None:
    import ast

    for path in (ROOT / "hexapod").rglob("*.py"):
        text = path.read_text()
        assert text.count("\n") <= 420, f"{path.relative_to(ROOT)} has {text.count(chr(10))} lines"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= 75, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length}"
