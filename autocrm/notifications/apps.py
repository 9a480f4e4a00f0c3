from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "autocrm.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from autocrm.notifications import event_handlers  # noqa: F401  (registers fan-out)
