from django.apps import AppConfig


class InboxesConfig(AppConfig):
    name = "autocrm.inboxes"
    label = "inboxes"
    verbose_name = "Inboxes (email channel)"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.inboxes import event_handlers  # noqa: F401  (registers outbound mail)
        from autocrm.inboxes.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
