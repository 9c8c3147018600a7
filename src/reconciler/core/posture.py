"""What `xtap lint` and `xtap report` look at: the default and every partner, resolved, with where each
setting is written. Pure.

From the files (`from_files`), the default is `default.yaml` over Microsoft's service default
(`access.SERVICE_DEFAULT`), as `xtap access` answers, and each partner file is resolved against it. From
the tenant (`from_live`), the live default and every live partner; the files still give the names, the
descriptions and the `lintIgnore` entries of the partners they declare.

Each `Subject` knows where one of its leaves comes from: the partner's file and line, the default's, or
nowhere in the files (Microsoft's service default, or the tenant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core import access
from reconciler.core.state import DesiredDefault, DesiredPartner, DesiredState, LiveState, SourceRef

Source = Literal["files", "live"]
DEFAULT_KEY = "default"


@dataclass(frozen=True)
class Subject:
    """The default (`key` "default") or one partner (`key` its tenantId), as it is or will be."""

    key: str
    name: str  # "default", the partner's file name without .yaml, else its tenantId
    config: access.Configuration
    source: Source
    declared: DesiredPartner | None  # the partner's file, if one declares it
    default_file: DesiredDefault | None

    @property
    def is_default(self) -> bool:
        return self.key == DEFAULT_KEY

    @property
    def description(self) -> str | None:
        return self.declared.description if self.declared is not None else None

    def locate(self, path: str, origin: str) -> SourceRef | None:
        """The file:line:col a leaf (or setting) path of this subject is written at, if it is in the files.

        From the tenant nothing is: the files may say otherwise (that is drift, not posture)."""
        if self.source == "live":
            return None
        if origin == "partner" and self.declared is not None:
            return self.declared.where(path)
        if origin == "default" and self.default_file is not None:
            written = path.split(".", 1)[0] in self.default_file.properties
            return self.default_file.where(path) if written else self.default_file.source
        return None

    def where(self, path: str, origin: str) -> str:
        """Where a leaf comes from, in words: `policies/partners/x.yaml:12:3`, or what stands for a file."""
        found = self.locate(path, origin)
        if found is not None:
            return str(found)
        if self.source == "live":
            if origin == "partner":
                return "the partner's setting in the tenant"
            return "the tenant's default" if origin == "default" else "not set in the tenant"
        if origin == "none":
            return "not set"
        return "Microsoft's service default (no default.yaml sets it)"

    @property
    def anchor(self) -> SourceRef | None:
        """Where the subject itself is declared: the partner's tenantId, or default.yaml."""
        if self.source == "live":
            return None
        if self.declared is not None:
            return self.declared.source
        return self.default_file.source if self.default_file is not None else None


@dataclass(frozen=True)
class Posture:
    source: Source
    default: Subject
    partners: tuple[Subject, ...]  # in file order (files) or by name (live)
    defaults: Mapping[str, Any]  # the default configuration partners resolve against (Graph's shape)

    @property
    def subjects(self) -> tuple[Subject, ...]:
        return (self.default, *self.partners)

    def baseline(self) -> access.Configuration:
        """What a tenant without a partner configuration gets: the default alone."""
        return self.default.config


def file_stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".yaml", ".yml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def from_files(desired: DesiredState) -> Posture:
    written = dict(desired.default.properties) if desired.default is not None else {}
    defaults = {**access.SERVICE_DEFAULT, **written}
    default = Subject(
        DEFAULT_KEY, DEFAULT_KEY, access.configuration(None, defaults), "files", None, desired.default
    )
    partners = tuple(
        Subject(
            tid,
            file_stem(p.source.path),
            access.configuration(p.properties, defaults, p.sync),
            "files",
            p,
            desired.default,
        )
        for tid, p in sorted(desired.partners.items(), key=lambda item: item[1].source.path)
    )
    return Posture("files", default, partners, defaults)


def from_live(live: LiveState, desired: DesiredState) -> Posture:
    defaults = dict(live.default or {})
    default = Subject(
        DEFAULT_KEY, DEFAULT_KEY, access.configuration(None, defaults), "live", None, desired.default
    )
    partners = []
    for tid, partner in live.partners.items():
        declared = desired.partners.get(tid)
        name = file_stem(declared.source.path) if declared is not None else tid
        config = access.configuration(partner.raw, defaults, partner.sync)
        partners.append(Subject(tid, name, config, "live", declared, desired.default))
    partners.sort(key=lambda s: (s.declared is None, s.name.lower(), s.key))
    return Posture("live", default, tuple(partners), defaults)
