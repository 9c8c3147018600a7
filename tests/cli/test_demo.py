from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO
from tests.support.e2e import xtap


def test_demo_runs_the_whole_loop_and_restores_the_environment(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "the-callers-own-secret")
    monkeypatch.delenv("XTAP_GRAPH_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = xtap(capsys, "demo", "--policies", str(REPO / "policies"))
    assert code == 0, out + err
    steps = [line for line in out.splitlines() if line.startswith("==> ")]
    assert steps == [
        "==> [1/6] xtap validate",
        "==> [2/6] xtap plan",
        "==> [3/6] xtap apply --auto-approve",
        "==> [4/6] xtap plan",
        "==> [5/6] someone changes the tenant in the portal",
        "==> [6/6] xtap drift",
    ]
    assert "Plan: 5 to add, 2 to change, 0 to destroy." in out
    assert "Apply complete: 7 applied, 0 failed." in out
    assert "No changes. The tenant matches the policy files." in out
    assert "| <code>inboundTrust.isMfaAccepted</code> | <code>true</code> | <code>false</code> |" in out
    assert out.rstrip().endswith("xtap demo: every step behaved as expected.")
    assert os.environ["AZURE_CLIENT_SECRET"] == "the-callers-own-secret"
    assert "XTAP_GRAPH_URL" not in os.environ


def test_demo_without_policies_is_a_clean_error(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = xtap(capsys, "demo")
    assert (code, out) == (1, "")
    assert err == (
        "xtap: error: policies: no partners/ folder here; run `xtap demo` from the xtap repository "
        "or pass --policies DIR\n"
    )
