"""core/urls: the paths xtap builds, what a path addresses, and the allowlist of planner-shaped writes."""

from __future__ import annotations

import pytest

from reconciler.core import urls
from reconciler.core.errors import XtapError

TID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
PARTNERS = "/policies/crossTenantAccessPolicy/partners"


def test_paths() -> None:
    assert urls.partner(TID) == f"{PARTNERS}/{TID}"
    assert urls.sync(TID) == f"{PARTNERS}/{TID}/identitySynchronization"
    assert urls.DEFAULT == "/policies/crossTenantAccessPolicy/default"
    assert urls.PARTNERS_WITH_SYNC.endswith("/partners?$expand=identitySynchronization")
    assert urls.tenant_lookup(TID.upper()) == (
        f"/tenantRelationships/findTenantInformationByTenantId(tenantId='{TID}')"
    )
    assert urls.domain_lookup("fabrikam.com") == (
        "/tenantRelationships/findTenantInformationByDomainName(domainName='fabrikam.com')"
    )


@pytest.mark.parametrize("bad", ["../../users", f"{TID}?x=1", "not-a-guid", f"{TID}/../x", f"{{{TID}}}", 7])
def test_a_tenant_id_goes_into_a_path_only_as_a_guid(bad: object) -> None:
    with pytest.raises(XtapError, match=r"is not a GUID$"):
        urls.tenant_id(bad)
    assert urls.tenant_id(TID.upper()) == TID


def test_a_domain_lookup_takes_only_a_domain_name() -> None:
    with pytest.raises(XtapError, match=r"^\"x'\) or \(1 eq 1\" is not a domain name$"):
        urls.domain_lookup("x') or (1 eq 1")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/policies/crossTenantAccessPolicy", urls.Target("policy")),
        ("/policies/crossTenantAccessPolicy/default", urls.Target("default")),
        (PARTNERS, urls.Target("partners")),
        (f"{PARTNERS}/{TID.upper()}", urls.Target("partner", TID)),
        (f"{PARTNERS}/{TID}/identitySynchronization", urls.Target("sync", TID)),
        (f"{PARTNERS}/", None),
        (f"{PARTNERS}/{TID}/", None),
        (f"{PARTNERS}/{TID}?$select=tenantId", None),
        (f"{PARTNERS}/{TID}/identitySynchronization/x", None),
        (f"{PARTNERS}/{TID}/../{TID}", None),
        ("/policies/crossTenantAccessPolicy/default/resetToSystemDefault", None),
        ("/applications/abc/addPassword", None),
    ],
)
def test_target(url: str, expected: urls.Target | None) -> None:
    assert urls.target(url) == expected


def test_every_shape_a_planner_makes_is_allowed_and_nothing_else() -> None:
    allowed = [
        ("POST", PARTNERS, {"tenantId": TID}),
        ("PATCH", f"{PARTNERS}/{TID}", {}),
        ("DELETE", f"{PARTNERS}/{TID}", None),
        ("PUT", f"{PARTNERS}/{TID}/identitySynchronization", {}),
        ("PATCH", f"{PARTNERS}/{TID}/identitySynchronization", {}),
        ("DELETE", f"{PARTNERS}/{TID}/identitySynchronization", None),
        ("PATCH", "/policies/crossTenantAccessPolicy/default", {}),
        ("PATCH", "/policies/crossTenantAccessPolicy", {}),
    ]
    for method, url, body in allowed:
        assert urls.write_refusal(method, url, body) is None, (method, url)
    shapes = {(m, u) for m, u, _ in allowed}
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "MERGE", "patch"):
        for url in {u for _, u, _ in allowed}:
            if (method, url) not in shapes:
                assert urls.write_refusal(method, url, {"tenantId": TID}) is not None, (method, url)
    assert (
        urls.write_refusal("POST", PARTNERS, {})
        == "a partner is created only with a GUID tenantId in its body"
    )


def test_check_relative() -> None:
    assert urls.check_relative(f"{PARTNERS}/{TID}") == f"{PARTNERS}/{TID}"
    for bad, message in [
        ("https://evil.test/x", "must be a path relative to the Graph version root"),
        (f"{PARTNERS}/../../users", "must not contain '..'"),
        (f"{PARTNERS}/x", "is not a GUID"),
    ]:
        with pytest.raises(XtapError, match=message):
            urls.check_relative(bad)
