"""`xtap validate`, run in-process: output lines, summary, exit codes, GitHub annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.support import REPO

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
CONTOSO = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AZURE_TENANT_ID", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_example_repository_is_valid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("AZURE_TENANT_ID", raising=False)
    code, out, err = run(capsys)
    assert (code, out, err) == (0, ["6 files valid"], "")


def test_every_problem_in_one_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "policies/partners/a.yaml", f"tenantId: {FABRIKAM}\nb2BCollaborationInbound: null\n")
    write(
        repo / "policies/partners/b.yaml",
        f"tenantId: {FABRIKAM}\ninboundTrust: {{isMfaAccepted: yes, isCompliantDeviceAccepted: null, isHybridAzureADJoinedDeviceAccepted: null}}\n",
    )
    write(repo / "policies/partners/c.yaml", f"tenantId: {CONTOSO}\n")
    write(
        repo / "policies/default.yaml",
        "b2bCollaborationInbound:\n  usersAndGroups: {accessType: allowed, targets: [{target: AllUsers, targetType: user}]}\n",
    )
    code, out, err = run(capsys)
    assert code == 1
    assert err == ""
    assert out == [
        "policies/partners/a.yaml:2:1: error: unknown property 'b2BCollaborationInbound'; "
        "did you mean 'b2bCollaborationInbound'? (names are case-sensitive)",
        f"policies/partners/b.yaml:1:11: error: tenantId {FABRIKAM} is also declared in policies/partners/a.yaml:1:11",
        "policies/partners/b.yaml:2:31: error: expected a boolean (true/false), got the string 'yes'; write true or false",
        "3 errors, 0 warnings in 4 files",
    ]


def test_warnings_alone_exit_zero(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        repo / "policies/partners/w.yaml",
        f"tenantId: {FABRIKAM}\nignore: [inboundTrust]\ninboundTrust: null\n",
    )
    code, out, _ = run(capsys)
    assert code == 0
    assert out == [
        "policies/partners/w.yaml:3:1: warning: 'inboundTrust' is listed in ignore, so this value is not applied",
        "0 errors, 1 warning in 1 file",
    ]


def test_explicit_files_and_folders(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "one.yaml", f"tenantId: {FABRIKAM}\n")
    write(repo / "two.yml", f"tenantId: {CONTOSO}\n")
    write(repo / "other/partners/x.yaml", "tenantId: x\n")
    write(repo / "notes.txt", "hello\n")
    code, out, _ = run(capsys, "one.yaml", "two.yml", "other", "notes.txt", "missing.yaml")
    assert code == 1
    assert out == [
        "notes.txt: error: not a YAML file (.yaml or .yml)",
        "missing.yaml: error: no such file or folder",
        f"other/partners/x.yaml:1:11: error: tenantId must be a GUID (like {FABRIKAM}), got 'x'",
        "3 errors, 0 warnings in 3 files",
    ]


def test_explicit_default_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "policies/default.yaml", "tenantId: x\n")
    code, out, _ = run(capsys, "policies/default.yaml")
    assert code == 1
    assert out == [
        "policies/default.yaml:1:1: error: 'tenantId' does not belong in default.yaml: the default configuration has no tenant",
        "1 error, 0 warnings in 1 file",
    ]


def test_config_is_validated_with_the_policies(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        repo / "xtap.yaml",
        f"tenants:\n  prod: {{tenantId: {FABRIKAM}, cloud: Global}}\n  gov: {{tenantId: {CONTOSO}, policies: gov}}\n",
    )
    write(repo / "policies/partners/self.yaml", f"tenantId: {FABRIKAM}\n")
    write(repo / "gov/partners/ok.yaml", f"tenantId: {FABRIKAM}\n")
    code, out, _ = run(capsys)
    assert code == 1
    assert out == [
        "xtap.yaml:2:65: error: cloud must be one of global, usgov, usgovdod, china, got 'Global'; "
        "did you mean 'global'?",
        f"policies/partners/self.yaml:1:11: error: tenantId {FABRIKAM} is the home tenant itself; "
        "a tenant cannot be its own partner",
        "2 errors, 0 warnings in 3 files",
    ]
    code, out, _ = run(capsys, "--tenant", "gov")
    assert out[-1] == "1 error, 0 warnings in 2 files"
    code, out, err = run(capsys, "--tenant", "nope")
    assert (code, out, err) == (
        1,
        [],
        "xtap: error: no tenant named 'nope' in xtap.yaml (one of: prod, gov)\n",
    )


def test_explicit_config_option(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "conf/xtap.yaml", "tenants:\n  t: {policies: pol}\n")
    write(repo / "conf/pol/partners/p.yaml", f"tenantId: {FABRIKAM}\n")
    code, out, _ = run(capsys, "--config", "conf/xtap.yaml")
    assert (code, out) == (0, ["2 files valid"])


def test_github_format(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        repo / "policies/partners/a,b.yaml",
        f"tenantId: {FABRIKAM}\ninboundTrust: {{isMfaAccepted: on, isCompliantDeviceAccepted: null, isHybridAzureADJoinedDeviceAccepted: null}}\n",
    )
    write(
        repo / "policies/partners/w.yaml",
        f"tenantId: {CONTOSO}\nignore: [inboundTrust]\ninboundTrust: null\n",
    )
    code, out, _ = run(capsys, "--format", "github")
    assert code == 1
    assert out == [
        "::error file=policies/partners/a%2Cb.yaml,line=2,col=31::expected a boolean (true/false), got the string 'on'; write true or false",
        "::warning file=policies/partners/w.yaml,line=3,col=1::'inboundTrust' is listed in ignore, so this value is not applied",
        "1 error, 1 warning in 2 files",
    ]


def test_no_policies_folder(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert (code, out) == (
        1,
        ["policies: error: policies folder not found", "1 error, 0 warnings in 0 files"],
    )


def test_hostile_input_never_gives_a_traceback(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    partners = repo / "policies/partners"
    partners.mkdir(parents=True)
    (partners / "bytes.yaml").write_bytes(bytes(range(256)))
    (partners / "deep.yaml").write_bytes(b"{" * 100_000)
    (partners / "laughs.yaml").write_bytes(b"a: &a [x]\nb: [*a, *a]\n" + b"c: !!binary aGk=\n")
    (partners / "dir.yaml").mkdir()
    code, out, err = run(capsys)
    assert code == 1
    assert err == ""
    assert all(": error: " in line for line in out[:-1])
    assert out[-1].endswith("in 3 files")
