"""`xtap demo`: the whole loop against an in-process emulator, narrated.

validate → plan → apply → plan (empty) → a simulated portal change → drift. The example policy files are
copied to a temporary folder and the emulator lives only as long as the command: nothing leaves
127.0.0.1 and nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from reconciler.cli.environment import Env
from reconciler.cli.main import main as xtap
from reconciler.cli.parser import add_command
from reconciler.core.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, XtapError
from reconciler.shell.graph.auth import CREDENTIAL_ENV

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
TAILSPIN = "7b3c5e2a-1d4f-4a6b-8c9d-0e1f2a3b4c5d"


def add_parser(sub: Any) -> None:
    p = add_command(sub, "demo")
    p.add_argument(
        "--policies",
        metavar="DIR",
        default="policies",
        help="policy folder to demonstrate with (default: ./policies, the example tenant of the repository)",
    )


def _step(number: int, total: int, title: str, why: str) -> None:
    print(f"\n==> [{number}/{total}] {title}")
    print(f"    {why}\n", flush=True)


def run(args: argparse.Namespace, env: Env) -> int:
    from reconciler.emulator import Emulator

    source = Path(args.policies)
    if not (source / "partners").is_dir():
        raise XtapError(
            f"{source}: no partners/ folder here; run `xtap demo` from the xtap repository "
            "or pass --policies DIR"
        )
    expected = {
        "validate": EXIT_OK,
        "plan": EXIT_CHANGES,
        "apply": EXIT_OK,
        "replan": EXIT_OK,
        "drift": EXIT_CHANGES,
    }
    seen: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="xtap-demo-") as tmp, Emulator(seed="demo") as emu:
        work = Path(tmp)
        shutil.copytree(source, work / "policies")
        config = work / "xtap.yaml"
        config.write_text(f"tenants:\n  demo:\n    tenantId: {emu.tenant_id}\n    policies: policies\n")
        cfg = ["--config", str(config)]
        # The demo's own environment: none of the caller's credentials, the emulator's instead.
        demo_env = {k: v for k, v in env.items() if k not in CREDENTIAL_ENV} | emu.env(app="writer")
        print(f"xtap demo: an emulated Microsoft Graph is serving tenant {emu.tenant_id} at {emu.url}")
        print(f"           the example policies ({source}) are copied to {work / 'policies'}")
        _step(
            1,
            6,
            "xtap validate",
            "Every policy file is checked against the schema and the semantic rules.",
        )
        seen["validate"] = xtap(env=demo_env, argv=["validate", *cfg, str(work / "policies")])
        _step(2, 6, "xtap plan", "The demo tenant was set up by hand in the portal; see how it differs.")
        seen["plan"] = xtap(env=demo_env, argv=["plan", *cfg, "--detailed-exitcode"])
        _step(3, 6, "xtap apply --auto-approve", "Only the changed properties are sent, in $batch requests.")
        seen["apply"] = xtap(env=demo_env, argv=["apply", *cfg, "--auto-approve"])
        _step(4, 6, "xtap plan", "Right after an apply, the plan is empty: no false drift.")
        seen["replan"] = xtap(env=demo_env, argv=["plan", *cfg, "--detailed-exitcode"])
        _step(
            5,
            6,
            "someone changes the tenant in the portal",
            "Fabrikam's MFA trust is switched off and Tailspin gets B2B direct connect, behind Git's back.",
        )
        partner = emu.get_partner(FABRIKAM) or {"tenantId": FABRIKAM}
        trust = dict(partner.get("inboundTrust") or {})
        trust["isMfaAccepted"] = False
        emu.put_partner({**partner, "inboundTrust": trust})
        everyone = {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}
        apps = {
            "accessType": "allowed",
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        }
        tailspin = emu.get_partner(TAILSPIN) or {"tenantId": TAILSPIN}
        emu.put_partner(
            {**tailspin, "b2bDirectConnectInbound": {"usersAndGroups": everyone, "applications": apps}}
        )
        print("    (done through the emulator's back door, as the portal would)")
        _step(
            6,
            6,
            "xtap drift",
            "The scheduled report finds both portal changes, and also what the files leave unmanaged\n"
            "    (Contoso's sync policy, a partner made in the portal). Exit code 2 means drift.",
        )
        seen["drift"] = xtap(env=demo_env, argv=["drift", *cfg])
    ok = seen == expected
    print(
        "\nxtap demo: "
        + (
            "every step behaved as expected."
            if ok
            else f"unexpected exit codes: {seen} (expected {expected})"
        )
    )
    sys.stdout.flush()
    return EXIT_OK if ok else EXIT_ERROR
