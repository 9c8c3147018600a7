"""Export's last line names the exact `xtap plan` for what it wrote, and only when that plan is empty."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator
from tests.support.e2e import use_emulator, write_policies, xtap

NEW = "0b5e1f2a-3c4d-4e5f-8a6b-7c8d9e0f1a2b"  # declared in a file, absent from the tenant


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        use_emulator(monkeypatch, emu, app="reader")
        monkeypatch.chdir(tmp_path)
        yield emu


def next_line(out: str) -> str:
    return out.splitlines()[-1]


def run_next(capsys: Any, out: str) -> tuple[int, str, str]:
    """Run the command the Next: line names, as the user would paste it."""
    command = next_line(out).removeprefix("Next: `").removesuffix("` shows no changes; commit the files.")
    words = shlex.split(command)
    assert words[:2] == ["xtap", "plan"]
    return xtap(capsys, *words[1:], "--detailed-exitcode")


def test_into_another_folder_the_next_command_names_it_and_plans_empty(demo: Emulator, capsys: Any) -> None:
    code, out, err = xtap(capsys, "export", "--out-dir", "adopt/new tenant")
    assert (code, err) == (0, "")
    assert next_line(out) == "Next: `xtap plan 'adopt/new tenant'` shows no changes; commit the files."
    code, out, err = run_next(capsys, out)
    assert (code, err) == (0, "")
    assert "No changes. The tenant matches the policy files." in out


def test_the_next_command_keeps_the_configuration_and_tenant(
    demo: Emulator, tmp_path: Path, capsys: Any
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "xtap.yaml").write_text(
        f"tenants:\n  main:\n    tenantId: {demo.tenant_id}\n    policies: main\n"
        "  other:\n    tenantId: 5e1a3b0c-1d2e-4f30-9a41-b2c3d4e5f607\n    policies: other\n",
        encoding="utf-8",
    )
    code, out, err = xtap(capsys, "export", "--config", "conf/xtap.yaml", "--tenant", "main")
    assert (code, err) == (0, "")
    assert next_line(out) == (
        "Next: `xtap plan --config conf/xtap.yaml --tenant main` shows no changes; commit the files."
    )
    assert run_next(capsys, out)[0] == 0
    code, out, err = xtap(
        capsys, "export", "--config", "conf/xtap.yaml", "--tenant", "main", "--out-dir", "x"
    )
    assert (code, err) == (0, "")
    assert next_line(out) == (
        "Next: `xtap plan --config conf/xtap.yaml --tenant main x` shows no changes; commit the files."
    )
    assert run_next(capsys, out)[0] == 0


def test_no_next_line_when_the_files_do_not_plan_empty(demo: Emulator, tmp_path: Path, capsys: Any) -> None:
    # A file export does not write stays in place; it declares a partner the tenant lacks.
    write_policies(tmp_path, {"zz-new": {"tenantId": NEW}})
    code, out, err = xtap(capsys, "export", "--force")
    assert code == 0
    assert err == (
        "xtap: warning: left in place (not written by this export): partners/zz-new.yaml; check them for "
        "duplicate tenantIds\n"
        "xtap: warning: the exported files do not plan empty: Plan: 1 to add, 0 to change, 0 to destroy.\n"
    )
    assert not [line for line in out.splitlines() if line.startswith("Next:")]
    assert next_line(out).endswith("Litware Inc.")
