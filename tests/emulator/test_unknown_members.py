"""Members the v1.0 metadata does not know (beta members seen in real responses), at any depth: held and
returned when seeded through the back door or the state file, refused from clients as v1.0 refuses
them, kept by a merge PATCH of their object and dropped by a replace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator, seeds
from tests.support.builders import ALL_APPS
from tests.support.emulator import CONTOSO, FABRIKAM, PARTNERS, POLICY, WOODGROVE, error, graph

TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": False,
    "isHybridAzureADJoinedDeviceAccepted": True,
}
BETA_TRUST = {**TRUST, "isCompliantNetworkAccepted": True}
GROUP = {
    "accessType": "allowed",
    "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
}
BETA_B2B = {"usersAndGroups": {**GROUP, "futureMember": {"deep": [1, 2]}}, "applications": ALL_APPS}


def _seeded() -> dict[str, Any]:
    return {
        "tenantId": WOODGROVE,
        "inboundTrust": BETA_TRUST,
        "b2bCollaborationInbound": BETA_B2B,
        "blockServiceProviderOutboundAccess": False,  # a beta-only top-level property
    }


def test_back_door_members_are_returned_at_every_depth() -> None:
    with Emulator(seed="empty") as emu, graph(emu, "reader") as http:
        emu.put_partner(_seeded())
        body = http.get(f"{PARTNERS}/{WOODGROVE}").json()
        listed = http.get(PARTNERS).json()["value"][0]
    for got in (body, listed, emu.get_partner(WOODGROVE)):
        assert got is not None
        assert got["inboundTrust"] == BETA_TRUST
        assert got["b2bCollaborationInbound"] == BETA_B2B
        assert got["blockServiceProviderOutboundAccess"] is False


def test_state_file_members_are_returned(tmp_path: Path) -> None:
    state = seeds.empty()
    state["partners"][WOODGROVE] = _seeded()
    state["default"]["inboundTrust"] = {
        **state["default"]["inboundTrust"],
        "isCompliantNetworkAccepted": False,
    }
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state))
    with Emulator(state_file=state_file) as emu, graph(emu, "reader") as http:
        assert http.get(f"{PARTNERS}/{WOODGROVE}").json()["inboundTrust"] == BETA_TRUST
        assert http.get(f"{POLICY}/default").json()["inboundTrust"]["isCompliantNetworkAccepted"] is False


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"inboundTrust": BETA_TRUST}, "isCompliantNetworkAccepted"),
        ({"b2bCollaborationInbound": BETA_B2B}, "futureMember"),
        ({"blockServiceProviderOutboundAccess": True}, "blockServiceProviderOutboundAccess"),
    ],
    ids=["nested", "deep", "top-level"],
)
def test_a_client_sending_them_gets_400_like_v1(body: dict[str, Any], name: str) -> None:
    expected = (400, "Request_BadRequest", f"Invalid property '{name}'")
    with Emulator(seed="demo") as emu, graph(emu) as http:
        before = emu.get_partner(FABRIKAM)
        assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json=body)) == expected
        assert error(http.post(PARTNERS, json={"tenantId": WOODGROVE, **body})) == expected
        assert emu.get_partner(FABRIKAM) == before and emu.get_partner(WOODGROVE) is None


@pytest.mark.parametrize("semantics", ["merge", "replace"])
def test_a_patch_of_their_object_keeps_them_under_merge_and_drops_them_under_replace(semantics: Any) -> None:
    with Emulator(seed="empty", patch_semantics=semantics) as emu, graph(emu) as http:
        emu.put_partner(_seeded())
        body = {
            "inboundTrust": TRUST,
            "b2bCollaborationInbound": {"usersAndGroups": GROUP, "applications": ALL_APPS},
        }
        assert http.patch(f"{PARTNERS}/{WOODGROVE}", json=body).status_code == 204
        after = http.get(f"{PARTNERS}/{WOODGROVE}").json()
    if semantics == "merge":
        assert after["inboundTrust"] == BETA_TRUST
        assert after["b2bCollaborationInbound"] == BETA_B2B
    else:
        assert after["inboundTrust"] == TRUST
        assert after["b2bCollaborationInbound"] == {"usersAndGroups": GROUP, "applications": ALL_APPS}
    assert after["blockServiceProviderOutboundAccess"] is False  # not in the body: untouched either way


@pytest.mark.parametrize("semantics", ["merge", "replace"])
def test_a_patch_of_other_properties_or_a_reset_to_inherit(semantics: Any) -> None:
    with Emulator(seed="empty", patch_semantics=semantics) as emu, graph(emu) as http:
        emu.put_partner(_seeded())
        assert http.patch(f"{PARTNERS}/{WOODGROVE}", json={"isServiceProvider": False}).status_code == 204
        assert http.get(f"{PARTNERS}/{WOODGROVE}").json()["inboundTrust"] == BETA_TRUST
        assert http.patch(f"{PARTNERS}/{WOODGROVE}", json={"inboundTrust": None}).status_code == 204
        assert http.get(f"{PARTNERS}/{WOODGROVE}").json()["inboundTrust"] is None


@pytest.mark.parametrize("semantics", ["merge", "replace"])
def test_the_default_and_sync_policies_hold_them_too(semantics: Any) -> None:
    with Emulator(seed="demo", patch_semantics=semantics) as emu, graph(emu) as http:
        emu.patch_default({"inboundTrust": BETA_TRUST, "betaSetting": {"on": True}})
        emu.set_sync(
            CONTOSO, {"displayName": "Contoso Ltd", "userSyncInbound": {"isSyncAllowed": True, "x": 1}}
        )
        default = http.get(f"{POLICY}/default").json()
        assert (default["inboundTrust"], default["betaSetting"]) == (BETA_TRUST, {"on": True})
        assert http.get(f"{PARTNERS}/{CONTOSO}/identitySynchronization").json()["userSyncInbound"] == {
            "isSyncAllowed": True,
            "x": 1,
        }
        assert http.patch(f"{POLICY}/default", json={"inboundTrust": TRUST}).status_code == 204
        sync = {"userSyncInbound": {"isSyncAllowed": False}}
        assert http.patch(f"{PARTNERS}/{CONTOSO}/identitySynchronization", json=sync).status_code == 204
        merged = semantics == "merge"
        assert emu.get_default()["inboundTrust"] == (BETA_TRUST if merged else TRUST)
        assert emu.get_default()["betaSetting"] == {"on": True}
        assert (emu.get_sync(CONTOSO) or {})["userSyncInbound"] == (
            {"isSyncAllowed": False, "x": 1} if merged else {"isSyncAllowed": False}
        )
