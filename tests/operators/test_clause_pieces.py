"""Clause pieces (:mod:`tracelake.operators.clause_pieces`): the read path's quoting units and the write path's
list of texts to embed for them agree."""

from __future__ import annotations

from tracelake.operators.clause_pieces import (MAX_PIECE, QUOTED_UNITS, VECTOR_PIECES, clause_pieces, piece_text,
                                               quoted_clauses)

LONG = ("we finally signed the lease on the flat near the river, the one with the tiny balcony, and the landlord "
        "said we can paint the kitchen if we keep it light")


def test_pieces_keep_every_word_in_order_and_respect_the_sizes() -> None:
    got = clause_pieces(LONG)
    assert [w for p in got for w in p] == LONG.split()
    assert all(len(p) <= MAX_PIECE for p in got) and len(got) > 1
    assert piece_text(got[0]) == " ".join(got[0])


def test_quoted_clauses_are_the_units_pieces_when_an_event_has_units() -> None:
    whole = "I moved in March. Rent is lower now, and the commute is shorter."
    units = ["I moved in March.", "Rent is lower now, and the commute is shorter."]
    texts, events, index = [whole, *units, "just one line here"], [0, 0, 0, 1], [0, 1, 2, 0]
    got = quoted_clauses(texts, events, index)
    expected = [piece_text(p) for u in units for p in clause_pieces(u)] + ["just one line here"]
    assert got == expected  # the whole text of event 0 is not quoted (its units are); event 1 has no units


def test_quoted_clauses_are_distinct_and_bounded() -> None:
    texts = ["same words here. same words here."] * 3
    assert quoted_clauses(texts, [0, 1, 2], [0, 0, 0]) == ["same words here."]
    many = " ".join(f"clause number {i} ends here." for i in range(VECTOR_PIECES * 2))
    assert len(quoted_clauses([many], [0], [0])) == VECTOR_PIECES
    deep = ["whole"] + [f"unit {i} has words." for i in range(1, QUOTED_UNITS + 5)]
    got = quoted_clauses(deep, [0] * len(deep), list(range(len(deep))))
    assert got == [f"unit {i} has words." for i in range(1, QUOTED_UNITS + 1)]
    assert quoted_clauses([], [], []) == []
