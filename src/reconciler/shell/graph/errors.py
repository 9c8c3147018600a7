"""Graph and sign-in failures as XtapError values with the ids support needs — and never a secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.errors import XtapError
from reconciler.core.text import printable

READ_PERMISSION = "Policy.Read.All"
WRITE_PERMISSION = "Policy.ReadWrite.CrossTenantAccess"
TENANT_LOOKUP_PERMISSION = "CrossTenantInformation.ReadBasic.All"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def needed_permission(method: str, path: str) -> str:
    """The least-privileged application permission for an operation (graph-api.md §5, auth-ci.md §4)."""
    if "/tenantRelationships/" in path:
        return TENANT_LOOKUP_PERMISSION
    return WRITE_PERMISSION if method.upper() in WRITE_METHODS else READ_PERMISSION


def _lookup(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _inner_ids(error: Mapping[str, Any]) -> tuple[str | None, str | None]:
    # innerError's casing varies and it can nest (graph-api.md §8): take the first ids found, outermost first.
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
            request_id=_lookup(headers, "request-id") or rid,
            client_request_id=_lookup(headers, "client-request-id") or crid or client_request_id,
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
