from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "autocrm.crm"
    label = "crm"
