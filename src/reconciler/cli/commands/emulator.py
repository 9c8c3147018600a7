"""`xtap emulator`: serve the local Microsoft Graph and identity platform until interrupted.

Prints (and with --env-file writes) the KEY=VALUE lines a client needs. The client ids and secrets are
the emulator's own loopback test credentials, generated per state, never real ones.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from reconciler.cli.environment import Env
from reconciler.cli.parser import add_command
from reconciler.core.errors import EXIT_OK, XtapError


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
    p.add_argument("--env-file", metavar="FILE", help="also write the KEY=VALUE lines to this file")
    p.add_argument("--page-size", type=int, default=100, help="partners per list page (default 100)")
    p.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    p.add_argument(
        "--patch-semantics",
        choices=("merge", "replace"),
        default="merge",
        help="nested PATCH: OData merge (default) or replace each top-level property",
    )
    p.add_argument(
        "--duplicate-status",
        type=int,
        choices=(400, 409),
        default=400,
        help="status of a duplicate partner POST (default 400)",
    )
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


def env_lines(emu: Any) -> list[str]:
    env = emu.env(app="writer")
    env.update(
        {
            "XTAP_READER_CLIENT_ID": emu.reader.client_id,
            "XTAP_READER_CLIENT_SECRET": emu.reader.client_secret or "",
            "XTAP_WRITER_CLIENT_ID": emu.writer.client_id,
            "XTAP_WRITER_CLIENT_SECRET": emu.writer.client_secret or "",
        }
    )
    return [f"{key}={value}" for key, value in env.items()]


def serve(args: argparse.Namespace, stop: threading.Event) -> int:
    """Run until `stop` is set (tests) or the process is interrupted (the CLI)."""
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
    try:
        emu = Emulator(
            seed=args.seed,
            state_file=args.state,
            page_size=args.page_size,
            token_lifetime=args.token_lifetime,
            patch_semantics=args.patch_semantics,
            faults=faults,
            host=args.host,
            port=args.port,
            quirks=Quirks(duplicate_partner_status=args.duplicate_status),
        )
    except (ValueError, OSError) as exc:
        raise XtapError(f"emulator: {exc}") from None
    try:
        emu.start()
    except OSError as exc:
        raise XtapError(f"emulator: cannot listen on {args.host}:{args.port}: {exc}") from None
    try:
        lines = env_lines(emu)
        if args.env_file:
            Path(args.env_file).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n".join(lines), flush=True)
        print(f"# xtap emulator serving tenant {emu.tenant_id} at {emu.url}; Ctrl-C stops it", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
    return EXIT_OK


def run(args: argparse.Namespace, env: Env) -> int:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (a supervisor, `kill`) stops as cleanly as Ctrl-C: certificates removed, state saved.
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        return serve(args, stop)
    except KeyboardInterrupt:
        return EXIT_OK
