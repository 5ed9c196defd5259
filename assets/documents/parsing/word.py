"""Word (.docx): paragraphs and table rows in body order, with the heading above each."""

from __future__ import annotations

import io

from assets.documents.models import Location, ParsedDocument, Segment
from assets.documents.parsing.base import ParseOutcome, RejectedInput, short, single, squash


def _is_heading_style(style_name: str) -> bool:
    return style_name == "Title" or style_name.startswith("Heading")


def parse_docx(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    """Paragraphs and table rows in body order; `line` numbers every paragraph and table row."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:
        raise RejectedInput(f"not a valid DOCX file (a Word 2007+ zip package): {short(error)}") from None
    segments: list[Segment] = []
    heading: str | None = None
    title = ""
    number = 0
    try:
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    number += 1
                    cells: list[str] = []
                    seen: set[int] = set()
                    for cell in row.cells:
                        if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                            continue
                        seen.add(id(cell._tc))
                        cells.append(squash(cell.text.replace("\n", " ")))
                    text = " | ".join(cells)
                    if text.strip(" |"):
                        segments.append(Segment(text=text, location=Location(line=number), heading=heading))
                continue
            number += 1
            text = block.text.strip()
            if not text:
                continue
            style = block.style.name if block.style is not None else ""
            if _is_heading_style(style or ""):
                heading = squash(text)
                if style == "Title" and not title:
                    title = heading
            item = (style or "").startswith("List")  # "List Bullet", "List Number", ...
            segments.append(
                Segment(text=text, location=Location(line=number), heading=heading, list_item=item)
            )
        title = document.core_properties.title or title
    except RejectedInput:
        raise
    except Exception as error:
        raise RejectedInput(f"corrupt DOCX: {short(error)}") from None
    return single(ParsedDocument(path=path, kind="docx", title=title.strip(), segments=segments))
