"""What a write body may hold and how it changes the stored object: validation, the switches for
behaviour the docs leave open (nested nulls, read-only keys, POST properties), and PATCH semantics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core import metadata
from reconciler.emulator.config import Quirks
from reconciler.emulator.replies import GraphError
from reconciler.emulator.store import jcopy
from reconciler.emulator.validation import check_body, check_conflicting_access, check_target_mix

# The request-body properties of Microsoft's v1.0 "Create crossTenantAccessPolicyConfigurationPartner" page.
DOCUMENTED_POST = frozenset(
    {
        "tenantId",
        "inboundTrust",
        "automaticUserConsentSettings",
        "b2bCollaborationInbound",
        "b2bCollaborationOutbound",
        "b2bDirectConnectInbound",
        "b2bDirectConnectOutbound",
        "isServiceProvider",
    }
)


def merge(old: Any, new: Any) -> Any:
    """OData PATCH: complex values merge member by member, collections and primitives are replaced.

    Members the stored object has and the body leaves out survive, whether the metadata knows them or not.
    """
    if isinstance(new, dict):
        base = old if isinstance(old, dict) else {}
        out = dict(base)
        for key, value in new.items():
            out[key] = merge(base.get(key), value)
        return out
    return jcopy(new)


def _bad(message: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", message)


class BodyRules:
    def __init__(self, quirks: Quirks, patch_semantics: str) -> None:
        self.quirks = quirks
        self.patch_semantics = patch_semantics
        self._meta = metadata.load()

    def check(self, type_name: str, raw: Any) -> dict[str, Any]:
        """The body as an object of `type_name` under the active switches, or a 400/403."""
        body = check_body(type_name, raw)
        if self.quirks.reject_all_users_mix:
            check_target_mix(body)
        if self.quirks.reject_conflicting_access:
            check_conflicting_access(body)
        if self.quirks.forbid_service_provider_write and "isServiceProvider" in body:
            raise GraphError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if self.quirks.nested_nulls == "accept":
            return body
        stype = self._meta.type(type_name)
        return {key: self._top_level(stype, key, value) for key, value in body.items()}

    def documented_post(self, body: Mapping[str, Any]) -> None:
        """Under `post_properties="documented"`, a partner POST may carry only the Create page's properties."""
        if self.quirks.post_properties == "all":
            return
        for key in body:
            if key not in DOCUMENTED_POST:
                raise _bad(f"Invalid property '{key}'")

    # -- nested nulls ------------------------------------------------------------------------------
    def _top_level(self, stype: metadata.StructuredType, key: str, value: Any) -> Any:
        # A top-level null resets the property to inherit (documented); only members below it count.
        prop = stype.property(key)
        if prop is None or value is None:
            return value
        return self._value(prop, value, key)

    def _value(self, prop: metadata.Property, value: Any, path: str) -> Any:
        if isinstance(value, list):
            return [self._value(prop, item, path) for item in value]
        if not isinstance(value, dict) or prop.type not in self._meta.types:
            return value
        member_type = self._meta.type(prop.type)
        out: dict[str, Any] = {}
        for key, member in value.items():
            member_prop = member_type.property(key)
            if member_prop is None:  # @odata.type: validated already
                out[key] = member
            elif member is None:
                out[key] = self._nested_null(member_prop, key, path)
            else:
                out[key] = self._value(member_prop, member, f"{path}.{key}")
        return out

    def _nested_null(self, prop: metadata.Property, name: str, path: str) -> Any:
        if self.quirks.nested_nulls == "reject":
            raise _bad(f"Property '{name}' in '{path}' cannot be null.")
        return False if prop.type == "Edm.Boolean" and not prop.collection else None

    # -- read-only keys and patch semantics --------------------------------------------------------
    def read_only(self, body: dict[str, Any], names: tuple[str, ...], always: tuple[str, ...] = ()) -> None:
        """Refuse (or, when the switch says so, drop) read-only keys; `always` are refused in any case."""
        for name in names:
            if name in body:
                if self.quirks.read_only_keys == "reject" or name in always:
                    raise _bad(f"Property '{name}' is read-only and cannot be set.")
                del body[name]

    def apply_patch(self, old: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        """Merge (OData) or replace each top-level property the body carries; replace drops every member
        of that property the body leaves out, known to the metadata or not."""
        if self.patch_semantics == "replace":
            return {**old, **jcopy(dict(body))}
        merged = merge(old, body)
        assert isinstance(merged, dict)
        return merged
