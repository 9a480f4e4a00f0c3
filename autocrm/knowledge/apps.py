from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "autocrm.knowledge"
    label = "knowledge"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.knowledge.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
