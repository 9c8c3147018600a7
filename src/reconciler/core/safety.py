"""What xtap never does on its own: delete what Microsoft or the configuration protects, or make more
changes than the safety gates allow (docs/plan-apply.md, "Never deleted" and "Safety gates"). Pure."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core.plan import Change, PlanOptions
from reconciler.core.state import DesiredState, LivePartner, LiveState

# Safety gate for mass updates, after octoDNS: more than 30 % of at least 10 existing partners.
UPDATE_GATE_MIN_EXISTING = 10

# Partners xtap never deletes whatever the files say (docs/plan-apply.md). Microsoft adds its Support tenant as a
# service-provider partner while a support case is open and removes it afterwards (Microsoft 365 support
# documentation); `protectedPartners` in xtap.yaml extends this list.
BUILTIN_PROTECTED: Mapping[str, str] = {
    "b4c546a4-7dac-46a6-a7dd-ed822a11efd3": "the Microsoft Support tenant, added by Microsoft during a support case",
}


def never_deleted(live: LivePartner, options: PlanOptions) -> str | None:
    """Why a live partner (and its sync policy) is never deleted, or None."""
    if live.is_mto:
        return "a multitenant organization member, isInMultiTenantOrganization"
    if live.is_service_provider:
        return "a service provider, isServiceProvider: Microsoft manages it"
    if live.tenant_id in BUILTIN_PROTECTED:
        return BUILTIN_PROTECTED[live.tenant_id]
    if live.tenant_id in options.protected:
        return "listed in protectedPartners"
    return None


def deletions(changes: tuple[Change, ...] | list[Change]) -> list[Change]:
    """Every deletion of a plan: partners and identity-sync policies alike (they count the same)."""
    return [c for c in changes if c.action == "delete"]


def safety_refusals(
    changes: list[Change], desired: DesiredState, live: LiveState, options: PlanOptions
) -> list[str]:
    """The safety gates (docs/plan-apply.md); each refusal is one sentence saying what trips it. How to override it is
    for the command to say, and only when the gate refuses: under --force the same sentence is shown as
    overridden."""
    refusals = []
    max_deletes = options.max_deletes
    if max_deletes is None:
        max_deletes = 5 if options.prune else 0
    gone = deletions(changes)
    if len(gone) > max_deletes:
        partners = sum(1 for c in gone if c.resource == "partner")
        syncs = len(gone) - partners
        what = f"{len(gone)} partner deletions"
        if syncs:
            what = (
                f"{len(gone)} deletions ({partners} partner{'s' if partners != 1 else ''}, "
                f"{syncs} identity-sync polic{'ies' if syncs != 1 else 'y'})"
            )
        refusals.append(f"{what} exceed maxDeletes ({max_deletes})")
    existing = len(live.partners)
    updated = len(
        {
            c.tenant_id
            for c in changes
            if c.action == "update" and c.resource in ("partner", "identitySynchronization")
        }
    )
    if existing >= UPDATE_GATE_MIN_EXISTING and updated * 100 > options.max_update_percent * existing:
        refusals.append(
            f"{updated} of {existing} existing partners would change, more than "
            f"{options.max_update_percent:g} %"
        )
    if options.prune and not desired.partners and live.partners:
        refusals.append(
            "the policy files declare no partners and prune is on: this would delete every partner"
        )
    return refusals
