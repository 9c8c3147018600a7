"""Where one `xtap apply` (or `xtap plan`) spends its wall time: a timeline of its steps, from a child process.

    python bench/trace_e2e.py [apply|plan] [--partners 1000] [--latency-ms 50] [--page-size 100]
                              [--python PATH]

The tenant and the files are bench_e2e.py's (N partners that all inherit, N files that set
`inboundTrust`); the emulator runs in this process with the latency. The child runs xtap with a few of its
functions wrapped to note when they start and end, in which thread: the imports of the command, loading
the files, opening the client, signing in (msal's import and discovery inside), every Graph GET, the plan
made page by page, rendering, every `$batch`. Then the timeline, from the child's first instruction.
Not a test: it explains bench_e2e.py's figures (docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_e2e

# Runs in the child: wraps the steps, runs `python -m reconciler ARGS`, prints the timeline on stderr.
TRACER = """
import importlib, runpy, sys, threading, time
T0 = time.perf_counter()
steps = []
def wrap(module, owner, name, label):
    target = importlib.import_module(module)
    holder = getattr(target, owner) if owner else target
    inner = getattr(holder, name)
    def traced(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            steps.append((start - T0, time.perf_counter() - T0, label, threading.current_thread().name))
    setattr(holder, name, traced)
start = time.perf_counter()
importlib.import_module("reconciler.cli.commands." + sys.argv[1])
steps.append((start - T0, time.perf_counter() - T0, "import the command", "MainThread"))
command = "reconciler.cli.commands." + sys.argv[1]
for module, owner, name, label in [
    (command, None, "load_context", "load and validate the files"),
    (command, None, "open_client", "open the Graph client"),
    ("reconciler.shell.graph.auth", "MsalCredential", "_build", "msal: import, build, discovery"),
    ("reconciler.shell.graph.auth", "MsalCredential", "get_token", "sign in"),
    ("reconciler.shell.graph.client", "GraphClient", "_json", "GET"),
    ("reconciler.core.planner", "PartnerPlans", "add", "plan a page"),
    ("reconciler.core.planner", "PartnerPlans", "plan", "put the plan together"),
    (command, None, "render_text", "render the plan"),
    ("reconciler.shell.graph.client", "GraphClient", "_run_batch", "$batch"),
]:
    if hasattr(importlib.import_module(module), owner or name):
        wrap(module, owner, name, label)
sys.argv = ["reconciler", *sys.argv[1:]]
try:
    runpy.run_module("reconciler", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
finally:
    end = time.perf_counter() - T0
    for a, b, label, thread in sorted(steps):
        if label != "sign in" or thread == "MainThread":
            print(f"{a:6.3f} {b:6.3f} {1000 * (b - a):7.1f} ms  {label}  [{thread}]", file=sys.stderr)
    print(f"{end:6.3f}  main returned", file=sys.stderr)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", choices=("apply", "plan"), default="apply")
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()

    from reconciler.emulator import Emulator
    from reconciler.shell.graph.auth import CREDENTIAL_ENV

    ids = bench_e2e.tenant_ids(args.partners)
    flags = ["--force", "--auto-approve"] if args.command == "apply" else ["--force", "--detailed-exitcode"]
    with (
        tempfile.TemporaryDirectory(prefix="xtap-trace-") as tmp,
        Emulator(seed="empty", page_size=args.page_size) as emu,
    ):
        workdir = Path(tmp)
        bench_e2e.write_files(workdir, ids)
        env = {k: v for k, v in os.environ.items() if k not in (*CREDENTIAL_ENV, "PYTHONDONTWRITEBYTECODE")}
        env.update(emu.env("writer"), PYTHONPATH=str(bench_e2e.ROOT / "src"), NO_COLOR="1")
        bench_e2e.reset(emu, ids)
        emu.faults.latency_ms = args.latency_ms
        child = subprocess.run(
            [args.python, "-c", TRACER, args.command, *flags],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    print(child.stderr, end="")
    print(f"exit {child.returncode}; {args.partners} partners, {args.latency_ms} ms per request")


if __name__ == "__main__":
    main()
