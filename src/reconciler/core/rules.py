"""Semantic rules on loaded policy data (targets, access types, keywords, tenants): pure functions, no I/O.

They run next to the schema check and must survive data the schema rejects, so every access is guarded;
a value the schema already refuses (a wrong enum, a wrong type) is not judged again here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler.core import metadata, model
from reconciler.core.messages import JsonPath, Problem, describe, suggest
from reconciler.core.state import SourceRef

TARGET_CONFIGURATION = "crossTenantAccessPolicyTargetConfiguration"
TARGET_TYPE = "crossTenantAccessPolicyTargetType"
TARGET_MEMBER = ("crossTenantAccessPolicyTarget", "target")
ACCESS_TYPES = ("allowed", "blocked")
# Which targetTypes fit each slot Microsoft documents; m365CollaborationInbound's slot is `users`. A slot
# the metadata adds later takes every targetType of the metadata until someone knows better.
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
TENANT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
# C0, DEL, C1 and the line/paragraph separators: never in a name, a path or a string sent to Graph.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The default configuration's inbound settings cannot target specific users or groups (Entra portal).
DEFAULT_INBOUND = ("b2bCollaborationInbound", "b2bDirectConnectInbound")


def has_control(text: str) -> bool:
    return _CONTROL_RE.search(text) is not None


def _guid_problem(path: JsonPath, value: Any, what: str) -> list[Problem]:
    if isinstance(value, str) and not model.is_guid(value):
        return [Problem(path, f"{what} must be a GUID (like {EXAMPLE_GUID}), got {describe(value)}")]
    return []


def _target_types() -> tuple[str, ...]:
    md = metadata.load()
    types = md.enums[TARGET_TYPE]
    return model.derived(
        md, "rules:target-types", lambda: tuple(t for t in types if t != "unknownFutureValue")
    )


def _slots(owner: str) -> dict[str, tuple[str, ...]]:
    """Per property of `owner`: its members that are target configurations (usersAndGroups, applications,
    users). Worked out once per metadata."""
    md = metadata.load()
    return model.derived(md, f"rules:slots:{owner}", lambda: _find_slots(md, owner))


def _find_slots(md: metadata.Metadata, owner: str) -> dict[str, tuple[str, ...]]:
    out = {}
    for prop in md.type(owner).properties:
        if prop.type in md.types:
            members = md.type(prop.type).properties
            out[prop.name] = tuple(
                p.name for p in members if p.type == TARGET_CONFIGURATION and not p.collection
            )
    return out


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


def _needs_targets(path: JsonPath, config: Any) -> list[Problem]:
    """Allowed or blocked must say whom: Graph has no meaning for an access type over no targets. (A
    `targets` left out is reported by the schema: a target configuration is written complete.)"""
    access = _access(config)
    if access is None or "targets" not in config or config["targets"] not in (None, []):
        return []
    shown = "empty" if config["targets"] == [] else "null"
    message = f"accessType {access} needs at least one target; targets is {shown}"
    return [Problem((*path, "targets"), message)]


def check_targets(path: JsonPath, slot: str, config: Any) -> list[Problem]:
    """Rules on one target configuration (`path` leads to it, `slot` is its member name)."""
    problems = _needs_targets(path, config)
    known_types = _target_types()
    fits = SLOT_TYPES.get(slot) or known_types
    items = _target_items(config)
    seen: dict[tuple[str, str], int] = {}
    for index, item in items:
        here = (*path, "targets", index)
        target, target_type = item.get("target"), item.get("targetType")
        valid_type = target_type in known_types
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
    """Users/groups access must not contradict applications access (Entra cross-tenant access overview,
    "Important considerations": blocking all users needs all apps blocked, and the reverse)."""
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
    slots = _slots(owner)
    for name in names:
        setting = data.get(name)
        if not isinstance(setting, dict):
            continue
        for slot in slots[name]:  # `names` are complex properties of `owner`: each has its (maybe no) slots
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


# A step into a collection: every item.
_EACH = -1
# A metadata type may (in principle) contain itself; files nest at most 32 levels anyway.
_MAX_TYPE_DEPTH = 16


def _string_paths(owner: str) -> dict[str, tuple[JsonPath, ...]]:
    """Per property of `owner`: where free text (Edm.String) can be in it. Worked out once per metadata;
    most properties hold none, and their check then costs nothing."""
    md = metadata.load()
    return model.derived(md, f"rules:strings:{owner}", lambda: _find_strings(md, owner))


def _find_strings(md: metadata.Metadata, owner: str) -> dict[str, tuple[JsonPath, ...]]:
    return {p.name: tuple(_walk_strings(md, p, (p.name,), 0)) for p in md.type(owner).properties}


def _walk_strings(
    md: metadata.Metadata, prop: metadata.Property, path: JsonPath, depth: int
) -> Iterator[JsonPath]:
    here = (*path, _EACH) if prop.collection else path
    if prop.type == "Edm.String":
        yield here
    elif prop.type in md.types and depth < _MAX_TYPE_DEPTH:
        for member in md.type(prop.type).properties:
            if (prop.type, member.name) != TARGET_MEMBER:  # check_targets says what a target may be
                yield from _walk_strings(md, member, (*here, member.name), depth + 1)


def _values_at(value: Any, pattern: JsonPath, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """The values of `value` at a path pattern (`_EACH` for every item of a list), with their real paths."""
    if not pattern:
        yield path, value
    elif pattern[0] == _EACH:
        for index, item in enumerate(value) if isinstance(value, list) else ():
            yield from _values_at(item, pattern[1:], (*path, index))
    elif isinstance(value, dict) and pattern[0] in value:
        yield from _values_at(value[pattern[0]], pattern[1:], (*path, pattern[0]))


def check_control_characters(data: Mapping[str, Any], owner: str, names: Sequence[str]) -> list[Problem]:
    """Strings sent to Graph carry no control character: a NUL or a newline in a display name would be
    stored in the tenant and printed raw by every tool that shows it."""
    problems = []
    strings = _string_paths(owner)
    for name in names:
        for pattern in strings[name]:  # `names` are properties of `owner`
            for path, text in _values_at(data, pattern):
                if isinstance(text, str) and has_control(text):
                    message = f"{_last(path)} must not contain control characters, got {describe(text)}"
                    problems.append(Problem(path, message))
    return problems


def _last(path: JsonPath) -> str:
    """The name of the member a path ends in (past its list indexes): a path starts with a property."""
    return next(str(p) for p in reversed(path) if isinstance(p, str))


def check_partner(data: Mapping[str, Any]) -> list[Problem]:
    """Every semantic problem of one partner file."""
    problems = _guid_problem(("tenantId",), data.get("tenantId"), "tenantId")
    problems += _check_settings(data, metadata.PARTNER_TYPE, model.PARTNER_PROPERTIES)
    problems += check_control_characters(data, metadata.PARTNER_TYPE, model.PARTNER_PROPERTIES)
    sync = data.get(model.SYNC_PROPERTY)
    if isinstance(sync, dict):
        for problem in check_control_characters(sync, metadata.SYNC_TYPE, model.SYNC_PROPERTIES):
            problems.append(Problem((model.SYNC_PROPERTY, *problem.path), problem.message))
    problems += _check_ignored_but_set(data)
    return problems


def check_default(data: Mapping[str, Any]) -> list[Problem]:
    """Every semantic problem of default.yaml."""
    problems = _check_settings(data, metadata.DEFAULT_TYPE, model.DEFAULT_PROPERTIES)
    problems += check_control_characters(data, metadata.DEFAULT_TYPE, model.DEFAULT_PROPERTIES)
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
    """Semantic problems of xtap.yaml: tenant names and GUIDs, and tenants that cannot be told apart."""
    problems: list[Problem] = []
    tenants = data.get("tenants")
    if isinstance(tenants, dict):
        first_by_id: dict[str, str] = {}
        first_by_name: dict[str, str] = {}
        for name, tenant in tenants.items():
            problems += _tenant_name(name, first_by_name)
            if isinstance(tenant, dict):
                problems += _tenant(name, tenant, len(tenants), first_by_id)
    protected = data.get("protectedPartners")
    if isinstance(protected, list):
        for index, value in enumerate(protected):
            problems += _guid_problem(("protectedPartners", index), value, "a protected partner")
    return problems


def _tenant_name(name: str, first_by_name: dict[str, str]) -> list[Problem]:
    """A name --tenant can select and a CI job can carry: `\\Z`, not `$`, so "prod\\n" is refused too."""
    at = ("tenants", name)
    if TENANT_NAME_RE.match(name) is None:
        message = (
            f"tenant name {describe(name)} must start with a letter or digit and use only letters, digits, "
            "'.', '_' and '-'"
        )
        return [Problem(at, message, on_key=True)]
    other = first_by_name.setdefault(name.lower(), name)
    if other != name:
        # --tenant, job names and case-insensitive file systems would mix them up.
        message = f"tenant name {describe(name)} differs from {describe(other)} only in letter case"
        return [Problem(at, message, on_key=True)]
    return []


def _tenant(name: str, tenant: Mapping[str, Any], count: int, first_by_id: dict[str, str]) -> list[Problem]:
    tenant_id = tenant.get("tenantId")
    problems = _guid_problem(("tenants", name, "tenantId"), tenant_id, "tenantId")
    if tenant_id is None and count > 1:
        message = f"tenant {describe(name)} needs a tenantId when xtap.yaml names several tenants"
        problems.append(Problem(("tenants", name), message, on_key=True))
    if isinstance(tenant_id, str) and model.is_guid(tenant_id):
        other = first_by_id.setdefault(tenant_id.lower(), name)
        if other != name:
            message = f"tenantId {tenant_id.lower()} is also the tenantId of tenant {describe(other)}"
            problems.append(Problem(("tenants", name, "tenantId"), message))
    policies = tenant.get("policies")
    if isinstance(policies, str) and has_control(policies):
        message = f"policies must not contain control characters, got {describe(policies)}"
        problems.append(Problem(("tenants", name, "policies"), message))
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
