"""The help centre at /<tenant>/help/. The knowledge base's public pages
(``autocrm.knowledge.public_urls``: home, search, categories, articles, sitemap) are
included at its root once that app is installed; the paths here come first and use fixed
prefixes (account/, brand/, ...) so an article slug can never shadow them."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from autocrm.portal import account_views, views
from autocrm.portal.branding import knowledge_installed

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("account/", account_views.account, name="account"),
    path("account/signup/", account_views.signup, name="signup"),
    path("account/signup/sent/", account_views.signup_sent, name="signup_sent"),
    path("account/verify/<str:token>/", account_views.verify, name="verify"),
    path("account/login/", account_views.login, name="login"),
    path("brand/logo", views.logo, name="logo"),
]

if knowledge_installed():
    urlpatterns.append(path("", include("autocrm.knowledge.public_urls")))

# The start page without the knowledge base; with it, the KB home above answers first and
# ``portal:home`` still reverses to the same address.
urlpatterns.append(path("", views.home, name="home"))
