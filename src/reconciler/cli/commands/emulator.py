"""`xtap emulator`: serve the local Microsoft Graph and identity platform until interrupted (SIGINT or
SIGTERM); `xtap emulator set` / `delete` make "portal changes" in a running one.

Prints (and with --env-file writes) `export KEY=value` lines a client needs, usable with `source`. The
client ids and secrets are the emulator's own loopback test credentials, generated per state, never real
ones; the admin secret authenticates `set` and `delete` and changes with every start.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from reconciler.cli import catalog
from reconciler.cli.environment import Env
from reconciler.cli.parser import add_command, add_leaf
from reconciler.core.errors import EXIT_OK, XtapError

_SWITCHES = (
    (
        "--nested-nulls",
        ("accept", "reject", "false"),
        "a null inside a complex property of a write body: "
        "stored as null (default), refused with 400, or a Boolean stored as false",
    ),
    ("--top", ("honoured", "ignored"), "$top on the partner list: honoured (default) or ignored"),
    (
        "--read-only-keys",
        ("reject", "ignore"),
        "read-only keys (tenantId, isInMultiTenantOrganization, ...) in a body: 400 (default) or ignored",
    ),
    (
        "--post-properties",
        ("all", "documented"),
        "partner POST accepts every writable property (default) or only those the v1.0 Create page lists",
    ),
)


def add_parser(sub: Any) -> None:
    p = add_command(sub, "emulator")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: an ephemeral port)")
    p.add_argument(
        "--state", metavar="FILE", help="JSON state file: loaded if present, written on every change"
    )
    p.add_argument(
        "--seed", default="demo", help="empty | demo | generated:N (default demo; ignored if --state exists)"
    )
    p.add_argument(
        "--env-file",
        metavar="FILE",
        help="also write the `export KEY=value` lines to this file (for `source`)",
    )
    p.add_argument("--page-size", type=int, default=100, help="partners per list page (default 100)")
    p.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    p.add_argument(
        "--patch-semantics",
        choices=("merge", "replace"),
        default="merge",
        help="nested PATCH: OData merge (default) or replace each top-level property",
    )
    for flag, choices, text in _SWITCHES:
        p.add_argument(flag, choices=choices, default=choices[0], help=text)
    p.add_argument(
        "--duplicate-status",
        type=int,
        choices=(400, 409),
        default=400,
        help="status of a duplicate partner POST (default 400)",
    )
    _fault_options(p)
    _admin_parsers(p)


def _fault_options(p: argparse.ArgumentParser) -> None:
    faults = p.add_argument_group("faults")
    faults.add_argument("--latency-ms", type=int, default=0, help="added to every request")
    faults.add_argument("--write-quota", type=int, help="writes allowed per window per app, then 429")
    faults.add_argument("--write-window", type=float, default=150.0, help="write-quota window in seconds")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on quota 429s")
    faults.add_argument("--no-retry-after", action="store_true", help="send quota 429s without Retry-After")
    faults.add_argument("--error-rate", type=float, default=0.0, help="probability of a random 503/504")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="probability of dropping the connection")
    faults.add_argument(
        "--read-lag", type=float, default=0.0, help="seconds GETs return the pre-write version"
    )
    faults.add_argument("--fault-seed", type=int, default=0, help="seed of the random faults")


def _admin_parsers(p: argparse.ArgumentParser) -> None:
    # Options live on the leaves only: argparse lets a subparser's defaults overwrite values parsed one
    # level up (hence the admin --env-file's own dest).
    actions = p.add_subparsers(dest="emulator_action", metavar="{set,delete}", title="portal changes")
    env_help = (
        "the emulator's env file (default: XTAP_GRAPH_URL, SSL_CERT_FILE and the admin secret "
        "from the environment)"
    )
    s = add_leaf(
        actions,
        "set",
        "change a partner, the default or the policy itself in a running emulator (a portal change)",
        "Set PROPERTY (a dotted path) of a partner, the default or the policy itself to VALUE in the\n"
        "running emulator, as an admin would in the portal: no Graph call, no journal entry. A partner\n"
        "that does not exist is created.",
        catalog.epilog("emulator"),
    )
    s.add_argument(
        "target", metavar="PARTNER_OR_DEFAULT", help="a partner's tenant id, `default` or `policy`"
    )
    s.add_argument(
        "property",
        metavar="PROPERTY",
        help="dotted path, e.g. inboundTrust.isMfaAccepted or identitySynchronization.userSyncInbound",
    )
    s.add_argument("value", metavar="VALUE", help="YAML or JSON: true, null, '{isSyncAllowed: true}', ...")
    s.add_argument(
        "--allow-unknown",
        action="store_true",
        help="allow a member the v1.0 metadata does not know (as Graph returns beta members)",
    )
    s.add_argument("--env-file", dest="admin_env_file", metavar="FILE", help=env_help)
    d = add_leaf(
        actions,
        "delete",
        "delete a partner (or only its identitySynchronization policy) in a running emulator",
        "Delete PARTNER and its identitySynchronization policy in the running emulator, as an admin would\n"
        "in the portal; with --sync, only its identitySynchronization policy.",
        catalog.epilog("emulator"),
    )
    d.add_argument("partner", metavar="PARTNER", help="the partner's tenant id")
    d.add_argument(
        "--sync", action="store_true", help="delete only the partner's identitySynchronization policy"
    )
    d.add_argument("--env-file", dest="admin_env_file", metavar="FILE", help=env_help)


def env_lines(emu: Any) -> list[str]:
    from reconciler.emulator import envfile

    return envfile.render(env_values(emu)).splitlines()


def env_values(emu: Any) -> dict[str, str]:
    from reconciler.emulator.admin import SECRET_ENV

    env: dict[str, str] = emu.env(app="writer")
    env.update(
        {
            "XTAP_READER_CLIENT_ID": emu.reader.client_id,
            "XTAP_READER_CLIENT_SECRET": emu.reader.client_secret or "",
            "XTAP_WRITER_CLIENT_ID": emu.writer.client_id,
            "XTAP_WRITER_CLIENT_SECRET": emu.writer.client_secret or "",
            SECRET_ENV: emu.admin_secret,
        }
    )
    return env


def _emulator(args: argparse.Namespace) -> Any:
    from reconciler.emulator import Emulator, Faults, Quirks

    faults = Faults(
        latency_ms=args.latency_ms,
        write_quota=args.write_quota,
        write_window_s=args.write_window,
        throttle_retry_after=not args.no_retry_after,
        retry_after_s=args.retry_after,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        read_lag_s=args.read_lag,
        rng_seed=args.fault_seed,
    )
    quirks = Quirks(
        nested_nulls=args.nested_nulls,
        top=args.top,
        read_only_keys=args.read_only_keys,
        post_properties=args.post_properties,
        duplicate_partner_status=args.duplicate_status,
    )
    try:
        return Emulator(
            seed=args.seed,
            state_file=args.state,
            page_size=args.page_size,
            token_lifetime=args.token_lifetime,
            patch_semantics=args.patch_semantics,
            faults=faults,
            host=args.host,
            port=args.port,
            quirks=quirks,
        )
    except (ValueError, OSError) as exc:
        raise XtapError(f"emulator: {exc}") from None


def serve(args: argparse.Namespace, stop: threading.Event) -> int:
    """Run until `stop` is set (a signal, or a test)."""
    from reconciler.emulator import envfile

    emu = _emulator(args)
    try:
        emu.start()
    except OSError as exc:
        raise XtapError(f"emulator: cannot listen on {args.host}:{args.port}: {exc}") from None
    try:
        values = env_values(emu)
        if args.env_file:
            try:
                envfile.write(Path(args.env_file), values)
            except OSError as exc:
                raise XtapError(f"emulator: cannot write {args.env_file}: {exc.strerror}") from None
        print(envfile.render(values), end="", flush=True)
        print(f"# xtap emulator serving tenant {emu.tenant_id} at {emu.url}; Ctrl-C stops it", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
    return EXIT_OK


def run(args: argparse.Namespace, env: Env) -> int:
    if args.emulator_action is not None:
        return _admin(args, env)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # Both stop it cleanly (certificates removed, state saved). SIGINT is set explicitly: a shell
        # starts a background job with SIGINT ignored, and Python then never raises KeyboardInterrupt.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _signum, _frame: stop.set())
    return serve(args, stop)


# -- set / delete: the admin path of a running emulator ---------------------------------------------
def _admin(args: argparse.Namespace, env: Env) -> int:
    from reconciler.emulator.admin import AdminError, send

    url, ca_file, secret = _admin_target(args, env)
    if args.emulator_action == "set":
        payload: dict[str, Any] = {
            "target": args.target,
            "property": args.property,
            "value": _value(args.value),
            "allowUnknown": args.allow_unknown,
        }
    else:
        payload = {"tenantId": args.partner, "sync": args.sync}
    try:
        message = send(url, ca_file, secret, args.emulator_action, payload)
    except AdminError as exc:
        raise XtapError(f"emulator {args.emulator_action}: {exc.message}") from None
    print(message)
    return EXIT_OK


def _value(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
        json.dumps(value)
    except (yaml.YAMLError, TypeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise XtapError(f"emulator set: VALUE must be YAML or JSON data: {first}") from None
    return value


def _admin_target(args: argparse.Namespace, env: Env) -> tuple[str, str, str]:
    """URL, CA file and admin secret: from --env-file, else from the environment (a sourced env file)."""
    from reconciler.emulator import envfile
    from reconciler.emulator.admin import SECRET_ENV

    path = args.admin_env_file or args.env_file
    source: Env = env
    where = "the environment"
    if path:
        try:
            source = envfile.read(Path(path))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise XtapError(f"emulator {args.emulator_action}: cannot read env file {path}: {exc}") from None
        where = path
    missing = [k for k in ("XTAP_GRAPH_URL", "SSL_CERT_FILE", SECRET_ENV) if not source.get(k)]
    if missing:
        raise XtapError(
            f"emulator {args.emulator_action}: no {', '.join(missing)} in {where}: `source` the file that "
            "`xtap emulator --env-file FILE` wrote, or pass --env-file FILE"
        )
    url = source["XTAP_GRAPH_URL"]
    host = urlsplit(url).hostname or ""
    if not _loopback(host):
        # The admin secret goes only to a local emulator, never to a real Graph endpoint.
        raise XtapError(
            f"emulator {args.emulator_action}: XTAP_GRAPH_URL {url} is not a loopback address; "
            "set and delete talk to a local `xtap emulator` only"
        )
    return url, source["SSL_CERT_FILE"], source[SECRET_ENV]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
