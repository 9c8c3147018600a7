"""The access impact of a change: who gains or loses access, per channel (docs/access.md). Pure.

`effects(before, after, name)` compares two configurations of one partner (core/access.py) over a finite set
of representative principals and apps — every id named in either, "any other", and each named user as a
member of every named group — which is exact for these rules (docs/access.md says why), and says per
channel whether access widens, narrows or both; trust (MFA and device claims), automatic consent and
identity sync count too. `with_effects` attaches them to a plan's changes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.core import model
from reconciler.core.access import (
    ANY,
    CHANNELS,
    SETTINGS,
    Channel,
    ChannelDecision,
    Configuration,
    Decision,
    Impact,
    Principal,
    Slots,
    allows,
    channel_words,
    configuration,
    decide_slots,
)
from reconciler.core.plan import Change, Effect, PlanOptions
from reconciler.core.state import DesiredPartner, LivePartner


def _named(pairs: Iterable[Slots]) -> tuple[set[str], set[str], set[str]]:
    users: set[str] = set()
    groups: set[str] = set()
    apps: set[str] = set()
    for user_rule, app_rule in pairs:
        if user_rule is not None:
            for target_type, target in user_rule.targets:
                if target_type == "user" and target != "AllUsers":
                    users.add(target)
                elif target_type == "group":
                    groups.add(target)
        if app_rule is not None:
            apps.update(t for _, t in app_rule.targets if t != "AllApplications")
    return users, groups, apps


def representatives(pairs: Iterable[Slots]) -> tuple[list[Principal], list[str]]:
    """Principals and apps whose decisions, before and after, show every way a channel's access changes
    (`pairs`: the channel's rules in each configuration, as `Configuration.slots` gives them).

    Each slot's decision is "some id of the principal is named" (allow list) or its negation (block list);
    a change exists only if a witness exists among: each named user or group alone, nobody named ("any
    other"), and each named user (or none) as a member of every named group — docs/access.md proves it.
    """
    users, groups, apps = _named(pairs)
    all_groups = frozenset(groups)
    people = [
        Principal(),
        *(Principal(u) for u in sorted(users)),
        *(Principal(None, frozenset({g})) for g in sorted(groups)),
    ]
    if all_groups:
        people += [Principal(None, all_groups), *(Principal(u, all_groups) for u in sorted(users))]
    return people, [ANY, *sorted(apps)]


def _classify(widened: bool, narrowed: bool) -> Impact | None:
    if widened and narrowed:
        return "changes"
    if widened:
        return "widens"
    return "narrows" if narrowed else None


Flip = tuple[Principal, str, Decision, Decision]


@dataclass(frozen=True)
class _ChannelChange:
    kind: Impact | None
    flips: tuple[Flip, ...]
    text: str  # the summary without the partner's name ("" when nothing changes)


def channel_impact(
    before: Configuration, after: Configuration, channel: Channel
) -> tuple[Impact | None, list[Flip]]:
    """How `channel` changes between two configurations, and every representative (principal, app) that flips."""
    found = _channel_change(channel, before.slots(channel), after.slots(channel))
    return found.kind, list(found.flips)


# A channel's change depends only on its rules before and after, and partners given the same change share
# them: each distinct (channel, before, after) is evaluated once (a plan of 1,000 partners given the same
# edit evaluates it once, not 1,000 times). The answer is a function of the key alone, so the cache is
# never stale.
def _channel_change(channel: Channel, before: Slots, after: Slots) -> _ChannelChange:
    try:
        hash((before, after))
    except TypeError:  # a value no rule should hold (an unhashable access type): evaluated, not remembered
        return _evaluate(channel, before, after)
    return remembered(channel, before, after)


@functools.lru_cache(maxsize=4096)
def remembered(channel: Channel, before: Slots, after: Slots) -> _ChannelChange:
    """`_evaluate`, once per key (tests under mutation testing clear it: tests/conftest.py)."""
    return _evaluate(channel, before, after)


def _evaluate(channel: Channel, before: Slots, after: Slots) -> _ChannelChange:
    people, apps = representatives((before, after))
    flips = []
    for person in people:
        for app in apps:
            was, now = allows(before, person, app), allows(after, person, app)
            if was != now:
                flips.append((person, app, _DECISION[was], _DECISION[now]))
    widened = any(now == "allowed" for *_, now in flips)
    narrowed = any(now == "blocked" for *_, now in flips)
    kind = _classify(widened, narrowed)
    text = _summary(channel, flips, before, len(people), len(apps))  # "" when nothing flips
    return _ChannelChange(kind, tuple(flips), text)


_ORDER = {"widens": 0, "narrows": 1, "changes": 2}
_DECISION: dict[bool, Decision] = {True: "allowed", False: "blocked"}


def effects(before: Configuration, after: Configuration, name: str) -> list[Effect]:
    """Every channel and setting whose effect differs between two configurations of partner `name`,
    widening first, then narrowing, then both."""
    found: list[Effect] = []
    for channel in CHANNELS:
        if before.resolved.same(after.resolved, channel.graph_property):
            continue  # the same settings decide the same way: nothing to evaluate
        change = _channel_change(channel, before.slots(channel), after.slots(channel))
        if change.kind is not None:
            found.append(Effect(channel.name, channel.direction, change.kind, f"{name}: {change.text}"))
    for setting in dict.fromkeys(n for n, _ in SETTINGS):
        if _unchanged(before, after, setting):
            continue
        kind, text = _setting_impact(before, after, setting)
        if kind is not None:
            found.append(Effect(setting, None, kind, f"{name}: {text}"))
    return sorted(found, key=lambda e: _ORDER[e.impact])


def _phrase(items: list[str], everyone: bool, word: str) -> str:
    """`any user`; up to three named ("a member of g1, a member of g2 and any other user"); else a count."""
    if everyone:
        return f"any {word}"
    if len(items) > 3:
        return f"{items[0]}, {items[1]} and {len(items) - 2} more"
    return " and ".join(filter(None, (", ".join(items[:-1]), items[-1])))


def _groups(flips: list[Flip]) -> list[list[Flip]]:
    """The flips of the people who gain or lose the same apps, together: each group reads as one clause,
    so no one is said to lose an app they keep."""
    apps_of: dict[str, list[Flip]] = {}
    for flip in flips:
        apps_of.setdefault(flip[0].describe(), []).append(flip)
    together: dict[tuple[str, ...], list[Flip]] = {}
    for person_flips in apps_of.values():
        together.setdefault(tuple(a for _, a, *_ in person_flips), []).extend(person_flips)
    return list(together.values())


def _side(channel: Channel, flips: list[Flip], people: int, apps: int) -> tuple[str, str]:
    """Who and what a group of flips concerns, in words ("any user", "a member of g1 and any other user")."""
    who = list(dict.fromkeys(p.describe() for p, *_ in flips))
    what = list(dict.fromkeys("any other app" if a == ANY else a for _, a, *_ in flips))
    # A channel without a users slot has one representative, "any other user": every flip is "any user".
    subject = _phrase(who, len(who) == people, "user")
    target = _phrase(what, len(what) == apps, "app") if channel.apps is not None else ""
    return subject, target


def _summary(channel: Channel, flips: list[Flip], before: Slots, people: int, apps: int) -> str:
    via = f"by {channel_words(channel)}"
    parts = []
    for now, verb in (("allowed", "may now reach"), ("blocked", "can no longer reach")):
        for group in _groups([f for f in flips if f[3] == now]):
            subject, target = _side(channel, group, people, apps)
            reach = f"{verb} {target} {via}" if target else f"{verb} Microsoft 365 {via}"
            was = decide_slots(before, group[0][0], group[0][1])
            parts.append(f"{subject} {reach} (before: {was.decision} by {_by(was)})")
    return "; ".join(parts)


def _by(decision: ChannelDecision) -> str:
    slot = decision.deciding
    if slot is None or not slot.rule.is_set:
        return "no setting"
    return "the partner's setting" if slot.rule.origin == "partner" else "the default"


def _unchanged(before: Configuration, after: Configuration, setting: str) -> bool:
    """A shortcut: the properties behind a setting resolve the same before and after."""
    if setting == "identity-sync":
        return bool(before.resolved.sync == after.resolved.sync)
    prop = next(path for name, path in SETTINGS if name == setting).partition(".")[0]
    return before.resolved.same(after.resolved, prop)


def _setting_impact(before: Configuration, after: Configuration, setting: str) -> tuple[Impact | None, str]:
    widened, narrowed, words = False, False, []
    for name, path in SETTINGS:
        if name != setting:
            continue
        was, now = before.leaf(path).value is True, after.leaf(path).value is True
        if was == now:
            continue
        widened, narrowed = widened or now, narrowed or was
        words.append(f"{path.rpartition('.')[2]} {'true' if now else 'false'}")
    kind = _classify(widened, narrowed)
    label = {
        "inbound-trust": "inbound trust",
        "automatic-consent": "automatic consent",
        "identity-sync": "identity sync",
    }[setting]
    return kind, f"{label} — {', '.join(words)}"


def _outcome(
    desired: DesiredPartner | None, live: LivePartner | None, options: PlanOptions, deleted: bool
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """A partner's properties and sync policy once the plan is applied (ignored ones stay as they are)."""
    if desired is None:  # a partner no file declares changes only by its deletion (with --prune)
        return None, None
    ignore = options.ignore | desired.ignore
    raw = dict(live.raw) if live is not None else {}
    props = {n: (raw.get(n) if n in ignore else desired.properties.get(n)) for n in model.PARTNER_PROPERTIES}
    live_sync = live.sync if live is not None else None
    if model.SYNC_PROPERTY in ignore:
        return props, live_sync
    if desired.sync is None:  # no policy in the file: left alone, unless --prune deletes it
        return props, None if deleted else live_sync
    # A sync PATCH sends only the members the file names: the others keep their live values.
    return props, {**(live_sync or {}), **desired.sync}


def with_effects(
    changes: list[Change],
    desired: DesiredPartner | None,
    live: LivePartner | None,
    options: PlanOptions,
    defaults: tuple[Mapping[str, Any] | None, Mapping[str, Any]],
) -> list[Change]:
    """`changes` of one partner with their access impact: channels, trust and consent on the partner change,
    identity sync on the sync change (the sync policy changes only by a request of its own)."""
    if not any(c.requests for c in changes):
        return changes
    deleted = any(c.action == "delete" for c in changes)
    before = configuration(live.raw if live else None, defaults[0], live.sync if live else None)
    props, sync = _outcome(desired, live, options, deleted)
    after = configuration(props, defaults[1], sync)
    name = changes[0].name
    found = effects(before, after, name)
    out = []
    for change in changes:
        mine = tuple(
            e
            for e in found
            if (e.channel == "identity-sync") == (change.resource == "identitySynchronization")
        )
        out.append(replace(change, effects=mine) if change.requests and mine else change)
    return out


def default_effects(change: Change, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> Change:
    """A change of the default configuration, as it reaches every tenant without a setting of its own."""
    if not change.requests:
        return change
    found = effects(
        configuration(None, before),
        configuration(None, after),
        "every partner that inherits the default",
    )
    return replace(change, effects=tuple(found))
