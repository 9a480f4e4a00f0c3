"""Load what triage needs before a worker's first ticket arrives.

Triaging a ticket takes milliseconds once the models are in memory, but the first ticket a
fresh worker sees would also pay for loading them: the ONNX embedding model, lingua's
language models, the sentiment prototypes and each tenant's pickled classifiers — seconds
on a busy host, and the issue wants triage within 1 s of creation. So a worker process
(``manage.py procrastinate worker``) loads them in a background thread as it starts; web
processes and tests never do.
"""

from __future__ import annotations

import sys
import threading
import time

import structlog

logger = structlog.get_logger(__name__)


def is_worker_process(argv: list[str] | None = None) -> bool:
    """Whether this process is ``manage.py procrastinate worker`` (what ``make run``
    starts)."""
    args = sys.argv if argv is None else argv
    return "procrastinate" in args[1:3] and "worker" in args[2:4]


def warm_up() -> int:
    """Load the models; returns how many tenants' classifiers were loaded."""
    from autocrm.ai.language import detect_language
    from autocrm.ai.models import TriageModel
    from autocrm.ai.providers.embeddings import embedding_provider
    from autocrm.ai.sentiment import sentiment_of
    from autocrm.ai.services.triage import load_classifiers
    from autocrm.core.tenancy import system_context

    started = time.perf_counter()
    vector = embedding_provider().embed(["Where is my order? It has not arrived yet."])[0]
    sentiment_of(vector)
    detect_language("Where is my order? It has not arrived yet.")
    with system_context("ai_warm_up: the active triage models to load") as db:
        artifacts = list(
            TriageModel.objects.using(db)
            .filter(active=True)
            .order_by("-created_at")
            .values_list("artifact", flat=True)[:16]
        )
    loaded = 0
    for artifact in artifacts:
        try:
            load_classifiers(artifact)
        except (OSError, EOFError, ValueError):
            logger.warning("ai.warm_up.model_unreadable", artifact=artifact)
        else:
            loaded += 1
    logger.info("ai.warm_up.done", models=loaded, seconds=round(time.perf_counter() - started, 2))
    return loaded


def warm_up_in_background() -> threading.Thread:
    def run() -> None:
        from django.apps import apps

        try:
            # Started from AppConfig.ready(): wait until every app is ready before querying.
            deadline = time.monotonic() + 120
            while not apps.ready and time.monotonic() < deadline:
                time.sleep(0.05)
            warm_up()
        except Exception:  # a failed warm-up only means the first ticket loads them
            logger.exception("ai.warm_up.failed")

    thread = threading.Thread(target=run, name="ai-warm-up", daemon=True)
    thread.start()
    return thread
