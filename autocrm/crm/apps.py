from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "autocrm.crm"
    label = "crm"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.crm.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
