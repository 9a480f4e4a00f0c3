"""CRM pages, mounted by workspace/urls.py under ``/<tenant>/agent/`` (names ``crm_*`` in the
``workspace`` namespace)."""

from django.urls import path

from autocrm.crm import views

urlpatterns = [
    path("agent/contacts/", views.contact_list, name="crm_contacts"),
    path("agent/contacts/new/", views.contact_create, name="crm_contact_create"),
    path("agent/contacts/<int:contact_id>/", views.contact_page, name="crm_contact"),
    path("agent/contacts/<int:contact_id>/merge/", views.contact_merge, name="crm_contact_merge"),
    path("agent/companies/", views.company_list, name="crm_companies"),
    path("agent/companies/new/", views.company_create, name="crm_company_create"),
    path("agent/companies/<int:company_id>/", views.company_page, name="crm_company"),
    path("agent/companies/<int:company_id>/merge/", views.company_merge, name="crm_company_merge"),
]
