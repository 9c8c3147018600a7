"""Microsoft Graph v1.0 for /policies/crossTenantAccessPolicy, tenantRelationships lookups and $batch.

Each handler takes one request (outer, or a `$batch` sub-request) and returns a `Reply`; the HTTP layer
(`service.py`) turns it into bytes. What Graph enforces is enforced here, with Graph's error JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from reconciler.core import metadata
from reconciler.emulator import seeds
from reconciler.emulator.config import LOOKUP_ROLE, READ_ROLE, WRITE_ROLE, FaultRule, JournalEntry, Quirks
from reconciler.emulator.faults import FaultEngine
from reconciler.emulator.store import TenantStore, jcopy
from reconciler.emulator.tokens import Caller
from reconciler.emulator.validation import BodyError, check_body, check_conflicting_access, check_target_mix

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_BY_ID = re.compile(r"^findTenantInformationByTenantId\(tenantId='([^']*)'\)$", re.IGNORECASE)
_BY_DOMAIN = re.compile(r"^findTenantInformationByDomainName\(domainName='([^']*)'\)$", re.IGNORECASE)
_KEY_SEGMENT = re.compile(r"^partners\('([^']*)'\)$", re.IGNORECASE)

READ_ROLES = frozenset({READ_ROLE, WRITE_ROLE})
WRITE_ROLES = frozenset({WRITE_ROLE})
LOOKUP_ROLES = frozenset({LOOKUP_ROLE, WRITE_ROLE})
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
MAX_BATCH = 20

# The order real responses list partner properties in (graph-api.md §10); metadata-only ones follow.
_PARTNER_ORDER = (
    "tenantId",
    "isServiceProvider",
    "isInMultiTenantOrganization",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "tenantRestrictions",
    "appServiceConnectInbound",
    "m365CollaborationInbound",
    "m365CollaborationOutbound",
)
_DEFAULT_ORDER = (
    "isServiceDefault",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "tenantRestrictions",
    "invitationRedemptionIdentityProviderConfiguration",
    "appServiceConnectInbound",
    "m365CollaborationInbound",
    "m365CollaborationOutbound",
)
# Undocumented but always present in real partner responses, as an object of nulls when unset.
_NULL_OBJECTS = ("automaticUserConsentSettings", "crossCloudMeetingConfiguration")
_NULL_MEMBERS = ("inboundAllowed", "outboundAllowed")
PARTNER_READ_ONLY = ("tenantId", "isInMultiTenantOrganization")
DEFAULT_READ_ONLY = ("automaticUserConsentSettings", "isServiceDefault", "id")


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


def _encode_skiptoken(last: str) -> str:
    # Opaque to clients, like Graph's: the key of the last partner on the page (partners are key-ordered).
    return base64.urlsafe_b64encode(f"after:{last}".encode()).decode("ascii").rstrip("=")


def _decode_skiptoken(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.startswith("after:"):
        raise GraphError(
            400, "Request_BadRequest", "The specified page token value has expired or is invalid."
        )
    return text[len("after:") :]


def _merge(old: Any, new: Any) -> Any:
    """OData PATCH: complex values merge member by member, collections and primitives are replaced."""
    if isinstance(new, dict):
        base = old if isinstance(old, dict) else {}
        out = dict(base)
        for key, value in new.items():
            out[key] = _merge(base.get(key), value)
        return out
    return jcopy(new)


def _null_object(value: Any) -> dict[str, Any]:
    source = value if isinstance(value, dict) else {}
    out = {member: source.get(member) for member in _NULL_MEMBERS}
    out.update({k: v for k, v in source.items() if k not in out})
    return out


class GraphApi:
    def __init__(
        self,
        store: TenantStore,
        faults: FaultEngine,
        quirks: Quirks,
        page_size: int,
        patch_semantics: str,
        journal: Callable[[list[JournalEntry]], None],
    ) -> None:
        self.store = store
        self.faults = faults
        self.quirks = quirks
        self.page_size = page_size
        self.patch_semantics = patch_semantics
        self._journal = journal
        self._meta = metadata.load()
        partner_type = self._meta.type(metadata.PARTNER_TYPE)
        known = {p.name for p in partner_type.properties}
        self.partner_props = [p for p in _PARTNER_ORDER if p in known] + sorted(known - set(_PARTNER_ORDER))
        self.partner_navs = {n.name for n in partner_type.navigation}
        default_known = {p.name for p in self._meta.type(metadata.DEFAULT_TYPE).properties} - {"id"}
        self.default_props = [p for p in _DEFAULT_ORDER if p in default_known] + sorted(
            default_known - set(_DEFAULT_ORDER)
        )
        self._batches = 0

    # -- rendering ---------------------------------------------------------------------------------
    def context(self, base: str, fragment: str) -> str:
        return f"{base}/v1.0/$metadata#{fragment}"

    def render_partner(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for prop in self.partner_props:
            out[prop] = stored.get(prop)
        for prop in _NULL_OBJECTS:
            out[prop] = _null_object(stored.get(prop))
        for key, value in stored.items():  # undocumented extras, e.g. protectedContentSharing
            if key not in out:
                out[key] = value
        return out

    def partner_entity(self, base: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        context = self.context(base, "policies/crossTenantAccessPolicy/partners/$entity")
        return {"@odata.context": context, **self.render_partner(stored)}

    def render_sync(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "tenantId": stored.get("tenantId"),
            "displayName": stored.get("displayName"),
            "userSyncInbound": stored.get("userSyncInbound"),
        }

    def sync_entity(self, base: str, tid: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        context = self.context(
            base, f"policies/crossTenantAccessPolicy/partners('{tid}')/identitySynchronization/$entity"
        )
        return {"@odata.context": context, **self.render_sync(stored)}

    def render_default(self, base: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "@odata.context": self.context(base, "policies/crossTenantAccessPolicy/default/$entity")
        }
        for prop in self.default_props:
            out[prop] = stored.get(prop)
        # The default's automatic consent is always false/false and read-only (graph-api.md §3).
        out["automaticUserConsentSettings"] = {"inboundAllowed": False, "outboundAllowed": False}
        return out

    # -- entry points ------------------------------------------------------------------------------
    def handle(self, call: Call) -> Reply:
        try:
            return self._route(call)
        except GraphError as exc:
            body = error_body(exc.code, exc.message, call.request_id, call.client_request_id, exc.details)
            return Reply(exc.status, body, exc.headers)
        except BodyError as exc:
            return Reply(
                exc.status, error_body(exc.code, exc.message, call.request_id, call.client_request_id)
            )

    def _route(self, call: Call) -> Reply:
        segments = [unquote(s) for s in call.path.strip("/").split("/")] if call.path.strip("/") else []
        lower = [s.lower() for s in segments]
        if len(lower) >= 2 and lower[0] == "policies" and lower[1] == "crosstenantaccesspolicy":
            return self._policy(call, segments[2:])
        if len(lower) == 2 and lower[0] == "tenantrelationships":
            return self._lookup(call, segments[1])
        segment = segments[0] if segments else ""
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")

    def _policy(self, call: Call, rest: list[str]) -> Reply:
        if not rest:
            self._need(call, READ_ROLES, "GET")
            return Reply(
                200,
                {
                    "@odata.context": self.context(call.base, "policies/crossTenantAccessPolicy/$entity"),
                    "displayName": "CrossTenantAccessPolicy",
                    "allowedCloudEndpoints": [],
                },
            )
        head = rest[0].lower()
        key_match = _KEY_SEGMENT.match(rest[0])
        if key_match:  # partners('{id}') is the OData key syntax for partners/{id}
            rest = ["partners", key_match.group(1), *rest[1:]]
            head = "partners"
        if head == "default":
            if len(rest) == 1:
                return self._default(call)
            if len(rest) == 2 and rest[1].lower() in (
                "resettosystemdefault",
                "microsoft.graph.resettosystemdefault",
            ):
                self._need(call, WRITE_ROLES, "POST")
                return self._reset_default(call)
        elif head == "partners":
            if len(rest) == 1:
                return self._partners(call)
            tid = self._tenant_key(rest[1])
            if len(rest) == 2:
                return self._partner(call, tid)
            if len(rest) == 3 and rest[2].lower() == "identitysynchronization":
                return self._sync(call, tid)
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{rest[-1]}'.")

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _tenant_key(raw: str) -> str:
        if not GUID.match(raw):
            raise GraphError(400, "Request_BadRequest", f"Invalid object identifier '{raw}'.")
        return raw.lower()

    def _need(self, call: Call, roles: frozenset[str], *methods: str) -> None:
        if methods and call.method not in methods:
            raise GraphError(
                405, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri."
            )
        if not roles & call.caller.roles:
            raise GraphError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if call.method in WRITE_METHODS and not self.faults.take_write(call.caller.client_id):
            retry = self.faults.faults.retry_after_s if self.faults.faults.throttle_retry_after else None
            headers = {
                "x-ms-throttle-scope": f"Tenant_Application/Write/{call.caller.client_id}/{self.store.tenant_id}",
                "x-ms-throttle-information": "WriteLimitExceeded",
            }
            if retry is not None:
                headers["Retry-After"] = str(retry)
            raise GraphError(429, "TooManyRequests", "Too many requests. Please retry later.", headers)

    def _check_rejection(self, tid: str) -> None:
        rejection = self.faults.rejection(tid)
        if rejection is not None:
            raise GraphError(rejection.status, rejection.code, rejection.message)

    def _query(self, call: Call, allowed: tuple[str, ...]) -> dict[str, str]:
        params: dict[str, str] = {}
        for key, value in parse_qsl(call.query, keep_blank_values=True):
            name = key.lower() if key.startswith("$") else key
            if name.startswith("$") and name not in allowed:
                raise GraphError(400, "Request_UnsupportedQuery", f"Unsupported query option '{key}'.")
            params[name] = value
        return params

    def _select_expand(self, params: Mapping[str, str]) -> tuple[list[str] | None, bool]:
        select: list[str] | None = None
        if "$select" in params:
            select = [s.strip() for s in params["$select"].split(",") if s.strip()]
            valid = set(self.partner_props) | set(_NULL_OBJECTS)
            for name in select:
                if name not in valid:
                    raise GraphError(
                        400,
                        "BadRequest",
                        f"Parsing OData Select and Expand failed: Could not find a property named '{name}' on "
                        f"type 'microsoft.graph.{metadata.PARTNER_TYPE}'.",
                    )
        expand = False
        if "$expand" in params:
            names = [s.strip() for s in params["$expand"].split(",") if s.strip()]
            for name in names:
                if name != "identitySynchronization":
                    raise GraphError(
                        400,
                        "BadRequest",
                        f"Parsing OData Select and Expand failed: Could not find a property named '{name}' on "
                        f"type 'microsoft.graph.{metadata.PARTNER_TYPE}'.",
                    )
            expand = bool(names)
        return select, expand

    def _shape_partner(
        self, stored: Mapping[str, Any], select: list[str] | None, expand: bool
    ) -> dict[str, Any]:
        full = self.render_partner(stored)
        out = full if select is None else {k: full[k] for k in full if k in select}
        if expand:
            sync = self.store.sync(str(stored["tenantId"]), lagged=True)
            out["identitySynchronization"] = None if sync is None else self.render_sync(sync)
        return out

    def _select_context(self, select: list[str] | None, expand: bool) -> str:
        if select is None and not expand:
            return ""
        names = list(select or ())
        if expand:
            names.append("identitySynchronization()")
        return "(" + ",".join(names) + ")"

    def _write_body(self, call: Call, type_name: str) -> dict[str, Any]:
        body = check_body(type_name, call.body)
        if self.quirks.reject_all_users_mix:
            check_target_mix(body)
        if self.quirks.reject_conflicting_access:
            check_conflicting_access(body)
        if self.quirks.forbid_service_provider_write and "isServiceProvider" in body:
            raise GraphError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        return body

    def _apply_patch(self, old: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        if self.patch_semantics == "replace":
            return {**old, **jcopy(dict(body))}
        merged = _merge(old, body)
        assert isinstance(merged, dict)
        return merged

    def _read_only(self, body: dict[str, Any], names: tuple[str, ...], always: tuple[str, ...] = ()) -> None:
        for name in names:
            if name in body:
                if self.quirks.reject_read_only or name in always:
                    raise GraphError(
                        400, "Request_BadRequest", f"Property '{name}' is read-only and cannot be set."
                    )
                del body[name]

    # -- partners ----------------------------------------------------------------------------------
    def _partners(self, call: Call) -> Reply:
        if call.method == "POST":
            self._need(call, WRITE_ROLES)
            return self._create_partner(call)
        self._need(call, READ_ROLES, "GET")
        params = self._query(call, ("$select", "$expand", "$skiptoken", "$top"))
        select, expand = self._select_expand(params)
        size = self.page_size
        if "$top" in params:
            if not params["$top"].isdigit() or int(params["$top"]) < 1:
                raise GraphError(
                    400, "BadRequest", f"Invalid value '{params['$top']}' for $top query option."
                )
            size = int(params["$top"])
        ids = self.store.partner_ids(lagged=True)
        if "$skiptoken" in params:
            after = _decode_skiptoken(params["$skiptoken"])
            ids = [tid for tid in ids if tid > after]
        page, more = ids[:size], len(ids) > size
        values = []
        for tid in page:
            stored = self.store.partner(tid, lagged=True)
            if stored is not None:
                values.append(self._shape_partner(stored, select, expand))
        body: dict[str, Any] = {
            "@odata.context": self.context(
                call.base, "policies/crossTenantAccessPolicy/partners" + self._select_context(select, expand)
            )
        }
        if more and page:
            keep = [
                (k, v) for k, v in parse_qsl(call.query, keep_blank_values=True) if k.lower() != "$skiptoken"
            ]
            keep.append(("$skiptoken", _encode_skiptoken(page[-1])))
            query = "&".join(f"{k}={quote(v, safe=',()')}" for k, v in keep)
            body["@odata.nextLink"] = f"{call.base}/v1.0/policies/crossTenantAccessPolicy/partners?{query}"
        body["value"] = values
        return Reply(200, body)

    def _create_partner(self, call: Call) -> Reply:
        body = self._write_body(call, metadata.PARTNER_TYPE)
        raw_tid = body.get("tenantId")
        if not isinstance(raw_tid, str) or not raw_tid:
            raise GraphError(400, "Request_BadRequest", "The property 'tenantId' is required.")
        if not GUID.match(raw_tid):
            raise GraphError(400, "Request_BadRequest", f"Invalid value '{raw_tid}' for property 'tenantId'.")
        tid = raw_tid.lower()
        self._read_only(body, ("isInMultiTenantOrganization",))
        for nav in self.partner_navs:
            body.pop(nav, None)
        self._check_rejection(tid)
        with self.store.lock:
            since = self.store.seconds_since_delete(tid)
            recently_deleted = since is not None and since < self.quirks.recreate_conflict_s
            if self.store.partner(tid) is not None or recently_deleted:
                raise GraphError(
                    self.quirks.duplicate_partner_status,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "Another object with the same value for property tenantId already exists.",
                )
            if self.quirks.require_known_tenant and self.store.tenant_info(tid) is None:
                raise GraphError(
                    400, "Request_BadRequest", f"The tenant '{raw_tid}' was not found in the directory."
                )
            stored = {**body, "tenantId": tid, "isInMultiTenantOrganization": False}
            stored.setdefault("isServiceProvider", None)
            self.store.set_partner(tid, stored)
        location = f"{call.base}/v1.0/policies/crossTenantAccessPolicy/partners/{tid}"
        return Reply(201, self.partner_entity(call.base, stored), {"Location": location})

    def _partner(self, call: Call, tid: str) -> Reply:
        if call.method == "GET":
            self._need(call, READ_ROLES)
            params = self._query(call, ("$select", "$expand"))
            select, expand = self._select_expand(params)
            stored = self.store.partner(tid, lagged=True)
            if stored is None:
                raise self._not_found(tid)
            context = (
                "policies/crossTenantAccessPolicy/partners"
                + self._select_context(select, expand)
                + "/$entity"
            )
            return Reply(
                200,
                {
                    "@odata.context": self.context(call.base, context),
                    **self._shape_partner(stored, select, expand),
                },
            )
        self._need(call, WRITE_ROLES, "PATCH", "DELETE")
        self._check_rejection(tid)
        with self.store.lock:
            stored = self.store.partner(tid)
            if stored is None:
                raise self._not_found(tid)
            if call.method == "DELETE":
                if self.store.sync(tid) is not None:
                    raise GraphError(
                        400,
                        "Request_BadRequest",
                        "The partner configuration cannot be deleted because it has an identity synchronization "
                        "policy. Delete the identity synchronization policy first.",
                    )
                self.store.set_partner(tid, None)
                return Reply(204)
            body = self._write_body(call, metadata.PARTNER_TYPE)
            self._read_only(body, PARTNER_READ_ONLY)
            self.store.set_partner(tid, self._apply_patch(stored, body))
        return Reply(204)

    def _not_found(self, tid: str) -> GraphError:
        return GraphError(
            404,
            self.quirks.not_found_code,
            f"Resource '{tid}' does not exist or one of its queried reference-property objects are not present.",
        )

    # -- identity synchronization ------------------------------------------------------------------
    def _sync_missing(self) -> GraphError:
        return GraphError(
            self.quirks.sync_missing_status,
            "Directory_ObjectNotFound",
            "Unable to read the company information from the directory.",
        )

    def _sync(self, call: Call, tid: str) -> Reply:
        if call.method == "GET":
            self._need(call, READ_ROLES)
            if self.store.partner(tid, lagged=True) is None:
                raise self._not_found(tid)
            stored = self.store.sync(tid, lagged=True)
            if stored is None:
                raise self._sync_missing()
            return Reply(200, self.sync_entity(call.base, tid, stored))
        self._need(call, WRITE_ROLES, "PUT", "PATCH", "DELETE")
        self._check_rejection(tid)
        with self.store.lock:
            if self.store.partner(tid) is None:
                raise self._not_found(tid)
            existing = self.store.sync(tid)
            if call.method == "DELETE":
                if existing is None:
                    raise self._sync_missing()
                self.store.set_sync(tid, None)
                return Reply(204)
            body = self._write_body(call, metadata.SYNC_TYPE)
            if call.method == "PUT":
                if "tenantId" in body and str(body["tenantId"]).lower() != tid:
                    raise GraphError(
                        400, "Request_BadRequest", "The tenantId in the body does not match the URL."
                    )
                if existing is not None:
                    raise GraphError(
                        409,
                        "Request_MultipleObjectsWithSameKeyValue",
                        "A conflicting object with one or more of the specified property values is present in "
                        "the directory.",
                        details=[
                            {
                                "code": "ConflictingObjects",
                                "message": "A conflicting object with one or more "
                                "of the specified property values is present in the directory.",
                                "target": tid,
                            }
                        ],
                    )
                self.store.set_sync(
                    tid, {"displayName": None, "userSyncInbound": None, **body, "tenantId": tid}
                )
                return Reply(204)
            if existing is None:
                raise self._sync_missing()
            self._read_only(body, ("tenantId",))
            self.store.set_sync(tid, self._apply_patch(existing, body))
        return Reply(204)

    # -- default -----------------------------------------------------------------------------------
    def _default(self, call: Call) -> Reply:
        if call.method == "GET":
            self._need(call, READ_ROLES)
            self._query(call, ("$select",))
            return Reply(200, self.render_default(call.base, self.store.default(lagged=True)))
        self._need(call, WRITE_ROLES, "PATCH")
        body = self._write_body(call, metadata.DEFAULT_TYPE)
        # automaticUserConsentSettings on the default is documented read-only: always refused.
        self._read_only(body, DEFAULT_READ_ONLY, always=("automaticUserConsentSettings",))
        with self.store.lock:
            updated = self._apply_patch(self.store.default(), body)
            updated["isServiceDefault"] = False
            self.store.set_default(updated)
        return Reply(204)

    def _reset_default(self, call: Call) -> Reply:
        if call.body not in (None, {}):
            raise GraphError(
                400, "Request_BadRequest", "The action 'resetToSystemDefault' takes no parameters."
            )
        self.store.set_default(seeds.system_default())
        return Reply(204)

    # -- tenant lookup -----------------------------------------------------------------------------
    def _lookup(self, call: Call, segment: str) -> Reply:
        by_id, by_domain = _BY_ID.match(segment), _BY_DOMAIN.match(segment)
        if not by_id and not by_domain:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
        self._need(call, LOOKUP_ROLES, "GET")
        if by_id:
            key = by_id.group(1)
            if not GUID.match(key):
                raise GraphError(400, "Request_BadRequest", f"Invalid tenant identifier '{key}'.")
            info = self.store.tenant_info(key)
        else:
            key = by_domain.group(1) if by_domain else ""
            info = self.store.tenant_by_domain(key)
        if info is None:
            raise GraphError(404, "Request_ResourceNotFound", f"Tenant '{key}' was not found.")
        body = {
            "@odata.context": self.context(call.base, "microsoft.graph.tenantInformation"),
            "tenantId": info["tenantId"],
            "federationBrandName": info.get("federationBrandName"),
            "displayName": info.get("displayName"),
            "defaultDomainName": info.get("defaultDomainName"),
        }
        return Reply(200, body)

    # -- $batch ------------------------------------------------------------------------------------
    def batch(self, call: Call, run_sub: Callable[[Call, str], tuple[Reply, FaultRule | None]]) -> Reply:
        """Run a JSON batch. `run_sub(call, sub_id)` runs one sub-request with its faults applied."""
        requests = self._parse_batch(call.body)
        by_id = {r["id"]: r for r in requests}
        done: dict[str, Reply] = {}
        order: list[str] = []
        drop: FaultRule | None = None

        def run(req: dict[str, Any], stack: tuple[str, ...]) -> None:
            nonlocal drop
            rid = req["id"]
            if rid in done or (drop is not None and not drop.after_effect):
                return
            for dep in req.get("dependsOn") or ():
                if dep in stack:
                    raise GraphError(400, "BadRequest", "Batch request has a circular dependency.")
                run(by_id[dep], (*stack, rid))
            if drop is not None and not drop.after_effect:
                return
            if any(not 200 <= done[d].status < 300 for d in req.get("dependsOn") or () if d in done):
                reply = Reply(
                    424,
                    error_body(
                        "FailedDependency",
                        "The dependent request failed.",
                        str(uuid.uuid4()),
                        call.client_request_id,
                    ),
                )
            else:
                url = str(req["url"])
                path, _, query = url.partition("?")
                if "://" in path:  # an absolute URL of this service: keep what follows /v1.0
                    path = path.split("/v1.0", 1)[-1]
                if not path.startswith("/"):
                    path = "/" + path
                sub = Call(
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
                reply, rule = run_sub(sub, rid)
                if rule is not None and drop is None:
                    drop = rule
            done[rid] = reply
            order.append(rid)

        for req in requests:
            run(req, ())
        responses = []
        for rid in reversed(order):  # Graph answers in its own order; clients must correlate by id
            reply = done[rid]
            headers = dict(reply.headers)
            entry: dict[str, Any] = {"id": rid, "status": reply.status, "headers": headers}
            if reply.body is not None:
                headers.setdefault("Content-Type", "application/json")
                entry["body"] = reply.body
            responses.append(entry)
        out = Reply(200, {"responses": responses})
        if drop is not None:
            out.drop, out.after_effect = True, drop.after_effect
        return out

    def _parse_batch(self, body: Any) -> list[dict[str, Any]]:
        invalid = GraphError(400, "BadRequest", "Invalid batch payload format.")
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
            raise invalid
        requests = body["requests"]
        if len(requests) > MAX_BATCH:
            raise GraphError(
                400, "BadRequest", f"Number of batch requests exceeds the maximum of {MAX_BATCH}."
            )
        ids: set[str] = set()
        for req in requests:
            if not isinstance(req, dict) or not all(
                isinstance(req.get(k), str) and req.get(k) for k in ("id", "method", "url")
            ):
                raise invalid
            if req["id"] in ids:
                raise GraphError(
                    400, "BadRequest", f"Batch request contains a duplicate request id '{req['id']}'."
                )
            ids.add(req["id"])
            headers = req.get("headers") or {}
            if "body" in req and not any(k.lower() == "content-type" for k in headers):
                raise GraphError(
                    400,
                    "BadRequest",
                    f"Write request id : {req['id']} does not contain Content-Type header or body.",
                )
            if req["url"].lstrip("/").lower().startswith("$batch"):
                raise GraphError(400, "BadRequest", "Nested batch requests are not supported.")
        for req in requests:
            deps = req.get("dependsOn")
            if deps is None:
                continue
            if not isinstance(deps, list) or any(d not in ids or d == req["id"] for d in deps):
                raise GraphError(
                    400, "BadRequest", f"Request id '{req['id']}' depends on an unknown request id."
                )
        return list(requests)
