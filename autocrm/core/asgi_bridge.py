"""Django's WSGI handler under the ASGI server, with one hand-over between threads each way.

a2wsgi streams both ways: the request thread blocks on the event loop for every message it
sends (response start, each body chunk, the end) and for every read of the request body.
That is four or more hand-overs between the two threads per request, and each one waits
for the other thread to get the GIL. Almost every request here has a small body and gets a
small, finished response, so ``BufferedWSGI`` reads such a body on the event loop, runs
Django on a pool thread, and sends the finished response from the loop. The API create
benchmark measured ~20 % more tickets/s with it (docs/adr/0005).

- A body with ``Content-Length`` up to ``buffer_limit`` (Django's
  ``DATA_UPLOAD_MAX_MEMORY_SIZE``, the most Django would read into memory anyway) is
  buffered. Larger bodies and chunked ones (file uploads) go to a2wsgi, which streams them
  to Django on the same thread pool.
- A streaming response (file downloads, exports) is sent chunk by chunk, one pool
  hand-over per chunk, and closed afterwards like a WSGI server would.
- If the client goes away before its body has arrived, nothing runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]

_DONE = b""  # what the streaming pump returns after the last chunk (chunks are never empty)


class BufferedWSGI:
    def __init__(self, app: WSGIApp, *, workers: int, buffer_limit: int) -> None:
        self.app = app
        self.buffer_limit = buffer_limit
        self.streaming = WSGIMiddleware(app, workers=workers)  # type: ignore[arg-type]
        self.executor = self.streaming.executor  # one pool: as many threads as DB connections

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._bufferable(scope):
            await self.streaming(scope, receive, send)  # type: ignore[arg-type]
            return
        body = await self._read_body(receive)
        if body is None:
            return  # the client disconnected
        environ: dict[str, Any] = dict(build_environ(scope, io.BytesIO(body)))  # type: ignore[arg-type]
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

    def _bufferable(self, scope: dict[str, Any]) -> bool:
        length: int | None = None
        for name, value in scope["headers"]:
            if name == b"transfer-encoding":
                return False
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return False  # let the streaming path (and Django) report it
        return length is None or 0 <= length <= self.buffer_limit

    @staticmethod
    async def _read_body(receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

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
