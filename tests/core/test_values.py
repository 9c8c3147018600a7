"""How values and resources read for people, the same in plans, drift reports and `xtap show` (issue #18)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.plan import Change
from reconciler.core.values import describe, format_value, title

GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (1, "1"),
        ("blocked", "blocked"),
        ([], "[]"),
        (
            [{"target": "AllUsers", "targetType": "user"}, {"target": GROUP, "targetType": "group"}],
            f"[AllUsers (user), {GROUP} (group)]",
        ),
        (["externalFederation", "azureActiveDirectory"], "[externalFederation, azureActiveDirectory]"),
        ([{"target": "AllUsers", "targetType": "user"}, "x"], "[{target: AllUsers, targetType: user}, x]"),
        ([{"displayName": "Contoso", "isDefault": False}], "[{displayName: Contoso, isDefault: false}]"),
        ({"isMfaAccepted": True, "rule": None}, "{isMfaAccepted: true, rule: null}"),
        ({}, "{}"),
    ],
)
def test_a_value_reads_on_one_line(value: Any, text: str) -> None:
    assert format_value(value) == text


def _change(resource: str, action: str) -> Change:
    return Change(action, resource, "fabrikam", "90e29127-71ad-49c7-9ce8-db3f41ea06f1", None)  # type: ignore[arg-type]


def test_a_partner_setting_going_to_null_says_what_it_inherits() -> None:
    defaults = {"inboundTrust": {"isMfaAccepted": True}}
    update = _change("partner", "update")
    assert describe(update, "inboundTrust.isMfaAccepted", None, defaults) == "inherit (default: true)"
    assert describe(update, "inboundTrust.isCompliantDeviceAccepted", None, defaults) == "inherit"
    assert describe(update, "inboundTrust.isMfaAccepted", False, defaults) == "false"
    assert describe(_change("partner", "delete"), "inboundTrust.isMfaAccepted", None, defaults) == "null"
    assert describe(_change("default", "update"), "inboundTrust.isMfaAccepted", None, defaults) == "null"


@pytest.mark.parametrize(
    ("resource", "name", "tenant", "text"),
    [
        ("default", "default", None, "default configuration"),
        ("policy", "policy", None, "cross-tenant access policy"),
        ("partner", "fabrikam", "90e2", "partner fabrikam (90e2)"),
        ("identitySynchronization", "fabrikam", "90e2", "identity sync fabrikam (90e2)"),
        ("partner", "90e2", "90e2", "partner 90e2"),
        ("partner", "", "90e2", "partner 90e2"),
        ("partner", "fabrikam", None, "partner fabrikam"),
    ],
)
def test_a_resource_is_named_for_people(resource: str, name: str, tenant: str | None, text: str) -> None:
    assert title(resource, name, tenant) == text
