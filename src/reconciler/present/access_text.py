"""`xtap access` in a terminal: one line per channel with its decision and the rule that decided it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.access import CHANNELS, channel_words
from reconciler.core.text import printable

_TRUST = {
    "isMfaAccepted": "MFA",
    "isCompliantDeviceAccepted": "compliant device",
    "isHybridAzureADJoinedDeviceAccepted": "hybrid joined device",
}


def _channel(entry: Mapping[str, Any]) -> str:
    channel = next(c for c in CHANNELS if (c.name, c.direction) == (entry["channel"], entry["direction"]))
    where = f" — {entry['location']}" if entry.get("location") else ""
    return f"  {channel_words(channel)}: {entry['decision']} — {entry['because']}{where}"


def _yes(value: Any) -> str:
    return "yes" if value is True else "no"


def _setting(item: Mapping[str, Any]) -> str:
    where = f" ({item['location']})" if item.get("location") else ""
    return f"{_yes(item['value'])}{where}"


def render_text(data: Mapping[str, Any]) -> str:
    who = data["principalText"]
    what = data["application"] or "any other app"
    source = "the policy files" if data["source"] == "files" else "the tenant"
    partner = data["partnerFile"] or "no partner file: the default applies"
    lines = [
        f"Access from tenant {data['tenantId']} ({partner}), as {source} have it",
        f"for {who}, to {what}:",
        "",
        *(_channel(entry) for entry in data["channels"]),
        "",
        "Inbound trust: "
        + "; ".join(f"{word} {_setting(data['trust'][key])}" for key, word in _TRUST.items()),
        "Automatic consent: "
        + "; ".join(
            f"{key.removesuffix('Allowed')} {_setting(v)}" for key, v in data["automaticConsent"].items()
        ),
        f"Identity sync inbound: {_setting(data['identitySync'])}",
    ]
    return "\n".join(printable(line) for line in lines) + "\n"
