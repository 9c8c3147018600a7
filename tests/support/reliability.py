"""The reliability fault matrix (issue 8): each fault of DESIGN §4–5 against `xtap plan` and `xtap apply`.

Shared by `tests/test_reliability.py` (which asserts every row) and `bench/reliability_table.py` (which
prints the table recorded in docs/reliability.md). Everything runs against the in-process emulator over
real HTTPS with stock msal; the CLI runs in-process through `reconciler.cli.main`, except the killed apply,
which is a real `python -m reconciler` process that gets SIGKILL.

A scenario's tenant: 30 partners (3 with an identity-sync policy), 10 per page. The policy files change
10 partners: 6 partner PATCHes, a sync PUT, a sync PATCH, 2 creates (each a POST and a sync PUT that
dependsOn it) and, with prune, one sync DELETE + partner DELETE: 14 writes in 4 batches (the independent
requests in one, each dependsOn chain in a serial batch of its own). Every run uses `--prune`.

What a row checks, from the emulator's journal:
- the exit code;
- *minimal*: each write that took effect (2xx) is one of the requests of the fault-free plan, with the
  same body, and each PATCH body holds exactly the properties that plan says changed; a plan's reads are
  exactly ⌈partners/page⌉ + 1 successful GETs, however many faulted answers came first;
- *no duplicate*: across the faulted run and the re-run, each planned request takes effect exactly once
  (faulted answers — 429, 503, 504, 401, dropped — are counted as retries, not as writes);
- *nothing lost*: after the faults are lifted, `apply` then `plan --detailed-exitcode` exits 0 and the
  emulator's state equals the state a fault-free apply produces;
- a plan made under a fault (or right after a faulted apply) shows exactly the requests still missing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from reconciler.cli.main import main
from reconciler.emulator import Emulator, FaultRule, Faults, JournalEntry, seeds
from reconciler.shell.graph.client import GraphClient
from tests.support import REPO
from tests.support.e2e import ENV_KEYS, write_policies

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
DEFAULT = "/v1.0/policies/crossTenantAccessPolicy/default"
BATCH = "/v1.0/$batch"
PAGE_SIZE = 10
LIVE_COUNT = 30
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
FAULT_STATUSES = (0, 401, 429, 503, 504)  # 0: the emulator dropped the connection
PLAN_ARGS = ("plan", "--prune", "--detailed-exitcode", "--out", "plan.json")
APPLY_ARGS = ("apply", "--auto-approve", "--prune")
KILLED = -9

TRUST_OFF = {
    "isMfaAccepted": False,
    "isCompliantDeviceAccepted": False,
    "isHybridAzureADJoinedDeviceAccepted": False,
}
TRUST_ON = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": True,
    "isHybridAzureADJoinedDeviceAccepted": True,
}
COLLAB = {
    "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {
        "accessType": "allowed",
        "targets": [{"target": "AllApplications", "targetType": "application"}],
    },
}


def tid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


# Indexes into the live tenant (1..30) and the new partners (31, 32).
UPDATED = (1, 2, 3, 4, 5)  # inboundTrust off -> on
CONSENT = 6  # automaticUserConsentSettings set
SYNC_PUT = 7  # gains an identity-sync policy
SYNC_PATCH = 10  # has one; userSyncInbound changes
PRUNED = 30  # not in the files, has a sync policy: sync DELETE, then partner DELETE
SYNCED = (10, 20, 30)
CREATED = (31, 32)  # each with a sync policy: POST, then PUT dependsOn it (a serial batch each)
REJECTED = 3  # the partner Graph refuses in the "rejects one partner" scenario


def live_state() -> dict[str, Any]:
    state = seeds.empty()
    for i in range(1, LIVE_COUNT + 1):
        t = tid(i)
        state["partners"][t] = {
            "tenantId": t,
            "isInMultiTenantOrganization": False,
            "b2bCollaborationInbound": COLLAB,
            "inboundTrust": TRUST_OFF,
        }
        if i in SYNCED:
            state["identitySynchronization"][t] = {
                "tenantId": t,
                "displayName": f"Partner {i}",
                "userSyncInbound": {"isSyncAllowed": True},
            }
    return state


def policy_files() -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for i in [*range(1, LIVE_COUNT), *CREATED]:  # 30 is left out: pruned
        body: dict[str, Any] = {
            "tenantId": tid(i),
            "b2bCollaborationInbound": COLLAB,
            "inboundTrust": TRUST_ON if i in UPDATED or i in CREATED else TRUST_OFF,
        }
        if i == CONSENT:
            body["automaticUserConsentSettings"] = {"inboundAllowed": True, "outboundAllowed": False}
        if i in (20, SYNC_PUT, *CREATED):
            body["identitySynchronization"] = {
                "displayName": f"Partner {i}",
                "userSyncInbound": {"isSyncAllowed": True},
            }
        if i == SYNC_PATCH:
            body["identitySynchronization"] = {
                "displayName": f"Partner {i}",
                "userSyncInbound": {"isSyncAllowed": False},
            }
        files[f"p{i:02d}"] = body
    return files


# -- running the CLI in-process ------------------------------------------------------------------------


@contextlib.contextmanager
def emulator_env(emu: Emulator, workdir: Path) -> Iterator[None]:
    """The process environment and working directory `xtap` would have against this emulator."""
    saved = {k: os.environ.get(k) for k in (*ENV_KEYS, "REQUESTS_CA_BUNDLE")}
    for key in saved:
        os.environ.pop(key, None)
    os.environ.update(emu.env(app="writer"))
    try:
        with contextlib.chdir(workdir):
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def run_killed_apply(emu: Emulator, workdir: Path) -> int:
    """`xtap apply` in a real process, killed (SIGKILL) as soon as its first write has landed."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    saved = emu.faults.latency_ms
    emu.faults.latency_ms = 300  # every request takes 0.3 s: the kill lands between two batches
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *APPLY_ARGS, "--parallel", "1"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not effective_writes(emu.journal):
            if proc.poll() is not None:
                break
            time.sleep(0.01)
    finally:
        proc.kill()
        code = proc.wait()
        # The emulator finishes the batch it was serving (a serial batch goes on after the client died):
        # wait until its journal stands still, so what follows sees the tenant as the kill left it.
        quiet_since, size = time.monotonic(), len(emu.journal)
        while time.monotonic() - quiet_since < 1.0:
            time.sleep(0.05)
            if len(emu.journal) != size:
                quiet_since, size = time.monotonic(), len(emu.journal)
        emu.faults.latency_ms = saved
    return code


# -- reading the journal -------------------------------------------------------------------------------


def is_write(e: JournalEntry) -> bool:
    return e.method in WRITE_METHODS and e.path != BATCH and "/oauth2/" not in e.path


def effective_writes(journal: list[JournalEntry], landed_unanswered: bool = False) -> list[JournalEntry]:
    """Writes Graph carried out: 2xx answers, and with `landed_unanswered` the sub-requests that ran in a
    batch whose answer was lost (journaled with status 0)."""
    return [
        e
        for e in journal
        if is_write(e) and (200 <= e.status < 300 or (landed_unanswered and e.in_batch and e.status == 0))
    ]


def write_key(method: str, path: str, body: Any) -> tuple[str, str, str]:
    return method, path, json.dumps(body, sort_keys=True)


def graph_requests(journal: list[JournalEntry]) -> list[JournalEntry]:
    """Outer HTTP requests to Graph (no token requests, no $batch sub-requests)."""
    return [e for e in journal if not e.in_batch and e.path.startswith("/v1.0")]


def token_requests(journal: list[JournalEntry]) -> list[JournalEntry]:
    return [e for e in journal if e.path.endswith("/oauth2/v2.0/token")]


def faulted(journal: list[JournalEntry]) -> list[JournalEntry]:
    """Answers that made the client retry: 429/503/504, 401 (expired token), dropped connections (counted
    once, on the outer request: the sub-requests of a dropped batch are journaled with status 0 too)."""
    return [
        e
        for e in journal
        if e.path.startswith("/v1.0") and e.status in FAULT_STATUSES and not (e.status == 0 and e.in_batch)
    ]


def ok_reads(journal: list[JournalEntry]) -> int:
    return sum(1 for e in graph_requests(journal) if e.method == "GET" and e.status == 200)


def read_count(partners: int) -> int:
    """Minimal reads for a plan: every page of the partner list, then the default."""
    return -(-partners // PAGE_SIZE) + 1


# -- scenarios -----------------------------------------------------------------------------------------

Injector = Callable[[Emulator, ExitStack], None]


def _rules(*rules: FaultRule) -> Injector:
    def inject(emu: Emulator, stack: ExitStack) -> None:
        for rule in rules:
            emu.add_fault(rule)

    return inject


def _expire_before(method: str) -> Injector:
    """Every token issued so far expires just before the client's first call of `method`: the read of
    the default (after the partner pages) for plan, the first write batch for apply."""

    def inject(emu: Emulator, stack: ExitStack) -> None:
        original = getattr(GraphClient, method)
        fired: list[bool] = []

        def expiring(self: GraphClient, *args: Any, **kwargs: Any) -> Any:
            if not fired:
                fired.append(True)
                emu.expire_tokens()
            return original(self, *args, **kwargs)

        stack.enter_context(mock.patch.object(GraphClient, method, expiring))

    return inject


def _lag(emu: Emulator, stack: ExitStack) -> None:
    emu.faults = Faults(read_lag_s=1.5)


def _reject(emu: Emulator, stack: ExitStack) -> None:
    emu.reject_writes(
        tid(REJECTED), status=400, code="Request_BadRequest", message="Licence required for this setting."
    )


def _nothing(emu: Emulator, stack: ExitStack) -> None:
    return None


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: str  # how it is injected, in words (docs/reliability.md)
    apply_fault: Injector
    # The fault for `plan`; None for a write-side fault: the plan then runs right after the faulted apply
    # and must show exactly what is still missing.
    plan_fault: Injector | None
    apply_exit: int = 0
    kill: bool = False
    injected: int = 0  # faulted answers the apply must see (0: not fixed, e.g. the quota's)
    plan_injected: int = 0
    # The plan reads the partner pages and the default side by side, so a token expiring before one of
    # them may be refused on the other read too (one refresh serves both): this many more may be seen.
    plan_injected_spread: int = 0
    # A sub-request whose batch connection was dropped after it ran is journaled with status 0; here it
    # did run, so it counts as a write that took effect.
    landed_unanswered: bool = False
    retried: bool = True  # the fault makes the client retry (False: it fails, lags or kills instead)
    refreshes_token: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("no fault", "none (the baseline)", _nothing, _nothing, retried=False),
    Scenario(
        "429 storm, Retry-After",
        "plan: 2×429 on the partner list; apply: 429 on a whole $batch, then on 4 PATCH sub-requests; all with Retry-After: 1",
        _rules(
            FaultRule("POST", BATCH, status=429, retry_after=1),
            FaultRule("PATCH", f"{PARTNERS}/", times=4, status=429, retry_after=1),
        ),
        _rules(FaultRule("GET", PARTNERS, times=2, status=429, retry_after=1)),
        injected=5,
        plan_injected=2,
    ),
    Scenario(
        "429 storm, no Retry-After",
        "the same 429s without Retry-After: the client backs off exponentially from 1 s",
        _rules(
            FaultRule("POST", BATCH, status=429, retry_after=None),
            FaultRule("PATCH", f"{PARTNERS}/", times=4, status=429, retry_after=None),
        ),
        _rules(FaultRule("GET", PARTNERS, times=2, status=429, retry_after=None)),
        injected=5,
        plan_injected=2,
    ),
    Scenario(
        "503/504 burst",
        "plan: 503 on the partner list, 504 on the default; apply: 503 on a $batch, 504 on 2 partner PATCHes and on the sync PUT of a create, 503 on the sync DELETE (no Retry-After)",
        _rules(
            FaultRule("POST", BATCH, status=503, retry_after=None),
            FaultRule("PATCH", f"{PARTNERS}/", times=2, status=504, retry_after=None),
            FaultRule("PUT", f"{PARTNERS}/{tid(32)}/identitySynchronization", status=504, retry_after=None),
            FaultRule("DELETE", "/identitySynchronization", status=503, retry_after=None),
        ),
        _rules(
            FaultRule("GET", PARTNERS, status=503, retry_after=None),
            FaultRule("GET", DEFAULT, status=504, retry_after=None),
        ),
        injected=5,
        plan_injected=2,
    ),
    Scenario(
        "dropped connection",
        "plan: the partner list's connection closed unanswered; apply: a $batch's connection closed before it ran",
        _rules(FaultRule("POST", BATCH, drop=True)),
        _rules(FaultRule("GET", PARTNERS, drop=True)),
        injected=1,
        plan_injected=1,
    ),
    Scenario(
        "answer lost after the write",
        "plan: the default GET ran, its answer was lost; apply: the batch creating a partner (POST + sync PUT) ran, its answer was lost",
        _rules(FaultRule("POST", PARTNERS, drop=True, after_effect=True)),
        _rules(FaultRule("GET", DEFAULT, drop=True, after_effect=True)),
        injected=1,
        plan_injected=1,
        landed_unanswered=True,
    ),
    Scenario(
        "token expiry",
        "every token issued so far expires mid-run (plan: before the default GET; apply: before the first write batch)",
        _expire_before("execute"),
        _expire_before("get_default"),
        plan_injected=1,
        plan_injected_spread=1,
        refreshes_token=True,
    ),
    Scenario(
        "read-after-write lag",
        "reads return the pre-write state for 1.5 s after a write; plan: right after that apply",
        _lag,
        None,
        retried=False,
    ),
    Scenario(
        "Graph rejects one partner",
        f"every write to partner {tid(REJECTED)} answered 400 Request_BadRequest; plan: right after that apply",
        _reject,
        None,
        apply_exit=1,
        retried=False,
    ),
    Scenario(
        "process killed mid-apply",
        "`python -m reconciler apply` gets SIGKILL once its first write landed; plan: right after the kill",
        _nothing,
        None,
        apply_exit=KILLED,
        kill=True,
        retried=False,
    ),
)


# -- one row -------------------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    command: str
    exit_code: int
    expected_exit: int
    requests: int  # outer HTTP requests to Graph in the measured command
    tokens: int  # token requests in the measured command
    retries: int  # faulted answers (429/503/504/401/dropped) in the measured command
    writes: int  # writes that took effect in the measured command
    reads_ok: int  # successful GETs in the measured command
    rerun_writes: int  # writes that took effect when re-run without faults
    seconds: float
    outcome: str  # converged / duplicated / lost, from the journal and the final state
    # problems == []: the exit code, the plan shown, the reads and the faults seen are as expected too
    problems: list[str] = field(default_factory=list)
    plan_requests: list[tuple[str, str, str]] = field(default_factory=list)  # a plan row: what it shows
    expected_plan: list[tuple[str, str, str]] = field(default_factory=list)  # ... and what is missing
    output: str = ""  # what the measured command printed
    journal: list[JournalEntry] = field(default_factory=list)  # the whole scenario's


@dataclass(frozen=True)
class Baseline:
    """The fault-free plan's requests (method, /v1.0 path, canonical body) and the state its apply gives."""

    requests: tuple[tuple[str, str, str], ...]
    final_state: dict[str, Any]
    minimal_problems: tuple[str, ...]


def _plan_requests(plan_json: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted(
        write_key(r["method"], "/v1.0" + r["url"], r.get("body"))
        for c in plan_json["changes"]
        for r in c["requests"]
    )


def _changed_keys(change: dict[str, Any]) -> list[str]:
    """The top-level members the change's leaf diffs touch (below `identitySynchronization.` for a sync
    policy, whose body is the policy itself)."""
    keys: set[str] = set()
    for diff in change["diffs"]:
        path = diff["path"]
        if change["resource"] == "identitySynchronization":
            path = path.removeprefix("identitySynchronization.")
        keys.add(path.split(".", 1)[0])
    return sorted(keys)


def _minimal_problems(plan_json: dict[str, Any]) -> list[str]:
    """Each PATCH body holds exactly the top-level properties that differ; a create POST holds the
    tenantId and the properties it sets."""
    problems = []
    for change in plan_json["changes"]:
        for r in change["requests"]:
            wanted = _changed_keys(change) + (["tenantId"] if r["method"] == "POST" else [])
            if r["method"] in ("PATCH", "POST") and sorted(r["body"]) != sorted(wanted):
                problems.append(f"{r['method']} {r['url']} sends {sorted(r['body'])}, changed {wanted}")
    return problems


def _tenant_state(emu: Emulator) -> dict[str, Any]:
    state = emu.state()
    return {
        "partners": state["partners"],
        "sync": state["identitySynchronization"],
        "default": state["default"],
    }


def _read_plan(workdir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((workdir / "plan.json").read_text())
    return data


_BASELINE: dict[str, Baseline] = {}


def baseline(workdir: Path) -> Baseline:
    """The fault-free plan and final state (computed once per process)."""
    if "b" not in _BASELINE:
        workdir.mkdir(parents=True, exist_ok=True)
        write_policies(workdir, policy_files())
        with Emulator(seed=live_state(), page_size=PAGE_SIZE) as emu, emulator_env(emu, workdir):
            code, out, err = run_cli(*PLAN_ARGS)
            if code != 2:
                raise AssertionError(f"the baseline plan exited {code}: {out}{err}")
            plan_json = _read_plan(workdir)
            code, out, err = run_cli(*APPLY_ARGS)
            if code != 0:
                raise AssertionError(f"the baseline apply exited {code}: {out}{err}")
            _BASELINE["b"] = Baseline(
                tuple(_plan_requests(plan_json)), _tenant_state(emu), tuple(_minimal_problems(plan_json))
            )
    return _BASELINE["b"]


def run(scenario: Scenario, command: str, workdir: Path) -> Row:
    """One cell of the matrix, in a fresh emulator and a fresh working directory."""
    base = baseline(workdir / "baseline")
    workdir = workdir / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    write_policies(workdir, policy_files())
    expected = Counter(base.requests)
    started = time.monotonic()
    output = ""
    with Emulator(seed=live_state(), page_size=PAGE_SIZE) as emu, emulator_env(emu, workdir):
        with ExitStack() as stack:
            if command == "apply" or scenario.plan_fault is None:
                scenario.apply_fault(emu, stack)
                if scenario.kill:
                    apply_code = run_killed_apply(emu, workdir)
                else:
                    apply_code, apply_out, apply_err = run_cli(*APPLY_ARGS)
                    output = apply_out + apply_err
            mark = len(emu.journal) if command == "plan" else 0
            if command == "plan":
                partners_at_plan = len(emu.partners())
                if scenario.plan_fault is not None:
                    scenario.plan_fault(emu, stack)
                code, plan_out, plan_err = run_cli(*PLAN_ARGS)
                output = plan_out + plan_err
                shown = _plan_requests(_read_plan(workdir))
            else:
                code, shown, partners_at_plan = apply_code, [], 0
        seconds = time.monotonic() - started
        measured = emu.journal[mark:]
        before_rerun = emu.journal
        # Lift every fault, then re-run: apply must finish the rest and the next plan must be empty.
        emu.faults = Faults()
        emu.accept_writes(tid(REJECTED))
        rerun_code, rerun_out, rerun_err = run_cli(*APPLY_ARGS)
        final_code = run_cli("plan", "--prune", "--detailed-exitcode")[0]
        journal = emu.journal
        final_state = _tenant_state(emu)

    landed = scenario.landed_unanswered
    done_before = Counter(write_key(e.method, e.path, e.body) for e in effective_writes(before_rerun, landed))
    done = Counter(write_key(e.method, e.path, e.body) for e in effective_writes(journal, landed))
    expected_exit = (2 if expected - done_before else 0) if command == "plan" else scenario.apply_exit
    problems: list[str] = list(base.minimal_problems)
    if code != expected_exit:
        problems.append(f"exit code {code}, expected {expected_exit}")
    unexpected = sorted(set(done) - set(expected))
    duplicated = sorted(k for k, n in done.items() if n > 1)
    lost = sorted(set(expected) - set(done))
    problems += [f"not planned: {k}" for k in unexpected]
    problems += [f"took effect {done[k]} times: {k}" for k in duplicated]
    problems += [f"never took effect: {k}" for k in lost]
    if rerun_code != 0:
        problems.append(f"the re-run apply exited {rerun_code}: {rerun_out}{rerun_err}")
    if final_code != 0:
        problems.append(f"plan after the re-run exited {final_code}")
    if final_state != base.final_state:
        problems.append("the final tenant differs from a fault-free apply's")
    reads = ok_reads(measured)
    if command == "plan":
        if reads != read_count(partners_at_plan):
            problems.append(f"{reads} successful reads; a plan needs exactly {read_count(partners_at_plan)}")
        missing = sorted((expected - done_before).elements())
        if shown != missing:
            problems.append("the plan does not show exactly the requests still missing")
    retries = len(faulted(measured))
    injected = scenario.plan_injected if command == "plan" else scenario.injected
    spread = scenario.plan_injected_spread if command == "plan" else 0
    if injected and not injected <= retries <= injected + spread:
        problems.append(f"{retries} faulted answers seen, {injected} injected")
    fires = scenario.retried and (command == "apply" or scenario.plan_fault is not None)
    if fires and retries == 0:
        problems.append("the fault never fired")
    if not fires and retries:
        problems.append(f"{retries} faulted answers where none were expected")
    # One sign-in per run, reused for every request; a second only after Graph refused the expired token.
    tokens = len(token_requests(measured))
    if tokens != (2 if scenario.refreshes_token else 1):
        problems.append(f"{tokens} token requests")
    if unexpected or duplicated:
        outcome = "duplicated"
    elif lost or final_state != base.final_state or final_code != 0 or rerun_code != 0:
        outcome = "lost"
    else:
        outcome = "converged"
    return Row(
        scenario=scenario.name,
        command=command,
        exit_code=code,
        expected_exit=expected_exit,
        requests=len(graph_requests(measured)),
        tokens=tokens,
        retries=retries,
        writes=len(effective_writes(measured, landed)),
        reads_ok=reads,
        rerun_writes=len(effective_writes(journal[len(before_rerun) :], landed)),
        seconds=seconds,
        outcome=outcome,
        problems=problems,
        plan_requests=shown,
        expected_plan=sorted((expected - done_before).elements()) if command == "plan" else [],
        output=output,
        journal=journal,
    )


COLUMNS = ("scenario", "command", "exit", "HTTP requests", "retries", "writes", "re-run writes", "outcome")


def table(rows: list[Row]) -> str:
    """A Markdown table of the matrix."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        exit_text = "killed" if r.exit_code == KILLED else str(r.exit_code)
        if r.exit_code != r.expected_exit:
            exit_text += f" (expected {r.expected_exit})"
        cells = (r.scenario, r.command, exit_text, r.requests, r.retries, r.writes, r.rerun_writes, r.outcome)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
