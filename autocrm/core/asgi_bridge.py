"""Django's WSGI handler under the ASGI server: the body is read on the event loop, one
hand-over to a pool thread runs Django, the response goes back from the loop.

Why the body is read here, before any thread is used: a pool thread that blocks reading a
body is lost to every other request until the client finishes. With a thread pool of
``WEB_THREADS`` (8), eight anonymous clients that announce a large body and then send
nothing would stall every page, ``/healthz`` included (docs/adr/0005, issue 9). On the loop
a waiting body costs one socket and a coroutine, nothing that others wait for.

- Every body is read on the loop with two deadlines: ``idle_timeout`` between two chunks
  and ``body_timeout`` for the whole body. A client too slow for either gets 408
  problem+json and the connection is closed; Django never sees the request.
- A body up to ``spool_memory`` bytes stays in memory; a larger one (an upload) is spooled
  to a temporary file, on the loop, which Django then reads like any request body.
- A body longer than the request may carry (``max_body``, or ``max_upload`` for
  multipart) is not read: a declared length over it reaches Django with no body, where
  ``RequestBodyLimitMiddleware`` answers 413 without reading; a chunked body that grows past
  it gets 413 here.
- A streaming response (file downloads, exports) is sent chunk by chunk, one pool
  hand-over per chunk, and closed afterwards like a WSGI server would.
- If the client goes away before its body has arrived, nothing runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from a2wsgi.wsgi import build_environ

from autocrm.core.problems import PROBLEM_CONTENT_TYPE, problem_body

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]

_DONE = b""  # what the streaming pump returns after the last chunk (chunks are never empty)
# Bodies up to this size stay in memory while they arrive; larger ones go to a temporary
# file, so many slow uploads at once cost disk, not memory.
SPOOL_MEMORY_BYTES = 1024 * 1024


class _ClientGone(Exception):
    """The client disconnected before its body had arrived."""


class _Refused(Exception):
    """The body cannot be read: answer with this problem instead of running Django."""

    def __init__(self, status: int, detail: str, type_: str) -> None:
        super().__init__(detail)
        self.status, self.detail, self.type_ = status, detail, type_


class BufferedWSGI:
    def __init__(
        self,
        app: WSGIApp,
        *,
        workers: int,
        max_body: int,
        max_upload: int | None = None,
        max_email: int | None = None,
        body_timeout: float = 120.0,
        idle_timeout: float = 15.0,
        spool_memory: int = SPOOL_MEMORY_BYTES,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_body if max_upload is None else max(max_upload, max_body)
        # A raw email (message/rfc822, POST /api/v1/inboxes/{id}/raw) may be larger still.
        self.max_email = self.max_upload if max_email is None else max(max_email, max_body)
        self.body_timeout = body_timeout
        self.idle_timeout = idle_timeout
        self.spool_memory = spool_memory
        # One pool: as many threads as database connections.
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="WSGI")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"BufferedWSGI serves HTTP only, not {scope['type']!r}")
        try:
            body, length = await self._read_body(scope, receive)
        except _ClientGone:
            return
        except _Refused as refused:
            await _send_problem(send, refused.status, refused.detail, refused.type_)
            return
        try:
            await self._respond(scope, body, length, send)
        finally:
            body.close()

    async def _respond(
        self, scope: dict[str, Any], body: IO[bytes], length: int | None, send: Send
    ) -> None:
        environ: dict[str, Any] = dict(build_environ(scope, body))  # type: ignore[arg-type]
        if length is not None:  # a chunked body: Django reads CONTENT_LENGTH bytes
            environ["CONTENT_LENGTH"] = str(length)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        status, headers, content, stream = await loop.run_in_executor(
            self.executor, context.run, self._run, environ
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if stream is None:
            await send({"type": "http.response.body", "body": content})
            return
        chunks = iter(stream)
        try:
            while chunk := await loop.run_in_executor(self.executor, context.run, _next, chunks):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                await loop.run_in_executor(self.executor, context.run, close)

    def _limit(self, scope: dict[str, Any]) -> tuple[int | None, int]:
        """The declared length (None: chunked or none) and the most this request may carry."""
        declared: int | None = None
        limit = self.max_body
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():  # bytes: ASCII digits only
                    raise _Refused(400, "Content-Length is not a number.", "bad-request")
                declared = int(value)
            elif name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
                limit = self.max_upload
            elif name == b"content-type" and value.lower().startswith(b"message/rfc822"):
                limit = self.max_email
        return declared, limit

    async def _read_body(
        self, scope: dict[str, Any], receive: Receive
    ) -> tuple[IO[bytes], int | None]:
        """The whole body, read on the loop within the deadlines, and its length when the
        client sent it chunked (None when ``Content-Length`` said it)."""
        declared, limit = self._limit(scope)
        if declared is not None and declared > limit:
            return io.BytesIO(), None  # RequestBodyLimitMiddleware answers 413 unread
        started = time.monotonic()
        first = await self._receive(receive, started)
        data: bytes = first.get("body", b"")
        if not first.get("more_body", False):  # almost every request: one message
            return io.BytesIO(data), (None if declared is not None else len(data))
        # Closed by the caller once Django has read it (or below, if reading fails).
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=self.spool_memory)  # noqa: SIM115
        try:
            size = len(data)
            spool.write(data)
            more = True
            while more:
                message = await self._receive(receive, started)
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise _Refused(
                        413,
                        f"The request body is over {limit} bytes, the limit.",
                        "body-too-large",
                    )
                spool.write(chunk)
                more = message.get("more_body", False)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool, (None if declared is not None else size)

    async def _receive(self, receive: Receive, started: float) -> Message:
        remaining = self.body_timeout - (time.monotonic() - started)
        try:
            message: Message = await asyncio.wait_for(
                receive(), timeout=max(0.0, min(self.idle_timeout, remaining))
            )
        except TimeoutError:
            raise _Refused(
                408,
                "The request body did not arrive in time "
                f"(at most {self.idle_timeout:g} s between parts, "
                f"{self.body_timeout:g} s in all).",
                "request-timeout",
            ) from None
        if message["type"] == "http.disconnect":
            raise _ClientGone
        return message

    def _run(
        self, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, Iterable[bytes] | None]:
        """Run the app on a pool thread: the finished response, or the iterable to stream."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return _no_write

        result = self.app(environ, start_response)
        if getattr(result, "streaming", False):  # Django's streaming responses
            status, headers = started
            return _status(status), _headers(headers), b"", result
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return _status(status), _headers(headers), content, None


async def _send_problem(send: Send, status: int, detail: str, type_: str) -> None:
    """Answer without Django; the connection is closed, the rest of the body is not read."""
    content = json.dumps(problem_body(status, detail=detail, type_=type_)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                (b"content-length", str(len(content)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


def _no_write(data: bytes) -> None:
    raise RuntimeError("write() from start_response is not supported; return an iterable")


def _status(status: str) -> int:
    return int(status.split(" ", 1)[0])


def _headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]


def _next(stream: Iterator[bytes]) -> bytes:
    """The next non-empty chunk, or ``_DONE``."""
    for chunk in stream:
        if chunk:
            return chunk
    return _DONE
