"""Policy files → DesiredState, with every problem reported as `path:line:col: severity: message`.

YAML is read with a deliberately small subset of YAML (docs/file-format.md, auth-ci.md §4):

- The event stream of libyaml (PyYAML's C parser) is composed here, iteratively, so that every mapping key
  and value keeps its line:col, duplicate keys are refused (PyYAML silently keeps the last one), aliases
  are refused where they appear (no alias expansion, so no "billion laughs"), nesting is bounded (PyYAML's
  recursive composer crashes the interpreter on ~100k nested brackets) and only one document is read.
- Scalars are resolved like YAML 1.2's core schema, not YAML 1.1: `yes`/`on`/`no`/`off` stay strings (the
  schema then says "expected a boolean (true/false)"), dates stay strings, `012` stays a string.
- Input must be UTF-8 (a BOM is tolerated) and at most 1 MiB.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import yaml

from reconciler import model, rules, schema
from reconciler.state import DesiredDefault, DesiredPartner, DesiredState, SourceRef

if TYPE_CHECKING:
    from reconciler.config import Config

log = logging.getLogger("reconciler.loader")

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
YAML_SUFFIXES = (".yaml", ".yml")

Severity = Literal["error", "warning"]
Pos = tuple[int, int]
JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an input file. line 0 means "the file (or folder) as a whole"."""

    path: str
    line: int
    col: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class LoadResult:
    desired: DesiredState
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...] = ()  # every file read, as shown in diagnostics

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class YamlDocument:
    """Plain JSON-like data plus where each part of it was written."""

    path: str
    data: Any
    # path into data -> (position of its mapping key or None, position of its value)
    positions: Mapping[JsonPath, tuple[Pos | None, Pos]] = field(default_factory=dict)

    def pos(self, path: JsonPath, *, on_key: bool = False) -> Pos:
        """The nearest known position of `path` (its key if asked and known, else its value)."""
        probe = path
        while True:
            entry = self.positions.get(probe)
            if entry is not None:
                key_pos, value_pos = entry
                return key_pos if on_key and key_pos is not None and probe == path else value_pos
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def diagnostic(self, problem: schema.Problem) -> Diagnostic:
        line, col = self.pos(problem.path, on_key=problem.on_key)
        return Diagnostic(self.path, line, col, problem.severity, problem.message)


def display_path(path: Path | str, cwd: str | None = None) -> str:
    """Relative to the current directory when the file is under it, else absolute (POSIX separators)."""
    here = cwd if cwd is not None else os.getcwd()
    absolute = os.path.abspath(os.path.join(here, path))
    prefix = here.rstrip(os.sep) + os.sep
    shown = absolute[len(prefix) :] if absolute.startswith(prefix) else absolute
    return shown.replace(os.sep, "/")


# --- YAML ---------------------------------------------------------------------------------------------------

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})
_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
# Like YAML 1.2 core, except that a leading zero (`012`, YAML 1.1 octal) keeps the scalar a string.
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset({None, "!", *(_CORE + t for t in ("str", "int", "float", "bool", "null"))})
_MAP_TAGS = frozenset({None, "!", _CORE + "map"})
_SEQ_TAGS = frozenset({None, "!", _CORE + "seq"})


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core-schema resolution of an untagged plain scalar (never a date, never `yes` → True)."""
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if _INT_RE.match(text):
        return int(text)
    if _FLOAT_RE.match(text):
        return float(text)
    return text


class _TooDeep(Exception):
    def __init__(self, event: Any) -> None:
        super().__init__("too deep")
        self.event = event


@dataclass(slots=True)
class _Frame:
    container: dict[str, Any] | list[Any]
    path: JsonPath
    is_map: bool
    key: str | None = None  # mapping: the key whose value comes next
    key_pos: Pos | None = None
    skip_value: bool = False  # mapping: the next value belongs to a refused key
    key_lines: dict[str, int] = field(default_factory=dict)


_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAP_START, _SEQ_START = yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAP_END, _SEQ_END = yaml.MappingEndEvent, yaml.SequenceEndEvent
_NODE_EVENTS = frozenset({_SCALAR, _ALIAS, _MAP_START, _SEQ_START})
_LoaderClass: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> tuple[Any, dict[JsonPath, tuple[Pos | None, Pos]], list[tuple[Pos, str]]]:
    """Build data + positions from libyaml's events; collects every YAML-level problem it can."""
    get_event = _LoaderClass(text).get_event
    positions: dict[JsonPath, tuple[Pos | None, Pos]] = {}
    problems: list[tuple[Pos, str]] = []
    stack: list[_Frame] = []
    root: Any = _MISSING
    skip = 0  # depth inside a subtree we refuse (complex key, value of a duplicate key, too deep)
    documents = 0
    read_to = 0  # text index after the last event taken (where an early scanner error is searched from)
    try:
        while True:
            event: Any = get_event()
            if event is None:
                break
            read_to = event.end_mark.index
            kind = type(event)
            if skip:
                if kind is _MAP_START or kind is _SEQ_START:
                    skip += 1
                    if len(stack) + skip > MAX_DEPTH:
                        raise _TooDeep(event)
                elif kind is _MAP_END or kind is _SEQ_END:
                    skip -= 1
                continue
            if kind not in _NODE_EVENTS:
                if kind is _MAP_END or kind is _SEQ_END:
                    stack.pop()
                elif kind is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        mark = event.start_mark
                        message = "a file holds one YAML document; found a second one"
                        problems.append(((mark.line + 1, mark.column + 1), message))
                        break
                elif kind is yaml.StreamEndEvent:
                    break
                continue
            mark = event.start_mark
            pos = (mark.line + 1, mark.column + 1)
            parent = stack[-1] if stack else None
            if parent is not None and parent.is_map and parent.key is None:
                skip = _take_key(parent, event, pos, problems)
                continue
            # A value: the root, a sequence item, or the value of parent.key.
            key_pos = None
            key_name = ""
            path: JsonPath
            if parent is None:
                path = ()
            elif parent.is_map:
                key_name = cast(str, parent.key)
                path = (*parent.path, key_name)
                key_pos = parent.key_pos
            else:
                path = (*parent.path, len(parent.container))
            discard = parent is not None and parent.skip_value
            value: Any
            if kind is _SCALAR:
                value = _scalar(event, pos, problems)
            elif kind is _ALIAS:
                problems.append((pos, "YAML aliases are not allowed"))
                value = None
            else:
                is_map = kind is _MAP_START
                tag = event.tag
                if tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                    problems.append((pos, f"unsupported YAML tag '{_show_tag(tag)}'"))
                if len(stack) >= MAX_DEPTH:
                    raise _TooDeep(event)
                if discard:
                    skip = 1
                    value = None
                else:
                    value = {} if is_map else []
                    stack.append(_Frame(value, path, is_map))
            if parent is None:
                root = value
            elif parent.is_map:
                if discard:
                    parent.skip_value = False
                else:
                    cast(dict[str, Any], parent.container)[key_name] = value
                parent.key = None
                parent.key_pos = None
            else:
                cast(list[Any], parent.container).append(value)
            if not discard:
                positions[path] = (key_pos, pos)
    except _TooDeep as exc:
        # Stop reading at once: libyaml's scanner does O(depth) work per token, so reading on through
        # 100k nested brackets would take minutes.
        mark = exc.event.start_mark
        problems.append(((mark.line + 1, mark.column + 1), f"nesting is deeper than {MAX_DEPTH} levels"))
        return _MISSING, positions, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if mark is not None and (exc.problem or "").startswith("exceeded maximum nesting depth"):
            # PyYAML ≥ 6.0.4 stops its scanner at 1,000 levels, and inside the 1,024-character look-ahead
            # of a flow collection that comes before our own limit sees level 33: point where it would have.
            pos = _flow_cap_position(text, read_to, mark.index, MAX_DEPTH - len(stack) - skip + 1) or pos
        problems.append((pos, _syntax_message(exc, text, mark)))
        return _MISSING, positions, problems
    except yaml.reader.ReaderError as exc:
        problems.append((_byte_pos(text, exc.position), f"invalid character {_codepoint(exc.character)}"))
        return _MISSING, positions, problems
    return root, positions, problems


def _flow_cap_position(text: str, start: int, end: int, nth: int) -> Pos | None:
    """Where the `nth` flow bracket still open after `start` opens (quoted text skipped), if before `end`."""
    depth = 0
    quote = ""
    i = start
    while i < end:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth >= nth:
                line_start = text.rfind("\n", 0, i) + 1
                return (text.count("\n", 0, i) + 1, i - line_start + 1)
        elif ch in "]}":
            depth -= 1
        i += 1
    return None


def _take_key(parent: _Frame, event: Any, pos: Pos, problems: list[tuple[Pos, str]]) -> int:
    """Record a mapping key; returns how deep to skip (a refused complex key's subtree)."""
    kind = type(event)
    if kind is yaml.ScalarEvent:
        if event.tag not in _SCALAR_TAGS:
            problems.append((pos, f"unsupported YAML tag '{_show_tag(event.tag)}'"))
        key = event.value
        first = parent.key_lines.get(key)
        if first is not None:
            problems.append((pos, f"duplicate key '{key}' (first defined at line {first})"))
            parent.skip_value = True
            parent.key = key  # placeholder so the next event is read as this key's value
            return 0
        parent.key_lines[key] = pos[0]
        parent.key = key
        parent.key_pos = pos
        return 0
    parent.key = ""  # placeholder: the value that follows is discarded
    parent.skip_value = True
    if kind is yaml.AliasEvent:
        problems.append((pos, "YAML aliases are not allowed"))
        return 0
    problems.append((pos, "mapping keys must be plain strings"))
    return 1


def _scalar(event: Any, pos: Pos, problems: list[tuple[Pos, str]]) -> Any:
    tag = event.tag
    if tag is None:
        # Untagged: plain scalars are resolved, quoted and block scalars are strings.
        return _resolve_plain(event.value) if not event.style else event.value
    if tag not in _SCALAR_TAGS:
        problems.append((pos, f"unsupported YAML tag '{_show_tag(tag)}'"))
        return None  # reported once here; a null draws no second message from the schema
    if tag == _CORE + "str" or event.style:
        return event.value
    return _resolve_plain(event.value)


def _syntax_message(exc: yaml.MarkedYAMLError, text: str, mark: Any) -> str:
    problem = exc.problem or "syntax error"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        return "invalid YAML: a tab character cannot indent YAML; use spaces"
    if exc.problem == "but found another document":
        return "a file holds one YAML document; found a second one"
    if exc.problem == "found undefined alias":
        return "YAML aliases are not allowed"
    if problem.startswith("exceeded maximum nesting depth"):
        return f"nesting is deeper than {MAX_DEPTH} levels"
    if exc.context and exc.context_mark is not None:
        where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        return f"invalid YAML: {problem} ({exc.context} at {where})"
    return f"invalid YAML: {problem}"


def _show_tag(tag: str) -> str:
    """A tag as it was written: `!!binary`, not `tag:yaml.org,2002:binary`."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def _codepoint(character: Any) -> str:
    code = character if isinstance(character, int) else ord(character)
    return f"U+{code:04X}"


def _byte_pos(text: str, byte_offset: int) -> Pos:
    """Line:col of a byte offset into the UTF-8 encoding of `text` (libyaml reports bytes)."""
    prefix = text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")
    line = prefix.count("\n") + 1
    col = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return (line, col)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def parse_yaml(raw: bytes, path: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Bytes of one file → its document (None when unreadable) and every YAML-level problem."""
    if len(raw) > MAX_BYTES:
        return None, [Diagnostic(path, 1, 1, "error", f"file is larger than 1 MiB ({len(raw)} bytes)")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        byte = raw[exc.start]
        message = f"file is not valid UTF-8 (byte 0x{byte:02x} at offset {exc.start})"
        return None, [Diagnostic(path, line, col, "error", message)]
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data, positions, problems = _compose(text)
    except (RecursionError, MemoryError):  # pragma: no cover - bounded by MAX_BYTES and MAX_DEPTH
        return None, [Diagnostic(path, 1, 1, "error", "file is too complex to read")]
    diagnostics = [Diagnostic(path, line, col, "error", message) for (line, col), message in problems]
    if data is _MISSING:
        if not problems:
            diagnostics.append(Diagnostic(path, 1, 1, "error", "the file is empty; expected a mapping"))
        return None, diagnostics
    if not isinstance(data, dict):
        line, col = positions.get((), (None, (1, 1)))[1]
        got = schema.describe(data) if data is not None else "nothing (null)"
        diagnostics.append(Diagnostic(path, line, col, "error", f"expected a mapping at the top, got {got}"))
        return None, diagnostics
    return YamlDocument(path, data, positions), diagnostics


def read_yaml(
    file: Path, *, root: Path | None = None, shown: str | None = None
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Read one YAML file (refusing symlinks that lead outside `root`, and files over 1 MiB)."""
    shown = shown if shown is not None else display_path(file)
    if root is not None:
        problem = link_problem(file, root)
        if problem is not None:
            return None, [Diagnostic(shown, 0, 0, "error", problem)]
    try:
        st = file.stat()
        # Only regular files: a FIFO or device named *.yaml would block the read (its size reads as 0).
        if not stat.S_ISREG(st.st_mode):
            return None, [Diagnostic(shown, 0, 0, "error", "not a regular file")]
        if st.st_size > MAX_BYTES:
            return None, [Diagnostic(shown, 1, 1, "error", f"file is larger than 1 MiB ({st.st_size} bytes)")]
        raw = file.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(shown, 0, 0, "error", f"cannot read the file: {exc.strerror or exc}")]
    return parse_yaml(raw, shown)


def link_problem(path: Path, root: Path) -> str | None:
    """Why a symbolic link may not be followed (a loop, or leading outside `root`), or None."""
    if not path.is_symlink():
        return None
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's "Symlink loop"
        return "symbolic link cannot be resolved (a loop)"
    if not resolved.is_relative_to(root.resolve()):
        return f"symbolic link leads outside {display_path(root)} (to {resolved})"
    return None


# --- policy files ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyFiles:
    """The files of one policies folder."""

    partners: tuple[Path, ...]
    default: Path | None
    diagnostics: tuple[Diagnostic, ...] = ()


def find_policy_files(policies_dir: Path) -> PolicyFiles:
    """`default.yaml` (or `.yml`) and every `*.yaml`/`*.yml` under `partners/`, any name, sorted."""
    shown = display_path(policies_dir)
    if not policies_dir.is_dir():
        return PolicyFiles((), None, (Diagnostic(shown, 0, 0, "error", "policies folder not found"),))
    diagnostics: list[Diagnostic] = []
    defaults = [policies_dir / n for n in ("default.yaml", "default.yml") if (policies_dir / n).exists()]
    if len(defaults) > 1:
        message = "both default.yaml and default.yml exist; keep one"
        diagnostics.append(Diagnostic(display_path(defaults[1]), 0, 0, "error", message))
    partners: list[Path] = []
    partners_dir = policies_dir / "partners"
    problem = link_problem(partners_dir, policies_dir)
    if problem is not None:
        diagnostics.append(Diagnostic(display_path(partners_dir), 0, 0, "error", problem))
    elif partners_dir.is_dir():
        partners.extend(_walk_partners(partners_dir, policies_dir, diagnostics))
    elif partners_dir.exists():
        diagnostics.append(Diagnostic(display_path(partners_dir), 0, 0, "error", "partners is not a folder"))
    return PolicyFiles(tuple(sorted(partners)), defaults[0] if defaults else None, tuple(diagnostics))


def _walk_partners(partners_dir: Path, policies_dir: Path, diagnostics: list[Diagnostic]) -> list[Path]:
    """Every YAML file under partners/, following links to folders only while they stay inside the
    policies folder (and each real folder once, so a link loop ends)."""
    found: list[Path] = []
    seen: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(partners_dir, followlinks=True):
        real = Path(dirpath).resolve()
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        keep = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            problem = link_problem(Path(dirpath) / name, policies_dir)
            if problem is not None:
                diagnostics.append(Diagnostic(display_path(Path(dirpath) / name), 0, 0, "error", problem))
            else:
                keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(YAML_SUFFIXES):
                found.append(Path(dirpath) / name)
    return found


def load_desired(policies_dir: Path, *, config: Config | None = None) -> LoadResult:
    """Read, check and load one tenant's policies folder."""
    found = find_policy_files(policies_dir)
    home = _home_tenants(policies_dir, config)
    result = load_files(found.partners, found.default, config=config, root=policies_dir, home_tenants=home)
    if not found.partners and found.default is None and not found.diagnostics:
        note = Diagnostic(display_path(policies_dir), 0, 0, "warning", "no policy files found")
        return LoadResult(result.desired, (note, *result.diagnostics), result.files)
    return LoadResult(result.desired, found.diagnostics + result.diagnostics, result.files)


def _home_tenants(policies_dir: Path, config: Config | None) -> frozenset[str]:
    if config is None:
        return frozenset()
    target = policies_dir.resolve()
    return frozenset(
        t.tenant_id.lower()
        for t in config.tenants
        if t.tenant_id and model.is_guid(t.tenant_id) and t.policies.resolve() == target
    )


def load_files(
    partner_files: Sequence[Path],
    default_file: Path | None,
    *,
    config: Config | None = None,
    root: Path | None = None,
    home_tenants: Iterable[str] = (),
) -> LoadResult:
    """Read and check the given partner files and default file; cross-file rules included."""
    global_ignore = config.ignore if config is not None else frozenset()
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    partners: dict[str, DesiredPartner] = {}
    declared: list[tuple[str, SourceRef]] = []
    cwd = os.getcwd()
    for file in partner_files:
        shown = display_path(file, cwd)
        files.append(shown)
        doc, found = read_yaml(file, root=root, shown=shown)
        diagnostics.extend(found)
        if doc is None:
            continue
        problems = schema.check("partner", doc.data) + rules.check_partner(doc.data)
        diagnostics.extend(doc.diagnostic(p) for p in problems)
        partner = _partner(doc, global_ignore)
        if partner is not None:
            declared.append((partner.tenant_id, partner.source))
            partners.setdefault(partner.tenant_id, partner)
    for ref, message in rules.duplicate_tenants(declared) + rules.home_tenant(
        declared, frozenset(home_tenants)
    ):
        diagnostics.append(Diagnostic(ref.path, ref.line, ref.col, "error", message))
    default: DesiredDefault | None = None
    if default_file is not None:
        files.append(display_path(default_file))
        doc, found = read_yaml(default_file, root=root)
        diagnostics.extend(found)
        if doc is not None:
            problems = schema.check("default", doc.data) + rules.check_default(doc.data)
            diagnostics.extend(doc.diagnostic(p) for p in problems)
            default = _default(doc, global_ignore)
    order = {name: index for index, name in enumerate(files)}
    diagnostics.sort(key=lambda d: (order.get(d.path, -1), d.line, d.col))
    return LoadResult(DesiredState(partners=partners, default=default), tuple(diagnostics), tuple(files))


def _ignore_set(data: Mapping[str, Any], global_ignore: frozenset[str]) -> frozenset[str]:
    own = data.get("ignore")
    names = frozenset(n for n in own if isinstance(n, str)) if isinstance(own, list) else frozenset()
    return names | global_ignore


def _partner(doc: YamlDocument, global_ignore: frozenset[str]) -> DesiredPartner | None:
    data = doc.data
    tenant_id = data.get("tenantId")
    if not model.is_guid(tenant_id):
        return None
    line, col = doc.pos(("tenantId",))
    sync = data.get(model.SYNC_PROPERTY)
    description = data.get("description")
    return DesiredPartner(
        tenant_id=tenant_id.lower(),
        properties={k: v for k, v in data.items() if k in model.PARTNER_PROPERTIES},
        sync=sync if isinstance(sync, dict) else None,
        source=SourceRef(doc.path, line, col),
        ignore=_ignore_set(data, global_ignore),
        description=description if isinstance(description, str) else None,
    )


def _default(doc: YamlDocument, global_ignore: frozenset[str]) -> DesiredDefault:
    data = doc.data
    return DesiredDefault(
        properties={k: v for k, v in data.items() if k in model.DEFAULT_PROPERTIES},
        source=SourceRef(doc.path, 1, 1),
        ignore=_ignore_set(data, global_ignore),
    )
