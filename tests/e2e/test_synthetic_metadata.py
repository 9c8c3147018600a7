"""A newer Graph metadata needs no code (issue #13): every command runs against the emulator with it.

The synthetic metadata (tests/support/metadata.py) adds a complex `guestLimits` (`maxGuests: Edm.Int32`,
`label: Edm.String`) to partners and the default, an access type `audited`, a target slot
`servicePrincipals` and a targetType `servicePrincipal`. `metadata.using` swaps it in for the whole
process, the emulator included: it validates request bodies against the same metadata, so a body with a
member the metadata doesn't have would be refused there as it would be by Graph.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import schemas
from reconciler.core import metadata, model
from reconciler.emulator import Emulator
from tests.support import REPO
from tests.support.builders import FAB
from tests.support.e2e import PARTNERS, use_emulator, write_policies, writes, xtap
from tests.support.metadata import LABEL_DESCRIPTION, synthetic

APP = "0b5f3c2a-8d4e-4f6a-9b1c-2d3e4f5a6b7c"
LIMITS = {"maxGuests": 25, "label": "pilot"}
DEFAULT_LIMITS = {"maxGuests": 10, "label": None}
AUDITED = {
    "servicePrincipals": {
        "accessType": "audited",
        "targets": [{"target": APP, "targetType": "servicePrincipal"}],
    }
}
PARTNER = {"tenantId": FAB, "guestLimits": LIMITS, "b2bCollaborationInbound": AUDITED}


@pytest.fixture(autouse=True)
def newer() -> Iterator[metadata.Metadata]:
    with metadata.using(synthetic()) as md:
        yield md
    # The swap ends with the test: nothing after it sees the synthetic property.
    assert metadata.load() is not md
    assert "guestLimits" not in model.PARTNER_PROPERTIES


@pytest.fixture(params=["merge", "replace"])
def emu(
    newer: metadata.Metadata, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Emulator]:
    """An empty tenant, started under the synthetic metadata (the emulator reads it when it starts), under
    either PATCH semantics for complex values."""
    monkeypatch.chdir(tmp_path)
    with Emulator(seed="empty", patch_semantics=request.param) as emulator:
        use_emulator(monkeypatch, emulator)
        yield emulator


def seed_like_the_files(emu: Emulator) -> None:
    emu.put_partner(PARTNER)
    emu.patch_default({"guestLimits": DEFAULT_LIMITS})


def test_validate_plan_apply_then_the_next_plan_is_empty(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_policies(tmp_path, {"fabrikam": PARTNER}, {"guestLimits": DEFAULT_LIMITS})
    assert xtap(capsys, "validate") == (0, "2 files valid\n", "")

    code, out, err = xtap(capsys, "plan", "--detailed-exitcode")
    assert (code, err) == (2, "")
    assert out == (
        f"xtap plan for tenant default ({emu.tenant_id})\n"
        "\n"
        "  ~ default configuration   (policies/default.yaml:1:1)\n"
        "      ~ guestLimits.maxGuests: null → 10\n"
        f"  + partner fabrikam ({FAB})   (policies/partners/fabrikam.yaml:1:11)\n"
        "      + guestLimits.label: pilot\n"
        "      + guestLimits.maxGuests: 25\n"
        "      + b2bCollaborationInbound.servicePrincipals.accessType: audited\n"
        f"      + b2bCollaborationInbound.servicePrincipals.targets: [{APP} (servicePrincipal)]\n"
        "\n"
        "Plan: 1 to add, 1 to change, 0 to destroy.\n"
    )
    code, out, _ = xtap(capsys, "plan", "--format", "json")
    planned = [
        (c["resource"], r["method"], r["url"], r["body"])
        for c in json.loads(out)["changes"]
        for r in c["requests"]
    ]
    # `label: null` on the default is omitted (the tenant has no label to clear); guestLimits is not on the
    # Create page, so the new partner gets it in the PATCH that follows the POST.
    partner_url = f"/policies/crossTenantAccessPolicy/partners/{FAB}"
    assert planned == [
        ("default", "PATCH", "/policies/crossTenantAccessPolicy/default", {"guestLimits": {"maxGuests": 10}}),
        (
            "partner",
            "POST",
            "/policies/crossTenantAccessPolicy/partners",
            {"tenantId": FAB, "b2bCollaborationInbound": AUDITED},
        ),
        ("partner", "PATCH", partner_url, {"guestLimits": LIMITS}),
    ]

    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert (code, err) == (0, "")
    assert out.splitlines()[-2:] == [
        "Apply complete: 2 applied, 0 failed.",
        "Verified: the tenant matches the policy files for everything applied.",
    ]
    # The default's batch and the partner's serial one may interleave; within the partner, POST then PATCH.
    sent = writes(emu)
    assert [w for w in sent if w[2] != {"guestLimits": {"maxGuests": 10}}] == [
        ("POST", PARTNERS, {"tenantId": FAB, "b2bCollaborationInbound": AUDITED}),
        ("PATCH", f"{PARTNERS}/{FAB}", {"guestLimits": LIMITS}),
    ]
    default_patch = (
        "PATCH",
        "/v1.0/policies/crossTenantAccessPolicy/default",
        {"guestLimits": {"maxGuests": 10}},
    )
    assert (len(sent), sent.count(default_patch)) == (3, 1)
    live = emu.get_partner(FAB)
    assert live is not None
    assert (live["guestLimits"], live["b2bCollaborationInbound"]) == (LIMITS, AUDITED)
    assert emu.get_default()["guestLimits"]["maxGuests"] == 10

    code, out, err = xtap(capsys, "plan", "--detailed-exitcode")
    assert (code, out.splitlines()[-1], err) == (0, "No changes. The tenant matches the policy files.", "")


def test_export_writes_the_new_property_and_plans_empty(
    emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_like_the_files(emu)
    code, out, err = xtap(capsys, "export")
    assert (code, err) == (0, ""), out
    assert Path(f"policies/partners/{FAB}.yaml").read_text("utf-8") == (
        "# yaml-language-server: $schema=../../schemas/partner.schema.json\n"
        "# Display name unknown (the tenant lookup was not available).\n"
        "# Exported by xtap: properties that inherit the default (null in Graph) are left out.\n"
        f"tenantId: {FAB}\n"
        "b2bCollaborationInbound:\n"
        "  servicePrincipals:\n"
        "    accessType: audited\n"
        "    targets:\n"
        f"      - {{target: {APP}, targetType: servicePrincipal}}\n"
        "guestLimits:\n"
        "  maxGuests: 25\n"
        "  label: pilot\n"
    )
    default = Path("policies/default.yaml").read_text("utf-8")
    assert default.endswith("guestLimits:\n  maxGuests: 10\n  label: null\n"), default
    assert default.splitlines()[2] == (  # set in the tenant, so guestLimits is managed
        "# Not set in the tenant, so not managed here: appServiceConnectInbound, m365CollaborationInbound, "
        "m365CollaborationOutbound."
    )
    code, out, err = xtap(capsys, "plan", "--detailed-exitcode")
    assert (code, out.splitlines()[-1], err) == (0, "No changes. The tenant matches the policy files.", "")


def test_show_tells_set_from_inherited_for_the_new_members(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.put_partner({"tenantId": FAB, "b2bCollaborationInbound": AUDITED})  # guestLimits inherits
    emu.patch_default({"guestLimits": {"maxGuests": 10, "label": "everyone"}})
    write_policies(tmp_path, {"fabrikam": {"tenantId": FAB, "b2bCollaborationInbound": AUDITED}})
    code, out, err = xtap(capsys, "show", "fabrikam", "--format", "json")
    assert (code, err) == (0, "")
    settings = [
        (s["path"], s["value"], s["origin"])
        for s in json.loads(out)["settings"]
        if s["path"].startswith(("guestLimits.", "b2bCollaborationInbound.servicePrincipals."))
    ]
    assert settings == [
        ("b2bCollaborationInbound.servicePrincipals.accessType", "audited", "partner"),
        (
            "b2bCollaborationInbound.servicePrincipals.targets",
            [{"target": APP, "targetType": "servicePrincipal"}],
            "partner",
        ),
        ("guestLimits.maxGuests", 10, "default"),
        ("guestLimits.label", "everyone", "default"),
    ]
    code, out, err = xtap(capsys, "show", "fabrikam")
    assert (code, err) == (0, "")
    lines = [" ".join(line.split()) for line in out.splitlines() if line.lstrip().startswith("guestLimits.")]
    assert lines == [
        "guestLimits.maxGuests 10 inherited (default)",
        "guestLimits.label everyone inherited (default)",
    ]


def test_drift_reports_a_live_change_of_the_new_member_and_apply_puts_it_back(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_like_the_files(emu)
    write_policies(tmp_path, {"fabrikam": PARTNER}, {"guestLimits": DEFAULT_LIMITS})
    assert xtap(capsys, "drift", "--format", "json")[0] == 0
    emu.put_partner({**PARTNER, "guestLimits": {**LIMITS, "maxGuests": 30}})  # changed in the portal

    code, out, err = xtap(capsys, "drift", "--format", "json")
    assert (code, err) == (2, "")
    items = [
        (i["kind"], i["resource"], i["path"], i["declared"], i["live"], i["message"])
        for i in json.loads(out)["items"]
    ]
    assert items == [
        (
            "changed",
            "partner",
            "guestLimits.maxGuests",
            25,
            30,
            f"guestLimits.maxGuests of partner fabrikam ({FAB}) is 30 in the tenant but 25 in the file; "
            "the file wins on the next apply",
        )
    ]
    code, out, err = xtap(capsys, "drift", "--format", "text")
    assert (code, err) == (2, "")
    assert "      ~ guestLimits.maxGuests: 30 in the tenant, 25 in the file\n" in out

    emu.clear_journal()
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert (code, err) == (0, "")
    assert "      ~ guestLimits.maxGuests: 30 → 25\n" in out
    # The whole object goes back: Graph may replace a complex property on PATCH.
    assert writes(emu) == [("PATCH", f"{PARTNERS}/{FAB}", {"guestLimits": LIMITS})]
    assert xtap(capsys, "drift", "--format", "json")[0] == 0


def test_the_schemas_written_from_the_metadata_carry_the_new_property(tmp_path: Path) -> None:
    assert schemas.main(["--write", str(tmp_path)]) == 0
    partner = json.loads((tmp_path / "partner.schema.json").read_text("utf-8"))
    default = json.loads((tmp_path / "default.schema.json").read_text("utf-8"))
    for written in (partner, default):
        members = written["properties"]["guestLimits"]["properties"]
        assert members["maxGuests"]["type"] == ["integer", "null"]
        assert (members["maxGuests"]["minimum"], members["maxGuests"]["maximum"]) == (-(2**31), 2**31 - 1)
        assert members["label"] == {"description": LABEL_DESCRIPTION, "type": ["string", "null"]}
        slot = written["properties"]["b2bCollaborationInbound"]["properties"]["servicePrincipals"][
            "properties"
        ]
        assert slot["accessType"]["enum"] == ["allowed", "blocked", "audited", None]
    committed = json.loads((REPO / "schemas" / "partner.schema.json").read_text("utf-8"))
    assert "guestLimits" not in committed["properties"]  # it came from the synthetic metadata alone
