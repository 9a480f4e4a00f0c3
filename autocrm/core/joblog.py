"""Log context of worker jobs: every log line a job writes carries its job id and task.

A procrastinate worker middleware (configured in settings.PROCRASTINATE_WORKER_DEFAULTS). It
runs on the worker's event loop around each job; the job's sync code runs in a thread that
inherits these context variables. ``tenant`` is added by ``tenant_context`` inside the job.
Kept free of Django imports so the settings module can import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from procrastinate.job_context import JobContext
    from procrastinate.middleware import AsyncCallNext
    from procrastinate.worker import Worker


async def bind_job_log_context(
    call_next: AsyncCallNext, context: JobContext, worker: Worker
) -> Any:
    job = context.job
    with structlog.contextvars.bound_contextvars(job_id=job.id, task=job.task_name):
        return await call_next()
