from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "autocrm.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.notifications import (  # noqa: F401  (registers the handlers)
            event_handlers,
            inapp_handlers,
        )
        from autocrm.notifications.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
