"""shell.files.write_output: outputs are written whole or not at all, and never through a link."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconciler.core.errors import XtapError
from reconciler.shell import files
from reconciler.shell.files import write_output
from tests.support import REPO


def test_writes_the_text_and_replaces_an_older_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "plan.json"
    target.write_text("old\n", encoding="utf-8")
    write_output("plan.json", "new ✓\n")
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # no temporary file left


def test_the_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_output(tmp_path / "out.md", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.md").stat().st_mode & 0o777 == 0o644


def test_a_link_at_the_path_is_refused_and_what_it_points_at_is_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    (tmp_path / "plan.json").symlink_to(victim)
    (tmp_path / "dangling.json").symlink_to(tmp_path / "nowhere" / "x")
    for name in ("plan.json", "dangling.json"):
        with pytest.raises(XtapError) as caught:
            write_output(name, "attack\n")
        assert (
            str(caught.value) == f"cannot write {name}: it is a symbolic link (remove it, or write elsewhere)"
        )
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_or_an_unwritable_place_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    with pytest.raises(XtapError, match=r"^cannot write out: it is a folder$"):
        write_output("out", "x")
    with pytest.raises(XtapError, match=r"^cannot write missing/plan\.json: No such file or directory$"):
        write_output("missing/plan.json", "x")


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary_one(
    failure: BaseException, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "drift.md"
    target.write_text("the previous report\n", encoding="utf-8")

    def fail(fd: int) -> None:
        raise failure

    monkeypatch.setattr(files.os, "fsync", fail)
    expected = XtapError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        write_output(target, "x" * 100_000)
    assert target.read_text(encoding="utf-8") == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift.md"]


def test_a_run_killed_while_writing_never_leaves_half_a_file(tmp_path: Path) -> None:
    """SIGKILL (no cleanup possible) while the new text is being written: the old file stays whole."""
    target = tmp_path / "plan.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    child = textwrap.dedent(
        f"""
        import os, sys, time
        from reconciler.shell import files
        def stall(fd):
            print("writing", flush=True)
            time.sleep(60)
        files.os.fsync = stall
        files.write_output({str(target)!r}, "x" * 5_000_000)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ}
    )
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "plan.json"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".plan.json.") and leftovers[0].endswith(".tmp")
