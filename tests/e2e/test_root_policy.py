"""The root policy end to end: `policies/policy.yaml` manages `allowedCloudEndpoints` of
`/policies/crossTenantAccessPolicy`, planned first and written alone, in its own `$batch`, before any partner
write (a partner in another Microsoft cloud can be configured only once that cloud is allowed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import Emulator
from tests.support.builders import CON, FAB
from tests.support.e2e import PARTNERS, graph_calls, use_emulator, write_policies, writes, xtap

ROOT = "/v1.0/policies/crossTenantAccessPolicy"
TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": False,
    "isHybridAzureADJoinedDeviceAccepted": False,
}
CONSENT = {"inboundAllowed": True, "outboundAllowed": False}
NO_CHANGES = "No changes. The tenant matches the policy files."


@pytest.fixture
def emu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    with Emulator(seed="empty") as emulator:
        use_emulator(monkeypatch, emulator)
        emulator.put_partner({"tenantId": CON})
        yield emulator


def files(root: Path, policy: str | None) -> None:
    """A new partner (POST), a changed one (PATCH), and policy.yaml when given."""
    write_policies(
        root,
        {
            "fabrikam": {"tenantId": FAB, "inboundTrust": TRUST},
            "contoso": {"tenantId": CON, "automaticUserConsentSettings": CONSENT},
        },
    )
    if policy is not None:
        (root / "policies" / "policy.yaml").write_text(policy, encoding="utf-8")


def test_plan_shows_the_policy_first_and_apply_writes_it_alone_before_the_partners(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files(
        tmp_path,
        "description: CHG-1234, collaboration with the US Government cloud\n"
        "allowedCloudEndpoints: [microsoftonline.us]\n",
    )
    assert xtap(capsys, "validate") == (0, "3 files valid\n", "")
    code, out, err = xtap(capsys, "plan", "--detailed-exitcode")
    assert (code, err) == (2, "")
    assert out == (
        f"xtap plan for tenant default ({emu.tenant_id})\n"
        "\n"
        "  ~ cross-tenant access policy   (policies/policy.yaml:1:1)\n"
        "      ~ allowedCloudEndpoints: [] → [microsoftonline.us]\n"
        f"  ~ partner contoso ({CON})   (policies/partners/contoso.yaml:1:11)\n"
        "      ~ automaticUserConsentSettings.inboundAllowed: inherit (default: false) → true\n"
        "      ~ automaticUserConsentSettings.outboundAllowed: inherit (default: false) → false\n"
        "      ! access widens: automatic consent — inboundAllowed true\n"
        f"  + partner fabrikam ({FAB})   (policies/partners/fabrikam.yaml:1:11)\n"
        "      + inboundTrust.isCompliantDeviceAccepted: false\n"
        "      + inboundTrust.isHybridAzureADJoinedDeviceAccepted: false\n"
        "      + inboundTrust.isMfaAccepted: true\n"
        "      ! access widens: inbound trust — isMfaAccepted true\n"
        "\n"
        "Plan: 1 to add, 2 to change, 0 to destroy.\n"
    )

    emu.clear_journal()
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert (code, err) == (0, "")
    assert out.splitlines()[-2:] == [
        "Apply complete: 3 applied, 0 failed.",
        "Verified: the tenant matches the policy files for everything applied.",
    ]
    policy_patch = ("PATCH", ROOT, {"allowedCloudEndpoints": ["microsoftonline.us"]})
    sent = writes(emu)
    assert sent[0] == policy_patch  # only allowedCloudEndpoints: the description stays in Git
    assert sorted(sent[1:], key=repr) == [
        ("PATCH", f"{PARTNERS}/{CON}", {"automaticUserConsentSettings": CONSENT}),
        ("POST", PARTNERS, {"tenantId": FAB, "inboundTrust": TRUST}),
    ]
    # Alone: a $batch of its own, before the partners' batch.
    batches = [e.body["requests"] for e in emu.journal if e.path == "/v1.0/$batch"]
    assert [sorted((r["method"], r["url"]) for r in batch) for batch in batches] == [
        [("PATCH", "/policies/crossTenantAccessPolicy")],
        [
            ("PATCH", f"/policies/crossTenantAccessPolicy/partners/{CON}"),
            ("POST", "/policies/crossTenantAccessPolicy/partners"),
        ],
    ]
    assert emu.get_policy()["allowedCloudEndpoints"] == ["microsoftonline.us"]

    code, out, err = xtap(capsys, "plan", "--detailed-exitcode")
    assert (code, out.splitlines()[-3:], err) == (0, ["  (3 resources unchanged)", "", NO_CHANGES], "")


def test_a_live_change_of_the_root_policy_is_drift_and_the_file_wins(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files(tmp_path, "allowedCloudEndpoints: [microsoftonline.us]\n")
    emu.patch_policy({"allowedCloudEndpoints": ["partner.microsoftonline.cn", "microsoftonline.us"]})
    code, out, err = xtap(capsys, "drift", "--format", "json")
    assert (code, err) == (2, "")
    items = [
        (i["kind"], i["path"], i["message"]) for i in json.loads(out)["items"] if i["resource"] == "policy"
    ]
    assert items == [
        (
            "changed",
            "allowedCloudEndpoints",
            "allowedCloudEndpoints of the cross-tenant access policy is [microsoftonline.us, "
            "partner.microsoftonline.cn] in the tenant but [microsoftonline.us] in the file; "
            "the file wins on the next apply",
        )
    ]
    code, out, err = xtap(capsys, "drift", "--format", "text")
    assert (
        "  ~ cross-tenant access policy   (policies/policy.yaml:1:1)\n"
        "      ~ allowedCloudEndpoints: [microsoftonline.us, partner.microsoftonline.cn] in the tenant, "
        "[microsoftonline.us] in the file\n"
    ) in out
    code, out, err = xtap(capsys, "drift", "--format", "markdown")
    assert "<details><summary>cross-tenant access policy — 1 item</summary>\n" in out

    emu.clear_journal()
    assert xtap(capsys, "apply", "--auto-approve")[0] == 0
    assert writes(emu)[0] == ("PATCH", ROOT, {"allowedCloudEndpoints": ["microsoftonline.us"]})
    assert emu.get_policy()["allowedCloudEndpoints"] == ["microsoftonline.us"]


def test_the_order_of_the_list_means_nothing(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "policy.yaml").write_text(
        "allowedCloudEndpoints: [microsoftonline.us, partner.microsoftonline.cn]\n", encoding="utf-8"
    )
    emu.patch_policy({"allowedCloudEndpoints": ["partner.microsoftonline.cn", "microsoftonline.us"]})
    code, out, err = xtap(capsys, "plan", "--detailed-exitcode")
    assert (code, out.splitlines()[-1], err) == (0, NO_CHANGES, "")


def test_an_unknown_cloud_endpoint_is_a_located_error_and_nothing_is_sent(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files(tmp_path, "allowedCloudEndpoints: [example.com]\n")
    located = (
        "policies/policy.yaml:1:25: error: allowedCloudEndpoints must be one of microsoftonline.com, "
        "microsoftonline.us, partner.microsoftonline.cn, got 'example.com'\n"
    )
    assert xtap(capsys, "validate") == (1, located + "1 error, 0 warnings in 3 files\n", "")
    emu.clear_journal()
    for command in (("plan",), ("apply", "--auto-approve")):
        code, out, err = xtap(capsys, *command)
        assert (code, out, err) == (
            1,
            "",
            located + "xtap: error: the policy files have 1 error; nothing was sent to Graph\n",
        ), command
    assert graph_calls(emu) == []
    assert emu.get_policy()["allowedCloudEndpoints"] == []


@pytest.mark.parametrize("policy", [None, "description: the clouds are not managed here yet\n"])
def test_without_allowed_cloud_endpoints_in_policy_yaml_the_root_policy_is_never_written(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str | None
) -> None:
    files(tmp_path, policy)
    emu.patch_policy({"allowedCloudEndpoints": ["microsoftonline.us"]})  # set in the portal: left alone
    code, out, err = xtap(capsys, "plan")
    assert (code, err) == (0, "")
    assert "cross-tenant access policy" not in out
    assert "allowedCloudEndpoints" not in out
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert (code, err) == (0, ""), out
    assert sorted(writes(emu), key=repr) == [
        ("PATCH", f"{PARTNERS}/{CON}", {"automaticUserConsentSettings": CONSENT}),
        ("POST", PARTNERS, {"tenantId": FAB, "inboundTrust": TRUST}),
    ]
    assert emu.get_policy()["allowedCloudEndpoints"] == ["microsoftonline.us"]
    code, out, err = xtap(capsys, "drift", "--format", "json")
    assert (code, json.loads(out)["items"], err) == (0, [], "")
