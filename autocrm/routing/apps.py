from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "autocrm.routing"
    label = "routing"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.routing.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
