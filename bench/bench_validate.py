"""Benchmark: validate 5,000 generated partner files through the same code path as `xtap validate`.

Run: PYTHONPATH=src python bench/bench_validate.py [--files 5000]
Prints files/s. Not a test: the figure goes in docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from reconciler.cli.commands.validate import report, validate

PARTNER = """\
# yaml-language-server: $schema=../../schemas/partner.schema.json
tenantId: {tenant}
description: Generated partner {index}
inboundTrust:
  isMfaAccepted: true
  isCompliantDeviceAccepted: {flag}
  isHybridAzureADJoinedDeviceAccepted: false
automaticUserConsentSettings: {{inboundAllowed: true, outboundAllowed: {flag}}}
b2bCollaborationInbound:
  usersAndGroups:
    accessType: allowed
    targets:
      - {{target: {group}, targetType: group}}
      - {{target: {user}, targetType: user}}
  applications: {{accessType: allowed, targets: [{{target: AllApplications, targetType: application}}]}}
b2bCollaborationOutbound:
  usersAndGroups: {{accessType: allowed, targets: [{{target: AllUsers, targetType: user}}]}}
  applications: {{accessType: allowed, targets: [{{target: AllApplications, targetType: application}}]}}
b2bDirectConnectInbound:
  usersAndGroups: {{accessType: allowed, targets: [{{target: AllUsers, targetType: user}}]}}
  applications: {{accessType: allowed, targets: [{{target: Office365, targetType: application}}]}}
tenantRestrictions:
  usersAndGroups: {{accessType: blocked, targets: [{{target: AllUsers, targetType: user}}]}}
  applications: {{accessType: blocked, targets: [{{target: AllApplications, targetType: application}}]}}
identitySynchronization:
  userSyncInbound: {{isSyncAllowed: {flag}}}
"""


def generate(folder: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    partners = folder / "partners"
    partners.mkdir(parents=True)
    for index in range(count):
        ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3)]
        text = PARTNER.format(
            tenant=ids[0], group=ids[1], user=ids[2], index=index, flag=rng.choice(["true", "false"])
        )
        (partners / f"partner-{index:05d}.yaml").write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "policies", args.files)
        start = time.perf_counter()
        diagnostics, files = validate([root / "policies"], config_path=None, tenant=None, cwd=root)
        out = io.StringIO()
        report(diagnostics, files, "text", out)
        elapsed = time.perf_counter() - start
    summary = out.getvalue().splitlines()[-1]
    print(f"{len(files)} files in {elapsed:.2f} s: {len(files) / elapsed:,.0f} files/s ({summary})")
    return 0 if not diagnostics else 1


if __name__ == "__main__":
    sys.exit(main())
