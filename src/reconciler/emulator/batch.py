"""JSON batching (`POST /v1.0/$batch`): parse, order by `dependsOn`, run each sub-request, answer.

Microsoft's JSON batching page: at most 20 requests, ids unique, a `body` needs a `Content-Type` header,
a request whose dependency failed gets 424, responses may come back in any order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator.config import FaultRule
from reconciler.emulator.replies import Call, GraphError, Reply, error_body

MAX_BATCH = 20

# Runs one sub-request with its faults applied; returns the reply and a drop rule that fired, if any.
RunSub = Callable[[Call, str], tuple[Reply, FaultRule | None]]


@dataclass
class _Run:
    call: Call
    by_id: dict[str, dict[str, Any]]
    run_sub: RunSub
    done: dict[str, Reply] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    drop: FaultRule | None = None

    def stopped(self) -> bool:
        # A dropped connection without after-effect ends the batch: later sub-requests never run.
        return self.drop is not None and not self.drop.after_effect

    def run(self, req: dict[str, Any], stack: tuple[str, ...]) -> None:
        rid = req["id"]
        if rid in self.done or self.stopped():
            return
        deps = req.get("dependsOn") or ()
        for dep in deps:
            if dep in stack:
                raise GraphError(400, "BadRequest", "Batch request has a circular dependency.")
            self.run(self.by_id[dep], (*stack, rid))
        if self.stopped():
            return
        if any(not 200 <= self.done[d].status < 300 for d in deps if d in self.done):
            reply = self._failed_dependency()
        else:
            reply, rule = self.run_sub(self._sub_call(req), rid)
            if rule is not None and self.drop is None:
                self.drop = rule
        self.done[rid] = reply
        self.order.append(rid)

    def _failed_dependency(self) -> Reply:
        body = error_body(
            "FailedDependency",
            "The dependent request failed.",
            str(uuid.uuid4()),
            self.call.client_request_id,
        )
        return Reply(424, body)

    def _sub_call(self, req: dict[str, Any]) -> Call:
        path, _, query = str(req["url"]).partition("?")
        if "://" in path:  # an absolute URL of this service: keep what follows /v1.0
            path = path.split("/v1.0", 1)[-1]
        if not path.startswith("/"):
            path = "/" + path
        call = self.call
        return Call(
            str(req["method"]).upper(),
            path,
            query,
            req.get("body"),
            call.caller,
            call.base,
            str(uuid.uuid4()),
            call.client_request_id,
            in_batch=True,
        )

    def reply(self) -> Reply:
        responses = []
        for rid in reversed(self.order):  # Graph answers in its own order; clients must correlate by id
            sub = self.done[rid]
            headers = dict(sub.headers)
            entry: dict[str, Any] = {"id": rid, "status": sub.status, "headers": headers}
            if sub.body is not None:
                headers.setdefault("Content-Type", "application/json")
                entry["body"] = sub.body
            responses.append(entry)
        out = Reply(200, {"responses": responses})
        if self.drop is not None:
            out.drop, out.after_effect = True, self.drop.after_effect
        return out


def run_batch(call: Call, run_sub: RunSub) -> Reply:
    """Run a JSON batch: sub-requests in request order, each one's dependencies first."""
    requests = parse_batch(call.body)
    state = _Run(call, {r["id"]: r for r in requests}, run_sub)
    for req in requests:
        state.run(req, ())
    return state.reply()


def parse_batch(body: Any) -> list[dict[str, Any]]:
    invalid = GraphError(400, "BadRequest", "Invalid batch payload format.")
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise invalid
    requests = body["requests"]
    if len(requests) > MAX_BATCH:
        raise GraphError(400, "BadRequest", f"Number of batch requests exceeds the maximum of {MAX_BATCH}.")
    ids: set[str] = set()
    for req in requests:
        if not isinstance(req, dict) or not all(
            isinstance(req.get(k), str) and req.get(k) for k in ("id", "method", "url")
        ):
            raise invalid
        _check_request(req, ids)
        ids.add(req["id"])
    for req in requests:
        deps = req.get("dependsOn")
        if deps is None:
            continue
        if not isinstance(deps, list) or any(d not in ids or d == req["id"] for d in deps):
            raise GraphError(400, "BadRequest", f"Request id '{req['id']}' depends on an unknown request id.")
    return list(requests)


def _check_request(req: dict[str, Any], ids: set[str]) -> None:
    if req["id"] in ids:
        raise GraphError(400, "BadRequest", f"Batch request contains a duplicate request id '{req['id']}'.")
    headers = req.get("headers") or {}
    if "body" in req and not any(k.lower() == "content-type" for k in headers):
        raise GraphError(
            400, "BadRequest", f"Write request id : {req['id']} does not contain Content-Type header or body."
        )
    if req["url"].lstrip("/").lower().startswith("$batch"):
        raise GraphError(400, "BadRequest", "Nested batch requests are not supported.")
