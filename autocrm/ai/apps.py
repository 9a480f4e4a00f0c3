from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "autocrm.ai"
    label = "ai"

    def ready(self) -> None:
        from threadpoolctl import threadpool_limits

        from autocrm.ai import event_handlers  # noqa: F401 (registers the handlers)
        from autocrm.ai.events import EVENT_TYPES
        from autocrm.core.events import event_types_register

        event_types_register(EVENT_TYPES)
        # The AI maths here are small matrix products per ticket: BLAS thread pools that spin
        # up for them cost more than they save, and on a shared machine they spin on cores
        # other processes need (measured: nearest-neighbour search 0.2 ms on one thread,
        # 20 ms with the default pool on a busy 2-core host).
        threadpool_limits(limits=1, user_api="blas")
        from autocrm.ai.warmup import is_worker_process, warm_up_in_background

        if is_worker_process():
            warm_up_in_background()
