"""Policy files on disk: find them, read them (safely), and load one tenant's folder into a DesiredState.

The only module that walks the policies folder. Reading refuses what a pull request could use against
the CI runner: links that lead outside the repository, link loops, FIFOs and devices, files over 1 MiB,
names with control characters (a newline in a name could forge a GitHub workflow command in a log).
A YAML file that xtap would not read where it lies (`policies/x.yaml`, `policies/partner/x.yaml`, a
hidden `partners/.x.yaml`) is named with the place it belongs: silently skipped, its partner would be
deleted by a pruning run.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.core.desired import LoadResult, ReadFile, build_desired
from reconciler.core.documents import MAX_BYTES, Diagnostic, YamlDocument, parse_yaml
from reconciler.core.errors import XtapError
from reconciler.core.rules import has_control
from reconciler.core.text import printable

YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_NAMES = ("default.yaml", "default.yml")
ROOT_POLICY_NAME = "policy.yaml"  # the root cross-tenant access policy (allowedCloudEndpoints)
PARTNERS = "partners"


def display_path(path: Path | str, cwd: str | None = None) -> str:
    """Relative to the current directory when the file is under it, else absolute (POSIX separators);
    control characters escaped, so a name cannot break a line of output."""
    here = cwd if cwd is not None else os.getcwd()
    absolute = os.path.abspath(os.path.join(here, path))
    prefix = here.rstrip(os.sep) + os.sep
    shown = absolute[len(prefix) :] if absolute.startswith(prefix) else absolute
    return printable(shown.replace(os.sep, "/"))


def read_yaml(
    file: Path, *, root: Path | None = None, shown: str | None = None
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Read one YAML file (refusing symlinks that lead outside `root`, and files over 1 MiB)."""
    shown = shown if shown is not None else display_path(file)
    if has_control(file.name):
        return None, [
            Diagnostic(shown, 0, 0, "error", "the name has a control character (shown escaped); rename it")
        ]
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
        return f"symbolic link leads outside {display_path(root)} (to {printable(str(resolved))})"
    return None


# --- policy files ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Misplaced:
    """A YAML file xtap does not read where it lies, why, and where it belongs."""

    path: Path
    reason: str  # "partner files belong under policies/partners/"
    advice: str  # "move it to policies/partners/x.yaml"
    partner: bool = True  # it would declare a partner: pruning would delete that partner

    def diagnostic(self, *, prune: bool) -> Diagnostic:
        message = f"not read: {self.reason}; {self.advice}"
        if prune and self.partner:
            message += "; with prune on, the partner it declares would be deleted"
            return Diagnostic(display_path(self.path), 0, 0, "error", message)
        return Diagnostic(display_path(self.path), 0, 0, "warning", message)


@dataclass(frozen=True)
class PolicyFiles:
    """The files of one policies folder."""

    partners: tuple[Path, ...]
    default: Path | None
    diagnostics: tuple[Diagnostic, ...] = ()
    misplaced: tuple[Misplaced, ...] = ()
    policy: Path | None = None  # policy.yaml: the root policy's settings


def find_policy_files(policies_dir: Path) -> PolicyFiles:
    """`default.yaml` (or `.yml`) and every `*.yaml`/`*.yml` under `partners/`, any name, sorted."""
    shown = display_path(policies_dir)
    if not policies_dir.is_dir():
        return PolicyFiles((), None, (Diagnostic(shown, 0, 0, "error", "policies folder not found"),))
    diagnostics: list[Diagnostic] = []
    misplaced: list[Misplaced] = []
    defaults = [policies_dir / n for n in DEFAULT_NAMES if (policies_dir / n).exists()]
    if len(defaults) > 1:
        message = "both default.yaml and default.yml exist; keep one"
        diagnostics.append(Diagnostic(display_path(defaults[1]), 0, 0, "error", message))
    partners: list[Path] = []
    partners_dir = policies_dir / "partners"
    problem = link_problem(partners_dir, policies_dir)
    if problem is not None:
        diagnostics.append(Diagnostic(display_path(partners_dir), 0, 0, "error", problem))
    elif partners_dir.is_dir():
        partners.extend(_walk_partners(partners_dir, policies_dir, diagnostics, misplaced))
    elif partners_dir.exists():
        diagnostics.append(Diagnostic(display_path(partners_dir), 0, 0, "error", "partners is not a folder"))
    _scan_outside_partners(policies_dir, diagnostics, misplaced)
    policy = policies_dir / ROOT_POLICY_NAME
    return PolicyFiles(
        tuple(sorted(partners)),
        defaults[0] if defaults else None,
        tuple(diagnostics),
        tuple(sorted(misplaced, key=lambda m: m.path)),
        policy if policy.exists() or policy.is_symlink() else None,
    )


def _bad_name(path: Path, diagnostics: list[Diagnostic]) -> bool:
    """A name with a control character is refused (shown escaped) and neither read nor entered."""
    if not has_control(path.name):
        return False
    message = "the name has a control character (shown escaped); rename it"
    diagnostics.append(Diagnostic(display_path(path), 0, 0, "error", message))
    return True


def _is_yaml(name: str) -> bool:
    return name.lower().endswith(YAML_SUFFIXES)


def _visible(name: str) -> str:
    return name.lstrip(".") or name


def _misplaced_at_top(policies_dir: Path, name: str) -> Misplaced | None:
    """A YAML file directly in the policies folder: the default, the root policy, or a stray partner."""
    path = policies_dir / name
    if name in (*DEFAULT_NAMES, ROOT_POLICY_NAME):
        return None
    visible = _visible(name)
    if visible.lower() in DEFAULT_NAMES:
        advice = f"rename it to {display_path(policies_dir / visible.lower())} (names are case-sensitive)"
        return Misplaced(
            path, _why(name, "the default configuration has its own name"), advice, partner=False
        )
    if visible.lower().rsplit(".", 1)[0] == "policy":
        advice = f"rename it to {display_path(policies_dir / ROOT_POLICY_NAME)}"
        return Misplaced(path, _why(name, "the root policy file has one name"), advice, partner=False)
    where = display_path(policies_dir / PARTNERS) + "/"
    advice = f"move it to {display_path(policies_dir / PARTNERS / visible)}"
    return Misplaced(path, _why(name, f"partner files belong under {where}"), advice)


def _why(name: str, reason: str) -> str:
    return "hidden files are skipped" if name.startswith(".") else reason


def _scan_outside_partners(
    policies_dir: Path, diagnostics: list[Diagnostic], misplaced: list[Misplaced]
) -> None:
    """YAML files in the policies folder that are not the default, the root policy or under partners/
    (links are not followed: nothing here is read, only named)."""
    partners_dir = policies_dir / PARTNERS
    for dirpath, dirnames, filenames in os.walk(policies_dir):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if here / d != partners_dir and not _bad_name(here / d, diagnostics)
        )
        for name in sorted(filenames):
            if _bad_name(here / name, diagnostics) or not _is_yaml(name):
                continue
            if here == policies_dir:
                found = _misplaced_at_top(policies_dir, name)
            else:
                where = display_path(partners_dir) + "/"
                advice = f"move it to {display_path(partners_dir / _visible(name))}"
                found = Misplaced(here / name, _hidden_or(here, policies_dir, name, where), advice)
            if found is not None:
                misplaced.append(found)


def _hidden_or(folder: Path, top: Path, name: str, where: str) -> str:
    """Why a file below `top` is not read: a hidden file, a hidden folder on its way, or the wrong folder."""
    if name.startswith("."):
        return "hidden files are skipped"
    hidden = next((part for part in folder.relative_to(top).parts if part.startswith(".")), None)
    if hidden is not None:
        return f"it is inside the hidden folder {printable(hidden)}"
    return f"partner files belong under {where}"


def _walk_partners(
    partners_dir: Path, policies_dir: Path, diagnostics: list[Diagnostic], misplaced: list[Misplaced]
) -> list[Path]:
    """Every YAML file under partners/, following links to folders only while they stay inside the
    policies folder (and each real folder once, so a link loop ends). Hidden files and folders are not
    read: their YAML files are named as misplaced."""
    found: list[Path] = []
    seen: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(partners_dir, followlinks=True):
        here = Path(dirpath)
        real = here.resolve()
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        keep = []
        for name in sorted(dirnames):
            if _bad_name(here / name, diagnostics):
                continue
            problem = link_problem(here / name, policies_dir)
            if problem is not None:
                diagnostics.append(Diagnostic(display_path(here / name), 0, 0, "error", problem))
            elif name.startswith("."):
                _hidden_folder(here / name, partners_dir, diagnostics, misplaced)
            else:
                keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            if _bad_name(here / name, diagnostics) or not _is_yaml(name):
                continue
            if name.startswith("."):
                advice = f"rename it to {display_path(here / _visible(name))}"
                misplaced.append(Misplaced(here / name, "hidden files are skipped", advice))
            else:
                found.append(here / name)
    return found


def _hidden_folder(
    folder: Path, partners_dir: Path, diagnostics: list[Diagnostic], misplaced: list[Misplaced]
) -> None:
    """The YAML files in a hidden folder under partners/ (not read; links not followed)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _bad_name(here / d, diagnostics))
        for name in sorted(filenames):
            if _bad_name(here / name, diagnostics) or not _is_yaml(name):
                continue
            reason = _hidden_or(here, partners_dir, name, "")
            advice = f"move it to {display_path(partners_dir / _visible(name))}"
            misplaced.append(Misplaced(here / name, reason, advice))


def load_desired(
    policies_dir: Path,
    *,
    global_ignore: frozenset[str] = frozenset(),
    home_tenants: Iterable[str] = (),
    prune: bool = False,
) -> LoadResult:
    """Read, check and load one tenant's policies folder. With `prune`, a misplaced partner file is an
    error (its partner would be deleted), not a warning."""
    found = find_policy_files(policies_dir)
    result = load_files(
        found.partners,
        found.default,
        global_ignore=global_ignore,
        root=policies_dir,
        home_tenants=home_tenants,
        policy_file=found.policy,
    )
    located = found.diagnostics + tuple(m.diagnostic(prune=prune) for m in found.misplaced)
    if not found.partners and found.default is None and found.policy is None and not located:
        note = Diagnostic(display_path(policies_dir), 0, 0, "warning", "no policy files found")
        return LoadResult(result.desired, (note, *result.diagnostics), result.files)
    return LoadResult(result.desired, located + result.diagnostics, result.files)


def load_files(
    partner_files: Sequence[Path],
    default_file: Path | None,
    *,
    global_ignore: frozenset[str] = frozenset(),
    root: Path | None = None,
    home_tenants: Iterable[str] = (),
    policy_file: Path | None = None,
) -> LoadResult:
    """Read the given partner files, default file and root-policy file, then check and load them together."""
    cwd = os.getcwd()
    partners = [read_file(file, root=root, shown=display_path(file, cwd)) for file in partner_files]
    default = read_file(default_file, root=root) if default_file is not None else None
    policy = read_file(policy_file, root=root) if policy_file is not None else None
    return build_desired(
        partners, default, global_ignore=global_ignore, home_tenants=home_tenants, policy_file=policy
    )


def read_file(file: Path, *, root: Path | None = None, shown: str | None = None) -> ReadFile:
    shown = shown if shown is not None else display_path(file)
    document, diagnostics = read_yaml(file, root=root, shown=shown)
    return ReadFile(shown, document, diagnostics)


# --- outputs --------------------------------------------------------------------------------------------


def write_output(path: Path | str, text: str) -> None:
    """Write an output file (`--out`, export's files) whole or not at all, never through a link.

    A link already at `path` is refused: in CI the folder may come from a pull request, and a link there
    would make xtap overwrite whatever it points at. The text goes to a new file beside `path` that is
    renamed over it, so a run killed half-way leaves the old file (or none), never half of the new one.
    """
    target = Path(path)
    shown = display_path(target)
    if target.is_symlink():
        raise XtapError(f"cannot write {shown}: it is a symbolic link (remove it, or write elsewhere)")
    if target.is_dir():
        raise XtapError(f"cannot write {shown}: it is a folder")
    import secrets  # only when writing: `xtap validate` (the pre-commit hook) never needs it

    temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    try:
        # O_EXCL: never reuse (or follow) something already there; 0o666 less the umask, as open() would.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise XtapError(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)  # a rename replaces a link that appeared meanwhile; it never follows it
    except OSError as exc:
        raise XtapError(f"cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)  # gone after the rename; removed if anything failed (or ^C)
