from django.urls import path

from autocrm.ai import reply_views as ai_reply_views
from autocrm.ai import views as ai_views
from autocrm.crm import urls as crm_urls
from autocrm.workspace import (
    inbox_views,
    kb_views,
    notification_views,
    queue_views,
    routing_urls,
    settings_views,
    template_views,
    ticket_views,
    views,
    webhook_views,
)

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
    *routing_urls.urlpatterns,
    path("settings/api-keys/<int:api_key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("settings/inboxes/", inbox_views.settings_inboxes, name="settings_inboxes"),
    path(
        "settings/notifications/templates/",
        template_views.settings_notification_templates,
        name="settings_notification_templates",
    ),
    path(
        "settings/notifications/templates/<str:kind>/<str:locale>/",
        template_views.settings_notification_template,
        name="settings_notification_template",
    ),
    path("settings/inboxes/new/", inbox_views.settings_inbox_new, name="settings_inbox_new"),
    path("settings/inboxes/<int:inbox_id>/", inbox_views.settings_inbox, name="settings_inbox"),
]

# Ticket configuration and webhooks (what the API manages), for owners and admins.
urlpatterns += [
    path("settings/views/", settings_views.settings_views, name="settings_views"),
    path(
        "settings/views/<int:ticket_view_id>/",
        settings_views.settings_view_edit,
        name="settings_view_edit",
    ),
    path(
        "settings/views/<int:ticket_view_id>/delete/",
        settings_views.settings_view_delete,
        name="settings_view_delete",
    ),
    path("settings/macros/", settings_views.settings_macros, name="settings_macros"),
    path(
        "settings/macros/<int:macro_id>/",
        settings_views.settings_macro_edit,
        name="settings_macro_edit",
    ),
    path(
        "settings/macros/<int:macro_id>/delete/",
        settings_views.settings_macro_delete,
        name="settings_macro_delete",
    ),
    path("settings/tags/", settings_views.settings_tags, name="settings_tags"),
    path(
        "settings/tags/<int:tag_id>/delete/",
        settings_views.settings_tag_delete,
        name="settings_tag_delete",
    ),
    path(
        "settings/custom-fields/",
        settings_views.settings_custom_fields,
        name="settings_custom_fields",
    ),
    path(
        "settings/custom-fields/<int:custom_field_id>/",
        settings_views.settings_custom_field_edit,
        name="settings_custom_field_edit",
    ),
    path(
        "settings/custom-fields/<int:custom_field_id>/delete/",
        settings_views.settings_custom_field_delete,
        name="settings_custom_field_delete",
    ),
    path("settings/webhooks/", webhook_views.settings_webhooks, name="settings_webhooks"),
    path(
        "settings/webhooks/<int:webhook_subscription_id>/",
        webhook_views.settings_webhook,
        name="settings_webhook",
    ),
    path(
        "settings/webhooks/<int:webhook_subscription_id>/rotate-secret/",
        webhook_views.settings_webhook_rotate,
        name="settings_webhook_rotate",
    ),
    path(
        "settings/webhooks/<int:webhook_subscription_id>/delete/",
        webhook_views.settings_webhook_delete,
        name="settings_webhook_delete",
    ),
    path(
        "settings/webhooks/<int:webhook_subscription_id>/deliveries/<int:webhook_delivery_id>/",
        webhook_views.settings_webhook_delivery,
        name="settings_webhook_delivery",
    ),
    path(
        "settings/webhooks/<int:webhook_subscription_id>/deliveries/<int:webhook_delivery_id>/"
        "redeliver/",
        webhook_views.settings_webhook_redeliver,
        name="settings_webhook_redeliver",
    ),
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
    path("agent/tickets/<int:number>/merge/", ticket_views.ticket_merge, name="agent_ticket_merge"),
    path(
        "agent/tickets/<int:number>/uploads/",
        ticket_views.ticket_upload,
        name="agent_ticket_upload",
    ),
    path(
        "agent/attachments/<int:attachment_id>/",
        ticket_views.attachment_download,
        name="agent_attachment",
    ),
]

urlpatterns += [
    path(
        "agent/notifications/",
        notification_views.notification_list,
        name="agent_notifications",
    ),
    path(
        "agent/notifications/read/",
        notification_views.notifications_read,
        name="agent_notifications_read",
    ),
    path(
        "agent/notifications/unread/",
        notification_views.notification_unread,
        name="agent_notifications_unread",
    ),
    path(
        "agent/notifications/preferences/",
        notification_views.notification_preferences,
        name="agent_notification_preferences",
    ),
    path(
        "agent/notifications/<int:notification_id>/",
        notification_views.notification_open,
        name="agent_notification_open",
    ),
]

urlpatterns += [
    path("kb/", kb_views.kb_list, name="kb_list"),
    path("kb/new/", kb_views.kb_article_new, name="kb_article_new"),
    path("kb/categories/", kb_views.kb_categories, name="kb_categories"),
    path("kb/analytics/", kb_views.kb_analytics, name="kb_analytics"),
    path("kb/preview/", kb_views.kb_preview, name="kb_preview"),
    path("kb/uploads/", kb_views.kb_upload, name="kb_upload"),
    path("kb/picker/", kb_views.kb_picker, name="kb_picker"),
    path("kb/from-ticket/<int:number>/", kb_views.kb_from_ticket, name="kb_from_ticket"),
    path("kb/<int:article_id>/", kb_views.kb_article_edit, name="kb_article_edit"),
    path("kb/<int:article_id>/delete/", kb_views.kb_article_delete, name="kb_article_delete"),
    path("kb/<int:article_id>/history/", kb_views.kb_history, name="kb_history"),
    path(
        "kb/<int:article_id>/history/<int:number>/restore/",
        kb_views.kb_restore,
        name="kb_restore",
    ),
]

# Contacts, companies (autocrm.crm).
urlpatterns += crm_urls.urlpatterns

# AI: dashboard, triage review queue, retraining, summaries (autocrm/ai/views.py).
urlpatterns += [
    path("agent/ai/", ai_views.dashboard, name="ai_dashboard"),
    path("agent/ai/review/", ai_views.review_queue, name="ai_review"),
    path("agent/ai/review/<int:result_id>/", ai_views.review_decide, name="ai_review_decide"),
    path("agent/ai/retrain/", ai_views.retrain, name="ai_retrain"),
    path("settings/ai/", ai_views.settings_ai, name="settings_ai"),
    path("agent/ai/tickets/<int:number>/summary/", ai_views.summary, name="ai_summary"),
    path(
        "agent/tickets/<int:number>/ai/draft/",
        ai_reply_views.draft_suggest,
        name="ai_draft_suggest",
    ),
    path(
        "agent/ai/drafts/<int:draft_id>/reject/",
        ai_reply_views.draft_reject,
        name="ai_draft_reject",
    ),
    path(
        "agent/ai/drafts/<int:draft_id>/inserted/",
        ai_reply_views.draft_inserted,
        name="ai_draft_inserted",
    ),
]
