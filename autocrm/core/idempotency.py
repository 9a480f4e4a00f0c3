"""``Idempotency-Key`` for POST: a retried request gets the first response, not a second write.

Every POST operation of the API is wrapped (see autocrm.core.api.base). With the header:

1. After authentication and validation, a transaction-scoped advisory lock on
   (tenant, caller, key) is taken with ``pg_try_advisory_xact_lock``. If another request
   with the same key is still running, the lock is busy: **409**.
2. A stored, unexpired (24 h) outcome for the key is looked up. Same fingerprint (method,
   path, body hash): the stored response is **replayed** with ``Idempotent-Replayed: true``.
   Different fingerprint: **422**, the key was used for another request.
3. Otherwise the operation runs; a 2xx response is stored *in the request's transaction*,
   so the record exists exactly when the work committed. Errors are not stored: fixing the
   request and retrying with the same key is allowed.

Operations whose response carries a secret shown once (a new API key) are marked with
``@secret_response``: their outcome is recorded without the body, and a retry gets a 409
saying the request was already processed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.http.response import HttpResponseBase
from django.utils import timezone

from autocrm.core.models import IdempotencyKey, Tenant
from autocrm.core.problems import BadRequest, Conflict, InvalidInput, field_error

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Response headers not worth replaying: recomputed per request or per connection.
_UNSTORED_HEADERS = frozenset({"set-cookie", "vary", "date", "content-length"})
_REQUEST_ATTR = "_autocrm_idempotency"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Claim:
    tenant: Tenant
    caller: str
    key: str
    fingerprint: str
    store_body: bool


def secret_response(func: F) -> F:
    """Mark an operation whose response must not be stored (it shows a secret once)."""
    func._autocrm_secret_response = True  # type: ignore[attr-defined]
    return func


def request_fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    try:
        digest.update(request.body)
    except RawPostDataException:
        # A multipart upload was streamed into request.POST/FILES; hash what it carried.
        for name, values in sorted(request.POST.lists()):
            digest.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(json.dumps([name, upload.name, upload.size]).encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    return digest.hexdigest()


def caller_label(request: HttpRequest) -> str:
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return f"key:{api_key.pk}"
    return f"user:{request.user.pk}"


def advisory_lock_id(tenant_id: int, caller: str, key: str) -> int:
    """The signed 64-bit advisory lock id of one (tenant, caller, key)."""
    digest = hashlib.sha256(f"idempotency\n{tenant_id}\n{caller}\n{key}".encode()).digest()
    return int(struct.unpack(">q", digest[:8])[0])


def _try_lock(lock_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        row = cursor.fetchone()
    return bool(row and row[0])


def _replay(record: IdempotencyKey) -> HttpResponse:
    if record.response_body is None:
        raise Conflict(
            "A request with this Idempotency-Key was already processed. Its response held a "
            "secret that is shown only once and is not stored.",
            type_="idempotency-already-processed",
        )
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def idempotency_begin(request: HttpRequest, *, store_body: bool = True) -> HttpResponse | None:
    """Step 1-2 for an authenticated POST: None to go on (the claim is kept on the request),
    or the replayed response. Raises 400/409/422 problems."""
    raw_key = request.headers.get(HEADER)
    tenant = getattr(request, "tenant", None)
    if raw_key is None or tenant is None:
        return None
    key = raw_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable characters.",
            type_="invalid-idempotency-key",
        )
    who = caller_label(request)
    if not _try_lock(advisory_lock_id(tenant.pk, who, key)):
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry "
            "after it finishes.",
            type_="idempotency-in-flight",
            headers={"Retry-After": "1"},
        )
    fingerprint = request_fingerprint(request)
    record = IdempotencyKey.objects.filter(
        tenant=tenant, caller=who, key=key, created_at__gte=timezone.now() - TTL
    ).first()
    if record is not None:
        if record.fingerprint != fingerprint:
            raise InvalidInput(
                [
                    field_error(
                        f"header.{HEADER}",
                        "This key was already used for a different "
                        "request (method, path or body differ).",
                    )
                ],
                detail=f"The {HEADER} was reused with a different request.",
            )
        return _replay(record)
    setattr(request, _REQUEST_ATTR, _Claim(tenant, who, key, fingerprint, store_body))
    return None


def idempotency_finish(request: HttpRequest, response: HttpResponseBase) -> None:
    """Step 3: store a successful response of a claimed request (same transaction)."""
    claim: _Claim | None = getattr(request, _REQUEST_ATTR, None)
    if claim is None or not 200 <= response.status_code < 300:
        return
    if not isinstance(response, HttpResponse):  # streaming: nothing to replay
        return
    delattr(request, _REQUEST_ATTR)
    headers = {
        name: value for name, value in response.items() if name.lower() not in _UNSTORED_HEADERS
    }
    expired = timezone.now() - TTL
    # Expired records of this tenant go now (including an old one with this very key).
    IdempotencyKey.objects.filter(tenant=claim.tenant, created_at__lt=expired).delete()
    IdempotencyKey.objects.create(
        tenant=claim.tenant,
        caller=claim.caller,
        key=claim.key,
        fingerprint=claim.fingerprint,
        status_code=response.status_code,
        response_body=response.content if claim.store_body else None,
        response_headers=headers,
    )


def idempotent_operation(view_func: F) -> F:
    """ninja "operation" decorator (runs after auth and validation) for POST operations."""
    store_body = not getattr(view_func, "_autocrm_secret_response", False)

    if inspect.iscoroutinefunction(view_func):

        @wraps(view_func)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                replay = await sync_to_async(idempotency_begin)(request, store_body=store_body)
                if replay is not None:
                    return replay
            return await view_func(request, *args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method == "POST":
            replay = idempotency_begin(request, store_body=store_body)
            if replay is not None:
                return replay
        return view_func(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def idempotent_run(run: F) -> F:
    """ninja "view" decorator (around the whole operation) storing the outcome."""
    if inspect.iscoroutinefunction(run):

        @wraps(run)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            response = await run(request, *args, **kwargs)
            if request.method == "POST":
                await sync_to_async(idempotency_finish)(request, response)
            return response

        return async_wrapper  # type: ignore[return-value]

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = run(request, *args, **kwargs)
        if request.method == "POST":
            idempotency_finish(request, response)
        return response

    return wrapper  # type: ignore[return-value]


def idempotency_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete expired records of every tenant (system context); returns how many."""
    from autocrm.core.tenancy import system_context

    cutoff = (now or timezone.now()) - TTL
    with system_context("idempotency: purge expired keys") as db:
        deleted, _ = IdempotencyKey.objects.using(db).filter(created_at__lt=cutoff).delete()
    return deleted
