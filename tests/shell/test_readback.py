"""The read-back made while the writes land (shell/readback.py): which page may be asked for when, in which
order the writes go, and which partners were seen too early. No network: `Landing` hears of answers as the
applier would hand them over; the applier's own tests (tests/shell/test_applier.py) run it against the
emulator."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.core.plan import Change
from reconciler.core.state import LivePartner, LiveState, Request
from reconciler.shell.readback import Abandoned, EarlyRead, Landing

PARTNERS = "/policies/crossTenantAccessPolicy/partners"


@dataclass(frozen=True)
class Answer:
    ok: bool = True


def change(tid: str | None, action: str = "update", resource: str = "partner", *rids: str) -> Change:
    """A change with one request per id (`rids`, or the tenant id)."""
    ids = rids or (tid or resource,)
    url = f"{PARTNERS}/{tid}" if tid else "/policies/crossTenantAccessPolicy/default"
    method = {"create": "POST", "delete": "DELETE"}.get(action, "PATCH")
    return Change(
        action=action,  # type: ignore[arg-type]
        resource=resource,  # type: ignore[arg-type]
        tenant_id=tid,
        name=tid or resource,
        requests=tuple(Request(r, method, url, {}) for r in ids),
    )


def answered(landing: Landing, *rids: str, ok: bool = True) -> None:
    landing.settled({r: Answer(ok) for r in rids})


def ready(landing: Landing) -> list[int]:
    """The pages (of the first six) that may be asked for now."""
    return [page for page in range(6) if landing.ready(page)]


PAGES = (("a", "b"), ("c", "d"), ("e",))  # the plan's read: three pages


def test_a_page_may_be_asked_for_once_the_partners_on_it_and_before_it_have_their_answers() -> None:
    landing = Landing([change(t) for t in "abcde"], PAGES)
    assert ready(landing) == []
    answered(landing, "a", "c", "d")
    assert ready(landing) == []  # b is on page 0 and has no answer
    answered(landing, "b")
    assert ready(landing) == [0, 1]
    answered(landing, "e")
    assert ready(landing) == [0, 1, 2, 3, 4, 5]  # the last page and any after it: every write answered


def test_the_last_page_of_the_plan_s_read_waits_for_every_write() -> None:
    landing = Landing([change(t) for t in "abcd"] + [change("new", "create")], PAGES)
    answered(landing, "new", "a", "b", "c", "d")
    assert ready(landing) == [0, 1, 2, 3, 4, 5]  # e has nothing to write: it holds nothing back
    landing = Landing([change(t) for t in "abcde"], PAGES)
    answered(landing, "a", "b", "c", "d")
    assert ready(landing) == [0, 1]


def test_partners_without_writes_hold_nothing_back() -> None:
    landing = Landing([change("d")], PAGES)
    assert ready(landing) == [0]
    answered(landing, "d")
    assert ready(landing) == [0, 1, 2, 3, 4, 5]


def test_creates_deletes_and_the_default_go_first_and_every_page_waits_for_them() -> None:
    changes = [change("a"), change("c"), change("x", "create"), change(None, resource="default")]
    landing = Landing(changes, PAGES)
    answered(landing, "a", "c")
    assert ready(landing) == []
    answered(landing, "x")
    assert ready(landing) == []  # the default too: it is read with page 0
    answered(landing, "default")
    assert ready(landing) == [0, 1, 2, 3, 4, 5]


def test_a_partner_no_page_listed_goes_first_like_a_create() -> None:
    changes = [change("b"), change("zz"), change("a")]  # zz: a sync policy of a partner not read
    landing = Landing(changes, PAGES)
    assert [c.tenant_id for c in landing.order(changes)] == ["zz", "a", "b"]


def test_the_writes_go_first_ones_first_then_in_page_order_stable_otherwise() -> None:
    changes = [
        change("e"),
        change("c", "update", "identitySynchronization", "c-sync"),
        change("b", "delete"),
        change("a"),
        change("c"),
        change(None, resource="default"),
        change("new", "create"),
    ]
    order = Landing(changes, PAGES).order(changes)
    assert [(c.tenant_id, c.resource, c.action) for c in order] == [
        ("b", "partner", "delete"),
        (None, "default", "update"),
        ("new", "partner", "create"),
        ("a", "partner", "update"),
        ("c", "identitySynchronization", "update"),
        ("c", "partner", "update"),
        ("e", "partner", "update"),
    ]


def test_each_deletion_makes_a_page_wait_for_one_more_partner_after_it() -> None:
    """Deleting one partner pulls the first of the next page forward: page 0 must wait for c too."""
    pages = (("a", "b"), ("c", "d"), ("e", "f"), ("g",))
    landing = Landing([change("z", "delete")] + [change(t) for t in "abcdefg"], pages)
    answered(landing, "z", "a", "b")
    assert ready(landing) == []
    answered(landing, "c")
    assert ready(landing) == [0]
    answered(landing, "d", "e")
    assert ready(landing) == [0, 1]
    two = Landing([change("y", "delete"), change("z", "delete")] + [change(t) for t in "abcdefg"], pages)
    answered(two, "y", "z", "a", "b", "c")
    assert ready(two) == []
    answered(two, "d")
    assert ready(two) == [0]


def test_a_tenant_lands_when_all_its_requests_have_answers() -> None:
    changes = [change("a", "update", "partner", "1"), change("a", "update", "identitySynchronization", "2")]
    landing = Landing([*changes, change("c")], PAGES)
    answered(landing, "1")
    assert ready(landing) == []
    answered(landing, "2")
    assert ready(landing) == [0]


def test_a_failed_write_holds_its_pages_back_until_the_applier_is_done() -> None:
    """A write that failed may be re-planned and written again: its pages wait for `finish`."""
    landing = Landing([change(t) for t in "abcde"], PAGES)
    answered(landing, "a")
    answered(landing, "b", ok=False)
    answered(landing, "c", "d", "e")
    assert ready(landing) == []
    landing.finish()
    assert ready(landing) == [0, 1, 2, 3, 4, 5]


def test_answers_to_requests_it_does_not_know_change_nothing() -> None:
    landing = Landing([change("a"), change("c")], PAGES)
    answered(landing, "other", "c")
    assert ready(landing) == []
    answered(landing, "a")
    assert ready(landing) == [0, 1, 2, 3, 4, 5]


def live(*tids: str) -> list[LivePartner]:
    return [LivePartner(t, {"tenantId": t}) for t in tids]


def test_a_partner_seen_on_a_page_asked_for_before_its_answer_was_seen_too_early() -> None:
    landing = Landing([change(t) for t in "abcde"], PAGES)
    answered(landing, "a", "b")
    landing.before(0)
    answered(landing, "c", "d")
    landing.before(1)
    answered(landing, "e")
    landing.before(2)
    # the pages as read: c moved to page 0 (someone deleted a partner meanwhile), e to page 1
    pages = [live("a", "b", "c"), live("d", "e"), live()]
    assert landing.too_early(pages) == {"c", "e"}
    assert landing.too_early([live("a", "b"), live("c", "d"), live("e")]) == set()


def test_a_partner_on_no_page_counts_as_read_with_the_first() -> None:
    landing = Landing([change("x", "create"), change("a"), change("c")], PAGES)
    answered(landing, "x", "a")
    landing.before(0)
    answered(landing, "c")
    landing.before(1)
    assert landing.too_early([live("a"), live(), live()]) == {"c"}  # c on no page: gone before its answer?
    assert landing.too_early([live("a", "b"), live("c", "d"), live()]) == set()  # x on none: answered first


def test_a_write_that_lands_at_finish_was_seen_too_early_on_a_page_asked_for_before() -> None:
    """c's write failed (it is re-planned): page 0 goes without it, page 1 only after `finish`."""
    landing = Landing([change("a"), change("c")], PAGES)
    answered(landing, "a")
    answered(landing, "c", ok=False)
    landing.before(0)
    assert ready(landing) == [0]
    landing.finish()
    landing.before(1)
    assert landing.too_early([live("a", "b"), live("c", "d"), live("e")]) == set()
    assert landing.too_early([live("a", "c"), live("b", "d"), live("e")]) == {"c"}


def test_before_waits_for_the_answers_and_abandon_ends_every_wait() -> None:
    landing = Landing([change(t) for t in "abcde"], PAGES)
    outcome: dict[int, Any] = {}

    def ask(page: int) -> None:
        try:
            landing.before(page)
            outcome[page] = "asked"
        except Abandoned:
            outcome[page] = "abandoned"

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    first.join(0.05)
    assert first.is_alive()  # a and b have no answers yet
    answered(landing, "a", "b")
    first.join(10)
    second = threading.Thread(target=ask, args=(1,))
    second.start()
    second.join(0.05)
    assert second.is_alive()
    landing.abandon()
    second.join(10)
    assert outcome == {0: "asked", 1: "abandoned"}
    with pytest.raises(Abandoned):
        landing.before(0)  # once abandoned, nothing more is asked for


class Reader:
    """A client whose read hands over two pages, or fails."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.gates: list[int] = []

    def read_live_state(self, *, policy: bool = False, on_page: Any = None, before: Any = None) -> LiveState:
        for number, page in enumerate([live("a", "b"), live("c")]):
            before(number)
            self.gates.append(number)
            if self.error is not None:
                raise self.error
            on_page({"d": 1}, page)
        return LiveState(
            {p.tenant_id: p for p in live("a", "b", "c")}, {"d": 1}, {"p": 1} if policy else None
        )


def test_the_early_read_hands_its_pages_over_in_order_once_the_writes_are_done() -> None:
    reader = Reader()
    landing = Landing([change("a"), change("c")], (("a", "b"), ("c",)))
    early = EarlyRead(reader, landing, policy=True)
    answered(landing, "a")
    heard: list[tuple[Any, list[str]]] = []
    state, unseen = early.result(lambda default, page: heard.append((default, [p.tenant_id for p in page])))
    assert heard == [({"d": 1}, ["a", "b"]), ({"d": 1}, ["c"])]
    assert (sorted(state.partners), state.policy, unseen) == (["a", "b", "c"], {"p": 1}, set())
    assert reader.gates == [0, 1]  # c had no answer: `result` ended the writes, and page 1 followed
    early.stop()  # after the result: nothing left to end


def test_an_early_read_that_failed_raises_at_its_result() -> None:
    landing = Landing([change("a")], (("a", "b"), ("c",)))
    early = EarlyRead(Reader(RuntimeError("page 0 failed")), landing, policy=False)
    answered(landing, "a")
    with pytest.raises(RuntimeError, match="page 0 failed"):
        early.result(lambda default, page: None)


def test_stopping_an_early_read_ends_its_wait_and_sends_nothing_more() -> None:
    reader = Reader()
    landing = Landing([change("a"), change("c")], (("a", "b"), ("c",)))
    early = EarlyRead(reader, landing, policy=False)
    early.stop()
    assert reader.gates == []
