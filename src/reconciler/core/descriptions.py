"""The words of the JSON Schemas: what each property means, shown by editors as hover help.

Ours first (paraphrased from the Graph v1.0 resource pages), then the metadata's own `Core.Description`
annotation, then a generic line that names the Graph type and member. A property Graph adds therefore
needs no code here: it gets the metadata's words, or the generic line until someone writes better ones.
"""

from __future__ import annotations

from reconciler.core import metadata, model

# Marks the generic line; a test keeps it out of the schemas built from the shipped metadata.
GENERIC = "(no description in xtap yet)"

_TOP: dict[str, str] = {
    "tenantId": "The partner tenant's ID (a GUID): the key of the partner configuration, set once on create.",
    "description": "A note for people (ticket, owner, reason). Kept in Git only; never sent to Graph.",
    "ignore": (
        "Managed properties that xtap leaves alone for this file: never changed, never reported as drift "
        "(like Argo CD's ignoreDifferences)."
    ),
    "appServiceConnectInbound": (
        "Inbound app service connect settings: which applications can connect across tenant boundaries "
        "with this organization."
    ),
    "automaticUserConsentSettings": (
        "Automatic user consent: whether the consent prompt is suppressed for users going to (outbound) or "
        "coming from (inbound) this tenant. Unconfigured members inherit the default, which is always false."
    ),
    "b2bCollaborationInbound": (
        "Who from the other organization may access your resources through Microsoft Entra B2B "
        "collaboration, and to which of your applications."
    ),
    "b2bCollaborationOutbound": (
        "Which of your users and groups may access the other organization's resources through B2B "
        "collaboration, and which of its applications."
    ),
    "b2bDirectConnectInbound": (
        "Who from the other organization may access your resources through B2B direct connect (Teams shared "
        "channels). Both tenants must enable it."
    ),
    "b2bDirectConnectOutbound": (
        "Which of your users and groups may access the other organization's resources through B2B direct "
        "connect."
    ),
    "inboundTrust": (
        "Which claims from the other tenant's MFA and device compliance your Conditional Access policies "
        "accept."
    ),
    "invitationRedemptionIdentityProviderConfiguration": (
        "The order of identity providers a guest is offered when redeeming a B2B invitation "
        "(default configuration only)."
    ),
    "m365CollaborationInbound": (
        "Inbound Microsoft 365 collaboration: which users of the other organization may use Microsoft 365 "
        "cross-tenant capabilities with you. Note the member is `users`, not `usersAndGroups`."
    ),
    "m365CollaborationOutbound": (
        "Outbound Microsoft 365 collaboration: which of your users and groups may use Microsoft 365 "
        "cross-tenant capabilities with the other organization."
    ),
    "tenantRestrictions": (
        "Tenant restrictions: which external identities from this tenant your users may sign in with, and to "
        "which applications, on your managed networks and devices."
    ),
    model.SYNC_PROPERTY: (
        "The cross-tenant identity synchronization policy for this partner (users synced into your tenant). "
        "Absent or null: no policy."
    ),
}

# What leaving a managed property out (or null) means, by file.
_ABSENT = {
    "partner": "Left out or null: inherits the default configuration.",
    "default": "Left out: xtap leaves the tenant's value as it is.",
}

_MEMBERS: dict[tuple[str, str], str] = {
    ("crossTenantAccessPolicyB2BSetting", "applications"): (
        "The applications targeted by this setting, and whether they are allowed or blocked."
    ),
    ("crossTenantAccessPolicyB2BSetting", "usersAndGroups"): (
        "The users and groups targeted by this setting, and whether they are allowed or blocked."
    ),
    ("crossTenantAccessPolicyTenantRestrictions", "applications"): (
        "The applications the external identities may reach under tenant restrictions."
    ),
    ("crossTenantAccessPolicyTenantRestrictions", "usersAndGroups"): (
        "The external users and groups your users may sign in as under tenant restrictions."
    ),
    ("crossTenantAccessPolicyAppServiceConnectSetting", "applications"): (
        "The applications that may connect across tenant boundaries, and whether they are allowed or blocked."
    ),
    ("crossTenantAccessPolicyM365CollaborationInboundSetting", "users"): (
        "The other organization's users targeted by this setting (targetType user; the docs use AllUsers)."
    ),
    ("crossTenantAccessPolicyM365CollaborationOutboundSetting", "usersAndGroups"): (
        "Your users and groups targeted by this setting."
    ),
    ("crossTenantAccessPolicyTargetConfiguration", "accessType"): (
        "Whether the targets are allowed or blocked: `allowed` or `blocked`."
    ),
    ("crossTenantAccessPolicyTargetConfiguration", "targets"): (
        "The targets: an unordered set (order does not matter to xtap or Graph)."
    ),
    ("crossTenantAccessPolicyTarget", "target"): (
        "A user or group object ID, an application (client) ID, or a keyword: AllUsers (targetType user), "
        "AllApplications, Office365 or AllMicrosoftApps (targetType application)."
    ),
    ("crossTenantAccessPolicyTarget", "targetType"): "What `target` is: `user`, `group` or `application`.",
    ("crossTenantAccessPolicyInboundTrust", "isMfaAccepted"): (
        "Accept MFA performed in the other tenant (no second MFA prompt in yours)."
    ),
    ("crossTenantAccessPolicyInboundTrust", "isCompliantDeviceAccepted"): (
        "Accept the other tenant's compliant-device claims."
    ),
    ("crossTenantAccessPolicyInboundTrust", "isHybridAzureADJoinedDeviceAccepted"): (
        "Accept the other tenant's Microsoft Entra hybrid joined device claims."
    ),
    ("inboundOutboundPolicyConfiguration", "inboundAllowed"): (
        "Suppress the consent prompt for users from the other tenant (the other tenant must allow outbound)."
    ),
    ("inboundOutboundPolicyConfiguration", "outboundAllowed"): (
        "Suppress the consent prompt for your users going to the other tenant (it must allow inbound)."
    ),
    ("defaultInvitationRedemptionIdentityProviderConfiguration", "fallbackIdentityProvider"): (
        "The identity provider used when none of the primary ones applies. Always given: "
        "defaultConfiguredIdp, emailOneTimePasscode or microsoftAccount."
    ),
    ("defaultInvitationRedemptionIdentityProviderConfiguration", "primaryIdentityProviderPrecedenceOrder"): (
        "The identity providers offered first, in order of precedence (order matters): "
        "azureActiveDirectory, externalFederation, socialIdentityProviders, each at most once."
    ),
    ("crossTenantIdentitySyncPolicyPartner", "displayName"): "A display name for the sync policy.",
    ("crossTenantIdentitySyncPolicyPartner", "userSyncInbound"): (
        "Whether users from the partner tenant may be synchronized into yours."
    ),
    ("crossTenantUserSyncInbound", "isSyncAllowed"): (
        "Allow cross-tenant synchronization of users into your tenant. false stops further sync; users "
        "already synced stay."
    ),
}


def _generic(owner: str, prop: metadata.Property) -> str:
    shape = f"a list of {prop.type}" if prop.collection else prop.type
    return f"Microsoft Graph's {owner}.{prop.name} ({shape}). {GENERIC}"


def own(name: str) -> str:
    """A key with a meaning of its own in our files: tenantId, description, ignore, identitySynchronization."""
    return _TOP[name]


def top(owner: str, prop: metadata.Property, kind: str) -> str:
    """A top-level managed property of a partner file (kind "partner") or of default.yaml ("default")."""
    text = _TOP.get(prop.name) or prop.description or _generic(owner, prop)
    return f"{text} {_ABSENT[kind]}"


def member(owner: str, prop: metadata.Property) -> str:
    """A member of a complex type."""
    return _MEMBERS.get((owner, prop.name)) or prop.description or _generic(owner, prop)
