"""Lexical analysis: the stemmed tokens BM25 counts, and the content terms a question is about."""

from __future__ import annotations

from qa.text.lexical import STOPWORDS, terms, tokens


def test_tokens_are_stemmed_lower_case_words_of_two_letters_or_more() -> None:
    assert tokens("Ruto discussed the Haitian missions, a U.S. plan.") == \
        ["ruto", "discuss", "the", "haitian", "mission", "us", "plan"]


def test_dotted_acronyms_are_one_word() -> None:
    assert tokens("the U.N. mission") == tokens("the UN mission") == ["the", "un", "mission"]


def test_terms_drop_function_and_question_words() -> None:
    assert terms("Who did Ruto call in January 2025?") == ["ruto", "call", "januari", "2025"]
    assert terms("What is it?") == []
    assert {"what", "who", "the", "did"} <= STOPWORDS


def test_the_same_word_stems_alike_in_question_and_text() -> None:
    assert set(terms("Which talks were held?")) <= set(tokens("The talks held in Nairobi ended."))
