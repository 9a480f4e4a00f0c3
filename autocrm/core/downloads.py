"""Stored files (ticket attachments, article images) served so that none runs in our origin.

An attachment is whatever a customer sent: served as ``text/html`` or SVG from our domain it
could script the agent's session. So every stored file goes out with the type sniffed at
upload and ``nosniff`` (the browser may not guess another), and a Content-Security-Policy
that allows nothing and sandboxes it, even if it is opened inline (ADR 0052)."""

from __future__ import annotations

from typing import IO

from django.http import FileResponse

SANDBOX_POLICY = "default-src 'none'; sandbox"


def sandboxed_file_response(
    handle: IO[bytes],
    *,
    content_type: str,
    filename: str = "",
    as_attachment: bool = False,
) -> FileResponse:
    """``handle`` (an opened stored file) as a streaming response that cannot run."""
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    return response
