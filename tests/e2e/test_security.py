"""Secrets never leave xtap: the canary over every command at -vv, GitHub Actions masking, static tokens,
failed sign-ins.

A distinctive client secret is registered on an emulator app; every access token the run obtains is
recorded by a spy on the credential (tokens are not journaled). Neither may appear in stdout, stderr, a
log record of any logger at DEBUG, or a file xtap writes. Under GITHUB_ACTIONS=true a token may appear
once per sign-in, and only as a whole stderr line `::add-mask::<token>`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main as cli
from reconciler.core.text import printable
from reconciler.emulator import App, Emulator
from reconciler.emulator.config import LOOKUP_ROLE, WRITE_ROLE
from reconciler.shell import console
from reconciler.shell.graph import auth
from reconciler.shell.graph.auth import credential_from_env
from tests.support.auth import make_certificate
from tests.support.builders import FAB, WOOD
from tests.support.e2e import use_emulator, write_policies, xtap

CANARY_SECRET = "canary-secret-7f3a9c1e-do-not-print"
CANARY_APP = "c4a7a1e5-0000-4000-8000-0000000ca9a7"
NEW_PARTNER = "5b0d9a7c-3f1e-4c2a-9d8b-7e6f5a4b3c2d"
SECOND_PARTNER = "6c1e0b8d-4a2f-4d3b-8e9c-8f7a6b5c4d3e"
TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": False,
    "isHybridAzureADJoinedDeviceAccepted": False,
}
BEARER = re.compile(r"Bearer\s+[\w-]+\.[\w-]+|authorization['\"]?\s*[:,=]\s*b?['\"]?\w", re.IGNORECASE)
THIRD_PARTY = ("httpx", "httpcore", "msal", "urllib3", "requests")


class Records(logging.Handler):
    """Every record of every logger, formatted with its arguments (where a secret would show)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()} {record.exc_text or ''}")


@dataclass
class Seen:
    """What the run showed (out/err/logs/files) and which tokens it obtained."""

    tokens: list[str] = field(default_factory=list)
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> Iterator[Records]:
    """All loggers at DEBUG, third-party ones included, after xtap has configured logging for a run."""
    handler = Records()
    configure = cli._configure_logging
    saved = {name: logging.getLogger(name).level for name in ("", "reconciler", *THIRD_PARTY)}
    reconciler = logging.getLogger("reconciler")
    saved_handlers, saved_propagate = list(reconciler.handlers), reconciler.propagate

    def configure_then_listen(verbosity: int) -> None:
        configure(verbosity)
        for name in ("reconciler", *THIRD_PARTY):
            logging.getLogger(name).setLevel(logging.DEBUG)
        if handler not in reconciler.handlers:
            reconciler.addHandler(handler)

    monkeypatch.setattr(cli, "_configure_logging", configure_then_listen)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    yield handler
    logging.getLogger().removeHandler(handler)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    reconciler.handlers[:], reconciler.propagate = saved_handlers, saved_propagate


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emulator:
        emulator.register_app(App(CANARY_APP, (WRITE_ROLE, LOOKUP_ROLE), CANARY_SECRET))
        yield emulator


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """A spy on every credential kind: the tokens it hands out, unchanged."""
    result = Seen()
    for cls in (auth.MsalCredential, auth.StaticTokenCredential):
        original = cls.get_token

        def spy(self: Any, _original: Any = original) -> str:
            token: str = _original(self)
            if token not in result.tokens:
                result.tokens.append(token)
            return token

        monkeypatch.setattr(cls, "get_token", spy)
    return result


def run(seen: Seen, capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    code, out, err = xtap(capsys, *argv, "-vv")
    seen.out.append(out)
    seen.err.append(err)
    return code


# Files the test writes itself from xtap's streams (already checked as streams), as the workflows do.
INPUTS = {"apply.txt", "plan.md", "issues.json"}


def read_outputs(root: Path, seen: Seen) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in INPUTS:
            seen.files[path.relative_to(root).as_posix()] = path.read_text("utf-8", errors="replace")


def every_command(
    emu: Emulator, root: Path, seen: Seen, capsys: pytest.CaptureFixture[str]
) -> dict[str, int]:
    """Every command but `emulator` (a server), in a CI-like order; `demo` runs its own emulator and app."""
    codes = {
        "tenants": run(seen, capsys, "tenants"),
        "export": run(seen, capsys, "export", "--out-dir", "policies"),
        "validate": run(seen, capsys, "validate"),
    }
    write_policies(root, {"new": {"tenantId": NEW_PARTNER, "inboundTrust": TRUST}})
    codes |= {
        "plan": run(seen, capsys, "plan"),
        "plan --format markdown --out": run(
            seen, capsys, "plan", "--format", "markdown", "--out", "plan.json"
        ),
        "plan --format json --out": run(seen, capsys, "plan", "--format", "json", "--out", "plan-2.json"),
        "plan --detailed-exitcode": run(seen, capsys, "plan", "--format", "markdown", "--detailed-exitcode"),
        "apply PLANFILE": run(seen, capsys, "apply", "--auto-approve", "plan.json"),
    }
    (root / "plan.md").write_text(seen.out[-2], encoding="utf-8")
    write_policies(root, {"second": {"tenantId": SECOND_PARTNER, "inboundTrust": TRUST}})
    codes["apply --auto-approve"] = run(seen, capsys, "apply", "--auto-approve")
    # As the apply workflow captures it (`2>&1 | tee apply.txt`): ::add-mask:: lines included.
    (root / "apply.txt").write_text(seen.out[-1] + seen.err[-1], encoding="utf-8")
    changed = dict(emu.get_partner(NEW_PARTNER) or {})
    changed["inboundTrust"] = {**TRUST, "isMfaAccepted": False}  # drift: someone edited it in the portal
    emu.put_partner(changed)
    codes |= {
        "drift --format json --out": run(seen, capsys, "drift", "--format", "json", "--out", "drift.json"),
        "drift --format markdown --out": run(
            seen, capsys, "drift", "--format", "markdown", "--out", "drift.md"
        ),
        "show": run(seen, capsys, "show", NEW_PARTNER),
    }
    # The workflow helpers turn those outputs into PR comments, issues and job summaries.
    (root / "issues.json").write_text("[]", encoding="utf-8")
    codes |= {
        "github plan-comment": run(
            seen,
            capsys,
            "github",
            "plan-comment",
            "--tenant",
            "default",
            "--plan",
            "plan.json",
            "--exit-code",
            "2",
            "--out",
            "comment.md",
        ),
        "github plan-summary": run(
            seen,
            capsys,
            "github",
            "plan-summary",
            "--tenant",
            "default",
            "--plan",
            "plan.json",
            "--exit-code",
            "2",
        ),
        "github drift-action": run(
            seen,
            capsys,
            "github",
            "drift-action",
            "--tenant",
            "default",
            "--issues",
            "issues.json",
            "--report",
            "drift.json",
            "--markdown",
            "drift.md",
            "--exit-code",
            "2",
            "--body-out",
            "issue.md",
            "--comment-out",
            "issue-comment.md",
        ),
        "github apply-summary": run(
            seen,
            capsys,
            "github",
            "apply-summary",
            "--tenant",
            "default",
            "--exit-code",
            "0",
            "--output",
            "apply.txt",
        ),
        "demo": run(seen, capsys, "demo"),
    }
    read_outputs(root, seen)
    return codes


EXPECTED_CODES = {
    "tenants": 0,
    "export": 0,
    "validate": 0,
    "plan": 0,
    "plan --format markdown --out": 0,
    "plan --format json --out": 0,
    "plan --detailed-exitcode": 2,
    "apply PLANFILE": 0,
    "apply --auto-approve": 0,
    "drift --format json --out": 2,
    "drift --format markdown --out": 2,
    "show": 0,
    "github plan-comment": 0,
    "github plan-summary": 0,
    "github drift-action": 0,
    "github apply-summary": 0,
    "demo": 0,
}


def secret_free(text: str, tokens: list[str]) -> list[str]:
    """The reasons `text` leaks something (empty when clean)."""
    leaks = []
    if CANARY_SECRET in text:
        leaks.append("the client secret")
    for token in tokens:
        signature = token.split(".")[-1]
        if token in text:
            leaks.append(f"token …{token[-8:]}")
        elif signature[:16] in text or signature[-16:] in text:
            leaks.append(f"part of the signature of token …{token[-8:]}")
    # A bearer credential in any spelling (a header line, a header tuple, a repr); `WWW-Authenticate:
    # Bearer realm=...` from Graph is not a credential and stays allowed.
    if BEARER.search(text) or "client_assertion=" in text:
        leaks.append("an Authorization header or assertion")
    return leaks


def reference_token(emu: Emulator) -> str:
    # A token for the same app, obtained outside the run: checked too, in case tokens were cached or shared.
    return credential_from_env(emu.env(App(CANARY_APP, client_secret=CANARY_SECRET))).get_token()


@pytest.mark.parametrize("github_actions", [False, True], ids=["local", "github-actions"])
def test_canary_every_command_at_vv(
    github_actions: bool,
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    records: Records,
    seen: Seen,
) -> None:
    use_emulator(monkeypatch, emu, app=App(CANARY_APP, client_secret=CANARY_SECRET))  # type: ignore[arg-type]
    if github_actions:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.chdir(tmp_path)
    codes = every_command(emu, tmp_path, seen, capsys)
    assert codes == EXPECTED_CODES
    obtained = list(seen.tokens)
    tokens = [*obtained, reference_token(emu)]
    assert len(obtained) >= 8  # each Graph command signs in once: the spy saw real tokens
    assert any("DEBUG" in line for line in records.lines)  # debug logging was on
    assert {"plan.json", "plan-2.json", "drift.json", "drift.md", "comment.md", "issue.md"} <= set(seen.files)
    assert any(name.startswith("policies/partners/") for name in seen.files)

    leaks = {
        "stdout": secret_free("\n".join(seen.out), tokens),
        "log records": secret_free("\n".join(records.lines), tokens),
        **{name: secret_free(text, tokens) for name, text in seen.files.items()},
    }
    masks = [line for err in seen.err for line in err.splitlines() if line.startswith("::add-mask::")]
    other_stderr = "\n".join(
        line for err in seen.err for line in err.splitlines() if not line.startswith("::add-mask::")
    )
    leaks["stderr"] = secret_free(other_stderr, tokens)
    assert {where: what for where, what in leaks.items() if what} == {}
    if github_actions:
        # One mask line per token obtained, the whole token, nothing else on the line, before any use.
        assert masks == [f"::add-mask::{t}" for t in obtained]
        # And no other line of any command is a workflow command.
        assert [workflow_command_lines(text) for text in (*seen.out, *seen.err)] == [[]] * len(seen.out) * 2
    else:
        assert masks == []


def test_static_token_is_never_shown_and_masked_under_github_actions(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    records: Records,
    seen: Seen,
) -> None:
    token = reference_token(emu)
    use_emulator(monkeypatch, emu)
    for key in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", token)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {"new": {"tenantId": NEW_PARTNER, "inboundTrust": TRUST}})
    assert run(seen, capsys, "plan", "--out", "plan.json") == 0
    assert run(seen, capsys, "drift", "--format", "json", "--out", "drift.json") == 2
    read_outputs(tmp_path, seen)
    assert seen.tokens == [token]
    err_lines = [line for err in seen.err for line in err.splitlines()]
    assert [line for line in err_lines if token in line] == [f"::add-mask::{token}"] * 2  # once per run
    rest = [line for line in err_lines if token not in line]
    text = "\n".join([*seen.out, *rest, *records.lines, *seen.files.values()])
    assert secret_free(text, [token]) == []


def test_failed_sign_in_names_the_msal_error_and_correlation_id_not_the_secret(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    records: Records,
    seen: Seen,
) -> None:
    wrong = "canary-wrong-secret-" + uuid.uuid4().hex
    use_emulator(monkeypatch, emu, app=App(CANARY_APP, client_secret=wrong))  # type: ignore[arg-type]
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {"new": {"tenantId": NEW_PARTNER}})
    for command in (["plan"], ["drift"], ["apply", "--auto-approve"], ["show", NEW_PARTNER]):
        code, out, err = xtap(capsys, *command, "-vv")
        assert (code, out) == (1, "")
        last = err.splitlines()[-1]
        assert last.startswith(
            f"xtap: error: sign-in failed for app {CANARY_APP} at {emu.url}/{emu.tenant_id} (client secret): "
            "invalid_client: AADSTS7000215: "
        ), last
        assert "(correlation_id " in last
        assert wrong not in err and CANARY_SECRET not in err
        assert "Traceback" not in err
    assert seen.tokens == []
    assert all(wrong not in line for line in records.lines)


@pytest.mark.parametrize("form", ["pem", "pfx"])
def test_a_wrong_certificate_password_is_not_shown(
    form: str,
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    records: Records,
) -> None:
    cert = make_certificate()
    app = emu.register_app(App(str(uuid.uuid4()), (WRITE_ROLE,), certificate_pem=cert.cert_pem.decode()))
    right, wrong = "canary-pfx-password-right", "canary-pfx-password-wrong"
    path = (
        cert.write_pfx(tmp_path / "c.pfx", right)
        if form == "pfx"
        else cert.write_pem(tmp_path / "c.pem", right)
    )
    use_emulator(monkeypatch, emu, app=app)  # type: ignore[arg-type]
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", str(path))
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PASSWORD", wrong)
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {"new": {"tenantId": NEW_PARTNER}})
    code, out, err = xtap(capsys, "plan", "-vv")
    assert (code, out) == (1, "")
    assert err.startswith("xtap: error: ") and str(path) in err, err
    assert "internal error" not in err and "Traceback" not in err
    text = "\n".join([err, *records.lines])
    assert right not in text and wrong not in text
    assert emu.journal == []  # the certificate is read before anything is sent


def test_a_refused_static_token_names_the_variable_not_the_token(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    records: Records,
) -> None:
    token = reference_token(emu)
    emu.expire_tokens()
    use_emulator(monkeypatch, emu)
    for key in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", token)
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {"new": {"tenantId": NEW_PARTNER}})
    code, out, err = xtap(capsys, "drift", "-vv")
    assert (code, out) == (1, "")
    assert err.splitlines()[-1].startswith("xtap: error: Graph refused the token in XTAP_ACCESS_TOKEN (401)")
    assert secret_free("\n".join([err, *records.lines]), [token]) == []


# --- files outside the repository (each found by this suite, then fixed in src/) -----------------------
# A pull request controls the files `xtap plan` reads in CI. Error messages quote values ("got '…'"), so a
# file outside the repository that xtap agrees to read ends up in the run log and the plan comment.


def test_an_xtap_yaml_linked_outside_the_repository_is_refused_unread(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "runner-home" / ".env"
    outside.parent.mkdir()
    outside.write_text(f"AZURE_CLIENT_SECRET={CANARY_SECRET}\n", encoding="utf-8")
    repo = tmp_path / "repo"
    write_policies(repo, {"new": {"tenantId": NEW_PARTNER}})
    (repo / "xtap.yaml").symlink_to(outside)
    use_emulator(monkeypatch, emu)
    monkeypatch.chdir(repo)
    code, out, err = xtap(capsys, "plan")
    assert (code, out) == (1, "")
    assert CANARY_SECRET not in err
    assert err.startswith("xtap: error: xtap.yaml: symbolic link leads outside"), err
    assert emu.journal == []


def test_an_implicit_policies_folder_linked_outside_the_repository_is_refused(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "partners").mkdir(parents=True)
    (outside / "partners" / "a.yaml").write_text(f"tenantId: {CANARY_SECRET}\n", encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "policies").symlink_to(outside)
    use_emulator(monkeypatch, emu)
    monkeypatch.chdir(repo)
    code, out, err = xtap(capsys, "plan")
    assert (code, out) == (1, "")
    assert CANARY_SECRET not in err
    assert err.startswith("xtap: error: policies: symbolic link leads outside"), err
    assert emu.journal == []


# --- injection: text from files and Graph cannot act on a terminal or a CI runner (issue #12) ----------------
# The Actions runner acts on `::command::` at the start of a line (after whitespace) and on `##[command]`
# anywhere in one, on stdout and stderr alike; a line break in a value would start such a line, an ESC
# drives the terminal, U+202E reorders what a reviewer reads.

EVIL = "line1\n::stop-commands::pwned\r\n##[set-output name=x]y\x1b[31m\u202e\x9b"
SYNC_GOOD = {"displayName": "Good", "userSyncInbound": {"isSyncAllowed": True}}


def workflow_command_lines(text: str) -> list[str]:
    """The lines of `text` a runner would read as a workflow command (both forms), masks excepted."""
    found = []
    for line in re.split(r"\r\n|\r|\n", text):
        if re.match(r"::add-mask::[^:]*$", line):
            continue
        if line.lstrip().startswith("::") or "##[" in line:
            found.append(line)
    return found


def raw_controls(text: str) -> list[str]:
    """Characters that act instead of being read (line breaks are the text's own)."""
    return sorted({c for c in text if c in "\x1b\x9b\u202e\u2028\x00" or (c == "\r")})


@pytest.fixture
def hostile(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A tenant and files that carry EVIL: a sync displayName in Graph, a description in a file, Graph's
    error message for a write, a portal-made partner whose sync policy has it too."""
    use_emulator(monkeypatch, emu)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.chdir(tmp_path)
    emu.set_sync(FAB, {"displayName": EVIL, "userSyncInbound": {"isSyncAllowed": True}})
    emu.put_partner({"tenantId": SECOND_PARTNER})
    emu.set_sync(SECOND_PARTNER, {"displayName": EVIL, "userSyncInbound": {"isSyncAllowed": False}})
    emu.reject_writes(NEW_PARTNER, message=EVIL)
    write_policies(
        tmp_path,
        {
            "fabrikam": {"tenantId": FAB, "description": EVIL, "identitySynchronization": SYNC_GOOD},
            "new": {"tenantId": NEW_PARTNER, "description": EVIL, "inboundTrust": TRUST},
        },
    )
    return emu


SHOWN = printable(EVIL)  # as a terminal shows it: line1\n::stop-commands::pwned\r\n##[set-output …
IN_LOG = SHOWN.replace("##[", "##\\x5b")  # and under Actions, where `##[` would be a command


def test_a_sync_display_name_and_error_message_with_newlines_and_commands_are_escaped_in_every_format(
    hostile: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = {
        "plan": xtap(capsys, "plan"),
        "plan md": xtap(capsys, "plan", "--format", "markdown"),
        "plan json": xtap(capsys, "plan", "--format", "json", "--out", "plan.json"),
        "drift": xtap(capsys, "drift", "--format", "text", "-v"),
        "drift md": xtap(capsys, "drift", "--format", "markdown", "--out", "drift.md"),
        "drift json": xtap(capsys, "drift", "--format", "json", "--out", "drift.json"),
        "show": xtap(capsys, "show", FAB),
        "show json": xtap(capsys, "show", FAB, "--format", "json"),
        "apply": xtap(capsys, "apply", "--auto-approve"),
    }
    assert {name: code for name, (code, _, _) in runs.items()} == {
        "plan": 0,
        "plan md": 0,
        "plan json": 0,
        "drift": 2,
        "drift md": 2,
        "drift json": 2,
        "show": 0,
        "show json": 0,
        "apply": 1,  # Graph refuses the new partner, with EVIL as its message
    }
    files = {name: (tmp_path / name).read_text("utf-8") for name in ("plan.json", "drift.json", "drift.md")}
    everything = {
        **{
            f"{name} {stream}": text
            for name, run in runs.items()
            for stream, text in zip(("out", "err"), run[1:], strict=True)
        },
        **files,
    }
    assert {k: workflow_command_lines(v) for k, v in everything.items() if workflow_command_lines(v)} == {}
    assert {k: raw_controls(v) for k, v in everything.items() if raw_controls(v)} == {}
    # Shown, not hidden: each format says what the value is, in its own escaping.
    assert f"      ~ identitySynchronization.displayName: {IN_LOG} → Good\n" in runs["plan"][1]
    assert (
        f"      ~ identitySynchronization.displayName: {IN_LOG} in the tenant, Good in the file\n"
        in runs["drift"][1]
    )
    assert f"  identitySynchronization.displayName                    {IN_LOG}  set\n" in runs["show"][1]
    refused = (
        f"Graph refused POST /policies/crossTenantAccessPolicy/partners: 400 Request_BadRequest: {IN_LOG} ("
    )
    assert f"  failed: create partner {NEW_PARTNER}: {refused}" in runs["apply"][1]
    assert f"failed: create partner:{NEW_PARTNER}: {refused}" in runs["apply"][2]  # the log line
    md_value = "line1&#92;n::stop-commands::pwned&#92;r&#92;n##&#91;set-output name=x]y&#92;x1b&#91;31m&#92;u202e&#92;x9b"
    # The plan comment shows it in a diff block (literal text there), made printable like the terminal's.
    assert (
        f"- identitySynchronization.displayName: {IN_LOG}\n+ identitySynchronization.displayName: Good\n"
        in runs["plan md"][1]
    )
    assert (
        f"| <code>identitySynchronization.displayName</code> | <code>Good</code> | <code>{md_value}</code> |"
        in files["drift.md"]
    )
    # JSON keeps the value exactly: only its spelling is escaped.
    plan = json.loads(runs["plan json"][1])
    diffs = [d for c in plan["changes"] for d in c["diffs"]]
    assert {"path": "identitySynchronization.displayName", "before": EVIL, "after": "Good"} in diffs
    assert json.loads(files["plan.json"]) == plan
    report = json.loads(files["drift.json"])
    assert [i["live"] for i in report["items"] if i["path"] == "identitySynchronization.displayName"] == [
        EVIL
    ]
    settings = json.loads(runs["show json"][1])["settings"]
    assert {"path": "identitySynchronization.displayName", "value": EVIL, "origin": "partner"} in settings


def test_under_github_actions_no_command_prints_a_workflow_command_line_but_its_masks(
    hostile: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A policy file whose *name* injects a command (the loader may refuse the name; it is printed either way).
    named = tmp_path / "policies" / "partners" / "a\n::stop-commands::tok\r##[add-mask]x.yaml"
    named.write_text(f"tenantId: {WOOD}\n", encoding="utf-8")
    (tmp_path / "issues.json").write_text("[]", encoding="utf-8")
    token = reference_token(hostile)
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", token)
    printed: dict[str, str] = {}
    for argv in (
        ["validate"],
        ["validate", "--format", "github"],
        ["tenants"],
        ["plan", "--out", "plan.json"],
        ["plan", "--format", "markdown"],
        ["plan", "--format", "json"],
        ["drift", "--format", "text", "-v", "--out", "drift.json", "--out", "drift.md"],
        ["drift"],
        ["show", FAB],
        ["apply", "--auto-approve"],
        ["export", "--out-dir", "exported"],
        ["github", "plan-comment", "--tenant", "default", "--plan", "plan.json", "--exit-code", "2"],
        ["github", "plan-summary", "--tenant", "default", "--plan", "plan.json", "--exit-code", "2"],
        [
            "github",
            "drift-action",
            "--tenant",
            "default",
            "--issues",
            "issues.json",
            "--report",
            "drift.json",
            "--markdown",
            "drift.md",
            "--body-out",
            "issue.md",
        ],
    ):
        code, out, err = xtap(capsys, *argv, "-vv")
        printed[" ".join(argv)] = out + err
        # The token is masked before anything derived from the files or Graph is printed.
        assert err.startswith(f"::add-mask::{token}\n"), (argv, err[:200])
        assert err.count(f"::add-mask::{token}") == 1, argv
        assert "Traceback" not in err and code in (0, 1, 2), (argv, code, err[-500:])
    # A file name with a control character is a validation error: every command stops before it writes.
    written = [n for n in ("issue.md", "plan.json", "drift.md", "drift.json") if (tmp_path / n).exists()]
    assert written == []
    commands = {k: workflow_command_lines(v) for k, v in printed.items() if workflow_command_lines(v)}
    # The one command xtap writes itself: the annotation of the refused name, every part of it escaped.
    assert commands.pop("validate --format github") == [
        "::error file=policies/partners/a\\n%3A%3Astop-commands%3A%3Atok\\r##\\x5badd-mask]x.yaml::"
        "the name has a control character (shown escaped); rename it"
    ]
    assert commands == {}
    assert {k: raw_controls(v) for k, v in printed.items() if raw_controls(v)} == {}
    # Named, escaped: a file name with a control character is a validation error.
    assert "a\\n::stop-commands::tok\\r##\\x5badd-mask]x" in printed["plan --out plan.json"]


def test_a_workflow_command_that_xtap_did_not_write_is_neutralized_on_both_streams(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The guard itself, for text that escaped every other check (written in pieces, as print does)."""
    with console.guarded({"GITHUB_ACTIONS": "true", "XTAP_ACCESS_TOKEN": "tok"}):
        sys.stdout.write("  :")
        sys.stdout.flush()
        sys.stdout.write(":stop-commands::x\nok ##")
        sys.stdout.write("[set-output name=a]b\n")
        print("::error::forged", file=sys.stderr)
        console.write_command(sys.stdout, "::notice::ours")
        console.add_mask(sys.stderr, "tok")  # already masked on entry: not again
    out, err = capsys.readouterr()
    assert out == "  :\\x3astop-commands::x\nok ##\\x5bset-output name=a]b\n::notice::ours\n"
    assert err == "::add-mask::tok\n:\\x3aerror::forged\n"
    with console.guarded({"GITHUB_ACTIONS": "true"}):
        sys.stdout.write("a clean report\n  :")  # passed on whole: nothing in it to neutralize …
        sys.stdout.write(":stop-commands::y\rok\n")  # … but the line it left open is still watched
        sys.stdout.write("x\n\u3000::z\n##[w]\n")
    assert capsys.readouterr().out == (
        "a clean report\n  :\\x3astop-commands::y\rok\nx\n\u3000:\\x3az\n##\\x5bw]\n"
    )
    with console.guarded({}):  # not under Actions: nothing changes
        print("::error::local")
    assert capsys.readouterr().out == "::error::local\n"


def test_no_output_is_written_through_a_link_a_pull_request_could_plant(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_emulator(monkeypatch, emu)
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {"new": {"tenantId": NEW_PARTNER, "inboundTrust": TRUST}})
    victim = tmp_path / "runner-home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("keep me\n", encoding="utf-8")
    for name in ("plan.json", "drift.md", "comment.md"):
        (tmp_path / name).symlink_to(victim)
    refused = "xtap: error: cannot write {}: it is a symbolic link (remove it, or write elsewhere)\n"
    assert xtap(capsys, "plan", "--out", "plan.json")[::2] == (1, refused.format("plan.json"))
    assert xtap(capsys, "drift", "--out", "drift.md")[::2] == (1, refused.format("drift.md"))
    # Exit 1 (a failed plan): the comment says so without reading a plan, and is refused all the same.
    argv = ["github", "plan-comment", "--tenant", "default", "--plan", "none.json", "--exit-code", "1"]
    assert xtap(capsys, *argv, "--out", "comment.md")[::2] == (1, refused.format("comment.md"))
    exported = tmp_path / "exported" / "partners"
    exported.mkdir(parents=True)
    (exported / "fabrikam-inc.yaml").symlink_to(victim)
    code, _, err = xtap(capsys, "export", "--out-dir", "exported", "--force")
    assert (code, err) == (1, refused.format("exported/partners/fabrikam-inc.yaml"))
    assert victim.read_text(encoding="utf-8") == "keep me\n"
