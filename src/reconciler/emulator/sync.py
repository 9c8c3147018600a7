"""A partner's identitySynchronization policy: PUT creates, PATCH updates, GET and DELETE.

Microsoft's cross-tenant synchronization troubleshooting page gives the two errors clients meet: PUT on an
existing policy (409 ConflictingObjects) and PATCH on a missing one (Directory_ObjectNotFound).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.core import metadata
from reconciler.emulator.config import READ_ROLES, WRITE_ROLES
from reconciler.emulator.replies import Call, GraphError, Reply

if TYPE_CHECKING:
    from reconciler.emulator.graph import GraphApi

_CONFLICT = (
    "A conflicting object with one or more of the specified property values is present in the directory."
)


class SyncHandler:
    def __init__(self, api: GraphApi) -> None:
        self.api = api

    def missing(self) -> GraphError:
        return GraphError(
            self.api.quirks.sync_missing_status,
            "Directory_ObjectNotFound",
            "Unable to read the company information from the directory.",
        )

    def handle(self, call: Call, tid: str) -> Reply:
        api, store = self.api, self.api.store
        if call.method == "GET":
            return self._get(call, tid)
        api.need(call, WRITE_ROLES, "PUT", "PATCH", "DELETE")
        api.check_rejection(tid)
        with store.lock:
            if store.partner(tid) is None:
                raise api.not_found(tid)
            existing = store.sync(tid)
            if call.method == "DELETE":
                if existing is None:
                    raise self.missing()
                store.set_sync(tid, None)
                return Reply(204)
            body = api.rules.check(metadata.SYNC_TYPE, call.body)
            if call.method == "PUT":
                return self._put(tid, body, existing)
            if existing is None:
                raise self.missing()
            api.rules.read_only(body, ("tenantId",))
            store.set_sync(tid, api.rules.apply_patch(existing, body))
        return Reply(204)

    def _get(self, call: Call, tid: str) -> Reply:
        api, store = self.api, self.api.store
        api.need(call, READ_ROLES)
        if store.partner(tid, lagged=True) is None:
            raise api.not_found(tid)
        stored = store.sync(tid, lagged=True)
        if stored is None:
            raise self.missing()
        return Reply(200, api.views.sync_entity(call.base, tid, stored))

    def _put(self, tid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> Reply:
        if "tenantId" in body and str(body["tenantId"]).lower() != tid:
            raise GraphError(400, "Request_BadRequest", "The tenantId in the body does not match the URL.")
        if existing is not None:
            details = [{"code": "ConflictingObjects", "message": _CONFLICT, "target": tid}]
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", _CONFLICT, details=details)
        self.api.store.set_sync(tid, {"displayName": None, "userSyncInbound": None, **body, "tenantId": tid})
        return Reply(204)
