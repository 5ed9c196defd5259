"""HTML and Markdown: blocks of visible text, headings, table rows."""

from __future__ import annotations

from typing import Any

from assets.documents.models import Location, ParsedDocument, Segment
from assets.documents.parsing.base import ParseOutcome, decode_text, single, squash

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "header", "li", "main", "nav", "ol", "p", "section",
    "summary", "table", "tbody", "thead", "tfoot", "ul", "html",
}  # fmt: skip
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DROPPED_TAGS = ["script", "style", "noscript", "template", "head", "svg"]


def html_blocks(markup: str) -> tuple[str, list[tuple[int | None, str, bool]]]:
    """(title, [(source line, text, is_heading)]) for each block of visible text, in order."""
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import PreformattedString

    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = squash(title_tag.get_text(" ")) if title_tag else ""
    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    blocks: list[tuple[int | None, str, bool]] = []
    buffer: list[str] = []
    buffer_line: list[int | None] = [None]

    def flush() -> None:
        # Inline elements join without a separator, as a browser renders them; <br> gave "\n".
        lines = (squash(line) for line in "".join(buffer).split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            blocks.append((buffer_line[0], text, False))
        buffer.clear()
        buffer_line[0] = None

    def walk(element: Tag) -> None:
        for child in element.children:
            if isinstance(child, PreformattedString):  # comments, doctype, processing instructions
                continue
            if isinstance(child, NavigableString):
                if buffer_line[0] is None and child.strip():
                    buffer_line[0] = element.sourceline
                buffer.append(str(child).replace("\n", " "))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADING_TAGS or name in ("pre", "tr"):
                flush()
                if name == "tr":
                    cells = [
                        squash(cell.get_text(" ")) for cell in child.find_all(["td", "th"], recursive=False)
                    ]
                    text = " | ".join(cells) if any(cells) else ""
                elif name == "pre":
                    text = child.get_text().strip("\n")
                else:
                    text = squash(child.get_text(" "))
                if text.strip():
                    blocks.append((child.sourceline, text, name in _HEADING_TAGS))
            elif name == "br":
                buffer.append("\n")
            elif name in _BLOCK_TAGS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(soup)
    flush()
    return title, blocks


def parse_html(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    title, blocks = html_blocks(decode_text(data, "HTML file"))
    segments = []
    heading: str | None = None
    for line, text, is_heading in blocks:
        if is_heading:
            heading = text
        segments.append(Segment(text=text, location=Location(line=line), heading=heading))
    return single(ParsedDocument(path=path, kind="html", title=title, segments=segments))


def _inline_text(token: Any) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def parse_markdown(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    """One segment per paragraph, list item paragraph, heading, code block and table row."""
    from markdown_it import MarkdownIt

    text = decode_text(data, "Markdown file")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    segments: list[Segment] = []
    heading: str | None = None
    title = ""
    row: list[str] | None = None
    row_line = 0
    for index, token in enumerate(tokens):
        line = token.map[0] + 1 if token.map else None
        if token.type == "heading_open":
            heading = _inline_text(tokens[index + 1])
            title = title or (heading if token.tag == "h1" else "")
            if heading:
                segments.append(Segment(text=heading, location=Location(line=line), heading=heading))
        elif token.type == "paragraph_open":
            content = _inline_text(tokens[index + 1])
            in_list = index > 0 and tokens[index - 1].type == "list_item_open"
            if content:
                segments.append(
                    Segment(text=content, location=Location(line=line), heading=heading, list_item=in_list)
                )
        elif token.type in ("fence", "code_block") and token.content.strip():
            if token.type == "fence" and line is not None:
                line += 1  # the code starts below the opening ``` line
            segments.append(
                Segment(text=token.content.rstrip(), location=Location(line=line), heading=heading)
            )
        elif token.type == "html_block":
            _, blocks = html_blocks(token.content)
            content = "\n".join(block_text for _, block_text, _ in blocks)
            if content:
                segments.append(Segment(text=content, location=Location(line=line), heading=heading))
        elif token.type == "tr_open":
            row, row_line = [], line or 0
        elif token.type == "inline" and row is not None:
            row.append(_inline_text(token))
        elif token.type == "tr_close" and row is not None:
            if any(row):
                segments.append(
                    Segment(text=" | ".join(row), location=Location(line=row_line), heading=heading)
                )
            row = None
    return single(ParsedDocument(path=path, kind="markdown", title=title, segments=segments))
