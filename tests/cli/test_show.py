from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.core import metadata, model
from reconciler.core.effective import effective_settings
from reconciler.emulator import Emulator, seeds
from tests.support.builders import FAB, MTO
from tests.support.e2e import use_emulator, xtap

WOOD = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"


def sample(type_name: str, flavour: int) -> Any:
    """A value with every managed member set; flavour 0 and 1 differ in every leaf."""
    md = metadata.load()
    if type_name == "crossTenantAccessPolicyTarget":
        return {"target": ("AllUsers", "Office365")[flavour], "targetType": ("user", "application")[flavour]}
    if type_name in md.types:
        return {
            p.name: [sample(p.type, flavour)] if p.collection else sample(p.type, flavour)
            for p in md.type(type_name).properties
            if (type_name, p.name) not in model.UNMANAGED_MEMBERS
        }
    if md.is_enum(type_name):
        return md.enums[type_name][flavour]
    if type_name == "Edm.Boolean":
        return flavour == 0
    return f"text{flavour}"


def prop_type(name: str) -> str:
    prop = metadata.load().type(metadata.PARTNER_TYPE).property(name)
    assert prop is not None
    return prop.type


FULL_DEFAULT = {name: sample(prop_type(name), 1) for name in model.PARTNER_PROPERTIES}


def test_every_managed_leaf_is_listed_once() -> None:
    leaves = effective_settings(None, None)
    paths = [leaf.path for leaf in leaves]
    assert len(paths) == len(set(paths)) == 33
    assert {leaf.property for leaf in leaves} == {*model.PARTNER_PROPERTIES, model.SYNC_PROPERTY}
    assert "tenantRestrictions.devices" not in " ".join(paths)
    assert all(leaf.origin == "none" and leaf.value is None for leaf in leaves)


@pytest.mark.parametrize("name", model.PARTNER_PROPERTIES)
def test_a_property_set_on_the_partner_wins_and_every_other_one_is_inherited(name: str) -> None:
    mine = sample(prop_type(name), 0)
    leaves = effective_settings({"tenantId": FAB, name: mine}, FULL_DEFAULT)
    for leaf in leaves:
        if leaf.property == name:
            expected = (model.canonical(model.value_at(mine, leaf.path.split(".", 1)[1])), "partner")
        elif leaf.property == model.SYNC_PROPERTY:
            expected = (None, "none")
        else:
            expected = (model.canonical(model.value_at(FULL_DEFAULT, leaf.path)), "default")
        assert (leaf.path, leaf.value, leaf.origin) == (leaf.path, *expected)
    assert sum(1 for leaf in leaves if leaf.origin == "partner") == len(model.leaf_paths(prop_type(name)))


def test_null_members_inherit_leaf_by_leaf() -> None:
    partner = {
        "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": None},
        "b2bDirectConnectInbound": {
            "applications": {
                "accessType": "allowed",
                "targets": [{"target": "Office365", "targetType": "application"}],
            }
        },
    }
    leaves = {
        leaf.path: (leaf.value, leaf.origin) for leaf in effective_settings(partner, seeds.system_default())
    }
    assert leaves["automaticUserConsentSettings.inboundAllowed"] == (True, "partner")
    assert leaves["automaticUserConsentSettings.outboundAllowed"] == (False, "default")
    assert leaves["b2bDirectConnectInbound.applications.accessType"] == ("allowed", "partner")
    assert leaves["b2bDirectConnectInbound.usersAndGroups.accessType"] == ("blocked", "default")
    assert leaves["b2bDirectConnectInbound.usersAndGroups.targets"] == (
        [{"target": "AllUsers", "targetType": "user"}],
        "default",
    )
    assert leaves["m365CollaborationInbound.users.accessType"] == (None, "none")


def test_values_are_canonical_and_sync_is_never_inherited() -> None:
    targets = [
        {"target": "6F546279-4DA5-4B53-A095-09EA0CEF9971", "targetType": "user"},
        {"target": "0a9e8a2b-5e0e-4b0b-9d8c-1c2f3a4b5c6d", "targetType": "group"},
    ]
    partner = {"b2bCollaborationOutbound": {"usersAndGroups": {"accessType": "allowed", "targets": targets}}}
    sync = {"tenantId": FAB, "displayName": None, "userSyncInbound": {"isSyncAllowed": True}}
    leaves = {leaf.path: (leaf.value, leaf.origin) for leaf in effective_settings(partner, {}, sync)}
    assert leaves["b2bCollaborationOutbound.usersAndGroups.targets"] == (
        [
            {"target": "0a9e8a2b-5e0e-4b0b-9d8c-1c2f3a4b5c6d", "targetType": "group"},
            {"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "user"},
        ],
        "partner",
    )
    assert leaves["identitySynchronization.userSyncInbound.isSyncAllowed"] == (True, "partner")
    assert leaves["identitySynchronization.displayName"] == (None, "none")


# --- end to end -------------------------------------------------------------------------------------------


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any) -> Any:
    with Emulator(seed="demo") as emu:
        use_emulator(monkeypatch, emu, app="reader")
        monkeypatch.chdir(tmp_path)
        assert xtap(capsys, "export")[0] == 0
        yield emu


def test_show_resolves_a_tenant_id_a_file_name_and_a_domain_alike(demo: Emulator, capsys: Any) -> None:
    outputs = []
    for ref in (FAB, FAB.upper(), "fabrikam-inc", "policies/partners/fabrikam-inc.yaml", "fabrikam.com"):
        code, out, err = xtap(capsys, "show", ref, "--format", "json")
        assert (code, err) == (0, ""), ref
        outputs.append(json.loads(out))
    assert all(o == outputs[0] for o in outputs)
    data = outputs[0]
    assert {k: v for k, v in data.items() if k not in ("settings", "access")} == {
        "tenantId": FAB,
        "displayName": "Fabrikam, Inc.",
        "defaultDomainName": "fabrikam.com",
        "source": "live",
        "file": "policies/partners/fabrikam-inc.yaml",
        "configured": True,
        "isInMultiTenantOrganization": False,
    }
    state = seeds.demo()
    expected = effective_settings(state["partners"][FAB], state["default"])
    assert data["settings"] == [{"path": x.path, "value": x.value, "origin": x.origin} for x in expected]
    assert {"path": "inboundTrust.isMfaAccepted", "value": False, "origin": "partner"} in data["settings"]
    assert {
        "path": "b2bDirectConnectInbound.usersAndGroups.accessType",
        "value": "blocked",
        "origin": "default",
    } in data["settings"]
    assert len(data["access"]) == 8
    assert data["access"][0]["rules"][0] == {
        "slot": "usersAndGroups",
        "accessType": "allowed",
        "targets": ["AllUsers"],
        "origin": "partner",
        "from": "the partner's setting",
    }


def test_show_text_marks_each_leaf_set_or_inherited(demo: Emulator, capsys: Any) -> None:
    code, out, err = xtap(capsys, "show", MTO)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:5] == [
        "Partner 123f4846-ba00-4fd7-ba43-dac1f8f63013 — Adatum Corporation (adatum.com)",
        "Policy file: policies/partners/adatum-corporation.yaml",
        "Member of a multitenant organization.",
        "Effective settings, as the tenant has it:",
        "",
    ]
    end = lines.index("Access, channel by channel:")
    rows = {line.split()[0]: line.split(None, 1)[1] for line in lines[5 : end - 1]}
    # Then each channel's rules, and where they come from (live: the partner's setting or the default).
    assert lines[end + 1 :] == [
        "  B2B collaboration inbound: usersAndGroups allowed for AllUsers — from the default; applications "
        "allowed for AllApplications — from the default",
        "  B2B collaboration outbound: usersAndGroups allowed for AllUsers — from the default; applications "
        "allowed for AllApplications — from the default",
        "  B2B direct connect inbound: usersAndGroups blocked for AllUsers — from the default; applications "
        "allowed for Office365 — from the partner's setting",
        "  B2B direct connect outbound: usersAndGroups blocked for 6f546279-4da5-4b53-a095-09ea0cef9971, "
        "2b7c1d4e-8f9a-4b3c-9d2e-1f0a9b8c7d6e — from the partner's setting; applications blocked for "
        "AllApplications — from the default",
        "  tenant restrictions outbound: usersAndGroups blocked for AllUsers — from the default; applications "
        "blocked for AllApplications — from the default",
        "  Microsoft 365 collaboration inbound: not set — nobody gets in",
        "  Microsoft 365 collaboration outbound: not set — nobody gets in",
        "  app service connect inbound: not set — nobody gets in",
    ]
    assert rows["automaticUserConsentSettings.inboundAllowed"].split() == ["true", "set"]
    assert rows["automaticUserConsentSettings.outboundAllowed"].split() == ["false", "inherited", "(default)"]
    assert rows["m365CollaborationOutbound.usersAndGroups.accessType"].split() == ["-", "not", "set"]
    assert rows["b2bDirectConnectOutbound.usersAndGroups.targets"].rsplit(None, 1) == [
        "[6f546279-4da5-4b53-a095-09ea0cef9971 (group), 2b7c1d4e-8f9a-4b3c-9d2e-1f0a9b8c7d6e (user)]",
        "set",
    ]


def test_show_a_tenant_without_configuration_gets_everything_from_the_default(
    demo: Emulator, capsys: Any
) -> None:
    code, out, err = xtap(capsys, "show", "woodgrovebank.com", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["tenantId"], data["configured"], data["file"]) == (WOOD, False, None)
    assert {s["origin"] for s in data["settings"]} == {"default", "none"}
    code, out, _ = xtap(capsys, "show", WOOD)
    assert "The tenant has no configuration for this partner: everything comes from the default." in out
    assert "Policy file: none (unmanaged)" in out


def test_show_from_the_files_shows_what_apply_will_make_of_it(
    demo: Emulator, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "policies" / "partners" / "fabrikam-inc.yaml"
    path.write_text(path.read_text().replace("isMfaAccepted: false", "isMfaAccepted: true"), encoding="utf-8")
    _, out, _ = xtap(capsys, "show", "fabrikam-inc", "--format", "json", "--source", "files")
    files = json.loads(out)
    assert {"path": "inboundTrust.isMfaAccepted", "value": True, "origin": "partner"} in files["settings"]
    # From the files, a rule the file writes is named by its line.
    rules = {(a["channel"], a["direction"]): a["rules"] for a in files["access"]}
    [users, _apps] = rules[("b2b-collaboration", "inbound")]
    assert (users["origin"], users["from"]) == ("partner", "policies/partners/fabrikam-inc.yaml:10:3")
    _, out, _ = xtap(capsys, "show", "fabrikam-inc", "--format", "json")
    assert {"path": "inboundTrust.isMfaAccepted", "value": False, "origin": "partner"} in json.loads(out)[
        "settings"
    ]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "xtap: error: 'nope' is not a tenantId, the name of a partner file or a domain\n"),
        ("nowhere.example", "xtap: error: no tenant found for the domain 'nowhere.example'\n"),
    ],
)
def test_show_an_unknown_partner_is_a_clean_error(
    demo: Emulator, capsys: Any, ref: str, message: str
) -> None:
    assert xtap(capsys, "show", ref) == (1, "", message)


def test_show_from_the_files_needs_a_file(demo: Emulator, capsys: Any) -> None:
    assert xtap(capsys, "show", WOOD, "--source", "files") == (
        1,
        "",
        f"xtap: error: no policy file declares {WOOD}; try --source live\n",
    )


def test_show_reads_one_partner_not_the_whole_tenant(demo: Emulator, capsys: Any) -> None:
    demo.clear_journal()
    assert xtap(capsys, "show", FAB)[0] == 0
    partner = f"/v1.0/policies/crossTenantAccessPolicy/partners/{FAB}"
    assert [(e.method, e.path) for e in demo.journal if e.path.startswith("/v1.0")] == [
        ("GET", partner),
        ("GET", f"{partner}/identitySynchronization"),
        ("GET", "/v1.0/policies/crossTenantAccessPolicy/default"),
        ("GET", f"/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='{FAB}')"),
    ]
