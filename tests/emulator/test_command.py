"""`xtap emulator` as a user runs it: a process of its own, its env file `source`d in bash (or read with
`set -a`), a portal change through `xtap emulator set/delete`, seen by `xtap drift`; SIGINT and SIGTERM
stop it cleanly, also when a shell started it in the background (SIGINT ignored)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import envfile
from tests.support.emulator import CONTOSO, FABRIKAM

PY = shlex.quote(sys.executable)
# The child sees none of the caller's Graph or sign-in settings: only what the env file gives it.
_DROPPED = ("AZURE_", "XTAP_", "GITHUB_", "SSL_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NO_COLOR")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def _bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    prelude = f'set -u\nxtap() {{ {PY} -m reconciler "$@"; }}\n'
    return subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def _emulator(cwd: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--env-file", "emu.env", *args],
        cwd=cwd,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(cwd / "emu.env")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def _drift_items(report: str) -> list[dict[str, Any]]:
    return [item for item in json.loads(report)["items"] if item["drift"]]


# What a person reads after the portal change: `xtap drift --format text`, the read time aside.
DRIFT_TEXT = f"""xtap drift for tenant default (0d3a6f1e-2b4c-4d5e-8f90-1a2b3c4d5e6f)
Read at TIME.

  ~ partner fabrikam-inc ({FABRIKAM})   (policies/partners/fabrikam-inc.yaml:4:11)
      ~ inboundTrust.isMfaAccepted: true in the tenant, false in the file

Drift: 1 item in 1 resource.
Where a value differs, the file wins on the next apply.
"""


def test_sourced_env_file_portal_change_and_drift(tmp_path: Path) -> None:
    with _emulator(tmp_path, "--seed", "demo") as proc:
        run = _bash(
            "source ./emu.env\n"
            "xtap export > export.out 2>&1 || exit 10\n"
            "xtap drift --format json > before.json || exit 11\n"
            f"xtap emulator set {FABRIKAM} inboundTrust.isMfaAccepted true || exit 12\n"
            "xtap drift --format json > after.json\n"
            'echo "drift exit $?"\n'
            "xtap drift --format text > after.txt\n"
            'echo "text exit $?"\n',
            tmp_path,
        )
        assert (run.returncode, run.stdout, run.stderr) == (
            0,
            f"partner {FABRIKAM}: set inboundTrust.isMfaAccepted\ndrift exit 2\ntext exit 2\n",
            "",
        )
        assert _drift_items((tmp_path / "before.json").read_text()) == []
        text = (tmp_path / "after.txt").read_text()
        assert re.sub(r"^Read at \S+Z\.$", "Read at TIME.", text, flags=re.M) == DRIFT_TEXT
        [item] = _drift_items((tmp_path / "after.json").read_text())
        assert {k: item[k] for k in ("kind", "tenantId", "path", "declared", "live")} == {
            "kind": "changed",
            "tenantId": FABRIKAM,
            "path": "inboundTrust.isMfaAccepted",
            "declared": False,
            "live": True,
        }
        # `set -a` with a plain `.` works as well: the same file, another way to load it.
        run = _bash(
            f"set -a; . ./emu.env; set +a\nxtap emulator delete {CONTOSO} --sync\n"
            "xtap drift --format json > sync.json\n",
            tmp_path,
        )
        assert (run.returncode, run.stdout) == (
            2,
            f"partner {CONTOSO}: deleted its identitySynchronization policy\n",
        )
        assert sorted(
            (i["kind"], i["tenantId"]) for i in _drift_items((tmp_path / "sync.json").read_text())
        ) == [
            ("changed", FABRIKAM),
            ("sync-removed", CONTOSO),
        ]
        ca_file = Path(envfile.read(tmp_path / "emu.env")["SSL_CERT_FILE"])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert not ca_file.exists()  # stopped cleanly: its certificates are gone


def test_env_file_values_survive_the_shell(tmp_path: Path) -> None:
    awkward = {"A": "two words", "B": 'it\'s $HOME `x` \\ "q"', "C": "", "D": "https://127.0.0.1:1/x?y=1&z"}
    envfile.write(tmp_path / "emu.env", awkward)
    assert envfile.read(tmp_path / "emu.env") == awkward
    for load in ("source ./emu.env", "set -a; . ./emu.env; set +a"):
        run = _bash(
            f"{load}\n{PY} -c 'import json, os; print(json.dumps({{k: os.environ[k] for k in \"ABCD\"}}))'",
            tmp_path,
        )
        assert json.loads(run.stdout) == awkward
    assert (tmp_path / "emu.env").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_backgrounded_emulator_stops_on_sigint_and_sigterm(tmp_path: Path, signum: int) -> None:
    # A non-interactive shell starts a background job with SIGINT ignored: the case Ctrl-C used to miss.
    script = (
        f"{PY} -m reconciler emulator --seed empty --env-file emu.env > out.txt 2> err.txt &\n"
        "echo $! > pid\nwait $!\necho $? > rc\n"
    )
    shell = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, env=_clean_env())
    try:
        _wait_for(tmp_path / "emu.env")
        _wait_for(tmp_path / "pid")
        pid = int((tmp_path / "pid").read_text())
        ca_file = Path(envfile.read(tmp_path / "emu.env")["SSL_CERT_FILE"])
        assert ca_file.exists()
        os.kill(pid, signum)
        assert shell.wait(timeout=20) == 0
    finally:
        if shell.poll() is None:
            os.kill(int((tmp_path / "pid").read_text()), signal.SIGKILL)
            shell.wait(10)
    assert (tmp_path / "rc").read_text() == "0\n"
    assert (tmp_path / "err.txt").read_text() == ""
    assert not ca_file.exists()
    assert "; Ctrl-C stops it\n" in (tmp_path / "out.txt").read_text()
