"""The shipped Graph metadata excerpt, parsed: generated from data/graph-v1.0-xtap-types.xml by
`python -m reconciler.cli.metadata --write`; do not edit (a test keeps it equal to the XML)."""

# fmt: off
from reconciler.core.metadata import TypeData

TYPES: tuple[TypeData, ...] = (
    ('crossTenantAccessPolicyAppServiceConnectSetting', 'complex', (
        ('applications', 'crossTenantAccessPolicyTargetConfiguration', False, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyB2BSetting', 'complex', (
        ('applications', 'crossTenantAccessPolicyTargetConfiguration', False, True, None),
        ('usersAndGroups', 'crossTenantAccessPolicyTargetConfiguration', False, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyInboundTrust', 'complex', (
        ('isCompliantDeviceAccepted', 'Edm.Boolean', False, True, None),
        ('isHybridAzureADJoinedDeviceAccepted', 'Edm.Boolean', False, True, None),
        ('isMfaAccepted', 'Edm.Boolean', False, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyM365CollaborationInboundSetting', 'complex', (
        ('users', 'crossTenantAccessPolicyTargetConfiguration', False, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyM365CollaborationOutboundSetting', 'complex', (
        ('usersAndGroups', 'crossTenantAccessPolicyTargetConfiguration', False, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyTarget', 'complex', (
        ('target', 'Edm.String', False, True, None),
        ('targetType', 'crossTenantAccessPolicyTargetType', False, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyTargetConfiguration', 'complex', (
        ('accessType', 'crossTenantAccessPolicyTargetConfigurationAccessType', False, True, None),
        ('targets', 'crossTenantAccessPolicyTarget', True, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyTenantRestrictions', 'complex', (
        ('applications', 'crossTenantAccessPolicyTargetConfiguration', False, True, None),
        ('usersAndGroups', 'crossTenantAccessPolicyTargetConfiguration', False, True, None),
        ('devices', 'devicesFilter', False, True, None),
    ), (
    )),
    ('crossTenantUserSyncInbound', 'complex', (
        ('isSyncAllowed', 'Edm.Boolean', False, True, None),
    ), (
    )),
    ('defaultInvitationRedemptionIdentityProviderConfiguration', 'complex', (
        ('fallbackIdentityProvider', 'b2bIdentityProvidersType', False, True, None),
        ('primaryIdentityProviderPrecedenceOrder', 'b2bIdentityProvidersType', True, True, None),
    ), (
    )),
    ('devicesFilter', 'complex', (
        ('mode', 'crossTenantAccessPolicyTargetConfigurationAccessType', False, True, None),
        ('rule', 'Edm.String', False, True, None),
    ), (
    )),
    ('inboundOutboundPolicyConfiguration', 'complex', (
        ('inboundAllowed', 'Edm.Boolean', False, True, None),
        ('outboundAllowed', 'Edm.Boolean', False, True, None),
    ), (
    )),
    ('invitationRedemptionIdentityProviderConfiguration', 'complex', (
        ('fallbackIdentityProvider', 'b2bIdentityProvidersType', False, True, None),
        ('primaryIdentityProviderPrecedenceOrder', 'b2bIdentityProvidersType', True, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyConfigurationDefault', 'entity', (
        ('id', 'Edm.String', False, False, None),
        ('appServiceConnectInbound', 'crossTenantAccessPolicyAppServiceConnectSetting', False, True, None),
        ('automaticUserConsentSettings', 'inboundOutboundPolicyConfiguration', False, True, None),
        ('b2bCollaborationInbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('b2bCollaborationOutbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('b2bDirectConnectInbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('b2bDirectConnectOutbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('inboundTrust', 'crossTenantAccessPolicyInboundTrust', False, True, None),
        ('invitationRedemptionIdentityProviderConfiguration', 'defaultInvitationRedemptionIdentityProviderConfiguration', False, True, None),
        ('isServiceDefault', 'Edm.Boolean', False, True, None),
        ('m365CollaborationInbound', 'crossTenantAccessPolicyM365CollaborationInboundSetting', False, True, None),
        ('m365CollaborationOutbound', 'crossTenantAccessPolicyM365CollaborationOutboundSetting', False, True, None),
        ('tenantRestrictions', 'crossTenantAccessPolicyTenantRestrictions', False, True, None),
    ), (
    )),
    ('crossTenantAccessPolicyConfigurationPartner', 'entity', (
        ('appServiceConnectInbound', 'crossTenantAccessPolicyAppServiceConnectSetting', False, True, None),
        ('automaticUserConsentSettings', 'inboundOutboundPolicyConfiguration', False, True, None),
        ('b2bCollaborationInbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('b2bCollaborationOutbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('b2bDirectConnectInbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('b2bDirectConnectOutbound', 'crossTenantAccessPolicyB2BSetting', False, True, None),
        ('inboundTrust', 'crossTenantAccessPolicyInboundTrust', False, True, None),
        ('isInMultiTenantOrganization', 'Edm.Boolean', False, True, None),
        ('isServiceProvider', 'Edm.Boolean', False, True, None),
        ('m365CollaborationInbound', 'crossTenantAccessPolicyM365CollaborationInboundSetting', False, True, None),
        ('m365CollaborationOutbound', 'crossTenantAccessPolicyM365CollaborationOutboundSetting', False, True, None),
        ('tenantId', 'Edm.String', False, False, None),
        ('tenantRestrictions', 'crossTenantAccessPolicyTenantRestrictions', False, True, None),
    ), (
        ('identitySynchronization', 'crossTenantIdentitySyncPolicyPartner', False, True, None),
        ('serviceProviderConstraints', 'serviceProviderConstraints', False, True, None),
    )),
    ('crossTenantIdentitySyncPolicyPartner', 'entity', (
        ('displayName', 'Edm.String', False, True, None),
        ('tenantId', 'Edm.String', False, False, None),
        ('userSyncInbound', 'crossTenantUserSyncInbound', False, True, None),
    ), (
    )),
    ('entity', 'entity', (
        ('id', 'Edm.String', False, False, None),
    ), (
    )),
    ('serviceProviderConstraints', 'entity', (
        ('id', 'Edm.String', False, False, None),
    ), (
    )),
    ('crossTenantAccessPolicy', 'entity', (
        ('id', 'Edm.String', False, False, None),
        ('deletedDateTime', 'Edm.DateTimeOffset', False, True, None),
        ('description', 'Edm.String', False, True, None),
        ('displayName', 'Edm.String', False, True, None),
        ('allowedCloudEndpoints', 'Edm.String', True, False, None),
    ), (
        ('default', 'crossTenantAccessPolicyConfigurationDefault', False, True, None),
        ('partners', 'crossTenantAccessPolicyConfigurationPartner', True, True, None),
        ('templates', 'policyTemplate', False, True, None),
    )),
    ('policyBase', 'entity', (
        ('id', 'Edm.String', False, False, None),
        ('deletedDateTime', 'Edm.DateTimeOffset', False, True, None),
        ('description', 'Edm.String', False, True, None),
        ('displayName', 'Edm.String', False, True, None),
    ), (
    )),
    ('directoryObject', 'entity', (
        ('id', 'Edm.String', False, False, None),
        ('deletedDateTime', 'Edm.DateTimeOffset', False, True, None),
    ), (
    )),
    ('policyRoot', 'entity', (
        ('id', 'Edm.String', False, False, None),
    ), (
        ('activityBasedTimeoutPolicies', 'activityBasedTimeoutPolicy', True, True, None),
        ('adminConsentRequestPolicy', 'adminConsentRequestPolicy', False, True, None),
        ('appManagementPolicies', 'appManagementPolicy', True, True, None),
        ('authenticationFlowsPolicy', 'authenticationFlowsPolicy', False, True, None),
        ('authenticationMethodsPolicy', 'authenticationMethodsPolicy', False, True, None),
        ('authenticationStrengthPolicies', 'authenticationStrengthPolicy', True, True, None),
        ('authorizationPolicy', 'authorizationPolicy', False, True, None),
        ('claimsMappingPolicies', 'claimsMappingPolicy', True, True, None),
        ('conditionalAccessPolicies', 'conditionalAccessPolicy', True, True, None),
        ('crossTenantAccessPolicy', 'crossTenantAccessPolicy', False, True, None),
        ('defaultAppManagementPolicy', 'tenantAppManagementPolicy', False, True, None),
        ('deviceRegistrationPolicy', 'deviceRegistrationPolicy', False, True, None),
        ('featureRolloutPolicies', 'featureRolloutPolicy', True, True, None),
        ('federatedTokenValidationPolicy', 'federatedTokenValidationPolicy', False, True, None),
        ('homeRealmDiscoveryPolicies', 'homeRealmDiscoveryPolicy', True, True, None),
        ('identitySecurityDefaultsEnforcementPolicy', 'identitySecurityDefaultsEnforcementPolicy', False, True, None),
        ('ownerlessGroupPolicy', 'ownerlessGroupPolicy', False, True, None),
        ('permissionGrantPolicies', 'permissionGrantPolicy', True, True, None),
        ('roleManagementPolicies', 'unifiedRoleManagementPolicy', True, True, None),
        ('roleManagementPolicyAssignments', 'unifiedRoleManagementPolicyAssignment', True, True, None),
        ('tokenIssuancePolicies', 'tokenIssuancePolicy', True, True, None),
        ('tokenLifetimePolicies', 'tokenLifetimePolicy', True, True, None),
    )),
)
ENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ('b2bIdentityProvidersType', ('azureActiveDirectory', 'externalFederation', 'socialIdentityProviders', 'emailOneTimePasscode', 'microsoftAccount', 'defaultConfiguredIdp', 'unknownFutureValue')),
    ('crossTenantAccessPolicyTargetConfigurationAccessType', ('allowed', 'blocked', 'unknownFutureValue')),
    ('crossTenantAccessPolicyTargetType', ('user', 'group', 'application', 'unknownFutureValue')),
)
