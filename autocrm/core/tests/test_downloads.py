"""A stored file goes out with its own type, nosniff and a sandboxing CSP, inline or not."""

from __future__ import annotations

import io

from autocrm.core.downloads import SANDBOX_POLICY, sandboxed_file_response


def test_an_attachment_is_a_sandboxed_download() -> None:
    response = sandboxed_file_response(
        io.BytesIO(b"<script>alert(1)</script>"),
        content_type="text/html",
        filename="page.html",
        as_attachment=True,
    )
    assert response["Content-Type"] == "text/html"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX_POLICY == "default-src 'none'; sandbox"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[arg-type]


def test_inline_files_are_sandboxed_too() -> None:
    response = sandboxed_file_response(io.BytesIO(b"\x89PNG"), content_type="image/png")
    assert response["Content-Security-Policy"] == SANDBOX_POLICY
    assert not response.get("Content-Disposition", "").startswith("attachment")
