"""Hypothesis strategies for cross-tenant settings, shared by the property tests."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from reconciler.core import model
from tests.support.builders import CONSENT, TRUST

guids = st.builds(lambda n: str(uuid.UUID(int=n)), st.integers(min_value=0, max_value=2**128 - 1))
keywords = st.sampled_from(["AllUsers", "AllApplications", "Office365", "AllMicrosoftApps"])
targets = st.fixed_dictionaries(
    {"target": st.one_of(guids, keywords), "targetType": st.sampled_from(["user", "group", "application"])}
)
target_configs = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "accessType": st.sampled_from(["allowed", "blocked", None]),
            "targets": st.one_of(st.none(), st.lists(targets, max_size=5)),
        },
    ),
)
b2b_settings = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"usersAndGroups": target_configs, "applications": target_configs}),
)
booleans = st.sampled_from([True, False, None])
trust = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "isMfaAccepted": booleans,
            "isCompliantDeviceAccepted": booleans,
            "isHybridAzureADJoinedDeviceAccepted": booleans,
        },
    ),
)
partners = st.fixed_dictionaries(
    {},
    optional={
        "b2bCollaborationInbound": b2b_settings,
        "b2bDirectConnectOutbound": b2b_settings,
        "tenantRestrictions": b2b_settings,
        "inboundTrust": trust,
        "automaticUserConsentSettings": st.one_of(
            st.none(),
            st.fixed_dictionaries({}, optional={"inboundAllowed": booleans, "outboundAllowed": booleans}),
        ),
    },
)


def rewrite(value: Any, rnd: Any) -> Any:
    """The same value as someone else might write it: targets shuffled, GUID case and key order changed."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        out = {}
        for key, member in items:
            member = rewrite(member, rnd)
            if key == "targets" and isinstance(member, list):
                member = list(member)
                rnd.shuffle(member)
            out[key] = member
        return out
    if isinstance(value, list):
        return [rewrite(v, rnd) for v in value]
    if isinstance(value, str) and model.is_guid(value):
        return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in value)
    return value


TARGET_CHOICES = [
    {"target": "AllUsers", "targetType": "user"},
    {"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"},
    {"target": "0A9E8A2B-5E0E-4B0B-9D8C-1C2F3A4B5C6D", "targetType": "user"},
]
APP_CHOICES = [
    {"target": "AllApplications", "targetType": "application"},
    {"target": "Office365", "targetType": "application"},
]


def target_config(choices: list[dict[str, str]]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {
                "accessType": st.sampled_from(["allowed", "blocked"]),
                "targets": st.lists(st.sampled_from(choices), max_size=3),
            }
        ),
    )


b2b = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"usersAndGroups": target_config(TARGET_CHOICES), "applications": target_config(APP_CHOICES)}
    ),
)
planner_trust = st.one_of(
    st.none(), st.fixed_dictionaries({k: st.sampled_from([None, True, False]) for k in TRUST})
)
consent = st.one_of(
    st.none(), st.fixed_dictionaries({k: st.sampled_from([None, True, False]) for k in CONSENT})
)
settings_strategy = st.fixed_dictionaries(
    {},
    optional={
        "b2bCollaborationInbound": b2b,
        "b2bDirectConnectOutbound": b2b,
        "inboundTrust": planner_trust,
        "automaticUserConsentSettings": consent,
    },
)
