"""`xtap show PARTNER`: the effective settings of one partner, each leaf set on it or inherited.

PARTNER is a tenantId, the name of its policy file (`fabrikam`, or a path to it) or one of its domains
(`fabrikam.com`, resolved with the tenant-lookup API). Read-only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

from reconciler.cli.context import Context, Env, load_context, open_client
from reconciler.cli.parser import add_command, add_policies, add_sign_in
from reconciler.core import access, effective, model
from reconciler.core.effective import defaults_after
from reconciler.core.errors import EXIT_OK, XtapError
from reconciler.core.state import DesiredDefault, DesiredPartner, LiveState
from reconciler.core.text import printable
from reconciler.core.values import format_value
from reconciler.present import formats
from reconciler.shell.graph import GraphClient, GraphError

ORIGIN_TEXT = {"partner": "set", "default": "inherited (default)", "none": "not set"}


def add_parser(sub: Any) -> None:
    p = add_command(sub, "show")
    p.add_argument("partner", metavar="PARTNER", help="a tenantId, a partner file name, or a domain")
    add_policies(p)
    add_sign_in(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="format (default: text)")
    p.add_argument(
        "--source",
        choices=("live", "files"),
        default="live",
        help="the tenant as it is (default), or as it will be once the files are applied",
    )


def _file_match(ctx: Context, wanted: str) -> str | None:
    """The tenantId whose policy file is named `wanted` (stem, file name or path)."""
    want = PurePath(wanted.replace("\\", "/"))
    matches = []
    for tid, partner in ctx.desired.partners.items():
        path = PurePath(partner.source.path.replace("\\", "/"))
        if wanted.lower() in (path.stem.lower(), path.name.lower()) or (
            len(want.parts) > 1 and path.parts[-len(want.parts) :] == want.parts
        ):
            matches.append(tid)
    if len(matches) > 1:
        raise XtapError(f"{wanted!r} names more than one partner file; use the tenantId")
    return matches[0] if matches else None


def resolve(ctx: Context, client: GraphClient, wanted: str) -> tuple[str, Mapping[str, Any] | None]:
    """PARTNER → (tenantId, tenantInformation if already looked up)."""
    if model.is_guid(wanted):
        return wanted.lower(), None
    found = _file_match(ctx, wanted)
    if found is not None:
        return found, None
    if "." in wanted:
        info = client.find_tenant(domain=wanted)
        if info is None or not model.is_guid(info.get("tenantId")):
            raise XtapError(f"no tenant found for the domain {wanted!r}")
        return str(info["tenantId"]).lower(), info
    raise XtapError(f"{wanted!r} is not a tenantId, the name of a partner file or a domain")


def _info(client: GraphClient, tenant_id: str) -> Mapping[str, Any] | None:
    try:
        return client.find_tenant(tenant_id=tenant_id)
    except GraphError:  # a display name is a nicety: without the lookup permission, show still works
        return None


def run(args: argparse.Namespace, env: Env) -> int:
    ctx = load_context(args, env)
    with open_client(ctx) as client:
        tenant_id, info = resolve(ctx, client, args.partner)
        # One partner, not the whole list: three GETs whatever the size of the tenant.
        live_partner = client.read_partner(tenant_id)
        live = LiveState({}, client.get_default())
        if info is None:
            info = _info(client, tenant_id)
    declared = ctx.desired.partners.get(tenant_id)
    if args.source == "files":
        if declared is None:
            raise XtapError(f"no policy file declares {tenant_id}; try --source live")
        partner: Mapping[str, Any] | None = declared.properties
        default: Mapping[str, Any] = defaults_after(ctx.desired, live.default)
        sync: Mapping[str, Any] | None = declared.sync
    else:
        partner = live_partner.raw if live_partner is not None else None
        default = live.default or {}
        sync = live_partner.sync if live_partner is not None else None
    leaves = effective.effective_settings(partner, default, sync)
    from_files = args.source == "files"
    locate = _locator(declared if from_files else None, ctx.desired.default if from_files else None)
    data = {
        "tenantId": tenant_id,
        "displayName": (info or {}).get("displayName"),
        "defaultDomainName": (info or {}).get("defaultDomainName"),
        "source": args.source,
        "file": declared.source.path if declared is not None else None,
        "configured": partner is not None,
        "isInMultiTenantOrganization": live_partner.is_mto if live_partner is not None else False,
        "settings": [{"path": leaf.path, "value": leaf.value, "origin": leaf.origin} for leaf in leaves],
        "access": _access(access.configuration(partner, default, sync), locate),
    }
    if args.format == "json":
        sys.stdout.write(formats.json_text(data))
    else:
        sys.stdout.write(render_text(data, leaves))
    return EXIT_OK


def _locator(declared: DesiredPartner | None, default: DesiredDefault | None) -> Callable[[str, str], str]:
    """Where a rule comes from, for people: the file and line (from the files), else partner or default."""

    def locate(path: str, origin: str) -> str:
        if origin == "partner":
            return str(declared.where(path)) if declared is not None else "the partner's setting"
        if origin == "default":
            written = default is not None and path.split(".", 1)[0] in default.properties
            return str(default.where(path)) if written and default is not None else "the default"
        return "not set"

    return locate


def _access(config: access.Configuration, locate: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """Each channel's rules as this partner gets them, and where they come from."""
    out = []
    for channel in access.CHANNELS:
        slots = [config.rule(channel, s) for s in (channel.users, channel.apps) if s is not None]
        out.append(
            {
                "channel": channel.name,
                "direction": channel.direction,
                "rules": [
                    {
                        "slot": rule.slot,
                        "accessType": rule.access_type,
                        "targets": [t for _, t in rule.targets],
                        "origin": rule.origin,
                        "from": locate(rule.slot_path, rule.origin),
                    }
                    for rule in slots
                ],
            }
        )
    return out


def _access_line(entry: Mapping[str, Any]) -> str:
    channel = next(
        c for c in access.CHANNELS if (c.name, c.direction) == (entry["channel"], entry["direction"])
    )
    rules = entry["rules"]
    if not any(r["accessType"] for r in rules):
        return f"  {access.channel_words(channel)}: not set — nobody gets in"
    parts = []
    for rule in rules:
        kind = rule["accessType"] or "not set"
        targets = ", ".join(rule["targets"]) or "nobody"
        parts.append(f"{rule['slot']} {kind} for {targets} — from {rule['from']}")
    return f"  {access.channel_words(channel)}: " + "; ".join(parts)


def render_text(data: Mapping[str, Any], leaves: list[effective.Leaf]) -> str:
    name = data.get("displayName")
    domain = data.get("defaultDomainName")
    title = f"Partner {data['tenantId']}"
    if name:
        title += f" — {name}" + (f" ({domain})" if domain else "")
    lines = [title]
    lines.append(f"Policy file: {data['file']}" if data["file"] else "Policy file: none (unmanaged)")
    if data["isInMultiTenantOrganization"]:
        lines.append("Member of a multitenant organization.")
    if not data["configured"]:
        lines.append("The tenant has no configuration for this partner: everything comes from the default.")
    where = "as the tenant has it" if data["source"] == "live" else "as the policy files will make it"
    lines += [f"Effective settings, {where}:", ""]
    width = max(len(leaf.path) for leaf in leaves)
    value_width = min(48, max(len(format_value(leaf.value)) for leaf in leaves))
    for leaf in leaves:
        value = format_value(leaf.value) if leaf.origin != "none" else "-"
        lines.append(f"  {leaf.path:<{width}}  {value:<{value_width}}  {ORIGIN_TEXT[leaf.origin]}")
    lines += ["", "Access, channel by channel:", *(_access_line(entry) for entry in data["access"])]
    return "\n".join(printable(line) for line in lines) + "\n"  # names and values from Graph and files
