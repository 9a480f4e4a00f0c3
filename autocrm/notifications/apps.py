from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "autocrm.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.notifications import event_handlers  # noqa: F401  (registers fan-out)
        from autocrm.notifications.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
