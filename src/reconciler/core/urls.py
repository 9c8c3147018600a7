"""The Graph paths of the cross-tenant access policy API, relative to the version root (`/v1.0`). Pure.

One place for every URL xtap builds: the planner puts them in requests, the client reads them, and the
applier accepts only requests whose method and path have one of these shapes.
"""

from __future__ import annotations

POLICY = "/policies/crossTenantAccessPolicy"
PARTNERS = f"{POLICY}/partners"
DEFAULT = f"{POLICY}/default"
SYNC = "identitySynchronization"


def partner(tenant_id: str) -> str:
    return f"{PARTNERS}/{tenant_id}"


def sync(tenant_id: str) -> str:
    return f"{PARTNERS}/{tenant_id}/{SYNC}"


def tenant_lookup(tenant_id: str) -> str:
    return f"/tenantRelationships/findTenantInformationByTenantId(tenantId='{tenant_id}')"


def domain_lookup(domain: str) -> str:
    return f"/tenantRelationships/findTenantInformationByDomainName(domainName='{domain}')"
