"""JSON Schemas: generated from the metadata, committed as generated, and applied like jsonschema would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.cli import schemas
from reconciler.core import descriptions, model, schema
from reconciler.core.documents import parse_yaml
from reconciler.core.messages import Problem, suggest
from tests.support import REPO

KINDS: tuple[schema.Kind, ...] = ("partner", "default", "config")


@pytest.mark.parametrize("kind", KINDS)
def test_committed_schema_equals_generated(kind: schema.Kind) -> None:
    committed = (REPO / "schemas" / schema.FILE_NAMES[kind]).read_text("utf-8")
    assert committed == schema.render(kind), "run: python -m reconciler.cli.schemas --write schemas/"


def test_write_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert schemas.main(["--write", str(tmp_path)]) == 0
    for kind in KINDS:
        assert (tmp_path / schema.FILE_NAMES[kind]).read_text("utf-8") == schema.render(kind)
    assert capsys.readouterr().out.count("wrote ") == 4


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind: schema.Kind) -> None:
    built = schema.build(kind)
    assert built["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(built)


def _subschemas(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from _subschemas(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _subschemas(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _subschemas(node["additionalProperties"], f"{path}.*")


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_description_and_objects_are_closed(kind: schema.Kind) -> None:
    for path, node in _subschemas(schema.build(kind)):
        if not path.endswith("[]"):
            assert node.get("description"), f"{kind}{path} has no description"
            assert descriptions.GENERIC not in node["description"], (
                f"{kind}{path} has the generic description"
            )
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            closed = node.get("additionalProperties")
            assert closed is False or (path == ".tenants" and isinstance(closed, dict)), f"{kind}{path}"


def test_partner_schema_names_every_managed_property_and_only_those() -> None:
    built = schema.partner_schema()
    assert built["required"] == ["tenantId"]
    assert set(built["properties"]) == {
        "tenantId",
        "description",
        "ignore",
        "lintIgnore",
        *model.PARTNER_PROPERTIES,
        model.SYNC_PROPERTY,
    }
    for name in model.PARTNER_PROPERTIES:
        assert built["properties"][name]["type"] == ["object", "null"], name
    assert built["properties"]["tenantId"]["pattern"] == schema.GUID_PATTERN
    sync = built["properties"][model.SYNC_PROPERTY]
    assert set(sync["properties"]) == {"displayName", "userSyncInbound"}
    assert sync["properties"]["userSyncInbound"]["properties"]["isSyncAllowed"]["type"] == ["boolean", "null"]


def test_default_schema_has_no_tenant_and_no_read_only_properties() -> None:
    props = schema.default_schema()["properties"]
    assert set(props) == {"description", "ignore", *model.DEFAULT_PROPERTIES}
    assert "tenantId" not in props and "automaticUserConsentSettings" not in props


def test_what_leaving_a_property_out_means_is_said_per_file() -> None:
    partner = schema.partner_schema()["properties"]["inboundTrust"]["description"]
    default = schema.default_schema()["properties"]["inboundTrust"]["description"]
    assert partner.endswith(" Left out or null: inherits the default configuration.")
    assert default.endswith(" Left out: xtap leaves the tenant's value as it is.")
    assert "inherit" not in default


def test_shapes_enums_and_unmanaged_members() -> None:
    props = schema.partner_schema()["properties"]
    restrictions = props["tenantRestrictions"]["properties"]
    assert set(restrictions) == {"applications", "usersAndGroups"}  # no `devices`
    assert set(props["m365CollaborationInbound"]["properties"]) == {"users"}
    assert set(props["m365CollaborationOutbound"]["properties"]) == {"usersAndGroups"}
    assert set(props["appServiceConnectInbound"]["properties"]) == {"applications"}
    config = props["b2bCollaborationInbound"]["properties"]["usersAndGroups"]
    assert config["properties"]["accessType"]["enum"] == ["allowed", "blocked", None]
    target = config["properties"]["targets"]["items"]
    assert target["required"] == ["target", "targetType"]
    assert target["properties"]["targetType"]["enum"] == ["user", "group", "application"]
    assert set(props["inboundTrust"]["properties"]) == {
        "isMfaAccepted",
        "isCompliantDeviceAccepted",
        "isHybridAzureADJoinedDeviceAccepted",
    }


def test_config_schema_clouds_and_ignore() -> None:
    built = schema.config_schema()
    tenant = built["properties"]["tenants"]["additionalProperties"]
    assert tenant["properties"]["cloud"]["enum"] == ["global", "usgov", "usgovdod", "china"]
    assert set(built["properties"]["ignore"]["items"]["enum"]) == {
        *model.PARTNER_PROPERTIES,
        *model.DEFAULT_PROPERTIES,
        model.SYNC_PROPERTY,
    }


def _files() -> list[tuple[schema.Kind, Path]]:
    data = REPO / "tests" / "data"
    out: list[tuple[schema.Kind, Path]] = []
    for path in sorted((data / "invalid" / "partner").glob("*.yaml")) + sorted(
        (data / "valid").rglob("*.y*ml")
    ):
        out.append(("default" if path.stem.startswith("default-") else "partner", path))
    out += [("default", p) for p in sorted((data / "invalid" / "default").glob("*.yaml"))]
    out += [("config", p) for p in sorted((data / "invalid" / "config").glob("*.yaml"))]
    out += [("partner", p) for p in sorted((REPO / "policies" / "partners").glob("*.yaml"))]
    out += [("default", REPO / "policies" / "default.yaml"), ("config", REPO / "xtap.example.yaml")]
    return out


def _jsonschema_rejects(kind: schema.Kind, data: Any) -> bool:
    validator = jsonschema.Draft202012Validator(schema.build(kind))
    # GUID and tenant-name patterns are reported by rules.py (with a `\Z` test), not by the schema check.
    by_rules = (schema.GUID_PATTERN, schema.TENANT_NAME_PATTERN)
    return any(
        not (e.validator == "pattern" and e.validator_value in by_rules)
        and not (e.validator == "propertyNames" and e.validator_value.get("pattern") in by_rules)
        for e in validator.iter_errors(data)
    )


def _documents() -> list[tuple[schema.Kind, str, Any]]:
    out = []
    for kind, path in _files():
        doc, _ = parse_yaml(path.read_bytes(), path.name)
        if doc is not None:  # files that are not even a YAML mapping never reach the schema
            out.append((kind, path.stem, doc.data))
    return out


@pytest.mark.parametrize("kind,name,data", _documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_same_verdict_as_jsonschema(kind: schema.Kind, name: str, data: Any) -> None:
    assert bool(schema.check(kind, data)) == _jsonschema_rejects(kind, data)


def test_corpus_exercises_both_verdicts() -> None:
    documents = _documents()
    assert len(documents) >= 60
    assert {bool(schema.check(kind, data)) for kind, _, data in documents} == {True, False}


def test_json_booleans_are_not_numbers() -> None:
    # Python's True == 1 must not let `maxDeletes: true` or `isMfaAccepted: 1` through.
    problems = schema.check("config", {"safety": {"maxDeletes": True}})
    assert [p.message for p in problems] == ["expected an integer or null, got the boolean true"]
    trust = {
        "isMfaAccepted": 1,
        "isCompliantDeviceAccepted": None,
        "isHybridAzureADJoinedDeviceAccepted": None,
    }
    problems = schema.check("partner", {"tenantId": "x", "inboundTrust": trust})
    assert [p.message for p in problems] == ["expected a boolean (true/false), got the integer 1"]


def test_a_type_error_is_not_followed_by_an_enum_error() -> None:
    problems = schema.check("partner", {"tenantId": "x", "b2bCollaborationInbound": {"usersAndGroups": 3}})
    assert problems == [
        Problem(
            ("b2bCollaborationInbound", "usersAndGroups"),
            "expected a mapping {accessType: …, targets: …} or null, got the integer 3",
        )
    ]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("b2BCollaborationInbound", "b2bCollaborationInbound"),
        ("B2BDIRECTCONNECTOUTBOUND", "b2bDirectConnectOutbound"),
        ("inboundtrust", "inboundTrust"),
        ("tenantRestriction", "tenantRestrictions"),
        ("automaticUserConsent", "automaticUserConsentSettings"),
        ("colour", None),
    ],
)
def test_did_you_mean(name: str, expected: str | None) -> None:
    assert suggest(name, model.PARTNER_PROPERTIES) == expected


def test_generated_files_are_json_with_a_trailing_newline() -> None:
    for kind in KINDS:
        text = schema.render(kind)
        assert text.endswith("}\n")
        assert json.loads(text) == schema.build(kind)


@pytest.mark.parametrize(
    "type_name, plain",
    [
        ("crossTenantAccessPolicyInboundTrust", True),
        ("inboundOutboundPolicyConfiguration", True),
        ("crossTenantAccessPolicyTargetConfiguration", True),  # targets is a collection: still plain
        ("crossTenantAccessPolicyTarget", True),
        ("defaultInvitationRedemptionIdentityProviderConfiguration", True),
        ("crossTenantUserSyncInbound", True),
        ("crossTenantAccessPolicyB2BSetting", False),
        ("crossTenantAccessPolicyTenantRestrictions", False),  # devices is unmanaged; the rest are objects
        ("crossTenantAccessPolicyM365CollaborationInboundSetting", False),
        ("crossTenantIdentitySyncPolicyPartner", False),
        ("Edm.Boolean", False),
    ],
)
def test_objects_of_plain_values_are_told_from_the_metadata(type_name: str, plain: bool) -> None:
    assert schema.is_plain(type_name) is plain


def test_objects_of_plain_values_require_every_member_and_objects_of_objects_none() -> None:
    props = schema.partner_schema()["properties"]
    assert props["inboundTrust"]["required"] == [
        "isCompliantDeviceAccepted",
        "isHybridAzureADJoinedDeviceAccepted",
        "isMfaAccepted",
    ]
    assert props["automaticUserConsentSettings"]["required"] == ["inboundAllowed", "outboundAllowed"]
    setting = props["b2bCollaborationInbound"]
    assert "required" not in setting
    assert setting["properties"]["usersAndGroups"]["required"] == ["accessType", "targets"]
    assert "required" not in props["identitySynchronization"]


def test_the_default_identity_providers_are_the_documented_ones() -> None:
    config = schema.default_schema()["properties"]["invitationRedemptionIdentityProviderConfiguration"]
    assert config["required"] == ["fallbackIdentityProvider", "primaryIdentityProviderPrecedenceOrder"]
    fallback = config["properties"]["fallbackIdentityProvider"]
    assert (fallback["type"], fallback["enum"]) == (
        "string",
        ["defaultConfiguredIdp", "emailOneTimePasscode", "microsoftAccount"],
    )
    order = config["properties"]["primaryIdentityProviderPrecedenceOrder"]
    assert order["type"] == ["array", "null"] and order["uniqueItems"] is True
    assert order["items"]["enum"] == ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"]
