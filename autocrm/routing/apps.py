from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "autocrm.routing"
    label = "routing"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.routing.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
        # Handlers register on import: triggers, SLA timers, auto-assignment, SLA alerts.
        from autocrm.routing import event_handlers  # noqa: F401
