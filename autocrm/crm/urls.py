"""CRM pages, mounted by workspace/urls.py under ``/<tenant>/agent/`` (names ``crm_*`` in the
``workspace`` namespace)."""

from django.urls import path

from autocrm.crm import (
    import_views,
    segment_views,
    views,
    views_activities,
    views_deals,
    views_settings,
    views_settings_lists,
)

urlpatterns = [
    path("agent/contacts/", views.contact_list, name="crm_contacts"),
    path("agent/contacts/new/", views.contact_create, name="crm_contact_create"),
    path("agent/contacts/export/", segment_views.contacts_export, name="crm_contacts_export"),
    path("agent/contacts/imports/", import_views.import_list, name="crm_contact_imports"),
    path(
        "agent/contacts/imports/<int:import_id>/",
        import_views.import_page,
        name="crm_contact_import",
    ),
    path(
        "agent/contacts/imports/<int:import_id>/progress/",
        import_views.import_progress,
        name="crm_contact_import_progress",
    ),
    path(
        "agent/contacts/imports/<int:import_id>/undo/",
        import_views.import_undo,
        name="crm_contact_import_undo",
    ),
    path("agent/contacts/<int:contact_id>/", views.contact_page, name="crm_contact"),
    path("agent/contacts/<int:contact_id>/merge/", views.contact_merge, name="crm_contact_merge"),
    path("agent/companies/", views.company_list, name="crm_companies"),
    path("agent/companies/new/", views.company_create, name="crm_company_create"),
    path("agent/companies/export/", segment_views.companies_export, name="crm_companies_export"),
    path("agent/segments/", segment_views.segment_list, name="crm_segments"),
    path("agent/segments/<int:segment_id>/", segment_views.segment_page, name="crm_segment"),
    path(
        "agent/segments/<int:segment_id>/edit/", segment_views.segment_edit, name="crm_segment_edit"
    ),
    path(
        "agent/segments/<int:segment_id>/export/",
        segment_views.segment_export,
        name="crm_segment_export",
    ),
    path("agent/companies/<int:company_id>/", views.company_page, name="crm_company"),
    path("agent/companies/<int:company_id>/merge/", views.company_merge, name="crm_company_merge"),
    path("agent/deals/", views_deals.deal_board, name="crm_deals"),
    path("agent/deals/new/", views_deals.deal_create, name="crm_deal_create"),
    path("agent/deals/export/", views_deals.deal_export, name="crm_deals_export"),
    path(
        "agent/deals/pipelines/default/",
        views_deals.pipeline_default_create,
        name="crm_pipeline_default_create",
    ),
    path("agent/deals/forecast/", views_deals.forecast_page, name="crm_forecast"),
    path("agent/deals/<int:deal_id>/", views_deals.deal_page, name="crm_deal"),
    path("agent/deals/<int:deal_id>/move/", views_deals.deal_move, name="crm_deal_move"),
    path("agent/deals/<int:deal_id>/close/", views_deals.deal_close, name="crm_deal_close"),
    path("agent/deals/<int:deal_id>/convert/", views_deals.deal_convert, name="crm_deal_convert"),
    path("agent/calendar/", views_activities.calendar_page, name="crm_calendar"),
    path("settings/sales/", views_settings.sales_settings, name="crm_settings_sales"),
    path(
        "settings/sales/templates/",
        views_settings_lists.activity_templates,
        name="crm_settings_templates",
    ),
    path(
        "settings/sales/templates/<int:template_id>/",
        views_settings_lists.activity_template_edit,
        name="crm_settings_template_edit",
    ),
    path(
        "settings/sales/templates/<int:template_id>/delete/",
        views_settings_lists.activity_template_delete,
        name="crm_settings_template_delete",
    ),
    path(
        "settings/sales/assignment/",
        views_settings_lists.assignment_rules,
        name="crm_settings_assignment",
    ),
    path(
        "settings/sales/assignment/<int:rule_id>/",
        views_settings_lists.assignment_rule_edit,
        name="crm_settings_assignment_edit",
    ),
    path(
        "settings/sales/assignment/<int:rule_id>/delete/",
        views_settings_lists.assignment_rule_delete,
        name="crm_settings_assignment_delete",
    ),
    path(
        "settings/sales/assignment/<int:rule_id>/move/",
        views_settings_lists.assignment_rule_move,
        name="crm_settings_assignment_move",
    ),
    path(
        "agent/calendar/feed/<str:token>.ics",
        views_activities.ical_feed,
        name="crm_ical_feed",
    ),
    path("agent/activities/new/", views_activities.activity_create, name="crm_activity_create"),
    path(
        "agent/activities/<int:activity_id>/done/",
        views_activities.activity_done,
        name="crm_activity_done",
    ),
]
