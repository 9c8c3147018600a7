"""Whole processes side by side: `xtap plan`, `xtap apply` and a per-resource tool, against the emulator.

    python bench/bench_e2e.py [--partners 1000] [--latency-ms 50] [--page-size 100] [--rounds 3]
                              [--parallel 4] [--no-sequential] [--python PATH]

The tenant has N partners that all inherit everything; N policy files set `inboundTrust` on each, so every
partner changes. The emulator runs in this process over HTTPS on 127.0.0.1 and adds the latency to every
request it serves, sign-in included. Each run is a fresh child process against a freshly reset tenant:

- `xtap plan --force --detailed-exitcode` and `xtap apply --force --auto-approve` (`python -m reconciler`);
- the per-resource baseline, the pattern of Terraform-style providers: read the same files, sign in with
  the same msal code, then per partner one GET and one PATCH, 10 in flight;
- the same baseline one request at a time (Microsoft365DSC-style), unless --no-sequential.

Runs are interleaved (the order rotates each round) so a busy moment on the machine hits all of them,
and the ratios are taken per round, then their median. Per run: Graph requests (the emulator's journal,
outer HTTP requests; sign-in counted apart), wall time, CPU (user + system of the child, os.wait4) and
peak RSS (the child's VmHWM at exit: ru_maxrss would report this process's, see bench_scale.py).

The physical minimum of round trips is printed beside xtap's count: reading is ⌈N/page⌉ pages + the
default; writing is ⌈K/20⌉ `$batch` requests; verifying is the cheaper of ⌈K/20⌉ `$batch` GETs and a
full read.

`--python PATH` runs the children (xtap and the baseline alike) with another interpreter: a virtual
environment holding only xtap's runtime dependencies, as `pip install` gives a user. The development
environment has more: mutmut brings click and textual brings rich, and httpx imports both when they are
installed (its command-line entry point), about 0.05-0.1 s of CPU in every process that imports httpx.
Not a test: docs/performance.md records a run.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": True,
    "isHybridAzureADJoinedDeviceAccepted": True,
}
PARTNERS = "/policies/crossTenantAccessPolicy/partners"

# Runs a module or a script as __main__ and leaves its peak RSS (VmHWM, kB) in $BENCH_RSS_FILE at exit.
WRAPPER = (
    "import atexit, os, runpy, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            open(os.environ['BENCH_RSS_FILE'], 'w').write(line.split()[1])\n"
    "atexit.register(_hwm)\n"
    "kind, target = sys.argv[1].split(':', 1)\n"
    "sys.argv = [target, *sys.argv[2:]]\n"
    "if kind == 'module':\n"
    "    runpy.run_module(target, run_name='__main__', alter_sys=True)\n"
    "else:\n"
    "    runpy.run_path(target, run_name='__main__')\n"
)


def tenant_ids(n: int) -> list[str]:
    return [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, n + 1)]


# -- the per-resource baseline (runs as its own process) ---------------------------------------------


def baseline(in_flight: int) -> None:
    """Read the policy files, sign in, then GET and PATCH each partner, `in_flight` at a time."""
    import ssl

    import httpx
    import yaml

    from reconciler.shell.graph.auth import credential_from_env

    docs = [
        yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        for p in sorted(Path("policies/partners").glob("*.yaml"))
    ]
    token = credential_from_env(os.environ).get_token()
    base = os.environ["XTAP_GRAPH_URL"] + "/v1.0" + PARTNERS
    verify = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(verify=verify, headers=headers, timeout=60, limits=limits) as http:

        def one(doc: dict[str, Any]) -> None:
            url = f"{base}/{doc['tenantId']}"
            live = http.get(url)
            live.raise_for_status()
            if live.json().get("inboundTrust") != doc["inboundTrust"]:
                http.patch(url, json={"inboundTrust": doc["inboundTrust"]}).raise_for_status()

        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            list(pool.map(one, docs))


# -- measuring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    kind: str
    wall: float
    cpu: float
    rss_mb: float
    graph: int  # outer Graph requests
    sign_in: int  # discovery + token requests
    ok: bool


def measure(
    kind: str, target: str, args: list[str], env: dict[str, str], workdir: Path, emu: Any, python: str
) -> Run:
    rss_file = workdir / "rss"
    emu.clear_journal()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [python, "-c", WRAPPER, target, *args],
            env={**env, "BENCH_RSS_FILE": str(rss_file)},
            cwd=workdir,
            stdout=out,
            stderr=err,
        )
        _pid, status, usage = os.wait4(proc.pid, 0)  # the child's own CPU time
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        ok = check(kind, proc.returncode, err.read().decode())
    journal = emu.journal
    graph = sum(1 for e in journal if not e.in_batch and e.path.startswith("/v1.0"))
    sign_in = sum(1 for e in journal if "/oauth2/" in e.path or "openid-configuration" in e.path)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(kind, wall, cpu, int(rss_file.read_text()) / 1024, graph, sign_in, ok)


def check(kind: str, code: int, err: str) -> bool:
    expected = {"plan": 2, "apply": 0}.get(kind, 0)
    if code != expected:
        print(f"  ! {kind} exited {code}: {err.strip()[-400:]}", file=sys.stderr)
        return False
    return True


def reset(emu: Any, ids: list[str]) -> None:
    for tid in ids:
        emu.put_partner({"tenantId": tid})


def converged(emu: Any, ids: list[str]) -> bool:
    return all((emu.get_partner(t) or {}).get("inboundTrust") == TRUST for t in ids)


def write_files(workdir: Path, ids: list[str]) -> None:
    import yaml

    partners = workdir / "policies" / "partners"
    partners.mkdir(parents=True)
    for i, tid in enumerate(ids):
        doc = {"tenantId": tid, "inboundTrust": TRUST}
        (partners / f"p{i:05d}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


# -- the report ---------------------------------------------------------------------------------------


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def physical_minimum(n: int, k: int, page: int) -> dict[str, int]:
    read = math.ceil(n / page) + 1
    write = math.ceil(k / 20)
    verify = min(math.ceil(k / 20), math.ceil(n / page) + 1)
    return {"plan": read, "apply": read + write + verify}


def report(rounds: list[dict[str, Run]], args: argparse.Namespace) -> None:
    kinds = list(rounds[0])
    minimum = physical_minimum(args.partners, args.partners, args.page_size)
    print(
        f"\n{args.partners} partners, all changing; {args.latency_ms} ms per request (sign-in included); "
        f"page size {args.page_size}; {len(rounds)} interleaved rounds; xtap --parallel {args.parallel}; "
        f"children run by {args.python}\n"
    )
    print(f"{'run':<34}{'Graph req':>10}{'minimum':>9}{'sign-in':>8}{'wall s':>9}{'CPU s':>8}{'RSS MB':>8}")
    for kind in kinds:
        runs = [r[kind] for r in rounds]
        floor = str(minimum[kind]) if kind in minimum else "-"
        print(
            f"{LABELS[kind]:<34}{median(runs, 'graph'):>10.0f}{floor:>9}{median(runs, 'sign_in'):>8.0f}"
            f"{median(runs, 'wall'):>9.2f}{median(runs, 'cpu'):>8.2f}{median(runs, 'rss_mb'):>8.0f}"
        )
    print(
        "\nper round (wall s): " + "; ".join(", ".join(f"{k} {r[k].wall:.2f}" for k in kinds) for r in rounds)
    )
    ratio: Callable[[str, str], float] = lambda a, b: statistics.median(r[a].wall / r[b].wall for r in rounds)  # noqa: E731
    print("\nratios (median of the per-round ratios of wall time):")
    print(f"  baseline 10 in flight / xtap apply: {ratio('baseline10', 'apply'):.1f}x  (target >= 4x)")
    if "sequential" in kinds:
        print(f"  sequential baseline   / xtap apply: {ratio('sequential', 'apply'):.1f}x")
    print(f"  xtap apply / xtap plan:             {ratio('apply', 'plan'):.1f}x")
    for kind in ("plan", "apply"):
        seen = median([r[kind] for r in rounds], "graph")
        print(f"  xtap {kind} requests / physical minimum: {seen / minimum[kind]:.2f}  (target <= 1.1)")
    bad = [f"{r.kind}" for rr in rounds for r in rr.values() if not r.ok]
    if bad:
        print(f"\n! runs that failed or did not converge: {', '.join(bad)}")


LABELS = {
    "apply": "xtap apply --auto-approve",
    "baseline10": "per-resource GET+PATCH, 10 in flight",
    "plan": "xtap plan",
    "sequential": "per-resource GET+PATCH, sequential",
}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "baseline":
        baseline(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--no-sequential", action="store_true", help="skip the one-at-a-time baseline")
    parser.add_argument(
        "--python", default=sys.executable, help="the children's interpreter (default: this one)"
    )
    args = parser.parse_args()

    from reconciler.emulator import Emulator
    from reconciler.shell.graph.auth import CREDENTIAL_ENV

    ids = tenant_ids(args.partners)
    script = str(Path(__file__).resolve())
    commands: dict[str, tuple[str, list[str]]] = {
        "apply": (
            "module:reconciler",
            ["apply", "--force", "--auto-approve", "--parallel", str(args.parallel)],
        ),
        "baseline10": (f"path:{script}", ["baseline", "10"]),
        "plan": ("module:reconciler", ["plan", "--force", "--detailed-exitcode"]),
    }
    if not args.no_sequential:
        commands["sequential"] = (f"path:{script}", ["baseline", "1"])
    with (
        tempfile.TemporaryDirectory(prefix="xtap-bench-e2e-") as tmp,
        Emulator(seed="empty", page_size=args.page_size) as emu,
    ):
        workdir = Path(tmp)
        write_files(workdir, ids)
        # Installed code runs from cached bytecode: without this, PYTHONDONTWRITEBYTECODE (set by .ci/run and
        # some shells) would make every child compile every module it imports, xtap and baseline alike.
        env = {k: v for k, v in os.environ.items() if k not in (*CREDENTIAL_ENV, "PYTHONDONTWRITEBYTECODE")}
        env.update(emu.env("writer"), PYTHONPATH=str(ROOT / "src"), NO_COLOR="1")
        emu.faults.latency_ms = args.latency_ms
        rounds: list[dict[str, Run]] = []
        for number in range(args.rounds):
            order = list(commands)[number % len(commands) :] + list(commands)[: number % len(commands)]
            results: dict[str, Run] = {}
            for kind in order:
                reset(emu, ids)
                target, argv = commands[kind]
                run = measure(kind, target, argv, env, workdir, emu, args.python)
                if kind != "plan" and not converged(emu, ids):
                    run = Run(run.kind, run.wall, run.cpu, run.rss_mb, run.graph, run.sign_in, False)
                results[kind] = run
                print(
                    f"round {number + 1}: {kind:<11} {run.graph:>5} requests  {run.wall:6.2f} s wall  "
                    f"{run.cpu:5.2f} s CPU  {run.rss_mb:4.0f} MB",
                    flush=True,
                )
            rounds.append({k: results[k] for k in commands})
    report(rounds, args)


if __name__ == "__main__":
    main()
