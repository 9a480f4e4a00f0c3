from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "autocrm.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Connects the receivers that put the tenant on each request's last log line.
        # (Event handlers live in each app's own module, registered with @event_handler.)
        from autocrm.core import request_logging  # noqa: F401
