"""`xtap plan` at 10,000 partners: CPU time, wall time, Graph requests and peak memory.

    python bench/bench_scale.py [--partners 10000] [--page-size 100] [--changed 500] [--created 100]

The tenant is the emulator's `generated:N` seed (pseudo-random settings, ~5 % MTO members, ~10 % with an
identity-sync policy). Its policy files are what `xtap export` writes for it (one file per partner), then
`--changed` of them get a different `inboundTrust` and `--created` new partner files are added, so the
plan has real work: updates, creates, and the partners no file declares (the MTO ones) reported as
unmanaged. The emulator (in this process) serves the tenant over HTTPS; the measured code runs in fresh
child processes, so their peak memory is theirs alone:

1. stages, in one child: loading the files (`load_desired`), reading the tenant through the real client
   (`connect` + `read_live_state`: every page, then the default), `make_plan`, rendering the text plan.
   CPU is `time.process_time()` per stage; peak memory is the child's `VmHWM` (the high-water mark of
   its resident set, /proc/self/status) at the end.
2. the real command, `reconciler.cli.main(["plan", "--detailed-exitcode"])` as its own process (what
   `python -m reconciler plan` runs): wall time, its user+system CPU from `os.wait4`, and its `VmHWM`
   at exit.

Why VmHWM and not `ru_maxrss`: Linux carries `ru_maxrss` across fork and exec, so a child of this
process (which holds the 10,000-partner emulator) would report the parent's high-water mark whenever
its own is lower. VmHWM belongs to the address space exec creates, so it is the child's own.

The emulator shares the machine's cores with the child, so wall times include its work; CPU times do not.
Not a test: figures vary with the machine; docs/performance.md ("Scale") records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


TRUST_ON = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": True,
    "isHybridAzureADJoinedDeviceAccepted": True,
}
TRUST_OFF = {k: False for k in TRUST_ON}


def _yaml(doc: dict[str, Any]) -> str:
    from reconciler.core.export import to_yaml

    return to_yaml(doc)


def write_policies(emu: Any, root: Path, changed: int, created: int) -> dict[str, int]:
    """Export the tenant as policy files, then change `changed` of them and add `created` new ones."""
    from reconciler.core.export import export_files, partner_document
    from reconciler.shell.graph import connect

    with connect(emu.env()) as client:
        live = client.read_live_state()
    exported = export_files(live)
    policies = root / "policies"
    (policies / "partners").mkdir(parents=True)
    for rel, text in exported.files.items():
        if rel != "default.yaml":  # the default is left as it is: the plan is about partners
            (policies / rel).write_text(text, encoding="utf-8")
    managed = [t for t in sorted(exported.partner_files) if not live.partners[t].is_mto]
    for tid in managed[:changed]:
        doc = partner_document(live.partners[tid])
        doc["inboundTrust"] = TRUST_OFF if doc.get("inboundTrust") == TRUST_ON else TRUST_ON
        (policies / exported.partner_files[tid]).write_text(_yaml(doc), encoding="utf-8")
    for i in range(created):
        tid = f"ffffffff-0000-4000-8000-{i:012d}"
        doc = {"tenantId": tid, "inboundTrust": TRUST_ON}
        (policies / "partners" / f"new-{i:05d}.yaml").write_text(_yaml(doc), encoding="utf-8")
    return {
        "files": len(list((policies / "partners").iterdir())),
        "mto": sum(p.is_mto for p in live.partners.values()),
    }


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/self/status (Linux only)")


def peak_rss_mb() -> float:
    """This process's resident-set high-water mark (VmHWM), in MB."""
    return _status_mb("VmHWM")


# The measured command: the CLI's own entry point, then its peak memory on stderr's last line.
CLI = (
    "import sys\n"
    "from pathlib import Path\n"
    "from reconciler.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = [l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:')]\n"
    "print(hwm[0].split()[1], file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def child(workdir: Path) -> None:
    """Stage by stage, in a fresh process; prints one JSON object."""
    from reconciler.core.planner import PlanOptions, make_plan
    from reconciler.present.plan_text import render_text
    from reconciler.shell.files import load_desired
    from reconciler.shell.graph import connect

    figures: dict[str, Any] = {"rss_at_start_mb": peak_rss_mb()}

    def stage(name: str, fn: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        value = fn()
        figures[f"{name}_cpu_s"] = time.process_time() - cpu
        figures[f"{name}_wall_s"] = time.perf_counter() - wall
        figures[f"{name}_peak_mb"] = peak_rss_mb()
        figures[f"{name}_rss_mb"] = _status_mb("VmRSS")
        return value

    loaded = stage("load", lambda: load_desired(workdir / "policies"))
    assert loaded.ok, [str(d) for d in loaded.diagnostics if d.severity == "error"][:5]
    with connect(os.environ) as client:
        live = stage("read", client.read_live_state)
        figures["requests"] = client.request_count
    plan = stage("plan", lambda: make_plan(loaded.desired, live, PlanOptions()))
    text = stage("render", lambda: render_text(plan, color=False))
    figures.update(
        partners=len(live.partners),
        desired=len(loaded.desired.partners),
        creates=plan.count("create"),
        updates=plan.count("update"),
        unmanaged=plan.count("unmanaged"),
        plan_requests=len(plan.requests),
        refused=plan.refused,
        text_kb=len(text) / 1024,
        peak_rss_mb=peak_rss_mb(),
    )
    print(json.dumps(figures))


def run_child(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str, float, Any]:
    """A child process: its exit code, stdout, stderr, wall seconds and its own rusage (os.wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(), err.read().decode(), wall, usage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--changed", type=int, default=500, help="partner files given another inboundTrust")
    parser.add_argument("--created", type=int, default=100, help="new partner files")
    parser.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return 0
    # Imported here, not at the top: the measured child never loads the emulator.
    from reconciler.emulator import Emulator
    from reconciler.emulator.seeds import generated

    with (
        tempfile.TemporaryDirectory(prefix="xtap-scale-") as tmp,
        Emulator(seed=generated(args.partners), page_size=args.page_size) as emu,
    ):
        work = Path(tmp)
        made = write_policies(emu, work, args.changed, args.created)
        env = {**os.environ, **emu.env(app="reader"), "PYTHONPATH": str(ROOT / "src")}
        for key in ("AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "XTAP_ACCESS_TOKEN"):
            env.pop(key, None)
        code, out, err, _wall, _usage = run_child([sys.executable, __file__, "--child", str(work)], env, work)
        if code != 0:
            print(f"the staged child failed with exit code {code}:\n{err}", file=sys.stderr)
            return 1
        stages = json.loads(out)
        emu.clear_journal()
        code, _out, cli_err, cli_wall, cli_usage = run_child(
            [sys.executable, "-c", CLI, "plan", "--detailed-exitcode"], env, work
        )
        cli_peak = int(cli_err.strip().splitlines()[-1]) / 1024
        graph = [e for e in emu.journal if not e.in_batch and e.path.startswith("/v1.0")]
        writes = [e for e in emu.journal if e.method != "GET" and e.path.startswith("/v1.0")]

    print(
        f"xtap plan, {args.partners:,} partners, page size {args.page_size}, {made['files']:,} partner files"
    )
    print(
        f"  plan: {stages['creates']} to add, {stages['updates']} to change, {stages['unmanaged']} unmanaged "
        f"({made['mto']} MTO members); {stages['plan_requests']} requests planned; text {stages['text_kb']:.0f} KiB"
    )
    print("  stages in one fresh process (CPU = time.process_time, wall = perf_counter, RSS = VmRSS/VmHWM):")
    for name, label in (
        ("load", "load files"),
        ("read", "read tenant"),
        ("plan", "make_plan"),
        ("render", "render text"),
    ):
        print(
            f"    {label:<12} CPU {stages[f'{name}_cpu_s']:6.2f} s   wall {stages[f'{name}_wall_s']:6.2f} s"
            f"   RSS after {stages[f'{name}_rss_mb']:4.0f} MB, peak so far {stages[f'{name}_peak_mb']:4.0f} MB"
        )
    print(f"    Graph requests for the read: {stages['requests']}")
    print(
        f"    peak RSS (VmHWM): {stages['peak_rss_mb']:.0f} MB (after imports {stages['rss_at_start_mb']:.0f} MB)"
    )
    print("  `xtap plan --detailed-exitcode` as one process (CPU from os.wait4, peak RSS = VmHWM at exit):")
    print(
        f"    exit {code}, wall {cli_wall:.2f} s, CPU {cli_usage.ru_utime + cli_usage.ru_stime:.2f} s "
        f"(user {cli_usage.ru_utime:.2f} + system {cli_usage.ru_stime:.2f}), peak RSS {cli_peak:.0f} MB, "
        f"{len(graph)} Graph requests, {len(writes)} writes"
    )
    return 0 if code == 2 and not writes else 1


if __name__ == "__main__":
    sys.exit(main())
