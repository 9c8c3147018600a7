"""What a plan says a change does to access, word for word (core/impact.py): who may now reach or can no
longer reach what, over which channel, and what decided it before; trust, consent and identity sync flags;
and which of a partner's changes carries which effect."""

from __future__ import annotations

from typing import Any

from reconciler.core import access, impact
from reconciler.core.plan import Change
from reconciler.core.planner import PlanOptions, make_plan
from reconciler.core.state import DesiredDefault, DesiredState, LivePartner, SourceRef
from tests.support.builders import ALL_APPS, ALL_USERS, FAB, desired, fresh, live

USERS = [f"1e00000{i}-0000-4000-8000-000000000000" for i in range(1, 6)]
G1 = "6f546279-4da5-4b53-a095-09ea0cef9971"
G2 = "0be493dc-cb56-4a53-936f-9cf64410b8b0"
A1 = "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
A2 = "9d3e2f10-6b7a-4c1d-8e2f-3a4b5c6d7e8f"
SYNC_ON = {"displayName": "fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
SYNC_OFF = {"displayName": "fabrikam", "userSyncInbound": {"isSyncAllowed": False}}


def rule(access_type: str, *targets: tuple[str, str]) -> dict[str, Any]:
    return {"accessType": access_type, "targets": [{"target": t, "targetType": kind} for kind, t in targets]}


def trust(mfa: bool | None, compliant: bool | None, hybrid: bool | None) -> dict[str, Any]:
    return {
        "inboundTrust": {
            "isMfaAccepted": mfa,
            "isCompliantDeviceAccepted": compliant,
            "isHybridAzureADJoinedDeviceAccepted": hybrid,
        }
    }


def said(
    before: dict[str, Any],
    after: dict[str, Any],
    default: dict[str, Any] | None = None,
    syncs: tuple[dict[str, Any] | None, dict[str, Any] | None] = (None, None),
) -> list[tuple[str, str | None, str, str]]:
    """The effects of partner "p" going from `before` to `after`, as (channel, direction, impact, summary)."""
    found = impact.effects(
        access.configuration(before, default, syncs[0]), access.configuration(after, default, syncs[1]), "p"
    )
    return [(e.channel, e.direction, e.impact, e.summary) for e in found]


# --- channels: who, what, over which channel, decided before by what --------------------------------------


def test_a_channel_without_applications_is_said_to_reach_microsoft_365() -> None:
    """Microsoft 365 collaboration has no applications slot: people reach Microsoft 365 itself. Nobody set
    it before (neither the partner nor the default), which blocks."""
    after = {
        "m365CollaborationOutbound": {"usersAndGroups": rule("allowed", ("user", "AllUsers"))},
        "m365CollaborationInbound": {"users": rule("allowed", ("user", USERS[0]))},
    }
    assert said({}, after) == [
        (
            "m365-collaboration",
            "inbound",
            "widens",
            f"p: user {USERS[0]} may now reach Microsoft 365 by Microsoft 365 collaboration inbound "
            "(before: blocked by no setting)",
        ),
        (
            "m365-collaboration",
            "outbound",
            "widens",
            "p: any user may now reach Microsoft 365 by Microsoft 365 collaboration outbound "
            "(before: blocked by no setting)",
        ),
    ]


def test_a_channel_without_users_concerns_any_user() -> None:
    """App service connect has no users slot: a change of its applications concerns any user."""
    default = {
        "appServiceConnectInbound": {"applications": rule("blocked", ("application", "AllApplications"))}
    }
    after = {"appServiceConnectInbound": {"applications": rule("allowed", ("application", A1))}}
    assert said({}, after, default) == [
        (
            "app-service-connect",
            "inbound",
            "widens",
            f"p: any user may now reach {A1} by app service connect inbound (before: blocked by the default)",
        )
    ]


def test_apps_no_longer_named_are_any_other_app_and_the_ones_kept_are_not_mentioned() -> None:
    before = {"b2bCollaborationOutbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}}
    after = {
        "b2bCollaborationOutbound": {
            "usersAndGroups": ALL_USERS,
            "applications": rule("allowed", ("application", A1), ("application", "Office365")),
        }
    }
    assert said(before, after) == [
        (
            "b2b-collaboration",
            "outbound",
            "narrows",
            "p: any user can no longer reach any other app by B2B collaboration outbound "
            "(before: allowed by the partner's setting)",
        )
    ]


def test_each_side_of_an_app_swap_says_what_decided_for_that_app_before() -> None:
    """A1 swapped for A2: before, A2 was blocked and A1 allowed, each by the partner's applications list."""
    before = {
        "b2bCollaborationOutbound": {
            "usersAndGroups": ALL_USERS,
            "applications": rule("allowed", ("application", A1)),
        }
    }
    after = {
        "b2bCollaborationOutbound": {
            "usersAndGroups": ALL_USERS,
            "applications": rule("allowed", ("application", A2)),
        }
    }
    assert said(before, after) == [
        (
            "b2b-collaboration",
            "outbound",
            "changes",
            f"p: any user may now reach {A2} by B2B collaboration outbound (before: blocked by the partner's "
            f"setting); any user can no longer reach {A1} by B2B collaboration outbound (before: allowed by "
            "the partner's setting)",
        )
    ]


def test_a_loss_only_a_combination_of_memberships_suffers_is_found() -> None:
    """Allowed: members of G1. Then blocked: members of G2. A member of G1 alone keeps access (not in the
    block list), of G2 alone never had it; only a member of both loses it — and everyone else gains it.
    Likewise a user allowed by id loses access only if also a member of the blocked group."""

    def swapped(allowed: tuple[str, str], blocked: str) -> list[tuple[str, str | None, str, str]]:
        before = {
            "b2bCollaborationInbound": {"usersAndGroups": rule("allowed", allowed), "applications": ALL_APPS}
        }
        after = {
            "b2bCollaborationInbound": {
                "usersAndGroups": rule("blocked", ("group", blocked)),
                "applications": ALL_APPS,
            }
        }
        return said(before, after)

    gain = (
        "p: any other user may now reach any app by B2B collaboration inbound (before: blocked by the "
        "partner's setting); "
    )
    loss = (
        "can no longer reach any app by B2B collaboration inbound (before: allowed by the partner's setting)"
    )
    assert swapped(("group", G1), G2) == [
        ("b2b-collaboration", "inbound", "changes", f"{gain}a member of {G2}, {G1} {loss}")
    ]
    assert swapped(("user", USERS[0]), G1) == [
        ("b2b-collaboration", "inbound", "changes", f"{gain}user {USERS[0]} (member of {G1}) {loss}")
    ]


def test_up_to_three_people_are_named_and_more_are_counted() -> None:
    """An allow list turned into a block list of the same people: they lose access, everyone else gains
    it — both ways at once ("changes"), gains first."""

    def flipped(users: list[str]) -> list[tuple[str, str | None, str, str]]:
        targets = [("user", u) for u in users]
        before = {
            "b2bCollaborationInbound": {"usersAndGroups": rule("allowed", *targets), "applications": ALL_APPS}
        }
        after = {
            "b2bCollaborationInbound": {"usersAndGroups": rule("blocked", *targets), "applications": ALL_APPS}
        }
        return said(before, after)

    gain = (
        "p: any other user may now reach any app by B2B collaboration inbound "
        "(before: blocked by the partner's setting); "
    )
    loss = (
        "can no longer reach any app by B2B collaboration inbound (before: allowed by the partner's setting)"
    )
    u1, u2, u3 = USERS[:3]
    assert flipped(USERS[:3]) == [
        ("b2b-collaboration", "inbound", "changes", f"{gain}user {u1}, user {u2} and user {u3} {loss}")
    ]
    assert flipped(USERS[:2]) == [
        ("b2b-collaboration", "inbound", "changes", f"{gain}user {u1} and user {u2} {loss}")
    ]
    assert flipped(USERS[:4]) == [
        ("b2b-collaboration", "inbound", "changes", f"{gain}user {u1}, user {u2} and 2 more {loss}")
    ]
    assert flipped(USERS) == [
        ("b2b-collaboration", "inbound", "changes", f"{gain}user {u1}, user {u2} and 3 more {loss}")
    ]


def test_a_group_s_members_are_said_to_be_members_and_a_named_member_by_name() -> None:
    """Direct connect opened to one group, with one of its members blocked by the applications' own list:
    the group's members gain every app, the named member only the apps other than A1."""
    blocked = {
        "usersAndGroups": rule("blocked", ("user", "AllUsers")),
        "applications": rule("blocked", ("application", "AllApplications")),
    }
    after = {
        "b2bDirectConnectInbound": {
            "usersAndGroups": rule("allowed", ("group", G1)),
            "applications": ALL_APPS,
        }
    }
    assert said({}, after, {"b2bDirectConnectInbound": blocked}) == [
        (
            "b2b-direct-connect",
            "inbound",
            "widens",
            f"p: a member of {G1} may now reach any app by B2B direct connect inbound (before: blocked by the default)",
        )
    ]


def test_effects_come_widening_first_then_narrowing_then_both() -> None:
    before = {
        **trust(True, None, None),
        "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": None},
    }
    after = {
        **trust(None, None, None),
        "automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": True},
        "b2bDirectConnectOutbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
    }
    assert [(channel, kind) for channel, _, kind, _ in said(before, after)] == [
        ("b2b-direct-connect", "widens"),
        ("inbound-trust", "narrows"),
        ("automatic-consent", "changes"),
    ]


def test_an_access_type_of_an_unexpected_shape_is_no_setting_and_the_plan_is_still_made() -> None:
    """Graph returns a list where a string belongs: that slot sets nothing (nobody gets in), and the plan
    that writes a proper one says access opens — it neither fails nor is silent."""
    odd = {"usersAndGroups": {**ALL_USERS, "accessType": ["allowed"]}, "applications": ALL_APPS}
    want = {"b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}}
    have = live(LivePartner(FAB, fresh(FAB, b2bCollaborationInbound=odd)))
    plan = make_plan(DesiredState({FAB: desired(FAB, want)}), have)
    assert effects_of(plan.changes) == [
        (
            "update",
            "partner",
            [
                "90e2: any user may now reach any app by B2B collaboration inbound (before: blocked by no setting)"
            ],
        )
    ]


# --- trust, consent, identity sync: each flag that turns, and which way -----------------------------------


def test_trust_and_consent_name_each_flag_that_turns_and_to_what() -> None:
    assert said(trust(True, False, None), trust(False, True, None)) == [
        (
            "inbound-trust",
            None,
            "changes",
            "p: inbound trust — isMfaAccepted false, isCompliantDeviceAccepted true",
        )
    ]
    # The partner stops accepting MFA that the default accepts: the other two flags still come from the default.
    assert said({}, trust(False, None, None), trust(True, True, True)) == [
        ("inbound-trust", None, "narrows", "p: inbound trust — isMfaAccepted false")
    ]
    assert said({}, trust(None, None, True)) == [
        ("inbound-trust", None, "widens", "p: inbound trust — isHybridAzureADJoinedDeviceAccepted true")
    ]
    consent = {"automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True}}
    assert said(consent, {}) == [
        (
            "automatic-consent",
            None,
            "narrows",
            "p: automatic consent — inboundAllowed false, outboundAllowed false",
        )
    ]


def test_identity_sync_says_whether_users_may_be_synced_in() -> None:
    assert said({}, {}, syncs=(SYNC_ON, SYNC_OFF)) == [
        ("identity-sync", None, "narrows", "p: identity sync — isSyncAllowed false")
    ]
    assert said({}, {}, syncs=(None, SYNC_ON)) == [
        ("identity-sync", None, "widens", "p: identity sync — isSyncAllowed true")
    ]
    assert said({}, {}, syncs=(SYNC_ON, {**SYNC_ON, "displayName": "renamed"})) == []


# --- a plan's changes: which change carries which effect ---------------------------------------------------


def effects_of(changes: tuple[Change, ...]) -> list[tuple[str, str, list[str]]]:
    return [(c.action, c.resource, [e.summary for e in c.effects]) for c in changes]


MFA = "90e2: inbound trust — isMfaAccepted true"


def test_identity_sync_effects_go_on_the_sync_change_and_the_rest_on_the_partner_change() -> None:
    have = live(LivePartner(FAB, fresh(FAB), {"tenantId": FAB, **SYNC_ON}))
    plan = make_plan(DesiredState({FAB: desired(FAB, trust(True, None, None), SYNC_OFF)}), have)
    assert effects_of(plan.changes) == [
        ("update", "partner", [MFA]),
        ("update", "identitySynchronization", ["90e2: identity sync — isSyncAllowed false"]),
    ]
    created = make_plan(DesiredState({FAB: desired(FAB, trust(True, None, None), SYNC_ON)}), live())
    assert effects_of(created.changes) == [
        ("create", "partner", [MFA]),
        ("create", "identitySynchronization", ["90e2: identity sync — isSyncAllowed true"]),
    ]


def test_a_sync_policy_the_file_leaves_out_stays_unless_pruned() -> None:
    have = live(LivePartner(FAB, fresh(FAB), {"tenantId": FAB, **SYNC_ON}))
    state = DesiredState({FAB: desired(FAB, trust(True, None, None))})
    assert effects_of(make_plan(state, have).changes) == [
        ("update", "partner", [MFA]),
        ("unmanaged", "identitySynchronization", []),
    ]
    assert effects_of(make_plan(state, have, PlanOptions(prune=True)).changes) == [
        ("update", "partner", [MFA]),
        ("delete", "identitySynchronization", ["90e2: identity sync — isSyncAllowed false"]),
    ]


def test_a_sync_policy_that_names_only_its_display_name_leaves_sync_as_it_is() -> None:
    """The sync PATCH sends only what the file names: isSyncAllowed stays true, so no line may say sync
    is switched off (it did, on the partner's change or the sync change)."""
    have = live(LivePartner(FAB, fresh(FAB), {"tenantId": FAB, **SYNC_ON}))
    for name, sync_change in (("fabrikam", "noop"), ("renamed", "update")):
        state = DesiredState({FAB: desired(FAB, trust(True, None, None), {"displayName": name})})
        assert effects_of(make_plan(state, have).changes) == [
            ("update", "partner", [MFA]),
            (sync_change, "identitySynchronization", []),
        ]


def test_ignored_properties_and_sync_keep_their_live_values_in_the_effects() -> None:
    """The partner blocks B2B collaboration today and the file would allow it, but it is ignored (in
    xtap.yaml or in the file): its access stays as it is. So does an ignored sync policy."""
    blocked = {"usersAndGroups": rule("blocked", ("user", "AllUsers")), "applications": ALL_APPS}
    have = live(
        LivePartner(FAB, fresh(FAB, b2bCollaborationInbound=blocked), {"tenantId": FAB, **SYNC_ON}),
        default={"b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}},
    )
    want = {**trust(True, None, None), "b2bCollaborationInbound": None}
    ignored = frozenset({"b2bCollaborationInbound", "identitySynchronization"})
    by_options = make_plan(
        DesiredState({FAB: desired(FAB, want, SYNC_OFF)}), have, PlanOptions(ignore=ignored)
    )
    by_file = make_plan(DesiredState({FAB: desired(FAB, want, SYNC_OFF, ignore=ignored)}), have)
    for plan in (by_options, by_file):
        assert effects_of(plan.changes) == [("update", "partner", [MFA])]


def test_a_partner_goes_from_the_live_default_to_the_files_default() -> None:
    """default.yaml closes B2B collaboration inbound while a partner that inherits it changes its trust:
    the partner's change says it loses access as the default did before; the default's change says it for
    every partner that inherits it. A partner whose own properties do not change claims nothing."""
    closed = {"usersAndGroups": rule("blocked", ("user", "AllUsers")), "applications": ALL_APPS}
    have = live(
        LivePartner(FAB, fresh(FAB)),
        default={
            **trust(True, True, True),
            "b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
        },
    )
    default = DesiredDefault(
        {**trust(False, True, True), "b2bCollaborationInbound": closed}, SourceRef("policies/default.yaml")
    )
    loses = (
        "any user can no longer reach any app by B2B collaboration inbound (before: allowed by the default)"
    )
    plan = make_plan(DesiredState({FAB: desired(FAB, trust(True, None, None))}, default=default), have)
    assert effects_of(plan.changes) == [
        (
            "update",
            "default",
            [
                f"every partner that inherits the default: {loses}",
                "every partner that inherits the default: inbound trust — isMfaAccepted false",
            ],
        ),
        ("update", "partner", [f"90e2: {loses}"]),
    ]
    have_sync = live(LivePartner(FAB, fresh(FAB), {"tenantId": FAB, **SYNC_ON}), default=have.default)
    plan = make_plan(DesiredState({FAB: desired(FAB, {}, SYNC_OFF)}, default=default), have_sync)
    assert effects_of(plan.changes)[1:] == [
        ("noop", "partner", []),
        ("update", "identitySynchronization", ["90e2: identity sync — isSyncAllowed false"]),
    ]
