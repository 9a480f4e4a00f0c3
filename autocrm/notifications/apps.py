from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "autocrm.notifications"
    label = "notifications"
