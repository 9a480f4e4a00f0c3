from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "autocrm.ai"
    label = "ai"

    def ready(self) -> None:
        from threadpoolctl import threadpool_limits

        # The AI maths here are small matrix products per ticket: BLAS thread pools that spin
        # up for them cost more than they save, and on a shared machine they spin on cores
        # other processes need (measured: nearest-neighbour search 0.2 ms on one thread,
        # 20 ms with the default pool on a busy 2-core host).
        threadpool_limits(limits=1, user_api="blas")
