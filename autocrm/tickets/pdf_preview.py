"""The first page of a PDF attachment as a small PNG, for the conversation's previews.

PDFium (pypdfium2, the PDF engine of Chromium) parses files customers send, so it runs in a
child process with a memory limit and a timeout: a hostile or broken file costs that child,
never the web server's memory or a request thread. The browser caches each preview (files
never change), so a ticket page's previews cost their rendering once per agent.
See docs/adr/0046-workspace-check.md.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
from pathlib import Path

MAX_WIDTH = 480  # px: the conversation shows previews at most 240 px wide (2x for HiDPI)
MAX_HEIGHT = 680
MAX_INPUT_BYTES = 20 * 1024 * 1024  # larger PDFs are only downloaded
TIMEOUT_SECONDS = 10.0
MEMORY_BYTES = 768 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class PreviewError(Exception):
    """The file has no preview: not a PDF we can read, too large, or too slow to draw."""


def pdf_first_page_png(data: bytes) -> bytes:
    """PNG bytes of the first page, at most MAX_WIDTH x MAX_HEIGHT; PreviewError if none."""
    if len(data) > MAX_INPUT_BYTES or not data.startswith(b"%PDF-"):
        raise PreviewError("not a PDF this page previews")
    try:
        done = subprocess.run(  # our own interpreter and module, no shell
            [sys.executable, "-m", "autocrm.tickets.pdf_preview"],
            input=data,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            cwd=PROJECT_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PreviewError("drawing the page took too long") from exc
    if done.returncode != 0 or not done.stdout.startswith(PNG_SIGNATURE):
        raise PreviewError("the PDF could not be read")
    return done.stdout


def render(data: bytes) -> bytes:
    """In the child: draw page one to fit MAX_WIDTH x MAX_HEIGHT and encode it as PNG."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        width, height = page.get_size()
        scale = min(MAX_WIDTH / max(width, 1.0), MAX_HEIGHT / max(height, 1.0), 4.0)
        image = page.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()
    finally:
        document.close()


if __name__ == "__main__":  # pragma: no cover - the child process of pdf_first_page_png
    # The limit is set by the child itself, before it reads the file: a preexec_fn would
    # run Python between fork and exec in a threaded web server.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    sys.stdout.buffer.write(render(sys.stdin.buffer.read()))
