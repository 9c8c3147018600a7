"""What a write body may hold and how it changes the stored object: validation, the switches for
behaviour the docs leave open, read-only keys, and PATCH semantics (merge or replace)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.emulator.config import Quirks
from reconciler.emulator.replies import GraphError
from reconciler.emulator.store import jcopy
from reconciler.emulator.validation import check_body, check_conflicting_access, check_target_mix


def merge(old: Any, new: Any) -> Any:
    """OData PATCH: complex values merge member by member, collections and primitives are replaced."""
    if isinstance(new, dict):
        base = old if isinstance(old, dict) else {}
        out = dict(base)
        for key, value in new.items():
            out[key] = merge(base.get(key), value)
        return out
    return jcopy(new)


class BodyRules:
    def __init__(self, quirks: Quirks, patch_semantics: str) -> None:
        self.quirks = quirks
        self.patch_semantics = patch_semantics

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
        return body

    def read_only(self, body: dict[str, Any], names: tuple[str, ...], always: tuple[str, ...] = ()) -> None:
        """Refuse (or, when the switch says so, drop) read-only keys; `always` are refused in any case."""
        for name in names:
            if name in body:
                if self.quirks.reject_read_only or name in always:
                    raise GraphError(
                        400, "Request_BadRequest", f"Property '{name}' is read-only and cannot be set."
                    )
                del body[name]

    def apply_patch(self, old: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        if self.patch_semantics == "replace":
            return {**old, **jcopy(dict(body))}
        merged = merge(old, body)
        assert isinstance(merged, dict)
        return merged
