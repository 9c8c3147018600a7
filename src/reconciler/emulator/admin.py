"""The admin path of a running emulator: "portal changes" over its HTTPS port, for `xtap emulator set` and
`xtap emulator delete`.

`POST /_emulator/set` `{"target", "property", "value", "allowUnknown"}` and `POST /_emulator/delete`
`{"tenantId", "sync"}`, authenticated by `Authorization: Bearer <admin secret>` (the secret is in the
emulator's env file). Like the Python back door (`emu.put_partner`, ...): no Graph token, no journal, no
faults, no read lag. Not part of Graph: nothing here imitates Graph's shapes.
"""

from __future__ import annotations

import hmac
import json
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.core import metadata
from reconciler.emulator.graph import GUID
from reconciler.emulator.store import TenantStore, jcopy
from reconciler.emulator.validation import BodyError, check_value

PREFIX = "/_emulator/"
SECRET_ENV = "XTAP_EMULATOR_ADMIN_SECRET"


@dataclass(frozen=True)
class AdminAnswer:
    status: int
    body: dict[str, Any]

    def encode(self) -> bytes:
        return json.dumps(self.body).encode("utf-8")


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AdminApi:
    def __init__(self, store: TenantStore, secret: str) -> None:
        self.store = store
        self._secret = secret.encode("utf-8")
        self._meta = metadata.load()

    def handle(self, method: str, path: str, authorization: str | None, body: Any) -> AdminAnswer:
        try:
            self._authenticate(authorization)
            action = path[len(PREFIX) :].strip("/")
            if action not in ("set", "delete"):
                raise AdminError(404, f"no admin action '{action}': use set or delete")
            if method != "POST":
                raise AdminError(405, "admin actions take POST")
            if not isinstance(body, dict):
                raise AdminError(400, "the body must be a JSON object")
            message = self._set(body) if action == "set" else self._delete(body)
            return AdminAnswer(200, {"message": message})
        except AdminError as exc:
            return AdminAnswer(exc.status, {"error": exc.message})

    def _authenticate(self, authorization: str | None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8"), self._secret):
            raise AdminError(401, f"missing or wrong admin secret (the emulator's {SECRET_ENV})")

    # -- set ---------------------------------------------------------------------------------------
    def _set(self, body: dict[str, Any]) -> str:
        target, prop = str(body.get("target", "")), str(body.get("property", ""))
        path = prop.split(".")
        if not prop or any(not p for p in path):
            raise AdminError(
                400, f"PROPERTY must be a dotted path like inboundTrust.isMfaAccepted, got '{prop}'"
            )
        value, allow_unknown = body.get("value"), bool(body.get("allowUnknown"))
        with self.store.lock:
            if target.lower() == "default":
                return self._set_default(path, value, allow_unknown)
            if target.lower() == "policy":
                self._check_path("crossTenantAccessPolicy", path, value, allow_unknown)
                self.store.set_policy(_assign(self.store.policy(), path, value), track=False)
                return f"policy: set {prop}"
            return self._set_partner(_tenant(target), path, value, allow_unknown)

    def _set_default(self, path: list[str], value: Any, allow_unknown: bool) -> str:
        self._check_path(metadata.DEFAULT_TYPE, path, value, allow_unknown)
        updated = _assign(self.store.default(), path, value)
        if path[0] != "isServiceDefault":
            updated["isServiceDefault"] = False  # as after any change in the portal
        self.store.set_default(updated, track=False)
        return f"default: set {'.'.join(path)}"

    def _set_partner(self, tid: str, path: list[str], value: Any, allow_unknown: bool) -> str:
        if path[0] == "tenantId":
            raise AdminError(400, "tenantId is the partner's key and cannot be set")
        partner = self.store.partner(tid)
        created = partner is None
        if partner is None:
            partner = {"tenantId": tid, "isServiceProvider": None, "isInMultiTenantOrganization": False}
        if path[0] == "identitySynchronization":
            self._check_path(metadata.SYNC_TYPE, path[1:], value, allow_unknown, "identitySynchronization.")
            if path[1:2] == ["tenantId"]:
                raise AdminError(400, "tenantId is the partner's key and cannot be set")
            sync = self.store.sync(tid) or {"tenantId": tid, "displayName": None, "userSyncInbound": None}
            if created:
                self.store.set_partner(tid, partner, track=False)
            self.store.set_sync(tid, _assign(sync, path[1:], value), track=False)
        else:
            self._check_path(metadata.PARTNER_TYPE, path, value, allow_unknown)
            self.store.set_partner(tid, _assign(partner, path, value), track=False)
        return f"partner {tid}: set {'.'.join(path)}" + (" (new partner)" if created else "")

    def _check_path(
        self, type_name: str, path: list[str], value: Any, allow_unknown: bool, shown: str = ""
    ) -> None:
        """Each segment must be a member the v1.0 metadata knows (unless allowed), and the value must bind."""
        if not path:
            raise AdminError(400, f"PROPERTY must name a member of {shown.rstrip('.') or type_name}")
        stype = self._meta.type(type_name)
        for depth, name in enumerate(path):
            prop = stype.property(name)
            where = shown + ".".join(path[: depth + 1])
            if prop is None:
                if allow_unknown:
                    return
                raise AdminError(
                    400,
                    f"'{where}': the v1.0 metadata has no member '{name}' on {stype.name} "
                    "(--allow-unknown sets it anyway, as a member Graph returns but v1.0 does not know)",
                )
            if depth == len(path) - 1:
                try:
                    check_value(self._meta, prop, value, name)
                except BodyError as exc:
                    raise AdminError(400, f"'{where}': {exc.message}") from None
                return
            if prop.type not in self._meta.types or prop.collection:
                raise AdminError(400, f"'{where}' is not an object: it has no member '{path[depth + 1]}'")
            stype = self._meta.type(prop.type)

    # -- delete ------------------------------------------------------------------------------------
    def _delete(self, body: dict[str, Any]) -> str:
        tid = _tenant(str(body.get("tenantId", "")))
        with self.store.lock:
            if self.store.partner(tid) is None:
                raise AdminError(404, f"there is no partner {tid}")
            if body.get("sync"):
                if self.store.sync(tid) is None:
                    raise AdminError(404, f"partner {tid} has no identitySynchronization policy")
                self.store.set_sync(tid, None, track=False)
                return f"partner {tid}: deleted its identitySynchronization policy"
            had_sync = self.store.sync(tid) is not None
            self.store.set_sync(tid, None, track=False)
            self.store.set_partner(tid, None, track=False)
        return f"deleted partner {tid}" + (" and its identitySynchronization policy" if had_sync else "")


def _tenant(raw: str) -> str:
    if not GUID.match(raw):
        raise AdminError(
            400, f"PARTNER_OR_DEFAULT must be a tenant id (GUID), 'default' or 'policy', got '{raw}'"
        )
    return raw.lower()


def _assign(obj: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of `obj` with the member at `path` set, creating objects where the path has none."""
    out = jcopy(obj)
    node = out
    for depth, name in enumerate(path[:-1]):
        child = node.get(name)
        if child is None:
            child = node[name] = {}
        if not isinstance(child, dict):
            raise AdminError(
                400, f"'{'.'.join(path[: depth + 1])}' holds a {type(child).__name__}, not an object"
            )
        node = child
    node[path[-1]] = jcopy(value)
    assert isinstance(out, dict)
    return out


# -- the client side (xtap emulator set / delete) --------------------------------------------------
def send(url: str, ca_file: str, secret: str, action: str, payload: dict[str, Any]) -> str:
    """Ask the emulator at `url` (verified against its CA) to do `action`; its message, or AdminError
    (status 0: the emulator could not be reached)."""
    try:
        verify = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise AdminError(0, f"cannot read the emulator's CA certificate {ca_file}: {exc}") from None
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        with httpx.Client(verify=verify, timeout=10, trust_env=False) as http:
            response = http.post(f"{url.rstrip('/')}{PREFIX}{action}", json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise AdminError(0, f"cannot reach the emulator at {url} ({type(exc).__name__}: {exc})") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200 or not isinstance(answer, dict):
        message = answer.get("error") if isinstance(answer, dict) else None
        raise AdminError(response.status_code, str(message or f"HTTP {response.status_code} from {url}"))
    return str(answer.get("message", ""))
