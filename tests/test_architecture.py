"""The layer rule of docs/architecture.md, and dependencies that match the code.

core      imports only core (and a short list of pure standard-library modules); no I/O, no environment,
          no clock: nothing here may open a file, print, read os.environ or look at the time.
present   imports core and present.
shell     imports core and shell (never present or cli).
cli       imports anything.
emulator  imports itself and the Graph metadata (core.metadata) only: it shares nothing with the client
          but the public API shapes.

The checker works on source text, so its own tests below can show it failing on a synthetic module.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata as dist_metadata
from pathlib import Path

import pytest

from tests.support import REPO

SRC = REPO / "src" / "reconciler"

# Pure standard-library modules core may use. Anything else (os, pathlib, time, logging, socket, ...) is I/O,
# the environment or the clock. `importlib.resources` reads the package's own Graph metadata file, which is
# part of the program like its code; yaml parses text handed to it.
CORE_STDLIB = frozenset(
    {
        "__future__",
        "abc",
        "collections",
        "collections.abc",
        "contextlib",
        "copy",
        "dataclasses",
        "difflib",
        "enum",
        "functools",
        "hashlib",
        "importlib.resources",
        "itertools",
        "json",
        "math",
        "operator",
        "re",
        "string",
        "typing",
        "unicodedata",
        "xml.etree.ElementTree",
    }
)
# jsonschema_rs checks data against an in-memory schema (offline=True): computation, like yaml's parsing.
CORE_THIRD_PARTY = frozenset({"yaml", "jsonschema_rs"})
FORBIDDEN_CALLS = frozenset({"open", "print", "input", "breakpoint", "exec", "eval", "compile", "__import__"})

LAYERS = {
    "core": ("reconciler.core",),
    "present": ("reconciler.core", "reconciler.present"),
    "shell": ("reconciler.core", "reconciler.shell"),
    "cli": ("reconciler",),
    "emulator": ("reconciler.emulator", "reconciler.core.metadata"),
}


@dataclass(frozen=True)
class Violation:
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.message}"


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module a source imports, by its full name: `from a import b` counts as `a.b` when that is
    what it names (`from reconciler.core import metadata`, `from importlib import resources`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                named_module = node.module.startswith("reconciler") or full in CORE_STDLIB
                yield node.lineno, full if named_module and not alias.name.startswith("__") else node.module


def _allowed(module: str, prefixes: tuple[str, ...]) -> bool:
    return module == "reconciler" or any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(source: str, layer: str) -> list[Violation]:
    """What breaks the layer rule in one module's source."""
    tree = ast.parse(source)
    found: list[Violation] = []
    for line, module in _imports(tree):
        if module == "reconciler" or module.startswith("reconciler."):
            if not _allowed(module, LAYERS[layer]):
                found.append(Violation(line, f"{layer} may not import {module}"))
        elif layer == "core":
            top = module.split(".")[0]
            if module not in CORE_STDLIB and top not in CORE_THIRD_PARTY:
                found.append(Violation(line, f"core may not import {module} (I/O, environment or clock)"))
    if layer == "core":
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
            ):
                found.append(Violation(node.lineno, f"core may not call {node.func.id}()"))
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "getcwd"):
                found.append(Violation(node.lineno, f"core may not use .{node.attr}"))
    return sorted(found, key=lambda v: (v.line, v.message))


def modules() -> list[tuple[str, Path]]:
    return [
        (path.relative_to(SRC).parts[0], path) for path in sorted(SRC.rglob("*.py")) if path.parent != SRC
    ]


@pytest.mark.parametrize(
    "layer, path", modules(), ids=lambda v: str(v.relative_to(SRC)) if isinstance(v, Path) else v
)
def test_every_module_keeps_its_layer(layer: str, path: Path) -> None:
    assert [str(v) for v in violations(path.read_text(encoding="utf-8"), layer)] == []


def test_the_tree_has_the_four_layers_and_the_emulator() -> None:
    assert {layer for layer, _ in modules()} == set(LAYERS)


# --- the checker fails where it should ---------------------------------------------------------------------


def test_a_core_module_importing_httpx_is_refused() -> None:
    source = "from __future__ import annotations\n\nimport httpx\n"
    assert [str(v) for v in violations(source, "core")] == [
        "3: core may not import httpx (I/O, environment or clock)"
    ]


def test_a_core_module_calling_open_or_reading_the_environment_is_refused() -> None:
    source = "import os\n\ndef read(p):\n    return open(p).read() + os.environ['X']\n"
    assert [str(v) for v in violations(source, "core")] == [
        "1: core may not import os (I/O, environment or clock)",
        "4: core may not call open()",
        "4: core may not use .environ",
    ]


def test_imports_across_layers_are_refused() -> None:
    assert [str(v) for v in violations("from reconciler.shell.graph import connect\n", "core")] == [
        "1: core may not import reconciler.shell.graph.connect"
    ]
    assert [str(v) for v in violations("from reconciler.present import markdown\n", "shell")] == [
        "1: shell may not import reconciler.present.markdown"
    ]
    assert [str(v) for v in violations("from reconciler.shell import applier\n", "emulator")] == [
        "1: emulator may not import reconciler.shell.applier"
    ]
    assert violations("from reconciler.core import model\nimport httpx\n", "shell") == []


# --- dependencies match the code -----------------------------------------------------------------------------


def _project() -> dict[str, object]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    project: dict[str, object] = data["project"]
    return project


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for _, path in modules():
        for _, module in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            top = module.split(".")[0]
            if top != "reconciler" and top not in sys.stdlib_module_names:
                found.add(top)
    return found


def _distribution(import_name: str) -> str:
    names = dist_metadata.packages_distributions().get(import_name, [import_name])
    return names[0].lower().replace("_", "-")


def test_every_runtime_dependency_is_imported_by_src_and_every_import_is_declared() -> None:
    declared = {_name(r) for r in _project()["dependencies"]}  # type: ignore[attr-defined]
    imported = {_distribution(name) for name in _third_party_imports()}
    assert sorted(declared - imported) == [], "declared but never imported by src/"
    assert sorted(imported - declared) == [], "imported by src/ but not declared"


# --- the repository stands alone ------------------------------------------------------------------------------

CITED = re.compile(r"graph-api\.md|DESIGN\.md|DESIGN §|auth-ci\.md|STYLE\.md|\.\./shared")


def test_docs_code_and_readme_cite_nothing_outside_the_repository() -> None:
    files = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), *sorted(SRC.rglob("*.py"))]
    cited = [
        f"{path.relative_to(REPO)}:{n}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CITED.search(line)
    ]
    assert cited == []


# --- sizes that keep modules and functions readable -------------------------------------------------------------

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _oversized(text: str, where: str) -> list[str]:
    found = [f"{where}: {len(text.splitlines())} lines"] if len(text.splitlines()) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{where}:{node.lineno}: {node.name}() {length} lines")
    return found


def test_no_module_over_450_lines_and_no_function_over_60() -> None:
    modules = sorted(SRC.rglob("*.py"))
    found = [item for p in modules for item in _oversized(p.read_text("utf-8"), str(p.relative_to(REPO)))]
    assert found == []


def test_the_size_check_finds_a_long_function_and_a_long_module() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert _oversized(f"def long() -> None:\n{body}", "m.py") == ["m.py:1: long() 61 lines"]
    assert _oversized("pass\n" * (MAX_MODULE_LINES + 1), "m.py") == ["m.py: 451 lines"]
    assert _oversized("pass\n" * MAX_MODULE_LINES, "m.py") == []
