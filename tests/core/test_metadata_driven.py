"""A newer metadata needs no code: schemas and validation follow a synthetic excerpt with a new complex
property (an Edm.Int32 and an Edm.String member), a new enum member and a new target slot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.core import descriptions, messages, metadata, model, rules, schema
from reconciler.core.messages import Problem
from reconciler.shell.files import load_desired
from tests.core.test_messages import keywords
from tests.support.e2e import xtap
from tests.support.metadata import GUEST_LIMITS_DESCRIPTION, LABEL_DESCRIPTION, synthetic

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
INT32 = (-(2**31), 2**31 - 1)


@pytest.fixture
def newer() -> Iterator[metadata.Metadata]:
    with metadata.using(synthetic()) as md:
        yield md


def test_using_swaps_the_metadata_for_the_block_only() -> None:
    shipped = metadata.load()
    with metadata.using(synthetic()) as md:
        assert metadata.load() is md
        assert "guestLimits" in model.PARTNER_PROPERTIES
    assert metadata.load() is shipped
    assert "guestLimits" not in model.PARTNER_PROPERTIES


def test_descriptions_are_read_inline_and_out_of_line(newer: metadata.Metadata) -> None:
    limits = newer.type(metadata.PARTNER_TYPE).property("guestLimits")
    assert limits is not None and limits.description == GUEST_LIMITS_DESCRIPTION
    label = newer.type("crossTenantAccessPolicyGuestLimits").property("label")
    assert label is not None and label.description == LABEL_DESCRIPTION


def test_the_partner_schema_follows_the_metadata(newer: metadata.Metadata) -> None:
    built = schema.build("partner")
    jsonschema.Draft202012Validator.check_schema(built)
    limits = built["properties"]["guestLimits"]
    assert (
        limits["description"]
        == f"{GUEST_LIMITS_DESCRIPTION} Left out or null: inherits the default configuration."
    )
    assert limits["type"] == ["object", "null"]
    assert limits["properties"]["maxGuests"] == {
        "description": f"Microsoft Graph's crossTenantAccessPolicyGuestLimits.maxGuests (Edm.Int32). {descriptions.GENERIC}",
        "type": ["integer", "null"],
        "minimum": INT32[0],
        "maximum": INT32[1],
    }
    assert limits["properties"]["label"] == {"description": LABEL_DESCRIPTION, "type": ["string", "null"]}
    inbound = built["properties"]["b2bCollaborationInbound"]["properties"]
    assert list(inbound) == ["servicePrincipals", "applications", "usersAndGroups"]
    assert inbound["servicePrincipals"]["properties"]["accessType"]["enum"] == [
        "allowed",
        "blocked",
        "audited",
        None,
    ]
    targets = inbound["servicePrincipals"]["properties"]["targets"]["items"]["properties"]
    assert targets["targetType"]["enum"] == ["user", "group", "application", "servicePrincipal"]
    assert "guestLimits" in built["properties"]["ignore"]["items"]["enum"]
    assert set(keywords(built)) <= messages.HANDLED_KEYWORDS | messages.ANNOTATION_KEYWORDS


def test_the_default_schema_follows_the_metadata_with_a_generic_description(newer: metadata.Metadata) -> None:
    limits = schema.build("default")["properties"]["guestLimits"]
    assert limits["description"] == (
        "Microsoft Graph's crossTenantAccessPolicyConfigurationDefault.guestLimits "
        f"(crossTenantAccessPolicyGuestLimits). {descriptions.GENERIC} Left out: xtap leaves the tenant's value as it is."
    )


def partner(**properties: Any) -> dict[str, Any]:
    return {"tenantId": FABRIKAM, **properties}


def test_new_members_and_values_are_valid(newer: metadata.Metadata) -> None:
    data = partner(
        guestLimits={"maxGuests": 25, "label": "pilot"},
        b2bCollaborationInbound={
            "servicePrincipals": {
                "accessType": "audited",
                "targets": [{"target": GROUP, "targetType": "servicePrincipal"}],
            }
        },
    )
    assert schema.check("partner", data) == []
    assert rules.check_partner(data) == []


@pytest.mark.parametrize(
    "value, message",
    [
        ("ten", "expected an integer or null, got the string 'ten'"),
        (2.5, "expected an integer or null, got the number 2.5"),
        (True, "expected an integer or null, got the boolean true"),
        (2**31, f"maxGuests must be between {INT32[0]} and {INT32[1]}, got {2**31}"),
        (-(2**31) - 1, f"maxGuests must be between {INT32[0]} and {INT32[1]}, got {-(2**31) - 1}"),
    ],
)
def test_an_int32_member_is_checked(newer: metadata.Metadata, value: Any, message: str) -> None:
    problems = schema.check("partner", partner(guestLimits={"maxGuests": value, "label": None}))
    assert problems == [Problem(("guestLimits", "maxGuests"), message)]


def test_new_names_get_suggestions_and_enums_list_the_new_member(newer: metadata.Metadata) -> None:
    data = partner(
        guestLimits={"maxguests": 3, "label": None},
        b2bDirectConnectOutbound={"servicePrincipals": {"accessType": "audit", "targets": []}},
    )
    assert schema.check("partner", data) == [
        Problem(
            ("guestLimits", "maxguests"),
            "unknown property 'maxguests'; did you mean 'maxGuests'? (names are case-sensitive)",
            on_key=True,
        ),
        Problem(
            ("b2bDirectConnectOutbound", "servicePrincipals", "accessType"),
            "accessType must be one of allowed, blocked, audited, got 'audit'; did you mean 'audited'?",
        ),
    ]


def test_the_rules_check_a_new_target_slot(newer: metadata.Metadata) -> None:
    slot = ("tenantRestrictions", "servicePrincipals", "targets")
    data = partner(
        tenantRestrictions={
            "servicePrincipals": {
                "accessType": "allowed",
                "targets": [
                    {"target": "alice@contoso.com", "targetType": "user"},
                    {"target": "AllUsers", "targetType": "group"},
                    {"target": GROUP, "targetType": "servicePrincipal"},
                    {"target": GROUP.upper(), "targetType": "servicePrincipal"},
                ],
            }
        }
    )
    assert rules.check_partner(data) == [
        Problem(
            (*slot, 0, "target"),
            "target must be a GUID or one of AllUsers, AllApplications, Office365, AllMicrosoftApps, "
            "got 'alice@contoso.com'",
        ),
        Problem((*slot, 1, "targetType"), "'AllUsers' goes with targetType user, got 'group'"),
        Problem(
            (*slot, 3, "target"),
            f"duplicate target '{GROUP.upper()}' (same as item 3 of this list)",
            "warning",
        ),
        Problem((*slot, 1, "target"), "AllUsers cannot be mixed with other targets in the same list"),
    ]


def test_a_new_target_type_does_not_fit_a_documented_slot(newer: metadata.Metadata) -> None:
    data = partner(
        b2bCollaborationInbound={
            "usersAndGroups": {
                "accessType": "allowed",
                "targets": [{"target": GROUP, "targetType": "servicePrincipal"}],
            }
        }
    )
    assert rules.check_partner(data) == [
        Problem(
            ("b2bCollaborationInbound", "usersAndGroups", "targets", 0, "targetType"),
            "targetType 'servicePrincipal' does not fit usersAndGroups (expected user or group)",
        )
    ]


def test_the_shipped_metadata_refuses_what_the_newer_one_allows() -> None:
    problems = schema.check("partner", partner(guestLimits={"maxGuests": 1, "label": None}))
    assert [p.message for p in problems] == ["unknown property 'guestLimits'"]


def test_xtap_validate_with_the_newer_metadata(
    newer: metadata.Metadata,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AZURE_TENANT_ID", raising=False)
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "a.yaml").write_text(
        f"tenantId: {FABRIKAM}\nguestLimits:\n  maxGuests: 5000000000\n  label: pilot\n", encoding="utf-8"
    )
    (tmp_path / "policies" / "default.yaml").write_text(
        "guestLimits: {maxGuests: 10, label: null}\n", encoding="utf-8"
    )
    code, out, err = xtap(capsys, "validate")
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"policies/partners/a.yaml:3:14: error: maxGuests must be between {INT32[0]} and {INT32[1]}, got 5000000000",
        "1 error, 0 warnings in 2 files",
    ]
    (partners / "a.yaml").write_text(
        f"tenantId: {FABRIKAM}\nguestLimits: {{maxGuests: 50, label: pilot}}\n", encoding="utf-8"
    )
    result = load_desired(Path("policies"))
    assert result.diagnostics == ()
    assert result.desired.partners[FABRIKAM].properties == {
        "guestLimits": {"maxGuests": 50, "label": "pilot"}
    }
    assert result.desired.default is not None
    assert result.desired.default.properties == {"guestLimits": {"maxGuests": 10, "label": None}}


def test_a_new_string_member_is_checked_for_control_characters(newer: metadata.Metadata) -> None:
    assert rules.check_partner(partner(guestLimits={"maxGuests": 1, "label": "pilot\x00"})) == [
        Problem(("guestLimits", "label"), "label must not contain control characters, got 'pilot\\x00'")
    ]
    assert rules.check_default({"guestLimits": {"maxGuests": 1, "label": "a\nb"}}) == [
        Problem(("guestLimits", "label"), "label must not contain control characters, got 'a\\nb'")
    ]
