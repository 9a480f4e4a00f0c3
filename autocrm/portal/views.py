"""Help-centre pages of the shell: the home page (when the knowledge base is not installed;
otherwise the KB's home is served at the same address), the account page, the logo, and the
redirect from the former /<tenant>/portal/ addresses."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import render
from django.views.decorators.http import require_GET

from autocrm.portal.access import HelpRequest, help_page
from autocrm.portal.services import LOGO_TYPES

LOGO_CONTENT_TYPES = {ext: mime for mime, ext in LOGO_TYPES.items()}


@help_page
def home(request: HelpRequest) -> HttpResponse:
    """The help centre's start page (the knowledge base's home replaces it when installed)."""
    return render(request, "help/home.html")


@require_GET
@help_page
def logo(request: HelpRequest) -> FileResponse:
    """The tenant's logo (a raster image checked when it was uploaded)."""
    name = str(request.tenant.setting("help_logo") or "")
    if not name or not default_storage.exists(name):
        raise Http404("No logo.")
    content_type = LOGO_CONTENT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    return response


def portal_redirect(request: HttpRequest, tenant_slug: str, rest: str = "") -> HttpResponse:
    """/<tenant>/portal/... moved to /<tenant>/help/... (bookmarks and old e-mails). The
    target is a path on this site built from the matched slug, never an outside address."""
    target = f"/{tenant_slug}/help/{rest}"
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    return HttpResponsePermanentRedirect(target)


# Shows nothing: the help centre it leads to decides who sees what.
portal_redirect.public_page = True  # type: ignore[attr-defined]
