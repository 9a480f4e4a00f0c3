from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "autocrm.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Imported for their side effects: built-in event handlers, tenant on request logs.
        from autocrm.core import event_handlers, request_logging  # noqa: F401
