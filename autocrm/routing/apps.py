from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "autocrm.routing"
    label = "routing"
