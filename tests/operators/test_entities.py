from __future__ import annotations

import pytest

from tracelake.operators.entities import extract_mentions, normalize_name


def names(text: str, speaker: str | None = "Caroline") -> list[tuple[str, str]]:
    return [(m.name, m.kind) for m in extract_mentions(text, speaker)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("My friend Sarah works at Google.", [("Caroline", "person"), ("Sarah", "person"), ("Google", "org")]),
        ("We moved to New York with David Chen.", [("New York", "place"), ("David Chen", "person")]),
        ("Went to the Bank of America. Dr. Smith was there!", [("Bank of America", "org"), ("Smith", "person")]),
        ("Yesterday we met Xiaoling Wu in Berlin on Monday in May.", [("Xiaoling Wu", "person"), ("Berlin", "place")]),
        ("Thanks Melanie! That sounds great.", [("Melanie", "person")]),
        ("The weather is AMAZING. LOL. We love NASA.", [("NASA", "org")]),
        ("Sarah's dog is cute.", [("Sarah", "person")]),
        ("Stanford University is far.", [("Stanford University", "org")]),
    ],
)
def test_mentions(text: str, expected: list[tuple[str, str]]) -> None:
    assert names(text) == expected


def test_speaker_resolution_offsets() -> None:
    text = "I told my mom that the book is mine, I’m proud of myself. Call me!"
    ms = [m for m in extract_mentions(text, "Caroline") if m.name == "Caroline"]
    assert [text[m.start : m.end] for m in ms] == ["I", "my", "mine", "I", "myself", "me"]
    assert all(m.kind == "person" for m in ms)


def test_no_speaker_no_pronoun_mentions() -> None:
    assert names("I love my dog", None) == []


def test_sentence_start_common_word_is_not_a_name() -> None:
    assert names("Going home now. Honestly it was fine.") == []
    # a sentence-initial word that also appears mid-sentence is a name
    assert ("Zorblax", "thing") in names("Zorblax called. We saw Zorblax again.") or ("Zorblax", "person") in names(
        "Zorblax called. We saw Zorblax again."
    )


def test_months_weekdays_stop_capitals_excluded() -> None:
    assert names("On Monday in January The plan was OK.", None) == []


def test_normalize_name() -> None:
    assert normalize_name("  José's ") == "jose"
    assert normalize_name("David  CHEN") == "david chen"
    assert normalize_name("O'Brien-Smith") == "o brien smith"
    assert normalize_name("!!!") == ""


def test_addressees_are_told_apart_from_mentions() -> None:
    from tracelake.operators.entities import is_addressee

    def called(text: str) -> list[tuple[str, bool]]:
        return [(m.name, is_addressee(text, m)) for m in extract_mentions(text, "Mel")]

    assert called("Thanks, Caroline!") == [("Caroline", True)]
    assert called("Hey Jon, how are you?") == [("Jon", True)]
    assert ("Sarah", False) in called("I met Sarah, she was great.")
    assert called("John, Mary, and Bob came.") == [("John", False), ("Mary", False), ("Bob", False)]
