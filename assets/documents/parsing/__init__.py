"""Parse one input file (path + bytes) into structured text: pure functions, no I/O.

Every format yields `Segment`s that carry a `Location` (page, line, or timestamp with speaker), so a
later stage can trace a requirement back to where it was said or written. Files that cannot be used
raise `RejectedInput` with a reason a person can act on. One module per family of formats
(`pdf`, `word`, `web`, `text`, `captions`, `chat`, `mail`); `registry` picks the parser by extension.

Heavy libraries are imported lazily per format; `preload` imports them up front so forked parser
processes share them instead of importing them once each.
"""

from assets.documents.parsing.base import (
    ParseOutcome,
    RejectedInput,
    SourceFacts,
    check_size,
    decode_text,
    human_size,
)
from assets.documents.parsing.captions import split_speaker
from assets.documents.parsing.registry import (
    is_supported,
    parse_file,
    parse_source,
    preload,
    supported_extensions,
    unsupported_reason,
)
from assets.documents.parsing.text import transcript_turns
from assets.documents.parsing.web import html_blocks

__all__ = [
    "ParseOutcome",
    "RejectedInput",
    "SourceFacts",
    "check_size",
    "decode_text",
    "html_blocks",
    "human_size",
    "is_supported",
    "parse_file",
    "parse_source",
    "preload",
    "split_speaker",
    "supported_extensions",
    "transcript_turns",
    "unsupported_reason",
]
