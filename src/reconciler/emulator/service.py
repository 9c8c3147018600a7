"""The HTTP front of the emulator: routes a request to the identity platform or Graph, applies the
request-level faults (latency, one-shot rules, drops, random 5xx), checks the bearer token and keeps
the journal. Socket handling lives in `server.py`; this module works on plain values.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from reconciler.emulator.admin import PREFIX as ADMIN_PREFIX
from reconciler.emulator.admin import AdminApi
from reconciler.emulator.config import FaultRule, JournalEntry
from reconciler.emulator.faults import FaultEngine
from reconciler.emulator.graph import GraphApi
from reconciler.emulator.replies import Call, GraphError, Reply, error_body, fault_error
from reconciler.emulator.tokens import BearerError, IdentityPlatform, TokenError
from reconciler.emulator.tokens import error_body as token_error_body

ODATA_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)
_SECRET_FIELDS = ("client_secret", "client_assertion")


@dataclass
class HttpResult:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    drop: bool = False


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    raw: bytes
    body: Any  # parsed JSON (Graph) or the redacted form (token endpoint)
    base: str
    request_id: str
    client_request_id: str
    segments: list[str]
    is_token: bool


class Journal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    def extend(self, entries: list[JournalEntry]) -> None:
        with self._lock:
            self._entries.extend(entries)

    def snapshot(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        # Kept as text: the handlers refuse a non-object body with Graph's "Unable to read JSON" error.
        return raw.decode("utf-8", "replace")


class Frontend:
    def __init__(
        self,
        identity: IdentityPlatform,
        graph: GraphApi,
        faults: FaultEngine,
        journal: Journal,
        admin: AdminApi | None = None,
    ) -> None:
        self.identity = identity
        self.graph = graph
        self.faults = faults
        self.journal = journal
        self.admin = admin

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], raw: bytes, base: str
    ) -> HttpResult:
        path, _, query = target.partition("?")
        if self.admin is not None and path.startswith(ADMIN_PREFIX):
            # A portal change: no faults, no latency, no journal.
            answer = self.admin.handle(method, path, headers.get("Authorization"), _parse_body(raw))
            return HttpResult(answer.status, [("Content-Type", "application/json")], answer.encode())
        latency = self.faults.faults.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)
        segments = path.strip("/").split("/")
        is_token = len(segments) == 4 and [s.lower() for s in segments[1:]] == ["oauth2", "v2.0", "token"]
        req = _Request(
            method,
            path,
            query,
            headers,
            raw,
            self._token_form(raw) if is_token else _parse_body(raw),
            base,
            str(uuid.uuid4()),
            headers.get("client-request-id") or str(uuid.uuid4()),
            segments,
            is_token,
        )
        rule = self.faults.take_rule(method, path)
        if (rule is not None and rule.drop and not rule.after_effect) or (
            rule is None and self.faults.random_drop()
        ):
            self._record(req, 0)
            return HttpResult(0, drop=True)
        if rule is not None and not rule.drop and not (rule.batch and rule.after_effect):
            err = fault_error(rule.status, rule.code, rule.message, rule.retry_after)
            self._record(req, err.status)
            return self._graph_error(err, req.request_id, req.client_request_id)
        result, client_id, subs = self._dispatch(req)
        if rule is not None and rule.batch and not rule.drop:  # the batch ran; its answer is the fault's
            result.status = rule.status
            if rule.retry_after is not None:
                result.headers.append(("Retry-After", str(rule.retry_after)))
        dropped = rule is not None and rule.drop  # after_effect: the request was executed, the answer is lost
        # A dropped request is journaled with status 0 (no response), even when it took effect.
        self._record(req, 0 if dropped or result.drop else result.status, client_id, subs)
        result.drop = result.drop or dropped
        return result

    def _record(
        self, req: _Request, status: int, client_id: str | None = None, subs: list[JournalEntry] | None = None
    ) -> None:
        entry = JournalEntry(
            req.method, req.path, req.query, req.body, status, client_id=client_id, time=time.time()
        )
        self.journal.extend([entry, *(subs or ())])

    def _dispatch(self, req: _Request) -> tuple[HttpResult, str | None, list[JournalEntry]]:
        segments = req.segments
        if req.is_token and req.method == "POST":
            result, client_id = self.token(segments[0], req.raw, req.base)
            return result, client_id, []
        if len(segments) == 4 and [s.lower() for s in segments[1:]] == [
            "v2.0",
            ".well-known",
            "openid-configuration",
        ]:
            return self._discovery(segments[0], req.base), None, []
        if segments[0].lower() == "v1.0":
            return self._graph(
                req.method,
                req.path[len("/v1.0") :],
                req.query,
                req.headers,
                req.body,
                req.base,
                req.request_id,
                req.client_request_id,
            )
        return HttpResult(404, [("Content-Type", "text/plain")], b"Not Found"), None, []

    # -- identity platform -------------------------------------------------------------------------
    @staticmethod
    def _token_form(raw: bytes) -> dict[str, str]:
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        # The journal keeps the request's shape, never the credential itself.
        return {k: ("<redacted>" if k in _SECRET_FIELDS else v) for k, v in form.items()}

    def token(self, tenant: str, raw: bytes, base: str) -> tuple[HttpResult, str | None]:
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        headers = [
            ("Cache-Control", "no-store, no-cache"),
            ("Pragma", "no-cache"),
            ("Content-Type", "application/json; charset=utf-8"),
            ("x-ms-request-id", str(uuid.uuid4())),
        ]
        try:
            body, client_id = self.identity.issue(base, tenant, form)
        except TokenError as err:
            return HttpResult(err.status, headers, _json(token_error_body(err))), form.get("client_id")
        return HttpResult(200, headers, _json(body)), client_id

    def _discovery(self, tenant: str, base: str) -> HttpResult:
        headers = [("Content-Type", "application/json; charset=utf-8"), ("Access-Control-Allow-Origin", "*")]
        if not self.identity.knows_tenant(tenant):
            err = TokenError(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
            return HttpResult(400, headers, _json(token_error_body(err)))
        return HttpResult(200, headers, _json(self.identity.openid_configuration(base, tenant)))

    # -- Graph -------------------------------------------------------------------------------------
    def _graph_error(self, err: GraphError, request_id: str, client_request_id: str) -> HttpResult:
        reply = Reply(
            err.status,
            error_body(err.code, err.message, request_id, client_request_id, err.details),
            err.headers,
        )
        return self._serialize(reply, request_id, client_request_id)

    def _serialize(self, reply: Reply, request_id: str, client_request_id: str) -> HttpResult:
        headers = [
            ("Cache-Control", "no-cache"),
            ("request-id", request_id),
            ("client-request-id", client_request_id),
            (
                "x-ms-ags-diagnostic",
                '{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"0",'
                '"ScaleUnit":"000","RoleInstance":"xtap-emulator"}}',
            ),
            ("x-ms-resource-unit", "1"),
        ]
        headers.extend(reply.headers.items())
        if reply.body is None:
            return HttpResult(reply.status, headers, b"", reply.drop)
        headers.append(("Content-Type", ODATA_JSON))
        return HttpResult(reply.status, headers, _json(reply.body), reply.drop)

    def _graph(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: Any,
        base: str,
        request_id: str,
        client_request_id: str,
    ) -> tuple[HttpResult, str | None, list[JournalEntry]]:
        try:
            caller = self.identity.check_bearer(headers.get("Authorization"), base)
        except BearerError as exc:
            err = GraphError(
                401,
                "InvalidAuthenticationToken",
                exc.message,
                {
                    "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                    'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
                },
            )
            return self._graph_error(err, request_id, client_request_id), None, []
        status = self.faults.random_error()
        if status is not None:
            return self._graph_error(fault_error(status), request_id, client_request_id), caller.client_id, []
        call = Call(method, path, query, body, caller, base, request_id, client_request_id)
        subs: list[JournalEntry] = []
        if path.strip("/").lower() == "$batch":
            if method != "POST":
                err = GraphError(
                    405, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri."
                )
                return self._graph_error(err, request_id, client_request_id), caller.client_id, []

            def run_sub(sub: Call, sub_id: str) -> tuple[Reply, FaultRule | None]:
                reply, rule = self._sub_request(sub)
                subs.append(
                    JournalEntry(
                        sub.method,
                        "/v1.0" + sub.path,
                        sub.query,
                        sub.body,
                        0 if rule is not None else reply.status,
                        in_batch=True,
                        batch_id=sub_id,
                        client_id=caller.client_id,
                        time=time.time(),
                    )
                )
                return reply, rule

            try:
                reply = self.graph.batch(call, run_sub)
            except GraphError as err:
                return self._graph_error(err, request_id, client_request_id), caller.client_id, subs
        else:
            reply = self.graph.handle(call)
        return self._serialize(reply, request_id, client_request_id), caller.client_id, subs

    def _sub_request(self, sub: Call) -> tuple[Reply, FaultRule | None]:
        rule = self.faults.take_rule(sub.method, "/v1.0" + sub.path, outer=False)
        if rule is not None and rule.drop:
            reply = self.graph.handle(sub) if rule.after_effect else Reply(0)
            return reply, rule
        if rule is not None:
            err = fault_error(rule.status, rule.code, rule.message, rule.retry_after)
        else:
            status = self.faults.random_error()
            if status is None:
                return self.graph.handle(sub), None
            err = fault_error(status)
        body = error_body(err.code, err.message, sub.request_id, sub.client_request_id)
        return Reply(err.status, body, err.headers), None
