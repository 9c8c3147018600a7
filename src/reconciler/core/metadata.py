"""Microsoft Graph v1.0 metadata (CSDL) for the cross-tenant access policy types.

The shipped XML (`data/graph-v1.0-xtap-types.xml`) is a verbatim excerpt of Microsoft's published
`v1.0-Prod.csdl`; it is the authority for property names, types, nullability and enum members. The JSON
Schemas in `schemas/`, the emulator's request checks and the managed-property catalog are all derived
from it, so a newer excerpt is the only thing to replace when Graph adds a property.

Every command needs the metadata, and parsing XML at start-up (with xml.etree and importlib.resources
imported for it) was a large part of `xtap validate`'s start-up. So the parsed excerpt ships as Python
data too, `core/metadata_shipped.py`, written from the XML by `python -m reconciler.cli.metadata --write`
(`source`); a test keeps it equal to the parsed XML. `parse` stays for other excerpts (tests, the tool).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by `parse`, when XML is actually read: start-up does without
    import xml.etree.ElementTree as ET

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_NS = "graph."
# The OData vocabulary term for a description, spelled in full or with the customary `Core` alias.
_DESCRIPTION_TERMS = frozenset({"Org.OData.Core.V1.Description", "Core.Description"})


@dataclass(frozen=True)
class Property:
    name: str
    type: str  # "Edm.Boolean", "Edm.String", a complex/enum type name, ...
    collection: bool
    nullable: bool
    description: str | None = None  # the metadata's own Core.Description annotation, if it has one


@dataclass(frozen=True)
class StructuredType:
    name: str
    kind: str  # "complex" or "entity"
    properties: tuple[Property, ...]
    navigation: tuple[Property, ...]

    def property(self, name: str) -> Property | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None


@dataclass(frozen=True)
class Metadata:
    types: dict[str, StructuredType]
    enums: dict[str, tuple[str, ...]]

    def type(self, name: str) -> StructuredType:
        return self.types[name]

    def is_primitive(self, type_name: str) -> bool:
        return type_name.startswith("Edm.")

    def is_enum(self, type_name: str) -> bool:
        return type_name in self.enums


def _type_ref(raw: str) -> tuple[str, bool]:
    collection = raw.startswith("Collection(")
    if collection:
        raw = raw[len("Collection(") : -1]
    if raw.startswith(_NS):
        raw = raw[len(_NS) :]
    elif raw.startswith("microsoft.graph."):
        raw = raw[len("microsoft.graph.") :]
    return raw, collection


def _description(element: ET.Element) -> str | None:
    """The Core.Description annotation directly inside `element` (as an attribute or a <String> child)."""
    for annotation in element.findall(_EDM + "Annotation"):
        if annotation.attrib.get("Term") in _DESCRIPTION_TERMS:
            text = annotation.attrib.get("String")
            if text is None:
                child = annotation.find(_EDM + "String")
                text = child.text if child is not None else None
            return text.strip() if text and text.strip() else None
    return None


def _external_descriptions(root: ET.Element) -> dict[tuple[str, str], str]:
    """Descriptions given out of line: <Annotations Target="microsoft.graph.type/property">."""
    out: dict[tuple[str, str], str] = {}
    for block in root.iter(_EDM + "Annotations"):
        owner, _, member = block.attrib.get("Target", "").partition("/")
        text = _description(block)
        if member and text is not None:
            out[(_type_ref(owner)[0], member)] = text
    return out


def _props(
    element: ET.Element, tag: str, owner: str, described: dict[tuple[str, str], str]
) -> list[Property]:
    out = []
    for p in element.findall(_EDM + tag):
        type_name, collection = _type_ref(p.attrib["Type"])
        name = p.attrib["Name"]
        out.append(
            Property(
                name=name,
                type=type_name,
                collection=collection,
                nullable=p.attrib.get("Nullable", "true") != "false",
                description=_description(p) or described.get((owner, name)),
            )
        )
    return out


def parse(xml_text: str) -> Metadata:
    import xml.etree.ElementTree as ET  # only here: start-up reads metadata_shipped

    root = ET.fromstring(xml_text)
    described = _external_descriptions(root)
    raw: dict[str, tuple[str, str | None, list[Property], list[Property]]] = {}
    enums: dict[str, tuple[str, ...]] = {}
    for schema in root.iter(_EDM + "Schema"):
        for enum in schema.findall(_EDM + "EnumType"):
            enums[enum.attrib["Name"]] = tuple(m.attrib["Name"] for m in enum.findall(_EDM + "Member"))
        for tag, kind in (("ComplexType", "complex"), ("EntityType", "entity")):
            for t in schema.findall(_EDM + tag):
                base = t.attrib.get("BaseType")
                name = t.attrib["Name"]
                raw[name] = (
                    kind,
                    _type_ref(base)[0] if base else None,
                    _props(t, "Property", name, described),
                    _props(t, "NavigationProperty", name, described),
                )

    def resolve(name: str) -> tuple[list[Property], list[Property]]:
        _kind, base, props, navs = raw[name]
        if base is None or base not in raw:
            return list(props), list(navs)
        base_props, base_navs = resolve(base)
        return base_props + props, base_navs + navs

    types = {}
    for name, (kind, _base, _p, _n) in raw.items():
        props, navs = resolve(name)
        types[name] = StructuredType(name, kind, tuple(props), tuple(navs))
    return Metadata(types=types, enums=enums)


SHIPPED_XML = "data/graph-v1.0-xtap-types.xml"  # inside the `reconciler` package


def shipped_xml() -> str:
    """The shipped XML excerpt, as text (what `metadata_shipped` is made from)."""
    from importlib import resources  # only to regenerate or check metadata_shipped

    return resources.files("reconciler").joinpath(SHIPPED_XML).read_text("utf-8")


@cache
def _shipped() -> Metadata:
    from reconciler.core import metadata_shipped  # generated data, read on first use

    return from_data(metadata_shipped.TYPES, metadata_shipped.ENUMS)


# The shapes of metadata as plain data: (name, kind, properties, navigation); a property is
# (name, type, collection, nullable, description).
PropertyData = tuple[str, str, bool, bool, str | None]
TypeData = tuple[str, str, tuple[PropertyData, ...], tuple[PropertyData, ...]]


def from_data(types: tuple[TypeData, ...], enums: tuple[tuple[str, tuple[str, ...]], ...]) -> Metadata:
    return Metadata(
        types={
            name: StructuredType(
                name, kind, tuple(Property(*p) for p in props), tuple(Property(*p) for p in navs)
            )
            for name, kind, props, navs in types
        },
        enums=dict(enums),
    )


def source(md: Metadata) -> str:
    """`md` as the text of a Python module (`metadata_shipped.py`) that `from_data` reads back."""

    def prop(p: Property) -> str:
        return f"        ({p.name!r}, {p.type!r}, {p.collection!r}, {p.nullable!r}, {p.description!r}),\n"

    lines = [
        '"""The shipped Graph metadata excerpt, parsed: generated from data/graph-v1.0-xtap-types.xml by\n',
        '`python -m reconciler.cli.metadata --write`; do not edit (a test keeps it equal to the XML)."""\n',
        "\n# fmt: off\n",
        "from reconciler.core.metadata import TypeData\n\n",
        "TYPES: tuple[TypeData, ...] = (\n",
    ]
    for t in md.types.values():
        lines.append(f"    ({t.name!r}, {t.kind!r}, (\n")
        lines.extend(prop(p) for p in t.properties)
        lines.append("    ), (\n")
        lines.extend(prop(p) for p in t.navigation)
        lines.append("    )),\n")
    lines.append(")\nENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (\n")
    lines.extend(f"    ({name!r}, {members!r}),\n" for name, members in md.enums.items())
    lines.append(")\n")
    return "".join(lines)


_in_use: list[Metadata] = []


def load() -> Metadata:
    """The metadata in force: the shipped excerpt, or the one a `using(...)` block put in place."""
    return _in_use[-1] if _in_use else _shipped()


class _Using:
    def __init__(self, md: Metadata) -> None:
        self._md = md

    def __enter__(self) -> Metadata:
        _in_use.append(self._md)
        return self._md

    def __exit__(self, *exc: object) -> None:
        _in_use.remove(self._md)


def using(md: Metadata) -> _Using:
    """`with metadata.using(parse(xml)):` — everything inside reads `md` instead of the shipped metadata."""
    return _Using(md)


PARTNER_TYPE = "crossTenantAccessPolicyConfigurationPartner"
DEFAULT_TYPE = "crossTenantAccessPolicyConfigurationDefault"
SYNC_TYPE = "crossTenantIdentitySyncPolicyPartner"
POLICY_TYPE = "crossTenantAccessPolicy"
