"""Fuzzing with hypothesis: the loader and `xtap validate` on hostile bytes and mutated example files, and
the planner on whole tenants (partners, identity sync, the default configuration, prune).

Budgets are sized for CI (the whole file runs in well under 30 s on two cores); the example counts are
in docs/reliability.md. Byte-level fuzzing with atheris was considered and left out (see the same page).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.core import metadata, model, urls
from reconciler.core.documents import parse_yaml
from reconciler.core.planner import POST_PROPERTIES, PlanOptions, make_plan
from reconciler.core.state import DesiredDefault, DesiredState, LivePartner, LiveState, SourceRef
from reconciler.shell.files import load_files
from tests.support import REPO
from tests.support.builders import apply_locally, desired, fresh
from tests.support.strategies import b2b_settings, booleans, target_configs, trust

EXAMPLES = sorted((REPO / "policies" / "partners").glob("*.yaml"))
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# One line of `xtap validate` output: a located diagnostic (no position when the problem is the file
# itself, e.g. a link leading outside), or the summary line.
DIAGNOSTIC = re.compile(r"^[^\n]+?(:\d+:\d+)?: (error|warning): .+$")
SUMMARY = re.compile(r"^(\d+ files? valid|\d+ errors?, \d+ warnings? in \d+ files?)$")


# --- (a) arbitrary bytes -------------------------------------------------------------------------------------

# Pieces of YAML and of policy files, so that random input reaches past the first syntax error.
TOKENS = [
    b"tenantId",
    b"90e29127-71ad-49c7-9ce8-db3f41ea06f1",
    b": ",
    b":",
    b"\n",
    b"\r\n",
    b"  ",
    b"\t",
    b"- ",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"&a ",
    b"*a",
    b"!!python/object:os.system ",
    b"!!binary ",
    b"<<: ",
    b"? ",
    b"|",
    b">-",
    b"'",
    b'"',
    b"\\",
    b"#",
    b"---\n",
    b"...\n",
    b"%YAML 1.1\n",
    b"null",
    b"~",
    b"true",
    b"yes",
    b"0x1F",
    b"1e400",
    b"-.inf",
    b"inboundTrust",
    b"isMfaAccepted",
    b"b2bCollaborationInbound",
    b"usersAndGroups",
    b"accessType",
    b"allowed",
    b"targets",
    b"target",
    b"AllUsers",
    b"targetType",
    b"identitySynchronization",
    b"ignore",
    b"description",
    b"\x00",
    b"\x1b",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xc3",
    "é".encode(),
    "\u2028".encode(),
]
yaml_ish = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(TOKENS), max_size=80).map(b"".join),
    st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=4)), max_size=60).map(b"".join),
)


@settings(FUZZ, max_examples=1000)
@given(yaml_ish)
def test_parse_yaml_never_raises(raw: bytes) -> None:
    doc, diagnostics = parse_yaml(raw, "f")
    for d in diagnostics:
        assert d.severity == "error" and d.path == "f" and d.line >= 1 and d.col >= 1, str(d)
    assert doc is not None or diagnostics


@settings(FUZZ, max_examples=400)
@given(raw=yaml_ish, as_default=st.booleans())
def test_load_files_never_raises(raw: bytes, as_default: bool, tmp_path: Path) -> None:
    file = tmp_path / ("default.yaml" if as_default else "p.yaml")
    file.write_bytes(raw)
    result = load_files([], file) if as_default else load_files([file], None)
    assert result.ok == (not any(d.is_error for d in result.diagnostics))
    for d in result.diagnostics:
        assert DIAGNOSTIC.match(str(d)), str(d)


def run_validate(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    capsys.readouterr()
    code = main(["validate"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def assert_clean_validate(code: int, out: list[str], err: str) -> None:
    # A traceback would be "xtap: internal error: ..." on stderr and exit 1: stderr must stay empty.
    assert err == ""
    assert out and SUMMARY.match(out[-1]), out
    assert code == (1 if " error" in out[-1] and not out[-1].startswith("0 errors") else 0), out
    for line in out[:-1]:
        assert DIAGNOSTIC.match(line), line


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AZURE_TENANT_ID", raising=False)
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    return tmp_path


@settings(FUZZ, max_examples=200)
@given(
    raw=yaml_ish, where=st.sampled_from(["policies/partners/p.yaml", "policies/default.yaml", "xtap.yaml"])
)
def test_validate_on_arbitrary_bytes_gives_located_lines(
    raw: bytes, where: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for stale in ("policies/partners/p.yaml", "policies/default.yaml", "xtap.yaml"):
        (repo / stale).unlink(missing_ok=True)
    (repo / where).write_bytes(raw)
    assert_clean_validate(*run_validate(capsys))


# --- (b) mutated example files -------------------------------------------------------------------------------

INSERTS = [b":", b": ", b"&a ", b"*a", b"!!python/object ", b"- ", b"[", b"{", b"'", b"\t", b"\x00", b"? "]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(EXAMPLES))
    lines = path.read_bytes().splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not lines:
            break
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "swap", "insert", "truncate"]))
        line = lines[i]
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "indent":
            lines[i] = b" " * draw(st.integers(min_value=1, max_value=4)) + line
        elif op == "dedent":
            lines[i] = line.lstrip(b" ")
        elif op == "swap" and len(line) > 2:
            j = draw(st.integers(min_value=0, max_value=len(line) - 2))
            lines[i] = line[:j] + line[j + 1 : j + 2] + line[j : j + 1] + line[j + 2 :]
        elif op == "insert":
            j = draw(st.integers(min_value=0, max_value=len(line)))
            lines[i] = line[:j] + draw(st.sampled_from(INSERTS)) + line[j:]
        elif op == "truncate":
            lines[i] = line[: draw(st.integers(min_value=0, max_value=len(line)))]
    return path.name, b"".join(lines)


@settings(FUZZ, max_examples=400)
@given(case=mutated())
def test_validate_on_mutated_examples_gives_located_lines(
    case: tuple[str, bytes], repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, raw = case
    for old in (repo / "policies" / "partners").iterdir():
        old.unlink()
    (repo / "policies" / "partners" / name).write_bytes(raw)
    code, out, err = run_validate(capsys)
    event(f"exit {code}")
    assert_clean_validate(code, out, err)
    # Every diagnostic names the one file there is.
    assert all(line.startswith(f"policies/partners/{name}") for line in out[:-1])


def test_an_unmutated_example_is_valid(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The mutation property would pass on an always-failing validate too: the baseline must be valid.
    (repo / "policies" / "partners" / EXAMPLES[0].name).write_bytes(EXAMPLES[0].read_bytes())
    assert run_validate(capsys) == (0, ["1 file valid"], "")


# --- (c) the planner on whole tenants ------------------------------------------------------------------------

TENANTS = [
    "90e29127-71ad-49c7-9ce8-db3f41ea06f1",
    "9c5d131d-b1c3-4fc4-9e3f-c6557947d551",
    "123f4846-ba00-4fd7-ba43-dac1f8f63013",
]
PARTNER = metadata.PARTNER_TYPE
DEFAULT = metadata.DEFAULT_TYPE
SYNC = metadata.SYNC_TYPE

consent = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {}, optional={k: st.sampled_from([None, True, False]) for k in ("inboundAllowed", "outboundAllowed")}
    ),
)
partner_props = st.fixed_dictionaries(
    {},
    optional={
        "b2bCollaborationInbound": b2b_settings,
        "b2bDirectConnectInbound": b2b_settings,
        "tenantRestrictions": b2b_settings,
        "inboundTrust": trust,
        "automaticUserConsentSettings": consent,
    },
)
sync_policy = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "displayName": st.one_of(st.none(), st.sampled_from(["Fabrikam sync", "x"])),
            "userSyncInbound": st.one_of(
                st.none(), st.fixed_dictionaries({"isSyncAllowed": st.sampled_from([True, False])})
            ),
        },
    ),
)
providers = ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"]
redemption = st.fixed_dictionaries(
    {
        "primaryIdentityProviderPrecedenceOrder": st.permutations(providers),
        "fallbackIdentityProvider": st.sampled_from(["defaultConfiguredIdp", "emailOneTimePasscode"]),
    }
)
# The default configuration always has a value (there is nothing for it to inherit from).
some_b2b = st.fixed_dictionaries(
    {}, optional={"usersAndGroups": target_configs, "applications": target_configs}
)
some_trust = st.fixed_dictionaries(
    {},
    optional={
        k: booleans
        for k in ("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted")
    },
)
default_values = {
    "b2bCollaborationInbound": some_b2b,
    "b2bCollaborationOutbound": some_b2b,
    "inboundTrust": some_trust,
    "invitationRedemptionIdentityProviderConfiguration": redemption,
}
default_props = st.fixed_dictionaries({}, optional=default_values)
ignorable = st.frozensets(
    st.sampled_from(["inboundTrust", "tenantRestrictions", model.SYNC_PROPERTY]), max_size=2
)


@st.composite
def tenants(draw: st.DrawFn) -> tuple[DesiredState, LiveState, PlanOptions]:
    wanted = draw(st.lists(st.sampled_from(TENANTS), unique=True))
    present = draw(st.lists(st.sampled_from(TENANTS), unique=True))
    partners = {
        tid: desired(tid, draw(partner_props), draw(sync_policy), ignore=draw(ignorable)) for tid in wanted
    }
    live_partners = []
    for tid in present:
        raw = fresh(tid, isInMultiTenantOrganization=draw(st.booleans()), **draw(partner_props))
        sync = draw(sync_policy)
        live_partners.append(LivePartner(tid, raw, {"tenantId": tid, **sync} if sync is not None else None))
    want_default = draw(st.one_of(st.none(), default_props))
    have_default = draw(st.fixed_dictionaries(default_values))
    state = DesiredState(
        partners,
        DesiredDefault(want_default, SourceRef("policies/default.yaml"))
        if want_default is not None
        else None,
    )
    options = PlanOptions(prune=draw(st.booleans()), ignore=draw(ignorable), force=True)
    return state, LiveState({p.tenant_id: p for p in live_partners}, have_default), options


DEFAULT_URL = urls.DEFAULT
PARTNERS_URL = urls.PARTNERS


def simulate(live: LiveState, requests: Any, *, merge: bool) -> LiveState:
    """Graph receiving the plan's requests in order, under merge (OData) or replace PATCH semantics."""
    partners = {
        tid: (dict(p.raw), dict(p.sync) if p.sync is not None else None) for tid, p in live.partners.items()
    }
    default = dict(live.default or {})
    for r in requests:
        body = dict(r.body) if r.body is not None else {}
        parts = r.url.removeprefix(PARTNERS_URL).strip("/").split("/")
        if r.url == DEFAULT_URL:
            assert r.method == "PATCH"
            default = apply_locally(default, body, merge=merge)
        elif r.url == PARTNERS_URL:
            assert r.method == "POST" and body["tenantId"] not in partners
            partners[body["tenantId"]] = (fresh(body["tenantId"], **body), None)
        elif len(parts) == 1:
            raw, sync = partners[parts[0]]
            if r.method == "DELETE":
                assert sync is None, "Graph refuses to delete a partner that has a sync policy"
                del partners[parts[0]]
            else:
                partners[parts[0]] = (apply_locally(raw, body, merge=merge), sync)
        else:
            assert parts[1] == model.SYNC_PROPERTY
            raw, sync = partners[parts[0]]
            if r.method == "PUT":
                sync = {"tenantId": parts[0], **body}
            elif r.method == "PATCH":
                assert sync is not None
                sync = apply_locally(sync, body, merge=merge)
            else:
                sync = None
            partners[parts[0]] = (raw, sync)
    return LiveState({tid: LivePartner(tid, raw, sync) for tid, (raw, sync) in partners.items()}, default)


def assert_minimal(state: DesiredState, live: LiveState, options: PlanOptions, requests: Any) -> None:
    """Each PATCH holds only top-level properties that differ; a POST only non-null desired ones that the
    Create page documents, the PATCH after it the rest; no body holds a null below its top level."""
    for r in requests:
        body = dict(r.body) if r.body is not None else {}
        assert not any(_nested_null(v) for v in body.values()), body
        tid = r.url.removeprefix(PARTNERS_URL).strip("/").split("/")[0]
        if r.method == "POST":
            want = state.partners[body["tenantId"]]
            assert all(v is not None for v in body.values())
            assert set(body) - {"tenantId"} <= set(want.properties) & POST_PROPERTIES
        elif r.method == "PATCH" and r.url == urls.partner(tid) and tid not in live.partners:
            # the rest of a new partner, after its POST
            assert r.depends_on and all(v is not None for v in body.values())
            assert set(body) <= set(state.partners[tid].properties) - POST_PROPERTIES
        elif r.method == "PATCH" and r.url == DEFAULT_URL:
            assert state.default is not None and live.default is not None
            for name in body:
                assert name in state.default.properties and name not in options.ignore
                assert not model.equal(DEFAULT, name, state.default.properties[name], live.default.get(name))
        elif r.method == "PATCH" and r.url.endswith(model.SYNC_PROPERTY):
            want_sync, have_sync = state.partners[tid].sync, live.partners[tid].sync
            assert want_sync is not None and have_sync is not None
            for name in body:
                assert not model.equal(SYNC, name, want_sync.get(name), have_sync.get(name))
        elif r.method == "PATCH":
            want = state.partners[tid]
            for name in body:
                assert name not in options.ignore | want.ignore
                assert not model.equal(
                    PARTNER, name, want.properties.get(name), live.partners[tid].raw.get(name)
                )


def _nested_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or _nested_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_nested_null(v) for v in value)
    return False


@settings(FUZZ, max_examples=400)
@given(case=tenants(), merge=st.booleans())
def test_plan_apply_plan_is_empty_for_whole_tenants(
    case: tuple[DesiredState, LiveState, PlanOptions], merge: bool
) -> None:
    state, live, options = case
    plan = make_plan(state, live, options)
    for r in plan.requests:  # shown by --hypothesis-show-statistics: every kind of request is exercised
        kind = (
            "default"
            if r.url == DEFAULT_URL
            else "sync"
            if r.url.endswith(model.SYNC_PROPERTY)
            else "partner"
        )
        event(f"{r.method} {kind}")
    assert_minimal(state, live, options, plan.requests)
    after = simulate(live, plan.requests, merge=merge)
    again = make_plan(state, after, options)
    assert again.requests == (), [(r.method, r.url, r.body) for r in again.requests]
