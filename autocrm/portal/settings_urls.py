"""Help-centre settings pages in the agent workspace (/<tenant>/settings/help-centre/)."""

from __future__ import annotations

from django.urls import path

from autocrm.portal import settings_views

app_name = "help_settings"

urlpatterns = [
    path("", settings_views.help_centre_settings, name="general"),
]
