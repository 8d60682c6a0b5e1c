"""Where LoCoMo observation coverage is lost: the parse role of each observation word the turn has but no fact.

Run (from the repo root)::

    .venv/bin/python benchmarks/locomo_observations_misses.py --limit 3 [--out /tmp/misses.json] [--examples 5]

The turns are read by the default decomposer directly (``ParseDecomposer``, one stream per LoCoMo session, as
``lake.consolidate`` hands them; no merge), so the facts are the candidates of each turn. For each observation
(``locomo_observations.observations``) and each of its content words that occurs in the words of its evidence
turns' text but in no fact derived from those turns, the word's first token in the turns' parse is classed:

- ``question``: its sentence is a question (or request/greeting: no fact is read from it);
- ``no_fact_clause``: its clause (the nearest verb or copula head up the tree, with its clause type: root,
  advcl, ccomp, xcomp, conj, relcl, acl, pcomp) yielded no fact (no fact object lies in the clause's span);
- ``subject``: it sits in the subject of a clause that yielded a fact;
- ``object_modifier``: it modifies the head of a noun phrase (amod, compound, poss, nummod, prep/pobj under a
  noun) of a clause that yielded a fact;
- ``verb_adjunct``: it hangs on the clause's verb (a prep adjunct "at the park", an adverb, a particle, the verb
  itself) of a clause that yielded a fact;
- ``other``.

Reported: the counts and shares per class, per dependency label and per clause type, plus a few examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from continuity_corpus import content_words, words  # noqa: E402
from locomo import DEFAULT_DATA, load  # noqa: E402
from locomo_observations import fact_words, observations  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
_CLAUSE_DEPS = {"ROOT", "advcl", "ccomp", "xcomp", "conj", "relcl", "acl", "pcomp", "csubj", "parataxis"}


def clause_head(tok):
    """The nearest verb/copula head at or above ``tok`` that heads a clause, and its clause type."""
    t = tok
    while True:
        if t.pos_ in ("VERB", "AUX") and (t.dep_ in _CLAUSE_DEPS or t.head == t):
            return t, ("root" if t.dep_ == "ROOT" else t.dep_)
        if t.head == t:
            return t, "root"
        t = t.head


def in_subject(tok, head) -> bool:
    t = tok
    while t != head and t.head != t:
        if t.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") and t.head == head:
            return True
        t = t.head
    return False


def subject_kind(head) -> str:
    """What the subject of a clause head is: ``none``, ``clause`` (a gerund or clause subject), ``it/this/that``,
    ``they``, ``speaker/you``, ``he/she``, ``noun`` (``+prep`` / ``+owner`` when it has one), ``name``."""
    for c in head.children:
        if c.dep_ in ("csubj", "csubjpass"):
            return "clause"
        if c.dep_ in ("nsubj", "nsubjpass", "expl"):
            low = c.lower_
            if low in ("it", "this", "that", "these", "those", "which", "what"):
                return "it/this/that"
            if low in ("they", "them"):
                return "they"
            if low in ("i", "we", "you"):
                return "speaker/you"
            if low in ("he", "she"):
                return "he/she"
            if c.pos_ == "PROPN":
                return "name"
            if c.pos_ == "NOUN":
                kids = {k.dep_ for k in c.children}
                return "noun+prep" if "prep" in kids else "noun+owner" if "poss" in kids else "noun"
            return "other:" + c.pos_
    if head.dep_ in ("xcomp", "relcl", "acl", "pcomp", "advcl") or head.dep_ == "conj":
        return "none(" + head.dep_ + ")"
    return "none"


def classify(tok, head, fact_spans) -> str:
    if tok == head:
        return "verb_adjunct"
    if in_subject(tok, head):
        return "subject"
    # the path from tok up to head
    path = []
    t = tok
    while t != head and t.head != t:
        path.append(t)
        t = t.head
    top = path[-1] if path else tok
    if top.dep_ in ("prep", "advmod", "prt", "npadvmod", "agent", "dative", "acomp", "advcl", "neg", "aux"):
        return "verb_adjunct"
    if top.dep_ in ("dobj", "attr", "oprd", "pobj"):
        return "object_modifier"
    return "other"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=3)
    ap.add_argument("--examples", type=int, default=6)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    from tracelake.operators.extract import EventText, ParseDecomposer
    from tracelake.operators.nlp import parse

    samples = json.loads(args.data.read_text())[: args.limit or None]
    convs = load(args.data, args.limit)
    obs, _ = observations(samples, convs)
    events, keys = [], []
    for c in convs:
        for d, t in c.turns.items():
            events.append(EventText((c.tenant, t.session), t.speaker, t.text))
            keys.append((c.tenant, d))
    readings = ParseDecomposer().read(events)
    docs = parse([e.text for e in events])
    turn = {k: (e, r, doc) for k, e, r, doc in zip(keys, events, readings, docs)}
    classes, deps, ctypes, heads, subj = Counter(), Counter(), Counter(), Counter(), Counter()
    examples: dict[str, list] = defaultdict(list)
    n_missed = 0
    for o in obs:
        want = content_words(o["text"], words(o["speaker"]))
        got_f = set()
        for e in o["evidence"]:
            got_f |= set().union(*[fact_words(
                {"subject": f.subject, "predicate": f.predicate, "object": f.object}) for f in turn[(o["tenant"], e)][1].facts])
        for w in sorted(want - got_f):
            for e in o["evidence"]:
                ev, reading, doc = turn[(o["tenant"], e)]
                toks = [t for t in doc if t.lower_ == w]
                if not toks:
                    continue
                tok = toks[0]
                n_missed += 1
                sent = tok.sent
                act = next((a for s, x, a in reading.acts if s <= tok.idx < x), "statement")
                head, ctype = clause_head(tok)
                lo = min(t.idx for t in head.subtree)
                hi = max(t.idx + len(t.text) for t in head.subtree)
                # a clause's own span: its subtree minus nested clauses' subtrees
                own = {t.i for t in head.subtree}
                for t in head.subtree:
                    if t != head and t.dep_ in _CLAUSE_DEPS and t.pos_ in ("VERB", "AUX"):
                        own -= {x.i for x in t.subtree}
                spans = [(f.start, f.end) for f in reading.facts]
                has_fact = any(doc[i].idx < b and doc[i].idx + len(doc[i]) > a for i in own for a, b in spans)
                if act != "statement":
                    cls = "question" if act == "question" else f"act_{act}"
                elif not has_fact:
                    cls = "no_fact_clause"
                else:
                    cls = classify(tok, head, spans)
                classes[cls] += 1
                if cls == "no_fact_clause":
                    subj[subject_kind(head)] += 1
                deps[(cls, tok.dep_)] += 1
                ctypes[(cls, ctype)] += 1
                heads[(cls, tok.head.pos_)] += 1
                if len(examples[cls]) < args.examples:
                    examples[cls].append({"word": w, "dep": tok.dep_, "head": tok.head.text, "clause": ctype,
                                          "sentence": sent.text[:160], "observation": o["text"][:120],
                                          "facts": [f"{f.subject} | {f.predicate} | {f.object}" for f in reading.facts][:6], "act": act,
                                          "subject": subject_kind(head)})
                break
    res = {"missed_words": n_missed,
           "classes": {k: [v, round(v / n_missed, 3)] for k, v in classes.most_common()},
           "deps": {f"{c}/{d}": v for (c, d), v in deps.most_common(40)},
           "clause_types": {f"{c}/{d}": v for (c, d), v in ctypes.most_common(30)},
           "head_pos": {f"{c}/{d}": v for (c, d), v in heads.most_common(30)},
           "no_fact_clause_subjects": dict(subj.most_common()),
           "examples": examples}
    text = json.dumps(res, indent=1)
    if args.out:
        args.out.write_text(text)
    print(json.dumps({k: res[k] for k in ("missed_words", "classes", "no_fact_clause_subjects", "deps", "clause_types", "head_pos")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
