"""The one API at /api/v1/: every app's Router is mounted here.

AutoCrmApi (autocrm.core.api) adds auth, problem+json errors, rate limits, idempotency and
the self-hosted docs to every operation; routers only declare their endpoints.
"""

from __future__ import annotations

from autocrm.core.api import AutoCrmApi

api = AutoCrmApi(
    title="AutoCRM API",
    version="1",
    description="REST API of AutoCRM. Authenticate with `Authorization: Bearer <api key>` "
    "or a browser session (send `X-CSRFToken` on unsafe methods, and `X-Tenant: <slug>` when "
    "you are staff in several workspaces). Errors are RFC 9457 problem+json. Every response "
    "carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; POST accepts an "
    "`Idempotency-Key`. Lists are keyset-paginated: pass `next_cursor` back as `cursor`.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

api.add_router("", "autocrm.accounts.api.router")
api.add_router("/webhooks", "autocrm.notifications.api.router")
api.add_router("", "autocrm.tickets.api.router")
api.add_router("/inboxes", "autocrm.inboxes.api.router")
api.add_router("/notification-templates", "autocrm.inboxes.template_api.router")
api.add_router("", "autocrm.routing.api.router")
api.add_router("/kb", "autocrm.knowledge.api.router")
# Before crm.api: its /contacts/{contact_id} would take /contacts/export otherwise.
api.add_router("", "autocrm.crm.io_api.router")
api.add_router("", "autocrm.crm.api.router")
api.add_router("", "autocrm.crm.api_deals.router")
api.add_router("", "autocrm.crm.api_activities.router")
