"""`canonical_property` walks a value once (members xtap doesn't manage left out on the way); it must equal
the two-pass definition, `canonical(managed_view(...))`, for any value, known members or not."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import metadata, model

KEYS = st.sampled_from(
    [
        "usersAndGroups",
        "applications",
        "accessType",
        "targets",
        "target",
        "targetType",
        "devices",
        "isMfaAccepted",
        "inboundAllowed",
        "userSyncInbound",
        "isSyncAllowed",
        "primaryIdentityProviderPrecedenceOrder",
        "@odata.type",
        "unknownMember",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(["allowed", "blocked", "AllUsers", "user", "group", "Office365"]),
    st.sampled_from(["6B9C5F0E-0B8A-4E2B-9A51-3C8B0D6F4A11", "6b9c5f0e-0b8a-4e2b-9a51-3c8b0d6f4a11"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)


def reference(value: Any) -> Any:
    """`model.canonical` as plainly recursive as its definition (model inlines plain values for speed)."""
    if isinstance(value, dict):
        out = {}
        for key, member in value.items():
            if isinstance(key, str) and key.startswith("@odata."):
                continue
            c = reference(member)
            if c is not None:
                out[key] = model.canonical_set(c) if key in model.UNORDERED and isinstance(c, list) else c
        return out or None
    if isinstance(value, list):
        return [reference(v) for v in value]
    return value.lower() if model.is_guid(value) else value


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_canonical_equals_its_plain_definition(value: Any) -> None:
    assert repr(model.canonical(value)) == repr(reference(value))


def managed_view(type_name: str, value: Any) -> Any:
    """`value` without the members xtap does not manage (unknown to the metadata or UNMANAGED_MEMBERS)."""
    return model.transform(
        type_name, value, lambda _p, m, child: child if m is not None and m.managed else model.DROP
    )


def two_pass(owner: str, name: str, value: Any) -> Any:
    if value is None:
        return None
    member = model.property_member(owner, name)
    if member is None or not member.structured:
        flat = reference(value)  # a top-level set (allowedCloudEndpoints) is sorted like targets
        return model.canonical_set(flat) if name in model.UNORDERED and isinstance(flat, list) else flat
    if member.collection and isinstance(value, list):
        return reference([managed_view(member.type, item) for item in value])
    return reference(managed_view(member.type, value))


OWNERS = [metadata.PARTNER_TYPE, metadata.DEFAULT_TYPE, metadata.SYNC_TYPE, metadata.POLICY_TYPE]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(OWNERS),
    st.sampled_from(
        [
            "b2bCollaborationInbound",
            "tenantRestrictions",
            "inboundTrust",
            "automaticUserConsentSettings",
            "userSyncInbound",
            "invitationRedemptionIdentityProviderConfiguration",
            "allowedCloudEndpoints",
            "notAProperty",
        ]
    ),
    VALUES,
)
def test_one_pass_equals_two_passes(owner: str, name: str, value: Any) -> None:
    assert repr(model.canonical_property(owner, name, value)) == repr(two_pass(owner, name, value))
