"""Plain-data builders for tests: tenant ids, settings, desired partners, Graph-shaped live partners,
and what Graph does with a PATCH body (merge or replace)."""

from __future__ import annotations

from typing import Any

from reconciler.core import model
from reconciler.core.state import DesiredPartner, LivePartner, LiveState, SourceRef

FAB = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
CON = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
MTO = "123f4846-ba00-4fd7-ba43-dac1f8f63013"
URL = "/policies/crossTenantAccessPolicy/partners"

TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": True,
    "isHybridAzureADJoinedDeviceAccepted": True,
}
CONSENT = {"inboundAllowed": True, "outboundAllowed": True}
ALL_USERS = {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}
ALL_APPS = {"accessType": "allowed", "targets": [{"target": "AllApplications", "targetType": "application"}]}


def desired(tid: str, props: dict[str, Any], sync: dict[str, Any] | None = None, **kw: Any) -> DesiredPartner:
    return DesiredPartner(tid, props, sync, SourceRef(f"policies/partners/{tid[:4]}.yaml", 1, 1), **kw)


def fresh(tid: str, **props: Any) -> dict[str, Any]:
    """A partner as Graph returns it when everything inherits (the v1.0 example response), plus `props`."""
    raw: dict[str, Any] = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy/partners/$entity",
        "tenantId": tid,
        "isServiceProvider": None,
        "isInMultiTenantOrganization": False,
        **{name: None for name in model.PARTNER_PROPERTIES},
        "automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": None},
        "crossCloudMeetingConfiguration": {"inboundAllowed": None, "outboundAllowed": None},
    }
    raw.update(props)
    return raw


def live(*partners: LivePartner, default: dict[str, Any] | None = None) -> LiveState:
    return LiveState({p.tenant_id: p for p in partners}, default or {})


WOOD = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
LIT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e"


def apply_locally(raw: dict[str, Any], body: dict[str, Any], *, merge: bool) -> dict[str, Any]:
    """What Graph does with a PATCH body, under merge (OData) or replace semantics."""
    out = dict(raw)
    for key, value in body.items():
        out[key] = _merge(out.get(key), value) if merge else value
    return out


def _merge(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{k: _merge(old.get(k), v) for k, v in new.items()}}
    return new
