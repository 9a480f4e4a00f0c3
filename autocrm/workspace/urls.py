from django.urls import path

from autocrm.workspace import queue_views, ticket_views, views

app_name = "workspace"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.settings_general, name="settings"),
    path("settings/members/", views.settings_members, name="settings_members"),
    path(
        "settings/members/<int:membership_id>/role/",
        views.member_change_role,
        name="member_change_role",
    ),
    path("settings/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("settings/invitations/", views.settings_invitations, name="settings_invitations"),
    path(
        "settings/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("settings/api-keys/", views.settings_api_keys, name="settings_api_keys"),
    path("settings/api-keys/<int:api_key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]

urlpatterns += [
    path("agent/", queue_views.queue, name="agent_queue"),
    path("agent/bulk/", queue_views.queue_bulk, name="agent_bulk"),
    path("agent/counts/", queue_views.queue_counts, name="agent_counts"),
    path("agent/tickets/<int:number>/", ticket_views.ticket_page, name="agent_ticket"),
    path(
        "agent/tickets/<int:number>/properties/",
        ticket_views.ticket_properties,
        name="agent_ticket_properties",
    ),
    path("agent/tickets/<int:number>/reply/", ticket_views.ticket_reply, name="agent_ticket_reply"),
    path("agent/tickets/<int:number>/macro/", ticket_views.ticket_macro, name="agent_ticket_macro"),
    path(
        "agent/attachments/<int:attachment_id>/",
        ticket_views.attachment_download,
        name="agent_attachment",
    ),
]
