"""Prune never deletes what Microsoft or the configuration protects (issue #12, DESIGN §3).

A service-provider partner, the Microsoft Support tenant, a multitenant-organization member and a partner in
`protectedPartners` — none of them, nor their identity-sync policies, is deleted by `xtap apply --prune`;
a sync-policy deletion counts for the gates and the deletion banner, which names what goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator, seeds
from tests.support.builders import FAB, MTO
from tests.support.e2e import PARTNERS, use_emulator, write_policies, writes, xtap

PROVIDER = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
SUPPORT = "b4c546a4-7dac-46a6-a7dd-ed822a11efd3"  # the Microsoft Support tenant
PROTECTED = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e"
STRAY = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
SYNC = {"userSyncInbound": {"isSyncAllowed": True}}


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    state = seeds.empty()
    state["directory"][STRAY] = {
        "displayName": "Stray Ltd",
        "defaultDomainName": "stray.example",
        "federationBrandName": None,
    }
    with Emulator(seed=state) as emulator:
        use_emulator(monkeypatch, emulator)
        monkeypatch.chdir(tmp_path)
        for tid, extra in (
            (FAB, {}),
            (PROVIDER, {"isServiceProvider": True}),
            (SUPPORT, {"isServiceProvider": None}),
            (MTO, {"isInMultiTenantOrganization": True}),
            (PROTECTED, {}),
            (STRAY, {}),
        ):
            emulator.put_partner({"tenantId": tid, **extra})
            emulator.set_sync(tid, {"tenantId": tid, "displayName": f"sync {tid[:4]}", **SYNC})
        write_policies(
            tmp_path,
            {
                "fabrikam": {"tenantId": FAB, "description": "Fabrikam joint venture"},
                "mto": {"tenantId": MTO},
            },
        )
        (tmp_path / "xtap.yaml").write_text(
            f"prune: true\nprotectedPartners: [{PROTECTED}]\nsafety: {{maxDeletes: 3}}\n"
        )
        yield emulator


def test_prune_deletes_only_what_nobody_protects(emu: Emulator, capsys: Any) -> None:
    emu.clear_journal()
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert code == 0, out + err
    assert sorted((m, p.removeprefix(PARTNERS)) for m, p, _ in writes(emu)) == sorted(
        [
            ("DELETE", f"/{FAB}/identitySynchronization"),  # declared without one: prune removes it
            ("DELETE", f"/{STRAY}/identitySynchronization"),
            ("DELETE", f"/{STRAY}"),
        ]
    )
    for tid in (PROVIDER, SUPPORT, MTO, PROTECTED):
        assert emu.get_partner(tid) is not None
        assert emu.get_sync(tid) is not None, tid
    assert (
        f"  ? partner {PROVIDER}: unmanaged, never deleted (a service provider, isServiceProvider: Microsoft manages it)\n"
        in out
    )
    assert (
        f"  ? partner {SUPPORT}: unmanaged, never deleted (the Microsoft Support tenant, added by Microsoft during "
        "a support case)\n" in out
    )
    assert f"  ? partner {PROTECTED}: unmanaged, never deleted (listed in protectedPartners)\n" in out
    assert (
        f"  ? identity sync mto ({MTO}): unmanaged, the file has no identitySynchronization; never deleted "
        "(a multitenant organization member, isInMultiTenantOrganization)\n" in out
    )


def test_sync_deletions_count_in_the_gate_and_the_banner_names_what_goes(
    emu: Emulator, tmp_path: Path, capsys: Any
) -> None:
    code, out, _err = xtap(capsys, "plan", "--format", "markdown")
    assert code == 0
    assert (
        "> [!CAUTION]\n> **This plan deletes 3 resource(s):** "
        f"<code>identity sync fabrikam ({FAB})</code>, "
        f"<code>identity sync Stray Ltd ({STRAY})</code>, "
        f"<code>partner Stray Ltd ({STRAY})</code>\n"
    ) in out
    (tmp_path / "xtap.yaml").write_text(
        f"prune: true\nprotectedPartners: [{PROTECTED}]\nsafety: {{maxDeletes: 2}}\n"
    )
    emu.clear_journal()
    code, out, _err = xtap(capsys, "apply", "--auto-approve")
    assert code == 3
    assert (
        "Refused by safety gate: 3 deletions (1 partner, 2 identity-sync policies) exceed maxDeletes (2)"
        in out
    )
    assert writes(emu) == []
