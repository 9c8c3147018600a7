from __future__ import annotations

import json
from typing import Any

import pytest
from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import model
from reconciler.core.plan import PropertyDiff, from_json, leaf_diffs, to_json
from reconciler.core.planner import PlanOptions, make_plan, planning
from reconciler.core.state import (
    DesiredDefault,
    DesiredPartner,
    DesiredPolicy,
    DesiredState,
    LivePartner,
    LiveState,
    SourceRef,
)
from tests.support import DATA
from tests.support.builders import (
    ALL_APPS,
    ALL_USERS,
    CON,
    CONSENT,
    FAB,
    LIT,
    MTO,
    TRUST,
    URL,
    WOOD,
    apply_locally,
    desired,
    fresh,
    live,
)
from tests.support.strategies import settings_strategy

DEFAULT_URL = "/policies/crossTenantAccessPolicy/default"


def bodies(plan: Any) -> list[tuple[str, str, Any]]:
    return [(r.method, r.url, r.body) for r in plan.requests]


def test_update_page_example_1_yields_exactly_that_body() -> None:
    plan = make_plan(
        DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})}), live(LivePartner(FAB, fresh(FAB)))
    )
    assert bodies(plan) == [("PATCH", f"{URL}/{FAB}", {"inboundTrust": TRUST})]
    assert plan.summary_line() == "Plan: 0 to add, 1 to change, 0 to destroy."


def test_update_page_example_2_yields_exactly_that_body() -> None:
    plan = make_plan(
        DesiredState({FAB: desired(FAB, {"automaticUserConsentSettings": CONSENT})}),
        live(LivePartner(FAB, fresh(FAB))),
    )
    assert bodies(plan) == [("PATCH", f"{URL}/{FAB}", {"automaticUserConsentSettings": CONSENT})]
    assert [(d.path, d.before, d.after) for d in plan.changes[0].diffs] == [
        ("automaticUserConsentSettings.inboundAllowed", None, True),
        ("automaticUserConsentSettings.outboundAllowed", None, True),
    ]


def test_no_false_drift_for_order_case_and_null_members() -> None:
    want = {
        "b2bCollaborationInbound": {
            "usersAndGroups": {
                "accessType": "allowed",
                "targets": [
                    {"target": "6F546279-4DA5-4B53-A095-09EA0CEF9971", "targetType": "group"},
                    {"target": "0a9e8a2b-5e0e-4b0b-9d8c-1c2f3a4b5c6d", "targetType": "user"},
                ],
            },
        }
    }
    have = {
        "b2bCollaborationInbound": {
            "applications": None,
            "usersAndGroups": {
                "targets": [
                    {"targetType": "user", "target": "0A9E8A2B-5E0E-4B0B-9D8C-1C2F3A4B5C6D"},
                    {"targetType": "group", "target": "6f546279-4da5-4b53-a095-09ea0cef9971"},
                ],
                "accessType": "allowed",
            },
        }
    }
    plan = make_plan(DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, fresh(FAB, **have))))
    assert plan.requests == ()
    assert [c.action for c in plan.changes] == ["noop"]


def test_changed_property_is_sent_whole_and_absent_property_goes_back_to_null() -> None:
    have = fresh(
        FAB,
        b2bCollaborationInbound={"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
        inboundTrust={
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": False,
            "isHybridAzureADJoinedDeviceAccepted": None,
        },
    )
    blocked_apps = {**ALL_APPS, "accessType": "blocked"}
    want = {"b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": blocked_apps}}
    plan = make_plan(DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, have)))
    [(method, url, body)] = bodies(plan)
    assert (method, url) == ("PATCH", f"{URL}/{FAB}")
    assert body == {
        "b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": blocked_apps},
        "inboundTrust": None,
    }


def test_a_partial_b2b_setting_goes_out_as_written_without_nulls() -> None:
    want = {"b2bDirectConnectOutbound": {"usersAndGroups": ALL_USERS}}
    plan = make_plan(DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, fresh(FAB))))
    assert bodies(plan)[0][2] == {"b2bDirectConnectOutbound": {"usersAndGroups": ALL_USERS}}


def test_unknown_and_read_only_live_properties_never_diff_or_send() -> None:
    have = fresh(
        FAB, isServiceProvider=True, isInMultiTenantOrganization=True, protectedContentSharing={"x": 1}
    )
    plan = make_plan(DesiredState({FAB: desired(FAB, {})}), live(LivePartner(FAB, have)))
    assert plan.requests == ()


def test_ignore_leaves_a_property_alone() -> None:
    have = fresh(FAB, inboundTrust=TRUST)
    plan = make_plan(
        DesiredState({FAB: desired(FAB, {}, ignore=frozenset({"inboundTrust"}))}),
        live(LivePartner(FAB, have)),
    )
    assert plan.requests == ()
    global_ignore = make_plan(
        DesiredState({FAB: desired(FAB, {})}),
        live(LivePartner(FAB, have)),
        PlanOptions(ignore=frozenset({"inboundTrust"})),
    )
    assert global_ignore.requests == ()


def test_create_posts_every_non_null_property_then_puts_sync() -> None:
    sync = {"userSyncInbound": {"isSyncAllowed": True}}
    plan = make_plan(
        DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST, "b2bCollaborationOutbound": None}, sync)}),
        live(),
    )
    assert [(r.id, r.method, r.url, r.body, r.depends_on) for r in plan.requests] == [
        ("1", "POST", URL, {"tenantId": FAB, "inboundTrust": TRUST}, ()),
        ("2", "PUT", f"{URL}/{FAB}/identitySynchronization", sync, ("1",)),
    ]
    assert plan.summary_line() == "Plan: 2 to add, 0 to change, 0 to destroy."


def test_sync_update_and_create_on_existing_partner() -> None:
    want = {"userSyncInbound": {"isSyncAllowed": False}}
    have = LivePartner(
        FAB, fresh(FAB), {"tenantId": FAB, "displayName": None, "userSyncInbound": {"isSyncAllowed": True}}
    )
    plan = make_plan(DesiredState({FAB: desired(FAB, {}, want)}), live(have))
    assert bodies(plan) == [("PATCH", f"{URL}/{FAB}/identitySynchronization", want)]
    plan = make_plan(DesiredState({FAB: desired(FAB, {}, want)}), live(LivePartner(FAB, fresh(FAB))))
    assert bodies(plan) == [("PUT", f"{URL}/{FAB}/identitySynchronization", want)]


def test_without_prune_live_only_partner_is_unmanaged() -> None:
    plan = make_plan(DesiredState(), live(LivePartner(CON, fresh(CON))))
    assert plan.requests == ()
    [change] = plan.changes
    assert (change.action, change.notes) == (
        "unmanaged",
        ("not in the policy files; deleted only with --prune",),
    )


def test_prune_deletes_sync_before_partner_and_never_mto_or_protected() -> None:
    sync = {"tenantId": CON, "displayName": "x", "userSyncInbound": {"isSyncAllowed": True}}
    prot = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e"
    state = live(
        LivePartner(CON, fresh(CON), sync),
        LivePartner(MTO, fresh(MTO, isInMultiTenantOrganization=True)),
        LivePartner(prot, fresh(prot)),
    )
    plan = make_plan(
        DesiredState({FAB: desired(FAB, {})}), state, PlanOptions(prune=True, protected=frozenset({prot}))
    )
    assert [(r.id, r.method, r.url, r.depends_on) for r in plan.requests] == [
        ("1", "POST", URL, ()),
        ("2", "DELETE", f"{URL}/{CON}/identitySynchronization", ()),
        ("3", "DELETE", f"{URL}/{CON}", ("2",)),
    ]
    notes = {c.tenant_id: c.notes for c in plan.changes if c.action == "unmanaged"}
    assert notes == {
        MTO: ("never deleted (a multitenant organization member, isInMultiTenantOrganization)",),
        prot: ("never deleted (listed in protectedPartners)",),
    }


def test_sync_removal_needs_prune() -> None:
    have = LivePartner(FAB, fresh(FAB), {"tenantId": FAB, "userSyncInbound": {"isSyncAllowed": True}})
    assert [c.action for c in make_plan(DesiredState({FAB: desired(FAB, {})}), live(have)).changes] == [
        "noop",
        "unmanaged",
    ]
    pruned = make_plan(DesiredState({FAB: desired(FAB, {})}), live(have), PlanOptions(prune=True))
    assert bodies(pruned) == [("DELETE", f"{URL}/{FAB}/identitySynchronization", None)]


def test_default_manages_only_named_properties() -> None:
    live_default = {
        "inboundTrust": {"isMfaAccepted": False},
        "b2bCollaborationInbound": {"usersAndGroups": ALL_USERS},
    }
    want = DesiredDefault({"inboundTrust": TRUST}, SourceRef("policies/default.yaml"))
    plan = make_plan(DesiredState({}, want), live(default=live_default))
    assert bodies(plan) == [("PATCH", "/policies/crossTenantAccessPolicy/default", {"inboundTrust": TRUST})]


def test_safety_gates() -> None:
    partners = [
        LivePartner(f"00000000-0000-4000-8000-{i:012d}", fresh(f"00000000-0000-4000-8000-{i:012d}"))
        for i in range(10)
    ]
    state = live(*partners)
    pruned = make_plan(
        DesiredState({partners[0].tenant_id: desired(partners[0].tenant_id, {})}),
        state,
        PlanOptions(prune=True),
    )
    assert pruned.refusals == ("9 partner deletions exceed maxDeletes (5)",)
    assert pruned.refused
    forced = make_plan(
        DesiredState({partners[0].tenant_id: desired(partners[0].tenant_id, {})}),
        state,
        PlanOptions(prune=True, force=True),
    )
    assert forced.refusals and not forced.refused
    all_change = DesiredState(
        {p.tenant_id: desired(p.tenant_id, {"inboundTrust": TRUST}) for p in partners[:4]}
    )
    plan = make_plan(all_change, state)
    assert plan.refusals == ("4 of 10 existing partners would change, more than 30 %",)
    three = DesiredState({p.tenant_id: desired(p.tenant_id, {"inboundTrust": TRUST}) for p in partners[:3]})
    assert make_plan(three, state).refusals == ()
    empty = make_plan(DesiredState(), state, PlanOptions(prune=True, max_deletes=100))
    assert empty.refusals == (
        "the policy files declare no partners and prune is on: this would delete every partner",
    )


def test_plan_json_round_trip() -> None:
    plan = make_plan(
        DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})}), live(LivePartner(CON, fresh(CON)))
    )
    assert from_json(to_json(plan)) == plan


# --- property: apply(plan(desired, live)) then plan again is empty, and bodies are minimal ---


@settings(max_examples=200, deadline=None)
@given(want=settings_strategy, have=settings_strategy, merge=st.booleans())
def test_plan_apply_plan_is_empty_and_bodies_minimal(
    want: dict[str, Any], have: dict[str, Any], merge: bool
) -> None:
    raw = fresh(FAB, **have)
    plan = make_plan(DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, raw)))
    for request in plan.requests:
        assert request.body is not None
        for name in request.body:  # minimal: only properties that differ
            assert not model.equal(
                "crossTenantAccessPolicyConfigurationPartner", name, want.get(name), raw.get(name)
            )
        raw = apply_locally(raw, dict(request.body), merge=merge)
    again = make_plan(DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, raw)))
    assert again.requests == ()


# --- an independent oracle: the planner's leaf diffs against DeepDiff's on the same canonical values ------


def _prefixes(path: list[Any]) -> str:
    """DeepDiff's path up to the first list index (the planner treats lists as leaves), dotted."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            break
        parts.append(str(part))
    return ".".join(parts)


@settings(max_examples=300, deadline=None)
@given(want=settings_strategy, have=settings_strategy)
def test_leaf_diffs_agree_with_deepdiff(want: dict[str, Any], have: dict[str, Any]) -> None:
    owner = "crossTenantAccessPolicyConfigurationPartner"
    for name in ("b2bCollaborationInbound", "inboundTrust", "automaticUserConsentSettings"):
        before = model.canonical_property(owner, name, have.get(name))
        after = model.canonical_property(owner, name, want.get(name))
        ours = list(leaf_diffs(name, before, after))
        theirs = DeepDiff({name: before}, {name: after}, view="tree")
        changed = {_prefixes(item.path(output_format="list")) for items in theirs.values() for item in items}
        assert bool(ours) == bool(changed)
        # Every leaf we report lies under a place DeepDiff saw change, and every such place holds one of ours.
        for diff in ours:
            assert any(diff.path == c or diff.path.startswith(c + ".") for c in changed), (diff, changed)
            assert (diff.before, diff.after) == (
                model.value_at({name: before}, diff.path),
                model.value_at({name: after}, diff.path),
            )
        for place in changed:
            assert any(d.path == place or d.path.startswith(place + ".") for d in ours), (place, ours)


def test_microsofts_create_example_goes_out_as_documented() -> None:
    """The v1.0 Create page's example: only what it sets, in its order, not one null added."""
    examples = json.loads((DATA / "emulator" / "graph_doc_examples.json").read_text(encoding="utf-8"))
    [example] = examples["partner_create"]["examples"]
    tid = example["tenantId"]
    properties = {k: v for k, v in example.items() if k != "tenantId"}
    plan = make_plan(DesiredState({tid: desired(tid, properties)}), live())
    [request] = plan.requests
    assert (request.method, request.url) == ("POST", URL)
    assert json.dumps(request.body) == json.dumps(example)


def test_a_new_partner_posts_what_the_create_page_documents_and_patches_the_rest() -> None:
    tr = {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}
    want = {"tenantRestrictions": tr, "inboundTrust": TRUST, "m365CollaborationInbound": {"users": ALL_USERS}}
    sync = {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
    plan = make_plan(DesiredState({FAB: desired(FAB, want, sync)}), live())
    assert [(r.id, r.method, r.url, r.body, r.depends_on) for r in plan.requests] == [
        ("1", "POST", URL, {"tenantId": FAB, "inboundTrust": TRUST}, ()),
        (
            "2",
            "PATCH",
            f"{URL}/{FAB}",
            {"tenantRestrictions": tr, "m365CollaborationInbound": {"users": ALL_USERS}},
            ("1",),
        ),
        ("3", "PUT", f"{URL}/{FAB}/identitySynchronization", sync, ("2",)),
    ]


def test_emptying_a_member_the_tenant_has_set_goes_in_two_steps_and_says_so() -> None:
    apps = {"accessType": "blocked", "targets": [{"target": "Office365", "targetType": "application"}]}
    have = fresh(
        FAB, b2bCollaborationInbound={"usersAndGroups": ALL_USERS, "applications": apps}, inboundTrust=TRUST
    )
    want = {
        "b2bCollaborationInbound": {"usersAndGroups": ALL_USERS},
        "inboundTrust": {**TRUST, "isMfaAccepted": False},
    }
    plan = make_plan(DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, have)))
    assert [(r.id, r.method, r.url, r.body, r.depends_on) for r in plan.requests] == [
        ("1", "PATCH", f"{URL}/{FAB}", {"b2bCollaborationInbound": None}, ()),
        (
            "2",
            "PATCH",
            f"{URL}/{FAB}",
            {"b2bCollaborationInbound": {"usersAndGroups": ALL_USERS}, "inboundTrust": want["inboundTrust"]},
            ("1",),
        ),
    ]
    [change] = plan.changes
    assert change.notes == (
        "b2bCollaborationInbound is sent in two steps (null, then the new value) to empty "
        "b2bCollaborationInbound.applications, which the tenant has set",
    )


def test_a_member_graph_returns_but_the_metadata_does_not_know_never_loops() -> None:
    network = {**TRUST, "isCompliantNetworkAccepted": True}
    state = DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})})
    assert make_plan(state, live(LivePartner(FAB, fresh(FAB, inboundTrust=network)))).requests == ()
    # Changed: the body never carries the unknown member back, and the plan warns that Graph may drop it.
    changed = DesiredState({FAB: desired(FAB, {"inboundTrust": {**TRUST, "isMfaAccepted": False}})})
    plan = make_plan(changed, live(LivePartner(FAB, fresh(FAB, inboundTrust=network))))
    [request] = plan.requests
    assert request.body == {"inboundTrust": {**TRUST, "isMfaAccepted": False}}
    assert plan.changes[0].notes == (
        "Graph may drop inboundTrust.isCompliantNetworkAccepted (not in the Graph v1.0 metadata, so xtap "
        "cannot send it back) when it replaces inboundTrust",
    )


def test_service_providers_and_the_microsoft_support_tenant_are_never_deleted() -> None:
    support = "b4c546a4-7dac-46a6-a7dd-ed822a11efd3"
    sync = {"tenantId": support, "displayName": "x", "userSyncInbound": {"isSyncAllowed": True}}
    state = live(
        LivePartner(CON, fresh(CON, isServiceProvider=True), {**sync, "tenantId": CON}),
        LivePartner(support, fresh(support), sync),
    )
    plan = make_plan(DesiredState(), state, PlanOptions(prune=True, force=True))
    assert plan.requests == ()
    assert {c.tenant_id: c.notes for c in plan.changes} == {
        CON: ("never deleted (a service provider, isServiceProvider: Microsoft manages it)",),
        support: ("never deleted (the Microsoft Support tenant, added by Microsoft during a support case)",),
    }


def test_a_declared_partner_that_is_never_deleted_keeps_its_sync_policy_under_prune() -> None:
    sync = {"tenantId": MTO, "displayName": "x", "userSyncInbound": {"isSyncAllowed": True}}
    have = live(LivePartner(MTO, fresh(MTO, isInMultiTenantOrganization=True), sync))
    plan = make_plan(DesiredState({MTO: desired(MTO, {})}), have, PlanOptions(prune=True))
    assert plan.requests == ()
    assert [(c.action, c.resource, c.notes) for c in plan.changes] == [
        ("noop", "partner", ()),
        (
            "unmanaged",
            "identitySynchronization",
            (
                "the file has no identitySynchronization; never deleted "
                "(a multitenant organization member, isInMultiTenantOrganization)",
            ),
        ),
    ]


def test_sync_policy_deletions_count_against_max_deletes() -> None:
    sync = {"tenantId": FAB, "displayName": "x", "userSyncInbound": {"isSyncAllowed": True}}
    have = live(LivePartner(FAB, fresh(FAB), sync), LivePartner(CON, fresh(CON)))
    plan = make_plan(DesiredState({FAB: desired(FAB, {})}), have, PlanOptions(prune=True, max_deletes=1))
    assert [(c.action, c.resource, c.tenant_id) for c in plan.deletions] == [
        ("delete", "identitySynchronization", FAB),
        ("delete", "partner", CON),
    ]
    assert plan.refusals == ("2 deletions (1 partner, 1 identity-sync policy) exceed maxDeletes (1)",)


def test_partners_without_a_file_are_named_by_their_display_name() -> None:
    have = live(LivePartner(CON, fresh(CON)))
    plan = make_plan(DesiredState(), have, PlanOptions(prune=True), names={CON: "Contoso Ltd"})
    assert [(c.name, c.tenant_id) for c in plan.changes] == [("Contoso Ltd", CON)]


def test_every_change_says_who_gains_or_loses_access() -> None:
    group = "6f546279-4da5-4b53-a095-09ea0cef9971"
    default = {
        "b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
        "b2bDirectConnectInbound": {
            "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
            "applications": {**ALL_APPS, "accessType": "blocked"},
        },
    }
    want = {
        "b2bCollaborationInbound": {
            "usersAndGroups": {
                "accessType": "allowed",
                "targets": [{"target": group, "targetType": "group"}],
            },
            "applications": ALL_APPS,
        },
        "b2bDirectConnectInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
        "inboundTrust": {
            **TRUST,
            "isCompliantDeviceAccepted": False,
            "isHybridAzureADJoinedDeviceAccepted": False,
        },
    }
    plan = make_plan(
        DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, fresh(FAB)), default=default)
    )
    [change] = plan.changes
    name = change.name
    assert [(e.channel, e.direction, e.impact, e.summary) for e in change.effects] == [
        (
            "b2b-direct-connect",
            "inbound",
            "widens",
            f"{name}: any user may now reach any app by B2B direct connect inbound (before: blocked by the default)",
        ),
        ("inbound-trust", None, "widens", f"{name}: inbound trust — isMfaAccepted true"),
        (
            "b2b-collaboration",
            "inbound",
            "narrows",
            f"{name}: any other user can no longer reach any app by B2B collaboration inbound "
            "(before: allowed by the default)",
        ),
    ]


def test_people_who_keep_an_app_are_never_said_to_lose_it() -> None:
    """From everyone to every app, to one group and Office 365: the group's members keep Office 365, so
    they lose only the other apps, and the sentence about everyone else is a sentence of its own."""
    group = "6f546279-4da5-4b53-a095-09ea0cef9971"
    before = {"b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}}
    after = {
        "b2bCollaborationInbound": {
            "usersAndGroups": {
                "accessType": "allowed",
                "targets": [{"target": group, "targetType": "group"}],
            },
            "applications": {
                "accessType": "allowed",
                "targets": [{"target": "Office365", "targetType": "application"}],
            },
        }
    }
    plan = make_plan(DesiredState({FAB: desired(FAB, after)}), live(LivePartner(FAB, fresh(FAB, **before))))
    [change] = plan.changes
    assert [e.summary for e in change.effects] == [
        f"{change.name}: any other user can no longer reach any app by B2B collaboration inbound (before: "
        f"allowed by the partner's setting); a member of {group} can no longer reach any other app by B2B "
        "collaboration inbound (before: allowed by the partner's setting)"
    ]


def test_a_deleted_partner_falls_back_to_the_default_and_a_default_change_reaches_every_inheriting_partner() -> (
    None
):
    have = live(
        LivePartner(
            CON, fresh(CON, b2bCollaborationInbound={"usersAndGroups": ALL_USERS, "applications": ALL_APPS})
        ),
        default={},
    )
    plan = make_plan(DesiredState(), have, PlanOptions(prune=True, force=True))
    [change] = plan.changes
    assert [(e.channel, e.impact) for e in change.effects] == [("b2b-collaboration", "narrows")]
    state = DesiredState(default=DesiredDefault({"inboundTrust": TRUST}, SourceRef("policies/default.yaml")))
    [default_change] = make_plan(state, live(default={})).changes
    assert [e.summary for e in default_change.effects] == [
        "every partner that inherits the default: inbound trust — isMfaAccepted true, "
        "isCompliantDeviceAccepted true, isHybridAzureADJoinedDeviceAccepted true"
    ]


def test_a_refusal_counts_partners_and_sync_policies_in_words() -> None:
    """Two partners and their sync policies to delete: the approver reads "2 partners", not "2 partner"."""
    sync = {"displayName": "x", "userSyncInbound": {"isSyncAllowed": True}}
    have = live(LivePartner(FAB, fresh(FAB), {"tenantId": FAB, **sync}), LivePartner(CON, fresh(CON), sync))
    plan = make_plan(DesiredState(), have, PlanOptions(prune=True, max_deletes=3))
    assert plan.refusals == (
        "4 deletions (2 partners, 2 identity-sync policies) exceed maxDeletes (3)",
        "the policy files declare no partners and prune is on: this would delete every partner",
    )


def test_an_ignore_in_default_yaml_or_in_xtap_yaml_leaves_the_default_alone() -> None:
    """Either list is enough: the default file's own `ignore`, and xtap.yaml's (PlanOptions.ignore)."""
    live_default = {"inboundTrust": {"isMfaAccepted": False}}
    source = SourceRef("policies/default.yaml")
    own = DesiredDefault({"inboundTrust": TRUST}, source, ignore=frozenset({"inboundTrust"}))
    assert make_plan(DesiredState({}, own), live(default=live_default)).requests == ()
    by_config = DesiredDefault({"inboundTrust": TRUST}, source)
    options = PlanOptions(ignore=frozenset({"inboundTrust"}))
    assert make_plan(DesiredState({}, by_config), live(default=live_default), options).requests == ()
    assert bodies(make_plan(DesiredState({}, by_config), live(default=live_default))) == [
        ("PATCH", "/policies/crossTenantAccessPolicy/default", {"inboundTrust": TRUST})
    ]


def test_what_inherit_means_in_a_plan_is_the_default_after_the_apply() -> None:
    """default.yaml turns MFA trust on: a partner that inherits is shown inheriting *that*, not the
    tenant's current default."""
    live_default = {"inboundTrust": {"isMfaAccepted": False}}
    want = DesiredDefault({"inboundTrust": {"isMfaAccepted": True}}, SourceRef("policies/default.yaml"))
    plan = make_plan(DesiredState({}, want), live(default=live_default))
    assert plan.defaults["inboundTrust"]["isMfaAccepted"] is True


def _shown(plan: Any) -> list[tuple[Any, ...]]:
    """Everything a change tells a reviewer: what, which resource, whose, from which file, why, which leaves,
    and the requests (id, method, url, what they wait for)."""
    return [
        (
            c.action,
            c.resource,
            c.name,
            c.tenant_id,
            c.source,
            c.description,
            c.notes,
            [(d.path, d.before, d.after) for d in c.diffs],
            [(r.id, r.method, r.url, r.depends_on) for r in c.requests],
        )
        for c in plan.changes
    ]


def test_every_change_names_its_partner_file_and_leaves_with_and_without_prune() -> None:
    """fabrikam's sync policy changes, contoso has one its file doesn't declare, Litware has no file: each
    line of the plan says whose it is, where it is declared, why nothing happens, and what goes."""
    fab_sync = {"tenantId": FAB, "displayName": "fab sync", "userSyncInbound": {"isSyncAllowed": True}}
    con_sync = {"tenantId": CON, "displayName": None, "userSyncInbound": {"isSyncAllowed": False}}
    lit_sync = {"tenantId": LIT, "displayName": "lit", "userSyncInbound": {"isSyncAllowed": True}}
    state = live(
        LivePartner(FAB, fresh(FAB), fab_sync),
        LivePartner(CON, fresh(CON, inboundTrust=TRUST), con_sync),
        LivePartner(LIT, fresh(LIT, inboundTrust={"isMfaAccepted": True}), lit_sync),
    )
    want = DesiredState(
        {
            FAB: desired(FAB, {}, {"userSyncInbound": {"isSyncAllowed": False}}, description="Fabrikam"),
            CON: desired(CON, {"inboundTrust": TRUST}),
        }
    )
    fab = ("90e2", FAB, "policies/partners/90e2.yaml:1:1", "Fabrikam")
    con = ("9c5d", CON, "policies/partners/9c5d.yaml:1:1", None)
    lit = ("Litware", LIT, None, None)
    sync_url = f"{URL}/{{}}/identitySynchronization"
    fab_changes = [
        ("noop", "partner", *fab, (), [], []),
        (
            "update",
            "identitySynchronization",
            *fab,
            (),
            [("identitySynchronization.userSyncInbound.isSyncAllowed", True, False)],
            [("1", "PATCH", sync_url.format(FAB), ())],
        ),
        ("noop", "partner", *con, (), [], []),
    ]
    plan = make_plan(want, state, names={LIT: "Litware"})
    assert _shown(plan) == [
        *fab_changes,
        (
            "unmanaged",
            "identitySynchronization",
            *con,
            ("the file has no identitySynchronization; removed only with --prune",),
            [],
            [],
        ),
        ("unmanaged", "partner", *lit, ("not in the policy files; deleted only with --prune",), [], []),
    ]
    pruned = make_plan(want, state, PlanOptions(prune=True), names={LIT: "Litware"})
    assert _shown(pruned) == [
        *fab_changes,
        (
            "delete",
            "identitySynchronization",
            *con,
            (),
            [("identitySynchronization.userSyncInbound.isSyncAllowed", False, None)],
            [("2", "DELETE", sync_url.format(CON), ())],
        ),
        (
            "delete",
            "identitySynchronization",
            *lit,
            (),
            [
                ("identitySynchronization.displayName", "lit", None),
                ("identitySynchronization.userSyncInbound.isSyncAllowed", True, None),
            ],
            [("3", "DELETE", sync_url.format(LIT), ())],
        ),
        (
            "delete",
            "partner",
            *lit,
            (),
            [("inboundTrust.isMfaAccepted", True, None)],
            [("4", "DELETE", f"{URL}/{LIT}", ("3",))],
        ),
    ]


def test_a_setting_replaced_by_a_plain_value_is_one_change_not_removed_leaves() -> None:
    """An object on one side and a scalar or a list on the other: the reviewer sees the whole value change
    at that path, not each leaf of the object "removed" (the new value would be lost from the plan)."""
    assert list(leaf_diffs("x", {"a": 1, "b": {"c": 2}}, "plain")) == [
        PropertyDiff("x", {"a": 1, "b": {"c": 2}}, "plain")
    ]
    assert list(leaf_diffs("x", ["AllUsers"], {"a": 1})) == [PropertyDiff("x", ["AllUsers"], {"a": 1})]
    assert list(leaf_diffs("x", None, {"a": 1, "b": None})) == [PropertyDiff("x.a", None, 1)]


def test_a_new_partner_posts_what_its_file_sets_and_nothing_it_ignores_or_inherits() -> None:
    """The file inherits b2bCollaborationOutbound (written first, as null), sets trust and consent, and
    its own `ignore` names consent; xtap.yaml ignores tenantRestrictions. The plan names the file and its
    description, and shows each leaf it sets."""
    props = {
        "b2bCollaborationOutbound": None,
        "inboundTrust": {"isMfaAccepted": True},
        "automaticUserConsentSettings": CONSENT,
        "tenantRestrictions": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
    }
    sync = {"userSyncInbound": {"isSyncAllowed": True}}
    mine = desired(
        FAB, props, sync, description="Fabrikam", ignore=frozenset({"automaticUserConsentSettings"})
    )
    options = PlanOptions(ignore=frozenset({"tenantRestrictions"}))
    plan = make_plan(DesiredState({FAB: mine}), live(), options)
    where = ("90e2", FAB, "policies/partners/90e2.yaml:1:1", "Fabrikam")
    assert _shown(plan) == [
        (
            "create",
            "partner",
            *where,
            (),
            [("inboundTrust.isMfaAccepted", None, True)],
            [("1", "POST", URL, ())],
        ),
        (
            "create",
            "identitySynchronization",
            *where,
            (),
            [("identitySynchronization.userSyncInbound.isSyncAllowed", None, True)],
            [("2", "PUT", f"{URL}/{FAB}/identitySynchronization", ("1",))],
        ),
    ]
    assert bodies(plan) == [
        ("POST", URL, {"tenantId": FAB, "inboundTrust": {"isMfaAccepted": True}}),
        ("PUT", f"{URL}/{FAB}/identitySynchronization", sync),
    ]


def test_members_graph_returns_that_xtap_does_not_manage_never_show_as_changes() -> None:
    """A sync policy and a deleted partner carry members the metadata doesn't know: the sync policy is not
    patched for them, and the deletion lists only the managed leaves it removes."""
    sync = {"tenantId": FAB, "displayName": None, "userSyncInbound": {"isSyncAllowed": True, "isNew": 1}}
    have = live(
        LivePartner(FAB, fresh(FAB), sync),
        LivePartner(
            CON, fresh(CON, inboundTrust={"isMfaAccepted": True, "isCompliantNetworkAccepted": True})
        ),
    )
    want = DesiredState({FAB: desired(FAB, {}, {"userSyncInbound": {"isSyncAllowed": True}})})
    plan = make_plan(want, have, PlanOptions(prune=True))
    assert [(c.action, c.resource, [(d.path, d.before, d.after) for d in c.diffs]) for c in plan.changes] == [
        ("noop", "partner", []),
        ("noop", "identitySynchronization", []),
        ("delete", "partner", [("inboundTrust.isMfaAccepted", True, None)]),
    ]


def test_a_sync_policy_added_to_an_existing_partner_shows_the_leaves_it_sets() -> None:
    want = {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
    plan = make_plan(DesiredState({FAB: desired(FAB, {}, want)}), live(LivePartner(FAB, fresh(FAB))))
    assert [(c.action, c.resource, [(d.path, d.before, d.after) for d in c.diffs]) for c in plan.changes] == [
        ("noop", "partner", []),
        (
            "create",
            "identitySynchronization",
            [
                ("identitySynchronization.displayName", None, "Fabrikam"),
                ("identitySynchronization.userSyncInbound.isSyncAllowed", None, True),
            ],
        ),
    ]


def test_a_replacing_patch_keeps_what_xtap_does_not_own_and_says_what_graph_may_drop() -> None:
    """tenantRestrictions.devices is known but not managed: the PATCH sends it back as the tenant has it.
    Members the metadata doesn't know can't be sent back: the plan names them, and every member the new
    value empties (two steps)."""
    devices = {"mode": "x", "rule": "y"}
    trust = {**TRUST, "isNew": 1, "isNewer": 2}
    have = fresh(
        FAB, tenantRestrictions={"usersAndGroups": ALL_USERS, "devices": devices}, inboundTrust=trust
    )
    want = {
        "tenantRestrictions": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
        "inboundTrust": {"isMfaAccepted": False},
    }
    plan = make_plan(DesiredState({FAB: desired(FAB, want)}), live(LivePartner(FAB, have)))
    assert bodies(plan) == [
        ("PATCH", f"{URL}/{FAB}", {"inboundTrust": None}),
        (
            "PATCH",
            f"{URL}/{FAB}",
            {
                "tenantRestrictions": {**want["tenantRestrictions"], "devices": devices},
                "inboundTrust": want["inboundTrust"],
            },
        ),
    ]
    [change] = plan.changes
    assert change.notes == (
        "inboundTrust is sent in two steps (null, then the new value) to empty "
        "inboundTrust.isCompliantDeviceAccepted, inboundTrust.isHybridAzureADJoinedDeviceAccepted, which the tenant has set",
        "Graph may drop inboundTrust.isNew, inboundTrust.isNewer (not in the Graph v1.0 metadata, so xtap cannot "
        "send it back) when it replaces inboundTrust",
    )


def test_a_sync_policy_update_says_what_graph_may_drop() -> None:
    have = {"tenantId": FAB, "displayName": None, "userSyncInbound": {"isSyncAllowed": True, "isNew": 1}}
    want = DesiredState({FAB: desired(FAB, {}, {"userSyncInbound": {"isSyncAllowed": False}})})
    plan = make_plan(want, live(LivePartner(FAB, fresh(FAB), have)))
    assert [(c.action, c.resource, c.notes) for c in plan.changes] == [
        ("noop", "partner", ()),
        (
            "update",
            "identitySynchronization",
            (
                "Graph may drop userSyncInbound.isNew (not in the Graph v1.0 metadata, so xtap cannot send it "
                "back) when it replaces userSyncInbound",
            ),
        ),
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("policies/partners/contoso.yaml", "contoso"),
        ("policies/partners/contoso.ltd.yaml", "contoso.ltd"),
        ("policies\\partners\\fabrikam.yml", "fabrikam"),
        ("policies/partners/emea/north/woodgrove.yaml", "woodgrove"),
        ("README", "README"),
    ],
)
def test_a_partner_is_named_after_its_file(path: str, name: str) -> None:
    mine = DesiredPartner(FAB, {"inboundTrust": TRUST}, None, SourceRef(path))
    plan = make_plan(DesiredState({FAB: mine}), live(LivePartner(FAB, fresh(FAB))))
    assert [(c.name, c.source) for c in plan.changes] == [(name, f"{path}:1:1")]


def test_the_default_change_names_default_yaml_and_keeps_what_xtap_does_not_own() -> None:
    devices = {"mode": "x"}
    blocked = {"usersAndGroups": ALL_USERS, "devices": devices}
    want = DesiredDefault(
        {"tenantRestrictions": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}},
        SourceRef("policies/default.yaml"),
    )
    plan = make_plan(DesiredState({}, want), live(default={"tenantRestrictions": blocked}))
    assert [(c.action, c.resource, c.name, c.source) for c in plan.changes] == [
        ("update", "default", "default", "policies/default.yaml:1:1")
    ]
    assert bodies(plan) == [
        (
            "PATCH",
            DEFAULT_URL,
            {"tenantRestrictions": {**want.properties["tenantRestrictions"], "devices": devices}},
        )
    ]
    same = make_plan(
        DesiredState({}, want), live(default={"tenantRestrictions": want.properties["tenantRestrictions"]})
    )
    assert [(c.action, c.resource, c.name, c.source) for c in same.changes] == [
        ("noop", "default", "default", "policies/default.yaml:1:1")
    ]


def test_policy_yaml_plans_the_root_policy_first_and_only_what_it_names() -> None:
    """allowedCloudEndpoints comes before any partner (a partner in another cloud needs it); the policy's
    other properties (displayName) are not the file's business."""
    mine = DesiredPolicy({"allowedCloudEndpoints": ["microsoftonline.us"]}, SourceRef("policies/policy.yaml"))
    want = DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})}, None, mine)
    have = LiveState(
        {FAB: LivePartner(FAB, fresh(FAB))}, {}, {"allowedCloudEndpoints": [], "displayName": "x"}
    )
    plan = make_plan(want, have)
    where = ("policy", None, "policies/policy.yaml:1:1", None)
    assert _shown(plan)[0] == (
        "update",
        "policy",
        *where,
        (),
        [("allowedCloudEndpoints", [], ["microsoftonline.us"])],
        [("1", "PATCH", "/policies/crossTenantAccessPolicy", ())],
    )
    assert bodies(plan)[0] == (
        "PATCH",
        "/policies/crossTenantAccessPolicy",
        {"allowedCloudEndpoints": ["microsoftonline.us"]},
    )
    same = LiveState({}, {}, {"allowedCloudEndpoints": ["microsoftonline.us"], "displayName": "y"})
    assert _shown(make_plan(DesiredState({}, None, mine), same)) == [("noop", "policy", *where, (), [], [])]


def test_a_default_change_in_two_steps_says_so() -> None:
    want = DesiredDefault({"inboundTrust": {"isMfaAccepted": True}}, SourceRef("policies/default.yaml"))
    plan = make_plan(DesiredState({}, want), live(default={"inboundTrust": TRUST}))
    assert [(c.resource, c.notes) for c in plan.changes] == [
        (
            "default",
            (
                "inboundTrust is sent in two steps (null, then the new value) to empty "
                "inboundTrust.isCompliantDeviceAccepted, inboundTrust.isHybridAzureADJoinedDeviceAccepted, "
                "which the tenant has set",
            ),
        )
    ]
    assert bodies(plan) == [
        ("PATCH", DEFAULT_URL, {"inboundTrust": None}),
        ("PATCH", DEFAULT_URL, {"inboundTrust": {"isMfaAccepted": True}}),
    ]


def test_an_update_s_effects_start_from_what_the_partner_has_now() -> None:
    """The partner blocks B2B collaboration today and its file allows it, as the default does: the plan
    says access widens (from the partner's own block), not that nothing changes."""
    blocked = {
        "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
        "applications": {**ALL_APPS, "accessType": "blocked"},
    }
    allowed = {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}
    have = live(
        LivePartner(FAB, fresh(FAB, b2bCollaborationInbound=blocked)),
        default={"b2bCollaborationInbound": allowed},
    )
    plan = make_plan(DesiredState({FAB: desired(FAB, {"b2bCollaborationInbound": allowed})}), have)
    [change] = plan.changes
    assert [(e.channel, e.direction, e.impact, e.summary) for e in change.effects] == [
        (
            "b2b-collaboration",
            "inbound",
            "widens",
            "90e2: any user may now reach any app by B2B collaboration inbound (before: blocked by the partner's setting)",
        )
    ]


def test_a_plan_names_the_tenant_it_was_made_for() -> None:
    """The name and id from xtap.yaml's tenants go into the plan, its JSON and the apply prompt."""
    tenant = "3f2b1a7c-1111-4c2d-9e8f-0a1b2c3d4e5f"
    options = PlanOptions(tenant_name="contoso-prod", tenant_id=tenant)
    plan = make_plan(DesiredState(), live(), options)
    assert (plan.tenant_name, plan.tenant_id) == ("contoso-prod", tenant)
    assert to_json(plan)["tenant"] == {"name": "contoso-prod", "id": tenant}


def test_the_allowed_clouds_are_a_set_written_in_any_order() -> None:
    """Graph may list the clouds in another order than policy.yaml: that is no change to send (it was one,
    on every plan, before the top-level set was compared as a set)."""
    clouds = ["microsoftonline.us", "partner.microsoftonline.cn"]
    mine = DesiredPolicy({"allowedCloudEndpoints": clouds[::-1]}, SourceRef("policies/policy.yaml"))
    plan = make_plan(DesiredState({}, None, mine), LiveState({}, {}, {"allowedCloudEndpoints": clouds}))
    assert [(c.action, c.resource) for c in plan.changes] == [("noop", "policy")]
    assert plan.requests == ()


def test_the_default_a_plan_shows_has_consent_and_only_what_xtap_manages() -> None:
    """What "inherit" resolves to includes the default's automatic consent (read-only there, but inherited)
    and leaves out members xtap does not manage (tenantRestrictions.devices)."""
    consent = {"inboundAllowed": False, "outboundAllowed": False}
    restrictions = {"usersAndGroups": ALL_USERS, "devices": {"mode": "x"}}
    plan = make_plan(
        DesiredState(),
        live(default={"automaticUserConsentSettings": consent, "tenantRestrictions": restrictions}),
    )
    assert plan.defaults == {
        "automaticUserConsentSettings": consent,
        "tenantRestrictions": {"usersAndGroups": ALL_USERS},
    }


def test_a_setting_is_located_at_its_nearest_written_key() -> None:
    """Messages point at the line of the deepest key the file writes on the way to a setting."""
    where = {"inboundTrust": (3, 1), "inboundTrust.isMfaAccepted": (4, 3)}
    mine = DesiredPartner(FAB, {}, None, SourceRef("policies/partners/fab.yaml", 2, 1), locations=where)
    default = DesiredDefault(
        {}, SourceRef("policies/default.yaml"), locations={"b2bCollaborationInbound": (7, 1)}
    )
    assert str(mine.where("inboundTrust.isMfaAccepted")) == "policies/partners/fab.yaml:4:3"
    assert str(mine.where("inboundTrust.isCompliantDeviceAccepted")) == "policies/partners/fab.yaml:3:1"
    assert str(mine.where("b2bCollaborationInbound.usersAndGroups")) == "policies/partners/fab.yaml:1:1"
    assert str(default.where("b2bCollaborationInbound.applications.targets")) == "policies/default.yaml:7:1"


# --- planning page by page (`planning`): the plan is make_plan's whatever the pages ---------------------

WOOD_SYNC = {"tenantId": WOOD, "displayName": "wood", "userSyncInbound": {"isSyncAllowed": True}}


def _paged_tenant() -> tuple[DesiredState, LiveState]:
    """Updates, a noop, a create, a sync change, a removal (two requests, chained) and a default change:
    every partner's requests take ids after the ones before it in the plan's order (by file name)."""
    want = DesiredState(
        {
            FAB: desired(FAB, {"inboundTrust": TRUST}, {"userSyncInbound": {"isSyncAllowed": False}}),
            CON: desired(CON, {"automaticUserConsentSettings": CONSENT}),
            MTO: desired(MTO, {}),
            LIT: desired(LIT, {"inboundTrust": TRUST, "m365CollaborationInbound": {"users": ALL_USERS}}),
        },
        DesiredDefault({"inboundTrust": {"isMfaAccepted": True}}, SourceRef("policies/default.yaml")),
    )
    state = live(
        LivePartner(FAB, fresh(FAB), {"tenantId": FAB, "userSyncInbound": {"isSyncAllowed": True}}),
        LivePartner(CON, fresh(CON)),
        LivePartner(MTO, fresh(MTO)),
        LivePartner(WOOD, fresh(WOOD, inboundTrust=TRUST), WOOD_SYNC),
        default={"inboundTrust": {"isMfaAccepted": False}},
    )
    return want, state


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_plan_made_page_by_page_is_make_plans_in_any_order(data: st.DataObject) -> None:
    want, state = _paged_tenant()
    options = PlanOptions(prune=True, force=True)
    order = data.draw(st.permutations(list(state.partners.values())))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(order) - 1))))
    pages = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    with planning(want, options) as plans:
        for page in pages:
            plans.add(state.default, page)
        paged = plans.plan(state, names={WOOD: "Woodgrove"})
    whole = make_plan(want, state, options, names={WOOD: "Woodgrove"})
    assert to_json(paged) == to_json(whole)
    assert [(c.name, [(r.id, r.method, r.depends_on) for r in c.requests]) for c in paged.changes] == [
        ("default", [("1", "PATCH", ())]),
        ("123f", []),  # MTO: a noop
        ("90e2", [("2", "PATCH", ())]),  # FAB: trust, then its sync policy
        ("90e2", [("3", "PATCH", ())]),
        ("9c5d", [("4", "PATCH", ())]),  # CON: consent
        ("a1b2", [("5", "POST", ()), ("6", "PATCH", ("5",))]),  # LIT: created, then what POST does not take
        ("Woodgrove", [("7", "DELETE", ())]),  # no file: its sync policy goes first, then the partner
        ("Woodgrove", [("8", "DELETE", ("7",))]),
    ]


def test_a_partner_read_again_or_under_another_default_is_planned_again() -> None:
    """What a page planned is kept only for the very partner object the plan is made against, under the
    same default: a partner the caller replaced (a later page, a read again) is planned from the new one."""
    want, state = _paged_tenant()
    stale = LivePartner(CON, fresh(CON, automaticUserConsentSettings=CONSENT))  # would plan a noop
    with planning(want) as plans:
        plans.add(state.default, [state.partners[FAB], stale])  # the tenant's own CON is another object
        assert _shown(plans.plan(state)) == _shown(make_plan(want, state))
    with planning(want) as plans:
        plans.add({"inboundTrust": {"isMfaAccepted": True}}, state.partners.values())
        assert to_json(plans.plan(state)) == to_json(make_plan(want, state))
    again = live(
        *(stale if p.tenant_id == CON else p for p in state.partners.values()), default=state.default
    )
    with planning(want) as plans:
        plans.add(state.default, state.partners.values())
        assert to_json(plans.plan(again)) == to_json(make_plan(want, again))


def test_a_partner_planned_from_its_page_is_not_planned_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of planning page by page: `plan` puts together what `add` made, and plans only what no
    page held (a create) or what no file declares (a removal) — each partner once."""
    from reconciler.core import planner

    planned: list[str] = []
    real = planner.plan_partner

    def counting(desired: Any, live: Any, *args: Any) -> Any:
        planned.append((desired or live).tenant_id)
        return real(desired, live, *args)

    monkeypatch.setattr(planner, "plan_partner", counting)
    want, state = _paged_tenant()
    with planning(want, PlanOptions(prune=True, force=True)) as plans:
        plans.add(state.default, [state.partners[FAB], state.partners[CON]])
        plans.add(state.default, [state.partners[MTO], state.partners[WOOD]])
        assert sorted(planned) == sorted([FAB, CON, MTO])  # WOOD has no file: plan() plans it, with its name
        plans.plan(state)
    assert sorted(planned) == sorted([FAB, CON, MTO, LIT, WOOD])
    planned.clear()
    make_plan(want, state, PlanOptions(prune=True, force=True))
    assert sorted(planned) == sorted([FAB, CON, MTO, LIT, WOOD])


def test_make_plan_carries_the_fingerprints_a_saved_plan_is_checked_against() -> None:
    from reconciler.core.fingerprints import fingerprint_desired, fingerprint_live

    want, state = _paged_tenant()
    plan = make_plan(want, state, PlanOptions(prune=True, force=True))
    assert plan.fingerprints.desired == fingerprint_desired(want) != ""
    assert dict(plan.fingerprints.live) == fingerprint_live(state)
    assert sorted(plan.fingerprints.live) == sorted(
        ["default", *(f"partner:{t}" for t in (FAB, CON, MTO, WOOD))]
    )
