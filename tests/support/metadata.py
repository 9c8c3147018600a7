"""A synthetic Graph metadata: the shipped excerpt plus what Graph might add next, for the tests that prove
xtap needs no code change for it. Use it as `with metadata.using(synthetic()):`.

What it adds to the shipped v1.0 excerpt:
- a complex property `guestLimits` on partners and on the default, of a new complex type with an
  `Edm.Int32` member (`maxGuests`) and an `Edm.String` member (`label`); the property carries an
  out-of-line Core.Description, `label` an inline one, `maxGuests` none;
- an enum member `audited` in the access type (`crossTenantAccessPolicyTargetConfigurationAccessType`);
- a new target slot `servicePrincipals` in `crossTenantAccessPolicyB2BSetting` (and so in every B2B
  setting and in tenant restrictions), a target configuration like `usersAndGroups`;
- a new targetType `servicePrincipal`.
"""

from __future__ import annotations

from functools import cache

from reconciler.core import metadata

GUEST_LIMITS_TYPE = "crossTenantAccessPolicyGuestLimits"
GUEST_LIMITS_DESCRIPTION = "Limits on guests invited from the partner tenant."
LABEL_DESCRIPTION = "A label shown to administrators."

_NEW_TYPE = f"""      <ComplexType Name="{GUEST_LIMITS_TYPE}">
        <Property Name="maxGuests" Type="Edm.Int32" />
        <Property Name="label" Type="Edm.String">
          <Annotation Term="Org.OData.Core.V1.Description" String="{LABEL_DESCRIPTION}" />
        </Property>
      </ComplexType>
"""
_NEW_PROPERTY = f'        <Property Name="guestLimits" Type="graph.{GUEST_LIMITS_TYPE}" />\n'
_DESCRIBED = f"""      <Annotations Target="microsoft.graph.crossTenantAccessPolicyConfigurationPartner/guestLimits">
        <Annotation Term="Org.OData.Core.V1.Description" String="{GUEST_LIMITS_DESCRIPTION}" />
      </Annotations>
"""


def insert(text: str, anchor: str, addition: str, *, before: bool = False, start: int = 0) -> str:
    """`addition` next to the first `anchor` at or after `start` (which must exist)."""
    at = text.index(anchor, start) + (0 if before else len(anchor))
    return text[:at] + addition + text[at:]


def synthetic_xml() -> str:
    text = metadata.shipped_xml()
    text = insert(
        text, '<Member Name="blocked" Value="2" />\n', '        <Member Name="audited" Value="4" />\n'
    )
    text = insert(
        text,
        '<Member Name="application" Value="3" />\n',
        '        <Member Name="servicePrincipal" Value="5" />\n',
    )
    text = insert(
        text,
        '<ComplexType Name="crossTenantAccessPolicyB2BSetting">\n',
        '        <Property Name="servicePrincipals" Type="graph.crossTenantAccessPolicyTargetConfiguration" />\n',
    )
    text = insert(
        text, '      <ComplexType Name="crossTenantAccessPolicyInboundTrust">', _NEW_TYPE, before=True
    )
    for entity in (
        "crossTenantAccessPolicyConfigurationDefault",
        "crossTenantAccessPolicyConfigurationPartner",
    ):
        start = text.index(f'<EntityType Name="{entity}"')
        text = insert(text, '        <Property Name="inboundTrust"', _NEW_PROPERTY, before=True, start=start)
    return insert(text, "    </Schema>\n", _DESCRIBED, before=True)


@cache
def synthetic() -> metadata.Metadata:
    return metadata.parse(synthetic_xml())
