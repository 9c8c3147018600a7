"""Posture rules (`xtap lint`): what in the *effective* configuration is risky or dead. Pure.

The rules reason about the default and each partner as the access model resolves them (core/access.py,
core/posture.py), never about raw YAML: a partner that inherits an open channel from the default is as
open as one that writes it. A finding about something only the default causes is reported once, on the
default; a partner is named only where one of its own settings takes part. Every rule is documented in
docs/lint.md (what, why, how to fix, how to suppress, Microsoft's source) under the anchor of its id.

Suppressions: `lint.disable` in xtap.yaml turns a rule off everywhere; `lintIgnore: [{rule, reason}]` in a
partner file, for that partner only. A suppressed finding is kept, marked as such.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Literal

from reconciler.core import access, impact
from reconciler.core.lint_rules import BY_ID, LEVELS, RULE_IDS, RULES, Level, Rule
from reconciler.core.posture import Posture, Subject
from reconciler.core.state import SourceRef

__all__ = ["BY_ID", "LEVELS", "RULES", "RULE_IDS", "Finding", "Level", "Rule", "Suppression", "lint"]


@dataclass(frozen=True)
class Suppression:
    kind: Literal["config", "file"]  # lint.disable in xtap.yaml, or lintIgnore in the partner's file
    reason: str | None
    location: SourceRef | None


@dataclass(frozen=True)
class Finding:
    rule: Rule
    subject: str  # "default" or the partner's tenantId
    name: str  # "default", or the partner's name
    path: str  # the setting or leaf that causes it ("b2bDirectConnectInbound", "inboundTrust.isMfaAccepted")
    message: str
    location: SourceRef | None  # where it is written; None when it is in no file
    where: str  # the location in words (a file:line:col, "Microsoft's service default", the tenant)
    suppression: Suppression | None = None

    @property
    def level(self) -> Level:
        return self.rule.level

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    @property
    def fingerprint(self) -> str:
        """Stable across edits that move lines: the rule, whom it is about and which setting."""
        key = f"{self.rule.id}|{self.subject}|{self.path}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


# --- the access model, asked the questions the rules need ----------------------------------------------


def _representatives(
    config: access.Configuration, channel: access.Channel
) -> tuple[list[access.Principal], list[str]]:
    """For one configuration, two principals and two apps stand for all: a decision depends only on
    whether each slot names the principal and the app (docs/access.md, section 8), so "any other user"
    and one the users slot names, "any other app" and one the applications slot names, reach every case —
    whatever the length of the lists."""
    people, apps = [access.Principal()], [access.ANY]
    if channel.users is not None:
        named = [t for t in config.rule(channel, channel.users).targets if t[1] != "AllUsers"]
        if named:
            kind, target = named[0]
            people.append(
                access.Principal(target) if kind == "user" else access.Principal(None, frozenset({target}))
            )
    if channel.apps is not None:
        apps += [t for _, t in config.rule(channel, channel.apps).targets if t != "AllApplications"][:1]
    return people, apps


def reach(config: access.Configuration, channel: access.Channel) -> Literal["open", "some", "closed"]:
    """Whether a channel lets everyone to everything through, some, or nobody."""
    people, apps = _representatives(config, channel)
    passed = [access.decide(config, channel, p, a).decision == "allowed" for p in people for a in apps]
    return "open" if all(passed) else "some" if any(passed) else "closed"


def _open_to_all(config: access.Configuration, channel: access.Channel) -> bool:
    return reach(config, channel) == "open"


def _nobody(config: access.Configuration, channel: access.Channel) -> bool:
    return reach(config, channel) == "closed"


def _any_user_in(config: access.Configuration, channel: access.Channel) -> bool:
    """A user no rule names ("any other user") gets in, to some application."""
    _, apps = _representatives(config, channel)
    return any(access.decide(config, channel, access.Principal(), app).decision == "allowed" for app in apps)


def _channel(name: str, direction: str) -> access.Channel:
    return next(c for c in access.CHANNELS if (c.name, c.direction) == (name, direction))


def _rules(config: access.Configuration, channel: access.Channel) -> list[access.Rule]:
    return [config.rule(channel, slot) for slot in (channel.users, channel.apps) if slot is not None]


def _own(config: access.Configuration, channel: access.Channel) -> bool:
    """Whether the partner itself sets part of the channel (else it only inherits it)."""
    return any("partner" in (r.origin, r.targets_origin) for r in _rules(config, channel))


def _origin(config: access.Configuration, channel: access.Channel) -> str:
    return "partner" if _own(config, channel) else "default"


def _words(channel: access.Channel) -> str:
    return access.channel_words(channel)


COLLAB_IN = _channel("b2b-collaboration", "inbound")
COLLAB_OUT = _channel("b2b-collaboration", "outbound")
DIRECT_IN = _channel("b2b-direct-connect", "inbound")
TRUST = {
    "isMfaAccepted": "MFA",
    "isCompliantDeviceAccepted": "compliant device",
    "isHybridAzureADJoinedDeviceAccepted": "hybrid joined device",
}
DEVICE_TRUST = ("isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted")
MFA = "inboundTrust.isMfaAccepted"
SYNC = "identitySynchronization.userSyncInbound.isSyncAllowed"
CONSENT = "automaticUserConsentSettings.inboundAllowed"


def _finding(rule_id: str, subject: Subject, path: str, origin: str, message: str) -> Finding:
    rule = BY_ID[rule_id]
    location = subject.locate(path, origin)
    return Finding(rule, subject.key, subject.name, path, message, location, subject.where(path, origin))


def _trusted(subject: Subject, names: Iterable[str]) -> list[str]:
    return [n for n in names if subject.config.leaf(f"inboundTrust.{n}").value is True]


def _shown(value: object) -> str:
    return "not set" if value is None else "false" if value is False else str(value)


# --- the rules -----------------------------------------------------------------------------------------


def _xtap001(subject: Subject) -> list[Finding]:
    if not subject.is_default or not _open_to_all(subject.config, COLLAB_IN):
        return []
    message = "the default lets every user of every tenant without a partner configuration reach every application by B2B collaboration inbound"
    return [_finding("XTAP001", subject, COLLAB_IN.graph_property, "default", message)]


def _xtap006(subject: Subject) -> list[Finding]:
    if not subject.is_default or not _open_to_all(subject.config, COLLAB_OUT):
        return []
    message = "the default lets every one of your users reach every application of every tenant without a partner configuration by B2B collaboration outbound"
    return [_finding("XTAP006", subject, COLLAB_OUT.graph_property, "default", message)]


def _xtap010(subject: Subject) -> list[Finding]:
    if not subject.is_default or not _any_user_in(subject.config, DIRECT_IN):
        return []
    message = "the default lets users of every tenant without a partner configuration in by B2B direct connect inbound (Microsoft's default blocks it)"
    return [_finding("XTAP010", subject, DIRECT_IN.graph_property, "default", message)]


def _xtap008(subject: Subject) -> list[Finding]:
    trusted = _trusted(subject, TRUST)
    if not subject.is_default or not trusted:
        return []
    claims = ", ".join(TRUST[n] for n in trusted)
    message = f"the default trusts {claims} claims from every tenant without a partner configuration"
    return [_finding("XTAP008", subject, f"inboundTrust.{trusted[0]}", "default", message)]


def _xtap002(subject: Subject) -> list[Finding]:
    config = subject.config
    mfa = config.leaf(MFA)
    if _nobody(config, DIRECT_IN) or mfa.value is True:
        return []
    if not subject.is_default and not (_own(config, DIRECT_IN) or mfa.origin == "partner"):
        return []  # the default's own finding
    path, origin = (
        (DIRECT_IN.graph_property, _origin(config, DIRECT_IN))
        if subject.is_default or _own(config, DIRECT_IN)
        else (MFA, "partner")
    )
    message = (
        f"{subject.name}: B2B direct connect inbound lets users in, but their MFA is not trusted "
        f"(inboundTrust.isMfaAccepted is {_shown(mfa.value)}): they cannot satisfy a Conditional Access "
        "policy that requires MFA"
    )
    return [_finding("XTAP002", subject, path, origin, message)]


def _xtap003(subject: Subject) -> list[Finding]:
    config = subject.config
    own = [n for n in _trusted(subject, TRUST) if config.leaf(f"inboundTrust.{n}").origin == "partner"]
    if subject.is_default or not own or not (_nobody(config, COLLAB_IN) and _nobody(config, DIRECT_IN)):
        return []
    claims = ", ".join(TRUST[n] for n in own)
    message = (
        f"{subject.name}: trusts {claims} claims but lets nobody in by B2B collaboration or B2B direct "
        "connect inbound, so the trust has no effect"
    )
    return [_finding("XTAP003", subject, "inboundTrust", "partner", message)]


def _xtap004(subject: Subject) -> list[Finding]:
    config = subject.config
    consent = config.leaf(CONSENT)
    if subject.is_default or config.leaf(SYNC).value is not True or consent.value is True:
        return []
    path, origin = (CONSENT, "partner") if consent.origin == "partner" else (SYNC, "partner")
    message = (
        f"{subject.name}: identity sync inbound is allowed but automatic consent inbound is "
        f"{_shown(consent.value)}: synchronized users get a consent prompt"
    )
    return [_finding("XTAP004", subject, path, origin, message)]


def _xtap005(subject: Subject, baseline: access.Configuration) -> list[Finding]:
    if subject.is_default or (subject.description or "").strip():
        return []
    wider = [
        e for e in impact.effects(baseline, subject.config, subject.name) if e.impact in ("widens", "changes")
    ]
    if not wider:
        return []
    what = ", ".join(dict.fromkeys(" ".join(filter(None, (e.channel, e.direction))) for e in wider))
    why = "its file has no description" if subject.declared is not None else "no policy file describes it"
    message = f"{subject.name}: lets more in than the default ({what}) and {why} saying why"
    return [_finding("XTAP005", subject, "tenantId", "partner", message)]


def _xtap007(subject: Subject) -> list[Finding]:
    config = subject.config
    trusted = _trusted(subject, DEVICE_TRUST)
    if subject.is_default or not trusted:
        return []
    open_channels = [c for c in (COLLAB_IN, DIRECT_IN) if _any_user_in(config, c)]
    own_trust = [n for n in trusted if config.leaf(f"inboundTrust.{n}").origin == "partner"]
    if not open_channels or not (own_trust or any(_own(config, c) for c in open_channels)):
        return []
    claims = " and ".join(TRUST[n] for n in trusted)
    via = " and ".join(_words(c) for c in open_channels)
    leaf = (own_trust or trusted)[0]
    message = (
        f"{subject.name}: {claims} claims are trusted for all of its users: {via} lets in any of them, "
        "not only the users and groups it names"
    )
    return [
        _finding("XTAP007", subject, f"inboundTrust.{leaf}", "partner" if own_trust else "default", message)
    ]


def _slot_text(rule: access.Rule) -> str:
    if not rule.is_set:
        return f"{rule.slot} not set"
    names = ", ".join(t for _, t in rule.targets) or "no targets"
    return f"{rule.slot} {rule.access_type} for {names}"


def _xtap009(subject: Subject) -> list[Finding]:
    found = []
    config = subject.config
    for channel in access.CHANNELS:
        rules = _rules(config, channel)
        if not any(r.access_type == "allowed" for r in rules) or not _nobody(config, channel):
            continue
        if not subject.is_default and not _own(config, channel):
            continue
        inherited = [r.slot for r in rules if "default" in (r.origin, r.targets_origin)]
        note = (
            f" ({' and '.join(inherited)} from the default)" if inherited and not subject.is_default else ""
        )
        message = (
            f"{subject.name}: {_words(channel)} lets nobody in although it allows: "
            f"{'; '.join(_slot_text(r) for r in rules)}{note}"
        )
        found.append(_finding("XTAP009", subject, channel.graph_property, _origin(config, channel), message))
    return found


_PER_SUBJECT: tuple[Callable[[Subject], list[Finding]], ...] = (
    _xtap001, _xtap006, _xtap010, _xtap008, _xtap002, _xtap003, _xtap004, _xtap007, _xtap009,
)  # fmt: skip


def findings(posture: Posture) -> list[Finding]:
    """Every finding, unsuppressed, in the order of the subjects (the default first) and of the rules."""
    out: list[Finding] = []
    baseline = posture.baseline()
    for subject in posture.subjects:
        mine = [f for check in _PER_SUBJECT for f in check(subject)] + _xtap005(subject, baseline)
        out.extend(sorted(mine, key=lambda f: f.rule.id))
    return out


def suppress(found: Iterable[Finding], posture: Posture, disabled: Iterable[str]) -> list[Finding]:
    """Mark what `lint.disable` (xtap.yaml) and each partner's `lintIgnore` suppress."""
    off = frozenset(disabled)
    ignores = {
        s.key: {entry.rule: entry for entry in s.declared.lint_ignore}
        for s in posture.partners
        if s.declared is not None
    }
    out = []
    for finding in found:
        entry = ignores.get(finding.subject, {}).get(finding.rule.id)
        if finding.rule.id in off:
            finding = replace(finding, suppression=Suppression("config", None, None))
        elif entry is not None:
            finding = replace(finding, suppression=Suppression("file", entry.reason, entry.location))
        out.append(finding)
    return out


def lint(posture: Posture, disabled: Iterable[str] = ()) -> list[Finding]:
    return suppress(findings(posture), posture, disabled)


def counts(found: Iterable[Finding]) -> dict[str, int]:
    """Unsuppressed findings by level, and how many are suppressed."""
    out = dict.fromkeys((*LEVELS, "suppressed"), 0)
    for finding in found:
        out["suppressed" if finding.suppressed else finding.level] += 1
    return out


def failing(found: Iterable[Finding], fail_on: Level) -> list[Finding]:
    """The unsuppressed findings at `fail_on` or above (error > warning > note)."""
    limit = LEVELS.index(fail_on)
    return [f for f in found if not f.suppressed and LEVELS.index(f.level) <= limit]


# --- as data (`xtap lint --format json`, schemas/lint.schema.json) ------------------------------------

FORMAT_VERSION = 1


def _ref(ref: SourceRef | None) -> dict[str, object] | None:
    return {"path": ref.path, "line": ref.line, "col": ref.col} if ref is not None else None


def finding_json(finding: Finding) -> dict[str, object]:
    suppression = finding.suppression
    return {
        "ruleId": finding.rule.id,
        "rule": finding.rule.name,
        "level": finding.level,
        "message": finding.message,
        "subject": finding.subject,
        "name": finding.name,
        "setting": finding.path,
        "location": _ref(finding.location),
        "where": finding.where,
        "fingerprint": finding.fingerprint,
        "suppressed": suppression is not None,
        "suppression": None
        if suppression is None
        else {"kind": suppression.kind, "reason": suppression.reason, "location": _ref(suppression.location)},
    }


def to_json(found: Iterable[Finding], source: str) -> dict[str, object]:
    items = list(found)
    return {
        "format_version": FORMAT_VERSION,
        "source": source,
        "summary": counts(items),
        "rules": [
            {"id": r.id, "name": r.name, "level": r.level, "description": r.short, "helpUri": r.help_uri}
            for r in RULES
        ],
        "findings": [finding_json(f) for f in items],
    }
