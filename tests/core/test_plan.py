"""The plan as data: its saved JSON form read back (what it holds, what it may leave out, what is refused),
the fingerprints' hash, and the words `differences` uses to say how a saved plan is not the fresh one."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from reconciler import __version__
from reconciler.core.errors import EXIT_ERROR, EXIT_REFUSED, RefusedError, XtapError
from reconciler.core.plan import (
    Change,
    Effect,
    Fingerprints,
    Plan,
    PlanOptions,
    PropertyDiff,
    differences,
    digest,
    from_json,
    to_json,
)
from reconciler.core.state import Request
from tests.support.builders import CON, FAB, TRUST, URL

SYNC = {"userSyncInbound": {"isSyncAllowed": True}}


def created_and_deleted() -> Plan:
    """A plan with every field of a change filled in: a partner created with its sync policy (a request that
    depends on the POST), one deleted, a refusal, the defaults and the options it was made with."""
    create = Change(
        "create",
        "partner",
        "fabrikam",
        tenant_id=FAB,
        source="policies/partners/fabrikam.yaml:3:1",
        diffs=(
            PropertyDiff("inboundTrust.isMfaAccepted", False, True),
            PropertyDiff("identitySynchronization.userSyncInbound.isSyncAllowed", None, True),
        ),
        requests=(
            Request("1", "POST", URL, {"tenantId": FAB, "inboundTrust": TRUST}),
            Request("2", "PUT", f"{URL}/{FAB}/identitySynchronization", SYNC, depends_on=("1",)),
        ),
        notes=("tenantRestrictions is sent after the partner exists",),
        description="Fabrikam: the sister company in Zürich",
        effects=(Effect("b2b-collaboration", "inbound", "widens", "users of Fabrikam can be invited"),),
    )
    delete = Change(
        "delete", "partner", CON, tenant_id=CON, requests=(Request("3", "DELETE", f"{URL}/{CON}"),)
    )
    options = PlanOptions(prune=True, protected=frozenset({FAB}), tenant_name="prod", tenant_id=CON)
    return Plan(
        changes=(create, delete),
        fingerprints=Fingerprints({f"partner:{CON}": "aa", "default": "bb"}, "cc", "dd", __version__),
        tenant_name="prod",
        tenant_id=CON,
        prune=True,
        refusals=("1 partner deletions exceed maxDeletes (0)",),
        defaults={"inboundTrust": {"isMfaAccepted": False}},
        options=options.to_json(),
    )


def saved(plan: Plan) -> dict[str, Any]:
    """The plan as `xtap plan --out` writes it and `json.load` reads it back."""
    data: dict[str, Any] = json.loads(json.dumps(to_json(plan)))
    return data


def read_error(data: Any, **kw: Any) -> tuple[str, int]:
    with pytest.raises(XtapError) as caught:
        from_json(data, **kw)
    return str(caught.value), caught.value.exit_code


# --- from_json: a saved plan read back ----------------------------------------------------------------


def test_a_saved_plan_reads_back_whole() -> None:
    plan = created_and_deleted()
    back = from_json(saved(plan))
    assert back == plan
    change = back.changes[0]  # the fields a round trip through empty values would not show
    assert (back.tenant_name, back.tenant_id, dict(back.defaults)) == ("prod", CON, plan.defaults)
    assert change.description == "Fabrikam: the sister company in Zürich"
    assert change.diffs[0] == PropertyDiff("inboundTrust.isMfaAccepted", False, True)
    assert change.effects[0].direction == "inbound"
    assert change.requests[1].depends_on == ("1",)


def test_what_a_saved_plan_may_leave_out_reads_as_empty() -> None:
    data = saved(created_and_deleted())
    for change in data["changes"]:
        del change["notes"], change["description"], change["tenantId"], change["source"]
    del data["refusals"], data["defaults"]
    back = from_json(data)
    assert back.refusals == ()
    assert back.defaults == {}
    assert [(c.notes, c.description, c.tenant_id, c.source) for c in back.changes] == [
        ((), None, None, None)
    ] * 2
    data["defaults"] = None
    assert from_json(data).defaults == {}


def test_a_malformed_plan_is_one_clean_message_naming_the_file() -> None:
    assert read_error(["a", "list"]) == (
        "plan file: not a valid xtap plan (TypeError: not a JSON object)",
        EXIT_ERROR,
    )
    data = saved(created_and_deleted())
    del data["changes"][1]["requests"][0]["url"]
    assert read_error(data, origin="plan.json") == (
        "plan.json: not a valid xtap plan (KeyError: 'url')",
        EXIT_ERROR,
    )
    data = saved(created_and_deleted())
    data["changes"][1]["action"] = "explode"
    assert read_error(data, origin="plan.json") == (
        "plan.json: not a valid xtap plan (ValueError: unknown action 'explode')",
        EXIT_ERROR,
    )


def test_a_plan_of_another_format_version_is_refused() -> None:
    data = saved(created_and_deleted())
    data["format_version"] = 1
    assert read_error(data, origin="old.json") == (
        "old.json: unsupported plan format_version 1 (this xtap reads 2)",
        EXIT_REFUSED,
    )
    del data["format_version"]
    with pytest.raises(RefusedError, match=r"^plan file: unsupported plan format_version None "):
        from_json(data)


# --- digest: the fingerprints' hash -------------------------------------------------------------------


def test_the_fingerprint_of_json_data_ignores_key_order_only() -> None:
    read_once = {"tenantId": FAB, "inboundTrust": TRUST, "b2bCollaborationInbound": None}
    read_again = dict(reversed(list(read_once.items())))
    read_again["inboundTrust"] = dict(reversed(list(TRUST.items())))
    assert list(read_again) != list(read_once)
    assert digest(read_again) == digest(read_once)
    assert digest({**read_once, "inboundTrust": {**TRUST, "isMfaAccepted": False}}) != digest(read_once)
    unpaired = json.loads('{"tenantId": "\\ud800"}')  # JSON Graph may send: text UTF-8 cannot encode
    assert digest(unpaired) != digest({"tenantId": ""})


# --- differences: how a saved plan differs from the fresh one, in words ---------------------------------


def with_requests(plan: Plan, *requests: Request) -> Plan:
    """`plan` whose first change sends `requests` (the other changes send nothing)."""
    first = replace(plan.changes[0], requests=requests)
    rest = tuple(replace(c, requests=()) for c in plan.changes[1:])
    return replace(plan, changes=(first, *rest))


POST = Request("1", "POST", URL, {"tenantId": FAB})
PUT = Request("2", "PUT", f"{URL}/{FAB}/identitySynchronization", SYNC, depends_on=("1",))
PUT_VIEW = f'PUT {URL}/{FAB}/identitySynchronization {{"userSyncInbound":{{"isSyncAllowed":true}}}}'


def test_the_same_plan_has_no_differences() -> None:
    assert differences(created_and_deleted(), created_and_deleted()) is None


def test_a_plan_without_a_version_is_of_another_version() -> None:
    fresh = created_and_deleted()
    unversioned = replace(fresh, fingerprints=replace(fresh.fingerprints, version=""))
    assert (
        differences(unversioned, fresh)
        == f"it was made by xtap of another version, this is xtap {__version__}"
    )


def test_an_option_the_saved_plan_lacks_is_named() -> None:
    fresh = created_and_deleted()
    options = {k: v for k, v in fresh.options.items() if k != "prune"}
    assert (
        differences(replace(fresh, options=options), fresh)
        == "its option prune is null, the configuration says true"
    )


def test_a_deletion_the_saved_plan_left_out_is_named() -> None:
    fresh = created_and_deleted()
    kept = replace(fresh, changes=fresh.changes[:1])
    assert differences(kept, fresh) == f"it deletes nothing, a fresh plan deletes ['partner {CON}']"


def test_a_changed_dependency_is_a_different_request() -> None:
    fresh = with_requests(created_and_deleted(), POST, PUT)
    unordered = with_requests(fresh, POST, replace(PUT, depends_on=()))
    assert differences(unordered, fresh) == f"request 2 is {PUT_VIEW}, a fresh plan sends {PUT_VIEW} after 1"
    two = with_requests(fresh, POST, replace(PUT, depends_on=("1", "0")))
    assert (
        differences(two, fresh) == f"request 2 is {PUT_VIEW} after 1,0, a fresh plan sends {PUT_VIEW} after 1"
    )


def test_a_request_is_quoted_as_written_and_cut_at_300_characters() -> None:
    fresh = with_requests(created_and_deleted(), POST)
    renamed = with_requests(fresh, replace(POST, body={"tenantId": "Zürich"}))
    assert differences(renamed, fresh) == (
        f'request 1 is POST {URL} {{"tenantId":"Zürich"}}, a fresh plan sends POST {URL} {{"tenantId":"{FAB}"}}'
    )
    targets = [{"target": f"group-{n:03}", "targetType": "group"} for n in range(20)]
    long = replace(POST, body={"tenantId": FAB, "b2bCollaborationInbound": {"usersAndGroups": targets}})
    view = f"POST {URL} " + json.dumps(long.body, sort_keys=True, separators=(",", ":"))
    assert len(view) > 300
    put = "PUT" + view[4:]
    assert differences(with_requests(fresh, long), with_requests(fresh, replace(long, method="PUT"))) == (
        f"request 1 is {view[:300]}, a fresh plan sends {put[:300]}"
    )
    extra = with_requests(fresh, POST, long)
    assert (
        differences(extra, fresh)
        == f"it sends 2 requests, a fresh plan 1 (the first extra one: {view[:300]})"
    )


def test_a_missing_request_is_counted() -> None:
    fresh = with_requests(created_and_deleted(), POST, PUT)
    assert differences(with_requests(fresh, POST), fresh) == "it sends 1 requests, a fresh plan 2"
    extra = with_requests(fresh, POST, PUT, Request("3", "DELETE", f"{URL}/{CON}"))
    assert differences(extra, fresh) == (
        f"it sends 3 requests, a fresh plan 2 (the first extra one: DELETE {URL}/{CON} null)"
    )
