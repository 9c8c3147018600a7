"""Initial tenants the emulator can start from: "empty", "demo" and "generated:N".

A state dict (also what the state file holds) is:
`{"tenantId", "policy", "default", "partners": {tid: partner}, "identitySynchronization": {tid: policy},
"directory": {tid: {"displayName", "defaultDomainName", "federationBrandName"}}}`; a partner holds
Graph's property names, an absent property is null, unknown keys are kept as undocumented extras.
"""

from __future__ import annotations

import copy
import random
import uuid
from typing import Any

DEMO_TENANT = "0d3a6f1e-2b4c-4d5e-8f90-1a2b3c4d5e6f"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
CONTOSO = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
MTO = "123f4846-ba00-4fd7-ba43-dac1f8f63013"
UNMANAGED = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e"
WOODGROVE = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
TAILSPIN = "7b3c5e2a-1d4f-4a6b-8c9d-0e1f2a3b4c5d"
NORTHWIND = "5e8d2c1b-3a4f-4b6c-9d7e-8f0a1b2c3d4e"


def _targets(access: str, *targets: tuple[str, str]) -> dict[str, Any]:
    return {"accessType": access, "targets": [{"target": t, "targetType": tt} for t, tt in targets]}


def _b2b(
    users: str, apps: str, user_target: str = "AllUsers", app_target: str = "AllApplications"
) -> dict[str, Any]:
    return {
        "usersAndGroups": _targets(users, (user_target, "user")),
        "applications": _targets(apps, (app_target, "application")),
    }


def system_default() -> dict[str, Any]:
    """The default configuration of a tenant nobody has customized (Entra cross-tenant access overview:
    B2B collaboration allowed both ways, B2B direct connect blocked, no trust)."""
    return {
        "isServiceDefault": True,
        "inboundTrust": {
            "isMfaAccepted": False,
            "isCompliantDeviceAccepted": False,
            "isHybridAzureADJoinedDeviceAccepted": False,
        },
        "b2bCollaborationInbound": _b2b("allowed", "allowed"),
        "b2bCollaborationOutbound": _b2b("allowed", "allowed"),
        "b2bDirectConnectInbound": _b2b("blocked", "blocked"),
        "b2bDirectConnectOutbound": _b2b("blocked", "blocked"),
        "tenantRestrictions": _b2b("blocked", "blocked"),
        "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": [
                "externalFederation",
                "azureActiveDirectory",
                "socialIdentityProviders",
            ],
            "fallbackIdentityProvider": "defaultConfiguredIdp",
        },
        "appServiceConnectInbound": None,
        "m365CollaborationInbound": None,
        "m365CollaborationOutbound": None,
    }


def root_policy() -> dict[str, Any]:
    """The policy itself in a tenant nobody has customized: `allowedCloudEndpoints` is empty by default
    (v1.0 crossTenantAccessPolicy resource page)."""
    return {"displayName": "CrossTenantAccessPolicy", "allowedCloudEndpoints": []}


def _directory_entry(name: str, domain: str) -> dict[str, Any]:
    return {"displayName": name, "defaultDomainName": domain, "federationBrandName": None}


def empty(tenant_id: str = DEMO_TENANT) -> dict[str, Any]:
    return {
        "tenantId": tenant_id,
        "policy": root_policy(),
        "default": system_default(),
        "partners": {},
        "identitySynchronization": {},
        "directory": {tenant_id: _directory_entry("Contoso Home", "contosohome.onmicrosoft.com")},
    }


def demo() -> dict[str, Any]:
    """The demo tenant: one partner of each kind xtap meets (tests/data/emulator/graph_api_fixtures.json)."""
    state = empty(DEMO_TENANT)
    state["partners"] = {
        FABRIKAM: {
            "tenantId": FABRIKAM,
            "isInMultiTenantOrganization": False,
            "b2bCollaborationInbound": _b2b("allowed", "allowed"),
            "inboundTrust": {
                "isMfaAccepted": False,
                "isCompliantDeviceAccepted": False,
                "isHybridAzureADJoinedDeviceAccepted": False,
            },
        },
        CONTOSO: _contoso(),
        MTO: _mto(),
        UNMANAGED: {
            "tenantId": UNMANAGED,
            "isInMultiTenantOrganization": False,
            "b2bDirectConnectOutbound": _b2b("allowed", "allowed"),
        },
    }
    state["identitySynchronization"] = {
        CONTOSO: {
            "tenantId": CONTOSO,
            "displayName": "Contoso Ltd",
            "userSyncInbound": {"isSyncAllowed": True},
        }
    }
    state["directory"].update(
        {
            FABRIKAM: _directory_entry("Fabrikam, Inc.", "fabrikam.com"),
            CONTOSO: _directory_entry("Contoso Ltd", "contoso.com"),
            WOODGROVE: _directory_entry("Woodgrove Bank", "woodgrovebank.com"),
            TAILSPIN: _directory_entry("Tailspin Toys", "tailspintoys.com"),
            NORTHWIND: _directory_entry("Northwind Traders", "northwindtraders.com"),
            MTO: _directory_entry("Adatum Corporation", "adatum.com"),
            UNMANAGED: _directory_entry("Litware Inc.", "litware.com"),
        }
    )
    return state


def _contoso() -> dict[str, Any]:
    # Every setting customized.
    return {
        "tenantId": CONTOSO,
        "isServiceProvider": False,
        "isInMultiTenantOrganization": False,
        "inboundTrust": {
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": True,
            "isHybridAzureADJoinedDeviceAccepted": False,
        },
        "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True},
        "b2bCollaborationInbound": {
            "usersAndGroups": _targets(
                "allowed",
                ("6f546279-4da5-4b53-a095-09ea0cef9971", "group"),
                ("0a9e8a2b-5e0e-4b0b-9d8c-1c2f3a4b5c6d", "user"),
            ),
            "applications": _targets("allowed", ("AllApplications", "application")),
        },
        "b2bCollaborationOutbound": _b2b("allowed", "allowed"),
        "b2bDirectConnectInbound": _b2b("allowed", "allowed", app_target="Office365"),
        "tenantRestrictions": _b2b("blocked", "blocked"),
        "m365CollaborationInbound": {"users": _targets("allowed", ("AllUsers", "user"))},
    }


def _mto() -> dict[str, Any]:
    # An MTO member, partial shapes (as in the v1.0 Create response), an undocumented extra property.
    return {
        "tenantId": MTO,
        "isInMultiTenantOrganization": True,
        "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": None},
        "b2bDirectConnectInbound": {"applications": _targets("allowed", ("Office365", "application"))},
        "b2bDirectConnectOutbound": {
            "usersAndGroups": _targets(
                "blocked",
                ("6F546279-4DA5-4B53-A095-09EA0CEF9971", "group"),
                ("2b7c1d4e-8f9a-4b3c-9d2e-1f0a9b8c7d6e", "user"),
            )
        },
        "protectedContentSharing": {"inboundAllowed": None, "outboundAllowed": None},
    }


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _random_b2b(rng: random.Random, users_slot: str = "usersAndGroups") -> dict[str, Any]:
    # One access type for both halves keeps every generated partner valid: Entra refuses all users blocked
    # with applications allowed, and the reverse (cross-tenant access settings docs).
    access = rng.choice(("allowed", "blocked"))
    if rng.random() < 0.5:
        users = _targets(access, ("AllUsers", "user"))
    else:
        picks = [(_guid(rng), rng.choice(("user", "group"))) for _ in range(rng.randint(1, 3))]
        if users_slot == "users":
            # m365CollaborationInbound.users takes user targets only (its type says "users"); the draw above
            # still happens so every other generated value stays the same for a given seed.
            picks = [(target, "user") for target, _ in picks]
        users = _targets(access, *picks)
    if users_slot == "users":
        return {"users": users}
    app_target = rng.choice(("AllApplications", "Office365", _guid(rng)))
    return {users_slot: users, "applications": _targets(access, (app_target, "application"))}


def generated(n: int, seed: int = 0) -> dict[str, Any]:
    """A tenant with `n` partners whose settings are pseudo-random but fixed by `seed`."""
    rng = random.Random(seed)
    state = empty(DEMO_TENANT)
    for i in range(n):
        tid = _guid(rng)
        partner: dict[str, Any] = {"tenantId": tid, "isInMultiTenantOrganization": rng.random() < 0.05}
        for prop in (
            "b2bCollaborationInbound",
            "b2bCollaborationOutbound",
            "b2bDirectConnectInbound",
            "b2bDirectConnectOutbound",
            "tenantRestrictions",
        ):
            if rng.random() < 0.5:
                partner[prop] = _random_b2b(rng)
        if rng.random() < 0.5:
            partner["inboundTrust"] = {
                "isMfaAccepted": rng.random() < 0.5,
                "isCompliantDeviceAccepted": rng.random() < 0.5,
                "isHybridAzureADJoinedDeviceAccepted": rng.random() < 0.5,
            }
        if rng.random() < 0.3:
            partner["automaticUserConsentSettings"] = {
                "inboundAllowed": rng.random() < 0.5,
                "outboundAllowed": rng.random() < 0.5,
            }
        if rng.random() < 0.2:
            partner["m365CollaborationInbound"] = _random_b2b(rng, users_slot="users")
        state["partners"][tid] = partner
        if rng.random() < 0.1:
            state["identitySynchronization"][tid] = {
                "tenantId": tid,
                "displayName": f"Generated {i:05d}",
                "userSyncInbound": {"isSyncAllowed": rng.random() < 0.8},
            }
        state["directory"][tid] = _directory_entry(
            f"Generated Tenant {i:05d}", f"generated{i:05d}.onmicrosoft.com"
        )
    return state


def resolve(seed: str | dict[str, Any]) -> dict[str, Any]:
    """A fresh state dict for a seed name, or a deep copy of a given state dict."""
    if isinstance(seed, dict):
        return copy.deepcopy(seed)
    if seed == "empty":
        return empty()
    if seed == "demo":
        return demo()
    if seed.startswith("generated:"):
        count = seed.split(":", 1)[1]
        if count.isdigit():
            return generated(int(count))
    raise ValueError(f"unknown seed {seed!r}: use empty, demo or generated:N")
