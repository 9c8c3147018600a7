"""The reliability fault matrix (issue 8): every fault × plan and apply converges, nothing duplicated or lost.

The scenarios and what each row checks are in `tests/reliability_scenarios.py`; `bench/reliability_table.py`
prints the same matrix as the table in docs/reliability.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator, FaultRule
from tests.support.e2e import write_policies
from tests.support.reliability import (
    APPLY_ARGS,
    BATCH,
    CREATED,
    LIVE_COUNT,
    PAGE_SIZE,
    PARTNERS,
    SCENARIOS,
    Scenario,
    effective_writes,
    emulator_env,
    live_state,
    policy_files,
    read_count,
    run,
    run_cli,
    tid,
    write_key,
)

pytestmark = pytest.mark.reliability

KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _cells() -> list[Any]:
    cells = []
    for scenario in SCENARIOS:
        for command in ("plan", "apply"):
            reason = KNOWN_BUGS.get((scenario.name, command))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cells.append(pytest.param(scenario, command, marks=marks, id=f"{scenario.name}-{command}"))
    return cells


@pytest.mark.parametrize(("scenario", "command"), _cells())
def test_fault_matrix(scenario: Scenario, command: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    row = run(scenario, command, tmp_path_factory.mktemp("reliability"))
    assert row.problems == []
    assert (row.exit_code, row.outcome) == (row.expected_exit, "converged")


def test_fault_free_apply_sends_the_minimal_requests(tmp_path: Path) -> None:
    """Read every page and the default, look up the name of the partner prune deletes (one $batch of
    GETs), one $batch per group (the independent requests, each dependsOn chain), read back what changed to
    verify — one $batch of GETs, fewer requests than the pages: nothing more, nothing retried."""
    row = run(SCENARIOS[0], "apply", tmp_path)
    batches = 1 + len(CREATED) + 1  # independent requests, each create's POST+PUT, the prune's DELETEs
    after = LIVE_COUNT + len(CREATED) - 1
    assert read_count(after) - 1 > 1  # the pages a full re-read would take
    assert (row.requests, row.retries, row.writes, row.tokens) == (
        read_count(LIVE_COUNT) + 1 + batches + 1,
        0,
        14,
        1,
    )


def test_matrix_covers_every_fault_for_both_commands() -> None:
    assert [s.name for s in SCENARIOS] == [
        "no fault",
        "429 storm, Retry-After",
        "429 storm, no Retry-After",
        "503/504 burst",
        "dropped connection",
        "answer lost after the write",
        "token expiry",
        "read-after-write lag",
        "Graph rejects one partner",
        "process killed mid-apply",
    ]


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule("POST", PARTNERS, status=429, retry_after=0),
        FaultRule("DELETE", "/identitySynchronization", status=503, retry_after=0),
    ],
    ids=["429 on a create's POST", "503 on a prune's sync DELETE"],
)
def test_retryable_answer_to_the_head_of_a_chain_retries_its_dependent(
    rule: FaultRule, tmp_path: Path
) -> None:
    write_policies(tmp_path, policy_files())
    with Emulator(seed=live_state(), page_size=PAGE_SIZE) as emu, emulator_env(emu, tmp_path):
        emu.add_fault(rule)
        code, out, _ = run_cli(*APPLY_ARGS)
        assert "Apply complete: 14 applied, 0 failed." in out
        assert code == 0


def test_a_dropped_batch_that_ran_is_not_sent_again(tmp_path: Path) -> None:
    """The creates' batch ran but its answer was lost: the client re-reads the partner and its sync policy
    (two GETs) instead of sending the POST and the PUT again."""
    write_policies(tmp_path, policy_files())
    with Emulator(seed=live_state(), page_size=PAGE_SIZE) as emu, emulator_env(emu, tmp_path):
        emu.add_fault(FaultRule("POST", PARTNERS, drop=True, after_effect=True))
        code, out, err = run_cli(*APPLY_ARGS)
        assert code == 0, out + err
        journal = emu.journal
    dropped = [i for i, e in enumerate(journal) if e.path == BATCH and e.status == 0]
    assert len(dropped) == 1
    post, put = journal[dropped[0] + 1 : dropped[0] + 3]  # the batch's entry comes before its sub-requests
    assert (post.method, post.status, put.method, put.status) == ("POST", 0, "PUT", 204)
    created = str(post.body["tenantId"])
    # Outside any $batch: the verification reads it again, inside one.
    rereads = [
        (e.method, e.path) for e in journal if e.method == "GET" and created in e.path and not e.in_batch
    ]
    assert rereads == [
        ("GET", f"{PARTNERS}/{created}"),
        ("GET", f"{PARTNERS}/{created}/identitySynchronization"),
    ]
    posts = [
        write_key(e.method, e.path, e.body) for e in effective_writes(journal, True) if e.method == "POST"
    ]
    assert len(posts) == len(set(posts)) == 2
    assert created in (tid(31), tid(32))
