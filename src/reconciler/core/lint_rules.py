"""The posture rules of `xtap lint` as data: id, name, level, one line, and where each is documented.

Kept apart from the rules' logic (core/lint.py) so that the schemas, which name the ids, stay cheap to
import: `xtap validate` runs in every pre-commit hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["error", "warning", "note"]
LEVELS: tuple[Level, ...] = ("error", "warning", "note")
# The one address of the rules' documentation, beside the schemas' (`https://xtap.dev/schemas/`).
DOCS_URL = "https://xtap.dev/docs/lint.md"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    level: Level
    short: str  # one line: what the rule finds
    fix: str  # one line: what to change

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}#{self.id.lower()}-{self.name}"


RULES: tuple[Rule, ...] = (
    Rule("XTAP001", "default-inbound-open", "note",
         "The default lets every user of every tenant reach every application by B2B collaboration.",
         "Block b2bCollaborationInbound in default.yaml and open it per partner, or accept it (lint.disable)."),
    Rule("XTAP002", "direct-connect-without-mfa-trust", "warning",
         "B2B direct connect inbound lets users in whose MFA is not trusted.",
         "Set inboundTrust.isMfaAccepted: true for this tenant, or close b2bDirectConnectInbound."),
    Rule("XTAP003", "trust-without-access", "note",
         "MFA or device claims are trusted from a tenant that nobody may come in from.",
         "Remove inboundTrust from the partner, or open the channel its users are meant to use."),
    Rule("XTAP004", "sync-without-automatic-consent", "warning",
         "Users are synchronized in without automatic consent: they get consent prompts.",
         "Set automaticUserConsentSettings.inboundAllowed: true for the partner that syncs users in."),
    Rule("XTAP005", "wider-than-default-without-description", "note",
         "A partner lets more in than the default and its file does not say why.",
         "Add a description (owner, ticket, reason) to the partner file."),
    Rule("XTAP006", "default-outbound-open", "note",
         "The default lets every user reach every application of every tenant by B2B collaboration.",
         "Block b2bCollaborationOutbound in default.yaml and open it per partner, or accept it (lint.disable)."),
    Rule("XTAP007", "device-trust-open-to-all-users", "warning",
         "Device claims are trusted from a partner that lets any of its users in.",
         "Scope the partner's inbound users to the groups you expect, or stop trusting its device claims."),
    Rule("XTAP008", "default-trusts-every-tenant", "warning",
         "The default trusts MFA or device claims from every tenant.",
         "Set inboundTrust to false in default.yaml and trust claims per partner."),
    Rule("XTAP009", "nobody-gets-in", "error",
         "A channel allows something, yet its rules together let nobody in.",
         "Write both usersAndGroups and applications of the setting so that they agree, or block it whole."),
    Rule("XTAP010", "default-direct-connect-inbound-open", "warning",
         "The default lets users of every tenant in by B2B direct connect.",
         "Block b2bDirectConnectInbound in default.yaml and open it for the partners you share channels with."),
)  # fmt: skip
BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}
RULE_IDS: tuple[str, ...] = tuple(BY_ID)


def ignore_schema() -> dict[str, Any]:
    """The JSON Schema of a partner file's `lintIgnore`."""
    return {
        "description": (
            "Posture rules of `xtap lint` that do not apply to this partner, each with the reason why "
            "(docs/lint.md). A suppressed finding is still reported, as suppressed."
        ),
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["rule", "reason"],
            "properties": {
                "rule": {
                    "description": "The rule's id (XTAP001, ...).",
                    "type": "string",
                    "enum": list(RULE_IDS),
                },
                "reason": {
                    "description": "Why it does not apply (a ticket, an owner).",
                    "type": "string",
                    "minLength": 1,
                },
            },
        },
    }


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of `lint:` in xtap.yaml."""
    return {
        "description": "`xtap lint` settings (docs/lint.md).",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "disable": {
                "description": "Posture rules turned off for every partner and the default (reported as suppressed).",
                "type": "array",
                "items": {"type": "string", "enum": list(RULE_IDS)},
                "uniqueItems": True,
            },
        },
    }
