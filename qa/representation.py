"""What text stands for a passage or a sentence when it is embedded or scored lexically."""

from __future__ import annotations

from qa.passages import Passage


def passage_text(p: Passage) -> str:
    """The passage with its section heading, which often names the topic its sentences leave implicit."""
    return f"{p.section}. {p.text}" if p.section else p.text


def sentence_texts(p: Passage) -> list[str]:
    """Each sentence of the passage as it is embedded: the sentence alone, so its own meaning decides."""
    return p.sentence_texts()
