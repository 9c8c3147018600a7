"""Request-body checks against the Graph v1.0 metadata, the way Graph rejects bodies it cannot bind.

Property names are case-sensitive: `b2BCollaborationInbound` is not `b2bCollaborationInbound` and gets
400 Request_BadRequest "Invalid property 'b2BCollaborationInbound'" (the error msgraph-sdk-powershell#3320
reports for exactly that spelling).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core import metadata


@dataclass(frozen=True)
class BodyError(Exception):
    """A body Graph would refuse: status, Graph error code and message."""

    status: int
    code: str
    message: str


def _bad(message: str) -> BodyError:
    return BodyError(400, "Request_BadRequest", message)


def _check_primitive(name: str, type_name: str, value: Any) -> None:
    ok = {
        "Edm.Boolean": isinstance(value, bool),
        "Edm.String": isinstance(value, str),
        "Edm.Int32": isinstance(value, int) and not isinstance(value, bool),
        "Edm.DateTimeOffset": isinstance(value, str),
    }.get(type_name, True)
    if not ok:
        raise _bad(f"Cannot convert the literal '{_literal(value)}' to the expected type '{type_name}'.")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def check_value(meta: metadata.Metadata, prop: metadata.Property, value: Any, path: str) -> None:
    if value is None:
        if not prop.nullable:
            raise _bad(f"Property '{path}' cannot be null.")
        return
    if prop.collection:
        if not isinstance(value, list):
            raise _bad(f"Invalid value for property '{path}': a collection is expected.")
        item = metadata.Property(prop.name, prop.type, collection=False, nullable=True)
        for element in value:
            if element is None:
                raise _bad(f"A null value was found for the property named '{path}', which is a collection.")
            check_value(meta, item, element, path)
        return
    if meta.is_primitive(prop.type):
        _check_primitive(path, prop.type, value)
    elif meta.is_enum(prop.type):
        if not isinstance(value, str) or value not in meta.enums[prop.type]:
            raise _bad(
                f"Invalid value '{_literal(value)}' for property '{path}': not a member of enum type "
                f"'microsoft.graph.{prop.type}'."
            )
    else:
        if not isinstance(value, dict):
            raise _bad(
                f"Invalid value for property '{path}': an object of type 'microsoft.graph.{prop.type}' is expected."
            )
        check_object(meta, meta.type(prop.type), value)


def check_object(meta: metadata.Metadata, stype: metadata.StructuredType, body: Mapping[str, Any]) -> None:
    """Every key must be a declared property with exactly this spelling, and every value must bind."""
    for key, value in body.items():
        if key == "@odata.type":
            if value != f"#microsoft.graph.{stype.name}":
                raise _bad(f"Invalid value '{_literal(value)}' for annotation '@odata.type'.")
            continue
        prop = stype.property(key)
        if prop is None:
            raise _bad(f"Invalid property '{key}'")
        check_value(meta, prop, value, key)


def check_body(type_name: str, body: Any) -> dict[str, Any]:
    """The body as an object of `type_name`, or BodyError."""
    if not isinstance(body, dict):
        raise BodyError(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
            "valid JSON format.",
        )
    meta = metadata.load()
    check_object(meta, meta.type(type_name), body)
    return {k: v for k, v in body.items() if k != "@odata.type"}


def _targets(setting: Any, slot: str) -> list[dict[str, Any]]:
    config = setting.get(slot) if isinstance(setting, dict) else None
    targets = config.get("targets") if isinstance(config, dict) else None
    return [t for t in targets or () if isinstance(t, dict)]


def _access(setting: Any, slot: str) -> str | None:
    config = setting.get(slot) if isinstance(setting, dict) else None
    value = config.get("accessType") if isinstance(config, dict) else None
    return value if isinstance(value, str) else None


def check_target_mix(body: Mapping[str, Any]) -> None:
    """AllUsers mixed with specific ids in one targets array (unverified service rule; a switch)."""
    for key, setting in body.items():
        for slot in ("usersAndGroups", "users"):
            names = [t.get("target") for t in _targets(setting, slot)]
            if "AllUsers" in names and len(names) > 1:
                raise _bad(
                    f"Invalid targets in '{key}.{slot}': 'AllUsers' cannot be combined with other targets."
                )


def check_conflicting_access(body: Mapping[str, Any]) -> None:
    """All users blocked while applications are allowed, or the reverse (the Entra docs call it not allowed,
    but not as an API error: a switch)."""
    for key, setting in body.items():
        users, apps = _access(setting, "usersAndGroups"), _access(setting, "applications")
        all_users = any(t.get("target") == "AllUsers" for t in _targets(setting, "usersAndGroups"))
        all_apps = any(t.get("target") == "AllApplications" for t in _targets(setting, "applications"))
        if (users == "blocked" and all_users and apps == "allowed") or (
            users == "allowed" and apps == "blocked" and all_apps
        ):
            raise _bad(f"Conflicting access types in '{key}': usersAndGroups and applications contradict.")
