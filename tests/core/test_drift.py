from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.cli.main import COMMANDS
from reconciler.core import drift, drift_json
from reconciler.core.errors import XtapError
from reconciler.core.planner import PlanOptions, make_plan
from reconciler.core.state import DesiredDefault, DesiredState, LivePartner, LiveState, SourceRef
from reconciler.emulator import Emulator, seeds
from reconciler.present import drift_markdown, formats
from reconciler.shell.graph.auth import CREDENTIAL_ENV
from tests.support import REPO
from tests.support.builders import ALL_APPS, ALL_USERS, CON, FAB, LIT, MTO, TRUST, WOOD, desired, fresh, live
from tests.support.e2e import use_emulator, xtap

SCHEMA = json.loads((REPO / "schemas" / "drift.schema.json").read_text(encoding="utf-8"))
SYNC = {"displayName": "Contoso Ltd", "userSyncInbound": {"isSyncAllowed": True}}
# Variables the credential chain reads: cleared so the developer's environment never leaks in.
ENV_KEYS = (*CREDENTIAL_ENV, "GITHUB_ACTIONS", "NO_COLOR")


def report(
    want: DesiredState, have: LiveState, previous: drift.Previous | None = None, **options: Any
) -> drift.DriftReport:
    opts = PlanOptions(**options)
    return drift.build_report(make_plan(want, have, opts), have, protected=opts.protected, previous=previous)


def system_live(*partners: LivePartner) -> LiveState:
    return live(*partners, default=seeds.system_default())


def rows(r: drift.DriftReport) -> list[tuple[Any, ...]]:
    return [(i.kind, i.drift, i.tenant_id, i.path, i.declared_text, i.live_text) for i in r.items]


def drift_only(r: drift.DriftReport) -> list[drift.DriftItem]:
    return [i for i in r.items if i.kind != "unknown-property"]


# --- each kind of change ----------------------------------------------------------------------------------


def test_property_changed_in_the_portal_is_one_item_per_leaf_and_the_file_wins() -> None:
    have = system_live(LivePartner(FAB, fresh(FAB, inboundTrust={**TRUST, "isMfaAccepted": False})))
    r = report(DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})}), have)
    [item] = drift_only(r)
    assert (item.kind, item.drift, item.resource, item.name, item.tenant_id, item.source) == (
        "changed",
        True,
        "partner",
        "90e2",
        FAB,
        "policies/partners/90e2.yaml:1:1",
    )
    assert (item.path, item.declared, item.live) == ("inboundTrust.isMfaAccepted", True, False)
    assert item.message == (
        "inboundTrust.isMfaAccepted of partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1) is false in the "
        "tenant but true in the file; the file wins on the next apply"
    )
    assert r.drift
    assert r.summary_line() == "Drift: 1 item in 1 resource."


def test_property_set_in_the_portal_where_the_file_inherits_names_the_inherited_default() -> None:
    outbound = {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}
    have = system_live(LivePartner(FAB, fresh(FAB, b2bDirectConnectOutbound=outbound)))
    r = report(DesiredState({FAB: desired(FAB, {})}), have)
    assert rows(r)[:4] == [
        (
            "changed",
            True,
            FAB,
            "b2bDirectConnectOutbound.applications.accessType",
            "inherit (default: blocked)",
            "allowed",
        ),
        (
            "changed",
            True,
            FAB,
            "b2bDirectConnectOutbound.applications.targets",
            "inherit (default: [AllApplications (application)])",
            "[AllApplications (application)]",
        ),
        (
            "changed",
            True,
            FAB,
            "b2bDirectConnectOutbound.usersAndGroups.accessType",
            "inherit (default: blocked)",
            "allowed",
        ),
        (
            "changed",
            True,
            FAB,
            "b2bDirectConnectOutbound.usersAndGroups.targets",
            "inherit (default: [AllUsers (user)])",
            "[AllUsers (user)]",
        ),
    ]
    assert [i.declared for i in r.items[:4]] == [None, None, None, None]


def test_partner_created_in_the_portal_is_unmanaged_drift_that_apply_leaves_alone() -> None:
    r = report(DesiredState(), system_live(LivePartner(WOOD, fresh(WOOD))))
    [item] = drift_only(r)
    assert (item.kind, item.drift, item.resource, item.name, item.tenant_id) == (
        "unmanaged",
        True,
        "partner",
        WOOD,
        WOOD,
    )
    assert item.message == (
        "partner 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a is in the tenant but in no policy file (made in the "
        "portal?); the next apply leaves it alone: add a file for it (xtap export) or delete it with --prune"
    )


def test_unmanaged_partner_with_prune_on_says_the_next_apply_deletes_it() -> None:
    have = system_live(LivePartner(WOOD, fresh(WOOD), sync={"tenantId": WOOD, **SYNC}))
    r = report(DesiredState(), have, prune=True)
    # The partner's sync policy goes with it: one item, not two.
    [item] = drift_only(r)
    assert (item.kind, item.drift) == ("unmanaged", True)
    assert item.message.endswith("(made in the portal?); prune is on: the next apply deletes it")


def test_mto_and_protected_unmanaged_partners_are_information_not_drift() -> None:
    have = system_live(
        LivePartner(MTO, fresh(MTO, isInMultiTenantOrganization=True)), LivePartner(WOOD, fresh(WOOD))
    )
    r = report(DesiredState(), have, prune=True, protected=frozenset({WOOD}))
    assert [(i.kind, i.drift, i.tenant_id) for i in drift_only(r)] == [
        ("unmanaged", False, MTO),
        ("unmanaged", False, WOOD),
    ]
    assert [i.message for i in drift_only(r)] == [
        f"partner {MTO} is in the tenant but in no policy file; xtap never deletes it (a multitenant organization member, isInMultiTenantOrganization)",
        f"partner {WOOD} is in the tenant but in no policy file; xtap never deletes it (listed in protectedPartners)",
    ]
    assert not r.drift
    assert r.summary_line() == "No drift. The tenant matches the policy files."


def test_sync_policy_removed_in_the_portal() -> None:
    want = DesiredState({CON: desired(CON, {}, sync={"userSyncInbound": {"isSyncAllowed": True}})})
    r = report(want, system_live(LivePartner(CON, fresh(CON))))
    [item] = drift_only(r)
    assert (item.kind, item.drift, item.resource, item.path) == (
        "sync-removed",
        True,
        "identitySynchronization",
        "identitySynchronization",
    )
    assert (item.declared, item.live, item.declared_text, item.live_text) == (
        {"userSyncInbound": {"isSyncAllowed": True}},
        None,
        "{userSyncInbound: {isSyncAllowed: true}}",
        "none",
    )
    assert item.message == (
        "partner 9c5d (9c5d131d-b1c3-4fc4-9e3f-c6557947d551) has no identitySynchronization policy in the "
        "tenant but the file declares one; the next apply creates it again"
    )


def test_sync_policy_added_in_the_portal() -> None:
    have = system_live(LivePartner(CON, fresh(CON), sync={"tenantId": CON, **SYNC}))
    r = report(DesiredState({CON: desired(CON, {})}), have)
    [item] = drift_only(r)
    assert (item.kind, item.drift, item.resource, item.path) == (
        "sync-added",
        True,
        "identitySynchronization",
        "identitySynchronization",
    )
    assert (item.declared, item.live, item.declared_text) == (None, SYNC, "none")
    assert item.message.endswith(
        "has an identitySynchronization policy in the tenant that the file does not declare; "
        "the next apply leaves it alone (it is deleted only with --prune)"
    )
    pruned = report(DesiredState({CON: desired(CON, {})}), have, prune=True)
    assert drift_only(pruned)[0].message.endswith(
        "that the file does not declare; prune is on: the next apply deletes it"
    )


def test_a_partner_deleted_with_its_sync_policy_does_not_hide_the_drift_of_the_partners_after_it() -> None:
    want = DesiredState(
        {
            FAB: desired(FAB, {}, sync={"userSyncInbound": {"isSyncAllowed": True}}),
            LIT: desired(LIT, {"inboundTrust": TRUST}),
        }
    )
    have = system_live(LivePartner(LIT, fresh(LIT, inboundTrust={**TRUST, "isMfaAccepted": False})))
    r = report(want, have)
    assert [(i.kind, i.tenant_id, i.path) for i in r.items] == [
        ("missing", FAB, None),
        ("changed", LIT, "inboundTrust.isMfaAccepted"),
    ]


def test_sync_policy_changed_in_the_portal_is_a_changed_leaf() -> None:
    have = system_live(
        LivePartner(CON, fresh(CON), sync={"tenantId": CON, "userSyncInbound": {"isSyncAllowed": False}})
    )
    want = DesiredState({CON: desired(CON, {}, sync={"userSyncInbound": {"isSyncAllowed": True}})})
    [item] = drift_only(report(want, have))
    assert (item.kind, item.resource, item.path, item.declared, item.live) == (
        "changed",
        "identitySynchronization",
        "identitySynchronization.userSyncInbound.isSyncAllowed",
        True,
        False,
    )


def test_partner_deleted_in_the_portal_is_missing_with_its_sync_policy_in_the_same_item() -> None:
    want = DesiredState(
        {FAB: desired(FAB, {"inboundTrust": TRUST}, sync={"userSyncInbound": {"isSyncAllowed": True}})}
    )
    r = report(want, system_live())
    assert [(i.kind, i.drift, i.tenant_id) for i in r.items] == [("missing", True, FAB)]
    assert r.items[0].message == (
        "partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1) is declared in the file but absent from the tenant "
        "(deleted in the portal?); the next apply creates it again"
    )


def test_default_changed_in_the_portal() -> None:
    default = seeds.system_default()
    want = DesiredState(
        default=DesiredDefault({"inboundTrust": default["inboundTrust"]}, SourceRef("policies/default.yaml"))
    )
    have = live(default={**default, "inboundTrust": {**default["inboundTrust"], "isMfaAccepted": True}})
    [item] = report(want, have).items
    assert (item.kind, item.resource, item.name, item.tenant_id, item.path, item.declared, item.live) == (
        "changed",
        "default",
        "default",
        None,
        "inboundTrust.isMfaAccepted",
        False,
        True,
    )
    assert item.message == (
        "inboundTrust.isMfaAccepted of the default configuration is true in the tenant but false in the file; "
        "the file wins on the next apply"
    )


def test_unknown_live_properties_are_information_grouped_per_property() -> None:
    meetings = {"inboundAllowed": True, "outboundAllowed": None}
    redemption = {"fallbackIdentityProvider": "defaultConfiguredIdp"}
    have = system_live(
        LivePartner(FAB, fresh(FAB, crossCloudMeetingConfiguration=meetings)),
        LivePartner(MTO, fresh(MTO, protectedContentSharing={"inboundAllowed": False})),
        LivePartner(CON, fresh(CON, invitationRedemptionIdentityProviderConfiguration=redemption)),
        LivePartner(LIT, fresh(LIT, invitationRedemptionIdentityProviderConfiguration=None)),
    )
    have = LiveState(have.partners, {**seeds.system_default(), "futureDefaultSetting": True})
    want = DesiredState({t: desired(t, {}) for t in (FAB, MTO, CON, LIT)})
    r = report(want, have)
    assert [(i.kind, i.drift, i.resource, i.path, i.tenants) for i in r.items] == [
        ("unknown-property", False, "partner", "crossCloudMeetingConfiguration", (FAB,)),
        ("unknown-property", False, "partner", "invitationRedemptionIdentityProviderConfiguration", (CON,)),
        ("unknown-property", False, "partner", "protectedContentSharing", (MTO,)),
        ("unknown-property", False, "default", "futureDefaultSetting", ()),
    ]
    assert [i.message for i in r.items] == [
        "crossCloudMeetingConfiguration is returned for 1 partner but is not in the Graph v1.0 metadata: "
        "xtap neither sends nor compares it (information)",
        "invitationRedemptionIdentityProviderConfiguration is returned for 1 partner but the Graph v1.0 "
        "metadata has it on the default configuration only: xtap neither sends nor compares it (information)",
        "protectedContentSharing is returned for 1 partner but is not in the Graph v1.0 metadata: "
        "xtap neither sends nor compares it (information)",
        "futureDefaultSetting is returned for the default configuration but is not in the Graph v1.0 "
        "metadata: xtap neither sends nor compares it (information)",
    ]
    assert not r.drift


def test_unknown_members_of_a_sync_policy_and_a_partners_property_on_the_default_are_information() -> None:
    sync = {"tenantId": FAB, **SYNC, "futureSyncSetting": {"enabled": True}, "nullSetting": None}
    have = system_live(
        LivePartner(FAB, fresh(FAB, protectedContentSharing={"inboundAllowed": True}), sync=sync),
        LivePartner(CON, fresh(CON, protectedContentSharing={"inboundAllowed": False})),
    )
    have = LiveState(have.partners, {**seeds.system_default(), "isServiceProvider": True})
    r = report(DesiredState({FAB: desired(FAB, {}, sync=SYNC), CON: desired(CON, {})}), have)
    assert [(i.kind, i.resource, i.name, i.path, i.tenants) for i in r.items] == [
        ("unknown-property", "partner", "partners", "identitySynchronization.futureSyncSetting", (FAB,)),
        ("unknown-property", "partner", "partners", "protectedContentSharing", (FAB, CON)),
        ("unknown-property", "default", "default", "isServiceProvider", ()),
    ]
    assert [i.message for i in r.items] == [
        "identitySynchronization.futureSyncSetting is returned for 1 partner but is not in the Graph v1.0 "
        "metadata: xtap neither sends nor compares it (information)",
        "protectedContentSharing is returned for 2 partners but is not in the Graph v1.0 metadata: "
        "xtap neither sends nor compares it (information)",
        "isServiceProvider is returned for the default configuration but the Graph v1.0 metadata has it on "
        "partners only: xtap neither sends nor compares it (information)",
    ]


def test_null_unknown_properties_and_the_defaults_own_properties_are_not_listed() -> None:
    # Graph returns crossCloudMeetingConfiguration as an object of nulls for every partner, and the
    # default's invitationRedemptionIdentityProviderConfiguration is in the v1.0 metadata.
    default = {**seeds.system_default(), "protectedContentSharing": {"inboundAllowed": None}}
    have = live(LivePartner(FAB, fresh(FAB, protectedContentSharing=None)), default=default)
    assert report(DesiredState({FAB: desired(FAB, {})}), have).items == ()


def test_a_property_set_in_the_portal_to_the_defaults_value_is_one_item_saying_nothing_changed() -> None:
    blocked = {
        "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
        "applications": {**ALL_APPS, "accessType": "blocked"},
    }
    have = system_live(LivePartner(FAB, fresh(FAB, b2bDirectConnectOutbound=blocked)))
    r = report(DesiredState({FAB: desired(FAB, {})}), have)
    [item] = r.items
    value = {
        "applications": {"accessType": "blocked", "targets": [ALL_APPS["targets"][0]]},
        "usersAndGroups": {"accessType": "blocked", "targets": [ALL_USERS["targets"][0]]},
    }
    assert (item.kind, item.drift, item.path, item.declared, item.live, item.declared_text) == (
        "set-to-default",
        True,
        "b2bDirectConnectOutbound",
        None,
        value,
        "inherit",
    )
    shown = (
        "{applications: {accessType: blocked, targets: [AllApplications (application)]}, "
        "usersAndGroups: {accessType: blocked, targets: [AllUsers (user)]}}"
    )
    assert item.live_text == shown
    assert item.message == (
        "b2bDirectConnectOutbound of partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1) is set in the tenant "
        f"to the default's own value ({shown}), where the file inherits it: the effective value is unchanged; "
        "the next apply sets it back to inherit, so the partner follows the default again"
    )
    assert r.summary_line() == "Drift: 1 item in 1 resource."


def test_a_property_set_to_the_defaults_value_does_not_hide_the_other_properties_changed() -> None:
    # b2bDirectConnectInbound comes before b2bDirectConnectOutbound: the first is pinned, the second changed.
    blocked = {
        "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
        "applications": {**ALL_APPS, "accessType": "blocked"},
    }
    allowed = {"usersAndGroups": ALL_USERS, "applications": ALL_APPS}
    partner = fresh(FAB, b2bDirectConnectInbound=blocked, b2bDirectConnectOutbound=allowed)
    r = report(DesiredState({FAB: desired(FAB, {})}), system_live(LivePartner(FAB, partner)))
    assert [(i.kind, i.path) for i in r.items] == [
        ("set-to-default", "b2bDirectConnectInbound"),
        ("changed", "b2bDirectConnectOutbound.applications.accessType"),
        ("changed", "b2bDirectConnectOutbound.applications.targets"),
        ("changed", "b2bDirectConnectOutbound.usersAndGroups.accessType"),
        ("changed", "b2bDirectConnectOutbound.usersAndGroups.targets"),
    ]


def test_a_value_the_tenant_inherits_where_the_file_sets_one_names_the_default_it_inherits() -> None:
    r = report(
        DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})}), system_live(LivePartner(FAB, fresh(FAB)))
    )
    assert [(i.path, i.declared, i.live, i.declared_text, i.live_text) for i in r.items] == [
        ("inboundTrust.isCompliantDeviceAccepted", True, None, "true", "inherit (default: false)"),
        ("inboundTrust.isHybridAzureADJoinedDeviceAccepted", True, None, "true", "inherit (default: false)"),
        ("inboundTrust.isMfaAccepted", True, None, "true", "inherit (default: false)"),
    ]
    assert r.items[2].message == (
        "inboundTrust.isMfaAccepted of partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1) is inherit "
        "(default: false) in the tenant but true in the file; the file wins on the next apply"
    )


def test_targets_equal_to_the_defaults_under_another_access_type_stay_changed_leaves() -> None:
    # The default blocks AllUsers; the tenant allows AllUsers: same targets, a different rule.
    allowed = {"usersAndGroups": ALL_USERS, "applications": {**ALL_APPS, "accessType": "blocked"}}
    have = system_live(LivePartner(FAB, fresh(FAB, b2bDirectConnectInbound=allowed)))
    r = report(DesiredState({FAB: desired(FAB, {})}), have)
    assert [(i.kind, i.path) for i in r.items] == [
        ("changed", "b2bDirectConnectInbound.applications.accessType"),
        ("changed", "b2bDirectConnectInbound.applications.targets"),
        ("changed", "b2bDirectConnectInbound.usersAndGroups.accessType"),
        ("changed", "b2bDirectConnectInbound.usersAndGroups.targets"),
    ]


def test_no_drift_when_the_tenant_matches_the_files() -> None:
    have = system_live(LivePartner(FAB, fresh(FAB, inboundTrust=TRUST), sync={"tenantId": FAB, **SYNC}))
    want = DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST}, sync=SYNC)})
    r = report(want, have)
    assert drift_only(r) == []
    assert not r.drift


def test_ignored_properties_are_never_drift() -> None:
    have = system_live(LivePartner(FAB, fresh(FAB, inboundTrust=TRUST)))
    r = report(DesiredState({FAB: desired(FAB, {}, ignore=frozenset({"inboundTrust"}))}), have)
    assert drift_only(r) == []


# --- ids and --previous ----------------------------------------------------------------------------------


def roundtrip(r: drift.DriftReport) -> drift.Previous:
    return drift_json.read_previous(json.loads(formats.drift_json(r)))


def test_ids_are_stable_and_change_with_the_live_value() -> None:
    want = DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})})
    one = report(
        want, system_live(LivePartner(FAB, fresh(FAB, inboundTrust={**TRUST, "isMfaAccepted": False})))
    )
    again = report(
        want, system_live(LivePartner(FAB, fresh(FAB, inboundTrust={**TRUST, "isMfaAccepted": False})))
    )
    other = report(
        want, system_live(LivePartner(FAB, fresh(FAB, inboundTrust={**TRUST, "isMfaAccepted": None})))
    )
    assert [i.id for i in one.items] == [i.id for i in again.items]
    assert len(one.items[0].id) == 16
    assert one.items[0].path == other.items[0].path
    assert one.items[0].id != other.items[0].id


def every_kind(targets_of_users: list[dict[str, str]]) -> drift.DriftReport:
    """One item of each kind, with `targets_of_users` as fabrikam's live usersAndGroups targets."""
    default = seeds.system_default()
    blocked = {
        "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
        "applications": {**ALL_APPS, "accessType": "blocked"},
    }
    outbound = {
        "usersAndGroups": {"accessType": "allowed", "targets": targets_of_users},
        "applications": ALL_APPS,
    }
    fabrikam = fresh(
        FAB,
        inboundTrust={**TRUST, "isMfaAccepted": False},
        b2bDirectConnectInbound=blocked,
        b2bDirectConnectOutbound=outbound,
    )
    have = LiveState(
        {
            FAB: LivePartner(FAB, fabrikam),
            CON: LivePartner(CON, fresh(CON)),
            LIT: LivePartner(
                LIT,
                fresh(LIT, protectedContentSharing={"inboundAllowed": True}),
                sync={"tenantId": LIT, **SYNC},
            ),
            WOOD: LivePartner(WOOD, fresh(WOOD)),
        },
        {
            **default,
            "inboundTrust": {**default["inboundTrust"], "isMfaAccepted": True},
            "futureSetting": True,
        },
    )
    want = DesiredState(
        {
            FAB: desired(FAB, {"inboundTrust": TRUST}),
            CON: desired(CON, {}, sync={"userSyncInbound": {"isSyncAllowed": True}}),
            LIT: desired(LIT, {}),
            MTO: desired(MTO, {}),
        },
        default=DesiredDefault({"inboundTrust": default["inboundTrust"]}, SourceRef("policies/default.yaml")),
    )
    return report(want, have)


def test_ids_do_not_change_from_one_xtap_version_to_the_next() -> None:
    # A scheduled run compares with the report of the run before, often made by an older xtap: were the
    # ids computed differently, every item would count as new and CI would notify about all drift again.
    r = every_kind([{"target": "AllUsers", "targetType": "user"}])
    assert [(i.kind, i.tenant_id, i.path, i.id) for i in r.items] == [
        ("changed", None, "inboundTrust.isMfaAccepted", "4123574158311014"),
        ("missing", MTO, None, "dd3c372d31dd4fb5"),
        ("set-to-default", FAB, "b2bDirectConnectInbound", "a7a20387dfa52678"),
        ("changed", FAB, "inboundTrust.isMfaAccepted", "accf7b91b1b0b83f"),
        ("changed", FAB, "b2bDirectConnectOutbound.applications.accessType", "466a4b7864d5e3ad"),
        ("changed", FAB, "b2bDirectConnectOutbound.applications.targets", "b26c145e39f82ab1"),
        ("changed", FAB, "b2bDirectConnectOutbound.usersAndGroups.accessType", "fb921814cb318083"),
        ("changed", FAB, "b2bDirectConnectOutbound.usersAndGroups.targets", "0216a782ce773678"),
        ("sync-removed", CON, "identitySynchronization", "bfc3d5126e5e601e"),
        ("sync-added", LIT, "identitySynchronization", "282da9441d9c3c43"),
        ("unmanaged", WOOD, None, "d39fe6ec7005302e"),
        ("unknown-property", None, "protectedContentSharing", "7a62715009df572b"),
        ("unknown-property", None, "futureSetting", "5d794db5fa46ae57"),
    ]


def test_an_id_does_not_depend_on_the_order_graph_returns_an_objects_members_in() -> None:
    one = every_kind([{"target": "AllUsers", "targetType": "user"}])
    other = every_kind([{"targetType": "user", "target": "AllUsers"}])
    assert [i.id for i in one.items] == [i.id for i in other.items]
    assert len({i.id for i in one.items}) == len(one.items)


def test_previous_marks_only_new_items_and_lists_what_was_resolved() -> None:
    want = DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST}), CON: desired(CON, {})})
    changed_fab = LivePartner(FAB, fresh(FAB, inboundTrust={**TRUST, "isMfaAccepted": False}))
    first = report(want, system_live(changed_fab, LivePartner(CON, fresh(CON))))
    assert [i.new for i in first.items] == [None]
    # Later: the same drift on fabrikam, plus a new partner made in the portal.
    second = report(
        want,
        system_live(changed_fab, LivePartner(CON, fresh(CON)), LivePartner(WOOD, fresh(WOOD))),
        previous=roundtrip(first),
    )
    assert [(i.kind, i.tenant_id, i.new) for i in second.items] == [
        ("changed", FAB, False),
        ("unmanaged", WOOD, True),
    ]
    assert [i.id for i in second.new_drift] == [second.items[1].id]
    assert second.summary_line() == "Drift: 2 items in 2 resources, 1 new since the previous report."
    data = drift_json.to_json(second)
    assert (data["summary"]["new"], data["summary"]["resolved"]) == (1, 0)
    # Fabrikam fixed: its item is resolved, the partner made in the portal is no longer new.
    third = report(
        want,
        system_live(
            LivePartner(FAB, fresh(FAB, inboundTrust=TRUST)),
            LivePartner(CON, fresh(CON)),
            LivePartner(WOOD, fresh(WOOD)),
        ),
        previous=roundtrip(second),
    )
    assert [(i.kind, i.new) for i in third.items] == [("unmanaged", False)]
    assert [(r.kind, r.tenant_id, r.path) for r in third.resolved] == [
        ("changed", FAB, "inboundTrust.isMfaAccepted")
    ]
    assert drift_json.to_json(third)["summary"]["new"] == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "r.json: not an xtap drift report (made by `xtap drift --format json`)"),
        ({"kind": "xtap-plan"}, "r.json: not an xtap drift report (made by `xtap drift --format json`)"),
        (
            {"kind": "xtap-drift-report", "format_version": 9, "items": []},
            "r.json: unsupported drift report format_version 9 (this xtap reads 1)",
        ),
        (
            {"kind": "xtap-drift-report", "format_version": 1, "items": {}},
            "r.json: not a valid xtap drift report (items is not a list)",
        ),
        (
            {"kind": "xtap-drift-report", "format_version": 1, "items": [{"kind": "changed"}]},
            "r.json: not a valid xtap drift report (items[0] has no id)",
        ),
    ],
)
def test_a_malformed_previous_report_is_a_clean_error(data: Any, message: str) -> None:
    with pytest.raises(XtapError) as caught:
        drift_json.read_previous(data, origin="r.json")
    assert str(caught.value) == message


# --- JSON and Markdown ------------------------------------------------------------------------------------


def test_json_report_follows_the_schema_with_and_without_previous() -> None:
    want = DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST}), CON: desired(CON, {}, sync=SYNC)})
    have = system_live(
        LivePartner(FAB, fresh(FAB)),
        LivePartner(CON, fresh(CON)),
        LivePartner(WOOD, fresh(WOOD), sync={"tenantId": WOOD, **SYNC}),
    )
    first = report(want, have)
    second = report(want, have, previous=roundtrip(first))
    validator = jsonschema.Draft202012Validator(SCHEMA)
    validator.check_schema(SCHEMA)
    for r in (first, second):
        data = json.loads(formats.drift_json(r))
        assert list(validator.iter_errors(data)) == []
    data = drift_json.to_json(first)
    assert data["drift"] is True
    assert data["summary"] == {
        "drift": 5,
        "information": 0,
        "new": None,
        "resolved": None,
        "by_kind": {
            "changed": 3,
            "set-to-default": 0,
            "missing": 0,
            "sync-removed": 1,
            "sync-added": 0,
            "unmanaged": 1,
            "unknown-property": 0,
        },
    }


def test_markdown_escapes_values_and_marks_new_items() -> None:
    evil = {
        "accessType": "allowed",
        "targets": [{"target": "<img src=x onerror=alert(1)>|`", "targetType": "application"}],
    }
    have = system_live(LivePartner(FAB, fresh(FAB, appServiceConnectInbound={"applications": evil})))
    first = report(DesiredState({FAB: desired(FAB, {})}), system_live(LivePartner(FAB, fresh(FAB))))
    r = report(DesiredState({FAB: desired(FAB, {})}), have, previous=roundtrip(first))
    text = drift_markdown.render_markdown(r)
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;&#124;&#96;" in text
    assert text.startswith("<!-- xtap-drift:default -->\n### xtap drift — tenant <code>default</code>\n\n")
    assert "**Drift: 2 items in 1 resource, 2 new since the previous report.**" in text
    assert (
        "| <code>appServiceConnectInbound.applications.accessType</code> | <code>inherit</code> | <code>allowed</code> | new |"
        in text
    )


def test_markdown_stays_under_the_comment_limit_with_a_notice() -> None:
    many = {
        f"{i:08x}-0000-4000-8000-000000000000": desired(
            f"{i:08x}-0000-4000-8000-000000000000", {"inboundTrust": TRUST}
        )
        for i in range(60)
    }
    have = system_live(*(LivePartner(t, fresh(t)) for t in many))
    text = drift_markdown.render_markdown(report(DesiredState(many), have), limit=8000)
    assert len(text) <= 8000
    assert "more section(s) not shown: the report would exceed 8,000 characters" in text


def test_markdown_without_drift() -> None:
    text = drift_markdown.render_markdown(report(DesiredState(), live()))
    assert text == (
        "<!-- xtap-drift:default -->\n### xtap drift — tenant <code>default</code>\n\n"
        "**No drift. The tenant matches the policy files.**\n"
    )


# --- end to end: the CLI in-process against the emulator over HTTPS ---------------------------------------


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        use_emulator(monkeypatch, emu)
        monkeypatch.chdir(tmp_path)
        yield emu


def kinds(out: str) -> list[tuple[str, str | None, str | None, bool]]:
    return [(i["kind"], i["tenantId"], i["path"], i["drift"]) for i in json.loads(out)["items"]]


def test_drift_end_to_end_each_kind_then_none_after_apply(demo: Emulator, capsys: Any) -> None:
    assert xtap(capsys, "export")[0] == 0
    code, out, err = xtap(capsys, "drift", "--format", "json")
    assert (code, err, json.loads(out)["drift"]) == (0, "", False)
    # Portal changes behind Git's back.
    demo.put_partner({**demo.partners()[FAB], "inboundTrust": {**TRUST, "isMfaAccepted": False}})
    demo.put_partner(
        {
            **demo.partners()[CON],
            "b2bDirectConnectOutbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
        }
    )
    demo.set_sync(CON, None)
    demo.put_partner({"tenantId": WOOD})
    code, out, err = xtap(capsys, "drift", "--format", "json")
    assert (code, err) == (2, "")
    assert [k for k in kinds(out) if k[0] != "unknown-property"] == [
        ("changed", CON, "b2bDirectConnectOutbound.applications.accessType", True),
        ("changed", CON, "b2bDirectConnectOutbound.applications.targets", True),
        ("changed", CON, "b2bDirectConnectOutbound.usersAndGroups.accessType", True),
        ("changed", CON, "b2bDirectConnectOutbound.usersAndGroups.targets", True),
        ("sync-removed", CON, "identitySynchronization", True),
        ("changed", FAB, "inboundTrust.isCompliantDeviceAccepted", True),
        ("changed", FAB, "inboundTrust.isHybridAzureADJoinedDeviceAccepted", True),
        ("unmanaged", WOOD, None, True),
    ]
    if "apply" not in COMMANDS:
        pytest.skip("`xtap apply` is not wired into the CLI yet")
    code, out, err = xtap(capsys, "apply", "--auto-approve", "--prune")
    assert (code, err) == (0, ""), out
    code, out, err = xtap(capsys, "drift", "--format", "json")
    assert (code, err, [k for k in kinds(out) if k[3]]) == (0, "", [])


def test_drift_previous_marks_only_new_items_end_to_end(demo: Emulator, tmp_path: Path, capsys: Any) -> None:
    assert xtap(capsys, "export")[0] == 0
    demo.put_partner({**demo.partners()[FAB], "inboundTrust": TRUST})
    code, out, _ = xtap(capsys, "drift", "--out", "first.json", "--out", "first.md")
    assert code == 2
    assert (tmp_path / "first.md").read_text(encoding="utf-8") == out
    assert json.loads((tmp_path / "first.json").read_text(encoding="utf-8"))["summary"]["new"] is None
    demo.delete_partner(LIT)
    code, out, err = xtap(capsys, "drift", "--format", "json", "--previous", "first.json")
    assert (code, err) == (2, "")
    data = json.loads(out)
    assert [(i["kind"], i["tenantId"], i["new"]) for i in data["items"] if i["drift"]] == [
        ("changed", FAB, False),
        ("changed", FAB, False),
        ("changed", FAB, False),
        ("missing", LIT, True),
    ]
    assert data["summary"]["new"] == 1
    assert (
        data["previous"]["generated_at"] == json.loads((tmp_path / "first.json").read_text())["generated_at"]
    )


def test_drift_first_run_without_the_previous_report_counts_everything_new(
    demo: Emulator, capsys: Any
) -> None:
    assert xtap(capsys, "export")[0] == 0
    demo.put_partner({"tenantId": WOOD})
    code, out, err = xtap(capsys, "drift", "--format", "json", "--previous", "missing.json")
    assert code == 2
    assert err == "xtap: warning: previous report missing.json not found; every item counts as new\n"
    assert all(i["new"] is True for i in json.loads(out)["items"])


def test_drift_with_a_broken_previous_report_exits_1_before_reading_the_tenant(
    demo: Emulator, tmp_path: Path, capsys: Any
) -> None:
    (tmp_path / "old.json").write_text("{not json", encoding="utf-8")
    assert xtap(capsys, "export")[0] == 0
    demo.clear_journal()
    code, out, err = xtap(capsys, "drift", "--previous", "old.json")
    assert (code, out) == (1, "")
    assert (
        err
        == "xtap: error: old.json: not an xtap drift report (invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1))\n"
    )
    assert [e for e in demo.journal if e.path.startswith("/v1.0")] == []


def test_drift_is_read_only_and_works_with_the_reader_app(
    demo: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    use_emulator(monkeypatch, demo, app="reader")
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    demo.clear_journal()
    code, out, err = xtap(capsys, "drift")
    assert (code, err) == (2, "policies: warning: no policy files found\n")  # every demo partner is unmanaged
    assert "**Drift: 3 items in 3 resources.**" in out
    assert [e.method for e in demo.journal if e.path.startswith("/v1.0")] == ["GET", "GET"]
