"""Walk a document's segments in reading order and turn them into draft stories and exclusions.

The reader keeps what a sentence needs from around it: the section it is in (priority, features,
or a section left out), the last story (for the Given/When/Then and "Priority:" lines after it),
the actor last named, and, in a conversation, whether the next turn agrees with a proposal.
"""

from __future__ import annotations

import re

from assets.documents.models import ParsedDocument, Segment
from assets.requirements.drafts import DraftExclusion, DraftStory, ExtractedStories
from assets.requirements.language import singular, words
from assets.requirements.models import Priority
from assets.requirements.offline import sections
from assets.requirements.offline.actions import MEETING_VERBS, Context, Found, actions_of, draft
from assets.requirements.offline.criteria import derive_criteria
from assets.requirements.offline.details import StoryDetails
from assets.requirements.offline.lines import (
    BULLET,
    LEAD_IN,
    MD_HEADING,
    REQ_ID,
    SENTENCE_BREAK,
    SPOKEN_BREAK,
    TAG,
    explained,
    starts_with_action,
    unwrap_lines,
)
from assets.requirements.offline.people import AGENT_SUFFIXES, actor_of, looks_like_person, people_of
from assets.requirements.offline.phrasing import first_person, is_verb, with_article
from assets.requirements.offline.possession import fold_possessions
from assets.requirements.offline.spoken import clean_spoken, is_agreement, noun_answer, strip_lead_in
from assets.requirements.offline.statements import REQUEST, read_statement
from assets.requirements.offline.tables import TableReader, as_sentences
from assets.requirements.offline.turns import (
    BROKEN_OFF,
    CONTINUATION,
    NEED_QUESTION,
    PROPOSAL,
    SIGN_OFF,
    SMALL_TALK,
    TRAILING_YES,
    proposed_by_role,
)

INJECTION_REASON = "instruction aimed at the model (possible prompt injection)"
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(instructions?|prompts?|directives?)\b"
    r"|\b(print|reveal|output|leak|dump|expose|exfiltrate|tell me|give me)\b[^.]{0,60}"
    r"(\b[A-Z0-9]+_(API_)?(KEY|TOKEN|SECRET)\b|\bapi[ _-]?keys?\b|\bsecrets?\b"
    r"|\bcredentials\b|\bsystem prompt\b)"
    r"|\byou are (now )?(an? )?(ai|assistant|language model|llm)\b",
    re.IGNORECASE,
)
_OUT_OF_SCOPE_SENTENCE = re.compile(
    r"\bout[ -]of[ -]scope\b|\bnot in scope\b|\bwon['’]?t\b|\bwill not\b", re.I
)
# "At the moment every trip lives in a spreadsheet", "Residents currently apply on paper": today.
# "Today" only opens such a sentence: "plants due for water today" is a feature.
_TODAY = re.compile(
    r"\b(?:currently|at the moment|at present|right now|these days|nowadays|as things stand)\b|^today\b", re.I
)
_WANT_WORDS = re.compile(
    r"\b(?:must|shall|should|could|can|will|would|need|needs|want|wants|wish|like to|love to|let'?s)\b", re.I
)
# "Currently we can't tell who is free, so we need a calendar": where the want after today begins.
_WANT_AFTER_TODAY = re.compile(
    r"(?:,|;|\s[-–])\s*(?:(?:so|and so|and|but|which is why|that is why|that['’]s why|hence)\s+)?"
    r"(?=(?:now\s+)?(?:we|i|they|you|he|she|(?:the|our|every|each|all)\s+[\w-]+|[a-z]+s)\s+(?:\w+\s+)?"
    r"(?:really\s+|also\s+|just\s+)?"
    r"(?:need|needs|want|wants|would like|would love|must|should|have to|has to)\b)",
    re.I,
)


def _wants_something(clause: str) -> bool:
    """A want word that is not negated: "we can't tell" and "we don't need" want nothing."""
    for match in _WANT_WORDS.finditer(clause):
        after, before = clause[match.end() :], clause[: match.start()]
        if re.match(r"(?:['’]t|n['’]t|\s+not\b)", after, re.I):
            continue
        if re.search(r"\b(?:don['’]t|doesn['’]t|do not|does not|never|no longer)\s+$", before, re.I):
            continue
        return True
    return False


# A remark that puts an idea off: "not now though", "maybe next year", "not this year".
_DEFERRAL = re.compile(
    r"\bnot (?:now|yet|for now|right now|this (?:time|year|release|round|term|season|version|phase))\b"
    r"|\b(?:maybe |perhaps |probably )?(?:next|another) (?:year|release|version|phase|season|term)\b"
    r"|\b(?:some ?day|one day|down the line)\b|\b(?:maybe|perhaps|probably) later\b"
    r"|\blater (?:maybe|perhaps|though|on)\b",
    re.I,
)
DEFERRAL_REASON = "put off until later in the text (not this release)"
_REMARK_WORDS = frozenset("though but and ok okay yes no so that this it maybe perhaps probably for".split())
# "Wigs: keep a list with ...", "Each term: total loans per show", "Q: ...", "A: ...": a short label
# before the text of a note.
_LABELLED = re.compile(r"^(?P<label>[A-Z][\w'’-]*(?:\s+[\w'’-]+){0,2}?)\s*:\s+(?P<text>\S.*)$")
_NOT_LABELS = frozenset(
    """priority note notes given when then and but acceptance criteria title subject date from to cc
    status owner version author summary description example examples rationale scenario re fw fwd""".split()
)
_QUESTION_LABELS = frozenset({"q", "question"})
_ANSWER_LABELS = frozenset({"a", "answer"})
_TIME_LABEL = re.compile(
    r"^(?:(?:each|every|per|once a|at the end of (?:the|each|every))\s+\w+|daily|weekly|monthly|yearly"
    r"|annually|nightly|termly)$",
    re.I,
)
_KEEP_WITHOUT_OF = re.compile(
    r"^(?P<verb>keep|store|hold|maintain|have)\s+(?P<noun>(?:a|an|the)\s+(?:list|register|record|catalogue"
    r"|catalog|log|inventory|index|directory|database))\b(?!\s+of\b)",
    re.I,
)
CONVERSATIONAL_KINDS = frozenset({"vtt", "srt", "slack", "chat", "eml", "msg"})


class Reader:
    """Walks a document's segments in order, keeping the section and the story being described."""

    def __init__(self, doc: ParsedDocument):
        self.doc = doc
        self.found: list[Found] = []
        self.excluded: list[DraftExclusion] = []
        self.section = sections.Section("")
        self.heading: str | None = None
        self.last: Found | None = None
        self.details = StoryDetails()  # the Given/When/Then and Priority lines after a story
        self.context = Context()
        self.lead_in: str | None = None
        self.edges: set[str] = set()
        self.today_segment = -1  # the segment that said how things are done today
        self.held: tuple[str | None, str] | None = None  # a message that broke off mid-request
        self.seen_edges: set[str] = set()
        self.answered = ""  # the turn before, which a turn that only names a thing answers
        self.question: str | None = None  # the question last asked and not yet answered
        self.answering = False  # the line is the answer of a Q&A page
        self.table = TableReader(starts_with_action)  # the table whose rows are being read
        self.needed: tuple[str, str] | None = None  # "do they need accounts?": (thing, who) asked about
        if doc.kind == "pdf":
            self.edges = sections.repeated_page_lines([segment.text for segment in doc.segments])

    def read(self) -> ExtractedStories:
        segments = self.doc.segments
        lines = as_sentences([segment.text for segment in segments], starts_with_action)
        with people_of("\n".join(lines)):
            for index, segment in enumerate(segments, start=1):
                following = segments[index] if index < len(segments) else None
                self.read_segment(index, segment, following)
            return self.result()

    def result(self) -> ExtractedStories:
        self.details.close(self.last)
        stories: list[DraftStory] = []
        for found in fold_possessions(self.found):
            criteria = found.criteria or derive_criteria(found.story, found.why_kind)
            stories.append(found.story.model_copy(update={"acceptance_criteria": criteria}))
        return ExtractedStories(stories=stories, excluded=self.excluded)

    def _conversational(self, segment: Segment) -> bool:
        return self.doc.kind in CONVERSATIONAL_KINDS or segment.location.speaker is not None

    def read_segment(self, index: int, segment: Segment, following: Segment | None = None) -> None:
        text = segment.text
        if self.doc.kind in ("vtt", "srt", "html"):
            text = TAG.sub("", text)
        if _INJECTION.search(text):
            # A segment that tries to instruct the model is not a trustworthy source for anything.
            self._exclude(index, text, INJECTION_REASON)
            self.last = None
            return
        conversational = self._conversational(segment)
        if conversational:
            joined = self._joined(segment)
            if joined is None:
                return  # "also the coordinator wants to": the request goes on in the speaker's next message
            answered, self.answered = self.answered, joined
            if noun_answer(joined, answered) is not None:
                return  # "the vet visits, yes": it agrees with the turn it answers, it asks nothing new
            text = joined
        self.context.conversational = conversational
        self.context.spoken = conversational and self.doc.kind in ("vtt", "srt", "text")
        if conversational and self.context.spoken:
            text = clean_spoken(text)
        elif conversational:  # a written message keeps its lines: its list items stay items
            text = "\n".join(clean_spoken(line) for line in text.split("\n"))
        if segment.heading is not None and segment.heading != self.heading:
            self.heading = segment.heading
            self._enter(segment.heading)
            if text.strip() == segment.heading.strip():
                return
        agreed = following is not None and self._agrees(segment, following)
        label_section: sections.Section | None = None
        for raw_line in unwrap_lines(text):
            line = raw_line.strip()
            if not line:
                label_section = None
                continue
            if line.startswith(">"):  # a quoted earlier message belongs to that message
                continue
            if self._page_edge(index, line):
                continue
            heading = MD_HEADING.match(line)
            standalone = None if BULLET.match(raw_line) else sections.standalone_heading(line)
            if heading or standalone:
                name = heading.group(1) if heading else standalone or ""
                self.heading = name
                self._enter(name)
                label_section = None
                continue
            self.answering = False
            bullet = BULLET.match(raw_line) is not None or segment.list_item
            self.context.bullet = bullet
            body = REQ_ID.sub("", BULLET.sub("", line)).strip()
            inline = sections.INLINE_PRIORITY.match(body)
            if inline:
                label_section = sections.inline_label_section(inline["label"])
                body = inline["rest"].strip()
            section = label_section or self.section
            if section.exclude:
                self._exclude(index, body, section.exclude)
                continue
            if sections.table_of_contents_line(body):
                self._exclude(index, body, "table of contents")
                continue
            asked = _LABELLED.match(body)
            if asked and asked["label"].lower() in _QUESTION_LABELS | _ANSWER_LABELS:
                labelled = self._labelled(index, body)
                if labelled is None:
                    continue
                body = labelled
            elif sections.glossary_entry(body) and not inline:
                self._exclude(index, body, "glossary entry (a definition, not a requirement)")
                continue
            if conversational and SIGN_OFF.match(body) and len(body.split()) <= 4:
                continue
            if not inline:
                labelled = self._labelled(index, body)
                if labelled is None:
                    continue
                body = labelled
            bullet = bullet or self.answering
            self.context.bullet = bullet
            cell_priority: Priority | None = None
            table_row = " | " in body
            if table_row:  # a table row: the requirement it gives, and a priority cell if any
                row = self.table.row(body)
                if row is None:
                    continue
                body, cell_priority = row.text, row.priority
                if row.later:
                    self._exclude(index, body, row.later)
                    continue
            else:
                self.table.end()
            self.context.priority = cell_priority or section.priority
            # Markdown list items arrive without their marker: a short one-sentence line under a
            # features heading is an item too.
            one_sentence = len(SENTENCE_BREAK.split(body.rstrip(".!"))) == 1
            item_like = bullet or (len(body.split()) <= 20 and one_sentence)
            imperative = bullet and not conversational and starts_with_action(body)
            self.context.feature_item = (
                (item_like and section.features)
                or inline is not None
                or imperative
                or (table_row and cell_priority is not None)  # a row of a feature table with priorities
            )
            lead_in = LEAD_IN.match(body)
            if lead_in:  # "Members should be able to:" introduces the items below it
                self.lead_in = f"{lead_in['subject']} {lead_in['modal']}"
                continue
            if (
                self.lead_in
                and (bullet or item_like)
                and not re.search(r"\b(?:must|shall|should|can|will)\b", body)
            ):
                body = f"{self.lead_in} {body[:1].lower()}{body[1:]}"
            elif not bullet:
                self.lead_in = None
            splitter = SPOKEN_BREAK if conversational else SENTENCE_BREAK
            # A semicolon joins two statements: each is read on its own.
            sentences = [part for sentence in splitter.split(body) for part in re.split(r";\s+", sentence)]
            sentences = [part for sentence in sentences for part in explained(sentence)]
            for sentence in self._put_off(index, sentences):
                sentence = sentence.strip()
                continued = conversational and CONTINUATION.match(sentence) is not None
                if conversational:
                    sentence = strip_lead_in(sentence)
                if continued and self._continue_request(index, sentence):
                    continue
                if not self.details.read(sentence, self.last):
                    self._read_sentence(index, sentence, agreed)
            self.context.feature_item = False

    def _labelled(self, index: int, body: str) -> str | None:
        """The text of a labelled note, read with its label; None when nothing is left to read.

        "Q: What should volunteers do?" names who the answers below are for; "A: ..." is read as a
        list item; a label of time ("Each term: total loans per show") goes after the text, a thing
        ("Wigs: keep a list with size ...") is what is kept, people ("Actors: ...") are the actor.
        """
        match = _LABELLED.match(body)
        if match is None or match["label"].lower() in _NOT_LABELS:
            return body
        label, text = match["label"].strip(), match["text"].strip()
        lowered = label.lower()
        if lowered in _QUESTION_LABELS:
            self.question = text
            # "What should volunteers be able to do?", "And the coordinator?": whom the answer is for
            people = [
                w
                for w in words(text)
                if not is_verb(w)
                and (looks_like_person(w) or (singular(w).endswith(AGENT_SUFFIXES) and len(w) > 4))
            ]
            if people:
                self.context.actor, self.context.actor_segment = actor_of(people[-1]), 10**9
            return None
        if lowered in _ANSWER_LABELS:
            self.answering = True  # an answer reads like a list item: "Log each donation with ..."
            return text
        if _DEFERRAL.search(text):
            return body  # "Online hire: not this year": the label is what is put off
        if _TIME_LABEL.match(label):
            return f"{text.rstrip('.!')} {lowered}"
        if len(label.split()) <= 2 and looks_like_person(label):
            self.context.actor, self.context.actor_segment = actor_of(label), index
            return text
        keep = _KEEP_WITHOUT_OF.match(text)
        if keep:  # "Wigs: keep a list with size and colour" -> "keep a list of wigs with ..."
            return f"{text[: keep.end()]} of {lowered}{text[keep.end() :]}"
        return text

    def _put_off(self, index: int, sentences: list[str]) -> list[str]:
        """The sentences left once those put off until later are excluded with their reason.

        A bare remark ("not now though", "Maybe next year.") puts off what was said just before it:
        the sentence before it in the same line, or the question it answers."""
        kept: list[str] = []
        for sentence in sentences:
            if not _DEFERRAL.search(sentence):
                kept.append(sentence)
                continue
            rest = [w for w in words(_DEFERRAL.sub(" ", sentence)) if w not in _REMARK_WORDS]
            remark = len(rest) <= 1
            if remark and kept:
                deferred = f"{kept.pop()} {sentence}"
            elif remark and self.question:
                deferred = f"{self.question} {sentence}"
            else:
                deferred = sentence
            self.question = None
            self._exclude(index, deferred, DEFERRAL_REASON)
        return kept

    def _fields_answer(self, index: int, sentence: str, asked: tuple[str, str]) -> bool:
        """ "do they need accounts?" - "Name, email, and their membership type": the accounts' fields."""
        listed = sentence.strip().rstrip(".!")
        parts = [p for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", listed) if p.strip()]
        if len(parts) < 2 or any(len(p.split()) > 4 for p in parts) or _WANT_WORDS.search(listed):
            return False
        if any(is_verb(p.split()[0].lower()) and len(p.split()) > 1 for p in parts):
            return False  # "add members, list them": actions, not fields
        thing, who = asked
        who = (self.context.actor or "user") if who.lower() in ("they", "we", "you") else actor_of(who)
        parts = [p[:1].lower() + p[1:] for p in parts]
        if len(parts) > 2 and " or " in parts[-1]:  # "their membership type, monthly or annual"
            parts = [*parts[:-2], f"{parts[-2]} ({parts[-1]})"]
        fields = ", ".join(parts[:-1]) + f" and {parts[-1]}"
        owned = with_article(singular(re.sub(r"^an?\s+", "", thing)))
        want = first_person(f"to have {owned} with {fields}")
        found = draft(who, want, None, None, self.context.priority or "Should", sentence, index)
        self.found.append(found)
        self.last = found
        return True

    def _agrees(self, segment: Segment, following: Segment) -> bool:
        speaker, other = segment.location.speaker, following.location.speaker
        if not (speaker and other and speaker != other):
            return False
        return is_agreement(following.text) or noun_answer(following.text, segment.text) is not None

    def _enter(self, heading: str) -> None:
        self.details.close(self.last)
        self.last = None
        self.section = sections.classify_heading(heading)
        self.context.actor = None  # "they" does not reach across sections
        self.lead_in = None
        name = sections.heading_name(heading)
        if len(name.split()) <= 3 and looks_like_person(name):  # "## Librarians": who the items are for
            self.context.actor, self.context.actor_segment = actor_of(name), 10**9

    def _page_edge(self, index: int, line: str) -> bool:
        if line in self.edges or sections.page_number_line(line):
            if line not in self.seen_edges:
                self.seen_edges.add(line)
                self._exclude(index, line, "page header or footer (repeated on the pages of the document)")
            return True
        return False

    def _exclude(self, index: int, text: str, reason: str) -> None:
        if text.strip():
            self.excluded.append(DraftExclusion(segment=index, text=text.strip(), reason=reason))

    def _joined(self, segment: Segment) -> str | None:
        """The segment's text, joined to a message of the same speaker that broke off after "to"; None
        when this message itself breaks off there (it is kept for the next one)."""
        text = TAG.sub("", segment.text) if self.doc.kind in ("vtt", "srt", "html") else segment.text
        speaker = segment.location.speaker
        held, self.held = self.held, None
        if held and held[0] == speaker:
            text = f"{held[1]} {text}"
        if BROKEN_OFF.search(text) and len(text.split()) <= 12:
            self.held = (speaker, text)
            return None
        return text

    def _continue_request(self, index: int, sentence: str) -> bool:
        """ "...and close it once it's filled": a turn that adds an action to the last request."""
        sentence = re.sub(r"^\W*(?:(?:and|also|plus)\s+)*", "", sentence, flags=re.I)
        first = words(sentence)[:1]
        if self.last is None or not first or not is_verb(first[0]) or SMALL_TALK.search(sentence):
            return False
        found = actions_of(
            self.last.story.as_a, sentence, sentence, index, self.context, self.last.story.priority
        )
        self.found.extend(found)
        if found:
            self.last = found[-1]
        return bool(found)

    def _written_request(self, sentence: str, rest: str) -> bool:
        """ "could we also search candidates by name?" written in a chat or an e-mail asks for it."""
        first = words(rest)[:1]
        return (
            self.context.conversational
            and not self.context.spoken
            and re.match(r"^(?:(?:so|and|also|maybe)\s+)*(?:can|could)\s+we\b", sentence.strip(), re.I)
            is not None
            and bool(first)
            and is_verb(first[0])
            and first[0] not in MEETING_VERBS
            and first[0] not in ("have", "be", "do", "get")
        )

    def _product_refuses(self, sentence: str) -> bool:
        """ "Tally does not handle taxes", "The app won't replace the till": a scope statement."""
        names = [re.escape(self.context.product)] if self.context.product else []
        subject = "|".join(
            [*names, r"(?:the |our |this )?(?:app|application|system|tool|platform|site|service)"]
        )
        return (
            re.match(
                rf"^(?:{subject})\s+(?:does not|doesn['’]t|will not|won['’]t|is not meant to"
                r"|isn['’]t meant to)\s",
                sentence,
                re.I,
            )
            is not None
        )

    def _read_proposal(self, index: int, statement: str) -> None:
        found = read_statement(statement, index, self.context)
        if found:
            self.details.close(self.last)
            self.found.extend(found)
            self.last = found[-1]

    def _read_sentence(self, index: int, sentence: str, agreed: bool) -> None:
        # Small talk is a thing of conversations: in a document "weekend" or "coffee" is a topic.
        if len(words(sentence)) < 2 or (self.context.conversational and SMALL_TALK.search(sentence)):
            return
        if self.context.conversational:  # "Members book a place, yes.": the "yes" is no part of it
            sentence = TRAILING_YES.sub(r"\1", sentence)
        asked, self.needed = self.needed, None
        if self.context.conversational and asked and self._fields_answer(index, sentence, asked):
            return
        needed = NEED_QUESTION.search(sentence.strip()) if self.context.conversational else None
        if needed:  # "do they need accounts?": an answer listing fields says what each one holds
            named = re.search(r"\b(?:the\s+)?(?P<people>[a-z]+s)\s+themselves\b", sentence, re.I)
            who = named["people"] if named and needed["who"].lower() == "they" else needed["who"]
            self.needed = (needed["thing"], who)
        if sentence.rstrip().endswith("?") and not REQUEST.match(sentence.strip()):
            people = proposed_by_role(sentence)
            if people is not None:
                if agreed or (self.context.conversational and not self.context.spoken):
                    self._read_proposal(index, f"{people[0]} should {people[1]}")
                return
            proposal = PROPOSAL.match(sentence.strip())
            if not (
                proposal
                and proposal["rest"]
                and (agreed or self._written_request(sentence, proposal["rest"]))
            ):
                return  # an open question asks for nothing until someone agrees
            sentence = f"we should {proposal['rest']}"
        if len(words(sentence)) < 3:
            return
        if sections.about_the_document(sentence):
            self._exclude(index, sentence, "about the document itself, not the product")
            return
        main_clause = re.split(r",?\s+\b(?:so that|in order to|because)\b\s+", sentence, maxsplit=1)[0]
        if _OUT_OF_SCOPE_SENTENCE.search(main_clause) or re.search(r"out[ -]of[ -]scope", sentence, re.I):
            self._exclude(index, sentence, "marked out of scope in the text")
            return
        if self._product_refuses(sentence):
            self._exclude(index, sentence, "marked out of scope in the text (the product does not do it)")
            return
        today_said = _TODAY.search(main_clause)
        wanted_after = _WANT_AFTER_TODAY.search(sentence, today_said.end()) if today_said else None
        if wanted_after:  # only the description of today is left out; what is wanted after it is read
            self._exclude(index, sentence[: wanted_after.start()], "describes how things are done today")
            self.today_segment = index
            sentence = sentence[wanted_after.end() :]
            main_clause = sentence
            today_said = None
        today = today_said is not None and not _wants_something(main_clause)
        if today:
            self._exclude(index, sentence, "describes how things are done today, not what is wanted")
            self.today_segment = index
            return
        self.context.today = self.today_segment == index
        found = read_statement(sentence, index, self.context)
        if found:
            self.details.close(self.last)
            self.found.extend(found)
            self.last = found[-1]
