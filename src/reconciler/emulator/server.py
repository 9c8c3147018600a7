"""The emulator process: an HTTPS server on loopback (HTTP/1.1 keep-alive, a thread per connection) and
the `Emulator` object tests and the `xtap emulator` command drive."""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import logging
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from reconciler.emulator import certs, seeds
from reconciler.emulator.admin import AdminApi
from reconciler.emulator.config import (
    LOOKUP_ROLE,
    READ_ROLE,
    WRITE_ROLE,
    App,
    FaultRule,
    Faults,
    FederatedCredential,
    JournalEntry,
    Quirks,
)
from reconciler.emulator.faults import FaultEngine, Rejection
from reconciler.emulator.graph import GraphApi
from reconciler.emulator.service import Frontend, Journal
from reconciler.emulator.store import TenantStore
from reconciler.emulator.tokens import IdentityPlatform

log = logging.getLogger("reconciler.emulator")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "xtap-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this long
    server: _TLSServer

    def setup(self) -> None:
        super().setup()
        # One write per response and no Nagle delay: small keep-alive responses otherwise wait ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        raw = self.rfile.read(int(length)) if length and length.isdigit() else b""
        host = self.headers.get("Host") or ""
        base = f"https://{host}" if host else self.server.base
        result = self.server.frontend.handle(self.command, self.path, self.headers, raw, base)  # type: ignore[arg-type]
        if result.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        phrase = HTTPStatus(result.status).phrase if result.status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {result.status} {phrase}", f"Date: {self.date_time_string()}"]
        lines.extend(f"{k}: {v}" for k, v in result.headers)
        lines.append(f"Content-Length: {len(result.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + result.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, frontend: Frontend) -> None:
        super().__init__(address, _Handler)
        self.context = context
        self.frontend = frontend
        self.base = ""
        self._conns: set[ssl.SSLSocket] = set()
        self._conns_lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the connection's own thread, so a slow client cannot stall accept().
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake failed: %s", exc)
            return
        with self._conns_lock:
            self._conns.add(tls)
        try:
            _Handler(tls, client_address, self)
        except (ssl.SSLError, OSError) as exc:
            log.debug("connection ended: %s", exc)
        finally:
            with self._conns_lock:
                self._conns.discard(tls)
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error on a connection from %s", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """A local Microsoft Graph (cross-tenant access policy) and identity platform, over real HTTPS.

    `with Emulator(seed="demo") as emu:` serves on 127.0.0.1 in a background thread until the block ends.
    """

    def __init__(
        self,
        seed: str | dict[str, Any] = "empty",
        state_file: str | Path | None = None,
        page_size: int = 100,
        token_lifetime: int = 3600,
        patch_semantics: Literal["merge", "replace"] = "merge",
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        quirks: Quirks | None = None,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the emulator binds loopback only, not {host!r}")
        if patch_semantics not in ("merge", "replace"):
            raise ValueError(f"patch_semantics must be 'merge' or 'replace', not {patch_semantics!r}")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.host, self.port = host, port
        self.state_file = Path(state_file) if state_file is not None else None
        if self.state_file is not None and self.state_file.exists():
            state = TenantStore.load(self.state_file)
        else:
            state = seeds.resolve(seed)
        apps = state.pop("apps", None)
        self._store = TenantStore(state, self.state_file)
        self._faults = faults if faults is not None else Faults()
        self._store.lag_seconds = lambda: self._faults.read_lag_s
        self._engine = FaultEngine(self._faults)
        self._apps: dict[str, App] = {}
        self._apps_lock = threading.Lock()
        if apps:
            for raw in apps:
                self._add_app(_app_from_json(raw))
            self.reader = self._apps[str(apps[0]["client_id"]).lower()]
            self.writer = self._apps[str(apps[1]["client_id"]).lower()]
        else:
            self.reader = App(str(uuid.uuid4()), (READ_ROLE, LOOKUP_ROLE), secrets.token_urlsafe(32))
            self.writer = App(str(uuid.uuid4()), (WRITE_ROLE, LOOKUP_ROLE), secrets.token_urlsafe(32))
            self._add_app(self.reader)
            self._add_app(self.writer)
        self._identity = IdentityPlatform(self._store.tenant_id, self._app_table, token_lifetime)
        self._journal = Journal()
        self._graph = GraphApi(
            self._store, self._engine, quirks or Quirks(), page_size, patch_semantics, self._journal.extend
        )
        # Authenticates `xtap emulator set/delete` (the admin path); per process, like the port.
        self.admin_secret = secrets.token_urlsafe(32)
        admin = AdminApi(self._store, self.admin_secret)
        self._frontend = Frontend(self._identity, self._graph, self._engine, self._journal, admin)
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._cert_dir: Path | None = None
        self._ca_file: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self._cert_dir = Path(tempfile.mkdtemp(prefix="xtap-emulator-"))
        files = certs.generate(self._cert_dir, self.host)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(files.cert_file, files.key_file)
        server = _TLSServer((self.host, self.port), context, self._frontend)
        self.port = server.server_address[1]
        server.base = self.url
        self._identity.canonical_base = self.url
        self._server = server
        self._ca_file = files.ca_file
        self._persist_apps()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="xtap-emulator", daemon=True
        )
        self._thread.start()
        log.info("emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
            self._cert_dir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- connection facts --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        if self._ca_file is None:
            raise RuntimeError("the emulator is not running")
        return self._ca_file

    @property
    def tenant_id(self) -> str:
        return self._store.tenant_id

    def env(self, app: str | App = "writer") -> dict[str, str]:
        chosen = self.writer if app == "writer" else self.reader if app == "reader" else app
        if not isinstance(chosen, App):
            raise ValueError(f"unknown app {app!r}: use 'reader', 'writer' or an App")
        env = {
            "XTAP_GRAPH_URL": self.url,
            "AZURE_AUTHORITY_HOST": self.url,
            "SSL_CERT_FILE": str(self.ca_file),
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": chosen.client_id,
        }
        if chosen.client_secret is not None:
            env["AZURE_CLIENT_SECRET"] = chosen.client_secret
        return env

    # -- apps --------------------------------------------------------------------------------------
    def _app_table(self) -> dict[str, App]:
        with self._apps_lock:
            return dict(self._apps)

    def _add_app(self, app: App) -> None:
        with self._apps_lock:
            self._apps[app.client_id.lower()] = app

    def register_app(self, app: App) -> App:
        self._add_app(app)
        self._persist_apps()
        return app

    def _persist_apps(self) -> None:
        if self.state_file is None:
            return
        with self._store.lock:
            self._store.extras["apps"] = [_app_to_json(a) for a in (self.reader, self.writer)] + [
                _app_to_json(a) for a in self._app_table().values() if a not in (self.reader, self.writer)
            ]
        self._store.save()

    # -- journal -----------------------------------------------------------------------------------
    @property
    def journal(self) -> list[JournalEntry]:
        return self._journal.snapshot()

    def clear_journal(self) -> None:
        self._journal.clear()

    # -- faults ------------------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._faults = value
        self._engine.faults = value

    def add_fault(self, rule: FaultRule) -> None:
        self._engine.add_rule(rule)

    def reject_writes(
        self,
        tid: str,
        status: int = 400,
        code: str = "Request_BadRequest",
        message: str = "The request was rejected.",
    ) -> None:
        self._engine.reject_writes(tid, Rejection(status, code, message))

    def accept_writes(self, tid: str) -> None:
        self._engine.reject_writes(tid, None)

    def expire_tokens(self) -> None:
        self._identity.expire_all()

    # -- direct state access: a "portal change", not journaled, no lag -----------------------------
    def _base(self) -> str:
        return self.url

    def partners(self) -> dict[str, dict[str, Any]]:
        with self._store.lock:
            return {
                tid: self._graph.views.partner_entity(self._base(), p)
                for tid in self._store.partner_ids()
                if (p := self._store.partner(tid)) is not None
            }

    def get_partner(self, tid: str) -> dict[str, Any] | None:
        stored = self._store.partner(tid.lower())
        return None if stored is None else self._graph.views.partner_entity(self._base(), stored)

    def put_partner(self, partner: dict[str, Any]) -> None:
        tid = str(partner["tenantId"]).lower()
        stored = {k: copy.deepcopy(v) for k, v in partner.items() if not k.startswith("@odata.")}
        stored["tenantId"] = tid
        stored.setdefault("isInMultiTenantOrganization", False)
        self._store.set_partner(tid, stored, track=False)

    def delete_partner(self, tid: str) -> None:
        self._store.set_sync(tid.lower(), None, track=False)
        self._store.set_partner(tid.lower(), None, track=False)

    def get_sync(self, tid: str) -> dict[str, Any] | None:
        stored = self._store.sync(tid.lower())
        return None if stored is None else self._graph.views.sync_entity(self._base(), tid.lower(), stored)

    def set_sync(self, tid: str, policy: dict[str, Any] | None) -> None:
        key = tid.lower()
        if policy is None:
            self._store.set_sync(key, None, track=False)
            return
        stored: dict[str, Any] = {"displayName": None, "userSyncInbound": None}
        stored.update({k: copy.deepcopy(v) for k, v in policy.items() if not k.startswith("@odata.")})
        stored["tenantId"] = key
        self._store.set_sync(key, stored, track=False)

    def get_default(self) -> dict[str, Any]:
        return self._graph.views.default(self._base(), self._store.default())

    def patch_default(self, patch: dict[str, Any]) -> None:
        with self._store.lock:
            body = {k: v for k, v in patch.items() if not k.startswith("@odata.")}
            updated = self._graph.rules.apply_patch(self._store.default(), body)
            if "isServiceDefault" not in body:
                updated["isServiceDefault"] = False
            self._store.set_default(updated, track=False)

    def get_policy(self) -> dict[str, Any]:
        """`/policies/crossTenantAccessPolicy` as GET returns it."""
        return self._graph.views.policy(self._base(), self._store.policy())

    def patch_policy(self, patch: dict[str, Any]) -> None:
        """Change the policy itself (e.g. `{"allowedCloudEndpoints": [...]}`), merged per patch_semantics."""
        with self._store.lock:
            body = {k: v for k, v in patch.items() if not k.startswith("@odata.")}
            self._store.set_policy(self._graph.rules.apply_patch(self._store.policy(), body), track=False)

    def state(self) -> dict[str, Any]:
        """A deep copy of the whole state dict (the state-file format), e.g. to seed another emulator."""
        with self._store.lock:
            return copy.deepcopy(self._store.state)


def _app_to_json(app: App) -> dict[str, Any]:
    return {
        "client_id": app.client_id,
        "roles": list(app.roles),
        "client_secret": app.client_secret,
        "certificate_pem": app.certificate_pem,
        "federated": [
            {"issuer": f.issuer, "subject": f.subject, "audience": f.audience} for f in app.federated
        ],
    }


def _app_from_json(raw: dict[str, Any]) -> App:
    return App(
        client_id=str(raw["client_id"]),
        roles=tuple(raw.get("roles") or ()),
        client_secret=raw.get("client_secret"),
        certificate_pem=raw.get("certificate_pem"),
        federated=tuple(FederatedCredential(**f) for f in raw.get("federated") or ()),
    )
