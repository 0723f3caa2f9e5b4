"""Block Kit rendering of answers for Slack: pure functions, no network.

Every piece of text that comes from an article or from a user goes through `escape`, so nothing an
article says can turn into a mention (`<!channel>`, `<@U123>`), a link or a broadcast in Slack.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from typing import Any

from adapters.common.view import ABSTAINED, STALE, answer_pieces, answer_view, lines_of
from qa.answering.answer import Answer, Citation
from qa.answering.excerpt import EXCERPT_WIDTH
from qa.answering.excerpt import excerpt as cut
from qa.documents.feeds import feed_of

SECTION_LIMIT = 3000  # Slack's limit on a section's text
CONTEXT_LIMIT = 3000  # ...and on one context element's text
FALLBACK_LIMIT = 3000  # the `text` shown in notifications
VALUE_LIMIT = 2000  # a button's value
SHOWN_CITATIONS = 3  # citations under an answer; the rest are behind "More sources"
CITATIONS_PER_MESSAGE = 20  # 2 blocks each, well under Slack's 50 blocks per message
SENTENCE_LIMIT = 1500  # an answering sentence longer than this is shortened

ABSTAIN_TEXT = ABSTAINED
HELP_TEXT = ("Ask me a question about the articles and I will answer with the passages that support it, "
             "e.g. “Who did Ruto call in January 2025?”")

ACTION_HELPFUL = "qa_helpful"
ACTION_NOT_HELPFUL = "qa_not_helpful"
ACTION_MORE = "qa_more_sources"
ACTION_SHARE = "qa_share"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
_SPACES = re.compile(r"\s+")
_LINK = re.compile(r"^https?://[^\s<>|]+$")  # a link Slack's <url|text> markup can carry as it is


# --------------------------------------------------------------------------- text


def escape(text: str) -> str:
    """Text made inert for Slack mrkdwn: &, < and > become entities, so no markup survives."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The inverse of `escape` (how Slack sends `&`, `<` and `>` typed by a user)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_MARKUP = re.compile(r"<([^<>]*)>")


def clean_question(text: str, bot_user_id: str | None = None) -> str:
    """A message's text as the user meant it: the bot's mention removed, Slack markup made plain.

    `<@U1|ann>` becomes `@ann`, `<#C1|general>` `#general`, `<!here>` `@here`, `<https://x|label>` `label`,
    and the entities Slack escapes `&`, `<` and `>` into are turned back into characters.
    """

    def plain(m: re.Match[str]) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            if bot_user_id and target[1:] == bot_user_id:
                return " "
            return label if label.startswith("@") else "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            if label:
                return label
            word = target[1:].split("^")[0]
            return "@" + word if word in ("here", "channel", "everyone") else word
        return label or target

    return " ".join(unescape(_MARKUP.sub(plain, text or "")).split())


def _safe_cut(text: str, at: int) -> int:
    """`at`, moved back so that cutting `text` there does not split an `&…;` entity."""
    m = _ENTITY_TAIL.search(text[:at])
    return m.start() if m and m.start() > 0 else at


def truncate(text: str, limit: int) -> str:
    """Escaped text cut to at most `limit` characters (ending in "…" when cut), never inside an entity."""
    if len(text) <= limit:
        return text
    cut = _safe_cut(text, limit - 1)
    space = text.rfind(" ", 0, cut)
    if space > cut - 40 and space > 0:
        cut = space
    return text[:cut].rstrip() + "…"


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Escaped text split into pieces of at most `limit` characters, at line breaks or spaces when possible.

    The pieces joined give back `text` exactly, and no piece splits an `&…;` entity.
    """
    if limit < 8:
        raise ValueError("limit too small")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = _safe_cut(rest, limit)
        else:
            cut += 1  # keep the break at the end of the piece
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text)


def source_name(source: str) -> str:
    """A source as shown in Slack and logged as feedback: its file name."""
    return os.path.basename(source.rstrip("/\\")) or source


def user_mention(user_id: str) -> str:
    """`<@U…>` for a well-formed user id; anything else is shown escaped, never as markup."""
    return f"<@{user_id}>" if _USER_ID.match(user_id or "") else escape(user_id or "someone")


# --------------------------------------------------------------------------- citations


def citation_meta(c: Citation) -> str:
    """`*[n]* source · lines · title · date · also in …`, escaped."""
    parts = [f"*[{c.n}]* {escape(source_name(feed_of(c.source)))}", lines_of(c)]
    if c.title:
        parts.append(escape(_one_line(c.title).strip()))
    if c.date:
        parts.append(escape(c.date))
    if c.stale:
        parts.append(f"_{STALE}_")
    if c.url and _LINK.match(c.url):
        parts.append(f"<{c.url}|link>")
    if c.also_in:
        parts.append("also in " + ", ".join(escape(source_name(s)) for s in c.also_in))
    return truncate(" · ".join(parts), CONTEXT_LIMIT)


def excerpt(c: Citation, width: int = EXCERPT_WIDTH, bold: bool = True) -> str:
    """A quoted (`> `) excerpt of the passage, shortened around the answering sentence, which is in bold."""
    x = cut(c.text, c.highlight if bold else None, width)
    if x.start == x.end:
        body = escape(_one_line(x.text[:x.hi]).strip())
        return truncate("> " + body + (" …" if x.cut_after else ""), SECTION_LIMIT)
    sentence = x.sentence
    if len(sentence) > SENTENCE_LIMIT:
        short = sentence.rfind(" ", 0, SENTENCE_LIMIT)
        sentence = sentence[:short if short > SENTENCE_LIMIT // 2 else SENTENCE_LIMIT].rstrip() + " …"
    before = _one_line(x.before).lstrip()
    after = _one_line(x.after).rstrip()
    # `*` inside the bold span would end it early; a look-alike keeps the words readable
    strong = "*" + escape(_one_line(sentence)).replace("*", "∗") + "*"
    if before and not before.endswith(" "):
        before += " "  # bold only renders at a word boundary
    if after and after[0].isalnum():
        after = " " + after
    out = "> " + ("… " if x.cut_before else "") + escape(before) + strong + escape(after) + (" …" if x.cut_after else "")
    return truncate(out, SECTION_LIMIT)


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does not auto-link or auto-mention anything in it; only explicit markup would, and that is escaped
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts[:10]]}


def citation_blocks(c: Citation, bold: bool = True) -> list[dict[str, Any]]:
    """One citation: a context block with where it comes from, then the quoted excerpt."""
    return [_context(citation_meta(c)), _section(excerpt(c, bold=bold))]


# --------------------------------------------------------------------------- answers


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True},
                         "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def feedback_value(answer_id: str, answer: Answer) -> str:
    """What a feedback button carries: enough to log the click even when the bot has forgotten the answer."""
    data: dict[str, Any] = {"id": answer_id, "q": answer.question, "src": cited_sources(answer),
                            "ab": answer.abstained, "a": answer.answer}
    value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(value) > VALUE_LIMIT and data["a"]:
        data["a"] = None  # the answer text is also in the bot's memory; the question matters more
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    while len(value) > VALUE_LIMIT and data["src"]:
        data["src"] = data["src"][:-1]
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(value) > VALUE_LIMIT:
        data["q"] = data["q"][: max(0, len(data["q"]) - (len(value) - VALUE_LIMIT) - 8)]
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return value


def parse_value(value: str) -> dict[str, Any]:
    """A button's value back as a dict: JSON from `feedback_value`, or a bare answer id."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return {"id": value}
    return data if isinstance(data, dict) else {"id": str(value)}


def cited_sources(answer: Answer) -> list[str]:
    """File names of the cited sources, in citation order, without repeats."""
    return list(dict.fromkeys(source_name(c.source) for c in answer.citations))


def fallback_text(answer: Answer) -> str:
    """The message's plain `text`: what notifications and screen readers show."""
    if answer.abstained:
        return ABSTAIN_TEXT
    srcs = cited_sources(answer)
    text = escape(_one_line(answer.answer or "").strip()) or "An answer from the articles."
    if srcs:
        text += " — " + ", ".join(escape(s) for s in srcs[:SHOWN_CITATIONS])
    return truncate(text, FALLBACK_LIMIT)


def answer_blocks(answer: Answer, answer_id: str, *, header: str | None = None,
                  shareable: bool = False) -> tuple[list[dict[str, Any]], str]:
    """The blocks and fallback text of an answer message.

    `header` is escaped mrkdwn shown above the answer (e.g. who asked, for a shared answer).
    `shareable` adds a "Share in channel" button (for answers only the asker sees).
    """
    blocks: list[dict[str, Any]] = []
    if header:
        blocks.append(_context(truncate(header, CONTEXT_LIMIT)))
    if answer.asked_as:
        blocks.append(_context(truncate("_Taken as:_ " + escape(_one_line(answer.asked_as)), CONTEXT_LIMIT)))
    view = answer_view(answer)
    if answer.abstained:
        blocks.append(_section(ABSTAIN_TEXT))
        if view.nearest:
            blocks.append(_context("Nearest passages, which do not answer it:"))
            for near in view.nearest:
                blocks.extend(citation_blocks(near.citation, bold=False))
    else:
        # the part that answers in bold
        said = "".join(f"*{escape(text)}*" if marked else escape(text) for text, marked in answer_pieces(answer))
        pieces = split_text(said.strip(), SECTION_LIMIT) or [" "]
        blocks.extend(_section(p) for p in pieces[:10])
        if len(answer.reported_in) > 1:
            blocks.append(_context(f"Reported in {len(answer.reported_in)} articles."))
        for cited in view.citations[:SHOWN_CITATIONS]:  # only a quoted sentence is in bold
            blocks.extend(citation_blocks(cited.citation, bold=cited.quoted))
    value = feedback_value(answer_id, answer)
    buttons = [_button(":+1: Helpful", ACTION_HELPFUL, value), _button(":-1: Not helpful", ACTION_NOT_HELPFUL, value)]
    rest = len(answer.citations) - SHOWN_CITATIONS
    if not answer.abstained and rest > 0:
        buttons.append(_button(f"More sources ({rest})", ACTION_MORE, answer_id))
    if shareable:
        buttons.append(_button("Share in channel", ACTION_SHARE, answer_id, style="primary"))
    blocks.append({"type": "actions", "block_id": "qa_actions", "elements": buttons})
    return blocks, fallback_text(answer)


def more_sources_messages(answer: Answer) -> list[tuple[list[dict[str, Any]], str]]:
    """The citations not shown under the answer, as one or more messages of (blocks, text)."""
    rest = answer_view(answer).citations[SHOWN_CITATIONS:]
    out: list[tuple[list[dict[str, Any]], str]] = []
    for i in range(0, len(rest), CITATIONS_PER_MESSAGE):
        chunk = rest[i:i + CITATIONS_PER_MESSAGE]
        blocks: list[dict[str, Any]] = []
        if i == 0:
            blocks.append(_context(truncate("More sources for: " + escape(_one_line(answer.question)), CONTEXT_LIMIT)))
        for cited in chunk:
            blocks.extend(citation_blocks(cited.citation, bold=cited.quoted))
        names = ", ".join(f"[{c.n}] {escape(source_name(c.citation.source))}" for c in chunk)
        out.append((blocks, truncate("More sources: " + names, FALLBACK_LIMIT)))
    return out


def notice(text: str) -> tuple[list[dict[str, Any]], str]:
    """A one-section message from already-escaped mrkdwn."""
    text = truncate(text, SECTION_LIMIT)
    return [_section(text)], text


def feedback_record(answer: Answer | None, value: dict[str, Any], helpful: bool, user: str,
                    channel: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """One line of the feedback log; `q`, `src` and `key` make the log readable by `qa eval` as a question set."""
    if answer is not None:
        q, src, text, abstained = answer.question, cited_sources(answer), answer.answer, answer.abstained
        citations = [c.to_json() for c in answer.citations]
        asked_as = answer.asked_as
    else:  # the bot restarted since: what the button carried
        q, src, text, abstained = str(value.get("q") or ""), list(value.get("src") or []), value.get("a"), bool(value.get("ab"))
        citations, asked_as = [], None
    return {
        "q": q,
        "src": src,
        "key": [],
        "answer": text,
        "abstained": abstained,
        "helpful": helpful,
        "citations": citations,
        "asked_as": asked_as,
        "user": user,
        "channel": channel,
        "ts": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
    }
