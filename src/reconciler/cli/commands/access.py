"""`xtap access --tenant-id GUID`: may these users of that tenant reach this app, and why (issue 16).

From the policy files by default (default.yaml over Microsoft's service default), or the tenant with
--live. Read-only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.cli.context import Context, Env, load_context, open_client
from reconciler.cli.parser import add_command, add_policies, add_sign_in
from reconciler.core import access, model
from reconciler.core.errors import EXIT_OK, XtapError
from reconciler.present import formats
from reconciler.present.access_text import render_text


def add_parser(sub: Any) -> None:
    p = add_command(sub, "access")
    p.add_argument(
        "--tenant-id", required=True, metavar="GUID", help="the partner tenant whose users are asked about"
    )
    p.add_argument("--user", metavar="ID", help="a user's object id (default: any user no rule names)")
    p.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="ID",
        help="a group the user is a member of (may repeat)",
    )
    p.add_argument(
        "--app", metavar="ID", help="an application id or keyword such as Office365 (default: any other app)"
    )
    p.add_argument("--channel", choices=access.CHANNEL_NAMES, help="one channel (default: every channel)")
    p.add_argument("--direction", choices=("inbound", "outbound"), help="one direction (default: both)")
    p.add_argument("--live", action="store_true", help="ask the tenant as it is, not the policy files")
    p.add_argument("--format", choices=("text", "json"), default="text", help="format (default: text)")
    add_policies(p)
    add_sign_in(p)


def _guid(value: str | None, what: str) -> str | None:
    if value is not None and not model.is_guid(value):
        raise XtapError(f"{what} must be a GUID, got {value!r}")
    return value.lower() if value is not None else None


def run(args: argparse.Namespace, env: Env) -> int:
    tenant_id = _guid(args.tenant_id, "--tenant-id")
    assert tenant_id is not None
    principal = access.Principal(
        _guid(args.user, "--user"), frozenset(_guid(g, "--group") or "" for g in args.group)
    )
    app = args.app if args.app is None or not model.is_guid(args.app) else args.app.lower()
    selected = access.channels(args.channel, args.direction)
    if not selected:
        raise XtapError(f"{args.channel} has no {args.direction} direction")
    ctx = load_context(args, env)
    declared = ctx.desired.partners.get(tenant_id)
    if args.live:
        partner, default, sync = _live(ctx, tenant_id)
        locate = _tenant_locator(partner is not None)
    else:
        partner = declared.properties if declared is not None else None
        sync = declared.sync if declared is not None else None
        written = dict(ctx.desired.default.properties) if ctx.desired.default is not None else {}
        default = {**access.SERVICE_DEFAULT, **written}
        locate = _file_locator(ctx, tenant_id, written)
    config = access.configuration(partner, default, sync)
    data = {
        "tenantId": tenant_id,
        "source": "live" if args.live else "files",
        "partnerFile": declared.source.path if declared is not None else None,
        "principal": {"user": principal.user, "groups": sorted(principal.groups)},
        "principalText": principal.describe(),
        "application": app,
        "channels": access.answer(config, selected, principal, app or access.ANY, locate),
        **_settings(config, locate),
    }
    sys.stdout.write(formats.json_text(data) if args.format == "json" else render_text(data))
    return EXIT_OK


def _live(
    ctx: Context, tenant_id: str
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any], Mapping[str, Any] | None]:
    with open_client(ctx) as client:
        partner = client.get_partner(tenant_id)
        sync = client.get_sync(tenant_id) if partner is not None else None
        default = client.get_default()
    return partner, default, sync


Locator = Callable[[str, str], str | None]


def _file_locator(ctx: Context, tenant_id: str, written: Mapping[str, Any]) -> Locator:
    declared = ctx.desired.partners.get(tenant_id)
    default = ctx.desired.default

    def locate(path: str, origin: str) -> str | None:
        if origin == "partner" and declared is not None:
            return str(declared.where(path))
        if origin == "default":
            if default is not None and path.split(".", 1)[0] in written:
                return str(default.where(path))
            return "service default, not in files"
        return None

    return locate


def _tenant_locator(configured: bool) -> Locator:
    def locate(path: str, origin: str) -> str | None:
        if origin == "partner":
            return "the partner's setting in the tenant" if configured else None
        return "the tenant's default" if origin == "default" else None

    return locate


def _settings(config: access.Configuration, locate: Locator) -> dict[str, Any]:
    def item(path: str) -> dict[str, Any]:
        leaf = config.leaf(path)
        return {"value": leaf.value, "origin": leaf.origin, "location": locate(path, leaf.origin)}

    trust = ("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted")
    return {
        "trust": {name: item(f"inboundTrust.{name}") for name in trust},
        "automaticConsent": {
            name: item(f"automaticUserConsentSettings.{name}")
            for name in ("inboundAllowed", "outboundAllowed")
        },
        "identitySync": item(f"{model.SYNC_PROPERTY}.userSyncInbound.isSyncAllowed"),
    }
