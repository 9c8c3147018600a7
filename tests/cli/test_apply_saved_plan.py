"""`xtap apply PLANFILE` names the saved plan by its summary; a safety gate is always shown in full."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator
from tests.support.e2e import use_emulator, write_policies, writes, xtap

IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(10)]
TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": False,
    "isHybridAzureADJoinedDeviceAccepted": False,
}
GATE = "4 of 10 existing partners would change, more than 30 %"


@pytest.fixture
def ten(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    """Ten partners in the tenant; the files change `count` of them."""
    with Emulator(seed="empty") as emu:
        for tid in IDS:
            emu.put_partner({"tenantId": tid})
        use_emulator(monkeypatch, emu)
        monkeypatch.chdir(tmp_path)
        yield emu


def declare(root: Path, count: int) -> None:
    write_policies(
        root, {f"p{i}": {"tenantId": tid, "inboundTrust": TRUST} for i, tid in enumerate(IDS[:count])}
    )


def test_a_saved_plan_is_named_by_its_summary(ten: Emulator, tmp_path: Path, capsys: Any) -> None:
    declare(tmp_path, 3)
    assert xtap(capsys, "plan", "--out", "plan.json")[0] == 0
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert (code, err) == (0, "")
    assert out == (
        "Applying the plan saved in plan.json: Plan: 0 to add, 3 to change, 0 to destroy.\n"
        "Apply complete: 3 applied, 0 failed.\n"
        "Verified: the tenant matches the policy files for everything applied.\n"
    )


def test_a_saved_plan_behind_a_safety_gate_is_shown_in_full(
    ten: Emulator, tmp_path: Path, capsys: Any
) -> None:
    declare(tmp_path, 4)
    assert xtap(capsys, "plan", "--out", "plan.json")[0] == 3
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert code == 3
    assert f"Refused by safety gate: {GATE}\n" in out
    assert out.count("~ partner p") == 4
    assert err.endswith(
        "If these changes are meant, re-run with --force (or raise the limit under `safety:` in xtap.yaml)\n"
    )
    assert writes(ten) == []
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve", "--force")
    assert (code, err) == (0, "")
    assert f"Safety gate overridden by --force: {GATE}\n" in out
    assert out.count("~ partner p") == 4
    assert "re-run with --force" not in out
    assert len(writes(ten)) == 4
