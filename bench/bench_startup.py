"""Start-up of whole `xtap` processes, as ratios to a bare `python -c pass` measured in the same run.

    python bench/bench_startup.py [--rounds 30] [--xtap PATH] [--baseline-src DIR]

Each command is a fresh process run from the repository root (the example tenant in `policies/`):
`python -c pass` (the interpreter's own start-up, the floor), `python -c "import argparse, dataclasses,
pathlib, typing, yaml"` (the libraries validate needs, for scale), the same with jsonschema_rs and logging
(nearly all validate imports that is not xtap's own), `xtap --help` and `xtap validate`.
They run interleaved — one of each per round, the order rotating — so load from other work on a shared
machine hits all of them alike; one untimed round first writes the bytecode caches. Per command the script
prints the median and minimum wall time and the median CPU (user + system of the child, from
`os.wait4`), then each median's ratio to the floor's. CPU ratios hold up better than wall ratios on a
loaded machine (waiting for a core counts in wall time, and weighs most on the shortest process).
Targets (issue 14): `xtap --help` ≤ 4×, `xtap validate` ≤ 6×; "met" needs both ratios at or under it.

`--bound` adds `xtap validate` run with stand-ins put first on its path (written to a temporary folder),
each alone and then together. Three replace what validate's own design brings: `dataclasses` whose records
cost nothing to create (no generated methods, no `inspect`), `jsonschema_rs` whose checker accepts
everything, and `logging` that does nothing. Four replace what is left of its libraries that a rewrite
could avoid: `typing` (names only), `shutil` (argparse imports it for the terminal's width), `difflib`
(only "did you mean" uses it) and PyYAML with its reader's class of non-printable characters written as
the small class it is equivalent to (compiled at import, the original costs several milliseconds and is
not used by the C loader). The rows: each alone; the first three together; all seven; the six but PyYAML
(PyYAML as it is); the six but `jsonschema_rs` (the schema check through the maintained library). The
PyYAML copied is this interpreter's: run the script with the one xtap is installed in. Each row is a
lower bound for any validate built on the same loader and model with what it replaces made free. The
script first checks that each prints what the real validate prints (the example files are valid, so
accepting everything changes no verdict).

`xtap` is the console script beside this interpreter (what pip installs and pre-commit runs); without one,
`python -m reconciler`. `--baseline-src DIR` adds the same two commands run from another source tree
(e.g. `git archive <commit> src | tar -x -C /tmp/base`, then `--baseline-src /tmp/base/src`) as
`python -m reconciler` with PYTHONPATH=DIR, and then runs this tree the same way, for a before/after in
one run. Not a test: figures vary with the machine; docs/performance.md ("Start-up") records a run.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"xtap --help": 4.0, "xtap validate": 6.0}
# What `xtap validate` cannot do without, imported and nothing else: the part of its ratio that no change
# to xtap's own modules can remove.
LIBRARIES = "import argparse, dataclasses, pathlib, typing, yaml"
# ... and the rest of what it runs on: the schema checker (jsonschema_rs, which imports json, decimal,
# email.utils and socket when it loads) and logging, which every command configures.
WITH_CHECKER = f"{LIBRARIES}, jsonschema_rs, logging"
# Bytecode caches as an installed package has them (pip compiles on install): a shell that sets
# PYTHONDONTWRITEBYTECODE would otherwise recompile every edited module in every process.
BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}


@dataclass(frozen=True)
class Command:
    argv: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


def launcher(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    script = Path(sys.executable).with_name("xtap")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "reconciler"]


def run_once(command: Command) -> Sample:
    start = time.perf_counter()
    process = subprocess.Popen(
        command.argv, cwd=ROOT, env=command.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    assert process.stderr is not None
    err = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(command.argv)} exited {code}: {err.strip()}")
    return Sample(wall, usage.ru_utime + usage.ru_stime)


# The stand-ins of --bound. Each does just enough for `xtap validate` on valid files.
STAND_INS = {
    "dataclasses.py": """
MISSING = object()
class _Field:
    def __init__(self, default=MISSING, default_factory=MISSING, **_):
        self.default, self.default_factory = default, default_factory
def field(default=MISSING, default_factory=MISSING, **_):
    return _Field(default, default_factory)
def dataclass(cls=None, **_):
    def make(c):
        names = list(c.__dict__.get("__annotations__", {}))
        defaults = {n: c.__dict__[n] for n in names if n in c.__dict__}
        for n, d in defaults.items():
            if isinstance(d, _Field):
                delattr(c, n)
        def __init__(self, *args, **kwargs):
            values = dict(zip(names, args), **kwargs)
            for n in names:
                v = values[n] if n in values else defaults[n]
                if isinstance(v, _Field):
                    v = v.default if v.default_factory is MISSING else v.default_factory()
                object.__setattr__(self, n, v)
            if hasattr(self, "__post_init__"):
                self.__post_init__()
        c.__init__ = __init__
        return c
    return make if cls is None else make(cls)
""",
    "jsonschema_rs.py": """
class ValidationError(Exception):
    pass
class Validator:
    def __init__(self, *_, **__):
        pass
    def is_valid(self, _):
        return True
    def iter_errors(self, _):
        return iter(())
Draft202012Validator = Validator
""",
    "logging.py": """
DEBUG, INFO, WARNING = 10, 20, 30
class Logger:
    def __init__(self):
        self.handlers = []
    def __getattr__(self, _):
        return lambda *_, **__: None
def getLogger(_=None):
    return Logger()
class Formatter:
    def __init__(self, *_, **__):
        pass
class LogRecord:
    pass
class StreamHandler(Logger):
    def __init__(self, *_):
        super().__init__()
""",
    "typing.py": """
TYPE_CHECKING = False
class _Anything:
    def __getitem__(self, _):
        return self
    def __call__(self, *_, **__):
        return self
    def __or__(self, _):
        return self
    __ror__ = __or__
class Protocol:
    pass
class Generic:
    def __class_getitem__(cls, _):
        return cls
def cast(_, value):
    return value
def __getattr__(_name):
    return _Anything()
""",
    "shutil.py": """
import os
def get_terminal_size(fallback=(80, 24)):
    return os.terminal_size(fallback)
""",
    "difflib.py": """
def get_close_matches(*_, **__):
    return []
""",
}
# PyYAML's reader compiles this class when it is imported (the C loader never uses it); the stand-in copy of
# PyYAML has the class it is equivalent to: every code point outside it.
READER_CLASS = "[^\\x09\\x0A\\x0D\\x20-\\x7E\\x85\\xA0-\\uD7FF\\uE000-\\uFFFD\\U00010000-\\U0010ffff]"
READER_COMPLEMENT = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f\\ud800-\\udfff\\ufffe\\uffff]"
PYYAML = "PyYAML's reader class"
FIRST_THREE = ("dataclasses", "jsonschema_rs", "logging")


def stand_ins(folder: Path) -> dict[str, Path]:
    """Each stand-in in a folder of its own, by what it stands in for."""
    folders = {}
    for name, text in STAND_INS.items():
        module = name.removesuffix(".py")
        (folder / module).mkdir()
        (folder / module / name).write_text(text.lstrip())
        folders[module] = folder / module
    folders[PYYAML] = pyyaml_stand_in(folder / "pyyaml")
    return folders


def pyyaml_stand_in(folder: Path) -> Path:
    """A copy of the PyYAML beside this interpreter, its reader's class replaced by the equivalent one."""
    original = ast.literal_eval(f"'{READER_CLASS}'")
    complement = ast.literal_eval(f"'{READER_COMPLEMENT}'")
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    if re.findall(original, every) != re.findall(complement, every):
        raise SystemExit("the stand-in class for PyYAML's reader does not match the same characters")
    spec = importlib.util.find_spec("yaml")
    assert spec is not None and spec.origin is not None
    shutil.copytree(Path(spec.origin).parent, folder / "yaml", ignore=shutil.ignore_patterns("__pycache__"))
    reader = folder / "yaml" / "reader.py"
    text = reader.read_text()
    if text.count(READER_CLASS) != 1:
        raise SystemExit(f"{spec.origin}: its reader's class of non-printable characters was not found")
    reader.write_text(text.replace(READER_CLASS, READER_COMPLEMENT))
    return folder


def printed(command: Command) -> str:
    return subprocess.run(
        command.argv, cwd=ROOT, env=command.env, capture_output=True, text=True, check=True
    ).stdout


def same_output(real: Command, bounds: list[Command]) -> None:
    """The bound is only a bound if validate still does its whole job with the stand-ins."""
    expected = printed(real)
    for bound in bounds:
        if (got := printed(bound)) != expected:
            raise SystemExit(f"xtap validate with the stand-ins printed {got!r}, not {expected!r}")


def measure(commands: dict[str, Command], rounds: int) -> dict[str, list[Sample]]:
    names = list(commands)
    for name in names:  # untimed: writes the bytecode caches, warms the page cache
        run_once(commands[name])
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(run_once(commands[name]))
    return samples


def report(samples: dict[str, list[Sample]]) -> str:
    floor = samples["python -c pass"]
    floor_wall = statistics.median(s.wall for s in floor)
    floor_cpu = statistics.median(s.cpu for s in floor)
    width = max(map(len, samples))
    lines = [
        f"{'command':<{width}} {'median wall':>12} {'min wall':>9} {'median CPU':>11} {'wall ratio':>11} "
        f"{'CPU ratio':>10}  target"
    ]
    for name, runs in samples.items():
        wall = statistics.median(s.wall for s in runs)
        cpu = statistics.median(s.cpu for s in runs)
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = max(wall / floor_wall, cpu / floor_cpu) <= target
            verdict = f"≤ {target:g}×  {'met' if met else 'MISSED'}"
        lines.append(
            f"{name:<{width}} {wall * 1000:>9.1f} ms {min(s.wall for s in runs) * 1000:>6.1f} ms "
            f"{cpu * 1000:>8.1f} ms {wall / floor_wall:>10.2f}× {cpu / floor_cpu:>9.2f}×  {verdict}"
        )
    return "\n".join(lines)


def commands(args: argparse.Namespace) -> dict[str, Command]:
    found = {
        "python -c pass": Command([sys.executable, "-c", "pass"], BASE_ENV),
        "libraries of validate": Command([sys.executable, "-c", LIBRARIES], BASE_ENV),
        "+ jsonschema_rs, logging": Command([sys.executable, "-c", WITH_CHECKER], BASE_ENV),
    }
    if args.baseline_src is None:
        xtap, env = launcher(args.xtap), BASE_ENV
    else:
        xtap, env = [sys.executable, "-m", "reconciler"], BASE_ENV | {"PYTHONPATH": str(ROOT / "src")}
        base_env = BASE_ENV | {"PYTHONPATH": str(Path(args.baseline_src).resolve())}
        found["baseline: xtap --help"] = Command([*xtap, "--help"], base_env)
        found["baseline: xtap validate"] = Command([*xtap, "validate"], base_env)
    found["xtap --help"] = Command([*xtap, "--help"], env)
    found["xtap validate"] = Command([*xtap, "validate"], env)
    if args.bound is not None:
        choices = {f"validate, free {name}": [folder] for name, folder in args.bound.items()}
        choices["validate, first 3 free"] = [args.bound[name] for name in FIRST_THREE]
        choices["validate, all 7 free"] = list(args.bound.values())
        for left_out, label in ((PYYAML, "PyYAML's"), ("jsonschema_rs", "jsonschema_rs")):
            choices[f"validate, all but {label}"] = [f for n, f in args.bound.items() if n != left_out]
        for name, folders in choices.items():
            path = os.pathsep.join([*map(str, folders), *filter(None, [env.get("PYTHONPATH")])])
            found[name] = Command([*xtap, "validate"], env | {"PYTHONPATH": path})
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument("--xtap", metavar="PATH", help="the xtap executable (default: beside this python)")
    parser.add_argument("--baseline-src", metavar="DIR", help="another tree's src/ to compare with")
    parser.add_argument(
        "--bound", action="store_true", help="add validate with parts of it made free (stand-ins)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        args.bound = stand_ins(Path(folder)) if args.bound else None
        return run(args)


def run(args: argparse.Namespace) -> int:
    chosen = commands(args)
    if args.bound is not None:
        same_output(chosen["xtap validate"], [c for n, c in chosen.items() if n.startswith("validate, ")])
    print(f"{' '.join(chosen['xtap --help'].argv[:-1])}; {args.rounds} interleaved rounds from {ROOT}")
    print(f"{os.cpu_count()} CPUs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    samples = measure(chosen, args.rounds)
    print(report(samples))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
