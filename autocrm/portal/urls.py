"""The help centre at /<tenant>/help/. The knowledge base's public pages
(``autocrm.knowledge.public_urls``: home, search, categories, articles, sitemap) are
included at its root once that app is installed; the paths here come first and use fixed
prefixes (account/, brand/, ...) so an article slug can never shadow them."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from autocrm.portal import account_views, request_views, satisfaction_views, views, widget_views
from autocrm.portal.branding import knowledge_installed

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("account/", account_views.account, name="account"),
    path("account/go/<slug:page>/", account_views.account_go, name="account_go"),
    path("account/link/<slug:kind>/<str:key>/", account_views.account_link, name="account_link"),
    path("account/tokens/", account_views.token_create, name="token_create"),
    path("account/tokens/<int:token_id>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("account/signup/", account_views.signup, name="signup"),
    path("account/signup/sent/", account_views.signup_sent, name="signup_sent"),
    path("account/verify/<str:token>/", account_views.verify, name="verify"),
    path("account/login/", account_views.login, name="login"),
    path("brand/logo", views.logo, name="logo"),
    path("widget/", widget_views.widget, name="widget"),
    path("requests/", request_views.request_list, name="requests"),
    path("requests/new/", request_views.request_new, name="request_new"),
    path("requests/suggest", request_views.request_suggestions, name="request_suggestions"),
    path(
        "requests/suggested/<int:article_id>/",
        request_views.request_suggestion_open,
        name="request_suggestion_open",
    ),
    path("requests/<int:number>/", request_views.request_detail, name="request"),
    path("requests/<int:number>/solve/", request_views.request_solve, name="request_solve"),
    path("requests/<int:number>/rate/", satisfaction_views.request_rate, name="request_rate"),
    path("rate/<str:token>/", satisfaction_views.rate, name="rate"),
    path(
        "requests/files/<int:attachment_id>/",
        request_views.attachment_download,
        name="request_file",
    ),
]

if knowledge_installed():
    from autocrm.ai import chatbot_views

    urlpatterns += [
        path("assistant/", chatbot_views.assistant, name="assistant"),
        path("assistant/handoff/", chatbot_views.assistant_handoff, name="assistant_handoff"),
        path(
            "assistant/confirm/<str:token>/",
            chatbot_views.assistant_confirm,
            name="assistant_confirm",
        ),
        path("widget/assistant/", widget_views.widget_assistant, name="widget_assistant"),
        path("widget/assistant/handoff/", widget_views.widget_handoff, name="widget_handoff"),
    ]
    urlpatterns.append(path("", include("autocrm.knowledge.public_urls")))

# The start page without the knowledge base; with it, the KB home above answers first and
# ``portal:home`` still reverses to the same address.
urlpatterns.append(path("", views.home, name="home"))
