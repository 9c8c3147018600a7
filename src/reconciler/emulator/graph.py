"""Microsoft Graph v1.0 for /policies/crossTenantAccessPolicy, tenantRelationships lookups and $batch.

Each handler takes one request (outer, or a `$batch` sub-request) and returns a `Reply`; the HTTP layer
(`service.py`) turns it into bytes. What Graph enforces is enforced here, with Graph's error JSON.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from reconciler.core import metadata
from reconciler.emulator import seeds
from reconciler.emulator.batch import RunSub, run_batch
from reconciler.emulator.bodies import BodyRules
from reconciler.emulator.config import LOOKUP_ROLES, READ_ROLES, WRITE_ROLES, JournalEntry, Quirks
from reconciler.emulator.faults import FaultEngine
from reconciler.emulator.replies import Call, GraphError, Reply, error_body
from reconciler.emulator.store import TenantStore
from reconciler.emulator.sync import SyncHandler
from reconciler.emulator.validation import BodyError
from reconciler.emulator.views import POLICY_TYPE, Views, context

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_BY_ID = re.compile(r"^findTenantInformationByTenantId\(tenantId='([^']*)'\)$", re.IGNORECASE)
_BY_DOMAIN = re.compile(r"^findTenantInformationByDomainName\(domainName='([^']*)'\)$", re.IGNORECASE)
_KEY_SEGMENT = re.compile(r"^partners\('([^']*)'\)$", re.IGNORECASE)

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
PARTNER_READ_ONLY = ("tenantId", "isInMultiTenantOrganization")
DEFAULT_READ_ONLY = ("automaticUserConsentSettings", "isServiceDefault", "id")
POLICY_READ_ONLY = ("id", "deletedDateTime")


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


def tenant_key(raw: str) -> str:
    if not GUID.match(raw):
        raise GraphError(400, "Request_BadRequest", f"Invalid object identifier '{raw}'.")
    return raw.lower()


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
        self.views = Views(metadata.load())
        self.rules = BodyRules(quirks, patch_semantics)
        self._sync = SyncHandler(self)

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

    def batch(self, call: Call, run_sub: RunSub) -> Reply:
        """Run a JSON batch. `run_sub(call, sub_id)` runs one sub-request with its faults applied."""
        return run_batch(call, run_sub)

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
            return self._root(call)
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
                self.need(call, WRITE_ROLES, "POST")
                return self._reset_default(call)
        elif head == "partners":
            if len(rest) == 1:
                return self._partners(call)
            tid = tenant_key(rest[1])
            if len(rest) == 2:
                return self._partner(call, tid)
            if len(rest) == 3 and rest[2].lower() == "identitysynchronization":
                return self._sync.handle(call, tid)
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{rest[-1]}'.")

    # -- helpers -----------------------------------------------------------------------------------
    def need(self, call: Call, roles: frozenset[str], *methods: str) -> None:
        if methods and call.method not in methods:
            raise GraphError(
                405, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri."
            )
        if not roles & call.caller.roles:
            raise GraphError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if call.method in WRITE_METHODS and not self.faults.take_write(call.caller.client_id):
            raise self._throttled(call)

    def _throttled(self, call: Call) -> GraphError:
        faults = self.faults.faults
        headers = {
            "x-ms-throttle-scope": f"Tenant_Application/Write/{call.caller.client_id}/{self.store.tenant_id}",
            "x-ms-throttle-information": "WriteLimitExceeded",
        }
        if faults.throttle_retry_after:
            headers["Retry-After"] = str(faults.retry_after_s)
        return GraphError(429, "TooManyRequests", "Too many requests. Please retry later.", headers)

    def check_rejection(self, tid: str) -> None:
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

    def not_found(self, tid: str) -> GraphError:
        return GraphError(
            404,
            self.quirks.not_found_code,
            f"Resource '{tid}' does not exist or one of its queried reference-property objects are not present.",
        )

    def _shape_partner(
        self, stored: Mapping[str, Any], select: list[str] | None, expand: bool
    ) -> dict[str, Any]:
        full = self.views.partner(stored)
        out = full if select is None else {k: full[k] for k in full if k in select}
        if expand:
            sync = self.store.sync(str(stored["tenantId"]), lagged=True)
            out["identitySynchronization"] = None if sync is None else self.views.sync(sync)
        return out

    # -- the policy itself -------------------------------------------------------------------------
    def _root(self, call: Call) -> Reply:
        """`/policies/crossTenantAccessPolicy`: `allowedCloudEndpoints` lists the other Microsoft clouds
        partners may come from (v1.0 Get/Update crossTenantAccessPolicy pages)."""
        if call.method == "GET":
            self.need(call, READ_ROLES)
            params = self._query(call, ("$select",))
            select = (
                [s.strip() for s in params["$select"].split(",") if s.strip()]
                if "$select" in params
                else None
            )
            return Reply(200, self.views.policy(call.base, self.store.policy(lagged=True), select))
        self.need(call, WRITE_ROLES, "PATCH")
        body = self.rules.check(POLICY_TYPE, call.body)
        self.rules.read_only(body, POLICY_READ_ONLY)
        with self.store.lock:
            self.store.set_policy(self.rules.apply_patch(self.store.policy(), body))
        return Reply(204)

    # -- partners ----------------------------------------------------------------------------------
    def _partners(self, call: Call) -> Reply:
        if call.method == "POST":
            self.need(call, WRITE_ROLES)
            return self._create_partner(call)
        self.need(call, READ_ROLES, "GET")
        params = self._query(call, ("$select", "$expand", "$skiptoken", "$top"))
        select, expand = self.views.select_expand(params)
        size = self._page_size(params)
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
        fragment = "policies/crossTenantAccessPolicy/partners" + self.views.select_context(select, expand)
        body: dict[str, Any] = {"@odata.context": context(call.base, fragment)}
        if more and page:
            body["@odata.nextLink"] = self._next_link(call, page[-1])
        body["value"] = values
        return Reply(200, body)

    def _page_size(self, params: Mapping[str, str]) -> int:
        if "$top" not in params or self.quirks.top == "ignored":
            return self.page_size
        if not params["$top"].isdigit() or int(params["$top"]) < 1:
            raise GraphError(400, "BadRequest", f"Invalid value '{params['$top']}' for $top query option.")
        return int(params["$top"])

    @staticmethod
    def _next_link(call: Call, last: str) -> str:
        keep = [(k, v) for k, v in parse_qsl(call.query, keep_blank_values=True) if k.lower() != "$skiptoken"]
        keep.append(("$skiptoken", _encode_skiptoken(last)))
        query = "&".join(f"{k}={quote(v, safe=',()')}" for k, v in keep)
        return f"{call.base}/v1.0/policies/crossTenantAccessPolicy/partners?{query}"

    def _create_partner(self, call: Call) -> Reply:
        body = self.rules.check(metadata.PARTNER_TYPE, call.body)
        raw_tid = body.get("tenantId")
        if not isinstance(raw_tid, str) or not raw_tid:
            raise GraphError(400, "Request_BadRequest", "The property 'tenantId' is required.")
        if not GUID.match(raw_tid):
            raise GraphError(400, "Request_BadRequest", f"Invalid value '{raw_tid}' for property 'tenantId'.")
        tid = raw_tid.lower()
        self.rules.read_only(body, ("isInMultiTenantOrganization",))
        self.rules.documented_post(body)
        for nav in self.views.partner_navs:
            body.pop(nav, None)
        self.check_rejection(tid)
        with self.store.lock:
            self._check_new(tid, raw_tid)
            stored = {**body, "tenantId": tid, "isInMultiTenantOrganization": False}
            stored.setdefault("isServiceProvider", None)
            self.store.set_partner(tid, stored)
        location = f"{call.base}/v1.0/policies/crossTenantAccessPolicy/partners/{tid}"
        return Reply(201, self.views.partner_entity(call.base, stored), {"Location": location})

    def _check_new(self, tid: str, raw_tid: str) -> None:
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

    def _partner(self, call: Call, tid: str) -> Reply:
        if call.method == "GET":
            return self._get_partner(call, tid)
        self.need(call, WRITE_ROLES, "PATCH", "DELETE")
        self.check_rejection(tid)
        with self.store.lock:
            stored = self.store.partner(tid)
            if stored is None:
                raise self.not_found(tid)
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
            body = self.rules.check(metadata.PARTNER_TYPE, call.body)
            self.rules.read_only(body, PARTNER_READ_ONLY)
            self.store.set_partner(tid, self.rules.apply_patch(stored, body))
        return Reply(204)

    def _get_partner(self, call: Call, tid: str) -> Reply:
        self.need(call, READ_ROLES)
        params = self._query(call, ("$select", "$expand"))
        select, expand = self.views.select_expand(params)
        stored = self.store.partner(tid, lagged=True)
        if stored is None:
            raise self.not_found(tid)
        fragment = (
            "policies/crossTenantAccessPolicy/partners"
            + self.views.select_context(select, expand)
            + "/$entity"
        )
        return Reply(
            200,
            {"@odata.context": context(call.base, fragment), **self._shape_partner(stored, select, expand)},
        )

    # -- default -----------------------------------------------------------------------------------
    def _default(self, call: Call) -> Reply:
        if call.method == "GET":
            self.need(call, READ_ROLES)
            self._query(call, ("$select",))
            return Reply(200, self.views.default(call.base, self.store.default(lagged=True)))
        self.need(call, WRITE_ROLES, "PATCH")
        body = self.rules.check(metadata.DEFAULT_TYPE, call.body)
        # automaticUserConsentSettings on the default is documented read-only: always refused.
        self.rules.read_only(body, DEFAULT_READ_ONLY, always=("automaticUserConsentSettings",))
        with self.store.lock:
            updated = self.rules.apply_patch(self.store.default(), body)
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
        self.need(call, LOOKUP_ROLES, "GET")
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
            "@odata.context": context(call.base, "microsoft.graph.tenantInformation"),
            "tenantId": info["tenantId"],
            "federationBrandName": info.get("federationBrandName"),
            "displayName": info.get("displayName"),
            "defaultDomainName": info.get("defaultDomainName"),
        }
        return Reply(200, body)
