"""One Graph request (`Call`), its answer (`Reply`) and Graph's error JSON, shared by every handler."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator.tokens import Caller


@dataclass
class Reply:
    status: int
    body: Any = None  # a JSON value, or None for no body
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without a response
    after_effect: bool = False


@dataclass(frozen=True)
class Call:
    """One Graph request: method, path below /v1.0, raw query, parsed body, the caller."""

    method: str
    path: str
    query: str
    body: Any
    caller: Caller
    base: str
    request_id: str
    client_request_id: str
    in_batch: bool = False


class GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})
        self.details = details


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def error_body(
    code: str,
    message: str,
    request_id: str,
    client_request_id: str,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    error["innerError"] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    return {"error": error}


_DEFAULT_CODES = {
    400: ("Request_BadRequest", "Bad request."),
    401: ("InvalidAuthenticationToken", "Access token validation failure."),
    403: ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    404: ("Request_ResourceNotFound", "Resource not found."),
    409: ("Request_MultipleObjectsWithSameKeyValue", "A conflicting object is present in the directory."),
    424: ("FailedDependency", "The batch failed because a request in it was throttled."),
    429: ("TooManyRequests", "Too many requests."),
    500: ("generalException", "An internal server error occurred."),
    502: ("badGateway", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("gatewayTimeout", "The gateway timed out."),
}


def fault_error(
    status: int, code: str | None = None, message: str | None = None, retry_after: int | None = None
) -> GraphError:
    default_code, default_message = _DEFAULT_CODES.get(status, ("UnknownError", "An error occurred."))
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return GraphError(status, code or default_code, message or default_message, headers)
