"""Graph and sign-in failures as XtapError values with the ids support needs — and never a secret.

A failure to reach a host at all (refused, unresolvable, an untrusted certificate) is one line that names
what failed, the host and the likely fix; `-v` logs the library's own words.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core import urls
from reconciler.core.errors import XtapError
from reconciler.core.text import printable

READ_PERMISSION = "Policy.Read.All"
WRITE_PERMISSION = "Policy.ReadWrite.CrossTenantAccess"
TENANT_LOOKUP_PERMISSION = "CrossTenantInformation.ReadBasic.All"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def needed_permission(method: str, path: str) -> str:
    """The least-privileged application permission for an operation (the permission tables of the v1.0
    crossTenantAccessPolicy and tenantRelationship pages; docs/authentication.md)."""
    if path.startswith(f"{urls.TENANT_RELATIONSHIPS}/"):
        return TENANT_LOOKUP_PERMISSION
    return WRITE_PERMISSION if method.upper() in WRITE_METHODS else READ_PERMISSION


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its case-insensitive name (sub-responses of `$batch` come as plain JSON objects)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _inner_ids(error: Mapping[str, Any]) -> tuple[str | None, str | None]:
    # innerError's casing varies and it can nest (Graph's error-response docs): take the first ids found,
    # outermost first.
    node: Any = error
    while isinstance(node, Mapping):
        inner = node.get("innerError", node.get("innererror"))
        if not isinstance(inner, Mapping):
            return None, None
        rid, crid = inner.get("request-id"), inner.get("client-request-id")
        if isinstance(rid, str) or isinstance(crid, str):
            return (rid if isinstance(rid, str) else None), (crid if isinstance(crid, str) else None)
        node = inner
    return None, None


class GraphError(XtapError):
    """Graph answered with an error (or did not answer at all: status 0)."""

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        code: str | None,
        message: str,
        request_id: str | None = None,
        client_request_id: str | None = None,
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.client_request_id = client_request_id
        super().__init__(self._render())

    @classmethod
    def from_response(
        cls,
        method: str,
        path: str,
        status: int,
        body: Any,
        headers: Mapping[str, str],
        client_request_id: str | None = None,
    ) -> GraphError:
        code: str | None = None
        message = ""
        rid = crid = None
        error = body.get("error") if isinstance(body, Mapping) else None
        if isinstance(error, Mapping):
            raw_code, raw_message = error.get("code"), error.get("message")
            code = raw_code if isinstance(raw_code, str) else None
            message = raw_message if isinstance(raw_message, str) else ""
            rid, crid = _inner_ids(error)
        return cls(
            method=method,
            path=path,
            status=status,
            code=code,
            message=message,
            request_id=header(headers, "request-id") or rid,
            client_request_id=header(headers, "client-request-id") or crid or client_request_id,
        )

    def _render(self) -> str:
        what = f"{self.method} {self.path}"
        if self.status == 0:
            head = f"Graph did not answer {what}: {self.message}"
        else:
            detail = " ".join(p for p in (str(self.status), self.code) if p)
            head = f"Graph refused {what}: {detail}"
            if self.message:
                head += f": {self.message}"
        if self.status == 403:
            permission = needed_permission(self.method, self.path)
            head += "" if head.endswith(".") else "."
            head += f" This operation needs the application permission {permission}"
        ids = [f"request-id {self.request_id}"] if self.request_id else []
        if self.client_request_id:
            ids.append(f"client-request-id {self.client_request_id}")
        # Graph's own message is the service's text: one line, with nothing in it that acts on a terminal.
        return printable(f"{head} ({', '.join(ids)})" if ids else head)


class AuthError(XtapError):
    """Sign-in failed. The message carries msal's error, description and correlation id — never a secret."""


# -- reaching a host at all ----------------------------------------------------------------------------

Problem = Literal["certificate", "dns", "refused", "other"]

_HINTS: Mapping[Problem, str] = {
    "certificate": "set SSL_CERT_FILE to the CA bundle that signed it (a proxy or a private CA)",
    "dns": "check the host name",
    "refused": "check the host and port",
    "other": "",
}
_WHAT: Mapping[Problem, str] = {
    "certificate": "its TLS certificate is not trusted",
    "dns": "the host name does not resolve",
    "refused": "the connection was refused",
    "other": "the connection failed",
}


@dataclass(frozen=True)
class Unreachable:
    """Why a host could not be reached, read from an exception chain (httpx, or requests under msal)."""

    problem: Problem
    detail: str  # the innermost library message, for -v

    @property
    def final(self) -> bool:
        """Nothing was sent and trying again will not help: a configuration problem, not a blip."""
        return self.problem != "other"

    def sentence(self, service: str, host: str, variable: str) -> str:
        """One line: what failed, where, and the likely fix (`variable` names the setting to check)."""
        text = f"cannot reach {service} at {host}: {_WHAT[self.problem]}"
        if self.problem == "certificate":
            return f"{text} — {_HINTS['certificate']}"
        if self.problem in ("dns", "refused"):
            return f"{text} — {_HINTS[self.problem]} in {variable}"
        return text


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions carried in `reason` or `args` (urllib3)."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(e for e in linked if isinstance(e, BaseException))


def unreachable(exc: BaseException) -> Unreachable:
    chain = list(_chain(exc))
    innermost = str(chain[-1]) or type(chain[-1]).__name__
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            return Unreachable("certificate", str(error))
        if isinstance(error, socket.gaierror):
            return Unreachable("dns", str(error))
        if isinstance(error, ConnectionRefusedError):
            return Unreachable("refused", str(error))
    return Unreachable("other", innermost)


class NetworkError(XtapError):
    """A host could not be reached at all; the message is the one line of `Unreachable.sentence`."""
