"""Each switch for what Microsoft's docs leave open, with the exact answer under every setting: nested nulls,
$top, read-only keys, POST properties and PATCH semantics. The defaults are the documented choices of
docs/emulator.md; the Graph doc examples pass under every setting (test_graph_api.py covers the defaults)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator import Emulator, Quirks
from tests.support.builders import ALL_APPS, ALL_USERS, TRUST
from tests.support.emulator import CONTOSO, FABRIKAM, PARTNERS, POLICY, WOODGROVE, data, error, graph

EXAMPLES = data("graph_doc_examples.json")
CREATE_EXAMPLE = EXAMPLES["partner_create"]["examples"][0]
BLOCKED = {
    "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
    "applications": {**ALL_APPS, "accessType": "blocked"},
}
HALF_TRUST = {"inboundTrust": {"isMfaAccepted": True, "isCompliantDeviceAccepted": None}}
OMITTED_HALF = {"b2bCollaborationInbound": {"usersAndGroups": None, "applications": ALL_APPS}}


def test_switches_default_to_the_documented_choices() -> None:
    quirks = Quirks()
    assert (quirks.nested_nulls, quirks.top, quirks.read_only_keys, quirks.post_properties) == (
        "accept",
        "honoured",
        "reject",
        "all",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("nested_nulls", "drop"), ("top", True), ("read_only_keys", "400"), ("post_properties", "some")],
)
def test_a_misspelt_switch_is_refused(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=rf"^Quirks\.{field} must be one of .*, not {value!r}$"):
        Quirks(**{field: value})


# -- nested_nulls ----------------------------------------------------------------------------------


def _trust(http: httpx.Client, tid: str = FABRIKAM) -> Any:
    return http.get(f"{PARTNERS}/{tid}").json()["inboundTrust"]


def test_nested_nulls_accept_clears_the_member() -> None:
    with Emulator(seed="demo") as emu, graph(emu) as http:
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json=HALF_TRUST).status_code == 204
        assert _trust(http) == {
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": None,
            "isHybridAzureADJoinedDeviceAccepted": False,
        }
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json=OMITTED_HALF).status_code == 204
        assert http.get(f"{PARTNERS}/{FABRIKAM}").json()["b2bCollaborationInbound"] == {
            "usersAndGroups": None,
            "applications": ALL_APPS,
        }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HALF_TRUST, "Property 'isCompliantDeviceAccepted' in 'inboundTrust' cannot be null."),
        (OMITTED_HALF, "Property 'usersAndGroups' in 'b2bCollaborationInbound' cannot be null."),
        (
            {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": None, "targets": []}}},
            "Property 'accessType' in 'b2bCollaborationInbound.usersAndGroups' cannot be null.",
        ),
        (
            {
                "b2bCollaborationInbound": {
                    "usersAndGroups": {
                        "accessType": "allowed",
                        "targets": [{"target": "AllUsers", "targetType": None}],
                    }
                }
            },
            "Property 'targetType' in 'b2bCollaborationInbound.usersAndGroups.targets' cannot be null.",
        ),
    ],
    ids=["boolean", "half", "enum", "in-collection"],
)
def test_nested_nulls_reject_refuses_a_null_below_the_top_level(body: dict[str, Any], message: str) -> None:
    with Emulator(seed="demo", quirks=Quirks(nested_nulls="reject")) as emu, graph(emu) as http:
        before = emu.get_partner(FABRIKAM)
        assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json=body)) == (400, "Request_BadRequest", message)
        assert emu.get_partner(FABRIKAM) == before


def test_nested_nulls_reject_still_resets_a_whole_property_and_covers_post_put_and_default() -> None:
    with Emulator(seed="demo", quirks=Quirks(nested_nulls="reject")) as emu, graph(emu) as http:
        assert http.patch(f"{PARTNERS}/{CONTOSO}", json={"inboundTrust": None}).status_code == 204
        assert _trust(http, CONTOSO) is None
        post = http.post(PARTNERS, json={"tenantId": WOODGROVE, **HALF_TRUST})
        assert error(post) == (
            400,
            "Request_BadRequest",
            "Property 'isCompliantDeviceAccepted' in 'inboundTrust' cannot be null.",
        )
        assert emu.get_partner(WOODGROVE) is None
        put = http.put(
            f"{PARTNERS}/{FABRIKAM}/identitySynchronization",
            json={"userSyncInbound": {"isSyncAllowed": None}},
        )
        assert error(put) == (
            400,
            "Request_BadRequest",
            "Property 'isSyncAllowed' in 'userSyncInbound' cannot be null.",
        )
        default = http.patch(f"{POLICY}/default", json={"inboundTrust": {"isMfaAccepted": None}})
        assert error(default)[2] == "Property 'isMfaAccepted' in 'inboundTrust' cannot be null."


def test_nested_nulls_false_stores_a_boolean_null_as_false() -> None:
    with Emulator(seed="demo", quirks=Quirks(nested_nulls="false")) as emu, graph(emu) as http:
        assert http.patch(f"{PARTNERS}/{CONTOSO}", json=HALF_TRUST).status_code == 204
        assert _trust(http, CONTOSO) == {
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": False,
            "isHybridAzureADJoinedDeviceAccepted": False,
        }
        created = http.post(
            PARTNERS, json={"tenantId": WOODGROVE, "automaticUserConsentSettings": {"inboundAllowed": None}}
        )
        assert created.status_code == 201
        assert created.json()["automaticUserConsentSettings"] == {
            "inboundAllowed": False,
            "outboundAllowed": None,
        }
        # Only Booleans turn false; a null complex member is stored as null.
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json=OMITTED_HALF).status_code == 204
        assert emu.get_partner(FABRIKAM)["b2bCollaborationInbound"]["usersAndGroups"] is None  # type: ignore[index]


@pytest.mark.parametrize("mode", ["accept", "reject", "false"])
def test_microsofts_create_example_is_accepted_under_every_nested_null_setting(mode: Any) -> None:
    with Emulator(seed="empty", quirks=Quirks(nested_nulls=mode)) as emu, graph(emu) as http:
        response = http.post(PARTNERS, json=CREATE_EXAMPLE)
        assert response.status_code == 201
        for key, value in CREATE_EXAMPLE.items():
            assert response.json()[key] == value


# -- top ---------------------------------------------------------------------------------------------


def _listed(http: httpx.Client, query: str) -> tuple[int, bool]:
    body = http.get(f"{PARTNERS}?{query}").json()
    return len(body["value"]), "@odata.nextLink" in body


def test_top_honoured_cuts_the_page() -> None:
    with Emulator(seed="generated:7") as emu, graph(emu, "reader") as http:
        assert _listed(http, "$top=3") == (3, True)
        assert _listed(http, "$top=30") == (7, False)
        assert error(http.get(f"{PARTNERS}?$top=0")) == (
            400,
            "BadRequest",
            "Invalid value '0' for $top query option.",
        )


def test_top_ignored_returns_the_service_page_size() -> None:
    quirks = Quirks(top="ignored")
    with Emulator(seed="generated:7", page_size=5, quirks=quirks) as emu, graph(emu, "reader") as http:
        assert _listed(http, "$top=3") == (5, True)
        assert _listed(http, "$top=0") == (5, True)
        body = http.get(f"{PARTNERS}?$top=3").json()
        assert body["@odata.nextLink"].startswith(f"{emu.url}{PARTNERS}?$top=3&$skiptoken=")
        assert len(http.get(body["@odata.nextLink"]).json()["value"]) == 2


# -- read_only_keys ------------------------------------------------------------------------------------


def test_read_only_keys_reject() -> None:
    with Emulator(seed="demo") as emu, graph(emu) as http:
        before = emu.get_partner(FABRIKAM)
        body = {"isInMultiTenantOrganization": True, "inboundTrust": TRUST}
        assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json=body)) == (
            400,
            "Request_BadRequest",
            "Property 'isInMultiTenantOrganization' is read-only and cannot be set.",
        )
        assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json={"tenantId": CONTOSO})) == (
            400,
            "Request_BadRequest",
            "Property 'tenantId' is read-only and cannot be set.",
        )
        assert emu.get_partner(FABRIKAM) == before
        assert error(http.post(PARTNERS, json={"tenantId": WOODGROVE, "isInMultiTenantOrganization": False}))[
            2
        ] == ("Property 'isInMultiTenantOrganization' is read-only and cannot be set.")
        assert error(http.patch(f"{POLICY}/default", json={"isServiceDefault": True}))[2] == (
            "Property 'isServiceDefault' is read-only and cannot be set."
        )


def test_read_only_keys_ignore_drops_them_and_applies_the_rest() -> None:
    with Emulator(seed="demo", quirks=Quirks(read_only_keys="ignore")) as emu, graph(emu) as http:
        body = {"tenantId": CONTOSO, "isInMultiTenantOrganization": True, "inboundTrust": TRUST}
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json=body).status_code == 204
        after = emu.get_partner(FABRIKAM) or {}
        assert (after["tenantId"], after["isInMultiTenantOrganization"], after["inboundTrust"]) == (
            FABRIKAM,
            False,
            TRUST,
        )
        created = http.post(PARTNERS, json={"tenantId": WOODGROVE, "isInMultiTenantOrganization": True})
        assert (created.status_code, created.json()["isInMultiTenantOrganization"]) == (201, False)
        assert (
            http.patch(
                f"{POLICY}/default", json={"isServiceDefault": True, "inboundTrust": TRUST}
            ).status_code
            == 204
        )
        assert (emu.get_default()["isServiceDefault"], emu.get_default()["inboundTrust"]) == (False, TRUST)
        # The default's automatic consent is documented read-only: refused under either setting.
        consent = http.patch(
            f"{POLICY}/default", json={"automaticUserConsentSettings": {"inboundAllowed": True}}
        )
        assert error(consent) == (
            400,
            "Request_BadRequest",
            "Property 'automaticUserConsentSettings' is read-only and cannot be set.",
        )


# -- post_properties -----------------------------------------------------------------------------------

UNDOCUMENTED_ON_POST = {
    "tenantRestrictions": BLOCKED,
    "appServiceConnectInbound": {"applications": ALL_APPS},
    "m365CollaborationInbound": {"users": ALL_USERS},
    "m365CollaborationOutbound": {"usersAndGroups": ALL_USERS},
}


@pytest.mark.parametrize("prop", sorted(UNDOCUMENTED_ON_POST))
def test_post_properties_all_accepts_every_writable_property(prop: str) -> None:
    with Emulator(seed="empty") as emu, graph(emu) as http:
        response = http.post(PARTNERS, json={"tenantId": WOODGROVE, prop: UNDOCUMENTED_ON_POST[prop]})
        assert response.status_code == 201
        assert (emu.get_partner(WOODGROVE) or {})[prop] == UNDOCUMENTED_ON_POST[prop]


@pytest.mark.parametrize("prop", sorted(UNDOCUMENTED_ON_POST))
def test_post_properties_documented_refuses_the_others_like_unknown_properties(prop: str) -> None:
    with Emulator(seed="empty", quirks=Quirks(post_properties="documented")) as emu, graph(emu) as http:
        body = {"tenantId": WOODGROVE, "inboundTrust": TRUST, prop: UNDOCUMENTED_ON_POST[prop]}
        assert error(http.post(PARTNERS, json=body)) == (
            400,
            "Request_BadRequest",
            f"Invalid property '{prop}'",
        )
        assert emu.get_partner(WOODGROVE) is None
        # Create with the documented properties, then PATCH the rest: what the docs support.
        assert http.post(PARTNERS, json={"tenantId": WOODGROVE, "inboundTrust": TRUST}).status_code == 201
        patch = http.patch(f"{PARTNERS}/{WOODGROVE}", json={prop: UNDOCUMENTED_ON_POST[prop]})
        assert patch.status_code == 204
        assert (emu.get_partner(WOODGROVE) or {})[prop] == UNDOCUMENTED_ON_POST[prop]


def test_post_properties_documented_accepts_the_create_page_example() -> None:
    with Emulator(seed="empty", quirks=Quirks(post_properties="documented")) as emu, graph(emu) as http:
        full = {
            **CREATE_EXAMPLE,
            "inboundTrust": TRUST,
            "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": False},
            "b2bCollaborationInbound": BLOCKED,
            "b2bCollaborationOutbound": BLOCKED,
            "isServiceProvider": False,
        }
        assert http.post(PARTNERS, json=CREATE_EXAMPLE).status_code == 201
        assert http.post(PARTNERS, json={**full, "tenantId": FABRIKAM}).status_code == 201


# -- patch_semantics -----------------------------------------------------------------------------------

DEVICES = {"mode": "allowed", "rule": 'device.trustType -eq "ServerAD"'}


@pytest.mark.parametrize(("semantics", "devices"), [("merge", DEVICES), ("replace", None)])
def test_a_patch_of_tenant_restrictions_without_devices(semantics: Any, devices: Any) -> None:
    with Emulator(seed="empty", patch_semantics=semantics) as emu, graph(emu) as http:
        emu.put_partner({"tenantId": WOODGROVE, "tenantRestrictions": {**BLOCKED, "devices": DEVICES}})
        assert http.patch(f"{PARTNERS}/{WOODGROVE}", json={"tenantRestrictions": BLOCKED}).status_code == 204
        restrictions = http.get(f"{PARTNERS}/{WOODGROVE}").json()["tenantRestrictions"]
        assert restrictions == (BLOCKED if devices is None else {**BLOCKED, "devices": devices})


# -- conformance under every setting -----------------------------------------------------------------

NON_DEFAULT = [
    ("replace", Quirks()),
    ("merge", Quirks(nested_nulls="reject")),
    ("merge", Quirks(nested_nulls="false")),
    ("merge", Quirks(top="ignored")),
    ("merge", Quirks(read_only_keys="ignore")),
    ("merge", Quirks(post_properties="documented")),
    (
        "replace",
        Quirks(nested_nulls="reject", read_only_keys="ignore", post_properties="documented", top="ignored"),
    ),
]


@pytest.mark.parametrize(
    ("semantics", "quirks"),
    NON_DEFAULT,
    ids=[
        "replace",
        "nested-reject",
        "nested-false",
        "top-ignored",
        "read-only-ignore",
        "post-documented",
        "strict",
    ],
)
def test_every_graph_doc_example_is_accepted_under_every_setting(semantics: Any, quirks: Quirks) -> None:
    with Emulator(seed="demo", patch_semantics=semantics, quirks=quirks) as emu, graph(emu) as http:
        assert http.post(PARTNERS, json=CREATE_EXAMPLE).status_code == 201
        update = EXAMPLES["partner_update"]
        for body in update["examples"]:
            assert http.patch(f"{PARTNERS}/{update['tenantId']}", json=body).status_code == 204
            after = http.get(f"{PARTNERS}/{update['tenantId']}").json()
            assert {key: after[key] for key in body} == body
        for body in EXAMPLES["default_update"]["examples"]:
            assert http.patch(f"{POLICY}/default", json=body).status_code == 204
        sync_url = f"{PARTNERS}/{EXAMPLES['sync_create']['tenantId']}/identitySynchronization"
        assert http.put(sync_url, json=EXAMPLES["sync_create"]["examples"][0]).status_code == 204
        assert http.patch(sync_url, json=EXAMPLES["sync_update"]["examples"][0]).status_code == 204
        listed = http.get(f"{PARTNERS}?{EXAMPLES['list_sync_policies']['query']}")
        assert listed.status_code == 200
