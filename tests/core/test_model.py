"""The canonical form (DESIGN §3 "No false drift"): plain examples and hypothesis properties."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import metadata, model
from tests.support.metadata import insert
from tests.support.strategies import (
    b2b_settings,
    partners,
    rewrite,
    targets,
)

PARTNER = "crossTenantAccessPolicyConfigurationPartner"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
USER = "0a9e8a2b-5e0e-4b0b-9d8c-1c2f3a4b5c6d"


# --- strategies ---------------------------------------------------------------------------------------------

# --- properties -------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(partners)
def test_canonical_is_idempotent(value: dict[str, Any]) -> None:
    once = model.canonical(value)
    assert model.canonical(once) == once


@settings(max_examples=200, deadline=None)
@given(partners, st.randoms(use_true_random=False))
def test_canonical_ignores_target_order_guid_case_and_key_order(value: dict[str, Any], rnd: Any) -> None:
    assert model.canonical(rewrite(value, rnd)) == model.canonical(value)


@settings(max_examples=100, deadline=None)
@given(b2b_settings, st.randoms(use_true_random=False))
def test_equal_per_property(value: Any, rnd: Any) -> None:
    assert model.equal(PARTNER, "b2bCollaborationInbound", value, rewrite(value, rnd))


@settings(max_examples=100, deadline=None)
@given(b2b_settings)
def test_the_wire_form_does_not_change_the_meaning(value: Any) -> None:
    wire = model.wire_property(PARTNER, "tenantRestrictions", value, None)
    assert model.canonical_property(PARTNER, "tenantRestrictions", wire) == model.canonical_property(
        PARTNER, "tenantRestrictions", value
    )
    assert not _nested_nulls(wire)


def _nested_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or _nested_nulls(v) for v in value.values())
    if isinstance(value, list):
        return any(_nested_nulls(v) for v in value)
    return False


@settings(max_examples=100, deadline=None)
@given(targets, targets)
def test_different_targets_stay_different(a: dict[str, str], b: dict[str, str]) -> None:
    same = a["targetType"] == b["targetType"] and (
        a["target"].lower() == b["target"].lower()
        if model.is_guid(a["target"])
        else a["target"] == b["target"]
    )
    config_a = {"accessType": "allowed", "targets": [a]}
    config_b = {"accessType": "allowed", "targets": [b]}
    assert (model.canonical(config_a) == model.canonical(config_b)) == same


# --- examples ------------------------------------------------------------------------------------------------------


def test_all_null_object_equals_null() -> None:
    # Graph returns this for "inherit" (graph-api.md §6.1).
    assert model.canonical({"inboundAllowed": None, "outboundAllowed": None}) is None
    assert (
        model.canonical({"usersAndGroups": {"accessType": None, "targets": None}, "applications": {}}) is None
    )
    assert model.equal(PARTNER, "automaticUserConsentSettings", {"inboundAllowed": None}, None)


def test_missing_member_counts_as_null() -> None:
    assert model.equal(
        PARTNER,
        "inboundTrust",
        {"isMfaAccepted": True},
        {
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": None,
            "isHybridAzureADJoinedDeviceAccepted": None,
        },
    )
    assert not model.equal(PARTNER, "inboundTrust", {"isMfaAccepted": True}, {"isMfaAccepted": False})


def test_false_is_not_null() -> None:
    assert model.canonical({"isMfaAccepted": False}) == {"isMfaAccepted": False}
    assert not model.equal(PARTNER, "inboundTrust", {"isMfaAccepted": False}, None)


def test_targets_are_a_set() -> None:
    a = {"accessType": "allowed", "targets": [{"target": GROUP, "targetType": "group"}]}
    b = {
        "accessType": "allowed",
        "targets": [
            {"target": GROUP.upper(), "targetType": "group"},
            {"target": GROUP, "targetType": "group"},
        ],
    }
    assert model.canonical(a) == model.canonical(b)


def test_keywords_are_case_sensitive() -> None:
    a = {"targets": [{"target": "AllUsers", "targetType": "user"}]}
    b = {"targets": [{"target": "allusers", "targetType": "user"}]}
    assert model.canonical(a) != model.canonical(b)


def test_same_id_as_user_or_group_differs() -> None:
    a = {"targets": [{"target": USER, "targetType": "user"}]}
    b = {"targets": [{"target": USER, "targetType": "group"}]}
    assert model.canonical(a) != model.canonical(b)


def test_odata_annotations_are_not_data() -> None:
    assert model.canonical({"@odata.type": "#microsoft.graph.inboundOutboundPolicyConfiguration"}) is None
    assert model.canonical({"@odata.type": "x", "inboundAllowed": True}) == {"inboundAllowed": True}


def test_precedence_order_lists_keep_their_order() -> None:
    a = {"primaryIdentityProviderPrecedenceOrder": ["externalFederation", "azureActiveDirectory"]}
    b = {"primaryIdentityProviderPrecedenceOrder": ["azureActiveDirectory", "externalFederation"]}
    assert model.canonical(a) != model.canonical(b)


def test_unmanaged_devices_member_is_not_compared_and_is_carried_from_the_tenant() -> None:
    users = {
        "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]}
    }
    devices = {"mode": "allowed", "rule": "device.isCompliant -eq True"}
    with_devices = {**users, "devices": devices}
    assert model.equal(PARTNER, "tenantRestrictions", users, with_devices)
    # Sent whole, tenantRestrictions keeps what the tenant has in `devices`, under merge or replace alike.
    assert model.wire_property(PARTNER, "tenantRestrictions", users, with_devices) == with_devices
    assert model.wire_property(PARTNER, "tenantRestrictions", users, users) == users
    assert model.wire_property(PARTNER, "tenantRestrictions", None, with_devices) is None


def test_the_wire_form_leaves_empty_members_out() -> None:
    trust = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": None,
        "isHybridAzureADJoinedDeviceAccepted": None,
    }
    assert model.wire_property(PARTNER, "inboundTrust", trust, None) == {"isMfaAccepted": True}
    half = {
        "applications": {
            "accessType": "allowed",
            "targets": [{"target": "Office365", "targetType": "application"}],
        },
        "usersAndGroups": None,
    }
    assert model.wire_property(PARTNER, "b2bDirectConnectInbound", half, None) == {
        "applications": half["applications"]
    }
    assert model.wire_property(PARTNER, "b2bDirectConnectInbound", None, None) is None


def test_members_the_metadata_does_not_know_are_never_compared() -> None:
    live = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
        "isCompliantNetworkAccepted": True,
    }
    mine = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    assert model.equal(PARTNER, "inboundTrust", mine, live)
    assert model.unknown_under(PARTNER, "inboundTrust", live) == ["inboundTrust.isCompliantNetworkAccepted"]
    nested = {"usersAndGroups": {"accessType": "allowed", "targets": [], "future": 1}, "@odata.type": "x"}
    assert model.unknown_under(PARTNER, "b2bCollaborationInbound", nested) == [
        "b2bCollaborationInbound.usersAndGroups.future"
    ]


def test_cleared_paths_are_what_the_tenant_has_and_the_value_leaves_empty() -> None:
    apps = {"accessType": "blocked", "targets": [{"target": "Office365", "targetType": "application"}]}
    users = {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}
    have = {"usersAndGroups": users, "applications": apps}
    assert model.cleared_paths(PARTNER, "b2bCollaborationInbound", {"usersAndGroups": users}, have) == [
        "b2bCollaborationInbound.applications"
    ]
    trust = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": None,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    live_trust = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": True,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    assert model.cleared_paths(PARTNER, "inboundTrust", trust, live_trust) == [
        "inboundTrust.isCompliantDeviceAccepted"
    ]
    # Inheriting the whole property is a top-level null, not a clear; an unset member clears nothing.
    assert model.cleared_paths(PARTNER, "inboundTrust", None, live_trust) == []
    assert model.cleared_paths(PARTNER, "inboundTrust", live_trust, {"isMfaAccepted": True}) == []


def test_the_walk_lists_leaves_in_documented_order() -> None:
    assert model.leaf_paths("crossTenantAccessPolicyTenantRestrictions") == [
        "usersAndGroups.accessType",
        "usersAndGroups.targets",
        "applications.accessType",
        "applications.targets",
    ]
    assert "devices.mode" in model.leaf_paths("crossTenantAccessPolicyTenantRestrictions", managed_only=False)


@pytest.mark.parametrize(
    "value,expected",
    [
        (GROUP, True),
        (GROUP.upper(), True),
        (GROUP + "\n", False),
        ("{" + GROUP + "}", False),
        (GROUP.replace("-", ""), False),
        (" " + GROUP, False),
        (12, False),
        (None, False),
    ],
)
def test_is_guid(value: object, expected: bool) -> None:
    assert model.is_guid(value) is expected


def test_managed_property_catalog() -> None:
    assert "isInMultiTenantOrganization" not in model.PARTNER_PROPERTIES
    assert "tenantId" not in model.PARTNER_PROPERTIES
    assert "automaticUserConsentSettings" not in model.DEFAULT_PROPERTIES
    assert model.SYNC_PROPERTIES == ("displayName", "userSyncInbound")
    assert model.property_type("crossTenantAccessPolicyTenantRestrictions", "devices") is None


@settings(max_examples=30, deadline=None)
@given(st.permutations(["microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn"]))
def test_allowed_cloud_endpoints_is_a_set_though_it_is_a_top_level_property(order: list[str]) -> None:
    policy = "crossTenantAccessPolicy"
    assert model.canonical_property(policy, "allowedCloudEndpoints", order) == [
        "microsoftonline.com",
        "microsoftonline.us",
        "partner.microsoftonline.cn",
    ]
    assert model.equal(policy, "allowedCloudEndpoints", order, [*order, order[0]])
    assert not model.equal(policy, "allowedCloudEndpoints", order, order[1:])


# --- the edges of the walk: what the metadata does not name, what xtap does not manage ----------------------

PARTNER = "crossTenantAccessPolicyConfigurationPartner"


def test_a_name_the_metadata_does_not_know_is_compared_and_sent_as_plain_json() -> None:
    assert model.canonical_property(PARTNER, "notAProperty", "Abc") == "Abc"
    assert model.wire_property(PARTNER, "notAProperty", {"a": None, "b": 1}, {"c": 2}) == {"b": 1}
    assert model.unknown_under(PARTNER, "notAProperty", {"a": 1}) == []
    assert model.property_type(PARTNER, "inboundTrust") is not None
    assert model.property_type(PARTNER, "inboundTrust").type == "crossTenantAccessPolicyInboundTrust"  # type: ignore[union-attr]
    with pytest.raises(AttributeError) as raised:
        _ = model.NOPE
    assert str(raised.value) == "module 'reconciler.core.model' has no attribute 'NOPE'"


def test_members_xtap_does_not_manage_are_walked_only_when_asked() -> None:
    """tenantRestrictions.devices is known to the metadata but not managed: a full walk lists its leaves."""
    managed = model.leaf_paths(PARTNER)
    everything = model.leaf_paths(PARTNER, managed_only=False)
    assert [p for p in everything if p.startswith("tenantRestrictions.devices")] == [
        "tenantRestrictions.devices.mode",
        "tenantRestrictions.devices.rule",
    ]
    assert [p for p in managed if "devices" in p] == []
    assert model.equal(PARTNER, "inboundTrust", {"isMfaAccepted": True, "isNew": 1}, {"isMfaAccepted": True})
    assert model.unknown_members(
        "crossTenantAccessPolicyInboundTrust", {"isMfaAccepted": True, "isNew": 1}
    ) == ["isNew"]


def test_a_member_emptied_deep_inside_is_named_by_its_whole_path() -> None:
    want = {"usersAndGroups": {"accessType": "allowed"}}
    have = {
        "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}
    }
    assert model.cleared_paths(PARTNER, "b2bCollaborationInbound", want, have) == [
        "b2bCollaborationInbound.usersAndGroups.targets"
    ]


# --- the walk's order and paths, and what canonical_property leaves out at any depth ------------------------

B2B = "crossTenantAccessPolicyB2BSetting"


def test_the_walk_keeps_key_order_or_follows_the_documented_one_at_every_depth() -> None:
    value = {
        "zFuture": 1,
        "applications": {
            "targets": [{"targetType": "application", "target": "Office365"}],
            "accessType": "allowed",
        },
        "usersAndGroups": {"targets": [{"targetType": "user", "target": "AllUsers", "extra": 2}]},
    }
    seen: list[str] = []

    def visit(path: str, member: model.Member | None, child: Any) -> Any:
        seen.append(path)
        return child

    def keys(v: Any) -> Any:
        if isinstance(v, dict):
            return [(k, keys(c)) for k, c in v.items()]
        if isinstance(v, list):
            return [keys(i) for i in v]
        return v

    kept = model.transform(B2B, value, visit)
    assert keys(kept) == keys(value)
    assert seen == [
        "zFuture",
        "applications.targets.targetType",
        "applications.targets.target",
        "applications.targets",
        "applications.accessType",
        "applications",
        "usersAndGroups.targets.targetType",
        "usersAndGroups.targets.target",
        "usersAndGroups.targets.extra",
        "usersAndGroups.targets",
        "usersAndGroups",
    ]
    documented = model.transform(B2B, value, lambda _p, _m, child: child, documented_order=True)
    assert keys(documented) == [
        ("usersAndGroups", [("targets", [[("target", "AllUsers"), ("targetType", "user"), ("extra", 2)]])]),
        (
            "applications",
            [
                ("accessType", "allowed"),
                ("targets", [[("target", "Office365"), ("targetType", "application")]]),
            ],
        ),
        ("zFuture", 1),
    ]
    assert model.unknown_under(PARTNER, "b2bCollaborationInbound", value) == [
        "b2bCollaborationInbound.zFuture",
        "b2bCollaborationInbound.usersAndGroups.targets.extra",
    ]


def test_canonical_property_leaves_out_unknown_members_at_any_depth_and_keeps_leaf_lists() -> None:
    users = {"accessType": "allowed", "targets": [{"target": GROUP, "targetType": "group"}]}
    graph_later = {
        "usersAndGroups": {
            **users,
            "future": 2,
            "targets": [{"target": GROUP.upper(), "targetType": "group", "x": 1}],
        },
        "@odata.type": "#microsoft.graph.crossTenantAccessPolicyB2BSetting",
    }
    assert model.canonical_property(PARTNER, "b2bCollaborationInbound", graph_later) == {
        "usersAndGroups": users
    }
    order = {
        "primaryIdentityProviderPrecedenceOrder": [
            "externalFederation",
            "azureActiveDirectory",
            "socialIdentityProviders",
        ],
        "fallbackIdentityProvider": "defaultConfiguredIdp",
    }
    default = "crossTenantAccessPolicyConfigurationDefault"
    name = "invitationRedemptionIdentityProviderConfiguration"
    assert model.canonical_property(default, name, order) == order
    # A name the metadata does not know is plain JSON: its lists keep their order.
    assert model.canonical_property(PARTNER, "notAProperty", ["b", "a"]) == ["b", "a"]


def test_a_value_of_the_wrong_shape_is_compared_as_it_is() -> None:
    """Graph (or a later API version) answering a string where an object belongs is drift, not a crash."""
    assert model.canonical_property(PARTNER, "inboundTrust", "on") == "on"
    assert not model.equal(PARTNER, "inboundTrust", "on", "off")
    assert model.equal(PARTNER, "b2bCollaborationInbound", {"usersAndGroups": "x"}, {"usersAndGroups": "x"})
    listed = [{"isMfaAccepted": True, "isLater": 1}]
    assert model.canonical_property(PARTNER, "inboundTrust", listed) == listed
    users = {"usersAndGroups": [{"accessType": "allowed", "isLater": 1}]}
    assert model.canonical_property(PARTNER, "b2bCollaborationInbound", users) == users
    # A leaf holding an object is still put in canonical form (annotations and nulls are not data).
    boxed = {"isMfaAccepted": {"@odata.type": "#microsoft.graph.boolean", "value": True, "since": None}}
    assert model.equal(PARTNER, "inboundTrust", boxed, {"isMfaAccepted": {"value": True}})
    assert model.cleared_paths(PARTNER, "inboundTrust", "on", {"isMfaAccepted": True}) == []
    trust = {"usersAndGroups": {"accessType": "allowed"}}
    assert model.cleared_paths(PARTNER, "b2bCollaborationInbound", trust, {"usersAndGroups": "x"}) == []


def test_any_mapping_is_an_object() -> None:
    """The state's values are Mappings: a read-only view is walked like the dict it shows."""
    trust = {"isMfaAccepted": True, "isLater": 1}
    assert model.canonical_property(PARTNER, "inboundTrust", MappingProxyType(trust)) == {
        "isMfaAccepted": True
    }
    shown = MappingProxyType({"inboundTrust": MappingProxyType(trust)})
    assert model.value_at(shown, "inboundTrust.isLater") == 1


def later_metadata() -> metadata.Metadata:
    """The shipped metadata plus two partner properties no v1.0 one is like: a list of objects (`trusts`),
    and an object holding tenant restrictions one level down (`nested.restrictions`, with its devices)."""
    text = metadata.shipped_xml()
    start = text.index(f'<EntityType Name="{PARTNER}"')
    added = (
        '<Property Name="trusts" Type="Collection(graph.crossTenantAccessPolicyInboundTrust)" />\n        '
        '<Property Name="nested" Type="graph.xtapNested" />\n        '
    )
    text = insert(text, '<Property Name="inboundTrust"', added, before=True, start=start)
    nested = (
        '<ComplexType Name="xtapNested">\n        <Property Name="restrictions" '
        'Type="graph.crossTenantAccessPolicyTenantRestrictions" />\n      </ComplexType>\n      '
    )
    return metadata.parse(
        insert(text, '<ComplexType Name="crossTenantAccessPolicyInboundTrust"', nested, before=True)
    )


def test_a_property_that_is_a_collection_of_objects_is_compared_item_by_item() -> None:
    with metadata.using(later_metadata()):
        value = [{"isMfaAccepted": True, "isLater": 1}, {"isMfaAccepted": None}]
        assert model.canonical_property(PARTNER, "trusts", value) == [{"isMfaAccepted": True}, None]


def test_members_xtap_does_not_manage_are_carried_from_any_depth() -> None:
    users = {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]}
    devices = {"mode": "allowed", "rule": "device.isCompliant -eq True"}
    live = {"restrictions": {"usersAndGroups": users, "devices": devices}}
    with metadata.using(later_metadata()):
        body = model.wire_property(PARTNER, "nested", {"restrictions": {"usersAndGroups": users}}, live)
    assert body == live
