from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "autocrm.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from autocrm.core import event_handlers  # noqa: F401  (registers built-in handlers)
