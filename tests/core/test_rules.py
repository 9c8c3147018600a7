"""Semantic rules on plain data: targets, access types, keywords, tenants, control characters."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core import metadata, rules
from reconciler.core.messages import Problem
from reconciler.core.state import SourceRef
from tests.support.metadata import insert, synthetic, synthetic_xml

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
APP = "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"


def target(value: str, kind: str) -> dict[str, str]:
    return {"target": value, "targetType": kind}


def config(access: str, *targets: dict[str, str]) -> dict[str, Any]:
    return {"accessType": access, "targets": list(targets)}


ALL_USERS = target("AllUsers", "user")
ALL_APPS = target("AllApplications", "application")


def partner(**properties: Any) -> dict[str, Any]:
    return {"tenantId": FABRIKAM, **properties}


def test_a_clean_partner_has_no_problems() -> None:
    data = partner(
        b2bCollaborationInbound={
            "usersAndGroups": config("allowed", ALL_USERS),
            "applications": config("allowed", ALL_APPS),
        },
        m365CollaborationInbound={"users": config("allowed", ALL_USERS)},
        appServiceConnectInbound={"applications": config("allowed", target(APP, "application"))},
    )
    assert rules.check_partner(data) == []


@pytest.mark.parametrize("value", ["contoso.com", FABRIKAM + "\n", FABRIKAM.replace("-", ""), ""])
def test_tenant_id_must_be_a_guid(value: str) -> None:
    assert rules.check_partner({"tenantId": value}) == [
        Problem(("tenantId",), f"tenantId must be a GUID (like {FABRIKAM}), got {value!r}")
    ]


def test_tenant_id_of_another_type_is_left_to_the_schema() -> None:
    assert rules.check_partner({"tenantId": 12}) == []
    assert rules.check_partner({}) == []


def test_upper_case_guid_is_fine() -> None:
    assert rules.check_partner({"tenantId": FABRIKAM.upper()}) == []


def test_all_users_mixed_with_a_group() -> None:
    data = partner(
        b2bCollaborationInbound={"usersAndGroups": config("allowed", target(GROUP, "group"), ALL_USERS)}
    )
    assert rules.check_partner(data) == [
        Problem(
            ("b2bCollaborationInbound", "usersAndGroups", "targets", 1, "target"),
            "AllUsers cannot be mixed with other targets in the same list",
        )
    ]


def test_all_users_as_a_user_and_as_a_group_is_a_mix_too() -> None:
    """Same keyword, two targetTypes: two targets, so AllUsers is mixed (and the group one is wrong)."""
    data = partner(
        b2bCollaborationInbound={"usersAndGroups": config("allowed", ALL_USERS, target("AllUsers", "group"))}
    )
    mixed = "AllUsers cannot be mixed with other targets in the same list"
    assert rules.check_partner(data) == [
        Problem(
            ("b2bCollaborationInbound", "usersAndGroups", "targets", 1, "targetType"),
            "'AllUsers' goes with targetType user, got 'group'",
        ),
        Problem(("b2bCollaborationInbound", "usersAndGroups", "targets", 0, "target"), mixed),
        Problem(("b2bCollaborationInbound", "usersAndGroups", "targets", 1, "target"), mixed),
    ]


@pytest.mark.parametrize(
    "name,slot,kind,expected",
    [
        ("b2bCollaborationInbound", "usersAndGroups", "application", "user or group"),
        ("b2bDirectConnectOutbound", "applications", "group", "application"),
        ("tenantRestrictions", "applications", "user", "application"),
        ("m365CollaborationInbound", "users", "group", "user"),
        ("m365CollaborationOutbound", "usersAndGroups", "application", "user or group"),
        ("appServiceConnectInbound", "applications", "user", "application"),
    ],
)
def test_target_type_must_fit_its_slot(name: str, slot: str, kind: str, expected: str) -> None:
    data = partner(**{name: {slot: config("allowed", target(GROUP, kind))}})
    assert rules.check_partner(data) == [
        Problem(
            (name, slot, "targets", 0, "targetType"),
            f"targetType '{kind}' does not fit {slot} (expected {expected})",
        )
    ]


@pytest.mark.parametrize(
    "keyword,kind,needed",
    [("AllUsers", "group", "user"), ("AllApplications", "user", "application")],
)
def test_keywords_go_with_one_target_type(keyword: str, kind: str, needed: str) -> None:
    slot = "usersAndGroups"
    data = partner(b2bCollaborationOutbound={slot: config("allowed", target(keyword, kind))})
    assert rules.check_partner(data) == [
        Problem(
            ("b2bCollaborationOutbound", slot, "targets", 0, "targetType"),
            f"'{keyword}' goes with targetType {needed}, got '{kind}'",
        )
    ]


def test_keyword_in_the_wrong_slot_without_a_valid_target_type() -> None:
    data = partner(
        b2bCollaborationOutbound={"applications": {"targets": [{"target": "AllUsers", "targetType": "x"}]}}
    )
    assert rules.check_partner(data) == [
        Problem(
            ("b2bCollaborationOutbound", "applications", "targets", 0, "target"),
            "'AllUsers' does not fit applications",
        )
    ]


@pytest.mark.parametrize("keyword", ["AllApplications", "Office365", "AllMicrosoftApps"])
def test_application_keywords_are_accepted(keyword: str) -> None:
    data = partner(
        b2bDirectConnectInbound={"applications": config("allowed", target(keyword, "application"))}
    )
    assert rules.check_partner(data) == []


def test_non_guid_target_gets_a_keyword_suggestion() -> None:
    data = partner(
        b2bCollaborationInbound={"applications": config("allowed", target("office365", "application"))}
    )
    assert rules.check_partner(data) == [
        Problem(
            ("b2bCollaborationInbound", "applications", "targets", 0, "target"),
            "target must be a GUID or one of AllApplications, Office365, AllMicrosoftApps, got 'office365'; "
            "did you mean 'Office365'?",
        )
    ]


def test_blocking_all_users_while_allowing_applications_is_an_error() -> None:
    data = partner(
        tenantRestrictions={
            "usersAndGroups": config("blocked", ALL_USERS),
            "applications": config("allowed", ALL_APPS),
        }
    )
    assert rules.check_partner(data) == [
        Problem(
            ("tenantRestrictions", "applications", "accessType"),
            "tenantRestrictions blocks all users but allows applications; block the applications too",
        )
    ]


def test_allowing_users_while_blocking_all_applications_is_an_error() -> None:
    data = partner(
        b2bDirectConnectOutbound={
            "usersAndGroups": config("allowed", target(GROUP, "group")),
            "applications": config("blocked", ALL_APPS),
        }
    )
    assert rules.check_partner(data) == [
        Problem(
            ("b2bDirectConnectOutbound", "applications", "accessType"),
            "b2bDirectConnectOutbound allows users but blocks all applications; allow at least one application",
        )
    ]


def test_other_mixes_of_access_types_are_no_problem_of_validate() -> None:
    # A block list next to allowed applications is normal; `xtap lint` judges the effective rule (XTAP009).
    data = partner(
        b2bCollaborationInbound={
            "usersAndGroups": config("blocked", target(GROUP, "group")),
            "applications": config("allowed", ALL_APPS),
        }
    )
    assert rules.check_partner(data) == []


def test_half_settings_and_matching_access_are_fine() -> None:
    blocked = {"usersAndGroups": config("blocked", ALL_USERS), "applications": config("blocked", ALL_APPS)}
    assert rules.check_partner(partner(b2bCollaborationInbound=blocked)) == []
    only_users = {"usersAndGroups": config("blocked", ALL_USERS)}
    assert rules.check_partner(partner(b2bCollaborationInbound=only_users)) == []


def test_duplicate_targets_compare_guids_case_insensitively() -> None:
    data = partner(
        b2bCollaborationOutbound={
            "usersAndGroups": config("allowed", target(GROUP, "group"), target(GROUP.upper(), "group"))
        }
    )
    assert rules.check_partner(data) == [
        Problem(
            ("b2bCollaborationOutbound", "usersAndGroups", "targets", 1, "target"),
            f"duplicate target '{GROUP.upper()}' (same as item 1 of this list)",
            "warning",
        )
    ]


def test_ignored_property_that_is_set_is_a_warning() -> None:
    data = partner(ignore=["inboundTrust", "tenantRestrictions"], inboundTrust=None)
    assert rules.check_partner(data) == [
        Problem(
            ("inboundTrust",),
            "'inboundTrust' is listed in ignore, so this value is not applied",
            "warning",
            True,
        )
    ]


@pytest.mark.parametrize(
    "data",
    [
        partner(b2bCollaborationInbound="allowed"),
        partner(b2bCollaborationInbound={"usersAndGroups": [1, 2]}),
        partner(b2bCollaborationInbound={"usersAndGroups": {"targets": "AllUsers"}}),
        partner(b2bCollaborationInbound={"usersAndGroups": {"targets": [None, 3, {"target": 5}]}}),
        partner(ignore="inboundTrust"),
    ],
)
def test_malformed_data_is_left_to_the_schema(data: dict[str, Any]) -> None:
    assert rules.check_partner(data) == []


def test_default_inbound_with_specific_groups_is_a_warning() -> None:
    data = {"b2bDirectConnectInbound": {"usersAndGroups": config("allowed", target(GROUP, "group"))}}
    assert rules.check_default(data) == [
        Problem(
            ("b2bDirectConnectInbound", "usersAndGroups", "targets", 0, "target"),
            "the default inbound settings cannot target specific users or groups (Entra allows only AllUsers here)",
            "warning",
        )
    ]


def test_default_runs_the_target_rules_too() -> None:
    data = {"b2bCollaborationOutbound": {"applications": config("allowed", target("AllUsers", "user"))}}
    assert rules.check_default(data) == [
        Problem(
            ("b2bCollaborationOutbound", "applications", "targets", 0, "targetType"),
            "targetType 'user' does not fit applications (expected application)",
        )
    ]


def test_duplicate_tenants_name_the_first_declaration() -> None:
    a, b, c = SourceRef("a.yaml", 2, 11), SourceRef("b.yaml", 1, 11), SourceRef("c.yaml", 3, 11)
    declared = [(FABRIKAM, a), ("9c5d131d-b1c3-4fc4-9e3f-c6557947d551", b), (FABRIKAM, c)]
    assert rules.duplicate_tenants(declared) == [(c, f"tenantId {FABRIKAM} is also declared in a.yaml:2:11")]


def test_home_tenant_is_not_a_partner() -> None:
    ref = SourceRef("self.yaml", 1, 11)
    assert rules.home_tenant([(FABRIKAM, ref)], frozenset({FABRIKAM})) == [
        (ref, f"tenantId {FABRIKAM} is the home tenant itself; a tenant cannot be its own partner")
    ]
    assert rules.home_tenant([(FABRIKAM, ref)], frozenset()) == []


def test_config_rules() -> None:
    data = {
        "tenants": {"a": {"tenantId": FABRIKAM}, "b": {}, "c": {"tenantId": FABRIKAM.upper()}, "d": "x"},
        "protectedPartners": ["x", FABRIKAM],
    }
    assert rules.check_config(data) == [
        Problem(
            ("tenants", "b"), "tenant 'b' needs a tenantId when xtap.yaml names several tenants", on_key=True
        ),
        Problem(("tenants", "c", "tenantId"), f"tenantId {FABRIKAM} is also the tenantId of tenant 'a'"),
        Problem(("protectedPartners", 0), f"a protected partner must be a GUID (like {FABRIKAM}), got 'x'"),
    ]


@pytest.mark.parametrize("targets, shown", [([], "empty"), (None, "null")])
@pytest.mark.parametrize("access", ["allowed", "blocked"])
def test_an_access_type_needs_a_target(access: str, targets: Any, shown: str) -> None:
    data = partner(b2bDirectConnectOutbound={"applications": {"accessType": access, "targets": targets}})
    assert rules.check_partner(data) == [
        Problem(
            ("b2bDirectConnectOutbound", "applications", "targets"),
            f"accessType {access} needs at least one target; targets is {shown}",
        )
    ]


def test_no_access_type_needs_no_target_and_a_missing_list_is_the_schemas() -> None:
    for config in (
        {"accessType": None, "targets": None},
        {"accessType": None, "targets": []},
        {"accessType": "allowed"},
    ):
        assert rules.check_partner(partner(b2bCollaborationInbound={"applications": config})) == []


@pytest.mark.parametrize("name", ["prod\n", "contoso prod", "-prod", "", "prod/x"])
def test_tenant_names_are_checked_to_the_very_end(name: str) -> None:
    assert rules.check_config({"tenants": {name: {"tenantId": FABRIKAM}}}) == [
        Problem(
            ("tenants", name),
            f"tenant name {name!r} must start with a letter or digit and use only letters, digits, '.', '_' and '-'",
            on_key=True,
        )
    ]


def test_tenant_names_may_not_differ_only_in_case() -> None:
    tenants = {"prod": {"tenantId": FABRIKAM}, "PROD": {"tenantId": GROUP}, "Prod-2": {"tenantId": APP}}
    assert rules.check_config({"tenants": tenants}) == [
        Problem(
            ("tenants", "PROD"), "tenant name 'PROD' differs from 'prod' only in letter case", on_key=True
        )
    ]


def test_a_policies_path_with_a_control_character() -> None:
    assert rules.check_config({"tenants": {"prod": {"tenantId": FABRIKAM, "policies": "p\x00"}}}) == [
        Problem(("tenants", "prod", "policies"), "policies must not contain control characters, got 'p\\x00'")
    ]


@pytest.mark.parametrize("text", ["a\x00b", "a\nb", "a\x1b[31m", "a\x85", "a\u2028b"])
def test_strings_sent_to_graph_carry_no_control_character(text: str) -> None:
    data = partner(identitySynchronization={"displayName": text, "userSyncInbound": {"isSyncAllowed": True}})
    assert rules.check_partner(data) == [
        Problem(
            ("identitySynchronization", "displayName"),
            f"displayName must not contain control characters, got {text!r}",
        )
    ]
    assert rules.check_partner(partner(identitySynchronization={"displayName": "Fabrikam — sync ✓"})) == []


# -- what reaches the checks: every string property, and the target configurations only ----------------

RULE = "device.trustType -eq 'AzureAD'"


@pytest.mark.parametrize("check", [rules.check_partner, rules.check_default])
def test_the_device_filter_rule_of_tenant_restrictions_carries_no_control_character(check: Any) -> None:
    devices = {"mode": "allowed", "rule": RULE + "\x00"}
    data = (
        partner(tenantRestrictions={"devices": devices})
        if check is rules.check_partner
        else {"tenantRestrictions": {"devices": devices}}
    )
    assert check(data) == [
        Problem(
            ("tenantRestrictions", "devices", "rule"),
            f"rule must not contain control characters, got {RULE + chr(0)!r}",
        )
    ]
    devices["rule"] = RULE
    assert check(data) == []


@pytest.mark.parametrize(
    "data",
    [
        # what is not a target configuration is not read as one, whatever it holds
        partner(tenantRestrictions={"devices": {"accessType": "allowed", "targets": []}}),
        partner(isServiceProvider={"accessType": "blocked", "targets": []}),
        # items without a target are the schema's, not duplicates of one another
        partner(
            b2bCollaborationInbound={
                "usersAndGroups": config("allowed", {"targetType": "user"}, {"targetType": "user"})
            }
        ),
        # a targetType Graph reserves for the future is the schema's too, not one that "does not fit"
        partner(
            b2bCollaborationInbound={"usersAndGroups": config("allowed", target(GROUP, "unknownFutureValue"))}
        ),
    ],
)
def test_what_only_the_schema_can_say_is_left_to_it(data: dict[str, Any]) -> None:
    assert rules.check_partner(data) == []


def test_keywords_are_not_duplicates_of_a_misspelling_in_another_case() -> None:
    data = partner(
        b2bCollaborationInbound={"usersAndGroups": config("allowed", ALL_USERS, target("allusers", "user"))}
    )
    at = ("b2bCollaborationInbound", "usersAndGroups", "targets")
    assert rules.check_partner(data) == [
        Problem(
            (*at, 1, "target"),
            "target must be a GUID or one of AllUsers, got 'allusers'; did you mean 'AllUsers'?",
        ),
        Problem((*at, 0, "target"), "AllUsers cannot be mixed with other targets in the same list"),
    ]


def test_tenants_with_the_same_malformed_tenant_id_get_only_the_guid_error() -> None:
    data = {"tenants": {"a": {"tenantId": "contoso.com"}, "b": {"tenantId": "contoso.com"}}}
    guid = f"tenantId must be a GUID (like {FABRIKAM}), got 'contoso.com'"
    assert rules.check_config(data) == [
        Problem(("tenants", "a", "tenantId"), guid),
        Problem(("tenants", "b", "tenantId"), guid),
    ]


# -- a newer metadata: lists of strings, a type that contains itself, and swapping metadata ---------------

NOTE_TYPE = "crossTenantAccessPolicyNote"
ENTRY_TYPE = "crossTenantAccessPolicyEntry"


def with_tags_and_notes() -> metadata.Metadata:
    """The synthetic metadata plus lists in `guestLimits` (`tags`, strings; `history`, entries of a text and
    a note) and, on partners, a type that contains itself (`note`: a text, and a reply that is a note
    again)."""
    text = synthetic_xml()
    lists = (
        '        <Property Name="tags" Type="Collection(Edm.String)" />\n'
        f'        <Property Name="history" Type="Collection(graph.{ENTRY_TYPE})" />\n'
    )
    text = insert(text, '<Property Name="maxGuests" Type="Edm.Int32" />\n', lists)
    note = (
        f'      <ComplexType Name="{NOTE_TYPE}">\n'
        '        <Property Name="text" Type="Edm.String" />\n'
        f'        <Property Name="reply" Type="graph.{NOTE_TYPE}" />\n'
        "      </ComplexType>\n"
        f'      <ComplexType Name="{ENTRY_TYPE}">\n'
        '        <Property Name="text" Type="Edm.String" />\n'
        f'        <Property Name="note" Type="graph.{NOTE_TYPE}" />\n'
        "      </ComplexType>\n"
    )
    text = insert(text, '      <ComplexType Name="crossTenantAccessPolicyInboundTrust">', note, before=True)
    entity = text.index(f'<EntityType Name="{metadata.PARTNER_TYPE}"')
    partner_note = f'        <Property Name="note" Type="graph.{NOTE_TYPE}" />\n'
    return metadata.parse(
        insert(text, '        <Property Name="inboundTrust"', partner_note, before=True, start=entity)
    )


def test_each_string_of_a_list_is_checked_and_a_list_that_is_not_one_is_the_schemas() -> None:
    with metadata.using(with_tags_and_notes()):
        data = partner(guestLimits={"tags": ["pilot", "b\x01"]})
        assert rules.check_partner(data) == [
            Problem(("guestLimits", "tags", 1), "tags must not contain control characters, got 'b\\x01'")
        ]
        assert rules.check_partner(partner(guestLimits={"tags": "b\x01"})) == []
        data = partner(guestLimits={"history": [{"text": "ok"}, {"text": "b\x01", "note": {"text": "c\n"}}]})
        assert rules.check_partner(data) == [
            Problem(
                ("guestLimits", "history", 1, "text"),
                "text must not contain control characters, got 'b\\x01'",
            ),
            Problem(
                ("guestLimits", "history", 1, "note", "text"),
                "text must not contain control characters, got 'c\\n'",
            ),
        ]


def nested_note(replies: int, text: str) -> dict[str, Any]:
    note: dict[str, Any] = {"text": text}
    for _ in range(replies):
        note = {"reply": note}
    return note


def test_a_type_that_contains_itself_is_checked_sixteen_levels_deep_and_no_further() -> None:
    with metadata.using(with_tags_and_notes()):
        deepest = rules.check_partner(partner(note=nested_note(15, "x\x00")))
        assert deepest == [
            Problem(
                ("note", *["reply"] * 15, "text"), "text must not contain control characters, got 'x\\x00'"
            )
        ]
        assert rules.check_partner(partner(note=nested_note(16, "x\x00"))) == []


def test_the_rules_follow_the_metadata_in_use() -> None:
    inbound = {
        "usersAndGroups": config("allowed", target(GROUP, "servicePrincipal")),
        "servicePrincipals": config(
            "allowed", target(APP, "servicePrincipal"), target(APP, "servicePrincipal")
        ),
    }
    data = partner(b2bCollaborationInbound=inbound, guestLimits={"label": "a\nb"})
    at = ("b2bCollaborationInbound",)
    newer = [  # the new slot comes first in the newer metadata
        Problem(
            (*at, "servicePrincipals", "targets", 1, "target"),
            f"duplicate target '{APP}' (same as item 1 of this list)",
            "warning",
        ),
        Problem(
            (*at, "usersAndGroups", "targets", 0, "targetType"),
            "targetType 'servicePrincipal' does not fit usersAndGroups (expected user or group)",
        ),
        Problem(("guestLimits", "label"), "label must not contain control characters, got 'a\\nb'"),
    ]
    assert rules.check_partner(data) == []  # the shipped metadata has none of these: the schema says so
    with metadata.using(synthetic()):
        assert rules.check_partner(data) == newer
    assert rules.check_partner(data) == []
