"""`xtap plan out/`: the commands that read one tenant's files take its policies folder as an argument.

End to end against the emulator: nothing lies in ./policies, so only the folder named on the command line
can make these runs work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator
from tests.support.builders import FAB
from tests.support.e2e import PARTNERS, use_emulator, write_policies, writes, xtap

TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": False,
    "isHybridAzureADJoinedDeviceAccepted": False,
}
MISSING = "policies: error: policies folder not found\n"


@pytest.fixture
def empty(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(seed="empty") as emu:
        use_emulator(monkeypatch, emu)
        monkeypatch.chdir(tmp_path)
        write_policies(tmp_path / "out", {"fabrikam": {"tenantId": FAB, "inboundTrust": TRUST}})
        yield emu


def test_plan_reads_the_folder_given_and_only_it(empty: Emulator, capsys: Any) -> None:
    code, out, err = xtap(capsys, "plan")
    assert (code, out) == (1, "")
    assert err.startswith(MISSING)
    code, out, err = xtap(capsys, "plan", "out/policies", "--detailed-exitcode", "--out", "plan.json")
    assert (code, err) == (2, "")
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in out


def test_apply_takes_a_folder_and_a_saved_plan(empty: Emulator, capsys: Any) -> None:
    assert xtap(capsys, "plan", "out/policies", "--out", "plan.json")[0] == 0
    # Alone, a file is the saved plan: the files then come from ./policies, which does not exist.
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert (code, out) == (1, "")
    assert err.startswith(MISSING)
    code, out, err = xtap(capsys, "apply", "out/policies", "plan.json", "--auto-approve")
    assert (code, err) == (0, ""), out
    assert writes(empty) == [("POST", PARTNERS, {"tenantId": FAB, "inboundTrust": TRUST})]
    # Alone, a folder is the policies folder.
    code, out, err = xtap(capsys, "apply", "out/policies", "--auto-approve")
    assert (code, err) == (0, "")
    assert "No changes. The tenant matches the policy files." in out


def test_drift_and_show_read_the_folder_given(empty: Emulator, capsys: Any) -> None:
    assert xtap(capsys, "apply", "out/policies", "--auto-approve")[0] == 0
    code, out, err = xtap(capsys, "drift", "out/policies", "--format", "json")
    assert (code, err) == (0, "")
    code, out, err = xtap(capsys, "show", "fabrikam", "out/policies", "--source", "files")
    assert (code, err) == (0, "")
    assert "Policy file: out/policies/partners/fabrikam.yaml\n" in out
