"""The help centre at /<tenant>/help/. The knowledge base's public pages
(``autocrm.knowledge.public_urls``: home, search, categories, articles, sitemap) are
included at its root once that app is installed; the paths here come first and use fixed
prefixes (account/, brand/, ...) so an article slug can never shadow them."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from autocrm.portal import views
from autocrm.portal.branding import knowledge_installed

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("account/", views.account, name="account"),
    path("brand/logo", views.logo, name="logo"),
]

if knowledge_installed():
    urlpatterns.append(path("", include("autocrm.knowledge.public_urls")))

# The start page without the knowledge base; with it, the KB home above answers first and
# ``portal:home`` still reverses to the same address.
urlpatterns.append(path("", views.home, name="home"))
