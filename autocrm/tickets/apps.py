from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "autocrm.tickets"
    label = "tickets"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.tickets.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
