"""What text stands for a passage or a sentence when it is embedded or scored."""

from __future__ import annotations

from qa.passages import Passage


def passage_text(p: Passage) -> str:
    """The passage with its section heading, which often names the topic its sentences leave implicit."""
    return f"{p.section}. {p.text}" if p.section else p.text


def sentence_texts(p: Passage) -> list[str]:
    """Each sentence alone, so that its own meaning decides whether it answers."""
    return p.sentence_texts()


def window_texts(p: Passage) -> list[str]:
    """Each sentence with its neighbours in the passage: the context that resolves "he" or "the mission"."""
    s = p.sentence_texts()
    return [" ".join(s[max(0, i - 1):i + 2]) for i in range(len(s))]
