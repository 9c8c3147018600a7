"""The emulator's knobs and records: registered apps, fault settings, behaviour switches, journal entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

READ_ROLE = "Policy.Read.All"
WRITE_ROLE = "Policy.ReadWrite.CrossTenantAccess"
LOOKUP_ROLE = "CrossTenantInformation.ReadBasic.All"
# Who may call what (any one of the roles): Policy.ReadWrite.CrossTenantAccess is the higher read permission.
READ_ROLES = frozenset({READ_ROLE, WRITE_ROLE})
WRITE_ROLES = frozenset({WRITE_ROLE})
# Tenant lookups need CrossTenantInformation.ReadBasic.All; Microsoft names no higher permission for them.
LOOKUP_ROLES = frozenset({LOOKUP_ROLE})


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential on an app registration (workload identity federation)."""

    issuer: str
    subject: str
    audience: str = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class App:
    """An app registration with its application permissions (app roles) in the home tenant."""

    client_id: str
    roles: tuple[str, ...] = ()
    client_secret: str | None = None
    certificate_pem: str | None = None
    federated: tuple[FederatedCredential, ...] = ()


@dataclass
class Faults:
    """Faults applied to every request while set; mutable so tests can change them while the emulator runs."""

    latency_ms: int = 0
    write_quota: int | None = None  # writes allowed per window (app+tenant scope); None = unlimited
    write_window_s: float = 150.0  # Graph's identity service: 3,000 writes per 2.5 min per app+tenant
    throttle_retry_after: bool = True  # send Retry-After on quota 429s (the identity service may not)
    retry_after_s: int = 1
    error_rate: float = 0.0  # probability of a random 503/504 on a Graph request
    drop_rate: float = 0.0  # probability of closing the connection without a response
    read_lag_s: float = 0.0  # GETs return the pre-write version for this long after a write
    rng_seed: int = 0


@dataclass(frozen=True)
class FaultRule:
    """A deterministic fault for the next `times` requests matching method and path substring.

    Matched against outer HTTP requests and `$batch` sub-requests alike. `drop` closes the TCP
    connection with no response (`after_effect`: the request is executed first). For a sub-request a
    status fault becomes that sub-response; a drop drops the whole batch connection.

    `batch=True` matches only whole `POST /v1.0/$batch` requests (never a sub-request, never another
    request): the batch is answered with `status` (e.g. 424, a throttled batch) and Graph's error JSON
    without running any sub-request, or, with `after_effect`, after running them all, with `status`
    and the usual `responses` body.
    """

    method: str | None = None
    path_contains: str | None = None
    times: int = 1
    status: int = 503
    retry_after: int | None = 1
    drop: bool = False
    after_effect: bool = False
    code: str | None = None
    message: str | None = None
    batch: bool = False


NestedNulls = Literal["accept", "reject", "false"]
Top = Literal["honoured", "ignored"]
ReadOnlyKeys = Literal["reject", "ignore"]
PostProperties = Literal["all", "documented"]
_CHOICES = {
    "nested_nulls": ("accept", "reject", "false"),
    "top": ("honoured", "ignored"),
    "read_only_keys": ("reject", "ignore"),
    "post_properties": ("all", "documented"),
}


@dataclass(frozen=True)
class Quirks:
    """Switches for what Microsoft's documentation leaves open; each default and its source is in
    docs/emulator.md ("Switches for undocumented behaviour")."""

    # A null *inside* a complex property of a POST/PATCH/PUT body (no Microsoft sample sends one):
    # stored as null (the member is cleared), refused with 400, or stored as false when it is a Boolean.
    nested_nulls: NestedNulls = "accept"
    # $top on the partner list: the CSDL marks it supported; one SDK report says it has no effect.
    top: Top = "honoured"
    # Read-only keys in a body (tenantId, isInMultiTenantOrganization, ...): 400 or silently dropped.
    read_only_keys: ReadOnlyKeys = "reject"
    # Partner POST: every writable property, or only those the v1.0 "Create partner" page documents.
    post_properties: PostProperties = "all"
    # POST of an existing partner: the docs give the code, not the status.
    duplicate_partner_status: Literal[400, 409] = 400
    # isServiceProvider written under app-only auth: a Terraform report says 403 (unconfirmed).
    forbid_service_provider_write: bool = False
    # PATCH of a missing identitySynchronization: the docs give the code, not the status.
    sync_missing_status: int = 404
    # A partner that is not there: Request_ResourceNotFound or ResourceNotFound (both seen in clients).
    not_found_code: str = "Request_ResourceNotFound"
    # Partner POST for a tenant that is not in the directory: rejected (400) or accepted.
    require_known_tenant: bool = False
    # Service-side validation of targets the docs describe but never as an API error:
    reject_all_users_mix: bool = False  # AllUsers mixed with specific ids in one targets array
    reject_conflicting_access: bool = False  # all users blocked + apps allowed, or the reverse
    # v1.0 soft delete is unknown: re-POST of a partner deleted less than this long ago conflicts.
    recreate_conflict_s: float = 0.0

    def __post_init__(self) -> None:
        # Literal types are not checked at run time; a misspelt switch must not silently mean the default.
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"Quirks.{name} must be one of {', '.join(allowed)}, not {value!r}")


@dataclass(frozen=True)
class JournalEntry:
    """One request as the emulator saw it. Secrets in token requests are redacted."""

    method: str
    path: str
    query: str
    body: Any
    status: int  # 0 = the connection was dropped without a response
    in_batch: bool = False
    batch_id: str | None = None
    client_id: str | None = None
    time: float = field(default=0.0, compare=False)
