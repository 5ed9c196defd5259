"""PDF: the text of every page, one segment per page (no OCR)."""

from __future__ import annotations

from typing import Any

from assets.documents.models import Location, ParsedDocument, Segment
from assets.documents.parsing.base import ParseOutcome, RejectedInput, short, single


def load_pymupdf() -> Any:
    import pymupdf

    # MuPDF prints repair warnings to stderr; the reason travels in the exception instead.
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    return pymupdf


def parse_pdf(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    pymupdf = load_pymupdf()
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as error:
        raise RejectedInput(f"corrupt PDF: cannot be opened ({short(error)})") from None
    with doc:
        if doc.needs_pass:
            raise RejectedInput("password-protected PDF: remove the password and upload it again")
        segments = []
        try:
            for number, page in enumerate(doc, start=1):
                # Plain text extraction only: layout analysis costs far more and adds nothing here.
                text = page.get_text().strip()
                if text:
                    segments.append(Segment(text=text, location=Location(page=number)))
        except Exception as error:
            raise RejectedInput(
                f"corrupt PDF: page {len(segments) + 1} cannot be read ({short(error)})"
            ) from None
        if doc.page_count == 0:
            raise RejectedInput("corrupt PDF: it has no pages")
        if not segments:
            raise RejectedInput(
                "no extractable text in this PDF (a scan without a text layer? OCR is not done)"
            )
        title = (doc.metadata or {}).get("title") or ""
    return single(ParsedDocument(path=path, kind="pdf", title=title.strip(), segments=segments))
