"""Activities, activity templates and the iCal feed URL API (thin)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from autocrm.core.actors import Actor
from autocrm.core.api import Cursor, Limit, get_or_404, keyset_response, page_of, tenant_and_actor
from autocrm.core.models import Tenant
from autocrm.core.problems import Forbidden
from autocrm.crm import ical, selectors_activities, services
from autocrm.crm.models import Activity, ActivityTemplate
from autocrm.crm.schemas_deals import (
    ActivityIn,
    ActivityListFilters,
    ActivityOut,
    ActivityTemplateIn,
    ActivityTemplateOut,
    ActivityTemplateUpdateIn,
    ActivityUpdateIn,
    IcalFeedOut,
)

router = Router(tags=["activities"])


def _activity(tenant: Tenant, actor: Actor, activity_id: int) -> Activity:
    return get_or_404(
        selectors_activities.activity_get(tenant=tenant, actor=actor, activity_id=activity_id),
        "activity",
    )


def _template(tenant: Tenant, actor: Actor, template_id: int) -> ActivityTemplate:
    return get_or_404(
        selectors_activities.activity_template_get(
            tenant=tenant, actor=actor, template_id=template_id
        ),
        "activity template",
    )


@router.get("/activities", response=page_of(ActivityOut), summary="List activities")
def activities_list(
    request: HttpRequest,
    params: Query[ActivityListFilters],
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    filters = selectors_activities.ActivityFilters(
        q=params.q,
        kind=params.kind or "",
        owner=params.owner or "",
        done=params.done,
        contact_id=params.contact_id,
        company_id=params.company_id,
        deal_id=params.deal_id,
        ticket_id=params.ticket_id,
        due_after=params.due_after,
        due_before=params.due_before,
    )
    rows = selectors_activities.activity_list(tenant=tenant, actor=actor, filters=filters)
    if params.sort == "due_at":
        rows = rows.exclude(due_at=None)
    ordering = selectors_activities.ACTIVITY_ORDERINGS[params.sort]
    return keyset_response(rows, ordering=ordering, cursor=cursor, limit=limit)


@router.post("/activities", response={201: ActivityOut}, summary="Create an activity")
def activities_create(request: HttpRequest, payload: ActivityIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    activity = services.activity_create(tenant=tenant, actor=actor, **payload.model_dump())
    return Status(201, _activity(tenant, actor, activity.pk))


@router.get(
    "/activities/feed",
    response=IcalFeedOut,
    summary="Your iCal feed URL",
    description="A signed URL of your dated activities for a calendar app. It stops working "
    "when you change your password or leave the workspace.",
)
def activities_feed(request: HttpRequest) -> dict[str, str]:
    tenant, actor = tenant_and_actor(request, "read")
    if actor.user is None:
        raise Forbidden("A feed belongs to a member; API keys have none.", type_="not-a-member")
    token = ical.feed_token(tenant=tenant, user=actor.user)
    path = reverse("workspace:crm_ical_feed", args=[tenant.slug, token])
    return {"url": request.build_absolute_uri(path)}


@router.get(
    "/activities/templates",
    response=list[ActivityTemplateOut],
    tags=["activity templates"],
    summary="Activity templates",
)
def activity_templates_list(request: HttpRequest) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return list(selectors_activities.activity_template_list(tenant=tenant, actor=actor)[:500])


@router.post(
    "/activities/templates",
    response={201: ActivityTemplateOut},
    tags=["activity templates"],
    summary="Create an activity template",
)
def activity_templates_create(request: HttpRequest, payload: ActivityTemplateIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    template = services.activity_template_create(tenant=tenant, actor=actor, **payload.model_dump())
    return Status(201, template)


@router.patch(
    "/activities/templates/{activity_template_id}",
    response=ActivityTemplateOut,
    tags=["activity templates"],
    summary="Change an activity template",
)
def activity_templates_update(
    request: HttpRequest, activity_template_id: int, payload: ActivityTemplateUpdateIn
) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return services.activity_template_update(
        tenant=tenant,
        actor=actor,
        template=_template(tenant, actor, activity_template_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/activities/templates/{activity_template_id}",
    response={204: None},
    tags=["activity templates"],
    summary="Delete an activity template",
)
def activity_templates_delete(request: HttpRequest, activity_template_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.activity_template_delete(
        tenant=tenant, actor=actor, template=_template(tenant, actor, activity_template_id)
    )
    return Status(204, None)


@router.get("/activities/{activity_id}", response=ActivityOut, summary="Get an activity")
def activities_get(request: HttpRequest, activity_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _activity(tenant, actor, activity_id)


@router.patch(
    "/activities/{activity_id}",
    response=ActivityOut,
    summary="Change, complete (`done`) or reopen an activity",
)
def activities_update(request: HttpRequest, activity_id: int, payload: ActivityUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    services.activity_update(
        tenant=tenant,
        actor=actor,
        activity=_activity(tenant, actor, activity_id),
        changes=payload.model_dump(exclude_unset=True),
    )
    return _activity(tenant, actor, activity_id)


@router.delete("/activities/{activity_id}", response={204: None}, summary="Delete an activity")
def activities_delete(request: HttpRequest, activity_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "write")
    services.activity_delete(
        tenant=tenant, actor=actor, activity=_activity(tenant, actor, activity_id)
    )
    return Status(204, None)
