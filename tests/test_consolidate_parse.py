"""The parse as consolidation runs it: cached Doc views give what spaCy gives, batch size changes no annotation."""

from __future__ import annotations

import pytest

from tracelake.operators.docs import doc_text, token_range
from tracelake.operators.nlp import parse

TEXTS = [
    "I moved to Berlin last year and my friend Alice helped me settle in.",
    "lol   we went hiking near Lisbon  tbh, it was PERFECT!!",
    "im 45 and shes 18. Dr. Amara Ruiz-Obi works at Nordwind Energy.",
    "",
    "Congrats, Melanie! \n\n The rent there is 1,200 a month.",
]


def test_doc_views_equal_what_spacy_gives() -> None:
    for doc in parse(TEXTS):
        assert doc_text(doc) == doc.text and doc_text(doc) is doc_text(doc)  # built once
        n = len(doc.text)
        for lo in range(0, n + 2, 3):
            for hi in range(lo, n + 3, 2):
                assert [doc[i] for i in token_range(doc, lo, hi)] == [t for t in doc if lo <= t.idx < hi]


@pytest.mark.parametrize("batch_size", [1, 2, 256])
def test_batch_size_changes_no_annotation(batch_size: int) -> None:
    def annotations(docs):
        return [[(t.text, t.tag_, t.pos_, t.dep_, t.head.i, t.lemma_, t.ent_iob_, t.ent_type_, str(t.morph),
                  t.is_sent_start) for t in doc] for doc in docs]

    assert annotations(parse(TEXTS, batch_size=batch_size)) == annotations(parse(TEXTS))
