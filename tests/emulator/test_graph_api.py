"""Graph conformance of the emulator, driven by plain httpx over verified TLS: the Graph docs' example
bodies are accepted and reflected by a following GET, and every enforced rule answers with Graph's status,
error code and headers."""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import Emulator, Quirks
from tests.support.builders import ALL_APPS, ALL_USERS
from tests.support.emulator import (
    CONTOSO,
    FABRIKAM,
    MTO,
    PARTNERS,
    POLICY,
    UNMANAGED,
    WOODGROVE,
    data,
    error,
    graph,
)

EXAMPLES = data("graph_doc_examples.json")
FIXTURES = data("graph_api_fixtures.json")


@pytest.fixture
def demo() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        yield emu


@pytest.fixture
def http(demo: Emulator) -> Iterator[httpx.Client]:
    with graph(demo) as client:
        yield client


def _as_graph(emu: Emulator, fixture: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(fixture)
    out["@odata.context"] = out["@odata.context"].replace("https://graph.microsoft.com", emu.url)
    return out


# -- response shapes -------------------------------------------------------------------------------


def test_contoso_get_is_the_fully_customized_fixture(demo: Emulator, http: httpx.Client) -> None:
    response = http.get(f"{PARTNERS}/{CONTOSO}")
    assert response.status_code == 200
    assert response.json() == _as_graph(demo, FIXTURES["contoso"])
    assert response.headers["content-type"].startswith("application/json")


def test_mto_partner_keeps_partial_shapes_and_extras(demo: Emulator, http: httpx.Client) -> None:
    expected = _as_graph(demo, FIXTURES["mto"])
    expected["crossCloudMeetingConfiguration"] = {"inboundAllowed": None, "outboundAllowed": None}
    assert http.get(f"{PARTNERS}/{MTO}").json() == expected
    assert demo.get_partner(MTO) == expected


def test_unset_consent_and_cross_cloud_are_objects_of_nulls(http: httpx.Client) -> None:
    body = http.get(f"{PARTNERS}/{UNMANAGED}").json()
    assert body["automaticUserConsentSettings"] == {"inboundAllowed": None, "outboundAllowed": None}
    assert body["crossCloudMeetingConfiguration"] == {"inboundAllowed": None, "outboundAllowed": None}
    assert body["inboundTrust"] is None and body["isServiceProvider"] is None


def test_responses_carry_request_and_client_request_ids(http: httpx.Client) -> None:
    response = http.patch(
        f"{PARTNERS}/{FABRIKAM}",
        json={"b2BCollaborationInbound": None},
        headers={"client-request-id": "4fc158f0-311c-4595-8a72-d79f36ad17b9"},
    )
    inner = response.json()["error"]["innerError"]
    assert response.headers["client-request-id"] == "4fc158f0-311c-4595-8a72-d79f36ad17b9"
    assert inner["client-request-id"] == "4fc158f0-311c-4595-8a72-d79f36ad17b9"
    assert inner["request-id"] == response.headers["request-id"]
    assert set(inner) == {"date", "request-id", "client-request-id"}


# -- the Graph docs' example bodies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body", EXAMPLES["partner_update"]["examples"], ids=["inboundTrust", "automaticUserConsent"]
)
def test_update_page_examples_are_accepted_and_reflected(http: httpx.Client, body: dict[str, Any]) -> None:
    url = f"{PARTNERS}/{EXAMPLES['partner_update']['tenantId']}"
    response = http.patch(url, json=body)
    assert (response.status_code, response.content) == (204, b"")
    after = http.get(url).json()
    for key, value in body.items():
        assert after[key] == value


def test_create_page_example_is_accepted_and_reflected(http: httpx.Client) -> None:
    body = EXAMPLES["partner_create"]["examples"][0]
    response = http.post(PARTNERS, json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["@odata.context"].endswith("$metadata#policies/crossTenantAccessPolicy/partners/$entity")
    assert response.headers["location"].endswith(f"{PARTNERS}/{body['tenantId']}")
    fetched = http.get(f"{PARTNERS}/{body['tenantId']}").json()
    assert fetched == created
    for key, value in body.items():
        assert fetched[key] == value
    assert fetched["b2bCollaborationInbound"] is None and fetched["isInMultiTenantOrganization"] is False


@pytest.mark.parametrize("index", [0, 1, 2], ids=["b2bOutbound", "idpOrder", "noMsa"])
def test_default_update_examples_are_accepted_and_reflected(http: httpx.Client, index: int) -> None:
    body = EXAMPLES["default_update"]["examples"][index]
    assert http.patch(f"{POLICY}/default", json=body).status_code == 204
    after = http.get(f"{POLICY}/default").json()
    assert after["isServiceDefault"] is False
    for key, value in body.items():
        assert after[key] == value


def test_reset_to_system_default(demo: Emulator, http: httpx.Client) -> None:
    before = http.get(f"{POLICY}/default").json()
    http.patch(f"{POLICY}/default", json=EXAMPLES["default_update"]["examples"][0])
    response = http.post(f"{POLICY}/default/resetToSystemDefault")
    assert (response.status_code, response.content) == (204, b"")
    assert http.get(f"{POLICY}/default").json() == before
    assert before["isServiceDefault"] is True
    assert before["automaticUserConsentSettings"] == {"inboundAllowed": False, "outboundAllowed": False}
    assert before["b2bDirectConnectInbound"]["usersAndGroups"]["accessType"] == "blocked"


def test_identity_sync_create_and_update_examples(http: httpx.Client) -> None:
    url = f"{PARTNERS}/{EXAMPLES['sync_create']['tenantId']}/identitySynchronization"
    assert http.put(url, json=EXAMPLES["sync_create"]["examples"][0]).status_code == 204
    got = http.get(url).json()
    assert {k: got[k] for k in ("tenantId", "displayName", "userSyncInbound")} == {
        "tenantId": FABRIKAM,
        "displayName": "Fabrikam",
        "userSyncInbound": {"isSyncAllowed": True},
    }
    assert http.patch(url, json={"userSyncInbound": {"isSyncAllowed": False}}).status_code == 204
    assert http.patch(url, json=EXAMPLES["sync_update"]["examples"][0]).status_code == 204
    assert http.get(url).json()["userSyncInbound"] == {"isSyncAllowed": True}
    assert http.delete(url).status_code == 204
    assert error(http.get(url))[:2] == (404, "Directory_ObjectNotFound")


def test_list_with_select_and_expand_identity_synchronization(http: httpx.Client) -> None:
    response = http.get(f"{PARTNERS}?{EXAMPLES['list_sync_policies']['query']}")
    values = {v["tenantId"]: v for v in response.json()["value"]}
    assert set(values) == {FABRIKAM, CONTOSO, MTO, UNMANAGED}
    assert values[CONTOSO] == {
        "tenantId": CONTOSO,
        "identitySynchronization": {
            "tenantId": CONTOSO,
            "displayName": "Contoso Ltd",
            "userSyncInbound": {"isSyncAllowed": True},
        },
    }
    assert values[FABRIKAM] == {"tenantId": FABRIKAM, "identitySynchronization": None}


def test_select_on_a_partner(demo: Emulator, http: httpx.Client) -> None:
    body = http.get(f"{PARTNERS}/{CONTOSO}?$select=b2bCollaborationInbound").json()
    assert body == {
        "@odata.context": f"{demo.url}/v1.0/$metadata#policies/crossTenantAccessPolicy/partners(b2bCollaborationInbound)/$entity",
        "b2bCollaborationInbound": FIXTURES["contoso"]["b2bCollaborationInbound"],
    }
    assert error(http.get(f"{PARTNERS}/{CONTOSO}?$select=b2BCollaborationInbound"))[:2] == (400, "BadRequest")


# -- paging ----------------------------------------------------------------------------------------


def test_paging_follows_next_links_verbatim() -> None:
    with Emulator(seed="generated:7", page_size=3) as emu, graph(emu, "reader") as http:
        url: str | None = f"{PARTNERS}?$select=tenantId"
        pages: list[list[str]] = []
        while url:
            body = http.get(url).json()
            pages.append([v["tenantId"] for v in body["value"]])
            assert all(set(v) == {"tenantId"} for v in body["value"])
            url = body.get("@odata.nextLink")
            assert url is None or url.startswith(f"{emu.url}{PARTNERS}?$select=tenantId&$skiptoken=")
        assert [len(p) for p in pages] == [3, 3, 1]
        assert functools.reduce(operator.iadd, pages, []) == sorted(emu.partners())
        assert error(http.get(f"{PARTNERS}?$skiptoken=garbage"))[:2] == (400, "Request_BadRequest")


# -- what Graph enforces ---------------------------------------------------------------------------


def test_mis_cased_property_is_rejected_exactly_like_graph(http: httpx.Client) -> None:
    response = http.patch(
        f"{PARTNERS}/{FABRIKAM}", json={"b2BCollaborationInbound": {"usersAndGroups": ALL_USERS}}
    )
    assert error(response) == (400, "Request_BadRequest", "Invalid property 'b2BCollaborationInbound'")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"inboundTrust": {"isMFAAccepted": True}}, "Invalid property 'isMFAAccepted'"),
        (
            {"b2bCollaborationInbound": {"usersAndGroups": {"accesstype": "allowed"}}},
            "Invalid property 'accesstype'",
        ),
        (
            {"crossCloudMeetingConfiguration": {"inboundAllowed": True}},
            "Invalid property 'crossCloudMeetingConfiguration'",
        ),
        (
            {"isInMultiTenantOrganization": True},
            "Property 'isInMultiTenantOrganization' is read-only and cannot be set.",
        ),
        ({"tenantId": FABRIKAM}, "Property 'tenantId' is read-only and cannot be set."),
        (
            {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "Allowed"}}},
            "Invalid value 'Allowed' for property 'accessType': not a member of enum type "
            "'microsoft.graph.crossTenantAccessPolicyTargetConfigurationAccessType'.",
        ),
        (
            {"inboundTrust": {"isMfaAccepted": "yes"}},
            "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'.",
        ),
        (
            {"b2bCollaborationInbound": {"usersAndGroups": {"targets": {"target": "AllUsers"}}}},
            "Invalid value for property 'targets': a collection is expected.",
        ),
        (
            {"inboundTrust": True},
            "Invalid value for property 'inboundTrust': an object of type "
            "'microsoft.graph.crossTenantAccessPolicyInboundTrust' is expected.",
        ),
    ],
    ids=[
        "nested-case",
        "deep-case",
        "undocumented-extra",
        "mto-read-only",
        "key-read-only",
        "enum",
        "bool",
        "collection",
        "object",
    ],
)
def test_invalid_partner_bodies_are_400(http: httpx.Client, body: dict[str, Any], message: str) -> None:
    before = http.get(f"{PARTNERS}/{FABRIKAM}").json()
    assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json=body)) == (400, "Request_BadRequest", message)
    assert http.get(f"{PARTNERS}/{FABRIKAM}").json() == before


def test_body_that_is_not_json(http: httpx.Client) -> None:
    response = http.patch(
        f"{PARTNERS}/{FABRIKAM}", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert error(response)[:2] == (400, "BadRequest")


def test_duplicate_partner_post() -> None:
    message = "Another object with the same value for property tenantId already exists."
    for quirks, status in ((Quirks(), 400), (Quirks(duplicate_partner_status=409), 409)):
        with Emulator(seed="demo", quirks=quirks) as emu, graph(emu) as http:
            response = http.post(PARTNERS, json={"tenantId": FABRIKAM.upper()})
            assert error(response) == (status, "Request_MultipleObjectsWithSameKeyValue", message)


def test_sync_policy_put_when_present_is_409(http: httpx.Client) -> None:
    response = http.put(
        f"{PARTNERS}/{CONTOSO}/identitySynchronization", json={"userSyncInbound": {"isSyncAllowed": False}}
    )
    status, code, _ = error(response)
    assert (status, code) == (409, "Request_MultipleObjectsWithSameKeyValue")
    assert response.json()["error"]["details"][0]["code"] == "ConflictingObjects"


def test_patch_of_missing_sync_policy(http: httpx.Client) -> None:
    response = http.patch(
        f"{PARTNERS}/{FABRIKAM}/identitySynchronization", json={"userSyncInbound": {"isSyncAllowed": True}}
    )
    assert error(response) == (
        404,
        "Directory_ObjectNotFound",
        "Unable to read the company information from the directory.",
    )


def test_partner_delete_is_blocked_while_a_sync_policy_exists(demo: Emulator, http: httpx.Client) -> None:
    status, code, message = error(http.delete(f"{PARTNERS}/{CONTOSO}"))
    assert (status, code) == (400, "Request_BadRequest")
    assert "identity synchronization policy" in message
    assert http.delete(f"{PARTNERS}/{CONTOSO}/identitySynchronization").status_code == 204
    assert http.delete(f"{PARTNERS}/{CONTOSO}").status_code == 204
    assert error(http.get(f"{PARTNERS}/{CONTOSO}"))[:2] == (404, "Request_ResourceNotFound")
    assert CONTOSO not in demo.partners()


def test_missing_partner_is_404(http: httpx.Client) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = http.request(method, f"{PARTNERS}/{WOODGROVE}", json={} if method == "PATCH" else None)
        assert error(response)[:2] == (404, "Request_ResourceNotFound")
    assert error(http.get(f"{PARTNERS}/not-a-guid"))[:2] == (400, "Request_BadRequest")


def test_default_automatic_consent_is_read_only(http: httpx.Client) -> None:
    response = http.patch(
        f"{POLICY}/default", json={"automaticUserConsentSettings": {"inboundAllowed": True}}
    )
    assert error(response) == (
        400,
        "Request_BadRequest",
        "Property 'automaticUserConsentSettings' is read-only and cannot be set.",
    )


def test_writes_need_the_write_permission(demo: Emulator) -> None:
    denied = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    with graph(demo, "reader") as http:
        assert http.get(f"{PARTNERS}/{FABRIKAM}").status_code == 200
        assert http.get(f"{POLICY}/default").status_code == 200
        assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": None})) == denied
        assert error(http.post(PARTNERS, json={"tenantId": WOODGROVE})) == denied
        assert error(http.put(f"{PARTNERS}/{FABRIKAM}/identitySynchronization", json={})) == denied
        assert error(http.post(f"{POLICY}/default/resetToSystemDefault")) == denied
    assert demo.get_partner(WOODGROVE) is None


# -- PATCH semantics -------------------------------------------------------------------------------


def test_merge_patch_keeps_siblings_and_replaces_collections(http: httpx.Client) -> None:
    group = {
        "accessType": "allowed",
        "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
    }
    assert (
        http.patch(
            f"{PARTNERS}/{FABRIKAM}", json={"b2bCollaborationInbound": {"usersAndGroups": group}}
        ).status_code
        == 204
    )
    assert http.get(f"{PARTNERS}/{FABRIKAM}").json()["b2bCollaborationInbound"] == {
        "usersAndGroups": group,
        "applications": ALL_APPS,
    }
    http.patch(f"{PARTNERS}/{FABRIKAM}", json={"automaticUserConsentSettings": {"inboundAllowed": True}})
    assert http.get(f"{PARTNERS}/{FABRIKAM}").json()["automaticUserConsentSettings"] == {
        "inboundAllowed": True,
        "outboundAllowed": None,
    }


def test_replace_switch_replaces_each_top_level_property() -> None:
    group = {
        "accessType": "blocked",
        "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
    }
    with Emulator(seed="demo", patch_semantics="replace") as emu, graph(emu) as http:
        http.patch(f"{PARTNERS}/{FABRIKAM}", json={"b2bCollaborationInbound": {"usersAndGroups": group}})
        assert emu.get_partner(FABRIKAM)["b2bCollaborationInbound"] == {"usersAndGroups": group}  # type: ignore[index]


def test_null_resets_a_property_to_inherit(http: httpx.Client) -> None:
    body = {"inboundTrust": None, "automaticUserConsentSettings": None, "b2bCollaborationInbound": None}
    assert http.patch(f"{PARTNERS}/{CONTOSO}", json=body).status_code == 204
    after = http.get(f"{PARTNERS}/{CONTOSO}").json()
    assert after["inboundTrust"] is None and after["b2bCollaborationInbound"] is None
    assert after["automaticUserConsentSettings"] == {"inboundAllowed": None, "outboundAllowed": None}


def test_unverified_target_rules_are_switches() -> None:
    mixed = {
        "b2bCollaborationInbound": {
            "usersAndGroups": {
                "accessType": "allowed",
                "targets": [
                    {"target": "AllUsers", "targetType": "user"},
                    {"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"},
                ],
            }
        }
    }
    contradiction = {
        "b2bCollaborationInbound": {
            "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
            "applications": ALL_APPS,
        }
    }
    with Emulator(seed="demo") as emu, graph(emu) as http:
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json=mixed).status_code == 204
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json=contradiction).status_code == 204
    strict = Quirks(reject_all_users_mix=True, reject_conflicting_access=True)
    with Emulator(seed="demo", quirks=strict) as emu, graph(emu) as http:
        assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json=mixed))[:2] == (400, "Request_BadRequest")
        assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json=contradiction))[:2] == (
            400,
            "Request_BadRequest",
        )


# -- tenant lookup ---------------------------------------------------------------------------------


def test_find_tenant_information(demo: Emulator) -> None:
    with graph(demo, "reader") as http:
        by_id = http.get(f"/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='{WOODGROVE}')")
        by_domain = http.get(
            "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='Fabrikam.com')"
        )
        missing = http.get(
            "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='nowhere.example')"
        )
    assert by_id.json() == {
        "@odata.context": f"{demo.url}/v1.0/$metadata#microsoft.graph.tenantInformation",
        "tenantId": WOODGROVE,
        "federationBrandName": None,
        "displayName": "Woodgrove Bank",
        "defaultDomainName": "woodgrovebank.com",
    }
    assert by_domain.json()["tenantId"] == FABRIKAM
    assert error(missing)[:2] == (404, "Request_ResourceNotFound")


def test_unknown_segment(http: httpx.Client) -> None:
    assert error(http.get("/v1.0/policies/crossTenantAccessPolicy/partnerz")) == (
        400,
        "BadRequest",
        "Resource not found for the segment 'partnerz'.",
    )
