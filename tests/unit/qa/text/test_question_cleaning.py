"""Questions as users and terminals give them: bytes that are not UTF-8 (a Latin-1 terminal, a mangled paste)
and bidi controls are cleaned before the question reaches the tokenizer; hypothesis tries the rest."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.errors import InputError
from qa.text.cleaning import MAX_QUESTION_CHARS, check_question, clean_question


def test_bytes_that_are_not_utf8_become_replacement_characters() -> None:
    asked = os.fsdecode(b"Who did Ruto call in caf\xe9 \xff\xfe?")  # as argv and a C-locale pipe give them
    cleaned = clean_question(asked)
    assert cleaned == "Who did Ruto call in caf\ufffd \ufffd\ufffd?"
    cleaned.encode("utf-8")  # what the tokenizer needs


def test_valid_utf8_bytes_read_as_surrogates_are_decoded_back() -> None:
    assert clean_question(os.fsdecode("Ruto’s café".encode())) == "Ruto’s café"


def test_bidi_controls_are_removed_from_questions() -> None:
    assert clean_question("How much did \u202eBiden\u202c pledge\u2067?\u2069") == "How much did Biden pledge?"


@settings(max_examples=200, deadline=500)
@given(st.text(alphabet=st.characters(codec=None), max_size=300) | st.binary(max_size=300).map(os.fsdecode))
def test_any_text_becomes_a_clean_question_or_one_input_error(text: str) -> None:
    try:
        q = check_question(text)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    q.encode("utf-8")
    assert q == q.strip() and 0 < len(q) <= MAX_QUESTION_CHARS
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in q)
    assert not any(c in q for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
    assert clean_question(q) == q
