"""`xtap demo`: the whole loop against an in-process emulator, narrated.

validate → plan (saved) → apply that plan → plan (empty) → a simulated portal change → drift. The example
policy files are copied to a temporary folder (or to `--keep DIR`, which stays) and the emulator lives
only as long as the command: nothing leaves 127.0.0.1 and nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from reconciler.cli.environment import Env
from reconciler.cli.main import main as xtap
from reconciler.cli.parser import add_command
from reconciler.core.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, XtapError
from reconciler.shell.graph.auth import CREDENTIAL_ENV

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
TAILSPIN = "7b3c5e2a-1d4f-4a6b-8c9d-0e1f2a3b4c5d"
EXPECTED = {
    "validate": EXIT_OK,
    "plan": EXIT_CHANGES,
    "apply": EXIT_OK,
    "replan": EXIT_OK,
    "drift": EXIT_CHANGES,
}


def add_parser(sub: Any) -> None:
    p = add_command(sub, "demo")
    p.add_argument(
        "--policies",
        metavar="DIR",
        default="policies",
        help="policy folder to demonstrate with (default: ./policies, the example tenant of the repository)",
    )
    p.add_argument(
        "--keep",
        metavar="DIR",
        help="work in DIR (new or empty) and keep it afterwards: xtap.yaml, the policies, the saved plan",
    )


def _step(number: int, total: int, title: str, why: str) -> None:
    print(f"\n==> [{number}/{total}] {title}")
    print(f"    {why}\n", flush=True)


@contextlib.contextmanager
def workspace(keep: str | None) -> Iterator[Path]:
    """The demo's folder: a temporary one, or `--keep DIR`, refused if it holds anything already."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="xtap-demo-") as tmp:
            yield Path(tmp)
        return
    folder = Path(keep)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise XtapError(
            f"{keep}: not an empty folder; --keep needs a new or empty one (nothing is overwritten)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XtapError(f"cannot create {keep}: {exc.strerror}") from None
    yield folder


def run(args: argparse.Namespace, env: Env) -> int:
    from reconciler.emulator import Emulator

    source = Path(args.policies)
    if not (source / "partners").is_dir():
        raise XtapError(
            f"{source}: no partners/ folder here; run `xtap demo` from the xtap repository "
            "or pass --policies DIR"
        )
    with workspace(args.keep) as work, Emulator(seed="demo") as emu:
        shutil.copytree(source, work / "policies")
        (work / "xtap.yaml").write_text(
            f"tenants:\n  demo:\n    tenantId: {emu.tenant_id}\n    policies: policies\n", encoding="utf-8"
        )
        # The demo's own environment: none of the caller's credentials, the emulator's instead.
        demo_env = {k: v for k, v in env.items() if k not in CREDENTIAL_ENV} | emu.env(app="writer")
        verbosity = ["-" + "v" * args.verbose] if args.verbose else []
        print(f"xtap demo: an emulated Microsoft Graph is serving tenant {emu.tenant_id} at {emu.url}")
        print(f"           the example policies ({source}) are copied to {work / 'policies'}")
        seen = _steps(emu, work, lambda *argv: xtap(env=demo_env, argv=[*argv, *verbosity]))
    ok = seen == EXPECTED
    print(
        "\nxtap demo: "
        + (
            "every step behaved as expected."
            if ok
            else f"unexpected exit codes: {seen} (expected {EXPECTED})"
        )
    )
    if ok:
        print(what_next(source, args.keep))
    sys.stdout.flush()
    return EXIT_OK if ok else EXIT_ERROR


def _steps(emu: Any, work: Path, run: Callable[..., int]) -> dict[str, int]:
    cfg = ["--config", str(work / "xtap.yaml")]
    saved = str(work / "plan.json")
    seen: dict[str, int] = {}
    _step(1, 6, "xtap validate", "Every policy file is checked against the schema and the semantic rules.")
    seen["validate"] = run("validate", *cfg, str(work / "policies"))
    _step(
        2,
        6,
        "xtap plan --out plan.json",
        "The demo tenant was set up by hand in the portal; see how it differs.",
    )
    seen["plan"] = run("plan", *cfg, "--detailed-exitcode", "--out", saved)
    _step(
        3,
        6,
        "xtap apply plan.json --auto-approve",
        "The plan above is applied as it was shown: only the changed properties, in $batch requests.",
    )
    seen["apply"] = run("apply", *cfg, saved, "--auto-approve")
    _step(4, 6, "xtap plan", "Right after an apply, the plan is empty: no false drift.")
    seen["replan"] = run("plan", *cfg, "--detailed-exitcode")
    _step(
        5,
        6,
        "someone changes the tenant in the portal",
        "Fabrikam's MFA trust is switched off and Tailspin gets B2B direct connect, behind Git's back.",
    )
    _portal_change(emu)
    _step(
        6,
        6,
        "xtap drift",
        "The scheduled report finds both portal changes, and also what the files leave unmanaged\n"
        "    (Contoso's sync policy, a partner made in the portal). Exit code 2 means drift.",
    )
    seen["drift"] = run("drift", *cfg)
    return seen


def _portal_change(emu: Any) -> None:
    partner = emu.get_partner(FABRIKAM) or {"tenantId": FABRIKAM}
    trust = dict(partner.get("inboundTrust") or {})
    trust["isMfaAccepted"] = False
    emu.put_partner({**partner, "inboundTrust": trust})
    everyone = {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}
    apps = {"accessType": "allowed", "targets": [{"target": "AllApplications", "targetType": "application"}]}
    tailspin = emu.get_partner(TAILSPIN) or {"tenantId": TAILSPIN}
    emu.put_partner(
        {**tailspin, "b2bDirectConnectInbound": {"usersAndGroups": everyone, "applications": apps}}
    )
    print("    (done through the emulator's back door, as the portal would)")


def what_next(source: Path, keep: str | None) -> str:
    """The last lines: how to go on with an emulator of one's own, then with a real tenant."""
    if keep is not None:
        folder = Path(keep).resolve()
        env_file = shlex.quote(str(folder / "emulator.env"))
        plan = f"cd {shlex.quote(str(folder))} && xtap plan"
        head = f"  The demo's files are kept in {folder}.\n  Try them against an emulator of your own: start it in another terminal,\n"
    else:
        env_file = "./emulator.env"  # `. FILE` without a slash searches $PATH, not this folder
        plan = shlex.join(["xtap", "plan", str(source)])
        head = (
            "  Try the files against an emulator of your own (`xtap demo --keep DIR` keeps the demo's): start\n"
            "  it in another terminal, from this folder,\n"
        )
    return (
        "\nWhat next:\n"
        f"{head}"
        f"    xtap emulator --env-file {env_file}\n"
        "  then, in this one,\n"
        f"    set -a; . {env_file}; set +a; {plan}\n"
        "  shows the demo tenant as it was before step 3.\n"
        "  For your own tenant: docs/setup.md (app registrations, permissions, the GitHub workflows)."
    )
