"""jsonschema-rs errors in our words: one message per place, in file order, every keyword we generate handled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from reconciler.core import messages, schema, schema_errors
from reconciler.core.messages import Problem

KINDS: tuple[schema.Kind, ...] = ("partner", "default", "config")
WORDING = messages.Wording({}, {}, {})


def objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every subschema that may describe a mapping."""
    if not isinstance(node, dict):
        return
    types = node.get("type")
    if types == "object" or (isinstance(types, list) and "object" in types):
        yield node
    for sub in node.get("properties", {}).values():
        yield from objects(sub)
    for key in ("items", "additionalProperties"):
        yield from objects(node.get(key))


def keywords(node: Any) -> Iterator[str]:
    """Every keyword used anywhere in a schema (property names under `properties` are not keywords)."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        yield key
        if key == "properties":
            for sub in value.values():
                yield from keywords(sub)
        elif key in ("items", "additionalProperties", "propertyNames"):
            yield from keywords(value)


@pytest.mark.parametrize("kind", KINDS)
def test_generated_schemas_use_only_keywords_the_messages_handle(kind: schema.Kind) -> None:
    used = set(keywords(schema.build(kind)))
    assert used - messages.HANDLED_KEYWORDS - messages.ANNOTATION_KEYWORDS == set()


@pytest.mark.parametrize("kind", KINDS)
def test_closed_objects_list_their_properties(kind: schema.Kind) -> None:
    # Without `properties`, jsonschema-rs reports an unknown key as a false subschema at the object's
    # path, without the key: we could not say which name is wrong.
    for node in objects(schema.build(kind)):
        if node.get("additionalProperties") is False:
            assert isinstance(node.get("properties"), dict), node


def test_the_keyword_guard_sees_a_keyword_it_does_not_handle() -> None:
    assert "maxLength" in set(keywords({"properties": {"a": {"type": "string", "maxLength": 3}}}))


def found(root: dict[str, Any], data: Any, wording: messages.Wording = WORDING) -> list[Problem]:
    validator = jsonschema_rs.Draft202012Validator(root, offline=True)
    return schema_errors.problems(wording, root, data, validator.iter_errors(data))


def test_a_keyword_without_words_still_gives_one_located_line() -> None:
    root = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}}
    assert found(root, {"name": "abcd"}) == [Problem(("name",), 'name: "abcd" is longer than 3 characters')]


def test_type_and_enum_errors_on_one_value_give_the_type_error_only() -> None:
    problems = schema.check(
        "partner",
        {"tenantId": "x", "b2bCollaborationInbound": {"usersAndGroups": {"accessType": 3, "targets": None}}},
    )
    assert problems == [
        Problem(
            ("b2bCollaborationInbound", "usersAndGroups", "accessType"),
            "expected a string or null, got the integer 3",
        )
    ]


def test_types_are_named_in_the_schemas_order() -> None:
    root = {"type": "object", "properties": {"n": {"type": ["integer", "null"]}}}
    assert found(root, {"n": "x"}) == [Problem(("n",), "expected an integer or null, got the string 'x'")]


def test_problems_come_in_file_order_and_missing_members_after_the_members() -> None:
    root = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "name"],
        "properties": {"b": {"type": "string"}, "a": {"type": "integer"}, "id": {}, "name": {}},
    }
    data = {"b": 1, "zz": 0, "a": "x"}
    assert found(root, data) == [
        Problem(("b",), "expected a string, got the integer 1"),
        Problem(("zz",), "unknown property 'zz' (expected one of: b, a, id, name)", on_key=True),
        Problem(("a",), "expected an integer, got the string 'x'"),
        Problem((), "missing required property 'id'"),
        Problem((), "missing required property 'name'"),
    ]


def test_a_name_pattern_problem_comes_before_its_value_problem() -> None:
    root = {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z]+$"},
        "additionalProperties": {"type": "string"},
    }
    wording = messages.Wording({}, {}, {"^[a-z]+$": "name {value} must be lowercase"})
    assert found(root, {"A": 1}, wording) == [
        Problem(("A",), "name 'A' must be lowercase", on_key=True),
        Problem(("A",), "expected a string, got the integer 1"),
    ]


def test_a_pattern_worded_elsewhere_gives_no_problem() -> None:
    root = {"type": "object", "properties": {"g": {"type": "string", "pattern": "^x$"}}}
    assert found(root, {"g": "y"}, messages.Wording({}, {}, {"^x$": None})) == []
    assert found(root, {"g": "y"}) == [Problem(("g",), "'y' does not match ^x$")]


def test_each_repeated_item_is_named_where_it_repeats() -> None:
    problems = schema.check("config", {"protectedPartners": ["a", "b", "a", "a"]})
    duplicates = [p for p in problems if "twice" in p.message]
    assert duplicates == [
        Problem(("protectedPartners", 2), "'a' is listed twice in protectedPartners"),
        Problem(("protectedPartners", 3), "'a' is listed twice in protectedPartners"),
    ]


@pytest.mark.parametrize(
    "safety, message",
    [
        ({"maxDeletes": -1}, "maxDeletes must be at least 0, got -1"),
        ({"maxUpdatePercent": 150}, "maxUpdatePercent must be between 0 and 100, got 150"),
        ({"maxUpdatePercent": -0.5}, "maxUpdatePercent must be between 0 and 100, got -0.5"),
    ],
)
def test_bounds(safety: dict[str, Any], message: str) -> None:
    assert [p.message for p in schema.check("config", {"safety": safety})] == [message]


def test_valid_data_takes_the_fast_path_and_gives_nothing() -> None:
    assert schema.check("partner", {"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}) == []


def test_members_missing_from_one_object_make_one_message_on_its_key() -> None:
    problems = schema.check("partner", {"tenantId": "x", "inboundTrust": {"isMfaAccepted": True}})
    assert problems == [
        Problem(
            ("inboundTrust",),
            "inboundTrust is missing isCompliantDeviceAccepted and isHybridAzureADJoinedDeviceAccepted: write "
            "every member (null means not set), or leave inboundTrust out to inherit it whole",
            on_key=True,
        )
    ]


def test_a_misspelled_member_is_not_also_missing() -> None:
    trust = {
        "isMfaAcepted": True,
        "isCompliantDeviceAccepted": None,
        "isHybridAzureADJoinedDeviceAccepted": None,
    }
    assert [p.message for p in schema.check("partner", {"tenantId": "x", "inboundTrust": trust})] == [
        "unknown property 'isMfaAcepted'; did you mean 'isMfaAccepted'? (names are case-sensitive)"
    ]


def test_the_top_of_a_file_and_a_list_item_miss_required_properties() -> None:
    data = {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "targets": [{}]}}}
    assert schema.check("partner", data) == [
        Problem(
            ("b2bCollaborationInbound", "usersAndGroups", "targets", 0), "missing required property 'target'"
        ),
        Problem(
            ("b2bCollaborationInbound", "usersAndGroups", "targets", 0),
            "missing required property 'targetType'",
        ),
        Problem((), "missing required property 'tenantId'"),
    ]


def test_the_null_hint_only_where_every_missing_member_may_be_null() -> None:
    root = {
        "type": "object",
        "properties": {
            "o": {
                "type": "object",
                "required": ["a", "b"],
                "properties": {"a": {"type": ["string", "null"]}, "b": {"type": "string"}},
            }
        },
    }
    wording = messages.Wording({}, {}, {}, "keep it", {"p": "leave it unset"})
    assert [p.message for p in found(root, {"o": {}}, wording)] == [
        "o is missing a and b: write every member, or leave o out to keep it"
    ]
    root["properties"]["p"] = {"type": "object", "properties": {"o": root["properties"]["o"]}}
    assert [p.message for p in found(root, {"p": {"o": {"b": "x"}}}, wording)] == [
        "o is missing a: write every member (null means not set), or leave o out to leave it unset"
    ]


@pytest.mark.parametrize(
    "value, style, expected",
    [
        ("true", "quoted", "the quoted string 'true'"),
        ("x\n", "block", "the block string 'x\\n'"),
        ("yes", None, "the string 'yes'"),
        (True, None, "the boolean true"),
        (3, None, "the integer 3"),
        (2.5, None, "the number 2.5"),
        (None, "empty", "an empty value (null)"),
        (None, None, "null"),
        ({}, None, "a mapping"),
        ([], None, "a list"),
    ],
)
def test_a_value_is_named_by_its_yaml_type(value: Any, style: str | None, expected: str) -> None:
    assert messages.received(value, style) == expected


TRUST = {
    "isMfaAccepted": None,
    "isCompliantDeviceAccepted": None,
    "isHybridAzureADJoinedDeviceAccepted": None,
}


def test_annotations_from_a_graph_response_at_any_depth() -> None:
    data = {"tenantId": "x", "@odata.context": "u", "inboundTrust": {**TRUST, "@odata.type": "#t"}}
    assert [p.message for p in schema.check("partner", data)] == [
        "'@odata.context' is an annotation from a Graph response, not a setting; remove it",
        "'@odata.type' is an annotation from a Graph response, not a setting; remove it",
    ]


def test_a_member_written_too_far_left_is_told_where_it_belongs() -> None:
    empty_above = {"tenantId": "x", "inboundTrust": None, "description": "d", "isMfaAccepted": True}
    assert [p.message for p in schema.check("partner", empty_above)] == [
        "unknown property 'isMfaAccepted' here: it belongs under 'inboundTrust' above, which is empty; "
        "indent it under inboundTrust"
    ]
    below = {"tenantId": "x", "isMfaAccepted": True, "inboundTrust": None}
    assert [p.message for p in schema.check("partner", below)] == [
        "unknown property 'isMfaAccepted' here: it is a member of inboundTrust; indent it under inboundTrust"
    ]
    setting = {"tenantId": "x", "usersAndGroups": None}
    assert [p.message for p in schema.check("partner", setting)] == [
        "unknown property 'usersAndGroups' here: it is a member of b2bCollaborationInbound and of 5 more; "
        "indent it under the one it belongs to"
    ]


def test_properties_of_another_file_name_that_file() -> None:
    assert [p.message for p in schema.check("partner", {"tenantId": "x", "allowedCloudEndpoints": []})] == [
        "'allowedCloudEndpoints' belongs in policies/policy.yaml: it is a setting of the root policy, not of a partner"
    ]
    assert [p.message for p in schema.check("default", {"identitySynchronization": None})] == [
        "'identitySynchronization' belongs in a partner file under policies/partners/: it exists only for partners"
    ]


def test_expected_shapes_and_hints() -> None:
    usersAndGroups = {"accessType": "allowed", "targets": ["6f546279-4da5-4b53-a095-09ea0cef9971"]}
    data = {"tenantId": "x", "b2bCollaborationInbound": {"usersAndGroups": usersAndGroups}}
    assert [p.message for p in schema.check("partner", data)] == [
        "expected a mapping {target: …, targetType: …}, got the string '6f546279-4da5-4b53-a095-09ea0cef9971'"
    ]
    styles = {("safety", "maxDeletes"): "quoted", ("prune",): "quoted"}
    assert [
        p.message for p in schema.check("config", {"prune": "true", "safety": {"maxDeletes": "12"}}, styles)
    ] == [
        "expected a boolean (true/false), got the quoted string 'true'; write it without quotes",
        "expected an integer or null, got the quoted string '12'; write it without quotes",
    ]
    assert [p.message for p in schema.check("config", {"prune": "on"})] == [
        "expected a boolean (true/false), got the string 'on'; write true or false"
    ]


def test_an_empty_mapping_property_is_a_warning_even_in_a_valid_file() -> None:
    consent = {"inboundAllowed": None, "outboundAllowed": None}
    data = {
        "tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1",
        "inboundTrust": None,
        "automaticUserConsentSettings": consent,
    }
    styles = {("inboundTrust",): "empty", ("automaticUserConsentSettings", "inboundAllowed"): "empty"}
    assert schema.check("partner", data, styles) == [
        Problem(
            ("inboundTrust",),
            "inboundTrust is empty (null) — did you mean to indent the lines below it?",
            "warning",
            on_key=True,
        )
    ]
    assert schema.check("partner", data) == []
