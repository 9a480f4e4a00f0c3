"""The first page of a PDF drawn as a PNG in a child process (tickets.pdf_preview)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from autocrm.tickets import pdf_preview


def one_page_pdf(content: bytes, width: int = 200, height: int = 100) -> bytes:
    """A valid one-page PDF whose page draws ``content`` (a PDF content stream)."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 %d %d]/Contents 4 0 R>>" % (width, height),
        b"<</Length %d>>stream\n%s\nendstream" % (len(content), content),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


# The left half of the page red, the right half white.
RED_LEFT_HALF = one_page_pdf(b"1 0 0 rg 0 0 100 100 re f")


def test_the_first_page_is_drawn_to_fit_the_preview_box() -> None:
    png = pdf_preview.pdf_first_page_png(RED_LEFT_HALF)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (480, 240)  # 200 x 100 points, scaled to the box's width
    assert image.getpixel((10, 120)) == (255, 0, 0)
    assert image.getpixel((470, 120)) == (255, 255, 255)


def test_a_tall_page_fits_the_height() -> None:
    png = pdf_preview.pdf_first_page_png(one_page_pdf(b"", width=100, height=1000))
    assert Image.open(io.BytesIO(png)).size == (68, 680)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\nnot really a pdf at all",
        b"GIF89a not a PDF",
        b"%PDF-" + b"0" * (pdf_preview.MAX_INPUT_BYTES + 1),
    ],
    ids=["broken", "not-a-pdf", "too-large"],
)
def test_no_preview_for_what_is_not_a_readable_pdf(data: bytes) -> None:
    with pytest.raises(pdf_preview.PreviewError):
        pdf_preview.pdf_first_page_png(data)
