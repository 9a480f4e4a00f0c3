from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "autocrm.portal"
    label = "portal"
