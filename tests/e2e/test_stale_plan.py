"""A saved plan goes stale when the tenant or the files move after it was made (issue #18, DESIGN §4).

`xtap plan --out plan.json` is reviewed; `xtap apply plan.json` runs later. Whatever changed in between —
a partner's identity-sync policy or the default changed in the portal, `default.yaml` edited — the approval
was for another state, so apply refuses the plan with exit 3 and writes nothing. The changes below are
chosen so that a fresh plan sends the *same* requests: only the fingerprints can tell, so each test fails
if the fingerprint stops covering that input (the saved plan would then be applied).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator
from tests.support.builders import ALL_APPS, ALL_USERS, CON, FAB, TRUST
from tests.support.e2e import dump, graph_calls, use_emulator, write_policies, writes, xtap

BLOCKED_USERS = {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]}
BLOCKED_APPS = {
    "accessType": "blocked",
    "targets": [{"target": "AllApplications", "targetType": "application"}],
}
DEFAULT = {
    "inboundTrust": {**TRUST, "isHybridAzureADJoinedDeviceAccepted": False},
    "b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
}
REFUSED = "xtap: error: the saved plan is refused: {why}; make a new plan. Nothing was changed.\n"
TENANT_CHANGED = "the tenant changed since it was made ({keys})"
FILES_CHANGED = "the policy files changed since it was made"
SUMMARY = "Plan: 0 to add, 2 to change, 0 to destroy."  # fabrikam's trust and the default's


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    """fabrikam's trust and the default's trust to change; contoso's sync policy made in the portal (the
    file leaves it alone: shown as unmanaged, never written)."""
    with Emulator(seed="empty") as emulator:
        use_emulator(monkeypatch, emulator)
        monkeypatch.chdir(tmp_path)
        emulator.put_partner({"tenantId": FAB})
        emulator.put_partner({"tenantId": CON, "inboundTrust": TRUST})
        emulator.set_sync(CON, {"displayName": "contoso sync", "userSyncInbound": {"isSyncAllowed": False}})
        write_policies(
            tmp_path,
            {
                "fabrikam": {"tenantId": FAB, "inboundTrust": TRUST},
                "contoso": {"tenantId": CON, "inboundTrust": TRUST},
            },
            default=DEFAULT,
        )
        yield emulator


def saved_plan(capsys: Any) -> None:
    """Plan and save: what a reviewer approves."""
    code, out, err = xtap(capsys, "plan", "--out", "plan.json")
    assert code == 0, err
    assert SUMMARY in out


def apply_refused(emu: Emulator, capsys: Any) -> str:
    """`xtap apply plan.json` exits 3 and no write reaches the tenant, in or out of a batch."""
    emu.clear_journal()
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert code == 3, out + err
    assert out == ""
    assert writes(emu) == []
    assert emu.journal  # it did read the tenant, to re-derive the plan
    for call in graph_calls(emu):  # reads only: a GET, or a $batch of GETs
        inner = {r["method"] for r in (call.body or {}).get("requests", [])}
        assert call.method == "GET" or (call.path.endswith("$batch") and inner <= {"GET"}), call
    return err


def fresh_plan_is_the_same(capsys: Any) -> None:
    """What a fresh plan would send is what the saved plan holds: only the fingerprints can refuse it."""
    saved = json.loads(Path("plan.json").read_text(encoding="utf-8"))
    code, out, err = xtap(capsys, "plan", "--out", "fresh.json")
    assert code == 0, err
    fresh = json.loads(Path("fresh.json").read_text(encoding="utf-8"))
    assert [r for c in saved["changes"] for r in c["requests"]] == [
        r for c in fresh["changes"] for r in c["requests"]
    ]
    assert SUMMARY in out


def test_the_untouched_saved_plan_applies(emu: Emulator, capsys: Any) -> None:
    saved_plan(capsys)
    emu.clear_journal()
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert code == 0, out + err
    assert sorted((m, p.rsplit("/", 1)[-1], sorted(b)) for m, p, b in writes(emu)) == [
        ("PATCH", FAB, ["inboundTrust"]),
        ("PATCH", "default", ["inboundTrust"]),
    ]


def test_a_sync_policy_changed_in_the_portal_refuses_the_plan(emu: Emulator, capsys: Any) -> None:
    """The reviewer saw contoso's unmanaged sync policy not letting users in; now it does."""
    saved_plan(capsys)
    emu.set_sync(CON, {"displayName": "contoso sync", "userSyncInbound": {"isSyncAllowed": True}})
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=TENANT_CHANGED.format(keys=f"partner:{CON}"))


def test_a_sync_policy_added_in_the_portal_refuses_the_plan(emu: Emulator, capsys: Any) -> None:
    """A sync policy the file doesn't declare is left alone, so the requests stay the same."""
    saved_plan(capsys)
    emu.set_sync(FAB, {"displayName": "fabrikam sync", "userSyncInbound": {"isSyncAllowed": True}})
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=TENANT_CHANGED.format(keys=f"partner:{FAB}"))


def test_a_partner_setting_the_file_ignores_changed_in_the_portal_refuses_the_plan(
    emu: Emulator, tmp_path: Path, capsys: Any
) -> None:
    """contoso's file ignores b2bDirectConnectInbound: opening it in the portal plans nothing, but the
    reviewer approved a tenant where it was closed."""
    contoso = {"tenantId": CON, "inboundTrust": TRUST, "ignore": ["b2bDirectConnectInbound"]}
    write_policies(tmp_path, {"contoso": contoso})
    saved_plan(capsys)
    emu.put_partner(
        {
            "tenantId": CON,
            "inboundTrust": TRUST,
            "b2bDirectConnectInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
        }
    )
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=TENANT_CHANGED.format(keys=f"partner:{CON}"))


def test_the_default_changed_in_the_portal_refuses_the_plan(emu: Emulator, capsys: Any) -> None:
    """default.yaml doesn't manage direct connect: opening it in the portal changes what every partner
    without its own setting gets, which the reviewer did not see."""
    saved_plan(capsys)
    emu.patch_default({"b2bDirectConnectOutbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}})
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=TENANT_CHANGED.format(keys="default"))


@pytest.mark.parametrize(
    "edit",
    [
        {"description": "approved by the CISO"},
        {"ignore": ["b2bDirectConnectInbound"]},
        {"automaticUserConsentSettings": None},
    ],
    ids=["a-description", "an-ignore", "an-explicit-inherit"],
)
def test_a_partner_file_edited_after_the_plan_refuses_it(
    emu: Emulator, tmp_path: Path, capsys: Any, edit: dict[str, Any]
) -> None:
    """Edits of contoso's file that plan the same requests: the plan was approved for other files."""
    saved_plan(capsys)
    contoso = tmp_path / "policies" / "partners" / "contoso.yaml"
    contoso.write_text(dump({"tenantId": CON, "inboundTrust": TRUST, **edit}))
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=FILES_CHANGED)


def test_the_root_policy_changed_in_the_portal_refuses_the_plan(
    emu: Emulator, tmp_path: Path, capsys: Any
) -> None:
    """policy.yaml manages allowedCloudEndpoints (as the tenant has them); the policy itself is then
    changed in the portal."""
    emu.patch_policy({"allowedCloudEndpoints": ["microsoftonline.us"]})
    (tmp_path / "policies" / "policy.yaml").write_text(
        dump({"allowedCloudEndpoints": ["microsoftonline.us"]})
    )
    saved_plan(capsys)
    emu.patch_policy({"displayName": "Changed in the portal"})
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=TENANT_CHANGED.format(keys="policy"))


def test_policy_yaml_edited_after_the_plan_refuses_it(emu: Emulator, tmp_path: Path, capsys: Any) -> None:
    """The clouds written in another order: the same set, the same requests, but other files."""
    clouds = ["microsoftonline.us", "partner.microsoftonline.cn"]
    emu.patch_policy({"allowedCloudEndpoints": clouds})
    policy = tmp_path / "policies" / "policy.yaml"
    policy.write_text(dump({"allowedCloudEndpoints": clouds}))
    saved_plan(capsys)
    policy.write_text(dump({"allowedCloudEndpoints": clouds[::-1]}))
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=FILES_CHANGED)


def _ignore_direct_connect(default: dict[str, Any]) -> None:
    default["ignore"] = ["b2bDirectConnectInbound"]


def _declare_what_the_tenant_has(default: dict[str, Any]) -> None:
    default["b2bDirectConnectInbound"] = {"usersAndGroups": BLOCKED_USERS, "applications": BLOCKED_APPS}


@pytest.mark.parametrize(
    "edit",
    [_ignore_direct_connect, _declare_what_the_tenant_has],
    ids=["an-ignore-added", "a-setting-the-tenant-already-has"],
)
def test_default_yaml_edited_after_the_plan_refuses_it(
    emu: Emulator, tmp_path: Path, capsys: Any, edit: Callable[[dict[str, Any]], None]
) -> None:
    """Edits that plan the same requests: the plan was still approved for other files."""
    saved_plan(capsys)
    default = json.loads(json.dumps(DEFAULT))
    edit(default)
    (tmp_path / "policies" / "default.yaml").write_text(dump(default), encoding="utf-8")
    fresh_plan_is_the_same(capsys)
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=FILES_CHANGED)


def test_default_yaml_changed_in_value_refuses_the_plan(emu: Emulator, tmp_path: Path, capsys: Any) -> None:
    saved_plan(capsys)
    default = {**DEFAULT, "inboundTrust": TRUST}
    (tmp_path / "policies" / "default.yaml").write_text(dump(default), encoding="utf-8")
    err = apply_refused(emu, capsys)
    assert err == REFUSED.format(why=FILES_CHANGED)
    assert emu.get_default()["inboundTrust"]["isMfaAccepted"] is False  # as before the plan
