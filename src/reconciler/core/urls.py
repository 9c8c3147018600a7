"""The Graph paths xtap uses, in one place: built here, recognised here, checked here. Pure.

Paths are relative to the version root (`https://graph.microsoft.com/v1.0`), as `$batch` sub-requests
want them. A tenant id goes into a path only as a strict GUID: httpx resolves `../` and a `?` starts a
query, so anything else could address another resource.

`write_refusal` is the applier's allowlist: the request shapes a planner can produce, and nothing else,
whatever wrote the plan (docs/reliability.md, "Trust boundary").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core import model
from reconciler.core.errors import XtapError

POLICY = "/policies/crossTenantAccessPolicy"  # the root policy (allowedCloudEndpoints)
PARTNERS = f"{POLICY}/partners"
DEFAULT = f"{POLICY}/default"
SYNC = "identitySynchronization"
# Every partner with its sync policy, one request per page (documented for the list: $expand).
PARTNERS_WITH_SYNC = f"{PARTNERS}?$expand={SYNC}"

_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
_PARTNER_SEGMENT = re.compile(r"/partners/([^/?#]+)")


def tenant_id(value: object) -> str:
    """A strict GUID, lowercased, ready for a path; anything else is refused before it nears a URL."""
    if not isinstance(value, str) or not model.is_guid(value):
        raise XtapError(f"tenant id {value!r} is not a GUID")
    return value.lower()


def partner(tid: str) -> str:
    return f"{PARTNERS}/{tid}"


def sync(tid: str) -> str:
    return f"{PARTNERS}/{tid}/{SYNC}"


TENANT_RELATIONSHIPS = "/tenantRelationships"  # the tenant lookups (their own permission)


def tenant_lookup(tid: str) -> str:
    return f"{TENANT_RELATIONSHIPS}/findTenantInformationByTenantId(tenantId='{tenant_id(tid)}')"


def domain_lookup(domain: str) -> str:
    if not _DOMAIN_RE.fullmatch(domain):
        raise XtapError(f"{domain!r} is not a domain name")
    return f"{TENANT_RELATIONSHIPS}/findTenantInformationByDomainName(domainName='{domain}')"


def check_relative(url: str) -> str:
    """Any path we send: relative to the version root, no `..`, partner segments only as GUIDs."""
    if not url.startswith("/") or "://" in url or "\\" in url or "#" in url:
        raise XtapError(f"request url {url!r} must be a path relative to the Graph version root")
    if ".." in url.split("?", 1)[0].split("/"):
        raise XtapError(f"request url {url!r} must not contain '..'")
    for segment in _PARTNER_SEGMENT.findall(url):
        tenant_id(segment)
    return url


Kind = Literal["policy", "default", "partners", "partner", "sync"]


@dataclass(frozen=True)
class Target:
    """What a path addresses, when it is one of the resources xtap manages."""

    kind: Kind
    tenant_id: str | None = None  # lowercase, for "partner" and "sync"


def target(url: str) -> Target | None:
    """The managed resource a path names exactly (no query, no trailing slash), else None."""
    fixed: dict[str, Kind] = {POLICY: "policy", DEFAULT: "default", PARTNERS: "partners"}
    if url in fixed:
        return Target(fixed[url])
    if not url.startswith(f"{PARTNERS}/"):
        return None
    rest = url[len(PARTNERS) + 1 :].split("/")
    if not model.is_guid(rest[0]):
        return None
    if len(rest) == 1:
        return Target("partner", rest[0].lower())
    if rest[1:] == [SYNC]:
        return Target("sync", rest[0].lower())
    return None


# The request shapes a planner produces (docs/plan-apply.md): create, update and delete of partners, the sync
# policy's PUT/PATCH/DELETE, and updates of the default and of the root policy.
WRITE_METHODS: Mapping[Kind, frozenset[str]] = {
    "partners": frozenset({"POST"}),
    "partner": frozenset({"PATCH", "DELETE"}),
    "sync": frozenset({"PUT", "PATCH", "DELETE"}),
    "default": frozenset({"PATCH"}),
    "policy": frozenset({"PATCH"}),
}


def write_refusal(method: str, url: str, body: Mapping[str, Any] | None) -> str | None:
    """Why a planned request is not one a planner can produce, or None when it is."""
    found = target(url)
    if found is None:
        return "not a cross-tenant access policy resource xtap manages"
    if method not in WRITE_METHODS[found.kind]:
        return f"{method} is not a write xtap makes to this resource"
    if found.kind == "partners" and not (isinstance(body, Mapping) and model.is_guid(body.get("tenantId"))):
        return "a partner is created only with a GUID tenantId in its body"
    return None
