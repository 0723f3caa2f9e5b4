"""Block Kit rendering as pure functions: escaping, limits, excerpts, buttons, the feedback line."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack import blocks as sb
from qa.answering.answer import Answer, Citation
from tests.support.slack_fake.webapi import texts

ENTITY_PART = re.compile(r"&[a-z]*$")


def cite(n: int = 1, text: str = "Before it. The answer is here. After it.", highlight: tuple[int, int] | None = (11, 30),
         source: str = "/corpus/002_55bcac6e1997eb79.txt", title: str | None = "Ruto and Trump",
         date: str | None = "2024-11-09", also_in: list[str] | None = None) -> Citation:
    return Citation(n=n, source=source, title=title, date=date, line_start=3, line_end=5, text=text, score=0.9,
                    also_in=also_in or [], highlight=highlight)


def answered(text: str = "The answer is here. [1]", citations: list[Citation] | None = None,
             question: str = "What is the answer?", asked_as: str | None = None) -> Answer:
    return Answer(question, text, False, citations if citations is not None else [cite()], asked_as=asked_as)




def without_quote_marks(text: str) -> str:
    return "\n".join(line[2:] if line.startswith("> ") else line for line in text.split("\n"))


# --------------------------------------------------------------------------- escaping


@settings(deadline=None)
@given(st.text())
def test_escape_leaves_no_markup_and_round_trips(text: str) -> None:
    out = sb.escape(text)
    assert "<" not in out and ">" not in out
    assert re.sub(r"&(amp|lt|gt);", "", out).count("&") == 0
    assert sb.unescape(out) == text


def test_escape_defuses_mentions_and_broadcasts() -> None:
    assert sb.escape("hi <!channel> & <@U123> <https://x.y|click>") == \
        "hi &lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://x.y|click&gt;"


def test_clean_question_turns_slack_markup_into_plain_text() -> None:
    assert sb.clean_question("<@U0BOT> Who did <@U1|ann> call?", "U0BOT") == "Who did @ann call?"
    assert sb.clean_question("<@U0BOT>   ", "U0BOT") == ""
    assert sb.clean_question("in <#C1|general> <!here> see <https://x.y/a|the story> &amp; &lt;b&gt;") == \
        "in #general @here see the story & <b>"
    assert sb.clean_question("<!subteam^S1|@team> <!date^1392734382^{date}|Feb 18> <mailto:a@b.c|a@b.c>") == \
        "@team Feb 18 a@b.c"


@settings(deadline=None)
@given(st.text(), st.integers(min_value=8, max_value=400))
def test_split_text_keeps_every_piece_under_the_limit_and_entities_whole(raw: str, limit: int) -> None:
    text = sb.escape(raw)
    pieces = sb.split_text(text, limit)
    assert "".join(pieces) == text
    assert all(0 < len(p) <= limit for p in pieces)
    assert not any(ENTITY_PART.search(p) for p in pieces)


def test_split_text_prefers_line_breaks_and_spaces() -> None:
    text = ("word " * 700).strip()  # 3499 characters
    pieces = sb.split_text(text, 3000)
    assert len(pieces) == 2 and pieces[0].endswith(" ") and not pieces[1].startswith(" ")


@settings(deadline=None)
@given(st.text(), st.integers(min_value=8, max_value=200))
def test_truncate_never_exceeds_the_limit_nor_cuts_an_entity(raw: str, limit: int) -> None:
    out = sb.truncate(sb.escape(raw), limit)
    assert len(out) <= limit
    assert not ENTITY_PART.search(out.removesuffix("…"))


# --------------------------------------------------------------------------- whole messages

_any_text = st.text(st.characters(codec="utf-8"), max_size=4000)


@settings(max_examples=60, deadline=None)
@given(answer=_any_text, passage=_any_text, title=st.none() | st.text(max_size=300), question=st.text(max_size=300),
       source=st.text(min_size=1, max_size=80), n_cites=st.integers(0, 12), hl=st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
       abstained=st.booleans(), asked_as=st.none() | st.text(max_size=300))
def test_any_answer_renders_within_slack_limits_and_escaped(answer: str, passage: str, title: str | None, question: str,
                                                            source: str, n_cites: int, hl: tuple[int, int],
                                                            abstained: bool, asked_as: str | None) -> None:
    cites = [cite(i + 1, passage, (min(hl), max(hl)), source, title, "2024-01-01", [source]) for i in range(n_cites)]
    a = Answer(question, None if abstained else answer, abstained, [] if abstained else cites, nearest=cites if abstained else [],
               asked_as=asked_as)
    blocks, text = sb.answer_blocks(a, "abc123", header="*/ask* " + sb.escape(question), shareable=True)
    assert text.strip() and len(text) <= sb.FALLBACK_LIMIT
    assert len(blocks) <= 50
    for b in blocks:
        if b["type"] == "section":
            assert 0 < len(b["text"]["text"]) <= sb.SECTION_LIMIT and b["text"]["verbatim"] is True
        if b["type"] == "context":
            assert all(len(e["text"]) <= sb.CONTEXT_LIMIT for e in b["elements"])
        if b["type"] == "actions":
            assert all(len(e["value"]) <= sb.VALUE_LIMIT and len(e["text"]["text"]) <= 75 for e in b["elements"])
    for t in [text, *texts(blocks)]:
        body = without_quote_marks(t)
        assert "<" not in body and ">" not in body, t
    for extra, _ in sb.more_sources_messages(a):
        assert len(extra) <= 50
        for t in texts(extra):
            assert "<" not in without_quote_marks(t) and ">" not in without_quote_marks(t)


def test_answer_message_layout() -> None:
    cites = [cite(i, also_in=["/x/003_d110ed1a2ec45713.txt"] if i == 1 else None) for i in range(1, 6)]
    blocks, text = sb.answer_blocks(answered(citations=cites, asked_as="What is the answer? (Ruto)"), "id1")
    kinds = [b["type"] for b in blocks]
    assert kinds == ["context", "section", "context"] + ["context", "section"] * 3 + ["actions"]
    assert blocks[0]["elements"][0]["text"] == "_Taken as:_ What is the answer? (Ruto)"
    assert blocks[1]["text"]["text"] == "The answer is here. [1]"
    assert blocks[2]["elements"][0]["text"] == "Reported in 2 articles."  # the cited article and the one "also in"
    assert blocks[3]["elements"][0]["text"] == ("*[1]* 002_55bcac6e1997eb79.txt · lines 3–5 · Ruto and Trump · 2024-11-09"
                                                " · also in 003_d110ed1a2ec45713.txt")
    assert blocks[4]["text"]["text"] == "> Before it. *The answer is here.* After it."
    actions = {e["action_id"]: e for e in blocks[-1]["elements"]}
    assert set(actions) == {sb.ACTION_HELPFUL, sb.ACTION_NOT_HELPFUL, sb.ACTION_MORE}
    assert actions[sb.ACTION_MORE]["text"]["text"] == "More sources (2)" and actions[sb.ACTION_MORE]["value"] == "id1"
    assert text == "The answer is here. [1] — 002_55bcac6e1997eb79.txt"
    [(more, more_text)] = sb.more_sources_messages(answered(citations=cites))
    assert [b["elements"][0]["text"].split()[0] for b in more if b["type"] == "context"][1:] == ["*[4]*", "*[5]*"]
    assert more_text.startswith("More sources: [4] 002_")


def test_a_long_answer_is_split_into_sections_under_the_limit() -> None:
    long = " ".join(f"word{i} <b>" for i in range(1500))  # about 16 000 characters once escaped
    blocks, text = sb.answer_blocks(answered(text=long), "id")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section" and not b["text"]["text"].startswith(">")]
    assert len(sections) > 1 and all(len(s) < 3000 for s in sections)
    assert sb.unescape("".join(sections)) == long
    assert len(text) <= sb.FALLBACK_LIMIT and text.endswith("…")


def test_abstention_says_so_and_shows_nearest_passages_without_bold() -> None:
    a = Answer("What is the capital of Mars?", None, True, nearest=[cite(1), cite(2), cite(3)])
    blocks, text = sb.answer_blocks(a, "id")
    assert text == sb.ABSTAIN_TEXT == "The articles do not answer this question."
    assert blocks[0]["text"]["text"] == sb.ABSTAIN_TEXT
    quotes = [b["text"]["text"] for b in blocks if b["type"] == "section"][1:]
    assert len(quotes) == 2 and all(q.startswith("> ") and "*" not in q for q in quotes)
    assert {e["action_id"] for e in blocks[-1]["elements"]} == {sb.ACTION_HELPFUL, sb.ACTION_NOT_HELPFUL}


def test_excerpt_is_shortened_around_the_answering_sentence() -> None:
    before = "Lorem ipsum dolor sit amet. " * 30
    sentence = "Ruto spoke to Rubio on January 27 about <Haiti>."
    after = " Consectetur adipiscing elit." * 30
    c = cite(text=before + sentence + after, highlight=(len(before), len(before) + len(sentence)))
    out = sb.excerpt(c)
    assert out.startswith("> … ") and out.endswith(" …")
    assert "*Ruto spoke to Rubio on January 27 about &lt;Haiti&gt;.*" in out
    assert len(out) < sb.EXCERPT_WIDTH + 40
    # a passage without a located sentence is quoted from its start
    plain = sb.excerpt(cite(text=before, highlight=None))
    assert plain.startswith("> Lorem ipsum") and plain.endswith(" …") and "*" not in plain


def test_excerpt_keeps_bold_intact_around_asterisks_and_line_breaks() -> None:
    text = "First line\nends here. A *starred*\nsentence spans lines. Last."
    start = text.index("A *")
    end = text.index("Last.")
    out = sb.excerpt(cite(text=text, highlight=(start, end)))
    assert "\n" not in out
    assert "*A ∗starred∗ sentence spans lines.*" in out


def test_share_header_mentions_only_well_formed_user_ids() -> None:
    assert sb.user_mention("U0123ABC") == "<@U0123ABC>"
    assert sb.user_mention("U1> <!channel") == "U1&gt; &lt;!channel"


# --------------------------------------------------------------------------- feedback


def test_feedback_value_carries_the_question_and_sources_within_the_limit() -> None:
    a = answered(citations=[cite(1), cite(2, source="/c/003_x.txt"), cite(3)])
    value = sb.parse_value(sb.feedback_value("id9", a))
    assert value == {"id": "id9", "q": "What is the answer?", "src": ["002_55bcac6e1997eb79.txt", "003_x.txt"],
                     "ab": False, "a": "The answer is here. [1]"}
    huge = answered(text="x" * 5000, question="q" * 5000)
    raw = sb.feedback_value("id9", huge)
    assert len(raw) <= sb.VALUE_LIMIT
    assert sb.parse_value(raw)["id"] == "id9" and sb.parse_value("plain-id") == {"id": "plain-id"}


def test_feedback_record_is_a_question_set_line() -> None:
    a = answered(citations=[cite(1), cite(2, source="/c/003_x.txt")])
    row = sb.feedback_record(a, {}, True, "U1", "C1")
    assert {k: row[k] for k in ("q", "src", "key", "answer", "abstained", "helpful", "user")} == {
        "q": "What is the answer?", "src": ["002_55bcac6e1997eb79.txt", "003_x.txt"], "key": [],
        "answer": "The answer is here. [1]", "abstained": False, "helpful": True, "user": "U1"}
    assert row["citations"][1]["source"] == "/c/003_x.txt" and row["ts"]
    json.dumps(row)
    # from the button alone, after a restart
    row = sb.feedback_record(None, {"q": "Q?", "src": ["a.txt"], "ab": True, "a": None}, False, "U2")
    assert (row["q"], row["src"], row["abstained"], row["answer"], row["helpful"]) == ("Q?", ["a.txt"], True, None, False)


def test_user_text_echoed_in_headers_and_rewrites_is_inert() -> None:
    typed = "Haiti? <!channel> & <@U123> <http://evil.example|click> <!subteam^S1>"
    a = answered(question=typed, asked_as=f"{typed} (Ruto)", citations=[cite(i) for i in range(1, 6)])
    blocks, _ = sb.answer_blocks(a, "id", header=f"{sb.user_mention('U0BEN')} asked: " + sb.escape(typed))
    inert = "Haiti? &lt;!channel&gt; &amp; &lt;@U123&gt; &lt;http://evil.example|click&gt; &lt;!subteam^S1&gt;"
    assert blocks[0]["elements"][0]["text"] == f"<@U0BEN> asked: {inert}"
    assert blocks[1]["elements"][0]["text"] == f"_Taken as:_ {inert} (Ruto)"
    [(more, _)] = sb.more_sources_messages(a)
    assert more[0]["elements"][0]["text"] == f"More sources for: {inert}"


def test_a_citation_shows_its_pdf_page_its_feed_link_and_that_its_file_changed() -> None:
    pdf = Citation(n=1, source="reports/trade.pdf", title="Trade", date=None, line_start=2, line_end=4,
                   text="Exports rose.", score=1.0, also_in=[], page=3, stale=True)
    assert sb.citation_meta(pdf).startswith("*[1]* trade.pdf · p. 3, lines 2–4 · Trade")
    assert "_changed since indexed — run qa ingest_" in sb.citation_meta(pdf)
    entry = Citation(n=2, source="feeds/news.rss#entry=port-1", title="Port", date="2025-02-03", line_start=1,
                     line_end=1, text="The port opened.", score=1.0, also_in=[], url="https://news.example/port-1")
    meta = sb.citation_meta(entry)
    assert meta.startswith("*[2]* news.rss · line 1") and "<https://news.example/port-1|link>" in meta
    hostile = Citation(n=3, source="f.rss#entry=x", title=None, date=None, line_start=1, line_end=1, text="t",
                       score=1.0, also_in=[], url="https://x.example/a|<!channel>")
    assert "<!channel>" not in sb.citation_meta(hostile)  # a link Slack markup cannot carry is left out
