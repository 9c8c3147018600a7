"""The access model against Microsoft's own statements of what a configuration means.

Every expected decision below was written from Microsoft's documentation before looking at what
`core/access.py` answers; each case names its source. Sources (learn.microsoft.com; the Graph pages live in
microsoftgraph/microsoft-graph-docs-contrib under api-reference/v1.0, the Entra pages in
MicrosoftDocs/entra-docs under docs/external-id):

- TABLE: Graph, "Cross-tenant access settings API overview", section "Interpreting the API response"
  (resources/crosstenantaccesspolicy-overview.md). Its `b2bSetting` "is used as a placeholder for any B2B
  inbound or outbound or tenant restrictions configuration", so its rows are checked on all five of them.
- OVERVIEW: the same Graph page, sections "Default/Partner cross-tenant access settings".
- TARGET: Graph, "crossTenantAccessPolicyTarget resource type" (ids of users, groups and apps; `AllUsers`,
  `AllApplications`; reserved app values `Office365`, `AllMicrosoftApps`).
- PARTNER: Graph, "crossTenantAccessPolicyConfigurationPartner resource type" ("for any partner-specific
  property that is null, these settings inherit the behavior configured in your default").
- DEFAULT-GET: Graph, "Get crossTenantAccessPolicyConfigurationDefault", the example response of a service
  default (`isServiceDefault: true`).
- DEFAULT-UPDATE: Graph, "Update crossTenantAccessPolicyConfigurationDefault", Example 1 "Block outbound
  B2B collaboration for a group of users".
- M365-IN / M365-OUT / ASC: Graph, "crossTenantAccessPolicyM365CollaborationInboundSetting",
  "...M365CollaborationOutboundSetting", "crossTenantAccessPolicyAppServiceConnectSetting" resource types.
- ENTRA: Entra, "Cross-tenant access overview" (cross-tenant-access-overview.md).
- ENTRA-B2B / ENTRA-DC: Entra, "Configure cross-tenant access settings for B2B collaboration" /
  "... for B2B direct connect".
- TRV2: Entra, "Set up tenant restrictions v2" (tenant-restrictions-v2.md).

Cases marked "open point" pin xtap's reading where the documentation says nothing (docs/access.md lists
them); they are not Microsoft's word.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import access, impact
from reconciler.core.access import ANY, Principal

U1 = "0a9e8a2b-5e0e-4b0b-9d8c-1c2f3a4b5c6d"
U2 = "c8f1e1d5-0d2f-4a9e-8d55-1b7a3f0e2c44"
G1 = "6f546279-4da5-4b53-a095-09ea0cef9971"
G2 = "0be493dc-cb56-4a53-936f-9cf64410b8b0"
A1 = "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"  # an application of the resource tenant's own, not Microsoft's
A2 = "9d3e2f10-6b7a-4c1d-8e2f-3a4b5c6d7e8f"
MS_LEARN = "18fbca16-2224-45f6-85b0-f7bf2b39b3f3"  # Microsoft Learn, TRV2's example app


def user(target: str) -> dict[str, str]:
    return {"target": target, "targetType": "user"}


def group(target: str) -> dict[str, str]:
    return {"target": target, "targetType": "group"}


def app(target: str) -> dict[str, str]:
    return {"target": target, "targetType": "application"}


def slot(access_type: str, *targets: dict[str, str]) -> dict[str, Any]:
    return {"accessType": access_type, "targets": list(targets)}


def allow(*targets: dict[str, str]) -> dict[str, Any]:
    return slot("allowed", *targets)


def block(*targets: dict[str, str]) -> dict[str, Any]:
    return slot("blocked", *targets)


def b2b(users: dict[str, Any] | None, apps: dict[str, Any] | None) -> dict[str, Any]:
    return {"usersAndGroups": users, "applications": apps}


ALL_USERS, ALL_APPS = user("AllUsers"), app("AllApplications")
OFFICE365, ALL_MICROSOFT_APPS = app("Office365"), app("AllMicrosoftApps")
ALLOW_ALL = b2b(allow(ALL_USERS), allow(ALL_APPS))
BLOCK_ALL = b2b(block(ALL_USERS), block(ALL_APPS))

# DEFAULT-GET: the service default as Microsoft's example shows it (tenant restrictions, Microsoft 365
# collaboration and app service connect are not in it).
SERVICE_DEFAULT: dict[str, Any] = {
    "isServiceDefault": True,
    "inboundTrust": {
        "isMfaAccepted": False,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    },
    "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
    "b2bCollaborationOutbound": ALLOW_ALL,
    "b2bCollaborationInbound": ALLOW_ALL,
    "b2bDirectConnectOutbound": BLOCK_ALL,
    "b2bDirectConnectInbound": BLOCK_ALL,
}
# TRV2 step 1: a default that blocks every external account from every external app.
TR_BLOCKING_DEFAULT = {**SERVICE_DEFAULT, "tenantRestrictions": BLOCK_ALL}

ANYONE = Principal()
IN_G1 = Principal(None, frozenset({G1}))
IN_G2 = Principal(None, frozenset({G2}))
U1_ALONE = Principal(U1)
U2_IN_G1 = Principal(U2, frozenset({G1}))

B2B_IN, B2B_OUT = ("b2b-collaboration", "inbound"), ("b2b-collaboration", "outbound")
DC_IN, DC_OUT = ("b2b-direct-connect", "inbound"), ("b2b-direct-connect", "outbound")
TR, ASC = ("tenant-restrictions", "outbound"), ("app-service-connect", "inbound")
M365_IN, M365_OUT = ("m365-collaboration", "inbound"), ("m365-collaboration", "outbound")
B2B_SHAPED = {
    B2B_IN: "b2bCollaborationInbound",
    B2B_OUT: "b2bCollaborationOutbound",
    DC_IN: "b2bDirectConnectInbound",
    DC_OUT: "b2bDirectConnectOutbound",
    TR: "tenantRestrictions",
}


def channel(name: str, direction: str) -> access.Channel:
    (found,) = access.channels(name, direction)
    return found


def decide(
    partner: dict[str, Any] | None, default: dict[str, Any], where: tuple[str, str], who: Principal, to: str
) -> access.ChannelDecision:
    return access.decide(access.configuration(partner, default), channel(*where), who, to)


# --- TABLE: every row of "Interpreting the API response", on every B2B-shaped setting ----------------------


def row(
    users: dict[str, Any], apps: dict[str, Any], who: Principal, to: str, expected: str, name: str
) -> Any:
    return pytest.param(b2b(users, apps), who, to, expected, id=name)


ALLOW_G1, BLOCK_G1 = allow(group(G1)), block(group(G1))
ALLOW_A1, BLOCK_A1 = allow(app(A1)), block(app(A1))
ALLOW_ALL_USERS, ALLOW_ALL_APPS, BLOCK_ALL_APPS = allow(ALL_USERS), allow(ALL_APPS), block(ALL_APPS)

TABLE = [
    # "Block all users and block all applications"
    row(block(ALL_USERS), BLOCK_ALL_APPS, ANYONE, ANY, "blocked", "block all: anyone"),
    row(block(ALL_USERS), BLOCK_ALL_APPS, U2_IN_G1, A1, "blocked", "block all: a member, an app"),
    # "Allow all users and allow all applications"
    row(ALLOW_ALL_USERS, ALLOW_ALL_APPS, ANYONE, ANY, "allowed", "allow all: anyone"),
    row(ALLOW_ALL_USERS, ALLOW_ALL_APPS, U1_ALONE, A1, "allowed", "allow all: a user, an app"),
    # "Allow users in group 'g1' to access any app": "Users in group 'g1' can access any app. All other users
    # not in group 'g1' are blocked."
    row(ALLOW_G1, ALLOW_ALL_APPS, IN_G1, A1, "allowed", "allow g1 any app: member"),
    row(ALLOW_G1, ALLOW_ALL_APPS, U2_IN_G1, ANY, "allowed", "allow g1 any app: named member"),
    row(ALLOW_G1, ALLOW_ALL_APPS, ANYONE, ANY, "blocked", "allow g1 any app: others"),
    row(ALLOW_G1, ALLOW_ALL_APPS, IN_G2, A1, "blocked", "allow g1 any app: other group"),
    # "Allow access to only application 'a1'": "All users are only allowed to access application 'a1'"
    row(ALLOW_ALL_USERS, ALLOW_A1, ANYONE, A1, "allowed", "only a1: a1"),
    row(ALLOW_ALL_USERS, ALLOW_A1, IN_G1, A2, "blocked", "only a1: another app"),
    row(ALLOW_ALL_USERS, ALLOW_A1, ANYONE, ANY, "blocked", "only a1: any other app"),
    # "Allow users in group 'g1' and block access to application 'a1'": "All users in group 'g1' are allowed
    # to access any application except application 'a1'."
    row(ALLOW_G1, BLOCK_A1, IN_G1, A2, "allowed", "g1 but not a1: another app"),
    row(ALLOW_G1, BLOCK_A1, IN_G1, ANY, "allowed", "g1 but not a1: any other app"),
    row(ALLOW_G1, BLOCK_A1, IN_G1, A1, "blocked", "g1 but not a1: a1"),
    # "Block users in group 'g1' from accessing any application": "Users in group 'g1' can't access any
    # application. Other users not in group 'g1' have access to all applications."
    row(BLOCK_G1, BLOCK_ALL_APPS, IN_G1, A1, "blocked", "block g1 any app: member"),
    row(BLOCK_G1, BLOCK_ALL_APPS, ANYONE, A1, "allowed", "block g1 any app: others"),
    row(BLOCK_G1, BLOCK_ALL_APPS, IN_G2, ANY, "allowed", "block g1 any app: other group"),
    # "Block users in group 'g1' and allow access to application 'a1' only": "Users in group 'g1' can't access
    # any application. Any user not in group 'g1' can only access application 'a1'."
    row(BLOCK_G1, ALLOW_A1, IN_G1, A1, "blocked", "not g1, only a1: member"),
    row(BLOCK_G1, ALLOW_A1, ANYONE, A1, "allowed", "not g1, only a1: others to a1"),
    row(BLOCK_G1, ALLOW_A1, ANYONE, A2, "blocked", "not g1, only a1: others elsewhere"),
    # "Allow users in group 'g1' to access to only application 'a1'": "Users in group 'g1' are only allowed to
    # access application 'a1'. All users, including users in group 'g1', are blocked from accessing any other
    # application."
    row(ALLOW_G1, ALLOW_A1, IN_G1, A1, "allowed", "g1 only a1: member to a1"),
    row(ALLOW_G1, ALLOW_A1, IN_G1, A2, "blocked", "g1 only a1: member elsewhere"),
    row(ALLOW_G1, ALLOW_A1, ANYONE, ANY, "blocked", "g1 only a1: others elsewhere"),
    # "Block users in group 'g1' from accessing application 'a1'": "Users in group 'g1' are blocked from
    # accessing application 'a1' only. All users, including users in group 'g1' are able to access any other
    # application."
    row(BLOCK_G1, BLOCK_A1, IN_G1, A1, "blocked", "g1 not to a1: member to a1"),
    row(BLOCK_G1, BLOCK_A1, IN_G1, A2, "allowed", "g1 not to a1: member elsewhere"),
    row(BLOCK_G1, BLOCK_A1, ANYONE, ANY, "allowed", "g1 not to a1: others elsewhere"),
]


@pytest.mark.parametrize(("setting", "who", "to", "expected"), TABLE)
@pytest.mark.parametrize("where", list(B2B_SHAPED), ids=" ".join)
def test_the_rows_of_microsofts_interpretation_table(
    setting: dict[str, Any], who: Principal, to: str, expected: str, where: tuple[str, str]
) -> None:
    decision = decide({B2B_SHAPED[where]: setting}, SERVICE_DEFAULT, where, who, to)
    assert (decision.decision, decision.source) == (expected, "partner")


# --- the other cases: targets, keywords, inheritance, directions, the single-slot channels ------------------

PARTNERS: dict[str, dict[str, Any] | None] = {
    "none": None,  # no partner file: the tenant has no configuration for it
    "fresh": {"b2bCollaborationInbound": None, "b2bDirectConnectOutbound": None},  # PARTNER: null inherits
    "u1": {"b2bCollaborationInbound": b2b(allow(user(U1)), ALLOW_ALL_APPS)},
    "g1": {"b2bCollaborationInbound": b2b(ALLOW_G1, ALLOW_ALL_APPS)},
    "office": {"b2bDirectConnectInbound": b2b(ALLOW_ALL_USERS, allow(OFFICE365))},
    "not office": {"b2bCollaborationOutbound": b2b(ALLOW_ALL_USERS, block(OFFICE365))},
    "a1": {"b2bCollaborationInbound": b2b(ALLOW_ALL_USERS, ALLOW_A1)},
    "microsoft": {"b2bDirectConnectOutbound": b2b(ALLOW_ALL_USERS, allow(ALL_MICROSOFT_APPS))},
    "in closed": {"b2bCollaborationInbound": BLOCK_ALL},
    "out closed": {"b2bCollaborationOutbound": BLOCK_ALL},
    "out open": {"b2bCollaborationOutbound": ALLOW_ALL},
    "tr closed": {"tenantRestrictions": BLOCK_ALL},
    # TRV2 step 2: the Microsoft Accounts tenant may use Microsoft Learn with its own accounts.
    "learn": {"tenantRestrictions": b2b(ALLOW_ALL_USERS, allow(app(MS_LEARN)))},
    "m365 in": {"m365CollaborationInbound": {"users": ALLOW_ALL_USERS}},
    "m365 in not u1": {"m365CollaborationInbound": {"users": block(user(U1))}},
    "m365 out g1": {"m365CollaborationOutbound": {"usersAndGroups": ALLOW_G1}},
    "asc a1": {"appServiceConnectInbound": {"applications": ALLOW_A1}},
    "asc not a1": {"appServiceConnectInbound": {"applications": BLOCK_A1}},
    "half": {"b2bCollaborationInbound": {"usersAndGroups": ALLOW_G1}},  # no `applications`
}
DEFAULTS = {
    "service": SERVICE_DEFAULT,
    "tr": TR_BLOCKING_DEFAULT,
    # DEFAULT-UPDATE Example 1 "Block outbound B2B collaboration for a group of users".
    "g2 out": {**SERVICE_DEFAULT, "b2bCollaborationOutbound": b2b(block(group(G2)), BLOCK_ALL_APPS)},
}


def case(
    name: str, partner: str, default: str, where: tuple[str, str], who: Principal, to: str, *want: str
) -> Any:
    return pytest.param(partner, default, where, who, to, want, id=name)


P, D = "partner", "default"
CASES = [
    # TARGET: a target is "the unique identifier of the user, group, or application"; ENTRA-B2B: each added
    # id is marked "user" or "group". A user target names that user; a group target names its members.
    case("user target: that user", "u1", "service", B2B_IN, U1_ALONE, A1, "allowed", P),
    case("user target: another user", "u1", "service", B2B_IN, U2_IN_G1, A1, "blocked", P),
    case(
        "user target: not a group id",
        "u1",
        "service",
        B2B_IN,
        Principal(None, frozenset({U1})),
        A1,
        "blocked",
        P,
    ),
    case(
        "group target: a member",
        "g1",
        "service",
        B2B_IN,
        Principal(U1, frozenset({G2, G1})),
        A1,
        "allowed",
        P,
    ),
    # TARGET: Office365 "includes the applications mentioned as part of the Office365 suite".
    case("Office365 target: Office365", "office", "service", DC_IN, ANYONE, "Office365", "allowed", P),
    case("Office365 target: own app", "office", "service", DC_IN, ANYONE, A1, "blocked", P),
    case("Office365 blocked: own app", "not office", "service", B2B_OUT, ANYONE, A1, "allowed", P),
    case("Office365 blocked: Office365", "not office", "service", B2B_OUT, IN_G1, "Office365", "blocked", P),
    # TABLE "Allow access to only application 'a1'": the Office 365 suite is some other application.
    case("app id target: Office365", "a1", "service", B2B_IN, ANYONE, "Office365", "blocked", P),
    # TABLE "Allow all users and allow all applications"; ENTRA-B2B "All applications".
    case("AllApplications: Office365", "none", "service", B2B_OUT, ANYONE, "Office365", "allowed", D),
    # TARGET: AllMicrosoftApps "refers to any Microsoft cloud application", and the Office 365 suite is one
    # (Entra Conditional Access "Target resources" lists Office 365 among the Microsoft cloud applications).
    case("AllMicrosoftApps: Office365", "microsoft", "service", DC_OUT, ANYONE, "Office365", "allowed", P),
    # ENTRA / ENTRA-DC: organizational settings take precedence over the default.
    case("partner overrides default", "in closed", "service", B2B_IN, IN_G1, A1, "blocked", P),
    case("direct connect for one partner", "office", "service", DC_IN, U1_ALONE, "Office365", "allowed", P),
    # OVERVIEW: "if you configure only b2bCollaborationInbound ... the partner configuration inherits the other
    # settings from the default"; PARTNER: a property that is null inherits.
    case("unset property inherits", "in closed", "service", B2B_OUT, IN_G1, A1, "allowed", D),
    case("fresh partner is the default", "fresh", "service", DC_OUT, ANYONE, ANY, "blocked", D),
    # OVERVIEW: "Any external collaboration with an organization not listed explicitly ... inherits these
    # default settings"; DEFAULT-GET: B2B collaboration allowed both ways, B2B direct connect blocked.
    case("no partner: collaboration out", "none", "service", B2B_OUT, U1_ALONE, A2, "allowed", D),
    case("no partner: collaboration in", "none", "service", B2B_IN, ANYONE, ANY, "allowed", D),
    case("no partner: direct connect in", "none", "service", DC_IN, ANYONE, "Office365", "blocked", D),
    # DEFAULT-UPDATE Example 1: the group loses outbound B2B collaboration, nobody else does.
    case("default blocks group: member", "none", "g2 out", B2B_OUT, IN_G2, A1, "blocked", D),
    case("default blocks group: others", "none", "g2 out", B2B_OUT, U1_ALONE, A1, "allowed", D),
    case("default blocks group: inbound", "none", "g2 out", B2B_IN, IN_G2, A1, "allowed", D),
    # ENTRA: inbound and outbound are separate settings.
    case("outbound closed, inbound open", "out closed", "service", B2B_IN, ANYONE, ANY, "allowed", D),
    case("outbound closed", "out closed", "service", B2B_OUT, ANYONE, ANY, "blocked", P),
    # TRV2 step 1 (block by default) and step 2 (a partner allowed for chosen apps only).
    case("tenant restrictions: default", "none", "tr", TR, ANYONE, ANY, "blocked", D),
    case("tenant restrictions: chosen app", "learn", "tr", TR, ANYONE, MS_LEARN, "allowed", P),
    case("tenant restrictions: other app", "learn", "tr", TR, IN_G1, A1, "blocked", P),
    # ENTRA / TRV2: tenant restrictions are independent of inbound and outbound settings.
    case("TR ignores outbound", "out open", "tr", TR, ANYONE, A1, "blocked", D),
    case("outbound ignores TR", "tr closed", "service", B2B_OUT, ANYONE, A1, "allowed", D),
    # M365-IN: "the target users from other organizations who are allowed inbound Microsoft 365 collaboration".
    case("M365 in: all users", "m365 in", "service", M365_IN, ANYONE, ANY, "allowed", P),
    case("M365 in: blocked user", "m365 in not u1", "service", M365_IN, U1_ALONE, ANY, "blocked", P),
    case("M365 in: others", "m365 in not u1", "service", M365_IN, U2_IN_G1, ANY, "allowed", P),
    # M365-OUT: "the target users and groups in your organization who are allowed outbound".
    case("M365 out: member", "m365 out g1", "service", M365_OUT, U2_IN_G1, ANY, "allowed", P),
    case("M365 out: non-member", "m365 out g1", "service", M365_OUT, U1_ALONE, ANY, "blocked", P),
    # ASC: "the target applications that are allowed for inbound app service connect".
    case("ASC: listed app", "asc a1", "service", ASC, ANYONE, A1, "allowed", P),
    case("ASC: other app", "asc a1", "service", ASC, ANYONE, A2, "blocked", P),
    case("ASC: block list", "asc not a1", "service", ASC, U1_ALONE, A2, "allowed", P),
    # Open point (docs/access.md): a half-set setting; xtap inherits the missing member from the default, as
    # PARTNER documents for the null members of automaticUserConsentSettings.
    case("open: half-set, member", "half", "service", B2B_IN, IN_G1, A2, "allowed", P),
    case("open: half-set, others", "half", "service", B2B_IN, IN_G2, A2, "blocked", P),
    # Open point: no documented service default for Microsoft 365 collaboration or app service connect; xtap
    # assumes no access.
    case("open: M365 nobody sets", "none", "service", M365_OUT, ANYONE, ANY, "blocked", "none"),
    case("open: ASC nobody sets", "none", "service", ASC, ANYONE, A1, "blocked", "none"),
    # Open point: whether Office365 / AllMicrosoftApps cover a given app id; xtap does not expand keywords.
    case("open: Office365 and an id", "office", "service", DC_IN, ANYONE, A2, "blocked", P),
]


@pytest.mark.parametrize(("partner", "default", "where", "who", "to", "want"), CASES)
def test_decisions_written_from_the_documentation(
    partner: str, default: str, where: tuple[str, str], who: Principal, to: str, want: tuple[str, str]
) -> None:
    decision = decide(PARTNERS[partner], DEFAULTS[default], where, who, to)
    assert (decision.decision, decision.source) == want


def test_tenant_restrictions_are_one_outbound_channel() -> None:
    # OVERVIEW: tenant restrictions govern "how your users collaborate with other organizations using other
    # organization identities"; TRV2: they "control external account access to external apps".
    assert [(c.direction, c.graph_property) for c in access.channels("tenant-restrictions")] == [
        ("outbound", "tenantRestrictions")
    ]


def test_single_slot_channels_are_decided_by_that_slot() -> None:
    # M365-IN has `users` only, M365-OUT `usersAndGroups` only, ASC `applications` only.
    slots = {(c.name, c.direction): (c.users, c.apps) for c in access.CHANNELS}
    assert (slots[M365_IN], slots[M365_OUT], slots[ASC]) == (
        ("users", None),
        ("usersAndGroups", None),
        (None, "applications"),
    )
    decision = decide(PARTNERS["asc a1"], SERVICE_DEFAULT, ASC, U1_ALONE, A1)
    assert decision.users is None and decision.apps is not None and decision.apps.matched == A1


def test_two_block_lists_are_explained_by_the_slot_that_lets_the_principal_through() -> None:
    # TABLE "Block users in group 'g1' from accessing any application": others pass; their slot says why.
    setting = {"b2bCollaborationInbound": b2b(BLOCK_G1, BLOCK_ALL_APPS)}
    allowed = decide(setting, SERVICE_DEFAULT, B2B_IN, IN_G2, A1).deciding
    assert allowed is not None and (allowed.rule.slot, allowed.passes, allowed.matched) == (
        "usersAndGroups",
        True,
        None,
    )
    blocked = decide(setting, SERVICE_DEFAULT, B2B_IN, IN_G1, A1).deciding
    assert blocked is not None and (blocked.rule.slot, blocked.passes, blocked.matched) == (
        "usersAndGroups",
        False,
        G1,
    )


# --- properties: the decision against a reference evaluator, the impact against brute force --------------

IDS = ["1e000000-0000-4000-8000-00000000000" + str(i) for i in range(3)]  # user or group object ids
APPS = ["a0000000-0000-4000-8000-00000000000" + str(i) for i in range(3)]
NOBODY, NO_GROUP, NO_APP = (f"{c * 8}-0000-4000-8000-000000000000" for c in "bcd")  # named by no rule
ACCESS = st.sampled_from(["allowed", "blocked"] * 4 + [None])


def often(value: st.SearchStrategy[Any], rarely: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`value` nine times in ten: odd shapes stay in, without drowning the changes that matter."""
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda usual: value if usual else rarely)


def slots(choices: list[dict[str, str]]) -> st.SearchStrategy[dict[str, Any] | None]:
    targets = often(st.lists(st.sampled_from(choices), min_size=1, max_size=3), st.sampled_from([None, []]))
    whole = st.fixed_dictionaries({"accessType": ACCESS, "targets": targets})
    part = st.fixed_dictionaries({}, optional={"accessType": ACCESS, "targets": targets})  # a half-set member
    return often(whole, st.one_of(part, st.none()))


USER_TARGETS = [user("AllUsers"), *(user(i) for i in IDS), *(group(i) for i in IDS)]
APP_TARGETS = [ALL_APPS, OFFICE365, ALL_MICROSOFT_APPS, *(app(a) for a in APPS)]


def settings_for(ch: access.Channel) -> st.SearchStrategy[dict[str, Any] | None]:
    """One channel's property as Graph may hold it: absent, or any mix of set and unset members."""
    members = {k: slots(v) for k, v in ((ch.users, USER_TARGETS), (ch.apps, APP_TARGETS)) if k is not None}
    return often(
        st.fixed_dictionaries(members), st.one_of(st.none(), st.fixed_dictionaries({}, optional=members))
    )


Config = tuple[dict[str, Any] | None, dict[str, Any]]


@st.composite
def changes(draw: st.DrawFn) -> tuple[access.Channel, Config, Config]:
    """A channel, and a partner with its default before and after (often the same default)."""
    ch = draw(st.sampled_from(access.CHANNELS))

    def partner() -> dict[str, Any] | None:
        return draw(often(settings_for(ch).map(lambda v: {ch.graph_property: v}), st.none()))

    default = {ch.graph_property: draw(settings_for(ch))}
    later = draw(st.sampled_from([default, default, {ch.graph_property: draw(settings_for(ch))}]))
    return ch, (partner(), default), (partner(), later)


def reference(partner: Any, default: Any, ch: access.Channel, who: Principal, to: str) -> str:
    """Microsoft's table, read independently: leaf-wise inheritance, allow and block lists, keywords."""

    def rule(slot_name: str) -> tuple[Any, list[dict[str, str]]]:
        def leaf(name: str) -> Any:
            own = ((partner or {}).get(ch.graph_property) or {}).get(slot_name) or {}
            fallback = ((default or {}).get(ch.graph_property) or {}).get(slot_name) or {}
            return own.get(name) if own.get(name) is not None else fallback.get(name)

        return leaf("accessType"), leaf("targets") or []

    def ids(value: str | None) -> str | None:  # GUIDs compare in any case, keywords as written
        return value.lower() if value and len(value) == 36 else value

    def named_user(t: dict[str, str]) -> bool:
        if t["targetType"] == "user":
            return t["target"] in ("AllUsers", ids(who.user))
        return t["target"] in {ids(g) for g in who.groups}

    def named_app(t: dict[str, str]) -> bool:
        office = t["target"] == "AllMicrosoftApps" and to == "Office365"
        return t["target"] in ("AllApplications", ids(to)) or office

    verdicts = []
    for slot_name, named in ((ch.users, named_user), (ch.apps, named_app)):
        if slot_name is not None:
            kind, targets = rule(slot_name)
            hit = any(named(t) for t in targets)
            verdicts.append((kind, hit if kind == "allowed" else kind == "blocked" and not hit))
    both_blocked = len(verdicts) == 2 and all(kind == "blocked" for kind, _ in verdicts)
    let_through = [ok for _, ok in verdicts]
    return "allowed" if (any(let_through) if both_blocked else all(let_through)) else "blocked"


PRINCIPALS = [
    Principal(u, frozenset(g for i, g in enumerate([*IDS, NO_GROUP]) if mask >> i & 1))
    for u in (None, NOBODY, *IDS)
    for mask in range(2 ** (len(IDS) + 1))
]
QUESTIONS = [ANY, NO_APP, "Office365", "AllMicrosoftApps", *APPS]
principals = st.builds(
    Principal,
    st.sampled_from([None, NOBODY, *IDS, *(i.upper() for i in IDS)]),
    st.frozensets(st.sampled_from([*IDS, NO_GROUP, IDS[0].upper()])),
)
PROPERTY = settings(max_examples=100, deadline=None)


@PROPERTY
@given(changes(), principals, st.sampled_from(QUESTIONS))
def test_decide_agrees_with_the_reference_reading(case: Any, who: Principal, to: str) -> None:
    ch, (partner, default), _ = case
    got = access.decide(access.configuration(partner, default), ch, who, to).decision
    assert got == reference(partner, default, ch, who, to)


def brute_force(before: access.Configuration, after: access.Configuration, ch: access.Channel) -> set[str]:
    """How access changes over every principal and question the ids above can make."""
    seen = set()
    for who in PRINCIPALS:
        for to in QUESTIONS:
            was, now = (access.decide(c, ch, who, to).decision for c in (before, after))
            if was != now:
                seen.add(now)
    return seen


@settings(PROPERTY, max_examples=120)
@given(changes())
def test_the_impact_is_what_brute_force_finds(case: Any) -> None:
    ch, old, new = case
    before, after = access.configuration(*old), access.configuration(*new)
    kind, flips = impact.channel_impact(before, after, ch)
    expected = {frozenset(): None, frozenset({"allowed"}): "widens", frozenset({"blocked"}): "narrows"}
    assert kind == expected.get(frozenset(brute_force(before, after, ch)), "changes")
    for who, to, was, now in flips:  # each flip it reports is real, by the reference reading too
        assert (reference(*old, ch, who, to), reference(*new, ch, who, to)) == (was, now)


@PROPERTY
@given(
    changes(),
    principals,
    st.sampled_from([*QUESTIONS, *(a.upper() for a in APPS)]),
)
def test_a_random_principal_never_changes_in_a_way_the_impact_misses(
    case: Any, who: Principal, to: str
) -> None:
    ch, old, new = case
    before, after = access.configuration(*old), access.configuration(*new)
    kind, _ = impact.channel_impact(before, after, ch)
    was, now = (access.decide(c, ch, who, to).decision for c in (before, after))
    if was != now:
        assert kind in ("changes", "widens" if now == "allowed" else "narrows")


# --- what `xtap access` says: who is asked about, why, and where the deciding rule is -------------------


def _asked(partner: dict[str, Any], who: Principal, to: str, *where: str) -> dict[str, Any]:
    config = access.configuration(partner, {}, {"userSyncInbound": {"isSyncAllowed": True}})
    [answer] = access.answer(
        config, access.channels(*where), who, to, lambda path, origin: f"{origin} {path}"
    )
    return answer


def test_the_principal_is_described_as_asked() -> None:
    assert ANYONE.describe() == "any other user"
    assert Principal(None, frozenset({G1, G2})).describe() == f"a member of {G2}, {G1}"
    assert U1_ALONE.describe() == f"user {U1}"
    assert Principal(U2, frozenset({G1, G2})).describe() == f"user {U2} (member of {G2}, {G1})"


def test_the_answer_says_which_list_decided_and_why_in_words() -> None:
    partner = {"b2bCollaborationInbound": b2b(allow(group(G1), group(G2)), allow(app(A1), app(A2)))}
    outsider = _asked(partner, U1_ALONE, A1, *B2B_IN)
    assert (outsider["decision"], outsider["location"], outsider["because"]) == (
        "blocked",
        "partner b2bCollaborationInbound.usersAndGroups",
        f"usersAndGroups allows only {G2}, {G1}, not this user",
    )
    other_app = _asked(partner, U2_IN_G1, MS_LEARN, *B2B_IN)
    assert (other_app["decision"], other_app["location"], other_app["because"]) == (
        "blocked",
        "partner b2bCollaborationInbound.applications",
        f"applications allows only {A1}, {A2}, not this app",
    )
    member = _asked(partner, U2_IN_G1, A1, *B2B_IN)
    assert (member["decision"], member["because"]) == ("allowed", f"usersAndGroups allows {G1}")
    empty = _asked({"b2bCollaborationInbound": b2b(allow(), allow(ALL_APPS))}, ANYONE, A1, *B2B_IN)
    assert empty["because"] == "usersAndGroups allows only nobody, not this user"
    unset = _asked({}, ANYONE, A1, *M365_IN)
    assert (unset["decision"], unset["location"], unset["because"]) == (
        "blocked",
        "none m365CollaborationInbound.users",
        "nobody sets this channel (neither the partner nor the default), so nobody gets in",
    )


def test_ids_given_in_upper_case_match_the_files_lower_case_targets() -> None:
    """Object ids are copied from the portal in any case: the user, the groups and the app still match."""
    partner = {"b2bCollaborationInbound": b2b(allow(user(U1), group(G1)), allow(app(A1)))}
    by_user = _asked(partner, Principal(U1.upper()), A1.upper(), *B2B_IN)
    assert (by_user["decision"], by_user["because"]) == ("allowed", f"usersAndGroups allows {U1}")
    by_group = _asked(partner, Principal(U2.upper(), frozenset({G1.upper()})), A1, *B2B_IN)
    assert (by_group["decision"], by_group["because"]) == ("allowed", f"usersAndGroups allows {G1}")


def test_trust_consent_and_sync_are_reported_with_where_each_comes_from() -> None:
    partner = {"inboundTrust": {"isMfaAccepted": True}}
    default = {"automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": False}}
    config = access.configuration(partner, default, {"userSyncInbound": {"isSyncAllowed": False}})
    assert access.settings(config) == {
        "inboundTrust.isMfaAccepted": (True, "partner"),
        "inboundTrust.isCompliantDeviceAccepted": (None, "none"),
        "inboundTrust.isHybridAzureADJoinedDeviceAccepted": (None, "none"),
        "automaticUserConsentSettings.inboundAllowed": (True, "default"),
        "automaticUserConsentSettings.outboundAllowed": (False, "default"),
        "identitySynchronization.userSyncInbound.isSyncAllowed": (False, "partner"),
    }


# --- what callers of decide() may hand it ---------------------------------------------------------------


def test_guids_are_matched_whatever_their_case_and_other_ids_as_written() -> None:
    """decide() takes ids as a caller has them: a user's, a group's or an app's GUID in capitals matches the
    same GUID in a configuration (Graph's GUIDs are case-insensitive), while an id that is no GUID matches
    only as written (keywords such as `AllUsers` are case-sensitive)."""
    setting = b2b(allow(user(U1), group(G1), user("Alice@Contoso"), group("Team-A")), allow(app(A1)))
    config = access.configuration({"b2bCollaborationInbound": setting}, SERVICE_DEFAULT)
    inbound = channel(*B2B_IN)
    upper = (Principal(U1.upper()), Principal(None, frozenset({G1.upper()})))
    for who in (*upper, Principal("Alice@Contoso"), Principal(None, frozenset({"Team-A"}))):
        assert access.decide(config, inbound, who, A1.upper()).decision == "allowed", who
    for who in (Principal("alice@contoso"), Principal(None, frozenset({"team-a"}))):
        assert access.decide(config, inbound, who, A1).decision == "blocked", who


def test_a_target_that_is_not_an_object_is_left_out_of_its_rule() -> None:
    """Graph never returns one, and a file holding one does not validate; the evaluator still reads past
    it rather than fail."""
    setting = b2b(allow("AllUsers", user(U1)), allow(app(A1)))
    config = access.configuration({"b2bCollaborationInbound": setting}, SERVICE_DEFAULT)
    rule = config.rule(channel(*B2B_IN), "usersAndGroups")
    assert (rule.targets, rule.origin, rule.targets_origin) == ((("user", U1),), "partner", "partner")
    assert access.decide(config, channel(*B2B_IN), Principal(U2), A1).decision == "blocked"


def test_each_part_of_a_rule_says_where_it_comes_from() -> None:
    """The access type and the targets of a slot are inherited separately (Graph's own reading): a partner
    that sets only the access type keeps the default's targets, and says so."""
    partner = {"b2bCollaborationInbound": b2b({"accessType": "blocked"}, None)}
    config = access.configuration(partner, SERVICE_DEFAULT)
    rule = config.rule(channel(*B2B_IN), "usersAndGroups")
    assert (rule.access_type, rule.origin, rule.targets_origin) == ("blocked", "partner", "default")
