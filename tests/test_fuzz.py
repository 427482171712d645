"""A seeded fuzz harness over the command line.

Mutated case and catalogue files (a key deleted, wrong types, NaN, inf, huge, zero, negative,
bad dates, unknown words, unicode and very long names, a byte-order mark, binary garbage, JSON
cases with duplicate keys) are given to every command, with output paths that are folders,
missing, under a file, devices or existing files. The promise checked on every run:

* the exit code is 0, 1 or 2 (never 3, never an uncaught exception) and nothing prints a
  traceback;
* an exit-0 output holds no ``nan`` or ``inf``;
* nothing is overwritten without ``--force``, a device is never replaced, and no temporary file
  is left behind.

A bounded part (:data:`BOUNDED_RUNS`) runs with the normal test command. A longer run:
``HEXAPOD_FUZZ_RUNS=5000 pytest tests/test_fuzz.py -k long -s`` (``HEXAPOD_FUZZ_SEED`` picks
the seed); it prints the exit-code histogram reported in docs/testing.md.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hexapod.io.files import TEMP_MARK
from hexapod_cli.main import main

ROOT = Path(__file__).parent.parent
CASES = sorted((ROOT / "sample_cases").glob("*.toml"))
CATALOGUE = ROOT / "hexapod" / "data" / "tsf-like.toml"
BOUNDED_RUNS = 1000
#: Whether a broken promise on a run with a mutated hardware catalogue fails the test. The
#: catalogue reader (io/catalogue_file.py) still lets some wrong types and deep nesting through
#: as internal errors; set True once it refuses them. Those runs are always counted and printed.
CATALOGUE_PROMISE_HOLDS = True
SEED = int(os.environ.get("HEXAPOD_FUZZ_SEED", "20261123"))
NON_FINITE = re.compile(r"(?<![A-Za-z])(nan|inf|infinity)(?![A-Za-z])", re.IGNORECASE)

#: Names that are hostile but never contain the tokens nan/inf (which the output check seeks).
NAMES = ["\u4e2d\u6587\u540d\u5b57", "\u0926\u0947\u0935\u0928\u093e\u0917\u0930\u0940",
         "\U0001F600 smile", "Smith $5 and $6", "$$", "O'Brien \"Quote\" \\ back", "x" * 500,
         "W" * 190, "tab\there", "", " ", "\u202eright-to-left", "a\u0301\u0301\u0301"]
#: Replacement values for a leaf of a document.
VALUES: list[Any] = [
    "DELETE", "text", [], {}, True, False, math.nan, math.inf, -math.inf, 1e308, -1e308,
    10 ** 30, 10 ** 400, 0, 0.0, -0.0, -1, -1e-9, 1e-9, 1e6, 89.999, 90, 5000, 1.5, 7, 366,
    "2026-02-30", "9999-12-31", dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(2026, 12, 1),
    "varrus", "giant", "nan", "1e308", [1, 2, 3], ["a"] * 6, [150.0] * 6, [math.nan] * 6,
    {"value": True}, {"value": "12"}, {"value": [1, 2]}, {"value": math.inf},
    *NAMES,
]
WORDS = ["varus", "valgus", "medial", "lateral", "anterior", "posterior", "apex_anterior",
         "proximal", "distal", "short", "long", "internal", "external", "chronic", "residual",
         "acute", "gradual", "left", "right", "x-short", "medium", "long", "length"]


# --- writing documents back as TOML / JSON ------------------------------------------------

def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def to_toml(doc: dict[str, Any]) -> str:
    """A document as TOML: top-level tables as [sections], lists of tables as [[arrays]]."""
    lines = []
    tables = []
    for key, value in doc.items():
        if isinstance(value, dict) and value:
            tables.append((f"[{_key(key)}]", value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables += [(f"[[{_key(key)}]]", v) for v in value]
        else:
            lines.append(f"{_key(key)} = {_toml_value(value)}")
    for head, table in tables:
        lines.append(head)
        lines += [f"{_key(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def to_json(doc: Any) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v
    return json.dumps(plain(doc), ensure_ascii=False)


# --- mutations -----------------------------------------------------------------------------

def leaves(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a document (tables, lists and scalars alike)."""
    out = [path] if path else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += leaves(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += leaves(v, (*path, i))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def set_at(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    node = doc
    for step in path[:-1]:
        node = node[step]
    if isinstance(value, str) and value == "DELETE":
        del node[path[-1]]
    else:
        node[path[-1]] = value


def mutate(rng: random.Random, doc: dict[str, Any]) -> str:
    """Change one to three values of ``doc`` in place; returns a description."""
    said = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        paths = leaves(doc)
        if not paths:
            break
        path = rng.choice(paths)
        roll = rng.random()
        old = _get(doc, path)
        if (roll < 0.3 and isinstance(old, int | float) and not isinstance(old, bool)
                and abs(old) < 1e300):
            # a plausible change that reaches the planner: scaled, shifted or at a bound
            value = rng.choice([old * rng.choice([0, 0.5, 1.5, 2, 3, 10]),
                                old + rng.uniform(-20, 20), rng.uniform(0, 100)])
        elif roll < 0.4:
            value: Any = rng.choice(WORDS)
        elif roll < 0.5:
            value = "DELETE"
        else:
            value = copy.deepcopy(rng.choice(VALUES))  # never share a list between places
        set_at(doc, path, value)
        said.append(f"{'.'.join(map(str, path))}={str(value)[:20]!r}")
    return "; ".join(said)


def document_bytes(rng: random.Random, doc: dict[str, Any], as_json: bool) -> tuple[bytes, str]:
    """The document as file bytes, sometimes spoiled as a whole (BOM, garbage, truncation,
    deep nesting, a duplicated key)."""
    text = to_json(doc) if as_json else to_toml(doc)
    roll = rng.random()
    if roll < 0.05:
        return b"\xef\xbb\xbf" + text.encode(), "BOM"
    if roll < 0.08:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))), "garbage"
    if roll < 0.11:
        return text.encode()[: rng.randrange(len(text))], "truncated"
    if roll < 0.13:
        deep = "[" * 3000 + "]" * 3000
        return (f'{{"x": {deep}}}' if as_json else f"x = {deep}\n").encode(), "deep"
    if roll < 0.16 and as_json:
        return text.replace('{"schema_version": 1', '{"schema_version": 1, "mode": "chronic", '
                            '"mode": "residual"', 1).encode(), "duplicate key"
    if roll < 0.18:
        return (text + "\nextra_key = 1\n").encode() if not as_json else text.encode(), "extra"
    return text.encode("utf-8", "surrogatepass"), "mutated"


# --- one run ---------------------------------------------------------------------------------

@dataclass
class Run:
    """What one fuzz run did and what it promised."""

    args: list[str]
    describe: str
    guarded: dict[Path, bytes] = field(default_factory=dict)  # files that must not change
    outputs: list[Path] = field(default_factory=list)  # text files the run may write
    catalogue: bool = False  # the run reads a mutated catalogue (or a case as a catalogue)
    echoed: list[str] = field(default_factory=list)  # the case's text, which outputs repeat


def _output_target(rng: random.Random, work: Path, run: Run, name: str) -> tuple[str, bool]:
    """An output path of a random kind; returns it and whether --force is given."""
    kind = rng.choice(["new", "new", "existing", "existing_force", "folder", "missing",
                       "under_file", "device"])
    force = kind in ("existing_force", "device") or rng.random() < 0.2
    run.outputs.append(work / name)
    if kind == "existing" or kind == "existing_force":
        path = work / name
        path.write_bytes(b"precious")
        if not force:
            run.guarded[path] = b"precious"
        return str(path), force
    if kind == "folder":
        (work / "afolder").mkdir(exist_ok=True)
        return str(work / "afolder"), force
    if kind == "missing":
        return str(work / "no" / "such" / name), force
    if kind == "under_file":
        (work / "plain").write_text("x")
        run.guarded[work / "plain"] = b"x"
        return str(work / "plain" / name), force
    if kind == "device":
        return "/dev/null", True
    return str(work / name), force


def make_run(rng: random.Random, work: Path) -> Run:
    """Write a mutated case (and sometimes a mutated catalogue) into ``work`` and pick a
    command with random options."""
    case_doc = tomllib.loads(rng.choice(CASES).read_text("utf-8"))
    describe = []
    cat_doc: dict[str, Any] = {}
    catalogue = rng.random() < 0.2
    if catalogue:  # a mutated catalogue beside the case
        cat_doc = tomllib.loads(CATALOGUE.read_text("utf-8"))
        describe.append("catalogue " + mutate(rng, cat_doc))
        data, how = document_bytes(rng, cat_doc, as_json=False)
        (work / "mycat.toml").write_bytes(data)
        describe.append(how)
        case_doc.setdefault("frame", {})["hardware"] = "mycat.toml"
    if rng.random() < 0.85:
        describe.append("case " + mutate(rng, case_doc))
    as_json = rng.random() < 0.25
    data, how = document_bytes(rng, case_doc, as_json)
    describe.append(how)
    case = work / ("case.json" if as_json else "case.toml")
    case.write_bytes(data)
    command = rng.choices(["check", "plan", "lengths", "sensitivity", "catalogue", "pose",
                           "new"], weights=[25, 45, 8, 7, 6, 5, 4])[0]
    run = Run([command], " | ".join(describe), catalogue=catalogue or command == "catalogue",
              echoed=[v for v in _strings([case_doc, cat_doc]) if NON_FINITE.search(v)])
    if command in ("check", "lengths"):
        run.args.append(str(case))
    elif command == "plan":
        run.args += [str(case), "--format", rng.choice(["table", "csv", "json"])]
        if rng.random() < 0.35:
            target, force = _output_target(rng, work, run, "out.txt")
            run.args += ["-o", target] + (["--force"] if force else [])
        if rng.random() < 0.03:
            run.args += ["--sheet", str(work / "s.pdf"), "--paper", rng.choice(["a4", "letter"])]
        if rng.random() < 0.02:
            run.args += ["--plots", str(work / rng.choice(["p", "plain/p", "afolder"]))]
    elif command == "sensitivity":
        sd = rng.choice(["2mm,2deg", "2,2°", "2°,2°", "1e300,1", "-1,1", "nan,1", "1,1,1", "0,0"])
        run.args += [str(case), "--samples", "100", "--seed",
                     str(rng.choice([0, 1, -1, 2 ** 40])), "--mounting-sd", sd]
    elif command == "catalogue":
        run.args.append(str(work / "mycat.toml") if (work / "mycat.toml").exists()
                        else rng.choice(["tsf-like", "nope", str(case), "/dev/null"]))
    elif command == "pose":
        values = [rng.choice(["150", "160", "80", "280", "nan", "-5", "1e308", "0", "x"])
                  for _ in range(6)]
        run.args += ["--proximal-ring", rng.choice(["155", "180", "150", "inf"]),
                     "--distal-ring", "155", "--readings", *values]
    else:  # new
        target, force = _output_target(rng, work, run, "new.toml")
        run.args += [target] + (["--force"] if force else [])
    return run


def check_run(runner: CliRunner, run: Run, work: Path) -> tuple[int, list[str]]:
    """Invoke one run and list every broken promise."""
    result = runner.invoke(main, run.args, catch_exceptions=True)
    problems = []
    code = result.exit_code
    if code not in (0, 1, 2):
        problems.append(f"exit code {code}: {result.stderr.strip()[-300:]}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problems.append(f"uncaught {type(result.exception).__name__}: {result.exception}")
    if "Traceback" in result.output + result.stderr:
        problems.append("printed a traceback")
    if code == 0:
        texts = [result.stdout] + [p.read_text("utf-8", "replace") for p in run.outputs
                                   if p.is_file() and p not in run.guarded]
        for text in texts:
            for echo in run.echoed:  # a name "nan" is not a number
                text = text.replace(echo, "")
            bad = non_finite(text)
            if bad:
                problems.append(f"non-finite value in an exit-0 output: {bad}")
    for path, content in run.guarded.items():
        if not path.is_file() or path.read_bytes() != content:
            problems.append(f"{path.name} was changed without --force")
    if not Path("/dev/null").is_char_device():
        problems.append("/dev/null was replaced")
    left = [p.name for p in work.rglob("*") if TEMP_MARK in p.name]
    if left:
        problems.append(f"temporary files left: {left}")
    return code, problems


def _strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in _strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


def non_finite(text: str) -> str:
    """Where ``text`` shows a NaN or an infinity as a number ('' if nowhere). A JSON document
    is checked number by number (a name "nan" is text, not a number); other text by its
    tokens."""
    try:
        json.loads(text, parse_constant=lambda word: (_ for _ in ()).throw(ValueError(word)))
        return ""
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError):
            return f"JSON constant {exc}"
    found = NON_FINITE.search(text)
    return text[max(0, found.start() - 60):found.end() + 20] if found else ""


def fuzz(runs: int, seed: int, base: Path) -> tuple[collections.Counter[int], list[str]]:
    """Run ``runs`` seeded fuzz cases; returns the exit-code histogram and the failures."""
    rng = random.Random(seed)
    runner = CliRunner()
    histogram: collections.Counter[int] = collections.Counter()
    failures = []
    for i in range(runs):
        work = base / f"run{i}"
        work.mkdir()
        run = make_run(rng, work)
        code, problems = check_run(runner, run, work)
        histogram[code] += 1
        tag = "catalogue run " if run.catalogue else "run "
        failures += [f"{tag}{i} ({run.describe}) {run.args[:1]}: {p}" for p in problems]
        shutil.rmtree(work, ignore_errors=True)
    return histogram, failures


# --- the tests ---------------------------------------------------------------------------

def test_serialisers_round_trip() -> None:
    for case in CASES:
        doc = tomllib.loads(case.read_text("utf-8"))
        assert tomllib.loads(to_toml(doc)) == doc
    cat = tomllib.loads(CATALOGUE.read_text("utf-8"))
    assert tomllib.loads(to_toml(cat)) == cat


def test_unmutated_cases_pass_the_promise(tmp_path: Path) -> None:
    runner = CliRunner()
    for case in CASES:
        run = Run(["plan", str(case), "--format", "json"], case.name)
        code, problems = check_run(runner, run, tmp_path)
        assert code in (0, 1) and problems == [], (case.name, problems)


def test_fuzz_bounded(tmp_path: Path) -> None:
    """The seeded, bounded fuzz run of the normal test command."""
    histogram, failures = fuzz(BOUNDED_RUNS, SEED, tmp_path)
    failures = _counted(failures)
    assert failures == [], "\n".join(failures[:20])
    assert histogram[0] > 0 and histogram[2] > 0, histogram  # a harness that only errs is weak


@pytest.mark.skipif("HEXAPOD_FUZZ_RUNS" not in os.environ,
                    reason="long fuzz run: set HEXAPOD_FUZZ_RUNS=N")
def test_fuzz_long(tmp_path: Path) -> None:
    runs = int(os.environ["HEXAPOD_FUZZ_RUNS"])
    start = time.monotonic()
    histogram, failures = fuzz(runs, SEED, tmp_path)
    took = time.monotonic() - start
    print(f"\nfuzz: {runs} runs, seed {SEED}, {took:.0f} s; exit codes: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(histogram.items())))
    print(f"broken promises: {len(failures)} ({len(failures) - len(_counted(failures))} on runs "
          "with a mutated catalogue)")
    for line in failures[:50]:
        print("  " + line)
    failures = _counted(failures)
    assert failures == [], "\n".join(failures[:20])


def _counted(failures: list[str]) -> list[str]:
    """The failures that fail the test (see :data:`CATALOGUE_PROMISE_HOLDS`)."""
    return [f for f in failures if CATALOGUE_PROMISE_HOLDS or not f.startswith("catalogue run")]
