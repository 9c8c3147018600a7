"""`xtap plan` against its CPU floor, whole processes side by side, at 1,000 / 5,000 / 10,000 partners.

    python bench/bench_floor.py [--sizes 1000 5000 10000] [--rounds 3] [--baseline-src DIR]

The floor is the work no implementation of `xtap plan` can skip, done as cheaply as Python does it, in a
process of its own: start Python, import what talking to Graph needs (httpx, msal, yaml, json), read every
policy file and parse it with libyaml's `CSafeLoader`, and `json.loads` the partner pages and the default
exactly as the emulator sent them. `xtap plan --detailed-exitcode` is the real command against the
emulator (no added latency) over the same files. Both run as fresh child processes, interleaved, and
their CPU (user + system, `os.wait4`) is compared per round; the median ratio per size is printed, with
absolute CPU seconds as context. `--baseline-src DIR` runs `xtap plan` from another source tree too (e.g.
`git archive main src | tar -x -C /tmp/base`, then `--baseline-src /tmp/base/src`), interleaved with the
others, for a before/after in the same run.

The tenant and files are bench_scale.py's: the emulator's `generated:N` tenant exported to policy files,
5 % of them changed and 1 % new ones added, so the plan has real work. Not a test: docs/performance.md
records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

FLOOR = r"""
import json, sys
from pathlib import Path
import httpx, msal, yaml  # what a plan needs to talk to Graph and read YAML
root = Path(sys.argv[1])
for path in sorted((root / "policies").rglob("*.yaml")):
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
for path in sorted((root / "pages").glob("*.json")):
    json.loads(path.read_bytes())
"""


def child_cpu(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"{argv[2:]} exited {code}: {err}")
    return usage.ru_utime + usage.ru_stime


def save_pages(emu: object, root: Path) -> None:
    """The bodies Graph sends for a full read: every partner page and the default, as bytes."""
    import httpx

    from reconciler.shell.graph.auth import credential_from_env

    pages = root / "pages"
    pages.mkdir()
    env = emu.env("reader")  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {credential_from_env(env).get_token()}"}
    base = env["XTAP_GRAPH_URL"] + "/v1.0"
    url: str | None = f"{base}/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization"
    with httpx.Client(verify=env["SSL_CERT_FILE"], headers=headers) as http:
        number = 0
        while url:
            body = http.get(url).content
            (pages / f"{number:05d}.json").write_bytes(body)
            url = json.loads(body).get("@odata.nextLink")
            number += 1
        (pages / "default.json").write_bytes(
            http.get(f"{base}/policies/crossTenantAccessPolicy/default").content
        )


def measure(size: int, rounds: int, baseline: Path | None = None) -> dict[str, list[float]]:
    """CPU seconds per run of each kind: the floor, xtap, and (with `baseline`) xtap from another src."""
    from bench_scale import write_policies

    from reconciler.emulator import Emulator
    from reconciler.shell.graph.auth import CREDENTIAL_ENV

    with tempfile.TemporaryDirectory(prefix="xtap-floor-") as tmp, Emulator(seed=f"generated:{size}") as emu:
        root = Path(tmp)
        write_policies(emu, root, changed=size // 20, created=size // 100)
        save_pages(emu, root)
        env = {k: v for k, v in os.environ.items() if k not in (*CREDENTIAL_ENV, "PYTHONDONTWRITEBYTECODE")}
        env.update(emu.env("reader"), PYTHONPATH=str(ROOT / "src"), NO_COLOR="1")
        plan = [sys.executable, "-m", "reconciler", "plan", "--force", "--detailed-exitcode"]
        runs = {"floor": ([sys.executable, "-c", FLOOR, str(root)], env), "xtap": (plan, env)}
        if baseline is not None:
            runs["baseline"] = (plan, {**env, "PYTHONPATH": str(baseline)})
        cpu: dict[str, list[float]] = {kind: [] for kind in runs}
        for number in range(rounds):
            for kind in sorted(runs, reverse=bool(number % 2)):  # interleaved, order alternating
                argv, child_env = runs[kind]
                cpu[kind].append(child_cpu(argv, child_env, root))
            print(
                f"  {size:>6} round {number + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in cpu.items())
            )
        return cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline-src", type=Path, help="another tree's src/, run the same way, for a before/after"
    )
    args = parser.parse_args()
    lines = []
    for size in args.sizes:
        cpu = measure(size, args.rounds, args.baseline_src.resolve() if args.baseline_src else None)
        for kind in [k for k in ("baseline", "xtap") if k in cpu]:
            ratio = statistics.median(x / f for f, x in zip(cpu["floor"], cpu[kind], strict=True))
            label = "xtap plan" if kind == "xtap" else "baseline "
            lines.append(
                f"{size:>6} partners: {label} / floor = {ratio:.2f}x  "
                f"(median CPU: floor {statistics.median(cpu['floor']):.2f} s, "
                f"{kind} {statistics.median(cpu[kind]):.2f} s)"
            )
    print("\nxtap plan CPU against its floor (same files, same pages), median of per-round ratios:")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
