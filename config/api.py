"""The one NinjaAPI at /api/v1/: every app's Router is mounted here."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="AutoCRM API",
    version="1",
    description="REST API of AutoCRM. Authenticate with `Authorization: Bearer <api key>` "
    "or a browser session. Errors are RFC 9457 problem+json.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
