"""The API docs page: Swagger UI served from our own static files (built from npm at
install into static/vendor/swagger-ui), never from a CDN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from ninja.openapi.docs import Swagger

if TYPE_CHECKING:
    from ninja import NinjaAPI

TEMPLATE = Path(__file__).with_name("docs.html")


class SelfHostedSwagger(Swagger):
    # Swagger UI would otherwise show a badge image from validator.swagger.io on any
    # non-localhost host, sending the document's URL there.
    default_settings = {**Swagger.default_settings, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        template = engines["django"].from_string(TEMPLATE.read_text())
        html = template.render(
            {
                "api": api,
                "swagger_settings": json.dumps(self.settings).replace("<", "\\u003c"),
                # The session auth needs the CSRF token for "Try it out" on unsafe methods.
                "csrf_token_value": get_token(request),
            },
            request,
        )
        return HttpResponse(html)
