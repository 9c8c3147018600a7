"""Benchmark: validate 5,000 generated partner files through the same code path as `xtap validate`.

Run: PYTHONPATH=src python bench/bench_validate.py [--files 5000] [--rounds 1] [--engine jsonschema] [--stages]
Prints files/s, by the wall clock and by this process's CPU time (steadier on a shared machine). Not a test:
the figures go in docs/performance.md. `--engine jsonschema` swaps the runtime check's jsonschema-rs for the
pure-Python jsonschema (the dev extra) on valid files, to show why the runtime uses the former.
`--stages` times each stage alone on the same files instead: YAML with positions, the schema check, the
rules, and loading (schema + rules + DesiredState), in µs of CPU per file, best of 7.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from reconciler.cli.commands.validate import report, validate
from reconciler.core import rules, schema
from reconciler.core.desired import ReadFile, build_desired
from reconciler.core.documents import parse_yaml

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


def use_jsonschema() -> None:
    """Valid files go through jsonschema's validator instead of jsonschema-rs (what it would cost)."""
    import jsonschema  # the dev extra: the test oracle

    validators = {
        k: jsonschema.Draft202012Validator(schema.build(k)) for k in ("partner", "default", "config")
    }
    shipped = schema.check

    def check(kind: schema.Kind, data: object, styles: object = None) -> list[schema.Problem]:
        return [] if validators[kind].is_valid(data) else shipped(kind, data, styles)  # type: ignore[arg-type]

    schema.check = check  # type: ignore[assignment]


def time_stages(root: Path) -> dict[str, float]:
    """Microseconds of CPU per partner file of each stage on the generated files, best of 7 passes: YAML
    with positions, the schema check, the rules, and loading (schema + rules + DesiredState together)."""
    texts = [path.read_bytes() for path in sorted((root / "policies" / "partners").glob("*.yaml"))]
    documents = [parse_yaml(text, str(index))[0] for index, text in enumerate(texts)]
    assert all(doc is not None for doc in documents)
    read = [ReadFile(doc.path, doc) for doc in documents if doc is not None]
    stages: dict[str, Callable[[], object]] = {
        "yaml": lambda: [parse_yaml(text, "p.yaml") for text in texts],
        "schema": lambda: [schema.check("partner", file.document.data) for file in read if file.document],
        "rules": lambda: [rules.check_partner(file.document.data) for file in read if file.document],
        "loading": lambda: build_desired(read, None),
    }
    out = {}
    for name, run in stages.items():
        best = float("inf")
        for _ in range(7):
            start = time.process_time()
            run()
            best = min(best, time.process_time() - start)
        out[name] = best / len(texts) * 1e6
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the timing; each round is printed")
    parser.add_argument("--engine", choices=("shipped", "jsonschema"), default="shipped")
    parser.add_argument("--stages", action="store_true", help="CPU per file of each stage, not the whole run")
    args = parser.parse_args()
    if args.engine == "jsonschema":
        use_jsonschema()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "policies", args.files)
        if args.stages:
            figures = ", ".join(f"{name} {value:,.0f}" for name, value in time_stages(root).items())
            print(f"{args.engine}: µs of CPU per partner file, best of 7: {figures}")
            return 0
        for _ in range(args.rounds):
            start, cpu = time.perf_counter(), time.process_time()
            diagnostics, files = validate([root / "policies"], config_path=None, tenant=None, cwd=root)
            out = io.StringIO()
            report(diagnostics, files, "text", out)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            summary = out.getvalue().splitlines()[-1]
            print(
                f"{args.engine}: {len(files)} files in {elapsed:.2f} s: {len(files) / elapsed:,.0f} files/s, "
                f"{len(files) / cpu:,.0f} files/s of CPU ({summary})"
            )
            failed = failed or bool(diagnostics)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
