"""Who can reach what: the access model over a default and a partner configuration (docs/access.md). Pure.

A *channel* is one way across the tenant boundary — B2B collaboration, B2B direct connect, tenant
restrictions, Microsoft 365 collaboration, app service connect — in one direction. Its rule is the
partner's setting resolved member by member against the default, exactly as `xtap show` resolves it
(`effective.effective_settings`): `accessType` and `targets` of its users-and-groups slot and of its
applications slot. A principal — a user id, the groups it belongs to, or "any other user" — reaches an
application — an app id, a keyword such as `Office365`, or "any other app" — when both slots let it:

- `allowed` + targets is an allow list: the principal passes when a target names it (its user id, one of
  its groups, or `AllUsers`), an app when a target names it or is `AllApplications` (and the `Office365`
  suite when a target is `AllMicrosoftApps`, "any Microsoft cloud application");
- `blocked` + targets is a block list: the principal passes unless a target names it;
- except when both slots are block lists: then they block together, only the pairs both name (Microsoft's
  "Block users in group g1 from accessing any application": other users keep every application);
- a channel with one slot only (Microsoft 365 collaboration outbound has no applications, app service
  connect no users) is decided by that slot;
- a slot nobody sets (not the partner, not the default) is blocked: the service's behaviour there is not
  documented, and xtap does not assume access exists. docs/access.md lists this and the other open points.

`impact` compares two configurations over a finite set of representative principals and apps (every id
named in either, "any other", and each named user as a member of every named group) — exact for these
rules, see docs/access.md — and says, per channel, whether access widens, narrows or both. Trust (MFA and
device claims), automatic consent and identity sync count too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.core import effective, model

Direction = Literal["inbound", "outbound"]
Decision = Literal["allowed", "blocked"]
Impact = Literal["widens", "narrows", "changes"]
Origin = Literal["partner", "default", "none"]

ANY = "*"  # "any other user" / "any other app": named by no target


@dataclass(frozen=True)
class Channel:
    name: str  # b2b-collaboration, b2b-direct-connect, tenant-restrictions, m365-collaboration, app-service-connect
    direction: Direction
    graph_property: str  # the Graph property that configures it
    users: str | None  # the users-and-groups slot: "usersAndGroups" (or "users"), None when there is none
    apps: str | None  # the applications slot, None when there is none

    @property
    def label(self) -> str:
        return f"{self.name} {self.direction}"


# Tenant restrictions govern which external identities (the partner's users) your users may use, on your
# networks and devices, to reach the partner's applications: xtap files them as outbound.
CHANNELS: tuple[Channel, ...] = (
    Channel("b2b-collaboration", "inbound", "b2bCollaborationInbound", "usersAndGroups", "applications"),
    Channel("b2b-collaboration", "outbound", "b2bCollaborationOutbound", "usersAndGroups", "applications"),
    Channel("b2b-direct-connect", "inbound", "b2bDirectConnectInbound", "usersAndGroups", "applications"),
    Channel("b2b-direct-connect", "outbound", "b2bDirectConnectOutbound", "usersAndGroups", "applications"),
    Channel("tenant-restrictions", "outbound", "tenantRestrictions", "usersAndGroups", "applications"),
    Channel("m365-collaboration", "inbound", "m365CollaborationInbound", "users", None),
    Channel("m365-collaboration", "outbound", "m365CollaborationOutbound", "usersAndGroups", None),
    Channel("app-service-connect", "inbound", "appServiceConnectInbound", None, "applications"),
)
CHANNEL_NAMES: tuple[str, ...] = tuple(dict.fromkeys(c.name for c in CHANNELS))

# The other settings that change what crossing the boundary means, as (channel name, leaf path).
SETTINGS: tuple[tuple[str, str], ...] = (
    ("inbound-trust", "inboundTrust.isMfaAccepted"),
    ("inbound-trust", "inboundTrust.isCompliantDeviceAccepted"),
    ("inbound-trust", "inboundTrust.isHybridAzureADJoinedDeviceAccepted"),
    ("automatic-consent", "automaticUserConsentSettings.inboundAllowed"),
    ("automatic-consent", "automaticUserConsentSettings.outboundAllowed"),
    ("identity-sync", f"{model.SYNC_PROPERTY}.userSyncInbound.isSyncAllowed"),
)


@dataclass(frozen=True)
class Principal:
    """A user (by object id) with the groups it belongs to; no user and no groups is "any other user"."""

    user: str | None = None
    groups: frozenset[str] = frozenset()

    def describe(self) -> str:
        groups = ", ".join(sorted(self.groups))
        if self.user is None:
            return f"a member of {groups}" if groups else "any other user"
        return f"user {self.user} (member of {groups})" if groups else f"user {self.user}"


@dataclass(frozen=True)
class Rule:
    """One slot of a channel as resolved: its access type and targets, and where each comes from."""

    setting: str  # the Graph property it belongs to (b2bCollaborationInbound, ...)
    slot: str
    access_type: str | None
    targets: tuple[tuple[str, str], ...]  # (targetType, target), GUIDs lowercase
    origin: Origin  # of the access type (the targets may come from elsewhere: leaf-wise inheritance)
    targets_origin: Origin

    @property
    def is_set(self) -> bool:
        return self.access_type in ("allowed", "blocked")

    @property
    def slot_path(self) -> str:
        return f"{self.setting}.{self.slot}"


Slots = tuple[Rule | None, Rule | None]  # a channel's users-and-groups rule and applications rule


@dataclass(frozen=True)
class SlotDecision:
    rule: Rule
    passes: bool
    matched: str | None  # the target that named the principal or app, if any


@dataclass(frozen=True)
class ChannelDecision:
    decision: Decision
    users: SlotDecision | None
    apps: SlotDecision | None

    @property
    def deciding(self) -> SlotDecision | None:
        """The slot that decided: the one that blocks (users first), else the one that names the subject."""
        slots = [s for s in (self.users, self.apps) if s is not None]
        if self.decision == "blocked":
            return next((s for s in slots if not s.passes), None)
        passing = [s for s in slots if s.passes]  # two block lists allow when either slot passes
        return next((s for s in passing if s.matched is not None), passing[0] if passing else None)

    @property
    def source(self) -> Origin:
        slot = self.deciding
        return slot.rule.origin if slot is not None else "none"


@dataclass(frozen=True)
class Configuration:
    """A partner as it is (or will be), resolved against a default (`effective.Resolved`)."""

    resolved: effective.Resolved
    # Each slot's rule, made once: deciding many principals and apps asks for the same few rules.
    _rules: dict[tuple[str, str], Rule] = field(default_factory=dict, init=False, repr=False, compare=False)

    def leaf(self, path: str) -> effective.Leaf:
        return self.resolved.leaf(path)

    def rule(self, channel: Channel, slot: str) -> Rule:
        key = (channel.graph_property, slot)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = self._rule(channel, slot)
        return found

    def slots(self, channel: Channel) -> Slots:
        """The rules of a channel's users-and-groups slot and applications slot (None where it has none)."""
        users = self.rule(channel, channel.users) if channel.users is not None else None
        return users, self.rule(channel, channel.apps) if channel.apps is not None else None

    def _rule(self, channel: Channel, slot: str) -> Rule:
        base = f"{channel.graph_property}.{slot}"
        access, targets = self.leaf(f"{base}.accessType"), self.leaf(f"{base}.targets")
        items = tuple(
            (str(t.get("targetType")), str(t.get("target")))
            for t in (targets.value or [])
            if type(t) is dict or isinstance(t, Mapping)
        )
        return Rule(channel.graph_property, slot, access.value, items, access.origin, targets.origin)


def configuration(
    partner: Mapping[str, Any] | None,
    default: Mapping[str, Any] | None,
    sync: Mapping[str, Any] | None = None,
) -> Configuration:
    """The effective configuration of one partner (Graph's shapes in, as `effective_settings` takes them)."""
    return Configuration(effective.resolve(partner, default, sync))


def _user_passes(rule: Rule, principal: Principal) -> tuple[bool, str | None]:
    named = None
    for target_type, target in rule.targets:
        if (
            target == "AllUsers"
            or (target_type == "user" and target == principal.user)
            or (target_type == "group" and target in principal.groups)
        ):
            named = target
            break
    return (named is not None, named) if rule.access_type == "allowed" else (named is None, named)


def _app_passes(rule: Rule, app: str) -> tuple[bool, str | None]:
    named = None
    for _type, target in rule.targets:
        if (
            target == "AllApplications"
            or (app != ANY and target == app)
            or (target == "AllMicrosoftApps" and app == "Office365")  # the suite is Microsoft's
        ):
            named = target
            break
    return (named is not None, named) if rule.access_type == "allowed" else (named is None, named)


def _slot(rule: Rule, passes: tuple[bool, str | None]) -> SlotDecision:
    if not rule.is_set:  # nobody sets it: no access is assumed (docs/access.md)
        return SlotDecision(rule, False, None)
    return SlotDecision(rule, passes[0], passes[1])


def decide(config: Configuration, channel: Channel, principal: Principal, app: str = ANY) -> ChannelDecision:
    """May `principal` reach `app` over `channel`? Both slots must let it, unless both are block lists."""
    return decide_slots(config.slots(channel), principal, app)


def decide_slots(rules: Slots, principal: Principal, app: str = ANY) -> ChannelDecision:
    """`decide` over a channel's rules as `Configuration.slots` gives them."""
    users_passes, apps_passes = _passes(rules, principal, app)
    users = _slot(rules[0], users_passes) if rules[0] is not None and users_passes is not None else None
    apps = _slot(rules[1], apps_passes) if rules[1] is not None and apps_passes is not None else None
    allowed = _combine(rules, users_passes, apps_passes)
    return ChannelDecision("allowed" if allowed else "blocked", users, apps)


def allows(rules: Slots, principal: Principal, app: str = ANY) -> bool:
    """`decide_slots(...).decision == "allowed"`, without building the decision: the access impact asks
    it of every representative principal and app, before and after."""
    return _combine(rules, *_passes(rules, principal, app))


Passes = tuple[bool, str | None]  # whether a slot lets the subject through, and the target that named it


def _passes(rules: Slots, principal: Principal, app: str) -> tuple[Passes | None, Passes | None]:
    users = _user_passes(rules[0], _lower(principal)) if rules[0] is not None else None
    apps = _app_passes(rules[1], app.lower() if model.is_guid(app) else app) if rules[1] is not None else None
    return users, apps


def _combine(rules: Slots, users: Passes | None, apps: Passes | None) -> bool:
    """Both slots must let the subject through, unless both are block lists; a slot nobody sets lets
    nobody through (docs/access.md)."""
    slots = [
        (rule, passes[0] and rule.is_set)
        for rule, passes in ((rules[0], users), (rules[1], apps))
        if rule is not None and passes is not None
    ]
    if len(slots) == 2 and all(rule.access_type == "blocked" for rule, _ in slots):
        # Two block lists block the pairs both name, not each list on its own (docs/access.md).
        return any(ok for _, ok in slots)
    return all(ok for _, ok in slots)


def _lower(principal: Principal) -> Principal:
    found = _LOWERED.get(principal)
    if found is None:
        if len(_LOWERED) > 4096:
            _LOWERED.clear()
        user = principal.user.lower() if principal.user and model.is_guid(principal.user) else principal.user
        groups = frozenset(g.lower() if model.is_guid(g) else g for g in principal.groups)
        found = _LOWERED[principal] = Principal(user, groups)
    return found


# The same few principals are decided over and over (the access impact's representatives): each is put
# in lowercase once. A function of the principal alone, so never stale; bounded.
_LOWERED: dict[Principal, Principal] = {}


def channels(name: str | None = None, direction: str | None = None) -> list[Channel]:
    return [
        c
        for c in CHANNELS
        if (name is None or c.name == name) and (direction is None or c.direction == direction)
    ]


def settings(config: Configuration) -> dict[str, Any]:
    """Trust, automatic consent and identity sync as they apply: leaf path → (value, origin)."""
    return {path: (config.leaf(path).value, config.leaf(path).origin) for _, path in SETTINGS}


_WORDS = {
    "b2b-collaboration": "B2B collaboration",
    "b2b-direct-connect": "B2B direct connect",
    "tenant-restrictions": "tenant restrictions",
    "m365-collaboration": "Microsoft 365 collaboration",
    "app-service-connect": "app service connect",
}


def channel_words(channel: Channel) -> str:
    return f"{_WORDS[channel.name]} {channel.direction}"


# --- answering one question (`xtap access`) ------------------------------------------------------------------


# Microsoft's service default, for answers from the files when default.yaml does not set a property: B2B
# collaboration allowed both ways for everyone and every app, B2B direct connect blocked both ways, no trust,
# no automatic consent (the "Get crossTenantAccessPolicyConfigurationDefault" example with
# isServiceDefault: true; Entra cross-tenant access overview, "Default settings"), tenant restrictions
# blocked for everyone ("all access settings are disabled by default", Graph overview; the Get example).
# Microsoft 365 collaboration and app service connect have no documented default: nobody sets them here,
# so they block (docs/access.md).
# Run once, at import: mutation testing cannot switch a mutant on there, so it leaves it alone; the tests
# of `xtap access` against Microsoft's default check what it builds (docs/testing.md).
def _everyone(access_type: str) -> dict[str, Any]:  # pragma: no mutate block
    return {
        "usersAndGroups": {
            "accessType": access_type,
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        },
        "applications": {
            "accessType": access_type,
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        },
    }


SERVICE_DEFAULT: Mapping[str, Any] = {
    "b2bCollaborationInbound": _everyone("allowed"),
    "b2bCollaborationOutbound": _everyone("allowed"),
    "b2bDirectConnectInbound": _everyone("blocked"),
    "b2bDirectConnectOutbound": _everyone("blocked"),
    "tenantRestrictions": _everyone("blocked"),
    "inboundTrust": {
        "isMfaAccepted": False,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    },
    "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
}


def _slot_json(slot: SlotDecision | None, locate: Any) -> dict[str, Any] | None:
    if slot is None:
        return None
    rule = slot.rule
    return {
        "accessType": rule.access_type,
        "targets": [{"target": t, "targetType": kind} for kind, t in rule.targets],
        "origin": rule.origin,
        "location": locate(rule.slot_path, rule.origin),
        "passes": slot.passes,
        "matched": slot.matched,
    }


def answer(
    config: Configuration,
    selected: list[Channel],
    principal: Principal,
    app: str,
    locate: Any,
) -> list[dict[str, Any]]:
    """The decision of every selected channel, as data: `locate(path, origin)` says where a rule is written."""
    out = []
    for channel in selected:
        decision = decide(config, channel, principal, app)
        deciding = decision.deciding
        out.append(
            {
                "channel": channel.name,
                "direction": channel.direction,
                "decision": decision.decision,
                "source": decision.source,
                "usersAndGroups": _slot_json(decision.users, locate),
                "applications": _slot_json(decision.apps, locate),
                "location": locate(deciding.rule.slot_path, deciding.rule.origin) if deciding else None,
                "because": explain(decision),
            }
        )
    return out


def explain(decision: ChannelDecision) -> str:
    """Why, in a few words: the rule that decided ("usersAndGroups allows AllUsers")."""
    slot = decision.deciding
    if slot is None or not slot.rule.is_set:
        return "nobody sets this channel (neither the partner nor the default), so nobody gets in"
    rule = slot.rule
    verb = "allows" if rule.access_type == "allowed" else "blocks"
    if slot.matched is not None:
        return f"{rule.slot} {verb} {slot.matched}"
    names = ", ".join(t for _, t in rule.targets) or "nobody"
    subject = "this app" if rule.slot == "applications" else "this user"
    return f"{rule.slot} {verb} only {names}, not {subject}"
