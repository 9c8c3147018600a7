"""Semantic rules (DESIGN §3, graph-api.md §6.4) on loaded policy data: pure functions, no I/O.

They run next to the schema check and must survive data the schema rejects, so every access is guarded;
a value the schema already refuses (a wrong enum, a wrong type) is not judged again here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core import metadata, model
from reconciler.core.schema import JsonPath, Problem, describe, suggest
from reconciler.core.state import SourceRef

TARGET_CONFIGURATION = "crossTenantAccessPolicyTargetConfiguration"
ACCESS_TYPES = ("allowed", "blocked")
# Which targetTypes fit each slot (graph-api.md §6.4); m365CollaborationInbound's slot is `users`.
SLOT_TYPES: dict[str, tuple[str, ...]] = {
    "usersAndGroups": ("user", "group"),
    "users": ("user",),
    "applications": ("application",),
}
# Keywords Graph accepts in place of an id, with the only targetType each goes with (case-sensitive).
KEYWORDS: dict[str, str] = {
    "AllUsers": "user",
    "AllApplications": "application",
    "Office365": "application",
    "AllMicrosoftApps": "application",
}
EXAMPLE_GUID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
# The default configuration's inbound settings cannot target specific users or groups (Entra portal).
DEFAULT_INBOUND = ("b2bCollaborationInbound", "b2bDirectConnectInbound")


def _guid_problem(path: JsonPath, value: Any, what: str) -> list[Problem]:
    if isinstance(value, str) and not model.is_guid(value):
        return [Problem(path, f"{what} must be a GUID (like {EXAMPLE_GUID}), got {describe(value)}")]
    return []


def _slots(owner: str, name: str) -> tuple[str, ...]:
    """The members of property `name` that are target configurations (usersAndGroups, applications, users)."""
    prop = metadata.load().type(owner).property(name)
    if prop is None or prop.type not in metadata.load().types:
        return ()
    members = metadata.load().type(prop.type).properties
    return tuple(p.name for p in members if p.type == TARGET_CONFIGURATION and p.name in SLOT_TYPES)


def _access(config: Any) -> str | None:
    if isinstance(config, dict) and config.get("accessType") in ACCESS_TYPES:
        value: str = config["accessType"]
        return value
    return None


def _target_items(config: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(config, dict) or not isinstance(config.get("targets"), list):
        return []
    return [(i, item) for i, item in enumerate(config["targets"]) if isinstance(item, dict)]


def _has_target(config: Any, keyword: str) -> bool:
    return any(item.get("target") == keyword for _, item in _target_items(config))


def check_targets(path: JsonPath, slot: str, config: Any) -> list[Problem]:
    """Rules on one target configuration (`path` leads to it, `slot` is its member name)."""
    problems: list[Problem] = []
    fits = SLOT_TYPES[slot]
    items = _target_items(config)
    seen: dict[tuple[str, str], int] = {}
    for index, item in items:
        here = (*path, "targets", index)
        target, target_type = item.get("target"), item.get("targetType")
        valid_type = target_type in ("user", "group", "application")
        if valid_type and target_type not in fits:
            expected = " or ".join(fits)
            message = f"targetType '{target_type}' does not fit {slot} (expected {expected})"
            problems.append(Problem((*here, "targetType"), message))
        elif isinstance(target, str) and target in KEYWORDS:
            needed = KEYWORDS[target]
            if valid_type and target_type != needed:
                message = f"'{target}' goes with targetType {needed}, got '{target_type}'"
                problems.append(Problem((*here, "targetType"), message))
            elif needed not in fits:
                problems.append(Problem((*here, "target"), f"'{target}' does not fit {slot}"))
        elif isinstance(target, str) and target and not model.is_guid(target):
            keywords = [k for k, t in KEYWORDS.items() if t in fits]
            guess = suggest(target, keywords)
            hint = f"; did you mean '{guess}'?" if guess else ""
            message = f"target must be a GUID or one of {', '.join(keywords)}, got {describe(target)}{hint}"
            problems.append(Problem((*here, "target"), message))
        if isinstance(target, str) and isinstance(target_type, str):
            key = (target_type, target.lower() if model.is_guid(target) else target)
            if key in seen:
                message = f"duplicate target {describe(target)} (same as item {seen[key] + 1} of this list)"
                problems.append(Problem((*here, "target"), message, "warning"))
            else:
                seen[key] = index
    distinct = {(item.get("targetType"), item.get("target")) for _, item in items}
    if len(distinct) > 1:
        for index, item in items:
            if item.get("target") == "AllUsers":
                message = "AllUsers cannot be mixed with other targets in the same list"
                problems.append(Problem((*path, "targets", index, "target"), message))
            elif item.get("target") == "AllApplications":
                message = "AllApplications already covers every application; the other targets are redundant"
                problems.append(Problem((*path, "targets", index, "target"), message, "warning"))
    return problems


def check_access_types(name: str, setting: Any) -> list[Problem]:
    """Users/groups access must not contradict applications access (graph-api.md §6.4)."""
    if not isinstance(setting, dict):
        return []
    users, apps = setting.get("usersAndGroups"), setting.get("applications")
    user_access, app_access = _access(users), _access(apps)
    if user_access is None or app_access is None or user_access == app_access:
        return []
    at = (name, "applications", "accessType")
    if user_access == "blocked" and _has_target(users, "AllUsers"):
        message = f"{name} blocks all users but allows applications; block the applications too"
        return [Problem(at, message)]
    if user_access == "allowed" and _has_target(apps, "AllApplications"):
        message = f"{name} allows users but blocks all applications; allow at least one application"
        return [Problem(at, message)]
    # Any other mix is normal ("users in g1 can't access any application, everyone else only a1"): whether
    # the effective rule lets nobody in is a posture question, `xtap lint` XTAP009 (core/lint.py).
    return []


def _check_settings(data: Mapping[str, Any], owner: str, names: Sequence[str]) -> list[Problem]:
    problems: list[Problem] = []
    for name in names:
        setting = data.get(name)
        if not isinstance(setting, dict):
            continue
        for slot in _slots(owner, name):
            problems.extend(check_targets((name, slot), slot, setting.get(slot)))
        problems.extend(check_access_types(name, setting))
    return problems


def _check_ignored_but_set(data: Mapping[str, Any]) -> list[Problem]:
    ignore = data.get("ignore")
    if not isinstance(ignore, list):
        return []
    return [
        Problem((name,), f"'{name}' is listed in ignore, so this value is not applied", "warning", True)
        for name in data
        if name in ignore
    ]


def check_partner(data: Mapping[str, Any]) -> list[Problem]:
    """Every semantic problem of one partner file."""
    problems = _guid_problem(("tenantId",), data.get("tenantId"), "tenantId")
    problems += _check_settings(data, metadata.PARTNER_TYPE, model.PARTNER_PROPERTIES)
    problems += _check_ignored_but_set(data)
    return problems


def check_default(data: Mapping[str, Any]) -> list[Problem]:
    """Every semantic problem of default.yaml."""
    problems = _check_settings(data, metadata.DEFAULT_TYPE, model.DEFAULT_PROPERTIES)
    for name in DEFAULT_INBOUND:
        setting = data.get(name)
        users = setting.get("usersAndGroups") if isinstance(setting, dict) else None
        for index, item in _target_items(users):
            if item.get("target") != "AllUsers" and isinstance(item.get("target"), str):
                message = (
                    "the default inbound settings cannot target specific users or groups "
                    "(Entra allows only AllUsers here)"
                )
                problems.append(
                    Problem((name, "usersAndGroups", "targets", index, "target"), message, "warning")
                )
    problems += _check_ignored_but_set(data)
    return problems


def check_config(data: Mapping[str, Any]) -> list[Problem]:
    """Semantic problems of xtap.yaml: GUIDs, and tenants that cannot be told apart."""
    problems: list[Problem] = []
    tenants = data.get("tenants")
    if isinstance(tenants, dict):
        first_by_id: dict[str, str] = {}
        for name, tenant in tenants.items():
            if not isinstance(tenant, dict):
                continue
            tenant_id = tenant.get("tenantId")
            problems += _guid_problem(("tenants", name, "tenantId"), tenant_id, "tenantId")
            if tenant_id is None and len(tenants) > 1:
                message = f"tenant '{name}' needs a tenantId when xtap.yaml names several tenants"
                problems.append(Problem(("tenants", name), message, on_key=True))
            if isinstance(tenant_id, str) and model.is_guid(tenant_id):
                other = first_by_id.setdefault(tenant_id.lower(), name)
                if other != name:
                    message = f"tenantId {tenant_id.lower()} is also the tenantId of tenant '{other}'"
                    problems.append(Problem(("tenants", name, "tenantId"), message))
    protected = data.get("protectedPartners")
    if isinstance(protected, list):
        for index, value in enumerate(protected):
            problems += _guid_problem(("protectedPartners", index), value, "a protected partner")
    return problems


def duplicate_tenants(declared: Sequence[tuple[str, SourceRef]]) -> list[tuple[SourceRef, str]]:
    """A tenantId in two files: an error on each later file, naming where it was first declared."""
    first: dict[str, SourceRef] = {}
    out = []
    for tenant_id, ref in declared:
        if tenant_id in first:
            out.append((ref, f"tenantId {tenant_id} is also declared in {first[tenant_id]}"))
        else:
            first[tenant_id] = ref
    return out


def home_tenant(
    declared: Sequence[tuple[str, SourceRef]], home: frozenset[str]
) -> list[tuple[SourceRef, str]]:
    """The tenant being configured cannot be its own partner."""
    return [
        (ref, f"tenantId {tenant_id} is the home tenant itself; a tenant cannot be its own partner")
        for tenant_id, ref in declared
        if tenant_id in home
    ]
