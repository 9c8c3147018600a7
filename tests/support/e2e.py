"""Shared helpers for end-to-end tests: the CLI in-process against the emulator over real HTTPS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli.main import main
from reconciler.emulator import Emulator
from reconciler.shell.graph.auth import CREDENTIAL_ENV

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
ENV_KEYS = (*CREDENTIAL_ENV, "GITHUB_ACTIONS", "NO_COLOR")


def use_emulator(monkeypatch: pytest.MonkeyPatch, emu: Emulator, app: str = "writer") -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key, value in emu.env(app=app).items():
        monkeypatch.setenv(key, value)


class _NoAliasDumper(yaml.SafeDumper):
    """xtap refuses YAML aliases; shared Python objects must be written out in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False)


def write_policies(
    root: Path, partners: dict[str, dict[str, Any]], default: dict[str, Any] | None = None
) -> Path:
    """Write `policies/partners/<name>.yaml` files (and `default.yaml`) under root; returns the policies dir."""
    policies = root / "policies"
    (policies / "partners").mkdir(parents=True, exist_ok=True)
    for name, body in partners.items():
        (policies / "partners" / f"{name}.yaml").write_text(dump(body))
    if default is not None:
        (policies / "default.yaml").write_text(dump(default))
    return policies


def xtap(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def writes(emu: Emulator) -> list[tuple[str, str, Any]]:
    """The write sub-requests (and plain writes) Graph received, in order: (method, path, body)."""
    return [
        (e.method, e.path, e.body)
        for e in emu.journal
        if e.method in ("POST", "PATCH", "PUT", "DELETE")
        and not e.path.endswith("$batch")
        and "/oauth2/" not in e.path
    ]


def graph_calls(emu: Emulator) -> list[Any]:
    """Outer HTTP requests to Graph (not token requests, not batch sub-requests)."""
    return [e for e in emu.journal if not e.in_batch and e.path.startswith("/v1.0")]


def load_json(text: str) -> Any:
    return json.loads(text)


@pytest.fixture
def demo_emulator() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        yield emu
