"""Bad input through `xtap plan`: every case is a located error on stderr, exit 1, and no request at all.

Two tables: the committed corpus under tests/data/invalid (each file copied into a scratch repository and
planned), and the cases below that are generated at run time because they are large, binary, or links.
"Nothing sent" is checked on the emulator's journal, which records token and discovery requests too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.emulator import Emulator
from reconciler.shell.files import display_path
from tests.support import REPO
from tests.support.e2e import use_emulator, xtap

INVALID = REPO / "tests" / "data" / "invalid"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
CONTOSO = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
GUID_ERROR = f"tenantId must be a GUID (like {FABRIKAM}), got"
P = "policies/partners/p.yaml"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed="empty") as emu:
        yield emu


@pytest.fixture
def emu(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Emulator:
    use_emulator(monkeypatch, emulator)
    monkeypatch.chdir(tmp_path)
    emulator.clear_journal()
    return emulator


def nothing_sent(emu: Emulator) -> bool:
    return emu.journal == []


def summary(errors: int) -> str:
    return f"xtap: error: the policy files have {errors} error{'s' if errors != 1 else ''}; nothing was sent to Graph"


# --- the committed corpus, through `xtap plan` ----------------------------------------------------------


def expectations(path: Path) -> list[str]:
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


CORPUS = sorted(INVALID.rglob("*.yaml"))


def test_corpus_and_generated_cases_reach_eighty() -> None:
    assert len(CORPUS) + len(GENERATED) >= 80


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_file_through_plan_is_located_and_sends_nothing(
    path: Path, emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kind = path.parent.name
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    expected = expectations(path)
    if kind == "partner":
        shutil.copyfile(path, tmp_path / P)
        lines = [f"{P}:{e}" for e in expected] + [summary(len(expected))]
    elif kind == "default":
        shutil.copyfile(path, tmp_path / "policies" / "default.yaml")
        lines = [f"policies/default.yaml:{e}" for e in expected] + [summary(len(expected))]
    else:
        # xtap.yaml errors stop the run as one XtapError: every problem, located, without "error: ".
        shutil.copyfile(path, tmp_path / "xtap.yaml")
        shown = display_path(path.parent.relative_to(REPO), cwd=str(REPO))
        problems = [
            "xtap.yaml:" + e.replace(": error: ", ": ", 1).replace(shown, display_path(tmp_path))
            for e in expected
        ]
        lines = ["xtap: error: " + problems[0], *problems[1:]]
    code, out, err = xtap(capsys, "plan")
    assert (code, out) == (1, "")
    assert err.splitlines() == lines
    assert nothing_sent(emu)


# --- generated cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """Files to write under the scratch repository, then the exact stderr of `xtap plan`."""

    id: str
    build: Callable[[Path], None]
    expected: Callable[[Path], list[str]]
    bug: str | None = None  # set: a known bug, run as a strict xfail until src/ is fixed


def files(**contents: bytes | str) -> Callable[[Path], None]:
    """Write files; keys use '__' for '/' (policies__partners__p_yaml → policies/partners/p.yaml)."""

    def build(root: Path) -> None:
        for key, content in contents.items():
            target = root / key.replace("__", "/").replace("_yaml", ".yaml")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)

    return build


def partner(content: bytes | str) -> Callable[[Path], None]:
    return files(policies__partners__p_yaml=content)


def lines(*expected: str, errors: int | None = None) -> Callable[[Path], list[str]]:
    count = len(expected) if errors is None else errors
    return lambda _root: [*expected, summary(count)]


def bad_tenant(value: str, shown: str, col: int = 11) -> Case:
    return Case(
        f"tenant-id {shown}",
        partner(f"tenantId: {value}\n"),
        lines(f"{P}:1:{col}: error: {GUID_ERROR} '{shown}'"),
    )


def _laughs() -> tuple[bytes, list[str]]:
    """The billion-laughs bomb (9 levels, 9 aliases each): every alias refused where it is written."""
    text = [
        f"tenantId: {FABRIKAM}",
        'description: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    expected = []
    for i in range(1, 10):
        head = f"x{i}: &a{i} ["
        text.append(head + ",".join([f"*a{i - 1}"] * 9) + "]")
        cols = [len(head) + 1 + k * (len(f"*a{i - 1}") + 1) for k in range(9)]
        expected += [f"{P}:{i + 2}:{c}: error: YAML aliases are not allowed" for c in cols]
    # The anchor on `description` does not hide that it holds a list, and x1..x9 are unknown.
    typed = [f"{P}:2:14: error: expected a string, got a list"]
    unknown = [f"{P}:{i + 2}:1: error: unknown property 'x{i}'" for i in range(1, 10)]
    return ("\n".join(text) + "\n").encode(), expected + typed + unknown


def _laughs_case() -> Case:
    raw, _ = _laughs()
    return Case("billion-laughs", partner(raw), lambda _root: _expected_laughs())


def _expected_laughs() -> list[str]:
    _, expected = _laughs()
    # Diagnostics are shown in file order, whatever stage found them.
    ordered = sorted(expected, key=lambda e: tuple(int(n) for n in e.split(":")[1:3]))
    return [*ordered, summary(len(expected))]


def link(name: str, target: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        (root / "policies" / "partners").mkdir(parents=True, exist_ok=True)
        outside = root / "outside"
        outside.mkdir(exist_ok=True)
        (outside / "x.yaml").write_text(f"tenantId: {FABRIKAM}\n")
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if (root / name).is_dir():
            shutil.rmtree(root / name)
        (root / name).symlink_to(root / target)

    return build


def outside_link(name: str, target: str) -> Callable[[Path], list[str]]:
    return lambda root: [
        f"{name}: error: symbolic link leads outside policies (to {(root / target).resolve()})",
        summary(1),
    ]


def config(text: str, *problems: str) -> Case:
    def expected(root: Path) -> list[str]:
        shown = [p.replace("ROOT", display_path(root)) for p in problems]
        return ["xtap: error: " + shown[0], *shown[1:]]

    return Case(f"xtap.yaml {text.splitlines()[-1].strip()}", files(xtap_yaml=text), expected)


TEN_MB = 10 * 1024 * 1024
DEPTH = 10_000

GENERATED: list[Case] = [
    # Size and structure bombs: refused before anything is expanded or recursed into.
    _laughs_case(),
    Case(
        "10 MB file",
        partner(b"tenantId: " + FABRIKAM.encode() + b"\ndescription: " + b"x" * TEN_MB + b"\n"),
        lines(f"{P}:1:1: error: file is larger than 1 MiB ({TEN_MB + 61} bytes)"),
    ),
    Case(
        "10 MB of newlines",
        partner(b"\n" * TEN_MB),
        lines(f"{P}:1:1: error: file is larger than 1 MiB ({TEN_MB} bytes)"),
    ),
    Case(
        "10,000-deep flow nesting",
        partner(b"tenantId: x\ndescription: " + b"[" * DEPTH + b"]" * DEPTH + b"\n"),
        lines(f"{P}:2:45: error: nesting is deeper than 32 levels"),
    ),
    Case(
        "10,000-deep flow mappings",
        partner(b"a: " + b"{a: " * DEPTH + b"}" * DEPTH + b"\n"),
        lines(f"{P}:1:128: error: nesting is deeper than 32 levels"),
    ),
    Case(
        "10,000-deep block sequences",
        partner(b"description:\n  " + b"- " * DEPTH + b"x\n"),
        lines(f"{P}:2:65: error: nesting is deeper than 32 levels"),
    ),
    Case(
        "10,000-deep block mappings",
        partner("".join(" " * i + f"k{i % 10}:\n" for i in range(1200)).encode()),
        lines(f"{P}:33:33: error: nesting is deeper than 32 levels"),
    ),
    # Characters.
    Case(
        "NUL",
        partner(f"tenantId: {FABRIKAM}\ndescription: a\0b\n"),
        lines(f"{P}:2:15: error: invalid character U+0000"),
    ),
    Case(
        "ESC",
        partner(f"tenantId: {FABRIKAM}\ndescription: a\x1bb\n"),
        lines(f"{P}:2:15: error: invalid character U+001B"),
    ),
    Case(
        "DEL",
        partner(f"tenantId: {FABRIKAM}\ndescription: a\x7fb\n"),
        lines(f"{P}:2:15: error: invalid character U+007F"),
    ),
    Case(
        "backspace in a key",
        partner(f"tenantId: {FABRIKAM}\ninbound\bTrust: null\n"),
        lines(f"{P}:2:8: error: invalid character U+0008"),
    ),
    Case(
        "NUL in the tenantId",
        partner(f"tenantId: {FABRIKAM}\0\n"),
        lines(f"{P}:1:47: error: invalid character U+0000"),
    ),
    Case(
        "BOM in the middle",
        partner(f"\ufefftenantId: {FABRIKAM}\n\ufeffdescription: x\n"),
        lines(
            f"{P}:2:2: error: invalid YAML: did not find expected key (while parsing a block mapping at line 1, column 1)"
        ),
    ),
    Case(
        "UTF-16 with BOM",
        partner(f"tenantId: {FABRIKAM}\n".encode("utf-16")),
        lines(f"{P}:1:1: error: file is not valid UTF-8 (byte 0xff at offset 0)"),
    ),
    Case(
        "lone surrogate bytes",
        partner(f"tenantId: {FABRIKAM}\ndescription: ".encode() + b"\xed\xa0\x80\n"),
        lines(f"{P}:2:14: error: file is not valid UTF-8 (byte 0xed at offset 60)"),
    ),
    Case(
        "overlong encoding",
        partner(b"tenantId: \xc0\xae\xc0\xae/users\n"),
        lines(f"{P}:1:11: error: file is not valid UTF-8 (byte 0xc0 at offset 10)"),
    ),
    Case(
        "binary",
        partner(bytes(range(256))),
        # Lines count b"\n" only: 0x0a is byte 10, so byte 128 is on line 2, character 118.
        lines(f"{P}:2:118: error: file is not valid UTF-8 (byte 0x80 at offset 128)"),
    ),
    # tenantId values that would change a URL if they reached one.
    bad_tenant(f"'{FABRIKAM}#x'", f"{FABRIKAM}#x"),
    bad_tenant(f"'{FABRIKAM[:-1]}%31'", f"{FABRIKAM[:-1]}%31"),
    bad_tenant(f'"{FABRIKAM}\\t"', f"{FABRIKAM}\\t"),
    bad_tenant(f"' {FABRIKAM}'", f" {FABRIKAM}"),
    bad_tenant(f"'{{{FABRIKAM}}}'", f"{{{FABRIKAM}}}"),
    bad_tenant(f"'({FABRIKAM})'", f"({FABRIKAM})"),
    bad_tenant(FABRIKAM.replace("-", ""), FABRIKAM.replace("-", "")),
    bad_tenant("９" + FABRIKAM[1:], "９" + FABRIKAM[1:]),
    bad_tenant("'%2e%2e%2fusers'", "%2e%2e%2fusers"),
    bad_tenant("''", ""),
    Case(
        "tenant-id integer",
        partner("tenantId: 7\n"),
        lines(f"{P}:1:11: error: expected a string, got the integer 7"),
    ),
    Case(
        "tenant-id mapping",
        partner("tenantId: {a: b}\n"),
        lines(f"{P}:1:11: error: expected a string, got a mapping"),
    ),
    Case(
        "tenant-id null",
        partner("tenantId:\n"),
        lines(f"{P}:1:10: error: expected a string, got an empty value (null)"),
    ),
    Case(
        "duplicate tenantId, different case",
        files(
            policies__partners__a_yaml=f"tenantId: {FABRIKAM}\n",
            policies__partners__b_yaml=f"tenantId: {FABRIKAM.upper()}\n",
        ),
        lines(
            f"policies/partners/b.yaml:1:11: error: tenantId {FABRIKAM} is also declared in "
            "policies/partners/a.yaml:1:11"
        ),
    ),
    Case(
        "home tenant as partner",
        files(
            xtap_yaml=f"tenants:\n  prod: {{tenantId: {FABRIKAM}}}\n",
            policies__partners__p_yaml=f"tenantId: {FABRIKAM.upper()}\n",
        ),
        lines(
            f"{P}:1:11: error: tenantId {FABRIKAM} is the home tenant itself; a tenant cannot be its own partner"
        ),
    ),
    # Links and folders that lead out of the policies folder.
    Case(
        "symlinked partner file outside",
        link("policies/partners/link.yaml", "outside/x.yaml"),
        outside_link("policies/partners/link.yaml", "outside/x.yaml"),
    ),
    Case(
        "symlinked partners folder outside",
        link("policies/partners", "outside"),
        outside_link("policies/partners", "outside"),
    ),
    Case(
        "symlinked default.yaml outside",
        link("policies/default.yaml", "outside/x.yaml"),
        outside_link("policies/default.yaml", "outside/x.yaml"),
    ),
    Case(
        "dangling symlink",
        link("policies/partners/gone.yaml", "outside/missing.yaml"),
        outside_link("policies/partners/gone.yaml", "outside/missing.yaml"),
    ),
    config(
        "tenants:\n  prod:\n    policies: ../elsewhere\n",
        "xtap.yaml:3:15: policies folder must be inside ROOT, got '../elsewhere'",
    ),
    config(
        "tenants:\n  prod:\n    policies: /etc\n",
        "xtap.yaml:3:15: policies folder must be inside ROOT, got '/etc'",
    ),
    config(
        "tenants:\n  prod:\n    policies: policies/../../x\n",
        "xtap.yaml:3:15: policies folder must be inside ROOT, got 'policies/../../x'",
    ),
    config(
        f"tenants:\n  prod: {{tenantId: '{FABRIKAM}?x=1'}}\n",
        f"xtap.yaml:2:20: {GUID_ERROR} '{FABRIKAM}?x=1'",
    ),
    config(
        "prune: &p true\nsafety: {maxDeletes: *p}\n",
        "xtap.yaml:2:22: YAML aliases are not allowed",
    ),
    # Names that would forge a workflow command or colour the terminal; files a pruning run would miss.
    Case(
        "newline and ::stop-commands:: in a file name",
        files(**{"policies__partners__a\n::stop-commands::x_yaml": f"tenantId: {FABRIKAM}\n"}),
        lines(
            "policies/partners/a\\n::stop-commands::x.yaml: error: the name has a control character "
            "(shown escaped); rename it"
        ),
    ),
    Case(
        "escape sequence in a folder name",
        files(**{"policies__partners__\x1b[2J__p_yaml": f"tenantId: {FABRIKAM}\n"}),
        lines(
            "policies/partners/\\x1b[2J: error: the name has a control character (shown escaped); rename it"
        ),
    ),
    Case(
        "misplaced partner file with prune on",
        files(xtap_yaml="prune: true\n", policies__partner__p_yaml=f"tenantId: {FABRIKAM}\n"),
        lines(
            "policies/partner/p.yaml: error: not read: partner files belong under policies/partners/; move it to "
            "policies/partners/p.yaml; with prune on, the partner it declares would be deleted"
        ),
    ),
    Case(
        "hidden partner file with prune on",
        files(**{"xtap_yaml": "prune: true\n", "policies__partners__.p_yaml": f"tenantId: {FABRIKAM}\n"}),
        lines(
            "policies/partners/.p.yaml: error: not read: hidden files are skipped; rename it to "
            "policies/partners/p.yaml; with prune on, the partner it declares would be deleted"
        ),
    ),
]


def _params(cases: list[Case]) -> list[object]:
    return [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.bug)] if c.bug else [])
        for c in cases
    ]


@pytest.mark.parametrize("case", _params(GENERATED))
def test_generated_bad_input_is_located_and_sends_nothing(
    case: Case, emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    case.build(tmp_path)
    code, out, err = xtap(capsys, "plan")
    assert (code, out) == (1, "")
    assert err.splitlines() == case.expected(tmp_path)
    assert nothing_sent(emu)


@pytest.mark.parametrize(
    "env, shown",
    [
        ("../../users", "../../users"),
        (f"{FABRIKAM}/../x", f"{FABRIKAM}/../x"),
        (f"{FABRIKAM}?x=1", f"{FABRIKAM}?x=1"),
        (f"{FABRIKAM}\n", f"{FABRIKAM}\\n"),
        ("organizations", "organizations"),
    ],
    ids=["dotdot", "guid-dotdot", "query", "newline", "organizations"],
)
def test_a_path_like_azure_tenant_id_is_refused_before_any_request(
    env: str,
    shown: str,
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    partner(f"tenantId: {CONTOSO}\n")(tmp_path)
    monkeypatch.setenv("AZURE_TENANT_ID", env)
    code, out, err = xtap(capsys, "plan")
    assert (code, out, err) == (1, "", f"xtap: error: tenant id '{shown}' is not a GUID\n")
    assert nothing_sent(emu)


def test_a_misplaced_file_is_a_warning_and_with_prune_an_error_before_any_request(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files(policies__partners__c_yaml=f"tenantId: {CONTOSO}\n", policies__f_yaml=f"tenantId: {FABRIKAM}\n")(
        tmp_path
    )
    warning = "policies/f.yaml: {}: not read: partner files belong under policies/partners/; move it to policies/partners/f.yaml"
    code, out, err = xtap(capsys, "plan", "--prune")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        warning.format("error") + "; with prune on, the partner it declares would be deleted",
        summary(1),
    ]
    assert nothing_sent(emu)
    code, out, err = xtap(capsys, "plan")
    assert code == 0
    assert err.splitlines() == [warning.format("warning")]
    assert out.splitlines()[-1] == "Plan: 1 to add, 0 to change, 0 to destroy."


MISTAKES = sorted((REPO / "tests" / "data" / "mistakes").rglob("*.yaml"))


def counted(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@pytest.mark.parametrize("path", MISTAKES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_newcomer_mistakes_through_validate(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AZURE_TENANT_ID", raising=False)
    target = {"partner": P, "default": "policies/default.yaml", "config": "xtap.yaml"}[path.parent.name]
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    if target == "xtap.yaml":
        (tmp_path / P).write_text(f"tenantId: {FABRIKAM}\n", encoding="utf-8")
    shutil.copyfile(path, tmp_path / target)
    expected = [f"{target}:{e}" for e in expectations(path)]
    errors = sum(": error: " in e for e in expected)
    code, out, err = xtap(capsys, "validate")
    assert (code, err) == (1 if errors else 0, "")
    files = "2 files" if target == "xtap.yaml" else "1 file"
    total = f"{counted(errors, 'error')}, {counted(len(expected) - errors, 'warning')} in {files}"
    assert out.splitlines() == [*expected, total]


# --- what is valid, and stays valid -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        f"tenantId: {FABRIKAM}\r\ndescription: x\r\n".encode(),
        f"tenantId: {FABRIKAM}\rdescription: x\r".encode(),
        f"\ufefftenantId: {FABRIKAM}\ndescription: x\n".encode(),
        f"tenantId: {FABRIKAM.upper()}\ndescription: x\n".encode(),
    ],
    ids=["crlf", "cr", "bom", "upper-case-guid"],
)
def test_line_endings_bom_and_guid_case_are_valid(
    raw: bytes, emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partner(raw)(tmp_path)
    code, out, err = xtap(capsys, "plan", "--format", "json")
    assert (code, err) == (0, "")
    assert f'"tenantId": "{FABRIKAM}"' in out
    assert sorted(e.path for e in emu.journal if e.path.startswith("/v1.0")) == [  # read side by side
        "/v1.0/policies/crossTenantAccessPolicy/default",
        "/v1.0/policies/crossTenantAccessPolicy/partners",
    ]


# --- links, loops and special files (each found by this suite, then fixed in src/) ----------------------


def test_symlinked_subfolder_leading_outside_is_an_error(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link("policies/partners/emea", "outside")(tmp_path)
    code, _out, err = xtap(capsys, "plan")
    assert err.splitlines() == outside_link("policies/partners/emea", "outside")(tmp_path)
    assert code == 1 and nothing_sent(emu)


def test_symlink_loop_is_a_located_error(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies/partners/loop.yaml").symlink_to(tmp_path / "policies/partners/loop.yaml")
    code, _out, err = xtap(capsys, "plan")
    assert "internal error" not in err
    assert err.startswith("policies/partners/loop.yaml: error: ")
    assert code == 1 and nothing_sent(emu)


def test_a_fifo_named_yaml_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    os.mkfifo(tmp_path / "policies/partners/pipe.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "XTAP_"))}
    env["PYTHONPATH"] = str(REPO / "src")
    # A child process, so the hang is bounded by a timeout instead of blocking the suite.
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "validate"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("xtap validate was still reading the FIFO after 3 s")
    assert re.match(r"^policies/partners/pipe\.yaml(:\d+:\d+)?: error: ", done.stdout)
