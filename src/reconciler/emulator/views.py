"""How Graph shows the stored objects: property order, objects of nulls, `@odata.context`, `$select`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core import metadata
from reconciler.emulator.replies import GraphError

# The order real partner responses list their properties in; metadata-only ones follow.
_PARTNER_ORDER = (
    "tenantId",
    "isServiceProvider",
    "isInMultiTenantOrganization",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "tenantRestrictions",
    "appServiceConnectInbound",
    "m365CollaborationInbound",
    "m365CollaborationOutbound",
)
_DEFAULT_ORDER = (
    "isServiceDefault",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "tenantRestrictions",
    "invitationRedemptionIdentityProviderConfiguration",
    "appServiceConnectInbound",
    "m365CollaborationInbound",
    "m365CollaborationOutbound",
)
# Undocumented but always present in real partner responses, as an object of nulls when unset.
NULL_OBJECTS = ("automaticUserConsentSettings", "crossCloudMeetingConfiguration")
_NULL_MEMBERS = ("inboundAllowed", "outboundAllowed")


def _ordered(known: set[str], order: tuple[str, ...]) -> list[str]:
    return [p for p in order if p in known] + sorted(known - set(order))


def _null_object(value: Any) -> dict[str, Any]:
    source = value if isinstance(value, dict) else {}
    out = {member: source.get(member) for member in _NULL_MEMBERS}
    out.update({k: v for k, v in source.items() if k not in out})
    return out


def _with_extras(out: dict[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    # Members the v1.0 metadata does not know (seeded through the back door) come back as stored.
    for key, value in stored.items():
        if key not in out:
            out[key] = value
    return out


POLICY_TYPE = "crossTenantAccessPolicy"
# The key real responses carry (seen in a third-party tool's output of a live tenant; Microsoft's
# Get example omits it).
POLICY_ID = "crossTenantAccessPolicy"


def context(base: str, fragment: str) -> str:
    return f"{base}/v1.0/$metadata#{fragment}"


class Views:
    def __init__(self, meta: metadata.Metadata) -> None:
        partner_type = meta.type(metadata.PARTNER_TYPE)
        self.partner_props = _ordered({p.name for p in partner_type.properties}, _PARTNER_ORDER)
        self.partner_navs = {n.name for n in partner_type.navigation}
        default_known = {p.name for p in meta.type(metadata.DEFAULT_TYPE).properties} - {"id"}
        self.default_props = _ordered(default_known, _DEFAULT_ORDER)
        self.policy_props = [p.name for p in meta.type(POLICY_TYPE).properties]

    def policy(self, base: str, stored: Mapping[str, Any], select: list[str] | None = None) -> dict[str, Any]:
        """The policy itself: every property its v1.0 type declares (null when unset), in CSDL order."""
        out: dict[str, Any] = {prop: stored.get(prop) for prop in self.policy_props}
        out["id"] = POLICY_ID
        out = _with_extras(out, stored)
        if select is not None:
            for name in select:
                if name not in self.policy_props:
                    raise _no_such_property(name, POLICY_TYPE)
            out = {k: v for k, v in out.items() if k in select}
        fragment = (
            "policies/crossTenantAccessPolicy" + (f"({','.join(select)})" if select else "") + "/$entity"
        )
        return {"@odata.context": context(base, fragment), **out}

    def partner(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {prop: stored.get(prop) for prop in self.partner_props}
        for prop in NULL_OBJECTS:
            out[prop] = _null_object(stored.get(prop))
        return _with_extras(out, stored)

    def partner_entity(self, base: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "@odata.context": context(base, "policies/crossTenantAccessPolicy/partners/$entity"),
            **self.partner(stored),
        }

    def sync(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        out = {
            "tenantId": stored.get("tenantId"),
            "displayName": stored.get("displayName"),
            "userSyncInbound": stored.get("userSyncInbound"),
        }
        return _with_extras(out, stored)

    def sync_entity(self, base: str, tid: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        fragment = f"policies/crossTenantAccessPolicy/partners('{tid}')/identitySynchronization/$entity"
        return {"@odata.context": context(base, fragment), **self.sync(stored)}

    def default(self, base: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "@odata.context": context(base, "policies/crossTenantAccessPolicy/default/$entity")
        }
        for prop in self.default_props:
            out[prop] = stored.get(prop)
        # The default's automatic consent is documented as always false/false and read-only.
        out["automaticUserConsentSettings"] = {"inboundAllowed": False, "outboundAllowed": False}
        return _with_extras(out, stored)

    # -- $select / $expand -------------------------------------------------------------------------
    def select_expand(self, params: Mapping[str, str]) -> tuple[list[str] | None, bool]:
        select: list[str] | None = None
        if "$select" in params:
            select = [s.strip() for s in params["$select"].split(",") if s.strip()]
            valid = set(self.partner_props) | set(NULL_OBJECTS)
            for name in select:
                if name not in valid:
                    raise _no_such_property(name)
        expand = False
        if "$expand" in params:
            names = [s.strip() for s in params["$expand"].split(",") if s.strip()]
            for name in names:
                if name != "identitySynchronization":
                    raise _no_such_property(name)
            expand = bool(names)
        return select, expand

    @staticmethod
    def select_context(select: list[str] | None, expand: bool) -> str:
        if select is None and not expand:
            return ""
        names = list(select or ())
        if expand:
            names.append("identitySynchronization()")
        return "(" + ",".join(names) + ")"


def _no_such_property(name: str, type_name: str = metadata.PARTNER_TYPE) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"Parsing OData Select and Expand failed: Could not find a property named '{name}' on "
        f"type 'microsoft.graph.{type_name}'.",
    )
