"""Microsoft Graph v1.0 metadata (CSDL) for the cross-tenant access policy types.

The shipped XML (`data/graph-v1.0-xtap-types.xml`) is a verbatim excerpt of Microsoft's published
`v1.0-Prod.csdl`; it is the authority for property names, types, nullability and enum members. The JSON
Schemas in `schemas/`, the emulator's request checks and the managed-property catalog are all derived
from it, so a newer excerpt is the only thing to replace when Graph adds a property.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from importlib import resources

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_NS = "graph."


@dataclass(frozen=True)
class Property:
    name: str
    type: str  # "Edm.Boolean", "Edm.String", a complex/enum type name, ...
    collection: bool
    nullable: bool


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


def _props(element: ET.Element, tag: str) -> list[Property]:
    out = []
    for p in element.findall(_EDM + tag):
        type_name, collection = _type_ref(p.attrib["Type"])
        out.append(
            Property(
                name=p.attrib["Name"],
                type=type_name,
                collection=collection,
                nullable=p.attrib.get("Nullable", "true") != "false",
            )
        )
    return out


def parse(xml_text: str) -> Metadata:
    root = ET.fromstring(xml_text)
    raw: dict[str, tuple[str, str | None, list[Property], list[Property]]] = {}
    enums: dict[str, tuple[str, ...]] = {}
    for schema in root.iter(_EDM + "Schema"):
        for enum in schema.findall(_EDM + "EnumType"):
            enums[enum.attrib["Name"]] = tuple(m.attrib["Name"] for m in enum.findall(_EDM + "Member"))
        for tag, kind in (("ComplexType", "complex"), ("EntityType", "entity")):
            for t in schema.findall(_EDM + tag):
                base = t.attrib.get("BaseType")
                raw[t.attrib["Name"]] = (
                    kind,
                    _type_ref(base)[0] if base else None,
                    _props(t, "Property"),
                    _props(t, "NavigationProperty"),
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


@cache
def load() -> Metadata:
    text = resources.files("reconciler").joinpath("data/graph-v1.0-xtap-types.xml").read_text("utf-8")
    return parse(text)


PARTNER_TYPE = "crossTenantAccessPolicyConfigurationPartner"
DEFAULT_TYPE = "crossTenantAccessPolicyConfigurationDefault"
SYNC_TYPE = "crossTenantIdentitySyncPolicyPartner"
POLICY_TYPE = "crossTenantAccessPolicy"
