"""Every parser on small files made by the real libraries, and every rejection reason."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from assets.documents.models import ParsedDocument
from assets.documents.parsing import (
    RejectedInput,
    check_size,
    parse_file,
    parse_source,
    split_speaker,
    supported_extensions,
)
from tests.support.corpus import (
    HTML,
    MARKDOWN,
    chat_messages,
    docx_bytes,
    eml_bytes,
    msg_bytes,
    pdf_bytes,
    sample_files,
    slack_messages,
    srt_text,
    vtt_text,
)

LIMIT = 10 * 1024 * 1024
# The real meeting of ../shared/corpus (beside the checkout, or beside a parent of a worktree).
REAL_MEETING = next(
    (
        folder / "shared" / "corpus" / "meeting-transcript" / "IS1004b.txt"
        for folder in Path(__file__).resolve().parents
        if (folder / "shared" / "corpus").is_dir()
    ),
    Path("shared/corpus/meeting-transcript/IS1004b.txt"),
)


def parse_one(path: str, data: bytes) -> ParsedDocument:
    documents = parse_file(path, data, LIMIT)
    assert len(documents) == 1
    assert documents[0].path == path
    return documents[0]


def rejection(path: str, data: bytes, limit: int = LIMIT) -> str:
    with pytest.raises(RejectedInput) as caught:
        parse_file(path, data, limit)
    return caught.value.reason


# --- every format, every segment located ------------------------------------------------------


@pytest.mark.parametrize("path", sorted(sample_files()))
def test_every_sample_parses_with_a_location_on_every_segment(path: str) -> None:
    documents = parse_file(path, sample_files()[path], LIMIT)
    assert documents and documents[0].path == path
    for document in documents:
        assert document.segments, document.path
        for segment in document.segments:
            assert segment.text.strip()
            assert segment.location.model_dump(exclude_none=True), (
                f"{document.path}: {segment.text!r} has no location"
            )


def test_every_supported_extension_has_a_sample() -> None:
    sampled = {"." + path.rsplit(".", 1)[-1] for path in sample_files()}
    assert sampled | {".markdown", ".htm"} == set(supported_extensions())


def test_extension_is_case_insensitive() -> None:
    document = parse_one("SPEC.PDF", pdf_bytes(["Upper case extension works."]))
    assert document.kind == "pdf"
    assert "Upper case extension works." in document.text


# --- PDF --------------------------------------------------------------------------------------


def test_pdf_one_segment_per_page_with_page_numbers_and_title() -> None:
    data = pdf_bytes(["The system shall export invoices.", "", "Users must log in with SSO."], title="Portal")
    document = parse_one("spec.pdf", data)
    assert document.kind == "pdf" and document.title == "Portal"
    assert [segment.location.page for segment in document.segments] == [1, 3]  # the blank page 2 has no text
    assert document.segments[0].text == "The system shall export invoices."
    assert document.segments[1].text == "Users must log in with SSO."


def test_corrupt_pdf_is_rejected() -> None:
    assert "corrupt PDF" in rejection("broken.pdf", b"%PDF-1.7\n this is not a PDF at all")
    truncated = pdf_bytes(["Some text"])[:200]
    assert "corrupt PDF" in rejection("truncated.pdf", truncated)


def test_pdf_without_text_layer_is_rejected() -> None:
    assert "no extractable text" in rejection("scan.pdf", pdf_bytes(["", ""]))


def test_password_protected_pdf_is_rejected() -> None:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((50, 60), "secret requirement")
    data = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    assert "password-protected" in rejection("locked.pdf", data)


# --- generic rejections -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.pdf", "empty.txt", "empty.eml", "empty.docx", "empty.json"])
def test_empty_file_is_rejected(name: str) -> None:
    assert rejection(name, b"") == "empty file (0 bytes)"


def test_oversized_file_is_rejected_with_the_limit() -> None:
    reason = rejection("big.txt", b"x" * 2049, limit=2048)
    assert "over the 2.0 KB limit" in reason and "PIPELINE_MAX_FILE_MB" in reason
    assert parse_one("ok.txt", b"x" * 2048).text == "x" * 2048  # exactly at the limit is fine
    assert check_size(5, 4) and check_size(4, 4) is None


@pytest.mark.parametrize("name", ["archive.zip", "notes.doc", "README", "photo.PNG"])
def test_unsupported_extension_is_rejected(name: str) -> None:
    reason = rejection(name, b"some bytes")
    assert reason.startswith("unsupported")
    assert ".pdf" in reason and ".docx" in reason  # tells the user what would work


# --- DOCX -------------------------------------------------------------------------------------


def test_docx_tracks_headings_tables_and_paragraph_numbers() -> None:
    data = docx_bytes(
        [
            ("title", "Ordering app"),
            ("paragraph", "Intro text."),
            ("heading1", "Accounts"),
            ("paragraph", "Users must sign up."),
            ("paragraph", ""),
            ("table", [["Role", "Permission"], ["Admin", "Delete | archive"]]),
            ("heading2", "Passwords"),
            ("paragraph", "Passwords must be reset by e-mail."),
        ]
    )
    document = parse_one("plan.docx", data)
    by_text = {segment.text: segment for segment in document.segments}
    assert document.title == "Ordering app"
    assert by_text["Intro text."].heading == "Ordering app"
    assert by_text["Users must sign up."].heading == "Accounts"
    assert by_text["Role | Permission"].heading == "Accounts"
    assert "Admin | Delete | archive" in by_text
    assert by_text["Passwords must be reset by e-mail."].heading == "Passwords"
    lines = [segment.location.line for segment in document.segments]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    # the empty paragraph still counts: the table rows come after paragraph 5
    assert by_text["Role | Permission"].location.line == by_text["Users must sign up."].location.line + 2


def test_docx_that_is_not_a_zip_is_rejected() -> None:
    assert "not a valid DOCX" in rejection("fake.docx", b"This is plain text, not a Word file.")


def test_docx_zip_without_word_content_is_rejected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a document")
    assert "DOCX" in rejection("other.docx", buffer.getvalue())


# --- e-mail ------------------------------------------------------------------------------------


def test_eml_headers_plain_text_preferred_over_html() -> None:
    data = eml_bytes(
        body="Plain: the portal must send receipts.\n\nSecond paragraph.\n",
        html="<html><body><p>HTML: something else entirely</p></body></html>",
    )
    document = parse_one("mail/receipt.eml", data)
    assert document.kind == "eml"
    assert document.headers["From"] == "Alice Example <alice@example.com>"
    assert document.headers["To"] == "Bob Builder <bob@example.com>"
    assert document.headers["Cc"] == "Carol <carol@example.com>"
    assert document.headers["Subject"] == document.title == "Requirements for the portal"
    assert document.headers["Date"] == "Mon, 15 Jan 2024 09:30:00 +0000"
    assert "HTML:" not in document.text
    first, second = document.segments
    assert first.text == "Plain: the portal must send receipts." and first.location.line == 1
    assert second.location.line == 3
    assert first.location.speaker == "Alice Example"
    assert first.location.start == "2024-01-15T09:30:00+00:00"


def test_eml_html_only_body_becomes_text() -> None:
    html = "<html><body><h1>Hi</h1><p>The app <b>must</b> export CSV.</p><script>x()</script></body></html>"
    document = parse_one("mail/html.eml", eml_bytes(body=None, html=html))
    assert [segment.text for segment in document.segments] == ["Hi", "The app must export CSV."]
    assert "<" not in document.text and "x()" not in document.text


def test_eml_attachments_become_documents_and_unsupported_ones_are_skipped() -> None:
    inner = eml_bytes(subject="Forwarded", body="Inner mail: exports must be signed.\n")
    data = eml_bytes(
        attachments=[
            ("spec.pdf", pdf_bytes(["Attached PDF: the API must be versioned."]), "application/pdf"),
            ("notes.txt", b"Attached notes: keep audit logs.\n", "text/plain"),
            ("archive.zip", b"PK\x03\x04zip", "application/zip"),
            ("broken.pdf", b"%PDF-1.4 broken", "application/pdf"),
            ("fwd.eml", inner, "message/rfc822"),
        ]
    )
    outcome = parse_source("mail/kickoff.eml", data, LIMIT)
    paths = [document.path for document in outcome.documents]
    assert paths == [
        "mail/kickoff.eml",
        "mail/kickoff.eml#spec.pdf",
        "mail/kickoff.eml#notes.txt",
        "mail/kickoff.eml#fwd.eml",
    ]
    by_path = {document.path: document for document in outcome.documents}
    assert by_path["mail/kickoff.eml#spec.pdf"].kind == "pdf"
    assert by_path["mail/kickoff.eml#spec.pdf"].segments[0].location.page == 1
    assert "the API must be versioned" in by_path["mail/kickoff.eml#spec.pdf"].text
    assert "keep audit logs" in by_path["mail/kickoff.eml#notes.txt"].text
    assert by_path["mail/kickoff.eml#fwd.eml"].headers["Subject"] == "Forwarded"
    skipped = dict(outcome.skipped)
    assert "unsupported file type '.zip'" in skipped["mail/kickoff.eml#archive.zip"]
    assert "corrupt PDF" in skipped["mail/kickoff.eml#broken.pdf"]
    mail = by_path["mail/kickoff.eml"]
    assert "archive.zip" in mail.headers["Skipped-Attachments"]
    assert mail.headers["Attachments"] == "spec.pdf, notes.txt, fwd.eml"
    assert outcome.sources["mail/kickoff.eml"].size == len(data)
    assert outcome.sources["mail/kickoff.eml#notes.txt"].size == len(b"Attached notes: keep audit logs.\n")


def test_zero_byte_eml_is_rejected() -> None:
    assert rejection("mail/empty.eml", b"") == "empty file (0 bytes)"


def test_eml_without_headers_or_text_is_rejected() -> None:
    assert "not an e-mail" in rejection("mail/garbage.eml", b"\x01\x02 just some bytes without headers")
    empty_body = eml_bytes(body="\n\n")
    assert "no extractable text" in rejection("mail/blank.eml", empty_body)


# --- Outlook .msg ---------------------------------------------------------------------------------


def test_msg_headers_body_and_attachments() -> None:
    data = msg_bytes(
        "Kickoff (Outlook)",
        "We need a login page.\r\n\r\nUsers must reset passwords.",
        cc="Carol <carol@example.com>",
        attachments=[("notes.txt", b"Attachment: reports are weekly."), ("tool.exe", b"MZ")],
    )
    outcome = parse_source("mail/kickoff.msg", data, LIMIT)
    mail, attachment = outcome.documents
    assert mail.kind == "msg" and mail.title == "Kickoff (Outlook)"
    assert mail.headers["From"] == "Alice Example <alice@example.com>"
    assert mail.headers["To"] == "Bob Builder <bob@example.com>"
    assert mail.headers["Cc"] == "Carol <carol@example.com>"
    assert mail.headers["Date"] == "Mon, 15 Jan 2024 09:30:00 +0000"
    assert [segment.text for segment in mail.segments] == [
        "We need a login page.",
        "Users must reset passwords.",
    ]
    assert [segment.location.line for segment in mail.segments] == [1, 3]
    assert attachment.path == "mail/kickoff.msg#notes.txt"
    assert attachment.text == "Attachment: reports are weekly."
    assert "unsupported file type '.exe'" in dict(outcome.skipped)["mail/kickoff.msg#tool.exe"]


def test_corrupt_msg_is_rejected() -> None:
    assert "not a readable Outlook .msg" in rejection("mail/bad.msg", b"definitely not an OLE file" * 100)


# --- transcripts ------------------------------------------------------------------------------


def test_vtt_cues_with_voice_tags_and_name_prefixes() -> None:
    text = vtt_text(
        [
            ("00:00:01.000", "00:00:04.000", "<v Alice Smith>We need single sign-on.</v>"),
            ("00:00:05.000", "00:00:08.500", "Bob: And an audit log."),
            ("00:01:09.000", "00:01:10.000", "no speaker here\nsecond line"),
        ]
    )
    document = parse_one("meetings/kickoff.vtt", text.encode())
    assert document.kind == "vtt"
    first, second, third = document.segments
    assert (first.text, first.location.speaker) == ("We need single sign-on.", "Alice Smith")
    assert (first.location.start, first.location.end) == ("00:00:01.000", "00:00:04.000")
    assert (second.text, second.location.speaker) == ("And an audit log.", "Bob")
    assert second.location.end == "00:00:08.500"
    assert (third.text, third.location.speaker) == ("no speaker here second line", None)
    assert third.location.start == "00:01:09.000"


def test_malformed_vtt_is_rejected() -> None:
    assert "not a valid WebVTT" in rejection("meetings/bad.vtt", b"this is not\na transcript")


def test_srt_cues_with_speakers_and_times() -> None:
    text = srt_text(
        [
            ("00:00:01,000", "00:00:02,500", "Alice: Hello there."),
            ("00:00:03,000", "00:00:04,000", "<i>Reports</i> must be\nweekly."),
        ]
    )
    document = parse_one("meetings/review.srt", text.encode())
    first, second = document.segments
    assert (first.text, first.location.speaker, first.location.start, first.location.end) == (
        "Hello there.",
        "Alice",
        "00:00:01.000",
        "00:00:02.500",
    )
    assert (second.text, second.location.speaker) == ("Reports must be weekly.", None)


def test_malformed_srt_is_rejected() -> None:
    assert "not a valid SubRip" in rejection("meetings/bad.srt", b"nonsense stuff\nhere")


def test_split_speaker() -> None:
    assert split_speaker("Dr. Jane Doe: we need it") == ("Dr. Jane Doe", "we need it")
    assert split_speaker("At 10:30 we start") == (None, "At 10:30 we start")
    assert split_speaker("no prefix") == (None, "no prefix")


# --- chats ------------------------------------------------------------------------------------


def test_slack_export_channel_file() -> None:
    data = slack_messages(
        [
            (
                "U1",
                "Alice Example",
                "The app must send <https://example.com/r|reminders> to <@U2>.",
                "1705311000.000100",
            ),
            ("U2", "Bob Builder", "Agreed &amp; noted.", "1705311060.000200"),
        ]
    )
    document = parse_one("slack/general/2024-01-15.json", data)
    assert document.kind == "slack"
    assert document.title == "#general 2024-01-15"
    first, second = document.segments  # the channel_join message is left out
    assert first.text == "The app must send reminders (https://example.com/r) to @U2."
    assert first.location.speaker == "Alice Example"
    assert first.location.start == "2024-01-15T09:30:00.000+00:00"
    assert second.text == "Agreed & noted."
    assert second.location.start == "2024-01-15T09:31:00.000+00:00"


def test_plain_chat_json() -> None:
    data = chat_messages(
        [("dana", "Exports should be CSV.", "2024-01-15T10:00:00Z"), ("eli", "Yes.", 1705313000)]
    )
    document = parse_one("chat/team.json", data)
    assert document.kind == "chat"
    assert [(s.location.speaker, s.location.start, s.text) for s in document.segments] == [
        ("dana", "2024-01-15T10:00:00+00:00", "Exports should be CSV."),
        ("eli", "2024-01-15T10:03:20.000+00:00", "Yes."),
    ]
    assert [s.location.line for s in document.segments] == [1, 2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"name": "not a chat"}, "found a dict"),
        ([{"id": "U1", "name": "alice", "real_name": "Alice"}], "users.json"),
        ([1, 2, 3], "no message found"),
    ],
)
def test_other_json_is_rejected(value: object, expected: str) -> None:
    reason = rejection("data.json", json.dumps(value).encode())
    assert reason.startswith("unsupported JSON") and expected in reason


def test_invalid_json_is_rejected() -> None:
    assert rejection("broken.json", b"[{'user': ").startswith("invalid JSON")


# --- markdown, text, html ---------------------------------------------------------------------


def test_markdown_segments_lines_and_headings() -> None:
    document = parse_one("notes/readme.md", MARKDOWN.encode())
    source_lines = MARKDOWN.split("\n")
    assert document.title == "Portal requirements"
    for segment in document.segments:
        line = source_lines[segment.location.line - 1]
        first_word = segment.text.split()[0]
        assert first_word in line, (segment.text, line)
    by_text = {segment.text: segment for segment in document.segments}
    assert by_text["Users must be able to reset their password."].heading == "Accounts"
    assert by_text["Admin | delete accounts"].heading == "Accounts"
    assert by_text["Managers need a weekly sales report that arrives on Monday morning."].heading == "Reports"
    assert "GET /accounts" in by_text
    assert parse_one("notes/readme.markdown", MARKDOWN.encode()).text == document.text


def test_text_paragraphs_with_line_numbers_and_encodings() -> None:
    document = parse_one("notes/todo.txt", b"\n\nFirst line.\nsecond line.\n\n\nThird paragraph.\n")
    assert [(s.location.line, s.text) for s in document.segments] == [
        (3, "First line.\nsecond line."),
        (7, "Third paragraph."),
    ]
    latin = "Les données doivent être chiffrées à l'enregistrement, même hors ligne.".encode("cp1252")
    assert parse_one("fr.txt", latin).text.startswith("Les données doivent être chiffrées")
    utf16 = "Unicode text in UTF-16.".encode("utf-16")
    assert parse_one("u16.txt", utf16).text == "Unicode text in UTF-16."


TRANSCRIPT_TXT = """\
Priya Raman: Morning all, shall we start?
Tom: Yes. So the clinic wants patients to book appointments online.
Priya Raman: Right, and they need to cancel a booking up to a day before.
Dr. Okafor: The front desk should see every booking of the day
on one screen, sorted by time.
Tom: Agreed.
Priya Raman: Great, thanks everyone.
"""


def test_plain_text_transcript_keeps_a_speaker_on_every_turn() -> None:
    document = parse_one("meetings/standup.txt", TRANSCRIPT_TXT.encode())
    assert [(s.location.line, s.location.speaker) for s in document.segments] == [
        (1, "Priya Raman"),
        (2, "Tom"),
        (3, "Priya Raman"),
        (4, "Dr. Okafor"),
        (6, "Tom"),
        (7, "Priya Raman"),
    ]
    # A turn wrapped over two lines stays one turn; the speaker prefix is not part of the text.
    assert document.segments[3].text == (
        "The front desk should see every booking of the day on one screen, sorted by time."
    )
    assert document.segments[1].text.startswith("Yes. So the clinic")


def test_chat_log_lines_with_times_are_turns_too() -> None:
    log = (
        "[09:14] anna: can we get a dark theme?\n"
        "[09:15] ben_k: +1\n"
        "[09:15] anna: also we need CSV export of the report\n"
        "[09:16] ben_k: ok I'll file it\n"
    )
    document = parse_one("chat.txt", log.encode())
    assert [(s.location.start, s.location.speaker, s.text) for s in document.segments][:2] == [
        ("09:14", "anna", "can we get a dark theme?"),
        ("09:15", "ben_k", "+1"),
    ]


# The same five messages as each chat app writes them to a text file. Names and words are made up.
_MESSAGES = [
    ("Noor", "can we keep a list of the kilns and when each was last serviced?"),
    ("Ivo", "+1"),
    ("Noor", "and members should be able to book a firing"),
    ("Ivo", "the firing log, yes"),
    ("Noor", "great, thanks"),
]
CHAT_LOGS = {
    "bracketed time": "\n".join(f"[18:{10 + i}] {who}: {text}" for i, (who, text) in enumerate(_MESSAGES)),
    "bracketed date and time": "\n".join(
        f"[2024-03-01 18:{10 + i}] {who}: {text}" for i, (who, text) in enumerate(_MESSAGES)
    ),
    "time and dash": "\n".join(f"18:{10 + i} - {who}: {text}" for i, (who, text) in enumerate(_MESSAGES)),
    "WhatsApp": "\n".join(
        ["01/03/2024, 18:09 - Messages and calls are end-to-end encrypted. Tap to learn more."]
        + [f"01/03/2024, 18:{10 + i} - {who}: {text}" for i, (who, text) in enumerate(_MESSAGES)]
    ),
    "WhatsApp on iOS": "\n".join(
        f"\u200e[01/03/2024, 6:{10 + i}:00\u202fPM] {who}: {text}" for i, (who, text) in enumerate(_MESSAGES)
    ),
    "Slack copy": "\n".join(
        f"{who} Lindqvist  6:{10 + i} PM\n{text}" for i, (who, text) in enumerate(_MESSAGES)
    ),
}


@pytest.mark.parametrize("style", list(CHAT_LOGS))
def test_chat_exports_in_text_are_read_as_chats_with_a_sender_per_message(style: str) -> None:
    document = parse_one("notes.txt", CHAT_LOGS[style].encode())
    assert document.kind == "chat"
    senders = [segment.location.speaker for segment in document.segments]
    assert [s.split()[0] for s in senders if s] == [who for who, _ in _MESSAGES]
    assert [segment.text for segment in document.segments] == [text for _, text in _MESSAGES]
    assert all(segment.location.start for segment in document.segments)


def test_a_chat_message_over_several_lines_stays_one_message_and_app_notices_are_left_out() -> None:
    log = (
        '02/03/2024, 09:00 - Noor created group "Studio"\n'
        "02/03/2024, 09:01 - Noor: we need a booking sheet for the wheels\n"
        "one line per member\n"
        "02/03/2024, 09:02 - Ivo: +1\n"
        "02/03/2024, 09:03 - Ivo added Sam\n"
        "02/03/2024, 09:04 - Sam: and a list of glazes\n"
        "02/03/2024, 09:05 - Noor: ok\n"
    )
    document = parse_one("studio.txt", log.encode())
    assert [(s.location.speaker, s.text) for s in document.segments] == [
        ("Noor", "we need a booking sheet for the wheels\none line per member"),  # its own lines
        ("Ivo", "+1"),
        ("Sam", "and a list of glazes"),
        ("Noor", "ok"),
    ]


def test_dated_notes_and_a_schedule_are_not_taken_for_a_chat() -> None:
    notes = (
        "Opening hours\n"
        "[09:00] doors open\n"
        "[09:30] first class: beginners\n"
        "12:00 - lunch: bring your own\n"
        "The studio is shared by two groups and we need a way to book the wheels.\n"
        "Tutor  9:00 AM\n"
    )
    document = parse_one("schedule.txt", notes.encode())
    assert document.kind == "text"
    assert all(segment.location.speaker is None for segment in document.segments)


def test_text_with_labels_is_not_taken_for_a_transcript() -> None:
    spec = (
        "Title: Stock control\nAuthor: Jo Bloggs\nStatus: Draft\n\n"
        "The system shall record every stock movement.\nNote: see the glossary.\n"
    )
    document = parse_one("spec.txt", spec.encode())
    assert all(segment.location.speaker is None for segment in document.segments)
    assert document.segments[0].text.startswith("Title: Stock control\nAuthor:")


def test_the_real_meeting_transcript_has_its_four_speakers() -> None:
    path = REAL_MEETING
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    document = parse_one("IS1004b.txt", path.read_bytes())
    assert len(document.segments) == 401  # one per turn, as the corpus README says
    assert {s.location.speaker for s in document.segments} == {
        "Project Manager",
        "Marketing",
        "User Interface",
        "Industrial Designer",
    }


def test_binary_txt_is_rejected() -> None:
    assert "binary data" in rejection("blob.txt", b"\x00\x01\x02\x03" * 10)
    assert "no extractable text" in rejection("blank.txt", b"   \n\n  \n")


def test_html_blocks_headings_and_lines() -> None:
    document = parse_one("notes/page.html", HTML.encode())
    source_lines = HTML.split("\n")
    assert document.title == "Portal spec"
    texts = [segment.text for segment in document.segments]
    assert "The portal must show order history for every customer." in texts
    assert "Plan | Price" in texts and "Basic | 10 EUR" in texts
    assert "Loose text in a div" in texts and "and a nested paragraph" in texts
    assert not any("console.log" in text or "color" in text for text in texts)
    by_text = {segment.text: segment for segment in document.segments}
    assert by_text["Prices include VAT."].heading == "Billing"
    assert by_text["The portal must show order history for every customer."].heading == "Portal"
    for segment in document.segments:
        assert segment.text.split()[0] in source_lines[segment.location.line - 1]
    assert parse_one("page.htm", HTML.encode()).text == document.text
